/*
 * interval: the studio's intervalometer (docs/API.md, "Intervalometer"):
 * a time-lapse run of libtether's tether_interval_run in a worker thread,
 * its pictures catalogued as any capture is, its progress as server-sent
 * "interval" events.
 *
 * The run's state is kept in PHOTOS/.tether/interval.json (written
 * atomically after every shot, failed capture or run of missed slots):
 * its schedule (start time, interval, count), session and folder, and the
 * first slot not yet done.  When the server starts and finds a run that
 * was still going, it continues it on the same schedule: the slots that
 * passed while the server was down are reported as missed (in one event),
 * never taken late.  A stop is written to the file when it is asked for,
 * before it is acknowledged, even while a capture is in flight: a server
 * killed after that never continues the run.  A state file that cannot be
 * written is said so (a run is not started, a stop is answered with a
 * storage error, a running run reports "state_error"), never ignored.
 *
 * Threads: handlers (libmicrohttpd's threads) start and stop the run; the
 * worker runs it.  Everything shared is behind ic->lock; the state file's
 * writes are behind ic->state_lock (taken after ic->lock when both are).
 */
#include <errno.h>
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

/* What POST /api/interval takes (docs/API.md): shots no closer than a
 * capture takes on most cameras, a day at most between them; a start from
 * a minute ago (clocks differ; the slots already passed are missed) to a
 * year ahead. */
#define MIN_INTERVAL_S 0.5
#define MAX_INTERVAL_S 86400.0
#define MAX_COUNT 1000000
#define START_PAST_S 60.0
#define START_AHEAD_S (366 * 86400.0)

struct interval_ctl {
    studio *s;
    station *st;              /* the camera it works (it belongs to its station) */
    pthread_mutex_t lock;
    json_t *run;               /* the running run's description, or NULL */
    json_t *last;              /* the last run's result, or NULL */
    json_t *counts;            /* {"taken", "missed", "failed", "next_slot"} of the running run */
    studio_worker worker;
    atomic_bool stop;
    pthread_mutex_t state_lock; /* one writer of the state file at a time */
    atomic_int state_err;      /* the last state write's error (a tether_err), 0 if it was written */
    /* what the worker runs (set before it starts) */
    double interval_s, start_epoch;
    long count, first_slot;
    char session[128], day[16], dir[4400];
    char name_template[160];
};

/* ---- the state file ------------------------------------------------------------- */

/* PHOTOS/.tether/interval.json, or interval-ID.json for a camera that is
 * not the run's first (station.state_suffix). */
static void state_path(const interval_ctl *ic, char *out, size_t size)
{
    snprintf(out, size, "%s/.tether/interval%s.json", ic->s->root, ic->st->state_suffix);
}

/* A local write's errno as a tether_err. */
static int storage_err(int e)
{
    return e == ENOSPC || e == EDQUOT ? TETHER_ERR_DISK_FULL : TETHER_ERR_STORAGE;
}

/* Writes text as the state file: a temporary file, fsynced, renamed over
 * the old state, the folder fsynced: the file is always one whole state or
 * the other.  Returns 0, TETHER_ERR_DISK_FULL or TETHER_ERR_STORAGE. */
static int write_state_file(const interval_ctl *ic, const char *text)
{
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/.tether", ic->s->root);
    state_path(ic, path, sizeof path);
    store_atomic a;
    int rc = store_mkdirs(dir);
    if (rc == TETHER_OK) rc = store_atomic_begin(&a, dir);
    if (rc != TETHER_OK) return rc == TETHER_ERR_DISK_FULL || rc == TETHER_ERR_STORAGE ? rc : storage_err(errno);
    int e = 0;
    if (store_write_all(a.fd, text, strlen(text)) != 0 || fsync(a.fd) != 0) e = errno;
    if (close(a.fd) != 0 && e == 0) e = errno;
    a.fd = -1;
    if (e == 0 && rename(a.tmp, path) != 0) e = errno;
    if (e != 0) {
        store_atomic_abort(&a);
        return storage_err(e);
    }
    store_fsync_dir(dir);
    return TETHER_OK;
}

/* Writes the run's state; running false marks it finished (and so does a
 * stop asked for: a worker's late write never undoes it).  A finished
 * state that cannot be written removes the file instead (nothing to
 * continue either way).  Returns 0 or the write's tether_err, also kept
 * in ic->state_err.  Any thread; takes ic->state_lock. */
