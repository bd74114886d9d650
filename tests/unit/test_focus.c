/*
 * Unit tests for the focus measures (lib/image/focus.c) and the readers
 * they run on (img_jpeg_decode_gray_region, img_jpeg_read_luma_dct in
 * common/image/jpeg.c).
 *
 * Frames come from the simulator's renderer at the live-view size a real
 * body sends (1056x704, the studio scene, noise on), at known defocus in
 * Near1 steps, at 1x and magnified 5x.  The tests check what autofocus
 * relies on: every measure peaks in focus and falls as the lens leaves it;
 * tenengrad, lapv and dct do not move when the exposure does, while the
 * seed's median residual (not normalised) does, roughly in proportion; a
 * region decode is exactly the crop of a full decode at every scale, edges
 * and odd sizes included; the DCT reader's block grid and DC terms are
 * right; and bad input (garbage, cut frames, empty or outside regions,
 * tiny images) gives -1, never a crash or a number made of fill.
 */
#include "harness.h"

#include <math.h>
#include <stdint.h>

#include "image/focus.h"
#include "image/jpeg.h"
#include "ptpip/render.h"
#include "ptpip/scene.h"

enum { LV_W = 1056, LV_H = 704 };

/* The centre quarter (1/4 x 1/4) of the frame: the default AF area. */
static const img_region centre = {0.375, 0.375, 0.25, 0.25};

static renderer *make(scene **sc)
{
    *sc = scene_new(SCENE_STUDIO, 5);
    render_config c;
    render_default_config(&c); /* 1056x704, noise and flicker as a real body */
    return render_new(*sc, &c, 5);
}

/* One live-view JPEG at this defocus and gain (the view set beforehand). */
static int frame(renderer *r, double defocus, double gain, bytebuf *out)
{
    double d[2] = {defocus, defocus};
    bytebuf_reset(out);
    return render_liveview(r, d, gain, 1, out);
}

enum { M_TEN2, M_TEN8, M_LAPV, M_DCT, M_MEDRES, M_COUNT };
static const char *const m_names[M_COUNT] = {"tenengrad2", "tenengrad8", "lapv", "dct", "median_residual"};

/* Every measure on one region of one frame; false if a reader failed. */
static int measure_all(const bytebuf *jpeg, img_region reg, double *m)
{
    img_image g;
    img_dct_blocks b;
    if (img_jpeg_decode_gray_region(jpeg->data, jpeg->len, reg, 1, &g) != 0) return 0;
    if (img_jpeg_read_luma_dct(jpeg->data, jpeg->len, reg, &b) != 0) {
        img_image_free(&g);
        return 0;
    }
    m[M_TEN2] = img_focus_tenengrad(&g, 2);
    m[M_TEN8] = img_focus_tenengrad(&g, 8);
    m[M_LAPV] = img_focus_lapv(&g);
    m[M_DCT] = img_focus_dct(&b);
    m[M_MEDRES] = img_focus_median_residual(&g);
    img_image_free(&g);
    img_dct_blocks_free(&b);
    return 1;
}

/* Measures at defocus steps[0] = 0 .. steps[n-1] (and at -steps[2]): the
 * peak is at 0, each step is no more than 2% above the one before (noise),
 * two steps apart it has fallen, and the last is below `last_below` of the
 * peak. */
static int check_curve(renderer *r, const double *steps, int n, double last_below)
{
    bytebuf b = BYTEBUF_INIT;
    double v[8][M_COUNT], far[M_COUNT];
    int ok = 1;
    for (int i = 0; i < n && ok; i++) ok = frame(r, steps[i], 1, &b) == 0 && measure_all(&b, centre, v[i]);
    ok = ok && frame(r, -steps[2], 1, &b) == 0 && measure_all(&b, centre, far);
    bytebuf_free(&b);
    if (!ok) {
        fprintf(stderr, "could not render or read a frame\n");
        return 0;
    }
    for (int k = 0; k < M_COUNT; k++) {
        fprintf(stderr, "%-16s", m_names[k]);
        for (int i = 0; i < n; i++) fprintf(stderr, " %.4g", v[i][k]);
        fprintf(stderr, "  (at -%g: %.4g)\n", steps[2], far[k]);
        for (int i = 1; i < n; i++) {
            if (!(v[i][k] > 0) || v[i][k] > v[i - 1][k] * 1.02) ok = 0;
            if (i >= 2 && !(v[i][k] < v[i - 2][k])) ok = 0;
        }
        if (!(far[k] < v[0][k])) ok = 0;
        if (!(v[n - 1][k] < last_below * v[0][k])) ok = 0;
    }
    return ok;
}

