/*
 * test_v4l2: the V4L2 backend's frame checks and MJPEG completion
 * (lib/backends/v4l2/mjpeg.c): a libjpeg-turbo JPEG (which uses the
 * standard Huffman tables) with its DHT segments removed, as a UVC camera
 * sends it, gets tables back that are byte for byte the ones libjpeg
 * wrote, and decodes to the same pixels; frames cut short, without SOI or
 * tiny are refused; malformed segments are reported, never read past.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "backends/v4l2/mjpeg.h"
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

TESTS(HARNESS_ENTRY(completion_restores_the_standard_tables), HARNESS_ENTRY(a_frame_with_tables_is_copied_untouched),
      HARNESS_ENTRY(bad_frames_are_refused), HARNESS_ENTRY(malformed_segments_are_reported))
