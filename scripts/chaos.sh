#!/usr/bin/env bash
# `make chaos` / `make chaos-stop`: turns the make variables into one fault and carries it out,
# natively (`tps chaos`, the supervisor for system faults) or in compose mode (`tps` in the
# tools profile for process faults, `docker compose stop/start` for system faults).
#   scripts/chaos.sh start   (TARGET, FAULT, LATENCY, ERROR_RATE, PARAMS, DURATION from the environment)
#   scripts/chaos.sh stop
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
stack_root=$here
. "$here/scripts/stack.sh"
. "$here/scripts/contract.sh"   # TPS_CHAOS_TARGETS (generated from platform/chaos/catalogue.ts)
target=${TARGET:-service-a}
# `monitoring` stands for Prometheus and Grafana together; everything else is a catalogue target.
case " $TPS_CHAOS_TARGETS monitoring " in
  *" $target "*) ;;
  *) echo "chaos: unknown target \"$target\"; targets are: ${TPS_CHAOS_TARGETS// /, }, monitoring" >&2; exit 2 ;;
esac
# Whichever stack runs from this checkout (MODE=native|compose chooses); none: say how to start one.
mode=$(stack_mode "${MODE:-}") || exit 2
[ "$mode" = none ] && { stack_none_message; exit 1; }
if [ "$mode" = compose ]; then
  compose=$(compose_cmd) || { echo "chaos: Docker Compose is not installed" >&2; exit 1; }
  project=$(compose_project 2>/dev/null || true)
  compose="$compose${project:+ -p $project}"
fi

tps() {
  if [ "$mode" = compose ]; then compose_tps "$@"; else TPS_MODE=native "$here/bin/tps" "$@"; fi
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
  # The autoscaler is both: a bare TARGET=autoscaler stops it, like nats and monitoring; a named
  # fault (FAULT=, LATENCY=, ERROR_RATE=) is a process fault in it.
  if [ "$target" = autoscaler ] && { [ "$fault" = down ] || [ -z "$fault$params${LATENCY:-}${ERROR_RATE:-}" ]; }; then fault=autoscaler_down; fi
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

# The system services a compose system fault stopped (all four when the project is unknown).
stopped_system_services() {
  if [ -z "${project:-}" ]; then echo nats prometheus grafana autoscaler; return; fi
  docker ps -a --filter "label=com.docker.compose.project=$project" --filter status=exited \
    --format '{{.Label "com.docker.compose.service"}}' | { grep -xE 'nats|prometheus|grafana|autoscaler' || true; } | sort -u | tr '\n' ' '
}

stop() {
  if [ "$mode" = compose ]; then
    # Start first: the reset needs NATS, which a system fault may have stopped.
    local stopped
    stopped=$(stopped_system_services)
    if [ -n "${stopped// /}" ]; then
      # shellcheck disable=SC2086
      $compose start $stopped
      echo "started again: $stopped"
    fi
  fi
  tps chaos reset
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/chaos.sh start|stop" >&2; exit 2 ;;
esac
