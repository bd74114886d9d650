/*
 * api: the studio's JSON API (docs/API.md).  Every answer is JSON; errors
 * are {"error": {"code": "...", "message": "..."}} with a 4xx or 5xx
 * status: 400 bad input, 401 no token, 403 cross-site or outside the photo
 * folder, 404 unknown thing, 405 wrong method, 409 camera busy or a
 * focus tool running, 413 body too large, 415 not JSON, 500 the photo
 * folder cannot be written (storage_error: missing, read-only, ...), 502
 * the camera refused, 503 camera lost (or busy with its share of the
 * workers, or none served), 504 the camera did not answer in time, 507
 * the card or this machine's disk is full.  The routes of one camera
 * (api_station_route) serve the primary camera under their old paths and
 * any camera under /api/cameras/ID (cameras.c).  Nothing is
 * acknowledged that is not on disk: a change of state is answered only
 * once written, and after studio_storage_ok.  The focus routes
 * (/api/focus...) are in focus.c, captures in capture.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytebuf.h"
#include "base/log.h"
#include "image/analysis.h"
#include "image/tag.h"
#include "internal.h"
#include "rig/transfer.h"
#include "tether_config.h"

/* Session names' rule, for the messages that refuse one. */
#define SESSION_NAME_RULE                                                                                  \
    "1 to 100 letters, digits, '-', '_', '.' or spaces, not starting with '.' or a space, and no \"..\" " \
    "(it names a folder)"

/* See internal.h. */
enum MHD_Result api_storage_error(studio *s, const http_request *r, int rc, const char *what, const char *detail)
{
    char why[1400];
    bool full = studio_storage_why(s, rc, why, sizeof why) == TETHER_ERR_DISK_FULL;
    bool more = detail && detail[0];
    return http_error(r, full ? 507 : 500, full ? "storage_full" : "storage_error", "%s: %s%s%s", what, why,
                      more ? ": " : "", more ? detail : "");
}

/* See internal.h. */
bool api_storage_usable(studio *s, const http_request *r, const char *what, enum MHD_Result *answered)
{
    char why[1200];
    if (studio_storage_ok(s, why, sizeof why)) return true;
    *answered = http_error(r, 500, "storage_error", "%s: %s", what, why);
    return false;
}

/* See internal.h. */
void api_camera_error_kind(int rc, unsigned *status, const char **code)
{
    switch (rc) {
    case TETHER_ERR_NOT_FOUND: *status = 404, *code = "not_found"; break;
    case TETHER_ERR_BAD_VALUE: *status = 400, *code = "bad_value"; break;
    case TETHER_ERR_READ_ONLY: *status = 400, *code = "read_only"; break;
    case TETHER_ERR_INVALID_ARGUMENT: *status = 400, *code = "bad_request"; break;
    case TETHER_ERR_NOT_SUPPORTED: *status = 400, *code = "not_supported"; break;
    case TETHER_ERR_BUSY: *status = 409, *code = "camera_busy"; break;
    case TETHER_ERR_DISCONNECTED: *status = 503, *code = "camera_disconnected"; break;
    case TETHER_ERR_TIMEOUT: *status = 504, *code = "camera_timeout"; break;
    case TETHER_ERR_CARD_FULL: *status = 507, *code = "card_full"; break;
    case TETHER_ERR_END_STOP: *status = 409, *code = "end_stop"; break;
    default: *status = 502, *code = "camera_error"; break;
    }
}

/* See internal.h. */
enum MHD_Result api_camera_error(station *st, const http_request *r, int rc, const char *what)
{
    char detail[512] = "";
    tether_camera_last_error(st->cam, detail, sizeof detail);
    if (rc == TETHER_ERR_DISK_FULL || rc == TETHER_ERR_STORAGE) return api_storage_error(st->s, r, rc, what, detail);
    unsigned status;
    const char *code;
    api_camera_error_kind(rc, &status, &code);
    return http_error(r, status, code, "%s: %s%s%s", what, tether_strerror(rc), detail[0] ? ": " : "", detail);
}

static const char *type_name(tether_setting_type t)
{
    static const char *const names[] = {"text", "range", "toggle", "choice", "date", "action"};
    return (unsigned)t < 6 ? names[t] : "text";
}

json_t *api_setting_json(const tether_setting *st)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "path", st->path, "name", st->name, "label",
                          st->label, "type", type_name(st->type), "read_only", st->read_only, "value", st->value);
    if (st->type == TETHER_SETTING_RANGE) {
        json_object_set_new(j, "min", json_real(st->min));
        json_object_set_new(j, "max", json_real(st->max));
        json_object_set_new(j, "step", json_real(st->step));
    }
    if (st->type == TETHER_SETTING_CHOICE) {
        json_t *c = json_array();
        for (int i = 0; i < st->n_choices; i++) json_array_append_new(c, json_string(st->choices[i]));
        json_object_set_new(j, "choices", c);
    }
    if (st->canonical[0]) { /* how to show it: "1/60" for a Nikon's "0.0167s" (the value set stays the camera's) */
        char words[64];
        json_object_set_new(j, "canonical", json_string(st->canonical));
        json_object_set_new(j, "words", json_string(tether_value_words(st->canonical, st->value, words, sizeof words)));
        if (st->type == TETHER_SETTING_CHOICE) {
            json_t *w = json_array();
            for (int i = 0; i < st->n_choices; i++)
                json_array_append_new(w, json_string(tether_value_words(st->canonical, st->choices[i], words, sizeof words)));
            json_object_set_new(j, "choice_words", w);
        }
    }
    return j;
}

