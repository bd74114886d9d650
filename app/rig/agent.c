/*
 * agent: see agent.h.  How a fire goes: the command arrives on the MQTT
 * thread and is queued to each named camera's worker; the worker claims
 * the shot in the outbox (a command delivered twice fires once), sleeps
 * until fire_at with clock_nanosleep(TIMER_ABSTIME) on CLOCK_REALTIME
 * (holding the camera for the last 150 ms, so that no live-view fetch is
 * in the way), takes CLOCK_REALTIME and hands the capture command to the
 * camera's owner thread at once, then answers with that time and the
 * files, which are in the outbox by then.  The sender sends them to the
 * studio on its own time.
 *
 * Live view goes on a lease: the studio asks for a camera's frames for
 * a few seconds and renews while someone watches.  A "live" command is
 * handled on the MQTT thread (never queued behind a capture): it moves
 * the lease's end and starts the camera's live sender if none runs; the
 * sender subscribes to the camera's live view and publishes each new
 * frame (QoS 0) while the frame before has left, skipping the rest, so a
 * slow link shows the newest frame late rather than a growing queue.
 */
#include "rig/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "rig/clocksync.h"
#include "rig/mqtt.h"
#include "rig/outbox.h"
#include "rig/proto.h"
#include "rig/transfer.h"
#include "tether/tether.h"

enum {
    QUEUE_MAX = 64,            /* commands waiting for one camera */
    STATUS_EVERY_MS = 5000,
    LIVE_IN_FLIGHT_MAX_MS = 2000, /* a frame not seen leaving for this long no longer holds the next back */
    DONE_MIDS = 64,            /* ids of messages that left, kept for senders that file theirs late */
    HOLD_BEFORE_MS = 150,      /* a fire at T holds its camera this long before T */
    CLOCK_EVERY_MS = 30000,
    RETRY_MIN_MS = 500,
    RETRY_MAX_MS = 5000,
};

typedef struct agent agent;

typedef struct agent_cam {
    agent *a;
    char id[RIG_NAME_MAX + 1];
    char model[128], identity[256];
    tether_camera *cam;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;      /* queue, n, stop */
    pthread_cond_t cond;
    rig_cmd queue[QUEUE_MAX];
    int n;
    bool stop;
    /* live view on the studio's lease (RIG_OP_LIVE); under a->live_lock */
    bool live_capable;         /* the camera has live view (set at start) */
    int64_t live_until_ns;     /* CLOCK_MONOTONIC: the lease's end */
    bool live_running;         /* its thread runs (it clears this last) */
    bool live_joinable;        /* a thread was started and not joined yet */
    pthread_t live_thread;
    bool live_in_flight;       /* a frame was handed to the broker's connection and has not left */
    int live_mid;              /* that frame's message id */
    int64_t live_sent_ns;      /* when it was handed over */
    uint64_t live_frames, live_skipped;
    char topic_live[160];
} agent_cam;

struct agent {
    const agent_options *o;
    rig_mqtt *mqtt;
    outbox *ob;
    agent_cam cams[RIG_MAX_CAMERAS];
    int n_cams;
    char topic_cmd[128], topic_reply[128], topic_status[128], topic_event[128];
    pthread_mutex_t lock;      /* studio_url, clock */
    char studio_url[256];
    clocksync clock;
    atomic_int refused;        /* the broker's refusal code, 0 if none; -1: no TLS session, refused_why says why */
    char refused_why[400];     /* written before refused is set */
    atomic_bool stopping;
    pthread_mutex_t live_lock; /* every camera's live_* fields, done_mids, live_closed */
    pthread_cond_t live_cond;  /* a lease changed or ended */
    int done_mids[DONE_MIDS];  /* the ids of the last messages that left (on_published) */
    unsigned n_done;
    bool live_closed;          /* stopping: no live thread starts any more */
    pthread_t sender, status;
    bool sender_started, status_started;
    pthread_mutex_t status_lock;
    pthread_cond_t status_cond;
};

/* ---- messages out ---- */

static void publish_reply(agent *a, const rig_reply *r)
{
    char *text = rig_reply_build(r);
    if (text == NULL || rig_mqtt_publish(a->mqtt, a->topic_reply, text, 1, false) != 0)
        LOG_WARN("rig", "could not answer %s for camera %s (the broker is away)", r->req, r->camera);
    free(text);
}

static void publish_event(agent *a, const char *type, const char *camera, const char *detail)
{
    rig_event e = {0};
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.camera, sizeof e.camera, "%s", camera ? camera : "");
    snprintf(e.detail, sizeof e.detail, "%s", detail ? detail : "");
    char *text = rig_event_build(&e);
    if (text) rig_mqtt_publish(a->mqtt, a->topic_event, text, 1, false);
    free(text);
}

