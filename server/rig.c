/*
 * rig: the studio's side of the camera rig (docs/RIGS.md): one MQTT
 * connection to the broker, the nodes as their retained status tells
 * (online or not, clock sync, outbox), each node camera served as a
 * remote station beside the local ones (station_add_remote), commands to
 * them (fire at a time, settings) and their answers.
 *
 * Threads: libmosquitto's network thread runs on_message (it never waits
 * for a camera or a node: it files what came and wakes the waiters); the
 * HTTP workers send commands and wait for their answers on rig.cond.
 * rig.lock guards the nodes and the pending requests; it is never held
 * while sending or while the station list's lock is taken.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "internal.h"
#include "rig/mqtt.h"
#include "rig/proto.h"

enum {
    MAX_NODES = 64,
    MAX_PENDING = 64,
    ANSWER_WAIT_MS = 30000,    /* a setting or single capture's answer */
    LIVE_LEASE_MS = 6000,      /* a live-view lease asks for this much ... */
    LIVE_RENEW_MS = 2000,      /* ... and is renewed this often while anyone watches */
    LIVE_STALE_MS = 3000,      /* no frame for this long while watched: the camera is away */
};

typedef struct rig_node {
    rig_status status;         /* the last one received */
    int64_t seen_ns;           /* CLOCK_REALTIME of that */
} rig_node;

/* A request waiting for answers: the jobs (one per camera) it fills. */
typedef struct pending {
    char req[48];
    rig_fire_job *jobs;        /* fire: one per camera */
    int n;
    rig_reply *single;         /* get, set: the one answer */
    bool single_done;
} pending;

struct rig {
    studio *s;
    rig_studio_options o;
    char url[256];
    rig_mqtt *mqtt;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rig_node nodes[MAX_NODES];
    int n_nodes;
    pending *pending[MAX_PENDING];
    unsigned seq;
    char *online_text;
    pthread_t leases;          /* renews the live-view leases (lease_main) */
    bool leases_started;
    pthread_mutex_t leases_lock;
    pthread_cond_t leases_cond;
    bool leases_stop;
    char live_refused[640];    /* the last lease answer that was logged ("NODE/CAMERA: why") */
};

/* The node's entry, made if new.  lock held. */
static rig_node *node_slot(rig *g, const char *name, bool make)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].status.node, name) == 0) return &g->nodes[i];
    if (!make || g->n_nodes == MAX_NODES) return NULL;
    rig_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    snprintf(n->status.node, sizeof n->status.node, "%s", name);
    return n;
}

/* ---- what comes from the broker ---- */

static void got_status(rig *g, const char *node, const void *payload, size_t len)
{
    rig_status st;
    char why[256];
    if (len == 0) return; /* a retained status cleared */
    if (!rig_status_parse(payload, len, &st, why, sizeof why) || strcmp(st.node, node) != 0) {
        LOG_WARN("rig", "node %s sent a malformed status: %s", node, why);
        return;
    }
    pthread_mutex_lock(&g->lock);
    rig_node *n = node_slot(g, node, true);
    bool was_online = n && n->status.online;
    if (n) {
        rig_status keep = n->status;
        n->status = st;
        if (!st.online) { /* the last will says no more: keep the cameras it had */
            n->status.n_cameras = keep.n_cameras;
            memcpy(n->status.cameras, keep.cameras, sizeof keep.cameras);
            for (int i = 0; i < n->status.n_cameras; i++) n->status.cameras[i].connected = false;
        }
        n->seen_ns = clock_real_ns();
    }
    pthread_mutex_unlock(&g->lock);
    if (n == NULL) return;
    if (st.online != was_online)
        LOG_INFO("rig", "node %s is %s", node, st.online ? "online" : "offline");
    for (int i = 0; i < st.n_cameras; i++) {
        station *sta = NULL;
        if (station_add_remote(g->s, node, st.cameras[i].id, st.cameras[i].model, st.cameras[i].identity, &sta) != TETHER_OK)
            continue;
        bool now = st.online && st.cameras[i].connected;
        if (sta->remote_connected != now) {
            sta->remote_connected = now;
            station_publish(sta, now ? "camera_back" : "camera_lost", json_pack("{s:s}", "node", node));
        }
        station_unref(sta);
    }
    if (!st.online) { /* every camera of the node is away */
        station *list[STUDIO_MAX_CAMERAS];
        int k = station_list(g->s, list, STUDIO_MAX_CAMERAS);
        for (int i = 0; i < k; i++) {
            if (list[i]->remote && strcmp(list[i]->node, node) == 0 && list[i]->remote_connected) {
                list[i]->remote_connected = false;
                station_publish(list[i], "camera_lost", json_pack("{s:s}", "node", node));
            }
            station_unref(list[i]);
        }
    }
    hub_publish(g->s, "rig_node", json_pack("{s:s, s:b}", "node", node, "online", st.online));
}

