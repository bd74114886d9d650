/*
 * proto: see proto.h.  Every message is a JSON object with "v": 1; fields
 * a side does not know are ignored, so a newer peer may add some.
 */
#include "rig/proto.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/slug.h"

/* Puts a sentence into why; false, for "return WHY(...)". */
static bool why_(char *why, size_t whysz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool why_(char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    return false;
}
#define WHY(...) why_(why, whysz, __VA_ARGS__)

bool rig_broker_parse(const char *url, char *host, size_t hostsz, int *port, bool *tls, char *why, size_t whysz)
{
    *tls = url != NULL && strncmp(url, "mqtts://", 8) == 0;
    if (url == NULL || (!*tls && strncmp(url, "mqtt://", 7) != 0))
        return WHY("the broker is mqtt://HOST[:PORT], or mqtts://HOST[:PORT] for TLS (other schemes are not supported)");
    const char *h = url + (*tls ? 8 : 7);
    if (strchr(h, '@')) return WHY("give the broker's user with --user and the password with --password-file, not in the URL");
    const char *colon = strchr(h, ':');
    size_t n = colon ? (size_t)(colon - h) : strcspn(h, "/");
    if (n == 0 || n >= hostsz) return WHY("the broker URL %s has no host (or a host too long)", url);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-')
            return WHY("the broker's host may hold letters, digits, '.' and '-' only");
    memcpy(host, h, n);
    host[n] = '\0';
    *port = *tls ? 8883 : 1883;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || (*end != '\0' && strcmp(end, "/") != 0) || p < 1 || p > 65535)
            return WHY("the broker's port in %s is not a number from 1 to 65535", url);
        *port = (int)p;
    } else if (h[n] != '\0' && strcmp(h + n, "/") != 0) {
        return WHY("the broker URL %s has a path; give mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", url);
    }
    return true;
}

static bool chars_ok(const char *s, size_t max, const char *extra, bool upper)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || s[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper && c >= 'A' && c <= 'Z') ||
                  (c && strchr(extra, c));
        if (!ok) return false;
    }
    return true;
}

bool rig_name_ok(const char *s)
{
    return chars_ok(s, RIG_NAME_MAX, "-_", false);
}

bool rig_shot_ok(const char *s)
{
    return chars_ok(s, RIG_SHOT_MAX, "-_.", true);
}

bool rig_file_ok(const char *s)
{
    return chars_ok(s, RIG_FILE_MAX, "-_.", true);
}

void rig_slug(const char *model, char *out, size_t size)
{
    text_slug(model, out, size, RIG_NAME_MAX - 4); /* room for "-NN" */
}

void rig_topic(char *out, size_t size, const char *node, const char *what)
{
    snprintf(out, size, RIG_TOPIC_NODES "%s/%s", node, what);
}

const char *rig_topic_parse(const char *topic, char *node, size_t nodesz)
{
    size_t plen = strlen(RIG_TOPIC_NODES);
    if (topic == NULL || strncmp(topic, RIG_TOPIC_NODES, plen) != 0) return NULL;
    const char *name = topic + plen, *slash = strchr(name, '/');
    if (slash == NULL || (size_t)(slash - name) >= nodesz || (size_t)(slash - name) > RIG_NAME_MAX) return NULL;
    memcpy(node, name, (size_t)(slash - name));
    node[slash - name] = '\0';
    if (!rig_name_ok(node) || strchr(slash + 1, '/')) return NULL;
    return slash + 1;
}

void rig_live_topic(char *out, size_t size, const char *node, const char *camera)
{
    snprintf(out, size, RIG_TOPIC_NODES "%s/live/%s", node, camera);
}