TEST(measures_fall_with_defocus)
{
    scene *sc;
    renderer *r = make(&sc);
    static const double steps[] = {0, 5, 10, 20, 40};
    CHECK(check_curve(r, steps, 5, 0.6));
    render_free(r);
    scene_free(sc);
}

TEST(measures_fall_with_defocus_magnified)
{
    /* 5x (Canon's eoszoom) on the centre: the blur grows 5x per step */
    scene *sc;
    renderer *r = make(&sc);
    render_config c;
    render_default_config(&c);
    render_view v = {5, c.photo_width * 0.4, c.photo_height * 0.4};
    render_set_view(r, &v);
    static const double steps[] = {0, 2, 5, 10, 20};
    CHECK(check_curve(r, steps, 5, 0.2));
    render_free(r);
    scene_free(sc);
}

TEST(brightness_normalised_measures)
{
    /* half the light: tenengrad, lapv and dct divide by the mean (squared)
     * and stay within 15%; the seed's median residual, the standard
     * deviation of a pixel difference, falls with the signal (measured:
     * to ~0.53 at gain 0.5 in focus) */
    scene *sc;
    renderer *r = make(&sc);
    bytebuf b = BYTEBUF_INIT;
    static const double steps[] = {0, 10, 20};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double full[M_COUNT], half[M_COUNT];
        CHECK(frame(r, steps[i], 1.0, &b) == 0 && measure_all(&b, centre, full));
        CHECK(frame(r, steps[i], 0.5, &b) == 0 && measure_all(&b, centre, half));
        for (int k = 0; k < M_COUNT; k++)
            fprintf(stderr, "defocus %g %-16s gain 1: %.4g  gain 0.5: %.4g  ratio %.3f\n", steps[i],
                    m_names[k], full[k], half[k], half[k] / full[k]);
        for (int k = M_TEN2; k <= M_DCT; k++) CHECK(fabs(half[k] / full[k] - 1) < 0.15);
        CHECK(half[M_MEDRES] / full[M_MEDRES] < 0.75);
        CHECK(half[M_MEDRES] / full[M_MEDRES] > 0.35);
    }
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
}

/* ---- region decode ------------------------------------------------------------------- */

/* A test card: gradients, a checkerboard and a diagonal, as RGB. */
static void card(uint8_t *rgb, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            int chk = ((x / 5 + y / 3) & 1) ? 200 : 40;
            p[0] = (uint8_t)((x * 255 / w + chk) / 2);
            p[1] = (uint8_t)(((x + y) % 17) * 15);
            p[2] = (uint8_t)(y * 255 / h);
        }
}

static int encode_card(int w, int h, int channels, img_subsampling ss, bytebuf *out)
{
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    if (rgb == NULL) return -1;
    card(rgb, w, h);
    if (channels == 1)
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++) rgb[i] = rgb[3 * i];
    img_jpeg_params p = {.width = w, .height = h, .channels = channels, .quality = 85, .subsampling = ss};
    int rc = img_jpeg_encode(&p, rgb, (size_t)w * (size_t)channels, out);
    free(rgb);
    return rc;
}

/* Decodes the pixel rectangle (x, y, w, h) of the image decoded at 1/scale
 * (iw x ih there) as a region given by `reg`, and compares it with the same
 * rectangle of `full`.  Returns the largest pixel difference, or -1 if the
 * region's size is wrong or the decode failed. */