static void got_reply(rig *g, const char *node, const void *payload, size_t len)
{
    rig_reply r;
    char why[256];
    if (!rig_reply_parse(payload, len, &r, why, sizeof why)) {
        LOG_WARN("rig", "node %s sent a malformed reply: %s", node, why);
        return;
    }
    if (strncmp(r.req, "live-", 5) == 0) { /* a lease's answer: only a refusal says anything */
        char said[sizeof g->live_refused];
        snprintf(said, sizeof said, "%s/%s: %s", node, r.camera, r.ok ? "" : r.message);
        pthread_mutex_lock(&g->lock);
        bool news = strcmp(said, g->live_refused) != 0; /* (each refusal once, not at every renewal) */
        if (news) snprintf(g->live_refused, sizeof g->live_refused, "%s", said);
        pthread_mutex_unlock(&g->lock);
        if (news && !r.ok) LOG_WARN("rig", "no live view from camera %s of node %s: %s", r.camera, node, r.message);
        rig_reply_clear(&r);
        return;
    }
    pthread_mutex_lock(&g->lock);
    for (int i = 0; i < MAX_PENDING; i++) {
        pending *p = g->pending[i];
        if (p == NULL || strcmp(p->req, r.req) != 0) continue;
        if (p->single && !p->single_done) {
            *p->single = r;
            r.setting = NULL; /* moved */
            p->single_done = true;
        }
        for (int k = 0; k < p->n; k++) {
            rig_fire_job *j = &p->jobs[k];
            if (j->answered || strcmp(j->st->node, node) != 0 || strcmp(j->st->remote_id, r.camera) != 0) continue;
            j->answered = true;
            j->ok = r.ok;
            j->fired_ns = r.fired_ns;
            snprintf(j->code, sizeof j->code, "%s", r.code);
            snprintf(j->message, sizeof j->message, "%s", r.message);
            j->n_files = r.n_files;
            memcpy(j->files, r.files, sizeof j->files);
        }
        pthread_cond_broadcast(&g->cond);
    }
    pthread_mutex_unlock(&g->lock);
    rig_reply_clear(&r);
}

static void got_event(rig *g, const char *node, const void *payload, size_t len)
{
    rig_event e;
    char why[256];
    if (!rig_event_parse(payload, len, &e, why, sizeof why)) {
        LOG_WARN("rig", "node %s sent a malformed event: %s", node, why);
        return;
    }
    char id[80];
    snprintf(id, sizeof id, "%s-%s", node, e.camera);
    station *st = e.camera[0] ? station_find(g->s, id) : NULL;
    if (st) {
        if (strcmp(e.type, "camera_lost") == 0 || strcmp(e.type, "camera_back") == 0)
            st->remote_connected = strcmp(e.type, "camera_back") == 0;
        station_publish(st, e.type, json_pack("{s:s, s:s}", "node", node, "detail", e.detail));
        station_unref(st);
    } else {
        hub_publish(g->s, e.type, json_pack("{s:s, s:s}", "node", node, "detail", e.detail));
    }
}

