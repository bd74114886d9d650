# rig_lib.sh: a camera rig in network namespaces, for tests/integration/rig.sh,
# rig_tls.sh, rig_transfer.sh and bench/run-rig (docs/RIGS.md).  Sourced; needs root, ip, mosquitto.
#
# Source tests/lib.sh first (until_ok; T_DIR, the private folder; T_SIMS,
# where every process started here is listed), set TETHER, and call
# rig_teardown at exit before lib.sh's t_cleanup.  The namespaces are named tr<pid>-{hub,brk,std,n1..n4}:
# a bridge in the hub, a veth from it into each other one; addresses in
# 10.216.0.0/24 exist only inside them.  The broker (mosquitto, a user
# and password for the studio and each node, no anonymous client) runs in
# brk, the studio in std, a simulated camera and `tether agent` in each
# node.  RIG_BROKER_URL and RIG_BROKER_PORT (mqtt://BROKER:1883, 1883) and
# RIG_BROKER_ARGS (more options for the studio and the agents, an array)
# may be set after sourcing, e.g. for a broker over TLS.

RIG_P="tr$$"
RIG_NODES=(n1 n2 n3 n4)
RIG_BROKER_IP=10.216.0.1
RIG_STUDIO_IP=10.216.0.2
RIG_TOKEN=rig-test-token-1234
RIG_URL="http://$RIG_STUDIO_IP:8080"
declare -A RIG_NODE_IP=([n1]=10.216.0.11 [n2]=10.216.0.12 [n3]=10.216.0.13 [n4]=10.216.0.14)
declare -A RIG_AGENT RIG_SIM RIG_SIMCTL RIG_SIMPORT
RIG_DIR=$T_DIR
RIG_BROKER_URL="mqtt://$RIG_BROKER_IP:1883"
RIG_BROKER_PORT=1883
RIG_BROKER_ARGS=()
# rig_usable: can this machine run a rig (root, ip netns, mosquitto, iptables)?
rig_usable() {
    [ "$(id -u)" -eq 0 ] && command -v mosquitto >/dev/null && command -v iptables >/dev/null &&
        ip netns list >/dev/null 2>&1
}
rig_in() { local ns=$1; shift; ip netns exec "$RIG_P-$ns" "$@"; }
rig_teardown() {
    local pid ns
    for pid in "${T_SIMS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    for ns in hub brk std "${RIG_NODES[@]}"; do ip netns del "$RIG_P-$ns" 2>/dev/null; done
}

rig_setup_net() {
    local ns ip i=0
    ip netns add "$RIG_P-hub" || return 1
    ip -n "$RIG_P-hub" link add br0 type bridge || return 1
    ip -n "$RIG_P-hub" link set br0 up
    ip -n "$RIG_P-hub" link set lo up
    for ns in brk std "${RIG_NODES[@]}"; do
        case $ns in brk) ip=$RIG_BROKER_IP ;; std) ip=$RIG_STUDIO_IP ;; *) ip=${RIG_NODE_IP[$ns]} ;; esac
        ip netns add "$RIG_P-$ns" || return 1
        ip -n "$RIG_P-hub" link add "p$i" type veth peer name eth0 netns "$RIG_P-$ns" || return 1
        ip -n "$RIG_P-hub" link set "p$i" master br0 up
        ip -n "$RIG_P-$ns" addr add "$ip/24" dev eth0
        ip -n "$RIG_P-$ns" link set eth0 up
        ip -n "$RIG_P-$ns" link set lo up
        i=$((i + 1))
    done
}

