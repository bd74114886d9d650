# The intervalometer (tether capture --interval, tether/interval.h) on
# `tether sim ptpip` through libgphoto2: 30 shots at 1 s end with 30 files
# and no drift (the schedule error is checked loosely here; bench/ measures
# it); slots a slow capture overruns are counted as missed, never bunched;
# a camera unplugged mid-run is waited for and the run resumes on the next
# slot; usage errors.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --photo-size 1296x864 --files 0 || exit 1
cam=(--camera "ptpip:127.0.0.1:$SIM_PORT")

# --- 30 shots at 1 s ---------------------------------------------------------------------
t0=$(date +%s.%N)
"$TETHER" --json "${cam[@]}" capture --count 30 --interval 1 --output 'tl/{counter:03d}' >run.json 2>run.err
status=$?
t1=$(date +%s.%N)
expect "30 shots at 1 s: exit status" "$status" "0"
expect "30 files" "$(ls tl | wc -l)" "30"
expect "named 001 to 030" "$(ls tl | head -1) $(ls tl | tail -1)" "001.jpg 030.jpg"
expect "30 shots reported, none missed or failed" "$(jq -c '[(.shots | length), .missed, .failed]' run.json)" "[30,0,0]"
expect "the simulator took 30 pictures" "$(state .shots)" "30"
expect "slots 0 to 29 in order" "$(jq -c '[.shots[].slot] == [range(30)]' run.json)" "true"
# loosely: each shot began within 0.5 s of its slot, and the run took 29 intervals plus one capture
expect_true "no shot began more than 0.5 s late ($(jq .max_late_ms run.json) ms)" "$(jq .max_late_ms run.json) < 500"
# drift is the schedule's, from the run's own report: the 30th shot began
# as close to its slot as the first (the wall time around the command also
# counts opening the camera and the last download: printed, not judged)
drift=$(jq '(.shots[29].late_ms - .shots[0].late_ms)' run.json)
expect_true "no drift: the 30th shot began within 100 ms of the first's lateness ($drift ms)" \
    "$drift < 100 && $drift > -100"
echo "    the command took $(awk "BEGIN { print $t1 - $t0 }") s for 29 intervals"
for f in tl/*.jpg; do "$TESTTOOL" jpeg "$f" >/dev/null 2>&1 || { not_ok "every file is a whole JPEG" "$f"; break; }; done
[ "$f" = tl/030.jpg ] && ok "every file is a whole JPEG"

# --- captures slower than the interval: missed slots, not bunched -------------------------------
"$TETHER" --json "${cam[@]}" capture --count 6 --interval 0.05 --output 'fast/{counter:03d}' >fast.json 2>fast.err
expect "an overrun interval: exit status 1 (slots were missed)" "$?" "1"
taken=$(jq '.shots | length' fast.json)
missed=$(jq .missed fast.json)
expect "every slot is either taken or missed ($taken + $missed)" "$((taken + missed))" "6"
expect_true "slots were missed, not bunched ($missed missed)" "$missed >= 3"
expect_match "and the reason is given" "$(jq -r '.events[0].message' fast.json)" 'took longer than the interval'

# --- the camera unplugged mid-run -----------------------------------------------------------
# unplugged once the run has taken its first picture, not after a fixed
# time: an ASan build on a loaded machine can take longer than that to
# open the camera, and a camera lost while opening ends the run there
shots_before=$(state .shots)
"$TETHER" --json "${cam[@]}" capture --count 10 --interval 1 --output 'lost/{counter:03d}' >lost.json 2>lost.err &
runner=$!
first_shot() { [ "$(state .shots)" -gt "$shots_before" ]; }
until_ok 60 first_shot || not_ok "the run takes its first picture" "$(head -c 300 lost.err)"
expect "unplugged during the run" "$(post /unplug)" "200"
sleep 3
expect "plugged back" "$(post /plug)" "200"
wait $runner
expect "a run with a lost camera: exit status 1 (slots were missed)" "$?" "1"
[ -s lost.json ] || not_ok "the run reports in JSON" "$(head -c 300 lost.err)"
taken=$(jq '.shots | length' lost.json)
missed=$(jq .missed lost.json)
expect "every slot taken or missed ($taken + $missed)" "$((taken + missed + $(jq .failed lost.json)))" "10"
expect_true "it went on after the camera came back ($taken taken, last slot $(jq '.shots[-1].slot' lost.json))" \
    "$taken >= 5 && $(jq '.shots[-1].slot' lost.json) == 9"
expect "the loss and the return are reported" \
    "$(jq -c '[.events[].event | select(. == "camera_lost" or . == "camera_back")] | unique' lost.json)" \
    '["camera_back","camera_lost"]'
expect "as many files as shots" "$(ls lost | wc -l)" "$taken"
expect "no temporary files left" "$(find . -name '.*tmp*' | wc -l)" "0"

# --- until stopped: SIGINT ends the run cleanly -----------------------------------------------
"$TETHER" --json "${cam[@]}" capture --count 0 --interval 0.7 --output 'open/{counter:03d}' >open.json 2>open.err &
runner=$!
three_taken() { [ "$(ls open 2>/dev/null | wc -l)" -ge 3 ]; }
until_ok 60 three_taken || not_ok "an open-ended run takes shots" "$(ls open 2>/dev/null | wc -l) files after 60 s"
kill -INT $runner
wait $runner
expect "--count 0 runs until interrupted: exit status 0" "$?" "0"
expect "and says it was interrupted" "$(jq .interrupted open.json)" "true"
expect_true "shots every 0.7 s until then ($(jq '.shots | length' open.json))" "$(jq '.shots | length' open.json) >= 3"
expect "as many files" "$(ls open | wc -l)" "$(jq '.shots | length' open.json)"

# --- usage ----------------------------------------------------------------------------------
"$TETHER" "${cam[@]}" capture --count 0 >/dev/null 2>usage.err
expect "--count 0 without --interval is a usage error" "$?" "2"
"$TETHER" "${cam[@]}" capture --interval 1 --start 25:00 >/dev/null 2>usage.err
expect "a bad --start is a usage error" "$?" "2"
expect_match "... that says what it takes" "$(cat usage.err)" 'HH:MM'
"$TETHER" "${cam[@]}" capture --interval -1 >/dev/null 2>usage.err
expect "a negative interval is a usage error" "$?" "2"

sim_stop "simulator exits cleanly after the intervalometer tests"
