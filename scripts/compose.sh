#!/usr/bin/env bash
# The compose stack's lifecycle for make and bin/tps, with Compose v2 (`docker compose`) or v1
# (`docker-compose` 1.29, which has no --wait: this script waits on health itself).
#   scripts/compose.sh up          preflight (Docker, daemon, .env, free ports), up -d --build, wait, URLs
#   scripts/compose.sh wait        wait until every started service is healthy (provision exited 0)
#   scripts/compose.sh down        docker compose down (volumes kept; add -v by hand to drop them)
#   scripts/compose.sh check-env   validate .env (what `make compose-env` writes)
#   scripts/compose.sh check-ports every host port the stack publishes is free (or already ours)
#   scripts/compose.sh scale <pool|service> --replicas N    worker containers of a pool (lab 2.5), recorded
#   scripts/compose.sh restart <role> [--reason "..."]      restart a role's containers, recorded (exam 3)
#   scripts/compose.sh load-history    load the history a lab or exam left in .tps/compose/history/ (a retry)
set -euo pipefail
stack_root=$(cd "$(dirname "$0")/.." && pwd)
. "$stack_root/scripts/stack.sh"
. "$stack_root/scripts/contract.sh"   # TPS_POOLS, ... (generated from platform/ by make generate)
cd "$stack_root"
say() { echo "compose: $*" >&2; }
die() { echo "compose: $*" >&2; exit 1; }

# Host ports and the variables that move them (docker-compose.yml), default first.
port_vars="TPS_INGRESS_PORT=8080 TPS_NATS_PORT=4222 TPS_NATS_MONITOR_PORT=8222 TPS_PROMETHEUS_PORT=9090 TPS_GRAFANA_PORT=3000 TPS_JAEGER_UI_PORT=16686 TPS_OTLP_PORT=4318 TPS_CONSOLE_PORT=8090 TPS_ALERTMANAGER_PORT=9093"
# Every NATS user's password (from the contract, so a new user is known here at once), then the rest.
env_keys="$(for user in $TPS_NATS_USERS; do printf 'NATS_PASSWORD_%s ' "$user"; done)NATS_PASSWORD_ROUTE GRAFANA_ADMIN_PASSWORD GRAFANA_ANONYMOUS COMPOSE_PROJECT_NAME ADMIN_TOKEN COMPOSE_FILE TPS_ADMIN_PORT"

# A setting as compose sees it: the environment first, then .env.
setting() {
  local name=$1 fallback=$2
  if [ -n "${!name:-}" ]; then echo "${!name}"; return; fi
  if [ -f .env ]; then
    local v
    v=$(sed -n "s/^$name=//p" .env | tail -n1)
    [ -n "$v" ] && { echo "$v"; return; }
  fi
  echo "$fallback"
}

preflight_docker() {
  command -v docker >/dev/null 2>&1 || die "Docker is not installed. Install Docker (docs/compose.md), or run natively without it: make up"
  compose_cmd >/dev/null || die "Docker Compose is not installed: install the compose plugin (\`docker compose\`) or docker-compose (apt install docker-compose)"
  local out
  out=$(docker info 2>&1 >/dev/null) || die "the Docker daemon does not answer: $(echo "$out" | tail -n1). Start it (e.g. sudo systemctl start docker), or check that you may use it (the docker group)."
}

check_env() {
  [ -f .env ] || { say "no .env: the lab credentials apply (tps-lab-<user>, Grafana admin/tps-lab); \`make compose-env\` writes random ones"; return 0; }
  local line n=0 bad=0 key value
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case "$line" in ''|'#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    if [ "$key" = "$line" ]; then echo "compose: .env line $n is not KEY=VALUE: $line" >&2; bad=1; continue; fi
    case " $env_keys $(echo "$port_vars" | sed 's/=[0-9]*//g') " in
      *" $key "*) ;;
      *) say ".env line $n: $key is not a setting of this stack (ignored); see compose.env.example" ;;
    esac
    case "$key" in
      NATS_PASSWORD_*|GRAFANA_ADMIN_PASSWORD)
        if ! [[ "$value" =~ ^[A-Za-z0-9._~-]+$ ]]; then
          echo "compose: .env line $n: $key must be letters, digits and . _ ~ - only (nats.conf reads it unquoted); \`rm .env && make compose-env\` writes a valid one" >&2; bad=1
        fi ;;
      ADMIN_TOKEN)
        if ! [[ "$value" =~ ^[A-Za-z0-9._~-]{16,}$ ]]; then
          echo "compose: .env line $n: ADMIN_TOKEN must be at least 16 letters, digits and . _ ~ -; \`make compose-env ADMIN=1\` writes one (after removing the line)" >&2; bad=1
        fi ;;
      TPS_*_PORT)
        if ! [[ "$value" =~ ^[0-9]+$ ]] || [ "$value" -lt 1 ] || [ "$value" -gt 65535 ]; then
          echo "compose: .env line $n: $key must be a port number, got '$value'" >&2; bad=1
        fi ;;
    esac
  done < .env
  [ "$bad" = 0 ] || die ".env has errors (above)"
}

