#!/usr/bin/env bash
# `npm test`: installs what is missing, then checks everything. Each step prints its name and time;
# the first failure stops the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1

step() {
  local name=$1
  shift
  echo
  echo "==> $name"
  local start=$SECONDS
  "$@"
  echo "<== $name: ok ($((SECONDS - start)) s)"
}

no_lint_findings() {
  local out
  out=$(forge lint contracts/src 2>&1)
  if grep -qE '^(warning|error|note)' <<<"$out"; then
    echo "$out"
    echo "forge lint reported findings in contracts/src" >&2
    return 1
  fi
}

# CI runs the heavier fuzz/invariant profile (fuzz 1,000 runs, invariant 256 runs x depth 50).
contracts_profile=default
if [ "${CI:-}" = "true" ]; then contracts_profile=ci; fi

# Stopped on the way out (a failure below, Ctrl-C), with what it started, so nothing the run began outlives it.
kill_tree() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
background_pids=()
on_exit() {
  for pid in "${background_pids[@]}"; do kill_tree "$pid"; done
  if [ "${PODNET_SKIP_POSTGRES:-}" != "1" ]; then bash script/toolchain/postgres.sh stop; fi
}
trap on_exit EXIT

# Waits for the background job `pid`, prints its kept output (`log`) under `title`, and stops the run if it failed.
finish_background() {
  local title=$1 pid=$2 log=$3 status=0
  wait "$pid" || status=$?
  echo
  echo "==> $title (run alongside the steps above)"
  sed 's/^/    /' "$log"
  rm -f "$log"
  if [ "$status" -ne 0 ]; then
    echo "$title failed (above)" >&2
    exit "$status"
  fi
}

# The machine's services need no npm package. On a fresh machine their apt installs take minutes, mostly waiting on
# the network and the disk, so they start first, in the background, beside the npm install and the checks below.
# The indexer's end-to-end test runs on embedded PGlite and on a real PostgreSQL server (the production path); the
# devnets' indexers run on it too (test/global-setup.ts). The worker's tests run real containers: the Docker Engine
# that answers, or Debian's, installed and started. podnet-dns is tested with a real client (dig) and benchmarked
# with dnsperf.
postgres_url_file=$(mktemp -t podnet-postgres-url.XXXXXX)
machine_services() {
  if [ "${PODNET_SKIP_POSTGRES:-}" != "1" ]; then
    step "PostgreSQL for the indexer tests" bash -c "bash script/toolchain/postgres.sh start >'$postgres_url_file'"
  fi
  step "Docker Engine for the worker tests" bash script/toolchain/docker.sh start
  step "Debian tools (dig, dnsperf, chromium)" bash script/toolchain/debian-tools.sh
}
services_log=$(mktemp -t podnet-services.XXXXXX)
machine_services >"$services_log" 2>&1 &
services_pid=$!
background_pids+=("$services_pid")

step "install" bash script/toolchain/setup.sh

# The contracts' checks keep one core busy for two minutes (solc-js compiles on one thread); the TypeScript checks
# need little of the other. They run side by side: the contracts' steps in the background with their output kept,
# printed whole when they end.
contract_checks() {
  step "solidity format (forge fmt --check)" forge fmt --check
  step "contracts build (forge build)" forge build
  step "contract size limits" tsx script/toolchain/check-sizes.ts
  step "solidity lint (forge lint)" no_lint_findings
  step "generated ABIs up to date" tsx script/codegen/gen-abis.ts --check
  step "contract tests (forge test, profile $contracts_profile)" env FOUNDRY_PROFILE=$contracts_profile forge test
  step "gas snapshots unchanged (forge test, profile gas)" env FOUNDRY_PROFILE=gas FORGE_SNAPSHOT_CHECK=true forge test
}
contracts_log=$(mktemp -t podnet-contract-checks.XXXXXX)
contract_checks >"$contracts_log" 2>&1 &
contracts_pid=$!
background_pids+=("$contracts_pid")

# The contracts' build and tests are the longest path to the end-to-end tests, and solc-js uses one thread: the
# foreground below runs at a lower priority (nice), on what the compiler leaves. Without it, the type-check and the
# package tests took a share of the compiler's core: `forge build` took 164 s in one run, 93 s beside the type-check
# alone.
step "JSON Schemas of pod.yaml and app.yaml up to date" nice tsx script/codegen/gen-schema.ts --check
step "type-check (tsc --noEmit)" nice npm run --silent typecheck
step "lint and format (biome check)" nice biome check .
# Layer rules and import cycles (.dependency-cruiser.cjs, docs/architecture.md).
step "import rules, no cycles (dependency-cruiser)" nice npm run --silent check:deps

finish_background "machine services" "$services_pid" "$services_log"
if [ "${PODNET_SKIP_POSTGRES:-}" != "1" ]; then
  PODNET_TEST_DATABASE_URL=$(cat "$postgres_url_file")
  export PODNET_TEST_DATABASE_URL
  echo "PostgreSQL at $PODNET_TEST_DATABASE_URL"
fi
rm -f "$postgres_url_file"

# The package tests need no chain and no contracts: they use the core the contracts' checks leave idle.
step "package tests (vitest, project units)" nice vitest run --project units

finish_background "contracts" "$contracts_pid" "$contracts_log"
# The end-to-end tests deploy the contracts forge built above.
step "end-to-end tests (vitest: projects parallel, isolated, alone)" vitest run --project parallel --project isolated --project alone
echo
echo "All checks passed."
