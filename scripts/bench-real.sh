#!/usr/bin/env bash
# Side-by-side hunt benchmark on real shapes: SigmaHQ's cloud rules over a set built from the
# public samples of ../shared/corpus/logs (`tw-bench gen-real`: every record as one JSON line,
# repeated to volume, and the same records in their original files), then over `tw-bench
# gen-mixed`. Alternating in one run: rsigma 0.23.0 (`rsigma engine eval`, NDJSON on standard
# input), tenantwatch generic (`--format-in json`), tenantwatch with formats detected, the same
# with `--decode-all` (findings must be identical) and with the built-in pack. Prints wall, CPU
# and MB per CPU second per run, the medians, and the ratios the targets are stated in.
#
# Usage: scripts/bench-real.sh [RUNS] [RULES] [CORPUS_LOGS] [DATA_DIR] [REAL_MB] [MIXED_MB]
#   RUNS         alternating rounds (default 3)
#   RULES        Sigma rules (default ../shared/corpus/sigma/rules: 142 SigmaHQ cloud rules)
#   CORPUS_LOGS  real samples (default ../shared/corpus/logs)
#   DATA_DIR     where the sets are built (default /tmp/tenantwatch-bench-real)
#   REAL_MB      size of each half of the real set (default 100)
#   MIXED_MB     size of the gen-mixed set (default 256)
# Environment: RSIGMA (default /tmp/rsigma/bin/rsigma, installed there with
#   `cargo install rsigma --version 0.23.0 --locked --root /tmp/rsigma` when missing),
#   THREADS (tenantwatch worker threads, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
# The shared corpus beside the checkout (or beside the folder of worktrees).
shared=../shared/corpus
[ -d "$shared" ] || shared=../../shared/corpus
rules=${2:-$shared/sigma/rules}
corpus=${3:-$shared/logs}
dir=${4:-/tmp/tenantwatch-bench-real}
real_mb=${5:-100}
mixed_mb=${6:-256}
threads=${THREADS:-1}
rsigma=${RSIGMA:-/tmp/rsigma/bin/rsigma}
bin=${CARGO_TARGET_DIR:-target}/release
cargo build --release -q -p tw-bench -p tenantwatch
if [ ! -x "$rsigma" ]; then
  cargo install -q rsigma --version 0.23.0 --locked --root /tmp/rsigma
  rsigma=/tmp/rsigma/bin/rsigma
