/*
 * webhooks: the studio's webhooks (docs/API.md, "Webhooks"): the
 * /api/webhooks routes (endpoints, the delivery log, a test ping, a
 * retry), the event bodies for new photos, and the "webhook_delivery"
 * server-sent event after each attempt.  Queueing, signing, retries and
 * the delivery thread are app/jobs/webhook.c; the outbox is
 * PHOTOS/.tether/webhooks.db.
 *
 * webhooks_photo_added is called once per catalogued photo (captures by
 * the API, the body's button and the time-lapse through
 * studio_register_photo; imports with event "import"); it returns once
 * the event is on disk, so a capture is reported after its webhooks are
 * safe.
 *
 * Webhooks do not go to this machine or its private networks unless the
 * studio runs with --webhook-allow-private (s->webhook_allow_private; the
 * rule and where it is checked: app/jobs/webhook.h): POST and PUT refuse
 * such a URL with a 400 naming the option, and a delivery to a name that
 * resolves to such an address fails at once.
 *
 * Test knobs (environment): TETHER_WEBHOOK_BACKOFF_MS (first retry delay,
 * default 1000), TETHER_WEBHOOK_BACKOFF_CAP_MS (default 600000),
 * TETHER_WEBHOOK_MAX_ATTEMPTS (default 20), TETHER_WEBHOOK_RESOLVE
 * ("HOST:PORT:ADDR", space-separated: names answered without DNS, as
 * curl --resolve does, so that a test can give a public-looking name a
 * loopback address; the address rule still applies to ADDR).
 *
 * Threads: handlers run on libmicrohttpd's threads, the attempt reports on
 * the delivery thread; the library serialises everything shared.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytebuf.h"
#include "base/log.h"
#include "image/analysis.h"
#include "internal.h"
#include "jobs/webhook.h"

struct webhooks_ctl {
    studio *s;
    webhook *w;
};

/* ---- JSON views ----------------------------------------------------------------------- */

static void iso_time(int64_t ms, char *out, size_t size)
{
    if (ms <= 0) {
        snprintf(out, size, "%s", "");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

static json_t *time_or_null(int64_t ms)
{
    char t[40];
    iso_time(ms, t, sizeof t);
    return t[0] ? json_string(t) : json_null();
}

static json_t *endpoint_json(const webhook_endpoint *e)
{
    return json_pack("{s:I, s:s, s:s, s:b, s:b, s:o}", "id", (json_int_t)e->id, "url", e->url, "events", e->events,
                     "enabled", e->enabled, "secret_set", e->secret[0] != '\0', "created", time_or_null(e->created_ms));
}

static json_t *item_json(const webhook_item *it)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o}", "key", it->key, "event", it->event,
                     "endpoint", (json_int_t)it->endpoint, "url", it->url, "state", webhook_state_name(it->state),
                     "attempts", it->attempts, "last_status", it->last_status ? json_integer(it->last_status) : json_null(),
                     "last_error", it->last_error, "created", time_or_null(it->created_ms), "last_attempt",
                     time_or_null(it->last_attempt_ms), "next_attempt",
                     it->state == WEBHOOK_PENDING ? time_or_null(it->next_attempt_ms) : json_null(), "done",
                     time_or_null(it->done_ms));
}

/* ---- events for photos ------------------------------------------------------------------ */

static void on_attempt(void *user, const webhook_item *it)
{
    webhooks_ctl *wc = user;
    hub_publish(wc->s, "webhook_delivery", item_json(it));
}

