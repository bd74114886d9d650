/*
 * internal: the studio's shared state and the functions its files offer
 * each other (studio.c: life cycle, photos, events; station.c: one served
 * camera and its jobs, the list of them; cameras.c: /api/cameras and the
 * per-camera routes; capture.c: captures, one camera or several fired
 * together; api.c: the JSON API;
 * focus.c: the focus tools and their worker thread; interval.c: the
 * time-lapse and its worker thread; cataloguer.c: photos catalogued off
 * the thread that wrote them, and found on disk at start; import.c: import from the card and
 * its worker thread; webhooks.c: webhooks; stream.c: MJPEG,
 * snapshot and server-sent events; worker.c: the jobs' worker threads;
 * assets.c: the UI).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/blob.h"
#include "base/bytebuf.h"
#include "http.h"
#include "store/catalog.h"
#include "tether/tether.h"

enum { HUB_RING = 256 };

/* The event hub: a ring of serialised events with sequence numbers;
 * each SSE client remembers the last one it sent. */
typedef struct hub {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *text[HUB_RING];
    uint64_t seq[HUB_RING];
    uint64_t next;           /* sequence number of the next event (from 1) */
} hub;

typedef struct focus_ctl focus_ctl;
typedef struct interval_ctl interval_ctl;
typedef struct tagging_ctl tagging_ctl;
typedef struct import_ctl import_ctl;
typedef struct cataloguer cataloguer;
typedef struct webhooks_ctl webhooks_ctl;
typedef struct rig rig;

typedef struct studio studio;
struct simhost;

enum {
    STUDIO_MAX_CAMERAS = 16,
    /* Handlers one camera may occupy at once (of HTTP_WORKERS): beyond
     * it, 503 camera_busy, so a frozen camera cannot take every worker. */
    STATION_MAX_CALLS = 4,
};

/* Where a photo came from, copied with it wherever it goes (a station may
 * be removed before its queued shots are catalogued). */
typedef struct shot_origin {
    char id[64];             /* the station's id ("canon-eos-550d") */
    char model[128];
    char identity[256];      /* "MODEL SERIAL" */
} shot_origin;

/* A station: one served camera with what belongs to it alone (station.c).
 * Made by station_open, listed in studio.stations, shared by reference
 * (station_ref/station_unref): the list holds one, every handler, stream
 * or job using it holds one.  Its fields are set before it is listed and
 * never change after, but for those marked otherwise. */
typedef struct station {
    studio *s;
    shot_origin origin;      /* id, model, identity */
    char spec[256];          /* as given ("sim:nikon", "ptpip:10.0.0.5") */
    bool simulated;
    char state_suffix[72];   /* "" or "-ID": names its job state files in PHOTOS/.tether */
    int wake_kind;           /* http_wake kind of its MJPEG viewers */
    tether_camera *cam;
    struct simhost *sim;     /* the in-process simulator behind cam, or NULL */
    focus_ctl *focus;        /* the focus tools (focus.c) */
    interval_ctl *interval;  /* the time-lapse (interval.c) */
    import_ctl *import;      /* import from the card (import.c) */
    _Atomic int stopping;    /* set once when it is removed or the studio stops */
    _Atomic int refs;
    _Atomic int calls;       /* handlers using it now (station_enter) */
    pthread_mutex_t lock;    /* stream_clients, frames_sent, counted */
    int stream_clients;
    uint64_t frames_sent;
    char counted[160];       /* the template whose {counter} was last set to go on after the catalog's */
    pthread_t pump, events;  /* the frame pump (stream.c), the event pump (station.c) */
    bool pump_started, events_started;
    /* a camera of a rig node (rig.c): cam is NULL, no pumps or jobs; the
     * node's id and its camera's id there */
    bool remote;
    char node[33], remote_id[33];
    _Atomic bool remote_connected;
    /* a remote camera's live view (rig.c), under lock: the newest frame
     * its node sent (a JPEG), its number and arrival (clock_mono_ns); the
     * viewers that hold the lease, since when, and when it was last sent */
    pthread_cond_t live_cond;
    blob *live_frame;
    uint64_t live_seq;
    int64_t live_at_ns;
    int live_viewers;
    int64_t live_since_ns, live_lease_ns;
} station;