static int region_vs_crop(const bytebuf *jpeg, const img_image *full, img_region reg, int scale,
                          int x, int y, int w, int h)
{
    img_image g;
    if (img_jpeg_decode_gray_region(jpeg->data, jpeg->len, reg, scale, &g) != 0) {
        fprintf(stderr, "scale %d region %d,%d %dx%d: decode failed\n", scale, x, y, w, h);
        return -1;
    }
    int worst = 0;
    if (g.width != w || g.height != h || g.channels != 1) {
        fprintf(stderr, "scale %d region %d,%d %dx%d: got %dx%d\n", scale, x, y, w, h, g.width, g.height);
        worst = -1;
    } else {
        for (int j = 0; j < h; j++)
            for (int i = 0; i < w; i++) {
                int d = abs((int)g.pixels[(size_t)j * (size_t)w + (size_t)i] -
                            (int)full->pixels[(size_t)(y + j) * (size_t)full->width + (size_t)(x + i)]);
                if (d > worst) worst = d;
            }
    }
    img_image_free(&g);
    return worst;
}

/* Every test rectangle on one JPEG at one scale; the largest difference. */
static int regions_at_scale(const bytebuf *jpeg, int scale)
{
    img_image full;
    if (img_jpeg_decode(jpeg->data, jpeg->len, 1, scale, &full) != 0) return -1;
    int W = full.width, H = full.height;
    double fw = W, fh = H;
    int a = W / 3 | 1, b = H / 4 | 1, c = W / 5 | 1, d = H / 5 | 1;
    struct {
        img_region reg;
        int x, y, w, h;
    } cases[] = {
        {{0, 0, a / fw, b / fh}, 0, 0, a, b},                                  /* top left */
        {{(W - c) / fw, (H - d) / fh, c / fw, d / fh}, W - c, H - d, c, d},    /* bottom right */
        {{(W / 7 | 1) / fw, (H / 5 | 1) / fh, a / fw, d / fh}, W / 7 | 1, H / 5 | 1, a, d}, /* odd */
        {{(W / 2) / fw, (H / 2) / fh, 1 / fw, 1 / fh}, W / 2, H / 2, 1, 1},    /* one pixel */
        {{0, 0, 1, 1}, 0, 0, W, H},                                            /* all */
        {{(W - 3) / fw, (H - 5) / fh, 0.5, 0.5}, W - 3, H - 5, 3, 5},          /* past the corner */
        {{-0.1, -0.2, 0.1 + c / fw, 0.2 + d / fh}, 0, 0, c, d},                /* before the origin */
        {{(W - a) / fw, (H / 3) / fh, a / fw, b / fh}, W - a, H / 3, a, b},    /* right edge */
    };
    int worst = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && worst >= 0; i++) {
        int dmax = region_vs_crop(jpeg, &full, cases[i].reg, scale, cases[i].x, cases[i].y, cases[i].w,
                                  cases[i].h);
        worst = dmax < 0 ? -1 : dmax > worst ? dmax : worst;
    }
    img_image_free(&full);
    return worst;
}

TEST(region_decode_is_the_crop_of_a_full_decode)
{
    /* the same blocks through the same IDCT: identical in practice (the
     * largest difference found is 0), 1 allowed; a live-view frame (4:2:0),
     * an odd-sized 4:2:0, a grey and a 4:2:2 JPEG, at 1/1 .. 1/8 */
    scene *sc;
    renderer *r = make(&sc);
    bytebuf lv = BYTEBUF_INIT, odd = BYTEBUF_INIT, grey = BYTEBUF_INIT, s422 = BYTEBUF_INIT;
    CHECK(frame(r, 3, 1, &lv) == 0);
    CHECK(encode_card(333, 219, 3, IMG_SUBSAMP_420, &odd) == 0);
    CHECK(encode_card(101, 77, 1, IMG_SUBSAMP_444, &grey) == 0);
    CHECK(encode_card(250, 131, 3, IMG_SUBSAMP_422, &s422) == 0);
    const bytebuf *all[] = {&lv, &odd, &grey, &s422};
    static const int scales[] = {1, 2, 4, 8};
    for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
        for (size_t s = 0; s < 4; s++) {
            int worst = regions_at_scale(all[j], scales[s]);
            if (worst != 0) fprintf(stderr, "image %zu scale %d: largest difference %d\n", j, scales[s], worst);
            CHECK(worst >= 0 && worst <= 1);
        }
    bytebuf_free(&lv);
    bytebuf_free(&odd);
    bytebuf_free(&grey);
    bytebuf_free(&s422);
    render_free(r);
    scene_free(sc);
}