/* A live-view frame of camera cam of node: it becomes the station's newest
 * and wakes its viewers.  (Network thread: a copy and a wake, no wait.) */
static void got_frame(rig *g, const char *node, const char *cam, const void *payload, size_t len)
{
    char id[80], why[128];
    snprintf(id, sizeof id, "%s-%s", node, cam);
    station *st = station_find(g->s, id);
    if (st == NULL || !st->remote || strcmp(st->node, node) != 0 || strcmp(st->remote_id, cam) != 0) {
        station_unref(st);
        return;
    }
    blob *b = NULL;
    if (!rig_frame_ok(payload, len, why, sizeof why)) LOG_DEBUG("rig", "node %s sent camera %s %s; dropped", node, cam, why);
    else b = blob_from(payload, len);
    if (b) {
        pthread_mutex_lock(&st->lock);
        blob *old = st->live_frame;
        st->live_frame = b;
        st->live_seq++;
        st->live_at_ns = clock_mono_ns();
        pthread_cond_broadcast(&st->live_cond);
        pthread_mutex_unlock(&st->lock);
        blob_unref(old);
        studio_wake(g->s, st->wake_kind);
    }
    station_unref(st);
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len)
{
    rig *g = ctx;
    char node[RIG_NAME_MAX + 1], cam[RIG_NAME_MAX + 1];
    if (rig_live_topic_parse(topic, node, sizeof node, cam, sizeof cam)) {
        got_frame(g, node, cam, payload, len);
        return;
    }
    const char *what = rig_topic_parse(topic, node, sizeof node);
    if (what == NULL) return;
    if (strcmp(what, "status") == 0) got_status(g, node, payload, len);
    else if (strcmp(what, "reply") == 0) got_reply(g, node, payload, len);
    else if (strcmp(what, "event") == 0) got_event(g, node, payload, len);
}

static void on_connect(void *ctx, int rc, const char *why)
{
    rig *g = ctx;
    if (rc < 0) { /* (and it tries again every 2 s) */
        LOG_ERROR("rig", "cannot use the broker %s:%d: %s", g->o.broker_host, g->o.broker_port, why);
        return;
    }
    if (rc != 0) {
        LOG_ERROR("rig", "the broker %s:%d refused the studio: %s (check --broker-user and --broker-password-file)",
                  g->o.broker_host, g->o.broker_port, why);
        return;
    }
    LOG_INFO("rig", "joined the broker %s:%d", g->o.broker_host, g->o.broker_port);
    rig_mqtt_subscribe(g->mqtt, RIG_TOPIC_NODES "+/status", 1);
    rig_mqtt_subscribe(g->mqtt, RIG_TOPIC_NODES "+/reply", 1);
    rig_mqtt_subscribe(g->mqtt, RIG_TOPIC_NODES "+/event", 1);
    rig_mqtt_subscribe(g->mqtt, RIG_TOPIC_NODES "+/live/+", 0);
    rig_mqtt_publish(g->mqtt, RIG_TOPIC_STUDIO, g->online_text, 1, true);
}

/* ---- life cycle ---- */

static void *lease_main(void *arg);

bool rig_start(studio *s, const rig_studio_options *o, char *why, size_t whysz)
{
    rig *g = calloc(1, sizeof *g);
    if (g == NULL) {
        snprintf(why, whysz, "out of memory");
        return false;
    }
    g->s = s;
    g->o = *o;
    snprintf(g->url, sizeof g->url, "%s", o->url);
    g->o.url = g->url;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    pthread_mutex_init(&g->leases_lock, NULL);
    pthread_cond_init(&g->leases_cond, NULL);
    g->online_text = rig_studio_build(true, g->url);
    char *offline = rig_studio_build(false, NULL);
    rig_mqtt_options mo = {.host = o->broker_host, .port = o->broker_port, .tls = o->tls, .ca_file = o->ca_file,
                           .client_id = "tether-studio",
                           .clean_session = false, .user = o->user, .password = o->password,
                           .will_topic = RIG_TOPIC_STUDIO, .will_payload = offline ? offline : "",
                           .on_connect = on_connect, .on_message = on_message, .ctx = g};
    g->mqtt = rig_mqtt_new(&mo, why, whysz);
    free(offline);
    s->rig = g; /* before the first message can arrive */
    if (g->mqtt == NULL || !rig_mqtt_connect(g->mqtt, why, whysz)) {
        rig_mqtt_stop(g->mqtt, NULL, NULL);
        s->rig = NULL;
        free(g->online_text);
        free(g);
        return false;
    }
    g->leases_started = pthread_create(&g->leases, NULL, lease_main, g) == 0;
    return true;
}

