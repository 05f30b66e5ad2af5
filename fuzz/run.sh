#!/usr/bin/env bash
# Runs one fuzz target from its seeds, one job, one worker:
#   fuzz/run.sh <target> [seconds] [extra libFuzzer flags...]
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); works on a stable toolchain through
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only flags such as -Zsanitizer=address).
set -euo pipefail
cd "$(dirname "$0")"
target="$1"; secs="${2:-600}"; shift || true; shift || true
mkdir -p "corpus/$target" "artifacts/$target"
cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
  -max_total_time="$secs" -jobs=1 -workers=1 -print_final_stats=1 -timeout=30 "$@"
