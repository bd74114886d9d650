/*
 * lens: see lens.h.
 *
 * The motion is piecewise linear and evaluated lazily: the state holds the
 * position pos0 at time t0, the motor's target, the time the motion starts,
 * and the hand-turned ring's speed and time window.  Every command first
 * "rebases" the state to the current time (folding the motion so far into
 * pos0), then changes the target.  Nothing runs in the background.
 */
#include "lens.h"

#include <math.h>
#include <stdlib.h>

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void lens_default_params(lens_params *p, uint64_t seed)
{
    rng r;
    rng_seed(&r, rng_hash2(seed, 0x1e45));
    p->range = 600.0 + 250.0 * rng_uniform(&r);
    p->step[0] = 1.0;
    p->step[1] = 4.3;
    p->step[2] = 30.0;
    p->step_noise = 0.05;
    p->backlash = 2.0;
    p->latency_s = 0.05;
    p->speed = 600.0;
    p->drop_when_busy = 0.5;
    p->af_error = 0.7;
    p->near_blur = 1.0;
}

double lens_blur_defocus(const lens_params *p, double defocus)
{
    double k = p->near_blur > 0 ? p->near_blur : 1.0;
    return defocus > 0 ? defocus * k : defocus;
}

bool lens_parse_steps(const char *text, double step[3])
{
    const char *s = text;
    double v[3];
    for (int i = 0; i < 3; i++) {
        char *end;
        v[i] = strtod(s, &end);
        if (end == s || !(v[i] > 0) || v[i] > 1000 || (i > 0 && !(v[i] > v[i - 1]))) return false;
        s = end;
        if (i < 2 && *s++ != ',') return false;
    }
    if (*s != '\0') return false;
    for (int i = 0; i < 3; i++) step[i] = v[i];
    return true;
}

void lens_init(lens *l, const lens_params *p, uint64_t seed, double initial_pos, double now)
{
    *l = (lens){0};
    l->p = *p;
    rng_seed(&l->rng, rng_hash2(seed, 0x1e46));
    l->pos0 = l->target = clampd(initial_pos, 0, p->range);
    l->t0 = l->t_move = l->ring_t0 = l->ring_t1 = now;
    l->speed = p->speed;
    l->dir = 0;
}

static double motor_travel(const lens *l, double now)
{
    if (now <= l->t_move) return 0;
    double d = l->target - l->pos0;
    double travel = l->speed * (now - l->t_move);
    return fabs(d) <= travel ? d : copysign(travel, d);
}

static double ring_travel(const lens *l, double now)
{
    double t = clampd(now, l->ring_t0, l->ring_t1);
    return l->ring_speed * (t - l->ring_t0);
}

double lens_position(const lens *l, double now)
{
    return clampd(l->pos0 + motor_travel(l, now) + ring_travel(l, now), 0, l->p.range);
}

bool lens_moving(const lens *l, double now)
{
    bool motor = fabs(l->target - (l->pos0 + motor_travel(l, now))) > 1e-9;
    bool ring = now < l->ring_t1 && l->ring_speed != 0;
    return motor || ring;
}

/* Folds the motion up to `now` into pos0 and keeps the motor's remaining
 * distance. */
static void rebase(lens *l, double now)
{
    double travel = motor_travel(l, now);
    double remaining = l->target - (l->pos0 + travel);
    l->pos0 = lens_position(l, now);
    l->target = clampd(l->pos0 + remaining, 0, l->p.range);
    if (now > l->t_move) l->t_move = now;
    l->t0 = now;
    if (l->ring_t1 > now) l->ring_t0 = now;
    else l->ring_t0 = l->ring_t1 = now;
    if (fabs(l->target - l->pos0) < 1e-9 && l->t_move <= now) {
        l->burst = 0;
        l->af_active = false;
    }
}

bool lens_drive(lens *l, double now, int dir, double steps)
{
    rebase(l, now);
    l->commands++;
    bool moving = fabs(l->target - l->pos0) > 1e-9;
    double noise = 1.0 + l->p.step_noise * rng_normal(&l->rng);
    double lost = rng_uniform(&l->rng);
    if (moving && l->burst >= 2 && lost < l->p.drop_when_busy) {
        l->dropped++;
        return false;
    }
    l->burst++;
    l->af_active = false;
    dir = dir >= 0 ? 1 : -1;
    if (l->dir != 0 && dir != l->dir) l->slack = l->p.backlash;
    l->dir = dir;
    double eff = steps * (noise < 0 ? 0 : noise);
    double moved = eff > l->slack ? eff - l->slack : 0;
    l->slack = l->slack > eff ? l->slack - eff : 0;
    l->target = clampd(l->target + dir * moved, 0, l->p.range);
    l->speed = l->p.speed;
    if (!moving) l->t_move = now + l->p.latency_s;
    return true;
}

bool lens_drive_canon(lens *l, double now, int dir, int size)
{
    if (size < 1) size = 1;
    if (size > 3) size = 3;
    return lens_drive(l, now, dir, l->p.step[size - 1]);
}

void lens_autofocus(lens *l, double now, double focus_pos)
{
    rebase(l, now);
    double goal = focus_pos + l->p.af_error * rng_normal(&l->rng);
    goal = clampd(goal, 0, l->p.range);
    /* The body's AF ends with an approach from one side and takes up the
     * backlash itself. */
    l->dir = goal >= l->pos0 ? 1 : -1;
    l->slack = 0;
    l->target = goal;
    l->speed = l->p.speed * 2;
    l->t_move = now + l->p.latency_s;
    l->burst = 0;
    l->af_active = true;
}

void lens_cancel_autofocus(lens *l, double now)
{
    rebase(l, now);
    if (!l->af_active) return;
    l->target = l->pos0;
    l->af_active = false;
}

void lens_ring(lens *l, double now, double speed, double duration_s)
{
    rebase(l, now);
    l->ring_speed = speed;
    l->af_active = false;
    l->ring_t0 = now;
    l->ring_t1 = now + (duration_s > 0 ? duration_s : 0);
}

void lens_set(lens *l, double now, double pos)
{
    l->pos0 = l->target = clampd(pos, 0, l->p.range);
    l->t0 = l->t_move = l->ring_t0 = l->ring_t1 = now;
    l->ring_speed = 0;
    l->burst = 0;
}