static char *status_text(agent *a, bool online)
{
    rig_status s = {.online = online, .n_cameras = a->n_cams};
    snprintf(s.node, sizeof s.node, "%s", a->o->node);
    for (int i = 0; i < a->n_cams; i++) {
        rig_node_camera *c = &s.cameras[i];
        snprintf(c->id, sizeof c->id, "%s", a->cams[i].id);
        snprintf(c->model, sizeof c->model, "%s", a->cams[i].model);
        snprintf(c->identity, sizeof c->identity, "%s", a->cams[i].identity);
        c->connected = tether_camera_connected(a->cams[i].cam);
    }
    pthread_mutex_lock(&a->lock);
    snprintf(s.clock_state, sizeof s.clock_state, "%s", a->clock.state);
    snprintf(s.clock_source, sizeof s.clock_source, "%s", a->clock.source);
    snprintf(s.clock_detail, sizeof s.clock_detail, "%s", a->clock.detail);
    s.clock_offset_ms = a->clock.offset_ms;
    pthread_mutex_unlock(&a->lock);
    s.outbox = outbox_count(a->ob);
    return rig_status_build(&s);
}

static void publish_status(agent *a)
{
    char *text = status_text(a, true);
    if (text) rig_mqtt_publish(a->mqtt, a->topic_status, text, 1, true);
    free(text);
}

/* ---- live view on lease ---- */

/* The broker's connection says message mid has left (network thread).
 * A frame in flight is done; the id is kept a while for a sender that
 * has not filed its frame's id yet. */
static void on_published(void *ctx, int mid)
{
    agent *a = ctx;
    pthread_mutex_lock(&a->live_lock);
    a->done_mids[a->n_done++ % DONE_MIDS] = mid;
    for (int i = 0; i < a->n_cams; i++)
        if (a->cams[i].live_in_flight && a->cams[i].live_mid == mid) a->cams[i].live_in_flight = false;
    pthread_mutex_unlock(&a->live_lock);
}

/* live_lock held */
static bool mid_done(const agent *a, int mid)
{
    unsigned n = a->n_done < DONE_MIDS ? a->n_done : DONE_MIDS;
    for (unsigned i = 0; i < n; i++)
        if (a->done_mids[i] == mid) return true;
    return false;
}

/* Hands frame f to the broker's connection, QoS 0, unless the one before
 * has not left yet: a slow link or broker then gets the newest frame
 * when it can take one, never a queue of old ones. */
static void send_frame(agent_cam *c, tether_frame *f)
{
    agent *a = c->a;
    int64_t now = clock_mono_ns();
    pthread_mutex_lock(&a->live_lock);
    bool busy = c->live_in_flight && now - c->live_sent_ns < (int64_t)LIVE_IN_FLIGHT_MAX_MS * 1000000;
    if (busy) c->live_skipped++;
    pthread_mutex_unlock(&a->live_lock);
    if (busy) return;
    int mid = 0;
    int rc = rig_mqtt_publish_bytes(a->mqtt, c->topic_live, tether_frame_data(f), tether_frame_size(f), 0, false, &mid);
    pthread_mutex_lock(&a->live_lock);
    if (rc == 0) {
        c->live_mid = mid;
        c->live_in_flight = !mid_done(a, mid);
        c->live_sent_ns = now;
        c->live_frames++;
    }
    pthread_mutex_unlock(&a->live_lock);
}

/* A camera's live-view sender: subscribes to the camera's live view and
 * sends each new frame until the lease ends (or the agent stops). */
static void *live_main(void *arg)
{
    agent_cam *c = arg;
    agent *a = c->a;
    log_set_thread_name("rig-live");
    tether_liveview_subscribe(c->cam);
    LOG_INFO("rig", "live view of camera %s: sending", c->id);
    uint64_t seq = 0;
    pthread_mutex_lock(&a->live_lock);
    while (!a->live_closed && clock_mono_ns() < c->live_until_ns) {
        pthread_mutex_unlock(&a->live_lock);
        tether_frame *f = NULL;
        int rc = tether_liveview_next(c->cam, &seq, 250, &f);
        if (rc == TETHER_OK) send_frame(c, f);
        tether_frame_unref(f);
        pthread_mutex_lock(&a->live_lock);
        if (rc == TETHER_ERR_CLOSED) break;
        if (rc == TETHER_ERR_DISCONNECTED) { /* the camera is away: wait for it (or the lease's end) */
            struct timespec ts = clock_timespec(clock_real_ns() + 200000000);
            pthread_cond_timedwait(&a->live_cond, &a->live_lock, &ts);
        }
    }
    uint64_t frames = c->live_frames, skipped = c->live_skipped;
    c->live_running = false;
    pthread_mutex_unlock(&a->live_lock);
    tether_liveview_unsubscribe(c->cam);
    LOG_INFO("rig", "live view of camera %s: stopped (%llu frames sent, %llu skipped while one was in flight)", c->id,
             (unsigned long long)frames, (unsigned long long)skipped);
    return NULL;
}

