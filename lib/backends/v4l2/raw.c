/*
 * v4l2 raw: uncompressed V4L2 frames to JPEG (raw.h).
 *
 * 4:2:0 frames are copied into padded planes (img_yuv420, what the raw-data
 * encoder reads) and encoded without colour conversion; 24-bit RGB is
 * handed to the encoder a row at a time (img_jpeg_encode_rows), BGR rows
 * reordered into one scratch row.
 */
#include "backends/v4l2/raw.h"

#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytebuf.h"
#include "image/jpeg.h"
#include "image/yuv.h"

enum { MAX_SIDE = 16384 };

bool v4l2_raw_known(uint32_t fourcc)
{
    return fourcc == V4L2_PIX_FMT_YUV420 || fourcc == V4L2_PIX_FMT_NV12 || fourcc == V4L2_PIX_FMT_RGB24 ||
           fourcc == V4L2_PIX_FMT_BGR24;
}

size_t v4l2_raw_frame_bytes(uint32_t fourcc, int w, int h)
{
    if (w < 2 || h < 2 || w > MAX_SIDE || h > MAX_SIDE) return 0;
    size_t wz = (size_t)w, hz = (size_t)h;
    switch (fourcc) {
    case V4L2_PIX_FMT_YUV420:
    case V4L2_PIX_FMT_NV12: return wz * hz + 2 * (wz / 2) * (hz / 2);
    case V4L2_PIX_FMT_RGB24:
    case V4L2_PIX_FMT_BGR24: return wz * hz * 3;
    default: return 0;
    }
}

static blob *planar_to_jpeg(uint32_t fourcc, int w, int h, const uint8_t *data, int quality)
{
    img_yuv420 img;
    if (img_yuv420_alloc(&img, w, h) != 0) return NULL;
    size_t wz = (size_t)w;
    for (int y = 0; y < h; y++) memcpy(img.y + (size_t)y * (size_t)img.y_stride, data + (size_t)y * wz, wz);
    const uint8_t *c = data + wz * (size_t)h;
    size_t cw = wz / 2, ch = (size_t)(h / 2);
    for (size_t y = 0; y < ch; y++) {
        uint8_t *cb = img.cb + y * (size_t)img.c_stride, *cr = img.cr + y * (size_t)img.c_stride;
        if (fourcc == V4L2_PIX_FMT_YUV420) {
            memcpy(cb, c + y * cw, cw);
            memcpy(cr, c + cw * ch + y * cw, cw);
        } else {
            for (size_t x = 0; x < cw; x++) {
                cb[x] = c[y * cw * 2 + 2 * x];
                cr[x] = c[y * cw * 2 + 2 * x + 1];
            }
        }
    }
    /* an odd width or height: the last column or row repeats the one before */
    img_yuv420_pad(&img);
    bytebuf out;
    bytebuf_init(&out);
    img_jpeg_params jp = {.quality = quality, .fast_dct = true};
    blob *res = NULL;
    if (img_jpeg_encode_yuv420(&jp, &img, 1, &out) == 0) res = blob_from(out.data, out.len);
    bytebuf_free(&out);
    img_yuv420_free(&img);
    return res;
}

typedef struct rgb_rows {
    const uint8_t *data;
    size_t stride;
    bool bgr;
    uint8_t *scratch;           /* one row, for BGR */
} rgb_rows;

static const uint8_t *rgb_row(void *ctx, int y)
{
    rgb_rows *r = ctx;
    const uint8_t *row = r->data + (size_t)y * r->stride;
    if (!r->bgr) return row;
    for (size_t x = 0; x + 2 < r->stride; x += 3) {
        r->scratch[x] = row[x + 2];
        r->scratch[x + 1] = row[x + 1];
        r->scratch[x + 2] = row[x];
    }
    return r->scratch;
}

static blob *rgb_to_jpeg(uint32_t fourcc, int w, int h, const uint8_t *data, int quality)
{
    rgb_rows rows = {.data = data, .stride = (size_t)w * 3, .bgr = fourcc == V4L2_PIX_FMT_BGR24};
    if (rows.bgr && (rows.scratch = malloc(rows.stride)) == NULL) return NULL;
    img_jpeg_params jp = {.width = w, .height = h, .channels = 3, .quality = quality,
                          .subsampling = IMG_SUBSAMP_420, .fast_dct = true};
    bytebuf out;
    bytebuf_init(&out);
    blob *res = NULL;
    if (img_jpeg_encode_rows(&jp, rgb_row, &rows, &out) == 0) res = blob_from(out.data, out.len);
    bytebuf_free(&out);
    free(rows.scratch);
    return res;
}

blob *v4l2_raw_to_jpeg(uint32_t fourcc, int w, int h, const uint8_t *data, size_t len, int quality)
{
    size_t need = v4l2_raw_frame_bytes(fourcc, w, h);
    if (need == 0 || len < need || data == NULL) return NULL;
    if (quality < 1) quality = 1;
    if (quality > 100) quality = 100;
    if (fourcc == V4L2_PIX_FMT_RGB24 || fourcc == V4L2_PIX_FMT_BGR24) return rgb_to_jpeg(fourcc, w, h, data, quality);
    return planar_to_jpeg(fourcc, w, h, data, quality);
}
