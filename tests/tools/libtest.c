/*
 * libtest: end-to-end scenarios for libtether against `tether sim ptpip`
 * processes it starts, kills and restarts itself (the real libgphoto2 in
 * between).  Prints "ok - ..." / "not ok - ..." lines like the unit tests.
 *
 *   libtest reconnect     kill -9 the simulator mid-session, restart it
 *   libtest busy          Device Busy at 15 %: calls retry or fail clearly
 *   libtest busy-objectinfo  GetObjectInfo alone busy at 50 %: captures land
 *   libtest slow          a 0.25 MB/s link: downloads arrive whole, timeouts hold
 *   libtest frames N      N live-view frames; memory must stay flat (check_flat)
 *   libtest settings N    N settings reads and writes; memory must stay flat
 *   libtest threads       many threads calling one camera at once
 *   libtest buffer        capture into a caller's buffer that is too small
 *   libtest tethered      shots from the body's button land in a folder
 *   libtest restart       live view stopped by its last watcher starts again
 *                         at once for the next (Canon EOS, and Nikon)
 *   libtest freeze S      the camera frozen for S seconds (12 by default),
 *                         before and during a capture: it comes back soon
 *                         after it thaws, old sessions are closed, fds 0-2
 *                         stay
 *   libtest caps          the gphoto2 backend's capabilities, canonical
 *                         settings and zoom for each persona (Canon EOS,
 *                         Nikon, generic)
 *   libtest v4l2-soak SPEC FRAMES STILLS
 *                         run under `tether sim v4l2 [--fps N] --` (no
 *                         simulator of its own): FRAMES live-view frames
 *                         from the V4L2 camera SPEC with STILLS stills
 *                         (tether_capture_to_buffer) spread among them;
 *                         every frame and still is a JPEG, memory is
 *                         flat from the end of the warm-up (a tenth of
 *                         the run) to the end (check_flat: the heap in
 *                         use, RSS after malloc_trim(0), threads and
 *                         descriptors),
 *                         and once live view is off
 *                         the device's NAME.maps says no buffer is mapped
 *                         (waited for, up to 10 s).  Prints a line
 *                         "soak: ..." with the figures
 *   libtest storage DIR   DIR is a small tmpfs of its own (1 MB) that the
 *                         test remounts read-only: a full disk and a
 *                         read-only folder are DISK_FULL and STORAGE, say
 *                         where and why, leave no file, and the photo stays
 *                         on the card; the camera goes on working
 *
 * Needs TETHER (the program under test) in the environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "image/jpeg.h"
#include "tether/tether.h"

static int failures;
static const char *scenario = "";

#define OK(cond, ...)                                   \
    do {                                                \
        if (cond) printf("ok - libtest %s: ", scenario); \
        else {                                          \
            printf("not ok - libtest %s: ", scenario);  \
            failures++;                                 \
        }                                               \
        printf(__VA_ARGS__);                            \
        printf("\n");                                   \
        fflush(stdout);                                 \
    } while (0)

typedef struct sim {
    pid_t pid;
    int port;
    int ctl;
} sim;

/* Starts `tether sim ptpip` on port (0: one the simulator picks, read
 * back from what it prints, so no other process can take it between a
 * probe and the bind) with extra args; the program is $TETHER_SIM, else
 * $TETHER (tests/lib.sh).  Waits up to 60 s for it to say where it
 * listens (under qemu-user on a loaded machine it is slow to start);
 * on failure prints what it said. */
static int sim_start(sim *s, int port, const char *const *args)
{
    const char *tether = getenv("TETHER_SIM") ? getenv("TETHER_SIM") : getenv("TETHER");
    if (tether == NULL) return -1;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *argv[40] = {tether, "sim", "ptpip", "--listen", listen, "--control", "127.0.0.1:0", "-v"};
    int n = getenv("LIBTEST_SIM_LOG") ? 8 : 7;
    for (int i = 0; args && args[i] && n < 38; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int p[2];
    if (pipe(p) != 0) return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        const char *log = getenv("LIBTEST_SIM_LOG"); /* the simulator's log, for debugging */
        int err = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644) : open("/dev/null", O_WRONLY);
        dup2(err, 2);
        execv(tether, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    char buf[512];
    size_t got = 0;
    buf[0] = '\0';
    double deadline = clock_mono_s() + 60;
    const char *why = "it said nothing within 60 s";
    while (got < sizeof buf - 1 && !strstr(buf, "control on")) {
        int left_ms = (int)((deadline - clock_mono_s()) * 1000);
        if (left_ms <= 0) break;
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int r = poll(&pfd, 1, left_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ssize_t k = read(p[0], buf + got, sizeof buf - 1 - got);
        if (k <= 0) {
            why = "it exited";
            break;
        }
        got += (size_t)k;
        buf[got] = '\0';
    }
    close(p[0]);
    const char *l = strstr(buf, "listening on 127.0.0.1:"), *c = strstr(buf, "control on 127.0.0.1:");
    if (l == NULL || c == NULL) {
        printf("    the simulator did not start (%s): %.200s\n", why, buf);
        return -1;
    }
    s->port = atoi(l + strlen("listening on 127.0.0.1:"));
    s->ctl = atoi(c + strlen("control on 127.0.0.1:"));
    return 0;
}

static void sim_kill(sim *s, int sig)
{
    kill(s->pid, sig);
    waitpid(s->pid, NULL, 0);
}

static int open_sim(const sim *s, tether_camera **cam)
{
    char spec[64], err[512];
    snprintf(spec, sizeof spec, "ptpip:127.0.0.1:%d", s->port);
    int rc = tether_camera_open(spec, 20000, cam, err, sizeof err);
    if (rc != TETHER_OK) printf("    open: %s\n", err);
    return rc;
}

/* Starts a simulator with args and opens it; reports and returns NULL if
 * either fails (the simulator is stopped then). */
static tether_camera *setup(sim *s, const char *const *args)
{
    tether_camera *cam = NULL;
    if (sim_start(s, 0, args) != 0) {
        OK(0, "simulator starts");
        return NULL;
    }
    if (open_sim(s, &cam) != TETHER_OK) {
        OK(0, "camera opens");
        sim_kill(s, SIGKILL);
        return NULL;
    }
    return cam;
}

/* Waits for an event of type t; returns the ms it took, or -1. */
static double wait_for(tether_camera *cam, tether_event_type t, int timeout_ms)
{
    double t0 = clock_mono_s();
    while ((clock_mono_s() - t0) * 1000 < timeout_ms) {
        tether_event ev;
        if (tether_wait_event(cam, 200, &ev) == TETHER_OK && ev.type == t) return (clock_mono_s() - t0) * 1000;
    }
    return -1;
}

/* POSTs to the simulator's control channel (body: JSON or NULL); returns
 * the HTTP status. */
static int ctl_post(const sim *s, const char *path, const char *body)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -w '%%{http_code}' -X POST %s%s%s http://127.0.0.1:%d%s",
             body ? "-H 'Content-Type: application/json' --data '" : "", body ? body : "", body ? "'" : "", s->ctl, path);
    FILE *p = popen(cmd, "r");
    int code = 0;
    if (p) {
        if (fscanf(p, "%d", &code) != 1) code = 0;
        pclose(p);
    }
    return code;
}

