# focus_lab: the autofocus algorithm on the kinds of focus control the
# camera contract offers, in virtual time (tests/tools/focuslab.c on the
# simulator's own lens and renderer, tests/tools/vcam.c), seeded, so the
# figures are the same on every run and on any machine:
#   - relative steps into end stops that the camera refuses, as a Nikon
#     body answers MfDriveStepEnd (TETHER_ERR_END_STOP): homing and the
#     sweep must take the refusal as the stop, not as a failure;
#   - an absolute position (a webcam's focus_absolute, 0..255 and 0..1023)
#     through lib/focus/absolute.c, without magnified live view;
#   - live view that hands out the same frame twice (30 % of frames): the
#     search once took two copies for a lens at rest, learnt a noise floor
#     of zero and said "Focused" 285 steps off focus in 10 of 10 trials;
#     now it must focus or say it did not, never "focused" out of the
#     depth of field;
#   - live view frames that arrive late by varying amounts: no drive
#     command may reach a lens still moving;
#   - a lens unlike the simulator's (--odd-lens: Near1/2/3 of 1/5/25 steps,
#     3-6 steps of backlash, blur 1.6x steeper on the near side, frames
#     50-150 ms late), with repeated frames too.
#   - "nearest" mode (the first clear peak from the near stop): never a
#     peak in the blur's drift, never "focused" out of the depth of field;
# Trap focus in the same lab is focus_trap_lab.sh.
# The real-time trials on the simulated cameras are focus_sim.sh.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../focuslab_lib.sh"

lab endstops --trials 3 --end-stops --no-zoom
expect_true "refused end stops: $dof% of $trials within the depth of field, focused in $focused%" \
    "$trials == 3 && $dof == 100 && $focused == 100"
expect "refused end stops: no command lost" "$dropped" "0"

for range in 255 1023; do
    lab abs$range --trials 2 --absolute $range
    expect_true "absolute focus 0..$range: $dof% of $trials within the depth of field, focused in $focused%" \
        "$trials == 2 && $dof == 100 && $focused == 100"
done

lab repeat --trials 3 --repeat 0.3
expect "repeated frames: never \"focused\" out of the depth of field" "$false_focused" "0"
expect_true "repeated frames: $dof% of $trials within the depth of field, $within2% within 2 Near1" \
    "$trials == 3 && $dof == 100 && $within2 == 100"

# frames 0-100 ms late, 20 % repeated: far from focus a moving lens now
# and then shows one pair of frames that do not differ, which the meter
# took for rest, and the next command reached a lens still moving (the
# simulated Canon ignores it): 5 commands lost on these seeds
lab late --trials 4 --late 0-100 --repeat 0.2
expect "frames late and repeated: no command lost" "$dropped" "0"
expect_true "frames late and repeated: $dof% of $trials within the depth of field" "$trials == 4 && $dof == 100"

lab odd --trials 3 --odd-lens --repeat 0.2
expect "a lens unlike the simulator's: never \"focused\" out of the depth of field" "$false_focused" "0"
expect_true "a lens unlike the simulator's: $dof% of $trials within the depth of field, focused in $focused%" \
    "$trials == 3 && $dof == 100 && $focused >= 66"

# "nearest" mode: the sweep stops after the first clear peak from the
# near stop; the coarse measure of the blur drifts down from the near
# stop, which passed for a peak there, and the search said "Focused"
# 420-490 Near1 from the subject (6 of seeds 1-10; 1 of these 3)
lab nearest --trials 3 --mode nearest
expect "nearest mode: never \"focused\" out of the depth of field" "$false_focused" "0"
expect_true "nearest mode: $dof% of $trials within the depth of field, focused in $focused%" \
    "$trials == 3 && $dof == 100 && $focused == 100"
# ... and on two planes: the sweep runs past the first peak and can see
# the other, sharper plane, and the verdict compared the end with that
# one ("lost-peak" with the lens in the first plane's depth of field)
lab nearest-two --trials 2 --mode nearest --scene two-plane
expect_true "nearest mode, two planes: $dof% of $trials within a plane's depth of field, focused in $focused%" \
    "$trials == 2 && $dof == 100 && $focused == 100"

# two planes 90-180 Near1 apart, where the sweep's sharpest sample on the
# coarse measure is on one plane and its neighbour, sharper on the fine
# measure, beside the other: the medium scan bracketed the first and the
# search ended there ("lost-peak", honestly: 12-31 % as sharp as the
# sharpest picture seen) on these three seeds of 50
case $LAB in *asan* | *tsan*) two_seeds="11" ;; *) two_seeds="11 24 45" ;; esac
for seed in $two_seeds; do
    run_lab af $seed two-$seed --trials 1 --scene two-plane
    expect "two planes, seed $seed: ends on the sharper plane" "$(field global-within2)" 100
done
