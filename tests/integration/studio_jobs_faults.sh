# The studio's import and time-lapse under attack and faults (issue 11),
# over HTTP against `tether serve` on `tether sim ptpip`: every JSON field
# of POST /api/import and /api/interval with the wrong type, null, huge,
# negative or out of range is a 400 with a message (never a crash); a
# time-lapse resumed from a schedule a month old skips the missed slots in
# one step and still stops, on request and on SIGTERM; a stop asked while
# a capture is in flight is saved at once (a server killed then does not
# continue the run); an import into a folder that cannot be written, or
# onto a full disk, ends "failed" with the reason, resumable; a state
# file that cannot be written is said so, never acknowledged.
#
# The storage faults run the server in a mount namespace of its own
# (unshare -m) over a read-only bind mount or a small tmpfs: root ignores
# permission bits.  Without unshare they are skipped.  Waits are on state
# (the API, a file, a process), with generous deadlines for a loaded
# machine running ASan.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --files 21 --photo-size 640x480 --raw-size 300000 || exit 1

serving() { grep -q '^studio on' serve.out; }
gone() { ! kill -0 "$1" 2>/dev/null; }
api_is() { [ "$(curl -s "$URL$1" | jq -r "$2")" = true ]; } # ROUTE JQ-TEST
iv() { curl -s "$URL/api/interval" | jq -r "$1"; }
imp() { curl -s "$URL/api/import" | jq -r "$1"; }
connected() { api_is /api/status '.camera.connected'; }
# serve: start_serve, then waits for this server's banner (serve.out goes
# first: the last server's banner is no sign of this one) and its camera
serve() {
    rm -f serve.out
    start_serve "$@"
    until_ok 60 serving && until_ok 60 connected || not_ok "the server starts" "$(tail -n 3 serve.err | tr '\n' ' ')"
}
# serve_ns SETUP: the server in a mount namespace of its own, after the
# shell commands SETUP (run in T_DIR) mounted something; `in_ns CMD...`
# runs a command in that namespace.  Sets SERVE and URL as start_serve does.
serve_ns() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -f serve.out
    unshare -m sh -c "$1"' && exec "$0" --camera "ptpip:127.0.0.1:$1" serve --listen "127.0.0.1:$2" --photos "$3"' \
        "$TETHER" "$SIM_PORT" "$port" "$T_DIR/photos" >serve.out 2>serve.err &
    SERVE=$!
    T_SIMS+=("$SERVE")
    URL="http://127.0.0.1:$port"
    until_ok 60 serving && until_ok 60 connected ||
        not_ok "the server starts in its namespace" "$(tail -n 3 serve.err | tr '\n' ' ')"
}
in_ns() { nsenter -t "$SERVE" -m "$@"; }
# stop NAME: stop_serve, but a server still there 60 s after SIGTERM fails (and is killed) instead of hanging
stop() {
    kill -TERM "$SERVE"
    if until_ok 60 gone "$SERVE"; then
        stop_serve "$1" 2>/dev/null # (its SIGTERM finds the server gone)
    else
        not_ok "$1" "still running 60 s after SIGTERM"
        kill -KILL "$SERVE"
        wait "$SERVE" 2>/dev/null
    fi
}
# fill_disk: fills the tmpfs over the photo folder in the server's namespace (never another disk)
fill_disk() { in_ns sh -c 'mountpoint -q "$1" && cat /dev/zero >"$1/fill"' sh "$T_DIR/photos" 2>/dev/null; }
unfill_disk() { in_ns rm -f "$T_DIR/photos/fill"; }
day=$(date +%Y-%m-%d) # the server's day folder (TZ=UTC here and there)
mkdir -p "photos/default/$day"
ns_ok=false
mkdir -p nscheck && unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs nscheck && mount --bind nscheck nscheck &&
    mount -o remount,bind,ro nscheck' 2>/dev/null && command -v nsenter >/dev/null && ns_ok=true

