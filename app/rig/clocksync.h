/*
 * clocksync: how well this machine's clock is synchronised, for a camera
 * node that fires at a time the studio gives (docs/RIGS.md, "Clocks").  It
 * asks, in order, chrony (`chronyc -n tracking`), linuxptp (`pmc -u -b 0
 * 'GET TIME_STATUS_NP'`) and systemd (`timedatectl show`), whichever is
 * installed and answers, and says "unknown" when none does.  Each program
 * is run directly (no shell) with a 2 s limit.
 *
 * Blocking (runs programs); any thread but an event loop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct clocksync {
    char state[16];            /* "synced", "unsynced" or "unknown" */
    double offset_ms;          /* estimated offset from the reference; NAN when not known */
    char source[32];           /* "chronyc", "pmc", "timedatectl" or "" */
    char detail[160];          /* a sentence */
} clocksync;

/* Fills c.  "synced" means the source says so and the offset (when known)
 * is within poor_ms; "unsynced" otherwise. */
void clocksync_check(clocksync *c, double poor_ms);
/* Reads `chronyc -n tracking` output (pure, for tests and fuzzing): false
 * when it is not that. */
bool clocksync_parse_chronyc(const char *text, clocksync *c, double poor_ms);
/* Reads `pmc ... GET TIME_STATUS_NP` output (pure). */
bool clocksync_parse_pmc(const char *text, clocksync *c, double poor_ms);
