/*
 * cmd_capture: the commands that run for a while: capture (one shot, a
 * series, or at an interval), preview (frames to a file or a multipart
 * MJPEG stream on stdout) and tethered (download what the body shoots).
 * All stop cleanly on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli.h"
#include "image/tag.h"
#include "store/atomic.h"
#include "tether/interval.h"

/* "shots/{counter:03d}" -> dir "shots", template "{counter:03d}" */
static void split_output(const char *output, char *dir, size_t dsz, char *tmpl, size_t tsz)
{
    const char *slash = strrchr(output, '/');
    if (slash == NULL) {
        snprintf(dir, dsz, ".");
        snprintf(tmpl, tsz, "%s", output);
    } else {
        snprintf(dir, dsz, "%.*s", (int)(slash - output), slash == output ? "/" : output);
        if (slash == output) snprintf(dir, dsz, "/");
        snprintf(tmpl, tsz, "%s", slash + 1);
    }
}

/* "HH:MM[:SS]" today in local time, or tomorrow when it has passed. */
static bool parse_start(const char *text, double *epoch)
{
    int h, m, sec = 0;
    char extra;
    int n = sscanf(text, "%d:%d:%d%c", &h, &m, &sec, &extra);
    if (n < 2 || n > 3 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return false;
    if (n == 2 && strchr(text + strcspn(text, ":") + 1, ':')) return false;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t <= now) {
        tm.tm_mday++;
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    *epoch = (double)t;
    return true;
}

/* {"files": [{"local", "camera"}...]}, printing "saved" lines as text. */
static json_t *shot_json(const tether_shot *shot)
{
    json_t *files = json_array();
    for (int i = 0; i < shot->n_files; i++) {
        json_array_append_new(files, json_pack("{s:s, s:s}", "local", shot->files[i], "camera", shot->camera_files[i]));
        if (!g_cli.json) printf("saved %s\n", shot->files[i]);
    }
    fflush(stdout);
    return json_pack("{s:o}", "files", files);
}

/* Writes tags (--gps, --artist...) into the files of a shot, unless there
 * are none.  Returns how many files could not be tagged. */
static int tag_shot(const img_tags *tags, const tether_shot *shot)
{
    if (img_tags_empty(tags)) return 0;
    const char *files[TETHER_MAX_SHOT_FILES];
    for (int i = 0; i < shot->n_files; i++) files[i] = shot->files[i];
    return cli_tag_files(tags, files, shot->n_files, NULL);
}

typedef struct interval_ctx {
    json_t *shots;
    json_t *events;   /* what went wrong, in order */
    const img_tags *tags;
    long tag_failures;
} interval_ctx;

static void on_interval_event(void *user, const tether_interval_event *ev)
{
    interval_ctx *c = user;
    static const char *const kinds[] = {"shot", "missed", "failed", "camera_lost", "camera_back", "waiting"};
    if (ev->kind == TETHER_INTERVAL_SHOT) {
        json_t *j = shot_json(ev->shot);
        c->tag_failures += tag_shot(c->tags, ev->shot);
        json_object_set_new(j, "slot", json_integer(ev->slot));
        json_object_set_new(j, "late_ms", json_real(ev->late_s * 1000));
        json_array_append_new(c->shots, j);
        return;
    }
    json_array_append_new(c->events, json_pack("{s:s, s:I, s:s}", "event", kinds[ev->kind], "slot",
                                               (json_int_t)ev->slot, "message", ev->message));
    if (!g_cli.json) {
        if (ev->kind == TETHER_INTERVAL_WAITING) fprintf(stderr, "tether: %s\n", ev->message);
        else fprintf(stderr, "tether: slot %ld: %s\n", ev->slot + 1, ev->message);
    }
}

static bool interval_stop(void *user)
{
    (void)user;
    return g_cli_interrupted != 0;
}

/* The intervalometer (tether/interval.h); count 0: until interrupted. */
static int run_interval(tether_camera *cam, const tether_capture_options *opts, long count, double interval,
                        double start_epoch, const img_tags *tags)
{
    interval_ctx c = {.shots = json_array(), .events = json_array(), .tags = tags};
    tether_interval_options io = {.interval_s = interval, .count = count, .start_epoch = start_epoch,
                                  .capture = opts, .on_event = on_interval_event, .stop = interval_stop, .user = &c};
    tether_interval_result r;
    int rc = tether_interval_run(cam, &io, &r);
    if (rc != TETHER_OK) {
        json_decref(c.shots);
        json_decref(c.events);
        cli_error("intervalometer: %s", tether_strerror(rc));
        return EXIT_USAGE;
    }
    if (g_cli.json) {
        cli_print_json(json_pack("{s:o, s:o, s:I, s:I, s:I, s:f, s:f, s:b}", "shots", c.shots, "events", c.events,
                                 "missed", (json_int_t)r.missed, "failed", (json_int_t)r.failed, "next_slot",
                                 (json_int_t)r.next_slot, "max_late_ms", r.max_late_s * 1000, "mean_late_ms",
                                 r.mean_late_s * 1000, "interrupted", r.stopped));
    } else {
        json_decref(c.shots);
        json_decref(c.events);
        fprintf(stderr, "tether: %ld taken, %ld missed, %ld failed; started at most %.0f ms after the slot's time "
                        "(mean %.0f ms)%s\n",
                r.taken, r.missed, r.failed, r.max_late_s * 1000, r.mean_late_s * 1000,
                r.stopped ? "; interrupted" : "");
    }
    return r.missed || r.failed || c.tag_failures ? EXIT_FAILED : EXIT_OK;
}

int cmd_capture(int argc, char **argv)
{
    static const char *usage =
        "tether capture [--output TEMPLATE] [--count N] [--interval SECONDS [--start HH:MM[:SS]]] [--keep-on-card]\n"
        "               " CLI_TAG_USAGE;
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"count", required_argument, NULL, 'n'},
        {"interval", required_argument, NULL, 'i'}, {"keep-on-card", no_argument, NULL, 'k'},
        {"start", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, CLI_TAG_LONGOPTS,
        {NULL, 0, NULL, 0}};
    img_tags tags = {0};
    const char *output = "{name}";
    long count = 1;
    double interval = 0;
    bool keep = false;
    const char *start = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:n:i:s:kh", longopts, NULL)) != -1) {
        bool ok = true;
        switch (ch) {
        case 'o': output = optarg; break;
        case 'n': ok = cli_parse_long(optarg, 0, 1000000, &count); break;
        case 's': start = optarg; break;
        case 'i': ok = cli_parse_double(optarg, 0, 86400, &interval); break;
        case 'k': keep = true; break;
        case 'h': printf("usage: %s\n", usage); return EXIT_OK;
        default: {
            int r = cli_tag_option(ch, optarg, &tags);
            if (r < 0) return EXIT_USAGE;
            ok = r > 0;
        }
        }
        if (!ok) {
            cli_error("usage: %s", usage);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (usage: %s)", argv[optind], usage);
        return EXIT_USAGE;
    }
    if (count == 0 && interval <= 0) {
        cli_error("--count 0 (until stopped) needs --interval");
        return EXIT_USAGE;
    }
    if (start && interval <= 0) {
        cli_error("--start needs --interval");
        return EXIT_USAGE;
    }
    double start_epoch = 0;
    if (start && !parse_start(start, &start_epoch)) {
        cli_error("--start takes a time of day, HH:MM or HH:MM:SS (today, or tomorrow if it has passed): %s", start);
        return EXIT_USAGE;
    }
    char dir[1024], tmpl[256];
    split_output(output, dir, sizeof dir, tmpl, sizeof tmpl);
    if (strchr(dir, '{')) {
        cli_error("the folder part of --output cannot hold fields: %s", dir);
        return EXIT_USAGE;
    }
    tether_name_vars v = {.counter = 1, .ext = "jpg"};
    char test[1024], err[256];
    if (tether_name_expand(tmpl, &v, test, sizeof test, err, sizeof err) != TETHER_OK) {
        cli_error("--output: %s", err);
        return EXIT_USAGE;
    }

    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    cli_trap_signals();
    tether_capture_options opts = {.dir = dir, .name_template = tmpl, .keep_on_card = keep,
                                   .session = tags.session[0] ? tags.session : NULL};
    if (interval > 0) {
        int rc2 = run_interval(cam, &opts, count, interval, start_epoch, &tags);
        cli_close_camera(cam);
        return rc2;
    }
    json_t *shots = json_array();
    int exit_code = EXIT_OK;
    for (long k = 0; k < count && !g_cli_interrupted; k++) {
        tether_shot shot;
        int r = tether_capture(cam, &opts, &shot);
        if (r != TETHER_OK) {
            cli_camera_error(cam, r, "capture");
            exit_code = EXIT_FAILED;
            break;
        }
        json_array_append_new(shots, shot_json(&shot));
        if (tag_shot(&tags, &shot) > 0) exit_code = EXIT_FAILED;
    }
    if (g_cli.json)
        cli_print_json(json_pack("{s:o, s:I, s:b}", "shots", shots, "missed", (json_int_t)0,
                                 "interrupted", g_cli_interrupted != 0));
    else json_decref(shots);
    cli_close_camera(cam);
    return exit_code;
}

