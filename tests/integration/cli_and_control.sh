# The tether program's command line, and the simulator's start-up, control
# channel and focus-ring model as seen from outside; the control channel
# serves the tester's tools only, not a web page in a browser on the same
# machine (cross-site POSTs, other Origins, a foreign Host: DNS rebinding).
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"

out=$("$TETHER" --help)
expect_match "tether --help lists the commands" "$out" 'sim +run a simulated camera'
expect_match "tether --version" "$("$TETHER" --version)" '^tether [0-9]+\.[0-9]+\.[0-9]+$'
"$TETHER" frobnicate >/dev/null 2>err.txt
expect "unknown command: exit status 2" "$?" "2"
expect_match "unknown command: one clear line" "$(cat err.txt)" "^tether: unknown command 'frobnicate'"
"$TETHER" sim ptpip --persona leica >/dev/null 2>err.txt
expect "unknown persona: exit status 2" "$?" "2"
expect_match "unknown persona is named" "$(cat err.txt)" "invalid value for --persona: 'leica'"
"$TETHER" sim ptpip --photo-size 1001x700 >/dev/null 2>&1
expect "odd photo size is refused" "$?" "2"
"$TETHER" sim ptpip --listen nonsense >/dev/null 2>&1
expect "malformed address is refused" "$?" "2"
expect_match "sim --help documents the faults" "$("$TETHER" sim ptpip --help)" '--busy-rate P'

sim_start --persona canon-eos --seed 21 --focus-at 0.5 --lens-start 0.3 --backlash 3 --lens-range 700 || exit 1
expect_match "prints the port it got" "$SIM_PORT" '^[0-9]+$'
st=$(curl -sf "http://127.0.0.1:$CTL_PORT/state")
for k in motor_position true_focus_position shots connected plugged persona settings lens frames; do
    expect "state has $k" "$(jq "has(\"$k\")" <<<"$st")" "true"
done
expect "lens range as configured" "$(jq .lens.range <<<"$st")" "700"
expect "backlash as configured" "$(jq .lens.backlash <<<"$st")" "3"
expect "true focus at half the range" "$(jq .true_focus_position <<<"$st")" "350"
expect_true "lens starts at 0.3 of the range" "$(jq .motor_position <<<"$st") == 210"

# the focus ring turned by hand: 40 steps/s for 2.5 s. The window is wide so
# that a loaded machine (sanitizers, parallel suites) cannot miss the motion.
expect "turn the ring" "$(post /focus/ring '{"speed": 40, "duration": 2.5}')" "200"
sleep 0.5
mid=$(state .motor_position)
moving=$(state .lens.moving)
expect_true "the ring is moving ($mid)" "$mid > 210 && $mid < 310"
expect "lens reports motion" "$moving" "true"
until_ok 30 lens_still
expect_true "the ring stops after its time ($(state .motor_position))" "$(state .motor_position) == 310"
expect "put the lens somewhere" "$(post /lens '{"position": 100}')" "200"
expect_true "lens moved" "$(state .motor_position) == 100"
expect "move the subject" "$(post /subject '{"position": 420}')" "200"
expect_true "focus follows the subject" "$(state .true_focus_position) == 420"

# --- the control channel refuses what a web page could send ------------------------------------------
C="http://127.0.0.1:$CTL_PORT"
code() { curl -s -o "$T_DIR/ctl.out" -w '%{http_code}' "$@"; }
json=(-H 'Content-Type: application/json')
expect "a JSON body with Content-Type: application/json is taken" "$(code -X POST "${json[@]}" --data '{"position": 120}' "$C/lens")" "200"
expect "... also with a charset" \
    "$(code -X POST -H 'Content-Type: application/json; charset=utf-8' --data '{"position": 121}' "$C/lens")" "200"
expect "a body sent as a form (curl's default) is refused" "$(code -X POST --data '{"position": 5}' "$C/lens")" "415"
expect_match "... saying why" "$(cat "$T_DIR/ctl.out")" 'application/json'
expect "a text/plain body is refused" "$(code -X POST -H 'Content-Type: text/plain' --data '{"position": 5}' "$C/lens")" "415"
expect "a chunked form body is refused" \
    "$(code -X POST -H 'Transfer-Encoding: chunked' -H 'Content-Type: text/plain' --data '{"position": 5}' "$C/lens")" "415"
expect_true "refused bodies moved nothing ($(state .motor_position))" "$(state .motor_position) == 121"
shots=$(state .shots)
expect "a POST without a body from curl is taken (the shutter)" "$(code -X POST "$C/shutter")" "200"
for _ in $(seq 50); do [ "$(state .shots)" -gt "$shots" ] && break; sleep 0.1; done
expect_true "... and the camera took the picture" "$(state .shots) > $shots"
expect "another Origin is refused" "$(code -X POST -H 'Origin: http://evil.example' "$C/unplug")" "403"
expect_match "... saying why" "$(cat "$T_DIR/ctl.out")" 'Origin'
expect "Origin null (a sandboxed page) is refused" "$(code -X POST -H 'Origin: null' "$C/unplug")" "403"
expect "another port of 127.0.0.1 is another origin" "$(code -X POST -H "Origin: http://127.0.0.1:$SIM_PORT" "$C/unplug")" "403"
expect "Sec-Fetch-Site: cross-site is refused" "$(code -X POST -H 'Sec-Fetch-Site: cross-site' "$C/unplug")" "403"
expect "Sec-Fetch-Site: same-site is refused too" "$(code -X POST -H 'Sec-Fetch-Site: same-site' "$C/unplug")" "403"
expect "a form POSTed from another site is refused" \
    "$(code -X POST -H 'Origin: https://evil.example' -H 'Sec-Fetch-Site: cross-site' --data 'x=1' "$C/unplug")" "403"
expect "a foreign Host (DNS rebinding) is refused" "$(code -X POST -H "Host: evil.example:$CTL_PORT" "$C/unplug")" "403"
expect_match "... saying why" "$(cat "$T_DIR/ctl.out")" 'Host'
expect "... also for GET /state" "$(code -H "Host: evil.example:$CTL_PORT" "$C/state")" "403"
expect "a Host with another port is refused" "$(code -H "Host: 127.0.0.1:$SIM_PORT" "$C/state")" "403"
expect "the camera is still plugged in after all that" "$(state .plugged)" "true"
expect "its own Origin is taken" \
    "$(code -X POST "${json[@]}" -H "Origin: $C" -H 'Sec-Fetch-Site: same-origin' --data '{"position": 100}' "$C/lens")" "200"
expect "Host localhost with the channel's port is taken" "$(code -H "Host: localhost:$CTL_PORT" "$C/state")" "200"

# same seed, same camera
a=$(state .serial)
sim_stop "first simulator stops on SIGTERM"
sim_start --persona canon-eos --seed 21 || exit 1
expect "the same seed gives the same body" "$(state .serial)" "$a"
sim_stop "second simulator stops on SIGTERM"
