/*
 * props: the device properties of a simulated camera, typed as PTP types
 * them, with the form (range or enumeration) that limits their values.
 *
 * A property is either a standard PTP one (read with GetDevicePropDesc,
 * written with SetDevicePropValue, listed in DeviceInfo) or a Canon EOS one
 * (reported in GetEvent records, written with SetDevicePropValueEx, never
 * listed), or a vendor property that answers GetDevicePropValue without
 * being listed (Nikon's LiveViewStatus).  Each has a role that tells the
 * camera what it means physically (ISO, aperture, ...) and a table that
 * maps wire codes to physical values, so that exposure and EXIF follow the
 * settings whatever the encoding.
 *
 * The persona tables (persona.c) are static data; a prop_set is the live
 * state of one camera.  No locking: the camera's lock covers it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

typedef enum prop_transport {
    PROP_PTP,          /* listed; GetDevicePropDesc / SetDevicePropValue */
    PROP_EOS,          /* GetEvent records; SetDevicePropValueEx */
    PROP_HIDDEN,       /* not listed; GetDevicePropValue only */
} prop_transport;

typedef enum prop_role {
    ROLE_NONE = 0,
    ROLE_BATTERY,
    ROLE_ISO,
    ROLE_APERTURE,
    ROLE_SHUTTER,
    ROLE_WHITE_BALANCE,
    ROLE_EXPOSURE_COMP,
    ROLE_EXPOSURE_MODE,
    ROLE_FOCUS_MODE,
    ROLE_IMAGE_FORMAT,      /* EOS 0xD120 struct on the wire */
    ROLE_CAPTURE_DEST,      /* EOS 0xD11C: 4 = PC, else card */
    ROLE_AVAILABLE_SHOTS,   /* derived from free card space */
    ROLE_EVF_OUTPUT,        /* EOS 0xD1B0: bit 2 = live view to the PC */
    ROLE_EVF_MODE,
    ROLE_LIVEVIEW_STATUS,   /* Nikon 0xD1A2 */
    ROLE_DATETIME_STR,      /* PTP 0x5011 "YYYYMMDDThhmmss" */
    ROLE_DATETIME_EPOCH,    /* EOS 0xD113 seconds */
    ROLE_SERIAL,
    ROLE_LENS_NAME,
    ROLE_ARTIST,
    ROLE_COPYRIGHT,
    ROLE_OWNER,
    ROLE_SUPPORTED_STREAMS,
    ROLE_ENABLED_STREAMS,
    ROLE_SHUTTER_COUNT,
} prop_role;

/* One value of an enumeration: its wire code, its physical meaning (ISO
 * number, f-number, seconds, EV, ...; 0 if none) and a label for humans. */
typedef struct prop_choice {
    int64_t code;
    double physical;
    const char *label;
} prop_choice;

typedef struct prop_spec {
    uint16_t code;
    uint16_t datatype;          /* PTP_DT_* */
    bool writable;
    prop_transport transport;
    prop_role role;
    const char *name;           /* short name for the control channel */
    int64_t def;                /* default integer value */
    const char *def_str;        /* default string value (STR props) */
    /* form: a range (min < max) or an enumeration (choices) or none */
    int64_t min, max, step;
    const prop_choice *choices;
    int n_choices;
} prop_spec;

typedef struct prop {
    const prop_spec *spec;
    int64_t value;
    char str[128];
} prop;

enum { PROP_MAX = 48 };

typedef struct prop_set {
    prop items[PROP_MAX];
    int count;
} prop_set;

/* Fills the set from a persona's spec table (values at their defaults). */
void prop_set_init(prop_set *ps, const prop_spec *specs, int n);
prop *prop_find(prop_set *ps, uint16_t code);
prop *prop_find_role(prop_set *ps, prop_role role);

/* The choice matching the current value, or NULL. */
const prop_choice *prop_current_choice(const prop *p);
/* Physical value of the current setting (choice table, or the raw value
 * for untabled integers); def if the prop is missing. */
double prop_physical(prop_set *ps, prop_role role, double def);

/* Checks v against the datatype and form.  Returns a PTP response code:
 * OK, or InvalidDevicePropValue. */
uint16_t prop_validate(const prop *p, int64_t v);

/* Appends the DevicePropDesc dataset (ISO 15740 §5.5.2). */
void prop_put_desc(const prop *p, bytebuf *out);
/* Appends the current value as PTP encodes it (width of the datatype, or
 * a PTP string). */
void prop_put_value(const prop *p, bytebuf *out);

/* Canon EOS GetEvent records for this prop: PropValueChanged, then (for
 * an enumeration) AvailListChanged. */
void prop_put_eos_records(const prop *p, bytebuf *out);

/* EOS image format codes (libgphoto2's condensed form) <-> what they mean. */
bool prop_image_format_has_raw(int64_t code);
bool prop_image_format_has_jpeg(int64_t code);
