/*
 * net: see net.h.  Three libmicrohttpd daemons (API, description,
 * control), each with a thread per connection, and an SSDP thread that
 * polls its UDP socket with a short timeout so that it notices the stop.
 * Request bodies are collected per connection (at most 64 KiB).
 */
#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "backends/sony/liveview.h"
#include "base/bytebuf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/rng.h"

#define MAX_BODY (64 * 1024)

struct sonysim_net {
    sonysim_body *b;
    struct MHD_Daemon *api, *dd, *ctl;
    int api_port, dd_port, ctl_port;
    char api_host[64];
    int ssdp_fd;
    int ssdp_port;
    pthread_t ssdp_thread;
    bool ssdp_started;
    atomic_int stop;            /* read by the SSDP thread between polls */
};

typedef struct request {
    bytebuf data;
    bool too_big;
} request;

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *type,
                                  char *text)
{
    if (text == NULL) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Replies escape "/" as "\/", as the bodies do (research note §4). */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
    json_decref(j);
    return reply_text(conn, status, "application/json", text);
}

/* Collects a request's body; true once it is complete. */
static bool collect(void **con_cls, const char *upload, size_t *upload_size, request **out,
                    enum MHD_Result *early)
{
    request *rq = *con_cls;
    *early = MHD_YES;
    if (rq == NULL) {
        rq = calloc(1, sizeof *rq);
        if (rq == NULL) *early = MHD_NO;
        *con_cls = rq;
        return false;
    }
    if (*upload_size) {
        if (rq->data.len + *upload_size > MAX_BODY) rq->too_big = true;
        else bytebuf_put(&rq->data, upload, *upload_size);
        *upload_size = 0;
        return false;
    }
    *out = rq;
    return true;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    request *rq = *con_cls;
    if (rq) {
        bytebuf_free(&rq->data);
        free(rq);
        *con_cls = NULL;
    }
}

static bool wifi_down(sonysim_body *b)
{
    sonysim_faults f;
    sonysim_get_faults(b, &f);
    return f.wifi_down;
}

/* ---- live view ---------------------------------------------------------------------- */

typedef struct lv_stream {
    sonysim_body *b;
    int64_t t0_ns;              /* the connection's start, for the slow-link fault */
    uint64_t last;
    bytebuf pending;
    size_t off;
    uint64_t sent, reported;
    rng rng;
} lv_stream;

static void lv_build(lv_stream *s, const sonysim_lv_frame *f)
{
    bytebuf_reset(&s->pending);
    s->off = 0;
    uint8_t hdr[SONYLV_HEADER];
    uint8_t padding = (uint8_t)(f->number % 4); /* [guess] bodies pad; 0..3 bytes exercise it */
    sonylv_put_header(hdr, SONYLV_TYPE_JPEG, f->sequence, f->timestamp_ms, f->jpeg->len, padding, 0);
    bytebuf_put(&s->pending, hdr, sizeof hdr);
    bytebuf_put(&s->pending, f->jpeg->data, f->jpeg->len);
    memset(bytebuf_extend(&s->pending, padding), 0, padding);
    if (f->frame_info) {
        sonylv_put_header(hdr, SONYLV_TYPE_FRAME_INFO, f->sequence, f->timestamp_ms, 16 * (size_t)f->n_focus,
                          0, f->n_focus);
        bytebuf_put(&s->pending, hdr, sizeof hdr);
        if (f->n_focus) {
            uint8_t rec[16];
            sonylv_focus_frame ff = {f->focus_box[0], f->focus_box[1], f->focus_box[2], f->focus_box[3],
                                     1, f->focus_status, 1};
            sonylv_put_frame(rec, &ff);
            bytebuf_put(&s->pending, rec, sizeof rec);
        }
    }
}

