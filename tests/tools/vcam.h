/*
 * vcam: a virtual camera with a virtual clock, for the focus algorithms.
 *
 * It is the simulator's own lens (sim/ptpip/lens.c) and renderer
 * (sim/ptpip/render.c) behind a focus port (lib/focus/port.h), without
 * PTP/IP, libgphoto2 or real time: a frame costs only its rendering, so
 * hundreds of autofocus or trap-focus trials run in a minute.  Time
 * advances only when the algorithm waits for a frame (to the next frame
 * slot), sends a command (a fixed command latency), sleeps, or captures
 * (the shutter lag).  Frames show the lens as it was one frame period
 * before they arrive, like the simulator's.
 *
 * Used by tests/tools/focuslab.c (tuning, comparisons) and the unit tests;
 * the acceptance tests run the same algorithms on `tether sim ptpip`.
 * One thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "focus/port.h"
#include "ptpip/lens.h"
#include "ptpip/lvdelivery.h"
#include "ptpip/scene.h"

typedef struct vcam_options {
    scene_kind scene;
    bool dim;
    uint64_t seed;
    double fps;              /* 0: 30 */
    double focus_at;         /* 0..1 of the range; < 0: random from the seed */
    double lens_start;       /* 0..1; < 0: random */
    double backlash;         /* < 0: the lens default */
    double step_noise;       /* < 0: the lens default */
    double cmd_latency_s;    /* from drive() to the lens getting it (0: 0.02) */
    double shutter_lag_s;    /* from capture() to the exposure (0: 0.06) */
    bool no_zoom;            /* no live-view magnification (as a Nikon here) */
    bool end_stop_answer;    /* a drive into an end stop answers TETHER_ERR_END_STOP, as a Nikon
                                body's MfDriveStepEnd (else it is taken and does nothing, as Canon) */
    double steps[3];         /* Near1/2/3 sizes in Near1 units; 0: the lens default (1, 4.3, 30) */
    double near_blur;        /* blur on the near side relative to the far side; 0: 1 */
    lvdelivery_options lv;   /* late and repeated frames (all 0: one frame period late) */
    bool polled;             /* live view asked for frame by frame, back to back, as a session
                                does with a PTP camera: a hold waits for the fetch in flight (it
                                ends at the next frame slot), and frames say their fetch took a
                                frame period; else frames cost nothing and a hold is at once */
    double arrival_jitter_s; /* polled: each frame reaches the session 0 to this many seconds after
                                its slot (uniform), its picture still on the camera's frame clock:
                                a fetch's time varies (10 to 55 ms on `tether sim ptpip` through
                                libgphoto2); 0: on the slot */
    int absolute_max;        /* > 0: the lens takes absolute positions 0..absolute_max over its
                                range (a webcam's focus_absolute, through lib/focus/absolute.c:
                                no backlash, no step noise); 0: Canon relative steps */
} vcam_options;

typedef struct vcam vcam;

vcam *vcam_new(const vcam_options *o);
void vcam_free(vcam *v);
const focus_port *vcam_port(vcam *v);

double vcam_now(const vcam *v);
double vcam_lens_position(const vcam *v);
double vcam_range(const vcam *v);
/* The sharp lens position of plane 0 (the background) or 1 (the card). */
double vcam_focus_position(const vcam *v, int plane);
uint64_t vcam_dropped(const vcam *v);
/* How far the lens at `position` is from plane's sharp position, in
 * steps of the blur on the far side (the near side counts near_blur
 * times): within the depth of field when at most vcam_dof_half. */
double vcam_blur_error(const vcam *v, double position, int plane);
/* Half the depth of field in Near1 steps for a photo (as the simulator
 * reports it at its base aperture). */
double vcam_dof_half(const vcam *v);
/* The lens position at the last capture's exposure; NAN if none. */
double vcam_last_shot(const vcam *v);
int vcam_shots(const vcam *v);
/* Turns the focus ring by hand from now on (steps/s, signed). */
void vcam_ring(vcam *v, double speed, double duration_s);
/* The same, starting at virtual time t (later than now). */
void vcam_ring_at(vcam *v, double t, double speed, double duration_s);
double vcam_fps(const vcam *v);
void vcam_set_lens(vcam *v, double position);
