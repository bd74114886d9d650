/*
 * sony: the backend for Sony's Wi-Fi cameras of 2013-2017 through the
 * Camera Remote API (JSON-RPC over HTTP), with libcurl and jansson.  See
 * backend.h for the contract and ../shared/research/sony-camera-remote-api.md
 * for the protocol facts this follows.
 *
 * Specs: "sony" finds the first camera by SSDP (an M-SEARCH for
 * urn:schemas-sony-com:service:ScalarWebAPI:1 to 239.255.255.250:1900, or
 * to $TETHER_SSDP_TARGET=HOST:PORT; "none" there turns discovery off),
 * "sony:HOST[:PORT]" asks that address alone (port 1900 by default), and
 * "sony:URL" opens the device description at URL.  Endpoints come only
 * from the device description (ActionList_URL + "/" + service).
 *
 * Opening follows Sony's own sequence: getAvailableApiList, startRecMode
 * where listed (then the list again), getVersions to pick the getEvent
 * version, getEvent(false) for the whole state.  Then three kinds of work:
 *   - the owner thread's calls (settings, capture, downloads, probe), on
 *     one curl handle kept alive;
 *   - an event thread: one getEvent long poll at a time on its own
 *     handle, its replies applied to a state mirror (jsonrpc.c) and turned
 *     into tether events (a setting changed on the body, a shot's URL);
 *     a broken link is reported by wait_event as DISCONNECTED;
 *   - a live-view thread while live view runs: one startLiveview stream
 *     read through the streaming parser (liveview.c); each complete JPEG is
 *     pushed with backend_frame_deliver; a lost or stalled stream (no byte
 *     for 3 s) is reopened, asking startLiveview again after two failures.
 * Both threads stop at close through curl's progress callback.
 *
 * Settings are the camera's getEvent types ("isoSpeedRate"), read from the
 * mirror and getAvailable<X>; which can be written follows the API list
 * (set<X> listed).  Exposure compensation is shown in EV ("+0.7"), sent as
 * the camera's index (1/3 EV steps); the still size ("stillSize") as
 * "3:2 24M", sent as setStillSize's [aspect, size].  More: "touchaf" (text "X,Y" in
 * percent of the frame, or "off"), "halfpress" (an action) and "zoom" (the
 * power zoom's position; set in, out, in-start, out-start or stop), and
 * "focusframes" (read-only: the camera's focus frames from live view's
 * frame-info packets): the contract has no touch focus, optical zoom or
 * focus frames of its own yet.
 *
 * Errors: a camera's {"error":[code,msg]} becomes a tether error with
 * "sony: METHOD: error CODE (MSG)" as detail: 40401/40402 BUSY (the session
 * repeats), 3 BAD_VALUE, 12/14 NOT_SUPPORTED, others CAMERA; a link that
 * fails (refused, reset, timed out) is DISCONNECTED.
 *
 * The card: where the body lists avContent and setCameraFunction, files
 * are listed, downloaded and deleted in Contents Transfer (the switch is
 * asynchronous: wait until the body says so), paging getContentList by
 * 100; the body goes back to Remote Shooting when the program says it is
 * done with the card (tether_card_release, at the end of an import),
 * before the next shooting call, and at close.  Card paths are "/memoryCard1/FOLDER/NAME".
 *
 * Not done: RAW files on the card (listed as such, not tested).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "backends/backend.h"
#include "backends/sony/jsonrpc.h"
#include "backends/sony/liveview.h"
#include "base/clock.h"
#include "base/log.h"
#include "camera/values.h"

enum {
    MAX_REPLY = 1 << 20,        /* a JSON-RPC reply larger than this is refused */
    EVENT_QUEUE = 64,
    RECENT_URLS = 8,
    CALL_TIMEOUT_MS = 10000,
    SHOT_TIMEOUT_MS = 40000,    /* actTakePicture waits up to ~15 s on the body (kazyx #8) */
    POLL_TIMEOUT_MS = 70000,    /* a getEvent long poll */
};

struct backend {
    char spec[512];
    char err[512];
    sonydd_info dd;
    char camera_url[300];
    char av_url[300];           /* "" if the body lists no avContent service */
    bool in_transfer;           /* we switched the body to Contents Transfer */
    int n_files;                /* the card as last listed */
    struct card_entry {
        char path[512];         /* "/memoryCard1/100/DSC00001.JPG" */
        char url[512];
        char uri[128];
    } *files;
    char getevent_version[8];
    CURL *curl;                 /* the owner thread's */
    atomic_int next_id;

    pthread_mutex_t lock;       /* the mirror, the event queue, lost */
    pthread_cond_t changed;     /* the mirror changed, an event was queued, the link failed */
    sonyrpc_state st;
    tether_event queue[EVENT_QUEUE];
    int q_head, q_len;
    bool lost;
    char lost_why[256];
    char recent[RECENT_URLS][512];  /* shots this backend took: not reported as body shots */
    int n_recent;
    bool capturing;                 /* actTakePicture under way: its URL may come by getEvent first */
    char held[RECENT_URLS][512];    /* URLs getEvent gave meanwhile, told once the shot's own is known */
    int n_held;

    pthread_t ev_thread;
    bool ev_started;
    atomic_int stopping;        /* close: every thread ends */

    pthread_t lv_thread;
    bool lv_started;
    atomic_int lv_stop;
    char lv_url[512];
    backend_frame_sink *lv_sink;
    sonylv_stats lv_stats;      /* the last stream's, under lock */
    int lv_n_focus;             /* the last frame-info packet's focus frames (kept: up to 8) */
    sonylv_focus_frame lv_focus[8];
};

static int fail_msg(backend *b, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_msg(backend *b, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return err;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- HTTP ------------------------------------------------------------------------------ */

typedef struct http_body {
    bytebuf data;
    size_t limit;
    backend_sink *sink;         /* downloads: write here instead */
    int write_errno;            /* a local write failed */
    atomic_int *stop;           /* abort when set */
    sonylv_parser *lv;          /* live view: feed the parser */
    backend *b;
} http_body;

static size_t on_body(char *ptr, size_t size, size_t n, void *user);

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    http_body *h = user;
    return h->stop && atomic_load(h->stop) ? 1 : 0;
}

static CURL *new_handle(void)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (c == NULL) return NULL;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* the camera is on the local network */
    return c;
}

/* Is a curl failure the link's (the camera gone) rather than a reply's? */
static int curl_err(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: return TETHER_ERR_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK: return TETHER_ERR_CANCELLED;
    case CURLE_OUT_OF_MEMORY: return TETHER_ERR_NO_MEMORY;
    case CURLE_WRITE_ERROR: return TETHER_ERR_STORAGE;
    default: return TETHER_ERR_DISCONNECTED;
    }
}

/* One HTTP request on handle c: POST body (NULL: GET) to url into h.
 * Returns 0 with *status, or a tether error (detail in b->err). */
