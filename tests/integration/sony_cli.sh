# The tether CLI and the sony backend against `tether sim sony`, both
# personas: discovery (tether list with TETHER_SSDP_TARGET), summary,
# settings on canonical names with the body's choices, capture (postview
# with EXIF), live view, touch AF that really moves the simulated lens,
# the camera's errors (busy, AF failure, long exposure), and in tethered
# mode a shot with the body's button, a dial turned on the body, the Wi-Fi
# lost and back, and a cut live-view stream reopened; on the QX10 the
# card (files, download, import, delete) through Contents Transfer.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sony_lib.sh"
cd "$T_DIR"

# the lens's distance from the subject's sharp position, in steps
defocus() { state '(.focus.lens_position - .focus.true_focus_position) | fabs'; }
# conditions until_ok polls (evaluated at each try)
parked() { test "$(state .event_poll_parked)" = true; }
files_in() { test "$(ls "$1" | wc -l)" -eq "$2"; }

for persona in qx10 a6000; do
    sony_start "$persona" || continue
    t() { timeout -s KILL 60 "$TETHER" --camera "sony:$DD_URL" "$@"; }
    case $persona in qx10) model=DSC-QX10 size=640x480 ;; *) model=ILCE-6000 size=640x424 ;; esac

    out=$(TETHER_SSDP_TARGET=127.0.0.1:$SSDP_PORT timeout -s KILL 60 "$TETHER" list 2>&1)
    expect_match "$persona list finds the camera by SSDP" "$out" "^sony:$DD_URL +Sony $model"
    out=$(TETHER_SSDP_TARGET=127.0.0.1:$SSDP_PORT timeout -s KILL 60 "$TETHER" --camera sony summary 2>&1)
    expect_match "$persona --camera sony discovers and opens it" "$out" "Model: Sony $model"
    out=$(t summary 2>&1)
    expect_match "$persona summary reads the state from getEvent" "$out" 'Camera status: IDLE'
    [ "$persona" = a6000 ] && expect "$persona the backend started rec mode" "$(state .rec_mode)" "true"

    # settings: canonical names, the body's own choices, availability by mode
    if [ "$persona" = qx10 ]; then
        out=$(t config set iso 400 2>&1)
        expect_match "$persona ISO is read-only in Intelligent Auto" "$out" 'read-only'
    fi
    check "$persona set exposure mode" t config set exposuremode "Program Auto"
    check "$persona set ISO 400" t config set iso 400
    expect "$persona the camera holds ISO 400" "$(state .settings.isoSpeedRate)" "400"
    out=$(t config set iso 333 2>&1)
    expect_match "$persona a value the body does not offer lists its choices" "$out" '100, 125'
    check "$persona exposure compensation in EV" t config set exposurecompensation 0.7
    expect "$persona ... sent as the 1/3 EV index" "$(state .settings.exposureCompensation)" "2"
    check "$persona white balance" t config set whitebalance Daylight
    expect "$persona the camera holds Daylight" "$(state .settings.whiteBalance)" "Daylight"
    # still size: the body's [aspect, size] pairs as one choice
    if [ "$persona" = qx10 ]; then sizes='4:3 18M, 4:3 10M'; small='16:9 7.5M'; else sizes='3:2 24M, 3:2 12M'; small='16:9 10M'; fi
    expect_match "$persona still sizes are the body's" "$(t config get stillSize 2>&1 | tr '\n' ' ')" "choices: $sizes"
    check "$persona set the still size" t config set stillSize "$small"
    expect "$persona the camera holds it (setStillSize [aspect, size])" "$(state '.settings.stillSize | .aspect + " " + .size')" "$small"
    expect_match "$persona ... and reads it back" "$(t config get stillSize 2>&1)" "stillSize = $small\$"
    out=$(t config set stillSize "1:1 9M" 2>&1)
    expect_match "$persona a size the body lacks is refused with the choices" "$out" "not a choice.*$sizes"
    if [ "$persona" = a6000 ]; then
        out=$(t config set aperture 8 2>&1)
        expect_match "$persona aperture is read-only in Program Auto" "$out" 'read-only'
        check "$persona Aperture mode" t config set exposuremode Aperture
        check "$persona aperture f/8" t config set aperture 8
        expect "$persona the camera holds F8.0" "$(state .settings.fNumber)" "8.0"
    fi
    if [ "$persona" = a6000 ]; then # getEvent 1.2 and later carry batteryInfo
        expect_match "$persona battery and shots left" "$(t config list 2>&1 | tr '\n' ' ')" 'battery = 75%.*shotsleft = 812'
    else
        expect_match "$persona no battery in getEvent 1.0, shots left" "$(t config list 2>&1 | tr '\n' ' ')" '2M [^b]*shotsleft = 812'
    fi

    # touch AF moves the simulated lens onto the subject
    expect_true "$persona the lens starts out of focus" "$(defocus) > 100"
    blurred=$(t focus measure --count 2 2>/dev/null | awk '/^tenengrad/ { v = $2 } END { print v + 0 }')
    check "$persona touch AF at 30,40" t config set touchaf 30,40
    expect "$persona the camera reports focus" "$(state .focus.status)" "Focused"
    expect_true "$persona touch AF focused the lens" "$(defocus) < 5"
    sharp=$(t focus measure --count 2 2>/dev/null | awk '/^tenengrad/ { v = $2 } END { print v + 0 }')
    expect_true "$persona live view is sharper after touch AF ($blurred -> $sharp)" "$sharp > 2 * $blurred && $blurred > 0"
    out=$(t config set touchaf 130,40 2>&1)
    expect_match "$persona a touch outside the frame is refused" "$out" 'percent'
    check "$persona power zoom one step in" t config set zoom in
    expect "$persona the lens zoomed" "$(state .zoom)" "10"
    expect_match "$persona zoom takes in/out/stop only" "$(t config set zoom sideways 2>&1)" 'in, out'

    # capture: the postview, downloaded with EXIF
    mkdir -p "$persona"
    out=$(t capture --output "$persona/shot-{counter}" 2>&1)
    expect_match "$persona capture saves the postview" "$out" "saved $persona/shot-1.jpg"
    expect_match "$persona the file is a JPEG with the body's EXIF" \
        "$(exiftool -s -s -s -Make -Model "$persona/shot-1.jpg" 2>&1 | tr '\n' '|')" "^SONY\|$model\|$"
    expect "$persona the camera took one shot" "$(state .shots)" "1"
    # the postview URL has a query (?size=Scn, or the QX10's escaped one):
    # the file is named after the picture, not the query
    out=$(t capture --output "$persona/{name}" 2>&1)
    expect_match "$persona a postview named by the camera keeps its name, not the URL's query" "$out" \
        "saved $persona/pict[0-9]+\\.jpg$"

    # live view, pushed by the backend's reader thread
    out=$(t preview --output "$persona/lv.jpg" --count 3 2>&1)
    expect_match "$persona preview gets frames" "$out" '3 frames'
    expect "$persona a live-view frame is the body's size" "$("$TESTTOOL" jpeg "$persona/lv.jpg")" "$size"
    opened=$(state .liveview.opened)
    t preview --mjpeg --count 5 >"$persona/lv.mjpeg" 2>/dev/null
    expect "$persona preview --mjpeg streams frames" "$("$TESTTOOL" mjpeg "$persona/lv.mjpeg")" "5"
    expect "$persona preview --count 5 opens the body's live view once" "$(($(state .liveview.opened) - opened))" "1"

    # the camera's errors
    post /faults '{"busy_count": 3}' >/dev/null
    check "$persona a busy camera (40401) is asked again" t capture --output "$persona/busy-{counter}"
    post /faults '{"long_capture": 3}' >/dev/null
    check "$persona a long exposure (40403) is awaited" t capture --output "$persona/long-{counter}"
    expect "$persona ... and the picture is there" "$(ls "$persona"/long-* 2>/dev/null | wc -l)" "1"
    post /faults '{"af_fail_count": 1}' >/dev/null
    check "$persona an AF failure (40400) is retried after a half-press" t capture --output "$persona/af-{counter}"
    check "$persona cancel touch AF" t config set touchaf off
    post /faults '{"af_fail_count": 10}' >/dev/null
    out=$(t capture --output "$persona/fail-{counter}" 2>&1)
    expect_match "$persona a shot that cannot focus fails with Sony's code" "$out" '40400'
    post /faults '{"af_fail_count": 0}' >/dev/null

    # the card, through Contents Transfer where the body offers it
    if [ "$persona" = qx10 ]; then
        shots=$(state .card_files)
        out=$(t files 2>&1)
        expect "$persona files lists the card" "$(printf '%s\n' "$out" | grep -c '/memoryCard1/100/DSC')" "$shots"
        expect "$persona the camera is left shooting when the program ends" "$(state .camera_function)" "Remote Shooting"
        first=$(printf '%s\n' "$out" | awk 'NR == 1 { print $3 }')
        check "$persona download a file" t download "$first" --dest dl
        check "$persona ... it is the first shot's picture" cmp "dl/$(basename "$first")" "$persona/shot-1.jpg"
        out=$(t import --dest imp 2>&1)
        expect_match "$persona import copies the card" "$out" "imported: $shots files .* $shots downloaded"
        expect_match "$persona import --new finds nothing new" "$(t import --dest imp --new 2>&1)" 'imported: 0 files'
        check "$persona delete a file" t delete "$first"
        expect "$persona the card has one file less" "$(state .card_files)" "$((shots - 1))"
        check "$persona a capture after the card was read" t capture --output "$persona/after-{counter}"
        expect "$persona the camera is back to shooting" "$(state .camera_function)" "Remote Shooting"
    else
        out=$(t files 2>&1)
        expect_match "$persona an A6000 has no Contents Transfer over this API" "$out" 'not supported|no Contents Transfer'
    fi
    sim_stop "$persona simulator exits cleanly"
