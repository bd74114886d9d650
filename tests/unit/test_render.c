/*
 * Unit tests for the scene and the renderer (sim/ptpip/scene.c, render.c):
 * the focus curve peaks where the lens is in focus and falls off on both
 * sides, a two-plane scene has two peaks, dim light is noisier, exposure
 * changes brightness, and photos follow the aperture.
 */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/blur.h"
#include "image/jpeg.h"
#include "ptpip/render.h"
#include "ptpip/scene.h"
#include "sharpness.h"

typedef struct roi {
    int x, y, w, h; /* fractions of the frame in 1/12ths */
} roi;

static renderer *make(scene **sc, scene_kind kind, double read_noise)
{
    *sc = scene_new(kind, 5);
    render_config c;
    render_default_config(&c);
    c.lv_width = 528;
    c.lv_height = 352;
    c.photo_width = 600;
    c.photo_height = 400;
    c.read_noise = read_noise;
    return render_new(*sc, &c, 5);
}

static double frame_sharpness(renderer *r, double d0, double d1, double gain, roi q, double *mean)
{
    bytebuf b = BYTEBUF_INIT;
    double d[2] = {d0, d1};
    render_liveview(r, d, gain, 1, &b);
    img_image img;
    if (img_jpeg_decode(b.data, b.len, 1, 1, &img) != 0) return -1;
    int x = img.width * q.x / 12, y = img.height * q.y / 12, w = img.width * q.w / 12, h = img.height * q.h / 12;
    double s = test_sharpness(img.pixels, img.width, x, y, w, h);
    if (mean) {
        double m = 0;
        for (int i = 0; i < img.width * img.height; i++) m += img.pixels[i];
        *mean = m / (img.width * img.height);
    }
    img_image_free(&img);
    bytebuf_free(&b);
    return s;
}

static const roi centre = {4, 4, 4, 4};

TEST(focus_curve_peaks_at_focus)
{
    scene *sc;
    renderer *r = make(&sc, SCENE_STUDIO, 1.2);
    double prev = 1e9;
    static const double steps[] = {0, 5, 15, 40, 100, 250};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double near = frame_sharpness(r, steps[i], 0, 1, centre, NULL);
        double far = frame_sharpness(r, -steps[i], 0, 1, centre, NULL);
        CHECK(near < prev);
        CHECK(fabs(near - far) / near < 0.05); /* symmetric in defocus */
        prev = near;
    }
    render_free(r);
    scene_free(sc);
}

TEST(two_planes_two_peaks)
{
    scene *sc;
    renderer *r = make(&sc, SCENE_TWO_PLANE, 1.2);
    CHECK_EQ_INT(scene_plane_count(sc), 2);
    /* plane 1 (the card) sharp at +150 steps from plane 0 */
    const roi both = {3, 3, 5, 6};
    double curve[41];
    for (int i = 0; i <= 40; i++) {
        double pos = -50 + i * 6.25; /* -50 .. 200 */
        curve[i] = frame_sharpness(r, pos, pos - 150, 1, both, NULL);
    }
    int peaks = 0;
    for (int i = 1; i < 40; i++)
        if (curve[i] > curve[i - 1] && curve[i] >= curve[i + 1] && curve[i] > 1.3 * curve[20]) peaks++;
    CHECK_EQ_INT(peaks, 2);
    /* the main plane's peak (at 0 = index 8) is the global one */
    int best = 0;
    for (int i = 1; i <= 40; i++)
        if (curve[i] > curve[best]) best = i;
    CHECK_EQ_INT(best, 8);
    render_free(r);
    scene_free(sc);
}

TEST(dim_light_is_noisier)
{
    scene *a, *b;
    renderer *bright = make(&a, SCENE_FLAT, 1.2), *dim = make(&b, SCENE_FLAT, 6);
    /* on a featureless scene, the gradient energy is the noise */
    double sb = frame_sharpness(bright, 0, 0, 1, centre, NULL);
    double sd = frame_sharpness(dim, 0, 0, 1, centre, NULL);
    CHECK(sd > 4 * sb);
    render_free(bright);
    render_free(dim);
    scene_free(a);
    scene_free(b);
}

