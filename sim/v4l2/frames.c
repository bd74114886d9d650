/*
 * v4l2sim frames: renders the scene into a V4L2 pixel format (frames.h).
 *
 * One renderer per frame size (created on first use; a renderer caches
 * pre-blurred planes of the scene at its size).  A frame is the renderer's
 * Y'CbCr 4:2:0 planes, encoded to JPEG for MJPEG (then the COM marker is
 * spliced in and, for UVC, the DHT segments dropped: the encoder uses the
 * standard Huffman tables, which is what a UVC decoder assumes) or packed
 * into YUYV, YU12 or NV12, or converted to 24-bit RGB (RGB3, BGR3) with
 * the JFIF equations (full-range BT.601, what the JPEG path encodes).
 */
#include "frames.h"

#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytebuf.h"
#include "image/jpeg.h"
#include "image/yuv.h"
#include "ptpip/lens.h"
#include "ptpip/render.h"
#include "ptpip/scene.h"

enum { MAX_RENDERERS = 8 };

struct v4l2sim_frames {
    scene *sc;
    uint64_t seed;
    double focus_at;
    lens_params lens;
    struct {
        int w, h;
        renderer *r;
    } renderers[MAX_RENDERERS];
    int n_renderers;
    bytebuf jpeg;
};

v4l2sim_frames *v4l2sim_frames_new(double focus_at, uint64_t seed)
{
    v4l2sim_frames *f = calloc(1, sizeof *f);
    if (f == NULL) return NULL;
    f->sc = scene_new(SCENE_STUDIO, seed);
    if (f->sc == NULL) {
        free(f);
        return NULL;
    }
    f->seed = seed;
    f->focus_at = focus_at;
    lens_default_params(&f->lens, seed);
    bytebuf_init(&f->jpeg);
    return f;
}

void v4l2sim_frames_free(v4l2sim_frames *f)
{
    if (f == NULL) return;
    for (int i = 0; i < f->n_renderers; i++) render_free(f->renderers[i].r);
    bytebuf_free(&f->jpeg);
    scene_free(f->sc);
    free(f);
}

static renderer *renderer_for(v4l2sim_frames *f, int w, int h)
{
    for (int i = 0; i < f->n_renderers; i++)
        if (f->renderers[i].w == w && f->renderers[i].h == h) return f->renderers[i].r;
    if (f->n_renderers == MAX_RENDERERS) {
        render_free(f->renderers[0].r);
        memmove(f->renderers, f->renderers + 1, sizeof f->renderers[0] * (MAX_RENDERERS - 1));
        f->n_renderers--;
    }
    render_config cfg;
    render_default_config(&cfg);
    cfg.lv_width = w;
    cfg.lv_height = h;
    cfg.photo_width = w - w % 2;
    cfg.photo_height = h - h % 2;
    /* the lens's blur per step is set for a 1056-pixel live view: scale it */
    cfg.alpha *= (double)w / 1056.0;
    renderer *r = render_new(f->sc, &cfg, f->seed);
    if (r == NULL) return NULL;
    f->renderers[f->n_renderers].w = w;
    f->renderers[f->n_renderers].h = h;
    f->renderers[f->n_renderers].r = r;
    f->n_renderers++;
    return r;
}

/* Copies the JPEG in src into dst with a COM marker after SOI and,
 * if strip_dht, without its DHT segments.  Returns the length or 0. */
static size_t splice_jpeg(const uint8_t *src, size_t len, bool strip_dht, const char *comment,
                          uint8_t *dst, size_t cap)
{
    size_t clen = strlen(comment);
    if (len < 4 || src[0] != 0xFF || src[1] != 0xD8 || cap < len + clen + 4) return 0;
    size_t o = 0;
    dst[o++] = 0xFF;
    dst[o++] = 0xD8;
    dst[o++] = 0xFF;
    dst[o++] = 0xFE;
    dst[o++] = (uint8_t)((clen + 2) >> 8);
    dst[o++] = (uint8_t)(clen + 2);
    memcpy(dst + o, comment, clen);
    o += clen;
    size_t i = 2;
    while (i + 4 <= len && src[i] == 0xFF) {
        uint8_t m = src[i + 1];
        size_t seg = 2 + ((size_t)src[i + 2] << 8 | src[i + 3]);
        if (m == 0xDA) break; /* the scan and EOI follow: copy the rest whole */
        if (i + seg > len) return 0;
        if (!(strip_dht && m == 0xC4)) {
            memcpy(dst + o, src + i, seg);
            o += seg;
        }
        i += seg;
    }
    memcpy(dst + o, src + i, len - i);
    return o + len - i;
}

