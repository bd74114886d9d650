# focus_sim: the focus tools end to end on `tether sim ptpip` (Canon EOS
# persona) through libgphoto2, with fixed seeds: the acceptance figures
# of docs/FOCUS.md.
#
#   - autofocus (`tether focus auto`) from the seed's random lens and
#     subject positions: bright light, dim light and two-plane scenes;
#     the final lens position against the simulator's true_focus_position
#     (and, for two planes, which plane is the sharper one);
#   - trap focus (`tether focus trap`) while the ring is turned by hand
#     through focus at 0.5, 1 and 2 Near1 steps per frame: the picture's
#     defocus (the simulator's last_shot) against half the depth of field;
#     and with the ring stopping or turning back 35 steps short of focus,
#     where it must not fire;
#   - autofocus on the Nikon persona (MfDrive units, a lens that answers
#     MfDriveStepEnd at its end stops), and on the generic persona, which
#     has no focus drive and must say so;
#   - a lens unlike the simulator's default (Near1/2/3 of 1/5/25 steps,
#     more backlash, blur 1.6x steeper on the near side) behind a live view
#     that hands out frames 50-150 ms late and repeats a fifth of them; no
#     trial anywhere may say "focused" with the lens out of the depth of
#     field;
#   - the seed's baselines (--baseline) in the same harness;
#   - focus stacking: the pictures' lens positions step evenly;
#   - the lens never lost a command (lens.dropped).
#
# In `make check` a short set runs (a few trials of each kind, about three
# minutes); the full acceptance set of docs/FOCUS.md runs with
#   FOCUS_ACCEPTANCE=1 tests/run-suite build --only focus_sim
# (FOCUS_TRIALS=N multiplies it; FOCUS_RESULTS=DIR keeps each trial's
# output).  Each trial runs its own simulator.  The machines this runs on
# may have two cores shared with the sanitizer suite, so autofocus trials
# run two at a time and trap trials, which decide on every frame in real
# time, one at a time.  Under the sanitizers a single trial of each tool
# runs: there the test is that they run clean (no sanitizer report, no
# lost command, no false fire), not how close they land.
. "$(dirname "$0")/../lib.sh"

scale=${FOCUS_TRIALS:-1}
case $TETHER in *asan*) small=1 ;; *) small=0 ;; esac
full=${FOCUS_ACCEPTANCE:-0}
par=2
R="${FOCUS_RESULTS:-$T_DIR/results}"
mkdir -p "$R"

# own_sim NAME ARGS...: starts a simulator for one trial (the Canon EOS
# persona unless ARGS name another); sets P and C
own_sim() {
    local name=$1
    shift
    "$TETHER" sim ptpip --listen 127.0.0.1:0 --control 127.0.0.1:0 --persona canon-eos --files 0 "$@" \
        >"$R/$name.sim" 2>"$R/$name.simlog" &
    SPID=$!
    local i
    for i in $(seq 1 200); do
        grep -q '^control on' "$R/$name.sim" 2>/dev/null && break
        sleep 0.05
    done
    P=$(awk -F: '/^listening on/ { print $NF }' "$R/$name.sim")
    C=$(awk -F: '/^control on/ { print $NF }' "$R/$name.sim")
}
st() { curl -sf "http://127.0.0.1:$C/state" | jq -r "$1"; }

