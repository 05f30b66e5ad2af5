//! One action, one finding: the copies of an action recorded in several logs or exports (a
//! sign-in in Graph and in an Azure Monitor export; a directory change in the unified audit log
//! and in the Entra directory audit) are merged into one finding listing every copy as evidence
//! and every rule that saw it; routine context (rules carrying `tenantwatch.aggregate`) is then
//! aggregated into one finding per actor × tenant × UTC day. The rule that ties copies, and why,
//! is in `docs/findings.md`.

use hashbrown::{HashMap, HashSet};
use std::collections::BTreeMap;

use serde_json::Value;
use tw_event::{ChangeTie, CopyIdentity, Event, Finding, LogKind, Provenance, RuleRef};

use crate::hunt::RuleSource;

/// Copies of one directory change in the unified audit log and the directory audit carry the
/// same event time (`CreationTime`, "when the user performed the activity", truncated to the
/// second; `activityDateTime`, "when the activity was performed"): two minutes absorbs the
/// truncation and clock differences with a wide margin, and bounds a correlation id reused by a
/// client for the same operation later on.
pub const CHANGE_TOLERANCE_MS: i64 = 2 * 60_000;

const DAY_MS: i64 = 86_400_000;

/// A finding field routine context is aggregated by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByField {
    /// `actor.user`
    User,
    /// `actor.app_id`
    AppId,
    /// `actor.service_principal_id`
    ServicePrincipalId,
    /// `actor.home_tenant_id`
    HomeTenantId,
    /// `ip`
    Ip,
    /// `operation`
    Operation,
}

impl ByField {
    fn parse(s: &str) -> Option<ByField> {
        Some(match s {
            "actor.user" => ByField::User,
            "actor.app_id" => ByField::AppId,
            "actor.service_principal_id" => ByField::ServicePrincipalId,
            "actor.home_tenant_id" => ByField::HomeTenantId,
            "ip" => ByField::Ip,
            "operation" => ByField::Operation,
            _ => return None,
        })
    }

    fn of(self, f: &Finding) -> Option<&str> {
        match self {
            ByField::User => f.actor.user.as_deref(),
            ByField::AppId => f.actor.app_id.as_deref(),
            ByField::ServicePrincipalId => f.actor.service_principal_id.as_deref(),
            ByField::HomeTenantId => f.actor.home_tenant_id.as_deref(),
            ByField::Ip => f.ip.as_deref(),
            ByField::Operation => f.operation.as_deref(),
        }
    }
}

/// How a rule's findings are aggregated: one per value of `by` × tenant × UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateSpec {
    /// The finding fields that tell actors apart.
    pub by: Vec<ByField>,
}

/// Reads the `tenantwatch.aggregate` blocks of `sources`, by rule id (the title when a rule has
/// none); invalid blocks are returned as (path, reason).
pub fn aggregate_specs(
    sources: &[RuleSource],
) -> (HashMap<String, AggregateSpec>, Vec<(String, String)>) {
    let mut specs = HashMap::new();
    let mut errors = Vec::new();
    for s in sources.iter().filter(|s| s.text.contains("aggregate")) {
        let Ok(docs) = tw_sigma::yaml_to_json(&s.path, &s.text) else {
            continue;
        };
        for d in docs {
            let Some(block) = d.get("tenantwatch").and_then(|t| t.get("aggregate")) else {
                continue;
            };
            let id = d
                .get("id")
                .or_else(|| d.get("title"))
                .and_then(Value::as_str);
            match (id, spec_of(block)) {
                (Some(id), Ok(spec)) => {
                    specs.insert(id.to_string(), spec);
                }
                (None, _) => errors.push((s.path.clone(), "aggregate: rule has no id".into())),
                (_, Err(e)) => errors.push((s.path.clone(), e)),
            }
        }
    }
    (specs, errors)
}

