/*
 * scene: see scene.h.
 *
 * Rendering a pixel: the smooth background (fBm value noise with a slow
 * colour tint) is evaluated on a coarse grid and interpolated, since it
 * has no detail finer than a few pixels (a magnified window adds the
 * octaves it resolves); the geometric elements (chart,
 * star, glyphs, grating, slanted square) are evaluated ss x ss times per
 * pixel and averaged, which anti-aliases their edges.  Values are display
 * reflectances in [0, 1], written as 8-bit sRGB-like values.
 */
#include "scene.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"

enum { GLYPHS = 64 };

typedef struct rect {
    double x0, y0, x1, y1;
} rect;

struct scene {
    scene_kind kind;
    uint32_t seed32;
    double aspect_hint;        /* layout assumes 3:2 but works for any */
    rect chart;
    double star_x, star_y, star_r;
    rect text1, text2, grating, slant, card;
    double slant_angle;
    uint64_t glyph[GLYPHS];    /* 5x7 bitmaps, bit (row*5 + col) */
    float chart_rgb[24][3];
};

static const char *const kind_names[] = {"studio", "two-plane", "low-contrast", "flat"};

bool scene_kind_parse(const char *name, scene_kind *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (scene_kind)i;
            return true;
        }
    }
    return false;
}

const char *scene_kind_name(scene_kind kind)
{
    return (unsigned)kind < 4 ? kind_names[kind] : "?";
}

/* A 24-patch chart in the spirit of the classic colour checker (display
 * values, approximate). */
static const uint8_t chart_palette[24][3] = {
    {115, 82, 68},   {194, 150, 130}, {98, 122, 157},  {87, 108, 67},  {133, 128, 177},
    {103, 189, 170}, {214, 126, 44},  {80, 91, 166},   {193, 90, 99},  {94, 60, 108},
    {157, 188, 64},  {224, 163, 46},  {56, 61, 150},   {70, 148, 73},  {175, 54, 60},
    {231, 199, 31},  {187, 86, 149},  {8, 133, 161},   {243, 243, 242}, {200, 200, 200},
    {160, 160, 160}, {122, 122, 121}, {85, 85, 85},    {52, 52, 52},
};

static uint64_t make_glyph(rng *r)
{
    /* A few strokes on a 5x7 grid: looks like lettering at a glance. */
    uint64_t g = 0;
    int strokes = 2 + (int)rng_below(r, 3);
    for (int s = 0; s < strokes; s++) {
        int kind = (int)rng_below(r, 4);
        int c = (int)rng_below(r, 5), row = (int)rng_below(r, 7);
        for (int i = 0; i < 7; i++) {
            int x = c, y = row;
            switch (kind) {
            case 0: y = i; break;                     /* vertical */
            case 1: x = i < 5 ? i : 4; break;         /* horizontal */
            case 2: x = i * 5 / 7; y = i; break;      /* diagonal */
            default: x = 4 - i * 5 / 7; y = i; break; /* other diagonal */
            }
            g |= 1ull << (y * 5 + x);
        }
    }
    return g;
}

scene *scene_new(scene_kind kind, uint64_t seed)
{
    scene *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    rng r;
    rng_seed(&r, rng_hash2(seed, 0x5ce9e));
    s->kind = kind;
    s->seed32 = (uint32_t)rng_next(&r);
    double A = 2.0 / 3.0;
    double jx = 0.02 * (rng_uniform(&r) - 0.5), jy = 0.02 * (rng_uniform(&r) - 0.5);
    s->chart = (rect){0.04 + jx, 0.04 + jy, 0.30 + jx, 0.21 + jy};
    s->star_x = 0.5 + 0.01 * (rng_uniform(&r) - 0.5);
    s->star_y = A / 2 + 0.01 * (rng_uniform(&r) - 0.5);
    s->star_r = 0.15;
    s->text1 = (rect){0.69, 0.05 + jy, 0.96, 0.27 + jy};
    s->text2 = (rect){0.05, A - 0.19, 0.36, A - 0.05};
    s->grating = (rect){0.69, A - 0.30, 0.96, A - 0.05};
    s->slant = (rect){0.07, 0.27, 0.23, 0.41};
    s->slant_angle = (4.0 + 3.0 * rng_uniform(&r)) * M_PI / 180.0;
    s->card = (rect){0.31, A * 0.27, 0.465, A * 0.80};
    for (int i = 0; i < GLYPHS; i++) s->glyph[i] = make_glyph(&r);
    for (int i = 0; i < 24; i++)
        for (int c = 0; c < 3; c++) s->chart_rgb[i][c] = chart_palette[i][c] / 255.0f;
    return s;
}

