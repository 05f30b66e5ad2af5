//! The blast-radius engine: a fact pass over the logs, the expansion, and an evidence pass over
//! the few records it needs.
//!
//! The fact pass keeps, per identity and per address, only compact facts ([`Facts`]), and per
//! record what an evidence row can come from ([`RecordIndex`]); it does not depend on the seeds,
//! so another reader of the same inputs can run it ([`Gathered`], [`observe`]: `investigate`
//! runs it inside the hunt's read). The pivots are then decided in memory by the linking rule
//! ([`LINKING_RULE`]); the evidence pass decodes only the records tied to the final indicator
//! set, in the inputs that hold them, and rolls them up per tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use tw_event::{Event, Provenance, Timestamp};
use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest, ingest_prefiltered};

use crate::facts;
use crate::gather::{Fact, Facts, extract, norm_ip};
use crate::link::{Expander, Indicators, IpMark};
use crate::model::{
    BlastResult, Coverage, EvidenceRow, FindingSeed, ObjectChange, Pivot, Seed, SeedMatch, Status,
    TenantBlast,
};
use crate::records::RecordIndex;

/// The linking rule, as reported in every result and documented in `docs/blast.md`.
pub const LINKING_RULE: &str = "Attacker infrastructure is decided by time and history, not by a count of co-users. \
The suspect period of a compromised identity starts at its first use of an address new to it (first used after \
the 72-hour learning window from the start of the logs, and not first used by a colleague as part of its own history); \
addresses it used before are its own history unless an application signed in from one with a credential a compromised \
account added (a backdoor signing in where the account does: one operator on one host), or the attacker's credential \
was added from it (the backdoor was planted there). A new address showing only \
the owner's routine (no other identity, no such application, only tenants the user served before or from a shared \
address, nothing beyond its own work: no change, rule, directory listing or other mailbox) is not followed. An \
address a compromised user starts to use in its suspect period is the attacker's unless more than `max_shared` \
(default 0) identities have an honest history there (used it within the learning window — unless first after a \
compromised identity of another organisation did —, or before the suspect period; a compromised user before its \
own) or another address of its egress pool (IPv4 /24, IPv6 /48) has one. \
Records from an attacker address count from the attacker's first use of it; identities that used it afterwards \
(applications signing in with the attacker's secrets, other stolen accounts) are compromised through it. An \
account that added a credential with which an application then signed in from attacker infrastructure (at or after \
the attacker's first use of it) planted the attacker's backdoor: it is compromised and its addresses are judged like \
the seed's. An application's sign-ins with a credential a partner (cross-tenant) account added are no honest history \
at their address. A \
partner (cross-tenant) user's address is followed only where that user worked outside its home tenant. \
Credentials a compromised identity added from attacker infrastructure are the attacker's; so are credentials a \
compromised user added in its suspect period from a shared address (the partner's VPN) once the application signs \
in with them from an address new to it with no honest history. Applications that signed in with an attacker \
credential or received a credential, permission or role in such a change (the client service principal, never \
the resource: Microsoft Graph, Exchange Online) are compromised; their records count only from attacker \
addresses or with attacker credentials. Microsoft resource applications are never compromised identities. Seed \
findings' actors are the identities that acted in their evidence records. Expansion stops at `depth` steps and \
`max_pivots` pivots (reported as truncated). A tenant is affected only when it holds a malicious record (from \
attacker infrastructure, with an attacker credential, or evidence of a seed finding); access alone makes it \
`access_no_activity`.";

