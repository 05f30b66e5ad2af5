//! The hunt's per-record work on the ingest worker threads: the raw-record prefilter's verdict
//! (read → prefilter), then, for each decoded event, evaluation of the rules its verdict leaves
//! (evaluate) and what each match becomes — a finding, a correlation observation, a first-seen
//! candidate of the thread's own first-seen state, or an observation of a chain or burst stage.
//! Everything a worker sends to the collecting thread is an [`Out`].

use hashbrown::HashSet;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tw_event::{Event, Finding, Format, LogKind, Origin, Provenance, RuleRef};
use tw_ingest::RawRecord;
use tw_sigma::{Level, RuleMatch, Scratch};

use super::{HuntOptions, Hunter, Observer};
use crate::event::{SigmaView, Snapshot};
use crate::firstseen::{Candidate, LocalFirstSeen};
use crate::prefilter::{PrefilterScratch, RawPrefilter, Verdict};

/// What a worker hands the collecting thread for an event (`K`: what an [`Observer`] keeps).
/// Findings move through the per-batch vectors by value (boxing each would cost an allocation per
/// finding); observation findings are boxed because observations are kept until the end of the
/// run.
#[allow(clippy::large_enum_variant)]
pub(super) enum Out<K> {
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
    /// The time of a record the rules were run on, and its tenant (`unknown` when undecided),
    /// when an observer makes the read decode every record: the logs' starts the first-seen
    /// rules learn from are those of the records the hunt itself decodes, as without an observer.
    Start(String, i64),
}

/// Distinguishes hunts, so that per-thread state left by one hunt is not read by the next.
static HUNT_GENERATION: AtomicU64 = AtomicU64::new(0);

/// One thread's first-seen state in one hunt (shared with the hunt, which merges them all).
pub(super) type Local = Arc<Mutex<LocalFirstSeen>>;

/// What this thread has already sent to the collecting thread in hunt `generation`.
#[derive(Default)]
struct SentOnce {
    generation: u64,
    sent: HashSet<String>,
}

/// This thread's first-seen state in hunt `generation`, and the key buffer candidates are
/// written into.
#[derive(Default)]
struct FirstSeenSlot {
    generation: u64,
    state: Option<Local>,
    key: String,
}

/// The last (input, tenant) this thread set aside in hunt `generation`: records of one input
/// come together, so only a change is noted.
#[derive(Default)]
struct LastAside {
    generation: u64,
    file: String,
    tenant: String,
    deferred: bool,
}

/// The earliest record time per tenant this thread has sent in hunt `generation`.
#[derive(Default)]
struct TenantStarts {
    generation: u64,
    first: std::collections::HashMap<String, i64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    static PRE: RefCell<PrefilterScratch> = RefCell::new(PrefilterScratch::default());
    static SENT: RefCell<SentOnce> = RefCell::new(SentOnce::default());
    static SLOT: RefCell<FirstSeenSlot> = RefCell::new(FirstSeenSlot::default());
    static ASIDE: RefCell<LastAside> = RefCell::new(LastAside::default());
    static STARTS: RefCell<TenantStarts> = RefCell::new(TenantStarts::default());
    /// What this thread sent of users at addresses in hunt `.0` ([`crate::newaddr::SeenCache`]).
    static SEEN: RefCell<(u64, crate::newaddr::SeenCache)> = RefCell::default();
}

/// The shared state of one hunt's workers.
pub(super) struct Worker<'h> {
    pub(super) hunter: &'h Hunter,
    /// The prefilter, its first literals picked from a sample of the data.
    prefilter: RawPrefilter,
    /// Every rule applies to every record (`--format-in json`): no routing.
    pub(super) generic: bool,
    pub(super) decode_all: bool,
    min: Option<Level>,
    generation: u64,
    want_cross_users: bool,
    /// A second consumer sees every record: those the prefilter rules out are decoded for it.
    observing: bool,
    /// Candidates and observations carry an empty rule until evaluated (memory).
    pub(super) placeholder: RuleRef,
    /// Every thread's first-seen state, merged when all records are read.
    locals: Mutex<Vec<Local>>,
    /// Inputs holding records of actors in their own tenant that the rules of
    /// `own_tenant_later` were not run on, with that tenant.
    /// (input, tenant, whether the prefilter deferred records of it unread).
    set_aside: Mutex<BTreeSet<(String, String, bool)>>,
}

