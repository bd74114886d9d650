/*
 * autofocus: contrast autofocus through the lens motor (see focus.h and
 * ../shared/research/focus-and-autofocus.md §2).
 *
 * Positions are estimated in Near1 steps by adding up nominal command
 * sizes (the motor reports nothing), so the search is built to stay
 * right when those sizes are off by a few per cent and the gears have
 * backlash:
 *
 *   1. home: Near3 commands, two at a time, until the picture stops
 *      changing at the near stop (after at least the shortest range, or
 *      after clear motion stopped abruptly);
 *   2. sweep: Far3 steps to the far stop, one sample every 90 Near1, on
 *      the coarse (8x8-binned) measure whose wide peak cannot fall
 *      between samples; in "nearest" mode it stops after the first clear
 *      peak;
 *   3. candidates: the best sample (in "global" mode the fine measure's
 *      when it is beside the coarse measure's: two planes), and in
 *      "global" mode other local maxima whose fitted height is at least
 *      0.4 x the best's (a peak between two samples shows low);
 *   4. medium scans: Near3 steps through each candidate on the fine
 *      (2x2-binned) measure, one direction, with a Gaussian (parabola
 *      through the logarithms) fitted to the best three; the highest
 *      fitted peak wins; the first scan also learns how far the position
 *      estimate drifted at the far stop; a sweep sample sharper than
 *      every peak found is beside one missed, and is scanned too;
 *   5. fine scan: magnified live view where the camera has it (the curve
 *      is k times steeper), then Near2 steps through the medium peak in
 *      one direction, so every sample shares the same backlash state;
 *      when a scan's first sample stays its best, one sample a step
 *      behind the start (look_behind()) brackets the peak or sends the
 *      scan again from further out;
 *   6. final approach from the same side as the fine scan: if the peak is
 *      behind, move past it by more than any backlash and come back, so
 *      the two reversals cancel;
 *   7. the verdict (verdict()): "focused" only if the picture there is at
 *      the fine scan's peak and as sharp as the sharpest picture of the
 *      whole search; otherwise the result says which failed.
 *
 * Between moves the lens is given time by watching frames (meter.c), and
 * never more than two commands are sent before the picture has settled.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "algorithms.h"
#include "meter.h"
#include "base/log.h"
#include <stdlib.h>

enum {
    SWEEP_MAX = 64,
    FINE_MAX = 16,
    MIN_RANGE = 600,          /* the shortest focus range a lens has, Near1 */
    DEFAULT_MAX_RANGE = 1200,
    SETTLE_WAIT_MS = 2500,
    STOP_TOL = 60,            /* Near1 a stop may be from its estimate after the sweep's steps */
    ZOOM = 5,
};

static const double S2 = 4.3, S3 = 30.0;
static const double PEAK_RATIO = 0.75;   /* libcamera's contrast ratio */
static const double WHOLE_RATIO = 0.8;   /* of the search's sharpest unmagnified picture, to be focused */
static const double MISSED_RATIO = 1.25; /* a sweep sample this far above the medium peaks: a peak missed */

typedef struct af_point {
    double x;
    double fine;
    double coarse;
} af_point;

typedef struct af {
    const focus_port *port;
    const tether_af_options *o;
    tether_af_result *r;
    focus_meter m;
    int64_t t0;
    int zoom;                /* the magnification the fine scan used */
    bool zoom_left;          /* the verdict already ended it */
    img_region roi;
} af;

tether_roi focus_roi_or_default(const tether_roi *roi)
{
    tether_roi d = {0.4, 0.4, 0.2, 0.2};
    if (roi == NULL || (roi->w <= 0 && roi->h <= 0 && roi->x == 0 && roi->y == 0)) return d;
    tether_roi r = *roi;
    if (r.x < 0) r.x = 0;
    if (r.y < 0) r.y = 0;
    if (r.w > 1 - r.x) r.w = 1 - r.x;
    if (r.h > 1 - r.y) r.h = 1 - r.y;
    return r;
}

static void report(af *a, const char *stage, double measure, double fraction)
{
    if (a->o->progress == NULL) return;
    tether_focus_progress p = {.tool = "autofocus", .stage = stage, .frames = a->m.measured,
                               .measure = measure, .position = a->m.position,
                               .fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction};
    a->o->progress(a->o->user, &p);
}

__attribute__((format(printf, 5, 6)))
static int finish(af *a, int rc, const char *status, bool focused, const char *fmt, ...)
{
    tether_af_result *r = a->r;
    r->focused = focused;
    snprintf(r->status, sizeof r->status, "%s", rc == TETHER_ERR_CANCELLED ? "cancelled" : status);
    if (rc == TETHER_ERR_CANCELLED) snprintf(r->message, sizeof r->message, "Autofocus was cancelled.");
    else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
    }
    r->measured_frames = a->m.measured;
    r->settle_frames = a->m.watched;
    r->commands = a->m.commands;
    r->seconds = (double)(a->port->now_ns(a->port->ctx) - a->t0) / 1e9;
    r->zoom = a->zoom;
    r->position = a->m.position;
    if (a->zoom > 1 && !a->zoom_left && a->port->zoom) a->port->zoom(a->port->ctx, 1, 0.5, 0.5);
    report(a, "done", r->final_measure, 1);
    fmeter_free(&a->m);
    return rc == TETHER_ERR_CANCELLED ? 0 : rc;
}

