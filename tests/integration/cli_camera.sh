# The tether camera commands against `tether sim ptpip`, for each persona,
# through libtether and the real libgphoto2.
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"

t() { timeout -s KILL 60 "$TETHER" --camera "ptpip:127.0.0.1:$SIM_PORT" "$@"; }

for persona in canon-eos nikon generic; do
    sim_start --persona "$persona" --files 5 --photo-size 960x640 --raw-size 200000 --seed 4 || continue
    P="[$persona]"
    out=$(t summary)
    expect_match "$P summary" "$out" 'Manufacturer:'
    out=$(t --json summary)
    expect_match "$P summary --json names the model" "$(jq -r .model <<<"$out")" '550D|D750|Simulated'

    # settings
    out=$(t config list)
    expect_match "$P config list shows iso with its path" "$out" '^/main/imgsettings/iso = '
    n=$(t --json config list | jq length)
    expect_true "$P config list --json has many settings ($n)" "$n > 15"
    expect "$P config get by short name reports the full path" "$(t --json config get iso | jq -r .path)" "/main/imgsettings/iso"
    check "$P config set iso 400" t config set iso 400
    expect "$P config get iso" "$(t --json config get iso | jq -r .value)" "400"
    expect "$P the camera holds it" "$(state .settings.iso)" "400"
    check "$P config set by full path" t config set /main/imgsettings/iso 800
    expect "$P set by path reached the camera" "$(state .settings.iso)" "800"
    t config set iso 12345 >/dev/null 2>err.txt
    expect "$P a value not offered: exit 1" "$?" "1"
    expect_match "$P a value not offered: the choices are listed" "$(cat err.txt)" 'not a choice of "iso"; choices:.*400'
    expect "$P a refused value changes nothing" "$(state .settings.iso)" "800"
    t config set batterylevel 50 >/dev/null 2>err.txt
    expect_match "$P read-only is refused clearly" "$(cat err.txt)" 'read-only'
    t config get nosuchsetting >/dev/null 2>err.txt
    expect "$P unknown setting: exit 1" "$?" "1"
    expect_match "$P unknown setting is named" "$(cat err.txt)" 'no setting "nosuchsetting"'
    if [ "$persona" = canon-eos ]; then
        check "$P seven settings in one session" t config set iso 200 aperture 8 shutterspeed 1/250 whitebalance Daylight exposurecompensation 0.3 picturestyle Landscape drivemode Continuous
        expect "$P ... all reached the camera" "$(state '[.settings.iso, .settings.aperture, .settings.shutterspeed, .settings.whitebalance, .settings.picturestyle, .settings.drivemode] | join(",")')" "200,8,1/250,Daylight,Landscape,Continuous"
    else
        check "$P shutter speed as a fraction picks the matching choice" t config set shutterspeed 1/250
        expect_match "$P ... which reads back" "$(t --json config get shutterspeed | jq -r .value)" '0.0040s'
    fi

    # files
    out=$(t --json files)
    expect "$P files lists the card" "$(jq length <<<"$out")" "5"
    first=$(jq -r '.[0].path' <<<"$out")
    expect_match "$P file paths are camera paths" "$first" '^/store_00010001/DCIM/'
    check "$P download" t download "$first" --dest "dl-$persona"
    name=$(basename "$first")
    expect "$P downloaded file has the listed size" "$(stat -c %s "dl-$persona/$name")" "$(jq -r '.[0].size' <<<"$out")"
    t download "$first" --dest "dl-$persona" >/dev/null 2>err.txt
    expect "$P download never overwrites: exit 1" "$?" "1"
    expect_match "$P ... and says why" "$(cat err.txt)" 'exists'
    check "$P delete" t delete "$first"
    expect "$P deleted on the camera" "$(state .card_files)" "4"
    t delete /store_00010001/DCIM/nope.jpg >/dev/null 2>&1
    expect "$P deleting a missing file: exit 1" "$?" "1"

    # capture
    out=$(t --json capture --output "shots/$persona-{counter:03d}" --count 2)
    expect "$P capture --count 2 saves two shots" "$(jq '.shots | length' <<<"$out")" "2"
    expect "$P named from the template" "$(ls shots | grep -c "^$persona-00[12]\.jpg$")" "2"
    expect "$P full size" "$("$TESTTOOL" jpeg "shots/$persona-001.jpg")" "960x640"
    out=$(t --json capture --output "shots/$persona-{counter:03d}")
    expect "$P a new run numbers on after the folder's names (none overwritten or given again)" \
        "$(jq -r '.shots[0].files[0].local' <<<"$out")" "shots/$persona-003.jpg"
    before=$(state .card_files)
    t capture --output "shots/keep-{counter}" --keep-on-card >/dev/null
    if [ "$persona" = canon-eos ]; then
        expect "$P to the PC, a capture leaves the card alone" "$(state .card_files)" "$before"
    else
        expect "$P --keep-on-card keeps the camera's copy" "$(state .card_files)" "$((before + 1))"
    fi
    left=$(ls -a shots | grep -c tmp || true)
    expect "$P no temporary files left" "$left" "0"

    # live view
    check "$P preview --output" t preview --output "lv-$persona.jpg"
    expect_match "$P preview is a JPEG" "$("$TESTTOOL" jpeg "lv-$persona.jpg")" '^[0-9]+x[0-9]+$'
    t preview --mjpeg --count 15 >"lv-$persona.mjpg"
    expect "$P preview --mjpeg streams 15 frames" "$("$TESTTOOL" mjpeg "lv-$persona.mjpg")" "15"
    expect "$P as multipart parts" "$(grep -ac -- '--tetherframe' "lv-$persona.mjpg")" "15"
    out=$(t --json preview --output "lvn/{counter:02d}.jpg" --count 5)
    expect "$P numbered preview frames" "$(ls lvn | wc -l)" "5"
    rm -rf lvn
    sim_stop "$P simulator exits cleanly"
