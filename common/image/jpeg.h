/*
 * jpeg: JPEG encoding and decoding with libjpeg-turbo, into and out of
 * memory.  Pure functions over buffers: reentrant, no global state, safe to
 * call from any thread at once.  Corrupt input is reported as an error,
 * never a crash (libjpeg's fatal errors are caught with setjmp).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

typedef enum img_subsampling {
    IMG_SUBSAMP_444 = 0,
    IMG_SUBSAMP_422 = 1,
    IMG_SUBSAMP_420 = 2,
} img_subsampling;

typedef struct img_jpeg_params {
    int width;
    int height;
    int channels;             /* 1 (grey) or 3 (RGB) */
    int quality;              /* 1..100 */
    img_subsampling subsampling;
    bool fast_dct;            /* JDCT_IFAST: faster, slightly less exact */
    const uint8_t *app1;      /* optional APP1 payload (e.g. "Exif\0\0"+TIFF) */
    size_t app1_len;          /* at most 65533 */
} img_jpeg_params;

/* Supplies scanline y (0 <= y < height) as width*channels bytes.  The
 * pointer must stay valid until the next call. */
typedef const uint8_t *(*img_row_fn)(void *ctx, int y);

/* Encodes rows from `row` and appends the JPEG to out.  Returns 0, or -1 on
 * bad parameters, an encoder error or out of memory (out then holds an
 * unspecified prefix: the caller discards it). */
int img_jpeg_encode_rows(const img_jpeg_params *p, img_row_fn row, void *ctx, bytebuf *out);

/* Encodes a packed image (rows `stride` bytes apart); as above. */
int img_jpeg_encode(const img_jpeg_params *p, const uint8_t *pixels, size_t stride, bytebuf *out);

struct img_yuv420;

/* Encodes a Y'CbCr 4:2:0 image straight from its planes (no colour
 * conversion, no chroma downsampling: the fastest path), optionally
 * upscaled 2x with bilinear interpolation (upscale 1 or 2).  p->width,
 * p->height and p->channels are ignored (taken from img).  Returns 0 or -1
 * as img_jpeg_encode_rows. */
int img_jpeg_encode_yuv420(const img_jpeg_params *p, const struct img_yuv420 *img, int upscale,
                           bytebuf *out);

typedef struct img_image {
    uint8_t *pixels;          /* owned; free with img_image_free */
    int width;
    int height;
    int channels;
} img_image;

/* Reads width and height from the JPEG header.  Returns 0 or -1. */
int img_jpeg_size(const uint8_t *data, size_t len, int *width, int *height);

/* Decodes to grey (channels 1) or RGB (channels 3), scaled by 1/scale_denom
 * (1, 2, 4 or 8).  Returns 0, or -1 if the data is not a decodable JPEG
 * (out is then empty). */
int img_jpeg_decode(const uint8_t *data, size_t len, int channels, int scale_denom,
                    img_image *out);

void img_image_free(img_image *img);

/* A rectangle as fractions of the image's width and height (0..1), so the
 * same region can be asked of frames of any size. */
typedef struct img_region {
    double x, y, w, h;
} img_region;

/* Decodes only the luma of `region` (clamped to the image), scaled by
 * 1/scale_denom (1, 2, 4 or 8), into out (channels 1).  libjpeg-turbo
 * crops the scan lines to the region's iMCU columns, skips the rows above
 * and stops after the last, and leaves the chroma undecoded.  Returns 0,
 * or -1 if the data is not a decodable JPEG, ends before the region does
 * (a cut frame, which libjpeg would fill with grey) or the region is
 * empty. */
int img_jpeg_decode_gray_region(const uint8_t *data, size_t len, img_region region,
                                int scale_denom, img_image *out);

/* The luma DCT coefficients of the 8x8 blocks covering `region`, read
 * with jpeg_read_coefficients (Huffman decoding only, no inverse DCT) and
 * dequantised.  coef holds blocks_w * blocks_h blocks of 64 values in
 * natural (row-major) order; coef[0] of a block is its DC term as the
 * encoder computed it: 8 * (mean - 128). */
typedef struct img_dct_blocks {
    int32_t *coef;            /* owned; free with img_dct_blocks_free */
    int blocks_w;
    int blocks_h;
} img_dct_blocks;

/* Returns 0, or -1 if the data is not a decodable JPEG, is cut short
 * anywhere (missing blocks would read as zero) or the region holds no
 * whole block. */
int img_jpeg_read_luma_dct(const uint8_t *data, size_t len, img_region region,
                           img_dct_blocks *out);
void img_dct_blocks_free(img_dct_blocks *b);
