#!/usr/bin/env bash
# `npm run typecheck`: every TypeScript project of the repository, checked by TypeScript 7's native compiler
# (installed under the npm alias `typescript-native`): the same verdicts as TypeScript 5.9's tsc on this code, in about
# a third of its CPU (docs/testing.md). TypeScript 5.9 stays installed as `typescript`: it is the library Ponder,
# dependency-cruiser and abitype load (7 has no such API yet), and the compiler of the SDK's consumer test.
# Both packages ship a bin named tsc, so node_modules/.bin/tsc may be either: this script names the one it means.
set -euo pipefail
cd "$(dirname "$0")/../.."
tsc=node_modules/typescript-native/bin/tsc
for project in tsconfig.json worker/console/tsconfig.json indexer/tsconfig.json autoscaler/image/tsconfig.json; do
  "$tsc" --noEmit -p "$project"
done
