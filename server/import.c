/*
 * import: the studio's import from the card (docs/API.md, "Import"): a
 * run of libtether's resumable tether_import_run in a worker thread, into
 * today's folder of the active session, with each file catalogued as it
 * lands and progress as server-sent "import" events.
 *
 * The ledger is PHOTOS/.tether/import.db.  A job the server was running
 * when it stopped or was killed is continued when it starts again (into
 * the job's own folder); a job cancelled on request is continued by the
 * next POST /api/import unless it asks for a fresh one.  A file the
 * ledger reports again after a crash is catalogued only if it is not in
 * the catalog yet, so nothing is listed twice.
 *
 * Threads: handlers (libmicrohttpd's threads) start and cancel the job;
 * the worker runs it.  Everything shared is behind ic->lock.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "internal.h"
#include "store/atomic.h"
#include "jobs/import.h"

#define PROGRESS_EVERY_S 0.25 /* "import" progress events at most this often (file events always) */

struct import_ctl {
    studio *s;
    station *st;              /* the camera it works (it belongs to its station) */
    pthread_mutex_t lock;
    json_t *job;               /* the running job's description and progress, or NULL */
    json_t *last;              /* the last job's result, or NULL */
    studio_worker worker;
    atomic_bool cancel;
    double last_event;
    /* what the worker runs (set before it starts) */
    tether_import_options o;
    char dest[4400];
    char ledger[4300];         /* PHOTOS/.tether/import.db */
    char session[128], day[16];
};

/* ---- the worker ------------------------------------------------------------------ */

static const char *const kind_names[] = {"started", "file_done", "file_failed", "file_deleted", "camera_lost",
                                         "camera_back"};

static tether_import_stop should_stop(void *user)
{
    import_ctl *ic = user;
    if (atomic_load(&ic->cancel)) return TETHER_IMPORT_CANCEL;
    return ic->s->stopping || ic->st->stopping ? TETHER_IMPORT_INTERRUPT : TETHER_IMPORT_GO_ON;
}

/* Catalogs a file the job brought in, once. */
static bool on_file(const char *local, const char *camera_path, void *user)
{
    import_ctl *ic = user;
    size_t rl = strlen(ic->s->root);
    catalog_photo known;
    if (strncmp(local, ic->s->root, rl) == 0 && catalog_photo_by_rel(ic->s->cat, local + rl + 1, &known) == TETHER_OK)
        return true;
    json_t *photo = studio_register_photo_event(ic->s, &ic->st->origin, ic->session, ic->day, local, camera_path, "import");
    if (photo == NULL) return true; /* not catalogued, but safely on disk */
    station_publish(ic->st, "capture", json_pack("{s:[o], s:s}", "photos", photo, "source", "import"));
    return true;
}

static void on_progress(const tether_import_progress *p, void *user)
{
    import_ctl *ic = user;
    double now = clock_mono_s();
    pthread_mutex_lock(&ic->lock);
    if (ic->job) {
        json_t *pr = json_pack("{s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:s?}", "files_total", p->files_total,
                               "files_done", p->files_done, "files_failed", p->files_failed, "bytes_total",
                               (json_int_t)p->bytes_total, "bytes_done", (json_int_t)p->bytes_done, "rate_bps",
                               p->rate_bps, "eta_s", p->eta_s, "current", p->camera_path);
        json_object_set_new(ic->job, "progress", pr);
        if (p->kind == TETHER_IMPORT_STARTED) json_object_set_new(ic->job, "job", json_integer(p->job));
        if (p->kind == TETHER_IMPORT_CAMERA_LOST || p->kind == TETHER_IMPORT_CAMERA_BACK)
            json_object_set_new(ic->job, "waiting_for_camera", json_boolean(p->kind == TETHER_IMPORT_CAMERA_LOST));
        bool last = p->files_done + p->files_failed >= p->files_total;
        if (p->kind != TETHER_IMPORT_FILE_DONE || now - ic->last_event >= PROGRESS_EVERY_S || last) {
            ic->last_event = now;
            station_publish(ic->st, "import", json_pack("{s:s, s:s, s:s?, s:O}", "event", kind_names[p->kind], "message",
                                                   p->message, "local", p->local, "progress", pr));
        }
    }
    pthread_mutex_unlock(&ic->lock);
}

