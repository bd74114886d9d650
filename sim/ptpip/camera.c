/*
 * camera: see camera.h.
 *
 * Layout of this file: set-up and the world (scene, lens, card), exposure
 * and EXIF, file materialisation, live view's magnification and the depth
 * of field, the capture thread, live-view frames, then the operation
 * handlers grouped by protocol family (standard PTP, Canon EOS, Nikon,
 * PTP 1.1 streams), the dispatcher, and the body's controls and state
 * report.
 *
 * Every operation is answered the way a body answers it: unknown or
 * unlisted operations get OperationNotSupported, operations outside a
 * session SessionNotOpen, bad handles InvalidObjectHandle, bad values
 * InvalidDevicePropValue, read-only properties AccessDenied, and so on.
 */
#include "camera.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/endian.h"
#include "base/log.h"
#include "base/rng.h"
#include "dataset.h"
#include "image/exif.h"
#include "ptp.h"

#define STORAGE_ID 0x00010001u
#define CARD_CAPACITY (32ull * 1000 * 1000 * 1000)
#define VARIANTS 4
#define MAX_JOBS 8
#define NIKON_LV_HEADER 384

typedef struct capture_job {
    bool from_host;            /* InitiateCapture/RemoteRelease, else the body's button */
    uint32_t tid;
} capture_job;

struct simcam {
    simcam_options opt;
    const persona *pe;
    pthread_mutex_t lock;
    pthread_mutex_t render_lock;
    pthread_cond_t wake;

    /* the world */
    scene *sc;
    renderer *rd;
    lens lens;
    double focus_pos[2];       /* sharp lens position of each plane */
    prop_set props;
    card card;
    uint32_t folder;           /* DCIM/<persona folder> */
    int next_number;
    int64_t clock_offset;      /* camera clock minus host clock, seconds */
    char serial[16];
    blob *variants[VARIANTS];  /* photo bodies for files made before start */
    pthread_t card_writer;     /* renders variants[] at start (card_writer_thread) */
    bool card_writer_started;
    bool card_writing;         /* card_writer is still rendering; variants_done waits */
    pthread_cond_t variants_done;
    blob *thumb;
    int thumb_w, thumb_h;

    /* the host link */
    simcam_event_fn ev_fn;
    void *ev_ctx;
    bool connected, plugged;
    bool session_open;
    uint32_t session_id;
    uint64_t sessions, ops;

    /* Canon EOS */
    uint32_t remote_mode, event_mode;
    bytebuf eos_records;

    /* live view */
    bool lv_on;
    int lv_zoom;               /* Canon EOS magnification: 1, 5 or 10 */
    double lv_zoom_x, lv_zoom_y; /* the magnified area's upper-left corner, full-res px */
    double lv_t0;
    int64_t lv_last_slot;
    lvdelivery lv_delivery;    /* when frames were exposed, and which repeat */
    bytebuf lv_prev;           /* the last frame, kept when frames may repeat */
    uint64_t frames;
    double busy_until;         /* Nikon DeviceReady busy (LV start, AF) */
    uint16_t af_result;        /* Nikon: result DeviceReady gives after AF */

    /* capture */
    pthread_t worker;
    bool worker_started;
    bool stop;
    capture_job jobs[MAX_JOBS];
    int njobs;
    bool capturing;
    int64_t last_trigger_ns;   /* CLOCK_REALTIME when the host's last capture command arrived; 0: none yet */
    int64_t last_exposure_ns;  /* CLOCK_REALTIME when the last exposure started (after the shutter latency); 0: none */
    rng shutter_rng;           /* each shot's latency jitter (capture thread) */
    uint64_t shots;
    struct {
        bool valid;
        uint64_t shot;         /* its number (1 = the first shot) */
        double lens_position;  /* at exposure */
        double defocus[2];     /* lens position minus each plane's sharp position */
        double fnumber;
        double dof_half_steps;
    } last_shot;
};

void simcam_default_options(simcam_options *o)
{
    memset(o, 0, sizeof *o);
    o->persona = persona_find("canon-eos");
    o->seed = 1;
    o->scene = SCENE_STUDIO;
    o->focus_at = -1;
    o->lens_start = -1;
    render_default_config(&o->render);
    o->render.lv_width = o->render.lv_height = 0;
    o->render.photo_width = o->render.photo_height = 0;
    o->lv_fps = 30;
    o->card_files = 12;
    o->raw_size = 20u * 1000 * 1000;
    o->shutter_latency_s = 0.06;
}

static double now_s(void)
{
    return clock_mono_s();
}

static int64_t camera_time(const simcam *c)
{
    return (int64_t)time(NULL) + c->clock_offset;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* Camera clock times are kept in UTC (bodies have no time zone). */
static void format_time(int64_t t, const char *fmt, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, fmt, &tm);
}
#pragma GCC diagnostic pop

static bool has_op(const simcam *c, uint16_t op)
{
    for (int i = 0; i < c->pe->n_ops; i++)
        if (c->pe->ops[i] == op) return true;
    return false;
}

/* ---- exposure and metadata ------------------------------------------- */

/* Brightness relative to a metered exposure.  Manual mode: from ISO,
 * shutter and aperture against the persona's base exposure; automatic
 * modes (and auto ISO) meter correctly, plus exposure compensation. */
static double exposure_gain(simcam *c, bool liveview)
{
    const persona *pe = c->pe;
    double comp = prop_physical(&c->props, ROLE_EXPOSURE_COMP, 0);
    prop *mode = prop_find_role(&c->props, ROLE_EXPOSURE_MODE);
    double iso = prop_physical(&c->props, ROLE_ISO, pe->base_iso);
    double gain;
    if ((mode && mode->value != 3) || iso <= 0) {
        gain = pow(2.0, comp);
    } else {
        double t = prop_physical(&c->props, ROLE_SHUTTER, pe->base_shutter_s);
        double n = prop_physical(&c->props, ROLE_APERTURE, pe->base_fnumber);
        gain = (iso / pe->base_iso) * (t / pe->base_shutter_s) * pow(pe->base_fnumber / n, 2);
    }
    double lo = liveview ? 1.0 / 8 : 1.0 / 64, hi = liveview ? 8 : 64;
    return gain < lo ? lo : gain > hi ? hi : gain;
}

static void fill_exif(simcam *c, int64_t taken, int number, int width, int height,
                      img_exif_fields *f, char *date, char *uid)
{
    const persona *pe = c->pe;
    format_time(taken, "%Y:%m:%d %H:%M:%S", date, 20);
    snprintf(uid, 33, "%016llx%016llx", (unsigned long long)rng_hash2(c->opt.seed, (uint64_t)number),
             (unsigned long long)rng_hash2((uint64_t)number, c->opt.seed));
    double iso = prop_physical(&c->props, ROLE_ISO, pe->base_iso);
    if (iso <= 0) iso = pe->base_iso;
    *f = (img_exif_fields){
        .make = pe->exif_make,
        .model = pe->model,
        .datetime = date,
        .lens_model = pe->lens_name,
        .body_serial = c->serial,
        .unique_id = uid,
        .software = pe->device_version,
        .iso = (int)lround(iso),
        .fnumber = prop_physical(&c->props, ROLE_APERTURE, pe->base_fnumber),
        .exposure_s = prop_physical(&c->props, ROLE_SHUTTER, pe->base_shutter_s),
        .focal_mm = pe->focal_mm,
        .width = width,
        .height = height,
    };
}

/* SOI + APP1(EXIF) as the head of a JPEG whose body starts after its SOI. */
static blob *jpeg_head(const img_exif_fields *f)
{
    bytebuf b = BYTEBUF_INIT;
    bytebuf_put(&b, "\xFF\xD8\xFF\xE1\0\0", 6);
    if (img_exif_build_app1(f, &b) != 0) {
        bytebuf_free(&b);
        return NULL;
    }
    size_t seg = b.len - 4; /* length field counts itself, not the marker */
    b.data[4] = (uint8_t)(seg >> 8);
    b.data[5] = (uint8_t)seg;
    blob *h = bytebuf_ok(&b) ? blob_from(b.data, b.len) : NULL;
    bytebuf_free(&b);
    return h;
}

/* A RAW file's head: its TIFF structure, pointing at the full-size JPEG
 * preview (preview_len bytes) that follows it, as a body embeds one for
 * its own screen and for every RAW viewer. */
