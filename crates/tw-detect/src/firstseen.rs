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
//! baseline period runs from the earliest candidate of the history (all entities; those of the
//! entity's tenant when `tw.tenant_id` is an entity field) for `baseline`;
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

use hashbrown::{HashMap, HashSet};

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

/// `specs` with every baseline set to `learning` (milliseconds) when it is given: the hunt's
/// learning period overrides the rules' own.
pub fn with_learning(
    specs: &HashMap<usize, FirstSeenSpec>,
    learning: Option<i64>,
) -> HashMap<usize, FirstSeenSpec> {
    specs
        .iter()
        .map(|(&i, s)| {
            let mut s = s.clone();
            s.baseline_ms = learning.unwrap_or(s.baseline_ms);
            (i, s)
        })
        .collect()
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
    /// Baseline length, milliseconds after the earliest event of the correlation's rules (of the
    /// entity's tenant, when `tw.tenant_id` is an entity field).
    pub baseline_ms: i64,
    /// Entity fields holding addresses, compared by network (IPv4 /24, IPv6 /48).
    pub networks: Vec<String>,
}

impl NewBehaviourSpec {
    /// This spec with its baseline set to `learning` (milliseconds) when it is given.
    pub fn with_learning(&self, learning: Option<i64>) -> NewBehaviourSpec {
        NewBehaviourSpec {
            baseline_ms: learning.unwrap_or(self.baseline_ms),
            ..self.clone()
        }
    }

    /// The entity (lower case) of an observation or a match, from `value` of a field by name
    /// (a missing field counts as empty).
    pub fn entity_of<'a>(&self, value: &dyn Fn(&str) -> Option<&'a str>) -> Vec<String> {
        self.entity
            .iter()
            .map(|f| {
                let v = value(f).unwrap_or("");
                if self.networks.contains(f) {
                    crate::chain::network_of(v)
                } else {
                    v.to_lowercase()
                }
            })
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
    let networks = names(nb.get("networks"));
    if let Some(n) = networks.iter().find(|n| !entity.contains(n)) {
        return Err(format!(
            "tenantwatch.new_behaviour: network field {n} is not an entity field"
        ));
    }
    Ok(Some(NewBehaviourSpec {
        entity,
        baseline_ms,
        networks,
    }))
}

/// Networks an entity used in its baseline from which it counts as rotating through a provider's
/// address pool: a new network of such an entity is not new behaviour.
pub const POOL_NETWORKS: usize = 3;