void rig_stop(studio *s)
{
    rig *g = s->rig;
    if (g == NULL) return;
    pthread_mutex_lock(&g->leases_lock);
    g->leases_stop = true;
    pthread_cond_signal(&g->leases_cond);
    pthread_mutex_unlock(&g->leases_lock);
    if (g->leases_started) pthread_join(g->leases, NULL);
    char *offline = rig_studio_build(false, NULL);
    rig_mqtt_stop(g->mqtt, RIG_TOPIC_STUDIO, offline ? offline : "");
    free(offline);
    s->rig = NULL;
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->leases_cond);
    pthread_mutex_destroy(&g->leases_lock);
    free(g->online_text);
    free(g);
}

/* ---- requests ---- */

void rig_shot_id(studio *s, char *out, size_t size)
{
    static _Atomic unsigned seq;
    (void)s;
    int64_t now = clock_real_ns();
    time_t t = (time_t)(now / 1000000000LL);
    struct tm tm;
    localtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, size, "%s-%03d-%u", stamp, (int)(now / 1000000 % 1000), ++seq);
}

/* Files p among the pending (lock held); false when full. */
static bool add_pending(rig *g, pending *p)
{
    snprintf(p->req, sizeof p->req, "r%u-%lld", ++g->seq, (long long)(clock_real_ns() / 1000));
    for (int i = 0; i < MAX_PENDING; i++)
        if (g->pending[i] == NULL) {
            g->pending[i] = p;
            return true;
        }
    return false;
}

static void drop_pending(rig *g, pending *p)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (g->pending[i] == p) g->pending[i] = NULL;
}

/* Sends c to node (req filled from p). */
static bool send_cmd(rig *g, const char *node, rig_cmd *c)
{
    char topic[128];
    rig_topic(topic, sizeof topic, node, "cmd");
    char *text = rig_cmd_build(c);
    bool ok = text && rig_mqtt_publish(g->mqtt, topic, text, 1, false) == 0;
    free(text);
    return ok;
}

/* A fire's pending request: allocated in rig_fire_send, freed in rig_fire_wait. */
struct rig_fire {
    pending p;
};

