#!/usr/bin/env bash
# Hunt benchmark: SigmaHQ's cloud rules over ~1 GB of realistic mixed tenant log exports (Entra
# sign-ins, audit, Graph activity, risk detections, Azure activity, Unified Audit Log) with the
# release build, next to rsigma 0.23.0 (`rsigma engine eval`) on the same rules and event files.
#
# Usage: scripts/bench-hunt.sh SIGMA_RULES_DIR [DATA_DIR] [MB]
#   SIGMA_RULES_DIR  the rules/ folder of a SigmaHQ checkout (only its cloud rules are needed)
#   DATA_DIR         where the generated events are kept (default /tmp/tenantwatch-hunt-bench)
#   MB               input size (default 1024); a 256 MB set is generated too, for memory
# Environment: RSIGMA (default: rsigma on PATH; install with
#   `cargo install rsigma --version 0.23.0 --locked`), PROFILE=1 to record a perf profile of the
#   single-threaded hunt and print its top functions.
set -euo pipefail
cd "$(dirname "$0")/.."
rules=${1:?usage: scripts/bench-hunt.sh SIGMA_RULES_DIR [DATA_DIR] [MB]}
dir=${2:-/tmp/tenantwatch-hunt-bench}
mb=${3:-1024}
rsigma=${RSIGMA:-rsigma}
bin=${CARGO_TARGET_DIR:-target}/release
cargo build --release -q -p tw-bench -p tenantwatch
for size in "$mb" 256; do
  [ -f "$dir/$size/signin.jsonl" ] || "$bin/tw-bench" gen-mixed "$dir/$size" --mb "$size"
done
data=$dir/$mb
fmt="wall %e s, cpu %U+%S s, peak RSS %M KB"

echo "== tenantwatch (tw-bench hunt: Hunter, SigmaHQ rules only; three runs each, the median kept)"
for t in 1 2; do
  for run in 1 2 3; do
    "$bin/tw-bench" hunt "$data" --rules "$rules" --threads "$t" | tee "$dir/tw-bench-hunt-$t.$run.json"
  done
  for run in 1 2 3; do
    echo "$(grep -o '"events_per_cpu_s":[0-9.]*' "$dir/tw-bench-hunt-$t.$run.json" | cut -d: -f2) $run"
  done | sort -n | sed -n 2p | { read -r _ median; cp "$dir/tw-bench-hunt-$t.$median.json" "$dir/tw-bench-hunt-$t.json"; }
  echo "median run ($t thread(s)): $(grep -o '"events_per_cpu_s":[0-9.]*' "$dir/tw-bench-hunt-$t.json")"
done
echo "== memory: the same at 256 MB"
"$bin/tw-bench" hunt "$dir/256" --rules "$rules" --threads 1 | tee "$dir/tw-bench-hunt-256.json"

echo "== tenantwatch hunt (the CLI; three runs each)"
for t in 1 2; do
  for run in 1 2 3; do
    /usr/bin/time -f "tenantwatch hunt --threads $t: $fmt" \
      "$bin/tenantwatch" hunt "$data" --rules "$rules" --no-builtin --format jsonl --threads "$t" \
      >"$dir/tenantwatch-findings-$t.jsonl"
  done
  echo "findings: $(wc -l <"$dir/tenantwatch-findings-$t.jsonl")"
done
/usr/bin/time -f "tenantwatch hunt --threads 1, 256 MB: $fmt" \
  "$bin/tenantwatch" hunt "$dir/256" --rules "$rules" --no-builtin --format jsonl --threads 1 \
  >/dev/null

if command -v "$rsigma" >/dev/null; then
  echo "== $("$rsigma" --version | head -1) engine eval (NDJSON on standard input, one thread)"
  for size in "$mb" 256; do
    # `time` measures rsigma alone; cat only feeds the files.
    cat "$dir/$size"/*.jsonl |
      /usr/bin/time -o "$dir/rsigma-time-$size.txt" -f "%e %U %S %M" \
        "$rsigma" engine eval -r "$rules" >"$dir/rsigma-matches-$size.jsonl" 2>"$dir/rsigma-$size.log"
    read -r wall user sys rss <"$dir/rsigma-time-$size.txt"
    tail -1 "$dir/rsigma-$size.log"
    bytes=$(cat "$dir/$size"/*.jsonl | wc -c)
    events=$(grep -o 'Processed [0-9]*' "$dir/rsigma-$size.log" | grep -o '[0-9]*')
    awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="$bytes" -v e="$events" -v n="$size" 'BEGIN {
      c = u + s
      printf "rsigma %s MB: wall %.2f s, cpu %.2f s, %.0f events/s, %.0f events per CPU s, %.1f MB/s, %.1f MB per CPU s, peak RSS %.1f MiB, matches follow\n",
        n, w, c, e / w, e / c, b / 1e6 / w, b / 1e6 / c, r / 1024
    }'
    wc -l <"$dir/rsigma-matches-$size.jsonl"
  done
  tw=$(grep -o '"events_per_cpu_s":[0-9.]*' "$dir/tw-bench-hunt-1.json" | cut -d: -f2)
  read -r wall user sys rss <"$dir/rsigma-time-$mb.txt"
  events=$(grep -o 'Processed [0-9]*' "$dir/rsigma-$mb.log" | grep -o '[0-9]*')
  awk -v tw="$tw" -v u="$user" -v s="$sys" -v e="$events" 'BEGIN {
    printf "events per CPU second, tenantwatch / rsigma: %.2f\n", tw / (e / (u + s))
  }'
else
  echo "rsigma not found: cargo install rsigma --version 0.23.0 --locked" >&2
fi

if [ "${PROFILE:-0}" = 1 ]; then
  echo "== perf profile (tw-bench hunt, one thread, $mb MB)"
  perf record -g -o "$dir/hunt.perf.data" \
    "$bin/tw-bench" hunt "$data" --rules "$rules" --threads 1 >/dev/null
  perf report -i "$dir/hunt.perf.data" --no-children --stdio 2>/dev/null |
    grep -E '^ +[0-9]+\.[0-9]+%' | head -25
fi
