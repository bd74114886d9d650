// yaml2json.mjs: a multi-document YAML file as one JSON array, for the
// assertions of tests/integration/deploy_k3s.sh (jq reads it).
// Usage: node yaml2json.mjs FILE.yaml
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
const docs = parseAllDocuments(readFileSync(process.argv[2], "utf8")).map((d) => d.toJSON());
process.stdout.write(JSON.stringify(docs) + "\n");
