/*
 * stream: live view as MJPEG (/stream.mjpg) and single frames
 * (/snapshot.jpg), and server-sent events (/api/events).
 *
 * Every MJPEG client subscribes to its camera's live view; the camera's
 * owner thread produces each frame once, and all clients send that same
 * reference-counted frame.  A client takes the newest frame whenever it
 * has finished sending the previous one, so a slow client skips frames and
 * never holds the others back.  When the camera is lost, clients receive
 * a "no signal" frame every second until frames come again.
 *
 * Nothing here blocks the HTTP event loop: the stream readers take what
 * is there and otherwise return 0, which parks the connection (http.h).
 * Each station's frame pump thread (stream_pump_start) waits for each new
 * live-view frame of its camera and wakes that camera's parked MJPEG
 * clients (the station's own wake kind, so one camera's frames never wake
 * another's viewers); hub_publish wakes the parked event clients.  A
 * client holds a reference to its station and ends when the station is
 * removed.  A camera on a rig node has no pump: its frames come from the
 * node over the broker (rig_live_next), on a lease its viewers hold
 * (rig_live_subscribe), and the rig wakes its viewers as each arrives.
 * /snapshot.jpg waits for a frame, so it runs on an HTTP worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/blob.h"
#include "base/clock.h"
#include "base/log.h"
#include "image/jpeg.h"
#include "internal.h"

#define BOUNDARY "tetherframe"

static pthread_once_t no_signal_once = PTHREAD_ONCE_INIT;
static blob *no_signal_frame;

/* The "no signal" frame: dark grey with a red band. */
static void build_no_signal(void)
{
    enum { W = 640, H = 426 };
    uint8_t *rgb = malloc(W * H * 3);
    if (rgb == NULL) return;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + 3 * (y * W + x);
            bool band = y > H / 2 - 12 && y < H / 2 + 12 && x > W / 4 && x < 3 * W / 4;
            p[0] = band ? 200 : 28, p[1] = band ? 40 : 28, p[2] = band ? 40 : 30;
        }
    bytebuf b = BYTEBUF_INIT;
    img_jpeg_params jp = {.width = W, .height = H, .channels = 3, .quality = 70};
    if (img_jpeg_encode(&jp, rgb, W * 3, &b) == 0) no_signal_frame = blob_from(b.data, b.len);
    bytebuf_free(&b);
    free(rgb);
}

/* ---- MJPEG ----------------------------------------------------------------- */

typedef struct mjpeg_client {
    station *st;
    uint64_t seq;
    tether_frame *frame;       /* a local camera's frame, or NULL */
    blob *live;                /* a remote camera's frame (from its node), or NULL */
    blob *still;
    const uint8_t *data;
    size_t size;
    char head[160];
    size_t head_len;
    size_t off;                /* within head + data + "\r\n" */
    int64_t last_still_ns;
} mjpeg_client;

static void release(mjpeg_client *c)
{
    tether_frame_unref(c->frame);
    c->frame = NULL;
    blob_unref(c->live);
    c->live = NULL;
    c->still = NULL;
    c->data = NULL;
    c->size = 0;
}

static void load(mjpeg_client *c, const uint8_t *data, size_t size)
{
    c->data = data;
    c->size = size;
    c->head_len = (size_t)snprintf(c->head, sizeof c->head,
                                   "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", size);
    c->off = 0;
}

/* Loads the next frame to send.  Returns 1 when one is loaded, 0 when
 * there is none yet, -1 when the stream must end.  Never waits. */
static int next_frame(mjpeg_client *c)
{
    release(c);
    if (c->st->s->stopping || c->st->stopping) return -1;
    int rc;
    if (c->st->remote) {
        blob *b = NULL;
        rc = rig_live_next(c->st, &c->seq, 0, &b, NULL);
        if (rc == TETHER_OK) {
            c->live = b;
            load(c, b->data, b->len);
            return 1;
        }
    } else {
        tether_frame *f = NULL;
        rc = tether_liveview_next(c->st->cam, &c->seq, 0, &f);
        if (rc == TETHER_OK) {
            c->frame = f;
            load(c, tether_frame_data(f), tether_frame_size(f));
            return 1;
        }
    }
    if (rc == TETHER_ERR_CLOSED) return -1;
    int64_t now = clock_mono_ns();
    if (rc == TETHER_ERR_DISCONNECTED && now - c->last_still_ns >= 1000000000) {
        pthread_once(&no_signal_once, build_no_signal);
        if (no_signal_frame) {
            c->still = no_signal_frame;
            c->last_still_ns = now;
            load(c, no_signal_frame->data, no_signal_frame->len);
            return 1;
        }
    }
    return 0; /* parked until the pump's wake, or the 1 s tick for the no-signal frame */
}