static int http(backend *b, CURL *c, const char *url, const char *body, long timeout_ms, http_body *h,
                long *status)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, h->stop ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    struct curl_slist *headers = NULL;
    if (body) {
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        int rc = curl_err(cc);
        if (cc == CURLE_WRITE_ERROR && h->write_errno) {
            rc = h->write_errno == ENOSPC || h->write_errno == EDQUOT ? TETHER_ERR_DISK_FULL : TETHER_ERR_STORAGE;
            return fail_msg(b, rc, "sony: cannot write the download: %s", strerror(h->write_errno));
        }
        if (cc == CURLE_WRITE_ERROR) rc = TETHER_ERR_CAMERA; /* over the size limit */
        return fail_msg(b, rc, "sony: %s: %s", url, curl_easy_strerror(cc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return TETHER_OK;
}

/* ---- JSON-RPC ---------------------------------------------------------------------------- */

static int camera_error(backend *b, const char *method, int code, const char *msg)
{
    int rc = TETHER_ERR_CAMERA;
    if (code == SONY_ERR_NOT_READY || code == SONY_ERR_ALREADY_POLLING) rc = TETHER_ERR_BUSY;
    else if (code == SONY_ERR_ILLEGAL_ARGUMENT) rc = TETHER_ERR_BAD_VALUE;
    else if (code == SONY_ERR_NO_SUCH_METHOD || code == SONY_ERR_UNSUPPORTED_VERSION) rc = TETHER_ERR_NOT_SUPPORTED;
    else if (code == SONY_ERR_TIMEOUT) rc = TETHER_ERR_TIMEOUT;
    return fail_msg(b, rc, "sony: %s: error %d (%s)", method, code, msg[0] ? msg : "no message");
}

/* Calls method on url with params (taken over) on handle c.  *result
 * (may be NULL) gets the result array; *code the camera's error code (0
 * if none).  Returns 0 or a tether error (detail in b->err). */
static int rpc_on(backend *b, CURL *c, atomic_int *stop, const char *url, const char *method, json_t *params,
                  const char *version, long timeout_ms, json_t **result, int *code)
{
    if (result) *result = NULL;
    if (code) *code = 0;
    int id = atomic_fetch_add(&b->next_id, 1) + 1;
    char *req = sonyrpc_request(method, params, id, version);
    if (req == NULL) return fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    http_body h = {.limit = MAX_REPLY, .stop = stop, .b = b};
    bytebuf_init(&h.data);
    long status = 0;
    int rc = http(b, c, url, req, timeout_ms, &h, &status);
    free(req);
    if (rc == TETHER_OK && status != 200)
        rc = fail_msg(b, status == 404 ? TETHER_ERR_NOT_SUPPORTED : TETHER_ERR_CAMERA,
                      "sony: %s: HTTP status %ld from %s", method, status, url);
    if (rc == TETHER_OK && !bytebuf_ok(&h.data)) rc = fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    if (rc != TETHER_OK) {
        bytebuf_free(&h.data);
        return rc;
    }
    sonyrpc_reply r;
    int pr = sonyrpc_parse_reply((const char *)h.data.data, h.data.len, &r);
    bytebuf_free(&h.data);
    if (pr == SONYRPC_MALFORMED)
        return fail_msg(b, TETHER_ERR_CAMERA, "sony: %s: %s", method, r.error_message);
    if (pr == SONYRPC_CAMERA_ERROR) {
        if (code) *code = r.error_code;
        return camera_error(b, method, r.error_code, r.error_message);
    }
    if (r.id >= 0 && r.id != id) {
        sonyrpc_reply_clear(&r);
        return fail_msg(b, TETHER_ERR_CAMERA, "sony: %s: reply to request %d, not %d", method, r.id, id);
    }
    if (result) *result = r.result;
    else sonyrpc_reply_clear(&r);
    return TETHER_OK;
}

/* The owner thread's call on the camera service. */
static int rpc(backend *b, const char *method, json_t *params, long timeout_ms, json_t **result, int *code)
{
    return rpc_on(b, b->curl, NULL, b->camera_url, method, params, "1.0", timeout_ms, result, code);
}

static bool listed(backend *b, const char *method)
{
    pthread_mutex_lock(&b->lock);
    bool yes = sonyrpc_api_listed(&b->st, method);
    pthread_mutex_unlock(&b->lock);
    return yes;
}

static int refresh_apis(backend *b)
{
    json_t *r = NULL;
    int rc = rpc(b, "getAvailableApiList", NULL, CALL_TIMEOUT_MS, &r, NULL);
    if (rc != TETHER_OK) return rc;
    pthread_mutex_lock(&b->lock);
    bool ok = sonyrpc_set_apis(&b->st, r) || b->st.apis_known;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    json_decref(r);
    return ok ? TETHER_OK : fail_msg(b, TETHER_ERR_CAMERA, "sony: getAvailableApiList: unreadable reply");
}

/* ---- discovery ------------------------------------------------------------------------------ */

static const char search_target[] = "urn:schemas-sony-com:service:ScalarWebAPI:1";

/* Sends one M-SEARCH to host:port and collects the LOCATIONs of answers
 * with our ST for wait_ms (or until the first, if first_only).  Returns
 * how many were found. */
static int ssdp_search(const char *host, int port, int wait_ms, bool first_only, char locs[][512], int max)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *ai = NULL;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    if (getaddrinfo(host, ports, &hints, &ai) != 0 || ai == NULL) return 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int found = 0;
    if (fd < 0) {
        freeaddrinfo(ai);
        return 0;
    }
    char msg[256];
    int len = snprintf(msg, sizeof msg,
                       "M-SEARCH * HTTP/1.1\r\nHOST: %s:%d\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: %s\r\n\r\n",
                       host, port, search_target);
    if (sendto(fd, msg, (size_t)len, 0, ai->ai_addr, ai->ai_addrlen) != len) goto done;
    int64_t deadline = clock_mono_ns() + (int64_t)wait_ms * 1000000;
    while (found < max) {
        int64_t left = (deadline - clock_mono_ns()) / 1000000;
        if (left <= 0) break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0) continue;
        char reply[2048];
        ssize_t n = recv(fd, reply, sizeof reply - 1, 0);
        if (n <= 0) continue;
        reply[n] = '\0';
        if (strncmp(reply, "HTTP/1.1 200", 12) != 0 || strstr(reply, search_target) == NULL) continue;
        char *line = reply, *loc = NULL;
        while (line && *line) { /* header names are case-insensitive; EXT: has no value */
            char *eol = strstr(line, "\r\n");
            if (eol) *eol = '\0';
            if (strncasecmp(line, "LOCATION:", 9) == 0) {
                loc = line + 9;
                while (*loc == ' ') loc++;
            }
            line = eol ? eol + 2 : NULL;
        }
        if (loc == NULL || strncmp(loc, "http://", 7) != 0) continue;
        bool dup = false;
        for (int i = 0; i < found; i++) dup |= strcmp(locs[i], loc) == 0;
        if (!dup) snprintf(locs[found++], 512, "%s", loc);
        if (first_only) break;
    }
done:
    close(fd);
    freeaddrinfo(ai);
    return found;
}

/* Where "sony" looks: $TETHER_SSDP_TARGET or the multicast group.  False
 * if discovery is off. */
static bool ssdp_target(char *host, size_t hsz, int *port, bool *unicast)
{
    const char *t = getenv("TETHER_SSDP_TARGET");
    if (t && strcmp(t, "none") == 0) return false;
    if (t && *t) {
        const char *colon = strrchr(t, ':');
        if (colon == NULL || colon == t || (size_t)(colon - t) >= hsz) return false;
        snprintf(host, hsz, "%.*s", (int)(colon - t), t);
        *port = atoi(colon + 1);
        *unicast = true;
        return *port > 0 && *port < 65536;
    }
    snprintf(host, hsz, "239.255.255.250");
    *port = 1900;
    *unicast = false;
    return true;
}

/* GETs url into out (terminated), at most MAX_REPLY bytes. */
static int fetch_text(backend *b, CURL *c, const char *url, bytebuf *out)
{
    http_body h = {.limit = MAX_REPLY, .b = b};
    bytebuf_init(&h.data);
    long status = 0;
    int rc = http(b, c, url, NULL, CALL_TIMEOUT_MS, &h, &status);
    if (rc == TETHER_OK && status != 200) rc = fail_msg(b, TETHER_ERR_CAMERA, "sony: %s: HTTP status %ld", url, status);
    bytebuf_put_u8(&h.data, 0);
    if (rc == TETHER_OK && !bytebuf_ok(&h.data)) rc = fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    if (rc != TETHER_OK) bytebuf_free(&h.data);
    *out = h.data;
    return rc;
}

/* Reads the device description at url into dd. */
static int read_description(backend *b, CURL *c, const char *url, sonydd_info *dd)
{
    bytebuf xml;
    int rc = fetch_text(b, c, url, &xml);
    if (rc != TETHER_OK) return rc;
    bool ok = sonydd_parse((const char *)xml.data, xml.len - 1, dd);
    bytebuf_free(&xml);
    if (!ok) return fail_msg(b, TETHER_ERR_CAMERA, "sony: %s lists no Camera Remote API service", url);
    return TETHER_OK;
}

static int sony_list_cameras(tether_camera_info *out, int max, int *count)
{
    *count = 0;
    char host[128];
    int port;
    bool unicast;
    if (!ssdp_target(host, sizeof host, &port, &unicast)) return TETHER_OK;
    char locs[8][512];
    int n = ssdp_search(host, port, unicast ? 1000 : 1200, unicast, locs, 8); /* one address: one answer */
    backend *tmp = n > 0 ? calloc(1, sizeof *tmp) : NULL; /* for the error text */
    CURL *c = tmp ? new_handle() : NULL;
    for (int i = 0; i < n && c; i++) {
        sonydd_info dd;
        if (read_description(tmp, c, locs[i], &dd) != TETHER_OK) continue;
        if (*count < max) {
            tether_camera_info *ci = &out[*count];
            memset(ci, 0, sizeof *ci);
            snprintf(ci->model, sizeof ci->model, "Sony %s", dd.friendly_name[0] ? dd.friendly_name : "camera");
            snprintf(ci->spec, sizeof ci->spec, "sony:%s", locs[i]);
        }
        (*count)++;
    }
    if (c) curl_easy_cleanup(c);
    free(tmp);
    return TETHER_OK;
}

