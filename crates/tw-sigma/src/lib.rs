//! A Sigma rule engine (specification v2.1.0): YAML rules → parsed rules → compiled
//! programs, matched against any event type that implements [`SigmaEvent`].
//!
//! The crate is generic: it knows nothing of log formats, files or command lines. Callers
//! hand it rule texts (with a path used in error messages), optional processing
//! [`Pipeline`]s that adapt field names to their data, optional placeholder values, and then
//! events.
//!
//! ```
//! use tw_sigma::RuleSet;
//!
//! let rule = r#"
//! title: Consent to application
//! id: 11111111-2222-3333-4444-555555555555
//! level: high
//! logsource: { product: azure, service: auditlogs }
//! detection:
//!   selection:
//!     Operation|contains: consent to application
//!     ResultType: 0
//!   condition: selection
//! "#;
//! let mut builder = RuleSet::builder();
//! builder.add_yaml("consent.yml", rule);
//! let set = builder.build();
//! assert!(set.errors().is_empty());
//!
//! let event = serde_json::json!({"Operation": "Consent to application.", "ResultType": "0"});
//! let matches = set.matches(&event);
//! assert_eq!(matches.len(), 1);
//! let rule = &set.rules()[matches[0].rule];
//! assert_eq!(rule.title(), "Consent to application");
//! assert!(matches[0].fields.contains(&("Operation".into(), "Consent to application.".into())));
//! ```
//!
//! # API in brief
//! - [`RuleSet::builder`] → [`RuleSetBuilder`]: `pipeline`, `placeholders`, `strict_fields`,
//!   `include_retired`, `logsource_filter`, `add_yaml(path, text)`, `build()`.
//! - [`RuleSet`]: `rules()`, `errors()` (every rejected rule with path, line and reason),
//!   `retired()` (skipped `deprecated`/`unsupported` rules), `fields()` (every field the set
//!   reads, with its slot), `matches(&event)` / `matches_with(&event, &mut Scratch)`,
//!   `stats()` (rule/event pairs evaluated vs skipped by the index), `correlations()`.
//! - [`Rule`]: `id`, `title`, `name`, `level`, `status`, `tags`, `logsource`, `path`,
//!   `fields` (data fields used after mapping), `unmapped_fields`, `standalone`.
//! - [`CorrelationEngine`]: `observe(rule_index, event_id, time_ms, &event)` for every rule
//!   match, then `finish()` → [`CorrelationMatch`]es with every contributing event id.
//!
//! # Semantics chosen where the specification is silent
//! - Strings compare case-insensitively (Unicode lower case) unless `|cased`; `re` is
//!   case-sensitive unless `|i`; regexes use a linear-time engine with size limits, so
//!   look-around and backreferences are rejected with a clear error.
//! - Numbers compare numerically and by canonical text: `ResultType: 0` matches `0`, `"0"`
//!   and `"0.0"`; a quoted `'0'` compares as a string and also matches the number `0`.
//! - Field lookup: a path of exact keys, and only when the event has none, case-insensitive
//!   keys; a flat key containing dots before the nested walk; an array matches if any element matches; a nested object is matched as its
//!   compact JSON text.
//! - `null` matches a missing field or JSON null; `''` matches only an empty string;
//!   `exists` tests presence only; `neq` needs the field present and no value equal.
//! - Keywords (a list or string under an identifier) are substring matches of any string
//!   leaf of the event.
//! - `1 of`, `any of`, `N of` and `all of` patterns must match at least one identifier;
//!   `them` skips identifiers starting with `_`. The obsolete `| count()` syntax is rejected.
//! - `expand` placeholders must have values (builder or pipeline `vars`), else the rule is
//!   rejected with "unresolved placeholder".
//! - `deprecated` and `unsupported` rules are skipped and listed unless
//!   [`RuleSetBuilder::include_retired`] is set.
//! - `windash` expands up to three dashes into all permutations and uses a character class
//!   beyond that; `base64offset` yields the three shifted encodings.
//! - `all` ranges over the listed values: each must match, through any of its variants
//!   (`windash` permutations, `base64offset` shifts, `expand` values).
//! - Time modifiers (`minute` … `year`) read ISO 8601 text (`YYYY-MM-DD[THH:MM]`, the
//!   digits as written, no zone conversion) or epoch seconds/milliseconds numbers; they may
//!   be combined with `lt`/`lte`/`gt`/`gte`.
//! - Correlations: see [`correlation`] for windows, ordering, missing group-by fields and
//!   bounds. A rule that correlations refer to, none of them with `generate: true`, is not
//!   [`Rule::standalone`] (one correlation asking for its matches is enough to report them);
//!   a correlation without `generate: true` hides the matches of correlations it consumes.
//! - Pipelines: see [`pipeline`] for the supported pySigma subset and ordering.
//! - Not supported (rejected with a clear reason): rule collections (`action: global`),
//!   the obsolete aggregation syntax and `timeframe` in detections.
//! - Sigma filter documents (`filter: {rules, selections, condition}`) AND their condition to
//!   every rule they name by id or name; a filter naming an unknown rule is an error.
//!
//! # Conformance
//! `tests/conformance/*.yml` holds one vector file per feature (rule, events, expected
//! matches or correlation evidence, or an expected load error); `tests/conformance.rs`
//! runs them and prints a feature × pass matrix with `--nocapture`.
//! [`yaml_to_json`] turns YAML fixtures into events for such tests.
//!
//! # Speed
//! Each detection item compiles once into a predicate shared by all rules that contain the
//! same item; needles are lowercased and encodings/windash/placeholders expanded at compile
//! time; field names become [`FieldRef`]s with dense slots. A candidate index (per-field hash
//! sets of equality literals, Aho-Corasick automata for substrings and keywords) selects the
//! rules worth evaluating for an event; the result is identical to evaluating every rule.

