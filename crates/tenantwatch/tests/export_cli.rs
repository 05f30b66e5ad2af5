//! `tenantwatch export --parquet`: a simulated case and the real public samples of
//! `tests/fixtures/corpus/` written to Parquet and read back with the parquet crate. Partitions
//! hold only their own rows; row counts equal ingest's; the provenance of every record hunt
//! cites as evidence is a row, whose field-map columns hold the values the finding matched; `raw`
//! parses back to the document ingest emits; the files are the same whatever the thread count.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use common::{Tmp, bin, files_under as parquet_files, simulate_world};

/// One row read back, the columns the tests look at.
#[derive(Debug, Clone)]
struct Back {
    partition: String,
    file: String,
    record: i64,
    line: i64,
    tenant_id: Option<String>,
    time: Option<i64>,
    log_kind: String,
    format: String,
    raw: String,
    /// Field-map and list columns: column → elements (null elements as `None`).
    lists: BTreeMap<String, Vec<Option<String>>>,
}

fn text(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let c = b
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    let a = c.as_string::<i32>();
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

fn read_back(dir: &Path) -> Vec<Back> {
    let mut rows = Vec::new();
    for rel in parquet_files(dir) {
        let name = rel.to_string_lossy().to_string();
        assert!(name.ends_with(".parquet"), "stray file {name}");
        let partition = rel.parent().unwrap().to_string_lossy().to_string();
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(dir.join(&rel)).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let b = batch.unwrap();
            for i in 0..b.num_rows() {
                rows.push(row_of(&b, i, &partition));
            }
        }
    }
    rows
}

fn row_of(b: &RecordBatch, i: usize, partition: &str) -> Back {
    let long = |n: &str| {
        b.column_by_name(n)
            .unwrap()
            .as_primitive::<Int64Type>()
            .value(i)
    };
    let time = b
        .column_by_name("time")
        .unwrap()
        .as_primitive::<TimestampMillisecondType>();
    let mut lists = BTreeMap::new();
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        if let Some(l) = c.as_list_opt::<i32>()
            && !l.is_null(i)
        {
            let v = l.value(i);
            let s = v.as_string::<i32>();
            let items = (0..s.len())
                .map(|j| (!s.is_null(j)).then(|| s.value(j).to_string()))
                .collect();
            lists.insert(f.name().clone(), items);
        }
    }
    Back {
        partition: partition.to_string(),
        file: text(b, "file", i).unwrap(),
        record: long("record"),
        line: long("line"),
        tenant_id: text(b, "tenant_id", i),
        time: (!time.is_null(i)).then(|| time.value(i)),
        log_kind: text(b, "log_kind", i).unwrap(),
        format: text(b, "format", i).unwrap(),
        raw: text(b, "raw", i).unwrap(),
        lists,
    }
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

/// Exports `input` into `out` with `threads` threads (checked to succeed).
fn export(input: &Path, out: &Path, threads: &str) -> String {
    export_with(input, out, &["--threads", threads])
}

/// Exports `input` into `out` with extra arguments `extra` (checked to succeed).
fn export_with(input: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "export",
        "--parquet",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    err
}

/// The partition folder of a row: `log_kind=…/tenant_id=…/date=…`.
fn expected_partition(r: &Back) -> String {
    let date = r
        .time
        .map_or("__HIVE_DEFAULT_PARTITION__".to_string(), |ms| {
            let t = tw_event::Timestamp(ms).to_string();
            t[..10].to_string()
        });
    format!(
        "log_kind={}/tenant_id={}/date={date}",
        r.log_kind,
        r.tenant_id
            .as_deref()
            .unwrap_or("__HIVE_DEFAULT_PARTITION__")
    )
}

/// `ingest --emit jsonl`: (file, record) → the event.
fn ingest_events(input: &Path) -> BTreeMap<(String, i64), Value> {
    let (code, out, err) = run(&[
        "ingest",
        input.to_str().unwrap(),
        "--emit",
        "jsonl",
        "--quiet",
    ]);
    assert!(code == 0 || code == 2, "{err}");
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let key = (
                v["source"]["file"].as_str().unwrap().to_string(),
                v["source"]["record"].as_i64().unwrap(),
            );
            (key, v)
        })
        .collect()
}

/// The checks every export must pass against ingest's view of the same input.
fn check_against_ingest(input: &Path, rows: &[Back]) {
    let events = ingest_events(input);
    assert_eq!(rows.len(), events.len(), "one row per record ingest reads");
    let keys: BTreeSet<(String, i64)> = rows.iter().map(|r| (r.file.clone(), r.record)).collect();
    assert_eq!(keys.len(), rows.len(), "(file, record) is unique");
    for r in rows {
        assert_eq!(
            r.partition,
            expected_partition(r),
            "row in the wrong partition"
        );
        let ev = &events[&(r.file.clone(), r.record)];
        assert_eq!(ev["source"]["line"].as_i64(), Some(r.line));
        assert_eq!(ev["log"].as_str(), Some(r.log_kind.as_str()));
        assert_eq!(ev["format"].as_str(), Some(r.format.as_str()));
        assert_eq!(ev["tenant_id"].as_str(), r.tenant_id.as_deref());
        let raw: Value = serde_json::from_str(&r.raw).unwrap();
        assert_eq!(raw, ev["raw"], "raw of {}:{}", r.file, r.line);
    }
}

