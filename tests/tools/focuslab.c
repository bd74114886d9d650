/*
 * focuslab: runs the focus algorithms on the virtual camera (vcam.h) for
 * tuning and comparison; not part of the product.
 *
 *   focuslab curve [--scene S] [--dim] [--seed N] [--roi X,Y,W,H]
 *       every focus measure at lens positions around the sharp one
 *   focuslab af [--trials N] [--scene S] [--dim] [--seed N] [--algo tether|baseline]
 *               [--mode global|nearest] [--backlash B] [--step-noise R] [--absolute N] [-v]
 *       autofocus trials from random lens and subject positions: final
 *       error, hit rates, frames, commands, virtual time; --absolute N: the
 *       lens takes positions 0..N (a webcam's focus_absolute) instead of
 *       Canon steps; --end-stops: a drive into an end stop is refused as a
 *       Nikon body refuses it (MfDriveStepEnd)
 *
 *   lens and live-view options (af and trap):
 *       --steps N1,N2,N3 (Near1/2/3 sizes), --near-blur K (blur K times
 *       steeper on the near side), --late MS[-MS] (frames show the lens
 *       that long before they arrive), --repeat P (a frame repeats the
 *       previous one with probability P), --odd-lens (a lens unlike the
 *       simulator's default: steps 1,5,25, backlash 3-6 by trial, near
 *       side 1.6x steeper, frames 50-150 ms late), --polled (live view
 *       fetched frame by frame as from a PTP camera: a hold waits for the
 *       fetch in flight), --arrival MS (with --polled: each frame
 *       arrives up to MS after its slot, its picture still on the
 *       camera's frame clock), --shutter-lag MS (capture to exposure; 60)
 *
 *   focuslab trap [--trials N] [--speed STEPS_PER_FRAME] [--pattern P] [--zoom K]
 *                 [--scene S] [--dim] [--algo tether|baseline] [-v]
 *       trap-focus trials: the ring is turned by hand at the given speed,
 *       from 40-80 steps out; P is pass (once through focus), return
 *       (through focus and back), short (stops 35 steps short of focus)
 *       or turnback (turns back 35 steps short); reports how often it
 *       fired and how often the exposure was within half the depth of
 *       field (for short and turnback, any fire is a false one)
 *
 * Output is plain text, one line per trial with -v, then a summary line
 * that tests and benchmarks parse.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytebuf.h"
#include "base/log.h"
#include "focus/algorithms.h"
#include "image/focus.h"
#include "image/jpeg.h"
#include "vcam.h"

typedef struct lab_args {
    vcam_options vo;
    int trials;
    bool baseline;
    bool verbose;
    tether_af_options af;
    double speed;            /* trap: Near1 steps per frame */
    const char *pattern;     /* trap: pass, return, short, turnback */
    int zoom;                /* trap: magnification */
    bool odd_lens;           /* --odd-lens: backlash drawn per trial */
} lab_args;

