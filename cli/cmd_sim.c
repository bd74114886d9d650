/*
 * cmd_sim: `tether sim ptpip`, a simulated PTP/IP camera on a TCP port.
 *
 * Builds the camera (sim/ptpip/camera.c) from the options, serves it with
 * the PTP/IP server and, if asked, the HTTP control channel, prints where
 * it listens (so scripts can read the port when they asked for port 0) and
 * runs until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli.h"
#include "ptpip/camera.h"
#include "ptpip/control.h"
#include "ptpip/server.h"

static simsrv *g_server;

static void on_signal(int sig)
{
    (void)sig;
    if (g_server) simsrv_stop(g_server);
}

static void sim_usage(FILE *out)
{
    fprintf(out,
        "usage: tether sim ptpip [options]\n"
        "       tether sim sony [options]   (a Sony Wi-Fi camera: tether sim sony --help)\n"
        "       tether sim v4l2 [options] -- COMMAND... (tether sim v4l2 --help)\n"
        "\n"
        "Serves a simulated camera over PTP/IP until interrupted.  Command and event\n"
        "connections share one port: use gphoto2 --port ptpip:HOST:PORT:PORT.\n"
        "\n"
        "  --listen HOST:PORT      address to serve (default 127.0.0.1:15740; port 0 picks one)\n"
        "  --control HOST:PORT     also serve the HTTP control channel there\n"
        "  --persona NAME          canon-eos (default), nikon or generic\n"
        "  --seed N                varies scene, lens and noise reproducibly (default 1)\n"
        "  --scene NAME            studio (default), two-plane, low-contrast or flat\n"
        "  --light bright|dim      dim: noisy live view (default bright)\n"
        "  --files N               files on the card at start (default 12)\n"
        "  --raw-size BYTES        size of RAW files (default 20000000)\n"
        "  --photo-size WxH        full-resolution size (default: the body's, e.g. 5184x3456)\n"
        "  --lv-size WxH           live-view size (default: the body's, e.g. 1056x704)\n"
        "  --fps F                 live-view frames per second, 0 = unpaced (default 30)\n"
        "  --focus-at F            where the subject is sharp, 0..1 of the focus range\n"
        "  --lens-start F          where the lens starts, 0..1 of the focus range\n"
        "  --lens-range STEPS      Near1 steps end to end (default: 600..850 by seed)\n"
        "  --backlash STEPS        steps lost on a reversal (default 2)\n"
        "  --step-noise R          relative error of each drive command (default 0.05)\n"
        "  --shutter-latency MS[:JITTER_MS]\n"
        "                          from the capture command to the exposure, each shot uniform in\n"
        "                          MS +- JITTER_MS (default 60:0); /state's last_exposure_ns\n"
        "  --lens-speed STEPS_PER_S\n"
        "                          focus motor speed (default 600; the body's own AF: twice that)\n"
        "  --lens-steps N1,N2,N3   sizes of Near1/2/3 in Near1 steps (default 1,4.3,30)\n"
        "  --near-blur K           blur grows K times faster on the near side of focus (default 1)\n"
        "  --lv-late MS[-MS]       live-view frames show the lens this long before they are\n"
        "                          handed out, drawn per frame (default: one frame period)\n"
        "  --lv-repeat P           a live-view frame repeats the previous one with probability P\n"
        "faults:\n"
        "  --drop-after-ops N      drop the link once after N operations\n"
        "  --drop-after SECONDS    drop the link once after this time\n"
        "  --busy-rate P           answer Device Busy with probability P\n"
        "  --busy-op CODE          ... to this operation only (e.g. 0x1008, GetObjectInfo)\n"
        "  --rate-limit MBPS       limit the link to MBPS megabytes per second\n"
        "  --freeze-after-ops N    stop answering after N operations\n"
        "  -v, --verbose           log each session (twice: each operation)\n");
}

/* A PTP operation code as PTP documents write it, "0x1008", into out. */
static bool parse_opcode(const char *s, long *out)
{
    if (strncmp(s, "0x", 2) != 0 || s[2] == '\0') return false;
    char *end;
    errno = 0;
    long v = strtol(s + 2, &end, 16);
    if (errno || *end || v < 1 || v > 0xFFFF) return false;
    *out = v;
    return true;
}

/* "MS" or "MS:JITTER_MS" (0..10000 each, jitter at most MS) into o. */
static bool parse_latency(const char *a, simcam_options *o)
{
    char ms[32];
    const char *colon = strchr(a, ':');
    double mean, jitter = 0;
    if (colon == NULL) {
        if (!cli_parse_double(a, 0, 10000, &mean)) return false;
    } else {
        if ((size_t)(colon - a) >= sizeof ms) return false;
        snprintf(ms, sizeof ms, "%.*s", (int)(colon - a), a);
        if (!cli_parse_double(ms, 0, 10000, &mean) || !cli_parse_double(colon + 1, 0, 10000, &jitter)) return false;
    }
    if (jitter > mean) return false;
    o->shutter_latency_s = mean / 1e3;
    o->shutter_jitter_s = jitter / 1e3;
    return true;
}