rig_fire *rig_fire_send(studio *s, rig_fire_job *jobs, int n, const char *shot, int64_t fire_at_ns)
{
    rig *g = s->rig;
    if (g == NULL || n == 0) {
        for (int i = 0; i < n; i++) {
            jobs[i].answered = true;
            snprintf(jobs[i].code, sizeof jobs[i].code, "no_broker");
            snprintf(jobs[i].message, sizeof jobs[i].message, "the studio has no broker");
        }
        return NULL;
    }
    rig_fire *f = calloc(1, sizeof *f);
    pthread_mutex_lock(&g->lock);
    bool filed = f && add_pending(g, &f->p);
    if (filed) {
        f->p.jobs = jobs;
        f->p.n = n;
    }
    pthread_mutex_unlock(&g->lock);
    if (!filed) {
        free(f);
        for (int i = 0; i < n; i++) {
            jobs[i].answered = true;
            snprintf(jobs[i].code, sizeof jobs[i].code, "busy");
            snprintf(jobs[i].message, sizeof jobs[i].message, "too many requests to the nodes at once");
        }
        return NULL;
    }
    /* one command per node, naming its cameras */
    bool sent[STUDIO_MAX_CAMERAS] = {false};
    for (int i = 0; i < n; i++) {
        if (sent[i]) continue;
        rig_cmd c = {.op = RIG_OP_FIRE, .fire_at_ns = fire_at_ns};
        snprintf(c.req, sizeof c.req, "%s", f->p.req);
        snprintf(c.shot, sizeof c.shot, "%s", shot);
        for (int k = i; k < n; k++)
            if (!sent[k] && strcmp(jobs[k].st->node, jobs[i].st->node) == 0 && c.n_cameras < RIG_MAX_CAMERAS) {
                snprintf(c.cameras[c.n_cameras++], sizeof c.cameras[0], "%s", jobs[k].st->remote_id);
                sent[k] = true;
            }
        if (!send_cmd(g, jobs[i].st->node, &c)) {
            pthread_mutex_lock(&g->lock);
            for (int k = i; k < n; k++)
                if (strcmp(jobs[k].st->node, jobs[i].st->node) == 0 && !jobs[k].answered) {
                    jobs[k].answered = true;
                    snprintf(jobs[k].code, sizeof jobs[k].code, "no_broker");
                    snprintf(jobs[k].message, sizeof jobs[k].message, "the broker is away: nothing was sent to node %s",
                             jobs[k].st->node);
                }
            pthread_mutex_unlock(&g->lock);
        }
    }
    return f;
}

void rig_fire_wait(studio *s, rig_fire *f, rig_fire_job *jobs, int n, int64_t deadline_ns)
{
    rig *g = s->rig;
    if (g == NULL || f == NULL) return;
    struct timespec ts = clock_timespec(deadline_ns);
    pthread_mutex_lock(&g->lock);
    for (;;) {
        bool all = true;
        for (int i = 0; i < n && all; i++) all = jobs[i].answered;
        if (all || s->stopping || pthread_cond_timedwait(&g->cond, &g->lock, &ts) != 0) break;
    }
    for (int i = 0; i < n; i++)
        if (!jobs[i].answered) {
            snprintf(jobs[i].code, sizeof jobs[i].code, "no_answer");
            snprintf(jobs[i].message, sizeof jobs[i].message,
                     "node %s did not answer in time (its photo, if it fired, still arrives)", jobs[i].st->node);
        }
    drop_pending(g, &f->p);
    pthread_mutex_unlock(&g->lock);
    free(f);
}

/* Sends a get or set to st's node and waits for the answer.  TETHER_OK
 * with *out filled, or TETHER_ERR_TIMEOUT / TETHER_ERR_DISCONNECTED. */
static int ask(station *st, rig_cmd *c, rig_reply *out)
{
    rig *g = st->s->rig;
    if (g == NULL) return TETHER_ERR_DISCONNECTED;
    pending p = {.single = out};
    pthread_mutex_lock(&g->lock);
    bool filed = add_pending(g, &p);
    pthread_mutex_unlock(&g->lock);
    if (!filed) return TETHER_ERR_BUSY;
    snprintf(c->req, sizeof c->req, "%s", p.req);
    c->n_cameras = 1;
    snprintf(c->cameras[0], sizeof c->cameras[0], "%s", st->remote_id);
    bool sent = send_cmd(g, st->node, c);
    int64_t deadline = clock_real_ns() + (int64_t)ANSWER_WAIT_MS * 1000000;
    struct timespec ts = clock_timespec(deadline);
    pthread_mutex_lock(&g->lock);
    while (sent && !p.single_done && !st->s->stopping && pthread_cond_timedwait(&g->cond, &g->lock, &ts) == 0) {}
    drop_pending(g, &p);
    pthread_mutex_unlock(&g->lock);
    if (!sent) return TETHER_ERR_DISCONNECTED;
    return p.single_done ? TETHER_OK : TETHER_ERR_TIMEOUT;
}

/* ---- live view on lease ---- */

/* Asks st's node for its camera's frames for lease_ms from now (0: no
 * more).  Fire and forget: the frames, or their absence, are the answer. */
