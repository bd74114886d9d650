# libtether end to end (tests/tools/libtest.c): a simulator killed and
# restarted mid-session, Device Busy, a slow link and timeouts, 10,000
# live-view frames with flat memory, many threads on one camera, capture
# into a small buffer, tethered downloads, live view restarted at once, a
# camera frozen for 12 s (before and during a capture) that comes back.
. "$(dirname "$0")/../lib.sh"
LIBTEST="$(dirname "$TESTTOOL")/tether-libtest"
here=$(cd "$(dirname "$0")/.." && pwd)
for scenario in reconnect busy slow threads buffer tethered restart "freeze 12" "frames 10000" "settings 3000"; do
    supp="$here/lsan.supp"
    if [ "$scenario" = busy ]; then
        supp="$T_DIR/lsan-busy.supp"
        cat "$here/lsan.supp" "$here/lsan-faults.supp" >"$supp"
    fi
    LSAN_OPTIONS="suppressions=$supp:print_suppressions=0" \
        timeout -s KILL 300 "$LIBTEST" $scenario 2>"$T_DIR/libtest.err"
    status=$?
    if grep -Eq 'Sanitizer|runtime error' "$T_DIR/libtest.err"; then
        not_ok "libtest $scenario: sanitizer report" "$(grep -E -m3 'ERROR|runtime error|SUMMARY' "$T_DIR/libtest.err" | tr '\n' ' ')"
    elif [ $status -ne 0 ] && [ $status -ne 1 ]; then
        not_ok "libtest $scenario: exit status $status" "$(tail -n 3 "$T_DIR/libtest.err" | tr '\n' ' ')"
    fi
done
