/*
 * http: see http.h.
 *
 * Event loop: libmicrohttpd in epoll mode on HTTP_LOOP_THREADS threads,
 * connections suspended while they wait.  A request whose handler may
 * block is suspended and queued to the worker threads; the worker runs
 * the handler, which leaves its response in the request's http_conn, and
 * resumes the connection; libmicrohttpd then calls on_request again and
 * that queues the response.  A stream with nothing to send is "parked":
 * suspended, its socket watched by the parking thread's own epoll for the
 * client hanging up (EPOLLRDHUP), and resumed by http_wake, by its tick,
 * or by that hang-up (its next read then ends the response).
 *
 * Access control (when a token is set): a request passes with
 * "Authorization: Bearer TOKEN", "X-Tether-Token: TOKEN", or the cookie of
 * a sign-in session made by POST /login (a random id kept in memory,
 * expiring, ended by POST /logout; the cookie never holds the token).
 * Wrong tokens are throttled per client address (a few free tries, then
 * a doubling delay up to a minute, answered 429 even for the right
 * token) and over all addresses.
 *
 * Host: the Host header must be an IP address, one of the server's own
 * names (localhost, the listen address, this machine's host name, with
 * ".local"), or a name given with --allow-host; any other name is a DNS
 * rebinding and is refused (421).  Cross-site protection for every method
 * but GET/HEAD: Sec-Fetch-Site must not be cross-site, an Origin must be
 * exactly http://HOST (scheme, host and port), and API bodies must be
 * application/json, which a plain cross-site form cannot send.  The
 * session cookie is SameSite=Strict and HttpOnly.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bytebuf.h"
#include "base/clock.h"
#include "base/log.h"

enum {
    HTTP_LOOP_THREADS = 2,
    HTTP_CONNECTIONS = 8192,
    HTTP_IDLE_TIMEOUT_S = 60,   /* a connection that sends or takes nothing for this long is closed */
    HTTP_WAKE_SLOTS = 64,       /* wake generations, by kind modulo this (a shared slot only costs a read) */
    SESSIONS_MAX = 1024,
    THROTTLE_SLOTS = 256,
    THROTTLE_FREE_TRIES = 5,    /* wrong tokens from one address before the delays start */
    THROTTLE_GLOBAL_PER_S = 20, /* wrong tokens a second over every address */
};
#define SESSION_LIFETIME_S (30LL * 24 * 3600)
#define SESSION_IDLE_S (7LL * 24 * 3600)
#define NS_PER_S 1000000000LL

typedef struct sign_in {
    char id[65];               /* hex of 32 random bytes; "" = free slot */
    int64_t created_s, used_s; /* wall-clock seconds */
} sign_in;

typedef struct throttle_slot {
    struct in6_addr addr;      /* the client (IPv4 mapped) */
    bool used;
    int failures;
    int64_t blocked_until_ns;  /* clock_mono_ns */
    int64_t last_ns;
} throttle_slot;

typedef struct parked parked;

struct http_server {
    _Atomic uint64_t requests, errors; /* answered, and of those 5xx (http_counts) */
    struct MHD_Daemon *mhd;
    int port;
    char token[256];
    http_handler handler;
    bool (*quick)(void *ctx, const char *method, const char *url);
    size_t (*raw_body)(void *ctx, const char *method, const char *url);
    void *ctx;
    /* Host names this server answers to (lowercase, no port) */
    char **hosts;
    int n_hosts;

    /* workers */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    http_conn *q_head, *q_tail;
    int queued;                /* waiting or running */
    bool queue_stopping;       /* under qlock: queued requests get 503, workers end */
    pthread_t workers[HTTP_WORKERS];
    int n_workers;

    /* parking */
    pthread_mutex_t plock;
    parked *parked_head;
    int n_parked;
    uint64_t wake_gen[HTTP_WAKE_SLOTS];
    uint64_t next_park_id;
    int epfd, kickfd;
    pthread_t parker;
    bool parker_started;
    int64_t trim_checked_ns;   /* parker thread only: trim_after_crowd */
    int crowd_peak;
    bool park_stopping;        /* under plock: streams end, nothing parks */

    /* access */
    pthread_mutex_t alock;
    sign_in sessions[SESSIONS_MAX];
    throttle_slot throttle[THROTTLE_SLOTS];
    int64_t global_window_ns;
    int global_failures;
};

/* One request's state, from its first call to its completion. */
struct http_conn {
    http_server *server;
    struct MHD_Connection *conn;
    const char *method, *url;
    bytebuf body;
    size_t limit;              /* the largest body this request may have */
    bool raw;                  /* its body may be any type (http_options.raw_body) */
    bool too_big;
    bool deferred;             /* handled (or being handled) on a worker */
    bool done;                 /* the worker has finished */
    bool fail;                 /* the handler answered MHD_NO without a response */
    struct MHD_Response *resp; /* a worker's answer, queued on resume */
    unsigned status;
    http_conn *next;           /* in the worker queue */
};

/* A streamed response's state. */
struct parked {
    http_server *server;
    struct MHD_Connection *conn;
    int fd;
    int kind, tick_ms;
    http_stream_read read;
    void (*free_fn)(void *);
    void *cls;
    bool is_parked, hangup;
    uint64_t id;               /* while parked: the epoll key */
    int64_t wake_at_ns;
    parked *prev, *next;
};

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

/* Hands resp (taken) to the connection: queued at once on the event loop,
 * kept for the resume on a worker. */
