/*
 * tether.h: the public API of libtether, tethered camera control.
 *
 * A tether_camera is a session with one camera.  Each camera has one owner
 * thread inside the library that makes every call into the camera driver
 * (libgphoto2 today), one at a time, from a job queue: the API functions
 * may be called from any thread, concurrently, and never make two driver
 * calls for one camera at once (the usual cause of "camera busy" lock-ups).
 * Every call waits at most its timeout (tether_camera_set_timeout), and long
 * jobs (captures in a series, downloads, waits) stop at tether_camera_cancel.
 *
 * When the camera goes away (cable pulled, Wi-Fi lost, body off), calls
 * fail fast with TETHER_ERR_DISCONNECTED, a TETHER_EVENT_CAMERA_LOST event
 * is queued, and the owner thread reopens the session by itself when the
 * camera answers again (TETHER_EVENT_CAMERA_BACK).
 *
 * Conventions: functions return 0 or a negative tether_err (errors.h).
 * Strings passed in are copied.  Objects returned through an out-pointer
 * belong to the caller, who frees them with the matching _free/_unref.
 * The last detailed error message of a camera is tether_camera_last_error.
 */
#ifndef TETHER_TETHER_H
#define TETHER_TETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "focus.h"

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
TETHER_API_BEGIN

/* The library's version, "MAJOR.MINOR.PATCH" (static storage). */
const char *tether_version(void);

/* ---- discovery ------------------------------------------------------------ */

typedef struct tether_camera_info {
    char model[128];        /* "Canon EOS 550D" */
    char spec[160];         /* what tether_camera_open takes: "usb:001,004" */
    char backend[32];       /* the backend that found it: "gphoto2" */
} tether_camera_info;

/* Lists the cameras every backend can find by itself (USB cameras
 * through gphoto2; PTP/IP cameras are not discoverable: name them).
 * Fills up to max entries and sets *count to the number found (which may
 * exceed max).  Returns 0 or an error.  Any thread. */
int tether_list_cameras(tether_camera_info *out, int max, int *count);
/* The spec forms every backend accepts, one per line ("usb:BUS,DEV  a USB
 * camera"...), copied into buf (static text; any thread). */
void tether_spec_forms(char *buf, size_t size);

/* ---- sessions --------------------------------------------------------------- */

typedef struct tether_camera tether_camera;

/* Opens a camera.  spec:
 *   "auto"                the first camera found over USB
 *   "usb:BUS,DEV"         a USB camera ("usb:001,004", as tether_list_cameras gives)
 *   "ptpip:HOST[:PORT]"   a PTP/IP (Wi-Fi) camera; IPv4 address; PORT default 15740,
 *                         used for both the command and the event connection
 * On success *out is the session (close it with tether_camera_close).  On
 * failure *out is NULL and, if errbuf is not NULL, errbuf gets the reason.
 * Blocks until the camera answered (or timeout_ms, 0 = 30 s). */
int tether_camera_open(const char *spec, int timeout_ms, tether_camera **out, char *errbuf,
                       size_t errsz);
/* Ends the session: cancels running jobs, stops the owner thread, closes
 * the camera.  NULL is allowed.  Must not be called twice or concurrently
 * with other calls on the same handle. */
void tether_camera_close(tether_camera *cam);

/* Per-call timeout in milliseconds for calls without their own (default
 * 30000).  Any thread. */
void tether_camera_set_timeout(tether_camera *cam, int timeout_ms);
/* Cancels the running job and everything queued; they return
 * TETHER_ERR_CANCELLED.  Any thread. */
void tether_camera_cancel(tether_camera *cam);
/* Holds the camera ready for a job that must start without delay (a
 * synchronised capture): while held, the owner thread starts nothing of
 * its own (no live-view fetch, no event look, no reopen), so the next call
 * reaches the camera at once; live view and events pause meanwhile.
 * hold=true adds a hold and waits up to timeout_ms until the owner is
 * idle (it finishes what it was doing, e.g. one live-view frame); returns
 * 0, TETHER_ERR_TIMEOUT, TETHER_ERR_DISCONNECTED or TETHER_ERR_CLOSED.
 * The hold is taken whatever it returns: release each with hold=false
 * (returns 0).  Holds count; any thread. */