struct studio {
    char root[4096];         /* photo root, absolute */
    catalog *cat;
    hub events;
    tagging_ctl *tagging;    /* GPS/EXIF tagging (tagging.c) */
    cataloguer *cataloguer;  /* catalogs the time-lapse's shots off its thread (cataloguer.c) */
    webhooks_ctl *webhooks;  /* webhooks (webhooks.c) */
    bool webhook_allow_private; /* webhooks may go to private addresses (--webhook-allow-private) */
    dev_t root_dev;          /* the photo root the server started with (studio_storage_ok) */
    ino_t root_ino;
    pthread_mutex_t storage_lock; /* storage, storage_at */
    json_t *storage;         /* the last look at the photo folder (studio_storage_json), or NULL */
    int64_t storage_at;      /* when (clock_mono_ns) */
    pthread_mutex_t lock;    /* session, name_template */
    char session[128];
    char name_template[128]; /* the photographer's file names (PUT /api/naming); "" for the studio's own */
    _Atomic int stopping;    /* set once when the studio stops; read by every thread */
    http_server *http;       /* set once it listens, cleared before it stops; under http_lock */
    pthread_rwlock_t http_lock; /* read-held across every use of http from another thread (studio_wake) */
    /* the served cameras, under stations_lock (never held across a camera
     * call); stations[0] is the primary camera, which the old routes
     * (/api/capture, /stream.mjpg, ...) serve */
    pthread_mutex_t cull_lock; /* one culling at a time: read, write the XMP, record */
    pthread_mutex_t stations_lock;
    pthread_cond_t stations_cond; /* a station's refs dropped */
    station *stations[STUDIO_MAX_CAMERAS];
    int n_stations;
    _Atomic bool several;    /* more than one camera was asked for or has been served: names carry ids */
    int next_wake_kind;
    /* ids given during this run, by identity, so that a camera removed and
     * added again gets its id back */
    struct { char identity[256]; char id[64]; } ids[64];
    int n_ids;
    bool auto_watch;         /* "auto": cameras plugged in later are served */
    rig *rig;                /* the camera nodes through the broker (rig.c), or NULL */
    int rig_lead_ms;         /* capture-all with nodes fires this long after the command */
    _Atomic uint64_t captures; /* photos catalogued since start (GET /metrics) */
    pthread_t watcher;
    bool watcher_started;
};

/* What wakes a parked stream (http_wake): events, or a station's frames
 * (its wake_kind, from STREAM_WAKE_FIRST_STATION up). */
enum { STREAM_WAKE_EVENTS = 1, STREAM_WAKE_FIRST_STATION = 2 };

/* studio.c */
void hub_publish(studio *s, const char *type, json_t *data); /* takes the reference */
/* The HTTP server once it listens, else NULL (any thread).  The pointer
 * stays valid only inside a request handler (the server waits for those
 * before it goes); other threads use studio_wake. */
http_server *studio_http(studio *s);
/* Resumes the server's streams parked on kind (http_wake), if it still
 * serves: safe from any thread while the studio stops. */
void studio_wake(studio *s, int kind);
/* Waits up to timeout_ms for an event after *seq; returns a malloc'ed
 * SSE text block or NULL. */
char *hub_next(studio *s, uint64_t *seq, int timeout_ms);
void studio_session(studio *s, char *out, size_t size);
/* Day folder name for now (local time): "2026-11-22". */
void studio_today(char *out, size_t size);
/* Catalogs a file just written under root/session/day (thumbnail for
 * JPEGs) and enqueues its "capture" webhooks.  Returns the photo's JSON
 * (new reference) or NULL. */
json_t *studio_register_photo(studio *s, const shot_origin *from, const char *session, const char *day,
                              const char *path, const char *camera_path);