static enum MHD_Result respond(const http_request *r, unsigned status, struct MHD_Response *resp)
{
    if (resp == NULL) return MHD_NO;
    http_conn *hc = r->hc;
    if (hc && hc->deferred) {
        if (hc->resp) { /* answered twice: the first answer stands */
            MHD_destroy_response(resp);
            return MHD_YES;
        }
        hc->resp = resp;
        hc->status = status;
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_bytes(const http_request *r, unsigned status, const char *mime, const void *data,
                           size_t len, bool copy)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", mime);
    common_headers(resp);
    return respond(r, status, resp);
}

enum MHD_Result http_json(const http_request *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(body);
    if (text == NULL) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        return http_bytes(r, 500, "application/json", oom, sizeof oom - 1, false);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    common_headers(resp);
    return respond(r, status, resp);
}

/* The length of the well-formed UTF-8 sequence at p (1 to 4), or 0 if p
 * does not start one (a stray byte, an overlong form, a surrogate, past
 * U+10FFFF, or cut short). */
static int utf8_char_len(const unsigned char *p)
{
    int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && *p < 0xc2) || (n == 4 && *p > 0xf4)) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
    if (n == 3) { /* no overlong form, no surrogate */
        unsigned cp = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    }
    if (n == 4) {
        unsigned cp = (unsigned)(p[0] & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12;
        if (cp < 0x10000 || cp > 0x10ffff) return 0;
    }
    return n;
}

/* Replaces in place each byte of text that is not part of a well-formed
 * UTF-8 sequence with '?' (JSON strings must be UTF-8, and a message may
 * quote a client's bytes). */
static void utf8_scrub(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p;) {
        int n = utf8_char_len(p);
        if (n == 0) *p++ = '?';
        else p += n;
    }
}

static bool utf8_valid(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        int n = utf8_char_len(p);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

static enum MHD_Result check_arg_utf8(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    bool *ok = cls;
    if (!utf8_valid(key) || (value && !utf8_valid(value))) *ok = false;
    return *ok ? MHD_YES : MHD_NO;
}

/* Are the request's path and query arguments UTF-8 (they end up in JSON)? */
static bool request_utf8(struct MHD_Connection *conn, const char *url)
{
    bool ok = utf8_valid(url);
    if (ok) MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_arg_utf8, &ok);
    return ok;
}

enum MHD_Result http_error(const http_request *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_scrub(msg); /* also a sequence cut by the buffer's end */
    if (status >= 500 && r->hc) r->hc->server->errors++;
    return http_json(r, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

enum MHD_Result http_redirect(const http_request *r, const char *location)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Location", location);
    common_headers(resp);
    return respond(r, 303, resp);
}

/* Does an If-None-Match value (a list of quoted ETags, or *) name etag? */
static bool etag_matches(const char *if_none_match, const char *etag)
{
    if (if_none_match == NULL) return false;
    if (strcmp(if_none_match, "*") == 0) return true;
    size_t n = strlen(etag);
    for (const char *p = if_none_match; (p = strstr(p, etag)) != NULL; p += n) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ' || after == '\t') return true;
    }
    return false;
}

enum MHD_Result http_asset(const http_request *r, const char *mime, const void *data, size_t len,
                           const char *etag)
{
    bool fresh = etag_matches(http_header(r, "If-None-Match"), etag);
    struct MHD_Response *resp = fresh ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
                                      : MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) return MHD_NO;
    if (!fresh) MHD_add_response_header(resp, "Content-Type", mime);
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    common_headers(resp);
    return respond(r, fresh ? 304 : 200, resp);
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

enum MHD_Result http_file_fd(const http_request *r, int fd, const char *path, const char *mime)
{
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
    return respond(r, 200, resp);
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

/* ---- parking: streams waiting for data ----------------------------------------- */

static void kick_parker(http_server *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->kickfd, &one, sizeof one);
    (void)n; /* a full counter wakes the parker all the same */
}

/* Takes p off the parked list and its socket off the watch; plock held.
 * The caller resumes the connection after releasing plock. */
static void unpark_locked(http_server *s, parked *p)
{
    if (!p->is_parked) return;
    p->is_parked = false;
    if (p->prev) p->prev->next = p->next;
    else s->parked_head = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
    s->n_parked--;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL);
}

/* Resumes the n connections of list (taken off the parked list). */
static void resume_all(struct MHD_Connection **list, int n)
{
    for (int i = 0; i < n; i++) MHD_resume_connection(list[i]);
}

/* Unparks, under plock, every stream that matches (kind >= 0: of that
 * kind; kind < 0: every one), then resumes them. */
static void wake_matching(http_server *s, int kind)
{
    enum { BATCH = 256 };
    struct MHD_Connection *batch[BATCH];
    for (;;) {
        int n = 0;
        pthread_mutex_lock(&s->plock);
        parked *p = s->parked_head;
        while (p && n < BATCH) {
            parked *next = p->next;
            if (kind < 0 || p->kind == kind) {
                unpark_locked(s, p);
                batch[n++] = p->conn;
            }
            p = next;
        }
        bool more = p != NULL && n == BATCH;
        pthread_mutex_unlock(&s->plock);
        resume_all(batch, n);
        if (!more) return;
    }
}

