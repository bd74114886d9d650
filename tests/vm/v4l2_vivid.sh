#!/bin/bash
# The guest half of tests/integration/v4l2_vivid.sh: runs inside the qemu
# VM that scripts/vivid-vm boots (Debian's kernel, the vivid driver
# loaded, this machine's root mounted read-only over 9p and chrooted
# into), so the tether build under test meets the kernel's own V4L2
# framework (videodev, vb2, the control framework) rather than our
# user-space device.  Its argument is the folder shared with the host
# (writable): `env` there names TETHER and TESTTOOL.  It prints lib.sh's
# "ok - v4l2_vivid: ..." lines, which the host side passes on.
#
# Every expectation comes from a tool nobody here wrote (v4l2-ctl on the
# same node), or from the picture itself (TESTTOOL decodes it):
# discovery finds exactly the node(s) whose device caps say video capture
# + streaming; the summary's sizes are v4l2-ctl's; the settings are
# exactly v4l2-ctl's int/bool/menu controls; writes are read back by
# v4l2-ctl and the other way round; 100 live-view frames arrive, decode
# and change (vivid draws a frame counter); a still decodes at the largest
# size and live view and controls come back after it; a frame vivid
# flags V4L2_BUF_FLAG_ERROR is dropped, its fatal streaming error
# restarts the stream, and a stream that delivers nothing ends in an
# error after one restart, not a hang; vivid's
# `disconnect` control (an unplug) during live view ends the CLI within
# seconds with a clear error, no crash, no hang, and the node is back
# once tether closed it (vivid registers its nodes again when their last
# user closes them); the studio gets a control set by v4l2-ctl as a
# setting event (the kernel's V4L2_EVENT_CTRL), reports the camera lost
# on the unplug and back after it, and streams and gets events again.
share=$1
# shellcheck disable=SC1091
. "$share/env"
export TETHER_V4L2_DIR=/dev
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR" || exit 1
w=$T_DIR/work
mkdir -p "$w"

# ---- discovery: the capture node(s), as v4l2-ctl sees them ----
capture_nodes() {
    local d
    for d in /dev/video*; do
        v4l2-ctl -d "$d" -D 2>/dev/null | awk '
            /Device Caps/ { on = 1; next }
            on && /^\t\t/ { sub(/^\t\t/, ""); caps[$0] = 1; next }
            on { exit }
            END { exit !(caps["Video Capture"] && caps["Streaming"]) }' && echo "$d"
    done
}
want=$(capture_nodes)
n_nodes=$(find /dev -maxdepth 1 -name "video*" | wc -l)
expect_true "vivid made several video nodes ($n_nodes), one a capture node ($want)" \
    "$n_nodes >= 2 && $(printf '%s\n' "$want" | grep -c .) == 1"
dev=$(printf '%s\n' "$want" | head -n 1)
list=$("$TETHER" list 2>&1)
expect "tether list shows exactly the capture node (not output, metadata or touch)" \
    "$(printf '%s\n' "$list" | grep '^v4l2:' | awk '{ print $1 }')" "v4l2:$dev"
expect_match "tether list names the card" "$list" "^v4l2:$dev +vivid$"
cam() { "$TETHER" --camera "v4l2:$dev" "$@"; }
stamp() { echo "    (guest uptime $(cut -d' ' -f1 /proc/uptime) s)"; }

stamp
# ---- summary: formats and sizes as v4l2-ctl enumerates them ----
sum=$(cam summary 2>&1)
sum=$(printf '%s\n' "$sum" | tr '\n' '|')
expect_match "summary names card, driver and bus" "$sum" "Card: vivid\|Driver: vivid\|Bus: platform:vivid"
fmts=$(v4l2-ctl -d "$dev" --list-formats-ext 2>&1)
sizes_of() { # FOURCC: v4l2-ctl's sizes of a format, "WxH WxH ..."
    printf '%s\n' "$fmts" | awk -v f="'$1'" '
        /^\t\[[0-9]+\]:/ { on = ($2 == f) }
        on && /Size: Discrete/ { printf "%s%s", sep, $3; sep = " " }'
}
for f in YUYV YU12 NV12; do
    got=$(printf '%s' "$sum" | tr '|' '\n' | sed -n "s/^Format $f: //p" | sed 's/@[0-9]*//g')
    want_sizes=$(sizes_of $f)
    expect "summary: $f sizes are v4l2-ctl's" "$got" "${want_sizes:-(v4l2-ctl lists no $f size)}"