mod compile;
pub mod condition;
pub mod correlation;
pub mod event;
mod index;
pub mod lower;
pub mod modifier;
pub mod pipeline;
pub mod rule;
mod value;
mod yaml;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

pub use compile::Scratch;
pub use correlation::{
    CorrelationEngine, CorrelationLimits, CorrelationMatch, CorrelationRule, CorrelationStats,
    CorrelationType,
};
pub use event::{FieldRef, FieldValue, SigmaEvent};
pub use pipeline::Pipeline;
pub use rule::{
    Document, Level, LogSource, RetiredRule, RuleError, SigmaFilter, SigmaRule, Status,
    load_documents,
};

/// Parses a YAML stream into JSON values, one per document (test fixtures, event samples).
/// Errors carry the line where known.
pub fn yaml_to_json(path: &str, text: &str) -> Result<Vec<serde_json::Value>, RuleError> {
    let docs = yaml::parse_documents(text)
        .map_err(|e| RuleError::new(path, e.line, format!("invalid YAML: {}", e.message)))?;
    Ok(docs.iter().map(yaml::to_json).collect())
}

use compile::{Compiler, Hint, Predicate, Prog, collect_evidence, eval_prog};
use index::Index;

/// A compiled detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    source: SigmaRule,
    prog: Prog,
    fields: Vec<String>,
    unmapped: Vec<String>,
    standalone: bool,
}

impl Rule {
    /// `id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.source.id.as_deref()
    }
    /// `title`.
    pub fn title(&self) -> &str {
        &self.source.title
    }
    /// `name` (referred to by correlations), if any.
    pub fn name(&self) -> Option<&str> {
        self.source.name.as_deref()
    }
    /// `level`, if any.
    pub fn level(&self) -> Option<Level> {
        self.source.level
    }
    /// `status`, if any.
    pub fn status(&self) -> Option<&Status> {
        self.source.status.as_ref()
    }
    /// `tags`.
    pub fn tags(&self) -> &[String] {
        &self.source.tags
    }
    /// `logsource` (after pipelines' `change_logsource`).
    pub fn logsource(&self) -> &LogSource {
        &self.source.logsource
    }
    /// The path the rule was loaded from.
    pub fn path(&self) -> &str {
        &self.source.path
    }
    /// The data fields the rule reads (after pipeline mapping), in order of first use.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
    /// Rule fields that no pipeline mapped (empty when no pipeline is used).
    pub fn unmapped_fields(&self) -> &[String] {
        &self.unmapped
    }
    /// False when correlations refer to this rule, none of them with `generate: true`: its
    /// matches feed the correlations but are not findings on their own.
    pub fn standalone(&self) -> bool {
        self.standalone
    }
    /// The full parsed rule (all metadata, detection after pipelines).
    pub fn source(&self) -> &SigmaRule {
        &self.source
    }
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// Evidence: (field, value) pairs that made the rule match (keywords use the field
    /// name `(keywords)`; a match on a missing field shows `(missing)`).
    pub fields: Vec<(String, String)>,
}