static int parse(int argc, char **argv, lab_args *a)
{
    *a = (lab_args){.vo = {.scene = SCENE_STUDIO, .seed = 1, .focus_at = -1, .lens_start = -1,
                           .backlash = -1, .step_noise = -1},
                    .trials = 20, .speed = 1, .pattern = "pass"};
    static const struct option opts[] = {
        {"scene", required_argument, 0, 's'}, {"dim", no_argument, 0, 'd'},
        {"seed", required_argument, 0, 'S'}, {"trials", required_argument, 0, 'n'},
        {"algo", required_argument, 0, 'a'}, {"mode", required_argument, 0, 'm'},
        {"backlash", required_argument, 0, 'b'}, {"step-noise", required_argument, 0, 'N'},
        {"roi", required_argument, 0, 'r'}, {"focus-at", required_argument, 0, 'f'},
        {"no-zoom", no_argument, 0, 'z'}, {"speed", required_argument, 0, 'V'},
        {"pattern", required_argument, 0, 'P'}, {"zoom", required_argument, 0, 'Z'}, {"verbose", no_argument, 0, 'v'},
        {"absolute", required_argument, 0, 'A'}, {"end-stops", no_argument, 0, 'E'},
        {"steps", required_argument, 0, 'T'}, {"near-blur", required_argument, 0, 'K'},
        {"late", required_argument, 0, 'L'}, {"repeat", required_argument, 0, 'R'},
        {"odd-lens", no_argument, 0, 'O'}, {"polled", no_argument, 0, 'p'},
        {"arrival", required_argument, 0, 'J'},
        {"shutter-lag", required_argument, 0, 'G'}, {0, 0, 0, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!scene_kind_parse(optarg, &a->vo.scene)) return -1;
            break;
        case 'd': a->vo.dim = true; break;
        case 'S': a->vo.seed = strtoull(optarg, NULL, 10); break;
        case 'n': a->trials = atoi(optarg); break;
        case 'a': a->baseline = strcmp(optarg, "baseline") == 0; break;
        case 'm': a->af.mode = strcmp(optarg, "nearest") == 0 ? TETHER_AF_NEAREST : TETHER_AF_GLOBAL; break;
        case 'b': a->vo.backlash = atof(optarg); break;
        case 'N': a->vo.step_noise = atof(optarg); break;
        case 'f': a->vo.focus_at = atof(optarg); break;
        case 'z': a->af.no_zoom = true; a->vo.no_zoom = true; break;
        case 'V': a->speed = atof(optarg); break;
        case 'P': a->pattern = optarg; break;
        case 'Z': a->zoom = atoi(optarg); break;
        case 'E': a->vo.end_stop_answer = true; break;
        case 'T':
            if (!lens_parse_steps(optarg, a->vo.steps)) return -1;
            break;
        case 'K': a->vo.near_blur = atof(optarg); break;
        case 'L':
            if (!lvdelivery_parse_late(optarg, &a->vo.lv)) return -1;
            break;
        case 'R': a->vo.lv.repeat = atof(optarg); break;
        case 'p': a->vo.polled = true; break;
        case 'J': a->vo.arrival_jitter_s = atof(optarg) / 1000; break;
        case 'G': a->vo.shutter_lag_s = atof(optarg) / 1000; break;
        case 'O':
            a->odd_lens = true;
            lens_parse_steps("1,5,25", a->vo.steps);
            a->vo.near_blur = 1.6;
            lvdelivery_parse_late("50-150", &a->vo.lv);
            break;
        case 'A':
            a->vo.absolute_max = atoi(optarg);
            if (a->vo.absolute_max < 1) return -1;
            a->vo.no_zoom = a->af.no_zoom = true; /* webcams have no magnified live view */
            break;
        case 'r':
            if (tether_roi_parse(optarg, &a->af.roi) != 0) return -1;
            break;
        case 'v': a->verbose = true; break;
        default: return -1;
        }
    }
    return 0;
}

static int cmd_curve(lab_args *a)
{
    vcam *v = vcam_new(&a->vo);
    if (v == NULL) return 1;
    const focus_port *p = vcam_port(v);
    tether_roi roi = focus_roi_or_default(&a->af.roi);
    img_region reg = {roi.x, roi.y, roi.w, roi.h};
    double f0 = vcam_focus_position(v, 0);
    printf("# range %.0f focus %.1f second %.1f\n", vcam_range(v), f0, vcam_focus_position(v, 1));
    printf("#  pos  defocus  teng2     teng8     lapv      dct       medres\n");
    for (double d = -300; d <= 300; d += d > -40 && d < 40 ? 2 : 20) {
        double pos = f0 + d;
        if (pos < 0 || pos > vcam_range(v)) continue;
        vcam_set_lens(v, pos);
        uint64_t seq = 0;
        focus_frame f;
        p->next_frame(p->ctx, &seq, 0, &f);
        img_image g = {0};
        img_dct_blocks b = {0};
        img_jpeg_decode_gray_region(f.data, f.len, reg, 1, &g);
        img_jpeg_read_luma_dct(f.data, f.len, reg, &b);
        img_image crop = {0};
        img_jpeg_decode_gray_region(f.data, f.len, (img_region){0.5 - 50.0 / 1056, 0.5 - 50.0 / 704, 100.0 / 1056, 100.0 / 704}, 1, &crop);
        printf("%6.0f %7.0f  %.3e %.3e %.3e %.3e %.3f\n", pos, d, img_focus_tenengrad(&g, 2),
               img_focus_tenengrad(&g, 8), img_focus_lapv(&g), img_focus_dct(&b),
               img_focus_median_residual(&crop));
        img_image_free(&g);
        img_image_free(&crop);
        img_dct_blocks_free(&b);
    }
    vcam_free(v);
    return 0;
}

/* How much the whole picture changes over a 60-step move, at rest before
 * and after, against the change between two frames at rest. */
