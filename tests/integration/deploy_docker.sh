# The container (issue 16; Dockerfile, compose.yaml): a private dockerd
# (scripts/docker-test-env: no bridge, no iptables, its socket and data
# under /var/tmp) builds the base debian:bookworm-slim with mmdebstrap
# (the tar cached in BUILD/deploy/, the images in the daemon's data-root,
# so a second run is fast) and the image (docker build --network host).
# Then, beside `tether sim ptpip` on 127.0.0.1, the studio container (host
# network, photos bind-mounted): /healthz answers 200 and the image's own
# HEALTHCHECK passes; a capture through the HTTP API lands in the mounted
# folder, owned by the container's user (uid 10001); `docker stop` in the
# middle of captures ends it within 10 s with status 0 and leaves no
# partial file (no temporary file, every JPEG whole); `docker-compose
# config -q` accepts compose.yaml and `docker-compose up` runs it (read-
# only root, photos owned by 10001).  Last, the manifest-driven smoke test:
# the image run with deploy/k3s's Deployment's own arguments, user,
# read-only root, Secret mount and probe path (hostNetwork -> --network
# host, hostPath -> bind mounts, privileged -> the USB device-cgroup rule,
# since --privileged cannot run here; the listen address and the broker
# made loopback, a local mosquitto standing in for the Service), passes
# its readiness probe and lands a capture in its hostPath.  Prints the
# image's size.  Skips, saying why, when dockerd cannot start.
# Needs root.
. "$(dirname "$0")/../lib.sh"
root=$(cd "$T_TESTS/.." && pwd)
build=$(cd "$(dirname "$TETHER")" && pwd)
D=/usr/bin/docker
# one daemon per build folder (the suite runs build/ and build-asan/ at once)
dd="/var/tmp/tether-docker-$(printf '%s' "$build" | md5sum | cut -c1-8)"
image="tether:test-$(printf '%s' "$build" | md5sum | cut -c1-8)"
export DOCKER_HOST="unix://$dd/docker.sock"

if [ "$(id -u)" -ne 0 ]; then
    ok "container # skip dockerd needs root"
    exit 0
fi
if ! "$root/scripts/docker-test-env" deps >"$T_DIR/deps.out" 2>&1 || [ ! -x /usr/sbin/dockerd ] || [ ! -x $D ]; then
    ok "container # skip docker.io, mmdebstrap or docker-compose cannot be installed: $(tail -n 2 "$T_DIR/deps.out" | tr '\n' ' ')"
    exit 0
fi
t0=$(date +%s)
if ! "$root/scripts/docker-test-env" start "$dd" >"$T_DIR/start.out" 2>&1; then
    ok "container # skip dockerd cannot start here: $(tail -n 2 "$T_DIR/start.out" | tr '\n' ' ')"
    exit 0
fi
containers=()
# shellcheck disable=SC2317 # (called by the trap)
d_cleanup() {
    local c
    for c in "${containers[@]}"; do $D rm -f "$c" >/dev/null 2>&1; done
    "$root/scripts/docker-test-env" stop "$dd" >/dev/null 2>&1
    t_cleanup
}
trap d_cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# the base, then the image
status=0
"$root/scripts/docker-test-env" base "$build/deploy/debian-bookworm-slim.tar" >"$T_DIR/base.out" 2>&1 || status=$?
expect "the base debian:bookworm-slim is made with mmdebstrap (no registry)" "$status:$( [ $status -eq 0 ] || tail -n 3 "$T_DIR/base.out" | tr '\n' ' ')" "0:"
t1=$(date +%s)
status=0
$D build --network host -t "$image" "$root" >"$T_DIR/build.out" 2>&1 || status=$?
expect "docker build --network host builds the image" "$status:$( [ $status -eq 0 ] || tail -n 5 "$T_DIR/build.out" | tr '\n' ' ')" "0:"
t2=$(date +%s)
if [ $status -ne 0 ]; then exit 1; fi
# untagged images older than three days: those earlier runs left (the
# data-root is kept for its cache, and the build stage's images, untagged
# too, are that cache: a plain prune would throw it away)
$D image prune -f --filter until=72h >/dev/null 2>&1
size=$($D image inspect --format '{{.Size}}' "$image")
echo "    image $image: $((size / 1000000)) MB; base ready in $((t1 - t0)) s, image built in $((t2 - t1)) s"
expect "the image runs as a non-root user" "$($D image inspect --format '{{.Config.User}}' "$image")" "tether"
expect "uid and gid 10001, in group plugdev" "$($D run --rm --network none --entrypoint id "$image")" \
    "uid=10001(tether) gid=10001(tether) groups=10001(tether),46(plugdev)"
