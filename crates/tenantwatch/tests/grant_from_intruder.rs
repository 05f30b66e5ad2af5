//! A high-privilege grant by a tenant's own administrator is high when it comes from the
//! intruder's infrastructure (`tenantwatch.attacker_address` on the pack's grant rules), on the
//! accuracy script's varied worlds (`simulate --vary SEED`) where the intruder, besides the
//! stolen partner accounts, replays an own administrator's token from its addresses: every such
//! grant is high,
//! saying which finding tells the address is the intruder's; the tenants' own administrators'
//! grants from their offices (a mail-settings application being set up) stay medium, even where
//! the intruder came through the partner's VPN egress that honest staff share.

use std::collections::BTreeSet;

use serde_json::Value;

mod common;
use common::Tmp;

const GRANT_RULES: [&str; 2] = [
    "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b25",
    "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b26",
];

/// (file suffix, record) of the world's attack records.
fn attack_records(truth: &Value) -> BTreeSet<(String, u64)> {
    truth["malicious"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["file"].as_str().unwrap_or("").to_string(),
                m["record"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

fn is_attack(f: &Value, attack: &BTreeSet<(String, u64)>) -> bool {
    f["evidence"].as_array().into_iter().flatten().any(|e| {
        let (file, rec) = (e["file"].as_str().unwrap_or(""), e["record"].as_u64());
        attack
            .iter()
            .any(|(a, r)| Some(*r) == rec && file.ends_with(a.as_str()))
    })
}

/// The pack's own-tenant grant findings of world `seed`: (attack grants, benign grants).
fn grants(seed: u64) -> (Vec<Value>, Vec<Value>) {
    let tmp = Tmp::new(&format!("grant-intruder-{seed}"));
    let truth = common::eval_world(&tmp.0, seed);
    assert_eq!(truth["variations"]["own_admin_token"], true, "seed {seed}");
    let o = common::in_world(&tmp.0, "hunt")
        .args(["--min-level", "informational", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let attack = attack_records(&truth);
    let (mut bad, mut good) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let f: Value = serde_json::from_str(line).unwrap();
        if !GRANT_RULES.contains(&f["rule"]["id"].as_str().unwrap_or("")) {
            continue;
        }
        if is_attack(&f, &attack) {
            bad.push(f);
        } else {
            good.push(f);
        }
    }
    (bad, good)
}

#[test]
fn own_administrators_grants_from_the_intruders_addresses_are_high_and_office_grants_medium() {
    // Seed 2: the attacker's applications reuse its addresses; seed 4: the intruder comes
    // through the partner's VPN egress in some tenants, and administrators consent to a
    // mail-settings application from their offices.
    for seed in [2, 4] {
        let (bad, good) = grants(seed);
        assert!(
            !bad.is_empty(),
            "seed {seed}: no replayed-token grant found"
        );
        for f in &bad {
            assert_eq!(f["rule"]["level"], "high", "seed {seed}: {f}");
            let why = f["matched"]["(attacker_address)"].as_str().unwrap_or("");
            let ip = f["ip"].as_str().unwrap();
            assert!(
                why.starts_with(&format!("{ip} is the intruder's: ")),
                "{why}"
            );
            assert!(why.contains("by no other identity before"), "{why}");
        }
        assert!(!good.is_empty(), "seed {seed}: no benign grant to compare");
        for f in &good {
            assert_eq!(f["rule"]["level"], "medium", "seed {seed}: {f}");
            assert!(f["matched"].get("(attacker_address)").is_none(), "{f}");
        }
    }
}
