//! Severity from context for a single-record rule (documented tenantwatch extensions, no change
//! to the Sigma language). The rule's findings keep its level, except those of a tenant's own
//! user acting from an address new for that user (`new_address`) or from an address the intruder
//! used (`attacker_address`), which are raised to `raise_to`:
//!
//! ```yaml
//! tenantwatch:
//!   new_address:
//!     raise_to: high     # the level of a finding from an address new for its user
//!     seen: [<rule id>]  # rules whose records tell where users act from (sign-ins)
//!     learning: 72h      # learning period from the start of a tenant's logs
//! ```
//!
//! ```yaml
//! tenantwatch:
//!   attacker_address:
//!     raise_to: high     # the level of a finding from the intruder's infrastructure
//!     seen: [<rule id>]  # rules whose records tell where users act from (sign-ins)
//! ```
//!
//! `new_address`: "new" is [`crate::newaddr`]'s test (the user's own history in the logs spans the learning
//! period, never from that address or its network, no colleague of the tenant used it before,
//! past the tenant's learning period), judged when the user first came from the address — the
//! sign-in of the session that acted, minutes before the action — and that less than the
//! learning period before the action; with one more condition: the address is one
//! some sign-in of the tenant's logs comes from (anyone's, any time). An administrative
//! change from an address that signs in nowhere in the logs shows the logs do not hold the
//! session that made it (an export of sign-ins that misses it, a portal session older than the
//! export); that is missing data, not evidence of new infrastructure.
//!
//! `attacker_address`: the intruder's infrastructure is told by other evidence, never by the
//! address alone — an address is the intruder's when a high or critical finding of another rule
//! (a partner account's change, a credential-then-use chain, a partner sign-in from new
//! infrastructure, in any tenant) came from it, and no identity other than that finding's actor
//! used it before the intruder did (an address with an honest history, such as a partner's
//! office or VPN egress that colleagues used before, stays shared). A finding from such an
//! address is raised whoever acts — a tenant's own administrator whose token the intruder
//! replays, or a partner account in a record that names no tenant (which the partner rules
//! cannot tell from a tenant's own) — unless the actor came from the address before the
//! intruder did. No sign-in of the actor from the address is needed: a session token replayed
//! from the intruder's host shows in the logs only through what it did.
//!
//! `new_address` leaves cross-tenant (partner) actors alone: the pack's partner rules rate them
//! already.

use hashbrown::{HashMap, HashSet};

use serde_json::Value;
use tw_event::Finding;
use tw_sigma::Level;

use crate::newaddr::SeenStore;

/// What raises a rule's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An address new for the acting user (`new_address`).
    NewAddress,
    /// An address the intruder used, by the evidence of other findings (`attacker_address`).
    AttackerAddress,
}

impl Trigger {
    /// The block's name under `tenantwatch:`.
    pub fn block(self) -> &'static str {
        match self {
            Trigger::NewAddress => "new_address",
            Trigger::AttackerAddress => "attacker_address",
        }
    }
}

/// One rule's `new_address` or `attacker_address` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaiseSpec {
    /// What raises the findings.
    pub trigger: Trigger,
    /// The level a raised finding gets.
    pub raise_to: Level,
    /// Rules whose records tell where users act from.
    pub seen: Vec<String>,
    /// Learning period from the start of a tenant's logs, milliseconds.
    pub learning_ms: i64,
}

/// Reads the `tenantwatch.new_address` or `tenantwatch.attacker_address` block of a rule
/// document: `Ok(None)` when neither is there; both at once is an error.
pub fn spec_of(doc: &Value) -> Result<Option<RaiseSpec>, String> {
    let ext = doc.get("tenantwatch");
    let found: Vec<(Trigger, &Value)> = [Trigger::NewAddress, Trigger::AttackerAddress]
        .into_iter()
        .filter_map(|t| Some((t, ext?.get(t.block())?)))
        .collect();
    let (trigger, b) = match found.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => {
            return Err(
                "tenantwatch.new_address and tenantwatch.attacker_address: use one of them".into(),
            );
        }
    };
    let what = format!("tenantwatch.{}", trigger.block());
    let raise_to = match b.get("raise_to").and_then(Value::as_str) {
        Some(l) => Level::parse(l).ok_or_else(|| format!("{what}: unknown level {l:?}"))?,
        None => return Err(format!("{what}: `raise_to` (a level) is required")),
    };
    let seen = crate::newaddr::names(b, "seen", &what)?;
    if seen.is_empty() {
        return Err(format!(
            "{what}: `seen` (rules telling where users act from) is required"
        ));
    }
    Ok(Some(RaiseSpec {
        trigger,
        raise_to,
        seen,
        learning_ms: crate::newaddr::learning(b, &what)?,
    }))
}

