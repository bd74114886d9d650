/*
 * tether/log.h: where libtether's log messages go, and how many.
 *
 * The library writes one line per message to stderr ("12.345 cam-1
 * WARN  gphoto2: ..."), those at the level set here or more severe; the
 * default level is TETHER_LOG_WARN.  A program that wants the messages
 * elsewhere (its own log, a window) sets a handler, which then receives
 * each message instead of stderr.  The level and the handler are one for
 * the whole process, whichever thread sets them.
 *
 * libtether does not read the environment: the programs of tether read
 * TETHER_LOG (error, warn, info, debug) and set the level from it.
 */
#ifndef TETHER_LOG_H
#define TETHER_LOG_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
TETHER_API_BEGIN

typedef enum tether_log_level {
    TETHER_LOG_ERROR = 0,         /* something failed */
    TETHER_LOG_WARN = 1,          /* something went wrong and was dealt with */
    TETHER_LOG_INFO = 2,          /* what a session does: opened, reconnected, files */
    TETHER_LOG_DEBUG = 3,         /* every step, for chasing a problem */
} tether_log_level;

/* Receives one message: its level, the module that wrote it ("camera",
 * "gphoto2"), and the text (one line, no newline; valid during the call
 * only).  Called on the thread that logs, which may be any of the
 * library's threads, several at once: it must be thread-safe, must not
 * block for long, and must not call tether_log_set_handler. */
typedef void (*tether_log_handler)(tether_log_level level, const char *module,
                                   const char *message, void *user);

/* Messages at level or more severe are written; a value out of
 * TETHER_LOG_ERROR..TETHER_LOG_DEBUG is clamped to it.  Any thread. */
void tether_log_set_level(tether_log_level level);

/* The level in force.  Any thread. */
tether_log_level tether_log_get_level(void);

/* Sends each message to fn(level, module, message, user) instead of
 * stderr; fn NULL: back to stderr.  Any thread; once it returns, no call
 * of the previous handler is running or will start, so its user data may
 * be freed. */
void tether_log_set_handler(tether_log_handler fn, void *user);

TETHER_API_END
#ifdef __cplusplus
}
#endif

#endif
