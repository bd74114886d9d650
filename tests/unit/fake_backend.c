/*
 * fake_backend: the scriptable backend of the lib/camera unit tests.  See
 * fake_backend.h.
 *
 * The script is one process-wide struct under g.lock.  A backend object
 * remembers which fake camera it opened; once that camera is unplugged
 * every call answers TETHER_ERR_DISCONNECTED.  Settings are a small table
 * (iso, f-number, shutterspeed, batterylevel, serialnumber) validated with
 * values_parse like any backend's.  Pushed live view runs a thread per
 * backend that delivers YUYV frames until liveview_stop or close.
 */
#include "fake_backend.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "camera/values.h"

enum { MAX_CAMS = 8, MAX_EVENTS = 64, MAX_FOCUS_TIMES = 256, N_SETTINGS = 5 };

typedef struct fake_cam {
    char spec[64], model[64], serial[64];
    bool present;
} fake_cam;

typedef struct fake_setting {
    const char *name;
    tether_setting_type type;
    bool read_only;
    const char *choices[4];
    char value[64];
} fake_setting;

static struct {
    pthread_mutex_t lock;
    fake_cam cams[MAX_CAMS];
    int ncams;
    int delay_ms[FAKE_NCALLS];
    int fail_rc[FAKE_NCALLS], fail_times[FAKE_NCALLS];
    int calls[FAKE_NCALLS];
    tether_event events[MAX_EVENTS];
    int nevents;
    tether_focus_caps focus;
    int64_t focus_times[MAX_FOCUS_TIMES];
    int nfocus;
    int push_w, push_h, push_interval_ms;
    bool capture_in_memory;
    int shots;
    fake_setting settings[N_SETTINGS];
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct backend {
    char spec[64];
    char err[256];
    pthread_t pusher;
    atomic_bool pushing;
    bool has_pusher;
    backend_frame_sink *sink;
    int push_w, push_h, push_interval_ms;
};

void fake_install(void)
{
    backend_register(&fake_backend_ops);
    backend_register(&fake_push_backend_ops);
    pthread_mutex_lock(&g.lock);
    g.ncams = g.nevents = g.nfocus = g.shots = 0;
    memset(g.delay_ms, 0, sizeof g.delay_ms);
    memset(g.fail_times, 0, sizeof g.fail_times);
    memset(g.calls, 0, sizeof g.calls);
    g.focus = (tether_focus_caps){.kind = TETHER_FOCUS_RELATIVE, .n_steps = 2, .step_units = {1, 8},
                                  .pace_ms = {30, 60}, .backlash = 3, .zoom_max = 1};
    g.push_w = 16;
    g.push_h = 8;
    g.push_interval_ms = 5;
    g.capture_in_memory = false;
    static const fake_setting initial[N_SETTINGS] = {
        {"iso", TETHER_SETTING_CHOICE, false, {"100", "200", "400", NULL}, "100"},
        {"f-number", TETHER_SETTING_CHOICE, false, {"f/2.8", "f/4", "f/8", NULL}, "f/4"},
        {"shutterspeed", TETHER_SETTING_CHOICE, false, {"0.0040s", "0.0080s", "0.0167s", NULL}, "0.0080s"},
        {"batterylevel", TETHER_SETTING_TEXT, true, {NULL}, "80%"},
        {"serialnumber", TETHER_SETTING_TEXT, true, {NULL}, ""},
    };
    memcpy(g.settings, initial, sizeof initial);
    pthread_mutex_unlock(&g.lock);
}

static fake_cam *cam_at(const char *spec)
{
    for (int i = 0; i < g.ncams; i++)
        if (strcmp(g.cams[i].spec, spec) == 0) return &g.cams[i];
    return NULL;
}

void fake_plug(const char *spec, const char *model, const char *serial)
{
    pthread_mutex_lock(&g.lock);
    fake_cam *c = cam_at(spec);
    if (c == NULL && g.ncams < MAX_CAMS) c = &g.cams[g.ncams++];
    if (c) {
        snprintf(c->spec, sizeof c->spec, "%s", spec);
        snprintf(c->model, sizeof c->model, "%s", model);
        snprintf(c->serial, sizeof c->serial, "%s", serial);
        c->present = true;
    }
    pthread_mutex_unlock(&g.lock);
}

void fake_unplug(const char *spec)
{
    pthread_mutex_lock(&g.lock);
    fake_cam *c = cam_at(spec);
    if (c) c->present = false;
    pthread_mutex_unlock(&g.lock);
}

void fake_delay(fake_call call, int ms)
{
    pthread_mutex_lock(&g.lock);
    g.delay_ms[call] = ms;
    pthread_mutex_unlock(&g.lock);
}

void fake_fail(fake_call call, int rc, int times)
{
    pthread_mutex_lock(&g.lock);
    g.fail_rc[call] = rc;
    g.fail_times[call] = times;
    pthread_mutex_unlock(&g.lock);
}

int fake_calls(fake_call call)
{
    pthread_mutex_lock(&g.lock);
    int n = g.calls[call];
    pthread_mutex_unlock(&g.lock);
    return n;
}

void fake_emit(tether_event_type type, const char *path, const char *detail)
{
    pthread_mutex_lock(&g.lock);
    if (g.nevents < MAX_EVENTS) {
        tether_event *ev = &g.events[g.nevents++];
        memset(ev, 0, sizeof *ev);
        ev->type = type;
        ev->time_ns = clock_mono_ns();
        snprintf(ev->path, sizeof ev->path, "%s", path ? path : "");
        snprintf(ev->detail, sizeof ev->detail, "%s", detail ? detail : "");
    }
    pthread_mutex_unlock(&g.lock);
}

void fake_set_focus(const tether_focus_caps *focus)
{
    pthread_mutex_lock(&g.lock);
    g.focus = *focus;
    pthread_mutex_unlock(&g.lock);
}

int fake_focus_times(int64_t *out, int max)
{
    pthread_mutex_lock(&g.lock);
    int n = g.nfocus < max ? g.nfocus : max;
    memcpy(out, g.focus_times, sizeof *out * (size_t)n);
    pthread_mutex_unlock(&g.lock);
    return n;
}

void fake_set_push_frames(int w, int h, int interval_ms)
{
    pthread_mutex_lock(&g.lock);
    g.push_w = w;
    g.push_h = h;
    g.push_interval_ms = interval_ms;
    pthread_mutex_unlock(&g.lock);
}

void fake_set_capture_in_memory(bool in_memory)
{
    pthread_mutex_lock(&g.lock);
    g.capture_in_memory = in_memory;
    pthread_mutex_unlock(&g.lock);
}

static fake_setting *setting_named(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    for (int i = 0; i < N_SETTINGS; i++)
        if (strcmp(g.settings[i].name, base) == 0) return &g.settings[i];
    return NULL;
}

void fake_setting_value(const char *name, char *buf, size_t size)
{
    pthread_mutex_lock(&g.lock);
    fake_setting *s = setting_named(name);
    snprintf(buf, size, "%s", s ? s->value : "");
    pthread_mutex_unlock(&g.lock);
}

/* ---- the backend ------------------------------------------------------------ */

/* Counts the call, sleeps its delay, and returns the scripted error (or
 * DISCONNECTED for an unplugged camera); 0 to go on. */
static int enter(backend *b, fake_call call)
{
    pthread_mutex_lock(&g.lock);
    g.calls[call]++;
    int delay = g.delay_ms[call];
    pthread_mutex_unlock(&g.lock);
    if (delay > 0) clock_sleep_ns((int64_t)delay * 1000000);
    pthread_mutex_lock(&g.lock);
    int rc = TETHER_OK;
    fake_cam *c = b ? cam_at(b->spec) : NULL;
    if (b && (c == NULL || !c->present)) {
        rc = TETHER_ERR_DISCONNECTED;
    } else if (g.fail_times[call] != 0) {
        rc = g.fail_rc[call];
        if (g.fail_times[call] > 0) g.fail_times[call]--;
    }
    pthread_mutex_unlock(&g.lock);
    if (b && rc != TETHER_OK) snprintf(b->err, sizeof b->err, "fake: %s", tether_strerror(rc));
    return rc;
}

static bool fake_accepts(const char *spec)
{
    return strncmp(spec, "fake:", 5) == 0;
}

static bool fake_push_accepts(const char *spec)
{
    return strncmp(spec, "fakepush:", 9) == 0;
}

static bool fake_may_have_moved(const char *spec)
{
    (void)spec;
    return true;
}

static int fake_list(tether_camera_info *out, int max, int *count)
{
    pthread_mutex_lock(&g.lock);
    *count = 0;
    for (int i = 0; i < g.ncams; i++) {
        if (!g.cams[i].present) continue;
        if (*count < max) {
            memset(&out[*count], 0, sizeof out[*count]);
            snprintf(out[*count].model, sizeof out[*count].model, "%s", g.cams[i].model);
            snprintf(out[*count].spec, sizeof out[*count].spec, "%s", g.cams[i].spec);
        }
        (*count)++;
    }
    pthread_mutex_unlock(&g.lock);
    return TETHER_OK;
}

static int fake_open(const char *spec, backend **out, char *err, size_t errsz)
{
    *out = NULL;
    int rc = enter(NULL, FAKE_OPEN);
    pthread_mutex_lock(&g.lock);
    fake_cam *c = cam_at(spec);
    if (rc == TETHER_OK && (c == NULL || !c->present)) rc = TETHER_ERR_NO_CAMERA;
    pthread_mutex_unlock(&g.lock);
    if (rc != TETHER_OK) {
        snprintf(err, errsz, "no fake camera at %s", spec);
        return rc;
    }
    backend *b = calloc(1, sizeof *b);
    if (b == NULL) return TETHER_ERR_NO_MEMORY;
    snprintf(b->spec, sizeof b->spec, "%s", spec);
    atomic_init(&b->pushing, false);
    *out = b;
    return TETHER_OK;
}

static int fake_liveview_stop(backend *b)
{
    if (b->has_pusher) {
        atomic_store(&b->pushing, false);
        pthread_join(b->pusher, NULL);
        b->has_pusher = false;
    }
    return TETHER_OK;
}

static void fake_close(backend *b)
{
    if (b == NULL) return;
    fake_liveview_stop(b);
    free(b);
}

static const char *fake_last_error(backend *b)
{
    return b->err;
}

static void fake_model(backend *b, char *buf, size_t size)
{
    pthread_mutex_lock(&g.lock);
    fake_cam *c = cam_at(b->spec);
    snprintf(buf, size, "%s", c ? c->model : "");
    pthread_mutex_unlock(&g.lock);
}

static void fake_capabilities(backend *b, tether_capabilities *out)
{
    pthread_mutex_lock(&g.lock);
    out->bits = TETHER_CAP_CAPTURE_TO_CARD | TETHER_CAP_CARD_FILES | TETHER_CAP_LIVEVIEW | TETHER_CAP_BODY_SHOTS;
    out->liveview_formats = 1u << TETHER_PIXEL_JPEG;
    if (fake_push_accepts(b->spec)) {
        out->bits |= TETHER_CAP_LIVEVIEW_PUSH;
        out->liveview_formats = 1u << TETHER_PIXEL_YUYV;
    }
    out->focus = g.focus;
    pthread_mutex_unlock(&g.lock);
}

static int fake_summary(backend *b, char **text)
{
    (void)b;
    *text = strdup("a fake camera");
    return *text ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

static void describe(const fake_setting *fs, tether_setting *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "/main/fake/%s", fs->name);
    snprintf(out->name, sizeof out->name, "%s", fs->name);
    snprintf(out->label, sizeof out->label, "%s", fs->name);
    out->type = fs->type;
    out->read_only = fs->read_only;
    snprintf(out->value, sizeof out->value, "%s", fs->value);
    int n = 0;
    while (n < 4 && fs->choices[n]) n++;
    if (n) out->choices = calloc((size_t)n, sizeof *out->choices);
    for (int i = 0; out->choices && i < n; i++) out->choices[out->n_choices++] = strdup(fs->choices[i]);
}

static int fake_settings_list(backend *b, tether_settings **out)
{
    int rc = enter(b, FAKE_SETTING_GET);
    if (rc != TETHER_OK) return rc;
    tether_settings *s = calloc(1, sizeof *s);
    if (s) s->items = calloc(N_SETTINGS, sizeof *s->items);
    if (s == NULL || s->items == NULL) {
        free(s);
        return TETHER_ERR_NO_MEMORY;
    }
    pthread_mutex_lock(&g.lock);
    for (int i = 0; i < N_SETTINGS; i++) describe(&g.settings[i], &s->items[s->count++]);
    pthread_mutex_unlock(&g.lock);
    *out = s;
    return TETHER_OK;
}

static int fake_resolve(backend *b, const char *canonical, char *native, size_t size, bool *writable)
{
    static const char *const map[][2] = {
        {"iso", "iso"}, {"aperture", "f-number"}, {"shutterspeed", "shutterspeed"},
        {"battery", "batterylevel"}, {"serialnumber", "serialnumber"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i][0], canonical) != 0) continue;
        pthread_mutex_lock(&g.lock);
        *writable = !setting_named(map[i][1])->read_only;
        pthread_mutex_unlock(&g.lock);
        snprintf(native, size, "%s", map[i][1]);
        return TETHER_OK;
    }
    snprintf(b->err, sizeof b->err, "no setting \"%s\"", canonical);
    return TETHER_ERR_NOT_FOUND;
}

