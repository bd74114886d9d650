# The systemd unit (issue 16, deploy/systemd/): `systemd-analyze verify`
# accepts tether.service, pointed at the program under test through a
# copy of the unit, with no warning at all; the unit keeps its hardening
# (a dedicated user, ProtectSystem=strict with only the photos folder
# writable, devices through a group, NoNewPrivileges, PrivateTmp,
# ProtectHome, a restart policy, SIGTERM to stop); and `make install
# DESTDIR=...` puts the program and the unit (its ExecStart rewritten to
# PREFIX/bin/tether) plus the sysusers.d and tmpfiles.d snippets in place.
# Nothing is started: no systemd is needed, only systemd-analyze.
. "$(dirname "$0")/../lib.sh"
root=$(cd "$T_TESTS/.." && pwd)
unit="$root/deploy/systemd/tether.service"
build=$(cd "$(dirname "$TETHER")" && pwd)

if ! command -v systemd-analyze >/dev/null; then
    ok "systemd-analyze verify # skip systemd-analyze is not installed (Debian package systemd)"
else
    mkdir -p "$T_DIR/unit"
    sed "s#/usr/local/bin/tether#$TETHER#" "$unit" >"$T_DIR/unit/tether.service"
    status=0
    systemd-analyze verify "$T_DIR/unit/tether.service" >"$T_DIR/verify.out" 2>&1 || status=$?
    expect "systemd-analyze verify accepts the unit, without a warning" \
        "$status:$(tr '\n' ' ' <"$T_DIR/verify.out")" "0:"
fi

# key=value of the unit's [Service] section (the last one, as systemd reads it)
setting() { awk -F= -v k="$1" '/^\[/ { s = $0 } s == "[Service]" && $1 == k { v = substr($0, length(k) + 2) } END { print v }' "$unit"; }
expect "a dedicated user" "$(setting User)" tether
expect "devices through a group" "$(setting SupplementaryGroups)" plugdev
expect "the file system read-only" "$(setting ProtectSystem)" strict
expect "but for the photos folder" "$(setting ReadWritePaths)" /srv/tether/photos
expect_match "which is where the studio keeps its photos" "$(setting ExecStart)" ' serve .*--photos /srv/tether/photos( |$)'
expect "no new privileges" "$(setting NoNewPrivileges)" yes
expect "a private /tmp" "$(setting PrivateTmp)" yes
expect "no home folders" "$(setting ProtectHome)" yes
expect "restarted when it fails" "$(setting Restart)" on-failure
expect "stopped with SIGTERM" "$(setting KillSignal)" SIGTERM
expect "only USB character devices" "$(setting DevicePolicy)" closed
# every option the unit passes to tether serve is one it knows
opts=$(setting ExecStart | grep -oE -- '--[a-z-]+' | sort -u | tr '\n' ' ')
help=$("$TETHER" serve --help)
missing=""
for o in $opts; do grep -q -- "$o" <<<"$help" || missing="$missing $o"; done
expect "tether serve --help knows every option of ExecStart ($opts)" "$missing" ""

# make install into a staging folder
dest="$T_DIR/dest"
status=0
make -s -C "$root" install BUILD="$build" DESTDIR="$dest" PREFIX=/usr >"$T_DIR/install.out" 2>&1 || status=$?
expect "make install DESTDIR=... PREFIX=/usr succeeds" "$status" 0
check "it installs the program" test -x "$dest/usr/bin/tether"
check "the same program as the build's" cmp "$TETHER" "$dest/usr/bin/tether"
check "it installs the unit" test -f "$dest/usr/lib/systemd/system/tether.service"
expect_match "whose ExecStart names the installed program" \
    "$(grep '^ExecStart=' "$dest/usr/lib/systemd/system/tether.service" 2>/dev/null)" '^ExecStart=/usr/bin/tether serve '
check "and the sysusers.d snippet" grep -q '^u tether ' "$dest/usr/lib/sysusers.d/tether.conf"
check "and the tmpfiles.d snippet" grep -q '^d /srv/tether/photos .* tether tether' "$dest/usr/lib/tmpfiles.d/tether.conf"
extra=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
expect "and nothing else" "$extra" "./usr/bin/tether ./usr/lib/systemd/system/tether.service ./usr/lib/sysusers.d/tether.conf ./usr/lib/tmpfiles.d/tether.conf "
status=0
make -s -C "$root" install BUILD="$build" DESTDIR="$T_DIR/dest2" >"$T_DIR/install2.out" 2>&1 || status=$?
expect "the default PREFIX is /usr/local" "$status:$(grep '^ExecStart=' "$T_DIR/dest2/usr/local/lib/systemd/system/tether.service" 2>/dev/null | cut -d' ' -f1)" \
    "0:ExecStart=/usr/local/bin/tether"
exit "$T_FAILED"