/// Counters of the candidate index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchStats {
    /// Events matched.
    pub events: u64,
    /// (rule, event) pairs evaluated.
    pub evaluated: u64,
    /// (rule, event) pairs skipped thanks to the index.
    pub skipped: u64,
}

/// A resolved correlation rule of a set.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub(crate) rule: CorrelationRule,
    /// Referenced rules: `Ok(rule index)` or `Err(correlation index)`.
    pub(crate) refs: Vec<Result<usize, usize>>,
    /// Per reference: the group-by fields to read, parallel to `rule.group_by`.
    pub(crate) group_fields: Vec<Vec<FieldRef>>,
    /// Per reference: the value field (value_* types).
    pub(crate) value_field: Vec<Option<FieldRef>>,
}

impl Correlation {
    /// The parsed correlation rule.
    pub fn rule(&self) -> &CorrelationRule {
        &self.rule
    }
    /// Indexes of the detection rules it refers to (directly).
    pub fn rule_refs(&self) -> Vec<usize> {
        self.refs.iter().filter_map(|r| r.ok()).collect()
    }
    /// The fields an observation of detection rule `rule` is read from: its group-by fields
    /// (aliases resolved for that rule) and its value field.
    pub fn fields_of_rule(&self, rule: usize) -> Vec<&FieldRef> {
        let mut out = Vec::new();
        for (pos, r) in self.refs.iter().enumerate() {
            if *r != Ok(rule) {
                continue;
            }
            out.extend(self.group_fields.get(pos).into_iter().flatten());
            out.extend(self.value_field.get(pos).and_then(Option::as_ref));
        }
        out
    }
    /// Indexes of the correlations it refers to (chaining).
    pub fn correlation_refs(&self) -> Vec<usize> {
        self.refs.iter().filter_map(|r| r.err()).collect()
    }
}

/// A retired (`deprecated`/`unsupported`) rule that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    pub path: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub status: Status,
}

/// A compiled set of rules with its candidate index.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    preds: Vec<Predicate>,
    fields: Vec<FieldRef>,
    index: Index,
    correlations: Vec<Correlation>,
    errors: Vec<RuleError>,
    retired: Vec<SkippedRule>,
    filtered_out: usize,
    events: AtomicU64,
    evaluated: AtomicU64,
    skipped: AtomicU64,
}

/// A necessary condition of a rule on an event's text: it contains one of `literals`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LiteralClause {
    /// Lowercase literals.
    pub literals: Vec<String>,
    /// True when the literals are key names (found only in texts that spell keys out, such as
    /// JSON; not in a CSV row).
    pub keys: bool,
    /// When not empty, a key/value condition (for texts that spell keys out): a key named one of
    /// these has a value equal to or holding one of `literals` (`keys` is then true). These
    /// literals are the rule's values, not passed through the `literal` filter.
    pub pair_keys: Vec<String>,
    /// For a key/value condition, per literal: true when the value equals it (case-insensitive,
    /// as Sigma compares), false when it contains it.
    pub exact: Vec<bool>,
}

/// Builds a [`RuleSet`].
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    pipelines: Vec<Pipeline>,
    placeholders: HashMap<String, Vec<String>>,
    strict: bool,
    include_retired: bool,
    logsource: Option<LogSource>,
    docs: Vec<Document>,
    errors: Vec<RuleError>,
}

impl RuleSetBuilder {
    /// Adds a processing pipeline (pipelines run by ascending priority, then in the order added).
    pub fn pipeline(&mut self, p: Pipeline) -> &mut Self {
        self.pipelines.push(p);
        self
    }

    /// Values for `expand` placeholders (`%name%` → values; each value is a Sigma string).
    pub fn placeholders(&mut self, map: HashMap<String, Vec<String>>) -> &mut Self {
        self.placeholders.extend(map);
        self
    }

    /// Rejects rules using a field that no pipeline maps ("field X not mapped by pipeline P").
    pub fn strict_fields(&mut self, strict: bool) -> &mut Self {
        self.strict = strict;
        self
    }

