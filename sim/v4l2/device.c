/*
 * v4l2sim device: the V4L2 device model behind the preload library
 * (device.h).  It answers the ioctls a capture driver built on the
 * kernel's vb2 and control frameworks answers, with their error rules
 * (which v4l2-compliance checks): priorities (the maximum over every open
 * counts, and each changing ioctl is refused to a lower one), control
 * classes, menus with holes, inactive manual controls while their auto
 * control is on, control events merged per control, a buffer queue owned
 * by the open that allocated it, CREATE_BUFS and PREPARE_BUF, orphaned
 * mappings after REQBUFS(0), monotonic end-of-frame timestamps and a
 * sequence number that counts dropped frames too.  A format's sizes are
 * discrete, each with its frame rates, or one stepwise range with
 * continuous frame intervals (bcm2835-legacy): TRY_FMT clamps to the range
 * and rounds to its step, S_PARM to its rates.  Mappings the program makes
 * are noted, and munmap (preload.c) forgets them: NAME.maps in the state
 * directory counts them.
 *
 * The producer is a thread per STREAMON; it renders outside the model's
 * lock (the renderer has a lock of its own), then takes the lock, checks
 * that its run is still current (STREAMOFF, an unplug or a new STREAMON
 * end a run by bumping run_id) and fills the oldest queued buffer, or
 * counts the frame as dropped when none is queued.  A run that ends puts
 * its thread on a list that the next STREAMON (or the close) joins once it
 * has let go of the lock, so a program that counts its own threads and
 * memory while it streams sees one producer, never a leftover.
 */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"
#include "persona.h"

v4l2sim_libc v4l2sim_real;

enum {
    MAX_DEVICES = 8,
    MAX_BUFS = 32,
    MAX_FDS = 65536,
    MAX_EVENTS = 32,
    VIDEO_MAJOR = 81,
    MINOR_BASE = 200,
    BUF_SHIFT = 24,
};

typedef enum buf_state { BUF_DEQUEUED, BUF_QUEUED, BUF_DONE } buf_state;

typedef struct sim_buf {
    int memfd;
    uint8_t *map;
    size_t length;
    buf_state state;
    bool prepared, mapped;
    uint32_t bytesused, flags, sequence;
    struct timeval ts;
} sim_buf;

typedef struct sim_open sim_open;

typedef struct sim_dev {
    char path[256];
    char name[64];
    int index;
    const v4l2sim_persona *p;   /* = &persona */
    v4l2sim_persona persona;    /* its persona, sizes cut to TETHER_V4L2SIM_MAX_SIZE */
    v4l2sim_stepwise ranges[V4L2SIM_MAX_FORMATS];
    /* format */
    int fmt;
    int width, height;          /* one of the format's sizes, or within its range */
    int fps;
    int32_t ctrl[V4L2SIM_MAX_CTRLS];
    /* queue */
    sim_buf bufs[MAX_BUFS];
    int n_bufs;
    sim_open *owner;
    bool streaming;
    bool has_producer;          /* producer is this device's running thread */
    pthread_t producer;
    int queued[MAX_BUFS], n_queued;
    int done[MAX_BUFS], n_done;
    uint32_t sequence;
    uint64_t run_id;
    pthread_cond_t cond;
    /* faults */
    bool unplugged, stalled;
    int error_frames, truncate_frames;
    unsigned generation;
    struct timespec fault_mtime;
    bool fault_file_seen;
    struct timespec ctrls_mtime;    /* of NAME.ctrls when this process last read or wrote it */
    int64_t fault_checked_ns;
    /* frames, under frames_lock */
    pthread_mutex_t frames_lock;
    v4l2sim_frames *frames;
    int n_opens;
    /* the process's mappings of this device's buffers, under g_maps_lock */
    int mapped;
    unsigned long mmaps, munmaps;
} sim_dev;

typedef struct sim_event {
    struct v4l2_event ev;
} sim_event;