/* ---- status and capture ------------------------------------------------------------ */

static enum MHD_Result get_status(station *st, const http_request *r)
{
    studio *s = st->s;
    char session[128], err[512];
    tether_camera_last_error(st->cam, err, sizeof err);
    studio_session(s, session, sizeof session);
    pthread_mutex_lock(&st->lock);
    int clients = st->stream_clients;
    json_int_t frames = (json_int_t)st->frames_sent;
    pthread_mutex_unlock(&st->lock);
    return http_json(r, 200, json_pack("{s:s, s:b, s:{s:s, s:s, s:s, s:s, s:b, s:b, s:s}, s:s, s:s, s:o, s:{s:i, s:I}}",
        "version", TETHER_VERSION, "signed_in", http_signed_in(r),
        "camera", "id", st->origin.id, "model", st->origin.model, "identity", st->origin.identity,
        "spec", st->spec, "simulated", st->simulated,
        "connected", tether_camera_connected(st->cam), "last_error", err,
        "session", session, "photo_root", s->root, "storage", studio_storage_json(s, false),
        "stream", "clients", clients, "frames_sent", frames));
}

/* ---- settings ------------------------------------------------------------------- */

static enum MHD_Result get_settings(station *st, const http_request *r)
{
    tether_settings *list = NULL;
    int rc = tether_settings_list(st->cam, &list);
    if (rc != TETHER_OK) return api_camera_error(st, r, rc, "reading settings");
    json_t *a = json_array();
    for (int i = 0; i < list->count; i++) json_array_append_new(a, api_setting_json(&list->items[i]));
    tether_settings_free(list);
    return http_json(r, 200, json_pack("{s:o}", "settings", a));
}

/* Sets one setting and reports the new value (or answers the error). */
static int set_one(station *st, const char *path, const char *value, json_t **out)
{
    int rc = tether_setting_set(st->cam, path, value);
    if (rc != TETHER_OK) return rc;
    tether_setting set;
    if (tether_setting_get(st->cam, path, &set) == TETHER_OK) {
        *out = api_setting_json(&set);
        tether_setting_clear(&set);
    } else {
        *out = json_pack("{s:s, s:s}", "path", path, "value", value);
    }
    station_publish(st, "setting_changed", json_deep_copy(*out));
    return TETHER_OK;
}

static enum MHD_Result post_settings(station *st, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *values = json_object_get(body, "values");
    const char *path = json_string_value(json_object_get(body, "path"));
    json_t *value = json_object_get(body, "value");
    enum MHD_Result ret;
    if (values == NULL && path == NULL) {
        ret = http_error(r, 400, "bad_request", "expected {\"path\": ..., \"value\": ...} or {\"values\": {...}}");
    } else if (values && !json_is_object(values)) {
        ret = http_error(r, 400, "bad_request", "\"values\" must be an object of setting: value");
    } else if (path && !json_is_string(value) && !json_is_number(value) && !json_is_boolean(value)) {
        ret = http_error(r, 400, "bad_request", "\"value\" must be a string, a number or a boolean");
    } else {
        json_t *pairs = values ? json_incref(values) : json_pack("{s:O}", path, value);
        json_t *done = json_array();
        const char *key;
        json_t *v;
        ret = MHD_NO;
        bool failed = false;
        json_object_foreach(pairs, key, v) {
            char text[256];
            if (json_is_string(v)) snprintf(text, sizeof text, "%s", json_string_value(v));
            else if (json_is_integer(v)) snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v)) snprintf(text, sizeof text, "%g", json_real_value(v));
            else if (json_is_boolean(v)) snprintf(text, sizeof text, "%d", json_is_true(v));
            else {
                ret = http_error(r, 400, "bad_request", "the value of \"%s\" must be a string, a number or a boolean", key);
                failed = true;
                break;
            }
            json_t *one = NULL;
            int rc = set_one(st, key, text, &one);
            if (rc != TETHER_OK) {
                char what[300];
                snprintf(what, sizeof what, "setting %s", key);
                ret = api_camera_error(st, r, rc, what);
                failed = true;
                break;
            }
            json_array_append_new(done, one);
        }
        if (!failed) ret = http_json(r, 200, json_pack("{s:O}", "settings", done));
        json_decref(done);
        json_decref(pairs);
    }
    json_decref(body);
    return ret;
}

/* ---- presets -------------------------------------------------------------------- */

static enum MHD_Result get_presets(studio *s, const http_request *r)
{
    char *text = NULL;
    if (catalog_presets(s->cat, &text) != TETHER_OK) return http_error(r, 500, "storage_error", "cannot read presets");
    json_t *p = json_loads(text, 0, NULL);
    free(text);
    return http_json(r, 200, json_pack("{s:o}", "presets", p ? p : json_object()));
}

