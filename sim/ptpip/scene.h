/*
 * scene: the procedural subject in front of the simulated camera.
 *
 * A scene is a function of position, evaluated at any resolution, so the
 * live view (1056x704) and a full-resolution capture show the same subject.
 * It holds what focus measures and photographers care about: a 1/f
 * textured background, a colour chart with hard edges, a Siemens star,
 * blocks of fine text-like glyphs and a grating with rising frequency.
 * Coordinates are normalised to the image width, so the layout does not
 * depend on the pixel size, and any window on the scene (a magnified
 * live view) can be rendered at any pixel size with the same geometry.
 *
 * Kinds: "studio" (one plane), "two-plane" (a foreground card at another
 * depth covers part of the centre: two focus peaks), "low-contrast"
 * (the studio scene at a quarter of the contrast), and "flat" (a smooth
 * gradient with nothing to focus on).  Each plane is rendered separately;
 * the camera blurs each by its own defocus and mixes them with the mask.
 *
 * A scene is immutable after scene_new: any thread may render from it at
 * once.  Rendering functions write into caller-owned buffers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum scene_kind {
    SCENE_STUDIO = 0,
    SCENE_TWO_PLANE,
    SCENE_LOW_CONTRAST,
    SCENE_FLAT,
} scene_kind;

typedef struct scene scene;

/* Parses "studio", "two-plane", "low-contrast", "flat".  Returns false for
 * anything else. */
bool scene_kind_parse(const char *name, scene_kind *out);
const char *scene_kind_name(scene_kind kind);

/* Returns a new scene or NULL (OOM).  The seed varies layout and texture. */
scene *scene_new(scene_kind kind, uint64_t seed);
void scene_free(scene *s);

/* 1, or 2 for a two-plane scene. */
int scene_plane_count(const scene *s);

/* A window on the scene in normalised coordinates (units of the full
 * image's width): a w x h pixel grid covers x in [x0, x0 + span] and y in
 * [y0, y0 + span * h / w] (square pixels).  The full frame is {0, 0, 1};
 * a 5x magnification is a window of span 0.2. */
typedef struct scene_window {
    double x0, y0, span;
} scene_window;

#define SCENE_FULL_FRAME ((scene_window){0.0, 0.0, 1.0})

/* Renders plane `plane` as packed RGB (w*3 bytes per row) with ss x ss
 * samples per pixel (1..4) for the geometric detail. */
void scene_render_rgb(const scene *s, int plane, int w, int h, int ss, uint8_t *rgb);
/* The same for a window on the scene (NULL: the full frame). */
void scene_render_rgb_window(const scene *s, int plane, const scene_window *win, int w, int h,
                             int ss, uint8_t *rgb);

/* Renders the coverage of plane 1 over plane 0 (0..255, w bytes per row);
 * all zero for one-plane scenes. */
void scene_render_mask(const scene *s, int w, int h, int ss, uint8_t *mask);
void scene_render_mask_window(const scene *s, const scene_window *win, int w, int h, int ss,
                              uint8_t *mask);