impl<'h> Worker<'h> {
    pub(super) fn new(
        hunter: &'h Hunter,
        paths: &[PathBuf],
        opts: &HuntOptions,
        observing: bool,
    ) -> Self {
        // The literals looked up first are picked from how often they occur in the data.
        let mut prefilter = hunter.prefilter.clone();
        if !opts.decode_all {
            let sample = crate::prefilter::sample_texts(paths);
            let refs: Vec<&[u8]> = sample.iter().map(Vec::as_slice).collect();
            prefilter.tune(&refs);
        }
        Worker {
            hunter,
            prefilter,
            generic: opts.ingest.format_in == Some(Format::GenericJson),
            decode_all: opts.decode_all,
            min: opts.min_level,
            generation: HUNT_GENERATION.fetch_add(1, Ordering::Relaxed) + 1,
            want_cross_users: hunter.first_seen.values().any(|s| s.cross_tenant_actors),
            observing,
            placeholder: RuleRef {
                id: String::new(),
                title: String::new(),
                level: String::new(),
                tags: Vec::new(),
                origin: Origin::Builtin,
            },
            locals: Mutex::new(Vec::new()),
            set_aside: Mutex::default(),
        }
    }

    /// The inputs set aside so far (with their tenant), taken.
    pub(super) fn take_set_aside(&self) -> BTreeSet<(String, String, bool)> {
        std::mem::take(&mut *self.set_aside.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Every thread's first-seen state, once all records are read.
    pub(super) fn into_locals(self) -> Vec<Local> {
        self.locals.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether rule `i` reports at the hunt's level; a rule stating no level is `medium`
    /// (docs/findings.md). A rule whose findings may be raised (`tenantwatch.new_address`) is
    /// judged at that level here, at its own once the raise is decided.
    pub(super) fn level_ok(&self, i: usize) -> bool {
        match self.min {
            Some(m) => {
                let own = self.hunter.set.rules()[i].level().unwrap_or(Level::Medium);
                let raised = self.hunter.stages.raised_level(i);
                raised.map_or(own, |r| r.max(own)) >= m
            }
            None => true,
        }
    }

    /// Whether rule `r` applies to events of `kind`.
    pub(super) fn routed(&self, r: usize, kind: &LogKind) -> bool {
        self.generic || self.hunter.routes[r].contains(kind)
    }

    /// True the first time this thread sends `what` in this hunt.
    fn once(&self, what: String) -> bool {
        SENT.with(|s| {
            let s = &mut *s.borrow_mut();
            if s.generation != self.generation {
                *s = SentOnce {
                    generation: self.generation,
                    sent: HashSet::new(),
                };
            }
            !s.sent.contains(&what) && s.sent.insert(what)
        })
    }

    fn note_set_aside(&self, file: &str, tenant: &str, deferred: bool) {
        let new = ASIDE.with(|a| {
            let a = &mut *a.borrow_mut();
            if a.generation == self.generation
                && a.file == file
                && a.tenant == tenant
                && a.deferred == deferred
            {
                return false;
            }
            *a = LastAside {
                generation: self.generation,
                file: file.to_string(),
                tenant: tenant.to_string(),
                deferred,
            };
            true
        });
        if new {
            self.set_aside
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((file.to_string(), tenant.to_string(), deferred));
        }
    }

    /// The prefilter's verdict on a raw record.
    pub(super) fn verdict_of(&self, raw: &RawRecord<'_>) -> Verdict {
        PRE.with(|s| {
            let s = &mut s.borrow_mut();
            if self.generic {
                // Every rule applies to every record: no routing.
                self.prefilter.verdict(raw.bytes, raw.spells_keys, s)
            } else {
                self.prefilter.verdict_record(raw, s)
            }
        })
    }

    /// Whether a raw record is decoded, and with which rules.
    pub(super) fn pre(&self, raw: RawRecord<'_>) -> Option<Verdict> {
        if self.decode_all {
            return Some(Verdict::All);
        }
        // With an observer every record is decoded; those the rules skip only for it.
        match self.verdict_of(&raw) {
            Verdict::Skip => self.observing.then_some(Verdict::Skip),
            Verdict::Defer(tenant) => {
                self.note_set_aside(raw.source, &tenant, true);
                self.observing.then_some(Verdict::Skip)
            }
            v => Some(v),
        }
    }

    /// Shows a decoded event to `observer`, then evaluates it unless the prefilter ruled it out.
    pub(super) fn observed_event<O: Observer>(
        &self,
        observer: &O,
        ev: &Event,
        verdict: Verdict,
        out: &mut Vec<Out<O::Kept>>,
    ) {
        let mut kept = Vec::new();
        observer.observe(ev, &mut kept);
        out.extend(kept.into_iter().map(Out::Observed));
        if matches!(verdict, Verdict::Skip) {
            return;
        }
        Self::note_start(ev, self.generation, out);
        self.event(ev, verdict, out);
    }

    /// Sends the event's time when it is the earliest of its tenant this thread has seen.
    fn note_start<K>(ev: &Event, generation: u64, out: &mut Vec<Out<K>>) {
        let Some(t) = ev.canonical.time.map(tw_event::Timestamp::millis) else {
            return;
        };
        let tenant = ev.canonical.tenant_id.as_deref().unwrap_or("unknown");
        STARTS.with(|s| {
            let s = &mut *s.borrow_mut();
            if s.generation != generation {
                *s = TenantStarts {
                    generation,
                    first: Default::default(),
                };
            }
            if s.first.get(tenant).is_none_or(|&m| t < m) {
                s.first.insert(tenant.to_string(), t);
                out.push(Out::Start(tenant.to_string(), t));
            }
        });
    }

    /// Evaluates a decoded event and hands what it gives to `out`.
    pub(super) fn event<K>(&self, ev: &Event, verdict: Verdict, out: &mut Vec<Out<K>>) {
        if matches!(ev.kind, LogKind::TenantConfig) {
            return;
        }
        self.note_cross_tenant_user(ev, out);
        // Actors in their own tenant are left to the second look for some rules.
        let own = ev.own_tenant().filter(|_| self.want_cross_users);
        let later = |r: usize| own.is_some() && self.hunter.own_tenant_later[r];
        let left = std::cell::Cell::new(false);
        let view = SigmaView::new(ev, &self.hunter.resolver);
        let matches = self.matches(&view, ev, &verdict, &|r| {
            let l = later(r);
            left.set(left.get() | l);
            !l
        });
        self.observe_stages(ev, &matches, out);
        for m in matches {
            if !self.routed(m.rule, &ev.kind) {
                continue;
            }
            if later(m.rule) {
                left.set(true);
                continue;
            }
            self.emit_match(m, ev, &view, out);
        }
        if left.get()
            && let Some(t) = own
        {
            self.note_set_aside(&ev.provenance.file, t, false);
        }
    }

    /// A user acting across tenants is sent once per thread, with their home tenant.
    fn note_cross_tenant_user<K>(&self, ev: &Event, out: &mut Vec<Out<K>>) {
        if !self.want_cross_users || !ev.is_cross_tenant() {
            return;
        }
        let Some(u) = &ev.canonical.user else {
            return;
        };
        let u = u.to_lowercase();
        let home = ev
            .canonical
            .home_tenant_id
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if self.once(format!("u\n{u}\n{home}")) {
            out.push(Out::CrossTenantUser(u, home));
        }
    }

    /// The matches of the rules `verdict` leaves for the event (those `keep` accepts of them).
    fn matches(
        &self,
        view: &SigmaView<'_>,
        ev: &Event,
        verdict: &Verdict,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<RuleMatch> {
        let set = &self.hunter.set;
        SCRATCH.with(|s| match verdict {
            Verdict::Rules(rules) => {
                let routed: Vec<u32> = rules
                    .iter()
                    .copied()
                    .filter(|&r| self.routed(r as usize, &ev.kind))
                    .filter(|&r| keep(r as usize))
                    .collect();
                // Evidence is collected for the rules reporting each match; first-seen
                // candidates take theirs when kept, correlations need none.
                set.matches_among_where(view, &routed, &mut s.borrow_mut(), &|r| {
                    self.hunter.needs_evidence.get(r).copied().unwrap_or(true)
                })
            }
            _ => set.matches_with(view, &mut s.borrow_mut()),
        })
    }

    /// What the chain and burst stages keep of the event.
    fn observe_stages<K>(&self, ev: &Event, matches: &[RuleMatch], out: &mut Vec<Out<K>>) {
        let stages = &self.hunter.stages;
        if stages.is_empty() {
            return;
        }
        let rules: Vec<usize> = matches
            .iter()
            .map(|m| m.rule)
            .filter(|&r| self.routed(r, &ev.kind))
            .collect();
        let mut obs = Vec::new();
        SEEN.with(|s| {
            let s = &mut *s.borrow_mut();
            if s.0 != self.generation {
                *s = (self.generation, crate::newaddr::SeenCache::default());
            }
            stages.observe(ev, &rules, (&self.placeholder, &mut s.1), &mut obs);
        });
        out.extend(obs.into_iter().map(Out::Stage));
    }

    /// What one match becomes: a correlation observation, a first-seen candidate, a finding.
    fn emit_match<K>(&self, m: RuleMatch, ev: &Event, view: &SigmaView<'_>, out: &mut Vec<Out<K>>) {
        let h = self.hunter;
        if h.correlated.contains(&m.rule)
            && let Some(t) = ev.canonical.time
        {
            out.push(Out::Observation {
                rule: m.rule,
                time: t.millis(),
                provenance: ev.provenance.clone(),
                // Rule and matched values are the correlation's when it fires.
                finding: h.may_lead.contains(&m.rule).then(|| {
                    Box::new(crate::merge::with_identity(
                        Finding::from_event(self.placeholder.clone(), ev, BTreeMap::new()),
                        ev,
                    ))
                }),
                snapshot: Snapshot::of(h.correlation_fields_of(m.rule), view),
            });
        }
        if h.first_seen_fields.contains_key(&m.rule) {
            self.add_candidate(m, ev, view);
            return;
        }
        let rule = &h.set.rules()[m.rule];
        if rule.standalone() && self.level_ok(m.rule) && !h.stages.claims(m.rule) {
            let f = Finding::from_event(h.rule_ref(m.rule), ev, m.fields.into_iter().collect());
            out.push(Out::Finding(crate::merge::with_identity(f, ev)));
        }
    }

    /// A match of a first-seen rule becomes a candidate of this thread's first-seen state.
    pub(super) fn add_candidate(&self, m: RuleMatch, ev: &Event, view: &SigmaView<'_>) {
        let h = self.hunter;
        let Some((entity, value)) = h.first_seen_fields.get(&m.rule) else {
            return;
        };
        if !self.level_ok(m.rule) {
            return;
        }
        let spec = h.first_seen.get(&m.rule);
        let counted = spec.is_some_and(|s| !s.cross_tenant_actors || ev.canonical.user.is_some());
        let (Some(t), true) = (ev.canonical.time, counted) else {
            return;
        };
        SLOT.with(|slot| {
            let slot = &mut *slot.borrow_mut();
            self.claim_thread_state(slot);
            let FirstSeenSlot {
                state: Some(mine),
                key,
                ..
            } = slot
            else {
                return;
            };
            // The key is written in place; the entity and value are made again only for a
            // candidate kept (a record earlier than any seen for the key).
            if !super::keys::first_seen_key(key, m.rule, entity, value, view) {
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
                        .map(|f| super::keys::first_lower(view, f).unwrap_or_default())
                        .collect(),
                    value: super::keys::first_lower(view, value).unwrap_or_default(),
                    finding: crate::merge::with_identity(
                        Finding::from_event(self.placeholder.clone(), ev, BTreeMap::new()),
                        ev,
                    ),
                    // Made a map (the last value of a field wins) if it is reported.
                    matched: if fields.is_empty() {
                        SCRATCH.with(|s| h.set.evidence(m.rule, view, &mut s.borrow_mut()))
                    } else {
                        fields
                    },
                },
            );
        });
    }

    /// Makes this thread's first-seen state of this hunt and registers it, on first use.
    fn claim_thread_state(&self, slot: &mut FirstSeenSlot) {
        if slot.generation == self.generation && slot.state.is_some() {
            return;
        }
        let mine = Local::default();
        self.locals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(mine.clone());
        *slot = FirstSeenSlot {
            generation: self.generation,
            state: Some(mine),
            key: String::new(),
        };
    }

    /// What the `seen` rules tell of an event read in the second look: where its user acted
    /// from, when one of them matches it.
    pub(super) fn seen_look_event(&self, ev: &Event) -> Option<crate::newaddr::SeenObs> {
        let h = self.hunter;
        let rules: Vec<u32> = h
            .stages
            .seen_rules()
            .filter(|&r| self.routed(r as usize, &ev.kind))
            .collect();
        if rules.is_empty() {
            return None;
        }
        let view = SigmaView::new(ev, &h.resolver);
        let matches = SCRATCH.with(|s| {
            h.set
                .matches_among_where(&view, &rules, &mut s.borrow_mut(), &|_| false)
        });
        if matches.is_empty() {
            return None;
        }
        crate::newaddr::observe(ev)
    }

    /// Runs rules `rules` of own-tenant actors on an event read in the second look.
    pub(super) fn second_look_event(&self, ev: &Event, rules: &[u32]) {
        let view = SigmaView::new(ev, &self.hunter.resolver);
        let matches = SCRATCH.with(|s| {
            self.hunter
                .set
                .matches_among_where(&view, rules, &mut s.borrow_mut(), &|_| false)
        });
        for m in matches {
            self.add_candidate(m, ev, &view);
        }
    }
}
