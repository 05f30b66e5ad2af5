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