struct sim_open {
    sim_dev *dev;
    int refs;                    /* descriptors that refer to this open */
    int signal_fd;               /* our own duplicate of the eventfd */
    bool readable;               /* the eventfd's counter is set */
    unsigned generation;
    uint32_t prio;
    uint8_t sub_flags[V4L2SIM_MAX_CTRLS]; /* V4L2_EVENT_SUB_FL_* + 0x80 = subscribed */
    sim_event events[MAX_EVENTS];
    int n_events;
    uint32_t event_seq;
    sim_open *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static sim_dev g_devs[MAX_DEVICES];
static int g_n_devs;
static char g_state_dir[512];
static double g_focus_at = 0.4;
static int g_fps_override;      /* TETHER_V4L2SIM_FPS: frames per second whatever is set */
static int g_max_w, g_max_h;    /* TETHER_V4L2SIM_MAX_SIZE: no larger size offered (0: any) */
static char g_formats[128];     /* TETHER_V4L2SIM_FORMATS: the only fourccs offered ("": all) */
static sim_open *g_opens;
/* producers whose run ended, to be joined outside g_lock (join_retired) */
enum { MAX_RETIRED = 64 };
static pthread_t g_retired[MAX_RETIRED];
static atomic_int g_n_retired;
static _Atomic(sim_open *) g_fds[MAX_FDS];

/* The buffer mappings the program made (mmap of a device descriptor), to
 * count what munmap ends.  g_maps_lock nests inside g_lock, never the
 * other way round. */
enum { MAX_MAPS = 512 };
typedef struct client_map {
    uint8_t *addr;
    size_t len;
    sim_dev *dev;
} client_map;
static pthread_mutex_t g_maps_lock = PTHREAD_MUTEX_INITIALIZER;
static client_map g_maps[MAX_MAPS];
static atomic_int g_n_maps;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- configuration -------------------------------------------------- */

static const v4l2sim_ctrl *ctrl_def(const sim_dev *d, int i)
{
    return &d->p->ctrls[i];
}

static int ctrl_index(const sim_dev *d, uint32_t id)
{
    for (int i = 0; i < d->p->n_ctrls; i++)
        if (d->p->ctrls[i].id == id) return i;
    return -1;
}

static void state_path(const sim_dev *d, const char *ext, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s.%s", g_state_dir, d->name, ext);
}

/* Reads NAME.ctrls into values (defaults for what it lacks) and notes its
 * time. */
static void ctrls_read(sim_dev *d, int32_t *values)
{
    for (int i = 0; i < d->p->n_ctrls; i++) values[i] = d->p->ctrls[i].def;
    if (!g_state_dir[0]) return;
    char path[600];
    state_path(d, "ctrls", path, sizeof path);
    FILE *f = fopen(path, "re");
    if (f == NULL) return;
    /* fstat, not stat: this runs inside v4l2sim_init, and the interposed
     * stat would ask for the configuration again */
    struct stat st;
    if (fstat(fileno(f), &st) == 0) d->ctrls_mtime = st.st_mtim;
    unsigned id;
    int v;
    while (fscanf(f, "%x %d", &id, &v) == 2) {
        int i = ctrl_index(d, id);
        if (i >= 0 && v >= ctrl_def(d, i)->min && v <= ctrl_def(d, i)->max) values[i] = v;
    }
    fclose(f);
}

static void ctrls_load(sim_dev *d)
{
    ctrls_read(d, d->ctrl);
}

static void notify(sim_dev *d, sim_open *from, int i, uint32_t changes);
static uint32_t ctrl_flags(const sim_dev *d, int i);

/* Another process changed the controls (NAME.ctrls is newer than what we
 * read or wrote): take its values and send control events, as a real
 * device does when another program sets a control. */
static void ctrls_follow(sim_dev *d)
{
    char path[600];
    state_path(d, "ctrls", path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0 || (st.st_mtim.tv_sec == d->ctrls_mtime.tv_sec &&
                                 st.st_mtim.tv_nsec == d->ctrls_mtime.tv_nsec))
        return;
    int32_t values[V4L2SIM_MAX_CTRLS];
    uint32_t before[V4L2SIM_MAX_CTRLS];
    ctrls_read(d, values);
    for (int i = 0; i < d->p->n_ctrls; i++) before[i] = ctrl_flags(d, i);
    for (int i = 0; i < d->p->n_ctrls; i++) {
        if (values[i] == d->ctrl[i]) continue;
        d->ctrl[i] = values[i];
        notify(d, NULL, i, V4L2_EVENT_CTRL_CH_VALUE);
    }
    for (int i = 0; i < d->p->n_ctrls; i++)
        if (ctrl_flags(d, i) != before[i]) notify(d, NULL, i, V4L2_EVENT_CTRL_CH_FLAGS);
}

static void ctrls_save(sim_dev *d)
{
    if (!g_state_dir[0]) return;
    char path[600], tmp[620];
    state_path(d, "ctrls", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "we");
    if (f == NULL) return;
    for (int i = 0; i < d->p->n_ctrls; i++) fprintf(f, "%x %d\n", d->p->ctrls[i].id, d->ctrl[i]);
    if (fclose(f) == 0 && rename(tmp, path) == 0) {
        struct stat st;
        if (stat(path, &st) == 0) d->ctrls_mtime = st.st_mtim;
    } else {
        unlink(tmp);
    }
}

static void dev_defaults(sim_dev *d)
{
    const v4l2sim_format *f = &d->p->formats[0];
    d->fmt = 0;
    if (f->stepwise) {
        d->width = f->stepwise->def_w;
        d->height = f->stepwise->def_h;
        d->fps = f->stepwise->fps_def;
    } else {
        d->width = f->sizes[0].width;
        d->height = f->sizes[0].height;
        d->fps = f->sizes[0].fps[0];
    }
    ctrls_load(d);
}

/* Whether TETHER_V4L2SIM_FORMATS lets the device offer fourcc: a comma
 * separated list of fourccs ("YUYV,MJPG"), or unset for all. */
static bool format_offered(uint32_t fourcc)
{
    if (g_formats[0] == '\0') return true;
    char name[5] = {(char)(fourcc & 0xff), (char)(fourcc >> 8 & 0xff), (char)(fourcc >> 16 & 0xff),
                    (char)(fourcc >> 24 & 0xff), '\0'};
    for (const char *s = g_formats; *s;) {
        size_t n = strcspn(s, ",");
        if (n == 4 && memcmp(s, name, 4) == 0) return true;
        s += n + (s[n] == ',');
    }
    return false;
}

/* d's persona: p with only the formats TETHER_V4L2SIM_FORMATS names (all
 * of them when it names none the persona has), the sizes larger than
 * TETHER_V4L2SIM_MAX_SIZE left out (a format keeps its smallest size at
 * least) and its ranges' maximum (and start size) lowered to it, on the
 * range's steps. */
static void persona_cut(sim_dev *d, const v4l2sim_persona *p)
{
    d->persona = *p;
    d->p = &d->persona;
    int kept_formats = 0;
    for (int i = 0; i < p->n_formats; i++)
        if (format_offered(p->formats[i].fourcc)) d->persona.formats[kept_formats++] = p->formats[i];
    if (kept_formats > 0) d->persona.n_formats = kept_formats;
    if (g_max_w <= 0 || g_max_h <= 0) return;
    for (int i = 0; i < d->persona.n_formats; i++) {
        v4l2sim_format *f = &d->persona.formats[i];
        if (f->stepwise) {
            v4l2sim_stepwise *r = &d->ranges[i];
            *r = *f->stepwise;
            if (g_max_w >= r->min_w && g_max_w < r->max_w)
                r->max_w = r->min_w + (g_max_w - r->min_w) / r->step * r->step;
            if (g_max_h >= r->min_h && g_max_h < r->max_h)
                r->max_h = r->min_h + (g_max_h - r->min_h) / r->step * r->step;
            if (r->def_w > r->max_w) r->def_w = r->max_w;
            if (r->def_h > r->max_h) r->def_h = r->max_h;
            f->stepwise = r;
            continue;
        }
        int kept = 0;
        for (int k = 0; k < f->n_sizes; k++)
            if (f->sizes[k].width <= g_max_w && f->sizes[k].height <= g_max_h) f->sizes[kept++] = f->sizes[k];
        if (kept > 0) f->n_sizes = kept; /* else its first (smallest) size stays */
        else if (f->n_sizes > 1) f->n_sizes = 1;
    }
}

static void init_once(void)
{
    const char *s = getenv("TETHER_V4L2SIM_STATE");
    if (s) snprintf(g_state_dir, sizeof g_state_dir, "%s", s);
    s = getenv("TETHER_V4L2SIM_FOCUS_AT");
    if (s) {
        double v = strtod(s, NULL);
        if (v >= 0 && v <= 1) g_focus_at = v;
    }
    s = getenv("TETHER_V4L2SIM_FPS");
    if (s) {
        long v = strtol(s, NULL, 10);
        if (v > 0 && v <= 10000) g_fps_override = (int)v;
    }
    s = getenv("TETHER_V4L2SIM_MAX_SIZE");
    if (s && sscanf(s, "%dx%d", &g_max_w, &g_max_h) != 2) g_max_w = g_max_h = 0;
    s = getenv("TETHER_V4L2SIM_FORMATS");
    if (s) snprintf(g_formats, sizeof g_formats, "%s", s);
    s = getenv("TETHER_V4L2SIM_DEVICES");
    if (s == NULL) return;
    char spec[2048];
    snprintf(spec, sizeof spec, "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(spec, ",", &save); tok && g_n_devs < MAX_DEVICES;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        const v4l2sim_persona *p = v4l2sim_persona_find(eq ? eq + 1 : "uvc-c920");
        if (eq) *eq = '\0';
        if (p == NULL || tok[0] != '/') {
            fprintf(stderr, "tether v4l2sim: ignoring device '%s' (persona: %s)\n", tok,
                    v4l2sim_persona_names());
            continue;
        }
        sim_dev *d = &g_devs[g_n_devs];
        d->index = g_n_devs++;
        persona_cut(d, p);
        snprintf(d->path, sizeof d->path, "%s", tok);
        const char *base = strrchr(d->path, '/') + 1;
        snprintf(d->name, sizeof d->name, "%s", base);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&d->cond, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&d->frames_lock, NULL);
        dev_defaults(d);
    }
}

void v4l2sim_init(void)
{
    pthread_once(&g_once, init_once);
}

int v4l2sim_path_device(const char *path)
{
    if (path == NULL) return -1;
    v4l2sim_init();
    for (int i = 0; i < g_n_devs; i++)
        if (strcmp(g_devs[i].path, path) == 0) return i;
    return -1;
}

int v4l2sim_uevent_device(const char *path)
{
    if (path == NULL || strncmp(path, "/sys/dev/char/", 14) != 0) return -1;
    v4l2sim_init();
    for (int i = 0; i < g_n_devs; i++) {
        char want[64];
        snprintf(want, sizeof want, "/sys/dev/char/%d:%d/uevent", VIDEO_MAJOR, MINOR_BASE + i);
        if (strcmp(path, want) == 0) return i;
    }
    return -1;
}

dev_t v4l2sim_rdev(int idx)
{
    return makedev(VIDEO_MAJOR, MINOR_BASE + idx);
}

void v4l2sim_uevent_text(int idx, char *buf, size_t size)
{
    snprintf(buf, size, "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\n", VIDEO_MAJOR, MINOR_BASE + idx,
             g_devs[idx].name);
}

/* ---- buffers and streaming (under g_lock) ----------------------------- */

static const v4l2sim_format *cur_format(const sim_dev *d)
{
    return &d->p->formats[d->fmt];
}

static uint32_t image_size(uint32_t fourcc, int w, int h, uint32_t *bpl)
{
    size_t n = (size_t)w * (size_t)h;
    switch (fourcc) {
    case V4L2_PIX_FMT_YUYV: *bpl = (uint32_t)w * 2; return (uint32_t)(n * 2);
    case V4L2_PIX_FMT_YUV420:
    case V4L2_PIX_FMT_NV12: *bpl = (uint32_t)w; return (uint32_t)(n * 3 / 2);
    case V4L2_PIX_FMT_RGB24:
    case V4L2_PIX_FMT_BGR24: *bpl = (uint32_t)w * 3; return (uint32_t)(n * 3);
    default:
        /* MJPEG, JPEG: room for any frame, a tiny one's headers included */
        *bpl = 0;
        return (uint32_t)(n * 2 < 65536 ? 65536 : n * 2);
    }
}

static void set_readable(sim_open *o, bool want)
{
    if (o->readable == want) return;
    eventfd_t v;
    if (want) eventfd_write(o->signal_fd, 1);
    else eventfd_read(o->signal_fd, &v);
    o->readable = want;
}

static void sync_readable(sim_dev *d)
{
    if (d->owner) set_readable(d->owner, d->streaming && d->n_done > 0);
}

