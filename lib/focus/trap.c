/*
 * trap: trap focus, a picture taken when the subject comes into focus
 * while someone turns the focus ring (or the subject moves), see focus.h
 * and ../shared/research/focus-and-autofocus.md §3.
 *
 * Any rule on the sharpness seen so far is early or late by the ring's
 * speed times the latency (frame age + capture command + shutter lag): a
 * threshold on a rising curve fires early, detecting the peak fires after
 * it.  So this predicts when the peak will come:
 *
 *   - every frame, the fine sharpness F of the focus area (Tenengrad on
 *     the 2x2-binned ROI) is measured; near focus log F is close to a
 *     parabola in the lens position (a Gaussian curve), and so in time
 *     while the ring turns steadily;
 *   - armed when the sharpness has swung: the highest value of the last
 *     few seconds is at least twice the lowest (something is changing
 *     focus, not just noise);
 *   - a parabola is fitted to log F over a window that grows with how
 *     slowly F changes: from the frame where F was last at most 60 % of
 *     now (so a slow ring gets a long window, a fast one a short one),
 *     between 12 and 90 frames (a shorter arc gives too noisy a curvature);
 *   - a ring that stops or turns back before focus leaves a corner in
 *     the curve (a rising line, then a level or falling one): when two
 *     lines meeting at a corner fit the window clearly better than the
 *     parabola, it is not a peak and nothing is predicted;
 *   - a parabola over a longer stretch (back to a quarter of the
 *     sharpness now) must put the peak at the same time: frames that
 *     arrive late by varying amounts, and a ring that stops, bend only
 *     the short fit (a jump, then a level stretch);
 *   - the peak's time comes from a parabola through F^-0.75 over the
 *     same window (gradient energy falls as a power of the defocus: log F
 *     bends too slowly on the flank and puts the peak late, 1/F too fast
 *     and early), trusted while log F's vertex is at most 3.3 times as far;
 *   - it fires when that time is at most the latency plus half a frame
 *     ahead, or log F's vertex is (the camera is then held, so that no
 *     live-view fetch delays the shutter command, and the command goes
 *     out at the predicted time less the latency); the latency counts
 *     the wait for that hold, the live-view fetch in flight, which the
 *     frames' own fetch times measure (a camera asked for frame by
 *     frame keeps the session busy most of a frame period: deciding on
 *     the frame where the command is already due sent it a frame late);
 *     and the curve still rises,
 *     the last three predictions of the peak's time agree, and they do
 *     not recede against the one before them (a bend on the flank of the
 *     curve, or in the noise far from focus, moves later every frame):
 *     log F's vertices, or F^-0.75's times while log F's vertex closes
 *     in from late (which it does on a real approach: waiting for it to
 *     settle too fired well after the peak on a fast ring);
 *   - the residual that tells a smooth pass from a kink is judged against
 *     the noise seen along the frames' times, not only from frame to
 *     frame: frames that arrive late by varying amounts have scattered
 *     times while their pictures keep the camera's clock;
 *   - when the peak went by without a firm prediction (a very fast ring),
 *     it remembers that pass's peak height and, on the next approach,
 *     predicts from it instead: sqrt(log(F_peak / F)) falls linearly to
 *     zero at the peak, and a line fitted to it says when.
 *
 * The picture is taken through the port's capture (the normal capture
 * path).  One thread; nothing but the port's clock.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms.h"
#include "meter.h"
#include "base/log.h"

enum {
    HIST = 256,               /* frames kept */
    MIN_FIT = 12,
    NPRED = 16,               /* predictions kept: 3 to 16 must agree, by the window */
    MAX_FIT = 90,
    SWING_WINDOW_MS = 4000,
    ARM_SWING = 4,            /* max / min of the sharpness over that window */
    FIRE_HALF_FRAMES = 1,     /* fire when the shutter command is due within this many half frames */
    FIT_POWER = 4,            /* the fits weigh a point (F / F_now)^4: the upper curve counts */
    FETCHES = 9,              /* fetch times kept, for their median */
};
/* The peak's time comes from a parabola through F^-TIME_POWER (see
 * predict_parabola). */
