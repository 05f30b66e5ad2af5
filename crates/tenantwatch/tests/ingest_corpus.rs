//! `tenantwatch ingest` on real public samples (`tests/fixtures/corpus/`, copied unmodified from the
//! shared corpus with their PROVENANCE notes): every log file is recognised with the right log kind
//! and physical format, and its record count equals the number of records the file holds.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// (path under tests/fixtures/corpus, format, log kind, records).
///
/// The record counts were computed independently of tenantwatch, once, with Python 3:
/// CSV files with `csv.reader(open(path, newline='', encoding='utf-8-sig'))`, counting the non-empty
/// rows after the header (every row had as many fields as the header); JSON-lines files by counting
/// the non-blank lines, each of which `json.loads` parsed; the ScubaGear report is one JSON object.
#[rustfmt::skip]
const LOGS: &[(&str, &str, &str, u64)] = &[
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/AuditLogs_Hunting.csv", "directory_audit.log_analytics_csv", "directory_audit", 5),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/HighRiskApps.csv", "other.table_csv", "other", 5),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/azureActivity_adele.csv", "azure_activity.log_analytics_csv", "azure_activity", 23),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/azure_activity.csv", "azure_activity.log_analytics_csv", "azure_activity", 325),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/disable_accounts.csv", "signin.log_analytics_csv", "signin", 4),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/office_activity.csv", "ual.log_analytics_csv", "ual", 266),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/office_activity_inbox_rule.csv", "ual.log_analytics_csv", "ual", 2),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/sign-in_adelete.csv", "signin.log_analytics_csv", "signin", 56),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/signinLogs.csv", "other.table_csv", "other", 1),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/solarigate-beacon-umbrella.csv", "other.table_csv", "other", 1),
    ("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/solarigate_CEFevent.csv", "cef.log_analytics_csv", "cef", 1),
    ("OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess/AADAuditEvents.json", "directory_audit.log_analytics_json", "directory_audit", 4),
    ("OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess/Microsoft365DefenderEvents.json", "m365_defender.advanced_hunting_json", "m365_defender", 9),
    ("OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess/OfficeActivityEvents.json", "ual.log_analytics_json", "ual", 1),
    ("OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess/WindowsEvents.json", "windows_event.log_analytics_json", "windows_event", 38),
    ("cisagov-ScubaGear/PowerShell/ScubaGear/Sample-Reports/ScubaResults_fa5589b7-d528-4f80.json", "tenant_config.scubagear_json", "tenant_config", 1),
];

/// Notes copied beside the samples: listed as unrecognised, never skipped silently.
const NOTES: &[&str] = &[
    "Azure-Sentinel-Training-Lab/PROVENANCE.md",
    "OTRF-Security-Datasets/PROVENANCE.md",
    "cisagov-ScubaGear/PROVENANCE.md",
];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus")
}

struct Run {
    report: Value,
    events: Vec<Value>,
}

/// `tenantwatch ingest .` in the corpus folder: the JSON report (standard error) and the events.
fn ingest_corpus(extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(corpus())
        .args([
            "ingest", ".", "--stats", "--format", "json", "--emit", "jsonl",
        ])
        .args(extra)
        .output()
        .expect("tenantwatch runs");
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stderr).expect("the report is JSON");
    let events = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every emitted line is one JSON event"))
        .collect();
    Run { report, events }
}

fn file<'a>(report: &'a Value, path: &str) -> &'a Value {
    let p = format!("./{path}");
    report["files"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["path"] == p.as_str()))
        .unwrap_or_else(|| panic!("{path} not in the report"))
}

fn event<'a>(run: &'a Run, path: &str, record: u64) -> &'a Value {
    let p = format!("./{path}");
    run.events
        .iter()
        .find(|e| e["source"]["file"] == p.as_str() && e["source"]["record"] == record)
        .unwrap_or_else(|| panic!("no event {path} #{record}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<absent>".into(),
        other => other.to_string(),
    }
}