fi
[ -f "$dir/real/jsonl/events.jsonl" ] || "$bin/tw-bench" gen-real "$corpus" "$dir/real" --mb "$real_mb"
[ -f "$dir/mixed/signin.jsonl" ] || "$bin/tw-bench" gen-mixed "$dir/mixed" --mb "$mixed_mb"
# rsigma reads one stream: the mixed set's files concatenated once (its time then holds no `cat`).
[ -f "$dir/mixed-all.ndjson" ] || cat "$dir/mixed"/*.jsonl >"$dir/mixed-all.ndjson"
results=$dir/results.tsv
: >"$results"

# run SET MODE BYTES CMD...: one timed run; findings to $dir/out-SET-MODE.jsonl.
run() {
  local set=$1 mode=$2 bytes=$3
  shift 3
  local out=$dir/out-$set-$mode.jsonl
  /usr/bin/time -o "$dir/time.txt" -f "%e %U %S %M" "$@" >"$out" 2>"$dir/err-$set-$mode.txt" || {
    local code=$?
    # tenantwatch exits 2 when a record or rule was rejected: the run still counts.
    [ "$code" = 2 ] || { cat "$dir/err-$set-$mode.txt" >&2; exit "$code"; }
  }
  read -r wall user sys rss <"$dir/time.txt"
  awk -v s="$set" -v m="$mode" -v w="$wall" -v u="$user" -v y="$sys" -v r="$rss" -v b="$bytes" \
    -v n="$(wc -l <"$out")" 'BEGIN {
      c = u + y; if (c < 0.01) c = 0.01
      printf "%s\t%s\t%.2f\t%.2f\t%.0f\t%.1f\t%d\n", s, m, w, c, b / 1e6 / c, r / 1024, n
    }' | tee -a "$results"
}

hunt_modes() {
  local set=$1 bytes=$2 generic=$3 detected=$4 detected_bytes=$5
  run "$set" generic "$bytes" "$bin/tenantwatch" hunt "$generic" --format-in json --rules "$rules" \
    --no-builtin --format jsonl --threads "$threads"
  run "$set" detected "$detected_bytes" "$bin/tenantwatch" hunt "$detected" --rules "$rules" \
    --no-builtin --format jsonl --threads "$threads"
  run "$set" decode-all "$detected_bytes" "$bin/tenantwatch" hunt "$detected" --rules "$rules" \
    --no-builtin --format jsonl --threads "$threads" --decode-all
  run "$set" pack "$detected_bytes" "$bin/tenantwatch" hunt "$detected" --rules "$rules" \
    --format jsonl --threads "$threads"
}

real_bytes=$(cat "$dir/real/jsonl/events.jsonl" | wc -c)
real_fmt_bytes=$(find "$dir/real/formats" -type f -exec cat {} + | wc -c)
mixed_bytes=$(cat "$dir/mixed"/*.jsonl | wc -c)
echo "real set: $real_bytes bytes of JSON lines, $real_fmt_bytes bytes in the original formats; gen-mixed: $mixed_bytes bytes"
echo "$("$rsigma" --version | head -1); tenantwatch threads: $threads"
printf "set\tmode\twall s\tCPU s\tMB per CPU s\tpeak MiB\tfindings\n"
for round in $(seq "$runs"); do
  echo "== round $round"
  run real rsigma "$real_bytes" sh -c "\"$rsigma\" engine eval -r \"$rules\" <\"$dir/real/jsonl/events.jsonl\""
  hunt_modes real "$real_bytes" "$dir/real/jsonl" "$dir/real/formats" "$real_fmt_bytes"
  run mixed rsigma "$mixed_bytes" sh -c "\"$rsigma\" engine eval -r \"$rules\" <\"$dir/mixed-all.ndjson\""
  hunt_modes mixed "$mixed_bytes" "$dir/mixed" "$dir/mixed" "$mixed_bytes"
done
for set in real mixed; do
  if cmp -s "$dir/out-$set-detected.jsonl" "$dir/out-$set-decode-all.jsonl"; then
    echo "$set: findings identical with --decode-all ($(wc -l <"$dir/out-$set-detected.jsonl"))"
  else
    echo "$set: FINDINGS DIFFER with --decode-all" >&2
  fi
done
echo "== medians (MB per CPU second of the bytes each mode reads: JSON lines for rsigma and generic, the original files otherwise)"
awk -F'\t' '
  { k = $1 "\t" $2; n[k]++; v[k, n[k]] = $5; c[k, n[k]] = $4 }
  function med(k, a,   i, j, m, t, x) {
    m = n[k]
    for (i = 1; i <= m; i++) x[i] = a[k, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
    return x[int((m + 1) / 2)]
  }
  END {
    split("real mixed", sets, " ")
    for (s = 1; s <= 2; s++) {
      S = sets[s]
      r = med(S "\trsigma", v); g = med(S "\tgeneric", v); d = med(S "\tdetected", v)
      printf "%s: rsigma %.0f, generic %.0f (%.1fx rsigma), detected %.0f (%.1fx rsigma), decode-all %.0f, pack %.0f\n",
        S, r, g, g / r, d, d / r, med(S "\tdecode-all", v), med(S "\tpack", v)
      printf "%s: CPU s medians: detected %.2f, with the pack %.2f (%+.0f %%)\n", S,
        med(S "\tdetected", c), med(S "\tpack", c), (med(S "\tpack", c) / med(S "\tdetected", c) - 1) * 100
    }
  }' "$results"