#[test]
fn simulated_case_exports_with_hunt_provenance_and_ingest_counts() {
    let tmp = Tmp::new("export-sim");
    let case = tmp.0.join("case");
    simulate_world(
        &case,
        &[
            "--tenants",
            "4",
            "--compromised",
            "2",
            "--days",
            "3",
            "--seed",
            "7",
        ],
    );
    let logs = case.join("logs");
    let out1 = tmp.0.join("lake1");
    let summary = export(&logs, &out1, "1");
    let rows = read_back(&out1);
    assert!(rows.len() > 1000, "{} rows", rows.len());
    assert!(
        summary.contains(&format!("{} rows", rows.len())),
        "{summary}"
    );
    check_against_ingest(&logs, &rows);
    let kinds: BTreeSet<&str> = rows.iter().map(|r| r.log_kind.as_str()).collect();
    for k in ["ual", "signin", "directory_audit"] {
        assert!(kinds.contains(k), "{kinds:?}");
    }

    // Every evidence record of hunt is a row with the same provenance, and the row's field-map
    // columns hold the values the finding matched.
    let (code, out, err) = run(&[
        "hunt",
        logs.to_str().unwrap(),
        "--format",
        "jsonl",
        "--quiet",
    ]);
    assert!(code == 0 || code == 2, "{err}");
    let by_key: BTreeMap<(String, i64), &Back> = rows
        .iter()
        .map(|r| ((r.file.clone(), r.record), r))
        .collect();
    let mut checked_values = 0;
    let findings: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!findings.is_empty());
    for f in &findings {
        for e in f["evidence"].as_array().unwrap() {
            let key = (
                e["file"].as_str().unwrap().to_string(),
                e["record"].as_i64().unwrap(),
            );
            let row = by_key
                .get(&key)
                .unwrap_or_else(|| panic!("evidence {key:?} not exported"));
            assert_eq!(Some(row.line), e["line"].as_i64());
        }
        if f["evidence"].as_array().unwrap().len() != 1 {
            continue;
        }
        let e = &f["evidence"][0];
        let row = by_key[&(
            e["file"].as_str().unwrap().to_string(),
            e["record"].as_i64().unwrap(),
        )];
        for (field, value) in f["matched"].as_object().into_iter().flatten() {
            let Some(col) = tw_scale::schema::field_map_column(field) else {
                continue;
            };
            let values = row.lists.get(&col).unwrap_or_else(|| panic!("{col} null"));
            assert!(
                values
                    .iter()
                    .flatten()
                    .any(|v| Some(v.as_str()) == value.as_str()),
                "{col} of {}:{} is {values:?}, the finding matched {value}",
                row.file,
                row.line
            );
            checked_values += 1;
        }
    }
    assert!(checked_values > 0, "no matched field has a column");

    // A buffer too small for the case: partitions are written out early, a later record of
    // one starts its next file, and the rows are the same.
    let small = tmp.0.join("lake-small");
    export_with(&logs, &small, &["--buffer-mib", "1", "--threads", "2"]);
    let small_rows = read_back(&small);
    let partitions = |dir: &Path| -> BTreeSet<String> {
        parquet_files(dir)
            .iter()
            .map(|f| f.parent().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    // With the default buffer the case fits: one file per partition.
    assert_eq!(partitions(&out1).len(), parquet_files(&out1).len());
    assert_eq!(partitions(&small), partitions(&out1));
    assert!(
        parquet_files(&small).len() > parquet_files(&out1).len(),
        "a 1 MiB buffer split no partition"
    );
    assert_eq!(small_rows.len(), rows.len());
    let content = |rs: &[Back]| -> BTreeMap<(String, i64), String> {
        rs.iter()
            .map(|r| {
                (
                    (r.file.clone(), r.record),
                    format!("{} {} {:?}", r.partition, r.raw, r.lists),
                )
            })
            .collect()
    };
    assert!(
        content(&small_rows) == content(&rows),
        "rows differ with a small buffer"
    );

    // Same bytes whatever the thread count.
    let out2 = tmp.0.join("lake2");
    export(&logs, &out2, "2");
    let files = parquet_files(&out1);
    assert_eq!(files, parquet_files(&out2));
    for f in &files {
        assert!(
            std::fs::read(out1.join(f)).unwrap() == std::fs::read(out2.join(f)).unwrap(),
            "{} differs between one and two threads",
            f.display()
        );
    }
}

#[test]
fn corpus_samples_export_like_ingest_reads_them() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus");
    let tmp = Tmp::new("export-corpus");
    let out = tmp.0.join("lake");
    let (code, _, err) = run(&[
        "export",
        "--parquet",
        out.to_str().unwrap(),
        corpus.to_str().unwrap(),
        "--quiet",
    ]);
    // The PROVENANCE notes beside the samples are no logs: listed as not read.
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("PROVENANCE.md"), "{err}");
    let rows = read_back(&out);
    check_against_ingest(&corpus, &rows);
    let formats: BTreeSet<&str> = rows.iter().map(|r| r.format.as_str()).collect();
    for f in [
        "ual.log_analytics_csv",
        "signin.log_analytics_csv",
        "directory_audit.log_analytics_json",
    ] {
        assert!(formats.contains(f), "{formats:?}");
    }
    // A Log Analytics sign-in row: `ResultType` read through the map as the engine reads it.
    let signin = rows
        .iter()
        .find(|r| r.format == "signin.log_analytics_csv" && r.lists.contains_key("f__result_type"))
        .expect("a sign-in row with ResultType");
    let raw: Value = serde_json::from_str(&signin.raw).unwrap();
    let want = match &raw["ResultType"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    assert_eq!(signin.lists["f__result_type"], vec![Some(want)]);
}
