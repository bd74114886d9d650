/*
 * exif: see exif.h.
 *
 * gexiv2 edits metadata of an image, so each build opens a tiny grey JPEG
 * (encoded once, at init) from memory, sets the tags, and asks gexiv2 for
 * the encoded EXIF block (gexiv2_metadata_get_exif_data).  That block is a
 * self-contained little-endian TIFF structure, which is both what goes after
 * "Exif\0\0" in a JPEG APP1 segment and the start of a TIFF-based RAW file.
 */
#include "exif.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <gexiv2/gexiv2.h>

#include "base/log.h"
#include "image/jpeg.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bytebuf carrier = BYTEBUF_INIT; /* tiny JPEG that gexiv2 can open */
static int init_result = -1;

static void do_init(void)
{
    if (!gexiv2_initialize()) {
        LOG_ERROR("exif", "gexiv2_initialize failed");
        return;
    }
    uint8_t grey[8 * 8];
    memset(grey, 128, sizeof grey);
    img_jpeg_params p = {.width = 8, .height = 8, .channels = 1, .quality = 50};
    if (img_jpeg_encode(&p, grey, 8, &carrier) != 0) return;
    init_result = 0;
}

int img_exif_global_init(void)
{
    pthread_once(&init_once, do_init);
    return init_result;
}

void img_exif_exposure_rational(double seconds, int *num, int *den)
{
    if (seconds <= 0) {
        *num = 0;
        *den = 1;
    } else if (seconds < 0.29) {
        *num = 1;
        *den = (int)lround(1.0 / seconds);
    } else {
        *num = (int)lround(seconds * 10.0);
        *den = 10;
        if (*num % 10 == 0) {
            *num /= 10;
            *den = 1;
        }
    }
}

static int set_string(GExiv2Metadata *md, const char *tag, const char *value)
{
    if (value == NULL || value[0] == '\0') return 0;
    GError *err = NULL;
    if (!gexiv2_metadata_try_set_tag_string(md, tag, value, &err)) {
        LOG_ERROR("exif", "cannot set %s: %s", tag, err ? err->message : "?");
        g_clear_error(&err);
        return -1;
    }
    return 0;
}

/* Numbers are set as text: Exiv2 then gives a new tag the type the EXIF
 * standard names for it (SHORT for Orientation, unsigned RATIONAL for
 * ExposureTime), as a camera writes them; gexiv2's typed setters would
 * write signed LONG and SRATIONAL. */
static int set_number(GExiv2Metadata *md, const char *tag, long value)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", value);
    return set_string(md, tag, text);
}

static int set_rational(GExiv2Metadata *md, const char *tag, int num, int den)
{
    char text[32];
    snprintf(text, sizeof text, "%d/%d", num, den);
    return set_string(md, tag, text);
}

