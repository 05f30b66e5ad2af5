#!/usr/bin/env bash
# Accuracy over many varied simulated worlds (docs/accuracy.md).
#
#   scripts/eval-accuracy.sh [WORLDS] [--first N] [--check] [--keep DIR]
#
# For seed in FIRST..FIRST+WORLDS-1 (default 1..50): `tenantwatch simulate --vary SEED` (a reseller
# with 24-30 customers, 7-9 attacked, small background), then
#   hunt LOGS --min-level informational --format jsonl           (recall, benign high+ findings)
#   blast LOGS --actor <first stolen account> --format json      (blast from the account alone)
#   hunt LOGS --min-level high --format jsonl; blast LOGS --findings that --format json
# with --tenant-map when the world wrote one, and `tw-bench accuracy` judges them against the
# world's truth.json. Prints every world and the totals; with --check, exits 3 when a target is
# missed (by default it only reports).
#
# Environment: TW_BIN (default target/release/tenantwatch, built first), TW_BENCH_BIN
# (default target/release/tw-bench, built first), TW_EVAL_SCALE (background, default
# 0.05), TW_EVAL_DAYS (default 10), TW_EVAL_RESULTS (keep the per-world JSON lines there).
set -euo pipefail

worlds=50
first=1
check=0
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1 ;;
        --first) first="$2"; shift ;;
        --keep) keep="$2"; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *[!0-9]*|"") echo "eval-accuracy: unknown argument: $1" >&2; exit 1 ;;
        *) worlds="$1" ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
tw="${TW_BIN:-$root/target/release/tenantwatch}"
bench="${TW_BENCH_BIN:-$root/target/release/tw-bench}"
scale="${TW_EVAL_SCALE:-0.05}"
days="${TW_EVAL_DAYS:-10}"
# The tree's own binaries are brought up to date; binaries given by the environment are used as
# they are.
if [ -z "${TW_BIN:-}" ]; then
    (cd "$root" && cargo build --release --locked -p tenantwatch)
fi
if [ -z "${TW_BENCH_BIN:-}" ]; then
    (cd "$root" && cargo build --release --locked -p tw-bench)
fi
tw="$(cd "$(dirname "$tw")" && pwd)/$(basename "$tw")"
bench="$(cd "$(dirname "$bench")" && pwd)/$(basename "$bench")"

work="$(mktemp -d "${TMPDIR:-/tmp}/tw-eval-accuracy.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="${TW_EVAL_RESULTS:-$work/results.jsonl}"
: > "$results"

# The lowest level this build's hunt accepts.
min_all=informational
if ! "$tw" hunt --help | grep -q informational; then
    min_all=low
fi

# Runs a tenantwatch command; status 2 (ran, some records rejected) is accepted.
run_tw() {
    local rc=0
    "$tw" "$@" 2>>stderr.txt || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
}

# Runs blast into FILE; a failed run is an empty result (every attacked tenant missed).
run_blast() {
    local out="$1"
    shift
    if ! run_tw blast logs "${map[@]}" "$@" --format json > "$out"; then
        echo "  blast $* failed: $(tail -n 1 stderr.txt)"
        echo '{"tenants":[]}' > "$out"
    fi
}

last=$((first + worlds - 1))
for seed in $(seq "$first" "$last"); do
    tenants=$((24 + seed % 7))
    compromised=$((7 + seed % 3))
    case_dir="$work/world-$seed"
    "$tw" simulate --out "$case_dir" --tenants "$tenants" --compromised "$compromised" \
        --days "$days" --scale "$scale" --vary "$seed" 2>/dev/null
    cd "$case_dir"
    map=()
    if [ -f tenant-map.txt ]; then
        map=(--tenant-map tenant-map.txt)
    fi
    account="$(grep -m1 -o '"partner_account": "[^"]*"' truth.json | cut -d'"' -f4)"
    vary="$(tr -d ' \n' < truth.json | grep -o '"variations":{[^}]*}' | cut -d'{' -f2 | tr -d '}"')"
    echo "world $seed: $tenants customers, $compromised attacked; $vary"
    if ! run_tw hunt logs "${map[@]}" --min-level "$min_all" --format jsonl --out hunt_all.jsonl; then
        echo "  hunt failed: $(tail -n 1 stderr.txt)"
        : > hunt_all.jsonl
    fi
    run_blast blast_actor.json --actor "$account"
    if ! run_tw hunt logs "${map[@]}" --min-level high --format jsonl --out hunt_high.jsonl; then
        : > hunt_high.jsonl
    fi
    run_blast blast_findings.json --findings hunt_high.jsonl
    args=(--truth truth.json --findings hunt_all.jsonl --blast-actor blast_actor.json
        --blast-findings blast_findings.json --world "$seed")
    "$bench" accuracy "${args[@]}"
    "$bench" accuracy "${args[@]}" --json >> "$results"
    cd "$work"
    if [ -n "$keep" ]; then
        mkdir -p "$keep"
        rm -rf "${keep:?}/world-$seed"
        mv "$case_dir" "$keep/"
    else
        rm -rf "$case_dir"
    fi
done

echo
if [ "$check" -eq 1 ]; then
    "$bench" accuracy-total "$results" --check
else
    "$bench" accuracy-total "$results"
fi
