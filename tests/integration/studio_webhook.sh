# The studio's webhooks (/api/webhooks) against `tether serve` on
# `tether sim ptpip` and a receiver on loopback (tests/tools/hookrecv.py,
# which checks signatures with Python's own HMAC and applies each key
# once): captures taken while the receiver is down are kept and retried,
# survive a server killed with SIGKILL, and all arrive once it is up, with
# valid signatures and one key per photo; a receiver that answers 500
# first is retried; a 404 fails at once; a ping; the event filter; an
# endpoint deleted; giving up after too many attempts and a retry by
# hand; bad input.  The backoff is shortened with TETHER_WEBHOOK_BACKOFF_MS.
# The receivers are on loopback, so the studio runs with
# --webhook-allow-private, and with http_proxy and the like pointing where
# nothing listens (deliveries must not use them).  Without the option:
# loopback, localhost and private URLs are refused at creation (400, the
# message names the option), and a public-looking name that resolves to
# 127.0.0.1 (TETHER_WEBHOOK_RESOLVE, as curl --resolve) passes creation
# but its delivery fails at once without reaching the receiver there.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
RECV="$T_TESTS/tools/hookrecv.py"
sim_start --persona canon-eos --photo-size 1296x864 --files 0 || exit 1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# recv_start PORT LOG ARGS...: starts the receiver; sets RECV_PID
recv_start() {
    local port=$1 log=$2
    shift 2
    python3 "$RECV" --port "$port" --log "$log" "$@" >"$log.out" 2>&1 &
    RECV_PID=$!
    T_SIMS+=("$RECV_PID")
    for _ in $(seq 1 100); do grep -q '^listening on' "$log.out" 2>/dev/null && return 0; sleep 0.05; done
    not_ok "the receiver starts on port $port" "$(cat "$log.out")"
}
recv_stop() { kill -TERM "$RECV_PID" 2>/dev/null; wait "$RECV_PID" 2>/dev/null; }
hooks() { curl -s "$URL/api/webhooks" | jq -r "$1"; }
deliveries() { curl -s "$URL/api/webhooks/deliveries?${2:-limit=1000}" | jq -r "$1"; }
# wait_for SECONDS JQ-FILTER-ON-/api/webhooks/deliveries: until it prints true
wait_for() {
    local end=$(($(date +%s) + $1))
    while [ "$(date +%s)" -le $end ]; do
        [ "$(deliveries "$2")" = true ] && return 0
        sleep 0.2
    done
    return 1
}

DEAD_PROXY=http://127.0.0.1:$(free_port)
PROXIES="http_proxy=$DEAD_PROXY HTTP_PROXY=$DEAD_PROXY https_proxy=$DEAD_PROXY HTTPS_PROXY=$DEAD_PROXY ALL_PROXY=$DEAD_PROXY"
export SERVE_ENV="TETHER_WEBHOOK_BACKOFF_MS=200 TETHER_WEBHOOK_BACKOFF_CAP_MS=1000 TETHER_WEBHOOK_MAX_ATTEMPTS=200 $PROXIES"
start_serve --webhook-allow-private
timeout 120 curl -s -N "$URL/api/events" >events.txt &
events_open

# --- bad input -----------------------------------------------------------------------------------
expect "no endpoints at first" "$(hooks '.endpoints | length')" "0"
expect "a URL that is not http(s) is refused" "$(req POST /api/webhooks '{"url": "ftp://127.0.0.1/x"}')" "400"
expect_match "... with a message" "$(body .error.message)" 'http'
expect "a URL without a host is refused" "$(req POST /api/webhooks '{"url": "http:///x"}')" "400"
expect "a missing url is refused" "$(req POST /api/webhooks '{"secret": "x"}')" "400"
expect_match "... with a message" "$(body .error.message)" 'url'
expect "a url that is not a string is refused" "$(req POST /api/webhooks '{"url": 5}')" "400"
expect "an unknown event filter is refused" "$(req POST /api/webhooks '{"url": "http://127.0.0.1:9/", "events": "everything"}')" "400"
expect "a body that is not JSON is refused" \
    "$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data 'nope' "$URL/api/webhooks")" "400"
