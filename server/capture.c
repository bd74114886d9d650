/*
 * capture: POST /api/capture and POST /api/cameras/ID/capture: a picture
 * taken, downloaded into today's folder of the active session, catalogued
 * and announced; and, with {"cameras": "all" | [ids]}, several cameras
 * fired together (docs/API.md, "Several cameras").
 *
 * How several fire together: each camera's capture runs on a thread of
 * its own.  Each first holds its camera (tether_camera_hold: its owner
 * thread finishes the live-view frame it is fetching and then starts
 * nothing of its own, so a capture command is not queued behind a frame),
 * then waits at one gate, opened once every camera is held (or after
 * HOLD_WAIT_MS), so they are released together; each takes CLOCK_REALTIME
 * just before it hands the capture command to its camera (libtether's
 * owner thread of that camera, which sends it at once), and lets go of
 * the hold after the shot.  The answer lists every camera's photos (or error) and
 * that trigger time, and the spread between the first and last trigger.
 * No lock is held while a camera works; each camera is counted in
 * (station_enter), so one that is stuck answers camera_busy instead of
 * holding more workers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "internal.h"

enum { HOLD_WAIT_MS = 1000 }; /* longest a camera may take to finish its live-view frame */

/* Holds the shot threads until every one is ready. */
typedef struct start_gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ready;                 /* threads whose camera is held (or could not be) */
    bool open;
} start_gate;

/* One camera's capture: its result, for the answer. */
typedef struct shot_job {
    station *st;               /* a reference, entered (station_enter) */
    struct start_gate *start;  /* NULL: go at once */
    char session[128], day[16];
    int64_t trigger_ns;        /* CLOCK_REALTIME just before the capture command; 0 if none went */
    int rc;                    /* the capture's tether_err */
    char detail[512];          /* the camera's message on failure */
    json_t *photos;            /* catalogued photos (new reference) or NULL */
    const char *lost;          /* a file saved but not catalogued, or NULL */
    char lost_path[1024];
} shot_job;

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Takes the picture and catalogs its files; publishes the "capture"
 * event.  Any thread. */
static void take_shot(shot_job *j)
{
    station *st = j->st;
    studio *s = st->s;
    char dir[4400], tmpl[160];
    snprintf(dir, sizeof dir, "%s/%s/%s", s->root, j->session, j->day);
    station_name_template(st, tmpl, sizeof tmpl);
    tether_capture_options o = {.dir = dir, .name_template = tmpl, .session = j->session};
    tether_shot shot;
    if (j->start) {
        /* a camera that cannot be held in time is fired all the same */
        (void)tether_camera_hold(st->cam, true, HOLD_WAIT_MS);
        pthread_mutex_lock(&j->start->lock);
        j->start->ready++;
        pthread_cond_broadcast(&j->start->cond);
        while (!j->start->open) pthread_cond_wait(&j->start->cond, &j->start->lock);
        pthread_mutex_unlock(&j->start->lock);
    }
    j->trigger_ns = realtime_ns();
    j->rc = tether_capture(st->cam, &o, &shot);
    if (j->start) tether_camera_hold(st->cam, false, 0);
    if (j->rc != TETHER_OK) {
        tether_camera_last_error(st->cam, j->detail, sizeof j->detail);
        return;
    }
    j->photos = json_array();
    for (int i = 0; i < shot.n_files; i++) {
        json_t *p = studio_register_photo(s, &st->origin, j->session, j->day, shot.files[i], shot.camera_files[i]);
        if (p) {
            json_array_append_new(j->photos, p);
        } else {
            snprintf(j->lost_path, sizeof j->lost_path, "%s", shot.files[i]);
            j->lost = j->lost_path;
        }
    }
    if (json_array_size(j->photos) > 0)
        station_publish(st, "capture", json_pack("{s:o, s:s}", "photos", json_deep_copy(j->photos), "source", "api"));
}

static void *shot_thread(void *arg)
{
    log_set_thread_name("capture");
    take_shot(arg);
    return NULL;
}

