/*
 * test_v4l2: the V4L2 backend's frame checks and MJPEG completion
 * (lib/backends/v4l2/mjpeg.c): a libjpeg-turbo JPEG (which uses the
 * standard Huffman tables) with its DHT segments removed, as a UVC camera
 * sends it, gets tables back that are byte for byte the ones libjpeg
 * wrote, and decodes to the same pixels; frames cut short, without SOI or
 * tiny are refused; malformed segments are reported, never read past.
 * Raw frames (lib/backends/v4l2/raw.c): RGB3 and BGR3 of one picture
 * encode to JPEGs that decode to that picture (red and blue in place),
 * YU12 and NV12 likewise, and frames shorter than their size are refused.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "backends/v4l2/mjpeg.h"
#include "backends/v4l2/raw.h"
#include "base/blob.h"
#include "base/bytebuf.h"
#include "image/jpeg.h"

/* A 64x48 test JPEG with a gradient into out. */
static void make_jpeg(bytebuf *out)
{
    uint8_t px[64 * 48 * 3];
    for (int i = 0; i < 64 * 48; i++) {
        px[3 * i] = (uint8_t)(i * 7);
        px[3 * i + 1] = (uint8_t)(i / 64 * 5);
        px[3 * i + 2] = (uint8_t)(i % 64 * 3);
    }
    img_jpeg_params p = {.width = 64, .height = 48, .channels = 3, .quality = 80, .subsampling = IMG_SUBSAMP_422};
    CHECK(img_jpeg_encode(&p, px, 64 * 3, out) == 0);
}

/* Copies the JPEG without its DHT segments into out; the tables' bytes
 * (each segment without marker and length) into tables. */
static void strip_dht(const bytebuf *in, bytebuf *out, bytebuf *tables)
{
    size_t i = 2;
    bytebuf_put(out, in->data, 2);
    while (i + 4 <= in->len && in->data[i + 1] != 0xDA) {
        size_t seg = 2 + ((size_t)in->data[i + 2] << 8 | in->data[i + 3]);
        if (in->data[i + 1] == 0xC4) bytebuf_put(tables, in->data + i + 4, seg - 4);
        else bytebuf_put(out, in->data + i, seg);
        i += seg;
    }
    bytebuf_put(out, in->data + i, in->len - i);
}

TEST(completion_restores_the_standard_tables)
{
    bytebuf orig, stripped, tables, done;
    bytebuf_init(&orig), bytebuf_init(&stripped), bytebuf_init(&tables), bytebuf_init(&done);
    make_jpeg(&orig);
    strip_dht(&orig, &stripped, &tables);
    CHECK(tables.len > 0);
    CHECK(stripped.len < orig.len);
    CHECK_EQ_INT(v4l2_mjpeg_complete(stripped.data, stripped.len, &done), 1);
    /* the inserted segment holds the same four tables libjpeg wrote */
    const uint8_t *dht = memmem(done.data, done.len, "\xff\xc4", 2);
    CHECK(dht != NULL);
    size_t seg = (size_t)dht[2] << 8 | dht[3];
    CHECK_EQ_INT((int)(seg - 2), (int)tables.len);
    /* the same tables, maybe in another order: each of libjpeg's is in ours */
    for (size_t t = 0; t + 17 <= tables.len;) {
        size_t n = 17;
        for (int k = 1; k <= 16; k++) n += tables.data[t + (size_t)k];
        CHECK(t + n <= tables.len);
        CHECK(memmem(dht + 4, seg - 2, tables.data + t, n) != NULL);
        t += n;
    }
    img_image a = {0}, b = {0};
    CHECK(img_jpeg_decode(orig.data, orig.len, 3, 1, &a) == 0);
    CHECK(img_jpeg_decode(done.data, done.len, 3, 1, &b) == 0);
    CHECK(a.width == b.width && a.height == b.height);
    CHECK(memcmp(a.pixels, b.pixels, (size_t)a.width * (size_t)a.height * 3) == 0);
    img_image_free(&a), img_image_free(&b);
    bytebuf_free(&orig), bytebuf_free(&stripped), bytebuf_free(&tables), bytebuf_free(&done);
}

