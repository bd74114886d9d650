/*
 * absolute: the focus tools' relative steps on a lens that takes absolute
 * positions (TETHER_FOCUS_ABSOLUTE: V4L2's focus_absolute on webcams and
 * Raspberry Pi cameras, later others).
 *
 * The algorithms move the lens in Near1/Near2/Near3 steps (meter.h's
 * nominal 1, 4.3 and 30 Near1) and learn the end stops by driving into
 * them.  Here the whole position range is taken as FOCUS_ABS_NEAR1_SPAN
 * Near1 steps (about a DSLR lens's travel, so the algorithms' ranges and
 * sampling suit it), a step becomes a new target position (toward max is
 * toward near, as V4L2 defines focus_absolute), and a step from an end
 * toward it is TETHER_ERR_END_STOP, which the algorithms take as the stop
 * itself.  The target is kept with its fraction, so many small steps add
 * up even on a coarse range (a UVC lens's 0..255).  Pure arithmetic: the
 * caller sends the position (camport.c to the camera, tests/tools/vcam.c
 * to the virtual lens).  Used by one thread.
 */
#pragma once

#include <stdbool.h>

enum { FOCUS_ABS_NEAR1_SPAN = 1000 };

typedef struct focus_abs {
    int min, max;            /* the lens's range, inclusive */
    double units_per_near1;  /* (max - min) / FOCUS_ABS_NEAR1_SPAN */
    double target;           /* where the lens was sent, with its fraction */
} focus_abs;

/* Starts from the lens's current position (clamped into min..max).
 * Returns false when the range is empty (max <= min). */
bool focus_abs_init(focus_abs *a, int min, int max, int current);

/* A relative step (direction +1 near, -1 far; step 1..3 of meter.h's
 * sizes): *position gets the whole position to send.  Returns 0, or
 * TETHER_ERR_END_STOP (nothing to send) when the lens is already at that
 * end; a step that would pass an end stops at it. */
int focus_abs_step(focus_abs *a, int direction, int step, int *position);
