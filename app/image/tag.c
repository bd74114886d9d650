/*
 * tag: see tag.h.
 *
 * A JPEG is tagged on a copy: the original is copied to a temporary file
 * in its folder (store_atomic_begin), gexiv2 opens the copy, sets the
 * tags and saves it in place, the copy is flushed and renamed over the
 * original.  A sidecar is built in memory: the existing NAME.xmp (or an
 * empty XMP packet) is opened from a buffer, the properties are set, and
 * gexiv2 encodes the XMP packet, which is written to a temporary file,
 * flushed and renamed over NAME.xmp.  Exiv2's own sidecar writer is not
 * used, because it converts the old file's XMP to EXIF and back on the
 * way out, which would put back the old position over the new one.
 *
 * GPS precision: EXIF seconds are kept in 1/10000 s of arc (3e-8 degrees),
 * XMP minutes with 6 decimals (2e-8 degrees).
 */
#include "tag.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gexiv2/gexiv2.h>

#include "base/log.h"
#include "store/atomic.h"
#include "exif.h"
#include "tether/errors.h"

static const char empty_xmp[] =
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"tether\">\n"
    " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
    "  <rdf:Description rdf:about=\"\"/>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    "<?xpacket end=\"w\"?>\n";

static const char *const raw_exts[] = {"cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "dng", "raf",
                                       "orf", "rw2", "pef", "srw", "x3f", "3fr", "iiq", "erf", "mrw", "kdc",
                                       "dcr", "rwl", "raw"};

static void say(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errsz, const char *fmt, ...)
{
    if (err == NULL || errsz == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* ---- values ------------------------------------------------------------------ */

bool img_tags_empty(const img_tags *t)
{
    return !t->has_gps && !t->artist[0] && !t->copyright[0] && !t->session[0] && !t->caption[0] &&
           t->n_keywords == 0 && !t->has_cull;
}

/* Valid UTF-8 (no overlongs, no surrogates) without control characters,
 * shorter than max bytes. */
static bool text_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n >= max) return false;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int more;
        uint32_t cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return false;
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) more = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) more = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) more = 3, cp = c & 0x07;
        else return false;
        p++;
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        if (cp >= 0x80 && cp < 0xa0) return false; /* C1 controls */
    }
    return true;
}

bool img_tags_validate(const img_tags *t, char *err, size_t errsz)
{
    if (t->has_gps) {
        if (!isfinite(t->latitude) || t->latitude < -90 || t->latitude > 90) {
            say(err, errsz, "latitude must be -90 to 90 degrees (south negative)");
            return false;
        }
        if (!isfinite(t->longitude) || t->longitude < -180 || t->longitude > 180) {
            say(err, errsz, "longitude must be -180 to 180 degrees (west negative)");
            return false;
        }
        if (t->has_altitude && (!isfinite(t->altitude_m) || t->altitude_m < -12000 || t->altitude_m > 100000)) {
            say(err, errsz, "altitude must be -12000 to 100000 metres");
            return false;
        }
    } else if (t->has_altitude) {
        say(err, errsz, "an altitude needs a latitude and a longitude");
        return false;
    }
    const struct {
        const char *name, *value;
        size_t max;
    } texts[] = {{"artist", t->artist, sizeof t->artist},
                 {"copyright", t->copyright, sizeof t->copyright},
                 {"session", t->session, sizeof t->session},
                 {"caption", t->caption, sizeof t->caption}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (!text_ok(texts[i].value, texts[i].max)) {
            say(err, errsz, "%s must be UTF-8 text of at most %zu bytes without control characters", texts[i].name,
                texts[i].max - 1);
            return false;
        }
    }
    if (t->n_keywords < 0 || t->n_keywords > IMG_TAG_KEYWORDS_MAX) {
        say(err, errsz, "at most %d keywords", IMG_TAG_KEYWORDS_MAX);
        return false;
    }
    for (int i = 0; i < t->n_keywords; i++) {
        if (t->keywords[i][0] == '\0' || !text_ok(t->keywords[i], sizeof t->keywords[i])) {
            say(err, errsz, "keyword %d must be UTF-8 text of 1 to %d bytes without control characters", i + 1,
                IMG_TAG_KEYWORD_MAX - 1);
            return false;
        }
    }
    if (t->has_cull && (t->rating < -1 || t->rating > 5)) {
        say(err, errsz, "a rating is 0 to 5 stars, or -1 for a rejected photo");
        return false;
    }
    if (t->has_cull && !img_tag_label_ok(t->label)) {
        say(err, errsz, "a label is one of Red, Yellow, Green, Blue, Purple, or none");
        return false;
    }
    return true;
}

