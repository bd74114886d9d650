# The studio's focus tools over HTTP (curl + jq) against `tether serve` on
# `tether sim ptpip`, whose control channel tells where the lens and the
# subject really are: the focus area (set, read, refused when it makes no
# sense), autofocus in a worker with progress and result events (the lens
# ends at the subject), cancel, one tool at a time (409), trap focus on,
# off, fired and timed out, focus stacks with and without enfuse, the
# sharpness measure, the focus drive, and a clean stop with a tool running.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --photo-size 1296x864 --files 0 || exit 1

focus() { curl -s "$URL/api/focus" | jq -r "$1"; }
wait_idle() { wait_api_idle /api/focus "$1" 0.25; } # SECONDS: until no focus tool runs
# defocus: drives the lens ~120 steps away from the subject with the API
defocus() {
    local dir
    dir=$(awk -v m="$(state .motor_position)" -v t="$(state .true_focus_position)" 'BEGIN { print (m > t ? "near" : "far") }')
    req POST /api/focus/drive "{\"direction\": \"$dir\", \"step\": 3, \"count\": 4}"
}
lens_off() { awk -v m="$(state .motor_position)" -v t="$(state .true_focus_position)" 'BEGIN { d = m - t; print (d < 0 ? -d : d) }'; }

start_serve
expect_match "serve starts" "$(cat serve.out)" '^studio on http://127.0.0.1:[0-9]+/'
timeout 300 curl -s -N "$URL/api/events" >events.txt &
listener=$!
events_open

# --- state and the focus area ---------------------------------------------------------
expect "GET /api/focus" "$(req GET /api/focus)" "200"
expect "the default area is the central 20 %" "$(body '.area | "\(.x) \(.y) \(.w) \(.h)"')" "0.4 0.4 0.2 0.2"
expect "nothing runs" "$(body .running)" "null"
expect "no results yet" "$(body '.last | [.autofocus, .trap, .stack] | map(select(. != null)) | length')" "0"
expect "it says whether enfuse is installed" "$(body .enfuse)" "$(command -v enfuse >/dev/null && echo true || echo false)"
expect "PUT /api/focus/area" "$(req PUT /api/focus/area '{"x": 0.1, "y": 0.15, "w": 0.25, "h": 0.3}')" "200"
expect "... answers the area" "$(body '.area | "\(.x) \(.y) \(.w) \(.h)"')" "0.1 0.15 0.25 0.3"
expect "GET /api/focus/area" "$(req GET /api/focus/area)" "200"
expect "... has it" "$(body '.area | "\(.x) \(.y) \(.w) \(.h)"')" "0.1 0.15 0.25 0.3"
expect "POST /api/focus/area works too" "$(req POST /api/focus/area '{"x": 0.4, "y": 0.4, "w": 0.2, "h": 0.2}')" "200"
expect "GET /api/focus has it" "$(focus '.area | "\(.x) \(.y) \(.w) \(.h)"')" "0.4 0.4 0.2 0.2"
expect "an area reaching outside the frame: 400" "$(req PUT /api/focus/area '{"x": 0.9, "y": 0.1, "w": 0.2, "h": 0.2}')" "400"
expect "... bad_value" "$(body .error.code)" "bad_value"
expect_match "... says why" "$(body .error.message)" 'outside the frame'
expect "too small: 400" "$(req PUT /api/focus/area '{"x": 0.1, "y": 0.1, "w": 0.02, "h": 0.2}')" "400"
expect_match "... says why" "$(body .error.message)" 'too small'
expect "negative: 400" "$(req PUT /api/focus/area '{"x": -0.1, "y": 0.1, "w": 0.2, "h": 0.2}')" "400"
expect "more than 1: 400" "$(req PUT /api/focus/area '{"x": 0.1, "y": 0.1, "w": 1.2, "h": 0.2}')" "400"
expect "not a number: 400" "$(req PUT /api/focus/area '{"x": "left", "y": 0.1, "w": 0.2, "h": 0.2}')" "400"
expect "a missing field: 400" "$(req PUT /api/focus/area '{"x": 0.1, "y": 0.1, "w": 0.2}')" "400"
expect_match "... named" "$(body .error.message)" '"h"'
expect "not an object: 400" "$(req PUT /api/focus/area '[0.1, 0.1, 0.2, 0.2]')" "400"
expect "no body: 400" "$(req PUT /api/focus/area)" "400"
expect "the area is unchanged" "$(focus '.area | "\(.x) \(.y) \(.w) \(.h)"')" "0.4 0.4 0.2 0.2"

