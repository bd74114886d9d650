/*
 * cmd_sim_sony: `tether sim sony`, a simulated Sony Wi-Fi camera speaking
 * the Camera Remote API (sim/sony/): JSON-RPC and live view on --listen,
 * the device description on a port of its own, SSDP on --ssdp and the
 * control channel on --control.  Prints its addresses and the device
 * description URL (so scripts can read ports they asked to be picked) and
 * runs until SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli.h"
#include "sony/body.h"
#include "sony/net.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: tether sim sony [options]\n"
        "\n"
        "Serves a simulated Sony Wi-Fi camera (Camera Remote API) until interrupted.\n"
        "Open it with --camera sony:URL (the device description URL it prints), or\n"
        "TETHER_SSDP_TARGET=HOST:PORT tether list with --ssdp HOST:PORT.\n"
        "\n"
        "  --persona NAME          qx10 (default) or a6000\n"
        "  --listen HOST:PORT      JSON-RPC, live view and postviews (default 127.0.0.1:0)\n"
        "  --description HOST:PORT the device description dd.xml (default: --listen's host, port 0)\n"
        "  --ssdp HOST:PORT        answer SSDP M-SEARCH there (UDP; default: none); a\n"
        "                          multicast group (239.255.255.250:1900, as a body) is\n"
        "                          joined, so plain `tether list` finds it\n"
        "  --ssdp-interface ADDR   the interface's address to join the group on\n"
        "                          (default: the one the routes pick)\n"
        "  --control HOST:PORT     the HTTP control channel (GET /state, POST /shutter, /faults...)\n"
        "  --seed N                varies scene and lens reproducibly (default 1)\n"
        "  --scene NAME            studio (default), two-plane, low-contrast or flat (AF fails)\n"
        "  --fps F                 live-view frames per second (default: the body's, 30)\n"
        "  --poll-timeout S        a getEvent long poll ends (error 2) after S seconds (default 10)\n"
        "faults (also at run time: POST /faults):\n"
        "  --busy N                the next N camera calls answer 40401 (Not Ready)\n"
        "  --af-fail N             the next N autofocus attempts fail (a shot: 40400)\n"
        "  --lv-split N            live-view bytes go out in pieces of 1..N bytes\n"
        "  --lv-rate KBPS          a slow link: live view at most KBPS kilobytes per second\n"
        "  -v, --verbose           log more\n");
}

int cmd_sim_sony(int argc, char **argv)
{
    enum { OPT_PERSONA = 256, OPT_LISTEN, OPT_DESC, OPT_SSDP, OPT_CONTROL, OPT_SEED, OPT_SCENE, OPT_FPS,
           OPT_POLL, OPT_BUSY, OPT_AF, OPT_SPLIT, OPT_RATE, OPT_SSDP_IF };
    static const struct option longopts[] = {
        {"persona", required_argument, NULL, OPT_PERSONA},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"description", required_argument, NULL, OPT_DESC},
        {"ssdp", required_argument, NULL, OPT_SSDP},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"seed", required_argument, NULL, OPT_SEED},
        {"scene", required_argument, NULL, OPT_SCENE},
        {"fps", required_argument, NULL, OPT_FPS},
        {"poll-timeout", required_argument, NULL, OPT_POLL},
        {"busy", required_argument, NULL, OPT_BUSY},
        {"af-fail", required_argument, NULL, OPT_AF},
        {"lv-split", required_argument, NULL, OPT_SPLIT},
        {"lv-rate", required_argument, NULL, OPT_RATE},
        {"ssdp-interface", required_argument, NULL, OPT_SSDP_IF},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sonysim_options o;
    sonysim_default_options(&o);
    sonysim_faults faults = {0};
    char host[64] = "127.0.0.1", dhost[64] = "", shost[64] = "", chost[64] = "";
    const char *ssdp_if = NULL;
    int port = 0, dport = 0, sport = -1, cport = -1, verbose = 0;
    long l;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        const char *a = optarg;
        bool ok = true;
        switch (ch) {
        case OPT_PERSONA: ok = (o.persona = sonysim_persona_find(a)) != NULL; break;
        case OPT_LISTEN: ok = cli_parse_hostport(a, host, sizeof host, &port); break;
        case OPT_DESC: ok = cli_parse_hostport(a, dhost, sizeof dhost, &dport); break;
        case OPT_SSDP: ok = cli_parse_hostport(a, shost, sizeof shost, &sport); break;
        case OPT_CONTROL: ok = cli_parse_hostport(a, chost, sizeof chost, &cport); break;
        case OPT_SEED: ok = cli_parse_long(a, 0, LONG_MAX, &l); o.seed = (uint64_t)l; break;
        case OPT_SCENE: ok = scene_kind_parse(a, &o.scene); break;
        case OPT_FPS: ok = cli_parse_double(a, 0.1, 120, &o.fps); break;
        case OPT_POLL: ok = cli_parse_double(a, 0.05, 3600, &o.poll_timeout_s); break;
        case OPT_BUSY: ok = cli_parse_long(a, 0, 1000, &l); faults.busy_count = (int)l; break;
        case OPT_AF: ok = cli_parse_long(a, 0, 1000, &l); faults.af_fail_count = (int)l; break;
        case OPT_SPLIT: ok = cli_parse_long(a, 0, 65536, &l); faults.lv_split = (int)l; break;
        case OPT_RATE: ok = cli_parse_double(a, 1, 1e7, &faults.lv_rate_kbps); break;
        case OPT_SSDP_IF: ssdp_if = a; break;
        case 'v': verbose++; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
        if (!ok) {
            cli_error("invalid value for --%s: '%s'", longopts[ch - OPT_PERSONA].name, a ? a : "");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (verbose == 1 && log_g_level < LOG_LEVEL_INFO) log_set_level(LOG_LEVEL_INFO);
    if (verbose >= 2) log_set_level(LOG_LEVEL_DEBUG);

    sonysim_body *b = sonysim_new(&o);
    if (b == NULL) return EXIT_FAILED;
    sonysim_set_faults(b, &faults);
    sonysim_net_config cfg = {
        .api_host = host, .api_port = port, .dd_host = dhost[0] ? dhost : host, .dd_port = dport,
        .ssdp_host = sport >= 0 ? shost : NULL, .ssdp_port = sport, .ssdp_interface = ssdp_if,
        .control_host = cport >= 0 ? chost : NULL, .control_port = cport,
    };
    sonysim_net *net = sonysim_net_start(b, &cfg);
    if (net == NULL) {
        sonysim_free(b);
        return EXIT_FAILED;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %s:%d\n", host, sonysim_net_api_port(net));
    printf("description http://%s:%d/dd.xml\n", cfg.dd_host, sonysim_net_dd_port(net));
    if (cfg.ssdp_host) printf("ssdp on %s:%d\n", cfg.ssdp_host, sonysim_net_ssdp_port(net));
    if (cfg.control_host) printf("control on %s:%d\n", cfg.control_host, sonysim_net_control_port(net));
    printf("camera: %s (persona %s), tether --camera sony:http://%s:%d/dd.xml\n", sonysim_model(b),
           sonysim_persona_id(b), cfg.dd_host, sonysim_net_dd_port(net));
    fflush(stdout);

    while (!g_stop) pause();
    sonysim_shutdown(b);
    sonysim_net_stop(net);
    sonysim_free(b);
    return EXIT_OK;
}