bool img_tag_label_ok(const char *label)
{
    static const char *const names[] = {"", "Red", "Yellow", "Green", "Blue", "Purple"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(label, names[i]) == 0) return true;
    return false;
}

static bool parse_number(const char *s, size_t len, double *out)
{
    char buf[64];
    while (len > 0 && (*s == ' ' || *s == '\t')) s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

bool img_tags_parse_gps(const char *text, img_tags *t)
{
    double v[3];
    int n = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 3 || !parse_number(p, len, &v[n])) return false;
        n++;
        if (comma == NULL) break;
        p = comma + 1;
    }
    if (n < 2) return false;
    img_tags c = *t;
    c.has_gps = true;
    c.latitude = v[0];
    c.longitude = v[1];
    c.has_altitude = n == 3;
    c.altitude_m = n == 3 ? v[2] : 0;
    c.artist[0] = c.copyright[0] = c.session[0] = c.caption[0] = '\0';
    c.n_keywords = 0;
    if (!img_tags_validate(&c, NULL, 0)) return false;
    t->has_gps = true;
    t->latitude = c.latitude;
    t->longitude = c.longitude;
    t->has_altitude = c.has_altitude;
    t->altitude_m = c.altitude_m;
    return true;
}

bool img_tags_add_keywords(const char *text, img_tags *t)
{
    int n0 = t->n_keywords;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *s = p;
        while (len > 0 && *s == ' ') s++, len--;
        while (len > 0 && s[len - 1] == ' ') len--;
        if (len > 0) {
            if (len >= IMG_TAG_KEYWORD_MAX || t->n_keywords >= IMG_TAG_KEYWORDS_MAX) {
                t->n_keywords = n0;
                return false;
            }
            char k[IMG_TAG_KEYWORD_MAX];
            memcpy(k, s, len);
            k[len] = '\0';
            if (!text_ok(k, sizeof k)) {
                t->n_keywords = n0;
                return false;
            }
            bool dup = false;
            for (int i = 0; i < t->n_keywords && !dup; i++) dup = strcmp(t->keywords[i], k) == 0;
            if (!dup) memcpy(t->keywords[t->n_keywords++], k, len + 1);
        }
        if (comma == NULL) break;
        p = comma + 1;
    }
    return true;
}

img_tag_kind img_tag_kind_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (dot == NULL || dot[1] == '\0') return IMG_TAG_UNSUPPORTED;
    const char *ext = dot + 1;
    if (strcasecmp(ext, "jpg") == 0 || strcasecmp(ext, "jpeg") == 0) return IMG_TAG_EMBEDDED;
    for (size_t i = 0; i < sizeof raw_exts / sizeof raw_exts[0]; i++)
        if (strcasecmp(ext, raw_exts[i]) == 0) return IMG_TAG_SIDECAR;
    return IMG_TAG_UNSUPPORTED;
}

bool img_tag_sidecar_path(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    size_t base = dot ? (size_t)(dot - path) : strlen(path);
    return snprintf(out, size, "%.*s.xmp", (int)base, path) < (int)size;
}

/* ---- GPS numbers in EXIF and XMP forms ------------------------------------- */

