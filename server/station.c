/*
 * station: one camera the studio serves, with what is its alone (the
 * camera session, its id, its focus tools, time-lapse and import, its
 * frame pump and event pump, its viewers' counters), and the studio's
 * list of them (internal.h).
 *
 * How it works: station_open opens the camera (or starts a simulator in
 * this process for "sim[:persona]" and opens that over loopback), gives
 * it an id (a slug of its model, "-2", "-3" for a second and third camera
 * of one model; the same id again for an identity seen before in this
 * run), starts its pumps and lists it.  Stations are shared by reference
 * count: the list holds one, so does every handler, MJPEG viewer and job
 * using it, and station_remove waits for the others to go before it
 * closes the camera.  The list's lock is only ever held to read or change
 * the list, never across a camera call.
 *
 * Isolation: each camera has its own owner thread in libtether, so a
 * frozen camera's calls time out there; station_enter bounds the HTTP
 * workers one camera may hold (STATION_MAX_CALLS), so it cannot take the
 * whole pool from the others.  Each station's viewers are woken by its
 * own http_wake kind.
 *
 * "auto" serves every camera tether_list_cameras finds; the watcher
 * thread (station_watch_start) looks again every two seconds and serves
 * those plugged in since.  A USB camera unplugged and plugged in again
 * has a new device number (a new spec): its new station replaces the
 * lost one, and keeps its id (the ids are remembered by identity).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/slug.h"
#include "internal.h"
#include "ptpip/host.h"

#define WATCH_EVERY_NS 2000000000LL

/* ---- references and the list ------------------------------------------------------ */

station *station_ref(station *st)
{
    if (st) st->refs++;
    return st;
}

/* Closes the camera and frees everything (no thread of its own runs). */
static void station_free(station *st)
{
    focus_ctl_free(st->focus);
    interval_ctl_free(st->interval);
    import_ctl_free(st->import);
    tether_camera_close(st->cam);
    simhost_stop(st->sim);
    if (st->remote) {
        blob_unref(st->live_frame);
        pthread_cond_destroy(&st->live_cond);
    }
    pthread_mutex_destroy(&st->lock);
    free(st);
}

void station_unref(station *st)
{
    if (st == NULL) return;
    studio *s = st->s;
    pthread_mutex_lock(&s->stations_lock);
    int left = --st->refs;
    pthread_cond_broadcast(&s->stations_cond);
    pthread_mutex_unlock(&s->stations_lock);
    if (left == 0) station_free(st);
}

station *station_find(studio *s, const char *id)
{
    station *found = NULL;
    pthread_mutex_lock(&s->stations_lock);
    for (int i = 0; i < s->n_stations && found == NULL; i++)
        if (id == NULL || strcmp(s->stations[i]->origin.id, id) == 0) found = station_ref(s->stations[i]);
    pthread_mutex_unlock(&s->stations_lock);
    return found;
}

int station_list(studio *s, station **out, int max)
{
    pthread_mutex_lock(&s->stations_lock);
    int n = 0;
    for (int i = 0; i < s->n_stations && n < max; i++) out[n++] = station_ref(s->stations[i]);
    pthread_mutex_unlock(&s->stations_lock);
    return n;
}

bool station_enter(station *st)
{
    if (++st->calls <= STATION_MAX_CALLS) return true;
    st->calls--;
    return false;
}

void station_leave(station *st)
{
    st->calls--;
}

enum MHD_Result station_busy_error(station *st, const http_request *r)
{
    return http_error(r, 503, "camera_busy",
                      "camera %s already has %d requests waiting for it (is it frozen?); try again later",
                      st->origin.id, STATION_MAX_CALLS);
}

/* The highest {counter} among the catalog's files (catalog_each_file). */
typedef struct highest_counter {
    const char *tmpl;
    int highest;
} highest_counter;

static void note_counter(void *ctx, const char *file)
{
    highest_counter *h = ctx;
    int c;
    if (tether_name_counter(h->tmpl, file, &c) == TETHER_OK && c > h->highest) h->highest = c;
}

