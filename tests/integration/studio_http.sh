# The studio's HTTP layer against an unfriendly network (issue 11): DNS
# rebinding (Host), cross-site requests (Origin by scheme, host and port),
# sign-in sessions that never put the token in a cookie, throttled wrong
# tokens, closed event-stream clients let go at once, and idle connections
# that cost no thread.  Everything on loopback, bounded in count and time.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --photo-size 1296x864 || exit 1

# until CMD prints EXPECTED (or DEADLINE seconds pass): prints the last value
wait_for() {
    local deadline=$(($(date +%s) + $1)) expected=$2 got
    shift 2
    while :; do
        got=$("$@")
        [ "$got" = "$expected" ] && break
        [ "$(date +%s)" -ge $deadline ] && break
        sleep 0.1
    done
    printf '%s' "$got"
}
threads() { awk '/^Threads:/ { print $2 }' "/proc/$SERVE/status"; }
fds() { ls "/proc/$SERVE/fd" | wc -l; }
photos_on_disk() { find "$T_DIR/photos" -name '*.JPG' -o -name '*.jpg' -not -path '*/.thumbs/*' | grep -vc '/.thumbs/'; }

start_serve --allow-host studio.example
port=${URL##*:}

# --- Host: DNS rebinding ----------------------------------------------------------
# the reproduction: a page at attacker.example whose name now points here
code=$(curl -s -o body.json -w '%{http_code}' -X POST -H "Host: attacker.example:$port" \
    -H "Origin: http://attacker.example:$port" -H 'Content-Type: application/json' --data '{}' "$URL/api/capture")
expect "a capture for a rebound name is refused (421)" "$code" "421"
expect "with a JSON error" "$(body .error.code)" "bad_host"
expect "and no photo was taken" "$(photos_on_disk)" "0"
for p in /api/sessions /api/webhooks /api/tagging; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Host: attacker.example:$port" \
        -H "Origin: http://attacker.example:$port" -H 'Content-Type: application/json' --data '{"name":"x"}' "$URL$p")
    expect "POST $p for a rebound name: 421" "$code" "421"
done
expect "reading /api/status for a rebound name: 421" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: attacker.example' "$URL/api/status")" "421"
expect "the live view for a rebound name: 421" \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H 'Host: evil.example' "$URL/stream.mjpg")" "421"
expect "Host: localhost passes" "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$port" "$URL/api/status")" "200"
expect "Host: LOCALHOST. passes (case, trailing dot)" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: LOCALHOST.:$port" "$URL/api/status")" "200"
expect "Host: an address passes" "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: 10.1.2.3:$port" "$URL/api/status")" "200"
expect "Host: [::1] passes" "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: [::1]:$port" "$URL/api/status")" "200"
expect "Host: a name given with --allow-host passes" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: studio.example:$port" "$URL/api/status")" "200"
expect "Host: this machine's name passes" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $(hostname):$port" "$URL/api/status")" "200"
expect "Host: a name that merely ends like an allowed one: 421" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: evilstudio.example:$port" "$URL/api/status")" "421"

# --- Origin: scheme, host and port --------------------------------------------------
post_origin() { # ORIGIN -> status of a session switch (a harmless state change)
    curl -s -o body.json -w '%{http_code}' -X POST -H "Origin: $1" -H 'Content-Type: application/json' \
        --data '{"name": "origin-test"}' "$URL/api/sessions"
}
expect "Origin http://127.0.0.1:PORT (same origin) passes" "$(post_origin "http://127.0.0.1:$port")" "201"
expect "Origin https:// (another scheme): 403" "$(post_origin "https://127.0.0.1:$port")" "403"
expect "Origin with another port: 403" "$(post_origin "http://127.0.0.1:1$port")" "403"
expect "Origin of another site: 403" "$(post_origin "http://attacker.example:$port")" "403"
expect "Origin null: 403" "$(post_origin "null")" "403"
expect "Origin that only starts like ours: 403" "$(post_origin "http://127.0.0.1:$port.evil.example")" "403"
expect "Sec-Fetch-Site: cross-site: 403" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Sec-Fetch-Site: cross-site' \
    -H 'Content-Type: application/json' --data '{"name":"x"}' "$URL/api/sessions")" "403"
# --- bytes that are not UTF-8 (they would end up in JSON; fuzz_http found 500s) -----
expect "a query that is not UTF-8: 400" \
    "$(curl -s -o body.json -w '%{http_code}' "$URL/api/photos?session=defaul%B9t")" "400"
