#!/usr/bin/env bash
# `make test`: every test, phase by phase, each with its time.
#   scripts/test.sh          bootstrap, type check + unit and integration tests, the compose stack
#   scripts/test.sh unit     without the compose stack (no Docker engine, no root needed)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
t0=$SECONDS
phase() {
  local name=$1 started=$SECONDS
  shift
  echo "== make test: $name"
  "$@"
  echo "== make test: $name done in $((SECONDS - started)) s ($((SECONDS - t0)) s in all)"
}
phase "bootstrap (Node 24, npm packages, nats-server, Prometheus)" scripts/bootstrap.sh --with-prometheus
export PATH="$root/.tools/node24/node_modules/node/bin:$PATH"
# One turn-taking folder for this run, known to vitest's workers (devenv/machine-lock.ts).
TPS_TEST_MACHINE_LOCK=$(mktemp -u "${TMPDIR:-/tmp}/tps-test-machine.XXXXXX")
export TPS_TEST_MACHINE_LOCK
trap 'rm -rf "$TPS_TEST_MACHINE_LOCK"' EXIT
phase "type check and vitest (real nats-server, Prometheus, role processes)" npm test --silent
phase "npm audit (high and critical) and registry signatures" scripts/audit-deps.sh
if [ "${1:-all}" != unit ]; then
  phase "compose stack on a real Docker engine (tests/docker/run.sh)" tests/docker/run.sh
fi
echo "== make test: passed in $((SECONDS - t0)) s"