    /// Also compiles `deprecated` and `unsupported` rules (default: skip and list them).
    pub fn include_retired(&mut self, yes: bool) -> &mut Self {
        self.include_retired = yes;
        self
    }

    /// Keeps only rules whose logsource is compatible: for each of product, category and
    /// service set in `ls`, the rule must not name a different value.
    pub fn logsource_filter(&mut self, ls: LogSource) -> &mut Self {
        self.logsource = Some(ls);
        self
    }

    /// Loads every document of a YAML text; errors are kept for [`RuleSet::errors`].
    /// Returns the number of documents loaded.
    pub fn add_yaml(&mut self, path: &str, text: &str) -> usize {
        let mut n = 0;
        for d in load_documents(path, text) {
            match d {
                Ok(doc) => {
                    self.docs.push(doc);
                    n += 1;
                }
                Err(e) => self.errors.push(e),
            }
        }
        n
    }

    /// Adds an already parsed document.
    pub fn add_document(&mut self, doc: Document) -> &mut Self {
        self.docs.push(doc);
        self
    }

    /// Compiles everything added so far.
    pub fn build(&mut self) -> RuleSet {
        let mut pipelines = std::mem::take(&mut self.pipelines);
        pipelines.sort_by_key(|p| p.priority);
        let docs = std::mem::take(&mut self.docs);
        let mut errors = std::mem::take(&mut self.errors);
        let mut comp = Compiler {
            vars: self.placeholders.clone(),
            ..Compiler::default()
        };
        let pipeline_names = pipelines
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut rules: Vec<Rule> = Vec::new();
        let mut progs_sources: Vec<SigmaRule> = Vec::new();
        let mut corr_rules = Vec::new();
        let mut retired = Vec::new();
        let mut filtered_out = 0;
        let mut candidates = Vec::new();
        let mut filters = Vec::new();
        for doc in docs {
            match doc {
                Document::Rule(r) => candidates.push(r),
                Document::Filter(f) => filters.push(f),
                Document::Correlation(c) => corr_rules.push(c),
                Document::Retired(r) => {
                    if self.include_retired {
                        match r.parsed {
                            Ok(rule) => candidates.push(*rule),
                            Err(e) => errors.push(e),
                        }
                    } else {
                        retired.push(SkippedRule {
                            path: r.path,
                            id: r.id,
                            title: r.title,
                            status: r.status,
                        });
                    }
                }
            }
        }
        apply_filters(&filters, &mut candidates, &mut errors);
        for r in candidates {
            if let Some(ls) = &self.logsource
                && !logsource_compatible(ls, &r.logsource)
            {
                filtered_out += 1;
                continue;
            }
            let ctx = (&pipelines[..], pipeline_names.as_str(), self.strict);
            match compile_rule(r, ctx, &mut comp) {
                Ok((rule, original)) => {
                    rules.push(rule);
                    progs_sources.push(original);
                }
                Err(e) => errors.push(e),
            }
        }
        let correlations = resolve_correlations(
            corr_rules,
            &mut rules,
            &progs_sources,
            &pipelines,
            &mut comp,
            &mut errors,
        );
        let progs: Vec<Prog> = rules.iter().map(|r| r.prog.clone()).collect();
        let index = Index::build(&progs, &comp.preds, &comp.fields);
        RuleSet {
            rules,
            preds: comp.preds,
            fields: comp.fields,
            index,
            correlations,
            errors,
            retired,
            filtered_out,
            events: AtomicU64::new(0),
            evaluated: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }
}

/// Sigma filter documents: every rule they name gets the filter's condition ANDed to its own; a
/// filter naming an unknown rule is an error.
fn apply_filters(
    filters: &[SigmaFilter],
    candidates: &mut [SigmaRule],
    errors: &mut Vec<RuleError>,
) {
    for f in filters {
        for name in &f.rules {
            let known = candidates.iter().any(|r| {
                r.id.as_deref() == Some(name.as_str()) || r.name.as_deref() == Some(name.as_str())
            });
            if !known {
                errors.push(RuleError::new(
                    &f.path,
                    Some(f.line),
                    format!("filter '{}' refers to unknown rule '{name}'", f.title),
                ));
            }
        }
    }
    for r in candidates.iter_mut() {
        for (n, f) in filters.iter().enumerate() {
            let named = f.rules.iter().any(|x| {
                r.id.as_deref() == Some(x.as_str()) || r.name.as_deref() == Some(x.as_str())
            });
            if named {
                f.apply_to(r, n);
            }
        }
    }
}

/// Applies the pipelines to one rule and compiles it: the rule and its text before the pipelines,
/// or why it is rejected (`ctx`: the pipelines, their names for messages, strict mode).
fn compile_rule(
    mut r: SigmaRule,
    ctx: (&[Pipeline], &str, bool),
    comp: &mut Compiler,
) -> Result<(Rule, SigmaRule), RuleError> {
    let (pipelines, pipeline_names, strict) = ctx;
    let original = r.clone();
    pipeline::apply(pipelines, &mut r);
    let unmapped = if pipelines.is_empty() {
        Vec::new()
    } else {
        pipeline::unmapped_fields(&r)
    };
    if strict
        && !pipelines.is_empty()
        && let Some(f) = unmapped.first()
    {
        let line = r
            .detection
            .selections
            .iter()
            .flat_map(|s| s.branches.iter().flatten())
            .find(|i| i.field.as_deref() == Some(f.as_str()))
            .map(|i| i.line);
        return Err(RuleError::new(
            &r.path,
            line,
            format!("field '{f}' not mapped by pipeline {pipeline_names}"),
        ));
    }
    let prog = comp
        .rule(&r)
        .map_err(|(line, reason)| RuleError::new(&r.path, line, reason))?;
    let mut fields: Vec<String> = Vec::new();
    for i in r
        .detection
        .selections
        .iter()
        .flat_map(|s| s.branches.iter().flatten())
    {
        for t in &i.targets {
            if !fields.contains(t) {
                fields.push(t.clone());
            }
        }
    }
    let rule = Rule {
        source: r,
        prog,
        fields,
        unmapped,
        standalone: true,
    };
    Ok((rule, original))
}

fn logsource_compatible(filter: &LogSource, rule: &LogSource) -> bool {
    let ok = |f: &Option<String>, r: &Option<String>| match (f, r) {
        (Some(f), Some(r)) => f.eq_ignore_ascii_case(r),
        _ => true,
    };
    ok(&filter.product, &rule.product)
        && ok(&filter.category, &rule.category)
        && ok(&filter.service, &rule.service)
}

/// Resolves the correlation rules against the detection rules (and each other): rejected ones
/// (unknown references, cycles) are reported in `errors`; the rules a correlation consumes
/// silently stop being standalone.
fn resolve_correlations(
    corr_rules: Vec<CorrelationRule>,
    rules: &mut [Rule],
    originals: &[SigmaRule],
    pipelines: &[Pipeline],
    comp: &mut Compiler,
    errors: &mut Vec<RuleError>,
) -> Vec<Correlation> {
    let mut resolved = resolve_refs(&corr_rules, rules, errors);
    let n = corr_rules.len();
    let ok = reject_bad_chains(&corr_rules, &resolved, errors);
    // Build the kept correlations, renumbering correlation references.
    let mut new_index = vec![usize::MAX; n];
    let mut k = 0;
    for i in 0..n {
        if ok[i] {
            new_index[i] = k;
            k += 1;
        }
    }
    let mut out = Vec::new();
    // Per rule: referred to by a correlation without `generate: true`, and by one with it.
    let mut hidden = vec![false; rules.len()];
    let mut shown = vec![false; rules.len()];
    for (i, c) in corr_rules.into_iter().enumerate() {
        if !ok[i] {
            continue;
        }
        let refs: Vec<Result<usize, usize>> = resolved[i]
            .take()
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.map_err(|j| new_index[j]))
            .collect();
        let (group_fields, value_field) =
            correlation_fields(&c, &refs, (rules, originals, pipelines), comp);
        for r in refs.iter().filter_map(|r| r.ok()) {
            let flag = if c.generate { &mut shown } else { &mut hidden };
            if let Some(f) = flag.get_mut(r) {
                *f = true;
            }
        }
        out.push(Correlation {
            rule: c,
            refs,
            group_fields,
            value_field,
        });
    }
    for (r, rule) in rules.iter_mut().enumerate() {
        if hidden[r] && !shown[r] {
            rule.standalone = false;
        }
    }
    out
}