static blob *raw_head(const img_exif_fields *f, size_t preview_len)
{
    bytebuf b = BYTEBUF_INIT;
    blob *h = NULL;
    if (img_exif_build_raw_head(f, preview_len, &b) == 0) h = blob_from(b.data, b.len);
    bytebuf_free(&b);
    return h;
}

/* Gives a RAW object its bytes: head, the preview (the photo body, whole:
 * a complete JPEG), then sensor data up to the RAW size. */
static int raw_content(simcam *c, card_object *o, const img_exif_fields *f, blob *preview)
{
    o->content.head = raw_head(f, preview->len);
    if (o->content.head == NULL) return -1;
    o->content.body = blob_ref(preview);
    o->content.body_off = 0;
    uint64_t used = o->content.head->len + preview->len;
    o->content.tail_len = c->opt.raw_size > used ? c->opt.raw_size - used : 0;
    o->content.tail_seed = rng_hash2(c->opt.seed ^ 0xA77u, (uint64_t)o->number);
    return 0;
}

/* ---- the card ---------------------------------------------------------- */

static void file_name(simcam *c, int number, const char *ext, char *out, size_t n)
{
    snprintf(out, n, "%s%04d.%s", c->pe->file_prefix, number % 10000, ext);
}

static uint64_t expected_jpeg_size(const simcam *c)
{
    return (uint64_t)c->opt.render.photo_width * (uint64_t)c->opt.render.photo_height / 6;
}

static card_object *new_file(simcam *c, int number, bool raw, int64_t taken)
{
    char name[64];
    file_name(c, number, raw ? c->pe->raw_ext : "JPG", name, sizeof name);
    card_object *o = card_add(&c->card, c->folder, name, false);
    if (o == NULL) return NULL;
    o->number = number;
    o->taken = taken;
    format_time(taken, "%Y%m%dT%H%M%S", o->date, sizeof o->date);
    o->format = raw ? c->pe->raw_format : PTP_OFC_EXIF_JPEG;
    o->thumb_format = raw ? c->pe->raw_thumb_format : PTP_OFC_EXIF_JPEG;
    o->width = c->opt.render.photo_width;
    o->height = c->opt.render.photo_height;
    o->size_hint = raw ? c->opt.raw_size : expected_jpeg_size(c);
    return o;
}

/* The photo body of card variant v (a defocus seen in "earlier shooting")
 * from renderer rd, which the caller holds; NULL if it cannot be rendered. */
static blob *render_variant(simcam *c, renderer *rd, int v)
{
    static const double offsets[VARIANTS] = {0, 12, 35, 90};
    double defocus[2] = {offsets[v], offsets[v] + 40};
    return render_photo_body(rd, defocus, c->pe->max_aperture / c->pe->base_fnumber, 1.0);
}

/* The card writer: renders the bodies of the files made before start, in
 * the order a listing meets them, on its own thread and with a renderer of
 * its own (so live view never waits for it) from the moment the camera
 * exists.  A body's card was written long before a host connects, so it
 * answers GetObjectInfo at once; a simulator that encoded an 18-megapixel
 * JPEG inside that operation kept a host waiting longer than libgphoto2's
 * PTP/IP read timeout (2.5 s) on a slow board or a loaded machine, and the
 * host dropped the camera.  Takes the state lock only to publish a body. */
