/*
 * session: what camera commands share: the global options, opening the
 * camera (including the in-process simulator for --camera sim), error
 * reporting, JSON output and signal handling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ptpip/host.h"

cli_globals g_cli = {.timeout_ms = 30000};
volatile sig_atomic_t g_cli_interrupted;

static simhost *g_sim;

static void on_interrupt(int sig)
{
    (void)sig;
    g_cli_interrupted = 1;
}

void cli_trap_signals(void)
{
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* "sim" / "sim:nikon": starts the simulator, rewrites spec. */
static int start_sim(const char *spec, char *out, size_t size)
{
    const char *persona_id = spec[3] == ':' ? spec + 4 : "canon-eos";
    simcam_options o;
    simcam_default_options(&o);
    o.persona = persona_find(persona_id);
    if (o.persona == NULL || (spec[3] != ':' && spec[3] != '\0')) {
        cli_error("unknown simulated camera \"%s\" (sim or sim:%s)", spec, persona_ids());
        return EXIT_USAGE;
    }
    int port = 0;
    g_sim = simhost_start(&o, NULL, &port);
    if (g_sim == NULL) {
        cli_error("cannot start the simulated camera");
        return EXIT_FAILED;
    }
    snprintf(out, size, "ptpip:127.0.0.1:%d", port);
    return EXIT_OK;
}

int cli_open_camera(tether_camera **cam)
{
    const char *spec = g_cli.camera ? g_cli.camera : getenv("TETHER_CAMERA");
    if (spec == NULL || *spec == '\0') spec = "auto";
    char resolved[64];
    if (strncmp(spec, "sim", 3) == 0 && (spec[3] == '\0' || spec[3] == ':')) {
        int rc = start_sim(spec, resolved, sizeof resolved);
        if (rc != EXIT_OK) return rc;
        spec = resolved;
    }
    char err[512] = "";
    int rc = tether_camera_open(spec, g_cli.timeout_ms, cam, err, sizeof err);
    if (rc != TETHER_OK) {
        cli_error("cannot open camera \"%s\": %s%s", spec, err[0] ? err : tether_strerror(rc),
                  rc == TETHER_ERR_NO_CAMERA && strcmp(spec, "auto") == 0 ? " (try --camera sim)" : "");
        simhost_stop(g_sim);
        g_sim = NULL;
        return rc == TETHER_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILED;
    }
    tether_camera_set_timeout(*cam, g_cli.timeout_ms);
    return EXIT_OK;
}

void cli_close_camera(tether_camera *cam)
{
    tether_camera_close(cam);
    simhost_stop(g_sim);
    g_sim = NULL;
}

void cli_camera_error(tether_camera *cam, int rc, const char *what)
{
    char detail[512] = "";
    if (cam) tether_camera_last_error(cam, detail, sizeof detail);
    if (detail[0] && strcmp(detail, tether_strerror(rc)) != 0)
        cli_error("%s: %s: %s", what, tether_strerror(rc), detail);
    else
        cli_error("%s: %s", what, tether_strerror(rc));
}

void cli_print_json(json_t *j)
{
    if (j == NULL) return;
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}
