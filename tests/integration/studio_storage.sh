# The studio's photo folder as a first-class failure, against `tether serve`
# on `tether sim ptpip`: session names that cannot be folders (`..`) are
# refused; symbolic links into PHOTOS/.tether (to a file, to the folder,
# relative or absolute) serve nothing, and a catalogued photo reached
# through one is neither read nor deleted; catalog rows an older version
# wrote with such names do not break anything and DELETE says truthfully
# whether the files went; the photo folder deleted while running is
# reported by GET /api/status and no write is acknowledged after it; and,
# on a 2 MiB tmpfs in a mount namespace of its own (root only), a full
# disk answers 507 storage_full and a read-only folder 500 storage_error,
# never a camera error, with the status saying so, and the main page shows
# a banner (tests/e2e/storage.mjs).
. "$(dirname "$0")/../lib.sh"
cd "$T_DIR"
sim_start --persona canon-eos --photo-size 640x480 --files 0 || exit 1
code() { curl -s -o /dev/null -w '%{http_code}' "$URL$1"; } # PATH: the status of a GET
db() { sqlite3 -cmd '.timeout 5000' "$1/.tether/catalog.db" "$2"; } # PHOTOS SQL
wait_status() { # JQ VALUE: until GET /api/status gives VALUE for JQ (4 s); body.json keeps the last answer
    for _ in $(seq 1 40); do status_is "$1" "$2" && return; sleep 0.1; done
}

