/*
 * webhook: outgoing webhooks with at-least-once delivery (docs/API.md,
 * "Webhooks").  An event (a capture, an import, a test ping) is written to
 * a persisted outbox (store/webhook_store.h), one item per endpoint that
 * wants it, before webhook_enqueue returns; a delivery thread POSTs the
 * due items with libcurl and records each attempt.
 *
 * Delivery, as a receiver sees it:
 *
 *     POST <endpoint url>
 *     Content-Type: application/json
 *     User-Agent: tether/VERSION
 *     X-Tether-Event: capture                (import, ping)
 *     X-Tether-Delivery: <key>               (also Idempotency-Key: <key>)
 *     X-Tether-Timestamp: <unix seconds of this attempt>
 *     X-Tether-Signature: sha256=<hex>       (only with a secret)
 *
 *     {"id": "<key>", "event": "capture", ...}
 *
 * The signature is HMAC-SHA256 with the endpoint's secret as the key over
 * the bytes "<timestamp>.<body>", in lower-case hex.  A receiver
 * recomputes it over the raw body, compares in constant time, and may
 * refuse timestamps that are too old (replays).
 *
 * The key (a random UUID) is made once per event and endpoint and is the
 * same on every retry, so a receiver that remembers the keys it applied
 * applies each event once although it may receive it more than once (a
 * server killed between the receiver's answer and the outbox update sends
 * the item again after its restart).
 *
 * Outcomes of an attempt: 2xx: delivered.  3xx (not followed) and 4xx
 * other than 408, 425 and 429: failed at once, since the receiver saw the
 * request and refused it and the same bytes would be refused again.
 * Anything else (no connection, a timeout, 408/425/429, 5xx): retried
 * after a backoff of base x 2^(attempts-1), capped (1 s, 2 s, 4 s ... 10
 * min by default), less up to a quarter at random (jitter), or after the
 * receiver's Retry-After if that is longer; after max_attempts (20) the
 * item is failed.  A failed item can be retried by hand (webhook_retry).
 *
 * Where deliveries may go: not to this machine or its networks unless
 * allow_private is set (`tether serve --webhook-allow-private`), since a
 * studio on the LAN would otherwise POST, on anyone's say, to services
 * that trust local callers (a camera's control channel, a router's admin
 * page).  Refused: loopback, unspecified, private (RFC 1918, CGNAT
 * 100.64/10, IPv6 ULA fc00::/7), link-local, multicast, broadcast and the
 * other special-use ranges, also inside IPv6 forms that carry an IPv4
 * address (v4-mapped, NAT64 64:ff9b::/96, 6to4); see webhook_addr_private.
 * The check is made on the address actually connected to (libcurl's
 * open-socket callback), so a public name that resolves to 127.0.0.1, or
 * that resolves differently at connect time (DNS rebinding), is refused
 * too; such a delivery fails at once, saying why.  Endpoints are also
 * refused at creation when the URL's host is a literal private address or
 * localhost.  Redirects are not followed and proxies (http_proxy and the
 * like in the environment) are not used, so neither can route around the
 * check.
 *
 * Threads: one delivery thread per webhook, sending the items in the order
 * they are due, up to 8 at once but one at a time per endpoint (a hung
 * receiver holds up only its own items); every function may be called
 * from any thread.
 * Errors: functions return 0 or a negative tether_err.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "store/webhook_store.h"

typedef struct webhook webhook;

/* Called by the delivery thread after each attempt, with the item as it
 * was recorded (state, attempts, last_status, last_error); the item is
 * the callback's to read only, during the call. */
typedef void (*webhook_attempt_fn)(void *user, const webhook_item *item);

typedef struct webhook_options {
    int64_t backoff_base_ms;   /* first retry after this; 0: 1000 */
    int64_t backoff_cap_ms;    /* no retry later than this; 0: 600000 (10 min) */
    int max_attempts;          /* give up after this many; 0: 20 */
    long connect_timeout_ms;   /* 0: 5000 */
    long timeout_ms;           /* whole request; 0: 15000 */
    bool allow_private;        /* deliveries may go to loopback, link-local and private addresses */
    const char *resolve;       /* test knob, may be NULL: "HOST:PORT:ADDR" entries (space-separated)
                                * answered without DNS (libcurl's CURLOPT_RESOLVE); copied */
    webhook_attempt_fn on_attempt; /* may be NULL */
    void *user;
} webhook_options;

/* Opens (creating) the outbox database at db_path and starts the delivery
 * thread, which begins with the items still pending from an earlier run.
 * o may be NULL (defaults).  Returns NULL on failure (logged). */
webhook *webhook_start(const char *db_path, const webhook_options *o);
/* Stops the delivery thread (an attempt in flight is abandoned and left
 * pending) and closes the database; NULL is fine.  Any thread but the
 * delivery thread (so not from on_attempt). */
void webhook_stop(webhook *w);
/* The outbox, for listings and endpoint changes (borrowed; valid until
 * webhook_stop). */
