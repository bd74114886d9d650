/*
 * focus: the studio's focus tools (docs/API.md, "Focus"): the focus area,
 * autofocus, trap focus and focus stacking (libtether's tether_focus_*),
 * sharpness measures of the live view, and the focus motor's near/far
 * drive.  Progress and results go out as server-sent events ("focus",
 * "focus_result"); pictures taken by trap focus and stacks are catalogued
 * as any capture is and announced by a "capture" event.
 *
 * Threads: the tools block for seconds, so a handler (one of
 * libmicrohttpd's connection threads) starts one in the worker thread and
 * answers 202 at once.  One tool runs at a time (409 otherwise).  The
 * tools read live view as one more watcher, so the studio's viewers keep
 * their stream.  A stop flag, read by the tool's stop callback, cancels.
 * Everything shared is behind fc->lock; events are published under it so
 * that a tool's result always follows its progress.
 */
#include <dirent.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "internal.h"

#define PROGRESS_EVERY_NS 150000000LL /* at most ~7 progress events a second, and every new stage */

typedef enum tool_id { TOOL_AF, TOOL_TRAP, TOOL_STACK, N_TOOLS } tool_id;
static const char *const tool_names[N_TOOLS] = {"autofocus", "trap", "stack"};

/* What the worker runs: copied from the request before it starts. */
typedef struct job_params {
    tool_id tool;
    json_int_t id;
    tether_roi roi;
    tether_af_mode mode;
    bool no_zoom;
    int zoom;
    double lag_ms, timeout_s;
    int count, direction;
    double span;
    bool merge;
    char session[128], day[16], dir[4400];
    char name_template[160];
} job_params;

struct focus_ctl {
    studio *s;
    station *st;              /* the camera it works (it belongs to its station) */
    pthread_mutex_t lock;
    tether_roi area;
    json_t *job;               /* the running tool ({"id", "tool", "started", "options"}) or NULL */
    json_t *progress;          /* its last progress report, or NULL */
    json_t *last[N_TOOLS];     /* the last result of each tool, or NULL */
    json_int_t next_id;
    int driving;               /* drive requests under way */
    studio_worker worker;
    atomic_bool stop;
    int64_t published_ns;      /* when the last progress event went out */
    char stage[32];            /* and its stage */
    int zoom;                  /* the live-view magnification the studio set (1: none) */
    job_params p;
};

/* ---- helpers ------------------------------------------------------------------ */

/* A number for JSON: jansson refuses NaN and infinities. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *roi_json(const tether_roi *a)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "x", num(a->x), "y", num(a->y), "w", num(a->w), "h", num(a->h));
}

/* Reads {"x", "y", "w", "h"} in fractions of the frame; false with a
 * message for a person when it is not a usable focus area. */
static bool roi_from_json(json_t *j, tether_roi *out, char *err, size_t errsz)
{
    if (!json_is_object(j)) {
        snprintf(err, errsz, "the focus area is {\"x\", \"y\", \"w\", \"h\"} in fractions of the frame");
        return false;
    }
    static const char *const names[4] = {"x", "y", "w", "h"};
    double v[4];
    for (int i = 0; i < 4; i++) {
        json_t *n = json_object_get(j, names[i]);
        if (!json_is_number(n) || !isfinite(json_number_value(n))) {
            snprintf(err, errsz, "the focus area needs \"%s\", a number from 0 to 1", names[i]);
            return false;
        }
        v[i] = json_number_value(n);
        if (v[i] < 0 || v[i] > 1) {
            snprintf(err, errsz, "\"%s\" is %g; the focus area is given in fractions of the frame (0 to 1)",
                     names[i], v[i]);
            return false;
        }
    }
    if (v[2] <= 0.02 || v[3] <= 0.02) {
        snprintf(err, errsz, "the focus area is too small (%g x %g); w and h must be more than 0.02", v[2], v[3]);
        return false;
    }
    if (v[0] + v[2] > 1 + 1e-9 || v[1] + v[3] > 1 + 1e-9) {
        snprintf(err, errsz, "the focus area (x %g + w %g, y %g + h %g) reaches outside the frame", v[0], v[2],
                 v[1], v[3]);
        return false;
    }
    *out = (tether_roi){v[0], v[1], v[2], v[3]};
    return true;
}

