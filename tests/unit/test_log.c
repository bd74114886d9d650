/*
 * test_log: libtether's public logging API (include/tether/log.h, lib/log.c)
 * over the common base's log module (common/base/log.c): the level and its
 * bounds, a handler that gets the messages (level, module, text) instead
 * of stderr, back to stderr with NULL, and handlers swapped while several
 * threads log (every message reaches exactly one handler, none after it
 * was replaced; run under ThreadSanitizer by scripts/check).
 */
#include "harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/log.h"
#include "tether/log.h"

typedef struct seen {
    pthread_mutex_t lock;
    int count;
    tether_log_level level;
    char module[32];
    char message[256];
} seen;

static void remember(tether_log_level level, const char *module, const char *message, void *user)
{
    seen *s = user;
    pthread_mutex_lock(&s->lock);
    s->count++;
    s->level = level;
    snprintf(s->module, sizeof s->module, "%s", module);
    snprintf(s->message, sizeof s->message, "%s", message);
    pthread_mutex_unlock(&s->lock);
}

TEST(level_is_set_read_and_bounded)
{
    tether_log_set_level(TETHER_LOG_INFO);
    CHECK_EQ_INT(tether_log_get_level(), TETHER_LOG_INFO);
    CHECK_EQ_INT(log_get_level(), LOG_LEVEL_INFO); /* one level: the library's is the base's */
    tether_log_set_level((tether_log_level)42);
    CHECK_EQ_INT(tether_log_get_level(), TETHER_LOG_DEBUG);
    tether_log_set_level((tether_log_level)-5);
    CHECK_EQ_INT(tether_log_get_level(), TETHER_LOG_ERROR);
    log_set_level(LOG_LEVEL_WARN);
    CHECK_EQ_INT(tether_log_get_level(), TETHER_LOG_WARN);
}

/* Runs fn with stderr going to a temporary file; returns what it wrote. */
static void capture_stderr(void (*fn)(void *), void *arg, char *out, size_t size)
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn(arg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, out, size - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
}

static void log_three(void *arg)
{
    (void)arg;
    LOG_WARN("unit", "warned %d", 1);
    LOG_INFO("unit", "informed %d", 2);
    LOG_DEBUG("unit", "below the level");
}

TEST(handler_gets_messages_instead_of_stderr)
{
    seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[2048];
    tether_log_set_level(TETHER_LOG_INFO);
    tether_log_set_handler(remember, &s);
    capture_stderr(log_three, NULL, err, sizeof err);
    CHECK_EQ_INT(s.count, 2);
    CHECK_EQ_INT(s.level, TETHER_LOG_INFO);
    CHECK(strcmp(s.module, "unit") == 0);
    CHECK(strcmp(s.message, "informed 2") == 0);
    CHECK(err[0] == '\0');

    tether_log_set_handler(NULL, NULL);
    capture_stderr(log_three, NULL, err, sizeof err);
    CHECK_EQ_INT(s.count, 2);
    CHECK(strstr(err, "WARN  unit: warned 1\n") != NULL);
    CHECK(strstr(err, "INFO  unit: informed 2\n") != NULL);
    CHECK(strstr(err, "below the level") == NULL);
}

TEST(long_messages_are_cut_not_overrun)
{
    seen s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tether_log_set_handler(remember, &s);
    LOG_ERROR("unit", "%s", big);
    tether_log_set_handler(NULL, NULL);
    CHECK_EQ_INT(s.count, 1);
    CHECK(strncmp(s.message, "xxxx", 4) == 0);
}

/* Many threads log while the main thread swaps between two handlers. */
typedef struct storm {
    atomic_bool stop;
    atomic_int logged;
} storm;

static void *log_storm(void *arg)
{
    storm *st = arg;
    while (!atomic_load(&st->stop)) {
        LOG_INFO("storm", "line");
        atomic_fetch_add(&st->logged, 1);
    }
    return NULL;
}

TEST(handlers_swap_while_threads_log)
{
    seen a = {.lock = PTHREAD_MUTEX_INITIALIZER};
    seen b = {.lock = PTHREAD_MUTEX_INITIALIZER};
    storm st = {0};
    tether_log_set_level(TETHER_LOG_INFO);
    tether_log_set_handler(remember, &a);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, log_storm, &st) == 0);
    for (int i = 0; i < 2000; i++) tether_log_set_handler(remember, i % 2 ? &a : &b);
    /* from here on, only a */
    tether_log_set_handler(remember, &a);
    pthread_mutex_lock(&b.lock);
    int b_after_swap = b.count;
    pthread_mutex_unlock(&b.lock);
    while (atomic_load(&st.logged) < 4000) sched_yield();
    atomic_store(&st.stop, true);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    tether_log_set_handler(NULL, NULL);
    CHECK_EQ_INT(b.count, b_after_swap); /* none reached b once it was replaced */
    CHECK_EQ_INT(a.count + b.count, atomic_load(&st.logged));
}

TESTS(HARNESS_ENTRY(level_is_set_read_and_bounded), HARNESS_ENTRY(handler_gets_messages_instead_of_stderr),
      HARNESS_ENTRY(long_messages_are_cut_not_overrun), HARNESS_ENTRY(handlers_swap_while_threads_log))
