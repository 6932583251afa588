#!/usr/bin/env bash
# `npm run demo`: installs what is missing (npm packages; a Docker Engine from Debian only when none answers), then
# runs the local marketplace demo (script/demo.ts). Extra arguments go to the demo (--once, --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
bash script/setup.sh
bash script/docker.sh start
exec node_modules/.bin/tsx script/demo.ts "$@"