/* Makes the camera's {counter} for tmpl go on after the catalog's files
 * (the library looks only in the folder it writes to: today's, of this
 * session), once per template.  Any thread. */
static void continue_counter(station *st, const char *tmpl)
{
    if (st->cam == NULL || strstr(tmpl, "{counter") == NULL) return;
    pthread_mutex_lock(&st->lock);
    bool done = strcmp(st->counted, tmpl) == 0;
    pthread_mutex_unlock(&st->lock);
    if (done) return;
    highest_counter h = {.tmpl = tmpl};
    if (catalog_each_file(st->s->cat, note_counter, &h) != TETHER_OK) return; /* asked again next time */
    tether_counter_continue(st->cam, tmpl, h.highest);
    pthread_mutex_lock(&st->lock);
    snprintf(st->counted, sizeof st->counted, "%s", tmpl);
    pthread_mutex_unlock(&st->lock);
    if (h.highest > 0) LOG_INFO("studio", "camera %s: %s numbers on after %d", st->origin.id, tmpl, h.highest);
}

void station_name_template(station *st, char *out, size_t size)
{
    char user[128];
    pthread_mutex_lock(&st->s->lock);
    snprintf(user, sizeof user, "%s", st->s->name_template);
    pthread_mutex_unlock(&st->s->lock);
    if (user[0] && st->s->several) /* the photographer's names, told apart by camera */
        snprintf(out, size, "%s-%s", st->origin.id, user);
    else if (user[0])
        snprintf(out, size, "%s", user);
    else if (st->s->several)
        snprintf(out, size, "%s-%s-{name}", STUDIO_NAME_TEMPLATE, st->origin.id);
    else
        snprintf(out, size, "%s-{name}", STUDIO_NAME_TEMPLATE);
    continue_counter(st, out);
}

void station_publish(station *st, const char *type, json_t *data)
{
    if (data == NULL) data = json_object();
    if (json_is_object(data)) json_object_set_new(data, "camera", json_string(st->origin.id));
    hub_publish(st->s, type, data);
}

/* The camera's capabilities as GET /api/cameras shows them, or null
 * before the camera first answered. */
static json_t *capabilities_json(tether_camera *cam)
{
    tether_capabilities c;
    if (tether_camera_capabilities(cam, &c) != TETHER_OK) return json_null();
    static const char *const kinds[] = {"none", "relative", "absolute"};
    const tether_focus_caps *f = &c.focus;
    json_t *focus = json_pack("{s:s, s:i}", "kind", (unsigned)f->kind < 3 ? kinds[f->kind] : "none", "zoom_max",
                              f->zoom_max);
    if (f->kind == TETHER_FOCUS_RELATIVE) {
        json_t *units = json_array(), *pace = json_array();
        for (int i = 0; i < f->n_steps && i < 3; i++) {
            json_array_append_new(units, json_integer(f->step_units[i]));
            json_array_append_new(pace, json_integer(f->pace_ms[i]));
        }
        json_object_set_new(focus, "steps", json_integer(f->n_steps));
        json_object_set_new(focus, "step_units", units);
        json_object_set_new(focus, "pace_ms", pace);
        json_object_set_new(focus, "backlash", f->backlash >= 0 ? json_integer(f->backlash) : json_null());
    } else if (f->kind == TETHER_FOCUS_ABSOLUTE) {
        json_object_set_new(focus, "min", json_integer(f->min));
        json_object_set_new(focus, "max", json_integer(f->max));
    }
    if (f->sensor_width > 0)
        json_object_set_new(focus, "sensor", json_pack("[i, i]", f->sensor_width, f->sensor_height));
    json_t *settings = json_array(), *writable = json_array();
    for (int i = 0; i < c.n_settings && i < TETHER_MAX_CANONICAL; i++) {
        json_array_append_new(settings, json_string(c.settings[i]));
        if (c.writable & (1u << i)) json_array_append_new(writable, json_string(c.settings[i]));
    }
    json_t *formats = json_array();
    if (c.liveview_formats & (1u << TETHER_PIXEL_JPEG)) json_array_append_new(formats, json_string("jpeg"));
    if (c.liveview_formats & (1u << TETHER_PIXEL_YUYV)) json_array_append_new(formats, json_string("yuyv"));
    return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:o, s:o}", "backend", c.backend,
                     "capture_to_card", (c.bits & TETHER_CAP_CAPTURE_TO_CARD) != 0, "capture_to_host",
                     (c.bits & TETHER_CAP_CAPTURE_TO_HOST) != 0, "card_files", (c.bits & TETHER_CAP_CARD_FILES) != 0,
                     "liveview", (c.bits & TETHER_CAP_LIVEVIEW) != 0, "liveview_push",
                     (c.bits & TETHER_CAP_LIVEVIEW_PUSH) != 0, "half_press", (c.bits & TETHER_CAP_HALF_PRESS) != 0,
                     "zoom", (c.bits & TETHER_CAP_ZOOM) != 0, "body_shots", (c.bits & TETHER_CAP_BODY_SHOTS) != 0,
                     "settings_tree", (c.bits & TETHER_CAP_SETTINGS) != 0, "liveview_formats", formats, "focus",
                     focus, "settings", settings, "writable", writable);
}

