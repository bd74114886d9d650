# The Canon EOS persona driven by the real gphoto2 CLI (libgphoto2's EOS
# code path: GetEvent records, SetDevicePropValueEx, RemoteRelease,
# GetViewFinderData, DriveLens).
. "$(dirname "$0")/../lib.sh"

sim_start --persona canon-eos --files 7 --photo-size 1296x864 --raw-size 300000 --seed 3 \
    --focus-at 0.6 --lens-start 0.45 || exit 1
cd "$T_DIR"

# --- identity -----------------------------------------------------------------
out=$(gp --summary 2>&1)
expect_match "summary shows the body" "$out" 'Model: Canon EOS 550D'
expect_match "summary shows the card" "$out" 'VolumeLabel: EOS_DIGITAL'
serial=$(printf '%s\n' "$out" | awk '/Serial Number:/ { print $3; exit }')
expect "serial number matches the control channel" "$serial" "$(state .serial)"

# --- settings -----------------------------------------------------------------
out=$(gp --list-config 2>&1)
for w in /main/imgsettings/iso /main/capturesettings/aperture /main/capturesettings/shutterspeed \
    /main/imgsettings/whitebalance /main/actions/manualfocusdrive /main/actions/autofocusdrive \
    /main/imgsettings/imageformat /main/settings/capturetarget /main/status/lensname; do
    expect_match "widget $w" "$out" "^$w\$"
done
expect_match "no standard exposure props on an EOS" "$(printf '%s' "$out" | grep -c '/main/other/' || true)" '^0$'
out=$(gp --get-config aperture 2>&1)
expect_match "aperture is a Canon radio widget" "$out" 'Type: RADIO'
expect_match "aperture default" "$out" 'Current: 5.6'
check "set iso 400" gp --set-config iso=400
check "set aperture 8" gp --set-config aperture=8
check "set shutterspeed 1/250" gp --set-config shutterspeed=1/250
check "set whitebalance Daylight" gp --set-config whitebalance=Daylight
expect_match "iso persists across sessions" "$(gp --get-config iso 2>&1)" 'Current: 400'
expect_match "shutter persists" "$(gp --get-config shutterspeed 2>&1)" 'Current: 1/250'
expect "camera holds the new iso" "$(state .settings.iso)" "400"
expect "camera holds the new aperture" "$(state .settings.aperture)" "8"
out=$(gp --set-config iso=12800 2>&1)
expect_match "an iso the body lacks is refused by the camera" "$out" '0x201c|Invalid Device Prop Value'
expect "refused value leaves the setting" "$(state .settings.iso)" "400"
check "set artist (text)" gp --set-config artist="Ada Lovelace"
expect_match "artist reads back" "$(gp --get-config artist 2>&1)" 'Current: Ada Lovelace'

# --- files ----------------------------------------------------------------------
out=$(gp --list-files 2>&1)
expect_match "card lists 7 files" "$out" "There are 7 files in folder '/store_00010001/DCIM/100CANON'"
expect_match "RAW+JPEG pair listed" "$out" 'IMG_0003.CR2 .*image/x-canon-cr2'
mkdir -p all1 all2
(cd all1 && gp --get-all-files >/dev/null 2>&1)
(cd all2 && gp --get-all-files >/dev/null 2>&1)
expect "get-all-files downloads every file" "$(ls all1 | wc -l)" "7"
expect "downloads are byte-identical" "$(cd all1 && sha256sum * | sha256sum)" "$(cd all2 && sha256sum * | sha256sum)"
expect "JPEG is full size" "$("$TESTTOOL" jpeg all1/IMG_0001.JPG)" "1296x864"
sizes_ok=1
while read -r name size; do
    [ "$(stat -c %s "all1/$name")" = "$size" ] || sizes_ok=0
done < <(printf '%s\n' "$out" | awk '/^#/ { print $2, 0 }' | head -0)
expect "RAW file has the configured size" "$(stat -c %s all1/IMG_0003.CR2)" "300000"
expect_match "RAW file carries EXIF" "$(exiftool -s -s -s -Model all1/IMG_0003.CR2)" 'Canon EOS 550D'
check "get one file" gp --get-file /store_00010001/DCIM/100CANON/IMG_0002.JPG --filename one.jpg
check "single file equals bulk download" cmp one.jpg all1/IMG_0002.JPG
check "delete a file" gp --delete-file /store_00010001/DCIM/100CANON/IMG_0001.JPG
expect_match "deleted file is gone" "$(gp --list-files 2>&1)" "There are 6 files"
expect "control channel agrees" "$(state .card_files)" "6"

