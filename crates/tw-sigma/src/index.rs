//! The candidate index: for each rule, a set of literals one of which every matching event
//! must contain (equality literals per field in hash maps, substrings per field and for
//! keywords in Aho-Corasick automata). For an event, only rules with a hit (plus rules with
//! no usable literal) are evaluated. The index is conservative: it may let a rule through
//! that then fails, never drop a rule that would match.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::compile::{Hint, Predicate, Prog, Scratch};
use crate::event::{FieldRef, FieldValue, SigmaEvent, canonical_float};
use crate::value::lower;

/// Where a needed literal must be found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Need {
    /// Field slot, or `None` for any string leaf (keywords).
    field: Option<u32>,
    hint: Hint,
}

fn score(needs: &[Need]) -> (usize, usize) {
    let shortest = needs
        .iter()
        .map(|n| match &n.hint {
            Hint::Eq(s) => s.len() + 8,
            Hint::Sub(s) => s.len(),
        })
        .min()
        .unwrap_or(0);
    // Fewer alternatives first; then prefer longer literals.
    (needs.len(), usize::MAX - shortest)
}

fn pred_needs(p: &Predicate) -> Option<Vec<Need>> {
    if p.neq || p.tests.is_empty() {
        return None;
    }
    let field_ids: Vec<Option<u32>> = if p.fields.is_empty() {
        vec![None]
    } else {
        p.fields.iter().map(|f| Some(f.slot() as u32)).collect()
    };
    let useful = |h: &Option<Hint>| match h {
        Some(Hint::Sub(s)) => !s.is_empty(),
        Some(Hint::Eq(_)) => true,
        None => false,
    };
    let hints: Vec<&Hint> = if p.all {
        // Every test must hold: any single one is a necessary condition.
        let best = p
            .hints
            .iter()
            .filter(|h| useful(h))
            .filter_map(|h| h.as_ref())
            .max_by_key(|h| match h {
                Hint::Eq(s) => s.len() + 8,
                Hint::Sub(s) => s.len(),
            })?;
        vec![best]
    } else {
        if !p.hints.iter().all(useful) {
            return None;
        }
        p.hints.iter().filter_map(|h| h.as_ref()).collect()
    };
    let mut out = Vec::new();
    for f in &field_ids {
        for h in &hints {
            // Keyword searches are substring searches over string leaves.
            let hint = match (f, h) {
                (None, Hint::Eq(s)) => Hint::Sub(s.clone()),
                (_, h) => (*h).clone(),
            };
            if matches!(&hint, Hint::Sub(s) if s.is_empty()) {
                return None;
            }
            out.push(Need { field: *f, hint });
        }
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out.dedup();
    Some(out)
}

fn needs(p: &Prog, preds: &[Predicate]) -> Option<Vec<Need>> {
    match p {
        Prog::Pred(i) => pred_needs(preds.get(*i as usize)?),
        Prog::Not(_) => None,
        Prog::And(xs) => xs
            .iter()
            .filter_map(|x| needs(x, preds))
            .min_by_key(|n| score(n)),
        Prog::Or(xs) | Prog::AtLeast(_, xs) => {
            if xs.is_empty() {
                return None;
            }
            let mut all = Vec::new();
            for x in xs {
                all.extend(needs(x, preds)?);
            }
            Some(all)
        }
    }
}

#[derive(Debug)]
struct FieldIndex {
    field: FieldRef,
    eq: HashMap<String, Vec<u32>>,
    ac: Option<AhoCorasick>,
    ac_rules: Vec<Vec<u32>>,
}

/// The candidate index of a rule set.
#[derive(Debug, Default)]
pub(crate) struct Index {
    always: Vec<u32>,
    fields: Vec<FieldIndex>,
    keywords: Option<(AhoCorasick, Vec<Vec<u32>>)>,
}

fn build_ac(subs: &HashMap<String, Vec<u32>>) -> Option<(AhoCorasick, Vec<Vec<u32>>)> {
    if subs.is_empty() {
        return None;
    }
    let mut pats: Vec<(&String, &Vec<u32>)> = subs.iter().collect();
    pats.sort();
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(pats.iter().map(|(p, _)| p.as_bytes()))
        .ok()?;
    Some((ac, pats.into_iter().map(|(_, r)| r.clone()).collect()))
}

impl Index {
    pub fn build(progs: &[Prog], preds: &[Predicate], fields: &[FieldRef]) -> Index {
        let mut always = Vec::new();
        let mut eq: HashMap<u32, HashMap<String, Vec<u32>>> = HashMap::new();
        let mut sub: HashMap<Option<u32>, HashMap<String, Vec<u32>>> = HashMap::new();
        let mut kw_fallback = Vec::new();
        for (r, p) in progs.iter().enumerate() {
            let r = r as u32;
            let Some(ns) = needs(p, preds) else {
                always.push(r);
                continue;
            };
            let mut ok = true;
            for n in &ns {
                match (&n.field, &n.hint) {
                    (Some(f), Hint::Eq(s)) => eq
                        .entry(*f)
                        .or_default()
                        .entry(s.clone())
                        .or_default()
                        .push(r),
                    (f, Hint::Sub(s)) => sub
                        .entry(*f)
                        .or_default()
                        .entry(s.clone())
                        .or_default()
                        .push(r),
                    (None, Hint::Eq(_)) => ok = false,
                }
            }
            if !ok {
                kw_fallback.push(r);
            }
        }
        always.extend(kw_fallback);
        always.sort_unstable();
        always.dedup();
        let mut slots: Vec<u32> = eq
            .keys()
            .copied()
            .chain(sub.keys().filter_map(|k| *k))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        let mut out_fields = Vec::new();
        for s in slots {
            let Some(field) = fields.get(s as usize).cloned() else {
                continue;
            };
            let (ac, ac_rules) = match sub.get(&Some(s)).and_then(build_ac) {
                Some((a, r)) => (Some(a), r),
                None => (None, Vec::new()),
            };
            out_fields.push(FieldIndex {
                field,
                eq: eq.remove(&s).unwrap_or_default(),
                ac,
                ac_rules,
            });
        }
        let keywords = sub.get(&None).and_then(build_ac);
        Index {
            always,
            fields: out_fields,
            keywords,
        }
    }

    /// Fills `s.cands` with the candidate rules of `ev` (sorted, deduplicated).
    pub fn candidates(&self, ev: &dyn SigmaEvent, s: &mut Scratch) {
        let epoch = s.epoch;
        let mark = |r: u32, s: &mut Scratch| {
            let i = r as usize;
            if s.cand_stamp[i] != epoch {
                s.cand_stamp[i] = epoch;
                s.cands.push(r);
            }
        };
        for &r in &self.always {
            mark(r, s);
        }
        for fi in &self.fields {
            ev.visit_field(&fi.field, &mut |v| {
                let owned;
                let text: &str = match v {
                    FieldValue::Str(t) => t,
                    _ => match v.to_text() {
                        Some(t) => {
                            owned = t;
                            &owned
                        }
                        None => return false,
                    },
                };
                let l = lower(text);
                if let Some(rs) = fi.eq.get(l.as_ref()) {
                    rs.iter().for_each(|&r| mark(r, s));
                }
                if let Some(n) = v.as_f64() {
                    let c = canonical_float(n);
                    if c != l.as_ref()
                        && let Some(rs) = fi.eq.get(&c)
                    {
                        rs.iter().for_each(|&r| mark(r, s));
                    }
                }
                if let Some(ac) = &fi.ac {
                    for m in ac.find_overlapping_iter(l.as_bytes()) {
                        if let Some(rs) = fi.ac_rules.get(m.pattern().as_usize()) {
                            rs.iter().for_each(|&r| mark(r, s));
                        }
                    }
                }
                false
            });
        }
        if let Some((ac, rules)) = &self.keywords {
            ev.visit_strings(&mut |text| {
                let l = lower(text);
                for m in ac.find_overlapping_iter(l.as_bytes()) {
                    if let Some(rs) = rules.get(m.pattern().as_usize()) {
                        rs.iter().for_each(|&r| mark(r, s));
                    }
                }
                false
            });
        }
        s.cands.sort_unstable();
    }

    /// Number of rules evaluated for every event.
    pub fn always_count(&self) -> usize {
        self.always.len()
    }
}