/* Ends the run after a move failed, saying why in words a photographer
 * can act on. */
static int drive_failed(af *a, int rc)
{
    if (rc == TETHER_ERR_NOT_SUPPORTED)
        return finish(a, rc, "error", false, "This camera has no focus drive: autofocus cannot move the lens.");
    if (rc == TETHER_ERR_DISCONNECTED)
        return finish(a, rc, "error", false, "The camera was lost while the lens moved.");
    return finish(a, rc, "error", false, "The lens did not move (%s).", tether_strerror(rc));
}

/* Sends `count` commands of one size, two at a time, settling after each
 * pair (the last settle's sample in *s).  *motion: any motion seen. */
static int move_steps(af *a, int dir, int step, int count, focus_sample *s, bool *motion, bool use_last)
{
    if (motion) *motion = false;
    for (int i = 0; i < count;) {
        int n = count - i >= 2 ? 2 : 1;
        for (int k = 0; k < n; k++) {
            int rc = fmeter_drive(&a->m, dir, step);
            if (rc != 0) return rc;
            if (a->m.stop_hit == dir) break;
        }
        i += n;
        if (a->m.stop_hit == dir) i = count; /* the camera said: no further */
        bool mv = false;
        int rc = fmeter_settle(&a->m, s, &mv, use_last && i == count, SETTLE_WAIT_MS);
        if (rc != 0) return rc;
        if (motion) *motion = *motion || mv;
    }
    return 0;
}

/* Moves `distance` Near1 units (nominal) in direction dir as Near3s, then
 * Near2s, then Near1s.  Two commands in flight at most. */
static int move_by(af *a, int dir, double distance, focus_sample *s, bool use_last)
{
    if (distance < 0.5) return 0;
    int n3 = (int)floor(distance / S3 + 1e-9);
    double rest = distance - n3 * S3;
    int n2 = (int)floor(rest / S2 + 1e-9);
    rest -= n2 * S2;
    int n1 = (int)lround(rest);
    int rc = 0;
    if (n3 > 0) rc = move_steps(a, dir, 3, n3, s, NULL, use_last && n2 == 0 && n1 == 0);
    if (rc == 0 && n2 > 0) rc = move_steps(a, dir, 2, n2, s, NULL, use_last && n1 == 0);
    if (rc == 0 && n1 > 0) rc = move_steps(a, dir, 1, n1, s, NULL, use_last);
    return rc;
}

/* The vertex of the parabola through (-1, ya), (0, yb), (1, yc), in units
 * of the spacing, clamped to [-1, 1]; 0 if they do not bend down. */
static double vertex3(double ya, double yb, double yc)
{
    double den = ya - 2 * yb + yc;
    if (!(den < 0)) return 0;
    double v = 0.5 * (ya - yc) / den;
    return v < -1 ? -1 : v > 1 ? 1 : v;
}

static double logv(double v)
{
    return log(v > 1e-12 ? v : 1e-12);
}

/* Gaussian fit through the best point and its neighbours: x of the peak. */
static double fit_peak(const af_point *p, int n, int best, bool fine)
{
    if (best <= 0 || best >= n - 1) return p[best].x;
    double ya = logv(fine ? p[best - 1].fine : p[best - 1].coarse);
    double yb = logv(fine ? p[best].fine : p[best].coarse);
    double yc = logv(fine ? p[best + 1].fine : p[best + 1].coarse);
    double h = p[best + 1].x - p[best].x;
    return p[best].x + vertex3(ya, yb, yc) * h;
}

/* The coarse peak height of a sweep at sample i, from the Gaussian through
 * it and its neighbours (a peak between two samples shows lower). */
static double peak_height_c(const af_point *p, int n, int i)
{
    if (i <= 0 || i >= n - 1) return p[i].coarse;
    double ya = logv(p[i - 1].coarse), yb = logv(p[i].coarse), yc = logv(p[i + 1].coarse);
    double den = ya - 2 * yb + yc;
    if (!(den < 0)) return p[i].coarse;
    double v = vertex3(ya, yb, yc);
    return exp(yb + 0.25 * (yc - ya) * v);
}

/* The lowest fine measure of a sweep's n samples: the blur's floor. */
static double fine_floor(const af_point *p, int n)
{
    double lo = p[0].fine;
    for (int i = 1; i < n; i++)
        if (p[i].fine < lo) lo = p[i].fine;
    return lo;
}

/* Is a sweep sample's fine measure clearly above the lowest of the sweep
 * (fine_floor): a subject in focus there, not drift in the blur? */
static bool above_floor(double fine, double fine_lo)
{
    return fine > 3 * fine_lo;
}

