//! The hunt's stages after matching that span many events: `tenantwatch.chain` ([`crate::chain`])
//! and `tenantwatch.burst` ([`crate::burst`]) rules, and the severity of `tenantwatch.new_address`
//! and `tenantwatch.attacker_address` rules ([`crate::raise`]). The runner hands every event's matched rules
//! to [`Stages::observe`] on its worker thread, keeps what comes back, and calls
//! [`Stages::finish`] when all records are read; rules a stage owns are not reported match by
//! match ([`Stages::claims`]).

use hashbrown::{HashMap, HashSet};

use serde_json::Value;
use tw_event::{Event, Finding, RuleRef};
use tw_sigma::{Level, RuleSet};

use crate::burst::{BurstObs, BurstSpec};
use crate::chain::{ChainObs, ChainSpec, Coverage, Pool, Role};
use crate::hunt::RuleSource;
use crate::raise::RaiseSpec;

/// What a stage keeps of one event.
#[derive(Debug, Clone)]
pub enum StageObs {
    /// A step of a chain.
    Chain(ChainObs),
    /// A change of a burst rule.
    Burst(BurstObs),
    /// Where a user acted from, for the burst rules' `seen` ([`crate::newaddr`]).
    Seen(crate::newaddr::SeenObs),
}

/// What the stages keep until all records are read, filled on the collecting thread: chain
/// observations share their strings ([`Pool`]); those without an application key (they can tie
/// to no step) only widen their tenant's coverage.
#[derive(Debug, Default)]
pub struct StageStore {
    chains: Vec<ChainObs>,
    bursts: Vec<BurstObs>,
    seen: crate::newaddr::SeenStore,
    pool: Pool,
    /// Per chain: the coverage of the observations not kept.
    covered: HashMap<usize, Coverage>,
}

impl StageStore {
    /// Keeps `o`.
    pub fn add(&mut self, o: StageObs) {
        match o {
            StageObs::Chain(c) if c.keys.is_empty() => {
                crate::chain::cover(self.covered.entry(c.chain).or_default(), &c);
            }
            StageObs::Chain(mut c) => {
                self.pool.share(&mut c);
                self.chains.push(c);
            }
            StageObs::Burst(b) => self.bursts.push(b),
            StageObs::Seen(s) => self.seen.add(s),
        }
    }
}

/// The stages of one compiled rule set.
#[derive(Debug, Default)]
pub struct Stages {
    /// (rule carrying the block, spec).
    chains: Vec<(usize, ChainSpec)>,
    bursts: Vec<(usize, BurstSpec)>,
    /// Per rule id of a `new_address` rule: its parameters; per rule index: the level it may be
    /// raised to.
    raises: HashMap<String, RaiseSpec>,
    raise_levels: HashMap<usize, Level>,
    /// Rules whose records tell burst and `new_address` rules where users act from.
    burst_seen: HashSet<usize>,
    /// Per rule: (chain, role) it plays.
    roles: HashMap<usize, Vec<(usize, Role)>>,
    claimed: HashSet<usize>,
}

/// The parsed extension blocks of one rule document.
type Parsed = (Option<ChainSpec>, Option<BurstSpec>, Option<RaiseSpec>);

/// (path, id or title) → parsed blocks of the sources' rule documents.
type Blocks = HashMap<(String, String), Parsed>;

