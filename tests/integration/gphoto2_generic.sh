# The generic persona (VendorExtensionID 0) driven by the real gphoto2 CLI:
# standard PTP properties, InitiateCapture with events on the PTP/IP event
# connection, PTP 1.1 streams for preview.
. "$(dirname "$0")/../lib.sh"

sim_start --persona generic --files 5 --photo-size 1000x666 --seed 9 || exit 1
cd "$T_DIR"

out=$(gp --summary 2>&1)
expect_match "summary shows the body" "$out" 'Model: Simulated PTP Camera'
expect_match "summary lists the standard properties" "$out" 'Exposure Time\(0x500d\)'

out=$(gp --list-config 2>&1)
for w in /main/capturesettings/f-number /main/capturesettings/shutterspeed /main/imgsettings/iso \
    /main/imgsettings/whitebalance /main/status/batterylevel /main/other/5021; do
    expect_match "widget $w" "$out" "^$w\$"
done
expect_match "battery level (UINT8 range) reads" "$(gp --get-config batterylevel 2>&1)" 'Current: 80%'
check "shutter speed picks the closest value" gp --set-config shutterspeed=1/200
expect_match "shutter reads back as 1/250" "$(gp --get-config shutterspeed 2>&1)" 'Current: 0.0040s'
check "set f-number f/4" gp --set-config f-number=f/4
expect "camera holds the aperture" "$(state .settings.\"f-number\")" "f/4"
check "set white balance Tungsten" gp --set-config whitebalance=Tungsten
out=$(gp --set-config batterylevel=50 2>&1)
expect_match "read-only property cannot be set" "$out" 'rror'
check "set the camera clock" gp --set-config /main/other/5011=20300102T030405
expect_match "clock reads back" "$(gp --get-config /main/other/5011 2>&1)" 'Current: 2030010'
out=$(gp --set-config /main/other/5011=yesterday 2>&1)
expect_match "a malformed date is refused by the camera" "$out" '0x201c|rror'

out=$(gp --list-files 2>&1)
expect_match "card lists 5 files" "$out" "There are 5 files in folder '/store_00010001/DCIM/100TETHR'"
mkdir -p all && (cd all && gp --get-all-files >/dev/null 2>&1)
expect "get-all-files" "$(ls all | wc -l)" "5"
check "delete one file" gp --delete-file /store_00010001/DCIM/100TETHR/IMG_0002.JPG
expect "card has 4 files" "$(state .card_files)" "4"

mkdir -p cap && cd cap
out=$(gp --capture-image-and-download 2>&1)
cd ..
expect_match "capture and download" "$out" 'Saving file as IMG_[0-9]+\.JPG'
f=$(ls cap | head -1)
expect "capture is full size" "$("$TESTTOOL" jpeg "cap/$f")" "1000x666"
exif=$(exiftool -s -s -s -Make -Model -FNumber -ExposureTime "cap/$f" | tr '\n' '|')
expect "EXIF matches the settings" "$exif" "tether|Simulated PTP Camera|4.0|1/250|"
taken=$(exiftool -s -s -s -d %Y -DateTimeOriginal "cap/$f")
expect "EXIF date follows the camera clock" "$taken" "2030"

mkdir -p keep && cd keep
gp --capture-image-and-download --keep >/dev/null 2>&1
cd ..
expect "--keep leaves the file on the card" "$(state .card_files)" "5"

body_shot body JPG

mkdir -p lv && cd lv
check "capture preview over PTP 1.1 streams" gp --capture-preview
expect "preview data is a 1056x704 JPEG" "$("$TESTTOOL" jpeg capture_preview)" "1056x704"
out=$(gp --set-config manualfocusdrive=10 2>&1)
expect_match "a generic camera has no focus drive" "$out" 'not found|rror'
cd ..

sim_stop "simulator exits cleanly after the generic session"
