# The multi-camera studio (docs/API.md, "Several cameras"): `tether serve`
# with three simulated cameras (canon-eos, nikon, generic) over PTP/IP.
# Each is listed, streams, captures and has its settings on its own;
# capture-all gives one photo per camera and every camera's trigger time
# (checked against what each simulator saw: last_trigger_ns); events carry
# the camera's id; the old routes serve the first camera.  One camera
# unplugged leaves the other two streaming at full rate; a frozen one gets
# at most its share of the HTTP workers (503 camera_busy beyond) while the
# others answer.  Each camera reports its capabilities, and autofocus runs
# on the two with a focus drive at once (and is refused on the third).
# Cameras are added and removed at runtime.  Then the
# same with three in-process simulators (--camera sim --camera sim:nikon
# --camera sim:generic), and one camera as before on a catalog made
# before photos had a camera id.
. "$(dirname "$0")/../lib.sh"
# Cameras are unplugged and frozen here, so a reopen can fail inside
# libgphoto2, which then leaks its driver state (tests/lsan-freeze.supp)
cat "$T_TESTS/lsan.supp" "$T_TESTS/lsan-freeze.supp" >"$T_DIR/lsan.supp"
export LSAN_OPTIONS="suppressions=$T_DIR/lsan.supp:print_suppressions=0"
cd "$T_DIR"

personas=(canon-eos nikon generic)
declare -a SIMP CTLP
for i in 0 1 2; do
    sim_start --persona "${personas[$i]}" --photo-size 648x432 --files 1 || exit 1
    SIMP[$i]=$SIM_PORT
    CTLP[$i]=$CTL_PORT
done
ctl_state() { curl -sf "http://127.0.0.1:${CTLP[$1]}/state" | jq -r "$2"; }
ctl_post() { curl -sf -X POST -H 'Content-Type: application/json' --data '{}' "http://127.0.0.1:${CTLP[$1]}$2" >/dev/null; }
# within NAME SECONDS CMD...: passes once CMD succeeds, fails after SECONDS
within() {
    local name=$1 secs=$2
    shift 2
    if until_ok "$secs" "$@"; then ok "$name"; else not_ok "$name" "not within $secs s"; fi
}
# is_connected ID: the camera's "connected" in GET /api/cameras/ID
is_connected() { curl -s "$URL/api/cameras/$1" | jq -r .connected; }

# serve ARGS...: starts `tether ARGS serve` on a free port (URL, SERVE)
serve() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -f serve.out
    "$TETHER" "$@" serve --listen "127.0.0.1:$port" --photos "$T_DIR/photos" >serve.out 2>serve.err &
    SERVE=$!
    T_SIMS+=("$SERVE")
    for _ in $(seq 1 300); do grep -q '^studio on' serve.out && break; sleep 0.1; done
    URL="http://127.0.0.1:$port"
}
# frames ID SECONDS: frames of camera ID's stream in that time (after the first byte)
frames() {
    local t_first t_end
    read -r t_first t_end < <(curl -s --max-time "$2" -o "stream-$1.mjpg" \
        -w '%{time_starttransfer} %{time_total}\n' "$URL/api/cameras/$1/stream.mjpg")
    echo "$("$TESTTOOL" mjpeg "stream-$1.mjpg") $(awk "BEGIN { print $t_end - $t_first }")"
}

serve --camera "ptpip:127.0.0.1:${SIMP[0]}" --camera "ptpip:127.0.0.1:${SIMP[1]}" --camera "ptpip:127.0.0.1:${SIMP[2]}"
expect_match "serve starts with three cameras" "$(cat serve.out)" '^studio on http://127.0.0.1:[0-9]+/ \(cameras: '

