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

/// Rules of the pack, counted from its files: one per YAML document with a title (a
/// correlation and its building blocks may share a file).
fn pack_rule_count() -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(root().join("rules")).expect("rules folder") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "yml") {
            let text = std::fs::read_to_string(&p).expect("rule text");
            n += text.lines().filter(|l| l.starts_with("title:")).count() as u64;
        }
    }
    n
}

/// Rules with test vectors: folders of tests/fixtures/builtin named after a rule file.
fn rules_with_vectors() -> u64 {
    std::fs::read_dir(root().join("tests/fixtures/builtin"))
        .expect("vectors folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            root().join("rules").join(format!("{name}.yml")).is_file()
        })
        .count() as u64
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
    assert_eq!(v["summary"]["loaded"], pack_rule_count());
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
    // Only correlation building blocks and the burst's sign-in context (never reported on their
    // own) have no vectors.
    assert_eq!(
        untested,
        [
            "tw_seq_admin_action_ual",
            "tw_seq_app_given_ual",
            "tw_seq_partner_app_credential_audit",
            "tw_seq_partner_app_credential_ual",
            "tw_seq_partner_credential_audit",
            "tw_seq_partner_credential_ual",
            "tw_seq_sp_signin_failure",
            "tw_sp_signin",
            "tw_user_login_seen_ual",
            "tw_user_signin_seen"
        ]
    );
    assert_eq!(v["summary"]["passed"], rules_with_vectors());
    assert_eq!(rows.len() as u64, pack_rule_count());
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

/// The OTRF lab: a secret added to SimuLandApp (application object), then mail read through the
/// application (`ClientAppId`, an app id the audit records never name): one high chain, tied by
/// the display name the Defender `CloudAppEvents` row gives the app id, holding the credential's
/// two copies and the mail read; the grant names a service principal whose app id and name the
/// logs leave empty, so it stays apart, medium (the tenant's own user, no address).
#[test]
fn otrf_lab_secret_then_mail_read_is_one_high_chain() {
    let (out, _, code) = run(&["hunt", OTRF, "--format", "jsonl"]);
    assert_eq!(code, 0);
    let f = findings(&out);
    assert_eq!(f.len(), 2, "{out}");
    let chain = &f[1];
    assert_eq!(chain["rule"]["id"], "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b59");
    assert!(is_level_high(chain));
    assert_eq!(chain["matched"]["(tie)"], "display name");
    assert_eq!(chain["matched"]["(application)"], "simulandapp");
    assert_eq!(
        chain["actor"]["app_id"],
        "5a95e683-08ad-424e-a441-1d1aec52c02c"
    );
    assert_eq!(
        chain["operation"],
        "Update application – Certificates and secrets management → MailItemsAccessed"
    );
    let files: Vec<&str> = chain["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["file"].as_str())
        .collect();
    assert_eq!(files.len(), 3);
    assert_eq!(
        files
            .iter()
            .filter(|x| x.ends_with("AADAuditEvents.json"))
            .count(),
        2
    );
    assert!(files[2].ends_with("OfficeActivityEvents.json"));
    let grant = &f[0];
    assert_eq!(grant["operation"], "Add delegated permission grant");
    assert_eq!(grant["rule"]["level"], "medium");
}

/// A real Log Analytics export (Azure Sentinel training lab) with two inbox rules of one user that
/// delete mail and move it to Junk Email: one high burst with both rules as evidence.
#[test]
fn mail_hiding_inbox_rules_are_one_burst() {
    let csv = "tests/fixtures/corpus/Azure-Sentinel-Training-Lab/Artifacts/Telemetry/office_activity_inbox_rule.csv";
    let (out, _, code) = run(&["hunt", csv, "--format", "jsonl"]);
    assert_eq!(code, 0);
    let f = findings(&out);
    let bursts: Vec<&Value> = f
        .iter()
        .filter(|x| x["rule"]["id"] == "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b61")
        .collect();
    assert_eq!(bursts.len(), 1, "{out}");
    assert!(is_level_high(bursts[0]));
    assert_eq!(bursts[0]["evidence"].as_array().map(Vec::len), Some(2));
    assert_eq!(bursts[0]["matched"]["(rule_names)"], "rule2 | my_rule1");
    assert_eq!(bursts[0]["matched"]["(actions)"], "delete; move");
}

/// In every format that carries inbox rule changes (Management API JSON `New-InboxRule`, Purview
/// CSV `Set-InboxRule`, Log Analytics `OfficeActivity` CSV, `UpdateInboxRules` from Outlook on the
/// web), after four days of sign-ins: the rule Adele sets from an address she never signed in from
/// is raised one level (medium → high) and names the address; the same rule Megan sets from her
/// usual address stays medium.
#[test]
fn a_mail_hiding_burst_from_an_address_new_for_the_user_is_raised() {
    for case in [
        "E_new_address_mgmt_api",
        "F_new_address_purview_csv",
        "G_new_address_log_analytics_csv",
        "H_new_address_update_inbox_rules",
    ] {
        let dir = format!("tests/fixtures/builtin/tw_inbox_rules_hide_mail/positive/{case}");
        let f = findings_of(&dir, "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b61");
        let of = |user: &str| {
            let mine: Vec<&Value> = f.iter().filter(|x| x["actor"]["user"] == user).collect();
            assert_eq!(mine.len(), 1, "{case}: {f:?}");
            mine[0].clone()
        };
        let adele = of("adele.vance@contoso.com");
        assert_eq!(adele["rule"]["level"], "high", "{case}");
        let why = adele["matched"]["(new_address)"].as_str().unwrap_or("");
        assert!(
            why.starts_with("203.0.113.77 never used by adele.vance@contoso.com"),
            "{case}: {why}"
        );
        let megan = of("megan.bowen@contoso.com");
        assert_eq!(megan["rule"]["level"], "medium", "{case}");
        assert!(megan["matched"].get("(new_address)").is_none(), "{case}");
        // The sign-ins that taught the addresses are context, not findings.
        for seen in [
            "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b64",
            "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b65",
        ] {
            assert!(
                findings_of(&dir, seen).is_empty(),
                "{case}: {seen} reported"
            );
        }
    }
}

/// `--learning-period` replaces the rules' own: with one hour, the backup services of the bulk
/// mail-reading negatives have learnt nothing yet when they read mail again; a bad value is an
/// error.
#[test]
fn the_learning_period_is_one_flag() {
    let neg = "tests/fixtures/builtin/tw_app_reads_many_mailboxes/negative";
    let count = |extra: &[&str]| {
        let mut args = vec!["hunt", neg, "--format", "jsonl"];
        args.extend_from_slice(extra);
        let (out, err, code) = run(&args);
        assert_eq!(code, 0, "{err}");
        findings(&out)
            .iter()
            .filter(|f| f["rule"]["id"] == "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b20")
            .count()
    };
    assert_eq!(count(&[]), 0);
    assert_eq!(count(&["--learning-period", "72h"]), 0);
    assert_eq!(count(&["--learning-period", "1h"]), 5);
    let (_, err, code) = run(&["hunt", neg, "--learning-period", "3x"]);
    assert_eq!(code, 1);
    assert!(err.contains("--learning-period"), "{err}");
}

/// Findings of rule `id` when hunting `dir` at every level.
fn findings_of(dir: &str, id: &str) -> Vec<Value> {
    let (out, err, code) = run(&[
        "hunt",
        dir,
        "--min-level",
        "informational",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    findings(&out)
        .into_iter()
        .filter(|f| f["rule"]["id"] == id)
        .collect()
}

fn records_of(f: &Value) -> Vec<(String, u64)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap_or_default();
            let name = file.rsplit('/').next().unwrap_or_default().to_string();
            (name, e["record"].as_u64().unwrap_or(u64::MAX))
        })
        .collect()
}