webhook_store *webhook_get_store(webhook *w);

/* Adds an endpoint after checking it: url http:// or https:// with a host
 * (at most WEBHOOK_URL_MAX-1 bytes, no spaces or control characters; not
 * webhook_url_private unless the options allow private addresses),
 * secret NULL or at most WEBHOOK_SECRET_MAX-1 bytes, events NULL ("all"),
 * "all", "capture" or "import".  Fills *out (may be NULL).  Returns 0,
 * TETHER_ERR_BAD_VALUE (*why says what is wrong; static string) or
 * TETHER_ERR_IO. */
int webhook_endpoint_add(webhook *w, const char *url, const char *secret, const char *events,
                         webhook_endpoint *out, const char **why);

/* Changes an endpoint: each of url, secret ("" removes it) and events that
 * is not NULL, and enabled unless it is -1 (a disabled endpoint gets no new
 * deliveries; those already queued still go).  Returns 0 with the endpoint
 * in *out, TETHER_ERR_BAD_VALUE (*why says why), TETHER_ERR_NOT_FOUND, or
 * TETHER_ERR_IO.  Any thread. */
int webhook_endpoint_update(webhook *w, int64_t id, const char *url, const char *secret, const char *events,
                            int enabled, webhook_endpoint *out, const char **why);

/* How many endpoints want this event (enabled, filter all or event);
 * lets a caller skip building a payload nobody wants.  0 on errors. */
int webhook_wanted(webhook *w, const char *event);

/* Enqueues event ("capture", "import", "ping"; letters, digits, '_', at
 * most 31) for each endpoint that wants it, or for endpoint only (any
 * event, for a test ping) when endpoint > 0.  Each item's body is payload
 * (borrowed; an object) with "id": key and "event": event put first.  The
 * items are on disk when this returns and the delivery thread is woken.
 * *n (may be NULL) is the number of items enqueued, first_key (may be
 * NULL) gets the first item's key ("" if none).  Returns 0,
 * TETHER_ERR_NOT_FOUND (no such endpoint), TETHER_ERR_INVALID_ARGUMENT or
 * TETHER_ERR_IO. */
int webhook_enqueue(webhook *w, const char *event, json_t *payload, int64_t endpoint, int *n,
                    char first_key[WEBHOOK_KEY_LEN + 1]);

/* Makes a failed item pending again (attempts from 0) and wakes the
 * delivery thread.  Returns 0 or TETHER_ERR_NOT_FOUND. */
int webhook_retry(webhook *w, const char *key);

/* ---- the pieces, pure (for tests) ---------------------------------------------------- */

/* HMAC-SHA256(key = secret, message = timestamp "." body) in lower-case
 * hex into out (65 bytes with the NUL).  Returns 0 or -1. */
int webhook_sign(const char *secret, const char *timestamp, const char *body, size_t body_len, char out[65]);
/* The wait before the next attempt after `attempts` failed ones (>= 1):
 * d = min(cap, base x 2^(attempts-1)), less d x jitter / 4 (jitter in
 * [0, 1)).  base and cap in ms (> 0). */
int64_t webhook_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms, double jitter);
/* Does an HTTP status fail the item at once (see above)?  2xx: no (it is
 * delivered); 0 (no answer): no. */
bool webhook_status_permanent(int status);
/* Is url acceptable for an endpoint (see webhook_endpoint_add)? */
bool webhook_url_ok(const char *url);
/* Is sa an address deliveries may not reach without allow_private (see
 * above)?  Loopback, unspecified (0.0.0.0/8, ::), RFC 1918, CGNAT
 * 100.64/10, link-local (169.254/16, fe80::/10), multicast, 240/4 with
 * the broadcast address, 192.0.0/24, the documentation and benchmarking
 * ranges, 192.88.99/24; in IPv6 everything outside 2000::/3 (ULA, site-
 * local, multicast, ::/96 among it) and 2001::/23, 2001:db8::/32, 3fff::/20;
 * v4-mapped, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are
 * judged by the IPv4 address they carry.  Families other than AF_INET and
 * AF_INET6 are refused (true).  Pure. */
bool webhook_addr_private(const struct sockaddr *sa);
/* Does url name this machine or a private network by its text alone: a
 * host that is localhost (or under .localhost) or a literal address
 * (also IPv4 written as 127.1, 0x7f000001 and the like) that
 * webhook_addr_private refuses?  Names are resolved only at delivery,
 * where the check is made again on the address connected to.  Pure. */
bool webhook_url_private(const char *url);
/* Does an endpoint's filter ("all", "capture", "import") take event? */
bool webhook_filter_takes(const char *filter, const char *event);
/* A new random key: a UUID version 4 in lower-case hex (37 bytes). */
void webhook_new_key(char out[WEBHOOK_KEY_LEN + 1]);
/* Wall-clock milliseconds since 1970. */
int64_t webhook_now_ms(void);
