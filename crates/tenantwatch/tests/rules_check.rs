//! `tenantwatch rules check` on the SigmaHQ cloud rules copied in tests/fixtures/sigma (source and
//! licence in its PROVENANCE.md and LICENSE-SigmaHQ.md).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .args(["rules", "check"])
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run tenantwatch");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json report");
    (v, out.status.code().unwrap_or(-1))
}

fn count(v: &Value, status: &str) -> usize {
    v["rules"]
        .as_array()
        .map_or(0, |a| a.iter().filter(|r| r["status"] == status).count())
}

#[test]
fn every_sigmahq_cloud_rule_loads() {
    let (v, code) = check(&["tests/fixtures/sigma/rules"]);
    assert_eq!(count(&v, "loaded"), 142, "{v:#}");
    assert_eq!(count(&v, "rejected"), 0);
    assert_eq!(code, 0);
    // every rule is routed to a log kind tenantwatch reads
    for r in v["rules"].as_array().unwrap() {
        assert!(!r["log_kinds"].as_array().unwrap().is_empty(), "{r}");
        assert!(r["id"].is_string());
    }
}

#[test]
fn placeholder_rules_need_values() {
    let (v, code) = check(&["tests/fixtures/sigma/rules-placeholder"]);
    assert_eq!(count(&v, "rejected"), 7);
    assert_eq!(code, 2);
    for r in v["rules"].as_array().unwrap() {
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("unresolved placeholder"), "{reason}");
        assert!(r["line"].is_number(), "{r}");
    }
    let (v, code) = check(&[
        "tests/fixtures/sigma/rules-placeholder",
        "--config",
        "examples/placeholders.yml",
    ]);
    assert_eq!(count(&v, "loaded"), 7, "{v:#}");
    assert_eq!(code, 0);
}

#[test]
fn retired_rules_are_skipped_and_counted() {
    let (v, code) = check(&[
        "tests/fixtures/sigma/deprecated",
        "tests/fixtures/sigma/unsupported",
    ]);
    assert_eq!(count(&v, "skipped"), 8);
    assert_eq!(v["summary"]["skipped"], 8);
    assert_eq!(code, 0);
}

#[test]
fn unmappable_fields_are_reported() {
    let (v, _) = check(&["tests/fixtures/sigma/rules/cloud/azure/audit_logs"]);
    // ConsentContext.IsAdminConsent is a modified property's display name, no field of any export.
    let reported = v["rules"].as_array().unwrap().iter().any(|r| {
        r["unmapped"].as_array().is_some_and(|u| {
            u.iter()
                .any(|x| x["field"] == "ConsentContext.IsAdminConsent")
        })
    });
    assert!(reported, "{v:#}");
}

#[test]
fn a_broken_rule_is_rejected_with_its_path_and_the_others_still_load() {
    let dir = std::env::temp_dir().join(format!("tw-rules-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.yml"), "title: Bad\nlogsource: {product: m365, service: audit}\ndetection:\n  sel:\n    Operation|nosuchmodifier: x\n  condition: sel\n").unwrap();
    std::fs::write(dir.join("good.yml"), "title: Good\nlogsource: {product: m365, service: audit}\ndetection:\n  sel:\n    Operation: x\n  condition: sel\n").unwrap();
    std::fs::write(dir.join("dangling.yml"), "title: Dangling\nlogsource: {product: m365, service: audit}\ndetection:\n  sel:\n    Operation: x\n  condition: sel and other\n").unwrap();
    let (v, code) = check(&[dir.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(count(&v, "loaded"), 1);
    assert_eq!(count(&v, "rejected"), 2);
    for r in v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "rejected")
    {
        assert!(r["path"].as_str().unwrap().ends_with(".yml"));
        assert!(!r["reason"].as_str().unwrap().is_empty());
    }
    std::fs::remove_dir_all(&dir).ok();
}