# --- bad requests to the tools: 4xx JSON, nothing starts -----------------------------------
expect "AF: unknown mode: 400" "$(req POST /api/focus/auto '{"mode": "closest"}')" "400"
expect_match "... lists the modes" "$(body .error.message)" 'global.*nearest'
expect "AF: a bad roi: 400" "$(req POST /api/focus/auto '{"roi": {"x": 0.5, "y": 0.5, "w": 0.6, "h": 0.1}}')" "400"
expect "AF: malformed JSON: 400" "$(req POST /api/focus/auto '{"mode": ')" "400"
expect "trap: no \"on\": 400" "$(req POST /api/focus/trap '{}')" "400"
expect "trap: zoom 3: 400" "$(req POST /api/focus/trap '{"on": true, "zoom": 3}')" "400"
expect "trap: negative lag: 400" "$(req POST /api/focus/trap '{"on": true, "lag_ms": -5}')" "400"
expect "stack: one picture: 400" "$(req POST /api/focus/stack '{"count": 1, "span": 20}')" "400"
expect "stack: a fractional count: 400" "$(req POST /api/focus/stack '{"count": 2.5, "span": 20}')" "400"
expect "stack: no span: 400" "$(req POST /api/focus/stack '{"count": 3}')" "400"
expect "stack: span 0: 400" "$(req POST /api/focus/stack '{"count": 3, "span": 0}')" "400"
expect "stack: direction up: 400" "$(req POST /api/focus/stack '{"count": 3, "span": 20, "direction": "up"}')" "400"
expect "stack: merge \"yes\": 400" "$(req POST /api/focus/stack '{"count": 3, "span": 20, "merge": "yes"}')" "400"
expect "drive: sideways: 400" "$(req POST /api/focus/drive '{"direction": "sideways"}')" "400"
expect "drive: step 4: 400" "$(req POST /api/focus/drive '{"direction": "near", "step": 4}')" "400"
expect "GET /api/focus/auto: 405" "$(req GET /api/focus/auto)" "405"
expect "DELETE /api/focus: 405" "$(req DELETE /api/focus)" "405"
expect "POST /api/focus/measure: 405" "$(req POST /api/focus/measure)" "405"
expect "unknown focus route: 404" "$(req POST /api/focus/warp)" "404"
expect "cross-site AF: 403" "$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Origin: http://evil.example' "$URL/api/focus/auto")" "403"
expect "none of that started anything" "$(focus .running)" "null"
expect "cancel with nothing running" "$(req POST /api/focus/cancel)" "200"
expect "... says so" "$(body .cancelled)" "false"

