/*
 * studio: see studio.h.  This file holds the life cycle (camera, catalog,
 * HTTP server, event pump), the event hub, the routing of non-API paths
 * and the photo registration shared by captures and tethered shots.
 */
#include "studio.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "image/analysis.h"
#include "image/jpeg.h"
#include "internal.h"
#include "ptpip/host.h"
#include "store/atomic.h"

/* ---- event hub ------------------------------------------------------------- */

void hub_publish(studio *s, const char *type, json_t *data)
{
    hub *h = &s->events;
    pthread_mutex_lock(&h->lock);
    uint64_t seq = ++h->next;
    json_t *ev = json_pack("{s:s, s:I, s:o}", "type", type, "seq", (json_int_t)seq,
                           "data", data ? data : json_object());
    char *js = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(ev);
    size_t n = js ? strlen(js) + strlen(type) + 64 : 0;
    char *text = n ? malloc(n) : NULL;
    if (text) snprintf(text, n, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq, type, js);
    free(js);
    int slot = (int)(seq % HUB_RING);
    free(h->text[slot]);
    h->text[slot] = text;
    h->seq[slot] = seq;
    pthread_cond_broadcast(&h->cond);
    http_server *http = s->http;
    pthread_mutex_unlock(&h->lock);
    http_wake(http, STREAM_WAKE_EVENTS); /* parked event streams */
}

char *hub_next(studio *s, uint64_t *seq, int timeout_ms)
{
    hub *h = &s->events;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&h->lock);
    while (h->next <= *seq && !s->stopping)
        if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT) break;
    char *out = NULL;
    if (h->next > *seq) {
        uint64_t want = *seq + 1;
        if (h->next - want >= HUB_RING) want = h->next - HUB_RING + 1; /* fell behind: skip */
        int slot = (int)(want % HUB_RING);
        if (h->seq[slot] == want && h->text[slot]) out = strdup(h->text[slot]);
        *seq = want;
    }
    pthread_mutex_unlock(&h->lock);
    return out;
}

/* ---- sessions, days, photos ----------------------------------------------------- */

void studio_session(studio *s, char *out, size_t size)
{
    pthread_mutex_lock(&s->lock);
    snprintf(out, size, "%s", s->session);
    pthread_mutex_unlock(&s->lock);
}

void studio_today(char *out, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

bool studio_safe_rel(const char *rel)
{
    if (rel == NULL || rel[0] == '\0' || rel[0] == '/' || strlen(rel) > 1000) return false;
    if (strstr(rel, "..") || strstr(rel, "//") || strchr(rel, '\\')) return false;
    for (const char *p = rel; *p; p++)
        if ((unsigned char)*p < 0x20) return false;
    return true;
}

/* Whether /photos/REL may be served: no hidden file or folder but the
 * thumbnails (.thumbs), so never the studio's own state in .tether (the
 * catalog, webhook secrets, ledgers) nor a temporary file being written. */
static bool servable_rel(const char *rel)
{
    for (const char *c = rel;; c++) { /* c: the start of each component */
        if (c[0] == '.' && strncmp(c, ".thumbs/", 8) != 0) return false;
        if ((c = strchr(c, '/')) == NULL) return true;
    }
}

bool studio_session_exists(studio *s, const char *name)
{
    catalog_session *list = NULL;
    int n = 0;
    bool found = false;
    if (catalog_sessions(s->cat, &list, &n) == TETHER_OK)
        for (int i = 0; i < n && !found; i++) found = strcmp(list[i].name, name) == 0;
    free(list);
    return found;
}

json_t *studio_photo_json(const catalog_photo *p)
{
    const char *slash = strrchr(p->rel, '/');
    char url[700], thumb[700];
    snprintf(url, sizeof url, "/photos/%s", p->rel);
    snprintf(thumb, sizeof thumb, "%s%s", p->thumb[0] ? "/photos/" : "", p->thumb);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:s, s:s}",
                     "id", (json_int_t)p->id, "session", p->session, "day", p->day,
                     "file", slash ? slash + 1 : p->rel, "url", url, "thumb", thumb,
                     "taken", (json_int_t)p->taken, "size", (json_int_t)p->size,
                     "width", p->width, "height", p->height, "camera", p->camera,
                     "camera_path", p->camera_path);
}

json_t *studio_register_photo(studio *s, const char *session, const char *day, const char *path,
                              const char *camera_path)
{
    return studio_register_photo_event(s, session, day, path, camera_path, "capture");
}

