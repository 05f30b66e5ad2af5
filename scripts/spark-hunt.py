#!/usr/bin/env python3
"""Run tenantwatch detections on Apache Spark over an exported Parquet lake.

    tenantwatch export --parquet LAKE LOGS...
    tenantwatch rules compile --target spark-sql --out rules.json
    spark-submit scripts/spark-hunt.py --rules rules.json --lake LAKE --out findings.jsonl

Every query of the compiled JSON (`[{"rule_id","title","level","sql"}]`, each over the view
`events`, returning `rule_id`, `file`, `record`) runs in one Spark session; the records they
returned are joined back to the lake (provenance, format, tenant, `raw`) and handed to
`tenantwatch findings --from-spark`, which writes the findings exactly as `hunt --format jsonl`
(docs/findings.md): the engine's own post-processing — `matched`, tags and origin, one finding
per correlation window, copies of one action merged, routine context aggregated. Give it the
rules the queries were compiled from (`--sigma-rules`, `--no-builtin`) and the level
(`--min-level`). The tenantwatch executable runs on the driver's machine and reads only the
matched records (`--records` keeps them).

Runs locally (`--master local[N]`, the default `local[*]`) or on a cluster (give `--master` to
spark-submit and leave it out here; LAKE may be any path Spark reads: hdfs://, s3a://, abfss://).
Exit status: 0 ran; 1 usage error, a query failed (named on standard error) or tenantwatch failed;
2 tenantwatch rejected a record or a rule id.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rules", required=True, help="compiled rules (rules compile --target spark-sql)")
    p.add_argument("--lake", required=True, help="Parquet lake written by tenantwatch export --parquet")
    p.add_argument("--out", help="findings as JSON lines, as hunt --format jsonl (default: standard output)")
    p.add_argument("--records", help="write the records the queries returned (the input of tenantwatch findings "
                   "--from-spark) here (default: a temporary file)")
    p.add_argument("--tenantwatch", help="tenantwatch executable (default: on PATH, else target/release/tenantwatch)")
    p.add_argument("--sigma-rules", action="append", default=[], metavar="PATH",
                   help="Sigma rules the queries were compiled from (rules compile --rules), repeatable")
    p.add_argument("--no-builtin", action="store_true", help="the queries were compiled with --no-builtin")
    p.add_argument("--min-level", default="low", help="report findings of this level and above (hunt --min-level)")
    p.add_argument("--findings-timeout", type=float, default=3600, help="seconds allowed to tenantwatch findings")
    p.add_argument("--master", help="Spark master when not set by spark-submit (default local[*])")
    p.add_argument("--hits", help="also write the raw hits (rule_id, file, record) as JSON lines here")
    p.add_argument("--cache", action="store_true", help="cache the events view in memory first")
    return p.parse_args(argv)


def session(master):
    """The Spark session: spark-submit's settings, else a local one (UI off)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    b = (
        SparkSession.builder.appName("tenantwatch-spark-hunt")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    # Under spark-submit (its gateway already running) the master is spark-submit's.
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:
        b = b.master(master or "local[*]")
    b = b.config("spark.sql.session.timeZone", "UTC")
    spark = b.getOrCreate()
    # The analyzer resolves a correlation of correlations level by level (measured: one level
    # 46-70 of its iterations, three levels 101-110): the default bound of 100 stops deep chains.
    spark.conf.set("spark.sql.analyzer.maxIterations", "1000")
    return spark


def register_events(spark, lake, cache=False):
    """Registers the lake as the view `events` (partition columns discovered)."""
    df = spark.read.option("mergeSchema", "false").parquet(lake)
    df.createOrReplaceTempView("events")
    if cache:
        spark.catalog.cacheTable("events")
    return df


def run_queries(spark, rules, log=sys.stderr, windows=None):
    """Runs every compiled query; returns ({rule_id: set((file, record))}, failures). A
    correlation's rows also name the window they belong to (`window_id`): given a dict,
    `windows[(rule_id, file, record)]` collects them."""
    hits, failures = {}, []
    for r in rules:
        started = time.monotonic()
        try:
            df = spark.sql(r["sql"])
            rows = df.collect()
        except Exception as e:  # a query the engine refuses is reported, not hidden
            failures.append((r["rule_id"], str(e).splitlines()[0][:300]))
            print(f"spark-hunt: query of {r['rule_id']} failed: {failures[-1][1]}", file=log)
            if not alive(spark):
                print("spark-hunt: the Spark driver is gone; the remaining queries were not run", file=log)
                failures.extend((q["rule_id"], "not run") for q in rules[rules.index(r) + 1 :])
                break
            continue
        found = hits.setdefault(r["rule_id"], set())
        windowed = windows is not None and "window_id" in df.columns
        for row in rows:
            key = (row["file"], int(row["record"]))
            found.add(key)
            if windowed:
                windows.setdefault((r["rule_id"],) + key, set()).add(row["window_id"])
        if os.environ.get("TW_SPARK_VERBOSE"):
            print(f"spark-hunt: {r['rule_id']}: {len(rows)} rows in {time.monotonic() - started:.2f} s", file=log)
    return hits, failures


