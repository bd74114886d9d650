/*
 * body: see body.h.  The facts it follows are in
 * ../shared/research/sony-camera-remote-api.md; where no source settles a
 * detail the choice is marked [guess].
 *
 * Methods live in one table per service with the versions they accept:
 * an unknown method answers 12, a known one in a version the body does not
 * offer 14, a camera method that is not in the current API list 1 ("Not
 * Available Now").  Settings are described by one table per persona and
 * served by four generic methods each (get, set, getAvailable,
 * getSupported); which can be set follows the exposure mode as on the real
 * bodies (Aperture mode: no setShutterSpeed; Intelligent Auto: no ISO, white
 * balance or exposure compensation).
 *
 * getEvent: every getEvent slot has the sequence number of its last change.
 * getEvent(false) answers the whole state; getEvent(true) waits until some
 * slot changed after the last reply (or the poll timeout: error 2) and
 * answers only the changed slots, the others null (arrays: []).  A second
 * long poll while one waits gets 40402.
 *
 * Pictures: one scene, lens and renderer as in sim/ptpip (not copied: the
 * same modules).  Autofocus (half-press, touch AF, a shot in AF-S) moves
 * the lens to the subject's sharp position with the lens model's own
 * error and waits until it stops; the live-view frames rendered meanwhile
 * show the motion.  A flat scene has nothing to focus on: AF fails.
 */
#include "body.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytebuf.h"
#include "base/clock.h"
#include "base/log.h"
#include "image/exif.h"
#include "ptpip/lens.h"
#include "ptpip/render.h"

/* ---- personas ------------------------------------------------------------------ */

typedef enum shape {
    SHAPE_STRING,       /* ["value"] */
    SHAPE_INDEX,        /* exposure compensation: an integer index */
    SHAPE_WB,           /* white balance: [mode, tempEnabled, temp] */
    SHAPE_STILL,        /* still size: [aspect, size]; choices "aspect size" ("3:2 24M") */
} shape;

typedef struct setting_def {
    const char *suffix;         /* "IsoSpeedRate": getIsoSpeedRate, setIsoSpeedRate... */
    const char *type;           /* getEvent type, "isoSpeedRate" */
    int slot;                   /* getEvent slot */
    shape shape;
    const char *const *choices; /* SHAPE_STRING, SHAPE_WB, SHAPE_STILL */
    int min, max;               /* SHAPE_INDEX */
    int initial;                /* index into choices, or the index value */
} setting_def;

enum { MAX_SETTINGS = 12 };

struct sonysim_persona {
    const char *id;
    const char *model;              /* friendlyName and EXIF model */
    const char *app_name, *app_version;
    const char *lens_name;
    double focal_mm;
    const char *const *versions;    /* getVersions, NULL-terminated */
    const char *getevent_versions;  /* "1.0,1.1,..." */
    bool needs_rec_mode;            /* startRecMode listed until called */
    bool contents_transfer;         /* avContent in dd.xml, setCameraFunction */
    int lv_width, lv_height;
    double lv_fps;
    int photo_width, photo_height;  /* postview (2M) size */
    int n_settings;
    setting_def settings[MAX_SETTINGS];
};

static const char *const shoot_modes[] = {"still", NULL};
static const char *const qx10_modes[] = {"Intelligent Auto", "Superior Auto", "Program Auto", NULL};
static const char *const a6000_modes[] = {"Intelligent Auto", "Superior Auto", "Program Auto", "Aperture",
                                          "Shutter", "Manual", NULL};
static const char *const qx10_isos[] = {"AUTO", "100", "125", "160", "200", "250", "320", "400", "500",
                                        "640", "800", "1000", "1250", "1600", "2000", "2500", "3200", NULL};
static const char *const a6000_isos[] = {"AUTO", "100", "125", "160", "200", "250", "320", "400", "500",
                                         "640", "800", "1000", "1250", "1600", "2000", "2500", "3200",
                                         "4000", "5000", "6400", "8000", "10000", "12800", "16000",
                                         "20000", "25600", NULL};
static const char *const fnumbers[] = {"3.5", "4.0", "4.5", "5.0", "5.6", "6.3", "7.1", "8.0", "9.0",
                                       "10", "11", "13", "14", "16", "18", "20", "22", NULL};
static const char *const shutters[] = {"30\"", "15\"", "8\"", "4\"", "2\"", "1\"", "0.5\"", "1/4",
                                       "1/8", "1/15", "1/30", "1/60", "1/125", "1/250", "1/500",
                                       "1/1000", "1/2000", "1/4000", NULL};
static const char *const white_balances[] = {"Auto WB", "Daylight", "Shade", "Cloudy", "Incandescent",
                                             "Fluorescent: Cool White", "Flash", NULL};
static const char *const focus_modes[] = {"AF-S", "AF-C", "DMF", "MF", NULL};
static const char *const postview_sizes[] = {"Original", "2M", NULL};
static const char *const beep_modes[] = {"On", "Off", "Shutter Only", NULL};
/* the bodies' still sizes (their sensors: 18 and 24 megapixels) */
static const char *const qx10_still_sizes[] = {"4:3 18M", "4:3 10M", "4:3 5M", "16:9 13M", "16:9 7.5M",
                                               "16:9 2M", NULL};
static const char *const a6000_still_sizes[] = {"3:2 24M", "3:2 12M", "3:2 6M", "16:9 20M", "16:9 10M",
                                                "16:9 5.1M", NULL};
static const char *const qx10_versions[] = {"1.0", NULL};
static const char *const a6000_versions[] = {"1.0", "1.1", "1.2", "1.3", NULL};

#define S_SHOOT {"ShootMode", "shootMode", 21, SHAPE_STRING, shoot_modes, 0, 0, 0}
#define S_WB {"WhiteBalance", "whiteBalance", 33, SHAPE_WB, white_balances, 0, 0, 0}
#define S_POSTVIEW {"PostviewImageSize", "postviewImageSize", 19, SHAPE_STRING, postview_sizes, 0, 0, 1}
#define S_BEEP {"BeepMode", "beepMode", 11, SHAPE_STRING, beep_modes, 0, 0, 0}

static const sonysim_persona personas[] = {
    {
        .id = "qx10", .model = "DSC-QX10", .app_name = "DSC-QX10", .app_version = "2.0.0",
        .lens_name = "Sony G 4.45-44.5mm F3.3-5.9", .focal_mm = 4.45,
        .versions = qx10_versions, .getevent_versions = "1.0", .needs_rec_mode = false,
        .contents_transfer = true,
        .lv_width = 640, .lv_height = 480, .lv_fps = 30, .photo_width = 1632, .photo_height = 1224,
        .n_settings = 7,
        .settings = {
            S_SHOOT,
            {"ExposureMode", "exposureMode", 18, SHAPE_STRING, qx10_modes, 0, 0, 0},
            {"IsoSpeedRate", "isoSpeedRate", 29, SHAPE_STRING, qx10_isos, 0, 0, 0},
            {"ExposureCompensation", "exposureCompensation", 25, SHAPE_INDEX, NULL, -6, 6, 0},
            S_WB, S_POSTVIEW,
            {"StillSize", "stillSize", 14, SHAPE_STILL, qx10_still_sizes, 0, 0, 0},
        },
    },
    {
        .id = "a6000", .model = "ILCE-6000", .app_name = "Smart Remote Control", .app_version = "2.1.4",
        .lens_name = "E PZ 16-50mm F3.5-5.6 OSS", .focal_mm = 16,
        .versions = a6000_versions, .getevent_versions = "1.0,1.1,1.2,1.3", .needs_rec_mode = true,
        .lv_width = 640, .lv_height = 424, .lv_fps = 30, .photo_width = 1616, .photo_height = 1080,
        .n_settings = 11,
        .settings = {
            S_SHOOT,
            {"ExposureMode", "exposureMode", 18, SHAPE_STRING, a6000_modes, 0, 0, 2},
            {"FNumber", "fNumber", 27, SHAPE_STRING, fnumbers, 0, 0, 4},
            {"ShutterSpeed", "shutterSpeed", 32, SHAPE_STRING, shutters, 0, 0, 11},
            {"IsoSpeedRate", "isoSpeedRate", 29, SHAPE_STRING, a6000_isos, 0, 0, 0},
            {"ExposureCompensation", "exposureCompensation", 25, SHAPE_INDEX, NULL, -9, 9, 0},
            S_WB,
            {"FocusMode", "focusMode", 28, SHAPE_STRING, focus_modes, 0, 0, 0},
            S_POSTVIEW, S_BEEP,
            {"StillSize", "stillSize", 14, SHAPE_STILL, a6000_still_sizes, 0, 0, 0},
        },
    },
};

