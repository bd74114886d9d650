/*
 * clocksync: see clocksync.h.  The programs' output is parsed here, not
 * trusted: a line that is not what is expected leaves the state unknown.
 */
#include "rig/clocksync.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"

extern char **environ;

/* Runs argv (looked up in PATH), its stdout into out (at most size-1
 * bytes), for at most 2 s.  Returns its exit status, or -1. */
static int run(const char *const argv[], char *out, size_t size)
{
    int fds[2];
    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    size_t n = 0;
    int64_t until = clock_mono_ns() + 2000000000LL;
    for (;;) {
        int left = (int)((until - clock_mono_ns()) / 1000000);
        if (left <= 0) break;
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (poll(&p, 1, left) <= 0) break;
        ssize_t got = read(fds[0], out + n, size - 1 - n);
        if (got <= 0) break;
        n += (size_t)got;
        if (n + 1 >= size) break;
    }
    out[n] = '\0';
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void verdict(clocksync *c, const char *source, bool synced, double offset_ms, double poor_ms)
{
    snprintf(c->source, sizeof c->source, "%s", source);
    c->offset_ms = offset_ms;
    bool ok = synced && (!isfinite(offset_ms) || fabs(offset_ms) <= poor_ms);
    snprintf(c->state, sizeof c->state, "%s", ok ? "synced" : "unsynced");
}

bool clocksync_parse_chronyc(const char *text, clocksync *c, double poor_ms)
{
    const char *sys = strstr(text, "System time");
    const char *leap = strstr(text, "Leap status");
    if (sys == NULL || leap == NULL) return false;
    double seconds;
    char dir[8];
    const char *colon = strchr(sys, ':');
    if (colon == NULL || sscanf(colon + 1, " %lf seconds %7s", &seconds, dir) != 2 || !isfinite(seconds)) return false;
    double ms = seconds * 1e3 * (strcmp(dir, "slow") == 0 ? -1 : 1);
    bool normal = strncmp(strchr(leap, ':') ? strchr(leap, ':') + 1 : "", " Normal", 7) == 0;
    verdict(c, "chronyc", normal, ms, poor_ms);
    snprintf(c->detail, sizeof c->detail, "chrony: %s, %.3f ms %s of its reference", normal ? "synchronised" : "not synchronised",
             fabs(ms), ms < 0 ? "behind" : "ahead");
    return true;
}

bool clocksync_parse_pmc(const char *text, clocksync *c, double poor_ms)
{
    const char *off = strstr(text, "master_offset");
    const char *gm = strstr(text, "gmPresent");
    if (off == NULL || gm == NULL) return false;
    double ns;
    char present[8];
    if (sscanf(off + 13, " %lf", &ns) != 1 || !isfinite(ns) || sscanf(gm + 9, " %7s", present) != 1) return false;
    bool has_gm = strcmp(present, "true") == 0;
    verdict(c, "pmc", has_gm, ns / 1e6, poor_ms);
    snprintf(c->detail, sizeof c->detail, "linuxptp: %s, %.3f ms from the master", has_gm ? "grandmaster present" : "no grandmaster",
             fabs(ns / 1e6));
    return true;
}

void clocksync_check(clocksync *c, double poor_ms)
{
    memset(c, 0, sizeof *c);
    c->offset_ms = NAN;
    snprintf(c->state, sizeof c->state, "unknown");
    char out[4096];
    const char *const chronyc[] = {"chronyc", "-n", "tracking", NULL};
    if (run(chronyc, out, sizeof out) == 0 && clocksync_parse_chronyc(out, c, poor_ms)) return;
    const char *const pmc[] = {"pmc", "-u", "-b", "0", "GET TIME_STATUS_NP", NULL};
    if (run(pmc, out, sizeof out) == 0 && clocksync_parse_pmc(out, c, poor_ms)) return;
    const char *const tdc[] = {"timedatectl", "show", "-p", "NTPSynchronized", "--value", NULL};
    if (run(tdc, out, sizeof out) == 0 && (strncmp(out, "yes", 3) == 0 || strncmp(out, "no", 2) == 0)) {
        verdict(c, "timedatectl", out[0] == 'y', NAN, poor_ms);
        snprintf(c->detail, sizeof c->detail, "systemd-timesyncd says %s (no offset known)",
                 out[0] == 'y' ? "synchronised" : "not synchronised");
        return;
    }
    snprintf(c->detail, sizeof c->detail, "unknown: neither chronyc, pmc nor timedatectl answered");
}