expect "... with a JSON error" "$(body '.error.code | length > 0')" "true"
expect "DELETE of an unknown endpoint is 404" "$(req DELETE /api/webhooks/999)" "404"
expect "DELETE of a non-number is 400" "$(req DELETE /api/webhooks/abc)" "400"
expect "a test of an unknown endpoint is 404" "$(req POST /api/webhooks/999/test)" "404"
expect "an unknown delivery state is refused" "$(req GET '/api/webhooks/deliveries?state=lost')" "400"
expect "a limit of 0 is refused" "$(req GET '/api/webhooks/deliveries?limit=0')" "400"
expect "PUT /api/webhooks is the wrong method" "$(req PUT /api/webhooks '{}')" "405"
expect "nothing was added by refused requests" "$(hooks '.endpoints | length')" "0"

# --- captures while the receiver is down --------------------------------------------------------------
PORT1=$(free_port)
expect "an endpoint with a secret is added" \
    "$(req POST /api/webhooks '{"url": "http://127.0.0.1:'"$PORT1"'/hook", "secret": "s3cret-key"}')" "201"
EP1=$(body .id)
expect "it takes all events" "$(body .events)" "all"
expect "GET /api/webhooks lists it" "$(hooks '.endpoints | map(.id) | tostring')" "[$EP1]"
expect "the secret is not shown, only that there is one" \
    "$(curl -s "$URL/api/webhooks" | grep -c s3cret-key; hooks '.endpoints[0].secret_set')" "$(printf '0\ntrue')"
# the outbox holds the secret: never served, readable by its owner only
for f in webhooks.db webhooks.db-wal catalog.db; do
    expect "GET /photos/.tether/$f is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/photos/.tether/$f")" "404"
done
expect "the studio's state folder and the outbox are private" \
    "$(stat -c %a "$T_DIR/photos/.tether" "$T_DIR/photos/.tether/webhooks.db"* | sort -u | tr '\n' ' ')" "600 700 "

ids=()
for i in 1 2 3 4 5; do
    status=$(req POST /api/capture)
    [ "$status" = 201 ] || not_ok "capture $i" "status $status"
    ids+=("$(body '.photos[0].id')")
done
expect "5 captures" "${#ids[@]}" "5"
expect "5 deliveries are enqueued at once" "$(deliveries '[.deliveries[] | select(.event == "capture")] | length')" "5"
wait_for 10 '[.deliveries[] | select(.attempts >= 2)] | length == 5' &&
    ok "they are retried while the receiver is down" || not_ok "they are retried while the receiver is down"
expect "all pending" "$(deliveries '[.deliveries[].state] | unique | tostring')" '["pending"]'
expect_match "with the error in the log" "$(deliveries '.deliveries[0].last_error')" '[Cc]onnect|refused'
expect "and no status" "$(deliveries '.deliveries[0].last_status')" "null"
expect "keys are unique" "$(deliveries '[.deliveries[].key] | unique | length')" "5"
expect_true "webhook_delivery events report the attempts ($(grep -c '^event: webhook_delivery' events.txt))" \
    "$(grep -c '^event: webhook_delivery' events.txt) >= 10"

# --- the server is killed with items pending, the receiver comes up --------------------------------------
kill -KILL "$SERVE"
wait "$SERVE" 2>/dev/null
recv_start "$PORT1" recv1.log --secret s3cret-key
rm -f "$T_DIR/serve.out"
start_serve --webhook-allow-private
wait_for 20 '[.deliveries[] | select(.state != "delivered")] | length == 0' &&
    ok "after the restart every pending delivery is delivered" || not_ok "after the restart every pending delivery is delivered" \
    "$(deliveries '[.deliveries[] | {state, attempts, last_error}] | tostring')"
expect "5 delivered" "$(hooks .deliveries.delivered)" "5"
expect "every request had a valid signature" "$(jq -s '[.[] | select(.valid != true)] | length' recv1.log)" "0"
expect "and consistent keys and headers" "$(jq -s '[.[] | select(.consistent != true)] | length' recv1.log)" "0"
applied=$(jq -s -c '[.[] | select(.status == 200 and .duplicate == false)] | map(.photo) | sort' recv1.log)
expect "each captured photo was applied once" "$applied" "$(printf '%s\n' "${ids[@]}" | jq -s -c 'sort')"
expect "one key per photo" "$(jq -s '[.[] | select(.status == 200) | .key] | unique | length' recv1.log)" "5"
expect "repeats (if any) carry a key already applied" \
    "$(jq -s '[.[] | .key] as $all | [.[] | select(.duplicate) | .key] - $all | length' recv1.log)" "0"
