/*
 * blob: an immutable, reference-counted byte buffer, for data that several
 * owners read at once (a JPEG frame sent to many clients, a photo body
 * shared by card files).  Whoever holds a reference may read the bytes from
 * any thread; the last blob_unref frees them.  Bytes are written only by
 * the creator, before the blob is shared.
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct blob {
    atomic_int refs;
    size_t len;
    uint8_t data[];
} blob;

/* A new blob of len bytes (uninitialised) with one reference, or NULL. */
blob *blob_new(size_t len);
/* A new blob holding a copy of data[0..len), or NULL. */
blob *blob_from(const void *data, size_t len);
/* Adds a reference; returns b (NULL-safe). */
blob *blob_ref(blob *b);
/* Drops a reference (NULL-safe). */
void blob_unref(blob *b);