/* A live-view lease for camera c (MQTT thread): from now for
 * cmd->lease_ms, or ended (0).  Answered at once. */
static void live_lease(agent_cam *c, const rig_cmd *cmd)
{
    agent *a = c->a;
    rig_reply r = {.ok = true};
    snprintf(r.req, sizeof r.req, "%s", cmd->req);
    snprintf(r.camera, sizeof r.camera, "%s", c->id);
    pthread_mutex_lock(&a->live_lock);
    if (!c->live_capable) {
        r.ok = false;
        snprintf(r.code, sizeof r.code, "not_supported");
        snprintf(r.message, sizeof r.message, "camera %s has no live view", c->id);
    } else if (a->live_closed) {
        r.ok = false;
        snprintf(r.code, sizeof r.code, "busy");
        snprintf(r.message, sizeof r.message, "node %s is stopping", a->o->node);
    } else {
        c->live_until_ns = cmd->lease_ms > 0 ? clock_mono_ns() + (int64_t)cmd->lease_ms * 1000000 : 0;
        pthread_cond_broadcast(&a->live_cond);
        if (cmd->lease_ms > 0 && !c->live_running) {
            if (c->live_joinable) pthread_join(c->live_thread, NULL); /* it has ended: live_running is its last word */
            c->live_joinable = c->live_running = pthread_create(&c->live_thread, NULL, live_main, c) == 0;
            if (!c->live_running) {
                r.ok = false;
                snprintf(r.code, sizeof r.code, "camera_error");
                snprintf(r.message, sizeof r.message, "cannot start camera %s's live view: no thread", c->id);
            }
        }
    }
    pthread_mutex_unlock(&a->live_lock);
    publish_reply(a, &r);
}

/* Ends every live view and joins the senders; no lease starts one after. */
static void stop_live(agent *a)
{
    pthread_mutex_lock(&a->live_lock);
    a->live_closed = true;
    pthread_cond_broadcast(&a->live_cond);
    pthread_mutex_unlock(&a->live_lock);
    for (int i = 0; i < a->n_cams; i++)
        if (a->cams[i].live_joinable) pthread_join(a->cams[i].live_thread, NULL);
}

/* ---- commands in (MQTT thread) ---- */

static void queue_cmd(agent_cam *c, const rig_cmd *cmd)
{
    pthread_mutex_lock(&c->lock);
    bool full = c->n == QUEUE_MAX;
    if (!full) c->queue[c->n++] = *cmd;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (full) {
        rig_reply r = {.ok = false};
        snprintf(r.req, sizeof r.req, "%s", cmd->req);
        snprintf(r.camera, sizeof r.camera, "%s", c->id);
        snprintf(r.shot, sizeof r.shot, "%s", cmd->shot);
        snprintf(r.code, sizeof r.code, "busy");
        snprintf(r.message, sizeof r.message, "camera %s has %d commands waiting; this one was dropped", c->id, QUEUE_MAX);
        publish_reply(c->a, &r);
    }
}

