/*
 * tag: writes who, where and what into photos ("tagging"): GPS position,
 * artist, copyright, keywords, the session's name and a caption, with
 * gexiv2 (Exiv2).
 *
 * Where the values go:
 *   - JPEG files get them embedded: the EXIF GPS IFD (GPSVersionID 2.3,
 *     GPSLatitudeRef/GPSLatitude and GPSLongitudeRef/GPSLongitude as three
 *     rationals deg/1 min/1 sec*10000/10000, GPSAltitudeRef/GPSAltitude in
 *     centimetres), Exif.Image.Artist, Exif.Image.Copyright and
 *     Exif.Image.ImageDescription (caption), and XMP: dc:creator, dc:rights,
 *     dc:subject (keywords, a bag), dc:description (caption) and
 *     photoshop:TransmissionReference (the session); and their IPTC-IIM
 *     copies for readers that know only IIM (Keywords, By-line,
 *     CopyrightNotice, Caption-Abstract, OriginalTransmissionReference,
 *     cut to IIM's byte limits at a character boundary, the record marked
 *     UTF-8).
 *   - Culling (stars, reject, a colour label) goes to XMP only, in the
 *     JPEG or the sidecar: xmp:Rating and xmp:Label.
 *   - RAW files (.cr2, .cr3, .nef, .arw, .dng, .raf, .orf, .rw2, ...) are
 *     never touched: the values go into an XMP sidecar, NAME.xmp next to
 *     NAME.CR2, as exif:GPSLatitude/GPSLongitude ("DD,MM.mmmmmmmN", the
 *     XMP form of GPS coordinates), exif:GPSAltitude(Ref), exif:GPSVersionID
 *     and the same dc: and photoshop: properties as above.  An existing
 *     sidecar is updated, keeping what else it holds.
 *
 * The session goes into photoshop:TransmissionReference, which IPTC Core
 * calls "Job Identifier" ("a number or identifier for the purpose of
 * improved workflow handling"); exiftool shows it as TransmissionReference.
 *
 * A killed process never leaves a half-written photo or sidecar: the file
 * is copied to a temporary in the same folder (store/atomic.h), the copy
 * is tagged, flushed and renamed over the original.
 *
 * Values left empty (no GPS, empty strings, no keywords) are not written,
 * and whatever the file held for them stays.
 *
 * Thread safety: every function may be called from any thread; two
 * threads must not tag the same file at the same time.  gexiv2 is
 * initialised on first use (img_exif_global_init).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum {
    IMG_TAG_TEXT_MAX = 256,      /* artist, copyright: bytes with the NUL */
    IMG_TAG_CAPTION_MAX = 1024,
    IMG_TAG_SESSION_MAX = 128,
    IMG_TAG_KEYWORD_MAX = 64,    /* one keyword, bytes with the NUL */
    IMG_TAG_KEYWORDS_MAX = 32,   /* keywords per photo */
};

typedef struct img_tags {
    bool has_gps;
    double latitude;             /* decimal degrees, -90..90, north positive */
    double longitude;            /* decimal degrees, -180..180, east positive */
    bool has_altitude;           /* only with has_gps */
    double altitude_m;           /* metres above sea level (negative: below) */
    char artist[IMG_TAG_TEXT_MAX];
    char copyright[IMG_TAG_TEXT_MAX];
    char session[IMG_TAG_SESSION_MAX];
    char caption[IMG_TAG_CAPTION_MAX];
    int n_keywords;
    char keywords[IMG_TAG_KEYWORDS_MAX][IMG_TAG_KEYWORD_MAX];
    /* culling, as Lightroom, Bridge and darktable read it: xmp:Rating
     * (0..5 stars, -1 rejected) and xmp:Label (a colour's name, "" none);
     * written only with has_cull, and then both (a 0 or "" clears) */
    bool has_cull;
    int rating;
    char label[16];
} img_tags;

/* How a file is tagged. */
typedef enum img_tag_kind {
    IMG_TAG_UNSUPPORTED = 0,     /* neither a JPEG nor a known RAW format */
    IMG_TAG_EMBEDDED,            /* JPEG: written into the file */
    IMG_TAG_SIDECAR,             /* RAW: written into NAME.xmp */
} img_tag_kind;

/* Does t hold anything to write (GPS, a string or a keyword)? */
bool img_tags_empty(const img_tags *t);

/* Checks t: latitude -90..90, longitude -180..180, altitude -12000..100000
 * m, all finite; strings valid UTF-8 without control characters and
 * shorter than their buffers; keywords 1..63 bytes each, at most
 * IMG_TAG_KEYWORDS_MAX.  Returns true, or false with a one-line reason
 * in err (which may be NULL). */
bool img_tags_validate(const img_tags *t, char *err, size_t errsz);

/* Is label one of the colour labels img_tags.label takes ("" for none,
 * "Red", "Yellow", "Green", "Blue", "Purple": Lightroom's names)? */
bool img_tag_label_ok(const char *label);

/* Parses "LAT,LON" or "LAT,LON,ALT" (decimal degrees, metres) into t's
 * GPS fields.  Returns false, t unchanged, when malformed or out of range. */
bool img_tags_parse_gps(const char *text, img_tags *t);

/* Adds the comma-separated keywords of text to t (spaces around each are
 * trimmed, empty ones dropped, duplicates kept once).  Returns false, with
 * t's keywords as they were before, when one is too long, there are too
 * many or one holds a control character. */
bool img_tags_add_keywords(const char *text, img_tags *t);

/* The kind of tagging for path, from its extension (.jpg/.jpeg: embedded;
 * .cr2, .cr3, .crw, .nef, .nrw, .arw, .srf, .sr2, .dng, .raf, .orf, .rw2,
 * .pef, .srw, .x3f, .3fr, .iiq, .erf, .mrw, .kdc, .dcr, .rwl, .raw:
 * sidecar; case-insensitive). */
img_tag_kind img_tag_kind_of(const char *path);

/* The sidecar's path for a RAW file: "dir/IMG_0001.CR2" -> "dir/IMG_0001.xmp".
 * Returns false if it does not fit in size. */
bool img_tag_sidecar_path(const char *path, char *out, size_t size);

/* Writes t into the file at path (JPEG) or its sidecar (RAW), atomically.
 * written (may be NULL) gets the path of the file written.  Returns 0
 * (TETHER_OK), or a negative tether_err with a reason in err (may be NULL):
 * TETHER_ERR_INVALID_ARGUMENT (t is not valid, or empty),
 * TETHER_ERR_NOT_SUPPORTED (not a JPEG or a RAW file), TETHER_ERR_NOT_FOUND
 * (no such file), TETHER_ERR_IO (cannot read, write or parse the file: the
 * original is unchanged). */
int img_tag_file(const char *path, const img_tags *t, char *written, size_t writtensz, char *err,
                 size_t errsz);

/* Reads back what img_tag_file writes, from path (JPEG: EXIF for the GPS
 * position, artist and copyright, XMP for the rest) or from its sidecar
 * (RAW).  Fields that are absent stay empty in *out.  Returns 0 or a
 * negative tether_err (TETHER_ERR_NOT_FOUND: no file or no sidecar,
 * TETHER_ERR_NOT_SUPPORTED, TETHER_ERR_IO). */
int img_tag_read(const char *path, img_tags *out);