json_t *studio_register_photo_event(studio *s, const char *session, const char *day, const char *path,
                                    const char *camera_path, const char *event)
{
    catalog_photo p = {0};
    snprintf(p.session, sizeof p.session, "%s", session);
    snprintf(p.day, sizeof p.day, "%s", day);
    size_t rl = strlen(s->root);
    if (strncmp(path, s->root, rl) != 0 || path[rl] != '/') {
        LOG_ERROR("studio", "%s is outside the photo folder", path);
        return NULL;
    }
    snprintf(p.rel, sizeof p.rel, "%s", path + rl + 1);
    snprintf(p.camera_path, sizeof p.camera_path, "%s", camera_path ? camera_path : "");
    tether_camera_model(s->cam, p.camera, sizeof p.camera);
    p.taken = time(NULL);
    tagging_apply_new(s->tagging, path, session); /* before its size and thumbnail are taken */
    struct stat st;
    if (stat(path, &st) == 0) p.size = st.st_size;
    const char *mime = http_mime_for(path);
    if (strcmp(mime, "image/jpeg") == 0) {
        bytebuf data = BYTEBUF_INIT, thumb = BYTEBUF_INIT;
        if (bytebuf_read_file(&data, path) == 0) {
            img_jpeg_size(data.data, data.len, &p.width, &p.height);
            if (img_thumbnail(data.data, data.len, 360, &thumb) == 0) {
                char dir[4200], file[512];
                const char *base = strrchr(path, '/') + 1;
                snprintf(dir, sizeof dir, "%.*s/.thumbs", (int)(base - path - 1), path);
                snprintf(file, sizeof file, "%s", base);
                store_atomic a;
                if (store_mkdirs(dir) == TETHER_OK && store_atomic_begin(&a, dir) == TETHER_OK) {
                    bool written = write(a.fd, thumb.data, thumb.len) == (ssize_t)thumb.len;
                    char full[4700];
                    if (written && store_atomic_commit_unique(&a, file, full, sizeof full) == TETHER_OK)
                        snprintf(p.thumb, sizeof p.thumb, "%s", full + rl + 1);
                    else
                        store_atomic_abort(&a);
                }
            }
        }
        bytebuf_free(&data);
        bytebuf_free(&thumb);
    }
    if (catalog_photo_add(s->cat, &p) != TETHER_OK) return NULL;
    json_t *photo = studio_photo_json(&p);
    webhooks_photo_added(s, photo, event); /* on disk before the photo is reported */
    return photo;
}

/* Removes the temporary files a killed server left where it writes:
 * PHOTOS/.tether, and each SESSION/DAY folder with its .thumbs. */
static void sweep_temporaries(const char *root)
{
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/.tether", root);
    int n = store_atomic_sweep(pattern);
    snprintf(pattern, sizeof pattern, "%s/*/*/", root);
    glob_t g;
    if (glob(pattern, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char thumbs[4400];
            snprintf(thumbs, sizeof thumbs, "%s.thumbs", g.gl_pathv[i]);
            n += store_atomic_sweep(g.gl_pathv[i]) + store_atomic_sweep(thumbs);
        }
        globfree(&g);
    }
    if (n > 0) LOG_INFO("studio", "removed %d temporary files left by a server that was stopped mid-write", n);
}

/* ---- the camera's events ---------------------------------------------------------- */

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
static void aim_tethered(studio *s, char *day, size_t daysz)
{
    char session[128], dir[4400];
    studio_session(s, session, sizeof session);
    studio_today(day, daysz);
    snprintf(dir, sizeof dir, "%s/%s/%s", s->root, session, day);
    tether_tethered(s->cam, dir, "{timestamp:%Y%m%d-%H%M%S}-{name}", false);
}

static void *event_pump(void *arg)
{
    studio *s = arg;
    log_set_thread_name("events");
    char day[16] = "";
    aim_tethered(s, day, sizeof day);
    int64_t last_aim = clock_mono_ns();
    while (!s->stopping) {
        if (clock_mono_ns() - last_aim > 30000000000LL) { /* follow midnight */
            aim_tethered(s, day, sizeof day);
            last_aim = clock_mono_ns();
        }
        tether_event ev;
        if (tether_wait_event(s->cam, 300, &ev) != TETHER_OK) continue;
        if (ev.type == TETHER_EVENT_FILE_ADDED && ev.local[0]) {
            char session[128];
            studio_session(s, session, sizeof session);
            json_t *photo = studio_register_photo(s, session, day, ev.local, ev.path);
            if (photo) hub_publish(s, "capture", json_pack("{s:[o], s:s}", "photos", photo, "source", "camera"));
            continue;
        }
        if (ev.type == TETHER_EVENT_CAMERA_BACK) aim_tethered(s, day, sizeof day);
        if (ev.type == TETHER_EVENT_SETTING_CHANGED && ev.path[0]) {
            /* changed on the body: send the whole setting, as the API does */
            tether_setting st;
            if (tether_setting_get(s->cam, ev.path, &st) == TETHER_OK) {
                hub_publish(s, "setting_changed", api_setting_json(&st));
                tether_setting_clear(&st);
                continue;
            }
        }
        hub_publish(s, event_type(ev.type), json_pack("{s:s, s:s}", "path", ev.path, "detail", ev.detail));
    }
    return NULL;
}

