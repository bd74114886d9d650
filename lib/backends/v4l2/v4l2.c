/*
 * v4l2: the backend for Video4Linux2 capture devices: UVC webcams, and
 * Raspberry Pi cameras through libcamera's V4L2 shim (`libcamerify
 * tether ...`).  See backend.h for the contract.
 *
 * Specs: "v4l2:/dev/videoN", and "v4l2:auto" for the first capture device
 * found.  Discovery opens every video* node in TETHER_V4L2_DIR (default
 * /dev) and keeps those whose QUERYCAP says video capture with streaming.
 *
 * Everything runs on the camera's owner thread: live view is pulled
 * (->preview): the stream is started once (mmap buffers), and each call
 * waits for a filled buffer with poll() (never a blocking DQBUF: the node
 * is opened O_NONBLOCK), checks it, copies it out and queues the buffer
 * again.  A buffer the driver flagged V4L2_BUF_FLAG_ERROR, or an MJPEG
 * frame that fails v4l2_mjpeg_frame_ok (cut short, no SOI), is dropped and
 * counted, never served.  A stream that delivers nothing for
 * max(1 s, 5 frame intervals) (the first frame after STREAMON: 4 s more,
 * for the sensor's start-up) is restarted once, then reported as a
 * timeout; so is a stream whose queue is in error (poll's POLLERR, EIO)
 * while the device still answers (a driver's fatal streaming error).
 * ENODEV (unplugged) becomes TETHER_ERR_DISCONNECTED, and the session
 * reopens the node when it is back.
 *
 * Formats: MJPEG and JPEG (bcm2835-v4l2's still format) pass through,
 * completed with the standard Huffman tables when the camera left them out
 * (UVC); YUYV goes to the session as YUYV (it converts once); YU12, NV12,
 * RGB3 and BGR3 (libcamerify, bcm2835-v4l2) are encoded to JPEG here with
 * libjpeg-turbo (raw.h).  Live view uses the largest size up to 1280
 * pixels wide that reaches 15 fps (where one does) at its fastest rate,
 * MJPEG first.  A driver that enumerates
 * its sizes as a stepwise or continuous range (bcm2835-v4l2: 32x32 to the
 * sensor's size) is taken as two sizes: the range's largest (for stills)
 * and the largest of the sensor's shape at most 1280 pixels wide, on the
 * range's steps (live view); a continuous frame-interval range is taken at
 * 30 fps where it reaches that, else its fastest.
 *
 * Stills (->capture), as picamera's still port: the stream stops, the
 * largest size is set (MJPEG if offered), one good frame is taken, then
 * the live-view format, frame rate and every control's value are put
 * back and the stream restarts if it was running.  The still comes back
 * as bytes (BACKEND_ITEM_MEMORY, "IMG_0001.jpg").
 *
 * Controls are settings under /controls/NAME, NAME derived from the
 * driver's label as v4l2-ctl does ("Focus, Absolute" -> focus_absolute):
 * integers are ranges, booleans toggles, menus choices (an integer
 * menu's numbers are its choices: ISO "100", "200"...).  A control the
 * driver flags inactive (a manual one while its auto control is on) is
 * read-only until the auto control is switched off.  Canonical names:
 * shutterspeed -> exposure_time_absolute, iso -> iso_sensitivity or else
 * gain, whitebalance -> white_balance_temperature or else
 * white_balance_auto_preset, exposuremode -> auto_exposure, focusmode ->
 * focus_automatic_continuous.  A camera without focus_absolute (the Pi's
 * cameras through these drivers) answers focus with NOT_SUPPORTED.  Focus: focus_absolute is the absolute
 * focus position (TETHER_FOCUS_ABSOLUTE with its range); setting it turns
 * continuous autofocus off first.  Control changes made by another
 * program arrive as V4L2_EVENT_CTRL and become SETTING_CHANGED events.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/v4l2/mjpeg.h"
#include "backends/v4l2/raw.h"
#include "base/clock.h"
#include "base/log.h"
#include "camera/convert.h"
#include "camera/values.h"
#include "image/jpeg.h"
#include "image/yuv.h"

enum {
    MAX_FORMATS = 8,
    MAX_SIZES = 16,
    MAX_CTRLS = 128,            /* vivid has 51 int/bool/menu controls, a UVC webcam ~20 */
    MAX_MENU = 256,             /* items of one menu (vivid's dv_timings has 111) */
    N_BUFFERS = 4,
    LIVEVIEW_MAX_WIDTH = 1280,
    LIVEVIEW_MIN_FPS = 15,      /* live view prefers a smaller size to a slower one */
    RANGE_FPS = 30,             /* the rate taken from a continuous interval range */
    RAW_JPEG_QUALITY = 85,
    STILL_TRIES = 30,
    STARTUP_MS = 4000,          /* a sensor's start and first exposure after STREAMON */
};

typedef struct v4l2_size {
    int w, h;
    int fps;                    /* fastest rate offered */
} v4l2_size;

typedef struct v4l2_fmt {
    uint32_t fourcc;
    int n_sizes;
    v4l2_size sizes[MAX_SIZES];
} v4l2_fmt;

typedef struct v4l2_ctrl {
    uint32_t id;
    uint32_t type;
    char name[64];              /* focus_absolute */
    char label[32];             /* Focus, Absolute */
    int32_t min, max, step, def;
    int n_menu;
    struct ctrl_menu_item {
        int32_t value;
        char name[32];
    } *menu;                    /* n_menu items, malloc'ed (NULL if none) */
} v4l2_ctrl;

typedef struct stream_buf {
    void *p;
    size_t len;
} stream_buf;

/* what a stream is set to */
typedef struct stream_mode {
    uint32_t fourcc;
    int w, h, fps;
} stream_mode;

struct backend {
    int fd;
    char path[256];
    char err[512];
    char card[64], driver[32], bus[64];
    v4l2_fmt fmts[MAX_FORMATS];
    int n_fmts;
    v4l2_ctrl ctrls[MAX_CTRLS];
    int n_ctrls;
    stream_mode lv;             /* live view */
    stream_mode cur;            /* what the device is set to now */
    bool streaming;
    bool first_frame_due;       /* STREAMON done, no frame dequeued yet */
    stream_buf bufs[N_BUFFERS];
    int n_bufs;
    uint64_t frames_ok, frames_bad, stalls;
    unsigned shots;
    bool events;                /* control events subscribed */
};

