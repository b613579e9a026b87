#!/usr/bin/env bash
# A private Docker engine for `make test-compose`: its own dockerd, data root, exec root, pid file
# and socket, so it never touches a Docker the machine already runs, and a clean-up that removes
# exactly what it made.
#   tests/docker/engine.sh start   install what is missing, start dockerd, wait until it answers
#   tests/docker/engine.sh restart stop it and its containers, start it again (a reboot, for the stack)
#   tests/docker/engine.sh stop    stop it (by its pid) and remove its bridge, mounts and rules
#   tests/docker/engine.sh env     the variables a client needs (eval "$(... env)")
#
# Networking keeps every container on this machine: the daemon runs with iptables, IP forwarding
# and masquerading off, so the kernel (net.ipv4.ip_forward=0) never routes a container's packet
# past its bridge; where forwarding is already on, one FORWARD rule drops anything from our
# addresses to elsewhere. Published ports still work through docker-proxy on 127.0.0.1.
# Names other than the stack's own fail too: Docker's embedded DNS forwards them from inside the
# container's network namespace, which has no route out. Builds use --network host (the host's
# resolver), as `npm ci` on the host does.
# The daemon gets an unreachable proxy, so an accidental pull fails at once instead of leaving.
# Addresses: bridge 198.18.0.1/24, compose networks from 198.19.0.0/16 (RFC 2544 benchmark space,
# never 10/8, 172.16/12 or 192.168/16).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# One cache per machine, not per checkout: a clean clone (CI) reuses the base image and the layers.
cache=${TPS_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tps-lab/docker}
# Short paths: containerd's sockets live under the exec root and unix sockets allow 108 bytes.
run=${TPS_DOCKER_RUN:-/run/tps-docker-test}
bridge=tpsd0
bridge_cidr=198.18.0.1/24
pool=198.19.0.0/16
ours=198.18.0.0/15
socket="$run/docker.sock"
say() { echo "engine: $*" >&2; }

client_env() {
  echo "export DOCKER_HOST=unix://$socket"
  # Debian's client speaks the 20.10 daemon's API (1.41); a newer client on PATH may not.
  echo "export PATH=$run/bin:\$PATH"
  echo "unset DOCKER_CONTEXT DOCKER_CONFIG COMPOSE_FILE COMPOSE_PROJECT_NAME"
}

install_missing() {
  local missing=()
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

start() {
  [ "$(id -u)" = 0 ] || { say "needs root (it starts a Docker daemon of its own)"; exit 1; }
  install_missing
  if [ -f "$run/dockerd.pid" ] && kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null; then
    say "a test daemon is already running (pid $(cat "$run/dockerd.pid")); stop it first: tests/docker/engine.sh stop"
    exit 1
  fi
  mkdir -p "$run/bin" "$cache/data"
  ln -sf /usr/bin/docker "$run/bin/docker"
  ip link show > "$run/links.before"
  # Files dockerd and containerd make outside our roots: removed at stop when they are ours.
  : > "$run/made"
  for path in /etc/docker/key.json /run/containerd; do [ -e "$path" ] || echo "$path" >> "$run/made"; done
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$bridge_cidr" dev "$bridge"
    ip link set "$bridge" up
    echo "$bridge" > "$run/bridge.made"
  fi
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]; then
    iptables -I FORWARD -s "$ours" ! -d "$ours" -j DROP
    echo "iptables -D FORWARD -s $ours ! -d $ours -j DROP" > "$run/rule.undo"
    say "IP forwarding is on here: added a FORWARD rule that drops traffic from $ours to elsewhere"
  fi
  cat > "$run/daemon.json" <<JSON
{
  "data-root": "$cache/data",
  "exec-root": "$run/exec",
  "pidfile": "$run/dockerd.pid",
  "hosts": ["unix://$socket"],
  "bridge": "$bridge",
  "default-address-pools": [{ "base": "$pool", "size": 24 }],
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "ipv6": false,
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "2" },
  "features": { "buildkit": false }
}
JSON
  launch
}

