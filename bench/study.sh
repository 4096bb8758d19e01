#!/usr/bin/env bash
# The whole study at scale: `survstudy run` (built-in plan, whole process)
# on chart-review exports of N patients, with R's study_in_r.R beside it.
#   bash bench/study.sh [N ...]              (default: 1000 10000 100000 1000000)
#   R_MAX=100000 bash bench/study.sh ...     (run R only up to this N; 0 = never)
# Data: ../shared/oracle/bench/study/make_big_cohort.py N (numpy, pandas) into
# bench/data/study_N.csv (gitignored). Prints one markdown row per N: load
# average, survstudy wall / user CPU / peak RSS, the stage times of
# SURVSTUDY_TIMINGS=1, output sizes, and R's wall / peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=("$@"); [ ${#NS[@]} -eq 0 ] && NS=(1000 10000 100000 1000000)
R_MAX=${R_MAX:-1000000}
ORACLE=${ORACLE:-/work/shared/oracle/bench/study}
cargo build --release -q -p survstudy-cli --bin survstudy
BIN=target/release/survstudy
mkdir -p bench/data
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
printf '| N | load | CSV MiB | wall s | user s | peak MiB | reading | validating | analysing | writing | rendering | results.json MiB | index.html MiB | figures MiB | adsl+adtte MiB | R wall s | R peak MiB |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in "${NS[@]}"; do
  f=bench/data/study_${n}.csv
  [ -f "$f" ] || python3 "$ORACLE/make_big_cohort.py" "$n" "$f" > /dev/null
  cat "$f" > /dev/null   # input in page cache
  out=$(mktemp -d)
  load=$(awk '{print $1}' /proc/loadavg)
  t=$( { SURVSTUDY_TIMINGS=1 /usr/bin/time -f "TIME %e %U %M" "$BIN" run --data "$f" --out "$out/r" --quiet > /dev/null; } 2>&1 )
  read -r _ wall user rss <<< "$(grep '^TIME' <<< "$t")"
  stage() { grep "timing: $1" <<< "$t" | awk '{print $3}'; }
  sz() { mib "$(du -sb "$out/r/$1" | cut -f1)"; }
  adam=$(mib $(( $(stat -c %s "$out/r/adsl.csv") + $(stat -c %s "$out/r/adtte.csv") )))
  rw=-; rr=-
  if [ "$n" -le "$R_MAX" ] && command -v Rscript > /dev/null; then
    rt=$( { /usr/bin/time -f "TIME %e %M" Rscript "$ORACLE/study_in_r.R" "$f" > /dev/null; } 2>&1 | grep '^TIME' )
    read -r _ rw rrss <<< "$rt"; rr=$((rrss / 1024))
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$n" "$load" "$(mib "$(stat -c %s "$f")")" "$wall" "$user" "$((rss / 1024))" \
    "$(stage reading)" "$(stage validating)" "$(stage analysing)" "$(stage writing)" "$(stage rendering)" \
    "$(sz results.json)" "$(sz index.html)" "$(sz figures)" "$adam" "$rw" "$rr"
  rm -rf "$out"
done
