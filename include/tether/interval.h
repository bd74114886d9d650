/*
 * tether/interval.h: the intervalometer, a time-lapse of captures on a
 * drift-free schedule.
 *
 * Shot k is due at start + k * interval (never "sleep after the shot", so
 * the error does not add up).  A slot that has passed before its capture
 * could begin (a capture that outlasted the interval, a camera that was
 * away) is counted as missed and reported, never bunched: the run goes on
 * with the next slot that is still ahead.  Slots missed in a row are
 * skipped in one step and reported as one MISSED event (slot, slots), so
 * a schedule far in the past costs no more than a near one.  When the
 * camera is lost, the run waits for libtether's reconnection and resumes
 * at the next slot.
 *
 * The schedule is anchored to the wall clock (start_epoch) but timed on
 * the monotonic clock, so a run continued after a restart keeps its slots
 * (pass the same start_epoch and first_slot = the slots already done) and
 * a clock step during a run does not move them.
 */
#ifndef TETHER_INTERVAL_H
#define TETHER_INTERVAL_H

#include <stdbool.h>

#include "tether/tether.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
TETHER_API_BEGIN

typedef enum tether_interval_event_kind {
    TETHER_INTERVAL_SHOT,         /* slot's picture taken (shot, late_s) */
    TETHER_INTERVAL_MISSED,       /* slots slot .. slot + slots - 1 passed without a picture
                                     (reason in message) */
    TETHER_INTERVAL_FAILED,       /* slot's capture failed (err, message); the run goes on */
    TETHER_INTERVAL_CAMERA_LOST,  /* the camera went away; waiting for it */
    TETHER_INTERVAL_CAMERA_BACK,  /* it is back */
    TETHER_INTERVAL_WAITING,      /* waiting for the first slot (late_s < 0: seconds to go) */
} tether_interval_event_kind;

typedef struct tether_interval_event {
    tether_interval_event_kind kind;
    long slot;                    /* 0-based slot number */
    double due_epoch;             /* when the slot was due (wall clock, seconds) */
    double late_s;                /* capture began this long after the slot was due */
    const tether_shot *shot;      /* TETHER_INTERVAL_SHOT: the files (valid during the callback) */
    int err;                      /* TETHER_INTERVAL_FAILED: the tether_err */
    char message[300];
    long slots;                   /* the slots the event is about, from slot on: 1, or more
                                     for a MISSED event of several slots in a row */
} tether_interval_event;

typedef void (*tether_interval_event_fn)(void *user, const tether_interval_event *ev);
typedef bool (*tether_interval_stop_fn)(void *user);

typedef struct tether_interval_options {
    double interval_s;            /* > 0 */
    long count;                   /* slots in the run; 0: until stopped */
    double start_epoch;           /* wall-clock time of slot 0; 0: now (finite, >= 0) */
    long first_slot;              /* slots before this one are done (resuming a run) */
    const tether_capture_options *capture;
    tether_interval_event_fn on_event;   /* may be NULL; called on the calling thread */
    tether_interval_stop_fn stop;        /* may be NULL; polled at least every 100 ms, and
                                            between a capture and the next (a capture in
                                            flight ends first) */
    void *user;
} tether_interval_options;

typedef struct tether_interval_result {
    long taken;                   /* pictures taken */
    long missed;                  /* slots that passed without a capture */
    long failed;                  /* slots whose capture failed */
    long next_slot;               /* the first slot not yet done (for resuming) */
    double max_late_s;            /* schedule error: latest start of a capture after its slot */
    double mean_late_s;
    bool stopped;                 /* the stop callback ended the run */
    int last_err;                 /* the last capture error, or 0 */
} tether_interval_result;

/* Runs the schedule on the calling thread until count slots have passed or
 * stop() says so.  cam stays the caller's; the callbacks run on this
 * thread.  Returns 0 when the run ended (see r for what happened, failed
 * and missed slots included) or TETHER_ERR_INVALID_ARGUMENT for bad
 * options (r is zeroed then). */
int tether_interval_run(tether_camera *cam, const tether_interval_options *o, tether_interval_result *r);

TETHER_API_END
#ifdef __cplusplus
}
#endif

#endif
