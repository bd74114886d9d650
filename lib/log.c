/*
 * log: libtether's public logging API (include/tether/log.h) over the
 * common base's log module (common/base/log.c), whose level and sink are
 * the library's.
 *
 * A handler is installed as the base's sink through an adapter (deliver)
 * whose user data is one of two slots holding the handler and its user
 * data.  Setting a handler fills the slot not in use and installs it in
 * one step, so no message falls back to stderr meanwhile; the base's
 * log_set_sink returns only once no call of the previous sink runs, so
 * the other slot is free for the next change.  set_lock serializes the
 * setters.
 */
#include "tether/log.h"

#include <pthread.h>

#include "base/log.h"

_Static_assert((int)TETHER_LOG_ERROR == (int)LOG_LEVEL_ERROR && (int)TETHER_LOG_WARN == (int)LOG_LEVEL_WARN &&
                   (int)TETHER_LOG_INFO == (int)LOG_LEVEL_INFO && (int)TETHER_LOG_DEBUG == (int)LOG_LEVEL_DEBUG,
               "tether_log_level and log_level agree");

typedef struct handler_slot {
    tether_log_handler fn;
    void *user;
} handler_slot;

static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
static handler_slot slots[2];   /* written under set_lock, read by deliver under the base's sink lock */
static int slot_in_use;         /* under set_lock */

static void deliver(log_level level, const char *module, const char *message, void *user)
{
    const handler_slot *h = user;
    h->fn((tether_log_level)level, module, message, h->user);
}

void tether_log_set_level(tether_log_level level)
{
    int l = (int)level;
    if (l < (int)TETHER_LOG_ERROR) l = TETHER_LOG_ERROR;
    if (l > (int)TETHER_LOG_DEBUG) l = TETHER_LOG_DEBUG;
    log_set_level((log_level)l);
}

tether_log_level tether_log_get_level(void)
{
    int l = (int)log_get_level();
    /* the programs may set the base's level below ERROR (quiet) */
    if (l < (int)TETHER_LOG_ERROR) l = TETHER_LOG_ERROR;
    if (l > (int)TETHER_LOG_DEBUG) l = TETHER_LOG_DEBUG;
    return (tether_log_level)l;
}

void tether_log_set_handler(tether_log_handler fn, void *user)
{
    pthread_mutex_lock(&set_lock);
    if (fn == NULL) {
        log_set_sink(NULL, NULL);
    } else {
        int next = !slot_in_use;
        slots[next] = (handler_slot){.fn = fn, .user = user};
        log_set_sink(deliver, &slots[next]);
        slot_in_use = next;
    }
    pthread_mutex_unlock(&set_lock);
}