static void on_connect(void *ctx, int rc, const char *why)
{
    agent *a = ctx;
    if (rc != 0) {
        if (rc > 0) LOG_ERROR("rig", "the broker %s:%d refused node %s: %s", a->o->broker_host, a->o->broker_port, a->o->node, why);
        snprintf(a->refused_why, sizeof a->refused_why, "%s", why);
        a->refused = rc;
        return;
    }
    LOG_INFO("rig", "node %s joined the broker %s:%d", a->o->node, a->o->broker_host, a->o->broker_port);
    rig_mqtt_subscribe(a->mqtt, a->topic_cmd, 1);
    rig_mqtt_subscribe(a->mqtt, RIG_TOPIC_STUDIO, 1);
    publish_status(a);
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len)
{
    agent *a = ctx;
    char why[256];
    if (strcmp(topic, RIG_TOPIC_STUDIO) == 0) {
        bool online;
        char url[256];
        if (!rig_studio_parse(payload, len, &online, url, sizeof url)) {
            LOG_WARN("rig", "the studio's announcement is malformed; ignored");
            return;
        }
        if (a->o->studio_url == NULL && online) {
            pthread_mutex_lock(&a->lock);
            bool changed = strcmp(a->studio_url, url) != 0;
            snprintf(a->studio_url, sizeof a->studio_url, "%s", url);
            pthread_mutex_unlock(&a->lock);
            if (changed) LOG_INFO("rig", "files go to the studio at %s", url);
        }
        outbox_wake(a->ob);
        return;
    }
    if (strcmp(topic, a->topic_cmd) != 0) return;
    rig_cmd cmd;
    if (!rig_cmd_parse(payload, len, &cmd, why, sizeof why)) {
        LOG_WARN("rig", "a command was refused: %s", why);
        rig_reply r = {.ok = false};
        snprintf(r.req, sizeof r.req, "%s", cmd.req[0] ? cmd.req : "?");
        snprintf(r.code, sizeof r.code, "bad_command");
        snprintf(r.message, sizeof r.message, "%s", why);
        publish_reply(a, &r);
        return;
    }
    if (cmd.n_cameras == 0) {
        for (int i = 0; i < a->n_cams; i++) {
            if (cmd.op == RIG_OP_LIVE) live_lease(&a->cams[i], &cmd);
            else queue_cmd(&a->cams[i], &cmd);
        }
        return;
    }
    for (int k = 0; k < cmd.n_cameras; k++) {
        agent_cam *c = NULL;
        for (int i = 0; i < a->n_cams && c == NULL; i++)
            if (strcmp(a->cams[i].id, cmd.cameras[k]) == 0) c = &a->cams[i];
        if (c && cmd.op == RIG_OP_LIVE) { /* not queued: live view runs beside captures and settings */
            live_lease(c, &cmd);
            continue;
        }
        if (c) {
            queue_cmd(c, &cmd);
            continue;
        }
        rig_reply r = {.ok = false};
        snprintf(r.req, sizeof r.req, "%s", cmd.req);
        snprintf(r.camera, sizeof r.camera, "%s", cmd.cameras[k]);
        snprintf(r.code, sizeof r.code, "unknown_camera");
        snprintf(r.message, sizeof r.message, "node %s has no camera %s", a->o->node, cmd.cameras[k]);
        publish_reply(a, &r);
    }
}

/* ---- a camera's worker ---- */