const sonysim_persona *sonysim_persona_find(const char *id)
{
    for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++)
        if (strcmp(personas[i].id, id) == 0) return &personas[i];
    return NULL;
}

void sonysim_default_options(sonysim_options *o)
{
    *o = (sonysim_options){.persona = &personas[0], .seed = 1, .scene = SCENE_STUDIO, .fps = 0,
                           .poll_timeout_s = 10};
}

/* ---- the body ------------------------------------------------------------------ */

enum { N_SLOTS = 66, MAX_URLS = 8, N_POSTVIEWS = 16, SEQUENCE_BASE = 65500, MAX_CARD = 256 };

/* getEvent slots that are arrays ([] when empty) */
static bool slot_is_array(int slot) { return slot == 5 || slot == 6 || slot == 10; }

enum { /* slots */
    SLOT_APIS = 0, SLOT_STATUS = 1, SLOT_ZOOM = 2, SLOT_LIVEVIEW = 3, SLOT_PICTURE = 5,
    SLOT_STORAGE = 10, SLOT_FUNCTION = 12, SLOT_FUNCTION_RESULT = 15, SLOT_TOUCH_AF = 34, SLOT_FOCUS_STATUS = 35,
    SLOT_BATTERY = 56,
};

struct sonysim_body {
    sonysim_options opt;
    const sonysim_persona *pe;
    pthread_mutex_t lock;
    pthread_cond_t changed;         /* any slot, a frame, faults, shutdown */
    bool stopping;
    char base_url[128];
    char serial[16];

    /* camera state */
    const char *status;             /* static strings */
    bool rec_mode;
    bool liveview_on;
    bool frame_info;
    int values[MAX_SETTINGS];
    int zoom;                       /* 0..100 */
    bool touch_set;
    double touch_x, touch_y;        /* percent */
    const char *focus_status;
    int shots_left;
    uint64_t seq;
    uint64_t slot_changed[N_SLOTS];
    uint64_t reported;
    bool poll_parked;
    int n_urls;
    char urls[MAX_URLS][256];
    int await_left;                 /* awaitTakePicture answers 40403 this many more times */
    char await_url[256];

    /* pictures */
    scene *sc;
    renderer *rd;
    pthread_mutex_t render_lock;
    lens lens;
    double focus_pos;
    uint64_t shots;
    int64_t last_trigger_ns;
    blob *postviews[N_POSTVIEWS];
    uint64_t postview_numbers[N_POSTVIEWS];
    bool transfer;                  /* camera function: Contents Transfer */
    const char *function_result;    /* "Success" after a switch, NULL before any */
    int n_card;
    struct card_file {
        uint64_t number;
        blob *jpeg;
        int64_t taken;              /* epoch seconds */
        bool deleted;
    } card[MAX_CARD];

    /* live view */
    pthread_t lv_thread;
    bool lv_thread_started;
    int lv_clients;
    long lv_opens;              /* live-view connections opened since start */
    uint64_t lv_frames;
    uint64_t lv_bytes;
    sonysim_lv_frame frame;         /* the newest; frame.jpeg holds a reference */
    int64_t t0_ns;

    sonysim_faults faults;
    uint64_t calls;
};

static void touch(sonysim_body *b, int slot)
{
    b->slot_changed[slot] = ++b->seq;
    pthread_cond_broadcast(&b->changed);
}

static void set_status(sonysim_body *b, const char *status)
{
    if (strcmp(b->status, status) == 0) return;
    b->status = status;
    touch(b, SLOT_STATUS);
}

static void set_focus_status(sonysim_body *b, const char *st)
{
    if (strcmp(b->focus_status, st) == 0) return;
    b->focus_status = st;
    touch(b, SLOT_FOCUS_STATUS);
}

static const setting_def *setting_by_suffix(const sonysim_body *b, const char *suffix, int *index)
{
    for (int i = 0; i < b->pe->n_settings; i++)
        if (strcmp(b->pe->settings[i].suffix, suffix) == 0) {
            *index = i;
            return &b->pe->settings[i];
        }
    return NULL;
}

static const char *exposure_mode(const sonysim_body *b)
{
    int i;
    const setting_def *d = setting_by_suffix(b, "ExposureMode", &i);
    return d ? d->choices[b->values[i]] : "Program Auto";
}

/* May this setting be changed in the current exposure mode? */
static bool settable(const sonysim_body *b, const setting_def *d)
{
    const char *mode = exposure_mode(b);
    bool auto_mode = strstr(mode, "Auto") != NULL && strcmp(mode, "Program Auto") != 0;
    if (strcmp(d->suffix, "FNumber") == 0) return strcmp(mode, "Aperture") == 0 || strcmp(mode, "Manual") == 0;
    if (strcmp(d->suffix, "ShutterSpeed") == 0) return strcmp(mode, "Shutter") == 0 || strcmp(mode, "Manual") == 0;
    if (strcmp(d->suffix, "ExposureCompensation") == 0) return !auto_mode && strcmp(mode, "Manual") != 0;
    if (strcmp(d->suffix, "IsoSpeedRate") == 0 || strcmp(d->suffix, "WhiteBalance") == 0) return !auto_mode;
    return true;
}

/* ---- the method tables --------------------------------------------------------- */

typedef struct call_ctx {
    sonysim_body *b;
    json_t *params;
    int err;                    /* 0, or the error code */
    const char *msg;
    const char *version;
} call_ctx;

typedef json_t *(*method_fn)(call_ctx *c);

typedef struct method {
    const char *name;
    const char *versions;       /* "1.0" or a list; NULL: the persona's getEvent versions */
    method_fn fn;
    bool always;                /* listed whatever the state (no busy fault either) */
    bool shooting;              /* listed only in rec mode */
} method;

static json_t *fail(call_ctx *c, int code, const char *msg)
{
    c->err = code;
    c->msg = msg;
    return NULL;
}

static json_t *m_versions(call_ctx *c)
{
    json_t *list = json_array();
    for (const char *const *v = c->b->pe->versions; *v; v++) json_array_append_new(list, json_string(*v));
    return json_pack("[o]", list);
}

static json_t *m_application_info(call_ctx *c)
{
    return json_pack("[s,s]", c->b->pe->app_name, c->b->pe->app_version);
}

static void api_list(sonysim_body *b, json_t *names);

static json_t *m_available_api_list(call_ctx *c)
{
    json_t *names = json_array();
    api_list(c->b, names);
    return json_pack("[o]", names);
}

static json_t *m_start_rec_mode(call_ctx *c)
{
    if (!c->b->rec_mode) {
        c->b->rec_mode = true;
        touch(c->b, SLOT_APIS);
    }
    return json_pack("[i]", 0);
}

static json_t *m_stop_rec_mode(call_ctx *c)
{
    if (c->b->rec_mode && c->b->pe->needs_rec_mode) {
        c->b->rec_mode = false;
        c->b->liveview_on = false;
        touch(c->b, SLOT_APIS);
        touch(c->b, SLOT_LIVEVIEW);
    }
    return json_pack("[i]", 0);
}

static json_t *m_start_liveview(call_ctx *c)
{
    sonysim_body *b = c->b;
    if (!b->liveview_on) {
        b->liveview_on = true;
        touch(b, SLOT_LIVEVIEW);
    }
    char url[200];
    snprintf(url, sizeof url, "%s/liveview/liveviewstream", b->base_url);
    return json_pack("[s]", url);
}

static json_t *m_stop_liveview(call_ctx *c)
{
    if (c->b->liveview_on) {
        c->b->liveview_on = false;
        touch(c->b, SLOT_LIVEVIEW);
    }
    return json_pack("[i]", 0);
}

static json_t *m_set_frame_info(call_ctx *c)
{
    json_t *o = json_array_get(c->params, 0);
    json_t *fi = json_object_get(o, "frameInfo");
    if (!json_is_boolean(fi)) return fail(c, 3, "Illegal Argument");
    c->b->frame_info = json_is_true(fi);
    return json_array();
}

static json_t *m_get_frame_info(call_ctx *c)
{
    return json_pack("[{s:b}]", "frameInfo", c->b->frame_info);
}

/* The body's autofocus: the lens moves to the subject, with the lens
 * model's own error; waits (lock released) until it stopped.  Returns
 * false if there was nothing to focus on (or the fault says so). */
