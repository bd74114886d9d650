/*
 * clock: monotonic and wall-clock time helpers.  Any thread.
 */
#pragma once

#include <stdint.h>
#include <time.h>

/* Monotonic time in nanoseconds since an arbitrary start. */
int64_t clock_mono_ns(void);
/* Monotonic time in seconds, as a double. */
double clock_mono_s(void);
/* Sleeps for ns nanoseconds (restarts after signals). */
void clock_sleep_ns(int64_t ns);
/* Wall-clock time (CLOCK_REALTIME) in nanoseconds since the epoch: what
 * a rig's fire times and pthread_cond_timedwait's default clock use. */
int64_t clock_real_ns(void);
/* ns nanoseconds as a timespec (an absolute deadline for
 * pthread_cond_timedwait or clock_nanosleep). */
struct timespec clock_timespec(int64_t ns);
/* Sleeps until CLOCK_REALTIME reaches ns (restarts after signals; returns
 * at once when it has passed). */
void clock_sleep_until_real_ns(int64_t ns);
