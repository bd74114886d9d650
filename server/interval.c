/*
 * interval: the studio's intervalometer (docs/API.md, "Intervalometer"):
 * a time-lapse run of libtether's tether_interval_run in a worker thread,
 * its pictures catalogued as any capture is, its progress as server-sent
 * "interval" events.
 *
 * The run's state is kept in PHOTOS/.tether/interval.json (written
 * atomically after every slot): its schedule (start time, interval,
 * count), session and folder, and the first slot not yet done.  When the
 * server starts and finds a run that was still going, it continues it on
 * the same schedule: the slots that passed while the server was down are
 * reported as missed, never taken late.
 *
 * Threads: handlers (libmicrohttpd's threads) start and stop the run; the
 * worker runs it.  Everything shared is behind ic->lock.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "internal.h"
#include "store/atomic.h"
#include "tether/interval.h"

#define CAPTURE_TEMPLATE "{timestamp:%Y%m%d-%H%M%S}-{name}"

struct interval_ctl {
    studio *s;
    pthread_mutex_t lock;
    json_t *run;               /* the running run's description, or NULL */
    json_t *last;              /* the last run's result, or NULL */
    json_t *counts;            /* {"taken", "missed", "failed", "next_slot"} of the running run */
    studio_worker worker;
    atomic_bool stop;
    /* what the worker runs (set before it starts) */
    double interval_s, start_epoch;
    long count, first_slot;
    char session[128], day[16], dir[4400];
};

/* ---- the state file ------------------------------------------------------------- */

static void state_path(const studio *s, char *out, size_t size)
{
    snprintf(out, size, "%s/.tether/interval.json", s->root);
}

/* Writes the run's state atomically; running false marks it finished. */
static void save_state(interval_ctl *ic, long next_slot, bool running)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/.tether", ic->s->root);
    json_t *j = json_pack("{s:f, s:f, s:I, s:I, s:s, s:s, s:b}", "interval_s", ic->interval_s, "start_epoch",
                          ic->start_epoch, "count", (json_int_t)ic->count, "next_slot", (json_int_t)next_slot,
                          "session", ic->session, "day", ic->day, "running", running);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL) return;
    /* a temporary file, flushed, renamed over the old state: the file is
     * always one whole state or the other */
    store_atomic a;
    char path[4300];
    state_path(ic->s, path, sizeof path);
    if (store_mkdirs(dir) != 0 || store_atomic_begin(&a, dir) != 0) {
        LOG_WARN("interval", "cannot write %s", path);
    } else {
        size_t n = strlen(text);
        bool ok = write(a.fd, text, n) == (ssize_t)n && fsync(a.fd) == 0;
        ok = close(a.fd) == 0 && ok;
        a.fd = -1;
        if (!ok || rename(a.tmp, path) != 0) {
            store_atomic_abort(&a);
            LOG_WARN("interval", "cannot write %s", path);
        }
    }
    free(text);
}

/* ---- the worker ------------------------------------------------------------------ */

static const char *const kind_names[] = {"shot", "missed", "failed", "camera_lost", "camera_back", "waiting"};

static void on_event(void *user, const tether_interval_event *ev)
{
    interval_ctl *ic = user;
    json_t *photos = json_array(); /* the files' names; catalogued (and announced) by the cataloguer */
    if (ev->kind == TETHER_INTERVAL_SHOT) {
        for (int i = 0; i < ev->shot->n_files; i++) {
            const char *slash = strrchr(ev->shot->files[i], '/');
            json_array_append_new(photos, json_string(slash ? slash + 1 : ev->shot->files[i]));
        }
        studio_register_shot_later(ic->s, ic->session, ic->day, ev->shot, "interval");
    }
    pthread_mutex_lock(&ic->lock);
    const char *counter = ev->kind == TETHER_INTERVAL_SHOT     ? "taken"
                          : ev->kind == TETHER_INTERVAL_MISSED ? "missed"
                          : ev->kind == TETHER_INTERVAL_FAILED ? "failed"
                                                               : NULL;
    if (counter && ic->counts)
        json_object_set_new(ic->counts, counter, json_integer(json_integer_value(json_object_get(ic->counts, counter)) + 1));
    long next = ev->kind <= TETHER_INTERVAL_FAILED ? ev->slot + 1 : ev->slot;
    if (ic->counts) json_object_set_new(ic->counts, "next_slot", json_integer(next));
    hub_publish(ic->s, "interval", json_pack("{s:s, s:I, s:f, s:f, s:s, s:o, s:O?}", "event", kind_names[ev->kind],
                                             "slot", (json_int_t)ev->slot, "due", ev->due_epoch, "late_ms",
                                             ev->late_s * 1000, "message", ev->message, "photos", photos, "counts",
                                             ic->counts));
    pthread_mutex_unlock(&ic->lock);
    if (ev->kind <= TETHER_INTERVAL_FAILED) save_state(ic, next, true);
}

