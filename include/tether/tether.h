/*
 * tether.h: the public API of libtether, tethered camera control.
 *
 * This header grows with the library (camera sessions, settings, capture,
 * live view, events).  Everything here is safe to call from any thread
 * unless its comment says otherwise.
 */
#ifndef TETHER_TETHER_H
#define TETHER_TETHER_H

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH" (static storage). */
const char *tether_version(void);

#ifdef __cplusplus
}
#endif

#endif
