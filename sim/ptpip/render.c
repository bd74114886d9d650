/*
 * render: see render.h for the model and the caching strategy.
 */
#include "render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/rng.h"
#include "image/blur.h"
#include "image/jpeg.h"
#include "image/yuv.h"

enum {
    MAX_PLANES = 2,
    LEVELS = 64,              /* sigma0 * 1.1^63 ~ 400 sigma0 */
    LEVEL_CACHE = 24,         /* live-view levels kept per renderer */
    VIEWS = 3,                /* the full frame (kept) and two magnified views */
    NOISE_BITS = 20,
    PHOTO_CACHE = 6,
};
#define LEVEL_RATIO 1.1

typedef struct level {
    img_yuv420 img;
    uint64_t last_use;
    bool ready;
} level;

/* One window on the scene as live view shows it: the sharp planes, the
 * two-plane mask and the blur levels, all keyed by the view. */
typedef struct view_slot {
    bool used;
    render_view view;
    img_yuv420 sharp[MAX_PLANES];
    uint8_t *mask;                /* y_stride x y_rows, 0..255 (two planes) */
    uint8_t *cmask;               /* c_stride x c_rows */
    level level[MAX_PLANES][LEVELS];
    uint64_t last_use;
} view_slot;

typedef struct photo_entry {
    int key[4];
    blob *body;
    uint64_t last_use;
} photo_entry;

struct renderer {
    render_config cfg;
    const scene *sc;
    int planes;
    uint64_t seed;
    uint64_t tick;
    /* live view: views[0] is the full frame */
    view_slot views[VIEWS];
    render_view view;             /* what the next frame shows */
    int lv_cached;                /* levels ready, over all views */
    uint64_t view_changes;
    img_yuv420 frame;
    int8_t *noise;                /* N(0,1) * 32, 2^NOISE_BITS entries */
    /* photos */
    bool photo_ready;
    img_yuv420 ph_sharp[MAX_PLANES];
    uint8_t *ph_mask;
    uint8_t *ph_cmask;
    photo_entry photo[PHOTO_CACHE];
    blob *thumb;
    int thumb_w, thumb_h;
};

void render_default_config(render_config *c)
{
    c->lv_width = 1056;
    c->lv_height = 704;
    c->lv_quality = 80;
    c->photo_width = 5184;
    c->photo_height = 3456;
    c->photo_quality = 92;
    c->sigma0 = 0.55;
    c->alpha = 0.06;
    c->read_noise = 1.2;
    c->shot_noise = 0.04;
    c->flicker = 0.01;
}

static double level_sigma(const renderer *r, int k)
{
    return r->cfg.sigma0 * pow(LEVEL_RATIO, k);
}

/* Renders the scene's planes (and mask) in window win (NULL: the full
 * frame) at w x h into Y'CbCr planes. */
static int render_planes(const scene *sc, const scene_window *win, int planes, int w, int h, int ss,
                         img_yuv420 *out, uint8_t **mask, uint8_t **cmask)
{
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    if (rgb == NULL) return -1;
    for (int p = 0; p < planes; p++) {
        if (img_yuv420_alloc(&out[p], w, h) != 0) {
            free(rgb);
            return -1;
        }
        scene_render_rgb_window(sc, p, win, w, h, ss, rgb);
        img_yuv420_from_rgb(&out[p], rgb, (size_t)w * 3);
    }
    free(rgb);
    if (planes < 2) return 0;
    /* the mask at luma and chroma resolution, in the padded geometry */
    int ys = out[0].y_stride, yr = out[0].y_rows, cs = out[0].c_stride, cr = out[0].c_rows;
    uint8_t *m = malloc((size_t)w * (size_t)h);
    *mask = calloc((size_t)ys * (size_t)yr, 1);
    *cmask = calloc((size_t)cs * (size_t)cr, 1);
    if (!m || !*mask || !*cmask) {
        free(m);
        return -1;
    }
    scene_render_mask_window(sc, win, w, h, ss, m);
    for (int y = 0; y < h; y++) memcpy(*mask + (size_t)y * (size_t)ys, m + (size_t)y * (size_t)w, (size_t)w);
    for (int y = 0; y < (h + 1) / 2; y++)
        for (int x = 0; x < (w + 1) / 2; x++) {
            int x1 = 2 * x + 1 < w ? 2 * x + 1 : 2 * x, y1 = 2 * y + 1 < h ? 2 * y + 1 : 2 * y;
            const uint8_t *a = m + (size_t)(2 * y) * (size_t)w, *b = m + (size_t)y1 * (size_t)w;
            (*cmask)[(size_t)y * (size_t)cs + (size_t)x] = (uint8_t)((a[2 * x] + a[x1] + b[2 * x] + b[x1] + 2) / 4);
        }
    free(m);
    return 0;
}