const PARTNER_NEW_IP: &str = "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b06";
const APP_GIVEN_THEN_USED: &str = "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b59";

/// A partner account first seen after the learning period is judged against its colleagues'
/// baseline: from an address none of the partner's accounts used, both of its sign-ins are one
/// finding; from the office its colleague used during the learning period, none.
#[test]
fn a_partner_account_first_seen_late_is_judged_by_its_colleagues_baseline() {
    let dir = "tests/fixtures/builtin/tw_partner_signin_first_seen_ip";
    let f = findings_of(
        &format!("{dir}/positive/B_account_first_seen_late_elsewhere"),
        PARTNER_NEW_IP,
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0]["actor"]["user"],
        "rnakamura@keystonetechnologypartners.com"
    );
    assert_eq!(f[0]["ip"], "193.29.68.162");
    assert_eq!(records_of(&f[0]).len(), 2);
    let neg = format!("{dir}/negative/B_account_first_seen_late_at_the_office");
    assert_eq!(findings_of(&neg, PARTNER_NEW_IP).len(), 0);
}

/// The learning period runs from the start of the logs read (a customer user's sign-in), not from
/// the partner's first sign-in two days later: a new address 3.5 days into the logs is new; one
/// 2.5 days into them is learnt.
#[test]
fn the_partner_learning_period_runs_from_the_start_of_the_logs() {
    let dir = "tests/fixtures/builtin/tw_partner_signin_first_seen_ip";
    let f = findings_of(
        &format!("{dir}/positive/C_partner_first_seen_days_after_the_logs_start"),
        PARTNER_NEW_IP,
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["ip"], "91.219.23.244");
    assert_eq!(
        records_of(&f[0]),
        [("signins_graph_json.json".to_string(), 3)]
    );
    let neg = format!("{dir}/negative/C_new_address_within_the_learning_period");
    assert_eq!(findings_of(&neg, PARTNER_NEW_IP).len(), 0);
}