static const double TIME_POWER = 0.75;
/* ... and is trusted when it is at least this part of log F's vertex */
static const double MIN_WHEN_OF_VERTEX = 0.3;

typedef struct trap_point {
    double t;                 /* seconds, when the frame showed the lens (its exposure, as the port tells) */
    double y;                 /* log F */
    double yc;                /* log of the coarse (8x8-binned) measure */
    double f;
} trap_point;

typedef struct trap {
    const focus_port *port;
    const tether_trap_options *o;
    tether_trap_result *r;
    focus_meter m;
    trap_point h[HIST];
    int n;                    /* points in h (the newest at n - 1 when n < HIST, else ring) */
    int head;
    double t0_pred[NPRED];    /* the last predictions of the peak's time, log F's vertex (NAN: none) */
    double when_pred[NPRED];  /* ... and from F^-TIME_POWER (NAN: none) */
    double learned_peak;      /* log F of the last pass's peak, NAN until one is seen */
    double pass_max;          /* highest log F since the last time it was low */
    bool rising_pass;         /* this pass rose from a swing */
    int64_t start_ns;
    int window;               /* frames in the last parabola fit */
    int64_t fetch_ns[FETCHES]; /* the last frames' fetch times (0: pushed) */
    int nfetch, fetch_head;
} trap;

static trap_point *at(trap *t, int back)
{
    return &t->h[(t->head - 1 - back + HIST) % HIST];
}

static void push(trap *t, trap_point p)
{
    t->h[t->head] = p;
    t->head = (t->head + 1) % HIST;
    if (t->n < HIST) t->n++;
}

/* Solves the 3x3 system m x = rhs (m[i][3] is the right-hand side) by
 * Gaussian elimination with partial pivoting.  False if singular. */
static bool solve3(double m[3][4], double x[3])
{
    for (int col = 0; col < 3; col++) {
        int piv = col;
        for (int r = col + 1; r < 3; r++)
            if (fabs(m[r][col]) > fabs(m[piv][col])) piv = r;
        if (fabs(m[piv][col]) < 1e-15) return false;
        for (int j = 0; j < 4; j++) {
            double tmp = m[col][j];
            m[col][j] = m[piv][j];
            m[piv][j] = tmp;
        }
        for (int r = 0; r < 3; r++) {
            if (r == col) continue;
            double f = m[r][col] / m[col][col];
            for (int j = col; j < 4; j++) m[r][j] -= f * m[col][j];
        }
    }
    for (int i = 0; i < 3; i++) x[i] = m[i][3] / m[i][i];
    return true;
}

/* A point's weight in a fit, (F / F_now)^power: with FIT_POWER the
 * curve's upper part counts, its tail (where it flattens into noise)
 * hardly. */
static double fit_weight(const trap_point *p, double ynow, double power)
{
    double w = exp(power * (p->y - ynow));
    return w > 1 ? 1 : w;
}

/* What a fit is of: log F, log of the coarse measure, or F^-TIME_POWER
 * (see predict_parabola). */
typedef enum fit_of { FIT_LOG, FIT_LOG_COARSE, FIT_INVERSE_POWER } fit_of;

static double fit_value(const trap_point *p, fit_of what)
{
    return what == FIT_LOG ? p->y : what == FIT_LOG_COARSE ? p->yc : exp(-TIME_POWER * p->y);
}

/* Weighted least squares of a point's value (fit_of) on the three basis
 * values g(u) over the newest k points; coefficients into x, weighted rms
 * residual into *rms.  False if singular. */
typedef void basis_fn(double u, const void *arg, double g[3]);
static bool fit3(trap *t, int k, fit_of what, double power, double tref, basis_fn *basis, const void *arg, double x[3],
                 double *rms)
{
    double m[3][4] = {{0}};
    double ynow = at(t, 0)->y;
    for (int i = 0; i < k; i++) {
        const trap_point *p = at(t, i);
        double g[3], w = fit_weight(p, ynow, power), y = fit_value(p, what);
        basis(p->t - tref, arg, g);
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++) m[r][c] += w * g[r] * g[c];
            m[r][3] += w * g[r] * y;
        }
    }
    if (!solve3(m, x)) return false;
    double e = 0, sw = 0;
    for (int i = 0; i < k; i++) {
        const trap_point *p = at(t, i);
        double g[3], w = fit_weight(p, ynow, power);
        basis(p->t - tref, arg, g);
        double d = fit_value(p, what) - (x[0] * g[0] + x[1] * g[1] + x[2] * g[2]);
        e += w * d * d;
        sw += w;
    }
    *rms = sqrt(e / sw);
    return true;
}

