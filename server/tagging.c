/*
 * tagging: the studio's GPS/EXIF tagging (docs/API.md, "Tagging").  The
 * settings (a GPS position, artist, copyright, keywords, a caption, and
 * whether new captures are tagged) are read and set with GET and PUT
 * /api/tagging, kept in PHOTOS/.tether/tagging.json (written atomically:
 * a temporary file, flushed, renamed over the old one) so they survive a
 * restart, and announced with a server-sent "tagging" event.
 *
 * Every new capture is tagged by studio_register_photo (through
 * tagging_apply_new) before it is catalogued, with the session's name
 * added; POST /api/tagging/apply tags the photos a session already has, in
 * a worker thread that reports "tagging_apply" events and its counts
 * (tagged, failed, skipped) in GET /api/tagging.  The writing itself is
 * app/image/tag.h: JPEGs in place (atomically), RAW files in an XMP
 * sidecar.
 *
 * Threads: handlers (libmicrohttpd's threads), the threads that register
 * photos, and the apply worker share tc->lock, which guards the settings
 * and the apply job's state; files are tagged outside the lock.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "image/tag.h"
#include "internal.h"
#include "store/atomic.h"

enum { MAX_ERRORS = 10, PAGE = 200 };

struct tagging_ctl {
    studio *s;
    pthread_mutex_t lock;
    img_tags tags;             /* the settings (tags.session unused: each photo's session is written) */
    bool enabled;              /* tag new captures */
    json_t *apply;             /* the apply job's state (running or last), or NULL */
    studio_worker worker;
    char apply_session[128];
};

/* ---- settings as JSON --------------------------------------------------------- */

/* {"enabled", "gps": {"lat", "lon", "alt"?} | null, "artist", "copyright",
 * "caption", "keywords": [...]} (new reference). */
static json_t *settings_json(const img_tags *t, bool enabled)
{
    json_t *gps = json_null();
    if (t->has_gps) {
        gps = json_pack("{s:f, s:f}", "lat", t->latitude, "lon", t->longitude);
        if (t->has_altitude) json_object_set_new(gps, "alt", json_real(t->altitude_m));
    }
    json_t *kw = json_array();
    for (int i = 0; i < t->n_keywords; i++) json_array_append_new(kw, json_string(t->keywords[i]));
    return json_pack("{s:b, s:o, s:s, s:s, s:s, s:o}", "enabled", enabled, "gps", gps, "artist", t->artist,
                     "copyright", t->copyright, "caption", t->caption, "keywords", kw);
}

static bool set_text(json_t *v, const char *name, char *field, size_t size, char *err, size_t errsz)
{
    if (json_is_null(v)) {
        field[0] = '\0';
        return true;
    }
    if (!json_is_string(v)) {
        snprintf(err, errsz, "\"%s\" must be a string (or null)", name);
        return false;
    }
    if (json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errsz, "\"%s\" must be at most %zu bytes of text", name, size - 1);
        return false;
    }
    snprintf(field, size, "%s", json_string_value(v));
    return true;
}

static bool number_in(json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v)) return false;
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi) return false;
    *out = d;
    return true;
}

/* Applies the fields present in body to *t and *enabled (fields left out
 * keep their values; null clears one).  Returns false with a message in
 * err, leaving *t and *enabled as they were. */
