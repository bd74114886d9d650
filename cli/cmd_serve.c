/*
 * cmd_serve: `tether serve`, the studio server (server/studio.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rig/mqtt.h"
#include "rig/proto.h"
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
        "                                [--broker mqtt[s]://HOST[:PORT] [--broker-ca FILE]\n"
        "                                 [--broker-user U --broker-password-file F]\n"
        "                                 [--rig-url http://HOST:PORT] [--fire-lead-ms MS]]\n"
        "\n"
        "  --listen ADDR:PORT  where to serve (default 127.0.0.1:8080; 0.0.0.0:8080 for the LAN)\n"
        "  --photos DIR        the photo folder (default ./photos)\n"
        "  --token TOKEN       require this access token, 8 to 200 characters (or $TETHER_TOKEN)\n"
        "  --allow-host NAME   a name browsers may reach the studio by (e.g. studio.local), besides\n"
        "                      the listen address, localhost and this machine's host name; repeatable\n"
        "  --webhook-allow-private  let webhooks go to loopback, link-local and private addresses\n"
        "  --broker URL        serve the cameras of camera nodes (tether agent) joined to this MQTT broker\n"
        "                      (mqtts://HOST[:PORT]: over TLS, port 8883 by default)\n"
        "  --broker-ca FILE    with mqtts://, the CA certificate (PEM) the broker's must be signed by\n"
        "                      (default: the system's, /etc/ssl/certs)\n"
        "  --broker-user U, --broker-password-file F  the studio's user on the broker\n"
        "  --rig-url URL       where nodes send their photos (default http://LISTEN-ADDRESS:PORT)\n"
        "  --fire-lead-ms MS   capture-all with nodes fires MS after the command leaves (default 200)\n"
        "--camera may be given more than once: every camera is served (the first one also by the\n"
        "single-camera routes).  auto serves every camera attached and those plugged in later; with\n"
        "the default camera (auto) and no camera attached, the simulated camera is used.";
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'}, {"photos", required_argument, NULL, 'p'},
        {"token", required_argument, NULL, 't'}, {"allow-host", required_argument, NULL, 'A'},
        {"webhook-allow-private", no_argument, NULL, 'W'}, {"broker", required_argument, NULL, 'B'},
        {"broker-user", required_argument, NULL, 'U'}, {"broker-password-file", required_argument, NULL, 'P'},
        {"broker-ca", required_argument, NULL, 'C'}, {"rig-url", required_argument, NULL, 'R'}, {"fire-lead-ms", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static char broker_host[256], broker_password[256];
    const char *password_file = NULL;
    char why[300];
    long lead;
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
        case 'B':
            if (!rig_broker_parse(optarg, broker_host, sizeof broker_host, &o.broker_port, &o.broker_tls, why,
                                  sizeof why)) {
                cli_error("%s", why);
                return EXIT_USAGE;
            }
            o.broker_host = broker_host;
            break;
        case 'C': o.broker_ca = optarg; break;
        case 'U': o.broker_user = optarg; break;
        case 'P': password_file = optarg; break;
        case 'R':
            if (strncmp(optarg, "http://", 7) != 0 || strlen(optarg) > 200) {
                cli_error("--rig-url takes http://HOST:PORT");
                return EXIT_USAGE;
            }
            o.rig_url = optarg;
            break;
        case 'L':
            if (!cli_parse_long(optarg, 1, 10000, &lead)) {
                cli_error("--fire-lead-ms takes 1 to 10000");
                return EXIT_USAGE;
            }
            o.rig_lead_ms = (int)lead;
            break;
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
    if (!cli_broker_ca_ok(o.broker_ca, o.broker_tls)) return EXIT_USAGE;
    if ((o.broker_user == NULL) != (password_file == NULL)) {
        cli_error("--broker-user and --broker-password-file go together");
        return EXIT_USAGE;
    }
    if (password_file) {
        if (!rig_read_secret(password_file, broker_password, sizeof broker_password, why, sizeof why)) {
            cli_error("%s", why);
            return EXIT_FAILED;
        }
        o.broker_password = broker_password;
    }
    const char *spec = g_cli.camera ? g_cli.camera : getenv("TETHER_CAMERA");
    o.camera = spec && *spec ? spec : "auto";
    o.fallback_sim = strcmp(o.camera, "auto") == 0 && g_cli.n_cameras <= 1 && o.broker_host == NULL;
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