static void parabola_basis(double u, const void *arg, double g[3])
{
    (void)arg;
    g[0] = u * u, g[1] = u, g[2] = 1;
}

/* Least-squares parabola y = a u^2 + b u + c in u = t - tref over the
 * newest k points.  Returns false if singular. */
static bool fit_parabola(trap *t, int k, bool coarse, double power, double tref, double *a, double *b, double *c,
                         double *rms)
{
    double x[3];
    if (!fit3(t, k, coarse ? FIT_LOG_COARSE : FIT_LOG, power, tref, parabola_basis, NULL, x, rms)) return false;
    *a = x[0], *b = x[1], *c = x[2];
    return true;
}

/* A hinge: two lines meeting at u = *(double *)arg, slopes x[0] before
 * and x[1] after, height x[2] there. */
static void hinge_basis(double u, const void *arg, double g[3])
{
    double d = u - *(const double *)arg;
    g[0] = d < 0 ? d : 0, g[1] = d > 0 ? d : 0, g[2] = 1;
}

/* Does the window look like a ring that stopped or turned back rather
 * than a pass towards a peak?  A hand that stops leaves a corner: the
 * sharpness rises along a line, then stays level (or falls).  Two lines
 * meeting at a corner then fit the newest k points clearly better than
 * the parabola (residual par_rms) does, with the newer line much flatter;
 * on a real approach the parabola is the right shape and fits better. */
static bool looks_like_corner(trap *t, int k, double tref, double par_rms)
{
    double best = INFINITY, s_before = 0, s_after = 0;
    for (int j = 3; j <= k - 4; j++) { /* the corner at the j-th newest point */
        double corner = at(t, j)->t - tref, x[3], rms;
        if (fit3(t, k, FIT_LOG, FIT_POWER, tref, hinge_basis, &corner, x, &rms) && rms < best)
            best = rms, s_before = x[0], s_after = x[1];
    }
    bool corner = best < 0.85 * par_rms && s_before > 0 && s_after < 0.3 * s_before;
    if (corner)
        LOG_DEBUG("focus", "trap: a corner, not a peak (two lines %.4f, parabola %.4f; slopes %.3f then %.3f /s)", best,
                  par_rms, s_before, s_after);
    return corner;
}

/* Least-squares line z = b u + c over points where z is given. */
static bool fit_line(const double *u, const double *z, int k, double *b, double *c)
{
    double su = 0, sz = 0, suu = 0, suz = 0;
    for (int i = 0; i < k; i++) su += u[i], sz += z[i], suu += u[i] * u[i], suz += u[i] * z[i];
    double den = k * suu - su * su;
    if (k < 3 || fabs(den) < 1e-15) return false;
    *b = (k * suz - su * sz) / den;
    *c = (sz - *b * su) / k;
    return true;
}

/* The fit window: back to the frame where F was last <= 60 % of now. */
static int window(trap *t)
{
    double lim = at(t, 0)->y + log(0.6);
    int k = 1;
    while (k < t->n && k < MAX_FIT && at(t, k)->y > lim) k++;
    if (k < t->n && k < MAX_FIT) k++; /* include that frame */
    return k < MIN_FIT ? (t->n < MIN_FIT ? t->n : MIN_FIT) : k;
}

/* The sharpness swing over the last few seconds: max / min. */
static double swing(trap *t)
{
    double now = at(t, 0)->t, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < t->n && now - at(t, i)->t <= SWING_WINDOW_MS / 1000.0; i++) {
        if (at(t, i)->y < lo) lo = at(t, i)->y;
        if (at(t, i)->y > hi) hi = at(t, i)->y;
    }
    return exp(hi - lo);
}

