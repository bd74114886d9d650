# The studio (`tether serve`) on a Sony camera, both personas of `tether
# sim sony` through the sony backend: status, live view (snapshot and
# MJPEG), settings on the canonical names, touch AF through the settings
# route (and, on the A6000, by a click on the picture in the browser, its
# focus frame drawn there), capture into the gallery, the QX10's card
# imported through /api/import (Contents Transfer, and back to shooting),
# and the Wi-Fi lost and back.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sony_lib.sh"
cd "$T_DIR"
for spec in "qx10 DSC-QX10 640x480" "a6000 ILCE-6000 640x424"; do
    read -r persona model lv <<<"$spec"
    rm -f serve.out
    sony_start "$persona" || continue

    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$TETHER" --camera "sony:$DD_URL" serve --listen "127.0.0.1:$port" --photos "$T_DIR/photos-$persona" >serve.out 2>"serve-$persona.err" &
    SERVE=$!
    T_SIMS+=("$SERVE")
    URL="http://127.0.0.1:$port"
    serving() { grep -q '^studio on' serve.out; }
    if until_ok 30 serving; then ok "serve starts on the Sony camera"; else not_ok "serve starts on the Sony camera" "$(tail -n 3 "serve-$persona.err")"; fi
    connected() { test "$(curl -s "$URL/api/status" | jq -r .camera.connected)" = "$1"; }

    expect "GET /api/status" "$(req GET /api/status)" "200"
    expect "status names the camera" "$(body .camera.model)" "Sony $model"
    expect "GET /snapshot.jpg" "$(curl -s -o snap.jpg -w '%{http_code}' "$URL/snapshot.jpg")" "200"
    expect "the snapshot is a live-view frame of the body" "$("$TESTTOOL" jpeg snap.jpg)" "$lv"
    curl -s --max-time 3 -o stream.mjpg "$URL/stream.mjpg"
    expect_true "GET /stream.mjpg streams frames ($("$TESTTOOL" mjpeg stream.mjpg))" "$("$TESTTOOL" mjpeg stream.mjpg) >= 1"

    expect "GET /api/settings" "$(req GET /api/settings)" "200"
    [ "$persona" = qx10 ] && # ISO is locked in Intelligent Auto
        expect "POST /api/settings sets the exposure mode" "$(req POST /api/settings '{"path": "exposuremode", "value": "Program Auto"}')" "200"
    req GET /api/settings >/dev/null
    expect "iso is a choice with the body's values" "$(body '.settings[] | select(.name=="isoSpeedRate") | .type')" "choice"
    expect "POST /api/settings sets iso" "$(req POST /api/settings '{"path": "iso", "value": "400"}')" "200"
    expect "the camera holds ISO 400" "$(state .settings.isoSpeedRate)" "400"
    expect "touch AF through the settings route" "$(req POST /api/settings '{"path": "touchaf", "value": "50,50"}')" "200"
    expect "the camera focused" "$(state .focus.status)" "Focused"
    # frame-info packets reach the program while live view runs
    curl -s --max-time 20 -o /dev/null "$URL/stream.mjpg" &
    watcher=$!
    frames_seen() { curl -s "$URL/api/settings" | jq -r '.settings[] | select(.name=="focusframes") | .value' | grep -q 'focused'; }
    if until_ok 15 frames_seen; then ok "the focus frame of touch AF comes through live view's frame info"
    else not_ok "the focus frame of touch AF comes through live view's frame info" "$(curl -s "$URL/api/settings" | jq -c '.settings[] | select(.name=="focusframes")')"; fi
    expect_match "... at the touched point (50%: 4500..5500 of 10000)" \
        "$(curl -s "$URL/api/settings" | jq -r '.settings[] | select(.name=="focusframes") | .value')" '^4500,4500,5500,5500 focused'
    kill $watcher 2>/dev/null
    wait $watcher 2>/dev/null

    # in the browser: a click on the picture focuses there, and the frame is drawn
    if [ "$persona" = a6000 ] && browser_ready; then
        browser_test 90 "$T_TESTS/e2e/sony.mjs" "$URL" "http://127.0.0.1:$CTL_PORT" "$shots"
    fi

    expect "POST /api/capture" "$(req POST /api/capture)" "201"
    expect "the gallery has the shot" "$(req GET /api/photos >/dev/null; body .total)" "1"
    expect "the camera took it" "$(state .shots)" "1"
    photos=1
    if [ "$persona" = qx10 ]; then # the card, in Contents Transfer mode
        card=$(state .card_files)
        expect "POST /api/import imports the card" "$(req POST /api/import '{"mode": "all"}')" "202"
        if wait_api_idle /api/import 120 0.2; then ok "the import ends"; else not_ok "the import ends" "$(curl -s "$URL/api/import")"; fi
        expect "... done, every file of the card, none failed" \
            "$(curl -s "$URL/api/import" | jq -c '.last | [.status, .files, .failed]')" "[\"done\",$card,0]"
        photos=$((photos + card))
        expect "the gallery has the card's files too" "$(req GET '/api/photos?per_page=200' >/dev/null; body .total)" "$photos"
        expect "the camera is back to shooting" "$(state .camera_function)" "Remote Shooting"
        expect "POST /api/capture after the import (back to shooting)" "$(req POST /api/capture)" "201"
        photos=$((photos + 1))
    fi

    post /unplug >/dev/null
    if until_ok 30 connected false; then ok "the studio sees the camera lost"; else not_ok "the studio sees the camera lost"; fi
    post /plug >/dev/null
    if until_ok 30 connected true; then ok "and back"; else not_ok "and back" "$(tail -n 3 "serve-$persona.err")"; fi
    expect "a capture after the reconnection" "$(req POST /api/capture)" "201"
    expect "the gallery has them all" "$(req GET '/api/photos?per_page=200' >/dev/null; body .total)" "$((photos + 1))"

    kill -TERM "$SERVE"
    status=0
    wait "$SERVE" || status=$?
    if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "serve-$persona.err"; then ok "serve exits cleanly"
    else not_ok "serve exits cleanly" "status $status; $(sanitizer_report "serve-$persona.err")"; fi
    sim_stop "simulator exits cleanly"
done
exit $T_FAILED
