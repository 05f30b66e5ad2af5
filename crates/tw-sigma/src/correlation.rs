//! Correlation rules (Sigma correlation specification): the model, its loader, and the
//! [`CorrelationEngine`] that evaluates them over matches fed by the caller.
//!
//! Semantics chosen where the specification is silent:
//! - Time is the event time given by the caller (milliseconds). Windows slide: a window
//!   starts at each observation (in time order) and covers `[t, t + timespan]`, both ends
//!   inclusive (events exactly `timespan` apart are in one window). When a window satisfies
//!   the condition it is reported with every observation it holds, and the scan resumes
//!   after that window (reported windows do not overlap).
//! - Input may arrive in any order: observations are buffered per correlation and group and
//!   evaluated, sorted by (time, arrival order), in [`CorrelationEngine::finish`].
//! - A `group-by` field missing from an event (after aliases) drops that observation from
//!   the correlation; drops are counted in [`CorrelationStats::missing_group_field`].
//!   A multi-valued group field uses its first value.
//! - `temporal` without a condition requires every referenced rule in the window;
//!   `temporal_ordered` requires them in the listed order (ties in time follow arrival order).
//! - `value_count` counts distinct (case-sensitive) values of `field`; `value_sum`,
//!   `value_avg` and `value_percentile` use numeric values of `field` (non-numeric values are
//!   ignored). `value_percentile` takes the `percentile` key of the condition (0–100,
//!   default 50, nearest-rank) and compares that percentile of the window's values.
//! - Chaining: a correlation may refer to another correlation; each match of the inner one is
//!   an observation of the outer one at the time of its last event, with the inner group
//!   values as fields and every event behind it as evidence; an outer `value_count` counts its
//!   `field` among the inner group values (else the inner measured values).
//! - A `temporal_ordered` match's events start at the first observation of its first
//!   reference: observations before it in the window contribute nothing.
//! - State is bounded by [`CorrelationLimits::max_observations`]; observations beyond it are
//!   dropped and counted in [`CorrelationStats::dropped`] (never silently).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::event::{SigmaEvent, first_text};
use crate::rule::{Level, RuleError, Status, string_list, text_of};
use crate::yaml::{Kind, Node};

/// Correlation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

impl CorrelationType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "event_count" => Self::EventCount,
            "value_count" => Self::ValueCount,
            "temporal" => Self::Temporal,
            "temporal_ordered" => Self::TemporalOrdered,
            "value_sum" => Self::ValueSum,
            "value_avg" => Self::ValueAvg,
            "value_percentile" => Self::ValuePercentile,
            _ => return None,
        })
    }

    /// The type as written in rules.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::EventCount => "event_count",
            Self::ValueCount => "value_count",
            Self::Temporal => "temporal",
            Self::TemporalOrdered => "temporal_ordered",
            Self::ValueSum => "value_sum",
            Self::ValueAvg => "value_avg",
            Self::ValuePercentile => "value_percentile",
        }
    }

    fn needs_field(&self) -> bool {
        matches!(
            self,
            Self::ValueCount | Self::ValueSum | Self::ValueAvg | Self::ValuePercentile
        )
    }
}

/// The correlation condition: every given bound must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorrelationCondition {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub eq: Option<f64>,
    pub neq: Option<f64>,
    /// `field` for value_* types.
    pub field: Option<String>,
    /// `percentile` for value_percentile.
    pub percentile: Option<f64>,
}

impl CorrelationCondition {
    /// Whether `x` satisfies every bound.
    pub fn holds(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
            && self.eq.is_none_or(|b| x == b)
            && self.neq.is_none_or(|b| x != b)
    }

    fn has_bound(&self) -> bool {
        self.gt.is_some()
            || self.gte.is_some()
            || self.lt.is_some()
            || self.lte.is_some()
            || self.eq.is_some()
            || self.neq.is_some()
    }
}