static int blur_yuv(img_yuv420 *dst, const img_yuv420 *src, double sigma)
{
    int cw = (src->width + 1) / 2, ch = (src->height + 1) / 2;
    if (img_blur_gauss(dst->y, src->y, src->width, src->height, src->y_stride, sigma) != 0 ||
        img_blur_gauss(dst->cb, src->cb, cw, ch, src->c_stride, sigma / 2) != 0 ||
        img_blur_gauss(dst->cr, src->cr, cw, ch, src->c_stride, sigma / 2) != 0)
        return -1;
    img_yuv420_pad(dst);
    return 0;
}

/* Frees a view's images and levels (keeps the slot's storage reusable). */
static void view_clear(renderer *r, view_slot *v)
{
    for (int p = 0; p < MAX_PLANES; p++) {
        img_yuv420_free(&v->sharp[p]);
        for (int k = 0; k < LEVELS; k++) {
            if (v->level[p][k].ready) r->lv_cached--;
            img_yuv420_free(&v->level[p][k].img);
            v->level[p][k].ready = false;
        }
    }
    free(v->mask);
    free(v->cmask);
    v->mask = v->cmask = NULL;
    v->used = false;
}

/* The scene window a view shows: its width is 1/zoom of the frame's, its
 * corner is in full-resolution pixels, and pixels are square. */
static scene_window view_window(const renderer *r, const render_view *v)
{
    double pw = r->cfg.photo_width;
    return (scene_window){v->x / pw, v->y / pw, 1.0 / v->zoom};
}

/* Renders view v's sharp planes into slot `slot`.  Returns 0 or -1. */
static int view_prepare(renderer *r, view_slot *slot, const render_view *v)
{
    view_clear(r, slot);
    scene_window win = view_window(r, v);
    if (render_planes(r->sc, &win, r->planes, r->cfg.lv_width, r->cfg.lv_height, 2, slot->sharp,
                      &slot->mask, &slot->cmask) != 0) {
        view_clear(r, slot);
        return -1;
    }
    slot->view = *v;
    slot->used = true;
    return 0;
}

void render_view_clamp(const render_config *c, render_view *v)
{
    if (!(v->zoom >= 1)) v->zoom = 1; /* also NaN */
    if (v->zoom > 100) v->zoom = 100;
    if (v->zoom == 1) {
        v->x = v->y = 0;
        return;
    }
    /* the window's size in full-resolution pixels (square live-view pixels) */
    double ww = c->photo_width / v->zoom, wh = ww * c->lv_height / c->lv_width;
    double mx = c->photo_width - ww > 0 ? c->photo_width - ww : 0;
    double my = c->photo_height - wh > 0 ? c->photo_height - wh : 0;
    v->x = !(v->x > 0) ? 0 : v->x > mx ? mx : v->x;
    v->y = !(v->y > 0) ? 0 : v->y > my ? my : v->y;
}

