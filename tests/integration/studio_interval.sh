# The studio's time-lapse (/api/interval) over HTTP against `tether serve`
# on `tether sim ptpip`: a run of 5 shots at 1 s catalogued with events,
# stop, one run at a time, bad input, and a server killed (SIGKILL) in the
# middle of a run that continues it on the same schedule when it starts
# again, reporting the slots that passed while it was down as missed.
# Waits are on state (the API, the state file, the event stream) with
# deadlines for a loaded machine running ASan, never on a fixed sleep.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --photo-size 1296x864 --files 0 || exit 1

interval() { curl -s "$URL/api/interval" | jq -r "$1"; }
wait_done() { wait_api_idle /api/interval "$1" 0.2; } # SECONDS: until no run is going
is() { [ "$(interval "$1")" = true ]; } # JQ-TEST on GET /api/interval
# serve: start_serve, then waits for this server's banner (serve.out goes
# first: the last server's banner is no sign of this one)
serve() {
    rm -f serve.out
    start_serve
    until_ok 60 grep -q '^studio on' serve.out || not_ok "the server starts" "$(tail -n 3 serve.err | tr '\n' ' ')"
}

serve
timeout 300 curl -s -N "$URL/api/events" >events.txt &
events_open

# --- a run of 5 at 2 s (the 1 s schedule is tested in interval.sh) -----------------------------------------------------------------------
expect "POST /api/interval starts a run" "$(req POST /api/interval '{"interval_s": 2, "count": 5}')" "202"
expect "the run is described" "$(jq -c '.run | [.interval_s, .count, .session]' body.json)" '[2,5,"default"]'
expect "a second run is refused while one goes" "$(req POST /api/interval '{"interval_s": 1, "count": 5}')" "409"
expect "... with a code" "$(body .error.code)" "interval_busy"
until_ok 30 is '.running.counts.taken >= 1' && ok "GET /api/interval shows it running with counts" ||
    not_ok "GET /api/interval shows it running with counts" "$(interval .running)"
wait_done 60 && ok "the run ends" || not_ok "the run ends"
# a missed or failed slot says why (its events), so that a failure here can be read
grep '"event":"\(missed\|failed\)"' events.txt | cut -c 1-300 | sed 's/^/    /'
# a machine loaded enough may miss a slot (a capture that outlasts 2 s):
# every slot is accounted for, and most are taken
taken=$(interval .last.taken)
expect "the run is done, every slot taken or missed, none failed" \
    "$(curl -s "$URL/api/interval" | jq -c '.last | [.status, .taken + .missed, .failed, .next_slot]')" '["done",5,0,5]'
expect_true "most slots taken ($taken of 5)" "$taken >= 3"
# no shot so late that its slot should have counted as missed
expect_true "shots began within half an interval of their time ($(interval .last.max_late_ms) ms at most)" \
    "$(interval .last.max_late_ms) < 1000"
# the shots are catalogued and announced off the worker: until they all are
announced() { [ "$(grep -c '"source":"interval"' events.txt)" -ge "$taken" ]; }
until_ok 30 announced || not_ok "the shots are announced" "$(grep -c '"source":"interval"' events.txt) of $taken"
expect "$taken photos catalogued" "$(req GET /api/photos >/dev/null; body .total)" "$taken"
expect "$taken files in the session's day folder" "$(ls photos/default/*/ | wc -l)" "$taken"
expect "interval events, one per shot" "$(grep -c '"event":"shot"' events.txt)" "$taken"
expect "capture events from the time-lapse" "$(grep -c '"source":"interval"' events.txt)" "$taken"
until_ok 30 grep -q '^event: interval_result' events.txt
expect "and a result event" "$(grep -c '^event: interval_result' events.txt)" "1"
expect "the state file says the run is over" "$(jq .running photos/.tether/interval.json)" "false"

