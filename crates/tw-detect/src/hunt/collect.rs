//! The collecting thread's side of a hunt: what workers send ([`Out`]) is kept here — findings
//! as they come, correlation observations fed to the correlation engine (with the record and
//! finding of each, for the evidence of the correlation findings), what the chain and burst
//! stages keep, and the users seen acting across tenants.

use hashbrown::{HashMap, HashSet};

use tw_event::{Finding, Provenance};
use tw_sigma::{CorrelationEngine, CorrelationLimits};

use super::worker::Out;
use super::{HuntOptions, Hunter};
use crate::event::Snapshot;

/// A correlation observation kept: its record, the finding of its event (for rules that may
/// lead a correlation finding), the rule it matched and its time (which tells the copies of one
/// follow-up apart from distinct ones).
pub(super) struct Observed {
    pub(super) provenance: Provenance,
    pub(super) finding: Option<Box<Finding>>,
    pub(super) rule: usize,
    pub(super) time: i64,
}

/// What the collecting thread keeps until all records are read.
pub(super) struct Collector<'h> {
    hunter: &'h Hunter,
    /// Findings of single records, as they come.
    pub(super) findings: Vec<Finding>,
    /// Per correlation observation the engine kept, by its id (position).
    pub(super) evidence: Vec<Observed>,
    pub(super) engine: CorrelationEngine<'h>,
    /// Per new-behaviour correlation and entity: the time of its earliest event.
    pub(super) behaviour_seen: HashMap<usize, HashMap<Vec<String>, i64>>,
    /// What chain and burst rules keep of the events they see.
    pub(super) stage_obs: crate::stages::StageStore,
    /// Users seen acting across tenants, and the tenants they come from.
    pub(super) cross_users: HashSet<String>,
    pub(super) home_tenants: HashSet<String>,
    /// With an observer: the earliest time of each tenant's records the rules were run on.
    pub(super) starts: HashMap<String, i64>,
}

impl<'h> Collector<'h> {
    pub(super) fn new(hunter: &'h Hunter, opts: &HuntOptions) -> Self {
        let limits = if opts.max_correlation_observations > 0 {
            CorrelationLimits {
                max_observations: opts.max_correlation_observations,
            }
        } else {
            CorrelationLimits::default()
        };
        Collector {
            hunter,
            findings: Vec::new(),
            evidence: Vec::new(),
            engine: CorrelationEngine::new(&hunter.set, limits),
            behaviour_seen: HashMap::new(),
            stage_obs: crate::stages::StageStore::default(),
            cross_users: HashSet::new(),
            home_tenants: HashSet::new(),
            starts: HashMap::new(),
        }
    }

    /// Keeps what a worker sent; what an observer kept is handed back.
    pub(super) fn take<K>(&mut self, o: Out<K>) -> Option<K> {
        match o {
            Out::Finding(f) => self.findings.push(f),
            Out::Observation {
                rule,
                time,
                provenance,
                finding,
                snapshot,
            } => self.observe(
                Observed {
                    provenance,
                    finding,
                    rule,
                    time,
                },
                snapshot,
            ),
            Out::Stage(o) => self.stage_obs.add(o),
            Out::CrossTenantUser(u, home) => {
                self.cross_users.insert(u);
                if !home.is_empty() {
                    self.home_tenants.insert(home);
                }
            }
            Out::Observed(k) => return Some(k),
            Out::Start(tenant, t) => {
                let e = self.starts.entry(tenant).or_insert(t);
                *e = (*e).min(t);
            }
        }
        None
    }

    /// Feeds a correlation observation to the engine and to the new-behaviour baselines.
    fn observe(&mut self, o: Observed, snapshot: Snapshot) {
        let h = self.hunter;
        let id = self.evidence.len() as u64;
        let snapshot = snapshot.view(h.correlation_fields_of(o.rule));
        // Past the state bound nothing is kept of an observation the engine dropped (an entity
        // already known still gets its earliest time).
        let kept = self.engine.observe(o.rule, id, o.time, &snapshot);
        for (&c, spec) in &h.new_behaviour {
            if !h.set.correlations()[c].rule_refs().contains(&o.rule) {
                continue;
            }
            let entity = spec.entity_of(&|f| snapshot.get(f));
            let seen = self.behaviour_seen.entry(c).or_default();
            match seen.get_mut(&entity) {
                Some(t) => *t = (*t).min(o.time),
                None if kept => {
                    seen.insert(entity, o.time);
                }
                None => {}
            }
        }
        if kept {
            self.evidence.push(o);
        }
    }
}