/* |deg| as "D/1 M/1 S/10000" (seconds in 1/10000). */
static void exif_dms(double deg, char *out, size_t size)
{
    long long units = llround(fabs(deg) * 3600.0 * 10000.0); /* 1/10000 s of arc */
    long long d = units / 36000000, rem = units % 36000000;
    snprintf(out, size, "%lld/1 %lld/1 %lld/10000", d, rem / 600000, rem % 600000);
}

/* |deg| as XMP's "DDD,MM.mmmmmmR". */
static void xmp_coord(double deg, char pos, char neg, char *out, size_t size)
{
    long long um = llround(fabs(deg) * 60.0 * 1e6); /* millionths of a minute */
    long long d = um / 60000000, rem = um % 60000000;
    snprintf(out, size, "%lld,%02lld.%06lld%c", d, rem / 1000000, rem % 1000000, deg < 0 ? neg : pos);
}

/* "a/b c/d e/f" -> degrees; false if malformed. */
static bool parse_dms(const char *s, double *out)
{
    double v[3];
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        char *end;
        long long num = strtoll(p, &end, 10);
        if (end == p || *end != '/') return false;
        p = end + 1;
        long long den = strtoll(p, &end, 10);
        if (end == p || den == 0) return false;
        v[i] = (double)num / (double)den;
        p = end;
        while (*p == ' ') p++;
    }
    *out = v[0] + v[1] / 60.0 + v[2] / 3600.0;
    return true;
}

/* "DDD,MM.mmmmR" or "DDD,MM,SSR" -> signed degrees. */
static bool parse_xmp_coord(const char *s, double *out)
{
    size_t n = strlen(s);
    if (n < 4) return false;
    char ref = s[n - 1];
    double sign = ref == 'S' || ref == 'W' ? -1 : 1;
    if (ref != 'N' && ref != 'S' && ref != 'E' && ref != 'W') return false;
    char *end;
    double d = strtod(s, &end);
    if (*end != ',') return false;
    double m = strtod(end + 1, &end);
    double sec = 0;
    if (*end == ',') sec = strtod(end + 1, &end);
    if (end != s + n - 1) return false;
    *out = sign * (d + m / 60.0 + sec / 3600.0);
    return true;
}

static bool parse_rational(const char *s, double *out)
{
    char *end;
    double num = strtod(s, &end);
    if (end == s) return false;
    double den = 1;
    if (*end == '/') {
        den = strtod(end + 1, &end);
        if (den == 0) return false;
    }
    *out = num / den;
    return true;
}

/* ---- gexiv2 ------------------------------------------------------------------ */

static bool set_string(GExiv2Metadata *md, const char *tag, const char *value, char *err, size_t errsz)
{
    GError *ge = NULL;
    if (gexiv2_metadata_try_set_tag_string(md, tag, value, &ge)) return true;
    say(err, errsz, "cannot set %s: %s", tag, ge ? ge->message : "?");
    g_clear_error(&ge);
    return false;
}

static bool set_list(GExiv2Metadata *md, const char *tag, const char *const *values, char *err, size_t errsz)
{
    GError *ge = NULL;
    gexiv2_metadata_try_clear_tag(md, tag, NULL);
    if (gexiv2_metadata_try_set_tag_multiple(md, tag, (const gchar **)values, &ge)) return true;
    say(err, errsz, "cannot set %s: %s", tag, ge ? ge->message : "?");
    g_clear_error(&ge);
    return false;
}

