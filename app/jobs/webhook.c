/*
 * webhook: see webhook.h.  The delivery thread drives up to
 * WEBHOOK_PARALLEL POSTs at once through one libcurl multi handle, at most
 * one per endpoint, so a receiver that hangs until the timeout delays only
 * its own items.  It loops: fill the free slots with the due items of
 * endpoints not being sent to, wait in curl_multi_poll (until network
 * activity, the next item's due time, or curl_multi_wakeup from
 * webhook_enqueue / webhook_retry / webhook_stop, so a new event goes out
 * within milliseconds), then record each finished attempt and report it.
 * A wakeup that comes before the thread polls is not lost: libcurl keeps
 * it until the next poll.
 *
 * The outbox row is marked only after the receiver answered, so a crash
 * in between sends the item again (at least once); the key in the
 * headers and body lets the receiver drop the repeat.
 *
 * Where a delivery may go is checked in libcurl's open-socket callback,
 * on each address it is about to connect to (after any DNS answer, and
 * for every address it tries), not on the URL's text; a transfer whose
 * every address was refused fails at once with the reason.  Proxies are
 * turned off (CURLOPT_PROXY "", which also wins over http_proxy and the
 * like) since the address checked would then be the proxy's.
 *
 * HMAC-SHA256 comes from GLib (g_compute_hmac_for_data), which the
 * library already links through gexiv2.
 */
#include "webhook.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>

#include "base/log.h"
#include "tether/errors.h"
#include "tether_config.h"

#define KEEP_MS (30LL * 24 * 3600 * 1000)  /* delivered and failed items stay in the log this long */
#define PRUNE_EVERY_MS (3600LL * 1000)
#define WEBHOOK_PARALLEL 8                 /* transfers in flight, each to a different endpoint */

struct webhook {
    webhook_store *store;
    webhook_options o;
    CURLM *multi;              /* the delivery thread's transfers; curl_multi_wakeup from any thread */
    struct curl_slist *resolve; /* o.resolve as libcurl's list (test knob); NULL without */
    atomic_int stopping;
    pthread_t thread;
};

/* ---- pure pieces ------------------------------------------------------------------------- */

int64_t webhook_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int webhook_sign(const char *secret, const char *timestamp, const char *body, size_t body_len, char out[65])
{
    out[0] = '\0';
    size_t tl = strlen(timestamp);
    guchar *msg = malloc(tl + 1 + body_len + 1);
    if (msg == NULL) return -1;
    memcpy(msg, timestamp, tl);
    msg[tl] = '.';
    memcpy(msg + tl + 1, body, body_len);
    gchar *hex = g_compute_hmac_for_data(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret), msg,
                                         tl + 1 + body_len);
    free(msg);
    if (hex == NULL || strlen(hex) != 64) {
        g_free(hex);
        return -1;
    }
    memcpy(out, hex, 65);
    g_free(hex);
    return 0;
}

int64_t webhook_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms, double jitter)
{
    if (attempts < 1) attempts = 1;
    if (base_ms < 1) base_ms = 1;
    if (cap_ms < base_ms) cap_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 1; i < attempts && d < cap_ms; i++) d *= 2;
    if (d > cap_ms) d = cap_ms;
    if (jitter < 0) jitter = 0;
    if (jitter >= 1) jitter = 0.999999;
    return d - (int64_t)((double)d * jitter / 4);
}

bool webhook_status_permanent(int status)
{
    if (status >= 300 && status < 400) return true;
    if (status >= 400 && status < 500) return status != 408 && status != 425 && status != 429;
    return false;
}

bool webhook_url_ok(const char *url)
{
    if (url == NULL) return false;
    size_t n = strlen(url);
    if (n == 0 || n >= WEBHOOK_URL_MAX) return false;
    const char *host;
    if (strncasecmp(url, "http://", 7) == 0) host = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0) host = url + 8;
    else return false;
    if (*host == '\0' || *host == '/' || *host == ':' || *host == '?' || *host == '#') return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f) return false;
    return true;
}