int img_exif_build_tiff(const img_exif_fields *f, bytebuf *out)
{
    if (img_exif_global_init() != 0) return -1;
    GExiv2Metadata *md = gexiv2_metadata_new();
    GError *err = NULL;
    int rc = -1;
    if (!gexiv2_metadata_open_buf(md, carrier.data, (glong)carrier.len, &err)) {
        LOG_ERROR("exif", "open carrier: %s", err ? err->message : "?");
        g_clear_error(&err);
        goto done;
    }
    int bad = 0;
    bad |= set_string(md, "Exif.Image.Make", f->make);
    bad |= set_string(md, "Exif.Image.Model", f->model);
    bad |= set_string(md, "Exif.Image.DateTime", f->datetime);
    bad |= set_string(md, "Exif.Image.Software", f->software);
    bad |= set_number(md, "Exif.Image.Orientation", 1);
    /* the tags the EXIF standard requires in a JPEG's EXIF */
    bad |= set_rational(md, "Exif.Image.XResolution", 72, 1);
    bad |= set_rational(md, "Exif.Image.YResolution", 72, 1);
    bad |= set_number(md, "Exif.Image.ResolutionUnit", 2); /* inches */
    bad |= set_number(md, "Exif.Image.YCbCrPositioning", 2); /* co-sited, as cameras write */
    bad |= set_string(md, "Exif.Photo.ExifVersion", "48 50 51 48"); /* "0230" */
    bad |= set_string(md, "Exif.Photo.ComponentsConfiguration", "1 2 3 0"); /* Y Cb Cr */
    bad |= set_string(md, "Exif.Photo.FlashpixVersion", "48 49 48 48"); /* "0100" */
    bad |= set_number(md, "Exif.Photo.ColorSpace", 1); /* sRGB */
    bad |= set_string(md, "Exif.Photo.DateTimeOriginal", f->datetime);
    bad |= set_string(md, "Exif.Photo.DateTimeDigitized", f->datetime);
    bad |= set_string(md, "Exif.Photo.LensModel", f->lens_model);
    bad |= set_string(md, "Exif.Photo.BodySerialNumber", f->body_serial);
    bad |= set_string(md, "Exif.Photo.ImageUniqueID", f->unique_id);
    if (f->iso > 0) {
        bad |= set_number(md, "Exif.Photo.ISOSpeedRatings", f->iso);
        bad |= set_number(md, "Exif.Photo.SensitivityType", 3); /* ISO speed */
        bad |= set_number(md, "Exif.Photo.ISOSpeed", f->iso);
    }
    if (f->fnumber > 0) bad |= set_rational(md, "Exif.Photo.FNumber", (int)lround(f->fnumber * 10), 10);
    if (f->exposure_s > 0) {
        int num, den;
        img_exif_exposure_rational(f->exposure_s, &num, &den);
        bad |= set_rational(md, "Exif.Photo.ExposureTime", num, den);
    }
    if (f->focal_mm > 0) bad |= set_rational(md, "Exif.Photo.FocalLength", (int)lround(f->focal_mm * 10), 10);
    if (f->width > 0 && f->height > 0) {
        bad |= set_number(md, "Exif.Photo.PixelXDimension", f->width);
        bad |= set_number(md, "Exif.Photo.PixelYDimension", f->height);
    }
    if (bad) goto done;

    GBytes *bytes = gexiv2_metadata_get_exif_data(md, GEXIV2_BYTE_ORDER_LITTLE, &err);
    if (bytes == NULL) {
        LOG_ERROR("exif", "encode: %s", err ? err->message : "?");
        g_clear_error(&err);
        goto done;
    }
    gsize n = 0;
    const void *data = g_bytes_get_data(bytes, &n);
    bytebuf_put(out, data, n);
    g_bytes_unref(bytes);
    rc = bytebuf_ok(out) ? 0 : -1;
done:
    g_object_unref(md);
    return rc;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32_at(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* One 12-byte IFD entry holding a single SHORT (type 3) or LONG (type 4). */
static void put_ifd_entry(bytebuf *b, uint16_t tag, uint16_t type, uint32_t value)
{
    uint8_t e[12] = {(uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)type, 0, 1, 0, 0, 0};
    put_le32_at(e + 8, type == 3 ? (value & 0xffff) : value);
    bytebuf_put(b, e, sizeof e);
}

int img_exif_build_raw_head(const img_exif_fields *f, size_t preview_len, bytebuf *out)
{
    size_t start = out->len;
    if (preview_len > UINT32_MAX / 2 || img_exif_build_tiff(f, out) != 0) {
        out->len = start;
        return -1;
    }
    /* gexiv2 wrote "II*\0", IFD0's offset, then the IFDs: IFD0 ends with
     * the offset of the next IFD, 0 as no thumbnail was set */
    uint8_t *t = out->data + start;
    size_t tlen = out->len - start;
    uint32_t ifd0 = tlen >= 8 ? get_le32(t + 4) : 0;
    if (tlen < 8 || memcmp(t, "II*\0", 4) != 0 || ifd0 + 2 > tlen) goto bad;
    size_t n0 = (size_t)t[ifd0] | (size_t)t[ifd0 + 1] << 8;
    size_t next_at = ifd0 + 2 + 12 * n0;
    if (next_at + 4 > tlen || get_le32(t + next_at) != 0) goto bad;
    if (tlen % 2) bytebuf_put_u8(out, 0); /* IFDs start on a word boundary */
    size_t ifd1 = out->len - start;
    static const int entries = 4;
    size_t head_len = ifd1 + 2 + 12 * entries + 4;
    bytebuf_put_u8(out, (uint8_t)entries);
    bytebuf_put_u8(out, 0);
    put_ifd_entry(out, 0x00FE, 4, 1);                   /* NewSubfileType: reduced resolution */
    put_ifd_entry(out, 0x0103, 3, 6);                   /* Compression: JPEG */
    put_ifd_entry(out, 0x0201, 4, (uint32_t)head_len);  /* JPEGInterchangeFormat: right after this head */
    put_ifd_entry(out, 0x0202, 4, (uint32_t)preview_len); /* JPEGInterchangeFormatLength */
    bytebuf_put_u32le(out, 0);                          /* no further IFD */
    if (!bytebuf_ok(out) || out->len - start != head_len) goto bad;
    put_le32_at(out->data + start + next_at, (uint32_t)ifd1); /* IFD0 -> IFD1 (out may have moved) */
    return 0;
bad:
    LOG_ERROR("exif", "the TIFF from gexiv2 is not laid out as expected: no RAW head");
    out->len = start;
    return -1;
}

int img_exif_build_app1(const img_exif_fields *f, bytebuf *out)
{
    size_t start = out->len;
    bytebuf_put(out, "Exif\0\0", 6);
    if (img_exif_build_tiff(f, out) != 0 || out->len - start > 65533) {
        out->len = start;
        return -1;
    }
    return 0;
}
