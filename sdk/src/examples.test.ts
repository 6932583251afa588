import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PodSpecError, parsePodSpec } from "./pod-spec.js";
import { canonicalManifest, manifestHash, manifestResources } from "./protocol/manifest.js";

// Every example in examples/ and every pod.yaml block in docs/pod-spec.md must parse (or, for the error example,
// fail exactly as the docs say): the docs cannot rot.
const root = join(import.meta.dirname, "../..");
const examplesDir = join(root, "examples");
const examples = readdirSync(examplesDir)
  .filter((file) => file.endsWith(".pod.yaml"))
  .sort();
const docs = readFileSync(join(root, "docs/pod-spec.md"), "utf8");

describe("examples/*.pod.yaml", () => {
  it("has the examples the docs list", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const readme = readFileSync(join(examplesDir, "README.md"), "utf8");
    for (const file of examples) {
      expect(readme).toContain(`(${file})`);
      expect(docs).toContain(`examples/${file}`);
    }
  });

  it.each(examples)("%s parses, hashes and is priced", (file) => {
    const text = readFileSync(join(examplesDir, file), "utf8");
    const manifest = parsePodSpec(text, file);
    expect(manifestHash(manifest)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(manifestResources(manifest).cpuMillis).toBeGreaterThan(0);
  });

  it.each(examples)("%s is quoted verbatim in docs/pod-spec.md", (file) => {
    const text = readFileSync(join(examplesDir, file), "utf8");
    expect(docs).toContain(`\`\`\`yaml\n${text}\`\`\``);
  });
});

describe("docs/pod-spec.md", () => {
  const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

  it.each(blocks.map((block, i) => [i, block] as const))("yaml block %i parses, or its error is quoted", (_, block) => {
    let message: string | undefined;
    try {
      parsePodSpec(block);
    } catch (error) {
      expect(error).toBeInstanceOf(PodSpecError);
      message = (error as Error).message;
    }
    if (message !== undefined) expect(docs).toContain(`\`\`\`\n${message}\n\`\`\``);
  });

  it("quotes the minimal pod's canonical form and spec hash", () => {
    const minimal = blocks.find((block) => block.startsWith("# minimal pod.yaml\n"));
    expect(minimal).toBeDefined();
    const manifest = parsePodSpec(minimal as string);
    expect(docs).toContain(`\n${canonicalManifest(manifest)}\n`);
    expect(docs).toContain(`\`${manifestHash(manifest)}\``);
  });
});
