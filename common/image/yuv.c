/*
 * yuv: see yuv.h.  Conversion uses 16.16 fixed-point BT.601 (JFIF)
 * coefficients.
 */
#include "yuv.h"

#include <stdlib.h>
#include <string.h>

static int round16(int v)
{
    return (v + 15) & ~15;
}

int img_yuv420_alloc(img_yuv420 *img, int w, int h)
{
    memset(img, 0, sizeof *img);
    if (w <= 0 || h <= 0 || w > 65520 || h > 65520) return -1;
    img->width = w;
    img->height = h;
    img->y_stride = round16(w);
    img->y_rows = round16(h);
    img->c_stride = img->y_stride / 2;
    img->c_rows = img->y_rows / 2;
    size_t ysz = (size_t)img->y_stride * (size_t)img->y_rows;
    size_t csz = (size_t)img->c_stride * (size_t)img->c_rows;
    img->y = malloc(ysz + 2 * csz);
    if (img->y == NULL) return -1;
    img->cb = img->y + ysz;
    img->cr = img->cb + csz;
    return 0;
}

void img_yuv420_free(img_yuv420 *img)
{
    free(img->y);
    memset(img, 0, sizeof *img);
}

size_t img_yuv420_bytes(const img_yuv420 *img)
{
    return (size_t)img->y_stride * (size_t)img->y_rows +
           2 * (size_t)img->c_stride * (size_t)img->c_rows;
}

static inline uint8_t clamp_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

void img_yuv420_from_rgb(img_yuv420 *img, const uint8_t *rgb, size_t rgb_stride)
{
    int w = img->width, h = img->height;
    for (int yy = 0; yy < h; yy++) {
        const uint8_t *s = rgb + (size_t)yy * rgb_stride;
        uint8_t *d = img->y + (size_t)yy * (size_t)img->y_stride;
        for (int x = 0; x < w; x++, s += 3)
            d[x] = (uint8_t)((19595 * s[0] + 38470 * s[1] + 7471 * s[2] + 32768) >> 16);
    }
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    for (int cy = 0; cy < ch; cy++) {
        int y0 = 2 * cy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        const uint8_t *r0 = rgb + (size_t)y0 * rgb_stride;
        const uint8_t *r1 = rgb + (size_t)y1 * rgb_stride;
        uint8_t *db = img->cb + (size_t)cy * (size_t)img->c_stride;
        uint8_t *dr = img->cr + (size_t)cy * (size_t)img->c_stride;
        for (int cx = 0; cx < cw; cx++) {
            int x0 = 2 * cx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            int r = r0[3 * x0] + r0[3 * x1] + r1[3 * x0] + r1[3 * x1];
            int g = r0[3 * x0 + 1] + r0[3 * x1 + 1] + r1[3 * x0 + 1] + r1[3 * x1 + 1];
            int b = r0[3 * x0 + 2] + r0[3 * x1 + 2] + r1[3 * x0 + 2] + r1[3 * x1 + 2];
            /* sums of 4 samples: scale the coefficients by 1/4 */
            db[cx] = clamp_u8(128 + ((-11059 * r - 21709 * g + 32768 * b + 131072) >> 18));
            dr[cx] = clamp_u8(128 + ((32768 * r - 27439 * g - 5329 * b + 131072) >> 18));
        }
    }
    img_yuv420_pad(img);
}

static void pad_plane(uint8_t *p, int stride, int rows, int w, int h)
{
    if (w <= 0 || h <= 0) return;
    for (int y = 0; y < h; y++) {
        uint8_t *row = p + (size_t)y * (size_t)stride;
        memset(row + w, row[w - 1], (size_t)(stride - w));
    }
    for (int y = h; y < rows; y++)
        memcpy(p + (size_t)y * (size_t)stride, p + (size_t)(h - 1) * (size_t)stride, (size_t)stride);
}

void img_yuv420_pad(img_yuv420 *img)
{
    pad_plane(img->y, img->y_stride, img->y_rows, img->width, img->height);
    int cw = (img->width + 1) / 2, ch = (img->height + 1) / 2;
    pad_plane(img->cb, img->c_stride, img->c_rows, cw, ch);
    pad_plane(img->cr, img->c_stride, img->c_rows, cw, ch);
}
