/*
 * blur: see blur.h.
 *
 * Exact path: a normalised kernel with weights summing to 1<<14.  The
 * horizontal pass writes 16-bit values scaled by 256 to keep precision for
 * the vertical pass, which walks whole rows so the inner loop is a
 * vectorisable multiply-add over a row.
 *
 * Box path: box widths from Kovesi ("Fast almost-Gaussian filtering",
 * 2010), running sums per row and per column (again row-wise for the
 * vertical direction).
 */
#include "blur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int blur_exact(uint8_t *dst, const uint8_t *src, int w, int h, int stride, double sigma)
{
    int r = (int)ceil(3.0 * sigma);
    if (r < 1) r = 1;
    int n = 2 * r + 1;
    int32_t *k = malloc(sizeof(int32_t) * (size_t)n);
    uint16_t *tmp = malloc(sizeof(uint16_t) * (size_t)w * (size_t)h);
    uint32_t *acc = malloc(sizeof(uint32_t) * (size_t)w);
    uint8_t *rowbuf = malloc((size_t)w + 2 * (size_t)r);
    if (!k || !tmp || !acc || !rowbuf) {
        free(k), free(tmp), free(acc), free(rowbuf);
        return -1;
    }
    double sum = 0, kf[2 * 9 + 1];
    for (int i = 0; i < n; i++) {
        double x = i - r;
        kf[i] = exp(-x * x / (2 * sigma * sigma));
        sum += kf[i];
    }
    int32_t ksum = 0;
    for (int i = 0; i < n; i++) ksum += k[i] = (int32_t)lround(kf[i] / sum * 16384.0);
    k[r] += 16384 - ksum; /* exact normalisation after rounding */

    /* horizontal: src -> tmp (x256) */
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * (size_t)stride;
        memset(rowbuf, s[0], (size_t)r);
        memcpy(rowbuf + r, s, (size_t)w);
        memset(rowbuf + r + w, s[w - 1], (size_t)r);
        uint16_t *t = tmp + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++) {
            int32_t a = 0;
            for (int i = 0; i < n; i++) a += k[i] * rowbuf[x + i];
            t[x] = (uint16_t)((a + 32) >> 6);
        }
    }
    /* vertical: tmp -> dst, row by row */
    for (int y = 0; y < h; y++) {
        memset(acc, 0, sizeof(uint32_t) * (size_t)w);
        for (int i = 0; i < n; i++) {
            const uint16_t *t = tmp + (size_t)clampi(y + i - r, 0, h - 1) * (size_t)w;
            uint32_t kw = (uint32_t)k[i];
            for (int x = 0; x < w; x++) acc[x] += kw * t[x];
        }
        uint8_t *d = dst + (size_t)y * (size_t)stride;
        for (int x = 0; x < w; x++) {
            uint32_t v = (acc[x] + (1u << 21)) >> 22;
            d[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
    free(k), free(tmp), free(acc), free(rowbuf);
    return 0;
}

/* One box pass of radius r along each row, in place. */
static void box_h(uint8_t *p, int w, int h, int stride, int r, uint8_t *row)
{
    uint32_t n = (uint32_t)(2 * r + 1), inv = (1u << 24) / n; /* 255 * n * inv < 2^32 */
    for (int y = 0; y < h; y++) {
        uint8_t *d = p + (size_t)y * (size_t)stride;
        memcpy(row, d, (size_t)w);
        uint32_t a = 0;
        for (int i = -r; i <= r; i++) a += row[clampi(i, 0, w - 1)];
        for (int x = 0; x < w; x++) {
            d[x] = (uint8_t)((a * inv + (1u << 23)) >> 24);
            a += row[clampi(x + r + 1, 0, w - 1)];
            a -= row[clampi(x - r, 0, w - 1)];
        }
    }
}

/* One box pass of radius r along columns, src -> dst (distinct planes of
 * width w, packed), walking rows so the inner loops run along memory. */
static void box_v(uint8_t *dst, const uint8_t *src, int w, int h, int r, uint32_t *acc)
{
    uint32_t n = (uint32_t)(2 * r + 1), inv = (1u << 24) / n; /* 255 * n * inv < 2^32 */
    memset(acc, 0, sizeof(uint32_t) * (size_t)w);
    for (int i = -r; i <= r; i++) {
        const uint8_t *s = src + (size_t)clampi(i, 0, h - 1) * (size_t)w;
        for (int x = 0; x < w; x++) acc[x] += s[x];
    }
    for (int y = 0; y < h; y++) {
        uint8_t *d = dst + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++) d[x] = (uint8_t)((acc[x] * inv + (1u << 23)) >> 24);
        const uint8_t *add = src + (size_t)clampi(y + r + 1, 0, h - 1) * (size_t)w;
        const uint8_t *sub = src + (size_t)clampi(y - r, 0, h - 1) * (size_t)w;
        for (int x = 0; x < w; x++) acc[x] += (uint32_t)add[x] - (uint32_t)sub[x];
    }
}

/* Three box passes per direction approximate a Gaussian (Kovesi 2010). */
static int blur_boxes(uint8_t *dst, const uint8_t *src, int w, int h, int stride, double sigma)
{
    enum { PASSES = 3 };
    double wideal = sqrt(12.0 * sigma * sigma / PASSES + 1.0);
    int wl = (int)floor(wideal);
    if (wl % 2 == 0) wl--;
    int wu = wl + 2;
    double mideal = (12.0 * sigma * sigma - PASSES * wl * wl - 4.0 * PASSES * wl - 3.0 * PASSES) /
                    (-4.0 * wl - 4.0);
    int m = (int)lround(mideal);
    int radius[PASSES];
    for (int i = 0; i < PASSES; i++) radius[i] = ((i < m ? wl : wu) - 1) / 2;

    uint8_t *a = malloc((size_t)w * (size_t)h);
    uint8_t *b = malloc((size_t)w * (size_t)h);
    uint32_t *acc = malloc(sizeof(uint32_t) * (size_t)w);
    uint8_t *row = malloc((size_t)w);
    if (!a || !b || !acc || !row) {
        free(a), free(b), free(acc), free(row);
        return -1;
    }
    for (int y = 0; y < h; y++)
        memcpy(a + (size_t)y * (size_t)w, src + (size_t)y * (size_t)stride, (size_t)w);
    for (int i = 0; i < PASSES; i++) box_h(a, w, h, w, radius[i], row);
    box_v(b, a, w, h, radius[0], acc);
    box_v(a, b, w, h, radius[1], acc);
    box_v(b, a, w, h, radius[2], acc);
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t)y * (size_t)stride, b + (size_t)y * (size_t)w, (size_t)w);
    free(a), free(b), free(acc), free(row);
    return 0;
}

int img_blur_gauss(uint8_t *dst, const uint8_t *src, int w, int h, int stride, double sigma)
{
    if (w <= 0 || h <= 0 || stride < w || !(sigma >= 0) || sigma > 1000) return -1;
    if (sigma < 0.05) {
        if (dst != src)
            for (int y = 0; y < h; y++)
                memcpy(dst + (size_t)y * (size_t)stride, src + (size_t)y * (size_t)stride, (size_t)w);
        return 0;
    }
    if (sigma <= 3.0) return blur_exact(dst, src, w, h, stride, sigma);
    return blur_boxes(dst, src, w, h, stride, sigma);
}
