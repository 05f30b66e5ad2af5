//! `tenantwatch.chain`: a documented tenantwatch extension to a Sigma detection rule (no change to
//! the Sigma language). The rule's matches, and those of the rules named in `given`, are the first
//! step of a chain — a credential or a permission given to an application; matches of the rules
//! named in `then` are the second — that application reading mail or signing in:
//!
//! ```yaml
//! tenantwatch:
//!   chain:
//!     given: [tw_app_given_ual_seq]   # more first-step rules (not reported on their own)
//!     then: [tw_mail_items_accessed_by_app, tw_graph_app_mail_read, tw_sp_signin]
//!     within: 24h                     # the second step follows the first within this time
//! ```
//!
//! Both steps name the application in different ways (the credential record its application
//! object, the grant its service principal, the mail read its app id): they are tied through the
//! identities the data itself shows ([`crate::appid`]), and the finding says which tie was used
//! (`matched["(tie)"]`: application id, service principal, application object or display name).
//! A chain is reported when its first step was made by a cross-tenant (partner) account, or when
//! the application then acts from a network (IPv4 /24, IPv6 /48) it had not acted from before the
//! first step, in any tenant: a secret rotated by its owner, then used from the application's usual
//! host, is not a chain. One finding per application and burst of first steps, its evidence every
//! record of both steps; the pack's findings whose evidence the chain holds entirely are folded
//! into it, so the story reads as one finding.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use tw_event::{Event, Finding, Provenance, RuleRef, Timestamp};

use crate::appid::{AppResolver, Key, KeyKind};

/// One chain rule's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSpec {
    /// Names (or ids) of more first-step rules.
    pub given: Vec<String>,
    /// Names (or ids) of second-step rules.
    pub then: Vec<String>,
    /// Longest time from a first step to the second, milliseconds.
    pub within_ms: i64,
}

/// Reads the `tenantwatch.chain` block of a rule document: `Ok(None)` when absent.
pub fn spec_of(doc: &Value) -> Result<Option<ChainSpec>, String> {
    let Some(c) = doc.get("tenantwatch").and_then(|t| t.get("chain")) else {
        return Ok(None);
    };
    let list = |k: &str| -> Vec<String> {
        match c.get(k) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let then = list("then");
    if then.is_empty() {
        return Err("tenantwatch.chain: `then` (second-step rules) is required".into());
    }
    let within_ms = match c.get("within") {
        None => 24 * 3_600_000,
        Some(v) => v
            .as_str()
            .and_then(crate::firstseen::parse_duration_ms)
            .ok_or_else(|| format!("tenantwatch.chain: bad within {v}"))?,
    };
    Ok(Some(ChainSpec {
        given: list("given"),
        then,
        within_ms,
    }))
}

/// Which step of a chain an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A credential or permission given.
    Given,
    /// The application at work.
    Then,
    /// A record that only says which identities are one application.
    Identity,
}

/// One event of a chain, as observed on a worker thread.
#[derive(Debug, Clone)]
pub struct ChainObs {
    /// Index of the chain.
    pub chain: usize,
    /// Its step.
    pub role: Role,
    /// Event time (ms).
    pub time: i64,
    /// The tenant (empty when unknown).
    pub tenant: String,
    /// Identity keys of the application it is about.
    pub keys: Vec<Key>,
    /// Client address.
    pub ip: Option<String>,
    /// The operation.
    pub operation: String,
    /// The record.
    pub provenance: Provenance,
    /// For a first step: the finding of its event (rule filled in when reported).
    pub finding: Option<Box<Finding>>,
    /// For a first step: made by a cross-tenant account.
    pub cross_tenant: bool,
}

/// Observes `ev` for chain `chain` in role `role`.
pub fn observe(chain: usize, role: Role, ev: &Event, placeholder: &RuleRef) -> ChainObs {
    let c = &ev.canonical;
    ChainObs {
        chain,
        role,
        time: c.time.map(Timestamp::millis).unwrap_or(i64::MIN),
        tenant: c.tenant_id.clone().unwrap_or_default(),
        keys: if role == Role::Identity {
            crate::appid::defender_app_keys(ev)
        } else {
            crate::appid::identity_keys(ev)
        },
        ip: c.ip.clone(),
        operation: c.operation.clone().unwrap_or_default(),
        provenance: ev.provenance.clone(),
        finding: (role == Role::Given).then(|| {
            Box::new(Finding::from_event(
                placeholder.clone(),
                ev,
                BTreeMap::new(),
            ))
        }),
        cross_tenant: ev.is_cross_tenant(),
    }
}

/// The network an address belongs to: IPv4 /24, IPv6 /48 (how cloud providers hand out egress
/// addresses: a service's pool sits in a few such blocks); the address itself otherwise.
pub fn network_of(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Ok(std::net::IpAddr::V6(a)) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        Err(_) => ip.to_ascii_lowercase(),
    }
}

