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
#    Prometheus and writes their blocks too (a folder aside, then moved in), so the panels built on
#    recorded series show it: those tps chose in rules.yml beside the history
#    (operator/exam/history-rules.ts), else all of ours. No block written is an error.
# PHASE=blocks does step 1 only and PHASE=rules steps 2 and 3: bin/tps restarts Prometheus between
# them and after (scripts/stack.sh), so nobody waits for a block reload; PHASE=ready waits until the
# restarted Prometheus answers and, after the rules, serves their series inside the history (else it
# lists the blocks it has and fails). Unset (by hand): the three steps.
# (Natively operator/exam/stage.ts does the same from the tps process.)
set -eu
# The service's mounts and address; tests/load-history.test.ts points them at a native Prometheus.
dir=${HISTORY_DIR:-/history}
data=${PROMETHEUS_DATA:-/prometheus}
api=${PROMETHEUS_URL:-http://prometheus:9090}
phase=${PHASE:-all}
case "$phase" in all|blocks|rules|ready) ;; *) echo "history: PHASE must be all, blocks, rules or ready (got $phase)" >&2; exit 2 ;; esac

# Until Prometheus answers the instant query $1 (URL-encoded) at $at with a sample, $2 tries 3 s apart.
answers_at() {
  tries=0
  until wget -q -O - "$api/api/v1/query?query=$1&time=$at" 2>/dev/null | grep -q '"value"'; do
    tries=$((tries + 1))
    [ "$tries" -lt "$2" ] || return 1
    sleep 3
  done
}

[ -r "$dir/request.env" ] || { echo "history: nothing staged in .tps/compose/history/"; exit 0; }
start='' end='' at='' block_hours=24 rules=1
while IFS='=' read -r key value; do
  case "$key" in START) start=$value ;; END) end=$value ;; AT) at=$value ;; BLOCK_HOURS) block_hours=$value ;; RULES) rules=$value ;; esac
done < "$dir/request.env"
case "$start:$end:$at:$block_hours:$rules" in
  *[!0-9:]*|:*|*::*|*:) echo "history: $dir/request.env is not valid (START, END, AT in Unix seconds, BLOCK_HOURS, RULES 0 or 1)" >&2; exit 1 ;;
esac

if [ "$phase" = ready ]; then
  # After bin/tps restarted Prometheus: back once it answers queries again and, after the rules'
  # blocks, serves a recorded series (a name with a colon) inside the history.
  tries=0
  until wget -q -O /dev/null "$api/-/ready" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then echo "history: Prometheus is not ready 60 s after its restart" >&2; exit 1; fi
    sleep 1
  done
  [ "$rules" = 1 ] || exit 0
  # 90 s: a block reload's time, should it load a block late.
  if ! answers_at 'count%28%7B__name__%3D~%22.%2B%3A.%2B%22%7D%29' 30; then
    echo "history: the restarted Prometheus shows no recorded series in the history within 90 s; blocks in its storage:" >&2
    for meta in "$data"/*/meta.json; do
      [ -r "$meta" ] && echo "  $(basename "$(dirname "$meta")") $(tr -d ' \t\n' < "$meta" | grep -o -E '"minTime":[0-9]*,"maxTime":[0-9]*|"numSeries":[0-9]*' | head -2 | tr '\n' ' ')" >&2
    done
    exit 1
  fi
  echo "history: the recording rules' series show in the history"
  exit 0
fi

if [ "$phase" != rules ]; then
  echo "history: writing it into Prometheus' storage (promtool)"
  promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration="${block_hours}h" "$dir/history.om" "$data"
fi
if [ "$phase" = blocks ]; then echo "history: written; Prometheus loads it when it restarts"; exit 0; fi

echo "history: waiting for Prometheus to load it"
if ! answers_at 'count%28last_over_time%28up%5B1h%5D%29%29' 60; then echo "history: Prometheus did not show the history within 3 minutes" >&2; exit 1; fi

if [ "$rules" != 1 ]; then echo "history: it is in Prometheus"; exit 0; fi
echo "history: backfilling the recording rules over it"
# promtool writes the rules' blocks into a folder of their own in the volume (Prometheus loads only
# folders named as blocks), moved in once all are written: the running Prometheus never picks up
# half of them at its block reload and compacts into its history while the rest are still coming.
staging="$data/rules-staging"
rm -rf "$staging"
mkdir "$staging"
# The importer logs every rule it evaluates: kept out of sight unless it fails, beside the staging
# folder (a fixed /tmp/rules.log was shared by every run on the machine, and left behind).
log="$data/rules-staging.log"
if [ -r "$dir/rules.yml" ]; then set -- "$dir/rules.yml"; else set -- /etc/prometheus/rules/*.yml; fi
# From the start of the history's first 2-hour block (promtool's blocks, aligned to the epoch): a
# --start in a block's last 5 minutes had promtool skip whole rule groups and exit 0
# (prometheus/prometheus#19714; operator/exam/backfill.ts, rulesStartSeconds).
rules_start=$((start - start % 7200))
if ! promtool tsdb create-blocks-from rules --quiet --url="$api" --start="$rules_start" --end="$end" --output-dir="$staging" "$@" > "$log" 2>&1; then
  cat "$log" >&2
  rm -rf "$staging" "$log"
  exit 1
fi
written=0
for block in "$staging"/*; do
  [ -r "$block/meta.json" ] || continue
  mv "$block" "$data/"
  written=$((written + 1))
done
rm -rf "$staging"
# No block means every rule evaluated to nothing over the history: promtool says so only in its log.
if [ "$written" -eq 0 ]; then echo "history: promtool wrote no block of recording rules (did Prometheus serve the history?); its log:" >&2; cat "$log" >&2; rm -f "$log"; exit 1; fi
rm -f "$log"
if [ "$phase" = rules ]; then echo "history: it is in Prometheus, its recording rules too ($written blocks)"; else echo "history: it is in Prometheus (the rules' $written blocks show within a minute)"; fi
