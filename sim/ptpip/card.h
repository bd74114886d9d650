/*
 * card: the simulated memory card: a tree of folders and files with PTP
 * object handles, and the bytes of each file.
 *
 * A file's bytes are described, not stored: a head (EXIF/TIFF header,
 * unique per file), a shared photo body (one JPEG scan shared by many
 * files through a reference-counted blob), and an optional pseudo-random
 * tail (RAW sensor data) generated on the fly from a seed, so a card of
 * hundreds of multi-megabyte files costs a few megabytes of memory and its
 * bytes are identical at every read.  Files created "before" the simulator
 * started are materialised lazily (sizes are only known once the body is
 * encoded; the camera renders those bodies on a thread of its own from the
 * start): card_object.ready says whether the content is there yet.
 *
 * Handles are never reused.  No locking: the camera's lock covers a card.
 * Content values may be copied out (card_content_ref) and read without the
 * lock while the camera goes on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/blob.h"

typedef struct card_content {
    blob *head;
    blob *body;
    size_t body_off;           /* body bytes before this offset are skipped */
    uint64_t tail_len;         /* pseudo-random bytes after the body */
    uint64_t tail_seed;
} card_content;

uint64_t card_content_size(const card_content *c);
/* Copies bytes [off, off+n) (which must lie inside the content) to buf. */
void card_content_read(const card_content *c, uint64_t off, uint8_t *buf, size_t n);
/* A copy holding its own references. */
card_content card_content_ref(const card_content *c);
void card_content_release(card_content *c);

typedef struct card_object {
    uint32_t handle;
    uint32_t parent;           /* 0 at the root */
    uint16_t format;           /* PTP object format */
    uint16_t thumb_format;     /* 0: none */
    bool is_folder;
    bool ready;                /* content materialised */
    bool on_card;              /* false: a capture held for transfer to the PC */
    char name[64];
    char date[16];             /* "YYYYMMDDThhmmss" */
    int width, height;         /* image size, 0 if not an image */
    int variant;               /* which pre-rendered body (lazy files) */
    int number;                /* file number (IMG_0042 -> 42) */
    int64_t taken;             /* capture time, epoch seconds (camera clock) */
    uint64_t size_hint;        /* expected size while not ready */
    card_content content;
} card_object;

typedef struct card {
    card_object *objs;
    int count;
    int cap;
    uint32_t next_handle;
    uint32_t storage_id;
    uint64_t capacity;
} card;

void card_init(card *c, uint32_t storage_id, uint64_t capacity);
void card_free(card *c);

/* Adds an object; returns it (valid until the next add/remove) or NULL. */
card_object *card_add(card *c, uint32_t parent, const char *name, bool folder);
card_object *card_get(card *c, uint32_t handle);
/* The folder `name` under parent, or NULL. */
card_object *card_find(card *c, uint32_t parent, const char *name);
/* Removes an object and, for a folder, everything under it.  Returns the
 * number of objects removed. */
int card_remove(card *c, uint32_t handle);
/* Bytes used by materialised files on the card. */
uint64_t card_used(const card *c);
/* Files (not folders) on the card. */
int card_file_count(const card *c);
