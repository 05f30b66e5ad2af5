//! The hunt runner: one compiled rule set for every format (fields resolved per format by the
//! event adapter), rules routed by log kind, matching and first-seen bookkeeping on the ingest
//! worker threads (each thread's first-seen state merged at the end), correlations and ordering
//! on the calling thread, findings sorted by time, file and record.

use hashbrown::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;
use tw_event::{Finding, Format, LogKind, Origin, RuleRef};
use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest_prefiltered};
use tw_sigma::{CorrelationStats, FieldRef, Level, RuleSet};

mod build;
mod collect;
mod correlate;
mod hits;
mod keys;
mod second_look;
mod worker;

use collect::Collector;
pub use hits::{HitFindings, HitRecord};
use worker::{Local, Out, Worker};

use crate::event::Resolver;
use crate::fieldmap::FieldMap;
use crate::firstseen::{FirstSeenSpec, FirstSeenState, NewBehaviourSpec};
use crate::prefilter::{RawPrefilter, Verdict};

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
    maps: std::collections::HashMap<Format, FieldMap>,
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

impl Hunter {
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

    /// True when rule `i`'s matches go to a chain or burst stage (`tenantwatch.chain`,
    /// `tenantwatch.burst`) rather than to findings of their own.
    pub fn is_staged(&self, i: usize) -> bool {
        self.stages.claims(i)
    }

    /// True when correlation `c` carries `tenantwatch.new_behaviour`.
    pub fn is_new_behaviour(&self, c: usize) -> bool {
        self.new_behaviour.contains_key(&c)
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

    /// Reads `paths` and runs every rule on every event of its log kinds. The stages, in order:
    /// read → prefilter → decode → evaluate on the ingest worker threads ([`worker`]), what they
    /// give kept on the collecting thread ([`collect`]); the second look at records of
    /// own-tenant actors ([`second_look`]); first-seen; correlations ([`correlate`]); chains and
    /// bursts ([`crate::stages`]); emit: findings in order, one per action ([`crate::merge`]).
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
        let worker = Worker::new(self, paths, opts, observer.is_some());
        let mut kept = Collector::new(self, opts);
        // Records are parsed once, keeping what the rules, the canonical fields and the observer
        // read.
        let projection = (!opts.decode_all).then(|| match observer {
            Some(o) => {
                let mut p = tw_ingest::select::Projection::clone(&self.projection);
                o.fields().iter().for_each(|f| p.add(f));
                std::sync::Arc::new(p)
            }
            None => self.projection.clone(),
        });
        let ingest = IngestOptions {
            projection,
            ..opts.ingest.clone()
        };
        let mut report = ingest_prefiltered(
            paths,
            &ingest,
            |raw: RawRecord<'_>| worker.pre(raw),
            |ev, verdict: Verdict, out: &mut Vec<Out<O::Kept>>| match observer {
                Some(o) => worker.observed_event(o, ev, verdict, out),
                None => worker.event(ev, verdict, out),
            },
            |o| {
                if let Some(k) = kept.take(o) {
                    collect(k);
                }
            },
        );
        let set_aside = worker.take_set_aside();
        let inputs = (paths, &ingest);
        // The users' address histories the stages ask about (every record is read already with
        // --decode-all); the partners' own tenants are read again anyway.
        let mut asked = HashSet::new();
        if !opts.decode_all {
            asked = self.stages.asked_tenants(&kept.stage_obs, &kept.findings);
            asked.extend(kept.home_tenants.iter().cloned());
        }
        let wanted = second_look::Wanted {
            home: &kept.home_tenants,
            asked: &asked,
        };
        for s in second_look::run(&worker, inputs, &set_aside, &wanted, &mut report) {
            kept.stage_obs.add(crate::stages::StageObs::Seen(s));
        }
        self.set.count_skipped_events(report.totals.prefiltered);
        let Collector {
            mut findings,
            evidence,
            engine,
            behaviour_seen,
            stage_obs,
            cross_users,
            starts,
            ..
        } = kept;
        let learning = opts.learning_period_ms;
        let locals = worker.into_locals();
        // The logs' starts: of the records the rules were run on (with an observer every record
        // is read, and the coverage counts them all).
        let starts: Vec<(String, i64)> = match observer {
            Some(_) => starts.into_iter().collect(),
            None => report
                .coverage
                .iter()
                .filter_map(|c| Some((c.tenant_id.clone(), c.first?.millis())))
                .collect(),
        };
        findings.extend(self.first_seen_findings(locals, starts, &cross_users, learning));
        let (corr, cstats): (_, CorrelationStats) = engine.finish();
        let seen = (&behaviour_seen, learning);
        findings.extend(self.correlation_findings(corr, &evidence, seen, opts.min_level));
        let min = (opts.min_level, learning);
        self.stages
            .finish(stage_obs, &mut findings, min, &|i| self.rule_ref(i));
        HuntResult {
            findings: emit(findings, &self.aggregates),
            ingest: report,
            stats: self.stats(cstats),
        }
    }

    /// The first-seen findings from every worker thread's candidates.
    fn first_seen_findings(
        &self,
        locals: Vec<Local>,
        starts: Vec<(String, i64)>,
        cross_users: &HashSet<String>,
        learning: Option<i64>,
    ) -> Vec<Finding> {
        let specs = crate::firstseen::with_learning(&self.first_seen, learning);
        let mut state = FirstSeenState::default();
        for l in locals {
            let l = match std::sync::Arc::try_unwrap(l) {
                Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
                Err(shared) => {
                    std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner()))
                }
            };
            state.absorb(l, &specs);
        }
        state.learn_log_starts(starts);
        state.finish(&specs, cross_users, &|i| self.rule_ref(i))
    }

    fn stats(&self, cstats: CorrelationStats) -> HuntStats {
        let st = self.set.stats();
        HuntStats {
            rules: self.set.rules().len(),
            correlations: self.set.correlations().len(),
            events: st.events,
            evaluated: st.evaluated,
            skipped: st.skipped,
            correlation_observed: cstats.observed,
            correlation_dropped: cstats.dropped,
            correlation_missing_group_field: cstats.missing_group_field,
        }
    }
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
    fn observe(&self, ev: &tw_event::Event, out: &mut Vec<Self::Kept>);
}

/// No second consumer.
struct NoObserver;

impl Observer for NoObserver {
    type Kept = ();
    fn fields(&self) -> &[&str] {
        &[]
    }
    fn observe(&self, _: &tw_event::Event, _: &mut Vec<()>) {}
}

/// Emit: findings sorted by time, file, record and rule (through their positions: moving whole
/// findings is what a sort of many costs), then one per action, routine context aggregated per
/// actor, tenant and day ([`crate::merge::consolidate`]).
fn emit(
    mut findings: Vec<Finding>,
    aggregates: &HashMap<String, crate::merge::AggregateSpec>,
) -> Vec<Finding> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| findings[a].cmp_by_key(&findings[b]));
    permute_in_place(&mut findings, order);
    crate::merge::consolidate(findings, aggregates)
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
