/*
 * agent: a camera node (`tether agent`, docs/RIGS.md): the cameras
 * attached to this board, joined to a studio through an MQTT broker.  It
 * announces the node and its cameras (a retained status, with a last will
 * saying "offline"), takes the studio's commands (fire at a time, read or
 * change a setting), answers each, and hands every captured file to the
 * studio over HTTP (app/rig/transfer.h), keeping it in its outbox
 * (app/rig/outbox.h) until the studio acknowledged it.
 *
 * Threads: the caller's (agent_run: start-up, then waits for *stop),
 * libmosquitto's network thread (commands are parsed there and queued),
 * one worker per camera (sleeps until the fire time, fires, answers), the
 * sender (uploads the outbox) and the status thread (announces the node
 * every few seconds and checks the clock's sync every 30 s).
 */
#pragma once

#include <signal.h>
#include <stdbool.h>

typedef struct agent_options {
    const char *broker_host;
    int broker_port;
    bool broker_tls;           /* mqtts:// */
    const char *broker_ca;     /* with broker_tls: CA file (PEM), NULL: the system's */
    const char *node;          /* the node's id (rig_name_ok) */
    const char *const *cameras; /* camera specs (tether_camera_open), n_cameras of them, at least one */
    int n_cameras;
    const char *user;          /* broker user, or NULL */
    const char *password;      /* with user */
    const char *token;         /* the studio's access token, or NULL */
    const char *outbox;        /* the outbox folder */
    const char *studio_url;    /* "http://HOST:PORT" to send files to; NULL: the one the studio announces */
    int late_ms;               /* a fire time passed by more than this is not fired, but answered "late" */
    double clock_poor_ms;      /* a clock offset beyond this is reported "unsynced" */
    int timeout_ms;            /* camera calls */
} agent_options;

/* Runs the node until *stop becomes non-zero (checked every 100 ms) or
 * the broker refuses it.  Prints where it is on stdout ("node N: K
 * cameras, broker H:P") once its cameras are open.  Returns 0 when
 * stopped, 1 when it could not start (the reason printed on stderr) or
 * the broker refused it (user, password or access list: printed).  Main
 * thread, once per process. */
int agent_run(const agent_options *o, volatile sig_atomic_t *stop);
