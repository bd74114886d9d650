/*
 * control: the simulated camera's control channel for tests and demos, a
 * small HTTP/JSON server (libmicrohttpd) on loopback.  It is the camera's
 * body and the tester's hands: read the true state (lens position, where
 * focus really is, shots, link), press the shutter button, turn the focus
 * ring by hand, pull and restore the link, and change faults at run time.
 *
 *   GET  /state                    everything, as JSON
 *   POST /shutter                  press the shutter button on the body
 *   POST /unplug, /plug            pull / restore the connection
 *   POST /focus/ring   {"speed": steps_per_s, "duration": s}
 *   POST /lens         {"position": p}     put the lens at p (set-up)
 *   POST /subject      {"position": p}     move the subject's sharp position
 *   POST /faults       {"drop_after_ops", "drop_after_s", "busy_rate",
 *                       "rate_limit_mbps", "freeze_after_ops", "frozen"}
 *   POST /freeze, /thaw
 *
 * Errors are JSON {"error": "..."} with 400, 403, 404, 405, 409, 413 or 415.
 *
 * Only the tester's own tools are served, not a web page open in a
 * browser on the same machine (which could otherwise unplug the camera
 * mid-shoot): a request is refused (403) unless its Host is the channel's
 * address or localhost with the channel's port (DNS rebinding), an Origin
 * header is the channel's own, and Sec-Fetch-Site, if sent, is
 * same-origin or none; a POST with a body must say Content-Type:
 * application/json (415).  curl -X POST without a body, and with -H
 * 'Content-Type: application/json' with one, is served.
 * Threads: libmicrohttpd's; handlers call the thread-safe camera/server API.
 */
#pragma once

#include "camera.h"
#include "server.h"

typedef struct simctl simctl;

/* Starts serving on host:port (0 picks a port).  Returns NULL on failure. */
simctl *simctl_start(simcam *cam, simsrv *srv, const char *host, int port);
int simctl_port(const simctl *c);
void simctl_stop(simctl *c);
