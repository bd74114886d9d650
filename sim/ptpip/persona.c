/*
 * persona: the three built-in bodies.  See persona.h.
 *
 * Canon EOS (an EOS 550D with an EF 50mm f/1.8 II): aperture, shutter
 * speed, ISO, white balance and the rest are Canon properties (0xD1xx)
 * reported through GetEvent and set through SetDevicePropValueEx, as on a
 * real EOS; none of them is listed in DeviceInfo, and no standard exposure
 * property is offered, so software that works here works on a real EOS.
 * Codes follow Canon's encodings (1/8-stop steps for aperture, shutter and
 * ISO).  Live view can be magnified 5x or 10x (Zoom, ZoomPosition), which
 * libgphoto2 offers as "eoszoom" and "eoszoomposition".
 *
 * Nikon (a D750): standard PTP exposure properties plus Nikon's live view
 * (StartLiveView/GetLiveViewImg), MfDrive, AfDrive and DeviceReady.
 *
 * Generic: a plain PTP camera (VendorExtensionID 0) with the standard
 * properties and PTP 1.1 streams for preview.
 */
#include "persona.h"

#include <string.h>

#include "ptp.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- shared standard-PTP tables ------------------------------------------ */

static const prop_choice std_iso[] = {
    {100, 100, "100"}, {200, 200, "200"}, {400, 400, "400"}, {800, 800, "800"},
    {1600, 1600, "1600"}, {3200, 3200, "3200"}, {6400, 6400, "6400"},
};
static const prop_choice std_fnumber[] = {
    {180, 1.8, "f/1.8"}, {200, 2.0, "f/2"}, {280, 2.8, "f/2.8"}, {400, 4.0, "f/4"},
    {560, 5.6, "f/5.6"}, {800, 8.0, "f/8"}, {1100, 11, "f/11"}, {1600, 16, "f/16"},
};
/* ExposureTime in 1/10000 s (must be an enumeration for libgphoto2) */
static const prop_choice std_shutter[] = {
    {10000, 1.0, "1"},          {5000, 0.5, "1/2"},        {2500, 0.25, "1/4"},
    {1250, 0.125, "1/8"},       {667, 1.0 / 15, "1/15"},   {333, 1.0 / 30, "1/30"},
    {167, 1.0 / 60, "1/60"},    {80, 1.0 / 125, "1/125"},  {40, 1.0 / 250, "1/250"},
    {20, 1.0 / 500, "1/500"},   {10, 1.0 / 1000, "1/1000"}, {5, 1.0 / 2000, "1/2000"},
};
static const prop_choice std_wb[] = {
    {2, 0, "Automatic"}, {4, 0, "Daylight"}, {5, 0, "Fluorescent"}, {6, 0, "Tungsten"},
    {7, 0, "Flash"},     {1, 0, "Manual"},
};
static const prop_choice nikon_wb[] = {
    {2, 0, "Automatic"}, {4, 0, "Daylight"}, {5, 0, "Fluorescent"}, {6, 0, "Tungsten"},
    {7, 0, "Flash"},     {0x8010, 0, "Cloudy"}, {0x8011, 0, "Shade"}, {1, 0, "Manual"},
};
/* ExposureBiasCompensation in 0.001 EV */
static const prop_choice std_expcomp[] = {
    {-2000, -2.0, "-2"}, {-1667, -1.667, "-1.7"}, {-1333, -1.333, "-1.3"}, {-1000, -1.0, "-1"},
    {-667, -0.667, "-0.7"}, {-333, -0.333, "-0.3"}, {0, 0, "0"}, {333, 0.333, "0.3"},
    {667, 0.667, "0.7"}, {1000, 1.0, "1"}, {1333, 1.333, "1.3"}, {1667, 1.667, "1.7"},
    {2000, 2.0, "2"},
};

/* ---- Canon EOS ------------------------------------------------------------ */