# --- capture ----------------------------------------------------------------------
mkdir -p cap && cd cap
out=$(gp --capture-image-and-download 2>&1)
cd ..
f=$(ls cap | head -1)
expect_match "capture downloads a JPEG (to PC: capt*.jpg)" "$f" '^capt[0-9]+\.jpg$'
expect "capture is full size" "$("$TESTTOOL" jpeg "cap/$f")" "1296x864"
exif=$(exiftool -s -s -s -Make -Model -ISO -FNumber -ExposureTime -FocalLength -LensModel -SerialNumber "cap/$f" | tr '\n' '|')
expect "EXIF matches the settings" "$exif" "Canon|Canon EOS 550D|400|8.0|1/250|50.0 mm|EF50mm f/1.8 II|$serial|"
# a camera writes each tag with the standard's type, and the tags a JPEG must have
expect "the EXIF passes exiftool -validate" "$(exiftool -validate -warning -a -s3 "cap/$f" | tr '\n' '|')" "OK|"
taken=$(exiftool -s -s -s -d %s -DateTimeOriginal "cap/$f")
expect_true "EXIF time is now" "$taken >= $(date +%s) - 60 && $taken <= $(date +%s) + 5"
expect "capture to the PC leaves the card alone" "$(state .card_files)" "6"
expect "shot counted" "$(state .shots)" "1"

check "capture target: memory card" gp --set-config capturetarget=1
mkdir -p cap2 && cd cap2
out=$(gp --capture-image-and-download --keep 2>&1)
cd ..
expect_match "card capture names the file on the card" "$out" 'store_00010001/DCIM/100CANON/IMG_[0-9]+\.JPG'
expect "file stays on the card" "$(state .card_files)" "7"

check "image format RAW + Large Fine JPEG" gp --set-config imageformat="RAW + Large Fine JPEG"
mkdir -p cap3 && cd cap3
gp --capture-image-and-download >/dev/null 2>&1
cd ..
expect "RAW+JPEG capture downloads both" "$(ls cap3 | sed 's/.*\.//' | sort | tr '\n' ' ')" "CR2 JPG "
gp --set-config imageformat="Large Fine JPEG" >/dev/null 2>&1

# the shutter button on the body, caught by --wait-event-and-download
body_shot body JPG

# --- live view ----------------------------------------------------------------------
mkdir -p lv && cd lv
check "capture preview" gp --capture-preview
expect "preview is 1056x704" "$("$TESTTOOL" jpeg capture_preview.jpg)" "1056x704"
gp --capture-movie=30 --stdout >movie.mjpg 2>/dev/null
expect "movie delivers 30 decodable frames" "$("$TESTTOOL" mjpeg movie.mjpg)" "31"
cd ..

# --- focus ------------------------------------------------------------------------
pos0=$(state .motor_position)
focus=$(state .true_focus_position)
cd lv
gp --capture-preview --force-overwrite >/dev/null 2>&1 && mv capture_preview.jpg far.jpg
gp --set-config viewfinder=1 --set-config manualfocusdrive="Near 3" --set-config manualfocusdrive=None \
    --set-config manualfocusdrive="Near 3" --set-config manualfocusdrive=None \
    --set-config manualfocusdrive="Near 3" >/dev/null 2>&1
until_ok 30 lens_still
pos1=$(state .motor_position)
expect_true "Near 3 x3 moves the motor near by about 90 steps" "$pos1 - $pos0 > 75 && $pos1 - $pos0 < 100"
gp --capture-preview --force-overwrite >/dev/null 2>&1 && mv capture_preview.jpg nearer.jpg
s0=$("$TESTTOOL" sharpness far.jpg)
s1=$("$TESTTOOL" sharpness nearer.jpg)
expect_true "preview gets sharper towards focus ($s0 -> $s1)" "$s1 > $s0 * 1.2"
# reversing: Far 1 (1 step) is swallowed by the backlash (2 steps), Far 2
# (4.3 steps) moves the lens by what is left
gp --set-config viewfinder=1 --set-config manualfocusdrive="Far 1" >/dev/null 2>&1
until_ok 30 lens_still
pos2=$(state .motor_position)
expect_true "Far 1 after Near is lost in the backlash" "($pos2 - $pos1)^2 < 1e-6"
gp --set-config viewfinder=1 --set-config manualfocusdrive="Far 2" >/dev/null 2>&1
until_ok 30 lens_still
pos3=$(state .motor_position)
expect_true "Far 2 moves back by 4.3 less the remaining backlash ($pos2 -> $pos3)" "$pos2 - $pos3 > 2.0 && $pos2 - $pos3 < 4.6"
# AF takes time; libgphoto2 sends AfCancel when it exits, so stay a while
gp --set-config viewfinder=1 --set-config autofocusdrive=1 --wait-event=1s >/dev/null 2>&1
pos4=$(state .motor_position)
expect_true "autofocusdrive lands on the subject ($pos4 vs $focus)" "($pos4 - $focus)^2 < 16"
gp --capture-preview --force-overwrite >/dev/null 2>&1 && mv capture_preview.jpg focused.jpg
s3=$("$TESTTOOL" sharpness focused.jpg)
expect_true "focused preview is the sharpest ($s3 vs $s1)" "$s3 > $s1"
cd ..

sim_stop "simulator exits cleanly after the Canon session"
