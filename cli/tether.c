/*
 * tether: the command-line program.  One binary, subcommands looked up in
 * a table (git-style); each subcommand parses its own options.  Global
 * options: --help, --version; TETHER_LOG=debug|info|warn|error sets the
 * log level.  Descriptors 0-2 are opened onto /dev/null if closed.
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/stdfds.h"
#include "cli.h"
#include "tether/tether.h"

static const cli_command commands[] = {
    {"serve", "the studio server: browser UI and JSON API", cmd_serve},
    {"list", "list the cameras attached over USB", cmd_list},
    {"summary", "describe the camera", cmd_summary},
    {"config", "list, get or set camera settings", cmd_config},
    {"capture", "take pictures and download them", cmd_capture},
    {"preview", "live view frames to a file or an MJPEG stream", cmd_preview},
    {"files", "list the files on the camera", cmd_files},
    {"download", "download files from the camera", cmd_download},
    {"delete", "delete files on the camera", cmd_delete},
    {"import", "import the card's files, resumable (--dest DIR [--new] [--delete])", cmd_import},
    {"tethered", "download shots taken with the camera's button", cmd_tethered},
    {"tag", "write GPS, artist, copyright, keywords into photos on disk", cmd_tag},
    {"focus", "focus tools: drive, measure, auto, trap, stack", cmd_focus},
    {"agent", "a camera node: join a studio through an MQTT broker (--broker mqtt://HOST:PORT)", cmd_agent},
    {"sim", "run a simulated camera (PTP/IP) for tests and demos", cmd_sim},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tether [--camera SPEC] [--json] [--timeout MS] COMMAND [ARGS...]\n"
            "       tether --help | --version\n"
            "\n"
            "Tethered camera control.\n"
            "\n"
            "  --camera SPEC   auto (default; or $TETHER_CAMERA), usb:BUS,DEV, ptpip:HOST[:PORT],\n"
            "                  sim or sim:canon-eos|nikon|generic (a simulated camera in this process)\n"
            "  --json          print results as JSON\n"
            "  --timeout MS    give up on a camera call after MS milliseconds (default 30000)\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run `tether COMMAND --help` for a command's options.\n"
            "Exit status: 0 success, 1 failure, 2 bad usage.\n"
            "Environment: TETHER_LOG=error|warn|info|debug\n");
}

int main(int argc, char **argv)
{
    /* before anything opens a descriptor: a closed 0, 1 or 2 would be
     * handed to a camera socket (see lib/base/stdfds.h) */
    stdfds_protect();
    log_init_from_env();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tether %s\n", tether_version());
        return EXIT_OK;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        long ms;
        if (strcmp(argv[i], "--json") == 0) {
            g_cli.json = true;
        } else if ((strcmp(argv[i], "--camera") == 0 && i + 1 < argc) || strncmp(argv[i], "--camera=", 9) == 0) {
            const char *spec = argv[i][8] == '=' ? argv[i] + 9 : argv[++i];
            if (g_cli.n_cameras == (int)(sizeof g_cli.cameras / sizeof g_cli.cameras[0])) {
                cli_error("--camera is given more than %d times", g_cli.n_cameras);
                return EXIT_USAGE;
            }
            g_cli.cameras[g_cli.n_cameras++] = spec;
            if (g_cli.camera == NULL) g_cli.camera = spec;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc && cli_parse_long(argv[i + 1], 100, 86400000, &ms)) {
            g_cli.timeout_ms = (int)ms;
            i++;
        } else {
            cli_error("unknown or incomplete option '%s' (see tether --help)", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (g_cli.n_cameras > 1 && strcmp(argv[i], "serve") != 0 && strcmp(argv[i], "agent") != 0) {
        cli_error("only serve and agent take --camera more than once ('%s' works one camera)", argv[i]);
        return EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0) return commands[c].run(argc - i, argv + i);
    cli_error("unknown command '%s' (see tether --help)", argv[i]);
    return EXIT_USAGE;
}
