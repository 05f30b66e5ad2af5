//! The blast-radius engine: two streaming passes over the logs.
//!
//! Pass 1 keeps, per identity and per address, only compact facts ([`Facts`]); the pivots are
//! then decided in memory by the linking rule ([`LINKING_RULE`]); pass 2 collects every record
//! tied to the final indicator set, per tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use serde_json::Value;
use tw_event::{Event, Provenance, Timestamp};
use tw_ingest::{IngestOptions, IngestReport, ingest};

use crate::facts;
use crate::model::{
    BlastResult, Coverage, EvidenceRow, FindingSeed, ObjectChange, Pivot, Seed, SeedMatch, Status,
    TenantBlast,
};

/// The linking rule, as reported in every result and documented in `docs/blast.md`.
pub const LINKING_RULE: &str = "An identity is compromised when it is a seed, the actor of a seed finding, \
a user seen at an attacker address, or an application that signed in with a credential a compromised \
identity added from an attacker address (or that received a credential, permission or role from it there). \
An address is attacker infrastructure when it is a seed, the address of a seed finding, an address a \
seeded or address-linked user used that at most `max_shared` other (not compromised) identities used, \
or the address an application signed in from with an attacker-added credential (same sharing test); \
a partner (cross-tenant) user's address is followed only where that user worked outside its home tenant. \
Shared addresses are reported as not followed. Expansion stops at `depth` steps from the seeds and \
after `max_pivots` pivots (reported as truncated). A record is malicious when it comes from attacker \
infrastructure, signs in with an attacker-added credential, or is evidence of a seed finding; a tenant \
is affected only when it holds a malicious record. Access alone (the compromised identity or any \
identity of the partner's tenant working in a tenant) makes a tenant `access_no_activity`.";

/// Options of the analysis.
#[derive(Debug, Clone)]
pub struct BlastOptions {
    /// How logs are read.
    pub ingest: IngestOptions,
    /// Expansion steps from the seeds.
    pub depth: u32,
    /// Most pivots taken; beyond, the result is marked truncated.
    pub max_pivots: usize,
    /// An address used by more than this many other identities is shared infrastructure.
    pub max_shared: usize,
    /// Most evidence records kept (all are counted).
    pub max_evidence: usize,
}

impl Default for BlastOptions {
    fn default() -> Self {
        BlastOptions {
            ingest: IngestOptions::default(),
            depth: 3,
            max_pivots: 1000,
            max_shared: 0,
            max_evidence: 2_000_000,
        }
    }
}

/// Distinct identities remembered per address; beyond, the address is shared in any case.
const IP_IDENTITY_CAP: usize = 64;

/// A change that handed an application power.
#[derive(Debug, Clone)]
struct Grant {
    tenant: String,
    actor: String,
    ip: Option<String>,
    time: Option<Timestamp>,
    op: String,
    key_ids: Vec<String>,
    target_ids: Vec<String>,
}

/// What pass 1 extracts from one event.
#[derive(Debug, Default)]
struct Fact {
    tenant: Option<String>,
    file: std::sync::Arc<str>,
    ident: Option<String>,
    actors: Vec<String>,
    ip: Option<String>,
    home: Option<String>,
    grant: Option<Grant>,
    signin_key: Option<String>,
    sp_pair: Option<(String, String)>,
    user_pair: Option<(String, String)>,
    target_users: Vec<(String, String)>,
}

/// Pass 1 aggregates: bounded by identities and addresses, not by events.
#[derive(Debug, Default)]
struct Facts {
    ident_ips: HashMap<String, HashMap<String, u64>>,
    ip_idents: HashMap<String, HashSet<String>>,
    ip_crowded: HashSet<String>,
    ip_records: HashMap<String, u64>,
    ident_tenants: HashMap<String, BTreeMap<String, u64>>,
    ident_home: HashMap<String, String>,
    /// (identity, address) pairs seen outside the identity's home tenant.
    ident_ip_cross: HashSet<(String, String)>,
    actor_records: HashMap<String, u64>,
    grants: Vec<Grant>,
    key_signins: HashMap<String, HashMap<(String, String), u64>>,
    sp_to_app: HashMap<String, String>,
    user_ids: HashMap<String, String>,
    tenant_records: HashMap<String, u64>,
    /// Records per tenant and file.
    tenant_files: HashMap<(String, std::sync::Arc<str>), u64>,
}