expect "... bad_request" "$(body .error.code)" "bad_request"
expect "a path that is not UTF-8: 400" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/%FB")" "400"
expect "an overlong form is not UTF-8 either" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/photos?session=%C0%AF")" "400"
expect "a query in UTF-8 passes" "$(curl -s -o body.json -w '%{http_code}' "$URL/api/photos?session=caf%C3%A9")" "200"
expect "... and comes back as it was" "$(body .session)" "café"
# the UI's files: kept by the browser, revalidated by ETag
head=$(curl -s -D - -o /dev/null "$URL/app.js" | tr -d '\r')
etag=$(printf '%s' "$head" | awk 'tolower($1) == "etag:" { print $2 }')
expect_match "the UI's files carry an ETag" "$etag" '^"[0-9a-f]{20}"$'
expect_match "... and are revalidated, not refetched" "$head" '^Cache-Control: no-cache$'
expect "an unchanged file answers 304 with no body" \
    "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "If-None-Match: $etag" "$URL/app.js")" "304 0"
expect "another file's ETag does not match" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/app.css")" "200"
expect "/favicon.ico is the studio's icon" \
    "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/favicon.ico")" "200 image/svg+xml"
stop_serve "the server stops cleanly"

# --- sign-in sessions and throttling ------------------------------------------------
TOKEN=s3cret-token-42
start_serve --token "$TOKEN"
port=${URL##*:}
head=$(curl -s -D - -o /dev/null --data "token=$TOKEN" "$URL/login")
cookie=$(printf '%s' "$head" | tr -d '\r' | awk -F'[=;]' 'tolower($0) ~ /^set-cookie: tether_session=/ { print $2 }')
expect_match "sign-in sets a session cookie (64 hex)" "$cookie" '^[0-9a-f]{64}$'
if printf '%s' "$head" | grep -q "$TOKEN"; then not_ok "the token is not in the cookie"; else ok "the token is not in the cookie"; fi
expect "the session opens the API" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "tether_session=$cookie" "$URL/api/status")" "200"
expect "a cookie with the raw token does not" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "tether_token=$TOKEN" "$URL/api/status")" "401"
expect "a made-up session does not" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "tether_session=$(printf '%064d' 7)" "$URL/api/status")" "401"
expect "sign-out" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -b "tether_session=$cookie" "$URL/logout")" "303"
expect "the session is over after sign-out" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "tether_session=$cookie" "$URL/api/status")" "401"
expect "a bearer token still works" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/status")" "200"
expect "... and is not a sign-in session" \
    "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/status" | jq -r .signed_in)" "false"
# a page asked for before signing in is where the sign-in lands
expect "a page asked for without a token goes to the sign-in, remembering the page" \
    "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/gallery")" "303 $URL/login?next=/gallery"
expect_match "the sign-in page keeps it in the form" "$(curl -s "$URL/login?next=/gallery")" \
    '<input type=hidden name=next value="/gallery">'
for evil in //evil.example https://evil.example/x '/gallery"><script>' '/\evil'; do
    if curl -s "$URL/login?next=$(jq -rn --arg v "$evil" '$v|@uri')" | grep -q 'name=next'; then
        not_ok "the sign-in page drops a target off this studio: $evil"
    else
        ok "the sign-in page drops a target off this studio: $evil"
    fi
done
expect "a wrong token goes back to the sign-in, still remembering the page" \
    "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --data 'token=wrong&next=/gallery' "$URL/login")" \
    "303 $URL/login?failed=1&next=/gallery"
expect_match "... which says why" "$(curl -s "$URL/login?failed=1&next=/gallery")" \
    '<p class=why id=why role=alert>That token is not'
head=$(curl -s -D - -o /dev/null --data "token=$TOKEN&next=/gallery" "$URL/login" | tr -d '\r')
expect_match "the right token lands on the page asked for" "$head" '^Location: /gallery$'
cookie=$(printf '%s' "$head" | awk -F'[=;]' 'tolower($0) ~ /^set-cookie: tether_session=/ { print $2 }')
expect "a browser signed in is told so (for its Sign out button)" \
    "$(curl -s -b "tether_session=$cookie" "$URL/api/status" | jq -r .signed_in)" "true"
expect_match "a target off this studio lands on / instead" \
    "$(curl -s -D - -o /dev/null --data "token=$TOKEN&next=https://evil.example/" "$URL/login" | tr -d '\r')" \
    '^Location: /$'