json_t *station_json(station *st)
{
    if (st->remote) return rig_station_json(st);
    char err[512];
    tether_camera_last_error(st->cam, err, sizeof err);
    pthread_mutex_lock(&st->lock);
    int clients = st->stream_clients;
    json_int_t frames = (json_int_t)st->frames_sent;
    pthread_mutex_unlock(&st->lock);
    pthread_mutex_lock(&st->s->stations_lock);
    bool primary = st->s->n_stations > 0 && st->s->stations[0] == st;
    pthread_mutex_unlock(&st->s->stations_lock);
    /* capabilities: null until the camera first answered */
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:{s:i, s:I}}", "id", st->origin.id, "model",
                          st->origin.model, "identity", st->origin.identity, "spec", st->spec, "connected",
                          tether_camera_connected(st->cam), "primary", primary, "simulated", st->simulated,
                          "last_error", err, "stream", "clients", clients, "frames_sent", frames);
    if (j) json_object_set_new(j, "capabilities", capabilities_json(st->cam));
    return j;
}

/* ---- ids ---------------------------------------------------------------------------- */

/* An id for identity: the one it had before in this run, else the first
 * of slug, slug-2, slug-3, ... no camera has.  stations_lock held. */
static void pick_id(studio *s, const char *model, const char *identity, char *out, size_t size)
{
    for (int i = 0; i < s->n_ids; i++)
        if (strcmp(s->ids[i].identity, identity) == 0) {
            snprintf(out, size, "%s", s->ids[i].id);
            return;
        }
    char base[48];
    text_slug(model, base, sizeof base, 40);
    for (int k = 1;; k++) {
        char id[64];
        if (k == 1) snprintf(id, sizeof id, "%s", base);
        else snprintf(id, sizeof id, "%s-%d", base, k);
        bool taken = false;
        for (int i = 0; i < s->n_ids && !taken; i++) taken = strcmp(s->ids[i].id, id) == 0;
        for (int i = 0; i < s->n_stations && !taken; i++) taken = strcmp(s->stations[i]->origin.id, id) == 0;
        if (!taken) {
            snprintf(out, size, "%s", id);
            break;
        }
    }
    if (s->n_ids < (int)(sizeof s->ids / sizeof s->ids[0])) {
        snprintf(s->ids[s->n_ids].identity, sizeof s->ids[0].identity, "%s", identity);
        snprintf(s->ids[s->n_ids].id, sizeof s->ids[0].id, "%s", out);
        s->n_ids++;
    }
}

/* ---- the camera's events ------------------------------------------------------------ */