void http_wake(http_server *s, int kind)
{
    if (s == NULL || kind < 0) return;
    pthread_mutex_lock(&s->plock);
    s->wake_gen[kind % HTTP_WAKE_SLOTS]++;
    bool any = s->n_parked > 0;
    pthread_mutex_unlock(&s->plock);
    if (any) wake_matching(s, kind);
}

/* Gives the memory of many closed connections back to the system: after
 * a crowd of connections leaves (1,000 idle ones, say), glibc keeps their
 * freed blocks in its arenas and the resident size would stay at its
 * peak.  Looked at every few seconds by the parking thread. */
static void trim_after_crowd(http_server *s, int64_t now)
{
    if (now - s->trim_checked_ns < 5 * NS_PER_S) return;
    s->trim_checked_ns = now;
    pthread_mutex_lock(&s->plock); /* set by http_start once it listens */
    struct MHD_Daemon *mhd = s->mhd;
    pthread_mutex_unlock(&s->plock);
    if (mhd == NULL) return;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    int open = info ? (int)info->num_connections : 0;
    if (open > s->crowd_peak) s->crowd_peak = open;
    if (s->crowd_peak - open >= 256) {
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        LOG_DEBUG("http", "%d connections closed since the peak: memory trimmed", s->crowd_peak - open);
        s->crowd_peak = open;
    }
}

/* The parking thread: resumes streams whose client hung up or whose tick
 * came, and trims memory after a crowd leaves. */
static void *parker_main(void *arg)
{
    http_server *s = arg;
    log_set_thread_name("http-park");
    enum { BATCH = 256 };
    struct epoll_event ev[64];
    struct MHD_Connection *batch[BATCH];
    for (;;) {
        trim_after_crowd(s, clock_mono_ns());
        pthread_mutex_lock(&s->plock);
        if (s->park_stopping && s->n_parked == 0) {
            pthread_mutex_unlock(&s->plock);
            return NULL;
        }
        int64_t now = clock_mono_ns(), soonest = now + NS_PER_S;
        for (parked *p = s->parked_head; p; p = p->next)
            if (p->wake_at_ns < soonest) soonest = p->wake_at_ns;
        pthread_mutex_unlock(&s->plock);
        int timeout_ms = soonest <= now ? 0 : (int)((soonest - now + 999999) / 1000000);
        int n = epoll_wait(s->epfd, ev, 64, timeout_ms);
        int nb = 0;
        pthread_mutex_lock(&s->plock);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == 0) { /* the kick */
                uint64_t v;
                ssize_t rd = read(s->kickfd, &v, sizeof v);
                (void)rd;
                continue;
            }
            for (parked *p = s->parked_head; p; p = p->next)
                if (p->id == ev[i].data.u64) {
                    p->hangup = true;
                    unpark_locked(s, p);
                    if (nb < BATCH) batch[nb++] = p->conn;
                    break;
                }
        }
        now = clock_mono_ns();
        for (parked *p = s->parked_head; p && nb < BATCH;) {
            parked *next = p->next;
            if (p->wake_at_ns <= now || s->park_stopping) {
                unpark_locked(s, p);
                batch[nb++] = p->conn;
            }
            p = next;
        }
        pthread_mutex_unlock(&s->plock);
        resume_all(batch, nb);
    }
}

/* libmicrohttpd's content reader for http_stream. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    parked *p = cls;
    http_server *s = p->server;
    for (;;) {
        pthread_mutex_lock(&s->plock);
        bool hangup = p->hangup, stopping = s->park_stopping;
        uint64_t gen = s->wake_gen[p->kind % HTTP_WAKE_SLOTS];
        pthread_mutex_unlock(&s->plock);
        if (hangup) {
            /* Ended as a finished stream, not as an error: libmicrohttpd
             * 0.9.75 leaves a resumed connection that a reader aborts
             * unclosed (its socket held) for as long as an older
             * connection is open, while the end of a stream closes it on
             * the failed write or read that follows. */
            LOG_DEBUG("http", "stream fd %d: the client hung up", p->fd);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (stopping) return MHD_CONTENT_READER_END_OF_STREAM;
        ssize_t n = p->read(p->cls, buf, max);
        if (n > 0) return n;
        if (n == HTTP_STREAM_END) return MHD_CONTENT_READER_END_OF_STREAM;
        if (n < 0) return MHD_CONTENT_READER_END_WITH_ERROR;
        pthread_mutex_lock(&s->plock);
        if (s->wake_gen[p->kind % HTTP_WAKE_SLOTS] != gen || s->park_stopping) { /* woken while reading: read again */
            pthread_mutex_unlock(&s->plock);
            continue;
        }
        p->id = ++s->next_park_id;
        struct epoll_event e = {.events = EPOLLRDHUP, .data.u64 = p->id};
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, p->fd, &e) != 0) {
            pthread_mutex_unlock(&s->plock);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        p->is_parked = true;
        p->wake_at_ns = clock_mono_ns() + (int64_t)p->tick_ms * 1000000;
        p->prev = NULL;
        p->next = s->parked_head;
        if (s->parked_head) s->parked_head->prev = p;
        s->parked_head = p;
        s->n_parked++;
        MHD_suspend_connection(p->conn);
        pthread_mutex_unlock(&s->plock);
        kick_parker(s); /* its next wait may have to be shorter */
        return 0;
    }
}

static void stream_free(void *cls)
{
    parked *p = cls;
    http_server *s = p->server;
    pthread_mutex_lock(&s->plock);
    unpark_locked(s, p);
    pthread_mutex_unlock(&s->plock);
    if (p->free_fn) p->free_fn(p->cls);
    free(p);
}