static bool settings_from_json(json_t *body, img_tags *t, bool *enabled, char *err, size_t errsz)
{
    img_tags n = *t;
    bool en = *enabled;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        bool ok = true;
        if (strcmp(key, "enabled") == 0) {
            ok = json_is_boolean(v);
            if (!ok) snprintf(err, errsz, "\"enabled\" must be true or false");
            else en = json_is_true(v);
        } else if (strcmp(key, "gps") == 0) {
            if (json_is_null(v)) {
                n.has_gps = n.has_altitude = false;
                n.latitude = n.longitude = n.altitude_m = 0;
                continue;
            }
            json_t *alt = json_object_get(v, "alt");
            const char *k2;
            json_t *v2;
            bool extra = false;
            if (json_is_object(v)) json_object_foreach(v, k2, v2) extra |= strcmp(k2, "lat") && strcmp(k2, "lon") && strcmp(k2, "alt");
            if (!json_is_object(v) || extra) {
                snprintf(err, errsz, "\"gps\" is {\"lat\": degrees, \"lon\": degrees, \"alt\": metres (optional)} or null");
                ok = false;
            } else if (!number_in(json_object_get(v, "lat"), -90, 90, &n.latitude)) {
                snprintf(err, errsz, "\"gps\".\"lat\" must be a number of degrees from -90 to 90 (south negative)");
                ok = false;
            } else if (!number_in(json_object_get(v, "lon"), -180, 180, &n.longitude)) {
                snprintf(err, errsz, "\"gps\".\"lon\" must be a number of degrees from -180 to 180 (west negative)");
                ok = false;
            } else if (alt && !json_is_null(alt) && !number_in(alt, -12000, 100000, &n.altitude_m)) {
                snprintf(err, errsz, "\"gps\".\"alt\" must be a number of metres from -12000 to 100000, or null");
                ok = false;
            } else {
                n.has_gps = true;
                n.has_altitude = alt && !json_is_null(alt);
                if (!n.has_altitude) n.altitude_m = 0;
            }
        } else if (strcmp(key, "artist") == 0) {
            ok = set_text(v, key, n.artist, sizeof n.artist, err, errsz);
        } else if (strcmp(key, "copyright") == 0) {
            ok = set_text(v, key, n.copyright, sizeof n.copyright, err, errsz);
        } else if (strcmp(key, "caption") == 0) {
            ok = set_text(v, key, n.caption, sizeof n.caption, err, errsz);
        } else if (strcmp(key, "keywords") == 0) {
            n.n_keywords = 0;
            if (json_is_null(v)) continue;
            ok = json_is_array(v) && json_array_size(v) <= IMG_TAG_KEYWORDS_MAX;
            size_t i;
            json_t *k;
            json_array_foreach(v, i, k) {
                if (!ok) break;
                ok = json_is_string(k) && json_string_length(k) > 0 && json_string_length(k) < IMG_TAG_KEYWORD_MAX &&
                     strlen(json_string_value(k)) == json_string_length(k);
                bool dup = false;
                for (int j = 0; ok && j < n.n_keywords && !dup; j++) dup = strcmp(n.keywords[j], json_string_value(k)) == 0;
                if (ok && !dup) snprintf(n.keywords[n.n_keywords++], IMG_TAG_KEYWORD_MAX, "%s", json_string_value(k));
            }
            if (!ok)
                snprintf(err, errsz, "\"keywords\" is a list of at most %d strings of 1 to %d bytes", IMG_TAG_KEYWORDS_MAX,
                         IMG_TAG_KEYWORD_MAX - 1);
        } else {
            snprintf(err, errsz, "unknown field \"%s\" (known: enabled, gps, artist, copyright, caption, keywords)", key);
            ok = false;
        }
        if (!ok) return false;
    }
    if (!img_tags_validate(&n, err, errsz)) return false;
    *t = n;
    *enabled = en;
    return true;
}

/* ---- the settings file ------------------------------------------------------------ */

static void settings_path(const studio *s, char *out, size_t size)
{
    snprintf(out, size, "%s/.tether/tagging.json", s->root);
}

/* Writes the settings atomically into the existing PHOTOS/.tether (a
 * folder deleted meanwhile is not made again).  Returns 0,
 * TETHER_ERR_NO_MEMORY, or the write's error (studio_errno_err). */
static int save_settings(const studio *s, const img_tags *t, bool enabled)
{
    json_t *j = settings_json(t, enabled);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(j);
    if (text == NULL) return TETHER_ERR_NO_MEMORY;
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/.tether", s->root);
    settings_path(s, path, sizeof path);
    store_atomic a;
    int e = 0;
    errno = 0;
    if (store_atomic_begin(&a, dir) != TETHER_OK) {
        e = errno ? errno : EIO;
    } else {
        size_t n = strlen(text);
        if (store_write_all(a.fd, text, n) != 0 || fsync(a.fd) != 0) e = errno;
        if (close(a.fd) != 0 && e == 0) e = errno;
        a.fd = -1;
        if (e == 0 && rename(a.tmp, path) != 0) e = errno;
        if (e != 0) store_atomic_abort(&a);
    }
    free(text);
    if (e != 0) LOG_WARN("tagging", "cannot write %s: %s", path, strerror(e));
    return e == 0 ? TETHER_OK : studio_errno_err(e);
}

static void load_settings(tagging_ctl *tc)
{
    char path[4300];
    settings_path(tc->s, path, sizeof path);
    if (access(path, F_OK) != 0) return;
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    char err[256] = "";
    if (j == NULL || !json_is_object(j) || !settings_from_json(j, &tc->tags, &tc->enabled, err, sizeof err))
        LOG_WARN("tagging", "ignoring %s: %s", path, j ? err : jerr.text);
    json_decref(j);
}

/* ---- tagging photos ------------------------------------------------------------- */

