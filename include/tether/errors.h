/*
 * errors.h: libtether's error codes.
 *
 * Every library function that can fail returns an int: 0 (TETHER_OK) or a
 * negative tether_err.  The list is append-only; numbers never change.
 * tether_strerror() gives a short English message, tether_err_name() the
 * stable identifier (used in JSON output), and each camera keeps the last
 * detailed message (tether_camera_last_error).
 *
 * DISK_FULL and STORAGE are local failures (this machine's disk: full, or
 * read-only, missing, no permission), never the camera's: a program says
 * them as such (the studio answers 507 and 500 with "storage_*" codes).
 */
#ifndef TETHER_ERRORS_H
#define TETHER_ERRORS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
TETHER_API_BEGIN

#define TETHER_ERRNO_MAP(X)                                                        \
    X(OK, 0, "success")                                                            \
    X(INVALID_ARGUMENT, -1, "invalid argument")                                    \
    X(NO_MEMORY, -2, "out of memory")                                              \
    X(NO_CAMERA, -3, "no camera found")                                            \
    X(NOT_FOUND, -4, "not found")                                                  \
    X(NOT_SUPPORTED, -5, "not supported by this camera")                           \
    X(BUSY, -6, "camera busy")                                                     \
    X(TIMEOUT, -7, "timed out")                                                    \
    X(DISCONNECTED, -8, "camera disconnected")                                     \
    X(IO, -9, "input/output error")                                                \
    X(CAMERA, -10, "the camera refused")                                           \
    X(READ_ONLY, -11, "setting is read-only")                                      \
    X(BAD_VALUE, -12, "value not accepted")                                        \
    X(BUFFER_TOO_SMALL, -13, "buffer too small")                                   \
    X(CANCELLED, -14, "cancelled")                                                 \
    X(EXISTS, -15, "already exists")                                               \
    X(CLOSED, -16, "camera handle is closing")                                     \
    X(CARD_FULL, -17, "memory card full")                                          \
    X(DISK_FULL, -18, "the disk is full")                                          \
    X(STORAGE, -19, "cannot write to the photo folder")                            \
    X(END_STOP, -20, "the lens is at the end of its focus travel")

typedef enum tether_err {
#define TETHER_ERR_ENUM(name, num, msg) TETHER_ERR_##name = (num),
    TETHER_ERRNO_MAP(TETHER_ERR_ENUM)
#undef TETHER_ERR_ENUM
} tether_err;

#define TETHER_OK TETHER_ERR_OK

/* A short message for err ("camera disconnected"); static storage. */
const char *tether_strerror(int err);
/* The identifier of err ("DISCONNECTED"); static storage. */
const char *tether_err_name(int err);

TETHER_API_END
#ifdef __cplusplus
}
#endif

#endif
