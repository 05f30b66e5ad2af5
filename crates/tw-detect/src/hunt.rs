//! The hunt runner: one compiled rule set for every format (fields resolved per format by the
//! event adapter), rules routed by log kind, matching and first-seen bookkeeping on the ingest
//! worker threads (each thread's first-seen state merged at the end), correlations and ordering
//! on the calling thread, findings sorted by time, file and record.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;
use tw_event::{Event, Finding, Format, LogKind, Origin, Provenance, RuleRef, Timestamp};
use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest_prefiltered};
use tw_sigma::{
    CorrelationEngine, CorrelationLimits, CorrelationStats, FieldRef, Level, RuleMatch, RuleSet,
    Scratch, SigmaEvent,
};

use crate::event::{Resolver, SigmaView, Snapshot};
use crate::fieldmap::{FieldMap, shipped_maps};
use crate::firstseen::{Candidate, FirstSeenSpec, FirstSeenState, NewBehaviourSpec};
use crate::prefilter::{PrefilterScratch, RawPrefilter, Verdict, raw_literal};
use crate::route::kinds_for;

/// A rule text to load.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Path shown in errors and findings.
    pub path: String,
    /// The YAML text (one or more documents).
    pub text: String,
    /// Where it comes from.
    pub origin: Origin,
}

/// Options of a hunt.
#[derive(Debug, Clone, Default)]
pub struct HuntOptions {
    /// How inputs are read.
    pub ingest: IngestOptions,
    /// Findings below this level are not reported.
    pub min_level: Option<Level>,
    /// Values of `expand` placeholders.
    pub placeholders: HashMap<String, Vec<String>>,
    /// Correlation state bound (observations buffered); 0 for the engine's default.
    pub max_correlation_observations: usize,
    /// Decode every record, even those the raw-record prefilter shows no rule can match, and
    /// read rule fields from each whole document rather than from its projection (slower; every
    /// malformed record is then found and reported; findings are the same).
    pub decode_all: bool,
    /// Learning period (milliseconds) replacing every rule's own first-seen baseline,
    /// `new_behaviour` baseline and chain learning period.
    pub learning_period_ms: Option<i64>,
}

/// The rule set compiled for hunting.
pub struct Hunter {
    set: RuleSet,
    routes: Vec<Vec<LogKind>>,
    origins: Vec<Origin>,
    /// Per correlation: where its rule text came from.
    correlation_origins: Vec<Origin>,
    resolver: Resolver,
    maps: HashMap<Format, FieldMap>,
    correlated: HashSet<usize>,
    /// Correlated rules whose events may give a correlation finding its actor and address (every
    /// rule of a correlation, but only the first of a `temporal_ordered` one): only their
    /// observations keep the event's finding.
    may_lead: HashSet<usize>,
    /// Per rule: whether its matches are reported as they are (their evidence is collected as
    /// they are found); not for first-seen rules and correlation building blocks.
    needs_evidence: Vec<bool>,
    /// Per correlated rule, the fields its observations keep (group-by, aliases, value field).
    correlation_fields: HashMap<usize, Vec<FieldRef>>,
    first_seen: HashMap<usize, FirstSeenSpec>,
    /// Per rule: a first-seen rule of cross-tenant actors. Their records of actors acting in
    /// their own tenant are read only for the tenants cross-tenant actors come from, once those
    /// are known (a second look at the inputs holding such records).
    own_tenant_later: Vec<bool>,
    /// Per correlation carrying `tenantwatch.new_behaviour`: its parameters.
    new_behaviour: HashMap<usize, NewBehaviourSpec>,
    first_seen_fields: HashMap<usize, (Vec<FieldRef>, FieldRef)>,
    extension_errors: Vec<(String, String)>,
    /// Per rule id: how its findings are aggregated (`tenantwatch.aggregate`, [`crate::merge`]).
    aggregates: HashMap<String, crate::merge::AggregateSpec>,
    prefilter: RawPrefilter,
    /// What a record's document must keep for every rule field ([`Resolver::projection`]) and
    /// for classification and canonical fields: records are parsed through it once.
    projection: std::sync::Arc<tw_ingest::select::Projection>,
    /// Chain and burst rules ([`crate::stages`]).
    stages: crate::stages::Stages,
}

/// Counters of a hunt.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HuntStats {
    /// Detection rules loaded.
    pub rules: usize,
    /// Correlation rules loaded.
    pub correlations: usize,
    /// Events matched against the rules.
    pub events: u64,
    /// (rule, event) pairs evaluated.
    pub evaluated: u64,
    /// (rule, event) pairs the candidate index skipped.
    pub skipped: u64,
    /// Observations buffered for correlations.
    pub correlation_observed: u64,
    /// Observations dropped at the state bound (reported, never silent).
    pub correlation_dropped: u64,
    /// Observations without a group-by field.
    pub correlation_missing_group_field: u64,
}

/// What a hunt found.
pub struct HuntResult {
    /// Findings, sorted by time, file, record, rule.
    pub findings: Vec<Finding>,
    /// What was read.
    pub ingest: IngestReport,
    /// Counters.
    pub stats: HuntStats,
}

/// Key names of the actor's home tenant (`tw.home_tenant_id`) in every log kind.
const HOME_TENANT_KEYS: &[&str] = &["hometenantid", "actorcontextid"];

/// Decides a rule's origin from its path: SigmaHQ's repository layout (`rules/cloud`,
/// `rules-placeholder`, `rules-threat-hunting`, `deprecated`, `unsupported`) marks SigmaHQ rules.
/// Puts `items` in the order `order` gives (position `k` gets the item at `order[k]`; `order`
/// is a permutation), following its cycles with swaps.
fn permute_in_place<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..order.len() {
        if order[start] == start {
            continue;
        }
        let mut k = start;
        loop {
            let next = order[k];
            order[k] = k;
            if next == start || next >= items.len() {
                break;
            }
            items.swap(k, next);
            k = next;
        }
    }
}

