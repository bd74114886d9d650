/*
 * focus: focus measures; see focus.h.
 *
 * The pixel measures first turn the region into float rows (binned when
 * asked), then run one branch-free pass per output row over three input
 * rows, accumulating in double per row so that long regions do not lose
 * precision.  The median residual is the seed's algorithm kept as a
 * baseline; it sorts 25 values per pixel and is by far the slowest.
 */
#include "focus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A float copy of the image, averaged over bin x bin blocks. */
static float *to_float(const img_image *g, int bin, int *ow, int *oh)
{
    if (g == NULL || g->pixels == NULL || g->channels != 1 || bin < 1) return NULL;
    int w = g->width / bin, h = g->height / bin;
    if (w < 3 || h < 3) return NULL;
    float *f = calloc((size_t)w * (size_t)h, sizeof *f);
    if (f == NULL) return NULL;
    float scale = 1.0f / (float)(bin * bin);
    for (int y = 0; y < h; y++) {
        float *dst = f + (size_t)y * (size_t)w;
        for (int dy = 0; dy < bin; dy++) {
            const uint8_t *src = g->pixels + (size_t)(y * bin + dy) * (size_t)g->width;
            if (bin == 1) {
                for (int x = 0; x < w; x++) dst[x] += src[x];
            } else {
                for (int x = 0; x < w; x++) {
                    int s = 0;
                    for (int dx = 0; dx < bin; dx++) s += src[x * bin + dx];
                    dst[x] += (float)s;
                }
            }
        }
        for (int x = 0; x < w; x++) dst[x] *= scale;
    }
    *ow = w;
    *oh = h;
    return f;
}

static double mean_of(const float *f, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += f[i];
    return n ? s / (double)n : 0;
}

double img_focus_tenengrad(const img_image *gray, int bin)
{
    int w, h;
    float *f = to_float(gray, bin, &w, &h);
    if (f == NULL) return -1;
    double mean = mean_of(f, (size_t)w * (size_t)h);
    double total = 0;
    for (int y = 1; y < h - 1; y++) {
        const float *a = f + (size_t)(y - 1) * (size_t)w;
        const float *b = a + w, *c = b + w;
        float row = 0;
        for (int x = 1; x < w - 1; x++) {
            float gx = (a[x + 1] + 2 * b[x + 1] + c[x + 1]) - (a[x - 1] + 2 * b[x - 1] + c[x - 1]);
            float gy = (c[x - 1] + 2 * c[x] + c[x + 1]) - (a[x - 1] + 2 * a[x] + a[x + 1]);
            row += gx * gx + gy * gy;
        }
        total += row;
    }
    free(f);
    double n = (double)(w - 2) * (double)(h - 2);
    if (mean < 1) mean = 1; /* a black frame has no focus, not an infinite one */
    return total / n / 16.0 / (mean * mean);
}

double img_focus_lapv(const img_image *gray)
{
    int w, h;
    float *f = to_float(gray, 1, &w, &h);
    if (f == NULL) return -1;
    double mean = mean_of(f, (size_t)w * (size_t)h);
    double s = 0, s2 = 0;
    for (int y = 1; y < h - 1; y++) {
        const float *a = f + (size_t)(y - 1) * (size_t)w;
        const float *b = a + w, *c = b + w;
        float rs = 0, rs2 = 0;
        for (int x = 1; x < w - 1; x++) {
            float l = 4 * b[x] - b[x - 1] - b[x + 1] - a[x] - c[x];
            rs += l;
            rs2 += l * l;
        }
        s += rs;
        s2 += rs2;
    }
    free(f);
    double n = (double)(w - 2) * (double)(h - 2);
    double var = s2 / n - (s / n) * (s / n);
    if (mean < 1) mean = 1;
    return (var > 0 ? var : 0) / (mean * mean);
}

/* Mid band: coefficients (u, v) with 2 <= u + v <= 6.  The lowest terms
 * follow the brightness pattern more than detail, and quantisation has
 * removed most of the energy above. */
