/*
 * interval: the intervalometer (include/tether/interval.h).
 *
 * The schedule: slot k is due at t0 + k * interval, where t0 is the
 * monotonic time that corresponds to start_epoch, computed once.  Before
 * each capture the run skips the slots whose time has passed by more than
 * half an interval, in one step computed from the clock (never one slot
 * at a time: a start_epoch years ago costs what a second ago does), and
 * reports them as one missed event with the reason (the previous capture
 * outlasted the interval, or the camera was away); then it sleeps until
 * the next slot in steps of at most 100 ms so that stop() is heard.  A
 * capture that fails because the camera is gone starts a wait for
 * libtether's reconnection (tether_camera_connected); the slots that pass
 * meanwhile are missed, and the run resumes on the first slot after the
 * camera is back.  Any other capture error fails that slot only.
 *
 * One thread: the caller's.  Uses only libtether's public API.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "tether/interval.h"

#define POLL_NS 100000000LL /* stop() is asked at least this often */

typedef struct run {
    tether_camera *cam;
    const tether_interval_options *o;
    tether_interval_result *r;
    double t0_mono;        /* monotonic time of slot 0 */
    double start_epoch;
    double late_sum;
} run;

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool stopped(run *u)
{
    if (u->o->stop && u->o->stop(u->o->user)) u->r->stopped = true;
    return u->r->stopped;
}

static void emit(run *u, tether_interval_event_kind kind, long slot, long slots, double late, const tether_shot *shot,
                 int err, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void emit(run *u, tether_interval_event_kind kind, long slot, long slots, double late, const tether_shot *shot,
                 int err, const char *fmt, ...)
{
    tether_interval_event ev = {.kind = kind, .slot = slot, .slots = slots,
                                .due_epoch = u->start_epoch + (double)slot * u->o->interval_s, .late_s = late,
                                .shot = shot, .err = err};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.message, sizeof ev.message, fmt, ap);
    va_end(ap);
    if (kind == TETHER_INTERVAL_MISSED || kind == TETHER_INTERVAL_FAILED || kind == TETHER_INTERVAL_CAMERA_LOST)
        LOG_INFO("interval", "slot %ld%s: %s", slot, slots > 1 ? " and on" : "", ev.message);
    if (u->o->on_event) u->o->on_event(u->o->user, &ev);
}

static double due_mono(const run *u, long slot)
{
    return u->t0_mono + (double)slot * u->o->interval_s;
}

static bool slots_left(const run *u, long slot)
{
    return u->o->count <= 0 || slot < u->o->count;
}

/* Sleeps until monotonic time t, or until stopped.  False when stopped. */
static bool sleep_until(run *u, double t)
{
    for (;;) {
        if (stopped(u)) return false;
        double left = t - clock_mono_s();
        if (left <= 0) return true;
        clock_sleep_ns(left * 1e9 < POLL_NS ? (int64_t)(left * 1e9) : POLL_NS);
    }
}

/* Counts as missed the slots from *slot whose time passed more than half
 * an interval ago, in one step; *slot becomes the first one still to
 * come (or count).  One MISSED event for them all. */
static void skip_passed(run *u, long *slot, const char *why)
{
    double now = clock_mono_s(), iv = u->o->interval_s, limit = now - 0.5 * iv;
    if (!slots_left(u, *slot) || !(due_mono(u, *slot) < limit)) return;
    /* the first slot due at or after limit, from the clock; then a few
     * steps either way for the rounding (bounded: at the far end of a
     * double's precision a step of one slot may not move its time) */
    double k = ceil((limit - u->t0_mono) / iv);
    long first = k > (double)(LONG_MAX / 2) ? LONG_MAX / 2 : k > (double)*slot ? (long)k : *slot + 1;
    for (int i = 0; i < 4 && first > *slot + 1 && !(due_mono(u, first - 1) < limit); i++) first--;
    for (int i = 0; i < 4 && due_mono(u, first) < limit; i++) first++;
    if (u->o->count > 0 && first > u->o->count) first = u->o->count;
    long n = first - *slot;
    u->r->missed += n;
    if (n == 1)
        emit(u, TETHER_INTERVAL_MISSED, *slot, 1, now - due_mono(u, *slot), NULL, 0, "%s", why);
    else
        emit(u, TETHER_INTERVAL_MISSED, *slot, n, now - due_mono(u, *slot), NULL, 0, "%s (%ld slots, %ld to %ld)", why,
             n, *slot, first - 1);
    *slot = first;
}