expect "the keys received are the outbox's" \
    "$(jq -s -c '[.[].key] | unique' recv1.log)" "$(deliveries '[.deliveries[].key] | unique | tostring')"
first=$(head -n 1 recv1.log)
expect "the body says capture" "$(jq -r .body.event <<<"$first")" "capture"
expect "with the photo's URL and path" \
    "$(jq -r '.body.photo | (.url | startswith("/photos/default/")) and (.path == (.url | ltrimstr("/photos/"))) and (.abs_path == "'"$T_DIR/photos/"'" + .path)' <<<"$first")" "true"
expect "the session and camera" "$(jq -r '.body | [.session, .camera] | join(",")' <<<"$first")" "default,Canon EOS 550D"
expect "an ISO-8601 time" "$(jq -r '.body.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' <<<"$first")" "true"
expect "the EXIF summary" "$(jq -r '.body.exif | (.make | length > 0) and (.iso > 0) and (.fnumber > 0)' <<<"$first")" "true"
expect "gps is null on a picture without GPS" "$(jq -r '.body.gps' <<<"$first")" "null"
expect "the delivery log shows attempts and the final status" \
    "$(deliveries '[.deliveries[] | select(.attempts >= 2 and .last_status == 200 and .last_error == "")] | length')" "5"

# --- a new capture goes out at once ---------------------------------------------------------------------
t0=$(date +%s%N)
req POST /api/capture >/dev/null
id6=$(body '.photos[0].id')
arrived() { grep -q "\"photo\": $id6," recv1.log; }
until_ok 60 arrived
expect "a capture reaches a receiver that is up ($((($(date +%s%N) - t0) / 1000000)) ms)" "$?" "0"
# at once: its first attempt delivered it (a retry would have waited for the
# backoff); the time is the benchmark's business, not a bar here
expect "... on its first attempt" \
    "$(deliveries '[.deliveries[] | select(.event == "capture")] | max_by(.created) | [.state, .attempts] | @tsv')" \
    "$(printf 'delivered\t1')"

# --- a receiver that hangs holds up only its own deliveries -------------------------------------------------
# it takes the connection and never answers: tether's attempt waits for its
# 15 s timeout, while the other endpoint's deliveries go on
PORTH=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("listening", flush=True); time.sleep(600)' "$PORTH" >hang.out 2>&1 &
HANG_PID=$!
T_SIMS+=("$HANG_PID")
for _ in $(seq 1 100); do grep -q listening hang.out && break; sleep 0.05; done
expect "an endpoint whose receiver hangs" "$(req POST /api/webhooks '{"url": "http://127.0.0.1:'"$PORTH"'/"}')" "201"
EPH=$(body .id)
for k in 1 2; do
    t0=$(date +%s%N)
    req POST /api/capture >/dev/null
    idh=$(body '.photos[0].id')
    for _ in $(seq 1 150); do grep -q "\"photo\": $idh," recv1.log && break; sleep 0.02; done
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_true "capture $k reaches the good receiver in $ms ms while the other one hangs" "$ms < 3000"
done
expect "the hung receiver's first delivery is still in flight (no attempt recorded), its second waits" \
    "$(deliveries '[.deliveries[] | select(.endpoint == '"$EPH"') | [.state, .attempts]] | tostring')" \
    '[["pending",0],["pending",0]]'
expect "the hanging endpoint is deleted" "$(req DELETE /api/webhooks/$EPH)" "200"
kill "$HANG_PID" 2>/dev/null
recv_stop

# --- a receiver that answers 500 first; the ping; the event filter; delete -----------------------------------
PORT2=$(free_port)
recv_start "$PORT2" recv2.log --secret other --fail-first 2
expect "a second endpoint, for captures" \
    "$(req POST /api/webhooks '{"url": "http://127.0.0.1:'"$PORT2"'/", "secret": "other", "events": "capture"}')" "201"