bool rig_live_topic_parse(const char *topic, char *node, size_t nodesz, char *camera, size_t camerasz)
{
    size_t plen = strlen(RIG_TOPIC_NODES);
    if (topic == NULL || strncmp(topic, RIG_TOPIC_NODES, plen) != 0) return false;
    const char *name = topic + plen, *slash = strchr(name, '/');
    if (slash == NULL || (size_t)(slash - name) >= nodesz || (size_t)(slash - name) > RIG_NAME_MAX) return false;
    if (strncmp(slash, "/live/", 6) != 0) return false;
    const char *cam = slash + 6;
    size_t clen = strlen(cam);
    if (clen >= camerasz || clen > RIG_NAME_MAX) return false;
    memcpy(node, name, (size_t)(slash - name));
    node[slash - name] = '\0';
    memcpy(camera, cam, clen + 1);
    return rig_name_ok(node) && rig_name_ok(camera);
}

bool rig_frame_ok(const void *data, size_t len, char *why, size_t whysz)
{
    const unsigned char *b = data;
    if (len > RIG_FRAME_MAX) {
        snprintf(why, whysz, "a frame of %zu bytes (at most %d)", len, RIG_FRAME_MAX);
        return false;
    }
    if (len < 4 || b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF) {
        snprintf(why, whysz, "a frame that is not a JPEG (%zu bytes)", len);
        return false;
    }
    return true;
}

/* ---- JSON helpers ---- */