void tagging_apply_new(tagging_ctl *tc, const char *path, const char *session)
{
    if (tc == NULL) return;
    pthread_mutex_lock(&tc->lock);
    bool enabled = tc->enabled;
    img_tags t = tc->tags;
    pthread_mutex_unlock(&tc->lock);
    if (!enabled || img_tag_kind_of(path) == IMG_TAG_UNSUPPORTED) return;
    snprintf(t.session, sizeof t.session, "%s", session ? session : "");
    char err[512];
    double t0 = clock_mono_s();
    if (img_tag_file(path, &t, NULL, 0, err, sizeof err) != TETHER_OK) LOG_WARN("tagging", "%s", err);
    else LOG_DEBUG("tagging", "tagged %s in %.0f ms", path, (clock_mono_s() - t0) * 1000);
}

/* Sets a counter of the apply job (lock held). */
static void bump(json_t *job, const char *counter)
{
    json_object_set_new(job, counter, json_integer(json_integer_value(json_object_get(job, counter)) + 1));
}

static void *apply_worker(void *arg)
{
    tagging_ctl *tc = arg;
    studio *s = tc->s;
    log_set_thread_name("tagging");
    pthread_mutex_lock(&tc->lock);
    img_tags t = tc->tags;
    char session[128];
    snprintf(session, sizeof session, "%s", tc->apply_session);
    pthread_mutex_unlock(&tc->lock);
    snprintf(t.session, sizeof t.session, "%s", session);
    int64_t total = 0;
    double last_event = clock_mono_s();
    bool stopped = false;
    for (int offset = 0; !stopped;) {
        catalog_photo *photos = NULL;
        int n = 0;
        if (catalog_photos(s->cat, session, NULL, offset, PAGE, &photos, &n, &total) != TETHER_OK || n == 0) {
            free(photos);
            break;
        }
        for (int i = 0; i < n; i++) {
            if (s->stopping) {
                stopped = true;
                break;
            }
            char path[4700], err[512] = "";
            const char *counter = "tagged";
            int e = studio_real_path(s, photos[i].rel, path, sizeof path); /* no link into .tether or out */
            if (e != 0) {
                counter = "failed";
                snprintf(err, sizeof err, "not a photo in the photo folder: %s", strerror(e));
            } else if (img_tag_kind_of(path) == IMG_TAG_UNSUPPORTED) {
                counter = "skipped";
            } else if (img_tag_file(path, &t, NULL, 0, err, sizeof err) != TETHER_OK) {
                counter = "failed";
            }
            struct stat st;
            if (strcmp(counter, "tagged") == 0 && stat(path, &st) == 0 && st.st_size != photos[i].size)
                catalog_photo_set_size(s->cat, photos[i].id, st.st_size); /* a JPEG grows by its tags */
            pthread_mutex_lock(&tc->lock);
            bump(tc->apply, counter);
            json_object_set_new(tc->apply, "total", json_integer(total));
            json_t *errors = json_object_get(tc->apply, "errors");
            if (err[0] && json_array_size(errors) < MAX_ERRORS)
                json_array_append_new(errors, json_pack("{s:s, s:s}", "file", photos[i].rel, "message", err));
            if (clock_mono_s() - last_event > 0.5) {
                hub_publish(s, "tagging_apply", json_deep_copy(tc->apply));
                last_event = clock_mono_s();
            }
            pthread_mutex_unlock(&tc->lock);
        }
        free(photos);
        offset += n;
        if (offset >= total) break;
    }
    pthread_mutex_lock(&tc->lock);
    json_object_set_new(tc->apply, "status", json_string(stopped ? "stopped" : "done"));
    json_object_set_new(tc->apply, "running", json_false());
    hub_publish(s, "tagging_apply", json_deep_copy(tc->apply));
    LOG_INFO("tagging", "session %s: %lld tagged, %lld failed, %lld skipped", session,
             (long long)json_integer_value(json_object_get(tc->apply, "tagged")),
             (long long)json_integer_value(json_object_get(tc->apply, "failed")),
             (long long)json_integer_value(json_object_get(tc->apply, "skipped")));
    pthread_mutex_unlock(&tc->lock);
    return NULL;
}

/* ---- routes ------------------------------------------------------------------------ */

static json_t *state_json(tagging_ctl *tc)
{
    pthread_mutex_lock(&tc->lock);
    json_t *j = settings_json(&tc->tags, tc->enabled);
    json_object_set_new(j, "apply", tc->apply ? json_deep_copy(tc->apply) : json_null());
    pthread_mutex_unlock(&tc->lock);
    return j;
}

