#!/usr/bin/env bash
# `npm run demo`: installs what is missing (npm packages; a Docker Engine from Debian only when none answers), then
# runs the local marketplace demo (script/dev/demo.ts). Extra arguments go to the demo (--once, --keep).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash script/toolchain/setup.sh
bash script/toolchain/docker.sh start
exec node_modules/.bin/tsx script/dev/demo.ts "$@"