pub fn origin_of_path(path: &str) -> Origin {
    let p = path.replace('\\', "/");
    let sigmahq = [
        "rules/cloud/",
        "rules-placeholder/",
        "rules-threat-hunting/",
        "rules-emerging-threats/",
    ]
    .iter()
    .any(|m| p.contains(m));
    if sigmahq {
        Origin::Sigmahq
    } else {
        Origin::User
    }
}

/// What a worker hands the sink for an event. Findings move through the per-batch vectors by
/// value (boxing each would cost an allocation per finding); observation findings are boxed
/// because observations are kept until the end of the run.
#[allow(clippy::large_enum_variant)]
enum Out<K> {
    Finding(Finding),
    Observation {
        rule: usize,
        time: i64,
        provenance: Provenance,
        /// The finding of the event, for rules whose events may lead a correlation finding
        /// (boxed: most observations have none, and every one is kept until the end).
        finding: Option<Box<Finding>>,
        snapshot: Snapshot,
    },
    /// A user seen acting across tenants, and their home tenant.
    CrossTenantUser(String, String),
    /// What a chain or burst rule keeps of an event.
    Stage(crate::stages::StageObs),
    /// What an [`Observer`] kept of an event.
    Observed(K),
    /// The time of a record the hunt decoded, and its tenant (`unknown` when undecided), when
    /// an observer makes the read decode every record: the logs' starts the first-seen rules
    /// learn from are those of the records the hunt itself decodes, as without an observer.
    Start(String, i64),
}

/// A second consumer of a hunt's read ([`Hunter::hunt_observed`]): another analysis of every
/// record of the same inputs, so that they are read once. It sees every record decoded (also
/// those no rule can match) and gets what it kept of them in input order.
pub trait Observer: Sync {
    /// What it keeps of an event.
    type Kept: Send;
    /// Document fields it reads (dotted paths), kept by the hunt's projection besides the rules'.
    fn fields(&self) -> &[&str];
    /// Runs on the reader's worker threads for every event read.
    fn observe(&self, ev: &Event, out: &mut Vec<Self::Kept>);
}

/// No second consumer.
struct NoObserver;

impl Observer for NoObserver {
    type Kept = ();
    fn fields(&self) -> &[&str] {
        &[]
    }
    fn observe(&self, _: &Event, _: &mut Vec<()>) {}
}

/// Distinguishes hunts, so that per-thread state left by one hunt is not read by the next.
static HUNT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One thread's first-seen state in one hunt (shared with the hunt, which merges them all).
type Local = std::sync::Arc<std::sync::Mutex<crate::firstseen::LocalFirstSeen>>;