/// Options of the analysis.
#[derive(Debug, Clone)]
pub struct BlastOptions {
    /// How logs are read.
    pub ingest: IngestOptions,
    /// Expansion steps from the seeds.
    pub depth: u32,
    /// Most pivots taken; beyond, the result is marked truncated.
    pub max_pivots: usize,
    /// An address with more than this many identities with an honest history there is shared
    /// infrastructure (see `link`).
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

/// What the fact pass keeps of the logs: the facts (they do not depend on the seeds) and the
/// records that can hold evidence. Filled by [`blast`]'s own read, or by another reader of the
/// same inputs in input order (`investigate` runs it inside the hunt's read) through
/// [`Gathered::add`] of what [`observe`] kept of every event.
#[derive(Debug, Default)]
pub struct Gathered {
    facts: Facts,
    records: RecordIndex,
}

impl Gathered {
    /// Adds what [`observe`] kept of one event; events must come in input order.
    pub fn add(&mut self, f: Fact) {
        self.records.add(&f);
        self.facts.add(f);
    }
}

/// What the fact pass keeps of one event (pure; runs on the reader's worker threads). The
/// reader's projection must hold [`facts::FIELDS`] when it parses through one.
pub fn observe(ev: &Event) -> Fact {
    extract(ev)
}

/// Runs the blast-radius analysis over `paths` from `seeds`: the fact pass, then
/// [`blast_gathered`].
pub fn blast(paths: &[PathBuf], seeds: &[Seed], opts: &BlastOptions) -> BlastResult {
    let mut g = Gathered::default();
    let read = IngestOptions {
        projection: Some(Arc::new(facts::projection())),
        ..opts.ingest.clone()
    };
    let report = ingest(paths, &read, |ev, out| out.push(observe(ev)), |f| g.add(f));
    blast_gathered(paths, seeds, opts, g, &report)
}

/// The blast radius from facts already gathered over `paths` (`report`: that read's report):
/// the seeds, the expansion by the linking rule, then the evidence pass, which reads only the
/// inputs holding records tied to the final indicator set, and decodes only those records.
pub fn blast_gathered(
    paths: &[PathBuf],
    seeds: &[Seed],
    opts: &BlastOptions,
    g: Gathered,
    report: &IngestReport,
) -> BlastResult {
    let Gathered { mut facts, records } = g;
    // The acting identity of each evidence record of a seed finding.
    let finding_keys: HashSet<(String, u64)> = seeds
        .iter()
        .filter_map(|s| match s {
            Seed::Findings(list) => Some(list),
            _ => None,
        })
        .flatten()
        .flat_map(|fs| fs.evidence.iter().cloned())
        .collect();
    facts.finding_actors = records.actors_of(&finding_keys);
    let f = facts;
    let mut result = BlastResult {
        linking_rule: LINKING_RULE.to_string(),
        records_read: report.totals.read,
        input_problems: crate::inputs::InputProblems::of(report),
        ..Default::default()
    };
    let mut ex = Expander::new(&f, opts);
    let mut finding_ips: Vec<(String, String)> = Vec::new();
    for s in seeds {
        let value = s.value();
        let (records, note) = seed(&mut ex, s, &mut finding_ips);
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
                let mark = IpMark {
                    depth: 0,
                    since: i64::MIN,
                };
                ex.add_ip(&ip, mark, None, format!("address of finding {title:?}"));
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

    // Pass 2: evidence, from the records picked.
    let (aggs, evidence, evidence_dropped) = evidence_pass(paths, opts, records, &ind);
    if evidence_dropped > 0 {
        result.truncated = true;
        result.notes.push(format!(
            "evidence bounded at {} records: {evidence_dropped} more malicious records are counted but not listed",
            opts.max_evidence
        ));
    }
    result.evidence = evidence;
    result.tenants = tenants(&f, &ind, report, aggs);
    result
}

/// Evidence per tenant, the evidence rows kept, and the rows beyond `max_evidence`.
type Evidence = (BTreeMap<String, TenantAgg>, Vec<EvidenceRow>, u64);

/// Pass 2: reads the records tied to `ind` (picked from `records`, and the seed findings'
/// records), only in the inputs holding them, and rolls them up per tenant.
fn evidence_pass(
    paths: &[PathBuf],
    opts: &BlastOptions,
    records: RecordIndex,
    ind: &Indicators,
) -> Evidence {
    let mut picked = records.picked(ind);
    drop(records);
    for (file, record) in ind.finding_records.keys() {
        picked
            .entry(Arc::from(file.as_str()))
            .or_default()
            .insert(*record);
    }
    let mut aggs: BTreeMap<String, TenantAgg> = BTreeMap::new();
    let mut evidence = Vec::new();
    let mut evidence_dropped = 0u64;
    if !picked.is_empty() {
        let read = IngestOptions {
            projection: Some(Arc::new(facts::projection())),
            only_inputs: Some(Arc::new(picked.keys().map(|k| k.to_string()).collect())),
            // A short read of a few records: no progress shown.
            progress: None,
            ..opts.ingest.clone()
        };
        let picked = &picked;
        // Records not picked are split from their input but never decoded.
        let _ = ingest_prefiltered(
            paths,
            &read,
            |raw: RawRecord<'_>| {
                picked
                    .get(raw.source)
                    .is_some_and(|s| s.contains(&raw.record))
                    .then_some(())
            },
            |ev, (), out| {
                if let Some(row) = evidence_of(ev, ind) {
                    out.push(row);
                }
            },
            |(row, mailbox, object): Pass2| {
                aggregate(&mut aggs, &row, mailbox, object);
                if evidence.len() < opts.max_evidence {
                    evidence.push(row);
                } else {
                    evidence_dropped += 1;
                }
            },
        );
    }
    (aggs, evidence, evidence_dropped)
}

/// Adds one evidence row to its tenant's roll-up.
fn aggregate(
    aggs: &mut BTreeMap<String, TenantAgg>,
    row: &EvidenceRow,
    mailbox: Option<String>,
    object: Option<ObjectChange>,
) {
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
}

/// Applies one seed; returns the records it matched and a note.
fn seed(
    ex: &mut Expander<'_>,
    s: &Seed,
    finding_ips: &mut Vec<(String, String)>,
) -> (u64, Option<String>) {
    let f = ex.f;
    match s {
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
            let mark = IpMark {
                depth: 0,
                since: i64::MIN,
            };
            ex.add_ip(&ip, mark, None, "seed (--ip)".into());
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
            let n = list
                .iter()
                .map(|fs| seed_finding(ex, fs, finding_ips))
                .sum();
            let note = list
                .is_empty()
                .then(|| "the findings file holds no finding".to_string());
            (n, note)
        }
    }
}

