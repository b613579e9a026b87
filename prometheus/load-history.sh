#!/bin/sh
# Loads a history `tps exam 2 start` or `tps lab start 3.5` left in .tps/compose/history/ into this compose stack's
# Prometheus. Run in Prometheus' own image (service `prometheus-history`, profile tools), the one
# user that may write its data volume, by bin/tps when the exam's command ends, one phase at a
# time, Prometheus restarted between them (scripts/stack.sh; by hand: scripts/compose.sh load-history):
#   PHASE=blocks  promtool writes the history as TSDB blocks into the volume (blocks of BLOCK_HOURS:
#                 promtool reads its whole input once per block); Prometheus loads them when restarted;
#   PHASE=rules   when RULES=1 (the weekend): the recording rules' series over it, which a tools
#                 container evaluated against the restarted Prometheus (`tps exam history-rules`,
#                 operator/exam/handoff.ts) into rules.om, written as blocks too (a folder aside,
#                 then moved in), so the panels built on recorded series show it;
#   PHASE=ready   after the next restart: waits until Prometheus answers and, after the rules,
#                 serves their series inside the history (else lists the blocks it has and fails).
set -eu
# The service's mounts and address; tests/load-history.test.ts points them at a native Prometheus.
dir=${HISTORY_DIR:-/history}
data=${PROMETHEUS_DATA:-/prometheus}
api=${PROMETHEUS_URL:-http://prometheus:9090}
phase=${PHASE:-}
case "$phase" in blocks|rules|ready) ;; *) echo "history: PHASE must be blocks, rules or ready (got \"$phase\"); to load a history by hand, with Prometheus' restarts: scripts/compose.sh load-history" >&2; exit 2 ;; esac

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
  # After bin/tps restarted Prometheus: back once it answers queries again and serves the history
  # or, after the rules' blocks, a recorded series (a name with a colon) inside it.
  tries=0
  until wget -q -O /dev/null "$api/-/ready" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then echo "history: Prometheus is not ready 60 s after its restart" >&2; exit 1; fi
    sleep 1
  done
  if [ "$rules" = 1 ]; then what="recorded series" query='count%28%7B__name__%3D~%22.%2B%3A.%2B%22%7D%29'
  else what="samples" query='count%28last_over_time%28up%5B1h%5D%29%29'; fi
  # 90 s: a block reload's time, should it load a block late.
  if ! answers_at "$query" 30; then
    echo "history: the restarted Prometheus shows no $what in the history within 90 s; blocks in its storage:" >&2
    for meta in "$data"/*/meta.json; do
      [ -r "$meta" ] && echo "  $(basename "$(dirname "$meta")") $(tr -d ' \t\n' < "$meta" | grep -o -E '"minTime":[0-9]*,"maxTime":[0-9]*|"numSeries":[0-9]*' | head -2 | tr '\n' ' ')" >&2
    done
    exit 1
  fi
  if [ "$rules" = 1 ]; then echo "history: the recording rules' series show in the history"; else echo "history: it is in Prometheus"; fi
  exit 0
fi

if [ "$phase" = blocks ]; then
  echo "history: writing it into Prometheus' storage (promtool)"
  promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration="${block_hours}h" "$dir/history.om" "$data"
  echo "history: written; Prometheus loads it when it restarts"
  exit 0
fi

# PHASE=rules
[ "$rules" = 1 ] || { echo "history: no recording rules asked for this history (RULES=0)"; exit 0; }
[ -r "$dir/rules.om" ] || { echo "history: no recording rules' series beside the history (rules.om): bin/tps evaluates them first (tps exam history-rules)" >&2; exit 1; }
echo "history: writing the recording rules' series into Prometheus' storage (promtool)"
# A folder of their own in the volume (Prometheus loads only folders named as blocks), moved in once
# all are written: the running Prometheus never picks up half of them at its block reload.
# promtool's log beside it, shown only should it fail.
staging="$data/rules-staging"
log="$data/rules-staging.log"
rm -rf "$staging"
if ! promtool tsdb create-blocks-from openmetrics --max-block-duration="${block_hours}h" "$dir/rules.om" "$staging" > "$log" 2>&1; then
  cat "$log" >&2
  rm -rf "$staging" "$log"
  exit 1
fi
rm -f "$log"
written=0
for block in "$staging"/*; do
  [ -r "$block/meta.json" ] || continue
  mv "$block" "$data/"
  written=$((written + 1))
done
rm -rf "$staging"
if [ "$written" -eq 0 ]; then echo "history: promtool wrote no block of the recording rules' series (is rules.om empty?)" >&2; exit 1; fi
echo "history: it is in Prometheus, its recording rules too ($written blocks)"