/// Where each application (by app id, else by its first key) acted from, and when first.
type History = HashMap<String, HashMap<String, i64>>;

fn app_handle(o: &ChainObs) -> Option<String> {
    o.keys
        .iter()
        .find(|k| k.1 == KeyKind::AppId)
        .or_else(|| o.keys.first())
        .map(|k| {
            if k.1 == KeyKind::AppId {
                k.2.clone()
            } else {
                format!("{}|{:?}|{}", k.0, k.1, k.2)
            }
        })
}

fn history(thens: &[&ChainObs]) -> History {
    let mut h: History = HashMap::new();
    for o in thens {
        let (Some(app), Some(ip)) = (app_handle(o), &o.ip) else {
            continue;
        };
        let t = h
            .entry(app)
            .or_default()
            .entry(network_of(ip))
            .or_insert(o.time);
        *t = (*t).min(o.time);
    }
    h
}

/// True when `o` acts from a network its application had not acted from before `before`.
fn from_new_network(o: &ChainObs, h: &History, before: i64) -> bool {
    let (Some(app), Some(ip)) = (app_handle(o), &o.ip) else {
        return false;
    };
    h.get(&app)
        .and_then(|nets| nets.get(&network_of(ip)))
        .is_none_or(|first| *first >= before)
}

/// One chain found: its first steps, second steps and the tie.
struct Found<'a> {
    given: Vec<&'a ChainObs>,
    then: Vec<&'a ChainObs>,
    tie: KeyKind,
    new_networks: BTreeSet<String>,
}

/// Evaluates chain `chain`'s observations (of every chain; the others are skipped) and returns
/// its findings, built with `rule`.
pub fn evaluate(chain: usize, spec: &ChainSpec, obs: &[ChainObs], rule: &RuleRef) -> Vec<Finding> {
    let mut resolver = AppResolver::default();
    for o in obs.iter().filter(|o| o.chain == chain) {
        resolver.learn(&o.keys);
    }
    let mut given: Vec<&ChainObs> = obs
        .iter()
        .filter(|o| o.chain == chain && o.role == Role::Given && !o.keys.is_empty())
        .collect();
    given.sort_by(|a, b| (a.time, &a.provenance).cmp(&(b.time, &b.provenance)));
    let mut thens: Vec<&ChainObs> = obs
        .iter()
        .filter(|o| o.chain == chain && o.role == Role::Then)
        .collect();
    thens.sort_by(|a, b| (a.time, &a.provenance).cmp(&(b.time, &b.provenance)));
    let hist = history(&thens);
    let mut used = vec![false; given.len()];
    let mut out = Vec::new();
    for i in 0..given.len() {
        if used[i] {
            continue;
        }
        let group = burst_of(i, &given, &mut used, &mut resolver, spec.within_ms);
        if let Some(f) = found(group, &thens, &mut resolver, &hist, spec.within_ms) {
            out.push(finding(&f, rule, &mut resolver));
        }
    }
    out
}

/// The first steps on the application of `given[i]` within `within` of each other.
fn burst_of<'a>(
    i: usize,
    given: &[&'a ChainObs],
    used: &mut [bool],
    r: &mut AppResolver,
    within: i64,
) -> Vec<&'a ChainObs> {
    let mut group = vec![given[i]];
    used[i] = true;
    for j in i + 1..given.len() {
        let last = group.last().map_or(i64::MIN, |g| g.time);
        if given[j].time > last.saturating_add(within) {
            break;
        }
        if !used[j]
            && given[j].tenant == given[i].tenant
            && r.tie(&given[i].keys, &given[j].keys).is_some()
        {
            used[j] = true;
            group.push(given[j]);
        }
    }
    group
}

/// The second steps tied to a burst of first steps, if the chain is to be reported.
fn found<'a>(
    group: Vec<&'a ChainObs>,
    thens: &[&'a ChainObs],
    r: &mut AppResolver,
    hist: &History,
    within: i64,
) -> Option<Found<'a>> {
    let start = group.first()?.time;
    let end = group.last()?.time.saturating_add(within);
    let partner = group.iter().any(|g| g.cross_tenant);
    let mut tie: Option<KeyKind> = None;
    let mut then = Vec::new();
    let mut new_networks = BTreeSet::new();
    for t in thens.iter().filter(|t| t.time >= start && t.time <= end) {
        if t.tenant != group[0].tenant {
            continue;
        }
        let Some(k) = group.iter().find_map(|g| r.tie(&g.keys, &t.keys)) else {
            continue;
        };
        tie = Some(tie.map_or(k, |old| if old == KeyKind::Name { k } else { old }));
        if from_new_network(t, hist, start)
            && let Some(ip) = &t.ip
        {
            new_networks.insert(network_of(ip));
        }
        then.push(*t);
    }
    let tie = tie?;
    (partner || !new_networks.is_empty()).then_some(Found {
        given: group,
        then,
        tie,
        new_networks,
    })
}