TEST(exposure_changes_brightness)
{
    scene *sc;
    renderer *r = make(&sc, SCENE_STUDIO, 1.2);
    double m1, m2, m3;
    frame_sharpness(r, 0, 0, 1.0, centre, &m1);
    frame_sharpness(r, 0, 0, 0.5, centre, &m2);
    frame_sharpness(r, 0, 0, 2.0, centre, &m3);
    CHECK(fabs(m2 / m1 - 0.5) < 0.05);
    CHECK(m3 > m1 * 1.5);
    render_free(r);
    scene_free(sc);
}

TEST(photos_follow_focus_and_aperture)
{
    scene *sc;
    renderer *r = make(&sc, SCENE_STUDIO, 1.2);
    double s[3];
    double d[3][2] = {{0, 0}, {60, 60}, {60, 60}};
    double blur_scale[3] = {1, 1, 0.25}; /* wide open, wide open, stopped down 2 stops */
    for (int i = 0; i < 3; i++) {
        blob *body = render_photo_body(r, d[i], blur_scale[i], 1.0);
        CHECK(body != NULL && body->data[0] == 0xFF && body->data[1] == 0xD8);
        img_image img;
        CHECK(img_jpeg_decode(body->data, body->len, 1, 1, &img) == 0);
        CHECK_EQ_INT(img.width, 600);
        s[i] = test_sharpness(img.pixels, img.width, 200, 133, 200, 133);
        img_image_free(&img);
        blob_unref(body);
    }
    CHECK(s[1] < s[0] * 0.7); /* defocused */
    CHECK(s[2] > s[1] * 1.3); /* more depth of field when stopped down */
    render_free(r);
    scene_free(sc);
}


/* ---- magnified live view ------------------------------------------------ */

/* A renderer without noise or flicker, so frames compare exactly. */
static renderer *make_clean(scene **sc, scene_kind kind)
{
    *sc = scene_new(kind, 5);
    render_config c;
    render_default_config(&c);
    c.lv_width = 528;
    c.lv_height = 352;
    c.photo_width = 1200;
    c.photo_height = 800;
    c.read_noise = 0;
    c.shot_noise = 0;
    c.flicker = 0;
    return render_new(*sc, &c, 5);
}

/* One grey live-view frame at a view (zoom 1: the full frame). */
static int grab(renderer *r, double zoom, double x, double y, double d0, double d1, img_image *img)
{
    render_view v = {zoom, x, y};
    render_set_view(r, &v);
    bytebuf b = BYTEBUF_INIT;
    double d[2] = {d0, d1};
    int rc = render_liveview(r, d, 1.0, 1, &b);
    if (rc == 0) rc = img_jpeg_decode(b.data, b.len, 1, 1, img);
    bytebuf_free(&b);
    return rc;
}

static double correlation(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= (double)n, mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb + 1e-12);
}

/* Correlation of a zoomed frame z with the crop of the full frame f that
 * starts at (cx, cy) full-frame pixels, upscaled k times (bilinear).  The
 * zoomed frame is first blurred to the full frame's resolution (k times
 * its base blur of 0.55 px): detail only magnification resolves is not
 * expected in the crop. */
