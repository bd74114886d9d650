# The user-space V4L2 device (sim/v4l2/, `tether sim v4l2`; personas
# uvc-c920, pi-libcamerify with its RGB formats, and bcm2835-legacy with
# stepwise sizes, continuous frame rates, JPEG and an integer menu) checked by
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
    # (a failure names its checks: the lines v4l2-compliance marks "fail:")
    expect_match "v4l2-compliance $name: no failure" "$total$(printf '%s\n' "$out" | grep -E 'fail:' | head -n 3 | tr '\n' ' ')" \
        'Failed: 0,'
    other=$(printf '%s\n' "$out" | grep 'warn:' | grep -v 'got sequence number' || true)
    expect "v4l2-compliance $name: no warning but sequence gaps" "$other" ""
}
compliance "(controls, formats, buffers)"
compliance "-s (streaming)" -s
compliance "-s -f (every format)" -s -f
DEV="$T_DIR/dev/video1" PERSONA=pi-libcamerify compliance "pi-libcamerify -s" -s
DEV="$T_DIR/dev/video1" PERSONA=pi-libcamerify compliance "pi-libcamerify -s -f (YU12, NV12, RGB3, BGR3)" -s -f
DEV="$T_DIR/dev/video2" PERSONA=bcm2835-legacy compliance "bcm2835-legacy (controls, formats, buffers)"
DEV="$T_DIR/dev/video2" PERSONA=bcm2835-legacy compliance "bcm2835-legacy -s" -s
# every format at the range's smallest and largest size (2592x1944), at
# the slowest and fastest rate: about a minute
DEV="$T_DIR/dev/video2" PERSONA=bcm2835-legacy compliance "bcm2835-legacy -s -f (stepwise sizes, every format)" -s -f

mmal="$T_DIR/dev/video2"
out=$("$TETHER" sim v4l2 --device "$mmal=bcm2835-legacy" -- v4l2-ctl -d "$mmal" -D --list-formats-ext --list-ctrls-menus 2>&1)
expect_match "bcm2835-legacy: driver and card as bcm2835-v4l2 gives them" \
    "$(printf '%s\n' "$out" | grep -E 'Driver name|Card type|Bus info' | tr -s ' \t' ' ' | tr '\n' '|')" \
    'Driver name : bm2835 mmal\| Card type : mmal service 16\.1\| Bus info : platform:bcm2835-v4l2-0\|'
expect_match "bcm2835-legacy: stepwise sizes 32x32 - 2592x1944" "$out" 'Size: Stepwise 32x32 - 2592x1944 with step 2/2'
expect_match "bcm2835-legacy: continuous frame intervals (1..90 fps)" \
    "$("$TETHER" sim v4l2 --device "$mmal=bcm2835-legacy" -- v4l2-ctl -d "$mmal" --list-frameintervals=width=640,height=480,pixelformat=MJPG 2>&1)" \
    'Interval: Continuous 0\.011s - 1\.000s'
expect_match "bcm2835-legacy: JPEG among its formats" "$out" "'JPEG' \(JFIF JPEG, compressed\)"
expect_match "bcm2835-legacy: ISO as an integer menu" "$out" 'iso_sensitivity .*\(intmenu\)'
expect "bcm2835-legacy: no buffer stays mapped after v4l2-ctl streamed" \
    "$("$TETHER" sim v4l2 --device "$mmal=bcm2835-legacy" -- sh -c \
        "v4l2-ctl -d '$mmal' --set-fmt-video=width=640,height=480,pixelformat=JPEG --stream-mmap --stream-count=5 >/dev/null 2>&1; sed -n 's/^mapped //p' '$T_DIR/dev/video2.maps'")" "0"

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
for fmt in rgb24 bgr24; do
    timeout 120 "$TETHER" sim v4l2 --device "$pi=pi-libcamerify" -- ffmpeg -nostdin -loglevel error -f v4l2 \
        -input_format $fmt -video_size 640x480 -i "$pi" -frames:v 30 -c:v mjpeg -y pi-$fmt.mkv >ffmpeg-$fmt.log 2>&1
    n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 pi-$fmt.mkv 2>&1)
    expect "ffmpeg records 30 $fmt frames from pi-libcamerify" "$n" "30"
