# The camera rig (docs/RIGS.md, issue 16): four camera nodes, each its own
# network namespace on a bridge, each running `tether agent` with a
# simulated camera (`tether sim ptpip --shutter-latency`), a broker
# namespace running mosquitto (user and password required) and a studio
# namespace running `tether serve --broker`.  The nodes' cameras are
# served as stations; a node with a wrong password is refused and says so;
# capture-all through the studio lands one photo per camera; a series of
# fires loses no trigger (every simulator took every shot) and the spread
# of the simulators' last_trigger_ns is reported; then faults: a node
# killed and started again between fires, the broker restarted, 10%
# packet loss on one node.  At the end every camera's shots are at the
# studio exactly once (as many photos as the simulator took, no two alike
# by SHA-256), and every node is back by itself.
#
# Everything runs in namespaces named tr<pid>-* made here and removed at
# exit; addresses (10.216.0.0/24) exist only inside them.  Needs root,
# ip, mosquitto and iptables; skipped otherwise.  Waits are on state, with
# generous limits; the series' length is RIG_FIRES (default 100).
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"

FIRES=${RIG_FIRES:-100}
if [ "$(id -u)" -ne 0 ] || ! command -v mosquitto >/dev/null || ! command -v iptables >/dev/null ||
    ! ip netns list >/dev/null 2>&1; then
    ok "rig # skip: needs root, ip netns, mosquitto and iptables"
    exit 0
fi

P="tr$$"
NODES=(n1 n2 n3 n4)
NS_ALL=("$P-hub" "$P-brk" "$P-std")
for n in "${NODES[@]}"; do NS_ALL+=("$P-$n"); done
BROKER_IP=10.216.0.1 STUDIO_IP=10.216.0.2
declare -A NODE_IP=([n1]=10.216.0.11 [n2]=10.216.0.12 [n3]=10.216.0.13 [n4]=10.216.0.14)
declare -A AGENT SIMCTL SIMPORT
TOKEN=rig-test-token-1234

rig_cleanup() {
    local pid ns
    for pid in "${T_SIMS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    for ns in "${NS_ALL[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap 'rig_cleanup; t_cleanup' EXIT

inns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
# the network: a bridge in the hub namespace, a veth from it into each other namespace
setup_net() {
    local ns ip
    ip netns add "$P-hub" || return 1
    ip -n "$P-hub" link add br0 type bridge || return 1
    ip -n "$P-hub" link set br0 up
    ip -n "$P-hub" link set lo up
    local i=0
    for ns in brk std "${NODES[@]}"; do
        case $ns in brk) ip=$BROKER_IP ;; std) ip=$STUDIO_IP ;; *) ip=${NODE_IP[$ns]} ;; esac
        ip netns add "$P-$ns" || return 1
        ip -n "$P-hub" link add "p$i" type veth peer name eth0 netns "$P-$ns" || return 1
        ip -n "$P-hub" link set "p$i" master br0 up
        ip -n "$P-$ns" addr add "$ip/24" dev eth0
        ip -n "$P-$ns" link set eth0 up
        ip -n "$P-$ns" link set lo up
        i=$((i + 1))
    done
}
if setup_net; then ok "network namespaces on a bridge"; else not_ok "network namespaces on a bridge" "ip failed"; exit 1; fi

# ---- the broker: users and passwords, no anonymous clients ----
: >passwd
mosquitto_passwd -b passwd studio studio-secret
for n in "${NODES[@]}"; do mosquitto_passwd -b passwd "$n" "$n-secret"; done
cat >mosquitto.conf <<CONF
listener 1883 $BROKER_IP
allow_anonymous false
password_file $T_DIR/passwd
persistence false
# the test's folder is root's alone: the broker stays root to read its password file
user root
CONF
echo studio-secret >studio.pass
echo "$TOKEN" >token
start_broker() {
    ip netns exec "$P-brk" mosquitto -c "$T_DIR/mosquitto.conf" >>broker.log 2>&1 &
    BROKER=$!
    T_SIMS+=("$BROKER")
    until_ok 20 inns brk bash -c "exec 3<>/dev/tcp/$BROKER_IP/1883"
}
if start_broker; then ok "mosquitto starts in its namespace"; else not_ok "mosquitto starts" "$(tail -3 broker.log)"; exit 1; fi

# ---- the studio ----
ip netns exec "$P-std" "$TETHER" serve --listen "$STUDIO_IP:8080" --photos "$T_DIR/photos" --token "$TOKEN" \
    --broker "mqtt://$BROKER_IP:1883" --broker-user studio --broker-password-file "$T_DIR/studio.pass" \
    --fire-lead-ms 150 >studio.out 2>studio.err &
