#!/bin/sh
# Loads a history `tps exam 2 start` or `tps lab start 3.5` left in .tps/compose/history/ into this compose stack's
# Prometheus. Run in Prometheus' own image (service `prometheus-history`, profile tools), the one
# user that may write its data volume; bin/tps runs it when the exam's command ends:
#   docker compose --profile tools run --rm prometheus-history
# 1. promtool writes the history as TSDB blocks into the volume (blocks of BLOCK_HOURS: promtool
#    reads its whole input once per block);
# 2. Prometheus loads new blocks on its next reload (every minute), or at once when restarted:
#    wait until it answers for a moment inside the history;
# 3. when RULES=1 (the weekend), promtool evaluates the recording rules over it against the running
#    Prometheus and writes their blocks too, so the panels built on recorded series show it: those
#    tps chose in rules.yml beside the history (operator/exam/history-rules.ts), else all of ours.
# PHASE=blocks does step 1 only and PHASE=rules steps 2 and 3: bin/tps restarts Prometheus between
# them and after (scripts/stack.sh), so nobody waits for a block reload; PHASE=ready waits until the
# restarted Prometheus answers. Unset (by hand): the three steps.
# (Natively operator/exam/stage.ts does the same from the tps process.)
set -eu
dir=/history
data=/prometheus
api=http://prometheus:9090
phase=${PHASE:-all}
case "$phase" in all|blocks|rules|ready) ;; *) echo "history: PHASE must be all, blocks, rules or ready (got $phase)" >&2; exit 2 ;; esac
if [ "$phase" = ready ]; then
  # After bin/tps restarted Prometheus: back only once it answers queries again.
  tries=0
  until wget -q -O /dev/null "$api/-/ready" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then echo "history: Prometheus is not ready 60 s after its restart" >&2; exit 1; fi
    sleep 1
  done
  exit 0
fi

[ -r "$dir/request.env" ] || { echo "history: nothing staged in .tps/compose/history/"; exit 0; }
start='' end='' at='' block_hours=24 rules=1
while IFS='=' read -r key value; do
  case "$key" in START) start=$value ;; END) end=$value ;; AT) at=$value ;; BLOCK_HOURS) block_hours=$value ;; RULES) rules=$value ;; esac
done < "$dir/request.env"
case "$start:$end:$at:$block_hours:$rules" in
  *[!0-9:]*|:*|*::*|*:) echo "history: $dir/request.env is not valid (START, END, AT in Unix seconds, BLOCK_HOURS, RULES 0 or 1)" >&2; exit 1 ;;
esac

if [ "$phase" != rules ]; then
  echo "history: writing it into Prometheus' storage (promtool)"
  promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration="${block_hours}h" "$dir/history.om" "$data"
fi
if [ "$phase" = blocks ]; then echo "history: written; Prometheus loads it when it restarts"; exit 0; fi

echo "history: waiting for Prometheus to load it"
tries=0
until wget -q -O - "$api/api/v1/query?query=count%28last_over_time%28up%5B1h%5D%29%29&time=$at" 2>/dev/null | grep -q '"value"'; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "history: Prometheus did not show the history within 3 minutes" >&2; exit 1; fi
  sleep 3
done

if [ "$rules" != 1 ]; then echo "history: it is in Prometheus"; exit 0; fi
echo "history: backfilling the recording rules over it"
# The importer logs every rule it evaluates: kept out of sight unless it fails.
if [ -r "$dir/rules.yml" ]; then set -- "$dir/rules.yml"; else set -- /etc/prometheus/rules/*.yml; fi
if ! promtool tsdb create-blocks-from rules --quiet --url="$api" --start="$start" --end="$end" --output-dir="$data" "$@" > /tmp/rules.log 2>&1; then
  cat /tmp/rules.log >&2
  exit 1
fi
if [ "$phase" = rules ]; then echo "history: it is in Prometheus, its recording rules too"; else echo "history: it is in Prometheus (the rules' blocks show within a minute)"; fi
