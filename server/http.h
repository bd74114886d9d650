/*
 * http: the studio's HTTP layer over libmicrohttpd: requests with bodies
 * collected up to a limit, one JSON error envelope, access control (token
 * by header, cookie or login page), cross-site request protection, and
 * helpers for JSON and file responses.  Route handlers live in api.c and
 * stream.c; this file knows nothing about cameras.
 *
 * Threads: libmicrohttpd runs one thread per connection, so a handler (or
 * a streaming callback) may block; handlers must be thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#define HTTP_MAX_BODY (64 * 1024)

typedef struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;           /* path, without the query */
    const char *body;          /* NUL-terminated; NULL if none */
    size_t body_len;
} http_request;

/* Query parameter (or NULL). */
const char *http_query(const http_request *r, const char *name);
/* Request header (or NULL). */
const char *http_header(const http_request *r, const char *name);
bool http_is(const http_request *r, const char *method);

/* Responses.  All return the MHD result to hand back to libmicrohttpd. */
enum MHD_Result http_json(const http_request *r, unsigned status, json_t *body); /* takes the reference */
enum MHD_Result http_error(const http_request *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum MHD_Result http_bytes(const http_request *r, unsigned status, const char *mime, const void *data,
                           size_t len, bool copy);
/* Serves a file from disk (fd-backed, no copy in memory). */
enum MHD_Result http_file(const http_request *r, const char *path, const char *mime);
enum MHD_Result http_redirect(const http_request *r, const char *location);

/* Parses the JSON body; on failure answers 400 itself and returns NULL
 * (set *answered). */
json_t *http_json_body(const http_request *r, enum MHD_Result *answered);

/* A file name's MIME type ("image/jpeg", ...). */
const char *http_mime_for(const char *path);

/* ---- the server ------------------------------------------------------------ */

typedef enum MHD_Result (*http_handler)(void *ctx, const http_request *r);

typedef struct http_server http_server;

/* Starts serving host:port with handler; token (may be NULL) protects
 * every route but /login.  Returns NULL on failure (logged). */
http_server *http_start(const char *host, int port, const char *token, http_handler handler, void *ctx);
int http_port(const http_server *s);
void http_stop(http_server *s);
