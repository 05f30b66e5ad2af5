#!/usr/bin/env bash
# Built-in pack benchmark: what the pack adds to hunt time over the SigmaHQ set alone, on the
# simulator's attack storyline (release build). Runs alternate (SigmaHQ alone, then with the
# pack) so that both see the same machine state; prints each side's median and fastest wall
# time, median CPU time and peak memory, and the pack's share on top.
#
# Usage: scripts/bench-pack.sh [RUNS] [SCALE] [DATA_DIR]
#   RUNS      alternating pairs (default 15)
#   SCALE     `tenantwatch simulate --scale` (default 8: 290,978 records, 340 MB)
#   DATA_DIR  where the simulated exports are kept (default /tmp/tenantwatch-pack-bench)
# Environment: THREADS (default 2), RULES (default tests/fixtures/sigma/rules).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
scale=${2:-8}
dir=${3:-/tmp/tenantwatch-pack-bench}
threads=${THREADS:-2}
rules=${RULES:-tests/fixtures/sigma/rules}
bin=${CARGO_TARGET_DIR:-target}/release
cargo build --release -q -p tenantwatch
data=$dir/scale-$scale
[ -d "$data/logs" ] || "$bin/tenantwatch" simulate --out "$data" --scale "$scale" >/dev/null
times=$dir/times-$scale.txt
: >"$times"
for _ in $(seq "$runs"); do
  for side in sigmahq pack; do
    extra=()
    [ "$side" = sigmahq ] && extra=(--no-builtin)
    /usr/bin/time -a -o "$times" -f "$side %e %U %S %M" \
      "$bin/tenantwatch" hunt "$data/logs" --rules "$rules" "${extra[@]}" --format jsonl \
      --threads "$threads" --out "$dir/findings-$side.jsonl" 2>/dev/null
  done
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for side in sigmahq pack; do
  wall=$(awk -v s=$side '$1==s {print $2}' "$times" | median)
  fastest=$(awk -v s=$side '$1==s {print $2}' "$times" | sort -n | head -1)
  cpu=$(awk -v s=$side '$1==s {print $3+$4}' "$times" | median)
  rss=$(awk -v s=$side '$1==s {print $5}' "$times" | median)
  findings=$(wc -l <"$dir/findings-$side.jsonl")
  printf '%-8s wall median %s s, fastest %s s, CPU median %s s, peak RSS %d MiB, %s findings\n' \
    "$side" "$wall" "$fastest" "$cpu" "$((${rss%.*} / 1024))" "$findings"
  eval "wall_$side=$wall cpu_$side=$cpu fast_$side=$fastest"
done
awk -v a="$wall_sigmahq" -v b="$wall_pack" -v c="$cpu_sigmahq" -v d="$cpu_pack" \
  -v e="$fast_sigmahq" -v f="$fast_pack" -v n="$runs" 'BEGIN {
  printf "pack adds %+.1f %% wall time (medians of %d pairs), %+.1f %% between the fastest runs, %+.1f %% CPU time\n",
    (b / a - 1) * 100, n, (f / e - 1) * 100, (d / c - 1) * 100 }'
