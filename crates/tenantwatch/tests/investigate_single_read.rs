//! `investigate` reads the logs once for the hunt and the blast radius's facts, and again only for
//! the records tied to the attacker: its results must be those of the separate commands. On a
//! varied simulated world: its findings are `hunt --min-level informational`'s, its `blast.json` is `blast --findings` of
//! `hunt --min-level high`, and its coverage counts every record, as `ingest` does.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
use common::{Tmp, bin};

fn run(args: &[&str], logs: &Path) -> Output {
    let o = bin().args(args).arg(logs).output().unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 2)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A varied world with backdoored applications, several stolen accounts and duplicate exports.
fn world(dir: &Path) -> std::path::PathBuf {
    let w = dir.join("world");
    common::simulate_world(
        &w,
        &[
            "--tenants",
            "26",
            "--compromised",
            "8",
            "--days",
            "10",
            "--scale",
            "0.05",
            "--vary",
            "19",
        ],
    );
    w.join("logs")
}

#[test]
fn one_read_gives_the_results_of_the_separate_commands() {
    let tmp = Tmp::new("inv-single-read");
    let logs = world(&tmp.0);
    let case = tmp.0.join("case");
    let o = bin()
        .arg("investigate")
        .arg(&logs)
        .arg("--out")
        .arg(&case)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The findings are the hunt's at every level, byte for byte.
    let hunted = run(
        &["hunt", "--min-level", "informational", "--format", "jsonl"],
        &logs,
    );
    let findings = std::fs::read(case.join("findings.jsonl")).unwrap();
    assert!(!hunted.stdout.is_empty());
    assert!(
        findings == hunted.stdout,
        "investigate's findings differ from hunt's"
    );

    // The blast radius is blast's from the high findings.
    let high = tmp.0.join("high.jsonl");
    let o = run(&["hunt", "--min-level", "high", "--format", "jsonl"], &logs);
    std::fs::write(&high, &o.stdout).unwrap();
    let high_arg = high.to_str().unwrap();
    let o = run(
        &["blast", "--findings", high_arg, "--format", "json"],
        &logs,
    );
    let alone: Value = serde_json::from_slice(&o.stdout).unwrap();
    let inside = read_json(&case.join("blast.json"));
    let affected = |v: &Value| {
        v["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == "affected")
            .count()
    };
    assert!(affected(&alone) >= 8, "the world's attack is found");
    assert!(
        inside["pivots"].as_array().is_some_and(|p| !p.is_empty()),
        "pivots were taken"
    );
    assert!(
        inside == alone,
        "investigate's blast.json differs from blast --findings"
    );
}

/// Records per tenant and log kind, with first and last time.
fn coverage(rows: &Value) -> BTreeMap<(String, String), (u64, Value, Value)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["tenant_id"].as_str().unwrap().to_string(),
                    r["log_kind"].as_str().unwrap().to_string(),
                ),
                (
                    r["records"].as_u64().unwrap(),
                    r["first"].clone(),
                    r["last"].clone(),
                ),
            )
        })
        .collect()
}

#[test]
fn the_verdict_coverage_counts_every_record() {
    let tmp = Tmp::new("inv-single-read-coverage");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reseller-breach/logs");
    let case = tmp.0.join("case");
    let o = bin()
        .arg("investigate")
        .arg(&example)
        .arg("--out")
        .arg(&case)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let verdict = read_json(&case.join("verdict.json"));
    let o = run(&["ingest", "--format", "json"], &example);
    let read: Value = serde_json::from_slice(&o.stdout).unwrap();
    let want = coverage(&read["coverage"]);
    assert!(want.values().map(|c| c.0).sum::<u64>() > 2000);
    assert_eq!(coverage(&verdict["coverage"]), want);
}