/// Seeds one finding: its evidence records are malicious; its actors are the identities that
/// acted in those records as blast reads them (the reader of mail, not the mailbox owner; the
/// initiator of a change), or the finding's own actor fields where no evidence record was read.
fn seed_finding(
    ex: &mut Expander<'_>,
    fs: &FindingSeed,
    finding_ips: &mut Vec<(String, String)>,
) -> u64 {
    let f = ex.f;
    let mut actors: BTreeSet<String> = BTreeSet::new();
    for (file, rec) in &fs.evidence {
        ex.ind
            .finding_records
            .insert((file.clone(), *rec), (fs.title.clone(), fs.tags.clone()));
        if let Some(id) = f.finding_actors.get(&(file.clone(), *rec)) {
            actors.insert(id.clone());
        }
    }
    if actors.is_empty() {
        if let Some(a) = &fs.app_id {
            actors.insert(format!("app:{}", a.to_ascii_lowercase()));
        } else if let Some(u) = &fs.user {
            actors.insert(format!("user:{}", u.to_ascii_lowercase()));
        }
    }
    let why = format!("actor of finding {:?} ({})", fs.title, fs.level);
    for id in actors {
        ex.add_ident(&id, 0, false, None, why.clone());
    }
    if let Some(ip) = &fs.ip {
        finding_ips.push((norm_ip(ip), fs.title.clone()));
    }
    fs.evidence.len() as u64
}

type Pass2 = (EvidenceRow, Option<String>, Option<ObjectChange>);

fn evidence_of(ev: &Event, ind: &Indicators) -> Option<Pass2> {
    let c = &ev.canonical;
    let ip = c.ip.as_deref().filter(|s| !s.is_empty()).map(norm_ip);
    let mut reason = None;
    let mut extra_technique: Vec<String> = Vec::new();
    if let Some(ip) = &ip
        && ind.attacker_at(ip, c.time)
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
