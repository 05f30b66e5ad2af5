//! `tenantwatch hunt` through the CLI on real data: the OTRF Golden SAML / mail access lab
//! (tests/fixtures/corpus, MIT) with the SigmaHQ cloud rules (tests/fixtures/sigma, DRL 1.1).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const OTRF: &str =
    "tests/fixtures/corpus/OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hunt(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .arg("hunt")
        .args(args)
        .output()
        .expect("run tenantwatch");
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        out.status.code().unwrap_or(-1),
    )
}

fn findings(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("finding JSON"))
        .collect()
}

#[test]
fn sigmahq_rules_find_the_credential_and_the_grant_in_the_otrf_lab() {
    let (out, code) = hunt(&[
        OTRF,
        "--rules",
        "tests/fixtures/sigma/rules",
        "--no-builtin",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let f = findings(&out);
    let titles: Vec<&str> = f
        .iter()
        .map(|x| x["rule"]["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Added Credentials to Existing Application"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Delegated Permissions Granted For All Users"),
        "{titles:?}"
    );
    let cred = f
        .iter()
        .find(|x| x["rule"]["title"] == "Added Credentials to Existing Application")
        .unwrap();
    assert_eq!(cred["rule"]["origin"], "sigmahq");
    assert_eq!(cred["rule"]["level"], "high");
    assert_eq!(cred["log"], "directory_audit");
    assert_eq!(cred["actor"]["user"], "pgustavo@simulandlabs.com");
    assert_eq!(cred["time"], "2021-08-02T13:29:25.983Z");
    let ev = &cred["evidence"][0];
    assert!(
        ev["file"]
            .as_str()
            .unwrap()
            .ends_with("AADAuditEvents.json")
    );
    assert_eq!(ev["record"], 0);
    assert_eq!(ev["line"], 1);
    // absent values are omitted, never empty strings
    assert!(cred.get("ip").is_none());
    // the matched field is named as in the rule
    assert!(
        cred["matched"]["properties.message"]
            .as_str()
            .unwrap()
            .starts_with("Update application")
    );
    // findings are sorted by time
    let times: Vec<&str> = f.iter().filter_map(|x| x["time"].as_str()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let a = hunt(&[
        "tests/fixtures/corpus",
        "--rules",
        "tests/fixtures/sigma/rules",
        "--format",
        "jsonl",
        "--threads",
        "1",
    ]);
    let b = hunt(&[
        "tests/fixtures/corpus",
        "--rules",
        "tests/fixtures/sigma/rules",
        "--format",
        "jsonl",
        "--threads",
        "4",
    ]);
    assert!(!a.0.is_empty());
    assert_eq!(a.1, 0);
    assert_eq!(a, b);
}

#[test]
fn no_builtin_without_rules_finds_nothing_and_builtin_pack_runs_by_default() {
    let (out, code) = hunt(&[OTRF, "--no-builtin", "--format", "jsonl"]);
    assert_eq!(code, 0);
    assert!(out.is_empty());
    let (out, code) = hunt(&[OTRF, "--format", "jsonl"]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert!(f.iter().any(|x| x["rule"]["origin"] == "builtin"), "{out}");
}

#[test]
fn min_level_filters_and_csv_is_neutralised() {
    let (out, code) = hunt(&[
        "tests/fixtures/corpus",
        "--rules",
        "tests/fixtures/sigma/rules",
        "--format",
        "jsonl",
        "--min-level",
        "high",
    ]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert!(!f.is_empty());
    assert!(
        f.iter()
            .all(|x| x["rule"]["level"] == "high" || x["rule"]["level"] == "critical")
    );
    let (csv, code) = hunt(&[
        OTRF,
        "--rules",
        "tests/fixtures/sigma/rules",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0);
    assert!(csv.starts_with("time,level,rule_id"));
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            let c = cell.trim_start_matches('"');
            assert!(
                !c.starts_with('=') && !c.starts_with('+') && !c.starts_with('@'),
                "{line}"
            );
        }
    }
}

#[test]
fn generic_json_mode_applies_every_rule_to_fields_as_named() {
    let dir = std::env::temp_dir().join(format!("tw-generic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"EventID\":4688,\"Image\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\",\"CommandLine\":\"cmd /c whoami\"}\n{\"EventID\":4688,\"Image\":\"C:\\\\Windows\\\\notepad.exe\"}\n",
    )
    .unwrap();
    let rule = dir.join("rule.yml");
    std::fs::write(
        &rule,
        "title: Whoami\nid: 5a8c1d7e-0000-4000-8000-000000000001\nlevel: low\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n  condition: sel\n",
    )
    .unwrap();
    let (out, code) = hunt(&[
        events.to_str().unwrap(),
        "--format-in",
        "json",
        "--rules",
        rule.to_str().unwrap(),
        "--no-builtin",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0]["evidence"][0]["record"], 0);
    assert_eq!(f[0]["log"], "generic");
    std::fs::remove_dir_all(&dir).ok();
}

/// Copies of actions written in two logs or exports each (tests/fixtures/merge/README.md).
const MERGE: &str = "tests/fixtures/merge";

/// `(file name, record)` of a finding's evidence.
fn evidence_of(f: &Value) -> Vec<(String, u64)> {
    f["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let file = e["file"].as_str().unwrap_or("");
            let name = file.rsplit('/').next().unwrap_or(file).to_string();
            (name, e["record"].as_u64().unwrap_or(u64::MAX))
        })
        .collect()
}

fn rule_ids(f: &Value) -> Vec<&str> {
    f["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str())
        .collect()
}

#[test]
fn a_directory_change_in_the_unified_audit_log_and_the_entra_audit_is_one_finding() {
    // (folder, unified audit log file, directory audit file)
    let cases = [
        (
            "purview_csv_azure_monitor",
            "AuditLog.csv",
            "insights-logs-auditlogs.json",
        ),
        (
            "purview_csv_log_analytics",
            "Audit_Search.csv",
            "AuditLogs.csv",
        ),
    ];
    for (dir, ual, audit) in cases {
        let (out, code) = hunt(&[&format!("{MERGE}/{dir}"), "--format", "jsonl"]);
        assert_eq!(code, 0);
        let f = findings(&out);
        assert_eq!(f.len(), 1, "{dir}: {out}");
        let ev = evidence_of(&f[0]);
        assert_eq!(ev, [(ual.to_string(), 0), (audit.to_string(), 0)], "{dir}");
        assert_eq!(f[0]["copies"], 2, "{dir}");
        // The partner's credential: the most severe rule leads, every rule that saw a copy is listed.
        assert_eq!(f[0]["rule"]["level"], "high", "{dir}");
        let ids = rule_ids(&f[0]);
        assert_eq!(ids[0], f[0]["rule"]["id"]);
        for id in [
            "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b02",
            "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b03",
            "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b10",
            "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b11",
        ] {
            assert!(ids.contains(&id), "{dir}: {ids:?}");
        }
        // The tenant comes from the copy that names it.
        assert!(f[0]["tenant_id"].is_string(), "{dir}");
    }
}

#[test]
fn distinct_changes_close_in_time_are_not_merged() {
    // Three credentials within 40 s: two in one request (one correlation id, two service
    // principals), one in another request on the first service principal.
    let (out, code) = hunt(&[
        &format!("{MERGE}/ual_json_graph_audit"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert_eq!(f.len(), 3, "{out}");
    for (k, x) in f.iter().enumerate() {
        let k = k as u64;
        assert_eq!(
            evidence_of(x),
            [
                ("UnifiedAuditLog.json".to_string(), k),
                ("directoryAudits.json".to_string(), k)
            ],
            "each copy paired with its own twin: {x}"
        );
        assert_eq!(x["copies"], 2);
        assert_eq!(x["operation"], "Add service principal credentials");
    }
}

#[test]
fn a_sign_in_in_graph_and_azure_monitor_is_one_action() {
    let dir = format!("{MERGE}/signin_graph_azure_monitor");
    let (out, code) = hunt(&[&dir, "--format", "jsonl", "--min-level", "informational"]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(
        evidence_of(&f[0]),
        [
            ("eventhub-entra-signins.json".to_string(), 0),
            ("signIns.json".to_string(), 0)
        ]
    );
    // Partner sign-ins are routine context: informational, aggregated, one action here.
    assert_eq!(f[0]["rule"]["level"], "informational");
    assert_eq!(f[0]["count"], 1);
    // Hidden by default.
    let (out, _) = hunt(&[&dir, "--format", "jsonl"]);
    assert!(out.is_empty(), "{out}");
}

/// The UTC day of an RFC 3339 time.
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

#[test]
fn mail_read_by_applications_is_one_informational_finding_per_app_tenant_and_day() {
    let dir = "examples/reseller-breach/logs/customers/lighthouse-capital";
    // What was read, independently of hunt: mail reads through an application, per app and day.
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .args(["ingest", dir, "--emit", "jsonl"])
        .output()
        .expect("run tenantwatch");
    let mut want: std::collections::BTreeMap<(String, String, String), u64> = Default::default();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let e: Value = serde_json::from_str(l).expect("event JSON");
        let app = e["raw"]["ClientAppId"].as_str().unwrap_or("");
        if e["operation"] == "MailItemsAccessed" && !app.is_empty() {
            let key = (
                e["app_id"].as_str().unwrap_or("").to_string(),
                e["tenant_id"].as_str().unwrap_or("").to_string(),
                day(e["time"].as_str().unwrap_or("")).to_string(),
            );
            *want.entry(key).or_default() += 1;
        }
    }
    assert!(want.values().any(|n| *n > 1), "{want:?}");
    let (out, code) = hunt(&[dir, "--format", "jsonl", "--min-level", "informational"]);
    assert_eq!(code, 0);
    let mail_read = "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b19";
    let mut got: std::collections::BTreeMap<(String, String, String), u64> = Default::default();
    let mut elsewhere = 0;
    for f in findings(&out) {
        if f["rule"]["id"] != mail_read {
            // A read another rule also reported is that rule's finding (listed in `rules`).
            elsewhere += u64::from(rule_ids(&f).contains(&mail_read));
            continue;
        }
        assert_eq!(f["rule"]["level"], "informational");
        let key = (
            f["actor"]["app_id"].as_str().unwrap_or("").to_string(),
            f["tenant_id"].as_str().unwrap_or("").to_string(),
            day(f["time"].as_str().unwrap_or("")).to_string(),
        );
        assert_eq!(day(f["until"].as_str().unwrap_or("")), key.2, "{f}");
        let n = f["count"].as_u64().unwrap_or(0);
        assert_eq!(n as usize, evidence_of(&f).len(), "{f}");
        assert!(
            got.insert(key, n).is_none(),
            "one finding per app, tenant and day"
        );
    }
    let total: u64 = want.values().sum();
    assert_eq!(got.values().sum::<u64>() + elsewhere, total);
    if elsewhere == 0 {
        assert_eq!(got, want);
    }
    // The default level hides them.
    let (out, _) = hunt(&[dir, "--format", "jsonl"]);
    assert!(
        findings(&out)
            .iter()
            .all(|f| f["rule"]["level"] != "informational")
    );
}

#[test]
fn merged_and_aggregated_output_is_the_same_whatever_the_thread_count() {
    let run = |threads: &str| {
        hunt(&[
            MERGE,
            "examples/reseller-breach/logs/customers/lighthouse-capital",
            "examples/reseller-breach/logs/customers/oakridge-accounting",
            "--format",
            "jsonl",
            "--min-level",
            "informational",
            "--threads",
            threads,
        ])
    };
    let one = run("1");
    assert!(findings(&one.0).iter().any(|f| f["copies"] == 2));
    assert_eq!(one, run("2"));
}

/// Hunts `folder` (two exports of one Log Analytics table, the second repeating two rows of the
/// first) with one user rule; checks the repeated rows are one action each.
fn exported_twice(folder: &str, logsource: &str, selection: &str) {
    let dir = std::env::temp_dir().join(format!("tw-merge-{folder}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rule = dir.join("rule.yml");
    std::fs::write(
        &rule,
        format!(
            "title: Watched\nid: 5a8c1d7e-0000-4000-8000-000000000002\nlevel: low\nlogsource: {logsource}\ndetection:\n  sel:\n    {selection}\n  condition: sel\n"
        ),
    )
    .unwrap();
    let (out, code) = hunt(&[
        &format!("{MERGE}/{folder}"),
        "--no-builtin",
        "--rules",
        rule.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert_eq!(f.len(), 4, "{folder}: {out}");
    let twice: Vec<&Value> = f.iter().filter(|x| x["copies"] == 2).collect();
    assert_eq!(twice.len(), 2, "{folder}: {out}");
    for x in twice {
        let files: Vec<String> = x["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["file"].as_str().unwrap().replace('\\', "/"))
            .collect();
        assert!(
            files[0].contains("export-1/") && files[1].contains("export-2/"),
            "{files:?}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_log_analytics_sign_in_exported_twice_is_one_action() {
    // Real SigninLogs rows: the sign-in's `Id`.
    exported_twice(
        "log_analytics_signins_twice",
        "{product: azure, service: signinlogs}",
        "UserPrincipalName: adelev@m365x816222.onmicrosoft.com",
    );
}

#[test]
fn a_unified_audit_log_record_exported_twice_from_sentinel_is_one_action() {
    // Real OfficeActivity rows: the unified audit log record id in `OfficeId`.
    exported_twice(
        "log_analytics_office_activity_twice",
        "{product: m365, service: audit}",
        "Operation: AddedToGroup",
    );
}
