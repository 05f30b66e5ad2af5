//! Correlation findings, once all records are read: the engine's matches, without the usual ones
//! of `new_behaviour` correlations, each made a finding led by its first event, its evidence
//! the records of its events.

use hashbrown::HashMap;

use tw_event::{Finding, Origin, RuleRef, Timestamp};
use tw_sigma::{CorrelationMatch, Level};

use super::Hunter;
use super::collect::Observed;

/// Per new-behaviour correlation and entity: the time of its earliest event.
pub(super) type BehaviourSeen = HashMap<usize, HashMap<Vec<String>, i64>>;

impl Hunter {
    /// The findings of correlation matches `matches` at level `min` or above.
    pub(super) fn correlation_findings(
        &self,
        matches: Vec<CorrelationMatch>,
        evidence: &[Observed],
        (seen, learning): (&BehaviourSeen, Option<i64>),
        min: Option<Level>,
    ) -> Vec<Finding> {
        self.drop_usual(matches, seen, learning)
            .into_iter()
            .filter(|m| {
                let level = self.set.correlations()[m.correlation].rule().level;
                min.is_none_or(|minl| level.unwrap_or(Level::Medium) >= minl)
            })
            .filter_map(|m| self.correlation_finding(m, evidence))
            .collect()
    }

    fn correlation_finding(&self, m: CorrelationMatch, evidence: &[Observed]) -> Option<Finding> {
        let c = &self.set.correlations()[m.correlation];
        let r = c.rule();
        // The lead event gives the finding its actor and address: the first event (the engine
        // starts a temporal_ordered match's events at its sequence's first reference; a
        // correlation it consumed contributes every event behind it).
        let events: Vec<&Observed> = m
            .events
            .iter()
            .filter_map(|i| evidence.get(*i as usize))
            .collect();
        // The first event must be known and carry its finding.
        let first = m.events.first().and_then(|i| evidence.get(*i as usize))?;
        let lead = first.rule;
        let mut f = Finding::clone(first.finding.as_deref()?);
        f.rule = RuleRef {
            id: r
                .id
                .clone()
                .or_else(|| r.name.clone())
                .unwrap_or_else(|| r.title.clone()),
            title: r.title.clone(),
            level: r
                .level
                .map(|l| l.as_str().to_string())
                .unwrap_or_else(|| "medium".into()),
            tags: r.tags.clone(),
            origin: self
                .correlation_origins
                .get(m.correlation)
                .copied()
                .unwrap_or(Origin::User),
        };
        f.time = Some(Timestamp(m.last_ms));
        // A record behind two of the correlation's references (two inner correlations over the
        // same matches) is one piece of evidence.
        let mut listed = std::collections::HashSet::new();
        f.evidence = events
            .iter()
            .filter(|e| listed.insert((e.provenance.file.clone(), e.provenance.record)))
            .map(|e| e.provenance.clone())
            .collect();
        let follow_up = events.iter().filter(|e| e.rule != lead).map(|e| e.time);
        crate::merge::set_follow_up(&mut f, follow_up);
        f.matched = m.group.into_iter().collect();
        f.matched
            .insert("(value)".into(), tw_sigma::event::canonical_float(m.value));
        Some(f)
    }

    /// Correlation matches without the usual ones of `new_behaviour` correlations
    /// ([`crate::firstseen::new_behaviour`]); `seen` gives, per such correlation and entity, the
    /// time of the entity's earliest event.
    fn drop_usual(
        &self,
        matches: Vec<CorrelationMatch>,
        seen: &BehaviourSeen,
        learning: Option<i64>,
    ) -> Vec<CorrelationMatch> {
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
}
