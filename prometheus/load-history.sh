#!/bin/sh
# Loads a history `tps exam 2 start` left in .tps/compose/history/ into this compose stack's
# Prometheus. Run in Prometheus' own image (service `prometheus-history`, profile tools), the one
# user that may write its data volume; bin/tps runs it when the exam's command ends:
#   docker compose --profile tools run --rm prometheus-history
# 1. promtool writes the weekend as TSDB blocks into the volume (blocks of up to a day: promtool
#    reads its whole input once per block);
# 2. Prometheus loads new blocks on its next reload (every minute): wait until it answers for a
#    moment inside the weekend;
# 3. promtool evaluates the recording rules over the weekend against the running Prometheus and
#    writes their blocks too, so the panels built on recorded series show it.
# (Natively operator/exam/stage.ts does the same from the tps process.)
set -eu
dir=/history
data=/prometheus
api=http://prometheus:9090

[ -r "$dir/request.env" ] || { echo "history: nothing staged in .tps/compose/history/"; exit 0; }
start='' end='' at=''
while IFS='=' read -r key value; do
  case "$key" in START) start=$value ;; END) end=$value ;; AT) at=$value ;; esac
done < "$dir/request.env"
case "$start:$end:$at" in
  *[!0-9:]*|:*|*::*|*:) echo "history: $dir/request.env is not valid (START, END, AT in Unix seconds)" >&2; exit 1 ;;
esac

echo "history: writing the weekend into Prometheus' storage (promtool)"
promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration=24h "$dir/weekend.om" "$data"

echo "history: waiting for Prometheus to load it (it reloads its blocks every minute)"
tries=0
until wget -q -O - "$api/api/v1/query?query=count%28up%29&time=$at" 2>/dev/null | grep -q '"value"'; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "history: Prometheus did not show the weekend within 3 minutes" >&2; exit 1; fi
  sleep 3
done

echo "history: backfilling the recording rules over it"
# The importer logs every rule it evaluates: kept out of sight unless it fails.
if ! promtool tsdb create-blocks-from rules --quiet --url="$api" --start="$start" --end="$end" --output-dir="$data" /etc/prometheus/rules/*.yml > /tmp/rules.log 2>&1; then
  cat /tmp/rules.log >&2
  exit 1
fi
echo "history: the weekend is in Prometheus (the rules' blocks show within a minute)"
