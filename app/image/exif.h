/*
 * exif: builds the EXIF block a camera writes into its files, with gexiv2
 * (Exiv2).  The simulators use it to stamp the settings of each shot into
 * the JPEG (as an APP1 segment) and into RAW files (as the TIFF header).
 *
 * Thread safety: img_exif_global_init must run once before other calls
 * (it is idempotent and thread-safe); after that any thread may build
 * blocks concurrently.  Errors: functions return 0, or -1 with a message in
 * the log.
 */
#pragma once

#include "base/bytebuf.h"

typedef struct img_exif_fields {
    const char *make;             /* "Canon" */
    const char *model;            /* "Canon EOS 550D" */
    const char *datetime;         /* "YYYY:MM:DD HH:MM:SS" (capture time) */
    const char *lens_model;       /* "EF-S18-55mm f/3.5-5.6 IS" */
    const char *body_serial;
    const char *unique_id;        /* ImageUniqueID, 32 hex digits; may be NULL */
    const char *software;         /* firmware string; may be NULL */
    int iso;                      /* 0: not written */
    double fnumber;               /* 0: not written */
    double exposure_s;            /* 0: not written */
    double focal_mm;              /* 0: not written */
    int width;                    /* PixelXDimension; 0: not written */
    int height;
} img_exif_fields;

/* Initialises gexiv2 once per process. Returns 0 or -1. */
int img_exif_global_init(void);

/* Appends the EXIF data as a little-endian TIFF structure ("II*\0", IFD0
 * with the Exif sub-IFD) to out: a valid TIFF file by itself. */
int img_exif_build_tiff(const img_exif_fields *f, bytebuf *out);

/* Appends the head of a TIFF-based RAW file whose embedded JPEG preview
 * (preview_len bytes) follows the head directly, as a camera writes one:
 * the TIFF structure of img_exif_build_tiff, whose IFD0 is followed by an
 * IFD1 saying "reduced-resolution image, JPEG, at offset <head's length>,
 * preview_len bytes" (what Exiv2 and every RAW reader list as the file's
 * preview).  The head's length is known only from out afterwards.
 * Returns 0 or -1 (out as it was). */
int img_exif_build_raw_head(const img_exif_fields *f, size_t preview_len, bytebuf *out);

/* Appends the APP1 payload for a JPEG: "Exif\0\0" followed by the TIFF
 * structure.  Fails if it would exceed 65533 bytes. */
int img_exif_build_app1(const img_exif_fields *f, bytebuf *out);

/* The EXIF rational for an exposure time: 1/250 s -> 1/250, 0.3 s -> 3/10,
 * 2 s -> 2/1, 1.5 s -> 15/10. */
void img_exif_exposure_rational(double seconds, int *num, int *den);