# --- the list ------------------------------------------------------------------------
expect "GET /api/cameras" "$(req GET /api/cameras)" "200"
expect "three cameras" "$(body '.cameras | length')" "3"
mapfile -t IDS < <(body '.cameras[].id')
expect "ids in the order given, from the models" "${IDS[*]}" "canon-eos-550d d750 simulated-ptp-camera"
expect "the first is the primary" "$(body '[.cameras[].primary] | map(tostring) | join(",")')" "true,false,false"
expect "every one connected" "$(body '[.cameras[].connected] | all')" "true"
expect "each has an identity (model and serial)" "$(body '[.cameras[] | select(.identity[0:(.model | length)] != .model)] | length')" "0"
expect "identities differ" "$(body '[.cameras[].identity] | unique | length')" "3"
expect "specs as given" "$(body '.cameras[1].spec')" "ptpip:127.0.0.1:${SIMP[1]}"
# capabilities, as each persona's body offers them
expect "capabilities: the backend" "$(body '[.cameras[].capabilities.backend] | unique | join(",")')" "gphoto2"
expect "capabilities: focus control" "$(body '[.cameras[].capabilities.focus.kind] | join(",")')" "relative,relative,none"
expect "capabilities: magnified live view on the canon only" "$(body '[.cameras[].capabilities.zoom] | map(tostring) | join(",")')" "true,false,false"
expect "capabilities: the nikon's step sizes" "$(body '.cameras[1].capabilities.focus.step_units | map(tostring) | join(",")')" "1,4,30"
expect "capabilities: canonical settings, iso writable on each" \
    "$(body '[.cameras[] | .capabilities.writable | index("iso") != null] | all')" "true"
expect "GET /api/cameras/ID" "$(req GET "/api/cameras/${IDS[1]}")" "200"
expect "... is that camera" "$(body .model)" "$(ctl_state 1 .model)"
expect "an unknown id: 404" "$(req GET /api/cameras/no-such-camera/status)" "404"
expect "... with a message" "$(body .error.code)" "not_found"

# --- each on its own ---------------------------------------------------------------------
for i in 0 1 2; do
    id=${IDS[$i]}
    expect "$id: status" "$(req GET "/api/cameras/$id/status")" "200"
    expect "$id: status names it" "$(body '.camera.id + " " + .camera.model')" "$id $(ctl_state "$i" .model)"
    expect "$id: settings" "$(req GET "/api/cameras/$id/settings")" "200"
    expect_true "$id: settings listed ($(body '.settings | length'))" "$(body '.settings | length') > 5"
    code=$(curl -s -o "snap-$id.jpg" -w '%{http_code} %{content_type}' "$URL/api/cameras/$id/snapshot.jpg")
    expect "$id: snapshot.jpg" "$code" "200 image/jpeg"
    read -r n flow < <(frames "$id" 3)
    expect_true "$id: stream.mjpg flows ($n frames in $flow s)" "$n >= 5"
    expect "$id: capture" "$(req POST "/api/cameras/$id/capture")" "201"
    expect "$id: the photo names its camera" "$(body '.photos[0].camera')" "$id"
    expect "$id: and its identity" "$(body '.photos[0].camera_identity | length > 0')" "true"
    expect_match "$id: its file name carries the id" "$(body '.photos[0].file')" "-$id-"
    expect "$id: the simulator took it" "$(ctl_state "$i" .shots)" "1"
done
expect "a setting changed on one camera only" \
    "$(req POST "/api/cameras/${IDS[1]}/settings" '{"path": "iso", "value": "800"}')" "200"
expect "... the nikon has it" "$(ctl_state 1 .settings.iso)" "800"
expect_true "... the canon does not ($(ctl_state 0 .settings.iso))" "\"$(ctl_state 0 .settings.iso)\" != \"800\""

# --- the old routes: the primary camera ---------------------------------------------------------
expect "GET /api/status" "$(req GET /api/status)" "200"
expect "... is the primary camera's" "$(body .camera.id)" "${IDS[0]}"
expect "POST /api/capture (no body) takes the primary's" "$(req POST /api/capture)" "201"
expect "... photo" "$(body '.photos[0].camera')" "${IDS[0]}"
expect "... on the canon" "$(ctl_state 0 .shots)" "2"

# --- events carry the camera -------------------------------------------------------------
curl -s -N --max-time 30 "$URL/api/events" >events.txt &
EV=$!
within "the event stream opens" 5 grep -q retry events.txt
# --- capture-all ---------------------------------------------------------------------------
before=("$(ctl_state 0 .last_trigger_ns)" "$(ctl_state 1 .last_trigger_ns)" "$(ctl_state 2 .last_trigger_ns)")
expect "POST /api/capture {cameras: all}" "$(req POST /api/capture '{"cameras": "all"}')" "201"
expect "one shot per camera" "$(body '[.shots[].camera] | join(" ")')" "${IDS[*]}"
expect "one photo each" "$(body '[.shots[].photos | length] | map(tostring) | join(",")')" "1,1,1"
expect "no errors" "$(body '[.shots[] | select(.error)] | length')" "0"
expect "every shot has its trigger time" "$(body '[.shots[] | select(.trigger_ns > 0)] | length')" "3"
spread=$(body .spread_ms)
expect "spread_ms is the triggers' spread ($spread ms)" \
    "$(body '(([.shots[].trigger_ns] | max) - ([.shots[].trigger_ns] | min)) / 1e6 - .spread_ms | fabs < 0.001')" "true"
