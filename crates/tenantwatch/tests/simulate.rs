//! `tenantwatch simulate`: deterministic output, files that `tenantwatch ingest` reads whole with
//! the counts truth states, every attack record where truth says, and a background that grows
//! linearly with `--scale`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

mod common;
use common::{Tmp, bin};

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
    let d = Tmp::new("simulate-det");
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
    let d = Tmp::new("simulate-counts");
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
        "partner_signin_new_infra" | "partner_signin_shared_infra" => {
            log == "signin" || op == "UserLoggedIn"
        }
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
    let d = Tmp::new("simulate-tech");
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
    let d = Tmp::new("simulate-scale");
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

fn failing(extra: &[&str]) -> String {
    let d = Tmp::new("simulate-bad");
    let o = bin()
        .arg("simulate")
        .arg("--out")
        .arg(d.0.join("case"))
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{extra:?}");
    assert!(!d.0.join("case").join("truth.json").exists());
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn bad_options_exit_1_with_a_message() {
    let e = failing(&["--tenants", "5", "--compromised", "6"]);
    assert!(e.contains("--compromised must be"), "{e}");
    let e = failing(&["--tenants", "5", "--compromised", "3", "--scale", "-1"]);
    assert!(e.contains("--scale must be"), "{e}");
    let e = failing(&[
        "--tenants",
        "5",
        "--compromised",
        "3",
        "--stolen-accounts",
        "9",
    ]);
    assert!(e.contains("--stolen-accounts must be 1..=5"), "{e}");
    let e = failing(&[
        "--tenants",
        "5",
        "--compromised",
        "3",
        "--stolen-accounts",
        "0",
    ]);
    assert!(e.contains("--stolen-accounts must be 1..=5"), "{e}");
    let e = failing(&["--tenants", "5", "--compromised", "3", "--bogus"]);
    assert!(e.contains("--bogus"), "{e}");
    let e = failing(&["--tenants", "5", "--compromised", "3", "--vary", "x"]);
    assert!(e.contains("--vary"), "{e}");
}

const VARIATIONS: [&str; 13] = [
    "attacker_reuse",
    "partner_vpn",
    "stolen_accounts",
    "mass_readers",
    "admin_consents",
    "mid_routine_start",
    "dual_exports",
    "folder_names",
    "missing_tenant_ids",
    "tenant_map",
    "owner_habits",
    "own_admin_token",
    "drawn_from",
];

#[test]
fn vary_is_deterministic_differs_by_seed_and_is_recorded() {
    let d = Tmp::new("simulate-vary");
    let (a, b, c) = (d.0.join("a"), d.0.join("b"), d.0.join("c"));
    simulate(&a, &args(&["--vary", "5", "--scale", "0.1"]));
    simulate(&b, &args(&["--vary", "5", "--scale", "0.1"]));
    simulate(&c, &args(&["--vary", "6", "--scale", "0.1"]));
    let (ha, hb, hc) = (hashes(&a), hashes(&b), hashes(&c));
    assert_eq!(ha, hb);
    assert_ne!(ha["truth.json"], hc["truth.json"]);
    for (case, seed) in [(&a, 5), (&c, 6)] {
        let t = truth(case);
        let v = t["variations"].as_object().unwrap();
        let keys: BTreeSet<&str> = v.keys().map(String::as_str).collect();
        assert_eq!(keys, VARIATIONS.into_iter().collect());
        assert_eq!(v["drawn_from"], seed);
        // --vary seeds the world too, unless --seed is given.
        assert_eq!(t["generated"]["seed"], seed);
        let stolen = t["stolen_accounts"].as_array().unwrap();
        assert_eq!(stolen.len() as u64, v["stolen_accounts"].as_u64().unwrap());
        assert_eq!(stolen[0], t["partner_account"]);
        assert_eq!(
            t["decoy_tenants"][0]["tenant_id"],
            t["owner_routine_tenant"]
        );
    }
    // Every file of a varied world is read whole, with the counts truth states.
    let s = stats(&a);
    assert_eq!(s["totals"]["rejected"], 0, "{}", s["errors"]);
    let got: BTreeMap<String, u64> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                rel(&a, f["path"].as_str().unwrap()),
                f["records"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: BTreeMap<String, u64> = truth(&a)["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);
    // The classic world carries none of it.
    let classic = d.0.join("classic");
    simulate(&classic, &args(&["--scale", "0.1"]));
    let t = truth(&classic);
    for k in ["variations", "stolen_accounts", "benign", "decoy_tenants"] {
        assert!(t.get(k).is_none(), "{k} in a classic truth");
    }
}

/// Ingests a case with its tenant map (names dropped: `folder = tenant-id`), keyed by
/// (file relative to logs/, record).
fn events_with_map(case: &Path) -> BTreeMap<(String, u64), Value> {
    let map_text = std::fs::read_to_string(case.join("tenant-map.txt")).unwrap();
    let mut plain = String::new();
    for line in map_text.lines().filter(|l| !l.starts_with('#')) {
        let (folder, rest) = line.split_once(" = ").unwrap();
        let id = rest.split(' ').next().unwrap();
        plain.push_str(&format!("{} = {id}\n", case.join(folder).display()));
    }
    let map = case.join("plain-map.txt");
    std::fs::write(&map, plain).unwrap();
    let o = bin()
        .args(["ingest", "--emit", "jsonl", "--tenant-map"])
        .arg(&map)
        .arg(case.join("logs"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut events = BTreeMap::new();
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let key = (
            rel(case, e["source"]["file"].as_str().unwrap()),
            e["source"]["record"].as_u64().unwrap(),
        );
        events.insert(key, e);
    }
    events
}

fn malicious_of<'a>(
    t: &'a Value,
    events: &'a BTreeMap<(String, u64), Value>,
    tech: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    t["malicious"]
        .as_array()
        .unwrap()
        .iter()
        .filter(move |m| m["technique"] == tech)
        .map(|m| {
            let key = (
                m["file"].as_str().unwrap().to_string(),
                m["record"].as_u64().unwrap(),
            );
            events
                .get(&key)
                .unwrap_or_else(|| panic!("no record at {key:?}"))
        })
}

#[test]
fn every_variation_shows_in_the_logs_as_truth_says() {
    let d = Tmp::new("simulate-allvary");
    let case = d.0.join("case");
    let flags = [
        "--tenants",
        "8",
        "--compromised",
        "4",
        "--days",
        "6",
        "--seed",
        "11",
        "--scale",
        "0.1",
        "--attacker-reuse",
        "--partner-vpn",
        "--stolen-accounts",
        "2",
        "--mass-readers",
        "--admin-consents",
        "--mid-routine-start",
        "--dual-exports",
        "--folder-names",
        "--missing-tenant-ids",
        "--write-tenant-map",
        "--owner-habits",
    ];
    simulate(&case, &flags);
    let t = truth(&case);
    let v = &t["variations"];
    for k in &VARIATIONS[..11] {
        assert!(v[*k] == true || v[*k] == 2, "{k}: {v}");
    }
    let events = events_with_map(&case);
    // Every attack record is where truth says, in the tenant truth says.
    for m in t["malicious"].as_array().unwrap() {
        let key = (
            m["file"].as_str().unwrap().to_string(),
            m["record"].as_u64().unwrap(),
        );
        let e = events
            .get(&key)
            .unwrap_or_else(|| panic!("no record at {key:?}"));
        assert!(
            operation_fits(m["technique"].as_str().unwrap(), e),
            "{m} {e}"
        );
        assert_eq!(e["tenant_id"], m["tenant_id"], "{m}");
    }
    // Attacker reuse: the backdoored apps sign in from the stolen accounts' own addresses.
    let account_ips: BTreeSet<&str> = malicious_of(&t, &events, "partner_signin_new_infra")
        .filter_map(|e| e["ip"].as_str())
        .collect();
    for e in malicious_of(&t, &events, "sp_signin_new_credential") {
        assert!(account_ips.contains(e["ip"].as_str().unwrap()), "{e}");
    }
    // Both stolen accounts sign in as the attacker.
    let users: BTreeSet<String> = malicious_of(&t, &events, "partner_signin_new_infra")
        .chain(malicious_of(&t, &events, "partner_signin_shared_infra"))
        .filter_map(|e| e["user"].as_str().map(str::to_ascii_lowercase))
        .collect();
    for a in t["stolen_accounts"].as_array().unwrap() {
        assert!(
            users.contains(a.as_str().unwrap()),
            "{a} never signs in: {users:?}"
        );
    }
    // The VPN egress: the attacker's sign-ins in some tenants, honest staff's too.
    let vpn = t["benign"]["shared_addresses"][0].as_str().unwrap();
    assert!(!t["attacker_via_vpn"].as_array().unwrap().is_empty());
    let via_vpn: Vec<&Value> = malicious_of(&t, &events, "partner_signin_shared_infra").collect();
    assert!(!via_vpn.is_empty());
    assert!(via_vpn.iter().all(|e| e["ip"] == vpn), "{via_vpn:?}");
    let mal_keys: BTreeSet<(String, u64)> = t["malicious"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["file"].as_str().unwrap().to_string(),
                m["record"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        events
            .iter()
            .any(|(k, e)| e["ip"] == vpn && !mal_keys.contains(k))
    );
    check_mass_readers(&t, &events);
    check_consents(&t, &events, &mal_keys);
    check_exports(&case, &t);
}

fn check_mass_readers(t: &Value, events: &BTreeMap<(String, u64), Value>) {
    let starts = &t["log_starts"];
    for m in t["benign"]["mass_readers"].as_array().unwrap() {
        let app = m["app_id"].as_str().unwrap();
        for tenant in m["tenants"].as_array().unwrap() {
            let reads: Vec<&Value> = events
                .values()
                .filter(|e| e["tenant_id"] == *tenant && e["operation"] == "MailItemsAccessed")
                .filter(|e| e["app_id"].as_str() == Some(app))
                .collect();
            let ips: BTreeSet<&str> = reads.iter().filter_map(|e| e["ip"].as_str()).collect();
            let nets: BTreeSet<String> = ips
                .iter()
                .map(|ip| ip.split('.').take(2).collect::<Vec<_>>().join("."))
                .collect();
            assert!(ips.len() >= 3, "{tenant}: {ips:?}");
            assert_eq!(nets.len(), 1, "one provider network: {ips:?}");
            // From the first hours of the tenant's logs, long before the attack.
            let first = reads
                .iter()
                .filter_map(|e| e["time"].as_str())
                .min()
                .unwrap();
            let start = starts[tenant.as_str().unwrap()].as_str().unwrap();
            assert!(first >= start, "{first} before the logs start {start}");
            assert!(
                first < t["attack_window"]["start"].as_str().unwrap(),
                "{first}"
            );
        }
    }
}

fn check_consents(
    t: &Value,
    events: &BTreeMap<(String, u64), Value>,
    mal: &BTreeSet<(String, u64)>,
) {
    let consents = t["benign"]["consenting_admins"].as_array().unwrap();
    assert!(!consents.is_empty());
    for c in consents {
        let hits: Vec<&(String, u64)> = events
            .iter()
            .filter(|(_, e)| {
                e["tenant_id"] == c["tenant_id"]
                    && e["operation"] == "Consent to application"
                    && e["user"].as_str().map(str::to_ascii_lowercase).as_deref()
                        == c["admin"].as_str()
            })
            .map(|(k, _)| k)
            .collect();
        assert!(!hits.is_empty(), "{c}");
        assert!(hits.iter().all(|k| !mal.contains(*k)));
    }
}

fn check_exports(case: &Path, t: &Value) {
    // Dual exports: some tenant has two sign-in formats, and an attack sign-in in both.
    let dual = t["tenants"].as_array().unwrap().iter().any(|tn| {
        tn["formats"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.as_str().unwrap().starts_with("signin."))
            .count()
            == 2
    });
    assert!(dual);
    // Folders named any way; the map names every tenant's folder.
    let map = std::fs::read_to_string(case.join("tenant-map.txt")).unwrap();
    for tn in t["tenants"].as_array().unwrap() {
        let line = format!(
            "logs/{} = {} {}",
            tn["folder"].as_str().unwrap(),
            tn["id"].as_str().unwrap(),
            tn["name"].as_str().unwrap()
        );
        assert!(map.lines().any(|l| l == line), "{line}");
    }
    let folders: Vec<&str> = t["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tn| tn["folder"].as_str().unwrap())
        .collect();
    assert!(
        folders
            .iter()
            .any(|f| !f.starts_with("customers/") && !f.starts_with("reseller-")),
        "{folders:?}"
    );
    // Tenantless directory audits alone in their folder.
    assert!(
        t["files"]
            .as_object()
            .unwrap()
            .keys()
            .any(|f| f.ends_with("AuditLogs/directoryAudits.json"))
    );
}

/// Ingests a case without a tenant map, keyed by (file relative to logs/, record).
fn events_without_map(case: &Path) -> BTreeMap<(String, u64), Value> {
    let o = bin()
        .args(["ingest", "--emit", "jsonl"])
        .arg(case.join("logs"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let e: Value = serde_json::from_str(line).unwrap();
            let key = (
                rel(case, e["source"]["file"].as_str().unwrap()),
                e["source"]["record"].as_u64().unwrap(),
            );
            (key, e)
        })
        .collect()
}

/// Checks the tenantless files of a case: read whole, their records naming no tenant of their
/// own, each in its tenant by the folder or (with `mapped`) the map, or in none. Returns the
/// tenantless files holding attack records.
fn check_tenantless(
    t: &Value,
    events: &BTreeMap<(String, u64), Value>,
    mapped: bool,
) -> BTreeSet<String> {
    let files = t["files"].as_object().unwrap();
    let list = t["tenantless_files"].as_array().unwrap();
    let mut seen = 0;
    for f in list {
        let file = f["file"].as_str().unwrap();
        let Some(n) = files.get(file).and_then(Value::as_u64) else {
            continue; // planned, never written (no record of that kind)
        };
        for i in 0..n {
            let e = &events[&(file.to_string(), i)];
            seen += 1;
            match (mapped, f["placed_by"].as_str().unwrap()) {
                (true, _) => {
                    assert_eq!(e["tenant_source"], "map", "{file} {e}");
                    assert_eq!(e["tenant_id"], f["tenant_id"], "{file}");
                }
                (false, "folder") => {
                    assert_eq!(e["tenant_source"], "folder", "{file} {e}");
                    assert_eq!(e["tenant_id"], f["tenant_id"], "{file}");
                }
                (false, _) => {
                    assert_eq!(e["tenant_source"], "unknown", "{file} {e}");
                    assert!(e.get("tenant_id").is_none(), "{file} {e}");
                }
            }
        }
    }
    assert!(seen > 0);
    let tenantless: BTreeSet<&str> = list.iter().map(|f| f["file"].as_str().unwrap()).collect();
    t["malicious"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["file"].as_str().unwrap())
        .filter(|f| tenantless.contains(f))
        .map(str::to_string)
        .collect()
}

#[test]
fn exports_without_tenant_ids_land_in_their_tenant_with_or_without_a_map() {
    let d = Tmp::new("simulate-tenantless");
    let flags = |map: bool| {
        let mut v = vec![
            "--tenants",
            "8",
            "--compromised",
            "4",
            "--days",
            "6",
            "--seed",
            "11",
            "--scale",
            "0.1",
            "--missing-tenant-ids",
            "--dual-exports",
        ];
        if map {
            v.push("--write-tenant-map");
        }
        v
    };
    for mapped in [true, false] {
        let case = d.0.join(if mapped { "mapped" } else { "plain" });
        simulate(&case, &flags(mapped));
        let t = truth(&case);
        // Read whole, with truth's counts.
        let s = stats(&case);
        assert_eq!(s["totals"]["rejected"], 0, "{}", s["errors"]);
        let formats: BTreeMap<String, String> = s["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = rel(&case, f["path"].as_str().unwrap());
                assert_eq!(f["records"], t["files"][&path], "{path}");
                (path, f["format"].as_str().unwrap_or("").to_string())
            })
            .collect();
        let events = if mapped {
            events_with_map(&case)
        } else {
            events_without_map(&case)
        };
        let attacked = check_tenantless(&t, &events, mapped);
        // Every kind of export without tenant ids is there, attack records in them.
        let kind = |f: &str| formats.get(f).map(String::as_str).unwrap_or("");
        for (name, format) in [
            ("OfficeActivity_", "ual.log_analytics_csv"),
            ("SigninLogs_", "signin.log_analytics_csv"),
            ("AADServicePrincipalSignInLogs_", "signin.log_analytics_csv"),
            ("directoryAudits.json", "directory_audit.graph_json"),
        ] {
            assert!(
                attacked
                    .iter()
                    .any(|f| f.contains(name) && kind(f) == format),
                "{name}: {attacked:?}"
            );
        }
        assert!(
            t["tenantless_files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["file"].as_str().unwrap().ends_with(".csv")
                    && f["file"]
                        .as_str()
                        .unwrap()
                        .contains("/AuditLogs/AuditLogs_")),
            "a Log Analytics directory audit without tenant columns, alone"
        );
        // With the map the projections replace the tenant's exports; without it they come
        // beside exports that name the tenant, so the folder places them.
        let placed: BTreeSet<&str> = t["tenantless_files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f["file"].as_str().unwrap().contains("/AuditLogs/"))
            .map(|f| f["placed_by"].as_str().unwrap())
            .collect();
        if mapped {
            assert!(placed.contains("map"), "{placed:?}");
        } else {
            assert_eq!(placed, BTreeSet::from(["folder"]));
        }
    }
}