/* A number from the simulator's /state (a jq filter), or -1. */
static double ctl_state(const sim *s, const char *filter)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/state | jq -r '%s'", s->ctl, filter);
    FILE *p = popen(cmd, "r");
    double v = -1;
    if (p) {
        char line[64] = "";
        if (fgets(line, sizeof line, p) && strcmp(line, "true\n") == 0) v = 1;
        else if (strcmp(line, "false\n") == 0) v = 0;
        else if (sscanf(line, "%lf", &v) != 1) v = -1;
        pclose(p);
    }
    return v;
}

static bool frame_ok(tether_camera *cam)
{
    tether_frame *f = NULL;
    if (tether_preview(cam, &f) != TETHER_OK) return false;
    int w = 0, h = 0;
    bool ok = img_jpeg_size(tether_frame_data(f), tether_frame_size(f), &w, &h) == 0 && w > 0;
    tether_frame_unref(f);
    return ok;
}

/* ---- scenarios ------------------------------------------------------------- */

static void reconnect(void)
{
    sim s;
    static const char *const args[] = {"--photo-size", "800x532", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    OK(frame_ok(cam), "live view before the crash");
    char dir[] = "/tmp/libtest-XXXXXX";
    mkdtemp(dir);
    tether_capture_options o = {.dir = dir};
    tether_shot shot;
    OK(tether_capture(cam, &o, &shot) == TETHER_OK && shot.n_files == 1, "capture before the crash");

    sim_kill(&s, SIGKILL);
    double t0 = clock_mono_s();
    tether_frame *f = NULL;
    int rc = tether_preview(cam, &f);
    double t1 = clock_mono_s();
    OK(rc != TETHER_OK, "a call after the crash fails (%s, %.0f ms)", tether_err_name(rc), (t1 - t0) * 1000);
    OK(t1 - t0 < 8, "and does not hang (%.1f s)", t1 - t0);
    double lost = wait_for(cam, TETHER_EVENT_CAMERA_LOST, 10000);
    OK(lost >= 0, "CAMERA_LOST is reported");
    OK(!tether_camera_connected(cam), "the session says disconnected");
    t0 = clock_mono_s();
    rc = tether_preview(cam, &f);
    t1 = clock_mono_s();
    OK(rc == TETHER_ERR_DISCONNECTED && t1 - t0 < 0.1, "while lost, calls fail fast with DISCONNECTED (%s, %.1f ms)",
       tether_err_name(rc), (t1 - t0) * 1000);
    char msg[512];
    tether_camera_last_error(cam, msg, sizeof msg);
    OK(strstr(msg, "disconnected") != NULL, "with a clear message (\"%s\")", msg);

    clock_sleep_ns(700000000);
    if (sim_start(&s, s.port, args) != 0) {
        OK(0, "simulator restarts on the same port");
        tether_camera_close(cam);
        return;
    }
    double back = wait_for(cam, TETHER_EVENT_CAMERA_BACK, 15000);
    OK(back >= 0, "CAMERA_BACK after the restart (%.0f ms)", back);
    OK(tether_camera_connected(cam), "the session is up again");
    OK(frame_ok(cam), "live view works again");
    OK(tether_capture(cam, &o, &shot) == TETHER_OK && shot.n_files == 1, "capture works again");
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    cleanup failed\n");
}

/* n captures into a temporary folder: *ok those that landed, *busy those
 * that failed as busy; any other failure is printed. */
static void capture_series(tether_camera *cam, int n, int *ok, int *busy)
{
    char dir[] = "/tmp/libtest-XXXXXX";
    if (mkdtemp(dir) == NULL) return;
    tether_capture_options o = {.dir = dir};
    for (int i = 0; i < n; i++) {
        tether_shot shot;
        int rc = tether_capture(cam, &o, &shot);
        if (rc == TETHER_OK) (*ok)++;
        else if (rc == TETHER_ERR_BUSY) (*busy)++;
        else {
            char m[512];
            tether_camera_last_error(cam, m, sizeof m);
            printf("    capture: %s: %s\n", tether_err_name(rc), m);
        }
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    cleanup failed\n");
}

static void busy(void)
{
    sim s;
    static const char *const args[] = {"--busy-rate", "0.15", "--persona", "generic", "--photo-size", "800x532", "--seed", "3", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    OK(1, "camera opens despite Device Busy (retried)");
    int ok_gets = 0, ok_frames = 0, clear_capture_errors = 0, captures = 0;
    for (int i = 0; i < 20; i++) {
        tether_setting st;
        int rc = tether_setting_get(cam, "iso", &st);
        if (rc == TETHER_OK) {
            ok_gets++;
            tether_setting_clear(&st);
        } else { /* which error, and why: busy ten times over, or a timeout on a slow machine */
            char m[512];
            tether_camera_last_error(cam, m, sizeof m);
            printf("    settings read: %s: %s\n", tether_err_name(rc), m);
        }
        if (frame_ok(cam)) ok_frames++;
        else {
            char m[512];
            tether_camera_last_error(cam, m, sizeof m);
            printf("    live view: %s\n", m);
        }
    }
    OK(ok_gets == 20, "settings reads succeed through retries (%d/20)", ok_gets);
    OK(ok_frames == 20, "live view succeeds through retries (%d/20)", ok_frames);
    capture_series(cam, 6, &captures, &clear_capture_errors);
    OK(captures + clear_capture_errors == 6, "captures succeed or fail as busy, never otherwise (%d ok, %d busy)",
       captures, clear_capture_errors);
    OK(tether_camera_connected(cam), "busy answers never count as a lost camera");
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

/* GetObjectInfo answered Device Busy half the time, nothing else: the
 * operation libgphoto2's ptp2 uses both to announce a new file and to
 * list its folder again when the file is fetched, where a busy answer
 * reads as "File ... does not exist" (arm64 under qemu, and once on
 * amd64, in the busy scenario's captures). */
static void busy_objectinfo(void)
{
    sim s;
    static const char *const args[] = {"--busy-rate", "0.5", "--busy-op", "0x1008", "--persona", "generic",
                                       "--photo-size", "800x532", "--seed", "3", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    int captures = 0, busy_answers = 0;
    capture_series(cam, 8, &captures, &busy_answers);
    OK(captures + busy_answers == 8 && captures > 0,
       "GetObjectInfo busy half the time: captures succeed or fail as busy, never \"does not exist\" (%d ok, %d busy)",
       captures, busy_answers);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

static void slow(void)
{
    sim s;
    static const char *const args[] = {"--rate-limit", "0.25", "--persona", "generic", "--photo-size", "1200x800", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    tether_file_list *l = NULL;
    OK(tether_files_list(cam, &l) == TETHER_OK && l->count > 0, "files list on a slow link");
    char dir[] = "/tmp/libtest-XXXXXX", local[256];
    mkdtemp(dir);
    snprintf(local, sizeof local, "%s/a.jpg", dir);
    double t0 = clock_mono_s();
    int rc = tether_file_download(cam, l->items[0].path, local);
    double t = clock_mono_s() - t0;
    struct stat st;
    OK(rc == TETHER_OK && stat(local, &st) == 0 && (uint64_t)st.st_size == l->items[0].size,
       "a download on a 0.25 MB/s link arrives whole (%llu bytes in %.2f s)", (unsigned long long)l->items[0].size, t);
    OK(t >= l->items[0].size / 0.25e6 * 0.8, "at the link's speed");
    /* a timeout shorter than the transfer: the call returns in time, the
     * job finishes in the background, the next call still works */
    tether_camera_set_timeout(cam, 500);
    snprintf(local, sizeof local, "%s/b.jpg", dir);
    t0 = clock_mono_s();
    rc = tether_file_download(cam, l->items[1].path, local);
    t = clock_mono_s() - t0;
    OK(rc == TETHER_ERR_TIMEOUT && t < 0.8, "a call gives up at its timeout (%s after %.2f s)", tether_err_name(rc), t);
    tether_camera_set_timeout(cam, 30000);
    tether_setting sett;
    rc = tether_setting_get(cam, "iso", &sett);
    OK(rc == TETHER_OK, "the camera still answers afterwards");
    if (rc == TETHER_OK) tether_setting_clear(&sett);
    OK(stat(local, &st) == 0 && (uint64_t)st.st_size == l->items[1].size, "the abandoned download still completed whole");
    tether_file_list_free(l);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    cleanup failed\n");
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* What a soak compares between its warm-up and its end: the heap in use
 * (mallinfo2: bytes handed out by malloc in every arena, mmapped chunks
 * included; what a leak grows), the process's threads and descriptors,
 * and RSS after glibc has given back the free memory of every arena
 * (raw_rss before).  RSS alone also moves with the allocator: a thread
 * that meets contention gets a new arena, whose pages stay resident. */
typedef struct soak_mem {
    long heap_kb, rss_kb, raw_rss_kb;
    int threads, fds;
} soak_mem;

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1) n++;
    return n;
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    if (f) fclose(f);
    return n;
}

/* Measured with the camera held idle (tether_camera_hold), so that what a
 * frame in flight has allocated on the owner thread (a 1280x720 JPEG being
 * encoded is some 450 kB) is never counted at one end and not the other:
 * on a slow machine the two measures otherwise catch different moments. */
static soak_mem soak_measure(tether_camera *cam)
{
    int held = tether_camera_hold(cam, true, 10000);
    if (held != TETHER_OK) printf("    (the camera did not go idle for the measure: %s)\n", tether_err_name(held));
    soak_mem m = {.raw_rss_kb = rss_kb()};
    malloc_trim(0);
    m.rss_kb = rss_kb();
    struct mallinfo2 mi = mallinfo2();
    m.heap_kb = (long)((mi.uordblks + mi.hblkhd) / 1024);
    m.threads = thread_count();
    m.fds = open_fds();
    tether_camera_hold(cam, false, 0);
    return m;
}

/* The flatness checks between warm (after warm_n of n iterations) and
 * end: heap in use +256 kB at most, RSS within 4 MB, no thread or
 * descriptor left over.  Under ASan, LeakSanitizer judges leaks at exit
 * and the heap and RSS figures are only printed. */
static void check_flat(const soak_mem *warm, const soak_mem *end, int warm_n, int n)
{
#if defined(__SANITIZE_ADDRESS__)
    OK(1, "memory: checked by LeakSanitizer at exit (RSS %ld kB after %d, %ld kB after %d: ASan's quarantine)",
       warm->rss_kb, warm_n, end->rss_kb, n);
#else
    OK(end->heap_kb - warm->heap_kb <= 256, "heap in use stays flat: %ld kB after %d, %ld kB after %d (%+ld kB)",
       warm->heap_kb, warm_n, end->heap_kb, n, end->heap_kb - warm->heap_kb);
    OK(end->rss_kb - warm->rss_kb <= 4096, "RSS stays within 4 MB: %ld kB after %d, %ld kB after %d (%+ld kB)",
       warm->rss_kb, warm_n, end->rss_kb, n, end->rss_kb - warm->rss_kb);
#endif
    OK(end->threads == warm->threads && end->fds == warm->fds,
       "no thread or descriptor left over: threads %d -> %d, descriptors %d -> %d", warm->threads, end->threads,
       warm->fds, end->fds);
}

static void frames(int n)
{
    sim s;
    static const char *const args[] = {"--fps", "0", "--lv-size", "352x240", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    int good = 0, timed = 0;
    soak_mem warm = {0};
    double t0 = clock_mono_s();
    for (int i = 0; i < n; i++) {
        tether_frame *f = NULL;
        double asked = clock_mono_s();
        if (tether_preview(cam, &f) != TETHER_OK) break;
        if (tether_frame_size(f) > 1000 && tether_frame_data(f)[0] == 0xFF) good++;
        /* asked frame by frame: the fetch took some time, less than the call */
        double fetch = (double)tether_frame_fetch_ns(f) / 1e9;
        if (fetch > 0 && fetch <= clock_mono_s() - asked) timed++;
        tether_frame_unref(f);
        if (i == n / 10) warm = soak_measure(cam);
    }
    double t = clock_mono_s() - t0;
    soak_mem end = soak_measure(cam);
    OK(good == n, "%d live-view frames in a row (%.0f fps)", good, good / t);
    OK(timed == n, "each says how long its fetch took, within the call (%d of %d)", timed, n);
    check_flat(&warm, &end, n / 10, n);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

/* Is b a whole JPEG (SOI ... EOI, at least 125 bytes)? */
static bool whole_jpeg(const uint8_t *b, size_t n)
{
    return n >= 125 && b[0] == 0xFF && b[1] == 0xD8 && b[n - 2] == 0xFF && b[n - 1] == 0xD9;
}

/* The number after "mapped " in the fake device's NAME.maps for spec's
 * device, or -1 when there is no such file. */
static int v4l2_mapped(const char *spec)
{
    const char *state = getenv("TETHER_V4L2SIM_STATE");
    const char *base = strrchr(spec, '/');
    if (state == NULL || base == NULL) return -1;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.maps", state, base + 1);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    int n = -1;
    if (fscanf(f, "mapped %d", &n) != 1) n = -1;
    fclose(f);
    return n;
}

static void v4l2_soak(const char *spec, int n_frames, int n_stills)
{
    char err[256] = "";
    tether_camera *cam = NULL;
    int rc = tether_camera_open(spec, 10000, &cam, err, sizeof err);
    OK(rc == TETHER_OK, "open %s%s%s", spec, rc ? ": " : "", err);
    if (rc != TETHER_OK) return;
    size_t cap = 32u << 20;
    uint8_t *still = malloc(cap);
    if (still == NULL) {
        tether_camera_close(cam);
        return;
    }
    int every = n_stills > 0 ? n_frames / n_stills : n_frames + 1;
    int warm = n_frames / 10, frames_ok = 0, frames_bad = 0, stills_ok = 0, stills_bad = 0;
    soak_mem warm_mem = {0};
    uint64_t seq = 0;
    double t0 = clock_mono_s(), t_warm = t0;
    tether_liveview_subscribe(cam);
    for (int i = 0; i < n_frames; i++) {
        tether_frame *f = NULL;
        rc = tether_liveview_next(cam, &seq, 10000, &f);
        if (rc != TETHER_OK) {
            tether_camera_last_error(cam, err, sizeof err);
            printf("    frame %d: error %d: %s\n", i, rc, err);
            frames_bad++;
            if (frames_bad > 10) break;
            continue;
        }
        if (whole_jpeg(tether_frame_data(f), tether_frame_size(f))) frames_ok++;
        else frames_bad++;
        tether_frame_unref(f);
        if ((i + 1) % every == 0) {
            size_t len = 0;
            rc = tether_capture_to_buffer(cam, still, cap, &len);
            if (rc == TETHER_OK && whole_jpeg(still, len)) {
                stills_ok++;
            } else {
                tether_camera_last_error(cam, err, sizeof err);
                printf("    still after frame %d: error %d: %s\n", i, rc, err);
                stills_bad++;
            }
        }
        if (i + 1 == warm) {
            warm_mem = soak_measure(cam);
            t_warm = clock_mono_s();
        }
    }
    soak_mem end_mem = soak_measure(cam);
    double t = clock_mono_s() - t0;
    tether_liveview_unsubscribe(cam);
    /* live view stops on the owner thread: wait for the buffers to go */
    int mapped = v4l2_mapped(spec);
    for (int i = 0; i < 100 && mapped != 0; i++) {
        clock_sleep_ns(100000000);
        mapped = v4l2_mapped(spec);
    }
    printf("soak: frames %d stills %d heap_warm_kb %ld heap_end_kb %ld rss_warm_kb %ld rss_end_kb %ld "
           "(untrimmed %ld -> %ld) threads %d -> %d fds %d -> %d seconds %.1f warmup_seconds %.1f fps %.0f "
           "mapped_after %d\n",
           frames_ok, stills_ok, warm_mem.heap_kb, end_mem.heap_kb, warm_mem.rss_kb, end_mem.rss_kb,
           warm_mem.raw_rss_kb, end_mem.raw_rss_kb, warm_mem.threads, end_mem.threads, warm_mem.fds, end_mem.fds, t,
           t_warm - t0, frames_ok / t, mapped);
    OK(frames_ok == n_frames && frames_bad == 0, "%d of %d live-view frames are whole JPEGs (%.0f fps)", frames_ok,
       n_frames, frames_ok / t);
    OK(stills_ok == n_stills && stills_bad == 0, "%d of %d stills interleaved with live view are whole JPEGs",
       stills_ok, n_stills);
    check_flat(&warm_mem, &end_mem, warm, n_frames);
    OK(mapped == 0, "no buffer stays mapped once live view is off (the device counts %d)", mapped);
    free(still);
    tether_camera_close(cam);
}

static void settings(int n)
{
    sim s;
    static const char *const args[] = {"--persona", "generic", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    static const char *const isos[] = {"100", "200", "400", "800"};
    int good = 0;
    soak_mem warm = {0};
    for (int i = 0; i < n; i++) {
        tether_setting st;
        if (tether_setting_set(cam, "iso", isos[i % 4]) == TETHER_OK &&
            tether_setting_get(cam, i % 2 ? "iso" : "/main/imgsettings/iso", &st) == TETHER_OK) {
            good += strcmp(st.value, isos[i % 4]) == 0;
            tether_setting_clear(&st);
        }
        if (i == n / 10) warm = soak_measure(cam);
    }
    soak_mem end = soak_measure(cam);
    OK(good == n, "%d settings written and read back", good);
    check_flat(&warm, &end, n / 10, n);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

typedef struct worker_arg {
    tether_camera *cam;
    int kind;
    int ok, fail;
    int first_err;           /* the first failure's tether_err, 0 if none */
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    for (int i = 0; i < 15; i++) {
        int rc;
        if (w->kind == 0) {
            tether_frame *f = NULL;
            rc = tether_preview(w->cam, &f);
            tether_frame_unref(f);
        } else if (w->kind == 1) {
            tether_setting s;
            rc = tether_setting_get(w->cam, "iso", &s);
            if (rc == TETHER_OK) tether_setting_clear(&s);
        } else if (w->kind == 2) {
            rc = tether_setting_set(w->cam, "iso", i % 2 ? "200" : "400");
        } else {
            tether_file_list *l = NULL;
            rc = tether_files_list(w->cam, &l);
            tether_file_list_free(l);
        }
        if (rc == TETHER_OK) {
            w->ok++;
        } else {
            if (w->fail++ == 0) w->first_err = rc;
        }
    }
    return NULL;
}

static void threads(void)
{
    sim s;
    static const char *const args[] = {"--fps", "0", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    pthread_t t[8];
    worker_arg w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker_arg){cam, i % 4, 0, 0};
        pthread_create(&t[i], NULL, worker, &w[i]);
    }
    int ok = 0, fail = 0;
    char why[600] = "";
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
        fail += w[i].fail;
        if (w[i].first_err && !why[0]) { /* say why, should it fail */
            char last[256];
            tether_camera_last_error(cam, last, sizeof last);
            snprintf(why, sizeof why, "; first failure (thread %d): %s; last error: %s", i,
                     tether_strerror(w[i].first_err), last);
        }
    }
    OK(ok == 120 && fail == 0, "8 threads x 15 calls on one camera: %d ok, %d failed%s", ok, fail, why);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

static void buffer(void)
{
    sim s;
    static const char *const args[] = {"--photo-size", "640x426", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    uint8_t small[1000];
    memset(small, 0xAB, sizeof small);
    size_t need = 0;
    int rc = tether_capture_to_buffer(cam, small, sizeof small, &need);
    bool untouched = true;
    for (size_t i = 0; i < sizeof small; i++) untouched &= small[i] == 0xAB;
    OK(rc == TETHER_ERR_BUFFER_TOO_SMALL && need > sizeof small && untouched,
       "a small buffer is not overflowed and the size needed is returned (%zu)", need);
    uint8_t *big = malloc(need);
    size_t len = 0;
    rc = tether_capture_fetch(cam, big, need, &len);
    int w = 0, h = 0;
    OK(rc == TETHER_OK && len == need && img_jpeg_size(big, len, &w, &h) == 0 && w == 640,
       "the kept image is fetched without a new shot (%dx%d)", w, h);
    free(big);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

static void tethered(void)
{
    sim s;
    static const char *const args[] = {"--photo-size", "640x426", "--persona", "nikon", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    char dir[] = "/tmp/libtest-XXXXXX";
    mkdtemp(dir);
    OK(tether_tethered(cam, dir, "body-{counter:02d}", true) == TETHER_OK, "tethered mode on");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -s -X POST http://127.0.0.1:%d/shutter >/dev/null", s.ctl);
    int saved = 0;
    for (int shot = 0; shot < 2; shot++) {
        if (system(cmd) != 0) printf("    curl failed\n");
        double t0 = clock_mono_s();
        while (clock_mono_s() - t0 < 10) {
            tether_event ev;
            if (tether_wait_event(cam, 200, &ev) == TETHER_OK && ev.type == TETHER_EVENT_FILE_ADDED && ev.local[0]) {
                saved++;
                printf("    saved %s\n", ev.local);
                break;
            }
        }
    }
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/body-01.jpg", dir);
    snprintf(p2, sizeof p2, "%s/body-02.jpg", dir);
    OK(saved == 2 && access(p1, F_OK) == 0 && access(p2, F_OK) == 0, "two body shots downloaded and named (%d)", saved);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    cleanup failed\n");
}

/* The first frame a watcher gets after live view was stopped must come at
 * once: libgphoto2 keeps a copy of the EOS output-device property that it
 * refreshes only from the camera's events, and a copy that still said "on"
 * made capture_preview wait out its 3 s "not ready" loop. */
static void restart_persona(const char *persona)
{
    sim s;
    const char *const args[] = {"--persona", persona, NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    double worst = 0;
    int starts = 0;
    for (int i = 0; i < 4; i++) {
        tether_liveview_subscribe(cam);
        uint64_t seq = 0;
        tether_frame *f = NULL;
        double t0 = clock_mono_s();
        /* the first call may hand back the last frame of the previous run */
        int rc = tether_liveview_next(cam, &seq, 5000, &f);
        tether_frame_unref(f);
        f = NULL;
        if (rc == TETHER_OK && i > 0) rc = tether_liveview_next(cam, &seq, 5000, &f);
        double took = clock_mono_s() - t0;
        tether_frame_unref(f);
        tether_liveview_unsubscribe(cam);
        if (rc != TETHER_OK) break;
        starts++;
        if (took > worst) worst = took;
        clock_sleep_ns(600000000); /* the owner thread stops live view meanwhile */
    }
    OK(starts == 4 && worst < 1.5, "%s: live view started 4 times, the slowest first frame after %.0f ms", persona,
       worst * 1000);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

static void restart(void)
{
    restart_persona("canon-eos");
    restart_persona("nikon");
}

static bool has_canonical(const tether_capabilities *c, const char *name, bool *writable)
{
    for (int i = 0; i < c->n_settings; i++) {
        if (strcmp(c->settings[i], name) != 0) continue;
        *writable = (c->writable >> i) & 1;
        return true;
    }
    return false;
}

static void caps_persona(const char *persona)
{
    sim s;
    const char *const args[] = {"--persona", persona, NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    bool canon = strcmp(persona, "canon-eos") == 0, nikon = strcmp(persona, "nikon") == 0;
    tether_capabilities c;
    OK(tether_camera_capabilities(cam, &c) == TETHER_OK && strcmp(c.backend, "gphoto2") == 0,
       "%s: capabilities from the gphoto2 backend", persona);
    OK((c.bits & TETHER_CAP_CARD_FILES) && (c.bits & TETHER_CAP_LIVEVIEW) &&
           c.liveview_formats == 1u << TETHER_PIXEL_JPEG,
       "%s: card files and JPEG live view (bits %#x)", persona, (unsigned)c.bits);
    if (canon || nikon)
        OK(c.focus.kind == TETHER_FOCUS_RELATIVE && c.focus.n_steps == 3 && c.focus.pace_ms[0] == 80 &&
               c.focus.pace_ms[2] == 150 && c.focus.step_units[0] == 1 && (!nikon || c.focus.step_units[2] == 30),
           "%s: relative focus, 3 sizes, paced 80..150 ms (units %d %d %d)", persona, c.focus.step_units[0],
           c.focus.step_units[1], c.focus.step_units[2]);
    else
        OK(c.focus.kind == TETHER_FOCUS_NONE && tether_focus_drive(cam, 1, 1, 1) == TETHER_ERR_NOT_SUPPORTED,
           "%s: no focus drive", persona);
    OK(canon ? (c.bits & TETHER_CAP_ZOOM) && c.focus.zoom_max == 10 : !(c.bits & TETHER_CAP_ZOOM) && c.focus.zoom_max == 1,
       "%s: zoom up to %d", persona, c.focus.zoom_max);
    bool w = false;
    OK(has_canonical(&c, "iso", &w) && w && has_canonical(&c, "aperture", &w) && w &&
           has_canonical(&c, "shutterspeed", &w) && w && has_canonical(&c, "whitebalance", &w) &&
           has_canonical(&c, "battery", &w),
       "%s: canonical iso, aperture, shutterspeed, whitebalance, battery (%d in all)", persona, c.n_settings);
    tether_setting st;
    int rc = tether_setting_get(cam, "aperture", &st);
    OK(rc == TETHER_OK && strcmp(st.canonical, "aperture") == 0, "%s: aperture is \"%s\" here (%s)", persona,
       rc == TETHER_OK ? st.name : "", rc == TETHER_OK ? st.value : tether_strerror(rc));
    if (rc == TETHER_OK) tether_setting_clear(&st);
    rc = tether_setting_set(cam, "shutterspeed", "1/250");
    if (rc == TETHER_OK) rc = tether_setting_get(cam, "shutterspeed", &st);
    /* the camera's spelling: "1/250" (EOS) or "0.0040s" (standard PTP) */
    OK(rc == TETHER_OK && (strcmp(st.value, "1/250") == 0 || strcmp(st.value, "0.0040s") == 0),
       "%s: shutterspeed 1/250 by its canonical name (%s)",
       persona, rc == TETHER_OK ? st.value : tether_strerror(rc));
    if (rc == TETHER_OK) tether_setting_clear(&st);
    rc = tether_liveview_zoom(cam, 5, 0.5, 0.5);
    OK(canon ? rc == TETHER_OK : rc == TETHER_ERR_NOT_SUPPORTED, "%s: liveview zoom 5x: %s", persona,
       tether_strerror(rc));
    if (canon) OK(tether_liveview_zoom(cam, 1, 0.5, 0.5) == TETHER_OK, "%s: liveview zoom back to 1x", persona);
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
}

static void caps(void)
{
    caps_persona("canon-eos");
    caps_persona("nikon");
    caps_persona("generic");
}

/* How many of this process's descriptors are connected to 127.0.0.1:port. */
static int sockets_to_port(int port)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++) {
        struct sockaddr_in a;
        socklen_t l = sizeof a;
        if (getpeername(fd, (struct sockaddr *)&a, &l) == 0 && a.sin_family == AF_INET && ntohs(a.sin_port) == port) n++;
    }
    return n;
}

/* Is fd open on the same file as st? */
static bool same_file(int fd, const struct stat *st)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

static int card_count(tether_camera *cam);

/* A camera frozen for a while (no answers, sockets open: Wi-Fi out of
 * range, a body that hung) during a capture.  It must come back soon after
 * it thaws, with the old session really closed (the camera sees it end),
 * the next capture must work, and libgphoto2's closing of the sockets
 * must never touch the process's standard descriptors. */
static void freeze(int seconds)
{
    sim s;
    static const char *const args[] = {"--persona", "generic", "--photo-size", "800x532", "--seed", "5", NULL};
    struct stat std0[3];
    for (int fd = 0; fd < 3; fd++) fstat(fd, &std0[fd]);
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    char dir[] = "/tmp/libtest-XXXXXX";
    mkdtemp(dir);
    tether_capture_options o = {.dir = dir};
    tether_shot shot;
    OK(tether_capture(cam, &o, &shot) == TETHER_OK, "capture before the freeze");
    for (int round = 0; round < 2; round++) {
        /* round 1 freezes before the shutter, round 2 in the middle of the capture */
        OK(round == 0 ? ctl_post(&s, "/freeze", NULL) == 200 : ctl_post(&s, "/faults", "{\"freeze_after_ops\": 2}") == 200,
           "round %d: the camera freezes %s", round + 1, round == 0 ? "" : "after the shutter");
        int on_card = round == 1 ? card_count(cam) : -1;
        double t_freeze = clock_mono_s();
        int rc = tether_capture(cam, &o, &shot);
        double took = clock_mono_s() - t_freeze;
        char why[512];
        tether_camera_last_error(cam, why, sizeof why);
        OK(rc != TETHER_OK, "round %d: a capture on the frozen camera fails (%s after %.1f s)", round + 1,
           tether_err_name(rc), took);
        /* frozen after the shutter: the message says the picture was taken
         * and where it is (this persona writes to its card) */
        if (round == 1)
            OK(strstr(why, "the camera fired") && strstr(why, "it is on the card"),
               "round 2: the error says the camera fired and the picture is on the card (%s)", why);
        double left = seconds - (clock_mono_s() - t_freeze);
        if (left > 0) clock_sleep_ns((int64_t)(left * 1e9)); /* the length of the fault, not a wait for state */
        OK(ctl_post(&s, "/thaw", NULL) == 200, "round %d: thawed after %.1f s", round + 1, clock_mono_s() - t_freeze);
        double t_thaw = clock_mono_s(), first_ok = -1;
        int tries = 0;
        while (clock_mono_s() - t_thaw < 40) {
            tries++;
            rc = tether_capture(cam, &o, &shot);
            if (rc == TETHER_OK) {
                first_ok = clock_mono_s() - t_thaw;
                break;
            }
            char m[512];
            tether_camera_last_error(cam, m, sizeof m);
            printf("    capture after the thaw: %s (%s)\n", tether_err_name(rc), m);
            if (rc == TETHER_ERR_DISCONNECTED) wait_for(cam, TETHER_EVENT_CAMERA_BACK, 1000);
        }
        OK(first_ok >= 0 && first_ok < 8, "round %d: the first capture after the thaw works %.1f s after it (%d tries)",
           round + 1, first_ok, tries);
        if (round == 1) { /* that capture's file was downloaded and deleted; the cut-off one's stays */
            int now_on_card = card_count(cam);
            OK(now_on_card == on_card + 1, "round 2: the picture is on the card (%d files, %d before)", now_on_card,
               on_card);
        }
        /* one host at a time: a session that was never closed would keep
         * the new one out (a host refused while the camera had not yet
         * noticed the old one's end tries again) */
        OK(ctl_state(&s, ".link.session_active") == 1 && tether_camera_connected(cam),
           "round %d: the old sessions ended, one is open (%g hosts refused meanwhile)", round + 1,
           ctl_state(&s, ".link.refused"));
        int socks = sockets_to_port(s.port);
        OK(socks == 2, "round %d: two sockets to the camera, no leftovers (%d)", round + 1, socks);
        bool std_ok = true;
        for (int fd = 0; fd < 3; fd++) std_ok &= same_file(fd, &std0[fd]);
        OK(std_ok, "round %d: fds 0, 1 and 2 are untouched", round + 1);
    }
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("    cleanup failed\n");
}

static int card_count(tether_camera *cam)
{
    tether_file_list *l = NULL;
    int n = tether_files_list(cam, &l) == TETHER_OK ? l->count : -1;
    tether_file_list_free(l);
    return n;
}

/* Entries in dir other than . and .. (temporary files included). */
static int dir_entries(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

static void storage(const char *dir)
{
    sim s;
    static const char *const args[] = {"--persona", "canon-eos", "--files", "0", NULL};
    tether_camera *cam = setup(&s, args);
    if (cam == NULL) return;
    char msg[512], good[] = "/tmp/libtest-XXXXXX";
    mkdtemp(good);
    tether_setting_set(cam, "capturetarget", "Memory card"); /* the card keeps what is not deleted */
    tether_capture_options o = {.dir = dir};
    tether_shot shot;

    /* a full disk */
    int before = card_count(cam);
    int rc = tether_capture(cam, &o, &shot);
    tether_camera_last_error(cam, msg, sizeof msg);
    OK(rc == TETHER_ERR_DISK_FULL, "a full disk: DISK_FULL (%s: %s)", tether_err_name(rc), msg);
    OK(strstr(msg, dir) && strstr(msg, "No space left"), "the message says where and why");
    OK(dir_entries(dir) == 0, "no partial or temporary file is left (%d entries)", dir_entries(dir));
    int after = card_count(cam);
    OK(after == before + 1, "the photo stays on the card (%d -> %d files)", before, after);
    OK(tether_camera_connected(cam), "the camera is not taken for lost");
    tether_capture_options og = {.dir = good};
    OK(tether_capture(cam, &og, &shot) == TETHER_OK && shot.n_files >= 1, "the next capture into a folder with room works");

    /* a read-only folder */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mount -o remount,ro '%s'", dir);
    OK(system(cmd) == 0, "the folder is made read-only");
    before = card_count(cam);
    rc = tether_capture(cam, &o, &shot);
    tether_camera_last_error(cam, msg, sizeof msg);
    OK(rc == TETHER_ERR_STORAGE && strstr(msg, dir) && strstr(msg, "Read-only"),
       "a read-only folder: STORAGE, saying where and why (%s: %s)", tether_err_name(rc), msg);
    OK(card_count(cam) == before + 1, "the photo stays on the card");
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/new", dir);
    tether_capture_options os = {.dir = sub};
    rc = tether_capture(cam, &os, &shot);
    tether_camera_last_error(cam, msg, sizeof msg);
    OK(rc == TETHER_ERR_STORAGE && strstr(msg, "cannot create"), "a folder that cannot be made: STORAGE (%s: %s)",
       tether_err_name(rc), msg);
    char local[1200];
    snprintf(local, sizeof local, "%s/x.jpg", dir);
    tether_file_list *l = NULL;
    if (tether_files_list(cam, &l) == TETHER_OK && l->count > 0) {
        rc = tether_file_download(cam, l->items[0].path, local);
        OK(rc == TETHER_ERR_STORAGE, "a download into it: STORAGE (%s)", tether_err_name(rc));
    }
    tether_file_list_free(l);

    /* tethered: a shot from the body's button that cannot be saved */
    OK(tether_tethered(cam, dir, "{name}", false) == TETHER_OK, "tethered mode into the read-only folder");
    before = card_count(cam);
    snprintf(cmd, sizeof cmd, "curl -s -X POST http://127.0.0.1:%d/shutter >/dev/null", s.ctl);
    if (system(cmd) != 0) printf("    curl failed\n");
    tether_event ev = {0};
    bool seen = false;
    double t0 = clock_mono_s();
    while (!seen && clock_mono_s() - t0 < 10)
        seen = tether_wait_event(cam, 200, &ev) == TETHER_OK && ev.type == TETHER_EVENT_FILE_ADDED;
    OK(seen && ev.local[0] == '\0' && strstr(ev.detail, "Read-only"), "the event says it was not saved, and why (\"%s\")",
       ev.detail);
    tether_tethered(cam, NULL, NULL, false);
    OK(card_count(cam) == before + 1, "and it is not deleted from the card");
    OK(tether_capture(cam, &og, &shot) == TETHER_OK, "the camera still works");
    tether_camera_close(cam);
    sim_kill(&s, SIGTERM);
    snprintf(cmd, sizeof cmd, "rm -rf %s", good);
    if (system(cmd) != 0) printf("    cleanup failed\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    log_init_from_env();
    if (argc < 2) {
        fprintf(stderr, "usage: libtest reconnect|busy|busy-objectinfo|slow|frames N|settings N|threads|buffer|tethered|restart|caps|freeze [S]|storage DIR|v4l2-soak SPEC FRAMES STILLS\n");
        return 2;
    }
    scenario = argv[1];
    if (strcmp(scenario, "reconnect") == 0) reconnect();
    else if (strcmp(scenario, "busy") == 0) busy();
    else if (strcmp(scenario, "busy-objectinfo") == 0) busy_objectinfo();
    else if (strcmp(scenario, "slow") == 0) slow();
    else if (strcmp(scenario, "frames") == 0) frames(argc > 2 ? atoi(argv[2]) : 10000);
    else if (strcmp(scenario, "threads") == 0) threads();
    else if (strcmp(scenario, "settings") == 0) settings(argc > 2 ? atoi(argv[2]) : 3000);
    else if (strcmp(scenario, "buffer") == 0) buffer();
    else if (strcmp(scenario, "tethered") == 0) tethered();
    else if (strcmp(scenario, "restart") == 0) restart();
    else if (strcmp(scenario, "caps") == 0) caps();
    else if (strcmp(scenario, "freeze") == 0) freeze(argc > 2 ? atoi(argv[2]) : 12);
    else if (strcmp(scenario, "storage") == 0 && argc > 2) storage(argv[2]);
    else if (strcmp(scenario, "v4l2-soak") == 0 && argc > 4) v4l2_soak(argv[2], atoi(argv[3]), atoi(argv[4]));
    else return 2;
    return failures ? 1 : 0;
}
