# What the shared libtether exports, and what it carries (issue 12):
#   - every defined dynamic symbol (nm -D --defined-only) starts with
#     tether_; the others are listed by name (an internal function lacks
#     static, or a public function is declared outside include/tether/)
#   - every tether_ function the public headers declare is exported
#     (declared but not defined, or hidden), and nothing else is
#   - none of the programs' library (app/: catalog, import ledger,
#     webhooks, tagging) is inside, and it needs neither SQLite, gexiv2
#     nor libmicrohttpd (libcurl and jansson it needs since issue 13: the
#     sony backend speaks JSON-RPC over HTTP)
# The build's libtether.so is checked; pkg_install.sh checks the installed
# copy links and runs.
. "$(dirname "$0")/../lib.sh"
build=$(cd "$(dirname "$TETHER")" && pwd)
src=$(cd "$T_TESTS/.." && pwd)
so="$build/lib/libtether.so"
if [ ! -e "$so" ]; then
    not_ok "the shared library is built" "no $so"
    exit 1
fi

# Symbols the toolchain defines in any shared object, and those a
# sanitizer's instrumentation adds (ASan's ODR indicators, coverage
# guards); none of them is a function of libtether.
toolchain='^(_init|_fini|_edata|_end|__bss_start|__odr_asan[._].*|__asan_.*|__ubsan_.*|__tsan_.*|__sancov_.*|__start___sancov_.*|__stop___sancov_.*)$'
nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u >"$T_DIR/exported"
grep -Ev "$toolchain" "$T_DIR/exported" >"$T_DIR/ours"
offenders=$(grep -v '^tether_' "$T_DIR/ours")
if [ -z "$offenders" ]; then
    ok "libtether.so exports only tether_* ($(wc -l <"$T_DIR/ours") symbols)"
else
    not_ok "libtether.so exports only tether_*" \
        "$(printf '%s\n' "$offenders" | wc -l) others: $(printf '%s\n' "$offenders" | tr '\n' ' ')"
fi

# The functions the public headers declare: the preprocessed headers
# (comments gone), each "tether_NAME (" (function pointer typedefs read
# "(*tether_NAME)(", which does not match).
cc=$(build_cc "$build")
for h in "$src"/include/tether/*.h; do printf '#include "%s"\n' "$h"; done >"$T_DIR/all.c"
if "$cc" -std=c17 -E -P -I"$src/include" "$T_DIR/all.c" >"$T_DIR/all.i" 2>"$T_DIR/cpp.log"; then
    grep -oE '\btether_[a-z0-9_]+[[:space:]]*\(' "$T_DIR/all.i" | tr -d '( \t' | sort -u >"$T_DIR/declared"
    expect_true "the public headers declare functions" "$(wc -l <"$T_DIR/declared") > 20"
    missing=$(comm -23 "$T_DIR/declared" "$T_DIR/ours")
    expect "every function of include/tether/ is exported" "$(printf '%s' "$missing" | tr '\n' ' ')" ""
    extra=$(comm -13 "$T_DIR/declared" "$T_DIR/ours")
    expect "nothing but the functions of include/tether/ is exported" "$(printf '%s' "$extra" | tr '\n' ' ')" ""
else
    not_ok "the public headers preprocess" "$(head -n 3 "$T_DIR/cpp.log" | tr '\n' ' ')"
fi

# The programs' library is not inside: no symbol of libtetherapp.a is
# defined in libtether.so (its full symbol table, hidden ones included).
app="$build/app/libtetherapp.a"
if [ -f "$app" ]; then
    nm --defined-only -g "$app" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u >"$T_DIR/app"
    nm --defined-only "$so" | awk 'NF == 3 { print $3 }' | sort -u >"$T_DIR/all-in-so"
    inside=$(comm -12 "$T_DIR/app" "$T_DIR/all-in-so" | head -n 20)
    expect_true "libtetherapp.a defines symbols (the check below means something)" "$(wc -l <"$T_DIR/app") > 20"
    expect "none of the programs' library is in libtether.so" "$(printf '%s' "$inside" | tr '\n' ' ')" ""
else
    not_ok "the programs' library is built" "no $app"
fi
needed=$(readelf -d "$so" | awk '/NEEDED/ { print $NF }' | tr -d '[]' | tr '\n' ' ')
if printf '%s' "$needed" | grep -Eq 'sqlite|gexiv2|microhttpd'; then
    not_ok "libtether.so needs none of the programs' libraries" "it needs: $needed"
else
    ok "libtether.so needs none of the programs' libraries ($needed)"
fi
check "libtether.so has its soname" sh -c "readelf -d '$so' | grep -q 'SONAME.*libtether.so.0'"
exit "$T_FAILED"
