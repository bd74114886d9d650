/*
 * cli: what the subcommands of the `tether` program share: the command
 * table entry type, exit codes and small argument parsers.
 *
 * Exit codes (documented in README.md and `tether --help`):
 *   0  success
 *   1  the command failed (camera error, I/O error, ...)
 *   2  bad usage (unknown option, malformed value)
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

/* "HOST:PORT" (IPv4 literal; PORT 0..65535).  host gets at most hostsz-1
 * characters.  Returns false if malformed. */
bool cli_parse_hostport(const char *s, char *host, int hostsz, int *port);
/* "WxH" with both in [min, max].  Returns false if malformed. */
bool cli_parse_size(const char *s, int min, int max, int *w, int *h);
/* A whole number in [min, max]. */
bool cli_parse_long(const char *s, long min, long max, long *out);
/* A finite number in [min, max]. */
bool cli_parse_double(const char *s, double min, double max, double *out);
/* Prints "tether: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_sim(int argc, char **argv);