int tether_camera_hold(tether_camera *cam, bool hold, int timeout_ms);
/* The last detailed error message of this camera, copied into buf
 * (empty if none).  Any thread. */
void tether_camera_last_error(tether_camera *cam, char *buf, size_t size);
/* True while the session is up (false while lost and reconnecting). */
bool tether_camera_connected(tether_camera *cam);
/* The camera's model name, copied into buf.  Any thread. */
void tether_camera_model(tether_camera *cam, char *buf, size_t size);
/* The camera's identity across connections, "MODEL SERIAL" (just the
 * model when the camera gives no serial number), copied into buf.  Read
 * from the camera once per connection, so it never waits for the camera;
 * any thread. */
void tether_camera_identity(tether_camera *cam, char *buf, size_t size);

/* A human-readable summary (the driver's), malloc'ed into *text. */
int tether_camera_summary(tether_camera *cam, char **text);

/* ---- settings ------------------------------------------------------------------ */

typedef enum tether_setting_type {
    TETHER_SETTING_TEXT,
    TETHER_SETTING_RANGE,
    TETHER_SETTING_TOGGLE,
    TETHER_SETTING_CHOICE,
    TETHER_SETTING_DATE,
    TETHER_SETTING_ACTION,
} tether_setting_type;

typedef struct tether_setting {
    char path[256];         /* full path: "/main/imgsettings/iso" */
    char name[64];          /* short name: "iso" */
    char label[128];        /* "ISO Speed" */
    tether_setting_type type;
    bool read_only;
    char value[256];        /* current value as text ("400", "1/250", "1", epoch seconds) */
    double min, max, step;  /* RANGE */
    int n_choices;          /* CHOICE */
    char **choices;         /* CHOICE: n_choices strings */
    char canonical[32];     /* the name every backend shares ("shutterspeed"), or "" */
} tether_setting;

typedef struct tether_settings {
    tether_setting *items;
    int count;
} tether_settings;

/* Reads every setting (the leaves of the camera's tree, with their full
 * paths).  Free with tether_settings_free. */
int tether_settings_list(tether_camera *cam, tether_settings **out);
void tether_settings_free(tether_settings *s);
/* Reads one setting by canonical name (tether_setting_canonical_names),
 * full native path or native short name into *out (free its choices with
 * tether_setting_clear).  A canonical name wins over a native short name
 * that is spelt the same.  TETHER_ERR_NOT_FOUND if none. */
int tether_setting_get(tether_camera *cam, const char *path_or_name, tether_setting *out);
void tether_setting_clear(tether_setting *s);
/* The canonical setting names, NULL-terminated (static storage): iso,
 * aperture, shutterspeed, exposurecompensation, whitebalance, focusmode,
 * imageformat, drivemode, exposuremode, battery, shotsleft, serialnumber.
 * Each backend maps them to its own settings; values keep the camera's
 * own spelling.  Any thread. */
const char *const *tether_setting_canonical_names(void);
/* A value of the canonical setting canonical as a photographer reads it:
 * shutter speeds as 1/60 or 2" (a Nikon's "0.0167s" included, snapped to
 * the nearest third-stop mark), apertures as f/5.6, exposure compensation
 * signed (+0.7, -1.3, 0).  Anything else, or a value it cannot read, is
 * copied as it is: the camera's own spelling stays what is set.  Writes
 * at most size bytes, NUL-terminated, to out and returns out.  Pure; any
 * thread. */
const char *tether_value_words(const char *canonical, const char *value, char *out, size_t size);

/* Sets a setting (canonical name, native path or short name) from text:
 * a choice's label (or a number matching one: "1/250" picks "0.0040s",
 * "8" picks "f/8"), a number within the range, 0/1 (or on/off) for
 * toggles, epoch seconds or "now" for dates; an action is triggered by
 * any value.  TETHER_ERR_READ_ONLY, TETHER_ERR_BAD_VALUE
 * (the message lists what is accepted), TETHER_ERR_NOT_FOUND, or the
 * camera's refusal (TETHER_ERR_CAMERA). */
int tether_setting_set(tether_camera *cam, const char *path_or_name, const char *value);

