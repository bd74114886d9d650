/*
 * harness: the unit-test runner shared by tests/unit/test_*.c.
 *
 * A test file defines TEST(name) { ... } functions and lists them with
 * TESTS(...).  Each test runs in a forked child with a timeout, so a crash
 * or a hang fails that test only.  Output is one line per test, "ok - name"
 * or "not ok - name: reason", which tests/run-suite counts.
 *
 *     TEST(parses_header) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *     TESTS(parses_header)
 */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*harness_fn)(void);

static int harness_failed;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            harness_failed = 1;                                                      \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                \
        if (va_ != vb_) {                                                                    \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
                    va_, #b, vb_);                                                           \
            harness_failed = 1;                                                              \
            return;                                                                          \
        }                                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                 \
    do {                                                                                      \
        double va_ = (double)(a), vb_ = (double)(b);                                          \
        if (!(va_ - vb_ <= (tol) && vb_ - va_ <= (tol))) {                                    \
            fprintf(stderr, "%s:%d: %s == %g, expected %g +- %g\n", __FILE__, __LINE__, #a, va_, \
                    vb_, (double)(tol));                                                      \
            harness_failed = 1;                                                               \
            return;                                                                           \
        }                                                                                     \
    } while (0)

static int harness_run(const char *name, harness_fn fn, int timeout_s)
{
    fflush(stdout);
    if (getenv("TETHER_TEST_SLOW")) timeout_s *= 5; /* a ThreadSanitizer build (tests/run-suite --slow) */
    pid_t pid = fork();
    if (pid == 0) {
        alarm((unsigned)timeout_s);
        fn();
        fflush(stderr);
        _exit(harness_failed ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok - %s\n", name);
        return 0;
    }
    if (WIFSIGNALED(status))
        printf("not ok - %s: killed by signal %d%s\n", name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    else
        printf("not ok - %s: exit status %d\n", name, WEXITSTATUS(status));
    return 1;
}

#define HARNESS_ENTRY(name) {#name, test_##name}
#define TESTS(...)                                                                  \
    int main(void)                                                                  \
    {                                                                               \
        struct {                                                                    \
            const char *n;                                                          \
            harness_fn f;                                                           \
        } all_[] = {__VA_ARGS__};                                                   \
        int failed_ = 0;                                                            \
        const char *t_ = getenv("TEST_TIMEOUT");                                    \
        int timeout_ = t_ ? atoi(t_) : 60;                                          \
        for (size_t i_ = 0; i_ < sizeof all_ / sizeof all_[0]; i_++)                \
            failed_ += harness_run(all_[i_].n, all_[i_].f, timeout_);               \
        return failed_ ? 1 : 0;                                                     \
    }
