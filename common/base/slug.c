/*
 * slug: see slug.h.
 */
#include "base/slug.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>

void text_slug(const char *in, char *out, size_t size, size_t max)
{
    size_t n = 0;
    bool dash = false;
    for (const char *c = in; *c && n + 2 < size && n < max; c++) {
        if (isalnum((unsigned char)*c)) {
            if (dash && n > 0) out[n++] = '-';
            out[n++] = (char)tolower((unsigned char)*c);
            dash = false;
        } else {
            dash = true;
        }
    }
    out[n] = '\0';
    if (n == 0) snprintf(out, size, "camera");
}