/* Index of the sweep's chosen peak: the highest (global), or the first
 * clear one from the near end that stands above the fine measure's floor
 * (nearest).  -1 if there is none. */
static int choose_peak(const af_point *p, int n, tether_af_mode mode, int *peaks)
{
    int best = 0;
    double lo = p[0].coarse;
    for (int i = 1; i < n; i++) {
        if (p[i].coarse > p[best].coarse) best = i;
        if (p[i].coarse < lo) lo = p[i].coarse;
    }
    /* clear peaks: local maxima standing above the lowest value on each
     * side by the contrast ratio */
    double fine_lo = fine_floor(p, n);
    int count = 0, first = -1;
    for (int i = 0; i < n; i++) {
        if ((i > 0 && p[i - 1].coarse > p[i].coarse) || (i < n - 1 && p[i + 1].coarse > p[i].coarse)) continue;
        double left = p[i].coarse, right = p[i].coarse;
        for (int k = i - 1; k >= 0 && p[k].coarse <= p[i].coarse; k--)
            if (p[k].coarse < left) left = p[k].coarse;
        for (int k = i + 1; k < n && p[k].coarse <= p[i].coarse; k++)
            if (p[k].coarse < right) right = p[k].coarse;
        double base = left > right ? left : right;
        if (i == 0) base = right;
        if (i == n - 1) base = left;
        if (base <= PEAK_RATIO * p[i].coarse) {
            count++;
            if (first < 0 && above_floor(p[i].fine, fine_lo)) first = i;
        }
    }
    *peaks = count;
    if (!(lo <= PEAK_RATIO * p[best].coarse)) return -1;
    return mode == TETHER_AF_NEAREST && first >= 0 ? first : best;
}

/* In nearest mode: has the sweep gone clearly past a first peak?  The
 * peak must stand above the fine measure's floor (above_floor): far from
 * any subject the coarse measure of the blur still drifts, and falling
 * from the near stop it looked like a peak there (the bright scene,
 * seeds 1-10: "focused" 420-490 Near1 from the subject in 6). */
static bool passed_peak(const af_point *p, int n)
{
    if (n < 3) return false;
    int best = 0;
    double lo_before = p[0].coarse;
    for (int i = 1; i < n; i++)
        if (p[i].coarse > p[best].coarse) best = i;
    for (int i = 0; i <= best; i++)
        if (p[i].coarse < lo_before) lo_before = p[i].coarse;
    bool rose = best == 0 || lo_before <= PEAK_RATIO * p[best].coarse;
    return rose && above_floor(p[best].fine, fine_floor(p, n)) && best <= n - 3 && p[n - 1].coarse <= 0.6 * p[best].coarse &&
           p[n - 2].coarse <= 0.85 * p[best].coarse;
}

static int start_zoom(af *a)
{
    a->zoom = 1;
    if (a->o->no_zoom || a->port->zoom == NULL) return 0;
    double cx = a->roi.x + a->roi.w / 2, cy = a->roi.y + a->roi.h / 2;
    int rc = a->port->zoom(a->port->ctx, ZOOM, cx, cy);
    if (rc == TETHER_ERR_NOT_SUPPORTED) return 0;
    if (rc != 0) return rc;
    a->zoom = ZOOM;
    fmeter_set_roi(&a->m, fmeter_zoomed_roi(a->roi, ZOOM, cx, cy));
    /* wait for the magnified picture, then learn its noise */
    a->m.last_cmd_ns = a->port->now_ns(a->port->ctx);
    focus_sample s;
    rc = fmeter_settle(&a->m, &s, NULL, false, SETTLE_WAIT_MS);
    if (rc == 0) rc = fmeter_calibrate(&a->m, 3, &s);
    return rc;
}

/* Goes to x (estimated) so that the last move there was in direction
 * dir: straight there if it lies ahead, else past it by `over` and back
 * (the two reversals' backlash cancels).  The settled sample at x is
 * counted as measured when `use`. */
static int goto_dir(af *a, double x, int dir, double over, focus_sample *s, bool use)
{
    double d = (x - a->m.position) * dir;
    if (d >= 0.5) return move_by(a, dir, d, s, use);
    if (d > -0.5 && a->m.last_direction == dir) {
        int rc = fmeter_frame(&a->m, s, 3000);
        if (rc == 0) {
            a->m.prev = *s;
            if (use) fmeter_book(&a->m, s);
            else a->m.watched++;
        }
        return rc;
    }
    int rc = move_by(a, -dir, -d + over, s, false);
    return rc ? rc : move_by(a, dir, over, s, use);
}

/* A scan in direction dir from the current position in steps of `step`
 * (Near2 or Near3), until it has clearly passed the best sample (on the
 * fine measure), reached max samples, or stopped moving at the stop that
 * is estimated at stop_x (within stop_tol): a picture that shows no
 * motion there, with both measures where the last sample had them, means
 * the stop when the sharpness fell (the last sample repeats a lower one)
 * or the estimate is at or past the stop (a flat picture at the end of
 * the range).  Away from the stop, such a picture is
 * a sample like any other: in dim light the noise can hide a change. */
