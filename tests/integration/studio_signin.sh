# Signing in to a studio with an access token, in Debian's Chromium
# (tests/e2e/signin.mjs): back to the page asked for, a wrong token said
# on the page, and signing out.  Screenshots in tests/out/screenshots/.
. "$(dirname "$0")/../lib.sh"
here=$T_TESTS
browser_ready || exit 0
sim_start --persona canon-eos --photo-size 1296x864 --files 2 || exit 1
TOKEN=studio-signin-token-7
start_serve --token "$TOKEN"
expect_match "tether serve starts with a token" "$(cat "$T_DIR/serve.out")" "^studio on $URL/"
browser_test 120 "$here/e2e/signin.mjs" "$URL" "$TOKEN" "$shots"
stop_serve "tether serve stops cleanly on SIGTERM"
sim_stop "simulator exits cleanly after the sign-in tests"