static double crop_correlation(const img_image *f, const img_image *z, double cx, double cy, double k)
{
    size_t n = (size_t)z->width * (size_t)z->height;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    uint8_t *zb = malloc(n);
    img_blur_gauss(zb, z->pixels, z->width, z->height, z->width, 0.55 * k);
    for (int v = 0; v < z->height; v++)
        for (int u = 0; u < z->width; u++) {
            double x = cx + (u + 0.5) / k - 0.5, y = cy + (v + 0.5) / k - 0.5;
            int x0 = (int)floor(x), y0 = (int)floor(y);
            double tx = x - x0, ty = y - y0;
            if (x0 < 0) x0 = 0, tx = 0;
            if (y0 < 0) y0 = 0, ty = 0;
            if (x0 >= f->width - 1) x0 = f->width - 2, tx = 1;
            if (y0 >= f->height - 1) y0 = f->height - 2, ty = 1;
            const uint8_t *p = f->pixels + (size_t)y0 * (size_t)f->width + (size_t)x0;
            double top = p[0] + (p[1] - p[0]) * tx, bot = p[f->width] + (p[f->width + 1] - p[f->width]) * tx;
            size_t i = (size_t)v * (size_t)z->width + (size_t)u;
            a[i] = top + (bot - top) * ty;
            b[i] = zb[i];
        }
    double c = correlation(a, b, n);
    free(a);
    free(b);
    free(zb);
    return c;
}

TEST(zoomed_frame_is_the_magnified_crop)
{
    scene *sc;
    renderer *r = make_clean(&sc, SCENE_STUDIO);
    img_image full, zoom;
    CHECK(grab(r, 1, 0, 0, 0, 0, &full) == 0);
    double lv_per_photo = 528.0 / 1200.0;
    /* the star's edge, the text block, the chart: 5x and 10x */
    static const double where[][3] = {{5, 480, 150}, {5, 850, 80}, {10, 100, 60}, {10, 560, 360}};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        double k = where[i][0], x = where[i][1], y = where[i][2];
        CHECK(grab(r, k, x, y, 0, 0, &zoom) == 0);
        CHECK_EQ_INT(zoom.width, 528);
        CHECK_EQ_INT(zoom.height, 352);
        double c = crop_correlation(&full, &zoom, x * lv_per_photo, y * lv_per_photo, k);
        /* the same place shifted by a fifth of the window does not match */
        double off = crop_correlation(&full, &zoom, (x + 1200 / k / 5) * lv_per_photo, y * lv_per_photo, k);
        fprintf(stderr, "zoom %g at %g,%g: correlation %.3f (shifted %.3f)\n", k, x, y, c, off);
        CHECK(c > 0.9);
        CHECK(off < c - 0.2);
        img_image_free(&zoom);
    }
    /* the view is clamped into the frame: a corner past the edge shows the
     * last window */
    render_view v = {5, 5000, 5000};
    render_set_view(r, &v);
    render_view got = render_get_view(r);
    CHECK_NEAR(got.x, 1200 - 240, 1e-9);
    CHECK_NEAR(got.y, 800 - 160, 1e-9);
    img_image_free(&full);
    render_free(r);
    scene_free(sc);
}

/* One frame's JPEG bytes at a view. */
static void frame_bytes(renderer *r, double zoom, double x, double y, double d, bytebuf *b)
{
    render_view v = {zoom, x, y};
    render_set_view(r, &v);
    double dd[2] = {d, d};
    bytebuf_reset(b);
    render_liveview(r, dd, 1.0, 7, b);
}