fn blocks(sources: &[RuleSource], errors: &mut Vec<(String, String)>) -> Blocks {
    let mut out = Blocks::new();
    for s in sources {
        if !s.text.contains("tenantwatch:") {
            continue;
        }
        let Ok(docs) = tw_sigma::yaml_to_json(&s.path, &s.text) else {
            continue;
        };
        for d in docs.iter().filter(|d| d.get("correlation").is_none()) {
            let key = d
                .get("id")
                .or_else(|| d.get("title"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let chain = crate::chain::spec_of(d).unwrap_or_else(|e| {
                errors.push((s.path.clone(), e));
                None
            });
            let burst = crate::burst::spec_of(d).unwrap_or_else(|e| {
                errors.push((s.path.clone(), e));
                None
            });
            let raise = crate::raise::spec_of(d).unwrap_or_else(|e| {
                errors.push((s.path.clone(), e));
                None
            });
            if chain.is_some() || burst.is_some() || raise.is_some() {
                out.insert((s.path.clone(), key), (chain, burst, raise));
            }
        }
    }
    out
}

impl Stages {
    /// The stages of `set`, compiled from `sources`; invalid blocks are added to `errors` as
    /// (path, reason) and their rules run as plain Sigma.
    pub fn new(
        set: &RuleSet,
        sources: &[RuleSource],
        errors: &mut Vec<(String, String)>,
    ) -> Stages {
        let found = blocks(sources, errors);
        let mut st = Stages::default();
        if found.is_empty() {
            return st;
        }
        let by_name: HashMap<&str, usize> = set
            .rules()
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.name().into_iter().chain(r.id()).map(move |n| (n, i)))
            .collect();
        for (i, r) in set.rules().iter().enumerate() {
            let key = (
                r.path().to_string(),
                r.id().unwrap_or_else(|| r.title()).to_string(),
            );
            let Some((chain, burst, raise)) = found.get(&key) else {
                continue;
            };
            if let Some(spec) = chain {
                st.add_chain(i, spec, &by_name, r.path(), errors);
            }
            if let Some(spec) = burst {
                st.add_seen(
                    &spec.seen,
                    &by_name,
                    (r.path(), "tenantwatch.burst"),
                    errors,
                );
                st.bursts.push((i, spec.clone()));
                st.claimed.insert(i);
            }
            if let Some(spec) = raise {
                let block = format!("tenantwatch.{}", spec.trigger.block());
                st.add_seen(&spec.seen, &by_name, (r.path(), &block), errors);
                st.raises.insert(key.1.clone(), spec.clone());
                st.raise_levels.insert(i, spec.raise_to);
            }
        }
        st
    }

    /// Makes the rules named in `seen` context of the users' addresses, not findings of their own.
    fn add_seen(
        &mut self,
        seen: &[String],
        by_name: &HashMap<&str, usize>,
        (path, what): (&str, &str),
        errors: &mut Vec<(String, String)>,
    ) {
        for n in seen {
            match by_name.get(n.as_str()) {
                Some(&r) => {
                    self.burst_seen.insert(r);
                    self.claimed.insert(r);
                }
                None => errors.push((path.to_string(), format!("{what}: no rule named {n}"))),
            }
        }
    }

    /// The level rule `r`'s findings may be raised to (`tenantwatch.new_address`), if any: its
    /// matches are collected at that level.
    pub fn raised_level(&self, r: usize) -> Option<Level> {
        self.raise_levels.get(&r).copied()
    }

    fn add_chain(
        &mut self,
        rule: usize,
        spec: &ChainSpec,
        by_name: &HashMap<&str, usize>,
        path: &str,
        errors: &mut Vec<(String, String)>,
    ) {
        let c = self.chains.len();
        let mut role = |name: &str, role: Role, claim: bool| match by_name.get(name) {
            Some(&r) => {
                self.roles.entry(r).or_default().push((c, role));
                if claim {
                    self.claimed.insert(r);
                }
            }
            None => errors.push((
                path.to_string(),
                format!("tenantwatch.chain: no rule named {name}"),
            )),
        };
        for g in &spec.given {
            role(g, Role::Given, true);
        }
        for t in &spec.then {
            role(t, Role::Then, false);
        }
        for t in &spec.seen {
            role(t, Role::Seen, false);
        }
        self.roles.entry(rule).or_default().push((c, Role::Given));
        self.claimed.insert(rule);
        self.chains.push((rule, spec.clone()));
    }

    /// True when rule `r`'s matches are a stage's, not findings of their own.
    pub fn claims(&self, r: usize) -> bool {
        self.claimed.contains(&r)
    }

    /// The rules whose records only tell stages where users act from, in index order.
    pub fn seen_rules(&self) -> impl Iterator<Item = u32> + '_ {
        let mut r: Vec<u32> = self
            .burst_seen
            .iter()
            .filter(|r| !self.roles.contains_key(*r))
            .filter_map(|&r| u32::try_from(r).ok())
            .collect();
        r.sort_unstable();
        r.into_iter()
    }

    /// The tenants (lower case) whose users' address histories the stages ask about: those of
    /// the mail-hiding bursts, of the findings of `new_address` rules, and of the findings of
    /// `attacker_address` rules from an address a high or critical finding of another rule
    /// already read came from (the addresses the intruder's single-record findings tell; an
    /// address told only by a chain or first-seen finding is judged on the histories read).
    pub fn asked_tenants(&self, store: &StageStore, findings: &[Finding]) -> HashSet<String> {
        let mut out: HashSet<String> = store
            .bursts
            .iter()
            .filter(|b| !self.bursts.is_empty() && !b.group.0.is_empty())
            .map(|b| b.group.0.clone())
            .collect();
        let told: HashSet<String> = findings
            .iter()
            .filter_map(|f| crate::raise::telling_address(f, &self.raises))
            .collect();
        let asks = |f: &Finding| match self.raises.get(&f.rule.id) {
            Some(spec) if spec.trigger == crate::raise::Trigger::AttackerAddress => {
                f.ip.as_deref()
                    .is_some_and(|ip| told.contains(&ip.trim().to_ascii_lowercase()))
            }
            Some(_) => true,
            None => false,
        };
        for f in findings.iter().filter(|f| asks(f)) {
            if let Some(t) = &f.tenant_id {
                out.insert(t.to_ascii_lowercase());
            }
        }
        out
    }

    /// True when a chain rule is configured (its observations read the application names and
    /// credential key ids of [`crate::appid::OBSERVED_PATHS`]).
    pub fn has_chains(&self) -> bool {
        !self.chains.is_empty()
    }

    /// True when no stage is configured.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty() && self.bursts.is_empty() && self.raises.is_empty()
    }

    /// What the stages keep of `ev`, which matched `rules` (`seen`: what this thread already
    /// sent of users at addresses).
    pub fn observe(
        &self,
        ev: &Event,
        rules: &[usize],
        (placeholder, seen): (&RuleRef, &mut crate::newaddr::SeenCache),
        out: &mut Vec<StageObs>,
    ) {
        if ev.kind == tw_event::LogKind::M365Defender {
            for c in 0..self.chains.len() {
                let o = crate::chain::observe(c, Role::Identity, ev, placeholder);
                if !o.keys.is_empty() {
                    out.push(StageObs::Chain(o));
                }
            }
        }
        if rules.iter().any(|r| self.burst_seen.contains(r))
            && let Some(s) = seen.observe(ev)
        {
            out.push(StageObs::Seen(s));
        }
        for &r in rules {
            if let Some(roles) = self.roles.get(&r) {
                for &(c, role) in roles {
                    out.push(StageObs::Chain(crate::chain::observe(
                        c,
                        role,
                        ev,
                        placeholder,
                    )));
                }
            }
            if self.bursts.iter().any(|(b, _)| *b == r)
                && let Some(o) = crate::burst::observe(r, ev, placeholder)
            {
                out.push(StageObs::Burst(o));
            }
        }
    }

    /// The stages' findings from what `store` kept (levels below `min` left out; `learning`,
    /// milliseconds, replacing the chains' own learning periods), added to `findings`; chain
    /// findings fold in the pack's single-record findings they hold.
    pub fn finish(
        &self,
        store: StageStore,
        findings: &mut Vec<Finding>,
        (min, learning): (Option<Level>, Option<i64>),
        rule_ref: &dyn Fn(usize) -> RuleRef,
    ) {
        if self.is_empty() {
            return;
        }
        let StageStore {
            chains,
            bursts,
            mut seen,
            pool,
            covered,
        } = store;
        drop(pool);
        let none = Coverage::new();
        let level_ok =
            |f: &Finding| min.is_none_or(|m| Level::parse(&f.rule.level).is_some_and(|l| l >= m));
        let mut made = Vec::new();
        for (c, (rule, spec)) in self.chains.iter().enumerate() {
            let spec = ChainSpec {
                learning_ms: learning.unwrap_or(spec.learning_ms),
                ..spec.clone()
            };
            let more = covered.get(&c).unwrap_or(&none);
            made.extend(crate::chain::evaluate(
                c,
                &spec,
                (&chains, more),
                &rule_ref(*rule),
            ));
        }
        crate::chain::fold_parts(findings, &made);
        for b in &bursts {
            seen.note_tenant(&b.group.0, b.time);
        }
        for (rule, spec) in &self.bursts {
            let spec = BurstSpec {
                learning_ms: learning.unwrap_or(spec.learning_ms),
                ..spec.clone()
            };
            made.extend(crate::burst::evaluate(
                *rule,
                &spec,
                (&bursts, &seen),
                &rule_ref(*rule),
            ));
        }
        findings.extend(made.into_iter().filter(|f| level_ok(f)));
        crate::raise::apply(findings, &self.raises, &seen, (min, learning));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tw_event::Provenance;

    use super::*;
    use crate::appid::KeyKind;

    fn then(line: u64, time: i64, app: Option<&str>) -> StageObs {
        let tenant = "a398ab4b-0050-4bb1-bf50-9b66f2a4b204".to_string();
        let keys = app
            .map(|a| vec![(tenant.clone(), KeyKind::AppId, a.to_string())])
            .unwrap_or_default();
        StageObs::Chain(ChainObs {
            chain: 0,
            role: Role::Then,
            time,
            tenant: Arc::new(tenant),
            keys: Arc::new(keys),
            ip: Some(Arc::new("40.251.228.237".into())),
            operation: Arc::new("MailItemsAccessed".into()),
            provenance: Provenance {
                file: Arc::from("ual/Audit_Search.csv"),
                record: line - 2,
                line,
            },
            finding: None,
            cross_tenant: false,
            key_ids: Arc::default(),
        })
    }

    #[test]
    fn kept_records_share_strings_and_keyless_ones_only_cover() {
        let app = "7f13d553-1aa3-423e-8ecd-ed4e97137de1";
        let mut store = StageStore::default();
        store.add(then(2, 1_000, Some(app)));
        store.add(then(3, 5_000, Some(app)));
        store.add(then(4, 9_000, None));
        assert_eq!(store.chains.len(), 2);
        let (a, b) = (&store.chains[0], &store.chains[1]);
        assert!(Arc::ptr_eq(&a.tenant, &b.tenant));
        assert!(Arc::ptr_eq(&a.keys, &b.keys));
        assert!(
            a.ip.as_ref()
                .zip(b.ip.as_ref())
                .is_some_and(|(x, y)| Arc::ptr_eq(x, y))
        );
        let cov = store.covered.get(&0).and_then(|c| c.get(&a.tenant));
        assert_eq!(cov, Some(&(9_000, 9_000)));
    }
}
