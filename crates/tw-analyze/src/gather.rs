//! Pass 1 of blast: the compact facts kept per identity and per address — which identity used
//! which address, when it first did, where each identity's history starts, the changes that
//! handed an application power, application sign-ins and the credential they used. Memory grows
//! with identities, addresses and such changes, never with events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use tw_event::{Event, Timestamp};

use crate::facts;

/// Distinct identities remembered per address; beyond, the address is shared in any case.
pub const IP_IDENTITY_CAP: usize = 64;

/// Adds one to the count of `key` (the key is copied only when new).
fn bump(map: &mut HashMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// Keeps the earliest time of `key` (the key is copied only when new).
fn lower(map: &mut HashMap<String, i64>, key: &str, t: i64) {
    match map.get_mut(key) {
        Some(first) => *first = (*first).min(t),
        None => {
            map.insert(key.to_string(), t);
        }
    }
}

/// A time unknown (a record without one): later than every real time.
pub const NO_TIME: i64 = i64::MAX;

/// A change that handed an application power.
#[derive(Debug, Clone)]
pub struct Grant {
    pub tenant: String,
    pub actor: String,
    pub ip: Option<String>,
    pub time: Option<Timestamp>,
    pub op: String,
    pub key_ids: Vec<String>,
    pub target_ids: Vec<String>,
}

impl Grant {
    /// Milliseconds, or [`NO_TIME`].
    pub fn millis(&self) -> i64 {
        self.time.map_or(NO_TIME, |t| t.millis())
    }
}

/// One identity's use of one address.
#[derive(Debug, Clone, Copy)]
pub struct Use {
    /// Records.
    pub n: u64,
    /// First record, in milliseconds ([`NO_TIME`] when no record had a time).
    pub first: i64,
}

/// What pass 1 extracts from one event.
#[derive(Debug, Default)]
pub struct Fact {
    tenant: Option<String>,
    file: Arc<str>,
    record: u64,
    time: Option<i64>,
    ident: Option<String>,
    actors: Vec<String>,
    ip: Option<String>,
    home: Option<String>,
    grant: Option<Grant>,
    signin_key: Option<String>,
    sp_pair: Option<(String, String)>,
    user_pair: Option<(String, String)>,
    target_users: Vec<(String, String)>,
    /// The record reaches beyond its actor's own work (see [`intrusive`]).
    intrusive: bool,
}

/// Pass 1 aggregates: bounded by identities and addresses, not by events.
#[derive(Debug, Default)]
pub struct Facts {
    pub ident_ips: HashMap<String, HashMap<String, Use>>,
    /// Per address, the identities seen there and when each first was (bounded).
    pub ip_idents: HashMap<String, HashMap<String, i64>>,
    pub ip_crowded: HashSet<String>,
    pub ip_records: HashMap<String, u64>,
    pub ident_tenants: HashMap<String, BTreeMap<String, u64>>,
    pub ident_home: HashMap<String, String>,
    /// First record of each identity (the start of its history in the logs).
    pub ident_first: HashMap<String, i64>,
    /// First record of all the logs.
    pub coverage_start: Option<i64>,
    /// First record of each tenant's logs.
    pub tenant_first: HashMap<String, i64>,
    /// The tenant of each identity's first record.
    pub ident_first_tenant: HashMap<String, String>,
    /// (identity, address) pairs seen outside the identity's home tenant.
    pub ident_ip_cross: HashSet<(String, String)>,
    pub actor_records: HashMap<String, u64>,
    pub grants: Vec<Grant>,
    pub key_signins: HashMap<String, HashMap<(String, String), u64>>,
    pub sp_to_app: HashMap<String, String>,
    pub user_ids: HashMap<String, String>,
    pub tenant_records: HashMap<String, u64>,
    /// Records per tenant and file.
    pub tenant_files: HashMap<(String, Arc<str>), u64>,
    /// The acting identity of each evidence record of a seed finding.
    pub finding_actors: HashMap<(String, u64), String>,
    /// The tenants each identity worked in from each address.
    pub ident_ip_tenants: HashMap<(String, String), BTreeSet<String>>,
    /// (identity, address) pairs with a record that reaches beyond the identity's own work.
    pub ident_ip_intrusive: HashSet<(String, String)>,
    /// First record of each identity in each tenant.
    pub ident_tenant_first: HashMap<(String, String), i64>,
}

/// Whether a record reaches beyond its actor's own work: a change handing power (credentials,
/// permissions, roles, federation), a mailbox rule, forwarding or permission, a directory
/// listing, or a read (or failed read) of a mailbox that is not the actor's own. A person's
/// routine from a new connection (a home line, a hotel) is signing in and working on their own
/// mail and files.
pub fn intrusive(ev: &Event, op: &str, ident: Option<&str>) -> bool {
    match facts::technique(ev, op) {
        "credential_added"
        | "permission_granted"
        | "role_added"
        | "federation_modified"
        | "mailbox_rule_or_forwarding"
        | "mailbox_permission"
        | "directory_enumeration"
        | "mail_access_failed" => true,
        "mail_read" => {
            // A read whose mailbox the record does not name (Graph `/me/messages`) is the
            // actor's own.
            let own = ident.and_then(|i| i.strip_prefix("user:"));
            facts::mailbox_read(ev, op)
                .is_some_and(|m| own.is_none_or(|o| !m.eq_ignore_ascii_case(o)))
        }
        _ => false,
    }
}

/// An address as compared: trimmed, lowercase.
pub fn norm_ip(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// The facts of one event (they do not depend on the seeds).
pub fn extract(ev: &Event) -> Fact {
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
    let directory = matches!(
        ev.kind,
        tw_event::LogKind::DirectoryAudit | tw_event::LogKind::Ual
    );
    Fact {
        tenant,
        file: ev.provenance.file.clone(),
        record: ev.provenance.record,
        time: c.time.map(|t| t.millis()),
        actors: facts::actor_keys(ev),
        ip,
        home: c.home_tenant_id.as_deref().map(str::to_ascii_lowercase),
        grant,
        signin_key: facts::signin_key(ev),
        sp_pair,
        user_pair: facts::user_id_pair(ev),
        target_users: if directory {
            facts::target_user_pairs(ev)
        } else {
            Vec::new()
        },
        intrusive: intrusive(ev, &op, ident.as_deref()),
        ident,
    }
}

impl Fact {
    /// The input the record was read from, as provenance names it.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// The record's index in its input.
    pub fn record(&self) -> u64 {
        self.record
    }

    /// The record's time in milliseconds.
    pub fn time(&self) -> Option<i64> {
        self.time
    }

    /// The acting identity.
    pub fn ident(&self) -> Option<&str> {
        self.ident.as_deref()
    }

    /// The address, as compared.
    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    /// The credential key id an application signed in with.
    pub fn signin_key(&self) -> Option<&str> {
        self.signin_key.as_deref()
    }
}

impl Facts {
    /// Adds the facts of one event.
    pub fn add(&mut self, f: Fact) {
        if let Some(t) = &f.tenant {
            bump(&mut self.tenant_records, t);
            *self
                .tenant_files
                .entry((t.clone(), f.file.clone()))
                .or_default() += 1;
        }
        if let Some(t) = f.time {
            self.coverage_start = Some(self.coverage_start.map_or(t, |c| c.min(t)));
            if let Some(tenant) = &f.tenant {
                lower(&mut self.tenant_first, tenant, t);
            }
        }
        for a in &f.actors {
            bump(&mut self.actor_records, a);
        }
        if let Some(ip) = &f.ip {
            bump(&mut self.ip_records, ip);
        }
        if let Some(id) = &f.ident {
            self.add_identity(id, &f);
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

    fn add_identity(&mut self, id: &str, f: &Fact) {
        let t = f.time.unwrap_or(NO_TIME);
        if !self.ident_first.contains_key(id) {
            self.ident_first.insert(id.to_string(), NO_TIME);
        }
        let first = self.ident_first.get(id).copied().unwrap_or(NO_TIME);
        if t < first || (t == first && !self.ident_first_tenant.contains_key(id)) {
            lower(&mut self.ident_first, id, t);
            if let Some(tenant) = &f.tenant {
                self.ident_first_tenant
                    .insert(id.to_string(), tenant.clone());
            }
        }
        if let Some(ip) = &f.ip {
            self.add_use(id, ip, t);
            self.add_reach(id, ip, f);
        }
        if let Some(tenant) = &f.tenant {
            let first = self
                .ident_tenant_first
                .entry((id.to_string(), tenant.clone()))
                .or_insert(t);
            *first = (*first).min(t);
            match self.ident_tenants.get_mut(id) {
                Some(m) => match m.get_mut(tenant.as_str()) {
                    Some(n) => *n += 1,
                    None => {
                        m.insert(tenant.clone(), 1);
                    }
                },
                None => {
                    let m = BTreeMap::from([(tenant.clone(), 1)]);
                    self.ident_tenants.insert(id.to_string(), m);
                }
            }
            if let Some(h) = &f.home
                && h != tenant
                && id.starts_with("user:")
            {
                if !self.ident_home.contains_key(id) {
                    self.ident_home.insert(id.to_string(), h.clone());
                }
                if let Some(ip) = &f.ip {
                    let pair = (id.to_string(), ip.clone());
                    if !self.ident_ip_cross.contains(&pair) {
                        self.ident_ip_cross.insert(pair);
                    }
                }
            }
        }
        if let (Some(k), Some(ip)) = (&f.signin_key, &f.ip) {
            *self
                .key_signins
                .entry(k.clone())
                .or_default()
                .entry((id.to_string(), ip.clone()))
                .or_default() += 1;
        }
    }

    /// What `id` did from `ip`: the tenants, and whether anything reached beyond its own work.
    fn add_reach(&mut self, id: &str, ip: &str, f: &Fact) {
        let pair = (id.to_string(), ip.to_string());
        if f.intrusive && !self.ident_ip_intrusive.contains(&pair) {
            self.ident_ip_intrusive.insert(pair.clone());
        }
        if let Some(tenant) = &f.tenant {
            let set = self.ident_ip_tenants.entry(pair).or_default();
            if !set.contains(tenant) {
                set.insert(tenant.clone());
            }
        }
    }

    fn add_use(&mut self, id: &str, ip: &str, t: i64) {
        if !self.ident_ips.contains_key(id) {
            self.ident_ips.insert(id.to_string(), HashMap::new());
        }
        if let Some(uses) = self.ident_ips.get_mut(id) {
            match uses.get_mut(ip) {
                Some(u) => {
                    u.n += 1;
                    u.first = u.first.min(t);
                }
                None => {
                    uses.insert(ip.to_string(), Use { n: 1, first: t });
                }
            }
        }
        if self.ip_crowded.contains(ip) {
            return;
        }
        if !self.ip_idents.contains_key(ip) {
            self.ip_idents.insert(ip.to_string(), HashMap::new());
        }
        let Some(set) = self.ip_idents.get_mut(ip) else {
            return;
        };
        let full = set.len() >= IP_IDENTITY_CAP;
        match set.get_mut(id) {
            Some(first) => *first = (*first).min(t),
            None if !full => {
                set.insert(id.to_string(), t);
            }
            None => {
                self.ip_crowded.insert(ip.to_string());
            }
        }
    }

    /// When `id` first used `ip` ([`NO_TIME`] when never or unknown).
    pub fn first_use(&self, id: &str, ip: &str) -> i64 {
        self.ident_ips
            .get(id)
            .and_then(|m| m.get(ip))
            .map_or(NO_TIME, |u| u.first)
    }
}