static void bufs_free(sim_dev *d)
{
    for (int i = 0; i < d->n_bufs; i++) {
        munmap(d->bufs[i].map, d->bufs[i].length);
        v4l2sim_real.close(d->bufs[i].memfd);
    }
    memset(d->bufs, 0, sizeof d->bufs);
    d->n_bufs = 0;
    d->n_queued = d->n_done = 0;
}

static int bufs_add(sim_dev *d, int count, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) / page * page;
    int made = 0;
    for (; made < count && d->n_bufs < MAX_BUFS; made++) {
        sim_buf *b = &d->bufs[d->n_bufs];
        memset(b, 0, sizeof *b);
        b->memfd = memfd_create("tether-v4l2sim", MFD_CLOEXEC);
        if (b->memfd < 0) break;
        if (ftruncate(b->memfd, (off_t)size) != 0) {
            v4l2sim_real.close(b->memfd);
            break;
        }
        b->map = v4l2sim_real.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
        if (b->map == MAP_FAILED) {
            v4l2sim_real.close(b->memfd);
            break;
        }
        b->length = size;
        d->n_bufs++;
    }
    return made;
}

/* Ends streaming: every buffer back to the application, the run over; its
 * producer goes to the list join_retired empties (g_lock held). */
static void stream_stop(sim_dev *d)
{
    d->streaming = false;
    d->run_id++;
    if (d->has_producer) {
        int n = atomic_load(&g_n_retired);
        if (n < MAX_RETIRED) {
            g_retired[n] = d->producer;
            atomic_store(&g_n_retired, n + 1);
        } else {
            pthread_detach(d->producer);
        }
        d->has_producer = false;
    }
    for (int i = 0; i < d->n_bufs; i++) {
        d->bufs[i].state = BUF_DEQUEUED;
        d->bufs[i].prepared = false;
    }
    d->n_queued = d->n_done = 0;
    d->sequence = 0;
    sync_readable(d);
    if (d->owner) set_readable(d->owner, false);
    pthread_cond_broadcast(&d->cond);
}

static void fault_apply(sim_dev *d, const char *text)
{
    bool unplug = strncmp(text, "unplug", 6) == 0;
    d->stalled = strncmp(text, "stall", 5) == 0;
    int n = 0;
    if (sscanf(text, "error %d", &n) == 1) d->error_frames = n;
    if (sscanf(text, "truncate %d", &n) == 1) d->truncate_frames = n;
    if (unplug && !d->unplugged) {
        d->unplugged = true;
        d->generation++;
        stream_stop(d);
    } else if (!unplug && d->unplugged) {
        /* replugged: a fresh device, the old opens stay dead */
        d->unplugged = false;
        d->owner = NULL;
        bufs_free(d);
        dev_defaults(d);
    }
}

/* Reads the fault file if it changed (at most every 20 ms unless forced). */
static void fault_refresh(sim_dev *d, bool force)
{
    if (!g_state_dir[0]) return;
    int64_t now = mono_ns();
    if (!force && now - d->fault_checked_ns < 20000000) return;
    d->fault_checked_ns = now;
    ctrls_follow(d);
    char path[600];
    state_path(d, "fault", path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (d->fault_file_seen) fault_apply(d, "ok");
        d->fault_file_seen = false;
        return;
    }
    if (d->fault_file_seen && st.st_mtim.tv_sec == d->fault_mtime.tv_sec &&
        st.st_mtim.tv_nsec == d->fault_mtime.tv_nsec)
        return;
    d->fault_file_seen = true;
    d->fault_mtime = st.st_mtim;
    char text[64] = "";
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(text, sizeof text, f) == NULL) text[0] = '\0';
        fclose(f);
    }
    fault_apply(d, text);
}