/* The same for a photo that came another way: event names its webhooks
 * ("import" for a file imported from the card). */
json_t *studio_register_photo_event(studio *s, const shot_origin *from, const char *session, const char *day,
                                    const char *path, const char *camera_path, const char *event);
json_t *studio_photo_json(const catalog_photo *p);
/* Is there a session of that name in the catalog?  Any thread. */
bool studio_session_exists(studio *s, const char *name);
/* Is rel a safe path below the root: relative, no empty, "." or ".."
 * component, no backslash or control character, at most 1000 bytes? */
bool studio_safe_rel(const char *rel);
/* Splits a folder ROOT/SESSION/DAY into its session and day (the import's
 * destination, a tethered download's folder); false if dir is not such a
 * safe folder right below the photo root.  Any thread. */
bool studio_folder_parts(const studio *s, const char *dir, char *session, size_t ssz, char *day, size_t dsz);
/* Files named by a user or by the catalog (rel: a path below the root).
 * The rules of GET /photos/: rel is safe and has no hidden component but
 * ".thumbs" folders, and neither has the real path it resolves to (so no
 * link reaches PHOTOS/.tether), which must be inside the root; the folders
 * on it are opened one by one without following links (one swapped in
 * meanwhile is refused).  Any thread.  Errors are errnos: EINVAL (rel is
 * not a path inside the folder), EXDEV (it resolves outside), EPERM
 * (hidden), ENOENT, ...
 * studio_open_rel: opens a regular file for reading; returns the fd (the
 * caller's; *st filled, real (may be NULL) gets the real path below the
 * root) or -1 with errno. */
int studio_open_rel(studio *s, const char *rel, struct stat *st, char *real, size_t real_size);
/* Appends the file's bytes to b.  Returns 0 or -1 with errno. */
int studio_read_rel(studio *s, const char *rel, bytebuf *b);
/* Turns data, the bytes of the photo file named name, into a JPEG a
 * browser can show: kept as it is for a JPEG, replaced by the largest
 * JPEG preview it embeds for a RAW.  Returns 0, or -1 (data emptied) when
 * it is neither.  Pure; any thread. */
int studio_picture(const char *name, bytebuf *data);
/* Removes the file (a link itself, not what it points to).  Returns 0 or
 * -1 with errno (ENOENT: it was not there). */
int studio_unlink_rel(studio *s, const char *rel);
/* The absolute real path of rel under the same rules, for writers that
 * take a path (tagging).  Returns 0 or an errno. */
int studio_real_path(studio *s, const char *rel, char *out, size_t size);
/* Is the photo folder still there to hold what is acknowledged: the root
 * and its .tether folder exist (the root the server started with, not one
 * made again since) and the catalog is still the file at its path?  Call
 * before acknowledging a change of state.  Cheap (a few stat calls); any
 * thread.  false with a sentence naming the folder in why otherwise ("the
 * photo folder /x is missing ...: restart the server"). */
bool studio_storage_ok(studio *s, char *why, size_t n);
/* Why a write to the photo folder failed, after rc (the write's error:
 * TETHER_ERR_DISK_FULL, TETHER_ERR_STORAGE or another) and a fresh look at
 * the folder: a sentence naming the folder in why.  Returns
 * TETHER_ERR_DISK_FULL if the disk is full, else TETHER_ERR_STORAGE.  Any
 * thread. */
int studio_storage_why(studio *s, int rc, char *why, size_t n);
/* The photo folder's health for GET /api/status (new reference): {"ok",
 * "writable", "free_bytes", "total_bytes", "low", "error"}, looked at
 * again when fresh or the last look is over a second old (a change is
 * logged and announced by a "storage" event).  Any thread. */
json_t *studio_storage_json(studio *s, bool fresh);
/* A local write's errno as a tether_err: DISK_FULL (ENOSPC, EDQUOT) or
 * STORAGE. */
int studio_errno_err(int e);