static enum MHD_Result post_preset(studio *s, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *names = json_object_get(body, "settings");
    json_t *given = json_object_get(body, "values");
    enum MHD_Result ret;
    if (name == NULL || !catalog_preset_name_ok(name)) {
        ret = http_error(r, 400, "bad_name", "a preset needs a \"name\" of letters, digits, '-', '_', '.' or spaces");
    } else if (!(json_is_array(names) && json_array_size(names) > 0) && !json_is_object(given)) {
        ret = http_error(r, 400, "bad_request", "give \"settings\": [names] to save their current values, or \"values\": {...}");
    } else {
        json_t *values = json_object();
        ret = MHD_NO;
        bool failed = false;
        if (json_is_object(given)) {
            const char *k;
            json_t *v;
            json_object_foreach(given, k, v) {
                if (!json_is_string(v)) {
                    ret = http_error(r, 400, "bad_value", "preset values must be strings (\"%s\")", k);
                    failed = true;
                    break;
                }
                json_object_set(values, k, v);
            }
        } else {
            size_t i;
            json_t *n;
            /* the current values of the primary camera, or of "camera" */
            const char *from = json_string_value(json_object_get(body, "camera"));
            station *cam = station_find(s, from);
            if (cam == NULL) {
                ret = from ? http_error(r, 404, "not_found", "no camera \"%s\"", from)
                           : http_error(r, 503, "no_camera", "no camera is served");
                failed = true;
            } else if (cam->remote) {
                ret = http_error(r, 409, "remote_camera", "camera %s is on node %s: a preset is made from a local camera",
                                 cam->origin.id, cam->node);
                failed = true;
                station_unref(cam);
                cam = NULL;
            } else if (!station_enter(cam)) {
                ret = station_busy_error(cam, r);
                failed = true;
                station_unref(cam);
                cam = NULL;
            }
            json_array_foreach(failed ? NULL : names, i, n) {
                tether_setting set;
                const char *sn = json_string_value(n);
                int rc = sn ? tether_setting_get(cam->cam, sn, &set) : TETHER_ERR_INVALID_ARGUMENT;
                if (rc != TETHER_OK) {
                    ret = sn ? api_camera_error(cam, r, rc, sn) : http_error(r, 400, "bad_request", "setting names must be strings");
                    failed = true;
                    break;
                }
                json_object_set_new(values, sn, json_string(set.value));
                tether_setting_clear(&set);
            }
            if (cam) station_leave(cam);
            station_unref(cam);
        }
        if (!failed && api_storage_usable(s, r, "cannot save the preset", &ret)) {
            char *text = json_dumps(values, JSON_COMPACT | JSON_SORT_KEYS);
            int rc = text ? catalog_preset_save(s->cat, name, text) : TETHER_ERR_NO_MEMORY;
            if (rc == TETHER_ERR_NO_MEMORY) {
                ret = http_error(r, 500, "internal", "out of memory");
            } else if (rc != TETHER_OK) {
                ret = api_storage_error(s, r, rc, "cannot save the preset", NULL);
            } else if (api_storage_usable(s, r, "cannot save the preset", &ret)) {
                hub_publish(s, "preset_saved", json_pack("{s:s, s:O}", "name", name, "values", values));
                ret = http_json(r, 201, json_pack("{s:s, s:O}", "name", name, "values", values));
            }
            free(text);
        }
        json_decref(values);
    }
    json_decref(body);
    return ret;
}

static enum MHD_Result apply_preset(station *st, const http_request *r, const char *name)
{
    studio *s = st->s;
    char *text = NULL;
    if (catalog_preset_get(s->cat, name, &text) != TETHER_OK) return http_error(r, 404, "not_found", "no preset \"%s\"", name);
    json_t *values = json_loads(text, 0, NULL);
    free(text);
    json_t *applied = json_array();
    const char *k;
    json_t *v;
    enum MHD_Result ret = MHD_NO;
    bool failed = false;
    json_object_foreach(values, k, v) {
        json_t *one = NULL;
        int rc = set_one(st, k, json_string_value(v) ? json_string_value(v) : "", &one);
        if (rc != TETHER_OK) {
            char what[300];
            snprintf(what, sizeof what, "preset \"%s\", setting %s", name, k);
            ret = api_camera_error(st, r, rc, what);
            failed = true;
            break;
        }
        json_array_append_new(applied, one);
    }
    if (!failed) {
        station_publish(st, "preset_applied", json_pack("{s:s}", "name", name));
        ret = http_json(r, 200, json_pack("{s:s, s:O}", "name", name, "settings", applied));
    }
    json_decref(applied);
    json_decref(values);
    return ret;
}

/* ---- sessions ----------------------------------------------------------------------- */

static enum MHD_Result get_sessions(studio *s, const http_request *r)
{
    catalog_session *list = NULL;
    int n = 0;
    if (catalog_sessions(s->cat, &list, &n) != TETHER_OK) return http_error(r, 500, "storage_error", "cannot read sessions");
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name", list[i].name, "created",
                                           (json_int_t)list[i].created, "photos", (json_int_t)list[i].photos));
    free(list);
    char active[128];
    studio_session(s, active, sizeof active);
    return http_json(r, 200, json_pack("{s:s, s:o}", "active", active, "sessions", a));
}

static enum MHD_Result activate_session(studio *s, const http_request *r, const char *name, bool created)
{
    char what[300];
    snprintf(what, sizeof what, "cannot switch to session \"%s\"", name);
    enum MHD_Result answered;
    if (!api_storage_usable(s, r, what, &answered)) return answered;
    int rc = catalog_set_active_session(s->cat, name);
    if (rc != TETHER_OK) return api_storage_error(s, r, rc, what, NULL);
    if (!api_storage_usable(s, r, what, &answered)) return answered;
    pthread_mutex_lock(&s->lock);
    snprintf(s->session, sizeof s->session, "%s", name);
    pthread_mutex_unlock(&s->lock);
    char day[16], dir[4400], tmpl[160];
    studio_today(day, sizeof day);
    snprintf(dir, sizeof dir, "%s/%s/%s", s->root, name, day);
    station *list[STUDIO_MAX_CAMERAS];
    int n = station_list(s, list, STUDIO_MAX_CAMERAS);
    for (int i = 0; i < n; i++) { /* shots with the camera's button go to the new session */
        station_name_template(list[i], tmpl, sizeof tmpl);
        tether_capture_options o = {.dir = dir, .name_template = tmpl, .session = name};
        if (list[i]->cam) tether_tethered_options(list[i]->cam, &o);
        station_unref(list[i]);
    }
    hub_publish(s, "session_changed", json_pack("{s:s}", "active", name));
    return http_json(r, created ? 201 : 200, json_pack("{s:s}", "active", name));
}

