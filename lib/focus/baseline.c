/*
 * baseline: the seed documents' focus algorithms, kept as they were
 * described so that tether's are measured against them in one harness
 * (see algorithms.h; seeds 000 and 001).
 *
 * Measure: standard deviation of (crop - median5(crop) + 100) on a
 * 100x100 crop at the ROI's centre.  AF: a fixed delay after every
 * command (the seed: "it's prudent to add a delay between calls"; 200 ms,
 * as NINA's lens plugin), home to the far stop, Near3 steps over the
 * range measuring each, back to the step before the best, Near2 steps
 * over two Near3 steps, back to the best.  Trap: learn the peak on a first
 * pass through focus ("Focus peak found" once the measure falls below 90 %
 * of it), then fire at >= 98 % of that peak.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "algorithms.h"
#include "image/focus.h"
#include "image/jpeg.h"

enum { DELAY_MS = 200, MAX_SAMPLES = 128 };

typedef struct base {
    const focus_port *port;
    img_region crop;
    uint64_t seq;
    int frames, commands;
    int err;
} base;

static double measure(base *b)
{
    focus_frame f = {0};
    int rc = b->port->next_frame(b->port->ctx, &b->seq, 3000, &f);
    if (rc != 0) {
        b->err = rc;
        return -1;
    }
    img_image g = {0};
    double v = -1;
    if (img_jpeg_decode_gray_region(f.data, f.len, b->crop, 1, &g) == 0) v = img_focus_median_residual(&g);
    img_image_free(&g);
    b->port->release(b->port->ctx, &f);
    if (v < 0) b->err = TETHER_ERR_CAMERA;
    b->frames++;
    return v;
}

static int step(base *b, int dir, int size, int count)
{
    for (int i = 0; i < count; i++) {
        if (b->port->stopped && b->port->stopped(b->port->ctx)) return b->err = TETHER_ERR_CANCELLED;
        int rc = b->port->drive(b->port->ctx, dir, size);
        if (rc != 0) return b->err = rc;
        b->commands++;
        b->port->sleep_ns(b->port->ctx, (int64_t)DELAY_MS * 1000000);
    }
    return 0;
}

/* A 100x100-pixel crop at the centre of the ROI, in fractions of a frame. */
static img_region centre_crop(const focus_port *port, const tether_roi *roi_in)
{
    tether_roi roi = focus_roi_or_default(roi_in);
    int w = 1056, h = 704;
    uint64_t seq = 0;
    focus_frame f = {0};
    if (port->next_frame(port->ctx, &seq, 3000, &f) == 0) {
        img_jpeg_size(f.data, f.len, &w, &h);
        port->release(port->ctx, &f);
    }
    double cw = 100.0 / w, ch = 100.0 / h;
    return (img_region){roi.x + roi.w / 2 - cw / 2, roi.y + roi.h / 2 - ch / 2, cw, ch};
}

int focus_af_baseline_run(const focus_port *port, const tether_af_options *o, tether_af_result *r)
{
    *r = (tether_af_result){.zoom = 1};
    base b = {.port = port, .crop = centre_crop(port, &o->roi)};
    int64_t t0 = port->now_ns(port->ctx);
    int range = o->max_range > 0 ? o->max_range : 1200;
    int n3 = (int)ceil(range / 30.0);
    double v[MAX_SAMPLES];
    int n = 0, best = 0;
    if (n3 + 1 > MAX_SAMPLES) n3 = MAX_SAMPLES - 1;
    if (step(&b, -1, 3, n3 + 1) != 0) goto out;     /* to the far end */
    v[n++] = measure(&b);
    for (int i = 0; i < n3 && b.err == 0; i++) {
        if (step(&b, +1, 3, 1) != 0) goto out;
        v[n] = measure(&b);
        if (v[n] > v[best]) best = n;
        n++;
    }
    if (b.err) goto out;
    /* back to the Near3 position before the best, then Near2 over two Near3 */
    int from = best > 0 ? best - 1 : 0;
    if (step(&b, -1, 3, n - 1 - from) != 0) goto out;
    double w[32];
    int m = 0, wbest = 0;
    w[m++] = measure(&b);
    for (int i = 0; i < 14 && b.err == 0; i++) {
        if (step(&b, +1, 2, 1) != 0) goto out;
        w[m] = measure(&b);
        if (w[m] > w[wbest]) wbest = m;
        m++;
    }
    if (b.err) goto out;
    if (step(&b, -1, 2, m - 1 - wbest) != 0) goto out;
    r->peak_measure = w[wbest];
    r->final_measure = measure(&b);
    r->focused = true;
out:
    r->measured_frames = b.frames;
    r->commands = b.commands;
    r->seconds = (double)(port->now_ns(port->ctx) - t0) / 1e9;
    snprintf(r->status, sizeof r->status, "%s", b.err ? "error" : "focused");
    snprintf(r->message, sizeof r->message, "%s", b.err ? tether_strerror(b.err) : "Done (baseline).");
    return b.err == TETHER_ERR_CANCELLED ? 0 : b.err;
}

int focus_trap_baseline_run(const focus_port *port, const tether_trap_options *o,
                            tether_trap_result *r)
{
    tether_shot *shot = r->shot;
    *r = (tether_trap_result){.shot = shot};
    base b = {.port = port, .crop = centre_crop(port, &o->roi)};
    int64_t t0 = port->now_ns(port->ctx);
    double peak = 0;
    bool found = false;
    for (;;) {
        if (port->stopped && port->stopped(port->ctx)) {
            b.err = TETHER_ERR_CANCELLED;
            break;
        }
        if (o->timeout_s > 0 && (double)(port->now_ns(port->ctx) - t0) / 1e9 > o->timeout_s) break;
        double v = measure(&b);
        if (b.err) break;
        if (!found) {
            if (v > peak) peak = v;
            else if (v < 0.9 * peak) found = true;
            continue;
        }
        if (v >= 0.98 * peak) {
            int rc = port->capture ? port->capture(port->ctx, shot) : TETHER_ERR_NOT_SUPPORTED;
            if (rc != 0) b.err = rc;
            else r->fired = true;
            snprintf(r->reason, sizeof r->reason, "the measure reached %.0f%% of the peak seen",
                     100.0 * v / peak);
            break;
        }
    }
    r->frames = b.frames;
    r->seconds = (double)(port->now_ns(port->ctx) - t0) / 1e9;
    snprintf(r->status, sizeof r->status, "%s",
             r->fired ? "fired" : b.err == TETHER_ERR_CANCELLED ? "cancelled" : b.err ? "error" : "timeout");
    return b.err == TETHER_ERR_CANCELLED ? 0 : b.err;
}
