# The studio's health and metrics (issue 16): GET /healthz answers without
# the token (a probe's), 200 while the photo folder can keep photos and
# 503 once it is gone; GET /metrics needs the token (401 without) and is
# Prometheus text: every sample follows its family's TYPE line, each
# family in one group; it counts the camera as connected, live-view
# frames served, viewers, photos catalogued, webhook deliveries, HTTP
# requests and errors, and rig nodes (none here).
. "$(dirname "$0")/../lib.sh"
sim_start --persona canon-eos --photo-size 648x432 --files 1 || exit 1
TOKEN=studio-health-token-3
start_serve --token "$TOKEN"
auth=(-H "Authorization: Bearer $TOKEN")
metric() { curl -s "${auth[@]}" "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

expect "GET /healthz needs no token" "$(curl -s -o "$T_DIR/h.json" -w '%{http_code}' "$URL/healthz")" 200
expect "and says the studio is well, with its camera" "$(jq -c . "$T_DIR/h.json")" '{"ok":true,"cameras":1,"connected":1}'
expect "GET /metrics without the token is refused" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" 401
curl -s "${auth[@]}" -D "$T_DIR/m.headers" -o "$T_DIR/m.txt" "$URL/metrics"
expect_match "GET /metrics is Prometheus text" "$(cat "$T_DIR/m.headers")" 'Content-Type: text/plain; version=0.0.4'
expect "every sample follows its family's TYPE, each family in one group" "$(awk '
    /^# TYPE / { if (seen[$3]++) bad = bad " twice:" $3; fam = $3; next }
    /^#/ { next }
    { name = $1; sub(/\{.*/, "", name); if (name != fam) bad = bad " stray:" name }
    END { print bad == "" ? "ok" : bad }' "$T_DIR/m.txt")" ok
expect "the camera is connected" "$(metric 'tether_camera_connected{camera="canon-eos-550d",node=""}')" 1
expect "no rig node" "$(metric 'tether_rig_nodes{state="online"}')" 0
expect "no webhook pending" "$(metric 'tether_webhook_deliveries{state="pending"}')" 0

before=$(metric tether_photos_catalogued_total)
curl -s "${auth[@]}" -X POST "$URL/api/capture" >/dev/null
expect "a capture is counted" "$(metric tether_photos_catalogued_total)" "$((before + 1))"
curl -s "${auth[@]}" --max-time 3 -o "$T_DIR/s.mjpg" "$URL/stream.mjpg"
expect_true "live-view frames served are counted ($(metric 'tether_frames_served_total{camera="canon-eos-550d"}'))" \
    "$(metric 'tether_frames_served_total{camera="canon-eos-550d"}') > 0"
# the 3 s viewer above has gone (a closed viewer is noticed at its next frame)
no_viewer() { [ "$(metric 'tether_viewers{camera="canon-eos-550d"}')" = 0 ]; }
until_ok 60 no_viewer || not_ok "the viewer that left is no longer counted" "$(metric 'tether_viewers{camera="canon-eos-550d"}')"
curl -s "${auth[@]}" --max-time 90 "$URL/stream.mjpg" -o /dev/null &
viewer=$!
one_viewer() { [ "$(metric 'tether_viewers{camera="canon-eos-550d"}')" = 1 ]; }
until_ok 60 one_viewer && ok "a viewer is counted" || not_ok "a viewer is counted" "$(metric 'tether_viewers{camera="canon-eos-550d"}')"
kill "$viewer" 2>/dev/null
wait "$viewer" 2>/dev/null
expect_true "requests are counted" "$(metric tether_http_requests_total) >= 5"

# the photo folder gone: not well any more
mv "$T_DIR/photos" "$T_DIR/photos.moved"
expect "GET /healthz answers 503 once the photo folder is gone" "$(curl -s -o "$T_DIR/h.json" -w '%{http_code}' "$URL/healthz")" 503
expect_match "and says why" "$(jq -r .error "$T_DIR/h.json")" 'photo folder'
mv "$T_DIR/photos.moved" "$T_DIR/photos"
expect "and 200 once it is back" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200
stop_serve "tether serve stops cleanly on SIGTERM"
sim_stop "simulator exits cleanly"