static enum MHD_Result post_session(studio *s, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *activate = json_object_get(body, "activate");
    enum MHD_Result ret;
    int rc = TETHER_OK;
    if (name == NULL || !catalog_session_name_ok(name)) {
        ret = http_error(r, 400, "bad_name", "a session needs a \"name\": " SESSION_NAME_RULE);
    } else if (!api_storage_usable(s, r, "cannot create the session", &ret)) {
        /* answered */
    } else if ((rc = catalog_session_create(s->cat, name)) != TETHER_OK) {
        ret = api_storage_error(s, r, rc, "cannot create the session", NULL);
    } else if (!api_storage_usable(s, r, "cannot create the session", &ret)) {
        /* answered */
    } else if (activate == NULL || json_is_true(activate)) {
        ret = activate_session(s, r, name, true);
    } else {
        ret = http_json(r, 201, json_pack("{s:s}", "name", name));
    }
    json_decref(body);
    return ret;
}

/* ---- file names ------------------------------------------------------------------------------ */

/* The naming template as GET /api/naming shows it, with what the next
 * photo of the active session would be called (an example camera file
 * IMG_0001.JPG, counter 1, now). */
static json_t *naming_json(studio *s, const char *tmpl)
{
    char session[128], example[512], err[256];
    studio_session(s, session, sizeof session);
    tether_name_vars v = {.counter = 1, .time = time(NULL), .model = "Canon EOS 550D", .session = session,
                          .name = "IMG_0001", .ext = "jpg"};
    char full[200];
    snprintf(full, sizeof full, "%s", tmpl[0] ? tmpl : STUDIO_NAME_TEMPLATE "-{name}");
    if (tether_name_expand(full, &v, example, sizeof example, err, sizeof err) != TETHER_OK) example[0] = '\0';
    return json_pack("{s:s, s:s, s:s, s:b}", "template", tmpl, "default", STUDIO_NAME_TEMPLATE "-{name}",
                     "example", example, "custom", tmpl[0] != '\0');
}

static enum MHD_Result get_naming(studio *s, const http_request *r)
{
    char tmpl[128];
    pthread_mutex_lock(&s->lock);
    snprintf(tmpl, sizeof tmpl, "%s", s->name_template);
    pthread_mutex_unlock(&s->lock);
    return http_json(r, 200, naming_json(s, tmpl));
}

/* PUT {"template": "..."}: the photographer's file names for every
 * camera's next photos ("" goes back to the studio's own).  A template
 * names a file inside its session's day folder: no '/' or '\', no
 * leading '.', and every field known (tether_name_expand's syntax). */
static enum MHD_Result put_naming(studio *s, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *t = json_object_get(body, "template");
    const char *tmpl = json_string_value(t);
    char err[256] = "";
    enum MHD_Result ret;
    if (tmpl == NULL) {
        ret = http_error(r, 400, "bad_template", "a JSON string \"template\" is needed (\"\" for the studio's own names)");
    } else if (strlen(tmpl) >= sizeof s->name_template) {
        ret = http_error(r, 400, "bad_template", "the template is longer than %zu characters", sizeof s->name_template - 1);
    } else if (strpbrk(tmpl, "/\\") || tmpl[0] == '.' || strstr(tmpl, "..")) {
        ret = http_error(r, 400, "bad_template",
                         "a file name template names a file in the session's day folder: no '/', '\\' or '..', "
                         "and no leading '.'");
    } else {
        char out[512];
        tether_name_vars v = {.counter = 1, .time = 0, .model = "m", .session = "s", .name = "n", .ext = "jpg"};
        if (tmpl[0] && tether_name_expand(tmpl, &v, out, sizeof out, err, sizeof err) != TETHER_OK) {
            ret = http_error(r, 400, "bad_template", "%s", err[0] ? err : "the template cannot be expanded");
        } else if (!api_storage_usable(s, r, "cannot keep the file names", &ret)) {
            /* answered */
        } else {
            int rc = catalog_meta_set(s->cat, "name_template", tmpl);
            if (rc != TETHER_OK) {
                ret = api_storage_error(s, r, rc, "cannot keep the file names", NULL);
            } else {
                pthread_mutex_lock(&s->lock);
                snprintf(s->name_template, sizeof s->name_template, "%s", tmpl);
                pthread_mutex_unlock(&s->lock);
                json_t *j = naming_json(s, tmpl);
                hub_publish(s, "naming", json_incref(j));
                ret = http_json(r, 200, j);
            }
        }
    }
    json_decref(body);
    return ret;
}

/* ---- photos ----------------------------------------------------------------------------- */

static bool parse_int(const char *v, long lo, long hi, long *out)
{
    if (v == NULL) return true;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *v == '\0' || *end || x < lo || x > hi) return false;
    *out = x;
    return true;
}

