#!/usr/bin/env bash
# Parquet vs CSV input at scale (issue 11): the same data read as CSV and as
# Parquet written by pyarrow with its defaults (snappy, dictionary pages;
# pyarrow.csv's type inference: ISO dates -> date32, numbers -> int64/double,
# yes/no and ids -> strings).
#   bash bench/parquet.sh [N]      (default 1000000)
# 1. ad-hoc: km/cox on the oracle's gen_big design (time, status, group, x1..x5)
# 2. the study: `survstudy run` (built-in plan) on make_big_cohort.py N,
#    stage times from SURVSTUDY_TIMINGS=1 (reading, validating = the input side)
# Needs python3 with numpy, pandas, pyarrow. Files into bench/data/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
ORACLE=${ORACLE:-/work/shared/oracle/bench}
cargo build --release -q -p survstudy-cli --bin survstudy
BIN=target/release/survstudy
mkdir -p bench/data
to_parquet() {
  python3 - "$1" "$2" <<'PY'
import sys, pyarrow.csv as pacsv, pyarrow.parquet as pq
t = pacsv.read_csv(sys.argv[1])
pq.write_table(t, sys.argv[2])
print(t.schema, file=sys.stderr)
PY
}
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # median wall and peak RSS (MiB) of 5 runs
  local w=() r=()
  for _ in 1 2 3 4 5; do
    t=$( { /usr/bin/time -f "TIME %e %M" "$@" > /dev/null; } 2>&1 | grep '^TIME' )
    w+=("$(awk '{print $2}' <<< "$t")"); r+=("$(awk '{print int($3/1024)}' <<< "$t")")
  done
  echo "$(printf '%s\n' "${w[@]}" | med) $(printf '%s\n' "${r[@]}" | med)"
}

# 1. ad-hoc commands
csv=bench/data/cohort_${N}.csv
if [ ! -f "$csv" ]; then
  python3 - "$N" "$csv" <<'PY'
import sys, numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(20240101 + n)
x = rng.standard_normal((n, 5)); g = rng.integers(0, 2, n)
lp = 0.5*g + 0.3*x[:,0] - 0.2*x[:,1] + 0.1*x[:,2] + 0.05*x[:,4]
t = (rng.weibull(1.2, n) * 1500 * np.exp(-lp / 1.2))
c = np.minimum(rng.uniform(0, 3650, n), 3650)
time = np.ceil(np.minimum(t, c)); status = (t <= c).astype(int)
with open(out, "w") as f:
    f.write("time,status,group,x1,x2,x3,x4,x5\n")
    for i in range(n):
        f.write("%d,%d,%d,%s\n" % (time[i], status[i], g[i], ",".join("%.17g" % v for v in x[i])))
PY
fi
pq=bench/data/cohort_${N}.parquet
[ -f "$pq" ] || to_parquet "$csv" "$pq" 2> /dev/null
cat "$csv" "$pq" > /dev/null
echo "## ad-hoc, $N rows: CSV $(mib "$csv") MiB, Parquet $(mib "$pq") MiB"
echo "| command | CSV wall s | CSV peak MiB | Parquet wall s | Parquet peak MiB |"
echo "|---|---:|---:|---:|---:|"
for c in "km --time time --event status --group group" \
         "cox --time time --event status --covariates x1,x2,x3,x4,x5"; do
  read -r cw cr <<< "$(timeit $BIN $c --data "$csv" --json)"
  read -r pw pr <<< "$(timeit $BIN $c --data "$pq" --json)"
  # same numbers from both files
  cmp <($BIN $c --data "$csv" --json) <($BIN $c --data "$pq" --json) > /dev/null || echo "OUTPUT DIFFERS: $c"
  echo "| \`${c%% *}\` | $cw | $cr | $pw | $pr |"
done

# 2. the study
scsv=bench/data/study_${N}.csv
[ -f "$scsv" ] || python3 "$ORACLE/study/make_big_cohort.py" "$N" "$scsv" > /dev/null
spq=bench/data/study_${N}.parquet
[ -f "$spq" ] || to_parquet "$scsv" "$spq" 2> /dev/null
cat "$scsv" "$spq" > /dev/null
echo
echo "## run (built-in plan), $N patients: CSV $(mib "$scsv") MiB, Parquet $(mib "$spq") MiB"
echo "| input | reading s | validating s | whole run s | peak MiB |"
echo "|---|---:|---:|---:|---:|"
for f in "$scsv" "$spq"; do
  out=$(mktemp -d)
  t=$( { SURVSTUDY_TIMINGS=1 /usr/bin/time -f "TIME %e %M" "$BIN" run --data "$f" --out "$out/r" --quiet > /dev/null; } 2>&1 )
  stage() { grep "timing: $1" <<< "$t" | awk '{print $3}'; }
  read -r _ wall rss <<< "$(grep '^TIME' <<< "$t")"
  echo "| ${f##*.} | $(stage reading) | $(stage validating) | $wall | $((rss / 1024)) |"
  python3 - "$out/r/results.json" > "$out/${f##*.}.stats" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["meta"].pop("data_source"); d["meta"].pop("sha256")
print(json.dumps(d, sort_keys=True))
PY
  mv "$out/${f##*.}.stats" "bench/data/study_${N}.${f##*.}.stats"
  rm -rf "$out"
done
cmp "bench/data/study_${N}.csv.stats" "bench/data/study_${N}.parquet.stats" > /dev/null \
  && echo "(results.json identical apart from meta.data_source and meta.sha256)" \
  || echo "RESULTS DIFFER"