/// The longest common prefix of two paths, cut at a separator.
fn common_dir(a: &str, b: &str) -> String {
    if let Some(rest) = b.strip_prefix(a)
        && (rest.is_empty() || rest.starts_with(['/', '\\', '!']))
    {
        return a.to_string();
    }
    let mut end = 0;
    for ((i, x), y) in a.char_indices().zip(b.chars()) {
        if x != y {
            break;
        }
        if x == '/' || x == '\\' || x == '!' {
            end = i;
        }
    }
    a[..end].to_string()
}

/// Per tenant, a label from the folder shared by the files where it holds most records.
fn tenant_labels(f: &Facts) -> HashMap<String, String> {
    let mut best: HashMap<&str, (&str, u64)> = HashMap::new();
    for ((t, file), n) in &f.tenant_files {
        let e = best.entry(file.as_ref()).or_insert((t.as_str(), 0));
        if *n > e.1 || (*n == e.1 && t.as_str() < e.0) {
            *e = (t.as_str(), *n);
        }
    }
    let mut prefix: BTreeMap<&str, String> = BTreeMap::new();
    let mut files: Vec<(&str, &str)> = best.iter().map(|(file, (t, _))| (*t, *file)).collect();
    files.sort();
    for (t, file) in files {
        let dir = match file.rfind(['/', '\\', '!']) {
            Some(i) => &file[..i],
            None => "",
        };
        match prefix.get_mut(t) {
            Some(p) => *p = common_dir(p, file),
            None => {
                prefix.insert(t, dir.to_string());
            }
        }
    }
    prefix
        .into_iter()
        .map(|(t, p)| (t.to_string(), label(&p)))
        .collect()
}

/// A readable tenant label from the folder its files share.
fn label(prefix: &str) -> String {
    prefix
        .rsplit(['/', '\\', '!'])
        .find(|c| !c.is_empty())
        .unwrap_or("")
        .trim_end_matches(".zip")
        .to_string()
}

