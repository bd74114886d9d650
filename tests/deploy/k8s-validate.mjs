// k8s-validate.mjs: offline checks of Kubernetes manifests, for
// tests/integration/deploy_k3s.sh.  Reads a multi-document YAML (the
// output of `kubectl kustomize deploy/k3s`) and, for every document:
//  1. validates it against the Kubernetes OpenAPI schemas bundled in the
//     npm package kubernetes-models (ajv: types, enums, required fields);
//  2. rejects unknown fields, which the schemas allow: the document goes
//     through kubectl's typed decoding (`kubectl set resources --local` for
//     workloads, `kubectl set selector --local` for Services, KUBECONFIG
//     /dev/null, no server contacted), and every leaf path of the input
//     that is missing from kubectl's output is an unknown field.  Kinds
//     without such a command (Namespace, ConfigMap) have their few fields
//     checked against a list.
// Prints one "ok - ..." or "not ok - ..." line per document and check
// (the suite's format, under the test name given as argv[3]) and exits 1
// if any failed.
//
// Usage: node k8s-validate.mjs RENDERED.yaml TEST_NAME
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { Namespace, ConfigMap, Service } from "kubernetes-models/v1";
import { Deployment, DaemonSet } from "kubernetes-models/apps/v1";

const [file, name = "k8s"] = process.argv.slice(2);
const models = { "v1/Namespace": Namespace, "v1/ConfigMap": ConfigMap, "v1/Service": Service,
                 "apps/v1/Deployment": Deployment, "apps/v1/DaemonSet": DaemonSet };
let failed = 0;
const ok = (m) => console.log(`ok - ${name}: ${m}`);
const notOk = (m, why) => { failed = 1; console.log(`not ok - ${name}: ${m} -- ${why}`); };

// leaf paths of a JSON value: "spec.template.spec.containers[0].image"
function leaves(v, path = "", out = []) {
  if (Array.isArray(v)) {
    if (v.length === 0) out.push(path);
    v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
  } else if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 0) out.push(path);
    for (const k of keys) leaves(v[k], path ? `${path}.${k}` : k, out);
  } else {
    out.push(path);
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), "k8s-validate-"));
function roundTrip(doc) {
  const f = join(tmp, "doc.json");
  writeFileSync(f, JSON.stringify(doc));
  let args;
  if (doc.kind === "Service") {
    const sel = Object.entries(doc.spec?.selector ?? { x: "y" }).map(([k, v]) => `${k}=${v}`).join(",");
    args = ["set", "selector", "--local", "-f", f, sel];
  } else {
    args = ["set", "resources", "--local", "-f", f, "--limits=cpu=1"];
  }
  const out = execFileSync("kubectl", [...args, "-o", "json", "--server=http://127.0.0.1:1"], {
    env: { ...process.env, KUBECONFIG: "/dev/null" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out);
}

// fields of the kinds kubectl has no typed local command for
const metaFields = new Set(["name", "namespace", "labels", "annotations"]);
const plainFields = { Namespace: new Set(["apiVersion", "kind", "metadata"]),
                      ConfigMap: new Set(["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"]) };

const docs = parseAllDocuments(readFileSync(file, "utf8"));
if (docs.length === 0) notOk("the render has documents", "none");
for (const d of docs) {
  if (d.errors.length) { notOk("YAML parses", d.errors[0].message); continue; }
  const doc = d.toJSON();
  const id = `${doc.kind}/${doc.metadata?.name}`;
  const Model = models[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) { notOk(`${id}: a kind this check knows`, `${doc.apiVersion} ${doc.kind}`); continue; }
  try {
    new Model(doc).validate();
    ok(`${id} matches the Kubernetes schema`);
  } catch (e) {
    notOk(`${id} matches the Kubernetes schema`, String(e.message ?? e).replace(/\s+/g, " ").slice(0, 400));
  }
  let unknown;
  if (plainFields[doc.kind]) {
    unknown = Object.keys(doc).filter((k) => !plainFields[doc.kind].has(k))
      .concat(Object.keys(doc.metadata ?? {}).filter((k) => !metaFields.has(k)).map((k) => `metadata.${k}`));
  } else {
    let back;
    try { back = roundTrip(doc); } catch (e) {
      notOk(`${id}: kubectl decodes it`, String(e.stderr ?? e.message).replace(/\s+/g, " ").slice(0, 400));
      continue;
    }
    const kept = new Set(leaves(back));
    const prefixes = new Set();
    for (const p of kept) for (let i = 1; i <= p.length; i++) if (p[i] === "." || p[i] === "[" || i === p.length) prefixes.add(p.slice(0, i));
    unknown = leaves(doc).filter((p) => !prefixes.has(p));
  }
  if (unknown.length === 0) ok(`${id} has no unknown field`);
  else notOk(`${id} has no unknown field`, unknown.join(" "));
}
rmSync(tmp, { recursive: true, force: true });
process.exit(failed);
