/*
 * log: see log.h.  Formats into a stack buffer and emits it with a single
 * write(2) so concurrent lines stay whole, or hands it to the sink.  The
 * thread name lives in a thread-local buffer; the sink is read under a
 * read-write lock, so that log_set_sink can wait for the calls of the
 * previous one to end.
 */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

_Atomic int log_g_level = LOG_LEVEL_WARN;

static _Thread_local char thread_name[16] = "main";

static pthread_rwlock_t sink_lock = PTHREAD_RWLOCK_INITIALIZER;
static log_sink_fn sink_fn;    /* under sink_lock */
static void *sink_user;        /* under sink_lock */

void log_set_level(log_level level)
{
    log_g_level = (int)level;
}

log_level log_get_level(void)
{
    return (log_level)log_g_level;
}

void log_set_sink(log_sink_fn fn, void *user)
{
    pthread_rwlock_wrlock(&sink_lock);
    sink_fn = fn;
    sink_user = fn != NULL ? user : NULL;
    pthread_rwlock_unlock(&sink_lock);
}

void log_init_from_env(void)
{
    const char *env = getenv("TETHER_LOG");
    if (env == NULL) return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(env, names[i]) == 0) log_g_level = i;
    }
}

void log_set_thread_name(const char *name)
{
    snprintf(thread_name, sizeof thread_name, "%s", name);
}

void log_write(log_level level, const char *module, const char *fmt, ...)
{
    static const char *const tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = snprintf(line, sizeof line, "%ld.%03ld %-8s %s %s: ",
                     (long)ts.tv_sec, ts.tv_nsec / 1000000L, thread_name,
                     tags[level], module);
    if (n < 0) return;
    int start = n; /* where the message begins, after the prefix */
    if ((size_t)n < sizeof line) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0) n += m;
    }
    if ((size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
    if (start > n) start = n;
    line[n] = '\0';
    pthread_rwlock_rdlock(&sink_lock);
    if (sink_fn != NULL) {
        sink_fn(level, module, line + start, sink_user);
        pthread_rwlock_unlock(&sink_lock);
        return;
    }
    pthread_rwlock_unlock(&sink_lock);
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
