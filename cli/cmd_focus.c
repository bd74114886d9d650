/*
 * cmd_focus: `tether focus ...`, the focus tools on the command line.
 *
 *   focus drive near|far [--step 1|2|3] [--count N]   move the lens motor
 *   focus measure [--roi X,Y,W,H] [--count N]          sharpness of live-view frames
 *   focus auto [--roi ...] [--mode global|nearest] [--no-zoom] [--range STEPS]
 *   focus trap [--roi ...] [--zoom 1|5|10] [--lag MS] [--timeout S]
 *              [--output TEMPLATE] [--dest DIR]
 *   (auto and trap take --baseline: the seed documents' algorithms, for
 *   comparison)
 *   focus stack --count N --span STEPS [--toward near|far] [--dest DIR] [--no-merge]
 *
 * Each opens the camera, runs one libtether call (include/tether/focus.h)
 * and prints its result: a line for a person, or a JSON object with
 * --json.  Progress goes to stderr as one line per stage when stderr is
 * a terminal or -v is given.  SIGINT/SIGTERM stop the tool through its
 * stop callback: the result then says "cancelled".  Exit status 0 when
 * the tool did what was asked (focused, fired, stacked), 1 when it ran
 * but did not (no peak, timeout) or the camera failed, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static bool g_verbose;

static bool stop_requested(void *user)
{
    (void)user;
    return g_cli_interrupted != 0;
}

static void progress(void *user, const tether_focus_progress *p)
{
    static char last[32];
    (void)user;
    if (!g_verbose || strcmp(last, p->stage) == 0) return;
    snprintf(last, sizeof last, "%s", p->stage);
    fprintf(stderr, "%s: %s (frame %d, sharpness %.4g)\n", p->tool, p->stage, p->frames, p->measure);
}

static int usage_error(const char *usage)
{
    cli_error("usage: %s", usage);
    return EXIT_USAGE;
}

static int focus_drive(int argc, char **argv)
{
    static const char *usage = "tether focus drive near|far [--step 1|2|3] [--count N]";
    static const struct option longopts[] = {{"step", required_argument, NULL, 's'},
                                             {"count", required_argument, NULL, 'c'},
                                             {NULL, 0, NULL, 0}};
    if (argc < 3 || (strcmp(argv[2], "near") != 0 && strcmp(argv[2], "far") != 0)) return usage_error(usage);
    int direction = strcmp(argv[2], "near") == 0 ? 1 : -1;
    long step = 1, count = 1;
    int ch;
    optind = 3;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = ch == 's' ? cli_parse_long(optarg, 1, 3, &step)
                : ch == 'c' ? cli_parse_long(optarg, 1, 10000, &count) : false;
        if (!ok) return usage_error(usage);
    }
    if (optind < argc) return usage_error(usage);
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    int r = tether_focus_drive(cam, direction, (int)step, (int)count);
    if (r != TETHER_OK) cli_camera_error(cam, r, "focus drive");
    else if (g_cli.json) cli_print_json(json_pack("{s:b}", "ok", 1));
    cli_close_camera(cam);
    return r == TETHER_OK ? EXIT_OK : EXIT_FAILED;
}

static int focus_measure(tether_camera *cam, const tether_roi *roi, int count)
{
    tether_liveview_subscribe(cam);
    uint64_t seq = 0;
    int rc = TETHER_OK;
    json_t *all = json_array();
    for (int i = 0; i < count && !g_cli_interrupted; i++) {
        tether_frame *f = NULL;
        rc = tether_liveview_next(cam, &seq, 5000, &f);
        if (rc != TETHER_OK) {
            cli_camera_error(cam, rc, "live view");
            break;
        }
        tether_focus_measures m;
        rc = tether_focus_measure_jpeg(tether_frame_data(f), tether_frame_size(f), roi, &m);
        tether_frame_unref(f);
        if (rc != TETHER_OK) {
            cli_error("focus measure: %s (is the focus area too small?)", tether_strerror(rc));
            break;
        }
        if (g_cli.json)
            json_array_append_new(all, json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:i}", "tenengrad",
                                                 m.tenengrad, "tenengrad_coarse", m.tenengrad_coarse, "lapv",
                                                 m.lapv, "dct", m.dct, "median_residual", m.median_residual,
                                                 "mean", m.mean, "roi_width", m.roi_width, "roi_height",
                                                 m.roi_height));
        else
            printf("tenengrad %.5g  coarse %.5g  lapv %.5g  dct %.5g  median-residual %.5g  mean %.1f  (%dx%d px)\n",
                   m.tenengrad, m.tenengrad_coarse, m.lapv, m.dct, m.median_residual, m.mean, m.roi_width,
                   m.roi_height);
    }
    tether_liveview_unsubscribe(cam);
    if (g_cli.json && rc == TETHER_OK) cli_print_json(all);
    else json_decref(all);
    return rc == TETHER_OK ? EXIT_OK : EXIT_FAILED;
}

static json_t *shot_json(const tether_shot *s)
{
    json_t *files = json_array();
    for (int i = 0; i < s->n_files; i++) json_array_append_new(files, json_string(s->files[i]));
    return files;
}

int cmd_focus(int argc, char **argv)
{
    static const char *usage =
        "tether focus drive near|far [--step 1|2|3] [--count N]\n"
        "       tether focus measure [--roi X,Y,W,H] [--count N]\n"
        "       tether focus auto [--roi X,Y,W,H] [--mode global|nearest] [--no-zoom]\n"
        "                         [--range STEPS] [--baseline] [-v]\n"
        "       tether focus trap [--roi X,Y,W,H] [--zoom 1|5|10] [--lag MS] [--timeout S]\n"
        "                         [--dest DIR] [--output TEMPLATE] [--baseline] [-v]\n"
        "       tether focus stack --count N --span STEPS [--toward near|far] [--dest DIR] [--no-merge] [-v]";
    if (argc < 2) return usage_error(usage);
    const char *tool = argv[1];
    if (strcmp(tool, "drive") == 0) return focus_drive(argc, argv);
    bool is_measure = strcmp(tool, "measure") == 0, is_auto = strcmp(tool, "auto") == 0;
    bool is_trap = strcmp(tool, "trap") == 0, is_stack = strcmp(tool, "stack") == 0;
    if (!is_measure && !is_auto && !is_trap && !is_stack) return usage_error(usage);

    enum { O_ROI = 1, O_MODE, O_NOZOOM, O_ZOOM, O_LAG, O_TIMEOUT, O_DEST, O_OUTPUT, O_COUNT, O_SPAN, O_TOWARD,
           O_NOMERGE, O_BASELINE, O_RANGE };
    static const struct option longopts[] = {
        {"roi", required_argument, NULL, O_ROI},         {"mode", required_argument, NULL, O_MODE},
        {"no-zoom", no_argument, NULL, O_NOZOOM},        {"zoom", required_argument, NULL, O_ZOOM},
        {"lag", required_argument, NULL, O_LAG},         {"timeout", required_argument, NULL, O_TIMEOUT},
        {"dest", required_argument, NULL, O_DEST},       {"output", required_argument, NULL, O_OUTPUT},
        {"count", required_argument, NULL, O_COUNT},     {"span", required_argument, NULL, O_SPAN},
        {"toward", required_argument, NULL, O_TOWARD},   {"no-merge", no_argument, NULL, O_NOMERGE},
        {"baseline", no_argument, NULL, O_BASELINE},     {"range", required_argument, NULL, O_RANGE},
        {"verbose", no_argument, NULL, 'v'},             {NULL, 0, NULL, 0}};
    tether_roi roi = {0};
    tether_af_mode mode = TETHER_AF_GLOBAL;
    bool no_zoom = false, merge = true, have_span = false, baseline = false;
    long range = 0;
    long zoom = 1, count = is_measure ? 1 : 0;
    double lag = 0, timeout = 0, span = 0;
    const char *dest = ".", *output = NULL;
    int direction = 1;
    g_verbose = isatty(STDERR_FILENO);
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        bool ok = true;
        switch (ch) {
        case O_ROI: ok = tether_roi_parse(optarg, &roi) == TETHER_OK; break;
        case O_MODE:
            ok = is_auto && (strcmp(optarg, "global") == 0 || strcmp(optarg, "nearest") == 0);
            mode = strcmp(optarg, "nearest") == 0 ? TETHER_AF_NEAREST : TETHER_AF_GLOBAL;
            break;
        case O_NOZOOM: ok = is_auto; no_zoom = true; break;
        case O_ZOOM: ok = is_trap && cli_parse_long(optarg, 1, 10, &zoom) && (zoom == 1 || zoom == 5 || zoom == 10); break;
        case O_LAG: ok = is_trap && cli_parse_double(optarg, 1, 2000, &lag); break;
        case O_TIMEOUT: ok = is_trap && cli_parse_double(optarg, 0.1, 86400, &timeout); break;
        case O_DEST: ok = is_trap || is_stack; dest = optarg; break;
        case O_OUTPUT: ok = is_trap; output = optarg; break;
        case O_COUNT: ok = (is_stack || is_measure) && cli_parse_long(optarg, is_stack ? 2 : 1, 999, &count); break;
        case O_SPAN: ok = is_stack && cli_parse_double(optarg, 1, 2000, &span); have_span = true; break;
        case O_TOWARD:
            ok = is_stack && (strcmp(optarg, "near") == 0 || strcmp(optarg, "far") == 0);
            direction = strcmp(optarg, "far") == 0 ? -1 : 1;
            break;
        case O_NOMERGE: ok = is_stack; merge = false; break;
        case O_BASELINE: ok = is_auto || is_trap; baseline = true; break;
        case O_RANGE: ok = is_auto && cli_parse_long(optarg, 50, 100000, &range); break;
        case 'v': g_verbose = true; break;
        default: ok = false;
        }
        if (!ok) return usage_error(usage);
    }
    if (optind < argc || (is_stack && (count < 2 || !have_span))) return usage_error(usage);

    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    cli_trap_signals();
    int exit_code = EXIT_FAILED;
    if (is_measure) {
        exit_code = focus_measure(cam, &roi, (int)count);
    } else if (is_auto) {
        tether_af_options o = {.roi = roi, .mode = mode, .no_zoom = no_zoom, .max_range = (int)range,
                               .baseline = baseline, .progress = progress,
                               .stop = stop_requested};
        tether_af_result r;
        int e = tether_focus_auto(cam, &o, &r);
        if (e != TETHER_OK) cli_camera_error(cam, e, "autofocus");
        if (g_cli.json)
            cli_print_json(json_pack("{s:b, s:s, s:s, s:i, s:i, s:i, s:f, s:i, s:i, s:f, s:f}", "focused", r.focused,
                                     "status", r.status, "message", r.message, "measured_frames",
                                     r.measured_frames, "settle_frames", r.settle_frames, "commands", r.commands,
                                     "seconds", r.seconds, "zoom", r.zoom, "peaks", r.peaks, "peak_measure",
                                     r.peak_measure, "final_measure", r.final_measure));
        else
            printf("%s %s (%d frames measured, %d watched, %d commands, %.1f s)\n", r.status, r.message,
                   r.measured_frames, r.settle_frames, r.commands, r.seconds);
        exit_code = e == TETHER_OK && r.focused ? EXIT_OK : EXIT_FAILED;
    } else if (is_trap) {
        tether_shot shot = {0};
        tether_trap_options o = {.roi = roi, .zoom = (int)zoom, .lag_ms = lag, .timeout_s = timeout, .dir = dest,
                                 .name_template = output, .baseline = baseline, .progress = progress, .stop = stop_requested};
        tether_trap_result r = {.shot = &shot};
        int e = tether_focus_trap(cam, &o, &r);
        if (e != TETHER_OK) cli_camera_error(cam, e, "trap focus");
        if (g_cli.json)
            cli_print_json(json_pack("{s:b, s:s, s:s, s:i, s:f, s:f, s:f, s:o}", "fired", r.fired, "status",
                                     r.status, "reason", r.reason, "frames", r.frames, "seconds", r.seconds,
                                     "predicted_ms", r.predicted_ms, "lag_ms", r.lag_ms, "files", shot_json(&shot)));
        else {
            printf("%s: %s\n", r.status, r.reason);
            for (int i = 0; i < shot.n_files; i++) printf("%s\n", shot.files[i]);
        }
        exit_code = e == TETHER_OK && r.fired ? EXIT_OK : EXIT_FAILED;
    } else {
        tether_stack_options o = {.count = (int)count, .span = span, .direction = direction, .dir = dest,
                                  .merge = merge, .progress = progress, .stop = stop_requested};
        tether_stack_result r;
        int e = tether_focus_stack(cam, &o, &r);
        if (e != TETHER_OK) cli_camera_error(cam, e, "focus stack");
        if (g_cli.json)
            cli_print_json(json_pack("{s:i, s:s, s:s, s:s, s:f}", "taken", r.taken, "folder", r.folder, "merged",
                                     r.merged, "message", r.message, "step", r.step));
        else
            printf("%s\n", r.message);
        exit_code = e == TETHER_OK && r.taken == count ? EXIT_OK : EXIT_FAILED;
    }
    cli_close_camera(cam);
    return exit_code;
}
