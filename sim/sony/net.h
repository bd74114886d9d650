/*
 * net: the simulated Sony camera's network side (libmicrohttpd and one
 * UDP socket), all bound to the addresses given (loopback in tests):
 *
 *   API server (--listen):   POST /sony/<service>            JSON-RPC (body.c answers)
 *                            GET  /liveview/liveviewstream   live-view packets, endless
 *                            GET  /postview/pictN.JPG        a shot's postview JPEG
 *                            GET  /contents/DSCnnnnn.JPG     a file on the card (Contents Transfer)
 *   description (own port):  GET  /dd.xml                    the device description
 *   SSDP (--ssdp, UDP):      answers M-SEARCH for urn:schemas-sony-com:service:ScalarWebAPI:1
 *                            (or ssdp:all) by unicast to the sender, LOCATION = dd.xml
 *   control (--control):     GET  /state; POST /shutter, /unplug, /plug,
 *                            /faults {busy_count, af_fail_count, long_capture,
 *                                     lv_cut_after, lv_stall, lv_split, lv_rate_kbps},
 *                            /body/setting {"name": getEvent type, "value"}
 *
 * While the Wi-Fi is "down" (/unplug) nothing answers: HTTP connections
 * are closed without a reply, live-view streams are cut, SSDP is silent.
 *
 * The live-view writer builds each packet (8-byte common header, 128-byte
 * payload header, JPEG, padding; then a frame-info packet when enabled) and
 * hands it to libmicrohttpd in pieces of 1..lv_split bytes when that fault
 * is set.
 *
 * Threads: libmicrohttpd runs a thread per connection (long polls and
 * streams block); SSDP has a thread of its own.  sonysim_net_stop wakes and
 * joins them all.
 */
#pragma once

#include "body.h"

typedef struct sonysim_net sonysim_net;

typedef struct sonysim_net_config {
    const char *api_host;
    int api_port;           /* 0 picks one */
    const char *dd_host;
    int dd_port;            /* 0 picks one */
    const char *ssdp_host;  /* NULL: no SSDP; a multicast group is joined */
    int ssdp_port;
    const char *ssdp_interface; /* the group is joined on this address's interface (NULL: any) */
    const char *control_host; /* NULL: no control channel */
    int control_port;
} sonysim_net_config;

/* Starts every server; NULL on failure (logged).  The body is not owned. */
sonysim_net *sonysim_net_start(sonysim_body *b, const sonysim_net_config *cfg);
/* Stops and frees (NULL is allowed).  Call sonysim_shutdown(b) first so
 * that waiting requests return. */
void sonysim_net_stop(sonysim_net *n);
int sonysim_net_api_port(const sonysim_net *n);
int sonysim_net_dd_port(const sonysim_net *n);
int sonysim_net_ssdp_port(const sonysim_net *n);
int sonysim_net_control_port(const sonysim_net *n);
