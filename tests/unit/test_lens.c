/*
 * Unit tests for the simulated lens (sim/ptpip/lens.c): step sizes,
 * backlash, end stops, timing, lost commands, the focus ring (alone, with
 * the motor, against an end stop), the motor's speed, and
 * reproducibility.
 */
#include "harness.h"

#include <math.h>

#include "ptpip/lens.h"

static lens_params exact(void)
{
    lens_params p;
    lens_default_params(&p, 1);
    p.range = 700;
    p.step_noise = 0;
    p.backlash = 0;
    p.latency_s = 0.05;
    p.speed = 500;
    p.drop_when_busy = 0;
    return p;
}

/* Drives and then lets the lens settle. */
static double drive_settled(lens *l, double *t, int dir, int size)
{
    lens_drive_canon(l, *t, dir, size);
    *t += 10;
    return lens_position(l, *t);
}

TEST(step_sizes_follow_canon_ratios)
{
    lens_params p = exact();
    lens l;
    double t = 0;
    lens_init(&l, &p, 1, 100, t);
    CHECK_NEAR(drive_settled(&l, &t, 1, 1), 101, 1e-9);
    CHECK_NEAR(drive_settled(&l, &t, 1, 2), 105.3, 1e-9);
    CHECK_NEAR(drive_settled(&l, &t, 1, 3), 135.3, 1e-9);
}

TEST(step_noise_averages_out)
{
    lens_params p = exact();
    p.step_noise = 0.1;
    lens l;
    double t = 0;
    lens_init(&l, &p, 7, 0, t);
    for (int i = 0; i < 200; i++) drive_settled(&l, &t, 1, 1);
    double pos = lens_position(&l, t);
    CHECK(fabs(pos - 200) < 10);   /* mean of 200 draws */
    CHECK(fabs(pos - 200) > 1e-6); /* but noisy */
}

TEST(backlash_is_lost_on_reversal)
{
    lens_params p = exact();
    p.backlash = 3;
    lens l;
    double t = 0;
    lens_init(&l, &p, 1, 300, t);
    drive_settled(&l, &t, 1, 3);                    /* +30 */
    CHECK_NEAR(lens_position(&l, t), 330, 1e-9);
    drive_settled(&l, &t, -1, 3);                   /* -30 + 3 lost */
    CHECK_NEAR(lens_position(&l, t), 303, 1e-9);
    drive_settled(&l, &t, -1, 1);                   /* same direction: no loss */
    CHECK_NEAR(lens_position(&l, t), 302, 1e-9);
    drive_settled(&l, &t, 1, 1);                    /* reversal: all of it lost */
    CHECK_NEAR(lens_position(&l, t), 302, 1e-9);
    drive_settled(&l, &t, 1, 3);                    /* 2 more slack, then 28 */
    CHECK_NEAR(lens_position(&l, t), 330, 1e-9);
}

TEST(end_stops_clamp_silently)
{
    lens_params p = exact();
    lens l;
    double t = 0;
    lens_init(&l, &p, 1, 690, t);
    for (int i = 0; i < 3; i++) drive_settled(&l, &t, 1, 3);
    CHECK_NEAR(lens_position(&l, t), 700, 1e-9);
    for (int i = 0; i < 30; i++) drive_settled(&l, &t, -1, 3);
    CHECK_NEAR(lens_position(&l, t), 0, 1e-9);
}

TEST(motion_takes_time)
{
    lens_params p = exact();
    lens l;
    lens_init(&l, &p, 1, 100, 0);
    lens_drive_canon(&l, 0, 1, 3); /* 30 steps at 500/s after 50 ms */
    CHECK_NEAR(lens_position(&l, 0.04), 100, 1e-9);
    CHECK(lens_moving(&l, 0.04));
    CHECK_NEAR(lens_position(&l, 0.08), 115, 1e-6);
    CHECK_NEAR(lens_position(&l, 0.2), 130, 1e-9);
    CHECK(!lens_moving(&l, 0.2));
}

TEST(third_command_in_flight_may_be_lost)
{
    lens_params p = exact();
    p.drop_when_busy = 1;
    lens l;
    lens_init(&l, &p, 1, 100, 0);
    CHECK(lens_drive_canon(&l, 0, 1, 3));
    CHECK(lens_drive_canon(&l, 0.001, 1, 3));
    CHECK(!lens_drive_canon(&l, 0.002, 1, 3));
    CHECK_EQ_INT(l.dropped, 1);
    CHECK_NEAR(lens_position(&l, 5), 160, 1e-9);
    /* at rest again, commands are accepted */
    CHECK(lens_drive_canon(&l, 5, 1, 1));
}