done
# the fastest rate of each YUYV size, whole frames per second
rates=$(printf '%s\n' "$fmts" | awk '
    function flush() { if (size != "") { printf "%s%s@%d", sep, size, best; sep = " " } size = "" }
    /^\t\[[0-9]+\]:/ { on = ($2 == "\047YUYV\047") }
    on && /Size: Discrete/ { flush(); size = $3; best = 0 }
    on && /Interval:/ { v = $0; sub(/.*\(/, "", v); sub(/ fps\).*/, "", v); if (v + 0 > best) best = v + 0 }
    END { flush() }')
expect "summary: each YUYV size's fastest rate is v4l2-ctl's" \
    "$(printf '%s' "$sum" | tr '|' '\n' | sed -n 's/^Format YUYV: //p')" "${rates:-(v4l2-ctl lists no rate)}"
# live view: of the YUYV sizes up to 1280 wide, the largest that reaches
# 15 fps (vivid slows its larger sizes down: 1280x720 at 12.5 fps)
lv=$(printf '%s\n' $rates | awk -F'[x@]' '$1 <= 1280 { n++; w[n] = $1; h[n] = $2; r[n] = $3; if ($3 > top) top = $3 }
    END { floor = top < 15 ? top : 15
          for (i = 1; i <= n; i++) if (r[i] >= floor && w[i] * h[i] > best) { best = w[i] * h[i]; s = w[i] "x" h[i] }
          print s }')
expect_match "live view is YUYV ${lv:-?} (the largest up to 1280 wide at 15 fps or more)" "$sum" "Live view: YUYV ${lv:-?}@"

stamp
# ---- controls ----
ctrls=$(v4l2-ctl -d "$dev" -l 2>&1)
want_names=$(printf '%s\n' "$ctrls" | awk '$3 ~ /^\((int|bool|menu|intmenu)\):?$/ && !/disabled/ { print $1 }' | sort)
cfg=$(cam config list 2>&1)
got_names=$(printf '%s\n' "$cfg" | sed -n 's|^/controls/\([^ ]*\) = .*|\1|p' | sort)
printf '%s\n' "$want_names" >want-ctrls
printf '%s\n' "$got_names" >got-ctrls
expect "the settings are exactly v4l2-ctl's int, bool, menu and integer menu controls ($(grep -c . want-ctrls))" \
    "$(diff want-ctrls got-ctrls 2>&1 | grep -v '^[0-9]' | tr '\n' ' ')" ""
expect_true "v4l2-ctl listed them ($(grep -c . want-ctrls))" "$(grep -c . want-ctrls) >= 20"
expect_match "brightness reads as v4l2-ctl says" "$(cam config get brightness 2>&1)" \
    "= $(v4l2-ctl -d "$dev" -C brightness | awk '{ print $2 }')\$"
expect_match "gain is read-only while gain_automatic is on (v4l2-ctl: inactive)" \
    "$(printf '%s\n' "$ctrls" | grep -c '^ *gain .*inactive')$(printf '%s\n' "$cfg" | grep '^/controls/gain =')" \
    '^1/controls/gain = [0-9]+ \(read-only\)$'
check "set brightness 200" cam config set brightness 200
expect "v4l2-ctl reads brightness 200" "$(v4l2-ctl -d "$dev" -C brightness 2>&1)" "brightness: 200"
expect_match "tether reads it back" "$(cam config get brightness 2>&1)" '= 200$'
out=$(cam config set brightness 999 2>&1)
expect_match "an out-of-range value is refused" "$out" '0 .. 255|0\.\.255|range|refused'
expect "and the control keeps its value" "$(v4l2-ctl -d "$dev" -C brightness 2>&1)" "brightness: 200"
check "set a menu control by its item (test_pattern = 100% Colorbar)" cam config set test_pattern "100% Colorbar"
expect "v4l2-ctl reads the item's index" "$(v4l2-ctl -d "$dev" -C test_pattern 2>&1)" "test_pattern: 1 (100% Colorbar)"
v4l2-ctl -d "$dev" -c test_pattern=21 >/dev/null 2>&1
item=$(v4l2-ctl -d "$dev" -C test_pattern 2>&1 | sed -n 's/^test_pattern: 21 (\(.*\))$/\1/p')
expect_match "a menu's 22nd item reads as v4l2-ctl names it ($item)" "$(cam config get test_pattern 2>&1)" "= ${item:-?}\$"
check "v4l2-ctl sets contrast 77 and horizontal_flip 1" v4l2-ctl -d "$dev" -c contrast=77,horizontal_flip=1
expect_match "tether reads contrast 77" "$(cam config get contrast 2>&1)" '= 77$'
expect_match "tether reads horizontal_flip 1" "$(cam config get horizontal_flip 2>&1)" '= 1$'
out=$(cam config set gain 50 2>&1)
expect_match "an inactive control is refused with the reason" "$out" 'inactive while its automatic control is on'
check "gain_automatic off, then gain 50" cam config set gain_automatic 0 /controls/gain 50
expect "v4l2-ctl reads gain 50" "$(v4l2-ctl -d "$dev" -C gain 2>&1)" "gain: 50"
v4l2-ctl -d "$dev" -c horizontal_flip=0,test_pattern=0 >/dev/null 2>&1

stamp
# ---- live view: 100 frames ----
t0=$(date +%s.%N)
out=$(cam --json preview --output "$w/pv-{counter}.jpg" --count 100 2>&1)
t1=$(date +%s.%N)
expect "100 live-view frames (tether's count)" "$(printf '%s' "$out" | jq -r .frames 2>&1)" "100"
expect "100 frame files" "$(find "$w" -maxdepth 1 -name 'pv-*.jpg' | wc -l)" "100"
expect "the first frame decodes at ${lv:-?}" "$("$TESTTOOL" jpeg "$w/pv-1.jpg" 2>&1)" "${lv:-?}"
expect "the 100th frame decodes at ${lv:-?}" "$("$TESTTOOL" jpeg "$w/pv-100.jpg" 2>&1)" "${lv:-?}"
if cmp -s "$w/pv-1.jpg" "$w/pv-100.jpg"; then not_ok "the frames are live (vivid's counter moved)" "frames 1 and 100 are equal"
else ok "the frames are live (vivid's counter moved)"; fi
echo "    (100 frames in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s with start-up; tether says $(printf '%s' "$out" | jq -r '.fps' 2>/dev/null | cut -c1-5) fps)"
rm -f "$w"/pv-*.jpg

stamp
# ---- a still ----
check "capture a still" cam capture --output "$w/shots/{counter}.{ext}"
big=$(sizes_of YUYV | tr ' ' '\n' | tail -n 1)
expect "the still decodes at the largest size ($big)" "$("$TESTTOOL" jpeg "$w/shots/1.jpg" 2>&1)" "$big"
check "live view after the still" cam preview --output "$w/after.jpg" --count 3
expect "live view is ${lv:-?} again" "$("$TESTTOOL" jpeg "$w/after.jpg" 2>&1)" "${lv:-?}"
expect "the controls were kept through the still" "$(v4l2-ctl -d "$dev" -C brightness,contrast 2>&1 | tr '\n' ' ')" \
    "brightness: 200 contrast: 77 "

stamp
# ---- vivid's error injection during live view ----
TETHER_LOG=info "$TETHER" --camera "v4l2:$dev" --json preview --output "$w/inj.jpg" --count 80 >"$w/inj.json" 2>"$w/inj.err" &
pv=$!
until_ok 30 test -s "$w/inj.jpg"
check "vivid flags the next frame V4L2_BUF_FLAG_ERROR" v4l2-ctl -d "$dev" -c inject_v4l2_buf_flag_error=1
sleep 1
check "vivid's fatal streaming error (vb2_queue_error)" v4l2-ctl -d "$dev" -c inject_fatal_streaming_error=1
status=0
wait "$pv" || status=$?
expect "live view goes on through both (80 frames, status 0)" "$status $(jq -r .frames "$w/inj.json" 2>&1)" "0 80"
expect_match "the flagged frame was dropped and counted" "$(cat "$w/inj.err")" 'flagged frame [0-9]+ as corrupt\); 1 dropped so far'
expect_match "the stream in error was restarted" "$(cat "$w/inj.err")" 'error on its stream; restarting the stream'
expect "the camera was not given up for lost" "$(grep -c 'camera lost' "$w/inj.err")" "0"
check "vivid delivers no frame (percentage_of_dropped_buffers=100)" v4l2-ctl -d "$dev" -c percentage_of_dropped_buffers=100
t0=$(date +%s.%N)
status=0
TETHER_LOG=info timeout -s KILL 60 "$TETHER" --camera "v4l2:$dev" preview --output "$w/stall.jpg" --count 5 >"$w/stall.out" 2>&1 || status=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect "a stalled stream ends live view with an error, in $took s (status 1: no hang, no crash)" "$status" "1"
expect_match "it says so, after one restart" "$(tr '\n' ' ' <"$w/stall.out")" 'restarting the stream.*stalled: no frame for'
check "vivid delivers again (percentage_of_dropped_buffers=0)" v4l2-ctl -d "$dev" -c percentage_of_dropped_buffers=0
check "and live view runs" cam preview --output "$w/again.jpg" --count 3

stamp
# ---- vivid's disconnect during live view (the CLI) ----
cam preview --output "$w/dc.jpg" --count 100000 >"$w/dc.out" 2>&1 &
pv=$!
until_ok 30 test -s "$w/dc.jpg"
expect "live view runs before the unplug" "$?" "0"
check "vivid's disconnect control (v4l2-ctl -c disconnect=1)" v4l2-ctl -d "$dev" -c disconnect=1
gone=$(date +%s.%N)
until_ok 15 sh -c "! kill -0 $pv"
if kill -0 "$pv" 2>/dev/null; then
    not_ok "tether preview ends after the unplug" "still running 15 s later: $(tail -n 2 "$w/dc.out" | tr '\n' ' ')"
    kill -KILL "$pv"
fi
status=0
wait "$pv" || status=$?
took=$(awk -v a="$gone" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect "tether preview fails cleanly after the unplug, in $took s (status 1: no crash)" "$status" "1"
expect_match "it says the device is gone" "$(cat "$w/dc.out")" 'gone|disconnected|No such device'
expect_true "within 5 s ($took s)" "$took <= 5"
# vivid registers its nodes again when their last user closes them (a replug)
expect "the node is back once tether closed it (vivid's reconnect): tether list shows it" \
    "$("$TETHER" list 2>&1 | grep -c "^v4l2:$dev ")" "1"
check "and tether opens it again" cam summary

stamp
# ---- the studio server: the camera lost and back ----
ip link set lo up 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$port"
TETHER_LOG=info "$TETHER" --camera "v4l2:$dev" serve --listen "127.0.0.1:$port" --photos "$w/photos" >serve.out 2>serve.err &
SERVE=$!
T_SIMS+=("$SERVE")
until_ok 60 grep -q '^studio on' serve.out
expect_match "the studio serves vivid" "$(cat serve.out)" '^studio on'
curl -s -N --max-time 150 "$URL/api/events" >events.txt &
EVENTS=$!
until_ok 10 grep -q retry events.txt
check "v4l2-ctl sets brightness 99 beside the studio" v4l2-ctl -d "$dev" -c brightness=99
until_ok 10 grep -q '"name":"brightness".*"value":"99"' events.txt
expect "the change reaches the studio as a setting event (the kernel's V4L2_EVENT_CTRL)" "$?" "0"
curl -s --max-time 5 -o live1.mjpg "$URL/stream.mjpg"
n1=$(grep -c -a 'Content-Type: image/jpeg' live1.mjpg)
expect_true "live view streams from vivid ($n1 frames in 5 s)" "$n1 >= 10"
curl -s --max-time 30 -o live2.mjpg "$URL/stream.mjpg" &
STREAM=$!
until_ok 10 sh -c "[ \$(grep -c -a 'Content-Type: image/jpeg' live2.mjpg) -ge 5 ]"
check "vivid's disconnect during the studio's live view" v4l2-ctl -d "$dev" -c disconnect=1
until_ok 15 grep -q camera_lost events.txt
expect "the studio reports the camera lost" "$?" "0"
until_ok 20 grep -q camera_back events.txt
expect "and back when vivid re-registers it (after tether closed it)" "$?" "0"
kill "$STREAM" 2>/dev/null
wait "$STREAM"
curl -s --max-time 6 -o live3.mjpg "$URL/stream.mjpg"
n3=$(grep -c -a 'Content-Type: image/jpeg' live3.mjpg)
expect_true "live view streams again after the replug ($n3 frames in 6 s)" "$n3 >= 10"
expect_match "the camera is connected" "$(curl -s "$URL/api/status" | jq -c .camera.connected)" '^true$'
check "v4l2-ctl sets brightness 98 after the replug" v4l2-ctl -d "$dev" -c brightness=98
until_ok 10 grep -q '"name":"brightness".*"value":"98"' events.txt
expect "control events are subscribed again on the reopened node" "$?" "0"
kill "$EVENTS" 2>/dev/null
kill -TERM "$SERVE"
status=0
wait "$SERVE" || status=$?
if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' serve.err; then ok "the studio exits cleanly"
else not_ok "the studio exits cleanly" "status $status; $(sanitizer_report serve.err)"; fi

echo "    (guest uptime $(cut -d' ' -f1 /proc/uptime) s)"
exit $T_FAILED
