/*
 * metrics: GET /healthz (open, for probes: 200 while the studio can keep
 * photos, 503 when its photo folder is gone or unwritable) and GET
 * /metrics (Prometheus text format 0.0.4, behind the token like every
 * route): cameras and whether each is connected, frames served and
 * viewers per camera, photos catalogued, import and webhook queues, HTTP
 * requests and 5xx errors, rig nodes and uploads in progress.
 *
 * Threads: HTTP workers (they read SQLite for the webhook counts and stat
 * the photo folder).  Reads only; takes each station's lock briefly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/bytebuf.h"
#include "internal.h"

enum MHD_Result metrics_healthz(studio *s, const http_request *r)
{
    if (!http_is(r, "GET") && !http_is(r, "HEAD")) return http_error(r, 405, "method_not_allowed", "use GET");
    char why[600] = "";
    bool ok = studio_storage_ok(s, why, sizeof why);
    station *list[STUDIO_MAX_CAMERAS];
    int n = station_list(s, list, STUDIO_MAX_CAMERAS), connected = 0;
    for (int i = 0; i < n; i++) {
        connected += list[i]->remote ? list[i]->remote_connected : tether_camera_connected(list[i]->cam);
        station_unref(list[i]);
    }
    json_t *j = json_pack("{s:b, s:i, s:i}", "ok", ok, "cameras", n, "connected", connected);
    if (!ok) json_object_set_new(j, "error", json_string(why));
    return http_json(r, ok ? 200 : 503, j);
}

/* Appends a printf'ed line. */
static void line(bytebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(bytebuf *b, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n > 0) bytebuf_put(b, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

static void head(bytebuf *b, const char *name, const char *type, const char *help)
{
    line(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum MHD_Result metrics_get(studio *s, const http_request *r)
{
    if (!http_is(r, "GET") && !http_is(r, "HEAD")) return http_error(r, 405, "method_not_allowed", "use GET");
    bytebuf b = BYTEBUF_INIT;
    station *list[STUDIO_MAX_CAMERAS];
    int n = station_list(s, list, STUDIO_MAX_CAMERAS);
    /* ids are slugs ([a-z0-9-]): safe inside a label's quotes */
    head(&b, "tether_camera_connected", "gauge", "1 if the camera answers (a node camera: its node says so)");
    for (int i = 0; i < n; i++)
        line(&b, "tether_camera_connected{camera=\"%s\",node=\"%s\"} %d\n", list[i]->origin.id, list[i]->node,
             list[i]->remote ? (int)list[i]->remote_connected : (int)tether_camera_connected(list[i]->cam));
    unsigned long long frames[STUDIO_MAX_CAMERAS];
    int viewers[STUDIO_MAX_CAMERAS];
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&list[i]->lock);
        frames[i] = (unsigned long long)list[i]->frames_sent;
        viewers[i] = list[i]->stream_clients;
        pthread_mutex_unlock(&list[i]->lock);
    }
    /* each family's samples right after its TYPE line, as the format wants */
    head(&b, "tether_frames_served_total", "counter", "live-view frames sent to viewers");
    for (int i = 0; i < n; i++) line(&b, "tether_frames_served_total{camera=\"%s\"} %llu\n", list[i]->origin.id, frames[i]);
    head(&b, "tether_viewers", "gauge", "live-view viewers now");
    for (int i = 0; i < n; i++) line(&b, "tether_viewers{camera=\"%s\"} %d\n", list[i]->origin.id, viewers[i]);
    head(&b, "tether_import_files_left", "gauge", "files the running import of a camera has still to copy");
    for (int i = 0; i < n; i++)
        if (list[i]->import) line(&b, "tether_import_files_left{camera=\"%s\"} %d\n", list[i]->origin.id,
                                  import_files_left(list[i]->import));
    for (int i = 0; i < n; i++) station_unref(list[i]);
    head(&b, "tether_cameras", "gauge", "cameras served");
    line(&b, "tether_cameras %d\n", n);
    head(&b, "tether_photos_catalogued_total", "counter", "photos catalogued since start (captures, imports, rig)");
    line(&b, "tether_photos_catalogued_total %llu\n", (unsigned long long)s->captures);
    int64_t counts[3];
    if (webhooks_counts(s->webhooks, counts)) {
        head(&b, "tether_webhook_deliveries", "gauge", "webhook deliveries by state");
        line(&b, "tether_webhook_deliveries{state=\"pending\"} %lld\n", (long long)counts[0]);
        line(&b, "tether_webhook_deliveries{state=\"delivered\"} %lld\n", (long long)counts[1]);
        line(&b, "tether_webhook_deliveries{state=\"failed\"} %lld\n", (long long)counts[2]);
    }
    uint64_t requests, errors;
    http_counts(studio_http(s), &requests, &errors);
    head(&b, "tether_http_requests_total", "counter", "HTTP requests answered");
    line(&b, "tether_http_requests_total %llu\n", (unsigned long long)requests);
    head(&b, "tether_http_errors_total", "counter", "HTTP requests answered with a 5xx error");
    line(&b, "tether_http_errors_total %llu\n", (unsigned long long)errors);
    int online, known;
    rig_counts(s, &online, &known);
    head(&b, "tether_rig_nodes", "gauge", "camera nodes seen through the broker, by state");
    line(&b, "tether_rig_nodes{state=\"online\"} %d\n", online);
    line(&b, "tether_rig_nodes{state=\"offline\"} %d\n", known - online);
    head(&b, "tether_rig_uploads_partial", "gauge", "node photos being received");
    line(&b, "tether_rig_uploads_partial %d\n", rig_files_partial(s));
    enum MHD_Result ret = http_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len, true);
    bytebuf_free(&b);
    return ret;
}