static bool sony_accepts(const char *spec)
{
    return strcmp(spec, "sony") == 0 || strncmp(spec, "sony:", 5) == 0;
}

static bool sony_may_have_moved(const char *spec)
{
    (void)spec;
    return false; /* a spec names one address; "sony" searches by itself */
}

/* The device description URL of spec into url. */
static int resolve_spec(backend *b, const char *spec, char *url, size_t size)
{
    const char *rest = spec[4] == ':' ? spec + 5 : "";
    if (strncmp(rest, "http://", 7) == 0) {
        snprintf(url, size, "%s", rest);
        return TETHER_OK;
    }
    char host[128];
    int port = 1900;
    bool unicast = true;
    if (*rest) {
        const char *colon = strrchr(rest, ':');
        if (colon && strchr(rest, ':') == colon) {
            snprintf(host, sizeof host, "%.*s", (int)(colon - rest), rest);
            port = atoi(colon + 1);
        } else {
            snprintf(host, sizeof host, "%s", rest);
        }
        if (port <= 0 || port > 65535 || host[0] == '\0')
            return fail_msg(b, TETHER_ERR_INVALID_ARGUMENT, "sony: bad spec \"%s\" (sony, sony:HOST[:PORT] or sony:URL)", spec);
    } else if (!ssdp_target(host, sizeof host, &port, &unicast)) {
        return fail_msg(b, TETHER_ERR_NO_CAMERA, "sony: discovery is off (TETHER_SSDP_TARGET=none)");
    }
    char locs[1][512];
    if (ssdp_search(host, port, unicast ? 1500 : 1200, true, locs, 1) == 0)
        return fail_msg(b, TETHER_ERR_NO_CAMERA, "sony: no camera answered SSDP at %s:%d", host, port);
    snprintf(url, size, "%s", locs[0]);
    return TETHER_OK;
}

/* ---- events ---------------------------------------------------------------------------------- */

/* Queues an event (lock held). */
static void queue_event(backend *b, tether_event_type type, const char *path, const char *detail)
{
    if (b->q_len == EVENT_QUEUE) { /* the oldest goes */
        b->q_head = (b->q_head + 1) % EVENT_QUEUE;
        b->q_len--;
    }
    tether_event *ev = &b->queue[(b->q_head + b->q_len++) % EVENT_QUEUE];
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->time_ns = clock_mono_ns();
    if (path) snprintf(ev->path, sizeof ev->path, "%s", path);
    if (detail) snprintf(ev->detail, sizeof ev->detail, "%s", detail);
    pthread_cond_broadcast(&b->changed);
}

/* The settings this backend shows, by mirror field. */
static const struct {
    sonyrpc_field field;
    const char *suffix;         /* get<suffix>, set<suffix>, getAvailable<suffix> */
    const char *label;
} setting_table[] = {
    {SONYF_EXPOSURE_MODE, "ExposureMode", "Exposure mode"},
    {SONYF_FNUMBER, "FNumber", "Aperture"},
    {SONYF_SHUTTER_SPEED, "ShutterSpeed", "Shutter speed"},
    {SONYF_ISO, "IsoSpeedRate", "ISO speed"},
    {SONYF_EXPOSURE_COMPENSATION, "ExposureCompensation", "Exposure compensation"},
    {SONYF_WHITE_BALANCE, "WhiteBalance", "White balance"},
    {SONYF_FOCUS_MODE, "FocusMode", "Focus mode"},
    {SONYF_SHOOT_MODE, "ShootMode", "Shoot mode"},
    {SONYF_POSTVIEW_SIZE, "PostviewImageSize", "Postview size"},
    {SONYF_BEEP_MODE, "BeepMode", "Beep"},
    {SONYF_STILL_SIZE, "StillSize", "Still size"},
};
enum { N_SETTINGS = sizeof setting_table / sizeof setting_table[0] };

/* Exposure compensation index -> "+0.7" (1/3 EV steps). */
static void ev_text(const char *index, char *out, size_t size)
{
    int i = atoi(index);
    if (i == 0) snprintf(out, size, "0");
    else snprintf(out, size, "%+.1f", i / 3.0);
}

static void apply_changes(backend *b, const sonyrpc_changes *ch, bool report)
{
    if (!report) return;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        sonyrpc_field f = setting_table[i].field;
        if (!(ch->fields & (1u << f))) continue;
        char value[64];
        if (f == SONYF_EXPOSURE_COMPENSATION) ev_text(b->st.fields[f].current, value, sizeof value);
        else snprintf(value, sizeof value, "%s", b->st.fields[f].current);
        queue_event(b, TETHER_EVENT_SETTING_CHANGED, sonyrpc_field_type(f), value);
    }
    for (int i = 0; i < ch->n_urls; i++) {
        bool ours = false;
        for (int k = 0; k < b->n_recent; k++) ours |= strcmp(b->recent[k], ch->urls[i]) == 0;
        if (ours) continue;
        if (b->capturing && b->n_held < RECENT_URLS) snprintf(b->held[b->n_held++], sizeof b->held[0], "%s", ch->urls[i]);
        else queue_event(b, TETHER_EVENT_FILE_ADDED, ch->urls[i], "a shot taken on the camera");
    }
}

