//! `tenantwatch findings --from-spark`: the records a Spark hunt returns, read from the Parquet
//! lake `export --parquet` writes, give back the findings of `hunt --format jsonl` — merged
//! copies of one action (every copy's evidence, every rule), aggregated routine context,
//! correlation windows of nested correlations, `matched`, tags and origin. Here the test plays
//! the part of Spark: its hits are the evidence records of the native findings, each with the
//! rules that saw it; the rules that `rules compile --target spark-sql` leaves to the native
//! engine (first-seen, chains) are left out, as Spark cannot run them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

use common::{Tmp, bin, files_under, simulate_world};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tenantwatch ARGS...`: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let o = bin().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rule_ids(f: &Value) -> BTreeSet<String> {
    f["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn evidence(f: &Value) -> Vec<(String, i64)> {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap().to_string();
            (file, e["record"].as_i64().unwrap())
        })
        .collect()
}

/// Ids of the rules `rules compile --target spark-sql` does not compile.
fn not_compiled(rule_args: &[&str]) -> BTreeSet<String> {
    let mut args = vec![
        "rules",
        "compile",
        "--target",
        "spark-sql",
        "--out",
        "/dev/null",
    ];
    args.extend_from_slice(rule_args);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    err.lines()
        .filter_map(|l| l.split_once("not compiled: "))
        .map(|(_, rest)| rest.split(' ').next().unwrap().to_string())
        .collect()
}

/// Every row of the lake: (file, record) → (line, format, tenant_id, raw).
type LakeRows = BTreeMap<(String, i64), (i64, String, Option<String>, String)>;

fn lake_rows(dir: &Path) -> LakeRows {
    let mut rows = BTreeMap::new();
    for rel in files_under(dir) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(dir.join(&rel)).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let b = batch.unwrap();
            let text = |n: &str, i: usize| {
                let a = b.column_by_name(n).unwrap().as_string::<i32>();
                (!a.is_null(i)).then(|| a.value(i).to_string())
            };
            let long = |n: &str, i: usize| {
                let a = b.column_by_name(n).unwrap();
                a.as_primitive::<Int64Type>().value(i)
            };
            for i in 0..b.num_rows() {
                let key = (text("file", i).unwrap(), long("record", i));
                let row = (
                    long("line", i),
                    text("format", i).unwrap(),
                    text("tenant_id", i),
                    text("raw", i).unwrap(),
                );
                rows.insert(key, row);
            }
        }
    }
    rows
}

/// The records file Spark's hits give: per evidence record of the kept findings, its lake row,
/// the rules that saw it and, per correlation, the window (here: the finding) it belongs to.
fn records_file(kept: &[Value], lake: &LakeRows) -> String {
    type Windows = BTreeMap<String, BTreeSet<String>>;
    let mut rules: BTreeMap<(String, i64), (BTreeSet<String>, Windows)> = BTreeMap::new();
    for (n, f) in kept.iter().enumerate() {
        let correlation = f["matched"].get("(value)").is_some();
        for e in evidence(f) {
            let (ids, wins) = rules.entry(e).or_default();
            ids.extend(rule_ids(f));
            if correlation {
                for id in rule_ids(f) {
                    wins.entry(id).or_default().insert(format!("window {n}"));
                }
            }
        }
    }
    let mut out = String::new();
    for ((file, record), (ids, wins)) in rules {
        let (line, format, tenant, raw) = &lake[&(file.clone(), record)];
        let v = json!({"file": file, "record": record, "line": line, "format": format,
            "tenant_id": tenant, "raw": raw, "rules": ids, "windows": wins});
        out.push_str(&format!("{v}\n"));
    }
    out
}

#[test]
fn records_of_spark_hits_give_the_native_findings() {
    let tmp = Tmp::new("findings-spark");
    let case = tmp.0.join("case");
    let args = ["--tenants", "3", "--compromised", "2", "--days", "4"];
    simulate_world(&case, &[&args[..], &["--scale", "0.2"]].concat());
    let logs = case.join("logs");
    let vectors = repo().join("tests/fixtures/spark-diff");
    let (vlogs, vrules) = (vectors.join("logs"), vectors.join("rules"));
    let inputs = [logs.to_str().unwrap(), vlogs.to_str().unwrap()];
    let rule_args = ["--rules", vrules.to_str().unwrap()];
    let lake = tmp.0.join("lake");
    let (code, _, err) = run(&[
        &["export", "--parquet", lake.to_str().unwrap()],
        &inputs[..],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let hunt = [&["hunt"], &inputs[..], &rule_args[..]].concat();
    let level = [
        "--format",
        "jsonl",
        "--min-level",
        "informational",
        "--quiet",
    ];
    let (code, out, err) = run(&[&hunt[..], &level[..]].concat());
    assert_eq!(code, 0, "{err}");
    let native_only = not_compiled(&rule_args);
    let kept: Vec<Value> = jsonl(&out)
        .into_iter()
        .filter(|f| rule_ids(f).is_disjoint(&native_only))
        .collect();
    // The case holds what the post-processing does: copies merged, several rules on one
    // action, aggregates of routine context, correlations (nested ones among the vectors).
    assert!(
        kept.iter().any(|f| f["copies"].as_u64() >= Some(2)),
        "no merged copies"
    );
    assert!(
        kept.iter().any(|f| rule_ids(f).len() >= 2),
        "no action seen by two rules"
    );
    assert!(
        kept.iter().any(|f| f["count"].as_u64() >= Some(2)),
        "no aggregate"
    );
    assert!(
        kept.iter().any(|f| f["matched"].get("(value)").is_some()),
        "no correlation"
    );
    assert!(
        kept.iter()
            .any(|f| rule_ids(f).contains("5e1f0a02-0000-4000-8000-000000000301")),
        "no nested correlation (chain3)"
    );
    let rows = lake_rows(&lake);
    // Kim's two ordered windows (failures then a success) within 30 minutes of each other: told
    // apart by the window each record belongs to, as spark-hunt.py writes them.
    let ordered = "5e1f0a02-0000-4000-8000-000000000201";
    let kims = kept
        .iter()
        .filter(|f| rule_ids(f).contains(ordered) && f["actor"]["user"] == "kim@nesting.example")
        .count();
    assert_eq!(kims, 2, "kim's ordered windows");
    let records = tmp.0.join("records.jsonl");
    std::fs::write(&records, records_file(&kept, &rows)).unwrap();
    let from = ["findings", "--from-spark", records.to_str().unwrap()];
    let level = ["--min-level", "informational"];
    let (code, out, err) = run(&[&from[..], &rule_args[..], &level[..]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        jsonl(&out),
        kept,
        "the findings of the hits are the native ones"
    );
    assert!(err.contains(&format!("; {} findings", kept.len())), "{err}");
}

#[test]
fn bad_records_and_unknown_rules_are_reported_with_their_line() {
    let tmp = Tmp::new("findings-spark-bad");
    let records = tmp.0.join("records.jsonl");
    let good = json!({"file": "a.json", "record": 0, "line": 1, "format": "signin.graph_json",
        "tenant_id": null, "raw": "{\"id\":\"x\",\"createdDateTime\":\"2024-11-20T10:00:00Z\"}",
        "rules": ["no_such_rule"]});
    let text = format!(
        "{good}\n{{\"file\":\"a.json\"}}\n{}\n",
        json!({"file": "a.json", "record": 1, "line": 2, "format": "no.format", "tenant_id": null,
            "raw": "{}", "rules": []})
    );
    // A fourth line that is not UTF-8: rejected with its number, the run goes on.
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"{\"file\":\"\xff\xfe\"}\n");
    std::fs::write(&records, bytes).unwrap();
    let (code, out, err) = run(&["findings", "--from-spark", records.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("records.jsonl:2: record rejected: not a record"),
        "{err}"
    );
    assert!(
        err.contains("records.jsonl:3: record rejected: unknown format \"no.format\""),
        "{err}"
    );
    assert!(
        err.contains("rule no_such_rule of the hits is not among the rules loaded"),
        "{err}"
    );
    assert!(
        err.contains("records.jsonl:4: record rejected: not UTF-8"),
        "{err}"
    );
    assert!(err.contains("1 records read (3 rejected)"), "{err}");
}