static int save_state(interval_ctl *ic, long next_slot, bool running)
{
    pthread_mutex_lock(&ic->state_lock);
    if (atomic_load(&ic->stop)) running = false;
    json_t *j = json_pack("{s:f, s:f, s:I, s:I, s:s, s:s, s:b}", "interval_s", ic->interval_s, "start_epoch",
                          ic->start_epoch, "count", (json_int_t)ic->count, "next_slot", (json_int_t)next_slot,
                          "session", ic->session, "day", ic->day, "running", running);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char path[4300];
    state_path(ic, path, sizeof path);
    int rc = text ? write_state_file(ic, text) : TETHER_ERR_NO_MEMORY;
    free(text);
    if (rc != TETHER_OK) {
        LOG_WARN("interval", "cannot write %s: %s", path, tether_strerror(rc));
        if (!running && (unlink(path) == 0 || errno == ENOENT)) {
            LOG_WARN("interval", "removed %s instead: the run will not be continued", path);
            rc = TETHER_OK;
        }
    }
    atomic_store(&ic->state_err, rc);
    pthread_mutex_unlock(&ic->state_lock);
    return rc;
}

/* "cannot write PHOTOS/.tether/interval.json: the disk is full" */
static void state_error_text(const interval_ctl *ic, int err, char *out, size_t size)
{
    char path[4300];
    state_path(ic, path, sizeof path);
    snprintf(out, size, "cannot write %s: %s", path, tether_strerror(err));
}

/* Answers a state file that could not be written: 507 "storage_full" when
 * the disk is full, else 500 "storage_error" (docs/API.md, "Errors"). */
static enum MHD_Result storage_answer(interval_ctl *ic, const http_request *r, int err, const char *what)
{
    char why[4500];
    state_error_text(ic, err, why, sizeof why);
    return err == TETHER_ERR_DISK_FULL ? http_error(r, 507, "storage_full", "%s: %s", what, why)
                                       : http_error(r, 500, "storage_error", "%s: %s", what, why);
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
        studio_register_shot_later(ic->s, &ic->st->origin, ic->session, ic->day, ev->shot, "interval");
    }
    pthread_mutex_lock(&ic->lock);
    const char *counter = ev->kind == TETHER_INTERVAL_SHOT     ? "taken"
                          : ev->kind == TETHER_INTERVAL_MISSED ? "missed"
                          : ev->kind == TETHER_INTERVAL_FAILED ? "failed"
                                                               : NULL;
    long slots = ev->slots > 0 ? ev->slots : 1; /* a run of missed slots is one event */
    if (counter && ic->counts)
        json_object_set_new(ic->counts, counter,
                            json_integer(json_integer_value(json_object_get(ic->counts, counter)) + slots));
    /* a slot is done once taken, missed or failed (the camera's comings
     * and goings leave the count as it is) */
    long next = ev->slot + slots;
    if (counter && ic->counts) json_object_set_new(ic->counts, "next_slot", json_integer(next));
    station_publish(ic->st, "interval", json_pack("{s:s, s:I, s:I, s:f, s:f, s:s, s:o, s:O?}", "event",
                                             kind_names[ev->kind], "slot", (json_int_t)ev->slot, "slots",
                                             (json_int_t)slots, "due", ev->due_epoch, "late_ms", ev->late_s * 1000,
                                             "message", ev->message, "photos", photos, "counts", ic->counts));
    pthread_mutex_unlock(&ic->lock);
    if (ev->kind <= TETHER_INTERVAL_FAILED) save_state(ic, next, true);
}

static bool should_stop(void *user)
{
    interval_ctl *ic = user;
    return atomic_load(&ic->stop) || ic->s->stopping || ic->st->stopping;
}

static void *worker(void *arg)
{
    interval_ctl *ic = arg;
    log_set_thread_name("interval");
    tether_capture_options co = {.dir = ic->dir, .name_template = ic->name_template, .session = ic->session};
    tether_interval_options o = {.interval_s = ic->interval_s, .count = ic->count, .start_epoch = ic->start_epoch,
                                 .first_slot = ic->first_slot, .capture = &co, .on_event = on_event,
                                 .stop = should_stop, .user = ic};
    tether_interval_result r;
    int rc = tether_interval_run(ic->st->cam, &o, &r);
    bool server_stopping = (ic->s->stopping || ic->st->stopping) && !atomic_load(&ic->stop);
    /* a server that stops leaves the run "running" in the state file, so
     * that the next start continues it */
    int saved = save_state(ic, r.next_slot, server_stopping);
    json_t *res = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:b, s:s}", "status",
                            rc ? "error" : r.stopped ? "stopped" : "done", "taken", (json_int_t)r.taken, "missed",
                            (json_int_t)r.missed, "failed", (json_int_t)r.failed, "next_slot",
                            (json_int_t)r.next_slot, "max_late_ms", r.max_late_s * 1000, "mean_late_ms",
                            r.mean_late_s * 1000, "stopped", r.stopped, "error", rc ? tether_strerror(rc) : "");
    if (saved != TETHER_OK) {
        char why[4500];
        state_error_text(ic, saved, why, sizeof why);
        json_object_set_new(res, "state_error", json_string(why));
    }
    pthread_mutex_lock(&ic->lock);
    json_object_set(res, "run", ic->run ? ic->run : json_null());
    json_decref(ic->last);
    ic->last = json_incref(res);
    json_decref(ic->run);
    ic->run = NULL;
    json_decref(ic->counts);
    ic->counts = NULL;
    station_publish(ic->st, "interval_result", res);
    pthread_mutex_unlock(&ic->lock);
    return NULL;
}