static int fail(backend *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(backend *b, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* ioctl, repeated on EINTR. */
static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}

/* The error for a failed ioctl: unplugged, or the driver's refusal. */
static int ioctl_fail(backend *b, const char *what)
{
    int e = errno;
    if (e == ENODEV || e == ENXIO || e == EIO)
        return fail(b, TETHER_ERR_DISCONNECTED, "%s: the device is gone (%s)", what, strerror(e));
    return fail(b, e == EBUSY ? TETHER_ERR_BUSY : TETHER_ERR_CAMERA, "%s failed: %s", what, strerror(e));
}

static void fourcc_text(uint32_t f, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        out[i] = c > ' ' && c < 127 ? c : '?';
    }
    out[4] = '\0';
}

static bool format_known(uint32_t f)
{
    return f == V4L2_PIX_FMT_MJPEG || f == V4L2_PIX_FMT_JPEG || f == V4L2_PIX_FMT_YUYV || v4l2_raw_known(f);
}

static bool is_jpeg(uint32_t f)
{
    return f == V4L2_PIX_FMT_MJPEG || f == V4L2_PIX_FMT_JPEG;
}

/* ---- discovery ------------------------------------------------------------- */

static const char *device_dir(void)
{
    const char *d = getenv("TETHER_V4L2_DIR");
    return d && *d ? d : "/dev";
}

/* Is path a V4L2 capture device with streaming?  Fills card. */
static bool is_capture_node(const char *path, char *card, size_t size)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    bool ok = xioctl(fd, VIDIOC_QUERYCAP, &cap) == 0;
    close(fd);
    if (!ok) return false;
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) return false;
    snprintf(card, size, "%s", (const char *)cap.card);
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y); /* video2 before video10 */
}

static int v4l2_list_cameras(tether_camera_info *out, int max, int *count)
{
    *count = 0;
    const char *dir = device_dir();
    DIR *d = opendir(dir);
    if (d == NULL) return TETHER_OK;
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strncmp(e->d_name, "video", 5) == 0 && strchr(e->d_name, '.') == NULL)
            if ((names[n] = strdup(e->d_name)) != NULL) n++;
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    for (int i = 0; i < n; i++) {
        char path[512], card[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (is_capture_node(path, card, sizeof card)) {
            if (*count < max) {
                snprintf(out[*count].model, sizeof out[*count].model, "%s", card);
                snprintf(out[*count].spec, sizeof out[*count].spec, "v4l2:%s", path);
            }
            (*count)++;
        }
        free(names[i]);
    }
    return TETHER_OK;
}

static bool v4l2_accepts(const char *spec)
{
    return strncmp(spec, "v4l2:", 5) == 0;
}

/* ---- what the device offers ------------------------------------------------ */

/* The frame rate to use at w x h: the fastest discrete one, or from a
 * continuous or stepwise range RANGE_FPS when the range reaches it, else
 * its fastest.  0 if the driver lists none. */
static int size_fps(backend *b, uint32_t fourcc, int w, int h)
{
    int fps = 0;
    for (uint32_t j = 0; j < 16; j++) {
        struct v4l2_frmivalenum fi = {.index = j, .pixel_format = fourcc, .width = (uint32_t)w,
                                      .height = (uint32_t)h};
        if (xioctl(b->fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) != 0) break;
        if (fi.type != V4L2_FRMIVAL_TYPE_DISCRETE) {
            /* the shortest interval is the fastest rate, the longest the slowest */
            int fastest = fi.stepwise.min.numerator ? (int)(fi.stepwise.min.denominator / fi.stepwise.min.numerator) : 0;
            int slowest = fi.stepwise.max.numerator ? (int)(fi.stepwise.max.denominator / fi.stepwise.max.numerator) : 0;
            if (fastest <= 0) return fps;
            return fastest > RANGE_FPS && slowest <= RANGE_FPS ? RANGE_FPS : fastest;
        }
        if (fi.discrete.numerator == 0) continue;
        int r = (int)(fi.discrete.denominator / fi.discrete.numerator);
        if (r > fps) fps = r;
    }
    return fps;
}

/* The sizes taken from a stepwise or continuous range into f: its largest,
 * and the live-view size (see the top of the file) when that differs. */
static void range_sizes(backend *b, v4l2_fmt *f, const struct v4l2_frmsize_stepwise *r)
{
    int max_w = (int)r->max_width, max_h = (int)r->max_height;
    int min_w = (int)r->min_width, min_h = (int)r->min_height;
    int step_w = r->step_width > 0 ? (int)r->step_width : 1, step_h = r->step_height > 0 ? (int)r->step_height : 1;
    if (max_w <= 0 || max_h <= 0 || min_w > max_w || min_h > max_h) return;
    f->sizes[f->n_sizes++] = (v4l2_size){max_w, max_h, size_fps(b, f->fourcc, max_w, max_h)};
    if (max_w <= LIVEVIEW_MAX_WIDTH || f->n_sizes >= MAX_SIZES) return;
    int w = min_w + (LIVEVIEW_MAX_WIDTH - min_w) / step_w * step_w;
    long hl = (long)max_h * w / max_w;
    int h = hl < min_h ? min_h : min_h + (int)((hl - min_h) / step_h) * step_h;
    if (w < min_w || h > max_h) return;
    f->sizes[f->n_sizes++] = (v4l2_size){w, h, size_fps(b, f->fourcc, w, h)};
}

static void learn_formats(backend *b)
{
    b->n_fmts = 0;
    for (uint32_t i = 0; b->n_fmts < MAX_FORMATS; i++) {
        struct v4l2_fmtdesc fd = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
        if (xioctl(b->fd, VIDIOC_ENUM_FMT, &fd) != 0) break;
        if (!format_known(fd.pixelformat)) continue;
        v4l2_fmt *f = &b->fmts[b->n_fmts];
        memset(f, 0, sizeof *f);
        f->fourcc = fd.pixelformat;
        for (uint32_t k = 0; f->n_sizes < MAX_SIZES; k++) {
            struct v4l2_frmsizeenum fs = {.index = k, .pixel_format = f->fourcc};
            if (xioctl(b->fd, VIDIOC_ENUM_FRAMESIZES, &fs) != 0) break;
            if (fs.type != V4L2_FRMSIZE_TYPE_DISCRETE) {
                range_sizes(b, f, &fs.stepwise);
                break;
            }
            v4l2_size *s = &f->sizes[f->n_sizes];
            s->w = (int)fs.discrete.width;
            s->h = (int)fs.discrete.height;
            s->fps = size_fps(b, f->fourcc, s->w, s->h);
            if (s->w > 0 && s->h > 0) f->n_sizes++;
        }
        if (f->n_sizes > 0) b->n_fmts++;
    }
}