/* The body as an object, or an empty one when there is none; NULL when
 * answered (malformed). */
static json_t *body_or_empty(const http_request *r, enum MHD_Result *answered)
{
    if (r->body == NULL || r->body_len == 0) return json_object();
    return http_json_body(r, answered);
}

/* An optional number in [lo, hi]; false (message in err) when present and
 * not such a number. */
static bool opt_number(json_t *body, const char *name, double lo, double hi, double *out, char *err, size_t errsz)
{
    json_t *v = json_object_get(body, name);
    if (v == NULL || json_is_null(v)) return true;
    double x = json_number_value(v);
    if (!json_is_number(v) || !isfinite(x) || x < lo || x > hi) {
        snprintf(err, errsz, "\"%s\" must be a number from %g to %g", name, lo, hi);
        return false;
    }
    *out = x;
    return true;
}

static bool opt_bool(json_t *body, const char *name, bool *out, char *err, size_t errsz)
{
    json_t *v = json_object_get(body, name);
    if (v == NULL || json_is_null(v)) return true;
    if (!json_is_boolean(v)) {
        snprintf(err, errsz, "\"%s\" must be true or false", name);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* ---- the worker ------------------------------------------------------------------- */

static bool on_stop(void *user)
{
    focus_ctl *fc = user;
    return atomic_load(&fc->stop) || fc->s->stopping || fc->st->stopping;
}

static void on_progress(void *user, const tether_focus_progress *p)
{
    focus_ctl *fc = user;
    int64_t now = clock_mono_ns();
    const char *stage = p->stage ? p->stage : "";
    json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:o, s:o, s:o}", "job", fc->p.id, "tool",
                          p->tool ? p->tool : tool_names[fc->p.tool], "stage", stage, "frames", p->frames,
                          "measure", num(p->measure), "position", num(p->position), "fraction", num(p->fraction));
    if (j == NULL) return;
    pthread_mutex_lock(&fc->lock);
    json_decref(fc->progress);
    fc->progress = json_incref(j);
    if (strcmp(fc->stage, stage) != 0 || now - fc->published_ns >= PROGRESS_EVERY_NS) {
        snprintf(fc->stage, sizeof fc->stage, "%s", stage);
        fc->published_ns = now;
        station_publish(fc->st, "focus", json_deep_copy(j));
    }
    pthread_mutex_unlock(&fc->lock);
    json_decref(j);
}

