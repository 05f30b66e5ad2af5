//! The storyline is complete, every record truth names is in the files where truth says, the
//! files read back without a rejected record, and the benign look-alikes are there and unmarked.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Ev, TempDir, ingest, run, truth};
use serde_json::Value;
use tw_simulate::SimulateOptions;
use tw_simulate::story::Technique;

fn case(
    tag: &str,
) -> (
    TempDir,
    Value,
    BTreeMap<(String, u64), Ev>,
    tw_ingest::IngestReport,
) {
    let d = TempDir::new(tag);
    let opts = SimulateOptions {
        tenants: 6,
        compromised: 4,
        days: 5,
        seed: 99,
        scale: 0.3,
        ..SimulateOptions::default()
    };
    let c = run(&d.0, "case", &opts);
    let t = truth(&c);
    let (report, events) = ingest(&c);
    (d, t, events, report)
}

fn malicious_keys(t: &Value) -> BTreeSet<(String, u64)> {
    t["malicious"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["file"].as_str().unwrap().to_string(),
                m["record"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn files_read_back_whole_and_match_truth_counts() {
    let (_d, t, events, report) = case("story-counts");
    assert_eq!(report.totals.rejected, 0, "{:?}", report.errors);
    assert!(
        report.files.iter().all(|f| f.status == "ok"),
        "{:?}",
        report.files
    );
    let prefix = report.files[0]
        .path
        .split("/logs/")
        .next()
        .unwrap()
        .to_string()
        + "/logs/";
    let got: BTreeMap<String, u64> = report
        .files
        .iter()
        .map(|f| (f.path.strip_prefix(&prefix).unwrap().to_string(), f.records))
        .collect();
    let want: BTreeMap<String, u64> = t["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(events.len() as u64, want.values().sum::<u64>());
    // Every tenant's records are attributed to that tenant.
    assert!(events.values().all(|e| e.tenant.is_some()));
    // Several physical formats are present.
    let formats: BTreeSet<&str> = events.values().map(|e| e.format.as_str()).collect();
    for f in [
        "ual.mgmt_api_json",
        "ual.purview_csv",
        "signin.graph_json",
        "signin.azure_monitor",
        "directory_audit.graph_json",
        "directory_audit.log_analytics_csv",
        "directory_audit.azure_monitor",
        "graph_activity.azure_monitor",
    ] {
        assert!(formats.contains(f), "{f} missing: {formats:?}");
    }
}

fn expect(tech: &str, e: &Ev, t: &Value) -> Result<(), String> {
    let op = e.operation.clone().unwrap_or_default();
    let ok = match tech {
        "partner_signin_new_infra" => {
            (e.log == "signin" || op == "UserLoggedIn")
                && e.user.as_deref() == t["partner_account"].as_str()
        }
        "sp_credential_added" => {
            op == "Add service principal credentials"
                || op == "Update application – Certificates and secrets management"
        }
        "mail_permission_granted" => matches!(
            op.as_str(),
            "Add app role assignment to service principal"
                | "Consent to application"
                | "Add delegated permission grant"
        ),
        "sp_signin_new_credential" => e.log == "signin" && e.sp.is_some(),
        "mail_items_accessed" => op == "MailItemsAccessed",
        "graph_mail_read" => {
            e.log == "graph_activity"
                && op.ends_with("/messages")
                && e.code.as_deref() == Some("200")
        }
        "directory_enumeration" => e.log == "graph_activity" && op.contains("/v1.0/users?"),
        "inbox_rule_forward" => matches!(
            op.as_str(),
            "New-InboxRule" | "Set-InboxRule" | "Set-Mailbox"
        ),
        "federation_modified" => {
            op == "Set federation settings on domain" || op == "Set domain authentication"
        }
        "privileged_role_added" => op == "Add member to role",
        "mail_access_failed" => {
            (e.log == "graph_activity" && e.code.as_deref() == Some("403"))
                || (e.log == "signin" && e.sp.is_some() && e.code.as_deref() == Some("7000215"))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{tech}: unexpected record {e:?}"))
    }
}

#[test]
fn every_technique_is_in_truth_and_at_its_place_in_the_files() {
    let (_d, t, events, _) = case("story-tech");
    let attacker: Vec<String> = strs(&t["attacker_ips"]);
    let mut seen = BTreeSet::new();
    for m in t["malicious"].as_array().unwrap() {
        let key = (
            m["file"].as_str().unwrap().to_string(),
            m["record"].as_u64().unwrap(),
        );
        let e = events
            .get(&key)
            .unwrap_or_else(|| panic!("no record at {key:?}"));
        let tech = m["technique"].as_str().unwrap();
        expect(tech, e, &t).unwrap();
        assert_eq!(e.tenant.as_deref(), m["tenant_id"].as_str(), "{key:?}");
        assert!(
            e.ip.as_ref().is_some_and(|ip| attacker.contains(ip)),
            "attack record without an attacker address: {e:?}"
        );
        seen.insert(tech.to_string());
    }
    for tech in Technique::ALL {
        assert!(seen.contains(tech.as_str()), "{} missing", tech.as_str());
        assert!(t["techniques"][tech.as_str()].as_u64().unwrap() > 0);
    }
    // No benign record comes from the attacker's addresses.
    let mal = malicious_keys(&t);
    for (k, e) in &events {
        if let Some(ip) = &e.ip {
            assert!(
                !attacker.contains(ip) || mal.contains(k),
                "benign record from attacker ip: {k:?}"
            );
        }
    }
    // Mailboxes read are exactly the owners in the attacker's MailItemsAccessed records.
    let mut read: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in t["malicious"].as_array().unwrap() {
        if m["technique"] == "mail_items_accessed" {
            let key = (
                m["file"].as_str().unwrap().to_string(),
                m["record"].as_u64().unwrap(),
            );
            let e = &events[&key];
            read.entry(e.tenant.clone().unwrap())
                .or_default()
                .insert(e.raw["MailboxOwnerUPN"].as_str().unwrap().to_string());
        }
    }
    let truth_read: BTreeMap<String, BTreeSet<String>> = t["mailboxes_read"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), strs(v).into_iter().collect()))
        .collect();
    assert_eq!(read, truth_read);
}

#[test]
fn partner_access_and_operation_names_look_like_real_logs() {
    let (_d, t, events, _) = case("story-shape");
    let partner = t["partner_tenant"].as_str().unwrap();
    let account = t["partner_account"].as_str().unwrap();
    let domain = account.split('@').nth(1).unwrap();
    let mut raw_ops = BTreeSet::new();
    for m in t["malicious"].as_array().unwrap() {
        let key = (
            m["file"].as_str().unwrap().to_string(),
            m["record"].as_u64().unwrap(),
        );
        let e = &events[&key];
        raw_ops.insert(e.operation_raw.clone().unwrap_or_default());
        let tenant = m["tenant_id"].as_str().unwrap();
        if m["technique"] == "partner_signin_new_infra" && tenant != partner {
            let p = e.raw.get("properties").unwrap_or(&e.raw);
            assert_eq!(p["crossTenantAccessType"], "serviceProvider");
            assert_eq!(p["homeTenantId"], partner);
            assert_eq!(p["resourceTenantId"], tenant);
            assert!(p["userPrincipalName"].as_str().unwrap().ends_with(domain));
            assert_eq!(e.home_tenant.as_deref(), Some(partner));
        }
        if m["technique"] == "sp_credential_added" && e.log == "ual" {
            assert_eq!(e.raw["ActorContextId"], partner);
            assert_eq!(e.raw["Workload"], "AzureActiveDirectory");
        }
        if m["technique"] == "mail_items_accessed" {
            assert!(e.raw["ClientAppId"].is_string() && e.raw["AppId"].is_string());
            assert!(e.raw["Folders"].is_array() && e.raw["MailboxOwnerUPN"].is_string());
            let props = e.raw["OperationProperties"].as_array().unwrap();
            assert!(props.iter().any(|p| p["Name"] == "MailAccessType"));
            assert!(props.iter().any(|p| p["Name"] == "IsThrottled"));
        }
        if m["technique"] == "mail_permission_granted"
            && e.operation.as_deref() == Some("Add app role assignment to service principal")
        {
            let text = e.raw.to_string();
            assert!(
                [
                    "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
                    "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
                    "dc890d15-9560-4a4c-9b7f-a736ec74ec40"
                ]
                .iter()
                .any(|id| text.contains(id)),
                "{text}"
            );
            assert!(text.contains("AppRole.Value"));
        }
        if m["technique"] == "inbox_rule_forward" {
            let params = e.raw["Parameters"].as_array().unwrap();
            assert!(params.iter().any(|p| matches!(
                p["Name"].as_str(),
                Some("ForwardTo" | "RedirectTo" | "ForwardingSmtpAddress")
            )));
        }
    }
    for op in [
        "Add service principal credentials.",
        "Add service principal credentials",
        "Add app role assignment to service principal",
        "Add app role assignment to service principal.",
        "Set federation settings on domain",
        "Set domain authentication.",
        "Add member to role",
        "Add member to role.",
        "MailItemsAccessed",
        "New-InboxRule",
        "Set-Mailbox",
        "UserLoggedIn",
    ] {
        assert!(raw_ops.contains(op), "{op:?} not among {raw_ops:?}");
    }
    assert!(
        raw_ops.contains("Update application – Certificates and secrets management ")
            || raw_ops.contains("Update application – Certificates and secrets management ."),
        "{raw_ops:?}"
    );
}

#[test]
fn benign_lookalikes_are_present_and_unmarked() {
    let (_d, t, events, _) = case("story-benign");
    let mal = malicious_keys(&t);
    let partner = t["partner_tenant"].as_str().unwrap().to_string();
    let account = t["partner_account"].as_str().unwrap().to_string();
    let attacker = strs(&t["attacker_ips"]);
    let compromised: BTreeSet<String> = strs(&t["compromised_tenants"]).into_iter().collect();
    let untouched: BTreeSet<String> = strs(&t["untouched_partner_tenants"]).into_iter().collect();
    assert!(!untouched.is_empty());
    let owner_tenant = t["owner_routine_tenant"].as_str().unwrap();
    assert!(untouched.contains(owner_tenant));
    let window = (
        tw_event::parse_timestamp(t["attack_window"]["start"].as_str().unwrap())
            .unwrap()
            .millis(),
        tw_event::parse_timestamp(t["attack_window"]["end"].as_str().unwrap())
            .unwrap()
            .millis(),
    );
    let benign = || {
        events
            .iter()
            .filter(|(k, _)| !mal.contains(*k))
            .map(|(_, e)| e)
    };
    // The backup service reads mail, before and during the attack, in several tenants.
    let backup: Vec<&Ev> = benign()
        .filter(|e| {
            e.operation.as_deref() == Some("MailItemsAccessed") && e.raw["ClientAppId"].is_string()
        })
        .collect();
    assert!(backup.iter().any(|e| e.time.unwrap() < window.0));
    assert!(
        backup
            .iter()
            .any(|e| e.time.unwrap() > window.0 && e.time.unwrap() < window.1)
    );
    assert!(
        backup
            .iter()
            .any(|e| compromised.contains(e.tenant.as_ref().unwrap()))
    );
    // Honest partner staff sign in to customers from the office.
    let partner_signins: Vec<&Ev> = benign()
        .filter(|e| {
            e.log == "signin"
                && e.home_tenant.as_deref() == Some(&partner)
                && e.tenant.as_deref() != Some(&partner)
        })
        .collect();
    assert!(
        partner_signins
            .iter()
            .any(|e| compromised.contains(e.tenant.as_ref().unwrap()))
    );
    assert!(
        partner_signins
            .iter()
            .any(|e| untouched.contains(e.tenant.as_ref().unwrap()))
    );
    assert!(
        partner_signins
            .iter()
            .all(|e| !attacker.contains(e.ip.as_ref().unwrap()))
    );
    // The stolen account's owner works in an untouched tenant during the attack.
    assert!(partner_signins.iter().any(|e| {
        e.user.as_deref() == Some(&account)
            && e.tenant.as_deref() == Some(owner_tenant)
            && (window.0..window.1).contains(&e.time.unwrap())
    }));
    // Licence changes and password resets by the partner.
    assert!(
        benign().any(|e| e.operation.as_deref() == Some("Change user license")
            && e.home_tenant.as_deref() == Some(&partner))
    );
    // Credential rotation, harmless inbox rule, benign role change, benign consent.
    assert!(benign().any(|e| matches!(
        e.operation.as_deref(),
        Some(
            "Add service principal credentials"
                | "Update application – Certificates and secrets management"
        )
    )));
    assert!(benign().any(|e| {
        e.operation.as_deref() == Some("New-InboxRule")
            && e.raw["Parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["Name"] == "MoveToFolder")
    }));
    assert!(benign().any(|e| e.operation.as_deref() == Some("Add member to role")));
    assert!(benign().any(|e| e.operation.as_deref() == Some("Consent to application")));
    // A 200 Graph read of a mailbox by an app that is not the attacker's.
    assert!(benign().any(|e| {
        e.log == "graph_activity"
            && e.operation
                .as_deref()
                .is_some_and(|o| o.ends_with("/messages"))
            && e.sp.is_some()
    }));
}