fn norm_ip(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

fn extract(ev: &Event) -> Fact {
    let c = &ev.canonical;
    let op = facts::op_lower(ev);
    let ident = facts::identity(ev);
    let ip = c.ip.as_deref().filter(|s| !s.is_empty()).map(norm_ip);
    let tenant = c.tenant_id.as_deref().map(str::to_ascii_lowercase);
    let grant = match (&ident, &tenant) {
        (Some(a), Some(t)) if facts::is_grant(&op) && !facts::failed(ev) => Some(Grant {
            tenant: t.clone(),
            actor: a.clone(),
            ip: ip.clone(),
            time: c.time,
            op: c.operation.clone().unwrap_or_default(),
            key_ids: facts::added_key_ids(ev.doc()),
            target_ids: facts::target_ids(ev),
        }),
        _ => None,
    };
    let sp_pair = match (&c.service_principal_id, &c.app_id) {
        (Some(sp), Some(app)) if !sp.is_empty() && !app.is_empty() => {
            Some((sp.to_ascii_lowercase(), app.to_ascii_lowercase()))
        }
        _ => None,
    };
    Fact {
        tenant,
        file: ev.provenance.file.clone(),
        actors: facts::actor_keys(ev),
        ip,
        home: c.home_tenant_id.as_deref().map(str::to_ascii_lowercase),
        grant,
        signin_key: facts::signin_key(ev),
        sp_pair,
        user_pair: facts::user_id_pair(ev),
        target_users: if matches!(
            ev.kind,
            tw_event::LogKind::DirectoryAudit | tw_event::LogKind::Ual
        ) {
            facts::target_user_pairs(ev)
        } else {
            Vec::new()
        },
        ident,
    }
}

impl Facts {
    fn add(&mut self, f: Fact) {
        if let Some(t) = &f.tenant {
            *self.tenant_records.entry(t.clone()).or_default() += 1;
            *self
                .tenant_files
                .entry((t.clone(), f.file.clone()))
                .or_default() += 1;
        }
        for a in &f.actors {
            *self.actor_records.entry(a.clone()).or_default() += 1;
        }
        if let Some(ip) = &f.ip {
            *self.ip_records.entry(ip.clone()).or_default() += 1;
        }
        if let Some(id) = &f.ident {
            if let Some(ip) = &f.ip {
                *self
                    .ident_ips
                    .entry(id.clone())
                    .or_default()
                    .entry(ip.clone())
                    .or_default() += 1;
                if !self.ip_crowded.contains(ip) {
                    let set = self.ip_idents.entry(ip.clone()).or_default();
                    if set.len() < IP_IDENTITY_CAP {
                        set.insert(id.clone());
                    } else if !set.contains(id) {
                        self.ip_crowded.insert(ip.clone());
                    }
                }
            }
            if let Some(t) = &f.tenant {
                *self
                    .ident_tenants
                    .entry(id.clone())
                    .or_default()
                    .entry(t.clone())
                    .or_default() += 1;
                if let Some(h) = &f.home
                    && h != t
                    && id.starts_with("user:")
                {
                    if !self.ident_home.contains_key(id) {
                        self.ident_home.insert(id.clone(), h.clone());
                    }
                    if let Some(ip) = &f.ip
                        && !self.ident_ip_cross.contains(&(id.clone(), ip.clone()))
                    {
                        self.ident_ip_cross.insert((id.clone(), ip.clone()));
                    }
                }
            }
            if let (Some(k), Some(ip)) = (&f.signin_key, &f.ip) {
                *self
                    .key_signins
                    .entry(k.clone())
                    .or_default()
                    .entry((id.clone(), ip.clone()))
                    .or_default() += 1;
            }
        }
        if let Some(g) = f.grant {
            self.grants.push(g);
        }
        if let Some((sp, app)) = f.sp_pair {
            self.sp_to_app.entry(sp).or_insert(app);
        }
        for (id, upn) in f.user_pair.into_iter().chain(f.target_users) {
            self.user_ids.entry(id).or_insert(upn);
        }
    }
}

/// Parses findings written by `tenantwatch hunt --format jsonl`; returns the findings and the
/// line numbers of lines that are not findings.
pub fn parse_findings_jsonl(text: &str) -> (Vec<FindingSeed>, Vec<usize>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            bad.push(n + 1);
            continue;
        };
        let s = |p: &[&str]| {
            let mut x = &v;
            for k in p {
                x = x.get(*k)?;
            }
            x.as_str().map(str::to_string)
        };
        let evidence: Vec<(String, u64)> = v
            .get("evidence")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        Some((
                            e.get("file")?.as_str()?.to_string(),
                            e.get("record")?.as_u64()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if v.get("rule").is_none() {
            bad.push(n + 1);
            continue;
        }
        out.push(FindingSeed {
            title: s(&["rule", "title"]).unwrap_or_default(),
            level: s(&["rule", "level"]).unwrap_or_default(),
            tags: v
                .get("rule")
                .and_then(|r| r.get("tags"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            user: s(&["actor", "user"]),
            app_id: s(&["actor", "app_id"]),
            ip: s(&["ip"]),
            evidence,
        });
    }
    (out, bad)
}

/// The indicator set after expansion.
#[derive(Debug, Default)]
struct Indicators {
    /// Compromised identities: depth, and whether their addresses are expanded.
    idents: BTreeMap<String, (u32, bool)>,
    /// Attacker infrastructure: address → depth.
    ips: BTreeMap<String, u32>,
    /// Attacker-added credential key ids.
    keys: BTreeMap<String, u32>,
    /// Evidence records of seed findings: (file, record) → finding title and tags.
    finding_records: HashMap<(String, u64), (String, Vec<String>)>,
    /// Home tenants whose identities' access is tracked.
    partner_homes: BTreeSet<String>,
}

struct Expander<'a> {
    f: &'a Facts,
    o: &'a BlastOptions,
    ind: Indicators,
    pivots: Vec<Pivot>,
    not_followed: Vec<Pivot>,
    truncated: bool,
    dropped: u64,
}

impl Expander<'_> {
    fn budget(&mut self) -> bool {
        if self.pivots.len() >= self.o.max_pivots {
            self.truncated = true;
            self.dropped += 1;
            return false;
        }
        true
    }

    fn add_ident(
        &mut self,
        id: &str,
        depth: u32,
        expand: bool,
        from: Option<&str>,
        reason: String,
    ) -> bool {
        if self.ind.idents.contains_key(id) || !self.budget() {
            return false;
        }
        self.ind.idents.insert(id.to_string(), (depth, expand));
        self.pivots.push(Pivot {
            depth,
            kind: "identity".into(),
            indicator: id.to_string(),
            from: from.map(str::to_string),
            reason,
        });
        true
    }

    fn add_ip(&mut self, ip: &str, depth: u32, from: Option<&str>, reason: String) -> bool {
        if self.ind.ips.contains_key(ip) || !self.budget() {
            return false;
        }
        self.ind.ips.insert(ip.to_string(), depth);
        self.pivots.push(Pivot {
            depth,
            kind: "ip".into(),
            indicator: ip.to_string(),
            from: from.map(str::to_string),
            reason,
        });
        true
    }

    /// Other identities at an address that are not compromised; `None` when crowded.
    fn others_at(&self, ip: &str) -> Option<Vec<&String>> {
        if self.f.ip_crowded.contains(ip) {
            return None;
        }
        Some(
            self.f
                .ip_idents
                .get(ip)
                .map(|s| {
                    let mut v: Vec<&String> = s
                        .iter()
                        .filter(|i| !self.ind.idents.contains_key(*i))
                        .collect();
                    v.sort();
                    v
                })
                .unwrap_or_default(),
        )
    }

    fn not_followed(&mut self, depth: u32, kind: &str, ind: &str, from: &str, reason: String) {
        if self.not_followed.len() < self.o.max_pivots {
            self.not_followed.push(Pivot {
                depth,
                kind: kind.into(),
                indicator: ind.to_string(),
                from: Some(from.to_string()),
                reason,
            });
        } else {
            self.truncated = true;
        }
    }

    fn shared_test(&self, ip: &str) -> Result<(), String> {
        match self.others_at(ip) {
            None => Err(format!(
                "shared infrastructure: more than {IP_IDENTITY_CAP} identities use it"
            )),
            Some(v) if v.len() > self.o.max_shared => Err(format!(
                "shared infrastructure: {} other identities use it (e.g. {})",
                v.len(),
                v.iter()
                    .take(3)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(_) => Ok(()),
        }
    }

    fn run(&mut self) {
        let mut done_idents: HashSet<String> = HashSet::new();
        let mut done_ips: HashSet<String> = HashSet::new();
        let mut done_grants: HashSet<usize> = HashSet::new();
        loop {
            let mut changed = false;
            // Identities → their addresses.
            let idents: Vec<(String, u32, bool)> = self
                .ind
                .idents
                .iter()
                .filter(|(k, _)| !done_idents.contains(*k))
                .map(|(k, (d, e))| (k.clone(), *d, *e))
                .collect();
            for (id, d, expand) in idents {
                done_idents.insert(id.clone());
                if !expand {
                    continue;
                }
                let mut ips: Vec<(&String, &u64)> = self
                    .f
                    .ident_ips
                    .get(&id)
                    .map(|m| m.iter().collect())
                    .unwrap_or_default();
                ips.sort();
                for (ip, n) in ips {
                    if self.ind.ips.contains_key(ip) {
                        continue;
                    }
                    if d >= self.o.depth {
                        self.not_followed(d + 1, "ip", ip, &id, "depth limit reached".into());
                        continue;
                    }
                    if let Some(home) = self.f.ident_home.get(&id)
                        && !self.f.ident_ip_cross.contains(&(id.clone(), ip.clone()))
                    {
                        self.not_followed(
                            d + 1,
                            "ip",
                            ip,
                            &id,
                            format!(
                                "used by this partner identity only in its home tenant {home}; a partner identity's addresses are followed where it worked in other tenants"
                            ),
                        );
                        continue;
                    }
                    match self.shared_test(ip) {
                        Ok(()) => {
                            changed |= self.add_ip(
                                ip,
                                d + 1,
                                Some(&id),
                                format!(
                                    "used by {id} ({n} records) and by no other identity that is not compromised"
                                ),
                            );
                        }
                        Err(why) => self.not_followed(d + 1, "ip", ip, &id, why),
                    }
                }
            }
            // Addresses → users seen there.
            let ips: Vec<(String, u32)> = self
                .ind
                .ips
                .iter()
                .filter(|(k, _)| !done_ips.contains(*k))
                .map(|(k, d)| (k.clone(), *d))
                .collect();
            for (ip, d) in ips {
                done_ips.insert(ip.clone());
                let mut who: Vec<String> = self
                    .f
                    .ip_idents
                    .get(&ip)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                who.sort();
                if self.f.ip_crowded.contains(&ip) {
                    self.not_followed(
                        d + 1,
                        "identity",
                        &format!("identities at {ip}"),
                        &ip,
                        format!(
                            "more than {IP_IDENTITY_CAP} identities use this address: none followed"
                        ),
                    );
                    continue;
                }
                for id in who {
                    if self.ind.idents.contains_key(&id) {
                        continue;
                    }
                    if d >= self.o.depth {
                        self.not_followed(
                            d + 1,
                            "identity",
                            &id,
                            &ip,
                            "depth limit reached".into(),
                        );
                        continue;
                    }
                    let expand = id.starts_with("user:");
                    changed |= self.add_ident(
                        &id,
                        d + 1,
                        expand,
                        Some(&ip),
                        format!("acted from attacker address {ip}"),
                    );
                }
            }
            // Grants by compromised identities from attacker infrastructure → applications.
            let mut key_ips: Vec<(String, String, u64, String, u32)> = Vec::new();
            for (gi, g) in self.f.grants.iter().enumerate() {
                if done_grants.contains(&gi) {
                    continue;
                }
                let Some((d, _)) = self.ind.idents.get(&g.actor).copied() else {
                    continue;
                };
                let Some(ip) = g.ip.as_ref().filter(|ip| self.ind.ips.contains_key(*ip)) else {
                    continue;
                };
                done_grants.insert(gi);
                let when = g.time.map(|t| t.to_string()).unwrap_or_default();
                let d = d.max(self.ind.ips.get(ip).copied().unwrap_or(0));
                if d >= self.o.depth {
                    self.not_followed(
                        d + 1,
                        "credential",
                        &g.op,
                        &g.actor,
                        "depth limit reached".into(),
                    );
                    continue;
                }
                for k in &g.key_ids {
                    if self.ind.keys.contains_key(k) || !self.budget() {
                        continue;
                    }
                    self.ind.keys.insert(k.clone(), d + 1);
                    self.pivots.push(Pivot {
                        depth: d + 1,
                        kind: "credential".into(),
                        indicator: k.clone(),
                        from: Some(g.actor.clone()),
                        reason: format!(
                            "credential added by {} from attacker address {ip} ({}, tenant {}, {when})",
                            g.actor, g.op, g.tenant
                        ),
                    });
                    changed = true;
                    let mut users: Vec<(&(String, String), &u64)> = self
                        .f
                        .key_signins
                        .get(k)
                        .map(|m| m.iter().collect())
                        .unwrap_or_default();
                    users.sort();
                    for ((app, sip), n) in users {
                        changed |= self.add_ident(
                            app,
                            d + 1,
                            false,
                            Some(k),
                            format!("signed in with credential {k} added by {}", g.actor),
                        );
                        key_ips.push((sip.clone(), app.clone(), *n, k.clone(), d + 1));
                    }
                }
                for t in &g.target_ids {
                    let app = self.f.sp_to_app.get(t).cloned().or_else(|| {
                        self.f
                            .actor_records
                            .contains_key(&format!("app:{t}"))
                            .then(|| t.clone())
                    });
                    if let Some(app) = app {
                        let id = format!("app:{app}");
                        if id != g.actor {
                            changed |= self.add_ident(
                                &id,
                                d + 1,
                                false,
                                Some(&g.actor),
                                format!(
                                    "received {} from {} at attacker address {ip} (tenant {}, {when}); its activity counts from attacker addresses or attacker-added credentials only",
                                    g.op, g.actor, g.tenant
                                ),
                            );
                        }
                    }
                }
            }
            // Addresses of attacker-credential sign-ins, once every such application is known.
            for (sip, app, n, k, d) in key_ips {
                if self.ind.ips.contains_key(&sip) {
                    continue;
                }
                match self.shared_test(&sip) {
                    Ok(()) => {
                        changed |= self.add_ip(
                            &sip,
                            d,
                            Some(&app),
                            format!(
                                "{app} signed in from it {n} times with attacker-added credential {k}"
                            ),
                        );
                    }
                    Err(why) => self.not_followed(d, "ip", &sip, &app, why),
                }
            }
            if !changed {
                break;
            }
        }
    }
}

#[derive(Debug, Default)]
struct TenantAgg {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    actors: BTreeSet<String>,
    ips: BTreeSet<String>,
    techniques: BTreeSet<String>,
    mailboxes: BTreeSet<String>,
    objects: BTreeSet<ObjectChange>,
    records: u64,
}

/// Runs the blast-radius analysis over `paths` from `seeds`.
pub fn blast(paths: &[PathBuf], seeds: &[Seed], opts: &BlastOptions) -> BlastResult {
    // Pass 1: facts.
    let mut f = Facts::default();
    let report = ingest(
        paths,
        &opts.ingest,
        |ev, out| out.push(extract(ev)),
        |fact| f.add(fact),
    );
    let mut result = BlastResult {
        linking_rule: LINKING_RULE.to_string(),
        records_read: report.totals.read,
        ..Default::default()
    };

    // Seeds.
    let mut ex = Expander {
        f: &f,
        o: opts,
        ind: Indicators::default(),
        pivots: Vec::new(),
        not_followed: Vec::new(),
        truncated: false,
        dropped: 0,
    };
    let mut finding_ips: Vec<(String, String)> = Vec::new();
    for s in seeds {
        let value = s.value();
        let (records, note) = match s {
            Seed::Actor(u) => {
                let id = format!("user:{}", u.trim().to_ascii_lowercase());
                let n = f.actor_records.get(&id).copied().unwrap_or(0);
                ex.add_ident(&id, 0, true, None, "seed (--actor)".into());
                (n, None)
            }
            Seed::App(a) => {
                let a = a.trim().to_ascii_lowercase();
                let app = f.sp_to_app.get(&a).cloned().unwrap_or(a);
                let id = format!("app:{app}");
                let n = f.actor_records.get(&id).copied().unwrap_or(0);
                ex.add_ident(&id, 0, true, None, "seed (--app)".into());
                (n, None)
            }
            Seed::Ip(ip) => {
                let ip = norm_ip(ip);
                let n = f.ip_records.get(&ip).copied().unwrap_or(0);
                ex.add_ip(&ip, 0, None, "seed (--ip)".into());
                (n, None)
            }
            Seed::PartnerTenant(t) => {
                let t = t.trim().to_ascii_lowercase();
                ex.ind.partner_homes.insert(t.clone());
                let n = f.ident_home.values().filter(|h| **h == t).count() as u64
                    + f.tenant_records.get(&t).copied().unwrap_or(0);
                ex.pivots.push(Pivot {
                    depth: 0,
                    kind: "tenant".into(),
                    indicator: t.clone(),
                    from: None,
                    reason: "seed (--partner-tenant): access by its identities to other tenants is tracked; its identities are not presumed malicious".into(),
                });
                (n, None)
            }
            Seed::Findings(list) => {
                let mut n = 0;
                for fs in list {
                    for (file, rec) in &fs.evidence {
                        ex.ind
                            .finding_records
                            .insert((file.clone(), *rec), (fs.title.clone(), fs.tags.clone()));
                        n += 1;
                    }
                    let why = format!("actor of finding {:?} ({})", fs.title, fs.level);
                    if let Some(u) = &fs.user {
                        ex.add_ident(
                            &format!("user:{}", u.to_ascii_lowercase()),
                            0,
                            false,
                            None,
                            why.clone(),
                        );
                    }
                    if let Some(a) = &fs.app_id {
                        ex.add_ident(
                            &format!("app:{}", a.to_ascii_lowercase()),
                            0,
                            false,
                            None,
                            why.clone(),
                        );
                    }
                    if let Some(ip) = &fs.ip {
                        finding_ips.push((norm_ip(ip), fs.title.clone()));
                    }
                }
                let note = list
                    .is_empty()
                    .then(|| "the findings file holds no finding".to_string());
                (n, note)
            }
        };
        let note = note.or_else(|| {
            (records == 0).then(|| {
                format!(
                    "{} {value} matches nothing in the {} records read",
                    s.kind(),
                    report.totals.read
                )
            })
        });
        if let Some(n) = &note {
            result.notes.push(n.clone());
        }
        result.seeds.push(SeedMatch {
            kind: s.kind().into(),
            value,
            records,
            note,
        });
    }
    // Addresses of findings pass the sharing test once every finding's actor is known.
    for (ip, title) in finding_ips {
        if ex.ind.ips.contains_key(&ip) {
            continue;
        }
        match ex.shared_test(&ip) {
            Ok(()) => {
                ex.add_ip(&ip, 0, None, format!("address of finding {title:?}"));
            }
            Err(why) => ex.not_followed(0, "ip", &ip, &format!("finding {title:?}"), why),
        }
    }
    ex.run();
    // Home tenants of compromised cross-tenant users: the partner.
    let homes: Vec<String> = ex
        .ind
        .idents
        .keys()
        .filter_map(|id| f.ident_home.get(id).cloned())
        .collect();
    ex.ind.partner_homes.extend(homes);
    if ex.truncated {
        result.truncated = true;
        result.notes.push(format!(
            "pivots bounded at --max-pivots {}: {} further expansions not taken; raise the bound to follow them",
            opts.max_pivots, ex.dropped
        ));
    }
    result.pivots = std::mem::take(&mut ex.pivots);
    result.not_followed = std::mem::take(&mut ex.not_followed);
    let ind = ex.ind;

    // Pass 2: evidence.
    let mut aggs: BTreeMap<String, TenantAgg> = BTreeMap::new();
    let mut evidence = Vec::new();
    let mut evidence_dropped = 0u64;
    let ind_ref = &ind;
    let _ = ingest(
        paths,
        &opts.ingest,
        |ev, out| {
            if let Some(row) = evidence_of(ev, ind_ref) {
                out.push(row);
            }
        },
        |(row, mailbox, object): (EvidenceRow, Option<String>, Option<ObjectChange>)| {
            let a = aggs.entry(row.tenant_id.clone()).or_default();
            if let Some(t) = row.time {
                a.first = Some(a.first.map_or(t, |x| x.min(t)));
                a.last = Some(a.last.map_or(t, |x| x.max(t)));
            }
            a.actors.insert(row.actor.clone());
            if let Some(ip) = &row.ip {
                a.ips.insert(ip.clone());
            }
            a.techniques.insert(row.technique.clone());
            if let Some(m) = mailbox {
                a.mailboxes.insert(m);
            }
            if let Some(o) = object {
                a.objects.insert(o);
            }
            a.records += 1;
            if evidence.len() < opts.max_evidence {
                evidence.push(row);
            } else {
                evidence_dropped += 1;
            }
        },
    );
    if evidence_dropped > 0 {
        result.truncated = true;
        result.notes.push(format!(
            "evidence bounded at {} records: {evidence_dropped} more malicious records are counted but not listed",
            opts.max_evidence
        ));
    }
    result.evidence = evidence;
    result.tenants = tenants(&f, &ind, &report, aggs);
    result
}

type Pass2 = (EvidenceRow, Option<String>, Option<ObjectChange>);

fn evidence_of(ev: &Event, ind: &Indicators) -> Option<Pass2> {
    let c = &ev.canonical;
    let ip = c.ip.as_deref().filter(|s| !s.is_empty()).map(norm_ip);
    let mut reason = None;
    let mut extra_technique: Vec<String> = Vec::new();
    if let Some(ip) = &ip
        && ind.ips.contains_key(ip)
    {
        reason = Some(format!("from attacker address {ip}"));
    }
    if reason.is_none()
        && let Some(k) = facts::signin_key(ev)
        && ind.keys.contains_key(&k)
    {
        reason = Some(format!("signed in with attacker-added credential {k}"));
    }
    if !ind.finding_records.is_empty() {
        let key = (ev.provenance.file.to_string(), ev.provenance.record);
        if let Some((title, tags)) = ind.finding_records.get(&key) {
            if reason.is_none() {
                reason = Some(format!("evidence of finding {title:?}"));
            }
            extra_technique.extend(tags.iter().filter(|t| t.starts_with("attack.t")).cloned());
        }
    }
    let reason = reason?;
    let tenant = c.tenant_id.as_deref()?.to_ascii_lowercase();
    let op = facts::op_lower(ev);
    let technique = facts::technique(ev, &op);
    let actor = facts::identity(ev).unwrap_or_else(|| "unknown".into());
    let mailbox = facts::mailbox_read(ev, &op);
    let object = facts::object_changed(ev, &op, technique).map(|(kind, name)| ObjectChange {
        kind,
        name,
        operation: c.operation.clone().unwrap_or_default(),
    });
    let detail = mailbox
        .clone()
        .map(|m| format!("mailbox {m}"))
        .or_else(|| object.as_ref().map(|o| format!("{}: {}", o.kind, o.name)));
    let mut technique = technique.to_string();
    for t in extra_technique {
        technique.push(' ');
        technique.push_str(&t);
    }
    Some((
        EvidenceRow {
            tenant_id: tenant,
            time: c.time,
            log: ev.kind.as_str().to_string(),
            actor,
            ip,
            operation: c.operation.clone().unwrap_or_default(),
            technique,
            reason,
            user_agent: c.user_agent.clone(),
            detail,
            provenance: Provenance {
                file: ev.provenance.file.clone(),
                record: ev.provenance.record,
                line: ev.provenance.line,
            },
        },
        mailbox,
        object,
    ))
}

fn tenants(
    f: &Facts,
    ind: &Indicators,
    report: &IngestReport,
    mut aggs: BTreeMap<String, TenantAgg>,
) -> Vec<TenantBlast> {
    // Names from the data (or the map; folders last): tw_ingest::tenant_names.
    let mut names = tenant_labels(f);
    for (t, n) in tw_ingest::tenant_names(report) {
        names.insert(t, n.name);
    }
    let mut cov: BTreeMap<String, Coverage> = BTreeMap::new();
    for r in &report.coverage {
        let c = cov.entry(r.tenant_id.to_ascii_lowercase()).or_default();
        if let Some(t) = r.first {
            c.first = Some(c.first.map_or(t, |x| x.min(t)));
        }
        if let Some(t) = r.last {
            c.last = Some(c.last.map_or(t, |x| x.max(t)));
        }
        c.log_kinds.push(r.log_kind.as_str().to_string());
        c.records += r.records;
        c.gaps += r.gaps.len() as u64;
    }
    // Access: compromised users anywhere; identities of partner home tenants across tenants.
    let mut access: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (id, tenants) in &f.ident_tenants {
        let compromised_user = id.starts_with("user:") && ind.idents.contains_key(id);
        let partner = f
            .ident_home
            .get(id)
            .is_some_and(|h| ind.partner_homes.contains(h));
        if !(compromised_user || partner) {
            continue;
        }
        for (t, n) in tenants {
            if ind.partner_homes.contains(t) && !compromised_user {
                continue;
            }
            *access
                .entry(t.clone())
                .or_default()
                .entry(id.clone())
                .or_default() += n;
        }
    }
    let mut all: BTreeSet<String> = cov.keys().cloned().collect();
    all.extend(f.tenant_records.keys().cloned());
    all.extend(aggs.keys().cloned());
    let user_ids = &f.user_ids;
    let mut out: Vec<TenantBlast> = all
        .into_iter()
        .map(|t| {
            let a = aggs.remove(&t).unwrap_or_default();
            let acc = access.remove(&t).unwrap_or_default();
            let status = if a.records > 0 {
                Status::Affected
            } else if !acc.is_empty() {
                Status::AccessNoActivity
            } else {
                Status::NotReached
            };
            let mut mailboxes = BTreeSet::new();
            let mut ids = BTreeSet::new();
            for m in a.mailboxes {
                match m.strip_prefix("id:") {
                    Some(id) => match user_ids.get(&id.to_ascii_lowercase()) {
                        Some(upn) => {
                            mailboxes.insert(upn.clone());
                        }
                        None => {
                            ids.insert(id.to_string());
                        }
                    },
                    None => {
                        mailboxes.insert(m);
                    }
                }
            }
            TenantBlast {
                name: names.get(&t).cloned().unwrap_or_default(),
                role: if ind.partner_homes.contains(&t) {
                    "partner".into()
                } else {
                    "customer".into()
                },
                status,
                first: a.first,
                last: a.last,
                actors: a.actors.into_iter().collect(),
                ips: a.ips.into_iter().collect(),
                techniques: a.techniques.into_iter().collect(),
                mailboxes_read: mailboxes.into_iter().collect(),
                mailbox_ids_read: ids.into_iter().collect(),
                objects_changed: a.objects.into_iter().collect(),
                evidence_records: a.records,
                access: acc,
                coverage: cov.get(&t).cloned().unwrap_or_default(),
                tenant_id: t,
            }
        })
        .collect();
    out.sort_by(|x, y| (x.status, x.first, &x.tenant_id).cmp(&(y.status, y.first, &y.tenant_id)));
    out
}
