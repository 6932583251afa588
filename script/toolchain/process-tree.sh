#!/usr/bin/env bash
# Sourced, not run: stopping a process with everything it started (npm's scripts, a test run's daemons).

# The pid and its descendants, parents first: listed before any is signalled, so a child that its parent's end hands
# to init is still in the list.
tree_pids() {
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$child"; done
}

# A process that ended but is not yet reaped (a zombie: our own child, until bash waits for it) counts as ended.
any_alive() {
  local pid state
  for pid in "$@"; do
    state=$(ps -o stat= -p "$pid" 2>/dev/null) && [[ $state != Z* ]] && return 0
  done
  return 1
}

# TERM to the tree of `pid`; KILL after `grace` seconds (default 2) to what is left of it.
stop_tree() {
  local pids tenths=0
  mapfile -t pids < <(tree_pids "$1")
  kill -TERM "${pids[@]}" 2>/dev/null || true
  while any_alive "${pids[@]}" && [ "$tenths" -lt "$((${2:-2} * 10))" ]; do
    sleep 0.1
    tenths=$((tenths + 1))
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  # KILL takes effect when the process next runs in the kernel: one in uninterruptible sleep (a page read from a busy
  # disk) ends later. Returns once all have ended (or 10 s), so the caller's next step does not race them: a loaded
  # fresh-clone run found the parent still alive right after stop_tree returned (npm-install.test, 2026-12-07).
  tenths=0
  while any_alive "${pids[@]}" && [ "$tenths" -lt 100 ]; do
    sleep 0.1
    tenths=$((tenths + 1))
  done
}
