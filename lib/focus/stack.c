/*
 * stack: focus stacking, see focus.h.  N pictures with the focus stepped
 * evenly between two limits, then merged with enfuse when it is
 * installed.
 *
 * Every step goes in one direction, after the gears' backlash has been
 * taken up (two Near2 steps against the direction and two with it), so
 * that each command moves the focus by what it says.  Steps are made of
 * Near3, Near2 and Near1 commands (30, 4.3 and 1 Near1 nominally, two in
 * flight at most); their fractional remainder is carried to the next
 * step, so the stack spans what was asked and not a rounded multiple.
 * Before each picture the meter waits for the picture to stop changing
 * (no fixed sleeps).
 *
 * Merging: enfuse's focus-stacking weights (contrast only, hard mask:
 * every pixel from its sharpest frame) on the JPEGs, written next to them
 * as merged.jpg.  enfuse runs as a child process (posix_spawnp, no
 * shell); without it, the message says how to merge by hand.  Frames are
 * not aligned first: focus breathing of a few pixels shows as soft edges
 * (align_image_stack from hugin-tools does it; the message says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "algorithms.h"
#include "meter.h"
#include "base/log.h"
#include "store/atomic.h"

extern char **environ;

int focus_stack_folder(const char *dir, char *out, size_t size)
{
    if (dir == NULL) dir = ".";
    if (store_mkdirs(dir) != 0) return TETHER_ERR_IO;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 100; i++) {
        int n = i == 1 ? snprintf(out, size, "%s/stack-%s", dir, stamp)
                       : snprintf(out, size, "%s/stack-%s-%d", dir, stamp, i);
        if (n < 0 || (size_t)n >= size) return TETHER_ERR_INVALID_ARGUMENT;
        if (mkdir(out, 0755) == 0) return 0;
        if (errno != EEXIST) return TETHER_ERR_IO;
    }
    return TETHER_ERR_EXISTS;
}

static bool is_jpeg(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

/* Is `prog` an executable in PATH? */
static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (path == NULL) path = "/usr/bin:/bin";
    char buf[1024];
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && len < 900) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)len, p, prog);
            if (access(buf, X_OK) == 0) return true;
        }
        if (!end) break;
        p = end + 1;
    }
    return false;
}

/* Runs enfuse on the frames; 0 or a tether_err (r->message says why). */
static int merge(char frames[][1024], int n, const char *folder, tether_stack_result *r)
{
    char out[1100];
    snprintf(out, sizeof out, "--output=%s/merged.jpg", folder);
    static const char *const fixed[] = {"enfuse", "--exposure-weight=0", "--saturation-weight=0",
                                        "--contrast-weight=1", "--hard-mask", "--compression=95"};
    enum { NFIXED = sizeof fixed / sizeof fixed[0] };
    char *argv[NFIXED + 2 + 999];
    int k = 0;
    for (int i = 0; i < NFIXED; i++) argv[k++] = (char *)fixed[i]; /* posix_spawn does not write them */
    argv[k++] = out;
    for (int i = 0; i < n && k < (int)(sizeof argv / sizeof argv[0]) - 1; i++) argv[k++] = frames[i];
    argv[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, "enfuse", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        snprintf(r->message, sizeof r->message, "Could not run enfuse: %s.", strerror(rc));
        return TETHER_ERR_IO;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(r->message, sizeof r->message, "enfuse failed (status %d); the frames are in %s.",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, folder);
        return TETHER_ERR_IO;
    }
    snprintf(r->merged, sizeof r->merged, "%s/merged.jpg", folder);
    return 0;
}

static void report(const tether_stack_options *o, const char *stage, int taken, double fraction)
{
    if (o->progress == NULL) return;
    tether_focus_progress p = {.tool = "stack", .stage = stage, .frames = taken,
                               .fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction};
    o->progress(o->user, &p);
}

/* Moves `distance` Near1 (nominal) in direction dir with Near3/2/1
 * commands, two in flight at most; *done gets the distance commanded.
 * TETHER_ERR_END_STOP when the camera said the lens reached its end stop
 * (after the lens settled there). */
static int move(focus_meter *m, int dir, double distance, double *done)
{
    static const int steps[3] = {3, 2, 1};
    *done = 0;
    int in_flight = 0;
    for (int i = 0; i < 3; i++) {
        double size = fmeter_step_size[steps[i]];
        while (distance - *done >= size - (steps[i] == 1 ? 0.5 : 1e-9)) {
            int rc = fmeter_drive(m, dir, steps[i]);
            if (rc != 0) return rc;
            if (m->stop_hit == dir) {
                focus_sample s;
                rc = fmeter_settle(m, &s, NULL, false, 2500);
                return rc != 0 ? rc : TETHER_ERR_END_STOP;
            }
            *done += size;
            if (++in_flight == 2) {
                focus_sample s;
                rc = fmeter_settle(m, &s, NULL, false, 2500);
                if (rc != 0) return rc;
                in_flight = 0;
            }
        }
    }
    return 0;
}

