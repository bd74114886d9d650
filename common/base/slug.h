/*
 * slug: a name made safe for ids, paths and topics from a camera's model
 * or a host name ("Canon EOS 550D" -> "canon-eos-550d").  Pure; any
 * thread.
 */
#pragma once

#include <stddef.h>

/* Lower-case letters and digits of in, each run of anything else one '-',
 * none at either end, at most max + 1 characters (and size - 1); "camera"
 * when nothing is left. */
void text_slug(const char *in, char *out, size_t size, size_t max);