void scene_free(scene *s)
{
    free(s);
}

int scene_plane_count(const scene *s)
{
    return s->kind == SCENE_TWO_PLANE ? 2 : 1;
}

/* ---- value noise ---------------------------------------------------- */

static inline uint32_t hash3(uint32_t x, uint32_t y, uint32_t z)
{
    uint32_t h = x * 0x8da6b343u ^ y * 0xd8163841u ^ z * 0xcb1ab31fu;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h;
}

static inline float lattice(int ix, int iy, uint32_t salt)
{
    return (float)(hash3((uint32_t)ix, (uint32_t)iy, salt) & 0xFFFF) * (2.0f / 65535.0f) - 1.0f;
}

static float value_noise(float x, float y, uint32_t salt)
{
    float fx = floorf(x), fy = floorf(y);
    int ix = (int)fx, iy = (int)fy;
    float tx = x - fx, ty = y - fy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    float a = lattice(ix, iy, salt), b = lattice(ix + 1, iy, salt);
    float c = lattice(ix, iy + 1, salt), d = lattice(ix + 1, iy + 1, salt);
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

static float fbm(float x, float y, uint32_t salt, int octaves)
{
    float sum = 0, amp = 0.5f, f = 1;
    for (int o = 0; o < octaves; o++) {
        sum += amp * value_noise(x * f, y * f, salt + (uint32_t)o * 101u);
        f *= 2.03f;
        amp *= 0.6f;
    }
    return sum;
}

/* Background colour at (x, y) (normalised units) for a plane.  `finer`
 * octaves are added to the texture in magnified windows, where they are
 * resolved (in the full frame they are finer than a pixel: 1/f texture
 * has detail at every scale). */
static void background(const scene *s, int plane, double x, double y, int finer, float rgb[3])
{
    uint32_t salt = s->seed32 + (uint32_t)plane * 7919u;
    if (s->kind == SCENE_FLAT) {
        float l = 0.30f + 0.35f * (float)x + 0.03f * fbm((float)x * 2, (float)y * 2, salt, 2);
        rgb[0] = l * 1.04f, rgb[1] = l, rgb[2] = l * 0.95f;
        return;
    }
    float l = 0.48f + 0.30f * fbm((float)x * 5, (float)y * 5, salt, 6 + finer);
    float t1 = value_noise((float)x * 1.5f, (float)y * 1.5f, salt + 17);
    float t2 = value_noise((float)x * 1.5f, (float)y * 1.5f, salt + 29);
    if (plane == 1) { /* the foreground card: cooler, plainer */
        l = 0.62f + 0.15f * fbm((float)x * 9, (float)y * 9, salt, 5 + finer);
        rgb[0] = l * 0.92f, rgb[1] = l * 0.97f, rgb[2] = l * (1.05f + 0.05f * t1);
        return;
    }
    rgb[0] = l * (1.0f + 0.18f * t1);
    rgb[1] = l * (1.0f + 0.05f * t2);
    rgb[2] = l * (1.0f - 0.16f * t1);
}

/* ---- geometric elements --------------------------------------------- */

static inline bool in_rect(const rect *r, double x, double y)
{
    return x >= r->x0 && x < r->x1 && y >= r->y0 && y < r->y1;
}

static inline void set_grey(float rgb[3], float v)
{
    rgb[0] = rgb[1] = rgb[2] = v;
}

/* Ink of a glyph block at (x, y): true where a stroke is. */
static bool glyph_ink(const scene *s, const rect *r, double x, double y, double cw, double ch,
                      uint32_t salt)
{
    double u = (x - r->x0) / cw, v = (y - r->y0) / ch;
    int cx = (int)u, cy = (int)v;
    uint32_t h = hash3((uint32_t)cx, (uint32_t)cy, s->seed32 ^ salt);
    int cols = (int)((r->x1 - r->x0) / cw);
    int line_len = cols - 1 - (int)(hash3(0, (uint32_t)cy, s->seed32 ^ salt) % (uint32_t)(cols / 3 + 1));
    if (cx >= line_len || h % 7 == 0) return false; /* ragged line ends, word gaps */
    int gx = (int)((u - cx) * 6), gy = (int)((v - cy) * 9);
    if (gx >= 5 || gy < 1 || gy >= 8) return false;
    return (s->glyph[h % GLYPHS] >> ((gy - 1) * 5 + gx)) & 1;
}

/* Colour of the geometric layer of plane 0 at (x, y); returns false where
 * the background shows. */
static bool geometry0(const scene *s, double x, double y, float rgb[3])
{
    const rect *c = &s->chart;
    if (in_rect(c, x, y)) {
        double cw = (c->x1 - c->x0) / 6, ch = (c->y1 - c->y0) / 4, gap = 0.004;
        int i = (int)((x - c->x0) / cw), j = (int)((y - c->y0) / ch);
        double lx = x - c->x0 - i * cw, ly = y - c->y0 - j * ch;
        if (lx < gap || ly < gap || i > 5 || j > 3) {
            set_grey(rgb, 0.05f);
        } else {
            memcpy(rgb, s->chart_rgb[j * 6 + i], sizeof(float) * 3);
        }
        return true;
    }
    double dx = x - s->star_x, dy = y - s->star_y;
    double r2 = dx * dx + dy * dy, R = s->star_r;
    if (r2 < R * R * 1.2) {
        if (r2 >= R * R) {
            set_grey(rgb, 0.86f); /* the white card the star is printed on */
        } else if (r2 < R * R * 0.0016) {
            set_grey(rgb, 0.48f);
        } else {
            /* 72 sectors: sector floor(36 a / pi) of angle a is odd where
             * sin(36 a) < 0, the sign of Im((dx + i dy)^36), which six
             * complex products give without atan2 (|z|^36 >= 1e-80) */
            double r2_ = dx * dx - dy * dy, i2 = 2 * dx * dy;                 /* z^2 */
            double r4 = r2_ * r2_ - i2 * i2, i4 = 2 * r2_ * i2;               /* z^4 */
            double re = r4, im = i4, t;
            for (int k = 0; k < 3; k++) t = re * re - im * im, im = 2 * re * im, re = t; /* z^32 */
            double im36 = re * i4 + im * r4;
            set_grey(rgb, im36 < 0 ? 0.07f : 0.90f);
        }
        return true;
    }
    if (in_rect(&s->text1, x, y)) {
        set_grey(rgb, glyph_ink(s, &s->text1, x, y, 0.0095, 0.0165, 11) ? 0.09f : 0.88f);
        return true;
    }
    if (in_rect(&s->text2, x, y)) {
        set_grey(rgb, glyph_ink(s, &s->text2, x, y, 0.0066, 0.0115, 23) ? 0.10f : 0.86f);
        return true;
    }
    if (in_rect(&s->grating, x, y)) {
        const rect *g = &s->grating;
        double u = (x - g->x0) / (g->x1 - g->x0);
        double f = 40.0 + 420.0 * u * u; /* cycles per image width */
        rgb[0] = rgb[1] = rgb[2] = (float)(0.5 + 0.42 * sin(2 * M_PI * f * (y - g->y0)));
        rgb[0] *= 1.05f;
        return true;
    }
    if (in_rect(&s->slant, x, y)) {
        const rect *q = &s->slant;
        double cx = (q->x0 + q->x1) / 2, cy = (q->y0 + q->y1) / 2, h = (q->x1 - q->x0) * 0.32;
        double ca = cos(s->slant_angle), sa = sin(s->slant_angle);
        double u = (x - cx) * ca + (y - cy) * sa, v = -(x - cx) * sa + (y - cy) * ca;
        set_grey(rgb, (fabs(u) < h && fabs(v) < h) ? 0.06f : 0.84f);
        return true;
    }
    return false;
}

/* Colour of the foreground card (plane 1) at (x, y). */
static bool geometry1(const scene *s, double x, double y, float rgb[3])
{
    const rect *c = &s->card;
    if (!in_rect(c, x, y)) return false;
    double h = c->y1 - c->y0;
    rect band = {c->x0 + 0.008, c->y0 + 0.06 * h, c->x1 - 0.008, c->y0 + 0.22 * h};
    rect text = {c->x0 + 0.010, c->y0 + 0.30 * h, c->x1 - 0.010, c->y1 - 0.05 * h};
    if (in_rect(&band, x, y)) {
        int i = (int)((x - band.x0) / 0.006), j = (int)((y - band.y0) / 0.006);
        set_grey(rgb, ((i + j) & 1) ? 0.08f : 0.92f);
        return true;
    }
    if (in_rect(&text, x, y)) {
        set_grey(rgb, glyph_ink(s, &text, x, y, 0.0080, 0.0140, 37) ? 0.08f : 0.90f);
        return true;
    }
    return false;
}

static bool in_card(const scene *s, double x, double y)
{
    return in_rect(&s->card, x, y);
}

/* ---- rendering --------------------------------------------------------- */

static inline uint8_t to_u8(float v, float contrast)
{
    v = 0.5f + (v - 0.5f) * contrast;
    int i = (int)lrintf(v * 255.0f);
    return (uint8_t)(i < 0 ? 0 : i > 255 ? 255 : i);
}

void scene_render_rgb(const scene *s, int plane, int w, int h, int ss, uint8_t *rgb)
{
    scene_render_rgb_window(s, plane, NULL, w, h, ss, rgb);
}

void scene_render_rgb_window(const scene *s, int plane, const scene_window *win, int w, int h,
                             int ss, uint8_t *rgb)
{
    scene_window fw = win ? *win : SCENE_FULL_FRAME;
    if (ss < 1) ss = 1;
    if (ss > 4) ss = 4;
    float contrast = s->kind == SCENE_LOW_CONTRAST ? 0.25f : 1.0f;
    /* background on a coarse grid, about 264 cells across; one more octave
     * of texture per doubling of magnification */
    int g = w / 264 > 1 ? w / 264 : 1;
    int finer = fw.span < 1 ? (int)lround(log(1.0 / fw.span) / log(2.03)) : 0;
    int gw = w / g + 2, gh = h / g + 2;
    float *grid = malloc(sizeof(float) * 3 * (size_t)gw * (size_t)gh);
    if (grid == NULL) {
        memset(rgb, 128, (size_t)w * (size_t)h * 3);
        return;
    }
    for (int j = 0; j < gh; j++)
        for (int i = 0; i < gw; i++)
            background(s, plane, fw.x0 + (i * g + 0.5) * fw.span / w, fw.y0 + (j * g + 0.5) * fw.span / w, finer,
                       grid + 3 * ((size_t)j * (size_t)gw + (size_t)i));

    double inv = fw.span / w, sub = 1.0 / ss;
    for (int py = 0; py < h; py++) {
        uint8_t *out = rgb + (size_t)py * (size_t)w * 3;
        int j = py / g;
        float ty = (float)(py - j * g) / (float)g;
        for (int px = 0; px < w; px++) {
            int i = px / g;
            float tx = (float)(px - i * g) / (float)g;
            float bg[3];
            const float *a = grid + 3 * ((size_t)j * (size_t)gw + (size_t)i);
            const float *b = a + 3, *c = a + 3 * (size_t)gw, *d = c + 3;
            for (int k = 0; k < 3; k++) {
                float top = a[k] + (b[k] - a[k]) * tx, bot = c[k] + (d[k] - c[k]) * tx;
                bg[k] = top + (bot - top) * ty;
            }
            float acc[3] = {0, 0, 0};
            for (int sy = 0; sy < ss; sy++) {
                for (int sx = 0; sx < ss; sx++) {
                    double x = fw.x0 + (px + (sx + 0.5) * sub) * inv;
                    double y = fw.y0 + (py + (sy + 0.5) * sub) * inv;
                    float c3[3];
                    bool hit = s->kind != SCENE_FLAT &&
                               (plane == 0 ? geometry0(s, x, y, c3) : geometry1(s, x, y, c3));
                    const float *src = hit ? c3 : bg;
                    acc[0] += src[0], acc[1] += src[1], acc[2] += src[2];
                }
            }
            float n = 1.0f / (float)(ss * ss);
            out[3 * px] = to_u8(acc[0] * n, contrast);
            out[3 * px + 1] = to_u8(acc[1] * n, contrast);
            out[3 * px + 2] = to_u8(acc[2] * n, contrast);
        }
    }
    free(grid);
}

void scene_render_mask(const scene *s, int w, int h, int ss, uint8_t *mask)
{
    scene_render_mask_window(s, NULL, w, h, ss, mask);
}

void scene_render_mask_window(const scene *s, const scene_window *win, int w, int h, int ss,
                              uint8_t *mask)
{
    scene_window fw = win ? *win : SCENE_FULL_FRAME;
    if (s->kind != SCENE_TWO_PLANE) {
        memset(mask, 0, (size_t)w * (size_t)h);
        return;
    }
    if (ss < 1) ss = 1;
    if (ss > 4) ss = 4;
    double inv = fw.span / w, sub = 1.0 / ss;
    for (int py = 0; py < h; py++) {
        for (int px = 0; px < w; px++) {
            int hits = 0;
            for (int sy = 0; sy < ss; sy++)
                for (int sx = 0; sx < ss; sx++)
                    hits += in_card(s, fw.x0 + (px + (sx + 0.5) * sub) * inv,
                                    fw.y0 + (py + (sy + 0.5) * sub) * inv);
            mask[(size_t)py * (size_t)w + (size_t)px] = (uint8_t)(hits * 255 / (ss * ss));
        }
    }
}
