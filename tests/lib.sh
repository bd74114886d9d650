# lib.sh: helpers for the integration tests (sourced by tests/integration/*.sh).
#
# Each script is run by tests/run-suite with TETHER (the program under test)
# and TESTTOOL set.  It prints one line per check, "ok - ..." or
# "not ok - ...", which run-suite counts.  Every simulator started with
# sim_start is stopped at exit, and a simulator that dies from a sanitizer
# report or exits with an error fails the check that stops it.
#
# Clients run with HOME in a temporary folder and LC_ALL=C.

set -u
T_NAME=$(basename "$0" .sh)
T_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) # tests/, absolute (scripts cd away)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tether-test.XXXXXX")
export HOME="$T_DIR/home" LC_ALL=C TZ=UTC
mkdir -p "$HOME"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86:fast_unwind_on_malloc=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=87}"
# tests send nothing off this machine: no SSDP search to the multicast
# group (the Sony tests point it at their simulator), no V4L2 device of
# the machine's own
export TETHER_SSDP_TARGET="${TETHER_SSDP_TARGET:-none}" TETHER_V4L2_DIR="${TETHER_V4L2_DIR:-$T_DIR/no-v4l2}"
T_SIMS=()
T_FAILED=0
# slow_bar FAST SLOW: a speed check's bar: SLOW when the build under test is
# slow (ThreadSanitizer: tests/run-suite --slow), FAST otherwise
slow_bar() { if [ -n "${TETHER_TEST_SLOW:-}" ]; then echo "$2"; else echo "$1"; fi; }

ok() { echo "ok - $T_NAME: $1"; }
not_ok() {
    echo "not ok - $T_NAME: $1${2:+ -- $2}"
    T_FAILED=1
}

# check NAME CMD...: passes if CMD exits 0.
check() {
    local name=$1
    shift
    if "$@" >"$T_DIR/check.out" 2>&1; then ok "$name"; else not_ok "$name" "$(tail -n 3 "$T_DIR/check.out" | tr '\n' ' ')"; fi
}

# browser_ready: sets $shots (the screenshots' folder, made) and says
# whether the browser tests can run here (node, /usr/bin/chromium and
# playwright-core); if not, a failure saying what is missing, and false.
browser_ready() {
    shots="$T_TESTS/out/screenshots${SUITE_LABEL:+-$SUITE_LABEL}"
    mkdir -p "$shots"
    if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ] || [ ! -d "$T_TESTS/e2e/node_modules/playwright-core" ]; then
        not_ok "the browser test needs node, /usr/bin/chromium and playwright-core (scripts/install-deps check)"
        return 1
    fi
}

# browser_test LIMIT_S SCRIPT ARGS...: runs a tests/e2e script under node
# (killed after LIMIT_S seconds), printing its "ok"/"not ok" lines; a script
# that ends badly without saying what failed (a syntax error, an uncaught
# exception, killed by the limit) fails the test too.
browser_test() {
    local limit=$1 status=0
    shift
    timeout -s KILL "$limit" node "$@" >"$T_DIR/browser.out" 2>&1 || status=$?
    grep -E '^(not )?ok - ' "$T_DIR/browser.out"
    if [ $status -ne 0 ] && ! grep -q '^not ok - ' "$T_DIR/browser.out"; then
        not_ok "the browser test $(basename "$1") ran to its end" \
            "exit status $status: $(grep -Ev '^(not )?ok - ' "$T_DIR/browser.out" | head -n 6 | tr '\n' ' ')"
    fi
}

# until_ok DEADLINE_S CMD...: runs CMD every 0.1 s until it succeeds; false after DEADLINE_S seconds
until_ok() {
    local end=$(($(date +%s) + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge $end ] && return 1
        sleep 0.1
    done
}

# expect NAME ACTUAL EXPECTED
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', expected '$3'"; fi
}

# expect_match NAME TEXT REGEX
expect_match() {
    if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "'$(printf '%s' "$2" | head -c 300 | tr '\n' ' ')' does not match /$3/"; fi
}

# expect_true NAME EXPR (an awk expression over nothing, e.g. "3 > 2")
expect_true() {
    if awk "BEGIN { exit !($2) }"; then ok "$1"; else not_ok "$1" "false: $2"; fi
}