static void send_lease(rig *g, station *st, int lease_ms)
{
    rig_cmd c = {.op = RIG_OP_LIVE, .lease_ms = lease_ms, .n_cameras = 1};
    pthread_mutex_lock(&g->lock);
    snprintf(c.req, sizeof c.req, "live-%u", ++g->seq);
    pthread_mutex_unlock(&g->lock);
    snprintf(c.cameras[0], sizeof c.cameras[0], "%s", st->remote_id);
    if (!send_cmd(g, st->node, &c)) LOG_DEBUG("rig", "no live-view lease for %s: the broker is away", st->origin.id);
}

void rig_live_subscribe(station *st)
{
    rig *g = st->s->rig;
    int64_t now = clock_mono_ns();
    pthread_mutex_lock(&st->lock);
    bool first = st->live_viewers++ == 0;
    if (first) st->live_since_ns = st->live_lease_ns = now;
    pthread_mutex_unlock(&st->lock);
    if (first && g) send_lease(g, st, LIVE_LEASE_MS);
}

void rig_live_unsubscribe(station *st)
{
    rig *g = st->s->rig;
    pthread_mutex_lock(&st->lock);
    bool last = --st->live_viewers == 0;
    if (last) st->live_lease_ns = 0;
    pthread_mutex_unlock(&st->lock);
    if (last && g) send_lease(g, st, 0);
}