static enum MHD_Result get_photos(studio *s, const http_request *r)
{
    char session[128];
    const char *qs = http_query(r, "session");
    if (qs) snprintf(session, sizeof session, "%s", qs);
    else studio_session(s, session, sizeof session);
    const char *day = http_query(r, "day");
    long page = 1, per = 9;
    if (!parse_int(http_query(r, "page"), 1, 1000000, &page) || !parse_int(http_query(r, "per_page"), 1, 200, &per))
        return http_error(r, 400, "bad_request", "page is 1.., per_page 1..200");
    if (day && *day && (strlen(day) != 10 || day[4] != '-' || day[7] != '-'))
        return http_error(r, 400, "bad_request", "day is YYYY-MM-DD");
    /* culling filters: min_rating=0..5, label=Red..., pick=1|-1 */
    long min_rating = -1, pick = 0;
    const char *label = http_query(r, "label");
    if (!parse_int(http_query(r, "min_rating"), 0, 5, &min_rating) || !parse_int(http_query(r, "pick"), -1, 1, &pick) ||
        (label && !img_tag_label_ok(label)))
        return http_error(r, 400, "bad_request", "min_rating is 0..5, pick 1 or -1, label Red, Yellow, Green, Blue or Purple");
    catalog_cull_filter f = {.min_rating = (int)min_rating, .label = label ? label : "", .pick = (int)pick, .items = true};
    catalog_photo *list = NULL;
    int n = 0;
    int64_t total = 0;
    if (catalog_photos_culled(s->cat, session, day, &f, (int)((page - 1) * per), (int)per, &list, &n, &total) != TETHER_OK)
        return http_error(r, 500, "storage", "cannot read the catalog");
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, studio_photo_json(&list[i]));
    free(list);
    char days[64][16];
    int nd = 0;
    catalog_days(s->cat, session, days, 64, &nd);
    json_t *dj = json_array();
    for (int i = 0; i < nd; i++) json_array_append_new(dj, json_string(days[i]));
    return http_json(r, 200, json_pack("{s:s, s:s?, s:I, s:I, s:I, s:o, s:o}", "session", session, "day",
                                       day && *day ? day : NULL, "page", (json_int_t)page, "per_page",
                                       (json_int_t)per, "total", (json_int_t)total, "days", dj, "photos", a));
}

static int photo_by_id(studio *s, const char *id_text, catalog_photo *p)
{
    long id;
    if (!parse_int(id_text, 1, 0x7FFFFFFF, &id) || id_text == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    return catalog_photo_get(s->cat, id, p);
}

/* The photo's bytes, by the rules of GET /photos/ (studio_read_rel). */
static int read_photo_file(studio *s, const catalog_photo *p, bytebuf *b)
{
    return studio_read_rel(s, p->rel, b);
}

/* The photo as a JPEG: the file itself, or the preview a RAW embeds.
 * Returns 0, -1 if the file cannot be read (*missing set), or -1 if it
 * holds no JPEG. */
static int read_photo_jpeg(studio *s, const catalog_photo *p, bytebuf *b, bool *missing)
{
    *missing = false;
    if (read_photo_file(s, p, b) != 0) {
        *missing = true;
        return -1;
    }
    return studio_picture(p->rel, b);
}

/* The item a photo belongs to: the JPEG of a RAW + JPEG shot (its RAW is
 * in raw_id), or the photo itself.  Returns 0 or TETHER_ERR_NOT_FOUND. */
static int photo_item(studio *s, const catalog_photo *p, catalog_photo *item)
{
    if (p->raw_of) return catalog_photo_get(s->cat, p->raw_of, item);
    *item = *p;
    return TETHER_OK;
}

/* Deletes one photo's file, thumbnail and catalog entry; true, or false
 * with the answer saying why (then nothing of it was deleted, or the
 * message says what was). */
static bool delete_file(studio *s, const http_request *r, const catalog_photo *p, enum MHD_Result *answered)
{
    char what[1400];
    snprintf(what, sizeof what, "cannot delete photo %lld", (long long)p->id);
    if (!api_storage_usable(s, r, what, answered)) return false;
    if (studio_unlink_rel(s, p->rel) != 0 && errno != ENOENT) {
        int e = errno;
        if (e == EINVAL || e == EXDEV)
            *answered = http_error(r, 500, "storage_error", "%s: its path in the catalog (%s) is not inside the photo "
                                   "folder %s; nothing was deleted", what, p->rel, s->root);
        else if (e == EPERM || e == ELOOP || e == ENOTDIR)
            *answered = http_error(r, 500, "storage_error", "%s: its path in the catalog (%s) leads to a hidden file or "
                                   "folder (through a link?), not a photo; nothing was deleted", what, p->rel);
        else {
            snprintf(what, sizeof what, "cannot delete photo %lld's file %s/%s", (long long)p->id, s->root, p->rel);
            *answered = api_storage_error(s, r, studio_errno_err(e), what, strerror(e));
        }
        return false;
    }
    if (p->thumb[0] && studio_unlink_rel(s, p->thumb) != 0 && errno != ENOENT)
        LOG_WARN("api", "photo %lld: its thumbnail %s was not deleted: %s", (long long)p->id, p->thumb, strerror(errno));
    int rc = catalog_photo_delete(s->cat, p->id);
    if (rc != TETHER_OK) {
        snprintf(what, sizeof what, "photo %lld's file was deleted, but the catalog could not forget it", (long long)p->id);
        *answered = api_storage_error(s, r, rc, what, NULL);
        return false;
    }
    hub_publish(s, "photo_deleted", json_pack("{s:I, s:s}", "id", (json_int_t)p->id, "session", p->session));
    return true;
}

/* Deletes a photo's item: the photo, and the RAW of a RAW + JPEG shot
 * with its JPEG (deleting either deletes the shot). */
static enum MHD_Result delete_photo(studio *s, const http_request *r, const catalog_photo *asked)
{
    catalog_photo item, raw;
    if (photo_item(s, asked, &item) != TETHER_OK) item = *asked; /* its JPEG is gone: the RAW alone */
    enum MHD_Result answered;
    if (item.raw_id && catalog_photo_get(s->cat, item.raw_id, &raw) == TETHER_OK && !delete_file(s, r, &raw, &answered))
        return answered;
    if (!delete_file(s, r, &item, &answered)) return answered;
    return http_json(r, 200, json_pack("{s:I, s:b, s:I}", "id", (json_int_t)item.id, "deleted", 1, "raw_id",
                                       (json_int_t)item.raw_id));
}

/* PUT /api/photos/ID {"rating": -1..5, "label": "Red"..|"", "pick": -1|0|1}
 * (any of them): the photo's culling, in the catalog and in its XMP (the
 * JPEG itself, or the RAW's sidecar), where Lightroom, Bridge and
 * darktable read it: xmp:Rating (a rejected photo -1) and xmp:Label.  A
 * pick is the catalog's own (no XMP field says it).  Worker thread. */
static enum MHD_Result cull_photo_locked(studio *s, const http_request *r, const catalog_photo *p, json_t *body);

static enum MHD_Result cull_photo(studio *s, const http_request *r, const catalog_photo *asked)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    /* keys pressed in a row arrive as requests side by side: each reads
     * the photo as the last one left it, and one file is written at a time */
    pthread_mutex_lock(&s->cull_lock);
    catalog_photo p, item;
    enum MHD_Result ret = catalog_photo_get(s->cat, asked->id, &p) == TETHER_OK && photo_item(s, &p, &item) == TETHER_OK
                              ? cull_photo_locked(s, r, &item, body)
                              : http_error(r, 404, "not_found", "the photo is gone");
    pthread_mutex_unlock(&s->cull_lock);
    json_decref(body);
    return ret;
}