/// True when `f`'s actor is a user of the finding's own tenant (or of no known home tenant).
fn own_actor(f: &Finding) -> bool {
    let Some(tenant) = f.tenant_id.as_deref() else {
        return false;
    };
    f.actor
        .home_tenant_id
        .as_deref()
        .is_none_or(|h| h.eq_ignore_ascii_case(tenant))
}

/// Why the finding's address is new for its actor (see the module docs), or `None`.
fn new_address(f: &Finding, seen: &SeenStore, learning_ms: i64) -> Option<String> {
    let tenant = f.tenant_id.as_deref()?.to_ascii_lowercase();
    let (user, ip, time) = (f.actor.user.as_deref()?, f.ip.as_deref()?, f.time?);
    if !own_actor(f) || !seen.signed_in_from(ip, &tenant) {
        return None;
    }
    seen.new_since_first_use(user, ip, &tenant, time.millis(), learning_ms)
}

/// Raises the findings of the rules of `specs` (by rule id) that came from an address new for
/// their user (`matched["(new_address)"]` says why) or from the intruder's infrastructure
/// (`matched["(attacker_address)"]`); then drops those still below `min` (their rules were
/// collected at the level they may be raised to).
pub fn apply(
    findings: &mut Vec<Finding>,
    specs: &HashMap<String, RaiseSpec>,
    seen: &SeenStore,
    (min, learning): (Option<Level>, Option<i64>),
) {
    if specs.is_empty() {
        return;
    }
    let intruder = if specs
        .values()
        .any(|s| s.trigger == Trigger::AttackerAddress)
    {
        intruder_addresses(findings, specs, seen)
    } else {
        HashMap::new()
    };
    for f in findings.iter_mut() {
        let Some(spec) = specs.get(&f.rule.id) else {
            continue;
        };
        let below = Level::parse(&f.rule.level).is_none_or(|l| l < spec.raise_to);
        if !below {
            continue;
        }
        let why = match spec.trigger {
            Trigger::NewAddress => new_address(f, seen, learning.unwrap_or(spec.learning_ms)),
            Trigger::AttackerAddress => attacker_address(f, &intruder, seen),
        };
        if let Some(why) = why {
            f.rule.level = spec.raise_to.as_str().to_string();
            f.matched.insert(format!("({})", spec.trigger.block()), why);
        }
    }
    if let Some(m) = min {
        findings.retain(|f| {
            !specs.contains_key(&f.rule.id) || Level::parse(&f.rule.level).is_some_and(|l| l >= m)
        });
    }
}

/// An address the intruder used: its first use by an intruder identity and the finding that
/// tells it is the intruder's.
#[derive(Debug)]
struct IntruderUse {
    /// The earliest use by an identity of the telling findings (the finding's time, or the
    /// identity's earlier record from the address).
    first: i64,
    /// The identities (lower case) of the telling findings.
    actors: Vec<String>,
    /// The earliest telling finding, as said in the raised finding.
    told_by: String,
}

fn ip_key(ip: &str) -> String {
    ip.trim().to_ascii_lowercase()
}

/// The acting identity of `f`, lower case: the user, else the application or service principal.
fn identity(f: &Finding) -> String {
    let a = &f.actor;
    a.user
        .as_deref()
        .or(a.app_id.as_deref())
        .or(a.service_principal_id.as_deref())
        .unwrap_or("")
        .to_lowercase()
}

/// The address `f` tells is the intruder's (lower case): that of a high or critical finding of a
/// rule `specs` does not raise.
pub fn telling_address(f: &Finding, specs: &HashMap<String, RaiseSpec>) -> Option<String> {
    let high = Level::parse(&f.rule.level).is_some_and(|l| l >= Level::High);
    if !high || specs.contains_key(&f.rule.id) {
        return None;
    }
    f.ip.as_deref().map(ip_key)
}

