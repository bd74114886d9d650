/*
 * server: see server.h.
 *
 * Connection set-up (CIPA DC-005 §2.3): a host sends Init_Command_Request
 * on a first TCP connection; we answer Init_Command_Ack with a connection
 * number; the host opens a second connection and sends Init_Event_Request
 * with that number; we answer Init_Event_Ack.  Both arrive on the same
 * listening socket, told apart by the first packet.  A command connection
 * while a session is active gets Init_Fail(busy): one host at a time, as
 * a real camera.
 *
 * Handshakes are handled concurrently by the accept loop: every new
 * connection waits, non-blocking, in a table of at most MAX_PENDING until
 * its first packet is whole (then it becomes a session's command or event
 * connection, or is refused) or HANDSHAKE_DEADLINE_S passes (then it is
 * closed).  When the table is full the oldest waiting connection is
 * dropped, so idle or half-open connections never delay a real host,
 * which sends its first packet at once.
 *
 * Each session thread reads packets with two deadlines: none while idle
 * (a host may wait as long as it likes between operations), but a packet
 * that has begun must complete within PACKET_DEADLINE_S, so a truncated
 * packet cannot hang the camera.  Writes have a send timeout for the same
 * reason.  The TCP_NODELAY option matters: without it Nagle and delayed
 * ACKs add ~40 ms to every data phase.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rng.h"
#include "ptp.h"
#include "wire.h"

#define PACKET_DEADLINE_S 5.0
#define HANDSHAKE_DEADLINE_S 2.5
#define MAX_PENDING 16            /* connections waiting for their first packet */
#define HANDSHAKE_MAX 4096        /* an Init packet is far smaller */
#define EVENT_CONN_DEADLINE_S 5.0
#define MAX_DATA_OUT (1u << 20)
#define CHUNK (64u * 1024u)

typedef struct session {
    struct simsrv *srv;
    int cmd_fd;
    int evt_fd;
    uint32_t conn;
    pthread_t thread;
    bool thread_started;
    bool done;                  /* thread finished; may be joined */
    pthread_mutex_t evt_lock;   /* evt_fd; and closing cmd_fd against another thread shutting it down */
    double next_send;           /* rate limit: when the link is free again */
    bytebuf in;                 /* packet being read */
    bytebuf data_out;           /* host's data phase */
    bytebuf out;                /* reply being written */
    uint8_t *chunk;
} session;

/* A connection waiting for its first packet (accept loop only). */
typedef struct pending {
    int fd;
    double deadline;
    bytebuf in;
} pending;

struct simsrv {
    simcam *cam;
    char host[64];
    int port;
    int listen_fd;
    int wake[2];
    _Atomic int stopping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    session *active;
    bool plugged;
    simsrv_faults faults;
    long ops_since_arm;
    double armed_at;
    uint32_t next_conn;
    uint64_t refused, drops, busy_answers, sessions, bad_packets;
    rng busy_rng;
    uint8_t guid[16];
    pending pend[MAX_PENDING];  /* accept loop only */
    int npend;
};

/* ---- sockets ---------------------------------------------------------------- */