bool v4l2sim_present(int idx)
{
    v4l2sim_init();
    if (idx < 0 || idx >= g_n_devs) return false;
    pthread_mutex_lock(&g_lock);
    fault_refresh(&g_devs[idx], true);
    bool ok = !g_devs[idx].unplugged;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

typedef struct producer_run {
    sim_dev *dev;
    uint64_t run_id;
    uint8_t *stage;             /* where frames are rendered: made at STREAMON, for the run's format */
    size_t stage_cap;
} producer_run;

static v4l2sim_look current_look(const sim_dev *d)
{
    v4l2sim_look look = {.gain = 1.0, .autofocus = false, .focus = 0};
    int i;
    bool manual_exposure = (i = ctrl_index(d, V4L2_CID_EXPOSURE_AUTO)) >= 0 &&
                           d->ctrl[i] == V4L2_EXPOSURE_MANUAL;
    if (manual_exposure && (i = ctrl_index(d, V4L2_CID_EXPOSURE_ABSOLUTE)) >= 0)
        look.gain *= d->ctrl[i] / (double)(ctrl_def(d, i)->def > 0 ? ctrl_def(d, i)->def : 250);
    if (manual_exposure && (i = ctrl_index(d, V4L2_CID_GAIN)) >= 0) look.gain *= 1.0 + d->ctrl[i] / 64.0;
    if ((i = ctrl_index(d, V4L2_CID_BRIGHTNESS)) >= 0) {
        const v4l2sim_ctrl *c = ctrl_def(d, i);
        look.gain *= 0.5 + (double)(d->ctrl[i] - c->min) / (double)(c->max - c->min);
    }
    int fa = ctrl_index(d, V4L2_CID_FOCUS_AUTO), fabs_i = ctrl_index(d, V4L2_CID_FOCUS_ABSOLUTE);
    if (fabs_i < 0) {
        look.autofocus = true;
    } else {
        look.autofocus = fa >= 0 && d->ctrl[fa] != 0;
        const v4l2sim_ctrl *c = ctrl_def(d, fabs_i);
        look.focus = (double)(d->ctrl[fabs_i] - c->min) / (double)(c->max - c->min);
    }
    return look;
}

static void *producer_main(void *arg)
{
    producer_run run = *(producer_run *)arg;
    free(arg);
    sim_dev *d = run.dev;
    uint8_t *stage = run.stage;
    size_t stage_cap = run.stage_cap;
    pthread_mutex_lock(&g_lock);
    int64_t next = mono_ns();
    while (d->run_id == run.run_id && d->streaming) {
        int fps = g_fps_override > 0 ? g_fps_override : d->fps > 0 ? d->fps : 30;
        int64_t interval = 1000000000 / fps;
        next += interval;
        int64_t now = mono_ns();
        if (next < now - interval) next = now;
        while (d->run_id == run.run_id && (now = mono_ns()) < next) {
            struct timespec until = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
            pthread_cond_timedwait(&d->cond, &g_lock, &until);
        }
        if (d->run_id != run.run_id) break;
        fault_refresh(d, false);
        if (d->run_id != run.run_id) break;
        if (d->stalled) continue;
        const v4l2sim_format *f = cur_format(d);
        uint32_t bpl;
        size_t need = image_size(f->fourcc, d->width, d->height, &bpl);
        uint32_t fourcc = f->fourcc;
        int w = d->width, h = d->height;
        bool strip = d->p->strip_dht;
        v4l2sim_look look = current_look(d);
        uint32_t seq = d->sequence++;
        int64_t t = mono_ns();
        pthread_mutex_unlock(&g_lock);

        size_t n = 0;
        if (stage_cap < need) {
            free(stage);
            stage = malloc(need);
            stage_cap = stage ? need : 0;
        }
        if (stage) {
            pthread_mutex_lock(&d->frames_lock);
            if (d->frames == NULL) d->frames = v4l2sim_frames_new(g_focus_at, 1);
            if (d->frames)
                n = v4l2sim_frames_render(d->frames, fourcc, w, h, strip, &look, seq, t, stage, need);
            pthread_mutex_unlock(&d->frames_lock);
        }

        pthread_mutex_lock(&g_lock);
        if (d->run_id != run.run_id) break;
        if (d->n_queued == 0 || n == 0) continue; /* dropped: nobody gave a buffer */
        /* injected faults count delivered frames, so each one reaches the client */
        bool flag_error = d->error_frames > 0, truncate = d->truncate_frames > 0;
        if (flag_error) d->error_frames--;
        if (truncate) d->truncate_frames--;
        int bi = d->queued[0];
        memmove(d->queued, d->queued + 1, sizeof d->queued[0] * (size_t)--d->n_queued);
        sim_buf *b = &d->bufs[bi];
        if (n > b->length) n = b->length;
        if (truncate) n = n / 2;
        memcpy(b->map, stage, n);
        b->bytesused = (uint32_t)n;
        b->flags = flag_error ? V4L2_BUF_FLAG_ERROR : 0;
        b->sequence = seq;
        b->ts.tv_sec = (time_t)(t / 1000000000);
        b->ts.tv_usec = (suseconds_t)(t % 1000000000 / 1000);
        b->state = BUF_DONE;
        d->done[d->n_done++] = bi;
        sync_readable(d);
        pthread_cond_broadcast(&d->cond);
    }
    pthread_mutex_unlock(&g_lock);
    free(stage);
    return NULL;
}

static int stream_start(sim_dev *d)
{
    producer_run *run = malloc(sizeof *run);
    if (run == NULL) return -ENOMEM;
    d->streaming = true;
    d->run_id++;
    d->sequence = 0;
    run->dev = d;
    run->run_id = d->run_id;
    /* the frame buffer is made here, not on the first frame, so that the
     * process's memory is the same whenever a program looks */
    uint32_t bpl;
    run->stage_cap = image_size(cur_format(d)->fourcc, d->width, d->height, &bpl);
    run->stage = malloc(run->stage_cap);
    if (run->stage == NULL) run->stage_cap = 0;
    int rc = pthread_create(&d->producer, NULL, producer_main, run);
    if (rc != 0) {
        free(run->stage);
        free(run);
        d->streaming = false;
        return -EAGAIN;
    }
    d->has_producer = true;
    return 0;
}

/* Joins the producers whose run has ended; called without g_lock (each
 * takes it once more to see that its run is over). */
static void join_retired(void)
{
    if (atomic_load(&g_n_retired) == 0) return;
    pthread_t threads[MAX_RETIRED];
    pthread_mutex_lock(&g_lock);
    int n = atomic_load(&g_n_retired);
    memcpy(threads, g_retired, sizeof threads[0] * (size_t)n);
    atomic_store(&g_n_retired, 0);
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
}

/* ---- descriptors ------------------------------------------------------ */

bool v4l2sim_owns(int fd)
{
    return fd >= 0 && fd < MAX_FDS && atomic_load(&g_fds[fd]) != NULL;
}

int v4l2sim_fd_device(int fd)
{
    if (!v4l2sim_owns(fd)) return -1;
    sim_open *o = atomic_load(&g_fds[fd]);
    return o ? o->dev->index : -1;
}

int v4l2sim_open(int idx, int flags)
{
    v4l2sim_init();
    if (idx < 0 || idx >= g_n_devs) {
        errno = ENOENT;
        return -1;
    }
    pthread_mutex_lock(&g_lock);
    sim_dev *d = &g_devs[idx];
    fault_refresh(d, true);
    if (d->unplugged) {
        pthread_mutex_unlock(&g_lock);
        errno = ENOENT;
        return -1;
    }
    int fd = eventfd(0, ((flags & O_NONBLOCK) ? EFD_NONBLOCK : 0) | ((flags & O_CLOEXEC) ? EFD_CLOEXEC : 0));
    if (fd < 0 || fd >= MAX_FDS) {
        if (fd >= 0) v4l2sim_real.close(fd);
        pthread_mutex_unlock(&g_lock);
        errno = EMFILE;
        return -1;
    }
    sim_open *o = calloc(1, sizeof *o);
    int sfd = o ? v4l2sim_real.fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (sfd < 0) {
        free(o);
        v4l2sim_real.close(fd);
        pthread_mutex_unlock(&g_lock);
        errno = ENOMEM;
        return -1;
    }
    /* (the duplicate shares the file status flags: it is read only while
     * its counter is set, so it never blocks even without O_NONBLOCK) */
    o->dev = d;
    o->refs = 1;
    o->signal_fd = sfd;
    o->generation = d->generation;
    o->prio = V4L2_PRIORITY_DEFAULT;
    if (d->n_opens == 0 && !d->streaming && d->n_bufs == 0) ctrls_load(d);
    d->n_opens++;
    o->next = g_opens;
    g_opens = o;
    atomic_store(&g_fds[fd], o);
    pthread_mutex_unlock(&g_lock);
    return fd;
}

void v4l2sim_dup(int oldfd, int newfd)
{
    if (!v4l2sim_owns(oldfd) || newfd < 0 || newfd >= MAX_FDS || newfd == oldfd) return;
    pthread_mutex_lock(&g_lock);
    sim_open *o = atomic_load(&g_fds[oldfd]);
    if (o) {
        o->refs++;
        atomic_store(&g_fds[newfd], o);
    }
    pthread_mutex_unlock(&g_lock);
}

void v4l2sim_forget(int fd)
{
    if (!v4l2sim_owns(fd)) return;
    pthread_mutex_lock(&g_lock);
    sim_open *o = atomic_exchange(&g_fds[fd], NULL);
    if (o && --o->refs == 0) {
        sim_dev *d = o->dev;
        if (d->owner == o) {
            if (d->streaming) stream_stop(d);
            bufs_free(d);
            d->owner = NULL;
        }
        d->n_opens--;
        for (sim_open **pp = &g_opens; *pp; pp = &(*pp)->next)
            if (*pp == o) {
                *pp = o->next;
                break;
            }
        v4l2sim_real.close(o->signal_fd);
        free(o);
    }
    pthread_mutex_unlock(&g_lock);
    join_retired();
}

/* ---- controls and events ---------------------------------------------- */

static uint32_t ctrl_flags(const sim_dev *d, int i)
{
    const v4l2sim_ctrl *c = ctrl_def(d, i);
    if (c->type == V4L2_CTRL_TYPE_CTRL_CLASS) return V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY;
    if (c->auto_id) {
        int a = ctrl_index(d, c->auto_id);
        if (a >= 0 && d->ctrl[a] != c->auto_manual) return V4L2_CTRL_FLAG_INACTIVE;
    }
    return 0;
}

static void queue_event(sim_open *o, int i, uint32_t changes)
{
    sim_dev *d = o->dev;
    const v4l2sim_ctrl *c = ctrl_def(d, i);
    /* merge with a pending event of the same control, as the kernel does */
    sim_event *e = NULL;
    for (int k = 0; k < o->n_events; k++)
        if (o->events[k].ev.id == c->id) e = &o->events[k];
    if (e == NULL) {
        if (o->n_events == MAX_EVENTS) {
            memmove(o->events, o->events + 1, sizeof o->events[0] * (MAX_EVENTS - 1));
            o->n_events--;
        }
        e = &o->events[o->n_events++];
        memset(e, 0, sizeof *e);
        e->ev.sequence = o->event_seq++;
    }
    e->ev.type = V4L2_EVENT_CTRL;
    e->ev.id = c->id;
    e->ev.u.ctrl.changes |= changes;
    e->ev.u.ctrl.type = c->type;
    e->ev.u.ctrl.value = d->ctrl[i];
    e->ev.u.ctrl.flags = ctrl_flags(d, i);
    e->ev.u.ctrl.minimum = c->min;
    e->ev.u.ctrl.maximum = c->max;
    e->ev.u.ctrl.step = c->type == V4L2_CTRL_TYPE_CTRL_CLASS ? 0 : c->step;
    e->ev.u.ctrl.default_value = c->def;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e->ev.timestamp = ts;
}

/* Tells every subscriber that control i changed (value and/or flags). */
static void notify(sim_dev *d, sim_open *from, int i, uint32_t changes)
{
    for (sim_open *o = g_opens; o; o = o->next) {
        if (o->dev != d || !(o->sub_flags[i] & 0x80)) continue;
        if (o == from && (changes & V4L2_EVENT_CTRL_CH_VALUE) &&
            !(o->sub_flags[i] & V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK))
            continue;
        queue_event(o, i, changes);
    }
}

/* Checks (and with apply, sets) control i to *v: rounds integers to the
 * step and range, refuses menu holes.  0 or -errno. */
static int ctrl_set(sim_dev *d, sim_open *from, int i, int32_t *v, bool apply)
{
    const v4l2sim_ctrl *c = ctrl_def(d, i);
    if (c->type == V4L2_CTRL_TYPE_CTRL_CLASS) return -EACCES;
    int64_t x = *v;
    if (c->type == V4L2_CTRL_TYPE_MENU || c->type == V4L2_CTRL_TYPE_INTEGER_MENU) {
        if (x < c->min || x > c->max) return -ERANGE;
        if (c->type == V4L2_CTRL_TYPE_MENU && c->menu[x] == NULL) return -EINVAL;
    } else {
        if (x < c->min) x = c->min;
        if (x > c->max) x = c->max;
        x = c->min + (x - c->min + c->step / 2) / c->step * c->step;
        if (x > c->max) x -= c->step;
    }
    *v = (int32_t)x;
    if (!apply || d->ctrl[i] == *v) return 0;
    uint32_t before[V4L2SIM_MAX_CTRLS];
    for (int k = 0; k < d->p->n_ctrls; k++) before[k] = ctrl_flags(d, k);
    d->ctrl[i] = *v;
    notify(d, from, i, V4L2_EVENT_CTRL_CH_VALUE);
    for (int k = 0; k < d->p->n_ctrls; k++)
        if (ctrl_flags(d, k) != before[k]) notify(d, NULL, k, V4L2_EVENT_CTRL_CH_FLAGS);
    ctrls_save(d);
    return 0;
}

static int prio_max(const sim_dev *d)
{
    uint32_t m = V4L2_PRIORITY_UNSET;
    for (sim_open *o = g_opens; o; o = o->next)
        if (o->dev == d && o->prio > m) m = o->prio;
    return (int)m;
}

static int prio_check(const sim_open *o)
{
    return prio_max(o->dev) > (int)o->prio ? -EBUSY : 0;
}

static void fill_queryctrl(const sim_dev *d, int i, struct v4l2_query_ext_ctrl *q)
{
    const v4l2sim_ctrl *c = ctrl_def(d, i);
    memset(q, 0, sizeof *q);
    q->id = c->id;
    q->type = c->type;
    snprintf(q->name, sizeof q->name, "%s", c->name);
    q->flags = ctrl_flags(d, i);
    if (c->type != V4L2_CTRL_TYPE_CTRL_CLASS) {
        q->minimum = c->min;
        q->maximum = c->max;
        q->step = (uint64_t)c->step;
        q->default_value = c->def;
        q->elem_size = sizeof(int32_t);
    }
    q->elems = 1;
}

/* The control QUERYCTRL asks for: id itself, or with NEXT_CTRL the next
 * one.  Index or -1. */
static int ctrl_lookup(const sim_dev *d, uint32_t id)
{
    if (id & (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND)) {
        bool want_simple = (id & V4L2_CTRL_FLAG_NEXT_CTRL) != 0;
        uint32_t base = id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
        if (!want_simple) return -1; /* no compound controls */
        for (int i = 0; i < d->p->n_ctrls; i++)
            if (d->p->ctrls[i].id > base) return i;
        return -1;
    }
    return ctrl_index(d, id);
}

static int do_ext_ctrls(sim_open *o, unsigned long req, struct v4l2_ext_controls *cs)
{
    sim_dev *d = o->dev;
    bool get = req == VIDIOC_G_EXT_CTRLS, set = req == VIDIOC_S_EXT_CTRLS;
    uint32_t which = cs->which;
    bool def_val = which == V4L2_CTRL_WHICH_DEF_VAL;
    if (def_val && !get) return -EINVAL;
    bool is_class = which != V4L2_CTRL_WHICH_CUR_VAL && !def_val;
    if (is_class && (which == V4L2_CTRL_WHICH_REQUEST_VAL || ctrl_index(d, which | 1) < 0)) return -EINVAL;
    if (cs->count == 0) return 0;
    if (cs->count > V4L2_CTRL_MAX_DIMS * 256) return -EINVAL;
    if (cs->controls == NULL) return -EFAULT;
    if (set) {
        int rc = prio_check(o);
        if (rc) return rc;
    }
    uint32_t bad = get || set ? cs->count : 0;
    int idx[V4L2SIM_MAX_CTRLS * 4];
    if (cs->count > sizeof idx / sizeof idx[0]) {
        cs->error_idx = cs->count;
        return -EINVAL;
    }
    for (uint32_t k = 0; k < cs->count; k++) {
        struct v4l2_ext_control *c = &cs->controls[k];
        int i = ctrl_index(d, c->id);
        if (i < 0 || (is_class && V4L2_CTRL_ID2WHICH(c->id) != which)) {
            cs->error_idx = get || set ? bad : k;
            return -EINVAL;
        }
        if (ctrl_def(d, i)->type == V4L2_CTRL_TYPE_CTRL_CLASS) {
            cs->error_idx = get || set ? bad : k;
            return -EACCES;
        }
        idx[k] = i;
    }
    if (get) {
        for (uint32_t k = 0; k < cs->count; k++)
            cs->controls[k].value = def_val ? ctrl_def(d, idx[k])->def : d->ctrl[idx[k]];
        return 0;
    }
    for (uint32_t k = 0; k < cs->count; k++) {
        int32_t v = cs->controls[k].value;
        int rc = ctrl_set(d, o, idx[k], &v, false);
        if (rc) {
            cs->error_idx = set ? bad : k;
            return rc;
        }
        cs->controls[k].value = v;
    }
    if (set)
        for (uint32_t k = 0; k < cs->count; k++) {
            int32_t v = cs->controls[k].value;
            ctrl_set(d, o, idx[k], &v, true);
        }
    return 0;
}

/* ---- formats ------------------------------------------------------------ */

static int format_find(const sim_dev *d, uint32_t fourcc)
{
    for (int i = 0; i < d->p->n_formats; i++)
        if (d->p->formats[i].fourcc == fourcc) return i;
    return -1;
}

static void fill_pix(const sim_dev *d, int fi, int w, int h, struct v4l2_pix_format *pix)
{
    const v4l2sim_format *f = &d->p->formats[fi];
    memset(pix, 0, sizeof *pix);
    pix->width = (uint32_t)w;
    pix->height = (uint32_t)h;
    pix->pixelformat = f->fourcc;
    pix->field = V4L2_FIELD_NONE;
    pix->sizeimage = image_size(f->fourcc, w, h, &pix->bytesperline);
    pix->colorspace = V4L2_COLORSPACE_SRGB;
    pix->priv = V4L2_PIX_FMT_PRIV_MAGIC;
}

/* The discrete size w x h of format fi, or NULL (none, or a range). */
static const v4l2sim_size *discrete_size(const sim_dev *d, int fi, int w, int h)
{
    const v4l2sim_format *f = &d->p->formats[fi];
    for (int i = 0; i < f->n_sizes; i++)
        if (f->sizes[i].width == w && f->sizes[i].height == h) return &f->sizes[i];
    return NULL;
}

static int clamp_step(long v, int lo, int hi, int step)
{
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return lo + (int)((v - lo) / step) * step;
}

/* The format and size TRY_FMT makes of in: the format asked for (else the
 * first), and its size nearest to the one asked for (a range's: clamped
 * and on its steps). */
static void try_format(const sim_dev *d, const struct v4l2_pix_format *in, int *fi, int *w, int *h)
{
    *fi = format_find(d, in->pixelformat);
    if (*fi < 0) *fi = 0;
    const v4l2sim_format *f = &d->p->formats[*fi];
    if (f->stepwise) {
        const v4l2sim_stepwise *r = f->stepwise;
        *w = clamp_step((long)in->width, r->min_w, r->max_w, r->step);
        *h = clamp_step((long)in->height, r->min_h, r->max_h, r->step);
        return;
    }
    long best = LONG_MAX;
    *w = f->sizes[0].width;
    *h = f->sizes[0].height;
    for (int i = 0; i < f->n_sizes; i++) {
        long dist = labs((long)f->sizes[i].width - (long)in->width) +
                    labs((long)f->sizes[i].height - (long)in->height);
        if (dist < best) {
            best = dist;
            *w = f->sizes[i].width;
            *h = f->sizes[i].height;
        }
    }
}

static double fabs_d(double x)
{
    return x < 0 ? -x : x;
}

/* The rate nearest to want that format fi offers at w x h. */
static int nearest_fps(const sim_dev *d, int fi, int w, int h, double want)
{
    const v4l2sim_format *f = &d->p->formats[fi];
    if (f->stepwise) {
        long v = (long)(want + 0.5);
        if (v < f->stepwise->fps_min) v = f->stepwise->fps_min;
        if (v > f->stepwise->fps_max) v = f->stepwise->fps_max;
        return (int)v;
    }
    const v4l2sim_size *s = discrete_size(d, fi, w, h);
    if (s == NULL) return 30;
    int best = s->fps[0];
    for (int i = 1; i < s->n_fps; i++)
        if (fabs_d(s->fps[i] - want) < fabs_d(best - want)) best = s->fps[i];
    return best;
}

/* ---- buffers ------------------------------------------------------------- */

static void fill_buffer(const sim_dev *d, int i, struct v4l2_buffer *b)
{
    const sim_buf *sb = &d->bufs[i];
    memset(b, 0, sizeof *b);
    b->index = (uint32_t)i;
    b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b->memory = V4L2_MEMORY_MMAP;
    b->length = (uint32_t)sb->length;
    b->m.offset = (uint32_t)i << BUF_SHIFT;
    b->field = V4L2_FIELD_NONE;
    b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
    if (sb->mapped) b->flags |= V4L2_BUF_FLAG_MAPPED;
    if (sb->state == BUF_QUEUED) b->flags |= V4L2_BUF_FLAG_QUEUED;
    if (sb->state == BUF_DONE) b->flags |= V4L2_BUF_FLAG_DONE;
    if (sb->prepared && sb->state == BUF_DEQUEUED) b->flags |= V4L2_BUF_FLAG_PREPARED;
    if (sb->state != BUF_QUEUED) {
        b->bytesused = sb->bytesused;
        b->flags |= sb->flags;
        b->sequence = sb->sequence;
        b->timestamp = sb->ts;
    }
}

/* The buffer ioctls' common checks: the queue belongs to o. */
static int queue_check(const sim_open *o)
{
    return o->dev->owner && o->dev->owner != o ? -EBUSY : 0;
}

static int do_reqbufs(sim_open *o, struct v4l2_requestbuffers *r)
{
    sim_dev *d = o->dev;
    memset(r->reserved, 0, sizeof r->reserved);
    r->flags = 0;
    r->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
    if (r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r->memory != V4L2_MEMORY_MMAP) return -EINVAL;
    int rc = prio_check(o);
    if (rc == 0) rc = queue_check(o);
    if (rc) return rc;
    if (d->streaming) return -EBUSY;
    bufs_free(d);
    if (r->count == 0) {
        d->owner = NULL;
        return 0;
    }
    uint32_t bpl;
    size_t size = image_size(cur_format(d)->fourcc, d->width, d->height, &bpl);
    int want = r->count > MAX_BUFS ? MAX_BUFS : (int)r->count;
    int made = bufs_add(d, want, size);
    if (made == 0) return -ENOMEM;
    r->count = (uint32_t)made;
    d->owner = o;
    return 0;
}

static int do_create_bufs(sim_open *o, struct v4l2_create_buffers *c)
{
    sim_dev *d = o->dev;
    memset(c->reserved, 0, sizeof c->reserved);
    c->flags = 0;
    c->capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
    if (c->format.type != V4L2_BUF_TYPE_VIDEO_CAPTURE || c->memory != V4L2_MEMORY_MMAP) return -EINVAL;
    int rc = prio_check(o);
    if (rc == 0) rc = queue_check(o);
    if (rc) return rc;
    c->index = (uint32_t)d->n_bufs;
    if (c->count == 0) return 0;
    uint32_t bpl;
    size_t need = image_size(cur_format(d)->fourcc, d->width, d->height, &bpl);
    if (c->format.fmt.pix.sizeimage < need) return -EINVAL;
    int room = MAX_BUFS - d->n_bufs;
    if (room == 0) return -ENOBUFS;
    int want = c->count > (uint32_t)room ? room : (int)c->count;
    int made = bufs_add(d, want, c->format.fmt.pix.sizeimage);
    if (made == 0) return -ENOMEM;
    c->count = (uint32_t)made;
    d->owner = o;
    return 0;
}

static int buffer_arg(sim_open *o, struct v4l2_buffer *b, bool need_mmap)
{
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return -EINVAL;
    if (need_mmap && b->memory != V4L2_MEMORY_MMAP) return -EINVAL;
    if (b->index >= (uint32_t)o->dev->n_bufs) return -EINVAL;
    return queue_check(o);
}

static int do_qbuf(sim_open *o, struct v4l2_buffer *b, bool prepare_only)
{
    sim_dev *d = o->dev;
    int rc = buffer_arg(o, b, true);
    if (rc) return rc;
    sim_buf *sb = &d->bufs[b->index];
    if (sb->state != BUF_DEQUEUED) return -EINVAL;
    if (prepare_only) {
        if (sb->prepared) return -EINVAL;
        sb->prepared = true;
    } else {
        sb->state = BUF_QUEUED;
        d->queued[d->n_queued++] = (int)b->index;
        pthread_cond_broadcast(&d->cond);
    }
    fill_buffer(d, (int)b->index, b);
    return 0;
}

static int do_dqbuf(sim_open *o, int fd, struct v4l2_buffer *b)
{
    sim_dev *d = o->dev;
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP) return -EINVAL;
    int rc = queue_check(o);
    if (rc) return rc;
    bool nonblock = (v4l2sim_real.fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
    uint64_t run = d->run_id;
    for (;;) {
        if (o->generation != d->generation) return -ENODEV;
        if (!d->streaming || d->run_id != run) return -EINVAL;
        if (d->n_done > 0) break;
        if (nonblock) return -EAGAIN;
        pthread_cond_wait(&d->cond, &g_lock);
    }
    int i = d->done[0];
    memmove(d->done, d->done + 1, sizeof d->done[0] * (size_t)--d->n_done);
    d->bufs[i].state = BUF_DEQUEUED;
    d->bufs[i].prepared = false;
    sync_readable(d);
    fill_buffer(d, i, b);
    return 0;
}

/* ---- the ioctl dispatcher ---------------------------------------------- */

static int do_ioctl(sim_open *o, int fd, unsigned long req, void *arg)
{
    sim_dev *d = o->dev;
    if (o->generation != d->generation) return -ENODEV;
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        snprintf((char *)c->driver, sizeof c->driver, "%s", d->p->driver);
        snprintf((char *)c->card, sizeof c->card, "%s", d->p->card);
        snprintf((char *)c->bus_info, sizeof c->bus_info, "%s", d->p->bus_info);
        c->version = (6u << 16) | (1u << 8);
        c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT;
        c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
        return 0;
    }
    case VIDIOC_G_PRIORITY:
        *(uint32_t *)arg = (uint32_t)prio_max(d);
        return 0;
    case VIDIOC_S_PRIORITY: {
        uint32_t p = *(uint32_t *)arg;
        if (p != V4L2_PRIORITY_BACKGROUND && p != V4L2_PRIORITY_INTERACTIVE && p != V4L2_PRIORITY_RECORD)
            return -EINVAL;
        int rc = prio_check(o);
        if (rc) return rc;
        if (p == V4L2_PRIORITY_RECORD)
            for (sim_open *x = g_opens; x; x = x->next)
                if (x != o && x->dev == d && x->prio == V4L2_PRIORITY_RECORD) return -EBUSY;
        o->prio = p;
        return 0;
    }
    case VIDIOC_ENUMINPUT: {
        struct v4l2_input *in = arg;
        if (in->index != 0) return -EINVAL;
        memset(in, 0, sizeof *in);
        snprintf((char *)in->name, sizeof in->name, "Camera 1");
        in->type = V4L2_INPUT_TYPE_CAMERA;
        return 0;
    }
    case VIDIOC_G_INPUT:
        *(int *)arg = 0;
        return 0;
    case VIDIOC_S_INPUT: {
        int rc = prio_check(o);
        if (rc) return rc;
        return *(int *)arg == 0 ? 0 : -EINVAL;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *f = arg;
        if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || f->index >= (uint32_t)d->p->n_formats) return -EINVAL;
        const v4l2sim_format *pf = &d->p->formats[f->index];
        uint32_t index = f->index;
        memset(f, 0, sizeof *f);
        f->index = index;
        f->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        f->pixelformat = pf->fourcc;
        f->flags = pf->compressed ? V4L2_FMT_FLAG_COMPRESSED : 0;
        snprintf((char *)f->description, sizeof f->description, "%s", pf->description);
        return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
        struct v4l2_frmsizeenum *s = arg;
        int fi = format_find(d, s->pixel_format);
        if (fi < 0) return -EINVAL;
        const v4l2sim_format *pf = &d->p->formats[fi];
        memset(s->reserved, 0, sizeof s->reserved);
        if (pf->stepwise) {
            if (s->index != 0) return -EINVAL;
            const v4l2sim_stepwise *r = pf->stepwise;
            s->type = V4L2_FRMSIZE_TYPE_STEPWISE;
            s->stepwise = (struct v4l2_frmsize_stepwise){
                .min_width = (uint32_t)r->min_w, .max_width = (uint32_t)r->max_w, .step_width = (uint32_t)r->step,
                .min_height = (uint32_t)r->min_h, .max_height = (uint32_t)r->max_h, .step_height = (uint32_t)r->step};
            return 0;
        }
        if (s->index >= (uint32_t)pf->n_sizes) return -EINVAL;
        const v4l2sim_size *sz = &pf->sizes[s->index];
        s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
        s->discrete.width = (uint32_t)sz->width;
        s->discrete.height = (uint32_t)sz->height;
        return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
        struct v4l2_frmivalenum *v = arg;
        int fi = format_find(d, v->pixel_format);
        if (fi < 0) return -EINVAL;
        const v4l2sim_format *pf = &d->p->formats[fi];
        if (pf->stepwise) {
            /* any size in the range, any rate in the range (as bcm2835-v4l2) */
            const v4l2sim_stepwise *r = pf->stepwise;
            if (v->index != 0 || (int)v->width < r->min_w || (int)v->width > r->max_w ||
                (int)v->height < r->min_h || (int)v->height > r->max_h)
                return -EINVAL;
            memset(v->reserved, 0, sizeof v->reserved);
            v->type = V4L2_FRMIVAL_TYPE_CONTINUOUS;
            v->stepwise.min = (struct v4l2_fract){1, (uint32_t)r->fps_max};
            v->stepwise.max = (struct v4l2_fract){1, (uint32_t)r->fps_min};
            v->stepwise.step = (struct v4l2_fract){1, 1};
            return 0;
        }
        const v4l2sim_size *sz = discrete_size(d, fi, (int)v->width, (int)v->height);
        if (sz == NULL || v->index >= (uint32_t)sz->n_fps) return -EINVAL;
        memset(v->reserved, 0, sizeof v->reserved);
        v->type = V4L2_FRMIVAL_TYPE_DISCRETE;
        v->discrete.numerator = 1;
        v->discrete.denominator = (uint32_t)sz->fps[v->index];
        return 0;
    }
    case VIDIOC_G_FMT: {
        struct v4l2_format *f = arg;
        if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return -EINVAL;
        fill_pix(d, d->fmt, d->width, d->height, &f->fmt.pix);
        return 0;
    }
    case VIDIOC_TRY_FMT:
    case VIDIOC_S_FMT: {
        struct v4l2_format *f = arg;
        if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return -EINVAL;
        if (req == VIDIOC_S_FMT) {
            int rc = prio_check(o);
            if (rc) return rc;
            if (d->n_bufs > 0 || d->streaming) return -EBUSY;
        }
        int fi, w, h;
        try_format(d, &f->fmt.pix, &fi, &w, &h);
        fill_pix(d, fi, w, h, &f->fmt.pix);
        if (req == VIDIOC_S_FMT) {
            d->fmt = fi;
            d->width = w;
            d->height = h;
            d->fps = nearest_fps(d, fi, w, h, d->fps);
        }
        return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
        struct v4l2_streamparm *p = arg;
        if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return -EINVAL;
        if (req == VIDIOC_S_PARM) {
            int rc = prio_check(o);
            if (rc) return rc;
            struct v4l2_fract t = p->parm.capture.timeperframe;
            if (t.numerator && t.denominator) {
                if (d->streaming) return -EBUSY;
                d->fps = nearest_fps(d, d->fmt, d->width, d->height, (double)t.denominator / t.numerator);
            }
        }
        memset(&p->parm, 0, sizeof p->parm);
        p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
        p->parm.capture.timeperframe.numerator = 1;
        p->parm.capture.timeperframe.denominator = (uint32_t)d->fps;
        return 0;
    }
    case VIDIOC_QUERYCTRL: {
        struct v4l2_queryctrl *q = arg;
        int i = ctrl_lookup(d, q->id);
        if (i < 0) return -EINVAL;
        struct v4l2_query_ext_ctrl x;
        fill_queryctrl(d, i, &x);
        memset(q, 0, sizeof *q);
        q->id = x.id;
        q->type = x.type;
        snprintf((char *)q->name, sizeof q->name, "%s", x.name);
        q->minimum = (int32_t)x.minimum;
        q->maximum = (int32_t)x.maximum;
        q->step = (int32_t)x.step;
        q->default_value = (int32_t)x.default_value;
        q->flags = x.flags;
        return 0;
    }
    case VIDIOC_QUERY_EXT_CTRL: {
        struct v4l2_query_ext_ctrl *q = arg;
        int i = ctrl_lookup(d, q->id);
        if (i < 0) return -EINVAL;
        fill_queryctrl(d, i, q);
        return 0;
    }
    case VIDIOC_QUERYMENU: {
        struct v4l2_querymenu *m = arg;
        int i = ctrl_index(d, m->id);
        if (i < 0) return -EINVAL;
        const v4l2sim_ctrl *c = ctrl_def(d, i);
        if ((c->type != V4L2_CTRL_TYPE_MENU && c->type != V4L2_CTRL_TYPE_INTEGER_MENU) ||
            m->index < (uint32_t)c->min || m->index > (uint32_t)c->max ||
            (c->type == V4L2_CTRL_TYPE_MENU && c->menu[m->index] == NULL))
            return -EINVAL;
        m->reserved = 0;
        if (c->type == V4L2_CTRL_TYPE_INTEGER_MENU) m->value = c->qmenu[m->index];
        else snprintf((char *)m->name, sizeof m->name, "%s", c->menu[m->index]);
        return 0;
    }
    case VIDIOC_G_CTRL: {
        struct v4l2_control *c = arg;
        int i = ctrl_index(d, c->id);
        if (i < 0) return -EINVAL;
        if (ctrl_def(d, i)->type == V4L2_CTRL_TYPE_CTRL_CLASS) return -EACCES;
        c->value = d->ctrl[i];
        return 0;
    }
    case VIDIOC_S_CTRL: {
        struct v4l2_control *c = arg;
        int i = ctrl_index(d, c->id);
        if (i < 0) return -EINVAL;
        int rc = prio_check(o);
        if (rc) return rc;
        return ctrl_set(d, o, i, &c->value, true);
    }
    case VIDIOC_G_EXT_CTRLS:
    case VIDIOC_S_EXT_CTRLS:
    case VIDIOC_TRY_EXT_CTRLS:
        return do_ext_ctrls(o, req, arg);
    case VIDIOC_SUBSCRIBE_EVENT:
    case VIDIOC_UNSUBSCRIBE_EVENT: {
        struct v4l2_event_subscription *s = arg;
        if (req == VIDIOC_UNSUBSCRIBE_EVENT && s->type == V4L2_EVENT_ALL) {
            memset(o->sub_flags, 0, sizeof o->sub_flags);
            o->n_events = 0;
            return 0;
        }
        if (s->type != V4L2_EVENT_CTRL) return -EINVAL;
        int i = ctrl_index(d, s->id);
        if (i < 0) return -EINVAL;
        if (req == VIDIOC_UNSUBSCRIBE_EVENT) {
            o->sub_flags[i] = 0;
            for (int k = 0; k < o->n_events; k++)
                if (o->events[k].ev.id == s->id) {
                    memmove(o->events + k, o->events + k + 1, sizeof o->events[0] * (size_t)(o->n_events - k - 1));
                    o->n_events--;
                    break;
                }
            return 0;
        }
        bool was = o->sub_flags[i] & 0x80;
        o->sub_flags[i] = (uint8_t)(0x80 | (s->flags & (V4L2_EVENT_SUB_FL_SEND_INITIAL |
                                                       V4L2_EVENT_SUB_FL_ALLOW_FEEDBACK)));
        /* the initial event carries the value: none for a write-only control */
        if (!was && (s->flags & V4L2_EVENT_SUB_FL_SEND_INITIAL) &&
            !(ctrl_flags(d, i) & V4L2_CTRL_FLAG_WRITE_ONLY))
            queue_event(o, i, V4L2_EVENT_CTRL_CH_FLAGS | V4L2_EVENT_CTRL_CH_VALUE);
        return 0;
    }
    case VIDIOC_DQEVENT: {
        struct v4l2_event *e = arg;
        if (o->n_events == 0) return -ENOENT;
        *e = o->events[0].ev;
        memmove(o->events, o->events + 1, sizeof o->events[0] * (size_t)--o->n_events);
        e->pending = (uint32_t)o->n_events;
        return 0;
    }
    case VIDIOC_REQBUFS:
        return do_reqbufs(o, arg);
    case VIDIOC_CREATE_BUFS:
        return do_create_bufs(o, arg);
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *b = arg;
        if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->index >= (uint32_t)d->n_bufs) return -EINVAL;
        fill_buffer(d, (int)b->index, b);
        return 0;
    }
    case VIDIOC_PREPARE_BUF:
        return do_qbuf(o, arg, true);
    case VIDIOC_QBUF:
        return do_qbuf(o, arg, false);
    case VIDIOC_DQBUF:
        return do_dqbuf(o, fd, arg);
    case VIDIOC_STREAMON:
    case VIDIOC_STREAMOFF: {
        if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE) return -EINVAL;
        int rc = prio_check(o);
        if (rc == 0) rc = queue_check(o);
        if (rc) return rc;
        if (req == VIDIOC_STREAMOFF) {
            stream_stop(d);
            return 0;
        }
        if (d->n_bufs == 0) return -EINVAL;
        if (d->streaming) return 0;
        d->owner = o;
        return stream_start(d);
    }
    case VIDIOC_LOG_STATUS:
        return 0;
    default:
        return -ENOTTY;
    }
}

