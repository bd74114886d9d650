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
/* --broker-ca FILE (NULL: not given) for a broker URL with or without
 * TLS: true when fine; else false after saying why on stderr (given
 * without mqtts://, or a file that cannot be read). */
bool cli_broker_ca_ok(const char *ca_file, bool tls);
/* Prints "tether: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Options given before the command: tether [--camera SPEC] [--json]
 * [--timeout MS] COMMAND ... */
typedef struct cli_globals {
    const char *camera;     /* NULL: $TETHER_CAMERA, else "auto"; the first --camera */
    const char *cameras[16]; /* every --camera, in order (only serve and agent take more than one) */
    int n_cameras;
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
int cmd_sim_sony(int argc, char **argv);
/* `tether sim v4l2 ... -- COMMAND`: runs COMMAND with simulated V4L2
 * devices present (cmd_sim_v4l2.c).  Returns only on error. */
int cmd_sim_v4l2(int argc, char **argv);
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
/* `tether agent`: a camera node (cmd_agent.c). */
int cmd_agent(int argc, char **argv);
int cmd_tag(int argc, char **argv);

/* ---- tag options (cmd_tag.c), shared by `tether tag` and `tether capture` ---- */

struct img_tags;
enum { CLI_OPT_GPS = 0x200, CLI_OPT_ARTIST, CLI_OPT_COPYRIGHT, CLI_OPT_KEYWORDS, CLI_OPT_SESSION, CLI_OPT_CAPTION };
/* getopt_long entries for --gps, --artist, --copyright, --keywords,
 * --session and --caption (needs <getopt.h>). */
#define CLI_TAG_LONGOPTS                                                                          \
    {"gps", required_argument, NULL, CLI_OPT_GPS}, {"artist", required_argument, NULL, CLI_OPT_ARTIST}, \
        {"copyright", required_argument, NULL, CLI_OPT_COPYRIGHT},                                \
        {"keywords", required_argument, NULL, CLI_OPT_KEYWORDS},                                  \
        {"session", required_argument, NULL, CLI_OPT_SESSION}, {"caption", required_argument, NULL, CLI_OPT_CAPTION}
#define CLI_TAG_USAGE "[--gps LAT,LON[,ALT]] [--artist TEXT] [--copyright TEXT] [--keywords A,B,C] [--session NAME] [--caption TEXT]"
/* Applies one getopt result ch (with its optarg) to t.  Returns 1 when ch
 * is a tag option and its value is good, 0 when ch is not a tag option,
 * -1 when the value is bad (the reason is printed).  Main thread. */
int cli_tag_option(int ch, const char *arg, struct img_tags *t);
/* Tags each of files with t (img_tag_file), printing "tagged FILE" lines
 * (unless --json) and an error line per failure; appends one object per
 * file to report when it is not NULL.  Returns how many failed. */
int cli_tag_files(const struct img_tags *t, const char *const *files, int n, json_t *report);