/// Per correlation, its references (`Ok(rule)` or `Err(correlation)`), `None` when one is
/// unknown (reported).
fn resolve_refs(
    corr_rules: &[CorrelationRule],
    rules: &[Rule],
    errors: &mut Vec<RuleError>,
) -> Vec<Option<Vec<Result<usize, usize>>>> {
    // Names and ids of correlations, to allow chaining.
    let mut corr_keys: HashMap<String, usize> = HashMap::new();
    for (i, c) in corr_rules.iter().enumerate() {
        for k in [&c.id, &c.name].into_iter().flatten() {
            corr_keys.insert(k.clone(), i);
        }
    }
    let mut rule_keys: HashMap<String, usize> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        for k in [&r.source.id, &r.source.name].into_iter().flatten() {
            rule_keys.insert(k.clone(), i);
        }
    }
    // Resolve references; a correlation with an unknown reference is rejected.
    let mut resolved: Vec<Option<Vec<Result<usize, usize>>>> = Vec::new();
    for c in corr_rules {
        let mut refs = Vec::new();
        let mut bad = None;
        for r in &c.rules {
            if let Some(&i) = rule_keys.get(r) {
                refs.push(Ok(i));
            } else if let Some(&i) = corr_keys.get(r) {
                refs.push(Err(i));
            } else {
                bad = Some(r.clone());
                break;
            }
        }
        match bad {
            Some(r) => {
                errors.push(RuleError::new(
                    &c.path,
                    Some(c.line),
                    format!("correlation '{}' refers to unknown rule '{r}'", c.title),
                ));
                resolved.push(None);
            }
            None => resolved.push(Some(refs)),
        }
    }
    resolved
}

