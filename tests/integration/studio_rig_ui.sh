# The studio UI with a camera on a camera node (tests/e2e/rig.mjs), all on
# loopback: mosquitto on a port of its own (anonymous, 127.0.0.1 only), a
# local simulated camera served by `tether serve --broker`, and a second
# simulated camera behind `tether agent`.  The node camera's live view
# streams through the node, its focus tools are not offered (the page says
# why), and capture and settings go through it.  (The rig itself, in network namespaces with faults, is
# tests/integration/rig.sh.)  Needs mosquitto; skipped without it.
. "$(dirname "$0")/../lib.sh"
here=$T_TESTS
command -v mosquitto >/dev/null || { ok "studio_rig_ui # skip: mosquitto is not installed"; exit 0; }
browser_ready || exit 0
loopback_rig_studio || exit 1
bport=$BROKER_PORT node_port=$NODE_SIM_PORT
"$TETHER" --camera "ptpip:127.0.0.1:$node_port" agent --broker "mqtt://127.0.0.1:$bport" --node n1 --outbox "$T_DIR/outbox" \
    --studio "$URL" >"$T_DIR/agent.out" 2>"$T_DIR/agent.err" &
agent=$!
T_SIMS+=("$agent")
two() { [ "$(curl -s "$URL/api/cameras" | jq '.cameras | length')" = 2 ]; }
until_ok 30 two || not_ok "the node's camera joins the studio" "$(tail -n 5 "$T_DIR/agent.err" | tr '\n' '|')"
browser_test 180 "$here/e2e/rig.mjs" "$URL" "$shots"
kill -TERM "$agent"
wait "$agent"
expect "the agent stops cleanly" "$?" "0"
stop_serve "serve with a broker stops cleanly"