enum MHD_Result http_stream(const http_request *r, const char *mime, const char *const *headers, int kind,
                            int tick_ms, size_t block, http_stream_read read, void (*free_fn)(void *),
                            void *cls)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    parked *p = calloc(1, sizeof *p);
    if (p == NULL || ci == NULL || kind < 0 || r->hc == NULL) {
        free(p);
        if (free_fn) free_fn(cls);
        return http_error(r, 503, "no_memory", "cannot start the stream");
    }
    *p = (parked){.server = r->hc->server, .conn = r->conn, .fd = ci->connect_fd, .kind = kind,
                  .tick_ms = tick_ms > 0 ? tick_ms : 1000, .read = read, .free_fn = free_fn, .cls = cls};
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block, stream_reader, p, stream_free);
    if (resp == NULL) {
        stream_free(p);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (int i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    return respond(r, 200, resp);
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

/* The client's address as IPv6 (IPv4 mapped); false if unknown. */
static bool client_addr(const http_request *r, struct in6_addr *out)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) return false;
    const struct sockaddr *sa = ci->client_addr;
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out->s6_addr[10] = out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        *out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        return true;
    }
    return false;
}

static throttle_slot *throttle_find(http_server *s, const struct in6_addr *a, bool create)
{
    throttle_slot *oldest = &s->throttle[0];
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        throttle_slot *t = &s->throttle[i];
        if (t->used && memcmp(&t->addr, a, sizeof *a) == 0) return t;
        if (!t->used || (oldest->used && t->last_ns < oldest->last_ns)) oldest = t;
    }
    if (!create) return NULL;
    *oldest = (throttle_slot){.addr = *a, .used = true};
    return oldest;
}

/* May this client present a token now?  Sets *retry_s when not. */
static bool throttle_allows(http_server *s, const http_request *r, int *retry_s)
{
    struct in6_addr a;
    bool known = client_addr(r, &a);
    int64_t now = clock_mono_ns();
    pthread_mutex_lock(&s->alock);
    bool allowed = true;
    throttle_slot *t = known ? throttle_find(s, &a, false) : NULL;
    if (t && t->blocked_until_ns > now) {
        allowed = false;
        *retry_s = (int)((t->blocked_until_ns - now + NS_PER_S - 1) / NS_PER_S);
    }
    if (now - s->global_window_ns < NS_PER_S && s->global_failures >= THROTTLE_GLOBAL_PER_S) {
        allowed = false;
        *retry_s = 1;
    }
    pthread_mutex_unlock(&s->alock);
    return allowed;
}

/* Counts a wrong token from this client (or, ok, forgets its failures). */
static void throttle_note(http_server *s, const http_request *r, bool ok)
{
    struct in6_addr a;
    bool known = client_addr(r, &a);
    int64_t now = clock_mono_ns();
    pthread_mutex_lock(&s->alock);
    if (!ok) {
        if (now - s->global_window_ns >= NS_PER_S) s->global_window_ns = now, s->global_failures = 0;
        s->global_failures++;
    }
    throttle_slot *t = known ? throttle_find(s, &a, !ok) : NULL;
    if (t && ok) t->used = false;
    if (t && !ok) {
        t->failures++;
        t->last_ns = now;
        if (t->failures >= THROTTLE_FREE_TRIES) {
            int steps = t->failures - THROTTLE_FREE_TRIES;
            int64_t delay = steps >= 6 ? 60 * NS_PER_S : (NS_PER_S << steps);
            t->blocked_until_ns = now + delay;
        }
    }
    pthread_mutex_unlock(&s->alock);
}

/* A new sign-in session; writes its id.  false when no randomness. */
static bool session_new(http_server *s, char id[65])
{
    unsigned char raw[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) return false;
    for (int i = 0; i < 32; i++) snprintf(id + 2 * i, 3, "%02x", raw[i]);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&s->alock);
    sign_in *slot = &s->sessions[0];
    for (int i = 0; i < SESSIONS_MAX; i++) {
        sign_in *e = &s->sessions[i];
        bool expired = e->id[0] && (now - e->created_s > SESSION_LIFETIME_S || now - e->used_s > SESSION_IDLE_S);
        if (e->id[0] == '\0' || expired) {
            slot = e;
            break;
        }
        if (e->used_s < slot->used_s) slot = e; /* full: the longest unused goes */
    }
    snprintf(slot->id, sizeof slot->id, "%s", id);
    slot->created_s = slot->used_s = now;
    pthread_mutex_unlock(&s->alock);
    return true;
}

/* Is id a live sign-in session?  Marks it used. */
static bool session_valid(http_server *s, const char *id)
{
    if (id == NULL || strlen(id) != 64) return false;
    int64_t now = (int64_t)time(NULL);
    bool found = false;
    pthread_mutex_lock(&s->alock);
    for (int i = 0; i < SESSIONS_MAX && !found; i++) {
        sign_in *e = &s->sessions[i];
        if (e->id[0] == '\0' || !same_text(id, e->id)) continue;
        if (now - e->created_s > SESSION_LIFETIME_S || now - e->used_s > SESSION_IDLE_S) {
            e->id[0] = '\0';
            break;
        }
        e->used_s = now;
        found = true;
    }
    pthread_mutex_unlock(&s->alock);
    return found;
}

