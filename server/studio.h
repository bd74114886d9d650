/*
 * studio: `tether serve`, the studio server: one camera session shared by
 * every browser on the LAN, the photo folder organised by session and day,
 * the catalog (SQLite), live view fan-out, server-sent events, and the
 * JSON API the UI is built on (docs/API.md).
 *
 * One studio serves one or more cameras, each a "station" (internal.h)
 * with an id, its own jobs and its own live view; the first is the
 * primary camera, which the single-camera routes serve.
 *
 * Threads: libmicrohttpd's connection threads run the handlers; per
 * camera, an event pump thread turns camera events into server-sent
 * events (and catalogs photos shot with the camera's own button) and a
 * frame pump wakes its viewers; a focus tool (autofocus, trap focus, a
 * stack) runs in a worker thread of its own.  Everything shared is behind
 * the studio's mutex or is itself thread-safe (camera, catalog, frames).
 */
#pragma once

#include <stdbool.h>

typedef struct studio_options {
    const char *camera;        /* spec; "sim[:persona]" = built-in simulator; used when n_cameras is 0 */
    const char *const *cameras; /* the specs of every camera to serve (the first is the primary); n_cameras */
    int n_cameras;
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 8080; 0 picks one */
    const char *photos;        /* photo root; default ./photos */
    const char *token;         /* NULL: no access control */
    bool fallback_sim;         /* no camera found: run the simulator instead */
    const char *const *allow_hosts; /* more names the Host header may carry (--allow-host); n_allow_hosts */
    int n_allow_hosts;
    bool webhook_allow_private; /* webhooks may go to loopback, link-local and private addresses */
    /* camera nodes (docs/RIGS.md): the MQTT broker, NULL for none; its
     * user and password (NULL: anonymous); the URL nodes send files to
     * (NULL: http://LISTEN-ADDRESS:PORT); capture-all's lead in ms */
    const char *broker_host;
    int broker_port;
    bool broker_tls;           /* mqtts:// */
    const char *broker_ca;     /* with broker_tls: CA file (PEM), NULL: the system's */
    const char *broker_user, *broker_password;
    const char *rig_url;
    int rig_lead_ms;
    /* Called once the server listens, with its port (then the "studio on"
     * line is printed); on studio_run's thread.  May be NULL. */
    void (*on_listening)(void *arg, int port);
    void *on_listening_arg;
} studio_options;

/* Runs the studio until *stop becomes true (checked every 200 ms).
 * Prints where it listens on stdout.  Returns 0, or 1 on a start-up error
 * (printed). */
int studio_run(const studio_options *o, volatile int *stop);