static int scan(af *a, int dir, int step, int max, double stop_x, double stop_tol, af_point *pts, int *np,
                int *best, bool *hit_stop)
{
    focus_sample s = a->m.prev;
    int n = 0;
    pts[n++] = (af_point){a->m.position, s.fine, s.coarse};
    *best = 0;
    *hit_stop = false;
    while (n < max) {
        int rc = fmeter_drive(&a->m, dir, step);
        if (rc == 0 && a->m.stop_hit == dir) {
            *hit_stop = true; /* the camera said so; the lens did not move */
            break;
        }
        if (rc == 0) rc = fmeter_settle(&a->m, &s, NULL, true, SETTLE_WAIT_MS);
        if (rc != 0) return rc;
        double from = a->m.position - dir * fmeter_step_size[step];
        double to_stop = dir * (stop_x - from); /* <= 0: at or past the stop's estimate */
        /* at a stop the picture is the last one again: no change at rest,
         * and both measures where they were (a lens that moved in dim
         * light can hide from the first, not from the second) */
        double jf = a->m.jitter > 0.03 ? a->m.jitter : 0.03, jc = a->m.jitter_coarse > 0.03 ? a->m.jitter_coarse : 0.03;
        bool same = fabs(s.fine - pts[n - 1].fine) <= 4 * jf * pts[n - 1].fine &&
                    fabs(s.coarse - pts[n - 1].coarse) <= 4 * jc * pts[n - 1].coarse;
        if (!fmeter_moved(&a->m) && same && to_stop <= stop_tol &&
            (pts[*best].fine > 1.5 * s.fine || to_stop <= 0)) {
            /* nothing moved: a stop; this sample repeats the last */
            *hit_stop = true;
            a->m.position = from;
            break;
        }
        pts[n] = (af_point){a->m.position, s.fine, s.coarse};
        if (pts[n].fine > pts[*best].fine) *best = n;
        n++;
        report(a, step == 2 ? "fine" : "medium", s.fine, 0.7 + 0.02 * n);
        /* bracketed: the best has a sample on each side and the newest is
         * clearly lower (by more than the noise could make it), or two
         * samples have come since the best */
        double drop = 6 * a->m.jitter > 0.25 ? 1 - 6 * a->m.jitter : 0.75;
        if (n >= 3 && *best <= n - 3) break;
        if (n >= 3 && *best <= n - 2 && pts[n - 1].fine < drop * pts[*best].fine) break;
    }
    *np = n;
    return 0;
}

/* A scan whose first sample stayed the best has not bracketed the peak:
 * it lies behind the start, by less than a step or by more.  One sample a
 * step behind the start tells which, at the price of one frame where
 * scanning again from further out costs five to seven.  The lens goes
 * back n steps and a few more, then comes forward those few, all in the
 * scan's own step (a Near3 there and back would add its own size error,
 * 1.5 Near1 each on the simulator): the two reversals' backlash cancels
 * and the sample shares the scan's backlash state.  Lower than the
 * start: the scan's samples behind it bracket the peak, and pts gains it
 * in front (*bracketed).  Not lower: the peak is further out; pts is left
 * as it was. */
static int look_behind(af *a, int dir, int step, af_point *pts, int *np, int *best, bool *bracketed)
{
    *bracketed = false;
    int n = *np;
    if (n >= FINE_MAX) return 0;
    focus_sample s;
    int over = (int)ceil(3 * S2 / fmeter_step_size[step] - 1e-9); /* more than any backlash */
    int rc = move_steps(a, -dir, step, n + over, &s, NULL, false);
    if (rc == 0 && a->m.stop_hit == 0) rc = move_steps(a, dir, step, over, &s, NULL, true);
    if (rc != 0) return rc;
    if (a->m.stop_hit != 0) return 0; /* a stop is in the way: no step behind */
    af_point p = {a->m.position, s.fine, s.coarse};
    LOG_DEBUG("focus", "look behind: %.4g at %.1f against the start's %.4g", p.fine, p.x, pts[0].fine);
    if (p.fine >= pts[0].fine) return 0;
    memmove(pts + 1, pts, (size_t)n * sizeof *pts);
    pts[0] = p;
    *np = n + 1;
    *best = 1;
    *bracketed = true;
    return 0;
}

/* The sharpest fine sample of a sweep at i and its neighbours. */
static double near_fine(const af_point *p, int n, int i)
{
    double v = p[i].fine;
    if (i > 0 && p[i - 1].fine > v) v = p[i - 1].fine;
    if (i < n - 1 && p[i + 1].fine > v) v = p[i + 1].fine;
    return v;
}

/* The widest spacing of a sweep's samples around i (Near1). */
static double spacing_near(const af_point *p, int n, int i)
{
    double w = 0;
    if (i > 0 && fabs(p[i].x - p[i - 1].x) > w) w = fabs(p[i].x - p[i - 1].x);
    if (i < n - 1 && fabs(p[i + 1].x - p[i].x) > w) w = fabs(p[i + 1].x - p[i].x);
    return w;
}