/* One special-use range: the first bits of net. */
typedef struct net_prefix {
    uint8_t net[16];
    int bits;
} net_prefix;

static bool in_prefix(const uint8_t *a, const net_prefix *p)
{
    int whole = p->bits / 8, rest = p->bits % 8;
    if (memcmp(a, p->net, (size_t)whole) != 0) return false;
    return rest == 0 || ((a[whole] ^ p->net[whole]) & (0xff << (8 - rest))) == 0;
}

/* a: an IPv4 address, network order (4 bytes) */
static bool v4_private(const uint8_t *a)
{
    static const net_prefix special[] = {
        {{0}, 8},                {{10}, 8},            {{100, 64}, 10},       {{127}, 8},
        {{169, 254}, 16},        {{172, 16}, 12},      {{192, 0, 0}, 24},     {{192, 0, 2}, 24},
        {{192, 88, 99}, 24},     {{192, 168}, 16},     {{198, 18}, 15},       {{198, 51, 100}, 24},
        {{203, 0, 113}, 24},     {{224}, 4},           {{240}, 4}, /* reserved, and 255.255.255.255 */
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (in_prefix(a, &special[i])) return true;
    return false;
}

/* a: an IPv6 address, network order (16 bytes) */
static bool v6_private(const uint8_t *a)
{
    static const net_prefix v4_inside[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, /* v4-mapped */
        {{0, 0x64, 0xff, 0x9b}, 96},                      /* NAT64 */
    };
    for (size_t i = 0; i < sizeof v4_inside / sizeof v4_inside[0]; i++)
        if (in_prefix(a, &v4_inside[i])) return v4_private(a + 12);
    static const net_prefix six_to_four = {{0x20, 0x02}, 16};
    if (in_prefix(a, &six_to_four)) return v4_private(a + 2);
    static const net_prefix global = {{0x20}, 3};
    if (!in_prefix(a, &global)) return true; /* ::1, ::, ULA, link-local, site-local, multicast, unassigned */
    static const net_prefix special[] = {
        {{0x20, 0x01}, 23},             /* IETF protocol assignments, Teredo among them */
        {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
        {{0x3f, 0xff}, 20},             /* documentation */
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (in_prefix(a, &special[i])) return true;
    return false;
}

bool webhook_addr_private(const struct sockaddr *sa)
{
    if (sa == NULL) return true;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        return v4_private((const uint8_t *)&in.sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        return v6_private(in6.sin6_addr.s6_addr);
    }
    return true;
}

/* host as libcurl's URL parser gives it (IPv6 in brackets) */
static bool host_private(const char *host)
{
    char h[256];
    size_t n = strlen(host);
    if (n == 0 || n >= sizeof h) return false;
    for (size_t i = 0; i <= n; i++) h[i] = (char)tolower((unsigned char)host[i]);
    if (n > 1 && h[n - 1] == '.') h[--n] = '\0';
    if (strcmp(h, "localhost") == 0 || (n > 10 && strcmp(h + n - 10, ".localhost") == 0)) return true;
    if (h[0] == '[') {
        char *end = strpbrk(h, "%]");
        if (end == NULL) return false;
        *end = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, h + 1, &a6) == 1 && v6_private(a6.s6_addr);
    }
    struct in_addr a4; /* inet_aton: also 127.1, 0x7f000001 and 017700000001, as the resolver reads them */
    return inet_aton(h, &a4) != 0 && v4_private((const uint8_t *)&a4);
}

bool webhook_url_private(const char *url)
{
    if (url == NULL) return false;
    CURLU *u = curl_url();
    char *host = NULL;
    bool priv = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host_private(host);
    curl_free(host);
    curl_url_cleanup(u);
    return priv;
}

bool webhook_filter_takes(const char *filter, const char *event)
{
    if (filter == NULL || strcmp(filter, "all") == 0) return true;
    return event && strcmp(filter, event) == 0;
}

static void random_bytes(uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(b + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got < n) { /* no getrandom: fall back to the clock, still unique enough with the counter */
        static unsigned counter;
        uint64_t x = (uint64_t)webhook_now_ms() ^ ((uint64_t)getpid() << 32) ^ __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        for (size_t i = got; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[i] = (uint8_t)x;
        }
    }
}

void webhook_new_key(char out[WEBHOOK_KEY_LEN + 1])
{
    uint8_t b[16];
    random_bytes(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, WEBHOOK_KEY_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static double jitter01(void)
{
    uint32_t x = 0;
    random_bytes((uint8_t *)&x, sizeof x);
    return (double)x / 4294967296.0;
}

/* ---- endpoints and the outbox -------------------------------------------------------------- */

webhook_store *webhook_get_store(webhook *w)
{
    return w->store;
}

/* Wakes the delivery thread: something is due now. */
static void kick(webhook *w)
{
    if (w->multi) curl_multi_wakeup(w->multi);
}

/* Why an endpoint's values are not acceptable, or NULL when they are
 * (NULL values are not checked). */
static const char *endpoint_problem(const webhook *w, const char *url, const char *secret, const char *events)
{
    if (url && !webhook_url_ok(url)) return "\"url\" must be an http:// or https:// URL with a host, without spaces";
    if (url && !w->o.allow_private && webhook_url_private(url))
        return "\"url\" is on this machine or a private network (localhost, a loopback, link-local or private "
               "address): webhooks go there only if the studio runs with --webhook-allow-private";
    if (secret && strlen(secret) >= WEBHOOK_SECRET_MAX) return "\"secret\" is at most 255 bytes";
    if (events && strcmp(events, "all") != 0 && strcmp(events, "capture") != 0 && strcmp(events, "import") != 0)
        return "\"events\" is \"all\", \"capture\" or \"import\"";
    return NULL;
}

int webhook_endpoint_add(webhook *w, const char *url, const char *secret, const char *events,
                         webhook_endpoint *out, const char **why)
{
    const char *dummy;
    if (why == NULL) why = &dummy;
    if (events == NULL) events = "all";
    *why = url ? endpoint_problem(w, url, secret, events) : "\"url\" is required";
    if (*why) return TETHER_ERR_BAD_VALUE;
    *why = "";
    webhook_endpoint e = {0};
    snprintf(e.url, sizeof e.url, "%s", url);
    snprintf(e.secret, sizeof e.secret, "%s", secret ? secret : "");
    snprintf(e.events, sizeof e.events, "%s", events);
    int rc = webhook_store_endpoint_add(w->store, &e, webhook_now_ms());
    if (rc == TETHER_OK && out) *out = e;
    return rc;
}

int webhook_endpoint_update(webhook *w, int64_t id, const char *url, const char *secret, const char *events,
                            int enabled, webhook_endpoint *out, const char **why)
{
    const char *dummy;
    if (why == NULL) why = &dummy;
    *why = endpoint_problem(w, url, secret, events);
    if (*why) return TETHER_ERR_BAD_VALUE;
    *why = "";
    webhook_endpoint e;
    int rc = webhook_store_endpoint_get(w->store, id, &e);
    if (rc != TETHER_OK) return rc;
    if (url) snprintf(e.url, sizeof e.url, "%s", url);
    if (secret) snprintf(e.secret, sizeof e.secret, "%s", secret);
    if (events) snprintf(e.events, sizeof e.events, "%s", events);
    if (enabled >= 0) e.enabled = enabled != 0;
    rc = webhook_store_endpoint_update(w->store, &e);
    if (rc == TETHER_OK && out) *out = e;
    return rc;
}

int webhook_wanted(webhook *w, const char *event)
{
    webhook_endpoint *eps = NULL;
    int n = 0, wanted = 0;
    if (webhook_store_endpoints(w->store, &eps, &n) != TETHER_OK) return 0;
    for (int i = 0; i < n; i++)
        if (eps[i].enabled && webhook_filter_takes(eps[i].events, event)) wanted++;
    free(eps);
    return wanted;
}

static bool event_name_ok(const char *event)
{
    size_t n = event ? strlen(event) : 0;
    if (n == 0 || n > 31) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)event[i]) && event[i] != '_') return false;
    return true;
}

int webhook_enqueue(webhook *w, const char *event, json_t *payload, int64_t endpoint, int *n,
                    char first_key[WEBHOOK_KEY_LEN + 1])
{
    if (n) *n = 0;
    if (first_key) first_key[0] = '\0';
    if (!event_name_ok(event) || !json_is_object(payload)) return TETHER_ERR_INVALID_ARGUMENT;
    webhook_endpoint *eps = NULL;
    int n_eps = 0;
    int rc = webhook_store_endpoints(w->store, &eps, &n_eps);
    if (rc != TETHER_OK) return rc;
    webhook_item *items = calloc((size_t)(n_eps ? n_eps : 1), sizeof *items);
    int n_items = 0;
    bool found = endpoint <= 0;
    int64_t now = webhook_now_ms();
    for (int i = 0; items && i < n_eps && rc == TETHER_OK; i++) {
        const webhook_endpoint *e = &eps[i];
        if (endpoint > 0 ? e->id != endpoint : !(e->enabled && webhook_filter_takes(e->events, event))) continue;
        found = true;
        webhook_item *it = &items[n_items];
        it->endpoint = e->id;
        snprintf(it->url, sizeof it->url, "%s", e->url);
        snprintf(it->event, sizeof it->event, "%s", event);
        webhook_new_key(it->key);
        it->created_ms = it->next_attempt_ms = now;
        json_t *body = json_pack("{s:s, s:s}", "id", it->key, "event", event);
        if (body) {
            json_t *copy = json_deep_copy(payload);
            json_object_del(copy, "id");
            json_object_del(copy, "event");
            json_object_update(body, copy);
            json_decref(copy);
        }
        it->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
        json_decref(body);
        if (it->body == NULL) rc = TETHER_ERR_NO_MEMORY;
        n_items++;
    }
    if (items == NULL) rc = TETHER_ERR_NO_MEMORY;
    if (rc == TETHER_OK && !found) rc = TETHER_ERR_NOT_FOUND;
    if (rc == TETHER_OK) rc = webhook_store_enqueue(w->store, items, n_items);
    if (rc == TETHER_OK) {
        if (n) *n = n_items;
        if (first_key && n_items) snprintf(first_key, WEBHOOK_KEY_LEN + 1, "%s", items[0].key);
        if (n_items) kick(w);
        LOG_DEBUG("webhook", "%s: %d deliveries enqueued", event, n_items);
    }
    for (int i = 0; items && i < n_items; i++) webhook_item_clear(&items[i]);
    free(items);
    free(eps);
    return rc;
}

int webhook_retry(webhook *w, const char *key)
{
    int rc = webhook_store_retry(w->store, key, webhook_now_ms());
    if (rc == TETHER_OK) kick(w);
    return rc;
}

/* ---- delivery --------------------------------------------------------------------------- */

/* One POST in flight: an item, its easy handle and headers. */
typedef struct transfer {
    bool active;
    CURL *curl;
    struct curl_slist *hdrs;
    webhook_item it;
    char curl_err[CURL_ERROR_SIZE];
    size_t received;
    bool allow_private;        /* the webhook's option, for the open-socket callback */
    int opened, refused;       /* sockets opened and refused by the address rule, this attempt */
    char refused_addr[INET6_ADDRSTRLEN];
} transfer;

/* libcurl's open-socket callback: the address rule, on the address about
 * to be connected to. */
static curl_socket_t open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    transfer *t = user;
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    if (!t->allow_private && webhook_addr_private(&a->addr)) {
        t->refused++;
        const void *bytes = NULL;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        if (a->family == AF_INET) memcpy(&in, &a->addr, sizeof in), bytes = &in.sin_addr;
        else if (a->family == AF_INET6) memcpy(&in6, &a->addr, sizeof in6), bytes = &in6.sin6_addr;
        if (bytes == NULL || inet_ntop(a->family, bytes, t->refused_addr, sizeof t->refused_addr) == NULL)
            snprintf(t->refused_addr, sizeof t->refused_addr, "%s", "an address");
        return CURL_SOCKET_BAD;
    }
    t->opened++;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t discard_body(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    size_t *total = user;
    *total += size * n;
    return *total > 1024 * 1024 ? 0 : size * n; /* a receiver that talks too much is cut off */
}

/* Sets up t's easy handle to POST t->it, signed with secret, and adds it
 * to the multi handle.  Returns false with err set if it cannot start. */
static bool start_transfer(webhook *w, transfer *t, const char *secret, char *err, size_t errsize)
{
    const webhook_item *it = &t->it;
    char ts[32], h[256], sig[65];
    snprintf(ts, sizeof ts, "%lld", (long long)(webhook_now_ms() / 1000));
    size_t body_len = strlen(it->body);
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    snprintf(h, sizeof h, "X-Tether-Event: %s", it->event);
    hdrs = curl_slist_append(hdrs, h);
    snprintf(h, sizeof h, "X-Tether-Delivery: %s", it->key);
    hdrs = curl_slist_append(hdrs, h);
    snprintf(h, sizeof h, "Idempotency-Key: %s", it->key);
    hdrs = curl_slist_append(hdrs, h);
    snprintf(h, sizeof h, "X-Tether-Timestamp: %s", ts);
    hdrs = curl_slist_append(hdrs, h);
    if (secret && secret[0]) {
        if (webhook_sign(secret, ts, it->body, body_len, sig) != 0) {
            snprintf(err, errsize, "cannot compute the signature");
            curl_slist_free_all(hdrs);
            return false;
        }
        snprintf(h, sizeof h, "X-Tether-Signature: sha256=%s", sig);
        hdrs = curl_slist_append(hdrs, h);
    }
    t->hdrs = hdrs;
    t->curl_err[0] = '\0';
    t->received = 0;
    t->allow_private = w->o.allow_private;
    t->opened = t->refused = 0;
    t->refused_addr[0] = '\0';
    CURL *curl = t->curl;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, it->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* none, whatever the environment says */
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, t);
    if (w->resolve) curl_easy_setopt(curl, CURLOPT_RESOLVE, w->resolve);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "tether/" TETHER_VERSION);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, w->o.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, w->o.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, t->curl_err);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t->received);
    curl_easy_setopt(curl, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(w->multi, curl) != CURLM_OK) {
        snprintf(err, errsize, "cannot start the request");
        curl_slist_free_all(hdrs);
        t->hdrs = NULL;
        return false;
    }
    t->active = true;
    return true;
}

