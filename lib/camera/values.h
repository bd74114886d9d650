/*
 * values: the rules for setting values that every backend shares: the
 * canonical setting names, and turning the text a user typed into a value
 * a setting accepts (a choice, a number within a range, a toggle, a date),
 * with an error that says what is accepted.
 *
 * Pure functions on plain data; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tether/tether.h"

/* The canonical names, NULL-terminated (tether_setting_canonical_names). */
extern const char *const values_canonical_names[];
/* True if name is one of them. */
bool values_is_canonical(const char *name);

/* Parses "f/8", "1/250", "0.0040s", "8", "1 1/2" into a finite number. */
bool values_parse_number(const char *text, double *out);

/* What a setting is to be set to. */
typedef struct values_parsed {
    int choice;             /* CHOICE: the index into s->choices */
    double number;          /* RANGE */
    int toggle;             /* TOGGLE: 0 or 1 */
    int64_t date;           /* DATE: epoch seconds */
} values_parsed;

/* Checks text against the setting s (its type, read_only, range, choices)
 * and fills *out.  A CHOICE matches a choice spelt exactly, else one whose
 * number is within 2% of text's ("1/250" picks "0.0040s", "8" picks
 * "f/8").  TEXT and ACTION accept anything.  Returns 0, or
 * TETHER_ERR_READ_ONLY / TETHER_ERR_BAD_VALUE with the reason (naming what
 * is accepted, e.g. every choice) in err. */
int values_parse(const tether_setting *s, const char *text, values_parsed *out, char *err, size_t errsz);