void webhooks_photo_added(studio *s, const json_t *photo, const char *event)
{
    webhooks_ctl *wc = s->webhooks;
    if (wc == NULL || photo == NULL || webhook_wanted(wc->w, event) == 0) return;
    const char *url = json_string_value(json_object_get(photo, "url"));
    const char *rel = url && strncmp(url, "/photos/", 8) == 0 ? url + 8 : "";
    json_int_t id = json_integer_value(json_object_get(photo, "id"));
    char abs[5000], api[64], when[40];
    snprintf(abs, sizeof abs, "%s/%s", s->root, rel);
    snprintf(api, sizeof api, "/api/photos/%lld", (long long)id);
    iso_time((int64_t)json_integer_value(json_object_get(photo, "taken")) * 1000, when, sizeof when);

    json_t *exif = json_null(), *gps = json_null();
    bytebuf data = BYTEBUF_INIT;
    img_exif_summary e;
    if (studio_read_rel(s, rel, &data) == 0 && img_exif_read_summary(data.data, data.len, &e) == 0) {
        exif = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:s, s:f}", "make", e.make, "model", e.model, "lens", e.lens,
                         "datetime", e.datetime, "iso", e.iso, "fnumber", e.fnumber, "exposure", e.exposure,
                         "focal_mm", e.focal_mm);
        if (e.latitude == e.latitude && e.longitude == e.longitude) /* not NAN */
            gps = json_pack("{s:f, s:f}", "lat", e.latitude, "lon", e.longitude);
    }
    bytebuf_free(&data);
    json_t *body = json_pack("{s:s, s:O?, s:O?, s:{s:I, s:O?, s:s, s:s, s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:O?},"
                             " s:o, s:o}",
                             "time", when, "session", json_object_get(photo, "session"), "camera",
                             json_object_get(photo, "camera_model"), "photo", "id", id, "file", json_object_get(photo, "file"),
                             "url", url ? url : "", "api", api, "path", rel, "abs_path", abs, "thumb",
                             json_object_get(photo, "thumb"), "size", json_object_get(photo, "size"), "width",
                             json_object_get(photo, "width"), "height", json_object_get(photo, "height"), "day",
                             json_object_get(photo, "day"), "exif", exif, "gps", gps);
    if (body) { /* which of the studio's cameras took it */
        json_object_set(body, "camera_id", json_object_get(photo, "camera"));
        json_object_set(body, "camera_identity", json_object_get(photo, "camera_identity"));
    }
    int n = 0;
    int rc = body ? webhook_enqueue(wc->w, event, body, 0, &n, NULL) : TETHER_ERR_NO_MEMORY;
    if (rc != TETHER_OK) LOG_ERROR("webhooks", "cannot enqueue the %s of photo %lld: %s", event, (long long)id, tether_strerror(rc));
    json_decref(body);
}

/* ---- routes --------------------------------------------------------------------------------- */

static enum MHD_Result get_endpoints(webhooks_ctl *wc, const http_request *r)
{
    webhook_endpoint *eps = NULL;
    int n = 0;
    int64_t counts[3];
    if (webhook_store_endpoints(webhook_get_store(wc->w), &eps, &n) != TETHER_OK ||
        webhook_store_counts(webhook_get_store(wc->w), counts) != TETHER_OK) {
        free(eps);
        return api_storage_error(wc->s, r, TETHER_ERR_STORAGE, "cannot read the webhooks database", NULL);
    }
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, endpoint_json(&eps[i]));
    free(eps);
    return http_json(r, 200, json_pack("{s:o, s:{s:I, s:I, s:I}}", "endpoints", a, "deliveries", "pending",
                                       (json_int_t)counts[WEBHOOK_PENDING], "delivered", (json_int_t)counts[WEBHOOK_DELIVERED],
                                       "failed", (json_int_t)counts[WEBHOOK_FAILED]));
}

static enum MHD_Result post_endpoint(webhooks_ctl *wc, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *url = json_object_get(body, "url"), *secret = json_object_get(body, "secret"),
           *events = json_object_get(body, "events");
    const char *err = NULL;
    if (!json_is_object(body)) err = "expected {\"url\": ..., \"secret\": ..., \"events\": ...}";
    else if (!json_is_string(url)) err = "\"url\" (the receiver's http:// or https:// URL) is required";
    else if (secret && !json_is_null(secret) && !json_is_string(secret)) err = "\"secret\" must be a string";
    else if (events && !json_is_null(events) && !json_is_string(events))
        err = "\"events\" is \"all\", \"capture\" or \"import\"";
    if (err) {
        json_decref(body);
        return http_error(r, 400, "bad_value", "%s", err);
    }
    webhook_endpoint e;
    const char *why = "";
    int rc = webhook_endpoint_add(wc->w, json_string_value(url), json_string_value(secret), json_string_value(events),
                                  &e, &why);
    json_decref(body);
    if (rc == TETHER_ERR_BAD_VALUE) return http_error(r, 400, "bad_value", "%s", why);
    if (rc != TETHER_OK) return api_storage_error(wc->s, r, rc, "cannot save the endpoint", NULL);
    json_t *j = endpoint_json(&e);
    hub_publish(wc->s, "webhook_added", json_incref(j));
    return http_json(r, 201, j);
}