static const prop_choice eos_aperture[] = {
    {0x15, 1.8, "1.8"}, {0x18, 2.0, "2"},   {0x1b, 2.2, "2.2"}, {0x1d, 2.5, "2.5"},
    {0x20, 2.8, "2.8"}, {0x23, 3.2, "3.2"}, {0x25, 3.5, "3.5"}, {0x28, 4.0, "4"},
    {0x2b, 4.5, "4.5"}, {0x2d, 5.0, "5"},   {0x30, 5.6, "5.6"}, {0x33, 6.3, "6.3"},
    {0x35, 7.1, "7.1"}, {0x38, 8.0, "8"},   {0x3b, 9.0, "9"},   {0x3d, 10, "10"},
    {0x40, 11, "11"},   {0x43, 13, "13"},   {0x45, 14, "14"},   {0x48, 16, "16"},
    {0x4b, 18, "18"},   {0x4d, 20, "20"},   {0x50, 22, "22"},
};
static const prop_choice eos_shutter[] = {
    {0x10, 30, "30"},          {0x13, 25, "25"},          {0x15, 20, "20"},
    {0x18, 15, "15"},          {0x1b, 13, "13"},          {0x1d, 10, "10.3"},
    {0x20, 8, "8"},            {0x23, 6, "6.3"},          {0x25, 5, "5"},
    {0x28, 4, "4"},            {0x2b, 3.2, "3.2"},        {0x2d, 2.5, "2.5"},
    {0x30, 2, "2"},            {0x33, 1.6, "1.6"},        {0x35, 1.3, "1.3"},
    {0x38, 1, "1"},            {0x3b, 0.8, "0.8"},        {0x3d, 0.6, "0.6"},
    {0x40, 0.5, "0.5"},        {0x43, 0.4, "0.4"},        {0x45, 0.3, "0.3"},
    {0x48, 1.0 / 4, "1/4"},    {0x4b, 1.0 / 5, "1/5"},    {0x4d, 1.0 / 6, "1/6"},
    {0x50, 1.0 / 8, "1/8"},    {0x53, 1.0 / 10, "1/10"},  {0x55, 1.0 / 13, "1/13"},
    {0x58, 1.0 / 15, "1/15"},  {0x5b, 1.0 / 20, "1/20"},  {0x5d, 1.0 / 25, "1/25"},
    {0x60, 1.0 / 30, "1/30"},  {0x63, 1.0 / 40, "1/40"},  {0x65, 1.0 / 50, "1/50"},
    {0x68, 1.0 / 60, "1/60"},  {0x6b, 1.0 / 80, "1/80"},  {0x6d, 1.0 / 100, "1/100"},
    {0x70, 1.0 / 125, "1/125"}, {0x73, 1.0 / 160, "1/160"}, {0x75, 1.0 / 200, "1/200"},
    {0x78, 1.0 / 250, "1/250"}, {0x7b, 1.0 / 320, "1/320"}, {0x7d, 1.0 / 400, "1/400"},
    {0x80, 1.0 / 500, "1/500"}, {0x83, 1.0 / 640, "1/640"}, {0x85, 1.0 / 800, "1/800"},
    {0x88, 1.0 / 1000, "1/1000"}, {0x8b, 1.0 / 1250, "1/1250"}, {0x8d, 1.0 / 1600, "1/1600"},
    {0x90, 1.0 / 2000, "1/2000"}, {0x93, 1.0 / 2500, "1/2500"}, {0x95, 1.0 / 3200, "1/3200"},
    {0x98, 1.0 / 4000, "1/4000"},
};
static const prop_choice eos_iso[] = {
    {0x00, 0, "Auto"},     {0x48, 100, "100"},   {0x50, 200, "200"},   {0x58, 400, "400"},
    {0x60, 800, "800"},    {0x68, 1600, "1600"}, {0x70, 3200, "3200"}, {0x78, 6400, "6400"},
};
static const prop_choice eos_wb[] = {
    {0, 0, "Auto"},     {1, 0, "Daylight"},    {8, 0, "Shadow"}, {2, 0, "Cloudy"},
    {3, 0, "Tungsten"}, {4, 0, "Fluorescent"}, {5, 0, "Flash"},  {6, 0, "Manual"},
};
/* exposure compensation: signed 1/8 EV in a byte */
static const prop_choice eos_expcomp[] = {
    {0xf0, -2.0, "-2"},    {0xf5, -1.375, "-1.3"}, {0xf8, -1.0, "-1"}, {0xfb, -0.625, "-0.6"},
    {0xfd, -0.375, "-0.3"}, {0x00, 0, "0"},        {0x03, 0.375, "0.3"}, {0x05, 0.625, "0.6"},
    {0x08, 1.0, "1"},      {0x0b, 1.375, "1.3"},   {0x0d, 1.625, "1.6"}, {0x10, 2.0, "2"},
};
static const prop_choice eos_ae_mode[] = {
    {0, 0, "P"}, {1, 0, "TV"}, {2, 0, "AV"}, {3, 0, "Manual"},
};
static const prop_choice eos_drive[] = {
    {0, 0, "Single"}, {1, 0, "Continuous"}, {0x10, 0, "Timer 10 sec"}, {0x11, 0, "Timer 2 sec"},
};
static const prop_choice eos_focus_mode[] = {
    {0, 0, "One Shot"}, {1, 0, "AI Servo"}, {2, 0, "AI Focus"}, {3, 0, "Manual"},
};
static const prop_choice eos_metering[] = {
    {3, 0, "Evaluative"}, {4, 0, "Partial"}, {1, 0, "Spot"}, {5, 0, "Center-weighted average"},
};
static const prop_choice eos_picture_style[] = {
    {0x81, 0, "Standard"}, {0x82, 0, "Portrait"},  {0x83, 0, "Landscape"},
    {0x84, 0, "Neutral"},  {0x85, 0, "Faithful"},  {0x86, 0, "Monochrome"},
};
/* libgphoto2's condensed image-format codes (see props.c) */
static const prop_choice eos_image_format[] = {
    {0x0300, 0, "Large Fine JPEG"}, {0x0200, 0, "Large Normal JPEG"},
    {0x1300, 0, "Medium Fine JPEG"}, {0x2300, 0, "Small Fine JPEG"},
    {0x0c00, 0, "RAW"},             {0x0c03, 0, "RAW + Large Fine JPEG"},
};
static const prop_choice eos_capture_dest[] = {{1, 0, "card"}, {4, 0, "PC"}};

