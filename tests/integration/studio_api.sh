# The studio's HTTP API over real HTTP (curl) against `tether serve` on
# `tether sim ptpip`: every route, and bad input answered with clear 4xx
# JSON errors and nothing lost or changed.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --photo-size 1296x864 --files 3 || exit 1

start_serve
expect_match "serve starts" "$(cat serve.out)" '^studio on http://127.0.0.1:[0-9]+/'

# --- reading ------------------------------------------------------------------
expect "GET /api/status" "$(req GET /api/status)" "200"
expect "status names the camera" "$(body .camera.model)" "Canon EOS 550D"
expect "status: connected" "$(body .camera.connected)" "true"
expect "GET / serves the UI" "$(curl -s -o page.html -w '%{http_code}' "$URL/")" "200"
expect_match "the UI page" "$(cat page.html)" '<title>tether studio</title>'
expect "GET /gallery" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/gallery")" "200"
expect "GET /app.js" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/app.js")" "200 text/javascript; charset=utf-8"
expect "GET /api/settings" "$(req GET /api/settings)" "200"
expect_true "the settings tree is there ($(body '.settings | length'))" "$(body '.settings | length') > 20"
expect "iso is a choice" "$(body '.settings[] | select(.name=="iso") | .type')" "choice"

# --- live view --------------------------------------------------------------------
code=$(curl -s -o snap.jpg -w '%{http_code} %{content_type}' "$URL/snapshot.jpg")
expect "GET /snapshot.jpg" "$code" "200 image/jpeg"
expect "the snapshot is a live-view frame" "$("$TESTTOOL" jpeg snap.jpg)" "1056x704"
# curl ends the stream itself after 4 s (so its output is flushed) and says
# when the first byte came: the rate is counted over the time frames flowed,
# and a loaded machine that is slow to start the transfer does not fail it.
read -r t_first t_end < <(curl -s --max-time 4 -D stream.head -o stream.mjpg \
    -w '%{time_starttransfer} %{time_total}\n' "$URL/stream.mjpg")
expect_match "GET /stream.mjpg is multipart MJPEG" "$(cat stream.head)" 'multipart/x-mixed-replace; boundary=tetherframe'
frames=$("$TESTTOOL" mjpeg stream.mjpg)
flow=$(awk "BEGIN { print $t_end - $t_first }")
# (liveness, not speed: the rate is measured by bench/run-studio, and a
# loaded machine under the sanitizers streamed 13 frames a second)
rate_check="$frames >= 3 * $flow && $flow >= 1"
rate_name="frames keep streaming ($frames in $flow s after the first byte at $t_first s)"
if awk "BEGIN { exit !($rate_check) }"; then
    ok "$rate_name"
else
    not_ok "$rate_name" \
        "false: $rate_check; serve.err: $(tail -n 8 "$T_DIR/serve.err" | tr '\n' '|'); status: $(curl -s "$URL/api/status" | tr -d '\n' | cut -c1-400)"
fi
lv_off() { [ "$(state .liveview)" = false ]; }
if until_ok 15 lv_off; then ok "live view stops when nobody watches"; else not_ok "live view stops when nobody watches" "still on after 15 s"; fi

# --- capture and photos ---------------------------------------------------------------
expect "POST /api/capture" "$(req POST /api/capture)" "201"
id=$(body '.photos[0].id')
url=$(body '.photos[0].url')
thumb=$(body '.photos[0].thumb')
expect_match "the photo lands in session/day" "$url" '^/photos/default/[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9]{8}-[0-9]{6}-'
expect "the photo downloads" "$(curl -s -o photo.jpg -w '%{http_code}' "$URL$url")" "200"
expect "full size" "$("$TESTTOOL" jpeg photo.jpg)" "1296x864"
expect "a thumbnail was made" "$(curl -s -o thumb.jpg -w '%{http_code}' "$URL$thumb")" "200"
expect_match "the thumbnail is small" "$("$TESTTOOL" jpeg thumb.jpg)" '^360x240$'
expect "GET /api/photos" "$(req GET /api/photos)" "200"
expect "one photo listed" "$(body .total)" "1"
expect "GET /api/photos/ID has EXIF" "$(req GET /api/photos/$id)" "200"
expect "EXIF model" "$(body .exif.model)" "Canon EOS 550D"
expect "GET /api/photos/ID/histogram" "$(req GET /api/photos/$id/histogram)" "200"
expect "256 luminance bins" "$(body '.luma | length')" "256"
expect_true "bins count the pixels" "$(body '.luma | add') == $(body .pixels)"
req POST /api/capture >/dev/null
expect "paging: page 2 of 1 per page" "$(req GET '/api/photos?per_page=1&page=2')" "200"
expect "paging returns the older photo" "$(body '.photos[0].id')" "$id"