static ssize_t mjpeg_read(void *cls, char *buf, size_t max)
{
    mjpeg_client *c = cls;
    for (;;) {
        size_t total = c->data ? c->head_len + c->size + 2 : 0;
        if (c->data && c->off < total) {
            size_t n = 0;
            while (n < max && c->off < total) {
                size_t take;
                if (c->off < c->head_len) {
                    take = c->head_len - c->off < max - n ? c->head_len - c->off : max - n;
                    memcpy(buf + n, c->head + c->off, take);
                } else if (c->off < c->head_len + c->size) {
                    size_t at = c->off - c->head_len;
                    take = c->size - at < max - n ? c->size - at : max - n;
                    memcpy(buf + n, c->data + at, take);
                } else {
                    size_t at = c->off - c->head_len - c->size;
                    take = 2 - at < max - n ? 2 - at : max - n;
                    static const char crlf[2] = {'\r', '\n'};
                    memcpy(buf + n, crlf + at, take);
                }
                n += take;
                c->off += take;
            }
            if (c->off == total && (c->frame || c->live)) {
                pthread_mutex_lock(&c->st->lock);
                c->st->frames_sent++;
                pthread_mutex_unlock(&c->st->lock);
            }
            return (ssize_t)n;
        }
        int got = next_frame(c);
        if (got < 0) return HTTP_STREAM_END;
        if (got == 0) return 0;
    }
}

static void mjpeg_free(void *cls)
{
    mjpeg_client *c = cls;
    release(c);
    if (c->st->remote) rig_live_unsubscribe(c->st);
    else tether_liveview_unsubscribe(c->st->cam);
    pthread_mutex_lock(&c->st->lock);
    c->st->stream_clients--;
    pthread_mutex_unlock(&c->st->lock);
    station_unref(c->st);
    free(c);
}

enum MHD_Result stream_mjpeg(station *st, const http_request *r)
{
    mjpeg_client *c = calloc(1, sizeof *c);
    if (c == NULL) return http_error(r, 503, "no_memory", "out of memory");
    c->st = station_ref(st);
    if (st->remote) rig_live_subscribe(st);
    else tether_liveview_subscribe(st->cam);
    pthread_mutex_lock(&st->lock);
    st->stream_clients++;
    pthread_mutex_unlock(&st->lock);
    return http_stream(r, "multipart/x-mixed-replace; boundary=" BOUNDARY, NULL, st->wake_kind, 1000,
                       64 * 1024, mjpeg_read, mjpeg_free, c);
}

int stream_fresh_frame(station *st, int64_t after_ns, tether_frame **out)
{
    *out = NULL;
    studio *s = st->s;
    tether_liveview_subscribe(st->cam);
    uint64_t seq = 0;
    tether_frame *f = NULL;
    int64_t deadline = clock_mono_ns() + 10000000000LL;
    int rc = TETHER_ERR_TIMEOUT;
    while (clock_mono_ns() < deadline && !s->stopping && !st->stopping) {
        rc = tether_liveview_next(st->cam, &seq, 1000, &f);
        if (rc == TETHER_OK && tether_frame_time_ns(f) < after_ns) {
            tether_frame_unref(f); /* a frame from before: wait for a fresh one */
            f = NULL;
            continue;
        }
        if (rc != TETHER_ERR_TIMEOUT) break;
    }
    tether_liveview_unsubscribe(st->cam);
    if (rc == TETHER_OK && f == NULL) rc = TETHER_ERR_TIMEOUT;
    if (rc != TETHER_OK) {
        tether_frame_unref(f);
        return rc;
    }
    *out = f;
    return TETHER_OK;
}

/* A remote camera's /snapshot.jpg: its node's first frame that arrives
 * from now on (a lease is taken for it if nobody watches). */
