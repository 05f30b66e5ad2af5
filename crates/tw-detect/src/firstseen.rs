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
//! Entity and value fields are `tw.*` canonical fields or record fields (a candidate without a
//! non-empty value for each is dropped; a record field the detection does not name is read from
//! each candidate's whole record). With `actors: cross_tenant` only entities whose `tw.user` appears in a
//! cross-tenant event anywhere in the data read are considered (the partner's accounts, also in
//! the partner's own tenant). Evaluation runs after the ordered merge of all events, so results
//! are the same whatever the thread count. Durations: `s`, `m`, `h`, `d` suffixes.
//!
//! A correlation rule may carry `tenantwatch.new_behaviour` (`entity`: some of its group-by
//! fields; `baseline`, 72h by default): the events of the rules it correlates in the baseline
//! period — from the earliest of them — teach which entities are usual. Matches in the baseline
//! period are not reported, and a later match only when its entity had no such event in the
//! baseline period (a backup application reading mail from its usual address is usual; an
//! application reading mail in bulk from an address it never read mail from is new).

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

/// A field name or a list of them (anything else: none).
fn names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The `baseline` of extension block `block` (named `name` in errors), 72 hours when absent.
fn baseline(block: &Value, name: &str) -> Result<i64, String> {
    match block.get("baseline") {
        None => Ok(72 * 3_600_000),
        Some(v) => v
            .as_str()
            .and_then(parse_duration_ms)
            .ok_or_else(|| format!("tenantwatch.{name}: bad baseline {v}")),
    }
}

/// Reads the `tenantwatch.first_seen` block of one rule document: `Ok(None)` when absent.
pub fn spec_of(doc: &Value) -> Result<Option<FirstSeenSpec>, String> {
    let Some(fs) = doc.get("tenantwatch").and_then(|t| t.get("first_seen")) else {
        return Ok(None);
    };
    let entity = names(fs.get("entity"));
    if entity.is_empty() {
        return Err(
            "tenantwatch.first_seen: `entity` (a field or a list of fields) is required".into(),
        );
    }
    let Some(value) = fs.get("value").and_then(Value::as_str) else {
        return Err("tenantwatch.first_seen: `value` (a field) is required".into());
    };
    let baseline_ms = baseline(fs, "first_seen")?;
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

/// The `tenantwatch.new_behaviour` block of a correlation rule: entities with events in the
/// baseline period are usual (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBehaviourSpec {
    /// Group-by fields whose values identify the entity.
    pub entity: Vec<String>,
    /// Baseline length, milliseconds after the earliest event of the correlation's rules.
    pub baseline_ms: i64,
}

impl NewBehaviourSpec {
    /// The entity (lower case) of an observation or a match, from `value` of a field by name
    /// (a missing field counts as empty).
    pub fn entity_of<'a>(&self, value: &dyn Fn(&str) -> Option<&'a str>) -> Vec<String> {
        self.entity
            .iter()
            .map(|f| value(f).unwrap_or("").to_lowercase())
            .collect()
    }
}

/// Reads the `tenantwatch.new_behaviour` block of a correlation rule document (its entity must be
/// among the correlation's group-by fields): `Ok(None)` when absent.
pub fn new_behaviour_of(doc: &Value) -> Result<Option<NewBehaviourSpec>, String> {
    let Some(nb) = doc.get("tenantwatch").and_then(|t| t.get("new_behaviour")) else {
        return Ok(None);
    };
    let entity = names(nb.get("entity"));
    if entity.is_empty() {
        return Err(
            "tenantwatch.new_behaviour: `entity` (a group-by field or a list of them) is required"
                .into(),
        );
    }
    let group_by = names(doc.get("correlation").and_then(|c| c.get("group-by")));
    if let Some(e) = entity.iter().find(|e| !group_by.contains(e)) {
        return Err(format!(
            "tenantwatch.new_behaviour: entity field {e} is not a group-by field of the correlation"
        ));
    }
    let baseline_ms = baseline(nb, "new_behaviour")?;
    Ok(Some(NewBehaviourSpec {
        entity,
        baseline_ms,
    }))
}

