# `tether import` against `tether sim ptpip`: a card of 200 files imported
# while the importer is killed (SIGKILL) at random points and the camera
# is unplugged in the middle, then resumed; the result is compared byte
# for byte with what the real gphoto2 CLI downloads from the same card (no
# file missing, none twice, no partial file, no temporary file left).
# Then: --new, --delete, Ctrl-C and resume, a name already taken, one
# import per ledger, bad usage.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
RANDOM=20261201 # the kill points are random, but the same in every run
sim_start --persona canon-eos --files 200 --photo-size 640x480 --raw-size 300000 --rate-limit 8 || exit 1
CAM="ptpip:127.0.0.1:$SIM_PORT"
imp() { "$TETHER" --camera "$CAM" "$@"; }
imp_bg() { exec "$TETHER" --camera "$CAM" "$@"; } # with &: $! is tether itself
photos() { find "$1" -maxdepth 1 -type f ! -name '.*' | wc -l; }

# the reference: the card as the gphoto2 CLI downloads it
mkdir ref
(cd ref && gp --get-all-files -q >/dev/null 2>&1)
n_card=$(photos ref)
expect "gphoto2 downloads the 200 files of the card" "$n_card" "200"

# identical DIR: every reference file is in DIR, byte for byte, and DIR has
# nothing else (no duplicate, no partial or temporary file)
identical() {
    local f bad=0
    for f in ref/*; do cmp -s "$f" "$1/$(basename "$f")" || bad=$((bad + 1)); done
    [ "$bad" -eq 0 ] && [ "$(photos "$1")" -eq "$n_card" ] && [ -z "$(find "$1" -maxdepth 1 -name '.tether.tmp-*')" ]
}

# --- killed at random points, unplugged once, resumed -------------------------------------
kills=0
for round in 1 2 3 4; do
    target=$(( (round - 1) * 45 + 10 + RANDOM % 30 )) # somewhere in each quarter of the card
    imp_bg import --dest out >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        [ "$(photos out 2>/dev/null || echo 0)" -ge "$target" ] && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
    wait $pid 2>/dev/null
done
expect "the importer was killed mid-way 4 times" "$kills" "4"
expect_true "it had imported part of the card ($(photos out) files)" "$(photos out) > 100 && $(photos out) < 200"

# unplug the camera while a resumed run goes, plug it back
imp_bg --json import --dest out >resume.json 2>resume.err &
pid=$!
n0=$(photos out)
# unplugged once the run has brought five more files, however long that
# takes on a loaded machine (a fixed 5 s could unplug it before it began)
five_more() { [ "$(photos out)" -ge $((n0 + 5)) ]; }
until_ok 60 five_more || not_ok "the resumed import brings files" "$(head -c 300 resume.err)"
expect "the camera is unplugged during the import" "$(post /unplug)" "200"
sleep 1.5
expect "and plugged back" "$(post /plug)" "200"
wait $pid
status=$?
expect "the resumed import ends well" "$status" "0"
expect "... as the same job, resumed" "$(jq -c '[.status, .resumed, .failed]' resume.json)" '["done",true,0]'
expect_match "it reported the lost camera" "$(cat resume.err)" "camera is gone"
expect_match "and its return" "$(cat resume.err)" "camera is back"
expect_true "files done by the killed runs were not downloaded again" \
    "$(jq '.downloaded + .already' resume.json) == 200 && $(jq .downloaded resume.json) < 200"
identical out && ok "the folder holds exactly the card's 200 files, byte-identical to gphoto2's copies" ||
    not_ok "the folder holds exactly the card's files" "$(photos out) files; $(ls -A out | head -5 | tr '\n' ' ')"

# --- --new ---------------------------------------------------------------------------------
expect "--new after a full import finds nothing" "$(imp --json import --dest out --new | jq -c '[.files, .downloaded]')" "[0,0]"
imp config set capturetarget "Memory card" >/dev/null
imp config set imageformat "RAW + Large Fine JPEG" >/dev/null
imp capture --keep-on-card --output shot/{name} >/dev/null 2>&1
expect "--new takes a picture shot since (JPEG + RAW)" "$(imp --json import --dest out --new | jq -c '[.files, .downloaded]')" "[2,2]"
expect "the card has 202 files now" "$(imp --json files | jq length)" "202"

# --- a name already taken ----------------------------------------------------------------
mkdir taken
echo "not a photo" >taken/IMG_0001.JPG
imp --json import --dest taken >taken.json 2>/dev/null
expect "an import into a folder with a file of the same name keeps that file" "$(cat taken/IMG_0001.JPG)" "not a photo"
check "... and puts the card's file beside it" cmp -s ref/IMG_0001.JPG taken/IMG_0001-1.JPG
expect "202 files, no failure" "$(jq -c '[.files, .downloaded, .failed]' taken.json)" "[202,202,0]"

# --- interrupted (Ctrl-C, SIGTERM) and resumed ---------------------------------------------------------------------
imp_bg import --dest int >int.out 2>&1 &
pid=$!
thirty_in() { [ "$(photos int 2>/dev/null || echo 0)" -ge 30 ]; }
until_ok 60 thirty_in || not_ok "the import to be interrupted brings files" "$(head -c 300 int.out)"
kill -TERM $pid
wait $pid
expect "SIGTERM stops the import with status 1" "$?" "1"
expect_match "... saying how to resume" "$(cat int.out)" "run the same command again to resume"
imp --json import --dest int >int.json 2>/dev/null
expect "the next run resumes the job and finishes it" "$(jq -c '[.status, .resumed, .already > 0]' int.json)" '["done",true,true]'
expect "202 files in the folder" "$(photos int)" "202"

# --- one import per ledger ------------------------------------------------------------------
# (a camera serves one host at a time: the second import is from a second camera)
CAM1=$CAM
first=("$SIM_PID" "$SIM_LOG" "$SIM_PORT" "$CTL_PORT")
sim_start --persona canon-eos --files 50 --photo-size 640x480 --raw-size 300000 --rate-limit 1 || exit 1
CAM2="ptpip:127.0.0.1:$SIM_PORT"
"$TETHER" --camera "$CAM2" import --dest busy --ledger shared.db >/dev/null 2>&1 &
pid=$!
first_in() { [ "$(photos busy 2>/dev/null || echo 0)" -ge 1 ]; }
until_ok 60 first_in || not_ok "the first import brings a file"
out=$("$TETHER" --camera "$CAM1" import --dest busy --ledger shared.db 2>&1)
expect "a second import with the same ledger at once is refused" "$?" "1"
expect_match "... saying why" "$out" "another import is running"
wait $pid
expect "the first one goes on to the end" "$?" "0"
sim_stop "the second simulator exits cleanly"
CAM=$CAM1
SIM_PID=${first[0]} SIM_LOG=${first[1]} SIM_PORT=${first[2]} CTL_PORT=${first[3]}

# --- --delete -------------------------------------------------------------------------------
imp --json import --dest del --fresh --delete >del.json 2>/dev/null
expect "--delete imports every file and deletes each from the card" "$(jq -c '[.files, .downloaded, .deleted]' del.json)" "[202,202,202]"
expect "the card is empty" "$(imp --json files | jq length)" "0"
expect "the copies are all there" "$(photos del)" "202"
for f in ref/*; do cmp -s "$f" "del/$(basename "$f")" || echo "$f"; done >del.diff
expect "byte-identical" "$(wc -l <del.diff)" "0"

# --- bad usage -------------------------------------------------------------------------------
imp import >/dev/null 2>&1
expect "--dest is required" "$?" "2"
imp import --dest x --bogus >/dev/null 2>&1
expect "an unknown option is bad usage" "$?" "2"
sim_stop
