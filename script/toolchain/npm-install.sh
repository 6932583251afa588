#!/usr/bin/env bash
# `npm install "$@"` that cannot hang the run. npm can wait for good on registry connections that stop answering, or
# stall in its reify step (npm/cli#4028): a CI run (stop 41) printed npm's engine warnings, then nothing until its
# 90 minutes were up. Healthy, an install from an empty cache takes ~30 s here and never goes 7 s without a line of
# npm's http log (one per request). So an attempt that prints nothing for PODNET_NPM_STALL_S seconds (default 150), or
# runs PODNET_NPM_LIMIT_S seconds in all (default 900), is stopped with everything it started, its last lines are
# shown, and it is tried again from a clean node_modules (a half-unpacked package would pass for installed) and, the
# last time, an empty cache (a damaged cache can stall npm too): PODNET_NPM_ATTEMPTS attempts (default 3).
# Runs in the current directory (setup.sh: the repository's root).
set -euo pipefail
source "$(dirname "$0")/process-tree.sh"

# The environment variable `name`, or `default` when unset; a whole number above 0, or the script stops (exit 2).
setting() {
  local value=${!1:-$2}
  if ! [[ $value =~ ^[1-9][0-9]*$ ]]; then
    echo "npm-install.sh: $1 must be a whole number above 0 (got '$value')" >&2
    return 2
  fi
  echo "$value"
}
stall_s=$(setting PODNET_NPM_STALL_S 150)
limit_s=$(setting PODNET_NPM_LIMIT_S 900)
attempts=$(setting PODNET_NPM_ATTEMPTS 3)

log=$(mktemp -t podnet-npm-install.XXXXXX)
fresh_cache=
trap 'rm -rf "$log" ${fresh_cache:+"$fresh_cache"}' EXIT

# One attempt; its output goes to $log. Returns npm's status, or 124 when the watch stopped it (the reason in $stopped).
stopped=
attempt() {
  # A single stuck request is retried by npm itself (--fetch-timeout: 8x the slowest request seen from an empty
  # cache) long before the watch gives up on the whole attempt.
  npm install --loglevel=http --fetch-timeout=120000 --fetch-retries=4 "$@" >"$log" 2>&1 &
  local pid=$! started=$SECONDS quiet_since=$SECONDS size=0 now
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.5
    now=$(stat -c %s "$log")
    if [ "$now" -ne "$size" ]; then
      size=$now
      quiet_since=$SECONDS
    fi
    if ((SECONDS - quiet_since >= stall_s)); then
      stopped="no output for $stall_s s"
    elif ((SECONDS - started >= limit_s)); then
      stopped="still running after $limit_s s"
    else
      continue
    fi
    stop_tree "$pid" 5
    wait "$pid" 2>/dev/null || true
    return 124
  done
  wait "$pid"
}

for ((n = 1; n <= attempts; n++)); do
  extra=()
  if ((n > 1)); then
    # What the stopped attempt unpacked, in the root and in each workspace.
    rm -rf node_modules ./*/node_modules
    if ((n == attempts)); then
      fresh_cache=$(mktemp -d -t podnet-npm-cache.XXXXXX)
      extra=(--cache "$fresh_cache")
    fi
  fi
  status=0
  attempt "$@" "${extra[@]}" || status=$?
  if [ "$status" -eq 0 ]; then
    # npm's own lines (warnings, "added N packages"); the one line per request only counted.
    grep -v '^npm http ' "$log" || true
    echo "($(grep -c '^npm http fetch' "$log" || true) registry requests)"
    exit 0
  fi
  if [ "$status" -ne 124 ]; then
    cat "$log" >&2
    echo "npm install failed (exit $status; above)" >&2
    exit "$status"
  fi
  echo "npm install, attempt $n of $attempts: stopped, $stopped. Its last lines:" >&2
  tail -n 15 "$log" | sed 's/^/    /' >&2
done
echo "npm install did not finish in $attempts attempts: is the npm registry reachable? (npm config get registry)" >&2
exit 1
