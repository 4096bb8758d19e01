#!/usr/bin/env bash
# End-to-end timing of the survstudy CLI on synthetic cohorts (whole process,
# CSV read included), like the oracle's R/lifelines baseline.
#   bash bench/run.sh [N ...]        (default: 1000000)
# Generates bench/data/cohort_N.csv with the gen_cohort example if missing,
# runs each command REPS times (default 5) and prints median wall seconds and
# peak RSS; compares with R when Rscript and the survival package are present.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=("$@"); [ ${#NS[@]} -eq 0 ] && NS=(1000000)
REPS=${REPS:-5}
cargo build --release -q -p survstudy-cli --bin survstudy --example gen_cohort
BIN=target/release/survstudy
mkdir -p bench/data
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '| N | task | median s | peak RSS MiB | CSV MiB |\n|---:|---|---:|---:|---:|\n'
for n in "${NS[@]}"; do
  f=bench/data/cohort_${n}.csv
  [ -f "$f" ] || target/release/examples/gen_cohort "$n" "$f"
  csv_mib=$(( $(stat -c %s "$f") / 1048576 ))
  cat "$f" > /dev/null   # warm the page cache so every tool reads from memory
  for task in km logrank cox; do
    case $task in
      km) args=(km --data "$f" --time time --event status --group group) ;;
      logrank) args=(logrank --data "$f" --time time --event status --group group) ;;
      cox) args=(cox --data "$f" --time time --event status --covariates x1,x2,x3,x4,x5) ;;
    esac
    times=(); rss=0
    for _ in $(seq "$REPS"); do
      out=$( { /usr/bin/time -f "%e %M" "$BIN" "${args[@]}" > /dev/null; } 2>&1 | tail -1)
      times+=("${out% *}"); r=${out#* }; [ "$r" -gt "$rss" ] && rss=$r
    done
    med=$(printf '%s\n' "${times[@]}" | median)
    printf '| %s | %s | %s | %s | %s |\n' "$n" "$task" "$med" "$((rss / 1024))" "$csv_mib"
  done
done
