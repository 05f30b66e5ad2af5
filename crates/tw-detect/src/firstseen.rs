//! `tenantwatch.first_seen`: a documented tenantwatch extension to Sigma rules (no change to the
//! Sigma language or engine). A rule carrying it reports an event only when a value (an IP address,
//! a country, an autonomous system) is new for an entity (a partner account, an application) over
//! the data read, instead of reporting every event its detection matches:
//!
//! ```yaml
//! tenantwatch:
//!   first_seen:
//!     entity: [tw.user]          # what "that partner" / "that app" is: one or more fields
//!     value: tw.ip               # what must be new for it
//!     baseline: 72h              # the first 72 hours of the data read are the baseline
//!     actors: cross_tenant       # optional: only users seen acting across tenants in the data
//!     history: partner_ip        # optional: rules naming the same history share what is known
//! ```
//!
//! The rule's detection selects the candidate events (for example successful user sign-ins). For
//! every entity, its candidate events are taken in time order (then file, then record). The
//! baseline period runs from the earliest candidate of the history (all entities) for `baseline`;
//! the values an entity uses in it are known, and an entity that first appears after it has its
//! first value as baseline. Every later value not known is new, and each (entity, new value)
//! becomes one finding whose evidence lists every record with that value (time of the first).
//! Entity and value fields are `tw.*` canonical fields or fields the
//! rule's detection names. With `actors: cross_tenant` only entities whose `tw.user` appears in a
//! cross-tenant event anywhere in the data read are considered (the partner's accounts, also in
//! the partner's own tenant). Evaluation runs after the ordered merge of all events, so results
//! are the same whatever the thread count. Durations: `s`, `m`, `h`, `d` suffixes.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use tw_event::{Finding, Provenance, RuleRef, Timestamp};

/// One rule's first-seen parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstSeenSpec {
    /// Fields whose values identify the entity.
    pub entity: Vec<String>,
    /// The field whose value must be new for the entity.
    pub value: String,
    /// Baseline length, milliseconds after the history's earliest candidate.
    pub baseline_ms: i64,
    /// Only entities (by `tw.user`) seen in a cross-tenant event.
    pub cross_tenant_actors: bool,
    /// Rules naming the same history share what is known of an entity (for example sign-in logs
    /// and the unified audit log's log-ins of the same accounts).
    pub history: Option<String>,
}

/// Parses a duration such as `72h`, `3d`, `30m`, `45s`.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mul = match unit.trim() {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// Reads the `tenantwatch.first_seen` block of one rule document: `Ok(None)` when absent.
pub fn spec_of(doc: &Value) -> Result<Option<FirstSeenSpec>, String> {
    let Some(fs) = doc.get("tenantwatch").and_then(|t| t.get("first_seen")) else {
        return Ok(None);
    };
    let entity: Vec<String> = match fs.get("entity") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if entity.is_empty() {
        return Err(
            "tenantwatch.first_seen: `entity` (a field or a list of fields) is required".into(),
        );
    }
    let Some(value) = fs.get("value").and_then(Value::as_str) else {
        return Err("tenantwatch.first_seen: `value` (a field) is required".into());
    };
    let baseline_ms = match fs.get("baseline") {
        None => 72 * 3_600_000,
        Some(v) => v
            .as_str()
            .and_then(parse_duration_ms)
            .ok_or_else(|| format!("tenantwatch.first_seen: bad baseline {v}"))?,
    };
    let cross_tenant_actors = match fs.get("actors").and_then(Value::as_str) {
        None | Some("any") => false,
        Some("cross_tenant") => true,
        Some(o) => {
            return Err(format!(
                "tenantwatch.first_seen: unknown actors {o:?} (any, cross_tenant)"
            ));
        }
    };
    let history = fs
        .get("history")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Some(FirstSeenSpec {
        entity,
        value: value.to_string(),
        baseline_ms,
        cross_tenant_actors,
        history,
    }))
}

/// One candidate event of a first-seen rule, as merged in input order.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of the rule in the compiled set.
    pub rule: usize,
    /// Entity key values (one per entity field, lower case); candidates missing one are not
    /// kept.
    pub entity: Vec<String>,
    /// The value (lower case).
    pub value: String,
    /// The finding this event alone would be; its rule is filled in by [`evaluate`] (candidates
    /// may carry a placeholder to save memory), its matched fields from `matched`.
    pub finding: Finding,
    /// The fields and values that matched (kept apart from `finding`: a short list is far
    /// smaller than a map while candidates wait for the end of the run).
    pub matched: Vec<(String, String)>,
}

type FileName = std::sync::Arc<str>;
/// Per value: per rule (a few per history), its state.
type ByValue = HashMap<String, Vec<(usize, ValueState)>>;
type Groups = HashMap<Vec<String>, ByValue>;