TEST(ring_turns_at_speed)
{
    lens_params p = exact();
    lens l;
    lens_init(&l, &p, 1, 200, 0);
    lens_ring(&l, 0, 40, 2.0);
    CHECK_NEAR(lens_position(&l, 1.0), 240, 1e-9);
    CHECK(lens_moving(&l, 1.0));
    CHECK_NEAR(lens_position(&l, 3.0), 280, 1e-9);
    CHECK(!lens_moving(&l, 3.0));
}

TEST(ring_and_motor_add_up)
{
    lens_params p = exact();
    lens l;
    lens_init(&l, &p, 1, 200, 0);
    lens_ring(&l, 0, 40, 2.0);
    CHECK(lens_drive_canon(&l, 0.5, 1, 3)); /* +30 at 500/s from 0.55 s */
    CHECK_NEAR(lens_position(&l, 0.5), 220, 1e-9);
    CHECK_NEAR(lens_position(&l, 0.6), 200 + 40 * 0.6 + 500 * 0.05, 1e-9);
    CHECK_NEAR(lens_position(&l, 1.0), 200 + 40 + 30, 1e-9);
    CHECK(lens_moving(&l, 1.0)); /* the ring still turns */
    CHECK_NEAR(lens_position(&l, 3.0), 200 + 80 + 30, 1e-9);
    CHECK(!lens_moving(&l, 3.0));
}

TEST(ring_stops_at_the_end_and_comes_back)
{
    lens_params p = exact();
    lens l;
    lens_init(&l, &p, 1, 30, 0);
    lens_ring(&l, 0, -60, 1.0); /* would go to -30 */
    CHECK_NEAR(lens_position(&l, 0.25), 15, 1e-9);
    CHECK_NEAR(lens_position(&l, 1.0), 0, 1e-9);
    lens_ring(&l, 1.0, 60, 0.5); /* turned back: moves at once */
    CHECK_NEAR(lens_position(&l, 1.25), 15, 1e-9);
    CHECK_NEAR(lens_position(&l, 2.0), 30, 1e-9);
}

TEST(ring_slow_through_focus)
{
    /* trap focus: 15 steps/s through a subject at 250 is within +-1 step
     * of it for 2/15 s */
    lens_params p = exact();
    lens l;
    lens_init(&l, &p, 1, 220, 0);
    lens_ring(&l, 0, 15, 4.0);
    double in = 0;
    for (double t = 0; t < 4.0; t += 0.001)
        if (fabs(lens_position(&l, t) - 250) <= 1) in += 0.001;
    CHECK_NEAR(in, 2.0 / 15, 0.003);
}

TEST(motor_speed_sets_travel_time)
{
    lens_params p = exact();
    p.speed = 100;
    lens l;
    lens_init(&l, &p, 1, 100, 0);
    lens_drive_canon(&l, 0, 1, 3); /* 30 steps at 100/s after 50 ms */
    CHECK_NEAR(lens_position(&l, 0.15), 110, 1e-6);
    CHECK(lens_moving(&l, 0.3));
    CHECK_NEAR(lens_position(&l, 0.35), 130, 1e-9);
    CHECK(!lens_moving(&l, 0.36));
}

TEST(same_seed_same_path)
{
    lens_params p;
    lens_default_params(&p, 42);
    CHECK(p.range >= 600 && p.range <= 850);
    lens a, b;
    lens_init(&a, &p, 42, 100, 0);
    lens_init(&b, &p, 42, 100, 0);
    double t = 0;
    for (int i = 0; i < 50; i++) {
        int dir = (i / 7) % 2 ? -1 : 1;
        lens_drive_canon(&a, t, dir, 1 + i % 3);
        lens_drive_canon(&b, t, dir, 1 + i % 3);
        t += 1;
    }
    CHECK_NEAR(lens_position(&a, t), lens_position(&b, t), 0);
}

TEST(autofocus_lands_near_focus)
{
    lens_params p = exact();
    p.af_error = 0.7;
    lens l;
    lens_init(&l, &p, 3, 50, 0);
    lens_autofocus(&l, 0, 432);
    CHECK(fabs(lens_position(&l, 10) - 432) < 4);
}

TESTS(HARNESS_ENTRY(step_sizes_follow_canon_ratios), HARNESS_ENTRY(step_noise_averages_out),
      HARNESS_ENTRY(backlash_is_lost_on_reversal), HARNESS_ENTRY(end_stops_clamp_silently),
      HARNESS_ENTRY(motion_takes_time), HARNESS_ENTRY(third_command_in_flight_may_be_lost),
      HARNESS_ENTRY(ring_turns_at_speed), HARNESS_ENTRY(same_seed_same_path),
      HARNESS_ENTRY(autofocus_lands_near_focus), HARNESS_ENTRY(ring_and_motor_add_up),
      HARNESS_ENTRY(ring_stops_at_the_end_and_comes_back), HARNESS_ENTRY(ring_slow_through_focus),
      HARNESS_ENTRY(motor_speed_sets_travel_time))
