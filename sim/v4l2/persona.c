/*
 * v4l2sim persona: the tables of the simulated V4L2 devices (persona.h).
 * Control names are the kernel's, so v4l2-ctl derives the usual short
 * names from them (focus_absolute, auto_exposure, ...).
 */
#include "persona.h"

#include <linux/videodev2.h>
#include <string.h>

static const char *const power_line_menu[] = {"Disabled", "50 Hz", "60 Hz", NULL};
/* a UVC camera offers only manual and aperture priority */
static const char *const exposure_menu[] = {NULL, "Manual Mode", NULL, "Aperture Priority Mode", NULL};

#define CLASS_CTRL(cid, label) {.id = (cid), .name = (label), .type = V4L2_CTRL_TYPE_CTRL_CLASS}
#define INT_CTRL(cid, label, lo, hi, st, d) \
    {.id = (cid), .name = (label), .type = V4L2_CTRL_TYPE_INTEGER, .min = (lo), .max = (hi), \
     .step = (st), .def = (d)}
#define BOOL_CTRL(cid, label, d) \
    {.id = (cid), .name = (label), .type = V4L2_CTRL_TYPE_BOOLEAN, .min = 0, .max = 1, .step = 1, \
     .def = (d)}

static const v4l2sim_persona personas[] = {
    {
        .id = "uvc-c920",
        .driver = "tethersim",
        .card = "HD Pro Webcam C920 (tether sim)",
        .bus_info = "usb-0000:00:14.0-1",
        .strip_dht = true,
        .n_formats = 2,
        .formats = {
            {V4L2_PIX_FMT_MJPEG, "Motion-JPEG", true, 3, {
                {640, 480, 2, {30, 15}},
                {1280, 720, 2, {30, 15}},
                {1920, 1080, 1, {15}},
            }},
            {V4L2_PIX_FMT_YUYV, "YUYV 4:2:2", false, 2, {
                {640, 480, 2, {30, 15}},
                {1280, 720, 1, {10}},
            }},
        },
        .n_ctrls = 15,
        .ctrls = {
            CLASS_CTRL(V4L2_CID_USER_CLASS, "User Controls"),
            INT_CTRL(V4L2_CID_BRIGHTNESS, "Brightness", 0, 255, 1, 128),
            INT_CTRL(V4L2_CID_CONTRAST, "Contrast", 0, 255, 1, 128),
            INT_CTRL(V4L2_CID_SATURATION, "Saturation", 0, 255, 1, 128),
            BOOL_CTRL(V4L2_CID_AUTO_WHITE_BALANCE, "White Balance, Automatic", 1),
            INT_CTRL(V4L2_CID_GAIN, "Gain", 0, 255, 1, 0),
            {.id = V4L2_CID_POWER_LINE_FREQUENCY, .name = "Power Line Frequency",
             .type = V4L2_CTRL_TYPE_MENU, .min = 0, .max = 2, .step = 1, .def = 2,
             .menu = power_line_menu},
            {.id = V4L2_CID_WHITE_BALANCE_TEMPERATURE, .name = "White Balance Temperature",
             .type = V4L2_CTRL_TYPE_INTEGER, .min = 2000, .max = 6500, .step = 1, .def = 4000,
             .auto_id = V4L2_CID_AUTO_WHITE_BALANCE, .auto_manual = 0},
            INT_CTRL(V4L2_CID_SHARPNESS, "Sharpness", 0, 255, 1, 128),
            CLASS_CTRL(V4L2_CID_CAMERA_CLASS, "Camera Controls"),
            {.id = V4L2_CID_EXPOSURE_AUTO, .name = "Auto Exposure", .type = V4L2_CTRL_TYPE_MENU,
             .min = 0, .max = 3, .step = 1, .def = 3, .menu = exposure_menu},
            {.id = V4L2_CID_EXPOSURE_ABSOLUTE, .name = "Exposure Time, Absolute",
             .type = V4L2_CTRL_TYPE_INTEGER, .min = 3, .max = 2047, .step = 1, .def = 250,
             .auto_id = V4L2_CID_EXPOSURE_AUTO, .auto_manual = V4L2_EXPOSURE_MANUAL},
            {.id = V4L2_CID_FOCUS_ABSOLUTE, .name = "Focus, Absolute", .type = V4L2_CTRL_TYPE_INTEGER,
             .min = 0, .max = 250, .step = 5, .def = 0, .auto_id = V4L2_CID_FOCUS_AUTO,
             .auto_manual = 0},
            BOOL_CTRL(V4L2_CID_FOCUS_AUTO, "Focus, Automatic Continuous", 1),
            INT_CTRL(V4L2_CID_ZOOM_ABSOLUTE, "Zoom, Absolute", 100, 500, 1, 100),
        },
    },
    {
        .id = "pi-libcamerify",
        .driver = "tethersim",
        .card = "imx708 (tether sim)",
        .bus_info = "platform:fe801000.csi",
        .strip_dht = false,
        .n_formats = 2,
        .formats = {
            {V4L2_PIX_FMT_YUV420, "Planar YUV 4:2:0", false, 3, {
                {640, 480, 2, {30, 15}},
                {1280, 720, 2, {30, 15}},
                {2304, 1296, 1, {10}},
            }},
            {V4L2_PIX_FMT_NV12, "Y/CbCr 4:2:0", false, 2, {
                {640, 480, 2, {30, 15}},
                {1280, 720, 1, {30}},
            }},
        },
        .n_ctrls = 3,
        .ctrls = {
            CLASS_CTRL(V4L2_CID_USER_CLASS, "User Controls"),
            INT_CTRL(V4L2_CID_BRIGHTNESS, "Brightness", -100, 100, 1, 0),
            INT_CTRL(V4L2_CID_CONTRAST, "Contrast", 0, 200, 1, 100),
        },
    },
};

const v4l2sim_persona *v4l2sim_persona_find(const char *id)
{
    for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++)
        if (strcmp(personas[i].id, id) == 0) return &personas[i];
    return NULL;
}

const char *v4l2sim_persona_names(void)
{
    return "uvc-c920, pi-libcamerify";
}
