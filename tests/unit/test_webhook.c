/*
 * test_webhook: the webhooks' pieces (app/jobs/webhook.h) and their outbox
 * (app/store/webhook_store.h): the signature against RFC 4231's HMAC-SHA256
 * vector, the backoff schedule, which answers fail at once, URL and event
 * checks, keys; the outbox's enqueue, due order, marks, retries, endpoint
 * deletion and persistence across a close; the delivery thread
 * retrying against a port where nothing listens, its state kept across a
 * stop and start; the address rule (which addresses and URLs are private;
 * a public-looking name that resolves to 127.0.0.1 refused at connect
 * time without a byte reaching the listener there, failed at once; with
 * private addresses allowed, a delivery goes straight to the receiver
 * whatever http_proxy says).  The end-to-end test with a real receiver is
 * tests/integration/studio_webhook.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

/* text: an IPv4 or IPv6 address */
static bool private_text(const char *text)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, text, &in.sin_addr) == 1) return webhook_addr_private((struct sockaddr *)&in);
    if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) return webhook_addr_private((struct sockaddr *)&in6);
    fprintf(stderr, "not an address: %s\n", text);
    abort();
}

TEST(which_addresses_are_private)
{
    static const char *const refused[] = {
        "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255", "169.254.169.254", "192.0.0.8",
        "192.0.2.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "192.88.99.1", "224.0.0.1",
        "239.255.255.250", "240.0.0.1", "255.255.255.255",
        "::1", "::", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
        "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::1", "2002:7f00:1::1", "2002:c0a8:101::",
        "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "ff05::1:3", "100::1",
        "2001::1", "2001:0:4136:e378::1", "2001:db8::1", "2001:2::1", "3fff::1", "5f00::1", "::ffff:ffff:ffff",
    };
    static const char *const allowed[] = {
        "1.1.1.1", "8.8.8.8", "93.184.216.34", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "126.255.255.255", "128.0.0.1", "169.253.1.1", "172.15.255.255", "172.32.0.0", "192.167.1.1",
        "192.169.0.1", "198.17.255.255", "198.20.0.0", "223.255.255.255",
        "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
        "2002:808:808::1", "2001:200::1", "3ffe::1",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (!private_text(refused[i])) fprintf(stderr, "%s should be refused\n", refused[i]);
        CHECK(private_text(refused[i]));
    }
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        if (private_text(allowed[i])) fprintf(stderr, "%s should be allowed\n", allowed[i]);
        CHECK(!private_text(allowed[i]));
    }
    struct sockaddr other = {.sa_family = AF_UNIX};
    CHECK(webhook_addr_private(&other));
    CHECK(webhook_addr_private(NULL));
}

TEST(which_urls_name_private_hosts)
{
    static const char *const refused[] = {
        "http://127.0.0.1:8000/hook", "http://localhost/", "HTTP://LOCALHOST:80/x", "http://localhost./",
        "http://api.localhost/", "http://[::1]:8080/", "https://[fe80::1%25eth0]/", "http://[::ffff:127.0.0.1]/",
        "http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0/", "http://10.0.0.5/",
        "http://192.168.0.1:80/", "http://169.254.169.254/latest/meta-data", "http://user:pw@127.0.0.1/",
        "http://[fd00::2]/",
    };
    static const char *const allowed[] = {
        "https://example.org/hook", "http://8.8.8.8/", "http://[2606:4700::1]/", "http://hooks.example.com:9000/",
        "http://localhost.example.com/", "http://mylocalhost/", "http://127.0.0.1.example.com/",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (!webhook_url_private(refused[i])) fprintf(stderr, "%s should be refused\n", refused[i]);
        CHECK(webhook_url_private(refused[i]));
    }
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        if (webhook_url_private(allowed[i])) fprintf(stderr, "%s should be allowed\n", allowed[i]);
        CHECK(!webhook_url_private(allowed[i]));
    }
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
    webhook_options o = {.backoff_base_ms = 20, .backoff_cap_ms = 50, .allow_private = true, .on_attempt = count_attempt};
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

/* A listening socket on 127.0.0.1 (non-blocking); its port in *port. */
static int loopback_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static _Atomic int last_state = -1, last_attempts;
static char last_error[256];
static void keep_attempt(void *user, const webhook_item *it)
{
    (void)user;
    snprintf(last_error, sizeof last_error, "%s", it->last_error);
    atomic_store(&last_attempts, it->attempts);
    atomic_store(&last_state, (int)it->state);
}

