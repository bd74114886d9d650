/*
 * backend: the one interface every kind of camera connection implements
 * (libgphoto2 today; Sony's Camera Remote API and V4L2 later; a scriptable
 * fake in the unit tests), in the manner of libgphoto2's CameraFunctions
 * or curl's vtls.  docs/ARCHITECTURE.md ("How to add a backend") walks
 * through writing one.
 *
 * Threads: a backend object is used by exactly one thread, the camera's
 * owner thread (lib/camera/camera.c); no backend function is called
 * concurrently for one object.  The only exception is a push live-view
 * source (->liveview_start): it may deliver frames from a thread of its
 * own through backend_frame_deliver, until ->liveview_stop returns.
 * Functions of backend_ops that take no backend object (list_cameras,
 * accepts, may_have_moved) may be called from any thread.
 *
 * Errors: functions return 0 or a negative tether_err and leave a detailed
 * message for ->last_error.  A backend reports TETHER_ERR_DISCONNECTED when
 * it knows the link is gone; otherwise the owner thread asks ->probe after
 * an error.  Output objects belong to the caller.
 *
 * Settings: a backend names its own settings (native paths and short
 * names) and maps the canonical names (values.h) onto them in ->resolve.
 * It validates a value with values_parse (lib/camera/values.c) before
 * sending it, so the rules ("1/250" matches "0.0040s", on/off, the list of
 * choices in the error) are the same for every backend.
 *
 * Optional functions are NULL when a backend has no such thing; the
 * session answers TETHER_ERR_NOT_SUPPORTED for them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/blob.h"
#include "base/bytebuf.h"
#include "tether/tether.h"

typedef struct backend backend;

/* Where a download goes: an open file descriptor or a memory buffer. */
typedef struct backend_sink {
    int fd;                 /* >= 0: write here */
    bytebuf *mem;           /* else: append here */
} backend_sink;

/* Where a captured file is. */
typedef enum backend_item_place {
    BACKEND_ITEM_CAMERA,    /* on the camera's card: `where` is its camera path (->download, ->delete_file) */
    BACKEND_ITEM_URL,       /* at a URL the camera serves (Sony's postview): ->download_url */
    BACKEND_ITEM_MEMORY,    /* already here: `data` holds the bytes, `where` a file name ("frame-0001.jpg") */
} backend_item_place;

/* One file of a shot.  The session downloads it (CAMERA, URL) or writes
 * its bytes (MEMORY), and deletes a CAMERA item from the card unless
 * asked to keep it. */
typedef struct backend_item {
    backend_item_place place;
    char where[512];
    char mime[64];          /* "image/jpeg", "image/x-canon-cr2"; "" if unknown */
    uint64_t size;          /* bytes, 0 if unknown before the download */
    blob *data;             /* MEMORY: one reference, released by backend_items_clear */
} backend_item;

/* Releases the items' data references (any thread). */
void backend_items_clear(backend_item *items, int n);

/* One live-view frame as a backend produces it. */
typedef struct backend_frame {
    tether_pixel_format format;
    int width, height;      /* YUYV: required; JPEG: may be 0 */
    size_t stride;          /* YUYV: bytes per row, 0 = width * 2 */
    blob *data;             /* one reference, taken over by whoever receives the frame */
    int64_t time_ns;        /* monotonic time the frame was exposed, 0 = unknown (the session then
                               takes, for a pulled frame, when it asked for it; for a pushed one,
                               when it arrived) */
    int64_t asked_ns;       /* set by the session: when it asked for a pulled frame; 0 for a pushed one */
} backend_frame;

/* The session's end of a push live-view source (lib/camera/camera.c).
 * backend_frame_deliver takes over frame->data, converts a non-JPEG frame
 * to JPEG once and shares it with every watcher.  Any thread; never
 * blocks for long (a frame older than the newest is simply replaced). */
typedef struct backend_frame_sink backend_frame_sink;
void backend_frame_deliver(backend_frame_sink *sink, backend_frame *frame);

