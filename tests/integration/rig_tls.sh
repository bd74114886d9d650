# rig_tls: camera nodes and the studio through a broker that speaks MQTT
# over TLS only (docs/RIGS.md, issue 16).  A CA made here with openssl
# signs the broker's certificate for its address; mosquitto listens with
# it on 8883 and nothing else, user and password still required (the
# namespaces and processes of tests/rig_lib.sh, two nodes).  Checked:
#   - the studio and two nodes join with mqtts:// and --broker-ca, the
#     node cameras are served and capture-all lands one photo each;
#   - a node given another CA's certificate stops and says the broker's
#     certificate did not verify; given the right one it joins;
#   - a node that speaks plain MQTT to the TLS port is closed by the
#     broker and not served;
#   - --broker-ca without mqtts://, or a file that cannot be read, is a
#     usage error (exit 2) that says so.
# Needs root, ip netns, mosquitto, iptables and openssl; skipped otherwise.
. "$(dirname "$0")/../lib.sh"
. "$T_TESTS/rig_lib.sh"
cd "$T_DIR"

RIG_NODES=(n1 n2)
if ! rig_usable || ! command -v openssl >/dev/null; then
    ok "rig_tls # skip: needs root, ip netns, mosquitto, iptables and openssl"
    exit 0
fi
trap 'rig_teardown; t_cleanup' EXIT
api() { rig_api "$@"; }
URL=$RIG_URL

# --- usage errors, before anything runs ---
"$TETHER" --camera ptpip:127.0.0.1:1 agent --broker mqtt://127.0.0.1 --broker-ca /etc/hostname --node x \
    >usage1.out 2>usage1.err
expect "--broker-ca without mqtts:// is a usage error" "$?" 2
expect_match "... that says it wants mqtts://" "$(cat usage1.err)" 'goes with a broker over TLS'
"$TETHER" serve --listen 127.0.0.1:0 --broker mqtts://127.0.0.1 --broker-ca "$T_DIR/no-such-ca.pem" \
    >usage2.out 2>usage2.err
expect "an unreadable --broker-ca is a usage error" "$?" 2
expect_match "... that names the file" "$(cat usage2.err)" 'no-such-ca.pem'

# --- a CA, the broker's certificate for its address, and another CA ---
make_ca() { # make_ca NAME: NAME.key, NAME.pem
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=tether test $1" -keyout "$1.key" -out "$1.pem" 2>>openssl.log
}
make_ca ca && make_ca other-ca &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$RIG_BROKER_IP" \
        -keyout broker.key -out broker.csr 2>>openssl.log &&
    printf 'subjectAltName=IP:%s\n' "$RIG_BROKER_IP" >san.ext &&
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext \
        -out broker.pem 2>>openssl.log
if [ -s broker.pem ]; then ok "a CA and the broker's certificate"; else not_ok "a CA and the broker's certificate" "$(tail -3 openssl.log)"; exit 1; fi

if rig_setup_net; then ok "network namespaces on a bridge"; else not_ok "network namespaces on a bridge" "ip failed"; exit 1; fi
rig_write_secrets
# TLS only: the plain listener is replaced
sed -i "s|^listener 1883 .*|listener 8883 $RIG_BROKER_IP\ncafile $T_DIR/ca.pem\ncertfile $T_DIR/broker.pem\nkeyfile $T_DIR/broker.key|" \
    "$RIG_DIR/mosquitto.conf"
RIG_BROKER_URL="mqtts://$RIG_BROKER_IP"
RIG_BROKER_PORT=8883
RIG_BROKER_ARGS=(--broker-ca "$T_DIR/ca.pem")
if rig_start_broker; then ok "mosquitto listens with TLS only"; else not_ok "mosquitto listens with TLS" "$(tail -3 broker.log)"; exit 1; fi
rig_start_studio --fire-lead-ms 500
expect_match "the studio says it uses the broker" "$(cat studio.out)" "camera nodes through the broker $RIG_BROKER_IP:8883"
for n in "${RIG_NODES[@]}"; do
    rig_start_sim "$n" --photo-size 320x214 || not_ok "simulator of $n starts" "$(tail -3 "sim-$n.log")"