static json_t *setting_json(const tether_setting *s)
{
    json_t *choices = json_array();
    for (int i = 0; i < s->n_choices; i++) json_array_append_new(choices, json_string(s->choices[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "name", s->name, "canonical", s->canonical, "label", s->label,
                     "value", s->value, "read_only", s->read_only, "choices", choices);
}

/* Fills r's error from the camera's rc and last error. */
static void camera_failed(agent_cam *c, rig_reply *r, int rc, const char *what)
{
    char detail[400];
    tether_camera_last_error(c->cam, detail, sizeof detail);
    r->ok = false;
    const char *code = rc == TETHER_ERR_DISK_FULL || rc == TETHER_ERR_STORAGE ? "storage_error"
                       : rc == TETHER_ERR_TIMEOUT                               ? "camera_timeout"
                       : rc == TETHER_ERR_NOT_FOUND                             ? "not_found"
                       : rc == TETHER_ERR_BAD_VALUE || rc == TETHER_ERR_READ_ONLY ? "bad_value"
                                                                                : "camera_error";
    snprintf(r->code, sizeof r->code, "%s", code);
    snprintf(r->message, sizeof r->message, "%s: %s%s%s", what, tether_strerror(rc), detail[0] ? ": " : "", detail);
}

static void fire(agent_cam *c, const rig_cmd *cmd, rig_reply *r)
{
    agent *a = c->a;
    snprintf(r->shot, sizeof r->shot, "%s", cmd->shot);
    r->fire_at_ns = cmd->fire_at_ns;
    int rc = outbox_claim(a->ob, c->id, cmd->shot);
    if (rc == TETHER_ERR_EXISTS) {
        r->ok = false;
        snprintf(r->code, sizeof r->code, "duplicate");
        snprintf(r->message, sizeof r->message, "shot %s was fired before on camera %s: not fired again", cmd->shot, c->id);
        return;
    }
    char dir[4300];
    if (rc == TETHER_OK) rc = outbox_shot_dir(a->ob, c->id, cmd->shot, dir, sizeof dir);
    if (rc != TETHER_OK) {
        outbox_unclaim(a->ob, c->id, cmd->shot);
        r->ok = false;
        snprintf(r->code, sizeof r->code, "storage_error");
        snprintf(r->message, sizeof r->message, "the outbox cannot keep the shot (%s): not fired", strerror(errno));
        return;
    }
    bool held = false;
    if (cmd->fire_at_ns > 0) {
        int64_t now = clock_real_ns();
        if (now > cmd->fire_at_ns + (int64_t)a->o->late_ms * 1000000) {
            outbox_unclaim(a->ob, c->id, cmd->shot);
            rmdir(dir);
            r->ok = false;
            snprintf(r->code, sizeof r->code, "late");
            snprintf(r->message, sizeof r->message, "the fire time had passed %.1f ms before camera %s was free: not fired",
                     (double)(now - cmd->fire_at_ns) / 1e6, c->id);
            return;
        }
        /* held a little before T: the owner thread finishes its live-view
         * fetch (the studio may be watching) and starts nothing more, so
         * the capture command reaches the camera at T, not a frame later */
        clock_sleep_until_real_ns(cmd->fire_at_ns - (int64_t)HOLD_BEFORE_MS * 1000000);
        int64_t left_ms = (cmd->fire_at_ns - clock_real_ns()) / 1000000;
        held = true;
        (void)tether_camera_hold(c->cam, true, left_ms > 0 ? (int)left_ms : 0);
        clock_sleep_until_real_ns(cmd->fire_at_ns);
    }
    tether_capture_options co = {.dir = dir, .name_template = "{name}"};
    tether_shot shot;
    r->fired_ns = clock_real_ns();
    rc = tether_capture(c->cam, &co, &shot);
    if (held) tether_camera_hold(c->cam, false, 0);
    if (rc != TETHER_OK) {
        camera_failed(c, r, rc, "capture");
        rmdir(dir); /* empty: nothing was kept (the claim stays: the camera may have fired) */
        return;
    }
    for (int i = 0; i < shot.n_files && i < 4; i++) {
        const char *slash = strrchr(shot.files[i], '/');
        snprintf(r->files[r->n_files++], sizeof r->files[0], "%s", slash ? slash + 1 : shot.files[i]);
    }
    outbox_ready(a->ob, c->id, cmd->shot);
    r->ok = true;
}

static void run_cmd(agent_cam *c, const rig_cmd *cmd)
{
    rig_reply r = {.ok = true};
    snprintf(r.req, sizeof r.req, "%s", cmd->req);
    snprintf(r.camera, sizeof r.camera, "%s", c->id);
    if (cmd->op == RIG_OP_FIRE) {
        fire(c, cmd, &r);
    } else {
        int rc = cmd->op == RIG_OP_SET ? tether_setting_set(c->cam, cmd->setting, cmd->value) : TETHER_OK;
        tether_setting s;
        if (rc == TETHER_OK) rc = tether_setting_get(c->cam, cmd->setting, &s);
        if (rc == TETHER_OK) {
            r.setting = setting_json(&s);
            tether_setting_clear(&s);
        } else {
            camera_failed(c, &r, rc, cmd->op == RIG_OP_SET ? "set" : "get");
        }
    }
    publish_reply(c->a, &r);
    rig_reply_clear(&r);
}

static void *cam_main(void *arg)
{
    agent_cam *c = arg;
    log_set_thread_name("rig-camera");
    bool was_connected = true;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->n == 0 && !c->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&c->cond, &c->lock, &ts);
            if (c->n == 0 && !c->stop) {
                pthread_mutex_unlock(&c->lock);
                bool now = tether_camera_connected(c->cam);
                if (now != was_connected) publish_event(c->a, now ? "camera_back" : "camera_lost", c->id, c->model);
                was_connected = now;
                pthread_mutex_lock(&c->lock);
            }
        }
        if (c->stop) break;
        rig_cmd cmd = c->queue[0];
        memmove(c->queue, c->queue + 1, sizeof cmd * (size_t)--c->n);
        pthread_mutex_unlock(&c->lock);
        run_cmd(c, &cmd);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- the sender ---- */

typedef struct answer {
    char body[2048];
    size_t len;
} answer;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    answer *ans = arg;
    size_t k = size * n;
    size_t room = sizeof ans->body - 1 - ans->len;
    size_t take = k < room ? k : room;
    memcpy(ans->body + ans->len, p, take);
    ans->len += take;
    ans->body[ans->len] = '\0';
    return k;
}

static int abort_when_stopping(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return ((agent *)arg)->stopping ? 1 : 0;
}

/* One HTTP exchange: method to url with the body (may be NULL) and the
 * extra headers.  Returns the status (0 when the studio was not
 * reached); ans gets the answer's body. */
