/*
 * control: see control.h.  Bodies are collected per connection (at most
 * 64 KiB) and parsed with jansson once complete.  Whether a request is
 * taken (its Host, Origin, Sec-Fetch-Site and Content-Type) is decided
 * from its headers on the first call, before any of its body is read; a
 * refused request's body is read and dropped, then the refusal answered.
 */
#include "control.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "base/bytebuf.h"
#include "base/log.h"

#define MAX_BODY (64 * 1024)

struct simctl {
    simcam *cam;
    simsrv *srv;
    struct MHD_Daemon *mhd;
    int port;
};

typedef struct request_body {
    bytebuf data;
    bool too_big;
    unsigned refused;          /* 0, or the status refusing the request */
    const char *why;           /* with refused: the message (static) */
} request_body;

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL) text = strdup("{\"error\":\"out of memory\"}");
    size_t n = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    return reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result reply_ok(struct MHD_Connection *conn)
{
    return reply_json(conn, 200, json_pack("{s:b}", "ok", 1));
}

/* Reads a number member; returns false if present but not a number. */
static bool get_number(json_t *obj, const char *key, double *out, bool *present)
{
    json_t *v = json_object_get(obj, key);
    *present = v != NULL;
    if (v == NULL) return true;
    if (!json_is_number(v)) return false;
    *out = json_number_value(v);
    return true;
}

static enum MHD_Result route(simctl *c, struct MHD_Connection *conn, const char *method,
                             const char *url, json_t *body)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/state") == 0) {
        if (!get) return reply_error(conn, 405, "use GET");
        json_t *st = simcam_state(c->cam);
        json_object_set_new(st, "link", simsrv_state(c->srv));
        return reply_json(conn, 200, st);
    }
    static const char *const posts[] = {"/shutter", "/unplug", "/plug", "/focus/ring", "/lens",
                                        "/subject", "/faults", "/freeze", "/thaw", "/body/setting"};
    bool known = false;
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) known |= strcmp(url, posts[i]) == 0;
    if (!known) return reply_error(conn, 404, "no such route");
    if (!post) return reply_error(conn, 405, "use POST");

    if (strcmp(url, "/shutter") == 0) {
        if (simcam_press_shutter(c->cam) != 0) return reply_error(conn, 409, "camera busy or card full");
        return reply_ok(conn);
    }
    if (strcmp(url, "/unplug") == 0) {
        simsrv_unplug(c->srv);
        return reply_ok(conn);
    }
    if (strcmp(url, "/plug") == 0) {
        if (simsrv_plug(c->srv) != 0) return reply_error(conn, 409, "cannot listen on the port again");
        return reply_ok(conn);
    }
    if (strcmp(url, "/freeze") == 0 || strcmp(url, "/thaw") == 0) {
        json_t *st = simsrv_state(c->srv);
        json_t *fj = json_object_get(st, "faults");
        simsrv_faults f = {
            .drop_after_ops = (long)json_integer_value(json_object_get(fj, "drop_after_ops")),
            .drop_after_s = json_real_value(json_object_get(fj, "drop_after_s")),
            .busy_rate = json_real_value(json_object_get(fj, "busy_rate")),
            .busy_opcode = (long)json_integer_value(json_object_get(fj, "busy_opcode")),
            .rate_limit_mbps = json_real_value(json_object_get(fj, "rate_limit_mbps")),
            .freeze_after_ops = (long)json_integer_value(json_object_get(fj, "freeze_after_ops")),
            .frozen = strcmp(url, "/freeze") == 0,
        };
        json_decref(st);
        simsrv_set_faults(c->srv, &f);
        return reply_ok(conn);
    }
    if (!json_is_object(body)) return reply_error(conn, 400, "expected a JSON object body");
    double v = 0, d = 0;
    bool has_v, has_d;
    if (strcmp(url, "/focus/ring") == 0) {
        if (!get_number(body, "speed", &v, &has_v) || !has_v)
            return reply_error(conn, 400, "\"speed\" (steps per second) is required");
        if (!get_number(body, "duration", &d, &has_d) || !has_d || d < 0 || d > 3600)
            return reply_error(conn, 400, "\"duration\" (seconds, 0..3600) is required");
        if (v < -100000 || v > 100000) return reply_error(conn, 400, "\"speed\" out of range");
        simcam_turn_ring(c->cam, v, d);
        return reply_ok(conn);
    }
    if (strcmp(url, "/body/setting") == 0) {
        const char *name = json_string_value(json_object_get(body, "name"));
        const char *value = json_string_value(json_object_get(body, "value"));
        if (name == NULL || value == NULL) return reply_error(conn, 400, "\"name\" and \"value\" (strings) are required");
        int rc = simcam_body_set(c->cam, name, value);
        if (rc == -1) return reply_error(conn, 404, "no such setting on this body");
        if (rc == -2) return reply_error(conn, 400, "the body does not take that value");
        return reply_ok(conn);
    }
    if (strcmp(url, "/lens") == 0 || strcmp(url, "/subject") == 0) {
        if (!get_number(body, "position", &v, &has_v) || !has_v || v < 0 || v > 100000)
            return reply_error(conn, 400, "\"position\" (steps, >= 0) is required");
        if (url[1] == 'l') simcam_set_lens(c->cam, v);
        else simcam_set_subject(c->cam, v);
        return reply_ok(conn);
    }
    /* /faults */
    simsrv_faults f = {0};
    double x;
    bool has;
    static const char *const keys[] = {"drop_after_ops", "drop_after_s", "busy_rate",
                                       "rate_limit_mbps", "freeze_after_ops"};
    for (size_t i = 0; i < 5; i++) {
        x = 0;
        if (!get_number(body, keys[i], &x, &has) || x < 0 || (i == 2 && x > 1))
            return reply_error(conn, 400, "fault values must be numbers >= 0 (busy_rate <= 1)");
        switch (i) {
        case 0: f.drop_after_ops = (long)x; break;
        case 1: f.drop_after_s = x; break;
        case 2: f.busy_rate = x; break;
        case 3: f.rate_limit_mbps = x; break;
        default: f.freeze_after_ops = (long)x; break;
        }
    }
    json_t *fr = json_object_get(body, "frozen");
    if (fr && !json_is_boolean(fr)) return reply_error(conn, 400, "\"frozen\" must be a boolean");
    f.frozen = json_is_true(fr);
    simsrv_set_faults(c->srv, &f);
    return reply_ok(conn);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Is host (a Host header) this channel: the address and port the
 * connection came in on (the port left out only for 80), or localhost
 * with that port?  Anything else is a page that reached loopback through
 * a name of its own (DNS rebinding).  The port is the socket's own, not
 * simctl.port, which is only known once the daemon already serves. */