TEST(a_frame_with_tables_is_copied_untouched)
{
    bytebuf orig, done;
    bytebuf_init(&orig), bytebuf_init(&done);
    make_jpeg(&orig);
    CHECK_EQ_INT(v4l2_mjpeg_complete(orig.data, orig.len, &done), 0);
    CHECK(done.len == orig.len && memcmp(done.data, orig.data, orig.len) == 0);
    bytebuf_free(&orig), bytebuf_free(&done);
}

TEST(bad_frames_are_refused)
{
    bytebuf orig;
    bytebuf_init(&orig);
    make_jpeg(&orig);
    const char *why = NULL;
    CHECK(v4l2_mjpeg_frame_ok(orig.data, orig.len, &why));
    CHECK(!v4l2_mjpeg_frame_ok(orig.data, orig.len / 2, &why));
    CHECK(strstr(why, "EOI") != NULL);
    CHECK(!v4l2_mjpeg_frame_ok(orig.data, 100, &why));
    CHECK(strstr(why, "short") != NULL);
    CHECK(!v4l2_mjpeg_frame_ok(orig.data + 1, orig.len - 1, &why));
    CHECK(!v4l2_mjpeg_frame_ok(NULL, 0, NULL));
    /* zero padding after EOI is accepted */
    bytebuf padded;
    bytebuf_init(&padded);
    bytebuf_put(&padded, orig.data, orig.len);
    bytebuf_put(&padded, "\0\0\0\0", 4);
    CHECK(v4l2_mjpeg_frame_ok(padded.data, padded.len, NULL));
    bytebuf_free(&padded);
    bytebuf_free(&orig);
}

TEST(malformed_segments_are_reported)
{
    bytebuf out;
    bytebuf_init(&out);
    static const uint8_t overlong[] = {0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0x00};
    CHECK_EQ_INT(v4l2_mjpeg_complete(overlong, sizeof overlong, &out), -1);
    static const uint8_t no_marker[] = {0xFF, 0xD8, 0x12, 0x34, 0x56, 0x78};
    CHECK_EQ_INT(v4l2_mjpeg_complete(no_marker, sizeof no_marker, &out), -1);
    static const uint8_t eoi_first[] = {0xFF, 0xD8, 0xFF, 0xD9, 0x00, 0x00};
    CHECK_EQ_INT(v4l2_mjpeg_complete(eoi_first, sizeof eoi_first, &out), -1);
    CHECK_EQ_INT((int)out.len, 0);
    bytebuf_free(&out);
}

/* The mean absolute difference between the decoded JPEG j (RGB) and the
 * w x h RGB picture want; -1 if it does not decode at that size. */
static double rgb_error(const blob *j, const uint8_t *want, int w, int h)
{
    img_image img;
    if (j == NULL || img_jpeg_decode(j->data, j->len, 3, 1, &img) != 0) return -1;
    double sum = -1;
    if (img.width == w && img.height == h) {
        sum = 0;
        for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) sum += abs((int)img.pixels[i] - (int)want[i]);
        sum /= (double)w * h * 3;
    }
    img_image_free(&img);
    return sum;
}

/* A w x h picture: red left, blue right, a green band across the middle. */
static void make_rgb(uint8_t *px, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            bool band = y >= h / 3 && y < 2 * h / 3;
            p[0] = band ? 20 : x < w / 2 ? 220 : 30;
            p[1] = band ? 200 : 40;
            p[2] = band ? 20 : x < w / 2 ? 30 : 230;
        }
}

