/*
 * v4l2sim frames: the pictures a simulated V4L2 device delivers, rendered
 * from the project's procedural scene (sim/ptpip/scene.c, render.c) and
 * lens model (sim/ptpip/lens.c) in the device's current pixel format.
 *
 * Blur follows focus_absolute through the lens model (the subject is sharp
 * at one position; continuous autofocus keeps it sharp); brightness follows
 * exposure time, gain and the brightness control.  MJPEG frames carry a
 * COM marker "TETHERV4L2 seq=N mono_ns=T" right after SOI, so a client can
 * match frames end to end and measure latency against CLOCK_MONOTONIC; a
 * UVC persona also leaves the Huffman tables (DHT) out, as UVC cameras do.
 *
 * A v4l2sim_frames belongs to one thread at a time (the device's producer
 * thread); it keeps one renderer per frame size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct v4l2sim_frames v4l2sim_frames;

/* What the controls say about the picture when a frame is taken. */
typedef struct v4l2sim_look {
    double gain;            /* 1 = metered exposure */
    bool autofocus;         /* continuous AF on: sharp */
    double focus;           /* focus position, 0..1 of the range */
} v4l2sim_look;

/* A new frame source, or NULL (OOM).  focus_at: where the subject is sharp
 * (0..1 of the focus range); seed varies scene and noise. */
v4l2sim_frames *v4l2sim_frames_new(double focus_at, uint64_t seed);
void v4l2sim_frames_free(v4l2sim_frames *f);

/* Renders frame number seq (its capture time mono_ns) as fourcc at w x h
 * into dst (capacity cap).  Returns the bytes written, or 0 if it cannot
 * (OOM, a format it does not know, dst too small). */
size_t v4l2sim_frames_render(v4l2sim_frames *f, uint32_t fourcc, int w, int h, bool strip_dht,
                             const v4l2sim_look *look, uint64_t seq, int64_t mono_ns, uint8_t *dst,
                             size_t cap);