/// Which correlations are kept: not those referring to a rejected correlation or, through
/// others, to themselves (reported).
fn reject_bad_chains(
    corr_rules: &[CorrelationRule],
    resolved: &[Option<Vec<Result<usize, usize>>>],
    errors: &mut Vec<RuleError>,
) -> Vec<bool> {
    // Reject cycles and references to rejected correlations (iterate to a fixed point).
    let n = corr_rules.len();
    let mut ok: Vec<bool> = resolved.iter().map(|r| r.is_some()).collect();
    loop {
        let mut changed = false;
        for i in 0..n {
            if !ok[i] {
                continue;
            }
            let refs = resolved[i].as_deref().unwrap_or(&[]);
            if refs.iter().any(|r| matches!(r, Err(j) if !ok[*j])) {
                ok[i] = false;
                changed = true;
                errors.push(RuleError::new(
                    &corr_rules[i].path,
                    Some(corr_rules[i].line),
                    format!(
                        "correlation '{}' refers to a rejected correlation",
                        corr_rules[i].title
                    ),
                ));
            }
        }
        if !changed {
            break;
        }
    }
    for (i, c) in corr_rules.iter().enumerate() {
        if !ok[i] {
            continue;
        }
        let mut seen = HashSet::new();
        let mut todo = vec![i];
        let mut cyclic = false;
        while let Some(x) = todo.pop() {
            for r in resolved[x].as_deref().unwrap_or(&[]) {
                if let Err(j) = r {
                    if *j == i {
                        cyclic = true;
                    } else if seen.insert(*j) {
                        todo.push(*j);
                    }
                }
            }
        }
        if cyclic {
            ok[i] = false;
            errors.push(RuleError::new(
                &c.path,
                Some(c.line),
                format!("correlation '{}' refers to itself (cycle)", c.title),
            ));
        }
    }
    ok
}