/* Is request one do_ioctl answers (a NULL argument is then EFAULT)? */
static bool known_ioctl(unsigned long request)
{
    static const unsigned long known[] = {
        VIDIOC_QUERYCAP, VIDIOC_G_PRIORITY, VIDIOC_S_PRIORITY, VIDIOC_ENUMINPUT, VIDIOC_G_INPUT,
        VIDIOC_S_INPUT, VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES, VIDIOC_ENUM_FRAMEINTERVALS,
        VIDIOC_G_FMT, VIDIOC_TRY_FMT, VIDIOC_S_FMT, VIDIOC_G_PARM, VIDIOC_S_PARM, VIDIOC_QUERYCTRL,
        VIDIOC_QUERY_EXT_CTRL, VIDIOC_QUERYMENU, VIDIOC_G_CTRL, VIDIOC_S_CTRL, VIDIOC_G_EXT_CTRLS,
        VIDIOC_S_EXT_CTRLS, VIDIOC_TRY_EXT_CTRLS, VIDIOC_SUBSCRIBE_EVENT, VIDIOC_UNSUBSCRIBE_EVENT,
        VIDIOC_DQEVENT, VIDIOC_REQBUFS, VIDIOC_CREATE_BUFS, VIDIOC_QUERYBUF, VIDIOC_PREPARE_BUF,
        VIDIOC_QBUF, VIDIOC_DQBUF, VIDIOC_STREAMON, VIDIOC_STREAMOFF,
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i] == request) return true;
    return false;
}