static void session_end(http_server *s, const char *id)
{
    if (id == NULL) return;
    pthread_mutex_lock(&s->alock);
    for (int i = 0; i < SESSIONS_MAX; i++)
        if (s->sessions[i].id[0] && same_text(id, s->sessions[i].id)) s->sessions[i].id[0] = '\0';
    pthread_mutex_unlock(&s->alock);
}

/* The token the request presents by header, or NULL. */
static const char *presented_token(const http_request *r)
{
    const char *h = http_header(r, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) return h + 7;
    return http_header(r, "X-Tether-Token");
}

typedef enum { ACCESS_OK, ACCESS_DENIED, ACCESS_THROTTLED } access_verdict;

static access_verdict authorise(http_server *s, const http_request *r, int *retry_s)
{
    if (s->token[0] == '\0') return ACCESS_OK;
    if (session_valid(s, MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "tether_session")))
        return ACCESS_OK;
    const char *t = presented_token(r);
    if (t == NULL) return ACCESS_DENIED;
    if (!throttle_allows(s, r, retry_s)) return ACCESS_THROTTLED;
    bool ok = same_text(t, s->token);
    throttle_note(s, r, ok);
    return ok ? ACCESS_OK : ACCESS_DENIED;
}

/* The host part of a Host header value, lowercased, without a trailing
 * dot: "[::1]:8080" -> "::1", "Studio.local.:80" -> "studio.local". */
static bool host_part(const char *value, char *out, size_t size)
{
    const char *start = value, *end;
    if (value[0] == '[') {
        start = value + 1;
        end = strchr(start, ']');
        if (end == NULL) return false;
    } else {
        end = strchr(value, ':');
        if (end == NULL) end = value + strlen(value);
    }
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= size) return false;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)start[i]);
    out[n] = '\0';
    if (n > 1 && out[n - 1] == '.') out[n - 1] = '\0';
    return true;
}

/* Is the Host header one of ours (or an address)?  No Host (HTTP/1.0)
 * passes: browsers always send one. */
static bool host_allowed(http_server *s, const http_request *r)
{
    const char *h = http_header(r, "Host");
    if (h == NULL) return true;
    char host[256];
    if (!host_part(h, host, sizeof host)) return false;
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1) return true;
    for (int i = 0; i < s->n_hosts; i++)
        if (strcmp(host, s->hosts[i]) == 0) return true;
    return false;
}

/* For a state-changing request: not from another site.  The Origin, when
 * sent, must be http://HOST exactly (HOST as the Host header says it). */
static bool same_origin(const http_request *r)
{
    const char *site = http_header(r, "Sec-Fetch-Site");
    if (site && strcmp(site, "cross-site") == 0) return false;
    const char *origin = http_header(r, "Origin");
    if (origin == NULL) return true;
    const char *host = http_header(r, "Host");
    if (host == NULL || strncmp(origin, "http://", 7) != 0) return false;
    const char *o = origin + 7;
    if (strcasecmp(o, host) == 0) return true;
    /* a browser leaves out the default port that a Host header may carry */
    size_t ol = strlen(o);
    return strncasecmp(o, host, ol) == 0 && strcmp(host + ol, ":80") == 0;
}

/* The sign-in page: message (may be NULL) says why the page is shown
 * again; next is where a successful sign-in goes (a local path checked by
 * local_target, so nothing in it needs escaping); retry_s > 0 adds
 * Retry-After (a throttled sign-in, status 429). */
static enum MHD_Result login_page(const http_request *r, unsigned status, const char *message, const char *next,
                                  int retry_s)
{
    static const char head[] =
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>tether: sign in</title>"
        /* the icon inline: /favicon.svg is behind the token like every route */
        "<link rel=icon href=\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>"
        "<rect x='1' y='6' width='30' height='22' rx='5' fill='%231c1c1c' stroke='%23888'/>"
        "<rect x='20' y='2' width='8' height='5' rx='1.5' fill='%23c33'/>"
        "<circle cx='15' cy='17' r='7.5' stroke='%23ddd' stroke-width='2'/></svg>\">"
        "<style>body{background:#111;color:#ddd;font:16px system-ui,sans-serif;display:grid;place-items:center;height:100vh;margin:0}"
        "form{background:#1c1c1c;padding:2em;border-radius:8px;display:grid;gap:1em;min-width:16em;max-width:22em}"
        "input,button{font:inherit;padding:.6em;border-radius:4px;border:1px solid #444;background:#000;color:#eee;width:100%;box-sizing:border-box}"
        "button{background:#c33;border:0;color:#fff}.why{color:#f88;margin:0}</style></head><body>"
        "<form method=post action=/login><h1>tether</h1>";
    static const char tail[] =
        "<label>Access token<br><input name=token type=password autofocus required autocomplete=current-password>"
        "</label><button>Sign in</button></form></body></html>";
    bytebuf b = BYTEBUF_INIT;
    bytebuf_put(&b, head, sizeof head - 1);
    if (message) { /* a fixed text of ours, or one with a number */
        static const char before[] = "<p class=why id=why role=alert>", after[] = "</p>";
        bytebuf_put(&b, before, sizeof before - 1);
        bytebuf_put(&b, message, strlen(message));
        bytebuf_put(&b, after, sizeof after - 1);
    }
    if (next && strcmp(next, "/") != 0) { /* local_target: nothing in it needs escaping */
        static const char before[] = "<input type=hidden name=next value=\"", after[] = "\">";
        bytebuf_put(&b, before, sizeof before - 1);
        bytebuf_put(&b, next, strlen(next));
        bytebuf_put(&b, after, sizeof after - 1);
    }
    bytebuf_put(&b, tail, sizeof tail - 1);
    struct MHD_Response *resp =
        b.data ? MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY) : NULL;
    bytebuf_free(&b);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (retry_s > 0) {
        char after[16];
        snprintf(after, sizeof after, "%d", retry_s);
        MHD_add_response_header(resp, "Retry-After", after);
    }
    common_headers(resp);
    return respond(r, status, resp);
}