/// Per reference of correlation `c`: the fields its group-by names (aliases resolved, mapped
/// through the pipelines for detection rules) and its value field are read from.
fn correlation_fields(
    c: &CorrelationRule,
    refs: &[Result<usize, usize>],
    rules: (&[Rule], &[SigmaRule], &[Pipeline]),
    comp: &mut Compiler,
) -> (Vec<Vec<FieldRef>>, Vec<Option<FieldRef>>) {
    let (rules, originals, pipelines) = rules;
    let mut group_fields = Vec::new();
    let mut value_field = Vec::new();
    for (pos, r) in refs.iter().enumerate() {
        let ref_key = &c.rules[pos];
        let (rule_id, rule_name, original) = match r {
            Ok(ri) => (
                rules[*ri].source.id.clone(),
                rules[*ri].source.name.clone(),
                originals.get(*ri),
            ),
            Err(_) => (None, None, None),
        };
        let alias_field = |g: &str| -> Option<String> {
            let per = c.aliases.get(g)?;
            [Some(ref_key.clone()), rule_id.clone(), rule_name.clone()]
                .into_iter()
                .flatten()
                .find_map(|k| per.get(&k).cloned())
        };
        let map = |f: String| match original {
            Some(o) => pipeline::map_field_name(pipelines, o, &f),
            None => f,
        };
        let gf = c
            .group_by
            .iter()
            .map(|g| {
                let name = match alias_field(g) {
                    Some(f) => map(f),
                    // Chained correlations expose their group-by names unmapped.
                    None if r.is_err() => g.clone(),
                    None => map(g.clone()),
                };
                comp.field(&name)
            })
            .collect();
        group_fields.push(gf);
        value_field.push(
            c.condition
                .field
                .clone()
                .map(|f| if r.is_ok() { map(f) } else { f })
                .map(|f| comp.field(&f)),
        );
    }
    (group_fields, value_field)
}

impl RuleSet {
    /// Starts a builder.
    pub fn builder() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// The compiled rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every rejected rule, file or correlation (path, line, reason).
    pub fn errors(&self) -> &[RuleError] {
        &self.errors
    }

    /// Retired rules that were skipped.
    pub fn retired(&self) -> &[SkippedRule] {
        &self.retired
    }

    /// Number of rules left out by the logsource filter.
    pub fn filtered_out(&self) -> usize {
        self.filtered_out
    }

    /// The resolved correlation rules.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// Every field read by the set; `fields()[f.slot()] == f`.
    pub fn fields(&self) -> &[FieldRef] {
        &self.fields
    }

    /// Number of distinct compiled predicates (identical detection items are shared).
    pub fn predicate_count(&self) -> usize {
        self.preds.len()
    }

    /// For each rule (by index): necessary literal clauses, lowercase: every event the rule
    /// matches contains, for each clause, one of the clause's literals in some string value (no
    /// clause: nothing is known). Only literals of
    /// fields accepted by `field_ok` (keyword searches are always accepted) are considered, each
    /// passed through `literal(text, exact)` which may shorten it to a substring (still necessary)
    /// or refuse it. `field_keys` may give, per rule and field, key names one of which a text holding a
    /// value of the field spells out: such clauses are marked [`LiteralClause::keys`]. Prefilters on something other than field values (raw record bytes) use this
    /// to skip records no rule can match.
    ///
    /// ```
    /// let mut b = tw_sigma::RuleSet::builder();
    /// b.add_yaml("r.yml", "title: t\nlogsource: {product: azure}\ndetection:\n  sel: {operationName|contains: 'Add owner'}\n  condition: sel\n");
    /// let set = b.build();
    /// let lits = set.required_literals(&|_| true, &|t, _| Some(t.to_string()), &|_, _| None);
    /// assert_eq!(lits[0][0].literals, vec!["add owner".to_string()]);
    /// ```
    pub fn required_literals(
        &self,
        field_ok: &dyn Fn(&FieldRef) -> bool,
        literal: &dyn Fn(&str, bool) -> Option<String>,
        field_keys: &dyn Fn(usize, &FieldRef) -> Option<Vec<String>>,
    ) -> Vec<Vec<LiteralClause>> {
        let filter = |p: &Predicate, h: &Hint| -> Option<Hint> {
            if !p.fields.iter().all(field_ok) {
                return None;
            }
            match h {
                Hint::Eq(t) => literal(t, true).map(Hint::Sub),
                Hint::Sub(t) => literal(t, false).map(Hint::Sub),
            }
        };
        let progs: Vec<&Prog> = self.rules.iter().map(|r| &r.prog).collect();
        index::required_literals(&progs, &self.preds, &filter, field_keys, field_ok)
    }

    /// Number of rules that the index cannot skip (evaluated for every event).
    pub fn unindexed_rule_count(&self) -> usize {
        self.index.always_count()
    }

    /// The rules matching `event`, in rule order.
    pub fn matches(&self, event: &dyn SigmaEvent) -> Vec<RuleMatch> {
        let mut s = Scratch::new();
        self.matches_with(event, &mut s)
    }

