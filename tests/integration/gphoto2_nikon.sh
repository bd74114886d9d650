# The Nikon persona driven by the real gphoto2 CLI (standard properties,
# InitiateCapture with PTP/IP events, Nikon live view, MfDrive, AfDrive,
# DeviceReady).
. "$(dirname "$0")/../lib.sh"

sim_start --persona nikon --files 6 --photo-size 1200x800 --raw-size 250000 --seed 5 \
    --focus-at 0.5 --lens-start 0.4 || exit 1
cd "$T_DIR"

out=$(gp --summary 2>&1)
expect_match "summary shows the body" "$out" 'Model: D750'
expect_match "summary shows Nikon" "$out" 'Manufacturer: Nikon Corporation'

out=$(gp --list-config 2>&1)
for w in /main/capturesettings/f-number /main/capturesettings/shutterspeed /main/imgsettings/iso \
    /main/imgsettings/whitebalance /main/actions/manualfocusdrive /main/actions/autofocusdrive \
    /main/actions/viewfinder; do
    expect_match "widget $w" "$out" "^$w\$"
done
check "set f-number f/8" gp --set-config f-number=f/8
check "set shutterspeed 1/250" gp --set-config shutterspeed=1/250
check "set iso 1600" gp --set-config iso=1600
check "set whitebalance Cloudy (a Nikon value)" gp --set-config whitebalance=Cloudy
expect_match "f-number persists" "$(gp --get-config f-number 2>&1)" 'Current: f/8'
expect "camera holds the iso" "$(state .settings.iso)" "1600"
expect "camera holds the white balance" "$(state .settings.whitebalance)" "Cloudy"
out=$(gp --set-config-value iso=150 2>&1)
expect_match "an iso outside the enumeration is refused" "$out" 'rror'
expect "refused value leaves the setting" "$(state .settings.iso)" "1600"

out=$(gp --list-files 2>&1)
expect_match "card lists 6 files" "$out" "There are 6 files in folder '/store_00010001/DCIM/100D750_'"
expect_match "NEF listed beside its JPEG" "$out" 'DSC_0003.NEF'
mkdir -p all && (cd all && gp --get-all-files >/dev/null 2>&1)
expect "get-all-files downloads NEF and JPEG" "$(ls all | wc -l)" "6"
expect "NEF has the configured size" "$(stat -c %s all/DSC_0003.NEF)" "250000"
expect "JPEG is full size" "$("$TESTTOOL" jpeg all/DSC_0001.JPG)" "1200x800"

mkdir -p cap && cd cap
out=$(gp --capture-image-and-download 2>&1)
cd ..
expect_match "capture downloads from the card and deletes it" "$out" 'Deleting file /store_00010001/DCIM/100D750_/DSC_[0-9]+\.JPG'
f=$(ls cap | head -1)
exif=$(exiftool -s -s -s -Make -Model -ISO -FNumber -ExposureTime "cap/$f" | tr '\n' '|')
expect "EXIF matches the settings" "$exif" "NIKON CORPORATION|D750|1600|8.0|1/250|"
expect "the card is as before" "$(state .card_files)" "6"

body_shot body JPG

mkdir -p lv && cd lv
check "capture preview" gp --capture-preview
expect "preview is the D750's 640x424" "$("$TESTTOOL" jpeg capture_preview.jpg)" "640x424"
gp --capture-movie=20 --stdout >movie.mjpg 2>/dev/null
expect "movie delivers decodable frames" "$("$TESTTOOL" mjpeg movie.mjpg)" "21"
pos0=$(state .motor_position)
gp --set-config viewfinder=1 --set-config manualfocusdrive=-300 >/dev/null 2>&1
pos1=$(state .motor_position)
expect_true "MfDrive -300 moves near by 30 Near1 steps ($pos0 -> $pos1)" "$pos1 - $pos0 > 26 && $pos1 - $pos0 < 34"
gp --set-config viewfinder=1 --set-config manualfocusdrive=500 >/dev/null 2>&1
pos2=$(state .motor_position)
expect_true "MfDrive +500 moves far, less the backlash ($pos1 -> $pos2)" "$pos1 - $pos2 > 44 && $pos1 - $pos2 < 52"
out=$(gp --set-config manualfocusdrive=100 2>&1)
expect_match "MfDrive outside live view is refused" "$out" 'LiveView|rror'
gp --set-config viewfinder=1 --set-config autofocusdrive=1 >/dev/null 2>&1
focus=$(state .true_focus_position)
pos3=$(state .motor_position)
expect_true "AfDrive focuses before DeviceReady says ready ($pos3 vs $focus)" "($pos3 - $focus)^2 < 16"
cd ..

sim_stop "simulator exits cleanly after the Nikon session"