static void *card_writer_thread(void *p)
{
    simcam *c = p;
    renderer *rd = render_new(c->sc, &c->opt.render, c->opt.seed);
    for (int k = 0; rd != NULL && k < VARIANTS; k++) {
        int v = (k + 1) % VARIANTS; /* file 1 uses variant 1 */
        pthread_mutex_lock(&c->lock);
        bool skip = c->stop || c->variants[v] != NULL;
        pthread_mutex_unlock(&c->lock);
        if (skip) continue;
        blob *b = render_variant(c, rd, v);
        pthread_mutex_lock(&c->lock);
        if (c->variants[v] == NULL) c->variants[v] = b;
        else blob_unref(b);
        pthread_cond_broadcast(&c->variants_done);
        pthread_mutex_unlock(&c->lock);
    }
    render_free(rd);
    pthread_mutex_lock(&c->lock);
    c->card_writing = false;
    pthread_cond_broadcast(&c->variants_done);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

void simcam_wait_card(simcam *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->card_writing) pthread_cond_wait(&c->variants_done, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

/* Gives a lazily created file its bytes.  State lock held; it is released
 * while the card writer finishes the file's body, so other operations and
 * the event channel go on meanwhile.  The card may change during that wait:
 * callers find the object again by its handle. */
static int materialise(simcam *c, uint32_t handle)
{
    card_object *o = card_get(&c->card, handle);
    if (o == NULL) return -1;
    if (o->ready) return 0;
    int v = o->variant % VARIANTS;
    if (c->variants[v] == NULL) { /* a JPEG's body, a RAW's preview */
        while (c->card_writing && c->variants[v] == NULL) pthread_cond_wait(&c->variants_done, &c->lock);
        if (c->variants[v] == NULL) { /* the writer failed or stopped: render it here */
            pthread_mutex_lock(&c->render_lock);
            blob *b = render_variant(c, c->rd, v);
            pthread_mutex_unlock(&c->render_lock);
            if (b == NULL) return -1;
            if (c->variants[v] == NULL) c->variants[v] = b;
            else blob_unref(b);
        }
        o = card_get(&c->card, handle);
        if (o == NULL) return -1;
        if (o->ready) return 0;
    }
    img_exif_fields f;
    char date[20], uid[33];
    fill_exif(c, o->taken, o->number, o->width, o->height, &f, date, uid);
    /* files from "earlier shooting" carry the persona's base exposure */
    f.iso = (int)c->pe->base_iso;
    f.fnumber = c->pe->base_fnumber;
    f.exposure_s = c->pe->base_shutter_s;
    if (o->format == PTP_OFC_EXIF_JPEG) {
        o->content.head = jpeg_head(&f);
        o->content.body = blob_ref(c->variants[v]);
        o->content.body_off = 2;
    } else if (raw_content(c, o, &f, c->variants[v]) != 0) {
        return -1;
    }
    if (o->content.head == NULL) return -1;
    o->ready = true;
    return 0;
}

static void populate_card(simcam *c)
{
    card_object *dcim = card_add(&c->card, 0, "DCIM", true);
    card_object *f = dcim ? card_add(&c->card, dcim->handle, c->pe->folder, true) : NULL;
    c->folder = f ? f->handle : 0;
    c->next_number = 1;
    int64_t t = camera_time(c) - 86400;
    for (int made = 0; made < c->opt.card_files; c->next_number++) {
        bool pair = c->pe->raw_ext && c->next_number % 3 == 0 && made + 2 <= c->opt.card_files;
        t += 47;
        if (pair) {
            card_object *r = new_file(c, c->next_number, true, t);
            if (r) r->variant = c->next_number % VARIANTS; /* its preview is its JPEG's picture */
            if (r) made++;
        }
        card_object *j = new_file(c, c->next_number, false, t);
        if (j) j->variant = c->next_number % VARIANTS;
        made++;
    }
}

static uint32_t free_images(simcam *c)
{
    uint64_t used = card_used(&c->card);
    uint64_t avail = used < c->card.capacity ? c->card.capacity - used : 0;
    return (uint32_t)(avail / expected_jpeg_size(c));
}

/* ---- events -------------------------------------------------------------- */

static void emit(simcam *c, uint16_t code, uint32_t tid, const uint32_t *p, int n)
{
    if (c->ev_fn && c->session_open) c->ev_fn(c->ev_ctx, code, tid, p, n);
}

static void refresh_derived(simcam *c)
{
    prop *p;
    if ((p = prop_find_role(&c->props, ROLE_AVAILABLE_SHOTS))) p->value = free_images(c);
    if ((p = prop_find_role(&c->props, ROLE_SHUTTER_COUNT))) p->value = (int64_t)c->shots + 1234;
    if ((p = prop_find_role(&c->props, ROLE_DATETIME_EPOCH))) p->value = camera_time(c);
    if ((p = prop_find_role(&c->props, ROLE_DATETIME_STR)))
        format_time(camera_time(c), "%Y%m%dT%H%M%S", p->str, sizeof p->str);
    if ((p = prop_find_role(&c->props, ROLE_SERIAL))) snprintf(p->str, sizeof p->str, "%s", c->serial);
    if ((p = prop_find_role(&c->props, ROLE_LIVEVIEW_STATUS))) p->value = c->lv_on;
}

/* Queues the EOS PropValueChanged (and list) records for one property. */
static void eos_report(simcam *c, prop *p)
{
    if (c->event_mode && p->spec->transport == PROP_EOS) prop_put_eos_records(p, &c->eos_records);
}

static void eos_dump_all(simcam *c)
{
    refresh_derived(c);
    for (int i = 0; i < c->props.count; i++) eos_report(c, &c->props.items[i]);
}

static void eos_object_record(simcam *c, const card_object *o, bool transfer)
{
    bytebuf *b = &c->eos_records;
    size_t start = b->len;
    uint32_t size = (uint32_t)card_content_size(&o->content);
    size_t nl = strlen(o->name) + 1;
    if (!transfer) {
        uint8_t *r = bytebuf_extend(b, 40 + nl);
        if (r == NULL) return;
        memset(r, 0, 40);
        le32_write(r + 4, PTP_EOS_REC_ObjectAddedEx);
        le32_write(r + 8, o->handle);
        le32_write(r + 12, c->card.storage_id);
        r[16] = (uint8_t)o->format, r[17] = (uint8_t)(o->format >> 8);
        le32_write(r + 28, size);
        le32_write(r + 32, o->parent);
        memcpy(r + 40, o->name, nl);
    } else {
        uint8_t *r = bytebuf_extend(b, 28 + nl);
        if (r == NULL) return;
        memset(r, 0, 28);
        le32_write(r + 4, PTP_EOS_REC_RequestObjectTransfer);
        le32_write(r + 8, o->handle);
        r[12] = (uint8_t)o->format, r[13] = (uint8_t)(o->format >> 8);
        le32_write(r + 20, size);
        memcpy(r + 28, o->name, nl);
    }
    bytebuf_set_u32le(b, start, (uint32_t)(b->len - start));
}

/* ---- live view's state: magnification (Canon EOS Zoom); depth of field -- */

/* The magnified area's size in full-resolution pixels at zoom k: at 1x
 * the body shows (and positions) the 5x frame.  Square live-view pixels. */
static void zoom_area(const simcam *c, int k, double *w, double *h)
{
    const render_config *rc = &c->opt.render;
    *w = rc->photo_width / (double)(k > 1 ? k : 5);
    *h = *w * rc->lv_height / rc->lv_width;
}

/* Puts the magnified area's corner at (x, y), kept inside the frame, in
 * whole pixels. */
static void zoom_move(simcam *c, double x, double y)
{
    double w, h;
    zoom_area(c, c->lv_zoom, &w, &h);
    const render_config *rc = &c->opt.render;
    double mx = floor(rc->photo_width - w), my = floor(rc->photo_height - h);
    c->lv_zoom_x = x < 0 ? 0 : x > mx ? mx : floor(x);
    c->lv_zoom_y = y < 0 ? 0 : y > my ? my : floor(y);
}

/* No magnification, the frame centred (as after live view starts). */
static void zoom_reset(simcam *c)
{
    double w, h;
    c->lv_zoom = 1;
    zoom_area(c, 1, &w, &h);
    zoom_move(c, (c->opt.render.photo_width - w) / 2, (c->opt.render.photo_height - h) / 2);
}

/* A new factor keeps the area's corner (clamped into the frame). */
static void zoom_set(simcam *c, int k)
{
    c->lv_zoom = k;
    zoom_move(c, c->lv_zoom_x, c->lv_zoom_y);
}

static void lv_set(simcam *c, bool on)
{
    if (on && !c->lv_on) {
        c->lv_t0 = now_s();
        c->lv_last_slot = -1;
    }
    if (!on && c->lv_on) zoom_reset(c); /* leaving live view ends magnification */
    c->lv_on = on;
}

/* Half the depth of field in Near1 steps at f-number n: the photo's
 * defocus blur (full-resolution px, the scaling render_photo_body uses)
 * grows by alpha_full per step, and stays within the circle of confusion
 * while sigma <= 1 px. */
static double dof_half_steps(const simcam *c, double n)
{
    const render_config *rc = &c->opt.render;
    double alpha_full = rc->alpha * ((double)rc->photo_width / rc->lv_width) * (c->pe->max_aperture / n);
    return alpha_full > 0 ? 1.0 / alpha_full : 0;
}

/* ---- the capture thread ------------------------------------------------- */

static bool target_is_pc(simcam *c)
{
    prop *d = prop_find_role(&c->props, ROLE_CAPTURE_DEST);
    return d && d->value == 4 && c->session_open;
}

/* Takes one picture.  Called on the capture thread with the lock held;
 * drops it for the shutter lag and the rendering. */
static void take_picture(simcam *c, const capture_job *job)
{
    const persona *pe = c->pe;
    double t_exp = prop_physical(&c->props, ROLE_SHUTTER, pe->base_shutter_s);
    /* the shutter latency (with its jitter) before the exposure starts,
     * then the exposure itself */
    double latency = c->opt.shutter_latency_s;
    if (c->opt.shutter_jitter_s > 0) latency += (2 * rng_uniform(&c->shutter_rng) - 1) * c->opt.shutter_jitter_s;
    if (latency < 0) latency = 0;
    pthread_mutex_unlock(&c->lock);
    clock_sleep_ns((int64_t)(latency * 1e9));
    struct timespec exposed;
    clock_gettime(CLOCK_REALTIME, &exposed);
    if (t_exp > 0) clock_sleep_ns((int64_t)(t_exp * 1e9));
    pthread_mutex_lock(&c->lock);
    c->last_exposure_ns = (int64_t)exposed.tv_sec * 1000000000LL + exposed.tv_nsec;

    double t = now_s();
    double pos = lens_position(&c->lens, t - t_exp / 2);
    double defocus[2] = {pos - c->focus_pos[0], pos - c->focus_pos[1]};
    double blur[2] = {lens_blur_defocus(&c->lens.p, defocus[0]), lens_blur_defocus(&c->lens.p, defocus[1])};
    double n = prop_physical(&c->props, ROLE_APERTURE, pe->base_fnumber);
    double gain = exposure_gain(c, false);
    prop *fmt = prop_find_role(&c->props, ROLE_IMAGE_FORMAT);
    bool want_raw = fmt && prop_image_format_has_raw(fmt->value) && pe->raw_ext;
    bool want_jpeg = !fmt || prop_image_format_has_jpeg(fmt->value) || !want_raw;
    bool to_pc = target_is_pc(c);
    int number = c->next_number++;
    int64_t taken = camera_time(c);
    img_exif_fields f;
    char date[20], uid[33];
    fill_exif(c, taken, number, c->opt.render.photo_width, c->opt.render.photo_height, &f, date, uid);
    blob *head_jpeg = want_jpeg ? jpeg_head(&f) : NULL;
    pthread_mutex_unlock(&c->lock);

    /* the picture: a JPEG's body, and the preview inside a RAW */
    pthread_mutex_lock(&c->render_lock);
    blob *body = render_photo_body(c->rd, blur, pe->max_aperture / n, gain);
    pthread_mutex_unlock(&c->render_lock);

    pthread_mutex_lock(&c->lock);
    /* card_add may move objects: keep handles, not pointers */
    uint32_t handles[2];
    int nmade = 0;
    if (want_raw && body) {
        card_object *o = new_file(c, number, true, taken);
        if (o && raw_content(c, o, &f, body) == 0) {
            o->ready = true;
            handles[nmade++] = o->handle;
        } else if (o) {
            card_remove(&c->card, o->handle);
        }
    }
    if (want_jpeg && head_jpeg && body) {
        card_object *o = new_file(c, number, false, taken);
        if (o) {
            o->content.head = head_jpeg;
            head_jpeg = NULL;
            o->content.body = blob_ref(body);
            o->content.body_off = 2;
            o->ready = true;
            handles[nmade++] = o->handle;
        }
    }
    blob_unref(head_jpeg);
    blob_unref(body);
    if (nmade == 0) {
        LOG_ERROR("sim", "capture failed (out of memory or encoder error)");
        return;
    }
    c->shots++;
    c->last_shot.valid = true;
    c->last_shot.shot = c->shots;
    c->last_shot.lens_position = pos;
    c->last_shot.defocus[0] = defocus[0];
    c->last_shot.defocus[1] = defocus[1];
    c->last_shot.fnumber = n;
    c->last_shot.dof_half_steps = dof_half_steps(c, n);
    for (int i = 0; i < nmade; i++)
        if (to_pc) card_get(&c->card, handles[i])->on_card = false;
    LOG_INFO("sim", "shot %llu: %d file(s)%s", (unsigned long long)c->shots, nmade,
             to_pc ? " for transfer" : "");

    if (pe->flavour == FLAVOUR_CANON_EOS) {
        for (int i = 0; i < nmade; i++) eos_object_record(c, card_get(&c->card, handles[i]), to_pc);
        prop *sc = prop_find_role(&c->props, ROLE_SHUTTER_COUNT);
        if (sc) {
            refresh_derived(c);
            eos_report(c, sc);
        }
        prop *av = prop_find_role(&c->props, ROLE_AVAILABLE_SHOTS);
        if (av) eos_report(c, av);
    } else {
        for (int i = 0; i < nmade; i++) emit(c, PTP_EV_ObjectAdded, 0, &handles[i], 1);
        if (job->from_host) emit(c, PTP_EV_CaptureComplete, job->tid, NULL, 0);
    }
}

static void *capture_thread(void *arg)
{
    simcam *c = arg;
    log_set_thread_name("sim-shutter");
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        if (c->njobs == 0) {
            pthread_cond_wait(&c->wake, &c->lock);
            continue;
        }
        capture_job job = c->jobs[0];
        memmove(c->jobs, c->jobs + 1, sizeof job * (size_t)--c->njobs);
        c->capturing = true;
        take_picture(c, &job);
        c->capturing = c->njobs > 0;
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Queues a picture.  Returns a PTP response code. */
static uint16_t start_capture(simcam *c, bool from_host, uint32_t tid)
{
    if (from_host) { /* GET /state's last_trigger_ns: when the command came, taken or not */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        c->last_trigger_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    }
    if (c->capturing || c->njobs >= MAX_JOBS) return PTP_RC_DeviceBusy;
    if (free_images(c) == 0 && !target_is_pc(c)) return PTP_RC_StoreFull;
    c->jobs[c->njobs++] = (capture_job){from_host, tid};
    c->capturing = true;
    pthread_cond_signal(&c->wake);
    return PTP_RC_OK;
}

/* ---- live view ------------------------------------------------------------ */

/* Appends the next live-view JPEG to out, pacing frames at lv_fps.  Called
 * with the lock held; drops it while waiting and rendering. */
static int lv_frame(simcam *c, bytebuf *out)
{
    double fps = c->opt.lv_fps;
    double t = now_s();
    int64_t slot;
    if (fps > 0) {
        slot = (int64_t)floor((t - c->lv_t0) * fps);
        if (slot <= c->lv_last_slot) {
            slot = c->lv_last_slot + 1;
            double due = c->lv_t0 + (double)slot / fps;
            pthread_mutex_unlock(&c->lock);
            clock_sleep_ns((int64_t)((due - t) * 1e9));
            pthread_mutex_lock(&c->lock);
        }
        t = c->lv_t0 + (double)slot / fps;
    } else {
        slot = c->lv_last_slot + 1;
    }
    c->lv_last_slot = slot;
    /* a frame shows the lens as it was while the frame was exposed: a
     * frame period ago, or later as the delivery options say */
    double exposed = lvdelivery_exposed(&c->lv_delivery, t, fps > 0 ? 1.0 / fps : 0);
    uint64_t frame_no = ++c->frames;
    if (lvdelivery_repeat(&c->lv_delivery) && c->lv_prev.len > 0)
    {
        bytebuf_put(out, c->lv_prev.data, c->lv_prev.len);
        return bytebuf_ok(out) ? 0 : -1;
    }
    double pos = lens_position(&c->lens, exposed);
    double defocus[2] = {lens_blur_defocus(&c->lens.p, pos - c->focus_pos[0]),
                         lens_blur_defocus(&c->lens.p, pos - c->focus_pos[1])};
    double gain = exposure_gain(c, true);
    render_view view = {c->lv_zoom, c->lv_zoom_x, c->lv_zoom_y};
    size_t from = out->len;
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_lock(&c->render_lock);
    render_set_view(c->rd, &view);
    int rc = render_liveview(c->rd, defocus, gain, frame_no, out);
    pthread_mutex_unlock(&c->render_lock);
    pthread_mutex_lock(&c->lock);
    if (rc == 0 && c->opt.lv_delivery.repeat > 0) {
        bytebuf_reset(&c->lv_prev);
        bytebuf_put(&c->lv_prev, out->data + from, out->len - from);
        if (!bytebuf_ok(&c->lv_prev)) bytebuf_reset(&c->lv_prev);
    }
    return rc;
}

/* ---- set-up ------------------------------------------------------------------ */

simcam *simcam_new(const simcam_options *o)
{
    simcam *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->opt = *o;
    c->pe = o->persona;
    render_config *rc = &c->opt.render;
    if (rc->lv_width <= 0 || rc->lv_height <= 0) {
        rc->lv_width = c->pe->lv_width;
        rc->lv_height = c->pe->lv_height;
    }
    if (rc->photo_width <= 0 || rc->photo_height <= 0) {
        rc->photo_width = c->pe->photo_width;
        rc->photo_height = c->pe->photo_height;
    }
    if (o->dim) {
        rc->read_noise = 6.0;
        rc->shot_noise = 0.3;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->render_lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->variants_done, NULL);
    bytebuf_init(&c->eos_records);
    bytebuf_init(&c->lv_prev);
    lvdelivery_init(&c->lv_delivery, &o->lv_delivery, o->seed);
    c->plugged = true;

    if (img_exif_global_init() != 0) goto fail;
    c->sc = scene_new(o->scene, o->seed);
    if (c->sc == NULL) goto fail;
    c->rd = render_new(c->sc, rc, o->seed);
    if (c->rd == NULL) goto fail;

    lens_params lp;
    if (o->lens_params_set) lp = o->lens;
    else lens_default_params(&lp, o->seed);
    rng r;
    rng_seed(&r, rng_hash2(o->seed, 0xF0C05));
    c->shutter_rng = rng_fork(&r, 0x5407);
    double focus = o->focus_at >= 0 ? o->focus_at : 0.2 + 0.6 * rng_uniform(&r);
    double start = o->lens_start >= 0 ? o->lens_start : rng_uniform(&r);
    double t = now_s();
    lens_init(&c->lens, &lp, o->seed, start * lp.range, t);
    c->focus_pos[0] = focus * lp.range;
    /* the foreground card of a two-plane scene is nearer: it is sharp
     * 15-35 % of the range further "near" (or "far" if there is no room) */
    double gap = (0.15 + 0.2 * rng_uniform(&r)) * lp.range;
    c->focus_pos[1] = c->focus_pos[0] + gap <= lp.range ? c->focus_pos[0] + gap : c->focus_pos[0] - gap;
    snprintf(c->serial, sizeof c->serial, "%010llu",
             (unsigned long long)(rng_hash2(o->seed, 0x5E41) % 10000000000ull));

    prop_set_init(&c->props, c->pe->props, c->pe->n_props);
    zoom_reset(c);
    card_init(&c->card, STORAGE_ID, CARD_CAPACITY);
    populate_card(c);
    refresh_derived(c);
    c->thumb = render_thumbnail(c->rd, &c->thumb_w, &c->thumb_h);

    if (pthread_create(&c->worker, NULL, capture_thread, c) != 0) goto fail;
    c->worker_started = true;
    if (c->opt.card_files > 0) {
        c->card_writing = true;
        if (pthread_create(&c->card_writer, NULL, card_writer_thread, c) != 0) {
            c->card_writing = false; /* materialise renders each body itself */
        } else {
            c->card_writer_started = true;
        }
    }
    return c;
fail:
    LOG_ERROR("sim", "cannot create the simulated camera");
    simcam_free(c);
    return NULL;
}

void simcam_free(simcam *c)
{
    if (c == NULL) return;
    if (c->worker_started) {
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->worker, NULL);
    }
    if (c->card_writer_started) {
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->card_writer, NULL);
    }
    for (int i = 0; i < VARIANTS; i++) blob_unref(c->variants[i]);
    blob_unref(c->thumb);
    card_free(&c->card);
    render_free(c->rd);
    scene_free(c->sc);
    bytebuf_free(&c->eos_records);
    bytebuf_free(&c->lv_prev);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->variants_done);
    pthread_mutex_destroy(&c->render_lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void end_session(simcam *c)
{
    c->session_open = false;
    c->remote_mode = c->event_mode = 0;
    bytebuf_reset(&c->eos_records);
    lv_set(c, false);
    zoom_reset(c);
    prop *p;
    if ((p = prop_find_role(&c->props, ROLE_EVF_OUTPUT))) p->value = 0;
    if ((p = prop_find_role(&c->props, ROLE_EVF_MODE))) p->value = 0;
    if ((p = prop_find_role(&c->props, ROLE_ENABLED_STREAMS))) p->value = 0;
    /* pictures never fetched by the PC are lost, as on a real body */
    for (int i = 0; i < c->card.count;) {
        if (!c->card.objs[i].on_card) card_remove(&c->card, c->card.objs[i].handle);
        else i++;
    }
}

void simcam_attach(simcam *c, simcam_event_fn fn, void *ctx)
{
    pthread_mutex_lock(&c->lock);
    c->ev_fn = fn;
    c->ev_ctx = ctx;
    c->connected = true;
    c->sessions++;
    end_session(c);
    pthread_mutex_unlock(&c->lock);
}

void simcam_detach(simcam *c)
{
    pthread_mutex_lock(&c->lock);
    c->ev_fn = NULL;
    c->ev_ctx = NULL;
    c->connected = false;
    end_session(c);
    pthread_mutex_unlock(&c->lock);
}

void simcam_reply_init(simcam_reply *r)
{
    memset(r, 0, sizeof *r);
    bytebuf_init(&r->data);
}

void simcam_reply_clear(simcam_reply *r)
{
    bytebuf_reset(&r->data);
    card_content_release(&r->content);
    r->code = 0;
    r->nparams = 0;
    r->data_in = false;
    r->content_off = r->content_len = 0;
}

/* ---- standard PTP operations ---------------------------------------------- */

static void put_device_info(simcam *c, bytebuf *b)
{
    const persona *pe = c->pe;
    bytebuf_put_u16le(b, 100);
    bytebuf_put_u32le(b, pe->vendor_ext_id);
    bytebuf_put_u16le(b, pe->vendor_ext_version);
    ptpds_put_string(b, pe->vendor_ext_desc);
    bytebuf_put_u16le(b, 0);
    ptpds_put_u16_array(b, pe->ops, (size_t)pe->n_ops);
    ptpds_put_u16_array(b, pe->events, (size_t)pe->n_events);
    uint16_t props[PROP_MAX];
    size_t np = 0;
    for (int i = 0; i < c->props.count; i++)
        if (c->props.items[i].spec->transport == PROP_PTP) props[np++] = c->props.items[i].spec->code;
    ptpds_put_u16_array(b, props, np);
    uint16_t capture[] = {PTP_OFC_EXIF_JPEG};
    ptpds_put_u16_array(b, capture, 1);
    uint16_t formats[3] = {PTP_OFC_Association, PTP_OFC_EXIF_JPEG, pe->raw_format};
    ptpds_put_u16_array(b, formats, pe->raw_ext ? 3 : 2);
    ptpds_put_string(b, pe->manufacturer);
    ptpds_put_string(b, pe->model);
    ptpds_put_string(b, pe->device_version);
    ptpds_put_string(b, c->serial);
}

static void put_storage_info(simcam *c, bytebuf *b)
{
    uint64_t used = card_used(&c->card);
    bytebuf_put_u16le(b, PTP_ST_RemovableRAM);
    bytebuf_put_u16le(b, PTP_FS_GenericHierarchical);
    bytebuf_put_u16le(b, 0); /* read-write */
    bytebuf_put_u64le(b, c->card.capacity);
    bytebuf_put_u64le(b, used < c->card.capacity ? c->card.capacity - used : 0);
    bytebuf_put_u32le(b, free_images(c));
    ptpds_put_string(b, "SD");
    ptpds_put_string(b, c->pe->volume_label);
}

static void put_object_info(simcam *c, const card_object *o, bytebuf *b)
{
    bytebuf_put_u32le(b, c->card.storage_id);
    bytebuf_put_u16le(b, o->format);
    bytebuf_put_u16le(b, 0); /* no protection */
    bytebuf_put_u32le(b, o->is_folder ? 0 : (uint32_t)card_content_size(&o->content));
    bool thumb = o->thumb_format && c->thumb;
    bytebuf_put_u16le(b, thumb ? o->thumb_format : 0);
    bytebuf_put_u32le(b, thumb ? (uint32_t)c->thumb->len : 0);
    bytebuf_put_u32le(b, thumb ? (uint32_t)c->thumb_w : 0);
    bytebuf_put_u32le(b, thumb ? (uint32_t)c->thumb_h : 0);
    bytebuf_put_u32le(b, (uint32_t)o->width);
    bytebuf_put_u32le(b, (uint32_t)o->height);
    bytebuf_put_u32le(b, o->width ? 24 : 0);
    bytebuf_put_u32le(b, o->parent);
    bytebuf_put_u16le(b, o->is_folder ? PTP_AT_GenericFolder : 0);
    bytebuf_put_u32le(b, 0);
    bytebuf_put_u32le(b, 0);
    ptpds_put_string(b, o->name);
    ptpds_put_string(b, o->date);
    ptpds_put_string(b, o->date);
    ptpds_put_string(b, "");
}

/* The object for a handle parameter, materialised; NULL and the response
 * code if there is none. */
static card_object *object_param(simcam *c, uint32_t handle, uint16_t *rc)
{
    card_object *o = card_get(&c->card, handle);
    if (o == NULL) {
        *rc = PTP_RC_InvalidObjectHandle;
        return NULL;
    }
    if (materialise(c, handle) != 0) {
        *rc = PTP_RC_GeneralError;
        return NULL;
    }
    return card_get(&c->card, handle);
}

static void reply_content(simcam_reply *rp, const card_object *o, uint64_t off, uint64_t len)
{
    rp->data_in = true;
    rp->content = card_content_ref(&o->content);
    rp->content_off = off;
    rp->content_len = len;
}

static uint16_t op_get_object_handles(simcam *c, const simcam_request *rq, simcam_reply *rp)
{
    uint32_t storage = rq->params[0], format = rq->params[1], parent = rq->params[2];
    if (storage != 0xFFFFFFFFu && storage != c->card.storage_id) return PTP_RC_InvalidStorageId;
    if (parent != 0 && parent != 0xFFFFFFFFu) {
        card_object *p = card_get(&c->card, parent);
        if (p == NULL || !p->is_folder || !p->on_card) return PTP_RC_InvalidParentObject;
    }
    size_t count_at = rp->data.len;
    bytebuf_put_u32le(&rp->data, 0);
    uint32_t n = 0;
    for (int i = 0; i < c->card.count; i++) {
        const card_object *o = &c->card.objs[i];
        if (!o->on_card) continue;
        if (parent == 0xFFFFFFFFu ? o->parent != 0 : parent != 0 && o->parent != parent) continue;
        if (format && o->format != format) continue;
        bytebuf_put_u32le(&rp->data, o->handle);
        n++;
    }
    bytebuf_set_u32le(&rp->data, count_at, n);
    rp->data_in = true;
    return PTP_RC_OK;
}

static uint16_t op_delete_object(simcam *c, const simcam_request *rq)
{
    uint32_t h = rq->params[0];
    if (h == 0xFFFFFFFFu) {
        for (int i = 0; i < c->card.count;) {
            if (!c->card.objs[i].is_folder) card_remove(&c->card, c->card.objs[i].handle);
            else i++;
        }
        return PTP_RC_OK;
    }
    card_object *o = card_get(&c->card, h);
    if (o == NULL || !o->on_card) return PTP_RC_InvalidObjectHandle;
    if (o->handle == c->folder) return PTP_RC_AccessDenied; /* the camera's own folder */
    card_remove(&c->card, h);
    return PTP_RC_OK;
}

/* Applies the side effects of a property change. */
static void prop_changed(simcam *c, prop *p)
{
    switch (p->spec->role) {
    case ROLE_EVF_OUTPUT: lv_set(c, (p->value & 2) != 0); break;
    case ROLE_ENABLED_STREAMS: lv_set(c, (p->value & 1) != 0); break;
    case ROLE_DATETIME_EPOCH: c->clock_offset = p->value - (int64_t)time(NULL); break;
    default: break;
    }
}

static bool parse_ptp_datetime(const char *s, int64_t *epoch)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 15)
        return false;
    if (s[n] != '\0' && s[n] != '.' && s[n] != 'Z' && s[n] != '+' && s[n] != '-') return false;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *epoch = (int64_t)timegm(&tm);
    return true;
}