static const prop_spec canon_props[] = {
    {0xD101, PTP_DT_UINT16, true, PROP_EOS, ROLE_APERTURE, "aperture", 0x30, NULL, 0, 0, 0, eos_aperture, COUNT(eos_aperture)},
    {0xD102, PTP_DT_UINT16, true, PROP_EOS, ROLE_SHUTTER, "shutterspeed", 0x68, NULL, 0, 0, 0, eos_shutter, COUNT(eos_shutter)},
    {0xD103, PTP_DT_UINT16, true, PROP_EOS, ROLE_ISO, "iso", 0x48, NULL, 0, 0, 0, eos_iso, COUNT(eos_iso)},
    {0xD104, PTP_DT_UINT8, true, PROP_EOS, ROLE_EXPOSURE_COMP, "exposurecompensation", 0x00, NULL, 0, 0, 0, eos_expcomp, COUNT(eos_expcomp)},
    {0xD105, PTP_DT_UINT16, true, PROP_EOS, ROLE_EXPOSURE_MODE, "autoexposuremode", 3, NULL, 0, 0, 0, eos_ae_mode, COUNT(eos_ae_mode)},
    {0xD106, PTP_DT_UINT16, true, PROP_EOS, ROLE_NONE, "drivemode", 0, NULL, 0, 0, 0, eos_drive, COUNT(eos_drive)},
    {0xD107, PTP_DT_UINT8, true, PROP_EOS, ROLE_NONE, "meteringmode", 3, NULL, 0, 0, 0, eos_metering, COUNT(eos_metering)},
    {0xD108, PTP_DT_UINT16, false, PROP_EOS, ROLE_FOCUS_MODE, "focusmode", 0, NULL, 0, 0, 0, eos_focus_mode, COUNT(eos_focus_mode)},
    {0xD109, PTP_DT_UINT8, true, PROP_EOS, ROLE_WHITE_BALANCE, "whitebalance", 0, NULL, 0, 0, 0, eos_wb, COUNT(eos_wb)},
    {0xD110, PTP_DT_UINT8, true, PROP_EOS, ROLE_NONE, "picturestyle", 0x81, NULL, 0, 0, 0, eos_picture_style, COUNT(eos_picture_style)},
    {0xD111, PTP_DT_UINT16, false, PROP_EOS, ROLE_BATTERY, "batterylevel", 4, NULL, 0, 0, 0, NULL, 0},
    {0xD113, PTP_DT_UINT32, true, PROP_EOS, ROLE_DATETIME_EPOCH, "datetime", 0, NULL, 0, 0, 0, NULL, 0},
    {0xD115, PTP_DT_STR, true, PROP_EOS, ROLE_OWNER, "ownername", 0, "", 0, 0, 0, NULL, 0},
    {0xD11B, PTP_DT_UINT32, false, PROP_EOS, ROLE_AVAILABLE_SHOTS, "availableshots", 0, NULL, 0, 0, 0, NULL, 0},
    {0xD11C, PTP_DT_UINT32, true, PROP_EOS, ROLE_CAPTURE_DEST, "capturedestination", 1, NULL, 0, 0, 0, eos_capture_dest, COUNT(eos_capture_dest)},
    {0xD120, PTP_DT_UINT32, true, PROP_EOS, ROLE_IMAGE_FORMAT, "imageformat", 0x0300, NULL, 0, 0, 0, eos_image_format, COUNT(eos_image_format)},
    {0xD1AC, PTP_DT_UINT32, false, PROP_EOS, ROLE_SHUTTER_COUNT, "shuttercounter", 0, NULL, 0, 0, 0, NULL, 0},
    {0xD1AF, PTP_DT_STR, false, PROP_EOS, ROLE_SERIAL, "eosserialnumber", 0, "", 0, 0, 0, NULL, 0},
    {0xD1B0, PTP_DT_UINT16, true, PROP_EOS, ROLE_EVF_OUTPUT, "output", 0, NULL, 0, 3, 1, NULL, 0},
    {0xD1B1, PTP_DT_UINT16, true, PROP_EOS, ROLE_EVF_MODE, "evfmode", 0, NULL, 0, 1, 1, NULL, 0},
    {0xD1D0, PTP_DT_STR, true, PROP_EOS, ROLE_ARTIST, "artist", 0, "", 0, 0, 0, NULL, 0},
    {0xD1D1, PTP_DT_STR, true, PROP_EOS, ROLE_COPYRIGHT, "copyright", 0, "", 0, 0, 0, NULL, 0},
    {0xD1D8, PTP_DT_STR, false, PROP_EOS, ROLE_LENS_NAME, "lensname", 0, "EF50mm f/1.8 II", 0, 0, 0, NULL, 0},
};

