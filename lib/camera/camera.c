/*
 * camera: the tether_camera session (include/tether/tether.h): one owner
 * thread per camera, a job queue, events, tethered downloads and the
 * lost-and-found cycle.
 *
 * Design
 *   - Every backend call for a camera happens on its owner thread, so the
 *     driver is never entered twice for one camera.  An API call packs its
 *     arguments into a heap job, queues it and waits for it with a timeout.
 *     If the wait times out, the job is abandoned: a queued job is dropped,
 *     a running one finishes on the owner thread, which then frees it.  The
 *     caller never touches an abandoned job's memory again.
 *   - While no job is queued, the owner thread watches for events when
 *     someone asked for them recently or tethered mode is on.
 *   - After a call failed with a timeout or a broken link, the connection
 *     is suspect: asking the camera again would only add timeouts, so it
 *     is closed at once (without waiting for goodbyes) and reopened.  After
 *     other camera errors (busy, refused) the owner asks the backend for a
 *     cheap round trip, and only if that fails too is the camera lost.  A
 *     lost camera: the backend is closed, a CAMERA_LOST event queued, calls
 *     fail fast with DISCONNECTED, and the owner reopens the same spec at
 *     once, then with backoff (0.5 s doubling to 2 s) until it answers
 *     (CAMERA_BACK).
 *   - A USB camera plugged in again gets a new "usb:BUS,DEV": when
 *     reopening the spec fails and the backend says the camera may have
 *     moved, the owner opens the backend's other cameras (none another
 *     session of this process holds) and keeps the one whose identity
 *     (model + serial) is the lost camera's; the session's spec follows it.
 *   - On each connection the owner reads the camera's identity, its
 *     capabilities and where its canonical settings live (backend
 *     ->resolve), so tether_camera_capabilities never waits, canonical
 *     names work on every backend, and focus commands are paced by the
 *     backend's focus caps.
 *   - Events go to every subscriber (tether_events_subscribe): a ring
 *     each, the oldest dropped and counted when one overflows.
 *     tether_wait_event is one built-in subscription made at open.
 *   - Live view is pulled on the owner's loop (->preview) or pushed by a
 *     source the backend starts (->liveview_start) from its own thread;
 *     either way a non-JPEG frame becomes JPEG once (convert.c) and the
 *     newest frame is shared by every watcher.
 *   - Failures of this machine's disk (DISK_FULL, STORAGE) are never the
 *     camera's: no round trip, no reconnect, the detail (path, strerror)
 *     in the last error, no partial file, and a photo that could not be
 *     saved is not deleted from the card.
 *   - {counter} in a name template counts per template (counter_tmpl):
 *     each shot's number is one past the last this session gave, past the
 *     highest the folder already holds for the template and past what the
 *     program said (tether_counter_continue), so numbers go on after a
 *     reconnect or a restart and are never given twice.
 *
 * Locking: cam->lock protects the queue, the event ring and the state
 * flags.  It is never held during a backend call.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/stdfds.h"
#include "camera/convert.h"
#include "camera/internal.h"
#include "camera/values.h"
#include "store/atomic.h"

#define EVENT_POLL_NS 50000000LL /* between looks at the camera's events when nothing else is queued */

enum { EVENT_RING = 256, WATCH_NS = 10 * 1000000000LL };

typedef struct job {
    int (*fn)(tether_camera *cam, void *arg);
    void *arg;
    void (*free_arg)(void *arg); /* how arg goes (free when NULL); whoever frees the job */
    bool needs_camera;
    int result;
    bool done, abandoned, cancelled;
    struct job *next;
} job;

struct tether_event_sub {
    tether_camera *cam;
    tether_event *ring;
    int head, count;
    unsigned dropped;           /* lost since the last event handed out */
    struct tether_event_sub *next;
};

struct backend_frame_sink {
    tether_camera *cam;
};

static void job_free(job *j)
{
    if (j->free_arg) j->free_arg(j->arg);
    else free(j->arg);
    free(j);
}

/* how long after a body shot's file the next one of another type still
 * belongs to the same shot (RAW + JPEG) */
#define TETH_PAIR_NS (10 * 1000000000LL)

struct tether_camera {
    char spec[256];
    const backend_ops *ops;
    backend *be;                /* owner thread only; NULL while lost */
    pthread_t owner;
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* jobs for the owner */
    pthread_cond_t done;        /* finished jobs, for callers */
    pthread_cond_t ev_cond;     /* events, for waiters */
    job *head, *tail;
    job *running;
    bool closing;
    atomic_bool cancel;         /* checked by long jobs between steps */
    int timeout_ms;
    char last_error[512];
    char model[128];
    char identity[256];         /* "MODEL SERIAL", read once per connection */
    bool connected;
    int open_result;            /* result of the first open */
    bool open_done;
    char open_err[512];
    int64_t next_reopen_ns;
    int backoff_ms;
    /* events: every subscription, the built-in one first */
    tether_event_sub *subs;
    tether_event_sub builtin;   /* tether_wait_event's */
    int n_user_subs;
    int64_t watch_until_ns;
    /* what the camera can do; read on each connection */
    bool has_caps;
    tether_capabilities caps;
    char native[TETHER_MAX_CANONICAL][256]; /* caps.settings[i] lives here (owner thread only) */
    bool own_error;             /* the running job set the last error itself (owner thread only) */
    backend_frame_sink frame_sink;
    struct tether_camera *next_open; /* the process's open sessions (g_open) */
    /* tethered mode */
    bool tethered;
    char teth_dir[1024];
    char teth_tmpl[256];
    char teth_session[128];
    bool teth_keep;
    /* the last shot's files (owner thread): its first file's name (numbered
     * on), the extensions it has, when its last file came, its {counter}
     * and time */
    char teth_name[256];
    char teth_card_name[256];   /* the last file's name on the card */
    char teth_exts[64];
    int64_t teth_last_ns;
    int teth_counter;
    int64_t teth_time;
    /* capture */
    int counter;                /* the last {counter} given with counter_tmpl */
    char counter_tmpl[256];     /* the template it counts for (tether_counter_continue) */
    unsigned capt_base;         /* libgphoto2's "captNNNN" numbers of this connection start here */
    unsigned capt_next;         /* one past the highest such number handed out */
    blob *last_capture;
    /* live view for watchers */
    int lv_subscribers;
    bool lv_running;            /* the camera's live view is on (owner thread) */
    int holds;                  /* tether_camera_hold: while > 0 the owner starts nothing of its own */
    bool held;                  /* the owner is idle under a hold (waiting for a job) */
    tether_frame *lv_latest;
    uint64_t lv_seq;
    uint64_t lv_frames;
    pthread_cond_t lv_cond;
};

/* ---- helpers (lock held unless said) ------------------------------------------ */

static void set_error_locked(tether_camera *cam, const char *msg)
{
    snprintf(cam->last_error, sizeof cam->last_error, "%s", msg);
}

__attribute__((format(printf, 2, 3)))
static void set_error(tether_camera *cam, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&cam->lock);
    set_error_locked(cam, msg);
    pthread_mutex_unlock(&cam->lock);
}

/* The session's own error for a job: the owner keeps it instead of the
 * backend's last error (owner thread). */
__attribute__((format(printf, 3, 4)))
static int job_fail(tether_camera *cam, int rc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&cam->lock);
    set_error_locked(cam, msg);
    pthread_mutex_unlock(&cam->lock);
    cam->own_error = true;
    return rc;
}

/* Runs a backend call again while the camera answers busy, unless the
 * backend does that itself (backend_ops.retries_busy): up to 10 tries,
 * 20 ms apart doubling to 160 ms.  Only for calls that are safe to repeat
 * (owner thread). */
#define BUSY_RETRY(cam, rcvar, call)                                                   \
    do {                                                                               \
        for (int try_ = 0;; try_++) {                                                  \
            (rcvar) = (call);                                                          \
            if ((rcvar) != TETHER_ERR_BUSY || (cam)->ops->retries_busy || try_ == 9) break; \
            clock_sleep_ns(20000000LL << (try_ < 3 ? try_ : 3));                       \
        }                                                                              \
    } while (0)

/* Queues ev for every subscriber, stamped with the camera's identity. */
static void push_event_locked(tether_camera *cam, const tether_event *ev)
{
    for (tether_event_sub *sub = cam->subs; sub; sub = sub->next) {
        if (sub->count == EVENT_RING) { /* drop the oldest */
            sub->head = (sub->head + 1) % EVENT_RING;
            sub->count--;
            sub->dropped++;
        }
        tether_event *slot = &sub->ring[(sub->head + sub->count) % EVENT_RING];
        *slot = *ev;
        snprintf(slot->camera, sizeof slot->camera, "%s", cam->identity);
        slot->dropped = 0;
        sub->count++;
    }
    pthread_cond_broadcast(&cam->ev_cond);
}

static void push_event(tether_camera *cam, tether_event_type type, const char *path, const char *local,
                       const char *detail)
{
    tether_event ev = {.type = type, .time_ns = clock_mono_ns()};
    snprintf(ev.path, sizeof ev.path, "%s", path ? path : "");
    snprintf(ev.local, sizeof ev.local, "%s", local ? local : "");
    snprintf(ev.detail, sizeof ev.detail, "%s", detail ? detail : "");
    pthread_mutex_lock(&cam->lock);
    push_event_locked(cam, &ev);
    pthread_mutex_unlock(&cam->lock);
}

static struct timespec deadline_ts(int64_t mono_ns)
{
    /* the condition variables use CLOCK_MONOTONIC */
    struct timespec ts = {(time_t)(mono_ns / 1000000000), (long)(mono_ns % 1000000000)};
    return ts;
}

static void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* ---- losing and finding the camera (owner thread) --------------------------------- */

