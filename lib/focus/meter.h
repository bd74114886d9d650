/*
 * meter: turns the live-view frames of a focus port into sharpness
 * samples, and tells when the lens has stopped moving.
 *
 * A sample is measured on the ROI (decoded alone, luma only): `fine` is
 * Tenengrad on the 2x2-binned ROI, `coarse` the same on the 8x8-binned ROI
 * (a low-pass measure with a wide capture range), both over mean squared.
 * Each frame is also decoded whole at 1/8 scale to see whether the picture
 * is still changing anywhere.
 *
 * A frame whose bytes are those of the frame before (a body that hands
 * out the same buffer again) is no new observation: it is counted as
 * watched and skipped, so two copies never pass for a lens at rest and
 * the noise floor is never learnt from them.  The floors themselves have
 * a minimum, so even a noise-free camera needs a real change to count as
 * motion.
 *
 * Settling without fixed sleeps: after drive commands, frames that arrived
 * within a frame period of the last command were exposed before it and
 * are skipped; then the lens counts as settled when consecutive frames
 * differ by no more than the noise measured at rest (both the whole
 * picture and the ROI's sharpness): two such pairs in a row once motion
 * has been seen, or one once the move should be over (fmeter_settle).
 * One quiet pair after motion is not enough: far from focus a moving lens
 * now and then changes the picture too little to see, and the next
 * command would reach a lens still moving, which a Canon body ignores (on
 * the virtual camera with frames 0-100 ms late, 18 of 3,300 commands were
 * lost that way).  The noise
 * floor is learnt from frames at rest (fmeter_calibrate) and updated from
 * every settled pair.
 *
 * The meter also keeps the books the results report: frames measured,
 * frames only watched, commands sent, and the lens position estimated by
 * adding up the nominal sizes of the commands (Near1 = 1, Near2 = 4.3,
 * Near3 = 30 Near1 steps).  Used by one thread, the algorithm's.
 */
#pragma once

#include <stdbool.h>

#include "focus/port.h"
#include "image/focus.h"
#include "image/jpeg.h"

/* Nominal step sizes in Near1 units (Magic Lantern's measurements). */
extern const double fmeter_step_size[4];

typedef struct focus_sample {
    double fine;
    double coarse;
    double mean;
    double change;           /* picture change from the previous frame, -1 if unknown */
    int64_t t_ns;            /* arrived */
    int64_t fetch_ns;        /* the port's focus_frame.fetch_ns */
    uint64_t seq;
    bool settled;            /* false when fmeter_settle gave up waiting */
    bool repeat;             /* the same bytes as the frame before: no new observation */
} focus_sample;

typedef struct focus_meter {
    const focus_port *port;
    img_region roi;
    uint64_t seq;
    double period_ns;        /* frame period, learnt */
    int64_t last_frame_ns;
    int64_t last_cmd_ns;
    img_image prev_thumb;    /* last frame at 1/8 scale */
    img_image rest_thumb;    /* the frame of the last settled sample */
    focus_sample prev;       /* last sample */
    bool have_prev;
    double change_floor;     /* typical picture change between frames at rest */
    double moved_change;     /* change between the last two settled samples, -1 if unknown */
    double jitter;           /* typical relative change of `fine` at rest */
    double jitter_coarse;
    int measured;            /* samples handed to an algorithm */
    int watched;             /* frames looked at only to see the lens settle */
    int commands;
    double pending_travel;   /* Near1 units commanded since the last settle */
    int last_direction;      /* of the last command: +1 near, -1 far, 0 none */
    int stop_hit;            /* the camera said the lens is at its end stop: +1 near, -1 far, 0 not
                                since the last command that moved (fmeter_drive) */
    double position;         /* estimated, Near1 units */
    int err;                 /* the last port error */
    uint64_t last_hash;      /* of the last frame's bytes, to see repeats */
    int repeats;             /* frames skipped as repeats */
    double best_fine;        /* highest `fine` of a measured sample since the ROI was set */
    focus_sample last;       /* of the last frame measured (repeats return it again) */
    struct {                 /* how long moves took, learnt per commanded travel */
        double travel;
        double ms;
        int n;
    } timing[8];
} focus_meter;

void fmeter_init(focus_meter *m, const focus_port *port, img_region roi);
void fmeter_free(focus_meter *m);

/* Changes the ROI (e.g. after a zoom): forgets the previous sample. */
void fmeter_set_roi(focus_meter *m, img_region roi);

/* Reads the next frame and measures it (not counted).  A repeated frame
 * is not measured: s is the previous sample with repeat set.  0 or a
 * tether_err. */
int fmeter_frame(focus_meter *m, focus_sample *s, int timeout_ms);

/* Books s as a sample the algorithm uses (measured frames, best_fine). */
void fmeter_book(focus_meter *m, const focus_sample *s);

/* Watches `n` frames at rest to learn the noise floor; *s gets the last
 * sample.  Counted as watched frames.  0 or a tether_err. */
int fmeter_calibrate(focus_meter *m, int n, focus_sample *s);

/* Sends one command and books it (position, count).  0 or a tether_err.
 * A camera that says the lens is already at its end stop
 * (TETHER_ERR_END_STOP: Nikon's MfDriveStepEnd) is not an error: the
 * command is not booked (the lens did not move), stop_hit says which
 * stop, and 0 is returned. */
int fmeter_drive(focus_meter *m, int direction, int step);

/* Waits for the lens to settle after the last commands and returns the
 * settled sample, counted as measured when `use` (the algorithm will use
 * its sharpness), else as watched like the frames before it.  Without
 * visible motion it waits as long as a move of that travel was seen to
 * take (times 1.25), or, before it has seen one, the start latency plus
 * the time the travel takes at the slowest lens speed (300 steps/s).
 * *motion tells whether any motion was seen (may be NULL).  Gives up
 * after max_wait_ms and returns the last sample with settled = false.
 * 0 or a tether_err. */
int fmeter_settle(focus_meter *m, focus_sample *s, bool *motion, bool use, int max_wait_ms);

/* After fmeter_settle: did the picture change between the previous
 * settled sample and this one by more than noise (did the lens move at
 * all)?  Compares the two frames at rest, which shows a move far from
 * focus that consecutive frames during the move do not. */
bool fmeter_moved(const focus_meter *m);
/* ... by far more than noise (four times its floor). */
bool fmeter_moved_clearly(const focus_meter *m);

/* The ROI as seen in a frame magnified k times around (cx, cy), in
 * fractions of the frame; at least a quarter of the magnified frame, and
 * clamped into it as the camera clamps its magnified area. */
img_region fmeter_zoomed_roi(img_region roi, int k, double cx, double cy);

/* True when the port's stop callback says so. */
bool fmeter_stopped(const focus_meter *m);
