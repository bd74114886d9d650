/*
 * webhook_store: the webhooks' persisted state in one SQLite database of
 * its own (PHOTOS/.tether/webhooks.db in the studio): the endpoints
 * (where to send, with which secret, which events) and the outbox, one
 * row per delivery of one event to one endpoint, with its idempotency
 * key, body, state and retry schedule.  app/jobs/webhook.c sends what is
 * due; this file only stores.
 *
 * Durability: the database is in WAL mode with synchronous=FULL, so a
 * function that returned 0 after writing has its change on disk: a
 * process killed (even with SIGKILL) or a machine that loses power right
 * after keeps it.  The outbox is the source of truth: an item stays
 * "pending" until a delivery is marked, so a restart resumes every item
 * that was not confirmed.
 *
 * Times are milliseconds since 1970 (wall clock), so that a schedule
 * survives a restart.
 *
 * Thread safety: every function may be called from any thread (one
 * connection, serialised by a mutex).  Strings in structs are copies in
 * fixed buffers, except webhook_item.body, which is malloc'ed and freed
 * by webhook_items_free / webhook_item_clear.  Errors: functions return 0
 * or a negative tether_err (TETHER_ERR_IO for SQLite errors, with the
 * message in the log; TETHER_ERR_NOT_FOUND for an unknown id).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct webhook_store webhook_store;

enum { WEBHOOK_URL_MAX = 2048, WEBHOOK_SECRET_MAX = 256, WEBHOOK_KEY_LEN = 36 };

typedef struct webhook_endpoint {
    int64_t id;
    char url[WEBHOOK_URL_MAX];
    char secret[WEBHOOK_SECRET_MAX];   /* "" when deliveries are not signed */
    char events[16];                   /* "all", "capture" or "import" */
    bool enabled;
    int64_t created_ms;
} webhook_endpoint;

/* The states of an outbox item: pending (to be sent, at next_attempt_ms),
 * delivered (the receiver answered 2xx), failed (given up: a permanent
 * refusal, too many attempts, or its endpoint was deleted). */
typedef enum webhook_state {
    WEBHOOK_PENDING = 0,
    WEBHOOK_DELIVERED = 1,
    WEBHOOK_FAILED = 2,
} webhook_state;

typedef struct webhook_item {
    int64_t id;
    int64_t endpoint;
    char url[WEBHOOK_URL_MAX];         /* the endpoint's URL when enqueued */
    char event[32];                    /* "capture", "import", "ping" */
    char key[WEBHOOK_KEY_LEN + 1];     /* idempotency key, unique */
    char *body;                        /* JSON text (malloc'ed); NULL in lists */
    webhook_state state;
    int attempts;                      /* attempts made so far */
    int64_t created_ms;
    int64_t next_attempt_ms;           /* when a pending item is due */
    int64_t last_attempt_ms;           /* 0: never tried */
    int64_t done_ms;                   /* delivered or failed at; 0 while pending */
    int last_status;                   /* HTTP status of the last attempt; 0: no answer */
    char last_error[256];              /* "" after a success */
} webhook_item;

/* "pending", "delivered", "failed"; static storage. */
const char *webhook_state_name(webhook_state st);
/* Parses a state name; returns false if it is not one. */
bool webhook_state_parse(const char *name, webhook_state *out);

/* Opens (creating) the database at path.  Returns NULL on failure
 * (logged).  Close with webhook_store_close. */
webhook_store *webhook_store_open(const char *path);
/* Closes the database; NULL is fine.  No call may be running. */
void webhook_store_close(webhook_store *st);

/* Adds an endpoint (enabled); the caller has checked url and events.
 * Sets e->id and e->created_ms (to now_ms). */
int webhook_store_endpoint_add(webhook_store *st, webhook_endpoint *e, int64_t now_ms);
/* Deletes an endpoint; its pending items become failed ("endpoint
 * deleted", done at now_ms), in the same transaction.  Returns 0 or
 * TETHER_ERR_NOT_FOUND. */
int webhook_store_endpoint_delete(webhook_store *st, int64_t id, int64_t now_ms);
int webhook_store_endpoint_get(webhook_store *st, int64_t id, webhook_endpoint *out);
/* Writes e's url, secret, events and enabled over endpoint e->id.
 * Returns 0 or TETHER_ERR_NOT_FOUND. */
int webhook_store_endpoint_update(webhook_store *st, const webhook_endpoint *e);
/* All endpoints, oldest first; *out is malloc'ed (free()), NULL if none. */
int webhook_store_endpoints(webhook_store *st, webhook_endpoint **out, int *n);

/* Inserts n pending items in one transaction (all or none): each item's
 * endpoint, url, event, key, body, created_ms and next_attempt_ms are
 * used; ids are set.  Durable on return.  TETHER_ERR_EXISTS if a key is
 * already there. */
int webhook_store_enqueue(webhook_store *st, webhook_item *items, int n);
/* The pending item due first (next_attempt_ms <= now_ms, oldest first)
 * among those not for one of the n_busy endpoints in busy (at most
 * WEBHOOK_STORE_BUSY_MAX; those being sent to), with its body: returns 0
 * and fills *out (webhook_item_clear it), or TETHER_ERR_NOT_FOUND when
 * none is due; then *next_ms is when the next such item is due, or -1 if
 * none is pending. */
enum { WEBHOOK_STORE_BUSY_MAX = 16 };
int webhook_store_next_due(webhook_store *st, int64_t now_ms, const int64_t *busy, int n_busy, webhook_item *out,
                           int64_t *next_ms);
/* Records an attempt on a pending item: its new state, attempt count,
 * next time (for pending), status and error, at now_ms.  An item that is
 * no longer pending (its endpoint was deleted meanwhile) is left alone. */
int webhook_store_mark(webhook_store *st, int64_t id, webhook_state state, int attempts, int64_t next_attempt_ms,
                       int last_status, const char *last_error, int64_t now_ms);
/* Makes a failed item pending again, due at now_ms, attempts reset to 0.
 * Returns 0 or TETHER_ERR_NOT_FOUND (no such failed item). */
int webhook_store_retry(webhook_store *st, const char *key, int64_t now_ms);
/* The delivery log: the newest items first (by id), only those in state
 * (if state >= 0), at most limit; without bodies.  *out is malloc'ed
 * (webhook_items_free). */
int webhook_store_items(webhook_store *st, int state, int limit, webhook_item **out, int *n);
/* How many items are in each state (counts[WEBHOOK_PENDING] ...). */
int webhook_store_counts(webhook_store *st, int64_t counts[3]);

/* Frees one item's body. */
/* Deletes the delivered and failed items finished before before_ms (the
 * log's history; pending items always stay); *removed says how many. */
int webhook_store_prune(webhook_store *st, int64_t before_ms, int *removed);
void webhook_item_clear(webhook_item *it);
/* Frees a list from webhook_store_items; NULL is fine. */
void webhook_items_free(webhook_item *items, int n);