EP2=$(body .id)
expect "an endpoint for imports only" "$(req POST /api/webhooks '{"url": "http://127.0.0.1:'"$PORT2"'/imports", "events": "import"}')" "201"
EP3=$(body .id)
expect "the first endpoint is deleted" "$(req DELETE /api/webhooks/$EP1)" "200"
expect "... and gone" "$(hooks '[.endpoints[].id] | tostring')" "[$EP2,$EP3]"
expect "deleting it again is 404" "$(req DELETE /api/webhooks/$EP1)" "404"
req POST /api/capture >/dev/null
id7=$(body '.photos[0].id')
wait_for 10 '[.deliveries[] | select(.endpoint == '"$EP2"' and .state == "delivered")] | length == 1' &&
    ok "a delivery answered 500 twice is retried until delivered" || not_ok "a delivery answered 500 twice is retried until delivered"
expect "the receiver saw 500, 500, 200 for one key" \
    "$(jq -s -c '[.[] | select(.photo == '"$id7"')] | [(map(.status)), (map(.key) | unique | length)]' recv2.log)" '[[500,500,200],1]'
expect "signed with the second secret" "$(jq -s '[.[] | select(.valid != true)] | length' recv2.log)" "0"
expect "3 attempts in the log" "$(deliveries '.deliveries[] | select(.endpoint == '"$EP2"') | .attempts')" "3"
expect "the import-only endpoint got nothing" "$(deliveries '[.deliveries[] | select(.endpoint == '"$EP3"')] | length')" "0"
expect "a test ping is enqueued" "$(req POST /api/webhooks/$EP2/test)" "202"
pkey=$(body .key)
wait_for 10 '[.deliveries[] | select(.key == "'"$pkey"'" and .state == "delivered")] | length == 1' &&
    ok "the ping is delivered" || not_ok "the ping is delivered"
expect "as a ping event" "$(jq -s -r '.[] | select(.key == "'"$pkey"'") | .event' recv2.log)" "ping"
expect "filtering the log by state" "$(deliveries '[.deliveries[].state] | unique | tostring' 'state=delivered&limit=1000')" '["delivered"]'
expect "limiting the log" "$(deliveries '.deliveries | length' limit=2)" "2"

# --- changing an endpoint: disabled, it gets no new deliveries; its filter --------------------------------
n2=$(deliveries '[.deliveries[] | select(.endpoint == '"$EP2"')] | length')
expect "PUT disables an endpoint" "$(req PUT /api/webhooks/$EP2 '{"enabled": false}'; echo " $(body .enabled) $(body .url)")" \
    "200 false http://127.0.0.1:$PORT2/"
req POST /api/capture >/dev/null
sleep 0.5
expect "a disabled endpoint gets no delivery for a capture" \
    "$(deliveries '[.deliveries[] | select(.endpoint == '"$EP2"')] | length')" "$n2"
expect "PUT enables it and takes imports too" \
    "$(req PUT /api/webhooks/$EP2 '{"enabled": true, "events": "all"}'; echo " $(body .enabled) $(body .events) $(body .secret_set)")" \
    "200 true all true"
req POST /api/capture >/dev/null
wait_for 10 '[.deliveries[] | select(.endpoint == '"$EP2"')] | length == '"$((n2 + 1))" &&
    ok "enabled again, it gets the next capture" || not_ok "enabled again, it gets the next capture"
expect "PUT with a bad URL is refused" "$(req PUT /api/webhooks/$EP2 '{"url": "ftp://x"}')" "400"
expect "PUT with an unknown field is refused" "$(req PUT /api/webhooks/$EP2 '{"colour": "red"}')" "400"
expect "PUT of an unknown endpoint is 404" "$(req PUT /api/webhooks/999 '{"enabled": false}')" "404"
expect "the endpoint is unchanged by refused PUTs" "$(hooks '.endpoints[] | select(.id == '"$EP2"') | [.url, .events, .enabled] | tostring')" \
    '["http://127.0.0.1:'"$PORT2"'/","all",true]'
recv_stop

# --- a receiver that refuses (404) fails at once --------------------------------------------------------
recv_start "$PORT2" recv3.log --secret other --fail-first 100 --fail-status 404
expect "another ping" "$(req POST /api/webhooks/$EP2/test)" "202"
pkey=$(body .key)
wait_for 10 '[.deliveries[] | select(.key == "'"$pkey"'" and .state == "failed")] | length == 1' &&
    ok "a 404 fails the delivery" || not_ok "a 404 fails the delivery"
expect "after one attempt" "$(deliveries '.deliveries[] | select(.key == "'"$pkey"'") | [.attempts, .last_status] | tostring')" "[1,404]"
recv_stop
stop_serve "serve stops cleanly"

