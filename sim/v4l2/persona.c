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

/* bcm2835-v4l2's menus (the kernel's item names; its auto_exposure skips
 * the two priority modes) */
static const char *const mmal_power_line_menu[] = {"Disabled", "50 Hz", "60 Hz", "Auto"};
static const char *const mmal_exposure_menu[] = {"Auto Mode", "Manual Mode", NULL, NULL};
static const char *const mmal_wb_menu[] = {"Manual", "Auto", "Incandescent", "Fluorescent",
                                           "Fluorescent H", "Horizon", "Daylight", "Flash",
                                           "Cloudy", "Shade", "Greyworld"};
static const int64_t mmal_iso_values[] = {0, 100, 200, 400, 800};
static const char *const mmal_iso_auto_menu[] = {"Manual", "Auto"};
static const char *const mmal_metering_menu[] = {"Average", "Center Weighted", "Spot", "Matrix"};

/* the v1 camera module (OV5647): any even size 32x32 .. 2592x1944, 1..90 fps */
static const v4l2sim_stepwise mmal_sizes = {
    .min_w = 32, .min_h = 32, .max_w = 2592, .max_h = 1944, .step = 2,
    .fps_min = 1, .fps_max = 90, .fps_def = 30, .def_w = 1024, .def_h = 768,
};

#define CLASS_CTRL(cid, label) {.id = (cid), .name = (label), .type = V4L2_CTRL_TYPE_CTRL_CLASS}
#define INT_CTRL(cid, label, lo, hi, st, d) \
    {.id = (cid), .name = (label), .type = V4L2_CTRL_TYPE_INTEGER, .min = (lo), .max = (hi), \
     .step = (st), .def = (d)}
#define MENU_CTRL(cid, label, hi, d, items) \
    {.id = (cid), .name = (label), .type = V4L2_CTRL_TYPE_MENU, .min = 0, .max = (hi), .step = 1, \
     .def = (d), .menu = (items)}
#define MMAL_FORMAT(fcc, desc, comp) {(fcc), (desc), (comp), 0, {{0}}, &mmal_sizes}
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
        .n_formats = 4,
        .formats = {
            {V4L2_PIX_FMT_YUV420, "Planar YUV 4:2:0", false, 3, {
                {640, 480, 2, {30, 15}},
                {1280, 720, 2, {30, 15}},
                {2304, 1296, 1, {10}},
            }, NULL},
            {V4L2_PIX_FMT_NV12, "Y/CbCr 4:2:0", false, 2, {
                {640, 480, 2, {30, 15}},
                {1280, 720, 1, {30}},
            }, NULL},
            /* the ISP's BGR888 and RGB888 (libcamera's names are the DRM
             * ones: BGR888 is V4L2's RGB24, byte order R, G, B) */
            {V4L2_PIX_FMT_RGB24, "24-bit RGB 8-8-8", false, 2, {
                {640, 480, 2, {30, 15}},
                {2304, 1296, 1, {10}},
            }, NULL},
            {V4L2_PIX_FMT_BGR24, "24-bit BGR 8-8-8", false, 1, {
                {640, 480, 2, {30, 15}},
            }, NULL},
        },
        .n_ctrls = 3,
        .ctrls = {
            CLASS_CTRL(V4L2_CID_USER_CLASS, "User Controls"),
            INT_CTRL(V4L2_CID_BRIGHTNESS, "Brightness", -100, 100, 1, 0),
            INT_CTRL(V4L2_CID_CONTRAST, "Contrast", 0, 200, 1, 100),
        },
    },
    {
        /* bcm2835-v4l2 as Linux 5.x reports it (v4l2-ctl -D): its driver
         * name is spelt "bm2835 mmal"; the card names the firmware's MMAL
         * service version.  Left out of the real driver's lists: H264,
         * YVYU, VYUY, UYVY, YV12, NV21 and BGR4 (tether reads none of
         * them), and the red/blue balance, rotate, colour effect, scene,
         * exposure bias, stabilisation and codec controls. */
        .id = "bcm2835-legacy",
        .driver = "bm2835 mmal",
        .card = "mmal service 16.1",
        .bus_info = "platform:bcm2835-v4l2-0",
        .strip_dht = false,
        .n_formats = 7,
        .formats = {
            MMAL_FORMAT(V4L2_PIX_FMT_YUV420, "Planar YUV 4:2:0", false),
            MMAL_FORMAT(V4L2_PIX_FMT_YUYV, "YUYV 4:2:2", false),
            MMAL_FORMAT(V4L2_PIX_FMT_RGB24, "24-bit RGB 8-8-8", false),
            MMAL_FORMAT(V4L2_PIX_FMT_JPEG, "JFIF JPEG", true),
            MMAL_FORMAT(V4L2_PIX_FMT_MJPEG, "Motion-JPEG", true),
            MMAL_FORMAT(V4L2_PIX_FMT_NV12, "Y/CbCr 4:2:0", false),
            MMAL_FORMAT(V4L2_PIX_FMT_BGR24, "24-bit BGR 8-8-8", false),
        },
        .n_ctrls = 17,
        .ctrls = {
            CLASS_CTRL(V4L2_CID_USER_CLASS, "User Controls"),
            INT_CTRL(V4L2_CID_BRIGHTNESS, "Brightness", 0, 100, 1, 50),
            INT_CTRL(V4L2_CID_CONTRAST, "Contrast", -100, 100, 1, 0),
            INT_CTRL(V4L2_CID_SATURATION, "Saturation", -100, 100, 1, 0),
            BOOL_CTRL(V4L2_CID_HFLIP, "Horizontal Flip", 0),
            BOOL_CTRL(V4L2_CID_VFLIP, "Vertical Flip", 0),
            MENU_CTRL(V4L2_CID_POWER_LINE_FREQUENCY, "Power Line Frequency", 3, 1, mmal_power_line_menu),
            INT_CTRL(V4L2_CID_SHARPNESS, "Sharpness", -100, 100, 1, 0),
            CLASS_CTRL(V4L2_CID_CAMERA_CLASS, "Camera Controls"),
            MENU_CTRL(V4L2_CID_EXPOSURE_AUTO, "Auto Exposure", 3, 0, mmal_exposure_menu),
            INT_CTRL(V4L2_CID_EXPOSURE_ABSOLUTE, "Exposure Time, Absolute", 1, 10000, 1, 1000),
            MENU_CTRL(V4L2_CID_AUTO_N_PRESET_WHITE_BALANCE, "White Balance, Auto & Preset", 10, 1,
                      mmal_wb_menu),
            {.id = V4L2_CID_ISO_SENSITIVITY, .name = "ISO Sensitivity",
             .type = V4L2_CTRL_TYPE_INTEGER_MENU, .min = 0, .max = 4, .step = 1, .def = 0,
             .qmenu = mmal_iso_values},
            MENU_CTRL(V4L2_CID_ISO_SENSITIVITY_AUTO, "ISO Sensitivity, Auto", 1, 1, mmal_iso_auto_menu),
            MENU_CTRL(V4L2_CID_EXPOSURE_METERING, "Exposure, Metering Mode", 3, 0, mmal_metering_menu),
            CLASS_CTRL(V4L2_CID_JPEG_CLASS, "JPEG Compression Controls"),
            INT_CTRL(V4L2_CID_JPEG_COMPRESSION_QUALITY, "Compression Quality", 1, 100, 1, 30),
            /* (sorted by id: the JPEG class comes after the camera class) */
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
    return "uvc-c920, pi-libcamerify, bcm2835-legacy";
}