/// One (value, rule) of an entity: the earliest candidate in full, every record compactly.
#[derive(Debug)]
struct ValueState {
    first: Box<Candidate>,
    /// (time, file, record, line) of every candidate.
    hits: Vec<(i64, FileName, u64, u64)>,
}

/// What first-seen evaluation keeps while events stream in: per history and entity, per value
/// and rule, the earliest candidate in full and only the provenance of the others, so memory
/// grows with distinct values and a few words per event.
#[derive(Debug, Default)]
pub struct FirstSeenState {
    /// history → entity → value → rule → state.
    groups: HashMap<String, Groups>,
    starts: HashMap<String, i64>,
}

impl FirstSeenState {
    /// Adds one candidate (candidates without a time, or of a rule without parameters, are
    /// ignored; so are candidates without a user when the rule wants cross-tenant actors).
    pub fn add(&mut self, c: Candidate, specs: &HashMap<usize, FirstSeenSpec>) {
        let Some(spec) = specs.get(&c.rule) else {
            return;
        };
        let Some(t) = c.finding.time.map(Timestamp::millis) else {
            return;
        };
        if spec.cross_tenant_actors && c.finding.actor.user.is_none() {
            return;
        }
        let history = match &spec.history {
            Some(h) => h.clone(),
            None => format!("#{}", c.rule),
        };
        let Some(p) = c.finding.evidence.first() else {
            return;
        };
        let hit = (t, p.file.clone(), p.record, p.line);
        let start = self.starts.entry(history.clone()).or_insert(t);
        *start = (*start).min(t);
        let entities = self.groups.entry(history).or_default();
        if !entities.contains_key(c.entity.as_slice()) {
            entities.insert(c.entity.clone(), HashMap::new());
        }
        let Some(values) = entities.get_mut(c.entity.as_slice()) else {
            return;
        };
        if !values.contains_key(c.value.as_str()) {
            values.insert(c.value.clone(), Vec::new());
        }
        let Some(rules) = values.get_mut(c.value.as_str()) else {
            return;
        };
        match rules.iter_mut().find(|(r, _)| *r == c.rule) {
            Some((_, st)) => {
                st.hits.push(hit);
                if c.finding.sort_key() < st.first.finding.sort_key() {
                    *st.first = c;
                }
            }
            None => {
                rules.push((
                    c.rule,
                    ValueState {
                        first: Box::new(c),
                        hits: vec![hit],
                    },
                ));
            }
        }
    }

    /// The findings: `cross_tenant_users` holds the users (lower case) seen in a cross-tenant
    /// event; `rule_ref` gives the rule of a finding by rule index.
    pub fn finish(
        self,
        specs: &HashMap<usize, FirstSeenSpec>,
        cross_tenant_users: &HashSet<String>,
        rule_ref: &dyn Fn(usize) -> RuleRef,
    ) -> Vec<Finding> {
        let FirstSeenState { groups, starts } = self;
        let mut flat: Vec<(String, Vec<String>, ByValue)> = Vec::new();
        for (history, entities) in groups {
            for (entity, values) in entities {
                flat.push((history.clone(), entity, values));
            }
        }
        flat.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut out = Vec::new();
        for (history, _, values) in flat {
            let Some(start) = starts.get(&history) else {
                continue;
            };
            let mut values: Vec<((String, usize), ValueState)> = values
                .into_iter()
                .flat_map(|(v, rules)| rules.into_iter().map(move |(r, st)| ((v.clone(), r), st)))
                .filter(|(_, st)| {
                    specs.get(&st.first.rule).is_some_and(|spec| {
                        !spec.cross_tenant_actors
                            || st
                                .first
                                .finding
                                .actor
                                .user
                                .as_deref()
                                .is_some_and(|u| cross_tenant_users.contains(&u.to_lowercase()))
                    })
                })
                .collect();
            if values.is_empty() {
                continue;
            }
            values.sort_by(|a, b| {
                a.1.first
                    .finding
                    .sort_key()
                    .cmp(&b.1.first.finding.sort_key())
                    .then(a.0.cmp(&b.0))
            });
            let Some(spec) = specs.get(&values[0].1.first.rule) else {
                continue;
            };
            let baseline_end = start.saturating_add(spec.baseline_ms);
            let mut known: HashSet<String> = HashSet::new();
            // An entity that first appears after the baseline period: its first value is its
            // baseline.
            if values[0]
                .1
                .first
                .finding
                .time
                .is_some_and(|t| t.millis() > baseline_end)
            {
                known.insert(values[0].0.0.clone());
            }
            for ((v, _), st) in &values {
                if st.hits.iter().any(|h| h.0 <= baseline_end) {
                    known.insert(v.clone());
                }
            }
            for ((v, rule), mut st) in values {
                if known.contains(&v) {
                    continue;
                }
                let Some(spec) = specs.get(&rule) else {
                    continue;
                };
                st.hits
                    .sort_unstable_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
                let first = &st.first;
                let mut f = first.finding.clone();
                f.matched = first.matched.iter().cloned().collect();
                f.rule = rule_ref(rule);
                f.evidence = st
                    .hits
                    .iter()
                    .map(|h| Provenance {
                        file: h.1.clone(),
                        record: h.2,
                        line: h.3,
                    })
                    .collect();
                for (name, val) in spec.entity.iter().zip(first.entity.iter()) {
                    f.matched.insert(name.clone(), val.clone());
                }
                f.matched.insert(spec.value.clone(), first.value.clone());
                f.matched.insert(
                    "(first_seen)".into(),
                    first
                        .finding
                        .time
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                );
                f.matched
                    .insert("(records)".into(), st.hits.len().to_string());
                out.push(f);
            }
        }
        out
    }
}