/* api.c: routes /api/... */
enum MHD_Result api_handle(studio *s, const http_request *r);
/* A setting as the API shows it (new reference). */
json_t *api_setting_json(const tether_setting *st);
/* Answers 500 storage_error ("what: why") unless the photo folder can
 * still hold what is acknowledged (studio_storage_ok): call before a
 * change of state is written.  true if it can (nothing answered).  Any
 * handler thread. */
bool api_storage_usable(studio *s, const http_request *r, const char *what, enum MHD_Result *answered);
/* Answers a libtether error with the matching status and the camera's
 * detailed message ("what: reason: detail"); DISK_FULL and STORAGE (this
 * machine's disk, not the camera) as api_storage_error does. */
enum MHD_Result api_camera_error(station *st, const http_request *r, int rc, const char *what);
/* The status and code api_camera_error answers rc with (502
 * "camera_error" for what it does not name). */
void api_camera_error_kind(int rc, unsigned *status, const char **code);
/* The routes of one camera: rest is what follows /api/cameras/ID or, for
 * the old routes, /api (or the path itself for /snapshot.jpg and
 * /stream.mjpg).  NULL st: no camera is served (503 no_camera). */
enum MHD_Result api_station_route(station *st, const http_request *r, const char *rest);
/* Answers a failed write to the photo folder (rc: the write's error, see
 * studio_storage_why): 507 "storage_full" when the disk is full, else 500
 * "storage_error", with "what: why" naming the folder (": detail" after
 * it, if not NULL or empty).  Any handler thread. */
enum MHD_Result api_storage_error(studio *s, const http_request *r, int rc, const char *what, const char *detail);
/* focus.c: routes /api/focus...; rest is what follows "/api/focus". */
enum MHD_Result focus_handle(station *st, const http_request *r, const char *rest);
focus_ctl *focus_ctl_new(station *st);
/* Cancels the running tool and waits for its thread; NULL is fine. */
void focus_ctl_free(focus_ctl *fc);
/* interval.c: routes /api/interval...; rest follows "/api/interval". */
enum MHD_Result interval_handle(station *st, const http_request *r, const char *rest);
interval_ctl *interval_ctl_new(station *st);
/* Continues a run the state file says was going when the server stopped.
 * Call once the camera and the catalog are open. */
void interval_resume(interval_ctl *ic);
/* Waits for the run's thread (stopped by s->stopping, which leaves the
 * run to be continued at the next start); NULL is fine. */
void interval_ctl_free(interval_ctl *ic);
/* worker.c: a job's worker thread, one at a time, guarded by the owner's lock */
typedef struct studio_worker {
    pthread_t thread;
    bool started;            /* started and not joined yet */
} studio_worker;
/* Joins the last thread (which has finished: no job of the owner runs),
 * then starts fn(arg).  Owner's lock held.  false if no thread started. */
bool studio_worker_start(studio_worker *w, void *(*fn)(void *), void *arg);
/* Waits for the thread if one was started; takes lock only to read that.
 * Called once, when the owner is freed. */
void studio_worker_join(studio_worker *w, pthread_mutex_t *lock);
/* cataloguer.c */
/* Starts the thread that catalogs queued shots.  NULL on failure. */
cataloguer *cataloguer_start(studio *s);
/* Catalogs what is still queued, then stops the thread; NULL is fine. */
void cataloguer_stop(cataloguer *c);
/* Queues a shot's files to be catalogued on the cataloguer thread, in
 * order, and announced as one "capture" event with source.  Copies its
 * arguments; any thread; never waits for the catalog. */
void studio_register_shot_later(studio *s, const shot_origin *from, const char *session, const char *day,
                                const tether_shot *shot, const char *source);
/* Catalogs the photos in PHOTOS/SESSION/DAY/ that the catalog does not
 * have (a server killed before it catalogued them).  Start-up only;
 * returns how many. */