TEST(region_fractions_land_on_whole_pixels)
{
    /* k / W * W is a hair below k for many k (k = 15 of 22, 13 of 23...):
     * the region still starts at pixel k and is as wide as asked */
    bytebuf b = BYTEBUF_INIT;
    CHECK(encode_card(1056, 704, 1, IMG_SUBSAMP_444, &b) == 0);
    img_image full;
    CHECK(img_jpeg_decode(b.data, b.len, 1, 1, &full) == 0);
    int checked = 0;
    for (int k = 1; k < 1000; k += 37) {
        int x = k, y = (k * 7) % 600;
        img_region reg = {x / 1056.0, y / 704.0, 50 / 1056.0, 30 / 704.0};
        CHECK_EQ_INT(region_vs_crop(&b, &full, reg, 1, x, y, 50, 30), 0);
        checked++;
    }
    /* a window of 100 px centred the way callers write it */
    CHECK_EQ_INT(region_vs_crop(&b, &full, (img_region){0.5 - 50.0 / 1056, 0.5 - 50.0 / 704, 100.0 / 1056, 100.0 / 704},
                                1, 478, 302, 100, 100), 0);
    CHECK(checked > 20);
    img_image_free(&full);
    bytebuf_free(&b);
}

/* ---- DCT coefficients ---------------------------------------------------------------- */

TEST(dct_block_grid)
{
    scene *sc;
    renderer *r = make(&sc);
    bytebuf lv = BYTEBUF_INIT, odd = BYTEBUF_INIT, grey = BYTEBUF_INIT;
    CHECK(frame(r, 0, 1, &lv) == 0);
    CHECK(encode_card(333, 219, 3, IMG_SUBSAMP_420, &odd) == 0);
    CHECK(encode_card(101, 77, 1, IMG_SUBSAMP_444, &grey) == 0);
    img_dct_blocks all, part;
    static const img_region whole = {0, 0, 1, 1};
    CHECK(img_jpeg_read_luma_dct(lv.data, lv.len, whole, &all) == 0);
    CHECK_EQ_INT(all.blocks_w, LV_W / 8);
    CHECK_EQ_INT(all.blocks_h, LV_H / 8);
    /* a block-aligned part holds exactly the same blocks as the whole */
    CHECK(img_jpeg_read_luma_dct(lv.data, lv.len,
                                 (img_region){64.0 / LV_W, 40.0 / LV_H, 256.0 / LV_W, 160.0 / LV_H}, &part) == 0);
    CHECK_EQ_INT(part.blocks_w, 32);
    CHECK_EQ_INT(part.blocks_h, 20);
    for (int by = 0; by < 20; by++)
        for (int bx = 0; bx < 32; bx++)
            CHECK(memcmp(part.coef + ((size_t)by * 32 + (size_t)bx) * 64,
                         all.coef + ((size_t)(by + 5) * (size_t)all.blocks_w + (size_t)(bx + 8)) * 64,
                         64 * sizeof(int32_t)) == 0);
    img_dct_blocks_free(&part);
    img_dct_blocks_free(&all);
    /* sizes that are not multiples of 8 (nor of the 16-pixel MCU): rounded up */
    CHECK(img_jpeg_read_luma_dct(odd.data, odd.len, whole, &all) == 0);
    CHECK_EQ_INT(all.blocks_w, (333 + 7) / 8);
    CHECK_EQ_INT(all.blocks_h, (219 + 7) / 8);
    img_dct_blocks_free(&all);
    CHECK(img_jpeg_read_luma_dct(grey.data, grey.len, whole, &all) == 0);
    CHECK_EQ_INT(all.blocks_w, (101 + 7) / 8);
    CHECK_EQ_INT(all.blocks_h, (77 + 7) / 8);
    img_dct_blocks_free(&all);
    /* only whole blocks: 20 px from x = 3 cover one (8..15); 6 px from x = 1 none */
    CHECK(img_jpeg_read_luma_dct(lv.data, lv.len, (img_region){3.0 / LV_W, 0, 20.0 / LV_W, 0.5}, &part) == 0);
    CHECK_EQ_INT(part.blocks_w, 1);
    img_dct_blocks_free(&part);
    CHECK(img_jpeg_read_luma_dct(lv.data, lv.len, (img_region){1.0 / LV_W, 0, 6.0 / LV_W, 0.5}, &part) == -1);
    CHECK(part.coef == NULL);
    bytebuf_free(&lv);
    bytebuf_free(&odd);
    bytebuf_free(&grey);
    render_free(r);
    scene_free(sc);
}