int v4l2sim_ioctl(int fd, unsigned long request, void *arg)
{
    /* the kernel takes the request as 32 bits: a caller that passed an
     * int (µStreamer's xioctl) hands over a sign-extended value */
    request = (unsigned int)request;
    pthread_mutex_lock(&g_lock);
    sim_open *o = atomic_load(&g_fds[fd]);
    if (o == NULL) {
        pthread_mutex_unlock(&g_lock);
        errno = EBADF;
        return -1;
    }
    fault_refresh(o->dev, false);
    int rc;
    if (_IOC_TYPE(request) != 'V') rc = -ENOTTY;
    else if (arg == NULL && _IOC_SIZE(request) > 0) rc = known_ioctl(request) ? -EFAULT : -ENOTTY;
    else rc = do_ioctl(o, fd, request, arg);
    pthread_mutex_unlock(&g_lock);
    /* not in STREAMOFF: a program may stop the stream from one thread
     * while another waits in DQBUF, and expects it at once (v4l2-compliance's
     * blocking-DQBUF test); the old run's frame may still be rendering */
    if (request == VIDIOC_STREAMON) join_retired();
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}

/* Writes NAME.maps with the counts given (taken under g_maps_lock). */
static void maps_save(const sim_dev *d, int mapped, unsigned long mmaps, unsigned long munmaps)
{
    if (!g_state_dir[0]) return;
    char path[600], tmp[660];
    state_path(d, "maps", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%d.%lx", path, (int)getpid(), (unsigned long)pthread_self());
    FILE *f = fopen(tmp, "we");
    if (f == NULL) return;
    fprintf(f, "mapped %d\nmmaps %lu\nmunmaps %lu\n", mapped, mmaps, munmaps);
    if (fclose(f) != 0 || rename(tmp, path) != 0) unlink(tmp);
}

static void maps_record(sim_dev *d, void *p, size_t len)
{
    pthread_mutex_lock(&g_maps_lock);
    d->mmaps++;
    int n = atomic_load(&g_n_maps);
    for (int i = 0; i < MAX_MAPS; i++) {
        if (g_maps[i].addr != NULL) continue;
        g_maps[i] = (client_map){p, len, d};
        atomic_store(&g_n_maps, n + 1);
        d->mapped++;
        break;
    }
    int mapped = d->mapped;
    unsigned long mmaps = d->mmaps, munmaps = d->munmaps;
    pthread_mutex_unlock(&g_maps_lock);
    maps_save(d, mapped, mmaps, munmaps);
}

void v4l2sim_munmap_note(void *addr, size_t len)
{
    if (atomic_load(&g_n_maps) == 0 || addr == NULL) return;
    uint8_t *lo = addr, *hi = lo + len;
    sim_dev *changed[MAX_DEVICES];
    int mapped[MAX_DEVICES], n_changed = 0;
    unsigned long mmaps[MAX_DEVICES], munmaps[MAX_DEVICES];
    pthread_mutex_lock(&g_maps_lock);
    for (int i = 0; i < MAX_MAPS; i++) {
        client_map *m = &g_maps[i];
        if (m->addr == NULL || m->addr < lo || m->addr >= hi) continue;
        sim_dev *d = m->dev;
        d->mapped--;
        d->munmaps++;
        *m = (client_map){0};
        atomic_fetch_sub(&g_n_maps, 1);
        int k = 0;
        while (k < n_changed && changed[k] != d) k++;
        if (k == n_changed) changed[n_changed++] = d;
        mapped[k] = d->mapped;
        mmaps[k] = d->mmaps;
        munmaps[k] = d->munmaps;
    }
    pthread_mutex_unlock(&g_maps_lock);
    for (int k = 0; k < n_changed; k++) maps_save(changed[k], mapped[k], mmaps[k], munmaps[k]);
}

void *v4l2sim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
    pthread_mutex_lock(&g_lock);
    sim_open *o = atomic_load(&g_fds[fd]);
    int err = 0;
    void *p = MAP_FAILED;
    if (o == NULL) {
        err = EBADF;
    } else if (o->generation != o->dev->generation) {
        err = ENODEV;
    } else {
        sim_dev *d = o->dev;
        uint64_t i = (uint64_t)offset >> BUF_SHIFT;
        if ((offset & ((1 << BUF_SHIFT) - 1)) || i >= (uint64_t)d->n_bufs || len == 0 ||
            len > d->bufs[i].length || !(flags & MAP_SHARED)) {
            err = EINVAL;
        } else {
            p = v4l2sim_real.mmap(addr, len, prot, flags, d->bufs[i].memfd, 0);
            if (p == MAP_FAILED) {
                err = errno;
            } else {
                d->bufs[i].mapped = true;
                maps_record(d, p, len);
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (p == MAP_FAILED) errno = err;
    return p;
}

short v4l2sim_poll_revents(int fd, short events)
{
    pthread_mutex_lock(&g_lock);
    sim_open *o = atomic_load(&g_fds[fd]);
    short r = 0;
    if (o == NULL) {
        r = POLLNVAL;
    } else {
        sim_dev *d = o->dev;
        fault_refresh(d, false);
        if (o->generation != d->generation) {
            r = POLLERR | POLLHUP;
        } else {
            if (o->n_events > 0) r |= POLLPRI;
            if (events & (POLLIN | POLLRDNORM)) {
                if (!d->streaming || d->owner != o) r |= POLLERR;
                else if (d->n_done > 0) r |= (short)(POLLIN | POLLRDNORM);
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
    return (short)(r & (events | POLLERR | POLLHUP | POLLNVAL));
}