int studio_adopt_files(studio *s);
/* import.c: routes /api/import...; rest follows "/api/import". */
enum MHD_Result import_handle(station *st, const http_request *r, const char *rest);
import_ctl *import_ctl_new(station *st);
/* Continues the import the server was running when it stopped or was
 * killed.  Call once the camera and the catalog are open. */
void import_resume(import_ctl *ic);
/* Waits for the job's thread (stopped by s->stopping, which leaves the job
 * to be continued at the next start); NULL is fine. */
void import_ctl_free(import_ctl *ic);
/* webhooks.c: routes /api/webhooks...; rest follows "/api/webhooks". */
enum MHD_Result webhooks_handle(studio *s, const http_request *r, const char *rest);
/* Opens PHOTOS/.tether/webhooks.db and starts delivering (the items left
 * pending by an earlier run first).  Returns NULL on failure. */
webhooks_ctl *webhooks_ctl_new(studio *s);
/* Stops the delivery thread (pending items stay for the next start);
 * NULL is fine. */
void webhooks_ctl_free(webhooks_ctl *wc);
/* Enqueues the webhooks of a catalogued photo (photo: studio_photo_json,
 * borrowed; event "capture" or "import"); returns once they are on disk.
 * Any thread; does nothing without webhooks or endpoints. */
void webhooks_photo_added(studio *s, const json_t *photo, const char *event);
/* tagging.c: routes /api/tagging...; rest follows "/api/tagging". */
enum MHD_Result tagging_handle(studio *s, const http_request *r, const char *rest);
/* Loads PHOTOS/.tether/tagging.json (bad or missing: tagging off).
 * Returns NULL when out of memory. */
tagging_ctl *tagging_ctl_new(studio *s);
/* Writes the tagging settings (and session's name) into a photo just
 * written at path, when tagging is on; failures are logged, the photo is
 * kept as it was.  Any thread; tc may be NULL (nothing happens). */
void tagging_apply_new(tagging_ctl *tc, const char *path, const char *session);
/* Waits for a running apply job (it stops at the next photo once
 * s->stopping is set).  Call after every thread that registers photos
 * has stopped; NULL is fine. */
void tagging_ctl_free(tagging_ctl *tc);
/* stream.c */
/* Waits (up to 10 s) for a live-view frame taken at or after after_ns
 * (clock_mono_ns); *out is the caller's reference.  Any handler thread.
 * Returns TETHER_OK or a tether_err (TETHER_ERR_TIMEOUT: no frame). */
int stream_fresh_frame(station *st, int64_t after_ns, tether_frame **out);
enum MHD_Result stream_mjpeg(station *st, const http_request *r);
enum MHD_Result stream_snapshot(station *st, const http_request *r);
enum MHD_Result stream_events(studio *s, const http_request *r);
/* Starts the thread that wakes the station's MJPEG clients at each new
 * live-view frame; false if it could not start.  Stops when the studio or
 * the station stops or the camera closes: stream_pump_stop joins it (a
 * no-op if not started). */
bool stream_pump_start(station *st);
void stream_pump_stop(station *st);
/* station.c */
/* Opens the camera spec names ("sim[:persona]" starts a simulator in this
 * process) and makes its station: id, jobs, frame and event pumps; lists
 * it (primary if it is the first).  Blocks until the camera answers (at
 * most timeout_ms).  Any thread but the HTTP event loop; takes
 * stations_lock only to list it.  Returns TETHER_OK with *out a new
 * reference (may be NULL: not wanted), or a tether_err with a sentence in
 * err: TETHER_ERR_INVALID_ARGUMENT (bad spec), TETHER_ERR_BUSY (that
 * camera is already served, or STUDIO_MAX_CAMERAS are), or the camera's
 * error. */
int station_open(studio *s, const char *spec, int timeout_ms, station **out, char *err, size_t errsz);
/* Serves camera remote_id of a rig node (rig.c) as a station with the id
 * "NODE-REMOTE_ID", or finds the one already served.  TETHER_OK with *out
 * a new reference (may be NULL: not wanted), TETHER_ERR_BUSY when
 * STUDIO_MAX_CAMERAS are served.  Any thread; never waits for a camera. */