static ssize_t lv_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    lv_stream *s = cls;
    if (s->off >= s->pending.len) {
        sonysim_lv_frame f;
        if (sonysim_lv_next(s->b, s->last, &f) != 0)
            return wifi_down(s->b) ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
        s->last = f.number;
        lv_build(s, &f);
        blob_unref(f.jpeg);
        if (!bytebuf_ok(&s->pending)) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    sonysim_faults faults;
    sonysim_get_faults(s->b, &faults);
    if (faults.wifi_down) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = s->pending.len - s->off;
    if (n > max) n = max;
    if (faults.lv_split > 0) {
        size_t piece = 1 + (size_t)rng_below(&s->rng, (uint64_t)faults.lv_split);
        if (n > piece) n = piece;
    }
    if (faults.lv_rate_kbps > 0) { /* a slow link: no faster than the rate since the start */
        if (n > 1460) n = 1460;
        int64_t due = s->t0_ns + (int64_t)((double)(s->sent + n) / (faults.lv_rate_kbps * 1000.0) * 1e9);
        int64_t wait = due - clock_mono_ns();
        if (wait > 0) clock_sleep_ns(wait < 1000000000 ? wait : 1000000000);
    }
    if (sonysim_lv_should_cut(s->b, s->sent + n)) {
        LOG_INFO("sim", "sony: cutting a live-view connection after %llu bytes", (unsigned long long)s->sent);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    memcpy(buf, s->pending.data + s->off, n);
    s->off += n;
    s->sent += n;
    if (s->sent - s->reported >= 65536 || s->off == s->pending.len) {
        sonysim_lv_sent(s->b, s->sent - s->reported);
        s->reported = s->sent;
    }
    return (ssize_t)n;
}

static void lv_free(void *cls)
{
    lv_stream *s = cls;
    LOG_INFO("sim", "sony: a live-view connection ends after %llu bytes", (unsigned long long)s->sent);
    sonysim_lv_sent(s->b, s->sent - s->reported);
    sonysim_lv_detach(s->b);
    bytebuf_free(&s->pending);
    free(s);
}

static enum MHD_Result serve_liveview(sonysim_net *n, struct MHD_Connection *conn)
{
    lv_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return MHD_NO;
    s->b = n->b;
    s->t0_ns = clock_mono_ns();
    rng_seed(&s->rng, (uint64_t)(uintptr_t)s);
    sonysim_lv_attach(n->b);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, lv_read, s, lv_free);
    if (r == NULL) {
        lv_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "image/jpeg");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the API server ---------------------------------------------------------------- */

static enum MHD_Result reply_not_found(struct MHD_Connection *conn)
{
    return reply_json(conn, 404, json_pack("{s:[i,s]}", "error", 404, "Not Found"));
}

static enum MHD_Result on_api(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    sonysim_net *n = cls;
    request *rq;
    enum MHD_Result early;
    if (!collect(con_cls, upload, upload_size, &rq, &early)) return early;
    if (wifi_down(n->b)) return MHD_NO;
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strncmp(url, "/sony/", 6) == 0 && post) {
        if (rq->too_big) return reply_json(conn, 413, json_pack("{s:[i,s]}", "error", 413, "Request Entity Too Large"));
        json_error_t jerr;
        json_t *req = json_loadb((const char *)rq->data.data, rq->data.len, 0, &jerr);
        json_t *reply;
        if (!json_is_object(req)) reply = json_pack("{s:[i,s],s:i}", "error", 5, "Illegal Request", "id", 0);
        else reply = sonysim_call(n->b, url + 6, req);
        json_decref(req);
        if (reply == NULL) return MHD_NO; /* the Wi-Fi went away meanwhile */
        return reply_json(conn, 200, reply);
    }
    if (strcmp(url, "/liveview/liveviewstream") == 0 && get) return serve_liveview(n, conn);
    if ((strncmp(url, "/postview/", 10) == 0 || strncmp(url, "/contents/", 10) == 0) && get) {
        blob *jpeg = url[1] == 'p' ? sonysim_postview(n->b, url + 10) : sonysim_content(n->b, url + 10);
        if (jpeg == NULL) return reply_not_found(conn);
        struct MHD_Response *r = MHD_create_response_from_buffer(jpeg->len, jpeg->data, MHD_RESPMEM_MUST_COPY);
        blob_unref(jpeg);
        MHD_add_response_header(r, "Content-Type", "image/jpeg");
        enum MHD_Result ret = MHD_queue_response(conn, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    return reply_not_found(conn);
}

static enum MHD_Result on_dd(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    sonysim_net *n = cls;
    request *rq;
    enum MHD_Result early;
    if (!collect(con_cls, upload, upload_size, &rq, &early)) return early;
    if (wifi_down(n->b)) return MHD_NO;
    if (strcmp(url, "/dd.xml") != 0 || strcmp(method, "GET") != 0)
        return reply_text(conn, 404, "text/plain", strdup("not found\n"));
    return reply_text(conn, 200, "text/xml; charset=\"utf-8\"", sonysim_device_description(n->b));
}

/* ---- the control channel -------------------------------------------------------------- */

static enum MHD_Result ctl_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    return reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

/* Only the tester's own tools: Host must be loopback with this port, no
 * Origin (a web page), and a body must be JSON.  The port is the socket's
 * own (n->ctl_port is written only once the daemon already serves). */
static const char *ctl_refusal(struct MHD_Connection *conn, const char *method, bool has_body)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_in local;
    socklen_t len = sizeof local;
    if (fdi == NULL || getsockname(fdi->connect_fd, (struct sockaddr *)&local, &len) != 0) return "no socket";
    char a[32], b[32];
    snprintf(a, sizeof a, "127.0.0.1:%d", ntohs(local.sin_port));
    snprintf(b, sizeof b, "localhost:%d", ntohs(local.sin_port));
    if (host == NULL || (strcmp(host, a) != 0 && strcmp(host, b) != 0))
        return "the Host header must be 127.0.0.1 or localhost with this channel's port";
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"))
        return "requests from web pages are refused";
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (strcmp(method, "POST") == 0 && has_body && (type == NULL || strncasecmp(type, "application/json", 16) != 0))
        return "a body must be sent as Content-Type: application/json";
    return NULL;
}

static bool number_field(json_t *body, const char *key, double min, double max, double *out)
{
    json_t *v = json_object_get(body, key);
    if (v == NULL) return true;
    if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max) return false;
    *out = json_number_value(v);
    return true;
}

