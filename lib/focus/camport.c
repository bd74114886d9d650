/*
 * camport: the focus tools on a real camera session.  It wraps a
 * tether_camera in a focus port (port.h) and runs the algorithms
 * (autofocus.c, trap.c, stack.c) on it: these are the public
 * tether_focus_auto, tether_focus_trap and tether_focus_stack.
 *
 * The port reads live view as one more watcher (tether_liveview_subscribe,
 * so the studio's viewers keep their stream), sends one drive command per
 * call (tether_focus_drive with a count of 1, which returns when the
 * camera has taken it), magnifies live view through libgphoto2's Canon
 * "eoszoomposition" and "eoszoom" settings, and takes pictures through
 * tether_capture, the normal capture path.  Time is the monotonic clock.
 *
 * Magnification coordinates: Canon's ZoomPosition is the upper-left
 * corner of the magnified area in the sensor's full-resolution pixels.
 * The body does not say its pixel size through PTP, so the port assumes
 * an 18-megapixel 3:2 sensor (5184x3456, the size of the EOS bodies that
 * libgphoto2's zoom widgets were written for); on another sensor the
 * magnified area lands a little off the focus area's centre, which the
 * body clamps into the frame.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "algorithms.h"
#include "base/clock.h"
#include "base/log.h"
#include "tether/tether.h"

enum { SENSOR_W = 5184, SENSOR_H = 3456 };

typedef struct camport {
    tether_camera *cam;
    const tether_capture_options *capture;
    tether_focus_stop_fn stop;
    void *user;
    int zoom;                /* the factor set, 1 when none */
} camport;

static int cp_drive(void *ctx, int direction, int step)
{
    return tether_focus_drive(((camport *)ctx)->cam, direction, step, 1);
}

static int cp_next_frame(void *ctx, uint64_t *seq, int timeout_ms, focus_frame *f)
{
    tether_frame *fr = NULL;
    int rc = tether_liveview_next(((camport *)ctx)->cam, seq, timeout_ms, &fr);
    if (rc != 0) return rc;
    *f = (focus_frame){.data = tether_frame_data(fr), .len = tether_frame_size(fr),
                       .t_ns = tether_frame_time_ns(fr), .seq = *seq, .hold = fr};
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
    int k = factor > 1 ? factor : 5; /* at 1x the body positions the 5x frame */
    double w = (double)SENSOR_W / k, h = w * 2.0 / 3.0;
    double x = cx * SENSOR_W - w / 2, y = cy * SENSOR_H - h / 2;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x > SENSOR_W - w) x = SENSOR_W - w;
    if (y > SENSOR_H - h) y = SENSOR_H - h;
    char pos[64], fac[16];
    snprintf(pos, sizeof pos, "%d,%d", (int)x, (int)y);
    snprintf(fac, sizeof fac, "%d", factor);
    int rc = tether_setting_set(p->cam, "eoszoomposition", pos);
    if (rc == 0) rc = tether_setting_set(p->cam, "eoszoom", fac);
    if (rc == TETHER_ERR_NOT_FOUND) return TETHER_ERR_NOT_SUPPORTED;
    if (rc == 0) p->zoom = factor;
    else LOG_WARN("focus", "live-view magnification %dx failed: %s", factor, tether_strerror(rc));
    return rc;
}

static int cp_capture(void *ctx, tether_shot *shot)
{
    camport *p = ctx;
    tether_shot local;
    return tether_capture(p->cam, p->capture, shot ? shot : &local);
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
    tether_liveview_subscribe(cam);
    return (focus_port){.ctx = p, .drive = cp_drive, .next_frame = cp_next_frame, .release = cp_release,
                        .zoom = cp_zoom, .capture = cp_capture, .now_ns = cp_now, .sleep_ns = cp_sleep,
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
    rc = focus_stack_run(&port, o, folder, r);
    camport_close(&p);
    return rc;
}