/* The XMP properties shared by JPEG files and sidecars. */
static bool set_xmp_common(GExiv2Metadata *md, const img_tags *t, char *err, size_t errsz)
{
    bool ok = true;
    if (t->artist[0]) {
        const char *v[] = {t->artist, NULL};
        ok = ok && set_list(md, "Xmp.dc.creator", v, err, errsz);
    }
    if (t->copyright[0]) ok = ok && set_string(md, "Xmp.dc.rights", t->copyright, err, errsz);
    if (t->caption[0]) ok = ok && set_string(md, "Xmp.dc.description", t->caption, err, errsz);
    if (t->session[0]) ok = ok && set_string(md, "Xmp.photoshop.TransmissionReference", t->session, err, errsz);
    if (t->n_keywords > 0) {
        const char *v[IMG_TAG_KEYWORDS_MAX + 1];
        for (int i = 0; i < t->n_keywords; i++) v[i] = t->keywords[i];
        v[t->n_keywords] = NULL;
        ok = ok && set_list(md, "Xmp.dc.subject", v, err, errsz);
    }
    if (t->has_cull) {
        char stars[8];
        snprintf(stars, sizeof stars, "%d", t->rating);
        ok = ok && set_string(md, "Xmp.xmp.Rating", stars, err, errsz);
        if (t->label[0]) ok = ok && set_string(md, "Xmp.xmp.Label", t->label, err, errsz);
        else gexiv2_metadata_try_clear_tag(md, "Xmp.xmp.Label", NULL);
    }
    return ok;
}

/* Copies text into out, cut to at most max bytes at a UTF-8 character
 * boundary (IPTC-IIM's fields have byte limits). */
static const char *iim_text(const char *text, size_t max, char *out, size_t size)
{
    size_t n = strlen(text);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--; /* text[n] starts a character */
    }
    if (n >= size) n = size - 1;
    memcpy(out, text, n);
    out[n] = 0;
    return out;
}

/* The IPTC-IIM copies of the XMP properties, for readers that only know
 * IIM; the values are cut to IIM's byte limits (the XMP keeps them
 * whole), and the record is marked UTF-8. */
static bool set_iptc(GExiv2Metadata *md, const img_tags *t, char *err, size_t errsz)
{
    char v[2048];
    bool ok = set_string(md, "Iptc.Envelope.CharacterSet", "\033%G", err, errsz);
    if (t->artist[0]) ok = ok && set_string(md, "Iptc.Application2.Byline", iim_text(t->artist, 32, v, sizeof v), err, errsz);
    if (t->copyright[0])
        ok = ok && set_string(md, "Iptc.Application2.Copyright", iim_text(t->copyright, 128, v, sizeof v), err, errsz);
    if (t->caption[0])
        ok = ok && set_string(md, "Iptc.Application2.Caption", iim_text(t->caption, 2000, v, sizeof v), err, errsz);
    if (t->session[0])
        ok = ok && set_string(md, "Iptc.Application2.TransmissionReference", iim_text(t->session, 32, v, sizeof v), err,
                              errsz);
    if (t->n_keywords > 0) {
        char cut[IMG_TAG_KEYWORDS_MAX][65];
        const char *list[IMG_TAG_KEYWORDS_MAX + 1];
        for (int i = 0; i < t->n_keywords; i++) list[i] = iim_text(t->keywords[i], 64, cut[i], sizeof cut[i]);
        list[t->n_keywords] = NULL;
        ok = ok && set_list(md, "Iptc.Application2.Keywords", list, err, errsz);
    }
    return ok;
}

