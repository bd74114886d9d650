/*
 * cmd_serve: `tether serve`, the studio server (server/studio.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "studio.h"

static volatile int g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

int cmd_serve(int argc, char **argv)
{
    static const char *usage =
        "tether [--camera SPEC]... serve [--listen ADDR:PORT] [--photos DIR] [--token TOKEN]\n"
        "                                [--allow-host NAME]... [--webhook-allow-private]\n"
        "\n"
        "  --listen ADDR:PORT  where to serve (default 127.0.0.1:8080; 0.0.0.0:8080 for the LAN)\n"
        "  --photos DIR        the photo folder (default ./photos)\n"
        "  --token TOKEN       require this access token, 8 to 200 characters (or $TETHER_TOKEN)\n"
        "  --allow-host NAME   a name browsers may reach the studio by (e.g. studio.local), besides\n"
        "                      the listen address, localhost and this machine's host name; repeatable\n"
        "  --webhook-allow-private  let webhooks go to loopback, link-local and private addresses\n"
        "--camera may be given more than once: every camera is served (the first one also by the\n"
        "single-camera routes).  auto serves every camera attached and those plugged in later; with\n"
        "the default camera (auto) and no camera attached, the simulated camera is used.";
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'}, {"photos", required_argument, NULL, 'p'},
        {"token", required_argument, NULL, 't'}, {"allow-host", required_argument, NULL, 'A'},
        {"webhook-allow-private", no_argument, NULL, 'W'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static const char *allow_hosts[16];
    char host[64] = "127.0.0.1";
    int port = 8080;
    studio_options o = {.photos = "photos", .token = getenv("TETHER_TOKEN")};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "l:p:t:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            if (!cli_parse_hostport(optarg, host, sizeof host, &port)) {
                cli_error("invalid value for --listen: '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'p': o.photos = optarg; break;
        case 't': o.token = optarg; break;
        case 'A':
            if (o.n_allow_hosts == (int)(sizeof allow_hosts / sizeof allow_hosts[0]) || optarg[0] == '\0' ||
                strlen(optarg) > 253) {
                cli_error("--allow-host takes a host name (at most 16 of them)");
                return EXIT_USAGE;
            }
            allow_hosts[o.n_allow_hosts++] = optarg;
            o.allow_hosts = allow_hosts;
            break;
        case 'W': o.webhook_allow_private = true; break;
        case 'h': printf("usage: %s\n", usage); return EXIT_OK;
        default: cli_error("usage: %s", usage); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (o.token && (strlen(o.token) < 8 || strlen(o.token) > 200)) {
        cli_error("the token must be 8 to 200 characters");
        return EXIT_USAGE;
    }
    const char *spec = g_cli.camera ? g_cli.camera : getenv("TETHER_CAMERA");
    o.camera = spec && *spec ? spec : "auto";
    o.fallback_sim = strcmp(o.camera, "auto") == 0 && g_cli.n_cameras <= 1;
    if (g_cli.n_cameras > 1) {
        o.cameras = g_cli.cameras;
        o.n_cameras = g_cli.n_cameras;
    }
    o.host = host;
    o.port = port;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return studio_run(&o, &g_stop) == 0 ? EXIT_OK : EXIT_FAILED;
}
