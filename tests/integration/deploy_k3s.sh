# The K3s manifests (issue 16, deploy/k3s/): validated, not deployed on
# K3s here (no cluster can run on this machine).  `kubectl kustomize`
# renders them (KUBECONFIG=/dev/null: no server is ever contacted); every
# document matches the Kubernetes schemas (npm kubernetes-models, in
# tests/deploy/) and has no unknown field (a leaf of the input missing from
# kubectl's typed round-trip); injected mistakes are caught (a wrong enum,
# a port as a string, hostNetwork as a string, an unknown field); and the
# manifests say what they should: the studio pinned to its camera node,
# one replica replaced by Recreate, host network, /dev/bus/usb and the
# photos from the host, probes on /healthz, limits, a non-root user;
# camera-node agents as a DaemonSet on labelled nodes, with arguments
# `tether agent --help` knows; mosquitto behind a Service.  The image
# started with the Deployment's own arguments and probe is in
# deploy_docker.sh (it needs the image).
. "$(dirname "$0")/../lib.sh"
root=$(cd "$T_TESTS/.." && pwd)
val="$T_TESTS/deploy"
if ! command -v kubectl >/dev/null; then
    ok "K3s manifests # skip kubectl is not installed (the validation needs its kustomize and typed decoding)"
    exit 0
fi
if ! command -v node >/dev/null || [ ! -d "$val/node_modules/kubernetes-models" ]; then
    not_ok "the K3s check needs node and tests/deploy/node_modules (scripts/install-deps check)"
    exit 1
fi
export KUBECONFIG=/dev/null
status=0
kubectl kustomize "$root/deploy/k3s" >"$T_DIR/k3s.yaml" 2>"$T_DIR/kustomize.err" || status=$?
expect "kubectl kustomize renders deploy/k3s" "$status:$(head -c 300 "$T_DIR/kustomize.err")" "0:"
node "$val/k8s-validate.mjs" "$T_DIR/k3s.yaml" "$T_NAME" || T_FAILED=1

# the validator catches mistakes: each mutation of the render must fail
mutant() { # NAME SED-EXPRESSION EXPECTED-REGEX
    sed "$2" "$T_DIR/k3s.yaml" >"$T_DIR/mutant.yaml"
    if cmp -s "$T_DIR/mutant.yaml" "$T_DIR/k3s.yaml"; then not_ok "$1 is caught" "the mutation changed nothing"; return; fi
    local s=0
    node "$val/k8s-validate.mjs" "$T_DIR/mutant.yaml" mutant >"$T_DIR/mutant.out" 2>&1 || s=$?
    if [ $s -ne 0 ] && grep -Eq "^not ok - .*$3" "$T_DIR/mutant.out"; then ok "$1 is caught"
    else not_ok "$1 is caught" "status $s: $(grep '^not ok' "$T_DIR/mutant.out" | head -n 2 | tr '\n' ' ')"; fi
}
mutant "strategy Recreat (not an enum value)" 's/type: Recreate/type: Recreat/' 'Deployment/tether-studio matches'
mutant "containerPort as a string" 's/containerPort: 8080/containerPort: "8080"/' 'Deployment/tether-studio matches'
mutant "hostNetwork: \"yes\"" '0,/hostNetwork: true/s//hostNetwork: "yes"/' 'matches the Kubernetes schema'
mutant "an unknown field in a container" 's/^\( *\)name: studio$/&\n\1bogusField: 1/' 'tether-studio has no unknown field -- .*bogusField'
mutant "an unknown field in a Service" 's/^\( *\)targetPort: mqtt$/&\n\1bogusField: 1/' 'Service/mosquitto has no unknown field'
mutant "an unknown field in a Namespace" 's/^kind: Namespace$/&\nbogusField: 1/' 'Namespace/tether has no unknown field'

