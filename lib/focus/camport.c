/*
 * camport: the focus tools on a real camera session.  It wraps a
 * tether_camera in a focus port (port.h) and runs the algorithms
 * (autofocus.c, trap.c, stack.c) on it: these are the public
 * tether_focus_auto, tether_focus_trap and tether_focus_stack.
 *
 * The port reads live view as one more watcher (tether_liveview_subscribe,
 * so the studio's viewers keep their stream), takes pictures through
 * tether_capture, the normal capture path, and moves the lens the way the
 * camera's focus caps (tether_camera_capabilities) say it can:
 *   - relative steps (Canon, Nikon): one tether_focus_drive per command,
 *     which returns when the camera has taken it and paces by the caps; a
 *     size the camera does not offer is sent as that many of the largest
 *     smaller size it has (by the caps' step_units);
 *   - an absolute position (webcams, Pi cameras): absolute.c turns each
 *     step into a target and tether_focus_set sends it;
 *   - none: the tools that move the lens say so before they start.
 * Magnified live view is tether_liveview_zoom, where the caps offer the
 * factor.  Time is the monotonic clock.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "absolute.h"
#include "algorithms.h"
#include "base/clock.h"
#include "base/log.h"
#include "meter.h"
#include "tether/tether.h"

typedef struct camport {
    tether_camera *cam;
    tether_focus_caps focus; /* read when the port opens */
    int caps_rc;             /* why there are no caps (the camera was lost), else 0 */
    focus_abs abs;           /* TETHER_FOCUS_ABSOLUTE: where the lens was sent */
    bool abs_ready;
    const tether_capture_options *capture;
    tether_focus_stop_fn stop;
    void *user;
    int zoom;                /* the factor set, 1 when none */
} camport;

/* How many commands of the largest offered size at most `step` make one
 * nominal `step` (1 when the camera offers that size). */
static int relative_plan(const tether_focus_caps *f, int step, int *sent_step)
{
    *sent_step = step <= f->n_steps ? step : f->n_steps;
    if (*sent_step == step) return 1;
    /* sizes in Near1: the caps' units where the camera gives them all,
     * else the nominal ones (meter.h) */
    double want = fmeter_step_size[step], have = fmeter_step_size[*sent_step];
    if (f->step_units[0] > 0 && f->step_units[*sent_step - 1] > 0)
        have = (double)f->step_units[*sent_step - 1] / f->step_units[0];
    int n = (int)lround(want / have);
    return n < 1 ? 1 : n;
}

static int cp_drive(void *ctx, int direction, int step)
{
    camport *p = ctx;
    if (p->caps_rc != 0) return p->caps_rc;
    if (p->focus.kind == TETHER_FOCUS_ABSOLUTE) {
        if (!p->abs_ready) {
            int now = 0;
            int rc = tether_focus_get(p->cam, &now);
            if (rc != 0) return rc;
            if (!focus_abs_init(&p->abs, p->focus.min, p->focus.max, now)) return TETHER_ERR_NOT_SUPPORTED;
            p->abs_ready = true;
        }
        int position;
        int rc = focus_abs_step(&p->abs, direction, step, &position);
        return rc != 0 ? rc : tether_focus_set(p->cam, position);
    }
    if (p->focus.kind != TETHER_FOCUS_RELATIVE || p->focus.n_steps < 1) return TETHER_ERR_NOT_SUPPORTED;
    int sent;
    int count = relative_plan(&p->focus, step, &sent);
    return tether_focus_drive(p->cam, direction, sent, count);
}

static int cp_next_frame(void *ctx, uint64_t *seq, int timeout_ms, focus_frame *f)
{
    tether_frame *fr = NULL;
    int rc = tether_liveview_next(((camport *)ctx)->cam, seq, timeout_ms, &fr);
    if (rc != 0) return rc;
    *f = (focus_frame){.data = tether_frame_data(fr), .len = tether_frame_size(fr),
                       .t_ns = tether_frame_time_ns(fr), .fetch_ns = tether_frame_fetch_ns(fr), .seq = *seq,
                       .hold = fr};
    return 0;
}

static void cp_release(void *ctx, focus_frame *f)
{
    (void)ctx;
    tether_frame_unref(f->hold);
    f->hold = NULL;
}