/* Waits for the camera to come back; false when stopped first. */
static bool wait_for_camera(run *u, long slot)
{
    emit(u, TETHER_INTERVAL_CAMERA_LOST, slot, 1, 0, NULL, TETHER_ERR_DISCONNECTED,
         "The camera is gone; waiting for it to come back.");
    while (!tether_camera_connected(u->cam)) {
        if (stopped(u)) return false;
        clock_sleep_ns(POLL_NS);
    }
    emit(u, TETHER_INTERVAL_CAMERA_BACK, slot, 1, 0, NULL, 0, "The camera is back.");
    return true;
}

int tether_interval_run(tether_camera *cam, const tether_interval_options *o, tether_interval_result *r)
{
    if (r == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *r = (tether_interval_result){0};
    if (cam == NULL || o == NULL || o->capture == NULL || !(o->interval_s > 0) || !isfinite(o->interval_s) ||
        !(o->start_epoch >= 0) || !isfinite(o->start_epoch) || o->count < 0 || o->first_slot < 0)
        return TETHER_ERR_INVALID_ARGUMENT;
    run u = {.cam = cam, .o = o, .r = r};
    double now_wall = wall_s(), now_mono = clock_mono_s();
    u.start_epoch = o->start_epoch > 0 ? o->start_epoch : now_wall;
    u.t0_mono = now_mono + (u.start_epoch - now_wall);

    long slot = o->first_slot;
    if (slot == 0 && due_mono(&u, 0) > now_mono + 0.5)
        emit(&u, TETHER_INTERVAL_WAITING, 0, 1, -(due_mono(&u, 0) - now_mono), NULL, 0,
             "Waiting %.0f s for the first shot.", due_mono(&u, 0) - now_mono);
    skip_passed(&u, &slot, "The run was not running at this slot's time.");
    const char *late_why = "The previous capture took longer than the interval.";
    while (slots_left(&u, slot) && !stopped(&u)) {
        if (!sleep_until(&u, due_mono(&u, slot))) break;
        double late = clock_mono_s() - due_mono(&u, slot);
        tether_shot shot;
        int rc = tether_capture(cam, o->capture, &shot);
        if (rc == TETHER_OK) {
            r->taken++;
            u.late_sum += late;
            if (late > r->max_late_s) r->max_late_s = late;
            emit(&u, TETHER_INTERVAL_SHOT, slot, 1, late, &shot, 0, "Shot %ld taken %.0f ms after its time.", slot,
                 late * 1000);
            late_why = "The previous capture took longer than the interval.";
        } else if (rc == TETHER_ERR_DISCONNECTED || !tether_camera_connected(cam)) {
            r->last_err = rc;
            r->missed++;
            emit(&u, TETHER_INTERVAL_MISSED, slot, 1, late, NULL, rc, "The camera was gone at this slot's time.");
            if (!wait_for_camera(&u, slot)) {
                slot++;
                break;
            }
            late_why = "The camera was gone at this slot's time.";
        } else {
            r->last_err = rc;
            r->failed++;
            char detail[256] = "";
            tether_camera_last_error(cam, detail, sizeof detail);
            emit(&u, TETHER_INTERVAL_FAILED, slot, 1, late, NULL, rc, "The capture failed: %s%s%s", tether_strerror(rc),
                 detail[0] ? ": " : "", detail);
        }
        slot++;
        skip_passed(&u, &slot, late_why);
    }
    r->next_slot = slot;
    r->mean_late_s = r->taken ? u.late_sum / r->taken : 0;
    return TETHER_OK;
}
