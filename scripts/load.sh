#!/usr/bin/env bash
# `make load`: open-model load on the ingress. In compose mode the k6 service of docker-compose.yml;
# natively k6 when it is installed, otherwise the native generator (`tps load`, which also writes
# the ledger `make audit` reads). RATE, DURATION and MIX come from make; empty means the default.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stack_root=$root
. "$root/scripts/stack.sh"
RATE=${RATE:-100}
DURATION=${DURATION:-2m}
MIX=${MIX:-}
mode=$(stack_mode "${MODE:-}") || exit 2
[ "$mode" = none ] && { stack_none_message; exit 1; }

if [ "$mode" = compose ]; then
  # k6 (profile `load`) when its image is here or LOADGEN=k6 asks for it (compose pulls it);
  # otherwise the native generator in the tools container, whose ledger `make audit` reads.
  k6_image=$(grep -oE 'image: grafana/k6:[^ ]+' "$root/docker-compose.yml" | cut -d' ' -f2)
  loadgen=${LOADGEN:-auto}
  if [ "$loadgen" = auto ]; then
    loadgen=native
    docker image inspect "$k6_image" >/dev/null 2>&1 && loadgen=k6
  fi
  case "$loadgen" in
    k6)
      compose=$(compose_cmd) || { echo "load: Docker Compose is not installed" >&2; exit 1; }
      project=$(compose_project 2>/dev/null || true)
      echo "load: k6 in compose (${RATE}/s for ${DURATION}; no ledger: LOADGEN=native writes one for make audit)"
      export RATE DURATION
      [ -n "$MIX" ] && export MIX
      cd "$root" && exec $compose ${project:+-p "$project"} --profile load run --rm k6 ;;
    native)
      echo "load: native generator in the compose tools container (no $k6_image image here; LOADGEN=k6 pulls and uses it)"
      compose_tps load --rate "$RATE" --duration "$DURATION" ${MIX:+--mix "$MIX"}
      exit $? ;;
    *) echo "load: LOADGEN must be auto, k6 or native, got '$loadgen'" >&2; exit 2 ;;
  esac
fi

"$root/scripts/bootstrap.sh" # native: Node 24 for tps load (quiet when installed)
if command -v k6 >/dev/null 2>&1; then
  echo "load: k6 ($(command -v k6)), ${RATE}/s for ${DURATION}; no ledger (use 'tps load' for 'make audit')"
  exec k6 run -e RATE="$RATE" -e DURATION="$DURATION" ${MIX:+-e MIX="$MIX"} -e BASE_URL="${BASE_URL:-http://127.0.0.1:8080}" "$root/loadgen/k6/constant-rate.js"
fi

echo "load: native generator (tps load; no k6 on PATH)"
TPS_MODE=native exec "$root/bin/tps" load --rate "$RATE" --duration "$DURATION" ${MIX:+--mix "$MIX"} ${BASE_URL:+--url "$BASE_URL"}
