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

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "tether/tether.h"

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

/* Options given before the command: tether [--camera SPEC] [--json]
 * [--timeout MS] COMMAND ... */
typedef struct cli_globals {
    const char *camera;     /* NULL: $TETHER_CAMERA, else "auto" */
    bool json;
    int timeout_ms;
} cli_globals;

extern cli_globals g_cli;
/* Set by SIGINT/SIGTERM once cli_trap_signals ran. */
extern volatile sig_atomic_t g_cli_interrupted;
void cli_trap_signals(void);

/* Opens the camera named by --camera.  "sim" or "sim:PERSONA" starts a
 * simulated camera inside this process first.  Prints the reason and
 * returns EXIT_FAILED on failure. */
int cli_open_camera(tether_camera **cam);
void cli_close_camera(tether_camera *cam);
/* Prints "tether: WHAT: <message>: <camera detail>" on stderr. */
void cli_camera_error(tether_camera *cam, int rc, const char *what);
/* Prints j (indented) and a newline on stdout; takes the reference. */
void cli_print_json(json_t *j);

int cmd_sim(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_files(int argc, char **argv);
int cmd_download(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_focus(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_preview(int argc, char **argv);
int cmd_tethered(int argc, char **argv);
int cmd_serve(int argc, char **argv);