static uint16_t op_set_prop(simcam *c, const simcam_request *rq)
{
    prop *p = prop_find(&c->props, (uint16_t)rq->params[0]);
    if (p == NULL || p->spec->transport == PROP_EOS) return PTP_RC_DevicePropNotSupported;
    if (!p->spec->writable) return PTP_RC_AccessDenied;
    if (!rq->has_data) return PTP_RC_InvalidDevicePropFormat;
    size_t off = 0;
    if (p->spec->datatype == PTP_DT_STR) {
        char s[128];
        if (!ptpds_get_string(rq->data, rq->data_len, &off, s, sizeof s)) return PTP_RC_InvalidDevicePropFormat;
        if (p->spec->role == ROLE_DATETIME_STR) {
            int64_t e;
            if (!parse_ptp_datetime(s, &e)) return PTP_RC_InvalidDevicePropValue;
            c->clock_offset = e - (int64_t)time(NULL);
        }
        snprintf(p->str, sizeof p->str, "%s", s);
        return PTP_RC_OK;
    }
    int64_t v;
    if (!ptpds_get_value(rq->data, rq->data_len, &off, p->spec->datatype, &v)) return PTP_RC_InvalidDevicePropFormat;
    uint16_t rc = prop_validate(p, v);
    if (rc != PTP_RC_OK) return rc;
    p->value = v;
    prop_changed(c, p);
    return PTP_RC_OK;
}