expect "with a volume /photos" "$($D image inspect --format '{{json .Config.Volumes}}' "$image")" '{"/photos":{}}'
expect "stopped with SIGTERM" "$($D image inspect --format '{{.Config.StopSignal}}' "$image")" SIGTERM
expect_match "health checked on /healthz" "$($D image inspect --format '{{json .Config.Healthcheck.Test}}' "$image")" '/healthz'
# the runtime stage has no compiler or headers
# shellcheck disable=SC2016 # (the inner shell's and awk's $)
expect "the runtime has no compiler and no -dev package" \
    "$($D run --rm --network none --entrypoint sh "$image" -c 'command -v gcc cc; dpkg -l | awk "/^ii/ && \$2 ~ /-dev(:|\$)/ { print \$2 }"' 2>&1)" ""

# the studio container beside a simulated camera
sim_start --persona canon-eos --photo-size 648x432 || exit 1
photos="$T_DIR/photos"
mkdir -p "$photos"
chown 10001:10001 "$photos"
port=$(free_port)
containers+=(tether-studio-$$)
$D run -d --name "tether-studio-$$" --network host -v "$photos:/photos" \
    --device-cgroup-rule 'c 189:* rmw' "$image" \
    --camera "ptpip:127.0.0.1:$SIM_PORT" serve --listen "127.0.0.1:$port" --photos /photos >"$T_DIR/run.out" 2>&1
URL="http://127.0.0.1:$port"
until_ok 20 curl -sf "$URL/healthz"
expect "GET /healthz answers 200 from the container" "$(curl -s -o "$T_DIR/h.json" -w '%{http_code}' "$URL/healthz")" 200
expect "with the simulated camera connected" "$(jq -c . "$T_DIR/h.json" 2>/dev/null)" '{"ok":true,"cameras":1,"connected":1}'
# the image's own HEALTHCHECK command, run in the container now (its
# first scheduled run is 30 s away)
hc=$($D image inspect --format '{{index .Config.Healthcheck.Test 1}}' "$image")
status=0
$D exec "tether-studio-$$" sh -c "$hc" >"$T_DIR/hc.out" 2>&1 || status=$?
expect "the image's HEALTHCHECK passes" "$status" 0
status=$(curl -s -o "$T_DIR/cap.json" -w '%{http_code}' -X POST "$URL/api/capture")
expect "POST /api/capture takes a photo" "$status" 201
file=$(jq -r '.photos[0].url // empty' "$T_DIR/cap.json" 2>/dev/null | sed 's#^/photos/##')
check "it lands in the bind-mounted photos folder" test -s "$photos/$file"
expect "owned by the container's user (uid 10001)" "$(stat -c %u:%g "$photos/$file" 2>/dev/null)" "10001:10001"
check "a whole JPEG" test "$(tail -c 2 "$photos/$file" | od -An -tx1 | tr -d ' ')" = ffd9