/* Writes a frame to path, replacing it atomically. */
static int save_frame(const char *path, const tether_frame *f)
{
    char dir[1024], name[256];
    split_output(path, dir, sizeof dir, name, sizeof name);
    if (store_mkdirs(dir) != TETHER_OK) return -1;
    store_atomic a;
    if (store_atomic_begin(&a, dir) != TETHER_OK) return -1;
    if (store_write_all(a.fd, tether_frame_data(f), tether_frame_size(f)) != 0) {
        store_atomic_abort(&a);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", a.tmp);
    if (fsync(a.fd) != 0 || close(a.fd) != 0 || rename(tmp, path) != 0) {
        a.fd = -1;
        store_atomic_abort(&a);
        return -1;
    }
    return 0;
}

/* The subscription's next frame, as tether_preview would end: an error as
 * soon as the camera is lost (not after the whole timeout; the session
 * goes on trying to reopen it), a timeout after --timeout. */
static int next_frame(tether_camera *cam, uint64_t *seq, tether_frame **f)
{
    double end = clock_mono_s() + g_cli.timeout_ms / 1000.0;
    for (;;) {
        int r = tether_liveview_next(cam, seq, 250, f);
        if (r != TETHER_ERR_TIMEOUT) return r;
        if (!tether_camera_connected(cam)) return TETHER_ERR_DISCONNECTED;
        if (clock_mono_s() >= end || g_cli_interrupted) return TETHER_ERR_TIMEOUT;
    }
}

int cmd_preview(int argc, char **argv)
{
    static const char *usage = "tether preview --output FILE [--count N] | tether preview --mjpeg [--count N]";
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"count", required_argument, NULL, 'n'},
        {"mjpeg", no_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *output = NULL;
    long count = -1;
    bool mjpeg = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:n:mh", longopts, NULL)) != -1) {
        bool ok = true;
        switch (ch) {
        case 'o': output = optarg; break;
        case 'n': ok = cli_parse_long(optarg, 1, 100000000, &count); break;
        case 'm': mjpeg = true; break;
        case 'h': printf("usage: %s\n", usage); return EXIT_OK;
        default: ok = false;
        }
        if (!ok) {
            cli_error("usage: %s", usage);
            return EXIT_USAGE;
        }
    }
    if ((output == NULL) == !mjpeg || optind < argc) {
        cli_error("usage: %s", usage);
        return EXIT_USAGE;
    }
    if (count < 0) count = mjpeg ? 100000000 : 1;
    bool numbered = output && strstr(output, "{counter");
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    cli_trap_signals();
    int exit_code = EXIT_OK;
    double t0 = clock_mono_s();
    long frames = 0;
    size_t bytes = 0;
    /* more than one frame from a camera that pushes its stream (a Sony
     * body): one live-view session for them all, each frame newer than the
     * last (tether_preview would open and close the stream for every
     * frame); a camera whose frames are pulled keeps its stream between
     * tether_preview calls */
    tether_capabilities caps;
    bool stream = count > 1 && tether_camera_capabilities(cam, &caps) == TETHER_OK &&
                  (caps.bits & TETHER_CAP_LIVEVIEW_PUSH);
    uint64_t seq = 0;
    if (stream) tether_liveview_subscribe(cam);
    for (long k = 0; k < count && !g_cli_interrupted; k++) {
        tether_frame *f = NULL;
        int r = stream ? next_frame(cam, &seq, &f) : tether_preview(cam, &f);
        if (r != TETHER_OK) {
            cli_camera_error(cam, r, "live view");
            exit_code = EXIT_FAILED;
            break;
        }
        int w = 0;
        if (mjpeg) {
            char head[128];
            int n = snprintf(head, sizeof head, "--tetherframe\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n",
                             tether_frame_size(f));
            w = store_write_all(STDOUT_FILENO, head, (size_t)n) | store_write_all(STDOUT_FILENO, tether_frame_data(f), tether_frame_size(f)) |
                store_write_all(STDOUT_FILENO, "\r\n", 2);
        } else {
            char path[1024];
            if (numbered) {
                char dir[1024], tmpl[256], name[512], err[256];
                split_output(output, dir, sizeof dir, tmpl, sizeof tmpl);
                tether_name_vars v = {.counter = (int)k + 1, .time = time(NULL), .ext = "jpg"};
                if (tether_name_expand(tmpl, &v, name, sizeof name, err, sizeof err) != TETHER_OK) {
                    cli_error("--output: %s", err);
                    tether_frame_unref(f);
                    exit_code = EXIT_USAGE;
                    break;
                }
                snprintf(path, sizeof path, "%s/%s", dir, name);
            } else {
                snprintf(path, sizeof path, "%s", output);
            }
            w = save_frame(path, f);
            if (w != 0) cli_error("cannot write %s: %s", path, strerror(errno));
        }
        frames++;
        bytes += tether_frame_size(f);
        tether_frame_unref(f);
        if (w != 0) {
            exit_code = mjpeg && errno == EPIPE ? EXIT_OK : EXIT_FAILED;
            break;
        }
    }
    if (stream) tether_liveview_unsubscribe(cam);
    double t = clock_mono_s() - t0;
    if (g_cli.json && !mjpeg)
        cli_print_json(json_pack("{s:I, s:f, s:f, s:I}", "frames", (json_int_t)frames, "seconds", t,
                                 "fps", t > 0 ? frames / t : 0.0, "bytes", (json_int_t)bytes));
    else if (!mjpeg)
        fprintf(stderr, "%ld frames in %.2f s (%.1f fps)\n", frames, t, t > 0 ? frames / t : 0.0);
    cli_close_camera(cam);
    return exit_code;
}

