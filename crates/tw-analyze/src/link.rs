//! The linking rule of blast: from the seeds, which identities are compromised, which addresses
//! are the attacker's and which credentials it added — decided by time and history, every step
//! a [`Pivot`] that says why, every refusal a `not_followed` entry.
//!
//! An address is the attacker's when a compromised identity used it and no identity with an
//! honest history there used it before: had it since the start of the logs, or used it before
//! the compromised identity did and before its suspect period began. A count of co-users
//! decides nothing by itself: the applications an attacker backdoors and the other accounts it
//! stole sign in from its addresses after it, and are compromised through them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use tw_event::Timestamp;

use crate::BlastOptions;
use crate::facts;
use crate::gather::{Facts, Grant, IP_IDENTITY_CAP, NO_TIME};
use crate::model::Pivot;

mod behaviour;

/// The learning window: within this time of the start of the logs (of the tenant an identity's
/// history starts in) every address is new to everyone, and identities that used an address
/// then had it before anything the logs show. Seventy-two hours
/// hold a working day in any start (a weekend and a working day), when a person's routine
/// addresses (office, home, VPN) all recur.
pub const LEARNING_MS: i64 = 72 * 3600 * 1000;

/// An attacker address, and the time from which its records are the attacker's.
#[derive(Debug, Clone, Copy)]
pub struct IpMark {
    /// Pivot depth.
    pub depth: u32,
    /// Records from the address at or after this time (milliseconds) are malicious.
    pub since: i64,
}

/// The indicator set after expansion.
#[derive(Debug, Default)]
pub struct Indicators {
    /// Compromised identities: depth, and whether their addresses are expanded.
    pub idents: BTreeMap<String, (u32, bool)>,
    /// Attacker infrastructure.
    pub ips: BTreeMap<String, IpMark>,
    /// Attacker-added credential key ids.
    pub keys: BTreeMap<String, u32>,
    /// Evidence records of seed findings: (file, record) → finding title and tags.
    pub finding_records: HashMap<(String, u64), (String, Vec<String>)>,
    /// Home tenants whose identities' access is tracked.
    pub partner_homes: BTreeSet<String>,
}

impl Indicators {
    /// True when a record of `ip` at `time` comes from attacker infrastructure.
    pub fn attacker_at(&self, ip: &str, time: Option<Timestamp>) -> bool {
        self.ips
            .get(ip)
            .is_some_and(|m| time.is_none_or(|t| t.millis() >= m.since))
    }
}

/// What the time-and-history test says of an address.
enum Judgement {
    Attacker { since: i64, why: String },
    Shared(String),
}

/// The network an address belongs to for the egress-pool test: the first three octets of an
/// IPv4 address, the first three groups of an IPv6 address.
fn network(ip: &str) -> Option<&str> {
    let (sep, keep) = if ip.contains(':') { (':', 3) } else { ('.', 3) };
    let mut end = 0;
    for (i, _) in ip.match_indices(sep).take(keep) {
        end = i;
    }
    (end > 0 && ip.matches(sep).count() >= keep).then(|| &ip[..end])
}

/// Addresses per egress pool, in sorted order.
fn pools(f: &Facts) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for ip in f.ip_idents.keys() {
        if let Some(net) = network(ip) {
            m.entry(net.to_string()).or_default().push(ip.clone());
        }
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

fn when(ms: i64) -> String {
    if ms == NO_TIME || ms == i64::MIN {
        return "an unknown time".into();
    }
    Timestamp::from_millis(ms).map_or_else(|| ms.to_string(), |t| t.to_string())
}

/// The expansion state.
pub struct Expander<'a> {
    pub f: &'a Facts,
    pub o: &'a BlastOptions,
    pub ind: Indicators,
    pub pivots: Vec<Pivot>,
    pub not_followed: Vec<Pivot>,
    pub truncated: bool,
    pub dropped: u64,
    /// Addresses refused as shared, judged again when more identities are compromised:
    /// (address, subject) → (depth, records, attacker credential used there).
    pending: BTreeMap<(String, String), (u32, u64, Option<String>)>,
    /// Addresses per egress pool (IPv4 /24, IPv6 /48).
    pools: HashMap<String, Vec<String>>,
    /// Credentials added by changes, and where applications signed in with them.
    keys: behaviour::KeyIndex,
}