static bool autofocus(sonysim_body *b)
{
    set_focus_status(b, "Focusing");
    bool fails = b->opt.scene == SCENE_FLAT || b->faults.af_fail_count > 0;
    if (b->faults.af_fail_count > 0) b->faults.af_fail_count--;
    if (fails) {
        set_focus_status(b, "Failed");
        return false;
    }
    double now = clock_mono_s();
    lens_autofocus(&b->lens, now, b->focus_pos);
    /* wait for the motion, bounded: the lens model always stops */
    for (int i = 0; i < 400 && lens_moving(&b->lens, clock_mono_s()) && !b->stopping; i++) {
        pthread_mutex_unlock(&b->lock);
        clock_sleep_ns(5 * 1000 * 1000);
        pthread_mutex_lock(&b->lock);
    }
    set_focus_status(b, "Focused");
    return true;
}

static json_t *m_half_press(call_ctx *c)
{
    if (strcmp(c->b->status, "IDLE") != 0) return fail(c, 40401, "Camera Not Ready");
    autofocus(c->b);
    return json_array();
}

static json_t *m_cancel_half_press(call_ctx *c)
{
    set_focus_status(c->b, "Not Focusing");
    return json_array();
}

static json_t *m_set_touch_af(call_ctx *c)
{
    sonysim_body *b = c->b;
    json_t *x = json_array_get(c->params, 0), *y = json_array_get(c->params, 1);
    if (!json_is_number(x) || !json_is_number(y) || json_array_size(c->params) != 2)
        return fail(c, 3, "Illegal Argument");
    double px = json_number_value(x), py = json_number_value(y);
    if (!(px >= 0 && px <= 100 && py >= 0 && py <= 100)) return fail(c, 3, "Illegal Argument");
    if (strcmp(b->status, "IDLE") != 0) return fail(c, 40401, "Camera Not Ready");
    b->touch_set = true;
    b->touch_x = px;
    b->touch_y = py;
    touch(b, SLOT_TOUCH_AF);
    bool ok = autofocus(b);
    return json_pack("[i,{s:b,s:s}]", 0, "AFResult", ok, "AFType", "Touch");
}

static json_t *m_cancel_touch_af(call_ctx *c)
{
    if (c->b->touch_set) {
        c->b->touch_set = false;
        touch(c->b, SLOT_TOUCH_AF);
    }
    set_focus_status(c->b, "Not Focusing");
    return json_array();
}

static json_t *m_get_touch_af(call_ctx *c)
{
    sonysim_body *b = c->b;
    json_t *coords = b->touch_set ? json_pack("[f,f]", b->touch_x, b->touch_y) : json_array();
    return json_pack("[{s:b,s:o}]", "set", b->touch_set, "touchCoordinates", coords);
}

static json_t *m_act_zoom(call_ctx *c)
{
    sonysim_body *b = c->b;
    const char *dir = json_string_value(json_array_get(c->params, 0));
    const char *move = json_string_value(json_array_get(c->params, 1));
    if (!dir || !move || (strcmp(dir, "in") && strcmp(dir, "out")) ||
        (strcmp(move, "start") && strcmp(move, "stop") && strcmp(move, "1shot")))
        return fail(c, 3, "Illegal Argument");
    if (strcmp(move, "stop") == 0) return json_pack("[i]", 0);
    int step = strcmp(move, "1shot") == 0 ? 10 : 100; /* [guess] start: to the end of the range */
    int z = b->zoom + (dir[0] == 'i' ? step : -step);
    z = z < 0 ? 0 : z > 100 ? 100 : z;
    if (z != b->zoom) {
        b->zoom = z;
        touch(b, SLOT_ZOOM);
    }
    return json_pack("[i]", 0);
}

static json_t *m_storage_information(call_ctx *c)
{
    return json_pack("[[{s:s,s:b,s:i,s:i,s:s}]]", "storageID", "Memory Card 1", "recordTarget", 1,
                     "numberOfRecordableImages", c->b->shots_left, "recordableTime", -1,
                     "storageDescription", "SD");
}

static double exposure_gain(const sonysim_body *b)
{
    int i;
    const setting_def *d = setting_by_suffix(b, "ExposureCompensation", &i);
    return d ? pow(2.0, b->values[i] / 3.0) : 1.0;
}

static double setting_number(const sonysim_body *b, const char *suffix, double fallback)
{
    int i;
    const setting_def *d = setting_by_suffix(b, suffix, &i);
    if (d == NULL || d->shape != SHAPE_STRING) return fallback;
    const char *v = d->choices[b->values[i]];
    if (strncmp(v, "1/", 2) == 0) return 1.0 / atof(v + 2);
    double x = atof(v);
    return x > 0 ? x : fallback;
}

/* Renders a postview (lock released meanwhile) and keeps it; returns
 * false if it could not be made.  url gets its address. */
static bool make_postview(sonysim_body *b, char *url, size_t size)
{
    const sonysim_persona *pe = b->pe;
    double now = clock_mono_s();
    double defocus[2] = {lens_position(&b->lens, now) - b->focus_pos, 0};
    defocus[1] = defocus[0];
    double gain = exposure_gain(b);
    uint64_t number = ++b->shots;
    b->last_trigger_ns = clock_mono_ns();
    if (b->shots_left > 0) {
        b->shots_left--;
        touch(b, SLOT_STORAGE);
    }
    char date[20], uid[33];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y:%m:%d %H:%M:%S", &tm);
    snprintf(uid, sizeof uid, "%016llx%016llx", (unsigned long long)b->opt.seed, (unsigned long long)number);
    int iso = (int)setting_number(b, "IsoSpeedRate", 100);
    img_exif_fields f = {
        .make = "SONY", .model = pe->model, .datetime = date, .lens_model = pe->lens_name,
        .body_serial = b->serial, .unique_id = uid, .software = pe->app_version,
        .iso = iso, .fnumber = setting_number(b, "FNumber", 3.5),
        .exposure_s = setting_number(b, "ShutterSpeed", 1.0 / 60), .focal_mm = pe->focal_mm,
        .width = pe->photo_width, .height = pe->photo_height,
    };
    pthread_mutex_unlock(&b->lock);
    bytebuf head = BYTEBUF_INIT;
    bytebuf_put(&head, "\xFF\xD8\xFF\xE1\0\0", 6);
    int rc = img_exif_build_app1(&f, &head);
    size_t seg = head.len - 4;
    if (head.len >= 6) head.data[4] = (uint8_t)(seg >> 8), head.data[5] = (uint8_t)seg;
    pthread_mutex_lock(&b->render_lock);
    blob *body = render_photo_body(b->rd, defocus, 1.0, gain);
    pthread_mutex_unlock(&b->render_lock);
    blob *jpeg = NULL;
    if (rc == 0 && body && bytebuf_ok(&head) && body->len > 2) {
        jpeg = blob_new(head.len + body->len - 2);
        if (jpeg) {
            memcpy(jpeg->data, head.data, head.len);
            memcpy(jpeg->data + head.len, body->data + 2, body->len - 2);
        }
    }
    bytebuf_free(&head);
    blob_unref(body);
    pthread_mutex_lock(&b->lock);
    if (jpeg == NULL) return false;
    int slot = (int)(number % N_POSTVIEWS);
    blob_unref(b->postviews[slot]);
    b->postviews[slot] = jpeg;
    b->postview_numbers[slot] = number;
    if (b->n_card < MAX_CARD) /* the card keeps the shot (its original is the postview here) */
        b->card[b->n_card++] = (struct card_file){number, blob_ref(jpeg), (int64_t)t, false};
    /* with a query, as real bodies give it (the A-bodies' size, the QX10's
     * escaped DLNA string): a client fetches the URL verbatim and names the
     * file without it */
    const char *query = strcmp(b->pe->id, "qx10") == 0 ? "?%211234%21http%2dget%3a%2a%3aimage%2fjpeg%3a%2a%21%21%21%21%21"
                                                         : "?size=Scn";
    snprintf(url, size, "%s/postview/pict%llu.JPG%s", b->base_url, (unsigned long long)number, query);
    if (b->n_urls < MAX_URLS) {
        snprintf(b->urls[b->n_urls++], sizeof b->urls[0], "%s", url);
        touch(b, SLOT_PICTURE);
    }
    LOG_INFO("sim", "sony: shot %llu (%zu bytes)", (unsigned long long)number, jpeg->len);
    return true;
}

/* A still shot: IDLE -> StillCapturing -> StillSaving -> IDLE. */
static int take_still(sonysim_body *b, char *url, size_t size)
{
    int i;
    const setting_def *fm = setting_by_suffix(b, "FocusMode", &i);
    bool af = fm == NULL || strcmp(fm->choices[b->values[i]], "MF") != 0;
    set_status(b, "StillCapturing");
    if (af && strcmp(b->focus_status, "Focused") != 0 && !autofocus(b)) {
        set_status(b, "IDLE");
        return 40400;
    }
    set_status(b, "StillSaving");
    bool ok = make_postview(b, url, size);
    set_status(b, "IDLE");
    if (!b->touch_set) set_focus_status(b, "Not Focusing");
    return ok ? 0 : 40400;
}

