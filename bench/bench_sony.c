/*
 * bench_sony: the Sony Wi-Fi path's figures (docs/BENCHMARKS.md, "Sony").
 *
 *   bench_sony parse
 *       live-view packets parsed per second on one core by the streaming
 *       parser (lib/backends/sony/liveview.c): a stream of 40 KB JPEG
 *       packets each followed by a frame-info packet, fed whole, in
 *       1460-byte pieces (a TCP segment) and in 7-byte pieces
 *   bench_sony viewers SPEC N SECONDS
 *       N threads watch one camera's live view (tether_liveview_next) for
 *       SECONDS; prints the distinct frames each got per second (min,
 *       mean) and the camera's own rate from its frame count
 *   bench_sony capture SPEC N DIR
 *       N captures to files in DIR: capture-to-file time, median and max
 *
 * Reports; never judges.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/sony/liveview.h"
#include "base/bytebuf.h"
#include "base/clock.h"
#include "tether/tether.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double parse_rate(const bytebuf *stream, size_t piece, int rounds, uint64_t *packets)
{
    *packets = 0;
    int64_t t0 = clock_mono_ns();
    for (int r = 0; r < rounds; r++) {
        sonylv_parser p;
        sonylv_init(&p, 0);
        for (size_t off = 0; off < stream->len;) {
            size_t n = piece < stream->len - off ? piece : stream->len - off;
            size_t used = 0;
            while (used < n) {
                sonylv_packet pk;
                bool ready;
                used += sonylv_parse(&p, stream->data + off + used, n - used, &pk, &ready);
                if (ready) (*packets)++;
            }
            off += n;
        }
        sonylv_free(&p);
    }
    return (double)(clock_mono_ns() - t0) / 1e9;
}

static int bench_parse(void)
{
    bytebuf s = BYTEBUF_INIT;
    enum { FRAMES = 200, JPEG = 40000 };
    for (int i = 0; i < FRAMES; i++) {
        uint8_t hdr[SONYLV_HEADER], rec[16];
        sonylv_put_header(hdr, SONYLV_TYPE_JPEG, (uint16_t)i, (uint32_t)i, JPEG, (uint8_t)(i % 4), 0);
        bytebuf_put(&s, hdr, sizeof hdr);
        uint8_t *j = bytebuf_extend(&s, JPEG);
        memset(j, 0x55, JPEG);
        j[0] = 0xFF, j[1] = 0xD8, j[JPEG - 2] = 0xFF, j[JPEG - 1] = 0xD9;
        memset(bytebuf_extend(&s, (size_t)(i % 4)), 0, (size_t)(i % 4));
        sonylv_put_header(hdr, SONYLV_TYPE_FRAME_INFO, (uint16_t)i, (uint32_t)i, 16, 0, 1);
        bytebuf_put(&s, hdr, sizeof hdr);
        sonylv_focus_frame f = {4500, 4500, 5500, 5500, 1, 4, 1};
        sonylv_put_frame(rec, &f);
        bytebuf_put(&s, rec, sizeof rec);
    }
    static const struct { size_t piece; int rounds; const char *what; } runs[] = {
        {1u << 30, 200, "whole"}, {1460, 200, "1460-byte pieces"}, {7, 10, "7-byte pieces"}};
    for (size_t i = 0; i < 3; i++) {
        uint64_t packets;
        double secs = parse_rate(&s, runs[i].piece, runs[i].rounds, &packets);
        printf("parse %-17s %10.0f packets/s  %8.0f MB/s  (%llu packets, %.2f s)\n", runs[i].what,
               (double)packets / secs, (double)s.len * runs[i].rounds / secs / 1e6, (unsigned long long)packets, secs);
    }
    bytebuf_free(&s);
    return 0;
}

typedef struct viewer {
    tether_camera *cam;
    int64_t until_ns;
    long frames;
} viewer;

static void *watch(void *arg)
{
    viewer *v = arg;
    uint64_t seq = 0;
    tether_liveview_subscribe(v->cam);
    while (clock_mono_ns() < v->until_ns) {
        tether_frame *f = NULL;
        if (tether_liveview_next(v->cam, &seq, 2000, &f) != TETHER_OK) continue;
        v->frames++;
        tether_frame_unref(f);
    }
    tether_liveview_unsubscribe(v->cam);
    return NULL;
}

static int bench_viewers(const char *spec, int n, double secs)
{
    tether_camera *cam;
    char err[256];
    if (tether_camera_open(spec, 0, &cam, err, sizeof err) != TETHER_OK) {
        fprintf(stderr, "bench_sony: %s\n", err);
        return 1;
    }
    /* warm up: live view running before the clock starts */
    tether_liveview_subscribe(cam);
    uint64_t seq = 0;
    for (int i = 0; i < 10; i++) {
        tether_frame *f = NULL;
        if (tether_liveview_next(cam, &seq, 5000, &f) == TETHER_OK) tether_frame_unref(f);
    }
    uint64_t seq0 = seq;
    viewer *vs = calloc((size_t)n, sizeof *vs);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    int64_t t0 = clock_mono_ns(), until = t0 + (int64_t)(secs * 1e9);
    for (int i = 0; i < n; i++) {
        vs[i] = (viewer){cam, until, 0};
        pthread_create(&th[i], NULL, watch, &vs[i]);
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    double elapsed = (double)(clock_mono_ns() - t0) / 1e9;
    tether_frame *f = NULL;
    tether_liveview_next(cam, &seq, 0, &f); /* the session's frame count: the camera's rate */
    if (f) tether_frame_unref(f);
    tether_liveview_unsubscribe(cam);
    long min = vs[0].frames, sum = 0;
    for (int i = 0; i < n; i++) {
        if (vs[i].frames < min) min = vs[i].frames;
        sum += vs[i].frames;
    }
    double camera = (double)(seq - seq0) / elapsed;
    printf("viewers %2d: camera %.1f fps; each viewer min %.1f fps, mean %.1f fps (min %.0f%% of the camera)\n", n,
           camera, min / elapsed, (double)sum / n / elapsed, camera > 0 ? 100.0 * min / elapsed / camera : 0);
    free(vs);
    free(th);
    tether_camera_close(cam);
    return 0;
}

static int bench_capture(const char *spec, int n, const char *dir)
{
    tether_camera *cam;
    char err[256];
    if (tether_camera_open(spec, 0, &cam, err, sizeof err) != TETHER_OK) {
        fprintf(stderr, "bench_sony: %s\n", err);
        return 1;
    }
    double *ms = calloc((size_t)n, sizeof *ms);
    tether_capture_options o = {.dir = dir, .name_template = "bench-{counter}"};
    int done = 0;
    for (int i = 0; i < n; i++) {
        tether_shot shot;
        int64_t t0 = clock_mono_ns();
        if (tether_capture(cam, &o, &shot) != TETHER_OK) continue;
        ms[done++] = (double)(clock_mono_ns() - t0) / 1e6;
    }
    qsort(ms, (size_t)done, sizeof *ms, cmp_double);
    if (done) printf("capture to file: %d shots, median %.0f ms, max %.0f ms\n", done, ms[done / 2], ms[done - 1]);
    free(ms);
    tether_camera_close(cam);
    return done == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "parse") == 0) return bench_parse();
    if (argc == 5 && strcmp(argv[1], "viewers") == 0) return bench_viewers(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 5 && strcmp(argv[1], "capture") == 0) return bench_capture(argv[2], atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: bench_sony parse | viewers SPEC N SECONDS | capture SPEC N DIR\n");
    return 2;
}