for i in 0 1 2; do
    seen=$(ctl_state "$i" .last_trigger_ns)
    sent=$(body ".shots[$i].trigger_ns")
    expect_true "${IDS[$i]}: the simulator saw the command after it was sent ($(( (seen - sent) / 1000 )) us)" \
        "$seen > ${before[$i]} && $seen >= $sent"
done
expect "file names differ" "$(body '[.shots[].photos[0].file] | unique | length')" "3"
expect "a list of ids" "$(req POST /api/capture "{\"cameras\": [\"${IDS[2]}\", \"${IDS[0]}\"]}")" "201"
expect "... those two, in that order" "$(body '[.shots[].camera] | join(" ")')" "${IDS[2]} ${IDS[0]}"
expect "an unknown id: 404" "$(req POST /api/capture '{"cameras": ["nope"]}')" "404"
expect "a camera named twice: 400" "$(req POST /api/capture "{\"cameras\": [\"${IDS[1]}\", \"${IDS[1]}\"]}")" "400"
expect "cameras of the wrong type: 400" "$(req POST /api/capture '{"cameras": 3}')" "400"
count_captures() { [ "$(grep -c '^event: capture' events.txt)" -ge "$1" ]; }
within "the capture events came" 10 count_captures 5
for id in "${IDS[@]}"; do
    expect_match "an event about $id" "$(grep '^data:.*"photos"' events.txt)" "\"camera\":\"$id\""
done
kill "$EV" 2>/dev/null
wait "$EV" 2>/dev/null

# --- one camera lost: the others stream at full rate ------------------------------------------
# Both phases are measured alike (cameras 0 and 2 watched at once for 4 s),
# so the suite's load beside this test weighs on both.  A camera held up
# by the lost one (its reopen tried every 2 s) would be slow in every
# window; the suite's load is not: a window below the bar is measured
# again, up to three in all, and the best counts.  The bar is half the
# rate, not a measurement (bench/run-cameras measures it): under ASan
# beside the plain suite one 4 s window has come in at 0.49.
watch_two() {
    frames "${IDS[0]}" 4 >"$1-0" &
    local w=$!
    frames "${IDS[2]}" 4 >"$1-2"
    wait "$w"
}
rate_bar=0.5
# rate FILE: frames a second in a "frames seconds" file (0 for no time)
rate() { awk '{ print ($2 > 0 ? $1 / $2 : 0) }' "$1"; }
# reaches_bar K: camera K's fastest window after the unplug reached the bar
reaches_bar() {
    local n0 f0 n f
    read -r n0 f0 <"before-$1"
    read -r n f <"best-$1"
    awk "BEGIN { exit !($n >= $rate_bar * $n0 / $f0 * $f && $f >= 1) }"
}
watch_two before
ctl_post 1 /unplug
lost() { [ "$(is_connected "${IDS[1]}")" = false ]; }
within "the unplugged camera is seen lost" 15 lost
declare -A windows
for try in 1 2 3; do
    watch_two after
    for k in 0 2; do
        read -r n f <"after-$k"
        windows[$k]="${windows[$k]:-}${windows[$k]:+, }$n frames in $f s"
        [ "$try" = 1 ] || awk "BEGIN { exit !($(rate "after-$k") > $(rate "best-$k")) }" && cp "after-$k" "best-$k"
    done
    reaches_bar 0 && reaches_bar 2 && break
done
for k in 0 2; do
    read -r n0 f0 <"before-$k"
    rate_before=$(awk "BEGIN { print $n0 / $f0 }")
    if reaches_bar "$k"; then
        ok "${IDS[$k]} streams at full rate with ${IDS[1]} unplugged (${windows[$k]}; before: $rate_before/s)"
    else
        not_ok "${IDS[$k]} streams at full rate with ${IDS[1]} unplugged" \
            "${windows[$k]}; before: $rate_before/s; the bar: $rate_bar of that in the best window"
    fi
