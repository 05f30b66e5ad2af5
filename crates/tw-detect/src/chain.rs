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
//!     seen: [tw_app_graph_first_seen_ip] # more records of applications at work (history only)
//!     within: 24h                     # the second step follows the first within this time
//!     learning: 72h                   # learning period from the start of a tenant's logs
//! ```
//!
//! Both steps name the application in different ways (the credential record its application
//! object, the grant its service principal, the mail read its app id): they are tied through the
//! identities the data itself shows ([`crate::appid`]), and the finding says which tie was used
//! (`matched["(tie)"]`: application id, service principal, application object or display name).
//! A chain is reported when its first step was made by a cross-tenant (partner) account, or when
//! the application then reads mail from somewhere it had not acted from before the first step
//! ([`Baseline::is_new`]: its networks — IPv4 /24, IPv6 /48 — in any tenant, after a learning
//! period), or — for a first step by the tenant's own accounts — when the application's first
//! sign-in with a key the step added comes from a network new to it although its daily routine
//! spans the learning period, and no sign-in with that key came from its known networks
//! ([`Baseline::new_signin`], `matched["(new_signin)"]`): a secret rotated by its owner is
//! deployed to the application's own hosts, which then sign in with it from where they always
//! did; an application without a routine in the logs says nothing by where it signs in. One finding per application and burst of first steps, its evidence every
//! record of both steps; the pack's single-record findings the chain holds (the credential, the
//! grant, each mail read) are folded into it, so the story reads as one finding.