static const uint16_t canon_ops[] = {
    PTP_OP_GetDeviceInfo, PTP_OP_OpenSession, PTP_OP_CloseSession, PTP_OP_GetStorageIDs,
    PTP_OP_GetStorageInfo, PTP_OP_GetObjectHandles, PTP_OP_GetObjectInfo, PTP_OP_GetObject,
    PTP_OP_GetThumb, PTP_OP_DeleteObject, PTP_OP_GetDevicePropDesc, PTP_OP_GetDevicePropValue,
    PTP_OP_SetDevicePropValue, PTP_OP_GetPartialObject,
    PTP_OP_EOS_GetStorageIDs, PTP_OP_EOS_GetStorageInfo, PTP_OP_EOS_RemoteRelease,
    PTP_OP_EOS_SetDevicePropValueEx, PTP_OP_EOS_SetRemoteMode, PTP_OP_EOS_SetEventMode,
    PTP_OP_EOS_GetEvent, PTP_OP_EOS_TransferComplete, PTP_OP_EOS_PCHDDCapacity,
    PTP_OP_EOS_SetUILock, PTP_OP_EOS_ResetUILock, PTP_OP_EOS_InitiateViewfinder,
    PTP_OP_EOS_TerminateViewfinder, PTP_OP_EOS_GetViewFinderData, PTP_OP_EOS_DoAf,
    PTP_OP_EOS_DriveLens, PTP_OP_EOS_Zoom, PTP_OP_EOS_ZoomPosition, PTP_OP_EOS_AfCancel,
};
static const uint16_t canon_events[] = {
    PTP_EV_ObjectAdded, PTP_EV_ObjectRemoved, PTP_EV_DevicePropChanged, PTP_EV_CaptureComplete,
    PTP_EOS_REC_ObjectAddedEx, PTP_EOS_REC_RequestObjectTransfer, PTP_EOS_REC_PropValueChanged,
    PTP_EOS_REC_AvailListChanged, PTP_EOS_REC_CameraStatusChanged,
};

/* ---- Nikon ------------------------------------------------------------------ */

