#!/usr/bin/env bash
# `make test`: every test, phase by phase, each with its time.
#   scripts/test.sh          bootstrap, type check + unit and integration tests, the compose stack
#   scripts/test.sh unit     without the compose stack (no Docker engine; root only for the crash-disk tests)
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
phase "bootstrap (Node 24, npm packages, nats-server, Prometheus, chromium)" scripts/bootstrap.sh --with-prometheus --with-chromium
export PATH="$root/.tools/node24/node_modules/node/bin:$PATH"
# One turn-taking folder for this run, known to vitest's workers (devenv/machine-lock.ts).
TPS_TEST_MACHINE_LOCK=$(mktemp -u "${TMPDIR:-/tmp}/tps-test-machine.XXXXXX")
export TPS_TEST_MACHINE_LOCK
compose=0
[ "${1:-all}" != unit ] && compose=1
prepare_pid='' prepare_log='' stack_ran=0 test_tmp=''
# The tests' nats-server stores, Prometheus TSDBs, logs and state folders go to memory when this
# machine has room for them: their writes and fsyncs then never wait behind the disk (nor behind
# the compose images built beside them). Removed at the end.
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 4194304 ]; then
  test_tmp=$(mktemp -d /dev/shm/tps-test.XXXXXX)
fi
# Keeps the run's exit status: a clean-up step that finds nothing to do must not turn a pass into a
# failure (`make test-unit` once exited 1 after "passed": its last test here was false). Every step
# runs whatever the one before it did: under errexit a background build killed here (its `wait`
# says 143) ended the clean-up there, and a run stopped by a signal left its folder in /dev/shm.
cleanup() {
  local code=$?
  set +e
  # The engine built in the background is the stack phase's to stop; without that phase, ours.
  if [ -n "$prepare_pid" ] && [ "$stack_ran" = 0 ]; then
    kill -TERM "$prepare_pid" 2>/dev/null && wait "$prepare_pid" 2>/dev/null
    tests/docker/engine.sh stop >/dev/null 2>&1
  fi
  rm -rf "$TPS_TEST_MACHINE_LOCK"
  if [ -n "$prepare_log" ]; then rm -f "$prepare_log"; fi
  release_crash_disks

  # Last, and twice if need be: a process of the tests still ending may write in it meanwhile.
  if [ -n "$test_tmp" ]; then rm -rf "$test_tmp" 2>/dev/null || rm -rf "$test_tmp"; fi
  exit "$code"
}
# The crash disks of the power-cut tests (devenv/crash-disk.ts: ext4 on a loop device) that a run
# stopped mid-test left mounted: unmounted and their loop devices freed before the folder goes.
release_crash_disks() {
  local under="${test_tmp:-${TMPDIR:-/tmp}}/tps-crash-"
  awk -v p="$under" 'index($2, p) == 1 {print $2}' /proc/mounts 2>/dev/null | while read -r mnt; do umount --lazy "$mnt"; done
  losetup --list --noheadings --output NAME,BACK-FILE 2>/dev/null | awk -v p="$under" 'index($2, p) == 1 {print $1}' | while read -r dev; do losetup --detach "$dev"; done
}
trap cleanup EXIT
if [ "$compose" = 1 ]; then
  # The compose stack's Docker engine and images (about 100 s, mostly downloads and disk) are built
  # while vitest runs, at the lowest CPU priority so the tests keep the machine.
  prepare_log=$(mktemp "${TMPDIR:-/tmp}/tps-compose-prepare.XXXXXX")
  echo "== make test: building the compose stack's engine and images, and checking the NATS cluster override, in the background (nice 19)"
  nice -n 19 ionice -c 3 tests/docker/run.sh prepare > "$prepare_log" 2>&1 &
  prepare_pid=$!
fi
prepared() {
  local code=0
  wait "$prepare_pid" || code=$?
  sed 's/^/   /' "$prepare_log"
  return "$code"
}
phase "type check and vitest (real nats-server, Prometheus, role processes)" env ${test_tmp:+TMPDIR="$test_tmp"} npm test --silent
phase "npm audit (high and critical) and registry signatures" scripts/audit-deps.sh
if [ "$compose" = 1 ]; then
  phase "compose stack's engine and images, and the NATS cluster override (while vitest ran)" prepared
  stack_ran=1
  phase "compose stack on a real Docker engine (tests/docker/run.sh)" env TPS_DOCKER_PREPARED=1 tests/docker/run.sh
fi
echo "== make test: passed in $((SECONDS - t0)) s"
