/*
 * Unit tests for lib/image: JPEG encode/decode (including raw Y'CbCr and
 * 2x upscaling), the Gaussian blur, and EXIF blocks read back with gexiv2.
 */
#include "harness.h"

#include <gexiv2/gexiv2.h>
#include <math.h>

#include "image/analysis.h"
#include "image/blur.h"
#include "image/exif.h"
#include "image/jpeg.h"
#include "image/yuv.h"

static void pattern(uint8_t *rgb, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            p[0] = (uint8_t)(x * 255 / w);
            p[1] = (uint8_t)(y * 255 / h);
            p[2] = ((x / 8 + y / 8) & 1) ? 220 : 30;
        }
}

TEST(rgb_roundtrip)
{
    int w = 100, h = 60;
    uint8_t rgb[100 * 60 * 3];
    pattern(rgb, w, h);
    bytebuf b = BYTEBUF_INIT;
    img_jpeg_params p = {.width = w, .height = h, .channels = 3, .quality = 90};
    CHECK(img_jpeg_encode(&p, rgb, (size_t)w * 3, &b) == 0);
    int ww, hh;
    CHECK(img_jpeg_size(b.data, b.len, &ww, &hh) == 0);
    CHECK_EQ_INT(ww, w);
    CHECK_EQ_INT(hh, h);
    img_image img;
    CHECK(img_jpeg_decode(b.data, b.len, 3, 1, &img) == 0);
    long err = 0;
    for (int i = 0; i < w * h * 3; i++) err += labs((long)img.pixels[i] - rgb[i]);
    CHECK(err / (w * h * 3) < 12);
    img_image_free(&img);
    bytebuf_free(&b);
}

TEST(yuv_encode_and_upscale)
{
    int w = 70, h = 46; /* not multiples of 16 */
    uint8_t rgb[70 * 46 * 3];
    pattern(rgb, w, h);
    img_yuv420 y;
    CHECK(img_yuv420_alloc(&y, w, h) == 0);
    img_yuv420_from_rgb(&y, rgb, (size_t)w * 3);
    img_jpeg_params p = {.quality = 85};
    for (int scale = 1; scale <= 2; scale++) {
        bytebuf b = BYTEBUF_INIT;
        CHECK(img_jpeg_encode_yuv420(&p, &y, scale, &b) == 0);
        img_image img;
        CHECK(img_jpeg_decode(b.data, b.len, 3, 1, &img) == 0);
        CHECK_EQ_INT(img.width, w * scale);
        CHECK_EQ_INT(img.height, h * scale);
        /* the colour of a pixel survives (allowing for chroma and JPEG) */
        const uint8_t *src = rgb + 3 * (20 * (size_t)w + 30);
        const uint8_t *got = img.pixels + 3 * ((size_t)(20 * scale) * (size_t)img.width + (size_t)(30 * scale));
        for (int c = 0; c < 2; c++) CHECK(abs(got[c] - src[c]) < 40);
        img_image_free(&img);
        bytebuf_free(&b);
    }
    img_yuv420_free(&y);
}

TEST(garbage_is_refused)
{
    uint8_t junk[300];
    for (int i = 0; i < 300; i++) junk[i] = (uint8_t)(i * 37 + 11);
    junk[0] = 0xFF, junk[1] = 0xD8; /* a JPEG start, then nonsense */
    img_image img;
    int w, h;
    CHECK(img_jpeg_decode(junk, sizeof junk, 1, 1, &img) != 0);
    CHECK(img_jpeg_size(junk, 10, &w, &h) != 0);
    CHECK(img_jpeg_decode(junk, 0, 1, 1, &img) != 0);
}

static double variance(const uint8_t *p, int n, double *mean)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += p[i], s2 += (double)p[i] * p[i];
    *mean = s / n;
    return s2 / n - *mean * *mean;
}

TEST(blur_keeps_mean_and_smooths_more_with_sigma)
{
    enum { W = 256, H = 256 };
    static uint8_t src[W * H], dst[W * H];
    uint32_t x = 12345;
    for (int i = 0; i < W * H; i++) {
        x = x * 1664525u + 1013904223u;
        src[i] = (uint8_t)(40 + (x >> 24) % 160);
    }
    double m0, v0 = variance(src, W * H, &m0), last = v0;
    /* across the switch from the exact kernel to the box passes too */
    static const double sigmas[] = {0.5, 1, 2, 3, 3.5, 4, 8, 16};
    for (size_t k = 0; k < sizeof sigmas / sizeof sigmas[0]; k++) {
        CHECK(img_blur_gauss(dst, src, W, H, W, sigmas[k]) == 0);
        double m, v = variance(dst, W * H, &m);
        CHECK(fabs(m - m0) < 1.5);
        CHECK(v < last);
        last = v;
    }
    /* in place */
    memcpy(dst, src, sizeof src);
    CHECK(img_blur_gauss(dst, dst, W, H, W, 5) == 0);
    CHECK(img_blur_gauss(dst, src, W, H, W - 1, 1) != 0);
}