/// Evaluates the candidates of every first-seen rule at once (see [`FirstSeenState`]).
pub fn evaluate(
    candidates: Vec<Candidate>,
    specs: &HashMap<usize, FirstSeenSpec>,
    cross_tenant_users: &HashSet<String>,
    rule_ref: &dyn Fn(usize) -> RuleRef,
) -> Vec<Finding> {
    let mut st = FirstSeenState::default();
    for mut c in candidates {
        c.entity = c.entity.iter().map(|e| e.to_lowercase()).collect();
        c.value = c.value.to_lowercase();
        st.add(c, specs);
    }
    st.finish(specs, cross_tenant_users, rule_ref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_event::{Actor, LogKind, Origin};

    fn cand(t: i64, user: &str, ip: &str, rec: u64) -> Candidate {
        Candidate {
            rule: 0,
            entity: vec![user.into()],
            value: ip.into(),
            finding: Finding {
                rule: RuleRef {
                    id: "r".into(),
                    title: "r".into(),
                    level: "medium".into(),
                    tags: vec![],
                    origin: Origin::Builtin,
                },
                time: Some(Timestamp(t)),
                tenant_id: None,
                actor: Actor {
                    user: Some(user.into()),
                    ..Default::default()
                },
                ip: Some(ip.into()),
                operation: None,
                log: LogKind::Signin,
                evidence: vec![Provenance {
                    file: "f".into(),
                    record: rec,
                    line: rec + 1,
                }],
                matched: Default::default(),
            },
            matched: Vec::new(),
        }
    }

    #[test]
    fn spec_and_durations() {
        let doc: Value = serde_json::json!({"tenantwatch":{"first_seen":{"entity":"tw.user","value":"tw.ip","baseline":"2d","actors":"cross_tenant"}}});
        let s = spec_of(&doc).unwrap().unwrap();
        assert_eq!(s.baseline_ms, 2 * 86_400_000);
        assert!(s.cross_tenant_actors);
        assert_eq!(parse_duration_ms("90m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("h"), None);
        assert!(spec_of(&serde_json::json!({"tenantwatch":{"first_seen":{"value":"x"}}})).is_err());
        assert_eq!(spec_of(&serde_json::json!({"title":"x"})).unwrap(), None);
    }

    #[test]
    fn new_values_after_baseline_grouped() {
        let h = 3_600_000;
        let specs = HashMap::from([(
            0,
            FirstSeenSpec {
                entity: vec!["tw.user".into()],
                value: "tw.ip".into(),
                baseline_ms: 24 * h,
                cross_tenant_actors: true,
                history: None,
            },
        )]);
        let users = HashSet::from(["a@p.com".to_string()]);
        let c = vec![
            cand(0, "a@p.com", "1.1.1.1", 0),
            cand(2 * h, "a@p.com", "2.2.2.2", 1),
            cand(30 * h, "a@p.com", "2.2.2.2", 2),
            cand(31 * h, "a@p.com", "6.6.6.6", 3),
            cand(40 * h, "A@p.com", "6.6.6.6", 4),
            cand(41 * h, "b@c.com", "7.7.7.7", 5),
        ];
        let f = evaluate(c, &specs, &users, &|_| RuleRef {
            id: "fs".into(),
            title: "fs".into(),
            level: "medium".into(),
            tags: vec![],
            origin: Origin::Builtin,
        });
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.len(), 2);
        assert_eq!(f[0].matched["tw.ip"], "6.6.6.6");
        assert_eq!(f[0].rule.id, "fs");
    }
}