/// Of the matches of one `new_behaviour` correlation — (entity values, lower case, network fields
/// as networks; time of the match) — those to report. `seen` gives, per entity, the time of its
/// earliest event among the correlated rules' events. The baseline period runs `baseline_ms`
/// from the earliest event of the entity's tenant (when `tw.tenant_id` is an entity field; else
/// of all): matches in it are not reported, and a later match is reported unless its entity had an
/// event in the baseline period, or (with network fields) the entity without its network used
/// [`POOL_NETWORKS`] or more networks in it (a mass reader rotating through its provider's pool).
pub fn new_behaviour(
    spec: &NewBehaviourSpec,
    seen: &HashMap<Vec<String>, i64>,
    matches: &[(Vec<String>, i64)],
) -> Vec<bool> {
    let tenant = spec.entity.iter().position(|f| f == "tw.tenant_id");
    let start_of = |e: &[String]| -> Option<i64> {
        seen.iter()
            .filter(|(k, _)| tenant.is_none_or(|i| k.get(i) == e.get(i)))
            .map(|(_, t)| *t)
            .min()
    };
    let nets: Vec<usize> = spec
        .entity
        .iter()
        .enumerate()
        .filter(|(_, f)| spec.networks.contains(f))
        .map(|(i, _)| i)
        .collect();
    let without = |e: &[String]| -> Vec<String> {
        e.iter()
            .enumerate()
            .filter(|(i, _)| !nets.contains(i))
            .map(|(_, v)| v.clone())
            .collect()
    };
    matches
        .iter()
        .map(|(e, t)| {
            let Some(start) = start_of(e) else {
                return true;
            };
            let end = start.saturating_add(spec.baseline_ms);
            if *t <= end || seen.get(e).is_some_and(|first| *first <= end) {
                return false;
            }
            let me = without(e);
            let pool = seen
                .iter()
                .filter(|(k, first)| **first <= end && without(k) == me)
                .count();
            nets.is_empty() || pool < POOL_NETWORKS
        })
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

/// The key of the baseline start of `entity` in `history`: per tenant when the entity holds
/// `tw.tenant_id` (each tenant's logs start when that tenant's export starts), else the history's.
fn start_key(spec: &FirstSeenSpec, history: &str, entity: &[String]) -> String {
    match spec.entity.iter().position(|f| f == "tw.tenant_id") {
        Some(i) => format!("{history}\n{}", entity.get(i).map_or("", String::as_str)),
        None => history.to_string(),
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
    /// Where the logs read start: per tenant id (lower case), and over all of them (key "").
    log_starts: HashMap<String, i64>,
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
        let key = start_key(spec, history, entity);
        match self.starts.get_mut(&key) {
            Some(start) => *start = (*start).min(t),
            None => {
                self.starts.insert(key, t);
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

    /// Notes where the logs read start: (tenant id, time of its earliest record) for every
    /// tenant and log kind. A history's learning period then runs from the start of the logs (of
    /// the entity's tenant when the entity holds `tw.tenant_id`), or from its earliest candidate
    /// when that is earlier: a partner's accounts act in a customer tenant only now and then (not
    /// at weekends, not every day in every customer), so their first record may come days after
    /// the logs begin; learning from it would learn the days an intruder is already at work.
    pub fn learn_log_starts(&mut self, starts: impl IntoIterator<Item = (String, i64)>) {
        for (tenant, t) in starts {
            for key in [tenant.to_ascii_lowercase(), String::new()] {
                let e = self.log_starts.entry(key).or_insert(t);
                *e = (*e).min(t);
            }
        }
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
        let FirstSeenState {
            groups,
            mut starts,
            log_starts,
        } = self;
        for (key, start) in starts.iter_mut() {
            let tenant = key.split_once('\n').map_or("", |(_, t)| t);
            if let Some(&logs) = log_starts.get(&tenant.to_ascii_lowercase()) {
                *start = (*start).min(logs);
            }
        }
        let mut flat: Vec<(String, Vec<String>, ByValue)> = Vec::new();
        for (history, entities) in groups {
            for (entity, values) in entities {
                flat.push((history.clone(), entity, values));
            }
        }
        flat.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let shared = shared_baseline(&flat, specs, &starts, cross_tenant_users);
        let mut out = Vec::new();
        for (history, entity, values) in flat {
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
            let Some(start) = starts.get(&start_key(spec, &history, &entity)) else {
                continue;
            };
            let baseline_end = start.saturating_add(spec.baseline_ms);
            // An entity that first appears after the baseline period: its first value is its
            // baseline; for a partner's account only when the partner's accounts used it in
            // theirs (`late_first_value_known`).
            let known = known_values(&values, baseline_end, |v| {
                late_first_value_known(spec, &shared, &history, v)
            });
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

/// The values of one entity (`values`, earliest first) that are known: used in the baseline
/// period (ending at `baseline_end`), or, for an entity that first appears after it, its first
/// value when `late_first_known` says so.
fn known_values(
    values: &[((String, usize), Ready)],
    baseline_end: i64,
    late_first_known: impl Fn(&str) -> bool,
) -> HashSet<String> {
    let mut known: HashSet<String> = HashSet::new();
    if let Some(((first, _), st)) = values.first()
        && st
            .first
            .finding
            .time
            .is_some_and(|t| t.millis() > baseline_end)
        && late_first_known(first)
    {
        known.insert(first.clone());
    }
    for ((v, _), st) in values {
        if st.hits.iter().any(|h| h.0 <= baseline_end) {
            known.insert(v.clone());
        }
    }
    known
}

/// Per history, the values any of its entities used in its own baseline period (with
/// `actors: cross_tenant`, any of the accounts seen acting across tenants).
fn shared_baseline(
    flat: &[(String, Vec<String>, ByValue)],
    specs: &HashMap<usize, FirstSeenSpec>,
    starts: &HashMap<String, i64>,
    cross_tenant_users: &HashSet<String>,
) -> HashMap<String, HashSet<String>> {
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    for (history, entity, values) in flat {
        for (v, rules) in values {
            let in_baseline = rules.iter().any(|(r, st)| {
                let partner = st
                    .first
                    .as_ref()
                    .and_then(|f| f.finding.actor.user.as_deref())
                    .is_some_and(|u| cross_tenant_users.contains(&u.to_lowercase()));
                let end = specs
                    .get(r)
                    .filter(|spec| !spec.cross_tenant_actors || partner);
                let end = end.and_then(|spec| {
                    let start = starts.get(&start_key(spec, history, entity))?;
                    Some(start.saturating_add(spec.baseline_ms))
                });
                end.is_some_and(|end| st.hits.iter().any(|h| h.0 <= end))
            });
            if in_baseline {
                out.entry(history.clone()).or_default().insert(v.clone());
            }
        }
    }
    out
}

/// Whether the first value of an entity that first appears after the baseline period is known.
/// For most entities it is (there is no history to judge it by: it becomes the entity's
/// baseline). A partner's account (`actors: cross_tenant`) is one of its organisation's accounts,
/// which leave from the organisation's offices and VPN: its first value is known only when one
/// of those accounts used it in its baseline period. An account that wakes up after the baseline
/// from an address none of the partner's accounts used before is judged, not learnt from.
fn late_first_value_known(
    spec: &FirstSeenSpec,
    shared: &HashMap<String, HashSet<String>>,
    history: &str,
    value: &str,
) -> bool {
    !spec.cross_tenant_actors || shared.get(history).is_some_and(|k| k.contains(value))
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

    #[test]
    fn bulk_readers_judged_per_tenant_and_by_network() {
        let doc = serde_json::json!({"correlation":{"group-by":["tw.tenant_id","tw.app_id","tw.ip"]},
            "tenantwatch":{"new_behaviour":{"entity":["tw.tenant_id","tw.app_id","tw.ip"],
            "networks":["tw.ip"],"baseline":"72h"}}});
        let spec = new_behaviour_of(&doc).unwrap().unwrap();
        let ent = |t: &str, a: &str, ip: &str| {
            spec.entity_of(&|f| match f {
                "tw.tenant_id" => Some(t),
                "tw.app_id" => Some(a),
                _ => Some(ip),
            })
        };
        assert_eq!(ent("T", "A", "20.1.2.3")[2], "20.1.2.0/24");
        let h = 3_600_000;
        // Tenant x's logs start at 0, tenant y's at 100 h.
        let seen = HashMap::from([
            (ent("x", "backup", "20.1.2.3"), 0),
            (ent("x", "backup", "20.7.8.9"), 5 * h),
            (ent("x", "backup", "40.3.3.3"), 9 * h),
            (ent("x", "crm", "52.1.1.1"), h),
            (ent("y", "backup", "20.9.9.9"), 100 * h),
        ]);
        let matches = vec![
            (ent("x", "backup", "20.1.2.200"), 80 * h), // a network it used: usual
            (ent("x", "backup", "13.5.5.5"), 80 * h),   // new network of a pool reader: usual
            (ent("x", "crm", "99.1.1.1"), 80 * h),      // one network before: new
            (ent("y", "backup", "20.9.9.10"), 120 * h), // in y's own baseline period
            (ent("y", "backup", "99.9.9.9"), 200 * h),  // after it, somewhere new
        ];
        assert_eq!(
            new_behaviour(&spec, &seen, &matches),
            vec![false, false, true, false, true]
        );
        let bad = serde_json::json!({"correlation":{"group-by":["tw.ip"]},
            "tenantwatch":{"new_behaviour":{"entity":["tw.ip"],"networks":["tw.user"]}}});
        assert!(new_behaviour_of(&bad).is_err());
    }
}
