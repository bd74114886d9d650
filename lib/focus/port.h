/*
 * port: what the focus algorithms need from a camera, and nothing more.
 *
 * Autofocus, trap focus, stacking and the seed's baseline algorithms are
 * written against this small interface instead of tether_camera, so that
 * the same code runs on a real session (camport.c: libtether's live view,
 * focus drive and capture) and on a virtual camera with a virtual clock
 * (tests/tools/focuslab.c: the simulator's lens and renderer, hundreds of
 * trials a minute for tuning).  Nothing in the algorithms reads the system
 * clock or sleeps by itself: time comes from now_ns and sleep_ns.
 *
 * A port is used by one thread, the one running the algorithm.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tether/tether.h"

typedef struct focus_frame {
    const uint8_t *data;     /* one live-view JPEG, valid until release */
    size_t len;
    int64_t t_ns;            /* when it arrived, on the port's clock */
    int64_t fetch_ns;        /* live view asked for frame by frame: how long its fetch kept the
                                camera busy (a hold waits about that long); 0 when pushed */
    uint64_t seq;            /* increases with every frame */
    void *hold;              /* the port's reference */
} focus_frame;

typedef struct focus_port {
    void *ctx;
    /* Sends one drive command (direction +1 near, -1 far; step 1..3, Canon's
     * Near/Far 1..3) and returns once the camera took it: the lens may
     * still be moving, or not have started.  0 or a tether_err. */
    int (*drive)(void *ctx, int direction, int step);
    /* Waits up to timeout_ms for a frame newer than *seq; fills f and sets
     * *seq.  0, TETHER_ERR_TIMEOUT, or another tether_err. */
    int (*next_frame)(void *ctx, uint64_t *seq, int timeout_ms, focus_frame *f);
    void (*release)(void *ctx, focus_frame *f);
    /* Live-view magnification: factor 1, 5 or 10 centred on (cx, cy), in
     * fractions of the frame.  May be NULL; TETHER_ERR_NOT_SUPPORTED when
     * the camera has none. */
    int (*zoom)(void *ctx, int factor, double cx, double cy);
    /* Takes a picture through the normal capture path.  May be NULL. */
    int (*capture)(void *ctx, tether_shot *shot);
    /* Holds the camera ready for a command (on: no live-view fetch of its
     * own, so a capture sent next starts at once; waits for the fetch in
     * flight) or lets it go (off).  May be NULL.  0 or a tether_err (the
     * hold is taken anyway: always let it go). */
    int (*hold)(void *ctx, bool on);
    int64_t (*now_ns)(void *ctx);
    void (*sleep_ns)(void *ctx, int64_t ns);
    /* True when the caller wants the algorithm to stop.  May be NULL. */
    bool (*stopped)(void *ctx);
} focus_port;
