#!/usr/bin/env node
// A solc command line for forge, backed by solc-js (the official compiler built to WebAssembly, from npm).
// forge cannot download a native solc on this offline machine, so foundry.toml points `solc` here.
// It answers `--version` the way native solc does and otherwise compiles standard JSON from stdin,
// resolving imports against --base-path and --include-path like the native binary.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";

const require = createRequire(import.meta.url);
const solc = require("solc");

const args = process.argv.slice(2);

if (args.includes("--version")) {
  // forge parses the line that starts with "Version:"; solc-js reports e.g. "0.8.28+commit.7893614a.Emscripten.clang".
  const [semver, commit] = solc.version().split("+");
  console.log("solc, the solidity compiler commandline interface");
  console.log(`Version: ${semver}+${commit.split(".").slice(0, 2).join(".")}.Linux.g++`);
  process.exit(0);
}

function valuesOf(flag) {
  const values = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag && args[i + 1]) values.push(args[i + 1]);
    else if (args[i].startsWith(`${flag}=`)) values.push(args[i].slice(flag.length + 1));
  }
  return values;
}

const roots = [...valuesOf("--base-path"), ...valuesOf("--include-path")].map((p) => resolve(p));
if (roots.length === 0) roots.push(process.cwd());

function findImport(path) {
  const candidates = isAbsolute(path) ? [path] : roots.map((root) => join(root, path));
  for (const candidate of candidates) {
    try {
      return { contents: readFileSync(candidate, "utf8") };
    } catch {
      // try the next root
    }
  }
  return { error: `File not found: ${path} (searched ${roots.join(", ")})` };
}

const input = readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImport }));