# Twelve wrong sign-ins, each with the client's times around it: the first
# five are let through (303), then each that gets through opens a block of
# 1 s, doubling (a refused one, 429, does not count).  Judged by those
# times, not by the count (on a loaded machine a 1 s block can run out
# between two tries): a try that ended before the block could have ended
# must be refused, one that began after it surely had, let through.
codes="" tries=""
for i in $(seq 1 12); do
    t0=$(date +%s.%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' --data "token=wrong-$i" "$URL/login")
    codes="$codes $code" tries="$tries$t0 $(date +%s.%N) $code
"
done
throttle_errors=$(awk 'NF == 3 {
        n++
        if (n <= 5 && $3 != 303) bad = bad " try " n ": " $3 " among the free tries;"
        if (n > 5 && have && $3 == 303 && $2 < end_earliest) bad = bad " try " n ": let through inside its block;"
        if (n > 5 && have && $3 == 429 && $1 > end_latest) bad = bad " try " n ": refused after its block;"
        if ($3 == 303 && ++failures >= 5) {
            d = 2 ^ (failures - 5); if (d > 60) d = 60
            end_earliest = $1 + d; end_latest = $2 + d; have = 1
        }
    }
    END { print bad }' <<<"$tries")
expect "wrong sign-ins: five free tries, then 429 while each doubling block lasts ($codes)" "$throttle_errors" ""
expect_match "... and the sixth is refused" "$codes" '^( 303){5}( 303)? 429'
# The block after the free tries lasts 1 s and doubles with each wrong
# token that gets through after it: wait each one out (a refused try does
# not count) and try once more, three times, so that the checks below have
# an 8 s block to look at, not a race with a 1 s one on a loaded machine.
wrong_counted() { [ "$(curl -s -o /dev/null -w '%{http_code}' --data "token=wrong-again" "$URL/login")" = 303 ]; }
for _ in 1 2 3; do until_ok 30 wrong_counted || not_ok "the block ends when its time is up"; done
code=$(curl -s -D throttled.head -o throttled.html -w '%{http_code}' --data "token=$TOKEN" "$URL/login")
expect "while throttled even the right token waits (429)" "$code" "429"
expect_match "with Retry-After" "$(tr -d '\r' <throttled.head)" '[Rr]etry-[Aa]fter: [0-9]+'
expect_match "the sign-in page says how long" "$(cat throttled.html)" 'Too many wrong tokens from this address: wait [0-9]+ s'
code=$(curl -s -o body.json -w '%{http_code}' -H 'Content-Type: application/json' -d "{\"token\": \"$TOKEN\"}" "$URL/login")
expect "a script signing in with JSON is told as JSON" "$code $(body .error.code)" "429 too_many_attempts"
codes=""
for i in $(seq 1 30); do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-$i" "$URL/api/status")"
done
expect_match "wrong bearer tokens are throttled the same way" "$codes" '429'
stop_serve "the server with a token stops cleanly"

# --- connections cost no thread; closed clients are let go at once -----------------
start_serve
port=${URL##*:}
base_threads=$(threads)
base_fds=$(fds)
pids=()
for i in $(seq 1 30); do
    curl -s -N "$URL/api/events" >/dev/null 2>&1 &
    pids+=($!)
done
open=$(wait_for 30 $((base_fds + 30)) fds)
expect_true "30 event clients hold 30 sockets ($open open, $base_fds before)" "$open >= $base_fds + 30"
expect_true "and no thread each ($(threads) threads, $base_threads before)" "$(threads) <= $base_threads + 2"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
left=$(wait_for 5 "$base_fds" fds)
expect "clients that left are let go at once ($left sockets open, $base_fds before)" "$left" "$base_fds"
# event clients that read the first bytes and leave while older connections
# stay open (libmicrohttpd kept such a resumed connection's socket for as
# long as an older one was open: 11,000 sockets in a minute under load)
python3 - "$port" >churn.out 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
for i in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    s.recv(4096)
    s.close()
print("churned", flush=True)
time.sleep(30)
PY
churn=$!
for _ in $(seq 1 300); do grep -q churned churn.out 2>/dev/null && break; sleep 0.1; done
left=$(wait_for 10 $((base_fds + 20)) fds)
expect "100 event clients that left while 20 older connections stay: sockets let go ($left open)" \
    "$left" "$((base_fds + 20))"
kill $churn 2>/dev/null
wait $churn 2>/dev/null
wait_for 5 "$base_fds" fds >/dev/null
# 300 idle connections that never send a byte, then 200 that send half a request
python3 - "$port" >idle.out 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(500):
    s = socket.create_connection(("127.0.0.1", port))
    if i >= 300:
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    socks.append(s)
print("open", flush=True)
time.sleep(8)
EOF
idle=$!
for _ in $(seq 1 100); do grep -q open idle.out && break; sleep 0.1; done
held=$(wait_for 10 $((base_fds + 500)) fds)
expect_true "the server holds the 500 connections ($held sockets, $base_fds before)" "$held >= $base_fds + 500"
t=$(curl -s -o /dev/null -w '%{time_total}' "$URL/api/status")
expect_true "with 500 idle and slow connections /api/status still answers at once (${t} s)" "$t < 1"
expect_true "and the server has $(threads) threads (under 64)" "$(threads) < 64"
kill $idle 2>/dev/null
wait $idle 2>/dev/null
# a capture on a worker does not hold the live view back
curl -s --max-time 3 -o during.mjpg "$URL/stream.mjpg" &
viewer=$!
expect "a capture while someone watches" "$(req POST /api/capture)" "201"
wait $viewer
expect_true "the viewer got frames meanwhile ($("$TESTTOOL" mjpeg during.mjpg))" "$("$TESTTOOL" mjpeg during.mjpg) > 5"
stop_serve "the server stops cleanly with clients gone"