static json_t *m_take_picture(call_ctx *c)
{
    sonysim_body *b = c->b;
    if (strcmp(b->status, "IDLE") != 0) return fail(c, 40401, "Camera Not Ready");
    char url[256];
    int rc = take_still(b, url, sizeof url);
    if (rc == 40400) return fail(c, 40400, "Shooting Fail");
    if (b->faults.long_capture > 0) { /* the shot is "still being taken" */
        b->await_left = b->faults.long_capture - 1;
        b->faults.long_capture = 0;
        snprintf(b->await_url, sizeof b->await_url, "%s", url);
        return fail(c, 40403, "Still Capturing Not Finished");
    }
    return json_pack("[[s]]", url);
}

static json_t *m_await_picture(call_ctx *c)
{
    sonysim_body *b = c->b;
    if (b->await_url[0] == '\0') return fail(c, 1, "Not Available Now");
    if (b->await_left > 0) {
        b->await_left--;
        return fail(c, 40403, "Still Capturing Not Finished");
    }
    json_t *r = json_pack("[[s]]", b->await_url);
    b->await_url[0] = '\0';
    return r;
}

/* ---- Contents Transfer ----------------------------------------------------------- */

static json_t *m_set_function(call_ctx *c)
{
    sonysim_body *b = c->b;
    const char *f = json_string_value(json_array_get(c->params, 0));
    if (f == NULL || (strcmp(f, "Contents Transfer") && strcmp(f, "Remote Shooting")))
        return fail(c, 3, "Illegal Argument");
    bool transfer = strcmp(f, "Contents Transfer") == 0;
    if (transfer != b->transfer) { /* the switch is reported through getEvent (slots 12, 15) */
        b->transfer = transfer;
        b->liveview_on = false;
        b->function_result = "Success";
        set_status(b, transfer ? "ContentsTransfer" : "IDLE");
        touch(b, SLOT_FUNCTION);
        touch(b, SLOT_FUNCTION_RESULT);
        touch(b, SLOT_APIS);
        touch(b, SLOT_LIVEVIEW);
    }
    return json_pack("[i]", 0);
}

static json_t *m_get_function(call_ctx *c)
{
    return json_pack("[s]", c->b->transfer ? "Contents Transfer" : "Remote Shooting");
}

static json_t *m_scheme_list(call_ctx *c)
{
    (void)c;
    return json_pack("[[{s:s}]]", "scheme", "storage");
}

static json_t *m_source_list(call_ctx *c)
{
    const char *scheme = json_string_value(json_object_get(json_array_get(c->params, 0), "scheme"));
    if (scheme == NULL || strcmp(scheme, "storage") != 0) return fail(c, 3, "Illegal Argument");
    return json_pack("[[{s:s}]]", "source", "storage:memoryCard1");
}

static const char *content_uri_source(call_ctx *c)
{
    json_t *o = json_array_get(c->params, 0);
    const char *uri = json_string_value(json_object_get(o, "uri"));
    return uri && strcmp(uri, "storage:memoryCard1") == 0 ? uri : NULL;
}

static json_t *m_content_count(call_ctx *c)
{
    if (content_uri_source(c) == NULL) return fail(c, 3, "Illegal Argument");
    int n = 0;
    for (int i = 0; i < c->b->n_card; i++) n += !c->b->card[i].deleted;
    return json_pack("[{s:i}]", "count", n);
}

static json_t *content_item(sonysim_body *b, const struct card_file *f)
{
    char name[32], url[256], uri[64], date[32], folder[8], file[8];
    snprintf(name, sizeof name, "DSC%05llu.JPG", (unsigned long long)f->number);
    snprintf(url, sizeof url, "%s/contents/%s", b->base_url, name);
    snprintf(uri, sizeof uri, "image:content?contentId=%llu", (unsigned long long)f->number);
    snprintf(folder, sizeof folder, "100");
    snprintf(file, sizeof file, "%04llu", (unsigned long long)(f->number % 10000));
    time_t t = (time_t)f->taken;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:[{s:s,s:s,s:s}],s:s,s:s,s:s}}", "uri", uri,
                     "title", name, "createdTime", date, "contentKind", "still", "folderNo", folder, "fileNo", file,
                     "isPlayable", "false", "isBrowsable", "false", "isProtected", "false", "content", "original",
                     "fileName", name, "stillObject", "jpeg", "url", url, "largeUrl", url, "smallUrl", url,
                     "thumbnailUrl", url);
}

static json_t *m_content_list(call_ctx *c)
{
    json_t *o = json_array_get(c->params, 0);
    json_t *st = json_object_get(o, "stIdx"), *cnt = json_object_get(o, "cnt");
    if (content_uri_source(c) == NULL || !json_is_integer(st) || !json_is_integer(cnt) ||
        json_integer_value(st) < 0 || json_integer_value(cnt) < 1 || json_integer_value(cnt) > 100)
        return fail(c, 3, "Illegal Argument");
    const char *sort = json_string_value(json_object_get(o, "sort"));
    bool ascending = sort && strcmp(sort, "ascending") == 0;
    json_t *items = json_array();
    json_int_t skip = json_integer_value(st), want = json_integer_value(cnt);
    for (int k = 0; k < c->b->n_card && json_array_size(items) < (size_t)want; k++) {
        const struct card_file *f = &c->b->card[ascending ? k : c->b->n_card - 1 - k];
        if (f->deleted) continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        json_array_append_new(items, content_item(c->b, f));
    }
    return json_pack("[o]", items);
}

static json_t *m_delete_content(call_ctx *c)
{
    json_t *uris = json_object_get(json_array_get(c->params, 0), "uri");
    if (!json_is_array(uris) || json_array_size(uris) == 0) return fail(c, 3, "Illegal Argument");
    size_t i;
    json_t *u;
    json_array_foreach(uris, i, u) {
        unsigned long long n;
        const char *s = json_string_value(u);
        bool found = false;
        if (s && sscanf(s, "image:content?contentId=%llu", &n) == 1)
            for (int k = 0; k < c->b->n_card; k++)
                if (c->b->card[k].number == n && !c->b->card[k].deleted) {
                    c->b->card[k].deleted = true;
                    blob_unref(c->b->card[k].jpeg);
                    c->b->card[k].jpeg = NULL;
                    found = true;
                }
        if (!found) return fail(c, 41001, "Content Does Not Exist");
    }
    return json_array();
}

/* ---- settings ------------------------------------------------------------------- */

/* A still-size choice ("3:2 24M") as the API writes it: {"aspect", "size"}. */
static json_t *still_json(const char *choice)
{
    const char *sp = strchr(choice, ' ');
    return json_pack("{s:s%,s:s}", "aspect", choice, (size_t)(sp - choice), "size", sp + 1);
}

static json_t *value_json(const sonysim_body *b, int i)
{
    const setting_def *d = &b->pe->settings[i];
    if (d->shape == SHAPE_INDEX) return json_integer(b->values[i]);
    if (d->shape == SHAPE_STILL) return still_json(d->choices[b->values[i]]);
    return json_string(d->choices[b->values[i]]);
}

static json_t *candidates_json(const sonysim_body *b, int i, bool only_now, bool wb_objects)
{
    const setting_def *d = &b->pe->settings[i];
    json_t *a = json_array();
    if (only_now && !settable(b, d)) return a;
    if (d->shape == SHAPE_INDEX) {
        for (int v = d->min; v <= d->max; v++) json_array_append_new(a, json_integer(v));
        return a;
    }
    for (int k = 0; d->choices[k]; k++) {
        if (d->shape == SHAPE_WB && wb_objects)
            json_array_append_new(a, json_pack("{s:s,s:[]}", "whiteBalanceMode", d->choices[k],
                                               "colorTemperatureRange"));
        else if (d->shape == SHAPE_STILL) json_array_append_new(a, still_json(d->choices[k]));
        else json_array_append_new(a, json_string(d->choices[k]));
    }
    return a;
}

