# The V4L2 backend against a real kernel (issue 14): Debian's own kernel
# (the package behind linux-image-amd64, fetched with `apt-get download`
# and extracted with `dpkg-deb -x` once into BUILD/vm/, no /boot touched)
# boots in qemu under TCG (no KVM) with the kernel's vivid driver; the
# guest mounts this machine's root read-only over 9p, so the build under
# test runs unchanged inside it (scripts/vivid-vm).  The checks run in the
# guest (tests/vm/v4l2_vivid.sh): tether list finds vivid's capture node
# and only it, the summary's formats and the settings equal what v4l2-ctl
# reports, controls are written and read back both ways, 100 live-view
# frames arrive and decode, a still decodes at the largest size, vivid's
# injected faults (a corrupt frame, a fatal streaming error, no frames at
# all) are dropped, recovered from or reported, and vivid's `disconnect`
# control (an unplug) ends the CLI's live view with a clear error and
# makes the studio report the camera lost and back.  Their "ok"/"not ok"
# lines are this test's.  qemu is killed after 170 s; the whole test
# takes about a minute here (1.5 with ASan), the first run 10 s more.  Skips, saying why, when
# qemu, busybox-static or cpio is missing (scripts/install-deps check) or
# the kernel package cannot be fetched.
. "$(dirname "$0")/../lib.sh"
root=$(cd "$T_TESTS/.." && pwd)
build=$(cd "$(dirname "$TETHER")" && pwd)
cache=$build/vm
t0=$(date +%s)

missing=""
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
command -v busybox >/dev/null || missing="$missing busybox-static"
command -v cpio >/dev/null || missing="$missing cpio"
command -v depmod >/dev/null || missing="$missing kmod"
if [ -n "$missing" ]; then
    ok "vivid in qemu # skip not installed:$missing (scripts/install-deps check)"
    exit 0
fi
if ! "$root/scripts/vivid-vm" kernel "$cache" >"$T_DIR/kernel.out" 2>&1; then
    ok "vivid in qemu # skip Debian's kernel cannot be fetched: $(tail -n 2 "$T_DIR/kernel.out" | tr '\n' ' ')"
    exit 0
fi
t1=$(date +%s)

printf 'TETHER=%q\nTESTTOOL=%q\n' "$TETHER" "$TESTTOOL" >"$T_DIR/env"
status=0
"$root/scripts/vivid-vm" boot "$cache" "$T_DIR" "$T_TESTS/vm/v4l2_vivid.sh" 170 >"$T_DIR/vm.out" 2>&1 || status=$?
t2=$(date +%s)

# the guest's lines, as its script printed them (SHARE/guest.out), and
# what its /init found wrong before the script ran ("not ok - vm: ...")
touch "$T_DIR/guest.out"
grep -E '^(not )?ok - |^    \(' "$T_DIR/guest.out"
grep -q '^not ok - ' "$T_DIR/guest.out" && T_FAILED=1
while IFS= read -r line; do not_ok "the VM: ${line#not ok - vm: }"; done < <(tr -d '\r' <"$T_DIR/vm.out" | grep '^not ok - vm: ')
n=$(grep -cE '^ok - ' "$T_DIR/guest.out")
if grep -q '^vivid-vm: the script ended' "$T_DIR/vm.out" && [ $status -eq 0 ]; then
    ok "the VM ran the guest's checks to their end and powered off ($n passed)"
else
    not_ok "the VM ran the guest's checks to their end and powered off" \
        "qemu status $status; $(grep -vE '^(not )?ok - ' "$T_DIR/vm.out" | tr -d '\033' | tail -n 8 | tr '\n' ' ')"
fi
expect_true "the guest made at least 40 checks ($n)" "$n >= 40"
kernel=$(head -n 1 "$cache/kernel/ready" 2>/dev/null)
echo "    (kernel $kernel; fetching it took $((t1 - t0)) s, the VM $((t2 - t1)) s)"
exit $T_FAILED