static void *worker(void *arg)
{
    import_ctl *ic = arg;
    log_set_thread_name("import");
    tether_import_result r;
    int rc = tether_import_run(ic->st->cam, &ic->o, &r);
    static const char *const status[] = {"done", "cancelled", "aborted", "incomplete", "failed"};
    bool server_stopping = (ic->s->stopping || ic->st->stopping) && !atomic_load(&ic->cancel);
    /* this machine's disk (the files or the ledger): "failed", or
     * "incomplete" when the job got some files in before it */
    bool storage = rc == TETHER_ERR_DISK_FULL || rc == TETHER_ERR_STORAGE;
    const char *st = storage                ? (r.status == TETHER_IMPORT_INCOMPLETE ? "incomplete" : "failed")
                     : rc != TETHER_OK      ? "error"
                     : server_stopping      ? "interrupted"
                                            : status[r.status];
    json_t *res = json_pack("{s:s, s:I, s:b, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:s, s:s?}", "status", st,
                            "job", (json_int_t)r.job, "resumed", r.resumed, "files", r.files_total, "downloaded",
                            r.downloaded, "already", r.already, "failed", r.failed, "deleted", r.deleted, "bytes",
                            (json_int_t)r.bytes_total, "bytes_downloaded", (json_int_t)r.bytes_downloaded, "seconds",
                            r.seconds, "rate_bps", r.seconds > 0 ? (double)r.bytes_downloaded / r.seconds : 0.0,
                            "session", ic->session, "message", r.message[0] ? r.message : NULL);
    /* why: the run's error, else the failed files' (a storage error first) */
    int why = rc != TETHER_OK ? rc : r.failed ? r.err : TETHER_OK;
    if (why != TETHER_OK) {
        json_object_set_new(res, "error", json_string(tether_strerror(why)));
        json_object_set_new(res, "error_code", json_string(tether_err_name(why)));
    }
    pthread_mutex_lock(&ic->lock);
    json_decref(ic->last);
    ic->last = json_incref(res);
    json_decref(ic->job);
    ic->job = NULL;
    station_publish(ic->st, "import_result", res);
    pthread_mutex_unlock(&ic->lock);
    LOG_INFO("import", "%s: %d of %d files downloaded, %d failed%s%s", st, r.downloaded, r.files_total, r.failed,
             r.message[0] ? ": " : "", r.message);
    return NULL;
}

/* Starts the worker; called with ic->lock held and no job going; ic->o,
 * ic->dest, ic->session and ic->day are set.  Returns the job (borrowed)
 * or NULL. */
static json_t *start_locked(import_ctl *ic, bool resumed)
{
    atomic_store(&ic->cancel, false);
    ic->o.dest = ic->dest;
    ic->o.stop = should_stop;
    ic->o.on_progress = on_progress;
    ic->o.on_file = on_file;
    ic->o.user = ic;
    ic->last_event = 0;
    ic->job = json_pack("{s:s, s:s, s:s, s:b, s:b, s:n}", "session", ic->session, "day", ic->day, "mode",
                        ic->o.mode == TETHER_IMPORT_NEW ? "new" : "all", "delete", ic->o.delete_after, "resumed",
                        resumed, "progress");
    if (ic->job == NULL || !studio_worker_start(&ic->worker, worker, ic)) {
        json_decref(ic->job);
        ic->job = NULL;
        return NULL;
    }
    return ic->job;
}

/* The camera's unfinished job, if its folder is a session's day folder. */
static bool find_unfinished(import_ctl *ic, tether_import_job *j)
{
    char session[128], day[16];
    return tether_import_unfinished(ic->st->cam, ic->ledger, NULL, j) == TETHER_OK &&
           studio_folder_parts(ic->s, j->dest, session, sizeof session, day, sizeof day);
}

/* Sets up ic to continue job j; lock held. */
static void prepare_resume(import_ctl *ic, const tether_import_job *j)
{
    ic->o = (tether_import_options){.ledger = ic->ledger, .mode = j->mode, .delete_after = j->delete_after, .resume = true};
    snprintf(ic->dest, sizeof ic->dest, "%s", j->dest);
    studio_folder_parts(ic->s, j->dest, ic->session, sizeof ic->session, ic->day, sizeof ic->day);
}

/* ---- routes ------------------------------------------------------------------- */

static enum MHD_Result get_import(import_ctl *ic, const http_request *r)
{
    tether_import_job j;
    json_t *unfinished = json_null();
    pthread_mutex_lock(&ic->lock);
    bool running = ic->job != NULL;
    pthread_mutex_unlock(&ic->lock);
    if (!running && find_unfinished(ic, &j))
        unfinished = json_pack("{s:I, s:i, s:i, s:b, s:s, s:I}", "job", (json_int_t)j.id, "files_total", j.files_total,
                               "files_done", j.files_done, "cancelled", j.cancelled, "mode",
                               j.mode == TETHER_IMPORT_NEW ? "new" : "all", "created", (json_int_t)j.created);
    pthread_mutex_lock(&ic->lock);
    json_t *job = ic->job ? json_deep_copy(ic->job) : json_null();
    if (ic->job) json_object_set_new(job, "cancelling", json_boolean(atomic_load(&ic->cancel)));
    /* a copy, never the worker's object: jansson's reference counts do not
     * order one thread's reads before another's free */
    json_t *out = json_pack("{s:o, s:o, s:o}", "running", job, "last", ic->last ? json_deep_copy(ic->last) : json_null(),
                            "unfinished", unfinished);
    pthread_mutex_unlock(&ic->lock);
    return http_json(r, 200, out);
}

