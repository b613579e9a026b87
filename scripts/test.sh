#!/usr/bin/env bash
# `make test`: every test, phase by phase, each with its time.
#   scripts/test.sh          bootstrap, type check + unit and integration tests, the compose stack
#   scripts/test.sh unit     without the compose stack (no Docker engine, no root needed)
# With the compose stack, its test (tests/docker/run.sh) runs beside vitest rather than after it,
# from when the files that load the whole machine (labs-load, exam-3: devenv/machine-lock.ts) have
# had their turns: the rest are shorter files, and the 2-core machine has room for both in the
# 25 minutes CI allows. Its output is shown when it ends, with its own times.
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
# One turn-taking folder for this run, known to vitest's workers and to the compose phase.
TPS_TEST_MACHINE_LOCK=$(mktemp -u "${TMPDIR:-/tmp}/tps-test-machine.XXXXXX")
export TPS_TEST_MACHINE_LOCK
trap 'rm -rf "$TPS_TEST_MACHINE_LOCK" "$TPS_TEST_MACHINE_LOCK.done"' EXIT

if [ "${1:-all}" = unit ]; then
  phase "type check and vitest (real nats-server, Prometheus, role processes)" npm test --silent
  phase "npm audit (high and critical) and registry signatures" scripts/audit-deps.sh
  echo "== make test: passed in $((SECONDS - t0)) s"
  exit 0
fi

phase "type check" npx tsc -p .
echo "== make test: vitest (real nats-server, Prometheus, role processes), and beside it the compose stack on a real Docker engine"
compose_log=$(mktemp "${TMPDIR:-/tmp}/tps-test-compose.XXXXXX")
vitest_started=$SECONDS
npx vitest run &
vitest_pid=$!
(
  node --disable-warning=ExperimentalWarning devenv/after-machine-turns.ts "$vitest_pid"
  echo "== make test: compose stack begins at $((SECONDS - t0)) s in all"
  tests/docker/run.sh
) > "$compose_log" 2>&1 &
compose_pid=$!
vitest_code=0
wait "$vitest_pid" || vitest_code=$?
echo "== make test: vitest done in $((SECONDS - vitest_started)) s ($((SECONDS - t0)) s in all), exit $vitest_code"
compose_code=0
wait "$compose_pid" || compose_code=$?
echo "== make test: compose stack on a real Docker engine (tests/docker/run.sh), its output:"
cat "$compose_log"
rm -f "$compose_log"
echo "== make test: compose stack done ($((SECONDS - t0)) s in all), exit $compose_code"
if [ "$vitest_code" != 0 ] || [ "$compose_code" != 0 ]; then
  echo "== make test: FAILED (vitest exit $vitest_code, compose stack exit $compose_code) after $((SECONDS - t0)) s"
  exit 1
fi
phase "npm audit (high and critical) and registry signatures" scripts/audit-deps.sh
echo "== make test: passed in $((SECONDS - t0)) s"