# --- autofocus ------------------------------------------------------------------------------
expect "drive the lens out of focus (POST /api/focus/drive)" "$(defocus)" "200"
until_ok 30 lens_still
off=$(lens_off)
expect_true "the lens is far from the subject ($off steps)" "$off > 60"
expect "GET /api/focus/measure" "$(req GET /api/focus/measure)" "200"
m0=$(body .tenengrad)
expect_true "... measures the focus area ($(body .roi_width)x$(body .roi_height) px)" "$(body .roi_width) > 100 && $(body .roi_height) > 60"
t0=$(date +%s)
expect "POST /api/focus/auto: 202" "$(req POST /api/focus/auto '{"mode": "global"}')" "202"
expect "... with the job" "$(body '.job.tool + " " + .job.options.mode')" "autofocus global"
job=$(body .job.id)
expect "a second AF: 409" "$(req POST /api/focus/auto)" "409"
expect "... focus_busy" "$(body .error.code)" "focus_busy"
expect "a stack meanwhile: 409" "$(req POST /api/focus/stack '{"count": 3, "span": 20}')" "409"
expect "trap focus meanwhile: 409" "$(req POST /api/focus/trap '{"on": true}')" "409"
expect "the focus drive meanwhile: 409" "$(req POST /api/focus/drive '{"direction": "near"}')" "409"
expect "GET /api/focus shows it running" "$(focus .running.tool)" "autofocus"
expect "the live stream keeps flowing meanwhile" "$(curl -s -o snap.jpg -w '%{http_code}' "$URL/snapshot.jpg")" "200"
if wait_idle 120; then ok "AF ends ($(($(date +%s) - t0)) s)"; else not_ok "AF ends" "still running after 120 s"; fi
expect "AF: status focused" "$(focus .last.autofocus.status)" "focused"
expect "... focused: true" "$(focus .last.autofocus.focused)" "true"
expect "... the result names its job" "$(focus .last.autofocus.job)" "$job"
expect_match "... with a message" "$(focus .last.autofocus.message)" '^Focused'
off=$(lens_off)
expect_true "the lens is at the subject ($off steps off; sim true_focus_position $(state .true_focus_position))" "$off <= 5"
req GET /api/focus/measure >/dev/null
m1=$(body .tenengrad)
expect_true "much sharper than before ($m0 -> $m1)" "$m1 > 10 * $m0"

# --- cancel -------------------------------------------------------------------------------------
defocus >/dev/null
expect "AF again" "$(req POST /api/focus/auto '{"mode": "nearest"}')" "202"
sleep 2
c0=$(date +%s.%N)
expect "POST /api/focus/cancel" "$(req POST /api/focus/cancel)" "200"
expect "... names the job" "$(body '.cancelled | tostring') $(body .job.tool)" "true autofocus"
wait_idle 30
took=$(awk -v a="$c0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect_true "a cancelled AF stops quickly (${took} s)" "$took < 3"
expect "... with status cancelled" "$(focus .last.autofocus.status)" "cancelled"
expect_match "... and says so" "$(focus .last.autofocus.message)" 'cancelled'

# --- trap focus ---------------------------------------------------------------------------------
shots=$(state .shots)
expect "trap focus on" "$(req POST /api/focus/trap '{"on": true, "timeout_s": 60}')" "202"
# watching, or already armed if the first frames swung (under the sanitizers)
trap_watching() { case $(focus .running.progress.stage) in watching | armed) return 0 ;; esac; return 1; }
until_ok 60 trap_watching
expect_match "it is watching" "$(focus '.running.tool + " " + .running.progress.stage')" '^trap (watching|armed)$'
expect "trap focus off" "$(req POST /api/focus/trap '{"on": false}')" "200"
expect "... stops the trap" "$(body .stopping.tool)" "trap"
wait_idle 10
expect "the trap is off: cancelled" "$(focus .last.trap.status)" "cancelled"
expect "... did not fire" "$(focus .last.trap.fired)" "false"
expect "off when it is off: 200" "$(req POST /api/focus/trap '{"on": false}')" "200"
expect "... nothing to stop" "$(body .stopping)" "null"
expect "trap with a 1 s timeout" "$(req POST /api/focus/trap '{"on": true, "timeout_s": 1}')" "202"
wait_idle 10
expect "... times out" "$(focus .last.trap.status)" "timeout"
expect "no picture was taken" "$(state .shots)" "$shots"
n=$(req GET /api/photos >/dev/null; body .total)
post /lens "{\"position\": $(awk -v t="$(state .true_focus_position)" 'BEGIN { print t - 100 }')}" >/dev/null
expect "trap focus on (zoom 1, lag 80 ms)" "$(req POST /api/focus/trap '{"on": true, "zoom": 1, "lag_ms": 80, "timeout_s": 30}')" "202"
sleep 1
# Someone turns the focus ring through focus, and back if it did not fire
# (a person would: the trap learns the peak on the way).  On a loaded
# machine (sanitizers, other jobs) the frame rate drops and a pass may go
# by; three are allowed.
expect "someone turns the focus ring through focus" "$(post /focus/ring '{"speed": 40, "duration": 5}')" "200"
pass=1
until wait_idle 8; do
    [ $pass = 3 ] && break
    pass=$((pass + 1))
    post /focus/ring "{\"speed\": $([ $((pass % 2)) = 0 ] && echo -40 || echo 40), \"duration\": 5}" >/dev/null
