/*
 * log: leveled, thread-aware logging to stderr for every part of tether.
 *
 * One global level, set once at start-up (log_set_level) or from the
 * TETHER_LOG environment variable (error, warn, info, debug).  The macros
 * check the level before evaluating their arguments, so a disabled
 * LOG_DEBUG costs one comparison.  Each line carries a monotonic timestamp,
 * the thread's name (log_set_thread_name) and the module, e.g.
 *
 *     12.345 sim-cmd  ptpip: op 0x1009 tid 12 -> 0x2001
 *
 * A sink (log_set_sink) receives the lines instead of stderr: libtether's
 * public tether_log_set_handler (include/tether/log.h) sets one.  The
 * level and the sink are this module's state, one per copy of the common
 * base: a program that links libtether statically (as tether's programs
 * do) shares them with the library; one that links the shared library
 * sets the library's through tether_log_set_level and
 * tether_log_set_handler.
 *
 * Thread safety: every function may be called from any thread; a line is
 * written with one write() so lines from different threads never interleave.
 */
#pragma once

#include <stdarg.h>

typedef enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
} log_level;

extern _Atomic int log_g_level;

/* Sets the global level; read by the macros below (an atomic int). */
void log_set_level(log_level level);

/* The global level. */
log_level log_get_level(void);

/* Receives a line instead of stderr: its level, module and text (no
 * prefix, no newline; valid during the call).  Called on the logging
 * thread, under a read lock: it must not call log_set_sink. */
typedef void (*log_sink_fn)(log_level level, const char *module, const char *message, void *user);

/* Sends every line to fn(..., user) from now on; fn NULL: to stderr.
 * Once it returns, no call of the previous sink is running. */
void log_set_sink(log_sink_fn fn, void *user);

/* Reads TETHER_LOG (error|warn|info|debug) if set; keeps the level otherwise. */
void log_init_from_env(void);

/* Names the calling thread in log lines (copied, at most 15 characters). */
void log_set_thread_name(const char *name);

/* Writes one line. Prefer the macros. */
void log_write(log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, module, ...)                                              \
    do {                                                                      \
        if ((int)(lvl) <= log_g_level) log_write((lvl), (module), __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(module, ...) LOG_AT(LOG_LEVEL_ERROR, module, __VA_ARGS__)
#define LOG_WARN(module, ...) LOG_AT(LOG_LEVEL_WARN, module, __VA_ARGS__)
#define LOG_INFO(module, ...) LOG_AT(LOG_LEVEL_INFO, module, __VA_ARGS__)
#define LOG_DEBUG(module, ...) LOG_AT(LOG_LEVEL_DEBUG, module, __VA_ARGS__)
