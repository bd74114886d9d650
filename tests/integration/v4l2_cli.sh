# The V4L2 backend through the tether CLI and the studio, against the
# user-space V4L2 device (persona uvc-c920, and pi-libcamerify for the
# planar formats; `tether sim v4l2`): discovery,
# summary, controls as settings (canonical names, inactive manual
# controls, bad values), stills at full size (also while the studio's live
# view runs, which comes back afterwards), live view with the Huffman
# tables completed, autofocus and absolute focus through focus_absolute,
# a control set by another program arriving as a setting event, and
# faults: corrupt frames (error flag, cut short) dropped and never
# served, an unplug detected and recovered from when the device returns.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"

dev="$T_DIR/dev/video0"
fault="$T_DIR/dev/video0.fault"
sim() { "$TETHER" sim v4l2 --device "$dev" -- "$@"; }
cam() { sim "$TETHER" --camera "v4l2:$dev" "$@"; }

# mjpeg_parts FILE: "N BAD" for a multipart MJPEG stream: the parts, and
# those that are not a whole JPEG with Huffman tables (SOI, DHT, EOI)
mjpeg_parts() {
    python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
n = bad = 0
for m in re.finditer(rb'Content-Length: (\d+)\r\n\r\n', data):
    part = data[m.end():m.end() + int(m.group(1))]
    if len(part) < int(m.group(1)):
        break  # the last part, cut by the client's time limit
    n += 1
    if not (part.startswith(b'\xff\xd8') and part.endswith(b'\xff\xd9') and b'\xff\xc4' in part):
        bad += 1
print(n, bad)
PY
}

out=$(sim "$TETHER" list 2>&1)
expect_match "tether list finds the device" "$out" "^v4l2:$dev +HD Pro Webcam C920"
out=$(cam summary 2>&1)
expect_match "summary names the card and formats" "$out" 'Card: HD Pro Webcam C920.*'
expect_match "summary lists MJPEG sizes" "$out" 'Format MJPG: 640x480@30 1280x720@30 1920x1080@15'
out=$(sim "$TETHER" --camera v4l2:auto summary 2>&1)
expect_match "v4l2:auto opens the first device" "$out" "Device: $dev"
out=$(sim "$TETHER" --camera v4l2:/nonexistent/video9 summary 2>&1)
expect_match "a missing device is a clear error" "$out" 'cannot open /nonexistent/video9'

out=$(cam config list 2>&1)
expect_match "controls are settings" "$out" '/controls/focus_absolute = 0 \(read-only\)'
expect_match "menus show their item" "$out" '/controls/auto_exposure = Aperture Priority Mode'
out=$(cam config set shutterspeed 100 2>&1)
expect_match "a manual control is inactive while its auto control is on" "$out" 'inactive while its automatic control is on'
check "set auto_exposure to Manual Mode" cam config set auto_exposure "Manual Mode"
check "set shutterspeed (canonical: exposure_time_absolute)" cam config set shutterspeed 100
expect_match "another process reads it back" "$(cam config get exposure_time_absolute 2>&1)" '= 100$'
check "set iso (canonical: gain)" cam config set iso 64
expect_match "gain reads back" "$(cam config get gain 2>&1)" '= 64$'
out=$(cam config set auto_exposure Bogus 2>&1)
expect_match "a bad menu value lists the choices" "$out" 'Manual Mode.*Aperture Priority Mode'
out=$(cam config set brightness 999 2>&1)
expect_match "an out-of-range value is refused" "$out" '0 .. 255|0\.\.255|range'
check "set white balance off, then its temperature" cam config set white_balance_automatic 0 \
    /controls/white_balance_temperature 5000

check "capture a still" cam capture --output "$T_DIR/shots/{counter}.{ext}"
expect "the still is full size (1920x1080 MJPEG)" "$("$TESTTOOL" jpeg "$T_DIR/shots/1.jpg" 2>&1)" "1920x1080"
check "preview frames" cam preview --output "$T_DIR/pv-{counter}.jpg" --count 5
expect "live view is 1280x720" "$("$TESTTOOL" jpeg "$T_DIR/pv-5.jpg" 2>&1)" "1280x720"
expect "the frames got their Huffman tables" "$(grep -c $'\xff\xc4' "$T_DIR/pv-5.jpg" | awk '{print ($1 > 0)}')" "1"

# a Raspberry Pi camera through libcamerify: YU12/NV12 only, encoded here
pi="$T_DIR/dev/video1"
pisim() { "$TETHER" sim v4l2 --device "$dev" --device "$pi=pi-libcamerify" -- "$@"; }
out=$(pisim "$TETHER" list 2>&1)
expect_match "two devices are listed" "$(printf '%s\n' "$out" | grep -c '^v4l2:')" '^2$'
expect_match "pi-libcamerify offers YU12 and NV12" "$(pisim "$TETHER" --camera "v4l2:$pi" summary 2>&1)" \
    'Format YU12: .*2304x1296@10'
