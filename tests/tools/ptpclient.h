/*
 * ptpclient: a minimal PTP/IP initiator (host side) for tests and
 * benchmarks: connect (command + event connections), transactions with
 * data in either direction, and events.  Blocking, one thread per client;
 * every read has a timeout.  Not product code: the product talks to
 * cameras through libgphoto2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"
#include "ptpip/wire.h"

typedef struct ptpc {
    int cmd;
    int evt;
    uint32_t tid;
    bytebuf in;
} ptpc;

/* TCP connect with TCP_NODELAY; returns the fd or -1. */
int ptpc_dial(const char *host, int port);
int ptpc_send_all(int fd, const void *p, size_t n);
/* Reads one packet into b.  Returns its type, 0 on EOF, -1 on timeout or
 * error. */
long ptpc_recv_packet(int fd, bytebuf *b, ptpip_packet *p, double timeout_s);
/* Handshake, then OpenSession if open.  Returns 0, the Init_Fail reason
 * (> 0), or -1. */
int ptpc_connect(ptpc *c, const char *host, int port, bool open);
/* One transaction.  data_out (may be NULL) is sent as the data phase;
 * data_in (may be NULL) receives the camera's data phase.  Returns the
 * response code, or -1 on a broken connection. */
int ptpc_transact(ptpc *c, uint16_t op, const uint32_t *params, int n, const bytebuf *data_out,
                  bytebuf *data_in);
/* Waits for an event on the event connection.  Returns its code (params
 * in *p1 if not NULL), or -1 on timeout. */
int ptpc_wait_event(ptpc *c, double timeout_s, uint32_t *p1);
void ptpc_close(ptpc *c);