serve
timeout 600 curl -s -N "$URL/api/events" >events.txt &
events_open

# --- every field of the bodies, hostile -------------------------------------------------------------
bad() { # ROUTE BODY: a 400 with a message, and the server still there
    local code
    code=$(req POST "$1" "$2")
    if [ "$code" = 400 ] && [ -n "$(jq -r '.error.message // empty' body.json 2>/dev/null)" ]; then
        ok "POST $1 $2 is a 400 with a message"
    else
        not_ok "POST $1 $2 is a 400 with a message" "got $code $(head -c 200 body.json 2>/dev/null)"
    fi
}
for b in '{"mode": 1}' '{"mode": null}' '{"mode": true}' '{"mode": []}' '{"mode": {}}' '{"mode": 1e308}' \
    '{"mode": "ALL"}' '{"delete": null}' '{"delete": "true"}' '{"delete": 1}' '{"fresh": null}' '{"fresh": 0}' \
    '{"fresh": "yes"}' '{"mode": NaN}' '[]' '"all"'; do
    bad /api/import "$b"
done
now=$(date +%s)
for b in '{"interval_s": null}' '{"interval_s": "1"}' '{"interval_s": true}' '{"interval_s": [1]}' \
    '{"interval_s": {}}' '{"interval_s": -1}' '{"interval_s": -0.0}' '{"interval_s": 0}' '{"interval_s": 0.1}' \
    '{"interval_s": 1e308}' '{"interval_s": 1e400}' '{"interval_s": 86401}' '{"interval_s": NaN}' \
    '{"interval_s": 1, "count": null}' '{"interval_s": 1, "count": 1.5}' '{"interval_s": 1, "count": 1e20}' \
    '{"interval_s": 1, "count": "5"}' '{"interval_s": 1, "count": 9223372036854775807}' \
    '{"interval_s": 1, "count": -9223372036854775808}' '{"interval_s": 1, "count": 1000001}' \
    '{"interval_s": 0.1, "start_epoch": 1}' '{"interval_s": 1, "start_epoch": 1}' '{"interval_s": 1, "start_epoch": -1}' \
    '{"interval_s": 1, "start_epoch": 1e308}' '{"interval_s": 1, "start_epoch": "now"}' \
    '{"interval_s": 1, "start_epoch": true}' "{\"interval_s\": 1, \"start_epoch\": $((now - 3600))}" \
    "{\"interval_s\": 1, \"start_epoch\": $((now + 400 * 86400))}"; do
    bad /api/interval "$b"
done
check "the server is alive after the hostile bodies" kill -0 "$SERVE"
expect "no import and no time-lapse started" "$(imp '[.running, .last] | @json') $(iv '[.running, .last] | @json')" \
    "[null,null] [null,null]"

# --- a start in the last minute: the slots already passed are missed in one step --------------------
expect "a run that started 20 s ago" "$(req POST /api/interval "{\"interval_s\": 0.5, \"count\": 3, \"start_epoch\": $(($(date +%s) - 20))}")" "202"
until_ok 30 api_is /api/interval '.running == null' && ok "... ends" || not_ok "... ends"
expect "its 3 slots are missed, none taken" "$(iv '.last | [.status, .taken, .missed, .next_slot] | @json')" '["done",0,3,3]'
until_ok 10 grep -q '"event":"missed"' events.txt
expect "... reported as one event of 3 slots" \
    "$(grep '"event":"missed"' events.txt | sed 's/^data: //' | jq -c '.data | [.slot, .slots]')" "[0,3]"

# --- a run from a month ago, continued at start: skipped in one step, and it stops ---------------------
stop "serve stops cleanly"
month_ago=$(($(date +%s) - 30 * 86400))
write_stale_state() {
    printf '{"interval_s":1,"start_epoch":%s,"count":0,"next_slot":0,"session":"default","day":"%s","running":true}' \
        "$month_ago" "$day" >photos/.tether/interval.json
}
write_stale_state
serve
expect "the server continues the month-old run" "$(iv '.running.start_epoch')" "$month_ago"
until_ok 30 api_is /api/interval '.running.counts.missed >= 2591000' &&
    ok "the month of missed slots is counted at once ($(iv .running.counts.missed))" ||
    not_ok "the month of missed slots is counted at once" "$(iv .running.counts)"