renderer *render_new(const scene *sc, const render_config *cfg, uint64_t seed)
{
    renderer *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    r->cfg = *cfg;
    r->sc = sc;
    r->planes = scene_plane_count(sc);
    r->seed = seed;
    r->view = (render_view){1, 0, 0};
    int w = cfg->lv_width, h = cfg->lv_height;
    if (view_prepare(r, &r->views[0], &r->view) != 0 || img_yuv420_alloc(&r->frame, w, h) != 0)
        goto fail;
    r->noise = malloc((size_t)1 << NOISE_BITS);
    if (r->noise == NULL) goto fail;
    rng nr;
    rng_seed(&nr, rng_hash2(seed, 0x4015e));
    for (size_t i = 0; i < (size_t)1 << NOISE_BITS; i++) {
        double v = rng_normal(&nr) * 32.0;
        r->noise[i] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : lround(v));
    }
    return r;
fail:
    render_free(r);
    return NULL;
}

void render_free(renderer *r)
{
    if (r == NULL) return;
    for (int i = 0; i < VIEWS; i++) view_clear(r, &r->views[i]);
    for (int p = 0; p < MAX_PLANES; p++) img_yuv420_free(&r->ph_sharp[p]);
    for (int i = 0; i < PHOTO_CACHE; i++) blob_unref(r->photo[i].body);
    blob_unref(r->thumb);
    img_yuv420_free(&r->frame);
    free(r->ph_mask);
    free(r->ph_cmask);
    free(r->noise);
    free(r);
}

void render_set_view(renderer *r, const render_view *v)
{
    render_view c = *v;
    render_view_clamp(&r->cfg, &c);
    r->view = c;
}

render_view render_get_view(const renderer *r)
{
    return r->view;
}

uint64_t render_view_changes(const renderer *r)
{
    return r->view_changes;
}

static bool same_view(const render_view *a, const render_view *b)
{
    return a->zoom == b->zoom && (a->zoom == 1 || (a->x == b->x && a->y == b->y));
}

/* The slot showing the current view, rendering it (in place of the least
 * recently used magnified view) if no slot has it.  NULL on OOM. */
static view_slot *current_view(renderer *r)
{
    view_slot *slot = &r->views[0];
    if (r->view.zoom != 1) {
        slot = NULL;
        for (int i = 1; i < VIEWS && !slot; i++)
            if (r->views[i].used && same_view(&r->views[i].view, &r->view)) slot = &r->views[i];
        if (slot == NULL) {
            slot = &r->views[1];
            for (int i = 2; i < VIEWS; i++)
                if (!r->views[i].used || (slot->used && r->views[i].last_use < slot->last_use)) slot = &r->views[i];
            r->view_changes++;
            if (view_prepare(r, slot, &r->view) != 0) return NULL;
        }
    }
    slot->last_use = ++r->tick;
    return slot;
}

/* Returns level k of plane p of a view, computing it (and evicting the
 * least recently used level of any view) if needed. */
static const img_yuv420 *lv_level(renderer *r, view_slot *v, int p, int k)
{
    level *lv = &v->level[p][k];
    lv->last_use = ++r->tick;
    if (lv->ready) return &lv->img;
    if (r->lv_cached >= LEVEL_CACHE) {
        level *victim = NULL;
        for (int i = 0; i < VIEWS; i++)
            for (int q = 0; q < r->planes; q++)
                for (int j = 0; j < LEVELS; j++) {
                    level *c = &r->views[i].level[q][j];
                    if (c->ready && c != lv && (!victim || c->last_use < victim->last_use)) victim = c;
                }
        if (victim) {
            img_yuv420_free(&victim->img);
            victim->ready = false;
            r->lv_cached--;
        }
    }
    const img_yuv420 *src = &v->sharp[p];
    if (lv->img.y == NULL && img_yuv420_alloc(&lv->img, src->width, src->height) != 0) return NULL;
    if (blur_yuv(&lv->img, src, level_sigma(r, k)) != 0) return NULL;
    lv->ready = true;
    r->lv_cached++;
    return &lv->img;
}

/* Where sigma falls between levels: index k and weight of level k+1
 * (0..256).  A view magnified `zoom` times shows zoom times the blur. */