/* Records an attempt on it: status (0 if no answer), the receiver's
 * Retry-After in seconds (0 if none) and err (empty on an answer), or
 * that it failed for good (refused, err saying why): its new state goes
 * to the outbox and to on_attempt. */
static void record_attempt(webhook *w, webhook_item *it, int status, long retry_after, const char *err, bool refused)
{
    int64_t now = webhook_now_ms();
    it->attempts++;
    it->last_attempt_ms = now;
    it->last_status = status;
    snprintf(it->last_error, sizeof it->last_error, "%s", err);
    if (status >= 200 && status < 300) {
        it->state = WEBHOOK_DELIVERED;
        it->done_ms = now;
    } else if (refused) {
        it->state = WEBHOOK_FAILED;
        it->done_ms = now;
    } else if (webhook_status_permanent(status)) {
        it->state = WEBHOOK_FAILED;
        it->done_ms = now;
        snprintf(it->last_error, sizeof it->last_error, "HTTP %d: refused by the receiver (not retried)", status);
    } else if (it->attempts >= w->o.max_attempts) {
        it->state = WEBHOOK_FAILED;
        it->done_ms = now;
        snprintf(it->last_error, sizeof it->last_error, "gave up after %d attempts: %s", it->attempts, err);
    } else {
        int64_t wait = webhook_backoff_ms(it->attempts, w->o.backoff_base_ms, w->o.backoff_cap_ms, jitter01());
        if (retry_after > 0 && retry_after * 1000 > wait)
            wait = retry_after * 1000 < w->o.backoff_cap_ms ? retry_after * 1000 : w->o.backoff_cap_ms;
        it->next_attempt_ms = now + wait;
    }
    if (webhook_store_mark(w->store, it->id, it->state, it->attempts, it->next_attempt_ms, it->last_status,
                           it->last_error, now) != TETHER_OK) {
        /* the outbox cannot be written: wait a little rather than spin on the same item */
        clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){.tv_sec = 1}, NULL);
    }
    if (it->state == WEBHOOK_DELIVERED)
        LOG_DEBUG("webhook", "%s %s delivered to %s (HTTP %d)", it->event, it->key, it->url, status);
    else
        LOG_INFO("webhook", "%s %s to %s: %s (attempt %d, %s)", it->event, it->key, it->url, it->last_error,
                 it->attempts, webhook_state_name(it->state));
    if (w->o.on_attempt) w->o.on_attempt(w->o.user, it);
}

