#!/usr/bin/env bash
# `make load`: open-model load on the ingress. In compose mode the k6 service of docker-compose.yml;
# natively k6 when it is installed, otherwise the native generator (`tps load`, which also writes
# the ledger `make audit` reads). RATE, DURATION and MIX come from make; empty means the default.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
RATE=${RATE:-100}
DURATION=${DURATION:-2m}
MIX=${MIX:-}

if [ "${MODE:-native}" = compose ]; then
  echo "load: k6 in compose (${RATE}/s for ${DURATION})"
  export RATE DURATION
  [ -n "$MIX" ] && export MIX
  exec ${COMPOSE:-docker compose} --profile load run --rm k6
fi

if command -v k6 >/dev/null 2>&1; then
  echo "load: k6 ($(command -v k6)), ${RATE}/s for ${DURATION}; no ledger (use 'tps load' for 'make audit')"
  exec k6 run -e RATE="$RATE" -e DURATION="$DURATION" ${MIX:+-e MIX="$MIX"} -e BASE_URL="${BASE_URL:-http://127.0.0.1:8080}" "$root/loadgen/k6/constant-rate.js"
fi

echo "load: native generator (tps load; no k6 on PATH)"
exec "$root/bin/tps" load --rate "$RATE" --duration "$DURATION" ${MIX:+--mix "$MIX"} ${BASE_URL:+--url "$BASE_URL"}
