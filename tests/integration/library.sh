# libtether end to end (tests/tools/libtest.c): a simulator killed and
# restarted mid-session, Device Busy, a slow link and timeouts, 10,000
# live-view frames with flat memory, many threads on one camera, capture
# into a small buffer, tethered downloads, live view restarted at once, a
# camera frozen for 12 s (before and during a capture) that comes back, a
# full disk and a read-only folder told apart from camera errors.
. "$(dirname "$0")/../lib.sh"
LIBTEST="$(dirname "$TESTTOOL")/tether-libtest"
here=$T_TESTS
# storage runs on a 1 MB tmpfs of its own (a mount namespace; root only)
storage_dir="$T_DIR/small-disk"
mkdir -p "$storage_dir"
storage="storage $storage_dir"
if ! unshare -m true 2>/dev/null; then
    ok "libtest storage # skip: no mount namespace (not root)"
    storage=""
fi
for scenario in reconnect busy busy-objectinfo slow threads buffer tethered restart caps "freeze 12" ${storage:+"$storage"} "frames 10000" "settings 3000"; do
    supp="$here/lsan.supp"
    case "$scenario" in
    busy* | freeze*)
        supp="$T_DIR/lsan-faults.supp"
        cat "$here/lsan.supp" "$here/lsan-faults.supp" "$here/lsan-freeze.supp" >"$supp"
        ;;
    esac
    if [ "$scenario" = "$storage" ]; then
        LSAN_OPTIONS="suppressions=$supp:print_suppressions=0" timeout -s KILL 300 \
            unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" storage "$1"' sh "$storage_dir" "$LIBTEST" \
            2>"$T_DIR/libtest.err"
    else
        LSAN_OPTIONS="suppressions=$supp:print_suppressions=0" \
            timeout -s KILL 300 "$LIBTEST" $scenario 2>"$T_DIR/libtest.err"
    fi
    status=$?
    if grep -Eq 'Sanitizer|runtime error' "$T_DIR/libtest.err"; then
        not_ok "libtest $scenario: sanitizer report" "$(grep -E -m3 'ERROR|runtime error|SUMMARY' "$T_DIR/libtest.err" | tr '\n' ' ')"
        # where each leak was made: its first frames with a name, enough
        # to write a suppression (a rare libgphoto2 error path, s13a)
        awk '/^(Direct|Indirect) leak|runtime error/ { n = 0; print "    " $0; next }
             / #[0-9]+ / && n < 6 && !/asan_malloc|__interceptor/ { n++; sub(/^ +/, ""); print "        " $0 }' \
            "$T_DIR/libtest.err" | head -n 60
    elif [ $status -ne 0 ] && [ $status -ne 1 ]; then
        not_ok "libtest $scenario: exit status $status" "$(tail -n 3 "$T_DIR/libtest.err" | tr '\n' ' ')"
    fi
done
