#!/usr/bin/env bash
# Installs what TPS Lab needs to run and test on a fresh machine, and nothing it already has:
#   - Node.js 24 (from the npm registry's `node` package, into .tools/, never system-wide)
#   - the npm dependencies (npm ci, only when package-lock.json changed)
#   - Debian's nats-server (with --with-prometheus also prometheus + promtool and its Alertmanager; with --with-chromium
#     the chromium the console's browser tests drive; for benchmarks --with-wrk the wrk load
#     generator and --with-redis the redis-server BullMQ is compared on)
# Idempotent and quiet when there is nothing to do. Prints the Node bin dir on its last line
# when called with --print-node-dir.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node_version=24.21.0
node_prefix="$root/.tools/node24"
node_bin="$node_prefix/node_modules/node/bin/node"

with_prometheus=0
with_wrk=0
with_chromium=0
with_redis=0
print_node_dir=0
for arg in "$@"; do
  case "$arg" in
    --with-prometheus) with_prometheus=1 ;;
    --with-wrk) with_wrk=1 ;;
    --with-chromium) with_chromium=1 ;;
    --with-redis) with_redis=1 ;;
    --print-node-dir) print_node_dir=1 ;;
    -h|--help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      echo "usage: scripts/bootstrap.sh [--with-prometheus] [--with-chromium] [--with-wrk] [--with-redis] [--print-node-dir]"
      exit 0 ;;
    *) echo "bootstrap: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "bootstrap: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; return 1
  fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || { say "apt-get not found; install $* by hand"; return 1; }
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { as_root apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

# --- Node.js 24 -------------------------------------------------------------------------------
if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version)" != "v$node_version" ]; then
  system_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0)
  command -v npm >/dev/null 2>&1 || { say "npm is needed to fetch Node $node_version (install Debian's npm)"; exit 1; }
  say "installing Node $node_version into .tools/ (system node is ${system_major:-none})"
  mkdir -p "$node_prefix"
  npm install --prefix "$node_prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node@$node_version" >/dev/null 2>&1
  "$node_bin" --version >/dev/null || { say "Node $node_version did not install"; exit 1; }
fi
node_dir=$(dirname "$node_bin")
export PATH="$node_dir:$PATH"

# --- npm dependencies -------------------------------------------------------------------------
stamp="$root/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
  say "installing npm dependencies (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- Debian services --------------------------------------------------------------------------
have nats-server || apt_install nats-server
if [ "$with_prometheus" = 1 ]; then
  { have prometheus && have promtool; } || apt_install prometheus
  # The Andon cord: the alerts Prometheus fires reach the console (docs/alerts.md).
  have prometheus-alertmanager || have alertmanager || apt_install prometheus-alertmanager
fi

# Debian's own build (never a downloaded browser): playwright-core drives it at /usr/bin/chromium.
if [ "$with_chromium" = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium
fi
if [ "$with_wrk" = 1 ]; then
  have wrk || apt_install wrk
fi
if [ "$with_redis" = 1 ]; then
  have redis-server || apt_install redis-server
fi

if [ "$print_node_dir" = 1 ]; then echo "$node_dir"; fi