TEST(dct_of_flat_grey)
{
    /* a flat image: every block's DC is 8 * (v - 128) (to one
     * quantisation step) and every AC term is 0; grey and colour JPEGs */
    static const int levels[] = {200, 128, 37};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        for (int channels = 1; channels <= 3; channels += 2) {
            int w = 72, h = 40;
            uint8_t px[72 * 40 * 3];
            memset(px, levels[i], sizeof px);
            img_jpeg_params p = {.width = w, .height = h, .channels = channels, .quality = 90,
                                 .subsampling = IMG_SUBSAMP_420};
            bytebuf b = BYTEBUF_INIT;
            CHECK(img_jpeg_encode(&p, px, (size_t)w * (size_t)channels, &b) == 0);
            img_dct_blocks d;
            CHECK(img_jpeg_read_luma_dct(b.data, b.len, (img_region){0, 0, 1, 1}, &d) == 0);
            CHECK_EQ_INT(d.blocks_w, 9);
            CHECK_EQ_INT(d.blocks_h, 5);
            for (int k = 0; k < d.blocks_w * d.blocks_h; k++) {
                CHECK_NEAR(d.coef[(size_t)k * 64], 8 * (levels[i] - 128), 3); /* q90: DC step 3 */
                for (int j = 1; j < 64; j++) CHECK_EQ_INT(d.coef[(size_t)k * 64 + (size_t)j], 0);
            }
            CHECK_NEAR(img_focus_dct(&d), 0, 1e-12);
            img_dct_blocks_free(&d);
            bytebuf_free(&b);
        }
}

TEST(dct_measure_sharp_above_blurred)
{
    scene *sc;
    renderer *r = make(&sc);
    bytebuf b = BYTEBUF_INIT;
    double v[3];
    static const double steps[] = {0, 15, 40};
    for (int i = 0; i < 3; i++) {
        img_dct_blocks d;
        CHECK(frame(r, steps[i], 1, &b) == 0);
        CHECK(img_jpeg_read_luma_dct(b.data, b.len, centre, &d) == 0);
        v[i] = img_focus_dct(&d);
        img_dct_blocks_free(&d);
    }
    fprintf(stderr, "dct at 0, 15, 40 steps: %.4g %.4g %.4g\n", v[0], v[1], v[2]);
    CHECK(v[0] > 1.5 * v[1]);
    CHECK(v[1] > 2 * v[2]);
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
}

/* ---- bad input ----------------------------------------------------------------------- */