static int fake_setting_get(backend *b, const char *path_or_name, tether_setting *out)
{
    int rc = enter(b, FAKE_SETTING_GET);
    if (rc != TETHER_OK) return rc;
    pthread_mutex_lock(&g.lock);
    fake_setting *fs = setting_named(path_or_name);
    if (fs) {
        describe(fs, out);
        if (strcmp(fs->name, "serialnumber") == 0) {
            fake_cam *c = cam_at(b->spec);
            snprintf(out->value, sizeof out->value, "%s", c ? c->serial : "");
        }
    }
    pthread_mutex_unlock(&g.lock);
    if (fs == NULL) {
        snprintf(b->err, sizeof b->err, "no setting \"%s\" on this camera", path_or_name);
        return TETHER_ERR_NOT_FOUND;
    }
    return TETHER_OK;
}

static int fake_setting_set(backend *b, const char *path_or_name, const char *value)
{
    int rc = enter(b, FAKE_SETTING_SET);
    if (rc != TETHER_OK) return rc;
    pthread_mutex_lock(&g.lock);
    fake_setting *fs = setting_named(path_or_name);
    tether_setting desc;
    if (fs == NULL) {
        rc = TETHER_ERR_NOT_FOUND;
        snprintf(b->err, sizeof b->err, "no setting \"%s\" on this camera", path_or_name);
    } else {
        describe(fs, &desc);
        values_parsed v;
        rc = values_parse(&desc, value, &v, b->err, sizeof b->err);
        if (rc == TETHER_OK)
            snprintf(fs->value, sizeof fs->value, "%s", desc.type == TETHER_SETTING_CHOICE ? desc.choices[v.choice] : value);
        tether_setting_clear(&desc);
    }
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static int fake_capture(backend *b, backend_item items[], int *n)
{
    *n = 0;
    int rc = enter(b, FAKE_CAPTURE);
    if (rc != TETHER_OK) return rc;
    pthread_mutex_lock(&g.lock);
    int shot = ++g.shots;
    bool memory = g.capture_in_memory;
    pthread_mutex_unlock(&g.lock);
    backend_item *it = &items[(*n)++];
    memset(it, 0, sizeof *it);
    snprintf(it->mime, sizeof it->mime, "image/jpeg");
    if (memory) {
        char bytes[64];
        int len = snprintf(bytes, sizeof bytes, "memory shot %d", shot);
        it->place = BACKEND_ITEM_MEMORY;
        snprintf(it->where, sizeof it->where, "SHOT_%04d.JPG", shot);
        it->data = blob_from(bytes, (size_t)len);
        it->size = (uint64_t)len;
        return it->data ? TETHER_OK : TETHER_ERR_NO_MEMORY;
    }
    it->place = BACKEND_ITEM_CAMERA;
    snprintf(it->where, sizeof it->where, "/DCIM/100FAKE/IMG_%04d.JPG", shot);
    return TETHER_OK;
}

static int fake_download(backend *b, const char *camera_path, backend_sink *sink)
{
    int rc = enter(b, FAKE_DOWNLOAD);
    if (rc != TETHER_OK) return rc;
    char bytes[600];
    int len = snprintf(bytes, sizeof bytes, "card file %s", camera_path);
    if (sink->fd >= 0) return write(sink->fd, bytes, (size_t)len) == len ? TETHER_OK : TETHER_ERR_STORAGE;
    bytebuf_put(sink->mem, bytes, (size_t)len);
    return TETHER_OK;
}

static int fake_delete(backend *b, const char *camera_path)
{
    (void)camera_path;
    return enter(b, FAKE_DELETE);
}

static int fake_list_files(backend *b, tether_file_list **out)
{
    int rc = enter(b, FAKE_PROBE);
    if (rc != TETHER_OK) return rc;
    *out = calloc(1, sizeof **out);
    return *out ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

/* A tiny valid-looking JPEG is not needed: the session passes JPEG
 * frames through untouched. */
static int fake_preview(backend *b, backend_frame *out)
{
    int rc = enter(b, FAKE_PREVIEW);
    if (rc != TETHER_OK) return rc;
    static const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xD9};
    out->format = TETHER_PIXEL_JPEG;
    out->data = blob_from(jpeg, sizeof jpeg);
    return out->data ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

static void *pusher_main(void *arg)
{
    backend *b = arg;
    while (atomic_load(&b->pushing)) {
        size_t stride = (size_t)b->push_w * 2;
        blob *data = blob_new(stride * (size_t)b->push_h);
        if (data) {
            for (size_t i = 0; i < data->len; i++) data->data[i] = (uint8_t)(i % 2 ? 128 : 16 + i % 200);
            backend_frame f = {.format = TETHER_PIXEL_YUYV, .width = b->push_w, .height = b->push_h, .data = data};
            backend_frame_deliver(b->sink, &f);
        }
        clock_sleep_ns((int64_t)b->push_interval_ms * 1000000);
    }
    return NULL;
}

static int fake_liveview_start(backend *b, backend_frame_sink *sink)
{
    int rc = enter(b, FAKE_PREVIEW);
    if (rc != TETHER_OK) return rc;
    if (b->has_pusher) return TETHER_OK;
    pthread_mutex_lock(&g.lock);
    b->push_w = g.push_w;
    b->push_h = g.push_h;
    b->push_interval_ms = g.push_interval_ms;
    pthread_mutex_unlock(&g.lock);
    b->sink = sink;
    atomic_store(&b->pushing, true);
    if (pthread_create(&b->pusher, NULL, pusher_main, b) != 0) return TETHER_ERR_NO_MEMORY;
    b->has_pusher = true;
    return TETHER_OK;
}

static int fake_wait_event(backend *b, int timeout_ms, tether_event *ev)
{
    (void)timeout_ms;
    int rc = enter(b, FAKE_PROBE);
    if (rc != TETHER_OK) return rc;
    pthread_mutex_lock(&g.lock);
    if (g.nevents > 0) {
        *ev = g.events[0];
        memmove(g.events, g.events + 1, sizeof g.events[0] * (size_t)--g.nevents);
    } else {
        rc = TETHER_ERR_TIMEOUT;
    }
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static int fake_focus_drive(backend *b, int direction, int step)
{
    (void)direction, (void)step;
    int rc = enter(b, FAKE_FOCUS);
    if (rc != TETHER_OK) return rc;
    pthread_mutex_lock(&g.lock);
    if (g.nfocus < MAX_FOCUS_TIMES) g.focus_times[g.nfocus++] = clock_mono_ns();
    pthread_mutex_unlock(&g.lock);
    return TETHER_OK;
}

static int fake_probe(backend *b)
{
    return enter(b, FAKE_PROBE);
}

const backend_ops fake_backend_ops = {
    .name = "fake",
    .spec_help = "fake:NAME           a scripted camera of the unit tests",
    .list_cameras = fake_list,
    .accepts = fake_accepts,
    .may_have_moved = fake_may_have_moved,
    .open = fake_open,
    .close = fake_close,
    .last_error = fake_last_error,
    .model = fake_model,
    .capabilities = fake_capabilities,
    .summary = fake_summary,
    .settings_list = fake_settings_list,
    .resolve = fake_resolve,
    .setting_get = fake_setting_get,
    .setting_set = fake_setting_set,
    .capture = fake_capture,
    .download = fake_download,
    .delete_file = fake_delete,
    .list_files = fake_list_files,
    .preview = fake_preview,
    .wait_event = fake_wait_event,
    .focus_drive = fake_focus_drive,
    .probe = fake_probe,
};

/* The pushing variant ("fakepush:NAME"): the same camera, its live view
 * pushed from a thread of its own as YUYV. */
const backend_ops fake_push_backend_ops = {
    .name = "fakepush",
    .spec_help = "fakepush:NAME       a scripted camera pushing YUYV live view",
    .list_cameras = NULL,
    .accepts = fake_push_accepts,
    .open = fake_open,
    .close = fake_close,
    .last_error = fake_last_error,
    .model = fake_model,
    .capabilities = fake_capabilities,
    .summary = fake_summary,
    .settings_list = fake_settings_list,
    .resolve = fake_resolve,
    .setting_get = fake_setting_get,
    .setting_set = fake_setting_set,
    .capture = fake_capture,
    .download = fake_download,
    .delete_file = fake_delete,
    .list_files = fake_list_files,
    .liveview_start = fake_liveview_start,
    .liveview_stop = fake_liveview_stop,
    .wait_event = fake_wait_event,
    .focus_drive = fake_focus_drive,
    .probe = fake_probe,
};
