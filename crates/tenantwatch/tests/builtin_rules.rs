//! The built-in rule pack through the CLI: it passes `rules check`, every rule's positive and
//! negative vectors pass (`rules test`), it finds the attack in the OTRF mail access lab, and on
//! simulated breaches it finds every malicious record while benign look-alikes raise at most one
//! finding of level high or above per tenant. Also the timeline and Timesketch outputs.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const OTRF: &str =
    "tests/fixtures/corpus/OTRF-Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run tenantwatch");
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8_lossy(&out.stderr).to_string(),
        out.status.code().unwrap_or(-1),
    )
}

fn findings(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("finding JSON"))
        .collect()
}

fn is_level_high(f: &Value) -> bool {
    matches!(f["rule"]["level"].as_str(), Some("high" | "critical"))
}

#[test]
fn the_pack_passes_rules_check_and_list() {
    let (out, _, code) = run(&["rules", "check", "rules", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["summary"]["rejected"], 0);
    assert_eq!(v["summary"]["with_unmapped_fields"], 0);
    assert!(v["summary"]["loaded"].as_u64().unwrap_or(0) >= 54);
    for r in v["rules"].as_array().expect("rules") {
        assert_eq!(r["status"], "loaded", "{r}");
    }
    let (out, _, code) = run(&["rules", "list"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Partner account signs in from an address not seen for it before"));
}

#[test]
fn every_builtin_rule_passes_its_vectors() {
    let (out, err, code) = run(&[
        "rules",
        "test",
        "tests/fixtures/builtin",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["summary"]["failed"], 0, "{out}");
    let rows = v["rules"].as_array().expect("rows");
    let untested: Vec<&str> = rows
        .iter()
        .filter(|r| r["status"] == "untested")
        .filter_map(|r| r["rule"].as_str())
        .collect();
    // Only correlation building blocks (never reported on their own) have no vectors.
    assert_eq!(
        untested,
        [
            "tw_seq_admin_action_ual",
            "tw_seq_partner_app_credential_audit",
            "tw_seq_partner_app_credential_ual",
            "tw_seq_partner_credential_audit",
            "tw_seq_partner_credential_ual",
            "tw_seq_sp_signin_failure",
            "tw_sp_signin"
        ]
    );
    assert!(v["summary"]["passed"].as_u64().unwrap_or(0) >= 47);
}

#[test]
fn a_failing_vector_fails_the_command() {
    let dir = std::env::temp_dir().join(format!("tw-builtin-vec-{}", std::process::id()));
    let pos = dir.join("tw_federation_modified/positive");
    let neg = dir.join("tw_federation_modified/negative");
    std::fs::create_dir_all(&pos).expect("mkdir");
    std::fs::create_dir_all(&neg).expect("mkdir");
    let src = root().join("tests/fixtures/builtin/tw_federation_modified/positive");
    for e in std::fs::read_dir(&src).expect("vectors") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_owned();
        // The positive events as negatives: the rule fires, so the vector fails.
        std::fs::copy(&p, neg.join(&name)).expect("copy");
        std::fs::copy(&p, pos.join(&name)).expect("copy");
    }
    let d = dir.to_string_lossy().to_string();
    let (out, _, code) = run(&["rules", "test", &d]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("fail") && out.contains("findings on the negative events"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn otrf_lab_secret_grant_and_graph_mail_read_are_found() {
    // Mail read by an application is routine context: shown from `informational` up.
    let (out, _, code) = run(&[
        "hunt",
        OTRF,
        "--format",
        "jsonl",
        "--min-level",
        "informational",
    ]);
    assert_eq!(code, 0);
    let f = findings(&out);
    let builtin: Vec<&Value> = f
        .iter()
        .filter(|x| x["rule"]["origin"] == "builtin")
        .collect();
    let secret = builtin.iter().any(|x| {
        x["operation"]
            .as_str()
            .is_some_and(|o| o.contains("Certificates and secrets management"))
    });
    assert!(secret, "secret added to the application not found");
    let grant = builtin.iter().any(|x| {
        x["rule"]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("High-privilege API permission granted"))
            && is_level_high(x)
    });
    assert!(grant, "Mail.ReadWrite grant not found");
    let mail = builtin.iter().any(|x| {
        x["operation"] == "MailItemsAccessed"
            && x["rule"]["title"]
                .as_str()
                .is_some_and(|t| t.contains("application"))
    });
    assert!(mail, "mail read by the application not found");
}

/// (malicious records found / total, benign findings per level, most high+ benign per tenant).
fn score(case: &Path, out: &str) -> (usize, usize, BTreeMap<String, usize>, usize) {
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(case.join("truth.json")).expect("truth.json"),
    )
    .expect("truth JSON");
    let f = findings(out);
    let logs = case.join("logs").to_string_lossy().replace('\\', "/");
    let rel = |file: &str| -> String {
        file.replace('\\', "/")
            .strip_prefix(&logs)
            .map(|s| s.trim_start_matches('/').to_string())
            .unwrap_or_else(|| file.to_string())
    };
    let mut evidence: HashSet<(String, u64)> = HashSet::new();
    for x in &f {
        for e in x["evidence"].as_array().into_iter().flatten() {
            evidence.insert((
                rel(e["file"].as_str().unwrap_or("")),
                e["record"].as_u64().unwrap_or(u64::MAX),
            ));
        }
    }
    let malicious: HashSet<(String, u64)> = truth["malicious"]
        .as_array()
        .expect("malicious")
        .iter()
        .map(|m| {
            (
                m["file"].as_str().unwrap_or("").to_string(),
                m["record"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    let found = malicious.iter().filter(|m| evidence.contains(*m)).count();
    let mut per_level: BTreeMap<String, usize> = BTreeMap::new();
    let mut high_per_tenant: BTreeMap<String, usize> = BTreeMap::new();
    for x in &f {
        if x["rule"]["origin"] != "builtin" {
            continue;
        }
        let is_malicious = x["evidence"].as_array().into_iter().flatten().any(|e| {
            malicious.contains(&(
                rel(e["file"].as_str().unwrap_or("")),
                e["record"].as_u64().unwrap_or(u64::MAX),
            ))
        });
        if is_malicious {
            continue;
        }
        *per_level
            .entry(x["rule"]["level"].as_str().unwrap_or("-").to_string())
            .or_default() += 1;
        if is_level_high(x) {
            *high_per_tenant
                .entry(x["tenant_id"].as_str().unwrap_or("-").to_string())
                .or_default() += 1;
        }
    }
    let worst = high_per_tenant.values().copied().max().unwrap_or(0);
    (found, malicious.len(), per_level, worst)
}

#[test]
fn simulated_breaches_full_recall_and_few_high_false_positives() {
    for seed in ["1", "2", "3"] {
        let dir =
            std::env::temp_dir().join(format!("tw-builtin-sim-{}-{seed}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let d = dir.to_string_lossy().to_string();
        let (_, err, code) = run(&[
            "simulate",
            "--out",
            &d,
            "--tenants",
            "8",
            "--compromised",
            "3",
            "--seed",
            seed,
            "--scale",
            "0.3",
        ]);
        assert_eq!(code, 0, "{err}");
        let logs = dir.join("logs").to_string_lossy().to_string();
        let (out, err, code) = run(&["hunt", &logs, "--format", "jsonl"]);
        assert_eq!(code, 0, "{err}");
        let (found, total, per_level, worst) = score(&dir, &out);
        eprintln!(
            "seed {seed}: recall {found}/{total}; benign findings per level {per_level:?}; most high+ benign findings in one tenant {worst}"
        );
        assert!(total > 0);
        assert_eq!(found, total, "seed {seed}: malicious records missed");
        assert!(
            worst <= 1,
            "seed {seed}: {worst} benign findings of level high+ in one tenant"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn example_case_full_recall_and_few_high_false_positives() {
    let case = root().join("examples/reseller-breach");
    let logs = case.join("logs").to_string_lossy().to_string();
    let (out, err, code) = run(&["hunt", &logs, "--format", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let (found, total, per_level, worst) = score(&case, &out);
    eprintln!(
        "example: recall {found}/{total}; benign findings per level {per_level:?}; most high+ benign findings in one tenant {worst}"
    );
    assert_eq!(found, total);
    assert!(worst <= 1);
}

#[test]
fn default_output_is_a_timeline_and_timesketch_is_available() {
    let (out, _, code) = run(&["hunt", OTRF]);
    assert_eq!(code, 0);
    assert!(out.starts_with("== tenant "), "{out}");
    assert!(out.contains("== summary"));
    assert!(out.contains("records read"));
    assert!(out.contains("rules that fired:"));
    assert!(out.contains("AADAuditEvents.json:"));
    let (table, _, code) = run(&["hunt", OTRF, "--format", "table"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("TIME"));
    let (ts, _, code) = run(&["hunt", OTRF, "--format", "timesketch"]);
    assert_eq!(code, 0);
    let lines = findings(&ts);
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(l["message"].is_string());
        assert!(l["datetime"].as_str().is_some_and(|d| d.ends_with('Z')));
        assert!(l["timestamp_desc"].is_string());
        assert!(l["rule_id"].is_string() && l["evidence"].is_array());
    }
}
