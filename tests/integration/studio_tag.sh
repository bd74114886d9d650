# GPS/EXIF tagging against `tether serve` on `tether sim ptpip`, every
# value read back by an independent reader (exiftool): settings set with
# PUT /api/tagging are written into new captures (EXIF GPS in JPEGs, an XMP
# sidecar next to a RAW file), southern and western positions come back
# negative, nothing is written while tagging is off, POST
# /api/tagging/apply tags the photos a session already had, the settings
# survive a restart, bad input is a 400 with a JSON message; `tether tag`
# on files; the Tagging panel in Chromium (tests/e2e/tagging.mjs).
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
if ! command -v exiftool >/dev/null; then
    not_ok "exiftool is installed (scripts/install-deps check)"
    exit 0
fi
sim_start --persona canon-eos --photo-size 1296x864 --files 0 || exit 1

# xt FILE [GROUP:]TAG: a tag's value as exiftool reads it (-n: numbers as numbers)
xt() { exiftool -n -json "-$2" "$1" 2>/dev/null | jq -r --arg k "${2#*:}" '.[0][$k] // empty | if type == "array" then join(",") else . end'; }
# near A B: |A - B| < 1e-6 (degrees)
near() { [ -n "$1" ] && awk "BEGIN { d = ($1) - ($2); exit !(d < 1e-6 && d > -1e-6) }"; }
put() { req PUT /api/tagging "$1"; }
capture() { req POST /api/capture >/dev/null; }
newest() { ls -t photos/default/*/*."$1" | head -n 1; } # EXT: the newest photo of the session

start_serve
timeout 120 curl -s -N "$URL/api/events" >events.txt &
events_open

# --- defaults; a photo taken before tagging is set ---------------------------------------
expect "GET /api/tagging: off, no position" "$(req GET /api/tagging >/dev/null; jq -c '[.enabled, .gps, .keywords, .apply]' body.json)" \
    '[false,null,[],null]'
capture
untagged=$(newest jpg)
expect "a capture without tagging has no GPS position" "$(xt "$untagged" GPSLatitude)" ""

# --- bad input -------------------------------------------------------------------------------
bad() { # NAME BODY: a 400 with a JSON message
    local status
    status=$(put "$2")
    expect "$1 is refused (400)" "$status" "400"
    expect_match "... with a JSON message" "$(body .error.message)" '.'
}
bad "latitude 91" '{"gps": {"lat": 91, "lon": 0}}'
bad "longitude -180.5" '{"gps": {"lat": 0, "lon": -180.5}}'
bad "a position without lon" '{"gps": {"lat": 10}}'
bad "a position as text" '{"gps": "48.85,2.29"}'
bad "an altitude of 1e6 m" '{"gps": {"lat": 1, "lon": 1, "alt": 1000000}}'
bad "an artist with a control character" '{"artist": "Ana\u0001"}'
bad "an artist of 300 bytes" "{\"artist\": \"$(printf 'a%.0s' $(seq 1 300))\"}"
bad "keywords that are not a list" '{"keywords": "a,b"}'
bad "an empty keyword" '{"keywords": ["a", ""]}'
bad "enabled as text" '{"enabled": "yes"}'
bad "an unknown field" '{"latitude": 1}'
expect "a body that is not JSON is refused" \
    "$(curl -s -o body.json -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data 'nope' "$URL/api/tagging")" "400"
expect "DELETE /api/tagging is the wrong method" "$(req DELETE /api/tagging)" "405"
expect "refused input changes nothing" "$(req GET /api/tagging >/dev/null; jq -c '[.enabled, .gps]' body.json)" '[false,null]'

# --- tagging new captures (south and west: negative) ------------------------------------------------
lat=-33.8567844 lon=-70.6482671 alt=520.25
expect "PUT /api/tagging" "$(put '{"gps": {"lat": '$lat', "lon": '$lon', "alt": '$alt'}, "artist": "Ana Núñez",
    "copyright": "(c) 2026 Ana Núñez", "keywords": ["wedding", "Santiago"], "enabled": true}')" "200"
expect "the answer shows the settings" "$(jq -c '[.enabled, .gps.lat, .gps.lon, .artist, .keywords]' body.json)" \
    '[true,'$lat','$lon',"Ana Núñez",["wedding","Santiago"]]'
until_ok 30 grep -q '^event: tagging$' events.txt
expect "a \"tagging\" event is sent" "$(grep -c '^event: tagging$' events.txt)" "1"
capture
jpg=$(newest jpg)
near "$(xt "$jpg" GPSLatitude)" "$lat" && ok "GPSLatitude read by exiftool is $lat" || not_ok "GPSLatitude" "$(xt "$jpg" GPSLatitude)"
near "$(xt "$jpg" GPSLongitude)" "$lon" && ok "GPSLongitude read by exiftool is $lon" || not_ok "GPSLongitude" "$(xt "$jpg" GPSLongitude)"
expect "GPSLatitudeRef is south" "$(exiftool -s3 -GPSLatitudeRef "$jpg")" "South"
expect "GPSLongitudeRef is west" "$(exiftool -s3 -GPSLongitudeRef "$jpg")" "West"
expect "GPSAltitude" "$(xt "$jpg" GPSAltitude)" "520.25"
expect "GPSVersionID" "$(exiftool -s3 -GPSVersionID "$jpg")" "2.3.0.0"
expect "Artist (EXIF)" "$(xt "$jpg" Artist)" "Ana Núñez"
expect "Copyright (EXIF)" "$(xt "$jpg" Copyright)" "(c) 2026 Ana Núñez"
expect "Subject (XMP keywords)" "$(xt "$jpg" Subject)" "wedding,Santiago"
expect "Creator (XMP)" "$(xt "$jpg" Creator)" "Ana Núñez"
# IPTC-IIM copies, for readers that know only IIM, marked UTF-8
expect "IPTC Keywords, By-line, CopyrightNotice, OriginalTransmissionReference" \
    "$(xt "$jpg" IPTC:Keywords)|$(xt "$jpg" By-line)|$(xt "$jpg" CopyrightNotice)|$(xt "$jpg" OriginalTransmissionReference)" \
    "wedding,Santiago|Ana Núñez|(c) 2026 Ana Núñez|default"
expect "IPTC is marked UTF-8" "$(exiftool -s3 -CodedCharacterSet "$jpg")" "UTF8"
expect "the session's name (XMP TransmissionReference)" "$(xt "$jpg" TransmissionReference)" "default"
expect "the camera's own EXIF is kept" "$(xt "$jpg" Model)" "Canon EOS 550D"
expect "no temporary file is left" "$(ls -A "$(dirname "$jpg")" | grep -c '^\.tether')" "0"
req GET "/api/photos?per_page=1" >/dev/null
expect "the catalogued size is the tagged file's" "$(body '.photos[0].size')" "$(stat -c %s "$jpg")"

# --- RAW + JPEG: the RAW gets a sidecar ----------------------------------------------------------
expect "RAW + JPEG" "$(req POST /api/settings '{"path": "imageformat", "value": "RAW + Large Fine JPEG"}')" "200"
capture
cr2=$(newest cr2)
xmp="${cr2%.*}.xmp"
expect "RAW + JPEG gives a .cr2, a .jpg and a sidecar .xmp" "$(ls "${cr2%.*}".* | sed 's/.*\.//' | sort | tr '\n' ' ')" "cr2 jpg xmp "
near "$(xt "$xmp" GPSLatitude)" "$lat" && ok "the sidecar's GPSLatitude read by exiftool" || not_ok "sidecar GPSLatitude" "$(xt "$xmp" GPSLatitude)"
near "$(xt "$xmp" GPSLongitude)" "$lon" && ok "the sidecar's GPSLongitude read by exiftool" || not_ok "sidecar GPSLongitude" "$(xt "$xmp" GPSLongitude)"
expect "the sidecar's GPSAltitude" "$(xt "$xmp" GPSAltitude)" "520.25"
expect "the sidecar's Creator, Rights, Subject, TransmissionReference" \
    "$(xt "$xmp" Creator)|$(xt "$xmp" Rights)|$(xt "$xmp" Subject)|$(xt "$xmp" TransmissionReference)" \
    "Ana Núñez|(c) 2026 Ana Núñez|wedding,Santiago|default"
expect "the RAW file itself is not touched" "$(xt "$cr2" GPSLatitude)" ""
near "$(xt "${cr2%.*}.jpg" GPSLatitude)" "$lat" && ok "its JPEG is tagged too" || not_ok "the JPEG of the pair is tagged"
req POST /api/settings '{"path": "imageformat", "value": "Large Fine JPEG"}' >/dev/null

# --- off: nothing is written -------------------------------------------------------------------
expect "PUT enabled false" "$(put '{"enabled": false}')" "200"
expect "... keeps the other settings" "$(jq -c '[.enabled, .gps.lat, .artist]' body.json)" '[false,'$lat',"Ana Núñez"]'
capture
off=$(newest jpg)
expect "a capture while tagging is off has no GPS" "$(xt "$off" GPSLatitude)" ""
expect "... and no artist" "$(xt "$off" Artist)" ""

# --- apply to the photos a session already has --------------------------------------------------
expect "a northern, eastern position" "$(put '{"gps": {"lat": 48.8583701, "lon": 2.2944813}, "keywords": ["paris"]}')" "200"
expect "POST /api/tagging/apply" "$(req POST /api/tagging/apply '{"session": "default"}')" "202"
expect "... says what it does" "$(body .apply.session) $(body .apply.running) $(body .apply.total)" "default true 5"
wait_tagged() { for _ in $(seq 1 100); do [ "$(curl -s "$URL/api/tagging" | jq -r .apply.running)" = false ] && return 0; sleep 0.1; done; return 1; }
wait_tagged && ok "the apply job ends" || not_ok "the apply job ends"
req GET /api/tagging >/dev/null
expect "counts: all 5 photos tagged (cr2 through its sidecar), none failed" \
    "$(jq -c '.apply | [.status, .total, .tagged, .failed, .skipped]' body.json)" '["done",5,5,0,0]'
near "$(xt "$untagged" GPSLatitude)" 48.8583701 && ok "the photo taken before tagging now has the position" \
    || not_ok "apply tags the earlier photo" "$(xt "$untagged" GPSLatitude)"
near "$(xt "$untagged" GPSLongitude)" 2.2944813 && ok "... its longitude" || not_ok "apply: longitude"
expect "... the session's name and the keywords" "$(xt "$untagged" TransmissionReference) $(xt "$untagged" Subject)" "default paris"
expect "... the IPTC keywords replaced, not added to" "$(xt "$jpg" IPTC:Keywords)" "paris"
expect "... and the artist" "$(xt "$off" Artist)" "Ana Núñez"
rel=${untagged#photos/}
expect "the catalog has the retagged photo's new size" \
    "$(req GET '/api/photos?per_page=200' >/dev/null; jq -r --arg u "/photos/$rel" '.photos[] | select(.url == $u) | .size' body.json)" \
    "$(stat -c %s "$untagged")"
expect "a new position replaces the old one in the sidecar" "$(near "$(xt "$xmp" GPSLatitude)" 48.8583701 && echo yes)" "yes"
expect "an old altitude goes with the old position" "$(xt "$jpg" GPSAltitude)" ""
expect_true "apply events ($(grep -c '^event: tagging_apply$' events.txt))" "$(grep -c '^event: tagging_apply$' events.txt) >= 1"
expect "apply to a session that does not exist" "$(req POST /api/tagging/apply '{"session": "nope"}')" "404"
expect "apply with a bad session name" "$(req POST /api/tagging/apply '{"session": "../x"}')" "400"
expect "GET /api/tagging/apply is the wrong method" "$(req GET /api/tagging/apply)" "405"
expect "tagging is still off after apply" "$(req GET /api/tagging >/dev/null; body .enabled)" "false"

# --- the settings survive a restart ------------------------------------------------------------------
expect "back on" "$(put '{"enabled": true, "gps": {"lat": -0.5, "lon": -179.9999999, "alt": -10}}')" "200"
stop_serve "serve stops cleanly"
expect "tagging.json holds the settings" "$(jq -c '[.enabled, .gps.lon]' photos/.tether/tagging.json)" '[true,-179.9999999]'
start_serve
req GET /api/tagging >/dev/null
expect "after a restart the settings are the same" "$(jq -c '[.enabled, .gps.lat, .gps.lon, .gps.alt, .artist, .keywords]' body.json)" \
    '[true,-0.5,-179.9999999,-10,"Ana Núñez",["paris"]]'
capture
after=$(newest jpg)
near "$(xt "$after" GPSLongitude)" -179.9999999 && ok "and new captures get them" || not_ok "tagged after restart" "$(xt "$after" GPSLongitude)"
expect "an altitude below sea level" "$(xt "$after" GPSAltitude) $(exiftool -s3 -GPSAltitudeRef "$after")" "-10 Below Sea Level"

# --- the Tagging panel in a browser --------------------------------------------------------------
here=$T_TESTS
if browser_ready; then
    browser_test 120 "$here/e2e/tagging.mjs" "$URL" "$shots"
fi
stop_serve "serve stops cleanly after the browser"

# --- tether tag ---------------------------------------------------------------------------------
mkdir cli
cp "$off" cli/a.jpg
cp "$cr2" cli/b.CR2
out=$("$TETHER" tag cli/a.jpg cli/b.CR2 --gps=-22.9519,-43.2105,710 --artist "Carla" --copyright "CC BY 4.0" \
    --keywords "rio, cristo" --session "trip" --caption "Corcovado" 2>&1)
expect "tether tag tags a JPEG and a RAW file" "$?" "0"
expect_match "... saying what it wrote" "$out" 'tagged cli/b.CR2 \(sidecar cli/b.xmp\)'
near "$(xt cli/a.jpg GPSLatitude)" -22.9519 && ok "tether tag: GPSLatitude" || not_ok "tether tag: GPSLatitude" "$(xt cli/a.jpg GPSLatitude)"
near "$(xt cli/a.jpg GPSLongitude)" -43.2105 && ok "tether tag: GPSLongitude" || not_ok "tether tag: GPSLongitude"
expect "tether tag: the rest" "$(xt cli/a.jpg GPSAltitude)|$(xt cli/a.jpg Artist)|$(xt cli/a.jpg Copyright)|$(xt cli/a.jpg Subject)|$(xt cli/a.jpg TransmissionReference)|$(xt cli/a.jpg ImageDescription)" \
    "710|Carla|CC BY 4.0|rio,cristo|trip|Corcovado"
near "$(xt cli/b.xmp GPSLongitude)" -43.2105 && ok "tether tag: the sidecar" || not_ok "tether tag: the sidecar" "$(xt cli/b.xmp GPSLongitude)"
expect "tether tag --json" "$("$TETHER" --json tag cli/a.jpg --artist Dora | jq -c '[.tagged, .failed, .files[0].ok]')" '[1,0,true]'
expect "... and the artist changed" "$(xt cli/a.jpg Artist)" "Dora"
"$TETHER" tag cli/a.jpg --gps 91,0 2>err.txt
expect "tether tag --gps 91,0 is bad usage" "$?" "2"
expect_match "... saying why" "$(cat err.txt)" 'gps'
"$TETHER" tag cli/a.jpg 2>/dev/null
expect "tether tag without a value is bad usage" "$?" "2"
"$TETHER" tag cli/missing.jpg --artist x 2>err.txt
expect "tether tag on a missing file fails" "$?" "1"
expect_match "... saying which" "$(cat err.txt)" 'missing.jpg'

# --- tether capture with tag options ---------------------------------------------------------------
"$TETHER" --camera "ptpip:127.0.0.1:$SIM_PORT" capture --output 'cap/{counter}' --gps 35.6585805,139.7454329 \
    --keywords tokyo >cap.out 2>&1
expect "tether capture --gps ..." "$?" "0"
near "$(xt cap/1.jpg GPSLatitude)" 35.6585805 && ok "tether capture tags what it saves" || not_ok "tether capture tags" "$(cat cap.out)"
expect "... with the keywords" "$(xt cap/1.jpg Subject)" "tokyo"
sim_stop
