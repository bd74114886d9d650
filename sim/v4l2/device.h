/*
 * v4l2sim device: the model of the simulated V4L2 capture devices that
 * the LD_PRELOAD library (preload.c) presents at configured paths: their
 * formats, controls, priorities, control events and mmap buffer queue, and
 * a producer thread per streaming device that renders frames at the frame
 * interval (frames.h).
 *
 * Configuration (environment, read once at load):
 *   TETHER_V4L2SIM_DEVICES  "PATH[=PERSONA][,PATH[=PERSONA]...]" (persona
 *                           default uvc-c920); the basename is the device's
 *                           name ("video0")
 *   TETHER_V4L2SIM_STATE    a directory: NAME.ctrls keeps control values
 *                           across processes (as a real device keeps them),
 *                           NAME.fault injects faults: a line "unplug",
 *                           "stall", "error N" (the next N frames flagged
 *                           V4L2_BUF_FLAG_ERROR), "truncate N" (the next N
 *                           frames cut short) or "ok"; removing the file or
 *                           writing "ok" replugs an unplugged device;
 *                           NAME.maps is written here: "mapped N" (the
 *                           device's buffers this process has mapped now),
 *                           "mmaps N", "munmaps N"
 *   TETHER_V4L2SIM_FOCUS_AT where the subject is sharp, 0..1 of the focus
 *                           range (default 0.4: focus_absolute 100 of 250)
 *   TETHER_V4L2SIM_FPS      frames per second every device delivers,
 *                           whatever rate is set (load tests; the rates
 *                           reported stay the persona's)
 *   TETHER_V4L2SIM_MAX_SIZE "WxH": no device offers a larger size (load
 *                           tests with small frames)
 *
 * State is per process.  Every open() of a device path gets a descriptor
 * of its own, an eventfd that is readable exactly while a finished buffer
 * waits for its owner, so poll/select/epoll work natively for POLLIN;
 * POLLPRI (events) and POLLERR are computed by v4l2sim_poll_revents.
 * A buffer is a memfd, mapped by mmap at offset index << 24.
 *
 * Threads: every function may be called from any thread; one mutex
 * guards the model, and a blocking DQBUF waits on a condition variable.
 * Real libc functions are reached through v4l2sim_real (preload.c fills
 * it), never through the interposed names.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The libc functions behind the interposed ones (set by preload.c before
 * any other call). */
typedef struct v4l2sim_libc {
    int (*close)(int fd);
    int (*fcntl)(int fd, int cmd, ...);
    void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
} v4l2sim_libc;
extern v4l2sim_libc v4l2sim_real;

/* Reads the configuration (idempotent). */
void v4l2sim_init(void);

/* The index of the device configured at path, or -1. */
int v4l2sim_path_device(const char *path);
/* The device whose sysfs uevent file is path ("/sys/dev/char/81:N/uevent"),
 * or -1. */
int v4l2sim_uevent_device(const char *path);
/* Is device idx plugged in now (the fault file is read first)? */
bool v4l2sim_present(int idx);
/* Its character device number (major 81). */
dev_t v4l2sim_rdev(int idx);
/* The text of its sysfs uevent file into buf. */
void v4l2sim_uevent_text(int idx, char *buf, size_t size);

/* Opens device idx with open()'s flags (O_NONBLOCK, O_CLOEXEC count).
 * Returns a new descriptor, or -1 with errno (ENOENT while unplugged,
 * EMFILE...). */
int v4l2sim_open(int idx, int flags);
/* Is fd a descriptor of a simulated device?  Lock-free. */
bool v4l2sim_owns(int fd);
/* The device index of fd, or -1. */
int v4l2sim_fd_device(int fd);
/* fd is being closed: forgets it (the caller then closes it for real). */
void v4l2sim_forget(int fd);
/* newfd is a duplicate of oldfd (dup, dup2, dup3, F_DUPFD). */
void v4l2sim_dup(int oldfd, int newfd);
/* An ioctl on fd.  Returns 0 or -1 with errno, as ioctl(2). */
int v4l2sim_ioctl(int fd, unsigned long request, void *arg);
/* mmap of a buffer of fd.  Returns the mapping or MAP_FAILED with errno. */
void *v4l2sim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
/* munmap(addr, len) is about to run: forgets the device buffer mappings
 * it ends and rewrites their devices' NAME.maps.  Cheap (one atomic load)
 * while no buffer is mapped; never takes the model's lock, so the model
 * may call munmap while it holds that. */
void v4l2sim_munmap_note(void *addr, size_t len);
/* The poll events of fd that are ready now among `events` (POLLIN while a
 * buffer waits, POLLPRI while an event waits, POLLERR when not streaming
 * or not the queue's owner, POLLERR|POLLHUP after an unplug). */
short v4l2sim_poll_revents(int fd, short events);
