/*
 * test_webhook: the webhooks' pieces (lib/jobs/webhook.h) and their outbox
 * (lib/store/webhook_store.h): the signature against RFC 4231's HMAC-SHA256
 * vector, the backoff schedule, which answers fail at once, URL and event
 * checks, keys; the outbox's enqueue, due order, marks, retries, endpoint
 * deletion and persistence across a close; and the delivery thread
 * retrying against a port where nothing listens, its state kept across a
 * stop and start.  The end-to-end test with a real receiver is
 * tests/integration/studio_webhook.sh.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "jobs/webhook.h"
#include "store/webhook_store.h"
#include "tether/errors.h"

static char tmpdir[256];

static const char *db_path(void)
{
    static char path[300];
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof tmpdir, "%s/tether-webhook-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(tmpdir) == NULL) return NULL;
    }
    snprintf(path, sizeof path, "%s/webhooks.db", tmpdir);
    return path;
}

static void cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0] && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* ---- pure pieces ------------------------------------------------------------------- */

TEST(signature_rfc4231_case7)
{
    /* RFC 4231 test case 7: a 131-byte key of 0xaa and a message longer
     * than a block; the message has a ". " in it, so it splits into
     * timestamp "." body exactly as the signature is defined */
    char key[132];
    memset(key, 0xaa, 131);
    key[131] = '\0';
    const char *ts = "This is a test using a larger than block-size key and a larger than block-size data";
    const char *body = " The key needs to be hashed before being used by the HMAC algorithm.";
    char sig[65];
    CHECK(webhook_sign(key, ts, body, strlen(body), sig) == 0);
    CHECK(strcmp(sig, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2") == 0);
}

TEST(signature_covers_timestamp_body_and_key)
{
    /* a value computed independently (Python's hmac over the bytes
     * '1700000000.{"id":"k","event":"ping"}' with the key "s3cret") */
    const char *body = "{\"id\":\"k\",\"event\":\"ping\"}";
    char a[65], b[65];
    CHECK(webhook_sign("s3cret", "1700000000", body, strlen(body), a) == 0);
    CHECK(strcmp(a, "5948f436293d97e2fda69d5e2d78650d0c56987dd29f39b474cd533cce1cba8a") == 0);
    CHECK(webhook_sign("s3cret", "1700000001", body, strlen(body), b) == 0);
    CHECK(strcmp(a, b) != 0); /* the timestamp is signed */
    CHECK(webhook_sign("s3cret", "1700000000", body, strlen(body) - 1, b) == 0);
    CHECK(strcmp(a, b) != 0); /* every byte of the body */
    CHECK(webhook_sign("s3creT", "1700000000", body, strlen(body), b) == 0);
    CHECK(strcmp(a, b) != 0); /* and the key */
}

TEST(backoff_schedule)
{
    const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 512000, 600000, 600000};
    for (int i = 0; i < 12; i++) CHECK_EQ_INT(webhook_backoff_ms(i + 1, 1000, 600000, 0), want[i]);
    CHECK_EQ_INT(webhook_backoff_ms(1000, 1000, 600000, 0), 600000); /* no overflow */
    CHECK_EQ_INT(webhook_backoff_ms(0, 1000, 600000, 0), 1000);
    /* jitter takes off up to a quarter, never adds */
    for (int a = 1; a < 30; a++) {
        for (double j = 0; j < 1; j += 0.125) {
            int64_t d = webhook_backoff_ms(a, 1000, 600000, 0), x = webhook_backoff_ms(a, 1000, 600000, j);
            CHECK(x <= d && x >= d - d / 4);
        }
    }
    CHECK_EQ_INT(webhook_backoff_ms(3, 200, 1000, 0), 800);
    CHECK_EQ_INT(webhook_backoff_ms(4, 200, 1000, 0), 1000);
}

TEST(which_answers_fail_at_once)
{
    const int permanent[] = {300, 301, 302, 400, 401, 403, 404, 405, 410, 413, 415, 422, 499};
    const int retried[] = {0, 408, 425, 429, 500, 502, 503, 504, 599};
    for (size_t i = 0; i < sizeof permanent / sizeof *permanent; i++) CHECK(webhook_status_permanent(permanent[i]));
    for (size_t i = 0; i < sizeof retried / sizeof *retried; i++) CHECK(!webhook_status_permanent(retried[i]));
    CHECK(!webhook_status_permanent(200));
    CHECK(!webhook_status_permanent(204));
}

TEST(urls_and_filters)
{
    CHECK(webhook_url_ok("http://127.0.0.1:8000/hook"));
    CHECK(webhook_url_ok("https://example.org/x?y=1"));
    CHECK(webhook_url_ok("HTTP://host"));
    CHECK(!webhook_url_ok(NULL));
    CHECK(!webhook_url_ok(""));
    CHECK(!webhook_url_ok("ftp://host/"));
    CHECK(!webhook_url_ok("file:///etc/passwd"));
    CHECK(!webhook_url_ok("http://"));
    CHECK(!webhook_url_ok("http:///path"));
    CHECK(!webhook_url_ok("http://:80/"));
    CHECK(!webhook_url_ok("http://a b/"));
    CHECK(!webhook_url_ok("http://a/\n"));
    CHECK(!webhook_url_ok("127.0.0.1:80"));
    char *long_url = malloc(WEBHOOK_URL_MAX + 10);
    CHECK(long_url != NULL);
    memset(long_url, 'a', WEBHOOK_URL_MAX + 9);
    memcpy(long_url, "http://", 7);
    long_url[WEBHOOK_URL_MAX + 9] = '\0';
    bool ok = webhook_url_ok(long_url);
    free(long_url);
    CHECK(!ok);
    CHECK(webhook_filter_takes("all", "capture"));
    CHECK(webhook_filter_takes("all", "import"));
    CHECK(webhook_filter_takes("capture", "capture"));
    CHECK(!webhook_filter_takes("capture", "import"));
    CHECK(!webhook_filter_takes("import", "capture"));
}

TEST(keys_are_uuids_and_unique)
{
    enum { N = 2000 };
    static char keys[N][WEBHOOK_KEY_LEN + 1];
    for (int i = 0; i < N; i++) {
        webhook_new_key(keys[i]);
        CHECK_EQ_INT(strlen(keys[i]), 36);
        CHECK(keys[i][8] == '-' && keys[i][13] == '-' && keys[i][18] == '-' && keys[i][23] == '-');
        CHECK(keys[i][14] == '4');
        CHECK(strchr("89ab", keys[i][19]) != NULL);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) CHECK(strcmp(keys[i], keys[j]) != 0);
}

/* ---- the outbox -------------------------------------------------------------------- */

static webhook_item make_item(int64_t endpoint, const char *key, int64_t at)
{
    webhook_item it = {0};
    it.endpoint = endpoint;
    snprintf(it.url, sizeof it.url, "http://127.0.0.1:1/");
    snprintf(it.event, sizeof it.event, "capture");
    snprintf(it.key, sizeof it.key, "%s", key);
    it.body = (char *)"{\"x\":1}";
    it.created_ms = it.next_attempt_ms = at;
    return it;
}

TEST(store_queue_and_persistence)
{
    const char *path = db_path();
    CHECK(path != NULL);
    webhook_store *st = webhook_store_open(path);
    CHECK(st != NULL);
    webhook_endpoint e = {0};
    snprintf(e.url, sizeof e.url, "http://127.0.0.1:1/");
    snprintf(e.secret, sizeof e.secret, "k");
    snprintf(e.events, sizeof e.events, "all");
    CHECK(webhook_store_endpoint_add(st, &e, 1000) == TETHER_OK);
    CHECK(e.id > 0);

    webhook_item items[2] = {make_item(e.id, "aaaaaaaa-0000-4000-8000-000000000001", 5000),
                             make_item(e.id, "aaaaaaaa-0000-4000-8000-000000000002", 5000)};
    CHECK(webhook_store_enqueue(st, items, 2) == TETHER_OK);
    CHECK(items[0].id > 0 && items[1].id > items[0].id);

    /* a duplicate key is refused, and nothing of that batch is kept */
    webhook_item dup[2] = {make_item(e.id, "aaaaaaaa-0000-4000-8000-000000000003", 5000),
                           make_item(e.id, "aaaaaaaa-0000-4000-8000-000000000001", 5000)};
    CHECK(webhook_store_enqueue(st, dup, 2) == TETHER_ERR_EXISTS);
    int64_t counts[3];
    CHECK(webhook_store_counts(st, counts) == TETHER_OK);
    CHECK_EQ_INT(counts[WEBHOOK_PENDING], 2);

    /* nothing due before its time; then the oldest first, with its body */
    webhook_item it;
    int64_t next;
    CHECK(webhook_store_next_due(st, 4999, NULL, 0, &it, &next) == TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(next, 5000);
    CHECK(webhook_store_next_due(st, 5000, NULL, 0, &it, &next) == TETHER_OK);
    CHECK_EQ_INT(it.id, items[0].id);
    CHECK(it.body && strcmp(it.body, "{\"x\":1}") == 0);
    CHECK(strcmp(it.key, items[0].key) == 0);
    webhook_item_clear(&it);

    /* a failed attempt moves it back; the other one is due now */
    CHECK(webhook_store_mark(st, items[0].id, WEBHOOK_PENDING, 1, 9000, 0, "Connection refused", 5001) == TETHER_OK);
    CHECK(webhook_store_next_due(st, 5002, NULL, 0, &it, &next) == TETHER_OK);
    CHECK_EQ_INT(it.id, items[1].id);
    webhook_item_clear(&it);
    CHECK(webhook_store_mark(st, items[1].id, WEBHOOK_DELIVERED, 1, 5000, 200, "", 5003) == TETHER_OK);
    CHECK(webhook_store_next_due(st, 5004, NULL, 0, &it, &next) == TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(next, 9000);
    /* a delivered item is not marked again */
    CHECK(webhook_store_mark(st, items[1].id, WEBHOOK_FAILED, 2, 0, 500, "late", 5005) == TETHER_OK);
    webhook_store_close(st);

    /* everything is still there after a close (a restart) */
    st = webhook_store_open(path);
    CHECK(st != NULL);
    webhook_item *list = NULL;
    int n = 0;
    CHECK(webhook_store_items(st, -1, 10, &list, &n) == TETHER_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(list[0].id, items[1].id); /* newest first */
    CHECK(list[0].state == WEBHOOK_DELIVERED && list[0].last_status == 200 && list[0].done_ms == 5003);
    CHECK(list[1].state == WEBHOOK_PENDING && list[1].attempts == 1 && list[1].next_attempt_ms == 9000);
    CHECK(strcmp(list[1].last_error, "Connection refused") == 0);
    CHECK(list[1].body == NULL);
    webhook_items_free(list, n);
    CHECK(webhook_store_items(st, WEBHOOK_PENDING, 10, &list, &n) == TETHER_OK);
    CHECK_EQ_INT(n, 1);
    webhook_items_free(list, n);
    CHECK(webhook_store_next_due(st, 9000, NULL, 0, &it, &next) == TETHER_OK);
    CHECK_EQ_INT(it.id, items[0].id);
    webhook_item_clear(&it);

    /* deleting the endpoint fails what is pending; retry needs the endpoint */
    CHECK(webhook_store_endpoint_delete(st, e.id, 10000) == TETHER_OK);
    CHECK(webhook_store_endpoint_delete(st, e.id, 10000) == TETHER_ERR_NOT_FOUND);
    CHECK(webhook_store_counts(st, counts) == TETHER_OK);
    CHECK_EQ_INT(counts[WEBHOOK_PENDING], 0);
    CHECK_EQ_INT(counts[WEBHOOK_FAILED], 1);
    CHECK(webhook_store_retry(st, items[0].key, 11000) == TETHER_ERR_NOT_FOUND);
    webhook_endpoint *eps = NULL;
    CHECK(webhook_store_endpoints(st, &eps, &n) == TETHER_OK);
    CHECK_EQ_INT(n, 0);
    free(eps);
    webhook_store_close(st);
    cleanup();
}

/* Adds an endpoint for all events at url to st, into *e (id set). */
static void add_endpoint(webhook_store *st, const char *url, webhook_endpoint *e)
{
    *e = (webhook_endpoint){.events = "all"};
    snprintf(e->url, sizeof e->url, "%s", url);
    CHECK(webhook_store_endpoint_add(st, e, 1) == TETHER_OK);
}

TEST(store_retry_of_a_failed_item)
{
    webhook_store *st = webhook_store_open(db_path());
    CHECK(st != NULL);
    webhook_endpoint e;
    add_endpoint(st, "http://127.0.0.1:1/", &e);
    webhook_item it = make_item(e.id, "bbbbbbbb-0000-4000-8000-000000000001", 100);
    CHECK(webhook_store_enqueue(st, &it, 1) == TETHER_OK);
    CHECK(webhook_store_retry(st, it.key, 200) == TETHER_ERR_NOT_FOUND); /* pending, not failed */
    CHECK(webhook_store_mark(st, it.id, WEBHOOK_FAILED, 20, 0, 503, "gave up", 300) == TETHER_OK);
    CHECK(webhook_store_retry(st, it.key, 400) == TETHER_OK);
    webhook_item due;
    int64_t next;
    CHECK(webhook_store_next_due(st, 400, NULL, 0, &due, &next) == TETHER_OK);
    CHECK(due.attempts == 0 && due.state == WEBHOOK_PENDING && due.done_ms == 0);
    webhook_item_clear(&due);
    webhook_store_close(st);
    cleanup();
}

TEST(store_prunes_finished_items_only)
{
    webhook_store *st = webhook_store_open(db_path());
    CHECK(st != NULL);
    webhook_endpoint e;
    add_endpoint(st, "http://127.0.0.1:1/", &e);
    webhook_item a = make_item(e.id, "cccccccc-0000-4000-8000-000000000001", 100);
    webhook_item b = make_item(e.id, "cccccccc-0000-4000-8000-000000000002", 100);
    webhook_item c = make_item(e.id, "cccccccc-0000-4000-8000-000000000003", 100);
    CHECK(webhook_store_enqueue(st, &a, 1) == TETHER_OK && webhook_store_enqueue(st, &b, 1) == TETHER_OK &&
          webhook_store_enqueue(st, &c, 1) == TETHER_OK);
    CHECK(webhook_store_mark(st, a.id, WEBHOOK_DELIVERED, 1, 0, 200, "", 1000) == TETHER_OK);
    CHECK(webhook_store_mark(st, b.id, WEBHOOK_FAILED, 20, 0, 503, "gave up", 5000) == TETHER_OK);
    int removed = -1;
    CHECK(webhook_store_prune(st, 2000, &removed) == TETHER_OK);
    CHECK_EQ_INT(removed, 1); /* a: delivered before 2000; b finished later; c is pending */
    int64_t counts[3];
    CHECK(webhook_store_counts(st, counts) == TETHER_OK);
    CHECK(counts[WEBHOOK_PENDING] == 1 && counts[WEBHOOK_DELIVERED] == 0 && counts[WEBHOOK_FAILED] == 1);
    CHECK(webhook_store_prune(st, 1000000, &removed) == TETHER_OK);
    CHECK_EQ_INT(removed, 1);
    CHECK(webhook_store_counts(st, counts) == TETHER_OK && counts[WEBHOOK_PENDING] == 1);
    webhook_store_close(st);
    cleanup();
}

TEST(store_next_due_skips_busy_endpoints)
{
    webhook_store *st = webhook_store_open(db_path());
    CHECK(st != NULL);
    webhook_endpoint a, b;
    add_endpoint(st, "http://127.0.0.1:1/a", &a);
    add_endpoint(st, "http://127.0.0.1:1/b", &b);
    webhook_item a1 = make_item(a.id, "dddddddd-0000-4000-8000-000000000001", 100);
    webhook_item a2 = make_item(a.id, "dddddddd-0000-4000-8000-000000000002", 150);
    webhook_item b1 = make_item(b.id, "dddddddd-0000-4000-8000-000000000003", 200);
    CHECK(webhook_store_enqueue(st, &a1, 1) == TETHER_OK && webhook_store_enqueue(st, &a2, 1) == TETHER_OK &&
          webhook_store_enqueue(st, &b1, 1) == TETHER_OK);
    webhook_item due;
    int64_t next;
    /* a is being sent to: its older items wait, b's goes */
    int64_t busy[] = {a.id};
    CHECK(webhook_store_next_due(st, 300, busy, 1, &due, &next) == TETHER_OK);
    CHECK_EQ_INT(due.id, b1.id);
    webhook_item_clear(&due);
    /* not yet due: next says when b's is */
    CHECK(webhook_store_next_due(st, 120, busy, 1, &due, &next) == TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(next, 200);
    /* both busy: nothing, and nothing pending for the others */
    int64_t both[] = {a.id, b.id};
    CHECK(webhook_store_next_due(st, 300, both, 2, &due, &next) == TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(next, -1);
    /* none busy: the oldest */
    CHECK(webhook_store_next_due(st, 300, NULL, 0, &due, &next) == TETHER_OK);
    CHECK_EQ_INT(due.id, a1.id);
    webhook_item_clear(&due);
    CHECK(webhook_store_next_due(st, 300, busy, WEBHOOK_STORE_BUSY_MAX + 1, &due, &next) ==
          TETHER_ERR_INVALID_ARGUMENT);
    webhook_store_close(st);
    cleanup();
}

/* ---- the delivery thread -------------------------------------------------------------- */

static atomic_int attempts_seen;
static void count_attempt(void *user, const webhook_item *it)
{
    (void)user;
    if (it->state == WEBHOOK_PENDING && it->last_status == 0 && it->last_error[0]) atomic_fetch_add(&attempts_seen, 1);
}

TEST(delivery_retries_and_resumes)
{
    const char *path = db_path();
    webhook_options o = {.backoff_base_ms = 20, .backoff_cap_ms = 50, .on_attempt = count_attempt};
    webhook *w = webhook_start(path, &o);
    CHECK(w != NULL);
    const char *why = NULL;
    CHECK(webhook_endpoint_add(w, "ftp://x/", NULL, NULL, NULL, &why) == TETHER_ERR_BAD_VALUE && why[0]);
    CHECK(webhook_endpoint_add(w, "http://127.0.0.1:1/", "s", "sometimes", NULL, &why) == TETHER_ERR_BAD_VALUE);
    webhook_endpoint e;
    /* port 1 on loopback: nothing listens, the connection is refused */
    CHECK(webhook_endpoint_add(w, "http://127.0.0.1:1/", "s", "capture", &e, &why) == TETHER_OK);
    CHECK_EQ_INT(webhook_wanted(w, "capture"), 1);
    CHECK_EQ_INT(webhook_wanted(w, "import"), 0);
    json_t *payload = json_pack("{s:s, s:i}", "id", "overwritten", "n", 7);
    int n = -1;
    char key[WEBHOOK_KEY_LEN + 1];
    CHECK(webhook_enqueue(w, "import", payload, 0, &n, key) == TETHER_OK);
    CHECK_EQ_INT(n, 0); /* the filter takes captures only */
    CHECK(webhook_enqueue(w, "capture", payload, 0, &n, key) == TETHER_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(strlen(key), 36);
    CHECK(webhook_enqueue(w, "ping", payload, e.id + 100, &n, NULL) == TETHER_ERR_NOT_FOUND);
    CHECK(webhook_enqueue(w, "bad event", payload, 0, &n, NULL) == TETHER_ERR_INVALID_ARGUMENT);
    json_decref(payload);
    /* the thread wakes at once and retries on its schedule */
    for (int i = 0; i < 200 && atomic_load(&attempts_seen) < 3; i++) usleep(10000);
    CHECK(atomic_load(&attempts_seen) >= 3);
    webhook_stop(w);

    /* the item is still pending, with its attempts and body, after a stop */
    webhook_store *st = webhook_store_open(path);
    CHECK(st != NULL);
    webhook_item it;
    int64_t next;
    int rc = webhook_store_next_due(st, webhook_now_ms() + 60000, NULL, 0, &it, &next);
    webhook_store_close(st);
    CHECK(rc == TETHER_OK);
    bool same = strcmp(it.key, key) == 0 && it.attempts >= 3 && strstr(it.body, "\"n\":7") &&
                strncmp(it.body, "{\"id\":\"", 7) == 0 && strstr(it.body, key) && strstr(it.body, "\"event\":\"capture\"") &&
                !strstr(it.body, "overwritten");
    webhook_item_clear(&it);
    CHECK(same);

    /* and a new start takes it up again */
    int before = atomic_load(&attempts_seen);
    w = webhook_start(path, &o);
    CHECK(w != NULL);
    for (int i = 0; i < 200 && atomic_load(&attempts_seen) == before; i++) usleep(10000);
    CHECK(atomic_load(&attempts_seen) > before);
    webhook_stop(w);
    cleanup();
}

TESTS(HARNESS_ENTRY(signature_rfc4231_case7), HARNESS_ENTRY(signature_covers_timestamp_body_and_key),
      HARNESS_ENTRY(backoff_schedule), HARNESS_ENTRY(which_answers_fail_at_once), HARNESS_ENTRY(urls_and_filters),
      HARNESS_ENTRY(keys_are_uuids_and_unique), HARNESS_ENTRY(store_queue_and_persistence),
      HARNESS_ENTRY(store_retry_of_a_failed_item), HARNESS_ENTRY(store_prunes_finished_items_only),
      HARNESS_ENTRY(store_next_due_skips_busy_endpoints), HARNESS_ENTRY(delivery_retries_and_resumes))