double img_focus_dct(const img_dct_blocks *b)
{
    if (b == NULL || b->coef == NULL || b->blocks_w < 1 || b->blocks_h < 1) return -1;
    size_t n = (size_t)b->blocks_w * (size_t)b->blocks_h;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t *c = b->coef + i * 64;
        float ac = 0;
        for (int v = 0; v < 8; v++) {
            int u0 = v < 2 ? 2 - v : 0, u1 = 6 - v < 7 ? 6 - v : 7;
            for (int u = u0; u <= u1; u++) ac += (float)c[v * 8 + u] * (float)c[v * 8 + u];
        }
        /* DC is 8 * (mean - 128); + 1024 gives 8 * mean, never 0 for a lit block */
        float dc = (float)c[0] + 1024.0f;
        if (dc < 8.0f) dc = 8.0f;
        total += ac / (dc * dc);
    }
    return total / (double)n;
}

static uint8_t median25(uint8_t *v)
{
    /* insertion sort: 25 values, kept simple; this is the baseline */
    for (int i = 1; i < 25; i++) {
        uint8_t x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
    return v[12];
}

double img_focus_median_residual(const img_image *g)
{
    if (g == NULL || g->pixels == NULL || g->channels != 1 || g->width < 5 || g->height < 5) return -1;
    int w = g->width, h = g->height;
    double s = 0, s2 = 0;
    size_t n = 0;
    uint8_t win[25];
    /* PIL's MedianFilter repeats the edge pixels; so does this */
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int k = 0;
            for (int dy = -2; dy <= 2; dy++) {
                int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                const uint8_t *row = g->pixels + (size_t)yy * (size_t)w;
                for (int dx = -2; dx <= 2; dx++) {
                    int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                    win[k++] = row[xx];
                }
            }
            int d = (int)g->pixels[(size_t)y * (size_t)w + (size_t)x] - (int)median25(win) + 100;
            d = d < 0 ? 0 : d > 255 ? 255 : d;
            s += d;
            s2 += (double)d * d;
            n++;
        }
    }
    double m = s / (double)n;
    double var = s2 / (double)n - m * m;
    return sqrt(var > 0 ? var : 0);
}

double img_focus_mean(const img_image *g)
{
    if (g == NULL || g->pixels == NULL || g->width < 1 || g->height < 1) return -1;
    size_t n = (size_t)g->width * (size_t)g->height * (size_t)(g->channels > 0 ? g->channels : 1);
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += g->pixels[i];
    return (double)s / (double)n;
}

double img_focus_change(const img_image *a, const img_image *b)
{
    if (a == NULL || b == NULL || a->pixels == NULL || b->pixels == NULL || a->width != b->width ||
        a->height != b->height || a->channels != b->channels)
        return -1;
    double ma = img_focus_mean(a), mb = img_focus_mean(b);
    float k = mb > 0 ? (float)(ma / mb) : 1.0f;
    size_t n = (size_t)a->width * (size_t)a->height * (size_t)(a->channels > 0 ? a->channels : 1);
    double total = 0;
    const size_t chunk = 4096;
    for (size_t i = 0; i < n; i += chunk) {
        size_t end = i + chunk < n ? i + chunk : n;
        float s = 0;
        for (size_t j = i; j < end; j++) s += fabsf((float)a->pixels[j] - k * (float)b->pixels[j]);
        total += s;
    }
    return n ? total / (double)n : -1;
}

int img_focus_bin(const img_image *gray, int bin, img_image *out)
{
    *out = (img_image){0};
    int w, h;
    float *f = to_float(gray, bin, &w, &h);
    if (f == NULL) return -1;
    uint8_t *px = malloc((size_t)w * (size_t)h);
    if (px == NULL) {
        free(f);
        return -1;
    }
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) px[i] = (uint8_t)(f[i] + 0.5f);
    free(f);
    *out = (img_image){.pixels = px, .width = w, .height = h, .channels = 1};
    return 0;
}
