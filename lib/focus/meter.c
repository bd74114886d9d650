/*
 * meter: sharpness samples from a focus port, and settle detection; see
 * meter.h.
 */
#include "meter.h"

#include "base/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double fmeter_step_size[4] = {0, 1.0, 4.3, 30.0};

/* The smallest noise floors ever assumed: a camera whose frames at rest
 * are identical would otherwise make any change look like motion. */
static const double MIN_CHANGE_FLOOR = 0.05, MIN_JITTER = 0.003;

enum {
    START_LATENCY_MS = 150,   /* longest a lens takes to start moving after a command */
    SLOWEST_SPEED = 300,      /* Near1 steps per second of the slowest lens motors */
};

void fmeter_init(focus_meter *m, const focus_port *port, img_region roi)
{
    *m = (focus_meter){.port = port, .roi = roi, .period_ns = 33e6, .change_floor = -1,
                       .jitter = -1, .jitter_coarse = -1};
}

void fmeter_free(focus_meter *m)
{
    img_image_free(&m->prev_thumb);
    img_image_free(&m->rest_thumb);
}

void fmeter_set_roi(focus_meter *m, img_region roi)
{
    m->roi = roi;
    m->have_prev = false;
    m->jitter = m->jitter_coarse = -1;
    m->change_floor = -1;
    m->best_fine = 0;
    img_image_free(&m->rest_thumb);
}

/* FNV-1a over the frame's bytes. */
static uint64_t frame_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ^ n;
}

void fmeter_book(focus_meter *m, const focus_sample *s)
{
    m->measured++;
    if (s->fine > m->best_fine) m->best_fine = s->fine;
}

bool fmeter_stopped(const focus_meter *m)
{
    return m->port->stopped && m->port->stopped(m->port->ctx);
}

static double rel_diff(double a, double b)
{
    double d = fabs(a - b), s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return s > 0 ? d / s : 0;
}

int fmeter_frame(focus_meter *m, focus_sample *s, int timeout_ms)
{
    if (fmeter_stopped(m)) return m->err = TETHER_ERR_CANCELLED;
    focus_frame f = {0};
    int rc = m->port->next_frame(m->port->ctx, &m->seq, timeout_ms, &f);
    if (rc != 0) return m->err = rc;
    uint64_t h = frame_hash(f.data, f.len);
    if (h == m->last_hash && m->last.seq != 0) {
        m->port->release(m->port->ctx, &f);
        m->repeats++;
        *s = m->last;
        s->t_ns = f.t_ns;
        s->fetch_ns = f.fetch_ns;
        s->seq = f.seq;
        s->change = 0;
        s->repeat = true;
        return 0;
    }
    m->last_hash = h;
    img_image roi = {0}, thumb = {0};
    int bad = img_jpeg_decode_gray_region(f.data, f.len, m->roi, 1, &roi) != 0 ||
              img_jpeg_decode(f.data, f.len, 1, 8, &thumb) != 0;
    m->port->release(m->port->ctx, &f);
    if (bad) {
        img_image_free(&roi);
        img_image_free(&thumb);
        return m->err = TETHER_ERR_CAMERA;
    }
    *s = (focus_sample){.t_ns = f.t_ns, .fetch_ns = f.fetch_ns, .seq = f.seq, .change = -1, .settled = true};
    s->fine = img_focus_tenengrad(&roi, 2);
    int coarse_bin = roi.width >= 48 && roi.height >= 48 ? 8 : 4;
    s->coarse = img_focus_tenengrad(&roi, coarse_bin);
    s->mean = img_focus_mean(&roi);
    img_image_free(&roi);
    if (s->fine < 0 || s->coarse < 0) {
        img_image_free(&thumb);
        return m->err = TETHER_ERR_BAD_VALUE; /* the ROI is too small to measure */
    }
    if (m->prev_thumb.pixels) s->change = img_focus_change(&thumb, &m->prev_thumb);
    img_image_free(&m->prev_thumb);
    m->prev_thumb = thumb;
    if (m->last_frame_ns) {
        double dt = (double)(f.t_ns - m->last_frame_ns);
        if (dt > 2e6 && dt < 1e9) m->period_ns = 0.8 * m->period_ns + 0.2 * dt;
    }
    m->last_frame_ns = f.t_ns;
    m->last = *s;
    return 0;
}