# af_trial NAME SEED SIM-ARGS -- AF-ARGS: one autofocus; writes NAME.res:
#   status error(main plane) error(second plane or "-") frames dropped global dof_half near_blur
# where global is the plane (1 or 2) that is sharper at its own focus
af_trial() {
    local name=$1 seed=$2
    shift 2
    local simargs=() afargs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do simargs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    afargs=("$@")
    own_sim "$name" --seed "$seed" "${simargs[@]}"
    if [ -z "$P" ]; then echo "nosim" >"$R/$name.res"; return; fi
    local range global=1
    range=$(st .lens.range | awk '{ printf "%d", $1 + 0.999 }')
    local sf0
    sf0=$(st '.second_plane_focus_position // empty')
    if [ -n "$sf0" ]; then
        # which plane is the global peak: the sharper at its own focus
        local m1 m2 start
        start=$(st .motor_position)
        curl -sf -X POST -H 'Content-Type: application/json' --data "{\"position\": $(st .true_focus_position)}" "http://127.0.0.1:$C/lens" >/dev/null
        m1=$("$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus measure --count 3 | jq '[.[].tenengrad] | add')
        curl -sf -X POST -H 'Content-Type: application/json' --data "{\"position\": $sf0}" "http://127.0.0.1:$C/lens" >/dev/null
        m2=$("$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus measure --count 3 | jq '[.[].tenengrad] | add')
        awk "BEGIN { exit !($m2 > $m1) }" && global=2
        curl -sf -X POST -H 'Content-Type: application/json' --data "{\"position\": $start}" "http://127.0.0.1:$C/lens" >/dev/null
    fi
    TETHER_LOG=debug timeout -s KILL 120 "$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus auto --range "$range" "${afargs[@]}" \
        >"$R/$name.json" 2>"$R/$name.err"
    local pos tf sf
    pos=$(st .motor_position)
    tf=$(st .true_focus_position)
    sf=$(st '.second_plane_focus_position // empty')
    local e1 e2="-"
    e1=$(awk "BEGIN { printf \"%.2f\", $pos - $tf }")
    [ -n "$sf" ] && e2=$(awk "BEGIN { printf \"%.2f\", $pos - $sf }")
    echo "$(jq -r .status "$R/$name.json" 2>/dev/null || echo error) $e1 $e2 $(jq -r .measured_frames "$R/$name.json" 2>/dev/null || echo 0) $(st .lens.dropped) $global $(st .dof_half_steps) $(st .lens.near_blur)" \
        >"$R/$name.res"
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
}

# trap_trial NAME SEED SPEED PATTERN [--baseline]: trap focus with the
# ring turned at SPEED Near1 steps per frame (30 frames/s); PATTERN pass
# (through focus), short (stops 35 short), turnback (turns back 35 short).
# Writes NAME.res: fired defocus dof_half
trap_trial() {
    local name=$1 seed=$2 speed=$3 pattern=$4
    shift 4
    own_sim "$name" --seed "$seed" --lens-start 0.5
    if [ -z "$P" ]; then echo "nosim" >"$R/$name.res"; return; fi
    local tf range out side start travel sps dur
    tf=$(st .true_focus_position)
    range=$(st .lens.range | awk '{ printf "%d", $1 + 0.999 }')
    out=$((40 + seed * 7 % 40))
    side=$((seed % 2 ? 1 : -1))
    case $pattern in short | turnback) out=$((out + 60)) ;; esac
    start=$(awk "BEGIN { print $tf - $side * $out }")
    if awk "BEGIN { exit !($start < 0 || $start > $range) }"; then
        side=$((-side))
        start=$(awk "BEGIN { print $tf - $side * $out }")
    fi
    case $pattern in
    pass) travel=$((out + 40)) ;;
    *) travel=$((out - 35)) ;;
    esac
    sps=$(awk "BEGIN { print $speed * 30 * $side }")
    dur=$(awk "BEGIN { print $travel / ($speed * 30) }")
    curl -sf -X POST -H 'Content-Type: application/json' --data "{\"position\": $start}" "http://127.0.0.1:$C/lens" >/dev/null
    local limit
    limit=$(awk "BEGIN { printf \"%d\", 2 * $dur + 6 }")
    mkdir -p "$R/$name.shots"
    TETHER_LOG=debug "$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus trap -v --timeout "$limit" --dest "$R/$name.shots" "$@" \
        >"$R/$name.json" 2>"$R/$name.err" &
    local tp=$! i
    for i in $(seq 1 100); do
        grep -q 'trap: watching' "$R/$name.err" 2>/dev/null && break
        sleep 0.05
    done
    sleep 1.5 # a second of frames at rest first
    curl -sf -X POST -H 'Content-Type: application/json' --data "{\"speed\": $sps, \"duration\": $dur}" "http://127.0.0.1:$C/focus/ring" >/dev/null
    if [ "$pattern" = turnback ]; then
        sleep "$(awk "BEGIN { print $dur + 0.3 }")"
        curl -sf -X POST -H 'Content-Type: application/json' --data "{\"speed\": $(awk "BEGIN { print -($sps) }"), \"duration\": $dur}" \
            "http://127.0.0.1:$C/focus/ring" >/dev/null
    fi
    wait $tp
    local fired
    fired=$(jq -r .fired "$R/$name.json" 2>/dev/null || echo error)
    echo "$fired $(st '.last_shot.defocus // "none"') $(st .dof_half_steps)" >"$R/$name.res"
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
}