/* The variance (Near1^2) of the Gaussian through a scan's best point and
 * its neighbours on the fine measure; -1 when they do not bend down. */
static double curve_variance(const af_point *p, int n, int best)
{
    if (best <= 0 || best >= n - 1) return -1;
    double h = p[best + 1].x - p[best].x;
    double den = logv(p[best - 1].fine) - 2 * logv(p[best].fine) + logv(p[best + 1].fine);
    return den < 0 && h != 0 ? -h * h / den : -1;
}

/* The peak height of a scan, from the Gaussian through its best point. */
static double peak_height(const af_point *p, int n, int best)
{
    if (best <= 0 || best >= n - 1) return p[best].fine;
    double ya = logv(p[best - 1].fine), yb = logv(p[best].fine), yc = logv(p[best + 1].fine);
    double v = vertex3(ya, yb, yc);
    double den = ya - 2 * yb + yc;
    return exp(yb + (den < 0 ? 0.25 * (yc - ya) * v : 0));
}

/* The end of a search: "focused" only when the picture where the lens
 * ended (s, after the approach) is
 *   - at the peak the fine scan fitted: at least PEAK_RATIO of the fine
 *     scan's best sample, and
 *   - as sharp as the sharpest picture of the whole search (sweep and
 *     medium scans included; in "nearest" mode, of the chosen peak's
 *     medium scan; whole_of says which): at least WHOLE_RATIO of it,
 *     compared on the unmagnified picture, so a search that lost its way
 *     and fine-scanned a blurred region cannot pass.
 * A magnified search looks at the unmagnified picture once more for the
 * second (one more measured frame). */
static int verdict(af *a, const focus_sample *s, const af_point *fine, int nf, double best_whole,
                   const char *whole_of)
{
    double peak = 0;
    for (int i = 0; i < nf; i++)
        if (fine[i].fine > peak) peak = fine[i].fine;
    double whole = s->fine;
    if (a->zoom > 1) {
        int rc = a->port->zoom ? a->port->zoom(a->port->ctx, 1, 0.5, 0.5) : 0;
        if (rc != 0) return finish(a, rc, "error", false, "Live-view magnification could not be ended.");
        a->zoom_left = true;
        fmeter_set_roi(&a->m, a->roi);
        a->m.last_cmd_ns = a->port->now_ns(a->port->ctx);
        focus_sample w;
        rc = fmeter_settle(&a->m, &w, NULL, true, SETTLE_WAIT_MS);
        if (rc != 0) return drive_failed(a, rc);
        whole = w.fine;
    }
    double of_fit = peak > 0 ? s->fine / peak : 0, of_best = best_whole > 0 ? whole / best_whole : 0;
    LOG_DEBUG("focus", "verdict: %.0f%% of the fine scan's peak, %.0f%% of the search's sharpest", 100 * of_fit,
              100 * of_best);
    if (of_best < WHOLE_RATIO)
        return finish(a, 0, "lost-peak", false,
                      "The lens ended where the picture is %.0f%% as sharp as the sharpest picture of %s: "
                      "it did not get back to the peak (the subject or the camera may have moved).",
                      100.0 * of_best, whole_of);
    if (of_fit < PEAK_RATIO)
        return finish(a, 0, "lost-peak", false,
                      "The lens did not come back to the peak (%.0f%% of the best sharpness of the fine scan): "
                      "it may have slipped, or the subject moved.",
                      100.0 * of_fit);
    return finish(a, 0, "focused", true,
                  "Focused (%.0f%% of the fine scan's best sharpness, %.0f%% of the sharpest picture of %s).",
                  100.0 * of_fit, 100.0 * of_best, whole_of);
}