__attribute__((format(printf, 3, 4)))
static void set_reason(trap *t, const char *status, const char *fmt, ...)
{
    snprintf(t->r->status, sizeof t->r->status, "%s", status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->r->reason, sizeof t->r->reason, fmt, ap);
    va_end(ap);
}

static void progress(trap *t, const char *stage, double f)
{
    if (t->o->progress == NULL) return;
    tether_focus_progress p = {.tool = "trap", .stage = stage, .frames = t->r->frames, .measure = f,
                               .fraction = 0};
    t->o->progress(t->o->user, &p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A robust sigma of one point's noise from n absolute differences that
 * each carry `gain` times it (sorted in place): their median over the
 * normal's 0.6745.  0 when there are fewer than 3. */
static double robust_sigma(double *d, int n, double gain)
{
    if (n < 3) return 0;
    qsort(d, (size_t)n, sizeof d[0], cmp_double);
    return d[n / 2] / 0.6745 / gain;
}

/* The noise of log F over the newest k frames, from their second
 * differences (which a smooth curve hardly has): a robust sigma. */
static double noise(trap *t, int k)
{
    double d[MAX_FIT];
    int n = 0;
    for (int i = 0; i + 2 < k && n < MAX_FIT; i++)
        d[n++] = fabs(at(t, i)->y - 2 * at(t, i + 1)->y + at(t, i + 2)->y);
    return robust_sigma(d, n, sqrt(6.0));
}

/* The same noise seen the way the fits see the points, against their
 * times: how far each point lies from the line through its neighbours.
 * Frames that arrive late by varying amounts (fetched through
 * libgphoto2: 10-55 ms, in pairs) have times off by up to a good part
 * of a period while their pictures keep the camera's clock, so on a
 * rising curve a smooth pass leaves residuals of the slope times that
 * error, which the frame-to-frame differences above do not see.  A
 * robust sigma of the residual one point has from its neighbours'
 * line (whose own error adds half again: scaled by sqrt(1.5)). */
static double noise_in_time(trap *t, int k)
{
    double d[MAX_FIT];
    int n = 0;
    for (int i = 0; i + 2 < k && n < MAX_FIT; i++) {
        const trap_point *p0 = at(t, i + 2), *p1 = at(t, i + 1), *p2 = at(t, i);
        double span = p2->t - p0->t;
        if (!(span > 0)) continue;
        double line = p0->y + (p2->y - p0->y) * (p1->t - p0->t) / span;
        d[n++] = fabs(p1->y - line);
    }
    return robust_sigma(d, n, sqrt(1.5));
}

/* A focus peak bends the whole upper curve: a parabola over a longer
 * stretch (back to a quarter of the sharpness now, every point weighed
 * by F / F_now rather than its fourth power) puts the peak where the
 * short fit does, within 40 % of that stretch or two frames.  A jump
 * and a level stretch bend only the short fit, and the longer one still
 * sees a climb: frames that arrive late by varying amounts (a loaded
 * host, Wi-Fi) show the lens in bursts, and a ring that stops or turns
 * back short of focus leaves a level stretch. */
static bool long_view_agrees(trap *t, int k, double tref, double v)
{
    double lim = at(t, 0)->y + log(0.25);
    int k2 = k;
    while (k2 < t->n && at(t, k2)->y > lim) k2++;
    if (k2 < t->n) k2++;
    if (k2 <= k + 2) return true; /* no longer stretch to compare with */
    double a, b, c, rms;
    bool ok = fit_parabola(t, k2, false, 1, tref, &a, &b, &c, &rms);
    double span2 = at(t, 0)->t - at(t, k2 - 1)->t;
    double v2 = ok && a < 0 ? -b / (2 * a) : INFINITY;
    double period = t->m.period_ns / 1e9;
    double tol = 0.4 * span2 > 2 * period ? 0.4 * span2 : 2 * period;
    LOG_DEBUG("focus", "trap: long view (%d frames, %.0f ms): vertex %.0f ms, short %.0f ms", k2, span2 * 1000, v2 * 1000, v * 1000);
    return fabs(v2 - v) <= tol;
}

/* Predicted seconds from the newest frame's time to the peak, from a
 * parabola through log F over the window, or NAN when the window does
 * not show a rising, bending curve towards a peak; *when: the peak's
 * time from the same window's F^-TIME_POWER, the one to fire on. */
static double predict_parabola(trap *t, double *peak_y, double *when)
{
    int k = window(t);
    if (k < MIN_FIT) return NAN;
    double tref = at(t, 0)->t, a, b, c, rms;
    if (!fit_parabola(t, k, false, FIT_POWER, tref, &a, &b, &c, &rms) || !(a < 0)) return NAN;
    /* A ring that stops (or turns back) before focus leaves a kink that
     * a parabola fits badly; a pass through a peak, a smooth curve. */
    double sigma = noise(t, k), sigma_t = noise_in_time(t, k);
    if (rms > 2 * (sigma_t > sigma ? sigma_t : sigma) + 0.004) {
        LOG_DEBUG("focus", "trap: no parabola (residual %.4f, noise %.4f, against time %.4f)", rms, sigma, sigma_t);
        return NAN;
    }
    if (looks_like_corner(t, k, tref, rms)) return NAN;
    /* and the curve must rise well above the noise over the window (far
     * out of focus the sharpness is mostly noise) */
    double u0 = at(t, k - 1)->t - tref, v0 = a * u0 * u0 + b * u0 + c;
    double rise = c - b * b / (4 * a) - v0;
    if (rise < 8 * sigma || rise < 0.3) return NAN;
    t->window = k;
    /* The coarse measure peaks at the same place on a wider curve: near a
     * real peak it levels off too, while on the flank of the curve (where
     * the fine measure's logarithm bends as it leaves the noise floor) it
     * still climbs steeply. */
    double ac, bc, cc, rc;
    if (!fit_parabola(t, k, true, FIT_POWER, tref, &ac, &bc, &cc, &rc)) return NAN;
    double vc = ac < 0 ? -bc / (2 * ac) : INFINITY;
    double span = at(t, 0)->t - at(t, k - 1)->t;
    double vf = -b / (2 * a);
    LOG_DEBUG("focus", "trap: fine vertex %.0f ms, coarse %.0f ms, span %.0f ms", vf * 1000, vc * 1000, span * 1000);
    if (vc > vf + 0.5 * span) {
        LOG_DEBUG("focus", "trap: the coarse measure still climbs (its peak %.0f ms ahead)", vc * 1000);
        return NAN;
    }
    double v = -b / (2 * a);
    if (b < 0 && v < 0) return NAN; /* falling: past any peak */
    if (!long_view_agrees(t, k, tref, v)) return NAN;
    /* When.  log F is a parabola only near the top: on the rising flank
     * its parabola bends too slowly and puts the peak late, by three to
     * five frames a few frames out (virtual camera, 0.5-3 Near1/frame),
     * coming closer every frame; which is what the checks above want (a
     * real peak's predictions keep still or come closer, a bend on the
     * flank recedes).  Gradient energy goes as (base blur^2 + (alpha *
     * defocus)^2)^-p, so F^(-1/p) is a parabola in the lens position, and
     * in time while the ring turns steadily: with p = 1 (a Gaussian blur
     * of a 1/f scene) it puts the peak one to two frames early, with the
     * simulator's disc blur, binning and JPEG; F^-0.75 within about half
     * a frame over 0.5-3 Near1/frame. */
    double x[3], rms_time;
    *peak_y = c - b * b / (4 * a);
    *when = v;
    if (fit3(t, k, FIT_INVERSE_POWER, FIT_POWER, tref, parabola_basis, NULL, x, &rms_time) && x[0] > 0) {
        *when = -x[1] / (2 * x[0]);
        LOG_DEBUG("focus", "trap: the peak in %.0f ms (log F's vertex %.0f ms)", *when * 1000, v * 1000);
    }
    return v;
}

/* Do the last three predictions of the peak's time (pred[0] the
 * newest, NAN: none) agree, within two frame periods or a quarter of the
 * time still ahead, and not recede against the one before them?  A real
 * peak stays where it is as the lens nears it; a bend on the flank of
 * the curve recedes (each frame puts it later). */
static bool predictions_agree(const double *pred, double ahead, double period)
{
    enum { NEED = 3 };
    const double recede = 0.3; /* frames of delay per frame */
    double lo = pred[0], hi = pred[0];
    for (int i = 0; i <= NEED; i++) {
        if (isnan(pred[i])) return false; /* (and without one to compare with, no telling) */
        if (i < NEED && pred[i] < lo) lo = pred[i];
        if (i < NEED && pred[i] > hi) hi = pred[i];
    }
    double spread_ok = 2 * period > 0.25 * ahead ? 2 * period : 0.25 * ahead;
    return hi - lo <= spread_ok && (pred[0] - pred[NEED]) / (NEED * period) <= recede;
}

/* Have the last three predictions (pred[0] the newest) each come no
 * later than a frame after the one before?  log F's vertex closes in on
 * a real peak from late. */
static bool closing_in(const double *pred, double period)
{
    for (int i = 0; i < 2; i++)
        if (!(pred[i] <= pred[i + 1] + period)) return false; /* (NAN: no) */
    return true;
}

/* How long, from now, a hold will wait for the live-view fetch in flight:
 * the median of the last fetch times, less the time since the newest
 * frame arrived (the next fetch started then; an upper bound when the
 * session paces its fetches).  0 for a pushed stream. */
static double hold_wait_s(const trap *t, double since_arrival)
{
    if (t->nfetch == 0) return 0;
    double v[FETCHES];
    for (int i = 0; i < t->nfetch; i++) v[i] = (double)t->fetch_ns[i] / 1e9;
    qsort(v, (size_t)t->nfetch, sizeof v[0], cmp_double);
    double busy = v[t->nfetch / 2];
    return busy > since_arrival ? busy - since_arrival : 0;
}

/* From a learned peak height: sqrt(log(Fp / F)) is linear in time. */
static double predict_learned(trap *t)
{
    if (isnan(t->learned_peak)) return NAN;
    double u[MAX_FIT], z[MAX_FIT];
    int k = 0;
    double tref = at(t, 0)->t;
    for (int i = 0; i < t->n && k < 12; i++) {
        const trap_point *p = at(t, i);
        double d = t->learned_peak - p->y;
        if (d <= 0) d = 0;
        if (d > 2.0) break; /* below 13 % of the peak: too far to trust the shape */
        u[k] = p->t - tref;
        z[k] = sqrt(d);
        k++;
    }
    double b, c;
    if (k < 4 || !fit_line(u, z, k, &b, &c) || !(b < 0)) return NAN;
    return -c / b;
}

int focus_trap_run(const focus_port *port, const tether_trap_options *o, tether_trap_result *r)
{
    tether_shot *shot = r->shot;
    *r = (tether_trap_result){.shot = shot};
    trap *t = calloc(1, sizeof *t);
    if (t == NULL) return TETHER_ERR_NO_MEMORY;
    t->port = port;
    t->o = o;
    t->r = r;
    t->learned_peak = NAN;
    t->pass_max = -INFINITY;
    for (int i = 0; i < NPRED; i++) t->t0_pred[i] = t->when_pred[i] = NAN;
    tether_roi roi = focus_roi_or_default(&o->roi);
    img_region reg = {roi.x, roi.y, roi.w, roi.h};
    fmeter_init(&t->m, port, reg);
    int rc = 0;
    if (o->zoom > 1 && port->zoom) {
        double cx = roi.x + roi.w / 2, cy = roi.y + roi.h / 2;
        rc = port->zoom(port->ctx, o->zoom, cx, cy);
        if (rc == 0) fmeter_set_roi(&t->m, fmeter_zoomed_roi(reg, o->zoom, cx, cy));
        else if (rc == TETHER_ERR_NOT_SUPPORTED) rc = 0;
        if (rc != 0) {
            set_reason(t, "error", "Live-view magnification failed.");
            goto out;
        }
    }
    double lag = (o->lag_ms > 0 ? o->lag_ms : 80) / 1000.0;
    t->start_ns = port->now_ns(port->ctx);
    progress(t, "watching", 0);
    bool armed = false;
    for (;;) {
        if (o->timeout_s > 0 && (double)(port->now_ns(port->ctx) - t->start_ns) / 1e9 >= o->timeout_s) {
            set_reason(t, "timeout", "The subject did not come into focus within %.0f s.", o->timeout_s);
            break;
        }
        focus_sample s;
        rc = fmeter_frame(&t->m, &s, 2000);
        if (rc == TETHER_ERR_TIMEOUT) continue;
        if (rc == TETHER_ERR_CANCELLED) {
            rc = 0;
            set_reason(t, "cancelled", "Trap focus was cancelled.");
            break;
        }
        if (rc != 0) {
            set_reason(t, "error", "Live view failed: %s.", tether_strerror(rc));
            break;
        }
        r->frames++;
        t->fetch_ns[t->fetch_head] = s.fetch_ns;
        t->fetch_head = (t->fetch_head + 1) % FETCHES;
        if (t->nfetch < FETCHES) t->nfetch++;
        if (s.repeat) continue; /* the same picture again: no new point on the curve */
        double period = t->m.period_ns / 1e9;
        double f = s.fine > 1e-9 ? s.fine : 1e-9;
        /* the frame shows the lens a frame period before it arrived (the
         * exposure time a port gives is not used here: under a slow build
         * it made the frames look older, and the trap fire early on a ring
         * that stopped short) */
        push(t, (trap_point){(double)s.t_ns / 1e9 - period, log(f), log(s.coarse > 1e-12 ? s.coarse : 1e-12), f});

        /* a pass: from low sharpness up through a peak and down again */
        double sw = swing(t);
        if (!armed && sw >= ARM_SWING) {
            armed = true;
            progress(t, "armed", f);
        }
        if (log(f) > t->pass_max) t->pass_max = log(f);
        if (t->pass_max - log(f) > log(2.0) && t->rising_pass) {
            /* came down to half of the pass's peak: remember its height */
            t->learned_peak = t->pass_max;
            LOG_DEBUG("focus", "trap: a peak went by (F %.4g); learnt for the next pass", exp(t->pass_max));
            t->pass_max = log(f);
            t->rising_pass = false;
        }
        if (sw >= ARM_SWING && log(f) - log(0.5) > t->pass_max - 1e-9) t->rising_pass = true;
        if (!armed || t->n < MIN_FIT) continue;

        /* when will the peak be, seen from this frame's time? */
        double peak_y = NAN, when = NAN;
        double ahead = predict_parabola(t, &peak_y, &when);
        const char *how = "a parabola through the rising sharpness";
        double ahead_l = predict_learned(t);
        if (!isnan(ahead_l) && (isnan(ahead) || !(peak_y > t->learned_peak - log(1.5)))) {
            ahead = when = ahead_l;
            how = "the peak height learnt on the previous pass";
        }
        double tnow = at(t, 0)->t;
        memmove(t->t0_pred + 1, t->t0_pred, (NPRED - 1) * sizeof t->t0_pred[0]);
        t->t0_pred[0] = isnan(ahead) ? NAN : tnow + ahead;
        memmove(t->when_pred + 1, t->when_pred, (NPRED - 1) * sizeof t->when_pred[0]);
        t->when_pred[0] = isnan(ahead) || isnan(when) ? NAN : tnow + when;
        if (isnan(ahead)) continue;
        /* the exposure happens lag after arrival; frames show the lens
         * `period` before arrival */
        double until_exposure = lag + period;
        bool stable = predictions_agree(t->t0_pred, ahead, period);
        /* F^-TIME_POWER's own predictions may agree on their own while
         * log F's vertex still closes in from late (at 2 Near1/frame with
         * frame times off by up to 22 ms, log F's vertex moves 50-90 ms
         * earlier a frame until a frame or two before the peak, and waiting
         * for it fired +1.9 frames late), but only while that vertex does
         * close in: on the far flank of the curve, where F^-TIME_POWER's
         * bend is early, three of its predictions agreed by chance with
         * log F's vertex jumping back and forth (a ring at 1 Near1/frame,
         * 66 Near1 from focus) */
        bool stable_when = predictions_agree(t->when_pred, when, period) && closing_in(t->t0_pred, period);
        /* Fire on the time from F^-TIME_POWER when it is due; unless log
         * F's own vertex (which is late, never early) is more than 3.3
         * times as far: the fit is then on the far flank of the curve,
         * where F^-TIME_POWER bends early (a ring at 2 Near1/frame that
         * stops 35 Near1 short of focus fired on it 13 times in 20);
         * or on log F's vertex when that one is due (a fast ring, whose
         * frames come close to the peak only once or twice). */
        /* ... and a command decided now cannot leave before the hold has
         * waited for the live-view fetch in flight: a camera asked for
         * its frames one by one keeps the owner busy most of a frame
         * period (measured), so the decision looks that much further
         * ahead, and the command then waits for its time */
        double since = (double)(port->now_ns(port->ctx) - s.t_ns) / 1e9;
        double busy = since + hold_wait_s(t, since);
        double due = until_exposure + busy + FIRE_HALF_FRAMES * period / 2;
        bool fire_when = when <= due && when >= -period && when >= MIN_WHEN_OF_VERTEX * ahead;
        /* log F's vertex alone is trusted only while the sharpness still
         * climbs, by more than its noise over the last three frames: a
         * fast ring's frames do, while a ring that stops short leaves a
         * level stretch whose fitted vertex comes to "now" (under ASan,
         * with fewer frames a second, that fired twice in two full runs
         * on a ring stopped 35 Near1 short, at F 0.334, 0.333, 0.331),
         * and by more than half of it over the newest frame (a ring at 3
         * Near1/frame stopping 35 Near1 short, frames up to 22 ms late:
         * the three frames climbed 0.31 and the newest, level, fired 2
         * times in 30) */
        double climb = t->n > 3 ? at(t, 0)->y - at(t, 3)->y : 0;
        double last_step = t->n > 1 ? at(t, 0)->y - at(t, 1)->y : 0, sigma = noise(t, t->window);
        bool fire_vertex = ahead <= due && ahead >= -period && climb > 2 * sigma && last_step > 0.5 * sigma;
        LOG_DEBUG("focus", "trap: F %.4g peak in %.0f ms, log F's vertex in %.0f ms (due <= %.0f) stable %d/%d swing %.1f climb %.3f",
                  f, when * 1000, ahead * 1000, due * 1000, stable, stable_when, sw, climb);
        fire_when = fire_when && (stable || stable_when);
        fire_vertex = fire_vertex && stable;
        if (!(fire_when || fire_vertex)) continue;
        if (!fire_when) when = ahead;

        /* fire when the peak is due: the shutter command goes out `lag`
         * before it, not at the next frame.  The camera is held first, so
         * that the command does not wait behind a live-view fetch (the
         * hold waits for the one in flight). */
        r->predicted_ms = when * 1000;
        r->lag_ms = until_exposure * 1000;
        progress(t, "firing", f);
        bool held = port->hold != NULL;
        if (held) port->hold(port->ctx, true);
        double t_command = tnow + when - lag;
        int64_t wait_ns = (int64_t)((t_command - (double)port->now_ns(port->ctx) / 1e9) * 1e9);
        if (wait_ns > 0) port->sleep_ns(port->ctx, wait_ns);
        r->waited_ms = wait_ns > 0 ? (double)wait_ns / 1e6 : 0;
        rc = port->capture ? port->capture(port->ctx, r->shot) : TETHER_ERR_NOT_SUPPORTED;
        if (held) port->hold(port->ctx, false);
        if (rc != 0) {
            set_reason(t, "error", "The capture failed: %s.", tether_strerror(rc));
            break;
        }
        r->fired = true;
        set_reason(t, "fired",
                   "Fired: %s put the focus peak %.0f ms ahead, within the %.0f ms from frame to exposure "
                   "(sharpness had swung %.1fx).",
                   how, when * 1000, until_exposure * 1000, sw);
        break;
    }
out:
    r->seconds = (double)(port->now_ns(port->ctx) - t->start_ns) / 1e9;
    if (o->zoom > 1 && port->zoom) port->zoom(port->ctx, 1, 0.5, 0.5);
    progress(t, "done", 0);
    fmeter_free(&t->m);
    free(t);
    return rc;
}