TEST(delivery_refuses_private_addresses)
{
    int port = 0, lfd = loopback_listener(&port);
    CHECK(lfd >= 0);
    char resolve[64], url[96];
    /* a public-looking name that resolves to loopback (a DNS answer an
     * attacker controls, or a rebinding one) */
    snprintf(resolve, sizeof resolve, "hooks.example.com:%d:127.0.0.1", port);
    snprintf(url, sizeof url, "http://hooks.example.com:%d/hook", port);
    webhook_options o = {.backoff_base_ms = 20, .backoff_cap_ms = 50, .resolve = resolve, .on_attempt = keep_attempt};
    webhook *w = webhook_start(db_path(), &o);
    CHECK(w != NULL);
    const char *why = NULL;
    char direct[96];
    snprintf(direct, sizeof direct, "http://127.0.0.1:%d/hook", port);
    CHECK(webhook_endpoint_add(w, direct, NULL, NULL, NULL, &why) == TETHER_ERR_BAD_VALUE);
    CHECK(strstr(why, "--webhook-allow-private") != NULL);
    CHECK(webhook_endpoint_add(w, "http://localhost/", NULL, NULL, NULL, &why) == TETHER_ERR_BAD_VALUE);
    webhook_endpoint e;
    CHECK(webhook_endpoint_add(w, "https://example.org/", NULL, NULL, &e, &why) == TETHER_OK);
    CHECK(webhook_endpoint_update(w, e.id, "http://[::1]/", NULL, NULL, -1, NULL, &why) == TETHER_ERR_BAD_VALUE);
    CHECK(strstr(why, "--webhook-allow-private") != NULL);
    /* the name passes the text check; the address it gets does not */
    CHECK(webhook_endpoint_update(w, e.id, url, NULL, NULL, -1, &e, &why) == TETHER_OK);
    json_t *payload = json_object();
    int n = 0;
    CHECK(webhook_enqueue(w, "ping", payload, e.id, &n, NULL) == TETHER_OK && n == 1);
    json_decref(payload);
    for (int i = 0; i < 500 && atomic_load(&last_state) != WEBHOOK_FAILED; i++) usleep(10000);
    int accepted = accept(lfd, NULL, NULL), accept_errno = errno;
    webhook_stop(w);
    close(lfd);
    cleanup();
    if (accepted >= 0) close(accepted);
    CHECK(accepted < 0 && (accept_errno == EAGAIN || accept_errno == EWOULDBLOCK)); /* never connected */
    CHECK_EQ_INT(atomic_load(&last_state), WEBHOOK_FAILED);                      /* at once, */
    CHECK_EQ_INT(atomic_load(&last_attempts), 1);                                /* not retried */
    if (!strstr(last_error, "127.0.0.1") || !strstr(last_error, "--webhook-allow-private"))
        fprintf(stderr, "last_error: %s\n", last_error);
    CHECK(strstr(last_error, "127.0.0.1") != NULL && strstr(last_error, "--webhook-allow-private") != NULL);
}

TEST(delivery_allowed_goes_direct_whatever_the_proxy)
{
    int port = 0, lfd = loopback_listener(&port);
    CHECK(lfd >= 0);
    /* a proxy where nothing listens: used, it would fail every delivery */
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    char resolve[64], url[96];
    snprintf(resolve, sizeof resolve, "hooks.example.com:%d:127.0.0.1", port);
    snprintf(url, sizeof url, "http://hooks.example.com:%d/hook", port);
    webhook_options o = {.allow_private = true, .resolve = resolve};
    webhook *w = webhook_start(db_path(), &o);
    CHECK(w != NULL);
    webhook_endpoint e;
    const char *why = NULL;
    CHECK(webhook_endpoint_add(w, url, NULL, NULL, &e, &why) == TETHER_OK);
    char direct[96];
    snprintf(direct, sizeof direct, "http://127.0.0.1:%d/hook", port);
    CHECK(webhook_endpoint_add(w, direct, NULL, NULL, NULL, &why) == TETHER_OK); /* allowed: added */
    json_t *payload = json_object();
    CHECK(webhook_enqueue(w, "ping", payload, e.id, NULL, NULL) == TETHER_OK);
    json_decref(payload);
    int c = -1;
    for (int i = 0; i < 500 && c < 0; i++) {
        c = accept(lfd, NULL, NULL);
        if (c < 0) usleep(10000);
    }
    char req[512] = "";
    if (c >= 0) {
        fcntl(c, F_SETFL, 0);
        ssize_t got = recv(c, req, sizeof req - 1, 0);
        req[got > 0 ? got : 0] = '\0';
        close(c);
    }
    webhook_stop(w);
    close(lfd);
    cleanup();
    CHECK(c >= 0);
    if (strncmp(req, "POST /hook HTTP/1.1\r\n", 21) != 0) fprintf(stderr, "request: %.80s\n", req);
    CHECK(strncmp(req, "POST /hook HTTP/1.1\r\n", 21) == 0); /* not a proxy's absolute form */
}

TESTS(HARNESS_ENTRY(signature_rfc4231_case7), HARNESS_ENTRY(signature_covers_timestamp_body_and_key),
      HARNESS_ENTRY(backoff_schedule), HARNESS_ENTRY(which_answers_fail_at_once), HARNESS_ENTRY(urls_and_filters),
      HARNESS_ENTRY(keys_are_uuids_and_unique), HARNESS_ENTRY(store_queue_and_persistence),
      HARNESS_ENTRY(store_retry_of_a_failed_item), HARNESS_ENTRY(store_prunes_finished_items_only),
      HARNESS_ENTRY(store_next_due_skips_busy_endpoints), HARNESS_ENTRY(delivery_retries_and_resumes),
      HARNESS_ENTRY(which_addresses_are_private), HARNESS_ENTRY(which_urls_name_private_hosts),
      HARNESS_ENTRY(delivery_refuses_private_addresses), HARNESS_ENTRY(delivery_allowed_goes_direct_whatever_the_proxy))