done
expect "the others still capture" "$(req POST /api/capture '{"cameras": "all"}')" "502"
expect "... the lost one says why" "$(body ".shots[1].error.code")" "camera_disconnected"
expect "... the others took theirs" "$(body '[.shots[0,2].photos | length] | map(tostring) | join(",")')" "1,1"
ctl_post 1 /plug
back() { [ "$(is_connected "${IDS[1]}")" = true ]; }
within "the camera comes back" 30 back

# --- autofocus on each camera with a focus drive, both at once; none on the other ----------------
for i in 0 1; do
    expect "${IDS[$i]}: autofocus starts" "$(req POST "/api/cameras/${IDS[$i]}/focus/auto")" "202"
done
expect "${IDS[2]}: autofocus without a focus drive: 400" "$(req POST "/api/cameras/${IDS[2]}/focus/auto")" "400"
expect_match "... says why" "$(body .error.message)" 'focus'
af_done() { curl -s "$URL/api/cameras/$1/focus" | jq -e '.running == null and .last.autofocus != null' >/dev/null; }
# Accuracy is focus_sim's (its trials run alone: autofocus decides on
# frames in real time, and the suite runs this test beside five others on
# two cores); here each must run to an answer on its own camera while the
# other runs, never fail on the drive or the camera.
af_bar='^(focused|no-peak|lost-peak)$'
for i in 0 1; do
    within "${IDS[$i]}: autofocus ends" 120 af_done "${IDS[$i]}"
    res=$(curl -s "$URL/api/cameras/${IDS[$i]}/focus")
    expect_match "${IDS[$i]} (${personas[$i]}): autofocus answers ($(jq -r .last.autofocus.message <<<"$res"))" \
        "$(jq -r .last.autofocus.status <<<"$res")" "$af_bar"
    tf=$(ctl_state "$i" .true_focus_position) pos=$(ctl_state "$i" .motor_position) dof=$(ctl_state "$i" .dof_half_steps)
    echo "    ${IDS[$i]}: the lens at $pos, focus at $tf, half the depth of field $dof"
done

# --- one camera frozen: it cannot take every worker --------------------------------------------
ctl_post 2 /freeze
frozen=()
for k in $(seq 1 8); do
    curl -s -o "frozen$k.json" -w '%{http_code}\n' --max-time 60 "$URL/api/cameras/${IDS[2]}/settings" >"frozen$k.code" &
    frozen+=($!)
done
refused() { cat frozen*.code 2>/dev/null | grep -q 503; }
within "beyond its share, the frozen camera's requests are refused (503)" 10 refused
expect_match "... camera_busy, with a message" "$(cat frozen*.json 2>/dev/null)" '"code":"camera_busy"'
start=$(date +%s.%N)
expect "meanwhile another camera's settings answer" "$(req GET "/api/cameras/${IDS[0]}/settings")" "200"
expect "... and its capture" "$(req POST "/api/cameras/${IDS[0]}/capture")" "201"
took=$(awk "BEGIN { print $(date +%s.%N) - $start }")
expect_true "... without waiting for the frozen one ($took s)" "$took < 20"
ctl_post 2 /thaw
wait "${frozen[@]}"

# --- adding and removing ------------------------------------------------------------------------
expect "DELETE /api/cameras/ID" "$(req DELETE "/api/cameras/${IDS[2]}")" "200"
expect "... says so" "$(body .removed)" "${IDS[2]}"
expect "... it is gone" "$(req GET "/api/cameras/${IDS[2]}")" "404"
expect "... two are left" "$(req GET /api/cameras >/dev/null; body '.cameras | length')" "2"
expect "DELETE an unknown id: 404" "$(req DELETE /api/cameras/nope)" "404"
expect "POST /api/cameras without a spec: 400" "$(req POST /api/cameras '{}')" "400"
expect "POST a bad spec: 400" "$(req POST /api/cameras '{"spec": "sim:toaster"}')" "400"
expect_match "... says why" "$(body .error.message)" 'unknown simulated camera'
expect "POST a camera already served: 409" "$(req POST /api/cameras "{\"spec\": \"ptpip:127.0.0.1:${SIMP[0]}\"}")" "409"
expect_match "POST one that does not answer: 502 or 504" "$(req POST /api/cameras '{"spec": "ptpip:127.0.0.1:1"}')" '^50[24]$' 
expect "POST the removed one again" "$(req POST /api/cameras "{\"spec\": \"ptpip:127.0.0.1:${SIMP[2]}\"}")" "201"
expect "... gets its id back" "$(body .id)" "${IDS[2]}"
expect "... and captures" "$(req POST "/api/cameras/${IDS[2]}/capture")" "201"
expect "removing the primary makes the next one primary" "$(req DELETE "/api/cameras/${IDS[0]}")" "200"
expect "... the old routes follow it" "$(req GET /api/status >/dev/null; body .camera.id)" "${IDS[1]}"
stop_serve "the studio with three cameras stops cleanly"