static enum MHD_Result cull_photo_locked(studio *s, const http_request *r, const catalog_photo *p, json_t *body)
{
    int rating = p->rating, pick = p->pick;
    char label[16];
    snprintf(label, sizeof label, "%s", p->label);
    json_t *jr = json_object_get(body, "rating"), *jl = json_object_get(body, "label"), *jp = json_object_get(body, "pick");
    const char *why = NULL;
    if (jr && !(json_is_integer(jr) && json_integer_value(jr) >= -1 && json_integer_value(jr) <= 5))
        why = "\"rating\" is 0 to 5 stars, or -1 for a rejected photo";
    else if (jl && !(json_is_string(jl) && img_tag_label_ok(json_string_value(jl))))
        why = "\"label\" is \"Red\", \"Yellow\", \"Green\", \"Blue\", \"Purple\" or \"\" (none)";
    else if (jp && !(json_is_integer(jp) && json_integer_value(jp) >= -1 && json_integer_value(jp) <= 1))
        why = "\"pick\" is 1 (picked), 0 or -1 (rejected)";
    else if (!jr && !jl && !jp)
        why = "send \"rating\", \"label\" or \"pick\"";
    if (jr && !why) rating = (int)json_integer_value(jr);
    if (jl && !why) snprintf(label, sizeof label, "%s", json_string_value(jl));
    if (jp && !why) pick = (int)json_integer_value(jp);
    if (why) return http_error(r, 400, "bad_value", "%s", why);
    /* a reject is one thing: flagged rejected and rated -1, as darktable reads it */
    if (jp && pick == -1) rating = -1;
    else if (jr && rating == -1) pick = -1;
    else if (rating == -1) rating = 0, pick = pick == -1 ? 0 : pick; /* un-rejected */
    /* a RAW + JPEG shot: both files (the JPEG's XMP, the RAW's sidecar) */
    catalog_photo raw;
    bool paired = p->raw_id && catalog_photo_get(s->cat, p->raw_id, &raw) == TETHER_OK;
    for (const catalog_photo *f = p; f; f = f == p && paired ? &raw : NULL) {
        char path[4700], err[512] = "";
        int e = studio_real_path(s, f->rel, path, sizeof path); /* no link into .tether or out */
        if (e != 0) return http_error(r, 404, "not_found", "the photo's file %s is missing", f->rel);
        if (img_tag_kind_of(path) != IMG_TAG_UNSUPPORTED) {
            img_tags t = {.has_cull = true, .rating = rating};
            snprintf(t.label, sizeof t.label, "%s", label);
            if (img_tag_file(path, &t, NULL, 0, err, sizeof err) != TETHER_OK)
                return api_storage_error(s, r, TETHER_ERR_STORAGE, "culling (the rating is not saved)", err);
            struct stat st;
            if (stat(path, &st) == 0 && st.st_size != f->size) catalog_photo_set_size(s->cat, f->id, st.st_size);
        }
        int rc = catalog_photo_set_cull(s->cat, f->id, rating, label, pick);
        if (rc != TETHER_OK) return api_storage_error(s, r, rc, "culling (written to the file, not to the catalog)", NULL);
    }
    catalog_photo now;
    if (catalog_photo_get(s->cat, p->id, &now) != TETHER_OK) return http_error(r, 404, "not_found", "the photo is gone");
    json_t *j = studio_photo_json(&now);
    hub_publish(s, "photo_culled", json_deep_copy(j));
    return http_json(r, 200, j);
}

