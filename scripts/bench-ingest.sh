#!/usr/bin/env bash
# Ingest benchmark: generates ~1 GB of realistic Management Activity API JSON lines and Purview CSV
# (half each) and reads it with the release build, printing MB/s, records/s, CPU time and peak RSS.
# Usage: scripts/bench-ingest.sh [DIR] [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/tenantwatch-bench}
mb=${2:-1024}
cargo build --release -q -p tw-bench -p tenantwatch
[ -f "$dir/ual.jsonl" ] || ./target/release/tw-bench gen "$dir" --mb "$mb"
for t in 1 2; do
  ./target/release/tw-bench ingest "$dir/ual.jsonl" --threads "$t"
  ./target/release/tw-bench ingest "$dir/purview.csv" --threads "$t"
done
./target/release/tw-bench ingest "$dir/ual.jsonl" "$dir/purview.csv" --threads 2
/usr/bin/time -f "tenantwatch ingest --stats: wall %e s, cpu %U+%S s, peak RSS %M KB" \
  ./target/release/tenantwatch ingest "$dir" --stats --threads 2 >/dev/null
