#!/usr/bin/env bash
# Many small files, every format: `tenantwatch ingest --stats` (release) against a plain Python
# reader of the same files (scripts/read-exports.py), alternating in one run, printing wall, CPU
# and MB per CPU second of both and their ratio.
#
# The case: `tenantwatch simulate` (10 tenants, 3 days, --scale 215: 370 MB) rewritten by
# scripts/split-exports.py into Graph pages of 250 records and hourly Azure Monitor blobs (about
# 1,460 files, 364 MB on disk; Purview and Log Analytics CSV, Management API JSON lines,
# Search-UnifiedAuditLog arrays, Event Hub captures, gzip and a zip as the simulator writes them).
# MB are bytes on disk (a .gz counts compressed), the same for both readers.
#
# Usage: scripts/bench-ingest-python.sh [RUNS] [DIR] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
dir=${2:-/tmp/tenantwatch-many-files}
bin=${3:-./target/release/tenantwatch}
[ "$bin" = ./target/release/tenantwatch ] && cargo build --release -q -p tenantwatch
if [ ! -d "$dir/case" ]; then
  rm -rf "$dir/sim"
  "$bin" simulate --out "$dir/sim" --tenants 10 --compromised 3 --days 3 --scale 215 --seed 5 >/dev/null
  python3 scripts/split-exports.py "$dir/sim/logs" "$dir/case" 250
  rm -rf "$dir/sim"
fi
bytes=$(find "$dir/case/" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$dir/case/" -type f | wc -l)
echo "case: $dir/case, $files files, $bytes bytes"
measure() { # name, command...
  local name=$1 t
  shift
  /usr/bin/time -o "$dir/time" -f '%e %U %S %M' "$@" >/dev/null 2>&1
  t=$(tail -1 "$dir/time")
  echo "$t" | awk -v n="$name" -v b="$bytes" '{cpu=$2+$3; printf "%-12s wall %6.2f s  cpu %6.2f s  %7.1f MB per CPU s  peak %d KB\n", n, $1, cpu, b/1e6/cpu, $4}'
  echo "$t" | awk '{print $2+$3}' >>"$dir/cpu.$name"
}
rm -f "$dir/cpu.tenantwatch" "$dir/cpu.python"
for r in $(seq "$runs"); do
  measure tenantwatch "$bin" ingest "$dir/case" --stats
  measure python python3 scripts/read-exports.py "$dir/case"
done
paste "$dir/cpu.python" "$dir/cpu.tenantwatch" |
  awk '{r=$1/$2; s+=r; if (NR==1 || r<lo) lo=r; if (r>hi) hi=r} END {printf "CPU ratio python / tenantwatch: %.1f-%.1f (mean %.1f over %d runs)\n", lo, hi, s/NR, NR}'