static enum MHD_Result photo_route(studio *s, const http_request *r, const char *rest)
{
    char id_text[32];
    const char *slash = strchr(rest, '/');
    snprintf(id_text, sizeof id_text, "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
    catalog_photo p;
    int rc = photo_by_id(s, id_text, &p);
    if (rc == TETHER_ERR_INVALID_ARGUMENT) return http_error(r, 400, "bad_request", "photo ids are positive integers");
    if (rc != TETHER_OK) return http_error(r, 404, "not_found", "no photo %s", id_text);
    if (slash && strcmp(slash, "/preview") == 0) { /* what a browser can show: a RAW's embedded JPEG */
        if (!http_is(r, "GET") && !http_is(r, "HEAD")) return http_error(r, 405, "method_not_allowed", "use GET");
        bytebuf b = BYTEBUF_INIT;
        bool missing;
        int got = read_photo_jpeg(s, &p, &b, &missing);
        enum MHD_Result ret = got == 0 ? http_bytes(r, 200, "image/jpeg", b.data, b.len, true)
                              : missing ? http_error(r, 404, "not_found", "the photo's file is missing")
                                        : http_error(r, 415, "no_preview", "%s is neither a JPEG nor a file with a JPEG preview", p.rel);
        bytebuf_free(&b);
        return ret;
    }
    if (slash && strcmp(slash, "/histogram") == 0) {
        if (!http_is(r, "GET")) return http_error(r, 405, "method_not_allowed", "use GET");
        bytebuf b = BYTEBUF_INIT;
        img_histogram h;
        bool missing;
        int got = read_photo_jpeg(s, &p, &b, &missing);
        int ok = got == 0 ? img_histogram_compute(b.data, b.len, &h) : -1;
        bytebuf_free(&b);
        if (missing) return http_error(r, 404, "not_found", "the photo's file is missing");
        if (ok != 0) return http_error(r, 415, "not_jpeg", "histograms are made from JPEG files and RAW files' JPEG previews");
        json_t *lum = json_array(), *red = json_array(), *green = json_array(), *blue = json_array();
        for (int i = 0; i < 256; i++) {
            json_array_append_new(lum, json_integer(h.luma[i]));
            json_array_append_new(red, json_integer(h.red[i]));
            json_array_append_new(green, json_integer(h.green[i]));
            json_array_append_new(blue, json_integer(h.blue[i]));
        }
        return http_json(r, 200, json_pack("{s:I, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:I}", "id", (json_int_t)p.id,
                                           "luma", lum, "red", red, "green", green, "blue", blue,
                                           "shadows_clipped_percent", h.shadows_clipped,
                                           "highlights_clipped_percent", h.highlights_clipped,
                                           "mean_luma", h.mean_luma, "pixels", (json_int_t)h.pixels));
    }
    if (slash) return http_error(r, 404, "not_found", "no such route");
    if (http_is(r, "GET")) {
        json_t *j = studio_photo_json(&p);
        bytebuf b = BYTEBUF_INIT;
        img_exif_summary e;
        if (read_photo_file(s, &p, &b) == 0 && img_exif_read_summary(b.data, b.len, &e) == 0)
            json_object_set_new(j, "exif", json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:s, s:f}", "make", e.make,
                                                     "model", e.model, "lens", e.lens, "datetime", e.datetime,
                                                     "iso", e.iso, "fnumber", e.fnumber, "exposure", e.exposure,
                                                     "focal_mm", e.focal_mm));
        bytebuf_free(&b);
        return http_json(r, 200, j);
    }
    if (http_is(r, "DELETE")) return delete_photo(s, r, &p);
    if (http_is(r, "PUT") || http_is(r, "PATCH")) return cull_photo(s, r, &p);
    return http_error(r, 405, "method_not_allowed", "use GET, PUT or DELETE");
}

/* Does rest name a route of one camera (api_station_route)? */
static bool is_station_route(const char *rest)
{
    static const char *const exact[] = {"/status", "/settings", "/capture", "/snapshot.jpg", "/stream.mjpg"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(rest, exact[i]) == 0) return true;
    static const char *const trees[] = {"/focus", "/interval", "/import"};
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
        size_t n = strlen(trees[i]);
        if (strncmp(rest, trees[i], n) == 0 && (rest[n] == '\0' || rest[n] == '/')) return true;
    }
    if (strncmp(rest, "/presets/", 9) == 0) {
        const char *apply = strstr(rest + 9, "/apply");
        return apply && strcmp(apply, "/apply") == 0;
    }
    return false;
}