/* ---- frames (live view) -------------------------------------------------------------- */

/* What a backend's live view delivers; every frame a program sees is
 * JPEG (libtether converts the others once, whoever watches). */
typedef enum tether_pixel_format {
    TETHER_PIXEL_JPEG = 0,
    TETHER_PIXEL_YUYV = 1,  /* packed 4:2:2, Y0 Cb Y1 Cr (V4L2_PIX_FMT_YUYV) */
} tether_pixel_format;

typedef struct tether_frame tether_frame;

/* One live-view frame, a JPEG.  Frames are immutable and
 * reference-counted: hold one as long as you like, from any thread. */
const uint8_t *tether_frame_data(const tether_frame *f);
size_t tether_frame_size(const tether_frame *f);
/* Monotonic time the frame arrived, in nanoseconds. */
int64_t tether_frame_time_ns(const tether_frame *f);
/* Monotonic time the frame was exposed, as well as the session can tell
 * (nanoseconds): for live view asked for frame by frame (PTP cameras),
 * when it was asked for (the camera gives its newest frame); for a pushed
 * stream, the device's own time where it gives one, else when the frame
 * arrived.  What the focus tools take as the moment the frame shows. */
int64_t tether_frame_exposed_ns(const tether_frame *f);
/* For live view asked for frame by frame: how long the camera's owner
 * thread was busy fetching this frame, from asking to having it
 * (nanoseconds); 0 for a pushed stream.  A command sent right after a
 * frame waits about this long for the next fetch to end (trap focus
 * counts on it). */
int64_t tether_frame_fetch_ns(const tether_frame *f);
tether_frame *tether_frame_ref(tether_frame *f);
void tether_frame_unref(tether_frame *f);

/* Takes the next live-view frame (starting live view if needed).
 * *out gets one reference.  A camera that pushes its stream (a Sony
 * body) opens and closes it around each call: for a run of frames,
 * subscribe (tether_liveview_subscribe) and take them with
 * tether_liveview_next. */
int tether_preview(tether_camera *cam, tether_frame **out);

/* Live view for any number of watchers: while at least one is
 * subscribed, the owner thread pulls frames from the camera between jobs
 * (a capture or a setting interleaves with it) and keeps the newest; when
 * the last one leaves, the camera's live view is switched off.  Frames are
 * shared, never copied per watcher; a slow watcher simply skips frames.
 * Any thread. */
void tether_liveview_subscribe(tether_camera *cam);
void tether_liveview_unsubscribe(tether_camera *cam);
/* Waits up to timeout_ms for a frame newer than *seq; on success *out
 * gets a reference to the newest frame and *seq its number.  Returns
 * TETHER_ERR_TIMEOUT, TETHER_ERR_DISCONNECTED (camera lost) or
 * TETHER_ERR_CLOSED otherwise. */
int tether_liveview_next(tether_camera *cam, uint64_t *seq, int timeout_ms, tether_frame **out);

/* Magnified live view centred on (cx, cy) in fractions of the frame
 * (0..1); factor 1 ends it.  The factors offered are the camera's (Canon
 * EOS: 5 and 10; see tether_capabilities.focus.zoom_max); another is
 * TETHER_ERR_BAD_VALUE, a camera without it TETHER_ERR_NOT_SUPPORTED.
 * Any thread; runs on the owner thread like every camera call. */
int tether_liveview_zoom(tether_camera *cam, int factor, double cx, double cy);

/* ---- capture ------------------------------------------------------------------------------- */

typedef struct tether_capture_options {
    const char *dir;        /* where files go (created if missing); NULL = "." */
    const char *name_template; /* see tether_name_expand; NULL = "{name}" */
    const char *session;    /* for {session}; NULL = "" */
    bool keep_on_card;      /* do not delete the camera's copy */
} tether_capture_options;

enum { TETHER_MAX_SHOT_FILES = 4 };

typedef struct tether_shot {
    int n_files;
    char files[TETHER_MAX_SHOT_FILES][1024];   /* local paths written */
    char camera_files[TETHER_MAX_SHOT_FILES][512]; /* paths on the camera */
} tether_shot;