int cmd_sim(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        sim_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "sony") == 0) return cmd_sim_sony(argc - 1, argv + 1);
    if (strcmp(argv[1], "v4l2") == 0) return cmd_sim_v4l2(argc - 1, argv + 1);
    if (strcmp(argv[1], "ptpip") != 0) {
        cli_error("unknown simulator '%s' (available: ptpip, sony, v4l2)", argv[1]);
        return EXIT_USAGE;
    }
    argc--, argv++;

    enum {
        OPT_LISTEN = 256, OPT_CONTROL, OPT_PERSONA, OPT_SEED, OPT_SCENE, OPT_LIGHT, OPT_FILES,
        OPT_RAW_SIZE, OPT_PHOTO_SIZE, OPT_LV_SIZE, OPT_FPS, OPT_FOCUS_AT, OPT_LENS_START,
        OPT_LENS_RANGE, OPT_BACKLASH, OPT_STEP_NOISE, OPT_LENS_SPEED, OPT_DROP_OPS, OPT_DROP_TIME, OPT_BUSY, OPT_BUSY_OP,
        OPT_RATE, OPT_FREEZE, OPT_LENS_STEPS, OPT_NEAR_BLUR, OPT_LV_LATE, OPT_LV_REPEAT, OPT_SHUTTER,
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"persona", required_argument, NULL, OPT_PERSONA},
        {"seed", required_argument, NULL, OPT_SEED},
        {"scene", required_argument, NULL, OPT_SCENE},
        {"light", required_argument, NULL, OPT_LIGHT},
        {"files", required_argument, NULL, OPT_FILES},
        {"raw-size", required_argument, NULL, OPT_RAW_SIZE},
        {"photo-size", required_argument, NULL, OPT_PHOTO_SIZE},
        {"lv-size", required_argument, NULL, OPT_LV_SIZE},
        {"fps", required_argument, NULL, OPT_FPS},
        {"focus-at", required_argument, NULL, OPT_FOCUS_AT},
        {"lens-start", required_argument, NULL, OPT_LENS_START},
        {"lens-range", required_argument, NULL, OPT_LENS_RANGE},
        {"backlash", required_argument, NULL, OPT_BACKLASH},
        {"step-noise", required_argument, NULL, OPT_STEP_NOISE},
        {"lens-speed", required_argument, NULL, OPT_LENS_SPEED},
        {"drop-after-ops", required_argument, NULL, OPT_DROP_OPS},
        {"drop-after", required_argument, NULL, OPT_DROP_TIME},
        {"busy-rate", required_argument, NULL, OPT_BUSY},
        {"busy-op", required_argument, NULL, OPT_BUSY_OP},
        {"rate-limit", required_argument, NULL, OPT_RATE},
        {"freeze-after-ops", required_argument, NULL, OPT_FREEZE},
        {"lens-steps", required_argument, NULL, OPT_LENS_STEPS},
        {"near-blur", required_argument, NULL, OPT_NEAR_BLUR},
        {"lv-late", required_argument, NULL, OPT_LV_LATE},
        {"lv-repeat", required_argument, NULL, OPT_LV_REPEAT},
        {"shutter-latency", required_argument, NULL, OPT_SHUTTER},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    simcam_options o;
    simcam_default_options(&o);
    simsrv_faults faults = {0};
    char host[64] = "127.0.0.1", chost[64] = "";
    int port = 15740, cport = -1, verbose = 0;
    long l;
    double d;
    lens_params lp;
    bool lens_changed = false;
    double lens_range = 0, backlash = -1, step_noise = -1, lens_speed = 0, near_blur = 0;
    double steps[3] = {0};

    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        const char *a = optarg;
        bool ok = true;
        switch (ch) {
        case OPT_LISTEN: ok = cli_parse_hostport(a, host, sizeof host, &port); break;
        case OPT_CONTROL: ok = cli_parse_hostport(a, chost, sizeof chost, &cport); break;
        case OPT_PERSONA: ok = (o.persona = persona_find(a)) != NULL; break;
        case OPT_SEED: ok = cli_parse_long(a, 0, LONG_MAX, &l); o.seed = (uint64_t)l; break;
        case OPT_SCENE: ok = scene_kind_parse(a, &o.scene); break;
        case OPT_LIGHT:
            ok = strcmp(a, "bright") == 0 || strcmp(a, "dim") == 0;
            o.dim = strcmp(a, "dim") == 0;
            break;
        case OPT_FILES: ok = cli_parse_long(a, 0, 100000, &l); o.card_files = (int)l; break;
        case OPT_RAW_SIZE: ok = cli_parse_long(a, 1024, 1L << 31, &l); o.raw_size = (uint64_t)l; break;
        case OPT_PHOTO_SIZE:
            ok = cli_parse_size(a, 16, 12000, &o.render.photo_width, &o.render.photo_height) &&
                 o.render.photo_width % 2 == 0 && o.render.photo_height % 2 == 0;
            break;
        case OPT_LV_SIZE: ok = cli_parse_size(a, 16, 4096, &o.render.lv_width, &o.render.lv_height); break;
        case OPT_FPS: ok = cli_parse_double(a, 0, 1000, &o.lv_fps); break;
        case OPT_FOCUS_AT: ok = cli_parse_double(a, 0, 1, &o.focus_at); break;
        case OPT_LENS_START: ok = cli_parse_double(a, 0, 1, &o.lens_start); break;
        case OPT_LENS_RANGE: ok = cli_parse_double(a, 50, 100000, &lens_range); lens_changed = true; break;
        case OPT_BACKLASH: ok = cli_parse_double(a, 0, 1000, &backlash); lens_changed = true; break;
        case OPT_STEP_NOISE: ok = cli_parse_double(a, 0, 1, &step_noise); lens_changed = true; break;
        case OPT_LENS_SPEED: ok = cli_parse_double(a, 1, 1e6, &lens_speed); lens_changed = true; break;
        case OPT_DROP_OPS: ok = cli_parse_long(a, 1, LONG_MAX, &faults.drop_after_ops); break;
        case OPT_DROP_TIME: ok = cli_parse_double(a, 0.001, 1e6, &faults.drop_after_s); break;
        case OPT_BUSY: ok = cli_parse_double(a, 0, 1, &faults.busy_rate); break;
        case OPT_BUSY_OP: ok = parse_opcode(a, &faults.busy_opcode); break;
        case OPT_RATE: ok = cli_parse_double(a, 0.001, 1e6, &faults.rate_limit_mbps); break;
        case OPT_FREEZE: ok = cli_parse_long(a, 1, LONG_MAX, &faults.freeze_after_ops); break;
        case OPT_LENS_STEPS: ok = lens_parse_steps(a, steps); lens_changed = true; break;
        case OPT_NEAR_BLUR: ok = cli_parse_double(a, 0.1, 10, &near_blur); lens_changed = true; break;
        case OPT_LV_LATE: ok = lvdelivery_parse_late(a, &o.lv_delivery); break;
        case OPT_LV_REPEAT: ok = cli_parse_double(a, 0, 0.9, &o.lv_delivery.repeat); break;
        case OPT_SHUTTER: ok = parse_latency(a, &o); break;
        case 'v': verbose++; break;
        case 'h': sim_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
        if (!ok) {
            cli_error("invalid value for --%s: '%s'", longopts[ch - OPT_LISTEN].name, a ? a : "");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    (void)d;
    if (verbose == 1 && log_g_level < LOG_LEVEL_INFO) log_set_level(LOG_LEVEL_INFO);
    if (verbose >= 2) log_set_level(LOG_LEVEL_DEBUG);
    if (lens_changed) {
        lens_default_params(&lp, o.seed);
        if (lens_range > 0) lp.range = lens_range;
        if (backlash >= 0) lp.backlash = backlash;
        if (step_noise >= 0) lp.step_noise = step_noise;
        if (lens_speed > 0) lp.speed = lens_speed;
        if (near_blur > 0) lp.near_blur = near_blur;
        if (steps[0] > 0) for (int i = 0; i < 3; i++) lp.step[i] = steps[i];
        o.lens = lp;
        o.lens_params_set = true;
    }

    simcam *cam = simcam_new(&o);
    if (cam == NULL) return EXIT_FAILED;
    simsrv *srv = simsrv_new(cam, host, port, &faults, o.seed);
    if (srv == NULL) {
        simcam_free(cam);
        return EXIT_FAILED;
    }
    simctl *ctl = NULL;
    if (cport >= 0) {
        ctl = simctl_start(cam, srv, chost, cport);
        if (ctl == NULL) {
            simsrv_free(srv);
            simcam_free(cam);
            return EXIT_FAILED;
        }
    }
    g_server = srv;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* a camera answers once its card is read: the card's earlier pictures
     * are rendered before the address is given out */
    simcam_wait_card(cam);
    printf("listening on %s:%d\n", host, simsrv_port(srv));
    if (ctl) printf("control on %s:%d\n", chost, simctl_port(ctl));
    printf("camera: %s (persona %s), gphoto2 --port ptpip:%s:%d:%d\n", simcam_model(cam),
           o.persona->id, host, simsrv_port(srv), simsrv_port(srv));
    fflush(stdout);

    simsrv_run(srv);
    simctl_stop(ctl);
    simsrv_free(srv);
    g_server = NULL;
    simcam_free(cam);
    return EXIT_OK;
}