/* A finished transfer: its outcome recorded, its slot freed. */
static void finish_transfer(webhook *w, transfer *t, CURLcode cc)
{
    curl_multi_remove_handle(w->multi, t->curl);
    curl_slist_free_all(t->hdrs);
    t->hdrs = NULL;
    t->active = false;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (cc == CURLE_WRITE_ERROR && code > 0) cc = CURLE_OK; /* answered, then cut off: the status counts */
    char err[256] = "";
    long retry_after = 0;
    bool refused = cc != CURLE_OK && t->refused > 0 && t->opened == 0;
    if (refused) {
        snprintf(err, sizeof err,
                 "refused: %s is on this machine or a private network (webhooks go there only with "
                 "--webhook-allow-private); not retried",
                 t->refused_addr);
        code = 0;
    } else if (cc != CURLE_OK) {
        snprintf(err, sizeof err, "%s", t->curl_err[0] ? t->curl_err : curl_easy_strerror(cc));
        code = 0;
    } else {
        curl_off_t ra = 0;
        if (curl_easy_getinfo(t->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) retry_after = (long)ra;
        if (code < 200 || code >= 300) snprintf(err, sizeof err, "HTTP %ld", code);
    }
    record_attempt(w, &t->it, (int)code, retry_after, err, refused);
    webhook_item_clear(&t->it);
}

/* Starts the due items on free slots, one per endpoint at a time (so a
 * receiver that hangs holds up only its own items).  Returns how long the
 * thread may wait for anything to happen, in ms. */
static int64_t start_due(webhook *w, transfer *slots)
{
    int64_t wait = 60000;
    for (;;) {
        int64_t busy[WEBHOOK_PARALLEL];
        int n_busy = 0, free_slot = -1;
        for (int i = 0; i < WEBHOOK_PARALLEL; i++) {
            if (slots[i].active) busy[n_busy++] = slots[i].it.endpoint;
            else if (free_slot < 0) free_slot = i;
        }
        if (free_slot < 0) return 1000;
        transfer *t = &slots[free_slot];
        int64_t next = -1;
        int rc = webhook_store_next_due(w->store, webhook_now_ms(), busy, n_busy, &t->it, &next);
        if (rc == TETHER_ERR_NOT_FOUND) {
            if (next >= 0) {
                int64_t until = next - webhook_now_ms();
                if (until < wait) wait = until < 1 ? 1 : until;
            }
            return wait;
        }
        if (rc != TETHER_OK) return 1000; /* an outbox error: look again in a second */
        webhook_endpoint ep;
        char err[256] = "";
        if (webhook_store_endpoint_get(w->store, t->it.endpoint, &ep) != TETHER_OK) {
            /* deleted meanwhile: its items were failed with it */
            webhook_store_mark(w->store, t->it.id, WEBHOOK_FAILED, t->it.attempts, t->it.next_attempt_ms, 0,
                               "endpoint deleted", webhook_now_ms());
            webhook_item_clear(&t->it);
        } else if (!start_transfer(w, t, ep.secret, err, sizeof err)) {
            record_attempt(w, &t->it, 0, 0, err, false);
            webhook_item_clear(&t->it);
        }
    }
}

static void *delivery_thread(void *arg)
{
    webhook *w = arg;
    log_set_thread_name("webhooks");
    transfer slots[WEBHOOK_PARALLEL] = {0};
    bool ready = w->multi != NULL;
    for (int i = 0; ready && i < WEBHOOK_PARALLEL; i++) ready = (slots[i].curl = curl_easy_init()) != NULL;
    if (!ready) LOG_ERROR("webhook", "cannot start libcurl: no deliveries");
    int64_t pruned_at = 0;
    while (ready && !atomic_load(&w->stopping)) {
        int64_t now = webhook_now_ms();
        if (now - pruned_at >= PRUNE_EVERY_MS) { /* the log keeps finished deliveries for KEEP_MS */
            int removed = 0;
            if (webhook_store_prune(w->store, now - KEEP_MS, &removed) == TETHER_OK && removed > 0)
                LOG_INFO("webhook", "removed %d deliveries finished more than 30 days ago from the log", removed);
            pruned_at = now;
        }
        int64_t wait = start_due(w, slots);
        /* returns early on network activity, on curl's own timers and on
         * curl_multi_wakeup (webhook_enqueue, webhook_retry, webhook_stop) */
        curl_multi_poll(w->multi, NULL, 0, (int)wait, NULL);
        int running = 0;
        curl_multi_perform(w->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) continue;
            transfer *t = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            if (t) finish_transfer(w, t, m->data.result);
        }
    }
    /* stopping: what is in flight is not recorded, so it is sent again
     * after the next start (at least once) */
    for (int i = 0; i < WEBHOOK_PARALLEL; i++) {
        if (slots[i].active) {
            curl_multi_remove_handle(w->multi, slots[i].curl);
            curl_slist_free_all(slots[i].hdrs);
            webhook_item_clear(&slots[i].it);
        }
        if (slots[i].curl) curl_easy_cleanup(slots[i].curl);
    }
    return NULL;
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

webhook *webhook_start(const char *db_path, const webhook_options *o)
{
    pthread_once(&curl_once, curl_init_once);
    webhook *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    if (o) w->o = *o;
    char *entries = w->o.resolve ? strdup(w->o.resolve) : NULL, *save = NULL;
    for (char *e = entries ? strtok_r(entries, " ", &save) : NULL; e; e = strtok_r(NULL, " ", &save)) {
        struct curl_slist *l = curl_slist_append(w->resolve, e);
        if (l) w->resolve = l;
    }
    free(entries);
    w->o.resolve = NULL; /* borrowed; w->resolve has the copy */
    if (w->o.backoff_base_ms <= 0) w->o.backoff_base_ms = 1000;
    if (w->o.backoff_cap_ms <= 0) w->o.backoff_cap_ms = 600000;
    if (w->o.backoff_cap_ms < w->o.backoff_base_ms) w->o.backoff_cap_ms = w->o.backoff_base_ms;
    if (w->o.max_attempts <= 0) w->o.max_attempts = 20;
    if (w->o.connect_timeout_ms <= 0) w->o.connect_timeout_ms = 5000;
    if (w->o.timeout_ms <= 0) w->o.timeout_ms = 15000;
    if ((w->store = webhook_store_open(db_path)) == NULL) {
        curl_slist_free_all(w->resolve);
        free(w);
        return NULL;
    }
    w->multi = curl_multi_init(); /* NULL: the thread says so and sends nothing */
    if (pthread_create(&w->thread, NULL, delivery_thread, w) != 0) {
        LOG_ERROR("webhook", "cannot start the delivery thread");
        webhook_store_close(w->store);
        if (w->multi) curl_multi_cleanup(w->multi);
        curl_slist_free_all(w->resolve);
        free(w);
        return NULL;
    }
    return w;
}

void webhook_stop(webhook *w)
{
    if (w == NULL) return;
    atomic_store(&w->stopping, 1);
    kick(w);
    pthread_join(w->thread, NULL);
    webhook_store_close(w->store);
    if (w->multi) curl_multi_cleanup(w->multi);
    curl_slist_free_all(w->resolve);
    free(w);
}
