#!/usr/bin/env bash
# `make test-compose`: the compose stack proven on a real Docker engine, as a lab-taker runs it.
# Phases (each printed with its time): a Docker engine of the test's own (engine.sh), the images
# (images.sh: stand-ins for what cannot be pulled here, ours from the real Dockerfile), the real
# docker-compose.yml started with the literal `docker-compose up -d` (only host ports move, through
# their variables) in a copy of the project whose path has a space, then the checks of compose-stack.ts against it, then `docker-compose down -v`;
# and the NATS cluster override's nodes, provisioning and ingress (cluster-checks.ts), and down:
# last, or, with `prepare` (make test), right after the images, while vitest runs. The engine, the stack and anything they made are removed on success, failure or Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export PATH="$root/.tools/node24/node_modules/node/bin:$PATH"
node=(node --disable-warning=ExperimentalWarning)
t0=$SECONDS
phase_start=$SECONDS
phase() { echo; echo "== test-compose [$((SECONDS - t0)) s] $*"; phase_start=$SECONDS; }
done_phase() { echo "   ($((SECONDS - phase_start)) s)"; }

unset COMPOSE COMPOSE_FILE COMPOSE_PROJECT_NAME MODE TPS_MODE
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  local socket=${DOCKER_HOST:-}
  if [ -n "$socket" ] && [ -S "${socket#unix://}" ]; then
    if [ "$code" != 0 ]; then
      echo; echo "== test-compose: FAILED; state of the stack:"
      docker ps -a --filter label=com.docker.compose.project --format '  {{.Names}}  {{.Status}}' || true
      for name in $(docker ps -a --filter label=com.docker.compose.project --format '{{.Names}} {{.Status}}' | awk '!/\(healthy\)|Exited \(0\)/ {print $1}'); do
        echo "-- last log lines of $name:"; docker logs --tail 30 "$name" 2>&1 | sed 's/^/   /' || true
      done
    fi
    docker-compose down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  # The stack ran from a copy (below): down from there, then the copy goes.
  cd "$root"
  if [ -n "${spaced_copy:-}" ]; then rm -rf "$(dirname "$spaced_copy")"; fi
  if ! tests/docker/engine.sh stop; then
    echo "== test-compose: the engine's clean-up left something behind"
    if [ "$code" = 0 ]; then code=1; fi
  fi
  echo "== test-compose: $([ "$code" = 0 ] && echo passed || echo "failed (exit $code)") in $((SECONDS - t0)) s"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_host_ports() {
  phase "free host ports for the published ports"
  # The variables docker-compose.yml (and docker-compose.admin.yml) read for their host ports; free ones, since this machine may run
  # its own nats-server on 4222 (and a laptop anything on 8080).
  read -r -a free < <("${node[@]}" -e '
    const net = require("node:net");
    const one = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
    (async () => { const ports = new Set(); while (ports.size < 10) ports.add(await one()); console.log([...ports].join(" ")); })();')
  export TPS_INGRESS_PORT=${free[0]} TPS_NATS_PORT=${free[1]} TPS_NATS_MONITOR_PORT=${free[2]} TPS_PROMETHEUS_PORT=${free[3]} \
    TPS_GRAFANA_PORT=${free[4]} TPS_JAEGER_UI_PORT=${free[5]} TPS_OTLP_PORT=${free[6]} TPS_CONSOLE_PORT=${free[7]} TPS_ALERTMANAGER_PORT=${free[8]} \
    TPS_ADMIN_PORT=${free[9]}
  env | grep -E '^TPS_[A-Z_]+_PORT=' | sort | sed 's/^/   /'
  done_phase
}

down_leaves_nothing() {
  docker-compose down -v --remove-orphans
  local project=com.docker.compose.project left
  left=$(docker ps -aq --filter label=$project; docker volume ls -q --filter label=$project; docker network ls -q --filter label=$project)
  [ -z "$left" ] || { echo "left behind after down -v:"; echo "$left"; exit 1; }
  echo "   no container, volume or network of the stack is left"
}

# The NATS cluster override's own project, `docker-compose down -v` after. In `make test` it runs in
# the background build (prepare), beside vitest: its three nodes and one ingress are light, and the
# stack's phase after vitest is then shorter by it.
cluster_override() {
  phase "the NATS cluster override (docker-compose.cluster.yml): three nodes, three copies, a job stored"
  # COMPOSE_FILE as `make compose-env NATS=cluster` writes it into .env. Only what the check needs
  # starts: the nodes, provisioning and the ingress (the roles take the same server list natively in
  # tests/nats-cluster.test.ts, under a node's loss and a partition).
  export COMPOSE_FILE=docker-compose.yml:docker-compose.cluster.yml
  echo "   COMPOSE_FILE=$COMPOSE_FILE docker-compose up -d nats nats-2 nats-3 provision ingress"
  docker-compose up -d nats nats-2 nats-3 provision ingress
  scripts/compose.sh wait
  "${node[@]}" tests/docker/cluster-checks.ts
  down_leaves_nothing
  done_phase
}

# `tests/docker/run.sh prepare`: the engine, the images and the cluster override's check, the
# engine left running for a later `TPS_DOCKER_PREPARED=1 tests/docker/run.sh` (make test builds
# them while vitest runs, at the lowest CPU priority, then runs the stack once vitest is done).
# Stopped on failure.
prepare_only=0
[ "${1:-}" = prepare ] && prepare_only=1
if [ "${TPS_DOCKER_PREPARED:-0}" = 1 ]; then
  eval "$(tests/docker/engine.sh env)"
  docker version --format '   engine and images prepared before, dockerd {{.Server.Version}}' ||
    { echo "== test-compose: TPS_DOCKER_PREPARED=1 but no prepared engine answers"; exit 1; }
else
  phase "Docker engine (Debian's docker.io 20.10 and docker-compose 1.29, a dockerd of the test's own)"
  tests/docker/engine.sh start
  eval "$(tests/docker/engine.sh env)"
  echo "   client $(docker version --format '{{.Client.Version}}'), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
  if docker compose version >/dev/null 2>&1; then echo "   compose v2 plugin present too"; else echo "   no compose v2 plugin on this machine: the run is with v1, the file is also checked against the Compose Specification (tests/compose.test.ts)"; fi
  done_phase

  phase "images: stand-ins from a debootstrap bookworm base, tps-lab:local from the real Dockerfile"
  tests/docker/images.sh all
  done_phase
fi
if [ "$prepare_only" = 1 ]; then
  # The builds yield to vitest (nice 19); the check waits on a cluster with deadlines: back to the
  # ordinary priority (root runs this), so it is not starved past them on a loaded machine.
  renice -n 0 -p $$ >/dev/null 2>&1 || true
  ionice -c 2 -n 4 -p $$ >/dev/null 2>&1 || true
  free_host_ports
  cluster_override
  trap - EXIT
  echo "== test-compose: engine and images ready, the cluster override checked, in $((SECONDS - t0)) s (the engine left running for the stack's run)"
  exit 0
fi

free_host_ports

# A user's clone may sit in "~/My Projects": the stack runs, and every command of the checks is
# typed, in a copy of the project whose path has a space (bind mounts, the project's name, make).
phase "a copy of the project in a folder whose path has a space"
spaced_copy=$("${node[@]}" --input-type=module -e '
  import { copyProject } from "./devenv/project-copy.ts";
  console.log(copyProject({ folder: "my clone" }).root);')
cd "$spaced_copy"
echo "   $spaced_copy"
done_phase

phase "docker-compose up -d (every service but grafana)"
# Grafana's image cannot be pulled or built here: it is left out of the run, and its service is
# checked statically (tests/compose.test.ts, tests/monitoring-static.test.ts). k6 is under the
# `load` profile, so `up` does not start it; `make load` uses the native generator instead.
# What `docker-compose up -d` starts: every service without a profile.
services=$("${node[@]}" --input-type=module -e '
  import { readFileSync } from "node:fs"; import { parse } from "yaml";
  const { services } = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true });
  console.log(Object.entries(services).filter(([name, s]) => !s.profiles && name !== "grafana").map(([name]) => name).join(" "));')
echo "   left out: grafana (no image can be pulled here; its configuration is checked statically)"
echo "   docker-compose up -d $services"
# shellcheck disable=SC2086
docker-compose up -d $services
scripts/compose.sh wait
done_phase

phase "checks against the running stack (tests/docker/compose-stack.ts)"
"${node[@]}" tests/docker/compose-stack.ts
done_phase

phase "docker-compose down -v leaves nothing behind"
down_leaves_nothing
done_phase

# Prepared by `run.sh prepare` (make test), the cluster override has run already.
if [ "${TPS_DOCKER_PREPARED:-0}" != 1 ]; then
  cluster_override
fi