static bool set_jpeg_tags(GExiv2Metadata *md, const img_tags *t, char *err, size_t errsz)
{
    bool ok = true;
    if (t->has_gps) {
        char v[96];
        ok = ok && set_string(md, "Exif.GPSInfo.GPSVersionID", "2 3 0 0", err, errsz);
        ok = ok && set_string(md, "Exif.GPSInfo.GPSLatitudeRef", t->latitude < 0 ? "S" : "N", err, errsz);
        exif_dms(t->latitude, v, sizeof v);
        ok = ok && set_string(md, "Exif.GPSInfo.GPSLatitude", v, err, errsz);
        ok = ok && set_string(md, "Exif.GPSInfo.GPSLongitudeRef", t->longitude < 0 ? "W" : "E", err, errsz);
        exif_dms(t->longitude, v, sizeof v);
        ok = ok && set_string(md, "Exif.GPSInfo.GPSLongitude", v, err, errsz);
        ok = ok && set_string(md, "Exif.GPSInfo.GPSMapDatum", "WGS-84", err, errsz);
        if (t->has_altitude) {
            ok = ok && set_string(md, "Exif.GPSInfo.GPSAltitudeRef", t->altitude_m < 0 ? "1" : "0", err, errsz);
            snprintf(v, sizeof v, "%lld/100", llround(fabs(t->altitude_m) * 100));
            ok = ok && set_string(md, "Exif.GPSInfo.GPSAltitude", v, err, errsz);
        } else { /* a position is one thing: no altitude left from an older one */
            gexiv2_metadata_try_clear_tag(md, "Exif.GPSInfo.GPSAltitudeRef", NULL);
            gexiv2_metadata_try_clear_tag(md, "Exif.GPSInfo.GPSAltitude", NULL);
        }
    }
    if (t->artist[0]) ok = ok && set_string(md, "Exif.Image.Artist", t->artist, err, errsz);
    if (t->copyright[0]) ok = ok && set_string(md, "Exif.Image.Copyright", t->copyright, err, errsz);
    if (t->caption[0]) ok = ok && set_string(md, "Exif.Image.ImageDescription", t->caption, err, errsz);
    return ok && set_xmp_common(md, t, err, errsz) && set_iptc(md, t, err, errsz);
}

static bool set_sidecar_tags(GExiv2Metadata *md, const img_tags *t, char *err, size_t errsz)
{
    bool ok = true;
    if (t->has_gps) {
        char v[96];
        ok = ok && set_string(md, "Xmp.exif.GPSVersionID", "2.3.0.0", err, errsz);
        xmp_coord(t->latitude, 'N', 'S', v, sizeof v);
        ok = ok && set_string(md, "Xmp.exif.GPSLatitude", v, err, errsz);
        xmp_coord(t->longitude, 'E', 'W', v, sizeof v);
        ok = ok && set_string(md, "Xmp.exif.GPSLongitude", v, err, errsz);
        ok = ok && set_string(md, "Xmp.exif.GPSMapDatum", "WGS-84", err, errsz);
        if (t->has_altitude) {
            ok = ok && set_string(md, "Xmp.exif.GPSAltitudeRef", t->altitude_m < 0 ? "1" : "0", err, errsz);
            snprintf(v, sizeof v, "%lld/100", llround(fabs(t->altitude_m) * 100));
            ok = ok && set_string(md, "Xmp.exif.GPSAltitude", v, err, errsz);
        } else {
            gexiv2_metadata_try_clear_tag(md, "Xmp.exif.GPSAltitudeRef", NULL);
            gexiv2_metadata_try_clear_tag(md, "Xmp.exif.GPSAltitude", NULL);
        }
    }
    return ok && set_xmp_common(md, t, err, errsz);
}

/* ---- files ------------------------------------------------------------------- */

static int copy_fd(int from, int to)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        if (store_write_all(to, buf, (size_t)n) != 0) return -1;
    }
}

/* Reads a whole (small) file; *out is malloc'ed and NUL-terminated. */
static int slurp(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? TETHER_ERR_NOT_FOUND : TETHER_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024) {
        close(fd);
        return TETHER_ERR_IO;
    }
    char *b = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (b && got < (size_t)st.st_size) {
        ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (b == NULL || got != (size_t)st.st_size) {
        free(b);
        return TETHER_ERR_IO;
    }
    b[got] = '\0';
    *out = b;
    *len = got;
    return TETHER_OK;
}

static void split_path(const char *path, char *dir, size_t dsz, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, dsz, ".");
        *base = path;
    } else {
        snprintf(dir, dsz, "%.*s", slash == path ? 1 : (int)(slash - path), path);
        *base = slash + 1;
    }
}

/* Flushes the temporary a->tmp (as it is on disk now, whatever wrote it),
 * closes it and renames it over target; fsyncs the folder.  On failure the
 * temporary is removed.  Returns 0 or TETHER_ERR_IO. */