use hashbrown::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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
    /// Names (or ids) of rules whose events only tell where applications act from (`seen`).
    pub seen: Vec<String>,
    /// Longest time from a first step to the second, milliseconds.
    pub within_ms: i64,
    /// Learning period from the start of a tenant's logs, milliseconds (`learning`, 72h by
    /// default): an application without history is new only after it.
    pub learning_ms: i64,
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
    let learning_ms = match c.get("learning") {
        None => 72 * 3_600_000,
        Some(v) => v
            .as_str()
            .and_then(crate::firstseen::parse_duration_ms)
            .ok_or_else(|| format!("tenantwatch.chain: bad learning {v}"))?,
    };
    Ok(Some(ChainSpec {
        given: list("given"),
        then,
        seen: list("seen"),
        within_ms,
        learning_ms,
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
    /// A record of the application at work that only tells where it acts from.
    Seen,
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
    pub tenant: Arc<String>,
    /// Identity keys of the application it is about.
    pub keys: Arc<Vec<Key>>,
    /// Client address.
    pub ip: Option<Arc<String>>,
    /// The operation.
    pub operation: Arc<String>,
    /// The record.
    pub provenance: Provenance,
    /// For a first step: the finding of its event (rule filled in when reported).
    pub finding: Option<Box<Finding>>,
    /// For a first step: made by a cross-tenant account.
    pub cross_tenant: bool,
    /// Credential key ids (lower case): for a first step those it added (`KeyIdentifier=` of the
    /// new values), for a sign-in the key it authenticated with
    /// (`servicePrincipalCredentialKeyId`).
    pub key_ids: Arc<Vec<String>>,
}

/// Observes `ev` for chain `chain` in role `role`.
pub fn observe(chain: usize, role: Role, ev: &Event, placeholder: &RuleRef) -> ChainObs {
    let c = &ev.canonical;
    ChainObs {
        chain,
        role,
        time: c.time.map(Timestamp::millis).unwrap_or(i64::MIN),
        tenant: Arc::new(c.tenant_id.clone().unwrap_or_default()),
        keys: if role == Role::Identity {
            crate::appid::defender_app_keys(ev)
        } else {
            crate::appid::identity_keys(ev)
        }
        .into(),
        ip: c.ip.clone().map(Arc::new),
        operation: Arc::new(c.operation.clone().unwrap_or_default()),
        provenance: ev.provenance.clone(),
        finding: (role == Role::Given).then(|| {
            Box::new(Finding::from_event(
                placeholder.clone(),
                ev,
                BTreeMap::new(),
            ))
        }),
        cross_tenant: ev.is_cross_tenant(),
        key_ids: match role {
            Role::Given => crate::appid::added_key_ids(ev.doc()).into(),
            Role::Then => Arc::new(crate::appid::signin_key_id(ev).into_iter().collect()),
            _ => Arc::default(),
        },
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

/// Where each application (by app id, else by its first key) acted from: networks, each with the
/// time first seen.
#[derive(Debug, Default)]
struct Seen {
    networks: HashMap<String, i64>,
}
type History = HashMap<String, Seen>;

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
    let note = |m: &mut HashMap<String, i64>, k: String, t: i64| {
        let e = m.entry(k).or_insert(t);
        *e = (*e).min(t);
    };
    // Addresses repeat across records: each one's network is worked out once.
    let mut nets: HashMap<&str, String> = HashMap::new();
    for &o in thens {
        let (Some(app), Some(ip)) = (app_handle(o), &o.ip) else {
            continue;
        };
        let net = nets
            .entry(ip.as_str())
            .or_insert_with(|| network_of(ip))
            .clone();
        let seen = h.entry(app).or_default();
        note(&mut seen.networks, net, o.time);
    }
    h
}

/// Networks an application used before a first step from which it rotates through a provider's
/// pool: a new /24 of such an application says nothing (mail reads, the step that counts, carry
/// no autonomous system to tell a new provider from the same one).
const POOL_NETWORKS: usize = 3;

/// The time a tenant's logs start and end (from every record the chain saw of it).
pub type Coverage = HashMap<Arc<String>, (i64, i64)>;

/// Widens `c` to hold the time of `o` (records without a time are left out).
pub fn cover(c: &mut Coverage, o: &ChainObs) {
    if o.time == i64::MIN {
        return;
    }
    let e = c.entry(o.tenant.clone()).or_insert((o.time, o.time));
    e.0 = e.0.min(o.time);
    e.1 = e.1.max(o.time);
}

fn coverage(obs: &[&ChainObs], more: &Coverage) -> Coverage {
    let mut c = more.clone();
    for o in obs {
        cover(&mut c, o);
    }
    c
}

/// What "new" is judged against: the applications' history, the tenants' coverage and the
/// learning period.
struct Baseline<'a> {
    history: &'a History,
    coverage: &'a Coverage,
    learning_ms: i64,
    /// (application, network) pairs a chain reported earlier in the evaluation found a new
    /// holder working from: not the application's own routine.
    intruded: HashSet<(String, String)>,
}

impl Baseline<'_> {
    /// True when `o` acts from somewhere its application had not acted from before `before` (see
    /// the module docs): a network it used before is its own; a new one is new unless the
    /// application already rotated through a pool of them. An application with no history at all is new only
    /// after the learning period from the start of the tenant's logs, or when the logs are
    /// shorter than it (there is no baseline then: the sequence alone counts).
    fn is_new(&self, o: &ChainObs, before: i64) -> bool {
        let (Some(app), Some(ip)) = (app_handle(o), &o.ip) else {
            return false;
        };
        let earlier = |m: &HashMap<String, i64>| -> Vec<String> {
            m.iter()
                .filter(|(_, t)| **t < before)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let nets = self
            .history
            .get(&app)
            .map(|s| earlier(&s.networks))
            .unwrap_or_default();
        if nets.is_empty() {
            let Some(&(start, end)) = self.coverage.get(&o.tenant) else {
                return true;
            };
            return before >= start.saturating_add(self.learning_ms)
                || end.saturating_sub(start) < self.learning_ms;
        }
        !nets.contains(&network_of(ip)) && nets.len() < POOL_NETWORKS
    }
}

impl Baseline<'_> {
    /// True when `o` (a sign-in) comes from a network its application had not acted from
    /// before `before` although its history there spans the learning period: the application
    /// acted (signed in, read mail, called Graph) for at least that long before `before` from
    /// fewer than [`POOL_NETWORKS`] networks, none of them `o`'s, and `before` is past the
    /// learning period from the start of its tenant's logs. Without such a history nothing is
    /// new: an application set up, or first seen, hours before has no routine the logs could
    /// show (its first sign-ins come from wherever its owner deploys it).
    fn new_signin(&self, o: &ChainObs, before: i64) -> bool {
        let (Some(app), Some(ip)) = (app_handle(o), &o.ip) else {
            return false;
        };
        let Some(seen) = self.history.get(&app) else {
            return false;
        };
        let nets: Vec<(&String, i64)> = seen
            .networks
            .iter()
            .filter(|(_, t)| **t < before)
            .map(|(k, t)| (k, *t))
            .collect();
        let since = nets.iter().map(|(_, t)| *t).min();
        let spans = since.is_some_and(|s| s.saturating_add(self.learning_ms) <= before);
        let tenant_learnt = self
            .coverage
            .get(&o.tenant)
            .is_some_and(|&(start, _)| before >= start.saturating_add(self.learning_ms));
        let net = network_of(ip);
        spans
            && tenant_learnt
            && nets.len() < POOL_NETWORKS
            && !nets.iter().any(|(k, _)| **k == net)
    }

    /// True when `o`'s network is one its application had not acted from before `before`
    /// (whatever the learning period: this says where it acted from first after a step, not
    /// whether that is suspicious).
    fn first_after(&self, o: &ChainObs, before: i64) -> bool {
        let (Some(app), Some(ip)) = (app_handle(o), &o.ip) else {
            return false;
        };
        self.history
            .get(&app)
            .and_then(|s| s.networks.get(&network_of(ip)))
            .is_none_or(|t| *t >= before)
    }
}

/// One day, the cycle of routine application work (nightly or hourly jobs, token renewal).
const DAY_MS: i64 = 24 * 3_600_000;

/// True when `o`'s application acted (`at_work`: sign-ins, Graph requests, mail reads) in each
/// day-long slice of the learning period before `before`: a service at work on its cycle, whose
/// hosts the logs show. Services that authenticate as applications renew their tokens at least
/// hourly while they run and run their jobs at least daily; an application seen on two days
/// out of five has no routine the logs could show, and where it signs in from next says
/// nothing. Records from a network an earlier chain found a new holder of the application
/// working from are the intruder's, not the application's routine.
fn daily_routine(o: &ChainObs, before: i64, base: &Baseline<'_>, at_work: &[&ChainObs]) -> bool {
    let Some(app) = app_handle(o) else {
        return false;
    };
    let learning_ms = base.learning_ms;
    let own = |w: &ChainObs| {
        w.ip.as_deref()
            .is_none_or(|ip| !base.intruded.contains(&(app.clone(), network_of(ip))))
    };
    let slices = usize::try_from((learning_ms / DAY_MS).max(1)).unwrap_or(1);
    let from = before.saturating_sub(learning_ms);
    let mut days = vec![false; slices];
    for w in at_work
        .iter()
        .filter(|w| w.time >= from && w.time < before && w.tenant == o.tenant)
    {
        let slice = usize::try_from((before - 1 - w.time) / DAY_MS).unwrap_or(usize::MAX);
        if slice < slices
            && !days[slice]
            && app_handle(w).as_deref() == Some(app.as_str())
            && own(w)
        {
            days[slice] = true;
        }
    }
    days.iter().all(|d| *d)
}

/// True for an operation that reads mail: MailItemsAccessed, a Graph request for messages or
/// mail folders.
fn reads_mail(op: &str) -> bool {
    let op = op.to_ascii_lowercase();
    op == "mailitemsaccessed" || op.contains("/messages") || op.contains("/mailfolders")
}

/// One chain found: its first steps, second steps and the tie.
struct Found<'a> {
    given: Vec<&'a ChainObs>,
    then: Vec<&'a ChainObs>,
    tie: KeyKind,
    new_networks: BTreeSet<String>,
    /// The address of the application's first sign-in from a network new to it, when that
    /// alone completes the chain (a first step by the tenant's own accounts, no new mail read).
    new_signin: Option<Arc<String>>,
}