static const char *event_type(tether_event_type t)
{
    switch (t) {
    case TETHER_EVENT_FILE_ADDED: return "file_added";
    case TETHER_EVENT_CAPTURE_COMPLETE: return "capture_complete";
    case TETHER_EVENT_SETTING_CHANGED: return "setting_changed";
    case TETHER_EVENT_CAMERA_LOST: return "camera_lost";
    case TETHER_EVENT_CAMERA_BACK: return "camera_back";
    default: return "event";
    }
}

/* Points the camera's tethered downloads at today's folder of the active
 * session (shots taken with the body's button land there). */
static void aim_tethered(station *st, char *day, size_t daysz, char *tmpl, size_t tmplsz)
{
    char session[128], dir[4400];
    studio_session(st->s, session, sizeof session);
    studio_today(day, daysz);
    snprintf(dir, sizeof dir, "%s/%s/%s", st->s->root, session, day);
    station_name_template(st, tmpl, tmplsz);
    tether_capture_options o = {.dir = dir, .name_template = tmpl, .session = session};
    tether_tethered_options(st->cam, &o);
}

/* The session and day folders a tethered download was written to
 * (ROOT/SESSION/DAY/FILE): the catalog must say where the file is, even
 * when the active session changed between the download and this look.
 * False when local is not in that shape. */
static bool shot_folders(const studio *s, const char *local, char *session, size_t ssz, char *day, size_t dsz)
{
    char dir[4400];
    const char *slash = strrchr(local, '/');
    if (slash == NULL || (size_t)(slash - local) >= sizeof dir) return false;
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - local), local);
    return studio_folder_parts(s, dir, session, ssz, day, dsz);
}

/* The event pump: turns the camera's events into server-sent events and
 * catalogs shots taken with the camera's button. */
static void *event_pump(void *arg)
{
    station *st = arg;
    studio *s = st->s;
    log_set_thread_name("events");
    char day[16] = "", session[128] = "", aimed[160] = "";
    aim_tethered(st, day, sizeof day, aimed, sizeof aimed);
    studio_session(s, session, sizeof session);
    int64_t last_aim = clock_mono_ns(), last_look = 0;
    /* a subscription of its own: the CLI's or a job's waits take nothing from it */
    tether_event_sub *sub = NULL;
    if (tether_events_subscribe(st->cam, &sub) != TETHER_OK) {
        LOG_ERROR("studio", "camera %s: cannot watch its events", st->origin.id);
        return NULL;
    }
    while (!s->stopping && !st->stopping) {
        char now_session[128];
        studio_session(s, now_session, sizeof now_session);
        char tmpl[160];
        station_name_template(st, tmpl, sizeof tmpl);
        if (clock_mono_ns() - last_aim > 30000000000LL || strcmp(now_session, session) != 0 || strcmp(tmpl, aimed) != 0) {
            /* follow midnight, a change of session, and of the file names
             * (the photographer's, or a second camera's: from then on,
             * names carry the camera's id) */
            snprintf(session, sizeof session, "%s", now_session);
            aim_tethered(st, day, sizeof day, aimed, sizeof aimed);
            last_aim = clock_mono_ns();
        }
        if (clock_mono_ns() - last_look > 2000000000LL) { /* a change of the folder's health is announced */
            json_decref(studio_storage_json(s, false));
            last_look = clock_mono_ns();
        }
        tether_event ev;
        if (tether_events_next(sub, 300, &ev) != TETHER_OK) continue;
        if (ev.dropped) LOG_WARN("studio", "camera %s: %u events lost (the event pump fell behind)", st->origin.id, ev.dropped);
        if (ev.type == TETHER_EVENT_FILE_ADDED && ev.local[0]) {
            char shot_session[128], shot_day[16];
            if (!shot_folders(s, ev.local, shot_session, sizeof shot_session, shot_day, sizeof shot_day)) {
                snprintf(shot_session, sizeof shot_session, "%s", session);
                snprintf(shot_day, sizeof shot_day, "%s", day);
            }
            json_t *photo = studio_register_photo(s, &st->origin, shot_session, shot_day, ev.local, ev.path);
            if (photo) station_publish(st, "capture", json_pack("{s:[o], s:s}", "photos", photo, "source", "camera"));
            continue;
        }
        if (ev.type == TETHER_EVENT_CAMERA_BACK) aim_tethered(st, day, sizeof day, aimed, sizeof aimed);
        if (ev.type == TETHER_EVENT_SETTING_CHANGED && ev.path[0]) {
            /* changed on the body: send the whole setting, as the API does */
            tether_setting set;
            if (tether_setting_get(st->cam, ev.path, &set) == TETHER_OK) {
                station_publish(st, "setting_changed", api_setting_json(&set));
                tether_setting_clear(&set);
                continue;
            }
        }
        station_publish(st, event_type(ev.type), json_pack("{s:s, s:s}", "path", ev.path, "detail", ev.detail));
    }
    tether_events_unsubscribe(sub);
    return NULL;
}

