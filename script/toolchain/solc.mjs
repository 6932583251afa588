#!/usr/bin/env node
// A solc command line for forge, backed by solc-js (the official compiler built to WebAssembly, from npm).
// forge cannot download a native solc on this offline machine, so foundry.toml points `solc` here.
// It answers `--version` the way native solc does and otherwise compiles standard JSON from stdin to stdout.
//
// The input goes to the compiler through the WebAssembly heap, not through solc-js's `compile()`: that copies the
// input onto the small WebAssembly stack and crashes ("memory access out of bounds") once a build passes ~1.3 MB
// of sources. forge always sends every source's content, so no import callback is needed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const soljson = require("solc/soljson.js");

const args = process.argv.slice(2);

if (args.includes("--version")) {
  // forge parses the line that starts with "Version:"; solc-js reports e.g. "0.8.28+commit.7893614a.Emscripten.clang".
  const [semver, commit] = soljson.UTF8ToString(soljson._solidity_version()).split("+");
  console.log("solc, the solidity compiler commandline interface");
  console.log(`Version: ${semver}+${commit.split(".").slice(0, 2).join(".")}.Linux.g++`);
  process.exit(0);
}

const input = readFileSync(0, "utf8");
const size = soljson.lengthBytesUTF8(input) + 1;
const inputPointer = soljson._solidity_alloc(size);
soljson.stringToUTF8(input, inputPointer, size);
// solidity_compile(input, readCallback = none, context = none) returns a heap string owned by the compiler.
const outputPointer = soljson._solidity_compile(inputPointer, 0, 0);
process.stdout.write(soljson.UTF8ToString(outputPointer));
soljson._solidity_reset();
