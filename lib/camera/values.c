/*
 * values: canonical setting names and value matching.  See values.h.
 */
#include "camera/values.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const values_canonical_names[] = {
    "iso",       "aperture",   "shutterspeed", "exposurecompensation", "whitebalance", "focusmode",
    "imageformat", "drivemode", "exposuremode", "battery",             "shotsleft",    "serialnumber",
    NULL,
};

const char *const *tether_setting_canonical_names(void)
{
    return values_canonical_names;
}

bool values_is_canonical(const char *name)
{
    for (int i = 0; values_canonical_names[i]; i++)
        if (strcmp(values_canonical_names[i], name) == 0) return true;
    return false;
}

bool values_parse_number(const char *s, double *out)
{
    while (isspace((unsigned char)*s)) s++;
    if (s[0] == 'f' && s[1] == '/') s += 2;
    char *end;
    double a = strtod(s, &end);
    if (end == s) return false;
    if (*end == '/') {
        double d = strtod(end + 1, &end);
        if (d == 0) return false;
        a /= d;
    } else if (*end == ' ' && strchr(end, '/')) {
        char *e2;
        double n = strtod(end + 1, &e2);
        if (*e2 != '/') return false;
        double d = strtod(e2 + 1, &end);
        if (d == 0) return false;
        a += n / d;
    }
    while (*end == 's' || isspace((unsigned char)*end)) end++;
    if (*end) return false;
    *out = a;
    return isfinite(a);
}

/* d snapped to the nearest of marks[] within 12 % (under half a third of
 * a stop), else d itself. */
static double snap(double d, const double *marks, size_t n)
{
    double best = d, best_err = 0.12;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(marks[i] - d) / marks[i];
        if (err < best_err) best = marks[i], best_err = err;
    }
    return best;
}

static bool shutter_words(const char *value, char *out, size_t size)
{
    /* the third-stop marks a camera's dial shows: 1/N below 1/3 s, else seconds */
    static const double denominators[] = {8000, 6400, 5000, 4000, 3200, 2500, 2000, 1600, 1250, 1000, 800, 640,
                                          500, 400, 320, 250, 200, 160, 125, 100, 80, 60, 50, 40, 30, 25, 20, 15,
                                          13, 10, 8, 6, 5, 4, 3};
    static const double seconds[] = {0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.3, 1.6, 2, 2.5, 3.2, 4, 5, 6, 8, 10, 13, 15,
                                     20, 25, 30, 60};
    double s;
    if (strchr(value, '/') || !values_parse_number(value, &s) || s <= 0) return false;
    if (s < 0.29) {
        double d = snap(1 / s, denominators, sizeof denominators / sizeof denominators[0]);
        snprintf(out, size, "1/%.0f", d);
    } else {
        snprintf(out, size, "%g\"", snap(s, seconds, sizeof seconds / sizeof seconds[0]));
    }
    return true;
}

const char *tether_value_words(const char *canonical, const char *value, char *out, size_t size)
{
    if (size == 0) return out;
    const char *c = canonical ? canonical : "", *v = value ? value : "";
    double x;
    bool said = false;
    if (strcmp(c, "shutterspeed") == 0) {
        said = shutter_words(v, out, size);
    } else if (strcmp(c, "aperture") == 0 && v[0] != 'f' && values_parse_number(v, &x) && x > 0) {
        snprintf(out, size, "f/%g", x);
        said = true;
    } else if (strcmp(c, "exposurecompensation") == 0 && !strchr(v, '/') && values_parse_number(v, &x)) {
        if (fabs(x) < 0.05) snprintf(out, size, "0");
        else snprintf(out, size, "%+.1f", x);
        said = true;
    }
    if (!said) snprintf(out, size, "%s", v);
    return out;
}

static int choice_of(const tether_setting *s, const char *text)
{
    for (int i = 0; i < s->n_choices; i++)
        if (s->choices[i] && strcmp(s->choices[i], text) == 0) return i;
    double want, have;
    if (!values_parse_number(text, &want)) return -1;
    for (int i = 0; i < s->n_choices; i++)
        if (s->choices[i] && values_parse_number(s->choices[i], &have) &&
            fabs(have - want) <= 0.02 * fabs(want) + 1e-9)
            return i;
    return -1;
}

int values_parse(const tether_setting *s, const char *text, values_parsed *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    if (errsz) err[0] = '\0';
    if (s->read_only) {
        snprintf(err, errsz, "\"%s\" is read-only", s->name);
        return TETHER_ERR_READ_ONLY;
    }
    switch (s->type) {
    case TETHER_SETTING_TEXT:
    case TETHER_SETTING_ACTION:
        return TETHER_OK;
    case TETHER_SETTING_RANGE:
        if (!values_parse_number(text, &out->number) || out->number < s->min || out->number > s->max) {
            snprintf(err, errsz, "\"%s\" takes a number from %g to %g (got \"%s\")", s->name, s->min, s->max,
                     text);
            return TETHER_ERR_BAD_VALUE;
        }
        return TETHER_OK;
    case TETHER_SETTING_TOGGLE:
        if (!strcmp(text, "1") || !strcasecmp(text, "on") || !strcasecmp(text, "true") || !strcasecmp(text, "yes"))
            out->toggle = 1;
        else if (!strcmp(text, "0") || !strcasecmp(text, "off") || !strcasecmp(text, "false") ||
                 !strcasecmp(text, "no"))
            out->toggle = 0;
        else {
            snprintf(err, errsz, "a toggle takes 1/0, on/off (got \"%s\")", text);
            return TETHER_ERR_BAD_VALUE;
        }
        return TETHER_OK;
    case TETHER_SETTING_DATE: {
        if (!strcmp(text, "now")) {
            out->date = (int64_t)time(NULL);
            return TETHER_OK;
        }
        char *end;
        long long l = strtoll(text, &end, 10);
        if (*text == '\0' || *end || l < 0 || l > 0x7FFFFFFF) {
            snprintf(err, errsz, "a date takes epoch seconds or \"now\" (got \"%s\")", text);
            return TETHER_ERR_BAD_VALUE;
        }
        out->date = l;
        return TETHER_OK;
    }
    case TETHER_SETTING_CHOICE: {
        out->choice = choice_of(s, text);
        if (out->choice >= 0) return TETHER_OK;
        size_t len = (size_t)snprintf(err, errsz, "\"%s\" is not a choice of \"%s\"; choices:", text, s->name);
        for (int i = 0; i < s->n_choices && len < errsz; i++)
            len += (size_t)snprintf(err + len, errsz - len, "%s %s", i ? "," : "", s->choices[i] ? s->choices[i] : "");
        return TETHER_ERR_BAD_VALUE;
    }
    }
    snprintf(err, errsz, "\"%s\" cannot be set", s->name);
    return TETHER_ERR_NOT_SUPPORTED;
}