/* Both readers refuse this input (and leave their output empty). */
static int refused(const uint8_t *data, size_t len, img_region reg)
{
    img_image g = {.width = 99};
    img_dct_blocks d = {.blocks_w = 99};
    int rg = img_jpeg_decode_gray_region(data, len, reg, 1, &g);
    int rd = img_jpeg_read_luma_dct(data, len, reg, &d);
    int ok = rg == -1 && rd == -1 && g.pixels == NULL && g.width == 0 && d.coef == NULL && d.blocks_w == 0;
    if (rg == 0) img_image_free(&g);
    if (rd == 0) img_dct_blocks_free(&d);
    return ok;
}

TEST(bad_input_is_refused)
{
    scene *sc;
    renderer *r = make(&sc);
    bytebuf b = BYTEBUF_INIT;
    CHECK(frame(r, 0, 1, &b) == 0);
    /* empty, garbage, a JPEG start followed by garbage */
    static const uint8_t none[1] = {0};
    CHECK(refused(none, 0, centre));
    CHECK(refused(NULL, 0, centre));
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 131 + (i >> 3) * 7 + 11);
    CHECK(refused(junk, sizeof junk, centre));
    junk[0] = 0xFF, junk[1] = 0xD8;
    CHECK(refused(junk, sizeof junk, centre));
    /* the real frame's headers, then garbage where the scan should be */
    memcpy(junk, b.data, 600);
    CHECK(refused(junk, sizeof junk, centre));
    /* cut frames: in the headers, before the region, inside it */
    static const double cuts[] = {0.001, 0.004, 0.1, 0.3, 0.5};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        CHECK(refused(b.data, (size_t)((double)b.len * cuts[i]), centre));
    /* regions outside the frame, empty, negative or not numbers */
    static const img_region bad[] = {
        {1.2, 0.2, 0.1, 0.1}, {0.2, 1.0, 0.1, 0.1}, {-0.5, 0.2, 0.4, 0.1}, {0.2, -0.3, 0.1, 0.3},
        {0.2, 0.2, 0, 0.1},   {0.2, 0.2, 0.1, 0},   {0.2, 0.2, -0.1, 0.1}, {NAN, 0.2, 0.1, 0.1},
        {0.2, 0.2, NAN, 0.1}, {INFINITY, 0, 1, 1},  {-INFINITY, 0, INFINITY, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(refused(b.data, b.len, bad[i]));
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
}

TEST(cut_frame_after_the_region_still_reads)
{
    /* the region decoder stops after the region's last row, so a frame cut
     * further down (or with junk after EOI) gives the region unchanged */
    scene *sc;
    renderer *r = make(&sc);
    bytebuf b = BYTEBUF_INIT;
    CHECK(frame(r, 0, 1, &b) == 0);
    static const img_region top = {0.25, 0.02, 0.5, 0.15};
    img_image whole, cut;
    CHECK(img_jpeg_decode_gray_region(b.data, b.len, top, 1, &whole) == 0);
    CHECK(img_jpeg_decode_gray_region(b.data, b.len * 3 / 4, top, 1, &cut) == 0);
    CHECK_EQ_INT(cut.width, whole.width);
    CHECK_EQ_INT(cut.height, whole.height);
    CHECK(memcmp(cut.pixels, whole.pixels, (size_t)whole.width * (size_t)whole.height) == 0);
    img_image_free(&cut);
    static const uint8_t tail[] = {0x00, 0x13, 0xFF, 0xFF, 0x42};
    bytebuf_put(&b, tail, sizeof tail);
    CHECK(img_jpeg_decode_gray_region(b.data, b.len, top, 1, &cut) == 0);
    CHECK(memcmp(cut.pixels, whole.pixels, (size_t)whole.width * (size_t)whole.height) == 0);
    img_image_free(&cut);
    img_dct_blocks d;
    CHECK(img_jpeg_read_luma_dct(b.data, b.len, top, &d) == 0);
    img_dct_blocks_free(&d);
    img_image_free(&whole);
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
}

/* An image of w x h filled by (x, y) -> value. */
static img_image make_image(int w, int h, int channels)
{
    img_image g = {.width = w, .height = h, .channels = channels};
    g.pixels = malloc((size_t)w * (size_t)h * (size_t)channels + 1);
    for (size_t i = 0; i < (size_t)w * (size_t)h * (size_t)channels; i++)
        g.pixels[i] = (uint8_t)((i * 37 + (i / (size_t)w) * 11) & 0xFF);
    return g;
}

TEST(too_small_or_wrong_images_give_minus_one)
{
    img_image g;
    /* tenengrad needs 3x3 after binning; lapv 3x3; the median 5x5 */
    g = make_image(2, 40, 1);
    CHECK(img_focus_tenengrad(&g, 1) == -1);
    CHECK(img_focus_lapv(&g) == -1);
    CHECK(img_focus_median_residual(&g) == -1);
    img_image_free(&g);
    g = make_image(5, 5, 1);
    CHECK(img_focus_tenengrad(&g, 1) >= 0);
    CHECK(img_focus_tenengrad(&g, 2) == -1);
    CHECK(img_focus_lapv(&g) >= 0);
    CHECK(img_focus_median_residual(&g) >= 0);
    img_image_free(&g);
    g = make_image(4, 4, 1);
    CHECK(img_focus_median_residual(&g) == -1);
    img_image_free(&g);
    g = make_image(23, 30, 1);
    CHECK(img_focus_tenengrad(&g, 8) == -1); /* 2 x 3 after binning */
    CHECK(img_focus_tenengrad(&g, 7) >= 0);  /* 3 x 4 */
    CHECK(img_focus_tenengrad(&g, 0) == -1);
    CHECK(img_focus_tenengrad(&g, -2) == -1);
    img_image out = {.width = 7};
    CHECK(img_focus_bin(&g, 8, &out) == -1);
    CHECK(out.pixels == NULL && out.width == 0);
    img_image_free(&g);
    /* colour, empty, NULL */
    g = make_image(40, 40, 3);
    CHECK(img_focus_tenengrad(&g, 2) == -1);
    CHECK(img_focus_lapv(&g) == -1);
    CHECK(img_focus_median_residual(&g) == -1);
    img_image_free(&g);
    img_image empty = {0};
    CHECK(img_focus_tenengrad(&empty, 2) == -1);
    CHECK(img_focus_lapv(&empty) == -1);
    CHECK(img_focus_median_residual(&empty) == -1);
    CHECK(img_focus_mean(&empty) == -1);
    CHECK(img_focus_tenengrad(NULL, 2) == -1);
    CHECK(img_focus_lapv(NULL) == -1);
    CHECK(img_focus_median_residual(NULL) == -1);
    CHECK(img_focus_mean(NULL) == -1);
    CHECK(img_focus_change(NULL, NULL) == -1);
    img_dct_blocks none = {0};
    CHECK(img_focus_dct(&none) == -1);
    CHECK(img_focus_dct(NULL) == -1);
    /* a tiny JPEG decodes, but its region is too small to measure */
    bytebuf b = BYTEBUF_INIT;
    CHECK(encode_card(16, 16, 1, IMG_SUBSAMP_444, &b) == 0);
    CHECK(img_jpeg_decode_gray_region(b.data, b.len, (img_region){0, 0, 1, 1}, 8, &g) == 0);
    CHECK_EQ_INT(g.width, 2);
    CHECK(img_focus_tenengrad(&g, 1) == -1);
    CHECK(img_focus_lapv(&g) == -1);
    CHECK(img_focus_median_residual(&g) == -1);
    img_image_free(&g);
    bytebuf_free(&b);
}

TEST(flat_and_black_images)
{
    /* nothing to focus on is 0, and a black frame is not infinitely sharp */
    for (int level = 0; level <= 255; level += 85) {
        img_image g = make_image(40, 30, 1);
        memset(g.pixels, level, 40 * 30);
        CHECK_NEAR(img_focus_tenengrad(&g, 1), 0, 1e-12);
        CHECK_NEAR(img_focus_tenengrad(&g, 2), 0, 1e-12);
        CHECK_NEAR(img_focus_lapv(&g), 0, 1e-12);
        CHECK_NEAR(img_focus_median_residual(&g), 0, 1e-12);
        CHECK_NEAR(img_focus_mean(&g), level, 1e-9);
        img_image_free(&g);
    }
    img_image g = make_image(40, 30, 1);
    for (size_t i = 0; i < 40 * 30; i++) g.pixels[i] = (uint8_t)(g.pixels[i] & 1); /* near black noise */
    double t = img_focus_tenengrad(&g, 1), l = img_focus_lapv(&g);
    CHECK(isfinite(t) && t >= 0 && isfinite(l) && l >= 0);
    img_image_free(&g);
}

TEST(bin_averages_blocks)
{
    img_image g = make_image(9, 10, 1), out;
    CHECK(img_focus_bin(&g, 3, &out) == 0);
    CHECK_EQ_INT(out.width, 3);
    CHECK_EQ_INT(out.height, 3); /* the last row is dropped */
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++) {
            int s = 0;
            for (int dy = 0; dy < 3; dy++)
                for (int dx = 0; dx < 3; dx++) s += g.pixels[(size_t)(y * 3 + dy) * 9 + (size_t)(x * 3 + dx)];
            CHECK_NEAR(out.pixels[y * 3 + x], s / 9.0, 0.5 + 1e-6);
        }
    img_image_free(&out);
    img_image_free(&g);
}