static enum MHD_Result snapshot_remote(station *st, const http_request *r)
{
    rig_live_subscribe(st);
    int64_t after = clock_mono_ns(), deadline = after + 10000000000LL, at = 0;
    uint64_t seq = 0;
    blob *b = NULL;
    int rc = TETHER_ERR_TIMEOUT;
    while (clock_mono_ns() < deadline) {
        rc = rig_live_next(st, &seq, 1000, &b, &at);
        if (rc == TETHER_OK && at < after) { /* a frame from before: wait for a fresh one */
            blob_unref(b);
            b = NULL;
            continue;
        }
        if (rc != TETHER_ERR_TIMEOUT) break;
    }
    rig_live_unsubscribe(st);
    if (b == NULL)
        return http_error(r, 503, rc == TETHER_ERR_DISCONNECTED ? "camera_disconnected" : "no_frame",
                          "no live-view frame from node %s: %s", st->node,
                          rc == TETHER_ERR_DISCONNECTED ? "the node or its camera is away" : tether_strerror(rc));
    enum MHD_Result ret = http_bytes(r, 200, "image/jpeg", b->data, b->len, true);
    blob_unref(b);
    return ret;
}

enum MHD_Result stream_snapshot(station *st, const http_request *r)
{
    if (st->remote) return snapshot_remote(st, r);
    tether_frame *f = NULL;
    int rc = stream_fresh_frame(st, clock_mono_ns() - 1000000000, &f);
    if (rc != TETHER_OK)
        return http_error(r, 503, rc == TETHER_ERR_DISCONNECTED ? "camera_disconnected" : "no_frame",
                          "no live-view frame: %s", tether_strerror(rc));
    enum MHD_Result ret = http_bytes(r, 200, "image/jpeg", tether_frame_data(f), tether_frame_size(f), true);
    tether_frame_unref(f);
    return ret;
}

/* ---- server-sent events ------------------------------------------------------------ */

typedef struct sse_client {
    studio *s;
    uint64_t seq;
    char *pending;
    size_t off;
    int64_t last_sent_ns;
} sse_client;

enum { SSE_KEEPALIVE_MS = 15000 };

static ssize_t sse_read(void *cls, char *buf, size_t max)
{
    sse_client *c = cls;
    int64_t now = clock_mono_ns();
    if (c->pending == NULL) {
        if (c->s->stopping) return HTTP_STREAM_END;
        c->pending = hub_next(c->s, &c->seq, 0);
        if (c->pending == NULL && now - c->last_sent_ns >= (int64_t)SSE_KEEPALIVE_MS * 1000000)
            c->pending = strdup(": keep-alive\n\n");
        if (c->pending == NULL) return 0; /* parked until an event or the keep-alive tick */
        c->off = 0;
    }
    size_t len = strlen(c->pending) - c->off;
    size_t n = len < max ? len : max;
    memcpy(buf, c->pending + c->off, n);
    c->off += n;
    c->last_sent_ns = now;
    if (c->off == strlen(c->pending)) {
        free(c->pending);
        c->pending = NULL;
    }
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_client *c = cls;
    free(c->pending);
    free(c);
}

enum MHD_Result stream_events(studio *s, const http_request *r)
{
    sse_client *c = calloc(1, sizeof *c);
    if (c == NULL) return http_error(r, 503, "no_memory", "out of memory");
    c->s = s;
    pthread_mutex_lock(&s->events.lock);
    c->seq = s->events.next;
    pthread_mutex_unlock(&s->events.lock);
    const char *last = http_header(r, "Last-Event-ID");
    if (last) {
        unsigned long long v = strtoull(last, NULL, 10);
        if (v < c->seq) c->seq = v;
    }
    c->pending = strdup("retry: 2000\n\n");
    c->last_sent_ns = clock_mono_ns();
    static const char *const headers[] = {"X-Accel-Buffering", "no", NULL};
    return http_stream(r, "text/event-stream", headers, STREAM_WAKE_EVENTS, SSE_KEEPALIVE_MS, 16 * 1024,
                       sse_read, sse_free, c);
}

/* ---- the frame pump ------------------------------------------------------------ */

static void *pump_main(void *arg)
{
    station *st = arg;
    studio *s = st->s;
    log_set_thread_name("frame-pump");
    uint64_t seq = 0;
    while (!s->stopping && !st->stopping) {
        tether_frame *f = NULL;
        int rc = tether_liveview_next(st->cam, &seq, 500, &f);
        tether_frame_unref(f);
        if (rc == TETHER_OK) {
            studio_wake(s, st->wake_kind);
        }
        else if (rc == TETHER_ERR_CLOSED) break;
        else if (rc == TETHER_ERR_DISCONNECTED) clock_sleep_ns(100000000);
    }
    return NULL;
}

bool stream_pump_start(station *st)
{
    st->pump_started = pthread_create(&st->pump, NULL, pump_main, st) == 0;
    return st->pump_started;
}

void stream_pump_stop(station *st)
{
    if (st->pump_started) pthread_join(st->pump, NULL);
    st->pump_started = false;
}
