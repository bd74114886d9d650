/*
 * lens: the simulated lens and its focus motor.
 *
 * Position p is measured in Near1 steps from the infinity stop (p = 0) to
 * the close-focus stop (p = range), and is linear in 1/distance (dioptres),
 * as lens extension is: the subject at distance d is sharp at
 * p*(d) = range * min_distance / d.  "Near" moves p up, "Far" moves it down.
 *
 * What a real focus-by-wire motor does and a test should face (see
 * ../shared/research/focus-and-autofocus.md §2.3–2.4, §6):
 *   - Near1 : Near2 : Near3 ≈ 1 : 4.3 : 30, each command off by a random
 *     relative error (step_noise);
 *   - backlash: after a change of direction the first `backlash` steps move
 *     the gears, not the lens;
 *   - end stops clamp silently;
 *   - the blur may grow faster on one side of focus than on the other
 *     (near_blur: real lenses are not symmetric, and a search that
 *     assumes a symmetric curve lands off the peak);
 *   - motion takes time (a start latency, then a constant speed), and there
 *     is no completion signal: only the image tells;
 *   - a third command sent while two are still being executed may be lost.
 * The focus ring can also be turned by hand at a given speed (trap focus).
 *
 * Randomness comes from the lens's own seeded generator, drawn once per
 * command, so a given command sequence is reproducible.  Times are seconds
 * on any monotonic clock supplied by the caller.
 *
 * Thread safety: none; the camera serialises access under its lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"

typedef struct lens_params {
    double range;            /* Near1 steps between the two stops */
    double step[3];          /* nominal Near1/Near2/Near3 sizes, in Near1 */
    double step_noise;       /* relative std. deviation per command */
    double backlash;         /* steps lost on each reversal */
    double latency_s;        /* delay before a move from rest starts */
    double speed;            /* steps per second while moving */
    double drop_when_busy;   /* P(lost) for a 3rd command while moving */
    double af_error;         /* std. deviation of the body's own AF, steps */
    double near_blur;        /* blur per step on the near side of focus, relative to the
                                far side (1: symmetric) */
} lens_params;

typedef struct lens {
    lens_params p;
    rng rng;
    double pos0;             /* position at t0 */
    double t0;
    double t_move;           /* motion towards target starts here */
    double target;
    double speed;            /* current motion speed */
    int dir;                 /* direction of the last drive: +1 near, -1 far */
    double slack;            /* backlash still to take up in direction dir */
    int burst;               /* commands received since the lens was last at rest */
    double ring_speed;       /* hand-turned ring, steps per second */
    double ring_t0;
    double ring_t1;
    bool af_active;          /* the current motion is the body's own AF */
    uint64_t commands;       /* drive commands received */
    uint64_t dropped;        /* of which lost */
} lens;

/* Default parameters, varied by seed within the ranges real lenses show
 * (range 600–850 steps).  The seed also seeds the lens's generator. */
void lens_default_params(lens_params *p, uint64_t seed);
void lens_init(lens *l, const lens_params *p, uint64_t seed, double initial_pos, double now);

/* Instantaneous position at time now (clamped to [0, range]). */
double lens_position(const lens *l, double now);
/* True while the motor or the hand-turned ring is still moving. */
bool lens_moving(const lens *l, double now);

/* A relative drive of `steps` nominal Near1 units; dir +1 near, -1 far.
 * Applies noise, backlash, end stops and the lost-command rule.  Returns
 * false if the command was lost. */
bool lens_drive(lens *l, double now, int dir, double steps);
/* Canon DriveLens: size 1..3 (Near1/2/3). */
bool lens_drive_canon(lens *l, double now, int dir, int size);

/* The body's own autofocus: moves to `focus_pos` (with af_error) quickly. */
void lens_autofocus(lens *l, double now, double focus_pos);

/* Stops the body's own AF where it is (no effect on other motion). */
void lens_cancel_autofocus(lens *l, double now);

/* Turns the ring by hand at `speed` steps/s (signed) for `duration_s`. */
void lens_ring(lens *l, double now, double speed, double duration_s);

/* The defocus that makes the blur of a lens `defocus` Near1 steps from
 * a plane's sharp position (positive: nearer than it): the near side
 * scaled by near_blur.  The renderer blurs by its magnitude. */
double lens_blur_defocus(const lens_params *p, double defocus);

/* Parses "N1,N2,N3" (the Near1/2/3 sizes in Near1 units, increasing) into
 * step.  False when it is not three increasing positive numbers. */
bool lens_parse_steps(const char *text, double step[3]);

/* Puts the lens at pos at once (test set-up; stops all motion). */
void lens_set(lens *l, double now, double pos);