/// Of the matches of one `new_behaviour` correlation — (entity values, lower case; time of the
/// match) — those to report. `seen` gives, per entity, the time of its earliest event among the
/// correlated rules' events; the baseline period ends `baseline_ms` after the earliest of them.
/// Matches in the baseline period are not reported; a later match is reported unless its entity
/// had an event in the baseline period (it is then usual).
pub fn new_behaviour(
    spec: &NewBehaviourSpec,
    seen: &HashMap<Vec<String>, i64>,
    matches: &[(Vec<String>, i64)],
) -> Vec<bool> {
    let Some(start) = seen.values().min() else {
        return vec![true; matches.len()];
    };
    let end = start.saturating_add(spec.baseline_ms);
    matches
        .iter()
        .map(|(e, t)| *t > end && seen.get(e).is_none_or(|first| *first > end))
        .collect()
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
#[derive(Debug, Default)]
struct ValueState {
    /// The earliest candidate (`None` only while its hits arrive first).
    first: Option<Box<Candidate>>,
    /// (time, file, record, line) of every candidate.
    hits: Vec<(i64, FileName, u64, u64)>,
}

/// One thread's first-seen state while records stream in: per (rule, entity, value), the
/// earliest candidate the thread read in full and where every record is. The states of all
/// threads are merged at the end ([`FirstSeenState::absorb`]); the result does not depend on how
/// records were spread over threads.
#[derive(Debug, Default)]
pub struct LocalFirstSeen {
    /// By [`LocalFirstSeen::key`].
    map: HashMap<String, ValueState>,
}

impl LocalFirstSeen {
    /// Writes the key of (rule, entity, value) into `buf` (cleared first): each part after its
    /// length, so that no text a record holds makes two different triples one key.
    pub fn key(buf: &mut String, rule: usize, entity: &[String], value: &str) {
        Self::key_start(buf, rule);
        for part in entity.iter().map(String::as_str).chain([value]) {
            Self::key_part(buf, part);
        }
    }

    /// Starts the key of `rule` in `buf` (cleared first); [`LocalFirstSeen::key_part`] adds
    /// each part, entity first, value last.
    pub fn key_start(buf: &mut String, rule: usize) {
        use std::fmt::Write;
        buf.clear();
        let _ = write!(buf, "{rule}");
    }

    /// Adds one part of a key after its length.
    pub fn key_part(buf: &mut String, part: &str) {
        use std::fmt::Write;
        let _ = write!(buf, ":{}:", part.len());
        buf.push_str(part);
    }

    /// Counts a record (time `t`, provenance `p`) of the (rule, entity, value) whose key is
    /// `key`; `candidate` makes its whole candidate, called only when the record is the earliest
    /// this thread has seen for the key.
    pub fn add(
        &mut self,
        key: &str,
        t: i64,
        p: &Provenance,
        candidate: impl FnOnce() -> Candidate,
    ) {
        let hit = (t, p.file.clone(), p.record, p.line);
        match self.map.get_mut(key) {
            Some(st) => {
                st.hits.push(hit);
                let earlier = st.first.as_ref().is_none_or(|f| {
                    (Some(Timestamp(t)), Some(p)) < (f.finding.time, f.finding.evidence.first())
                });
                if earlier {
                    st.first = Some(Box::new(candidate()));
                }
            }
            None => {
                self.map.insert(
                    key.to_string(),
                    ValueState {
                        first: Some(Box::new(candidate())),
                        hits: vec![hit],
                    },
                );
            }
        }
    }
}

/// A [`ValueState`] whose earliest candidate is known.
struct Ready {
    first: Box<Candidate>,
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
    /// The state of (rule, entity, value) in the rule's history, created if new; the history's
    /// start moved to `t` if earlier.
    fn slot(
        &mut self,
        spec: &FirstSeenSpec,
        rule: usize,
        entity: &[String],
        value: &str,
        t: i64,
    ) -> Option<&mut ValueState> {
        let own;
        let history: &str = match &spec.history {
            Some(h) => h,
            None => {
                own = format!("#{rule}");
                &own
            }
        };
        match self.starts.get_mut(history) {
            Some(start) => *start = (*start).min(t),
            None => {
                self.starts.insert(history.to_string(), t);
            }
        }
        if !self.groups.contains_key(history) {
            self.groups.insert(history.to_string(), HashMap::new());
        }
        let entities = self.groups.get_mut(history)?;
        if !entities.contains_key(entity) {
            entities.insert(entity.to_vec(), HashMap::new());
        }
        let values = entities.get_mut(entity)?;
        if !values.contains_key(value) {
            values.insert(value.to_string(), Vec::new());
        }
        let rules = values.get_mut(value)?;
        let i = match rules.iter().position(|(r, _)| *r == rule) {
            Some(i) => i,
            None => {
                rules.push((rule, ValueState::default()));
                rules.len() - 1
            }
        };
        rules.get_mut(i).map(|r| &mut r.1)
    }

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
        let Some(p) = c.finding.evidence.first() else {
            return;
        };
        let hit = (t, p.file.clone(), p.record, p.line);
        let Some(st) = self.slot(spec, c.rule, &c.entity, &c.value, t) else {
            return;
        };
        st.hits.push(hit);
        match &mut st.first {
            Some(first) if first.finding.sort_key() <= c.finding.sort_key() => {}
            Some(first) => **first = c,
            None => st.first = Some(Box::new(c)),
        }
    }

    /// Merges one thread's state.
    pub fn absorb(&mut self, local: LocalFirstSeen, specs: &HashMap<usize, FirstSeenSpec>) {
        for (_, st) in local.map {
            let Some(c) = st.first else {
                continue;
            };
            let Some(spec) = specs.get(&c.rule) else {
                continue;
            };
            let Some(t) = st.hits.iter().map(|h| h.0).min() else {
                continue;
            };
            let Some(slot) = self.slot(spec, c.rule, &c.entity, &c.value, t) else {
                continue;
            };
            slot.hits.extend(st.hits);
            match &mut slot.first {
                Some(first) if first.finding.sort_key() <= c.finding.sort_key() => {}
                Some(first) => *first = c,
                None => slot.first = Some(c),
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
            let mut values: Vec<((String, usize), Ready)> = values
                .into_iter()
                .flat_map(|(v, rules)| {
                    rules.into_iter().filter_map(move |(r, st)| {
                        let first = st.first?;
                        Some((
                            (v.clone(), r),
                            Ready {
                                first,
                                hits: st.hits,
                            },
                        ))
                    })
                })
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

    fn rule_ref(id: &str) -> RuleRef {
        RuleRef {
            id: id.into(),
            title: id.into(),
            level: "medium".into(),
            tags: vec![],
            origin: Origin::Builtin,
        }
    }

    /// Rule 0: new addresses per user, after a baseline of `hours`.
    fn user_ip_spec(hours: i64, cross_tenant_actors: bool) -> HashMap<usize, FirstSeenSpec> {
        HashMap::from([(
            0,
            FirstSeenSpec {
                entity: vec!["tw.user".into()],
                value: "tw.ip".into(),
                baseline_ms: hours * 3_600_000,
                cross_tenant_actors,
                history: None,
            },
        )])
    }

    fn cand(t: i64, user: &str, ip: &str, rec: u64) -> Candidate {
        Candidate {
            rule: 0,
            entity: vec![user.into()],
            value: ip.into(),
            finding: Finding {
                rule: rule_ref("r"),
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
                merged: Default::default(),
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
        let specs = user_ip_spec(24, true);
        let users = HashSet::from(["a@p.com".to_string()]);
        let c = vec![
            cand(0, "a@p.com", "1.1.1.1", 0),
            cand(2 * h, "a@p.com", "2.2.2.2", 1),
            cand(30 * h, "a@p.com", "2.2.2.2", 2),
            cand(31 * h, "a@p.com", "6.6.6.6", 3),
            cand(40 * h, "A@p.com", "6.6.6.6", 4),
            cand(41 * h, "b@c.com", "7.7.7.7", 5),
        ];
        let f = evaluate(c, &specs, &users, &|_| rule_ref("fs"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.len(), 2);
        assert_eq!(f[0].matched["tw.ip"], "6.6.6.6");
        assert_eq!(f[0].rule.id, "fs");
    }

    #[test]
    fn thread_states_merge_to_the_same_result_whatever_the_split() {
        let h = 3_600_000;
        let specs = user_ip_spec(24, false);
        let rule = |_| rule_ref("fs");
        let all = vec![
            cand(0, "a@p.com", "1.1.1.1", 0),
            cand(31 * h, "a@p.com", "6.6.6.6", 3),
            cand(40 * h, "a@p.com", "6.6.6.6", 4),
            cand(50 * h, "a@p.com", "6.6.6.6", 5),
            cand(60 * h, "a@p.com", "1.1.1.1", 6),
        ];
        let whole =
            serde_json::to_string(&evaluate(all.clone(), &specs, &HashSet::new(), &rule)).unwrap();
        let mut buf = String::new();
        let mut local = |cs: &[&Candidate]| {
            let mut l = LocalFirstSeen::default();
            for c in cs {
                LocalFirstSeen::key(&mut buf, c.rule, &c.entity, &c.value);
                let t = c.finding.time.map(Timestamp::millis).unwrap_or(0);
                l.add(&buf, t, &c.finding.evidence[0], || (*c).clone());
            }
            l
        };
        // Two threads, the later records of the new value read first by one of them.
        for (one, two) in [
            (vec![&all[3], &all[1], &all[0]], vec![&all[4], &all[2]]),
            (vec![&all[2]], vec![&all[4], &all[3], &all[0], &all[1]]),
        ] {
            let mut st = FirstSeenState::default();
            st.absorb(local(&two), &specs);
            st.absorb(local(&one), &specs);
            let split = st.finish(&specs, &HashSet::new(), &rule);
            assert_eq!(split.len(), 1);
            assert_eq!(split[0].evidence.len(), 3);
            assert_eq!(
                split[0].matched["(first_seen)"],
                Timestamp(31 * h).to_string()
            );
            assert_eq!(serde_json::to_string(&split).unwrap(), whole);
        }
    }

    #[test]
    fn new_behaviour_reports_entities_without_baseline_events() {
        let doc = serde_json::json!({"correlation":{"group-by":["tw.app_id","tw.ip"]},
            "tenantwatch":{"new_behaviour":{"entity":["tw.app_id","tw.ip"],"baseline":"24h"}}});
        let spec = new_behaviour_of(&doc).unwrap().unwrap();
        assert_eq!(spec.baseline_ms, 86_400_000);
        let bad = serde_json::json!({"correlation":{"group-by":["tw.app_id"]},
            "tenantwatch":{"new_behaviour":{"entity":["tw.ip"]}}});
        assert!(
            new_behaviour_of(&bad)
                .unwrap_err()
                .contains("not a group-by field")
        );
        let h = 3_600_000;
        let e = |a: &str, ip: &str| vec![a.to_string(), ip.to_string()];
        // The backup app reads mail from its address from the start; app b never did.
        let seen = HashMap::from([(e("backup", "1.1.1.1"), 0), (e("b", "6.6.6.6"), 30 * h)]);
        let matches = vec![
            (e("backup", "1.1.1.1"), 2 * h), // in the baseline period: not reported
            (e("backup", "1.1.1.1"), 40 * h), // usual
            (e("b", "6.6.6.6"), 31 * h),     // new
            (e("backup", "9.9.9.9"), 50 * h), // the backup app somewhere new
        ];
        assert_eq!(
            new_behaviour(&spec, &seen, &matches),
            vec![false, false, true, true]
        );
    }

    #[test]
    fn keys_of_different_triples_differ_whatever_the_text() {
        let key = |e: &[&str], v: &str| {
            let mut b = String::new();
            let e: Vec<String> = e.iter().map(|x| x.to_string()).collect();
            LocalFirstSeen::key(&mut b, 0, &e, v);
            b
        };
        assert_ne!(key(&["a:1:b", "c"], "d"), key(&["a", "b:1:c"], "d"));
        assert_ne!(key(&["a", "b"], "c"), key(&["a", "bc"], ""));
        assert_eq!(key(&["a", "b"], "c"), key(&["a", "b"], "c"));
    }
}