# docker stop in the middle of captures: within 10 s, status 0, no partial file
(for _ in $(seq 1 40); do curl -s -o /dev/null -X POST "$URL/api/capture"; done) &
shooter=$!
sleep 1.5
s0=$(date +%s%N)
$D stop -t 10 "tether-studio-$$" >/dev/null 2>&1
s1=$(date +%s%N)
kill "$shooter" 2>/dev/null
wait "$shooter" 2>/dev/null
stop_ms=$(((s1 - s0) / 1000000))
echo "    docker stop took $stop_ms ms"
expect_true "docker stop ends it within 10 s (by SIGTERM, not the kill after it: $stop_ms ms)" "$stop_ms < 9500"
expect "the studio exits with status 0" "$($D inspect --format '{{.State.ExitCode}}' "tether-studio-$$")" 0
expect "no partial or temporary file is left" "$(find "$photos" -name '.tether.tmp-*' -o -name '*.part' -o -name '*.tmp' | head -n 3 | tr '\n' ' ')" ""
bad=""
n=0
while IFS= read -r f; do
    n=$((n + 1))
    [ "$(tail -c 2 "$f" | od -An -tx1 | tr -d ' ')" = ffd9 ] || bad="$bad $f"
done < <(find "$photos" -path '*/.thumbs' -prune -o -type f -iname '*.jpg' -print)
expect_true "photos were taken before the stop ($n)" "$n >= 2"
expect "every photo is whole" "$bad" ""
expect "all owned by uid 10001" "$(find "$photos" ! -uid 10001 | head -n 3 | tr '\n' ' ')" ""

# compose.yaml (v1 syntax: docker-compose 1.29)
if command -v docker-compose >/dev/null; then
    check "docker-compose config -q accepts compose.yaml" docker-compose -f "$root/compose.yaml" config -q
    # and `docker-compose up` runs it (the image it names made from ours)
    $D tag "$image" tether:local
    cphotos="$T_DIR/compose-photos"
    mkdir -p "$cphotos"
    chown 10001:10001 "$cphotos"
    cport=$(free_port)
    export TETHER_LISTEN="127.0.0.1:$cport" TETHER_PHOTOS="$cphotos" TETHER_CAMERA="ptpip:127.0.0.1:$SIM_PORT"
    compose=(docker-compose -f "$root/compose.yaml" -p "tethertest$$")
    status=0
    "${compose[@]}" up -d --no-build >"$T_DIR/compose.out" 2>&1 || status=$?
    expect "docker-compose up starts it" "$status:$( [ $status -eq 0 ] || tail -n 3 "$T_DIR/compose.out" | tr '\n' ' ')" "0:"
    until_ok 20 curl -sf "http://127.0.0.1:$cport/healthz"
    expect "GET /healthz answers 200 from the compose service" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cport/healthz")" 200
    cfile=$(curl -s -X POST "http://127.0.0.1:$cport/api/capture" | jq -r '.photos[0].url // empty' | sed 's#^/photos/##')
    expect "a capture lands in its photos folder, owned by 10001 (read-only root)" "$(stat -c %u "$cphotos/$cfile" 2>/dev/null)" 10001
    cid=$("${compose[@]}" ps -q tether 2>/dev/null)
    "${compose[@]}" stop >/dev/null 2>&1
    expect "docker-compose stop ends it with status 0" "$($D inspect --format '{{.State.ExitCode}}' "$cid" 2>&1)" 0
    "${compose[@]}" down >/dev/null 2>&1
    unset TETHER_LISTEN TETHER_PHOTOS TETHER_CAMERA
else
    ok "docker-compose config # skip docker-compose is not installed"
fi

# the manifest-driven smoke test: deploy/k3s's studio Deployment, run as docker would run its pod
if ! command -v kubectl >/dev/null || [ ! -d "$T_TESTS/deploy/node_modules/yaml" ] || ! command -v mosquitto >/dev/null; then
    ok "the image with the K3s Deployment's arguments # skip needs kubectl, tests/deploy/node_modules and mosquitto"
    exit "$T_FAILED"
fi
KUBECONFIG=/dev/null kubectl kustomize "$root/deploy/k3s" >"$T_DIR/k3s.yaml"
node "$T_TESTS/deploy/yaml2json.mjs" "$T_DIR/k3s.yaml" |
    jq '.[] | select(.kind == "Deployment" and .metadata.name == "tether-studio") | .spec.template.spec' >"$T_DIR/pod.json"