/* Is the photo folder fit for a shot?  (The camera keeps nothing once
 * downloaded, so no shot is taken that it cannot hold.) */
static bool folder_usable(studio *s)
{
    json_t *health = studio_storage_json(s, true);
    bool usable = json_is_true(json_object_get(health, "ok"));
    json_decref(health);
    return usable;
}

enum MHD_Result capture_station(station *st, const http_request *r)
{
    studio *s = st->s;
    if (!folder_usable(s)) return api_storage_error(s, r, TETHER_ERR_STORAGE, "capture (nothing was taken)", NULL);
    shot_job j = {.st = st};
    studio_session(s, j.session, sizeof j.session);
    studio_today(j.day, sizeof j.day);
    take_shot(&j);
    if (j.rc != TETHER_OK) return api_camera_error(st, r, j.rc, "capture");
    if (j.lost) {
        json_decref(j.photos);
        char what[1200];
        snprintf(what, sizeof what, "capture: %s was saved but could not be catalogued (it is at the next start)", j.lost);
        return api_storage_error(s, r, TETHER_ERR_STORAGE, what, NULL);
    }
    return http_json(r, 201, json_pack("{s:o}", "photos", j.photos));
}

/* The stations body["cameras"] names ("all" or a list of ids), as new
 * references into out; false with the error answered otherwise. */
static bool chosen_stations(studio *s, const http_request *r, json_t *cameras, station **out, int *n,
                            enum MHD_Result *answered)
{
    *n = 0;
    if (json_is_string(cameras) && strcmp(json_string_value(cameras), "all") == 0) {
        *n = station_list(s, out, STUDIO_MAX_CAMERAS);
        if (*n == 0) *answered = http_error(r, 503, "no_camera", "no camera is served");
        return *n > 0;
    }
    if (!json_is_array(cameras) || json_array_size(cameras) == 0 || json_array_size(cameras) > STUDIO_MAX_CAMERAS) {
        *answered = http_error(r, 400, "bad_request", "\"cameras\" is \"all\" or a list of camera ids (GET /api/cameras)");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(cameras, i, v) {
        const char *id = json_string_value(v);
        station *st = id ? station_find(s, id) : NULL;
        bool twice = false;
        for (int k = 0; k < *n && st && !twice; k++) twice = out[k] == st;
        if (st == NULL || twice) {
            *answered = id == NULL ? http_error(r, 400, "bad_request", "camera ids are strings")
                        : twice    ? http_error(r, 400, "bad_request", "camera \"%s\" is named twice", id)
                                   : http_error(r, 404, "not_found", "no camera \"%s\" (GET /api/cameras)", id);
            station_unref(st);
            for (int k = 0; k < *n; k++) station_unref(out[k]);
            *n = 0;
            return false;
        }
        out[(*n)++] = st;
    }
    return true;
}

/* Fires the chosen cameras together and answers every camera's result. */
static enum MHD_Result capture_several(studio *s, const http_request *r, json_t *cameras)
{
    station *list[STUDIO_MAX_CAMERAS];
    int n;
    enum MHD_Result answered = MHD_NO;
    if (!chosen_stations(s, r, cameras, list, &n, &answered)) return answered;
    if (!folder_usable(s)) {
        for (int i = 0; i < n; i++) station_unref(list[i]);
        return api_storage_error(s, r, TETHER_ERR_STORAGE, "capture (nothing was taken)", NULL);
    }
    shot_job jobs[STUDIO_MAX_CAMERAS];
    pthread_t threads[STUDIO_MAX_CAMERAS];
    bool entered[STUDIO_MAX_CAMERAS], started[STUDIO_MAX_CAMERAS];
    char session[128], day[16];
    studio_session(s, session, sizeof session);
    studio_today(day, sizeof day);
    for (int i = 0; i < n; i++) {
        jobs[i] = (shot_job){.st = list[i]};
        snprintf(jobs[i].session, sizeof jobs[i].session, "%s", session);
        snprintf(jobs[i].day, sizeof jobs[i].day, "%s", day);
        entered[i] = station_enter(list[i]);
        started[i] = false;
        if (!entered[i]) jobs[i].rc = TETHER_ERR_BUSY;
    }
    /* every shot thread waits at the gate until all are started, then
     * they go together; a camera whose thread cannot start is fired from
     * this thread once the others are on their way */
    start_gate gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    int n_started = 0;
    for (int i = 0; i < n; i++) {
        if (!entered[i]) continue;
        jobs[i].start = &gate;
        started[i] = pthread_create(&threads[i], NULL, shot_thread, &jobs[i]) == 0;
        if (!started[i]) jobs[i].start = NULL;
        else n_started++;
    }
    pthread_mutex_lock(&gate.lock);
    while (gate.ready < n_started) pthread_cond_wait(&gate.cond, &gate.lock); /* each waits HOLD_WAIT_MS at most */
    gate.open = true;
    pthread_cond_broadcast(&gate.cond);
    pthread_mutex_unlock(&gate.lock);
    for (int i = 0; i < n; i++)
        if (entered[i] && !started[i]) take_shot(&jobs[i]);
    for (int i = 0; i < n; i++)
        if (started[i]) pthread_join(threads[i], NULL);