static enum MHD_Result on_control(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    sonysim_net *n = cls;
    request *rq;
    enum MHD_Result early;
    if (!collect(con_cls, upload, upload_size, &rq, &early)) return early;
    const char *why = ctl_refusal(conn, method, rq->data.len > 0);
    if (why) return ctl_error(conn, 403, why);
    if (rq->too_big) return ctl_error(conn, 413, "request body too large");
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/state") == 0) {
        if (!get) return ctl_error(conn, 405, "use GET");
        json_t *st = sonysim_state(n->b);
        json_object_set_new(st, "addresses",
                            json_pack("{s:s,s:i,s:i,s:i}", "host", n->api_host, "api_port", n->api_port,
                                      "dd_port", n->dd_port, "ssdp_port", n->ssdp_port));
        return reply_json(conn, 200, st);
    }
    if (!post) return ctl_error(conn, strcmp(url, "/shutter") == 0 || strcmp(url, "/unplug") == 0 ||
                                              strcmp(url, "/plug") == 0 || strcmp(url, "/faults") == 0 ||
                                              strcmp(url, "/body/setting") == 0
                                          ? 405 : 404,
                                      "use POST on /shutter, /unplug, /plug, /faults, /body/setting");
    json_t *body = NULL;
    if (rq->data.len) {
        body = json_loadb((const char *)rq->data.data, rq->data.len, 0, NULL);
        if (!json_is_object(body)) {
            json_decref(body);
            return ctl_error(conn, 400, "expected a JSON object body");
        }
    }
    enum MHD_Result ret;
    sonysim_faults f;
    sonysim_get_faults(n->b, &f);
    if (strcmp(url, "/shutter") == 0) {
        ret = sonysim_press_shutter(n->b) == 0 ? reply_json(conn, 200, json_pack("{s:b}", "ok", 1))
                                               : ctl_error(conn, 409, "camera busy or autofocus failed");
    } else if (strcmp(url, "/unplug") == 0 || strcmp(url, "/plug") == 0) {
        f.wifi_down = url[1] == 'u';
        sonysim_set_faults(n->b, &f);
        ret = reply_json(conn, 200, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(url, "/body/setting") == 0) {
        const char *name = json_string_value(json_object_get(body, "name"));
        const char *value = json_string_value(json_object_get(body, "value"));
        int rc = name && value ? sonysim_body_set(n->b, name, value) : -3;
        ret = rc == 0    ? reply_json(conn, 200, json_pack("{s:b}", "ok", 1))
              : rc == -1 ? ctl_error(conn, 404, "no such setting on this body (use its getEvent type)")
              : rc == -2 ? ctl_error(conn, 400, "the body does not take that value")
                         : ctl_error(conn, 400, "\"name\" and \"value\" (strings) are required");
    } else if (strcmp(url, "/faults") == 0) {
        double busy = f.busy_count, af = f.af_fail_count, lc = f.long_capture, cut = (double)f.lv_cut_after,
               split = f.lv_split, rate = f.lv_rate_kbps;
        json_t *stall = json_object_get(body, "lv_stall");
        bool ok = number_field(body, "busy_count", 0, 1000, &busy) &&
                  number_field(body, "af_fail_count", 0, 1000, &af) &&
                  number_field(body, "long_capture", 0, 100, &lc) &&
                  number_field(body, "lv_cut_after", 0, 1e12, &cut) &&
                  number_field(body, "lv_split", 0, 65536, &split) &&
                  number_field(body, "lv_rate_kbps", 0, 1e7, &rate) && (stall == NULL || json_is_boolean(stall));
        if (ok) {
            f.busy_count = (int)busy, f.af_fail_count = (int)af, f.long_capture = (int)lc;
            f.lv_cut_after = (long)cut, f.lv_split = (int)split, f.lv_rate_kbps = rate;
            if (stall) f.lv_stall = json_is_true(stall);
            sonysim_set_faults(n->b, &f);
            ret = reply_json(conn, 200, json_pack("{s:b}", "ok", 1));
        } else {
            ret = ctl_error(conn, 400, "faults: busy_count, af_fail_count, long_capture, lv_cut_after, "
                                       "lv_split, lv_rate_kbps (numbers >= 0), lv_stall (boolean)");
        }
    } else {
        ret = ctl_error(conn, 404, "no such route");
    }
    json_decref(body);
    return ret;
}

