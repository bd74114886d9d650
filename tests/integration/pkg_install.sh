# libtether as a user outside this tree gets it: `meson install` of the
# build under test into a temporary folder (DESTDIR), then a program
# (tests/tools/installed_client.c) compiled and linked with
# `pkg-config --cflags --libs tether` against that copy alone, and run
# with the installed shared library (LD_LIBRARY_PATH) on a simulated
# camera.  Also: the installed headers compile on their own with
# -Wall -Wextra -Werror (and as C++ when a C++ compiler is there), and a
# program calling one of libtether's internal functions does not link.
# No root needed: everything goes under the test's temporary folder.
. "$(dirname "$0")/../lib.sh"
build=$(cd "$(dirname "$TETHER")" && pwd)
root="$T_DIR/root"
client_src="$T_TESTS/tools/installed_client.c"

if meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$T_DIR/install.log" 2>&1; then
    ok "meson install --destdir"
else
    not_ok "meson install --destdir" "$(tail -n 5 "$T_DIR/install.log" | tr '\n' ' ')"
    exit 1
fi

pc=$(find "$root" -name tether.pc -path '*/pkgconfig/*' | head -n 1)
if [ -z "$pc" ]; then
    not_ok "tether.pc is installed" "none under $root"
    exit 1
fi
ok "tether.pc is installed (${pc#"$root"})"
# first, before the system's (where libgphoto2.pc and libjpeg.pc are)
export PKG_CONFIG_PATH="$(dirname "$pc")"
# the .pc names the final prefix; the files are under DESTDIR for now
prefix=$(pkg-config --variable=prefix tether)
pcflags() { pkg-config --define-variable=prefix="$root$prefix" "$@" tether; }
libdir=$(pcflags --variable=libdir)
includedir=$(pcflags --variable=includedir)

for h in tether.h errors.h focus.h interval.h log.h; do
    [ -f "$includedir/tether/$h" ] || not_ok "header tether/$h is installed" "not in $includedir/tether"
done
ok "the public headers are installed"
expect "no internal header is installed" "$(find "$root" -name '*.h' ! -path "$includedir/tether/*" | head -n 3)" ""
check "the shared library is installed with its soname link" test -e "$libdir/libtether.so" -a -e "$libdir/libtether.so.0"
check "the static library is installed" test -f "$libdir/libtether.a"

# The compiler and sanitizers of the build under test: a library built
# with AddressSanitizer needs a program built with it.
cc=$(build_cc "$build")
sanitize=$(meson introspect "$build" --buildoptions | jq -r '.[] | select(.name == "b_sanitize") | .value')
san_flags=()
[ -n "$sanitize" ] && [ "$sanitize" != "none" ] && san_flags=("-fsanitize=$sanitize")

cflags=$(pcflags --cflags)
libs=$(pcflags --libs)
expect_match "pkg-config --libs links -ltether" "$libs" '(^| )-ltether( |$)'
# shellcheck disable=SC2086 # word splitting of the pkg-config flags is wanted
if "$cc" -std=c17 -Wall -Wextra -Werror "${san_flags[@]}" -o "$T_DIR/installed_client" "$client_src" \
    $cflags $libs -pthread >"$T_DIR/cc.log" 2>&1; then
    ok "a program builds with pkg-config --cflags --libs tether"
else
    not_ok "a program builds with pkg-config --cflags --libs tether" "$(head -n 5 "$T_DIR/cc.log" | tr '\n' ' ')"
    exit 1
fi
needed=$(LD_LIBRARY_PATH="$libdir" ldd "$T_DIR/installed_client" | awk '/libtether/ { print $3 }')
expect "the program uses the installed shared library" "$needed" "$(cd "$libdir" && pwd -P)/libtether.so.0"

# each header alone, as C and as C++
alone=ok
for h in tether.h errors.h focus.h interval.h log.h; do
    printf '#include <tether/%s>\n' "$h" >"$T_DIR/one.c"
    # shellcheck disable=SC2086
    if ! "$cc" -std=c17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only $cflags "$T_DIR/one.c" >"$T_DIR/one.log" 2>&1; then
        not_ok "tether/$h compiles on its own (C17, -Wpedantic)" "$(head -n 3 "$T_DIR/one.log" | tr '\n' ' ')"
        alone=""
    fi
done
[ -n "$alone" ] && ok "each public header compiles on its own (C17, -Wpedantic)"
if command -v c++ >/dev/null 2>&1; then
    printf '#include <tether/tether.h>\n#include <tether/interval.h>\n#include <tether/log.h>\nint main() { return tether_version() == nullptr; }\n' >"$T_DIR/cxx.cc"
    # shellcheck disable=SC2086
    check "the public headers compile as C++" c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only $cflags "$T_DIR/cxx.cc"
fi

# an internal function of the common base (hidden) must not link
printf '#include <tether/tether.h>\nvoid log_set_level(int level);\nint main(void) { log_set_level(3); return tether_version() == 0; }\n' >"$T_DIR/internal.c"
# shellcheck disable=SC2086
if "$cc" -std=c17 "${san_flags[@]}" -o "$T_DIR/internal" "$T_DIR/internal.c" $cflags $libs >"$T_DIR/internal.log" 2>&1; then
    not_ok "an internal function does not link from the shared library" "log_set_level linked"
else
    expect_match "an internal function does not link from the shared library" "$(cat "$T_DIR/internal.log")" 'undefined reference to .log_set_level'
fi

# the program, on a simulated camera and on a port where none answers
sim_start || exit 1
model=$(sed -n 's/^camera: \(.*\) (persona .*/\1/p' "$T_DIR/sim0.out")
dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# (a camera that does not answer leaves libgphoto2's leak on a failed open)
cat "$T_TESTS/lsan.supp" "$T_TESTS/lsan-freeze.supp" >"$T_DIR/lsan.supp"
LSAN_OPTIONS="suppressions=$T_DIR/lsan.supp:print_suppressions=0" LD_LIBRARY_PATH="$libdir" timeout -k 5 120 "$T_DIR/installed_client" "$(pkg-config --modversion tether)" \
    "ptpip:127.0.0.1:$SIM_PORT" "$model" "ptpip:127.0.0.1:$dead_port" \
    >"$T_DIR/client.out" 2>"$T_DIR/client.err"
status=$?
cat "$T_DIR/client.out"
expect "the program exits 0" "$status" 0
expect "the program passed its 11 checks" "$(grep -c '^ok - ' "$T_DIR/client.out")" 11
# with a handler set, the library's messages reach it, not stderr
expect "no library message on stderr while the handler is set" \
    "$(grep -E '^[0-9]+\.[0-9]{3} .* (DEBUG|INFO |WARN |ERROR) ' "$T_DIR/client.err" | head -n 2)" ""
sim_stop
exit "$T_FAILED"
