/**
 * Generates the JSON Schemas for editors (yaml-language-server) and other languages from the zod schemas of the
 * protocol layer: sdk/pod-manifest.schema.json (pod.yaml, sdk/src/protocol/manifest.ts) and
 * sdk/app-config.schema.json (app.yaml, sdk/src/protocol/app-config.ts). `--check` fails when a committed file differs
 * from what its schema generates, so a schema change without regenerated files cannot pass `npm test`.
 * The JSON is printed the way `biome format` prints it, so `biome check .` accepts the generated file as it is.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appConfigJsonSchema } from "../../sdk/src/protocol/app-config.js";
import { podManifestJsonSchema } from "../../sdk/src/protocol/manifest.js";

const root = join(import.meta.dirname, "..", "..");

/** Each generated file: where it goes, its header, and the zod schema's JSON Schema. */
const schemas = [
  {
    file: "sdk/pod-manifest.schema.json",
    $id: "https://podnet.dev/schemas/pod-manifest-v1.json",
    title: "Podnet pod manifest (pod.yaml), version 1",
    description: "What a publisher asks a provider to run. Reference: docs/pod-spec.md",
    generate: podManifestJsonSchema,
  },
  {
    file: "sdk/app-config.schema.json",
    $id: "https://podnet.dev/schemas/app-config-v1.json",
    title: "Podnet app selection config (app.yaml), version 1",
    description:
      "How the autoscaler runs an app: instances, price, placement, funding, health. Reference: docs/app-config.md",
    generate: appConfigJsonSchema,
  },
] as const;

function render(target: (typeof schemas)[number]): string {
  const { $schema, ...schema } = target.generate();
  const document = { $schema, $id: target.$id, title: target.title, description: target.description, ...schema };
  return biomeFormat(`${JSON.stringify(document, null, 2)}\n`, target.file);
}

function biomeFormat(json: string, file: string): string {
  const biome = join(root, "node_modules/.bin/biome");
  const result = spawnSync(biome, ["format", `--stdin-file-path=${file}`], {
    cwd: root,
    input: json,
    encoding: "utf8",
  });
  if (result.error || result.status !== 0) {
    console.error(`biome format failed (run \`npm install\`): ${result.error?.message ?? result.stderr}`);
    process.exit(1);
  }
  return result.stdout;
}

const check = process.argv.includes("--check");
let stale = false;
for (const target of schemas) {
  const path = join(root, target.file);
  const generated = render(target);
  if (!check) {
    writeFileSync(path, generated);
    console.log(`Wrote ${path}`);
    continue;
  }
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // a missing file is stale too
  }
  if (current !== generated) {
    console.error(`${target.file} is stale: its schema changed. Run \`npm run gen:schema\` and commit it.`);
    stale = true;
  }
}
if (check) {
  if (stale) process.exit(1);
  console.log("The JSON Schemas are up to date.");
}
