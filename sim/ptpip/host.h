/*
 * host: a simulated PTP/IP camera served in the background of the calling
 * process, on a free loopback port.  This is what `--camera sim[:persona]`
 * runs: the program then talks to it through libgphoto2 over TCP exactly
 * as to a Wi-Fi camera, so even the in-process simulator exercises the
 * real driver path.
 *
 * Threads: simhost_start and simhost_stop from one thread; the server runs
 * on its own.
 */
#pragma once

#include "camera.h"
#include "server.h"

typedef struct simhost simhost;

/* Starts a camera with options o (and faults f, may be NULL) on
 * 127.0.0.1 and a free port, written to *port.  Returns NULL on failure. */
simhost *simhost_start(const simcam_options *o, const simsrv_faults *f, int *port);
/* Stops serving and frees everything. */
void simhost_stop(simhost *h);