impl Hunter {
    /// Compiles `sources` (rejected rules are listed by [`Hunter::rule_set`]`.errors()`).
    pub fn new(
        sources: &[RuleSource],
        placeholders: HashMap<String, Vec<String>>,
    ) -> Result<Hunter, String> {
        let mut b = RuleSet::builder();
        b.placeholders(placeholders);
        let mut path_origin: HashMap<String, Origin> = HashMap::new();
        // tenantwatch extensions, by (path, id or title).
        let mut specs: HashMap<(String, String), FirstSeenSpec> = HashMap::new();
        let mut behaviour_specs: HashMap<(String, String), NewBehaviourSpec> = HashMap::new();
        let mut extension_errors = Vec::new();
        for s in sources {
            b.add_yaml(&s.path, &s.text);
            path_origin.insert(s.path.clone(), s.origin);
            if !s.text.contains("first_seen") && !s.text.contains("new_behaviour") {
                continue;
            }
            let Ok(docs) = tw_sigma::yaml_to_json(&s.path, &s.text) else {
                continue;
            };
            for d in docs {
                let key = d
                    .get("id")
                    .or_else(|| d.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if d.get("correlation").is_some() {
                    let key = d
                        .get("id")
                        .or_else(|| d.get("name"))
                        .or_else(|| d.get("title"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    match crate::firstseen::new_behaviour_of(&d) {
                        Ok(Some(spec)) => {
                            behaviour_specs.insert((s.path.clone(), key), spec);
                        }
                        Ok(None) => {}
                        Err(e) => extension_errors.push((s.path.clone(), e)),
                    }
                    continue;
                }
                match crate::firstseen::spec_of(&d) {
                    Ok(Some(spec)) => {
                        specs.insert((s.path.clone(), key), spec);
                    }
                    Ok(None) => {}
                    Err(e) => extension_errors.push((s.path.clone(), e)),
                }
            }
        }
        let set = b.build();
        let (aggregates, aggregate_errors) = crate::merge::aggregate_specs(sources);
        extension_errors.extend(aggregate_errors);
        let stages = crate::stages::Stages::new(&set, sources, &mut extension_errors);
        let maps = shipped_maps()?;
        // Fields read besides the detections' (correlation group-by, alias and value fields,
        // first-seen entities and values) are resolved like theirs, in slots after them.
        let mut fields: Vec<FieldRef> = set.fields().to_vec();
        let mut correlation_extra: Vec<String> = Vec::new();
        for c in set.correlations() {
            let r = c.rule();
            correlation_extra.extend(r.group_by.iter().cloned());
            correlation_extra.extend(r.aliases.values().flat_map(|a| a.values().cloned()));
            correlation_extra.extend(r.condition.field.iter().cloned());
        }
        let mut first_seen_extra: Vec<String> = Vec::new();
        for spec in specs.values() {
            first_seen_extra.extend(spec.entity.iter().cloned());
            first_seen_extra.push(spec.value.clone());
        }
        // Canonical `tw.*` fields are read by name, from no document path. Fields only
        // first-seen rules read (a partner's country or network) are read from the whole record
        // of each of their candidates: records are not parsed keeping them.
        let mut late = Vec::new();
        let extra = correlation_extra
            .into_iter()
            .map(|n| (n, false))
            .chain(first_seen_extra.into_iter().map(|n| (n, true)));
        for (name, first_seen_only) in extra.filter(|(n, _)| !n.starts_with("tw.")) {
            if !fields.iter().any(|f| f.name() == name) {
                if first_seen_only {
                    late.push(fields.len());
                }
                fields.push(FieldRef::new(fields.len() as u32, &name));
            }
        }
        let mut resolver = Resolver::new(&fields, &maps);
        resolver.read_late(&late);
        let routes: Vec<Vec<LogKind>> = set
            .rules()
            .iter()
            .map(|r| kinds_for(r.logsource()))
            .collect();
        let origins = set
            .rules()
            .iter()
            .map(|r| path_origin.get(r.path()).copied().unwrap_or(Origin::User))
            .collect();
        let correlation_origins = set
            .correlations()
            .iter()
            .map(|c| {
                path_origin
                    .get(c.rule().path.as_str())
                    .copied()
                    .unwrap_or_else(|| origin_of_path(&c.rule().path))
            })
            .collect();
        let new_behaviour: HashMap<usize, NewBehaviourSpec> = set
            .correlations()
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let r = c.rule();
                let key =
                    r.id.clone()
                        .or_else(|| r.name.clone())
                        .unwrap_or_else(|| r.title.clone());
                behaviour_specs
                    .get(&(r.path.clone(), key))
                    .map(|spec| (i, spec.clone()))
            })
            .collect();
        let mut correlated = HashSet::new();
        let mut may_lead = HashSet::new();
        let mut all_names: Vec<String> = Vec::new();
        let mut per_rule: HashMap<usize, Vec<String>> = HashMap::new();
        let chained = set
            .correlations()
            .iter()
            .any(|c| !c.correlation_refs().is_empty());
        for c in set.correlations() {
            correlated.extend(c.rule_refs());
            match c.rule().kind {
                tw_sigma::CorrelationType::TemporalOrdered if !chained => {
                    may_lead.extend(c.rule_refs().first());
                }
                _ => may_lead.extend(c.rule_refs()),
            }
            let r = c.rule();
            // Group-by names that are aliases are no field: their rules' fields are read.
            let mut names: Vec<String> = r
                .group_by
                .iter()
                .filter(|g| !r.aliases.contains_key(*g))
                .cloned()
                .collect();
            names.extend(r.condition.field.iter().cloned());
            for i in c.rule_refs() {
                // Each rule's own fields (aliases resolved for it), not its partners'.
                let own = c
                    .fields_of_rule(i)
                    .into_iter()
                    .map(|f| f.name().to_string());
                let fields = per_rule.entry(i).or_default();
                fields.extend(names.iter().cloned());
                fields.extend(own);
            }
            for aliased in r.aliases.values() {
                names.extend(aliased.values().cloned());
            }
            all_names.extend(names);
        }
        // Snapshot fields are looked up through the adapter: give them the slots the set uses.
        let to_refs = |mut names: Vec<String>| -> Vec<FieldRef> {
            names.sort();
            names.dedup();
            names
                .iter()
                .map(|n| {
                    fields
                        .iter()
                        .find(|f| f.name() == n)
                        .cloned()
                        .unwrap_or_else(|| FieldRef::new(u32::MAX, n))
                })
                .collect()
        };
        // Chained correlations read their sub-correlations' observations: keep every field then.
        let all = to_refs(all_names);
        let correlation_fields: HashMap<usize, Vec<FieldRef>> = correlated
            .iter()
            .map(|i| {
                let fields = if chained {
                    all.clone()
                } else {
                    to_refs(per_rule.get(i).cloned().unwrap_or_default())
                };
                (*i, fields)
            })
            .collect();
        let field_ref = |n: &str| {
            fields
                .iter()
                .find(|f| f.name() == n)
                .cloned()
                .unwrap_or_else(|| FieldRef::new(u32::MAX, n))
        };
        let mut first_seen = HashMap::new();
        let mut first_seen_fields = HashMap::new();
        for (i, r) in set.rules().iter().enumerate() {
            let key = (
                r.path().to_string(),
                r.id().unwrap_or_else(|| r.title()).to_string(),
            );
            if let Some(spec) = specs.get(&key) {
                let entity: Vec<FieldRef> = spec.entity.iter().map(|n| field_ref(n)).collect();
                first_seen_fields.insert(i, (entity, field_ref(&spec.value)));
                first_seen.insert(i, spec.clone());
            }
        }
        let want_cross_users = first_seen.values().any(|s| s.cross_tenant_actors);
        let mut prefilter = RawPrefilter::new(
            &set,
            &|f| !resolver.reads_canonical(f),
            // Routed rules only see their log kinds: only those formats' keys count.
            &|r, f| {
                let kinds: Option<&[LogKind]> = routes.get(r).map(Vec::as_slice);
                resolver.key_names(f, kinds, &|k| raw_literal(k))
            },
            // Cross-tenant actors are learnt from every record naming an actor's home tenant.
            if want_cross_users {
                HOME_TENANT_KEYS
            } else {
                &[]
            },
        );
        prefilter.route(routes.clone());
        // A first-seen rule drops a match whose entity or value is empty: where such a field is
        // read from the record's keys, records holding no non-empty value there are no
        // candidates (unless the rule feeds a correlation, whose observations need every match).
        // Rules of cross-tenant actors are left as they are: their own-tenant records are set
        // aside anyway, and the lookup would cost more on the others than it saves.
        let mut required: Vec<(usize, Vec<String>)> = Vec::new();
        for (&r, (entity, value)) in &first_seen_fields {
            let cross = first_seen.get(&r).is_some_and(|s| s.cross_tenant_actors);
            if correlated.contains(&r) || cross {
                continue;
            }
            for f in entity.iter().chain([value]) {
                if resolver.reads_canonical(f) {
                    continue;
                }
                let kinds: Option<&[LogKind]> = routes.get(r).map(Vec::as_slice);
                if let Some(keys) = resolver.key_names(f, kinds, &|k| raw_literal(k)) {
                    required.push((r, keys));
                }
            }
        }
        required.sort();
        for (r, keys) in &required {
            prefilter.require_value(*r, keys);
        }
        let own_tenant_later: Vec<bool> = (0..set.rules().len())
            .map(|i| first_seen.get(&i).is_some_and(|s| s.cross_tenant_actors))
            .collect();
        if want_cross_users {
            // A unified audit log record whose actor's tenant is the organisation's own names no
            // cross-tenant actor (its canonical home tenant is ActorContextId, its tenant
            // OrganizationId).
            prefilter.keep_unless_same(LogKind::Ual, "ActorContextId", "OrganizationId");
            prefilter.defer_same_tenant(
                (0..set.rules().len() as u32)
                    .filter(|&i| own_tenant_later[i as usize])
                    .collect(),
            );
        }
        let needs_evidence = set
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| r.standalone() && !first_seen.contains_key(&i) && !stages.claims(i))
            .collect();
        Ok(Hunter {
            needs_evidence,
            projection: {
                let mut p = resolver.projection();
                p.merge(tw_ingest::select::Projection::selection());
                std::sync::Arc::new(p)
            },
            prefilter,
            first_seen,
            own_tenant_later,
            new_behaviour,
            first_seen_fields,
            extension_errors,
            aggregates,
            set,
            routes,
            origins,
            correlation_origins,
            resolver,
            maps,
            correlated,
            may_lead,
            correlation_fields,
            stages,
        })
    }

