/*
 * blob: see blob.h.  The count uses C11 atomics: relaxed increments,
 * acq_rel decrement so the freeing thread sees every prior read finish.
 */
#include "blob.h"

#include <stdlib.h>
#include <string.h>

blob *blob_new(size_t len)
{
    if (len > SIZE_MAX - sizeof(blob)) return NULL;
    blob *b = malloc(sizeof(blob) + len);
    if (b == NULL) return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    return b;
}

blob *blob_from(const void *data, size_t len)
{
    blob *b = blob_new(len);
    if (b && len) memcpy(b->data, data, len);
    return b;
}

blob *blob_ref(blob *b)
{
    if (b) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void blob_unref(blob *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}