/* Folds one pair of frames at rest into the noise estimates. */
static void learn_noise(focus_meter *m, const focus_sample *a, const focus_sample *b)
{
    double j = rel_diff(a->fine, b->fine), jc = rel_diff(a->coarse, b->coarse);
    m->jitter = m->jitter < 0 ? j : 0.8 * m->jitter + 0.2 * j;
    m->jitter_coarse = m->jitter_coarse < 0 ? jc : 0.8 * m->jitter_coarse + 0.2 * jc;
    if (b->change >= 0) m->change_floor = m->change_floor < 0 ? b->change : 0.8 * m->change_floor + 0.2 * b->change;
    if (m->jitter < MIN_JITTER) m->jitter = MIN_JITTER;
    if (m->jitter_coarse < MIN_JITTER) m->jitter_coarse = MIN_JITTER;
    if (m->change_floor >= 0 && m->change_floor < MIN_CHANGE_FLOOR) m->change_floor = MIN_CHANGE_FLOOR;
}

/* Remembers the last frame as the picture at rest, and how much it
 * differs from the previous one at rest. */
static void keep_rest(focus_meter *m)
{
    m->moved_change = m->rest_thumb.pixels ? img_focus_change(&m->prev_thumb, &m->rest_thumb) : -1;
    img_image_free(&m->rest_thumb);
    if (m->prev_thumb.pixels == NULL) return;
    size_t n = (size_t)m->prev_thumb.width * (size_t)m->prev_thumb.height;
    uint8_t *copy = malloc(n);
    if (copy == NULL) return;
    memcpy(copy, m->prev_thumb.pixels, n);
    m->rest_thumb = (img_image){copy, m->prev_thumb.width, m->prev_thumb.height, 1};
}

bool fmeter_moved_clearly(const focus_meter *m)
{
    double floor = m->change_floor >= 0 ? m->change_floor : 0.5;
    return m->moved_change > 4 * floor + 0.2;
}

int fmeter_calibrate(focus_meter *m, int n, focus_sample *s)
{
    focus_sample prev = {0};
    for (int i = 0, tries = 0; i < n; tries++) {
        int rc = fmeter_frame(m, s, 3000);
        if (rc != 0) return rc;
        m->watched++;
        if (s->repeat && tries < 4 * n) continue; /* (a camera that only repeats: take what it gives) */
        if (i > 0) learn_noise(m, &prev, s);
        prev = *s;
        i++;
    }
    m->prev = *s;
    m->have_prev = true;
    keep_rest(m);
    return 0;
}

int fmeter_drive(focus_meter *m, int direction, int step)
{
    if (fmeter_stopped(m)) return m->err = TETHER_ERR_CANCELLED;
    int rc = m->port->drive(m->port->ctx, direction, step);
    if (rc == TETHER_ERR_END_STOP) {
        m->commands++;
        m->stop_hit = direction;
        return 0;
    }
    if (rc != 0) return m->err = rc;
    m->stop_hit = 0;
    m->commands++;
    m->position += direction * fmeter_step_size[step];
    m->pending_travel += fmeter_step_size[step];
    m->last_direction = direction;
    m->last_cmd_ns = m->port->now_ns(m->port->ctx);
    return 0;
}

/* Is the picture still changing between a and b (consecutive frames)?
 * Far from focus the sharpness is mostly noise, so it counts only when it
 * changes by much more than its jitter at rest. */
static bool moving(const focus_meter *m, const focus_sample *a, const focus_sample *b)
{
    double floor = m->change_floor >= 0 ? m->change_floor : 0.5;
    if (b->change >= 0 && b->change > 2 * floor + 0.1) return true;
    double jf = m->jitter >= 0 ? m->jitter : 0.02;
    return rel_diff(a->fine, b->fine) > (4 * jf > 0.12 ? 4 * jf : 0.12);
}

bool fmeter_moved(const focus_meter *m)
{
    double floor = m->change_floor >= 0 ? m->change_floor : 0.5;
    return m->moved_change < 0 || m->moved_change > 1.4 * floor + 0.1;
}

/* The timing slot for a commanded travel (the same few travels recur). */
static int timing_slot(focus_meter *m, double travel, bool create)
{
    int n = (int)(sizeof m->timing / sizeof m->timing[0]);
    for (int i = 0; i < n; i++)
        if (m->timing[i].n > 0 && fabs(m->timing[i].travel - travel) < 0.05) return i;
    if (!create) return -1;
    for (int i = 0; i < n; i++)
        if (m->timing[i].n == 0) {
            m->timing[i].travel = travel;
            return i;
        }
    return -1;
}