static int cp_zoom(void *ctx, int factor, double cx, double cy)
{
    camport *p = ctx;
    if (factor == p->zoom && factor == 1) return 0;
    if (factor > p->focus.zoom_max) return TETHER_ERR_NOT_SUPPORTED;
    int rc = tether_liveview_zoom(p->cam, factor, cx, cy);
    if (rc == 0) p->zoom = factor;
    else if (rc != TETHER_ERR_NOT_SUPPORTED)
        LOG_WARN("focus", "live-view magnification %dx failed: %s", factor, tether_strerror(rc));
    return rc;
}

static int cp_capture(void *ctx, tether_shot *shot)
{
    camport *p = ctx;
    tether_shot local;
    return tether_capture(p->cam, p->capture, shot ? shot : &local);
}

static int cp_hold(void *ctx, bool on)
{
    return tether_camera_hold(((camport *)ctx)->cam, on, on ? 1000 : 0);
}

static int64_t cp_now(void *ctx)
{
    (void)ctx;
    return clock_mono_ns();
}

static void cp_sleep(void *ctx, int64_t ns)
{
    (void)ctx;
    clock_sleep_ns(ns);
}

static bool cp_stopped(void *ctx)
{
    camport *p = ctx;
    return p->stop && p->stop(p->user);
}

static focus_port camport_open(camport *p, tether_camera *cam, const tether_capture_options *capture,
                               tether_focus_stop_fn stop, void *user)
{
    *p = (camport){.cam = cam, .capture = capture, .stop = stop, .user = user, .zoom = 1};
    tether_capabilities caps;
    p->caps_rc = tether_camera_capabilities(cam, &caps);
    if (p->caps_rc == 0) p->focus = caps.focus;
    tether_liveview_subscribe(cam);
    return (focus_port){.ctx = p, .drive = cp_drive, .next_frame = cp_next_frame, .release = cp_release,
                        .zoom = cp_zoom, .capture = cp_capture, .hold = cp_hold, .now_ns = cp_now, .sleep_ns = cp_sleep,
                        .stopped = cp_stopped};
}

static void camport_close(camport *p)
{
    if (p->zoom != 1) cp_zoom(p, 1, 0.5, 0.5);
    tether_liveview_unsubscribe(p->cam);
}

int tether_focus_auto(tether_camera *cam, const tether_af_options *o, tether_af_result *r)
{
    if (cam == NULL || o == NULL || r == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    camport p;
    focus_port port = camport_open(&p, cam, NULL, o->stop, o->user);
    if (p.caps_rc == 0 && p.focus.kind == TETHER_FOCUS_NONE) {
        camport_close(&p);
        *r = (tether_af_result){.focused = false};
        snprintf(r->status, sizeof r->status, "error");
        snprintf(r->message, sizeof r->message, "This camera has no focus control: autofocus cannot move the lens.");
        return TETHER_ERR_NOT_SUPPORTED;
    }
    int rc = o->baseline ? focus_af_baseline_run(&port, o, r) : focus_af_run(&port, o, r);
    camport_close(&p);
    return rc;
}

int tether_focus_trap(tether_camera *cam, const tether_trap_options *o, tether_trap_result *r)
{
    if (cam == NULL || o == NULL || r == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    tether_capture_options co = {.dir = o->dir, .name_template = o->name_template, .session = o->session};
    camport p;
    focus_port port = camport_open(&p, cam, &co, o->stop, o->user);
    int rc = o->baseline ? focus_trap_baseline_run(&port, o, r) : focus_trap_run(&port, o, r);
    camport_close(&p);
    return rc;
}

int tether_focus_stack(tether_camera *cam, const tether_stack_options *o, tether_stack_result *r)
{
    if (cam == NULL || o == NULL || r == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *r = (tether_stack_result){0};
    char folder[1024];
    int rc = focus_stack_folder(o->dir, folder, sizeof folder);
    if (rc != 0) {
        snprintf(r->message, sizeof r->message, "Cannot create a stack folder in %s.", o->dir ? o->dir : ".");
        return rc;
    }
    tether_capture_options co = {.dir = folder, .name_template = "{counter:03d}-{name}", .session = o->session};
    camport p;
    focus_port port = camport_open(&p, cam, &co, o->stop, o->user);
    if (p.caps_rc == 0 && p.focus.kind == TETHER_FOCUS_NONE) {
        camport_close(&p);
        rmdir(folder);
        snprintf(r->message, sizeof r->message, "This camera has no focus control: a stack cannot move the lens.");
        return TETHER_ERR_NOT_SUPPORTED;
    }
    rc = focus_stack_run(&port, o, folder, r);
    camport_close(&p);
    return rc;
}
