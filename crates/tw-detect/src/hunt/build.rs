//! Compiling a hunt: the rule set built from the rule texts, with what the runner needs besides
//! — the tenantwatch extension blocks (first-seen, new-behaviour, aggregate, chain and burst),
//! the field slots every rule and extension reads (resolved per format), the routes of rules to
//! log kinds, the correlation plan (which rules feed correlations and which fields their
//! observations keep), and the raw-record prefilter with its first-seen value checks.

use hashbrown::{HashMap, HashSet};

use serde_json::Value;
use tw_event::{LogKind, Origin};
use tw_sigma::{FieldRef, RuleSet};

use super::{HOME_TENANT_KEYS, Hunter, RuleSource, origin_of_path};
use crate::event::Resolver;
use crate::fieldmap::shipped_maps;
use crate::firstseen::{FirstSeenSpec, NewBehaviourSpec};
use crate::prefilter::{RawPrefilter, raw_literal};
use crate::route::kinds_for;

/// (path, id or title — or name, for correlations) of a rule document.
type DocKey = (String, String);

/// The first-seen and new-behaviour blocks of the rule texts, and the origin of each path.
#[derive(Default)]
struct Extensions {
    path_origin: HashMap<String, Origin>,
    first_seen: HashMap<DocKey, FirstSeenSpec>,
    new_behaviour: HashMap<DocKey, NewBehaviourSpec>,
    errors: Vec<(String, String)>,
}

impl Extensions {
    /// Adds every source to `b` and reads its extension blocks.
    fn read(sources: &[RuleSource], b: &mut tw_sigma::RuleSetBuilder) -> Extensions {
        let mut x = Extensions::default();
        for s in sources {
            b.add_yaml(&s.path, &s.text);
            x.path_origin.insert(s.path.clone(), s.origin);
            if !s.text.contains("first_seen") && !s.text.contains("new_behaviour") {
                continue;
            }
            let Ok(docs) = tw_sigma::yaml_to_json(&s.path, &s.text) else {
                continue;
            };
            for d in docs {
                x.read_doc(&s.path, &d);
            }
        }
        x
    }

    fn read_doc(&mut self, path: &str, d: &Value) {
        let key_of = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| d.get(*n))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if d.get("correlation").is_some() {
            let key = (path.to_string(), key_of(&["id", "name", "title"]));
            match crate::firstseen::new_behaviour_of(d) {
                Ok(Some(spec)) => {
                    self.new_behaviour.insert(key, spec);
                }
                Ok(None) => {}
                Err(e) => self.errors.push((path.to_string(), e)),
            }
            return;
        }
        match crate::firstseen::spec_of(d) {
            Ok(Some(spec)) => {
                self.first_seen
                    .insert((path.to_string(), key_of(&["id", "title"])), spec);
            }
            Ok(None) => {}
            Err(e) => self.errors.push((path.to_string(), e)),
        }
    }
}

/// Which rules feed correlations, which may lead a correlation finding, and the fields each
/// one's observations keep.
struct CorrelationPlan {
    correlated: HashSet<usize>,
    may_lead: HashSet<usize>,
    fields: HashMap<usize, Vec<FieldRef>>,
}

impl CorrelationPlan {
    fn of(set: &RuleSet, slots: &[FieldRef]) -> CorrelationPlan {
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
            all_names.extend(Self::names(c, &mut per_rule));
        }
        // Chained correlations read their sub-correlations' observations: keep every field then.
        let all = to_refs(slots, all_names);
        let fields = correlated
            .iter()
            .map(|i| {
                let fields = if chained {
                    all.clone()
                } else {
                    to_refs(slots, per_rule.get(i).cloned().unwrap_or_default())
                };
                (*i, fields)
            })
            .collect();
        CorrelationPlan {
            correlated,
            may_lead,
            fields,
        }
    }

    /// The field names correlation `c` reads (group-by, value field, aliased fields); each of its
    /// rules' own names go to `per_rule`.
    fn names(c: &tw_sigma::Correlation, per_rule: &mut HashMap<usize, Vec<String>>) -> Vec<String> {
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
        names
    }
}

/// Snapshot fields are looked up through the adapter: they get the slots the set uses.
fn to_refs(slots: &[FieldRef], mut names: Vec<String>) -> Vec<FieldRef> {
    names.sort();
    names.dedup();
    names.iter().map(|n| slot_of(slots, n)).collect()
}

fn slot_of(slots: &[FieldRef], name: &str) -> FieldRef {
    slots
        .iter()
        .find(|f| f.name() == name)
        .cloned()
        .unwrap_or_else(|| FieldRef::new(u32::MAX, name))
}

