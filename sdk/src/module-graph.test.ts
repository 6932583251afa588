import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The SDK's own import graph, counting `import type` and dynamic imports as dependency-cruiser does: actions import
// `PodnetClient` from client.ts, and the decorator imports every action, so an action that imported the decorator (or
// client.ts importing an action) would close a cycle through all of them again.

const root = import.meta.dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const files = sources(root);
const graph = new Map(
  files.map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const local = importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => resolve(dirname(file), specifier).replace(/\.js$/, ".ts"));
    return [relative(root, file), local.map((path) => relative(root, path))];
  }),
);

/** Every module `from` reaches through its imports. */
function reachable(from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(from) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next) ?? []));
  }
  return seen;
}

describe("the SDK's import graph", () => {
  it("resolves every relative import to a file", () => {
    const missing = [...graph].flatMap(([file, imports]) =>
      imports.filter((i) => !graph.has(i)).map((i) => `${file}: ${i}`),
    );
    expect(missing).toEqual([]);
  });

  it("no file in actions/ reaches the decorator, createPodnetClient or the package root", () => {
    const binding = ["decorators/podnet.ts", "create-podnet-client.ts", "index.ts"];
    const offending = [...graph.keys()]
      .filter((file) => file.startsWith("actions/"))
      .flatMap((file) =>
        binding.filter((module) => reachable(file).has(module)).map((module) => `${file} → ${module}`),
      );
    expect(offending).toEqual([]);
  });

  it("client.ts imports no action", () => {
    expect([...reachable("client.ts")].filter((module) => module.startsWith("actions/"))).toEqual([]);
  });

  it("the protocol layer imports only itself (worker and indexer load it without the SDK)", () => {
    const offending = [...graph.keys()]
      .filter((file) => file.startsWith("protocol/"))
      .flatMap((file) => [...reachable(file)].filter((module) => !module.startsWith("protocol/")));
    expect(offending).toEqual([]);
  });

  it("has no import cycle", () => {
    const cycles = [...graph.keys()].filter((file) => reachable(file).has(file));
    expect(cycles).toEqual([]);
  });
});
