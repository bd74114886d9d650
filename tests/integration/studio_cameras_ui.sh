# The studio UI with three cameras, end to end in Debian's Chromium
# (tests/e2e/cameras.mjs): the switcher, the grid of live views, the
# settings following the selected camera, capture-all, a camera lost and
# back, adding and removing a camera, phone and desktop layouts.  The three
# cameras are simulators on loopback (Canon, Nikon, generic), each with its
# control channel so that the test can pull the Nikon's plug.  Screenshots
# are kept in tests/out/screenshots/.
. "$(dirname "$0")/../lib.sh"
# Cameras are unplugged and frozen here, so a reopen can fail inside
# libgphoto2, which then leaks its driver state (tests/lsan-freeze.supp)
cat "$T_TESTS/lsan.supp" "$T_TESTS/lsan-freeze.supp" >"$T_DIR/lsan.supp"
export LSAN_OPTIONS="suppressions=$T_DIR/lsan.supp:print_suppressions=0"
here=$T_TESTS
browser_ready || exit 0
specs=()
controls=()
for persona in canon-eos nikon generic; do
    # small photos: three bodies rendering full-size pictures at once (the
    # Nikon's is 24 MP) on a loaded machine outlast libgphoto2's waits
    sim_start --persona "$persona" --files 2 --photo-size 648x432 || exit 1
    specs+=(--camera "ptpip:127.0.0.1:$SIM_PORT")
    controls+=("http://127.0.0.1:$CTL_PORT")
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TETHER" "${specs[@]}" serve --listen "127.0.0.1:$port" --photos "$T_DIR/photos" \
    >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
serve=$!
T_SIMS+=("$serve")
for _ in $(seq 1 200); do grep -qs '^studio on' "$T_DIR/serve.out" && break; kill -0 "$serve" 2>/dev/null || break; sleep 0.1; done
expect_match "tether serve starts with three cameras" "$(cat "$T_DIR/serve.out")" "^studio on http://127.0.0.1:$port/"
browser_test 300 "$here/e2e/cameras.mjs" "http://127.0.0.1:$port" "$shots" "${controls[@]}"
kill -TERM "$serve"
status=0
wait "$serve" || status=$?
if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "$T_DIR/serve.err"; then
    ok "tether serve with three cameras stops cleanly on SIGTERM"
else
    not_ok "tether serve with three cameras stops cleanly on SIGTERM" "status $status; $(sanitizer_report "$T_DIR/serve.err")"
fi