# the broker's configuration and everyone's secrets, in RIG_DIR
rig_write_secrets() {
    : >"$RIG_DIR/passwd"
    mosquitto_passwd -b "$RIG_DIR/passwd" studio studio-secret
    local n
    for n in "${RIG_NODES[@]}"; do mosquitto_passwd -b "$RIG_DIR/passwd" "$n" "$n-secret"; done
    cat >"$RIG_DIR/mosquitto.conf" <<CONF
listener 1883 $RIG_BROKER_IP
allow_anonymous false
password_file $RIG_DIR/passwd
persistence false
# the folder is root's alone: the broker stays root to read its password file
user root
CONF
    echo studio-secret >"$RIG_DIR/studio.pass"
    echo "$RIG_TOKEN" >"$RIG_DIR/token"
}
# rig_start_broker: sets RIG_BROKER; true once it listens
rig_start_broker() {
    ip netns exec "$RIG_P-brk" mosquitto -c "$RIG_DIR/mosquitto.conf" >>"$RIG_DIR/broker.log" 2>&1 &
    RIG_BROKER=$!
    T_SIMS+=("$RIG_BROKER")
    until_ok 20 rig_in brk bash -c "exec 3<>/dev/tcp/$RIG_BROKER_IP/$RIG_BROKER_PORT"
}
# rig_start_studio [ARGS...]: sets RIG_STUDIO; true once it listens
rig_start_studio() {
    ip netns exec "$RIG_P-std" "$TETHER" serve --listen "$RIG_STUDIO_IP:8080" --photos "$RIG_DIR/photos" \
        --token "$RIG_TOKEN" --broker "$RIG_BROKER_URL" "${RIG_BROKER_ARGS[@]}" --broker-user studio \
        --broker-password-file "$RIG_DIR/studio.pass" "$@" >"$RIG_DIR/studio.out" 2>"$RIG_DIR/studio.err" &
    RIG_STUDIO=$!
    T_SIMS+=("$RIG_STUDIO")
    until_ok 30 grep -q '^studio on' "$RIG_DIR/studio.out"
}
# rig_api CURL-ARGS...: curl to the studio from its namespace, with the token
rig_api() { rig_in std curl -s --max-time 60 -H "Authorization: Bearer $RIG_TOKEN" "$@"; }
# rig_raws: the RAW files (*.cr2) the studio holds, sorted; partial files
# (under .tether) and thumbnails are not photos
rig_raws() { find "$RIG_DIR/photos" -path '*/.tether' -prune -o -path '*/.thumbs' -prune -o -type f -iname '*.cr2' -print | sort; }
rig_raws_at_least() { [ "$(rig_raws | wc -l)" -ge "$1" ]; }
# rig_capture_all [BODY]: POST /api/capture (default {"cameras":"all"})
rig_capture_all() {
    rig_api -X POST -H 'Content-Type: application/json' --data "${1:-{\"cameras\":\"all\"\}}" "$RIG_URL/api/capture"
}
# rig_start_sim NODE [OPTIONS...]: sets RIG_SIM[NODE] (its pid), RIG_SIMPORT[NODE], RIG_SIMCTL[NODE]
rig_start_sim() {
    local n=$1
    shift
    ip netns exec "$RIG_P-$n" "$TETHER" sim ptpip --listen 127.0.0.1:0 --control 127.0.0.1:0 --files 0 \
        --seed "${n#n}" "$@" >"$RIG_DIR/sim-$n.out" 2>"$RIG_DIR/sim-$n.log" &
    RIG_SIM[$n]=$!
    T_SIMS+=("$!")
    until_ok 60 grep -q '^control on' "$RIG_DIR/sim-$n.out" || return 1
    RIG_SIMPORT[$n]=$(awk -F: '/^listening on/ { print $NF }' "$RIG_DIR/sim-$n.out")
    RIG_SIMCTL[$n]=$(awk -F: '/^control on/ { print $NF }' "$RIG_DIR/sim-$n.out")
}
# rig_start_agent NODE [PASSWORD [TOKEN_FILE]]: `tether agent` for its simulator; sets RIG_AGENT[NODE]
rig_start_agent() {
    local n=$1
    echo "${2:-$n-secret}" >"$RIG_DIR/$n.pass"
    ip netns exec "$RIG_P-$n" env TETHER_LOG=info "$TETHER" --camera "ptpip:127.0.0.1:${RIG_SIMPORT[$n]}" agent \
        --broker "$RIG_BROKER_URL" "${RIG_BROKER_ARGS[@]}" --node "$n" --user "$n" --password-file "$RIG_DIR/$n.pass" \
        --token-file "${3:-$RIG_DIR/token}" --outbox "$RIG_DIR/outbox-$n" >>"$RIG_DIR/agent-$n.out" 2>>"$RIG_DIR/agent-$n.err" &
    RIG_AGENT[$n]=$!
    T_SIMS+=("$!")
}
# rig_expect_agents_stop: SIGTERM to every node's agent, each must end with 0 (lib.sh's expect)
rig_expect_agents_stop() {
    local n status
    for n in "${RIG_NODES[@]}"; do
        kill -TERM "${RIG_AGENT[$n]}"
        status=0
        wait "${RIG_AGENT[$n]}" || status=$?
        expect "agent $n stops cleanly on SIGTERM" "$status" 0
    done
}
# rig_outboxes_empty: no node has a shot waiting to be sent
rig_outboxes_empty() {
    local n
    for n in "${RIG_NODES[@]}"; do
        [ -z "$(find "$RIG_DIR/outbox-$n/shots" -mindepth 2 -maxdepth 2 2>/dev/null)" ] || return 1
    done
}
# rig_sim_state NODE JQ: a value from that node's simulator's /state
rig_sim_state() { rig_in "$1" curl -sf "http://127.0.0.1:${RIG_SIMCTL[$1]}/state" | jq -r "$2"; }
# rig_connected: every node camera served and connected
rig_connected() {
    [ "$(rig_api "$RIG_URL/api/cameras" | jq '[.cameras[] | select(.connected and (.spec | startswith("rig:")))] | length')" = "${#RIG_NODES[@]}" ]
}
# rig_spread: max - min of the simulators' last_trigger_ns, in ms
rig_spread() {
    local n
    for n in "${RIG_NODES[@]}"; do rig_sim_state "$n" .last_trigger_ns; done |
        sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f\n", (b - a) / 1e6 }'
}
# rig_pctl FILE P: the P-quantile (0..1) of the numbers in FILE
rig_pctl() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p + 0.999); if (i < 1) i = 1; print v[i] }'; }
