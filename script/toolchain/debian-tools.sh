#!/usr/bin/env bash
# The Debian programs the tests and benchmarks drive: dig and dnsperf (podnet-dns), chromium (the console's browser
# tests and page-load bench; `npx playwright install` cannot work offline), zsh and fish (podnet's shell completion is
# tested in each real shell), systemd-analyze (the worker's example unit is verified). Installs what is missing (needs root);
# `apt-get update` only when the first install attempt fails (a fresh machine's empty lists).
set -euo pipefail
missing=()
command -v dig >/dev/null || missing+=(bind9-dnsutils)
command -v dnsperf >/dev/null || missing+=(dnsperf)
command -v chromium >/dev/null || missing+=(chromium fonts-dejavu-core)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing ${missing[*]}: install Debian's ${missing[*]} (or run as root)." >&2
  exit 1
fi
echo "Installing ${missing[*]} from Debian..." >&2
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
