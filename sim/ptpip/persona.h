/*
 * persona: what makes a simulated camera a Canon EOS, a Nikon or a generic
 * PTP camera, as data: DeviceInfo identity, the operations and properties
 * it offers, its sensor and live-view sizes, its lens, its file naming and
 * which protocol flavour it uses for capture, live view and focus.  The
 * camera core (camera.c) is one piece of code driven by these tables; a new
 * body is a new table, not a fork.
 *
 * Immutable static data; any thread.
 */
#pragma once

#include <stdint.h>

#include "props.h"

typedef enum persona_flavour {
    FLAVOUR_GENERIC,   /* InitiateCapture + PTP/IP events; PTP 1.1 streams */
    FLAVOUR_CANON_EOS, /* RemoteRelease + GetEvent records; GetViewFinderData; DriveLens */
    FLAVOUR_NIKON,     /* InitiateCapture + events; GetLiveViewImg; MfDrive; DeviceReady */
} persona_flavour;

typedef struct persona {
    const char *id;                 /* "canon-eos", "nikon", "generic" */
    persona_flavour flavour;
    /* DeviceInfo */
    uint32_t vendor_ext_id;
    uint16_t vendor_ext_version;
    const char *vendor_ext_desc;
    const char *manufacturer;
    const char *model;
    const char *device_version;
    const uint16_t *ops;
    int n_ops;
    const uint16_t *events;
    int n_events;
    const prop_spec *props;
    int n_props;
    /* body */
    const char *exif_make;          /* "Canon" */
    int photo_width, photo_height;
    int lv_width, lv_height;
    const char *folder;             /* "100CANON" */
    const char *file_prefix;        /* "IMG_" */
    const char *raw_ext;            /* "CR2", "NEF", or NULL */
    uint16_t raw_format;            /* PTP object format of RAW files */
    uint16_t raw_thumb_format;
    const char *volume_label;
    /* lens */
    const char *lens_name;
    double focal_mm;
    double max_aperture;            /* f-number wide open (live view) */
    double nikon_step;              /* Near1 steps per MfDrive unit */
    /* default exposure that is metered as "correct" */
    double base_iso, base_fnumber, base_shutter_s;
} persona;

/* The persona with this id, or NULL. */
const persona *persona_find(const char *id);
/* "canon-eos|nikon|generic", for help texts. */
const char *persona_ids(void);
