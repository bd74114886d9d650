/*
 * analysis: what the studio shows about a photo: a thumbnail, luminance
 * and RGB histograms with clipping, and an EXIF summary.  Pure functions
 * over JPEG bytes (decoding scaled down by libjpeg-turbo's DCT scaling, so
 * an 18-megapixel file costs a fraction of a full decode); any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

/* Appends a JPEG thumbnail at most max_side pixels on its long side.
 * Returns 0 or -1 (not a decodable JPEG). */
int img_thumbnail(const uint8_t *jpeg, size_t len, int max_side, bytebuf *out);

typedef struct img_histogram {
    uint32_t luma[256], red[256], green[256], blue[256];
    uint64_t pixels;
    double shadows_clipped;      /* % of pixels with a channel at <= 2 */
    double highlights_clipped;   /* % of pixels with a channel at >= 253 */
    double mean_luma;
    int width, height;           /* of the photo */
} img_histogram;

/* Histograms of the photo (sampled at 1/4 scale).  Returns 0 or -1. */
int img_histogram_compute(const uint8_t *jpeg, size_t len, img_histogram *h);

typedef struct img_exif_summary {
    char make[64], model[64], lens[96], datetime[32];
    int iso;
    double fnumber, exposure_s, focal_mm;
    char exposure[32];           /* "1/250" */
    double latitude, longitude;  /* NAN if none */
} img_exif_summary;

/* Appends the largest JPEG preview embedded in a photo's file (a RAW's
 * full-size preview: CR2, NEF, ARW, DNG and the other formats Exiv2
 * reads) to out, with its size in *width and *height (may be NULL).
 * Returns 0, or -1 if the data holds no JPEG preview. */
int img_raw_preview(const uint8_t *data, size_t len, bytebuf *out, int *width, int *height);

/* Reads the EXIF summary of a JPEG (fields it lacks stay empty/0).
 * Returns 0, or -1 if the data has no readable metadata. */
int img_exif_read_summary(const uint8_t *data, size_t len, img_exif_summary *s);
