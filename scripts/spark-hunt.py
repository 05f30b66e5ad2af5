#!/usr/bin/env python3
"""Run tenantwatch detections on Apache Spark over an exported Parquet lake.

    tenantwatch export --parquet LAKE LOGS...
    tenantwatch rules compile --target spark-sql --out rules.json
    spark-submit scripts/spark-hunt.py --rules rules.json --lake LAKE --out findings.jsonl

Every query of the compiled JSON (`[{"rule_id","title","level","sql"}]`, each over the view
`events`, returning `rule_id`, `file`, `record`) runs in one Spark session; the matched records
are joined back to the lake and written as JSON lines in the native findings contract
(`hunt --format jsonl`, docs/findings.md): one finding per rule and record for single-event rules,
one finding per correlation rule and tenant (all its evidence records) for correlations. Findings
are sorted by time, file and record. Not written (the native runner's post-processing): the
merging of copies of one action into one finding, aggregation of routine context, `matched`,
rule tags and origin.

Runs locally (`--master local[N]`, the default `local[*]`) or on a cluster (give `--master` to
spark-submit and leave it out here; LAKE may be any path Spark reads: hdfs://, s3a://, abfss://).
Exit status: 0 ran; 1 usage error or a query failed (named on standard error).
"""

import argparse
import json
import os
import re
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rules", required=True, help="compiled rules (rules compile --target spark-sql)")
    p.add_argument("--lake", required=True, help="Parquet lake written by tenantwatch export --parquet")
    p.add_argument("--out", help="findings as JSON lines (default: standard output)")
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


def run_queries(spark, rules, log=sys.stderr):
    """Runs every compiled query; returns ({rule_id: set((file, record))}, failures)."""
    hits, failures = {}, []
    for r in rules:
        started = time.monotonic()
        try:
            rows = spark.sql(r["sql"]).collect()
        except Exception as e:  # a query the engine refuses is reported, not hidden
            failures.append((r["rule_id"], str(e).splitlines()[0][:300]))
            print(f"spark-hunt: query of {r['rule_id']} failed: {failures[-1][1]}", file=log)
            if not alive(spark):
                print("spark-hunt: the Spark driver is gone; the remaining queries were not run", file=log)
                failures.extend((q["rule_id"], "not run") for q in rules[rules.index(r) + 1 :])
                break
            continue
        found = hits.setdefault(r["rule_id"], set())
        for row in rows:
            found.add((row["file"], int(row["record"])))
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


def is_correlation(sql):
    """A correlation's query opens with its observations, `o<n>` (single-event queries are a
    plain SELECT)."""
    return re.match(r"WITH o\d+ AS \(", sql) is not None


def findings(spark, rules, hits):
    """The findings of `hits`, in the native contract, sorted by time, file and record."""
    from pyspark.sql import Row

    pairs = [Row(rule_id=r, file=f, record=n) for r, recs in hits.items() for (f, n) in recs]
    if not pairs:
        return []
    spark.createDataFrame(pairs).createOrReplaceTempView("tw_hits")
    cols = (
        "h.rule_id, e.file, e.record, e.line, e.tw_time, e.tenant_id, e.log_kind, e.tw_user, "
        "e.tw_app_id, e.tw_service_principal_id, e.tw_home_tenant_id, e.tw_ip, e.tw_operation"
    )
    rows = spark.sql(
        f"SELECT {cols} FROM tw_hits h JOIN events e ON h.file = e.file AND h.record = e.record"
    ).collect()
    meta = {r["rule_id"]: r for r in rules}
    singles, groups = [], {}
    for row in rows:
        rule = meta.get(row["rule_id"], {"rule_id": row["rule_id"], "title": "", "level": "medium"})
        f = finding(rule, row)
        if is_correlation(rule.get("sql", "")):
            key = (row["rule_id"], row["tenant_id"])
            groups.setdefault(key, []).append((row["tw_time"] or "", f))
        else:
            singles.append(f)
    for items in groups.values():
        items.sort(key=lambda x: (x[0], x[1]["evidence"][0]["file"], x[1]["evidence"][0]["record"]))
        lead = dict(items[0][1])
        lead["evidence"] = [e for _, f in items for e in f["evidence"]]
        last = items[-1][0]
        if last:
            lead["time"] = last
        singles.append(lead)
    singles.sort(key=lambda f: (f.get("time", ""), f["evidence"][0]["file"], f["evidence"][0]["record"]))
    return singles


def finding(rule, row):
    """One finding of `rule` on one record, absent values left out."""
    out = {"rule": {"id": rule["rule_id"], "title": rule.get("title", ""), "level": rule.get("level", "medium")}}
    if row["tw_time"]:
        out["time"] = row["tw_time"]
    if row["tenant_id"]:
        out["tenant_id"] = row["tenant_id"]
    actor = {
        k: row[c]
        for k, c in (
            ("user", "tw_user"),
            ("app_id", "tw_app_id"),
            ("service_principal_id", "tw_service_principal_id"),
            ("home_tenant_id", "tw_home_tenant_id"),
        )
        if row[c]
    }
    if actor:
        out["actor"] = actor
    if row["tw_ip"]:
        out["ip"] = row["tw_ip"]
    if row["tw_operation"]:
        out["operation"] = row["tw_operation"]
    out["log"] = row["log_kind"]
    out["evidence"] = [{"file": row["file"], "record": int(row["record"]), "line": int(row["line"])}]
    return out


def main(argv):
    a = parse_args(argv)
    with open(a.rules, encoding="utf-8") as f:
        rules = json.load(f)
    spark = session(a.master)
    spark.sparkContext.setLogLevel("ERROR")
    register_events(spark, a.lake, a.cache)
    started = time.monotonic()
    hits, failures = run_queries(spark, rules)
    result = findings(spark, rules, hits)
    out = open(a.out, "w", encoding="utf-8") if a.out else sys.stdout
    for f in result:
        out.write(json.dumps(f, ensure_ascii=False) + "\n")
    if a.out:
        out.close()
    if a.hits:
        with open(a.hits, "w", encoding="utf-8") as h:
            for rule_id in sorted(hits):
                for file, record in sorted(hits[rule_id]):
                    h.write(json.dumps({"rule_id": rule_id, "file": file, "record": record}) + "\n")
    print(
        f"spark-hunt: {len(rules)} queries ({len(failures)} failed), {sum(map(len, hits.values()))} hits, "
        f"{len(result)} findings in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    spark.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