    /// The raw-record prefilter of this rule set.
    pub fn prefilter(&self) -> &RawPrefilter {
        &self.prefilter
    }

    /// Rules whose tenantwatch extension block is invalid: (path, reason). They still run as
    /// plain Sigma rules.
    pub fn extension_errors(&self) -> &[(String, String)] {
        &self.extension_errors
    }

    /// True when rule `i` carries a valid `tenantwatch.first_seen` block.
    pub fn is_first_seen(&self, i: usize) -> bool {
        self.first_seen.contains_key(&i)
    }

    /// The compiled rule set.
    pub fn rule_set(&self) -> &RuleSet {
        &self.set
    }

    /// The log kinds rule `i` applies to.
    pub fn routes(&self, i: usize) -> &[LogKind] {
        &self.routes[i]
    }

    /// For rule `i`: every (format, field) where the format's pipeline does not know the field.
    pub fn unmapped_fields(&self, i: usize) -> Vec<(Format, String)> {
        let rule = &self.set.rules()[i];
        let mut out = Vec::new();
        let mut formats: Vec<Format> = self
            .maps
            .keys()
            .copied()
            .filter(|f| self.routes[i].contains(&f.log_kind()))
            .collect();
        formats.sort();
        for f in formats {
            for field in rule.fields() {
                if field.starts_with("tw.") || field == "(keywords)" {
                    continue;
                }
                if !self.maps[&f].resolve(field).known {
                    out.push((f, field.clone()));
                }
            }
        }
        out
    }