/* ---- SSDP ------------------------------------------------------------------------------------ */

static const char search_target[] = "urn:schemas-sony-com:service:ScalarWebAPI:1";

/* Does an M-SEARCH ask for us?  Header names are case-insensitive. */
static bool ssdp_wanted(const char *msg)
{
    if (strncmp(msg, "M-SEARCH * HTTP/1.1\r\n", 21) != 0) return false;
    const char *p = msg;
    bool discover = false, target = false;
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, "MAN:", 4) == 0) discover = strstr(p, "\"ssdp:discover\"") != NULL;
        if (strncasecmp(p, "ST:", 3) == 0) {
            const char *v = p + 3;
            while (*v == ' ') v++;
            target = strncmp(v, search_target, sizeof search_target - 1) == 0 || strncmp(v, "ssdp:all", 8) == 0;
        }
    }
    return discover && target;
}

static void *ssdp_main(void *arg)
{
    sonysim_net *n = arg;
    log_set_thread_name("sony-ssdp");
    char msg[2048];
    while (!n->stop) {
        struct pollfd pfd = {.fd = n->ssdp_fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0) continue;
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t len = recvfrom(n->ssdp_fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&from, &fl);
        if (len <= 0) continue;
        msg[len] = '\0';
        if (!ssdp_wanted(msg) || wifi_down(n->b)) continue;
        char reply[1024];
        int rl = snprintf(reply, sizeof reply,
                          "HTTP/1.1 200 OK\r\n"
                          "CACHE-CONTROL: max-age=1800\r\n"
                          "EXT:\r\n"
                          "LOCATION: http://%s:%d/dd.xml\r\n"
                          "SERVER: UPnP/1.0 SonyImagingDevice/1.0\r\n"
                          "ST: %s\r\n"
                          "USN: uuid:00000000-0005-0010-8000-%012d::%s\r\n"
                          "X-AV-PHYSICAL-UNIT-INFO: pa=\"\"; pl=;\r\n"
                          "X-AV-SERVER-INFO: av=5.0; hn=\"\"; cn=\"Sony Corporation\"; mn=\"SonyImagingDevice\"; mv=\"1.0\";\r\n"
                          "\r\n",
                          n->api_host, n->dd_port, search_target, n->api_port, search_target);
        sendto(n->ssdp_fd, reply, (size_t)rl, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static bool parse_addr(const char *host, int port, struct sockaddr_in *a)
{
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    return inet_pton(AF_INET, host, &a->sin_addr) == 1;
}

static struct MHD_Daemon *start_daemon(const char *host, int port, MHD_AccessHandlerCallback fn, void *cls,
                                       int *bound)
{
    struct sockaddr_in a;
    if (!parse_addr(host, port, &a)) {
        LOG_ERROR("sim", "sony: not an IPv4 address: %s", host);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
        NULL, NULL, fn, cls, MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (d == NULL) {
        LOG_ERROR("sim", "sony: cannot listen on %s:%d", host, port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound = info ? info->port : port;
    return d;
}

sonysim_net *sonysim_net_start(sonysim_body *b, const sonysim_net_config *cfg)
{
    sonysim_net *n = calloc(1, sizeof *n);
    if (n == NULL) return NULL;
    n->b = b;
    n->ssdp_fd = -1;
    snprintf(n->api_host, sizeof n->api_host, "%s", cfg->api_host);
    n->api = start_daemon(cfg->api_host, cfg->api_port, on_api, n, &n->api_port);
    if (n->api == NULL) goto fail;
    char base[128];
    snprintf(base, sizeof base, "http://%s:%d", cfg->api_host, n->api_port);
    sonysim_set_base_url(b, base);
    n->dd = start_daemon(cfg->dd_host, cfg->dd_port, on_dd, n, &n->dd_port);
    if (n->dd == NULL) goto fail;
    if (cfg->ssdp_host) {
        struct sockaddr_in a;
        if (!parse_addr(cfg->ssdp_host, cfg->ssdp_port, &a)) {
            LOG_ERROR("sim", "sony: not an IPv4 address: %s", cfg->ssdp_host);
            goto fail;
        }
        n->ssdp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(n->ssdp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        socklen_t al = sizeof a;
        if (n->ssdp_fd < 0 || bind(n->ssdp_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(n->ssdp_fd, (struct sockaddr *)&a, &al) != 0) {
            LOG_ERROR("sim", "sony: cannot bind SSDP to %s:%d: %s", cfg->ssdp_host, cfg->ssdp_port, strerror(errno));
            goto fail;
        }
        /* a multicast group (239.255.255.250, as a body listens): bound to
         * the group, it is joined on the interface the routes pick (or
         * --ssdp-interface's); answers go to the asker, unicast */
        if (IN_MULTICAST(ntohl(a.sin_addr.s_addr))) {
            struct ip_mreq mreq = {.imr_multiaddr = a.sin_addr, .imr_interface.s_addr = htonl(INADDR_ANY)};
            if (cfg->ssdp_interface && inet_pton(AF_INET, cfg->ssdp_interface, &mreq.imr_interface) != 1) {
                LOG_ERROR("sim", "sony: not an IPv4 address: %s", cfg->ssdp_interface);
                goto fail;
            }
            if (setsockopt(n->ssdp_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
                LOG_ERROR("sim", "sony: cannot join %s for SSDP: %s (no multicast route?)", cfg->ssdp_host,
                          strerror(errno));
                goto fail;
            }
        }
        n->ssdp_port = ntohs(a.sin_port);
        if (pthread_create(&n->ssdp_thread, NULL, ssdp_main, n) != 0) goto fail;
        n->ssdp_started = true;
    }
    /* last: its handlers read the other ports */
    if (cfg->control_host) {
        n->ctl = start_daemon(cfg->control_host, cfg->control_port, on_control, n, &n->ctl_port);
        if (n->ctl == NULL) goto fail;
    }
    return n;
fail:
    sonysim_net_stop(n);
    return NULL;
}

void sonysim_net_stop(sonysim_net *n)
{
    if (n == NULL) return;
    n->stop = 1;
    if (n->ssdp_started) pthread_join(n->ssdp_thread, NULL);
    if (n->ssdp_fd >= 0) close(n->ssdp_fd);
    if (n->ctl) MHD_stop_daemon(n->ctl);
    if (n->dd) MHD_stop_daemon(n->dd);
    if (n->api) MHD_stop_daemon(n->api);
    free(n);
}

int sonysim_net_api_port(const sonysim_net *n) { return n->api_port; }
int sonysim_net_dd_port(const sonysim_net *n) { return n->dd_port; }
int sonysim_net_ssdp_port(const sonysim_net *n) { return n->ssdp_port; }
int sonysim_net_control_port(const sonysim_net *n) { return n->ctl_port; }