static char *dump(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* The object in data, version checked; NULL with why otherwise. */
static json_t *load(const void *data, size_t len, char *why, size_t whysz)
{
    json_error_t err;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        snprintf(why, whysz, "not JSON: %s", err.text);
        return NULL;
    }
    json_t *v = json_object_get(j, "v");
    if (!json_is_object(j) || !json_is_integer(v) || json_integer_value(v) != RIG_PROTO_VERSION) {
        snprintf(why, whysz, "not a version %d rig message", RIG_PROTO_VERSION);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Copies the string member key into out; absent is "" when optional. */
static bool get_str(json_t *o, const char *key, char *out, size_t size, bool optional)
{
    json_t *v = json_object_get(o, key);
    out[0] = '\0';
    if (v == NULL) return optional;
    const char *s = json_string_value(v);
    if (s == NULL || strlen(s) >= size || strlen(s) != json_string_length(v)) return false;
    memcpy(out, s, strlen(s) + 1);
    return true;
}

static bool get_int(json_t *o, const char *key, int64_t *out, bool optional)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (v == NULL) return optional;
    if (!json_is_integer(v)) return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* ---- commands ---- */

static const char *const op_names[] = {"fire", "get", "set", "live"};

char *rig_cmd_build(const rig_cmd *c)
{
    json_t *j = json_pack("{s:i, s:s, s:s}", "v", RIG_PROTO_VERSION, "req", c->req, "op", op_names[c->op]);
    if (j == NULL) return NULL;
    if (c->n_cameras > 0) {
        json_t *a = json_array();
        for (int i = 0; i < c->n_cameras; i++) json_array_append_new(a, json_string(c->cameras[i]));
        json_object_set_new(j, "cameras", a);
    }
    if (c->op == RIG_OP_FIRE) {
        json_object_set_new(j, "shot", json_string(c->shot));
        json_object_set_new(j, "fire_at_ns", json_integer((json_int_t)c->fire_at_ns));
    } else if (c->op == RIG_OP_LIVE) {
        json_object_set_new(j, "lease_ms", json_integer(c->lease_ms));
    } else {
        json_object_set_new(j, "setting", json_string(c->setting));
        if (c->op == RIG_OP_SET) json_object_set_new(j, "value", json_string(c->value));
    }
    return dump(j);
}

bool rig_cmd_parse(const void *data, size_t len, rig_cmd *c, char *why, size_t whysz)
{
    memset(c, 0, sizeof *c);
    json_t *j = load(data, len, why, whysz);
    if (j == NULL) return false;
    bool ok = false;
    char op[16];
    if (!get_str(j, "req", c->req, sizeof c->req, false) || c->req[0] == '\0') {
        WHY("a command needs \"req\", a string of at most %zu bytes", sizeof c->req - 1);
        goto done;
    }
    if (!get_str(j, "op", op, sizeof op, false)) {
        WHY("a command needs \"op\"");
        goto done;
    }
    size_t k = 0;
    while (k < sizeof op_names / sizeof op_names[0] && strcmp(op, op_names[k]) != 0) k++;
    if (k == sizeof op_names / sizeof op_names[0]) {
        WHY("unknown op \"%s\" (fire, get, set, live)", op);
        goto done;
    }
    c->op = (rig_op)k;
    json_t *cams = json_object_get(j, "cameras");
    if (cams) {
        if (!json_is_array(cams) || json_array_size(cams) == 0 || json_array_size(cams) > RIG_MAX_CAMERAS) {
            WHY("\"cameras\" is a list of 1 to %d camera ids", RIG_MAX_CAMERAS);
            goto done;
        }
        size_t i;
        json_t *v;
        json_array_foreach(cams, i, v) {
            const char *id = json_string_value(v);
            if (id == NULL || !rig_name_ok(id)) {
                WHY("\"cameras\" holds something that is not a camera id");
                goto done;
            }
            snprintf(c->cameras[c->n_cameras++], sizeof c->cameras[0], "%s", id);
        }
    }
    if (c->op == RIG_OP_FIRE) {
        if (!get_str(j, "shot", c->shot, sizeof c->shot, false) || !rig_shot_ok(c->shot)) {
            WHY("a fire needs \"shot\", a shot id ([A-Za-z0-9_.-], at most %d)", RIG_SHOT_MAX);
            goto done;
        }
        if (!get_int(j, "fire_at_ns", &c->fire_at_ns, true) || c->fire_at_ns < 0) {
            WHY("\"fire_at_ns\" is CLOCK_REALTIME in nanoseconds (or 0: at once)");
            goto done;
        }
    } else if (c->op == RIG_OP_LIVE) {
        int64_t lease = -1;
        if (!get_int(j, "lease_ms", &lease, false) || lease < 0 || lease > RIG_LEASE_MAX_MS) {
            WHY("a live needs \"lease_ms\", 0 (stop) to %d", RIG_LEASE_MAX_MS);
            goto done;
        }
        c->lease_ms = (int)lease;
    } else {
        if (!get_str(j, "setting", c->setting, sizeof c->setting, false) || c->setting[0] == '\0') {
            WHY("a %s needs \"setting\", its name", op);
            goto done;
        }
        if (c->op == RIG_OP_SET && !get_str(j, "value", c->value, sizeof c->value, false)) {
            WHY("a set needs \"value\", a string of at most %zu bytes", sizeof c->value - 1);
            goto done;
        }
    }
    ok = true;
done:
    json_decref(j);
    return ok;
}

/* ---- replies ---- */

char *rig_reply_build(const rig_reply *r)
{
    json_t *j = json_pack("{s:i, s:s, s:s, s:b}", "v", RIG_PROTO_VERSION, "req", r->req, "camera", r->camera, "ok",
                          r->ok);
    if (j == NULL) return NULL;
    if (!r->ok) json_object_set_new(j, "error", json_pack("{s:s, s:s}", "code", r->code, "message", r->message));
    if (r->shot[0]) json_object_set_new(j, "shot", json_string(r->shot));
    if (r->shot[0] || r->fire_at_ns) json_object_set_new(j, "fire_at_ns", json_integer((json_int_t)r->fire_at_ns));
    if (r->shot[0] || r->fired_ns) json_object_set_new(j, "fired_ns", json_integer((json_int_t)r->fired_ns));
    if (r->shot[0] || r->n_files) {
        json_t *files = json_array();
        for (int i = 0; i < r->n_files && i < 4; i++) json_array_append_new(files, json_string(r->files[i]));
        json_object_set_new(j, "files", files);
    }
    if (r->setting) json_object_set(j, "setting", r->setting);
    return dump(j);
}

bool rig_reply_parse(const void *data, size_t len, rig_reply *r, char *why, size_t whysz)
{
    memset(r, 0, sizeof *r);
    json_t *j = load(data, len, why, whysz);
    if (j == NULL) return false;
    bool ok = false;
    json_t *okv = json_object_get(j, "ok");
    if (!get_str(j, "req", r->req, sizeof r->req, false) || !json_is_boolean(okv) ||
        !get_str(j, "camera", r->camera, sizeof r->camera, true) || (r->camera[0] && !rig_name_ok(r->camera))) {
        WHY("a reply needs \"req\", \"ok\" and a camera id");
        goto done;
    }
    r->ok = json_is_true(okv);
    json_t *err = json_object_get(j, "error");
    if (!r->ok && (!json_is_object(err) || !get_str(err, "code", r->code, sizeof r->code, false) ||
                   !get_str(err, "message", r->message, sizeof r->message, true))) {
        WHY("a failed reply needs \"error\": {\"code\", \"message\"}");
        goto done;
    }
    if (!get_str(j, "shot", r->shot, sizeof r->shot, true) || (r->shot[0] && !rig_shot_ok(r->shot)) ||
        !get_int(j, "fire_at_ns", &r->fire_at_ns, true) || !get_int(j, "fired_ns", &r->fired_ns, true)) {
        WHY("a reply's shot, fire_at_ns or fired_ns is malformed");
        goto done;
    }
    json_t *files = json_object_get(j, "files");
    if (files) {
        if (!json_is_array(files) || json_array_size(files) > 4) {
            WHY("\"files\" is a list of at most 4 names");
            goto done;
        }
        size_t i;
        json_t *v;
        json_array_foreach(files, i, v) {
            const char *name = json_string_value(v);
            if (name == NULL || !rig_file_ok(name)) {
                WHY("\"files\" holds a name a file may not have");
                goto done;
            }
            snprintf(r->files[r->n_files++], sizeof r->files[0], "%s", name);
        }
    }
    json_t *setting = json_object_get(j, "setting");
    if (setting && !json_is_object(setting)) {
        WHY("\"setting\" is an object");
        goto done;
    }
    r->setting = json_incref(setting);
    ok = true;
done:
    json_decref(j);
    return ok;
}

void rig_reply_clear(rig_reply *r)
{
    json_decref(r->setting);
    r->setting = NULL;
}

/* ---- status ---- */

char *rig_status_build(const rig_status *s)
{
    json_t *j = json_pack("{s:i, s:s, s:b}", "v", RIG_PROTO_VERSION, "node", s->node, "online", s->online);
    if (j == NULL || !s->online) return dump(j);
    json_t *cams = json_array();
    for (int i = 0; i < s->n_cameras; i++) {
        const rig_node_camera *c = &s->cameras[i];
        json_array_append_new(cams, json_pack("{s:s, s:s, s:s, s:b}", "id", c->id, "model", c->model, "identity",
                                              c->identity, "connected", c->connected));
    }
    json_object_set_new(j, "cameras", cams);
    json_t *clock = json_pack("{s:s, s:s, s:s}", "state", s->clock_state, "source", s->clock_source, "detail",
                              s->clock_detail);
    json_object_set_new(clock, "offset_ms", isfinite(s->clock_offset_ms) ? json_real(s->clock_offset_ms) : json_null());
    json_object_set_new(j, "clock", clock);
    json_object_set_new(j, "outbox", json_integer(s->outbox));
    return dump(j);
}

bool rig_status_parse(const void *data, size_t len, rig_status *s, char *why, size_t whysz)
{
    memset(s, 0, sizeof *s);
    s->clock_offset_ms = NAN;
    json_t *j = load(data, len, why, whysz);
    if (j == NULL) return false;
    bool ok = false;
    json_t *online = json_object_get(j, "online");
    if (!get_str(j, "node", s->node, sizeof s->node, false) || !rig_name_ok(s->node) || !json_is_boolean(online)) {
        WHY("a status needs \"node\" (a node id) and \"online\"");
        goto done;
    }
    s->online = json_is_true(online);
    json_t *cams = json_object_get(j, "cameras");
    if (cams && (!json_is_array(cams) || json_array_size(cams) > RIG_MAX_CAMERAS)) {
        WHY("\"cameras\" is a list of at most %d cameras", RIG_MAX_CAMERAS);
        goto done;
    }
    size_t i;
    json_t *v;
    json_array_foreach(cams, i, v) {
        rig_node_camera *c = &s->cameras[s->n_cameras];
        json_t *conn = json_object_get(v, "connected");
        if (!json_is_object(v) || !get_str(v, "id", c->id, sizeof c->id, false) || !rig_name_ok(c->id) ||
            !get_str(v, "model", c->model, sizeof c->model, true) ||
            !get_str(v, "identity", c->identity, sizeof c->identity, true) || (conn && !json_is_boolean(conn))) {
            WHY("camera %zu of the status is malformed", i);
            goto done;
        }
        for (int k = 0; k < s->n_cameras; k++)
            if (strcmp(s->cameras[k].id, c->id) == 0) {
                WHY("camera %s is listed twice", c->id);
                goto done;
            }
        c->connected = json_is_true(conn);
        s->n_cameras++;
    }
    json_t *clock = json_object_get(j, "clock");
    if (json_is_object(clock)) {
        json_t *off = json_object_get(clock, "offset_ms");
        if (!get_str(clock, "state", s->clock_state, sizeof s->clock_state, true) ||
            !get_str(clock, "source", s->clock_source, sizeof s->clock_source, true) ||
            !get_str(clock, "detail", s->clock_detail, sizeof s->clock_detail, true) ||
            (off && !json_is_number(off) && !json_is_null(off))) {
            WHY("the status's clock is malformed");
            goto done;
        }
        if (json_is_number(off)) s->clock_offset_ms = json_number_value(off);
    }
    int64_t outbox;
    if (!get_int(j, "outbox", &outbox, true) || outbox < 0 || outbox > 1000000000) {
        WHY("\"outbox\" is a count");
        goto done;
    }
    s->outbox = (int)outbox;
    ok = true;
done:
    json_decref(j);
    return ok;
}

char *rig_studio_build(bool online, const char *url)
{
    json_t *j = json_pack("{s:i, s:b}", "v", RIG_PROTO_VERSION, "online", online);
    if (j && online && url) json_object_set_new(j, "url", json_string(url));
    return dump(j);
}

bool rig_studio_parse(const void *data, size_t len, bool *online, char *url, size_t urlsz)
{
    char why[128];
    json_t *j = load(data, len, why, sizeof why);
    if (j == NULL) return false;
    json_t *on = json_object_get(j, "online");
    bool ok = json_is_boolean(on) && get_str(j, "url", url, urlsz, !json_is_true(on));
    *online = json_is_true(on);
    if (ok && *online && strncmp(url, "http://", 7) != 0) ok = false;
    if (!*online) url[0] = '\0';
    json_decref(j);
    return ok;
}

/* ---- events ---- */

char *rig_event_build(const rig_event *e)
{
    return dump(json_pack("{s:i, s:s, s:s, s:s}", "v", RIG_PROTO_VERSION, "type", e->type, "camera", e->camera,
                          "detail", e->detail));
}

bool rig_event_parse(const void *data, size_t len, rig_event *e, char *why, size_t whysz)
{
    memset(e, 0, sizeof *e);
    json_t *j = load(data, len, why, whysz);
    if (j == NULL) return false;
    bool ok = get_str(j, "type", e->type, sizeof e->type, false) && e->type[0] &&
              get_str(j, "camera", e->camera, sizeof e->camera, true) && (!e->camera[0] || rig_name_ok(e->camera)) &&
              get_str(j, "detail", e->detail, sizeof e->detail, true);
    if (!ok) WHY("an event needs \"type\" and may have \"camera\" (an id) and \"detail\"");
    for (const char *p = e->type; ok && *p; p++)
        if (!islower((unsigned char)*p) && *p != '_') ok = WHY("an event's type is lower-case letters and '_'");
    json_decref(j);
    return ok;
}