/* ---- opening and removing ------------------------------------------------------------ */

/* Is spec "sim" or "sim:PERSONA"? */
static bool is_sim_spec(const char *spec)
{
    return strncmp(spec, "sim", 3) == 0 && (spec[3] == '\0' || spec[3] == ':');
}

/* Stops the station's threads and jobs (its camera stays open).  Once. */
static void station_halt(station *st)
{
    st->stopping = 1;
    if (st->cam) tether_camera_cancel(st->cam);
    studio_wake(st->s, st->wake_kind); /* its viewers see it stopping and end */
    stream_pump_stop(st);
    if (st->events_started) pthread_join(st->events, NULL);
    st->events_started = false;
    focus_ctl_free(st->focus); /* cancels a running focus tool and waits for it */
    st->focus = NULL;
    interval_ctl_free(st->interval); /* a running time-lapse is continued when served again */
    st->interval = NULL;
    import_ctl_free(st->import); /* so is an import */
    st->import = NULL;
}

int station_open(studio *s, const char *spec, int timeout_ms, station **out, char *err, size_t errsz)
{
    if (out) *out = NULL;
    if (spec == NULL || spec[0] == '\0' || strlen(spec) >= 200) {
        snprintf(err, errsz, "a camera spec is auto, usb:BUS,DEV, ptpip:HOST[:PORT], sim or sim:PERSONA");
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    if (!is_sim_spec(spec)) { /* the same camera again: refused before it is asked for a second session */
        station *same = NULL;
        pthread_mutex_lock(&s->stations_lock);
        for (int i = 0; i < s->n_stations && same == NULL; i++)
            if (strcmp(s->stations[i]->spec, spec) == 0) same = s->stations[i];
        if (same) snprintf(err, errsz, "camera \"%s\" is already served as %s", spec, same->origin.id);
        pthread_mutex_unlock(&s->stations_lock);
        if (same) return TETHER_ERR_BUSY;
    }
    station *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errsz, "out of memory");
        return TETHER_ERR_NO_MEMORY;
    }
    st->s = s;
    st->refs = 1;
    pthread_mutex_init(&st->lock, NULL);
    snprintf(st->spec, sizeof st->spec, "%s", spec);
    int rc;
    char why[512] = "";
    if (is_sim_spec(spec)) {
        simcam_options so;
        simcam_default_options(&so);
        so.persona = persona_find(spec[3] == ':' ? spec + 4 : "canon-eos");
        int port = 0;
        if (so.persona == NULL) {
            snprintf(err, errsz, "unknown simulated camera \"%s\" (sim, sim:canon-eos, sim:nikon or sim:generic)", spec);
            rc = TETHER_ERR_INVALID_ARGUMENT;
            goto fail;
        }
        if ((st->sim = simhost_start(&so, NULL, &port)) == NULL) {
            snprintf(err, errsz, "cannot start the simulated camera");
            rc = TETHER_ERR_IO;
            goto fail;
        }
        char sspec[64];
        snprintf(sspec, sizeof sspec, "ptpip:127.0.0.1:%d", port);
        st->simulated = true;
        rc = tether_camera_open(sspec, timeout_ms, &st->cam, why, sizeof why);
    } else {
        rc = tether_camera_open(spec, timeout_ms, &st->cam, why, sizeof why);
    }
    if (rc != TETHER_OK) {
        snprintf(err, errsz, "cannot open camera \"%s\": %s", spec, why);
        goto fail;
    }
    tether_camera_model(st->cam, st->origin.model, sizeof st->origin.model);
    tether_camera_identity(st->cam, st->origin.identity, sizeof st->origin.identity);
    if (st->origin.identity[0] == '\0') snprintf(st->origin.identity, sizeof st->origin.identity, "%s", st->origin.model);

    pthread_mutex_lock(&s->stations_lock);
    const char *refusal = NULL;
    station *replugged = NULL;
    for (int i = 0; i < s->n_stations && refusal == NULL && replugged == NULL; i++) {
        station *old = s->stations[i];
        if (strcmp(old->origin.identity, st->origin.identity) != 0 || st->simulated) continue;
        /* a USB camera plugged in again has a new device number: the
         * station of its old one, lost, makes way (the id goes with it) */
        if (strncmp(old->spec, "usb:", 4) == 0 && strncmp(spec, "usb:", 4) == 0 && !tether_camera_connected(old->cam))
            replugged = station_ref(old);
        else
            refusal = old->origin.id;
    }
    if (replugged) {
        pthread_mutex_unlock(&s->stations_lock);
        LOG_INFO("studio", "%s is back as %s: it replaces its lost station", st->origin.identity, spec);
        station_remove(replugged); /* takes the list's reference and ours */
        pthread_mutex_lock(&s->stations_lock);
    }
    if (refusal) {
        snprintf(err, errsz, "camera \"%s\" (%s) is already served as %s", spec, st->origin.identity, refusal);
        pthread_mutex_unlock(&s->stations_lock);
        rc = TETHER_ERR_BUSY;
        goto fail;
    }
    if (s->n_stations >= STUDIO_MAX_CAMERAS) {
        snprintf(err, errsz, "the studio serves %d cameras already, its most", STUDIO_MAX_CAMERAS);
        pthread_mutex_unlock(&s->stations_lock);
        rc = TETHER_ERR_BUSY;
        goto fail;
    }
    if (st->simulated) {
        /* every simulated body of a persona has one serial: a number tells them apart */
        char ident[256];
        int k = 1;
        for (bool taken = true; taken; k++) {
            snprintf(ident, sizeof ident, k == 1 ? "%s" : "%s #%d", st->origin.identity, k);
            taken = false;
            for (int i = 0; i < s->n_stations && !taken; i++) taken = strcmp(s->stations[i]->origin.identity, ident) == 0;
        }
        snprintf(st->origin.identity, sizeof st->origin.identity, "%s", ident);
    }
    pick_id(s, st->origin.model, st->origin.identity, st->origin.id, sizeof st->origin.id);
    st->wake_kind = STREAM_WAKE_FIRST_STATION + s->next_wake_kind++;
    bool first = s->n_stations == 0 && s->n_ids == 1;
    if (s->n_stations > 0) s->several = true;
    pthread_mutex_unlock(&s->stations_lock);
    /* the first camera of the run keeps the single-camera state files */
    if (!first) snprintf(st->state_suffix, sizeof st->state_suffix, "-%s", st->origin.id);

    if ((st->focus = focus_ctl_new(st)) == NULL || (st->interval = interval_ctl_new(st)) == NULL ||
        (st->import = import_ctl_new(st)) == NULL) {
        snprintf(err, errsz, "out of memory");
        rc = TETHER_ERR_NO_MEMORY;
        goto fail;
    }
    st->pump_started = stream_pump_start(st);
    st->events_started = pthread_create(&st->events, NULL, event_pump, st) == 0;
    if (!st->pump_started || !st->events_started) {
        snprintf(err, errsz, "cannot start the camera's threads");
        rc = TETHER_ERR_NO_MEMORY;
        goto fail;
    }
    pthread_mutex_lock(&s->stations_lock);
    s->stations[s->n_stations++] = st;
    if (s->n_stations > 1) s->several = true;
    if (out) *out = station_ref(st);
    pthread_mutex_unlock(&s->stations_lock);
    interval_resume(st->interval); /* a time-lapse that was running when it was last served */
    import_resume(st->import);     /* an import likewise */
    LOG_INFO("studio", "serving %s (%s) as %s", st->origin.model, spec, st->origin.id);
    station_publish(st, "camera_added", station_json(st));
    return TETHER_OK;
