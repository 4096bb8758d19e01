#!/usr/bin/env bash
# Issue 15 item 6: Cox on (start, stop] data vs the right-censored Cox at
# 10^6 rows, whole process (CSV read included), median of REPS runs.
#   bash bench/counting.sh            (REPS=5 by default)
# Files (bench/data/, gitignored), all from gen_cohort's synthetic cohort:
#   cohort_1000000.csv        right-censored, 10^6 rows
#   delayed_1000000.csv       the same rows with an entry time
#                             start = floor(f * time), f in [0, 1) from the row number
#   split_500000.csv          5*10^5 subjects, each with time >= 2 split at
#                             floor(time / 2) into (0, c] and (c, time] rows
#                             (≈ 10^6 rows); x1 is time-dependent (+ 0.5 on
#                             the second row)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
cargo build --release -q -p survstudy-cli --bin survstudy --example gen_cohort
BIN=target/release/survstudy
mkdir -p bench/data
d=bench/data
[ -f $d/cohort_1000000.csv ] || target/release/examples/gen_cohort 1000000 $d/cohort_1000000.csv
[ -f $d/cohort_500000.csv ] || target/release/examples/gen_cohort 500000 $d/cohort_500000.csv
[ -f $d/delayed_1000000.csv ] || awk -F, -v OFS=, '
  NR == 1 { print "start", $0; next }
  { f = ((NR * 7919) % 1000) / 1000; print int(f * $1), $0 }' \
  $d/cohort_1000000.csv > $d/delayed_1000000.csv
[ -f $d/split_500000.csv ] || awk -F, -v OFS=, '
  NR == 1 { print "id", "start", "stop", "status", "group", "x1", "x2", "x3", "x4", "x5"; next }
  { id = NR - 1; rest = $5 OFS $6 OFS $7 OFS $8
    if ($1 >= 2) { c = int($1 / 2); print id, 0, c, 0, $3, $4, rest; print id, c, $1, $2, $3, $4 + 0.5, rest }
    else print id, 0, $1, $2, $3, $4, rest }' \
  $d/cohort_500000.csv > $d/split_500000.csv
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "uptime: $(uptime)"
printf '| task | rows | median s | peak RSS MiB |\n|---|---:|---:|---:|\n'
cov=x1,x2,x3,x4,x5
for task in plain delayed split split_id; do
  case $task in
    plain) f=$d/cohort_1000000.csv; args=(cox --data $f --time time --event status --covariates $cov) ;;
    delayed) f=$d/delayed_1000000.csv; args=(cox --data $f --start start --time time --event status --covariates $cov) ;;
    split) f=$d/split_500000.csv; args=(cox --data $f --start start --time stop --event status --covariates $cov) ;;
    split_id) f=$d/split_500000.csv; args=(cox --data $f --start start --time stop --event status --covariates $cov --id id) ;;
  esac
  rows=$(( $(wc -l < "$f") - 1 ))
  cat "$f" > /dev/null
  times=(); rss=0
  for _ in $(seq "$REPS"); do
    out=$( { /usr/bin/time -f "%e %M" "$BIN" "${args[@]}" > /dev/null; } 2>&1 | tail -1)
    times+=("${out% *}"); r=${out#* }; [ "$r" -gt "$rss" ] && rss=$r
  done
  med=$(printf '%s\n' "${times[@]}" | median)
  printf '| %s | %s | %s | %s |\n' "$task" "$rows" "$med" "$((rss / 1024))"
done
echo "uptime: $(uptime)"