static long exchange(agent *a, CURL *h, const char *method, const char *url, const void *body, size_t len,
                     struct curl_slist *headers, answer *ans)
{
    ans->len = 0;
    ans->body[0] = '\0';
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 20L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ans);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (curl_easy_perform(h) != CURLE_OK) return 0;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* The "received" count in a studio's JSON answer, or -1. */
static int64_t received_of(const answer *ans, bool *complete)
{
    json_t *j = json_loadb(ans->body, ans->len, 0, NULL);
    json_t *v = json_object_get(j, "received");
    int64_t n = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
    *complete = json_is_true(json_object_get(j, "complete"));
    json_decref(j);
    return n;
}

/* The last failure refused() said (sender thread); -1 after a success. */
static _Thread_local long t_last_refusal = -1;

/* Says once per kind of failure in a row why the studio does not take
 * files. */
static void refused(agent *a, long status, const answer *ans, const char *file)
{
    if (status == t_last_refusal) return;
    t_last_refusal = status;
    if (status == 0)
        LOG_WARN("rig", "the studio does not answer; %s and the rest wait in the outbox", file);
    else if (status == 401)
        LOG_ERROR("rig", "the studio refused node %s's files: it needs its access token (--token-file)", a->o->node);
    else
        LOG_WARN("rig", "the studio answered %ld for %s: %.300s", status, file, ans->body);
}