int focus_stack_run(const focus_port *port, const tether_stack_options *o, const char *folder,
                    tether_stack_result *r)
{
    snprintf(r->folder, sizeof r->folder, "%s", folder);
    if (o->count < 2 || o->count > 999 || !(o->span > 0) || (o->direction != 1 && o->direction != -1)) {
        snprintf(r->message, sizeof r->message, "A stack needs 2-999 pictures, a span > 0 and a direction.");
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    r->step = o->span / (o->count - 1);
    focus_meter m;
    fmeter_init(&m, port, (img_region){0.4, 0.4, 0.2, 0.2});
    char(*files)[1024] = calloc((size_t)o->count, sizeof *files);
    if (files == NULL) return TETHER_ERR_NO_MEMORY;
    int nfiles = 0;
    focus_sample s;
    int rc = fmeter_calibrate(&m, 2, &s);
    double dummy;
    /* take up the backlash in the stack's direction (a lens at its end
     * stop has none to take up that way) */
    if (rc == 0) rc = move(&m, -o->direction, 2 * fmeter_step_size[2], &dummy);
    if (rc == TETHER_ERR_END_STOP) rc = 0;
    if (rc == 0) rc = move(&m, o->direction, 2 * fmeter_step_size[2], &dummy);
    if (rc == TETHER_ERR_END_STOP) {
        snprintf(r->message, sizeof r->message, "The lens is already at its %s end stop: no room for a stack that way.",
                 o->direction > 0 ? "near" : "far");
        rc = TETHER_ERR_END_STOP;
    }
    double owed = 0; /* commanded minus planned, Near1 */
    for (int i = 0; rc == 0 && i < o->count; i++) {
        if (i > 0) {
            double done;
            report(o, "stepping", i, (double)i / o->count);
            rc = move(&m, o->direction, r->step - owed, &done);
            if (rc != 0) break;
            owed = done - (r->step - owed);
        }
        rc = fmeter_settle(&m, &s, NULL, true, 2500);
        if (rc != 0) break;
        report(o, "capturing", i, (i + 0.5) / o->count);
        tether_shot shot = {0};
        rc = port->capture ? port->capture(port->ctx, &shot) : TETHER_ERR_NOT_SUPPORTED;
        if (rc != 0) break;
        r->taken++;
        for (int f = 0; f < shot.n_files; f++)
            if (is_jpeg(shot.files[f]) && nfiles < o->count) snprintf(files[nfiles++], 1024, "%s", shot.files[f]);
    }
    fmeter_free(&m);
    if (rc == TETHER_ERR_CANCELLED) {
        snprintf(r->message, sizeof r->message, "Cancelled after %d of %d pictures; they are in %s.", r->taken,
                 o->count, folder);
    } else if (rc != 0) {
        snprintf(r->message, sizeof r->message, "Stopped after %d of %d pictures (%s); they are in %s.",
                 r->taken, o->count, tether_strerror(rc), folder);
    } else if (!o->merge) {
        snprintf(r->message, sizeof r->message, "%d pictures, %.1f steps apart, in %s.", r->taken, r->step, folder);
    } else if (nfiles < 2) {
        snprintf(r->message, sizeof r->message,
                 "%d pictures in %s; no JPEGs to merge (set the camera to JPEG or RAW+JPEG).", r->taken, folder);
    } else if (!tether_focus_can_merge()) {
        snprintf(r->message, sizeof r->message,
                 "%d pictures in %s. enfuse is not installed (Debian: apt install enfuse); merge with: "
                 "enfuse --exposure-weight=0 --saturation-weight=0 --contrast-weight=1 --hard-mask "
                 "--output=merged.jpg *.jpg",
                 r->taken, folder);
    } else {
        report(o, "merging", r->taken, 0.98);
        if (merge(files, nfiles, folder, r) == 0)
            snprintf(r->message, sizeof r->message, "%d pictures, %.1f steps apart, merged into %s.", r->taken,
                     r->step, r->merged);
    }
    free(files);
    report(o, "done", r->taken, 1);
    return rc == TETHER_ERR_CANCELLED ? 0 : rc;
}

bool tether_focus_can_merge(void)
{
    return in_path("enfuse");
}
