# The studio UI end to end in Debian's Chromium (tests/e2e/studio.mjs):
# live view, capture, settings, presets, sessions, body shots, a lost
# camera, the gallery, focus peaking, the focus area, AF, trap focus and a
# stack, phone and tablet layouts.  Screenshots are kept in
# tests/out/screenshots/.
. "$(dirname "$0")/../lib.sh"
here=$T_TESTS
browser_ready || exit 0
sim_start --persona canon-eos --photo-size 5184x3456 --files 3 || exit 1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# the webhook panel pings a port on this machine where nothing listens
"$TETHER" --camera "ptpip:127.0.0.1:$SIM_PORT" serve --listen "127.0.0.1:$port" --photos "$T_DIR/photos" \
    --webhook-allow-private >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
serve=$!
T_SIMS+=("$serve")
for _ in $(seq 1 100); do grep -q '^studio on' "$T_DIR/serve.out" && break; sleep 0.1; done
expect_match "tether serve starts" "$(cat "$T_DIR/serve.out")" "^studio on http://127.0.0.1:$port/"
browser_test 420 "$here/e2e/studio.mjs" "http://127.0.0.1:$port" "http://127.0.0.1:$CTL_PORT" "$shots"
kill -TERM "$serve"
status=0
wait "$serve" || status=$?
if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "$T_DIR/serve.err"; then
    ok "tether serve stops cleanly on SIGTERM"
else
    not_ok "tether serve stops cleanly on SIGTERM" "status $status; $(grep -E -m3 'ERROR|runtime error|SUMMARY' "$T_DIR/serve.err" | tr '\n' ' ')"
fi
sim_stop "simulator exits cleanly after the UI tests"