static void *event_main(void *arg)
{
    backend *b = arg;
    log_set_thread_name("sony-events");
    CURL *c = new_handle();
    backend *tmp = calloc(1, sizeof *tmp); /* this thread's own error text and request ids */
    char why[512] = "";
    if (tmp) atomic_init(&tmp->next_id, 1000000);
    while (c && tmp && !atomic_load(&b->stopping)) {
        json_t *result = NULL;
        int code = 0;
        char version[8];
        pthread_mutex_lock(&b->lock);
        snprintf(version, sizeof version, "%s", b->getevent_version);
        pthread_mutex_unlock(&b->lock);
        int rc = rpc_on(tmp, c, &b->stopping, b->camera_url, "getEvent", json_pack("[b]", 1), version,
                        POLL_TIMEOUT_MS, &result, &code);
        if (atomic_load(&b->stopping)) {
            json_decref(result);
            break;
        }
        if (rc == TETHER_OK) {
            sonyrpc_changes ch;
            pthread_mutex_lock(&b->lock);
            sonyrpc_event_apply(&b->st, result, &ch);
            apply_changes(b, &ch, true);
            pthread_cond_broadcast(&b->changed);
            pthread_mutex_unlock(&b->lock);
            json_decref(result);
            continue;
        }
        if (code == SONY_ERR_TIMEOUT) continue; /* no news: ask again at once */
        if (code == SONY_ERR_UNSUPPORTED_VERSION) {
            pthread_mutex_lock(&b->lock);
            snprintf(b->getevent_version, sizeof b->getevent_version, "1.0");
            pthread_mutex_unlock(&b->lock);
            continue;
        }
        if (code != 0 || rc == TETHER_ERR_TIMEOUT) { /* 40402 and the like: back off a second */
            for (int i = 0; i < 20 && !atomic_load(&b->stopping); i++) clock_sleep_ns(50000000);
            continue;
        }
        snprintf(why, sizeof why, "%s", tmp->err);
        break; /* the link failed */
    }
    free(tmp);
    if (c) curl_easy_cleanup(c);
    pthread_mutex_lock(&b->lock);
    if (!atomic_load(&b->stopping)) {
        b->lost = true;
        snprintf(b->lost_why, sizeof b->lost_why, "%s", why[0] ? why : "sony: the event connection failed");
        pthread_cond_broadcast(&b->changed);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static int sony_wait_event(backend *b, int timeout_ms, tether_event *ev)
{
    pthread_mutex_lock(&b->lock);
    if (b->q_len == 0 && !b->lost && timeout_ms > 0) {
        int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
        struct timespec ts = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)};
        while (b->q_len == 0 && !b->lost && pthread_cond_timedwait(&b->changed, &b->lock, &ts) == 0) {
        }
    }
    int rc = TETHER_ERR_TIMEOUT;
    if (b->q_len > 0) {
        *ev = b->queue[b->q_head];
        b->q_head = (b->q_head + 1) % EVENT_QUEUE;
        b->q_len--;
        rc = TETHER_OK;
    } else if (b->lost) {
        rc = fail_msg(b, TETHER_ERR_DISCONNECTED, "%s", b->lost_why);
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* ---- opening ----------------------------------------------------------------------------------- */

static void sony_close(backend *b);
static bool can_transfer(backend *b);
static int switch_function(backend *b, const char *want);
static int ensure_shooting(backend *b);

static int sony_open(const char *spec, backend **out, char *err, size_t errsz)
{
    *out = NULL;
    backend *b = calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(err, errsz, "out of memory");
        return TETHER_ERR_NO_MEMORY;
    }
    snprintf(b->spec, sizeof b->spec, "%s", spec);
    pthread_mutex_init(&b->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->changed, &ca);
    pthread_condattr_destroy(&ca);
    sonyrpc_state_init(&b->st);
    snprintf(b->getevent_version, sizeof b->getevent_version, "1.0");
    b->curl = new_handle();
    char url[512];
    json_t *r = NULL;
    int rc = b->curl ? TETHER_OK : fail_msg(b, TETHER_ERR_NO_MEMORY, "sony: cannot make a curl handle");
    if (rc == TETHER_OK) rc = resolve_spec(b, spec, url, sizeof url);
    if (rc == TETHER_OK) rc = read_description(b, b->curl, url, &b->dd);
    if (rc == TETHER_OK && !sonydd_endpoint(&b->dd, "camera", b->camera_url, sizeof b->camera_url))
        rc = fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "sony: %s lists no camera service", url);
    if (rc == TETHER_OK) sonydd_endpoint(&b->dd, "avContent", b->av_url, sizeof b->av_url);
    /* a body just connected may answer Not Ready for a moment (rocc #20) */
    for (int i = 0; i < 10 && rc == TETHER_OK; i++) {
        rc = refresh_apis(b);
        if (rc != TETHER_ERR_BUSY) break;
        clock_sleep_ns(200000000);
    }
    if (rc == TETHER_OK && listed(b, "startRecMode")) {
        for (int i = 0; i < 10; i++) {
            rc = rpc(b, "startRecMode", NULL, CALL_TIMEOUT_MS, NULL, NULL);
            if (rc != TETHER_ERR_BUSY) break;
            clock_sleep_ns(200000000);
        }
        if (rc == TETHER_OK) rc = refresh_apis(b);
    }
    if (rc == TETHER_OK && rpc(b, "getVersions", NULL, CALL_TIMEOUT_MS, &r, NULL) == TETHER_OK) {
        sonyrpc_pick_version(r, "1.4", b->getevent_version, sizeof b->getevent_version);
        json_decref(r);
        r = NULL;
    }
    if (rc == TETHER_OK) {
        int code = 0;
        rc = rpc_on(b, b->curl, NULL, b->camera_url, "getEvent", json_pack("[b]", 0), b->getevent_version,
                    CALL_TIMEOUT_MS, &r, &code);
        if (code == SONY_ERR_UNSUPPORTED_VERSION) {
            snprintf(b->getevent_version, sizeof b->getevent_version, "1.0");
            rc = rpc_on(b, b->curl, NULL, b->camera_url, "getEvent", json_pack("[b]", 0), "1.0", CALL_TIMEOUT_MS,
                        &r, &code);
        }
        if (rc == TETHER_OK) {
            sonyrpc_changes ch;
            sonyrpc_event_apply(&b->st, r, &ch);
            json_decref(r);
        }
    }
    if (rc == TETHER_OK) {
        if (pthread_create(&b->ev_thread, NULL, event_main, b) == 0) b->ev_started = true;
        else rc = fail_msg(b, TETHER_ERR_NO_MEMORY, "sony: cannot start the event thread");
    }
    if (rc != TETHER_OK) {
        snprintf(err, errsz, "%s", b->err);
        sony_close(b);
        return rc;
    }
    LOG_INFO("sony", "opened %s at %s (getEvent %s)", b->dd.friendly_name, b->camera_url, b->getevent_version);
    *out = b;
    return TETHER_OK;
}

static int sony_liveview_stop(backend *b);

