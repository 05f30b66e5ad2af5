//! SigmaHQ rules through `tenantwatch hunt`, one physical export format at a time. For every rule in
//! tests/fixtures/sigmahq/rules (unmodified SigmaHQ rules, DRL 1.1, see PROVENANCE.md there) and
//! every format the rule applies to, tests/fixtures/sigmahq/<rule>/<format>/ holds one positive
//! event, which must raise a finding of exactly that rule, and one negative event, which must raise
//! none. Each event file must also be read as the format its folder names.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const RULES: &str = "tests/fixtures/sigmahq/rules";
const EVENTS: &str = "tests/fixtures/sigmahq";

const DIRECTORY_AUDIT: &[&str] = &[
    "directory_audit.graph_json",
    "directory_audit.azure_monitor",
    "directory_audit.log_analytics_csv",
    "directory_audit.log_analytics_json",
];
const UAL: &[&str] = &[
    "ual.mgmt_api_json",
    "ual.search_ual_json",
    "ual.purview_csv",
    "ual.log_analytics_csv",
    "ual.log_analytics_json",
];
/// The UAL shapes that carry every record type. Sentinel's `OfficeActivity` table (the Log
/// Analytics shapes) holds Exchange, SharePoint/OneDrive and Teams records only, not the
/// `SecurityComplianceAlerts` records that Defender for Cloud Apps alerts are written as.
const UAL_FULL: &[&str] = &[
    "ual.mgmt_api_json",
    "ual.search_ual_json",
    "ual.purview_csv",
];
const RISK_DETECTION: &[&str] = &[
    "risk_detection.graph_json",
    "risk_detection.azure_monitor",
    "risk_detection.log_analytics_csv",
    "risk_detection.log_analytics_json",
];

/// One SigmaHQ rule and where it applies.
struct Rule {
    /// The rule file name without `.yml`; also the name of its event folder.
    stem: &'static str,
    id: &'static str,
    /// The log kind its findings report.
    log: &'static str,
    formats: &'static [&'static str],
    /// A field of the rule that every finding's `matched` names.
    matched: &'static str,
}

const CREDENTIAL_ADDED: Rule = Rule {
    stem: "azure_app_credential_added",
    id: "cbb67ecc-fb70-4467-9350-c910bdf7c628",
    log: "directory_audit",
    formats: DIRECTORY_AUDIT,
    matched: "properties.message",
};
const FEDERATION_MODIFIED: Rule = Rule {
    stem: "azure_federation_modified",
    id: "352a54e1-74ba-4929-9d47-8193d67aba1e",
    log: "directory_audit",
    formats: DIRECTORY_AUDIT,
    matched: "ActivityDisplayName",
};
const PERMISSIONS_MSFT: Rule = Rule {
    stem: "azure_app_permissions_msft",
    id: "c1d147ae-a951-48e5-8b41-dcd0170c7213",
    log: "directory_audit",
    formats: DIRECTORY_AUDIT,
    matched: "properties.message",
};
const PRIVILEGED_PERMISSIONS: Rule = Rule {
    stem: "azure_app_privileged_permissions",
    id: "5aecf3d5-f8a0-48e7-99be-3a759df7358f",
    log: "directory_audit",
    formats: DIRECTORY_AUDIT,
    matched: "properties.message",
};
const ADMIN_ROLE: Rule = Rule {
    stem: "azure_ad_user_added_to_admin_role",
    id: "ebbeb024-5b1d-4e16-9c0c-917f86c708a7",
    log: "directory_audit",
    formats: DIRECTORY_AUDIT,
    matched: "properties.targetResources",
};
const FEDERATED_DOMAIN_AUDIT: Rule = Rule {
    stem: "microsoft365_new_federated_domain_added_audit",
    id: "58f88172-a73d-442b-94c9-95eaed3cbb36",
    log: "ual",
    formats: UAL,
    matched: "Operation",
};
const FEDERATED_DOMAIN_EXCHANGE: Rule = Rule {
    stem: "microsoft365_new_federated_domain_added_exchange",
    id: "42127bdd-9133-474f-a6f1-97b6c08a4339",
    log: "ual",
    formats: UAL,
    matched: "eventName",
};
const MAIL_FORWARDING: Rule = Rule {
    stem: "microsoft365_susp_email_forwarding_activity",
    id: "c726e007-2cd0-4a55-abfb-79730fbedee5",
    log: "ual",
    formats: UAL,
    matched: "Operation",
};
const INBOX_RULE: Rule = Rule {
    stem: "microsoft365_susp_inbox_rule_creation_or_update_activity",
    id: "d3577be1-42c9-44a7-b56e-2e8de97349d3",
    log: "ual",
    formats: UAL,
    matched: "Parameters",
};
const MCAS_INBOX_FORWARDING: Rule = Rule {
    stem: "microsoft365_susp_inbox_forwarding",
    id: "6c220477-0b5b-4b25-bb90-66183b4089e8",
    log: "ual",
    formats: UAL_FULL,
    matched: "eventName",
};
const RISK_INBOX_FORWARDING: Rule = Rule {
    stem: "azure_identity_protection_inbox_forwarding_rule",
    id: "27e4f1d6-ae72-4ea0-8a67-77a73a289c3d",
    log: "risk_detection",
    formats: RISK_DETECTION,
    matched: "riskEventType",
};

