# The studio's import from the card (/api/import) over HTTP against
# `tether serve` on `tether sim ptpip`: 200 files imported into the active
# session with progress events while live view keeps working; the server
# killed (SIGKILL) twice at random points and the camera unplugged, each
# time resumed; the result compared byte for byte with the gphoto2 CLI's
# copies, catalogued once each.  Then cancel and resume, "new", delete,
# one job at a time, bad input.  Waits are on state (the API, the files,
# the event stream) with deadlines for a loaded machine running ASan,
# never on a fixed sleep.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
RANDOM=4242
sim_start --persona canon-eos --files 200 --photo-size 640x480 --raw-size 300000 --rate-limit 8 || exit 1
photos() { find "$1" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }
day_dir() { ls -d photos/default/*/ 2>/dev/null | head -n 1; }
on_disk() { local d; d=$(day_dir); [ -n "$d" ] && photos "$d" || echo 0; }
until_on_disk() { # N: waits (up to 120 s) until N files are in the day folder
    local end=$(($(date +%s) + 120))
    while [ "$(date +%s)" -lt $end ]; do [ "$(on_disk)" -ge "$1" ] && return 0; sleep 0.02; done
    return 1
}
imp() { curl -s "$URL/api/import" | jq -r "$1"; }
wait_done() { wait_api_idle /api/import "$1" 0.2; }
is() { [ "$(imp "$1")" = true ]; } # JQ-TEST on GET /api/import

mkdir ref
# (200 files from the ASan simulator on a loaded machine can take more than
# gp's 30 s: a make check run lost them all once)
(cd ref && GP_LIMIT=180 gp --get-all-files -q >/dev/null 2>&1)
expect "gphoto2 downloads the card's 200 files" "$(photos ref)" "200"

streams=0
streams_open() { [ "$(grep -c '^retry:' events.txt)" -ge "$streams" ]; }
serve() { # starts the server and a listener that appends its events to events.txt
    rm -f serve.out # the last server's banner is no sign of this one
    start_serve
    until_ok 60 grep -q '^studio on' serve.out || not_ok "the server starts" "$(tail -n 3 serve.err | tr '\n' ' ')"
    timeout 600 curl -s -N "$URL/api/events" >>events.txt &
    streams=$((streams + 1))
    until_ok 30 streams_open || not_ok "the event stream opens"
}
serve

# --- start, progress, live view during the import -------------------------------------------
expect "POST /api/import starts an import" "$(req POST /api/import '{}')" "202"
expect "... of new files into the active session" "$(jq -c '.import | [.mode, .session, .delete, .resumed]' body.json)" \
    '["new","default",false,false]'
expect "a second import is refused while one runs" "$(req POST /api/import '{"mode": "all"}')" "409"
expect "... with a code" "$(body .error.code)" "import_busy"
until_on_disk 5
expect "live view works during the import" \
    "$(curl -s -o frame.jpg -w '%{http_code} %{content_type}' "$URL/snapshot.jpg")" "200 image/jpeg"
expect_true "GET /api/import shows the progress ($(imp .running.progress.files_done) of $(imp .running.progress.files_total))" \
    "$(imp '.running.progress.files_total') == 200 && $(imp '.running.progress.bytes_total') > 0"

# --- killed twice at random points, resumed by the next start ----------------------------------
for round in 1 2; do
    until_on_disk $(( round * 50 + RANDOM % 40 ))
    kill -9 "$SERVE"
    wait "$SERVE" 2>/dev/null
    n=$(on_disk)
    expect_true "round $round: the server was killed with part of the card imported ($n files)" "$n < 200"
    serve
done
expect "the restarted server resumes the import by itself" "$(imp '.running.resumed')" "true"
# unplug the camera while it runs
until_on_disk $(( $(on_disk) + 5 ))
expect "the camera is unplugged" "$(post /unplug)" "200"
until_ok 60 is '.running.waiting_for_camera' && ok "GET /api/import says it waits for the camera" ||
    not_ok "GET /api/import says it waits for the camera" "$(imp .running)"
expect "the camera is plugged back" "$(post /plug)" "200"
wait_done 300 && ok "the import ends" || not_ok "the import ends" "$(curl -s "$URL/api/import")"
expect "it ends done, resumed, no file failed" "$(imp '.last | [.status, .resumed, .failed] | @json')" '["done",true,0]'
d=$(day_dir)
bad=0
for f in ref/*; do cmp -s "$f" "$d/$(basename "$f")" || bad=$((bad + 1)); done
expect "the session holds the card's 200 files byte-identical to gphoto2's copies" "$bad $(photos "$d")" "0 200"
expect "no temporary file is left" "$(find photos -name '.tether.tmp-*' | wc -l)" "0"
# a RAW + JPEG pair of the card (IMG_0003.CR2, IMG_0003.JPG) is one item, carrying its RAW
pairs=$(ls "$d" | sed 's/\.[^.]*$//' | sort | uniq -d | wc -l)
expect "each is catalogued once, a RAW + JPEG pair as one item ($pairs pairs)" \
    "$(req GET '/api/photos?per_page=200' >/dev/null; body '[.total, ([.photos[] | 1 + (if .raw_file then 1 else 0 end)] | add)] | @json')" \
    "[$((200 - pairs)),200]"
expect_true "the card has RAW + JPEG pairs" "$pairs > 0"
expect "the catalog has no path twice" \
    "$(req GET '/api/photos?per_page=200' >/dev/null; jq '[.photos[].url] | length == (unique | length)' body.json)" "true"

# --- "new" finds nothing more; cancel and resume ---------------------------------------------
expect "an import of new files now" "$(req POST /api/import '{"mode": "new"}')" "202"
wait_done 60
expect "... finds none" "$(imp '.last | [.status, .files] | @json')" '["done",0]'
expect "an import of all files into the session again" "$(req POST /api/import '{"mode": "all"}')" "202"
until_on_disk 220
expect "POST /api/import/cancel" "$(req POST /api/import/cancel)" "200"
expect "... says it cancels" "$(body .cancelling)" "true"
wait_done 60
expect "the import ends cancelled" "$(imp .last.status)" "cancelled"
expect "GET /api/import offers the unfinished job" "$(imp '.unfinished | [.cancelled, .mode, .files_total] | @json')" \
    '[true,"all",200]'
expect "the next POST /api/import resumes it" "$(req POST /api/import '{}'; echo " $(body .import.resumed)")" "202 true"
wait_done 300
expect "it ends done with the rest of the files" "$(imp '.last | [.status, .resumed, .downloaded + .already] | @json')" \
    '["done",true,200]'
expect "400 files in the session (the second copies renamed, none lost)" "$(photos "$d")" "400"
expect "cancel with nothing running" "$(req POST /api/import/cancel; echo " $(body .cancelling)")" "200 false"

# --- events ----------------------------------------------------------------------------------------
expect_true "import progress events were sent ($(grep -c '^event: import$' events.txt))" \
    "$(grep -c '^event: import$' events.txt) >= 5"
expect_true "imported photos were announced as captures from the import" \
    "$(grep -c '"source":"import"' events.txt) >= 100"
expect_true "and results" "$(grep -c '^event: import_result' events.txt) >= 3"

# --- bad input ---------------------------------------------------------------------------------------
expect "a mode that is not new/all is refused" "$(req POST /api/import '{"mode": "some"}')" "400"
expect_match "... with a message" "$(body .error.message)" 'mode'
expect "delete that is not a boolean is refused" "$(req POST /api/import '{"delete": "yes"}')" "400"
expect "a body that is not JSON is refused" \
    "$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data 'nope' "$URL/api/import")" "400"
expect "GET /api/import/cancel is the wrong method" "$(req GET /api/import/cancel)" "405"
expect "an unknown import route is 404" "$(req GET /api/import/nothing)" "404"

# --- delete from the card ----------------------------------------------------------------------------
expect "an import with delete" "$(req POST /api/import '{"mode": "all", "delete": true, "fresh": true}')" "202"
wait_done 300
expect "... imports and deletes every file" "$(imp '.last | [.status, .files, .deleted] | @json')" '["done",200,200]'
expect "the card is empty" "$(gp --list-files 2>/dev/null | grep -c '^#')" "0"
stop_serve "serve stops cleanly"

# --- photos on disk that the catalog lacks (a server killed before it catalogued them) ----------
mkdir -p photos/default/2020-01-01
cp ref/IMG_0001.JPG photos/default/2020-01-01/found.JPG
echo "not a photo" >photos/default/2020-01-01/notes.txt
serve
expect "a photo found in a day folder is catalogued at start" \
    "$(req GET '/api/photos?day=2020-01-01' >/dev/null; jq -c '[.total, .photos[0].file, (.photos[0].thumb | length > 0)]' body.json)" \
    '[1,"found.JPG",true]'
stop_serve "serve stops cleanly again"
sim_stop
