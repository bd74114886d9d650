/*
 * http: see http.h.
 *
 * Access control (when a token is set): a request passes with
 * "Authorization: Bearer TOKEN", "X-Tether-Token: TOKEN", or the cookie
 * set by POST /login.  Others get 401 JSON under /api/, or the login page.
 *
 * Cross-site protection for every method but GET/HEAD: the request must
 * not come from another site (Sec-Fetch-Site, Origin vs Host), and API
 * bodies must be application/json, which a plain cross-site form cannot
 * send.  The login cookie is SameSite=Strict and HttpOnly.
 */
#include "http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytebuf.h"
#include "base/log.h"

struct http_server {
    struct MHD_Daemon *mhd;
    int port;
    char token[256];
    http_handler handler;
    void *ctx;
};

typedef struct conn_state {
    bytebuf body;
    bool too_big;
} conn_state;

const char *http_query(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool http_is(const http_request *r, const char *method)
{
    return strcmp(r->method, method) == 0;
}

static void common_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
}

enum MHD_Result http_bytes(const http_request *r, unsigned status, const char *mime, const void *data,
                           size_t len, bool copy)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", mime);
    common_headers(resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_json(const http_request *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(body);
    if (text == NULL) return http_bytes(r, 500, "application/json", "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}", 55, true);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    common_headers(resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_error(const http_request *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_json(r, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

enum MHD_Result http_redirect(const http_request *r, const char *location)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Location", location);
    common_headers(resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, 303, resp);
    MHD_destroy_response(resp);
    return ret;
}

const char *http_mime_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL) return "application/octet-stream";
    if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")) return "image/jpeg";
    if (!strcasecmp(dot, ".cr2")) return "image/x-canon-cr2";
    if (!strcasecmp(dot, ".nef")) return "image/x-nikon-nef";
    if (!strcasecmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcasecmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcasecmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcasecmp(dot, ".svg")) return "image/svg+xml";
    if (!strcasecmp(dot, ".png")) return "image/png";
    return "application/octet-stream";
}

enum MHD_Result http_file(const http_request *r, const char *path, const char *mime)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return http_error(r, 404, "not_found", "no such file");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (resp == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime ? mime : http_mime_for(path));
    MHD_add_response_header(resp, "Cache-Control", "private, max-age=3600");
    common_headers(resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

json_t *http_json_body(const http_request *r, enum MHD_Result *answered)
{
    json_error_t err;
    json_t *j = r->body ? json_loadb(r->body, r->body_len, 0, &err) : NULL;
    if (j == NULL) {
        *answered = r->body ? http_error(r, 400, "bad_json", "malformed JSON body: %s (line %d, column %d)", err.text, err.line, err.column)
                            : http_error(r, 400, "bad_json", "a JSON body is required");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *answered = http_error(r, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* ---- access control ------------------------------------------------------------ */

static bool same_text(const char *a, const char *b)
{
    /* constant time in the length of b */
    size_t la = strlen(a), lb = strlen(b);
    unsigned diff = (unsigned)(la ^ lb);
    for (size_t i = 0; i < lb; i++) diff |= (unsigned)(a[i < la ? i : 0] ^ b[i]);
    return diff == 0;
}

static bool authorised(http_server *s, const http_request *r)
{
    if (s->token[0] == '\0') return true;
    const char *h = http_header(r, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0 && same_text(h + 7, s->token)) return true;
    h = http_header(r, "X-Tether-Token");
    if (h && same_text(h, s->token)) return true;
    const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "tether_token");
    return c && same_text(c, s->token);
}

/* The host part of an Origin URL equals the Host header? */
static bool same_origin(const http_request *r)
{
    const char *site = http_header(r, "Sec-Fetch-Site");
    if (site && strcmp(site, "cross-site") == 0) return false;
    const char *origin = http_header(r, "Origin");
    if (origin == NULL || strcmp(origin, "null") == 0) return origin == NULL;
    const char *host = http_header(r, "Host");
    const char *p = strstr(origin, "://");
    return host && p && strcmp(p + 3, host) == 0;
}

static const char login_page[] =
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    "<meta name=viewport content='width=device-width,initial-scale=1'><title>tether: sign in</title>"
    "<style>body{background:#111;color:#ddd;font:16px system-ui,sans-serif;display:grid;place-items:center;height:100vh;margin:0}"
    "form{background:#1c1c1c;padding:2em;border-radius:8px;display:grid;gap:1em;min-width:16em}"
    "input,button{font:inherit;padding:.6em;border-radius:4px;border:1px solid #444;background:#000;color:#eee}"
    "button{background:#c33;border:0;color:#fff}</style></head><body>"
    "<form method=post action=/login><h1>tether</h1><label>Access token<br>"
    "<input name=token type=password autofocus required></label><button>Sign in</button></form></body></html>";

static enum MHD_Result handle_login(http_server *s, const http_request *r)
{
    if (http_is(r, "GET")) return http_bytes(r, 200, "text/html; charset=utf-8", login_page, sizeof login_page - 1, false);
    if (!http_is(r, "POST")) return http_error(r, 405, "method_not_allowed", "use GET or POST");
    if (!same_origin(r)) return http_error(r, 403, "cross_site", "cross-site sign-in refused");
    char token[300] = "";
    const char *ct = http_header(r, "Content-Type");
    if (r->body && ct && strncmp(ct, "application/json", 16) == 0) {
        json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "token"));
        if (t) snprintf(token, sizeof token, "%s", t);
        json_decref(j);
    } else if (r->body && strncmp(r->body, "token=", 6) == 0) {
        /* application/x-www-form-urlencoded: token=... */
        snprintf(token, sizeof token, "%s", r->body + 6);
        char *amp = strchr(token, '&');
        if (amp) *amp = '\0';
        MHD_http_unescape(token);
    }
    if (s->token[0] == '\0' || !same_text(token, s->token)) {
        if (ct && strncmp(ct, "application/json", 16) == 0) return http_error(r, 401, "unauthorized", "wrong token");
        return http_redirect(r, "/login?failed=1");
    }
    char cookie[400];
    snprintf(cookie, sizeof cookie, "tether_token=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000", s->token);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    MHD_add_response_header(resp, "Location", "/");
    enum MHD_Result ret = MHD_queue_response(r->conn, 303, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- libmicrohttpd glue ------------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server *s = cls;
    conn_state *cs = *con_cls;
    if (cs == NULL) {
        cs = calloc(1, sizeof *cs);
        if (cs == NULL) return MHD_NO;
        *con_cls = cs;
        const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (len && strtoull(len, NULL, 10) > HTTP_MAX_BODY) cs->too_big = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_big && cs->body.len + *upload_size <= HTTP_MAX_BODY) bytebuf_put(&cs->body, upload, *upload_size);
        else cs->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    http_request r = {.conn = conn, .method = method, .url = url};
    if (cs->too_big)
        return http_error(&r, 413, "too_large", "request bodies are limited to %d bytes", HTTP_MAX_BODY);
    if (cs->body.len) {
        bytebuf_put_u8(&cs->body, 0);
        r.body = (const char *)cs->body.data;
        r.body_len = cs->body.len - 1;
    }
    if (strcmp(url, "/login") == 0) return handle_login(s, &r);
    if (!authorised(s, &r)) {
        if (strncmp(url, "/api/", 5) == 0 || strstr(url, ".mjpg") || strstr(url, ".jpg"))
            return http_error(&r, 401, "unauthorized", "an access token is required (Authorization: Bearer TOKEN)");
        return http_redirect(&r, "/login");
    }
    bool safe = http_is(&r, "GET") || http_is(&r, "HEAD");
    if (!safe) {
        if (!same_origin(&r)) return http_error(&r, 403, "cross_site", "cross-site requests are refused");
        const char *ct = http_header(&r, "Content-Type");
        if (r.body && (ct == NULL || strncmp(ct, "application/json", 16) != 0))
            return http_error(&r, 415, "unsupported_media_type", "send the body as application/json");
    }
    return s->handler(s->ctx, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    conn_state *cs = *con_cls;
    if (cs) {
        bytebuf_free(&cs->body);
        free(cs);
        *con_cls = NULL;
    }
}

http_server *http_start(const char *host, int port, const char *token, http_handler handler, void *ctx)
{
    http_server *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    snprintf(s->token, sizeof s->token, "%s", token ? token : "");
    s->handler = handler;
    s->ctx = ctx;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        LOG_ERROR("http", "not an IPv4 address: %s", host);
        free(s);
        return NULL;
    }
    s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                              (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &a,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_CONNECTION_LIMIT, 500u, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                              MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (s->mhd == NULL) {
        LOG_ERROR("http", "cannot listen on %s:%d", host, port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return s;
}

int http_port(const http_server *s)
{
    return s->port;
}

void http_stop(http_server *s)
{
    if (s == NULL) return;
    MHD_stop_daemon(s->mhd);
    free(s);
}
