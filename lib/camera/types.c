/*
 * types: freeing the plain data objects the public API hands out
 * (settings, file lists) and the reference-counted live-view frames.
 * Pure functions; any thread (a frame may be shared across threads).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "camera/internal.h"

void tether_setting_clear(tether_setting *s)
{
    if (s == NULL) return;
    for (int i = 0; i < s->n_choices; i++) free(s->choices[i]);
    free(s->choices);
    s->choices = NULL;
    s->n_choices = 0;
}

void tether_settings_free(tether_settings *s)
{
    if (s == NULL) return;
    for (int i = 0; i < s->count; i++) tether_setting_clear(&s->items[i]);
    free(s->items);
    free(s);
}

void tether_file_list_free(tether_file_list *l)
{
    if (l == NULL) return;
    free(l->items);
    free(l);
}

struct tether_frame {
    atomic_int refs;
    blob *jpeg;
    int64_t time_ns;
    int64_t exposed_ns;
    int64_t fetch_ns;
};

tether_frame *frame_new(blob *jpeg, int64_t time_ns, int64_t exposed_ns, int64_t fetch_ns)
{
    tether_frame *f = malloc(sizeof *f);
    if (f == NULL) return NULL;
    atomic_init(&f->refs, 1);
    f->jpeg = jpeg;
    f->time_ns = time_ns;
    f->exposed_ns = exposed_ns ? exposed_ns : time_ns;
    f->fetch_ns = fetch_ns > 0 ? fetch_ns : 0;
    return f;
}

const uint8_t *tether_frame_data(const tether_frame *f)
{
    return f->jpeg->data;
}

size_t tether_frame_size(const tether_frame *f)
{
    return f->jpeg->len;
}

int64_t tether_frame_time_ns(const tether_frame *f)
{
    return f->time_ns;
}

int64_t tether_frame_exposed_ns(const tether_frame *f)
{
    return f->exposed_ns;
}

int64_t tether_frame_fetch_ns(const tether_frame *f)
{
    return f->fetch_ns;
}

tether_frame *tether_frame_ref(tether_frame *f)
{
    if (f) atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

void tether_frame_unref(tether_frame *f)
{
    if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
        blob_unref(f->jpeg);
        free(f);
    }
}