static void sony_close(backend *b)
{
    if (b == NULL) return;
    if (b->in_transfer) switch_function(b, "Remote Shooting"); /* leave the body shooting */
    atomic_store(&b->stopping, 1);
    if (b->lv_started) sony_liveview_stop(b);
    if (b->ev_started) pthread_join(b->ev_thread, NULL);
    if (b->curl) curl_easy_cleanup(b->curl);
    free(b->files);
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static const char *sony_last_error(backend *b) { return b->err; }

static void sony_model(backend *b, char *buf, size_t size)
{
    snprintf(buf, size, "Sony %s", b->dd.friendly_name[0] ? b->dd.friendly_name : "camera");
}

static void sony_capabilities(backend *b, tether_capabilities *out)
{
    snprintf(out->backend, sizeof out->backend, "sony");
    out->bits = TETHER_CAP_CAPTURE_TO_HOST | TETHER_CAP_BODY_SHOTS | TETHER_CAP_SETTINGS;
    if (listed(b, "startLiveview")) {
        out->bits |= TETHER_CAP_LIVEVIEW | TETHER_CAP_LIVEVIEW_PUSH;
        out->liveview_formats = 1u << TETHER_PIXEL_JPEG;
    }
    if (listed(b, "actHalfPressShutter")) out->bits |= TETHER_CAP_HALF_PRESS;
    if (can_transfer(b)) out->bits |= TETHER_CAP_CARD_FILES;
    out->focus.kind = TETHER_FOCUS_NONE; /* touch AF is the "touchaf" setting */
    out->focus.zoom_max = 1;
    out->focus.backlash = -1;
}

static int sony_probe(backend *b)
{
    return rpc(b, "getVersions", NULL, 3000, NULL, NULL);
}

/* ---- settings ---------------------------------------------------------------------------------- */

enum { EXTRA_BATTERY = N_SETTINGS, EXTRA_SHOTS, EXTRA_STATUS, EXTRA_SERIAL, EXTRA_TOUCH, EXTRA_HALF, EXTRA_ZOOM,
       EXTRA_FRAMES, N_ALL };

static const char *const extra_names[] = {"battery", "shotsleft", "camerastatus", "serialnumber", "touchaf",
                                          "halfpress", "zoom", "focusframes"};

/* Which setting a name or path ("/sony/camera/isoSpeedRate") means; -1 if none. */
static int setting_index(const char *name)
{
    const char *p = strncmp(name, "/sony/camera/", 13) == 0 ? name + 13 : name;
    for (int i = 0; i < N_SETTINGS; i++)
        if (strcmp(p, sonyrpc_field_type(setting_table[i].field)) == 0) return i;
    for (int i = 0; i < N_ALL - N_SETTINGS; i++)
        if (strcmp(p, extra_names[i]) == 0) return N_SETTINGS + i;
    return -1;
}

static const char *setting_name(int i)
{
    return i < N_SETTINGS ? sonyrpc_field_type(setting_table[i].field) : extra_names[i - N_SETTINGS];
}

/* Does this camera have setting i at all? */
static bool has_setting(backend *b, int i)
{
    if (i == EXTRA_HALF) return listed(b, "actHalfPressShutter");
    if (i == EXTRA_ZOOM) return listed(b, "actZoom");
    if (i == EXTRA_BATTERY) { /* getEvent 1.2 and later: batteryInfo */
        pthread_mutex_lock(&b->lock);
        bool known = b->st.fields[SONYF_BATTERY].known;
        pthread_mutex_unlock(&b->lock);
        return known;
    }
    if (i >= N_SETTINGS) return true;
    char m[64];
    snprintf(m, sizeof m, "get%s", setting_table[i].suffix);
    pthread_mutex_lock(&b->lock);
    bool yes = sonyrpc_api_listed(&b->st, m) || b->st.fields[setting_table[i].field].known;
    pthread_mutex_unlock(&b->lock);
    return yes;
}

static int set_choices(tether_setting *s, const sonyrpc_value *v, bool ev)
{
    if (v->n_candidates <= 0) return TETHER_OK;
    s->choices = calloc((size_t)v->n_candidates, sizeof *s->choices);
    if (s->choices == NULL) return TETHER_ERR_NO_MEMORY;
    for (int k = 0; k < v->n_candidates; k++) {
        char text[32];
        if (ev) ev_text(v->candidates[k], text, sizeof text);
        else snprintf(text, sizeof text, "%s", v->candidates[k]);
        s->choices[k] = strdup(text);
        if (s->choices[k] == NULL) return TETHER_ERR_NO_MEMORY;
        s->n_choices = k + 1;
    }
    return TETHER_OK;
}

static int read_setting(backend *b, int i, tether_setting *out)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || !has_setting(b, i)) return fail_msg(b, TETHER_ERR_NOT_FOUND, "sony: no such setting on this camera");
    snprintf(out->name, sizeof out->name, "%s", setting_name(i));
    snprintf(out->path, sizeof out->path, "/sony/camera/%s", setting_name(i));
    out->read_only = true;
    out->type = TETHER_SETTING_TEXT;
    if (i >= N_SETTINGS) {
        pthread_mutex_lock(&b->lock);
        switch (i) {
        case EXTRA_BATTERY:
            snprintf(out->label, sizeof out->label, "Battery level");
            if (b->st.fields[SONYF_BATTERY].known) snprintf(out->value, sizeof out->value, "%s%%", b->st.fields[SONYF_BATTERY].current);
            break;
        case EXTRA_SHOTS:
            snprintf(out->label, sizeof out->label, "Shots left");
            snprintf(out->value, sizeof out->value, "%s", b->st.fields[SONYF_SHOTS_LEFT].current);
            break;
        case EXTRA_STATUS:
            snprintf(out->label, sizeof out->label, "Camera status");
            snprintf(out->value, sizeof out->value, "%s", b->st.fields[SONYF_CAMERA_STATUS].current);
            break;
        case EXTRA_SERIAL: {
            snprintf(out->label, sizeof out->label, "Serial number (UDN)");
            const char *u = b->dd.udn;
            snprintf(out->value, sizeof out->value, "%s", strncmp(u, "uuid:", 5) == 0 ? u + 5 : u);
            break;
        }
        case EXTRA_TOUCH:
            snprintf(out->label, sizeof out->label, "Touch AF position (X,Y percent, or off)");
            snprintf(out->value, sizeof out->value, "%s",
                     strcmp(b->st.fields[SONYF_TOUCH_AF].current, "true") == 0 ? "set" : "off");
            out->read_only = !sonyrpc_api_listed(&b->st, "setTouchAFPosition");
            break;
        case EXTRA_FRAMES: { /* from live view's frame-info packets: "L,T,R,B STATUS" per frame, 0..10000 */
            static const char *const states[] = {"invalid", "normal", "main", "sub", "focused"};
            snprintf(out->label, sizeof out->label, "Focus frames in live view (left,top,right,bottom of 10000; status)");
            size_t len = 0;
            for (int k = 0; k < b->lv_n_focus && len < sizeof out->value; k++) {
                const sonylv_focus_frame *f = &b->lv_focus[k];
                len += (size_t)snprintf(out->value + len, sizeof out->value - len, "%s%d,%d,%d,%d %s", k ? "; " : "",
                                        f->left, f->top, f->right, f->bottom,
                                        f->status < 5 ? states[f->status] : "other");
            }
            break;
        }
        case EXTRA_ZOOM:
            snprintf(out->label, sizeof out->label, "Power zoom position 0..100 (set: in, out, in-start, out-start, stop)");
            snprintf(out->value, sizeof out->value, "%s", b->st.fields[SONYF_ZOOM_POSITION].current);
            out->read_only = false;
            break;
        default:
            snprintf(out->label, sizeof out->label, "Half-press the shutter (autofocus)");
            out->type = TETHER_SETTING_ACTION;
            out->read_only = false;
            break;
        }
        pthread_mutex_unlock(&b->lock);
        return TETHER_OK;
    }
    sonyrpc_field f = setting_table[i].field;
    snprintf(out->label, sizeof out->label, "%s", setting_table[i].label);
    static const char *const canon[][2] = {{"isoSpeedRate", "iso"}, {"fNumber", "aperture"},
        {"shutterSpeed", "shutterspeed"}, {"exposureCompensation", "exposurecompensation"},
        {"whiteBalance", "whitebalance"}, {"focusMode", "focusmode"}, {"exposureMode", "exposuremode"}};
    for (size_t k = 0; k < sizeof canon / sizeof canon[0]; k++)
        if (strcmp(canon[k][0], setting_name(i)) == 0) snprintf(out->canonical, sizeof out->canonical, "%s", canon[k][1]);
    /* the camera's current choices, where it answers getAvailable<X> */
    char m[64];
    snprintf(m, sizeof m, "getAvailable%s", setting_table[i].suffix);
    sonyrpc_value v;
    bool fresh = false;
    if (listed(b, m)) {
        json_t *r = NULL;
        int rc = rpc(b, m, NULL, CALL_TIMEOUT_MS, &r, NULL);
        if (rc != TETHER_OK) return rc;
        fresh = sonyrpc_read_available(r, &v);
        json_decref(r);
    }
    pthread_mutex_lock(&b->lock);
    if (!fresh) v = b->st.fields[f];
    else b->st.fields[f].known = true, snprintf(b->st.fields[f].current, sizeof b->st.fields[f].current, "%s", v.current);
    snprintf(m, sizeof m, "set%s", setting_table[i].suffix);
    bool writable = sonyrpc_api_listed(&b->st, m);
    pthread_mutex_unlock(&b->lock);
    bool ev = f == SONYF_EXPOSURE_COMPENSATION;
    if (ev) ev_text(v.current, out->value, sizeof out->value);
    else snprintf(out->value, sizeof out->value, "%s", v.current);
    if (v.n_candidates > 0) {
        out->type = TETHER_SETTING_CHOICE;
        out->read_only = !writable;
        if (set_choices(out, &v, ev) != TETHER_OK) {
            tether_setting_clear(out);
            return fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
        }
    }
    return TETHER_OK;
}

static int sony_setting_get(backend *b, const char *name, tether_setting *out)
{
    int i = setting_index(name);
    if (i < 0) {
        memset(out, 0, sizeof *out);
        return fail_msg(b, TETHER_ERR_NOT_FOUND, "sony: no setting \"%s\"", name);
    }
    return read_setting(b, i, out);
}

static int sony_settings_list(backend *b, tether_settings **out)
{
    tether_settings *s = calloc(1, sizeof *s);
    if (s) s->items = calloc(N_ALL, sizeof *s->items);
    if (s == NULL || s->items == NULL) {
        free(s);
        return fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < N_ALL; i++) {
        if (!has_setting(b, i)) continue;
        int rc = read_setting(b, i, &s->items[s->count]);
        if (rc == TETHER_ERR_NOT_FOUND) continue;
        if (rc != TETHER_OK) {
            tether_settings_free(s);
            return rc;
        }
        s->count++;
    }
    *out = s;
    return TETHER_OK;
}

static int sony_resolve(backend *b, const char *canonical, char *native, size_t size, bool *writable)
{
    static const char *const map[][2] = {{"iso", "isoSpeedRate"}, {"aperture", "fNumber"},
        {"shutterspeed", "shutterSpeed"}, {"exposurecompensation", "exposureCompensation"},
        {"whitebalance", "whiteBalance"}, {"focusmode", "focusMode"}, {"exposuremode", "exposureMode"},
        {"battery", "battery"}, {"shotsleft", "shotsleft"}, {"serialnumber", "serialnumber"}};
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if (strcmp(map[k][0], canonical) != 0) continue;
        int i = setting_index(map[k][1]);
        if (i < 0 || !has_setting(b, i)) break;
        snprintf(native, size, "%s", map[k][1]);
        char m[64] = "";
        if (i < N_SETTINGS) snprintf(m, sizeof m, "set%s", setting_table[i].suffix);
        *writable = m[0] && listed(b, m);
        return TETHER_OK;
    }
    return fail_msg(b, TETHER_ERR_NOT_FOUND, "sony: no setting \"%s\" on this camera", canonical);
}