static int listen_on(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        LOG_ERROR("sim", "not an IPv4 address: %s", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) {
        LOG_ERROR("sim", "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads exactly n bytes.  deadline < 0: wait forever for the first byte
 * (then PACKET_DEADLINE_S for the rest); otherwise an absolute monotonic
 * deadline.  `idle_check` is polled every 200 ms while idle; returning
 * true aborts.  Returns 0, or -1 on EOF, error, timeout or abort. */
static int read_exact(int fd, uint8_t *buf, size_t n, double deadline,
                      bool (*idle_check)(void *), void *ctx)
{
    size_t got = 0;
    while (got < n) {
        int timeout_ms = 200;
        if (deadline >= 0) {
            double left = deadline - clock_mono_s();
            if (left <= 0) return -1;
            timeout_ms = left < 0.2 ? (int)(left * 1000) + 1 : 200;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) {
            if (idle_check && idle_check(ctx)) return -1;
            continue;
        }
        ssize_t k = recv(fd, buf + got, n - got, 0);
        if (k <= 0) {
            if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            return -1;
        }
        /* ACK at once: libgphoto2 writes a request and its data phase as
         * separate small packets without TCP_NODELAY, so Nagle holds the
         * second until our ACK; a delayed ACK would cost 40 ms per
         * SetDevicePropValue.  Linux clears QUICKACK after use. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        got += (size_t)k;
        if (deadline < 0) deadline = clock_mono_s() + PACKET_DEADLINE_S;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

static void tune_socket(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Reads one whole packet into b and parses it.  Returns the packet length;
 * -1 if the connection ended (EOF, error, idle abort, no packet before the
 * deadline); -2 if what arrived is not a valid packet (bad length, bad
 * layout, or a packet left unfinished past the deadline). */
static long read_packet(int fd, bytebuf *b, ptpip_packet *pkt, double deadline,
                        bool (*idle_check)(void *), void *ctx)
{
    bytebuf_reset(b);
    uint8_t *h = bytebuf_extend(b, 8);
    if (h == NULL || read_exact(fd, h, 8, deadline, idle_check, ctx) != 0) return -1;
    uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    if (len < 8 || len > PTPIP_MAX_PACKET) {
        LOG_WARN("sim", "malformed packet length %u: closing the connection", len);
        return -2;
    }
    uint8_t *rest = bytebuf_extend(b, len - 8);
    if (rest == NULL) return -1;
    double dl = deadline >= 0 ? deadline : clock_mono_s() + PACKET_DEADLINE_S;
    if (len > 8 && read_exact(fd, b->data + 8, len - 8, dl, NULL, NULL) != 0) {
        LOG_WARN("sim", "packet of %u bytes left unfinished: closing the connection", len);
        return -2;
    }
    long r = ptpip_parse(b->data, b->len, pkt);
    return r > 0 ? r : -2;
}

static void count_bad(simsrv *s)
{
    pthread_mutex_lock(&s->lock);
    s->bad_packets++;
    pthread_mutex_unlock(&s->lock);
}

/* ---- sessions --------------------------------------------------------------------- */

static void on_event(void *ctx, uint16_t code, uint32_t tid, const uint32_t *params, int n)
{
    session *ss = ctx;
    bytebuf b = BYTEBUF_INIT;
    ptpip_put_event(&b, code, tid, params, n);
    pthread_mutex_lock(&ss->evt_lock);
    if (ss->evt_fd >= 0 && bytebuf_ok(&b)) write_all(ss->evt_fd, b.data, b.len);
    pthread_mutex_unlock(&ss->evt_lock);
    bytebuf_free(&b);
}

static bool session_idle_check(void *ctx)
{
    session *ss = ctx;
    simsrv *s = ss->srv;
    bool abort = false;
    pthread_mutex_lock(&s->lock);
    if (s->stopping || !s->plugged) abort = true;
    if (s->faults.drop_after_s > 0 && clock_mono_s() - s->armed_at >= s->faults.drop_after_s) {
        s->faults.drop_after_s = 0;
        s->drops++;
        LOG_INFO("sim", "fault: dropping the link (time)");
        abort = true;
    }
    pthread_mutex_unlock(&s->lock);
    return abort;
}

/* Waits while the camera is frozen.  Returns false if the session must end. */
static bool wait_while_frozen(session *ss)
{
    simsrv *s = ss->srv;
    pthread_mutex_lock(&s->lock);
    while (s->faults.frozen && !s->stopping && s->plugged) {
        pthread_mutex_unlock(&s->lock);
        struct pollfd p = {.fd = ss->cmd_fd, .events = POLLRDHUP};
        if (poll(&p, 1, 100) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return false;
        pthread_mutex_lock(&s->lock);
    }
    bool ok = !s->stopping && s->plugged;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static void throttle(session *ss, size_t bytes)
{
    simsrv *s = ss->srv;
    pthread_mutex_lock(&s->lock);
    double rate = s->faults.rate_limit_mbps * 1e6;
    pthread_mutex_unlock(&s->lock);
    if (rate <= 0) return;
    double t = clock_mono_s();
    if (ss->next_send < t) ss->next_send = t;
    ss->next_send += (double)bytes / rate;
    double wait = ss->next_send - t - 0.002;
    if (wait > 0) clock_sleep_ns((int64_t)(wait * 1e9));
}

static int send_buf(session *ss, const uint8_t *data, size_t n)
{
    throttle(ss, n);
    return write_all(ss->cmd_fd, data, n);
}

/* Reads the host's data phase (Start_Data, then Data/End_Data up to the
 * announced length) into ss->data_out.  Returns 0, 1 if it was too large
 * (consumed and discarded), -1 if the connection ended, -2 on a protocol
 * violation (the connection is then unusable too). */
static int read_data_out(session *ss, uint32_t tid)
{
    ptpip_packet pkt;
    bytebuf_reset(&ss->data_out);
    double dl = clock_mono_s() + PACKET_DEADLINE_S;
    long r = read_packet(ss->cmd_fd, &ss->in, &pkt, dl, NULL, NULL);
    if (r < 0) return r == -1 ? -1 : -2;
    if (pkt.type != PTPIP_START_DATA || pkt.tid != tid) return -2;
    uint64_t total = pkt.total_length, got = 0;
    bool too_big = total > MAX_DATA_OUT;
    while (got < total) {
        dl = clock_mono_s() + PACKET_DEADLINE_S;
        r = read_packet(ss->cmd_fd, &ss->in, &pkt, dl, NULL, NULL);
        if (r < 0) return r == -1 ? -1 : -2;
        if ((pkt.type != PTPIP_DATA && pkt.type != PTPIP_END_DATA) || pkt.tid != tid) return -2;
        got += pkt.payload_len;
        if (!too_big) bytebuf_put(&ss->data_out, pkt.payload, pkt.payload_len);
        if (pkt.type == PTPIP_END_DATA) break;
    }
    if (got > total || ss->data_out.len > MAX_DATA_OUT) too_big = true;
    return too_big ? 1 : 0;
}

static int send_reply(session *ss, uint32_t tid, simcam_reply *rp)
{
    bytebuf *o = &ss->out;
    bytebuf_reset(o);
    if (rp->data_in) {
        bool from_content = rp->content.head || rp->content.body || rp->content.tail_len;
        uint64_t total = from_content ? rp->content_len : rp->data.len;
        ptpip_put_start_data(o, tid, total);
        if (!from_content && total <= CHUNK) {
            /* small: Start_Data, End_Data and the response in one write */
            ptpip_put_data_header(o, PTPIP_END_DATA, tid, rp->data.len);
            bytebuf_put(o, rp->data.data, rp->data.len);
        } else {
            if (send_buf(ss, o->data, o->len) != 0) return -1;
            bytebuf_reset(o);
            uint64_t sent = 0;
            do {
                size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
                bool last = sent + n >= total;
                bytebuf_reset(o);
                ptpip_put_data_header(o, last ? PTPIP_END_DATA : PTPIP_DATA, tid, n);
                uint8_t *dst = bytebuf_extend(o, n);
                if (dst == NULL) return -1;
                if (from_content) card_content_read(&rp->content, rp->content_off + sent, dst, n);
                else memcpy(dst, rp->data.data + sent, n);
                sent += n;
                if (!last && send_buf(ss, o->data, o->len) != 0) return -1;
            } while (sent < total);
        }
    }
    ptpip_put_response(o, rp->code, tid, rp->params, rp->nparams);
    if (!bytebuf_ok(o)) return -1;
    return send_buf(ss, o->data, o->len);
}

/* Applies the fault rules to one incoming operation.  Returns 0 to serve
 * it, 1 to answer Device Busy, -1 to drop the link. */
static int apply_faults(simsrv *s, uint16_t opcode)
{
    int verdict = 0;
    pthread_mutex_lock(&s->lock);
    s->ops_since_arm++;
    simsrv_faults *f = &s->faults;
    if (f->drop_after_ops > 0 && s->ops_since_arm >= f->drop_after_ops) {
        f->drop_after_ops = 0;
        s->drops++;
        LOG_INFO("sim", "fault: dropping the link (operations)");
        verdict = -1;
    } else if (f->freeze_after_ops > 0 && s->ops_since_arm >= f->freeze_after_ops) {
        f->freeze_after_ops = 0;
        f->frozen = true;
        LOG_INFO("sim", "fault: freezing");
    } else if (f->busy_rate > 0 && opcode != PTP_OP_OpenSession && opcode != PTP_OP_CloseSession &&
               (f->busy_opcode <= 0 || opcode == f->busy_opcode) && rng_uniform(&s->busy_rng) < f->busy_rate) {
        s->busy_answers++;
        verdict = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return verdict;
}

/* Closes both connections; under evt_lock, which the threads that shut
 * them down (unplug, stop) hold too, so none shuts down a number closed
 * and given to another socket meanwhile. */
static void session_close_fds(session *ss)
{
    pthread_mutex_lock(&ss->evt_lock);
    if (ss->evt_fd >= 0) close(ss->evt_fd);
    ss->evt_fd = -1;
    if (ss->cmd_fd >= 0) close(ss->cmd_fd);
    ss->cmd_fd = -1;
    pthread_mutex_unlock(&ss->evt_lock);
}

static void *session_main(void *arg)
{
    session *ss = arg;
    simsrv *s = ss->srv;
    log_set_thread_name("sim-session");

    /* the host opens the event connection right after our ack */
    pthread_mutex_lock(&s->lock);
    double deadline = clock_mono_s() + EVENT_CONN_DEADLINE_S;
    while (ss->evt_fd < 0 && !s->stopping && s->plugged && clock_mono_s() < deadline) {
        pthread_mutex_unlock(&s->lock);
        clock_sleep_ns(5000000);
        pthread_mutex_lock(&s->lock);
    }
    bool ready = ss->evt_fd >= 0 && !s->stopping && s->plugged;
    pthread_mutex_unlock(&s->lock);

    if (ready) {
        simcam_attach(s->cam, on_event, ss);
        simcam_set_link(s->cam, true, true);
        simcam_reply rp;
        simcam_reply_init(&rp);
        ptpip_packet pkt;
        for (;;) {
            long n = read_packet(ss->cmd_fd, &ss->in, &pkt, -1, session_idle_check, ss);
            if (n < 0) {
                if (n == -2) count_bad(s);
                break;
            }
            if (pkt.type != PTPIP_CMD_REQUEST) {
                /* Cancel, Ping or anything unexpected: skipped, as the
                 * stream stays in sync (the length was valid). */
                LOG_INFO("sim", "skipping packet type %u on the command connection", pkt.type);
                continue;
            }
            simcam_request rq = {.opcode = pkt.opcode, .tid = pkt.tid, .nparams = pkt.nparams};
            memcpy(rq.params, pkt.params, sizeof rq.params);
            int data = 0;
            if (pkt.dataphase == 2) {
                data = read_data_out(ss, pkt.tid);
                if (data == -2) {
                    LOG_WARN("sim", "malformed data phase: closing the connection");
                    count_bad(s);
                }
                if (data < 0) break;
                rq.has_data = true;
                rq.data = ss->data_out.data;
                rq.data_len = ss->data_out.len;
            }
            int verdict = apply_faults(s, pkt.opcode);
            if (verdict < 0) break;
            if (!wait_while_frozen(ss)) break;
            simcam_reply_clear(&rp);
            if (verdict == 1) {
                rp.code = PTP_RC_DeviceBusy;
            } else if (data == 1) {
                rp.code = PTP_RC_GeneralError; /* a data phase larger than any we accept */
            } else {
                simcam_handle(s->cam, &rq, &rp);
            }
            LOG_DEBUG("sim", "op 0x%04x tid %u -> 0x%04x", pkt.opcode, pkt.tid, rp.code);
            if (send_reply(ss, pkt.tid, &rp) != 0) break;
        }
        simcam_reply_clear(&rp);
        bytebuf_free(&rp.data);
        simcam_detach(s->cam);
    }
    session_close_fds(ss);
    pthread_mutex_lock(&s->lock);
    ss->done = true;
    simcam_set_link(s->cam, false, s->plugged);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    LOG_INFO("sim", "session %u ended", ss->conn);
    return NULL;
}

static void session_free(session *ss)
{
    if (ss->thread_started) pthread_join(ss->thread, NULL);
    session_close_fds(ss);
    bytebuf_free(&ss->in);
    bytebuf_free(&ss->data_out);
    bytebuf_free(&ss->out);
    pthread_mutex_destroy(&ss->evt_lock);
    free(ss);
}

/* Joins the active session if it has finished.  Lock held. */
static void reap(simsrv *s)
{
    session *ss = s->active;
    if (ss && ss->done) {
        s->active = NULL;
        pthread_mutex_unlock(&s->lock);
        session_free(ss);
        pthread_mutex_lock(&s->lock);
    }
}

/* ---- accepting --------------------------------------------------------------------- */

static void send_and_close(int fd, bytebuf *b)
{
    if (bytebuf_ok(b)) write_all(fd, b->data, b->len);
    close(fd);
}

/* A connection's first packet, whole and parsed: it opens a session, joins
 * one as its event connection, or is refused.  fd is given away. */
static void handle_first_packet(simsrv *s, int fd, const ptpip_packet *p)
{
    bytebuf out = BYTEBUF_INIT;
    ptpip_packet pkt = *p;
    pthread_mutex_lock(&s->lock);
    reap(s);
    if (pkt.type == PTPIP_INIT_COMMAND_REQUEST) {
        if (s->active) {
            s->refused++;
            pthread_mutex_unlock(&s->lock);
            LOG_INFO("sim", "refusing a second host (%s): camera busy", pkt.name);
            ptpip_put_init_fail(&out, PTPIP_FAIL_BUSY);
            send_and_close(fd, &out);
            goto done;
        }
        session *ss = calloc(1, sizeof *ss);
        if (ss == NULL) {
            pthread_mutex_unlock(&s->lock);
            close(fd);
            goto done;
        }
        ss->srv = s;
        ss->cmd_fd = fd;
        ss->evt_fd = -1;
        ss->conn = ++s->next_conn;
        pthread_mutex_init(&ss->evt_lock, NULL);
        s->active = ss;
        s->sessions++;
        LOG_INFO("sim", "session %u: host \"%s\"", ss->conn, pkt.name);
        ptpip_put_init_command_ack(&out, ss->conn, s->guid, simcam_model(s->cam));
        if (!bytebuf_ok(&out) || write_all(fd, out.data, out.len) != 0 ||
            pthread_create(&ss->thread, NULL, session_main, ss) != 0) {
            ss->done = true;
        } else {
            ss->thread_started = true;
        }
        pthread_mutex_unlock(&s->lock);
    } else if (pkt.type == PTPIP_INIT_EVENT_REQUEST) {
        session *ss = s->active;
        if (ss && !ss->done && ss->evt_fd < 0 && ss->conn == pkt.conn_number) {
            ptpip_put_init_event_ack(&out);
            if (write_all(fd, out.data, out.len) == 0) {
                pthread_mutex_lock(&ss->evt_lock);
                ss->evt_fd = fd;
                pthread_mutex_unlock(&ss->evt_lock);
            } else {
                close(fd);
            }
            pthread_mutex_unlock(&s->lock);
        } else {
            pthread_mutex_unlock(&s->lock);
            LOG_INFO("sim", "event connection for unknown session %u refused", pkt.conn_number);
            ptpip_put_init_fail(&out, PTPIP_FAIL_REJECTED_INITIATOR);
            send_and_close(fd, &out);
        }
    } else {
        pthread_mutex_unlock(&s->lock);
        LOG_INFO("sim", "connection closed: first packet of type %u", pkt.type);
        count_bad(s);
        close(fd);
    }
done:
    bytebuf_free(&out);
}

static void pending_drop(simsrv *s, int i)
{
    close(s->pend[i].fd);
    bytebuf_free(&s->pend[i].in);
    s->pend[i] = s->pend[--s->npend];
}

/* A new connection waits for its first packet; a full table loses its
 * oldest. */
static void pending_add(simsrv *s, int fd)
{
    tune_socket(fd);
    if (s->npend == MAX_PENDING) {
        int oldest = 0;
        for (int i = 1; i < s->npend; i++)
            if (s->pend[i].deadline < s->pend[oldest].deadline) oldest = i;
        LOG_INFO("sim", "%d connections without a first packet: dropping the oldest", MAX_PENDING);
        pending_drop(s, oldest);
    }
    s->pend[s->npend++] = (pending){.fd = fd, .deadline = clock_mono_s() + HANDSHAKE_DEADLINE_S, .in = BYTEBUF_INIT};
}

/* Reads what waiting connection i has; hands a whole first packet on, and
 * closes a connection that ended, sent something invalid or ran out of
 * time.  Returns true if i left the table. */
static bool pending_step(simsrv *s, int i, bool readable)
{
    pending *p = &s->pend[i];
    if (readable) {
        uint8_t buf[1024];
        ssize_t k = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
            LOG_INFO("sim", "connection closed: no valid first packet");
            pending_drop(s, i);
            return true;
        }
        if (k > 0) bytebuf_put(&p->in, buf, (size_t)k);
        ptpip_packet pkt;
        long r = bytebuf_ok(&p->in) ? ptpip_parse(p->in.data, p->in.len, &pkt) : PTPIP_BAD_LENGTH;
        if (r == PTPIP_NEED_MORE && p->in.len > HANDSHAKE_MAX) r = PTPIP_BAD_LENGTH;
        if (r > 0) {
            int fd = p->fd;
            p->fd = -1;
            handle_first_packet(s, fd, &pkt); /* pkt may point into p->in: freed after */
            bytebuf_free(&p->in);
            s->pend[i] = s->pend[--s->npend];
            return true;
        }
        if (r < 0) {
            LOG_INFO("sim", "connection closed: invalid first packet");
            count_bad(s);
            pending_drop(s, i);
            return true;
        }
    }
    if (clock_mono_s() >= p->deadline) {
        LOG_INFO("sim", "connection closed: no first packet within %.1f s", HANDSHAKE_DEADLINE_S);
        if (p->in.len > 0) count_bad(s); /* an unfinished packet */
        pending_drop(s, i);
        return true;
    }
    return false;
}

simsrv *simsrv_new(simcam *cam, const char *host, int port, const simsrv_faults *faults,
                   uint64_t seed)
{
    simsrv *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->cam = cam;
    s->wake[0] = s->wake[1] = -1;
    snprintf(s->host, sizeof s->host, "%s", host);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->listen_fd = listen_on(host, port);
    if (s->listen_fd < 0 || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        simsrv_free(s);
        return NULL;
    }
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(s->listen_fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    s->plugged = true;
    if (faults) s->faults = *faults;
    s->armed_at = clock_mono_s();
    rng_seed(&s->busy_rng, rng_hash2(seed, 0xB05E));
    rng g;
    rng_seed(&g, rng_hash2(seed, 0x6D1D));
    for (int i = 0; i < 16; i++) s->guid[i] = (uint8_t)rng_next(&g);
    return s;
}

void simsrv_free(simsrv *s)
{
    if (s == NULL) return;
    pthread_mutex_lock(&s->lock);
    session *ss = s->active;
    s->active = NULL;
    s->stopping = 1;
    pthread_mutex_unlock(&s->lock);
    if (ss) {
        pthread_mutex_lock(&ss->evt_lock);
        if (ss->cmd_fd >= 0) shutdown(ss->cmd_fd, SHUT_RDWR);
        pthread_mutex_unlock(&ss->evt_lock);
        session_free(ss);
    }
    while (s->npend > 0) pending_drop(s, s->npend - 1);
    if (s->listen_fd >= 0) close(s->listen_fd);
    if (s->wake[0] >= 0) close(s->wake[0]);
    if (s->wake[1] >= 0) close(s->wake[1]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int simsrv_port(const simsrv *s)
{
    return s->port;
}

/* Wakes the accept loop (async-signal-safe). */
static void kick(simsrv *s)
{
    if (s->wake[1] >= 0) {
        ssize_t w = write(s->wake[1], "x", 1);
        (void)w;
    }
}

int simsrv_run(simsrv *s)
{
    while (!s->stopping) {
        pthread_mutex_lock(&s->lock);
        int lfd = s->listen_fd;
        pthread_mutex_unlock(&s->lock);
        struct pollfd p[2 + MAX_PENDING] = {{.fd = s->wake[0], .events = POLLIN}, {.fd = lfd, .events = POLLIN}};
        int npend = s->npend, timeout_ms = 200;
        double now = clock_mono_s();
        for (int i = 0; i < npend; i++) {
            p[2 + i] = (struct pollfd){.fd = s->pend[i].fd, .events = POLLIN};
            int left = (int)((s->pend[i].deadline - now) * 1000) + 1;
            if (left < timeout_ms) timeout_ms = left > 0 ? left : 0;
        }
        if (lfd < 0) p[1].fd = -1; /* poll skips it */
        int r = poll(p, (nfds_t)(2 + npend), timeout_ms);
        if (r < 0 && errno != EINTR) break;
        if (p[0].revents & POLLIN) {
            char b[16];
            while (read(s->wake[0], b, sizeof b) > 0) {
            }
        }
        /* backwards: a connection leaving the table takes the last one's place */
        for (int i = npend - 1; i >= 0; i--) pending_step(s, i, r > 0 && p[2 + i].revents != 0);
        if (lfd >= 0 && r > 0 && (p[1].revents & POLLIN)) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) pending_add(s, fd);
        }
        pthread_mutex_lock(&s->lock);
        if (!s->plugged && s->listen_fd >= 0) {
            close(s->listen_fd);
            s->listen_fd = -1;
        }
        while (!s->plugged && s->npend > 0) pending_drop(s, s->npend - 1); /* the cable is out */
        reap(s);
        pthread_mutex_unlock(&s->lock);
    }
    return 0;
}

void simsrv_stop(simsrv *s)
{
    s->stopping = 1;
    kick(s);
}

int simsrv_unplug(simsrv *s)
{
    pthread_mutex_lock(&s->lock);
    s->plugged = false;
    /* The accept loop owns the listening socket (closing it under a
     * poll() in another thread would keep the port bound): wake it; it
     * closes the socket and signals. */
    if (s->listen_fd >= 0) shutdown(s->listen_fd, SHUT_RDWR);
    session *ss = s->active;
    if (ss) {
        pthread_mutex_lock(&ss->evt_lock);
        if (ss->cmd_fd >= 0) shutdown(ss->cmd_fd, SHUT_RDWR);
        if (ss->evt_fd >= 0) shutdown(ss->evt_fd, SHUT_RDWR);
        pthread_mutex_unlock(&ss->evt_lock);
    }
    pthread_mutex_unlock(&s->lock);
    kick(s);
    simcam_set_link(s->cam, false, false);
    LOG_INFO("sim", "unplugged");
    return 0;
}

int simsrv_plug(simsrv *s)
{
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    if (!s->plugged) {
        /* wait for the accept loop to let go of the old socket */
        for (int i = 0; i < 100 && s->listen_fd >= 0 && !s->stopping; i++) {
            pthread_mutex_unlock(&s->lock);
            kick(s);
            clock_sleep_ns(20000000);
            pthread_mutex_lock(&s->lock);
        }
        if (s->listen_fd < 0) s->listen_fd = listen_on(s->host, s->port);
        rc = s->listen_fd >= 0 ? 0 : -1;
        s->plugged = rc == 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == 0) simcam_set_link(s->cam, false, true);
    kick(s);
    LOG_INFO("sim", "plugged in");
    return rc;
}

void simsrv_set_faults(simsrv *s, const simsrv_faults *f)
{
    pthread_mutex_lock(&s->lock);
    s->faults = *f;
    s->ops_since_arm = 0;
    s->armed_at = clock_mono_s();
    pthread_mutex_unlock(&s->lock);
}

json_t *simsrv_state(simsrv *s)
{
    pthread_mutex_lock(&s->lock);
    const simsrv_faults *f = &s->faults;
    json_t *faults = json_pack("{s:I, s:f, s:f, s:I, s:f, s:I, s:b}",
        "drop_after_ops", (json_int_t)f->drop_after_ops, "drop_after_s", f->drop_after_s,
        "busy_rate", f->busy_rate, "busy_opcode", (json_int_t)f->busy_opcode, "rate_limit_mbps", f->rate_limit_mbps,
        "freeze_after_ops", (json_int_t)f->freeze_after_ops, "frozen", f->frozen);
    json_t *st = json_pack("{s:s, s:i, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:o}",
        "host", s->host, "port", s->port, "plugged", s->plugged,
        "session_active", s->active != NULL && !s->active->done,
        "sessions", (json_int_t)s->sessions, "refused", (json_int_t)s->refused,
        "drops", (json_int_t)s->drops, "busy_answers", (json_int_t)s->busy_answers,
        "bad_connections", (json_int_t)s->bad_packets, "faults", faults);
    pthread_mutex_unlock(&s->lock);
    return st;
}