static bool looks_like_link_failure(int rc)
{
    return rc == TETHER_ERR_IO || rc == TETHER_ERR_TIMEOUT || rc == TETHER_ERR_CAMERA ||
           rc == TETHER_ERR_DISCONNECTED || rc == TETHER_ERR_BUSY;
}

/* A timeout or a broken link: no round trip can tell more */
static bool link_is_suspect(int rc)
{
    return rc == TETHER_ERR_IO || rc == TETHER_ERR_TIMEOUT || rc == TETHER_ERR_DISCONNECTED;
}

static bool is_local_failure(int rc)
{
    return rc == TETHER_ERR_DISK_FULL || rc == TETHER_ERR_STORAGE;
}

static void lose_camera(tether_camera *cam, const char *why)
{
    LOG_WARN("camera", "camera lost: %s", why);
    cam->ops->close(cam->be);
    cam->be = NULL;
    pthread_mutex_lock(&cam->lock);
    cam->connected = false;
    cam->lv_running = false; /* a new connection starts its own */
    cam->backoff_ms = 250;
    cam->next_reopen_ns = clock_mono_ns(); /* at once; then 0.5 s, 1 s, 2 s... */
    pthread_mutex_unlock(&cam->lock);
    push_event(cam, TETHER_EVENT_CAMERA_LOST, NULL, NULL, why);
}

/* After a failed call: is the camera still there?  A suspect link is
 * reconnected at once; after other errors a round trip decides. */
static void check_link(tether_camera *cam, int rc)
{
    if (cam->be == NULL || !looks_like_link_failure(rc)) return;
    char why[512];
    snprintf(why, sizeof why, "%s", cam->ops->last_error(cam->be));
    if (!link_is_suspect(rc) && cam->ops->probe(cam->be) == TETHER_OK) return;
    lose_camera(cam, why[0] ? why : "the camera stopped answering");
}

/* The process's open sessions, so that a search by identity never opens
 * a camera another session holds. */
static pthread_mutex_t g_open_lock = PTHREAD_MUTEX_INITIALIZER;
static tether_camera *g_open;

static bool spec_in_use(const char *spec, const tether_camera *except)
{
    pthread_mutex_lock(&g_open_lock);
    bool used = false;
    for (tether_camera *c = g_open; c && !used; c = c->next_open)
        used = c != except && strcmp(c->spec, spec) == 0;
    pthread_mutex_unlock(&g_open_lock);
    return used;
}

/* The identity of a just-opened backend: "MODEL SERIAL", or the model
 * alone when the camera gives no serial (owner thread). */
static void identity_of(const backend_ops *ops, backend *be, char *buf, size_t size)
{
    char model[128] = "", native[256] = "serialnumber";
    ops->model(be, model, sizeof model);
    bool writable;
    if (ops->resolve) ops->resolve(be, "serialnumber", native, sizeof native, &writable);
    tether_setting serial = {0};
    bool has_serial = ops->setting_get(be, native, &serial) == TETHER_OK && serial.value[0];
    snprintf(buf, size, "%s%s%s", model, has_serial ? " " : "", has_serial ? serial.value : "");
    tether_setting_clear(&serial);
}

/* Reads what the session keeps of a just-opened backend: the model, the
 * identity (so tether_camera_identity never waits for the camera), the
 * capabilities and where each canonical setting lives (owner thread;
 * takes the lock to store them). */
static void read_connection(tether_camera *cam, backend *be)
{
    char model[128] = "", identity[256];
    cam->ops->model(be, model, sizeof model);
    identity_of(cam->ops, be, identity, sizeof identity);
    tether_capabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.focus.zoom_max = 1;
    caps.focus.backlash = -1;
    if (cam->ops->capabilities) cam->ops->capabilities(be, &caps);
    snprintf(caps.backend, sizeof caps.backend, "%s", cam->ops->name);
    caps.n_settings = 0;
    caps.writable = 0;
    for (int i = 0; values_canonical_names[i] && caps.n_settings < TETHER_MAX_CANONICAL; i++) {
        char native[256];
        bool writable = false;
        if (cam->ops->resolve == NULL ||
            cam->ops->resolve(be, values_canonical_names[i], native, sizeof native, &writable) != TETHER_OK)
            continue;
        int k = caps.n_settings++;
        snprintf(caps.settings[k], sizeof caps.settings[k], "%s", values_canonical_names[i]);
        snprintf(cam->native[k], sizeof cam->native[k], "%s", native);
        if (writable) caps.writable |= 1u << k;
    }
    if (caps.n_settings > 0) caps.bits |= TETHER_CAP_SETTINGS;
    pthread_mutex_lock(&cam->lock);
    snprintf(cam->model, sizeof cam->model, "%s", model);
    snprintf(cam->identity, sizeof cam->identity, "%s", identity);
    cam->caps = caps;
    cam->has_caps = true;
    cam->capt_base = cam->capt_next; /* a new connection counts "capt" names from 0 again */
    pthread_mutex_unlock(&cam->lock);
}

/* After reopening cam->spec failed: the same camera elsewhere on the
 * backend (a USB camera replugged).  Opens each other camera the backend
 * lists that no session of this process holds, keeps the one with the
 * lost camera's identity.  Returns it, and moves cam->spec there, or NULL
 * (owner thread). */
static backend *reopen_by_identity(tether_camera *cam)
{
    if (cam->ops->may_have_moved == NULL || !cam->ops->may_have_moved(cam->spec) || cam->ops->list_cameras == NULL)
        return NULL;
    char want[256];
    pthread_mutex_lock(&cam->lock);
    snprintf(want, sizeof want, "%s", cam->identity);
    pthread_mutex_unlock(&cam->lock);
    if (want[0] == '\0') return NULL;
    enum { MAX_CANDIDATES = 16 };
    tether_camera_info found[MAX_CANDIDATES];
    int n = 0;
    if (backend_list_one(cam->ops, found, MAX_CANDIDATES, &n) != TETHER_OK) return NULL;
    for (int i = 0; i < n && i < MAX_CANDIDATES; i++) {
        if (strcmp(found[i].spec, cam->spec) == 0 || spec_in_use(found[i].spec, cam)) continue;
        backend *be = NULL;
        char err[512];
        if (cam->ops->open(found[i].spec, &be, err, sizeof err) != TETHER_OK) continue;
        char identity[256];
        identity_of(cam->ops, be, identity, sizeof identity);
        if (strcmp(identity, want) != 0) {
            cam->ops->close(be);
            continue;
        }
        LOG_INFO("camera", "%s moved from %s to %s", want, cam->spec, found[i].spec);
        pthread_mutex_lock(&g_open_lock);
        snprintf(cam->spec, sizeof cam->spec, "%s", found[i].spec);
        pthread_mutex_unlock(&g_open_lock);
        return be;
    }
    return NULL;
}

static void try_reopen(tether_camera *cam)
{
    char err[512] = "";
    backend *be = NULL;
    int rc = cam->ops->open(cam->spec, &be, err, sizeof err);
    if (rc != TETHER_OK && (be = reopen_by_identity(cam)) != NULL) rc = TETHER_OK;
    if (rc == TETHER_OK) read_connection(cam, be);
    pthread_mutex_lock(&cam->lock);
    if (rc == TETHER_OK) {
        cam->be = be;
        cam->connected = true;
        pthread_mutex_unlock(&cam->lock);
        LOG_INFO("camera", "camera back: %s", cam->model);
        push_event(cam, TETHER_EVENT_CAMERA_BACK, NULL, NULL, cam->model);
        return;
    }
    cam->backoff_ms = cam->backoff_ms * 2 > 2000 ? 2000 : cam->backoff_ms * 2;
    cam->next_reopen_ns = clock_mono_ns() + (int64_t)cam->backoff_ms * 1000000;
    pthread_mutex_unlock(&cam->lock);
    LOG_DEBUG("camera", "reopen failed: %s", err);
}

/* ---- tethered downloads (owner thread) ------------------------------------------------ */

static void lower(char *s)
{
    for (; *s; s++) *s = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
}

/* "IMG_0001.JPG" -> name "IMG_0001", ext "jpg"; a URL's (a Sony body's
 * "http://.../pict0001.JPG?size=Scn") query and fragment are not part of
 * the name */
static void split_name(const char *camera_path, char *name, size_t nsz, char *ext, size_t esz)
{
    size_t len = strlen(camera_path);
    if (strstr(camera_path, "://")) len = strcspn(camera_path, "?#");
    const char *end = camera_path + len;
    const char *base = camera_path;
    for (const char *p = camera_path; p < end; p++)
        if (*p == '/') base = p + 1;
    const char *dot = NULL;
    for (const char *p = base; p < end; p++)
        if (*p == '.') dot = p;
    if (dot && dot != base) {
        snprintf(name, nsz, "%.*s", (int)(dot - base), base);
        snprintf(ext, esz, "%.*s", (int)(end - dot - 1), dot + 1);
    } else {
        snprintf(name, nsz, "%.*s", (int)(end - base), base);
        snprintf(ext, esz, "jpg");
    }
    lower(ext);
}

/* Whether name (no extension) is libgphoto2's "captNNNN"; *n gets NNNN. */
static bool capt_number(const char *name, unsigned *n)
{
    char more;
    return strlen(name) == 8 && sscanf(name, "capt%4u%c", n, &more) == 1 && isdigit((unsigned char)name[4]);
}

/* libgphoto2 names a picture taken to the computer "captNNNN", counting
 * from 0000 on every connection, so after a reconnect the names would
 * start again (and a photographer's numbering with them): the session
 * numbers them on across its connections.  Any other name is left alone.
 * Any thread. */
static void continue_capt_name(tether_camera *cam, char *name, size_t size)
{
    unsigned n;
    if (!capt_number(name, &n)) return;
    pthread_mutex_lock(&cam->lock);
    unsigned m = n + cam->capt_base;
    if (m + 1 > cam->capt_next) cam->capt_next = m + 1;
    pthread_mutex_unlock(&cam->lock);
    snprintf(name, size, "capt%04u", m % 100000000u);
}