# run_all: runs the queued trials ($R/queue, one command line each), par at a time
run_all() {
    local n=0
    while IFS= read -r line; do
        eval "$line" &
        n=$((n + 1))
        if [ $((n % par)) -eq 0 ]; then wait; fi
    done <"$R/queue"
    wait
    : >"$R/queue"
}
q() { echo "$*" >>"$R/queue"; }
# show_trial NAME PATTERN: a failed trial's own account, for the log: its
# result line, its message and the last of its debug lines that match
show_trial() {
    echo "        $1: $(cat "$R/$1.res") -- $(jq -r .message "$R/$1.json" 2>/dev/null)"
    grep -F "$2" "$R/$1.err" 2>/dev/null | tail -n 12 | cut -c1-220 | sed 's/^/            /'
}

if [ $small = 1 ]; then
    n_bright=1 n_dim=0 n_two=0 n_base=0 n_trap=1 n_neg=1 trap_speeds="1" n_nikon=1 n_odd=1
elif [ "$full" = 1 ]; then
    n_bright=$((16 * scale)) n_dim=$((10 * scale)) n_two=$((10 * scale)) n_base=$((4 * scale))
    n_trap=$((4 * scale)) n_neg=$((2 * scale)) trap_speeds="0.5 1 2" n_nikon=$((6 * scale)) n_odd=$((4 * scale))
else
    n_bright=$((4 * scale)) n_dim=$((2 * scale)) n_two=$((2 * scale)) n_base=0
    n_trap=$((2 * scale)) n_neg=$((1 * scale)) trap_speeds="0.5 1 2" n_nikon=$((2 * scale)) n_odd=$((1 * scale))
fi

# --- autofocus ---------------------------------------------------------------------------------
: >"$R/queue"
for s in $(seq 1 $n_bright); do q af_trial "bright-$s" "$s"; done
for s in $(seq 1 $n_dim); do q af_trial "dim-$s" "$((100 + s))" --light dim; done
for s in $(seq 1 $n_two); do q af_trial "two-$s" "$((200 + s))" --scene two-plane; done
for s in $(seq 1 $n_base); do q af_trial "base-$s" "$s" -- --baseline; done
for s in $(seq 1 $n_nikon); do q af_trial "nikon-$s" "$((300 + s))" --persona nikon; done
# a lens unlike the simulator's, behind a live view that repeats and lags
for s in $(seq 1 $n_odd); do
    q af_trial "odd-$s" "$((400 + s))" --lens-steps 1,5,25 --backlash $((3 + s % 4)) --near-blur 1.6 \
        --lv-late 50-150 --lv-repeat 0.2
done
run_all