static int touch_af(backend *b, const char *value)
{
    if (strcmp(value, "off") == 0) return rpc(b, "cancelTouchAFPosition", NULL, CALL_TIMEOUT_MS, NULL, NULL);
    double x, y;
    char extra;
    if (sscanf(value, "%lf,%lf%c", &x, &y, &extra) != 2 || !(x >= 0 && x <= 100 && y >= 0 && y <= 100))
        return fail_msg(b, TETHER_ERR_BAD_VALUE, "sony: touchaf takes X,Y in percent of the frame (0..100), or off");
    json_t *r = NULL;
    int rc = rpc(b, "setTouchAFPosition", json_pack("[f,f]", x, y), SHOT_TIMEOUT_MS, &r, NULL);
    if (rc != TETHER_OK) return rc;
    json_t *af = json_object_get(json_array_get(r, 1), "AFResult");
    bool failed = json_is_false(af);
    json_decref(r);
    if (failed) return fail_msg(b, TETHER_ERR_CAMERA, "sony: setTouchAFPosition: the camera could not focus there");
    return TETHER_OK;
}

static int sony_setting_set(backend *b, const char *name, const char *value)
{
    int back = ensure_shooting(b);
    if (back != TETHER_OK) return back;
    int i = setting_index(name);
    if (i == EXTRA_TOUCH) return touch_af(b, value);
    if (i == EXTRA_HALF) return rpc(b, "actHalfPressShutter", NULL, SHOT_TIMEOUT_MS, NULL, NULL);
    if (i == EXTRA_ZOOM) { /* actZoom: a step, or a move started and stopped */
        static const char *const moves[][3] = {{"in", "in", "1shot"}, {"out", "out", "1shot"},
            {"in-start", "in", "start"}, {"out-start", "out", "start"}, {"stop", "in", "stop"}};
        for (size_t k = 0; k < sizeof moves / sizeof moves[0]; k++)
            if (strcmp(value, moves[k][0]) == 0)
                return rpc(b, "actZoom", json_pack("[s,s]", moves[k][1], moves[k][2]), CALL_TIMEOUT_MS, NULL, NULL);
        return fail_msg(b, TETHER_ERR_BAD_VALUE, "sony: zoom takes in, out, in-start, out-start or stop");
    }
    tether_setting s;
    int rc = sony_setting_get(b, name, &s);
    if (rc != TETHER_OK) return rc;
    values_parsed v;
    rc = values_parse(&s, value, &v, b->err, sizeof b->err);
    if (rc != TETHER_OK || s.type != TETHER_SETTING_CHOICE) {
        tether_setting_clear(&s);
        return rc != TETHER_OK ? rc : fail_msg(b, TETHER_ERR_READ_ONLY, "sony: %s cannot be set", name);
    }
    sonyrpc_field f = setting_table[i].field;
    char sony_value[32];
    /* the choices are the candidates of getAvailable<X>, in order */
    sonyrpc_value fresh;
    bool have = false;
    char m[64];
    snprintf(m, sizeof m, "getAvailable%s", setting_table[i].suffix);
    json_t *r = NULL;
    if (rpc(b, m, NULL, CALL_TIMEOUT_MS, &r, NULL) == TETHER_OK) have = sonyrpc_read_available(r, &fresh);
    json_decref(r);
    if (!have || v.choice < 0 || v.choice >= fresh.n_candidates) {
        tether_setting_clear(&s);
        return fail_msg(b, TETHER_ERR_BUSY, "sony: the choices of %s changed meanwhile", name);
    }
    snprintf(sony_value, sizeof sony_value, "%s", fresh.candidates[v.choice]);
    tether_setting_clear(&s);
    json_t *params;
    if (f == SONYF_EXPOSURE_COMPENSATION) params = json_pack("[i]", atoi(sony_value));
    else if (f == SONYF_WHITE_BALANCE) params = json_pack("[s,b,i]", sony_value, 0, -1);
    else if (f == SONYF_STILL_SIZE && strchr(sony_value, ' ')) /* "3:2 24M" -> ["3:2", "24M"] */
        params = json_pack("[s%,s]", sony_value, strcspn(sony_value, " "), strchr(sony_value, ' ') + 1);
    else params = json_pack("[s]", sony_value);
    snprintf(m, sizeof m, "set%s", setting_table[i].suffix);
    rc = rpc(b, m, params, CALL_TIMEOUT_MS, NULL, NULL);
    if (rc == TETHER_OK) {
        pthread_mutex_lock(&b->lock);
        snprintf(b->st.fields[f].current, sizeof b->st.fields[f].current, "%s", sony_value);
        pthread_mutex_unlock(&b->lock);
    }
    return rc;
}

static int sony_summary(backend *b, char **text)
{
    pthread_mutex_lock(&b->lock);
    char *s = NULL;
    int n = asprintf(&s,
                     "Model: Sony %s\nManufacturer: Sony Corporation\nDevice: %s\nCamera API: %s\n"
                     "getEvent version: %s\nCamera status: %s\nBattery: %s%s\nShots left: %s\nAPIs available: %d\n",
                     b->dd.friendly_name, b->dd.udn, b->camera_url, b->getevent_version,
                     b->st.fields[SONYF_CAMERA_STATUS].current, b->st.fields[SONYF_BATTERY].known ? b->st.fields[SONYF_BATTERY].current : "unknown",
                     b->st.fields[SONYF_BATTERY].known ? "%" : "", b->st.fields[SONYF_SHOTS_LEFT].current, b->st.n_apis);
    pthread_mutex_unlock(&b->lock);
    if (n < 0) return fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    *text = s;
    return TETHER_OK;
}

/* ---- Contents Transfer (the card) ------------------------------------------------------------ */

static bool can_transfer(backend *b)
{
    return b->av_url[0] && listed(b, "setCameraFunction");
}

/* Switches the body's function ("Remote Shooting", "Contents Transfer")
 * and waits until it says so (the switch is asynchronous: getEvent's
 * cameraFunction, or getCameraFunction), at most 10 s. */
static int switch_function(backend *b, const char *want)
{
    int rc = rpc(b, "setCameraFunction", json_pack("[s]", want), CALL_TIMEOUT_MS, NULL, NULL);
    if (rc != TETHER_OK) return rc;
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&b->lock);
        bool done = strcmp(b->st.fields[SONYF_CAMERA_FUNCTION].current, want) == 0;
        pthread_mutex_unlock(&b->lock);
        json_t *r = NULL;
        if (!done && rpc(b, "getCameraFunction", NULL, CALL_TIMEOUT_MS, &r, NULL) == TETHER_OK) {
            const char *now = json_string_value(json_array_get(r, 0));
            done = now && strcmp(now, want) == 0;
        }
        json_decref(r);
        if (done) {
            b->in_transfer = strcmp(want, "Contents Transfer") == 0;
            return refresh_apis(b);
        }
        clock_sleep_ns(100000000);
    }
    return fail_msg(b, TETHER_ERR_TIMEOUT, "sony: the camera did not switch to %s", want);
}

/* Back to shooting after the card was read (before any shooting call). */
static int ensure_shooting(backend *b)
{
    return b->in_transfer ? switch_function(b, "Remote Shooting") : TETHER_OK;
}

static int av_call(backend *b, const char *method, json_t *params, const char *version, json_t **result)
{
    return rpc_on(b, b->curl, NULL, b->av_url, method, params, version, CALL_TIMEOUT_MS, result, NULL);
}