/// The addresses of high and critical findings of rules other than `specs`' (see the module
/// docs), less those some other identity used before the intruder did. An identity whose use
/// of the address a finding of level medium or above reports (a partner account signing in from
/// an address new to it, another stolen account) has no honest history there.
fn intruder_addresses(
    findings: &[Finding],
    specs: &HashMap<String, RaiseSpec>,
    seen: &SeenStore,
) -> HashMap<String, IntruderUse> {
    let mut out: HashMap<String, IntruderUse> = HashMap::new();
    let mut flagged: HashSet<(String, String)> = HashSet::new();
    for f in findings.iter().filter(|f| !specs.contains_key(&f.rule.id)) {
        let (Some(ip), Some(time)) = (f.ip.as_deref(), f.time) else {
            continue;
        };
        let level = Level::parse(&f.rule.level);
        let (ip, who) = (ip_key(ip), identity(f));
        if level.is_some_and(|l| l >= Level::Medium) {
            flagged.insert((ip.clone(), who.clone()));
        }
        if level.is_none_or(|l| l < Level::High) {
            continue;
        }
        let first = seen
            .first_use(&who, &ip)
            .map_or(time.millis(), |t| t.min(time.millis()));
        let told_by = format!(
            "{} ({} in tenant {} at {})",
            f.rule.title,
            if who.is_empty() { "?" } else { &who },
            f.tenant_id.as_deref().unwrap_or("?"),
            time
        );
        let u = out.entry(ip).or_insert_with(|| IntruderUse {
            first,
            actors: Vec::new(),
            told_by: told_by.clone(),
        });
        if first < u.first {
            (u.first, u.told_by) = (first, told_by);
        }
        if !u.actors.contains(&who) {
            u.actors.push(who);
        }
    }
    let users = seen.first_users_of(out.keys().map(String::as_str));
    out.retain(|ip, u| {
        users.get(ip).is_none_or(|firsts| {
            firsts.iter().all(|(who, t)| {
                *t >= u.first
                    || u.actors.contains(who)
                    || flagged.contains(&(ip.clone(), who.clone()))
            })
        })
    });
    out
}

/// An action from an intruder's address up to this long before the intruder's first use told
/// by other evidence belongs to the same operation: an intruder's token replay, its backdoors'
/// sign-ins and its changes through a partner account land within hours of each other, and a
/// day holds them wherever the logs or the operation start. Earlier than that, the address may
/// have been someone else's then (a VPN provider's or cloud exit reused later).
const SAME_OPERATION_MS: i64 = 24 * 3_600_000;

/// Why `f` came from the intruder's infrastructure, or `None`: an identity acting from an
/// address of `intruder`, no earlier than a day before the intruder's first use
/// ([`SAME_OPERATION_MS`]), and not from an address the identity came from before the intruder
/// did.
fn attacker_address(
    f: &Finding,
    intruder: &HashMap<String, IntruderUse>,
    seen: &SeenStore,
) -> Option<String> {
    let (ip, time) = (ip_key(f.ip.as_deref()?), f.time?);
    let u = intruder.get(&ip)?;
    if time.millis() < u.first.saturating_sub(SAME_OPERATION_MS) {
        return None;
    }
    let who = identity(f);
    if seen.first_use(&who, &ip).is_some_and(|t| t < u.first) {
        return None;
    }
    Some(format!(
        "{ip} is the intruder's: {}; first used by the intruder at {}, by no other identity before",
        u.told_by,
        tw_event::Timestamp(u.first)
    ))
}

#[cfg(test)]
mod tests {
    use tw_event::{Actor, LogKind, Origin, Provenance, RuleRef, Timestamp};

    use super::*;
    use crate::newaddr::SeenObs;

    const H: i64 = 3_600_000;
    const ID: &str = "0c2d8f6a-5b1e-4e43-9a7c-1f0e2d3c4b25";
    const TENANT: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";

    fn grant(user: &str, ip: &str, time: i64, home: &str) -> Finding {
        Finding {
            rule: RuleRef {
                id: ID.into(),
                title: "High-privilege API permission granted to an application".into(),
                level: "medium".into(),
                tags: Vec::new(),
                origin: Origin::Builtin,
            },
            time: Some(Timestamp(time)),
            tenant_id: Some(TENANT.into()),
            actor: Actor {
                user: Some(user.into()),
                home_tenant_id: Some(home.into()),
                ..Default::default()
            },
            ip: Some(ip.into()),
            operation: Some("Add app role assignment to service principal".into()),
            log: LogKind::DirectoryAudit,
            evidence: vec![Provenance {
                file: "audit.json".into(),
                record: 0,
                line: 1,
            }],
            matched: Default::default(),
            merged: Default::default(),
        }
    }