# summary KIND: "trials within2 frames dropped focused" over KIND-*.res
af_summary() {
    cat "$R"/"$1"-*.res 2>/dev/null | awk '
        { n++; e = $2 < 0 ? -$2 : $2; if (e <= 2) w++; f += $4; d += $5; if ($1 == "focused") ok++ }
        END { if (n) printf "%d %.1f %.1f %d %.1f %.2f\n", n, 100 * w / n, f / n, d, 100 * ok / n, 0; else print "0 0 0 0 0 0" }'
}
read -r n w f d ok _ <<<"$(af_summary bright)"
if [ $small = 1 ]; then
    expect_true "AF, bright: ran to an answer ($(cut -d' ' -f1 "$R"/bright-1.res), $w% within 2 steps)" \
        "$n == 1 && $(grep -Ec '^(focused|no-peak|lost-peak) ' "$R"/bright-1.res) == 1"
else
    expect_true "AF, bright: $w% of $n within 2 Near1 steps (>= 90%), $f measured frames on average (<= 25)" \
        "$n > 0 && $w >= 90 && $f <= 25"
    expect_true "AF, bright: says focused in $ok% of the trials" "$ok >= 90"
fi
expect "AF, bright: the lens lost no command" "$d" "0"
if [ "$n_dim" -gt 0 ]; then
    read -r n w f d ok _ <<<"$(af_summary dim)"
    expect_true "AF, dim: $w% of $n within 2 Near1 steps (>= 80%), $f frames" "$n > 0 && $w >= 80 && $f <= 25"
    expect "AF, dim: the lens lost no command" "$d" "0"
fi
if [ "$n_two" -gt 0 ]; then
    # hits on the global peak: the plane sharper at its own focus
    hits=$(cat "$R"/two-*.res | awk '{ e = $6 == 2 ? $3 : $2; e = e < 0 ? -e : e; if (e <= 2) h++ } END { print h + 0 }')
    n=$(ls "$R"/two-*.res | wc -l)
    g=$(cat "$R"/two-*.res | awk '{ a = $2 < 0 ? -$2 : $2; b = $3 < 0 ? -$3 : $3; if (a <= 2 || b <= 2) h++ } END { print h + 0 }')
    frames=$(cat "$R"/two-*.res | awk '{ f += $4 } END { printf "%.1f", f / NR }')
    expect_true "AF, two planes: ends on a plane in $g of $n" "$g == $n"
    echo "    two-plane: $frames measured frames on average"
    expect_true "AF, two planes: on the global peak in $hits of $n (>= 95%)" "$hits * 100 >= 95 * $n"
fi
read -r n w f d ok _ <<<"$(af_summary nikon)"
if [ $small = 1 ]; then
    expect_true "AF, Nikon: ran to an answer ($(cut -d' ' -f1 "$R"/nikon-1.res))" \
        "$n == 1 && $(grep -Ec '^(focused|no-peak|lost-peak) ' "$R"/nikon-1.res) == 1"
else
    expect_true "AF, Nikon: $w% of $n within 2 Near1 steps (>= 90%), $f measured frames on average (<= 30)" \
        "$n > 0 && $w >= 90 && $f <= 30"
    expect_true "AF, Nikon: says focused in $ok% of the trials" "$ok >= 90"
fi
expect "AF, Nikon: the lens lost no command" "$d" "0"

# an odd lens: focused within the depth of field, or said it was not
read -r n w f d ok _ <<<"$(af_summary odd)"
expect_true "AF, a lens with other steps, more backlash, a steeper near side, late and repeated frames: an answer in $n of $n_odd" \
    "$n == $n_odd && $(cat "$R"/odd-*.res | grep -Ec '^(focused|no-peak|lost-peak) ') == $n_odd"