/// Evaluates chain `chain`'s observations (of every chain; the others are skipped) and returns
/// its findings, built with `rule`.
pub fn evaluate(
    chain: usize,
    spec: &ChainSpec,
    (obs, more): (&[ChainObs], &Coverage),
    rule: &RuleRef,
) -> Vec<Finding> {
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
    let seen: Vec<&ChainObs> = obs
        .iter()
        .filter(|o| o.chain == chain && matches!(o.role, Role::Then | Role::Seen))
        .collect();
    let hist = history(&seen);
    let mine: Vec<&ChainObs> = obs.iter().filter(|o| o.chain == chain).collect();
    let cov = coverage(&mine, more);
    let mut base = Baseline {
        history: &hist,
        coverage: &cov,
        learning_ms: spec.learning_ms,
        intruded: HashSet::new(),
    };
    // A chain's steps are of one tenant: each burst looks at its tenant's records only.
    let (then_by, work_by) = (by_tenant(&thens), by_tenant(&seen));
    let mut used = vec![false; given.len()];
    let mut out = Vec::new();
    for i in 0..given.len() {
        if used[i] {
            continue;
        }
        let group = burst_of(i, &given, &mut used, &mut resolver, spec.within_ms);
        let tenant = given[i].tenant.as_str();
        let ts: &[&ChainObs] = then_by.get(tenant).map_or(&[], Vec::as_slice);
        let ws: &[&ChainObs] = work_by.get(tenant).map_or(&[], Vec::as_slice);
        if let Some(f) = found(group, (ts, ws), &mut resolver, &base, spec.within_ms) {
            for t in &f.then {
                let net = t.ip.as_deref().map(|ip| network_of(ip));
                if let (Some(app), Some(net)) = (app_handle(t), net)
                    && f.new_networks.contains(&net)
                {
                    base.intruded.insert((app, net));
                }
            }
            out.push(finding(&f, rule, &mut resolver));
        }
    }
    out
}