done

# tethered mode: body shots, dials, Wi-Fi lost and back (A6000: rec mode again)
sony_start a6000 || exit 1
mkdir -p td
timeout -s KILL 120 "$TETHER" --json --camera "sony:$DD_URL" tethered --dest td >teth.out 2>teth.err &
teth=$!
T_SIMS+=("$teth")
if until_ok 30 parked; then ok "tethered mode long-polls getEvent"; else not_ok "tethered mode long-polls getEvent"; fi
expect "the body's shutter button" "$(post /shutter)" "200"
if until_ok 30 files_in td 1; then ok "a body shot is downloaded"; else not_ok "a body shot is downloaded" "$(tail -n 3 teth.err)"; fi
expect "a dial turned on the body" "$(post /body/setting '{"name": "isoSpeedRate", "value": "1600"}')" "200"
if until_ok 30 grep -q '"event":"setting_changed","camera":"isoSpeedRate","local":"","detail":"1600"' teth.out; then
    ok "the change reaches the program"; else not_ok "the change reaches the program" "$(tail -n 3 teth.out)"; fi
post /unplug >/dev/null
if until_ok 30 grep -q '"event":"camera_lost"' teth.out; then ok "a lost Wi-Fi is a lost camera"; else not_ok "a lost Wi-Fi is a lost camera"; fi
post /plug >/dev/null
if until_ok 30 grep -q '"event":"camera_back"' teth.out; then ok "the session comes back"; else not_ok "the session comes back" "$(tail -n 3 teth.err)"; fi
until_ok 30 parked
expect "the shutter button again" "$(post /shutter)" "200"
if until_ok 30 files_in td 2; then ok "body shots arrive after the reconnection"; else not_ok "body shots arrive after the reconnection"; fi
kill -INT $teth
status=0
wait $teth || status=$?
if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' teth.err; then ok "tethered ends cleanly"
else not_ok "tethered ends cleanly" "status $status; $(sanitizer_report teth.err)"; fi

# a live-view stream cut mid-packet, and one written in odd pieces, is reopened/parsed
# (focus measure watches live view for all its frames)
post /faults '{"lv_cut_after": 200000, "lv_split": 13}' >/dev/null
out=$(timeout -s KILL 60 "$TETHER" --camera "sony:$DD_URL" focus measure --count 20 2>&1)
expect "live view goes on after a cut stream" "$(printf '%s\n' "$out" | grep -c '^tenengrad')" "20"
expect "the stream was cut once" "$(state .faults.lv_cut_after)" "0"
post /faults '{"lv_split": 0, "lv_rate_kbps": 400}' >/dev/null
out=$(timeout -s KILL 60 "$TETHER" --camera "sony:$DD_URL" focus measure --count 5 2>&1)
expect "live view over a slow link (400 kB/s: the camera skips frames)" "$(printf '%s\n' "$out" | grep -c '^tenengrad')" "5"
sim_stop "a6000 simulator exits cleanly after the faults"
exit $T_FAILED