# --- settings ---------------------------------------------------------------------------
expect "POST /api/settings sets iso" "$(req POST /api/settings '{"path": "iso", "value": "400"}')" "200"
expect "the camera has it" "$(state .settings.iso)" "400"
expect "several at once" "$(req POST /api/settings '{"values": {"aperture": "8", "shutterspeed": "1/250"}}')" "200"
expect "the camera has them" "$(state '.settings.aperture + " " + .settings.shutterspeed')" "8 1/250"

# --- presets and sessions ----------------------------------------------------------------------
expect "save a preset" "$(req POST /api/presets '{"name": "studio", "settings": ["iso", "aperture"]}')" "201"
expect "it holds the current values" "$(body '.values.iso + " " + .values.aperture')" "400 8"
req POST /api/settings '{"values": {"iso": "1600", "aperture": "2.8"}}' >/dev/null
expect "apply it" "$(req POST /api/presets/studio/apply)" "200"
expect "the camera is back" "$(state '.settings.iso + " " + .settings.aperture')" "400 8"
expect "list presets" "$(req GET /api/presets)" "200"
expect "it is listed" "$(body '.presets.studio.iso')" "400"
expect "create a session" "$(req POST /api/sessions '{"name": "Wedding 2026"}')" "201"
expect "it is active" "$(req GET /api/sessions >/dev/null; body .active)" "Wedding 2026"
expect "its gallery is empty" "$(req GET /api/photos >/dev/null; body .total)" "0"
req POST /api/capture >/dev/null
expect_match "a capture goes to the new session's folder" "$(body '.photos[0].url')" '^/photos/Wedding 2026/'
expect "switch back" "$(req POST /api/sessions/default/activate)" "200"
expect "the gallery follows" "$(req GET /api/photos >/dev/null; body .total)" "2"
expect "delete a photo" "$(req DELETE /api/photos/$id)" "200"
expect "its file is gone" "$(curl -s -o /dev/null -w '%{http_code}' "$URL$url")" "404"
expect "delete a preset" "$(req DELETE /api/presets/studio)" "200"

# --- events --------------------------------------------------------------------------------------
timeout 120 curl -s -N "$URL/api/events" >events.txt &
listener=$!
events_open
req POST /api/settings '{"path": "iso", "value": "200"}' >/dev/null
req POST /api/capture >/dev/null
post /shutter >/dev/null
# on state: the body's shot is seen at the camera's next event look
until_ok 60 grep -q '"source":"camera"' events.txt
kill $listener 2>/dev/null
wait $listener
expect_match "SSE: setting_changed" "$(cat events.txt)" 'event: setting_changed'
expect_match "SSE: capture (API)" "$(cat events.txt)" '"source":"api"'
expect_match "SSE: capture (camera button)" "$(cat events.txt)" '"source":"camera"'

