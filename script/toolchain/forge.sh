#!/usr/bin/env bash
# Runs the repository's pinned forge (from npm) from the repository root, where foundry.toml lives.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node_modules/.bin/forge "$@"