    /// Like [`RuleSet::matches`], reusing scratch space across events (faster).
    pub fn matches_with(&self, event: &dyn SigmaEvent, s: &mut Scratch) -> Vec<RuleMatch> {
        s.reset(self.preds.len(), self.rules.len());
        self.index.candidates(event, s);
        let cands = std::mem::take(&mut s.cands);
        self.events.fetch_add(1, Ordering::Relaxed);
        self.evaluated
            .fetch_add(cands.len() as u64, Ordering::Relaxed);
        self.skipped
            .fetch_add((self.rules.len() - cands.len()) as u64, Ordering::Relaxed);
        let out = self.eval_rules(event, s, cands.iter().map(|&r| r as usize), &|_| true);
        s.cands = cands;
        out
    }

    /// Like [`RuleSet::matches_with`], but evaluates only `rules` (sorted rule indexes, e.g. from
    /// a prefilter that already excluded the others) instead of asking the index.
    pub fn matches_among(
        &self,
        event: &dyn SigmaEvent,
        rules: &[u32],
        s: &mut Scratch,
    ) -> Vec<RuleMatch> {
        self.matches_among_where(event, rules, s, &|_| true)
    }

    /// Like [`RuleSet::matches_among`], collecting a match's evidence only for the rules
    /// `evidence` accepts: the others' [`RuleMatch::fields`] are empty ([`RuleSet::evidence`]
    /// gives them when needed).
    pub fn matches_among_where(
        &self,
        event: &dyn SigmaEvent,
        rules: &[u32],
        s: &mut Scratch,
        evidence: &dyn Fn(usize) -> bool,
    ) -> Vec<RuleMatch> {
        s.reset(self.preds.len(), self.rules.len());
        self.events.fetch_add(1, Ordering::Relaxed);
        let n = rules
            .iter()
            .filter(|&&r| (r as usize) < self.rules.len())
            .count();
        self.evaluated.fetch_add(n as u64, Ordering::Relaxed);
        self.skipped
            .fetch_add((self.rules.len() - n) as u64, Ordering::Relaxed);
        self.eval_rules(
            event,
            s,
            rules
                .iter()
                .map(|&r| r as usize)
                .filter(|&r| r < self.rules.len()),
            evidence,
        )
    }

    /// The evidence of rule `rule` matching `event`: the [`RuleMatch::fields`] a match gives.
    pub fn evidence(
        &self,
        rule: usize,
        event: &dyn SigmaEvent,
        s: &mut Scratch,
    ) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        if let Some(r) = self.rules.get(rule) {
            s.reset(self.preds.len(), self.rules.len());
            collect_evidence(&r.prog, &self.preds, event, s, &mut fields);
        }
        fields
    }

    /// Counts events that were never matched because a prefilter excluded every rule.
    pub fn count_skipped_events(&self, n: u64) {
        self.events.fetch_add(n, Ordering::Relaxed);
        self.skipped
            .fetch_add(n * self.rules.len() as u64, Ordering::Relaxed);
    }

    /// Evaluates every rule without the index (reference behaviour, for verification).
    pub fn matches_unindexed(&self, event: &dyn SigmaEvent) -> Vec<RuleMatch> {
        let mut s = Scratch::new();
        s.reset(self.preds.len(), self.rules.len());
        self.eval_rules(event, &mut s, 0..self.rules.len(), &|_| true)
    }

    fn eval_rules(
        &self,
        event: &dyn SigmaEvent,
        s: &mut Scratch,
        which: impl Iterator<Item = usize>,
        evidence: &dyn Fn(usize) -> bool,
    ) -> Vec<RuleMatch> {
        let mut out = Vec::new();
        for r in which {
            let prog = &self.rules[r].prog;
            if eval_prog(prog, &self.preds, event, s) {
                let mut fields = Vec::new();
                if evidence(r) {
                    collect_evidence(prog, &self.preds, event, s, &mut fields);
                }
                out.push(RuleMatch { rule: r, fields });
            }
        }
        out
    }

    /// Counters of (rule, event) pairs evaluated and skipped so far.
    pub fn stats(&self) -> MatchStats {
        MatchStats {
            events: self.events.load(Ordering::Relaxed),
            evaluated: self.evaluated.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }
}