/* Sends one file of e; 0 once the studio has it whole, -1 to try later. */
static int send_file(agent *a, CURL *h, const char *base, const outbox_entry *e, const char *name, unsigned char *buf)
{
    char path[4400], hex[RIG_SHA256_HEX + 1], url[700], route[400], hdr[300];
    snprintf(path, sizeof path, "%s/%s", e->dir, name);
    if (rig_sha256_file(path, hex) != 0) {
        LOG_ERROR("rig", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    uint64_t total = (uint64_t)st.st_size;
    rig_file_id id;
    snprintf(id.node, sizeof id.node, "%s", a->o->node);
    snprintf(id.camera, sizeof id.camera, "%s", e->camera);
    snprintf(id.shot, sizeof id.shot, "%s", e->shot);
    snprintf(id.file, sizeof id.file, "%s", name);
    rig_file_path(route, sizeof route, &id);
    snprintf(url, sizeof url, "%s%s", base, route);
    struct curl_slist *common = NULL;
    if (a->o->token) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", a->o->token);
        common = curl_slist_append(common, hdr);
    }
    answer ans;
    bool complete = false;
    long status = exchange(a, h, "GET", url, NULL, 0, common, &ans);
    int64_t have = status == 200 ? received_of(&ans, &complete) : -1;
    int fd = -1, rc = -1;
    if (have < 0) {
        refused(a, status, &ans, name);
        goto done;
    }
    if (total == 0) {
        LOG_ERROR("rig", "%s is empty: not sent", path);
        rc = 0;
        goto done;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) goto done;
    int64_t began = clock_mono_ns();
    uint64_t from = (uint64_t)have;
    while (!complete && !a->stopping) {
        if ((uint64_t)have > total) have = 0; /* the studio has another file under that name: it says so below */
        size_t n = total - (uint64_t)have < RIG_CHUNK ? (size_t)(total - (uint64_t)have) : RIG_CHUNK;
        ssize_t got = pread(fd, buf, n, (off_t)have);
        if (got != (ssize_t)n) goto done;
        struct curl_slist *headers = NULL;
        for (struct curl_slist *c = common; c; c = c->next) headers = curl_slist_append(headers, c->data);
        snprintf(hdr, sizeof hdr, "Content-Range: bytes %lld-%lld/%llu", (long long)have, (long long)have + (long long)n - 1,
                 (unsigned long long)total);
        headers = curl_slist_append(headers, hdr);
        snprintf(hdr, sizeof hdr, "X-Tether-Sha256: %s", hex);
        headers = curl_slist_append(headers, hdr);
        headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
        headers = curl_slist_append(headers, "Expect:");
        status = exchange(a, h, "PUT", url, buf, n, headers, &ans);
        curl_slist_free_all(headers);
        if (status == 200 || status == 201 || status == 409) {
            have = received_of(&ans, &complete);
            if (have >= 0) continue;
        }
        refused(a, status, &ans, name);
        goto done;
    }
    rc = complete ? 0 : -1;
    if (complete && total > from) { /* what the link gave: bench/run-rig reads these lines */
        double secs = (double)(clock_mono_ns() - began) / 1e9;
        LOG_INFO("rig", "sent %s of shot %s: %llu bytes in %.3f s (%.2f MB/s)", name, e->shot,
                 (unsigned long long)(total - from), secs, secs > 0 ? (double)(total - from) / secs / 1e6 : 0.0);
    }
done:
    if (fd >= 0) close(fd);
    curl_slist_free_all(common);
    return rc;
}

static void *sender_main(void *arg)
{
    agent *a = arg;
    log_set_thread_name("rig-sender");
    CURL *h = curl_easy_init();
    unsigned char *buf = malloc(RIG_CHUNK);
    int backoff = RETRY_MIN_MS;
    while (!a->stopping && h && buf) {
        outbox_entry e;
        if (!outbox_next(a->ob, 500, &e)) continue;
        char base[256];
        pthread_mutex_lock(&a->lock);
        snprintf(base, sizeof base, "%s", a->o->studio_url ? a->o->studio_url : a->studio_url);
        pthread_mutex_unlock(&a->lock);
        size_t bl = strlen(base);
        if (bl && base[bl - 1] == '/') base[bl - 1] = '\0';
        int failed = base[0] == '\0';
        char names[8][129];
        int n = failed ? 0 : outbox_files(&e, names, 8);
        for (int i = 0; i < n && !failed && !a->stopping; i++) failed = send_file(a, h, base, &e, names[i], buf) != 0;
        if (!failed && !a->stopping) {
            outbox_done(a->ob, &e);
            t_last_refusal = -1;
            backoff = RETRY_MIN_MS;
            continue;
        }
        /* the studio is away or refuses: wait, then try the oldest again */
        for (int64_t until = clock_mono_ns() + (int64_t)backoff * 1000000; !a->stopping && clock_mono_ns() < until;)
            clock_sleep_ns(50000000);
        backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
    }
    free(buf);
    if (h) curl_easy_cleanup(h);
    return NULL;
}

/* ---- status ---- */

static void *status_main(void *arg)
{
    agent *a = arg;
    log_set_thread_name("rig-status");
    int64_t last_clock = clock_mono_ns();
    pthread_mutex_lock(&a->status_lock);
    while (!a->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += STATUS_EVERY_MS / 1000;
        pthread_cond_timedwait(&a->status_cond, &a->status_lock, &ts);
        if (a->stopping) break;
        pthread_mutex_unlock(&a->status_lock);
        if (clock_mono_ns() - last_clock > (int64_t)CLOCK_EVERY_MS * 1000000) {
            clocksync cs;
            clocksync_check(&cs, a->o->clock_poor_ms);
            pthread_mutex_lock(&a->lock);
            a->clock = cs;
            pthread_mutex_unlock(&a->lock);
            last_clock = clock_mono_ns();
        }
        if (rig_mqtt_connected(a->mqtt)) publish_status(a);
        pthread_mutex_lock(&a->status_lock);
    }
    pthread_mutex_unlock(&a->status_lock);
    return NULL;
}

/* ---- life cycle ---- */

/* Opens every camera and gives each its id.  Prints why and returns
 * false when one cannot be opened. */
static bool open_cameras(agent *a)
{
    for (int i = 0; i < a->o->n_cameras; i++) {
        agent_cam *c = &a->cams[a->n_cams];
        char why[512];
        int rc = tether_camera_open(a->o->cameras[i], a->o->timeout_ms, &c->cam, why, sizeof why);
        if (rc != TETHER_OK) {
            fprintf(stderr, "tether: cannot open camera \"%s\": %s\n", a->o->cameras[i], why);
            return false;
        }
        c->a = a;
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->cond, NULL);
        a->n_cams++;
        tether_camera_model(c->cam, c->model, sizeof c->model);
        tether_camera_identity(c->cam, c->identity, sizeof c->identity);
        char base[RIG_NAME_MAX + 1];
        rig_slug(c->model, base, sizeof base);
        for (int k = 1;; k++) {
            if (k == 1) snprintf(c->id, sizeof c->id, "%s", base);
            else snprintf(c->id, sizeof c->id, "%s-%d", base, k);
            bool taken = false;
            for (int j = 0; j < a->n_cams - 1 && !taken; j++) taken = strcmp(a->cams[j].id, c->id) == 0;
            if (!taken) break;
        }
        rig_live_topic(c->topic_live, sizeof c->topic_live, a->o->node, c->id);
        tether_capabilities caps;
        c->live_capable = tether_camera_capabilities(c->cam, &caps) == TETHER_OK && (caps.bits & TETHER_CAP_LIVEVIEW);
    }
    return true;
}