done
if [ "$(focus .running.tool)" = trap ]; then # leave nothing running for what follows
    req POST /api/focus/cancel >/dev/null
    wait_idle 10
fi
expect "trap: fired (on pass $pass of the ring)" "$(focus .last.trap.status)" "fired"
expect_match "... says why" "$(focus .last.trap.reason)" '^Fired'
expect "the picture went to the session's folder" "$(focus '.last.trap.photos[0].url' | grep -Ec '^/photos/default/[0-9]{4}-[0-9]{2}-[0-9]{2}/')" "1"
expect "... and the catalog" "$(req GET /api/photos >/dev/null; body .total)" "$((n + 1))"
expect "... and downloads" "$(curl -s -o trap.jpg -w '%{http_code}' "$URL$(focus '.last.trap.photos[0].url')")" "200"
defocus_shot=$(state '.last_shot.defocus | if . < 0 then -. else . end')
if [ $pass = 1 ]; then
    expect_true "the picture is in focus (defocus $defocus_shot, depth of field ±$(state .last_shot.dof_half_steps))" \
        "$defocus_shot <= $(state .last_shot.dof_half_steps)"
elif [ "$(focus .last.trap.status)" = fired ]; then
    # Later passes fire from the peak learnt on the first (the library's
    # prediction, tested by its own tests); here it is reported.
    echo "note: trap focus fired on pass $pass, $defocus_shot steps from focus (depth of field ±$(state .last_shot.dof_half_steps))"
fi
sleep 4 # the ring stops

# --- focus stacking ---------------------------------------------------------------------------------
shots=$(state .shots)
n=$(req GET /api/photos >/dev/null; body .total)
expect "POST /api/focus/stack (3 pictures over 20 steps, merged)" \
    "$(req POST /api/focus/stack '{"count": 3, "span": 20, "direction": "near", "merge": true}')" "202"
wait_idle 90
expect "stack: done" "$(focus .last.stack.status)" "done"
expect "3 pictures taken" "$(focus .last.stack.taken) $(($(state .shots) - shots))" "3 3"
folder=$(focus .last.stack.folder)
expect_match "in a stack folder of the session's day" "$folder" '^default/[0-9]{4}-[0-9]{2}-[0-9]{2}/stack-[0-9]{8}-[0-9]{6}'
expect "3 frames in the folder" "$(ls "$T_DIR/photos/$folder" | grep -vc '^merged.jpg$')" "3"
if command -v enfuse >/dev/null; then
    expect "merged.jpg made by enfuse" "$(ls "$T_DIR/photos/$folder/merged.jpg" 2>/dev/null | wc -l)" "1"
    expect "... it is a full-size picture" "$("$TESTTOOL" jpeg "$T_DIR/photos/$folder/merged.jpg")" "1296x864"
    expect "... served" "$(curl -s -o /dev/null -w '%{http_code}' "$URL$(focus .last.stack.merged)")" "200"
    expect_match "the message says where" "$(focus .last.stack.message)" "merged into $folder/merged.jpg"
    expect "frames and merged picture are in the catalog" "$(req GET /api/photos >/dev/null; body .total)" "$((n + 4))"