# dockerd on the configuration start() wrote, and a wait until it answers.
launch() {
  # HTTP(S)_PROXY: an address where nothing listens, so the daemon cannot pull from anywhere.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
    setsid /usr/sbin/dockerd --config-file "$run/daemon.json" > "$run/dockerd.log" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 60))
  until DOCKER_HOST="unix://$socket" /usr/bin/docker version --format '{{.Server.Version}}' >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! pgrep -f -- "--config-file $run/daemon.json" >/dev/null; then
      say "dockerd did not start; its log:"; tail -n 30 "$run/dockerd.log" >&2; stop; exit 1
    fi
    sleep 0.2
  done
  say "dockerd $(DOCKER_HOST="unix://$socket" /usr/bin/docker version --format '{{.Server.Version}}') ready (pid $(cat "$run/dockerd.pid"), socket $socket, data $cache/data)"
}

# What a reboot does to the stack, but the power: dockerd stops (each container gets SIGTERM and its
# stop grace), then starts again on the same data root and brings back what its restart policy
# says. Nothing is cleaned up in between.
restart() {
  local pid
  pid=$(cat "$run/dockerd.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || { say "no test daemon runs; start it first"; exit 1; }
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && { say "dockerd did not stop in 60 s"; exit 1; }
    sleep 0.2
  done
  say "stopped dockerd (pid $pid) and its containers; starting it again"
  launch
}

stop() {
  local pid=""
  [ -f "$run/dockerd.pid" ] && pid=$(cat "$run/dockerd.pid")
  [ -z "$pid" ] && pid=$(pgrep -f -- "--config-file $run/daemon.json" | head -n1 || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      [ $SECONDS -ge $deadline ] && { say "dockerd did not stop in 30 s; killing it"; kill -KILL "$pid"; }
      sleep 0.2
    done
    say "stopped dockerd (pid $pid)"
  fi
  # What a killed daemon may leave: its containerd and shims, mounts, bridges and veths.
  pkill -KILL -f -- "$run/exec" 2>/dev/null || true
  { grep -oE " ($run|$cache/data)[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  if [ -f "$run/links.before" ]; then
    ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | while read -r link; do
      case "$link" in br-*|veth*) grep -q ": $link[:@]" "$run/links.before" || ip link del "$link" 2>/dev/null || true ;; esac
    done
  fi
  local made_bridge=0
  if [ -f "$run/bridge.made" ]; then made_bridge=1; ip link del "$bridge" 2>/dev/null || true; rm -f "$run/bridge.made"; fi
  if [ -f "$run/rule.undo" ]; then bash -c "$(cat "$run/rule.undo")" || true; rm -f "$run/rule.undo"; fi
  if [ -f "$run/made" ]; then
    while read -r path; do rm -rf "$path"; done < "$run/made"
    rm -f "$run/made"
  fi
  rm -rf "$run/exec" "$run/docker.sock" "$run/dockerd.pid"
  # Verify: nothing of this daemon may be left (the test fails otherwise).
  local left=()
  [ "$made_bridge" = 1 ] && ip link show "$bridge" >/dev/null 2>&1 && left+=("bridge $bridge")
  grep -qE " ($run|$cache/data)" /proc/mounts && left+=("mounts under $run or $cache/data")
  pgrep -f -- "--config-file $run/daemon.json|$run/exec" >/dev/null && left+=("processes of the daemon")
  if [ ${#left[@]} -gt 0 ]; then say "left behind: ${left[*]}"; return 1; fi
  return 0
}

case "${1:-}" in
  start) start ;;
  restart) restart ;;
  stop) stop ;;
  env) client_env ;;
  *) echo "usage: tests/docker/engine.sh start|restart|stop|env" >&2; exit 2 ;;
esac
