/*
 * fuzz_http: libFuzzer target for the studio's HTTP API, every route.
 *
 * The studio runs in this process (studio_run on a thread of its own, on
 * the built-in simulated camera, photos in a temporary folder), so the
 * sanitizers and the coverage see its router, handlers and workers.  Each
 * input becomes one well-formed HTTP/1.1 request over loopback: a method,
 * one of the API's routes with fuzzed path parts (ids, names, suffixes),
 * a fuzzed query string, a few headers picked from the ones the server
 * reads (Content-Type, Origin, Last-Event-ID, Authorization, ...) and a
 * fuzzed body, most often JSON built from the input so that the handlers
 * get past the parser.
 *
 * The socket calls retry on EINTR: libFuzzer's timer sends SIGALRM about
 * every 600 s, which once read as "closed without an answer".
 *
 * A finding is: a crash, a sanitizer report, a leak, a request answered
 * 500 (a client's mistake is never the server's error; the 5xx a camera
 * or a full disk explain, 502-504 and 507, are not findings) or a request
 * not answered at all.
 *
 * Input layout: byte 0 method, byte 1 route, byte 2 header set, byte 3
 * body kind, then NUL-separated parts: path part, query, body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "studio.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_port;
static volatile int g_stop;
static studio_options g_opts;

static void on_listening(void *arg, int port)
{
    (void)arg;
    pthread_mutex_lock(&g_lock);
    g_port = port;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

static void *studio_thread(void *arg)
{
    (void)arg;
    int rc = studio_run(&g_opts, &g_stop);
    fprintf(stderr, "fuzz_http: the studio stopped (%d)\n", rc);
    abort(); /* it must run for as long as the fuzzer does */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static char dir[] = "/tmp/fuzz-http.XXXXXX";
    if (mkdtemp(dir) == NULL) abort();
    static char photos[sizeof dir + 16];
    snprintf(photos, sizeof photos, "%s/photos", dir);
    setenv("HOME", dir, 1);
    if (getenv("FUZZ_HTTP_VERBOSE") == NULL) log_set_level((log_level)-1); /* quiet */
    else log_init_from_env(); /* FUZZ_HTTP_VERBOSE=1 TETHER_LOG=debug: the studio's log, to chase a finding */
    g_opts = (studio_options){.camera = "sim", .host = "127.0.0.1", .port = 0, .photos = photos,
                              .on_listening = on_listening};
    pthread_t t;
    if (pthread_create(&t, NULL, studio_thread, NULL) != 0) abort();
    pthread_detach(t);
    pthread_mutex_lock(&g_lock);
    while (g_port == 0) pthread_cond_wait(&g_cond, &g_lock);
    pthread_mutex_unlock(&g_lock);
    return 0;
}

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "POST"};

/* The routes; '#' takes the fuzzed path part (an id, a name, a key). */
static const char *const routes[] = {
    "/api/status", "/api/capture", "/api/photos", "/api/photos/#", "/api/photos/#/histogram",
    "/api/settings", "/api/presets", "/api/presets/#", "/api/presets/#/apply", "/api/sessions",
    "/api/sessions/#/activate", "/api/focus", "/api/focus/area", "/api/focus/measure", "/api/focus/auto",
    "/api/focus/cancel", "/api/focus/drive", "/api/focus/stack", "/api/focus/trap", "/api/interval",
    "/api/interval/stop", "/api/import", "/api/import/cancel", "/api/webhooks", "/api/webhooks/#",
    "/api/webhooks/#/test", "/api/webhooks/deliveries", "/api/webhooks/deliveries/#/retry", "/api/tagging",
    "/api/tagging/apply", "/photos/#", "/login", "/logout", "/", "/gallery", "/app.js", "/snapshot.jpg",
    "/api/#", "/#", "/api/photos/#/preview", "/api/focus/zoom", "/favicon.ico", "/healthz", "/metrics",
    "/api/rig", "/api/rig/files/#",
};

/* Header sets: bit i of the selector adds header i. */
static const char *const headers[] = {
    "Content-Type: application/json",
    "Origin: http://127.0.0.1",
    "Origin: http://evil.example",
    "Sec-Fetch-Site: cross-site",
    "Last-Event-ID: 18446744073709551615",
    "Authorization: Bearer nope-nope",
    "Cookie: tether_session=0123",
    "Content-Type: text/plain",
};

/* Appends the bytes of s (n of them) to out, percent-encoding anything
 * that is not a plain URL character. */
static size_t put_url(char *out, size_t at, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n && at + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x20 && c < 0x7f && c != '#' && c != '%') {
            out[at++] = (char)c;
        } else {
            out[at++] = '%';
            out[at++] = hex[c >> 4];
            out[at++] = hex[c & 15];
        }
    }
    return at;
}

/* Reads the answer's status (and up to a few KB); 0 if none came, with
 * *timed_out telling whether the server was still silent after 60 s (or
 * closed the connection). */
