/*
 * naming: tether_name_expand() (include/tether/tether.h).
 *
 * Templates follow picamera's capture_continuous: literal text with fields
 * in braces, a field optionally followed by ':' and a format
 * ({counter:03d} is printf's %03d; {timestamp:%Y-%m-%d} is strftime's).
 * "{{" and "}}" are literal braces.  Variables never introduce a '/', so a
 * camera's file name cannot move the output out of the target folder.
 *
 * tether_name_counter() reads a name back: the template becomes a list of
 * pieces (literal text, the counter's digits, any text for the other
 * fields) matched against the name with backtracking, so that a program
 * can continue after the highest number a template already used
 * (tether_name_counter_in_dir, tether_counter_continue).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Where a literal extension ("shot-{counter}.jpg", up to 5 letters or
 * digits after a dot) begins in s[0..len): the dot's index, or len when s
 * ends in none.  The dot must come after index min_dot, so that a name is
 * never the extension alone. */
static size_t literal_ext_dot(const char *s, size_t len, size_t min_dot)
{
    size_t dot = len;
    while (dot > 0 && len - dot <= 6 && isalnum((unsigned char)s[dot - 1])) dot--;
    return dot > min_dot && dot < len && s[dot - 1] == '.' && len - dot <= 5 ? dot - 1 : len;
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
        o.len = literal_ext_dot(o.p, o.len, 1);
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

/* ---- reading a counter back ---------------------------------------------------------------- */

enum { PIECE_TEXT, PIECE_COUNTER, PIECE_ANY };

typedef struct piece {
    int kind;
    char text[128]; /* PIECE_TEXT */
} piece;

enum { MAX_PIECES = 32 };

/* Splits a template into pieces; the implied ".{ext}" of a template
 * without {ext} is added as tether_name_expand adds it.  Returns the
 * number of pieces, or -1 for a template tether_name_expand refuses (or
 * one too long to read back). */
static int parse_pieces(const char *tmpl, piece *pc, bool *has_counter)
{
    int n = 0;
    bool has_ext = false;
    *has_counter = false;
    for (const char *s = tmpl; *s;) {
        if (n >= MAX_PIECES - 2) return -1;
        char c;
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
            c = s[0];
            s += 2;
        } else if (*s == '}') {
            return -1;
        } else if (*s != '{') {
            c = (unsigned char)*s < 0x20 ? '_' : *s;
            s++;
        } else {
            const char *end = strchr(s, '}');
            if (end == NULL || end - s - 1 >= 128) return -1;
            char field[128];
            snprintf(field, sizeof field, "%.*s", (int)(end - s - 1), s + 1);
            s = end + 1;
            char *colon = strchr(field, ':');
            if (colon) *colon = '\0';
            if (strcmp(field, "counter") == 0) {
                if (colon && !int_format_ok(colon + 1)) return -1;
                pc[n++].kind = PIECE_COUNTER;
                *has_counter = true;
                continue;
            }
            if (colon && strcmp(field, "timestamp") != 0) return -1;
            if (strcmp(field, "ext") == 0) has_ext = true;
            else if (strcmp(field, "timestamp") != 0 && strcmp(field, "model") != 0 && strcmp(field, "session") != 0 &&
                     strcmp(field, "name") != 0)
                return -1;
            /* two fields of any text in a row read as one */
            if (n == 0 || pc[n - 1].kind != PIECE_ANY) pc[n++].kind = PIECE_ANY;
            continue;
        }
        if (n == 0 || pc[n - 1].kind != PIECE_TEXT) {
            pc[n].kind = PIECE_TEXT;
            pc[n++].text[0] = '\0';
        }
        size_t l = strlen(pc[n - 1].text);
        if (l + 1 >= sizeof pc[n - 1].text) return -1;
        pc[n - 1].text[l] = c;
        pc[n - 1].text[l + 1] = '\0';
    }
    if (!has_ext) {
        /* the literal extension the template ends with stands for the file's own */
        if (n > 0 && pc[n - 1].kind == PIECE_TEXT) {
            char *t = pc[n - 1].text;
            /* (as tether_name_expand: not when the name would be just the extension) */
            t[literal_ext_dot(t, strlen(t), n > 1 ? 0 : 1)] = '\0';
            if (t[0] == '\0') n--;
        }
        if (n == 0 || pc[n - 1].kind != PIECE_TEXT) {
            pc[n].kind = PIECE_TEXT;
            pc[n++].text[0] = '\0';
        }
        strncat(pc[n - 1].text, ".", sizeof pc[n - 1].text - strlen(pc[n - 1].text) - 1);
        pc[n++].kind = PIECE_ANY;
    }
    return n;
}

/* Does s match pieces pc[0..n)?  The counter's digits go to *counter
 * (the highest, if the template numbers twice). */
static bool match_pieces(const piece *pc, int n, const char *s, int *counter)
{
    if (n == 0) return *s == '\0';
    switch (pc->kind) {
    case PIECE_TEXT: {
        size_t l = strlen(pc->text);
        return strncmp(s, pc->text, l) == 0 && match_pieces(pc + 1, n - 1, s + l, counter);
    }
    case PIECE_COUNTER: {
        size_t digits = 0;
        while (isdigit((unsigned char)s[digits])) digits++;
        for (size_t k = digits; k > 0; k--) { /* the longest run first */
            char num[24];
            if (k >= sizeof num) continue;
            memcpy(num, s, k);
            num[k] = '\0';
            errno = 0;
            long v = strtol(num, NULL, 10);
            if (errno || v > INT_MAX) continue;
            int rest = 0;
            if (match_pieces(pc + 1, n - 1, s + k, &rest)) {
                *counter = rest > (int)v ? rest : (int)v;
                return true;
            }
        }
        return false;
    }
    default: /* any text, the shortest first */
        for (const char *t = s;; t++) {
            if (match_pieces(pc + 1, n - 1, t, counter)) return true;
            if (*t == '\0') return false;
        }
    }
}

/* A template read for matching names against. */
typedef struct pattern {
    piece pc[MAX_PIECES];
    int n;
    bool has_counter;
} pattern;

static int compile(const char *tmpl, pattern *p)
{
    p->n = parse_pieces(tmpl, p->pc, &p->has_counter);
    return p->n < 0 ? TETHER_ERR_BAD_VALUE : TETHER_OK;
}

int tether_name_counter(const char *tmpl, const char *file, int *counter)
{
    if (tmpl == NULL || file == NULL || counter == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    pattern pt;
    if (compile(tmpl, &pt) != TETHER_OK) return TETHER_ERR_BAD_VALUE;
    int c = 0;
    if (!pt.has_counter || !match_pieces(pt.pc, pt.n, file, &c)) return TETHER_ERR_NOT_FOUND;
    *counter = c;
    return TETHER_OK;
}

int tether_name_counter_in_dir(const char *dir, const char *tmpl, int *highest)
{
    if (dir == NULL || tmpl == NULL || highest == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    pattern pt;
    if (compile(tmpl, &pt) != TETHER_OK) return TETHER_ERR_BAD_VALUE;
    *highest = 0;
    if (!pt.has_counter) return TETHER_OK;
    DIR *d = opendir(dir);
    if (d == NULL) return errno == ENOENT ? TETHER_OK : TETHER_ERR_STORAGE;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int c = 0;
        if (e->d_name[0] != '.' && match_pieces(pt.pc, pt.n, e->d_name, &c) && c > *highest) *highest = c;
    }
    closedir(d);
    return TETHER_OK;
}