expect "POST /api/interval/stop" "$(req POST /api/interval/stop; echo " $(body .stopping)")" "200 true"
until_ok 30 api_is /api/interval '.running == null' && ok "... the run stops" || not_ok "... the run stops"
expect "status stopped" "$(iv .last.status)" "stopped"
expect "the state file says it is over" "$(jq .running photos/.tether/interval.json)" "false"
expect "a new run can start" "$(req POST /api/interval '{"interval_s": 1, "count": 1}')" "202"
until_ok 30 api_is /api/interval '.running == null'
stop "serve stops cleanly after the month-old run"
# the same, stopped by SIGTERM
write_stale_state
serve
until_ok 30 api_is /api/interval '.running.counts.missed >= 2591000'
kill -TERM "$SERVE"
if until_ok 30 gone "$SERVE"; then
    ok "SIGTERM ends a server running a month-old schedule"
    wait "$SERVE"
    expect "... cleanly" "$?" "0"
else
    not_ok "SIGTERM ends a server running a month-old schedule" "still alive after 30 s"
    kill -KILL "$SERVE"
    wait "$SERVE" 2>/dev/null
fi
expect "... leaving the run to continue" "$(jq .running photos/.tether/interval.json)" "true"
rm photos/.tether/interval.json

# --- a stop while a capture is in flight is saved at once -------------------------------------------
serve
expect "a run at 1 s" "$(req POST /api/interval '{"interval_s": 1, "count": 0}')" "202"
start_epoch=$(body .run.start_epoch)
until_ok 60 api_is /api/interval '.running.counts.taken >= 1' || not_ok "the run takes a picture"
expect "the shutter is set to 15 s (captures take that long)" \
    "$(post /body/setting '{"name": "shutterspeed", "value": "15"}')" "200"
capture_in_flight() { # the first slot not done is 1.5 s past its time and still not done
    local k
    k=$(iv .running.counts.next_slot)
    awk "BEGIN { exit !($(date +%s.%N) > $start_epoch + $k + 1.5) }" && [ "$(iv .running.counts.next_slot)" = "$k" ]
}
until_ok 60 capture_in_flight && ok "a capture is in flight" || not_ok "a capture is in flight" "$(iv .running.counts)"
expect "POST /api/interval/stop during the capture" "$(req POST /api/interval/stop; echo " $(body .stopping)")" "200 true"
expect "the state file says it is over as soon as the stop is answered" "$(jq .running photos/.tether/interval.json)" "false"
expect "the run is still in its capture" "$(iv '.running.stopping')" "true"
kill -KILL "$SERVE"
wait "$SERVE" 2>/dev/null
expect "the shutter is set back" "$(post /body/setting '{"name": "shutterspeed", "value": "1/60"}')" "200"
serve
expect "the restarted server does not continue the stopped run" "$(iv '[.running, .last] | @json')" "[null,null]"
stop "serve stops cleanly after the stop during a capture"

# --- storage faults -------------------------------------------------------------------------------------
if ! $ns_ok; then
    ok "import into a read-only folder # skip unshare -m or mount not available"
    ok "import onto a full disk # skip unshare -m or mount not available"
    ok "time-lapse state on a full disk # skip unshare -m or mount not available"
    sim_stop
    exit 0
fi

