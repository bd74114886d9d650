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
 *   - Failures of this machine's disk (DISK_FULL, STORAGE) are never the
 *     camera's: no round trip, no reconnect, the detail (path, strerror)
 *     in the last error, no partial file, and a photo that could not be
 *     saved is not deleted from the card.
 *
 * Locking: cam->lock protects the queue, the event ring and the state
 * flags.  It is never held during a backend call.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "camera/internal.h"
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

static void job_free(job *j)
{
    if (j->free_arg) j->free_arg(j->arg);
    else free(j->arg);
    free(j);
}

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
    /* events */
    tether_event ring[EVENT_RING];
    int ev_head, ev_count;
    int64_t watch_until_ns;
    /* tethered mode */
    bool tethered;
    char teth_dir[1024];
    char teth_tmpl[256];
    bool teth_keep;
    /* capture */
    int counter;
    blob *last_capture;
    /* live view for watchers */
    int lv_subscribers;
    bool lv_running;            /* the camera's live view is on (owner thread) */
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

static void push_event_locked(tether_camera *cam, const tether_event *ev)
{
    if (cam->ev_count == EVENT_RING) { /* drop the oldest */
        cam->ev_head = (cam->ev_head + 1) % EVENT_RING;
        cam->ev_count--;
    }
    cam->ring[(cam->ev_head + cam->ev_count) % EVENT_RING] = *ev;
    cam->ev_count++;
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

/* Reads the model and the serial number of a just-opened backend into
 * cam (owner thread; takes the lock to store them).  The serial is read
 * here, once per connection, so that tether_camera_identity never waits
 * for the camera. */
static void read_identity(tether_camera *cam, backend *be)
{
    char model[128] = "";
    cam->ops->model(be, model, sizeof model);
    tether_setting serial = {0};
    bool has_serial = cam->ops->setting_get(be, "serialnumber", &serial) == TETHER_OK && serial.value[0];
    pthread_mutex_lock(&cam->lock);
    snprintf(cam->model, sizeof cam->model, "%s", model);
    snprintf(cam->identity, sizeof cam->identity, "%s%s%s", model, has_serial ? " " : "",
             has_serial ? serial.value : "");
    pthread_mutex_unlock(&cam->lock);
    tether_setting_clear(&serial);
}

static void try_reopen(tether_camera *cam)
{
    char err[512] = "";
    backend *be = NULL;
    int rc = cam->ops->open(cam->spec, &be, err, sizeof err);
    if (rc == TETHER_OK) read_identity(cam, be);
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

/* "IMG_0001.JPG" -> name "IMG_0001", ext "jpg" */
static void split_name(const char *camera_path, char *name, size_t nsz, char *ext, size_t esz)
{
    const char *base = strrchr(camera_path, '/');
    base = base ? base + 1 : camera_path;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) {
        snprintf(name, nsz, "%.*s", (int)(dot - base), base);
        snprintf(ext, esz, "%s", dot + 1);
    } else {
        snprintf(name, nsz, "%s", base);
        snprintf(ext, esz, "jpg");
    }
    lower(ext);
}

/* Downloads camera_path into dir as `name` (already expanded), atomically,
 * never overwriting: a taken name gets a "-N" suffix.  local gets the path.
 * A local failure (DISK_FULL, STORAGE) leaves no file and says so, with
 * the folder and the reason, in the last error. */
static int download_to(tether_camera *cam, const char *camera_path, const char *dir, const char *name,
                       char *local, size_t localsz)
{
    store_atomic a;
    int rc = store_atomic_begin(&a, dir);
    if (rc != TETHER_OK) {
        set_error(cam, "cannot write into %s: %s; %s stays on the camera", dir,
                  a.err ? strerror(a.err) : tether_strerror(rc), camera_path);
        return rc;
    }
    backend_sink sink = {.fd = a.fd};
    rc = cam->ops->download(cam->be, camera_path, &sink);
    if (rc != TETHER_OK) {
        store_atomic_abort(&a);
        if (is_local_failure(rc))
            set_error(cam, "%s (folder %s); %s stays on the camera", cam->ops->last_error(cam->be), dir, camera_path);
        return rc;
    }
    rc = store_atomic_commit_unique(&a, name, local, localsz);
    if (rc != TETHER_OK)
        set_error(cam, "cannot store %s/%s: %s; %s stays on the camera", dir, name,
                  a.err ? strerror(a.err) : tether_strerror(rc), camera_path);
    return rc;
}

static void tethered_download(tether_camera *cam, tether_event *ev)
{
    pthread_mutex_lock(&cam->lock);
    char dir[1024], tmpl[256];
    snprintf(dir, sizeof dir, "%s", cam->teth_dir);
    snprintf(tmpl, sizeof tmpl, "%s", cam->teth_tmpl);
    bool keep = cam->teth_keep;
    int counter = ++cam->counter;
    pthread_mutex_unlock(&cam->lock);
    char name[256], ext[32], file[1024];
    split_name(ev->path, name, sizeof name, ext, sizeof ext);
    tether_name_vars v = {.counter = counter, .time = time(NULL), .model = cam->model, .name = name, .ext = ext};
    char err[256];
    if (tether_name_expand(tmpl, &v, file, sizeof file, err, sizeof err) != TETHER_OK) {
        set_error(cam, "%s", err);
        return;
    }
    if (download_to(cam, ev->path, dir, file, ev->local, sizeof ev->local) != TETHER_OK) {
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
 * one look, never for a whole event wait. */
static void poll_events(tether_camera *cam)
{
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
    pthread_mutex_unlock(&cam->lock);
}

/* One live-view frame for the watchers (owner thread, lock not held).
 * Every fourth frame also looks at the camera's events if anyone wants
 * them, so tethered downloads go on during live view. */
static void liveview_step(tether_camera *cam)
{
    blob *jpeg = NULL;
    int rc = cam->ops->preview(cam->be, &jpeg);
    if (rc != TETHER_OK) {
        pthread_mutex_lock(&cam->lock);
        set_error_locked(cam, cam->ops->last_error(cam->be));
        pthread_mutex_unlock(&cam->lock);
        check_link(cam, rc);
        clock_sleep_ns(100000000); /* no spinning on a failing camera */
        return;
    }
    tether_frame *f = frame_new(jpeg, clock_mono_ns());
    if (f == NULL) {
        blob_unref(jpeg);
        return;
    }
    pthread_mutex_lock(&cam->lock);
    tether_frame *old = cam->lv_latest;
    cam->lv_latest = f;
    cam->lv_seq++;
    cam->lv_running = true;
    bool events = cam->tethered || clock_mono_ns() < cam->watch_until_ns;
    bool poll = events && ++cam->lv_frames % 4 == 0;
    pthread_cond_broadcast(&cam->lv_cond);
    pthread_mutex_unlock(&cam->lock);
    tether_frame_unref(old);
    if (poll) {
        tether_event ev;
        rc = cam->ops->wait_event(cam->be, 0, &ev);
        if (rc == TETHER_OK) {
            pthread_mutex_lock(&cam->lock);
            bool tethered = cam->tethered;
            pthread_mutex_unlock(&cam->lock);
            if (ev.type == TETHER_EVENT_FILE_ADDED && tethered) tethered_download(cam, &ev);
            pthread_mutex_lock(&cam->lock);
            push_event_locked(cam, &ev);
            pthread_mutex_unlock(&cam->lock);
        }
    }
}

static void *owner_main(void *arg)
{
    tether_camera *cam = arg;
    log_set_thread_name("camera");
    char err[512] = "";
    backend *be = NULL;
    int rc = cam->ops->open(cam->spec, &be, err, sizeof err);
    if (rc == TETHER_OK) read_identity(cam, be);
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
                r = j->fn(cam, j->arg);
                if (r != TETHER_OK && cam->be) {
                    pthread_mutex_lock(&cam->lock);
                    /* a local failure's detail was set by the job */
                    if (r != TETHER_ERR_CANCELLED && !is_local_failure(r))
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
            liveview_step(cam);
            pthread_mutex_lock(&cam->lock);
            continue;
        }
        if (cam->lv_running) {
            /* nobody watches any more: let the camera rest */
            cam->lv_running = false;
            pthread_mutex_unlock(&cam->lock);
            if (cam->ops->preview_stop) cam->ops->preview_stop(cam->be);
            pthread_mutex_lock(&cam->lock);
            continue;
        }
        if (cam->tethered || now < cam->watch_until_ns) {
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

static void camera_free(tether_camera *cam)
{
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
        if (errbuf) snprintf(errbuf, errsz, "unknown camera \"%s\" (expected auto, usb:BUS,DEV or ptpip:HOST[:PORT])", spec);
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    tether_camera *cam = calloc(1, sizeof *cam);
    if (cam == NULL) return TETHER_ERR_NO_MEMORY;
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
    *out = cam;
    return TETHER_OK;
}

void tether_camera_close(tether_camera *cam)
{
    if (cam == NULL) return;
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

static int run_settings_list(tether_camera *cam, void *arg)
{
    return cam->ops->settings_list(cam->be, (tether_settings **)&((result_arg *)arg)->out);
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
    return cam->ops->setting_get(cam->be, a->path, &a->setting);
}

static int run_setting_set(tether_camera *cam, void *arg)
{
    setting_arg *a = arg;
    return cam->ops->setting_set(cam->be, a->path, a->value);
}

int tether_setting_get(tether_camera *cam, const char *path_or_name, tether_setting *out)
{
    if (path_or_name == NULL || out == NULL || strlen(path_or_name) >= 256) return TETHER_ERR_INVALID_ARGUMENT;
    setting_arg *a = calloc(1, sizeof *a);
    if (a == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(a->path, sizeof a->path, "%s", path_or_name);
    void *res;
    int rc = camera_call(cam, run_setting_get, a, true, 0, &res);
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

static int run_preview(tether_camera *cam, void *arg)
{
    blob *jpeg = NULL;
    int rc = cam->ops->preview(cam->be, &jpeg);
    if (rc != TETHER_OK) return rc;
    tether_frame *f = frame_new(jpeg, clock_mono_ns());
    if (f == NULL) {
        blob_unref(jpeg);
        return TETHER_ERR_NO_MEMORY;
    }
    ((result_arg *)arg)->out = f;
    return TETHER_OK;
}

int tether_preview(tether_camera *cam, tether_frame **out)
{
    return call_for_result(cam, run_preview, (void **)out);
}

/* ---- capture -------------------------------------------------------------------------------- */

typedef struct capture_arg {
    char dir[1024];
    char tmpl[256];
    char session[128];
    bool keep;
    tether_shot shot;
    /* to buffer */
    bool to_memory;
} capture_arg;

static int run_capture(tether_camera *cam, void *arg)
{
    capture_arg *a = arg;
    char paths[TETHER_MAX_SHOT_FILES][512];
    int n = 0;
    int rc = cam->ops->capture(cam->be, paths, &n);
    if (rc != TETHER_OK) return rc;
    if (a->to_memory) {
        bytebuf mem = BYTEBUF_INIT;
        backend_sink sink = {.fd = -1, .mem = &mem};
        rc = cam->ops->download(cam->be, paths[0], &sink);
        if (rc == TETHER_OK) {
            blob *b = blob_from(mem.data, mem.len);
            pthread_mutex_lock(&cam->lock);
            blob_unref(cam->last_capture);
            cam->last_capture = b;
            pthread_mutex_unlock(&cam->lock);
            if (b == NULL) rc = TETHER_ERR_NO_MEMORY;
        }
        bytebuf_free(&mem);
        for (int i = 0; i < n && !a->keep; i++) cam->ops->delete_file(cam->be, paths[i]);
        return rc;
    }

    /* one base name for the whole shot (RAW + JPEG keep it) */
    pthread_mutex_lock(&cam->lock);
    int counter = ++cam->counter;
    pthread_mutex_unlock(&cam->lock);
    int64_t now = time(NULL);
    char first[256], ext[32];
    split_name(paths[0], first, sizeof first, ext, sizeof ext);
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
        rc = download_to(cam, paths[i], a->dir, file, local, sizeof a->shot.files[0]);
        if (rc != TETHER_OK) return rc;
        snprintf(a->shot.camera_files[a->shot.n_files], sizeof a->shot.camera_files[0], "%s", paths[i]);
        a->shot.n_files++;
        if (!a->keep) cam->ops->delete_file(cam->be, paths[i]);
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
    return cam->ops->list_files(cam->be, (tether_file_list **)&((result_arg *)arg)->out);
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

static int run_focus(tether_camera *cam, void *arg)
{
    /* No body says when a move ends; Magic Lantern keeps at most two
     * commands in flight and NINA waits 200 ms.  Wait for a move of this
     * size to be well under way before the next: a third command in
     * flight may be lost. */
    static const int64_t pace_ns[3] = {80000000, 100000000, 150000000};
    focus_arg *a = arg;
    for (int i = 0; i < a->count; i++) {
        if (cancelled(cam)) return TETHER_ERR_CANCELLED;
        int rc = cam->ops->focus_drive(cam->be, a->direction, a->step);
        if (rc != TETHER_OK) return rc;
        if (i + 1 < a->count) clock_sleep_ns(pace_ns[a->step - 1]);
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

/* ---- events and tethered mode -------------------------------------------------------------- */

int tether_wait_event(tether_camera *cam, int timeout_ms, tether_event *out)
{
    if (out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    int64_t deadline = clock_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
    pthread_mutex_lock(&cam->lock);
    int64_t watch = clock_mono_ns() + WATCH_NS;
    if (watch > cam->watch_until_ns) cam->watch_until_ns = watch;
    pthread_cond_signal(&cam->wake);
    struct timespec ts = deadline_ts(deadline);
    while (cam->ev_count == 0 && !cam->closing)
        if (pthread_cond_timedwait(&cam->ev_cond, &cam->lock, &ts) == ETIMEDOUT) break;
    int rc = TETHER_ERR_TIMEOUT;
    if (cam->ev_count > 0) {
        *out = cam->ring[cam->ev_head];
        cam->ev_head = (cam->ev_head + 1) % EVENT_RING;
        cam->ev_count--;
        rc = TETHER_OK;
    } else if (cam->closing) {
        rc = TETHER_ERR_CLOSED;
    }
    pthread_mutex_unlock(&cam->lock);
    return rc;
}

int tether_tethered(tether_camera *cam, const char *dir, const char *name_template, bool keep_on_card)
{
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
        cam->teth_keep = keep_on_card;
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
