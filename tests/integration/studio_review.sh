# Review in Debian's Chromium (tests/e2e/review.mjs): a capture shows the
# shot large with its own histogram and EXIF, the 100 % loupe, ←/→ through
# the session, full screen, RAW + JPEG as one item and a RAW alone, on a
# desktop and a phone; two photos compared side by side in the gallery.
# Screenshots in tests/out/screenshots/.
. "$(dirname "$0")/../lib.sh"
here=$T_TESTS
browser_ready || exit 0
sim_start --persona canon-eos --photo-size 2592x1728 --raw-size 2000000 --files 2 || exit 1
start_serve
expect_match "tether serve starts" "$(cat "$T_DIR/serve.out")" "^studio on $URL/"
browser_test 240 "$here/e2e/review.mjs" "$URL" "http://127.0.0.1:$CTL_PORT" "$shots"
stop_serve "tether serve stops cleanly on SIGTERM"
sim_stop "simulator exits cleanly after the review tests"