# --- giving up, and a retry by hand ------------------------------------------------------------------
rm -f "$T_DIR/serve.out"
SERVE_ENV="TETHER_WEBHOOK_BACKOFF_MS=100 TETHER_WEBHOOK_MAX_ATTEMPTS=2" start_serve --webhook-allow-private
PORT3=$(free_port)
expect "an endpoint where nothing listens" "$(req POST /api/webhooks '{"url": "http://127.0.0.1:'"$PORT3"'/"}')" "201"
EP4=$(body .id)
req POST /api/webhooks/$EP4/test >/dev/null
pkey=$(body .key)
wait_for 10 '[.deliveries[] | select(.key == "'"$pkey"'" and .state == "failed")] | length == 1' &&
    ok "a delivery is given up after the last attempt" || not_ok "a delivery is given up after the last attempt"
expect_match "... saying so" "$(deliveries '.deliveries[] | select(.key == "'"$pkey"'") | .last_error')" '^gave up after 2 attempts'
recv_start "$PORT3" recv4.log
expect "a failed delivery can be retried" "$(req POST /api/webhooks/deliveries/$pkey/retry)" "202"
wait_for 10 '[.deliveries[] | select(.key == "'"$pkey"'" and .state == "delivered")] | length == 1' &&
    ok "and is then delivered" || not_ok "and is then delivered"
expect "unsigned without a secret" "$(jq -s -c '[.[] | .valid]' recv4.log)" '[null]'
expect "retrying a delivered one is 404" "$(req POST /api/webhooks/deliveries/$pkey/retry)" "404"
recv_stop
stop_serve "serve stops cleanly after giving up"

# --- without --webhook-allow-private: nothing on this machine or its networks ---------------------
PORT5=$(free_port)
recv_start "$PORT5" recv5.log
rm -f "$T_DIR/serve.out" # start_serve waits for its "studio on" line: not the last run's
SERVE_ENV="TETHER_WEBHOOK_BACKOFF_MS=100 TETHER_WEBHOOK_RESOLVE=hooks.example.com:$PORT5:127.0.0.1" start_serve
for u in "http://127.0.0.1:$PORT5/hook" "http://localhost:$PORT5/" "http://[::1]:$PORT5/" "http://10.1.2.3/" \
    "http://169.254.169.254/latest/meta-data/" "http://[::ffff:127.0.0.1]:$PORT5/" "http://2130706433:$PORT5/"; do
    expect "$u is refused at creation" "$(req POST /api/webhooks '{"url": "'"$u"'"}')" "400"
done
expect_match "... saying how to allow it" "$(body .error.message)" '--webhook-allow-private'
expect "a public URL is taken" "$(req POST /api/webhooks '{"url": "https://example.org/hook"}')" "201"
EP5=$(body .id)
expect "PUT to a loopback URL is refused" "$(req PUT /api/webhooks/$EP5 '{"url": "http://127.0.0.1:'"$PORT5"'/"}')" "400"
expect "a public-looking name passes creation" \
    "$(req PUT /api/webhooks/$EP5 '{"url": "http://hooks.example.com:'"$PORT5"'/hook"}'; echo " $(body .url)")" \
    "200 http://hooks.example.com:$PORT5/hook"
expect "a ping to it" "$(req POST /api/webhooks/$EP5/test)" "202"
pkey=$(body .key)
wait_for 10 '[.deliveries[] | select(.key == "'"$pkey"'" and .state != "pending")] | length == 1' &&
    ok "a name that resolves to 127.0.0.1 is refused at connect time" || not_ok "a name that resolves to 127.0.0.1 is refused at connect time"
expect "failed after one attempt, not retried" \
    "$(deliveries '.deliveries[] | select(.key == "'"$pkey"'") | [.state, .attempts, .last_status] | tostring')" '["failed",1,null]'
expect_match "... saying why" "$(deliveries '.deliveries[] | select(.key == "'"$pkey"'") | .last_error')" \
    '^refused: 127\.0\.0\.1 .*--webhook-allow-private'
expect "the receiver on loopback got nothing" "$(cat recv5.log 2>/dev/null | wc -l)" "0"
recv_stop
stop_serve "serve stops cleanly after refusing private addresses"
sim_stop "simulator exits cleanly after the webhook tests"