static int cmd_moves(lab_args *a)
{
    vcam *v = vcam_new(&a->vo);
    if (v == NULL) return 1;
    const focus_port *p = vcam_port(v);
    double f0 = vcam_focus_position(v, 0);
    printf("# range %.0f focus %.1f\n#  pos  rest8 move8  rest4 move4\n", vcam_range(v), f0);
    for (double pos = 0; pos <= vcam_range(v) - 60; pos += 60) {
        img_image im[3][2];
        double at[3] = {pos, pos, pos + 60};
        for (int k = 0; k < 3; k++) {
            vcam_set_lens(v, at[k]);
            uint64_t seq = 0;
            focus_frame f;
            p->next_frame(p->ctx, &seq, 0, &f);
            img_jpeg_decode(f.data, f.len, 1, 8, &im[k][0]);
            img_jpeg_decode(f.data, f.len, 1, 4, &im[k][1]);
        }
        printf("%6.0f %5.2f %5.2f  %5.2f %5.2f\n", pos, img_focus_change(&im[0][0], &im[1][0]),
               img_focus_change(&im[1][0], &im[2][0]), img_focus_change(&im[0][1], &im[1][1]),
               img_focus_change(&im[1][1], &im[2][1]));
        for (int k = 0; k < 3; k++) {
            img_image_free(&im[k][0]);
            img_image_free(&im[k][1]);
        }
    }
    vcam_free(v);
    return 0;
}

/* The fine measure of one frame at the current lens position. */
static double frame_sharpness(vcam *v, const tether_roi *roi_in)
{
    const focus_port *p = vcam_port(v);
    tether_roi roi = focus_roi_or_default(roi_in);
    uint64_t seq = 0;
    focus_frame f;
    if (p->next_frame(p->ctx, &seq, 0, &f) != 0) return 0;
    img_image g = {0};
    double s = 0;
    if (img_jpeg_decode_gray_region(f.data, f.len, (img_region){roi.x, roi.y, roi.w, roi.h}, 1, &g) == 0)
        s = img_focus_tenengrad(&g, 2);
    img_image_free(&g);
    return s;
}

/* The options of trial i: its own seed, and with --odd-lens its own
 * backlash (3-6 steps). */