check "pi-libcamerify: capture" pisim "$TETHER" --camera "v4l2:$pi" capture --output "$T_DIR/pi/{counter}.{ext}"
expect "pi-libcamerify: the still is full size" "$("$TESTTOOL" jpeg "$T_DIR/pi/1.jpg" 2>&1)" "2304x1296"
check "pi-libcamerify: preview" pisim "$TETHER" --camera "v4l2:$pi" preview --output "$T_DIR/pi-pv.jpg" --count 3
expect "pi-libcamerify: live view is encoded to JPEG" "$("$TESTTOOL" jpeg "$T_DIR/pi-pv.jpg" 2>&1)" "1280x720"
out=$(pisim "$TETHER" --camera "v4l2:$pi" focus auto 2>&1)
expect_match "pi-libcamerify: no focus motor, a clear error" "$out" 'not supported|no focus'

out=$(cam focus auto 2>&1)
expect_match "autofocus through focus_absolute" "$out" 'focused'
pos=$(cam config get focus_absolute 2>&1 | sed -n 's/.* = //p')
expect_true "autofocus lands where the subject is sharp (100 of 0..250: $pos)" "${pos:-0} >= 90 && ${pos:-0} <= 110"
expect_match "continuous autofocus was switched off for it" \
    "$(cam config get focus_automatic_continuous 2>&1)" '= 0$'

# ---- the studio: stills while live view runs, faults ----
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$port"
TETHER_LOG=info "$TETHER" sim v4l2 --device "$dev" -- "$TETHER" --camera "v4l2:$dev" serve \
    --listen "127.0.0.1:$port" --photos "$T_DIR/photos" >serve.out 2>serve.err &
SERVE=$!
T_SIMS+=("$SERVE")
until_ok 20 grep -q '^studio on' serve.out
expect_match "the studio serves the V4L2 camera" "$(cat serve.out)" '^studio on'

curl -s -N --max-time 15 "$URL/api/events" >events.txt &
EVENTS=$!
until_ok 5 grep -q retry events.txt
check "another program sets a control (v4l2-ctl)" sim v4l2-ctl -d "$dev" -c brightness=200
until_ok 10 grep -q '"name":"brightness".*"value":"200"' events.txt
expect "the change reaches the studio as a setting event (V4L2_EVENT_CTRL)" "$?" "0"
kill "$EVENTS" 2>/dev/null
wait "$EVENTS" 2>/dev/null

curl -s --max-time 6 -o live1.mjpg "$URL/stream.mjpg" &
STREAM=$!
sleep 1
expect "capture while live view runs" "$(req POST /api/capture)" "201"
url=$(body '.photos[0].url')
curl -s -o photo.jpg "$URL$url"
expect "the still is full size" "$("$TESTTOOL" jpeg photo.jpg 2>&1)" "1920x1080"
wait "$STREAM"
read -r n bad < <(mjpeg_parts live1.mjpg)
expect_true "live view went on after the still ($n frames)" "$n >= $(slow_bar 15 8)"
expect "every frame served is whole" "$bad" "0"

curl -s --max-time 5 -o live2.mjpg "$URL/stream.mjpg" &
STREAM=$!
sleep 1
echo "error 10" >"$fault"
sleep 1
echo "truncate 10" >"$fault"
wait "$STREAM"
read -r n bad < <(mjpeg_parts live2.mjpg)
expect_true "live view goes on through corrupt frames ($n frames)" "$n >= $(slow_bar 15 8)"
expect "no corrupt frame is served" "$bad" "0"
expect_true "the 20 corrupt frames were dropped and counted" "$(grep -c 'frame dropped' serve.err) >= 20"

echo stall >"$fault"
curl -s --max-time 8 -o live-stall.mjpg "$URL/stream.mjpg" &
STREAM=$!
until_ok 10 grep -q 'no frame for' serve.err
expect "a stalled stream is noticed" "$?" "0"
echo ok >"$fault"
wait "$STREAM"
read -r n bad < <(mjpeg_parts live-stall.mjpg)
expect_true "live view recovers from the stall ($n frames, $bad bad)" "$n >= $(slow_bar 8 4) && $bad == 0"

echo unplug >"$fault"
until_ok 10 sh -c "curl -s '$URL/api/status' | jq -e '.camera.connected == false'"
expect "an unplug is detected" "$?" "0"
rm -f "$fault"
until_ok 20 sh -c "curl -s '$URL/api/status' | jq -e '.camera.connected == true'"
expect "the camera comes back when replugged" "$?" "0"
curl -s --max-time 3 -o live3.mjpg "$URL/stream.mjpg"
read -r n bad < <(mjpeg_parts live3.mjpg)
expect_true "live view after the replug ($n frames, $bad bad)" "$n >= $(slow_bar 8 4) && $bad == 0"

kill -TERM "$SERVE"
status=0
wait "$SERVE" || status=$?
if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' serve.err; then ok "the studio exits cleanly"
else not_ok "the studio exits cleanly" "status $status; $(sanitizer_report serve.err)"; fi

exit $T_FAILED
