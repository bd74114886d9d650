/*
 * backend: the one interface every kind of camera connection implements
 * (libgphoto2 today; Sony's Camera Remote API and V4L2 later), in the
 * manner of libgphoto2's CameraFunctions or curl's vtls.
 *
 * A backend object is used by exactly one thread, the camera's owner
 * thread (lib/camera/camera.c); no backend function is called concurrently
 * for one object.  Functions return 0 or a negative tether_err and leave a
 * detailed message for ->last_error.  Output objects belong to the caller.
 * A backend reports TETHER_ERR_DISCONNECTED when it knows the link is gone;
 * otherwise the owner thread asks ->probe after an error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/blob.h"
#include "base/bytebuf.h"
#include "tether/tether.h"

typedef struct backend backend;

/* Where a download goes: an open file descriptor or a memory buffer. */
typedef struct backend_sink {
    int fd;                 /* >= 0: write here */
    bytebuf *mem;           /* else: append here */
} backend_sink;

typedef struct backend_ops {
    const char *name;
    /* Cameras this backend can find by itself (may be NULL). */
    int (*list_cameras)(tether_camera_info *out, int max, int *count);
    /* Does this backend handle spec ("ptpip:...", "usb:...", "auto")? */
    bool (*accepts)(const char *spec);
    int (*open)(const char *spec, backend **out, char *err, size_t errsz);
    void (*close)(backend *b);
    const char *(*last_error)(backend *b);
    void (*model)(backend *b, char *buf, size_t size);

    int (*summary)(backend *b, char **text);
    int (*settings_list)(backend *b, tether_settings **out);
    int (*setting_get)(backend *b, const char *path_or_name, tether_setting *out);
    int (*setting_set)(backend *b, const char *path_or_name, const char *value);

    /* Takes a picture; returns the camera paths of the new files (the
     * shot's siblings too, e.g. RAW + JPEG), at most TETHER_MAX_SHOT_FILES. */
    int (*capture)(backend *b, char paths[][512], int *n);
    int (*download)(backend *b, const char *camera_path, backend_sink *sink);
    int (*delete_file)(backend *b, const char *camera_path);
    int (*list_files)(backend *b, tether_file_list **out);
    /* One live-view JPEG (starting live view if needed). */
    int (*preview)(backend *b, blob **jpeg);
    /* Switches the camera's live view off (may be NULL). */
    int (*preview_stop)(backend *b);
    /* The next event within timeout_ms, or TETHER_ERR_TIMEOUT. */
    int (*wait_event)(backend *b, int timeout_ms, tether_event *ev);
    int (*focus_drive)(backend *b, int direction, int step);
    /* A cheap round trip: 0 if the camera still answers. */
    int (*probe)(backend *b);
} backend_ops;

/* The registry: the first backend that accepts the spec opens it. */
const backend_ops *backend_for_spec(const char *spec);
int backend_list_cameras(tether_camera_info *out, int max, int *count);

extern const backend_ops backend_gphoto2;
