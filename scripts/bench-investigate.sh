#!/usr/bin/env bash
# investigate against hunt on the same simulated case (release builds): runs alternate (hunt,
# then investigate) so that both see the same machine state; prints every run's wall time, CPU
# time (user + system) and peak memory, then each side's median wall and CPU time and the
# ratio investigate / hunt of the medians.
#
# Usage: scripts/bench-investigate.sh [RUNS] [SCALE] [DATA_DIR] [BIN]
#   RUNS      alternating pairs (default 3)
#   SCALE     `tenantwatch simulate --scale` (default 8.3: 301,825 records, 355 MB)
#   DATA_DIR  where the simulated case is kept (default /tmp/tenantwatch-inv-bench)
#   BIN       the tenantwatch binary (default: the tree's release build, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scale=${2:-8.3}
dir=${3:-/tmp/tenantwatch-inv-bench}
bin=${4:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p tenantwatch
  bin=${CARGO_TARGET_DIR:-target}/release/tenantwatch
fi
data=$dir/scale-$scale
[ -d "$data/logs" ] || "$bin" simulate --out "$data" --scale "$scale" >/dev/null
times=$dir/times-$scale.txt
: >"$times"
for _ in $(seq "$runs"); do
  /usr/bin/time -a -o "$times" -f "hunt %e %U %S %M" "$bin" hunt "$data/logs" >/dev/null 2>&1
  rm -rf "$dir/case"
  /usr/bin/time -a -o "$times" -f "investigate %e %U %S %M" \
    "$bin" investigate "$data/logs" --out "$dir/case" --quiet >/dev/null 2>&1
done
awk '
  { printf "%-12s %6.2f s wall %6.2f s CPU %7.1f MB\n", $1, $2, $3 + $4, $5 / 1024
    wall[$1, ++n[$1]] = $2; cpu[$1, n[$1]] = $3 + $4 }
  function median(a, side, k,   i, j, t, v) {
    for (i = 1; i <= k; i++) v[i] = a[side, i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
  }
  END {
    hw = median(wall, "hunt", n["hunt"]); iw = median(wall, "investigate", n["investigate"])
    hc = median(cpu, "hunt", n["hunt"]); ic = median(cpu, "investigate", n["investigate"])
    printf "median: hunt %.2f s wall %.2f s CPU; investigate %.2f s wall %.2f s CPU\n", hw, hc, iw, ic
    printf "investigate / hunt: %.2fx wall, %.2fx CPU\n", iw / hw, ic / hc
  }' "$times"
