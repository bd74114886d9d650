/*
 * jpeg: libjpeg(-turbo) glue; see jpeg.h.
 *
 * Encoding writes through a destination manager that appends to a bytebuf,
 * so a caller that reuses its bytebuf encodes frame after frame without a
 * malloc.  Errors from libjpeg (which would exit() by default) longjmp back
 * to the calling function, which cleans up and returns -1.
 */
#include "jpeg.h"
#include "yuv.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

typedef struct jpeg_error_ctx {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    bool ran_out;             /* the data ended early (libjpeg filled in grey) */
} jpeg_error_ctx;

static void on_error_exit(j_common_ptr cinfo)
{
    jpeg_error_ctx *err = (jpeg_error_ctx *)cinfo->err;
    longjmp(err->jump, 1);
}

static void on_output_message(j_common_ptr cinfo)
{
    (void)cinfo; /* warnings about corrupt data are not printed */
}

/* Counts warnings as libjpeg does and notes a premature end of the data
 * (jpeg_mem_src then inserts an EOI and the decoder fills in grey). */
static void on_emit_message(j_common_ptr cinfo, int level)
{
    jpeg_error_ctx *err = (jpeg_error_ctx *)cinfo->err;
    if (level >= 0) return;
    err->mgr.num_warnings++;
    if (err->mgr.msg_code == JWRN_JPEG_EOF) err->ran_out = true;
}

/* Sets up err to longjmp to err->jump on a fatal error, silently. */
static struct jpeg_error_mgr *quiet_errors(jpeg_error_ctx *err)
{
    jpeg_std_error(&err->mgr);
    err->mgr.error_exit = on_error_exit;
    err->mgr.output_message = on_output_message;
    err->mgr.emit_message = on_emit_message;
    err->ran_out = false;
    return &err->mgr;
}

typedef struct bytebuf_dest {
    struct jpeg_destination_mgr mgr;
    bytebuf *out;
    size_t start;             /* length of out before this image */
} bytebuf_dest;

enum { DEST_CHUNK = 64 * 1024 };

static void dest_init(j_compress_ptr cinfo)
{
    bytebuf_dest *d = (bytebuf_dest *)cinfo->dest;
    if (!bytebuf_reserve(d->out, DEST_CHUNK)) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
    d->mgr.next_output_byte = d->out->data + d->out->len;
    d->mgr.free_in_buffer = d->out->cap - d->out->len;
}

static boolean dest_empty(j_compress_ptr cinfo)
{
    /* libjpeg filled the whole free area: count it as written, grow. */
    bytebuf_dest *d = (bytebuf_dest *)cinfo->dest;
    d->out->len = d->out->cap;
    if (!bytebuf_reserve(d->out, d->out->cap)) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
    d->mgr.next_output_byte = d->out->data + d->out->len;
    d->mgr.free_in_buffer = d->out->cap - d->out->len;
    return TRUE;
}

static void dest_term(j_compress_ptr cinfo)
{
    bytebuf_dest *d = (bytebuf_dest *)cinfo->dest;
    d->out->len = (size_t)(d->mgr.next_output_byte - d->out->data);
}

/* Sets up a compressor writing to out and writes the headers (and APP1).
 * raw: Y'CbCr 4:2:0 planes via jpeg_write_raw_data; else scanlines of
 * p->channels (grey or RGB) with p->subsampling.  The caller has done
 * setjmp. */