static void level_for(const renderer *r, double defocus, double zoom, int *k, int *w256)
{
    double sd = r->cfg.alpha * zoom * defocus;
    double sigma = sqrt(r->cfg.sigma0 * r->cfg.sigma0 + sd * sd);
    double f = log(sigma / r->cfg.sigma0) / log(LEVEL_RATIO);
    if (f < 0) f = 0;
    if (f >= LEVELS - 1) f = LEVELS - 1 - 1e-9;
    *k = (int)f;
    double lo = level_sigma(r, *k), hi = level_sigma(r, *k + 1);
    double t = (sigma - lo) / (hi - lo);
    *w256 = (int)lround((t < 0 ? 0 : t > 1 ? 1 : t) * 256);
}

/* dst = blend of levels (k, k+1) of plane p, for n bytes of one plane. */
static void blend(uint8_t *dst, const uint8_t *a, const uint8_t *b, int w256, size_t n)
{
    int wa = 256 - w256;
    for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)((a[i] * wa + b[i] * w256 + 128) >> 8);
}

static void mix(uint8_t *dst, const uint8_t *fg, const uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)((dst[i] * (255 - m[i]) + fg[i] * m[i] + 127) / 255);
}

int render_liveview(renderer *r, const double *defocus, double gain, uint64_t frame_no,
                    bytebuf *out)
{
    const img_yuv420 *f;
    if (render_liveview_planes(r, defocus, gain, frame_no, &f) != 0) return -1;
    img_jpeg_params jp = {.quality = r->cfg.lv_quality, .fast_dct = true};
    return img_jpeg_encode_yuv420(&jp, f, 1, out);
}