/* One 4:2:0 frame as packed 24-bit RGB (bgr: B, G, R order) into dst. */
static void yuv_to_rgb(const img_yuv420 *p, int w, int h, bool bgr, uint8_t *dst)
{
    int ri = bgr ? 2 : 0, bi = bgr ? 0 : 2;
    for (int y = 0; y < h; y++) {
        const uint8_t *yr = p->y + (size_t)y * (size_t)p->y_stride;
        const uint8_t *cb = p->cb + (size_t)(y / 2) * (size_t)p->c_stride;
        const uint8_t *cr = p->cr + (size_t)(y / 2) * (size_t)p->c_stride;
        uint8_t *o = dst + (size_t)y * (size_t)w * 3;
        for (int x = 0; x < w; x++) {
            /* 16.16 fixed point: R = Y + 1.402 Cr', G = Y - 0.344 Cb' - 0.714 Cr',
             * B = Y + 1.772 Cb' */
            int l = yr[x] << 16, u = cb[x / 2] - 128, v = cr[x / 2] - 128;
            int c[3] = {(l + 91881 * v + 32768) >> 16, (l - 22554 * u - 46802 * v + 32768) >> 16,
                        (l + 116130 * u + 32768) >> 16};
            for (int k = 0; k < 3; k++) c[k] = c[k] < 0 ? 0 : c[k] > 255 ? 255 : c[k];
            o[ri] = (uint8_t)c[0];
            o[1] = (uint8_t)c[1];
            o[bi] = (uint8_t)c[2];
            o += 3;
        }
    }
}

size_t v4l2sim_frames_render(v4l2sim_frames *f, uint32_t fourcc, int w, int h, bool strip_dht,
                             const v4l2sim_look *look, uint64_t seq, int64_t mono_ns, uint8_t *dst,
                             size_t cap)
{
    renderer *r = renderer_for(f, w, h);
    if (r == NULL) return 0;
    double focus = look->autofocus ? f->focus_at : look->focus;
    double defocus[2] = {(focus - f->focus_at) * f->lens.range, 0};
    const img_yuv420 *p;
    if (render_liveview_planes(r, defocus, look->gain, seq, &p) != 0) return 0;
    size_t wz = (size_t)w, hz = (size_t)h;
    switch (fourcc) {
    case V4L2_PIX_FMT_MJPEG:
    case V4L2_PIX_FMT_JPEG: {
        bytebuf_reset(&f->jpeg);
        img_jpeg_params jp = {.quality = 80, .fast_dct = true};
        if (img_jpeg_encode_yuv420(&jp, p, 1, &f->jpeg) != 0) return 0;
        char comment[96];
        snprintf(comment, sizeof comment, "TETHERV4L2 seq=%llu mono_ns=%lld", (unsigned long long)seq,
                 (long long)mono_ns);
        return splice_jpeg(f->jpeg.data, f->jpeg.len, strip_dht, comment, dst, cap);
    }
    case V4L2_PIX_FMT_YUYV:
        if (cap < wz * hz * 2) return 0;
        for (int y = 0; y < h; y++) {
            const uint8_t *yr = p->y + (size_t)y * (size_t)p->y_stride;
            const uint8_t *cb = p->cb + (size_t)(y / 2) * (size_t)p->c_stride;
            const uint8_t *cr = p->cr + (size_t)(y / 2) * (size_t)p->c_stride;
            uint8_t *o = dst + (size_t)y * wz * 2;
            for (int x = 0; x + 1 < w; x += 2) {
                o[0] = yr[x];
                o[1] = cb[x / 2];
                o[2] = yr[x + 1];
                o[3] = cr[x / 2];
                o += 4;
            }
        }
        return wz * hz * 2;
    case V4L2_PIX_FMT_RGB24:
    case V4L2_PIX_FMT_BGR24:
        if (cap < wz * hz * 3) return 0;
        yuv_to_rgb(p, w, h, fourcc == V4L2_PIX_FMT_BGR24, dst);
        return wz * hz * 3;
    case V4L2_PIX_FMT_YUV420:
    case V4L2_PIX_FMT_NV12: {
        size_t cw = wz / 2, ch = hz / 2;
        if (cap < wz * hz + 2 * cw * ch) return 0;
        for (size_t y = 0; y < hz; y++) memcpy(dst + y * wz, p->y + y * (size_t)p->y_stride, wz);
        uint8_t *c = dst + wz * hz;
        for (size_t y = 0; y < ch; y++) {
            const uint8_t *cb = p->cb + y * (size_t)p->c_stride;
            const uint8_t *cr = p->cr + y * (size_t)p->c_stride;
            if (fourcc == V4L2_PIX_FMT_YUV420) {
                memcpy(c + y * cw, cb, cw);
                memcpy(c + cw * ch + y * cw, cr, cw);
            } else {
                uint8_t *o = c + y * cw * 2;
                for (size_t x = 0; x < cw; x++) {
                    o[2 * x] = cb[x];
                    o[2 * x + 1] = cr[x];
                }
            }
        }
        return wz * hz + 2 * cw * ch;
    }
    default:
        return 0;
    }
}
