/*
 * cmd_sim_v4l2: `tether sim v4l2 [options] -- COMMAND...`, which runs
 * COMMAND with simulated V4L2 capture devices present.
 *
 * It preloads libtetherv4l2sim.so (sim/v4l2/) into COMMAND and describes
 * the devices to it in the environment (TETHER_V4L2SIM_DEVICES, _STATE),
 * creates a placeholder file at each device path (the library makes it
 * look like a character device; a directory listing, which the library
 * cannot intercept, then finds it), points TETHER_V4L2_DIR at the first
 * device's directory (where tether's V4L2 discovery looks), and execs
 * COMMAND, whose exit status becomes ours.  Faults are injected by writing
 * DIR/NAME.fault ("unplug", "stall", "error N", "truncate N", "ok").
 * --fps N (TETHER_V4L2SIM_FPS) makes every device deliver N frames a
 * second whatever rate is set, for load tests; the device still reports
 * its persona's rates; --max-size WxH (TETHER_V4L2SIM_MAX_SIZE) leaves
 * out the persona's larger sizes, and --formats LIST
 * (TETHER_V4L2SIM_FORMATS) its other formats (a webcam that offers YUYV
 * only, say).  The library keeps DIR/NAME.maps up to date: how
 * many of the device's buffers the program has mapped now, and its mmap
 * and munmap counts.
 *
 * The library is found through TETHER_V4L2SIM_LIB, next to this program
 * in a build tree (sim/libtetherv4l2sim.so), or in the installed
 * package's library directory.  It is built without sanitizers, so any
 * program can load it.  A sanitizer-built COMMAND wants its runtime ahead
 * of every preloaded library: when COMMAND links the ASan or TSan runtime
 * that this tether has loaded too (a sanitizer build running its own
 * tests), that runtime is preloaded first; ASAN_OPTIONS also gains
 * verify_asan_link_order=0 for an ASan program started otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tether_config.h"

enum { MAX_SIM_DEVICES = 8 };

static void v4l2_usage(FILE *out)
{
    fprintf(out,
        "usage: tether sim v4l2 [options] -- COMMAND [ARG...]\n"
        "\n"
        "Runs COMMAND with simulated V4L2 capture devices (an LD_PRELOAD library):\n"
        "v4l2-compliance, ffmpeg, GStreamer and tether itself see them as real.\n"
        "\n"
        "  --device PATH[=PERSONA]  a device at PATH (repeatable; default\n"
        "                           ${TMPDIR:-/tmp}/tether-v4l2sim-UID/video0)\n"
        "  --persona NAME           persona of devices named without one:\n"
        "                           uvc-c920 (default), pi-libcamerify or\n"
        "                           bcm2835-legacy\n"
        "  --fps N                  deliver N frames a second whatever rate is\n"
        "                           set (load tests; 1..10000)\n"
        "  --max-size WxH           offer no larger size (load tests)\n"
        "  --formats LIST           offer only these of the persona's formats\n"
        "                           (fourccs, comma separated: YUYV,MJPG)\n"
        "  --state DIR              where NAME.ctrls and NAME.fault live\n"
        "                           (default: the first device's directory)\n"
        "  --focus-at F             where the subject is sharp, 0..1 of the\n"
        "                           focus range (default 0.4)\n"
        "faults: write \"unplug\", \"stall\", \"error N\", \"truncate N\" or \"ok\"\n"
        "into STATE/NAME.fault (NAME: the device path's last part).  STATE/NAME.maps\n"
        "says how many of the device's buffers COMMAND has mapped (\"mapped N\").\n");
}

/* The preload library's path into buf; false if none is found. */
static bool find_library(char *buf, size_t size)
{
    const char *env = getenv("TETHER_V4L2SIM_LIB");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return access(buf, R_OK) == 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, size, "%s/sim/libtetherv4l2sim.so", exe);
            if (access(buf, R_OK) == 0) return true;
        }
    }
    snprintf(buf, size, "%s/libtetherv4l2sim.so", TETHER_PKGLIBDIR);
    return access(buf, R_OK) == 0;
}

/* The path of a library this process has loaded whose file name contains
 * name ("libtsan.so"), from /proc/self/maps, into buf. */