static uint16_t op_standard(simcam *c, const simcam_request *rq, simcam_reply *rp)
{
    uint16_t rc = PTP_RC_OK;
    card_object *o;
    prop *p;
    switch (rq->opcode) {
    case PTP_OP_GetStorageIDs:
    case PTP_OP_EOS_GetStorageIDs: {
        uint32_t id = c->card.storage_id;
        ptpds_put_u32_array(&rp->data, &id, 1);
        rp->data_in = true;
        return PTP_RC_OK;
    }
    case PTP_OP_GetStorageInfo:
    case PTP_OP_EOS_GetStorageInfo:
        if (rq->params[0] != c->card.storage_id) return PTP_RC_InvalidStorageId;
        put_storage_info(c, &rp->data);
        rp->data_in = true;
        return PTP_RC_OK;
    case PTP_OP_GetObjectHandles:
        return op_get_object_handles(c, rq, rp);
    case PTP_OP_GetObjectInfo:
        if ((o = object_param(c, rq->params[0], &rc)) == NULL) return rc;
        put_object_info(c, o, &rp->data);
        rp->data_in = true;
        return PTP_RC_OK;
    case PTP_OP_GetObject:
        if ((o = object_param(c, rq->params[0], &rc)) == NULL) return rc;
        if (o->is_folder) return PTP_RC_InvalidObjectHandle;
        reply_content(rp, o, 0, card_content_size(&o->content));
        return PTP_RC_OK;
    case PTP_OP_GetPartialObject: {
        if ((o = object_param(c, rq->params[0], &rc)) == NULL) return rc;
        if (o->is_folder) return PTP_RC_InvalidObjectHandle;
        uint64_t size = card_content_size(&o->content), off = rq->params[1];
        if (off > size) return PTP_RC_InvalidParameter;
        uint64_t len = size - off < rq->params[2] ? size - off : rq->params[2];
        reply_content(rp, o, off, len);
        rp->nparams = 1;
        rp->params[0] = (uint32_t)len;
        return PTP_RC_OK;
    }
    case PTP_OP_GetThumb:
        if ((o = object_param(c, rq->params[0], &rc)) == NULL) return rc;
        if (o->is_folder || !o->thumb_format || !c->thumb) return PTP_RC_NoThumbnailPresent;
        bytebuf_put(&rp->data, c->thumb->data, c->thumb->len);
        rp->data_in = true;
        return PTP_RC_OK;
    case PTP_OP_DeleteObject:
        return op_delete_object(c, rq);
    case PTP_OP_InitiateCapture:
        if (rq->params[0] != 0 && rq->params[0] != c->card.storage_id) return PTP_RC_InvalidStorageId;
        if (rq->params[1] != 0 && rq->params[1] != PTP_OFC_EXIF_JPEG) return PTP_RC_InvalidObjectFormatCode;
        return start_capture(c, true, rq->tid);
    case PTP_OP_GetDevicePropDesc:
        p = prop_find(&c->props, (uint16_t)rq->params[0]);
        if (p == NULL || p->spec->transport != PROP_PTP) return PTP_RC_DevicePropNotSupported;
        refresh_derived(c);
        prop_put_desc(p, &rp->data);
        rp->data_in = true;
        return PTP_RC_OK;
    case PTP_OP_GetDevicePropValue:
        p = prop_find(&c->props, (uint16_t)rq->params[0]);
        if (p == NULL || p->spec->transport == PROP_EOS) return PTP_RC_DevicePropNotSupported;
        refresh_derived(c);
        prop_put_value(p, &rp->data);
        rp->data_in = true;
        return PTP_RC_OK;
    case PTP_OP_SetDevicePropValue:
        return op_set_prop(c, rq);
    default:
        return PTP_RC_OperationNotSupported;
    }
}

