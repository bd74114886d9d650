/*
 * stdfds: keeps descriptors 0, 1 and 2 open.
 *
 * A process started with one of them closed hands that number to the next
 * socket or file it opens, and then a stray write to stdout, or a library
 * that closes "fd 0" (libgphoto2 2.5.30 does, on every PTP/IP exit; see
 * lib/backends/gphoto2/gphoto2.c), hits that socket.  Opening /dev/null
 * onto the closed ones at start-up keeps those numbers taken.
 */
#pragma once

/* Opens /dev/null onto each of 0, 1 and 2 that is closed.  Any thread,
 * but meant for start-up, before other threads open descriptors (the
 * library calls it once when it opens its first camera).  Returns 0, or
 * -1 if /dev/null could not be opened. */
int stdfds_protect(void);