impl<'a> Expander<'a> {
    /// A fresh expansion over `f`.
    pub fn new(f: &'a Facts, o: &'a BlastOptions) -> Expander<'a> {
        Expander {
            f,
            o,
            ind: Indicators::default(),
            pivots: Vec::new(),
            not_followed: Vec::new(),
            truncated: false,
            dropped: 0,
            pending: BTreeMap::new(),
            pools: pools(f),
            keys: behaviour::KeyIndex::new(f),
        }
    }

    fn budget(&mut self) -> bool {
        if self.pivots.len() >= self.o.max_pivots {
            self.truncated = true;
            self.dropped += 1;
            return false;
        }
        true
    }

    /// Marks `id` compromised. Microsoft's own resource applications never are.
    pub fn add_ident(
        &mut self,
        id: &str,
        depth: u32,
        expand: bool,
        from: Option<&str>,
        reason: String,
    ) -> bool {
        if self.ind.idents.contains_key(id) {
            return false;
        }
        if id.starts_with("app:") && facts::is_microsoft_resource_app(id) {
            self.not_followed(
                depth,
                "identity",
                id,
                from.unwrap_or("seed"),
                format!("a Microsoft resource application (the API a permission is on, or that was called) is never a compromised identity; reached as: {reason}"),
            );
            return false;
        }
        if !self.budget() {
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

    /// Marks `ip` attacker infrastructure from `since` on.
    pub fn add_ip(&mut self, ip: &str, mark: IpMark, from: Option<&str>, reason: String) -> bool {
        if self.ind.ips.contains_key(ip) || !self.budget() {
            return false;
        }
        self.ind.ips.insert(ip.to_string(), mark);
        self.pivots.push(Pivot {
            depth: mark.depth,
            kind: "ip".into(),
            indicator: ip.to_string(),
            from: from.map(str::to_string),
            reason,
        });
        true
    }

    /// Records an expansion not taken.
    pub fn not_followed(&mut self, depth: u32, kind: &str, ind: &str, from: &str, reason: String) {
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

    /// The start of `id`'s suspect period: its first use of an address new to it, that is
    /// first used after the learning window from the start of the logs (within it, every
    /// address is new to everyone and none is evidence). An identity first seen after that
    /// window has no history the logs could show: its first address is new too. `None` when
    /// it never used a new address.
    pub fn suspect_start(&self, id: &str) -> Option<i64> {
        self.new_addresses(id)
            .filter(|(ip, t)| !self.colleagues_first(id, ip, *t))
            .map(|(_, t)| t)
            .min()
    }

    /// The addresses `id` first used after its learning window, with that first use.
    fn new_addresses<'s>(&'s self, id: &str) -> impl Iterator<Item = (&'s str, i64)> + 's {
        let settled = self.learning_end(id);
        self.f
            .ident_ips
            .get(id)
            .into_iter()
            .flatten()
            .map(|(ip, u)| (ip.as_str(), u.first))
            .filter(move |(_, t)| *t > settled && *t != NO_TIME)
    }

    /// Whether another user, not known to be compromised, used `ip` as part of its own history
    /// (in its learning window, or before it first used any new address) before `id` first did
    /// at `t`: the company VPN or office a colleague used first is new to `id` but not new
    /// infrastructure, and does not start its suspect period.
    fn colleagues_first(&self, id: &str, ip: &str, t: i64) -> bool {
        self.f.ip_idents.get(ip).is_some_and(|m| {
            m.iter().any(|(x, fx)| {
                x != id
                    && x.starts_with("user:")
                    && *fx < t
                    && !self.ind.idents.contains_key(x)
                    && (*fx <= self.learning_end(x) || self.new_addresses(x).all(|(_, s)| *fx < s))
            })
        })
    }

    /// The end of the learning window of `id`: from the start of the logs, or of the logs of the
    /// tenant its history starts in when those start later (exports of several tenants rarely
    /// start at the same hour).
    fn learning_end(&self, id: &str) -> i64 {
        let start = self.f.coverage_start.unwrap_or(i64::MIN);
        let own = self
            .f
            .ident_first_tenant
            .get(id)
            .and_then(|t| self.f.tenant_first.get(t))
            .copied()
            .unwrap_or(start);
        start.max(own).saturating_add(LEARNING_MS)
    }

    /// Whether `x`'s use of an address from `fx` is an honest history, judged for `subject`
    /// whose suspect period starts at `limit`: since the start of the logs (unless it began
    /// after a compromised stranger's, see [`Self::after_compromised_stranger`]); before the
    /// subject's suspect period for an identity not compromised; before its own suspect period
    /// for another compromised user (the stolen account's owner working from the office or
    /// VPN before the attacker came). A compromised application's use never is, nor an
    /// application's sign-ins at `ip` with a credential a partner account added (see
    /// [`behaviour::KeyIndex::partner_credential_at`]).
    fn honest_use(&self, x: &str, ip: &str, fx: i64, limit: i64) -> bool {
        if x.starts_with("app:") && self.keys.partner_credential_at(self.f, ip, x) {
            return false;
        }
        if fx <= self.learning_end(x) {
            if x.starts_with("app:") && self.ind.idents.contains_key(x) {
                return false;
            }
            return !self.after_compromised_stranger(x, ip, fx);
        }
        if !self.ind.idents.contains_key(x) {
            return fx < limit;
        }
        x.starts_with("user:") && self.suspect_start(x).is_none_or(|s| fx < s)
    }

    /// Whether a compromised identity of another organisation than `x`'s (another home tenant)
    /// used `ip` before `x` first did, at `fx`. Within the learning window the logs show no
    /// routine to judge by: people of one organisation share its office and VPN egress, so a
    /// colleague's later arrival there is history; an identity of another organisation
    /// (a customer's administrator, an application) that first comes to an address after the
    /// intruder did has no claim to it — a token replayed from the intruder's host looks so.
    fn after_compromised_stranger(&self, x: &str, ip: &str, fx: i64) -> bool {
        let Some(home) = self.organisation(x) else {
            return false;
        };
        self.f
            .ip_idents
            .get(ip)
            .into_iter()
            .flatten()
            .any(|(y, fy)| {
                *fy < fx
                    && self.ind.idents.contains_key(y)
                    && self.organisation(y).is_some_and(|h| h != home)
            })
    }

    /// The tenant an identity belongs to: its home tenant where a record names it, else the one
    /// tenant all its records are in.
    fn organisation(&self, x: &str) -> Option<&str> {
        if let Some(h) = self.f.ident_home.get(x) {
            return Some(h);
        }
        let tenants = self.f.ident_tenants.get(x)?;
        match tenants.len() {
            1 => tenants.keys().next().map(String::as_str),
            _ => None,
        }
    }

    /// The old sharing test, for the addresses of findings (no compromised identity to judge
    /// them against): more than `max_shared` other identities not compromised make it shared.
    pub fn shared_test(&self, ip: &str) -> Result<(), String> {
        if self.f.ip_crowded.contains(ip) {
            return Err(format!(
                "shared infrastructure: more than {IP_IDENTITY_CAP} identities use it"
            ));
        }
        let mut others: Vec<&String> = self
            .f
            .ip_idents
            .get(ip)
            .map(|s| {
                s.keys()
                    .filter(|i| !self.ind.idents.contains_key(*i))
                    .collect()
            })
            .unwrap_or_default();
        others.sort();
        if others.len() > self.o.max_shared {
            let eg: Vec<&str> = others.iter().take(3).map(|s| s.as_str()).collect();
            return Err(format!(
                "shared infrastructure: {} other identities use it (e.g. {})",
                others.len(),
                eg.join(", ")
            ));
        }
        Ok(())
    }

    /// The time-and-history test of `ip` as used by the compromised identity `subject`.
    fn judge(&self, ip: &str, subject: &str) -> Judgement {
        if self.f.ip_crowded.contains(ip) {
            return Judgement::Shared(format!(
                "shared infrastructure: more than {IP_IDENTITY_CAP} identities use it"
            ));
        }
        let t = self.f.first_use(subject, ip);
        let suspect = self.suspect_start(subject);
        // The subject's suspect period begins at its first new address (at its first use of
        // this one when it has none).
        let limit = suspect.unwrap_or(t);
        // An address the subject used before its suspect period is its own history (its
        // owner's office, VPN or home; at the start of the logs, no evidence either way) —
        // unless behaviour ties it to the attacker: an application signed in from it with a
        // credential a compromised account added.
        let early = suspect.is_none_or(|s| t < s) && !subject.starts_with("app:");
        let signin_tie = self.keys.tie(self.f, ip, subject, |a| {
            a.starts_with("user:") && self.ind.idents.contains_key(a)
        });
        let planted_only = signin_tie.is_none();
        let tie = signin_tie.or_else(|| self.planted_from(ip, subject).map(|d| (d, Vec::new())));
        if planted_only
            && tie.is_some()
            && let Some(why) = self.organisation_egress(ip, subject)
        {
            return Judgement::Shared(why);
        }
        if !early
            && tie.is_none()
            && let Some(why) = self.routine(ip, subject, limit)
        {
            return Judgement::Shared(why);
        }
        let tied: Option<&[String]> = tie.as_ref().map(|(_, apps)| apps.as_slice());
        let (honest, since) = self.honest_users(ip, subject, limit, tied);
        // Colleagues there make it shared (said so below); otherwise it is its own history.
        if early && tie.is_none() && honest.len() <= self.o.max_shared {
            return Judgement::Shared(self.own_history(ip, subject, t, suspect));
        }
        if honest.len() <= self.o.max_shared
            && let Some(why) = self.honest_pool(ip, subject, limit, tied.is_some())
        {
            return Judgement::Shared(why);
        }
        if honest.len() > self.o.max_shared {
            let eg: Vec<String> = honest
                .iter()
                .take(3)
                .map(|(x, fx)| format!("{x} since {}", when(*fx)))
                .collect();
            return Judgement::Shared(format!(
                "shared infrastructure with an honest history: {} identities not compromised used it (or its egress pool) before the suspect period of {subject} began ({}) or since the start of the logs (e.g. {})",
                honest.len(),
                when(limit),
                eg.join(", ")
            ));
        }
        let h0 = self.f.ident_first.get(subject).copied().unwrap_or(t);
        let new = match &tie {
            Some((tie, _)) if early => format!(
                "in its early history (its history starts {}), tied to the attacker by behaviour: {tie}",
                when(h0)
            ),
            Some((tie, _)) => format!(
                "an address new to it (its history starts {}); {tie}",
                when(h0)
            ),
            None if suspect.is_some_and(|s| t >= s) => {
                format!("an address new to it (its history starts {})", when(h0))
            }
            None => "in use by it from the start of its history".to_string(),
        };
        let period = match suspect {
            Some(s) => format!("; its suspect period starts {}", when(s)),
            None => String::new(),
        };
        let tolerated = if honest.is_empty() {
            "no identity with an honest history used it before".to_string()
        } else {
            format!(
                "{} identities with an honest history there, within --max-shared {}",
                honest.len(),
                self.o.max_shared
            )
        };
        Judgement::Attacker {
            since,
            why: format!(
                "{subject} started using it {} ({new}{period}); {tolerated}",
                when(t)
            ),
        }
    }

    /// A change by `subject` (or another compromised user) made from `ip` that added a credential
    /// already known as the attacker's (the application then signed in with it from attacker
    /// infrastructure): the backdoor was planted from this address.
    fn planted_from(&self, ip: &str, subject: &str) -> Option<String> {
        let g = self.f.grants.iter().find(|g| {
            g.ip.as_deref() == Some(ip)
                && (g.actor == subject
                    || (g.actor.starts_with("user:") && self.ind.idents.contains_key(&g.actor)))
                && g.key_ids.iter().any(|k| self.ind.keys.contains_key(k))
        })?;
        let k = g.key_ids.iter().find(|k| self.ind.keys.contains_key(*k))?;
        Some(format!(
            "{} added the attacker's credential {k} from it ({}, tenant {}, {}): the backdoor was planted from this address",
            g.actor,
            g.op,
            g.tenant,
            when(g.millis())
        ))
    }

    /// A new address of a compromised user that shows only its owner's routine: no other
    /// identity ever used it, no application signed in from it with an added credential, the
    /// user worked from it only in tenants it worked in before its suspect period (from
    /// `limit`), and nothing from it reached beyond the user's own work (no change handing
    /// power, no mailbox rule or permission, no directory listing, no read of another's
    /// mailbox). That is a person's new connection (a home line, a hotel), not evidence.
    fn routine(&self, ip: &str, subject: &str, limit: i64) -> Option<String> {
        if !subject.starts_with("user:") || self.keys.used_from(ip) {
            return None;
        }
        let users = self.f.ip_idents.get(ip)?;
        if users.len() != 1 || !users.contains_key(subject) {
            return None;
        }
        let pair = (subject.to_string(), ip.to_string());
        if self.f.ident_ip_intrusive.contains(&pair) {
            return None;
        }
        let tenants = self.f.ident_ip_tenants.get(&pair)?;
        let with_colleagues = self.colleague_tenants(subject);
        let known = |t: &String| {
            with_colleagues.contains(t)
                || self
                    .f
                    .ident_tenant_first
                    .get(&(subject.to_string(), t.clone()))
                    .is_some_and(|first| *first < limit)
        };
        if tenants.is_empty() || !tenants.iter().all(known) {
            return None;
        }
        let list: Vec<&str> = tenants.iter().take(3).map(String::as_str).collect();
        Some(format!(
            "used only by {subject}, only in tenants it worked in before its suspect period began ({}) or from an address its colleagues use too ({}), and nothing from it reached beyond its own work (no change handing power, no mailbox rule or permission, no directory listing, no read of another's mailbox, no application signed in from it): its owner's routine from a new connection (a home line, a hotel), not evidence that it is the attacker's",
            when(limit),
            list.join(", ")
        ))
    }

    /// The tenants `subject` worked in from an address other users, not known to be
    /// compromised, also used (the partner's office or VPN).
    fn colleague_tenants(&self, subject: &str) -> BTreeSet<&String> {
        let mut out = BTreeSet::new();
        for ip in self
            .f
            .ident_ips
            .get(subject)
            .into_iter()
            .flatten()
            .map(|(ip, _)| ip)
        {
            let shared = self.f.ip_idents.get(ip).is_some_and(|m| {
                m.keys().any(|x| {
                    x != subject && x.starts_with("user:") && !self.ind.idents.contains_key(x)
                })
            });
            if !shared {
                continue;
            }
            let pair = (subject.to_string(), ip.clone());
            out.extend(self.f.ident_ip_tenants.get(&pair).into_iter().flatten());
        }
        out
    }

    /// Why an address of the subject's early history with no behaviour tie is not followed.
    fn own_history(&self, ip: &str, subject: &str, t: i64, suspect: Option<i64>) -> String {
        let followers = self
            .f
            .ip_idents
            .get(ip)
            .map_or(0, |m| m.keys().filter(|x| *x != subject).count());
        format!(
            "in use by {subject} since {}, before its suspect period{} ({followers} other identities used it too): its own history, not evidence that it is the attacker's (no application signed in from it with a credential a compromised account added)",
            when(t),
            suspect.map_or(" (it never used a new address)".to_string(), |s| format!(
                " (from {})",
                when(s)
            ))
        )
    }

    /// The identities with an honest history at `ip` for `subject` (sorted), and the first use
    /// of the others: the time from which its records are the attacker's. At an address tied
    /// to the attacker by behaviour (`tied`: the applications that signed in from it with a
    /// credential a compromised account added), those applications' and compromised accounts'
    /// uses are the attacker's, not an honest history.
    fn honest_users(
        &self,
        ip: &str,
        subject: &str,
        limit: i64,
        tied: Option<&[String]>,
    ) -> (Vec<(&str, i64)>, i64) {
        let mut honest: Vec<(&str, i64)> = Vec::new();
        let mut since = self.f.first_use(subject, ip);
        for (x, fx) in self.f.ip_idents.get(ip).into_iter().flatten() {
            if x == subject {
                continue;
            }
            let compromised = tied
                .is_some_and(|apps| self.ind.idents.contains_key(x) || apps.iter().any(|a| a == x));
            if !compromised && !self.planted_here(x, ip) && self.honest_use(x, ip, *fx, limit) {
                honest.push((x, *fx));
            } else {
                since = since.min(*fx);
            }
        }
        honest.sort();
        (honest, since)
    }

    /// Colleagues at an address the subject planted a backdoor from, when no application signed
    /// in from it: users of the subject's own organisation, not known to be compromised, that
    /// added no credential from it, used it too. Planting shows where the stolen account's
    /// session was, not whose host it is; an address the organisation's people use for their
    /// ordinary work is its office or VPN egress, which the intruder came through. A colleague
    /// who also added credentials from there did what the intruder does there (another stolen
    /// account) and is no such evidence; an application's sign-in with the planted credential
    /// from the address (the operator's host) outweighs colleagues.
    fn organisation_egress(&self, ip: &str, subject: &str) -> Option<String> {
        let home = self.organisation(subject)?;
        let mut who: Vec<&str> = self
            .f
            .ip_idents
            .get(ip)?
            .keys()
            .filter(|x| {
                *x != subject
                    && x.starts_with("user:")
                    && !self.ind.idents.contains_key(*x)
                    && self.organisation(x) == Some(home)
                    && !self.added_credentials_from(x, ip)
            })
            .map(String::as_str)
            .collect();
        if who.len() <= self.o.max_shared {
            return None;
        }
        who.sort();
        let eg: Vec<&str> = who.iter().take(3).copied().collect();
        Some(format!(
            "shared infrastructure: {subject} planted a credential from it, but {} other people of its organisation ({home}) work from it too (e.g. {}), adding no credential there, and no application signed in from it: its organisation's office or VPN egress, which the intruder came through, not the intruder's host",
            who.len(),
            eg.join(", ")
        ))
    }

    /// Whether `x` made, from `ip`, a change that added a credential.
    fn added_credentials_from(&self, x: &str, ip: &str) -> bool {
        self.f
            .grants
            .iter()
            .any(|g| g.actor == x && g.ip.as_deref() == Some(ip) && !g.key_ids.is_empty())
    }

    /// Whether user `x` added a credential that an application then signed in with from `ip`:
    /// `x` planted a backdoor used from this very address, so its own presence there is the
    /// operator's, not a history of the address, whenever it began. Another stolen account the
    /// intruder signed in with minutes before the seed did looks so; a colleague at the office
    /// or VPN the intruder came through does not.
    fn planted_here(&self, x: &str, ip: &str) -> bool {
        x.starts_with("user:") && self.keys.tie(self.f, ip, x, |_| false).is_some()
    }

    /// Another address of `ip`'s egress pool (the same IPv4 /24 or IPv6 /48: an office's or
    /// VPN's NAT pool) with an honest history by the same test — the subject's own use before
    /// its suspect period included: then `ip` is part of that pool, and colleagues who reach it
    /// later are not followers of an attacker.
    /// At an address tied to the attacker by behaviour (`tied`), compromised accounts' uses of
    /// its neighbours are not an honest history either.
    fn honest_pool(&self, ip: &str, subject: &str, limit: i64, tied: bool) -> Option<String> {
        let net = network(ip)?;
        for n in self.pools.get(net)? {
            if n == ip {
                continue;
            }
            let mut who: Vec<&str> = self
                .f
                .ip_idents
                .get(n)
                .map(|m| {
                    m.iter()
                        .filter(|(x, fx)| {
                            if tied && self.ind.idents.contains_key(*x) {
                                false
                            } else if *x == subject {
                                **fx < limit
                            } else {
                                self.honest_use(x, n, **fx, limit)
                            }
                        })
                        .map(|(x, _)| x.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if who.len() > self.o.max_shared {
                who.sort();
                let eg: Vec<&str> = who.iter().take(3).copied().collect();
                return Some(format!(
                    "shared infrastructure: part of the egress pool {net}.* whose address {n} has an honest history ({} identities used it since the start of the logs or before the suspect period of {subject}, e.g. {})",
                    who.len(),
                    eg.join(", ")
                ));
            }
        }
        None
    }

    /// Runs the expansion to a fixed point (or the bounds).
    pub fn run(&mut self) {
        let mut done_idents: HashSet<String> = HashSet::new();
        let mut done_ips: HashSet<String> = HashSet::new();
        let mut done_grants: HashSet<usize> = HashSet::new();
        let mut done_suspect: HashSet<usize> = HashSet::new();
        let mut done_planted: HashSet<String> = HashSet::new();
        loop {
            let mut changed = self.expand_identities(&mut done_idents);
            changed |= self.expand_ips(&mut done_ips);
            changed |= self.expand_grants(&mut done_grants);
            changed |= self.confirm_suspect_credentials(&mut done_suspect);
            changed |= self.expand_planters(&mut done_planted);
            changed |= self.retry_pending();
            if !changed {
                break;
            }
        }
    }

    /// Compromised users → the addresses they used that pass the time-and-history test.
    fn expand_identities(&mut self, done: &mut HashSet<String>) -> bool {
        let mut changed = false;
        let idents: Vec<(String, u32, bool)> = self
            .ind
            .idents
            .iter()
            .filter(|(k, _)| !done.contains(*k))
            .map(|(k, (d, e))| (k.clone(), *d, *e))
            .collect();
        for (id, d, expand) in idents {
            done.insert(id.clone());
            if !expand {
                continue;
            }
            let mut ips: Vec<(String, u64)> = self
                .f
                .ident_ips
                .get(&id)
                .map(|m| m.iter().map(|(ip, u)| (ip.clone(), u.n)).collect())
                .unwrap_or_default();
            ips.sort();
            for (ip, n) in ips {
                changed |= self.judge_address(&id, d, &ip, n);
            }
        }
        changed
    }

    fn judge_address(&mut self, id: &str, d: u32, ip: &str, n: u64) -> bool {
        if self.ind.ips.contains_key(ip) {
            return false;
        }
        if d >= self.o.depth {
            self.not_followed(d + 1, "ip", ip, id, "depth limit reached".into());
            return false;
        }
        if let Some(home) = self.f.ident_home.get(id)
            && !self
                .f
                .ident_ip_cross
                .contains(&(id.to_string(), ip.to_string()))
        {
            self.not_followed(
                d + 1,
                "ip",
                ip,
                id,
                format!(
                    "used by this partner identity only in its home tenant {home}; a partner identity's addresses are followed where it worked in other tenants"
                ),
            );
            return false;
        }
        match self.judge(ip, id) {
            Judgement::Attacker { since, why } => self.add_ip(
                ip,
                IpMark {
                    depth: d + 1,
                    since,
                },
                Some(id),
                format!("{why} ({n} records of {id})"),
            ),
            Judgement::Shared(why) => {
                self.not_followed(d + 1, "ip", ip, id, why);
                self.pending
                    .insert((ip.to_string(), id.to_string()), (d + 1, n, None));
                false
            }
        }
    }

    /// Judges refused addresses again: an identity counted as honest there may since have been
    /// found compromised (an application the attacker backdoored, signing in from its
    /// address before the one that brought the address up).
    fn retry_pending(&mut self) -> bool {
        let mut changed = false;
        let pending = std::mem::take(&mut self.pending);
        for ((ip, subject), (d, n, key)) in pending {
            if self.ind.ips.contains_key(&ip) {
                continue;
            }
            let (since, why) = match self.judge(&ip, &subject) {
                Judgement::Attacker { since, why } => (since, why),
                Judgement::Shared(why) => {
                    // What is known now may give another reason to refuse it: say the latest.
                    for p in self.not_followed.iter_mut() {
                        if p.indicator == ip && p.from.as_deref() == Some(subject.as_str()) {
                            p.reason.clone_from(&why);
                        }
                    }
                    self.pending.insert((ip, subject), (d, n, key));
                    continue;
                }
            };
            self.not_followed
                .retain(|p| !(p.indicator == ip && p.from.as_deref() == Some(subject.as_str())));
            let reason = match &key {
                Some(k) => format!(
                    "{subject} signed in from it {n} times with attacker-added credential {k}; {why}"
                ),
                None => format!("{why} ({n} records of {subject})"),
            };
            changed |= self.add_ip(&ip, IpMark { depth: d, since }, Some(&subject), reason);
        }
        changed
    }

    /// Attacker addresses → the identities that used them after the attacker did.
    fn expand_ips(&mut self, done: &mut HashSet<String>) -> bool {
        let mut changed = false;
        let ips: Vec<(String, IpMark)> = self
            .ind
            .ips
            .iter()
            .filter(|(k, _)| !done.contains(*k))
            .map(|(k, m)| (k.clone(), *m))
            .collect();
        for (ip, mark) in ips {
            done.insert(ip.clone());
            let d = mark.depth;
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
            let mut who: Vec<(String, i64)> = self
                .f
                .ip_idents
                .get(&ip)
                .map(|s| s.iter().map(|(k, v)| (k.clone(), *v)).collect())
                .unwrap_or_default();
            who.sort();
            for (id, first) in who {
                if self.ind.idents.contains_key(&id) {
                    continue;
                }
                if first < mark.since {
                    self.not_followed(
                        d + 1,
                        "identity",
                        &id,
                        &ip,
                        format!(
                            "used the address from {}, before the attacker did ({}): an honest history, tolerated by --max-shared",
                            when(first),
                            when(mark.since)
                        ),
                    );
                    continue;
                }
                if d >= self.o.depth {
                    self.not_followed(d + 1, "identity", &id, &ip, "depth limit reached".into());
                    continue;
                }
                let expand = id.starts_with("user:");
                changed |= self.add_ident(
                    &id,
                    d + 1,
                    expand,
                    Some(&ip),
                    format!(
                        "acted from attacker address {ip} from {}, after the attacker started using it ({}); its records count from attacker addresses or with attacker-added credentials",
                        when(first),
                        when(mark.since)
                    ),
                );
            }
        }
        changed
    }

    /// Changes by compromised identities from attacker infrastructure → the applications that
    /// received power, the credentials added, and where those credentials were used.
    fn expand_grants(&mut self, done: &mut HashSet<usize>) -> bool {
        let mut changed = false;
        let f = self.f;
        for (gi, g) in f.grants.iter().enumerate() {
            if done.contains(&gi) {
                continue;
            }
            let Some((d, _)) = self.ind.idents.get(&g.actor).copied() else {
                continue;
            };
            let Some(ip) = g.ip.as_ref().filter(|ip| self.ind.attacker_at(ip, g.time)) else {
                continue;
            };
            done.insert(gi);
            let d = d.max(self.ind.ips.get(ip).map_or(0, |m| m.depth));
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
            let why = format!("from attacker address {ip}");
            for k in &g.key_ids {
                changed |= self.add_key(k, g, d + 1, &why);
            }
            changed |= self.grant_recipients(g, d + 1, &why);
        }
        changed
    }

    /// Marks `k` attacker-added (by grant `g`) and follows the applications that signed in with
    /// it and the addresses they did so from.
    fn add_key(&mut self, k: &str, g: &Grant, d: u32, why: &str) -> bool {
        if self.ind.keys.contains_key(k) || !self.budget() {
            return false;
        }
        self.ind.keys.insert(k.to_string(), d);
        self.pivots.push(Pivot {
            depth: d,
            kind: "credential".into(),
            indicator: k.to_string(),
            from: Some(g.actor.clone()),
            reason: format!(
                "credential added by {} {why} ({}, tenant {}, {})",
                g.actor,
                g.op,
                g.tenant,
                when(g.millis())
            ),
        });
        let mut users: Vec<((String, String), u64)> = self
            .f
            .key_signins
            .get(k)
            .map(|m| m.iter().map(|(a, n)| (a.clone(), *n)).collect())
            .unwrap_or_default();
        users.sort();
        for ((app, _), _) in &users {
            self.add_ident(
                app,
                d,
                false,
                Some(k),
                format!("signed in with credential {k} added by {}", g.actor),
            );
        }
        for ((app, sip), n) in users {
            if self.ind.ips.contains_key(&sip) {
                continue;
            }
            match self.judge(&sip, &app) {
                Judgement::Attacker { since, why } => {
                    self.add_ip(
                        &sip,
                        IpMark { depth: d, since },
                        Some(&app),
                        format!(
                            "{app} signed in from it {n} times with attacker-added credential {k}; {why}"
                        ),
                    );
                }
                Judgement::Shared(why) => {
                    self.not_followed(d, "ip", &sip, &app, why);
                    self.pending
                        .insert((sip.clone(), app.clone()), (d, n, Some(k.to_string())));
                }
            }
        }
        true
    }

    /// The applications a grant handed power to (never the resource a permission is on).
    fn grant_recipients(&mut self, g: &Grant, d: u32, why: &str) -> bool {
        let mut changed = false;
        for t in &g.target_ids {
            let app = self.f.sp_to_app.get(t).cloned().or_else(|| {
                self.f
                    .actor_records
                    .contains_key(&format!("app:{t}"))
                    .then(|| t.clone())
            });
            let Some(app) = app else { continue };
            let id = format!("app:{app}");
            if id != g.actor {
                changed |= self.add_ident(
                    &id,
                    d,
                    false,
                    Some(&g.actor),
                    format!(
                        "received {} from {} {why} (tenant {}, {}); its activity counts from attacker addresses or attacker-added credentials only",
                        g.op,
                        g.actor,
                        g.tenant,
                        when(g.millis())
                    ),
                );
            }
        }
        changed
    }

    /// Credentials a compromised user added in its suspect period from an address that is not
    /// the attacker's (the partner's VPN or office, which the attacker may come through): they
    /// are the attacker's when the application then signs in with them from an address new to
    /// it, with no honest history.
    fn confirm_suspect_credentials(&mut self, done: &mut HashSet<usize>) -> bool {
        let mut changed = false;
        let f = self.f;
        for (gi, g) in f.grants.iter().enumerate() {
            if done.contains(&gi) || g.key_ids.is_empty() || !g.actor.starts_with("user:") {
                continue;
            }
            let Some((d, true)) = self.ind.idents.get(&g.actor).copied() else {
                continue;
            };
            if g.ip
                .as_ref()
                .is_some_and(|ip| self.ind.attacker_at(ip, g.time))
            {
                continue;
            }
            done.insert(gi);
            let t = g.millis();
            if self.suspect_start(&g.actor).is_some_and(|s| t < s) {
                continue;
            }
            for k in &g.key_ids {
                if self.ind.keys.contains_key(k) {
                    continue;
                }
                if let Some((app, sip)) = self.confirming_signin(k, t) {
                    let why = format!(
                        "in its suspect period from {} (not attacker infrastructure), confirmed: {app} then signed in with it from {sip}, an address new to it with no honest history",
                        g.ip.as_deref().unwrap_or("no address")
                    );
                    changed |= self.add_key(k, g, d + 1, &why);
                    changed |= self.grant_recipients(g, d + 1, &why);
                }
            }
        }
        changed
    }

    /// A sign-in with credential `k` from an address its application first used after `t` and
    /// that passes the time-and-history test for it.
    fn confirming_signin(&self, k: &str, t: i64) -> Option<(String, String)> {
        let mut uses: Vec<&(String, String)> = self.f.key_signins.get(k)?.keys().collect();
        uses.sort();
        uses.into_iter()
            .find(|(app, sip)| {
                self.f.first_use(app, sip) >= t
                    && matches!(self.judge(sip, app), Judgement::Attacker { .. })
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::network;

    #[test]
    fn egress_pools_are_the_24_or_48() {
        assert_eq!(network("198.51.100.10"), Some("198.51.100"));
        assert_eq!(network("198.51.100.11"), network("198.51.100.200"));
        assert_ne!(network("198.51.100.10"), network("198.51.101.10"));
        assert_eq!(network("2001:db8:1:2::5"), Some("2001:db8:1"));
        assert_eq!(network("not-an-address"), None);
    }
}