int fmeter_settle(focus_meter *m, focus_sample *out, bool *motion_seen, bool use, int max_wait_ms)
{
    int64_t t_cmd = m->last_cmd_ns;
    int64_t skip_until = t_cmd + (int64_t)m->period_ns;
    int64_t travel_ns = (int64_t)(m->pending_travel / SLOWEST_SPEED * 1e9);
    int64_t quiet_from = t_cmd + (int64_t)START_LATENCY_MS * 1000000 + travel_ns + (int64_t)m->period_ns;
    double travel = m->pending_travel;
    int slot = timing_slot(m, travel, false);
    if (slot >= 0 && m->timing[slot].n >= 2) {
        int64_t learnt = t_cmd + (int64_t)(1.25 * m->timing[slot].ms * 1e6) + (int64_t)m->period_ns;
        if (learnt < quiet_from) quiet_from = learnt;
    }
    m->pending_travel = 0;
    int64_t give_up = t_cmd + (int64_t)max_wait_ms * 1000000;
    bool motion = false, have = false;
    int quiet = 0; /* consecutive pairs that differ by no more than noise */
    int64_t rest_from_ns = 0;
    focus_sample prev = {0}, s;
    for (;;) {
        int rc = fmeter_frame(m, &s, max_wait_ms + 1000);
        if (rc != 0) return rc;
        if (s.repeat) { /* the same picture again says nothing about the lens */
            m->watched++;
            if (s.t_ns >= give_up) { /* nothing new came: what was last seen, unsettled */
                if (have) s = prev;
                s.repeat = false;
                s.settled = false;
                break;
            }
            continue;
        }
        bool after = s.t_ns >= skip_until;
        if (have && after) {
            bool mv = moving(m, &prev, &s);
            motion = motion || mv;
            quiet = mv ? 0 : quiet + 1;
            if (quiet == 1) rest_from_ns = prev.t_ns;
            if (quiet >= 1 && ((motion && quiet >= 2) || s.t_ns >= quiet_from)) {
                learn_noise(m, &prev, &s);
                if (motion && travel > 0) { /* the move was over by the first quiet pair's first frame */
                    int k = timing_slot(m, travel, true);
                    double ms = (double)(rest_from_ns - t_cmd) / 1e6;
                    if (k >= 0) {
                        m->timing[k].ms = m->timing[k].n == 0 ? ms : 0.7 * m->timing[k].ms + 0.3 * ms;
                        if (ms > m->timing[k].ms) m->timing[k].ms = ms; /* err on the slow side */
                        m->timing[k].n++;
                    }
                }
                break;
            }
        }
        if (after && s.t_ns >= give_up) {
            s.settled = false;
            break;
        }
        m->watched++;
        prev = s;
        have = true;
    }
    if (use) fmeter_book(m, &s);
    else m->watched++;
    keep_rest(m);
    m->prev = s;
    m->have_prev = true;
    LOG_DEBUG("focus", "settled: x %.1f fine %.4g coarse %.4g change %.2f moved %.2f (floor %.2f) "
              "motion %d settled %d after %.0f ms",
              m->position, s.fine, s.coarse, s.change, m->moved_change, m->change_floor, motion,
              s.settled, (double)(s.t_ns - t_cmd) / 1e6);
    *out = s;
    if (motion_seen) *motion_seen = motion;
    return 0;
}

/* The ROI as seen in a frame magnified k times around (cx, cy); the
 * camera clamps its magnified area to the frame, and so does this. */
img_region fmeter_zoomed_roi(img_region roi, int k, double cx, double cy)
{
    double w = 1.0 / k, h = 1.0 / k;
    double x0 = cx - w / 2, y0 = cy - h / 2;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x0 > 1 - w) x0 = 1 - w;
    if (y0 > 1 - h) y0 = 1 - h;
    img_region z = {(roi.x - x0) * k, (roi.y - y0) * k, roi.w * k, roi.h * k};
    /* keep the ROI's centre; at least a quarter of the magnified frame */
    double zw = z.w < 0.25 ? 0.25 : z.w > 0.9 ? 0.9 : z.w;
    double zh = z.h < 0.25 ? 0.25 : z.h > 0.9 ? 0.9 : z.h;
    double zx = z.x + z.w / 2 - zw / 2, zy = z.y + z.h / 2 - zh / 2;
    if (zx < 0) zx = 0;
    if (zy < 0) zy = 0;
    if (zx > 1 - zw) zx = 1 - zw;
    if (zy > 1 - zh) zy = 1 - zh;
    return (img_region){zx, zy, zw, zh};
}