static const prop_spec nikon_props[] = {
    {PTP_DPC_BatteryLevel, PTP_DT_UINT8, false, PROP_PTP, ROLE_BATTERY, "batterylevel", 80, NULL, 0, 100, 1, NULL, 0},
    {PTP_DPC_WhiteBalance, PTP_DT_UINT16, true, PROP_PTP, ROLE_WHITE_BALANCE, "whitebalance", 2, NULL, 0, 0, 0, nikon_wb, COUNT(nikon_wb)},
    {PTP_DPC_FNumber, PTP_DT_UINT16, true, PROP_PTP, ROLE_APERTURE, "f-number", 560, NULL, 0, 0, 0, std_fnumber, COUNT(std_fnumber)},
    {PTP_DPC_ExposureTime, PTP_DT_UINT32, true, PROP_PTP, ROLE_SHUTTER, "shutterspeed", 167, NULL, 0, 0, 0, std_shutter, COUNT(std_shutter)},
    {PTP_DPC_ExposureIndex, PTP_DT_UINT16, true, PROP_PTP, ROLE_ISO, "iso", 100, NULL, 0, 0, 0, std_iso, COUNT(std_iso)},
    {PTP_DPC_ExposureBiasCompensation, PTP_DT_INT16, true, PROP_PTP, ROLE_EXPOSURE_COMP, "exposurecompensation", 0, NULL, 0, 0, 0, std_expcomp, COUNT(std_expcomp)},
    {PTP_DPC_DateTime, PTP_DT_STR, true, PROP_PTP, ROLE_DATETIME_STR, "datetime", 0, "", 0, 0, 0, NULL, 0},
    {PTP_DPC_NIKON_LiveViewStatus, PTP_DT_UINT8, false, PROP_HIDDEN, ROLE_LIVEVIEW_STATUS, "liveviewstatus", 0, NULL, 0, 0, 0, NULL, 0},
};
static const uint16_t nikon_ops[] = {
    PTP_OP_GetDeviceInfo, PTP_OP_OpenSession, PTP_OP_CloseSession, PTP_OP_GetStorageIDs,
    PTP_OP_GetStorageInfo, PTP_OP_GetObjectHandles, PTP_OP_GetObjectInfo, PTP_OP_GetObject,
    PTP_OP_GetThumb, PTP_OP_DeleteObject, PTP_OP_InitiateCapture, PTP_OP_GetDevicePropDesc,
    PTP_OP_GetDevicePropValue, PTP_OP_SetDevicePropValue, PTP_OP_GetPartialObject,
    PTP_OP_NIKON_AfDrive, PTP_OP_NIKON_DeviceReady, PTP_OP_NIKON_StartLiveView,
    PTP_OP_NIKON_EndLiveView, PTP_OP_NIKON_GetLiveViewImg, PTP_OP_NIKON_MfDrive,
};

/* ---- generic ---------------------------------------------------------------- */

static const prop_spec generic_props[] = {
    {PTP_DPC_BatteryLevel, PTP_DT_UINT8, false, PROP_PTP, ROLE_BATTERY, "batterylevel", 80, NULL, 0, 100, 1, NULL, 0},
    {PTP_DPC_WhiteBalance, PTP_DT_UINT16, true, PROP_PTP, ROLE_WHITE_BALANCE, "whitebalance", 2, NULL, 0, 0, 0, std_wb, COUNT(std_wb)},
    {PTP_DPC_FNumber, PTP_DT_UINT16, true, PROP_PTP, ROLE_APERTURE, "f-number", 560, NULL, 0, 0, 0, std_fnumber + 2, COUNT(std_fnumber) - 2},
    {PTP_DPC_ExposureTime, PTP_DT_UINT32, true, PROP_PTP, ROLE_SHUTTER, "shutterspeed", 167, NULL, 0, 0, 0, std_shutter, COUNT(std_shutter)},
    {PTP_DPC_ExposureIndex, PTP_DT_UINT16, true, PROP_PTP, ROLE_ISO, "iso", 100, NULL, 0, 0, 0, std_iso, COUNT(std_iso)},
    {PTP_DPC_ExposureBiasCompensation, PTP_DT_INT16, true, PROP_PTP, ROLE_EXPOSURE_COMP, "exposurecompensation", 0, NULL, 0, 0, 0, std_expcomp, COUNT(std_expcomp)},
    {PTP_DPC_DateTime, PTP_DT_STR, true, PROP_PTP, ROLE_DATETIME_STR, "datetime", 0, "", 0, 0, 0, NULL, 0},
    {PTP_DPC_SupportedStreams, PTP_DT_UINT32, false, PROP_PTP, ROLE_SUPPORTED_STREAMS, "supportedstreams", 1, NULL, 0, 0, 0, NULL, 0},
    {PTP_DPC_EnabledStreams, PTP_DT_UINT32, true, PROP_PTP, ROLE_ENABLED_STREAMS, "enabledstreams", 0, NULL, 0, 1, 1, NULL, 0},
};
static const uint16_t generic_ops[] = {
    PTP_OP_GetDeviceInfo, PTP_OP_OpenSession, PTP_OP_CloseSession, PTP_OP_GetStorageIDs,
    PTP_OP_GetStorageInfo, PTP_OP_GetObjectHandles, PTP_OP_GetObjectInfo, PTP_OP_GetObject,
    PTP_OP_DeleteObject, PTP_OP_InitiateCapture, PTP_OP_GetDevicePropDesc,
    PTP_OP_GetDevicePropValue, PTP_OP_SetDevicePropValue, PTP_OP_GetPartialObject,
    PTP_OP_GetStreamInfo, PTP_OP_GetStream,
};
static const uint16_t std_events[] = {
    PTP_EV_ObjectAdded, PTP_EV_ObjectRemoved, PTP_EV_DevicePropChanged, PTP_EV_StoreFull,
    PTP_EV_CaptureComplete,
};