TEST(exif_reads_back)
{
    img_exif_fields f = {.make = "Canon", .model = "Canon EOS 550D", .datetime = "2026:11:22 10:20:30",
                         .lens_model = "EF50mm f/1.8 II", .body_serial = "0123456789",
                         .iso = 400, .fnumber = 5.6, .exposure_s = 1.0 / 250, .focal_mm = 50,
                         .width = 64, .height = 48};
    bytebuf app1 = BYTEBUF_INIT, jpeg = BYTEBUF_INIT;
    CHECK(img_exif_build_app1(&f, &app1) == 0);
    CHECK(memcmp(app1.data, "Exif\0\0II*\0", 10) == 0);
    uint8_t grey[64 * 48];
    memset(grey, 100, sizeof grey);
    img_jpeg_params p = {.width = 64, .height = 48, .channels = 1, .quality = 80,
                         .app1 = app1.data, .app1_len = app1.len};
    CHECK(img_jpeg_encode(&p, grey, 64, &jpeg) == 0);
    GExiv2Metadata *md = gexiv2_metadata_new();
    CHECK(gexiv2_metadata_open_buf(md, jpeg.data, (glong)jpeg.len, NULL));
    char *model = gexiv2_metadata_try_get_tag_string(md, "Exif.Image.Model", NULL);
    CHECK(model && strcmp(model, "Canon EOS 550D") == 0);
    CHECK_EQ_INT(gexiv2_metadata_try_get_tag_long(md, "Exif.Photo.ISOSpeedRatings", NULL), 400);
    gint num = 0, den = 0;
    CHECK(gexiv2_metadata_try_get_exif_tag_rational(md, "Exif.Photo.ExposureTime", &num, &den, NULL));
    CHECK_EQ_INT(num, 1);
    CHECK_EQ_INT(den, 250);
    g_free(model);
    g_object_unref(md);
    bytebuf_free(&app1);
    bytebuf_free(&jpeg);
}

/* A RAW file as the simulator writes one (head, embedded JPEG preview,
 * sensor data): Exiv2 finds the preview and reads the EXIF; a file with
 * no preview, or garbage, gives none. */
TEST(raw_preview_found_by_exiv2)
{
    img_exif_fields f = {.make = "Nikon", .model = "NIKON D750", .datetime = "2026:11:22 10:20:30", .iso = 800,
                         .width = 96, .height = 64};
    uint8_t rgb[96 * 64 * 3];
    pattern(rgb, 96, 64);
    bytebuf preview = BYTEBUF_INIT, file = BYTEBUF_INIT, got = BYTEBUF_INIT;
    img_jpeg_params p = {.width = 96, .height = 64, .channels = 3, .quality = 85};
    CHECK(img_jpeg_encode(&p, rgb, 96 * 3, &preview) == 0);
    CHECK(img_exif_build_raw_head(&f, preview.len, &file) == 0);
    size_t head = file.len;
    bytebuf_put(&file, preview.data, preview.len);
    for (int i = 0; i < 5000; i++) bytebuf_put_u8(&file, (uint8_t)(i * 37)); /* "sensor data" */
    int w = 0, h = 0;
    CHECK(img_raw_preview(file.data, file.len, &got, &w, &h) == 0);
    CHECK_EQ_INT(w, 96);
    CHECK_EQ_INT(h, 64);
    CHECK(got.len == preview.len && memcmp(got.data, preview.data, preview.len) == 0);
    img_exif_summary e;
    CHECK(img_exif_read_summary(file.data, file.len, &e) == 0);
    CHECK(strcmp(e.model, "NIKON D750") == 0 && e.iso == 800);
    /* the head alone (a RAW cut short) has no preview to give */
    bytebuf_reset(&got);
    CHECK(img_raw_preview(file.data, head, &got, NULL, NULL) != 0);
    CHECK(img_raw_preview((const uint8_t *)"not an image at all", 19, &got, NULL, NULL) != 0);
    bytebuf_free(&preview);
    bytebuf_free(&file);
    bytebuf_free(&got);
}

TEST(exposure_rationals)
{
    int n, d;
    img_exif_exposure_rational(1.0 / 4000, &n, &d);
    CHECK(n == 1 && d == 4000);
    img_exif_exposure_rational(0.3, &n, &d);
    CHECK(n == 3 && d == 10);
    img_exif_exposure_rational(30, &n, &d);
    CHECK(n == 30 && d == 1);
    img_exif_exposure_rational(1.3, &n, &d);
    CHECK(n == 13 && d == 10);
}

TESTS(HARNESS_ENTRY(rgb_roundtrip), HARNESS_ENTRY(yuv_encode_and_upscale),
      HARNESS_ENTRY(garbage_is_refused), HARNESS_ENTRY(blur_keeps_mean_and_smooths_more_with_sigma),
      HARNESS_ENTRY(exif_reads_back), HARNESS_ENTRY(raw_preview_found_by_exiv2), HARNESS_ENTRY(exposure_rationals))
