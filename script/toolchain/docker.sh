#!/usr/bin/env bash
# A Docker Engine for the worker's tests, the demo and the benchmarks, set up the way a provider runs one.
#   script/toolchain/docker.sh start   as root: installs what is missing from Debian (docker.io, busybox-static which
#                                      test images are built from, gcc + libc6-dev for bench:api's static keep-alive
#                                      pod server, btrfs-progs, iptables), then sets up the pod sandbox
#                                      once (idempotent): dockerd's data-root on a btrfs file system with quotas
#                                      (qgroups; a loop-mounted file), storage driver btrfs, so `--storage-opt size=`
#                                      caps a pod's root file system and the worker caps volumes with qgroups; and
#                                      `userns-remap` (root in a pod is not root on the host), both in
#                                      /etc/docker/daemon.json, and the kernel key quota raised (kernel.keys.maxkeys,
#                                      which caps user-namespaced containers at about 200 by default); a running dockerd without them is restarted with them
#                                      (its images stay in the old data-root: load or build them again). Then it uses the
#                                      engine that answers or starts dockerd in the background, in a session of its own
#                                      so a Ctrl-C to the caller does not reach it (log: /tmp/podnet-dockerd.log). Why btrfs and not overlay2 on XFS with pquota: the
#                                      kernels of these machines are built without XFS quota support. Not root: uses the engine that answers and says which
#                                      parts of the sandbox it lacks (the worker reports them too).
#   script/toolchain/docker.sh stop    stops a dockerd this script started (a user's own engine is left alone)
#   script/toolchain/docker.sh restart stop + start (the worker tests use it to prove pods come back)
# The worker installs its own firewall rules (iptables) when it starts; this script only makes sure iptables is there.
# No registry is reachable on the CI machines, so nothing here pulls images: tests build theirs FROM scratch.
set -euo pipefail
pidfile=/tmp/podnet-dockerd.pid
log=/tmp/podnet-dockerd.log
# Where the quota'd data-root lives; a provider may point these elsewhere (a real XFS disk needs no loop file).
data_root=${PODNET_DOCKER_DATA_ROOT:-/var/lib/podnet/docker}
fs_image=${PODNET_DOCKER_FS_IMAGE:-/var/lib/podnet/docker-btrfs.img}
# Sparse: only what is written takes disk space.
fs_size=${PODNET_DOCKER_FS_SIZE:-64G}
daemon_json=/etc/docker/daemon.json

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# With userns-remap every container takes a kernel key of the remapped user, and the kernel gives a non-root user 200
# by default: past ~200 pods runc refuses to start containers ("unable to create session key: disk quota exceeded").
# The worker warns about a low quota at start (docs/worker.md); here it is raised for the tests and benchmarks.
raise_key_quota() {
  local keys
  keys=$(cat /proc/sys/kernel/keys/maxkeys 2>/dev/null || echo 0)
  if [ "$keys" -lt 20000 ]; then
    sysctl -qw kernel.keys.maxkeys=20000 kernel.keys.maxbytes=2000000 || echo "warning: could not raise kernel.keys.maxkeys ($keys)" >&2
  fi
}

# The sandbox parts the running engine lacks, one word each (empty when it has them all).
missing_sandbox() {
  local info
  info=$(docker info --format '{{json .SecurityOptions}} {{.DockerRootDir}} {{json .DriverStatus}}' 2>/dev/null) || {
    echo "engine"
    return
  }
  grep -q 'name=userns' <<<"$info" || echo "userns-remap"
  grep -q '"Build Version","Btrfs' <<<"$info" || echo "btrfs-data-root"
  command -v iptables >/dev/null 2>&1 || echo "iptables"
}