int rig_live_next(station *st, uint64_t *seq, int timeout_ms, blob **out, int64_t *at_ns)
{
    *out = NULL;
    int64_t deadline = clock_real_ns() + (int64_t)timeout_ms * 1000000;
    struct timespec ts = clock_timespec(deadline);
    int rc;
    pthread_mutex_lock(&st->lock);
    for (;;) {
        if (st->s->stopping || st->stopping) {
            rc = TETHER_ERR_CLOSED;
            break;
        }
        if (st->live_frame && st->live_seq > *seq) {
            *out = blob_ref(st->live_frame);
            *seq = st->live_seq;
            if (at_ns) *at_ns = st->live_at_ns;
            rc = TETHER_OK;
            break;
        }
        int64_t last = st->live_at_ns > st->live_since_ns ? st->live_at_ns : st->live_since_ns;
        if (!st->remote_connected ||
            (st->live_viewers > 0 && clock_mono_ns() - last > (int64_t)LIVE_STALE_MS * 1000000)) {
            rc = TETHER_ERR_DISCONNECTED;
            break;
        }
        if (timeout_ms <= 0 || pthread_cond_timedwait(&st->live_cond, &st->lock, &ts) != 0) {
            rc = TETHER_ERR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* Renews the leases of the remote cameras someone watches. */
static void *lease_main(void *arg)
{
    rig *g = arg;
    log_set_thread_name("rig-leases");
    pthread_mutex_lock(&g->leases_lock);
    while (!g->leases_stop) {
        pthread_mutex_unlock(&g->leases_lock);
        station *list[STUDIO_MAX_CAMERAS];
        int n = station_list(g->s, list, STUDIO_MAX_CAMERAS);
        int64_t now = clock_mono_ns();
        for (int i = 0; i < n; i++) {
            station *st = list[i];
            bool renew = false;
            if (st->remote) {
                pthread_mutex_lock(&st->lock);
                renew = st->live_viewers > 0 && now - st->live_lease_ns >= (int64_t)LIVE_RENEW_MS * 1000000;
                if (renew) st->live_lease_ns = now;
                pthread_mutex_unlock(&st->lock);
            }
            if (renew) send_lease(g, st, LIVE_LEASE_MS);
            station_unref(st);
        }
        int64_t wake = clock_real_ns() + 250000000;
        struct timespec ts = clock_timespec(wake);
        pthread_mutex_lock(&g->leases_lock);
        if (!g->leases_stop) pthread_cond_timedwait(&g->leases_cond, &g->leases_lock, &ts);
    }
    pthread_mutex_unlock(&g->leases_lock);
    return NULL;
}

/* ---- what the API shows ---- */

static json_t *node_json(const rig_node *n)
{
    const rig_status *st = &n->status;
    json_t *cams = json_array();
    for (int i = 0; i < st->n_cameras; i++)
        json_array_append_new(cams, json_pack("{s:s, s:s, s:b}", "id", st->cameras[i].id, "model", st->cameras[i].model,
                                              "connected", st->cameras[i].connected));
    json_t *clock = json_pack("{s:s, s:s, s:s}", "state", st->clock_state[0] ? st->clock_state : "unknown", "source",
                              st->clock_source, "detail", st->clock_detail);
    json_object_set_new(clock, "offset_ms", isfinite(st->clock_offset_ms) ? json_real(st->clock_offset_ms) : json_null());
    return json_pack("{s:s, s:b, s:o, s:o, s:i, s:I}", "node", st->node, "online", st->online, "cameras", cams, "clock",
                     clock, "outbox", st->outbox, "seen_ns", (json_int_t)n->seen_ns);
}

json_t *rig_nodes_json(studio *s)
{
    rig *g = s->rig;
    json_t *nodes = json_array();
    if (g) {
        pthread_mutex_lock(&g->lock);
        for (int i = 0; i < g->n_nodes; i++) json_array_append_new(nodes, node_json(&g->nodes[i]));
        pthread_mutex_unlock(&g->lock);
    }
    return json_pack("{s:b, s:b, s:o}", "enabled", g != NULL, "broker_connected", g && rig_mqtt_connected(g->mqtt),
                     "nodes", nodes);
}

void rig_counts(studio *s, int *online, int *known)
{
    rig *g = s->rig;
    *online = *known = 0;
    if (g == NULL) return;
    pthread_mutex_lock(&g->lock);
    *known = g->n_nodes;
    for (int i = 0; i < g->n_nodes; i++) *online += g->nodes[i].status.online;
    pthread_mutex_unlock(&g->lock);
}

json_t *rig_station_json(station *st)
{
    studio *s = st->s;
    pthread_mutex_lock(&s->stations_lock);
    bool primary = s->n_stations > 0 && s->stations[0] == st;
    pthread_mutex_unlock(&s->stations_lock);
    json_t *node = json_null();
    rig *g = s->rig;
    if (g) {
        pthread_mutex_lock(&g->lock);
        rig_node *n = node_slot(g, st->node, false);
        if (n) node = node_json(n);
        pthread_mutex_unlock(&g->lock);
    }
    pthread_mutex_lock(&st->lock);
    int clients = st->stream_clients;
    uint64_t frames = st->frames_sent;
    pthread_mutex_unlock(&st->lock);
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:{s:i, s:I}, s:n, s:{s:s, s:s, s:o}}", "id",
                     st->origin.id, "model", st->origin.model, "identity", st->origin.identity, "spec", st->spec,
                     "connected", (bool)st->remote_connected, "primary", primary, "simulated", false, "last_error", "",
                     "stream", "clients", clients, "frames_sent", (json_int_t)frames, "capabilities", "remote", "node",
                     st->node, "camera", st->remote_id, "status", node);
}

/* POST /capture on a remote camera: fired at once, answered when the
 * node says it fired (the photo follows over HTTP). */
static enum MHD_Result capture_remote(station *st, const http_request *r)
{
    rig_fire_job job = {.st = st};
    char shot[RIG_SHOT_MAX + 1];
    rig_shot_id(st->s, shot, sizeof shot);
    rig_fire *f = rig_fire_send(st->s, &job, 1, shot, 0);
    rig_fire_wait(st->s, f, &job, 1, clock_real_ns() + (int64_t)ANSWER_WAIT_MS * 1000000);
    if (!job.ok)
        return http_error(r, strcmp(job.code, "no_answer") == 0 ? 504 : 502, job.code[0] ? job.code : "camera_error",
                          "capture on node %s: %s", st->node, job.message);
    json_t *pending_files = json_array();
    for (int i = 0; i < job.n_files; i++) json_array_append_new(pending_files, json_string(job.files[i]));
    return http_json(r, 201, json_pack("{s:[], s:s, s:I, s:o}", "photos", "shot", shot, "trigger_ns",
                                       (json_int_t)job.fired_ns, "pending", pending_files));
}

static enum MHD_Result settings_remote(station *st, const http_request *r)
{
    rig_cmd c = {.op = RIG_OP_GET};
    json_t *body = NULL;
    if (http_is(r, "GET") || http_is(r, "HEAD")) {
        const char *name = http_query(r, "name");
        if (name == NULL || strlen(name) >= sizeof c.setting)
            return http_error(r, 400, "bad_request", "a remote camera's settings are read one by one: ?name=iso");
        snprintf(c.setting, sizeof c.setting, "%s", name);
    } else {
        enum MHD_Result answered;
        body = http_json_body(r, &answered);
        if (body == NULL) return answered;
        const char *name = json_string_value(json_object_get(body, "name"));
        if (name == NULL) name = json_string_value(json_object_get(body, "path")); /* as the studio page sends it */
        const char *value = json_string_value(json_object_get(body, "value"));
        if (name == NULL || value == NULL || strlen(name) >= sizeof c.setting || strlen(value) >= sizeof c.value) {
            json_decref(body);
            return http_error(r, 400, "bad_request", "expected {\"name\": \"iso\", \"value\": \"400\"}");
        }
        c.op = RIG_OP_SET;
        snprintf(c.setting, sizeof c.setting, "%s", name);
        snprintf(c.value, sizeof c.value, "%s", value);
        json_decref(body);
    }
    rig_reply ans = {0};
    int rc = ask(st, &c, &ans);
    enum MHD_Result ret;
    if (rc == TETHER_ERR_TIMEOUT) ret = http_error(r, 504, "no_answer", "node %s did not answer", st->node);
    else if (rc != TETHER_OK) ret = http_error(r, 502, "node_unreachable", "node %s cannot be reached: the broker is away", st->node);
    else if (!ans.ok && strcmp(ans.code, "not_found") == 0) ret = http_error(r, 404, ans.code, "%s", ans.message);
    else if (!ans.ok && strcmp(ans.code, "bad_value") == 0) ret = http_error(r, 400, ans.code, "%s", ans.message);
    else if (!ans.ok) ret = http_error(r, 502, ans.code, "%s", ans.message);
    else ret = http_json(r, 200, json_incref(ans.setting));
    rig_reply_clear(&ans);
    return ret;
}

enum MHD_Result rig_station_route(station *st, const http_request *r, const char *rest)
{
    bool get = http_is(r, "GET") || http_is(r, "HEAD");
    if (strcmp(rest, "/status") == 0)
        return get ? http_json(r, 200, rig_station_json(st)) : http_error(r, 405, "method_not_allowed", "use GET");
    if (strcmp(rest, "/stream.mjpg") == 0) /* on the event loop: never waits */
        return get ? stream_mjpeg(st, r) : http_error(r, 405, "method_not_allowed", "%s only answers GET", r->url);
    if (strcmp(rest, "/capture") != 0 && strcmp(rest, "/settings") != 0 && strcmp(rest, "/snapshot.jpg") != 0)
        return http_error(r, 409, "remote_camera",
                          "camera %s is on node %s: it takes /status, /capture, /settings, /stream.mjpg and "
                          "/snapshot.jpg here (and capture-all)",
                          st->origin.id, st->node);
    if (!station_enter(st)) return station_busy_error(st, r);
    enum MHD_Result ret;
    if (strcmp(rest, "/snapshot.jpg") == 0)
        ret = get ? stream_snapshot(st, r) : http_error(r, 405, "method_not_allowed", "%s only answers GET", r->url);
    else if (strcmp(rest, "/capture") == 0)
        ret = http_is(r, "POST") ? capture_remote(st, r) : http_error(r, 405, "method_not_allowed", "use POST");
    else
        ret = settings_remote(st, r);
    station_leave(st);
    return ret;
}