int station_add_remote(studio *s, const char *node, const char *remote_id, const char *model, const char *identity,
                       station **out);
/* Takes the station out of the list, stops its jobs and pumps (a running
 * time-lapse or import is left to continue when it is served again),
 * waits for every other reference to go, closes the camera and frees it.
 * Takes the list's reference and the caller's (st must be listed).  Any
 * worker thread. */
void station_remove(station *st);
/* At the studio's end, once the HTTP server stopped: stops every
 * station's jobs and pumps (station_halt_all), and after the cataloguer
 * and webhooks stopped, closes them (station_free_all). */
void station_halt_all(studio *s);
void station_free_all(studio *s);
/* A new reference to the station with that id (NULL id: the primary), or
 * NULL.  Any thread (the event loop too: never waits for a camera). */
station *station_find(studio *s, const char *id);
station *station_ref(station *st);
/* Drops a reference; the last one (station_remove's) frees it.  NULL is
 * fine. */
void station_unref(station *st);
/* New references to every listed station, in order, into out (at most
 * max); returns how many. */
int station_list(studio *s, station **out, int max);
/* A handler that will call the camera counts itself in: false (nothing
 * counted) when STATION_MAX_CALLS handlers already are; station_leave
 * once done. */
bool station_enter(station *st);
void station_leave(station *st);
/* Answers 503 camera_busy for a station station_enter refused. */
enum MHD_Result station_busy_error(station *st, const http_request *r);
/* The file-name template of the station's captures: the single-camera
 * one, with the station's id before the camera's name when several
 * cameras are served.  Any thread. */
/* The studio's own file names: the time, then the camera's name. */
#define STUDIO_NAME_TEMPLATE "{timestamp:%Y%m%d-%H%M%S}"
/* The naming template for a station's captures: the photographer's
 * (studio.name_template) or the studio's own, with the camera's id when
 * several cameras are served.  The first time a template is asked for, a
 * {counter} in it is set to go on after the highest number the catalog's
 * photos have with it (tether_counter_continue), so numbers never start
 * again after a restart, in a new day's folder or in another session.
 * Any thread. */
void station_name_template(station *st, char *out, size_t size);
/* Publishes an event about the station: data gains "camera": its id. */
void station_publish(station *st, const char *type, json_t *data);
/* The camera as GET /api/cameras lists it (new reference). */
json_t *station_json(station *st);
/* Starts the thread that serves cameras plugged in later ("auto"). */
void station_watch_start(studio *s);
void station_watch_stop(studio *s);
/* cameras.c: GET/POST /api/cameras, DELETE /api/cameras/ID and the
 * per-camera routes below it; rest follows "/api/cameras". */
enum MHD_Result cameras_handle(studio *s, const http_request *r, const char *rest);
/* capture.c */
/* POST /api/capture: the primary camera's capture, or, with {"cameras":
 * "all" | [ids]} in the body, several cameras' fired together.  Worker
 * thread. */
enum MHD_Result capture_post(studio *s, const http_request *r);
/* POST /api/cameras/ID/capture: that camera's (the caller entered it,
 * station_enter).  Worker thread. */
enum MHD_Result capture_station(station *st, const http_request *r);
/* rig.c: the camera nodes joined through an MQTT broker (docs/RIGS.md) */
typedef struct rig_studio_options {
    const char *broker_host;
    int broker_port;
    bool tls;                /* mqtts:// */
    const char *ca_file;     /* with tls: CA file (PEM), NULL: the system's */
    const char *user, *password; /* NULL: anonymous */
    const char *url;         /* where nodes send files ("http://HOST:PORT") */
    int lead_ms;             /* capture-all fires this long after the command leaves */
} rig_studio_options;
/* Connects to the broker (in the background) and announces the studio;
 * nodes' cameras become remote stations as their status arrives.  false
 * with why when it cannot start.  Main thread, at start. */