install_packages() {
  local wanted=()
  command -v dockerd >/dev/null 2>&1 || wanted+=(docker.io)
  command -v docker >/dev/null 2>&1 || wanted+=(docker.io)
  [ -x /bin/busybox ] || wanted+=(busybox-static)
  command -v cc >/dev/null 2>&1 || wanted+=(gcc libc6-dev)
  command -v mkfs.btrfs >/dev/null 2>&1 || wanted+=(btrfs-progs)
  command -v iptables >/dev/null 2>&1 || wanted+=(iptables)
  [ ${#wanted[@]} -eq 0 ] && return
  echo "Installing ${wanted[*]} from Debian..." >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >&2; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >&2
  fi
}

# The data-root on btrfs with quotas (qgroups): what lets Docker cap a root file system and the worker a volume.
mount_quota_fs() {
  if ! findmnt -n -o FSTYPE --target "$data_root" 2>/dev/null | grep -q '^btrfs$'; then
    mkdir -p "$(dirname "$fs_image")" "$data_root"
    if [ ! -f "$fs_image" ]; then truncate -s "$fs_size" "$fs_image"; fi
    if ! blkid -p -s TYPE -o value "$fs_image" 2>/dev/null | grep -q '^btrfs$'; then mkfs.btrfs -q "$fs_image"; fi
    mount -o loop "$fs_image" "$data_root"
  fi
  btrfs quota enable "$data_root"
}

# daemon.json with userns-remap and the quota'd data-root; other settings already there are kept.
write_daemon_json() {
  mkdir -p "$(dirname "$daemon_json")"
  DATA_ROOT="$data_root" FILE="$daemon_json" node -e '
    const fs = require("node:fs");
    const file = process.env.FILE;
    const current = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8") || "{}") : {};
    const wanted = { ...current, "userns-remap": "default", "data-root": process.env.DATA_ROOT, "storage-driver": "btrfs" };
    if (JSON.stringify(current) !== JSON.stringify(wanted)) fs.writeFileSync(file, `${JSON.stringify(wanted, null, 2)}\n`);
  '
}

# Stops the dockerd that runs now so it comes back with daemon.json: ours by pid file, systemd's, or a plain one.
stop_running_dockerd() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    bash "$0" stop
  elif command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker 2>/dev/null; then
    systemctl stop docker
  else
    local pid
    pid=$(pidof dockerd || true)
    [ -n "$pid" ] || return 0
    kill "$pid"
    for _ in $(seq 1 160); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
  fi
}

start_dockerd() {
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet docker 2>/dev/null &&
    systemctl start docker 2>/dev/null; then
    :
  else
    # A dockerd that was killed (-9, a crash) leaves its pid file, and the next one refuses to start on it.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
    # Only stdin, stdout and stderr go along: a lock the caller holds (flock on an inherited fd) must not live on in
    # dockerd and block everyone else for as long as the engine runs. And its own session (setsid): a Ctrl-C in the
    # terminal goes to the caller's whole process group (the demo, its workers), and dockerd, which handles SIGINT
    # itself, would shut down while the demo is still removing its containers. (The subshell is not a group leader,
    # so setsid does not fork and $! stays dockerd's pid.)
    (
      for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
      done
      exec setsid dockerd </dev/null >"$log" 2>&1
    ) &
    echo $! >"$pidfile"
  fi
  for _ in $(seq 1 120); do
    answers && break
    sleep 0.5
  done
  if ! answers; then
    echo "dockerd did not come up; see $log" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}

case "${1:-start}" in
start)
  if [ "$(id -u)" -eq 0 ]; then
    install_packages
    mount_quota_fs
    write_daemon_json
    raise_key_quota
    if answers && [ -n "$(missing_sandbox)" ]; then
      echo "Restarting dockerd with the pod sandbox (userns-remap, btrfs data-root with quotas)..." >&2
      stop_running_dockerd
    fi
    answers || start_dockerd
    missing=$(missing_sandbox | tr '\n' ' ')
    if [ -n "${missing// /}" ]; then
      echo "dockerd runs without: $missing(see $log)" >&2
      exit 1
    fi
  else
    if ! answers || [ ! -x /bin/busybox ]; then
      echo "No Docker Engine answers (or /bin/busybox is missing) and installing or starting one needs root." >&2
      exit 1
    fi
    missing=$(missing_sandbox | tr '\n' ' ')
    if [ -n "${missing// /}" ]; then
      echo "warning: this engine lacks $missing; run this script as root once to set up the pod sandbox" >&2
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