fail:
    if (st->cam) station_halt(st);
    station_free(st);
    return rc;
}

void station_remove(station *st)
{
    studio *s = st->s;
    pthread_mutex_lock(&s->stations_lock);
    int at = -1;
    for (int i = 0; i < s->n_stations; i++)
        if (s->stations[i] == st) at = i;
    if (at >= 0) {
        memmove(&s->stations[at], &s->stations[at + 1], (size_t)(s->n_stations - at - 1) * sizeof s->stations[0]);
        s->n_stations--;
    }
    pthread_mutex_unlock(&s->stations_lock);
    if (at < 0) { /* removed meanwhile by someone else */
        station_unref(st);
        return;
    }
    /* first the handlers and viewers still holding it go (the camera
     * calls they wait on are cancelled; viewers end at their wake), then
     * its threads and jobs, which they may be using, stop */
    st->stopping = 1;
    if (st->cam) tether_camera_cancel(st->cam);
    pthread_mutex_lock(&s->stations_lock);
    while (st->refs > 2) {
        pthread_mutex_unlock(&s->stations_lock);
        studio_wake(s, st->wake_kind);
        pthread_mutex_lock(&s->stations_lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000;
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        if (st->refs > 2) pthread_cond_timedwait(&s->stations_cond, &s->stations_lock, &ts);
    }
    st->refs--; /* the list's */
    pthread_mutex_unlock(&s->stations_lock);
    station_halt(st);
    hub_publish(s, "camera_removed", json_pack("{s:s, s:s}", "camera", st->origin.id, "identity", st->origin.identity));
    LOG_INFO("studio", "no longer serving %s (%s)", st->origin.id, st->spec);
    station_unref(st); /* the caller's: the last */
}

void station_halt_all(studio *s)
{
    pthread_mutex_lock(&s->stations_lock);
    int n = s->n_stations;
    station *list[STUDIO_MAX_CAMERAS];
    memcpy(list, s->stations, (size_t)n * sizeof list[0]);
    pthread_mutex_unlock(&s->stations_lock);
    for (int i = 0; i < n; i++)
        if (list[i]->cam) tether_camera_cancel(list[i]->cam);
    for (int i = 0; i < n; i++) station_halt(list[i]);
}

void station_free_all(studio *s)
{
    pthread_mutex_lock(&s->stations_lock);
    int n = s->n_stations;
    station *list[STUDIO_MAX_CAMERAS];
    memcpy(list, s->stations, (size_t)n * sizeof list[0]);
    s->n_stations = 0;
    pthread_mutex_unlock(&s->stations_lock);
    for (int i = 0; i < n; i++) station_unref(list[i]);
}

int station_add_remote(studio *s, const char *node, const char *remote_id, const char *model, const char *identity,
                       station **out)
{
    if (out) *out = NULL;
    pthread_mutex_lock(&s->stations_lock);
    for (int i = 0; i < s->n_stations; i++) {
        station *old = s->stations[i];
        if (old->remote && strcmp(old->node, node) == 0 && strcmp(old->remote_id, remote_id) == 0) {
            if (out) *out = station_ref(old);
            pthread_mutex_unlock(&s->stations_lock);
            return TETHER_OK;
        }
    }
    if (s->n_stations >= STUDIO_MAX_CAMERAS) {
        pthread_mutex_unlock(&s->stations_lock);
        LOG_WARN("studio", "camera %s of node %s is not served: the studio serves %d cameras already, its most",
                 remote_id, node, STUDIO_MAX_CAMERAS);
        return TETHER_ERR_BUSY;
    }
    station *st = calloc(1, sizeof *st);
    if (st == NULL) {
        pthread_mutex_unlock(&s->stations_lock);
        return TETHER_ERR_NO_MEMORY;
    }
    st->s = s;
    st->refs = 1;
    st->remote = true;
    st->remote_connected = true;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->live_cond, NULL);
    snprintf(st->node, sizeof st->node, "%s", node);
    snprintf(st->remote_id, sizeof st->remote_id, "%s", remote_id);
    snprintf(st->spec, sizeof st->spec, "rig:%s/%s", node, remote_id);
    snprintf(st->origin.model, sizeof st->origin.model, "%s", model[0] ? model : remote_id);
    snprintf(st->origin.identity, sizeof st->origin.identity, "%s", identity[0] ? identity : st->spec);
    /* the node's id first: one model on several nodes stays apart, and
     * the id is the same whenever the node comes back */
    snprintf(st->origin.id, sizeof st->origin.id, "%s-%s", node, remote_id);
    st->wake_kind = STREAM_WAKE_FIRST_STATION + s->next_wake_kind++;
    snprintf(st->state_suffix, sizeof st->state_suffix, "-%s", st->origin.id);
    s->stations[s->n_stations++] = st;
    s->several = s->n_stations > 1 || s->several;
    if (out) *out = station_ref(st);
    pthread_mutex_unlock(&s->stations_lock);
    LOG_INFO("studio", "serving %s of node %s as %s", st->origin.model, node, st->origin.id);
    station_publish(st, "camera_added", station_json(st));
    return TETHER_OK;
}

