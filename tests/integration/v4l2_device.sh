# The user-space V4L2 device (sim/v4l2/, `tether sim v4l2`; personas
# uvc-c920 and pi-libcamerify) checked by
# tools nobody here wrote: v4l2-compliance (every test, with streaming and
# with every format), ffmpeg recording 300 frames that ffprobe counts,
# GStreamer's v4l2src taking 300 buffers, and v4l2-ctl streaming at each
# format's frame rate (a tolerant bar).  The preload library is built
# without sanitizers, so these uninstrumented programs load it on every
# build, the ASan one included.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"

dev="$T_DIR/dev/video0"
sim() { "$TETHER" sim v4l2 --device "$dev" -- "$@"; }

# compliance NAME ARGS...: v4l2-compliance passes every test, no warning
# but a sequence gap (a frame dropped while the test held every buffer)
compliance() {
    local name=$1 d=${DEV:-$dev}
    shift
    out=$(timeout 300 "$TETHER" sim v4l2 --device "$d=${PERSONA:-uvc-c920}" -- v4l2-compliance -d "$d" "$@" 2>&1)
    total=$(printf '%s\n' "$out" | grep -E '^Total for' | tail -1)
    expect_match "v4l2-compliance $name: no failure" "$total" 'Failed: 0,'
    other=$(printf '%s\n' "$out" | grep 'warn:' | grep -v 'got sequence number' || true)
    expect "v4l2-compliance $name: no warning but sequence gaps" "$other" ""
}
compliance "(controls, formats, buffers)"
compliance "-s (streaming)" -s
compliance "-s -f (every format)" -s -f
DEV="$T_DIR/dev/video1" PERSONA=pi-libcamerify compliance "pi-libcamerify -s" -s
DEV="$T_DIR/dev/video1" PERSONA=pi-libcamerify compliance "pi-libcamerify -s -f" -s -f

out=$(sim v4l2-ctl -d "$dev" --list-ctrls-menus 2>&1)
expect_match "v4l2-ctl lists focus_absolute, inactive while autofocus is on" "$out" 'focus_absolute .*flags=inactive'
expect_match "auto_exposure offers manual and aperture priority only" \
    "$(printf '%s\n' "$out" | grep -A3 auto_exposure | tr '\n' ' ')" '1: Manual Mode.*3: Aperture Priority Mode'
check "focus_absolute can be set" sim v4l2-ctl -d "$dev" -c focus_automatic_continuous=0,focus_absolute=52
expect "controls persist across processes, rounded to the step" \
    "$(sim v4l2-ctl -d "$dev" -C focus_absolute 2>&1)" "focus_absolute: 50"

timeout 120 "$TETHER" sim v4l2 --device "$dev" -- ffmpeg -nostdin -loglevel error -f v4l2 \
    -input_format mjpeg -video_size 1280x720 -i "$dev" -frames:v 300 -c copy -y mjpeg.mkv >ffmpeg.log 2>&1
n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 mjpeg.mkv 2>&1)
expect "ffmpeg records 300 MJPEG frames (ffprobe counts them)" "$n" "300"
timeout 120 "$TETHER" sim v4l2 --device "$dev" -- ffmpeg -nostdin -loglevel error -f v4l2 \
    -input_format yuyv422 -video_size 640x480 -i "$dev" -frames:v 60 -c:v mjpeg -y yuyv.mkv >ffmpeg2.log 2>&1
n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 yuyv.mkv 2>&1)
expect "ffmpeg records 60 YUYV frames" "$n" "60"
pi="$T_DIR/dev/video1"
timeout 120 "$TETHER" sim v4l2 --device "$pi=pi-libcamerify" -- ffmpeg -nostdin -loglevel error -f v4l2 \
    -input_format yuv420p -video_size 1280x720 -i "$pi" -frames:v 60 -c:v mjpeg -y pi.mkv >ffmpeg3.log 2>&1
n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 pi.mkv 2>&1)
expect "ffmpeg records 60 YU12 frames from pi-libcamerify" "$n" "60"

if command -v gst-launch-1.0 >/dev/null && gst-inspect-1.0 v4l2src >/dev/null 2>&1; then
    check "GStreamer v4l2src takes 300 MJPEG buffers and decodes them" timeout 120 \
        "$TETHER" sim v4l2 --device "$dev" -- gst-launch-1.0 -q v4l2src device="$dev" num-buffers=300 \
        ! image/jpeg,width=1280,height=720 ! jpegdec ! fakesink
else
    ok "GStreamer v4l2src: not installed, skipped # SKIP"
fi

# frame rates: 60 frames each; the bar is wide (a loaded machine may lag)
rate() {
    local fmt=$1 w=$2 h=$3 fps=$4 start end
    start=$(date +%s%N)
    sim v4l2-ctl -d "$dev" --set-fmt-video=width=$w,height=$h,pixelformat=$fmt --set-parm=$fps \
        --stream-mmap --stream-count=61 >/dev/null 2>&1 || return 1
    end=$(date +%s%N)
    # 60 intervals after the first frame; start-up costs are on top
    awk -v ns=$((end - start)) -v fps="$fps" 'BEGIN { r = 60 / (ns / 1e9); exit !(r > fps * 0.5 && r < fps * 1.05) }'
}
check "v4l2-ctl streams MJPEG 640x480 at about 30 fps" rate MJPG 640 480 30
check "v4l2-ctl streams MJPEG 1920x1080 at about 15 fps" rate MJPG 1920 1080 15
check "v4l2-ctl streams YUYV 1280x720 at about 10 fps" rate YUYV 1280 720 10

out=$(sim v4l2-compliance -d "$T_DIR/dev/nothing" 2>&1)
expect_match "a path that is not configured is not a device" "$out" 'No such file|Cannot open|Failed to open|Unable'

exit $T_FAILED
