/*
 * naming: tether_name_expand() (include/tether/tether.h).
 *
 * Templates follow picamera's capture_continuous: literal text with fields
 * in braces, a field optionally followed by ':' and a format
 * ({counter:03d} is printf's %03d; {timestamp:%Y-%m-%d} is strftime's).
 * "{{" and "}}" are literal braces.  Variables never introduce a '/', so a
 * camera's file name cannot move the output out of the target folder.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tether/tether.h"

typedef struct out_buf {
    char *p;
    size_t size, len;
    bool overflow;
} out_buf;

static void put_char(out_buf *o, char c)
{
    if (o->len + 1 < o->size) o->p[o->len++] = c;
    else o->overflow = true;
}

/* Appends a variable's text, making it safe as part of a file name. */
static void put_safe(out_buf *o, const char *s, bool spaces_to_dash)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7F) c = '_';
        else if (spaces_to_dash && c == ' ') c = '-';
        put_char(o, (char)c);
    }
}

__attribute__((format(printf, 3, 4)))
static int fail(char *errbuf, size_t errsz, const char *fmt, ...)
{
    if (errbuf && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errsz, fmt, ap);
        va_end(ap);
    }
    return TETHER_ERR_BAD_VALUE;
}

/* Validates a printf integer format like "03d" or "5d": flags 0 or -,
 * width <= 20, conversion d. */
static bool int_format_ok(const char *f)
{
    size_t i = 0;
    while (f[i] == '0' || f[i] == '-') i++;
    size_t digits = 0;
    while (isdigit((unsigned char)f[i])) i++, digits++;
    if (digits > 2) return false;
    return f[i] == 'd' && f[i + 1] == '\0';
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
int tether_name_expand(const char *tmpl, const tether_name_vars *v, char *out, size_t size,
                       char *errbuf, size_t errsz)
{
    if (tmpl == NULL || v == NULL || out == NULL || size == 0) return TETHER_ERR_INVALID_ARGUMENT;
    out_buf o = {out, size, 0, false};
    bool has_ext = false;
    for (const char *s = tmpl; *s;) {
        if (s[0] == '{' && s[1] == '{') { put_char(&o, '{'); s += 2; continue; }
        if (s[0] == '}' && s[1] == '}') { put_char(&o, '}'); s += 2; continue; }
        if (*s == '}') return fail(errbuf, errsz, "unmatched '}' in template \"%s\"", tmpl);
        if (*s != '{') {
            unsigned char c = (unsigned char)*s++;
            put_char(&o, c < 0x20 ? '_' : (char)c);
            continue;
        }
        const char *end = strchr(s, '}');
        if (end == NULL) return fail(errbuf, errsz, "unterminated '{' in template \"%s\"", tmpl);
        char field[128];
        size_t n = (size_t)(end - s - 1);
        if (n >= sizeof field) return fail(errbuf, errsz, "field too long in template \"%s\"", tmpl);
        memcpy(field, s + 1, n);
        field[n] = '\0';
        s = end + 1;
        char *fmt = strchr(field, ':');
        if (fmt) *fmt++ = '\0';
        char tmp[256];
        if (strcmp(field, "counter") == 0) {
            char pf[32];
            if (fmt && !int_format_ok(fmt)) return fail(errbuf, errsz, "bad counter format \"%s\"", fmt);
            snprintf(pf, sizeof pf, "%%%s", fmt ? fmt : "d");
            snprintf(tmp, sizeof tmp, pf, v->counter);
            put_safe(&o, tmp, false);
        } else if (strcmp(field, "timestamp") == 0) {
            time_t t = (time_t)v->time;
            struct tm tm;
            localtime_r(&t, &tm);
            const char *f = fmt ? fmt : "%Y-%m-%d-%H-%M-%S";
            if (strlen(f) > 64) return fail(errbuf, errsz, "timestamp format too long: \"%s\"", f);
            size_t k = strftime(tmp, sizeof tmp, f, &tm);
            if (k == 0 && *f) return fail(errbuf, errsz, "bad timestamp format \"%s\"", f);
            tmp[k] = '\0';
            put_safe(&o, tmp, false);
        } else if (fmt) {
            return fail(errbuf, errsz, "field {%s} takes no format", field);
        } else if (strcmp(field, "model") == 0) {
            put_safe(&o, v->model ? v->model : "camera", true);
        } else if (strcmp(field, "session") == 0) {
            put_safe(&o, v->session ? v->session : "", false);
        } else if (strcmp(field, "name") == 0) {
            put_safe(&o, v->name ? v->name : "image", false);
        } else if (strcmp(field, "ext") == 0) {
            put_safe(&o, v->ext ? v->ext : "jpg", false);
            has_ext = true;
        } else {
            return fail(errbuf, errsz, "unknown field {%s} (known: counter, timestamp, model, session, name, ext)", field);
        }
    }
    if (!has_ext) {
        /* a literal extension ("shot-{counter}.jpg") stands for the file's own */
        size_t dot = o.len;
        while (dot > 0 && o.len - dot <= 6 && isalnum((unsigned char)o.p[dot - 1])) dot--;
        if (dot > 1 && dot < o.len && o.p[dot - 1] == '.' && o.len - dot <= 5) o.len = dot - 1;
        put_char(&o, '.');
        put_safe(&o, v->ext ? v->ext : "jpg", false);
    }
    if (o.overflow) return TETHER_ERR_BUFFER_TOO_SMALL;
    out[o.len] = '\0';
    if (o.len == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        return fail(errbuf, errsz, "template \"%s\" gives an empty name", tmpl);
    return TETHER_OK;
}
#pragma GCC diagnostic pop