static void start_compress(struct jpeg_compress_struct *cinfo, bytebuf_dest *dest,
                           const img_jpeg_params *p, int width, int height, bool raw)
{
    jpeg_create_compress(cinfo);
    dest->mgr.init_destination = dest_init;
    dest->mgr.empty_output_buffer = dest_empty;
    dest->mgr.term_destination = dest_term;
    cinfo->dest = &dest->mgr;
    cinfo->image_width = (JDIMENSION)width;
    cinfo->image_height = (JDIMENSION)height;
    int channels = raw ? 3 : p->channels;
    cinfo->input_components = channels;
    cinfo->in_color_space = raw ? JCS_YCbCr : channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, p->quality < 1 ? 1 : p->quality > 100 ? 100 : p->quality, TRUE);
    cinfo->dct_method = p->fast_dct ? JDCT_IFAST : JDCT_ISLOW;
    cinfo->raw_data_in = raw ? TRUE : FALSE;
    if (channels == 3) {
        img_subsampling ss = raw ? IMG_SUBSAMP_420 : p->subsampling;
        cinfo->comp_info[0].h_samp_factor = ss == IMG_SUBSAMP_444 ? 1 : 2;
        cinfo->comp_info[0].v_samp_factor = ss == IMG_SUBSAMP_420 ? 2 : 1;
        cinfo->comp_info[1].h_samp_factor = cinfo->comp_info[1].v_samp_factor = 1;
        cinfo->comp_info[2].h_samp_factor = cinfo->comp_info[2].v_samp_factor = 1;
    }
    if (p->app1_len) cinfo->write_JFIF_header = FALSE;
    jpeg_start_compress(cinfo, TRUE);
    if (p->app1_len) jpeg_write_marker(cinfo, JPEG_APP0 + 1, p->app1, (unsigned)p->app1_len);
}

int img_jpeg_encode_rows(const img_jpeg_params *p, img_row_fn row, void *ctx, bytebuf *out)
{
    if (p->width <= 0 || p->height <= 0 || p->width > 65500 || p->height > 65500 ||
        (p->channels != 1 && p->channels != 3) || p->app1_len > 65533)
        return -1;

    struct jpeg_compress_struct cinfo;
    jpeg_error_ctx err;
    bytebuf_dest dest = {.out = out, .start = out->len};
    cinfo.err = quiet_errors(&err);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        out->len = dest.start;
        return -1;
    }
    start_compress(&cinfo, &dest, p, p->width, p->height, false);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW r = (JSAMPROW)row(ctx, (int)cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return bytebuf_ok(out) ? 0 : -1;
}

/* Output row `oy` of a plane upscaled 2x (bilinear, centres aligned) from
 * the visible src_w x src_h area of `src`. */
static void upscale_row(uint8_t *out, int out_len, const uint8_t *src, int stride, int src_w,
                        int src_h, int oy, uint8_t *tmp)
{
    int i = oy >> 1;
    if (i > src_h - 1) i = src_h - 1;
    int nb = (oy & 1) ? i + 1 : i - 1;
    nb = nb < 0 ? 0 : nb > src_h - 1 ? src_h - 1 : nb;
    const uint8_t *a = src + (size_t)i * (size_t)stride, *b = src + (size_t)nb * (size_t)stride;
    for (int x = 0; x < src_w; x++) tmp[x] = (uint8_t)((3 * a[x] + b[x] + 2) >> 2);
    for (int x = 0; x < src_w; x++) {
        int l = tmp[x > 0 ? x - 1 : 0], r = tmp[x + 1 < src_w ? x + 1 : x];
        out[2 * x] = (uint8_t)((3 * tmp[x] + l + 2) >> 2);
        out[2 * x + 1] = (uint8_t)((3 * tmp[x] + r + 2) >> 2);
    }
    if (out_len > 2 * src_w) memset(out + 2 * src_w, out[2 * src_w - 1], (size_t)(out_len - 2 * src_w));
}

