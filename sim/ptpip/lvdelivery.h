/*
 * lvdelivery: how a simulated camera hands out its live-view frames, for
 * the focus tools to face what real bodies do.
 *
 * A frame shows the lens as it was when the frame was exposed, and is
 * handed out later: one frame period by default, or a random 50-150 ms
 * on a body whose pipeline is slow or whose link is busy (late_min_s ..
 * late_max_s, drawn per frame; exposures stay in order).  Some bodies
 * also hand out the same buffer twice when asked again before the sensor
 * has a new one: with probability repeat, a frame is a byte-for-byte copy
 * of the one before (a new frame number, the same picture).
 *
 * Used by the PTP/IP simulator (camera.c) and by the focus tests' virtual
 * camera (tests/tools/vcam.c), so that both deliver alike.  Randomness
 * from its own seeded generator.  No locking: the owner serialises calls.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"

typedef struct lvdelivery_options {
    double late_min_s;       /* 0 and 0: one frame period late */
    double late_max_s;
    double repeat;           /* probability that a frame repeats the previous one, 0..1 */
} lvdelivery_options;

typedef struct lvdelivery {
    lvdelivery_options o;
    rng rng;
    double last_exposed;     /* of the last frame; -inf before the first */
    bool have_frame;         /* a frame was handed out (there is one to repeat) */
} lvdelivery;

void lvdelivery_init(lvdelivery *d, const lvdelivery_options *o, uint64_t seed);

/* When the frame handed out at `handed` (seconds) was exposed, given the
 * frame period (0: unpaced).  Never before the previous frame's. */
double lvdelivery_exposed(lvdelivery *d, double handed, double period);

/* Whether the frame about to be handed out repeats the previous one
 * (false for the first).  Marks that a frame was handed out. */
bool lvdelivery_repeat(lvdelivery *d);

/* Parses "MS" or "MIN-MAX" in milliseconds into o's late bounds.  False
 * on anything else, or outside 0..5000 ms. */
bool lvdelivery_parse_late(const char *text, lvdelivery_options *o);

/* True when any option differs from a plain camera's. */
bool lvdelivery_active(const lvdelivery_options *o);