static const persona personas[] = {
    {
        .id = "canon-eos", .flavour = FLAVOUR_CANON_EOS,
        .vendor_ext_id = 0x0000000B, .vendor_ext_version = 100, .vendor_ext_desc = "",
        .manufacturer = "Canon Inc.", .model = "Canon EOS 550D", .device_version = "1-1.0.9",
        .ops = canon_ops, .n_ops = COUNT(canon_ops),
        .events = canon_events, .n_events = COUNT(canon_events),
        .props = canon_props, .n_props = COUNT(canon_props),
        .exif_make = "Canon",
        .photo_width = 5184, .photo_height = 3456, .lv_width = 1056, .lv_height = 704,
        .folder = "100CANON", .file_prefix = "IMG_", .raw_ext = "CR2",
        .raw_format = PTP_OFC_CANON_CR2, .raw_thumb_format = PTP_OFC_EXIF_JPEG,
        .volume_label = "EOS_DIGITAL",
        .lens_name = "EF50mm f/1.8 II", .focal_mm = 50, .max_aperture = 1.8,
        .base_iso = 100, .base_fnumber = 5.6, .base_shutter_s = 1.0 / 60,
    },
    {
        .id = "nikon", .flavour = FLAVOUR_NIKON,
        .vendor_ext_id = 0x0000000A, .vendor_ext_version = 100, .vendor_ext_desc = "microsoft.com: 1.0",
        .manufacturer = "Nikon Corporation", .model = "D750", .device_version = "V1.10",
        .ops = nikon_ops, .n_ops = COUNT(nikon_ops),
        .events = std_events, .n_events = COUNT(std_events),
        .props = nikon_props, .n_props = COUNT(nikon_props),
        .exif_make = "NIKON CORPORATION",
        .photo_width = 6016, .photo_height = 4016, .lv_width = 640, .lv_height = 424,
        .folder = "100D750_", .file_prefix = "DSC_", .raw_ext = "NEF",
        .raw_format = PTP_OFC_Undefined, .raw_thumb_format = 0x3808,
        .volume_label = "NIKON D750",
        .lens_name = "AF-S Nikkor 50mm f/1.8G", .focal_mm = 50, .max_aperture = 1.8,
        .nikon_step = 0.1,
        .base_iso = 100, .base_fnumber = 5.6, .base_shutter_s = 1.0 / 60,
    },
    {
        .id = "generic", .flavour = FLAVOUR_GENERIC,
        .vendor_ext_id = 0, .vendor_ext_version = 0, .vendor_ext_desc = "",
        .manufacturer = "tether", .model = "Simulated PTP Camera", .device_version = "1.0",
        .ops = generic_ops, .n_ops = COUNT(generic_ops),
        .events = std_events, .n_events = COUNT(std_events),
        .props = generic_props, .n_props = COUNT(generic_props),
        .exif_make = "tether",
        .photo_width = 4608, .photo_height = 3072, .lv_width = 1056, .lv_height = 704,
        .folder = "100TETHR", .file_prefix = "IMG_", .raw_ext = NULL,
        .volume_label = "TETHER",
        .lens_name = "Simulated 35-70mm f/2.8", .focal_mm = 50, .max_aperture = 2.8,
        .base_iso = 100, .base_fnumber = 5.6, .base_shutter_s = 1.0 / 60,
    },
};

const persona *persona_find(const char *id)
{
    for (int i = 0; i < COUNT(personas); i++)
        if (strcmp(personas[i].id, id) == 0) return &personas[i];
    return NULL;
}

const char *persona_ids(void)
{
    return "canon-eos|nikon|generic";
}