/* Catalogs the files of one shot and announces them as a capture. */
static json_t *register_files(focus_ctl *fc, char (*files)[1024], char (*camera)[512], int n, const char *source)
{
    json_t *photos = json_array();
    for (int i = 0; i < n; i++) {
        json_t *ph = studio_register_photo(fc->s, &fc->st->origin, fc->p.session, fc->p.day, files[i], camera ? camera[i] : "");
        if (ph) json_array_append_new(photos, ph);
    }
    if (json_array_size(photos) > 0)
        station_publish(fc->st, "capture", json_pack("{s:O, s:s}", "photos", photos, "source", source));
    return photos;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The pictures a stack left in its folder (frames, then merged.jpg),
 * catalogued in name order. */
static json_t *register_stack(focus_ctl *fc, const char *folder)
{
    DIR *d = opendir(folder);
    if (d == NULL) return json_array();
    int cap = 16, n = 0;
    char(*files)[1024] = malloc((size_t)cap * sizeof *files);
    struct dirent *e;
    while (files && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* thumbnails, temporary files */
        if (n == cap) {
            char(*more)[1024] = realloc(files, (size_t)cap * 2 * sizeof *files);
            if (more == NULL) break;
            files = more;
            cap *= 2;
        }
        int len = snprintf(files[n], sizeof files[n], "%s/%s", folder, e->d_name);
        if (len > 0 && (size_t)len < sizeof files[n]) n++;
    }
    closedir(d);
    if (files == NULL) return json_array();
    qsort(files, (size_t)n, sizeof *files, by_name);
    /* merged.jpg sorts after the numbered frames ('m' > digits) */
    json_t *photos = register_files(fc, files, NULL, n, "stack");
    free(files);
    return photos;
}

/* The path below the photo root, or the path itself. */
static const char *below_root(const studio *s, const char *path)
{
    size_t rl = strlen(s->root);
    return strncmp(path, s->root, rl) == 0 && path[rl] == '/' ? path + rl + 1 : path;
}

/* The library's message with the photo root left out of the paths in it
 * ("…merged into default/2026-11-22/stack-…/merged.jpg"). */
static json_t *message_below_root(const studio *s, const char *msg)
{
    char out[600], prefix[4100];
    snprintf(prefix, sizeof prefix, "%s/", s->root);
    size_t pl = strlen(prefix), n = 0;
    for (const char *p = msg; *p && n + 1 < sizeof out;) {
        if (strncmp(p, prefix, pl) == 0) {
            p += pl;
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    return json_string(out);
}

static json_t *run_af(focus_ctl *fc)
{
    tether_af_options o = {.roi = fc->p.roi, .mode = fc->p.mode, .no_zoom = fc->p.no_zoom,
                           .progress = on_progress, .stop = on_stop, .user = fc};
    tether_af_result r = {0};
    int rc = tether_focus_auto(fc->st->cam, &o, &r);
    if (r.status[0] == '\0') snprintf(r.status, sizeof r.status, "%s", rc ? "error" : "no-peak");
    if (r.message[0] == '\0') snprintf(r.message, sizeof r.message, "Autofocus failed: %s.", tether_strerror(rc));
    json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:s, s:i, s:i, s:i, s:o, s:i, s:i, s:o, s:o, s:o}",
                          "tool", "autofocus", "status", r.status, "focused", r.focused, "message", r.message,
                          "mode", fc->p.mode == TETHER_AF_NEAREST ? "nearest" : "global",
                          "frames", r.measured_frames, "settle_frames", r.settle_frames, "commands", r.commands,
                          "seconds", num(r.seconds), "zoom", r.zoom, "peaks", r.peaks,
                          "peak_measure", num(r.peak_measure), "final_measure", num(r.final_measure),
                          "position", num(r.position));
    if (rc) json_object_set_new(j, "error", json_string(tether_strerror(rc)));
    return j;
}

static json_t *run_trap(focus_ctl *fc)
{
    tether_shot shot = {0};
    tether_trap_options o = {.roi = fc->p.roi, .zoom = fc->p.zoom, .lag_ms = fc->p.lag_ms,
                             .timeout_s = fc->p.timeout_s, .dir = fc->p.dir, .name_template = fc->p.name_template,
                             .session = fc->p.session, .progress = on_progress, .stop = on_stop, .user = fc};
    tether_trap_result r = {.shot = &shot};
    int rc = tether_focus_trap(fc->st->cam, &o, &r);
    if (r.status[0] == '\0') snprintf(r.status, sizeof r.status, "%s", rc ? "error" : "cancelled");
    if (r.reason[0] == '\0') snprintf(r.reason, sizeof r.reason, "Trap focus stopped: %s.", tether_strerror(rc));
    json_t *photos = r.fired ? register_files(fc, shot.files, shot.camera_files, shot.n_files, "trap") : json_array();
    json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "tool", "trap", "status",
                          r.status, "fired", r.fired, "reason", r.reason, "message", r.reason, "frames", r.frames,
                          "seconds", num(r.seconds), "predicted_ms", num(r.predicted_ms), "lag_ms", num(r.lag_ms),
                          "photos", photos);
    if (rc) json_object_set_new(j, "error", json_string(tether_strerror(rc)));
    return j;
}

static json_t *run_stack(focus_ctl *fc)
{
    tether_stack_options o = {.count = fc->p.count, .span = fc->p.span, .direction = fc->p.direction,
                              .dir = fc->p.dir, .session = fc->p.session, .merge = fc->p.merge,
                              .progress = on_progress, .stop = on_stop, .user = fc};
    tether_stack_result *r = calloc(1, sizeof *r);
    if (r == NULL) return json_pack("{s:s, s:s, s:s}", "tool", "stack", "status", "error", "message", "Out of memory.");
    int rc = tether_focus_stack(fc->st->cam, &o, r);
    const char *status = rc ? "error" : r->taken < fc->p.count ? (on_stop(fc) ? "cancelled" : "error") : "done";
    if (r->message[0] == '\0') snprintf(r->message, sizeof r->message, "The stack failed: %s.", tether_strerror(rc));
    json_t *photos = r->folder[0] ? register_stack(fc, r->folder) : json_array();
    char merged[1200] = "";
    if (r->merged[0]) snprintf(merged, sizeof merged, "/photos/%s", below_root(fc->s, r->merged));
    json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:s, s:s?, s:o, s:b, s:o}", "tool", "stack", "status",
                          status, "taken", r->taken, "count", fc->p.count, "span", num(fc->p.span), "step",
                          num(r->step), "folder", below_root(fc->s, r->folder), "merged",
                          merged[0] ? merged : NULL, "message", message_below_root(fc->s, r->message), "merge", fc->p.merge, "photos", photos);
    if (rc) json_object_set_new(j, "error", json_string(tether_strerror(rc)));
    free(r);
    return j;
}