ctr='.containers[] | select(.name == "studio")'
pj() { jq -r "$1" "$T_DIR/pod.json"; }
kport=$(pj "$ctr | .ports[] | select(.name == \"http\") | .containerPort")
probe=$(pj "$ctr | .readinessProbe.httpGet.path")
live=$(pj "$ctr | .livenessProbe.httpGet.path")
mport=$(free_port)
cat >"$T_DIR/mosquitto.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
CONF
mosquitto -c "$T_DIR/mosquitto.conf" >"$T_DIR/mosquitto.log" 2>&1 &
T_SIMS+=($!)
kport2=$(free_port)
# the args as the manifest has them, made loopback: the listen address,
# the broker's Service and $(HOST_IP)
mapfile -t args < <(pj "$ctr | .args[]" | sed -e "s#^0\.0\.0\.0:$kport\$#127.0.0.1:$kport2#" \
    -e "s#^mqtt://mosquitto\.tether\.svc\.cluster\.local:1883\$#mqtt://127.0.0.1:$mport#" \
    -e "s#\$(HOST_IP):$kport#127.0.0.1:$kport2#")
echo "    manifest args (made loopback): ${args[*]}"
# volumes: hostPath -> bind mounts (the photos; /dev/bus/usb is absent on
# this machine: no USB in its kernel); the Secret -> files
kphotos="$T_DIR/k3s-photos"
mkdir -p "$kphotos" "$T_DIR/secret"
chown 10001:10001 "$kphotos"
echo "studio-broker-password-9" >"$T_DIR/secret/studio-password"
chmod 0644 "$T_DIR/secret/studio-password"
ptm=$(pj "$ctr | .volumeMounts[] | select(.name == \"photos\") | .mountPath")
sem=$(pj "$ctr | .volumeMounts[] | select(.name == \"secret\") | .mountPath")
run=(--network host --user "$(pj '.securityContext.runAsUser'):$(pj '.securityContext.runAsGroup')")
for g in $(pj '.securityContext.supplementalGroups[]'); do run+=(--group-add "$g"); done
[ "$(pj "$ctr | .securityContext.readOnlyRootFilesystem")" = true ] && run+=(--read-only)
[ "$(pj "$ctr | .securityContext.privileged")" = true ] && run+=(--device-cgroup-rule 'c 189:* rmw')
run+=(-v "$kphotos:$ptm" -v "$T_DIR/secret:$sem:ro" --tmpfs /tmp)
run+=(-e TETHER_TOKEN=k3s-smoke-token-1234 -e "TETHER_CAMERA=ptpip:127.0.0.1:$SIM_PORT" -e HOST_IP=127.0.0.1)
containers+=(tether-k3s-$$)
$D run -d --name "tether-k3s-$$" "${run[@]}" "$image" "${args[@]}" >"$T_DIR/krun.out" 2>&1
KURL="http://127.0.0.1:$kport2"
until_ok 20 curl -sf "$KURL$probe"
expect "the container with the Deployment's args passes its readinessProbe ($probe)" "$(curl -s -o /dev/null -w '%{http_code}' "$KURL$probe")" 200
expect "and its livenessProbe ($live)" "$(curl -s -o /dev/null -w '%{http_code}' "$KURL$live")" 200
status=$(curl -s -o "$T_DIR/kcap.json" -w '%{http_code}' -H 'Authorization: Bearer k3s-smoke-token-1234' -X POST "$KURL/api/capture")
expect "a capture with the Secret's token" "$status" 201
kfile=$(jq -r '.photos[0].url // empty' "$T_DIR/kcap.json" 2>/dev/null | sed 's#^/photos/##')
check "lands in the photos hostPath" test -s "$kphotos/$kfile"
t3=$(date +%s%N)
$D stop -t 10 "tether-k3s-$$" >/dev/null 2>&1
expect "and it stops cleanly on SIGTERM ($((($(date +%s%N) - t3) / 1000000)) ms)" "$($D inspect --format '{{.State.ExitCode}}' "tether-k3s-$$")" 0
[ "$T_FAILED" -eq 0 ] || $D logs "tether-k3s-$$" 2>&1 | tail -n 5 | sed 's/^/    k3s container: /'
exit "$T_FAILED"
