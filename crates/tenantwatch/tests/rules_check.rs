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

#[test]
fn a_rule_file_that_is_not_utf8_is_rejected_alone_in_check_and_hunt() {
    let dir = std::env::temp_dir().join(format!("tw-rules-latin1-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Saved as Latin-1 by an editor: "é" is the single byte E9.
    let mut latin1 = b"title: R\xE9gle de test\nlogsource: {product: m365, service: exchange}\ndetection:\n  sel:\n    Operation: Send\n  condition: sel\n".to_vec();
    latin1.extend_from_slice(b"level: high\n");
    std::fs::write(dir.join("latin1.yml"), latin1).unwrap();
    std::fs::write(dir.join("good.yml"), "title: Mail sent\nid: 5f0c7a1e-3333-4c1e-9a55-000000000001\nlevel: high\nlogsource: {product: m365, service: exchange}\ndetection:\n  sel:\n    Operation: Send\n  condition: sel\n").unwrap();
    let (v, code) = check(&[dir.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(count(&v, "loaded"), 1, "{v:#}");
    assert_eq!(count(&v, "rejected"), 1, "{v:#}");
    assert_eq!(v["summary"]["rejected"], 1);
    let bad = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "rejected")
        .unwrap();
    assert!(
        bad["path"].as_str().unwrap().ends_with("latin1.yml"),
        "{bad}"
    );
    assert_eq!(
        bad["reason"],
        "not UTF-8 text (invalid byte at offset 8): rule file rejected"
    );

    // hunt runs the other rule, names the rejected file, and exits 2 (a rule asked for did not run).
    let logs = dir.join("ual.jsonl");
    std::fs::write(&logs, r#"{"CreationTime":"2024-03-01T10:00:00","Id":"0b1f6c8e-7d2a-4e3b-9c4d-5e6f7a8b9c0d","Operation":"Send","OrganizationId":"8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f","RecordType":2,"ResultStatus":"Succeeded","UserType":0,"Version":1,"Workload":"Exchange","UserId":"adele.vance@contoso.com","ClientIP":"203.0.113.45"}"#.to_string() + "\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .args([
            "hunt",
            logs.to_str().unwrap(),
            "--no-builtin",
            "--format",
            "jsonl",
            "--rules",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("rule rejected: ") && err.contains("latin1.yml: not UTF-8 text"),
        "{err}"
    );
    assert!(
        err.contains("1 rules, 0 correlations, 0 retired skipped, 1 rejected; 1 findings"),
        "{err}"
    );
    let findings: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"]["title"], "Mail sent");
    std::fs::remove_dir_all(&dir).ok();
}