expect "AF, that lens: no command lost" "$d" "0"
for f in "$R"/odd-*.res; do [ "$(cut -d' ' -f5 "$f")" = 0 ] || show_trial "$(basename "$f" .res)" 'settled:'; done
# no autofocus of tether's says "focused" with the lens out of the depth of
# field (the blur's distance: the near side counts near_blur times; on two
# planes, the nearer plane)
liars=$(cat "$R"/bright-*.res "$R"/dim-*.res "$R"/two-*.res "$R"/nikon-*.res "$R"/odd-*.res 2>/dev/null | awk '
    function blur(e, k) { return e > 0 ? e * k : -e }
    $1 == "focused" { b = blur($2, $8); if ($3 != "-" && blur($3, $8) < b) b = blur($3, $8); if (b > $7) print }')
expect "AF: no trial said focused out of the depth of field" "$liars" ""

# the Nikon's end stops: MfDriveStepEnd is the end of travel, said as such
own_sim nikon-stop --persona nikon --seed 7 --lens-start 0.02
"$TETHER" --camera "ptpip:127.0.0.1:$P" focus drive far --step 3 --count 20 >/dev/null 2>"$R/nikon-stop.err"
expect "Nikon focus drive past the far stop: fails" "$?" "1"
expect_match "Nikon focus drive past the far stop: says the lens is at its end" "$(cat "$R/nikon-stop.err")" \
    'end of its focus travel.*far end'
expect "Nikon focus drive past the far stop: the lens is at the stop" "$(st .motor_position)" "0"
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null

# the generic persona has no focus drive: autofocus says so and fails
own_sim generic --persona generic --seed 7
"$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus auto >"$R/generic.json" 2>"$R/generic.err"
expect "AF on a camera without a focus drive: fails" "$?" "1"
expect_match "AF on a camera without a focus drive: says why" "$(jq -r .message "$R/generic.json")" 'no focus (drive|control)'
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null

if [ "$n_base" -gt 0 ]; then
    read -r n w f d ok _ <<<"$(af_summary base)"
    echo "    seed baseline AF, bright: $w% of $n within 2 steps, $f frames on average"
    expect_true "the seed's baseline AF ran in the same harness ($n trials)" "$n == $n_base"
fi

# --- trap focus ----------------------------------------------------------------------------------
# one at a time: trap focus decides on every frame, in real time
par=1
: >"$R/queue"
for v in $trap_speeds; do
    for s in $(seq 1 $n_trap); do q trap_trial "trap-$v-$s" "$s" "$v" pass; done
done
for s in $(seq 1 $n_neg); do
    q trap_trial "neg-short-$s" "$((50 + s))" 1 short
    q trap_trial "neg-turn-$s" "$((60 + s))" 0.5 turnback
done
[ "$full" = 1 ] && [ $small = 0 ] && for s in 1 2; do q trap_trial "tbase-$s" "$s" 1 pass --baseline; done
run_all

for v in $trap_speeds; do
    res=$(cat "$R"/trap-$v-*.res 2>/dev/null | awk '
        { n++; if ($1 == "true" && $2 != "none") { f++; d = $2 < 0 ? -$2 : $2; if (d <= $3) h++ } }
        END { printf "%d %d %d\n", n, f, h }')
    read -r n f h <<<"$res"
    [ "$n" -gt 0 ] || continue
    if [ $small = 1 ]; then
        expect_true "trap at $v steps/frame: ran to an answer (fired in $f of $n, in focus in $h)" \
            "$(grep -Ec '^(true|false) ' "$R"/trap-$v-*.res) == $n"
        continue
    fi
    expect_true "trap at $v steps/frame: fired in $f of $n, within half the depth of field in $h (>= 90%)" \
        "$n > 0 && $h * 100 >= 90 * $n"
done
false_fires=$(cat "$R"/neg-*.res | awk '$1 == "true" { f++ } END { print f + 0 }')
expect "trap never fires when the ring stops or turns back short of focus" "$false_fires" "0"
for f in "$R"/neg-*.res; do [ "$(cut -d' ' -f1 "$f")" = true ] && show_trial "$(basename "$f" .res)" 'trap:'; done
if [ "$full" = 1 ] && [ $small = 0 ]; then
    bf=$(cat "$R"/tbase-*.res | awk '{ if ($1 == "true" && $2 != "none") { d = $2 < 0 ? -$2 : $2; if (d <= $3) h++ } } END { print h + 0 }')
    echo "    seed baseline trap (one pass at 1 step/frame): within depth of field in $bf of 2"
fi
for f in "$R"/trap-*.json; do
    jq -e 'select(.fired) | .reason | test("ahead")' "$f" >/dev/null 2>&1 || continue
    expect_match "trap reports why it fired" "$(jq -r .reason "$f")" 'parabola|learnt'
    break
done

# --- focus stacking --------------------------------------------------------------------------------
own_sim stack --seed 9 --focus-at 0.5 --lens-start 0.4 --photo-size 1296x864
p0=$(st .motor_position)
mkdir -p "$R/stackdir"
positions=()
"$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus stack --count 4 --span 30 --toward near --dest "$R/stackdir" \
    >"$R/stack.json" 2>"$R/stack.err" &
sp=$!
last=0
for i in $(seq 1 600); do
    s=$(st .shots)
    if [ "$s" != "$last" ]; then
        positions+=("$(st .last_shot.lens_position)")
        last=$s
    fi
    kill -0 $sp 2>/dev/null || break
    sleep 0.05
done
wait $sp
expect "stack: 4 pictures taken" "$(jq -r .taken "$R/stack.json")" "4"
folder=$(jq -r .folder "$R/stack.json")
expect_match "stack: in a new stack-YYYYmmdd-HHMMSS folder" "$folder" 'stack-[0-9]{8}-[0-9]{6}$'
expect "stack: 4 JPEGs in it" "$(ls "$folder"/*.[Jj][Pp][Gg] 2>/dev/null | grep -vc merged)" "4"
echo "    stack lens positions: ${positions[*]} (started at $p0)"
if [ ${#positions[@]} -eq 4 ]; then
    steps=$(awk -v a="${positions[*]}" 'BEGIN { n = split(a, p, " "); for (i = 2; i <= n; i++) printf "%.1f ", p[i] - p[i-1] }')
    expect_true "stack: even steps towards near of about 10 Near1 ($steps)" \
        "$(awk -v a="${positions[*]}" 'BEGIN { n = split(a, p, " "); ok = 1; for (i = 2; i <= n; i++) { d = p[i] - p[i-1]; if (d < 8 || d > 12) ok = 0 } print ok }') == 1"
else
    not_ok "stack: a lens position for each picture" "saw ${#positions[@]}"
fi
if command -v enfuse >/dev/null; then
    expect "stack: merged with enfuse" "$(jq -r .merged "$R/stack.json")" "$folder/merged.jpg"
    expect "stack: the merged picture decodes" "$("$TESTTOOL" jpeg "$folder/merged.jpg" 2>&1)" "1296x864"
fi
# without enfuse on PATH: the frames are kept and the message says how to merge
PATH=/nonexistent:/usr/bin/false-dir "$TETHER" --json --camera "ptpip:127.0.0.1:$P" focus stack --count 2 --span 5 \
    --dest "$R/stackdir" >"$R/stack2.json" 2>"$R/stack2.err" || true
expect "stack without enfuse: 2 pictures" "$(jq -r .taken "$R/stack2.json")" "2"
expect_match "stack without enfuse: says how to merge" "$(jq -r .message "$R/stack2.json")" 'enfuse is not installed.*enfuse --exposure-weight=0'
expect "stack without enfuse: nothing merged" "$(jq -r .merged "$R/stack2.json")" ""
# bad usage
"$TETHER" --camera "ptpip:127.0.0.1:$P" focus stack --count 1 --span 5 >/dev/null 2>&1
expect "stack --count 1 is a usage error" "$?" "2"
"$TETHER" --camera "ptpip:127.0.0.1:$P" focus auto --roi 0.1,0.1 >/dev/null 2>&1
expect "a malformed --roi is a usage error" "$?" "2"
expect "the lens lost no command while stacking" "$(st .lens.dropped)" "0"
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
# every tether and simulator process of every trial ran clean
reports=$(grep -lE 'Sanitizer|runtime error' "$R"/*.err "$R"/*.simlog 2>/dev/null | head -3 | tr '\n' ' ')
expect "no sanitizer report from any trial" "$reports" ""
