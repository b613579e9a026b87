#!/usr/bin/env bash
# `make chaos` / `make chaos-stop`: turns the make variables into one fault and carries it out,
# natively (`tps chaos`, the supervisor for system faults) or in compose mode (`tps` in the
# tools profile for process faults, `docker compose stop/start` for system faults).
#   scripts/chaos.sh start   (TARGET, FAULT, LATENCY, ERROR_RATE, PARAMS, DURATION from the environment)
#   scripts/chaos.sh stop
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${MODE:-native}
compose=${COMPOSE:-docker compose}
target=${TARGET:-service-a}

tps() {
  if [ "$mode" = compose ]; then $compose --profile tools run --rm -T tps "$@"; else "$here/bin/tps" "$@"; fi
}

# What a system target stops, in compose service names.
system_services() {
  case "$1" in
    nats) echo nats ;;
    monitoring|prometheus|grafana) echo prometheus grafana ;;
    autoscaler) echo autoscaler ;;
  esac
}

start() {
  local fault=${FAULT:-} params=${PARAMS:-}
  case "$target" in
    nats) fault=${fault:-nats_down} ;;
    monitoring) target=prometheus; fault=${fault:-monitoring_down} ;;
    prometheus|grafana) fault=${fault:-monitoring_down} ;;
  esac
  [ "$target" = autoscaler ] && [ "$fault" = down ] && fault=autoscaler_down
  # Named shortcuts: LATENCY=5000 is a latency of 5000 ms, ERROR_RATE=0.3 fails 30 % of requests.
  if [ -z "$fault" ]; then
    if [ -n "${LATENCY:-}" ]; then fault=latency; params="ms=$LATENCY $params"
    elif [ -n "${ERROR_RATE:-}" ]; then fault=error_rate; params="ratio=$ERROR_RATE $params"
    else fault=error_rate; params="ratio=1 $params"   # handbook lab 2.4: every request fails
    fi
  fi
  local duration=()
  [ -n "${DURATION:-}" ] && duration=(--duration "$DURATION")
  params=$(echo $params)   # trims the spaces the shortcuts leave
  echo "chaos ($mode): $fault on $target${params:+ ($params)}"
  if [ "$mode" = compose ] && [[ "$fault" == *_down ]]; then
    local services
    services=$(system_services "$target")
    [ -n "$services" ] || { echo "chaos: $fault cannot be aimed at $target" >&2; exit 2; }
    # shellcheck disable=SC2086
    $compose stop $services
    echo "stopped $services; \`make chaos-stop MODE=compose\` starts them again (compose faults do not expire by themselves)"
    return
  fi
  # shellcheck disable=SC2086
  tps chaos set "$target" "$fault" $params "${duration[@]}"
}

stop() {
  if [ "$mode" = compose ]; then
    # Start first: the reset needs NATS, which a system fault may have stopped.
    $compose start nats prometheus grafana autoscaler
    echo "started nats, prometheus, grafana and autoscaler (those already running are left alone)"
    tps chaos reset
  else
    tps chaos reset
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/chaos.sh start|stop" >&2; exit 2 ;;
esac
