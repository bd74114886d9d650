/*
 * focus.h: libtether's focus tools, on top of a camera session: focus
 * measures of live-view frames, contrast autofocus that drives the lens
 * motor, trap focus, and focus stacking.
 *
 * All of them read live view through tether_liveview_* and move the lens
 * with tether_focus_drive, so they share the camera with anyone else
 * watching, and they run in the calling thread until done: call them from
 * a thread of your own if you need to stay responsive (the studio server
 * does).  Progress is reported through a callback; a `stop` callback ends
 * them early (the result then says "cancelled").
 *
 * How they work, and why, is in docs/FOCUS.md; figures in
 * docs/BENCHMARKS.md.  Included by tether.h.
 */
#ifndef TETHER_FOCUS_H
#define TETHER_FOCUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
TETHER_API_BEGIN

typedef struct tether_camera tether_camera;
typedef struct tether_shot tether_shot;

/* The focus area: a rectangle in fractions of the live-view frame.  All
 * zero means the default, the central 20 % x 20 %. */
typedef struct tether_roi {
    double x, y, w, h;
} tether_roi;

/* Parses "X,Y,W,H" (fractions, or percentages when any value is > 1).
 * Returns 0 or TETHER_ERR_BAD_VALUE. */
int tether_roi_parse(const char *text, tether_roi *out);

/* What a focus tool is doing, for progress reports.  Strings are static. */
typedef struct tether_focus_progress {
    const char *tool;          /* "autofocus", "trap", "stack" */
    const char *stage;         /* e.g. "homing", "sweep", "fine", "approach", "watching", "armed" */
    int frames;                /* frames measured so far */
    double measure;            /* the last sharpness value (arbitrary units) */
    double position;           /* estimated lens position, Near1 steps from the start */
    double fraction;           /* 0..1, how far along (a guess for AF) */
} tether_focus_progress;

typedef void (*tether_focus_progress_fn)(void *user, const tether_focus_progress *p);
typedef bool (*tether_focus_stop_fn)(void *user);

/* ---- focus measures ------------------------------------------------------------ */

typedef struct tether_focus_measures {
    double tenengrad;          /* Sobel energy on the 2x2-binned ROI / mean^2 */
    double tenengrad_coarse;   /* the same on the 8x8-binned ROI: wide capture range */
    double lapv;               /* variance of the Laplacian / mean^2 */
    double dct;                /* mid-band / DC energy of the JPEG's 8x8 blocks */
    double median_residual;    /* the seed's baseline (100x100 centre crop) */
    double mean;               /* brightness of the ROI, 0..255 */
    int roi_width, roi_height; /* pixels */
} tether_focus_measures;

/* Computes every measure on the ROI of one live-view JPEG.  Any thread.
 * Returns 0 or TETHER_ERR_BAD_VALUE (not a JPEG, or the ROI is too small). */
int tether_focus_measure_jpeg(const uint8_t *jpeg, size_t len, const tether_roi *roi,
                              tether_focus_measures *out);

/* ---- contrast autofocus ---------------------------------------------------------- */

typedef enum tether_af_mode {
    TETHER_AF_GLOBAL = 0,      /* the sharpest peak over the whole focus range */
    TETHER_AF_NEAREST,         /* the nearest subject that makes a clear peak */
} tether_af_mode;

typedef struct tether_af_options {
    tether_roi roi;
    tether_af_mode mode;
    bool no_zoom;              /* do not use the camera's live-view magnification */
    int max_range;             /* Near1 steps the lens may have end to end (0: 1200) */
    bool baseline;             /* run the seed documents' sweep-then-refine instead, for
                                  comparison (it needs max_range to be the lens's range) */
    tether_focus_progress_fn progress;
    tether_focus_stop_fn stop;
    void *user;
} tether_af_options;

typedef struct tether_af_result {
    bool focused;              /* a real peak was bracketed and reached */
    char status[16];           /* "focused", "no-peak", "lost-peak", "cancelled", "error" */
    char message[200];         /* one sentence for a person */
    int measured_frames;       /* frames whose sharpness entered the search */
    int settle_frames;         /* frames only watched while the lens moved */
    int commands;              /* drive commands sent */
    double seconds;
    int zoom;                  /* live-view magnification used for the fine search (1: none) */
    int peaks;                 /* clear peaks seen on the sweep */
    double peak_measure;       /* best fine sharpness seen */
    double final_measure;      /* sharpness where the lens ended */
    double position;           /* estimated final position, Near1 steps from the start */
} tether_af_result;