/* Takes a picture and downloads it (and its RAW or JPEG sibling) into
 * opts->dir under names from the template; files are written atomically
 * and never overwrite an existing file.  When this machine cannot store a
 * file: TETHER_ERR_DISK_FULL or TETHER_ERR_STORAGE (the last error names
 * the folder and the reason), no partial file, and the picture stays on
 * the card even without keep_on_card. */
int tether_capture(tether_camera *cam, const tether_capture_options *opts, tether_shot *shot);

/* Takes a picture and copies the (first) file into buf.  If it does not
 * fit, returns TETHER_ERR_BUFFER_TOO_SMALL with *len = the size needed,
 * writes nothing, and keeps the image: tether_capture_fetch gets it. */
int tether_capture_to_buffer(tether_camera *cam, uint8_t *buf, size_t cap, size_t *len);
/* Copies the last captured image again (same rules); no new picture. */
int tether_capture_fetch(tether_camera *cam, uint8_t *buf, size_t cap, size_t *len);

/* ---- files on the camera ----------------------------------------------------------------- */

typedef struct tether_file {
    char path[512];         /* "/store_00010001/DCIM/100CANON/IMG_0001.JPG" */
    uint64_t size;
    int64_t mtime;          /* epoch seconds, 0 if unknown */
    char mime[64];
} tether_file;

typedef struct tether_file_list {
    tether_file *items;
    int count;
} tether_file_list;

int tether_files_list(tether_camera *cam, tether_file_list **out);
void tether_file_list_free(tether_file_list *l);
/* Downloads a camera file to local_path (atomically: temporary name,
 * fsync, rename).  TETHER_ERR_EXISTS if local_path exists; DISK_FULL or
 * STORAGE if it cannot be written here. */
int tether_file_download(tether_camera *cam, const char *camera_path, const char *local_path);
/* Downloads a camera file into the open file fd, from its current offset
 * (the caller checks the size, syncs and names the file: an importer that
 * batches its fsyncs).  The library writes through its own duplicate of
 * fd, so the caller may close fd whenever it likes, even after a timeout.
 * Returns 0 or an error; what was written is then incomplete (DISK_FULL or
 * STORAGE: writing to fd failed, the camera is fine). */
int tether_file_download_fd(tether_camera *cam, const char *camera_path, int fd);
int tether_file_delete(tether_camera *cam, const char *camera_path);
/* Says the program is done with the card for now (an import ended): a
 * camera that had to leave shooting for its files (a Sony body in
 * Contents Transfer) goes back to shooting, so its own shutter button
 * and live view work again without waiting for the next capture.  For
 * other cameras it does nothing.  Any thread; runs on the owner thread.
 * Returns 0 or the camera's error (the camera stays as it was). */
int tether_card_release(tether_camera *cam);

/* ---- focus --------------------------------------------------------------------------------- */

/* Drives the focus motor: direction +1 near, -1 far; step 1..n_steps of
 * the camera's focus caps (Canon's Near/Far 1, 2, 3; mapped to Nikon
 * MfDrive units 10, 43, 300); count commands one after the other, each
 * followed by the caps' pace_ms for its size.  Starts live view if the
 * camera needs it.  TETHER_ERR_INVALID_ARGUMENT for a step outside 1..3
 * or a count outside 1..10000, TETHER_ERR_BAD_VALUE for a step this
 * camera does not offer, TETHER_ERR_NOT_SUPPORTED without relative focus. */
int tether_focus_drive(tether_camera *cam, int direction, int step, int count);

/* Absolute focus (TETHER_FOCUS_ABSOLUTE: a position within the caps'
 * min..max); TETHER_ERR_NOT_SUPPORTED otherwise, TETHER_ERR_BAD_VALUE
 * outside the range.  Any thread. */
int tether_focus_set(tether_camera *cam, int position);
int tether_focus_get(tether_camera *cam, int *position);

/* ---- capabilities ------------------------------------------------------------------------------ */

typedef enum tether_focus_kind {
    TETHER_FOCUS_NONE = 0,
    TETHER_FOCUS_RELATIVE,      /* steps toward near/far (Canon, Nikon) */
    TETHER_FOCUS_ABSOLUTE,      /* a position in a range (V4L2 focus_absolute) */
} tether_focus_kind;