    json_t *shots = json_array();
    int64_t first = 0, last = 0;
    bool all_ok = true;
    for (int i = 0; i < n; i++) {
        shot_job *j = &jobs[i];
        json_t *one = json_pack("{s:s, s:o}", "camera", j->st->origin.id, "photos", j->photos ? j->photos : json_array());
        j->photos = NULL;
        if (j->trigger_ns) {
            json_object_set_new(one, "trigger_ns", json_integer(j->trigger_ns));
            if (first == 0 || j->trigger_ns < first) first = j->trigger_ns;
            if (j->trigger_ns > last) last = j->trigger_ns;
        }
        if (!entered[i]) {
            char msg[300];
            snprintf(msg, sizeof msg, "camera %s already has %d requests waiting for it (is it frozen?); nothing was taken",
                     j->st->origin.id, STATION_MAX_CALLS);
            json_object_set_new(one, "error", json_pack("{s:s, s:s}", "code", "camera_busy", "message", msg));
            all_ok = false;
        } else if (j->rc != TETHER_OK) {
            unsigned status;
            const char *code;
            api_camera_error_kind(j->rc, &status, &code);
            if (j->rc == TETHER_ERR_DISK_FULL) code = "storage_full";
            else if (j->rc == TETHER_ERR_STORAGE) code = "storage_error";
            char msg[800];
            snprintf(msg, sizeof msg, "capture: %s%s%s", tether_strerror(j->rc), j->detail[0] ? ": " : "", j->detail);
            json_object_set_new(one, "error", json_pack("{s:s, s:s}", "code", code, "message", msg));
            all_ok = false;
        } else if (j->lost) {
            char msg[1200];
            snprintf(msg, sizeof msg, "%s was saved but could not be catalogued (it is at the next start)", j->lost);
            json_object_set_new(one, "error", json_pack("{s:s, s:s}", "code", "storage_error", "message", msg));
            all_ok = false;
        }
        json_array_append_new(shots, one);
        if (entered[i]) station_leave(j->st);
        station_unref(j->st);
    }
    json_t *body = json_pack("{s:o, s:f}", "shots", shots, "spread_ms", first ? (double)(last - first) / 1e6 : 0.0);
    return http_json(r, all_ok ? 201 : 502, body);
}

enum MHD_Result capture_post(studio *s, const http_request *r)
{
    json_t *cameras = NULL;
    if (r->body && r->body_len > 0) {
        enum MHD_Result answered;
        json_t *body = http_json_body(r, &answered);
        if (body == NULL) return answered;
        cameras = json_incref(json_object_get(body, "cameras"));
        json_decref(body);
    }
    if (cameras) {
        enum MHD_Result ret = capture_several(s, r, cameras);
        json_decref(cameras);
        return ret;
    }
    station *st = station_find(s, NULL);
    enum MHD_Result ret = api_station_route(st, r, "/capture");
    station_unref(st);
    return ret;
}
