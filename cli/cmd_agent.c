/*
 * cmd_agent: `tether agent`, a camera node joined to a studio through an
 * MQTT broker (app/rig/agent.c, docs/RIGS.md).  Parses the options, reads
 * the secrets from their files and runs the node until SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rig/agent.h"
#include "rig/mqtt.h"
#include "rig/proto.h"

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const char usage[] =
    "tether [--camera SPEC]... agent --broker mqtt[s]://HOST[:PORT] [--broker-ca FILE] [--node NAME]\n"
    "                             [--user USER --password-file FILE] [--token-file FILE] [--outbox DIR]\n"
    "                             [--studio URL] [--late-ms MS]\n"
    "\n"
    "Runs a camera node: the cameras given with --camera (before or after `agent`) join the studio\n"
    "that uses the same broker (tether serve --broker ...), which fires them and receives their files.\n"
    "\n"
    "  --broker URL          the MQTT broker, mqtt://HOST[:PORT] (port 1883 by default), or\n"
    "                        mqtts://HOST[:PORT] for MQTT over TLS (port 8883 by default)\n"
    "  --broker-ca FILE      with mqtts://, the CA certificate (PEM) the broker's must be signed by\n"
    "                        (default: the system's, /etc/ssl/certs)\n"
    "  --camera SPEC         a camera of this node; repeatable (ptpip:HOST[:PORT], usb:BUS,DEV, ...)\n"
    "  --node NAME           this node's id: a-z, 0-9, '-', '_' (default: the host name)\n"
    "  --user USER           the broker's user name; --password-file FILE holds its password\n"
    "  --token-file FILE     the studio's access token (tether serve --token), for sending files\n"
    "  --outbox DIR          where shots wait until the studio has them (default ./tether-outbox-NODE)\n"
    "  --studio URL          send files to http://HOST:PORT (default: the address the studio announces)\n"
    "  --late-ms MS          a fire time passed by more than MS is not fired but answered \"late\" (default 100)\n"
    "  --clock-poor-ms MS    a clock offset beyond MS is reported unsynced (default 1)\n";

/* The host name, made into a node id ("Cam-Node.local" -> "cam-node-local"). */
static void default_node(char *out, size_t size)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    rig_slug(host, out, size);
}

int cmd_agent(int argc, char **argv)
{
    enum { O_BROKER = 256, O_BROKER_CA, O_NODE, O_USER, O_PASSWORD_FILE, O_TOKEN_FILE, O_OUTBOX, O_STUDIO, O_LATE, O_CAMERA, O_POOR };
    static const struct option longopts[] = {
        {"broker", required_argument, NULL, O_BROKER}, {"broker-ca", required_argument, NULL, O_BROKER_CA},
        {"node", required_argument, NULL, O_NODE},
        {"user", required_argument, NULL, O_USER}, {"password-file", required_argument, NULL, O_PASSWORD_FILE},
        {"token-file", required_argument, NULL, O_TOKEN_FILE}, {"outbox", required_argument, NULL, O_OUTBOX},
        {"studio", required_argument, NULL, O_STUDIO}, {"late-ms", required_argument, NULL, O_LATE},
        {"camera", required_argument, NULL, O_CAMERA}, {"clock-poor-ms", required_argument, NULL, O_POOR},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static const char *cameras[RIG_MAX_CAMERAS];
    int n_cameras = 0;
    for (int i = 0; i < g_cli.n_cameras && n_cameras < RIG_MAX_CAMERAS; i++) cameras[n_cameras++] = g_cli.cameras[i];
    const char *broker = NULL, *password_file = NULL, *token_file = NULL, *outbox = NULL;
    static char node[RIG_NAME_MAX + 1], host[256], password[256], token[256], outbox_default[300];
    agent_options o = {.late_ms = 100, .clock_poor_ms = 1.0, .timeout_ms = g_cli.timeout_ms > 0 ? g_cli.timeout_ms : 30000};
    default_node(node, sizeof node);
    long l;
    double d;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_BROKER: broker = optarg; break;
        case O_BROKER_CA: o.broker_ca = optarg; break;
        case O_NODE:
            if (!rig_name_ok(optarg)) {
                cli_error("--node takes 1 to %d of a-z, 0-9, '-' and '_'", RIG_NAME_MAX);
                return EXIT_USAGE;
            }
            snprintf(node, sizeof node, "%s", optarg);
            break;
        case O_USER: o.user = optarg; break;
        case O_PASSWORD_FILE: password_file = optarg; break;
        case O_TOKEN_FILE: token_file = optarg; break;
        case O_OUTBOX: outbox = optarg; break;
        case O_STUDIO:
            if (strncmp(optarg, "http://", 7) != 0 || strlen(optarg) > 200) {
                cli_error("--studio takes http://HOST:PORT");
                return EXIT_USAGE;
            }
            o.studio_url = optarg;
            break;
        case O_LATE:
            if (!cli_parse_long(optarg, 0, 60000, &l)) {
                cli_error("--late-ms takes 0 to 60000");
                return EXIT_USAGE;
            }
            o.late_ms = (int)l;
            break;
        case O_POOR:
            if (!cli_parse_double(optarg, 0.001, 100000, &d)) {
                cli_error("--clock-poor-ms takes a number of milliseconds");
                return EXIT_USAGE;
            }
            o.clock_poor_ms = d;
            break;
        case O_CAMERA:
            if (n_cameras == RIG_MAX_CAMERAS) {
                cli_error("a node has at most %d cameras", RIG_MAX_CAMERAS);
                return EXIT_USAGE;
            }
            cameras[n_cameras++] = optarg;
            break;
        case 'h': printf("usage: %s", usage); return EXIT_OK;
        default: fprintf(stderr, "usage: %s", usage); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    char why[300];
    if (broker == NULL) {
        cli_error("--broker mqtt://HOST[:PORT] is required (see tether agent --help)");
        return EXIT_USAGE;
    }
    if (!rig_broker_parse(broker, host, sizeof host, &o.broker_port, &o.broker_tls, why, sizeof why)) {
        cli_error("%s", why);
        return EXIT_USAGE;
    }
    if (!cli_broker_ca_ok(o.broker_ca, o.broker_tls)) return EXIT_USAGE;
    if (n_cameras == 0) {
        cli_error("a node needs at least one --camera SPEC");
        return EXIT_USAGE;
    }
    if ((o.user == NULL) != (password_file == NULL)) {
        cli_error("--user and --password-file go together");
        return EXIT_USAGE;
    }
    if (password_file && !rig_read_secret(password_file, password, sizeof password, why, sizeof why)) {
        cli_error("%s", why);
        return EXIT_FAILED;
    }
    if (token_file && !rig_read_secret(token_file, token, sizeof token, why, sizeof why)) {
        cli_error("%s", why);
        return EXIT_FAILED;
    }
    if (outbox == NULL) {
        snprintf(outbox_default, sizeof outbox_default, "tether-outbox-%s", node);
        outbox = outbox_default;
    }
    o.broker_host = host;
    o.node = node;
    o.cameras = cameras;
    o.n_cameras = n_cameras;
    o.password = password_file ? password : NULL;
    o.token = token_file ? token : NULL;
    o.outbox = outbox;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return agent_run(&o, &g_stop) == 0 ? EXIT_OK : EXIT_FAILED;
}
