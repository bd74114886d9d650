/*
 * installed_client: a program outside tether's tree, built only by
 * tests/integration/pkg_install.sh against an installed libtether with
 * `pkg-config --cflags --libs tether` (never by meson: it must see the
 * installed headers and nothing else).  It checks that what a user of the
 * library gets works through the shared library:
 *
 *   the version, the error names and messages, a naming template (and a
 *   bad one, refused with a message), the log level, a log handler that
 *   receives the library's messages instead of stderr, listing USB
 *   cameras, and a session with a camera (a simulated one: the model it
 *   names, a download it refuses, which the library logs) plus one with a
 *   camera that is not there (refused).
 *
 * Usage: installed_client VERSION SPEC MODEL DEAD
 *   VERSION  what tether_version must say (pkg-config --modversion tether)
 *   SPEC     a camera to open ("ptpip:127.0.0.1:PORT")
 *   MODEL    the model it must name
 *   DEAD     a spec where no camera answers ("ptpip:127.0.0.1:PORT")
 * Prints "ok - ..." or "not ok - ..." per check; exits 1 if any failed.
 */
#define _POSIX_C_SOURCE 200809L /* open, close, O_CLOEXEC under -std=c17 */

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <tether/errors.h>
#include <tether/log.h>
#include <tether/tether.h>

static int failures;

static void report(int good, const char *what, const char *detail)
{
    if (good) {
        printf("ok - installed_client: %s\n", what);
    } else {
        printf("not ok - installed_client: %s -- %s\n", what, detail);
        failures++;
    }
}

/* What the log handler saw; the library's threads may call it. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static int seen_messages;
static char seen_first[300];

static void count_message(tether_log_level level, const char *module, const char *message,
                          void *user)
{
    int *calls_on_user = user;
    pthread_mutex_lock(&seen_lock);
    if (seen_messages++ == 0) {
        snprintf(seen_first, sizeof seen_first, "%d %s: %s", (int)level, module, message);
    }
    (*calls_on_user)++;
    pthread_mutex_unlock(&seen_lock);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: installed_client VERSION SPEC MODEL DEAD\n");
        return 2;
    }
    char detail[600];

    snprintf(detail, sizeof detail, "'%s', expected '%s'", tether_version(), argv[1]);
    report(strcmp(tether_version(), argv[1]) == 0, "tether_version", detail);

    report(strcmp(tether_err_name(TETHER_ERR_DISK_FULL), "DISK_FULL") == 0 &&
               strcmp(tether_strerror(TETHER_ERR_DISCONNECTED), "camera disconnected") == 0,
           "tether_err_name and tether_strerror", tether_err_name(TETHER_ERR_DISK_FULL));

    tether_name_vars v = {.counter = 7, .name = "IMG_0007", .ext = "cr2"};
    char name[256], err[256] = "";
    int rc = tether_name_expand("shot-{counter:03d}-{name}", &v, name, sizeof name, err, sizeof err);
    snprintf(detail, sizeof detail, "rc %d, '%s' (%s)", rc, name, err);
    report(rc == TETHER_OK && strcmp(name, "shot-007-IMG_0007.cr2") == 0, "tether_name_expand", detail);
    err[0] = '\0';
    rc = tether_name_expand("shot-{nosuchfield}", &v, name, sizeof name, err, sizeof err);
    snprintf(detail, sizeof detail, "rc %d, message '%s'", rc, err);
    report(rc == TETHER_ERR_BAD_VALUE && err[0] != '\0', "tether_name_expand refuses an unknown field",
           detail);

    tether_log_set_level(TETHER_LOG_INFO);
    tether_log_level was = tether_log_get_level();
    tether_log_set_level(TETHER_LOG_DEBUG);
    snprintf(detail, sizeof detail, "%d then %d", (int)was, (int)tether_log_get_level());
    report(was == TETHER_LOG_INFO && tether_log_get_level() == TETHER_LOG_DEBUG,
           "tether_log_set_level and tether_log_get_level", detail);

    /* from here on, every message of the library goes to the handler */
    int handler_calls = 0;
    tether_log_set_handler(count_message, &handler_calls);

    tether_camera_info cams[8];
    int ncams = -1;
    rc = tether_list_cameras(cams, 8, &ncams);
    snprintf(detail, sizeof detail, "rc %d (%s), count %d", rc, tether_err_name(rc), ncams);
    report(rc == TETHER_OK && ncams >= 0, "tether_list_cameras", detail);

    tether_camera *cam = NULL;
    rc = tether_camera_open(argv[2], 20000, &cam, err, sizeof err);
    snprintf(detail, sizeof detail, "rc %d (%s): %s", rc, tether_err_name(rc), err);
    report(rc == TETHER_OK && cam != NULL, "tether_camera_open of the simulated camera", detail);
    if (cam != NULL) {
        char model[128] = "";
        tether_camera_model(cam, model, sizeof model);
        snprintf(detail, sizeof detail, "'%s', expected '%s'", model, argv[3]);
        report(strcmp(model, argv[3]) == 0, "tether_camera_model", detail);
        /* a file the card does not have: refused, and the backend logs why */
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        rc = tether_file_download_fd(cam, "/store_00010001/DCIM/100CANON/NO_SUCH.JPG", fd);
        if (fd >= 0) close(fd);
        tether_camera_last_error(cam, err, sizeof err);
        snprintf(detail, sizeof detail, "rc %d (%s): %s", rc, tether_err_name(rc), err);
        report(rc != TETHER_OK && err[0] != '\0', "tether_file_download_fd of a file not on the card", detail);
        tether_camera_close(cam);
    }

    cam = NULL;
    err[0] = '\0';
    rc = tether_camera_open(argv[4], 5000, &cam, err, sizeof err);
    snprintf(detail, sizeof detail, "rc %d (%s): %s", rc, tether_err_name(rc), err);
    report(rc != TETHER_OK && cam == NULL && err[0] != '\0', "tether_camera_open where no camera answers",
           detail);
    tether_camera_close(cam);

    tether_log_set_handler(NULL, NULL);
    pthread_mutex_lock(&seen_lock);
    snprintf(detail, sizeof detail, "%d messages (%d counted through user), first: %s", seen_messages,
             handler_calls, seen_first);
    report(seen_messages > 0 && handler_calls == seen_messages, "the log handler gets the library's messages",
           detail);
    pthread_mutex_unlock(&seen_lock);

    return failures == 0 ? 0 : 1;
}
