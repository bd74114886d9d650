/*
 * camera: the simulated camera body behind the PTP/IP server: it answers
 * PTP operations, owns the properties, the card, the lens and the image
 * pipeline, takes pictures and emits the events a real body emits.
 *
 * It is transport-independent: server.c feeds it decoded operations and
 * sends back what it returns; the control channel (control.c) calls the
 * "body" functions (shutter button, focus ring, unplug) and reads its state.
 *
 * Threads: simcam_handle runs on the connection's thread; the control
 * functions on the HTTP threads; a capture thread inside the camera does
 * the shutter lag, rendering and file creation and emits the resulting
 * events.  One mutex protects the state; rendering has its own lock and
 * runs without the state lock, so /state stays responsive.  Lock order:
 * state lock, then render lock, then the event sink's lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/bytebuf.h"
#include "card.h"
#include "lens.h"
#include "lvdelivery.h"
#include "persona.h"
#include "render.h"
#include "scene.h"

typedef struct simcam_options {
    const persona *persona;
    uint64_t seed;
    scene_kind scene;
    double focus_at;           /* main plane's sharp position, 0..1 of the range; < 0: from seed */
    double lens_start;         /* initial lens position, 0..1; < 0: from seed */
    bool lens_params_set;      /* use `lens` as given (else defaults from seed) */
    lens_params lens;
    render_config render;      /* sizes: 0 = the persona's */
    double lv_fps;             /* frames per second; 0 = as fast as asked */
    lvdelivery_options lv_delivery; /* late and repeated frames (all 0: neither) */
    int card_files;            /* files on the card at start */
    uint64_t raw_size;         /* bytes of a RAW file */
    bool dim;                  /* dim light: noisy live view */
    double shutter_latency_s;  /* from the capture command to the exposure's start (default 0.06) */
    double shutter_jitter_s;   /* each shot's latency is uniform in latency +- jitter (default 0) */
} simcam_options;

void simcam_default_options(simcam_options *o);

/* Where PTP/IP events go: called with the state lock held; must not block
 * for long and must not call back into the camera. */
typedef void (*simcam_event_fn)(void *ctx, uint16_t code, uint32_t tid, const uint32_t *params,
                                int nparams);

typedef struct simcam simcam;

/* Returns a new camera, or NULL (bad options or out of memory; logged). */
simcam *simcam_new(const simcam_options *o);
/* Waits until the pictures already on the card at start are rendered (a
 * thread of the camera's own does it from simcam_new on), so that a host
 * listing the card at once is answered at once: a GetObjectInfo that waits
 * for them can outlast libgphoto2's 2.5 s PTP/IP read timeout under load.
 * `tether sim ptpip` waits before it says it is listening.  Any thread. */
void simcam_wait_card(simcam *c);
void simcam_free(simcam *c);

/* A host connected (events now go to fn) / went away (session state,
 * live view and remote mode end, as on a real body). */
void simcam_attach(simcam *c, simcam_event_fn fn, void *ctx);
void simcam_detach(simcam *c);

typedef struct simcam_request {
    uint16_t opcode;
    uint32_t tid;
    int nparams;
    uint32_t params[5];
    bool has_data;             /* the host sent a data phase */
    const uint8_t *data;
    size_t data_len;
} simcam_request;

typedef struct simcam_reply {
    uint16_t code;
    int nparams;
    uint32_t params[5];
    bool data_in;              /* send a data phase before the response */
    bytebuf data;              /* small payloads */
    card_content content;      /* or a range of a file (own references) */
    uint64_t content_off;
    uint64_t content_len;
} simcam_reply;

void simcam_reply_init(simcam_reply *r);
/* Releases the reply's buffers and references; keeps it reusable. */
void simcam_reply_clear(simcam_reply *r);

/* Executes one operation.  May block for a live-view frame interval. */
void simcam_handle(simcam *c, const simcam_request *rq, simcam_reply *rp);

/* ---- the body (control channel) ---- */

/* Presses the shutter button: takes a picture as the body would (files
 * on the card, or sent to the PC if that is the capture target).
 * Returns 0, or -1 if the camera is busy or the card is full. */
int simcam_press_shutter(simcam *c);
/* Turns the focus ring by hand: speed in Near1 steps per second (signed,
 * + = near), for duration_s seconds. */
void simcam_turn_ring(simcam *c, double speed, double duration_s);
/* Turns a dial on the body: sets the property with this short name (as in
 * /state's settings) to the choice with this label, or to this number, and
 * reports the change to the host as the body does (DevicePropChanged, or
 * a PropValueChanged record on a Canon EOS).  Returns 0, -1 for an unknown
 * property, -2 for a value the property does not take. */
int simcam_body_set(simcam *c, const char *name, const char *value);
/* Sets the lens position at once (test set-up). */
void simcam_set_lens(simcam *c, double position);
/* Sets the main plane's sharp position (moves the subject). */
void simcam_set_subject(simcam *c, double position);
/* Marks the host link up or down in the state report. */
void simcam_set_link(simcam *c, bool connected, bool plugged);

/* The state for the control channel (new reference). */
json_t *simcam_state(simcam *c);
/* The body's model name (static). */
const char *simcam_model(const simcam *c);
/* Shots taken so far (for the server's logs and tests). */
uint64_t simcam_shots(simcam *c);