# --- bad input: clear errors, nothing changed ------------------------------------------------------
iso=$(state .settings.iso)
n=$(req GET /api/photos >/dev/null; body .total)
expect "malformed JSON: 400" "$(req POST /api/settings '{"path": "iso", "value": ')" "400"
expect "... with an error envelope" "$(body .error.code)" "bad_json"
expect "not an object: 400" "$(req POST /api/settings '[1,2]')" "400"
expect "unknown setting: 404" "$(req POST /api/settings '{"path": "warpdrive", "value": "9"}')" "404"
expect_match "... named in the message" "$(body .error.message)" 'warpdrive'
expect "value not offered: 400" "$(req POST /api/settings '{"path": "iso", "value": "12345"}')" "400"
expect_match "... lists the choices" "$(body .error.message)" 'choices:.*400'
expect "read-only: 400" "$(req POST /api/settings '{"path": "lensname", "value": "x"}')" "400"
expect "value of a wrong type: 400" "$(req POST /api/settings '{"path": "iso", "value": {"a": 1}}')" "400"
expect "iso unchanged after all that" "$(state .settings.iso)" "$iso"
expect "unknown route: 404" "$(req GET /api/frobnicate)" "404"
expect "wrong method: 405" "$(req DELETE /api/status)" "405"
expect "bad photo id: 400" "$(req GET /api/photos/abc)" "400"
expect "unknown photo: 404" "$(req GET /api/photos/99999)" "404"
expect "bad page: 400" "$(req GET '/api/photos?page=0')" "400"
expect "bad day: 400" "$(req GET '/api/photos?day=yesterday')" "400"
expect "unknown preset: 404" "$(req POST /api/presets/nope/apply)" "404"
expect "bad session name: 400" "$(req POST /api/sessions '{"name": "../etc"}')" "400"
expect "unknown session: 404" "$(req POST /api/sessions/nope/activate)" "404"
expect "path traversal: refused" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL/photos/../../etc/passwd")" "400"
expect "encoded traversal: refused" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL/photos/%2e%2e/%2e%2e/etc/passwd")" "400"
ln -s /etc "$T_DIR/photos/default/escape"
expect "a symlink out of the folder: 403" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/photos/default/escape/passwd")" "403"
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
expect "oversized body: 413" "$(req POST /api/settings "{\"path\": \"iso\", \"value\": \"$big\"}")" "413"
expect "form-encoded body: 415" "$(curl -s -o body.json -w '%{http_code}' -X POST --data 'path=iso&value=100' "$URL/api/settings")" "415"
expect "cross-site POST: 403" "$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Origin: http://evil.example' -H 'Content-Type: application/json' --data '{}' "$URL/api/capture")" "403"
expect "cross-site (Sec-Fetch-Site) POST: 403" "$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Sec-Fetch-Site: cross-site' "$URL/api/capture")" "403"
expect "no capture happened" "$(req GET /api/photos >/dev/null; body .total)" "$n"
expect "iso still unchanged" "$(state .settings.iso)" "$iso"

# --- the camera goes away and comes back ------------------------------------------------------------
post /unplug >/dev/null
until_ok 60 status_is .camera.connected false
expect "the studio sees the camera lost" "$(body .camera.connected)" "false"
expect "capture with the camera lost: 503" "$(req POST /api/capture)" "503"
expect "... camera_disconnected" "$(body .error.code)" "camera_disconnected"
expect "autofocus with the camera lost: 503, not run after the replug" "$(req POST /api/focus/auto '{}')" "503"
expect "... camera_disconnected" "$(body .error.code)" "camera_disconnected"
expect "no focus tool is left waiting" "$(req GET /api/focus >/dev/null; body .running)" "null"
post /plug >/dev/null
until_ok 60 status_is .camera.connected true
expect "the camera is back" "$(body .camera.connected)" "true"
# libgphoto2 names host captures captNNNN from 0000 on every connection;
# the session numbers them on across the reconnect
capt_max=$(req GET /api/photos >/dev/null; body '[.photos[].url | capture("capt(?<n>[0-9]{4})")? | .n | tonumber] | max')
expect "capture works again" "$(req POST /api/capture)" "201"
capt_new=$(body '.photos[0].url' | sed -n 's/.*capt\([0-9]\{4\}\).*/\1/p')
expect_true "its file number goes on after the reconnect (capt$capt_new after capt$capt_max)" \
    "${capt_new:-0} > ${capt_max:-9999}"