/// A parsed correlation rule.
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    pub path: String,
    pub line: usize,
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<Status>,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub kind: CorrelationType,
    /// Referenced rules (ids or names), in order.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Timespan in milliseconds.
    pub timespan_ms: i64,
    pub condition: CorrelationCondition,
    /// alias → (rule id or name → field).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// Whether the referenced rules also report stand-alone matches.
    pub generate: bool,
}

/// Parses a timespan like `30s`, `5m`, `1h`, `2d`, `1w` into milliseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    if n <= 0 {
        return None;
    }
    let mult = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 604_800_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn num(node: &Node) -> Option<f64> {
    match &node.kind {
        Kind::Int(i, _) => Some(*i as f64),
        Kind::Float(f, _) => Some(*f),
        Kind::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn parse_correlation(doc: &Node, path: &str) -> Result<CorrelationRule, RuleError> {
    let err = |line: usize, msg: String| RuleError::new(path, Some(line), msg);
    let title = doc
        .get("title")
        .and_then(text_of)
        .ok_or_else(|| err(doc.line, "correlation has no 'title'".into()))?;
    let Some(c) = doc.get("correlation") else {
        return Err(err(doc.line, "missing 'correlation'".into()));
    };
    if !matches!(c.kind, Kind::Map(_)) {
        return Err(err(c.line, "'correlation' must be a map".into()));
    }
    let type_node = c
        .get("type")
        .ok_or_else(|| err(c.line, "correlation has no 'type'".into()))?;
    let kind = type_node
        .as_str()
        .and_then(CorrelationType::parse)
        .ok_or_else(|| {
            err(
                type_node.line,
                format!(
                    "unknown correlation type {:?}",
                    type_node.scalar_text().unwrap_or_default()
                ),
            )
        })?;
    let rules = string_list(c.get("rules"));
    if rules.is_empty() {
        return Err(err(
            c.line,
            "correlation refers to no rule ('rules')".into(),
        ));
    }
    let group_by = string_list(c.get("group-by"));
    let ts_node = c
        .get("timespan")
        .or_else(|| c.get("timeframe"))
        .ok_or_else(|| err(c.line, "correlation has no 'timespan'".into()))?;
    let ts_text = ts_node.scalar_text().unwrap_or_default();
    let timespan_ms = parse_timespan(&ts_text)
        .ok_or_else(|| err(ts_node.line, format!("invalid timespan {ts_text:?}")))?;
    let condition = parse_condition(c, kind, &err)?;
    let aliases = parse_aliases(c, &err)?;
    let generate = match c.get("generate").or_else(|| doc.get("generate")) {
        Some(Node {
            kind: Kind::Bool(b),
            ..
        }) => *b,
        Some(n) => return Err(err(n.line, "'generate' must be true or false".into())),
        None => false,
    };
    let level = match doc.get("level") {
        Some(n) => Some(
            n.as_str()
                .and_then(Level::parse)
                .ok_or_else(|| err(n.line, "unknown level".into()))?,
        ),
        None => None,
    };
    Ok(CorrelationRule {
        path: path.to_string(),
        line: doc.line,
        title,
        id: doc.get("id").and_then(text_of),
        name: doc.get("name").and_then(text_of),
        status: doc
            .get("status")
            .and_then(text_of)
            .map(|s| match s.as_str() {
                "deprecated" => Status::Deprecated,
                "unsupported" => Status::Unsupported,
                "stable" => Status::Stable,
                "test" => Status::Test,
                "experimental" => Status::Experimental,
                _ => Status::Other(s),
            }),
        level,
        description: doc.get("description").and_then(text_of),
        tags: string_list(doc.get("tags")),
        kind,
        rules,
        group_by,
        timespan_ms,
        condition,
        aliases,
        generate,
    })
}

/// The `condition` of a correlation (its `field` also read beside it, as older rules write it).
fn parse_condition(
    c: &Node,
    kind: CorrelationType,
    err: &dyn Fn(usize, String) -> RuleError,
) -> Result<CorrelationCondition, RuleError> {
    let mut condition = CorrelationCondition::default();
    match c.get("condition") {
        Some(
            n @ Node {
                kind: Kind::Map(entries),
                ..
            },
        ) => {
            for (k, v) in entries {
                let key = k.key_text().unwrap_or_default();
                let bad = || err(v.line, format!("condition '{key}' needs a number"));
                match key.as_str() {
                    "gt" => condition.gt = Some(num(v).ok_or_else(bad)?),
                    "gte" => condition.gte = Some(num(v).ok_or_else(bad)?),
                    "lt" => condition.lt = Some(num(v).ok_or_else(bad)?),
                    "lte" => condition.lte = Some(num(v).ok_or_else(bad)?),
                    "eq" => condition.eq = Some(num(v).ok_or_else(bad)?),
                    "neq" => condition.neq = Some(num(v).ok_or_else(bad)?),
                    "percentile" => condition.percentile = Some(num(v).ok_or_else(bad)?),
                    "field" => condition.field = string_list(Some(v)).into_iter().next(),
                    _ => {
                        return Err(err(
                            k.line,
                            format!("unknown correlation condition '{key}'"),
                        ));
                    }
                }
            }
            if !condition.has_bound() {
                return Err(err(
                    n.line,
                    "correlation condition has no bound (gt, gte, lt, lte, eq)".into(),
                ));
            }
        }
        Some(n) => return Err(err(n.line, "correlation 'condition' must be a map".into())),
        None => {
            if !matches!(
                kind,
                CorrelationType::Temporal | CorrelationType::TemporalOrdered
            ) {
                return Err(err(
                    c.line,
                    format!("{} correlation needs a 'condition'", kind.as_str()),
                ));
            }
        }
    }
    if condition.field.is_none()
        && let Some(f) = c.get("field")
    {
        condition.field = text_of(f);
    }
    if kind.needs_field() && condition.field.is_none() {
        return Err(err(
            c.line,
            format!("{} correlation needs a condition 'field'", kind.as_str()),
        ));
    }
    if let Some(p) = condition.percentile
        && !(0.0..=100.0).contains(&p)
    {
        return Err(err(c.line, "percentile must be between 0 and 100".into()));
    }
    Ok(condition)
}

/// The `aliases` of a correlation: alias → (rule name → field).
fn parse_aliases(
    c: &Node,
    err: &dyn Fn(usize, String) -> RuleError,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, RuleError> {
    let mut aliases = BTreeMap::new();
    if let Some(a) = c.get("aliases") {
        let Kind::Map(entries) = &a.kind else {
            return Err(err(a.line, "'aliases' must be a map".into()));
        };
        for (k, v) in entries {
            let Kind::Map(m) = &v.kind else {
                return Err(err(
                    v.line,
                    "each alias must map rule names to fields".into(),
                ));
            };
            let mut per_rule = BTreeMap::new();
            for (rk, rv) in m {
                per_rule.insert(
                    rk.key_text().unwrap_or_default(),
                    text_of(rv).unwrap_or_default(),
                );
            }
            aliases.insert(k.key_text().unwrap_or_default(), per_rule);
        }
    }
    Ok(aliases)
}

/// Bounds of the correlation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationLimits {
    /// Maximum observations buffered over all correlations and groups: it bounds the groups
    /// (each holds at least one observation) and the observations of any one group alike.
    /// Observations past it are dropped and counted. 0 buffers nothing (every observation is
    /// dropped and counted).
    pub max_observations: usize,
}

impl Default for CorrelationLimits {
    fn default() -> Self {
        CorrelationLimits {
            max_observations: 2_000_000,
        }
    }
}

/// Counters of a [`CorrelationEngine`]; non-zero `dropped` or `missing_group_field` should
/// be reported to the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrelationStats {
    /// Observations buffered.
    pub observed: u64,
    /// Observations dropped because the state limit was reached.
    pub dropped: u64,
    /// Observations dropped because a group-by field was missing.
    pub missing_group_field: u64,
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationMatch {
    /// Index into [`crate::RuleSet::correlations`].
    pub correlation: usize,
    /// Group-by field names and values.
    pub group: Vec<(String, String)>,
    /// Time of the first and last contributing event (ms).
    pub first_ms: i64,
    pub last_ms: i64,
    /// The measured value (count, distinct count, sum, average, percentile, or number of
    /// rules seen for temporal types).
    pub value: f64,
    /// Every contributing event id, in time order, without duplicates.
    pub events: Vec<u64>,
}

#[derive(Debug, Clone)]
struct Obs {
    time: i64,
    seq: u64,
    ref_pos: usize,
    value: Option<String>,
    events: ObsEvents,
}

/// The events behind an observation: one for a rule match (no allocation: every match observed
/// is kept to the end), several for a match of a correlation another one consumes.
#[derive(Debug, Clone)]
enum ObsEvents {
    One(u64),
    Many(Box<[u64]>),
}

impl ObsEvents {
    fn as_slice(&self) -> &[u64] {
        match self {
            ObsEvents::One(e) => std::slice::from_ref(e),
            ObsEvents::Many(v) => v,
        }
    }
}

/// Evaluates the correlation rules of a [`crate::RuleSet`] over rule matches fed by the
/// caller (see the module docs for the semantics).
#[derive(Debug)]
pub struct CorrelationEngine<'a> {
    set: &'a crate::RuleSet,
    limits: CorrelationLimits,
    by_rule: HashMap<usize, Vec<(usize, usize)>>,
    buffers: Vec<HashMap<Vec<String>, Vec<Obs>>>,
    stats: CorrelationStats,
    seq: u64,
    total: usize,
}

impl<'a> CorrelationEngine<'a> {
    /// Creates an engine for the correlations of `set`.
    pub fn new(set: &'a crate::RuleSet, limits: CorrelationLimits) -> Self {
        let mut by_rule: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
        for (ci, c) in set.correlations().iter().enumerate() {
            for (pos, r) in c.refs.iter().enumerate() {
                if let Ok(ri) = r {
                    by_rule.entry(*ri).or_default().push((ci, pos));
                }
            }
        }
        CorrelationEngine {
            set,
            limits,
            by_rule,
            buffers: vec![HashMap::new(); set.correlations().len()],
            stats: CorrelationStats::default(),
            seq: 0,
            total: 0,
        }
    }

    /// Whether any correlation refers to detection rule `rule` (callers may skip `observe`
    /// otherwise).
    pub fn wants(&self, rule: usize) -> bool {
        self.by_rule.contains_key(&rule)
    }

    /// Feeds one match of detection rule `rule` (index into `RuleSet::rules`) on the event
    /// `event_id` at `time_ms`. Group-by and value fields are read from `event`. Returns true
    /// when some correlation buffered it: the caller need keep nothing of an event no
    /// correlation kept (past the bound, memory must not grow with the matches).
    pub fn observe(
        &mut self,
        rule: usize,
        event_id: u64,
        time_ms: i64,
        event: &dyn SigmaEvent,
    ) -> bool {
        let Some(targets) = self.by_rule.get(&rule) else {
            return false;
        };
        let mut kept = false;
        for &(ci, pos) in targets {
            let c = &self.set.correlations()[ci];
            let mut key = Vec::with_capacity(c.group_fields[pos].len());
            let mut missing = false;
            for f in &c.group_fields[pos] {
                match first_text(event, f) {
                    Some(v) => key.push(v),
                    None => {
                        missing = true;
                        break;
                    }
                }
            }
            if missing {
                self.stats.missing_group_field += 1;
                continue;
            }
            let value = c.value_field[pos]
                .as_ref()
                .and_then(|f| first_text(event, f));
            self.seq += 1;
            let obs = Obs {
                time: time_ms,
                seq: self.seq,
                ref_pos: pos,
                value,
                events: ObsEvents::One(event_id),
            };
            if self.total >= self.limits.max_observations {
                self.stats.dropped += 1;
                continue;
            }
            self.total += 1;
            self.stats.observed += 1;
            self.buffers[ci].entry(key).or_default().push(obs);
            kept = true;
        }
        kept
    }

    /// Counters so far.
    pub fn stats(&self) -> CorrelationStats {
        self.stats
    }

    /// Feeds the matches of a correlation to the correlations that consume it (`parents`:
    /// consumer and position of the reference). An observation of a match carries every event
    /// behind it; its group-by values are read from the match's group, and so is a consumer's
    /// value field (`value_count` of a field the inner correlation groups by), else the match's
    /// measured value is the observation's value.
    fn feed_parents(&mut self, parents: &[(usize, usize)], out: &[CorrelationMatch]) {
        let corrs = self.set.correlations();
        let group_value = |m: &CorrelationMatch, name: &str| {
            m.group
                .iter()
                .find(|(k, _)| k == name)
                .or_else(|| m.group.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v.clone())
        };
        for &(pi, pos) in parents {
            let p = &corrs[pi];
            for m in out {
                let key: Option<Vec<String>> = p.group_fields[pos]
                    .iter()
                    .map(|f| group_value(m, f.name()))
                    .collect();
                let Some(key) = key else {
                    self.stats.missing_group_field += 1;
                    continue;
                };
                let value = p
                    .rule
                    .condition
                    .field
                    .as_deref()
                    .and_then(|f| group_value(m, f))
                    .unwrap_or_else(|| format!("{}", m.value));
                self.seq += 1;
                self.buffers[pi].entry(key).or_default().push(Obs {
                    time: m.last_ms,
                    seq: self.seq,
                    ref_pos: pos,
                    value: Some(value),
                    events: ObsEvents::Many(m.events.clone().into_boxed_slice()),
                });
            }
        }
    }

    /// Evaluates every correlation over everything observed (chained correlations after the
    /// ones they refer to) and returns the matches sorted by time, correlation and group.
    /// Only correlations that no other correlation consumes are returned unless
    /// `generate: true` is set on the consumer.
    pub fn finish(mut self) -> (Vec<CorrelationMatch>, CorrelationStats) {
        let corrs = self.set.correlations();
        let n = corrs.len();
        let mut results: Vec<Vec<CorrelationMatch>> = vec![Vec::new(); n];
        // Parents of each correlation: (parent, position).
        let mut parents: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (pi, p) in corrs.iter().enumerate() {
            for (pos, r) in p.refs.iter().enumerate() {
                if let Err(ci) = r
                    && let Some(v) = parents.get_mut(*ci)
                {
                    v.push((pi, pos));
                }
            }
        }
        for ci in evaluation_order(corrs) {
            let mut groups: Vec<(Vec<String>, Vec<Obs>)> =
                std::mem::take(&mut self.buffers[ci]).into_iter().collect();
            groups.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Vec::new();
            for (key, mut obs) in groups {
                obs.sort_by_key(|o| (o.time, o.seq));
                evaluate(ci, &corrs[ci], &key, &obs, &mut out);
            }
            self.feed_parents(&parents[ci], &out);
            results[ci] = out;
        }
        let mut all = Vec::new();
        for (ci, r) in results.into_iter().enumerate() {
            let consumed_silently = parents[ci].iter().any(|(pi, _)| !corrs[*pi].rule.generate);
            if !consumed_silently {
                all.extend(r);
            }
        }
        all.sort_by(|a, b| {
            (a.first_ms, a.correlation, &a.group)
                .partial_cmp(&(b.first_ms, b.correlation, &b.group))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        (all, self.stats)
    }
}

/// The order in which correlations are evaluated: passes over them in index order, each
/// evaluating those whose inner correlations are done (one in a cycle never is). At equal times
/// it orders the windows of different inner correlations an outer one observes.
pub(crate) fn evaluation_order(corrs: &[crate::Correlation]) -> Vec<usize> {
    let n = corrs.len();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for _ in 0..=n {
        for ci in 0..n {
            let ready = !done[ci]
                && corrs[ci]
                    .refs
                    .iter()
                    .all(|r| r.map_or_else(|j| done.get(j).copied().unwrap_or(true), |_| true));
            if ready {
                done[ci] = true;
                order.push(ci);
            }
        }
    }
    order
}

fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    let idx = rank.clamp(1, values.len()) - 1;
    values.get(idx).copied()
}

/// Measures one window; `None` when the window has nothing to measure.
fn measure(c: &crate::Correlation, window: &[Obs]) -> Option<f64> {
    let rule = &c.rule;
    let nums = || {
        window
            .iter()
            .filter_map(|o| o.value.as_deref().and_then(crate::event::parse_number))
            .collect::<Vec<f64>>()
    };
    Some(match rule.kind {
        CorrelationType::EventCount => window.len() as f64,
        CorrelationType::ValueCount => {
            let set: HashSet<&str> = window.iter().filter_map(|o| o.value.as_deref()).collect();
            set.len() as f64
        }
        CorrelationType::ValueSum => {
            let v = nums();
            if v.is_empty() {
                return None;
            }
            v.iter().sum()
        }
        CorrelationType::ValueAvg => {
            let v = nums();
            if v.is_empty() {
                return None;
            }
            v.iter().sum::<f64>() / v.len() as f64
        }
        CorrelationType::ValuePercentile => {
            let mut v = nums();
            percentile(&mut v, rule.condition.percentile.unwrap_or(50.0))?
        }
        CorrelationType::Temporal => {
            let set: HashSet<usize> = window.iter().map(|o| o.ref_pos).collect();
            set.len() as f64
        }
        CorrelationType::TemporalOrdered => {
            let mut next = 0usize;
            for o in window {
                if o.ref_pos == next {
                    next += 1;
                    if next == c.refs.len() {
                        break;
                    }
                }
            }
            next as f64
        }
    })
}

fn satisfied(c: &crate::Correlation, value: f64) -> bool {
    let cond = &c.rule.condition;
    match c.rule.kind {
        CorrelationType::Temporal | CorrelationType::TemporalOrdered if !cond.has_bound() => {
            value >= c.refs.len() as f64
        }
        _ => cond.holds(value),
    }
}

fn evaluate(
    ci: usize,
    c: &crate::Correlation,
    key: &[String],
    obs: &[Obs],
    out: &mut Vec<CorrelationMatch>,
) {
    let span = c.rule.timespan_ms;
    let mut i = 0;
    let mut j = 0;
    while i < obs.len() {
        let end = obs[i].time.saturating_add(span);
        if j < i {
            j = i;
        }
        while j + 1 < obs.len() && obs[j + 1].time <= end {
            j += 1;
        }
        let window = &obs[i..=j];
        if let Some(v) = measure(c, window)
            && satisfied(c, v)
        {
            // An ordered sequence starts at its first rule: observations before add nothing.
            let start = match c.rule.kind {
                CorrelationType::TemporalOrdered => {
                    window.iter().position(|o| o.ref_pos == 0).unwrap_or(0)
                }
                _ => 0,
            };
            let window = &window[start..];
            let mut events = Vec::new();
            let mut seen = HashSet::new();
            for o in window {
                for e in o.events.as_slice() {
                    if seen.insert(*e) {
                        events.push(*e);
                    }
                }
            }
            out.push(CorrelationMatch {
                correlation: ci,
                group: c
                    .rule
                    .group_by
                    .iter()
                    .cloned()
                    .zip(key.iter().cloned())
                    .collect(),
                first_ms: window[0].time,
                last_ms: window[window.len() - 1].time,
                value: v,
                events,
            });
            i = j + 1;
        } else {
            i += 1;
        }
    }
}