else
    not_ok "enfuse is installed for the tests (scripts/install-deps check)"
fi
n=$(req GET /api/photos >/dev/null; body .total)
expect "a stack without merging" "$(req POST /api/focus/stack '{"count": 3, "span": 20, "direction": "far", "merge": false}')" "202"
wait_idle 90
expect "... done" "$(focus '.last.stack | "\(.status) \(.taken) \(.merged)"')" "done 3 null"
expect_match "... its message" "$(focus .last.stack.message)" '^3 pictures, 10.0 steps apart, in default/'
expect "... no merged.jpg" "$(ls "$T_DIR/photos/$(focus .last.stack.folder)" | grep -c merged)" "0"
expect "... 3 photos in the catalog" "$(req GET /api/photos >/dev/null; body .total)" "$((n + 3))"
expect "a stack to cancel" "$(req POST /api/focus/stack '{"count": 8, "span": 80}')" "202"
sleep 1.5
req POST /api/focus/cancel >/dev/null
wait_idle 20
expect "... cancelled" "$(focus .last.stack.status)" "cancelled"
expect_match "... says how far it got" "$(focus .last.stack.message)" '^Cancelled after [0-9] of 8 pictures'

# --- events ----------------------------------------------------------------------------------------------
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
expect_match "SSE: focus_area" "$(cat events.txt)" 'event: focus_area'
expect_match "SSE: AF progress" "$(grep '^data:' events.txt)" '"type":"focus".*"tool":"autofocus","stage":"(homing|sweep)","frames":[0-9]+,"measure"'
expect_match "SSE: AF progress with a fraction" "$(grep '^data:' events.txt)" '"tool":"autofocus","stage":"[a-z]+".*"fraction":0\.[0-9]+'
expect_match "SSE: the AF result" "$(grep '^data:' events.txt)" '"type":"focus_result".*"tool":"autofocus","status":"focused"'
expect_match "SSE: the cancelled AF" "$(grep '^data:' events.txt)" '"type":"focus_result".*"tool":"autofocus","status":"cancelled"'
expect_match "SSE: trap progress" "$(grep '^data:' events.txt)" '"tool":"trap","stage":"armed"'
expect_match "SSE: the trap's picture" "$(grep '^data:' events.txt)" '"type":"capture".*"source":"trap"'
expect_match "SSE: the stack's pictures" "$(grep '^data:' events.txt)" '"type":"capture".*"source":"stack"'
expect_match "SSE: the stack result" "$(grep '^data:' events.txt)" '"type":"focus_result".*"tool":"stack","status":"done"'

# --- stopping the server while a tool runs ------------------------------------------------------------
expect "AF, then the server is stopped" "$(req POST /api/focus/auto)" "202"
sleep 1
stop_serve "serve stops cleanly with AF running"

# --- no enfuse: the frames are kept and the message says how to merge ------------------------------
session_closed() { [ "$(state .session_open)" = false ]; }
until_ok 60 session_closed # the camera lets go
SERVE_ENV="PATH=/nonexistent" start_serve
expect_match "serve starts without enfuse in PATH" "$(cat serve.out) $(tail -n 3 serve.err)" '^studio on http://127.0.0.1:[0-9]+/'
expect "without enfuse in PATH, GET /api/focus says so" "$(focus .enfuse)" "false"
expect "a merged stack without enfuse" "$(req POST /api/focus/stack '{"count": 3, "span": 20, "merge": true}')" "202"
wait_idle 90
expect "... done, not merged" "$(focus '.last.stack | "\(.status) \(.taken) \(.merged)"')" "done 3 null"
expect_match "... the message says how to merge" "$(focus .last.stack.message)" 'enfuse is not installed.*merge with: enfuse'
expect "... the frames are kept" "$(ls "$T_DIR/photos/$(focus .last.stack.folder)" | grep -c '\.jpg$')" "3"
stop_serve "serve stops cleanly (no enfuse)"
sim_stop "simulator exits cleanly after the focus tests"
