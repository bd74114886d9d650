/*
 * analysis: see analysis.h.
 */
#include "analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gexiv2/gexiv2.h>

#include "exif.h"
#include "image/jpeg.h"

int img_thumbnail(const uint8_t *jpeg, size_t len, int max_side, bytebuf *out)
{
    int w, h;
    if (img_jpeg_size(jpeg, len, &w, &h) != 0 || max_side < 16) return -1;
    int scale = 1;
    while (scale < 8 && (w / (scale * 2) >= max_side || h / (scale * 2) >= max_side)) scale *= 2;
    img_image img;
    if (img_jpeg_decode(jpeg, len, 3, scale, &img) != 0) return -1;
    int long_side = img.width > img.height ? img.width : img.height;
    int tw = img.width, th = img.height;
    if (long_side > max_side) {
        tw = (int)((long)img.width * max_side / long_side);
        th = (int)((long)img.height * max_side / long_side);
        if (tw < 1) tw = 1;
        if (th < 1) th = 1;
    }
    uint8_t *small = malloc((size_t)tw * (size_t)th * 3);
    if (small == NULL) {
        img_image_free(&img);
        return -1;
    }
    for (int y = 0; y < th; y++) {
        int y0 = y * img.height / th, y1 = (y + 1) * img.height / th;
        for (int x = 0; x < tw; x++) {
            int x0 = x * img.width / tw, x1 = (x + 1) * img.width / tw;
            unsigned sum[3] = {0, 0, 0}, n = 0;
            for (int yy = y0; yy < (y1 > y0 ? y1 : y0 + 1); yy++)
                for (int xx = x0; xx < (x1 > x0 ? x1 : x0 + 1); xx++, n++)
                    for (int c = 0; c < 3; c++) sum[c] += img.pixels[((size_t)yy * (size_t)img.width + (size_t)xx) * 3 + (size_t)c];
            for (int c = 0; c < 3; c++) small[((size_t)y * (size_t)tw + (size_t)x) * 3 + (size_t)c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    }
    img_jpeg_params p = {.width = tw, .height = th, .channels = 3, .quality = 82, .subsampling = IMG_SUBSAMP_420};
    int rc = img_jpeg_encode(&p, small, (size_t)tw * 3, out);
    free(small);
    img_image_free(&img);
    return rc;
}

int img_histogram_compute(const uint8_t *jpeg, size_t len, img_histogram *h)
{
    memset(h, 0, sizeof *h);
    if (img_jpeg_size(jpeg, len, &h->width, &h->height) != 0) return -1;
    int scale = h->width >= 1600 ? 4 : h->width >= 800 ? 2 : 1;
    img_image img;
    if (img_jpeg_decode(jpeg, len, 3, scale, &img) != 0) return -1;
    uint64_t lo = 0, hi = 0;
    double lsum = 0;
    size_t n = (size_t)img.width * (size_t)img.height;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = img.pixels + 3 * i;
        int l = (p[0] * 77 + p[1] * 150 + p[2] * 29 + 128) >> 8;
        h->red[p[0]]++, h->green[p[1]]++, h->blue[p[2]]++, h->luma[l]++;
        lsum += l;
        if (p[0] <= 2 || p[1] <= 2 || p[2] <= 2) lo++;
        if (p[0] >= 253 || p[1] >= 253 || p[2] >= 253) hi++;
    }
    h->pixels = n;
    h->shadows_clipped = n ? 100.0 * (double)lo / (double)n : 0;
    h->highlights_clipped = n ? 100.0 * (double)hi / (double)n : 0;
    h->mean_luma = n ? lsum / (double)n : 0;
    img_image_free(&img);
    return 0;
}

static void tag(GExiv2Metadata *md, const char *name, char *out, size_t size)
{
    gchar *v = gexiv2_metadata_try_get_tag_string(md, name, NULL);
    snprintf(out, size, "%s", v ? v : "");
    g_free(v);
}

static double rational(GExiv2Metadata *md, const char *name)
{
    gint n = 0, d = 0;
    if (!gexiv2_metadata_try_get_exif_tag_rational(md, name, &n, &d, NULL) || d == 0) return 0;
    return (double)n / d;
}

int img_raw_preview(const uint8_t *data, size_t len, bytebuf *out, int *width, int *height)
{
    if (img_exif_global_init() != 0 || len > (size_t)G_MAXLONG) return -1;
    GExiv2Metadata *md = gexiv2_metadata_new();
    if (!gexiv2_metadata_open_buf(md, data, (glong)len, NULL)) {
        g_object_unref(md);
        return -1;
    }
    GExiv2PreviewProperties **props = gexiv2_metadata_get_preview_properties(md); /* md's */
    GExiv2PreviewProperties *best = NULL;
    uint64_t best_area = 0;
    for (int i = 0; props && props[i]; i++) {
        const gchar *mime = gexiv2_preview_properties_get_mime_type(props[i]);
        uint64_t area = (uint64_t)gexiv2_preview_properties_get_width(props[i]) *
                        gexiv2_preview_properties_get_height(props[i]);
        if (area == 0) area = gexiv2_preview_properties_get_size(props[i]); /* a size to rank by */
        if (mime && strcmp(mime, "image/jpeg") == 0 && (best == NULL || area > best_area)) best = props[i], best_area = area;
    }
    int rc = -1;
    GExiv2PreviewImage *img = best ? gexiv2_metadata_try_get_preview_image(md, best, NULL) : NULL;
    guint32 n = 0;
    const guint8 *bytes = img ? gexiv2_preview_image_get_data(img, &n) : NULL;
    int w = 0, h = 0;
    if (bytes && n > 0 && img_jpeg_size(bytes, n, &w, &h) == 0) { /* what Exiv2 found must be a JPEG */
        size_t start = out->len;
        bytebuf_put(out, bytes, n);
        if (bytebuf_ok(out)) rc = 0;
        else out->len = start;
    }
    if (rc == 0 && width) *width = w;
    if (rc == 0 && height) *height = h;
    if (img) g_object_unref(img);
    g_object_unref(md);
    return rc;
}

int img_exif_read_summary(const uint8_t *data, size_t len, img_exif_summary *s)
{
    memset(s, 0, sizeof *s);
    s->latitude = s->longitude = NAN;
    if (img_exif_global_init() != 0) return -1;
    GExiv2Metadata *md = gexiv2_metadata_new();
    if (!gexiv2_metadata_open_buf(md, data, (glong)len, NULL)) {
        g_object_unref(md);
        return -1;
    }
    tag(md, "Exif.Image.Make", s->make, sizeof s->make);
    tag(md, "Exif.Image.Model", s->model, sizeof s->model);
    tag(md, "Exif.Photo.LensModel", s->lens, sizeof s->lens);
    tag(md, "Exif.Photo.DateTimeOriginal", s->datetime, sizeof s->datetime);
    s->iso = (int)gexiv2_metadata_try_get_tag_long(md, "Exif.Photo.ISOSpeedRatings", NULL);
    s->fnumber = rational(md, "Exif.Photo.FNumber");
    s->exposure_s = rational(md, "Exif.Photo.ExposureTime");
    s->focal_mm = rational(md, "Exif.Photo.FocalLength");
    gint n = 0, d = 0;
    if (gexiv2_metadata_try_get_exif_tag_rational(md, "Exif.Photo.ExposureTime", &n, &d, NULL) && d) {
        if (n == 1) snprintf(s->exposure, sizeof s->exposure, "1/%d", d);
        else snprintf(s->exposure, sizeof s->exposure, "%g", (double)n / d);
    }
    gdouble lat, lon, alt;
    if (gexiv2_metadata_try_get_gps_info(md, &lon, &lat, &alt, NULL)) {
        s->latitude = lat;
        s->longitude = lon;
    }
    g_object_unref(md);
    return 0;
}
