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

step "install" bash script/toolchain/setup.sh

# The contracts' checks keep one core busy for two minutes (solc-js compiles on one thread); the TypeScript checks and
# the machine's services need little of the other. They run side by side: the contracts' steps in the background
# with their output kept, printed whole when they end.
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
# Stopped on the way out (a failure below, Ctrl-C), with what it started, so no forge or solc outlives the run.
kill_tree() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
stop_contract_checks() { kill_tree "$contracts_pid"; }
trap stop_contract_checks EXIT

step "JSON Schemas of pod.yaml and app.yaml up to date" tsx script/codegen/gen-schema.ts --check
step "type-check (tsc --noEmit)" npm run --silent typecheck
step "lint and format (biome check)" biome check .
# Layer rules and import cycles (.dependency-cruiser.cjs, docs/architecture.md).
step "import rules, no cycles (dependency-cruiser)" npm run --silent check:deps
# The indexer's end-to-end test runs on embedded PGlite and on a real PostgreSQL server (the production path).
start_postgres() {
  PODNET_TEST_DATABASE_URL=$(bash script/toolchain/postgres.sh start)
  export PODNET_TEST_DATABASE_URL
  echo "PostgreSQL at $PODNET_TEST_DATABASE_URL"
}
if [ "${PODNET_SKIP_POSTGRES:-}" != "1" ]; then
  step "PostgreSQL for the indexer tests" start_postgres
  trap 'stop_contract_checks; bash script/toolchain/postgres.sh stop' EXIT
fi
# The worker's tests run real containers: use the Docker Engine that answers, or install and start Debian's.
step "Docker Engine for the worker tests" bash script/toolchain/docker.sh start
# podnet-dns is tested with a real client (dig) and benchmarked with dnsperf.
step "Debian tools (dig, dnsperf, chromium)" bash script/toolchain/debian-tools.sh

echo
echo "==> contracts (run alongside the steps above)"
contracts_status=0
wait "$contracts_pid" || contracts_status=$?
sed 's/^/    /' "$contracts_log"
rm -f "$contracts_log"
if [ "$contracts_status" -ne 0 ]; then
  echo "the contracts' checks failed (above)" >&2
  exit "$contracts_status"
fi
# The end-to-end tests deploy the contracts forge built above.
step "TypeScript and end-to-end tests (vitest)" vitest run
echo
echo "All checks passed."