fn finding(f: &Found<'_>, rule: &RuleRef, r: &mut AppResolver) -> Finding {
    let lead = f.given[0];
    let mut out = match &lead.finding {
        Some(x) => Finding::clone(x),
        None => Finding {
            rule: rule.clone(),
            time: None,
            tenant_id: None,
            actor: Default::default(),
            ip: None,
            operation: None,
            log: tw_event::LogKind::Other,
            evidence: Vec::new(),
            matched: BTreeMap::new(),
        },
    };
    out.rule = rule.clone();
    // The first second step from a new network (else the first) completes the chain.
    let done = f
        .then
        .iter()
        .find(|t| {
            t.ip.as_ref()
                .is_some_and(|ip| f.new_networks.contains(&network_of(ip)))
        })
        .or(f.then.first());
    if let Some(t) = done {
        out.time = Some(Timestamp(t.time));
        out.ip = t.ip.clone().or(out.ip);
        let app = t.keys.iter().find(|k| k.1 == KeyKind::AppId);
        out.actor.app_id = app.map(|k| k.2.clone()).or(out.actor.app_id);
        out.operation = Some(format!("{} → {}", lead.operation, t.operation));
    }
    let mut ev: Vec<Provenance> = f.given.iter().map(|g| g.provenance.clone()).collect();
    ev.extend(f.then.iter().map(|t| t.provenance.clone()));
    let mut seen = BTreeSet::new();
    ev.retain(|p| seen.insert(p.clone()));
    out.evidence = ev;
    let m = &mut out.matched;
    m.clear();
    m.insert("(tie)".into(), f.tie.tie_name().into());
    let given_ops: BTreeSet<&str> = f.given.iter().map(|g| g.operation.as_str()).collect();
    let then_ops: BTreeSet<&str> = f.then.iter().map(|t| t.operation.as_str()).collect();
    m.insert(
        "(given)".into(),
        given_ops.into_iter().collect::<Vec<_>>().join("; "),
    );
    m.insert(
        "(then)".into(),
        then_ops.into_iter().collect::<Vec<_>>().join("; "),
    );
    m.insert("(then_records)".into(), f.then.len().to_string());
    let names: BTreeSet<String> = f
        .given
        .iter()
        .flat_map(|g| g.keys.iter())
        .filter(|k| k.1 == KeyKind::Name)
        .map(|k| k.2.clone())
        .collect();
    if !names.is_empty() {
        m.insert(
            "(application)".into(),
            names.into_iter().collect::<Vec<_>>().join("; "),
        );
    }
    let ids = r.app_ids(&f.given[0].keys);
    if !ids.is_empty() {
        m.insert("(app_id)".into(), ids.join("; "));
    }
    if f.given.iter().any(|g| g.cross_tenant) {
        m.insert("(given_by)".into(), "cross-tenant account".into());
    }
    if !f.new_networks.is_empty() {
        let nets: Vec<&str> = f.new_networks.iter().map(String::as_str).collect();
        m.insert("(new_network)".into(), nets.join("; "));
    }
    out
}

/// Removes from `findings` those of the built-in pack, in a chain's tenant, whose evidence the
/// chain holds entirely (they are the chain's parts).
pub fn fold_parts(findings: &mut Vec<Finding>, chains: &[Finding]) {
    let sets: Vec<(Option<&str>, BTreeSet<&Provenance>)> = chains
        .iter()
        .map(|c| (c.tenant_id.as_deref(), c.evidence.iter().collect()))
        .collect();
    findings.retain(|f| {
        f.rule.origin != tw_event::Origin::Builtin
            || f.evidence.is_empty()
            || !sets.iter().any(|(t, s)| {
                *t == f.tenant_id.as_deref() && f.evidence.iter().all(|p| s.contains(p))
            })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(network_of("20.190.128.17"), "20.190.128.0/24");
        assert_eq!(network_of("2603:1036:301:2::7"), "2603:1036:301::/48");
        assert_eq!(network_of("not an address"), "not an address");
    }

    #[test]
    fn spec() {
        let doc = serde_json::json!({"tenantwatch":{"chain":{"then":["a"],"within":"2h"}}});
        let s = spec_of(&doc).ok().flatten();
        assert_eq!(s.map(|s| s.within_ms), Some(7_200_000));
        let bad = serde_json::json!({"tenantwatch":{"chain":{"given":["a"]}}});
        assert!(spec_of(&bad).is_err());
    }
}