/* Is target a path on this studio to send a browser to after sign-in?  A
 * local path ("/gallery") of letters, digits and "/._-~" only, at most 200
 * characters, never another site ("//evil.example", "https://...") and
 * nothing that needs escaping in HTML or in a query.  Anything else signs
 * in to "/". */
static bool local_target(const char *target)
{
    if (target == NULL || target[0] != '/' || target[1] == '/') return false;
    size_t n = 0;
    for (const char *p = target; *p; p++, n++)
        if (!isalnum((unsigned char)*p) && !strchr("/._-~", *p)) return false;
    return n <= 200;
}

/* The value of field name in an application/x-www-form-urlencoded body,
 * decoded into out (empty if absent or too long). */
static void form_field(const char *body, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, n) != 0 || p[n] != '=') continue;
        const char *v = p + n + 1;
        size_t len = strcspn(v, "&");
        if (len >= size) return;
        memcpy(out, v, len);
        out[len] = '\0';
        for (char *q = out; *q; q++)
            if (*q == '+') *q = ' ';
        MHD_http_unescape(out);
        return;
    }
}

static bool wants_json(const http_request *r)
{
    const char *ct = http_header(r, "Content-Type");
    return ct && strncmp(ct, "application/json", 16) == 0;
}

static enum MHD_Result answer_with_cookie(const http_request *r, const char *cookie, const char *location,
                                          json_t *json)
{
    struct MHD_Response *resp;
    if (json) {
        char *text = json_dumps(json, JSON_COMPACT);
        json_decref(json);
        if (text == NULL) return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (resp) MHD_add_response_header(resp, "Content-Type", "application/json");
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp) MHD_add_response_header(resp, "Location", location);
    }
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    common_headers(resp);
    return respond(r, json ? 200 : 303, resp);
}

static enum MHD_Result too_many(const http_request *r, int retry_s)
{
    char msg[64];
    snprintf(msg, sizeof msg, "%d", retry_s);
    json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", "too_many_attempts", "message",
                          "too many wrong tokens: wait before trying again");
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text == NULL) return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Retry-After", msg);
    common_headers(resp);
    return respond(r, 429, resp);
}

static enum MHD_Result handle_login(http_server *s, const http_request *r)
{
    if (http_is(r, "GET") || http_is(r, "HEAD")) {
        const char *failed = http_query(r, "failed"), *next = http_query(r, "next");
        const char *why = failed ? "That token is not this studio's. Try again." : NULL;
        return login_page(r, 200, why, local_target(next) ? next : "/", 0);
    }
    if (!http_is(r, "POST")) return http_error(r, 405, "method_not_allowed", "use GET or POST");
    if (!same_origin(r)) return http_error(r, 403, "cross_site", "cross-site sign-in refused");
    char token[300] = "", next[256] = "";
    bool json = wants_json(r);
    if (r->body && json) {
        json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "token"));
        if (t) snprintf(token, sizeof token, "%s", t);
        json_decref(j);
    } else if (r->body) { /* application/x-www-form-urlencoded: token=...&next=... */
        form_field(r->body, "token", token, sizeof token);
        form_field(r->body, "next", next, sizeof next);
    }
    const char *target = local_target(next) ? next : "/";
    int retry_s = 1;
    if (s->token[0] == '\0') return http_error(r, 400, "no_token", "this studio has no access token: no sign-in needed");
    if (!throttle_allows(s, r, &retry_s)) {
        if (json) return too_many(r, retry_s);
        char why[160];
        snprintf(why, sizeof why, "Too many wrong tokens from this address: wait %d s before trying again.", retry_s);
        return login_page(r, 429, why, target, retry_s);
    }
    bool ok = same_text(token, s->token);
    throttle_note(s, r, ok);
    if (!ok) {
        if (json) return http_error(r, 401, "unauthorized", "wrong token");
        char location[300];
        if (strcmp(target, "/") == 0) snprintf(location, sizeof location, "/login?failed=1");
        else snprintf(location, sizeof location, "/login?failed=1&next=%s", target);
        return http_redirect(r, location);
    }
    char id[65], cookie[200];
    if (!session_new(s, id)) return http_error(r, 500, "internal", "no randomness for a session");
    snprintf(cookie, sizeof cookie, "tether_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld", id,
             (long long)SESSION_LIFETIME_S);
    return answer_with_cookie(r, cookie, target, json ? json_pack("{s:b}", "signed_in", 1) : NULL);
}

bool http_signed_in(const http_request *r)
{
    http_server *s = r->hc ? r->hc->server : NULL;
    return s && s->token[0] && session_valid(s, MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "tether_session"));
}

static enum MHD_Result handle_logout(http_server *s, const http_request *r)
{
    if (!http_is(r, "POST")) return http_error(r, 405, "method_not_allowed", "use POST");
    if (!same_origin(r)) return http_error(r, 403, "cross_site", "cross-site sign-out refused");
    session_end(s, MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "tether_session"));
    static const char clear[] = "tether_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    return answer_with_cookie(r, clear, "/login", wants_json(r) ? json_pack("{s:b}", "signed_in", 0) : NULL);
}