/* ---- Canon EOS operations ------------------------------------------------- */

static uint16_t op_eos_set_prop(simcam *c, const simcam_request *rq)
{
    if (!rq->has_data || rq->data_len < 8) return PTP_RC_InvalidParameter;
    uint32_t size = le32_read(rq->data);
    if (size < 8 || size > rq->data_len) return PTP_RC_InvalidParameter;
    prop *p = prop_find(&c->props, (uint16_t)le32_read(rq->data + 4));
    if (p == NULL || p->spec->transport != PROP_EOS) return PTP_RC_DevicePropNotSupported;
    if (!p->spec->writable) return PTP_RC_AccessDenied;
    const uint8_t *v = rq->data + 8;
    size_t vlen = size - 8;
    if (p->spec->datatype == PTP_DT_STR) {
        size_t n = strnlen((const char *)v, vlen);
        if (n == vlen || n >= sizeof p->str) return PTP_RC_InvalidDevicePropValue;
        memcpy(p->str, v, n + 1);
    } else if (p->spec->role == ROLE_IMAGE_FORMAT) {
        if (vlen < 4) return PTP_RC_InvalidParameter;
        uint32_t n = le32_read(v);
        if (n < 1 || n > 2 || vlen < 4 + 16 * (size_t)n) return PTP_RC_InvalidDevicePropValue;
        int64_t code = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *e = v + 4 + 16 * i;
            uint32_t kind = le32_read(e + 4), sz = le32_read(e + 8), comp = le32_read(e + 12);
            if (le32_read(e) != 0x10 || sz > 15 || comp > 7) return PTP_RC_InvalidDevicePropValue;
            int64_t b = (int64_t)((sz << 4) | (comp | (kind == 6 ? 8 : 0)));
            code |= i == 0 ? b << 8 : b;
        }
        if (prop_validate(p, code) != PTP_RC_OK) return PTP_RC_InvalidDevicePropValue;
        p->value = code;
    } else {
        if (vlen < 4) return PTP_RC_InvalidParameter;
        int w = ptpds_width(p->spec->datatype);
        int64_t val = le32_read(v);
        if (w == 1) val &= 0xFF;
        else if (w == 2) val &= 0xFFFF;
        uint16_t rc = prop_validate(p, val);
        if (rc != PTP_RC_OK) return rc;
        p->value = val;
    }
    prop_changed(c, p);
    eos_report(c, p);
    return PTP_RC_OK;
}

