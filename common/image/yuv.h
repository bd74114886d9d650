/*
 * yuv: planar Y'CbCr 4:2:0 images (full-resolution luma, half-resolution
 * chroma), the layout JPEG encoders consume directly.  Planes are allocated
 * with their sizes rounded up to whole 16x16 macroblocks so that raw-data
 * JPEG encoding never reads outside them; the padding repeats the edge.
 *
 * Pure data and functions; an image belongs to one thread at a time.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct img_yuv420 {
    int width;               /* visible size */
    int height;
    int y_stride;            /* = padded width */
    int y_rows;              /* = padded height */
    int c_stride;            /* = y_stride / 2 */
    int c_rows;              /* = y_rows / 2 */
    uint8_t *y;
    uint8_t *cb;
    uint8_t *cr;
} img_yuv420;

/* Allocates planes for a w x h image (w, h > 0).  Returns 0 or -1 (OOM). */
int img_yuv420_alloc(img_yuv420 *img, int w, int h);
void img_yuv420_free(img_yuv420 *img);
/* Bytes held by the planes. */
size_t img_yuv420_bytes(const img_yuv420 *img);

/* Converts packed RGB (w*3 bytes per row) to the planes (BT.601 full range,
 * as JFIF), averaging 2x2 blocks for chroma, and fills the padding. */
void img_yuv420_from_rgb(img_yuv420 *img, const uint8_t *rgb, size_t rgb_stride);

/* Replicates the last visible column/row into the padding. */
void img_yuv420_pad(img_yuv420 *img);