static void *worker(void *arg)
{
    focus_ctl *fc = arg;
    log_set_thread_name("focus");
    LOG_INFO("focus", "%s started (job %lld)", tool_names[fc->p.tool], (long long)fc->p.id);
    json_t *result = fc->p.tool == TOOL_AF ? run_af(fc) : fc->p.tool == TOOL_TRAP ? run_trap(fc) : run_stack(fc);
    if (result == NULL) result = json_pack("{s:s, s:s, s:s}", "tool", tool_names[fc->p.tool], "status", "error",
                                           "message", "The result could not be reported.");
    json_object_set_new(result, "job", json_integer(fc->p.id));
    json_object_set_new(result, "finished", json_integer((json_int_t)time(NULL)));
    LOG_INFO("focus", "%s ended: %s: %s", tool_names[fc->p.tool],
             json_string_value(json_object_get(result, "status")), json_string_value(json_object_get(result, "message")));
    pthread_mutex_lock(&fc->lock);
    json_decref(fc->last[fc->p.tool]);
    fc->last[fc->p.tool] = json_incref(result);
    json_decref(fc->job);
    fc->job = NULL;
    json_decref(fc->progress);
    fc->progress = NULL;
    station_publish(fc->st, "focus_result", result);
    pthread_mutex_unlock(&fc->lock);
    return NULL;
}

/* Starts the worker on p unless something runs.  Called with fc->lock
 * held.  Returns the job (new reference) or NULL when busy (*busy_with
 * names what runs) or out of resources. */
static json_t *start_locked(focus_ctl *fc, const job_params *p, json_t *options, const char **busy_with)
{
    if (fc->job || fc->driving) {
        *busy_with = fc->job ? json_string_value(json_object_get(fc->job, "tool")) : "the focus drive";
        return NULL;
    }
    fc->p = *p; /* no worker runs: the new one reads it without the lock */
    fc->zoom = 1; /* the tools set the magnification they use, and end without */
    fc->p.id = ++fc->next_id;
    char session[128];
    studio_session(fc->s, session, sizeof session);
    snprintf(fc->p.session, sizeof fc->p.session, "%s", session);
    studio_today(fc->p.day, sizeof fc->p.day);
    snprintf(fc->p.dir, sizeof fc->p.dir, "%s/%s/%s", fc->s->root, fc->p.session, fc->p.day);
    station_name_template(fc->st, fc->p.name_template, sizeof fc->p.name_template);
    atomic_store(&fc->stop, false);
    fc->stage[0] = '\0';
    fc->published_ns = 0;
    json_t *job = json_pack("{s:I, s:s, s:I, s:O}", "id", fc->p.id, "tool", tool_names[fc->p.tool], "started",
                            (json_int_t)time(NULL), "options", options);
    if (job == NULL || !studio_worker_start(&fc->worker, worker, fc)) { /* joins the last, finished one */
        json_decref(job);
        *busy_with = NULL;
        return NULL;
    }
    fc->job = job;
    return json_deep_copy(job); /* the caller's: the worker drops fc->job on its own thread */
}

static enum MHD_Result start(focus_ctl *fc, const http_request *r, const job_params *p, json_t *options)
{
    if (!tether_camera_connected(fc->st->cam)) { /* refused now, not run later behind the photographer's back */
        json_decref(options);
        return http_error(r, 503, "camera_disconnected", "%s: the camera is lost; try again once it is back",
                          tool_names[p->tool]);
    }
    pthread_mutex_lock(&fc->lock);
    const char *busy_with = NULL;
    json_t *job = start_locked(fc, p, options, &busy_with);
    pthread_mutex_unlock(&fc->lock);
    json_decref(options);
    if (job == NULL && busy_with)
        return http_error(r, 409, "focus_busy", "%s is running; cancel it first (POST /api/focus/cancel)", busy_with);
    if (job == NULL) return http_error(r, 500, "internal", "cannot start the focus tool");
    return http_json(r, 202, json_pack("{s:o}", "job", job));
}