/* "2026-12-06T03:41:00Z" (or with an offset) -> epoch seconds; 0 if unreadable. */
static int64_t iso_time(const char *s)
{
    struct tm tm = {0};
    int oh = 0, om = 0;
    char sign = 0;
    int n = sscanf(s, "%d-%d-%dT%d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &sign, &oh, &om);
    if (n < 6) return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t t = (int64_t)timegm(&tm);
    if (n >= 8 && (sign == '+' || sign == '-')) t -= (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    return t;
}

/* A file's size from a HEAD request on its URL (getContentList gives
 * none); 0 if the camera does not say. */
static uint64_t content_size(backend *b, const char *url)
{
    curl_easy_setopt(b->curl, CURLOPT_NOBODY, 1L);
    http_body h = {.limit = 0, .b = b};
    bytebuf_init(&h.data);
    long status = 0;
    backend_sink none = {.fd = -1, .mem = &h.data};
    h.sink = &none;
    int rc = http(b, b->curl, url, NULL, CALL_TIMEOUT_MS, &h, &status);
    curl_off_t len = -1;
    if (rc == TETHER_OK && status == 200) curl_easy_getinfo(b->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    curl_easy_setopt(b->curl, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(b->curl, CURLOPT_HTTPGET, 1L);
    bytebuf_free(&h.data);
    return len > 0 ? (uint64_t)len : 0;
}

static int sony_list_files(backend *b, tether_file_list **out)
{
    *out = NULL;
    if (!can_transfer(b))
        return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "sony: this camera offers no Contents Transfer over Wi-Fi");
    int rc = b->in_transfer ? TETHER_OK : switch_function(b, "Contents Transfer");
    if (rc != TETHER_OK) return rc;
    json_t *r = NULL;
    rc = av_call(b, "getSourceList", json_pack("[{s:s}]", "scheme", "storage"), "1.0", &r);
    if (rc != TETHER_OK) return rc;
    char source[128];
    const char *src = json_string_value(json_object_get(json_array_get(json_array_get(r, 0), 0), "source"));
    snprintf(source, sizeof source, "%s", src ? src : "storage:memoryCard1");
    json_decref(r);
    rc = av_call(b, "getContentCount",
                 json_pack("[{s:s,s:[s],s:s,s:s}]", "uri", source, "type", "still", "view", "flat", "target", "all"),
                 "1.2", &r);
    if (rc != TETHER_OK) return rc;
    json_int_t count = json_integer_value(json_object_get(json_array_get(r, 0), "count"));
    json_decref(r);
    if (count < 0 || count > 100000) return fail_msg(b, TETHER_ERR_CAMERA, "sony: getContentCount: %lld files?", (long long)count);
    tether_file_list *l = calloc(1, sizeof *l);
    struct card_entry *table = calloc((size_t)count + 1, sizeof *table);
    if (l) l->items = calloc((size_t)count + 1, sizeof *l->items);
    if (l == NULL || table == NULL || l->items == NULL) {
        tether_file_list_free(l);
        free(table);
        return fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    }
    for (json_int_t start = 0; start < count && rc == TETHER_OK;) { /* pages of 100 (research note §12) */
        rc = av_call(b, "getContentList",
                     json_pack("[{s:s,s:I,s:i,s:[s],s:s,s:s}]", "uri", source, "stIdx", start, "cnt", 100, "type",
                               "still", "view", "flat", "sort", "ascending"),
                     "1.3", &r);
        if (rc != TETHER_OK) break;
        json_t *items = json_array_get(r, 0);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            if (l->count >= count) break;
            json_t *orig = json_array_get(json_object_get(json_object_get(it, "content"), "original"), 0);
            const char *name = json_string_value(json_object_get(orig, "fileName"));
            const char *url = json_string_value(json_object_get(orig, "url"));
            const char *uri = json_string_value(json_object_get(it, "uri"));
            const char *folder = json_string_value(json_object_get(it, "folderNo"));
            const char *kind = json_string_value(json_object_get(orig, "stillObject"));
            const char *created = json_string_value(json_object_get(it, "createdTime"));
            if (name == NULL || url == NULL || uri == NULL || strchr(name, '/')) continue;
            struct card_entry *e = &table[l->count];
            tether_file *f = &l->items[l->count];
            snprintf(e->path, sizeof e->path, "/%s/%s/%s", strchr(source, ':') ? strchr(source, ':') + 1 : source,
                     folder ? folder : "100", name);
            snprintf(e->url, sizeof e->url, "%s", url);
            snprintf(e->uri, sizeof e->uri, "%s", uri);
            snprintf(f->path, sizeof f->path, "%s", e->path);
            snprintf(f->mime, sizeof f->mime, "%s", kind && strcmp(kind, "raw") == 0 ? "image/x-sony-arw" : "image/jpeg");
            f->mtime = created ? iso_time(created) : 0;
            f->size = content_size(b, url);
            l->count++;
        }
        size_t got = json_array_size(items);
        json_decref(r);
        if (got == 0) break;
        start += (json_int_t)got;
    }
    if (rc != TETHER_OK) {
        tether_file_list_free(l);
        free(table);
        return rc;
    }
    free(b->files);
    b->files = table;
    b->n_files = l->count;
    *out = l;
    return TETHER_OK;
}

/* The card entry of path, listing the card if it is not known yet. */
static const struct card_entry *card_entry(backend *b, const char *path, int *rc)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < b->n_files; i++)
            if (strcmp(b->files[i].path, path) == 0) return &b->files[i];
        if (pass == 1) break;
        tether_file_list *l = NULL;
        *rc = sony_list_files(b, &l);
        tether_file_list_free(l);
        if (*rc != TETHER_OK) return NULL;
    }
    *rc = fail_msg(b, TETHER_ERR_NOT_FOUND, "sony: no file %s on the card", path);
    return NULL;
}

/* ---- capture ------------------------------------------------------------------------------------ */

/* Waits (up to timeout_ms) until the mirror says IDLE. */
static void wait_idle(backend *b, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    struct timespec ts = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)};
    pthread_mutex_lock(&b->lock);
    while (b->st.fields[SONYF_CAMERA_STATUS].known && strcmp(b->st.fields[SONYF_CAMERA_STATUS].current, "IDLE") != 0 &&
           !b->lost && pthread_cond_timedwait(&b->changed, &b->lock, &ts) == 0) {
    }
    pthread_mutex_unlock(&b->lock);
}

static int sony_capture(backend *b, backend_item items[], int *n)
{
    *n = 0;
    int back = ensure_shooting(b);
    if (back != TETHER_OK) return back;
    if (!listed(b, "actTakePicture")) return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "sony: actTakePicture is not available now");
    wait_idle(b, 10000);
    json_t *r = NULL;
    int code = 0;
    pthread_mutex_lock(&b->lock);
    b->capturing = true;
    pthread_mutex_unlock(&b->lock);
    int rc = rpc(b, "actTakePicture", NULL, SHOT_TIMEOUT_MS, &r, &code);
    if (code == SONY_ERR_SHOOTING_FAIL && listed(b, "actHalfPressShutter")) {
        /* autofocus failed: half-press, then once more (timelapse-sony #39) */
        if (rpc(b, "actHalfPressShutter", NULL, SHOT_TIMEOUT_MS, NULL, NULL) == TETHER_OK) {
            rc = rpc(b, "actTakePicture", NULL, SHOT_TIMEOUT_MS, &r, &code);
            rpc(b, "cancelHalfPressShutter", NULL, CALL_TIMEOUT_MS, NULL, NULL);
        }
    }
    /* a long exposure: the body gave up waiting; ask until it is done (kazyx #8) */
    for (int i = 0; i < 40 && code == SONY_ERR_STILL_CAPTURING; i++)
        rc = rpc(b, "awaitTakePicture", NULL, SHOT_TIMEOUT_MS, &r, &code);
    const char *url = rc == TETHER_OK ? json_string_value(json_array_get(json_array_get(r, 0), 0)) : NULL;
    /* the shot's URL is ours; any other that getEvent gave meanwhile is a body shot */
    pthread_mutex_lock(&b->lock);
    if (url) {
        if (b->n_recent == RECENT_URLS) memmove(b->recent, b->recent + 1, sizeof b->recent[0] * (RECENT_URLS - 1)), b->n_recent--;
        snprintf(b->recent[b->n_recent++], sizeof b->recent[0], "%s", url);
    }
    for (int i = 0; i < b->n_held; i++)
        if (url == NULL || strcmp(b->held[i], url) != 0)
            queue_event(b, TETHER_EVENT_FILE_ADDED, b->held[i], "a shot taken on the camera");
    b->n_held = 0;
    b->capturing = false;
    pthread_mutex_unlock(&b->lock);
    if (rc != TETHER_OK) {
        json_decref(r);
        return rc;
    }
    if (url == NULL) {
        json_decref(r);
        return fail_msg(b, TETHER_ERR_CAMERA, "sony: actTakePicture gave no picture URL");
    }
    memset(&items[0], 0, sizeof items[0]);
    items[0].place = BACKEND_ITEM_URL;
    snprintf(items[0].where, sizeof items[0].where, "%s", url);
    snprintf(items[0].mime, sizeof items[0].mime, "image/jpeg");
    json_decref(r);
    *n = 1;
    return TETHER_OK;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *user)
{
    http_body *h = user;
    size_t len = size * n;
    if (h->lv) { /* live view: into the parser, packet by packet */
        backend *b = h->b;
        size_t used = 0;
        while (used < len) {
            sonylv_packet pk;
            bool ready;
            used += sonylv_parse(h->lv, (const uint8_t *)ptr + used, len - used, &pk, &ready);
            if (!ready) continue;
            if (pk.type == SONYLV_TYPE_JPEG && pk.jpeg_complete) {
                backend_frame f = {.format = TETHER_PIXEL_JPEG, .data = blob_from(pk.payload, pk.payload_size)};
                if (f.data) backend_frame_deliver(b->lv_sink, &f);
            } else if (pk.type == SONYLV_TYPE_FRAME_INFO && pk.frame_info_known) {
                pthread_mutex_lock(&b->lock);
                b->lv_n_focus = pk.n_kept < 8 ? pk.n_kept : 8;
                memcpy(b->lv_focus, pk.frames, sizeof b->lv_focus[0] * (size_t)b->lv_n_focus);
                pthread_mutex_unlock(&b->lock);
            }
        }
        return len;
    }
    if (h->sink) {
        if (h->sink->fd >= 0) {
            for (size_t off = 0; off < len;) {
                ssize_t w = write(h->sink->fd, ptr + off, len - off);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) {
                    h->write_errno = w < 0 ? errno : EIO;
                    return 0;
                }
                off += (size_t)w;
            }
        } else {
            bytebuf_put(h->sink->mem, ptr, len);
        }
        return len;
    }
    if (h->data.len + len > h->limit) return 0;
    bytebuf_put(&h->data, ptr, len);
    return len;
}