# --- file names: the photographer's template ---------------------------------------------------------
expect "GET /api/naming" "$(req GET /api/naming)" "200"
expect "... the studio's own names at first" "$(body '[.template, .custom] | @tsv')" "$(printf '\tfalse')"
expect_match "... with an example of the next name" "$(body .example)" '^[0-9]{8}-[0-9]{6}-IMG_0001\.jpg$'
expect "PUT a template" "$(req PUT /api/naming '{"template": "{session}-{counter:04d}"}')" "200"
expect "... its example" "$(body .example)" "default-0001.jpg"
expect "the next capture" "$(req POST /api/capture)" "201"
expect_match "... is named by it" "$(body '.photos[0].url')" '/default-[0-9]{4}\.jpg$'
req POST /api/capture >/dev/null
req POST /api/capture >/dev/null
expect "three captures count 0001 to 0003" "$(req GET '/api/photos?per_page=3' >/dev/null; body '[.photos[].file] | reverse | join(" ")')" \
    "default-0001.jpg default-0002.jpg default-0003.jpg"
expect "an unknown field: 400" "$(req PUT /api/naming '{"template": "{bogus}"}')" "400"
expect_match "... saying which" "$(body .error.message)" 'bogus'
expect "a folder in the template: 400" "$(req PUT /api/naming '{"template": "../{name}"}')" "400"
expect "... bad_template" "$(body .error.code)" "bad_template"
expect "a slash: 400" "$(req PUT /api/naming '{"template": "a/{name}"}')" "400"
expect "not a string: 400" "$(req PUT /api/naming '{"template": 7}')" "400"
expect "the template in force is unchanged" "$(req GET /api/naming >/dev/null; body .template)" "{session}-{counter:04d}"
stop_serve "serve stops cleanly"

# --- the catalog survives a restart -------------------------------------------------------------------
start_serve
expect "after a restart the session is still active" "$(req GET /api/sessions >/dev/null; body .active)" "default"
expect_true "and its photos are listed" "$(req GET /api/photos >/dev/null; body .total) >= 3"
expect "and the file names are kept" "$(req GET /api/naming >/dev/null; body .template)" "{session}-{counter:04d}"
# the counter never starts again: not after a restart (the library's count
# starts at 1 in each process), not in another session's folder (only the
# catalog knows the numbers there), not for a shot taken on the body
expect "a capture after the restart" "$(req POST /api/capture)" "201"
expect "... goes on at 0004" "$(body '.photos[0].file')" "default-0004.jpg"
expect "a new session" "$(req POST /api/sessions '{"name": "other", "activate": true}')" "201"
expect "a capture there" "$(req POST /api/capture)" "201"
expect "... goes on at 0005 in its new folder" "$(body '.photos[0].file')" "other-0005.jpg"
n0=$(req GET /api/photos >/dev/null; body .total)
post /shutter >/dev/null
until_ok 60 sh -c "[ \"\$(curl -s '$URL/api/photos' | jq .total)\" -gt $n0 ]"
expect "a shot on the body goes on at 0006" "$(req GET /api/photos >/dev/null; body '.photos[0].file')" "other-0006.jpg"
expect "back to the first session" "$(req POST /api/sessions/default/activate)" "200"
expect "an empty template goes back to the studio's names" "$(req PUT /api/naming '{"template": ""}' ; body .custom)" "200false"

# --- RAW + JPEG: one item (the JPEG shown, its RAW with it) ---------------------------------------------
expect "RAW + JPEG on the camera" "$(req POST /api/settings '{"path": "imageformat", "value": "RAW + Large Fine JPEG"}')" "200"
n0=$(req GET /api/photos >/dev/null; body .total)
expect "a RAW + JPEG capture" "$(req POST /api/capture)" "201"
expect "... writes two files" "$(body '[.photos[].file | sub(".*\\."; "")] | sort | join(" ")')" "cr2 jpg"
req GET /api/photos >/dev/null
expect "... listed as one item" "$(body .total)" "$((n0 + 1))"
expect "... the JPEG, carrying its RAW" "$(body '.photos[0] | [(.file | sub("\\.jpg$"; "")), (.raw_file.file | sub("\\.cr2$"; ""))] | (.[0] == .[1] and .[0] != null)')" "true"
item=$(body '.photos[0].id'); raw=$(body '.photos[0].raw_file.id')
expect "the RAW is downloadable" "$(curl -s -o /dev/null -w '%{http_code}' "$URL$(body .photos[0].raw_file.url)")" "200"
expect "the RAW says which item it is in" "$(req GET "/api/photos/$raw" >/dev/null; body .pair_of)" "$item"
expect "a rating through the RAW's id" "$(req PUT "/api/photos/$raw" '{"rating": 3, "label": "Green"}'; body '[.id, .rating, .label] | join(" ")')" \
    "200$item 3 Green"