/* ---- routes ------------------------------------------------------------------------- */

static enum MHD_Result get_focus(focus_ctl *fc, const http_request *r)
{
    pthread_mutex_lock(&fc->lock);
    json_t *running = json_null();
    if (fc->job) {
        running = json_deep_copy(fc->job);
        /* copies, never the worker's objects: jansson's reference counts do
         * not order one thread's reads before another's free */
        json_object_set_new(running, "progress", fc->progress ? json_deep_copy(fc->progress) : json_null());
        json_object_set_new(running, "stopping", json_boolean(atomic_load(&fc->stop)));
    }
    json_t *last = json_object();
    for (int i = 0; i < N_TOOLS; i++)
        json_object_set_new(last, tool_names[i], fc->last[i] ? json_deep_copy(fc->last[i]) : json_null());
    json_t *j = json_pack("{s:o, s:o, s:o, s:b, s:i}", "area", roi_json(&fc->area), "running", running, "last", last,
                          "enfuse", tether_focus_can_merge(), "zoom", fc->zoom > 1 ? fc->zoom : 1);
    pthread_mutex_unlock(&fc->lock);
    return http_json(r, 200, j);
}

static enum MHD_Result put_area(focus_ctl *fc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    tether_roi a;
    char err[300];
    bool ok = roi_from_json(body, &a, err, sizeof err);
    json_decref(body);
    if (!ok) return http_error(r, 400, "bad_value", "%s", err);
    pthread_mutex_lock(&fc->lock);
    fc->area = a;
    station_publish(fc->st, "focus_area", json_pack("{s:o}", "area", roi_json(&a)));
    pthread_mutex_unlock(&fc->lock);
    return http_json(r, 200, json_pack("{s:o}", "area", roi_json(&a)));
}

/* The focus area of a request: its "roi" if given (for that run only),
 * else the studio's. */
static bool request_roi(focus_ctl *fc, json_t *body, tether_roi *out, char *err, size_t errsz)
{
    json_t *roi = json_object_get(body, "roi");
    if (roi && !json_is_null(roi)) return roi_from_json(roi, out, err, errsz);
    pthread_mutex_lock(&fc->lock);
    *out = fc->area;
    pthread_mutex_unlock(&fc->lock);
    return true;
}

/* Answers 400 not_supported (and returns false) when the camera says it
 * has no focus control: nothing is started that could only fail.  A
 * camera that has not answered yet is let through (the tool says why it
 * failed). */
static bool has_focus_control(focus_ctl *fc, const http_request *r, const char *what, enum MHD_Result *answered)
{
    tether_capabilities caps;
    if (tether_camera_capabilities(fc->st->cam, &caps) != TETHER_OK || caps.focus.kind != TETHER_FOCUS_NONE)
        return true;
    *answered = http_error(r, 400, "not_supported", "%s: this camera has no focus control (no focus drive, no "
                           "focus position)", what);
    return false;
}

static enum MHD_Result post_auto(focus_ctl *fc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = body_or_empty(r, &answered);
    if (body == NULL) return answered;
    job_params p = {.tool = TOOL_AF, .mode = TETHER_AF_GLOBAL};
    char err[300] = "";
    json_t *mode = json_object_get(body, "mode");
    const char *m = json_string_value(mode);
    if (mode && !json_is_null(mode) && !(m && (strcmp(m, "global") == 0 || strcmp(m, "nearest") == 0)))
        snprintf(err, sizeof err, "\"mode\" is \"global\" (the sharpest peak) or \"nearest\" (the nearest subject)");
    else if (m && strcmp(m, "nearest") == 0)
        p.mode = TETHER_AF_NEAREST;
    if (!err[0]) opt_bool(body, "no_zoom", &p.no_zoom, err, sizeof err);
    if (!err[0]) request_roi(fc, body, &p.roi, err, sizeof err);
    json_decref(body);
    if (err[0]) return http_error(r, 400, "bad_value", "%s", err);
    if (!has_focus_control(fc, r, "autofocus", &answered)) return answered;
    json_t *options = json_pack("{s:s, s:o, s:b}", "mode", p.mode == TETHER_AF_NEAREST ? "nearest" : "global",
                                "roi", roi_json(&p.roi), "no_zoom", p.no_zoom);
    return start(fc, r, &p, options);
}

