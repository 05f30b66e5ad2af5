//! `tenantwatch blast --actor` on varied simulated worlds (`simulate --vary SEED`, the worlds of
//! `scripts/eval-accuracy.sh`) where time and history alone decide wrong: an attack that starts
//! within the learning window at the start of the logs (its addresses are the stolen account's
//! early history, tied to the attacker by behaviour: backdoored applications sign in from them
//! with the credentials the account added, or the account planted the attacker's credentials
//! from them), and owners whose home line first appears after the learning window (their honest
//! work in a decoy tenant stays unaffected). The affected tenants and the mailboxes read equal
//! the world's truth.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

mod common;
use common::Tmp;

fn strs(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `blast --actor <partner account>` on world `seed` and checks it against the truth;
/// returns the truth and the result.
fn blast_world(seed: u64) -> (Value, Value) {
    let tmp = Tmp::new(&seed.to_string());
    let truth = common::eval_world(&tmp.0, seed);
    let account = truth["partner_account"].as_str().unwrap();
    let o = common::in_world(&tmp.0, "blast")
        .args(["--actor", account, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tenants = r["tenants"].as_array().unwrap();
    let affected: BTreeSet<String> = tenants
        .iter()
        .filter(|t| t["status"] == "affected" && t["role"] == "customer")
        .map(|t| t["tenant_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        affected,
        strs(&truth["compromised_tenants"]),
        "world {seed}"
    );
    let read: BTreeMap<String, BTreeSet<String>> = tenants
        .iter()
        .filter(|t| t["role"] == "customer")
        .filter(|t| !strs(&t["mailboxes_read"]).is_empty())
        .map(|t| {
            let id = t["tenant_id"].as_str().unwrap().to_string();
            (id, strs(&t["mailboxes_read"]))
        })
        .collect();
    let expected: BTreeMap<String, BTreeSet<String>> = truth["mailboxes_read"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), strs(v)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    assert_eq!(read, expected, "world {seed}");
    for d in truth["decoy_tenants"].as_array().into_iter().flatten() {
        let id = d["tenant_id"].as_str().unwrap();
        let row = tenants.iter().find(|t| t["tenant_id"] == id).unwrap();
        assert_ne!(row["status"], "affected", "world {seed}: decoy {id}");
    }
    (truth, r)
}

#[test]
fn an_attack_starting_within_the_learning_window_is_linked_by_behaviour() {
    let (truth, r) = blast_world(10);
    // The attack starts 58 hours after the logs do: its addresses are the account's early
    // history, followed because backdoored applications signed in from them with the
    // credentials the account added.
    assert_eq!(truth["variations"]["mid_routine_start"], true);
    let tied: BTreeSet<String> = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "ip")
        .filter(|p| {
            p["reason"]
                .as_str()
                .unwrap()
                .contains("tied to the attacker by behaviour")
        })
        .map(|p| p["indicator"].as_str().unwrap().to_string())
        .collect();
    assert!(!tied.is_empty());
    assert!(tied.is_subset(&strs(&truth["attacker_ips"])), "{tied:?}");
    // The partner's office (colleagues before and after) is still not followed.
    let attacker = strs(&truth["attacker_ips"]);
    let office = r["not_followed"].as_array().unwrap().iter().any(|p| {
        p["kind"] == "ip"
            && !attacker.contains(p["indicator"].as_str().unwrap())
            && p["reason"]
                .as_str()
                .unwrap()
                .contains("shared infrastructure")
    });
    assert!(office, "{}", r["not_followed"]);
}

#[test]
fn an_owners_new_home_line_is_routine_not_the_attackers() {
    // World 5: the owner's home line first appears on day 4, after the learning window; world
    // 27: the same with the attacker coming through the partner's VPN.
    for seed in [5u64, 27] {
        let (_, r) = blast_world(seed);
        let routine = r["not_followed"].as_array().unwrap().iter().any(|p| {
            p["kind"] == "ip"
                && p["reason"]
                    .as_str()
                    .unwrap()
                    .contains("its owner's routine")
        });
        assert!(routine, "world {seed}");
    }
}

#[test]
fn the_address_a_backdoor_was_planted_from_is_the_attackers() {
    // World 42: the attacker's addresses are the stolen account's early history and no
    // application signs in from them; the account added from them credentials that backdoored
    // applications then used from other attacker hosts. The second stolen account, which used
    // the same addresses, is compromised through them and its tenants are affected.
    let (truth, r) = blast_world(42);
    let planted: BTreeSet<String> = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "ip")
        .filter(|p| {
            p["reason"]
                .as_str()
                .unwrap()
                .contains("the backdoor was planted from")
        })
        .map(|p| p["indicator"].as_str().unwrap().to_string())
        .collect();
    assert!(!planted.is_empty());
    assert!(
        planted.is_subset(&strs(&truth["attacker_ips"])),
        "{planted:?}"
    );
}

#[test]
fn the_accounts_that_planted_the_attackers_backdoors_are_compromised() {
    // World 31: three stolen accounts; the seeded one reached its attacked tenants only through
    // the partner's VPN or from an address another stolen account used first, within that
    // account's learning window. The credentials the seeded account added through the VPN are
    // confirmed by the applications' sign-ins from addresses new to them; other applications
    // there signed in with credentials partner accounts added (no honest history), so those
    // addresses are the attacker's, and the accounts that planted those credentials are
    // compromised: every attacked tenant is affected, with its mailboxes.
    let (truth, r) = blast_world(31);
    assert_eq!(truth["variations"]["partner_vpn"], true);
    let planters: BTreeSet<String> = r["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "identity")
        .filter(|p| {
            p["reason"]
                .as_str()
                .unwrap()
                .contains("planted the attacker's backdoor")
        })
        .map(|p| p["indicator"].as_str().unwrap().to_string())
        .collect();
    let seeded = truth["partner_account"].as_str().unwrap();
    let stolen: BTreeSet<String> = strs(&truth["stolen_accounts"])
        .into_iter()
        .filter(|a| a != seeded)
        .map(|a| format!("user:{a}"))
        .collect();
    assert_eq!(stolen.len(), 2);
    assert_eq!(planters, stolen);
}

#[test]
fn a_customer_administrator_acting_from_the_attackers_address_gives_it_no_honest_history() {
    // Worlds 27 and 48: the intruder replays a customer administrator's token from its
    // addresses within the learning window, hours after a stolen account first used them. That
    // administrator (another organisation than the partner's) arriving after the intruder has
    // no history there: the addresses stay the attacker's and every attacked tenant is affected
    // (four were missed in each world when such a use counted as history). `blast_world`
    // checks the affected set and the mailboxes against the truth.
    for seed in [27u64, 48] {
        let (truth, r) = blast_world(seed);
        assert_eq!(truth["variations"]["own_admin_token"], true, "world {seed}");
        let attacker = strs(&truth["attacker_ips"]);
        let followed = r["pivots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "ip")
            .filter(|p| attacker.contains(p["indicator"].as_str().unwrap()))
            .count();
        assert!(followed > 0, "world {seed}");
    }
}

#[test]
fn stolen_accounts_that_planted_backdoors_used_from_the_address_give_it_no_honest_history() {
    // Worlds 64, 72 and 77: the intruder signs in with two or three stolen partner accounts
    // from the same addresses, minutes apart and within the others' learning windows, and each
    // account adds credentials that backdoored applications then sign in with from those very
    // addresses. An account whose planted credential is used from an address is the operator
    // there, not its history: the other stolen accounts are followed as compromised and every
    // attacked tenant is affected (none was, when their use counted as the address's history).
    for seed in [64u64, 72, 77] {
        let (truth, r) = blast_world(seed);
        let stolen = strs(&truth["stolen_accounts"]);
        assert!(stolen.len() > 1, "world {seed}");
        let followed: BTreeSet<String> = r["pivots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "identity")
            .filter_map(|p| p["indicator"].as_str()?.strip_prefix("user:"))
            .map(str::to_string)
            .filter(|u| stolen.contains(u))
            .collect();
        assert_eq!(followed, stolen, "world {seed}");
    }
}

#[test]
fn the_partners_vpn_the_intruder_planted_from_stays_shared() {
    // World 76: the intruder comes through the partner's VPN and the stolen account adds, from
    // it, credentials that backdoored applications use from the intruder's own addresses; no
    // application signs in from the VPN, and three colleagues work from it (days after the
    // stolen account's suspect period began). The VPN is the organisation's egress: not
    // followed, no colleague compromised, no extra tenant (9 extra and the decoy before).
    // (World 42, where the second stolen account also adds credentials from the intruder's own
    // address, keeps that address the attacker's: see the test of that world above.)
    let (truth, r) = blast_world(76);
    assert!(!truth["attacker_via_vpn"].as_array().unwrap().is_empty());
    let egress = r["not_followed"].as_array().unwrap().iter().any(|p| {
        p["kind"] == "ip"
            && p["reason"]
                .as_str()
                .unwrap()
                .contains("office or VPN egress")
    });
    assert!(egress, "{}", r["not_followed"]);
}
