//! `tenantwatch.burst` with `inbox_rules: hide`: a documented tenantwatch extension to a Sigma
//! detection rule. The rule selects inbox rule changes (`New-InboxRule`, `Set-InboxRule`, an
//! Outlook or web client's `UpdateInboxRules`); of them, those that hide mail — move it to a folder
//! nobody looks at (RSS Feeds, RSS Subscriptions, Conversation History, Archive, Deleted Items,
//! Junk Email), mark it read or delete it — are grouped per tenant and user into bursts (a change
//! within `gap` of the burst's last one joins it), and each burst is one finding listing every
//! change:
//!
//! ```yaml
//! tenantwatch:
//!   burst:
//!     inbox_rules: hide
//!     gap: 1h
//!     raise_to: high     # the level when the burst looks like a takeover (below)
//!     seen: [<rule id>]  # rules whose records tell where users act from (sign-ins)
//!     learning: 72h      # learning period from the start of a tenant's logs
//! ```
//!
//! A burst is reported at the rule's level, raised to `raise_to` when it holds two or more such
//! changes, a rule name of at most two characters or of punctuation only (".", ",,"), or a move to
//! RSS Feeds, RSS Subscriptions or Conversation History (folders mail clients fill themselves,
//! where no one files mail by hand). The details read per format: `Parameters` lists of the
//! Exchange cmdlets (Management API JSON, Purview CSV `AuditData`, Log Analytics `Parameters`
//! held as a JSON string) and `OperationProperties` of `UpdateInboxRules` (`RuleName`,
//! `RuleActions`).
//!
//! With `seen` rules, a burst whose changes came from an address new for the user
//! ([`crate::newaddr`]: the user acted before, never from that address, and the change is past the
//! learning period of its tenant's logs) is raised one level further (medium → high, high →
//! critical) and says so in `matched["(new_address)"]`: mailbox takeovers set their hiding rules
//! from the intruder's session, not from the owner's usual connections. A burst from a known
//! address keeps its level.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tw_event::{Event, Finding, RuleRef, Timestamp};

use crate::newaddr::SeenStore;

/// One burst rule's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurstSpec {
    /// Largest gap between two changes of one burst, milliseconds.
    pub gap_ms: i64,
    /// The level a takeover-like burst is raised to.
    pub raise_to: Option<String>,
    /// Rules whose records tell where users act from.
    pub seen: Vec<String>,
    /// Learning period from the start of a tenant's logs, milliseconds.
    pub learning_ms: i64,
}

/// Reads the `tenantwatch.burst` block of a rule document: `Ok(None)` when absent.
pub fn spec_of(doc: &Value) -> Result<Option<BurstSpec>, String> {
    let Some(b) = doc.get("tenantwatch").and_then(|t| t.get("burst")) else {
        return Ok(None);
    };
    match b.get("inbox_rules").and_then(Value::as_str) {
        Some("hide") => {}
        other => {
            return Err(format!(
                "tenantwatch.burst: unknown inbox_rules {other:?} (hide)"
            ));
        }
    }
    let gap_ms = match b.get("gap") {
        None => 3_600_000,
        Some(v) => v
            .as_str()
            .and_then(crate::firstseen::parse_duration_ms)
            .ok_or_else(|| format!("tenantwatch.burst: bad gap {v}"))?,
    };
    let raise_to = match b.get("raise_to").and_then(Value::as_str) {
        None => None,
        Some(l) if tw_sigma::Level::parse(l).is_some() => Some(l.to_ascii_lowercase()),
        Some(l) => return Err(format!("tenantwatch.burst: unknown level {l:?}")),
    };
    let seen = crate::newaddr::names(b, "seen", "tenantwatch.burst")?;
    let learning_ms = crate::newaddr::learning(b, "tenantwatch.burst")?;
    Ok(Some(BurstSpec {
        gap_ms,
        raise_to,
        seen,
        learning_ms,
    }))
}

/// Folders mail is hidden in (lower case), and of them those no one files mail in by hand.
const HIDING_FOLDERS: &[&str] = &[
    "rss feeds",
    "rss subscriptions",
    "conversation history",
    "archive",
    "deleted items",
    "junk email",
    "junk e-mail",
    "junk",
];
const UNUSED_FOLDERS: &[&str] = &["rss feeds", "rss subscriptions", "conversation history"];

/// What one inbox rule change does to hide mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hiding {
    /// The rule's name, when the record gives it.
    pub name: Option<String>,
    /// The folder mail is moved to, when one of [`HIDING_FOLDERS`] (lower case).
    pub folder: Option<String>,
    /// Actions: `delete`, `mark_read`, `move`.
    pub actions: BTreeSet<&'static str>,
}

impl Hiding {
    /// True when the change hides mail.
    pub fn hides(&self) -> bool {
        self.folder.is_some()
            || self.actions.contains("delete")
            || self.actions.contains("mark_read")
    }

