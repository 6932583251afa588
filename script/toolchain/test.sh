#!/usr/bin/env bash
# `npm test`: installs what is missing, then checks everything. Each step prints its name and time. A failure before
# the end-to-end tests stops the run; the contracts' checks that run beside them (below) report when they end.
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

# CI runs the heavier fuzz/invariant profile (fuzz 1,000 runs, invariant 128 runs x depth 50).
contracts_profile=default
if [ "${CI:-}" = "true" ]; then contracts_profile=ci; fi

# Stopped on the way out (a failure below, Ctrl-C), with what it started, so nothing the run began outlives it.
source script/toolchain/process-tree.sh
background_pids=()
e2e_status=0
e2e_failures=""
on_exit() {
  for pid in "${background_pids[@]}"; do stop_tree "$pid"; done
  if [ "${PODNET_SKIP_POSTGRES:-}" != "1" ]; then bash script/toolchain/postgres.sh stop; fi
  if [ "$e2e_status" -ne 0 ]; then print_e2e_failures; fi
  if [ -n "$e2e_failures" ]; then rm -f "$e2e_failures"; fi
}

# Which end-to-end tests failed and why, a few lines each (test/failure-summary.ts): printed last, after the contracts'
# checks (also when those failed too), so a log that keeps only its tail still says which (stop 42's CI log ended on
# "end-to-end tests failed (above)", 200 lines of contract tests below the failure).
print_e2e_failures() {
  echo
  echo "==> end-to-end tests that failed (their whole output is above)"
  if [ -s "$e2e_failures" ]; then
    head -n 150 "$e2e_failures"
    local lines
    lines=$(wc -l <"$e2e_failures")
    if [ "$lines" -gt 150 ]; then echo "... and $((lines - 150)) more lines"; fi
  else
    echo "(none recorded: vitest failed outside the tests, in its setup, a crash or a stop; see above)"
  fi
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

# What the end-to-end tests deploy (contracts/src, and contracts/script's Deploy.s.sol that deploys it), built as on a
# real chain (optimizer on), without the Solidity tests: about a quarter of the whole build (solc-js, one thread). In
# the background, its output kept, while the TypeScript checks and the package tests run beside it: the mistakes made
# most often (types, lint, layers) are reported within a minute. The end-to-end tests start after all of them.
deploy_build() { step "contracts build for deployment (forge build --skip test)" forge build --skip test; }
deploy_build_log=$(mktemp -t podnet-deploy-build.XXXXXX)
deploy_build >"$deploy_build_log" 2>&1 &
deploy_build_pid=$!
background_pids+=("$deploy_build_pid")
step "JSON Schemas of pod.yaml and app.yaml up to date" tsx script/codegen/gen-schema.ts --check
step "type-check (tsc --noEmit)" npm run --silent typecheck
step "lint and format (biome check)" biome check .
# Layer rules and import cycles (.dependency-cruiser.cjs, docs/architecture.md).
step "import rules, no cycles (dependency-cruiser)" npm run --silent check:deps

# The package tests need no chain, no contracts and no Docker, but some bound how fast a server answers (the DNS
# server, the load balancer, the rate limits): they run in the foreground, before the end-to-end tests, beside the
# deployable build still running (solc-js takes one core; the tests passed beside it, 31 s against 26 alone). At nice
# 19 beside the end-to-end tests, in one run, seven of those bounds failed.
step "package tests (vitest, project units)" vitest run --project units
finish_background "contracts build for deployment" "$deploy_build_pid" "$deploy_build_log"

# The contracts' checks need nothing the end-to-end tests make, and the end-to-end tests spend much of their time
# waiting on chains, containers and daemons. So the checks run beside them at the lowest priority (nice 19): they take
# the CPU the end-to-end tests leave idle, and give it back as soon as a test wants it. Their output is kept and printed
# whole at the end; a failure is announced when it happens.
# Before the signal below: the checks that need no more than a core, at nice 19 from the end-to-end tests' start (they
# take what the tests leave idle). After it: the contract tests, which take both cores. In the last fresh-clone run
# before this split (48f8ccc) all of them started at the signal and ended 18 s after the end-to-end tests.
contract_checks_first() {
  step "solidity format (forge fmt --check)" forge fmt --check
  step "contract size limits" tsx script/toolchain/check-sizes.ts
  step "generated ABIs up to date" tsx script/codegen/gen-abis.ts --check
  # The contract tests build in folders of their own: the end-to-end tests' deployments (forge script) read
  # contracts/out and its cache meanwhile. (This function runs in a process of its own: the exports end with it.)
  # They build without the optimizer, a quarter of the optimized build's CPU (21 against 86 cpu-s): the optimizer was
  # most of solc's work, and the tests never run their own code's optimized form. What they test does not change: the
  # fixtures deploy the contracts from the release build above, contracts/out (contracts/test/utils/ReleaseBuild.sol),
  # so every test, the gas snapshots included, runs the bytes a chain runs.
  export FOUNDRY_OUT=contracts/out-tests FOUNDRY_CACHE_PATH=contracts/cache-tests FOUNDRY_OPTIMIZER=false
  step "contracts build with their tests (forge build, optimizer off)" forge build
  step "solidity lint (forge lint)" no_lint_findings
}
# Run after contract_checks_first in the same process: its exports (the test build's folders) still hold.
contract_tests() {
  step "contract tests (forge test, profile $contracts_profile)" env FOUNDRY_PROFILE=$contracts_profile forge test
  step "gas snapshots unchanged (forge test, profile gas)" env FOUNDRY_PROFILE=gas FORGE_SNAPSHOT_CHECK=true forge test
}
# Starts `job` in the background at nice 19 with its output in a file; sets `started_pid` and `started_log`. The job
# runs as a background process of its own, not as a condition: inside an `if` or `||`, bash would ignore `set -e` in
# it and go on after a failed step.
start_beside() {
  local title=$1 job=$2
  started_log=$(mktemp -t podnet-checks.XXXXXX)
  (
    renice -n 19 "$BASHPID" >/dev/null
    "$job" >"$started_log" 2>&1 &
    wait "$!" && exit 0
    echo "==> $title FAILED (its output follows the end-to-end tests)" >&2
    exit 1
  ) &
  started_pid=$!
  background_pids+=("$started_pid")
}

finish_background "machine services" "$services_pid" "$services_log"
if [ "${PODNET_SKIP_POSTGRES:-}" != "1" ]; then
  PODNET_TEST_DATABASE_URL=$(cat "$postgres_url_file")
  export PODNET_TEST_DATABASE_URL
  echo "PostgreSQL at $PODNET_TEST_DATABASE_URL"
fi
rm -f "$postgres_url_file"

# The end-to-end tests deploy the contracts forge built above. Should they fail, the checks beside them still report.
# The contract tests start once the files that run four at a time have ended: those keep both cores busy (busy
# cores every 5 s, 2f8a4e8's run: 2.0 from the install's end to their end), while the groups after them leave about a
# core idle for two minutes (0.9 busy: the engine restart, then the two stress files, one after the other until
# 74a534d, side by side since). At nice 19 the checks
# take that idle core and yield to the tests. Started with the end-to-end tests, as before, they took ~100 cpu-s out of
# the busy part (an earlier session's same move gained nothing: the busy part then had idle cores of its own). The
# test run says when: it creates the signal file as the first file of a later group starts (test/later-groups-signal.ts).
# One vitest run for all the end-to-end files: two runs, the checks started between them, cost a second run's start,
# 16 s of wall between the parts (2f790f2's fresh-clone run).
later_groups_signal=$(mktemp -u -t podnet-later-groups.XXXXXX)
e2e_failures=$(mktemp -t podnet-e2e-failures.XXXXXX)
checks_after_signal() {
  contract_checks_first
  while [ ! -e "$later_groups_signal" ]; do sleep 1; done
  contract_tests
}
start_beside "contracts' checks" checks_after_signal
contracts_pid=$started_pid contracts_log=$started_log
echo
echo "==> end-to-end tests (vitest: projects parallel and isolated, then engine-restart, docker-free and alone)"
e2e_start=$SECONDS
PODNET_TEST_FAILURES=$e2e_failures PODNET_TEST_LATER_GROUPS_SIGNAL=$later_groups_signal vitest run --project parallel --project isolated \
  --project engine-restart --project docker-free --project alone || e2e_status=$?
# A run that ended before its later groups (a crash) created no signal: the checks run now, and still report.
touch "$later_groups_signal"
if [ "$e2e_status" -eq 0 ]; then
  echo "<== end-to-end tests: ok ($((SECONDS - e2e_start)) s)"
else
  echo "<== end-to-end tests: FAILED ($((SECONDS - e2e_start)) s)"
fi

finish_background "contracts' checks" "$contracts_pid" "$contracts_log"
rm -f "$later_groups_signal"
if [ "$e2e_status" -ne 0 ]; then
  echo "end-to-end tests failed (which ones: at the very end)" >&2
  exit "$e2e_status"
fi
echo
echo "All checks passed."
