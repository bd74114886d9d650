/*
 * algorithms: the focus algorithms, each written against a focus port
 * (port.h), so that the public functions (focus.h: they wrap a camera
 * session in a port, camport.c) and the test and tuning harness
 * (tests/tools/focuslab.c: a virtual camera) run the same code.
 *
 * The seed baselines are the project's original algorithms, kept to be
 * measured against in the same harness:
 *   - baseline AF: the seed's median-residual measure on a 100x100 centre
 *     crop; from one end of the range to the other in Near3 steps with a
 *     fixed delay after each command, then Near2 steps around the best
 *     Near3 position, and back to the best Near2 position;
 *   - baseline trap: fire when the measure is >= 98 % of the highest value
 *     seen so far (after the user has been through focus once).
 *
 * Each runs in the calling thread and returns 0 when it ran to an end
 * (the result says what happened) or the port's tether_err.
 */
#pragma once

#include "focus/port.h"
#include "tether/focus.h"

int focus_af_run(const focus_port *port, const tether_af_options *o, tether_af_result *r);
int focus_af_baseline_run(const focus_port *port, const tether_af_options *o, tether_af_result *r);

/* Trap focus.  o->dir and the naming fields are the port's business (its
 * capture callback); r->shot is filled through it when not NULL. */
int focus_trap_run(const focus_port *port, const tether_trap_options *o, tether_trap_result *r);
int focus_trap_baseline_run(const focus_port *port, const tether_trap_options *o,
                            tether_trap_result *r);

/* Focus stacking: makes a new folder "stack-YYYYmmdd-HHMMSS" (or -2,
 * -3...) in dir (created if missing) and puts its path in out.  0 or a
 * tether_err. */
int focus_stack_folder(const char *dir, char *out, size_t size);
/* Takes the stack through the port (whose capture writes into folder)
 * and merges it when asked.  r->message always says what happened. */
int focus_stack_run(const focus_port *port, const tether_stack_options *o, const char *folder,
                    tether_stack_result *r);

/* The default ROI (central 20 %) when roi is all zero, else roi; clamped
 * to the frame. */
tether_roi focus_roi_or_default(const tether_roi *roi);
