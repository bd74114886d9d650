/*
 * tether: the command-line program.  One binary, subcommands looked up in
 * a table (git-style); each subcommand parses its own options.  Global
 * options: --help, --version; TETHER_LOG=debug|info|warn|error sets the
 * log level.
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli.h"
#include "tether/tether.h"

static const cli_command commands[] = {
    {"sim", "run a simulated camera (PTP/IP) for tests and demos", cmd_sim},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tether [--help] [--version] COMMAND [ARGS...]\n"
            "\n"
            "Tethered camera control.\n"
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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (see tether --help)", argv[1]);
    return EXIT_USAGE;
}