/// `obs` per tenant, each tenant's in the order of `obs`.
fn by_tenant<'a>(obs: &[&'a ChainObs]) -> HashMap<&'a str, Vec<&'a ChainObs>> {
    let mut out: HashMap<&str, Vec<&ChainObs>> = HashMap::new();
    for &o in obs {
        out.entry(o.tenant.as_str()).or_default().push(o);
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

/// The second steps tied to a burst of first steps, if the chain is to be reported: those within
/// `within` of the burst, and at any later time the sign-ins with a credential key the burst
/// added; then, once reported, every later record of the application at work (`at_work`: second
/// steps and `seen` records) from a network it first acted from after the burst ([`held_on`]).
fn found<'a>(
    group: Vec<&'a ChainObs>,
    (thens, at_work): (&[&'a ChainObs], &[&'a ChainObs]),
    r: &mut AppResolver,
    base: &Baseline<'_>,
    within: i64,
) -> Option<Found<'a>> {
    let start = group.first()?.time;
    let end = group.last()?.time.saturating_add(within);
    let partner = group.iter().any(|g| g.cross_tenant);
    let added: BTreeSet<&str> = group
        .iter()
        .flat_map(|g| g.key_ids.iter().map(String::as_str))
        .collect();
    let mut tie: Option<KeyKind> = None;
    let mut then = Vec::new();
    let mut new_networks = BTreeSet::new();
    let mut fresh = BTreeSet::new();
    let mut new_mail = false;
    // For a first step by the tenant's own accounts: the application's first sign-in from a
    // network new to it (the address), when its history shows a routine to compare with.
    let mut new_signin: Option<&Arc<String>> = None;
    // Whether a sign-in with a key the step added came from a network the application used
    // before the step: its owner's deployment holds the key (a rotation), not a new holder.
    let mut key_at_home = false;
    // `thens` is in time order: the window, and after it only when a key was added.
    let from = thens.partition_point(|t| t.time < start);
    let to = if added.is_empty() {
        thens.partition_point(|t| t.time <= end)
    } else {
        thens.len()
    };
    for t in thens.get(from..to).unwrap_or_default() {
        let with_key = t.key_ids.iter().any(|k| added.contains(k.as_str()));
        if t.tenant != group[0].tenant || (t.time > end && !with_key) {
            continue;
        }
        let Some(k) = group.iter().find_map(|g| r.tie(&g.keys, &t.keys)) else {
            continue;
        };
        tie = Some(tie.map_or(k, |old| if old == KeyKind::Name { k } else { old }));
        if base.first_after(t, start)
            && let Some(ip) = &t.ip
        {
            fresh.insert(network_of(ip));
        }
        if base.is_new(t, start)
            && let Some(ip) = &t.ip
        {
            new_networks.insert(network_of(ip));
            new_mail |= reads_mail(&t.operation);
        }
        if with_key && !reads_mail(&t.operation) {
            key_at_home |= !base.first_after(t, start);
            if !partner
                && new_signin.is_none()
                && base.new_signin(t, start)
                && daily_routine(t, start, base, at_work)
            {
                new_signin = t.ip.as_ref();
            }
        }
        then.push(*t);
    }
    let tie = tie?;
    let new_signin = new_signin.filter(|_| !key_at_home);
    if !(partner || new_mail || new_signin.is_some()) {
        return None;
    }
    // Said only where the sign-in alone completes the chain.
    let new_signin = new_signin.filter(|_| !(partner || new_mail)).cloned();
    held_on(&group, at_work, &fresh, r, &mut then);
    Some(Found {
        given: group,
        then,
        tie,
        new_networks,
        new_signin,
    })
}