void backend_items_clear(backend_item *items, int n)
{
    for (int i = 0; i < n; i++) {
        blob_unref(items[i].data);
        items[i].data = NULL;
    }
}

static void item_on_card(backend_item *it, const char *camera_path)
{
    memset(it, 0, sizeof *it);
    it->place = BACKEND_ITEM_CAMERA;
    snprintf(it->where, sizeof it->where, "%s", camera_path);
}

/* Copies one captured file into sink, wherever it is (owner thread). */
static int fetch_item(tether_camera *cam, const backend_item *it, backend_sink *sink)
{
    switch (it->place) {
    case BACKEND_ITEM_CAMERA:
        return cam->ops->download(cam->be, it->where, sink);
    case BACKEND_ITEM_URL:
        if (cam->ops->download_url == NULL)
            return job_fail(cam, TETHER_ERR_NOT_SUPPORTED, "the backend gave a URL it cannot fetch: %s", it->where);
        return cam->ops->download_url(cam->be, it->where, sink);
    case BACKEND_ITEM_MEMORY:
        if (it->data == NULL) return job_fail(cam, TETHER_ERR_CAMERA, "the backend gave an empty file");
        if (sink->fd >= 0) {
            if (store_write_all(sink->fd, it->data->data, it->data->len) != 0) {
                int err = errno ? errno : EIO;
                return job_fail(cam, store_err_from_errno(err), "cannot write %s: %s", it->where, strerror(err));
            }
            return TETHER_OK;
        }
        bytebuf_put(sink->mem, it->data->data, it->data->len);
        return bytebuf_ok(sink->mem) ? TETHER_OK : TETHER_ERR_NO_MEMORY;
    }
    return TETHER_ERR_INVALID_ARGUMENT;
}

/* The text of a failed fetch: the session's own, or the backend's. */
static const char *fetch_error(tether_camera *cam, char *buf, size_t size)
{
    if (cam->own_error) {
        pthread_mutex_lock(&cam->lock);
        snprintf(buf, size, "%s", cam->last_error);
        pthread_mutex_unlock(&cam->lock);
        return buf;
    }
    return cam->ops->last_error(cam->be);
}

/* Downloads a captured file into dir as `name` (already expanded),
 * atomically, never overwriting: a taken name gets a "-N" suffix.  local
 * gets the path.  A local failure (DISK_FULL, STORAGE) leaves no file and
 * says so, with the folder and the reason, in the last error. */
static int download_to(tether_camera *cam, const backend_item *it, const char *dir, const char *name,
                       char *local, size_t localsz)
{
    const char *camera_path = it->where;
    store_atomic a;
    int rc = store_atomic_begin(&a, dir);
    if (rc != TETHER_OK) {
        set_error(cam, "cannot write into %s: %s; %s stays on the camera", dir,
                  a.err ? strerror(a.err) : tether_strerror(rc), camera_path);
        return rc;
    }
    backend_sink sink = {.fd = a.fd};
    rc = fetch_item(cam, it, &sink);
    if (rc != TETHER_OK) {
        store_atomic_abort(&a);
        char why[512];
        if (is_local_failure(rc))
            job_fail(cam, rc, "%s (folder %s); %s stays on the camera", fetch_error(cam, why, sizeof why), dir,
                     camera_path);
        return rc;
    }
    rc = store_atomic_commit_unique(&a, name, local, localsz);
    if (rc != TETHER_OK)
        set_error(cam, "cannot store %s/%s: %s; %s stays on the camera", dir, name,
                  a.err ? strerror(a.err) : tether_strerror(rc), camera_path);
    return rc;
}

/* Makes the session's counter count for tmpl, past `used` (lock held): a
 * new template counts on its own, from 0. */
static void counter_past_locked(tether_camera *cam, const char *tmpl, int used)
{
    if (strcmp(cam->counter_tmpl, tmpl) != 0) {
        snprintf(cam->counter_tmpl, sizeof cam->counter_tmpl, "%s", tmpl);
        cam->counter = 0;
    }
    if (used > cam->counter) cam->counter = used;
}

/* The {counter} of the next name from tmpl: one past the last this
 * session gave with that template, and past `highest`, the highest its
 * folder already has.  Any thread, lock not held. */
static int next_counter(tether_camera *cam, const char *tmpl, int highest)
{
    pthread_mutex_lock(&cam->lock);
    counter_past_locked(cam, tmpl, highest);
    int counter = cam->counter < INT_MAX ? ++cam->counter : cam->counter;
    pthread_mutex_unlock(&cam->lock);
    return counter;
}

int tether_counter_continue(tether_camera *cam, const char *tmpl, int last)
{
    if (cam == NULL || tmpl == NULL || last < 0) return TETHER_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&cam->lock);
    counter_past_locked(cam, tmpl, last);
    pthread_mutex_unlock(&cam->lock);
    return TETHER_OK;
}

/* Whether a body shot's file named `next` on the camera (no extension)
 * can follow one named `prev` in the same shot: the same name
 * (IMG_0001.CR2, IMG_0001.JPG), or libgphoto2's numbers one after the
 * other (capt0005, capt0006). */
static bool card_names_one_shot(const char *prev, const char *next)
{
    if (strcmp(prev, next) == 0) return true;
    unsigned a, b;
    return capt_number(prev, &a) && capt_number(next, &b) && b == a + 1;
}

static void tethered_download(tether_camera *cam, tether_event *ev)
{
    pthread_mutex_lock(&cam->lock);
    char dir[1024], tmpl[256];
    snprintf(dir, sizeof dir, "%s", cam->teth_dir);
    snprintf(tmpl, sizeof tmpl, "%s", cam->teth_tmpl);
    char session[128];
    snprintf(session, sizeof session, "%s", cam->teth_session);
    bool keep = cam->teth_keep;
    pthread_mutex_unlock(&cam->lock);
    char name[256], ext[32], file[1024];
    split_name(ev->path, name, sizeof name, ext, sizeof ext);
    char card_name[256]; /* the name on the card, before continue_capt_name */
    snprintf(card_name, sizeof card_name, "%s", name);
    continue_capt_name(cam, name, sizeof name);
    /* The RAW and the JPEG of one shot come as two files in a row, of two
     * types, named alike on the camera: IMG_0001.CR2 and IMG_0001.JPG, or
     * libgphoto2's consecutive capt0005.cr2 and capt0006.jpg.  Like a
     * capture's, they keep the first one's name, number and time, so one
     * base name.  TETH_PAIR_NS bounds the wait between them (a loaded
     * machine or a slow link takes seconds); a JPEG-only shot followed by
     * a RAW + JPEG one is told apart by the names, a burst by the types. */
    char dotted[40];
    snprintf(dotted, sizeof dotted, ".%s.", ext);
    int64_t mono = clock_mono_ns();
    bool same_shot = cam->teth_last_ns && mono - cam->teth_last_ns < TETH_PAIR_NS && !strstr(cam->teth_exts, dotted) &&
                     strlen(cam->teth_exts) + strlen(dotted) < sizeof cam->teth_exts &&
                     card_names_one_shot(cam->teth_card_name, card_name);
    snprintf(cam->teth_card_name, sizeof cam->teth_card_name, "%s", card_name);
    if (!same_shot) {
        int highest = 0;
        if (strstr(tmpl, "{counter")) tether_name_counter_in_dir(dir, tmpl, &highest);
        cam->teth_counter = next_counter(cam, tmpl, highest);
        cam->teth_time = time(NULL);
        snprintf(cam->teth_name, sizeof cam->teth_name, "%s", name);
        cam->teth_exts[0] = '\0';
    }
    snprintf(cam->teth_exts + strlen(cam->teth_exts), sizeof cam->teth_exts - strlen(cam->teth_exts), "%s", dotted + !!cam->teth_exts[0]);
    tether_name_vars v = {.counter = cam->teth_counter, .time = cam->teth_time, .model = cam->model,
                          .session = session, .name = cam->teth_name, .ext = ext};
    char err[256];
    if (tether_name_expand(tmpl, &v, file, sizeof file, err, sizeof err) != TETHER_OK) {
        set_error(cam, "%s", err);
        return;
    }
    backend_item it;
    item_on_card(&it, ev->path);
    int rc = download_to(cam, &it, dir, file, ev->local, sizeof ev->local);
    cam->teth_last_ns = clock_mono_ns(); /* the next file is announced only now: a RAW takes a while */
    if (rc != TETHER_OK) {
        ev->local[0] = '\0';
        pthread_mutex_lock(&cam->lock);
        snprintf(ev->detail, sizeof ev->detail, "%s", cam->last_error); /* why it was not saved */
        pthread_mutex_unlock(&cam->lock);
        LOG_WARN("camera", "tethered: %s not saved: %s", ev->path, ev->detail);
        return;
    }
    if (!keep) cam->ops->delete_file(cam->be, ev->path);
    LOG_INFO("camera", "tethered: %s -> %s", ev->path, ev->local);
}

/* ---- the owner thread ------------------------------------------------------------------- */

/* Looks at the camera's events once, without waiting for one (owner
 * thread, lock not held).  The owner loop pauses between looks on
 * cam->wake, which a new job cuts short: a camera call waits at most for
 * one event, never for a whole event wait. */
static void poll_events(tether_camera *cam)
{
    /* what the camera has queued, up to a bound, unless a job waits */
    for (int i = 0; i < 32 && cam->be; i++) {
        tether_event ev;
        int rc = cam->ops->wait_event(cam->be, 0, &ev);
        if (rc == TETHER_ERR_TIMEOUT) return;
        if (rc != TETHER_OK) {
            check_link(cam, rc);
            return;
        }
        pthread_mutex_lock(&cam->lock);
        bool tethered = cam->tethered;
        pthread_mutex_unlock(&cam->lock);
        if (ev.type == TETHER_EVENT_FILE_ADDED && tethered) tethered_download(cam, &ev);
        pthread_mutex_lock(&cam->lock);
        push_event_locked(cam, &ev);
        bool job_waits = cam->head != NULL || cam->closing;
        pthread_mutex_unlock(&cam->lock);
        if (job_waits) return;
    }
}

