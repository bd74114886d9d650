/*
 * render: turns the scene into what the simulated sensor delivers: live
 * view JPEG frames and full-resolution photos, blurred by the lens's
 * defocus, with exposure and sensor noise.
 *
 * Optics (../shared/research/focus-and-autofocus.md §6): the blur of a plane
 * is Gaussian with sigma = sqrt(sigma0^2 + (alpha * defocus)^2), defocus in
 * Near1 steps and alpha in pixels per step at the lens's widest aperture
 * (live view is shown wide open); a capture at f-number N blurs by
 * alpha * N_widest / N.  Two-plane scenes blur each plane by its own
 * defocus and mix them with the card's mask.
 *
 * Magnified live view (Canon's 5x/10x, libgphoto2's "eoszoom"): a view of
 * zoom k shows the area of the full image of width photo_width / k whose
 * upper-left corner is (x, y) in full-resolution pixels, rendered from the
 * procedural scene at the live-view pixel size; the defocus blur in
 * live-view pixels is then k times larger, sigma = sqrt(sigma0^2 +
 * (k * alpha * defocus)^2), and the noise model is unchanged.
 *
 * Speed (one core must serve >= 60 live-view fps): each plane's live-view
 * image is pre-blurred lazily at geometric sigma levels (ratio 1.1) and
 * kept in an LRU cache of Y'CbCr 4:2:0 planes, keyed by the view (the full
 * frame is always kept, plus the two most recent magnified views; a new
 * view renders its sharp planes first, so its first frame is slower); a frame blends the two
 * levels around its sigma, applies exposure, flicker and Poisson-Gaussian
 * noise through lookup tables and a pre-drawn noise table, and is encoded
 * from the planes with no colour conversion.  Photos render the scene at
 * half resolution, blur it and encode it upscaled 2x; bodies are cached by
 * (blur, exposure), so repeated shots cost only the EXIF header.
 *
 * Thread safety: a renderer has caches and scratch buffers, so one thread
 * at a time (the camera's lock).  Returned blobs may be shared freely.
 */
#pragma once

#include <stdint.h>

#include "base/blob.h"
#include "base/bytebuf.h"
#include "scene.h"

typedef struct render_config {
    int lv_width;
    int lv_height;
    int lv_quality;
    int photo_width;        /* even */
    int photo_height;       /* even */
    int photo_quality;
    double sigma0;          /* base blur of a live-view frame, px */
    double alpha;           /* live-view px of blur per step of defocus */
    double read_noise;      /* DN, standard deviation */
    double shot_noise;      /* variance per DN of signal */
    double flicker;         /* relative std. deviation of frame gain */
} render_config;

typedef struct renderer renderer;

/* What live view shows: zoom 1 is the whole frame (x, y ignored); zoom
 * k > 1 the area photo_width/k wide whose upper-left corner is (x, y), in
 * full-resolution pixels. */
typedef struct render_view {
    double zoom;
    double x, y;
} render_view;

void render_default_config(render_config *c);

/* Returns a renderer for scene (not owned; must outlive it), or NULL. */
renderer *render_new(const scene *sc, const render_config *cfg, uint64_t seed);
void render_free(renderer *r);

/* Appends one live-view JPEG.  defocus[i] is the lens position minus
 * the sharp position of plane i; gain scales brightness (1 = metered);
 * frame_no seeds this frame's noise.  Returns 0 or -1. */
int render_liveview(renderer *r, const double *defocus, double gain, uint64_t frame_no,
                    bytebuf *out);

/* The same frame as render_liveview, unencoded: *planes points at the
 * renderer's own Y'CbCr 4:2:0 planes, valid until the renderer's next
 * call (the V4L2 device packs them into YUYV, YU12 or NV12).  Returns 0 or
 * -1. */
struct img_yuv420;
int render_liveview_planes(renderer *r, const double *defocus, double gain, uint64_t frame_no,
                           const struct img_yuv420 **planes);

/* Clamps a view into the frame: zoom to [1, 100], the corner so that the
 * area stays inside the full image (0, 0 at zoom 1). */
void render_view_clamp(const render_config *c, render_view *v);
/* Sets the view of the following live-view frames (clamped). */
void render_set_view(renderer *r, const render_view *v);
render_view render_get_view(const renderer *r);
/* Views rendered from the scene so far, the full frame excepted. */
uint64_t render_view_changes(const renderer *r);

/* A full-resolution photo as a JPEG *without* APP0/APP1 (SOI, tables,
 * scan, EOI): the caller splices its own EXIF after the SOI.
 * blur_scale = N_widest / N.  Returns a new reference, or NULL. */
blob *render_photo_body(renderer *r, const double *defocus, double blur_scale, double gain);

/* A 160-pixel-wide JPEG thumbnail of the (sharp) scene, as cameras embed
 * for their files.  Returns a new reference, or NULL.  *w, *h get its
 * size. */
blob *render_thumbnail(renderer *r, int *w, int *h);

/* Bytes held in caches (for the control channel's state report). */
size_t render_cache_bytes(const renderer *r);