STUDIO=$!
T_SIMS+=("$STUDIO")
URL="http://$STUDIO_IP:8080"
api() { inns std curl -s --max-time 60 -H "Authorization: Bearer $TOKEN" "$@"; }
capture_all() { api -X POST -H 'Content-Type: application/json' --data "${1:-{\"cameras\":\"all\"\}}" "$URL/api/capture"; }
until_ok 30 grep -q '^studio on' studio.out
expect_match "the studio starts with no camera of its own" "$(cat studio.out)" 'camera: none yet'

# ---- the nodes: a simulated camera and an agent each ----
start_sim() { # NODE
    local n=$1
    ip netns exec "$P-$n" "$TETHER" sim ptpip --listen 127.0.0.1:0 --control 127.0.0.1:0 --photo-size 320x214 --files 0 \
        --seed "${n#n}" --shutter-latency 30:5 >"sim-$n.out" 2>"sim-$n.log" &
    T_SIMS+=("$!")
    until_ok 20 grep -q '^control on' "sim-$n.out"
    SIMPORT[$n]=$(awk -F: '/^listening on/ { print $NF }' "sim-$n.out")
    SIMCTL[$n]=$(awk -F: '/^control on/ { print $NF }' "sim-$n.out")
}
start_agent() { # NODE [PASSWORD]
    local n=$1
    echo "${2:-$n-secret}" >"$n.pass"
    ip netns exec "$P-$n" env TETHER_LOG=info "$TETHER" --camera "ptpip:127.0.0.1:${SIMPORT[$n]}" agent \
        --broker "mqtt://$BROKER_IP:1883" --node "$n" --user "$n" --password-file "$T_DIR/$n.pass" \
        --token-file "$T_DIR/token" --outbox "$T_DIR/outbox-$n" >>"agent-$n.out" 2>>"agent-$n.err" &
    AGENT[$n]=$!
    T_SIMS+=("$!")
}
sim_state() { inns "$1" curl -sf "http://127.0.0.1:${SIMCTL[$1]}/state" | jq -r "$2"; }
for n in "${NODES[@]}"; do start_sim "$n" || not_ok "simulator of $n starts" "$(tail -3 "sim-$n.log")"; done

# a node the broker does not let in says so and stops
start_agent n1 wrong-password
refused=0
until_ok 60 bash -c "! kill -0 ${AGENT[n1]} 2>/dev/null" || kill -KILL "${AGENT[n1]}"
wait "${AGENT[n1]}" || refused=$?
expect "a node with a wrong password stops" "$refused" 1
expect_match "and says the broker refused it" "$(cat agent-n1.err)" 'refused node n1: (bad user name or password|not authorised)'
: >agent-n1.err

for n in "${NODES[@]}"; do start_agent "$n"; done
connected() { # every node camera connected (4)
    [ "$(api "$URL/api/cameras" | jq '[.cameras[] | select(.connected and (.spec | startswith("rig:")))] | length')" = 4 ]
}
if until_ok 60 connected; then ok "the four nodes' cameras are served"; else
    not_ok "the four nodes' cameras are served" "$(api "$URL/api/cameras" | jq -c '[.cameras[] | {id, connected}]')"
fi
expect "the nodes report their clock sync (or that it is unknown)" \
    "$(api "$URL/api/rig" | jq -r '[.nodes[] | .clock.state | test("^(synced|unsynced|unknown)$")] | all')" true

# ---- capture-all: one photo per camera ----
photos() { find "$T_DIR/photos" -path '*/.thumbs' -prune -o -type f -name '*.jpg' -print | sort; }
count_photos() { photos | wc -l; }
capture_all >first.json
expect "capture-all reaches every camera" "$(jq '[.shots[] | select(.error == null)] | length' first.json)" 4
expect_true "each camera fired within the lead of T (offsets: $(jq -c '[.shots[].offset_ms]' first.json))" \
    "$(jq '[.shots[].offset_ms | fabs] | max' first.json) < 100"
until_ok 60 test "$(count_photos)" -ge 4
expect "one photo per camera" "$(photos | sed -E 's/.*-(n[0-9])-[a-z0-9-]+-IMG_[0-9]+\.jpg$/\1/' | sort | uniq -c | awk '{print $1}' | sort -u)" 1

