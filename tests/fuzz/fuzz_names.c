/*
 * fuzz_names: libFuzzer target for the text a user or a browser hands the
 * studio and the command line: naming templates (tether_name_expand, with
 * variables that may hold hostile camera file names), session and preset
 * names (catalog_session_name_ok) and photo paths (studio_safe_rel's rules,
 * mirrored here).  The input is split at the first NUL: template, then a
 * camera file name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "tether/tether.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *tmpl = text;
    const char *name = text + strlen(text) + 1;
    if (name > text + size) name = "";
    tether_name_vars v = {.counter = (int)size, .time = (int64_t)size * 1000, .model = name,
                          .session = name, .name = name, .ext = "jpg"};
    char out[256], err[256];
    if (tether_name_expand(tmpl, &v, out, sizeof out, err, sizeof err) == TETHER_OK) {
        /* whatever the variables held, the result is one file name */
        if (strchr(out, '/') && !strchr(tmpl, '/')) abort();
    }
    (void)catalog_session_name_ok(tmpl);
    free(text);
    return 0;
}