static vcam_options trial_options(const lab_args *a, int i)
{
    vcam_options vo = a->vo;
    vo.seed = a->vo.seed + (uint64_t)i;
    if (a->odd_lens && a->vo.backlash < 0) vo.backlash = 3 + (double)((vo.seed * 7) % 4);
    return vo;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int cmd_af(lab_args *a)
{
    int hits1 = 0, hits2 = 0, hits_dof = 0, focused = 0, runs = 0, global_ok = 0, false_focused = 0;
    double err_sum = 0, frames = 0, watched = 0, cmds = 0, secs = 0;
    uint64_t dropped = 0;
    double *frame_list = calloc((size_t)(a->trials > 0 ? a->trials : 1), sizeof *frame_list);
    if (frame_list == NULL) return 1;
    for (int i = 0; i < a->trials; i++) {
        vcam_options vo = trial_options(a, i);
        vcam *v = vcam_new(&vo);
        if (v == NULL) return 1;
        /* which plane is the global peak: the sharper at its own focus */
        int global = 0;
        if (vo.scene == SCENE_TWO_PLANE) {
            double start = vcam_lens_position(v), h[2];
            for (int k = 0; k < 2; k++) {
                vcam_set_lens(v, vcam_focus_position(v, k));
                h[k] = 0;
                for (int j = 0; j < 3; j++) h[k] += frame_sharpness(v, &a->af.roi);
            }
            global = h[1] > h[0];
            vcam_set_lens(v, start);
        }
        tether_af_result r;
        tether_af_options ao = a->af;
        if (a->baseline) ao.max_range = (int)ceil(vcam_range(v)); /* told the true range */
        int rc = a->baseline ? focus_af_baseline_run(vcam_port(v), &ao, &r)
                             : focus_af_run(vcam_port(v), &ao, &r);
        double pos = vcam_lens_position(v);
        double e0 = pos - vcam_focus_position(v, global);
        double err = e0, blur = vcam_blur_error(v, pos, global);
        if (vo.scene == SCENE_TWO_PLANE) {
            double e1 = pos - vcam_focus_position(v, !global);
            if (fabs(e1) < fabs(err)) err = e1;
            double b1 = vcam_blur_error(v, pos, !global);
            if (b1 < blur) blur = b1;
        }
        bool in_dof = blur <= vcam_dof_half(v);
        runs++;
        err_sum += fabs(err);
        hits1 += fabs(err) <= 1;
        hits2 += fabs(err) <= 2;
        hits_dof += in_dof;
        false_focused += r.focused && !in_dof;
        global_ok += fabs(e0) <= 2;
        focused += r.focused;
        frames += r.measured_frames;
        frame_list[runs - 1] = r.measured_frames;
        watched += r.settle_frames;
        cmds += r.commands;
        secs += r.seconds;
        dropped += vcam_dropped(v);
        if (a->verbose)
            printf("trial %d seed %llu rc %d %s err %+.1f (global %+.1f) focus %.0f range %.0f "
                   "frames %d+%d cmds %d (lost %llu) %.1fs peaks %d blur-err %.1f (dof %.1f): %s\n",
                   i, (unsigned long long)vo.seed, rc, r.status, err, e0,
                   vcam_focus_position(v, 0), vcam_range(v), r.measured_frames, r.settle_frames,
                   r.commands, (unsigned long long)vcam_dropped(v), r.seconds, r.peaks, blur, vcam_dof_half(v), r.message);
        vcam_free(v);
    }
    printf("af %s trials %d within1 %.0f%% within2 %.0f%% withinDOF %.0f%% global-within2 %.0f%% "
           "mae %.2f focused %.0f%% frames %.1f watched %.1f commands %.1f seconds %.1f dropped %llu "
           "falsefocused %d medianframes %.1f\n",
           a->baseline ? "baseline" : "tether", runs, 100.0 * hits1 / runs, 100.0 * hits2 / runs,
           100.0 * hits_dof / runs, 100.0 * global_ok / runs, err_sum / runs,
           100.0 * focused / runs, frames / runs, watched / runs, cmds / runs, secs / runs,
           (unsigned long long)dropped, false_focused, median(frame_list, runs));
    free(frame_list);
    return 0;
}

static int cmd_trap(lab_args *a)
{
    int runs = 0, fired = 0, hits = 0, negative = 0;
    double err_sum = 0, frames = 0, late_sum = 0;
    bool neg = strcmp(a->pattern, "short") == 0 || strcmp(a->pattern, "turnback") == 0;
    bool ret = strcmp(a->pattern, "return") == 0;
    for (int i = 0; i < a->trials; i++) {
        vcam_options vo = trial_options(a, i);
        vcam *v = vcam_new(&vo);
        if (v == NULL) return 1;
        /* approach from either side, from 40-80 steps out */
        uint64_t h = (vo.seed * 0x9E3779B97F4A7C15ull) >> 11;
        int side = (h & 1) ? 1 : -1;
        double out = 40 + (double)(h % 4001) / 100.0;
        double focus = vcam_focus_position(v, 0);
        double range = vcam_range(v);
        if (focus - side * out < 0 || focus - side * out > range) side = -side;
        double fps = vcam_fps(v), speed = a->speed * fps * side;
        double start = focus - side * (neg ? out + 60 : out);
        vcam_set_lens(v, start);
        double t0 = vcam_now(v) + 0.5;
        double travel = neg ? out + 60 - 35 : out + 40;
        double dur = travel / fabs(speed);
        vcam_ring_at(v, t0, speed, dur);
        if (ret || strcmp(a->pattern, "turnback") == 0) vcam_ring_at(v, t0 + dur + 0.3, -speed, dur);
        tether_trap_options to = {.roi = a->af.roi, .zoom = a->zoom,
                                  .timeout_s = 0.5 + (ret || neg ? 2 * dur + 0.3 : dur) + 1.0};
        tether_trap_result r = {0};
        int rc = a->baseline ? focus_trap_baseline_run(vcam_port(v), &to, &r)
                             : focus_trap_run(vcam_port(v), &to, &r);
        double err = vcam_last_shot(v) - focus;
        runs++;
        frames += r.frames;
        if (r.fired) {
            fired++;
            if (vcam_blur_error(v, vcam_last_shot(v), 0) <= vcam_dof_half(v)) hits++;
            err_sum += fabs(err);
            late_sum += err * side / a->speed; /* past focus in the ring's direction, in frames */
            if (neg) negative++;
        }
        if (a->verbose)
            printf("trial %d seed %llu rc %d %s err %+.1f (dof %.1f) speed %+.1f/frame frames %d: %s\n", i,
                   (unsigned long long)vo.seed, rc, r.status, r.fired ? err : NAN, vcam_dof_half(v),
                   speed / fps, r.frames, r.reason);
        vcam_free(v);
    }
    printf("trap %s pattern %s speed %.2f trials %d fired %.0f%% withinDOF %.0f%% false %d mae %.2f frames %.0f "
           "late %+.2f\n",
           a->baseline ? "baseline" : "tether", a->pattern, a->speed, runs, 100.0 * fired / runs,
           100.0 * hits / runs, negative, fired ? err_sum / fired : 0, frames / runs, fired ? late_sum / fired : 0);
    return 0;
}

int main(int argc, char **argv)
{
    lab_args a;
    log_init_from_env();
    if (argc < 2 || parse(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: focuslab curve|af [options]\n");
        return 2;
    }
    if (strcmp(argv[1], "curve") == 0) return cmd_curve(&a);
    if (strcmp(argv[1], "af") == 0) return cmd_af(&a);
    if (strcmp(argv[1], "moves") == 0) return cmd_moves(&a);
    if (strcmp(argv[1], "trap") == 0) return cmd_trap(&a);
    fprintf(stderr, "focuslab: unknown command %s\n", argv[1]);
    return 2;
}