/* ---- cameras plugged in later ("auto") --------------------------------------------- */

/* Serves the cameras attached over USB that no station serves yet. */
static void serve_new_cameras(studio *s)
{
    tether_camera_info found[STUDIO_MAX_CAMERAS];
    int n = 0;
    if (tether_list_cameras(found, STUDIO_MAX_CAMERAS, &n) != TETHER_OK) return;
    if (n > STUDIO_MAX_CAMERAS) n = STUDIO_MAX_CAMERAS;
    for (int i = 0; i < n && !s->stopping; i++) {
        bool served = false;
        pthread_mutex_lock(&s->stations_lock);
        for (int k = 0; k < s->n_stations && !served; k++) served = strcmp(s->stations[k]->spec, found[i].spec) == 0;
        pthread_mutex_unlock(&s->stations_lock);
        if (served) continue;
        char err[600];
        int rc = station_open(s, found[i].spec, 30000, NULL, err, sizeof err);
        if (rc != TETHER_OK && rc != TETHER_ERR_BUSY) LOG_WARN("studio", "a camera was plugged in: %s", err);
    }
}

static void *watch_main(void *arg)
{
    studio *s = arg;
    log_set_thread_name("camera-watch");
    int64_t last = clock_mono_ns();
    while (!s->stopping) {
        clock_sleep_ns(200000000);
        if (clock_mono_ns() - last < WATCH_EVERY_NS) continue;
        serve_new_cameras(s);
        last = clock_mono_ns();
    }
    return NULL;
}

void station_watch_start(studio *s)
{
    s->watcher_started = pthread_create(&s->watcher, NULL, watch_main, s) == 0;
    if (!s->watcher_started) LOG_WARN("studio", "cannot start the thread that looks for cameras plugged in later");
}

void station_watch_stop(studio *s)
{
    if (s->watcher_started) pthread_join(s->watcher, NULL);
    s->watcher_started = false;
}
