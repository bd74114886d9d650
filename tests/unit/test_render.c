/*
 * Unit tests for the scene and the renderer (sim/ptpip/scene.c, render.c):
 * the focus curve peaks where the lens is in focus and falls off on both
 * sides, a two-plane scene has two peaks, dim light is noisier, exposure
 * changes brightness, and photos follow the aperture.
 */
#include "harness.h"

#include <math.h>

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

TESTS(HARNESS_ENTRY(focus_curve_peaks_at_focus), HARNESS_ENTRY(two_planes_two_peaks),
      HARNESS_ENTRY(dim_light_is_noisier), HARNESS_ENTRY(exposure_changes_brightness),
      HARNESS_ENTRY(photos_follow_focus_and_aperture))