static uint16_t op_canon(simcam *c, const simcam_request *rq, simcam_reply *rp)
{
    prop *evf = prop_find_role(&c->props, ROLE_EVF_OUTPUT);
    switch (rq->opcode) {
    case PTP_OP_EOS_SetRemoteMode:
        c->remote_mode = rq->params[0];
        return PTP_RC_OK;
    case PTP_OP_EOS_SetEventMode:
        /* a real body reports every property again on each (re)enable */
        c->event_mode = rq->params[0];
        if (c->event_mode) eos_dump_all(c);
        return PTP_RC_OK;
    case PTP_OP_EOS_GetEvent:
        bytebuf_put(&rp->data, c->eos_records.data, c->eos_records.len);
        bytebuf_put_u32le(&rp->data, 8); /* terminator record */
        bytebuf_put_u32le(&rp->data, 0);
        bytebuf_reset(&c->eos_records);
        rp->data_in = true;
        return PTP_RC_OK;
    case PTP_OP_EOS_SetDevicePropValueEx:
        return op_eos_set_prop(c, rq);
    case PTP_OP_EOS_RemoteRelease: {
        uint16_t rc = start_capture(c, true, rq->tid);
        rp->nparams = 1;
        rp->params[0] = rc == PTP_RC_OK ? 0 : rc == PTP_RC_StoreFull ? 7 : 1;
        return rc == PTP_RC_DeviceBusy ? PTP_RC_DeviceBusy : PTP_RC_OK;
    }
    case PTP_OP_EOS_TransferComplete: {
        card_object *o = card_get(&c->card, rq->params[0]);
        if (o == NULL || o->on_card) return PTP_RC_InvalidObjectHandle;
        card_remove(&c->card, rq->params[0]);
        return PTP_RC_OK;
    }
    case PTP_OP_EOS_PCHDDCapacity:
    case PTP_OP_EOS_SetUILock:
    case PTP_OP_EOS_ResetUILock:
        return PTP_RC_OK;
    case PTP_OP_EOS_InitiateViewfinder:
    case PTP_OP_EOS_TerminateViewfinder:
        if (evf) {
            evf->value = rq->opcode == PTP_OP_EOS_InitiateViewfinder ? 2 : 0;
            prop_changed(c, evf);
            eos_report(c, evf);
        }
        return PTP_RC_OK;
    case PTP_OP_EOS_GetViewFinderData: {
        if (!c->lv_on) return PTP_RC_EOS_NotReady;
        size_t start = rp->data.len;
        bytebuf_put_u32le(&rp->data, 0);
        bytebuf_put_u32le(&rp->data, 1); /* JPEG */
        if (lv_frame(c, &rp->data) != 0) return PTP_RC_GeneralError;
        bytebuf_set_u32le(&rp->data, start, (uint32_t)(rp->data.len - start));
        rp->data_in = true;
        return PTP_RC_OK;
    }
    case PTP_OP_EOS_DriveLens: {
        uint32_t p1 = rq->params[0];
        int size = (int)(p1 & 0x7FFF), dir = (p1 & 0x8000) ? -1 : 1;
        if (size < 1 || size > 3 || (p1 & ~0x8003u)) return PTP_RC_InvalidParameter;
        prop *fm = prop_find_role(&c->props, ROLE_FOCUS_MODE);
        /* Like EDSDK/PTP on a real body: accepted even when it does
         * nothing (live view off, or the lens switched to MF). */
        if (c->lv_on && !(fm && fm->value == 3)) lens_drive_canon(&c->lens, now_s(), dir, size);
        else LOG_INFO("sim", "DriveLens ignored: live view off or lens in MF");
        return PTP_RC_OK;
    }
    case PTP_OP_EOS_Zoom:
        /* accepted before live view starts too (libgphoto2 may set it
         * first); live view's end resets it */
        if (rq->nparams < 1 || (rq->params[0] != 1 && rq->params[0] != 5 && rq->params[0] != 10))
            return PTP_RC_InvalidParameter;
        zoom_set(c, (int)rq->params[0]);
        return PTP_RC_OK;
    case PTP_OP_EOS_ZoomPosition:
        if (rq->nparams < 2) return PTP_RC_InvalidParameter;
        zoom_move(c, rq->params[0], rq->params[1]);
        return PTP_RC_OK;
    case PTP_OP_EOS_DoAf:
        if (c->opt.scene != SCENE_FLAT) lens_autofocus(&c->lens, now_s(), c->focus_pos[0]);
        return PTP_RC_OK;
    case PTP_OP_EOS_AfCancel:
        lens_cancel_autofocus(&c->lens, now_s());
        return PTP_RC_OK;
    default:
        return op_standard(c, rq, rp); /* EOS GetStorageIDs/Info */
    }
}

/* ---- Nikon operations ------------------------------------------------------- */

static void nikon_set_lv(simcam *c, bool on)
{
    lv_set(c, on);
    refresh_derived(c);
}

static uint16_t op_nikon(simcam *c, const simcam_request *rq, simcam_reply *rp)
{
    double t = now_s();
    switch (rq->opcode) {
    case PTP_OP_NIKON_DeviceReady:
        if (t < c->busy_until || lens_moving(&c->lens, t)) return PTP_RC_DeviceBusy;
        if (c->af_result) {
            uint16_t r = c->af_result;
            c->af_result = 0;
            return r;
        }
        return PTP_RC_OK;
    case PTP_OP_NIKON_StartLiveView:
        if (!c->lv_on) {
            nikon_set_lv(c, true);
            c->busy_until = t + 0.15; /* the mirror flips up */
        }
        return PTP_RC_OK;
    case PTP_OP_NIKON_EndLiveView:
        nikon_set_lv(c, false);
        return PTP_RC_OK;
    case PTP_OP_NIKON_GetLiveViewImg: {
        if (!c->lv_on) return PTP_RC_NIKON_NotLiveView;
        if (t < c->busy_until) return PTP_RC_DeviceBusy;
        uint8_t *h = bytebuf_extend(&rp->data, NIKON_LV_HEADER);
        if (h == NULL) return PTP_RC_GeneralError;
        memset(h, 0, NIKON_LV_HEADER);
        if (lv_frame(c, &rp->data) != 0) return PTP_RC_GeneralError;
        rp->data_in = true;
        return PTP_RC_OK;
    }
    case PTP_OP_NIKON_MfDrive: {
        uint32_t dir = rq->params[0], steps = rq->params[1];
        if ((dir != 1 && dir != 2) || steps < 1 || steps > 32767) return PTP_RC_InvalidParameter;
        if (!c->lv_on) return PTP_RC_NIKON_NotLiveView;
        double pos = lens_position(&c->lens, t);
        int d = dir == 1 ? 1 : -1; /* 1: towards the closest distance */
        if ((d > 0 && pos >= c->lens.p.range - 1e-6) || (d < 0 && pos <= 1e-6))
            return PTP_RC_NIKON_MfDriveStepEnd;
        lens_drive(&c->lens, t, d, steps * c->pe->nikon_step);
        return PTP_RC_OK;
    }
    case PTP_OP_NIKON_AfDrive:
        if (c->opt.scene == SCENE_FLAT) {
            c->busy_until = t + 0.8; /* hunts, then gives up */
            c->af_result = PTP_RC_NIKON_OutOfFocus;
        } else {
            lens_autofocus(&c->lens, t, c->focus_pos[0]);
            c->af_result = 0;
        }
        return PTP_RC_OK;
    default:
        return PTP_RC_OperationNotSupported;
    }
}

/* ---- PTP 1.1 streams (generic live view) --------------------------------------- */

static uint16_t op_stream(simcam *c, const simcam_request *rq, simcam_reply *rp)
{
    if (!c->lv_on) return PTP_RC_NoStreamEnabled;
    if (rq->opcode == PTP_OP_GetStreamInfo) {
        if (rq->params[0] != 1) return PTP_RC_InvalidParameter;
        bytebuf_put_u64le(&rp->data, 36);            /* DatasetSize */
        bytebuf_put_u64le(&rp->data, 1000000);       /* TimeResolution: µs */
        bytebuf_put_u32le(&rp->data, 0);             /* FrameHeaderSize */
        bytebuf_put_u32le(&rp->data, 4u << 20);      /* FrameMaxSize */
        bytebuf_put_u32le(&rp->data, 0);             /* PacketHeaderSize */
        bytebuf_put_u32le(&rp->data, 4u << 20);      /* PacketMaxSize */
        bytebuf_put_u32le(&rp->data, 0);             /* PacketAlignment */
        rp->data_in = true;
        return PTP_RC_OK;
    }
    if (lv_frame(c, &rp->data) != 0) return PTP_RC_GeneralError;
    rp->data_in = true;
    return PTP_RC_OK;
}

/* ---- dispatch ---------------------------------------------------------------- */