/* Stops the running tool if it is `only` (or any tool when only is
 * NULL); returns the job it stops (new reference) or NULL. */
static json_t *stop_tool(focus_ctl *fc, const char *only)
{
    pthread_mutex_lock(&fc->lock);
    json_t *job = NULL;
    if (fc->job && (only == NULL || strcmp(json_string_value(json_object_get(fc->job, "tool")), only) == 0)) {
        atomic_store(&fc->stop, true);
        job = json_deep_copy(fc->job); /* the worker drops its own */
    }
    pthread_mutex_unlock(&fc->lock);
    return job;
}

static enum MHD_Result post_trap(focus_ctl *fc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *on = json_object_get(body, "on");
    if (!json_is_boolean(on)) {
        json_decref(body);
        return http_error(r, 400, "bad_request", "expected {\"on\": true} or {\"on\": false}");
    }
    if (!json_is_true(on)) {
        json_decref(body);
        json_t *job = stop_tool(fc, "trap");
        return http_json(r, 200, json_pack("{s:b, s:o}", "on", 0, "stopping", job ? job : json_null()));
    }
    job_params p = {.tool = TOOL_TRAP, .zoom = 1};
    char err[300] = "";
    double zoom = 1;
    if (opt_number(body, "zoom", 0, 10, &zoom, err, sizeof err) && zoom != 0 && zoom != 1 && zoom != 5 && zoom != 10)
        snprintf(err, sizeof err, "\"zoom\" is the live-view magnification: 1, 5 or 10");
    p.zoom = zoom < 1 ? 1 : (int)zoom;
    if (!err[0]) opt_number(body, "lag_ms", 0, 2000, &p.lag_ms, err, sizeof err);
    if (!err[0]) opt_number(body, "timeout_s", 0, 3600, &p.timeout_s, err, sizeof err);
    if (!err[0]) request_roi(fc, body, &p.roi, err, sizeof err);
    json_decref(body);
    if (err[0]) return http_error(r, 400, "bad_value", "%s", err);
    json_t *options = json_pack("{s:o, s:i, s:o, s:o}", "roi", roi_json(&p.roi), "zoom", p.zoom, "lag_ms",
                                num(p.lag_ms), "timeout_s", num(p.timeout_s));
    return start(fc, r, &p, options);
}

static enum MHD_Result post_stack(focus_ctl *fc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    job_params p = {.tool = TOOL_STACK, .direction = 1, .merge = true};
    char err[300] = "";
    json_t *count = json_object_get(body, "count"), *span = json_object_get(body, "span");
    const char *dir = json_string_value(json_object_get(body, "direction"));
    if (!json_is_integer(count) || json_integer_value(count) < 2 || json_integer_value(count) > 200)
        snprintf(err, sizeof err, "\"count\" is the number of pictures, an integer from 2 to 200");
    else if (!json_is_number(span) || !(json_number_value(span) >= 1 && json_number_value(span) <= 2000))
        snprintf(err, sizeof err, "\"span\" is the focus travel from the first picture to the last, 1 to 2000 "
                                  "steps (Near1)");
    else if (json_object_get(body, "direction") && !(dir && (strcmp(dir, "near") == 0 || strcmp(dir, "far") == 0)))
        snprintf(err, sizeof err, "\"direction\" is \"near\" (from here towards the close-focus stop) or \"far\"");
    else
        opt_bool(body, "merge", &p.merge, err, sizeof err);
    if (!err[0]) {
        p.count = (int)json_integer_value(count);
        p.span = json_number_value(span);
        p.direction = dir && strcmp(dir, "far") == 0 ? -1 : 1;
    }
    json_decref(body);
    if (err[0]) return http_error(r, 400, "bad_value", "%s", err);
    if (!has_focus_control(fc, r, "focus stack", &answered)) return answered;
    json_t *options = json_pack("{s:i, s:o, s:s, s:b}", "count", p.count, "span", num(p.span), "direction",
                                p.direction > 0 ? "near" : "far", "merge", p.merge);
    return start(fc, r, &p, options);
}