/* Starts the worker; called with ic->lock held and no run going.  The
 * schedule fields of ic are set.  Writes the state file first: a run
 * whose state cannot be written is not started.  Returns the run
 * (borrowed), or NULL with *err: TETHER_ERR_NO_MEMORY (or no thread),
 * TETHER_ERR_DISK_FULL or TETHER_ERR_STORAGE (the state file). */
static json_t *start_locked(interval_ctl *ic, int *err)
{
    snprintf(ic->dir, sizeof ic->dir, "%s/%s/%s", ic->s->root, ic->session, ic->day);
    station_name_template(ic->st, ic->name_template, sizeof ic->name_template);
    atomic_store(&ic->stop, false);
    ic->run = json_pack("{s:f, s:I, s:f, s:s, s:s}", "interval_s", ic->interval_s, "count", (json_int_t)ic->count,
                        "start_epoch", ic->start_epoch, "session", ic->session, "day", ic->day);
    ic->counts = json_pack("{s:i, s:i, s:i, s:I}", "taken", 0, "missed", 0, "failed", 0, "next_slot",
                           (json_int_t)ic->first_slot);
    *err = ic->run && ic->counts ? save_state(ic, ic->first_slot, true) : TETHER_ERR_NO_MEMORY;
    if (*err == TETHER_OK && !studio_worker_start(&ic->worker, worker, ic)) {
        *err = TETHER_ERR_NO_MEMORY;
        save_state(ic, ic->first_slot, false);
    }
    if (*err != TETHER_OK) {
        json_decref(ic->run);
        json_decref(ic->counts);
        ic->run = ic->counts = NULL;
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
        json_object_set_new(running, "counts", json_deep_copy(ic->counts));
        json_object_set_new(running, "stopping", json_boolean(atomic_load(&ic->stop)));
        int se = atomic_load(&ic->state_err);
        if (se != TETHER_OK) {
            char why[4500];
            state_error_text(ic, se, why, sizeof why);
            json_object_set_new(running, "state_error", json_string(why));
        }
    }
    /* a copy, never the worker's object (see import.c's) */
    json_t *j = json_pack("{s:o, s:o}", "running", running, "last", ic->last ? json_deep_copy(ic->last) : json_null());
    pthread_mutex_unlock(&ic->lock);
    return http_json(r, 200, j);
}

/* A JSON number in [lo, hi] (never NaN or infinite: jansson has none). */
static bool number_in(const json_t *v, double lo, double hi)
{
    return json_is_number(v) && json_number_value(v) >= lo && json_number_value(v) <= hi;
}

static enum MHD_Result post_start(interval_ctl *ic, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *iv = json_object_get(body, "interval_s"), *cnt = json_object_get(body, "count"),
           *st = json_object_get(body, "start_epoch");
    double now = (double)time(NULL);
    const char *err = NULL;
    if (!number_in(iv, MIN_INTERVAL_S, MAX_INTERVAL_S))
        err = "\"interval_s\" is the time between shots in seconds, a number from 0.5 to 86400";
    else if (cnt && !(json_is_integer(cnt) && json_integer_value(cnt) >= 0 && json_integer_value(cnt) <= MAX_COUNT))
        err = "\"count\" is the number of shots, a whole number from 0 (until stopped) to 1000000";
    else if (st && !json_is_null(st) && !number_in(st, now - START_PAST_S, now + START_AHEAD_S))
        err = "\"start_epoch\" is the time of the first shot in seconds since 1970, from a minute ago to a year "
              "ahead (omit it to start now)";
    double interval = err ? 0 : json_number_value(iv), start = err || st == NULL ? 0 : json_number_value(st);
    long count = err || cnt == NULL ? 0 : (long)json_integer_value(cnt);
    json_decref(body);
    if (err) return http_error(r, 400, "bad_value", "%s", err);
    pthread_mutex_lock(&ic->lock);
    if (ic->run) {
        pthread_mutex_unlock(&ic->lock);
        return http_error(r, 409, "interval_busy", "a time-lapse is running; stop it first (POST /api/interval/stop)");
    }
    ic->interval_s = interval;
    ic->count = count;
    ic->start_epoch = start > 0 ? start : now;
    ic->first_slot = 0;
    studio_session(ic->s, ic->session, sizeof ic->session);
    studio_today(ic->day, sizeof ic->day);
    int rc;
    json_t *run = start_locked(ic, &rc);
    json_t *copy = run ? json_deep_copy(run) : NULL;
    pthread_mutex_unlock(&ic->lock);
    if (rc == TETHER_ERR_DISK_FULL || rc == TETHER_ERR_STORAGE)
        return storage_answer(ic, r, rc, "the time-lapse is not started");
    if (copy == NULL) return http_error(r, 500, "internal", "cannot start the time-lapse");
    return http_json(r, 202, json_pack("{s:o}", "run", copy));
}

