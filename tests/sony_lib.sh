# sony_lib.sh: starting `tether sim sony` for the Sony integration tests
# (sourced after lib.sh by tests/integration/sony_*.sh).
#
# sony_start PERSONA [OPTIONS...]: starts the simulator on free loopback
# ports with SSDP and the control channel; sets SIM_PID, SIM_LOG (for
# sim_stop), API_PORT, DD_URL, SSDP_PORT and CTL_PORT (for state and post).
sony_start() {
    local persona=$1 n=${#T_SIMS[@]}
    shift
    SIM_LOG="$T_DIR/sony$n.log"
    "${TETHER_SIM:-$TETHER}" sim sony --persona "$persona" --listen 127.0.0.1:0 --ssdp 127.0.0.1:0 \
        --control 127.0.0.1:0 -v "$@" >"$T_DIR/sony$n.out" 2>"$SIM_LOG" &
    SIM_PID=$!
    T_SIMS+=("$SIM_PID")
    local i
    for i in $(seq 1 200); do
        grep -q '^camera:' "$T_DIR/sony$n.out" 2>/dev/null && break
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    API_PORT=$(awk -F: '/^listening on/ { print $NF }' "$T_DIR/sony$n.out")
    DD_URL=$(awk '/^description/ { print $2 }' "$T_DIR/sony$n.out")
    SSDP_PORT=$(awk -F: '/^ssdp on/ { print $NF }' "$T_DIR/sony$n.out")
    CTL_PORT=$(awk -F: '/^control on/ { print $NF }' "$T_DIR/sony$n.out")
    if [ -z "$API_PORT" ] || [ -z "$DD_URL" ] || [ -z "$SSDP_PORT" ] || [ -z "$CTL_PORT" ]; then
        not_ok "sony simulator starts ($persona $*)" "$(tail -n 5 "$SIM_LOG" | tr '\n' ' ')"
        return 1
    fi
}
