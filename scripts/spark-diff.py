#!/usr/bin/env python3
"""Differential test: the compiled Spark SQL queries against the native engine, on one case.

    scripts/spark-diff.py [--tenantwatch target/release/tenantwatch] [--work DIR] [--case DIR]

Steps: simulate a small case (unless --case gives a logs folder), export it to Parquet
(`export --parquet`), compile the built-in pack and SigmaHQ's cloud rules
(tests/fixtures/sigma/rules) and the lowering vectors (tests/fixtures/spark-diff: rules and
sign-in logs of hard cases and of timed sequences for correlations, nested ones included, added
to the case) to Spark SQL, hunt the same logs natively (`hunt --format jsonl
--min-level informational`), run every compiled query in one local Spark session
(`local[2]`, UI off) and compare, per rule, the (rule_id, file, record) sets.

The native findings merge the copies of one action seen by several rules into one finding
(`rules` lists them, `evidence` holds every copy): for such a finding only coverage can be
checked (each of its compiled rules matched one of its records; each record was matched by one
of its rules when all its rules are compiled). Every other finding is compared exactly: each of
its evidence records must be a Spark row of its rule. Spark rows outside the native findings
fail the test. Then the whole findings: the records the queries returned go through `tenantwatch
findings --from-spark` (as spark-hunt.py does), and its findings must equal the native ones field
for field (evidence and rules as sets); findings are grouped by shared evidence records, and a
group holding a native finding of a rule that is not compiled is left out (counted). Exit status
0 when equal, 1 otherwise (differences listed).
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGMAHQ = os.path.join(ROOT, "tests", "fixtures", "sigma", "rules")
# Vectors of the lowering's hard cases (address spellings in `cidr`, time parts of texts and
# epoch numbers, keyword wildcards, correlations of correlations, `value_percentile`), hunted and
# compiled with the case.
VECTOR_RULES = os.path.join(ROOT, "tests", "fixtures", "spark-diff", "rules")
VECTOR_LOGS = os.path.join(ROOT, "tests", "fixtures", "spark-diff", "logs")


def load_spark_hunt():
    spec = importlib.util.spec_from_file_location("spark_hunt", os.path.join(ROOT, "scripts", "spark-hunt.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(cmd, timeout=600, **kw):
    started = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode not in (0, 2):
        sys.exit(f"spark-diff: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    print(f"spark-diff: {os.path.basename(cmd[0])} {cmd[1]}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return p


def native_findings(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                v = json.loads(line)
                rules = [r["id"] for r in v.get("rules", [])] or [v["rule"]["id"]]
                ev = {(e["file"], int(e["record"])) for e in v["evidence"]}
                out.append((rules, ev, v["rule"]["id"]))
    return out


def native_records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(compiled_ids, findings, hits, folded=(frozenset(), frozenset())):
    """Differences between the native findings and the Spark hits, per rule. `folded`: the
    built-in rule ids and the records of chain findings (a built-in rule's match on such a record
    is folded into the chain natively)."""
    problems = []
    builtin, chained = folded
    allowed = {(r, e) for r in builtin for e in chained}
    exact = {}
    for rules, ev, _ in findings:
        mine = [r for r in rules if r in compiled_ids]
        allowed.update((r, e) for r in mine for e in ev)
        if len(rules) == 1 and mine:
            exact.setdefault(mine[0], set()).update(ev)
            continue
        for r in mine:
            if not ev & hits.get(r, set()):
                problems.append(f"{r}: none of the records of a merged finding {sorted(ev)[:3]}")
        if mine and len(mine) == len(rules):
            for e in ev:
                if not any(e in hits.get(r, set()) for r in mine):
                    problems.append(f"{'/'.join(mine)}: merged record {e} matched by none of its rules")
    for r, ev in sorted(exact.items()):
        missing = ev - hits.get(r, set())
        if missing:
            problems.append(f"{r}: {len(missing)} native records not found by Spark, e.g. {sorted(missing)[:3]}")
    for r, recs in sorted(hits.items()):
        extra = {e for e in recs if (r, e) not in allowed}
        if extra:
            problems.append(f"{r}: {len(extra)} Spark records not in a native finding, e.g. {sorted(extra)[:3]}")
    return problems


def prepare(a, work):
    """Case, lake, compiled rules and native findings; returns their paths."""
    tw = a.tenantwatch
    logs = a.case
    if not logs:
        case = os.path.join(work, "case")
        run([tw, "simulate", "--out", case, "--tenants", "4", "--compromised", "2", "--days", "5", "--scale", "0.2"])
        logs = os.path.join(case, "logs")
    lake = os.path.join(work, "lake")
    run([tw, "export", "--parquet", lake, logs, VECTOR_LOGS])
    rules = os.path.join(work, "rules.json")
    compiled = run([tw, "rules", "compile", "--target", "spark-sql", "--rules", SIGMAHQ, "--rules", VECTOR_RULES,
                    "--out", rules])
    with open(os.path.join(work, "compile.err"), "w", encoding="utf-8") as f:
        f.write(compiled.stderr)
    listed = json.loads(run([tw, "rules", "list", "--format", "json"]).stdout)
    with open(os.path.join(work, "builtin.json"), "w", encoding="utf-8") as f:
        json.dump([r["id"] for r in listed["rules"] if r.get("id")], f)
    native = os.path.join(work, "native.jsonl")
    run([tw, "hunt", logs, VECTOR_LOGS, "--rules", SIGMAHQ, "--rules", VECTOR_RULES, "--format", "jsonl",
         "--min-level", "informational", "--quiet", "--out", native])
    return lake, rules, native


def spark_hits(lake, rules, records_path):
    """Every compiled query run in one local Spark session; the records they returned are written
    to `records_path` (spark-hunt's `--records`)."""
    sh = load_spark_hunt()
    started = time.monotonic()
    spark = sh.session("local[2]")
    spark.sparkContext.setLogLevel("ERROR")
    sh.register_events(spark, lake, cache=True)
    windows = {}
    hits, failures = sh.run_queries(spark, rules, windows=windows)
    sh.write_records(records_path, sh.hit_records(spark, hits, windows))
    spark.stop()
    print(f"spark-diff: {len(rules)} queries in one Spark session: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return hits, failures


def spark_findings(tw, work):
    """The Spark hunt's findings: its records through `tenantwatch findings --from-spark`, with
    the rules the queries were compiled from, at the native run's level."""
    out = os.path.join(work, "spark.jsonl")
    run([tw, "findings", "--from-spark", os.path.join(work, "records.jsonl"), "--rules", SIGMAHQ,
         "--rules", VECTOR_RULES, "--min-level", "informational", "--out", out])
    with open(out, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def finding_key(f):
    """A finding as compared: every field, evidence and rules as sets."""
    g = dict(f)
    g["evidence"] = sorted((e["file"], e["record"], e["line"]) for e in f["evidence"])
    g["rules"] = sorted(r["id"] for r in f.get("rules", [f["rule"]]))
    return json.dumps(g, sort_keys=True, ensure_ascii=False)


def compare_findings(native, spark, native_only):
    """Differences between the native findings and the Spark hunt's, as sets of whole findings.
    Findings are grouped by shared evidence records (native and Spark alike); a group holding a
    native finding of a rule that is not compiled (first-seen, chains, native-only correlations)
    is left out, as the Spark hunt cannot give it. Returns (problems, findings compared, groups
    left out)."""
    items = [("native", f) for f in native] + [("spark", f) for f in spark]
    parent = list(range(len(items)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = {}
    for i, (_, f) in enumerate(items):
        for e in f["evidence"]:
            j = first.setdefault((e["file"], e["record"]), i)
            parent[root(i)] = root(j)
    groups = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item)
    problems, compared, left_out = [], 0, 0
    for members in groups.values():
        if any(side == "native" and {r["id"] for r in f.get("rules", [f["rule"]])} & native_only
               for side, f in members):
            left_out += 1
            continue
        n = sorted(finding_key(f) for side, f in members if side == "native")
        s = sorted(finding_key(f) for side, f in members if side == "spark")
        compared += len(n)
        for k in sorted(set(n) - set(s)):
            problems.append(f"native finding not given by the Spark hunt: {k[:400]}")
        for k in sorted(set(s) - set(n)):
            problems.append(f"Spark hunt finding not given natively: {k[:400]}")
    return problems, compared, left_out


def not_compiled(work):
    """Ids of the rules `rules compile` left to the native engine."""
    ids = set()
    with open(os.path.join(work, "compile.err"), encoding="utf-8") as f:
        for line in f:
            if "not compiled:" in line:
                ids.add(line.split("not compiled: ", 1)[1].split(" ", 1)[0])
    return frozenset(ids)


def folded_by_chains(work, findings):
    """(built-in rule ids, records of the native chain findings)."""
    with open(os.path.join(work, "builtin.json"), encoding="utf-8") as f:
        builtin = frozenset(json.load(f))
    chain_ids = set()
    with open(os.path.join(work, "compile.err"), encoding="utf-8") as f:
        for line in f:
            if "not compiled:" in line and "tenantwatch.chain" in line:
                chain_ids.add(line.split("not compiled: ", 1)[1].split(" ", 1)[0])
    chained = frozenset(e for _, ev, lead in findings if lead in chain_ids for e in ev)
    return builtin, chained


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tenantwatch", default=os.path.join(ROOT, "target", "release", "tenantwatch"))
    p.add_argument("--work", help="working folder (default: a temporary one)")
    p.add_argument("--case", help="logs folder to use instead of a simulated case")
    p.add_argument("--compare-only", action="store_true", help="compare what --work already holds")
    a = p.parse_args(argv)
    work = a.work or tempfile.mkdtemp(prefix="tw-spark-diff-")
    os.makedirs(work, exist_ok=True)
    rules_path, native = os.path.join(work, "rules.json"), os.path.join(work, "native.jsonl")
    if not a.compare_only:
        lake, rules_path, native = prepare(a, work)
    with open(rules_path, encoding="utf-8") as f:
        rules = json.load(f)
    if a.compare_only:
        with open(os.path.join(work, "hits.json"), encoding="utf-8") as f:
            saved = json.load(f)
        hits = {r: {(x[0], x[1]) for x in recs} for r, recs in saved["hits"].items()}
        failures = saved["failures"]
    else:
        hits, failures = spark_hits(lake, rules, os.path.join(work, "records.jsonl"))
        with open(os.path.join(work, "hits.json"), "w", encoding="utf-8") as f:
            json.dump({"hits": {r: sorted(v) for r, v in hits.items()}, "failures": failures}, f)
    findings = native_findings(native)
    problems = [f"{r}: query failed: {e}" for r, e in failures]
    problems += compare({r["rule_id"] for r in rules}, findings, hits, folded_by_chains(work, findings))
    whole, compared, left_out = compare_findings(
        native_records(native), spark_findings(a.tenantwatch, work), not_compiled(work))
    problems += whole
    matched_rules = sorted(r for r, recs in hits.items() if recs)
    pairs = sum(len(v) for v in hits.values())
    print(f"spark-diff: {len(rules)} compiled rules, {len(matched_rules)} with matches, {pairs} (rule, record) pairs; "
          f"{len(findings)} native findings")
    print(f"spark-diff: whole findings after merging: {compared} native findings compared, {left_out} groups of "
          f"records left out (a rule that is not compiled found them)")
    for line in problems:
        print(f"spark-diff: DIFFERENCE {line}")
    if problems:
        print(f"spark-diff: {len(problems)} differences (work folder {work})")
        return 1
    print("spark-diff: Spark and the native engine agree on every compiled rule and on the merged findings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
