/*
 * fake_backend: a scriptable camera backend for the unit tests of
 * lib/camera (tests/unit/test_contract.c), without libgphoto2 or sockets.
 *
 * The test thread scripts it (delays per call, errors to return N times,
 * cameras plugged and unplugged, events to emit, pushed live-view frames)
 * while the session's owner thread calls it through backend.h; a mutex
 * keeps the two apart.  Specs are "fake:NAME" (or "fakepush:NAME", live
 * view pushed); fake_install registers the backends ahead of the built-in ones.  One script per process (the
 * harness runs each test in a child of its own).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

typedef enum fake_call {
    FAKE_OPEN,
    FAKE_SETTING_GET,
    FAKE_SETTING_SET,
    FAKE_CAPTURE,
    FAKE_DOWNLOAD,
    FAKE_DELETE,
    FAKE_PREVIEW,
    FAKE_FOCUS,
    FAKE_PROBE,
    FAKE_NCALLS
} fake_call;

extern const backend_ops fake_backend_ops, fake_push_backend_ops;

/* Registers the backend and resets the script: no cameras, no delays,
 * no errors, relative focus with 2 sizes paced 30 and 60 ms. */
void fake_install(void);
/* A camera on the fake bus (its spec "fake:NAME"); plugging an existing
 * spec again changes nothing else. */
void fake_plug(const char *spec, const char *model, const char *serial);
/* The camera at spec goes away: its open sessions answer DISCONNECTED,
 * opening it fails with NO_CAMERA. */
void fake_unplug(const char *spec);
/* Every call of that kind first sleeps ms (unless cancelled by the end
 * of the process). */
void fake_delay(fake_call call, int ms);
/* The next `times` calls of that kind return rc (after their delay). */
void fake_fail(fake_call call, int rc, int times);
/* How many calls of that kind were made. */
int fake_calls(fake_call call);
/* Queues an event for the open backend's wait_event. */
void fake_emit(tether_event_type type, const char *path, const char *detail);
/* The focus caps reported from the next connection on. */
void fake_set_focus(const tether_focus_caps *focus);
/* Monotonic times of the focus commands, up to max; returns how many. */
int fake_focus_times(int64_t *out, int max);
/* The frames a "fakepush:NAME" camera pushes from a thread of its own:
 * YUYV, w x h, every interval_ms (default 16 x 8 every 5 ms).  A "fake:"
 * camera's live view is pulled JPEGs. */
void fake_set_push_frames(int w, int h, int interval_ms);
/* Captures give their file as bytes in memory instead of on the card. */
void fake_set_capture_in_memory(bool in_memory);
/* The current value of a fake setting ("iso", "f-number", ...). */
void fake_setting_value(const char *name, char *buf, size_t size);