typedef struct tether_focus_caps {
    tether_focus_kind kind;
    int n_steps;                /* RELATIVE: drive sizes offered (tether_focus_drive's step 1..n_steps) */
    int step_units[3];          /* RELATIVE: each size in units of the smallest, 0 = unknown */
    int pace_ms[3];             /* RELATIVE: pause after a command of that size before the next */
    int backlash;               /* RELATIVE: in smallest steps, -1 = unknown */
    int min, max;               /* ABSOLUTE: the position range */
    int zoom_max;               /* largest magnified live-view factor, 1 = none */
    int sensor_width, sensor_height; /* pixels of a full-size capture, 0 = unknown */
} tether_focus_caps;

enum { /* tether_capabilities.bits */
    TETHER_CAP_CAPTURE_TO_CARD = 1 << 0,
    TETHER_CAP_CAPTURE_TO_HOST = 1 << 1,
    TETHER_CAP_CARD_FILES = 1 << 2,      /* files on the camera: list, download, delete */
    TETHER_CAP_LIVEVIEW = 1 << 3,
    TETHER_CAP_LIVEVIEW_PUSH = 1 << 4,
    TETHER_CAP_HALF_PRESS = 1 << 5,      /* autofocus on the body */
    TETHER_CAP_ZOOM = 1 << 6,            /* magnified live view */
    TETHER_CAP_BODY_SHOTS = 1 << 7,      /* reports shots taken with its own button */
    TETHER_CAP_SETTINGS = 1 << 8,
};

enum { TETHER_MAX_CANONICAL = 32 };

typedef struct tether_capabilities {
    char backend[32];           /* "gphoto2", "fake", later "sony", "v4l2" */
    uint32_t bits;
    uint32_t liveview_formats;  /* bits of 1 << tether_pixel_format */
    tether_focus_caps focus;
    int n_settings;             /* canonical settings this camera has ... */
    char settings[TETHER_MAX_CANONICAL][32]; /* ... their canonical names */
    uint32_t writable;          /* bit i: settings[i] is writable */
} tether_capabilities;

/* The camera's capabilities, read by the owner thread on each connection
 * (so this never waits for the camera); any thread.  Returns 0, or
 * TETHER_ERR_DISCONNECTED before the first connection (*out zeroed). */
int tether_camera_capabilities(tether_camera *cam, tether_capabilities *out);

/* ---- events ------------------------------------------------------------------------------------ */

typedef enum tether_event_type {
    TETHER_EVENT_NONE = 0,
    TETHER_EVENT_FILE_ADDED,        /* path: on the camera; local: if downloaded (tethered) */
    TETHER_EVENT_CAPTURE_COMPLETE,
    TETHER_EVENT_SETTING_CHANGED,   /* path: the setting's short name ("iso") and detail its new
                                       value; both empty/raw text if the camera did not say */
    TETHER_EVENT_CAMERA_LOST,       /* detail: why */
    TETHER_EVENT_CAMERA_BACK,
} tether_event_type;

typedef struct tether_event {
    tether_event_type type;
    char path[512];
    char local[1024];
    char detail[256];
    int64_t time_ns;                /* monotonic */
    char camera[256];               /* the camera's identity, "MODEL SERIAL" (tether_camera_identity) */
    unsigned dropped;               /* events this subscriber lost just before this one (its ring overflowed) */
} tether_event;

/* Waits up to timeout_ms for the next event.  Returns 0 with the event,
 * TETHER_ERR_TIMEOUT, or TETHER_ERR_CLOSED while the camera closes.  The
 * camera watches for events while anyone has called this in the last
 * 10 s, a subscription is open, or tethered mode is on.  This is one
 * built-in subscription, made at open: concurrent callers share it (each
 * event goes to one of them).  Any thread. */
int tether_wait_event(tether_camera *cam, int timeout_ms, tether_event *out);

/* A subscription gets every event queued after it was made, in order,
 * whoever else subscribes (a ring of 256 per subscriber; a slow one loses
 * its oldest, and the next event it gets says how many in `dropped`).
 * Subscribe and unsubscribe from any thread; one thread at a time calls
 * tether_events_next on a subscription.  Unsubscribe every subscription
 * before tether_camera_close. */
