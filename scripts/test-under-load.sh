#!/usr/bin/env bash
# `make test` with the cores kept busy on purpose, as on a shared CI runner: the suite must pass there too.
#
#   scripts/test-under-load.sh [RUNS]      RUNS runs in a row (default 1); stops at the first failure
#
# One bounded CPU hog (scripts/busy.py, a worker per core at normal priority, VWARD_LOAD_WORKERS to change)
# runs for the whole time and is stopped by pid at the end. Each run's result, duration and load averages
# (at its start, and the mean and highest of a sample every 30 s) are printed; its output goes to
# ${TMPDIR:-/tmp}/vward-under-load-N.log. Record the figures in docs/DEVELOPING.md ("The suite under load").
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
workers=${VWARD_LOAD_WORKERS:-$(nproc)}
logs=${TMPDIR:-/tmp}
python3 scripts/busy.py --workers "$workers" --minutes $((runs * 60 + 10)) &
hog=$!
sampler=""
trap 'kill $hog $sampler 2>/dev/null; wait $hog 2>/dev/null' EXIT
sleep 30 # let the load average climb before the first run starts

for i in $(seq 1 "$runs"); do
  samples="$logs/vward-under-load-$i.load"
  : >"$samples"
  (while :; do cut -d' ' -f1 /proc/loadavg >>"$samples"; sleep 30; done) &
  sampler=$!
  at_start=$(cut -d' ' -f1 /proc/loadavg)
  began=$(date +%s)
  make test >"$logs/vward-under-load-$i.log" 2>&1
  code=$?
  took=$(($(date +%s) - began))
  kill "$sampler" 2>/dev/null
  sampler=""
  load=$(awk '{ s += $1; if ($1 > m) m = $1 } END { printf "mean %.1f, highest %.1f", s / NR, m }' "$samples")
  result=$([ "$code" = 0 ] && echo passed || echo "FAILED ($code)")
  echo "run $i of $runs: $result in $((took / 60)) min $((took % 60)) s, $(date -u +%FT%TZ)," \
    "$workers busy workers on $(nproc) cores, load average $at_start at start, $load;" \
    "log $logs/vward-under-load-$i.log"
  grep -E "^(FAILED|ERROR) |[0-9]+ (passed|failed)" "$logs/vward-under-load-$i.log" | tail -n 12
  [ "$code" = 0 ] || exit "$code"
done
