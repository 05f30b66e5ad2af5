//! `tenantwatch.new_address`: severity from context for a single-record rule (a documented
//! tenantwatch extension, no change to the Sigma language). The rule's findings keep its level,
//! except those of a tenant's own user acting from an address new for that user, which are
//! raised to `raise_to`:
//!
//! ```yaml
//! tenantwatch:
//!   new_address:
//!     raise_to: high     # the level of a finding from an address new for its user
//!     seen: [<rule id>]  # rules whose records tell where users act from (sign-ins)
//!     learning: 72h      # learning period from the start of a tenant's logs
//! ```
//!
//! "New" is [`crate::newaddr`]'s test (the user's own history in the logs spans the learning
//! period, never from that address or its network, no colleague of the tenant used it before,
//! past the tenant's learning period), judged when the user first came from the address — the
//! sign-in of the session that acted, minutes before the action — and that less than the
//! learning period before the action; with one more condition: the address is one
//! some sign-in of the logs comes from (anyone's, any tenant's, any time). An administrative
//! change from an address that signs in nowhere in the logs shows the logs do not hold the
//! session that made it (an export of sign-ins that misses it, a portal session older than the
//! export); that is missing data, not evidence of new infrastructure. Cross-tenant (partner)
//! actors are left alone: the pack's partner rules rate them already.

use std::collections::HashMap;

use serde_json::Value;
use tw_event::Finding;
use tw_sigma::Level;

use crate::newaddr::SeenStore;

/// One rule's `new_address` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaiseSpec {
    /// The level a finding from an address new for its user is raised to.
    pub raise_to: Level,
    /// Rules whose records tell where users act from.
    pub seen: Vec<String>,
    /// Learning period from the start of a tenant's logs, milliseconds.
    pub learning_ms: i64,
}

/// Reads the `tenantwatch.new_address` block of a rule document: `Ok(None)` when absent.
pub fn spec_of(doc: &Value) -> Result<Option<RaiseSpec>, String> {
    const WHAT: &str = "tenantwatch.new_address";
    let Some(b) = doc.get("tenantwatch").and_then(|t| t.get("new_address")) else {
        return Ok(None);
    };
    let raise_to = match b.get("raise_to").and_then(Value::as_str) {
        Some(l) => Level::parse(l).ok_or_else(|| format!("{WHAT}: unknown level {l:?}"))?,
        None => return Err(format!("{WHAT}: `raise_to` (a level) is required")),
    };
    let seen = crate::newaddr::names(b, "seen", WHAT)?;
    if seen.is_empty() {
        return Err(format!(
            "{WHAT}: `seen` (rules telling where users act from) is required"
        ));
    }
    Ok(Some(RaiseSpec {
        raise_to,
        seen,
        learning_ms: crate::newaddr::learning(b, WHAT)?,
    }))
}

/// Why the finding's address is new for its actor (see the module docs), or `None`.
fn new_address(f: &Finding, seen: &SeenStore, learning_ms: i64) -> Option<String> {
    let tenant = f.tenant_id.as_deref()?.to_ascii_lowercase();
    let own = f
        .actor
        .home_tenant_id
        .as_deref()
        .is_none_or(|h| h.eq_ignore_ascii_case(&tenant));
    let (user, ip, time) = (f.actor.user.as_deref()?, f.ip.as_deref()?, f.time?);
    if !own || !seen.signed_in_from(ip) {
        return None;
    }
    seen.new_since_first_use(user, ip, &tenant, time.millis(), learning_ms)
}

/// Raises the findings of the rules of `specs` (by rule id) that came from an address new for
/// their user, saying why in `matched["(new_address)"]`; then drops those still below `min`
/// (their rules were collected at the level they may be raised to).
pub fn apply(
    findings: &mut Vec<Finding>,
    specs: &HashMap<String, RaiseSpec>,
    seen: &SeenStore,
    (min, learning): (Option<Level>, Option<i64>),
) {
    if specs.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        let Some(spec) = specs.get(&f.rule.id) else {
            continue;
        };
        let below = Level::parse(&f.rule.level).is_none_or(|l| l < spec.raise_to);
        if !below {
            continue;
        }
        if let Some(why) = new_address(f, seen, learning.unwrap_or(spec.learning_ms)) {
            f.rule.level = spec.raise_to.as_str().to_string();
            f.matched.insert("(new_address)".into(), why);
        }
    }
    if let Some(m) = min {
        findings.retain(|f| {
            !specs.contains_key(&f.rule.id) || Level::parse(&f.rule.level).is_some_and(|l| l >= m)
        });
    }
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
}