/* ---- workers ------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    http_server *s = arg;
    log_set_thread_name("http-worker");
    pthread_mutex_lock(&s->qlock);
    for (;;) {
        while (s->q_head == NULL && !s->queue_stopping) pthread_cond_wait(&s->qcond, &s->qlock);
        http_conn *hc = s->q_head;
        if (hc == NULL) break; /* stopping, nothing queued */
        s->q_head = hc->next;
        if (s->q_head == NULL) s->q_tail = NULL;
        bool stopping = s->queue_stopping;
        pthread_mutex_unlock(&s->qlock);
        http_request r = {.conn = hc->conn, .method = hc->method, .url = hc->url, .hc = hc};
        if (hc->body.len) {
            r.body = (const char *)hc->body.data;
            r.body_len = hc->body.len - 1;
        }
        enum MHD_Result ret = stopping ? http_error(&r, 503, "stopping", "the studio is stopping")
                                       : s->handler(s->ctx, &r);
        hc->fail = ret == MHD_NO && hc->resp == NULL;
        hc->done = true;
        MHD_resume_connection(hc->conn);
        pthread_mutex_lock(&s->qlock);
        s->queued--;
        pthread_cond_broadcast(&s->qcond);
    }
    pthread_mutex_unlock(&s->qlock);
    return NULL;
}

/* Suspends the request's connection and queues it for a worker. */
static enum MHD_Result defer(http_server *s, http_conn *hc)
{
    hc->deferred = true;
    MHD_suspend_connection(hc->conn);
    pthread_mutex_lock(&s->qlock);
    hc->next = NULL;
    if (s->q_tail) s->q_tail->next = hc;
    else s->q_head = hc;
    s->q_tail = hc;
    s->queued++;
    pthread_cond_signal(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    return MHD_YES;
}

/* ---- libmicrohttpd glue ------------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server *s = cls;
    http_conn *hc = *con_cls;
    if (hc == NULL) {
        hc = calloc(1, sizeof *hc);
        if (hc == NULL) return MHD_NO;
        hc->server = s;
        hc->conn = conn;
        hc->method = method;
        hc->url = url;
        *con_cls = hc;
        size_t raw = s->raw_body ? s->raw_body(s->ctx, method, url) : 0;
        hc->raw = raw > 0;
        hc->limit = raw > 0 ? raw : HTTP_MAX_BODY;
        const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (len && strtoull(len, NULL, 10) > hc->limit) hc->too_big = true;
        return MHD_YES;
    }
    if (hc->deferred) { /* resumed by its worker */
        if (!hc->done) return MHD_YES;
        if (hc->resp == NULL) return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(conn, hc->status, hc->resp);
        MHD_destroy_response(hc->resp);
        hc->resp = NULL;
        return ret;
    }
    if (*upload_size) {
        if (!hc->too_big && hc->body.len + *upload_size <= hc->limit) bytebuf_put(&hc->body, upload, *upload_size);
        else hc->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    http_request r = {.conn = conn, .method = method, .url = url, .hc = hc};
    if (!host_allowed(s, &r))
        return http_error(&r, 421, "bad_host",
                          "this studio does not answer to that host name (DNS rebinding?); "
                          "start it with --allow-host NAME to allow a name");
    if (hc->too_big)
        return http_error(&r, 413, "too_large", "request bodies are limited to %zu bytes", hc->limit);
    if (!request_utf8(conn, url))
        return http_error(&r, 400, "bad_request", "the path and the query must be UTF-8 (percent-encoded)");
    if (hc->body.len) {
        bytebuf_put_u8(&hc->body, 0);
        r.body = (const char *)hc->body.data;
        r.body_len = hc->body.len - 1;
    }
    if (strcmp(url, "/login") == 0) return handle_login(s, &r);
    if (strcmp(url, "/logout") == 0) return handle_logout(s, &r);
    s->requests++;
    if (strcmp(url, "/healthz") == 0) return defer(s, hc); /* open: a health probe carries no token */
    int retry_s = 1;
    switch (authorise(s, &r, &retry_s)) {
    case ACCESS_OK: break;
    case ACCESS_THROTTLED: return too_many(&r, retry_s);
    case ACCESS_DENIED:
        if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0 || strstr(url, ".mjpg") || strstr(url, ".jpg") || strncmp(url, "/photos/", 8) == 0)
            return http_error(&r, 401, "unauthorized", "an access token is required (Authorization: Bearer TOKEN)");
        if (local_target(url) && strcmp(url, "/") != 0) { /* back here after signing in */
            char location[300];
            snprintf(location, sizeof location, "/login?next=%s", url);
            return http_redirect(&r, location);
        }
        return http_redirect(&r, "/login");
    }
    bool safe = http_is(&r, "GET") || http_is(&r, "HEAD");
    if (!safe) {
        if (!same_origin(&r)) return http_error(&r, 403, "cross_site", "cross-site requests are refused");
        if (r.body && !wants_json(&r) && !hc->raw)
            return http_error(&r, 415, "unsupported_media_type", "send the body as application/json");
    }
    if (s->quick && s->quick(s->ctx, method, url)) return s->handler(s->ctx, &r);
    return defer(s, hc);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    http_conn *hc = *con_cls;
    if (hc) {
        if (hc->resp) MHD_destroy_response(hc->resp);
        bytebuf_free(&hc->body);
        free(hc);
        *con_cls = NULL;
    }
}

