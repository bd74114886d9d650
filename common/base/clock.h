/*
 * clock: monotonic and wall-clock time helpers.  Any thread.
 */
#pragma once

#include <stdint.h>

/* Monotonic time in nanoseconds since an arbitrary start. */
int64_t clock_mono_ns(void);
/* Monotonic time in seconds, as a double. */
double clock_mono_s(void);
/* Sleeps for ns nanoseconds (restarts after signals). */
void clock_sleep_ns(int64_t ns);
