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
 * Errors are JSON {"error": "..."} with 400, 404, 405, 409 or 413.
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