/* See internal.h. */
enum MHD_Result api_station_route(station *st, const http_request *r, const char *rest)
{
    if (st == NULL) return http_error(r, 503, "no_camera", "no camera is served (add one: POST /api/cameras)");
    if (st->remote) return rig_station_route(st, r, rest);
    bool get = http_is(r, "GET") || http_is(r, "HEAD"), post = http_is(r, "POST");
    if (strcmp(rest, "/stream.mjpg") == 0) /* on the event loop: never waits */
        return get ? stream_mjpeg(st, r) : http_error(r, 405, "method_not_allowed", "%s only answers GET", r->url);
    if (strcmp(rest, "/status") == 0) return get ? get_status(st, r) : http_error(r, 405, "method_not_allowed", "use GET");
    if (!is_station_route(rest)) return http_error(r, 404, "not_found", "no API route %s", r->url);
    if (!station_enter(st)) return station_busy_error(st, r);
    enum MHD_Result ret;
    if (strcmp(rest, "/snapshot.jpg") == 0) {
        ret = get ? stream_snapshot(st, r) : http_error(r, 405, "method_not_allowed", "%s only answers GET", r->url);
    } else if (strcmp(rest, "/capture") == 0) {
        ret = post ? capture_station(st, r) : http_error(r, 405, "method_not_allowed", "use POST");
    } else if (strcmp(rest, "/settings") == 0) {
        if (get) ret = get_settings(st, r);
        else if (post || http_is(r, "PUT")) ret = post_settings(st, r);
        else ret = http_error(r, 405, "method_not_allowed", "use GET or POST");
    } else if (strncmp(rest, "/focus", 6) == 0) {
        ret = focus_handle(st, r, rest + 6);
    } else if (strncmp(rest, "/interval", 9) == 0) {
        ret = interval_handle(st, r, rest + 9);
    } else if (strncmp(rest, "/import", 7) == 0) {
        ret = import_handle(st, r, rest + 7);
    } else { /* /presets/NAME/apply */
        char name[160];
        const char *apply = strstr(rest + 9, "/apply");
        snprintf(name, sizeof name, "%.*s", (int)(apply - (rest + 9)), rest + 9);
        if (!catalog_preset_name_ok(name)) ret = http_error(r, 400, "bad_name", "not a preset name");
        else ret = post ? apply_preset(st, r, name) : http_error(r, 405, "method_not_allowed", "use POST");
    }
    station_leave(st);
    return ret;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

enum MHD_Result api_handle(studio *s, const http_request *r)
{
    const char *u = r->url + 4; /* after "/api" */
    bool get = http_is(r, "GET"), post = http_is(r, "POST"), del = http_is(r, "DELETE");
    if (strcmp(u, "/events") == 0) return get ? stream_events(s, r) : http_error(r, 405, "method_not_allowed", "use GET");
    if (strcmp(u, "/capture") == 0) return post ? capture_post(s, r) : http_error(r, 405, "method_not_allowed", "use POST");
    if (strncmp(u, "/cameras", 8) == 0 && (u[8] == '\0' || u[8] == '/')) return cameras_handle(s, r, u + 8);
    if (strncmp(r->url, RIG_FILES_ROUTE, strlen(RIG_FILES_ROUTE)) == 0)
        return rig_files_handle(s, r, r->url + strlen(RIG_FILES_ROUTE));
    if (strcmp(u, "/rig") == 0)
        return get ? http_json(r, 200, rig_nodes_json(s)) : http_error(r, 405, "method_not_allowed", "use GET");
    if (is_station_route(u)) { /* the primary camera's */
        station *st = station_find(s, NULL);
        enum MHD_Result ret = api_station_route(st, r, u);
        station_unref(st);
        return ret;
    }
    if (strcmp(u, "/presets") == 0) {
        if (get) return get_presets(s, r);
        if (post) return post_preset(s, r);
        return http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    if (strncmp(u, "/presets/", 9) == 0) {
        char name[160];
        const char *rest = u + 9;
        const char *apply = strstr(rest, "/apply");
        snprintf(name, sizeof name, "%.*s", apply ? (int)(apply - rest) : (int)strlen(rest), rest);
        if (!catalog_preset_name_ok(name)) return http_error(r, 400, "bad_name", "not a preset name");
        if (apply) return http_error(r, 404, "not_found", "no such route"); /* "/apply": a camera's route, above */
        if (del) {
            enum MHD_Result answered;
            if (!api_storage_usable(s, r, "cannot delete the preset", &answered)) return answered;
            int rc = catalog_preset_delete(s->cat, name);
            if (rc == TETHER_ERR_NOT_FOUND) return http_error(r, 404, "not_found", "no preset \"%s\"", name);
            if (rc != TETHER_OK) return api_storage_error(s, r, rc, "cannot delete the preset", NULL);
            hub_publish(s, "preset_deleted", json_pack("{s:s}", "name", name));
            return http_json(r, 200, json_pack("{s:s, s:b}", "name", name, "deleted", 1));
        }
        return http_error(r, 405, "method_not_allowed", "use DELETE, or POST .../apply");
    }
    if (strcmp(u, "/sessions") == 0) {
        if (get) return get_sessions(s, r);
        if (post) return post_session(s, r);
        return http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    if (strncmp(u, "/sessions/", 10) == 0) {
        char name[160];
        const char *rest = u + 10;
        const char *act = strstr(rest, "/activate");
        if (act == NULL || strcmp(act, "/activate") != 0) return http_error(r, 404, "not_found", "no such route");
        snprintf(name, sizeof name, "%.*s", (int)(act - rest), rest);
        if (!post) return http_error(r, 405, "method_not_allowed", "use POST");
        if (!catalog_session_name_ok(name)) return http_error(r, 400, "bad_name", "not a session name: " SESSION_NAME_RULE);
        if (!studio_session_exists(s, name)) return http_error(r, 404, "not_found", "no session \"%s\"", name);
        return activate_session(s, r, name, false);
    }
    if (strcmp(u, "/naming") == 0) {
        if (get) return get_naming(s, r);
        if (http_is(r, "PUT")) return put_naming(s, r);
        return http_error(r, 405, "method_not_allowed", "use GET or PUT");
    }
    if (strncmp(u, "/tagging", 8) == 0 && (u[8] == '\0' || u[8] == '/')) return tagging_handle(s, r, u + 8);
    if (strncmp(u, "/webhooks", 9) == 0 && (u[9] == '\0' || u[9] == '/')) return webhooks_handle(s, r, u + 9);
    if (strcmp(u, "/photos") == 0) return get ? get_photos(s, r) : http_error(r, 405, "method_not_allowed", "use GET");
    if (strncmp(u, "/photos/", 8) == 0) return photo_route(s, r, u + 8);
    return http_error(r, 404, "not_found", "no API route %s", r->url);
}