static bool same_bytes(const bytebuf *a, const bytebuf *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

TEST(views_are_cached_by_view)
{
    scene *sc;
    renderer *r = make_clean(&sc, SCENE_TWO_PLANE);
    bytebuf full = BYTEBUF_INIT, a = BYTEBUF_INIT, b = BYTEBUF_INIT, x = BYTEBUF_INIT;
    frame_bytes(r, 1, 0, 0, 12, &full);
    frame_bytes(r, 5, 300, 200, 12, &a);
    CHECK(!same_bytes(&full, &a));
    CHECK_EQ_INT(render_view_changes(r), 1);
    frame_bytes(r, 10, 300, 200, 12, &b);
    CHECK(!same_bytes(&a, &b));
    frame_bytes(r, 1, 0, 0, 12, &x); /* the full frame is always kept */
    CHECK(same_bytes(&full, &x));
    frame_bytes(r, 5, 300, 200, 12, &x); /* still cached */
    CHECK(same_bytes(&a, &x));
    CHECK_EQ_INT(render_view_changes(r), 2);
    frame_bytes(r, 5, 700, 100, 12, &x); /* a third view evicts the 10x one */
    CHECK(!same_bytes(&a, &x));
    frame_bytes(r, 10, 300, 200, 12, &x);
    CHECK(same_bytes(&b, &x));
    CHECK_EQ_INT(render_view_changes(r), 4);
    /* zoom 1 ignores the position */
    frame_bytes(r, 1, 500, 500, 12, &x);
    CHECK(same_bytes(&full, &x));
    bytebuf_free(&full);
    bytebuf_free(&a);
    bytebuf_free(&b);
    bytebuf_free(&x);
    render_free(r);
    scene_free(sc);
}

/* The Gaussian sigma that, applied to `sharp`, best reproduces `blurred`
 * (grid search, 0.05 px). */
static double fit_blur(const img_image *sharp, const img_image *blurred)
{
    size_t n = (size_t)sharp->width * (size_t)sharp->height;
    uint8_t *tmp = malloc(n);
    double best = 0, best_err = 1e300;
    for (double s = 0.3; s < 20; s += s < 3 ? 0.05 : 0.2) {
        img_blur_gauss(tmp, sharp->pixels, sharp->width, sharp->height, sharp->width, s);
        double err = 0;
        for (int y = 30; y < sharp->height - 30; y++)
            for (int x = 30; x < sharp->width - 30; x++) {
                double e = (double)tmp[(size_t)y * (size_t)sharp->width + (size_t)x] -
                           blurred->pixels[(size_t)y * (size_t)sharp->width + (size_t)x];
                err += e * e;
            }
        if (err < best_err) best_err = err, best = s;
    }
    free(tmp);
    return best;
}

/* The defocus part of the blur, sqrt(sigma^2 - sigma0^2), per step of
 * defocus: fitted on frames of one view at defocus 0 and d, averaged over
 * d (fitted sigma / d). */
static double blur_per_step(renderer *r, double k, double x, double y, const double *d, int n)
{
    img_image sharp, blurred;
    if (grab(r, k, x, y, 0, 0, &sharp) != 0) return -1;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (grab(r, k, x, y, d[i], d[i], &blurred) != 0) return -1;
        double fitted = fit_blur(&sharp, &blurred);
        fprintf(stderr, "zoom %g, defocus %g: blur %.2f px, model %.2f px\n", k, d[i], fitted, k * 0.06 * d[i]);
        sum += fitted / d[i];
        img_image_free(&blurred);
    }
    img_image_free(&sharp);
    return sum / n;
}

TEST(zoomed_blur_is_k_times_wider)
{
    scene *sc;
    renderer *r = make_clean(&sc, SCENE_STUDIO);
    static const double d1[] = {10, 20, 40, 80}, d5[] = {2, 4, 8, 16}, d10[] = {1, 2, 4, 8};
    double s1 = blur_per_step(r, 1, 0, 0, d1, 4);
    double s5 = blur_per_step(r, 5, 480, 150, d5, 4);
    double s10 = blur_per_step(r, 10, 560, 360, d10, 4);
    fprintf(stderr, "blur per step: 1x %.4f, 5x %.4f, 10x %.4f px (alpha 0.06)\n", s1, s5, s10);
    CHECK_NEAR(s1, 0.06, 0.006);
    CHECK_NEAR(s5 / s1, 5, 0.5);
    CHECK_NEAR(s10 / s1, 10, 1.0);
    render_free(r);
    scene_free(sc);
}

/* Defocus (steps) where the sharpness of a view first falls below half of
 * its in-focus value. */