# Every host port the stack publishes must be free, unless this stack already holds it.
check_ports() {
  compose_running && return 0
  local pair name port busy=0
  for pair in $port_vars; do
    name=${pair%%=*}
    port=$(setting "$name" "${pair#*=}")
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      [ "$busy" = 0 ] && echo "compose: host ports the stack needs are already in use on 127.0.0.1:" >&2
      echo "  $port: move it with $name=<free port> (environment or .env), or stop what listens there (ss -ltnp 'sport = :$port')" >&2
      busy=1
    fi
  done
  [ "$busy" = 0 ] || die "ports taken (a native \`make up\` still running? \`make down\` stops it)"
}

# Waits until every service of the running project is healthy (or, without a healthcheck,
# running) and every one-shot (provision) exited 0. Progress every 5 s; logs of a failure.
wait_healthy() {
  local project timeout=${TPS_COMPOSE_TIMEOUT:-300} started=$SECONDS last=-5 lines waiting failed
  project=$(compose_project) || die "no compose stack of this checkout is running"
  while :; do
    lines=$(docker ps -a --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.oneoff=False \
      --format '{{.Label "com.docker.compose.service"}} {{.Names}} {{.State}} {{.Status}}')
    # A container Docker keeps restarting is not up either: waited for, and named if it never is.
    waiting=$(echo "$lines" | awk '($3 == "running" && $0 !~ /\(healthy\)/ && $0 ~ /health/) || $3 == "restarting" {print $2}')
    failed=$(echo "$lines" | awk '($3 == "exited" && $0 !~ /Exited \(0\)/) || $3 == "dead" || $0 ~ /\(unhealthy\)/ {print $1}' | sort -u)
    if [ -n "$failed" ]; then
      for s in $failed; do say "$s failed; its last log lines:"; $(compose_cmd) -p "$project" logs --tail 30 "$s" >&2 || true; done
      die "the stack did not come up: $(echo $failed)"
    fi
    if [ -z "$waiting" ]; then
      say "$(echo "$lines" | grep -c ' running ') containers running and healthy after $((SECONDS - started)) s"
      return 0
    fi
    if [ $((SECONDS - started)) -ge "$timeout" ]; then
      for s in $(echo "$lines" | awk '($3 == "running" && $0 !~ /\(healthy\)/) || $3 == "restarting" {print $1}' | sort -u); do
        say "$s is not healthy; its last log lines:"; $(compose_cmd) -p "$project" logs --tail 30 "$s" >&2 || true
      done
      die "not healthy after ${timeout} s: $(echo $waiting)"
    fi
    if [ $((SECONDS - last)) -ge 5 ]; then say "waiting for $(echo $waiting) ($((SECONDS - started)) s)"; last=$SECONDS; fi
    sleep 1
  done
}

