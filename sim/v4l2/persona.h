/*
 * v4l2sim persona: what one simulated V4L2 capture device offers, as
 * static tables: its identity (driver, card, bus), its formats with their
 * discrete sizes and frame intervals, and its controls (ranges, menus,
 * which auto control makes a manual one inactive).
 *
 * "uvc-c920" is a UVC webcam shaped like Logitech's C920 (MJPEG and YUYV,
 * exposure, white balance and focus controls, Huffman tables left out of
 * its MJPEG as UVC cameras do); "pi-libcamerify" is what libcamera's V4L2
 * compatibility shim shows for a Raspberry Pi camera module (YU12, NV12
 * and the ISP's RGB formats RGB3 and BGR3 (libcamera's BGR888 and RGB888),
 * no MJPEG, few controls); "bcm2835-legacy" is the Pi's legacy camera
 * driver (bcm2835-v4l2, the firmware's MMAL camera, removed in Bookworm):
 * JPEG stills, MJPEG, raw YUV and RGB formats, any size from 32x32 to the
 * sensor's 2592x1944 in steps of 2 (stepwise) at any rate from 1 to 90 fps
 * (continuous), and its controls (ISO as an integer menu, white-balance
 * presets, JPEG quality).
 *
 * Pure data: any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum { V4L2SIM_MAX_SIZES = 8, V4L2SIM_MAX_INTERVALS = 4, V4L2SIM_MAX_FORMATS = 8,
       V4L2SIM_MAX_CTRLS = 24 };

typedef struct v4l2sim_size {
    int width, height;
    int n_fps;
    int fps[V4L2SIM_MAX_INTERVALS];     /* frame rates offered, fastest first */
} v4l2sim_size;

/* Sizes a driver enumerates as one V4L2_FRMSIZE_TYPE_STEPWISE range, with
 * V4L2_FRMIVAL_TYPE_CONTINUOUS frame intervals. */
typedef struct v4l2sim_stepwise {
    int min_w, min_h, max_w, max_h, step;
    int fps_min, fps_max, fps_def;      /* whole frames per second */
    int def_w, def_h;                   /* the size set at start */
} v4l2sim_stepwise;

typedef struct v4l2sim_format {
    uint32_t fourcc;                    /* V4L2_PIX_FMT_* */
    const char *description;            /* as the kernel names it */
    bool compressed;
    int n_sizes;                        /* discrete sizes (stepwise == NULL) */
    v4l2sim_size sizes[V4L2SIM_MAX_SIZES];
    const v4l2sim_stepwise *stepwise;   /* or a range of sizes, n_sizes 0 */
} v4l2sim_format;

typedef struct v4l2sim_ctrl {
    uint32_t id;                        /* V4L2_CID_* */
    const char *name;                   /* the kernel's name */
    uint32_t type;                      /* V4L2_CTRL_TYPE_* */
    int32_t min, max, step, def;
    const char *const *menu;            /* MENU: item names by value, NULL = no such item */
    const int64_t *qmenu;               /* INTEGER_MENU: item values by index */
    uint32_t auto_id;                   /* inactive while this control ... */
    int32_t auto_manual;                /* ... is not this value (0: no auto control) */
} v4l2sim_ctrl;

typedef struct v4l2sim_persona {
    const char *id;                     /* "uvc-c920" */
    const char *driver;                 /* QUERYCAP driver */
    const char *card;
    const char *bus_info;
    bool strip_dht;                     /* MJPEG without Huffman tables (UVC) */
    int n_formats;
    v4l2sim_format formats[V4L2SIM_MAX_FORMATS];
    int n_ctrls;                        /* sorted by id, class controls included */
    v4l2sim_ctrl ctrls[V4L2SIM_MAX_CTRLS];
} v4l2sim_persona;

/* The persona called id, or NULL. */
const v4l2sim_persona *v4l2sim_persona_find(const char *id);
/* The names of every persona, comma-separated (static text). */
const char *v4l2sim_persona_names(void);
