/*
 * vcam: a virtual camera with a virtual clock; see vcam.h.
 */
#include "vcam.h"

#include <math.h>
#include <stdlib.h>

#include "base/bytebuf.h"
#include "base/log.h"
#include "base/rng.h"
#include "focus/absolute.h"
#include "tether/errors.h"
#include "ptpip/render.h"

typedef struct ring_turn {
    double t, speed, duration;
} ring_turn;

struct vcam {
    vcam_options o;
    focus_port port;
    scene *sc;
    renderer *rd;
    lens lens;
    double t;                /* virtual seconds */
    double focus[2];
    double fps;
    int64_t slot;            /* last frame slot delivered */
    uint64_t frames;
    bytebuf frame;           /* the frame handed out (one at a time) */
    double last_shot;
    int shots;
    double alpha_lv;
    int zooms;
    ring_turn ring[8];       /* scheduled turns of the ring */
    int nring;
    focus_abs abs;           /* absolute_max > 0: the position steps become */
    bool abs_ready;
    double abs_sent;         /* the lens position last sent, Near1 */
    lvdelivery lvd;
    rng arrival;             /* arrival_jitter_s's draws */
};

/* Starts the scheduled turns of the ring whose time has come. */
static void ring_due(vcam *v)
{
    int k = 0;
    for (int i = 0; i < v->nring; i++) {
        if (v->ring[i].t <= v->t) lens_ring(&v->lens, v->ring[i].t, v->ring[i].speed, v->ring[i].duration);
        else v->ring[k++] = v->ring[i];
    }
    v->nring = k;
}

static int v_drive(void *ctx, int direction, int step)
{
    vcam *v = ctx;
    if (v->o.absolute_max > 0) {
        double per_unit = v->lens.p.range / v->o.absolute_max;
        if (!v->abs_ready) {
            v->abs_sent = lens_position(&v->lens, v->t);
            focus_abs_init(&v->abs, 0, v->o.absolute_max, (int)lround(v->abs_sent / per_unit));
            v->abs_sent = v->abs.target * per_unit;
            v->abs_ready = true;
        }
        int position;
        int rc = focus_abs_step(&v->abs, direction, step, &position);
        if (rc != 0) return rc;
        v->t += v->o.cmd_latency_s;
        double to = position * per_unit, by = to - v->abs_sent;
        if (fabs(by) > 1e-9) lens_drive(&v->lens, v->t, by > 0 ? 1 : -1, fabs(by));
        v->abs_sent = to;
        return 0;
    }
    if (v->o.end_stop_answer && !lens_moving(&v->lens, v->t)) {
        double at = lens_position(&v->lens, v->t);
        if ((direction > 0 && at >= v->lens.p.range - 1e-6) || (direction < 0 && at <= 1e-6)) {
            v->t += v->o.cmd_latency_s;
            return TETHER_ERR_END_STOP;
        }
    }
    v->t += v->o.cmd_latency_s;
    if (!lens_drive_canon(&v->lens, v->t, direction, step)) /* a lost command leaves the lens as it was */
        LOG_DEBUG("vcam", "t %.3f: Near%d %+d lost, the lens busy (at %.1f, going to %.1f)", v->t, step, direction,
                  lens_position(&v->lens, v->t), v->lens.target);
    return 0;
}

static int v_next_frame(void *ctx, uint64_t *seq, int timeout_ms, focus_frame *f)
{
    (void)timeout_ms;
    vcam *v = ctx;
    int64_t slot = (int64_t)floor(v->t * v->fps) + 1;
    if (slot <= v->slot) slot = v->slot + 1;
    v->slot = slot;
    v->t = (double)slot / v->fps;
    ring_due(v);
    double exposed = lvdelivery_exposed(&v->lvd, v->t, 1.0 / v->fps);
    ++v->frames;
    if (!lvdelivery_repeat(&v->lvd) || v->frame.len == 0) { /* else the same picture again */
        double pos = lens_position(&v->lens, exposed);
        double defocus[2] = {lens_blur_defocus(&v->lens.p, pos - v->focus[0]),
                             lens_blur_defocus(&v->lens.p, pos - v->focus[1])};
        v->frame.len = 0;
        if (render_liveview(v->rd, defocus, 1.0, v->frames, &v->frame) != 0) return TETHER_ERR_IO;
    }
    if (v->o.polled && v->o.arrival_jitter_s > 0) v->t += v->o.arrival_jitter_s * rng_uniform(&v->arrival);
    *f = (focus_frame){.data = v->frame.data, .len = v->frame.len, .t_ns = (int64_t)(v->t * 1e9),
                       .fetch_ns = v->o.polled ? (int64_t)(1e9 / v->fps) : 0, .seq = v->frames};
    *seq = v->frames;
    return 0;
}

static void v_release(void *ctx, focus_frame *f)
{
    (void)ctx;
    (void)f;
}

static int v_capture(void *ctx, tether_shot *shot)
{
    vcam *v = ctx;
    double t_exp = v->t + v->o.shutter_lag_s;
    ring_due(v);
    v->last_shot = lens_position(&v->lens, t_exp);
    v->shots++;
    v->t = t_exp + 0.2; /* exposure, mirror, writing */
    if (shot) *shot = (tether_shot){0};
    return 0;
}

/* As the simulator's EOS persona: the magnified area photo_width/k wide,
 * its corner placed so that (cx, cy) is its centre, clamped. */
static int v_zoom(void *ctx, int factor, double cx, double cy)
{
    vcam *v = ctx;
    if (factor != 1 && factor != 5 && factor != 10) return TETHER_ERR_BAD_VALUE;
    v->t += v->o.cmd_latency_s;
    double w = 5184.0 / factor, h = w * 704.0 / 1056.0;
    render_view view = {factor, cx * 5184.0 - w / 2, cy * 3456.0 - h / 2};
    render_set_view(v->rd, &view);
    v->zooms++;
    return 0;
}

