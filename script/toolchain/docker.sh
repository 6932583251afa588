#!/usr/bin/env bash
# A Docker Engine for the worker's tests, the demo and the benchmarks.
#   script/toolchain/docker.sh start   uses the engine that answers on DOCKER_HOST / /var/run/docker.sock; when none
#                                      does, installs Debian's docker.io (+ busybox-static, which test images are built
#                                      from) as root and starts dockerd in the background (log: /tmp/podnet-dockerd.log)
#   script/toolchain/docker.sh stop    stops a dockerd this script started (a user's own engine is left alone)
#   script/toolchain/docker.sh restart stop + start (the worker tests use it to prove pods come back)
# No registry is reachable on the CI machines, so nothing here pulls images: tests build theirs FROM scratch.
set -euo pipefail
pidfile=/tmp/podnet-dockerd.pid
log=/tmp/podnet-dockerd.log

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case "${1:-start}" in
start)
  if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
    if ! answers || [ ! -x /bin/busybox ]; then
      if [ "$(id -u)" -ne 0 ]; then
        echo "Docker Engine (and /bin/busybox) missing; install docker.io and busybox-static, or run as root." >&2
        exit 1
      fi
      echo "Installing Docker Engine and busybox-static from Debian..." >&2
      if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2
      fi
    fi
  fi
  if ! answers; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "No Docker Engine answers and starting one needs root." >&2
      exit 1
    fi
    nohup dockerd >"$log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 120); do
      answers && break
      sleep 0.5
    done
    if ! answers; then
      echo "dockerd did not come up; see $log" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
  fi
  echo "Docker Engine $(docker version --format '{{.Server.Version}}')" >&2
  ;;
stop)
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    # dockerd stops every container first (each gets its StopTimeout), so give it time.
    for _ in $(seq 1 160); do
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.25
    done
    rm -f "$pidfile"
  fi
  ;;
restart)
  bash "$0" stop
  bash "$0" start
  ;;
*)
  echo "usage: script/toolchain/docker.sh start|stop|restart" >&2
  exit 2
  ;;
esac