TEST(change_ignores_brightness)
{
    scene *sc;
    renderer *r = make(&sc);
    bytebuf b = BYTEBUF_INIT;
    img_image sharp, blurred, scaled, small;
    CHECK(frame(r, 0, 1, &b) == 0);
    CHECK(img_jpeg_decode(b.data, b.len, 1, 4, &sharp) == 0);
    CHECK(frame(r, 40, 1, &b) == 0);
    CHECK(img_jpeg_decode(b.data, b.len, 1, 4, &blurred) == 0);
    CHECK(img_jpeg_decode(b.data, b.len, 1, 8, &small) == 0);
    /* the same picture at 70% brightness (rounded, as a sensor would) */
    scaled = make_image(sharp.width, sharp.height, 1);
    for (size_t i = 0; i < (size_t)sharp.width * (size_t)sharp.height; i++)
        scaled.pixels[i] = (uint8_t)(sharp.pixels[i] * 0.7 + 0.5);
    CHECK(img_focus_change(&sharp, &sharp) == 0);
    double c_scaled = img_focus_change(&sharp, &scaled);
    double c_blur = img_focus_change(&sharp, &blurred);
    fprintf(stderr, "change: scaled copy %.3f, defocused 40 steps %.3f\n", c_scaled, c_blur);
    CHECK(c_scaled >= 0 && c_scaled < 0.6);
    CHECK(c_blur > 4 * c_scaled);
    CHECK(img_focus_change(&sharp, &small) == -1);
    img_image_free(&sharp);
    img_image_free(&blurred);
    img_image_free(&scaled);
    img_image_free(&small);
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
}

TESTS(HARNESS_ENTRY(measures_fall_with_defocus), HARNESS_ENTRY(measures_fall_with_defocus_magnified),
      HARNESS_ENTRY(brightness_normalised_measures), HARNESS_ENTRY(region_decode_is_the_crop_of_a_full_decode),
      HARNESS_ENTRY(region_fractions_land_on_whole_pixels), HARNESS_ENTRY(dct_block_grid),
      HARNESS_ENTRY(dct_of_flat_grey), HARNESS_ENTRY(dct_measure_sharp_above_blurred),
      HARNESS_ENTRY(bad_input_is_refused), HARNESS_ENTRY(cut_frame_after_the_region_still_reads),
      HARNESS_ENTRY(too_small_or_wrong_images_give_minus_one), HARNESS_ENTRY(flat_and_black_images),
      HARNESS_ENTRY(bin_averages_blocks), HARNESS_ENTRY(change_ignores_brightness))