/* Polled live view: the fetch in flight ends at the next frame slot, and
 * its frame is taken (the next one asked for is the slot after). */
static int v_hold(void *ctx, bool on)
{
    vcam *v = ctx;
    if (!on || !v->o.polled) return 0;
    int64_t slot = (int64_t)floor(v->t * v->fps) + 1;
    if (slot <= v->slot) slot = v->slot + 1;
    v->slot = slot;
    v->t = (double)slot / v->fps;
    ring_due(v);
    return 0;
}

static int64_t v_now(void *ctx)
{
    return (int64_t)(((vcam *)ctx)->t * 1e9);
}

static void v_sleep(void *ctx, int64_t ns)
{
    ((vcam *)ctx)->t += (double)ns / 1e9;
}

vcam *vcam_new(const vcam_options *o)
{
    vcam *v = calloc(1, sizeof *v);
    if (v == NULL) return NULL;
    v->o = *o;
    if (v->o.cmd_latency_s <= 0) v->o.cmd_latency_s = 0.02;
    if (v->o.shutter_lag_s <= 0) v->o.shutter_lag_s = 0.06;
    v->fps = o->fps > 0 ? o->fps : 30;
    render_config rc;
    render_default_config(&rc);
    rc.lv_width = 1056;
    rc.lv_height = 704;
    rc.lv_quality = 75;
    rc.photo_width = 5184;
    rc.photo_height = 3456;
    rc.photo_quality = 90;
    if (o->dim) { /* as the simulator's --light dim */
        rc.read_noise = 6.0;
        rc.shot_noise = 0.3;
    }
    v->alpha_lv = rc.alpha;
    v->sc = scene_new(o->scene, o->seed);
    v->rd = v->sc ? render_new(v->sc, &rc, o->seed) : NULL;
    if (v->rd == NULL) {
        vcam_free(v);
        return NULL;
    }
    lens_params lp;
    lens_default_params(&lp, o->seed);
    if (o->backlash >= 0) lp.backlash = o->backlash;
    if (o->step_noise >= 0) lp.step_noise = o->step_noise;
    if (o->steps[0] > 0) for (int i = 0; i < 3; i++) lp.step[i] = o->steps[i];
    if (o->near_blur > 0) lp.near_blur = o->near_blur;
    lvdelivery_init(&v->lvd, &o->lv, o->seed);
    rng_seed(&v->arrival, rng_hash2(o->seed, 0xA77));
    if (o->absolute_max > 0) lp.backlash = lp.step_noise = lp.drop_when_busy = 0; /* a voice coil goes where it is sent */
    rng r;
    rng_seed(&r, rng_hash2(o->seed, 0xF0C05));
    double focus = o->focus_at >= 0 ? o->focus_at : 0.2 + 0.6 * rng_uniform(&r);
    double start = o->lens_start >= 0 ? o->lens_start : rng_uniform(&r);
    v->t = 1000.0;
    lens_init(&v->lens, &lp, o->seed, start * lp.range, v->t);
    v->focus[0] = focus * lp.range;
    double gap = (0.15 + 0.2 * rng_uniform(&r)) * lp.range;
    v->focus[1] = v->focus[0] + gap <= lp.range ? v->focus[0] + gap : v->focus[0] - gap;
    v->slot = (int64_t)floor(v->t * v->fps);
    v->last_shot = NAN;
    bytebuf_init(&v->frame);
    v->port = (focus_port){.ctx = v, .drive = v_drive, .next_frame = v_next_frame,
                           .release = v_release, .zoom = o->no_zoom ? NULL : v_zoom, .capture = v_capture,
                           .hold = v_hold, .now_ns = v_now, .sleep_ns = v_sleep};
    return v;
}

void vcam_free(vcam *v)
{
    if (v == NULL) return;
    render_free(v->rd);
    scene_free(v->sc);
    bytebuf_free(&v->frame);
    free(v);
}

const focus_port *vcam_port(vcam *v) { return &v->port; }
double vcam_now(const vcam *v) { return v->t; }
double vcam_lens_position(const vcam *v) { return lens_position(&v->lens, v->t); }
double vcam_range(const vcam *v) { return v->lens.p.range; }
double vcam_focus_position(const vcam *v, int plane) { return v->focus[plane ? 1 : 0]; }
uint64_t vcam_dropped(const vcam *v) { return v->lens.dropped; }
double vcam_last_shot(const vcam *v) { return v->last_shot; }
double vcam_fps(const vcam *v) { return v->fps; }
int vcam_shots(const vcam *v) { return v->shots; }

double vcam_blur_error(const vcam *v, double position, int plane)
{
    return fabs(lens_blur_defocus(&v->lens.p, position - v->focus[plane ? 1 : 0]));
}

double vcam_dof_half(const vcam *v)
{
    /* as the simulator: photo blur per step at f/5.6 on a 5184-wide sensor */
    double alpha_full = v->alpha_lv * (5184.0 / 1056.0) * (1.8 / 5.6);
    return 1.0 / alpha_full;
}

void vcam_ring(vcam *v, double speed, double duration_s)
{
    lens_ring(&v->lens, v->t, speed, duration_s);
}

void vcam_ring_at(vcam *v, double t, double speed, double duration_s)
{
    if (v->nring < (int)(sizeof v->ring / sizeof v->ring[0]))
        v->ring[v->nring++] = (ring_turn){t, speed, duration_s};
}

void vcam_set_lens(vcam *v, double position)
{
    lens_set(&v->lens, v->t, position);
}