def alive(spark):
    """Whether the session still answers (a query may bring the driver down)."""
    try:
        spark.sparkContext._jsc.sc().isStopped()
        return True
    except Exception:
        return False


def hit_records(spark, hits, windows=None):
    """Every record some query returned, with the ids of those queries (and, for correlations,
    the windows it belongs to): its provenance, format, tenant and raw document from the lake, as
    `tenantwatch findings --from-spark` reads them."""
    from pyspark.sql import Row
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    by_record = {}
    for rule_id, recs in hits.items():
        for key in recs:
            by_record.setdefault(key, []).append(rule_id)
    if not by_record:
        return []
    schema = StructType([
        StructField("file", StringType(), False),
        StructField("record", LongType(), False),
        StructField("rules", ArrayType(StringType()), False),
    ])
    rows = [Row(file=f, record=n, rules=sorted(r)) for (f, n), r in by_record.items()]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("tw_hits")
    found = spark.sql(
        "SELECT e.file, e.record, e.line, e.format, e.tenant_id, e.raw, h.rules "
        "FROM tw_hits h JOIN events e ON h.file = e.file AND h.record = e.record"
    ).collect()
    out = []
    for r in found:
        rec = {"file": r["file"], "record": int(r["record"]), "line": int(r["line"]), "format": r["format"],
               "tenant_id": r["tenant_id"], "raw": r["raw"], "rules": list(r["rules"])}
        wins = {
            rule_id: sorted(windows[(rule_id, rec["file"], rec["record"])])
            for rule_id in rec["rules"]
            if windows and (rule_id, rec["file"], rec["record"]) in windows
        }
        if wins:
            rec["windows"] = wins
        out.append(rec)
    out.sort(key=lambda r: (r["file"], r["record"]))
    return out


def write_records(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def tenantwatch_binary(given):
    """The tenantwatch executable: as given, else on PATH, else this checkout's release build."""
    if given:
        return given
    found = shutil.which("tenantwatch")
    if found:
        return found
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "release", "tenantwatch")


def native_findings(a, records_path, log=sys.stderr):
    """Runs `tenantwatch findings --from-spark` on the records; returns its exit status."""
    cmd = [tenantwatch_binary(a.tenantwatch), "findings", "--from-spark", records_path, "--min-level", a.min_level]
    for r in a.sigma_rules:
        cmd += ["--rules", r]
    if a.no_builtin:
        cmd.append("--no-builtin")
    if a.out:
        cmd += ["--out", a.out]
    try:
        return subprocess.run(cmd, stderr=log, timeout=a.findings_timeout).returncode
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"spark-hunt: {cmd[0]} findings failed: {e}", file=log)
        return 1


def main(argv):
    a = parse_args(argv)
    with open(a.rules, encoding="utf-8") as f:
        rules = json.load(f)
    spark = session(a.master)
    spark.sparkContext.setLogLevel("ERROR")
    register_events(spark, a.lake, a.cache)
    started = time.monotonic()
    windows = {}
    hits, failures = run_queries(spark, rules, windows=windows)
    records = hit_records(spark, hits, windows)
    if a.hits:
        with open(a.hits, "w", encoding="utf-8") as h:
            for rule_id in sorted(hits):
                for file, record in sorted(hits[rule_id]):
                    h.write(json.dumps({"rule_id": rule_id, "file": file, "record": record}) + "\n")
    spark.stop()
    print(
        f"spark-hunt: {len(rules)} queries ({len(failures)} failed), {sum(map(len, hits.values()))} hits on "
        f"{len(records)} records in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    records_path = a.records
    if not records_path:
        fd, records_path = tempfile.mkstemp(prefix="tw-spark-records-", suffix=".jsonl")
        os.close(fd)
    write_records(records_path, records)
    status = native_findings(a, records_path)
    if not a.records:
        os.unlink(records_path)
    return 1 if failures or status == 1 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