static const char *event_name(tether_event_type t)
{
    switch (t) {
    case TETHER_EVENT_FILE_ADDED: return "file_added";
    case TETHER_EVENT_CAPTURE_COMPLETE: return "capture_complete";
    case TETHER_EVENT_SETTING_CHANGED: return "setting_changed";
    case TETHER_EVENT_CAMERA_LOST: return "camera_lost";
    case TETHER_EVENT_CAMERA_BACK: return "camera_back";
    default: return "none";
    }
}

int cmd_tethered(int argc, char **argv)
{
    static const char *usage = "tether tethered --dest DIR [--output TEMPLATE] [--delete-from-card]";
    static const struct option longopts[] = {
        {"dest", required_argument, NULL, 'd'}, {"output", required_argument, NULL, 'o'},
        {"delete-from-card", no_argument, NULL, 'x'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dest = NULL, *tmpl = "{name}";
    bool keep = true;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': dest = optarg; break;
        case 'o': tmpl = optarg; break;
        case 'x': keep = false; break;
        case 'h': printf("usage: %s\n", usage); return EXIT_OK;
        default: cli_error("usage: %s", usage); return EXIT_USAGE;
        }
    }
    if (dest == NULL || optind < argc || strchr(tmpl, '/')) {
        cli_error("usage: %s", usage);
        return EXIT_USAGE;
    }
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    cli_trap_signals();
    int r = tether_tethered(cam, dest, tmpl, keep);
    if (r != TETHER_OK) {
        cli_camera_error(cam, r, "tethered mode");
        cli_close_camera(cam);
        return EXIT_FAILED;
    }
    if (!g_cli.json) fprintf(stderr, "tethered: shots taken on the camera go to %s (Ctrl-C to stop)\n", dest);
    while (!g_cli_interrupted) {
        tether_event ev;
        if (tether_wait_event(cam, 200, &ev) != TETHER_OK) continue;
        if (g_cli.json) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "event", event_name(ev.type), "camera", ev.path,
                                  "local", ev.local, "detail", ev.detail);
            char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", s);
            free(s);
            json_decref(j);
        } else if (ev.type == TETHER_EVENT_FILE_ADDED) {
            printf(ev.local[0] ? "saved %s\n" : "new file on the camera: %s\n", ev.local[0] ? ev.local : ev.path);
        } else if (ev.type == TETHER_EVENT_CAMERA_LOST) {
            printf("camera lost (%s); waiting for it\n", ev.detail);
        } else if (ev.type == TETHER_EVENT_CAMERA_BACK) {
            printf("camera back\n");
        }
        fflush(stdout);
    }
    tether_tethered(cam, NULL, NULL, true);
    cli_close_camera(cam);
    return EXIT_OK;
}