/* The v4l2-ctl style short name of a control label. */
static void short_name(const char *label, char *out, size_t size)
{
    size_t o = 0;
    bool sep = false;
    for (const char *p = label; *p && o + 1 < size; p++) {
        char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (sep && o > 0 && o + 2 < size) out[o++] = '_';
            out[o++] = c;
            sep = false;
        } else if (c >= 'A' && c <= 'Z') {
            if (sep && o > 0 && o + 2 < size) out[o++] = '_';
            out[o++] = (char)(c - 'A' + 'a');
            sep = false;
        } else {
            sep = true;
        }
    }
    out[o] = '\0';
}

static bool is_menu(uint32_t type)
{
    return type == V4L2_CTRL_TYPE_MENU || type == V4L2_CTRL_TYPE_INTEGER_MENU;
}

static void free_controls(backend *b)
{
    for (int i = 0; i < b->n_ctrls; i++) free(b->ctrls[i].menu);
    b->n_ctrls = 0;
}

static void learn_controls(backend *b)
{
    free_controls(b);
    struct v4l2_queryctrl q = {.id = V4L2_CTRL_FLAG_NEXT_CTRL};
    while (xioctl(b->fd, VIDIOC_QUERYCTRL, &q) == 0) {
        uint32_t next = q.id | V4L2_CTRL_FLAG_NEXT_CTRL;
        bool usable = !(q.flags & V4L2_CTRL_FLAG_DISABLED) &&
                      (q.type == V4L2_CTRL_TYPE_INTEGER || q.type == V4L2_CTRL_TYPE_BOOLEAN ||
                       is_menu(q.type));
        if (usable && b->n_ctrls == MAX_CTRLS) {
            LOG_WARN("v4l2", "%s: more than %d controls; \"%s\" and those after it are left out", b->path,
                     MAX_CTRLS, (const char *)q.name);
            break;
        }
        if (usable) {
            v4l2_ctrl *c = &b->ctrls[b->n_ctrls];
            memset(c, 0, sizeof *c);
            c->id = q.id;
            c->type = q.type;
            snprintf(c->label, sizeof c->label, "%s", (const char *)q.name);
            short_name(c->label, c->name, sizeof c->name);
            c->min = q.minimum;
            c->max = q.maximum;
            c->step = q.step > 0 ? q.step : 1;
            c->def = q.default_value;
            if (is_menu(q.type) && q.maximum >= q.minimum) {
                int64_t span = (int64_t)q.maximum - q.minimum + 1;
                if (span > MAX_MENU) {
                    LOG_WARN("v4l2", "%s: %s has %lld menu items; the first %d are offered", b->path, c->name,
                             (long long)span, MAX_MENU);
                    span = MAX_MENU;
                }
                /* an integer menu's items are numbers (ISO 100, 200...): they
                 * are its choices' names */
                c->menu = calloc((size_t)span, sizeof *c->menu);
                for (int32_t v = q.minimum; c->menu && v <= q.maximum && c->n_menu < span; v++) {
                    struct v4l2_querymenu m = {.id = q.id, .index = (uint32_t)v};
                    if (xioctl(b->fd, VIDIOC_QUERYMENU, &m) != 0) continue;
                    c->menu[c->n_menu].value = v;
                    if (q.type == V4L2_CTRL_TYPE_INTEGER_MENU)
                        snprintf(c->menu[c->n_menu].name, sizeof c->menu[0].name, "%lld", (long long)m.value);
                    else
                        snprintf(c->menu[c->n_menu].name, sizeof c->menu[0].name, "%s", (const char *)m.name);
                    c->n_menu++;
                }
            }
            if (c->name[0]) b->n_ctrls++;
            else free(c->menu);
        }
        memset(&q, 0, sizeof q);
        q.id = next;
    }
}

static v4l2_ctrl *ctrl_by_id(backend *b, uint32_t id)
{
    for (int i = 0; i < b->n_ctrls; i++)
        if (b->ctrls[i].id == id) return &b->ctrls[i];
    return NULL;
}

static v4l2_ctrl *ctrl_by_name(backend *b, const char *name)
{
    if (strncmp(name, "/controls/", 10) == 0) name += 10;
    for (int i = 0; i < b->n_ctrls; i++)
        if (strcmp(b->ctrls[i].name, name) == 0) return &b->ctrls[i];
    return NULL;
}

/* Picks the live-view mode: MJPEG first; of its sizes up to 1280 wide, the
 * largest that reaches LIVEVIEW_MIN_FPS (or, where none does, the largest
 * at the fastest rate any of them reaches).  A YUYV webcam on USB 2 offers
 * 1280x720 at 10 fps and 640x480 at 30: live view takes 640x480. */
static void choose_liveview(backend *b)
{
    static const uint32_t order[] = {V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_JPEG,  V4L2_PIX_FMT_YUYV,
                                     V4L2_PIX_FMT_NV12,  V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_RGB24,
                                     V4L2_PIX_FMT_BGR24};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (int i = 0; i < b->n_fmts; i++) {
            if (b->fmts[i].fourcc != order[k]) continue;
            int fastest = 0;
            for (int j = 0; j < b->fmts[i].n_sizes; j++)
                if (b->fmts[i].sizes[j].w <= LIVEVIEW_MAX_WIDTH && b->fmts[i].sizes[j].fps > fastest)
                    fastest = b->fmts[i].sizes[j].fps;
            int floor_fps = fastest < LIVEVIEW_MIN_FPS ? fastest : LIVEVIEW_MIN_FPS;
            const v4l2_size *best = NULL;
            for (int j = 0; j < b->fmts[i].n_sizes; j++) {
                const v4l2_size *s = &b->fmts[i].sizes[j];
                if (s->w > LIVEVIEW_MAX_WIDTH || s->fps < floor_fps) continue;
                if (best == NULL || s->w * s->h > best->w * best->h ||
                    (s->w * s->h == best->w * best->h && s->fps > best->fps))
                    best = s;
            }
            if (best == NULL) best = &b->fmts[i].sizes[0];
            b->lv = (stream_mode){b->fmts[i].fourcc, best->w, best->h, best->fps};
            return;
        }
}