static double half_width(renderer *r, double k, double x, double y)
{
    img_image img;
    double s0 = 0;
    for (double d = 0; d <= 200; d += d < 4 ? 0.25 : 1) {
        if (grab(r, k, x, y, d, d, &img) != 0) return -1;
        double s = test_sharpness(img.pixels, img.width, 8, 8, img.width - 16, img.height - 16);
        img_image_free(&img);
        if (d == 0) s0 = s;
        else if (s < s0 / 2) return d;
    }
    return 1e9;
}

TEST(zoomed_focus_curve_is_k_times_steeper)
{
    scene *sc;
    renderer *r = make_clean(&sc, SCENE_STUDIO);
    /* the blur grows k times faster per step; the base blur (sigma0, the
     * same at every zoom) and the content make the focus measure's
     * half-width shrink somewhat less than k times (measured: 15, 5 and
     * 2.25 steps) */
    double w1 = half_width(r, 1, 0, 0), w5 = half_width(r, 5, 480, 150), w10 = half_width(r, 10, 560, 360);
    fprintf(stderr, "half widths: 1x %.2f, 5x %.2f, 10x %.2f steps\n", w1, w5, w10);
    CHECK(w5 > 0 && w10 > 0);
    CHECK(w1 / w5 > 2.5 && w1 / w5 < 8.0);
    CHECK(w1 / w10 > 5.0 && w1 / w10 < 16.0);
    CHECK(w5 / w10 > 1.6);
    render_free(r);
    scene_free(sc);
}

TEST(zoomed_two_planes_mix_by_the_window)
{
    scene *sc;
    renderer *r = make_clean(&sc, SCENE_TWO_PLANE);
    /* the card covers x 0.31..0.465, y 0.18..0.53 of the width: a 10x
     * window inside it shows only plane 1, one across its left edge both */
    img_image a, b, full, z;
    CHECK(grab(r, 10, 1200 * 0.36, 1200 * 0.30, 0, 0, &a) == 0);
    CHECK(grab(r, 10, 1200 * 0.36, 1200 * 0.30, 40, 0, &b) == 0);
    double sa = test_sharpness(a.pixels, a.width, 8, 8, a.width - 16, a.height - 16);
    double sb = test_sharpness(b.pixels, b.width, 8, 8, b.width - 16, b.height - 16);
    CHECK(fabs(sb - sa) / sa < 0.02); /* plane 0 out of focus: not seen */
    img_image_free(&b);
    CHECK(grab(r, 10, 1200 * 0.36, 1200 * 0.30, 0, 3, &b) == 0);
    sb = test_sharpness(b.pixels, b.width, 8, 8, b.width - 16, b.height - 16);
    CHECK(sb < sa * 0.8); /* plane 1 slightly out of focus: seen */
    img_image_free(&a);
    img_image_free(&b);
    CHECK(grab(r, 1, 0, 0, 0, 0, &full) == 0);
    double x = 1200 * 0.28, y = 1200 * 0.30;
    CHECK(grab(r, 5, x, y, 0, 0, &z) == 0);
    double c = crop_correlation(&full, &z, x * 528 / 1200, y * 528 / 1200, 5);
    fprintf(stderr, "two planes, across the card's edge: correlation %.3f\n", c);
    CHECK(c > 0.9);
    img_image_free(&full);
    img_image_free(&z);
    render_free(r);
    scene_free(sc);
}

TESTS(HARNESS_ENTRY(focus_curve_peaks_at_focus), HARNESS_ENTRY(two_planes_two_peaks),
      HARNESS_ENTRY(dim_light_is_noisier), HARNESS_ENTRY(exposure_changes_brightness),
      HARNESS_ENTRY(photos_follow_focus_and_aperture), HARNESS_ENTRY(zoomed_frame_is_the_magnified_crop),
      HARNESS_ENTRY(views_are_cached_by_view),
      HARNESS_ENTRY(zoomed_blur_is_k_times_wider), HARNESS_ENTRY(zoomed_focus_curve_is_k_times_steeper),
      HARNESS_ENTRY(zoomed_two_planes_mix_by_the_window))
