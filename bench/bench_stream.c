/*
 * bench_stream: HTTP load on the studio server (see docs/BENCHMARKS.md).
 *
 *   bench_stream mjpeg HOST:PORT CLIENTS SECONDS [PATH]
 *       CLIENTS simultaneous readers of PATH (default /stream.mjpg; a
 *       camera's: /api/cameras/ID/stream.mjpg) for SECONDS; prints the
 *       frames each received (min, mean, max, per second)
 *   bench_stream api HOST:PORT CONNECTIONS SECONDS PATH
 *       GET PATH over CONNECTIONS keep-alive connections; requests/s
 *
 * One thread, poll() over all sockets.  Reports; never judges.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"

enum { MAX_CLIENTS = 512 };

static int dial(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Counts occurrences of needle across reads (keeps a tail). */
typedef struct counter {
    char tail[32];
    size_t tail_len;
    long hits;
} counter;

static void count(counter *c, const char *needle, const char *buf, size_t n)
{
    size_t nl = strlen(needle);
    char tmp[65536 + 32];
    memcpy(tmp, c->tail, c->tail_len);
    memcpy(tmp + c->tail_len, buf, n);
    size_t len = c->tail_len + n;
    for (size_t i = 0; i + nl <= len; i++)
        if (tmp[i] == needle[0] && memcmp(tmp + i, needle, nl) == 0) c->hits++, i += nl - 1;
    size_t keep = len < nl - 1 ? len : nl - 1;
    memcpy(c->tail, tmp + len - keep, keep);
    c->tail_len = keep;
}

static int mjpeg(const char *host, int port, int n, double seconds, const char *path)
{
    int fds[MAX_CLIENTS];
    counter cnt[MAX_CLIENTS];
    struct pollfd pfd[MAX_CLIENTS];
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    for (int i = 0; i < n; i++) {
        fds[i] = dial(host, port);
        memset(&cnt[i], 0, sizeof cnt[i]);
        if (fds[i] < 0 || send_str(fds[i], req) != 0) {
            fprintf(stderr, "bench_stream: connect failed\n");
            return 1;
        }
        pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    double t0 = clock_mono_s();
    char buf[65536];
    while (clock_mono_s() - t0 < seconds) {
        if (poll(pfd, (nfds_t)n, 100) <= 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(pfd[i].revents & POLLIN)) continue;
            ssize_t k = recv(fds[i], buf, sizeof buf, 0);
            if (k > 0) count(&cnt[i], "--tetherframe\r\n", buf, (size_t)k);
        }
    }
    double t = clock_mono_s() - t0;
    long mn = -1, mx = 0, sum = 0;
    for (int i = 0; i < n; i++) {
        long h = cnt[i].hits;
        sum += h;
        if (mn < 0 || h < mn) mn = h;
        if (h > mx) mx = h;
        close(fds[i]);
    }
    printf("clients %d\n", n);
    printf("frames_min %ld\nframes_mean %.1f\nframes_max %ld\nframes_total %ld\n", mn, (double)sum / n, mx, sum);
    printf("fps_min %.1f\nfps_mean %.1f\n", mn / t, (double)sum / n / t);
    return 0;
}

static int api(const char *host, int port, int n, double seconds, const char *path)
{
    int fds[MAX_CLIENTS];
    counter cnt[MAX_CLIENTS];
    long sent[MAX_CLIENTS];
    struct pollfd pfd[MAX_CLIENTS];
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    for (int i = 0; i < n; i++) {
        fds[i] = dial(host, port);
        memset(&cnt[i], 0, sizeof cnt[i]);
        if (fds[i] < 0 || send_str(fds[i], req) != 0) return 1;
        sent[i] = 1;
        pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    double t0 = clock_mono_s();
    char buf[65536];
    while (clock_mono_s() - t0 < seconds) {
        if (poll(pfd, (nfds_t)n, 100) <= 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(pfd[i].revents & POLLIN)) continue;
            ssize_t k = recv(fds[i], buf, sizeof buf, 0);
            if (k <= 0) continue;
            count(&cnt[i], "HTTP/1.1 200", buf, (size_t)k);
            /* one request in flight per connection: send the next when answered */
            while (cnt[i].hits >= sent[i]) {
                send_str(fds[i], req);
                sent[i]++;
            }
        }
    }
    double t = clock_mono_s() - t0;
    long total = 0;
    for (int i = 0; i < n; i++) total += cnt[i].hits, close(fds[i]);
    printf("connections %d\nrequests %ld\nrequests_per_s %.0f\n", n, total, total / t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_stream mjpeg HOST:PORT CLIENTS SECONDS [PATH] | api HOST:PORT CONNECTIONS SECONDS PATH\n");
        return 2;
    }
    char host[64];
    const char *colon = strrchr(argv[2], ':');
    if (colon == NULL) return 2;
    snprintf(host, sizeof host, "%.*s", (int)(colon - argv[2]), argv[2]);
    int port = atoi(colon + 1), n = atoi(argv[3]);
    double secs = atof(argv[4]);
    if (n < 1 || n > MAX_CLIENTS) return 2;
    if (strcmp(argv[1], "mjpeg") == 0) {
        const char *path = argc >= 6 ? argv[5] : "/stream.mjpg";
        if (path[0] != '/' || strlen(path) > 400 || strpbrk(path, " \r\n")) {
            fprintf(stderr, "bench_stream: PATH is an absolute path without spaces (/stream.mjpg)\n");
            return 2;
        }
        return mjpeg(host, port, n, secs, path);
    }
    if (strcmp(argv[1], "api") == 0 && argc >= 6) return api(host, port, n, secs, argv[5]);
    return 2;
}