int render_liveview_planes(renderer *r, const double *defocus, double gain, uint64_t frame_no,
                           const img_yuv420 **planes)
{
    img_yuv420 *f = &r->frame;
    view_slot *view = current_view(r);
    if (view == NULL) return -1;
    size_t ysz = (size_t)f->y_stride * (size_t)f->y_rows, csz = (size_t)f->c_stride * (size_t)f->c_rows;
    uint8_t *fg_y = NULL, *fg_cb = NULL, *fg_cr = NULL;
    for (int p = 0; p < r->planes; p++) {
        int k, w;
        level_for(r, fabs(defocus[p]), view->view.zoom, &k, &w);
        const img_yuv420 *a = lv_level(r, view, p, k);
        const img_yuv420 *b = lv_level(r, view, p, k + 1);
        if (a == NULL || b == NULL) return -1;
        if (p == 0) {
            blend(f->y, a->y, b->y, w, ysz);
            blend(f->cb, a->cb, b->cb, w, csz);
            blend(f->cr, a->cr, b->cr, w, csz);
        } else {
            /* blend into the level-k buffers' scratch: reuse a temporary */
            fg_y = malloc(ysz + 2 * csz);
            if (fg_y == NULL) return -1;
            fg_cb = fg_y + ysz;
            fg_cr = fg_cb + csz;
            blend(fg_y, a->y, b->y, w, ysz);
            blend(fg_cb, a->cb, b->cb, w, csz);
            blend(fg_cr, a->cr, b->cr, w, csz);
            mix(f->y, fg_y, view->mask, ysz);
            mix(f->cb, fg_cb, view->cmask, csz);
            mix(f->cr, fg_cr, view->cmask, csz);
            free(fg_y);
        }
    }

    /* exposure with flicker, then Poisson-Gaussian noise, via tables */
    rng fr;
    rng_seed(&fr, rng_hash2(r->seed, frame_no));
    double g = gain * (1.0 + r->cfg.flicker * rng_normal(&fr));
    uint8_t lut[256];
    int16_t sig32[256];
    for (int i = 0; i < 256; i++) {
        double v = i * g;
        lut[i] = (uint8_t)(v > 255 ? 255 : lround(v));
        double var = r->cfg.shot_noise * lut[i] + r->cfg.read_noise * r->cfg.read_noise;
        sig32[i] = (int16_t)lround(sqrt(var) * 32.0);
    }
    size_t mask = ((size_t)1 << NOISE_BITS) - 1, off = (size_t)rng_next(&fr) & mask;
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->y + (size_t)y * (size_t)f->y_stride;
        for (int x = 0; x < f->width; x++) {
            int v = lut[row[x]];
            int n = (r->noise[(off + (size_t)x) & mask] * sig32[v] + 512) >> 10;
            v += n;
            row[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        off = (off + (size_t)f->width * 7 + 13) & mask;
    }
    img_yuv420_pad(f);
    *planes = f;
    return 0;
}

/* ---- photos ----------------------------------------------------------- */

static int photo_prepare(renderer *r)
{
    if (r->photo_ready) return 0;
    int w = r->cfg.photo_width / 2, h = r->cfg.photo_height / 2;
    if (render_planes(r->sc, NULL, r->planes, w, h, 1, r->ph_sharp, &r->ph_mask, &r->ph_cmask) != 0)
        return -1;
    r->photo_ready = true;
    return 0;
}

static int quantize_sigma(double s)
{
    return (int)lround(log(s) / log(1.02)); /* 2% steps */
}

blob *render_photo_body(renderer *r, const double *defocus, double blur_scale, double gain)
{
    if (photo_prepare(r) != 0) return NULL;
    int w = r->cfg.photo_width / 2;
    /* half-resolution pixels of blur per step */
    double alpha = r->cfg.alpha * ((double)w / r->cfg.lv_width) * blur_scale;
    double sigma0 = 0.5;
    double sigma[MAX_PLANES] = {0, 0};
    int key[4] = {0, 0, 0, (int)lround(gain * 1000)};
    for (int p = 0; p < r->planes; p++) {
        double sd = alpha * fabs(defocus[p]);
        sigma[p] = sqrt(sigma0 * sigma0 + sd * sd);
        key[p] = quantize_sigma(sigma[p]);
    }
    key[2] = r->planes;
    r->tick++;
    for (int i = 0; i < PHOTO_CACHE; i++) {
        photo_entry *e = &r->photo[i];
        if (e->body && memcmp(e->key, key, sizeof key) == 0) {
            e->last_use = r->tick;
            return blob_ref(e->body);
        }
    }

    const img_yuv420 *s0 = &r->ph_sharp[0];
    img_yuv420 img = {0}, fg = {0};
    bytebuf jpeg = BYTEBUF_INIT;
    blob *body = NULL;
    if (img_yuv420_alloc(&img, s0->width, s0->height) != 0 || blur_yuv(&img, s0, sigma[0]) != 0)
        goto done;
    size_t ysz = (size_t)img.y_stride * (size_t)img.y_rows, csz = (size_t)img.c_stride * (size_t)img.c_rows;
    if (r->planes > 1) {
        if (img_yuv420_alloc(&fg, s0->width, s0->height) != 0 || blur_yuv(&fg, &r->ph_sharp[1], sigma[1]) != 0)
            goto done;
        mix(img.y, fg.y, r->ph_mask, ysz);
        mix(img.cb, fg.cb, r->ph_cmask, csz);
        mix(img.cr, fg.cr, r->ph_cmask, csz);
    }
    /* exposure and a little sensor noise (which is also what makes real
     * JPEGs several megabytes) */
    rng nr;
    rng_seed(&nr, rng_hash2(r->seed, (uint64_t)key[0] * 7919u + (uint64_t)key[1] * 31u + (uint64_t)key[3]));
    size_t mask = ((size_t)1 << NOISE_BITS) - 1, off = (size_t)rng_next(&nr) & mask;
    for (int y = 0; y < img.height; y++) {
        uint8_t *row = img.y + (size_t)y * (size_t)img.y_stride;
        for (int x = 0; x < img.width; x++) {
            int v = (int)lround(row[x] * gain);
            v += (r->noise[(off + (size_t)x) & mask] * 5 + 16) >> 5; /* ~5 DN */
            row[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        off = (off + (size_t)img.width * 5 + 7) & mask;
    }
    img_yuv420_pad(&img);
    img_jpeg_params jp = {.quality = r->cfg.photo_quality, .fast_dct = true};
    if (img_jpeg_encode_yuv420(&jp, &img, 2, &jpeg) != 0) goto done;
    /* strip the JFIF APP0 segment: keep SOI, drop FFE0 if present */
    size_t skip = 0;
    if (jpeg.len > 6 && jpeg.data[2] == 0xFF && jpeg.data[3] == 0xE0)
        skip = 2 + ((size_t)jpeg.data[4] << 8 | jpeg.data[5]);
    body = blob_new(jpeg.len - skip);
    if (body == NULL) goto done;
    body->data[0] = 0xFF;
    body->data[1] = 0xD8;
    memcpy(body->data + 2, jpeg.data + 2 + skip, jpeg.len - 2 - skip);

    photo_entry *victim = &r->photo[0];
    for (int i = 1; i < PHOTO_CACHE; i++)
        if (!r->photo[i].body || (victim->body && r->photo[i].last_use < victim->last_use)) victim = &r->photo[i];
    blob_unref(victim->body);
    victim->body = blob_ref(body);
    memcpy(victim->key, key, sizeof key);
    victim->last_use = r->tick;
done:
    img_yuv420_free(&img);
    img_yuv420_free(&fg);
    bytebuf_free(&jpeg);
    return body;
}

/* Box-averages plane `src` (sw x sh visible) down to dst (dw x dh). */
static void downscale(uint8_t *dst, int dstride, int dw, int dh, const uint8_t *src, int sstride,
                      int sw, int sh)
{
    for (int y = 0; y < dh; y++) {
        int y0 = y * sh / dh, y1 = (y + 1) * sh / dh;
        for (int x = 0; x < dw; x++) {
            int x0 = x * sw / dw, x1 = (x + 1) * sw / dw;
            unsigned sum = 0, n = 0;
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++, n++) sum += src[(size_t)yy * (size_t)sstride + (size_t)xx];
            dst[(size_t)y * (size_t)dstride + (size_t)x] = (uint8_t)(n ? (sum + n / 2) / n : 0);
        }
    }
}

blob *render_thumbnail(renderer *r, int *w, int *h)
{
    if (r->thumb == NULL) {
        const img_yuv420 *s = &r->views[0].sharp[0];
        int tw = 160, th = (int)lround(160.0 * s->height / s->width);
        img_yuv420 t;
        bytebuf jpeg = BYTEBUF_INIT;
        if (img_yuv420_alloc(&t, tw, th) != 0) return NULL;
        downscale(t.y, t.y_stride, tw, th, s->y, s->y_stride, s->width, s->height);
        downscale(t.cb, t.c_stride, (tw + 1) / 2, (th + 1) / 2, s->cb, s->c_stride, (s->width + 1) / 2, (s->height + 1) / 2);
        downscale(t.cr, t.c_stride, (tw + 1) / 2, (th + 1) / 2, s->cr, s->c_stride, (s->width + 1) / 2, (s->height + 1) / 2);
        img_yuv420_pad(&t);
        img_jpeg_params jp = {.quality = 85};
        if (img_jpeg_encode_yuv420(&jp, &t, 1, &jpeg) == 0) r->thumb = blob_from(jpeg.data, jpeg.len);
        img_yuv420_free(&t);
        bytebuf_free(&jpeg);
        r->thumb_w = tw;
        r->thumb_h = th;
    }
    *w = r->thumb_w;
    *h = r->thumb_h;
    return blob_ref(r->thumb);
}

size_t render_cache_bytes(const renderer *r)
{
    size_t n = 0;
    for (int p = 0; p < MAX_PLANES; p++) {
        for (int i = 0; i < VIEWS; i++) {
            const view_slot *v = &r->views[i];
            for (int k = 0; k < LEVELS; k++)
                if (v->level[p][k].ready) n += img_yuv420_bytes(&v->level[p][k].img);
            if (i > 0 && v->sharp[p].y) n += img_yuv420_bytes(&v->sharp[p]);
        }
        if (r->ph_sharp[p].y) n += img_yuv420_bytes(&r->ph_sharp[p]);
    }
    for (int i = 0; i < PHOTO_CACHE; i++)
        if (r->photo[i].body) n += r->photo[i].body->len;
    return n;
}