/* Stops the cameras' workers (each finishes its command) and joins them. */
static void stop_workers(agent *a)
{
    for (int i = 0; i < a->n_cams; i++) {
        agent_cam *c = &a->cams[i];
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
    for (int i = 0; i < a->n_cams; i++)
        if (a->cams[i].started) pthread_join(a->cams[i].thread, NULL);
}

int agent_run(const agent_options *o, volatile sig_atomic_t *stop)
{
    static agent ag;
    agent *a = &ag;
    memset(a, 0, sizeof *a);
    a->o = o;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->status_lock, NULL);
    pthread_cond_init(&a->status_cond, NULL);
    pthread_mutex_init(&a->live_lock, NULL);
    pthread_cond_init(&a->live_cond, NULL);
    rig_topic(a->topic_cmd, sizeof a->topic_cmd, o->node, "cmd");
    rig_topic(a->topic_reply, sizeof a->topic_reply, o->node, "reply");
    rig_topic(a->topic_status, sizeof a->topic_status, o->node, "status");
    rig_topic(a->topic_event, sizeof a->topic_event, o->node, "event");
    int ret = 1;
    char why[512];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((a->ob = outbox_open(o->outbox, why, sizeof why)) == NULL) {
        fprintf(stderr, "tether: %s\n", why);
        goto done;
    }
    if (!open_cameras(a)) goto done;
    clocksync_check(&a->clock, o->clock_poor_ms);
    char client[64], *offline = status_text(a, false);
    snprintf(client, sizeof client, "tether-node-%s", o->node);
    rig_mqtt_options mo = {.host = o->broker_host, .port = o->broker_port, .tls = o->broker_tls,
                           .ca_file = o->broker_ca, .client_id = client,
                           .clean_session = false, .user = o->user, .password = o->password,
                           .will_topic = a->topic_status, .will_payload = offline ? offline : "",
                           .on_connect = on_connect, .on_message = on_message, .on_published = on_published,
                           .ctx = a};
    /* the workers first: a command queued at once is taken */
    for (int i = 0; i < a->n_cams; i++)
        a->cams[i].started = pthread_create(&a->cams[i].thread, NULL, cam_main, &a->cams[i]) == 0;
    a->mqtt = rig_mqtt_new(&mo, why, sizeof why);
    if (a->mqtt == NULL || !rig_mqtt_connect(a->mqtt, why, sizeof why)) {
        fprintf(stderr, "tether: %s\n", why);
        a->stopping = true;
        stop_live(a);
        stop_workers(a);
        rig_mqtt_stop(a->mqtt, NULL, NULL);
        free(offline);
        goto done;
    }
    a->sender_started = pthread_create(&a->sender, NULL, sender_main, a) == 0;
    a->status_started = pthread_create(&a->status, NULL, status_main, a) == 0;
    printf("node %s: %d camera%s (", o->node, a->n_cams, a->n_cams == 1 ? "" : "s");
    for (int i = 0; i < a->n_cams; i++) printf("%s%s %s", i ? ", " : "", a->cams[i].id, a->cams[i].identity);
    pthread_mutex_lock(&a->lock); /* the status thread renews it */
    clocksync clock_now = a->clock;
    pthread_mutex_unlock(&a->lock);
    printf("), broker %s:%d, clock %s (%s)\n", o->broker_host, o->broker_port, clock_now.state, clock_now.detail);
    fflush(stdout);
    while (!*stop && !a->refused) clock_sleep_ns(100000000);
    if (a->refused < 0) {
        fprintf(stderr, "tether: cannot use the broker %s:%d: %s\n", o->broker_host, o->broker_port, a->refused_why);
    } else if (a->refused) {
        fprintf(stderr, "tether: the broker %s:%d refused node %s: %s (check --user and --password-file, and the "
                "broker's access list)\n", o->broker_host, o->broker_port, o->node,
                a->refused == 4 ? "bad user name or password" : a->refused == 5 ? "not authorised" : "refused");
    } else {
        ret = 0;
    }
    a->stopping = true;
    outbox_wake(a->ob);
    pthread_mutex_lock(&a->status_lock);
    pthread_cond_broadcast(&a->status_cond);
    pthread_mutex_unlock(&a->status_lock);
    stop_live(a);
    stop_workers(a);
    if (a->sender_started) pthread_join(a->sender, NULL);
    if (a->status_started) pthread_join(a->status, NULL);
    rig_mqtt_stop(a->mqtt, a->refused ? NULL : a->topic_status, offline ? offline : "");
    free(offline);
done:
    for (int i = 0; i < a->n_cams; i++) {
        tether_camera_close(a->cams[i].cam);
        pthread_cond_destroy(&a->cams[i].cond);
        pthread_mutex_destroy(&a->cams[i].lock);
    }
    outbox_close(a->ob);
    pthread_cond_destroy(&a->live_cond);
    pthread_mutex_destroy(&a->live_lock);
    curl_global_cleanup();
    return ret;
}