/* The still mode: the largest size of all, MJPEG when it has it. */
static stream_mode still_mode(backend *b)
{
    stream_mode best = b->lv;
    long best_px = 0;
    bool best_jpeg = false;
    for (int i = 0; i < b->n_fmts; i++)
        for (int j = 0; j < b->fmts[i].n_sizes; j++) {
            const v4l2_size *s = &b->fmts[i].sizes[j];
            long px = (long)s->w * s->h;
            bool jpeg = is_jpeg(b->fmts[i].fourcc);
            if (px > best_px || (px == best_px && jpeg && !best_jpeg)) {
                best = (stream_mode){b->fmts[i].fourcc, s->w, s->h, s->fps};
                best_px = px;
                best_jpeg = jpeg;
            }
        }
    return best;
}

/* ---- streaming --------------------------------------------------------------- */

static void unmap_buffers(backend *b)
{
    for (int i = 0; i < b->n_bufs; i++)
        if (b->bufs[i].p) munmap(b->bufs[i].p, b->bufs[i].len);
    memset(b->bufs, 0, sizeof b->bufs);
    b->n_bufs = 0;
}

/* Stops streaming and frees every buffer (also after errors). */
static void stream_stop(backend *b)
{
    if (b->fd < 0) return;
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (b->streaming) xioctl(b->fd, VIDIOC_STREAMOFF, &type);
    b->streaming = false;
    unmap_buffers(b);
    struct v4l2_requestbuffers req = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                      .memory = V4L2_MEMORY_MMAP};
    xioctl(b->fd, VIDIOC_REQBUFS, &req);
}

static int set_mode(backend *b, const stream_mode *m)
{
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    f.fmt.pix.width = (uint32_t)m->w;
    f.fmt.pix.height = (uint32_t)m->h;
    f.fmt.pix.pixelformat = m->fourcc;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    if (xioctl(b->fd, VIDIOC_S_FMT, &f) != 0) return ioctl_fail(b, "VIDIOC_S_FMT");
    if (f.fmt.pix.pixelformat != m->fourcc || (int)f.fmt.pix.width != m->w || (int)f.fmt.pix.height != m->h)
        return fail(b, TETHER_ERR_CAMERA, "the device would not take %dx%d", m->w, m->h);
    if (m->fps > 0) {
        struct v4l2_streamparm p = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
        p.parm.capture.timeperframe.numerator = 1;
        p.parm.capture.timeperframe.denominator = (uint32_t)m->fps;
        xioctl(b->fd, VIDIOC_S_PARM, &p); /* a device without frame rates is fine */
    }
    b->cur = *m;
    return TETHER_OK;
}

static int stream_start(backend *b, const stream_mode *m)
{
    int rc = set_mode(b, m);
    if (rc != TETHER_OK) return rc;
    struct v4l2_requestbuffers req = {.count = N_BUFFERS, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                      .memory = V4L2_MEMORY_MMAP};
    if (xioctl(b->fd, VIDIOC_REQBUFS, &req) != 0) return ioctl_fail(b, "VIDIOC_REQBUFS");
    if (req.count < 2) {
        stream_stop(b);
        return fail(b, TETHER_ERR_CAMERA, "the device gave %u buffers", req.count);
    }
    int n = req.count > N_BUFFERS ? N_BUFFERS : (int)req.count;
    for (int i = 0; i < n; i++) {
        struct v4l2_buffer buf = {.index = (uint32_t)i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                  .memory = V4L2_MEMORY_MMAP};
        if (xioctl(b->fd, VIDIOC_QUERYBUF, &buf) != 0) {
            rc = ioctl_fail(b, "VIDIOC_QUERYBUF");
            stream_stop(b);
            return rc;
        }
        void *p = mmap(NULL, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, buf.m.offset);
        if (p == MAP_FAILED) {
            rc = ioctl_fail(b, "mmap");
            stream_stop(b);
            return rc;
        }
        b->bufs[i] = (stream_buf){p, buf.length};
        b->n_bufs = i + 1;
        if (xioctl(b->fd, VIDIOC_QBUF, &buf) != 0) {
            rc = ioctl_fail(b, "VIDIOC_QBUF");
            stream_stop(b);
            return rc;
        }
    }
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(b->fd, VIDIOC_STREAMON, &type) != 0) {
        rc = ioctl_fail(b, "VIDIOC_STREAMON");
        stream_stop(b);
        return rc;
    }
    b->streaming = true;
    b->first_frame_due = true;
    return TETHER_OK;
}

/* Turns one filled buffer into a frame (MJPEG completed, planar and RGB
 * encoded).
 * Returns 0, or TETHER_ERR_BAD_VALUE for a frame to drop. */