# --- session names ------------------------------------------------------------------------
start_serve
req POST /api/capture >/dev/null
id=$(body '.photos[0].id')
url=$(body '.photos[0].url')
rel=${url#/photos/}
day=$(body '.photos[0].day')
for name in 'a..b' '..' 'x..' '..y' '.' '.hidden' 'a/b' 'a\\b' "tab\\tname" ' lead'; do
    expect "session name \"$name\" is refused (400)" "$(req POST /api/sessions "{\"name\": \"$name\"}")" "400"
    expect "... bad_name" "$(body .error.code)" "bad_name"
done
expect_match "... the message gives the rule" "$(body .error.message)" '\.\.'
expect "activating \"a..b\" is refused (400)" "$(req POST /api/sessions/a..b/activate)" "400"
expect "no such session was made" "$(req GET /api/sessions >/dev/null; body '[.sessions[].name] | map(select(contains(".."))) | length')" "0"
expect "the active session is unchanged" "$(body .active)" "default"
expect "a name with single dots is fine" "$(req POST /api/sessions '{"name": "v1.2-final", "activate": false}')" "201"

# --- symbolic links into .tether ----------------------------------------------------------------
P=$T_DIR/photos
expect "the photo is served" "$(code "$url")" "200"
ln -s ../.tether/catalog.db "$P/default/cat.db"
ln -s "$P/.tether/webhooks.db" "$P/default/hooks.db"
ln -s ../.tether "$P/default/state"
ln -s "$P/.tether" "$P/default/state-abs"
ln -s "$P/.tether" "$P/state-top"
echo secret >"$P/default/.private"
ln -s .private "$P/default/public.txt"
expect "a link to the catalog: 404" "$(code /photos/default/cat.db)" "404"
expect "a link to the webhook store (absolute): 404" "$(code /photos/default/hooks.db)" "404"
expect "the catalog through a folder link: 404" "$(code /photos/default/state/catalog.db)" "404"
expect "the webhook store through a folder link: 404" "$(code /photos/default/state/webhooks.db)" "404"
expect "... through an absolute folder link: 404" "$(code /photos/default/state-abs/webhooks.db)" "404"
expect "... through a link at the top: 404" "$(code /photos/state-top/catalog.db)" "404"
expect "a link to a hidden file: 404" "$(code /photos/default/public.txt)" "404"
ln -s "$day/${rel##*/}" "$P/default/latest.jpg"
expect "a link to a photo in the folder is still served" "$(code /photos/default/latest.jpg)" "200"
expect "thumbnails are still served" "$(code "$(req GET /api/photos/$id >/dev/null; body .thumb)")" "200"

# photos whose catalogued path goes through a link into .tether
cp "$P/$rel" "$P/.tether/secret.jpg"
echo '{}' >"$P/.tether/keep.json"
n=$(db "$P" "INSERT INTO photos(session, day, rel, thumb) VALUES('default', '$day', 'default/state/secret.jpg', ''); SELECT last_insert_rowid();")
expect "no histogram of a file in .tether" "$(req GET /api/photos/$n/histogram)" "404"
expect "no EXIF of a file in .tether" "$(req GET /api/photos/$n >/dev/null; body '.exif == null')" "true"
n=$(db "$P" "INSERT INTO photos(session, day, rel, thumb) VALUES('default', '$day', 'default/state/keep.json', 'default/state/catalog.db'); SELECT last_insert_rowid();")
status=$(req DELETE /api/photos/$n)
expect "deleting a photo whose path goes into .tether is refused" "$status $(body .deleted)" "500 null"
expect "... storage_error" "$(body .error.code)" "storage_error"
check "... the file in .tether is still there" test -f "$P/.tether/keep.json"
check "... and the catalog" test -f "$P/.tether/catalog.db"

# --- rows an older version wrote --------------------------------------------------------------------
stop_serve "serve stops cleanly (links)"
mkdir -p "$P/old..one/$day"
cp "$P/$rel" "$P/old..one/$day/old.jpg"
echo outside >"$T_DIR/outside.jpg"
db "$P" "INSERT INTO sessions(name, created) VALUES('old..one', 1); UPDATE meta SET value = 'old..one' WHERE key = 'active_session';
  INSERT INTO photos(session, day, rel, thumb, taken) VALUES('old..one', '$day', 'old..one/$day/old.jpg', '', 2);
  INSERT INTO photos(session, day, rel, thumb, taken) VALUES('old..one', '$day', 'old..one/../../outside.jpg', '', 1);"
start_serve
expect "serve starts with an old session named \"old..one\" active" "$(req GET /api/status)" "200"
expect "... it falls back to the default session" "$(body .session)" "default"
expect "the old session is listed" "$(req GET '/api/photos?session=old..one')" "200"
expect "... with its two photos" "$(body .total)" "2"
old=$(body '.photos[0].id')
bad=$(body '.photos[1].id')
expect "its photo is served" "$(code "$(body '.photos[0].url')")" "200"
expect "its histogram is made" "$(req GET /api/photos/$old/histogram)" "200"
expect "its EXIF is read" "$(req GET /api/photos/$old >/dev/null; body .exif.model)" "Canon EOS 550D"
expect "it is deleted" "$(req DELETE /api/photos/$old)" "200"
check "... and its file is gone" test ! -e "$P/old..one/$day/old.jpg"
status=$(req DELETE /api/photos/$bad)
expect "a row whose path leaves the folder is not \"deleted\"" "$status $(body .deleted)" "500 null"
expect_match "... the message says why" "$(body .error.message)" 'not inside the photo folder'
check "... the file outside is untouched" test -f "$T_DIR/outside.jpg"
expect "... and the row stays" "$(req GET /api/photos/$bad)" "200"
stop_serve "serve stops cleanly (old rows)"

# --- the photo folder deleted while the server runs --------------------------------------------------
start_serve
expect "storage is OK at first" "$(req GET /api/status >/dev/null; body .storage.ok)" "true"
expect_true "... with free space" "$(body .storage.free_bytes) > 0"
rm "$P/.tether/catalog.db"
wait_status .storage.ok false
expect "the catalog file deleted: the status says storage is not OK" "$(body .storage.ok)" "false"
expect_match "... the catalog was deleted" "$(body .storage.error)" 'catalog.*deleted'
expect "... a new session is not acknowledged" "$(req POST /api/sessions '{"name": "lost"}')" "500"
rm -rf "$P"
wait_status '.storage.error | test("folder .* missing")' true
expect "the status says storage is not OK" "$(body .storage.ok)" "false"
expect_match "... the folder is missing" "$(body .storage.error)" 'missing'
expect "a new session is not acknowledged" "$(req POST /api/sessions '{"name": "lost"}')" "500"
expect "... storage_error" "$(body .error.code)" "storage_error"
expect_match "... the photo folder is missing" "$(body .error.message)" "$P.*missing"
expect "a session switch is not acknowledged" "$(req POST /api/sessions/v1.2-final/activate)" "500"
expect "a preset is not acknowledged" "$(req POST /api/presets '{"name": "p", "values": {"iso": "100"}}')" "500"
expect "tagging settings are not acknowledged" "$(req PUT /api/tagging '{"artist": "Ana"}')" "500"
expect "... storage_error" "$(body .error.code)" "storage_error"
expect "a webhook is not acknowledged" "$(req POST /api/webhooks '{"url": "https://hooks.example.com/x"}')" "500"
expect "... storage_error" "$(body .error.code)" "storage_error"
expect "a capture is refused" "$(req POST /api/capture)" "500"
expect "... storage_error" "$(body .error.code)" "storage_error"
check "the folder is not recreated behind the user's back" test ! -e "$P"
stop_serve "serve stops cleanly (folder deleted)"
start_serve
expect "a restart starts a new, empty folder" "$(req GET /api/sessions >/dev/null; body '[.active, (.sessions | length)] | join(" ")')" "default 1"
expect "... and storage is OK" "$(req GET /api/status >/dev/null; body .storage.ok)" "true"
stop_serve "serve stops cleanly (new folder)"

# --- a full disk and a read-only folder (a tmpfs in a mount namespace) -------------------------------
sim_stop "simulator exits cleanly"
Q=$T_DIR/small
mkdir -p "$Q"
if ! unshare -m true 2>/dev/null; then
    ok "# SKIP full disk and read-only folder: unshare -m needs root"
    exit 0
fi
sim_start --persona canon-eos --files 0 || exit 1 # full-size photos: 2.9 MB
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# PHOTOS is an 8 MiB tmpfs; PHOTOS/.tether a bind mount of its own, so that
# PHOTOS can be made read-only while the catalog stays open for writing.
rm -f "$T_DIR/serve.out"
unshare -m sh -c 'mount -t tmpfs -o size=8m tmpfs "$1" && mkdir "$1/.tether" && mount --bind "$1/.tether" "$1/.tether" &&
    shift && exec "$@"' sh "$Q" "$TETHER" --camera "ptpip:127.0.0.1:$SIM_PORT" serve --listen "127.0.0.1:$port" \
    --photos "$Q" >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
SERVE=$!
T_SIMS+=("$SERVE")
for _ in $(seq 1 100); do grep -qs '^studio on' "$T_DIR/serve.out" && break; sleep 0.1; done
URL="http://127.0.0.1:$port"
ns() { nsenter -t "$SERVE" -m "$@"; } # CMD...: in the server's mount namespace
# fill KIB: fills the tmpfs up to KIB KiB left free (0: all it takes)
fill() { ns sh -c "avail=\$(df -k --output=avail '$Q' | tail -n 1); dd if=/dev/zero of='$Q/fill.$1' bs=1k count=\$((avail - $1)) 2>/dev/null; true"; }
expect "serve starts on an 8 MiB tmpfs" "$(req GET /api/status)" "200"
expect "storage is OK" "$(body .storage.ok) $(body .storage.writable)" "true true"
expect_true "... total about 8 MiB ($(body .storage.total_bytes))" "$(body .storage.total_bytes) <= 8388608 && $(body .storage.total_bytes) > 8000000"
expect "a capture fits" "$(req POST /api/capture)" "201"
day=$(body '.photos[0].day')
files() { ns sh -c "ls -A '$Q/default/$day' | wc -l"; }
before=$(files)

# the disk fills while a photo is written (the status still said OK)
fill 1536
expect "1.5 MB left: storage is still OK" "$(req GET /api/status >/dev/null; body .storage.ok)" "true"
status=$(req POST /api/capture)
expect "a photo that does not fit: 507 storage_full" "$status $(body .error.code)" "507 storage_full"
expect_match "... naming the photo folder" "$(body .error.message)" "$Q"
expect "... no file left behind" "$(files)" "$before"
expect "... nothing catalogued" "$(req GET /api/photos >/dev/null; body .total)" "1"

fill 0
wait_status .storage.ok false
expect "a full disk: the status says storage is not OK" "$(body .storage.ok)" "false"
expect_match "... full" "$(body .storage.error)" 'full'
expect_true "... little free space ($(body .storage.free_bytes))" "$(body .storage.free_bytes) < 1048576"
expect "tagging settings on a full disk: 507" "$(req PUT /api/tagging '{"artist": "Ana"}')" "507"
expect "... storage_full" "$(body .error.code)" "storage_full"
expect_match "... naming the photo folder" "$(body .error.message)" "$Q"
status=$(req POST /api/capture)
expect "a capture on a full disk: 507 storage_full" "$status $(body .error.code)" "507 storage_full"
expect_match "... naming the photo folder" "$(body .error.message)" "$Q"
ns sh -c "rm -f '$Q'/fill.*"
wait_status .storage.ok true
expect "space freed: storage is OK again" "$(body .storage.ok)" "true"
expect "a capture works again" "$(req POST /api/capture)" "201"
del=$(body '.photos[0].id')
delrel=$(body '.photos[0].url')
delrel=${delrel#/photos/}

# the day's folder read-only: the status cannot see it, the capture's write fails
ns sh -c "mount --bind '$Q/default/$day' '$Q/default/$day' && mount -o remount,bind,ro '$Q/default/$day'"
status=$(req POST /api/capture)
expect "a capture into a read-only folder: 500 storage_error" "$status $(body .error.code)" "500 storage_error"
expect_match "... naming the photo folder" "$(body .error.message)" "$Q"
ns umount "$Q/default/$day"

# the whole folder read-only
ns mount -o remount,bind,ro "$Q"
wait_status .storage.writable false
expect "read-only: the status says so" "$(body .storage.ok) $(body .storage.writable)" "false false"
expect_match "... read-only" "$(body .storage.error)" 'read-only'
status=$(req DELETE /api/photos/$del)
expect "deleting a photo on a read-only folder: 500, not \"deleted\"" "$status $(body .deleted)" "500 null"
expect "... storage_error" "$(body .error.code)" "storage_error"
check "... the file is still there" ns test -f "$Q/$delrel"
expect "... and still catalogued" "$(req GET /api/photos/$del)" "200"
status=$(req POST /api/capture)
expect "a capture with the folder read-only: 500 storage_error" "$status $(body .error.code)" "500 storage_error"
expect_match "... naming the photo folder" "$(body .error.message)" "$Q.*read-only"
ns mount -o remount,bind,rw "$Q"
wait_status .storage.ok true
expect "writable again: storage is OK" "$(body .storage.ok)" "true"

# --- the banner in a browser ----------------------------------------------------------------------
here=$T_TESTS
if browser_ready; then
    browser_test 120 "$here/e2e/storage.mjs" "$URL" \
        "nsenter -t $SERVE -m sh -c 'dd if=/dev/zero of=$Q/fill.ui bs=64k 2>/dev/null; true'" \
        "nsenter -t $SERVE -m rm -f $Q/fill.ui" "$shots"
fi
stop_serve "serve stops cleanly (tmpfs)"
sim_stop "simulator exits cleanly (full-size photos)"