# The card's files: the 21 it began with and the picture whose capture
# was in flight when its server was killed (the camera finishes it, 15 s
# on, and keeps it: nothing is lost).  Counted once the camera is idle, so
# the import below sees that picture however long the steps above took.
until_ok 60 camera_idle || not_ok "the camera ends the capture" "$(state '[.capturing, .shots, .card_files] | @json')"
card=$(state .card_files)
# an import into a day folder that cannot be written (a read-only bind mount)
serve_ns "mount --bind photos/default/$day photos/default/$day && mount -o remount,bind,ro photos/default/$day"
expect "an import into a read-only folder starts" "$(req POST /api/import '{"mode": "all"}')" "202"
until_ok 60 api_is /api/import '.running == null' || not_ok "... and ends"
expect "... ends failed, none in, with the storage error" \
    "$(imp '.last | [.status, .downloaded, .already, .files, .error_code] | @json')" '["failed",0,0,'"$card"',"STORAGE"]'
expect_match "... saying why" "$(imp .last.message)" "cannot write to the photo folder.*not tried"
expect "... and it is left to be continued" "$(imp '.unfinished | [.cancelled, .files_total] | @json')" '[true,'"$card"']'
stop "serve stops cleanly after the read-only folder"
serve
expect "once the folder can be written, the next import continues the job" \
    "$(req POST /api/import '{}'; echo " $(body .import.resumed)")" "202 true"
until_ok 60 api_is /api/import '.running == null'
expect "... and brings every file in" "$(imp '.last | [.status, .downloaded + .already, .failed] | @json')" '["done",'"$card"',0]'
stop "serve stops cleanly after the resumed import"

# an import onto a full disk (a 1 MB tmpfs over the photo folder; the card holds 2.7 MB)
rm -rf photos
mkdir photos
serve_ns "mount -t tmpfs -o size=1m tmpfs photos"
expect "an import onto a small disk starts" "$(req POST /api/import '{"mode": "all", "fresh": true}')" "202"
until_ok 90 api_is /api/import '.running == null' || not_ok "... and ends" "$(imp .running.progress)"
expect_match "... ends failed or incomplete, said to be for a full disk" \
    "$(imp '.last | [.status, .error_code] | @json')" '^\["(failed|incomplete)","DISK_FULL"\]$'
expect_true "... with the counts ($(imp '.last | [.files, .downloaded, .failed] | @json'))" \
    "$(imp .last.failed) >= 1 && $(imp .last.downloaded) < $card"
expect_match "... and the reason" "$(imp .last.message)" "disk is full"

stop "serve stops cleanly after the full disk"

# the time-lapse's state file on a full disk: refused, not acknowledged
serve_ns "mount -t tmpfs -o size=2m tmpfs photos"
fill_disk
expect "a time-lapse whose state cannot be written is refused" "$(req POST /api/interval '{"interval_s": 1}')" "507"
expect "... as a full disk" "$(body .error.code)" "storage_full"
expect_match "... naming the file" "$(body .error.message)" 'interval.json'
expect "... and nothing runs" "$(iv .running)" "null"
unfill_disk
expect "with room again it starts" "$(req POST /api/interval '{"interval_s": 1, "count": 0}')" "202"
until_ok 30 api_is /api/interval '.running.counts.taken + .running.counts.failed >= 1'
fill_disk
until_ok 30 api_is /api/interval '.running.state_error != null' &&
    ok "a running time-lapse says its state cannot be written ($(iv .running.state_error))" ||
    not_ok "a running time-lapse says its state cannot be written" "$(iv .running)"
expect "a stop on a full disk is saved (the state file goes)" "$(req POST /api/interval/stop)" "200"
# the file is removed; once that frees room, the worker's next save may
# write it again, saying stopped: either way nothing is left to continue
expect "... so a restart has nothing to continue" \
    "$(in_ns sh -c '! test -e "$1" || grep -q "\"running\": *false" "$1" && echo nothing || cat "$1"' \
        sh "$T_DIR/photos/.tether/interval.json")" "nothing"
until_ok 30 api_is /api/interval '.running == null' || not_ok "the run stops"
stop "serve stops cleanly after the time-lapse on a full disk"
sim_stop