    fn rule_ref(&self, i: usize) -> RuleRef {
        let r = &self.set.rules()[i];
        RuleRef {
            id: r
                .id()
                .map(str::to_string)
                .unwrap_or_else(|| r.title().to_string()),
            title: r.title().to_string(),
            level: r
                .level()
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| "medium".into()),
            tags: r.tags().to_vec(),
            origin: self.origins[i],
        }
    }

    /// The fields the correlations of rule `rule` read from its events.
    fn correlation_fields_of(&self, rule: usize) -> &[FieldRef] {
        self.correlation_fields
            .get(&rule)
            .map_or(&[], Vec::as_slice)
    }

    /// The first value of `f`, lowercased, when it has a non-empty one.
    fn first_lower(view: &SigmaView<'_>, f: &FieldRef) -> Option<String> {
        Self::first_text(view, f).map(|t| t.to_lowercase())
    }

    /// Writes into `buf` the first-seen key of rule `rule` for the event: the lowercased first
    /// values of the `entity` fields and of `value` (as
    /// [`crate::firstseen::LocalFirstSeen::key`] spells it). False when one has no non-empty value.
    fn first_seen_key(
        buf: &mut String,
        rule: usize,
        entity: &[FieldRef],
        value: &FieldRef,
        view: &SigmaView<'_>,
    ) -> bool {
        use crate::firstseen::LocalFirstSeen;
        LocalFirstSeen::key_start(buf, rule);
        for f in entity.iter().chain([value]) {
            let mut ok = false;
            view.visit_field(f, &mut |v| {
                // The first value with a text ends the visit; an empty one counts as none.
                let text = match v {
                    tw_sigma::FieldValue::Str(s) => std::borrow::Cow::Borrowed(s),
                    other => match other.to_text() {
                        Some(t) => std::borrow::Cow::Owned(t),
                        None => return false,
                    },
                };
                if text.is_empty() {
                    return true;
                }
                if text
                    .bytes()
                    .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
                {
                    LocalFirstSeen::key_part(buf, &text.to_lowercase());
                } else {
                    LocalFirstSeen::key_part(buf, &text);
                }
                ok = true;
                true
            });
            if !ok {
                return false;
            }
        }
        true
    }

    fn first_text(view: &SigmaView<'_>, f: &FieldRef) -> Option<String> {
        tw_sigma::event::first_text(view, f).filter(|t| !t.is_empty())
    }

    /// Correlation matches without the usual ones of `new_behaviour` correlations
    /// ([`crate::firstseen::new_behaviour`]); `seen` gives, per such correlation and entity, the
    /// time of the entity's earliest event.
    fn drop_usual(
        &self,
        matches: Vec<tw_sigma::CorrelationMatch>,
        seen: &HashMap<usize, HashMap<Vec<String>, i64>>,
        learning: Option<i64>,
    ) -> Vec<tw_sigma::CorrelationMatch> {
        if self.new_behaviour.is_empty() {
            return matches;
        }
        let none = HashMap::new();
        let mut keep = vec![true; matches.len()];
        for (&c, spec) in &self.new_behaviour {
            let spec = &spec.with_learning(learning);
            let mine: Vec<usize> = (0..matches.len())
                .filter(|&i| matches[i].correlation == c)
                .collect();
            let entities: Vec<(Vec<String>, i64)> = mine
                .iter()
                .map(|&i| {
                    let m = &matches[i];
                    let entity = spec.entity_of(&|f| {
                        m.group
                            .iter()
                            .find(|(k, _)| k == f)
                            .map(|(_, v)| v.as_str())
                    });
                    (entity, m.last_ms)
                })
                .collect();
            let seen = seen.get(&c).unwrap_or(&none);
            for (&i, report) in mine
                .iter()
                .zip(crate::firstseen::new_behaviour(spec, seen, &entities))
            {
                keep[i] = report;
            }
        }
        matches
            .into_iter()
            .zip(keep)
            .filter_map(|(m, k)| k.then_some(m))
            .collect()
    }

    /// Reads `paths` and runs every rule on every event of its log kinds.
    pub fn hunt(&self, paths: &[PathBuf], opts: &HuntOptions) -> HuntResult {
        self.hunt_with(paths, opts, None::<&NoObserver>, |()| {})
    }

    /// Like [`Hunter::hunt`], with a second consumer of the same read: every record is decoded
    /// and shown to `observer`; `collect` gets what it kept, in input order. The findings are
    /// those of [`Hunter::hunt`]; the read's report counts every record as decoded.
    pub fn hunt_observed<O: Observer>(
        &self,
        paths: &[PathBuf],
        opts: &HuntOptions,
        observer: &O,
        collect: impl FnMut(O::Kept),
    ) -> HuntResult {
        self.hunt_with(paths, opts, Some(observer), collect)
    }

    fn hunt_with<O: Observer>(
        &self,
        paths: &[PathBuf],
        opts: &HuntOptions,
        observer: Option<&O>,
        mut collect: impl FnMut(O::Kept),
    ) -> HuntResult {
        let observing = observer.is_some();
        let min = opts.min_level;
        // A rule stating no level is `medium` (docs/findings.md).
        let level_ok = |i: usize| match min {
            Some(m) => self.set.rules()[i].level().unwrap_or(Level::Medium) >= m,
            None => true,
        };
        let generic = opts.ingest.format_in == Some(Format::GenericJson);
        let mut findings = Vec::new();
        // Per correlation observation: its record, the finding of its event, and the rule it matched.
        // (and its time, which tells the copies of one follow-up apart from distinct ones).
        let mut evidence: Vec<(Provenance, Option<Box<Finding>>, usize, i64)> = Vec::new();
        let limits = if opts.max_correlation_observations > 0 {
            CorrelationLimits {
                max_observations: opts.max_correlation_observations,
            }
        } else {
            CorrelationLimits::default()
        };
        let mut engine = CorrelationEngine::new(&self.set, limits);
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
            static PRE: std::cell::RefCell<PrefilterScratch> =
                std::cell::RefCell::new(PrefilterScratch::default());
            static SENT: std::cell::RefCell<(u64, HashSet<String>)> =
                std::cell::RefCell::new((0, HashSet::new()));
            static LOCAL: std::cell::RefCell<(u64, Option<Local>, String)> =
                const { std::cell::RefCell::new((0, None, String::new())) };
            static ASIDE: std::cell::RefCell<(u64, String, String)> =
                const { std::cell::RefCell::new((0, String::new(), String::new())) };
            static STARTS: std::cell::RefCell<(u64, HashMap<String, i64>)> =
                std::cell::RefCell::new((0, HashMap::new()));
        }
        // Every thread's first-seen state, merged when all records are read.
        let locals: std::sync::Mutex<Vec<Local>> = std::sync::Mutex::new(Vec::new());
        let generation = HUNT_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let decode_all = opts.decode_all;
        // The literals looked up first are picked from how often they occur in the data.
        let mut prefilter = self.prefilter.clone();
        if !decode_all {
            let sample = crate::prefilter::sample_texts(paths);
            let refs: Vec<&[u8]> = sample.iter().map(Vec::as_slice).collect();
            prefilter.tune(&refs);
        }
        let prefilter = &prefilter;
        // What this thread has already sent to the collecting thread (sent once per hunt).
        let once = |what: String| -> bool {
            SENT.with(|s| {
                let s = &mut *s.borrow_mut();
                if s.0 != generation {
                    *s = (generation, HashSet::new());
                }
                !s.1.contains(&what) && s.1.insert(what)
            })
        };
        // Inputs holding records of actors in their own tenant that the rules of
        // `own_tenant_later` were not run on, with that tenant.
        let set_aside: std::sync::Mutex<BTreeSet<(String, String)>> = Default::default();
        let note_set_aside = |file: &str, tenant: &str| {
            // Records of one input come together: only a change of input or tenant is noted.
            let new = ASIDE.with(|a| {
                let a = &mut *a.borrow_mut();
                if a.0 == generation && a.1 == file && a.2 == tenant {
                    return false;
                }
                *a = (generation, file.to_string(), tenant.to_string());
                true
            });
            if new {
                set_aside
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((file.to_string(), tenant.to_string()));
            }
        };
        let verdict_of = |raw: &RawRecord<'_>| {
            PRE.with(|s| {
                let s = &mut s.borrow_mut();
                if generic {
                    // Every rule applies to every record: no routing.
                    prefilter.verdict(raw.bytes, raw.spells_keys, s)
                } else {
                    prefilter.verdict_record(raw, s)
                }
            })
        };
        let pre = |raw: RawRecord<'_>| -> Option<Verdict> {
            if decode_all {
                return Some(Verdict::All);
            }
            // With an observer every record is decoded; those the rules skip only for it.
            match verdict_of(&raw) {
                Verdict::Skip => observing.then_some(Verdict::Skip),
                Verdict::Defer(tenant) => {
                    note_set_aside(raw.source, &tenant);
                    observing.then_some(Verdict::Skip)
                }
                v => Some(v),
            }
        };
        let want_cross_users = self.first_seen.values().any(|s| s.cross_tenant_actors);
        let mut first_seen = FirstSeenState::default();
        let first_seen_specs =
            crate::firstseen::with_learning(&self.first_seen, opts.learning_period_ms);
        // First-seen candidates carry an empty rule until evaluated (memory).
        let placeholder = RuleRef {
            id: String::new(),
            title: String::new(),
            level: String::new(),
            tags: Vec::new(),
            origin: Origin::Builtin,
        };
        // Users seen acting across tenants, and the tenants they come from.
        let mut cross_users: HashSet<String> = HashSet::new();
        let mut home_tenants: HashSet<String> = HashSet::new();
        // What chain and burst rules keep of the events they see.
        let mut stage_obs = crate::stages::StageStore::default();
        // Per new-behaviour correlation and entity: the time of its earliest event.
        let mut behaviour_seen: HashMap<usize, HashMap<Vec<String>, i64>> = HashMap::new();
        // A match of a first-seen rule becomes a candidate of this thread's first-seen state.
        let add_candidate = |m: RuleMatch, ev: &Event, view: &SigmaView<'_>| {
            let Some((entity, value)) = self.first_seen_fields.get(&m.rule) else {
                return;
            };
            if !level_ok(m.rule) {
                return;
            }
            let spec = self.first_seen.get(&m.rule);
            let counted =
                spec.is_some_and(|s| !s.cross_tenant_actors || ev.canonical.user.is_some());
            let (Some(t), true) = (ev.canonical.time, counted) else {
                return;
            };
            LOCAL.with(|l| {
                let l = &mut *l.borrow_mut();
                if l.0 != generation || l.1.is_none() {
                    let mine = Local::default();
                    locals
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(mine.clone());
                    *l = (generation, Some(mine), String::new());
                }
                let (_, Some(mine), key) = l else {
                    return;
                };
                // The key is written in place; the entity and value are made again only for
                // a candidate kept (a record earlier than any seen for the key).
                if !Self::first_seen_key(key, m.rule, entity, value, view) {
                    return;
                }
                let fields = m.fields;
                mine.lock().unwrap_or_else(|e| e.into_inner()).add(
                    key,
                    t.millis(),
                    &ev.provenance,
                    || Candidate {
                        rule: m.rule,
                        entity: entity
                            .iter()
                            .map(|f| Self::first_lower(view, f).unwrap_or_default())
                            .collect(),
                        value: Self::first_lower(view, value).unwrap_or_default(),
                        finding: crate::merge::with_identity(
                            Finding::from_event(placeholder.clone(), ev, BTreeMap::new()),
                            ev,
                        ),
                        // Made a map (the last value of a field wins) if it is reported.
                        matched: if fields.is_empty() {
                            SCRATCH.with(|s| self.set.evidence(m.rule, view, &mut s.borrow_mut()))
                        } else {
                            fields
                        },
                    },
                );
            });
        };
        // Records are parsed once, keeping what the rules and the canonical fields read.
        let projection = match observer {
            Some(o) if !decode_all => {
                let mut p = tw_ingest::select::Projection::clone(&self.projection);
                o.fields().iter().for_each(|f| p.add(f));
                Some(std::sync::Arc::new(p))
            }
            _ => (!decode_all).then(|| self.projection.clone()),
        };
        let ingest = IngestOptions {
            projection,
            ..opts.ingest.clone()
        };
        // The earliest time of each tenant's records this thread decoded for the rules.
        let start = |ev: &Event, out: &mut Vec<Out<O::Kept>>| {
            let Some(t) = ev.canonical.time.map(Timestamp::millis) else {
                return;
            };
            let tenant = ev.canonical.tenant_id.as_deref().unwrap_or("unknown");
            STARTS.with(|s| {
                let s = &mut *s.borrow_mut();
                if s.0 != generation {
                    *s = (generation, HashMap::new());
                }
                if s.1.get(tenant).is_none_or(|&m| t < m) {
                    s.1.insert(tenant.to_string(), t);
                    out.push(Out::Start(tenant.to_string(), t));
                }
            });
        };
        let mut starts: HashMap<String, i64> = HashMap::new();
        let mut report = ingest_prefiltered(
            paths,
            &ingest,
            pre,
            |ev, verdict: Verdict, out: &mut Vec<Out<O::Kept>>| {
                if let Some(o) = observer {
                    let mut kept = Vec::new();
                    o.observe(ev, &mut kept);
                    out.extend(kept.into_iter().map(Out::Observed));
                    if matches!(verdict, Verdict::Skip) {
                        return;
                    }
                    start(ev, out);
                }
                if matches!(ev.kind, LogKind::TenantConfig) {
                    return;
                }
                if want_cross_users
                    && ev.is_cross_tenant()
                    && let Some(u) = &ev.canonical.user
                {
                    let u = u.to_lowercase();
                    let home = ev
                        .canonical
                        .home_tenant_id
                        .as_deref()
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    if once(format!("u\n{u}\n{home}")) {
                        out.push(Out::CrossTenantUser(u, home));
                    }
                }
                // Actors in their own tenant are left to the second look for some rules.
                let own = ev.own_tenant().filter(|_| want_cross_users);
                let later = |r: usize| own.is_some() && self.own_tenant_later[r];
                let mut left = false;
                let view = SigmaView::new(ev, &self.resolver);
                let matches = SCRATCH.with(|s| match &verdict {
                    Verdict::Rules(rules) => {
                        let routed: Vec<u32> = rules
                            .iter()
                            .copied()
                            .filter(|&r| generic || self.routes[r as usize].contains(&ev.kind))
                            .filter(|&r| {
                                let l = later(r as usize);
                                left |= l;
                                !l
                            })
                            .collect();
                        // Evidence is collected for the rules reporting each match; first-seen
                        // candidates take theirs when kept, correlations need none.
                        self.set
                            .matches_among_where(&view, &routed, &mut s.borrow_mut(), &|r| {
                                self.needs_evidence.get(r).copied().unwrap_or(true)
                            })
                    }
                    _ => self.set.matches_with(&view, &mut s.borrow_mut()),
                });
                if !self.stages.is_empty() {
                    let rules: Vec<usize> = matches
                        .iter()
                        .map(|m| m.rule)
                        .filter(|&r| generic || self.routes[r].contains(&ev.kind))
                        .collect();
                    let mut obs = Vec::new();
                    self.stages.observe(ev, &rules, &placeholder, &mut obs);
                    out.extend(obs.into_iter().map(Out::Stage));
                }
                for m in matches {
                    if !generic && !self.routes[m.rule].contains(&ev.kind) {
                        continue;
                    }
                    if later(m.rule) {
                        left = true;
                        continue;
                    }
                    let rule = &self.set.rules()[m.rule];
                    if self.correlated.contains(&m.rule)
                        && let Some(t) = ev.canonical.time
                    {
                        out.push(Out::Observation {
                            rule: m.rule,
                            time: t.millis(),
                            provenance: ev.provenance.clone(),
                            // Rule and matched values are the correlation's when it fires.
                            finding: self.may_lead.contains(&m.rule).then(|| {
                                Box::new(crate::merge::with_identity(
                                    Finding::from_event(placeholder.clone(), ev, BTreeMap::new()),
                                    ev,
                                ))
                            }),
                            snapshot: Snapshot::of(self.correlation_fields_of(m.rule), &view),
                        });
                    }
                    if self.first_seen_fields.contains_key(&m.rule) {
                        add_candidate(m, ev, &view);
                        continue;
                    }
                    if rule.standalone() && level_ok(m.rule) && !self.stages.claims(m.rule) {
                        let f = Finding::from_event(
                            self.rule_ref(m.rule),
                            ev,
                            m.fields.into_iter().collect(),
                        );
                        out.push(Out::Finding(crate::merge::with_identity(f, ev)));
                    }
                }
                if left && let Some(t) = own {
                    note_set_aside(&ev.provenance.file, t);
                }
            },
            |o| match o {
                Out::Finding(f) => findings.push(f),
                Out::Observation {
                    rule,
                    time,
                    provenance,
                    finding,
                    snapshot,
                } => {
                    let id = evidence.len() as u64;
                    let snapshot = snapshot.view(self.correlation_fields_of(rule));
                    // Past the state bound nothing is kept of an observation the engine dropped
                    // (an entity already known still gets its earliest time).
                    let kept = engine.observe(rule, id, time, &snapshot);
                    for (&c, spec) in &self.new_behaviour {
                        if !self.set.correlations()[c].rule_refs().contains(&rule) {
                            continue;
                        }
                        let entity = spec.entity_of(&|f| snapshot.get(f));
                        let seen = behaviour_seen.entry(c).or_default();
                        match seen.get_mut(&entity) {
                            Some(t) => *t = (*t).min(time),
                            None if kept => {
                                seen.insert(entity, time);
                            }
                            None => {}
                        }
                    }
                    if kept {
                        evidence.push((provenance, finding, rule, time));
                    }
                }
                Out::Stage(o) => stage_obs.add(o),
                Out::Observed(k) => collect(k),
                Out::Start(tenant, t) => {
                    let e = starts.entry(tenant).or_insert(t);
                    *e = (*e).min(t);
                }
                Out::CrossTenantUser(u, home) => {
                    cross_users.insert(u);
                    if !home.is_empty() {
                        home_tenants.insert(home);
                    }
                }
            },
        );
        // The second look: records of actors in their own tenant, for the rules of
        // `own_tenant_later`, in the inputs holding such records of a tenant cross-tenant actors
        // come from (a partner's own tenant). The other tenants' are never needed: their actors
        // never act elsewhere.
        let set_aside = set_aside.into_inner().unwrap_or_else(|e| e.into_inner());
        let again: BTreeSet<String> = set_aside
            .iter()
            .filter(|(_, t)| home_tenants.contains(t))
            .map(|(f, _)| f.clone())
            .collect();
        if !again.is_empty() {
            let decoded_late = std::sync::atomic::AtomicU64::new(0);
            let later_rules: Vec<u32> = (0..self.set.rules().len() as u32)
                .filter(|&r| self.own_tenant_later[r as usize])
                .collect();
            let pre_again = |raw: RawRecord<'_>| -> Option<(Verdict, bool)> {
                if decode_all {
                    return Some((Verdict::All, false));
                }
                match verdict_of(&raw) {
                    Verdict::Defer(t) if home_tenants.contains(&t) => {
                        Some((Verdict::Rules(later_rules.clone()), true))
                    }
                    Verdict::Rules(r) if r.iter().any(|&x| self.own_tenant_later[x as usize]) => {
                        Some((Verdict::Rules(r), false))
                    }
                    Verdict::All => Some((Verdict::All, false)),
                    _ => None,
                }
            };
            let reread = IngestOptions {
                only_inputs: Some(std::sync::Arc::new(again)),
                ..ingest.clone()
            };
            ingest_prefiltered(
                paths,
                &reread,
                pre_again,
                |ev, (verdict, late): (Verdict, bool), _: &mut Vec<()>| {
                    if late {
                        decoded_late.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let Some(t) = ev.own_tenant() else {
                        return;
                    };
                    if !home_tenants.contains(&t.to_ascii_lowercase()) {
                        return;
                    }
                    let rules: Vec<u32> = match verdict {
                        Verdict::Rules(r) => r,
                        _ => later_rules.clone(),
                    }
                    .into_iter()
                    .filter(|&r| {
                        self.own_tenant_later[r as usize]
                            && (generic || self.routes[r as usize].contains(&ev.kind))
                    })
                    .collect();
                    let view = SigmaView::new(ev, &self.resolver);
                    let matches = SCRATCH.with(|s| {
                        self.set
                            .matches_among_where(&view, &rules, &mut s.borrow_mut(), &|_| false)
                    });
                    for m in matches {
                        add_candidate(m, ev, &view);
                    }
                },
                |()| {},
            );
            // Records set aside unread by the prefilter and read now were decoded after all.
            let late = decoded_late.into_inner();
            report.totals.prefiltered = report.totals.prefiltered.saturating_sub(late);
        }
        self.set.count_skipped_events(report.totals.prefiltered);
        for l in locals.into_inner().unwrap_or_else(|e| e.into_inner()) {
            let l = match std::sync::Arc::try_unwrap(l) {
                Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
                Err(shared) => {
                    std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner()))
                }
            };
            first_seen.absorb(l, &first_seen_specs);
        }
        if observing {
            first_seen.learn_log_starts(starts);
        } else {
            first_seen.learn_log_starts(
                report
                    .coverage
                    .iter()
                    .filter_map(|c| Some((c.tenant_id.clone(), c.first?.millis()))),
            );
        }
        findings.extend(first_seen.finish(&first_seen_specs, &cross_users, &|i| self.rule_ref(i)));
        let (corr, cstats): (_, CorrelationStats) = engine.finish();
        let corr = self.drop_usual(corr, &behaviour_seen, opts.learning_period_ms);
        for m in corr {
            let c = &self.set.correlations()[m.correlation];
            let r = c.rule();
            let level = r
                .level
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| "medium".into());
            if let Some(minl) = min
                && r.level.unwrap_or(Level::Medium) < minl
            {
                continue;
            }
            // The lead event gives the finding its actor and address: for temporal_ordered the
            // first match of the first rule of the sequence (events before it contribute nothing
            // and are left out of the evidence), otherwise the first event.
            let ordered = r.kind == tw_sigma::CorrelationType::TemporalOrdered;
            let lead_rule = c.rule_refs().first().copied();
            let lead_pos = if ordered {
                m.events.iter().position(|i| {
                    evidence
                        .get(*i as usize)
                        .is_some_and(|e| Some(e.2) == lead_rule)
                })
            } else {
                None
            }
            .unwrap_or(0);
            let events: Vec<u64> = m.events[lead_pos..].to_vec();
            let Some((_, Some(first), lead, _)) =
                events.first().and_then(|i| evidence.get(*i as usize))
            else {
                continue;
            };
            let mut f = Finding::clone(first);
            f.rule = RuleRef {
                id: r
                    .id
                    .clone()
                    .or_else(|| r.name.clone())
                    .unwrap_or_else(|| r.title.clone()),
                title: r.title.clone(),
                level,
                tags: r.tags.clone(),
                origin: self
                    .correlation_origins
                    .get(m.correlation)
                    .copied()
                    .unwrap_or(Origin::User),
            };
            f.time = Some(Timestamp(m.last_ms));
            f.evidence = events
                .iter()
                .filter_map(|i| evidence.get(*i as usize).map(|e| e.0.clone()))
                .collect();
            let follow_up = events
                .iter()
                .filter_map(|i| evidence.get(*i as usize))
                .filter(|e| e.2 != *lead)
                .map(|e| e.3);
            crate::merge::set_follow_up(&mut f, follow_up);
            f.matched = m.group.into_iter().collect();
            f.matched
                .insert("(value)".into(), tw_sigma::event::canonical_float(m.value));
            findings.push(f);
        }
        self.stages.finish(
            stage_obs,
            &mut findings,
            (min, opts.learning_period_ms),
            &|i| self.rule_ref(i),
        );
        // Sorted through their positions (moving whole findings is what a sort of many costs),
        // then put in that order in place.
        let mut order: Vec<usize> = (0..findings.len()).collect();
        order.sort_by(|&a, &b| findings[a].cmp_by_key(&findings[b]));
        permute_in_place(&mut findings, order);
        // One action, one finding; routine context aggregated per actor, tenant and day.
        let findings = crate::merge::consolidate(findings, &self.aggregates);
        let st = self.set.stats();
        let stats = HuntStats {
            rules: self.set.rules().len(),
            correlations: self.set.correlations().len(),
            events: st.events,
            evaluated: st.evaluated,
            skipped: st.skipped,
            correlation_observed: cstats.observed,
            correlation_dropped: cstats.dropped,
            correlation_missing_group_field: cstats.missing_group_field,
        };
        HuntResult {
            findings,
            ingest: report,
            stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute_in_place;

    #[test]
    fn permuting_in_place_gives_what_the_order_says() {
        // Permutations of several cycle shapes, from a small deterministic generator.
        let mut seed = 7u64;
        for n in [0usize, 1, 2, 3, 10, 57] {
            for _ in 0..20 {
                let mut order: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    order.swap(i, (seed >> 33) as usize % (i + 1));
                }
                let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
                let want: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
                let mut got = items;
                permute_in_place(&mut got, order);
                assert_eq!(got, want);
            }
        }
    }
}