done

# RAW + JPEG keep one base name; focus drive; tethered mode (Canon)
sim_start --persona canon-eos --photo-size 960x640 --raw-size 200000 --focus-at 0.5 --lens-start 0.3 || exit 1
check "RAW + Large Fine JPEG" t config set imageformat "RAW + Large Fine JPEG"
out=$(t --json capture --output "pair/{counter}-{timestamp:%Y%m%d}")
expect "a RAW+JPEG shot saves two files" "$(jq '.shots[0].files | length' <<<"$out")" "2"
expect "with one base name" "$(ls pair | sed 's/\..*//' | sort -u | wc -l)" "1"
expect "a .cr2 and a .jpg" "$(ls pair | sed 's/.*\.//' | sort | tr '\n' ' ')" "cr2 jpg "
t config set imageformat "Large Fine JPEG" >/dev/null
pos0=$(state .motor_position)
check "focus drive near --step 3 --count 3" t focus drive near --step 3 --count 3
until_ok 30 lens_still
pos1=$(state .motor_position)
expect_true "the motor moved about 90 steps near ($pos0 -> $pos1)" "$pos1 - $pos0 > 75 && $pos1 - $pos0 < 100"
expect "no command was lost (paced: at most two in flight)" "$(state .lens.dropped)" "0"
check "focus drive far" t focus drive far --step 2
until_ok 30 lens_still
expect_true "and back towards far" "$(state .motor_position) < $pos1"
t focus drive sideways >/dev/null 2>&1
expect "bad focus usage: exit 2" "$?" "2"

mkdir -p teth
t tethered --dest teth --output 'body-{counter:02d}' >teth.out 2>&1 &
tpid=$!
# on state, not time (under qemu or ASan beside a loaded suite, seconds
# go by before it watches, and between a shot and its download)
until_ok 60 grep -q '^tethered: shots taken' teth.out
post /shutter >/dev/null
until_ok 60 grep -q 'saved teth/body-01.jpg' teth.out
post /shutter >/dev/null
until_ok 60 grep -q 'saved teth/body-02.jpg' teth.out
kill -INT $tpid
wait $tpid
expect "tethered mode downloads body shots as they happen" "$(ls teth | tr '\n' ' ')" "body-01.jpg body-02.jpg "
expect_match "and says so" "$(cat teth.out)" 'saved teth/body-01.jpg'
sim_stop "simulator exits cleanly after focus and tethered tests"

# --camera sim: the simulator inside the tether process
check "--camera sim summary" "$TETHER" --camera sim summary
out=$("$TETHER" --camera sim:nikon --json config get iso)
expect "--camera sim:nikon" "$(jq -r .path <<<"$out")" "/main/imgsettings/iso"
"$TETHER" --camera sim:leica summary >/dev/null 2>err.txt
expect "unknown simulated persona: exit 2" "$?" "2"
"$TETHER" --camera ptpip:127.0.0.1:1 summary >/dev/null 2>err.txt
expect "no camera there: exit 1" "$?" "1"
expect_match "with one clear line" "$(cat err.txt)" '^tether: cannot open camera "ptpip:127.0.0.1:1"'
"$TETHER" --camera floppy:0 summary >/dev/null 2>err.txt
expect "unknown camera spec: exit 2" "$?" "2"
out=$("$TETHER" --json list)
expect "list --json is an array (no USB cameras here)" "$(jq -r type <<<"$out")" "array"