/// The field slots: the detections' fields, then those only correlations (group-by, alias and
/// value fields) and first-seen rules (entities and values) read, resolved like theirs. Also
/// the slots read late: fields only first-seen rules read (a partner's country or network) are
/// read from the whole record of each of their candidates, records are not parsed keeping them.
fn field_slots(
    set: &RuleSet,
    first_seen: &HashMap<DocKey, FirstSeenSpec>,
) -> (Vec<FieldRef>, Vec<usize>) {
    let mut fields: Vec<FieldRef> = set.fields().to_vec();
    let mut correlation_extra: Vec<String> = Vec::new();
    for c in set.correlations() {
        let r = c.rule();
        correlation_extra.extend(r.group_by.iter().cloned());
        correlation_extra.extend(r.aliases.values().flat_map(|a| a.values().cloned()));
        correlation_extra.extend(r.condition.field.iter().cloned());
    }
    let mut first_seen_extra: Vec<String> = Vec::new();
    for spec in first_seen.values() {
        first_seen_extra.extend(spec.entity.iter().cloned());
        first_seen_extra.push(spec.value.clone());
    }
    // Canonical `tw.*` fields are read by name, from no document path.
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
    (fields, late)
}

/// Per rule and per correlation: where its text came from.
fn origins(set: &RuleSet, path_origin: &HashMap<String, Origin>) -> (Vec<Origin>, Vec<Origin>) {
    let rules = set
        .rules()
        .iter()
        .map(|r| path_origin.get(r.path()).copied().unwrap_or(Origin::User))
        .collect();
    let correlations = set
        .correlations()
        .iter()
        .map(|c| {
            path_origin
                .get(c.rule().path.as_str())
                .copied()
                .unwrap_or_else(|| origin_of_path(&c.rule().path))
        })
        .collect();
    (rules, correlations)
}

/// Per correlation carrying `tenantwatch.new_behaviour`: its parameters.
fn new_behaviour(
    set: &RuleSet,
    specs: &HashMap<DocKey, NewBehaviourSpec>,
) -> HashMap<usize, NewBehaviourSpec> {
    set.correlations()
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let r = c.rule();
            let key =
                r.id.clone()
                    .or_else(|| r.name.clone())
                    .unwrap_or_else(|| r.title.clone());
            specs
                .get(&(r.path.clone(), key))
                .map(|spec| (i, spec.clone()))
        })
        .collect()
}

/// Per first-seen rule: the slots of its entity fields and of its value field.
type FirstSeenSlots = HashMap<usize, (Vec<FieldRef>, FieldRef)>;

/// First-seen rules by position: their specs and slots.
type FirstSeenRules = (HashMap<usize, FirstSeenSpec>, FirstSeenSlots);

fn first_seen_rules(
    set: &RuleSet,
    specs: &HashMap<DocKey, FirstSeenSpec>,
    slots: &[FieldRef],
) -> FirstSeenRules {
    let mut first_seen = HashMap::new();
    let mut first_seen_fields = HashMap::new();
    for (i, r) in set.rules().iter().enumerate() {
        let key = (
            r.path().to_string(),
            r.id().unwrap_or_else(|| r.title()).to_string(),
        );
        if let Some(spec) = specs.get(&key) {
            let entity: Vec<FieldRef> = spec.entity.iter().map(|n| slot_of(slots, n)).collect();
            first_seen_fields.insert(i, (entity, slot_of(slots, &spec.value)));
            first_seen.insert(i, spec.clone());
        }
    }
    (first_seen, first_seen_fields)
}

