# focuslab_lib.sh: what focus_lab.sh and focus_trap_lab.sh share: the
# virtual-camera lab (tests/tools/focuslab.c) run once per check, and the
# fields of its summary line.  Sourced after lib.sh.

LAB="$(dirname "$TESTTOOL")/tether-focuslab"
[ -x "$LAB" ] || { not_ok "tether-focuslab is built next to $TESTTOOL"; exit 1; }

# lab NAME ARGS...: one run of autofocus trials; trap_lab NAME ARGS...:
# of trap-focus trials; both set the summary's fields
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { sub("%", "", $(i + 1)); print $(i + 1) } }' <<<"$line"; }
run_lab() {
    local tool=$1 seed=$2 name=$3
    shift 3
    "$LAB" "$tool" --seed "$seed" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err"
    local rc=$?
    line=$(grep "^$tool tether" "$T_DIR/$name.out")
    [ $rc -eq 0 ] && [ -n "$line" ] || not_ok "$name: focuslab $tool ran" "rc $rc: $(tail -n 2 "$T_DIR/$name.err")"
    trials=$(field trials) dof=$(field withinDOF)
}
lab() {
    run_lab af 11 "$@"
    focused=$(field focused) dropped=$(field dropped) false_focused=$(field falsefocused) within2=$(field within2)
}
trap_lab() {
    run_lab trap 3 "$@"
    fired=$(field fired) false_fires=$(field false)
}
