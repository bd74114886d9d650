# The studio's first screen and its shooting bar in Debian's Chromium
# (tests/e2e/layout.mjs): what every shot needs in view without scrolling
# on a desktop and a phone, exposure stepped from the keyboard and the
# wheel; culling in the gallery (stars, labels, pick and reject from the
# keyboard, filters, the XMP read back by exiftool).  Screenshots in
# tests/out/screenshots/.
. "$(dirname "$0")/../lib.sh"
here=$T_TESTS
browser_ready || exit 0
sim_start --persona canon-eos --photo-size 1296x864 --files 2 || exit 1
start_serve
expect_match "tether serve starts" "$(cat "$T_DIR/serve.out")" "^studio on $URL/"
browser_test 180 "$here/e2e/layout.mjs" "$URL" "http://127.0.0.1:$CTL_PORT" "$shots"
browser_test 120 "$here/e2e/culling.mjs" "$URL" "$T_DIR/photos" "$shots"
stop_serve "tether serve stops cleanly on SIGTERM"
sim_stop "simulator exits cleanly after the layout tests"