/* Makes the newest live-view frame of a backend's frame (converted to
 * JPEG once) and wakes the watchers.  Returns 0 or the conversion's
 * error.  Any thread, lock not held. */
static int publish_frame(tether_camera *cam, backend_frame *bf)
{
    int64_t t = clock_mono_ns();
    blob *jpeg = NULL;
    int rc = convert_to_jpeg(bf, &jpeg);
    if (rc != TETHER_OK) return rc;
    tether_frame *f = frame_new(jpeg, t, bf->time_ns, bf->asked_ns ? t - bf->asked_ns : 0);
    if (f == NULL) {
        blob_unref(jpeg);
        return TETHER_ERR_NO_MEMORY;
    }
    pthread_mutex_lock(&cam->lock);
    tether_frame *old = cam->lv_latest;
    cam->lv_latest = f;
    cam->lv_seq++;
    pthread_cond_broadcast(&cam->lv_cond);
    pthread_mutex_unlock(&cam->lock);
    tether_frame_unref(old);
    return TETHER_OK;
}

void backend_frame_deliver(backend_frame_sink *sink, backend_frame *frame)
{
    int rc = publish_frame(sink->cam, frame);
    if (rc != TETHER_OK) LOG_DEBUG("camera", "live-view frame dropped: %s", tether_strerror(rc));
}

/* Looks at the camera's events once if anyone wants them, every fourth
 * frame, so tethered downloads go on during live view (owner thread). */
static void liveview_events(tether_camera *cam)
{
    pthread_mutex_lock(&cam->lock);
    bool events = cam->tethered || cam->n_user_subs > 0 || clock_mono_ns() < cam->watch_until_ns;
    bool poll = events && ++cam->lv_frames % 4 == 0;
    pthread_mutex_unlock(&cam->lock);
    if (poll) poll_events(cam);
}

/* One live-view frame for the watchers, pulled (owner thread, lock not
 * held). */
static void liveview_step(tether_camera *cam)
{
    backend_frame bf = {0};
    int64_t asked = clock_mono_ns();
    int rc = cam->ops->preview(cam->be, &bf);
    if (rc == TETHER_OK) {
        /* a camera asked for a frame gives its newest: seen about then */
        if (bf.time_ns == 0) bf.time_ns = asked;
        bf.asked_ns = asked;
        pthread_mutex_lock(&cam->lock);
        cam->lv_running = true;
        pthread_mutex_unlock(&cam->lock);
        rc = publish_frame(cam, &bf);
        if (rc == TETHER_OK) {
            liveview_events(cam);
            return;
        }
    }
    blob_unref(bf.data);
    pthread_mutex_lock(&cam->lock);
    set_error_locked(cam, cam->be ? cam->ops->last_error(cam->be) : tether_strerror(rc));
    pthread_mutex_unlock(&cam->lock);
    check_link(cam, rc);
    clock_sleep_ns(100000000); /* no spinning on a failing camera */
}

/* Live view pushed by the backend: starts its source once, then only
 * looks at events between frames (owner thread, lock not held). */
static void liveview_push(tether_camera *cam)
{
    pthread_mutex_lock(&cam->lock);
    bool running = cam->lv_running;
    pthread_mutex_unlock(&cam->lock);
    if (!running) {
        int rc = cam->ops->liveview_start(cam->be, &cam->frame_sink);
        if (rc != TETHER_OK) {
            pthread_mutex_lock(&cam->lock);
            set_error_locked(cam, cam->ops->last_error(cam->be));
            pthread_mutex_unlock(&cam->lock);
            check_link(cam, rc);
            clock_sleep_ns(100000000);
            return;
        }
        pthread_mutex_lock(&cam->lock);
        cam->lv_running = true;
        pthread_mutex_unlock(&cam->lock);
    }
    pthread_mutex_lock(&cam->lock);
    bool events = cam->tethered || cam->n_user_subs > 0 || clock_mono_ns() < cam->watch_until_ns;
    pthread_mutex_unlock(&cam->lock);
    if (events) poll_events(cam);
    pthread_mutex_lock(&cam->lock);
    if (cam->head == NULL && !cam->closing && cam->be && cam->lv_subscribers > 0) {
        struct timespec ts = deadline_ts(clock_mono_ns() + EVENT_POLL_NS);
        pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
    }
    pthread_mutex_unlock(&cam->lock);
}

static void *owner_main(void *arg)
{
    tether_camera *cam = arg;
    log_set_thread_name("camera");
    char err[512] = "";
    backend *be = NULL;
    int rc = cam->ops->open(cam->spec, &be, err, sizeof err);
    if (rc == TETHER_OK) read_connection(cam, be);
    pthread_mutex_lock(&cam->lock);
    cam->be = be;
    cam->open_result = rc;
    cam->open_done = true;
    snprintf(cam->open_err, sizeof cam->open_err, "%s", err);
    if (rc == TETHER_OK) cam->connected = true;
    pthread_cond_broadcast(&cam->done);
    if (rc != TETHER_OK) {
        pthread_mutex_unlock(&cam->lock);
        return NULL;
    }

    while (!cam->closing) {
        job *j = cam->head;
        if (j) {
            cam->head = j->next;
            if (cam->head == NULL) cam->tail = NULL;
            cam->running = j;
            bool cancelled = j->cancelled || cam->closing;
            pthread_mutex_unlock(&cam->lock);
            int r;
            if (cancelled) {
                r = TETHER_ERR_CANCELLED;
            } else if (j->needs_camera && cam->be == NULL) {
                r = TETHER_ERR_DISCONNECTED;
                set_error(cam, "%s", "the camera is disconnected; reconnecting");
            } else {
                cam->own_error = false;
                r = j->fn(cam, j->arg);
                if (r != TETHER_OK && cam->be) {
                    pthread_mutex_lock(&cam->lock);
                    /* a local failure's detail was set by the job */
                    if (r != TETHER_ERR_CANCELLED && !is_local_failure(r) && !cam->own_error)
                        set_error_locked(cam, cam->ops->last_error(cam->be));
                    pthread_mutex_unlock(&cam->lock);
                    check_link(cam, r);
                    if (cam->be == NULL && r != TETHER_ERR_CANCELLED) r = TETHER_ERR_DISCONNECTED;
                }
            }
            pthread_mutex_lock(&cam->lock);
            cam->running = NULL;
            j->result = r;
            j->done = true;
            if (j->abandoned) {
                job_free(j);
            }
            pthread_cond_broadcast(&cam->done);
            continue;
        }
        int64_t now = clock_mono_ns();
        if (cam->holds > 0 && cam->be) {
            /* held (tether_camera_hold): no live-view fetch or event look
             * of its own, so a job queued now starts at once */
            cam->held = true;
            pthread_cond_broadcast(&cam->done);
            struct timespec ts = deadline_ts(now + 500000000);
            pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
            cam->held = false;
            continue;
        }
        if (cam->be == NULL) {
            if (now >= cam->next_reopen_ns) {
                pthread_mutex_unlock(&cam->lock);
                try_reopen(cam);
                pthread_mutex_lock(&cam->lock);
                continue;
            }
            struct timespec ts = deadline_ts(cam->next_reopen_ns);
            pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
            continue;
        }
        if (cam->lv_subscribers > 0) {
            pthread_mutex_unlock(&cam->lock);
            if (cam->ops->preview) liveview_step(cam);
            else if (cam->ops->liveview_start) liveview_push(cam);
            pthread_mutex_lock(&cam->lock);
            if (!cam->ops->preview && !cam->ops->liveview_start) {
                struct timespec ts = deadline_ts(clock_mono_ns() + 500000000);
                pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
            }
            continue;
        }
        if (cam->lv_running) {
            /* nobody watches any more: let the camera rest */
            cam->lv_running = false;
            pthread_mutex_unlock(&cam->lock);
            if (cam->ops->liveview_stop) cam->ops->liveview_stop(cam->be);
            pthread_mutex_lock(&cam->lock);
            continue;
        }
        if (cam->tethered || cam->n_user_subs > 0 || now < cam->watch_until_ns) {
            pthread_mutex_unlock(&cam->lock);
            poll_events(cam);
            pthread_mutex_lock(&cam->lock);
            if (cam->head == NULL && !cam->closing && cam->be) {
                struct timespec ts = deadline_ts(clock_mono_ns() + EVENT_POLL_NS);
                pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
            }
            continue;
        }
        struct timespec ts = deadline_ts(now + 500000000);
        pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
    }
    pthread_mutex_unlock(&cam->lock);
    if (cam->be) cam->ops->close(cam->be);
    cam->be = NULL;
    return NULL;
}

/* Runs fn(cam, arg) on the owner thread and waits up to timeout_ms.
 * arg must be malloc'ed; it is freed here, or by the owner thread if the
 * wait times out.  out_arg, if not NULL, gets arg back on success (the
 * caller frees it then). */