# --- stop ------------------------------------------------------------------------------------
expect "a run until stopped" "$(req POST /api/interval '{"interval_s": 0.5, "count": 0}')" "202"
until_ok 60 is '.running.counts.taken >= 2' || not_ok "the run takes pictures" "$(interval .running)"
expect "POST /api/interval/stop" "$(req POST /api/interval/stop)" "200"
expect "... says it stops" "$(body .stopping)" "true"
wait_done 30 && ok "the run stops" || not_ok "the run stops"
expect "status stopped" "$(interval .last.status)" "stopped"
expect_true "it had taken pictures ($(interval .last.taken))" "$(interval .last.taken) >= 2"
expect "stop with nothing running" "$(req POST /api/interval/stop; echo " $(body .stopping)")" "200 false"

# --- bad input -------------------------------------------------------------------------------
expect "interval 0 is refused" "$(req POST /api/interval '{"interval_s": 0}')" "400"
expect_match "... with a message" "$(body .error.message)" 'interval_s'
expect "a negative count is refused" "$(req POST /api/interval '{"interval_s": 1, "count": -1}')" "400"
expect "a count that is not a number is refused" "$(req POST /api/interval '{"interval_s": 1, "count": "5"}')" "400"
expect "a start time that is not a time is refused" "$(req POST /api/interval '{"interval_s": 1, "start_epoch": "soon"}')" "400"
expect "a body that is not JSON is refused" \
    "$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data 'nope' "$URL/api/interval")" "400"
expect "GET /api/interval/stop is the wrong method" "$(req GET /api/interval/stop)" "405"
expect "nothing runs after refused requests" "$(interval .running)" "null"
stop_serve "serve stops cleanly"

# --- a server killed mid-run continues it ------------------------------------------------------------
n0=$(ls photos/default/*/ | wc -l)
serve
expect "a run of 8 at 1 s" "$(req POST /api/interval '{"interval_s": 1, "count": 8}')" "202"
start_epoch=$(body .run.start_epoch)
until_ok 30 is '.running.counts.taken >= 2' || not_ok "the run takes pictures" "$(interval .running)"
kill -KILL "$SERVE"
wait "$SERVE" 2>/dev/null
expect "the state file says running after SIGKILL" "$(jq .running photos/.tether/interval.json)" "true"
done_before=$(jq .next_slot photos/.tether/interval.json)   # slots taken, missed or failed
files_at_kill=$(ls photos/default/*/ | wc -l)
# down until the first slot not done is more than half an interval past: it is missed
past() { awk "BEGIN { exit !($(date +%s.%N) > $1) }"; } # EXPR: the wall clock is past that time
until_ok 30 past "$start_epoch + $done_before + 0.6"
serve
# the continued run may have ended already (a slow restart: every slot passed), or still go
until_ok 60 is "(.running.start_epoch == $start_epoch) or (.last.run.start_epoch == $start_epoch)" &&
    ok "the restarted server continues the run" || not_ok "the restarted server continues the run" "$(interval .)"
wait_done 60 && ok "the continued run ends" || not_ok "the continued run ends"
expect "it ends at slot 8" "$(interval .last.next_slot)" "8"
missed=$(interval .last.missed)
taken=$(interval .last.taken)
expect_true "slots that passed while the server was down are missed ($missed missed)" "$missed >= 1"
expect "every slot is accounted for ($done_before before, $taken + $missed after)" \
    "$((done_before + taken + missed + $(interval .last.failed)))" "8"
expect "as many new files as pictures taken after the restart" "$(($(ls photos/default/*/ | wc -l) - files_at_kill))" "$taken"
expect_true "the pictures before the kill were kept ($((files_at_kill - n0)))" "$files_at_kill - $n0 >= 1"
expect "no temporary files" "$(find photos -name '.*tmp*' | wc -l)" "0"
stop_serve "serve stops cleanly after the continued run"
sim_stop "simulator exits cleanly after the time-lapse tests"