    fn seen(user: &str, ip: &str, time: i64) -> SeenObs {
        SeenObs {
            user: user.into(),
            ip: ip.into(),
            tenant: TENANT.into(),
            time,
        }
    }

    fn spec() -> HashMap<String, RaiseSpec> {
        let doc = serde_json::json!({"tenantwatch":{"new_address":{
            "raise_to":"high","seen":["tw_user_signin_seen"],"learning":"72h"}}});
        let s = spec_of(&doc).ok().flatten();
        assert!(s.is_some());
        s.map(|s| (ID.to_string(), s)).into_iter().collect()
    }

    #[test]
    fn blocks_are_read_and_checked() {
        let s = spec();
        assert_eq!(s[ID].raise_to, Level::High);
        assert_eq!(s[ID].learning_ms, 72 * H);
        for bad in [
            serde_json::json!({"tenantwatch":{"new_address":{"seen":["a"]}}}),
            serde_json::json!({"tenantwatch":{"new_address":{"raise_to":"loud","seen":["a"]}}}),
            serde_json::json!({"tenantwatch":{"new_address":{"raise_to":"high"}}}),
        ] {
            assert!(spec_of(&bad).is_err(), "{bad}");
        }
        assert_eq!(spec_of(&serde_json::json!({"title":"x"})), Ok(None));
    }

