#!/usr/bin/env bash
# Installs what the repository needs, from the npm registry only: Foundry (forge, anvil, cast) ships as native
# binaries inside npm packages, solc as solc-js behind script/toolchain/solc.mjs, forge-std and OpenZeppelin as npm packages.
# Safe to run again: it does nothing when node_modules matches package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../.."

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "Podnet needs Node.js 20 or newer (found $(node --version))." >&2
  exit 1
fi

# Not `npm ci`: it insists on every platform's optional binary package (forge-darwin-arm64, biome-win32-x64, ...)
# being in the lock file, and this machine's registry does not serve those, so the lock file cannot list them.
# `npm install --no-save` installs exactly the locked versions for this platform and never rewrites the lock. It runs
# watched (npm-install.sh): an install that stalls is stopped and tried again instead of hanging the run.
# package.json's allowScripts names the dependencies whose install scripts npm 11 runs (Foundry's unpack their
# binaries, esbuild checks its own) and denies the two that compile optional native code for docker-modem's ssh
# transport (ssh2, cpu-features: ~5 CPU seconds of node-gyp; both fall back to JavaScript).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages..."
  bash script/toolchain/npm-install.sh --no-audit --no-fund --no-save
fi

# Our fixes to dependencies (patches/, see patches/README.md); npm install applies them too (postinstall). Applied
# again here for a node_modules installed before a patch was added: patch-package skips what is already applied.
node_modules/.bin/patch-package --error-on-fail >/dev/null

for tool in forge anvil cast; do
  if ! node_modules/.bin/$tool --version >/dev/null 2>&1; then
    echo "node_modules/.bin/$tool does not run; reinstall with: rm -rf node_modules && npm ci" >&2
    exit 1
  fi
done