static json_t *m_setting(call_ctx *c, const char *verb, int i)
{
    sonysim_body *b = c->b;
    const setting_def *d = &b->pe->settings[i];
    if (strcmp(verb, "get") == 0) {
        if (d->shape == SHAPE_WB)
            return json_pack("[{s:s,s:i}]", "whiteBalanceMode", d->choices[b->values[i]], "colorTemperature", -1);
        return json_pack("[o]", value_json(b, i));
    }
    if (strcmp(verb, "getSupported") == 0) {
        if (d->shape == SHAPE_INDEX) return json_pack("[[i],[i],[i]]", d->max, d->min, 1);
        return json_pack("[o]", candidates_json(b, i, false, true));
    }
    if (strcmp(verb, "getAvailable") == 0) {
        bool now = settable(b, d);
        if (d->shape == SHAPE_INDEX)
            return now ? json_pack("[i,i,i,i]", b->values[i], d->max, d->min, 1)
                       : json_pack("[i,i,i,i]", b->values[i], 0, 0, 1);
        if (d->shape == SHAPE_WB)
            return json_pack("[{s:s,s:i},o]", "whiteBalanceMode", d->choices[b->values[i]],
                             "colorTemperature", -1, candidates_json(b, i, true, true));
        return json_pack("[o,o]", value_json(b, i), candidates_json(b, i, true, false));
    }
    /* set */
    json_t *p = json_array_get(c->params, 0);
    int v = -1;
    if (d->shape == SHAPE_INDEX) {
        if (!json_is_integer(p) || json_array_size(c->params) != 1) return fail(c, 3, "Illegal Argument");
        json_int_t x = json_integer_value(p);
        if (x < d->min || x > d->max) return fail(c, 3, "Illegal Argument");
        v = (int)x;
    } else if (d->shape == SHAPE_STILL) { /* [aspect, size] */
        const char *aspect = json_string_value(p), *size = json_string_value(json_array_get(c->params, 1));
        if (aspect == NULL || size == NULL || json_array_size(c->params) != 2) return fail(c, 3, "Illegal Argument");
        char want[64];
        snprintf(want, sizeof want, "%s %s", aspect, size);
        for (int k = 0; d->choices[k]; k++)
            if (strcmp(d->choices[k], want) == 0) v = k;
        if (v < 0) return fail(c, 3, "Illegal Argument");
    } else {
        const char *s = json_string_value(p);
        size_t want = d->shape == SHAPE_WB ? 3 : 1;
        if (s == NULL || json_array_size(c->params) != want) return fail(c, 3, "Illegal Argument");
        if (d->shape == SHAPE_WB && (!json_is_boolean(json_array_get(c->params, 1)) ||
                                     !json_is_integer(json_array_get(c->params, 2))))
            return fail(c, 3, "Illegal Argument");
        for (int k = 0; d->choices[k]; k++)
            if (strcmp(d->choices[k], s) == 0) v = k;
        if (v < 0) return fail(c, 3, "Illegal Argument");
    }
    if (b->values[i] != v) {
        b->values[i] = v;
        touch(b, d->slot);
        if (strcmp(d->suffix, "ExposureMode") == 0) { /* availability follows the mode */
            touch(b, SLOT_APIS);
            for (int k = 0; k < b->pe->n_settings; k++) touch(b, b->pe->settings[k].slot);
        }
    }
    return json_pack("[i]", 0);
}

/* ---- the tables ------------------------------------------------------------------- */

static json_t *m_event(call_ctx *c);
static json_t *m_method_types(call_ctx *c);

static const method camera_methods[] = {
    {"getVersions", "1.0", m_versions, true, false},
    {"getMethodTypes", "1.0", m_method_types, true, false},
    {"getApplicationInfo", "1.0", m_application_info, true, false},
    {"getAvailableApiList", "1.0", m_available_api_list, true, false},
    {"getEvent", NULL, m_event, true, false},
    {"startRecMode", "1.0", m_start_rec_mode, false, false},
    {"stopRecMode", "1.0", m_stop_rec_mode, false, true},
    {"startLiveview", "1.0", m_start_liveview, false, true},
    {"stopLiveview", "1.0", m_stop_liveview, false, true},
    {"setLiveviewFrameInfo", "1.0", m_set_frame_info, false, true},
    {"getLiveviewFrameInfo", "1.0", m_get_frame_info, false, true},
    {"actTakePicture", "1.0", m_take_picture, false, true},
    {"awaitTakePicture", "1.0", m_await_picture, false, true},
    {"actHalfPressShutter", "1.0", m_half_press, false, true},
    {"cancelHalfPressShutter", "1.0", m_cancel_half_press, false, true},
    {"setTouchAFPosition", "1.0", m_set_touch_af, false, true},
    {"cancelTouchAFPosition", "1.0", m_cancel_touch_af, false, true},
    {"getTouchAFPosition", "1.0", m_get_touch_af, false, true},
    {"actZoom", "1.0", m_act_zoom, false, true},
    {"getStorageInformation", "1.0", m_storage_information, false, true},
    {"setCameraFunction", "1.0", m_set_function, false, false},
    {"getCameraFunction", "1.0", m_get_function, false, false},
};

static const method av_methods[] = {
    {"getVersions", "1.0", m_versions, true, false},
    {"getMethodTypes", "1.0", m_method_types, true, false},
    {"getSchemeList", "1.0", m_scheme_list, false, false},
    {"getSourceList", "1.0", m_source_list, false, false},
    {"getContentCount", "1.2", m_content_count, false, false},
    {"getContentList", "1.3", m_content_list, false, false},
    {"deleteContent", "1.1", m_delete_content, false, false},
};

static const method system_methods[] = {
    {"getVersions", "1.0", m_versions, true, false},
    {"getMethodTypes", "1.0", m_method_types, true, false},
};

static const char *const setting_verbs[] = {"getSupported", "getAvailable", "get", "set"};

static bool version_offered(const sonysim_body *b, const method *m, const char *version)
{
    const char *list = m->versions ? m->versions : b->pe->getevent_versions;
    size_t n = strlen(version);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, version, n) == 0) return true;
        if (!comma) break;
        p = comma + 1;
    }
    return false;
}

/* Is a camera method available now (in the API list)? */
static bool method_listed(const sonysim_body *b, const method *m)
{
    if (m->always) return true;
    if (strcmp(m->name, "setCameraFunction") == 0 || strcmp(m->name, "getCameraFunction") == 0)
        return b->pe->contents_transfer && b->rec_mode;
    if (b->transfer) return false; /* in Contents Transfer the shooting methods leave the list */
    if (strcmp(m->name, "startRecMode") == 0) return b->pe->needs_rec_mode && !b->rec_mode;
    if (m->shooting && !b->rec_mode) return false;
    if (strcmp(m->name, "awaitTakePicture") == 0) return b->await_url[0] != '\0';
    return true;
}

static void api_list(sonysim_body *b, json_t *names)
{
    for (size_t i = 0; i < sizeof camera_methods / sizeof camera_methods[0]; i++)
        if (method_listed(b, &camera_methods[i]))
            json_array_append_new(names, json_string(camera_methods[i].name));
    if (!b->rec_mode || b->transfer) return;
    for (int s = 0; s < b->pe->n_settings; s++) {
        const setting_def *d = &b->pe->settings[s];
        for (size_t v = 0; v < 4; v++) {
            if (strcmp(setting_verbs[v], "set") == 0 && !settable(b, d)) continue;
            json_array_append_new(names, json_sprintf("%s%s", setting_verbs[v], d->suffix));
        }
    }
}

static json_t *m_method_types(call_ctx *c)
{
    (void)c;
    json_t *all = json_array();
    for (size_t i = 0; i < sizeof camera_methods / sizeof camera_methods[0]; i++) {
        const method *m = &camera_methods[i];
        const char *v = m->versions ? m->versions : c->b->pe->getevent_versions;
        char one[8];
        snprintf(one, sizeof one, "%.3s", v);
        json_array_append_new(all, json_pack("[s,[],[],s]", m->name, one));
    }
    return all;
}

/* ---- getEvent ------------------------------------------------------------------------ */

static int slot_count(const char *version)
{
    if (strcmp(version, "1.0") == 0) return 35;
    if (strcmp(version, "1.1") == 0) return 36;
    if (strcmp(version, "1.2") == 0) return 60;
    return 63;
}

