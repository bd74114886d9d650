/*
 * convert: live-view frames into JPEG.  See convert.h.
 *
 * YUYV (packed 4:2:2, Y0 Cb Y1 Cr) becomes the planar 4:2:0 image the
 * JPEG encoder takes straight from its planes (lib/image): luma copied,
 * chroma averaged over each pair of rows.  No colour conversion happens.
 */
#include "camera/convert.h"

#include <string.h>

#include "image/jpeg.h"
#include "image/yuv.h"

enum { LIVEVIEW_QUALITY = 80 };

static void yuyv_to_yuv420(const uint8_t *src, size_t stride, img_yuv420 *img)
{
    for (int y = 0; y < img->height; y++) {
        const uint8_t *row = src + stride * (size_t)y;
        uint8_t *ly = img->y + (size_t)img->y_stride * (size_t)y;
        for (int x = 0; x < img->width; x++) ly[x] = row[2 * x];
    }
    for (int cy = 0; cy < (img->height + 1) / 2; cy++) {
        const uint8_t *r0 = src + stride * (size_t)(2 * cy);
        const uint8_t *r1 = 2 * cy + 1 < img->height ? r0 + stride : r0;
        uint8_t *cb = img->cb + (size_t)img->c_stride * (size_t)cy;
        uint8_t *cr = img->cr + (size_t)img->c_stride * (size_t)cy;
        for (int cx = 0; cx < (img->width + 1) / 2; cx++) {
            size_t o = (size_t)cx * 4;
            cb[cx] = (uint8_t)((r0[o + 1] + r1[o + 1] + 1) / 2);
            cr[cx] = (uint8_t)((r0[o + 3] + r1[o + 3] + 1) / 2);
        }
    }
    img_yuv420_pad(img);
}

int convert_to_jpeg(backend_frame *frame, blob **jpeg)
{
    *jpeg = NULL;
    blob *data = frame->data;
    frame->data = NULL;
    if (data == NULL) return TETHER_ERR_BAD_VALUE;
    if (frame->format == TETHER_PIXEL_JPEG) {
        *jpeg = data;
        return TETHER_OK;
    }
    if (frame->format != TETHER_PIXEL_YUYV) {
        blob_unref(data);
        return TETHER_ERR_BAD_VALUE;
    }
    int w = frame->width, h = frame->height;
    size_t stride = frame->stride ? frame->stride : (size_t)w * 2;
    /* an odd width has no Cr for its last pixel: YUYV rows are whole pairs */
    if (w <= 0 || h <= 0 || w % 2 || stride < (size_t)w * 2 || data->len < stride * (size_t)(h - 1) + (size_t)w * 2) {
        blob_unref(data);
        return TETHER_ERR_BAD_VALUE;
    }
    img_yuv420 img;
    if (img_yuv420_alloc(&img, w, h) != 0) {
        blob_unref(data);
        return TETHER_ERR_NO_MEMORY;
    }
    yuyv_to_yuv420(data->data, stride, &img);
    blob_unref(data);
    bytebuf out = BYTEBUF_INIT;
    img_jpeg_params p = {.quality = LIVEVIEW_QUALITY, .subsampling = IMG_SUBSAMP_420, .fast_dct = true};
    int rc = img_jpeg_encode_yuv420(&p, &img, 1, &out);
    img_yuv420_free(&img);
    if (rc == 0 && bytebuf_ok(&out)) *jpeg = blob_from(out.data, out.len);
    bytebuf_free(&out);
    return *jpeg ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}
