/*
 * bench_lib: libtether measured directly, one session per run (see
 * docs/BENCHMARKS.md and bench/run-lib).
 *
 *   bench_lib SPEC settings      7 settings set in one session
 *   bench_lib SPEC capture N     N capture-and-downloads in a row
 *   bench_lib SPEC preview N     N live-view frames
 *
 * Prints "name value unit" lines; the time to open the session is
 * reported separately from the work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "tether/tether.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_lib SPEC settings|capture N|preview N\n");
        return 2;
    }
    int n = argc > 3 ? atoi(argv[3]) : 1;
    double t0 = clock_mono_s();
    tether_camera *cam;
    char err[512];
    if (tether_camera_open(argv[1], 30000, &cam, err, sizeof err) != TETHER_OK) {
        fprintf(stderr, "bench_lib: %s\n", err);
        return 1;
    }
    double t1 = clock_mono_s();
    printf("open_s %.3f s\n", t1 - t0);
    int rc = TETHER_OK;
    if (strcmp(argv[2], "settings") == 0) {
        static const char *const kv[7][2] = {
            {"iso", "400"}, {"aperture", "8"}, {"shutterspeed", "1/250"}, {"whitebalance", "Daylight"},
            {"exposurecompensation", "0.3"}, {"picturestyle", "Landscape"}, {"drivemode", "Continuous"}};
        for (int i = 0; i < 7 && rc == TETHER_OK; i++) rc = tether_setting_set(cam, kv[i][0], kv[i][1]);
        printf("settings_7_s %.3f s\n", clock_mono_s() - t1);
    } else if (strcmp(argv[2], "capture") == 0) {
        char dir[] = "/tmp/bench-lib-XXXXXX";
        if (mkdtemp(dir) == NULL) return 1;
        tether_capture_options o = {.dir = dir, .name_template = "{counter:03d}"};
        for (int i = 0; i < n && rc == TETHER_OK; i++) {
            tether_shot shot;
            rc = tether_capture(cam, &o, &shot);
            for (int k = 0; rc == TETHER_OK && k < shot.n_files; k++) unlink(shot.files[k]);
        }
        rmdir(dir);
        printf("capture_s_per_shot %.3f s\n", (clock_mono_s() - t1) / n);
    } else if (strcmp(argv[2], "preview") == 0) {
        for (int i = 0; i < n && rc == TETHER_OK; i++) {
            tether_frame *f = NULL;
            rc = tether_preview(cam, &f);
            tether_frame_unref(f);
        }
        printf("preview_fps %.1f frames/s\n", n / (clock_mono_s() - t1));
    }
    if (rc != TETHER_OK) {
        tether_camera_last_error(cam, err, sizeof err);
        fprintf(stderr, "bench_lib: %s: %s\n", tether_strerror(rc), err);
    }
    tether_camera_close(cam);
    return rc == TETHER_OK ? 0 : 1;
}