/* The content of one slot (new reference; NULL: nothing to say). */
static json_t *slot_json(sonysim_body *b, int slot, bool full)
{
    switch (slot) {
    case SLOT_APIS: {
        json_t *names = json_array();
        api_list(b, names);
        return json_pack("{s:s,s:o}", "type", "availableApiList", "names", names);
    }
    case SLOT_STATUS: return json_pack("{s:s,s:s}", "type", "cameraStatus", "cameraStatus", b->status);
    case SLOT_ZOOM:
        return json_pack("{s:s,s:i,s:i,s:i,s:i}", "type", "zoomInformation", "zoomPosition", b->zoom,
                         "zoomNumberBox", 1, "zoomIndexCurrentBox", 0, "zoomPositionCurrentBox", b->zoom);
    case SLOT_LIVEVIEW: return json_pack("{s:s,s:b}", "type", "liveviewStatus", "liveviewStatus", b->liveview_on);
    case SLOT_PICTURE: {
        json_t *a = json_array();
        if (b->n_urls > 0) {
            json_t *urls = json_array();
            for (int i = 0; i < b->n_urls; i++) json_array_append_new(urls, json_string(b->urls[i]));
            json_array_append_new(a, json_pack("{s:s,s:o}", "type", "takePicture", "takePictureUrl", urls));
        }
        return a;
    }
    case SLOT_STORAGE:
        return json_pack("[{s:s,s:s,s:b,s:i,s:i,s:s}]", "type", "storageInformation", "storageID",
                         "Memory Card 1", "recordTarget", 1, "numberOfRecordableImages", b->shots_left,
                         "recordableTime", -1, "storageDescription", "SD");
    case SLOT_FUNCTION:
        if (b->pe->contents_transfer)
            return json_pack("{s:s,s:s,s:[s,s]}", "type", "cameraFunction", "currentCameraFunction",
                             b->transfer ? "Contents Transfer" : "Remote Shooting", "cameraFunctionCandidates",
                             "Remote Shooting", "Contents Transfer");
        return json_pack("{s:s,s:s,s:[s]}", "type", "cameraFunction", "currentCameraFunction",
                         "Remote Shooting", "cameraFunctionCandidates", "Remote Shooting");
    case SLOT_FUNCTION_RESULT:
        if (b->function_result == NULL) return NULL;
        return json_pack("{s:s,s:s}", "type", "cameraFunctionResult", "cameraFunctionResult", b->function_result);
    case SLOT_TOUCH_AF: {
        json_t *coords = b->touch_set ? json_pack("[f,f]", b->touch_x, b->touch_y) : json_array();
        return json_pack("{s:s,s:b,s:o}", "type", "touchAFPosition", "currentSet", b->touch_set,
                         "currentTouchCoordinates", coords);
    }
    case SLOT_FOCUS_STATUS: return json_pack("{s:s,s:s}", "type", "focusStatus", "focusStatus", b->focus_status);
    case SLOT_BATTERY:
        return json_pack("{s:s,s:[{s:s,s:s,s:s,s:i,s:i}]}", "type", "batteryInfo", "batteryInfo", "batteryID",
                         "1", "status", "active", "additionalStatus", "", "levelNumer", 3, "levelDenom", 4);
    default: break;
    }
    for (int i = 0; i < b->pe->n_settings; i++) {
        const setting_def *d = &b->pe->settings[i];
        if (d->slot != slot) continue;
        char cur[64], cand[64];
        snprintf(cur, sizeof cur, "current%s", d->suffix);
        snprintf(cand, sizeof cand, "%sCandidates", d->type);
        if (d->shape == SHAPE_INDEX) {
            bool now = settable(b, d);
            return json_pack("{s:s,s:i,s:i,s:i,s:i}", "type", d->type, cur, b->values[i],
                             "maxExposureCompensation", now ? d->max : 0, "minExposureCompensation",
                             now ? d->min : 0, "stepIndexOfExposureCompensation", 1);
        }
        if (d->shape == SHAPE_WB)
            return json_pack("{s:s,s:b,s:s,s:i}", "type", d->type, "checkAvailability", 1,
                             "currentWhiteBalanceMode", d->choices[b->values[i]],
                             "currentColorTemperature", -1);
        if (d->shape == SHAPE_STILL) { /* slot 14: no candidates, the aspect and size apart */
            json_t *v = value_json(b, i);
            json_t *e = json_pack("{s:s,s:b,s:O,s:O}", "type", d->type, "checkAvailability", 1, "currentAspect",
                                  json_object_get(v, "aspect"), "currentSize", json_object_get(v, "size"));
            json_decref(v);
            return e;
        }
        return json_pack("{s:s,s:o,s:o}", "type", d->type, cur, value_json(b, i), cand,
                         candidates_json(b, i, true, false));
    }
    (void)full;
    return NULL;
}

static json_t *event_reply(sonysim_body *b, const char *version, bool full)
{
    int n = slot_count(version);
    json_t *r = json_array();
    for (int s = 0; s < n; s++) {
        bool changed = full || b->slot_changed[s] > b->reported;
        json_t *v = changed ? slot_json(b, s, full) : NULL;
        if (v == NULL) v = slot_is_array(s) ? json_array() : json_null();
        json_array_append_new(r, v);
    }
    b->reported = b->seq;
    b->n_urls = 0; /* a shot's URL is told once */
    return r;
}