static enum MHD_Result put_endpoint(webhooks_ctl *wc, const http_request *r, int64_t id)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    json_t *url = json_object_get(body, "url"), *secret = json_object_get(body, "secret"),
           *events = json_object_get(body, "events"), *enabled = json_object_get(body, "enabled");
    const char *err = NULL, *key;
    json_t *v;
    if (!json_is_object(body)) err = "expected {\"url\", \"secret\", \"events\", \"enabled\"} (any of them)";
    else if (url && !json_is_string(url)) err = "\"url\" must be a string";
    else if (secret && !json_is_null(secret) && !json_is_string(secret)) err = "\"secret\" must be a string, or null to remove it";
    else if (events && !json_is_string(events)) err = "\"events\" is \"all\", \"capture\" or \"import\"";
    else if (enabled && !json_is_boolean(enabled)) err = "\"enabled\" is true or false";
    json_object_foreach(body, key, v) {
        if (!err && strcmp(key, "url") && strcmp(key, "secret") && strcmp(key, "events") && strcmp(key, "enabled"))
            err = "unknown field: an endpoint has \"url\", \"secret\", \"events\" and \"enabled\"";
    }
    if (err) {
        json_decref(body);
        return http_error(r, 400, "bad_value", "%s", err);
    }
    webhook_endpoint e;
    const char *why = "";
    int rc = webhook_endpoint_update(wc->w, id, json_string_value(url),
                                     secret ? (json_is_null(secret) ? "" : json_string_value(secret)) : NULL,
                                     json_string_value(events), enabled ? json_is_true(enabled) : -1, &e, &why);
    json_decref(body);
    if (rc == TETHER_ERR_BAD_VALUE) return http_error(r, 400, "bad_value", "%s", why);
    if (rc == TETHER_ERR_NOT_FOUND) return http_error(r, 404, "not_found", "no webhook %lld", (long long)id);
    if (rc != TETHER_OK) return api_storage_error(wc->s, r, rc, "cannot save the endpoint", NULL);
    json_t *j = endpoint_json(&e);
    hub_publish(wc->s, "webhook_changed", json_incref(j));
    return http_json(r, 200, j);
}

/* Parses a positive decimal id; false if it is not one. */
static bool parse_id(const char *text, size_t len, int64_t *id)
{
    if (len == 0 || len > 18) return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        v = v * 10 + (text[i] - '0');
    }
    *id = v;
    return v > 0;
}

static enum MHD_Result get_deliveries(webhooks_ctl *wc, const http_request *r)
{
    const char *lim = http_query(r, "limit"), *st = http_query(r, "state");
    int64_t limit = 50;
    if (lim && (!parse_id(lim, strlen(lim), &limit) || limit > 1000))
        return http_error(r, 400, "bad_value", "\"limit\" is 1 to 1000");
    webhook_state state = WEBHOOK_PENDING;
    if (st && *st && !webhook_state_parse(st, &state))
        return http_error(r, 400, "bad_value", "\"state\" is pending, delivered or failed");
    webhook_item *items = NULL;
    int n = 0;
    if (webhook_store_items(webhook_get_store(wc->w), st && *st ? (int)state : -1, (int)limit, &items, &n) != TETHER_OK)
        return api_storage_error(wc->s, r, TETHER_ERR_STORAGE, "cannot read the webhooks database", NULL);
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, item_json(&items[i]));
    webhook_items_free(items, n);
    return http_json(r, 200, json_pack("{s:o}", "deliveries", a));
}

static enum MHD_Result post_test(webhooks_ctl *wc, const http_request *r, int64_t id)
{
    char when[40];
    iso_time(webhook_now_ms(), when, sizeof when);
    char session[128];
    studio_session(wc->s, session, sizeof session);
    json_t *body = json_pack("{s:s, s:s, s:I}", "time", when, "session", session, "endpoint", (json_int_t)id);
    int n = 0;
    char key[WEBHOOK_KEY_LEN + 1];
    int rc = webhook_enqueue(wc->w, "ping", body, id, &n, key);
    json_decref(body);
    if (rc == TETHER_ERR_NOT_FOUND) return http_error(r, 404, "not_found", "no webhook %lld", (long long)id);
    if (rc != TETHER_OK) return api_storage_error(wc->s, r, rc, "cannot enqueue the test", NULL);
    json_t *j = json_pack("{s:I, s:i, s:s}", "endpoint", (json_int_t)id, "enqueued", n, "key", key);
    return http_json(r, 202, j);
}

