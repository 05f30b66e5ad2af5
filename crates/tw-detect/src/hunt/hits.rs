//! Findings of matches found by another engine (the Spark hunt's `(rule_id, file, record)` rows):
//! the records behind them are evaluated again by this engine's rules, and what each rule id
//! found is kept — its findings, and, for a correlation, the windows the correlation reports
//! over the records found for it — then the usual emit (one finding per action, routine context
//! aggregated; [`crate::merge`]). The merging of copies, `matched`, tags and origin are thus this
//! engine's own. Rules whose findings depend on records not among the hits (first-seen,
//! `new_behaviour`, chains and bursts) give nothing here.
//!
//! A correlation's windows are rebuilt one at a time from the records of each window the other
//! engine reported (the records found for the correlation, grouped by their window): a window's
//! records are the observations from its first reported one to its last, all within `timespan`,
//! so scanned alone they make that one window again (the finding whose evidence is those
//! records, when a record read with other group values made a window of another group too).
//! Records that name no window are scanned
//! together: as every window holds every observation from its first to `timespan` later, the
//! scan over them starts and closes the same windows, except an ordered window whose first
//! observations were not evidence (its scan starts later and could reach the next window).

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};

use tw_event::{Event, Finding};
use tw_sigma::Level;

use super::collect::Collector;
use super::worker::{Out, Worker};
use super::{HuntOptions, Hunter, emit};
use crate::prefilter::Verdict;

/// A record another engine found, and the ids of the rules that found it.
#[derive(Debug, Clone)]
pub struct HitRecord {
    /// The record, rebuilt from its document and provenance.
    pub event: Event,
    /// Ids of the rules (or correlations) whose query returned it.
    pub rules: Vec<String>,
    /// Per correlation id: the windows of it the record belongs to (any text naming a window,
    /// unique within the correlation).
    pub windows: std::collections::BTreeMap<String, Vec<String>>,
}

/// Findings of hits, and the rule ids of the hits this rule set does not know.
pub struct HitFindings {
    /// Findings in the `hunt` order, one per action.
    pub findings: Vec<Finding>,
    /// Rule ids found in the hits but not loaded (the hits were compiled from other rules).
    pub unknown_rules: Vec<String>,
}

impl Hunter {
    /// The findings of `records` (in the order of their file and record, which orders the
    /// correlations' observations of equal time) at level `min_level` and above.
    pub fn findings_of_hits(&self, records: &[HitRecord], min_level: Option<Level>) -> HitFindings {
        let opts = HuntOptions {
            min_level,
            decode_all: true,
            ..HuntOptions::default()
        };
        let worker = Worker::new(self, &[], &opts, false);
        let correlations = self.correlation_ids();
        let known = self.rule_ids();
        let mut findings = Vec::new();
        let mut unknown = std::collections::BTreeSet::new();
        for rec in records {
            let mut out: Vec<Out<()>> = Vec::new();
            worker.event(&rec.event, Verdict::All, &mut out);
            for o in out {
                if let Out::Finding(f) = o
                    && rec.rules.contains(&f.rule.id)
                {
                    findings.push(f);
                }
            }
            for r in &rec.rules {
                if !known.contains(r.as_str()) && !correlations.contains_key(r.as_str()) {
                    unknown.insert(r.clone());
                }
            }
        }
        let mut found: Vec<(&str, usize)> = correlations.iter().map(|(k, &c)| (*k, c)).collect();
        found.sort_unstable();
        for (id, c) in found {
            for (named, window) in by_window(records, id) {
                let rebuilt = self.correlation_of_hits(&worker, c, &window, &opts);
                findings.extend(match named {
                    Some(_) => the_window(rebuilt, &window),
                    None => rebuilt,
                });
            }
        }
        HitFindings {
            findings: emit(findings, &self.aggregates),
            unknown_rules: unknown.into_iter().collect(),
        }
    }

    /// The findings of correlation `c` over the records found for it.
    fn correlation_of_hits(
        &self,
        worker: &Worker<'_>,
        c: usize,
        records: &[&HitRecord],
        opts: &HuntOptions,
    ) -> Vec<Finding> {
        let mut kept = Collector::new(self, opts);
        for rec in records {
            let mut out: Vec<Out<()>> = Vec::new();
            worker.event(&rec.event, Verdict::All, &mut out);
            for o in out {
                if matches!(o, Out::Observation { .. }) {
                    kept.take(o);
                }
            }
        }
        let Collector {
            evidence,
            engine,
            behaviour_seen,
            ..
        } = kept;
        let (matches, _) = engine.finish();
        let mine = matches.into_iter().filter(|m| m.correlation == c).collect();
        self.correlation_findings(mine, &evidence, (&behaviour_seen, None), opts.min_level)
    }

    /// Ids of the rules, as their findings name them.
    fn rule_ids(&self) -> HashSet<String> {
        (0..self.set.rules().len())
            .map(|i| self.rule_ref(i).id)
            .collect()
    }

    /// Correlations by the id their findings carry.
    fn correlation_ids(&self) -> HashMap<&str, usize> {
        self.set
            .correlations()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let r = c.rule();
                let id = r.id.as_deref().or(r.name.as_deref()).unwrap_or(&r.title);
                (id, i)
            })
            .collect()
    }
}

/// The records found for correlation `id`, per window (`None`: those naming no window), in the
/// order of `records`.
fn by_window<'r>(
    records: &'r [HitRecord],
    id: &str,
) -> BTreeMap<Option<&'r str>, Vec<&'r HitRecord>> {
    let mut out: BTreeMap<Option<&str>, Vec<&HitRecord>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.rules.iter().any(|x| x == id)) {
        match r.windows.get(id) {
            Some(ws) if !ws.is_empty() => {
                for w in ws {
                    out.entry(Some(w.as_str())).or_default().push(r);
                }
            }
            _ => out.entry(None).or_default().push(r),
        }
    }
    out
}

/// Of the findings rebuilt from the records of one named window, the one whose evidence is
/// those records: a record that two rules of the correlation read with different group values
/// also gives an observation of another group, whose window is not the one named. All of them
/// when none is.
fn the_window(rebuilt: Vec<Finding>, window: &[&HitRecord]) -> Vec<Finding> {
    let records: HashSet<(&str, u64)> = window
        .iter()
        .map(|r| (&*r.event.provenance.file, r.event.provenance.record))
        .collect();
    let is_it = |f: &Finding| {
        let ev: HashSet<(&str, u64)> = f.evidence.iter().map(|p| (&*p.file, p.record)).collect();
        ev == records
    };
    if rebuilt.iter().any(is_it) {
        rebuilt.into_iter().filter(is_it).collect()
    } else {
        rebuilt
    }
}