/* camera_call with an argument that free_arg releases (an open file). */
static int camera_call_owned(tether_camera *cam, int (*fn)(tether_camera *, void *), void *arg,
                             void (*free_arg)(void *), bool needs_camera, int timeout_ms, void **out_arg)
{
    if (out_arg) *out_arg = NULL;
    job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        if (free_arg) free_arg(arg);
        else free(arg);
        return TETHER_ERR_NO_MEMORY;
    }
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    j->needs_camera = needs_camera;
    pthread_mutex_lock(&cam->lock);
    if (cam->closing) {
        pthread_mutex_unlock(&cam->lock);
        job_free(j);
        return TETHER_ERR_CLOSED;
    }
    if (needs_camera && !cam->connected && cam->head == NULL && cam->running == NULL) {
        /* fail fast: nothing will bring the camera back in this call */
        set_error_locked(cam, "the camera is disconnected; reconnecting");
        pthread_mutex_unlock(&cam->lock);
        job_free(j);
        return TETHER_ERR_DISCONNECTED;
    }
    if (cam->tail) cam->tail->next = j;
    else cam->head = j;
    cam->tail = j;
    pthread_cond_signal(&cam->wake);
    if (timeout_ms <= 0) timeout_ms = cam->timeout_ms;
    struct timespec ts = deadline_ts(clock_mono_ns() + (int64_t)timeout_ms * 1000000);
    while (!j->done) {
        if (pthread_cond_timedwait(&cam->done, &cam->lock, &ts) == ETIMEDOUT) break;
    }
    int rc;
    if (j->done) {
        rc = j->result;
        if (out_arg && rc == TETHER_OK) {
            *out_arg = j->arg;
            free(j);
        } else {
            job_free(j);
        }
    } else {
        rc = TETHER_ERR_TIMEOUT;
        char msg[128];
        snprintf(msg, sizeof msg, "no answer within %d ms", timeout_ms);
        set_error_locked(cam, msg);
        if (cam->running == j) {
            j->abandoned = true; /* the owner frees it */
        } else {
            job **pp = &cam->head, *prev = NULL;
            while (*pp && *pp != j) prev = *pp, pp = &(*pp)->next;
            if (*pp) *pp = j->next;
            if (cam->tail == j) cam->tail = prev;
            job_free(j);
        }
    }
    pthread_mutex_unlock(&cam->lock);
    return rc;
}

static int camera_call(tether_camera *cam, int (*fn)(tether_camera *, void *), void *arg, bool needs_camera,
                       int timeout_ms, void **out_arg)
{
    return camera_call_owned(cam, fn, arg, NULL, needs_camera, timeout_ms, out_arg);
}

/* ---- public: sessions -------------------------------------------------------------------- */

int tether_list_cameras(tether_camera_info *out, int max, int *count)
{
    if (count == NULL || (out == NULL && max > 0)) return TETHER_ERR_INVALID_ARGUMENT;
    return backend_list_cameras(out, max, count);
}

void tether_spec_forms(char *buf, size_t size)
{
    backend_spec_forms(buf, size);
}

static void camera_free(tether_camera *cam)
{
    /* subscriptions left open (the caller should have ended them) */
    while (cam->subs) {
        tether_event_sub *sub = cam->subs;
        cam->subs = sub->next;
        free(sub->ring);
        if (sub != &cam->builtin) free(sub);
    }
    blob_unref(cam->last_capture);
    tether_frame_unref(cam->lv_latest);
    pthread_cond_destroy(&cam->lv_cond);
    pthread_cond_destroy(&cam->wake);
    pthread_cond_destroy(&cam->done);
    pthread_cond_destroy(&cam->ev_cond);
    pthread_mutex_destroy(&cam->lock);
    free(cam);
}

static void protect_std_fds(void)
{
    if (stdfds_protect() != 0) LOG_WARN("camera", "cannot open /dev/null: %s", strerror(errno));
}