static bool loaded_library(const char *name, char *buf, size_t size)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL) return false;
    char line[PATH_MAX + 128];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (path == NULL) continue;
        path[strcspn(path, "\n")] = '\0';
        const char *base = strrchr(path, '/') + 1;
        if (strstr(base, name) == NULL) continue;
        snprintf(buf, size, "%s", path);
        found = true;
    }
    fclose(f);
    return found;
}

/* cmd as execvp would find it, into buf. */
static bool find_command(const char *cmd, char *buf, size_t size)
{
    if (strchr(cmd, '/')) {
        snprintf(buf, size, "%s", cmd);
        return access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, size, "%s/%s", *d ? d : ".", cmd);
        if (access(buf, X_OK) == 0) return true;
    }
    return false;
}

/* Does the file at path contain the text needle (a library it needs is
 * named in its dynamic string table)? */
static bool file_mentions(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    size_t nlen = strlen(needle), have = 0;
    char buf[65536];
    bool found = false;
    for (;;) {
        size_t n = fread(buf + have, 1, sizeof buf - have, f);
        if (n == 0) break;
        have += n;
        if (memmem(buf, have, needle, nlen)) {
            found = true;
            break;
        }
        /* keep the tail that could start a match */
        memmove(buf, buf + have - (nlen - 1), nlen - 1);
        have = nlen - 1;
    }
    fclose(f);
    return found;
}

/* mkdir -p of path's directory part; a placeholder file at path. */
static bool make_placeholder(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    struct stat st;
    if (stat(path, &st) == 0) return true;
    FILE *f = fopen(path, "w");
    if (f == NULL) return false;
    return fclose(f) == 0;
}

static void dirname_of(const char *path, char *buf, size_t size)
{
    snprintf(buf, size, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash && slash != buf) *slash = '\0';
}

/* Whether list is one or more four-character codes separated by commas
 * (at most 16), as --formats takes them. */
static bool fourcc_list_ok(const char *list)
{
    size_t len = strlen(list);
    if (len == 0 || len > 16 * 5 - 1) return false;
    for (const char *s = list;; s += 5) {
        for (int i = 0; i < 4; i++)
            if (s[i] < '0' || s[i] > 'Z' || (s[i] > '9' && s[i] < 'A')) return false;
        if (s[4] == '\0') return true;
        if (s[4] != ',') return false;
    }
}