int img_jpeg_encode_yuv420(const img_jpeg_params *p, const img_yuv420 *img, int upscale,
                           bytebuf *out)
{
    if (img == NULL || img->y == NULL || (upscale != 1 && upscale != 2) || p->app1_len > 65533)
        return -1;
    int ow = img->width * upscale, oh = img->height * upscale;
    if (ow > 65500 || oh > 65500) return -1;
    int out_stride = img->y_stride * upscale; /* multiple of 16 */
    int cw = (img->width + 1) / 2, ch = (img->height + 1) / 2;

    struct jpeg_compress_struct cinfo;
    jpeg_error_ctx err;
    bytebuf_dest dest = {.out = out, .start = out->len};
    uint8_t *volatile scratch = NULL;
    cinfo.err = quiet_errors(&err);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(scratch);
        out->len = dest.start;
        return -1;
    }
    if (upscale == 2) {
        /* 16 luma rows + 2 x 8 chroma rows + one temporary row */
        scratch = malloc((size_t)out_stride * 33);
        if (scratch == NULL) return -1;
    }
    start_compress(&cinfo, &dest, p, ow, oh, true);

    JSAMPROW yrows[16], cbrows[8], crrows[8];
    JSAMPARRAY planes[3] = {yrows, cbrows, crrows};
    for (int row = 0; row < (oh + 15) / 16 * 16; row += 16) {
        for (int i = 0; i < 16; i++) {
            int oy = row + i;
            if (upscale == 1) {
                int sy = oy < img->y_rows ? oy : img->y_rows - 1;
                yrows[i] = img->y + (size_t)sy * (size_t)img->y_stride;
            } else {
                yrows[i] = scratch + (size_t)i * (size_t)out_stride;
                upscale_row(yrows[i], out_stride, img->y, img->y_stride, img->width, img->height, oy,
                            scratch + (size_t)32 * (size_t)out_stride);
            }
        }
        for (int i = 0; i < 8; i++) {
            int oy = row / 2 + i;
            if (upscale == 1) {
                int sy = oy < img->c_rows ? oy : img->c_rows - 1;
                cbrows[i] = img->cb + (size_t)sy * (size_t)img->c_stride;
                crrows[i] = img->cr + (size_t)sy * (size_t)img->c_stride;
            } else {
                cbrows[i] = scratch + (size_t)(16 + i) * (size_t)out_stride;
                crrows[i] = scratch + (size_t)(24 + i) * (size_t)out_stride;
                uint8_t *tmp = scratch + (size_t)32 * (size_t)out_stride;
                upscale_row(cbrows[i], out_stride / 2, img->cb, img->c_stride, cw, ch, oy, tmp);
                upscale_row(crrows[i], out_stride / 2, img->cr, img->c_stride, cw, ch, oy, tmp);
            }
        }
        jpeg_write_raw_data(&cinfo, planes, 16);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(scratch);
    return bytebuf_ok(out) ? 0 : -1;
}

typedef struct packed_rows {
    const uint8_t *pixels;
    size_t stride;
} packed_rows;

static const uint8_t *packed_row(void *ctx, int y)
{
    packed_rows *pr = ctx;
    return pr->pixels + (size_t)y * pr->stride;
}

int img_jpeg_encode(const img_jpeg_params *p, const uint8_t *pixels, size_t stride, bytebuf *out)
{
    packed_rows pr = {pixels, stride};
    return img_jpeg_encode_rows(p, packed_row, &pr, out);
}

int img_jpeg_size(const uint8_t *data, size_t len, int *width, int *height)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx err;
    cinfo.err = quiet_errors(&err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    *width = (int)cinfo.image_width;
    *height = (int)cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int img_jpeg_decode(const uint8_t *data, size_t len, int channels, int scale_denom,
                    img_image *out)
{
    *out = (img_image){0};
    if ((channels != 1 && channels != 3) || len == 0) return -1;
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx err;
    uint8_t *volatile pixels = NULL;
    cinfo.err = quiet_errors(&err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    cinfo.out_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned)(scale_denom == 2 || scale_denom == 4 || scale_denom == 8 ? scale_denom : 1);
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)channels;
    if ((size_t)cinfo.output_height > SIZE_MAX / (stride ? stride : 1)) ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
    pixels = malloc(stride * cinfo.output_height);
    if (pixels == NULL) ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW r = pixels + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &r, 1);
    }
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = channels;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    out->pixels = pixels;
    return 0;
}

void img_image_free(img_image *img)
{
    free(img->pixels);
    *img = (img_image){0};
}

/* ---- regions ------------------------------------------------------------------------ */

/* Converts a fractional region to whole pixels of a w x h image, clamped;
 * false if nothing is left. */
static bool region_pixels(img_region r, int w, int h, int *x0, int *y0, int *rw, int *rh)
{
    if (!(r.w > 0) || !(r.h > 0)) return false;
    double fx0 = r.x < 0 ? 0 : r.x, fy0 = r.y < 0 ? 0 : r.y;
    double fx1 = r.x + r.w > 1 ? 1 : r.x + r.w, fy1 = r.y + r.h > 1 ? 1 : r.y + r.h;
    if (!(fx1 > fx0) || !(fy1 > fy0)) return false;
    /* k / w * w can come out a hair below k: do not start a pixel early */
    *x0 = (int)(fx0 * w + 1e-6);
    *y0 = (int)(fy0 * h + 1e-6);
    int x1 = (int)(fx1 * w + 0.5), y1 = (int)(fy1 * h + 0.5);
    if (x1 > w) x1 = w;
    if (y1 > h) y1 = h;
    *rw = x1 - *x0;
    *rh = y1 - *y0;
    return *rw > 0 && *rh > 0;
}