/// A partner adds a key to a service principal; the chain holds every later sign-in with that key
/// (within the day, three and four days later, from another address too) and the application's
/// directory listing from the network it first used after the key was added — never the owner's
/// sign-ins with its own key or its requests from its usual host.
#[test]
fn the_chain_holds_every_use_of_the_added_key() {
    let dir = "tests/fixtures/builtin/tw_app_given_then_used/positive/D_partner_sp_credential_used_for_days";
    let f = findings_of(dir, APP_GIVEN_THEN_USED);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["matched"]["(then_records)"], "4");
    let mut got = records_of(&f[0]);
    got.sort();
    let want: Vec<(String, u64)> = [
        ("credential_directory_audit_azure_monitor.json", 0),
        ("graph_activity_azure_monitor.json", 1),
        ("signins_signin_graph_json.json", 1),
        ("signins_signin_graph_json.json", 2),
        ("signins_signin_graph_json.json", 4),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), *b))
    .collect();
    assert_eq!(got, want);
}

const GRANT_AUDIT: &str = "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b25";
const GRANT_UAL: &str = "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b26";

/// A high-privilege grant by the tenant's own administrator stays medium wherever it comes from:
/// from an address new for them (their sign-in from it minutes before, four days of history from
/// the office), from the office, and from an address no sign-in of the logs shows; in the
/// directory audit log and in the unified audit log. An administrator working from a new place is
/// ordinary (docs/accuracy.md, "Severity from context"): `--min-level high` keeps none of them.
#[test]
fn a_grant_by_the_tenants_own_administrator_stays_medium_from_a_new_address() {
    for (rule, dir, users) in [
        (
            GRANT_AUDIT,
            "tests/fixtures/builtin/tw_high_privilege_permission_granted_audit/positive/B_own_admin_new_address",
            3,
        ),
        (
            GRANT_UAL,
            "tests/fixtures/builtin/tw_high_privilege_permission_granted_ual/positive/B_own_admin_new_address",
            2,
        ),
    ] {
        let f = findings_of(dir, rule);
        assert_eq!(f.len(), users, "{dir}: {f:?}");
        for x in &f {
            assert_eq!(x["rule"]["level"], "medium", "{dir}: {x}");
            assert!(x["matched"].get("(new_address)").is_none(), "{dir}: {x}");
        }
        assert!(
            f.iter()
                .any(|x| x["actor"]["user"] == "adele.vance@contoso.com"),
            "{dir}: {f:?}"
        );
        let (out, err, code) = run(&["hunt", dir, "--min-level", "high", "--format", "jsonl"]);
        assert_eq!(code, 0, "{err}");
        let high: Vec<Value> = findings(&out);
        assert!(
            high.iter().all(|x| x["rule"]["id"] != rule),
            "{dir}: {high:?}"
        );
    }
}

/// For a credential added by the tenant's own administrator, the application's first sign-in with
/// that key from a network new to it (after days of sign-ins from its host every six hours) is one
/// high chain holding the credential and that sign-in; a rotation whose new key the host itself
/// uses, and an application seen on two days out of five, give none.
#[test]
fn an_own_credential_then_a_sign_in_from_a_new_network_is_one_high_chain() {
    let dir = "tests/fixtures/builtin/tw_app_given_then_used";
    let f = findings_of(
        &format!("{dir}/positive/E_own_sp_credential_then_signin_from_a_new_network"),
        APP_GIVEN_THEN_USED,
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule"]["level"], "high");
    assert_eq!(f[0]["ip"], "194.165.185.113");
    assert_eq!(f[0]["matched"]["(tie)"], "application id");
    assert_eq!(
        f[0]["matched"]["(new_signin)"],
        "first sign-in of the application from 194.165.185.113, a network new to it"
    );
    let got = records_of(&f[0]);
    assert_eq!(
        got.first(),
        Some(&(
            "credential_directory_audit_azure_monitor.json".to_string(),
            0
        ))
    );
    assert!(
        got.contains(&("signins_signin_graph_json.json".to_string(), 21)),
        "{got:?}"
    );
    for neg in [
        "E_own_sp_credential_rotation_used_from_its_host",
        "F_own_sp_credential_application_without_a_routine",
    ] {
        let f = findings_of(&format!("{dir}/negative/{neg}"), APP_GIVEN_THEN_USED);
        assert!(f.is_empty(), "{neg}: {f:?}");
    }
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