# ---- a series of fires: no trigger lost; the spread from the simulators ----
# series NAME COUNT [BODY] [HOOK_AT HOOK]: COUNT capture-alls; the fires every camera answered, spreads in spread-NAME
series() {
    local name=$1 count=$2 body=${3:-} hook_at=${4:-0} hook=${5:-} i n first last t
    local good=0
    : >"spread-$name"
    for i in $(seq 1 "$count"); do
        [ "$i" = "$hook_at" ] && $hook
        capture_all "$body" >shot.json
        if [ "$(jq '[.shots[] | select(.error == null)] | length' shot.json 2>/dev/null)" = 4 ]; then
            good=$((good + 1))
            first="" last=""
            for n in "${NODES[@]}"; do
                t=$(sim_state "$n" .last_trigger_ns)
                echo "$t"
            done | sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.3f\n", (b - a) / 1e6 }' >>"spread-$name"
        else
            jq -c '[.shots[] | select(.error) | {camera, code: .error.code}]' shot.json >>"errors-$name" 2>/dev/null
        fi
    done
    SERIES_GOOD=$good
}
pctl() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p + 0.999); if (i < 1) i = 1; print v[i] }'; }
shots_before=$(for n in "${NODES[@]}"; do sim_state "$n" .shots; done | paste -sd+ | bc)
start=$(date +%s.%N)
series main "$FIRES"
secs=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
expect "$FIRES fires through the studio, every camera answering each" "$SERIES_GOOD" "$FIRES"
shots_after=$(for n in "${NODES[@]}"; do sim_state "$n" .shots; done | paste -sd+ | bc)
expect "no trigger lost: the simulators took $((FIRES * 4)) shots" "$((shots_after - shots_before))" "$((FIRES * 4))"
echo "    trigger spread over $FIRES fires at T (simulators' last_trigger_ns): median $(pctl spread-main 0.5) ms," \
    "p99 $(pctl spread-main 0.99) ms, max $(pctl spread-main 1.0) ms; $secs s ($(awk "BEGIN { printf \"%.0f\", $secs * 1000 / $FIRES }") ms a fire)"

# ---- faults ----
kill_n2() {
    kill -KILL "${AGENT[n2]}"
    wait "${AGENT[n2]}" 2>/dev/null
    start_agent n2
}
series kill 20 "" 8 kill_n2
until_ok 60 connected && ok "a node killed mid-series rejoins by itself" || not_ok "a node killed mid-series rejoins by itself" "not connected"

restart_broker() {
    kill -TERM "$BROKER"
    wait "$BROKER" 2>/dev/null
    start_broker
}
series broker 20 "" 8 restart_broker
until_ok 60 connected && ok "the nodes and the studio rejoin a restarted broker" || not_ok "rejoin after the broker restarted" "not connected"

inns n3 iptables -A INPUT -m statistic --mode random --probability 0.1 -j DROP
series loss 20 '{"cameras":"all","lead_ms":2000}'
expect "10% packet loss on one node: every fire reached every camera" "$SERIES_GOOD" 20
inns n3 iptables -D INPUT -m statistic --mode random --probability 0.1 -j DROP

# ---- every shot at the studio exactly once ----
all_sent() {
    for n in "${NODES[@]}"; do
        [ -z "$(find "$T_DIR/outbox-$n/shots" -mindepth 2 -maxdepth 2 2>/dev/null)" ] || return 1
    done
}
until_ok 120 all_sent && ok "every node's outbox is empty" || not_ok "every node's outbox is empty" "$(find "$T_DIR"/outbox-*/shots -mindepth 2 | head -3)"
for n in "${NODES[@]}"; do
    taken=$(sim_state "$n" .shots)
    got=$(photos | grep -c -- "-$n-")
    expect "node $n: every shot its camera took is at the studio once ($taken)" "$got" "$taken"
done
expect "no two photos alike (SHA-256)" "$(photos | xargs sha256sum | awk '{print $1}' | sort | uniq -d | wc -l)" 0
expect "the catalog has every photo once" "$(api "$URL/api/photos?per_page=1" | jq .total)" "$(count_photos)"
for f in errors-kill errors-broker; do [ -f "$f" ] && echo "    $f: $(sort "$f" | uniq -c | tr '\n' ' ')"; done

for n in "${NODES[@]}"; do
    kill -TERM "${AGENT[$n]}"
    status=0
    wait "${AGENT[$n]}" || status=$?
    expect "agent $n stops cleanly on SIGTERM" "$status" 0
done
until_ok 20 bash -c "[ \"\$(ip netns exec $P-std curl -s -H 'Authorization: Bearer $TOKEN' $URL/api/rig | jq '[.nodes[] | select(.online)] | length')\" = 0 ]" &&
    ok "the studio sees the nodes go offline" || not_ok "the studio sees the nodes go offline" "$(api "$URL/api/rig" | jq -c '[.nodes[] | {node, online}]')"
kill -TERM "$STUDIO"
status=0
wait "$STUDIO" || status=$?
expect "the studio stops cleanly" "$status" 0