static json_t *m_event(call_ctx *c)
{
    sonysim_body *b = c->b;
    json_t *lp = json_array_get(c->params, 0);
    if (!json_is_boolean(lp) || json_array_size(c->params) != 1) return fail(c, 3, "Illegal Argument");
    if (!json_is_true(lp)) return event_reply(b, c->version, true);
    if (b->poll_parked) return fail(c, 40402, "Already Polling");
    b->poll_parked = true;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double secs = b->opt.poll_timeout_s;
    deadline.tv_sec += (time_t)secs;
    deadline.tv_nsec += (long)((secs - floor(secs)) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    while (b->seq <= b->reported && !b->stopping && !b->faults.wifi_down)
        if (pthread_cond_timedwait(&b->changed, &b->lock, &deadline) != 0) break;
    b->poll_parked = false;
    if (b->stopping || b->faults.wifi_down) return fail(c, 40401, "Camera Not Ready");
    if (b->seq <= b->reported) return fail(c, 2, "Timeout");
    return event_reply(b, c->version, false);
}

/* ---- dispatch -------------------------------------------------------------------------- */

json_t *sonysim_call(sonysim_body *b, const char *service, json_t *request)
{
    const char *name = json_string_value(json_object_get(request, "method"));
    json_t *params = json_object_get(request, "params");
    json_t *id = json_object_get(request, "id");
    const char *version = json_string_value(json_object_get(request, "version"));
    json_int_t idv = json_is_integer(id) ? json_integer_value(id) : 0;
    if (name == NULL || !json_is_array(params) || !json_is_integer(id) || version == NULL)
        return json_pack("{s:[i,s],s:I}", "error", 5, "Illegal Request", "id", idv);

    pthread_mutex_lock(&b->lock);
    if (b->faults.wifi_down) {
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    b->calls++;
    const method *table = NULL;
    size_t n = 0;
    if (strcmp(service, "camera") == 0) table = camera_methods, n = sizeof camera_methods / sizeof camera_methods[0];
    else if (strcmp(service, "avContent") == 0 && b->pe->contents_transfer)
        table = av_methods, n = sizeof av_methods / sizeof av_methods[0];
    else if (strcmp(service, "system") == 0 || strcmp(service, "guide") == 0)
        table = system_methods, n = sizeof system_methods / sizeof system_methods[0];
    call_ctx c = {.b = b, .params = params, .version = version};
    json_t *result = NULL;
    const method *m = NULL;
    for (size_t i = 0; table && i < n; i++)
        if (strcmp(table[i].name, name) == 0) m = &table[i];
    int setting = -1;
    const char *verb = NULL;
    if (m == NULL && table == camera_methods) {
        for (size_t v = 0; v < 4 && setting < 0; v++) {
            size_t len = strlen(setting_verbs[v]);
            if (strncmp(name, setting_verbs[v], len) == 0 && setting_by_suffix(b, name + len, &setting))
                verb = setting_verbs[v];
        }
    }
    if (m == NULL && setting < 0) {
        fail(&c, 12, "No Such Method");
    } else if (m ? !version_offered(b, m, version) : strcmp(version, "1.0") != 0) {
        fail(&c, 14, "Unsupported Version");
    } else if (table == av_methods ? !m->always && !b->transfer
               : m ? !method_listed(b, m)
                   : !b->rec_mode || b->transfer || (strcmp(verb, "set") == 0 && !settable(b, &b->pe->settings[setting]))) {
        fail(&c, 1, "Not Available Now");
    } else if ((m == NULL || !m->always) && b->faults.busy_count > 0) {
        b->faults.busy_count--;
        fail(&c, 40401, "Camera Not Ready");
    } else {
        result = m ? m->fn(&c) : m_setting(&c, verb, setting);
        if (result == NULL && c.err == 0) fail(&c, 40401, "Camera Not Ready"); /* out of memory */
    }
    bool gone = b->faults.wifi_down;
    pthread_mutex_unlock(&b->lock);
    if (gone) {
        json_decref(result);
        return NULL;
    }
    if (c.err != 0) return json_pack("{s:[i,s],s:I}", "error", c.err, c.msg, "id", idv);
    const char *key = m && strcmp(m->name, "getMethodTypes") == 0 ? "results" : "result";
    return json_pack("{s:o,s:I}", key, result, "id", idv);
}

/* ---- live view ------------------------------------------------------------------------------ */

static void *lv_main(void *arg)
{
    sonysim_body *b = arg;
    log_set_thread_name("sony-lv");
    bytebuf jpeg = BYTEBUF_INIT;
    double fps = b->opt.fps > 0 ? b->opt.fps : b->pe->lv_fps;
    int64_t period = (int64_t)(1e9 / fps), next = clock_mono_ns();
    pthread_mutex_lock(&b->lock);
    while (!b->stopping) {
        if (b->lv_clients == 0 || !b->liveview_on) {
            pthread_cond_wait(&b->changed, &b->lock);
            next = clock_mono_ns();
            continue;
        }
        double now = clock_mono_s();
        double pos = lens_position(&b->lens, now);
        double defocus[2] = {pos - b->focus_pos, pos - b->focus_pos};
        double gain = exposure_gain(b);
        uint64_t number = b->lv_frames + 1;
        sonysim_lv_frame f = {0};
        f.frame_info = b->frame_info;
        bool focused = strcmp(b->focus_status, "Focused") == 0, focusing = strcmp(b->focus_status, "Focusing") == 0;
        if (focused || focusing) {
            double cx = b->touch_set ? b->touch_x : 50, cy = b->touch_set ? b->touch_y : 50;
            double l = cx - 5 < 0 ? 0 : cx - 5, t = cy - 5 < 0 ? 0 : cy - 5;
            double r = cx + 5 > 100 ? 100 : cx + 5, bo = cy + 5 > 100 ? 100 : cy + 5;
            f.n_focus = 1;
            f.focus_box[0] = (uint16_t)(l * 100), f.focus_box[1] = (uint16_t)(t * 100);
            f.focus_box[2] = (uint16_t)(r * 100), f.focus_box[3] = (uint16_t)(bo * 100);
            f.focus_status = focused ? 4 : 1;
        }
        pthread_mutex_unlock(&b->lock);
        bytebuf_reset(&jpeg);
        pthread_mutex_lock(&b->render_lock);
        int rc = render_liveview(b->rd, defocus, gain, number, &jpeg);
        pthread_mutex_unlock(&b->render_lock);
        blob *data = rc == 0 && bytebuf_ok(&jpeg) ? blob_from(jpeg.data, jpeg.len) : NULL;
        pthread_mutex_lock(&b->lock);
        if (data) {
            blob_unref(b->frame.jpeg);
            f.jpeg = data;
            f.number = number;
            f.sequence = (uint16_t)(SEQUENCE_BASE + number);
            f.timestamp_ms = (uint32_t)((clock_mono_ns() - b->t0_ns) / 1000000);
            b->frame = f;
            b->lv_frames = number;
            pthread_cond_broadcast(&b->changed);
        }
        next += period;
        int64_t wait = next - clock_mono_ns();
        if (wait < -period) next = clock_mono_ns(); /* fell behind: do not race to catch up */
        if (wait > 0) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += wait / 1000000000;
            until.tv_nsec += wait % 1000000000;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            while (!b->stopping && pthread_cond_timedwait(&b->changed, &b->lock, &until) == 0) {
            }
        }
    }
    pthread_mutex_unlock(&b->lock);
    bytebuf_free(&jpeg);
    return NULL;
}

void sonysim_lv_attach(sonysim_body *b)
{
    pthread_mutex_lock(&b->lock);
    b->lv_clients++;
    b->lv_opens++;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

void sonysim_lv_detach(sonysim_body *b)
{
    pthread_mutex_lock(&b->lock);
    b->lv_clients--;
    pthread_mutex_unlock(&b->lock);
}

int sonysim_lv_next(sonysim_body *b, uint64_t after, sonysim_lv_frame *out)
{
    pthread_mutex_lock(&b->lock);
    while (!b->stopping && b->liveview_on && !b->faults.wifi_down &&
           (b->frame.jpeg == NULL || b->frame.number <= after || b->faults.lv_stall))
        pthread_cond_wait(&b->changed, &b->lock);
    int rc = -1;
    if (!b->stopping && b->liveview_on && !b->faults.wifi_down) {
        *out = b->frame;
        blob_ref(out->jpeg);
        rc = 0;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void sonysim_lv_sent(sonysim_body *b, uint64_t bytes)
{
    pthread_mutex_lock(&b->lock);
    b->lv_bytes += bytes;
    pthread_mutex_unlock(&b->lock);
}

bool sonysim_lv_should_cut(sonysim_body *b, uint64_t sent)
{
    pthread_mutex_lock(&b->lock);
    bool cut = b->faults.lv_cut_after > 0 && sent >= (uint64_t)b->faults.lv_cut_after;
    if (cut) b->faults.lv_cut_after = 0; /* once */
    pthread_mutex_unlock(&b->lock);
    return cut;
}

blob *sonysim_postview(sonysim_body *b, const char *name)
{
    unsigned long long n;
    char tail[8];
    if (sscanf(name, "pict%llu.%4s", &n, tail) != 2 || strcmp(tail, "JPG") != 0) return NULL;
    pthread_mutex_lock(&b->lock);
    blob *r = NULL;
    int slot = (int)(n % N_POSTVIEWS);
    if (!b->faults.wifi_down && b->postviews[slot] && b->postview_numbers[slot] == n)
        r = blob_ref(b->postviews[slot]);
    pthread_mutex_unlock(&b->lock);
    return r;
}

blob *sonysim_content(sonysim_body *b, const char *name)
{
    unsigned long long n;
    char tail[8];
    if (sscanf(name, "DSC%llu.%4s", &n, tail) != 2 || strcmp(tail, "JPG") != 0) return NULL;
    pthread_mutex_lock(&b->lock);
    blob *r = NULL;
    for (int k = 0; k < b->n_card && !b->faults.wifi_down && b->transfer; k++)
        if (b->card[k].number == n && !b->card[k].deleted) r = blob_ref(b->card[k].jpeg);
    pthread_mutex_unlock(&b->lock);
    return r;
}

/* ---- the body's side -------------------------------------------------------------------------- */

int sonysim_press_shutter(sonysim_body *b)
{
    pthread_mutex_lock(&b->lock);
    int rc = -1;
    if (strcmp(b->status, "IDLE") == 0) {
        char url[256];
        rc = take_still(b, url, sizeof url) == 0 ? 0 : -1;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int sonysim_body_set(sonysim_body *b, const char *type, const char *value)
{
    pthread_mutex_lock(&b->lock);
    int rc = -1;
    for (int i = 0; i < b->pe->n_settings; i++) {
        const setting_def *d = &b->pe->settings[i];
        if (strcmp(d->type, type) != 0) continue;
        rc = -2;
        if (d->shape == SHAPE_INDEX) {
            char *end;
            long v = strtol(value, &end, 10);
            if (*end == '\0' && end != value && v >= d->min && v <= d->max) {
                b->values[i] = (int)v;
                rc = 0;
            }
        } else {
            for (int k = 0; d->choices[k]; k++)
                if (strcmp(d->choices[k], value) == 0) b->values[i] = k, rc = 0;
        }
        if (rc == 0) {
            touch(b, d->slot);
            if (strcmp(d->suffix, "ExposureMode") == 0) { /* availability follows the mode */
                touch(b, SLOT_APIS);
                for (int k = 0; k < b->pe->n_settings; k++) touch(b, b->pe->settings[k].slot);
            }
        }
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void sonysim_set_faults(sonysim_body *b, const sonysim_faults *f)
{
    pthread_mutex_lock(&b->lock);
    b->faults = *f;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

void sonysim_get_faults(sonysim_body *b, sonysim_faults *f)
{
    pthread_mutex_lock(&b->lock);
    *f = b->faults;
    pthread_mutex_unlock(&b->lock);
}

json_t *sonysim_state(sonysim_body *b)
{
    pthread_mutex_lock(&b->lock);
    json_t *settings = json_object();
    for (int i = 0; i < b->pe->n_settings; i++)
        json_object_set_new(settings, b->pe->settings[i].type, value_json(b, i));
    double now = clock_mono_s();
    json_t *st = json_pack(
        "{s:s,s:s,s:s,s:b,s:b,s:I,s:I,s:o,s:{s:i,s:I,s:I,s:I},s:{s:f,s:f,s:b,s:s,s:b,s:f,s:f},s:i,s:I,"
        "s:{s:i,s:i,s:i,s:I,s:b,s:i,s:b},s:I}",
        "persona", b->pe->id, "model", b->pe->model, "camera_status", b->status, "rec_mode", b->rec_mode,
        "liveview_on", b->liveview_on, "shots", (json_int_t)b->shots, "last_trigger_ns",
        (json_int_t)b->last_trigger_ns, "settings", settings, "liveview", "clients", b->lv_clients,
        "opened", (json_int_t)b->lv_opens, "frames", (json_int_t)b->lv_frames, "bytes", (json_int_t)b->lv_bytes,
        "focus", "lens_position",
        lens_position(&b->lens, now), "true_focus_position", b->focus_pos, "moving",
        lens_moving(&b->lens, now), "status", b->focus_status, "touch_set", b->touch_set, "touch_x",
        b->touch_x, "touch_y", b->touch_y, "zoom", b->zoom, "calls", (json_int_t)b->calls, "faults",
        "busy_count", b->faults.busy_count, "af_fail_count", b->faults.af_fail_count, "long_capture",
        b->faults.long_capture, "lv_cut_after", (json_int_t)b->faults.lv_cut_after, "lv_stall",
        b->faults.lv_stall, "lv_split", b->faults.lv_split, "wifi_down", b->faults.wifi_down,
        "shots_left", (json_int_t)b->shots_left);
    json_object_set_new(json_object_get(st, "faults"), "lv_rate_kbps", json_real(b->faults.lv_rate_kbps));
    json_object_set_new(st, "event_poll_parked", json_boolean(b->poll_parked));
    int on_card = 0;
    for (int k = 0; k < b->n_card; k++) on_card += !b->card[k].deleted;
    json_object_set_new(st, "card_files", json_integer(on_card));
    json_object_set_new(st, "camera_function", json_string(b->transfer ? "Contents Transfer" : "Remote Shooting"));
    pthread_mutex_unlock(&b->lock);
    return st;
}

/* ---- life ---------------------------------------------------------------------------------------- */

const char *sonysim_model(const sonysim_body *b) { return b->pe->model; }
const char *sonysim_persona_id(const sonysim_body *b) { return b->pe->id; }

void sonysim_set_base_url(sonysim_body *b, const char *url)
{
    pthread_mutex_lock(&b->lock);
    snprintf(b->base_url, sizeof b->base_url, "%s", url);
    pthread_mutex_unlock(&b->lock);
}

char *sonysim_device_description(sonysim_body *b)
{
    pthread_mutex_lock(&b->lock);
    char services[4096] = "";
    /* the ILCE-6000's file lists guide, accessControl and camera only
     * (research note §3): no Contents Transfer through this API; the
     * simulated QX10 adds system and avContent [guess] */
    static const char *const a6000[] = {"guide", "accessControl", "camera", NULL};
    static const char *const qx10[] = {"guide", "accessControl", "camera", "system", "avContent", NULL};
    const char *const *list = strcmp(b->pe->id, "a6000") == 0 ? a6000 : qx10;
    size_t len = 0;
    for (int i = 0; list[i] && len < sizeof services; i++)
        len += (size_t)snprintf(services + len, sizeof services - len,
                                "      <av:X_ScalarWebAPI_Service>\n"
                                "        <av:X_ScalarWebAPI_ServiceType>%s</av:X_ScalarWebAPI_ServiceType>\n"
                                "        <av:X_ScalarWebAPI_ActionList_URL>%s/sony</av:X_ScalarWebAPI_ActionList_URL>\n"
                                "        <av:X_ScalarWebAPI_AccessType/>\n"
                                "      </av:X_ScalarWebAPI_Service>\n",
                                list[i], b->base_url);
    char *xml = NULL;
    int rc = asprintf(&xml,
                      "<?xml version=\"1.0\"?>\n"
                      "<root xmlns=\"urn:schemas-upnp-org:device-1-0\">\n"
                      "  <specVersion><major>1</major><minor>0</minor></specVersion>\n"
                      "  <device>\n"
                      "    <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>\n"
                      "    <friendlyName>%s</friendlyName>\n"
                      "    <manufacturer>Sony Corporation</manufacturer>\n"
                      "    <manufacturerURL>http://www.sony.net/</manufacturerURL>\n"
                      "    <modelDescription>SonyDigitalMediaServer</modelDescription>\n"
                      "    <modelName>SonyImagingDevice</modelName>\n"
                      "    <UDN>uuid:00000000-0005-0010-8000-%012llx</UDN>\n"
                      "    <serviceList>\n"
                      "      <service>\n"
                      "        <serviceType>urn:schemas-sony-com:service:ScalarWebAPI:1</serviceType>\n"
                      "        <serviceId>urn:schemas-sony-com:serviceId:ScalarWebAPI</serviceId>\n"
                      "        <SCPDURL/><controlURL/><eventSubURL/>\n"
                      "      </service>\n"
                      "    </serviceList>\n"
                      "    <av:X_ScalarWebAPI_DeviceInfo xmlns:av=\"urn:schemas-sony-com:av\">\n"
                      "      <av:X_ScalarWebAPI_Version>1.0</av:X_ScalarWebAPI_Version>\n"
                      "      <av:X_ScalarWebAPI_ServiceList>\n%s"
                      "      </av:X_ScalarWebAPI_ServiceList>\n"
                      "    </av:X_ScalarWebAPI_DeviceInfo>\n"
                      "  </device>\n"
                      "</root>\n",
                      b->pe->model, (unsigned long long)(b->opt.seed & 0xFFFFFFFFFFFFull), services);
    pthread_mutex_unlock(&b->lock);
    return rc < 0 ? NULL : xml;
}

sonysim_body *sonysim_new(const sonysim_options *o)
{
    if (img_exif_global_init() != 0) {
        LOG_ERROR("sim", "sony: cannot initialise EXIF support");
        return NULL;
    }
    sonysim_body *b = calloc(1, sizeof *b);
    if (b == NULL) return NULL;
    b->opt = *o;
    b->pe = o->persona;
    pthread_mutex_init(&b->lock, NULL);
    pthread_mutex_init(&b->render_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->changed, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(b->serial, sizeof b->serial, "%08llu", (unsigned long long)(o->seed % 100000000));
    snprintf(b->base_url, sizeof b->base_url, "http://127.0.0.1:8080");
    b->status = "IDLE";
    b->focus_status = "Not Focusing";
    b->rec_mode = !b->pe->needs_rec_mode;
    b->frame_info = true; /* [guess] */
    b->shots_left = 812;
    for (int i = 0; i < b->pe->n_settings; i++) b->values[i] = b->pe->settings[i].initial;
    b->t0_ns = clock_mono_ns();

    render_config rc;
    render_default_config(&rc);
    rc.lv_width = b->pe->lv_width;
    rc.lv_height = b->pe->lv_height;
    rc.photo_width = b->pe->photo_width;
    rc.photo_height = b->pe->photo_height;
    b->sc = scene_new(o->scene, o->seed);
    b->rd = b->sc ? render_new(b->sc, &rc, o->seed) : NULL;
    if (b->rd == NULL) {
        LOG_ERROR("sim", "sony: cannot make the scene renderer");
        sonysim_free(b);
        return NULL;
    }
    lens_params lp;
    lens_default_params(&lp, o->seed);
    lens_init(&b->lens, &lp, o->seed, 0.15 * lp.range, clock_mono_s());
    b->focus_pos = 0.6 * lp.range; /* starts well out of focus: AF has work to do */
    for (int s = 0; s < N_SLOTS; s++) b->slot_changed[s] = 0;
    if (pthread_create(&b->lv_thread, NULL, lv_main, b) != 0) {
        sonysim_free(b);
        return NULL;
    }
    b->lv_thread_started = true;
    return b;
}

void sonysim_shutdown(sonysim_body *b)
{
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

void sonysim_free(sonysim_body *b)
{
    if (b == NULL) return;
    sonysim_shutdown(b);
    if (b->lv_thread_started) pthread_join(b->lv_thread, NULL);
    blob_unref(b->frame.jpeg);
    for (int i = 0; i < N_POSTVIEWS; i++) blob_unref(b->postviews[i]);
    for (int i = 0; i < b->n_card; i++) blob_unref(b->card[i].jpeg);
    render_free(b->rd);
    scene_free(b->sc);
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    pthread_mutex_destroy(&b->render_lock);
    free(b);
}