int img_jpeg_decode_gray_region(const uint8_t *data, size_t len, img_region region,
                                int scale_denom, img_image *out)
{
    *out = (img_image){0};
    if (len == 0) return -1;
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx err;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    cinfo.err = quiet_errors(&err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    cinfo.out_color_space = JCS_GRAYSCALE;
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned)(scale_denom == 2 || scale_denom == 4 || scale_denom == 8 ? scale_denom : 1);
    jpeg_start_decompress(&cinfo);
    int x0, y0, w, h;
    if (!region_pixels(region, (int)cinfo.output_width, (int)cinfo.output_height, &x0, &y0, &w, &h)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    /* libjpeg widens the crop to whole iMCU columns: keep where ours starts */
    JDIMENSION cx = (JDIMENSION)x0, cw = (JDIMENSION)w;
    jpeg_crop_scanline(&cinfo, &cx, &cw);
    size_t skip = (size_t)x0 - cx;
    row = malloc(cinfo.output_width);
    pixels = malloc((size_t)w * (size_t)h);
    if (row == NULL || pixels == NULL) ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
    if (y0 > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)y0);
    for (int y = 0; y < h; y++) {
        JSAMPROW r = row;
        if (jpeg_read_scanlines(&cinfo, &r, 1) != 1) ERREXIT(&cinfo, JERR_INPUT_EOF);
        memcpy(pixels + (size_t)y * (size_t)w, row + skip, (size_t)w);
    }
    if (err.ran_out) ERREXIT(&cinfo, JERR_INPUT_EOF); /* a cut frame: not the region's pixels */
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->pixels = pixels;
    out->width = w;
    out->height = h;
    out->channels = 1;
    return 0;
}

int img_jpeg_read_luma_dct(const uint8_t *data, size_t len, img_region region,
                           img_dct_blocks *out)
{
    *out = (img_dct_blocks){0};
    if (len == 0) return -1;
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx err;
    int32_t *volatile coef = NULL;
    cinfo.err = quiet_errors(&err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(coef);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jvirt_barray_ptr *arrays = jpeg_read_coefficients(&cinfo);
    if (err.ran_out) ERREXIT(&cinfo, JERR_INPUT_EOF); /* a cut frame: missing blocks are zero */
    jpeg_component_info *luma = &cinfo.comp_info[0];
    JQUANT_TBL *q = luma->quant_table;
    int x0, y0, w, h;
    /* whole blocks of the luma plane (which has the image's resolution) */
    int full_w = (int)luma->width_in_blocks, full_h = (int)luma->height_in_blocks;
    if (q == NULL || !region_pixels(region, full_w * 8, full_h * 8, &x0, &y0, &w, &h)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    int bx0 = (x0 + 7) / 8, by0 = (y0 + 7) / 8;
    int bw = (x0 + w) / 8 - bx0, bh = (y0 + h) / 8 - by0;
    if (bw <= 0 || bh <= 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    coef = malloc(sizeof(int32_t) * 64 * (size_t)bw * (size_t)bh);
    if (coef == NULL) ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
    for (int by = 0; by < bh; by++) {
        JBLOCKARRAY rows = (*cinfo.mem->access_virt_barray)((j_common_ptr)&cinfo, arrays[0],
                                                            (JDIMENSION)(by0 + by), 1, FALSE);
        for (int bx = 0; bx < bw; bx++) {
            const JCOEF *src = rows[0][bx0 + bx];
            int32_t *dst = coef + ((size_t)by * (size_t)bw + (size_t)bx) * 64;
            for (int k = 0; k < 64; k++) dst[k] = (int32_t)src[k] * (int32_t)q->quantval[k];
        }
    }
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    out->coef = coef;
    out->blocks_w = bw;
    out->blocks_h = bh;
    return 0;
}

void img_dct_blocks_free(img_dct_blocks *b)
{
    free(b->coef);
    *b = (img_dct_blocks){0};
}