const ALL: &[&Rule] = &[
    &CREDENTIAL_ADDED,
    &FEDERATION_MODIFIED,
    &PERMISSIONS_MSFT,
    &PRIVILEGED_PERMISSIONS,
    &ADMIN_ROLE,
    &FEDERATED_DOMAIN_AUDIT,
    &FEDERATED_DOMAIN_EXCHANGE,
    &MAIL_FORWARDING,
    &INBOX_RULE,
    &MCAS_INBOX_FORWARDING,
    &RISK_INBOX_FORWARDING,
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Positive,
    Negative,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Positive => "positive",
            Kind::Negative => "negative",
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tenantwatch(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run tenantwatch");
    (
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn rule_file(rule: &Rule) -> String {
    format!("{RULES}/{}.yml", rule.stem)
}

/// The event file of a rule, format and kind (relative to the workspace root).
fn event_file(rule: &Rule, format: &str, kind: Kind) -> String {
    let ext = if format.ends_with("_csv") {
        "csv"
    } else {
        "json"
    };
    format!("{EVENTS}/{}/{format}/{}.{ext}", rule.stem, kind.name())
}

/// Problems with one event file: not read as its folder's format, or not exactly one record.
fn read_problems(file: &str, format: &str) -> Vec<String> {
    let (out, err, code) = tenantwatch(&["ingest", file, "--format", "json"]);
    if code != 0 {
        return vec![format!("{file}: ingest exited {code}: {err}")];
    }
    let v: Value = match serde_json::from_str(&out) {
        Ok(v) => v,
        Err(e) => return vec![format!("{file}: ingest report is not JSON: {e}")],
    };
    let files = v["files"].as_array().cloned().unwrap_or_default();
    let [f] = files.as_slice() else {
        return vec![format!("{file}: expected one file in the report: {v}")];
    };
    let mut out = Vec::new();
    if f["format"] != format || f["status"] != "ok" || f["read"] != 1 || f["rejected"] != 0 {
        out.push(format!(
            "{file}: read as {} ({}), {} read, {} rejected; expected one record of {format}",
            f["format"], f["status"], f["read"], f["rejected"]
        ));
    }
    out
}

/// Runs the rule alone over one event file; returns its findings.
fn hunt(rule: &Rule, file: &str) -> Result<Vec<Value>, String> {
    let (out, err, code) = tenantwatch(&[
        "hunt",
        file,
        "--rules",
        &rule_file(rule),
        "--no-builtin",
        "--format",
        "jsonl",
    ]);
    if code != 0 {
        return Err(format!("{file}: hunt exited {code}: {err}"));
    }
    out.lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{file}: finding is not JSON: {e}")))
        .collect()
}

/// Problems with one rule's events of one kind, over every format the rule applies to.
fn problems(rule: &Rule, kind: Kind) -> Vec<String> {
    let mut out = Vec::new();
    for format in rule.formats {
        let file = event_file(rule, format, kind);
        if !root().join(&file).is_file() {
            out.push(format!("{file}: missing"));
            continue;
        }
        out.extend(read_problems(&file, format));
        let findings = match hunt(rule, &file) {
            Ok(f) => f,
            Err(e) => {
                out.push(e);
                continue;
            }
        };
        match kind {
            Kind::Negative => {
                if !findings.is_empty() {
                    out.push(format!(
                        "{file}: the negative event raised {} finding(s): {:?}",
                        findings.len(),
                        findings
                            .iter()
                            .map(|f| f["matched"].to_string())
                            .collect::<Vec<_>>()
                    ));
                }
            }
            Kind::Positive => {
                if findings.is_empty() {
                    out.push(format!("{file}: the positive event raised no finding"));
                }
                for f in &findings {
                    if f["rule"]["id"] != rule.id {
                        out.push(format!(
                            "{file}: finding of rule {} instead of {}",
                            f["rule"]["id"], rule.id
                        ));
                    }
                    if f["log"] != rule.log {
                        out.push(format!(
                            "{file}: finding on log {} instead of {}",
                            f["log"], rule.log
                        ));
                    }
                    if f["matched"].get(rule.matched).is_none() {
                        out.push(format!(
                            "{file}: matched names no {}: {}",
                            rule.matched, f["matched"]
                        ));
                    }
                    let evidence = &f["evidence"][0];
                    if !evidence["file"]
                        .as_str()
                        .is_some_and(|p| Path::new(p).ends_with(&file))
                        || evidence["record"] != 0
                    {
                        out.push(format!("{file}: evidence points elsewhere: {evidence}"));
                    }
                    if !f["time"].is_string() {
                        out.push(format!("{file}: finding without a time: {f}"));
                    }
                }
            }
        }
    }
    out
}

fn assert_events(rule: &Rule, kinds: &[Kind]) {
    let mut all = Vec::new();
    for &k in kinds {
        all.extend(problems(rule, k));
    }
    assert!(
        all.is_empty(),
        "{} ({}):\n{}",
        rule.stem,
        rule.id,
        all.join("\n")
    );
}

const BOTH: &[Kind] = &[Kind::Positive, Kind::Negative];

#[test]
fn added_credentials_to_existing_application() {
    assert_events(&CREDENTIAL_ADDED, BOTH);
}

#[test]
fn azure_domain_federation_settings_modified() {
    assert_events(&FEDERATION_MODIFIED, BOTH);
}

#[test]
fn app_granted_microsoft_permissions() {
    assert_events(&PERMISSIONS_MSFT, BOTH);
}

#[test]
fn app_granted_privileged_delegated_or_app_permissions() {
    assert_events(&PRIVILEGED_PERMISSIONS, BOTH);
}

#[test]
fn user_added_to_an_administrator_role() {
    assert_events(&ADMIN_ROLE, BOTH);
}

#[test]
fn new_federated_domain_added_audit() {
    assert_events(&FEDERATED_DOMAIN_AUDIT, BOTH);
}

#[test]
fn new_federated_domain_added_exchange_negatives() {
    assert_events(&FEDERATED_DOMAIN_EXCHANGE, &[Kind::Negative]);
}

#[test]
fn new_federated_domain_added_exchange_positives() {
    assert_events(&FEDERATED_DOMAIN_EXCHANGE, &[Kind::Positive]);
}

#[test]
fn mail_forwarding_or_redirecting_activity() {
    assert_events(&MAIL_FORWARDING, BOTH);
}

#[test]
fn inbox_rules_creation_or_update_activity() {
    assert_events(&INBOX_RULE, BOTH);
}

#[test]
fn suspicious_inbox_forwarding_alert_negatives() {
    assert_events(&MCAS_INBOX_FORWARDING, &[Kind::Negative]);
}

#[test]
fn suspicious_inbox_forwarding_alert_positives() {
    assert_events(&MCAS_INBOX_FORWARDING, &[Kind::Positive]);
}

#[test]
fn suspicious_inbox_forwarding_identity_protection() {
    assert_events(&RISK_INBOX_FORWARDING, BOTH);
}

#[test]
fn every_copied_rule_loads_with_every_field_mapped() {
    let (out, err, code) = tenantwatch(&["rules", "check", RULES, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("rules check JSON");
    let rows = v["rules"].as_array().expect("rules");
    let files: Vec<String> = std::fs::read_dir(root().join(RULES))
        .expect("rules folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    assert_eq!(
        files.len(),
        ALL.len(),
        "every copied rule has a test: {files:?}"
    );
    assert_eq!(rows.len(), ALL.len(), "{v:#}");
    assert_eq!(v["summary"]["loaded"], ALL.len(), "{v:#}");
    assert_eq!(v["summary"]["rejected"], 0, "{v:#}");
    assert_eq!(v["summary"]["skipped"], 0, "{v:#}");
    for rule in ALL {
        let row = rows
            .iter()
            .find(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(&format!("/{}.yml", rule.stem)))
            })
            .unwrap_or_else(|| panic!("{} not reported: {v:#}", rule.stem));
        assert_eq!(row["status"], "loaded", "{row}");
        assert_eq!(row["id"], rule.id, "{row}");
        assert_eq!(row["log_kinds"], serde_json::json!([rule.log]), "{row}");
        // Every field the rule uses maps onto a real field of every format of its log kind.
        assert!(
            row.get("unmapped")
                .is_none_or(|u| u.as_array().is_some_and(|a| a.is_empty())),
            "{row}"
        );
    }
}