# what the manifests mean
node "$val/yaml2json.mjs" "$T_DIR/k3s.yaml" >"$T_DIR/k3s.json"
q() { jq -c "$1" "$T_DIR/k3s.json"; }
studio='.[] | select(.kind == "Deployment" and .metadata.name == "tether-studio")'
spec="$studio | .spec.template.spec"
ctr="$spec | .containers[] | select(.name == \"studio\")"
expect "everything in the namespace tether" "$(q '[.[] | select(.kind != "Namespace") | .metadata.namespace] | unique')" '["tether"]'
expect "the studio: one replica" "$(q "$studio | .spec.replicas")" 1
expect "replaced by Recreate (one pod owns the USB bus)" "$(q "$studio | .spec.strategy.type")" '"Recreate"'
expect "pinned to the camera node" "$(q "$spec | .nodeSelector")" '{"tether.io/camera-node":"true"}'
expect "on the host's network, still resolving Services" "$(q "$spec | [.hostNetwork, .dnsPolicy]")" '[true,"ClusterFirstWithHostNet"]'
expect "/dev/bus/usb from the host" "$(q "$spec | .volumes[] | select(.name == \"usb\") | .hostPath.path")" '"/dev/bus/usb"'
expect "mounted at /dev/bus/usb" "$(q "$ctr | .volumeMounts[] | select(.name == \"usb\") | .mountPath")" '"/dev/bus/usb"'
expect "the photos from the host" "$(q "$spec | .volumes[] | select(.name == \"photos\") | .hostPath.path")" '"/srv/tether/photos"'
photos_mount=$(q "$ctr | .volumeMounts[] | select(.name == \"photos\") | .mountPath" | tr -d '"')
expect_match "served from where they are mounted (--photos $photos_mount)" "$(q "$ctr | .args | join(\" \")")" "--photos $photos_mount( |\"|\$)"
expect "readiness probe on /healthz, on the served port" "$(q "$ctr | [.readinessProbe.httpGet.path, .readinessProbe.httpGet.port]")" '["/healthz","http"]'
expect "liveness probe on /healthz" "$(q "$ctr | .livenessProbe.httpGet.path")" '"/healthz"'
expect "the port named http is the one --listen serves" "$(q "$ctr | [(.ports[] | select(.name == \"http\") | .containerPort), (.args | index(\"--listen\") as \$i | .[\$i + 1] | split(\":\")[1] | tonumber)]")" '[8080,8080]'
expect "limits on CPU and memory" "$(q "$ctr | .resources.limits | keys")" '["cpu","memory"]'
expect "runs as a non-root user in group plugdev" "$(q "$spec | .securityContext | [.runAsNonRoot, .runAsUser, .supplementalGroups]")" '[true,10001,[46]]'
expect "a read-only root file system" "$(q "$ctr | .securityContext.readOnlyRootFilesystem")" true
expect "the token from a Secret, not from the manifests" "$(q "$ctr | .env[] | select(.name == \"TETHER_TOKEN\") | .valueFrom.secretKeyRef.name")" '"tether-studio"'
expect "the only privileged containers are the USB owners (studio, agent)" \
    "$(q '[.[] | .spec.template.spec? // empty | (.containers + (.initContainers // []))[] | select(.securityContext.privileged == true) | .name] | sort')" '["agent","studio"]'
expect "no Secret is shipped" "$(q '[.[] | select(.kind == "Secret")] | length')" 0
# every option the studio is given is one tether serve knows
help=$("$TETHER" serve --help)
missing=""
for o in $(q "$ctr | .args[]" | tr -d '"' | grep -E '^--'); do grep -q -- "$o" <<<"$help" || missing="$missing $o"; done
expect "tether serve --help knows every option of the studio's args" "$missing" ""

agent='.[] | select(.kind == "DaemonSet" and .metadata.name == "tether-agent")'
actr="$agent | .spec.template.spec.containers[0]"
expect "camera-node agents: a DaemonSet on labelled nodes" "$(q "$agent | .spec.template.spec.nodeSelector")" '{"tether.io/camera-agent":"true"}'
expect "running tether agent against the broker's Service" \
    "$(q "$actr | .args | [index(\"agent\") != null, (index(\"--broker\") as \$i | .[\$i + 1])]")" '[true,"mqtt://mosquitto.tether.svc.cluster.local:1883"]'
expect "its outbox on the node (nothing lost when the pod restarts)" \
    "$(q "$agent | .spec.template.spec.volumes[] | select(.name == \"outbox\") | .hostPath.path")" '"/var/lib/tether/outbox"'
ahelp=$("$TETHER" agent --help 2>&1)
missing=""
for o in $(q "$actr | .args | .[index(\"agent\") + 1:][]" | tr -d '"' | grep -E '^--'); do grep -q -- "$o" <<<"$ahelp" || missing="$missing $o"; done
expect "tether agent --help knows every option of the agent's args" "$missing" ""
expect "mosquitto behind a Service on 1883" "$(q '.[] | select(.kind == "Service" and .metadata.name == "mosquitto") | .spec.ports[0].port')" 1883
expect "refusing anonymous clients" "$(q '.[] | select(.kind == "ConfigMap" and .metadata.name == "mosquitto") | .data["mosquitto.conf"] | test("allow_anonymous false")')" true
exit "$T_FAILED"
