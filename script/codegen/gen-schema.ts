/**
 * Generates sdk/pod-manifest.schema.json, the JSON Schema of pod.yaml for editors (yaml-language-server) and other
 * languages, from the zod schema in sdk/src/protocol/manifest.ts. `--check` fails when the committed file differs
 * from what the schema generates, so a manifest change without a regenerated schema cannot pass `npm test`.
 * The JSON is printed the way `biome format` prints it, so `biome check .` accepts the generated file as it is.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { podManifestJsonSchema } from "../../sdk/src/protocol/manifest.js";

const root = join(import.meta.dirname, "..", "..");
const target = join(root, "sdk/pod-manifest.schema.json");

function render(): string {
  const { $schema, ...schema } = podManifestJsonSchema();
  const document = {
    $schema,
    $id: "https://podnet.dev/schemas/pod-manifest-v1.json",
    title: "Podnet pod manifest (pod.yaml), version 1",
    description: "What a publisher asks a provider to run. Reference: docs/pod-spec.md",
    ...schema,
  };
  return biomeFormat(`${JSON.stringify(document, null, 2)}\n`);
}

function biomeFormat(json: string): string {
  const biome = join(root, "node_modules/.bin/biome");
  const result = spawnSync(biome, ["format", "--stdin-file-path=sdk/pod-manifest.schema.json"], {
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

const generated = render();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // a missing file is stale too
  }
  if (current !== generated) {
    console.error(
      "sdk/pod-manifest.schema.json is stale: the manifest schema changed. Run `npm run gen:schema` and commit it.",
    );
    process.exit(1);
  }
  console.log("The pod manifest JSON Schema is up to date.");
} else {
  writeFileSync(target, generated);
  console.log(`Wrote ${target}`);
}