typedef struct tether_event_sub tether_event_sub;
/* *out gets the subscription.  TETHER_ERR_NO_MEMORY or TETHER_ERR_CLOSED. */
int tether_events_subscribe(tether_camera *cam, tether_event_sub **out);
/* Waits up to timeout_ms for the subscription's next event: 0,
 * TETHER_ERR_TIMEOUT or TETHER_ERR_CLOSED (the camera is closing). */
int tether_events_next(tether_event_sub *sub, int timeout_ms, tether_event *out);
/* Ends a subscription (NULL is allowed); a waiter in tether_events_next
 * must have returned first. */
void tether_events_unsubscribe(tether_event_sub *sub);

/* Tethered mode: files the camera adds (shots taken with its own button)
 * are downloaded into dir as they appear, named from the template, and
 * reported as TETHER_EVENT_FILE_ADDED with `local` set (empty if it could
 * not be saved: `detail` says why, and the file stays on the card).  dir
 * NULL stops. */
int tether_tethered(tether_camera *cam, const char *dir, const char *name_template,
                    bool keep_on_card);
/* The same with a capture's options (opts->session fills {session});
 * opts NULL stops.  Returns 0, TETHER_ERR_BAD_VALUE for a bad template, or
 * a storage error when the folder cannot be made.  Any thread. */
int tether_tethered_options(tether_camera *cam, const tether_capture_options *opts);

/* ---- file names --------------------------------------------------------------------------------- */

typedef struct tether_name_vars {
    int counter;            /* {counter}, {counter:03d} */
    int64_t time;           /* {timestamp}, {timestamp:%Y%m%d-%H%M%S} (local time) */
    const char *model;      /* {model} (spaces become '-') */
    const char *session;    /* {session} */
    const char *name;       /* {name}: the camera's file name without extension */
    const char *ext;        /* {ext}: the extension, lower case, without the dot */
} tether_name_vars;

/* Expands a naming template (the picamera capture_continuous syntax plus
 * {model}, {session}, {name}, {ext}) into out.  A template without {ext}
 * gets ".{ext}" appended, replacing a literal extension it ends with
 * ("shot-{counter}.jpg" gives shot-1.cr2 for a RAW file).  Characters that cannot be in a file name ('/'
 * from a variable, control characters) are replaced by '_'.  Returns 0,
 * TETHER_ERR_BAD_VALUE for an unknown or malformed field (the message is
 * in errbuf if given), or TETHER_ERR_BUFFER_TOO_SMALL. */
int tether_name_expand(const char *tmpl, const tether_name_vars *v, char *out, size_t size,
                       char *errbuf, size_t errsz);

/* Reads a name back: when file is a name tmpl gives (its literal text, a
 * number where {counter} is, any text where the other fields are, and the
 * file's extension), *counter gets that number.  Returns 0,
 * TETHER_ERR_NOT_FOUND when file does not have that shape or the template
 * has no {counter}, TETHER_ERR_BAD_VALUE for a template tether_name_expand
 * refuses.  Any thread; nothing to free. */
int tether_name_counter(const char *tmpl, const char *file, int *counter);

/* The highest {counter} among the names tmpl gave in the folder dir (its
 * hidden files left out) into *highest: 0 if none, or if the template has
 * no {counter} or the folder does not exist.  Returns 0,
 * TETHER_ERR_BAD_VALUE for a bad template, TETHER_ERR_STORAGE when the
 * folder cannot be read.  Any thread. */
int tether_name_counter_in_dir(const char *dir, const char *tmpl, int *highest);

/* The numbers up to `last` are used for tmpl (a program's other folders,
 * its catalog): the session's next {counter} with that template is at
 * least last + 1.  A session numbers each template on its own: its
 * counter starts after the highest number the template already has in the
 * capture's (or tethered download's) folder, and after what this call
 * said, and never goes down while the template stays the same, across
 * reconnects too.  Returns 0, TETHER_ERR_INVALID_ARGUMENT for a NULL
 * template or a negative last.  Any thread. */
int tether_counter_continue(tether_camera *cam, const char *tmpl, int last);

TETHER_API_END
#ifdef __cplusplus
}
#endif

#endif