int focus_af_run(const focus_port *port, const tether_af_options *o, tether_af_result *r)
{
    *r = (tether_af_result){0};
    af a = {.port = port, .o = o, .r = r, .zoom = 1};
    tether_roi roi = focus_roi_or_default(&o->roi);
    a.roi = (img_region){roi.x, roi.y, roi.w, roi.h};
    a.t0 = port->now_ns(port->ctx);
    fmeter_init(&a.m, port, a.roi);
    double max_range = o->max_range > 0 ? o->max_range : DEFAULT_MAX_RANGE;
    int rc = 0;
    if (port->zoom) port->zoom(port->ctx, 1, 0.5, 0.5);

    focus_sample s;
    rc = fmeter_calibrate(&a.m, 3, &s);
    if (rc != 0) return finish(&a, rc, "error", false, "Could not read live view.");

    /* 1. home to the near stop: at least the shortest range, then until
     * the picture stops changing */
    report(&a, "homing", s.fine, 0);
    int quiet = 0;
    bool clear_motion = false; /* the last pair that moved showed it clearly */
    for (double travel = 0; travel < max_range;) {
        rc = move_steps(&a, +1, 3, 2, &s, NULL, false);
        if (rc != 0) return drive_failed(&a, rc);
        if (a.m.stop_hit > 0) break; /* the camera said where the near stop is */
        travel += 2 * S3;
        if (fmeter_moved(&a.m)) {
            quiet = 0;
            clear_motion = fmeter_moved_clearly(&a.m);
        } else {
            quiet++;
        }
        /* Far from focus a move may show too little to see, so the stop is
         * trusted only after the shortest range, or when clear motion
         * ended abruptly twice in a row. */
        if (quiet >= 2 && (travel >= MIN_RANGE || clear_motion)) break;
        report(&a, "homing", s.fine, 0.2 * travel / max_range);
    }

    /* 2. sweep towards the far stop */
    af_point sweep[SWEEP_MAX];
    int n = 0;
    a.m.position = 0;
    fmeter_book(&a.m, &s); /* the sample at the stop is the sweep's first */
    a.m.watched--;
    sweep[n++] = (af_point){0, s.fine, s.coarse};
    double uncertain = 0; /* the lens is within uncertain/2 of its estimate */
    /* One sample every 90 Near1 (three Near3s), over the whole range: a
     * peak shows from 90 away on the coarse measure, and at 120 a plane's
     * peak can be missed.  (Every 60 once the sharpness rises costs more
     * and places no better: 20 frames median bright against 18, and 19.5
     * against 19 on two planes, `focuslab af --trials 20`.) */
    const int per_sample = 3;
    while (n < SWEEP_MAX) {
        /* two commands at a time; after each pair the picture says whether
         * the lens still moves, so the far stop is placed within one pair
         * (only the sample's last settle enters the search) */
        bool quiet_pair = false, moved_before = false;
        double pair_from = a.m.position;
        for (int k = 0; k < per_sample; k += 2) {
            int cnt = per_sample - k >= 2 ? 2 : 1;
            /* where the far stop may be, one command at a time: it is then
             * placed within a Near3 either way, not two, and the way back
             * to a peak is that much shorter to search */
            if (-a.m.position + 2 * S3 > MIN_RANGE) cnt = 1;
            pair_from = a.m.position;
            rc = move_steps(&a, -1, 3, cnt, &s, NULL, k + cnt >= per_sample);
            if (rc != 0) return drive_failed(&a, rc);
            if (a.m.stop_hit < 0) break;
            if (-a.m.position >= MIN_RANGE && !fmeter_moved(&a.m)) {
                quiet_pair = true;
                break;
            }
            moved_before = true;
            if (cnt == 1) k--; /* (one command of the pair went) */
        }
        if (a.m.stop_hit < 0) {
            /* The camera said the lens is at the far stop: it is within the
             * last command's travel of the estimate (the command before
             * the refusal may have been cut short at the stop). */
            if (a.m.position != sweep[n - 1].x) sweep[n++] = (af_point){a.m.position, s.fine, s.coarse};
            uncertain = S3;
            break;
        }
        if (quiet_pair) {
            /* The picture did not change over the last commands: the lens
             * is at the far stop.  Where that is: the commands before
             * may have been cut short by it (the stop is up to a Near3
             * before pair_from), and in a region too blurred to show a
             * small motion these may have moved a little (up to their
             * travel past it).  Take the middle.  (Measured on the
             * virtual camera, the error leans 11-29 Near1 to the near
             * side: in a dim or blurred picture the last command often
             * moved the lens unseen.  The middle of the last command's
             * travel centres it but costs the odd lens a frame:
             * docs/FOCUS.md.)  The picture there is a sample of the
             * sweep if the lens got there by moving since the last one. */
            double moved_to = a.m.position;
            uncertain = pair_from - moved_to + S3;
            a.m.position = 0.5 * (pair_from + S3 + moved_to);
            if (moved_before) sweep[n++] = (af_point){a.m.position, s.fine, s.coarse};
            break;
        }
        sweep[n++] = (af_point){a.m.position, s.fine, s.coarse};
        double travel = -a.m.position;
        report(&a, "sweep", s.coarse, 0.2 + 0.5 * travel / max_range);
        if (travel >= max_range) break;
        if (o->mode == TETHER_AF_NEAREST && passed_peak(sweep, n)) break;
    }

    double far_stop = a.m.position; /* estimated; the near stop is at 0 */
    LOG_DEBUG("focus", "sweep: %d samples, far stop at %.0f (+-%.0f); %d frames measured so far", n, far_stop,
              uncertain / 2, a.m.measured);

    /* 3. candidate peaks */
    int best = choose_peak(sweep, n, o->mode, &r->peaks);
    if (best < 0) {
        double hi = sweep[0].coarse, lo = sweep[0].coarse;
        for (int i = 1; i < n; i++) {
            if (sweep[i].coarse > hi) hi = sweep[i].coarse;
            if (sweep[i].coarse < lo) lo = sweep[i].coarse;
        }
        return finish(&a, 0, "no-peak", false,
                      "No focus peak: the sharpness of the focus area changed by %.0f%% at most "
                      "over the whole range; pick an area with detail.",
                      lo > 0 ? 100.0 * (hi / lo - 1) : 0);
    }
    int cand[5], nc = 0;
    bool cand_fine[5] = {false}; /* found on the fine measure */
    cand[nc++] = best;
    int fb = 0; /* the sweep's sharpest sample on the fine measure */
    for (int i = 1; i < n; i++)
        if (sweep[i].fine > sweep[fb].fine) fb = i;
    bool agree = best == fb; /* both measures' best sample is the same */
    if (o->mode == TETHER_AF_GLOBAL && abs(best - fb) == 1) {
        /* The two measures' best samples side by side: the peak the
         * medium scan will measure (on the fine measure) is by the fine
         * one's.  The coarse measure's wide curve sums the planes, and
         * with two planes in the focus area its best sample can be a
         * plane of large shapes a sample away from the sharper one; its
         * fit then starts the scan a sample short, and the scan goes
         * back for it (two planes, seeds 1-100: 19.7 frames on average
         * against 19.0 from the fine sample; one plane unchanged).
         * Global mode only: in "nearest" the fine sample a sample
         * further can be the other plane. */
        cand[0] = fb;
        cand_fine[0] = true;
    }
    if (o->mode == TETHER_AF_GLOBAL) {
        /* other clear peaks that could be higher than the best sample says:
         * a peak between two samples shows at about half its height */
        for (int i = 0; i < n && nc < 3; i++) {
            if (i == best) continue;
            bool local = (i == 0 || sweep[i - 1].coarse <= sweep[i].coarse) &&
                         (i == n - 1 || sweep[i + 1].coarse <= sweep[i].coarse);
            if (local && peak_height_c(sweep, n, i) >= 0.4 * peak_height_c(sweep, n, best) &&
                abs(i - best) >= 2)
                cand[nc++] = i;
        }
        /* The coarse measure ranks a plane of large shapes above one of
         * fine texture that the fine measure (and the eye) finds sharper:
         * the sweep's sharpest sample on the fine measure is a candidate
         * too, when it stands clearly above the fine measure's floor. */
        bool near_one = false;
        for (int c = 0; c < nc; c++) near_one = near_one || abs(cand[c] - fb) < 2;
        if (!near_one && above_floor(sweep[fb].fine, fine_floor(sweep, n))) {
            cand_fine[nc] = true;
            cand[nc++] = fb;
        }
    }

    /* 4. medium scans, Near3 steps towards near, the candidate whose
     * sweep samples were sharpest (fine measure) first: once its peak is
     * measured, a candidate that cannot reach it is not scanned */
    for (int i = 0; i < nc; i++)
        for (int k = i + 1; k < nc; k++)
            if (near_fine(sweep, n, cand[k]) > near_fine(sweep, n, cand[i])) {
                int t = cand[i];
                cand[i] = cand[k];
                cand[k] = t;
                bool f = cand_fine[i];
                cand_fine[i] = cand_fine[k];
                cand_fine[k] = f;
            }
    double shift = 0;        /* estimated lens position minus the sweep's estimate */
    double peak_x = 0, peak_h = -1;
    double peak_whole = 0;   /* the sharpest sample of the chosen peak's medium scan */
    double sigma2 = -1;      /* the fine measure's curve, a Gaussian's variance (Near1^2), once known */
    bool shift_known = false;
    for (int c = 0; c < nc; c++) {
        if (c > 0 && sigma2 > 0) {
            /* the sharpest this candidate can be: its sharpest nearby sweep
             * sample, as far from the peak as half the sweep's spacing */
            double d = 0.5 * spacing_near(sweep, n, cand[c]);
            double bound = near_fine(sweep, n, cand[c]) * exp(d * d / (2 * sigma2));
            if (bound < 0.8 * peak_h) {
                LOG_DEBUG("focus", "candidate %d: sweep x %.0f cannot reach the best peak (at most %.4g of %.4g)",
                          c, sweep[cand[c]].x, bound, peak_h);
                continue;
            }
        }
        double xc = fit_peak(sweep, n, cand[c], cand_fine[c]) + shift;
        /* The first scan starts half a step short of the candidate, and
         * half the far stop's uncertainty more, unless the sweep found
         * this one peak and both measures put it at the same sample: the
         * far stop's estimate leans to the near side (the scan then finds
         * the peak further on, +14 Near1 on average bright, +28 dim), so
         * a lone peak's scan starts half a step short of it.  With other
         * candidates, or the fine measure's best sample beside the coarse
         * one's (two planes; the fit is then the fine measure's, whose
         * narrow curve puts the peak near that sample), the fit can be
         * off either way. */
        bool lone = nc == 1 && agree;
        double margin = shift_known ? 15 : lone ? 0 : 0.5 * uncertain;
        double start = xc - 0.5 * S3 - margin;
        af_point med[FINE_MAX];
        int nm = 0, mb = 0;
        bool stop = false;
        for (int attempt = 0; attempt < 3; attempt++) {
            rc = goto_dir(&a, start, +1, S3, &s, true);
            if (rc == 0) rc = scan(&a, +1, 3, 8, shift, STOP_TOL + (shift_known ? 0 : 0.5 * uncertain), med, &nm, &mb, &stop);
            if (rc != 0) return drive_failed(&a, rc);
            if (mb > 0 || stop) break;
            bool bracketed;
            rc = look_behind(&a, +1, 3, med, &nm, &mb, &bracketed);
            if (rc != 0) return drive_failed(&a, rc);
            if (bracketed) break;
            start = med[0].x - 3 * S3; /* the peak is further out */
        }
        double xm = fit_peak(med, nm, mb, true);
        double h = peak_height(med, nm, mb);
        if (!shift_known) {
            shift = xm - fit_peak(sweep, n, cand[c], cand_fine[c]);
            shift_known = true;
        }
        if (stop) a.m.position = shift; /* the near stop, where the sweep began */
        LOG_DEBUG("focus", "candidate %d: sweep x %.0f, medium peak %.1f height %.4g (%d samples), shift %.1f",
                  c, sweep[cand[c]].x, xm, h, nm, shift);
        if (h > peak_h) {
            peak_h = h;
            peak_x = xm;
            peak_whole = 0;
            for (int i = 0; i < nm; i++)
                if (med[i].fine > peak_whole) peak_whole = med[i].fine;
        }
        double v = curve_variance(med, nm, mb);
        if (v > 0 && (sigma2 < 0 || v > sigma2)) sigma2 = v; /* (the wider curve: the safer bound) */
        if (o->mode == TETHER_AF_GLOBAL && c == nc - 1 && nc < 5) {
            /* A sweep sample sharper on the fine measure than every peak
             * the medium scans found is beside a peak they did not reach
             * (two planes 90 Near1 apart: the coarse measure's best sample
             * is on one, its neighbour on the fine measure's): scan it.
             * Global mode only, as the other extra candidates: "nearest"
             * keeps to the first peak. */
            bool scanned = false;
            for (int k = 0; k < nc; k++) scanned = scanned || cand[k] == fb;
            if (!scanned && sweep[fb].fine > MISSED_RATIO * peak_h) {
                LOG_DEBUG("focus", "sweep x %.0f: %.4g on the fine measure, above every medium peak (%.4g): scanned too",
                          sweep[fb].x, sweep[fb].fine, peak_h);
                cand_fine[nc] = true;
                cand[nc++] = fb;
            }
        }
    }

    LOG_DEBUG("focus", "medium scans: peak at %.1f; %d frames measured so far", peak_x, a.m.measured);
    /* the sharpest whole-picture (unmagnified) sample of the search: the
     * verdict compares the end with it.  In "nearest" mode, that of the
     * chosen peak's medium scan: the sweep goes on past the first peak
     * until it has clearly passed it and can see the other, sharper
     * plane, which the search was asked not to take (two planes, seeds
     * 1-10: the lens within a plane's depth of field in 10, and
     * "lost-peak" in all 10, at 10-42 % of the other plane). */
    double best_whole = o->mode == TETHER_AF_NEAREST ? peak_whole : a.m.best_fine;
    const char *whole_of = o->mode == TETHER_AF_NEAREST ? "the nearest peak's scan" : "the search";

    /* 5. fine scan towards far, magnified if the camera can */
    rc = start_zoom(&a);
    if (rc != 0) return finish(&a, rc, "error", false, "Live-view magnification failed.");
    af_point fine[FINE_MAX];
    int nf = 0, fbest = 0;
    bool stop = false;
    double start = peak_x + 0.5 * S2;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = goto_dir(&a, start, -1, S3, &s, true);
        if (rc == 0) rc = scan(&a, -1, 2, FINE_MAX, far_stop, STOP_TOL, fine, &nf, &fbest, &stop);
        if (rc != 0) return drive_failed(&a, rc);
        if (fbest > 0 || stop) break;
        bool bracketed;
        rc = look_behind(&a, -1, 2, fine, &nf, &fbest, &bracketed);
        if (rc != 0) return drive_failed(&a, rc);
        if (bracketed) break;
        start = fine[0].x + 4 * S2; /* the peak is further: scan again from further out */
    }
    double peak = fine[fbest].fine;
    r->peak_measure = peak;
    double xf = fit_peak(fine, nf, fbest, true);

    LOG_DEBUG("focus", "fine scan: %d samples, peak at %.1f; %d frames measured so far", nf, xf, a.m.measured);
    for (int i = 0; i < nf; i++) LOG_DEBUG("focus", "  fine %d: %.1f %.4g", i, fine[i].x, fine[i].fine);
    /* 6. approach from the side the fine scan moved in */
    report(&a, "approach", s.fine, 0.95);
    rc = goto_dir(&a, xf, -1, 3 * S2, &s, true);
    if (rc != 0) return drive_failed(&a, rc);
    r->final_measure = s.fine;
    return verdict(&a, &s, fine, nf, best_whole, whole_of);
}