static bool should_stop(void *user)
{
    interval_ctl *ic = user;
    return atomic_load(&ic->stop) || ic->s->stopping;
}

static void *worker(void *arg)
{
    interval_ctl *ic = arg;
    log_set_thread_name("interval");
    tether_capture_options co = {.dir = ic->dir, .name_template = CAPTURE_TEMPLATE, .session = ic->session};
    tether_interval_options o = {.interval_s = ic->interval_s, .count = ic->count, .start_epoch = ic->start_epoch,
                                 .first_slot = ic->first_slot, .capture = &co, .on_event = on_event,
                                 .stop = should_stop, .user = ic};
    tether_interval_result r;
    int rc = tether_interval_run(ic->s->cam, &o, &r);
    bool server_stopping = ic->s->stopping && !atomic_load(&ic->stop);
    /* a server that stops leaves the run "running" in the state file, so
     * that the next start continues it */
    save_state(ic, r.next_slot, server_stopping);
    json_t *res = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:b, s:s}", "status",
                            rc ? "error" : r.stopped ? "stopped" : "done", "taken", (json_int_t)r.taken, "missed",
                            (json_int_t)r.missed, "failed", (json_int_t)r.failed, "next_slot",
                            (json_int_t)r.next_slot, "max_late_ms", r.max_late_s * 1000, "mean_late_ms",
                            r.mean_late_s * 1000, "stopped", r.stopped, "error", rc ? tether_strerror(rc) : "");
    pthread_mutex_lock(&ic->lock);
    json_object_set(res, "run", ic->run ? ic->run : json_null());
    json_decref(ic->last);
    ic->last = json_incref(res);
    json_decref(ic->run);
    ic->run = NULL;
    json_decref(ic->counts);
    ic->counts = NULL;
    hub_publish(ic->s, "interval_result", res);
    pthread_mutex_unlock(&ic->lock);
    return NULL;
}

/* Starts the worker; called with ic->lock held and no run going.  The
 * schedule fields of ic are set.  Returns the run (borrowed) or NULL. */
static json_t *start_locked(interval_ctl *ic)
{
    snprintf(ic->dir, sizeof ic->dir, "%s/%s/%s", ic->s->root, ic->session, ic->day);
    atomic_store(&ic->stop, false);
    ic->run = json_pack("{s:f, s:I, s:f, s:s, s:s}", "interval_s", ic->interval_s, "count", (json_int_t)ic->count,
                        "start_epoch", ic->start_epoch, "session", ic->session, "day", ic->day);
    ic->counts = json_pack("{s:i, s:i, s:i, s:I}", "taken", 0, "missed", 0, "failed", 0, "next_slot",
                           (json_int_t)ic->first_slot);
    save_state(ic, ic->first_slot, true);
    if (ic->run == NULL || ic->counts == NULL || !studio_worker_start(&ic->worker, worker, ic)) {
        json_decref(ic->run);
        json_decref(ic->counts);
        ic->run = ic->counts = NULL;
        save_state(ic, ic->first_slot, false);
        return NULL;
    }
    return ic->run;
}

/* ---- routes ------------------------------------------------------------------- */

static enum MHD_Result get_interval(interval_ctl *ic, const http_request *r)
{
    pthread_mutex_lock(&ic->lock);
    json_t *running = json_null();
    if (ic->run) {
        running = json_deep_copy(ic->run);
        json_object_set(running, "counts", ic->counts);
        json_object_set_new(running, "stopping", json_boolean(atomic_load(&ic->stop)));
    }
    json_t *j = json_pack("{s:o, s:O}", "running", running, "last", ic->last ? ic->last : json_null());
    pthread_mutex_unlock(&ic->lock);
    return http_json(r, 200, j);
}