static int buffer_to_frame(backend *b, const uint8_t *data, size_t len, backend_frame *out)
{
    memset(out, 0, sizeof *out);
    out->width = b->cur.w;
    out->height = b->cur.h;
    if (is_jpeg(b->cur.fourcc)) {
        const char *why;
        if (!v4l2_mjpeg_frame_ok(data, len, &why)) return fail(b, TETHER_ERR_BAD_VALUE, "bad MJPEG frame: %s", why);
        bytebuf jb;
        bytebuf_init(&jb);
        int rc = v4l2_mjpeg_complete(data, len, &jb);
        if (rc >= 0) out->data = blob_from(jb.data, jb.len);
        bytebuf_free(&jb);
        if (rc < 0) return fail(b, TETHER_ERR_BAD_VALUE, "bad MJPEG frame: malformed segments");
        out->format = TETHER_PIXEL_JPEG;
    } else if (b->cur.fourcc == V4L2_PIX_FMT_YUYV) {
        size_t need = (size_t)b->cur.w * (size_t)b->cur.h * 2;
        if (len < need) return fail(b, TETHER_ERR_BAD_VALUE, "short YUYV frame (%zu of %zu bytes)", len, need);
        out->data = blob_from(data, need);
        out->format = TETHER_PIXEL_YUYV;
    } else {
        out->data = v4l2_raw_to_jpeg(b->cur.fourcc, b->cur.w, b->cur.h, data, len, RAW_JPEG_QUALITY);
        if (out->data == NULL)
            return fail(b, TETHER_ERR_BAD_VALUE, "short or unencodable raw frame (%zu of %zu bytes)", len,
                        v4l2_raw_frame_bytes(b->cur.fourcc, b->cur.w, b->cur.h));
        out->format = TETHER_PIXEL_JPEG;
    }
    return out->data ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

/* How long a running stream may go without a frame before it counts as
 * stalled: five frame intervals, at least a second.  The first frame after
 * STREAMON gets the sensor's start-up on top (UVC bodies settle their
 * exposure first, libcamera starts its pipeline), and a host busy with
 * other work delays it further. */
static int stall_ms(const backend *b)
{
    int fps = b->cur.fps > 0 ? b->cur.fps : 5;
    int ms = 5 * 1000 / fps;
    if (ms < 1000) ms = 1000;
    return b->first_frame_due ? ms + STARTUP_MS : ms;
}

/* Stops the stream and starts it again in the same mode (after a stall or
 * a queue in error); *give_up becomes the new stream's deadline. */
static int restart_stream(backend *b, int64_t *give_up)
{
    stream_mode m = b->cur;
    stream_stop(b);
    int rc = stream_start(b, &m);
    *give_up = clock_mono_ns() + 2 * (int64_t)stall_ms(b) * 1000000;
    return rc;
}

/* Waits for and returns the next good frame of the running stream.  Bad
 * frames are dropped and counted; a stall restarts the stream once. */
static int next_frame(backend *b, backend_frame *out)
{
    bool restarted = false;
    int64_t give_up = clock_mono_ns() + 3 * (int64_t)stall_ms(b) * 1000000;
    for (;;) {
        int wait_ms = stall_ms(b);
        if (clock_mono_ns() > give_up)
            return fail(b, TETHER_ERR_TIMEOUT, "no good frame in %d ms", 3 * wait_ms);
        struct pollfd p = {.fd = b->fd, .events = POLLIN};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ioctl_fail(b, "poll");
        if (r == 0) {
            b->stalls++;
            LOG_WARN("v4l2", "%s: no frame for %d ms%s", b->path, wait_ms, restarted ? "" : "; restarting the stream");
            if (restarted) return fail(b, TETHER_ERR_TIMEOUT, "the device stalled: no frame for %d ms", wait_ms);
            int rc = restart_stream(b, &give_up);
            if (rc != TETHER_OK) return rc;
            restarted = true;
            continue;
        }
        struct v4l2_buffer buf = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        bool queue_error = (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
        if (!queue_error && xioctl(b->fd, VIDIOC_DQBUF, &buf) != 0) {
            if (errno == EAGAIN) continue;
            if (errno != EIO) return ioctl_fail(b, "VIDIOC_DQBUF");
            queue_error = true;
        }
        if (queue_error) {
            /* A device that no longer answers is gone.  One that answers has
             * its queue in error (the kernel's vb2_queue_error: a fatal
             * streaming error), which only STREAMOFF and new buffers clear:
             * the stream is restarted once, as after a stall. */
            struct v4l2_capability cap;
            if (xioctl(b->fd, VIDIOC_QUERYCAP, &cap) != 0) return ioctl_fail(b, "VIDIOC_QUERYCAP");
            LOG_WARN("v4l2", "%s: the device reported an error on its stream%s", b->path,
                     restarted ? "" : "; restarting the stream");
            if (restarted) return fail(b, TETHER_ERR_IO, "the device reported an error on its stream");
            int rc = restart_stream(b, &give_up);
            if (rc != TETHER_OK) return rc;
            restarted = true;
            continue;
        }
        b->first_frame_due = false;
        int rc = TETHER_ERR_BAD_VALUE;
        if (buf.index < (uint32_t)b->n_bufs && !(buf.flags & V4L2_BUF_FLAG_ERROR) &&
            buf.bytesused <= b->bufs[buf.index].len) {
            rc = buffer_to_frame(b, b->bufs[buf.index].p, buf.bytesused, out);
            out->time_ns = (int64_t)buf.timestamp.tv_sec * 1000000000 + (int64_t)buf.timestamp.tv_usec * 1000;
            if (!(buf.flags & V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)) out->time_ns = 0;
        } else if (buf.flags & V4L2_BUF_FLAG_ERROR) {
            fail(b, TETHER_ERR_BAD_VALUE, "the driver flagged frame %u as corrupt", buf.sequence);
        }
        if (xioctl(b->fd, VIDIOC_QBUF, &buf) != 0) {
            /* (EIO from a device that answers: the queue went into error
             * after this buffer was filled; the next call restarts it) */
            struct v4l2_capability cap;
            if (errno != EIO || xioctl(b->fd, VIDIOC_QUERYCAP, &cap) != 0) {
                int e = errno; /* QBUF's, or QUERYCAP's when the device is gone */
                blob_unref(out->data);
                out->data = NULL;
                errno = e;
                return ioctl_fail(b, "VIDIOC_QBUF");
            }
        }
        if (rc == TETHER_OK) {
            b->frames_ok++;
            return TETHER_OK;
        }
        blob_unref(out->data);
        out->data = NULL;
        b->frames_bad++;
        LOG_INFO("v4l2", "%s: frame dropped (%s); %llu dropped so far", b->path, b->err,
                 (unsigned long long)b->frames_bad);
        if (rc != TETHER_ERR_BAD_VALUE) return rc;
    }
}

/* ---- the backend's functions ---------------------------------------------------- */

static void subscribe_events(backend *b)
{
    b->events = false;
    for (int i = 0; i < b->n_ctrls; i++) {
        struct v4l2_event_subscription s = {.type = V4L2_EVENT_CTRL, .id = b->ctrls[i].id};
        if (xioctl(b->fd, VIDIOC_SUBSCRIBE_EVENT, &s) == 0) b->events = true;
    }
}

static int v4l2_open(const char *spec, backend **out, char *err, size_t errsz)
{
    *out = NULL;
    const char *path = spec + 5;
    char found[512];
    if (strcmp(path, "auto") == 0) {
        tether_camera_info info[1];
        int n = 0;
        v4l2_list_cameras(info, 1, &n);
        if (n == 0) {
            snprintf(err, errsz, "no V4L2 capture device in %s", device_dir());
            return TETHER_ERR_NOT_FOUND;
        }
        snprintf(found, sizeof found, "%s", info[0].spec + 5);
        path = found;
    }
    if (path[0] != '/') {
        snprintf(err, errsz, "a V4L2 spec names a device path: v4l2:/dev/videoN (got \"%s\")", spec);
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT || errno == ENODEV ? TETHER_ERR_NOT_FOUND : TETHER_ERR_IO;
    }
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    if (xioctl(fd, VIDIOC_QUERYCAP, &cap) != 0) {
        snprintf(err, errsz, "%s is not a V4L2 device (%s)", path, strerror(errno));
        close(fd);
        return TETHER_ERR_NOT_SUPPORTED;
    }
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        snprintf(err, errsz, "%s is not a V4L2 capture device with streaming", path);
        close(fd);
        return TETHER_ERR_NOT_SUPPORTED;
    }
    backend *b = calloc(1, sizeof *b);
    if (b == NULL) {
        close(fd);
        return TETHER_ERR_NO_MEMORY;
    }
    b->fd = fd;
    snprintf(b->path, sizeof b->path, "%s", path);
    snprintf(b->card, sizeof b->card, "%s", (const char *)cap.card);
    snprintf(b->driver, sizeof b->driver, "%s", (const char *)cap.driver);
    snprintf(b->bus, sizeof b->bus, "%s", (const char *)cap.bus_info);
    learn_formats(b);
    if (b->n_fmts == 0) {
        snprintf(err, errsz, "%s offers no format tether reads (MJPEG, JPEG, YUYV, YU12, NV12, RGB3, BGR3)", path);
        close(fd);
        free(b);
        return TETHER_ERR_NOT_SUPPORTED;
    }
    learn_controls(b);
    choose_liveview(b);
    b->cur = b->lv;
    subscribe_events(b);
    *out = b;
    return TETHER_OK;
}

static void v4l2_close(backend *b)
{
    if (b == NULL) return;
    stream_stop(b);
    if (b->fd >= 0) close(b->fd);
    free_controls(b);
    free(b);
}

static const char *v4l2_last_error(backend *b)
{
    return b->err;
}

static void v4l2_model(backend *b, char *buf, size_t size)
{
    snprintf(buf, size, "%s", b->card);
}

static int v4l2_summary(backend *b, char **text)
{
    bytebuf t;
    bytebuf_init(&t);
    char line[512];
    int n = snprintf(line, sizeof line, "Device: %s\nCard: %s\nDriver: %s\nBus: %s\n", b->path, b->card, b->driver, b->bus);
    bytebuf_put(&t, line, (size_t)n);
    for (int i = 0; i < b->n_fmts; i++) {
        char fc[5];
        fourcc_text(b->fmts[i].fourcc, fc);
        n = snprintf(line, sizeof line, "Format %s:", fc);
        bytebuf_put(&t, line, (size_t)n);
        for (int j = 0; j < b->fmts[i].n_sizes; j++) {
            n = snprintf(line, sizeof line, " %dx%d@%d", b->fmts[i].sizes[j].w, b->fmts[i].sizes[j].h,
                         b->fmts[i].sizes[j].fps);
            bytebuf_put(&t, line, (size_t)n);
        }
        bytebuf_put(&t, "\n", 1);
    }
    char fc[5];
    fourcc_text(b->lv.fourcc, fc);
    n = snprintf(line, sizeof line,
                 "Live view: %s %dx%d@%d\nFrames: %llu good, %llu dropped (corrupt), %llu stalls\n", fc, b->lv.w,
                 b->lv.h, b->lv.fps, (unsigned long long)b->frames_ok, (unsigned long long)b->frames_bad,
                 (unsigned long long)b->stalls);
    bytebuf_put(&t, line, (size_t)n);
    bytebuf_put(&t, "", 1);
    *text = (char *)t.data; /* the buffer's malloc'ed bytes become the caller's */
    return *text ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

static int ctrl_value(backend *b, const v4l2_ctrl *c, int32_t *v)
{
    struct v4l2_control ctl = {.id = c->id};
    if (xioctl(b->fd, VIDIOC_G_CTRL, &ctl) != 0) return ioctl_fail(b, "VIDIOC_G_CTRL");
    *v = ctl.value;
    return TETHER_OK;
}

static uint32_t ctrl_flags(backend *b, const v4l2_ctrl *c)
{
    struct v4l2_queryctrl q = {.id = c->id};
    return xioctl(b->fd, VIDIOC_QUERYCTRL, &q) == 0 ? q.flags : 0;
}

static int fill_setting(backend *b, const v4l2_ctrl *c, tether_setting *s)
{
    memset(s, 0, sizeof *s);
    int32_t v = 0;
    int rc = ctrl_value(b, c, &v);
    if (rc != TETHER_OK) return rc;
    snprintf(s->path, sizeof s->path, "/controls/%s", c->name);
    snprintf(s->name, sizeof s->name, "%s", c->name);
    uint32_t flags = ctrl_flags(b, c);
    snprintf(s->label, sizeof s->label, "%s%s", c->label, (flags & V4L2_CTRL_FLAG_INACTIVE) ? " (inactive while automatic)" : "");
    s->read_only = (flags & (V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_INACTIVE)) != 0;
    switch (c->type) {
    case V4L2_CTRL_TYPE_BOOLEAN:
        s->type = TETHER_SETTING_TOGGLE;
        snprintf(s->value, sizeof s->value, "%d", v ? 1 : 0);
        break;
    case V4L2_CTRL_TYPE_MENU:
    case V4L2_CTRL_TYPE_INTEGER_MENU:
        s->type = TETHER_SETTING_CHOICE;
        s->choices = calloc((size_t)(c->n_menu ? c->n_menu : 1), sizeof *s->choices);
        for (int i = 0; s->choices && i < c->n_menu; i++) {
            s->choices[s->n_choices] = strdup(c->menu[i].name);
            if (s->choices[s->n_choices]) s->n_choices++;
            if (c->menu[i].value == v) snprintf(s->value, sizeof s->value, "%s", c->menu[i].name);
        }
        break;
    default:
        s->type = TETHER_SETTING_RANGE;
        s->min = c->min;
        s->max = c->max;
        s->step = c->step;
        snprintf(s->value, sizeof s->value, "%d", v);
        break;
    }
    return TETHER_OK;
}

static int v4l2_settings_list(backend *b, tether_settings **out)
{
    tether_settings *s = calloc(1, sizeof *s);
    if (s) s->items = calloc((size_t)(b->n_ctrls ? b->n_ctrls : 1), sizeof *s->items);
    if (s == NULL || s->items == NULL) {
        free(s);
        return TETHER_ERR_NO_MEMORY;
    }
    for (int i = 0; i < b->n_ctrls; i++) {
        int rc = fill_setting(b, &b->ctrls[i], &s->items[s->count]);
        if (rc == TETHER_ERR_DISCONNECTED) {
            tether_settings_free(s);
            return rc;
        }
        if (rc == TETHER_OK) s->count++;
    }
    *out = s;
    return TETHER_OK;
}

/* Canonical name -> control name. */
static const struct {
    const char *canonical, *native;
} canonical_map[] = {
    {"shutterspeed", "exposure_time_absolute"},
    {"iso", "iso_sensitivity"},                 /* bcm2835-v4l2: an integer menu */
    {"iso", "gain"},
    {"whitebalance", "white_balance_temperature"},
    {"whitebalance", "white_balance_auto_preset"},
    {"exposuremode", "auto_exposure"},
    {"focusmode", "focus_automatic_continuous"},
};

static int v4l2_resolve(backend *b, const char *canonical, char *native, size_t size, bool *writable)
{
    for (size_t i = 0; i < sizeof canonical_map / sizeof canonical_map[0]; i++) {
        if (strcmp(canonical_map[i].canonical, canonical) != 0) continue;
        v4l2_ctrl *c = ctrl_by_name(b, canonical_map[i].native);
        if (c == NULL) continue; /* the next entry may name this camera's control */
        snprintf(native, size, "%s", c->name);
        *writable = true;
        return TETHER_OK;
    }
    return fail(b, TETHER_ERR_NOT_FOUND, "no setting \"%s\" on this camera", canonical);
}

static int v4l2_setting_get(backend *b, const char *name, tether_setting *out)
{
    v4l2_ctrl *c = ctrl_by_name(b, name);
    if (c == NULL) return fail(b, TETHER_ERR_NOT_FOUND, "no control \"%s\" on %s", name, b->path);
    return fill_setting(b, c, out);
}

static int set_ctrl(backend *b, const v4l2_ctrl *c, int32_t v)
{
    struct v4l2_control ctl = {.id = c->id, .value = v};
    if (xioctl(b->fd, VIDIOC_S_CTRL, &ctl) != 0) {
        if (errno == ERANGE || errno == EINVAL)
            return fail(b, TETHER_ERR_BAD_VALUE, "%s: the device refused %d (%s)", c->name, v, strerror(errno));
        return ioctl_fail(b, "VIDIOC_S_CTRL");
    }
    return TETHER_OK;
}

static int v4l2_setting_set(backend *b, const char *name, const char *value)
{
    v4l2_ctrl *c = ctrl_by_name(b, name);
    if (c == NULL) return fail(b, TETHER_ERR_NOT_FOUND, "no control \"%s\" on %s", name, b->path);
    tether_setting desc;
    int rc = fill_setting(b, c, &desc);
    if (rc != TETHER_OK) return rc;
    bool inactive = (ctrl_flags(b, c) & V4L2_CTRL_FLAG_INACTIVE) != 0;
    values_parsed v;
    rc = values_parse(&desc, value, &v, b->err, sizeof b->err);
    tether_setting_clear(&desc);
    if (rc == TETHER_ERR_READ_ONLY && inactive)
        return fail(b, rc, "%s is inactive while its automatic control is on; switch that off first", c->name);
    if (rc != TETHER_OK) return rc;
    int32_t raw;
    switch (c->type) {
    case V4L2_CTRL_TYPE_BOOLEAN: raw = v.toggle; break;
    case V4L2_CTRL_TYPE_MENU:
    case V4L2_CTRL_TYPE_INTEGER_MENU: raw = c->menu[v.choice].value; break;
    default: raw = (int32_t)(v.number < 0 ? v.number - 0.5 : v.number + 0.5); break;
    }
    return set_ctrl(b, c, raw);
}

static int v4l2_preview(backend *b, backend_frame *out)
{
    memset(out, 0, sizeof *out);
    if (!b->streaming) {
        int rc = stream_start(b, &b->lv);
        if (rc != TETHER_OK) return rc;
    }
    return next_frame(b, out);
}

static int v4l2_liveview_stop(backend *b)
{
    stream_stop(b);
    return TETHER_OK;
}

/* The values of every writable control, to put back after a still. */
typedef struct saved_ctrls {
    int n;
    int32_t value[MAX_CTRLS];
    bool have[MAX_CTRLS];
} saved_ctrls;

static void save_ctrls(backend *b, saved_ctrls *s)
{
    s->n = b->n_ctrls;
    for (int i = 0; i < b->n_ctrls; i++)
        s->have[i] = !(ctrl_flags(b, &b->ctrls[i]) & V4L2_CTRL_FLAG_READ_ONLY) &&
                     ctrl_value(b, &b->ctrls[i], &s->value[i]) == TETHER_OK;
}

static void restore_ctrls(backend *b, const saved_ctrls *s)
{
    for (int i = 0; i < s->n; i++) {
        int32_t now = 0;
        if (s->have[i] && ctrl_value(b, &b->ctrls[i], &now) == TETHER_OK && now != s->value[i])
            set_ctrl(b, &b->ctrls[i], s->value[i]);
    }
}

static int v4l2_capture(backend *b, backend_item items[], int *n)
{
    *n = 0;
    bool was_streaming = b->streaming;
    saved_ctrls saved;
    save_ctrls(b, &saved);
    stream_stop(b);
    stream_mode still = still_mode(b);
    int rc = stream_start(b, &still);
    backend_frame f = {0};
    if (rc == TETHER_OK) rc = next_frame(b, &f);
    stream_stop(b);
    /* put the preview back as it was, whatever happened */
    int back = set_mode(b, &b->lv);
    restore_ctrls(b, &saved);
    if (back == TETHER_OK && was_streaming && rc != TETHER_ERR_DISCONNECTED) back = stream_start(b, &b->lv);
    if (rc != TETHER_OK) {
        blob_unref(f.data);
        return rc;
    }
    if (f.format != TETHER_PIXEL_JPEG) {
        /* a raw still becomes a JPEG as live view's frames do */
        blob *jpeg = NULL;
        rc = convert_to_jpeg(&f, &jpeg);
        if (rc != TETHER_OK) return fail(b, rc, "the still could not be encoded as JPEG");
        f.data = jpeg;
        f.format = TETHER_PIXEL_JPEG;
    }
    backend_item *it = &items[0];
    memset(it, 0, sizeof *it);
    it->place = BACKEND_ITEM_MEMORY;
    snprintf(it->where, sizeof it->where, "IMG_%04u.jpg", ++b->shots);
    snprintf(it->mime, sizeof it->mime, "image/jpeg");
    it->data = f.data;
    it->size = f.data->len;
    *n = 1;
    if (back != TETHER_OK) LOG_WARN("v4l2", "%s: live view not restored after the still: %s", b->path, b->err);
    return TETHER_OK;
}

static int v4l2_wait_event(backend *b, int timeout_ms, tether_event *ev)
{
    if (!b->events) {
        if (timeout_ms > 0) clock_sleep_ns((int64_t)timeout_ms * 1000000);
        return TETHER_ERR_TIMEOUT;
    }
    struct pollfd p = {.fd = b->fd, .events = POLLPRI};
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0) return TETHER_ERR_TIMEOUT;
    if (p.revents & (POLLHUP | POLLNVAL)) {
        struct v4l2_capability cap;
        if (xioctl(b->fd, VIDIOC_QUERYCAP, &cap) != 0) return ioctl_fail(b, "VIDIOC_QUERYCAP");
    }
    struct v4l2_event e;
    memset(&e, 0, sizeof e);
    if (!(p.revents & POLLPRI) || xioctl(b->fd, VIDIOC_DQEVENT, &e) != 0) return TETHER_ERR_TIMEOUT;
    memset(ev, 0, sizeof *ev);
    ev->type = TETHER_EVENT_SETTING_CHANGED;
    v4l2_ctrl *c = ctrl_by_id(b, e.id);
    snprintf(ev->path, sizeof ev->path, "%s", c ? c->name : "");
    if (c && is_menu(c->type)) {
        for (int i = 0; i < c->n_menu; i++)
            if (c->menu[i].value == e.u.ctrl.value) snprintf(ev->detail, sizeof ev->detail, "%s", c->menu[i].name);
    } else {
        snprintf(ev->detail, sizeof ev->detail, "%d", e.u.ctrl.value);
    }
    ev->time_ns = clock_mono_ns();
    return TETHER_OK;
}

static int v4l2_focus_set(backend *b, int position)
{
    v4l2_ctrl *c = ctrl_by_id(b, V4L2_CID_FOCUS_ABSOLUTE);
    if (c == NULL) return fail(b, TETHER_ERR_NOT_SUPPORTED, "%s has no focus_absolute", b->path);
    if (position < c->min || position > c->max)
        return fail(b, TETHER_ERR_BAD_VALUE, "focus position %d is outside %d..%d", position, c->min, c->max);
    v4l2_ctrl *a = ctrl_by_id(b, V4L2_CID_FOCUS_AUTO);
    int32_t on = 0;
    if (a && ctrl_value(b, a, &on) == TETHER_OK && on) {
        int rc = set_ctrl(b, a, 0);
        if (rc != TETHER_OK) return rc;
    }
    return set_ctrl(b, c, position);
}

static int v4l2_focus_get(backend *b, int *position)
{
    v4l2_ctrl *c = ctrl_by_id(b, V4L2_CID_FOCUS_ABSOLUTE);
    if (c == NULL) return fail(b, TETHER_ERR_NOT_SUPPORTED, "%s has no focus_absolute", b->path);
    int32_t v = 0;
    int rc = ctrl_value(b, c, &v);
    if (rc == TETHER_OK) *position = v;
    return rc;
}

static void v4l2_capabilities(backend *b, tether_capabilities *out)
{
    snprintf(out->backend, sizeof out->backend, "v4l2");
    out->bits = TETHER_CAP_CAPTURE_TO_HOST | TETHER_CAP_LIVEVIEW;
    if (b->n_ctrls > 0) out->bits |= TETHER_CAP_SETTINGS;
    out->liveview_formats = (1u << TETHER_PIXEL_JPEG) | (1u << TETHER_PIXEL_YUYV);
    out->focus.zoom_max = 1;
    out->focus.backlash = -1;
    v4l2_ctrl *c = ctrl_by_id(b, V4L2_CID_FOCUS_ABSOLUTE);
    if (c) {
        out->focus.kind = TETHER_FOCUS_ABSOLUTE;
        out->focus.min = c->min;
        out->focus.max = c->max;
    }
    stream_mode s = still_mode(b);
    out->focus.sensor_width = s.w;
    out->focus.sensor_height = s.h;
}

static int v4l2_probe(backend *b)
{
    struct v4l2_capability cap;
    if (xioctl(b->fd, VIDIOC_QUERYCAP, &cap) != 0) return ioctl_fail(b, "VIDIOC_QUERYCAP");
    return TETHER_OK;
}

const backend_ops backend_v4l2 = {
    .name = "v4l2",
    .retries_busy = false,
    .spec_help = "v4l2:/dev/videoN    a V4L2 capture device (webcam; Pi camera via libcamerify)\n"
                 "v4l2:auto           the first V4L2 capture device (in $TETHER_V4L2_DIR or /dev)",
    .list_cameras = v4l2_list_cameras,
    .accepts = v4l2_accepts,
    .open = v4l2_open,
    .close = v4l2_close,
    .last_error = v4l2_last_error,
    .model = v4l2_model,
    .capabilities = v4l2_capabilities,
    .summary = v4l2_summary,
    .settings_list = v4l2_settings_list,
    .resolve = v4l2_resolve,
    .setting_get = v4l2_setting_get,
    .setting_set = v4l2_setting_set,
    .capture = v4l2_capture,
    .preview = v4l2_preview,
    .liveview_stop = v4l2_liveview_stop,
    .wait_event = v4l2_wait_event,
    .focus_set = v4l2_focus_set,
    .focus_get = v4l2_focus_get,
    .probe = v4l2_probe,
};