    #[test]
    fn only_own_users_from_an_address_a_sign_in_shows_are_raised() {
        let mut store = SeenStore::default();
        for day in 0..4 {
            store.add(seen("adele@contoso.com", "198.51.100.23", day * 24 * H));
        }
        // The session that granted: Adele's sign-in from a new address minutes before.
        store.add(seen("adele@contoso.com", "203.0.113.77", 100 * H));
        let partner = "3d27bbd7-d31f-4cd3-88df-c33891c9e3f0";
        let mut f = vec![
            grant(
                "adele@contoso.com",
                "203.0.113.77",
                100 * H + 240_000,
                TENANT,
            ),
            grant("adele@contoso.com", "198.51.100.23", 101 * H, TENANT),
            // No sign-in of the logs comes from this address: missing data.
            grant("adele@contoso.com", "192.0.2.200", 102 * H, TENANT),
            // A partner account: rated by the partner rules.
            grant(
                "adele@contoso.com",
                "203.0.113.77",
                100 * H + 300_000,
                partner,
            ),
            // The address used by Adele for more than the learning period: routine by now.
            grant("adele@contoso.com", "203.0.113.77", 180 * H, TENANT),
        ];
        apply(&mut f, &spec(), &store, (None, None));
        let levels: Vec<&str> = f.iter().map(|x| x.rule.level.as_str()).collect();
        assert_eq!(levels, ["high", "medium", "medium", "medium", "medium"]);
        assert!(f[0].matched["(new_address)"].starts_with("203.0.113.77 never used by"));
        // At --min-level high only the raised finding stays.
        let mut g = vec![
            grant(
                "adele@contoso.com",
                "203.0.113.77",
                100 * H + 240_000,
                TENANT,
            ),
            grant("adele@contoso.com", "198.51.100.23", 101 * H, TENANT),
        ];
        apply(&mut g, &spec(), &store, (Some(Level::High), None));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].ip.as_deref(), Some("203.0.113.77"));
    }

    fn infra_spec() -> HashMap<String, RaiseSpec> {
        let doc = serde_json::json!({"tenantwatch":{"attacker_address":{
            "raise_to":"high","seen":["tw_user_signin_seen"]}}});
        let s = spec_of(&doc).ok().flatten();
        assert_eq!(
            s.as_ref().map(|s| s.trigger),
            Some(Trigger::AttackerAddress)
        );
        s.map(|s| (ID.to_string(), s)).into_iter().collect()
    }

    /// A high finding of another rule: the partner account's change from `ip` at `time`.
    fn telling(ip: &str, time: i64) -> Finding {
        let mut f = grant(
            "tech@reseller.example",
            ip,
            time,
            "3d27bbd7-0000-4cd3-88df-c33891c9e3f0",
        );
        f.rule.id = "partner-rule".into();
        f.rule.title = "Credential added by a partner account".into();
        f.rule.level = "high".into();
        f.tenant_id = Some("11111111-2222-4333-8444-555555555555".into());
        f
    }

    #[test]
    fn both_blocks_at_once_are_an_error() {
        let doc = serde_json::json!({"tenantwatch":{
            "attacker_address":{"raise_to":"high","seen":["a"]},
            "new_address":{"raise_to":"high","seen":["a"]}}});
        assert!(spec_of(&doc).is_err());
        let doc = serde_json::json!({"tenantwatch":{"attacker_address":{"seen":["a"]}}});
        assert!(spec_of(&doc).unwrap_err().contains("attacker_address"));
    }

    #[test]
    fn own_grants_from_the_intruders_addresses_are_raised_not_from_shared_or_own_ones() {
        let mut store = SeenStore::default();
        for day in 0..4 {
            store.add(seen("adele@contoso.com", "198.51.100.23", day * 24 * H));
        }
        // The partner's VPN egress: a colleague of the stolen account used it for days.
        let mut staff = seen("colleague@reseller.example", "192.0.2.10", 10 * H);
        staff.tenant = "3d27bbd7-0000-4cd3-88df-c33891c9e3f0".into();
        store.add(staff);
        // Adele's own home line, before the intruder ever came from it.
        store.add(seen("adele@contoso.com", "203.0.113.50", 50 * H));
        let partner = "3d27bbd7-d31f-4cd3-88df-c33891c9e3f0";
        let mut f = vec![
            telling("203.0.113.9", 100 * H),
            telling("192.0.2.10", 100 * H),
            telling("203.0.113.50", 100 * H),
            // A token of Adele's replayed from the intruder's address: no sign-in from there.
            grant("adele@contoso.com", "203.0.113.9", 101 * H, TENANT),
            grant("adele@contoso.com", "198.51.100.23", 101 * H, TENANT),
            grant("adele@contoso.com", "192.0.2.10", 101 * H, TENANT),
            grant("adele@contoso.com", "203.0.113.50", 101 * H, TENANT),
            // More than a day before the intruder's first use of the address.
            grant("adele@contoso.com", "203.0.113.9", 70 * H, TENANT),
            // A partner account in a record that names no tenant: from there too.
            grant("adele@contoso.com", "203.0.113.9", 101 * H, partner),
        ];
        f[8].tenant_id = None;
        apply(&mut f, &infra_spec(), &store, (None, None));
        let levels: Vec<&str> = f[3..].iter().map(|x| x.rule.level.as_str()).collect();
        assert_eq!(
            levels,
            ["high", "medium", "medium", "medium", "medium", "high"]
        );
        let why = &f[3].matched["(attacker_address)"];
        assert!(
            why.starts_with("203.0.113.9 is the intruder's: Credential added by a partner account (tech@reseller.example in tenant 11111111-"),
            "{why}"
        );
        // An hour before the evidence: the same operation (a token replayed before the
        // intruder's backdoor signs in from there).
        let mut e = vec![
            telling("203.0.113.9", 100 * H),
            grant("adele@contoso.com", "203.0.113.9", 99 * H, TENANT),
        ];
        apply(&mut e, &infra_spec(), &store, (None, None));
        assert_eq!(e[1].rule.level, "high");
        // Another stolen account came from the address first: its use is reported (medium), so
        // it is no honest history.
        let mut other = telling("203.0.113.60", 90 * H);
        (other.rule.id, other.rule.level) = ("partner-first-seen".into(), "medium".into());
        other.actor.user = Some("second@reseller.example".into());
        let mut store2 = SeenStore::default();
        let mut o = seen("second@reseller.example", "203.0.113.60", 90 * H);
        o.tenant = "3d27bbd7-0000-4cd3-88df-c33891c9e3f0".into();
        store2.add(o);
        let mut h = vec![
            other,
            telling("203.0.113.60", 100 * H),
            grant("adele@contoso.com", "203.0.113.60", 101 * H, TENANT),
        ];
        apply(&mut h, &infra_spec(), &store2, (None, None));
        assert_eq!(h[2].rule.level, "high");
        // A raised finding does not tell of the intruder in turn: no raise from its address alone.
        let mut g = vec![grant("adele@contoso.com", "203.0.113.9", 101 * H, TENANT)];
        g[0].rule.level = "high".into();
        g.push(grant("bob@contoso.com", "203.0.113.9", 102 * H, TENANT));
        apply(&mut g, &infra_spec(), &store, (None, None));
        assert_eq!(g[1].rule.level, "medium");
    }
}