enum MHD_Result webhooks_handle(studio *s, const http_request *r, const char *rest)
{
    webhooks_ctl *wc = s->webhooks;
    bool get = http_is(r, "GET"), post = http_is(r, "POST"), del = http_is(r, "DELETE");
    enum MHD_Result answered;
    if (!get && !api_storage_usable(s, r, "webhooks", &answered)) return answered; /* acknowledge only what lasts */
    if (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0) {
        if (get) return get_endpoints(wc, r);
        if (post) return post_endpoint(wc, r);
        return http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    if (strcmp(rest, "/deliveries") == 0)
        return get ? get_deliveries(wc, r) : http_error(r, 405, "method_not_allowed", "use GET");
    if (strncmp(rest, "/deliveries/", 12) == 0) {
        const char *key = rest + 12;
        const char *retry = strchr(key, '/');
        if (retry == NULL || strcmp(retry, "/retry") != 0 || retry - key != WEBHOOK_KEY_LEN)
            return http_error(r, 404, "not_found", "no API route %s", r->url);
        if (!post) return http_error(r, 405, "method_not_allowed", "use POST");
        char k[WEBHOOK_KEY_LEN + 1];
        snprintf(k, sizeof k, "%.*s", WEBHOOK_KEY_LEN, key);
        if (webhook_retry(wc->w, k) != TETHER_OK)
            return http_error(r, 404, "not_found", "no failed delivery %s (of an endpoint that still exists)", k);
        return http_json(r, 202, json_pack("{s:s, s:s}", "key", k, "state", "pending"));
    }
    if (rest[0] != '/') return http_error(r, 404, "not_found", "no API route %s", r->url);
    const char *idtext = rest + 1, *slash = strchr(idtext, '/');
    int64_t id;
    if (!parse_id(idtext, slash ? (size_t)(slash - idtext) : strlen(idtext), &id))
        return http_error(r, 400, "bad_id", "a webhook id is a positive number");
    if (slash) {
        if (strcmp(slash, "/test") != 0) return http_error(r, 404, "not_found", "no API route %s", r->url);
        return post ? post_test(wc, r, id) : http_error(r, 405, "method_not_allowed", "use POST");
    }
    if (http_is(r, "PUT")) return put_endpoint(wc, r, id);
    if (get) {
        webhook_endpoint e;
        if (webhook_store_endpoint_get(webhook_get_store(wc->w), id, &e) != TETHER_OK)
            return http_error(r, 404, "not_found", "no webhook %lld", (long long)id);
        return http_json(r, 200, endpoint_json(&e));
    }
    if (del) {
        int rc = webhook_store_endpoint_delete(webhook_get_store(wc->w), id, webhook_now_ms());
        if (rc == TETHER_ERR_NOT_FOUND) return http_error(r, 404, "not_found", "no webhook %lld", (long long)id);
        if (rc != TETHER_OK) return api_storage_error(wc->s, r, rc, "cannot delete the webhook", NULL);
        hub_publish(wc->s, "webhook_deleted", json_pack("{s:I}", "id", (json_int_t)id));
        return http_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
    }
    return http_error(r, 405, "method_not_allowed", "use GET, PUT or DELETE");
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static int64_t env_int(const char *name, int64_t fallback)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') return fallback;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x <= 0) {
        LOG_WARN("webhooks", "ignoring %s=%s (not a positive number)", name, v);
        return fallback;
    }
    return x;
}

webhooks_ctl *webhooks_ctl_new(studio *s)
{
    webhooks_ctl *wc = calloc(1, sizeof *wc);
    if (wc == NULL) return NULL;
    wc->s = s;
    char path[4300];
    snprintf(path, sizeof path, "%s/.tether/webhooks.db", s->root);
    webhook_options o = {.backoff_base_ms = env_int("TETHER_WEBHOOK_BACKOFF_MS", 1000),
                         .backoff_cap_ms = env_int("TETHER_WEBHOOK_BACKOFF_CAP_MS", 600000),
                         .max_attempts = (int)env_int("TETHER_WEBHOOK_MAX_ATTEMPTS", 20),
                         .allow_private = s->webhook_allow_private,
                         .resolve = getenv("TETHER_WEBHOOK_RESOLVE"),
                         .on_attempt = on_attempt,
                         .user = wc};
    if ((wc->w = webhook_start(path, &o)) == NULL) {
        free(wc);
        return NULL;
    }
    return wc;
}

void webhooks_ctl_free(webhooks_ctl *wc)
{
    if (wc == NULL) return;
    webhook_stop(wc->w);
    free(wc);
}

bool webhooks_counts(webhooks_ctl *wc, int64_t counts[3])
{
    return wc && webhook_store_counts(webhook_get_store(wc->w), counts) == TETHER_OK;
}