static enum MHD_Result post_start(interval_ctl *ic, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *iv = json_object_get(body, "interval_s"), *cnt = json_object_get(body, "count"),
           *st = json_object_get(body, "start_epoch");
    const char *err = NULL;
    if (!json_is_number(iv) || !(json_number_value(iv) >= 0.1 && json_number_value(iv) <= 86400))
        err = "\"interval_s\" is the time between shots in seconds, 0.1 to 86400";
    else if (cnt && !(json_is_integer(cnt) && json_integer_value(cnt) >= 0 && json_integer_value(cnt) <= 1000000))
        err = "\"count\" is the number of shots, 0 (until stopped) to 1000000";
    else if (st && !json_is_null(st) && !(json_is_number(st) && json_number_value(st) > 0))
        err = "\"start_epoch\" is the time of the first shot in seconds since 1970 (omit it to start now)";
    double interval = json_number_value(iv), start = st ? json_number_value(st) : 0;
    long count = cnt ? (long)json_integer_value(cnt) : 0;
    json_decref(body);
    if (err) return http_error(r, 400, "bad_value", "%s", err);
    pthread_mutex_lock(&ic->lock);
    if (ic->run) {
        pthread_mutex_unlock(&ic->lock);
        return http_error(r, 409, "interval_busy", "a time-lapse is running; stop it first (POST /api/interval/stop)");
    }
    ic->interval_s = interval;
    ic->count = count;
    ic->start_epoch = start > 0 ? start : (double)time(NULL);
    ic->first_slot = 0;
    studio_session(ic->s, ic->session, sizeof ic->session);
    studio_today(ic->day, sizeof ic->day);
    json_t *run = start_locked(ic);
    json_t *copy = run ? json_deep_copy(run) : NULL;
    pthread_mutex_unlock(&ic->lock);
    if (copy == NULL) return http_error(r, 500, "internal", "cannot start the time-lapse");
    return http_json(r, 202, json_pack("{s:o}", "run", copy));
}

static enum MHD_Result post_stop(interval_ctl *ic, const http_request *r)
{
    pthread_mutex_lock(&ic->lock);
    bool running = ic->run != NULL;
    if (running) atomic_store(&ic->stop, true);
    pthread_mutex_unlock(&ic->lock);
    return http_json(r, 200, json_pack("{s:b}", "stopping", running));
}

enum MHD_Result interval_handle(studio *s, const http_request *r, const char *rest)
{
    interval_ctl *ic = s->interval;
    if (strcmp(rest, "") == 0) {
        if (http_is(r, "GET")) return get_interval(ic, r);
        if (http_is(r, "POST")) return post_start(ic, r);
        return http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    if (strcmp(rest, "/stop") == 0)
        return http_is(r, "POST") ? post_stop(ic, r) : http_error(r, 405, "method_not_allowed", "use POST");
    return http_error(r, 404, "not_found", "no API route %s", r->url);
}

/* ---- life cycle ------------------------------------------------------------------- */

interval_ctl *interval_ctl_new(studio *s)
{
    interval_ctl *ic = calloc(1, sizeof *ic);
    if (ic == NULL) return NULL;
    ic->s = s;
    pthread_mutex_init(&ic->lock, NULL);
    atomic_init(&ic->stop, false);
    return ic;
}

void interval_resume(interval_ctl *ic)
{
    char path[4300];
    state_path(ic->s, path, sizeof path);
    json_error_t jerr;
    json_t *st = json_load_file(path, 0, &jerr);
    if (st == NULL) return;
    const char *session = json_string_value(json_object_get(st, "session"));
    const char *day = json_string_value(json_object_get(st, "day"));
    double interval = json_number_value(json_object_get(st, "interval_s"));
    double start = json_number_value(json_object_get(st, "start_epoch"));
    json_int_t count = json_integer_value(json_object_get(st, "count"));
    json_int_t next = json_integer_value(json_object_get(st, "next_slot"));
    bool running = json_is_true(json_object_get(st, "running"));
    if (running && session && day && interval > 0 && start > 0 && next >= 0 && studio_safe_rel(session) &&
        studio_safe_rel(day)) {
        pthread_mutex_lock(&ic->lock);
        ic->interval_s = interval;
        ic->start_epoch = start;
        ic->count = (long)count;
        ic->first_slot = (long)next;
        snprintf(ic->session, sizeof ic->session, "%s", session);
        snprintf(ic->day, sizeof ic->day, "%s", day);
        if (start_locked(ic)) LOG_INFO("interval", "continuing the time-lapse of %s at slot %lld", session, (long long)next);
        pthread_mutex_unlock(&ic->lock);
    }
    json_decref(st);
}

void interval_ctl_free(interval_ctl *ic)
{
    if (ic == NULL) return;
    studio_worker_join(&ic->worker, &ic->lock);
    json_decref(ic->run);
    json_decref(ic->counts);
    json_decref(ic->last);
    pthread_mutex_destroy(&ic->lock);
    free(ic);
}
