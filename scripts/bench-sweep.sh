#!/usr/bin/env bash
# Sweep benchmark: 100,000 published-style indicators over the ~1 GB mixed tenant log set of the
# hunt benchmark (`tw-bench gen-mixed`), release build; wall and CPU time, MB per CPU second and
# peak memory, with one and two worker threads, and the indicator index's own memory.
#
# Usage: scripts/bench-sweep.sh [DATA_DIR] [MB]
#   DATA_DIR  where the generated events and indicators are kept (default /tmp/tenantwatch-sweep-bench)
#   MB        input size (default 1024)
#
# The indicator list mixes what campaign disclosures publish: 70,000 IPv4 addresses and 8,000
# IPv4 ranges (/24 to /29), 2,000 IPv6 addresses and ranges, 12,000 domains, 4,000 URLs, 2,000
# e-mail addresses, 1,000 ids, 500 user agents and 500 certificate thumbprints (deterministic), plus
# 100 addresses taken from the data so that the sweep has records to report.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/tenantwatch-sweep-bench}
mb=${2:-1024}
bin=${CARGO_TARGET_DIR:-target}/release
cargo build --release -q -p tw-bench -p tenantwatch
data=$dir/$mb
[ -f "$data/signin.jsonl" ] || "$bin/tw-bench" gen-mixed "$data" --mb "$mb"
iocs=$dir/iocs-100k.txt
if [ ! -f "$iocs" ]; then
  head -c 4000000 "$data/signin.jsonl" | grep -o '"callerIpAddress":"[0-9.]*"' | cut -d'"' -f4 \
    | sort -u | head -100 > "$dir/from-data.txt"
  python3 - "$dir/from-data.txt" > "$iocs" <<'PY'
import random, sys
r = random.Random(20241121)
def word(a, b):
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(a, b)))
def ip4():
    return f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
tlds = ["com", "net", "org", "info", "xyz", "top", "ru", "io", "online", "site"]
print("# Benchmark indicator list (generated)")
for _ in range(70000):
    print(ip4())
for _ in range(8000):
    p = r.randint(24, 29)
    print(f"{ip4()}/{p}")
for i in range(2000):
    h = ":".join(f"{r.randint(0, 65535):x}" for _ in range(4))
    print(f"2001:db8:{h}::{i:x}" if i % 2 else f"2a0{r.randint(1, 9)}:{h}::/64")
doms = [f"{word(6, 12)}-{word(4, 8)}.{r.choice(tlds)}" for _ in range(12000)]
for d in doms:
    print(d.replace(".", "[.]", 1) if r.random() < 0.3 else d)
for _ in range(4000):
    print(f"hxxps://{word(5, 10)}.{r.choice(tlds)}/{word(4, 10)}/{word(3, 8)}.php")
for _ in range(2000):
    print(f"{word(4, 9)}@{word(6, 10)}.{r.choice(tlds)}")
for _ in range(1000):
    h = "%032x" % r.getrandbits(128)
    print(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
for i in range(500):
    print(f"user-agent: {word(5, 9)}-client/{r.randint(1, 9)}.{i}")
for _ in range(500):
    print("%040x" % r.getrandbits(160))
for line in open(sys.argv[1]):
    print(line.strip(), "# seen in the data")
PY
fi
echo "indicators: $(grep -vc '^#' "$iocs") lines in $iocs"
fmt="wall %e s, cpu %U+%S s, peak RSS %M KB"
for t in 1 2; do
  for run in 1 2 3; do
    /usr/bin/time -f "threads $t run $run: $fmt" "$bin/tenantwatch" sweep "$data" --iocs "$iocs" \
      --format jsonl --out "$dir/matches.jsonl" --threads "$t" --quiet 2>&1 | grep -v '^tenantwatch: skipped' | tail -3
  done
done
echo "matches: $(wc -l < "$dir/matches.jsonl")"
echo "== the indicators alone (no logs): memory of loading and indexing"
printf '{"CreationTime":"2024-11-18T08:00:00","Id":"x","Operation":"UserLoggedIn","OrganizationId":"8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f","RecordType":15,"UserId":"a@b.c","ClientIP":"192.0.2.1"}\n' > "$dir/one.jsonl"
/usr/bin/time -f "indicators only: $fmt" "$bin/tenantwatch" sweep "$dir/one.jsonl" --iocs "$iocs" --quiet 2>&1 | tail -3