    /// True when this change alone looks like a takeover's (see the module docs).
    pub fn telling(&self) -> bool {
        let short = self.name.as_deref().is_some_and(|n| {
            let n = n.trim();
            n.chars().count() <= 2 || n.chars().all(|c| !c.is_alphanumeric())
        });
        short
            || self
                .folder
                .as_deref()
                .is_some_and(|f| UNUSED_FOLDERS.contains(&f))
    }
}

/// A value that may be JSON held in a string: parsed when it is.
fn decoded(v: &Value) -> Value {
    match v {
        Value::String(s) if s.trim_start().starts_with(['[', '{']) => {
            serde_json::from_str(s).unwrap_or_else(|_| v.clone())
        }
        _ => v.clone(),
    }
}

fn get_ci<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    doc.as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

/// (Name, Value) pairs of a `Parameters` / `OperationProperties` list.
fn pairs(doc: &Value, key: &str) -> Vec<(String, String)> {
    let Some(v) = get_ci(doc, key) else {
        return Vec::new();
    };
    decoded(v)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let n = get_ci(p, "Name")?.as_str()?.to_string();
            let v = match get_ci(p, "Value")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((n, v))
        })
        .collect()
}

fn folder_in(text: &str) -> Option<String> {
    let t = text.to_lowercase();
    let t = t.trim().trim_start_matches('\\').trim_start_matches('/');
    HIDING_FOLDERS
        .iter()
        .find(|f| t == **f || t.ends_with(&format!("\\{f}")) || t.ends_with(&format!("/{f}")))
        .map(|f| f.to_string())
}

/// What an inbox rule change record does to hide mail (every format; see the module docs).
pub fn hiding_of(doc: &Value) -> Hiding {
    let mut h = Hiding::default();
    for (n, v) in pairs(doc, "Parameters") {
        let on = !v.eq_ignore_ascii_case("false") && !v.is_empty();
        match n.to_ascii_lowercase().as_str() {
            "name" => h.name = Some(v),
            "movetofolder" | "copytofolder" => {
                h.folder = folder_in(&v).or(h.folder);
                h.actions.insert("move");
            }
            "deletemessage" | "softdeletemessage" if on => {
                h.actions.insert("delete");
            }
            "markasread" if on => {
                h.actions.insert("mark_read");
            }
            _ => {}
        }
    }
    for (n, v) in pairs(doc, "OperationProperties") {
        match n.to_ascii_lowercase().as_str() {
            "rulename" => h.name = Some(v),
            "ruleactions" => client_actions(&v, &mut h),
            _ => {}
        }
    }
    h
}

/// Reads an `UpdateInboxRules` `RuleActions` value (JSON text or a flat description).
fn client_actions(v: &str, h: &mut Hiding) {
    let lower = v.to_lowercase();
    if lower.contains("delete") {
        h.actions.insert("delete");
    }
    if lower.contains("markasread") || lower.contains("mark as read") {
        h.actions.insert("mark_read");
    }
    if lower.contains("movetofolder") || lower.contains("move") {
        h.actions.insert("move");
    }
    let mut texts = Vec::new();
    collect_strings(&decoded(&Value::String(v.to_string())), &mut texts);
    h.folder = texts.iter().find_map(|t| folder_in(t)).or(h.folder.take());
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// One change observed on a worker thread.
#[derive(Debug, Clone)]
pub struct BurstObs {
    /// Index of the burst rule.
    pub rule: usize,
    /// Event time (ms).
    pub time: i64,
    /// (tenant, user), lower case.
    pub group: (String, String),
    /// What it does.
    pub hiding: Hiding,
    /// The address it came from (lower case).
    pub ip: Option<String>,
    /// The finding of its event (rule filled in when reported).
    pub finding: Box<Finding>,
}

/// Observes `ev` for burst rule `rule`: `None` when the change hides nothing.
pub fn observe(rule: usize, ev: &Event, placeholder: &RuleRef) -> Option<BurstObs> {
    let hiding = hiding_of(ev.doc());
    if !hiding.hides() {
        return None;
    }
    let c = &ev.canonical;
    Some(BurstObs {
        rule,
        // A record without a time (some exports) joins the other time-less ones of its user.
        time: c.time.map_or(i64::MIN, Timestamp::millis),
        group: (
            c.tenant_id.clone().unwrap_or_default().to_lowercase(),
            c.user.clone().unwrap_or_default().to_lowercase(),
        ),
        hiding,
        ip: c.ip.as_deref().map(|i| i.trim().to_lowercase()),
        finding: Box::new(Finding::from_event(
            placeholder.clone(),
            ev,
            BTreeMap::new(),
        )),
    })
}

/// The findings of burst rule `rule` (its observations among `obs`), `rule_ref` its rule.
/// `seen` holds where users acted from (see [`crate::newaddr`]).
pub fn evaluate(
    rule: usize,
    spec: &BurstSpec,
    (obs, seen): (&[BurstObs], &SeenStore),
    rule_ref: &RuleRef,
) -> Vec<Finding> {
    let mut mine: Vec<&BurstObs> = obs.iter().filter(|o| o.rule == rule).collect();
    mine.sort_by(|a, b| {
        (&a.group, a.time, a.finding.evidence.first()).cmp(&(
            &b.group,
            b.time,
            b.finding.evidence.first(),
        ))
    });
    let mut out = Vec::new();
    let mut burst: Vec<&BurstObs> = Vec::new();
    for o in mine {
        let joins = burst
            .last()
            .is_some_and(|l| l.group == o.group && o.time <= l.time.saturating_add(spec.gap_ms));
        if !joins && !burst.is_empty() {
            out.push(burst_finding(&burst, spec, seen, rule_ref));
            burst.clear();
        }
        burst.push(o);
    }
    if !burst.is_empty() {
        out.push(burst_finding(&burst, spec, seen, rule_ref));
    }
    out
}

/// The first change of `burst` from an address new for its user, described.
fn new_address(burst: &[&BurstObs], spec: &BurstSpec, seen: &SeenStore) -> Option<String> {
    if spec.seen.is_empty() {
        return None;
    }
    burst.iter().find_map(|o| {
        let ip = o.ip.as_deref()?;
        let (tenant, user) = &o.group;
        seen.new_for(user, ip, tenant, o.time, spec.learning_ms)
    })
}

/// The level one step above `level`.
fn raised(level: &str) -> &'static str {
    match level.to_ascii_lowercase().as_str() {
        "informational" => "low",
        "low" => "medium",
        "medium" => "high",
        _ => "critical",
    }
}