jpg_path="$T_DIR/photos/$(req GET "/api/photos/$item" >/dev/null; body '.url | sub("^/photos/"; "")')"
raw_path="$T_DIR/photos/$(body '.raw_file.url | sub("^/photos/"; "")')"
expect "... is in both files' XMP (the JPEG, the RAW's sidecar), read by exiftool" \
    "$(exiftool -s3 -XMP:Rating -XMP:Label "$jpg_path" | tr '\n' ' ')| $(exiftool -s3 -XMP:Rating -XMP:Label "${raw_path%.*}.xmp" | tr '\n' ' ')" \
    "3 Green | 3 Green "
expect "... and in the catalog for both" "$(req GET "/api/photos/$raw" >/dev/null; body '.rating')" "3"
expect "the filter finds the item once" "$(req GET '/api/photos?label=Green' >/dev/null; body '[.photos[].id] | join(" ")')" "$item"
post /shutter >/dev/null
until_ok 60 sh -c "[ \"\$(curl -s '$URL/api/photos' | jq .total)\" -gt $((n0 + 1)) ] && [ \"\$(curl -s '$URL/api/photos' | jq -r .photos[0].raw_file.file)\" != null ]"
expect "a RAW + JPEG shot on the body is one item too" "$(req GET /api/photos >/dev/null; body '[.total, (.photos[0].raw_file.file | test("\\.cr2$"))] | join(" ")')" "$((n0 + 2)) true"
expect "deleting the item" "$(req DELETE "/api/photos/$item")" "200"
expect "... deletes both files" "$(ls "$jpg_path" "$raw_path" 2>/dev/null | wc -l)" "0"
expect "... and both entries" "$(req GET "/api/photos/$raw")" "404"
expect "back to JPEG" "$(req POST /api/settings '{"path": "imageformat", "value": "Large Fine JPEG"}')" "200"
stop_serve "serve stops cleanly (2)"

# --- access token ------------------------------------------------------------------------------------------
start_serve --token s3cret-token
expect "no token: 401" "$(req GET /api/status)" "401"
expect "... JSON error" "$(body .error.code)" "unauthorized"
expect "the stream needs the token too" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/stream.mjpg")" "401"
expect "pages redirect to the login page" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/")" "303 $URL/login"
expect "wrong token: 401" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$URL/api/status")" "401"
expect "bearer token: 200" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-token' "$URL/api/status")" "200"
expect "X-Tether-Token: 200" "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Tether-Token: s3cret-token' "$URL/api/status")" "200"
code=$(curl -s -c cookies.txt -o /dev/null -w '%{http_code}' --data 'token=s3cret-token' "$URL/login")
expect "the login page sets a cookie" "$code" "303"
expect_match "... HttpOnly, SameSite=Strict" "$(curl -s -D - -o /dev/null --data 'token=s3cret-token' "$URL/login")" 'HttpOnly; SameSite=Strict'
expect "the cookie opens the API" "$(curl -s -b cookies.txt -o /dev/null -w '%{http_code}' "$URL/api/status")" "200"
expect "a wrong login: back to the login page" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --data 'token=wrong' "$URL/login")" "303 $URL/login?failed=1"
stop_serve "serve with a token stops cleanly"
sim_stop "simulator exits cleanly after the API tests"

# --- the built-in simulator, labelled as such ------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TETHER" --camera sim serve --listen "127.0.0.1:$port" --photos "$T_DIR/photos-sim" >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
SERVE=$!
T_SIMS+=("$SERVE")
until_ok 60 grep -q '^studio on' "$T_DIR/serve.out"
URL="http://127.0.0.1:$port"
expect_match "serve --camera sim says so" "$(cat "$T_DIR/serve.out")" 'camera: Canon EOS 550D, simulated'
expect "status: simulated" "$(req GET /api/status >/dev/null; body .camera.simulated)" "true"
expect "and it captures" "$(req POST /api/capture)" "201"
stop_serve "serve on the built-in simulator stops cleanly"