int tether_camera_open(const char *spec, int timeout_ms, tether_camera **out, char *errbuf,
                       size_t errsz)
{
    if (out == NULL || spec == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *out = NULL;
    /* no camera socket may ever get number 0, 1 or 2 (see stdfds.h) */
    static pthread_once_t std_once = PTHREAD_ONCE_INIT;
    pthread_once(&std_once, protect_std_fds);
    const backend_ops *ops = backend_for_spec(spec);
    if (ops == NULL || strlen(spec) >= 256) {
        char forms[1024];
        backend_spec_forms(forms, sizeof forms);
        if (errbuf) snprintf(errbuf, errsz, "unknown camera \"%s\"; a camera is one of:\n%s", spec, forms);
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    tether_camera *cam = calloc(1, sizeof *cam);
    if (cam == NULL) return TETHER_ERR_NO_MEMORY;
    cam->builtin.ring = calloc(EVENT_RING, sizeof *cam->builtin.ring);
    if (cam->builtin.ring == NULL) {
        free(cam);
        return TETHER_ERR_NO_MEMORY;
    }
    cam->builtin.cam = cam;
    cam->subs = &cam->builtin;
    cam->frame_sink.cam = cam;
    snprintf(cam->spec, sizeof cam->spec, "%s", spec);
    cam->ops = ops;
    cam->timeout_ms = 30000;
    pthread_mutex_init(&cam->lock, NULL);
    cond_init_mono(&cam->wake);
    cond_init_mono(&cam->done);
    cond_init_mono(&cam->ev_cond);
    cond_init_mono(&cam->lv_cond);
    if (pthread_create(&cam->owner, NULL, owner_main, cam) != 0) {
        camera_free(cam);
        return TETHER_ERR_NO_MEMORY;
    }
    pthread_mutex_lock(&cam->lock);
    struct timespec ts = deadline_ts(clock_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 30000) * 1000000);
    while (!cam->open_done)
        if (pthread_cond_timedwait(&cam->done, &cam->lock, &ts) == ETIMEDOUT) break;
    int rc = cam->open_done ? cam->open_result : TETHER_ERR_TIMEOUT;
    if (errbuf && rc != TETHER_OK)
        snprintf(errbuf, errsz, "%s", cam->open_done ? cam->open_err : "the camera did not answer in time");
    cam->closing = rc != TETHER_OK;
    pthread_cond_broadcast(&cam->wake);
    pthread_mutex_unlock(&cam->lock);
    if (rc != TETHER_OK) {
        pthread_join(cam->owner, NULL);
        camera_free(cam);
        return rc;
    }
    pthread_mutex_lock(&g_open_lock);
    cam->next_open = g_open;
    g_open = cam;
    pthread_mutex_unlock(&g_open_lock);
    *out = cam;
    return TETHER_OK;
}

void tether_camera_close(tether_camera *cam)
{
    if (cam == NULL) return;
    pthread_mutex_lock(&g_open_lock);
    for (tether_camera **pp = &g_open; *pp; pp = &(*pp)->next_open) {
        if (*pp == cam) {
            *pp = cam->next_open;
            break;
        }
    }
    pthread_mutex_unlock(&g_open_lock);
    pthread_mutex_lock(&cam->lock);
    cam->closing = true;
    atomic_store(&cam->cancel, true);
    for (job *j = cam->head; j; j = j->next) j->cancelled = true;
    pthread_cond_broadcast(&cam->wake);
    pthread_cond_broadcast(&cam->ev_cond);
    pthread_cond_broadcast(&cam->lv_cond);
    pthread_mutex_unlock(&cam->lock);
    pthread_join(cam->owner, NULL);
    /* queued jobs: their callers are waiting; answer them */
    pthread_mutex_lock(&cam->lock);
    for (job *j = cam->head; j; j = j->next) {
        j->result = TETHER_ERR_CLOSED;
        j->done = true;
    }
    pthread_cond_broadcast(&cam->done);
    pthread_mutex_unlock(&cam->lock);
    camera_free(cam);
}

void tether_camera_set_timeout(tether_camera *cam, int timeout_ms)
{
    pthread_mutex_lock(&cam->lock);
    cam->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    pthread_mutex_unlock(&cam->lock);
}

void tether_camera_cancel(tether_camera *cam)
{
    pthread_mutex_lock(&cam->lock);
    for (job *j = cam->head; j; j = j->next) j->cancelled = true;
    if (cam->running) atomic_store(&cam->cancel, true);
    pthread_mutex_unlock(&cam->lock);
}

int tether_camera_hold(tether_camera *cam, bool hold, int timeout_ms)
{
    pthread_mutex_lock(&cam->lock);
    if (!hold) {
        if (cam->holds > 0) cam->holds--;
        pthread_cond_signal(&cam->wake);
        pthread_mutex_unlock(&cam->lock);
        return TETHER_OK;
    }
    cam->holds++;
    pthread_cond_signal(&cam->wake);
    struct timespec ts = deadline_ts(clock_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000);
    while (!cam->held && cam->connected && !cam->closing)
        if (pthread_cond_timedwait(&cam->done, &cam->lock, &ts) == ETIMEDOUT) break;
    int rc = cam->held ? TETHER_OK
             : cam->closing ? TETHER_ERR_CLOSED
             : !cam->connected ? TETHER_ERR_DISCONNECTED
                               : TETHER_ERR_TIMEOUT;
    pthread_mutex_unlock(&cam->lock);
    return rc; /* held either way: the caller releases it */
}

void tether_camera_last_error(tether_camera *cam, char *buf, size_t size)
{
    pthread_mutex_lock(&cam->lock);
    snprintf(buf, size, "%s", cam->last_error);
    pthread_mutex_unlock(&cam->lock);
}

bool tether_camera_connected(tether_camera *cam)
{
    pthread_mutex_lock(&cam->lock);
    bool c = cam->connected;
    pthread_mutex_unlock(&cam->lock);
    return c;
}

void tether_camera_model(tether_camera *cam, char *buf, size_t size)
{
    pthread_mutex_lock(&cam->lock);
    snprintf(buf, size, "%s", cam->model);
    pthread_mutex_unlock(&cam->lock);
}

void tether_camera_identity(tether_camera *cam, char *buf, size_t size)
{
    pthread_mutex_lock(&cam->lock);
    snprintf(buf, size, "%s", cam->identity);
    pthread_mutex_unlock(&cam->lock);
}

/* A long job checks this between steps; clears the flag it reports. */
static bool cancelled(tether_camera *cam)
{
    return atomic_exchange(&cam->cancel, false);
}

/* ---- public: jobs ------------------------------------------------------------------------- */

/* The jobs that produce one object: the run function stores it in
 * result_arg.out; call_for_result hands it to the caller. */
typedef struct result_arg {
    void *out;
} result_arg;

static int call_for_result(tether_camera *cam, int (*fn)(tether_camera *, void *), void **out)
{
    result_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    void *res;
    int rc = camera_call(cam, fn, a, true, 0, &res);
    if (rc == TETHER_OK) {
        *out = ((result_arg *)res)->out;
        free(res);
    }
    return rc;
}

static int run_summary(tether_camera *cam, void *arg)
{
    return cam->ops->summary(cam->be, (char **)&((result_arg *)arg)->out);
}

int tether_camera_summary(tether_camera *cam, char **text)
{
    return call_for_result(cam, run_summary, (void **)text);
}

/* The canonical name of a native setting, or NULL (owner thread). */
static const char *canonical_of(tether_camera *cam, const tether_setting *s)
{
    for (int i = 0; i < cam->caps.n_settings; i++)
        if (strcmp(cam->native[i], s->name) == 0 || strcmp(cam->native[i], s->path) == 0) return cam->caps.settings[i];
    return NULL;
}

/* Where a canonical name lives on this camera; other names unchanged
 * (owner thread). */
static const char *native_of(tether_camera *cam, const char *name)
{
    for (int i = 0; i < cam->caps.n_settings; i++)
        if (strcmp(cam->caps.settings[i], name) == 0) return cam->native[i];
    return name;
}

static int run_settings_list(tether_camera *cam, void *arg)
{
    tether_settings **out = (tether_settings **)&((result_arg *)arg)->out;
    int rc;
    BUSY_RETRY(cam, rc, cam->ops->settings_list(cam->be, out));
    if (rc != TETHER_OK) return rc;
    /* each canonical name once, on the setting it maps to */
    for (int i = 0; i < (*out)->count; i++) {
        tether_setting *s = &(*out)->items[i];
        const char *c = canonical_of(cam, s);
        bool taken = false;
        for (int k = 0; c && k < i && !taken; k++) taken = strcmp((*out)->items[k].canonical, c) == 0;
        snprintf(s->canonical, sizeof s->canonical, "%s", c && !taken ? c : "");
    }
    return TETHER_OK;
}

int tether_settings_list(tether_camera *cam, tether_settings **out)
{
    return call_for_result(cam, run_settings_list, (void **)out);
}

typedef struct setting_arg {
    char path[256];
    char value[256];
    tether_setting setting;
} setting_arg;

static int run_setting_get(tether_camera *cam, void *arg)
{
    setting_arg *a = arg;
    int rc;
    BUSY_RETRY(cam, rc, cam->ops->setting_get(cam->be, native_of(cam, a->path), &a->setting));
    if (rc != TETHER_OK) return rc;
    const char *c = canonical_of(cam, &a->setting);
    snprintf(a->setting.canonical, sizeof a->setting.canonical, "%s", c ? c : "");
    return TETHER_OK;
}

static int run_setting_set(tether_camera *cam, void *arg)
{
    setting_arg *a = arg;
    int rc;
    BUSY_RETRY(cam, rc, cam->ops->setting_set(cam->be, native_of(cam, a->path), a->value));
    return rc;
}

static void setting_arg_free(void *arg)
{
    setting_arg *a = arg;
    tether_setting_clear(&a->setting); /* a reading abandoned after the camera answered */
    free(a);
}

int tether_setting_get(tether_camera *cam, const char *path_or_name, tether_setting *out)
{
    if (path_or_name == NULL || out == NULL || strlen(path_or_name) >= 256) return TETHER_ERR_INVALID_ARGUMENT;
    setting_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(a->path, sizeof a->path, "%s", path_or_name);
    void *res;
    int rc = camera_call_owned(cam, run_setting_get, a, setting_arg_free, true, 0, &res);
    if (rc == TETHER_OK) {
        *out = ((setting_arg *)res)->setting;
        free(res);
    }
    return rc;
}

int tether_setting_set(tether_camera *cam, const char *path_or_name, const char *value)
{
    if (path_or_name == NULL || value == NULL || strlen(path_or_name) >= 256 || strlen(value) >= 256)
        return TETHER_ERR_INVALID_ARGUMENT;
    setting_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(a->path, sizeof a->path, "%s", path_or_name);
    snprintf(a->value, sizeof a->value, "%s", value);
    return camera_call(cam, run_setting_set, a, true, 0, NULL);
}

typedef struct zoom_arg {
    int factor;
    double cx, cy;
} zoom_arg;

static int run_zoom(tether_camera *cam, void *arg)
{
    zoom_arg *a = arg;
    if (cam->ops->liveview_zoom == NULL || !(cam->caps.bits & TETHER_CAP_ZOOM))
        return job_fail(cam, TETHER_ERR_NOT_SUPPORTED, "this camera has no magnified live view");
    if (a->factor > cam->caps.focus.zoom_max)
        return job_fail(cam, TETHER_ERR_BAD_VALUE, "live-view magnification goes up to %d (got %d)",
                        cam->caps.focus.zoom_max, a->factor);
    return cam->ops->liveview_zoom(cam->be, a->factor, a->cx, a->cy);
}

static int run_preview(tether_camera *cam, void *arg)
{
    backend_frame bf = {0};
    int64_t asked = clock_mono_ns();
    int rc = cam->ops->preview(cam->be, &bf);
    if (bf.time_ns == 0) bf.time_ns = asked;
    if (rc != TETHER_OK) {
        blob_unref(bf.data);
        return rc;
    }
    int64_t t = clock_mono_ns();
    blob *jpeg = NULL;
    rc = convert_to_jpeg(&bf, &jpeg);
    if (rc != TETHER_OK) return job_fail(cam, rc, "the camera's live-view frame cannot be converted to JPEG");
    tether_frame *f = frame_new(jpeg, t, bf.time_ns, t - asked);
    if (f == NULL) {
        blob_unref(jpeg);
        return TETHER_ERR_NO_MEMORY;
    }
    ((result_arg *)arg)->out = f;
    return TETHER_OK;
}

int tether_preview(tether_camera *cam, tether_frame **out)
{
    if (out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (cam->ops->preview) return call_for_result(cam, run_preview, (void **)out);
    if (cam->ops->liveview_start == NULL) {
        set_error(cam, "%s", "this camera has no live view");
        return TETHER_ERR_NOT_SUPPORTED;
    }
    /* a pushing backend: watch until the next frame arrives */
    pthread_mutex_lock(&cam->lock);
    uint64_t seq = cam->lv_seq;
    int timeout_ms = cam->timeout_ms;
    pthread_mutex_unlock(&cam->lock);
    tether_liveview_subscribe(cam);
    int rc = tether_liveview_next(cam, &seq, timeout_ms, out);
    tether_liveview_unsubscribe(cam);
    return rc;
}

int tether_liveview_zoom(tether_camera *cam, int factor, double cx, double cy)
{
    if (factor < 1 || !(cx >= 0 && cx <= 1) || !(cy >= 0 && cy <= 1)) return TETHER_ERR_INVALID_ARGUMENT;
    zoom_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    *a = (zoom_arg){factor, cx, cy};
    return camera_call(cam, run_zoom, a, true, 0, NULL);
}

/* ---- capabilities ---- */

int tether_camera_capabilities(tether_camera *cam, tether_capabilities *out)
{
    if (out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&cam->lock);
    bool has = cam->has_caps;
    if (has) *out = cam->caps;
    else memset(out, 0, sizeof *out);
    pthread_mutex_unlock(&cam->lock);
    return has ? TETHER_OK : TETHER_ERR_DISCONNECTED;
}

/* ---- capture -------------------------------------------------------------------------------- */

typedef struct capture_arg {
    char dir[1024];
    char tmpl[256];
    char session[128];
    bool keep;
    int highest;            /* the highest {counter} of the template in dir before the shot */
    tether_shot shot;
    /* to buffer */
    bool to_memory;
} capture_arg;

static int capture_to_memory(tether_camera *cam, capture_arg *a, backend_item *items, int n);
static int capture_to_files(tether_camera *cam, capture_arg *a, backend_item *items, int n);

static int run_capture(tether_camera *cam, void *arg)
{
    capture_arg *a = arg;
    backend_item items[TETHER_MAX_SHOT_FILES];
    memset(items, 0, sizeof items);
    int n = 0;
    int rc;
    BUSY_RETRY(cam, rc, cam->ops->capture(cam->be, items, &n));
    if (rc == TETHER_OK && n == 0) rc = job_fail(cam, TETHER_ERR_CAMERA, "the camera took no picture");
    if (rc == TETHER_OK) rc = a->to_memory ? capture_to_memory(cam, a, items, n) : capture_to_files(cam, a, items, n);
    backend_items_clear(items, n);
    return rc;
}

/* Only files on the card are deleted after their download; a URL or
 * bytes in memory leave nothing behind (owner thread). */
static void delete_from_card(tether_camera *cam, const backend_item *it)
{
    if (it->place == BACKEND_ITEM_CAMERA && cam->ops->delete_file) cam->ops->delete_file(cam->be, it->where);
}

static int capture_to_memory(tether_camera *cam, capture_arg *a, backend_item *items, int n)
{
    int rc = TETHER_OK;
    blob *b = NULL;
    if (items[0].place == BACKEND_ITEM_MEMORY && items[0].data) {
        b = blob_ref(items[0].data);
    } else {
        bytebuf mem = BYTEBUF_INIT;
        backend_sink sink = {.fd = -1, .mem = &mem};
        rc = fetch_item(cam, &items[0], &sink);
        if (rc == TETHER_OK) {
            b = blob_from(mem.data, mem.len);
            if (b == NULL) rc = TETHER_ERR_NO_MEMORY;
        }
        bytebuf_free(&mem);
    }
    if (b) {
        pthread_mutex_lock(&cam->lock);
        blob_unref(cam->last_capture);
        cam->last_capture = b;
        pthread_mutex_unlock(&cam->lock);
    }
    for (int i = 0; i < n && !a->keep; i++) delete_from_card(cam, &items[i]);
    return rc;
}

static int capture_to_files(tether_camera *cam, capture_arg *a, backend_item *items, int n)
{
    int rc;
    char paths[TETHER_MAX_SHOT_FILES][512];
    for (int i = 0; i < n; i++) snprintf(paths[i], sizeof paths[i], "%s", items[i].where);

    /* one base name for the whole shot (RAW + JPEG keep it) */
    int counter = next_counter(cam, a->tmpl, a->highest);
    int64_t now = time(NULL);
    char first[256], ext[32];
    split_name(paths[0], first, sizeof first, ext, sizeof ext);
    continue_capt_name(cam, first, sizeof first);
    char names[TETHER_MAX_SHOT_FILES][1024], exts[TETHER_MAX_SHOT_FILES][40];
    const char *ext_list[TETHER_MAX_SHOT_FILES];
    char base0[1024] = "";
    bool same_base = true;
    for (int i = 0; i < n; i++) {
        char name[256];
        split_name(paths[i], name, sizeof name, ext, sizeof ext);
        tether_name_vars v = {.counter = counter, .time = now, .model = cam->model,
                              .session = a->session, .name = first, .ext = ext};
        char err[256];
        rc = tether_name_expand(a->tmpl, &v, names[i], sizeof names[i], err, sizeof err);
        if (rc != TETHER_OK) {
            set_error(cam, "%s", err);
            return rc;
        }
        char *dot = strrchr(names[i], '.');
        snprintf(exts[i], sizeof exts[i], "%s", dot ? dot : "");
        if (dot) *dot = '\0';
        ext_list[i] = exts[i];
        if (i == 0) snprintf(base0, sizeof base0, "%s", names[i]);
        else if (strcmp(base0, names[i]) != 0) same_base = false;
    }
    char base[1024];
    if (same_base && store_unique_base(a->dir, base0, ext_list, n, base, sizeof base) == TETHER_OK) {
        for (int i = 0; i < n; i++) snprintf(names[i], sizeof names[i], "%s", base);
    }
    a->shot.n_files = 0;
    for (int i = 0; i < n; i++) {
        if (cancelled(cam)) return TETHER_ERR_CANCELLED;
        char file[1100];
        snprintf(file, sizeof file, "%s%s", names[i], exts[i]);
        char *local = a->shot.files[a->shot.n_files];
        rc = download_to(cam, &items[i], a->dir, file, local, sizeof a->shot.files[0]);
        if (rc != TETHER_OK) return rc;
        snprintf(a->shot.camera_files[a->shot.n_files], sizeof a->shot.camera_files[0], "%s", paths[i]);
        a->shot.n_files++;
        if (!a->keep) delete_from_card(cam, &items[i]);
    }
    return TETHER_OK;
}

int tether_capture(tether_camera *cam, const tether_capture_options *opts, tether_shot *shot)
{
    capture_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    const char *dir = opts && opts->dir ? opts->dir : ".";
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    snprintf(a->tmpl, sizeof a->tmpl, "%s", opts && opts->name_template ? opts->name_template : "{name}");
    snprintf(a->session, sizeof a->session, "%s", opts && opts->session ? opts->session : "");
    a->keep = opts && opts->keep_on_card;
    int rc = store_mkdirs(a->dir);
    if (rc != TETHER_OK) {
        set_error(cam, "cannot create the folder %s: %s", a->dir, strerror(errno));
        free(a);
        return rc;
    }
    /* check the template before the shutter fires */
    tether_name_vars v = {.counter = 1, .ext = "jpg"};
    char test[1024], err[256];
    if (tether_name_expand(a->tmpl, &v, test, sizeof test, err, sizeof err) != TETHER_OK) {
        set_error(cam, "%s", err);
        free(a);
        return TETHER_ERR_BAD_VALUE;
    }
    /* numbers go on after the folder's (another process's shots), read here
     * rather than on the owner thread, which the shutter waits for */
    if (strstr(a->tmpl, "{counter")) tether_name_counter_in_dir(a->dir, a->tmpl, &a->highest);
    atomic_store(&cam->cancel, false);
    void *res;
    rc = camera_call(cam, run_capture, a, true, 0, &res);
    if (rc == TETHER_OK) {
        if (shot) *shot = ((capture_arg *)res)->shot;
        free(res);
    }
    return rc;
}

static int copy_last(tether_camera *cam, uint8_t *buf, size_t cap, size_t *len)
{
    pthread_mutex_lock(&cam->lock);
    blob *b = blob_ref(cam->last_capture);
    pthread_mutex_unlock(&cam->lock);
    if (b == NULL) return TETHER_ERR_NOT_FOUND;
    *len = b->len;
    int rc = TETHER_OK;
    if (b->len > cap || buf == NULL) rc = TETHER_ERR_BUFFER_TOO_SMALL;
    else memcpy(buf, b->data, b->len);
    blob_unref(b);
    return rc;
}

int tether_capture_to_buffer(tether_camera *cam, uint8_t *buf, size_t cap, size_t *len)
{
    if (len == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    capture_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    a->to_memory = true;
    int rc = camera_call(cam, run_capture, a, true, 0, NULL);
    if (rc != TETHER_OK) return rc;
    return copy_last(cam, buf, cap, len);
}

int tether_capture_fetch(tether_camera *cam, uint8_t *buf, size_t cap, size_t *len)
{
    if (len == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    return copy_last(cam, buf, cap, len);
}

/* ---- files --------------------------------------------------------------------------------- */

static int run_files_list(tether_camera *cam, void *arg)
{
    int rc;
    BUSY_RETRY(cam, rc, cam->ops->list_files(cam->be, (tether_file_list **)&((result_arg *)arg)->out));
    return rc;
}

int tether_files_list(tether_camera *cam, tether_file_list **out)
{
    return call_for_result(cam, run_files_list, (void **)out);
}

typedef struct file_arg {
    char camera_path[512];
    char local[4096];
} file_arg;

static int run_download(tether_camera *cam, void *arg)
{
    file_arg *a = arg;
    char dir[4096], *slash;
    snprintf(dir, sizeof dir, "%s", a->local);
    slash = strrchr(dir, '/');
    const char *name = slash ? slash + 1 : a->local;
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    store_atomic at;
    int rc = store_atomic_begin(&at, dir[0] ? dir : "/");
    if (rc != TETHER_OK) {
        set_error(cam, "cannot write into %s: %s", dir[0] ? dir : "/", at.err ? strerror(at.err) : tether_strerror(rc));
        return rc;
    }
    backend_sink sink = {.fd = at.fd};
    rc = cam->ops->download(cam->be, a->camera_path, &sink);
    if (rc != TETHER_OK) {
        store_atomic_abort(&at);
        if (is_local_failure(rc)) set_error(cam, "%s (%s)", cam->ops->last_error(cam->be), a->local);
        return rc;
    }
    rc = store_atomic_commit(&at, name);
    if (rc == TETHER_ERR_EXISTS) {
        store_atomic_abort(&at);
        set_error(cam, "%s exists; not overwritten", a->local);
    } else if (rc != TETHER_OK) {
        set_error(cam, "cannot store %s: %s", a->local, at.err ? strerror(at.err) : tether_strerror(rc));
    }
    return rc;
}

int tether_file_download(tether_camera *cam, const char *camera_path, const char *local_path)
{
    if (!camera_path || !local_path || strlen(camera_path) >= 512 || strlen(local_path) >= 4096)
        return TETHER_ERR_INVALID_ARGUMENT;
    if (access(local_path, F_OK) == 0) {
        set_error(cam, "%s exists; not overwritten", local_path);
        return TETHER_ERR_EXISTS;
    }
    file_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(a->camera_path, sizeof a->camera_path, "%s", camera_path);
    snprintf(a->local, sizeof a->local, "%s", local_path);
    return camera_call(cam, run_download, a, true, 0, NULL);
}

typedef struct fd_arg {
    char camera_path[512];
    int fd;                  /* a duplicate the job owns: the caller may close its own at any time */
} fd_arg;

static void fd_arg_free(void *arg)
{
    fd_arg *a = arg;
    if (a->fd >= 0) close(a->fd);
    free(a);
}

static int run_download_fd(tether_camera *cam, void *arg)
{
    fd_arg *a = arg;
    backend_sink sink = {.fd = a->fd};
    int rc = cam->ops->download(cam->be, a->camera_path, &sink);
    if (is_local_failure(rc)) set_error(cam, "%s", cam->ops->last_error(cam->be));
    return rc;
}

int tether_file_download_fd(tether_camera *cam, const char *camera_path, int fd)
{
    if (!camera_path || strlen(camera_path) >= 512 || fd < 0) return TETHER_ERR_INVALID_ARGUMENT;
    fd_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(a->camera_path, sizeof a->camera_path, "%s", camera_path);
    a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (a->fd < 0) {
        free(a);
        return TETHER_ERR_IO;
    }
    return camera_call_owned(cam, run_download_fd, a, fd_arg_free, true, 0, NULL);
}

static int run_delete(tether_camera *cam, void *arg)
{
    return cam->ops->delete_file(cam->be, ((file_arg *)arg)->camera_path);
}

static int run_card_release(tether_camera *cam, void *arg)
{
    (void)arg;
    return cam->ops->card_release ? cam->ops->card_release(cam->be) : TETHER_OK;
}

int tether_card_release(tether_camera *cam)
{
    if (cam == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    return camera_call(cam, run_card_release, NULL, true, 0, NULL);
}

int tether_file_delete(tether_camera *cam, const char *camera_path)
{
    if (!camera_path || strlen(camera_path) >= 512) return TETHER_ERR_INVALID_ARGUMENT;
    file_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(a->camera_path, sizeof a->camera_path, "%s", camera_path);
    return camera_call(cam, run_delete, a, true, 0, NULL);
}

/* ---- focus ---------------------------------------------------------------------------------- */

typedef struct focus_arg {
    int direction, step, count;
} focus_arg;

/* Drives in steps the backend offers, paced by its focus caps: no body
 * says when a move ends, and a command sent while too many are in flight
 * may be lost (owner thread). */
static int run_focus(tether_camera *cam, void *arg)
{
    focus_arg *a = arg;
    const tether_focus_caps *fc = &cam->caps.focus;
    if (fc->kind != TETHER_FOCUS_RELATIVE || cam->ops->focus_drive == NULL)
        return job_fail(cam, TETHER_ERR_NOT_SUPPORTED, "this camera has no focus drive");
    if (a->step > fc->n_steps)
        return job_fail(cam, TETHER_ERR_BAD_VALUE, "this camera's focus drive takes step 1..%d (got %d)", fc->n_steps,
                        a->step);
    int64_t pace_ns = (int64_t)fc->pace_ms[a->step - 1] * 1000000;
    for (int i = 0; i < a->count; i++) {
        if (cancelled(cam)) return TETHER_ERR_CANCELLED;
        int rc;
        BUSY_RETRY(cam, rc, cam->ops->focus_drive(cam->be, a->direction, a->step));
        if (rc != TETHER_OK) return rc;
        if (i + 1 < a->count && pace_ns > 0) clock_sleep_ns(pace_ns);
    }
    return TETHER_OK;
}

int tether_focus_drive(tether_camera *cam, int direction, int step, int count)
{
    if ((direction != 1 && direction != -1) || step < 1 || step > 3 || count < 1 || count > 10000)
        return TETHER_ERR_INVALID_ARGUMENT;
    focus_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    *a = (focus_arg){direction, step, count};
    atomic_store(&cam->cancel, false);
    return camera_call(cam, run_focus, a, true, 0, NULL);
}

typedef struct position_arg {
    int position;
} position_arg;

static int check_absolute(tether_camera *cam, bool set)
{
    if (cam->caps.focus.kind != TETHER_FOCUS_ABSOLUTE || (set ? !cam->ops->focus_set : !cam->ops->focus_get))
        return job_fail(cam, TETHER_ERR_NOT_SUPPORTED, "this camera has no absolute focus position");
    return TETHER_OK;
}

static int run_focus_set(tether_camera *cam, void *arg)
{
    int p = ((position_arg *)arg)->position;
    int rc = check_absolute(cam, true);
    if (rc != TETHER_OK) return rc;
    if (p < cam->caps.focus.min || p > cam->caps.focus.max)
        return job_fail(cam, TETHER_ERR_BAD_VALUE, "the focus position goes from %d to %d (got %d)",
                        cam->caps.focus.min, cam->caps.focus.max, p);
    return cam->ops->focus_set(cam->be, p);
}

static int run_focus_get(tether_camera *cam, void *arg)
{
    int rc = check_absolute(cam, false);
    return rc != TETHER_OK ? rc : cam->ops->focus_get(cam->be, &((position_arg *)arg)->position);
}

int tether_focus_set(tether_camera *cam, int position)
{
    position_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    a->position = position;
    return camera_call(cam, run_focus_set, a, true, 0, NULL);
}

int tether_focus_get(tether_camera *cam, int *position)
{
    if (position == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    position_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    void *res;
    int rc = camera_call(cam, run_focus_get, a, true, 0, &res);
    if (rc == TETHER_OK) {
        *position = ((position_arg *)res)->position;
        free(res);
    }
    return rc;
}

/* ---- events and tethered mode -------------------------------------------------------------- */

/* Waits for sub's next event (lock held on entry and exit). */
static int next_event_locked(tether_camera *cam, tether_event_sub *sub, int timeout_ms, tether_event *out)
{
    struct timespec ts = deadline_ts(clock_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000);
    while (sub->count == 0 && !cam->closing)
        if (pthread_cond_timedwait(&cam->ev_cond, &cam->lock, &ts) == ETIMEDOUT) break;
    if (sub->count > 0) {
        *out = sub->ring[sub->head];
        out->dropped = sub->dropped;
        sub->dropped = 0;
        sub->head = (sub->head + 1) % EVENT_RING;
        sub->count--;
        return TETHER_OK;
    }
    return cam->closing ? TETHER_ERR_CLOSED : TETHER_ERR_TIMEOUT;
}

int tether_wait_event(tether_camera *cam, int timeout_ms, tether_event *out)
{
    if (out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&cam->lock);
    int64_t watch = clock_mono_ns() + WATCH_NS;
    if (watch > cam->watch_until_ns) cam->watch_until_ns = watch;
    pthread_cond_signal(&cam->wake);
    int rc = next_event_locked(cam, &cam->builtin, timeout_ms, out);
    pthread_mutex_unlock(&cam->lock);
    return rc;
}

int tether_events_subscribe(tether_camera *cam, tether_event_sub **out)
{
    if (out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *out = NULL;
    tether_event_sub *sub = calloc(1, sizeof *sub);
    if (sub) sub->ring = calloc(EVENT_RING, sizeof *sub->ring);
    if (sub == NULL || sub->ring == NULL) {
        free(sub);
        return TETHER_ERR_NO_MEMORY;
    }
    sub->cam = cam;
    pthread_mutex_lock(&cam->lock);
    if (cam->closing) {
        pthread_mutex_unlock(&cam->lock);
        free(sub->ring);
        free(sub);
        return TETHER_ERR_CLOSED;
    }
    sub->next = cam->subs;
    cam->subs = sub;
    cam->n_user_subs++;
    pthread_cond_signal(&cam->wake); /* start watching the camera's events */
    pthread_mutex_unlock(&cam->lock);
    *out = sub;
    return TETHER_OK;
}

int tether_events_next(tether_event_sub *sub, int timeout_ms, tether_event *out)
{
    if (sub == NULL || out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    tether_camera *cam = sub->cam;
    pthread_mutex_lock(&cam->lock);
    int rc = next_event_locked(cam, sub, timeout_ms, out);
    pthread_mutex_unlock(&cam->lock);
    return rc;
}

void tether_events_unsubscribe(tether_event_sub *sub)
{
    if (sub == NULL) return;
    tether_camera *cam = sub->cam;
    pthread_mutex_lock(&cam->lock);
    for (tether_event_sub **pp = &cam->subs; *pp; pp = &(*pp)->next) {
        if (*pp == sub) {
            *pp = sub->next;
            cam->n_user_subs--;
            break;
        }
    }
    pthread_mutex_unlock(&cam->lock);
    free(sub->ring);
    free(sub);
}

int tether_tethered(tether_camera *cam, const char *dir, const char *name_template, bool keep_on_card)
{
    tether_capture_options o = {.dir = dir, .name_template = name_template, .keep_on_card = keep_on_card};
    return tether_tethered_options(cam, dir ? &o : NULL);
}

int tether_tethered_options(tether_camera *cam, const tether_capture_options *opts)
{
    const char *dir = opts ? (opts->dir ? opts->dir : ".") : NULL;
    const char *name_template = opts ? opts->name_template : NULL;
    int made = dir ? store_mkdirs(dir) : TETHER_OK;
    if (made != TETHER_OK) {
        set_error(cam, "cannot create the folder %s: %s", dir, strerror(errno));
        return made;
    }
    const char *tmpl = name_template ? name_template : "{name}";
    tether_name_vars v = {.counter = 1, .ext = "jpg"};
    char test[1024], err[256];
    if (dir && tether_name_expand(tmpl, &v, test, sizeof test, err, sizeof err) != TETHER_OK) {
        set_error(cam, "%s", err);
        return TETHER_ERR_BAD_VALUE;
    }
    pthread_mutex_lock(&cam->lock);
    cam->tethered = dir != NULL;
    if (dir) {
        snprintf(cam->teth_dir, sizeof cam->teth_dir, "%s", dir);
        snprintf(cam->teth_tmpl, sizeof cam->teth_tmpl, "%s", tmpl);
        snprintf(cam->teth_session, sizeof cam->teth_session, "%s", opts->session ? opts->session : "");
        cam->teth_keep = opts->keep_on_card;
    }
    pthread_cond_signal(&cam->wake);
    pthread_mutex_unlock(&cam->lock);
    return TETHER_OK;
}

/* ---- live view for watchers ------------------------------------------------------------------ */

void tether_liveview_subscribe(tether_camera *cam)
{
    pthread_mutex_lock(&cam->lock);
    cam->lv_subscribers++;
    pthread_cond_signal(&cam->wake);
    pthread_mutex_unlock(&cam->lock);
}

void tether_liveview_unsubscribe(tether_camera *cam)
{
    pthread_mutex_lock(&cam->lock);
    if (cam->lv_subscribers > 0) cam->lv_subscribers--;
    pthread_cond_signal(&cam->wake);
    pthread_mutex_unlock(&cam->lock);
}

int tether_liveview_next(tether_camera *cam, uint64_t *seq, int timeout_ms, tether_frame **out)
{
    if (seq == NULL || out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *out = NULL;
    pthread_mutex_lock(&cam->lock);
    struct timespec ts = deadline_ts(clock_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000);
    while (cam->lv_seq <= *seq && !cam->closing)
        if (pthread_cond_timedwait(&cam->lv_cond, &cam->lock, &ts) == ETIMEDOUT) break;
    int rc;
    if (cam->lv_seq > *seq && cam->lv_latest) {
        *out = tether_frame_ref(cam->lv_latest);
        *seq = cam->lv_seq;
        rc = TETHER_OK;
    } else {
        rc = cam->closing ? TETHER_ERR_CLOSED : !cam->connected ? TETHER_ERR_DISCONNECTED : TETHER_ERR_TIMEOUT;
    }
    pthread_mutex_unlock(&cam->lock);
    return rc;
}