/* ---- life cycle ---------------------------------------------------------------- */

static void add_host(http_server *s, const char *name)
{
    char h[256];
    if (name == NULL || !host_part(name, h, sizeof h)) return;
    for (int i = 0; i < s->n_hosts; i++)
        if (strcmp(s->hosts[i], h) == 0) return;
    char **grown = realloc(s->hosts, (size_t)(s->n_hosts + 1) * sizeof *grown);
    if (grown == NULL) return;
    s->hosts = grown;
    if ((s->hosts[s->n_hosts] = strdup(h)) != NULL) s->n_hosts++;
}

/* libmicrohttpd's own messages (clients that went away, bad requests):
 * debug lines, since each one is a client's doing, not the server's. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (LOG_LEVEL_DEBUG > log_g_level) return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' ')) line[--n] = '\0';
    LOG_DEBUG("mhd", "%s", line);
}

/* Lets the process hold as many sockets as its hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void free_server(http_server *s)
{
    for (int i = 0; i < s->n_hosts; i++) free(s->hosts[i]);
    free(s->hosts);
    if (s->epfd >= 0) close(s->epfd);
    if (s->kickfd >= 0) close(s->kickfd);
    pthread_mutex_destroy(&s->qlock);
    pthread_cond_destroy(&s->qcond);
    pthread_mutex_destroy(&s->plock);
    pthread_mutex_destroy(&s->alock);
    free(s);
}

/* Stops and joins the threads this file started (workers, parker). */
static void stop_threads(http_server *s)
{
    pthread_mutex_lock(&s->plock);
    s->park_stopping = true;
    pthread_mutex_unlock(&s->plock);
    pthread_mutex_lock(&s->qlock);
    s->queue_stopping = true;
    pthread_cond_broadcast(&s->qcond);
    pthread_mutex_unlock(&s->qlock);
    for (int i = 0; i < s->n_workers; i++) pthread_join(s->workers[i], NULL);
    s->n_workers = 0;
    if (s->parker_started) {
        kick_parker(s);
        pthread_join(s->parker, NULL);
        s->parker_started = false;
    }
}

http_server *http_start(const http_options *o)
{
    http_server *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    pthread_mutex_init(&s->qlock, NULL);
    pthread_cond_init(&s->qcond, NULL);
    pthread_mutex_init(&s->plock, NULL);
    pthread_mutex_init(&s->alock, NULL);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    snprintf(s->token, sizeof s->token, "%s", o->token ? o->token : "");
    s->handler = o->handler;
    s->quick = o->quick;
    s->raw_body = o->raw_body;
    s->ctx = o->ctx;
    const char *host = o->host ? o->host : "127.0.0.1";
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        LOG_ERROR("http", "not an IPv4 address: %s", host);
        free_server(s);
        return NULL;
    }
    struct epoll_event kick = {.events = EPOLLIN, .data.u64 = 0};
    if (s->epfd < 0 || s->kickfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->kickfd, &kick) != 0) {
        LOG_ERROR("http", "epoll: %s", strerror(errno));
        free_server(s);
        return NULL;
    }
    add_host(s, "localhost");
    char name[256];
    if (gethostname(name, sizeof name - 8) == 0 && name[0]) {
        name[sizeof name - 8] = '\0';
        add_host(s, name);
        if (strchr(name, '.') == NULL) {
            strcat(name, ".local");
            add_host(s, name);
        }
    }
    for (int i = 0; i < o->n_allow_hosts; i++) add_host(s, o->allow_hosts[i]);
    raise_fd_limit();
    s->next_park_id = 1; /* 0 is the kick */
    if (pthread_create(&s->parker, NULL, parker_main, s) == 0) s->parker_started = true;
    for (int i = 0; i < HTTP_WORKERS && s->parker_started; i++)
        if (pthread_create(&s->workers[i], NULL, worker_main, s) == 0) s->n_workers++;
    if (!s->parker_started || s->n_workers == 0) {
        LOG_ERROR("http", "cannot start the server's threads");
        stop_threads(s);
        free_server(s);
        return NULL;
    }
    struct MHD_Daemon *mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                              (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &a,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_LOOP_THREADS,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
                              MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                              MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)NULL, MHD_OPTION_END);
    pthread_mutex_lock(&s->plock);
    s->mhd = mhd;
    pthread_mutex_unlock(&s->plock);
    if (s->mhd == NULL) {
        LOG_ERROR("http", "cannot listen on %s:%d", host, o->port);
        stop_threads(s);
        free_server(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : o->port;
    return s;
}

int http_port(const http_server *s)
{
    return s->port;
}

void http_counts(http_server *s, uint64_t *requests, uint64_t *errors)
{
    *requests = s ? s->requests : 0;
    *errors = s ? s->errors : 0;
}

void http_stop(http_server *s)
{
    if (s == NULL) return;
    MHD_socket lfd = MHD_quiesce_daemon(s->mhd); /* no new connections */
    pthread_mutex_lock(&s->plock);
    s->park_stopping = true;
    pthread_mutex_unlock(&s->plock);
    wake_matching(s, -1); /* every stream ends at its next read */
    stop_threads(s);      /* queued requests answered 503; running handlers finish */
    MHD_stop_daemon(s->mhd);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    free_server(s);
}
