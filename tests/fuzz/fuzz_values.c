/*
 * fuzz_values: libFuzzer target for the setting-value rules every backend
 * shares (lib/camera/values.c): the text a user types ("1/250", "f/8",
 * "on", "now") against a setting whose type, range and choices came from
 * a camera (outside input too: a body may list any strings).
 *
 * Input: the first byte picks the type, read-only flag and range; then
 * lines split at '\n': the value to set, then up to 40 choices.  Checked
 * beyond "no crash": an answer is 0, READ_ONLY or BAD_VALUE; a chosen
 * index is one of the choices; a number taken for a range lies within it;
 * the error text is a terminated string; values_parse_number gives only
 * finite numbers.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t pick = data[0];
    char *text = malloc(size);
    if (text == NULL) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    tether_setting s = {0};
    snprintf(s.name, sizeof s.name, "fuzz");
    s.type = (tether_setting_type)(pick % 6);
    s.read_only = (pick & 0x80) != 0;
    static const double ranges[4][3] = {{0, 100, 1}, {-3, 3, 1.0 / 3}, {1, 1, 0}, {0.5, 1e6, 0.5}};
    const double *rg = ranges[(pick >> 3) & 3];
    s.min = rg[0], s.max = rg[1], s.step = rg[2];

    char *choices[40];
    const char *value = text;
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        char *p = nl + 1;
        while (p && s.n_choices < 40) {
            char *next = strchr(p, '\n');
            if (next) *next++ = '\0';
            choices[s.n_choices++] = p;
            p = next;
        }
    }
    s.choices = s.n_choices ? choices : NULL;

    double number;
    if (values_parse_number(value, &number) && !isfinite(number)) abort();
    for (int i = 0; i < s.n_choices; i++)
        if (values_parse_number(choices[i], &number) && !isfinite(number)) abort();

    values_parsed out;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = values_parse(&s, value, &out, err, sizeof err);
    if (rc != TETHER_OK && rc != TETHER_ERR_READ_ONLY && rc != TETHER_ERR_BAD_VALUE) abort();
    if (rc != TETHER_OK && memchr(err, '\0', sizeof err) == NULL) abort();
    if (rc == TETHER_OK && s.type == TETHER_SETTING_CHOICE && (out.choice < 0 || out.choice >= s.n_choices)) abort();
    if (rc == TETHER_OK && s.type == TETHER_SETTING_RANGE &&
        !(isfinite(out.number) && out.number >= s.min - 1e-9 && out.number <= s.max + 1e-9))
        abort();
    (void)values_is_canonical(value);
    /* the words for every canonical name: always terminated inside the buffer */
    static const char *const kinds[] = {"shutterspeed", "aperture", "exposurecompensation", "iso"};
    char words[24];
    memset(words, 'x', sizeof words);
    tether_value_words(kinds[(pick >> 5) & 3], value, words, sizeof words);
    if (memchr(words, '\0', sizeof words) == NULL) abort();
    free(text);
    return 0;
}