static enum MHD_Result post_cancel(focus_ctl *fc, const http_request *r)
{
    json_t *job = stop_tool(fc, NULL);
    return http_json(r, 200, json_pack("{s:b, s:o}", "cancelled", job != NULL, "job", job ? job : json_null()));
}

static enum MHD_Result post_drive(focus_ctl *fc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    const char *dir = json_string_value(json_object_get(body, "direction"));
    double step = 1, count = 1;
    char err[300] = "";
    if (!(dir && (strcmp(dir, "near") == 0 || strcmp(dir, "far") == 0)))
        snprintf(err, sizeof err, "\"direction\" is \"near\" or \"far\"");
    else if (opt_number(body, "step", 1, 3, &step, err, sizeof err) && step != floor(step))
        snprintf(err, sizeof err, "\"step\" is 1, 2 or 3 (Canon's Near/Far 1, 2, 3)");
    else if (!err[0] && opt_number(body, "count", 1, 100, &count, err, sizeof err) && count != floor(count))
        snprintf(err, sizeof err, "\"count\" is an integer from 1 to 100");
    int direction = dir && strcmp(dir, "near") == 0 ? 1 : -1;
    json_decref(body);
    if (err[0]) return http_error(r, 400, "bad_value", "%s", err);
    if (!has_focus_control(fc, r, "focus drive", &answered)) return answered;
    pthread_mutex_lock(&fc->lock);
    const char *busy = fc->job ? json_string_value(json_object_get(fc->job, "tool")) : NULL;
    enum MHD_Result ret = MHD_NO;
    if (busy) ret = http_error(r, 409, "focus_busy", "%s is running; cancel it first (POST /api/focus/cancel)", busy);
    else fc->driving++;
    pthread_mutex_unlock(&fc->lock);
    if (busy) return ret;
    int rc = tether_focus_drive(fc->st->cam, direction, (int)step, (int)count);
    pthread_mutex_lock(&fc->lock);
    fc->driving--;
    pthread_mutex_unlock(&fc->lock);
    if (rc != TETHER_OK) return api_camera_error(fc->st, r, rc, "focus drive");
    return http_json(r, 200, json_pack("{s:s, s:i, s:i}", "direction", direction > 0 ? "near" : "far", "step",
                                       (int)step, "count", (int)count));
}

/* POST /api/focus/zoom {"factor": 1|5|10}: the camera's magnified live
 * view, centred on the focus area (the whole frame is then that area
 * magnified: the page draws no box while it lasts). */
static enum MHD_Result post_zoom(focus_ctl *fc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    double factor = 0;
    char err[200] = "";
    if (!opt_number(body, "factor", 1, 10, &factor, err, sizeof err) || factor < 1 || factor != floor(factor))
        snprintf(err, sizeof err, "\"factor\" is the magnification: 1 (none), 5 or 10");
    json_decref(body);
    if (err[0]) return http_error(r, 400, "bad_value", "%s", err);
    tether_capabilities caps;
    if (tether_camera_capabilities(fc->st->cam, &caps) == TETHER_OK && !(caps.bits & TETHER_CAP_ZOOM))
        return http_error(r, 400, "not_supported", "this camera has no magnified live view");
    pthread_mutex_lock(&fc->lock);
    tether_roi a = fc->area;
    pthread_mutex_unlock(&fc->lock);
    int rc = tether_liveview_zoom(fc->st->cam, (int)factor, a.x + a.w / 2, a.y + a.h / 2);
    if (rc == TETHER_ERR_BAD_VALUE)
        return http_error(r, 400, "bad_value", "this camera magnifies by %s", caps.focus.zoom_max >= 10 ? "5 or 10" : "5");
    if (rc != TETHER_OK) return api_camera_error(fc->st, r, rc, "magnified live view");
    pthread_mutex_lock(&fc->lock);
    fc->zoom = (int)factor;
    pthread_mutex_unlock(&fc->lock);
    station_publish(fc->st, "focus_zoom", json_pack("{s:i}", "factor", (int)factor));
    return http_json(r, 200, json_pack("{s:i}", "factor", (int)factor));
}