/// Adds to `then` the application's records at work (`at_work`), at or after the burst's first
/// step, from a network (`fresh`) it first acted from after the step, in a second step of the
/// chain: whoever was given the credential or the permission works from there, and every request
/// it made from there (a directory listing, a mail read, a sign-in) belongs to the chain, for as
/// long as the logs run.
fn held_on<'a>(
    group: &[&'a ChainObs],
    at_work: &[&'a ChainObs],
    fresh: &BTreeSet<String>,
    r: &mut AppResolver,
    then: &mut Vec<&'a ChainObs>,
) {
    let (Some(first), true) = (group.first(), !fresh.is_empty()) else {
        return;
    };
    let held: BTreeSet<&Provenance> = then.iter().map(|t| &t.provenance).collect();
    let mut more = Vec::new();
    for t in at_work
        .iter()
        .filter(|t| t.time >= first.time && t.tenant == first.tenant)
    {
        let from_new =
            t.ip.as_ref()
                .is_some_and(|ip| fresh.contains(&network_of(ip)));
        if from_new
            && !held.contains(&t.provenance)
            && group.iter().any(|g| r.tie(&g.keys, &t.keys).is_some())
        {
            more.push(*t);
        }
    }
    then.extend(more);
    then.sort_by(|a, b| (a.time, &a.provenance).cmp(&(b.time, &b.provenance)));
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
            merged: Default::default(),
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
        out.ip = t.ip.as_deref().cloned().or(out.ip);
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
    if let Some(ip) = &f.new_signin {
        m.insert(
            "(new_signin)".into(),
            format!("first sign-in of the application from {ip}, a network new to it"),
        );
    }
    if !f.new_networks.is_empty() {
        let nets: Vec<&str> = f.new_networks.iter().map(String::as_str).collect();
        m.insert("(new_network)".into(), nets.join("; "));
    }
    out
}

/// The strings, key sets and key ids of the observations kept until the end of a run, each held
/// once: hundreds of thousands of second steps name a few thousand applications, tenants,
/// operations and addresses.
#[derive(Debug, Default)]
pub struct Pool {
    strs: HashSet<Arc<String>>,
    keys: HashSet<Arc<Vec<Key>>>,
    ids: HashSet<Arc<Vec<String>>>,
}

fn share<T: Eq + std::hash::Hash>(set: &mut HashSet<Arc<T>>, v: &mut Arc<T>) {
    match set.get(&**v) {
        Some(s) => *v = s.clone(),
        None => {
            set.insert(v.clone());
        }
    }
}

impl Pool {
    /// Makes `o` point at the pool's copies of its strings, keys and key ids.
    pub fn share(&mut self, o: &mut ChainObs) {
        share(&mut self.strs, &mut o.tenant);
        share(&mut self.strs, &mut o.operation);
        if let Some(ip) = &mut o.ip {
            share(&mut self.strs, ip);
        }
        share(&mut self.keys, &mut o.keys);
        share(&mut self.ids, &mut o.key_ids);
    }
}

/// Removes from `findings` the single-record findings of the built-in pack, in a chain's tenant,
/// whose record the chain holds (they are the chain's parts: the credential, the grant, each mail
/// read). Findings over several records (correlations, first-seen values) stay.
pub fn fold_parts(findings: &mut Vec<Finding>, chains: &[Finding]) {
    let sets: Vec<(Option<&str>, BTreeSet<&Provenance>)> = chains
        .iter()
        .map(|c| (c.tenant_id.as_deref(), c.evidence.iter().collect()))
        .collect();
    findings.retain(|f| {
        f.rule.origin != tw_event::Origin::Builtin
            || f.evidence.len() != 1
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