/* ---- routing ------------------------------------------------------------------------ */

static enum MHD_Result serve_asset(const http_request *r, const char *path)
{
    const asset *a = asset_find(path);
    if (a == NULL) return http_error(r, 404, "not_found", "no such page: %s", path);
    return http_bytes(r, 200, a->mime, a->data, a->len, false);
}

/* The requests whose handlers never block: they run on the HTTP event
 * loop (http.h); every other one runs on a worker. */
static bool route_is_quick(void *ctx, const char *method, const char *url)
{
    (void)ctx;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return false;
    if (strncmp(url, "/api/", 5) == 0) return strcmp(url, "/api/status") == 0 || strcmp(url, "/api/events") == 0;
    return strcmp(url, "/snapshot.jpg") != 0; /* the UI, photos from disk, the MJPEG stream */
}

static enum MHD_Result route(void *ctx, const http_request *r)
{
    studio *s = ctx;
    const char *u = r->url;
    if (strncmp(u, "/api/", 5) == 0) return api_handle(s, r);
    bool get = http_is(r, "GET") || http_is(r, "HEAD");
    if (!get) return http_error(r, 405, "method_not_allowed", "%s only answers GET", u);
    if (strcmp(u, "/stream.mjpg") == 0) return stream_mjpeg(s, r);
    if (strcmp(u, "/snapshot.jpg") == 0) return stream_snapshot(s, r);
    if (strcmp(u, "/") == 0) return serve_asset(r, "/index.html");
    if (strcmp(u, "/gallery") == 0) return serve_asset(r, "/gallery.html");
    if (strncmp(u, "/photos/", 8) == 0) {
        const char *rel = u + 8;
        if (!studio_safe_rel(rel)) return http_error(r, 400, "bad_path", "not a path inside the photo folder");
        if (!servable_rel(rel)) return http_error(r, 404, "not_found", "no such photo");
        char path[5200], real[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", s->root, rel);
        if (realpath(path, real) == NULL) return http_error(r, 404, "not_found", "no such photo");
        size_t rl = strlen(s->root);
        if (strncmp(real, s->root, rl) != 0 || real[rl] != '/')
            return http_error(r, 403, "forbidden", "outside the photo folder");
        return http_file(r, real, NULL);
    }
    return serve_asset(r, u);
}

/* ---- life cycle ---------------------------------------------------------------------- */

int studio_run(const studio_options *o, volatile int *stop)
{
    studio *s = calloc(1, sizeof *s);
    if (s == NULL) return 1;
    s->webhook_allow_private = o->webhook_allow_private;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->events.lock, NULL);
    pthread_cond_init(&s->events.cond, NULL);
    int rc = 1;
    simhost *sim = NULL;
    http_server *http = NULL;
    pthread_t pump;
    bool pump_started = false;

    const char *photos = o->photos ? o->photos : "photos";
    if (store_mkdirs(photos) != TETHER_OK || realpath(photos, s->root) == NULL) {
        fprintf(stderr, "tether: cannot use %s as the photo folder\n", photos);
        goto done;
    }
    char dbdir[4200], dbpath[4300];
    snprintf(dbdir, sizeof dbdir, "%s/.tether", s->root);
    snprintf(dbpath, sizeof dbpath, "%s/catalog.db", dbdir);
    /* the studio's state (webhook secrets among it) is its user's alone */
    if (store_mkdirs(dbdir) != TETHER_OK || chmod(dbdir, 0700) != 0 || (s->cat = catalog_open(dbpath)) == NULL) {
        fprintf(stderr, "tether: cannot open the catalog %s\n", dbpath);
        goto done;
    }
    sweep_temporaries(s->root);
    if (catalog_active_session(s->cat, s->session, sizeof s->session) != TETHER_OK) {
        snprintf(s->session, sizeof s->session, "default");
        catalog_set_active_session(s->cat, s->session);
    }