urls() {
  cat <<EOF
TPS Lab (compose) is up:
  ingress     http://localhost:$(setting TPS_INGRESS_PORT 8080)   (POST /jobs)
  Grafana     http://localhost:$(setting TPS_GRAFANA_PORT 3000)   (admin / $( [ -f .env ] && echo 'GRAFANA_ADMIN_PASSWORD in .env' || echo tps-lab))
  Jaeger      http://localhost:$(setting TPS_JAEGER_UI_PORT 16686)
  Prometheus  http://localhost:$(setting TPS_PROMETHEUS_PORT 9090)
  Alertmanager http://localhost:$(setting TPS_ALERTMANAGER_PORT 9093)   (its alerts are at the top of the console's board)
  console     http://localhost:$(setting TPS_CONSOLE_PORT 8090)   (the Andon board; read-only without the admin token)
  \`make status\`, \`make load RATE=500\`, \`make chaos\` act on this stack; \`make down\` stops it.
EOF
}

up() {
  # `make up MODE=compose NATS=cluster`: the cluster is an override every docker-compose command
  # must read, so it lives in .env's COMPOSE_FILE, not in this one command.
  if [ "${TPS_NATS:-}" = cluster ] && [[ ":$(setting COMPOSE_FILE docker-compose.yml):" != *":docker-compose.cluster.yml:"* ]]; then
    die "NATS=cluster in compose needs docker-compose.cluster.yml in COMPOSE_FILE, so every docker-compose command uses it: \`make compose-env NATS=cluster\` writes it into .env (or edit COMPOSE_FILE there), then \`make up MODE=compose\`"
  fi
  preflight_docker
  check_env
  check_ports
  local compose
  compose=$(compose_cmd)
  say "$compose up -d --build"
  $compose up -d --build
  wait_healthy
  urls
}

scale() { # scale <pool|service> --replicas N  (from `tps scale ... --replicas N`)
  shift # "scale"
  local target="" replicas=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --replicas) replicas=${2:-}; shift 2 || true ;;
      --replicas=*) replicas=${1#*=}; shift ;;
      -*) die "tps scale --replicas in compose mode takes only <pool> --replicas <n>, not $1" ;;
      *) [ -z "$target" ] && target=$1 || die "unexpected argument: $1"; shift ;;
    esac
  done
  local pool=${target#worker-}
  case " $TPS_POOLS " in *" $pool "*) target=worker-$pool ;; *) die "unknown pool '$target': pools are ${TPS_POOLS// /, }" ;; esac
  [[ "$replicas" =~ ^[0-9]+$ ]] && [ "$replicas" -ge 1 ] && [ "$replicas" -le 8 ] || die "--replicas must be a whole number from 1 to 8, got '$replicas'"
  local compose project
  compose=$(compose_cmd)
  project=$(compose_project) || die "no compose stack of this checkout is running"
  local previous
  previous=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$target" | wc -l)
  say "$compose up -d --no-deps --no-recreate --scale $target=$replicas $target"
  $compose -p "$project" up -d --no-deps --no-recreate --scale "$target=$replicas" "$target"
  wait_healthy
  echo "$target: $replicas replica(s), each pulling from the pool's one durable consumer"
  # The audit event `tps scale --replicas` records natively (the Level 3 exam reads it).
  compose_tps scale "$pool" --replicas "$replicas" --recorded-from "$previous" || say "the containers changed, but the event could not be recorded"
}

restart() { # restart <role> [--reason "..."]  (from `tps restart <role>`)
  shift # "restart"
  local role="" reason=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --reason) reason=${2:-}; shift 2 || true ;;
      --reason=*) reason=${1#*=}; shift ;;
      -*) die "tps restart in compose mode takes <role> [--reason \"...\"], not $1" ;;
      *) [ -z "$role" ] && role=$1 || die "one role at a time: tps restart <role>"; shift ;;
    esac
  done
  [ -n "$role" ] || die "which role? One of: ${TPS_ROLES// /, }"
  case " $TPS_ROLES " in *" $role "*) ;; *) die "unknown role \"$role\"; roles are: ${TPS_ROLES// /, }" ;; esac
  local compose project
  compose=$(compose_cmd)
  project=$(compose_project) || die "no compose stack of this checkout is running"
  # SIGTERM first, as natively: a worker stops pulling and finishes or hands back its jobs.
  say "$compose restart $role"
  $compose -p "$project" restart "$role"
  wait_healthy
  compose_tps restart "$role" --recorded ${reason:+--reason "$reason"}
}

# A retry of what bin/tps does after `tps exam 2 start` or `tps lab start 3.5` (scripts/stack.sh):
# the hand-off is loaded whoever wrote it.
load_history() {
  _compose=$(compose_cmd) || die "Docker Compose is not installed"
  _project=$(compose_project) || die "no compose stack of this checkout is running"
  [ -f .tps/compose/history/request.env ] || die "no history is waiting in .tps/compose/history/ (a lab or exam that stages one: tps exam 2 start, tps lab start 3.5)"
  _handoff_before=''
  compose_load_history "lab" "start" "<lab>" || exit 1
  echo "compose: the history is loaded"
}

case "${1:-}" in
  up) up ;;
  wait) wait_healthy ;;
  down) compose=$(compose_cmd) || die "Docker Compose is not installed"; $compose down ;;
  check-env) check_env ;;
  check-ports) check_ports ;;
  scale) scale "$@" ;;
  restart) restart "$@" ;;
  load-history) load_history ;;
  *) echo "usage: scripts/compose.sh up|wait|down|check-env|check-ports|scale <pool> --replicas N|restart <role>|load-history" >&2; exit 2 ;;
esac