#[test]
fn the_corpus_copy_holds_every_sample_and_its_provenance() {
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![corpus()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(corpus()).unwrap();
                on_disk.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let expected: BTreeSet<String> = LOGS
        .iter()
        .map(|l| l.0)
        .chain(NOTES.iter().copied())
        .map(str::to_string)
        .collect();
    assert_eq!(on_disk, expected);
}

#[test]
fn every_log_is_recognised_with_its_kind_format_and_record_count() {
    let run = ingest_corpus(&[]);
    let r = &run.report;
    let listed: BTreeSet<String> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| text(&f["path"]).trim_start_matches("./").to_string())
        .collect();
    let expected: BTreeSet<String> = LOGS
        .iter()
        .map(|l| l.0)
        .chain(NOTES.iter().copied())
        .map(str::to_string)
        .collect();
    assert_eq!(listed, expected, "every file is listed, nothing skipped");

    let mut total = 0;
    for (path, format, kind, records) in LOGS {
        let f = file(r, path);
        let got = (
            text(&f["status"]),
            text(&f["format"]),
            text(&f["log_kind"]),
            f["records"].as_u64(),
            f["read"].as_u64(),
            f["rejected"].as_u64(),
        );
        let want = (
            "ok".to_string(),
            format.to_string(),
            kind.to_string(),
            Some(*records),
            Some(*records),
            Some(0),
        );
        assert_eq!(got, want, "{path}");
        total += records;
        let events = run
            .events
            .iter()
            .filter(|e| e["source"]["file"] == format!("./{path}").as_str())
            .count() as u64;
        assert_eq!(events, *records, "{path}: one event per record");
    }
    for path in NOTES {
        let f = file(r, path);
        assert_eq!(text(&f["status"]), "unrecognised", "{path}");
        assert_eq!(f["records"].as_u64(), Some(0), "{path}");
        assert!(!text(&f["note"]).is_empty(), "{path}: the reason is given");
    }
    let t = &r["totals"];
    assert_eq!(t["records"].as_u64(), Some(total));
    assert_eq!(t["read"].as_u64(), Some(total));
    assert_eq!(t["rejected"].as_u64(), Some(0));
    assert_eq!(t["files"].as_u64(), Some((LOGS.len() + NOTES.len()) as u64));
    assert_eq!(t["unrecognised_files"].as_u64(), Some(NOTES.len() as u64));
}

#[test]
fn real_records_give_canonical_fields() {
    let run = ingest_corpus(&[]);
    let tel = "Azure-Sentinel-Training-Lab/Artifacts/Telemetry";
    let otrf = "OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess";
    let check = |ev: &Value, fields: &[(&str, &str)]| {
        for (ptr, want) in fields {
            assert_eq!(
                text(ev.pointer(ptr).unwrap_or(&Value::Null)),
                *want,
                "{ptr} of {}",
                ev["source"]
            );
        }
    };
    // OfficeActivity CSV: US-locale time, the Entra tenant (OrganizationId), not the workspace.
    check(
        event(&run, &format!("{tel}/office_activity.csv"), 0),
        &[
            ("/time", "2021-04-28T15:05:26.000Z"),
            ("/tenant_id", "2ad3fc79-1859-42fa-9011-6f8df2251b22"),
            ("/user", "admin@m365x816222.onmicrosoft.com"),
            ("/ip", "175.45.176.99"),
            ("/operation", "PageViewed"),
            ("/source/line", "2"),
        ],
    );
    // Exchange admin record: `[IPv6]:port` client address.
    check(
        event(&run, &format!("{tel}/office_activity_inbox_rule.csv"), 0),
        &[
            ("/ip", "2a01:110:8068:7:9bf8:aa87:e00a:5f1f"),
            ("/operation", "New-InboxRule"),
        ],
    );
    // AuditLogs query result: operation trimmed (en dash kept), raw keeps the trailing space.
    check(
        event(&run, &format!("{tel}/AuditLogs_Hunting.csv"), 0),
        &[
            (
                "/operation",
                "Update application \u{2013} Certificates and secrets management",
            ),
            (
                "/operation_raw",
                "Update application \u{2013} Certificates and secrets management ",
            ),
        ],
    );
    // Sign-in CSV: failure code from ResultType / Status.
    check(
        event(&run, &format!("{tel}/disable_accounts.csv"), 0),
        &[
            ("/result/success", "false"),
            ("/result/code", "50057"),
            ("/user", "johns@m365x816222.onmicrosoft.com"),
        ],
    );
    // OTRF JSON lines: MailItemsAccessed through Graph, the AuditLogs rows with JSON-string columns.
    check(
        event(&run, &format!("{otrf}/OfficeActivityEvents.json"), 0),
        &[
            ("/operation", "MailItemsAccessed"),
            ("/time", "2021-08-02T13:32:07.000Z"),
        ],
    );
    check(
        event(&run, &format!("{otrf}/AADAuditEvents.json"), 0),
        &[
            ("/user", "pgustavo@simulandlabs.com"),
            ("/tenant_id", "00000000-0000-0000-0000-000000000000"),
        ],
    );
}
