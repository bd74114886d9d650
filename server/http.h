/*
 * http: the studio's HTTP layer over libmicrohttpd: requests with bodies
 * collected up to a limit, one JSON error envelope, access control (token
 * by header, a server-side sign-in session by cookie, throttled wrong
 * tokens), Host and Origin checks (DNS rebinding, cross-site requests),
 * and helpers for JSON, file and streamed responses.  Route handlers live
 * in api.c and stream.c; this file knows nothing about cameras.
 *
 * Threads: libmicrohttpd runs an epoll event loop on a small pool of
 * threads, so a connection costs memory, not a thread.  A handler the
 * program calls quick (http_options.quick) runs on the event loop and
 * must not block; every other handler runs on one of HTTP_WORKERS worker
 * threads while its connection is suspended, and may block (a capture).
 * A streamed response (http_stream) never blocks: when it has nothing to
 * send its connection is parked until http_wake, its tick, or the client
 * hanging up, which is noticed at once.  Handlers must be thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>

#define HTTP_MAX_BODY (64 * 1024)
enum { HTTP_WORKERS = 12 };

typedef struct http_conn http_conn;

typedef struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;           /* path, without the query */
    const char *body;          /* NUL-terminated; NULL if none */
    size_t body_len;
    http_conn *hc;             /* the layer's state for this request */
} http_request;

/* Query parameter (or NULL). */
const char *http_query(const http_request *r, const char *name);
/* Request header (or NULL). */
const char *http_header(const http_request *r, const char *name);
bool http_is(const http_request *r, const char *method);

/* Responses.  All return the MHD result to hand back to libmicrohttpd, and
 * may be called from the handler's thread (event loop or worker). */
enum MHD_Result http_json(const http_request *r, unsigned status, json_t *body); /* takes the reference */
enum MHD_Result http_error(const http_request *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum MHD_Result http_bytes(const http_request *r, unsigned status, const char *mime, const void *data,
                           size_t len, bool copy);
/* Serves a file the caller opened (fd-backed, no copy in memory): takes
 * fd (closed on every path); path gives the MIME type when mime is NULL. */
enum MHD_Result http_file_fd(const http_request *r, int fd, const char *path, const char *mime);
enum MHD_Result http_redirect(const http_request *r, const char *location);
/* Serves bytes that change only with the program (the embedded UI): 304
 * when If-None-Match names etag (a quoted ETag), else 200 with the ETag
 * and "Cache-Control: no-cache" (kept, but revalidated on every use). */
enum MHD_Result http_asset(const http_request *r, const char *mime, const void *data, size_t len,
                           const char *etag);
/* Does the request come with a live sign-in session (a cookie made by
 * POST /login)?  False when the studio has no token. */
bool http_signed_in(const http_request *r);

/* Parses the JSON body; on failure answers 400 itself and returns NULL
 * (set *answered). */
json_t *http_json_body(const http_request *r, enum MHD_Result *answered);

/* A file name's MIME type ("image/jpeg", ...). */
const char *http_mime_for(const char *path);

/* ---- streamed responses ------------------------------------------------------ */

/* What a stream's read function returns besides a byte count (> 0):
 * 0 means "nothing to send now": the connection is parked until
 * http_wake(kind), its tick, or the client going away. */
#define HTTP_STREAM_END ((ssize_t)-1)   /* finished: end the response */
#define HTTP_STREAM_ERROR ((ssize_t)-2) /* abort the connection */

typedef ssize_t (*http_stream_read)(void *cls, char *buf, size_t max);

/* Answers 200 with a body produced by read(cls, ...) as the client takes
 * it; read runs on the event loop and must not block.  kind (>= 0) names
 * what wakes the stream (http_wake; only streams of that very kind wake); tick_ms (> 0) calls read again after
 * that long parked.  free_fn(cls) runs once when the response ends, on
 * every path (also when this call fails).  headers: NULL-terminated
 * name/value pairs, may be NULL. */
enum MHD_Result http_stream(const http_request *r, const char *mime, const char *const *headers, int kind,
                            int tick_ms, size_t block, http_stream_read read, void (*free_fn)(void *),
                            void *cls);

/* ---- the server ------------------------------------------------------------ */

typedef enum MHD_Result (*http_handler)(void *ctx, const http_request *r);

typedef struct http_options {
    const char *host;          /* listen address (IPv4); "0.0.0.0" for every interface */
    int port;                  /* 0 picks one */
    const char *token;         /* NULL or "": no access control */
    const char *const *allow_hosts; /* more names the Host header may carry */
    int n_allow_hosts;
    http_handler handler;
    /* May the handler for this request run on the event loop (it never
     * blocks)?  NULL: every handler runs on a worker. */
    bool (*quick)(void *ctx, const char *method, const char *url);
    /* May this request carry a body of any type (not only JSON), and how
     * large: 0 for the usual (JSON, at most HTTP_MAX_BODY), else the
     * limit in bytes (the whole body is held in memory).  On the event
     * loop, before the request is authorised: decide by method and path
     * only.  NULL: none may. */
    size_t (*raw_body)(void *ctx, const char *method, const char *url);
    void *ctx;
} http_options;

typedef struct http_server http_server;

/* Starts serving.  The token protects every route but /login, /logout
 * and /healthz (a probe's: it tells only whether the studio is well).
 * Raises the open-file limit to its hard limit (the process's) so that
 * thousands of connections fit.  Returns NULL on failure (logged). */
http_server *http_start(const http_options *o);
int http_port(const http_server *s);
/* Wakes every stream of kind parked for want of data.  Any thread; s may
 * be NULL (nothing happens). */
void http_wake(http_server *s, int kind);
/* Requests answered since start (but sign-in) and those answered with a
 * 5xx error.  Any thread; s may be NULL (zeros). */
void http_counts(http_server *s, uint64_t *requests, uint64_t *errors);
/* Stops accepting, ends every stream, answers queued requests 503, waits
 * for the handlers running on workers, then stops.  NULL is fine. */
void http_stop(http_server *s);