fn burst_finding(
    burst: &[&BurstObs],
    spec: &BurstSpec,
    seen: &SeenStore,
    rule_ref: &RuleRef,
) -> Finding {
    let mut f = Finding::clone(&burst[0].finding);
    f.rule = rule_ref.clone();
    let telling = burst.len() >= 2 || burst.iter().any(|o| o.hiding.telling());
    if let (true, Some(l)) = (telling, &spec.raise_to) {
        f.rule.level = l.clone();
    }
    if let Some(why) = new_address(burst, spec, seen) {
        f.rule.level = raised(&f.rule.level).to_string();
        f.matched.insert("(new_address)".into(), why);
    }
    f.evidence = burst
        .iter()
        .flat_map(|o| o.finding.evidence.iter().cloned())
        .collect();
    let names: Vec<String> = burst
        .iter()
        .map(|o| o.hiding.name.clone().unwrap_or_else(|| "(unnamed)".into()))
        .collect();
    let folders: BTreeSet<&str> = burst
        .iter()
        .filter_map(|o| o.hiding.folder.as_deref())
        .collect();
    let actions: BTreeSet<&str> = burst
        .iter()
        .flat_map(|o| o.hiding.actions.iter().copied())
        .collect();
    f.matched.insert("(rules)".into(), burst.len().to_string());
    f.matched.insert("(rule_names)".into(), names.join(" | "));
    if !folders.is_empty() {
        f.matched.insert(
            "(folders)".into(),
            folders.into_iter().collect::<Vec<_>>().join("; "),
        );
    }
    f.matched.insert(
        "(actions)".into(),
        actions.into_iter().collect::<Vec<_>>().join("; "),
    );
    if let Some(last) = burst.last().filter(|l| l.time != i64::MIN) {
        f.matched
            .insert("(last)".into(), Timestamp(last.time).to_string());
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdlet_parameters_in_every_shape() {
        let ual = serde_json::json!({"Parameters":[{"Name":"MoveToFolder","Value":"RSS Feeds"},
            {"Name":"Name","Value":"."},{"Name":"MarkAsRead","Value":"True"}]});
        let h = hiding_of(&ual);
        assert!(h.hides() && h.telling());
        assert_eq!(h.folder.as_deref(), Some("rss feeds"));
        // Log Analytics: the list as a JSON string.
        let la = serde_json::json!({"Parameters":"[{\"Name\":\"MoveToFolder\",\"Value\":\"Newsletters\"},{\"Name\":\"Name\",\"Value\":\"News\"}]"});
        assert!(!hiding_of(&la).hides());
        let del = serde_json::json!({"Parameters":[{"Name":"DeleteMessage","Value":"False"},{"Name":"Name","Value":"Keep"}]});
        assert!(!hiding_of(&del).hides());
    }

    #[test]
    fn client_rule_actions() {
        let doc = serde_json::json!({"OperationProperties":[{"Name":"RuleName","Value":"a"},
            {"Name":"RuleActions","Value":"[{\"ActionType\":\"MoveToFolder\",\"Folder\":\"Conversation History\"}]"}]});
        let h = hiding_of(&doc);
        assert_eq!(h.folder.as_deref(), Some("conversation history"));
        assert!(h.telling());
    }
}
