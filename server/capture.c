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

#include "base/clock.h"
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
    int64_t fire_at_ns;        /* with a rig: fire at this CLOCK_REALTIME, after the gate; 0: at once */
    char session[128], day[16];
    int64_t trigger_ns;        /* CLOCK_REALTIME just before the capture command; 0 if none went */
    int rc;                    /* the capture's tether_err */
    char detail[512];          /* the camera's message on failure */
    json_t *photos;            /* catalogued photos (new reference) or NULL */
    const char *lost;          /* a file saved but not catalogued, or NULL */
    char lost_path[1024];
} shot_job;

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
    if (j->fire_at_ns > 0) { /* with the rig's nodes: at the time they were given */
        clock_sleep_until_real_ns(j->fire_at_ns);
    }
    j->trigger_ns = clock_real_ns();
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

/* Fires the chosen cameras together and answers every camera's result.
 * With cameras of rig nodes among them, every camera fires at one time T
 * (now + lead): the nodes are told T first, then the local cameras sleep
 * until it (body "fire": "now" sends T = 0, "at once", to compare). */
static enum MHD_Result capture_several(studio *s, const http_request *r, json_t *body)
{
    json_t *cameras = json_object_get(body, "cameras");
    station *list[STUDIO_MAX_CAMERAS];
    int n;
    enum MHD_Result answered = MHD_NO;
    const char *fire = json_string_value(json_object_get(body, "fire"));
    json_t *lead = json_object_get(body, "lead_ms");
    if ((fire && strcmp(fire, "at") != 0 && strcmp(fire, "now") != 0) ||
        (lead && (!json_is_integer(lead) || json_integer_value(lead) < 1 || json_integer_value(lead) > 10000)))
        return http_error(r, 400, "bad_request", "\"fire\" is \"at\" (default) or \"now\"; \"lead_ms\" 1 to 10000");
    if (!chosen_stations(s, r, cameras, list, &n, &answered)) return answered;
    if (!folder_usable(s)) {
        for (int i = 0; i < n; i++) station_unref(list[i]);
        return api_storage_error(s, r, TETHER_ERR_STORAGE, "capture (nothing was taken)", NULL);
    }
    shot_job jobs[STUDIO_MAX_CAMERAS];
    pthread_t threads[STUDIO_MAX_CAMERAS];
    bool entered[STUDIO_MAX_CAMERAS], started[STUDIO_MAX_CAMERAS];
    rig_fire_job remote[STUDIO_MAX_CAMERAS];
    int n_remote = 0, remote_of[STUDIO_MAX_CAMERAS];
    char session[128], day[16], shot_id[80] = "";
    studio_session(s, session, sizeof session);
    studio_today(day, sizeof day);
    for (int i = 0; i < n; i++)
        if (list[i]->remote) n_remote++;
    int64_t fire_at = 0;
    if (n_remote > 0) {
        rig_shot_id(s, shot_id, sizeof shot_id);
        if (!(fire && strcmp(fire, "now") == 0))
            fire_at = clock_real_ns() + (lead ? json_integer_value(lead) : s->rig_lead_ms) * 1000000LL;
        n_remote = 0;
    }
    for (int i = 0; i < n; i++) {
        jobs[i] = (shot_job){.st = list[i], .fire_at_ns = fire_at};
        snprintf(jobs[i].session, sizeof jobs[i].session, "%s", session);
        snprintf(jobs[i].day, sizeof jobs[i].day, "%s", day);
        entered[i] = station_enter(list[i]);
        started[i] = false;
        if (!entered[i]) jobs[i].rc = TETHER_ERR_BUSY;
        remote_of[i] = -1;
        if (list[i]->remote && entered[i]) {
            remote_of[i] = n_remote;
            remote[n_remote++] = (rig_fire_job){.st = list[i]};
        }
    }
    /* every shot thread waits at the gate until all are started, then
     * they go together; a camera whose thread cannot start is fired from
     * this thread once the others are on their way */
    start_gate gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    int n_started = 0;
    /* the nodes first: the command travels during the lead */
    rig_fire *sent = n_remote ? rig_fire_send(s, remote, n_remote, shot_id, fire_at) : NULL;
    for (int i = 0; i < n; i++) {
        if (!entered[i] || list[i]->remote) continue;
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
        if (entered[i] && !started[i] && !list[i]->remote) take_shot(&jobs[i]);
    for (int i = 0; i < n; i++)
        if (started[i]) pthread_join(threads[i], NULL);
    if (n_remote) /* answered once fired and the files are on the node (they follow over HTTP) */
        rig_fire_wait(s, sent, remote, n_remote, (fire_at ? fire_at : clock_real_ns()) + 30000000000LL);
    for (int i = 0; i < n; i++) {
        if (remote_of[i] < 0 || !entered[i]) continue;
        rig_fire_job *f = &remote[remote_of[i]];
        jobs[i].trigger_ns = f->fired_ns;
        if (!f->ok) {
            jobs[i].rc = TETHER_ERR_IO;
            snprintf(jobs[i].detail, sizeof jobs[i].detail, "%s", f->message);
        }
    }

    json_t *shots = json_array();
    int64_t first = 0, last = 0;
    bool all_ok = true;
    for (int i = 0; i < n; i++) {
        shot_job *j = &jobs[i];
        json_t *one = json_pack("{s:s, s:o}", "camera", j->st->origin.id, "photos", j->photos ? j->photos : json_array());
        j->photos = NULL;
        if (remote_of[i] >= 0) {
            const rig_fire_job *f = &remote[remote_of[i]];
            json_t *pending = json_array();
            for (int k = 0; k < f->n_files; k++) json_array_append_new(pending, json_string(f->files[k]));
            json_object_set_new(one, "node", json_string(j->st->node));
            json_object_set_new(one, "pending", pending);
        }
        if (j->trigger_ns) {
            json_object_set_new(one, "trigger_ns", json_integer(j->trigger_ns));
            if (fire_at) json_object_set_new(one, "offset_ms", json_real((double)(j->trigger_ns - fire_at) / 1e6));
            if (first == 0 || j->trigger_ns < first) first = j->trigger_ns;
            if (j->trigger_ns > last) last = j->trigger_ns;
        }
        if (!entered[i]) {
            char msg[300];
            snprintf(msg, sizeof msg, "camera %s already has %d requests waiting for it (is it frozen?); nothing was taken",
                     j->st->origin.id, STATION_MAX_CALLS);
            json_object_set_new(one, "error", json_pack("{s:s, s:s}", "code", "camera_busy", "message", msg));
            all_ok = false;
        } else if (remote_of[i] >= 0 && !remote[remote_of[i]].ok) {
            const rig_fire_job *f = &remote[remote_of[i]];
            json_object_set_new(one, "error", json_pack("{s:s, s:s}", "code", f->code[0] ? f->code : "node_error", "message",
                                                        f->message));
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
    json_t *answer = json_pack("{s:o, s:f}", "shots", shots, "spread_ms", first ? (double)(last - first) / 1e6 : 0.0);
    if (shot_id[0]) json_object_set_new(answer, "shot", json_string(shot_id));
    if (fire_at) json_object_set_new(answer, "fire_at_ns", json_integer(fire_at));
    return http_json(r, all_ok ? 201 : 502, answer);
}

enum MHD_Result capture_post(studio *s, const http_request *r)
{
    json_t *body = NULL;
    if (r->body && r->body_len > 0) {
        enum MHD_Result answered;
        body = http_json_body(r, &answered);
        if (body == NULL) return answered;
    }
    if (json_object_get(body, "cameras")) {
        enum MHD_Result ret = capture_several(s, r, body);
        json_decref(body);
        return ret;
    }
    json_decref(body);
    station *st = station_find(s, NULL);
    enum MHD_Result ret = api_station_route(st, r, "/capture");
    station_unref(st);
    return ret;
}