static enum MHD_Result get_measure(focus_ctl *fc, const http_request *r)
{
    pthread_mutex_lock(&fc->lock);
    tether_roi area = fc->area;
    pthread_mutex_unlock(&fc->lock);
    /* the newest frame: one that arrived after the request did */
    tether_frame *f = NULL;
    int rc = stream_fresh_frame(fc->st, clock_mono_ns(), &f);
    if (rc != TETHER_OK)
        return http_error(r, 503, rc == TETHER_ERR_DISCONNECTED ? "camera_disconnected" : "no_frame",
                          "no live-view frame: %s", tether_strerror(rc));
    tether_focus_measures m;
    rc = tether_focus_measure_jpeg(tether_frame_data(f), tether_frame_size(f), &area, &m);
    tether_frame_unref(f);
    if (rc != TETHER_OK) return http_error(r, 502, "camera_error", "the live-view frame could not be measured: %s",
                                           tether_strerror(rc));
    return http_json(r, 200, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i}", "area", roi_json(&area),
                                       "tenengrad", num(m.tenengrad), "tenengrad_coarse", num(m.tenengrad_coarse),
                                       "lapv", num(m.lapv), "dct", num(m.dct), "median_residual",
                                       num(m.median_residual), "mean", num(m.mean), "roi_width", m.roi_width,
                                       "roi_height", m.roi_height));
}

enum MHD_Result focus_handle(station *st, const http_request *r, const char *rest)
{
    focus_ctl *fc = st->focus;
    bool get = http_is(r, "GET"), post = http_is(r, "POST");
    if (strcmp(rest, "") == 0) return get ? get_focus(fc, r) : http_error(r, 405, "method_not_allowed", "use GET");
    if (strcmp(rest, "/area") == 0) {
        if (get) {
            pthread_mutex_lock(&fc->lock);
            json_t *a = roi_json(&fc->area);
            pthread_mutex_unlock(&fc->lock);
            return http_json(r, 200, json_pack("{s:o}", "area", a));
        }
        if (post || http_is(r, "PUT")) return put_area(fc, r);
        return http_error(r, 405, "method_not_allowed", "use GET, PUT or POST");
    }
    if (strcmp(rest, "/measure") == 0) return get ? get_measure(fc, r) : http_error(r, 405, "method_not_allowed", "use GET");
    if (!post) {
        static const char *const posts[] = {"/auto", "/trap", "/stack", "/cancel", "/drive", "/zoom"};
        for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++)
            if (strcmp(rest, posts[i]) == 0) return http_error(r, 405, "method_not_allowed", "use POST");
        return http_error(r, 404, "not_found", "no API route %s", r->url);
    }
    if (strcmp(rest, "/auto") == 0) return post_auto(fc, r);
    if (strcmp(rest, "/trap") == 0) return post_trap(fc, r);
    if (strcmp(rest, "/stack") == 0) return post_stack(fc, r);
    if (strcmp(rest, "/cancel") == 0) return post_cancel(fc, r);
    if (strcmp(rest, "/drive") == 0) return post_drive(fc, r);
    if (strcmp(rest, "/zoom") == 0) return post_zoom(fc, r);
    return http_error(r, 404, "not_found", "no API route %s", r->url);
}

/* ---- life cycle ------------------------------------------------------------------------- */

focus_ctl *focus_ctl_new(station *st)
{
    focus_ctl *fc = calloc(1, sizeof *fc);
    if (fc == NULL) return NULL;
    fc->s = st->s;
    fc->st = st;
    pthread_mutex_init(&fc->lock, NULL);
    fc->area = (tether_roi){0.4, 0.4, 0.2, 0.2}; /* the library's default: the central 20 % x 20 % */
    fc->zoom = 1;
    atomic_init(&fc->stop, false);
    return fc;
}

void focus_ctl_free(focus_ctl *fc)
{
    if (fc == NULL) return;
    atomic_store(&fc->stop, true);
    studio_worker_join(&fc->worker, &fc->lock);
    json_decref(fc->job);
    json_decref(fc->progress);
    for (int i = 0; i < N_TOOLS; i++) json_decref(fc->last[i]);
    pthread_mutex_destroy(&fc->lock);
    free(fc);
}