fn spec_of(block: &Value) -> Result<AggregateSpec, String> {
    let names: Vec<&str> = match block.get("by") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        return Err(
            "tenantwatch.aggregate: `by` (a finding field or a list of them) is required".into(),
        );
    }
    let by = names
        .iter()
        .map(|n| {
            ByField::parse(n).ok_or_else(|| {
                format!("tenantwatch.aggregate: unknown field {n:?} (actor.user, actor.app_id, actor.service_principal_id, actor.home_tenant_id, ip, operation)")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    match block.get("per").and_then(Value::as_str) {
        None | Some("day") => Ok(AggregateSpec { by }),
        Some(o) => Err(format!("tenantwatch.aggregate: unknown period {o:?} (day)")),
    }
}

/// Reads a key of a JSON object, compared case-insensitively (exports spell `id`, `Id`, `ID`).
fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The non-empty, lower-case text at `path`, unless it is an all-zero GUID.
fn text_at(doc: &Value, path: &[&str]) -> Option<String> {
    let mut v = doc;
    for seg in path {
        v = get_ci(v, seg)?;
    }
    let t = v.as_str()?.trim().to_ascii_lowercase();
    let empty = t.is_empty() || t.bytes().all(|b| b == b'0' || b == b'-');
    (!empty).then_some(t)
}

/// The first text found at one of `paths`.
fn first_text(doc: &Value, paths: &[&[&str]]) -> Option<String> {
    paths.iter().find_map(|p| text_at(doc, p))
}

/// An operation as both logs name it: lower case, en and em dashes as hyphens, spaces collapsed,
/// no trailing full stop (the unified audit log adds one to Entra operation names).
pub fn normal_operation(op: &str) -> String {
    let unified: String = op
        .chars()
        .map(|c| match c {
            '\u{2013}' | '\u{2014}' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let mut out = unified.split_whitespace().collect::<Vec<_>>().join(" ");
    while out.ends_with('.') || out.ends_with(' ') {
        out.pop();
    }
    out
}

/// GUIDs (lower case) found in `texts` (`ServicePrincipal_<guid>` gives its GUID).
fn guids<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for t in texts {
        let b = t.as_bytes();
        let mut i = 0;
        while i + 36 <= b.len() {
            let cand = &b[i..i + 36];
            let shape = cand.iter().enumerate().all(|(k, c)| match k {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            });
            if shape {
                out.push(String::from_utf8_lossy(cand).to_ascii_lowercase());
                i += 36;
            } else {
                i += 1;
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Target object ids a unified audit log record names (`Target[].ID`, `ObjectId`).
fn ual_targets(doc: &Value) -> Vec<String> {
    let mut texts: Vec<&str> = Vec::new();
    if let Some(Value::Array(a)) = get_ci(doc, "Target") {
        texts.extend(
            a.iter()
                .filter_map(|t| get_ci(t, "ID").and_then(Value::as_str)),
        );
    }
    texts.extend(get_ci(doc, "ObjectId").and_then(Value::as_str));
    guids(texts.into_iter())
}

/// The record paths [`identity_of`] reads: the hunt's projection keeps them, so a record's
/// identity is read from what the hunt parsed, not from a second parse of the whole record.
pub const IDENTITY_PATHS: &[&str] = &[
    "id",
    "properties.id",
    "correlationId",
    "properties.correlationId",
    "requestId",
    "properties.requestId",
    "OfficeId",
    "Id",
    "Workload",
    "OfficeWorkload",
    "IntraSystemId",
    "InterSystemsId",
    "Target",
    "ObjectId",
];

/// How copies of `ev`'s action in other logs and exports are recognised (`None` when the
/// record carries nothing that ties copies).
pub fn identity_of(ev: &Event) -> Option<Box<CopyIdentity>> {
    let doc = ev.raw.projected().unwrap_or_else(|| ev.doc());
    let mut id = CopyIdentity::default();
    let op = ev
        .canonical
        .operation_raw
        .as_deref()
        .or(ev.canonical.operation.as_deref())
        .map(normal_operation)
        .unwrap_or_default();
    let targets = || guids(ev.canonical.targets.iter().map(String::as_str));
    match ev.kind {
        LogKind::Signin => {
            let rid = first_text(doc, &[&["properties", "id"], &["id"]]);
            id.ids.extend(rid.map(|r| format!("signin:{r}")));
        }
        LogKind::DirectoryAudit => {
            let rid = first_text(doc, &[&["properties", "id"], &["id"]]);
            id.ids.extend(rid.map(|r| format!("audit:{r}")));
            let corr = first_text(doc, &[&["correlationId"], &["properties", "correlationId"]]);
            id.change = corr.map(|c| ChangeTie {
                from_ual: false,
                correlations: vec![c],
                operation: op.clone(),
                targets: targets(),
            });
        }
        LogKind::GraphActivity => {
            let rid = first_text(doc, &[&["properties", "requestId"], &["requestId"]]);
            id.ids.extend(rid.map(|r| format!("graph:{r}")));
        }
        LogKind::Ual => ual_identity(doc, op, &mut id, targets()),
        _ => return None,
    }
    (!id.ids.is_empty() || id.change.is_some()).then(|| Box::new(id))
}

/// `f` with the identity of its event's action ([`identity_of`]).
pub fn with_identity(mut f: Finding, ev: &Event) -> Finding {
    f.merged.identity = identity_of(ev);
    f
}

/// Records the follow-ups of correlation finding `f` (times in milliseconds, [`CopyIdentity::follow_up`]).
pub fn set_follow_up(f: &mut Finding, times: impl Iterator<Item = i64>) {
    let mut secs: Vec<i64> = times.map(|t| t.div_euclid(1000)).collect();
    secs.sort_unstable();
    secs.dedup();
    f.merged
        .identity
        .get_or_insert_with(Default::default)
        .follow_up = Some(secs);
}

/// A unified audit log record's identity: its record id (`Id`; `OfficeId` in Sentinel's
/// `OfficeActivity`), and for Entra records the sign-in request id (`IntraSystemId` of a logon)
/// or the tie to the directory audit (`InterSystemsId`, `IntraSystemId`).
fn ual_identity(doc: &Value, op: String, id: &mut CopyIdentity, mut targets: Vec<String>) {
    let rid = first_text(doc, &[&["OfficeId"], &["Id"]]);
    id.ids.extend(rid.map(|r| format!("ual:{r}")));
    let workload = first_text(doc, &[&["Workload"], &["OfficeWorkload"]]).unwrap_or_default();
    if workload != "azureactivedirectory" {
        return;
    }
    let intra = text_at(doc, &["IntraSystemId"]);
    if matches!(op.as_str(), "userloggedin" | "userloginfailed") {
        id.ids.extend(intra.map(|r| format!("signin:{r}")));
        return;
    }
    let mut correlations: Vec<String> = text_at(doc, &["InterSystemsId"])
        .into_iter()
        .chain(intra)
        .collect();
    correlations.dedup();
    if correlations.is_empty() {
        return;
    }
    targets.extend(ual_targets(doc));
    targets.sort();
    targets.dedup();
    id.change = Some(ChangeTie {
        from_ual: true,
        correlations,
        operation: op,
        targets,
    });
}

/// Union-find over finding positions; the root of a set is its smallest position, so sets and
/// their order do not depend on the order of the unions.
struct Sets(Vec<usize>);

impl Sets {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

fn level_rank(level: &str) -> u8 {
    match level {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        "informational" => 4,
        _ => 5,
    }
}

/// Merges copies of one action, then aggregates routine context (`aggregates`, by rule id);
/// `findings` in [`Finding::cmp_by_key`] order in, the same order out, each with `rules` set.
pub fn consolidate(
    findings: Vec<Finding>,
    aggregates: &HashMap<String, AggregateSpec>,
) -> Vec<Finding> {
    let mut merged = merge_copies(findings);
    if !aggregates.is_empty() {
        merged = aggregate(merged, aggregates);
    }
    for f in &mut merged {
        if f.merged.rules.is_empty() {
            f.merged.rules.push(f.rule.clone());
        }
        f.merged.identity = None;
    }
    merged.sort_by(Finding::cmp_by_key);
    merged
}

/// True for a correlation finding (it carries the measured `(value)`).
fn is_correlation(f: &Finding) -> bool {
    f.matched.contains_key("(value)")
}

/// What a finding says besides its lead action: empty for a finding of one action; for a
/// correlation, its follow-ups (two correlations tell the same story when their leads are
/// copies of one action and their follow-ups happened at the same seconds).
fn rest_of(f: &Finding) -> String {
    if !is_correlation(f) {
        return String::new();
    }
    let mut s = String::from("correlation\n");
    match f
        .merged
        .identity
        .as_ref()
        .and_then(|id| id.follow_up.as_ref())
    {
        // Copies of a follow-up (a sign-in in two exports) share its second.
        Some(times) => {
            for t in times {
                s.push_str(&format!("{t}\n"));
            }
        }
        None => {
            for p in f.evidence.iter().skip(1) {
                s.push_str(&format!("{}#{}\n", p.file, p.record));
            }
        }
    }
    s
}

/// Ties findings that hold the same action: the same record matched by several rules, the
/// same id in several exports, or one directory change in both logs (for correlations: the
/// same follow-up records after leads that are copies of one action).
fn tie_copies(findings: &[Finding]) -> Sets {
    let mut sets = Sets((0..findings.len()).collect());
    // Record, request and audit ids are GUIDs unique across tenants: a copy whose export names
    // no tenant (Graph `directoryAudits` pages) still finds its twin.
    let mut first: HashMap<String, usize> = HashMap::new();
    let rests: Vec<String> = findings.iter().map(rest_of).collect();
    for (i, f) in findings.iter().enumerate() {
        // A record matched by several rules is one action.
        let record = match f.evidence.as_slice() {
            [p] if !is_correlation(f) => Some(format!("record:{}\n{}", p.file, p.record)),
            _ => None,
        };
        let ids = f
            .merged
            .identity
            .iter()
            .flat_map(|id| id.ids.iter().cloned());
        for key in ids.chain(record) {
            let key = format!("{}{key}", rests[i]);
            match first.entry(key) {
                hashbrown::hash_map::Entry::Occupied(e) => sets.union(*e.get(), i),
                hashbrown::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
    }
    tie_changes(findings, &rests, &mut sets);
    sets
}

/// Pairs the unified audit log copy of a directory change with its directory audit copy: same
/// operation and correlation id, same tenant (or one copy naming none), times within [`CHANGE_TOLERANCE_MS`], and — when a
/// correlation holds several such changes — the only pair naming a common target. Ambiguous
/// pairs are left apart.
fn tie_changes(findings: &[Finding], rests: &[String], sets: &mut Sets) {
    type Key<'a> = (&'a str, &'a str, &'a str);
    let mut groups: BTreeMap<Key<'_>, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(c) = f.merged.identity.as_ref().and_then(|id| id.change.as_ref()) else {
            continue;
        };
        for corr in &c.correlations {
            groups
                .entry((c.operation.as_str(), corr.as_str(), rests[i].as_str()))
                .or_default()
                .push(i);
        }
    }
    let tie = |i: usize| {
        findings[i]
            .merged
            .identity
            .as_ref()
            .and_then(|id| id.change.as_ref())
    };
    for members in groups.values() {
        // One representative per action already tied (its first finding), per side.
        let mut ual: Vec<(usize, usize)> = Vec::new();
        let mut audit: Vec<(usize, usize)> = Vec::new();
        for &i in members {
            let root = sets.root(i);
            let side = if tie(i).is_some_and(|c| c.from_ual) {
                &mut ual
            } else {
                &mut audit
            };
            if !side.iter().any(|(r, _)| *r == root) {
                side.push((root, i));
            }
        }
        // Same tenant (or one copy naming none), times within the tolerance.
        let close = |a: usize, b: usize| {
            let (fa, fb) = (&findings[a], &findings[b]);
            let tenant = match (&fa.tenant_id, &fb.tenant_id) {
                (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                _ => true,
            };
            tenant
                && match (fa.time, fb.time) {
                    (Some(x), Some(y)) => (x.millis() - y.millis()).abs() <= CHANGE_TOLERANCE_MS,
                    _ => false,
                }
        };
        let shares_target = |a: usize, b: usize| match (tie(a), tie(b)) {
            (Some(x), Some(y)) => x.targets.iter().any(|t| y.targets.contains(t)),
            _ => false,
        };
        if let ([(_, u)], [(_, d)]) = (ual.as_slice(), audit.as_slice()) {
            if close(*u, *d) {
                sets.union(*u, *d);
            }
            continue;
        }
        let fits = |u: usize, d: usize| close(u, d) && shares_target(u, d);
        for &(_, u) in &ual {
            let ds: Vec<usize> = audit.iter().map(|a| a.1).filter(|&d| fits(u, d)).collect();
            if let [d] = ds.as_slice()
                && ual.iter().filter(|x| fits(x.1, *d)).count() == 1
            {
                sets.union(u, *d);
            }
        }
    }
}

/// The findings of each set of copies, merged (sets in order of their first finding).
fn merge_copies(findings: Vec<Finding>) -> Vec<Finding> {
    let mut sets = tie_copies(&findings);
    let roots: Vec<usize> = (0..findings.len()).map(|i| sets.root(i)).collect();
    if roots.iter().enumerate().all(|(i, r)| *r == i) {
        return findings;
    }
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for (f, r) in findings.into_iter().zip(roots) {
        let k = *slot.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[k].push(f);
    }
    groups.into_iter().filter_map(merge_group).collect()
}

/// Every rule of `members`, `first` first, then by level (most severe first) and id.
fn union_rules(first: &RuleRef, members: &[Finding]) -> Vec<RuleRef> {
    let mut others: Vec<&RuleRef> = members
        .iter()
        .flat_map(Finding::all_rules)
        .filter(|r| r.id != first.id)
        .collect();
    others.sort_by(|a, b| (level_rank(&a.level), &a.id).cmp(&(level_rank(&b.level), &b.id)));
    others.dedup_by(|a, b| a.id == b.id);
    std::iter::once(first.clone())
        .chain(others.into_iter().cloned())
        .collect()
}

/// Every evidence record of `members`, in their order, once.
fn union_evidence(members: &[Finding]) -> Vec<Provenance> {
    let mut seen: HashSet<(&str, u64)> = HashSet::new();
    let mut out = Vec::new();
    for p in members.iter().flat_map(|f| &f.evidence) {
        if seen.insert((&p.file, p.record)) {
            out.push(p.clone());
        }
    }
    out
}

/// One finding for the copies of one action: the most severe rule's, its time the earliest
/// copy's, every copy's evidence, missing values filled from the other copies.
fn merge_group(mut members: Vec<Finding>) -> Option<Finding> {
    if members.len() < 2 {
        return members.pop();
    }
    let base = (0..members.len()).min_by_key(|&i| (level_rank(&members[i].rule.level), i))?;
    let mut f = members[base].clone();
    f.merged.rules = union_rules(&members[base].rule, &members);
    f.evidence = union_evidence(&members);
    f.log = members[0].log;
    f.time = members.iter().filter_map(|m| m.time).min();
    // The copies of the action: the records its members lead with (a first-seen finding or a
    // correlation also lists records of later actions).
    let leads: HashSet<(&str, u64)> = members
        .iter()
        .filter_map(|m| m.evidence.first())
        .map(|p| (&*p.file, p.record))
        .collect();
    let copies = leads.len() as u64;
    f.merged.copies = (copies > 1).then_some(copies);
    for m in &members {
        fill(&mut f.actor.user, &m.actor.user);
        fill(&mut f.actor.app_id, &m.actor.app_id);
        fill(
            &mut f.actor.service_principal_id,
            &m.actor.service_principal_id,
        );
        fill(&mut f.actor.home_tenant_id, &m.actor.home_tenant_id);
        fill(&mut f.tenant_id, &m.tenant_id);
        fill(&mut f.ip, &m.ip);
        fill(&mut f.operation, &m.operation);
        for (k, v) in &m.matched {
            f.matched.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Some(f)
}

fn fill(to: &mut Option<String>, from: &Option<String>) {
    if to.is_none() {
        to.clone_from(from);
    }
}

/// One finding per rule × actor × tenant × UTC day for the rules of `specs`; other findings
/// pass through. An aggregate stands where its first finding stood.
fn aggregate(findings: Vec<Finding>, specs: &HashMap<String, AggregateSpec>) -> Vec<Finding> {
    type Key = (String, Option<String>, Vec<Option<String>>, Option<i64>);
    // Groups, each with whether it is aggregated.
    let mut out: Vec<(bool, Vec<Finding>)> = Vec::new();
    let mut slot: HashMap<Key, usize> = HashMap::new();
    for f in findings {
        let Some(spec) = specs.get(&f.rule.id).filter(|_| f.merged.count.is_none()) else {
            out.push((false, vec![f]));
            continue;
        };
        let key: Key = (
            f.rule.id.clone(),
            f.tenant_id.clone(),
            spec.by
                .iter()
                .map(|b| b.of(&f).map(str::to_string))
                .collect(),
            f.time.map(|t| t.millis().div_euclid(DAY_MS)),
        );
        match slot.get(&key) {
            Some(&k) => out[k].1.push(f),
            None => {
                slot.insert(key, out.len());
                out.push((true, vec![f]));
            }
        }
    }
    out.into_iter()
        .filter_map(|(aggregated, g)| {
            if aggregated {
                aggregate_group(g)
            } else {
                merge_group(g)
            }
        })
        .collect()
}

/// The aggregate of one actor's routine actions in one tenant and day: the first action's
/// finding, keeping only values every action shares, with the count, the last time and every
/// record.
fn aggregate_group(members: Vec<Finding>) -> Option<Finding> {
    let mut f = members.first()?.clone();
    f.merged.rules = union_rules(&f.rule, &members);
    f.evidence = union_evidence(&members);
    f.merged.count = Some(members.len() as u64);
    f.merged.until = members.iter().filter_map(|m| m.time).max();
    f.merged.copies = None;
    for m in &members[1..] {
        keep_shared(&mut f.actor.user, &m.actor.user);
        keep_shared(&mut f.actor.app_id, &m.actor.app_id);
        keep_shared(
            &mut f.actor.service_principal_id,
            &m.actor.service_principal_id,
        );
        keep_shared(&mut f.actor.home_tenant_id, &m.actor.home_tenant_id);
        keep_shared(&mut f.ip, &m.ip);
        keep_shared(&mut f.operation, &m.operation);
        f.matched.retain(|k, v| m.matched.get(k) == Some(v));
    }
    Some(f)
}

fn keep_shared(to: &mut Option<String>, other: &Option<String>) {
    if to != other {
        *to = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_compare_as_both_logs_name_them() {
        assert_eq!(
            normal_operation("Add service principal credentials."),
            normal_operation("Add service principal credentials")
        );
        assert_eq!(
            normal_operation("Update application \u{2013} Certificates and secrets management "),
            normal_operation("Update application - Certificates and secrets  management.")
        );
        assert_ne!(
            normal_operation("Add member to role."),
            normal_operation("Remove member from role")
        );
    }

    #[test]
    fn target_ids_are_read_from_prefixed_and_plain_ids() {
        let got = guids(
            [
                "ServicePrincipal_3FF62D4E-5158-467b-9d42-c60e6d22c7c5",
                "HR Directory Sync",
                "3ff62d4e-5158-467b-9d42-c60e6d22c7c5",
                "not-a-guid-3ff62d4e-5158",
            ]
            .into_iter(),
        );
        assert_eq!(got, ["3ff62d4e-5158-467b-9d42-c60e6d22c7c5"]);
    }

    fn read(t: i64, app: &str, user: &str, record: u64) -> Finding {
        Finding {
            rule: RuleRef {
                id: "ctx".into(),
                title: "Mail read by an application".into(),
                level: "informational".into(),
                tags: Vec::new(),
                origin: tw_event::Origin::Builtin,
            },
            time: Some(tw_event::Timestamp(t)),
            tenant_id: Some("t1".into()),
            actor: tw_event::Actor {
                user: Some(user.into()),
                app_id: Some(app.into()),
                ..Default::default()
            },
            ip: Some("1.2.3.4".into()),
            operation: Some("MailItemsAccessed".into()),
            log: LogKind::Ual,
            evidence: vec![Provenance {
                file: "ual.json".into(),
                record,
                line: record + 1,
            }],
            matched: Default::default(),
            merged: Default::default(),
        }
    }

    #[test]
    fn context_is_aggregated_per_actor_tenant_and_utc_day() {
        let specs = HashMap::from([(
            "ctx".to_string(),
            AggregateSpec {
                by: vec![ByField::AppId],
            },
        )]);
        let h = 3_600_000;
        // Two reads by app A on day 0 (two mailboxes), one by app B, one by A just after midnight.
        let input = vec![
            read(h, "a", "u1", 0),
            read(2 * h, "b", "u1", 1),
            read(3 * h, "a", "u2", 2),
            read(DAY_MS, "a", "u1", 3),
        ];
        let out = consolidate(input, &specs);
        // (application, count, records, user shared by every read)
        type Row<'a> = (Option<&'a str>, Option<u64>, usize, Option<&'a str>);
        let got: Vec<Row<'_>> = out
            .iter()
            .map(|f| {
                (
                    f.actor.app_id.as_deref(),
                    f.merged.count,
                    f.evidence.len(),
                    f.actor.user.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("a"), Some(2), 2, None),
                (Some("b"), Some(1), 1, Some("u1")),
                (Some("a"), Some(1), 1, Some("u1")),
            ]
        );
        assert_eq!(out[0].merged.until, Some(tw_event::Timestamp(3 * h)));
        assert_eq!(out[0].ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(out[0].merged.rules.len(), 1);
    }

    #[test]
    fn aggregate_blocks_are_checked() {
        let src = |body: &str| RuleSource {
            path: "r.yml".into(),
            text: format!(
                "title: T\nid: r1\nlogsource: {{product: m365}}\ndetection: {{s: {{Operation: x}}, condition: s}}\ntenantwatch:\n  aggregate:\n{body}"
            ),
            origin: tw_event::Origin::User,
        };
        let (specs, errors) = aggregate_specs(&[src("    by: [actor.app_id, ip]\n    per: day\n")]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(specs["r1"].by, [ByField::AppId, ByField::Ip]);
        for bad in [
            "    by: actor.name\n",
            "    per: day\n",
            "    by: ip\n    per: week\n",
        ] {
            let (specs, errors) = aggregate_specs(&[src(bad)]);
            assert!(specs.is_empty() && errors.len() == 1, "{bad}: {errors:?}");
        }
    }
}