# --- three simulators in the process -----------------------------------------------------------
serve --camera sim --camera sim:nikon --camera sim:generic
expect "three in-process simulators" "$(req GET /api/cameras >/dev/null; body '[.cameras[].id] | join(" ")')" \
    "canon-eos-550d d750 simulated-ptp-camera"
# live view first, as the UI shows it (three full-size renderers starting
# at once in one process on a small machine can keep a simulator from
# answering libgphoto2 in time: docs/BENCHMARKS.md, "Several cameras")
for id in canon-eos-550d d750 simulated-ptp-camera; do
    expect "$id in the process: snapshot.jpg" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/cameras/$id/snapshot.jpg")" "200"
done
case $TETHER in
*asan* | *tsan*)
    # A sanitizer build's in-process simulators render full-size photos
    # (the Nikon's 24 MP) inside the server's process, and with the suite
    # beside it may outlast libgphoto2's waits: then a shot fails, and must
    # say why; the PTP/IP simulators above run from the plain build.
    code=$(req POST /api/capture '{"cameras": "all"}')
    expect_match "capture-all answers ($code)" "$code" '^(201|502)$'
    expect "... every shot a photo or a reason" \
        "$(body '[.shots[] | select((.photos | length) == 0 and (.error.message // "") == "")] | length')" "0"
    ;;
*)
    expect "capture-all" "$(req POST /api/capture '{"cameras": "all"}')" "201"
    expect "... one photo each" "$(body '[.shots[].photos | length] | map(tostring) | join(",")')" "1,1,1"
    expect "... no errors" "$(body '[.shots[] | select(.error) | .error.message] | join("; ")')" ""
    ;;
esac
stop_serve "the studio with three simulators stops cleanly"

# --- one camera: as before, on a catalog from before cameras had ids ------------------------------
rm -rf photos
mkdir -p photos/.tether photos/default/2026-11-22
cp "snap-${IDS[0]}.jpg" photos/default/2026-11-22/20261122-101530-IMG_0042.JPG
python3 - photos/.tether/catalog.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE photos(id INTEGER PRIMARY KEY, session TEXT, day TEXT, rel TEXT UNIQUE,
  thumb TEXT, camera_path TEXT, camera TEXT, taken INTEGER, size INTEGER, width INTEGER, height INTEGER);
INSERT INTO photos(session, day, rel, thumb, camera_path, camera, taken, size, width, height)
  VALUES('default', '2026-11-22', 'default/2026-11-22/20261122-101530-IMG_0042.JPG', '', '/capt0000.jpg',
         'Canon EOS 550D', 1795300000, 1000, 1056, 704);
""")
db.commit()
PY
serve --camera "ptpip:127.0.0.1:${SIMP[0]}"
expect "an old catalog opens" "$(req GET '/api/photos?session=default&day=2026-11-22')" "200"
expect "... its photo is listed with its model as camera" "$(body '.photos[0] | [.camera, .camera_identity] | join(",")')" "Canon EOS 550D,"
expect "one camera: capture" "$(req POST /api/capture)" "201"
expect_match "... named as before (no camera id)" "$(body '.photos[0].file')" '^[0-9]{8}-[0-9]{6}-[^-]+$'
expect "... catalogued with the camera's id and identity" "$(body '.photos[0] | [.camera, (.camera_identity | startswith("Canon EOS 550D"))] | map(tostring) | join(",")')" "canon-eos-550d,true"
id=$(body '.photos[0].id')
stop_serve "the studio with one camera stops cleanly"
serve --camera "ptpip:127.0.0.1:${SIMP[0]}"
expect "after a restart the photo keeps its camera" "$(req GET "/api/photos/$id" >/dev/null; body .camera)" "canon-eos-550d"
stop_serve "the studio restarted stops cleanly"
for i in 2 1 0; do
    SIM_PID=${T_SIMS[$i]}
    SIM_LOG="$T_DIR/sim$i.log"
    sim_stop "simulator ${personas[$i]} exits cleanly"
done