static enum MHD_Result post_start(import_ctl *ic, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *mode = json_object_get(body, "mode"), *del = json_object_get(body, "delete"),
           *fresh = json_object_get(body, "fresh");
    /* every field's type is checked before its value is read: null, a
     * number or an object where a string is expected is a 400 */
    const char *mode_s = json_is_string(mode) ? json_string_value(mode) : NULL;
    const char *err = NULL;
    if (mode && !(mode_s && (strcmp(mode_s, "all") == 0 || strcmp(mode_s, "new") == 0)))
        err = "\"mode\" is \"new\" (files not imported before) or \"all\"";
    else if (del && !json_is_boolean(del))
        err = "\"delete\" is true (delete each file from the card once it is safely on disk) or false";
    else if (fresh && !json_is_boolean(fresh))
        err = "\"fresh\" is true (start a new import instead of continuing an unfinished one) or false";
    bool all = mode_s && strcmp(mode_s, "all") == 0, delete_after = json_is_true(del), resume = !json_is_true(fresh);
    json_decref(body);
    if (err) return http_error(r, 400, "bad_value", "%s", err);
    if (!tether_camera_connected(ic->st->cam))
        return http_error(r, 503, "camera_unavailable", "the camera is not connected; try again when it is back");
    tether_import_job j;
    bool resumed = resume && find_unfinished(ic, &j);
    pthread_mutex_lock(&ic->lock);
    if (ic->job) {
        pthread_mutex_unlock(&ic->lock);
        return http_error(r, 409, "import_busy", "an import is running; cancel it first (POST /api/import/cancel)");
    }
    if (resumed) {
        prepare_resume(ic, &j);
    } else {
        ic->o = (tether_import_options){.ledger = ic->ledger, .mode = all ? TETHER_IMPORT_ALL : TETHER_IMPORT_NEW,
                                        .delete_after = delete_after, .resume = false};
        studio_session(ic->s, ic->session, sizeof ic->session);
        studio_today(ic->day, sizeof ic->day);
        snprintf(ic->dest, sizeof ic->dest, "%s/%s/%s", ic->s->root, ic->session, ic->day);
    }
    json_t *job = start_locked(ic, resumed);
    json_t *copy = job ? json_deep_copy(job) : NULL;
    pthread_mutex_unlock(&ic->lock);
    if (copy == NULL) return http_error(r, 500, "internal", "cannot start the import");
    return http_json(r, 202, json_pack("{s:o}", "import", copy));
}

static enum MHD_Result post_cancel(import_ctl *ic, const http_request *r)
{
    pthread_mutex_lock(&ic->lock);
    bool running = ic->job != NULL;
    if (running) atomic_store(&ic->cancel, true);
    pthread_mutex_unlock(&ic->lock);
    return http_json(r, 200, json_pack("{s:b}", "cancelling", running));
}

enum MHD_Result import_handle(station *st, const http_request *r, const char *rest)
{
    import_ctl *ic = st->import;
    if (strcmp(rest, "") == 0) {
        if (http_is(r, "GET")) return get_import(ic, r);
        if (http_is(r, "POST")) return post_start(ic, r);
        return http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    if (strcmp(rest, "/cancel") == 0)
        return http_is(r, "POST") ? post_cancel(ic, r) : http_error(r, 405, "method_not_allowed", "use POST");
    return http_error(r, 404, "not_found", "no API route %s", r->url);
}

/* ---- life cycle ------------------------------------------------------------------- */

import_ctl *import_ctl_new(station *st)
{
    import_ctl *ic = calloc(1, sizeof *ic);
    if (ic == NULL) return NULL;
    ic->s = st->s;
    ic->st = st;
    snprintf(ic->ledger, sizeof ic->ledger, "%s/.tether/import.db", ic->s->root);
    pthread_mutex_init(&ic->lock, NULL);
    atomic_init(&ic->cancel, false);
    return ic;
}

void import_resume(import_ctl *ic)
{
    tether_import_job j;
    if (!tether_camera_connected(ic->st->cam) || !find_unfinished(ic, &j) || j.cancelled) return;
    pthread_mutex_lock(&ic->lock);
    if (ic->job == NULL) {
        prepare_resume(ic, &j);
        if (start_locked(ic, true))
            LOG_INFO("import", "continuing the import into %s (%d of %d files done)", j.dest, j.files_done,
                     j.files_total);
    }
    pthread_mutex_unlock(&ic->lock);
}

void import_ctl_free(import_ctl *ic)
{
    if (ic == NULL) return;
    studio_worker_join(&ic->worker, &ic->lock);
    json_decref(ic->job);
    json_decref(ic->last);
    pthread_mutex_destroy(&ic->lock);
    free(ic);
}

int import_files_left(import_ctl *ic)
{
    pthread_mutex_lock(&ic->lock);
    json_t *pr = ic->job ? json_object_get(ic->job, "progress") : NULL;
    int left = pr ? (int)(json_integer_value(json_object_get(pr, "files_total")) -
                          json_integer_value(json_object_get(pr, "files_done")) -
                          json_integer_value(json_object_get(pr, "files_failed")))
                  : 0;
    pthread_mutex_unlock(&ic->lock);
    return left > 0 ? left : 0;
}