bool rig_start(studio *s, const rig_studio_options *o, char *why, size_t whysz);
/* Announces the studio offline and disconnects; NULL rig is fine.  Main
 * thread, after the HTTP server stopped. */
void rig_stop(studio *s);
/* A remote station as GET /api/cameras lists it (new reference). */
json_t *rig_station_json(station *st);
/* The routes of a remote station (/status, /capture, /settings); others
 * answer 409 remote_camera.  Worker thread. */
enum MHD_Result rig_station_route(station *st, const http_request *r, const char *rest);
/* A remote camera's live view, on a lease from its node that the rig
 * renews while anyone is subscribed: subscribe before taking frames,
 * unsubscribe after.  Any thread (the event loop too: never waits). */
void rig_live_subscribe(station *st);
void rig_live_unsubscribe(station *st);
/* Waits up to timeout_ms (0: not at all) for a frame of st newer than
 * *seq; on success *out gets a reference to the newest, *seq its number
 * and *at_ns (may be NULL) its arrival (clock_mono_ns).  Returns
 * TETHER_ERR_TIMEOUT, TETHER_ERR_DISCONNECTED (the node or its camera is
 * away, or no frame came for LIVE_STALE_MS while subscribed) or
 * TETHER_ERR_CLOSED (the station or studio stops).  Any thread. */
int rig_live_next(station *st, uint64_t *seq, int timeout_ms, blob **out, int64_t *at_ns);
/* The nodes for GET /api/rig (new reference). */
json_t *rig_nodes_json(studio *s);
/* Counts for GET /metrics: nodes online and known. */
void rig_counts(studio *s, int *online, int *known);
/* One remote camera's part of a capture-all. */
typedef struct rig_fire_job {
    station *st;             /* borrowed, remote */
    bool answered, ok;
    int64_t fired_ns;
    char code[32], message[512];
    int n_files;
    char files[4][129];
} rig_fire_job;
/* Sends "fire shot at fire_at_ns (0: at once)" to the nodes of jobs, one
 * command per node, and returns the request (NULL: every job is answered
 * already, with the reason).  Then rig_fire_wait (always, with what
 * rig_fire_send returned): waits until every job is answered or
 * deadline_ns (CLOCK_REALTIME) passed (unanswered: code "no_answer") and
 * frees the request.  jobs must stay until then.  Any worker thread. */
typedef struct rig_fire rig_fire;
rig_fire *rig_fire_send(studio *s, rig_fire_job *jobs, int n, const char *shot, int64_t fire_at_ns);
void rig_fire_wait(studio *s, rig_fire *f, rig_fire_job *jobs, int n, int64_t deadline_ns);
/* A new shot id ("20261206-071502-123-7"), unique in this studio. */
void rig_shot_id(studio *s, char *out, size_t size);
/* rig_files.c: GET and PUT /api/rig/files/NODE/CAMERA/SHOT/FILE (a node
 * sending a photo); rest follows "/api/rig/files/".  Worker thread. */
enum MHD_Result rig_files_handle(studio *s, const http_request *r, const char *rest);
/* Uploads being received, for GET /metrics. */
int rig_files_partial(studio *s);

/* metrics.c: GET /healthz (open) and GET /metrics (Prometheus).  Worker thread. */
enum MHD_Result metrics_healthz(studio *s, const http_request *r);
enum MHD_Result metrics_get(studio *s, const http_request *r);
/* Webhook deliveries pending, delivered, failed (counts[3]); false when
 * the store cannot be read.  Any thread. */
bool webhooks_counts(webhooks_ctl *wc, int64_t counts[3]);
/* Files the running import has left to copy, 0 when none runs.  Any thread. */
int import_files_left(import_ctl *ic);

/* assets.c (generated): the embedded UI */
typedef struct asset {
    const char *path;
    const char *mime;
    const unsigned char *data;
    size_t len;
    const char *etag;          /* quoted, from the bytes (tools/embed.py) */
} asset;
const asset *asset_find(const char *path);
