# Every tether command and the studio on each persona of the user-space
# V4L2 device (`tether sim v4l2`): uvc-c920 (MJPEG/YUYV webcam with
# focus), the same offering YUYV only (`--formats YUYV`: the session
# encodes its frames), pi-libcamerify (YU12/NV12/RGB3/BGR3, encoded to JPEG by the
# backend) and bcm2835-legacy (the Pi's legacy driver: JPEG/MJPEG/raw,
# stepwise sizes up to 2592x1944, continuous frame rates).  For each:
# list, summary, config list/get/set of a control (a canonical name
# included), a full-size still that decodes at the persona's largest size,
# preview frames at the live-view size, focus (autofocus where there is a
# focus_absolute, a clear error where there is none), and the studio: its
# live view (/stream.mjpg: every part decodes) and a capture through the
# API.  Then the soak: 10,000 live-view frames with 100 stills
# interleaved, through the public API (tether-libtest v4l2-soak) with the
# device delivering as fast as it can (--fps) at small sizes (--max-size):
# memory flat after the warm-up (the heap in use: +256 kB at most; RSS
# within 4 MB, which the allocator's arenas move; LeakSanitizer under
# ASan), no thread or descriptor left over, and no buffer left mapped (the
# device's own count).  How long it took is printed, not judged: the
# 600 s limit only stops a hang.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
LIBTEST="$(dirname "$TESTTOOL")/tether-libtest"
dev="$T_DIR/dev/video0"

# name | persona | the device's options | card (regex) | still WxH | live view WxH | control | value |
# read back (regex) | focus.  uvc-yuyv is a webcam that offers YUYV only
# (as many cheap ones do): its frames are encoded to JPEG by the session,
# live view at 640x480 (30 fps) rather than 1280x720 (10 fps).
personas="uvc-c920|uvc-c920||HD Pro Webcam C920|1920x1080|1280x720|brightness|200|= 200\$|focused
uvc-yuyv|uvc-c920|--formats YUYV|HD Pro Webcam C920|1280x720|640x480|brightness|200|= 200\$|focused
pi-libcamerify|pi-libcamerify||imx708|2304x1296|1280x720|contrast|150|= 150\$|not supported|no focus
bcm2835-legacy|bcm2835-legacy||mmal service 16\\.1|2592x1944|1280x960|iso|400|iso_sensitivity = 400\$|not supported|no focus"

while IFS='|' read -r p persona options card still live ctrl value readback focus focus_alt; do
    [ -n "$persona" ] || continue
    rm -rf "$T_DIR/dev" "$T_DIR/$p"
    mkdir -p "$T_DIR/$p"
    # shellcheck disable=SC2086 # the options are words
    sim() { "$TETHER" sim v4l2 $options --device "$dev=$persona" -- "$@"; }
    cam() { sim "$TETHER" --camera "v4l2:$dev" "$@"; }

    expect_match "$p: tether list finds it" "$(sim "$TETHER" list 2>&1)" "^v4l2:$dev +$card"
    out=$(cam summary 2>&1)
    expect_match "$p: summary names the card" "$out" "Card: $card"
    expect_match "$p: summary gives the live-view mode" "$out" "Live view: [A-Z0-9]{4} $live@"
    out=$(cam config list 2>&1)
    expect_match "$p: config list shows the controls" "$out" '^/controls/brightness = '
    check "$p: config set $ctrl $value" cam config set "$ctrl" "$value"
    expect_match "$p: config get $ctrl reads it back (another process)" "$(cam config get "$ctrl" 2>&1)" "$readback"
    out=$(cam config set brightness 100000 2>&1)
    expect_match "$p: an out-of-range value is refused" "$out" 'takes a number from -?[0-9]+ to [0-9]+'

    check "$p: capture" cam capture --output "$T_DIR/$p/{counter}.{ext}"
    expect "$p: the still decodes at the largest size" "$("$TESTTOOL" jpeg "$T_DIR/$p/1.jpg" 2>&1)" "$still"
    check "$p: preview frames" cam preview --output "$T_DIR/$p/pv-{counter}.jpg" --count 3
    expect "$p: live view decodes at its size" "$("$TESTTOOL" jpeg "$T_DIR/$p/pv-3.jpg" 2>&1)" "$live"
    out=$(cam focus auto 2>&1)
    expect_match "$p: focus auto" "$out" "$focus${focus_alt:+|$focus_alt}"

    # the studio: live view and a capture through the API
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    URL="http://127.0.0.1:$port"
    rm -f serve.out
    # shellcheck disable=SC2086
    "$TETHER" sim v4l2 $options --device "$dev=$persona" -- "$TETHER" --camera "v4l2:$dev" serve \
        --listen "127.0.0.1:$port" --photos "$T_DIR/$p/photos" >serve.out 2>"serve-$p.err" &
    SERVE=$!
    T_SIMS+=("$SERVE")
    until_ok 30 grep -q '^studio on' serve.out
    expect_match "$p: the studio serves the camera" "$(cat serve.out)" '^studio on'
    curl -s --max-time 4 -o "live-$p.mjpg" "$URL/stream.mjpg"
    n=$("$TESTTOOL" mjpeg "live-$p.mjpg" 2>&1)
    expect_true "$p: the studio's live view: every part decodes ($n)" "${n:-0} >= $(slow_bar 10 3)"
    expect "$p: a capture through the API" "$(req POST /api/capture)" "201"
    url=$(body '.photos[0].url')
    curl -s -o "photo-$p.jpg" "$URL$url"
    expect "$p: the studio's still is full size" "$("$TESTTOOL" jpeg "photo-$p.jpg" 2>&1)" "$still"
    kill -TERM "$SERVE"
    status=0
    wait "$SERVE" || status=$?
    if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "serve-$p.err"; then ok "$p: the studio exits cleanly"
    else not_ok "$p: the studio exits cleanly" "status $status; $(sanitizer_report "serve-$p.err")"; fi
done <<<"$personas"

# ---- the soak: 10,000 frames, 100 stills ----
# pi-libcamerify: live view NV12 and stills YU12 (a format switch each
# time), both encoded by the backend; bcm2835-legacy: MJPEG live view and
# JPEG stills passed through.  Small frames and no frame pacing keep each
# run near a minute and a half on an idle machine.
for persona in pi-libcamerify bcm2835-legacy; do
    rm -rf "$T_DIR/dev"
    start=$(date +%s)
    timeout -s KILL 600 "$TETHER" sim v4l2 --fps 2000 --max-size 640x480 --device "$dev=$persona" -- \
        "$LIBTEST" v4l2-soak "v4l2:$dev" 10000 100 >"soak-$persona.out" 2>"soak-$persona.err"
    status=$?
    sed "s/^\(not \)\{0,1\}ok - libtest v4l2-soak: /&$persona: /" "soak-$persona.out" | grep -E '^(not )?ok - '
    figures=$(grep '^soak:' "soak-$persona.out")
    echo "    $persona $figures"
    expect "$persona: the soak ends well (exit status; $(grep -Ec '^not ok' "soak-$persona.out") failed)" "$status" "0"
    if grep -Eq 'Sanitizer|runtime error' "soak-$persona.err"; then
        not_ok "$persona: no sanitizer report in the soak" "$(sanitizer_report "soak-$persona.err")"
    fi
    echo "    ($persona: the soak took $(($(date +%s) - start)) s)"
done

exit $T_FAILED