# build_cc BUILD_DIR: the C compiler the build uses (ccache left out), from
# its compile_commands.json
build_cc() {
    jq -r '[.[] | select(.file | endswith("version.c"))][0].command' "$1/compile_commands.json" |
        awk '{ c = $1; if (c ~ /ccache$/) c = $2; print c }'
}

# sim_start [OPTIONS...]: starts `tether sim ptpip` on free ports; sets
# SIM_PORT, CTL_PORT, SIM_PID, SIM_LOG.  The simulator is $TETHER_SIM when
# set (tests/run-suite --sim-from), else $TETHER.
sim_start() {
    local n=${#T_SIMS[@]}
    SIM_LOG="$T_DIR/sim$n.log"
    "${TETHER_SIM:-$TETHER}" sim ptpip --listen 127.0.0.1:0 --control 127.0.0.1:0 -v "$@" >"$T_DIR/sim$n.out" 2>"$SIM_LOG" &
    SIM_PID=$!
    T_SIMS+=("$SIM_PID")
    local i
    # (up to 60 s: the simulator renders its card's pictures before it says
    # where it listens, seconds under the sanitizers on a loaded machine)
    for i in $(seq 1 1200); do
        if grep -q '^control on' "$T_DIR/sim$n.out" 2>/dev/null; then break; fi
        if ! kill -0 "$SIM_PID" 2>/dev/null; then break; fi
        sleep 0.05
    done
    SIM_PORT=$(awk -F: '/^listening on/ { print $NF }' "$T_DIR/sim$n.out")
    CTL_PORT=$(awk -F: '/^control on/ { print $NF }' "$T_DIR/sim$n.out")
    if [ -z "$SIM_PORT" ] || [ -z "$CTL_PORT" ]; then
        not_ok "simulator starts ($*)" "$(tail -n 5 "$SIM_LOG" | tr '\n' ' ')"
        return 1
    fi
}

# sanitizer_report LOG: a sanitizer's report in LOG on one line: its
# summary, then the first frames of its first report (where to look)
sanitizer_report() {
    grep -E -m3 'ERROR|runtime error|SUMMARY' "$1" | tr '\n' ' '
    awk '/(Direct leak|WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error)/ { on = 1; n = 0 }
         on && /^ *#[0-9]+ / { printf "%s | ", $0; if (++n == 8) exit }' "$1" | tr -s ' '
}

# sim_stop NAME: stops the simulator with SIGTERM and checks it exited
# cleanly (no sanitizer report, no leak, status 0).
sim_stop() {
    local name=${1:-simulator exits cleanly}
    kill -TERM "$SIM_PID" 2>/dev/null
    local status=0
    wait "$SIM_PID" || status=$?
    if [ "$status" -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "$SIM_LOG"; then
        ok "$name"
    else
        not_ok "$name" "status $status; $(sanitizer_report "$SIM_LOG")"
    fi
}

# gp ARGS...: the real gphoto2 CLI on the current simulator (a 30 s limit,
# GP_LIMIT seconds when set; SIGKILL because libgphoto2 can ignore SIGTERM
# in its capture loop).
gp() {
    timeout -s KILL "${GP_LIMIT:-30}" gphoto2 --port "ptpip:127.0.0.1:$SIM_PORT:$SIM_PORT" "$@"
}

# state JQ-FILTER: a value from the control channel's /state.
state() { curl -sf "http://127.0.0.1:$CTL_PORT/state" | jq -r "$1"; }
# lens_still: true once the simulator's lens has stopped (motor and ring);
# read positions after `until_ok N lens_still`, not after a sleep.
lens_still() { [ "$(state .lens.moving)" = false ]; }
# camera_idle: true once the simulator has no picture being taken or queued
camera_idle() { [ "$(state .capturing)" = false ]; }
# events_open [FILE]: waits until the event stream being written to FILE
# (events.txt) has opened (its "retry:" line): events after that reach it.
events_open() { until_ok 30 grep -q '^retry:' "${1:-events.txt}" || not_ok "the event stream opens"; }

# post PATH [JSON]: POST to the control channel; prints the HTTP status.
post() {
    curl -s -o "$T_DIR/post.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        ${2:+--data "$2"} "http://127.0.0.1:$CTL_PORT$1"
}

# body_shot DIR EXT: presses the shutter button on the body while
# `gphoto2 --wait-event-and-download` waits in DIR; checks that exactly
# one *.EXT file arrives.
body_shot() {
    local dir=$1 ext=$2
    mkdir -p "$dir"
    (cd "$dir" && gp --wait-event-and-download=4s >wait.out 2>&1) &
    local waiter=$!
    sleep 1.2
    expect "shutter button pressed" "$(post /shutter)" "200"
    wait $waiter
    expect "body-initiated shot is downloaded" "$(ls "$dir"/*."$ext" 2>/dev/null | wc -l)" "1"
}

t_cleanup() {
    local pid
    for pid in "${T_SIMS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${T_KEEP:-}" ]; then echo "    (kept $T_DIR)"; else rm -rf "$T_DIR"; fi
}
trap t_cleanup EXIT

# ---- the studio server (tether serve) on the simulator started by sim_start ----
start_serve() { # ARGS...: sets URL, SERVE (environment for serve from SERVE_ENV)
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -f "$T_DIR/serve.out" # a restart must not read the last server's line
    env ${SERVE_ENV:-} "$TETHER" --camera "ptpip:127.0.0.1:$SIM_PORT" serve --listen "127.0.0.1:$port" \
        --photos "$T_DIR/photos" "$@" >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
    SERVE=$!
    T_SIMS+=("$SERVE")
    for _ in $(seq 1 100); do grep -q '^studio on' "$T_DIR/serve.out" && break; sleep 0.1; done
    URL="http://127.0.0.1:$port"
}
stop_serve() {
    kill -TERM "$SERVE"
    local status=0
    wait "$SERVE" || status=$?
    [ -z "${T_KEEP:-}" ] || cp "$T_DIR/serve.err" "$T_DIR/serve.$SERVE.err"
    if [ $status -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "$T_DIR/serve.err"; then ok "$1"
    else not_ok "$1" "status $status; $(sanitizer_report "$T_DIR/serve.err")"; fi
}
# req METHOD PATH [JSON]: prints the status; the answer is in body.json (cwd)
req() {
    local m=$1 p=$2
    shift 2
    if [ $# -gt 0 ]; then
        curl -s -o body.json -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data "$1" "$URL$p"
    else
        curl -s -o body.json -w '%{http_code}' -X "$m" "$URL$p"
    fi
}
body() { jq -r "$1" body.json; }
# status_is JQ VALUE: true when GET /api/status gives VALUE for JQ; body.json keeps the answer
status_is() { [ "$(req GET /api/status >/dev/null; body "$1")" = "$2" ]; }
# wait_api_idle ROUTE SECONDS POLL: until GET $URL/ROUTE says "running": null
# (a focus tool, a time-lapse); fails after SECONDS
wait_api_idle() {
    local end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt $end ]; do
        [ "$(curl -s "$URL$1" | jq -r '.running == null')" = true ] && return 0
        sleep "$3"
    done
    return 1
}

# loopback_rig_studio: a studio with a node on loopback, for the tests of
# camera nodes that need no namespaces: mosquitto on a port of its own
# (anonymous, 127.0.0.1 only), a simulated camera served by `tether serve
# --broker` (URL, SERVE) and a second one for `tether agent` to take
# (NODE_SIM_PORT, NODE_CTL_PORT).  Sets BROKER_PORT.  False when one of
# them does not start (said with not_ok).
loopback_rig_studio() {
    BROKER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$BROKER_PORT" >"$T_DIR/mosquitto.conf"
    mosquitto -c "$T_DIR/mosquitto.conf" >"$T_DIR/broker.log" 2>&1 &
    T_SIMS+=("$!")
    until_ok 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BROKER_PORT" ||
        { not_ok "mosquitto listens" "$(tail -n 3 "$T_DIR/broker.log")"; return 1; }
    sim_start --files 0 --seed 2 || return 1
    NODE_SIM_PORT=$SIM_PORT NODE_CTL_PORT=$CTL_PORT
    sim_start --files 0 --seed 1 || return 1
    start_serve --broker "mqtt://127.0.0.1:$BROKER_PORT"
    expect_match "tether serve starts with a broker" "$(cat "$T_DIR/serve.out")" '^studio on'
}