static int sony_download_url(backend *b, const char *url, backend_sink *sink)
{
    http_body h = {.sink = sink, .b = b};
    bytebuf_init(&h.data);
    long status = 0;
    int rc = http(b, b->curl, url, NULL, 60000, &h, &status);
    if (rc == TETHER_OK && status != 200) rc = fail_msg(b, TETHER_ERR_CAMERA, "sony: %s: HTTP status %ld", url, status);
    return rc;
}

static int sony_download(backend *b, const char *camera_path, backend_sink *sink)
{
    /* tethered mode downloads body shots by the URL the event gave */
    if (strncmp(camera_path, "http://", 7) == 0) return sony_download_url(b, camera_path, sink);
    int rc = TETHER_OK;
    const struct card_entry *e = card_entry(b, camera_path, &rc);
    if (e == NULL) return rc;
    if (!b->in_transfer && (rc = switch_function(b, "Contents Transfer")) != TETHER_OK) return rc;
    char url[512];
    snprintf(url, sizeof url, "%s", e->url);
    return sony_download_url(b, url, sink);
}

static int sony_delete(backend *b, const char *camera_path)
{
    if (strncmp(camera_path, "http://", 7) == 0) /* a postview: the shot stays on the card */
        return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "sony: a postview is not a file on the card");
    int rc = TETHER_OK;
    const struct card_entry *e = card_entry(b, camera_path, &rc);
    if (e == NULL) return rc;
    if (!b->in_transfer && (rc = switch_function(b, "Contents Transfer")) != TETHER_OK) return rc;
    char uri[128];
    snprintf(uri, sizeof uri, "%s", e->uri);
    rc = av_call(b, "deleteContent", json_pack("[{s:[s]}]", "uri", uri), "1.1", NULL);
    if (rc == TETHER_OK) {
        int i = (int)(e - b->files);
        memmove(&b->files[i], &b->files[i + 1], sizeof b->files[0] * (size_t)(b->n_files - i - 1));
        b->n_files--;
    }
    return rc;
}

/* ---- live view -------------------------------------------------------------------------------------- */

static void *liveview_main(void *arg)
{
    backend *b = arg;
    log_set_thread_name("sony-lv");
    CURL *c = new_handle();
    sonylv_parser p;
    sonylv_init(&p, 0);
    backend *tmp = calloc(1, sizeof *tmp); /* this thread's own error text and request ids */
    int failures = 0;
    while (c && tmp && !atomic_load(&b->lv_stop)) {
        char url[512];
        pthread_mutex_lock(&b->lock);
        snprintf(url, sizeof url, "%s", b->lv_url);
        pthread_mutex_unlock(&b->lock);
        sonylv_reset(&p);
        http_body h = {.lv = &p, .b = b, .stop = &b->lv_stop};
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled stream: no byte for 3 s */
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 3L);
        long status = 0;
        uint64_t before = p.stats.jpegs;
        int rc = http(tmp, c, url, NULL, 0, &h, &status);
        pthread_mutex_lock(&b->lock);
        b->lv_stats = p.stats;
        pthread_mutex_unlock(&b->lock);
        if (atomic_load(&b->lv_stop)) break;
        failures = p.stats.jpegs > before ? 0 : failures + 1;
        LOG_INFO("sony", "live view stream ended (%s), %s", rc == TETHER_OK ? "closed by the camera" : tmp->err,
                 failures ? "reopening" : "reconnecting");
        for (int i = 0; i < 4 * (failures < 8 ? failures : 8) && !atomic_load(&b->lv_stop); i++)
            clock_sleep_ns(50000000);
        if (failures >= 2) { /* the URL may be stale: ask for live view again */
            json_t *r = NULL;
            if (rpc_on(tmp, c, &b->lv_stop, b->camera_url, "startLiveview", NULL, "1.0", CALL_TIMEOUT_MS, &r, NULL) ==
                    TETHER_OK &&
                json_is_string(json_array_get(r, 0))) {
                pthread_mutex_lock(&b->lock);
                snprintf(b->lv_url, sizeof b->lv_url, "%s", json_string_value(json_array_get(r, 0)));
                pthread_mutex_unlock(&b->lock);
            }
            json_decref(r);
        }
    }
    sonylv_free(&p);
    free(tmp);
    if (c) curl_easy_cleanup(c);
    return NULL;
}

/* The program is done with the card: back to Remote Shooting (body shots
 * and live view need it) if we left it. */
static int sony_card_release(backend *b)
{
    return ensure_shooting(b);
}

static int sony_liveview_start(backend *b, backend_frame_sink *sink)
{
    if (b->lv_started) return TETHER_OK;
    json_t *r = NULL;
    int rc = ensure_shooting(b);
    if (rc == TETHER_OK) rc = rpc(b, "startLiveview", NULL, CALL_TIMEOUT_MS, &r, NULL);
    if (rc != TETHER_OK) return rc;
    const char *url = json_string_value(json_array_get(r, 0));
    if (url == NULL || strncmp(url, "http://", 7) != 0) {
        json_decref(r);
        return fail_msg(b, TETHER_ERR_CAMERA, "sony: startLiveview gave no stream URL");
    }
    pthread_mutex_lock(&b->lock);
    snprintf(b->lv_url, sizeof b->lv_url, "%s", url);
    pthread_mutex_unlock(&b->lock);
    json_decref(r);
    b->lv_sink = sink;
    atomic_store(&b->lv_stop, 0);
    if (pthread_create(&b->lv_thread, NULL, liveview_main, b) != 0)
        return fail_msg(b, TETHER_ERR_NO_MEMORY, "sony: cannot start the live-view thread");
    b->lv_started = true;
    return TETHER_OK;
}

static int sony_liveview_stop(backend *b)
{
    if (!b->lv_started) return TETHER_OK;
    atomic_store(&b->lv_stop, 1);
    pthread_join(b->lv_thread, NULL);
    b->lv_started = false;
    if (!atomic_load(&b->stopping)) rpc(b, "stopLiveview", NULL, 3000, NULL, NULL);
    return TETHER_OK;
}

const backend_ops backend_sony = {
    .name = "sony",
    .retries_busy = false,
    .spec_help = "sony                a Sony Wi-Fi camera found by SSDP (TETHER_SSDP_TARGET=HOST:PORT)\n"
                 "sony:HOST[:PORT]    the Sony camera answering SSDP there\n"
                 "sony:URL            the Sony camera with this device description URL",
    .list_cameras = sony_list_cameras,
    .accepts = sony_accepts,
    .may_have_moved = sony_may_have_moved,
    .open = sony_open,
    .close = sony_close,
    .last_error = sony_last_error,
    .model = sony_model,
    .capabilities = sony_capabilities,
    .summary = sony_summary,
    .settings_list = sony_settings_list,
    .resolve = sony_resolve,
    .setting_get = sony_setting_get,
    .setting_set = sony_setting_set,
    .capture = sony_capture,
    .download = sony_download,
    .download_url = sony_download_url,
    .delete_file = sony_delete,
    .list_files = sony_list_files,
    .card_release = sony_card_release,
    .liveview_start = sony_liveview_start,
    .liveview_stop = sony_liveview_stop,
    .wait_event = sony_wait_event,
    .probe = sony_probe,
};