static int read_status(int fd, char *text, size_t cap, bool *timed_out)
{
    size_t have = 0;
    *timed_out = false;
    while (have + 1 < cap) {
        ssize_t n = recv(fd, text + have, cap - 1 - have, 0);
        if (n < 0 && errno == EINTR) continue; /* libFuzzer's timer (SIGALRM every ~600 s) */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) *timed_out = true;
        if (n <= 0) break;
        have += (size_t)n;
        text[have] = '\0';
        char *end = strstr(text, "\r\n\r\n");
        if (end == NULL) continue;
        const char *cl = strcasestr(text, "\r\nContent-Length: ");
        if (cl == NULL || cl > end) break; /* a stream: the head is enough */
        size_t want = (size_t)(end + 4 - text) + strtoul(cl + 18, NULL, 10);
        if (have >= want || want >= cap) break;
    }
    text[have] = '\0';
    int status = 0;
    if (sscanf(text, "HTTP/1.%*d %d", &status) != 1) return 0;
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    const char *route = routes[data[1] % (sizeof routes / sizeof routes[0])];
    unsigned header_set = data[2];
    unsigned body_kind = data[3] % 4;
    const char *p = (const char *)data + 4, *end = (const char *)data + size;
    const char *part = p;
    const char *nul = memchr(p, 0, (size_t)(end - p));
    size_t part_len = nul ? (size_t)(nul - p) : (size_t)(end - p);
    const char *query = nul ? nul + 1 : end;
    nul = query < end ? memchr(query, 0, (size_t)(end - query)) : NULL;
    size_t query_len = query < end ? (nul ? (size_t)(nul - query) : (size_t)(end - query)) : 0;
    const char *raw_body = nul ? nul + 1 : end;
    size_t raw_len = (size_t)(end - raw_body);

    enum { CAP = 80 * 1024 };
    char *req = malloc(CAP);
    if (req == NULL) return 0;
    size_t at = (size_t)snprintf(req, CAP, "%s ", method);
    for (const char *r = route; *r && at + 8 < CAP; r++) {
        if (*r == '#') at = put_url(req, at, 2048, part, part_len);
        else req[at++] = *r;
    }
    if (query_len) {
        req[at++] = '?';
        at = put_url(req, at, 4096, query, query_len);
    }
    /* the body: raw bytes, or a JSON object/value made of them */
    char *body = malloc(raw_len * 6 + 64);
    if (body == NULL) {
        free(req);
        return 0;
    }
    size_t body_len = 0;
    if (body_kind == 0 || raw_len == 0) {
        memcpy(body, raw_body, raw_len);
        body_len = raw_len;
    } else {
        /* {"KEY": VALUE}: the first byte picks the key, the rest is the value */
        static const char *const keys[] = {"name", "value", "values", "path", "mode", "interval_s", "count",
                                           "start_epoch", "url", "secret", "events", "enabled", "gps",
                                           "keywords", "steps", "x", "y", "settings", "token", "session"};
        const char *key = keys[(unsigned char)raw_body[0] % (sizeof keys / sizeof keys[0])];
        body_len = (size_t)sprintf(body, "{\"%s\": ", key);
        if (body_kind == 1) { /* the rest as JSON text */
            memcpy(body + body_len, raw_body + 1, raw_len - 1);
            body_len += raw_len - 1;
        } else if (body_kind == 2) { /* the rest as a string */
            body[body_len++] = '"';
            for (size_t i = 1; i < raw_len; i++) {
                unsigned char c = (unsigned char)raw_body[i];
                if (c == '"' || c == '\\') body[body_len++] = '\\', body[body_len++] = (char)c;
                else if (c < 0x20) body_len += (size_t)sprintf(body + body_len, "\\u%04x", c);
                else body[body_len++] = (char)c;
            }
            body[body_len++] = '"';
        } else { /* a number made of the rest */
            long long v = 0;
            memcpy(&v, raw_body + 1, raw_len - 1 < sizeof v ? raw_len - 1 : sizeof v);
            body_len += (size_t)sprintf(body + body_len, "%lld", v);
        }
        body[body_len++] = '}';
    }
    at += (size_t)snprintf(req + at, CAP - at, " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", g_port);
    for (unsigned i = 0; i < sizeof headers / sizeof headers[0]; i++)
        if (header_set & (1u << i)) at += (size_t)snprintf(req + at, CAP - at, "%s\r\n", headers[i]);
    if (body_len > CAP - at - 64) body_len = CAP - at - 64;
    at += (size_t)snprintf(req + at, CAP - at, "Content-Length: %zu\r\n\r\n", body_len);
    memcpy(req + at, body, body_len);
    at += body_len;
    free(body);

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int c = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&a, sizeof a);
    if (c != 0 && fd >= 0 && errno == EINTR) { /* the connection goes on: wait for it */
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        while ((c = poll(&pfd, 1, 5000)) < 0 && errno == EINTR) {
        }
        c = c == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 ? 0 : -1;
    }
    if (c != 0) abort();
    for (size_t sent = 0; sent < at;) {
        ssize_t n = send(fd, req + sent, at - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* the server answered early (413) and closed */
        sent += (size_t)n;
    }
    static char answer[16 * 1024];
    bool timed_out;
    int status = read_status(fd, answer, sizeof answer, &timed_out);
    close(fd);
    if (status == 0 || status == 500) {
        const char *what = status ? "500" : timed_out ? "no answer within 60 s" : "closed without an answer";
        fprintf(stderr, "fuzz_http: %s for:\n%.*s\n--- answer:\n%s\n", what, (int)(at < 3000 ? at : 3000), req,
                answer);
        abort();
    }
    free(req);
    return 0;
}
