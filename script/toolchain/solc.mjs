#!/usr/bin/env node
// A solc command line for forge, backed by solc-js (the official compiler built to WebAssembly, from npm).
// forge cannot download a native solc on this offline machine, so foundry.toml points `solc` here.
// It answers `--version` the way native solc does and otherwise compiles standard JSON from stdin to stdout.
//
// The input goes to the compiler through the WebAssembly heap, not through solc-js's `compile()`: that copies the
// input onto the small WebAssembly stack and crashes ("memory access out of bounds") once a build passes ~1.3 MB
// of sources. forge always sends every source's content, so no import callback is needed.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const soljsonPath = require.resolve("solc/soljson.js");

const args = process.argv.slice(2);

if (args.includes("--version")) {
  // forge asks before every build, script and test (the test suite: dozens of times), and loading the compiler
  // takes a third of a CPU second: the answer is kept per compiler file (its size and mtime name the cache entry).
  const { size, mtimeMs } = statSync(soljsonPath);
  const cached = join(dirname(soljsonPath), "..", ".cache", "podnet-solc", `version-${size}-${Math.floor(mtimeMs)}`);
  let version;
  try {
    version = readFileSync(cached, "utf8");
  } catch {
    // forge parses the line that starts with "Version:"; solc-js reports e.g. "0.8.28+commit.7893614a.Emscripten.clang".
    const soljson = require(soljsonPath);
    const [semver, commit] = soljson.UTF8ToString(soljson._solidity_version()).split("+");
    version = `${semver}+${commit.split(".").slice(0, 2).join(".")}.Linux.g++`;
    mkdirSync(dirname(cached), { recursive: true });
    writeFileSync(cached, version);
  }
  console.log("solc, the solidity compiler commandline interface");
  console.log(`Version: ${version}`);
  process.exit(0);
}

const soljson = require(soljsonPath);

const input = readFileSync(0, "utf8");
const size = soljson.lengthBytesUTF8(input) + 1;
const inputPointer = soljson._solidity_alloc(size);
soljson.stringToUTF8(input, inputPointer, size);
// solidity_compile(input, readCallback = none, context = none) returns a heap string owned by the compiler.
const outputPointer = soljson._solidity_compile(inputPointer, 0, 0);
process.stdout.write(soljson.UTF8ToString(outputPointer));
soljson._solidity_reset();