done
# the RGB frames show the YU12 frames' picture, red and blue in place:
# 8x6 thumbnails of each (as ffmpeg reads them) against the YU12 one, and
# against it with red and blue swapped (what a wrong byte order gives)
thumb() { # INPUT_FORMAT: an 8x6 RGB thumbnail of one frame, a byte a line
    timeout 60 "$TETHER" sim v4l2 --device "$pi=pi-libcamerify" -- ffmpeg -nostdin -loglevel error -f v4l2 \
        -input_format "$1" -video_size 640x480 -i "$pi" -frames:v 1 -vf scale=8:6 -f rawvideo -pix_fmt rgb24 - |
        od -An -tu1 -v | tr -s ' ' '\n' | grep -v '^$'
}
thumb yuv420p >thumb-yuv.txt
for fmt in rgb24 bgr24; do
    thumb $fmt >thumb-$fmt.txt
    read -r same swapped < <(python3 - thumb-yuv.txt thumb-$fmt.txt <<'PY'
import sys
a = [int(x) for x in open(sys.argv[1])]
b = [int(x) for x in open(sys.argv[2])]
sw = []
for i in range(0, len(a) - 2, 3):
    sw += [a[i + 2], a[i + 1], a[i]]
n = max(len(a), 1)
print(sum(abs(x - y) for x, y in zip(a, b)) / n if len(a) == len(b) == 144 else 999,
      sum(abs(x - y) for x, y in zip(sw, b)) / n)
PY
)
    expect_true "pi-libcamerify $fmt frames are the YU12 picture, red and blue in place (mean difference $same; swapped: $swapped)" \
        "$same <= 8 && $same < 0.75 * $swapped"
done
timeout 120 "$TETHER" sim v4l2 --device "$mmal=bcm2835-legacy" -- ffmpeg -nostdin -loglevel error -f v4l2 \
    -input_format mjpeg -video_size 1280x960 -i "$mmal" -frames:v 60 -c copy -y mmal.mkv >ffmpeg-mmal.log 2>&1
n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 mmal.mkv 2>&1)
expect "ffmpeg records 60 MJPEG 1280x960 frames from bcm2835-legacy (a size from its range)" "$n" "60"

if command -v gst-launch-1.0 >/dev/null && gst-inspect-1.0 v4l2src >/dev/null 2>&1; then
    check "GStreamer v4l2src takes 300 MJPEG buffers and decodes them" timeout 120 \
        "$TETHER" sim v4l2 --device "$dev" -- gst-launch-1.0 -q v4l2src device="$dev" num-buffers=300 \
        ! image/jpeg,width=1280,height=720 ! jpegdec ! fakesink
    check "GStreamer v4l2src takes 30 RGB buffers from pi-libcamerify" timeout 120 \
        "$TETHER" sim v4l2 --device "$pi=pi-libcamerify" -- gst-launch-1.0 -q v4l2src device="$pi" num-buffers=30 \
        ! video/x-raw,format=RGB,width=640,height=480 ! videoconvert ! fakesink
    check "GStreamer v4l2src takes 30 MJPEG buffers from bcm2835-legacy at 800x600 (stepwise)" timeout 120 \
        "$TETHER" sim v4l2 --device "$mmal=bcm2835-legacy" -- gst-launch-1.0 -q v4l2src device="$mmal" num-buffers=30 \
        ! image/jpeg,width=800,height=600 ! jpegdec ! fakesink
else
    ok "GStreamer v4l2src: not installed, skipped # SKIP"
fi

# frame rates: 60 intervals each, from the device's own buffer timestamps
# (CLOCK_MONOTONIC, at each frame's end), so the start-up of the device and
# of v4l2-ctl, seconds on a loaded machine, is not counted; the timestamps
# must lie inside the run as this script's clock saw it.  The bar is wide
# below (a loaded machine may lag), narrow above (the rate asked for).
rate() {
    local fmt=$1 w=$2 h=$3 fps=$4 t0 t1
    t0=$(python3 -c 'import time; print(time.monotonic())')
    sim v4l2-ctl -d "$dev" --set-fmt-video=width=$w,height=$h,pixelformat=$fmt --set-parm=$fps \
        --stream-mmap --stream-count=61 --verbose >"$T_DIR/rate.out" 2>&1 || return 1
    t1=$(python3 -c 'import time; print(time.monotonic())')
    awk -v t0="$t0" -v t1="$t1" -v fps="$fps" '
        /cap dqbuf/ { for (i = 1; i < NF; i++) if ($i == "ts:") { if (n == 0) first = $(i + 1); last = $(i + 1); n++ } }
        END {
            r = n > 1 && last > first ? (n - 1) / (last - first) : 0
            printf "%d frames, %.2f fps by their timestamps (%.3f to %.3f, the run %.3f to %.3f)\n", n, r, first, last, t0, t1
            exit !(n == 61 && first >= t0 && last <= t1 && r > fps * 0.5 && r < fps * 1.05)
        }' "$T_DIR/rate.out"
}
check "v4l2-ctl streams MJPEG 640x480 at about 30 fps" rate MJPG 640 480 30
check "v4l2-ctl streams MJPEG 1920x1080 at about 15 fps" rate MJPG 1920 1080 15
check "v4l2-ctl streams YUYV 1280x720 at about 10 fps" rate YUYV 1280 720 10

out=$(sim v4l2-compliance -d "$T_DIR/dev/nothing" 2>&1)
expect_match "a path that is not configured is not a device" "$out" 'No such file|Cannot open|Failed to open|Unable'

exit $T_FAILED