void simcam_handle(simcam *c, const simcam_request *rq, simcam_reply *rp)
{
    pthread_mutex_lock(&c->lock);
    c->ops++;
    uint16_t op = rq->opcode;
    uint16_t rc;
    if (!has_op(c, op)) {
        rc = PTP_RC_OperationNotSupported;
    } else if (op == PTP_OP_GetDeviceInfo) {
        put_device_info(c, &rp->data);
        rp->data_in = true;
        rc = PTP_RC_OK;
    } else if (op == PTP_OP_OpenSession) {
        if (c->session_open) {
            rc = PTP_RC_SessionAlreadyOpened;
            rp->nparams = 1;
            rp->params[0] = c->session_id;
        } else if (rq->params[0] == 0) {
            rc = PTP_RC_InvalidParameter;
        } else {
            c->session_open = true;
            c->session_id = rq->params[0];
            rc = PTP_RC_OK;
        }
    } else if (!c->session_open) {
        rc = PTP_RC_SessionNotOpen;
    } else if (op == PTP_OP_CloseSession) {
        end_session(c);
        rc = PTP_RC_OK;
    } else if (op == PTP_OP_GetStreamInfo || op == PTP_OP_GetStream) {
        rc = op_stream(c, rq, rp);
    } else if (op >= 0x9100 && op < 0x9200 && c->pe->flavour == FLAVOUR_CANON_EOS) {
        rc = op_canon(c, rq, rp);
    } else if (c->pe->flavour == FLAVOUR_NIKON && (op & 0xF000) == 0x9000) {
        rc = op_nikon(c, rq, rp);
    } else {
        rc = op_standard(c, rq, rp);
    }
    if (rc != PTP_RC_OK && rp->data_in && op != PTP_OP_EOS_RemoteRelease) {
        /* an error never comes with a data phase */
        rp->data_in = false;
        bytebuf_reset(&rp->data);
        card_content_release(&rp->content);
    }
    rp->code = rc;
    pthread_mutex_unlock(&c->lock);
}

/* ---- the body ------------------------------------------------------------------- */

int simcam_press_shutter(simcam *c)
{
    pthread_mutex_lock(&c->lock);
    uint16_t rc = start_capture(c, false, 0);
    pthread_mutex_unlock(&c->lock);
    return rc == PTP_RC_OK ? 0 : -1;
}

int simcam_body_set(simcam *c, const char *name, const char *value)
{
    pthread_mutex_lock(&c->lock);
    prop *p = NULL;
    for (int i = 0; i < c->props.count && !p; i++)
        if (strcmp(c->props.items[i].spec->name, name) == 0) p = &c->props.items[i];
    int rc = p ? -2 : -1;
    if (p && p->spec->datatype == PTP_DT_STR) {
        snprintf(p->str, sizeof p->str, "%s", value);
        rc = 0;
    } else if (p) {
        int64_t v = 0;
        bool found = false;
        for (int i = 0; i < p->spec->n_choices && !found; i++)
            if (strcmp(p->spec->choices[i].label, value) == 0) v = p->spec->choices[i].code, found = true;
        char *end;
        if (!found) {
            v = strtoll(value, &end, 0);
            found = *value && *end == '\0';
        }
        if (found && prop_validate(p, v) == PTP_RC_OK) {
            p->value = v;
            prop_changed(c, p);
            rc = 0;
        }
    }
    if (rc == 0) {
        if (p->spec->transport == PROP_EOS) {
            eos_report(c, p);
        } else {
            uint32_t code = p->spec->code;
            emit(c, PTP_EV_DevicePropChanged, 0, &code, 1);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void simcam_turn_ring(simcam *c, double speed, double duration_s)
{
    pthread_mutex_lock(&c->lock);
    lens_ring(&c->lens, now_s(), speed, duration_s);
    pthread_mutex_unlock(&c->lock);
}

void simcam_set_lens(simcam *c, double position)
{
    pthread_mutex_lock(&c->lock);
    lens_set(&c->lens, now_s(), position);
    pthread_mutex_unlock(&c->lock);
}

void simcam_set_subject(simcam *c, double position)
{
    pthread_mutex_lock(&c->lock);
    double shift = position - c->focus_pos[0];
    c->focus_pos[0] = position;
    c->focus_pos[1] += shift;
    pthread_mutex_unlock(&c->lock);
}

void simcam_set_link(simcam *c, bool connected, bool plugged)
{
    pthread_mutex_lock(&c->lock);
    c->connected = connected;
    c->plugged = plugged;
    pthread_mutex_unlock(&c->lock);
}

const char *simcam_model(const simcam *c)
{
    return c->pe->model;
}

uint64_t simcam_shots(simcam *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->shots;
    pthread_mutex_unlock(&c->lock);
    return n;
}

json_t *simcam_state(simcam *c)
{
    pthread_mutex_lock(&c->lock);
    double t = now_s();
    refresh_derived(c);
    json_t *settings = json_object();
    for (int i = 0; i < c->props.count; i++) {
        const prop *p = &c->props.items[i];
        const prop_choice *ch = prop_current_choice(p);
        if (p->spec->datatype == PTP_DT_STR) json_object_set_new(settings, p->spec->name, json_string(p->str));
        else if (ch) json_object_set_new(settings, p->spec->name, json_string(ch->label));
        else json_object_set_new(settings, p->spec->name, json_integer(p->value));
    }
    json_t *lensj = json_pack("{s:f, s:[f, f, f], s:f, s:f, s:f, s:f, s:b, s:I, s:I}",
        "range", c->lens.p.range, "steps", c->lens.p.step[0], c->lens.p.step[1], c->lens.p.step[2],
        "near_blur", c->lens.p.near_blur, "backlash", c->lens.p.backlash,
        "step_noise", c->lens.p.step_noise, "speed", c->lens.p.speed,
        "moving", lens_moving(&c->lens, t), "commands", (json_int_t)c->lens.commands,
        "dropped", (json_int_t)c->lens.dropped);
    json_t *st = json_pack("{s:s, s:s, s:s, s:f, s:f, s:o, s:I, s:b, s:b, s:b, s:I, s:I, s:b, s:I, s:i, s:I, s:o, s:s, s:f, s:f, s:I}",
        "persona", c->pe->id, "model", c->pe->model, "scene", scene_kind_name(c->opt.scene),
        "motor_position", lens_position(&c->lens, t),
        "true_focus_position", c->focus_pos[0],
        "lens", lensj,
        "shots", (json_int_t)c->shots,
        "connected", c->connected, "plugged", c->plugged,
        "session_open", c->session_open,
        "sessions", (json_int_t)c->sessions,
        "operations", (json_int_t)c->ops,
        "liveview", c->lv_on,
        "frames", (json_int_t)c->frames,
        "card_files", card_file_count(&c->card),
        "card_free_bytes", (json_int_t)(c->card.capacity - card_used(&c->card)),
        "settings", settings,
        "serial", c->serial,
        "exposure_gain", exposure_gain(c, false),
        "lv_fps", c->opt.lv_fps,
        "cache_bytes", (json_int_t)0);
    pthread_mutex_lock(&c->render_lock);
    if (st) json_object_set_new(st, "cache_bytes", json_integer((json_int_t)render_cache_bytes(c->rd)));
    pthread_mutex_unlock(&c->render_lock);
    bool two = scene_plane_count(c->sc) > 1;
    if (st && two) json_object_set_new(st, "second_plane_focus_position", json_real(c->focus_pos[1]));
    if (st) {
        json_object_set_new(st, "lv_zoom", json_integer(c->lv_zoom));
        json_object_set_new(st, "card_ready", json_boolean(!c->card_writing));
        json_object_set_new(st, "capturing", json_boolean(c->capturing || c->njobs > 0));
        json_object_set_new(st, "last_trigger_ns", json_integer((json_int_t)c->last_trigger_ns));
        json_object_set_new(st, "last_exposure_ns", json_integer((json_int_t)c->last_exposure_ns));
        json_object_set_new(st, "shutter_latency_ms", json_pack("{s:f, s:f}", "mean", c->opt.shutter_latency_s * 1e3,
                                                                "jitter", c->opt.shutter_jitter_s * 1e3));
        json_object_set_new(st, "lv_zoom_position", json_pack("[I, I]", (json_int_t)c->lv_zoom_x,
                                                              (json_int_t)c->lv_zoom_y));
        double n = prop_physical(&c->props, ROLE_APERTURE, c->pe->base_fnumber);
        json_object_set_new(st, "dof_half_steps", json_real(dof_half_steps(c, n)));
        json_t *ls = json_null();
        if (c->last_shot.valid) {
            ls = json_pack("{s:f, s:f, s:f, s:f, s:I}", "lens_position", c->last_shot.lens_position,
                           "defocus", c->last_shot.defocus[0], "dof_half_steps", c->last_shot.dof_half_steps,
                           "fnumber", c->last_shot.fnumber, "shot", (json_int_t)c->last_shot.shot);
            if (ls && two) json_object_set_new(ls, "defocus_second_plane", json_real(c->last_shot.defocus[1]));
        }
        json_object_set_new(st, "last_shot", ls);
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}