static bool own_host(struct MHD_Connection *conn, const char *host)
{
    if (host == NULL) return false;
    char own[INET_ADDRSTRLEN] = "";
    const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_in local;
    socklen_t len = sizeof local;
    if (fdi == NULL || getsockname(fdi->connect_fd, (struct sockaddr *)&local, &len) != 0 ||
        local.sin_family != AF_INET)
        return false;
    inet_ntop(AF_INET, &local.sin_addr, own, sizeof own);
    int own_port = ntohs(local.sin_port);
    const char *names[] = {own, "localhost"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(names[i]);
        if (n == 0 || strncasecmp(host, names[i], n) != 0) continue;
        const char *rest = host + n;
        if (rest[0] == '\0') return own_port == 80;
        char port[16];
        snprintf(port, sizeof port, ":%d", own_port);
        if (strcmp(rest, port) == 0) return true;
    }
    return false;
}

/* Is the Content-Type application/json (parameters such as charset allowed)? */
static bool json_content_type(const char *type)
{
    if (type == NULL) return false;
    while (*type == ' ' || *type == '\t') type++;
    size_t n = strlen("application/json");
    return strncasecmp(type, "application/json", n) == 0 &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ' || type[n] == '\t');
}

/* Decides from the headers whether to take a request: 0, or the status
 * refusing it with *why.  A web page the tester has open may send
 * requests here (a form's POST, fetch in no-cors mode, a name of its own
 * that resolves to 127.0.0.1); they are told apart by Host, Origin,
 * Sec-Fetch-Site, and Content-Type (a page can send a body cross-site
 * only as a form or text/plain). */
static unsigned refusal(struct MHD_Connection *conn, const char *method, const char **why)
{
    const char *host = header(conn, MHD_HTTP_HEADER_HOST);
    if (!own_host(conn, host)) {
        *why = "the Host header must be this channel's address or localhost, with its port";
        return 403;
    }
    const char *origin = header(conn, "Origin");
    if (origin && !(strncasecmp(origin, "http://", 7) == 0 && strcasecmp(origin + 7, host) == 0)) {
        *why = "cross-origin requests are refused (the Origin is not this channel)";
        return 403;
    }
    const char *site = header(conn, "Sec-Fetch-Site");
    if (site && strcasecmp(site, "same-origin") != 0 && strcasecmp(site, "none") != 0) {
        *why = "cross-site requests are refused (Sec-Fetch-Site)";
        return 403;
    }
    const char *length = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    bool has_body = header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL || (length && strtoul(length, NULL, 10) > 0);
    if (strcmp(method, "POST") == 0 && has_body && !json_content_type(header(conn, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        *why = "a body must be sent as Content-Type: application/json";
        return 415;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    simctl *c = cls;
    request_body *rb = *con_cls;
    if (rb == NULL) {
        rb = calloc(1, sizeof *rb);
        if (rb == NULL) return MHD_NO;
        *con_cls = rb;
        rb->refused = refusal(conn, method, &rb->why);
        return MHD_YES;
    }
    if (*upload_size) {
        if (rb->refused) { /* read and dropped */
            *upload_size = 0;
            return MHD_YES;
        }
        if (rb->data.len + *upload_size > MAX_BODY) rb->too_big = true;
        else bytebuf_put(&rb->data, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rb->refused) return reply_error(conn, rb->refused, rb->why);
    if (rb->too_big) return reply_error(conn, 413, "request body too large");
    json_t *body = NULL;
    if (rb->data.len) {
        json_error_t err;
        body = json_loadb((const char *)rb->data.data, rb->data.len, 0, &err);
        if (body == NULL) return reply_error(conn, 400, "malformed JSON body");
    }
    enum MHD_Result r = route(c, conn, method, url, body);
    json_decref(body);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    request_body *rb = *con_cls;
    if (rb) {
        bytebuf_free(&rb->data);
        free(rb);
        *con_cls = NULL;
    }
}

simctl *simctl_start(simcam *cam, simsrv *srv, const char *host, int port)
{
    simctl *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->cam = cam;
    c->srv = srv;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        LOG_ERROR("sim", "control: not an IPv4 address: %s", host);
        free(c);
        return NULL;
    }
    c->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                              NULL, NULL, on_request, c, MHD_OPTION_SOCK_ADDR, &a,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, c,
                              MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (c->mhd == NULL) {
        LOG_ERROR("sim", "control: cannot listen on %s:%d", host, port);
        free(c);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(c->mhd, MHD_DAEMON_INFO_BIND_PORT);
    c->port = info ? info->port : port;
    return c;
}

int simctl_port(const simctl *c)
{
    return c->port;
}

void simctl_stop(simctl *c)
{
    if (c == NULL) return;
    MHD_stop_daemon(c->mhd);
    free(c);
}