impl Hunter {
    /// Compiles `sources` (rejected rules are listed by [`Hunter::rule_set`]`.errors()`).
    pub fn new(
        sources: &[RuleSource],
        placeholders: std::collections::HashMap<String, Vec<String>>,
    ) -> Result<Hunter, String> {
        let mut b = RuleSet::builder();
        b.placeholders(placeholders);
        let ext = Extensions::read(sources, &mut b);
        let set = b.build();
        let mut extension_errors = ext.errors;
        let (aggregates, aggregate_errors) = crate::merge::aggregate_specs(sources);
        extension_errors.extend(aggregate_errors);
        let stages = crate::stages::Stages::new(&set, sources, &mut extension_errors);
        let maps = shipped_maps()?;
        let (fields, late) = field_slots(&set, &ext.first_seen);
        let mut resolver = Resolver::new(&fields, &maps);
        resolver.read_late(&late);
        let routes: Vec<Vec<LogKind>> = set
            .rules()
            .iter()
            .map(|r| kinds_for(r.logsource()))
            .collect();
        let (origins, correlation_origins) = origins(&set, &ext.path_origin);
        let plan = CorrelationPlan::of(&set, &fields);
        let (first_seen, first_seen_fields) = first_seen_rules(&set, &ext.first_seen, &fields);
        let own_tenant_later: Vec<bool> = (0..set.rules().len())
            .map(|i| first_seen.get(&i).is_some_and(|s| s.cross_tenant_actors))
            .collect();
        let prefilter = Prefilter {
            set: &set,
            resolver: &resolver,
            routes: &routes,
            first_seen: (&first_seen, &first_seen_fields),
            correlated: &plan.correlated,
            own_tenant_later: &own_tenant_later,
            seen: stages.seen_rules().collect(),
        }
        .build();
        let needs_evidence = set
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| r.standalone() && !first_seen.contains_key(&i) && !stages.claims(i))
            .collect();
        let mut projection = resolver.projection();
        projection.merge(tw_ingest::select::Projection::selection());
        crate::merge::IDENTITY_PATHS
            .iter()
            .for_each(|f| projection.add(f));
        if stages.has_chains() {
            crate::appid::OBSERVED_PATHS
                .iter()
                .for_each(|f| projection.add(f));
        }
        Ok(Hunter {
            needs_evidence,
            projection: std::sync::Arc::new(projection),
            prefilter,
            first_seen,
            own_tenant_later,
            new_behaviour: new_behaviour(&set, &ext.new_behaviour),
            first_seen_fields,
            extension_errors,
            aggregates,
            set,
            routes,
            origins,
            correlation_origins,
            resolver,
            maps,
            correlated: plan.correlated,
            may_lead: plan.may_lead,
            correlation_fields: plan.fields,
            stages,
        })
    }
}

/// What the raw-record prefilter is built from.
struct Prefilter<'a> {
    set: &'a RuleSet,
    resolver: &'a Resolver,
    routes: &'a [Vec<LogKind>],
    /// First-seen rules: their specs and (entity slots, value slot).
    first_seen: (&'a HashMap<usize, FirstSeenSpec>, &'a FirstSeenSlots),
    correlated: &'a HashSet<usize>,
    own_tenant_later: &'a [bool],
    /// Rules that only tell stages where users act from ([`crate::stages::Stages::seen_rules`]):
    /// their own-tenant records are read in the second look, for the tenants a stage asks about.
    seen: Vec<u32>,
}

impl Prefilter<'_> {
    fn build(self) -> RawPrefilter {
        let (resolver, routes) = (self.resolver, self.routes);
        let want_cross_users = self.first_seen.0.values().any(|s| s.cross_tenant_actors);
        let mut prefilter = RawPrefilter::new(
            self.set,
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
        prefilter.route(routes.to_vec());
        for (r, keys) in &self.required_values() {
            prefilter.require_value(*r, keys);
        }
        if want_cross_users {
            // A unified audit log record whose actor's tenant is the organisation's own names no
            // cross-tenant actor (its canonical home tenant is ActorContextId, its tenant
            // OrganizationId).
            prefilter.keep_unless_same(LogKind::Ual, "ActorContextId", "OrganizationId");
            // Only the kinds whose formats read a home tenant can name one.
            prefilter.keep_only_in(tw_ingest::normalize::kinds_with_home_tenant());
            prefilter.defer_same_tenant(
                (0..self.set.rules().len() as u32)
                    .filter(|&i| self.own_tenant_later[i as usize])
                    .chain(self.seen.iter().copied())
                    .collect(),
            );
        }
        prefilter
    }

    /// A first-seen rule drops a match whose entity or value is empty: where such a field is
    /// read from the record's keys, records holding no non-empty value there are no candidates
    /// (unless the rule feeds a correlation, whose observations need every match). Rules of
    /// cross-tenant actors are left as they are: their own-tenant records are set aside anyway,
    /// and the lookup would cost more on the others than it saves.
    fn required_values(&self) -> Vec<(usize, Vec<String>)> {
        let (specs, fields) = self.first_seen;
        let mut required: Vec<(usize, Vec<String>)> = Vec::new();
        for (&r, (entity, value)) in fields {
            let cross = specs.get(&r).is_some_and(|s| s.cross_tenant_actors);
            if self.correlated.contains(&r) || cross {
                continue;
            }
            for f in entity.iter().chain([value]) {
                if self.resolver.reads_canonical(f) {
                    continue;
                }
                let kinds: Option<&[LogKind]> = self.routes.get(r).map(Vec::as_slice);
                if let Some(keys) = self.resolver.key_names(f, kinds, &|k| raw_literal(k)) {
                    required.push((r, keys));
                }
            }
        }
        required.sort();
        required
    }
}