static int replace_with(store_atomic *a, const char *target)
{
    int fd = open(a->tmp, O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    ok = ok && fsync(a->fd) == 0;
    ok = close(a->fd) == 0 && ok;
    a->fd = -1;
    if (!ok || rename(a->tmp, target) != 0) {
        store_atomic_abort(a);
        return TETHER_ERR_IO;
    }
    a->tmp[0] = '\0';
    int d = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
    return TETHER_OK;
}

static int tag_jpeg(const char *path, const img_tags *t, char *err, size_t errsz)
{
    int src = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (src < 0 || fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (src >= 0) close(src);
        say(err, errsz, "%s: %s", path, src >= 0 ? "not a regular file" : strerror(e));
        return src < 0 && e == ENOENT ? TETHER_ERR_NOT_FOUND : TETHER_ERR_IO;
    }
    char dir[4096];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    store_atomic a;
    if (store_atomic_begin(&a, dir) != TETHER_OK) {
        say(err, errsz, "cannot create a temporary file in %s: %s", dir, strerror(errno));
        close(src);
        return TETHER_ERR_IO;
    }
    int rc = copy_fd(src, a.fd);
    close(src);
    if (rc != 0 || fchmod(a.fd, st.st_mode & 07777) != 0) {
        say(err, errsz, "cannot copy %s: %s", path, strerror(errno));
        store_atomic_abort(&a);
        return TETHER_ERR_IO;
    }
    GExiv2Metadata *md = gexiv2_metadata_new();
    GError *ge = NULL;
    bool ok = gexiv2_metadata_open_path(md, a.tmp, &ge);
    if (!ok) say(err, errsz, "%s: cannot read its metadata: %s", base, ge ? ge->message : "?");
    ok = ok && set_jpeg_tags(md, t, err, errsz);
    if (ok && !gexiv2_metadata_save_file(md, a.tmp, &ge)) {
        say(err, errsz, "%s: cannot write its metadata: %s", base, ge ? ge->message : "?");
        ok = false;
    }
    g_clear_error(&ge);
    g_object_unref(md);
    if (!ok) {
        store_atomic_abort(&a);
        return TETHER_ERR_IO;
    }
    if (replace_with(&a, path) != TETHER_OK) {
        say(err, errsz, "cannot replace %s: %s", path, strerror(errno));
        return TETHER_ERR_IO;
    }
    return TETHER_OK;
}

static int tag_sidecar(const char *path, const img_tags *t, char *sidecar, size_t sidesz, char *err, size_t errsz)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        say(err, errsz, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? TETHER_ERR_NOT_FOUND : TETHER_ERR_IO;
    }
    char side[4200];
    if (!img_tag_sidecar_path(path, side, sizeof side)) {
        say(err, errsz, "%s: path too long", path);
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    char *old = NULL;
    size_t old_len = 0;
    int rc = slurp(side, &old, &old_len);
    if (rc == TETHER_ERR_NOT_FOUND) {
        old = strdup(empty_xmp);
        old_len = old ? strlen(old) : 0;
    } else if (rc != TETHER_OK) {
        say(err, errsz, "cannot read %s", side);
        return TETHER_ERR_IO;
    }
    if (old == NULL) return TETHER_ERR_NO_MEMORY;
    GExiv2Metadata *md = gexiv2_metadata_new();
    GError *ge = NULL;
    char *packet = NULL;
    bool ok = gexiv2_metadata_open_buf(md, (const guint8 *)old, (glong)old_len, &ge);
    if (!ok) say(err, errsz, "%s is not an XMP file: %s", side, ge ? ge->message : "?");
    g_clear_error(&ge);
    ok = ok && set_sidecar_tags(md, t, err, errsz);
    if (ok) {
        packet = gexiv2_metadata_try_generate_xmp_packet(md, (GExiv2XmpFormatFlags)0, 0, &ge);
        if (packet == NULL) {
            say(err, errsz, "cannot encode the XMP packet: %s", ge ? ge->message : "?");
            ok = false;
        }
        g_clear_error(&ge);
    }
    g_object_unref(md);
    free(old);
    if (!ok) {
        g_free(packet);
        return TETHER_ERR_IO;
    }
    char dir[4096];
    const char *base;
    split_path(side, dir, sizeof dir, &base);
    store_atomic a;
    rc = store_atomic_begin(&a, dir);
    if (rc == TETHER_OK && (store_write_all(a.fd, packet, strlen(packet)) != 0 || replace_with(&a, side) != TETHER_OK)) {
        store_atomic_abort(&a);
        rc = TETHER_ERR_IO;
    }
    g_free(packet);
    if (rc != TETHER_OK) {
        say(err, errsz, "cannot write %s: %s", side, strerror(errno));
        return TETHER_ERR_IO;
    }
    if (sidecar) snprintf(sidecar, sidesz, "%s", side);
    return TETHER_OK;
}

int img_tag_file(const char *path, const img_tags *t, char *written, size_t writtensz, char *err, size_t errsz)
{
    if (!img_tags_validate(t, err, errsz)) return TETHER_ERR_INVALID_ARGUMENT;
    if (img_tags_empty(t)) {
        say(err, errsz, "nothing to write: no position, text or keyword");
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    img_tag_kind kind = img_tag_kind_of(path);
    if (kind == IMG_TAG_UNSUPPORTED) {
        say(err, errsz, "%s: not a JPEG or a RAW file (by its extension)", path);
        return TETHER_ERR_NOT_SUPPORTED;
    }
    if (img_exif_global_init() != 0) {
        say(err, errsz, "gexiv2 does not start");
        return TETHER_ERR_IO;
    }
    if (kind == IMG_TAG_SIDECAR) return tag_sidecar(path, t, written, writtensz, err, errsz);
    int rc = tag_jpeg(path, t, err, errsz);
    if (rc == TETHER_OK && written) snprintf(written, writtensz, "%s", path);
    return rc;
}

/* ---- reading back ---------------------------------------------------------------- */

static char *get_string(GExiv2Metadata *md, const char *tag)
{
    if (!gexiv2_metadata_try_has_tag(md, tag, NULL)) return NULL;
    return gexiv2_metadata_try_get_tag_string(md, tag, NULL);
}

/* Copies a tag's text into out, without a LangAlt 'lang="x-default" '
 * prefix. */
static void copy_text(GExiv2Metadata *md, const char *tag, char *out, size_t size)
{
    if (out[0]) return;
    char *v = get_string(md, tag);
    if (v == NULL) return;
    const char *s = v;
    if (strncmp(s, "lang=\"", 6) == 0) {
        const char *q = strchr(s + 6, '"');
        if (q) s = q[1] == ' ' ? q + 2 : q + 1;
    }
    snprintf(out, size, "%s", s);
    g_free(v);
}

static void copy_first(GExiv2Metadata *md, const char *tag, char *out, size_t size)
{
    if (out[0] || !gexiv2_metadata_try_has_tag(md, tag, NULL)) return;
    gchar **v = gexiv2_metadata_try_get_tag_multiple(md, tag, NULL);
    if (v && v[0]) snprintf(out, size, "%s", v[0]);
    g_strfreev(v);
}

static void read_exif_gps(GExiv2Metadata *md, img_tags *out)
{
    char *lat = get_string(md, "Exif.GPSInfo.GPSLatitude"), *lon = get_string(md, "Exif.GPSInfo.GPSLongitude");
    char *latref = get_string(md, "Exif.GPSInfo.GPSLatitudeRef"), *lonref = get_string(md, "Exif.GPSInfo.GPSLongitudeRef");
    double a, b;
    if (lat && lon && parse_dms(lat, &a) && parse_dms(lon, &b)) {
        out->has_gps = true;
        out->latitude = latref && latref[0] == 'S' ? -a : a;
        out->longitude = lonref && lonref[0] == 'W' ? -b : b;
        char *alt = get_string(md, "Exif.GPSInfo.GPSAltitude"), *altref = get_string(md, "Exif.GPSInfo.GPSAltitudeRef");
        double h;
        if (alt && parse_rational(alt, &h)) {
            out->has_altitude = true;
            out->altitude_m = altref && altref[0] == '1' ? -h : h;
        }
        g_free(alt);
        g_free(altref);
    }
    g_free(lat);
    g_free(lon);
    g_free(latref);
    g_free(lonref);
}

static void read_xmp_gps(GExiv2Metadata *md, img_tags *out)
{
    char *lat = get_string(md, "Xmp.exif.GPSLatitude"), *lon = get_string(md, "Xmp.exif.GPSLongitude");
    double a, b;
    if (lat && lon && parse_xmp_coord(lat, &a) && parse_xmp_coord(lon, &b)) {
        out->has_gps = true;
        out->latitude = a;
        out->longitude = b;
        char *alt = get_string(md, "Xmp.exif.GPSAltitude"), *altref = get_string(md, "Xmp.exif.GPSAltitudeRef");
        double h;
        if (alt && parse_rational(alt, &h)) {
            out->has_altitude = true;
            out->altitude_m = altref && altref[0] == '1' ? -h : h;
        }
        g_free(alt);
        g_free(altref);
    }
    g_free(lat);
    g_free(lon);
}

int img_tag_read(const char *path, img_tags *out)
{
    memset(out, 0, sizeof *out);
    img_tag_kind kind = img_tag_kind_of(path);
    if (kind == IMG_TAG_UNSUPPORTED) return TETHER_ERR_NOT_SUPPORTED;
    if (img_exif_global_init() != 0) return TETHER_ERR_IO;
    char side[4200];
    const char *file = path;
    if (kind == IMG_TAG_SIDECAR) {
        if (!img_tag_sidecar_path(path, side, sizeof side)) return TETHER_ERR_INVALID_ARGUMENT;
        file = side;
    }
    if (access(file, F_OK) != 0) return TETHER_ERR_NOT_FOUND;
    GExiv2Metadata *md = gexiv2_metadata_new();
    GError *ge = NULL;
    if (!gexiv2_metadata_open_path(md, file, &ge)) {
        LOG_WARN("tag", "%s: %s", file, ge ? ge->message : "?");
        g_clear_error(&ge);
        g_object_unref(md);
        return TETHER_ERR_IO;
    }
    if (kind == IMG_TAG_EMBEDDED) {
        read_exif_gps(md, out);
        copy_text(md, "Exif.Image.Artist", out->artist, sizeof out->artist);
        copy_text(md, "Exif.Image.Copyright", out->copyright, sizeof out->copyright);
        copy_text(md, "Exif.Image.ImageDescription", out->caption, sizeof out->caption);
    } else {
        read_xmp_gps(md, out);
    }
    copy_first(md, "Xmp.dc.creator", out->artist, sizeof out->artist);
    copy_text(md, "Xmp.dc.rights", out->copyright, sizeof out->copyright);
    copy_text(md, "Xmp.dc.description", out->caption, sizeof out->caption);
    copy_text(md, "Xmp.photoshop.TransmissionReference", out->session, sizeof out->session);
    if (gexiv2_metadata_try_has_tag(md, "Xmp.dc.subject", NULL)) {
        gchar **v = gexiv2_metadata_try_get_tag_multiple(md, "Xmp.dc.subject", NULL);
        for (int i = 0; v && v[i] && out->n_keywords < IMG_TAG_KEYWORDS_MAX; i++)
            snprintf(out->keywords[out->n_keywords++], IMG_TAG_KEYWORD_MAX, "%s", v[i]);
        g_strfreev(v);
    }
    if (gexiv2_metadata_try_has_tag(md, "Xmp.xmp.Rating", NULL)) {
        out->has_cull = true;
        out->rating = (int)gexiv2_metadata_try_get_tag_long(md, "Xmp.xmp.Rating", NULL);
        copy_text(md, "Xmp.xmp.Label", out->label, sizeof out->label);
    }
    g_object_unref(md);
    return TETHER_OK;
}