done

# n1 joins; n2 first with another CA's certificate: it must not join
rig_start_agent n1
served() { [ "$(api "$URL/api/cameras" | jq "[.cameras[] | select(.connected and (.spec | startswith(\"rig:$1\")))] | length")" = 1 ]; }
if until_ok 60 served n1; then ok "a node joins over TLS and its camera is served"; else
    not_ok "a node joins over TLS" "$(api "$URL/api/cameras" | jq -c '[.cameras[] | {id, spec, connected}]'); $(tail -3 agent-n1.err)"
fi
RIG_BROKER_ARGS=(--broker-ca "$T_DIR/other-ca.pem")
rig_start_agent n2
RIG_BROKER_ARGS=(--broker-ca "$T_DIR/ca.pem")
status=0
wait "${RIG_AGENT[n2]}" || status=$?
expect "a node given another CA's certificate stops" "$status" 1
expect_match "... and says the broker's certificate did not verify" "$(cat agent-n2.err)" 'cannot use the broker .*certificate verify failed.*--broker-ca'
expect "... and is not served" "$(api "$URL/api/cameras" | jq '[.cameras[] | select(.spec | startswith("rig:n2"))] | length')" 0
mv agent-n2.err agent-n2-other-ca.err

# plain MQTT to the TLS port: no session; the broker says why it closed it
RIG_BROKER_URL="mqtt://$RIG_BROKER_IP:8883"
RIG_BROKER_ARGS=()
# (mosquitto says it one of two ways, by how much of the plain CONNECT
# OpenSSL read: "Client <unknown> disconnected: Protocol error" or "Client
# connection from NODE failed: ... wrong version number")
broker_closings() { grep -cE "disconnected: Protocol error|connection from ${RIG_NODE_IP[n2]} failed: .*wrong version number" broker.log; }
closed_before=$(broker_closings)
rig_start_agent n2
RIG_BROKER_URL="mqtts://$RIG_BROKER_IP"
RIG_BROKER_ARGS=(--broker-ca "$T_DIR/ca.pem")
broker_closed() { [ "$(broker_closings)" -gt "$closed_before" ]; }
if until_ok 30 broker_closed; then ok "the broker closes a node speaking plain MQTT to the TLS port"; else
    not_ok "the broker closes a node speaking plain MQTT" "$(tail -3 broker.log)"
fi
node_says() { grep -q 'closed the connection before the session began (does it want TLS' agent-n2.err; }
if until_ok 30 node_says; then ok "... and the node says the broker closed it, and asks whether it wants TLS"; else
    not_ok "the node says why it cannot join" "$(tail -3 agent-n2.err)"
fi
expect "... which is not served" \
    "$(api "$URL/api/cameras" | jq '[.cameras[] | select(.spec | startswith("rig:n2"))] | length')" 0
kill -TERM "${RIG_AGENT[n2]}"
wait "${RIG_AGENT[n2]}" 2>/dev/null
mv agent-n2.err agent-n2-plain.err

rig_start_agent n2
if until_ok 60 rig_connected; then ok "with the right CA it joins: both node cameras served"; else
    not_ok "both node cameras served" "$(api "$URL/api/cameras" | jq -c '[.cameras[] | {id, connected}]')"
fi

# capture-all over TLS
photos() { find "$T_DIR/photos" -path '*/.thumbs' -prune -o -type f -name '*.jpg' -print | sort; }
rig_capture_all >shot.json
expect "capture-all over TLS reaches both cameras" "$(jq '[.shots[] | select(.error == null)] | length' shot.json)" 2
two_photos() { [ "$(photos | wc -l)" -ge 2 ]; }
until_ok 60 two_photos
expect "one photo per camera" "$(photos | sed -E 's/.*-(n[0-9])-canon-eos-550d-[^/]*$/\1/' | sort | uniq -c | awk '{print $1}' | sort -u)" 1

rig_expect_agents_stop
kill -TERM "$RIG_STUDIO"
status=0
wait "$RIG_STUDIO" || status=$?
expect "the studio stops cleanly" "$status" 0