    const char *spec = o->camera ? o->camera : "auto";
    char err[512] = "";
    bool want_sim = strncmp(spec, "sim", 3) == 0 && (spec[3] == '\0' || spec[3] == ':');
    if (!want_sim) {
        rc = tether_camera_open(spec, 30000, &s->cam, err, sizeof err);
        if (rc != TETHER_OK && !(o->fallback_sim && rc == TETHER_ERR_NO_CAMERA)) {
            fprintf(stderr, "tether: cannot open camera \"%s\": %s\n", spec, err);
            rc = 1;
            goto done;
        }
        if (rc != TETHER_OK) {
            fprintf(stderr, "tether: no camera found (%s); using the simulated camera\n", err);
            want_sim = true;
            spec = "sim";
        }
        rc = 1;
    }
    if (want_sim) {
        simcam_options so;
        simcam_default_options(&so);
        so.persona = persona_find(spec[3] == ':' ? spec + 4 : "canon-eos");
        if (so.persona == NULL) {
            fprintf(stderr, "tether: unknown simulated camera \"%s\"\n", spec);
            goto done;
        }
        int port = 0;
        if ((sim = simhost_start(&so, NULL, &port)) == NULL) {
            fprintf(stderr, "tether: cannot start the simulated camera\n");
            goto done;
        }
        char sspec[64];
        snprintf(sspec, sizeof sspec, "ptpip:127.0.0.1:%d", port);
        if (tether_camera_open(sspec, 30000, &s->cam, err, sizeof err) != TETHER_OK) {
            fprintf(stderr, "tether: cannot open the simulated camera: %s\n", err);
            goto done;
        }
        s->simulated = true;
    }
    snprintf(s->spec, sizeof s->spec, "%s", spec);

    if ((s->focus = focus_ctl_new(s)) == NULL || (s->interval = interval_ctl_new(s)) == NULL ||
        (s->import = import_ctl_new(s)) == NULL || (s->webhooks = webhooks_ctl_new(s)) == NULL) {
        fprintf(stderr, "tether: cannot start the studio's jobs (out of memory, or %s/.tether/webhooks.db)\n",
                s->root);
        goto done;
    }
    if ((s->tagging = tagging_ctl_new(s)) == NULL) {
        fprintf(stderr, "tether: out of memory\n");
        goto done;
    }
    if ((s->cataloguer = cataloguer_start(s)) == NULL) {
        fprintf(stderr, "tether: cannot start the cataloguer thread\n");
        goto done;
    }
    studio_adopt_files(s); /* photos a killed server wrote but did not catalog */
    http_options ho = {.host = o->host ? o->host : "127.0.0.1", .port = o->port, .token = o->token,
                       .allow_hosts = o->allow_hosts, .n_allow_hosts = o->n_allow_hosts,
                       .handler = route, .quick = route_is_quick, .ctx = s};
    http = http_start(&ho);
    if (http == NULL) {
        fprintf(stderr, "tether: cannot listen on %s:%d\n", o->host ? o->host : "127.0.0.1", o->port);
        goto done;
    }
    pthread_mutex_lock(&s->events.lock);
    s->http = http;
    pthread_mutex_unlock(&s->events.lock);
    stream_pump_start(s);
    if (pthread_create(&pump, NULL, event_pump, s) == 0) pump_started = true;
    interval_resume(s->interval); /* a time-lapse that was running when the server stopped */
    import_resume(s->import);     /* an import likewise */
    char model[128];
    tether_camera_model(s->cam, model, sizeof model);
    printf("studio on http://%s:%d/ (camera: %s%s; photos: %s)\n", o->host ? o->host : "127.0.0.1",
           http_port(http), model, s->simulated ? ", simulated" : "", s->root);
    fflush(stdout);
    while (!*stop) clock_sleep_ns(200000000);
    rc = 0;
done:
    s->stopping = 1;
    pthread_mutex_lock(&s->events.lock);
    pthread_cond_broadcast(&s->events.cond);
    pthread_mutex_unlock(&s->events.lock);
    if (s->cam) tether_camera_cancel(s->cam);
    http_stop(http); /* ends the streams, waits for the handlers running on workers */
    pthread_mutex_lock(&s->events.lock);
    s->http = NULL;
    pthread_mutex_unlock(&s->events.lock);
    stream_pump_stop(s);
    focus_ctl_free(s->focus); /* cancels a running focus tool and waits for it */
    interval_ctl_free(s->interval); /* a running time-lapse is continued at the next start */
    import_ctl_free(s->import);     /* so is an import */
    cataloguer_stop(s->cataloguer); /* catalogs the shots still queued */
    if (pump_started) pthread_join(pump, NULL);
    webhooks_ctl_free(s->webhooks); /* pending deliveries are sent at the next start */
    tagging_ctl_free(s->tagging); /* after every thread that registers photos */
    tether_camera_close(s->cam);
    simhost_stop(sim);
    catalog_close(s->cat);
    for (int i = 0; i < HUB_RING; i++) free(s->events.text[i]);
    pthread_cond_destroy(&s->events.cond);
    pthread_mutex_destroy(&s->events.lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return rc;
}