typedef struct backend_ops {
    const char *name;       /* "gphoto2", "fake": tether_capabilities.backend */
    /* The backend repeats a call the camera answered "busy" by itself
     * (gphoto2 does, per call); otherwise the session repeats the calls
     * that are safe to repeat (a busy answer means nothing happened):
     * settings, listings, focus commands, captures; up to 10 tries, 20 ms
     * apart doubling to 160 ms. */
    bool retries_busy;
    /* The spec forms this backend accepts, one line each, for the error
     * that lists them all ("usb:BUS,DEV       a USB camera"). */
    const char *spec_help;
    /* Cameras this backend can find by itself (may be NULL).  Fills up to
     * max entries, sets *count to the number found. */
    int (*list_cameras)(tether_camera_info *out, int max, int *count);
    /* Does this backend handle spec ("ptpip:...", "usb:...", "auto")? */
    bool (*accepts)(const char *spec);
    /* After opening spec failed: might the same camera be elsewhere now
     * (a USB camera replugged gets a new "usb:BUS,DEV")?  Then the owner
     * lists this backend's cameras and reopens the one with the same
     * identity.  NULL or false: no search (it costs opening candidates). */
    bool (*may_have_moved)(const char *spec);
    int (*open)(const char *spec, backend **out, char *err, size_t errsz);
    void (*close)(backend *b);
    const char *(*last_error)(backend *b);
    void (*model)(backend *b, char *buf, size_t size);
    /* What this camera can do, filled once per connection right after
     * open (out is zeroed first; settings[] is filled by the session from
     * ->resolve).  Must not fail for want of an answer: unknown is 0. */
    void (*capabilities)(backend *b, tether_capabilities *out);

    int (*summary)(backend *b, char **text);
    int (*settings_list)(backend *b, tether_settings **out);
    /* The native short name or path of a canonical setting ("aperture" ->
     * "f-number"), and whether it can be written; TETHER_ERR_NOT_FOUND if
     * this camera has none.  Never asks the camera (learned at open). */
    int (*resolve)(backend *b, const char *canonical, char *native, size_t size, bool *writable);
    int (*setting_get)(backend *b, const char *path_or_name, tether_setting *out);
    int (*setting_set)(backend *b, const char *path_or_name, const char *value);

    /* Takes a picture; fills items[] with the shot's files (siblings too,
     * e.g. RAW + JPEG), at most TETHER_MAX_SHOT_FILES, and *n. */
    int (*capture)(backend *b, backend_item items[], int *n);
    int (*download)(backend *b, const char *camera_path, backend_sink *sink);
    /* A BACKEND_ITEM_URL item's bytes (may be NULL if it never gives URLs). */
    int (*download_url)(backend *b, const char *url, backend_sink *sink);
    int (*delete_file)(backend *b, const char *camera_path);
    int (*list_files)(backend *b, tether_file_list **out);
    /* The program is done with the card for now: a backend that switched
     * the camera to a mode of its own for the files (a Sony body's
     * Contents Transfer) puts it back to shooting.  May be NULL. */
    int (*card_release)(backend *b);

    /* Live view, pulled: one frame (starting live view if needed), on the
     * owner's loop.  A backend that pushes sets this NULL. */
    int (*preview)(backend *b, backend_frame *out);
    /* Live view, pushed: starts a source (a thread of the backend's own)
     * that calls backend_frame_deliver until ->liveview_stop returns.
     * NULL for a pulling backend, whose frames the owner's loop fetches
     * with ->preview. */
    int (*liveview_start)(backend *b, backend_frame_sink *sink);
    /* Switches the camera's live view off (may be NULL). */
    int (*liveview_stop)(backend *b);
    /* Magnified live view (optional): factor 1 ends it; cx, cy in 0..1. */
    int (*liveview_zoom)(backend *b, int factor, double cx, double cy);

    /* The next event within timeout_ms, or TETHER_ERR_TIMEOUT. */
    int (*wait_event)(backend *b, int timeout_ms, tether_event *ev);
    /* One relative focus command: direction +1 near, -1 far; step
     * 1..caps.focus.n_steps (optional).  The session paces commands. */
    int (*focus_drive)(backend *b, int direction, int step);
    /* Absolute focus (optional): a position within caps.focus.min..max. */
    int (*focus_set)(backend *b, int position);
    int (*focus_get)(backend *b, int *position);
    /* A cheap round trip: 0 if the camera still answers. */
    int (*probe)(backend *b);
} backend_ops;

/* The registry: the first backend that accepts the spec opens it. */
const backend_ops *backend_for_spec(const char *spec);
/* Every backend's cameras (see tether_list_cameras). */
int backend_list_cameras(tether_camera_info *out, int max, int *count);
/* One backend's cameras, with the backend's name filled in. */
int backend_list_one(const backend_ops *ops, tether_camera_info *out, int max, int *count);
/* Every backend's spec forms, one per line, into buf. */
void backend_spec_forms(char *buf, size_t size);
/* Adds a backend ahead of the built-in ones (the unit tests' fake).
 * Call before opening cameras; not thread-safe against opens. */
void backend_register(const backend_ops *ops);

extern const backend_ops backend_gphoto2;
extern const backend_ops backend_sony;
extern const backend_ops backend_v4l2;