/* The stop is written to the state file before it is acknowledged,
 * whatever the worker is doing (a capture in flight ends first). */
static enum MHD_Result post_stop(interval_ctl *ic, const http_request *r)
{
    pthread_mutex_lock(&ic->lock);
    bool running = ic->run != NULL;
    int rc = TETHER_OK;
    if (running) {
        atomic_store(&ic->stop, true);
        rc = save_state(ic, (long)json_integer_value(json_object_get(ic->counts, "next_slot")), false);
    }
    pthread_mutex_unlock(&ic->lock);
    if (rc != TETHER_OK)
        return storage_answer(ic, r, rc, "the time-lapse stops, but the stop could not be saved (a server "
                                         "restarted before the run ends would continue it)");
    return http_json(r, 200, json_pack("{s:b}", "stopping", running));
}

enum MHD_Result interval_handle(station *st, const http_request *r, const char *rest)
{
    interval_ctl *ic = st->interval;
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

interval_ctl *interval_ctl_new(station *st)
{
    interval_ctl *ic = calloc(1, sizeof *ic);
    if (ic == NULL) return NULL;
    ic->s = st->s;
    ic->st = st;
    pthread_mutex_init(&ic->lock, NULL);
    pthread_mutex_init(&ic->state_lock, NULL);
    atomic_init(&ic->stop, false);
    atomic_init(&ic->state_err, TETHER_OK);
    return ic;
}

void interval_resume(interval_ctl *ic)
{
    char path[4300];
    state_path(ic, path, sizeof path);
    json_error_t jerr;
    json_t *st = json_load_file(path, 0, &jerr);
    if (st == NULL) return;
    json_t *iv = json_object_get(st, "interval_s"), *start = json_object_get(st, "start_epoch"),
           *count = json_object_get(st, "count"), *next = json_object_get(st, "next_slot");
    const char *session = json_string_value(json_object_get(st, "session"));
    const char *day = json_string_value(json_object_get(st, "day"));
    if (!json_is_true(json_object_get(st, "running"))) {
        json_decref(st);
        return;
    }
    /* the rules of POST /api/interval (a start long ago is fine: the
     * slots since are missed, in one step), the types exactly */
    if (!(session && day && studio_safe_rel(session) && studio_safe_rel(day) &&
          number_in(iv, MIN_INTERVAL_S, MAX_INTERVAL_S) && number_in(start, 1, (double)time(NULL) + START_AHEAD_S) &&
          json_is_integer(count) && json_integer_value(count) >= 0 && json_integer_value(count) <= MAX_COUNT &&
          json_is_integer(next) && json_integer_value(next) >= 0)) {
        LOG_WARN("interval", "%s describes no run that can be continued; ignored", path);
        json_decref(st);
        return;
    }
    pthread_mutex_lock(&ic->lock);
    ic->interval_s = json_number_value(iv);
    ic->start_epoch = json_number_value(start);
    ic->count = (long)json_integer_value(count);
    ic->first_slot = (long)json_integer_value(next);
    snprintf(ic->session, sizeof ic->session, "%s", session);
    snprintf(ic->day, sizeof ic->day, "%s", day);
    int rc;
    if (start_locked(ic, &rc)) {
        LOG_INFO("interval", "continuing the time-lapse of %s at slot %ld", session, ic->first_slot);
    } else {
        char why[4500];
        state_error_text(ic, rc, why, sizeof why);
        LOG_WARN("interval", "cannot continue the time-lapse of %s: %s", session,
                 rc == TETHER_ERR_NO_MEMORY ? tether_strerror(rc) : why);
        json_decref(ic->last);
        ic->last = json_pack("{s:s, s:s, s:I}", "status", "error", "error",
                             rc == TETHER_ERR_NO_MEMORY ? tether_strerror(rc) : why, "next_slot",
                             (json_int_t)ic->first_slot);
    }
    pthread_mutex_unlock(&ic->lock);
    json_decref(st);
}

void interval_ctl_free(interval_ctl *ic)
{
    if (ic == NULL) return;
    studio_worker_join(&ic->worker, &ic->lock);
    json_decref(ic->run);
    json_decref(ic->counts);
    json_decref(ic->last);
    pthread_mutex_destroy(&ic->state_lock);
    pthread_mutex_destroy(&ic->lock);
    free(ic);
}
