//! `tenantwatch simulate`: deterministic output, files that `tenantwatch ingest` reads whole with
//! the counts truth states, every attack record where truth says, and a background that grows
//! linearly with `--scale`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("tw-cli-simulate-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn simulate(out: &Path, args: &[&str]) {
    let o = bin()
        .arg("simulate")
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("attack records"));
}

const SMALL: &[&str] = &["--tenants", "5", "--compromised", "3", "--days", "4"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = SMALL.to_vec();
    v.extend_from_slice(extra);
    v
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01b3)
    })
}

fn hashes(root: &Path) -> BTreeMap<String, u64> {
    fn walk(d: &Path, root: &Path, out: &mut BTreeMap<String, u64>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, fnv(&std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn truth(case: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(case.join("truth.json")).unwrap()).unwrap()
}

fn stats(case: &Path) -> Value {
    let o = bin()
        .args(["ingest", "--stats", "--format", "json"])
        .arg(case.join("logs"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn rel(case: &Path, file: &str) -> String {
    let prefix = format!("{}/", case.join("logs").to_string_lossy());
    file.strip_prefix(&prefix).unwrap_or(file).to_string()
}

#[test]
fn same_seed_same_bytes_other_seed_other_case() {
    let d = Tmp::new("det");
    let (a, b, c) = (d.0.join("a"), d.0.join("b"), d.0.join("c"));
    simulate(&a, &args(&["--seed", "42", "--scale", "0.3"]));
    simulate(&b, &args(&["--seed", "42", "--scale", "0.3"]));
    simulate(&c, &args(&["--seed", "43", "--scale", "0.3"]));
    let (ha, hb, hc) = (hashes(&a), hashes(&b), hashes(&c));
    assert!(ha.len() > 10);
    assert_eq!(ha, hb);
    let common: Vec<&String> = ha.keys().filter(|k| hc.contains_key(*k)).collect();
    assert_eq!(
        common,
        vec!["truth.json"],
        "another seed names other tenants"
    );
    assert_ne!(ha["truth.json"], hc["truth.json"]);
    // Refuses to overwrite.
    let o = bin()
        .arg("simulate")
        .arg("--out")
        .arg(&a)
        .args(SMALL)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn ingest_reads_every_file_with_the_counts_of_truth() {
    let d = Tmp::new("counts");
    let case = d.0.join("case");
    simulate(&case, &args(&["--seed", "7", "--scale", "0.5"]));
    let t = truth(&case);
    let s = stats(&case);
    assert_eq!(s["totals"]["rejected"], 0, "{}", s["errors"]);
    assert_eq!(
        s["errors"].as_array().map_or(0, |e| e.len()),
        0,
        "{}",
        s["errors"]
    );
    let mut got = BTreeMap::new();
    for f in s["files"].as_array().unwrap() {
        assert_eq!(f["status"], "ok", "{f}");
        assert_eq!(f["rejected"], 0, "{f}");
        got.insert(
            rel(&case, f["path"].as_str().unwrap()),
            f["records"].as_u64().unwrap(),
        );
    }
    let want: BTreeMap<String, u64> = t["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);
    assert!(want.keys().any(|k| k.contains(".zip!")));
    assert!(want.keys().any(|k| k.ends_with(".gz")));
    assert_eq!(
        s["totals"]["records"].as_u64().unwrap(),
        want.values().sum::<u64>()
    );
}

fn operation_fits(tech: &str, e: &Value) -> bool {
    let op = e["operation"].as_str().unwrap_or("");
    let log = e["log"].as_str().unwrap_or("");
    let code = e["result"]["code"].as_str().unwrap_or("");
    match tech {
        "partner_signin_new_infra" => log == "signin" || op == "UserLoggedIn",
        "sp_credential_added" => {
            op == "Add service principal credentials"
                || op == "Update application – Certificates and secrets management"
        }
        "mail_permission_granted" => matches!(
            op,
            "Add app role assignment to service principal"
                | "Consent to application"
                | "Add delegated permission grant"
        ),
        "sp_signin_new_credential" => log == "signin" && e["service_principal_id"].is_string(),
        "mail_items_accessed" => op == "MailItemsAccessed",
        "graph_mail_read" => log == "graph_activity" && op.ends_with("/messages") && code == "200",
        "directory_enumeration" => log == "graph_activity" && op.contains("/users?"),
        "inbox_rule_forward" => matches!(op, "New-InboxRule" | "Set-InboxRule" | "Set-Mailbox"),
        "federation_modified" => {
            op == "Set federation settings on domain" || op == "Set domain authentication"
        }
        "privileged_role_added" => op == "Add member to role",
        "mail_access_failed" => {
            (log == "graph_activity" && code == "403")
                || (log == "signin" && e["service_principal_id"].is_string() && code == "7000215")
        }
        _ => false,
    }
}

#[test]
fn every_technique_is_at_its_place_in_the_files() {
    let d = Tmp::new("tech");
    let case = d.0.join("case");
    simulate(&case, &args(&["--seed", "8", "--scale", "0.2"]));
    let t = truth(&case);
    let o = bin()
        .args(["ingest", "--emit", "jsonl"])
        .arg(case.join("logs"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut events = BTreeMap::new();
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let key = (
            rel(&case, e["source"]["file"].as_str().unwrap()),
            e["source"]["record"].as_u64().unwrap(),
        );
        events.insert(key, e);
    }
    let attacker: BTreeSet<&str> = t["attacker_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
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
        assert!(operation_fits(tech, e), "{tech}: {e}");
        assert_eq!(e["tenant_id"], m["tenant_id"]);
        assert!(attacker.contains(e["ip"].as_str().unwrap_or("")), "{e}");
        seen.insert(tech.to_string());
    }
    for tech in [
        "partner_signin_new_infra",
        "sp_credential_added",
        "mail_permission_granted",
        "sp_signin_new_credential",
        "mail_items_accessed",
        "graph_mail_read",
        "directory_enumeration",
        "inbox_rule_forward",
        "federation_modified",
        "privileged_role_added",
        "mail_access_failed",
    ] {
        assert!(seen.contains(tech), "{tech} missing");
    }
}

#[test]
fn background_grows_linearly_with_scale() {
    let d = Tmp::new("scale");
    let mut totals = Vec::new();
    for (name, scale) in [("s0", "0"), ("s1", "1"), ("s2", "2")] {
        let case = d.0.join(name);
        simulate(
            &case,
            &[
                "--tenants",
                "3",
                "--compromised",
                "2",
                "--days",
                "5",
                "--seed",
                "9",
                "--scale",
                scale,
            ],
        );
        let s = stats(&case);
        assert_eq!(s["totals"]["rejected"], 0);
        totals.push(s["totals"]["records"].as_u64().unwrap() as f64);
    }
    let b1 = totals[1] - totals[0];
    let b2 = totals[2] - totals[0];
    assert!(b1 > 500.0, "{totals:?}");
    assert!((b2 / b1 - 2.0).abs() < 0.03, "{totals:?}");
}
