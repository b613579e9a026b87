#!/bin/sh
# Loads a history `tps exam 2 start` or `tps lab start 3.5` left in .tps/compose/history/ into this compose stack's
# Prometheus. Run in Prometheus' own image (service `prometheus-history`, profile tools), the one
# user that may write its data volume; bin/tps runs it when the exam's command ends:
#   docker compose --profile tools run --rm prometheus-history
# 1. promtool writes the history as TSDB blocks into the volume (blocks of BLOCK_HOURS: promtool
#    reads its whole input once per block);
# 2. Prometheus loads new blocks on its next reload (every minute): wait until it answers for a
#    moment inside the history;
# 3. when RULES=1 (the weekend), promtool evaluates the recording rules over it against the running
#    Prometheus and writes their blocks too, so the panels built on recorded series show it.
# (Natively operator/exam/stage.ts does the same from the tps process.)
set -eu
dir=/history
data=/prometheus
api=http://prometheus:9090

[ -r "$dir/request.env" ] || { echo "history: nothing staged in .tps/compose/history/"; exit 0; }
start='' end='' at='' block_hours=24 rules=1
while IFS='=' read -r key value; do
  case "$key" in START) start=$value ;; END) end=$value ;; AT) at=$value ;; BLOCK_HOURS) block_hours=$value ;; RULES) rules=$value ;; esac
done < "$dir/request.env"
case "$start:$end:$at:$block_hours:$rules" in
  *[!0-9:]*|:*|*::*|*:) echo "history: $dir/request.env is not valid (START, END, AT in Unix seconds, BLOCK_HOURS, RULES 0 or 1)" >&2; exit 1 ;;
esac

echo "history: writing it into Prometheus' storage (promtool)"
promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration="${block_hours}h" "$dir/history.om" "$data"

echo "history: waiting for Prometheus to load it (it reloads its blocks every minute)"
tries=0
until wget -q -O - "$api/api/v1/query?query=count%28last_over_time%28up%5B1h%5D%29%29&time=$at" 2>/dev/null | grep -q '"value"'; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "history: Prometheus did not show the history within 3 minutes" >&2; exit 1; fi
  sleep 3
done

if [ "$rules" != 1 ]; then echo "history: it is in Prometheus"; exit 0; fi
echo "history: backfilling the recording rules over it"
# The importer logs every rule it evaluates: kept out of sight unless it fails.
if ! promtool tsdb create-blocks-from rules --quiet --url="$api" --start="$start" --end="$end" --output-dir="$data" /etc/prometheus/rules/*.yml > /tmp/rules.log 2>&1; then
  cat /tmp/rules.log >&2
  exit 1
fi
echo "history: it is in Prometheus (the rules' blocks show within a minute)"