int cmd_sim_v4l2(int argc, char **argv)
{
    enum { OPT_DEVICE = 256, OPT_PERSONA, OPT_STATE, OPT_FOCUS_AT, OPT_FPS, OPT_MAX_SIZE, OPT_FORMATS };
    static const struct option longopts[] = {
        {"device", required_argument, NULL, OPT_DEVICE},
        {"persona", required_argument, NULL, OPT_PERSONA},
        {"state", required_argument, NULL, OPT_STATE},
        {"focus-at", required_argument, NULL, OPT_FOCUS_AT},
        {"fps", required_argument, NULL, OPT_FPS},
        {"max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"formats", required_argument, NULL, OPT_FORMATS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *devices[MAX_SIM_DEVICES];
    int n_devices = 0;
    const char *persona = "uvc-c920", *state = NULL, *formats = NULL;
    double focus_at = -1;
    long fps = 0;
    int max_w = 0, max_h = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_DEVICE:
            if (n_devices == MAX_SIM_DEVICES || optarg[0] != '/') {
                cli_error("--device takes an absolute path (at most %d devices)", MAX_SIM_DEVICES);
                return EXIT_USAGE;
            }
            devices[n_devices++] = optarg;
            break;
        case OPT_PERSONA:
            if (strcmp(optarg, "uvc-c920") != 0 && strcmp(optarg, "pi-libcamerify") != 0 &&
                strcmp(optarg, "bcm2835-legacy") != 0) {
                cli_error("unknown persona '%s' (uvc-c920, pi-libcamerify, bcm2835-legacy)", optarg);
                return EXIT_USAGE;
            }
            persona = optarg;
            break;
        case OPT_STATE: state = optarg; break;
        case OPT_FOCUS_AT:
            if (!cli_parse_double(optarg, 0, 1, &focus_at)) {
                cli_error("invalid value for --focus-at: '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_FPS:
            if (!cli_parse_long(optarg, 1, 10000, &fps)) {
                cli_error("invalid value for --fps: '%s' (1..10000)", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_MAX_SIZE:
            if (!cli_parse_size(optarg, 32, 16384, &max_w, &max_h)) {
                cli_error("invalid value for --max-size: '%s' (WxH)", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_FORMATS:
            if (!fourcc_list_ok(optarg)) {
                cli_error("invalid value for --formats: '%s' (fourccs, comma separated: YUYV,MJPG)", optarg);
                return EXIT_USAGE;
            }
            formats = optarg;
            break;
        case 'h': v4l2_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        v4l2_usage(stderr);
        return EXIT_USAGE;
    }
    char lib[PATH_MAX];
    if (!find_library(lib, sizeof lib)) {
        cli_error("libtetherv4l2sim.so not found (set TETHER_V4L2SIM_LIB)");
        return EXIT_FAILED;
    }
    char default_dev[PATH_MAX];
    if (n_devices == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(default_dev, sizeof default_dev, "%s/tether-v4l2sim-%u/video0", tmp && *tmp ? tmp : "/tmp",
                 (unsigned)getuid());
        devices[n_devices++] = default_dev;
    }
    char spec[MAX_SIM_DEVICES * (PATH_MAX + 32)] = "";
    size_t len = 0;
    for (int i = 0; i < n_devices; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", devices[i]);
        char *eq = strchr(path, '=');
        const char *p = persona;
        if (eq) {
            *eq = '\0';
            p = eq + 1;
        }
        if (!make_placeholder(path)) {
            cli_error("cannot create the placeholder %s: %s", path, strerror(errno));
            return EXIT_FAILED;
        }
        len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%s=%s", i ? "," : "", path, p);
        if (len >= sizeof spec) return EXIT_USAGE;
    }
    char first_dir[PATH_MAX];
    char first[PATH_MAX];
    snprintf(first, sizeof first, "%s", devices[0]);
    char *eq = strchr(first, '=');
    if (eq) *eq = '\0';
    dirname_of(first, first_dir, sizeof first_dir);

    char runtime[PATH_MAX] = "", command[PATH_MAX];
    static const char *const runtimes[] = {"libtsan.so", "libasan.so"};
    for (size_t i = 0; i < sizeof runtimes / sizeof runtimes[0] && !runtime[0]; i++)
        if (loaded_library(runtimes[i], runtime, sizeof runtime) &&
            !(find_command(argv[optind], command, sizeof command) && file_mentions(command, runtimes[i])))
            runtime[0] = '\0';
    char preload[3 * PATH_MAX + 3];
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof preload, "%s%s%s%s%s", runtime, runtime[0] ? ":" : "", lib, old && *old ? ":" : "",
             old && *old ? old : "");
    char asan[1024];
    const char *old_asan = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", old_asan && *old_asan ? old_asan : "",
             old_asan && *old_asan ? ":" : "");
    char focus[32], rate[32], max_size[48];
    snprintf(max_size, sizeof max_size, "%dx%d", max_w, max_h);
    snprintf(focus, sizeof focus, "%.4f", focus_at);
    snprintf(rate, sizeof rate, "%ld", fps);
    if (setenv("TETHER_V4L2SIM_DEVICES", spec, 1) != 0 ||
        setenv("TETHER_V4L2SIM_STATE", state ? state : first_dir, 1) != 0 ||
        setenv("TETHER_V4L2_DIR", first_dir, 1) != 0 || setenv("LD_PRELOAD", preload, 1) != 0 ||
        setenv("ASAN_OPTIONS", asan, 1) != 0 ||
        (focus_at >= 0 && setenv("TETHER_V4L2SIM_FOCUS_AT", focus, 1) != 0) ||
        (fps > 0 && setenv("TETHER_V4L2SIM_FPS", rate, 1) != 0) ||
        (max_w > 0 && setenv("TETHER_V4L2SIM_MAX_SIZE", max_size, 1) != 0) ||
        (formats && setenv("TETHER_V4L2SIM_FORMATS", formats, 1) != 0)) {
        cli_error("cannot set the environment");
        return EXIT_FAILED;
    }
    fflush(stdout);
    execvp(argv[optind], argv + optind);
    cli_error("cannot run %s: %s", argv[optind], strerror(errno));
    return EXIT_FAILED;
}
