/*
 * fuzz_tags: libFuzzer target for the tag values a browser (PUT
 * /api/tagging), the tagging settings file and the command line hand to
 * app/image/tag.c: the "LAT,LON[,ALT]" parser, the keyword list parser,
 * the validation of every field, and the sidecar path of a file name.
 * The input is split at NULs: GPS text, keywords, artist (also used as a
 * file name).  Checks what the functions promise: a position accepted by
 * the parser is in range, values that validate hold no control character.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *next_part(const char *p, const char *end)
{
    p += strlen(p) + 1;
    return p < end ? p : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 3);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = text[size + 2] = '\0';
    const char *end = text + size + 2;
    const char *gps = text, *keywords = next_part(gps, end), *artist = next_part(keywords, end);

    img_tags t = {0};
    if (img_tags_parse_gps(gps, &t)) {
        if (!t.has_gps || !(fabs(t.latitude) <= 90) || !(fabs(t.longitude) <= 180)) abort();
        if (t.has_altitude && !isfinite(t.altitude_m)) abort();
    } else if (t.has_gps) {
        abort(); /* a refused position leaves t unchanged */
    }
    int before = t.n_keywords;
    if (!img_tags_add_keywords(keywords, &t) && t.n_keywords != before) abort();
    if (t.n_keywords < 0 || t.n_keywords > IMG_TAG_KEYWORDS_MAX) abort();
    snprintf(t.artist, sizeof t.artist, "%s", artist);
    char err[256];
    if (img_tags_validate(&t, err, sizeof err)) {
        for (const char *c = t.artist; *c; c++)
            if ((unsigned char)*c < 0x20) abort();
        for (int i = 0; i < t.n_keywords; i++)
            if (t.keywords[i][0] == '\0') abort();
    }
    (void)img_tags_empty(&t);
    char sidecar[300];
    if (img_tag_kind_of(artist) == IMG_TAG_SIDECAR && img_tag_sidecar_path(artist, sidecar, sizeof sidecar)) {
        const char *dot = strrchr(sidecar, '.');
        if (dot == NULL || strcmp(dot, ".xmp") != 0) abort();
    }
    free(text);
    return 0;
}
