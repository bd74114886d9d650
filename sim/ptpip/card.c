/*
 * card: see card.h.  Objects live in one array in creation order (which
 * is also the order GetObjectHandles reports); lookups are linear, which
 * is fast enough for the tens of thousands of files a card holds.
 */
#include "card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"

uint64_t card_content_size(const card_content *c)
{
    uint64_t n = c->tail_len;
    if (c->head) n += c->head->len;
    if (c->body) n += c->body->len - c->body_off;
    return n;
}

/* Tail bytes come in 8-byte words, each a hash of (seed, word index):
 * any range can be produced without generating what precedes it. */
static void tail_read(uint64_t seed, uint64_t off, uint8_t *buf, size_t n)
{
    while (n > 0) {
        uint64_t word = off / 8;
        unsigned skip = (unsigned)(off % 8);
        uint64_t v = rng_hash2(seed, word);
        uint8_t bytes[8];
        for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(v >> (8 * i));
        size_t take = 8 - skip < n ? 8 - skip : n;
        memcpy(buf, bytes + skip, take);
        buf += take;
        off += take;
        n -= take;
    }
}

void card_content_read(const card_content *c, uint64_t off, uint8_t *buf, size_t n)
{
    size_t head = c->head ? c->head->len : 0;
    if (off < head && n > 0) {
        size_t take = head - (size_t)off < n ? head - (size_t)off : n;
        memcpy(buf, c->head->data + off, take);
        buf += take, off += take, n -= take;
    }
    size_t body = c->body ? c->body->len - c->body_off : 0;
    if (off < head + body && n > 0) {
        size_t at = (size_t)(off - head);
        size_t take = body - at < n ? body - at : n;
        memcpy(buf, c->body->data + c->body_off + at, take);
        buf += take, off += take, n -= take;
    }
    if (n > 0) tail_read(c->tail_seed, off - head - body, buf, n);
}

card_content card_content_ref(const card_content *c)
{
    card_content r = *c;
    blob_ref(r.head);
    blob_ref(r.body);
    return r;
}

void card_content_release(card_content *c)
{
    blob_unref(c->head);
    blob_unref(c->body);
    memset(c, 0, sizeof *c);
}

void card_init(card *c, uint32_t storage_id, uint64_t capacity)
{
    memset(c, 0, sizeof *c);
    c->next_handle = 1;
    c->storage_id = storage_id;
    c->capacity = capacity;
}

void card_free(card *c)
{
    for (int i = 0; i < c->count; i++) card_content_release(&c->objs[i].content);
    free(c->objs);
    memset(c, 0, sizeof *c);
}

card_object *card_add(card *c, uint32_t parent, const char *name, bool folder)
{
    if (c->count == c->cap) {
        int cap = c->cap ? c->cap * 2 : 64;
        card_object *o = realloc(c->objs, sizeof *o * (size_t)cap);
        if (o == NULL) return NULL;
        c->objs = o;
        c->cap = cap;
    }
    card_object *o = &c->objs[c->count++];
    memset(o, 0, sizeof *o);
    o->handle = c->next_handle++;
    o->parent = parent;
    o->is_folder = folder;
    o->on_card = true;
    o->ready = folder;
    o->format = folder ? 0x3001 : 0;
    snprintf(o->name, sizeof o->name, "%s", name);
    return o;
}

card_object *card_get(card *c, uint32_t handle)
{
    for (int i = 0; i < c->count; i++)
        if (c->objs[i].handle == handle) return &c->objs[i];
    return NULL;
}

card_object *card_find(card *c, uint32_t parent, const char *name)
{
    for (int i = 0; i < c->count; i++)
        if (c->objs[i].parent == parent && strcmp(c->objs[i].name, name) == 0) return &c->objs[i];
    return NULL;
}

int card_remove(card *c, uint32_t handle)
{
    card_object *o = card_get(c, handle);
    if (o == NULL) return 0;
    int removed = 0;
    if (o->is_folder) {
        /* children first; restart the scan after each removal */
        for (int i = 0; i < c->count;) {
            if (c->objs[i].parent == handle) {
                removed += card_remove(c, c->objs[i].handle);
                i = 0;
            } else {
                i++;
            }
        }
        o = card_get(c, handle);
    }
    int idx = (int)(o - c->objs);
    card_content_release(&o->content);
    memmove(&c->objs[idx], &c->objs[idx + 1], sizeof *o * (size_t)(c->count - idx - 1));
    c->count--;
    return removed + 1;
}

uint64_t card_used(const card *c)
{
    uint64_t n = 0;
    for (int i = 0; i < c->count; i++)
        if (c->objs[i].on_card)
            n += c->objs[i].ready ? card_content_size(&c->objs[i].content) : c->objs[i].size_hint;
    return n;
}

int card_file_count(const card *c)
{
    int n = 0;
    for (int i = 0; i < c->count; i++) n += c->objs[i].on_card && !c->objs[i].is_folder;
    return n;
}
