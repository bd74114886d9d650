/*
 * worker: the life cycle every studio job shares (focus tools, time-lapse,
 * import, tagging a session): one worker thread at a time per job, joined
 * when the next one starts (the owner knows the last one has finished,
 * having seen it publish its result) or when the studio stops.
 *
 * Threads: the owner's handlers call studio_worker_start with the owner's
 * lock held; studio_worker_join runs once, at the end.
 */
#include "internal.h"

bool studio_worker_start(studio_worker *w, void *(*fn)(void *), void *arg)
{
    if (w->started) {
        pthread_join(w->thread, NULL);
        w->started = false;
    }
    if (pthread_create(&w->thread, NULL, fn, arg) != 0) return false;
    w->started = true;
    return true;
}

void studio_worker_join(studio_worker *w, pthread_mutex_t *lock)
{
    pthread_mutex_lock(lock);
    bool started = w->started;
    w->started = false;
    pthread_mutex_unlock(lock);
    if (started) pthread_join(w->thread, NULL); /* without the lock: the worker may need it to finish */
}