static enum MHD_Result put_settings(tagging_ctl *tc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    char err[256] = "";
    pthread_mutex_lock(&tc->lock);
    img_tags t = tc->tags;
    bool enabled = tc->enabled;
    bool ok = settings_from_json(body, &t, &enabled, err, sizeof err);
    json_decref(body);
    if (!ok) {
        pthread_mutex_unlock(&tc->lock);
        return http_error(r, 400, "bad_value", "%s", err);
    }
    char why[1200];
    if (!studio_storage_ok(tc->s, why, sizeof why)) {
        pthread_mutex_unlock(&tc->lock);
        return http_error(r, 500, "storage_error", "cannot save the tagging settings: %s", why);
    }
    int rc = save_settings(tc->s, &t, enabled);
    if (rc != TETHER_OK) {
        pthread_mutex_unlock(&tc->lock);
        if (rc == TETHER_ERR_NO_MEMORY) return http_error(r, 500, "internal", "out of memory");
        return api_storage_error(tc->s, r, rc, "cannot save the tagging settings", NULL);
    }
    tc->tags = t;
    tc->enabled = enabled;
    hub_publish(tc->s, "tagging", settings_json(&t, enabled));
    pthread_mutex_unlock(&tc->lock);
    return http_json(r, 200, state_json(tc));
}

static enum MHD_Result post_apply(tagging_ctl *tc, const http_request *r)
{
    char session[128];
    studio_session(tc->s, session, sizeof session);
    if (r->body) {
        enum MHD_Result answered;
        json_t *body = http_json_body(r, &answered);
        if (body == NULL) return answered;
        json_t *v = json_object_get(body, "session");
        bool ok = v == NULL || json_is_null(v) || (json_is_string(v) && catalog_session_name_ok(json_string_value(v)));
        if (ok && json_is_string(v)) snprintf(session, sizeof session, "%s", json_string_value(v));
        json_decref(body);
        if (!ok) return http_error(r, 400, "bad_name", "\"session\" must be a session's name (or left out: the active one)");
    }
    if (!studio_session_exists(tc->s, session)) return http_error(r, 404, "not_found", "no session \"%s\"", session);
    catalog_photo *first = NULL;
    int n_first = 0;
    int64_t total = 0;
    catalog_photos(tc->s->cat, session, NULL, 0, 1, &first, &n_first, &total);
    free(first);
    pthread_mutex_lock(&tc->lock);
    if (tc->apply && json_is_true(json_object_get(tc->apply, "running"))) {
        pthread_mutex_unlock(&tc->lock);
        return http_error(r, 409, "tagging_busy", "the photos of a session are being tagged; wait for it to finish");
    }
    snprintf(tc->apply_session, sizeof tc->apply_session, "%s", session);
    json_decref(tc->apply);
    tc->apply = json_pack("{s:s, s:b, s:s, s:I, s:i, s:i, s:i, s:[]}", "session", session, "running", 1, "status",
                          "running", "total", (json_int_t)total, "tagged", 0, "failed", 0, "skipped", 0, "errors");
    if (tc->apply == NULL || !studio_worker_start(&tc->worker, apply_worker, tc)) { /* joins the last, finished one */
        json_decref(tc->apply);
        tc->apply = NULL;
        pthread_mutex_unlock(&tc->lock);
        return http_error(r, 500, "internal", "cannot start tagging");
    }
    json_t *copy = json_deep_copy(tc->apply);
    pthread_mutex_unlock(&tc->lock);
    return http_json(r, 202, json_pack("{s:o}", "apply", copy));
}

enum MHD_Result tagging_handle(studio *s, const http_request *r, const char *rest)
{
    tagging_ctl *tc = s->tagging;
    if (strcmp(rest, "") == 0) {
        if (http_is(r, "GET")) return http_json(r, 200, state_json(tc));
        if (http_is(r, "PUT")) return put_settings(tc, r);
        return http_error(r, 405, "method_not_allowed", "use GET or PUT");
    }
    if (strcmp(rest, "/apply") == 0)
        return http_is(r, "POST") ? post_apply(tc, r) : http_error(r, 405, "method_not_allowed", "use POST");
    return http_error(r, 404, "not_found", "no API route %s", r->url);
}

/* ---- life cycle ------------------------------------------------------------------- */

tagging_ctl *tagging_ctl_new(studio *s)
{
    tagging_ctl *tc = calloc(1, sizeof *tc);
    if (tc == NULL) return NULL;
    tc->s = s;
    pthread_mutex_init(&tc->lock, NULL);
    load_settings(tc);
    return tc;
}

void tagging_ctl_free(tagging_ctl *tc)
{
    if (tc == NULL) return;
    studio_worker_join(&tc->worker, &tc->lock); /* it stops at the next photo once s->stopping is set */
    json_decref(tc->apply);
    pthread_mutex_destroy(&tc->lock);
    free(tc);
}