/* Focuses on the ROI: homes the lens to its near stop, sweeps the range
 * in double Near3 steps with a wide-capture measure, fits the peak, scans
 * it in Near2 steps (magnified where the camera can), fits again and
 * approaches the fitted peak from the side it was scanned, so backlash
 * cancels.  Waits for the picture to stop changing instead of sleeping;
 * never has more than two drive commands in flight.
 *
 * Returns 0 when the search ran to its end (r->focused says whether it
 * found focus), or a tether_err when the camera failed (r->message says
 * what happened).  Blocks the calling thread (seconds). */
int tether_focus_auto(tether_camera *cam, const tether_af_options *o, tether_af_result *r);

/* ---- trap focus ------------------------------------------------------------------------ */

typedef struct tether_trap_options {
    tether_roi roi;
    int zoom;                  /* live-view magnification while watching (0/1: none; 5, 10) */
    double lag_ms;             /* the camera's shutter lag to compensate (0: 80 ms) */
    double timeout_s;          /* give up after this long (0: never) */
    const char *dir;           /* where the photo goes (NULL: ".") */
    const char *name_template; /* as tether_capture (NULL: "{name}") */
    const char *session;
    bool baseline;             /* the seed's rule instead (>= 98 % of the peak seen so far),
                                  for comparison */
    tether_focus_progress_fn progress;
    tether_focus_stop_fn stop;
    void *user;
} tether_trap_options;

typedef struct tether_trap_result {
    bool fired;
    char status[16];           /* "fired", "timeout", "cancelled", "error" */
    char reason[200];          /* why it fired, in words */
    int frames;
    double seconds;
    double predicted_ms;       /* how far ahead the peak was predicted when it fired */
    double lag_ms;             /* the total latency it compensated */
    double waited_ms;          /* how long it waited after deciding, for the predicted time */
    tether_shot *shot;         /* NULL, or where to put the photo's files */
} tether_trap_result;

/* Watches the ROI while someone turns the focus ring (or the subject
 * moves) and takes a picture when the subject comes into focus.  Arms only
 * after the sharpness has swung (max >= 2 x min over the recent frames),
 * then fires when a parabola fitted to 1/sharpness predicts the peak
 * within the latency (frame age + shutter lag) plus two frames, or on the
 * way back through a peak it has learned: it holds the camera (no live-view
 * fetch in the way) and sends the shutter command at the predicted time
 * less the latency.  Returns 0 (see r->fired) or a
 * tether_err. */
int tether_focus_trap(tether_camera *cam, const tether_trap_options *o, tether_trap_result *r);

/* ---- focus stacking ---------------------------------------------------------------------- */

typedef struct tether_stack_options {
    int count;                 /* pictures, >= 2 */
    double span;               /* Near1 steps from the first to the last picture */
    int direction;             /* +1: from here towards near, -1: towards far */
    const char *dir;           /* where the pictures go (a folder per stack is made in it) */
    const char *session;
    bool merge;                /* merge with enfuse when it is installed */
    tether_focus_progress_fn progress;
    tether_focus_stop_fn stop;
    void *user;
} tether_stack_options;

typedef struct tether_stack_result {
    int taken;
    char folder[1024];         /* where the frames are */
    char merged[1024];         /* the merged picture, or "" */
    char message[300];         /* e.g. how to merge by hand when enfuse is missing */
    double step;               /* Near1 steps between pictures */
} tether_stack_result;

/* Takes `count` pictures stepping the focus by span / (count - 1) Near1
 * steps in one direction (backlash taken up first), into a new folder
 * "stack-YYYYmmdd-HHMMSS" in o->dir, then merges them with enfuse if asked
 * and installed.  Returns 0 or a tether_err. */
int tether_focus_stack(tether_camera *cam, const tether_stack_options *o, tether_stack_result *r);

/* Can stacks be merged here, i.e. is enfuse an executable in PATH?  Any
 * thread; reads the file system each time. */
bool tether_focus_can_merge(void);

TETHER_API_END
#ifdef __cplusplus
}
#endif

#endif