TEST(rgb_frames_encode_with_red_and_blue_in_place)
{
    enum { W = 64, H = 48 };
    static uint8_t rgb[W * H * 3], bgr[W * H * 3];
    make_rgb(rgb, W, H);
    for (int i = 0; i < W * H; i++) {
        bgr[3 * i] = rgb[3 * i + 2];
        bgr[3 * i + 1] = rgb[3 * i + 1];
        bgr[3 * i + 2] = rgb[3 * i];
    }
    CHECK(v4l2_raw_known(V4L2_PIX_FMT_RGB24) && v4l2_raw_known(V4L2_PIX_FMT_BGR24));
    CHECK_EQ_INT((int)v4l2_raw_frame_bytes(V4L2_PIX_FMT_RGB24, W, H), W * H * 3);
    blob *a = v4l2_raw_to_jpeg(V4L2_PIX_FMT_RGB24, W, H, rgb, sizeof rgb, 90);
    blob *b = v4l2_raw_to_jpeg(V4L2_PIX_FMT_BGR24, W, H, bgr, sizeof bgr, 90);
    double ea = rgb_error(a, rgb, W, H), eb = rgb_error(b, rgb, W, H);
    CHECK(ea >= 0 && ea < 8);
    CHECK(eb >= 0 && eb < 8);
    /* a BGR frame read as RGB would be far off: the check can tell */
    blob *wrong = v4l2_raw_to_jpeg(V4L2_PIX_FMT_RGB24, W, H, bgr, sizeof bgr, 90);
    CHECK(rgb_error(wrong, rgb, W, H) > 40);
    CHECK(v4l2_raw_to_jpeg(V4L2_PIX_FMT_RGB24, W, H, rgb, sizeof rgb - 1, 90) == NULL);
    CHECK(v4l2_raw_to_jpeg(V4L2_PIX_FMT_RGB24, 1, 1, rgb, sizeof rgb, 90) == NULL);
    CHECK(v4l2_raw_to_jpeg(V4L2_PIX_FMT_YUYV, W, H, rgb, sizeof rgb, 90) == NULL);
    blob_unref(a);
    blob_unref(b);
    blob_unref(wrong);
}

TEST(planar_frames_encode_to_their_picture)
{
    enum { W = 64, H = 48 };
    /* mid grey luma with a bright left half; chroma neutral but for a
     * Cr-heavy (red) top half */
    static uint8_t yu12[W * H * 3 / 2], nv12[W * H * 3 / 2];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) yu12[y * W + x] = x < W / 2 ? 200 : 80;
    uint8_t *cb = yu12 + W * H, *cr = cb + (W / 2) * (H / 2), *uv = nv12 + W * H;
    memcpy(nv12, yu12, W * H);
    for (int y = 0; y < H / 2; y++)
        for (int x = 0; x < W / 2; x++) {
            int i = y * (W / 2) + x;
            cb[i] = 128;
            cr[i] = y < H / 4 ? 200 : 128;
            uv[2 * i] = cb[i];
            uv[2 * i + 1] = cr[i];
        }
    blob *a = v4l2_raw_to_jpeg(V4L2_PIX_FMT_YUV420, W, H, yu12, sizeof yu12, 90);
    blob *b = v4l2_raw_to_jpeg(V4L2_PIX_FMT_NV12, W, H, nv12, sizeof nv12, 90);
    CHECK(a != NULL && b != NULL);
    img_image ia, ib;
    CHECK(a && img_jpeg_decode(a->data, a->len, 3, 1, &ia) == 0);
    CHECK(b && img_jpeg_decode(b->data, b->len, 3, 1, &ib) == 0);
    if (a && b) {
        CHECK_EQ_INT(ia.width, W);
        CHECK_EQ_INT(ib.height, H);
        /* the same picture both ways; red where Cr is high */
        double d = 0;
        for (size_t i = 0; i < (size_t)W * H * 3; i++) d += abs((int)ia.pixels[i] - (int)ib.pixels[i]);
        CHECK(d / (W * H * 3) < 1);
        const uint8_t *top = ia.pixels + ((size_t)4 * W + 40) * 3, *bottom = ia.pixels + ((size_t)40 * W + 40) * 3;
        CHECK(top[0] > top[2] + 60);
        CHECK(abs((int)bottom[0] - (int)bottom[2]) < 12);
        img_image_free(&ia);
        img_image_free(&ib);
    }
    CHECK(v4l2_raw_to_jpeg(V4L2_PIX_FMT_NV12, W, H, nv12, sizeof nv12 - 1, 90) == NULL);
    blob_unref(a);
    blob_unref(b);
}

TESTS(HARNESS_ENTRY(completion_restores_the_standard_tables), HARNESS_ENTRY(a_frame_with_tables_is_copied_untouched),
      HARNESS_ENTRY(bad_frames_are_refused), HARNESS_ENTRY(malformed_segments_are_reported),
      HARNESS_ENTRY(rgb_frames_encode_with_red_and_blue_in_place), HARNESS_ENTRY(planar_frames_encode_to_their_picture))
