//! The candidate index: for each rule, a set of literals one of which every matching event
//! must contain (equality literals per field in hash maps, substrings per field and for
//! keywords in Aho-Corasick automata). For an event, only rules with a hit (plus rules with
//! no usable literal) are evaluated. The index is conservative: it may let a rule through
//! that then fails, never drop a rule that would match.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::LiteralClause;
use crate::compile::{Hint, Predicate, Prog, Scratch, group_ranges};
use crate::event::{FieldRef, FieldValue, SigmaEvent, canonical_float};
use crate::value::Test;
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

/// Scoring for text prefilters, where a short literal (`success`, `false`) is found in most
/// records: longer shortest literal first (up to 16 bytes), then fewer alternatives.
fn score_by_length(needs: &[Need]) -> (usize, usize) {
    let shortest = needs
        .iter()
        .map(|n| match &n.hint {
            Hint::Eq(s) | Hint::Sub(s) => s.len().min(16),
        })
        .min()
        .unwrap_or(0);
    (16 - shortest, needs.len())
}

/// Decides whether a predicate's literal can be used, and how: the identity for the event index;
/// a stricter view for prefilters that look at something other than field values.
pub(crate) type HintFilter<'a> = &'a dyn Fn(&Predicate, &Hint) -> Option<Hint>;

fn identity(_: &Predicate, h: &Hint) -> Option<Hint> {
    Some(h.clone())
}

fn hint_len(h: &Hint) -> usize {
    match h {
        Hint::Eq(s) => s.len() + 8,
        Hint::Sub(s) => s.len(),
    }
}

fn pred_needs(p: &Predicate, filter: HintFilter<'_>) -> Option<Vec<Need>> {
    if p.neq || p.tests.is_empty() {
        return None;
    }
    let field_ids: Vec<Option<u32>> = if p.fields.is_empty() {
        vec![None]
    } else {
        p.fields.iter().map(|f| Some(f.slot() as u32)).collect()
    };
    let usable = |h: &Option<Hint>| -> Option<Hint> {
        let h = filter(p, h.as_ref()?)?;
        match &h {
            Hint::Sub(s) if s.is_empty() => None,
            _ => Some(h),
        }
    };
    let hints: Vec<Hint> = if p.all {
        // Every listed value must match: any one's tests give a necessary condition (the
        // group whose shortest literal is longest).
        group_ranges(&p.groups)
            .filter_map(|r| p.hints[r].iter().map(usable).collect::<Option<Vec<Hint>>>())
            .max_by_key(|hs| hs.iter().map(hint_len).min().unwrap_or(0))?
    } else {
        p.hints.iter().map(usable).collect::<Option<Vec<Hint>>>()?
    };
    let mut out = Vec::new();
    for f in &field_ids {
        for h in &hints {
            // Keyword searches are substring searches over string leaves.
            let hint = match (f, h) {
                (None, Hint::Eq(s)) => Hint::Sub(s.clone()),
                (_, h) => h.clone(),
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

fn needs(p: &Prog, preds: &[Predicate], filter: HintFilter<'_>) -> Option<Vec<Need>> {
    match p {
        Prog::Pred(i) => pred_needs(preds.get(*i as usize)?, filter),
        Prog::Not(_) => None,
        Prog::And(xs) => xs
            .iter()
            .filter_map(|x| needs(x, preds, filter))
            .min_by_key(|n| score(n)),
        Prog::Or(xs) | Prog::AtLeast(_, xs) => {
            if xs.is_empty() {
                return None;
            }
            let mut all = Vec::new();
            for x in xs {
                all.extend(needs(x, preds, filter)?);
            }
            Some(all)
        }
    }
}

/// Most clauses kept per rule by [`required_literals`].
const MAX_CLAUSES: usize = 6;

/// Necessary conditions of a program in conjunctive form: every event it matches satisfies each
/// clause (contains one of its literals). Empty when nothing is known.
/// The key literals of a field (one of which the text of any event holding a value of the field
/// contains), or `None`.
pub(crate) type FieldKeys<'a> = &'a dyn Fn(&FieldRef) -> Option<Vec<String>>;

/// A clause: literals, and whether they are key names (only in texts that spell keys out).
type Clause = (Vec<Need>, bool);

fn key_clause(pred: &Predicate, keys: FieldKeys<'_>) -> Option<Clause> {
    if pred.fields.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for f in &pred.fields {
        for k in keys(f)? {
            out.push(Need {
                field: None,
                hint: Hint::Sub(k),
            });
        }
    }
    (!out.is_empty()).then_some((out, true))
}

fn clauses(
    p: &Prog,
    preds: &[Predicate],
    filter: HintFilter<'_>,
    keys: FieldKeys<'_>,
) -> Vec<Clause> {
    let score = |c: &Clause| score_by_length(&c.0);
    match p {
        Prog::Pred(i) => {
            let Some(pred) = preds.get(*i as usize) else {
                return Vec::new();
            };
            let mut out: Vec<Clause> = Vec::new();
            if pred.all && !pred.neq {
                // `|all`: every listed value matches, each one's tests are a clause.
                let one = |r: std::ops::Range<usize>| -> Option<Predicate> {
                    let mut q = pred.clone();
                    q.all = false;
                    q.groups = pred.groups[r.clone()].to_vec();
                    q.hints = pred.hints[r.clone()].to_vec();
                    q.tests = pred.tests[r].to_vec();
                    Some(q)
                };
                out.extend(
                    group_ranges(&pred.groups)
                        .filter_map(one)
                        .filter_map(|q| pred_needs(&q, filter))
                        .map(|n| (n, false)),
                );
            } else {
                out.extend(pred_needs(pred, filter).map(|n| (n, false)));
            }
            // A predicate that only holds for a present field (every test but null and
            // `exists: false`) means the field's key is spelled out.
            let needs_presence = !pred.neq
                && !pred.tests.is_empty()
                && pred
                    .tests
                    .iter()
                    .all(|t| !matches!(t, Test::Null | Test::Exists(false)));
            if needs_presence && let Some(k) = key_clause(pred, keys) {
                out.push(k);
            }
            out
        }
        Prog::Not(_) => Vec::new(),
        Prog::And(xs) => {
            let mut all: Vec<Clause> = xs
                .iter()
                .flat_map(|x| clauses(x, preds, filter, keys))
                .collect();
            all.sort_by_key(score);
            all.dedup();
            // Keep a value clause among the best: key clauses do not hold for every text.
            if let Some(v) = all.iter().position(|c| !c.1)
                && v >= MAX_CLAUSES
            {
                all.swap(MAX_CLAUSES - 1, v);
            }
            all.truncate(MAX_CLAUSES);
            all
        }
        Prog::Or(xs) | Prog::AtLeast(_, xs) => {
            if xs.is_empty() {
                return Vec::new();
            }
            // The union of one clause of each branch: of value clauses only, which hold in any
            // text; and of the best clauses, key clauses included, which hold where keys are
            // spelled out.
            let mut values: Option<Vec<Need>> = Some(Vec::new());
            let mut best: Option<Vec<Need>> = Some(Vec::new());
            let mut best_has_keys = false;
            for x in xs {
                let cs = clauses(x, preds, filter, keys);
                match (
                    &mut values,
                    cs.iter().filter(|c| !c.1).min_by_key(|c| score(c)),
                ) {
                    (Some(v), Some(c)) => v.extend(c.0.iter().cloned()),
                    _ => values = None,
                }
                match (&mut best, cs.iter().min_by_key(|c| score(c))) {
                    (Some(v), Some(c)) => {
                        v.extend(c.0.iter().cloned());
                        best_has_keys |= c.1;
                    }
                    _ => best = None,
                }
            }
            let mut out = Vec::new();
            if let Some(v) = values {
                out.push((v, false));
            }
            if let Some(b) = best
                && best_has_keys
            {
                out.push((b, true));
            }
            out
        }
    }
}

/// Most key/value pairs kept per rule by [`required_literals`].
const MAX_PAIRS: usize = 4;

/// A key/value condition: key names, and values (lowercase text, exact) one of which the key's
/// value equals (exact) or contains.
type PairCond = (Vec<String>, Vec<(String, bool)>);

/// Key/value conditions of a program: for each, a key named one of the keys has a value equal
/// to or holding one of the values (the values of a field predicate beside the field's keys).
fn pairs(
    p: &Prog,
    preds: &[Predicate],
    keys: FieldKeys<'_>,
    field_ok: &dyn Fn(&FieldRef) -> bool,
) -> Vec<PairCond> {
    match p {
        Prog::Pred(i) => {
            let Some(pred) = preds.get(*i as usize) else {
                return Vec::new();
            };
            if pred.fields.is_empty()
                || pred.neq
                || pred.tests.is_empty()
                || !pred.fields.iter().all(field_ok)
            {
                return Vec::new();
            }
            let Some((k, _)) = key_clause(pred, keys) else {
                return Vec::new();
            };
            let key_names: Vec<String> = k
                .into_iter()
                .map(|n| match n.hint {
                    Hint::Eq(s) | Hint::Sub(s) => s,
                })
                .collect();
            let value = |h: &Option<Hint>| match h {
                Some(Hint::Eq(t)) => Some((t.clone(), true)),
                Some(Hint::Sub(t)) => Some((t.clone(), false)),
                None => None,
            };
            if pred.all {
                group_ranges(&pred.groups)
                    .filter_map(|r| pred.hints[r].iter().map(value).collect::<Option<Vec<_>>>())
                    .map(|vs| (key_names.clone(), vs))
                    .collect()
            } else {
                match pred.hints.iter().map(value).collect::<Option<Vec<_>>>() {
                    Some(vs) => vec![(key_names, vs)],
                    None => Vec::new(),
                }
            }
        }
        Prog::And(xs) => {
            let mut all: Vec<PairCond> = xs
                .iter()
                .flat_map(|x| pairs(x, preds, keys, field_ok))
                .collect();
            all.sort();
            all.dedup();
            all.truncate(MAX_PAIRS);
            all
        }
        Prog::Not(_) | Prog::Or(_) | Prog::AtLeast(..) => Vec::new(),
    }
}

/// For each program: necessary literal clauses (lowercase), as admitted by `filter`: every event
/// it matches contains, for each clause, one of the clause's literals. Empty when nothing is
/// known.
pub(crate) fn required_literals(
    progs: &[&Prog],
    preds: &[Predicate],
    filter: HintFilter<'_>,
    field_keys: &dyn Fn(usize, &FieldRef) -> Option<Vec<String>>,
    field_ok: &dyn Fn(&FieldRef) -> bool,
) -> Vec<Vec<LiteralClause>> {
    progs
        .iter()
        .enumerate()
        .map(|(r, p)| {
            let keys = |f: &FieldRef| field_keys(r, f);
            let keys: FieldKeys<'_> = &keys;
            let mut out: Vec<LiteralClause> = clauses(p, preds, filter, keys)
                .into_iter()
                .map(|(c, key)| {
                    let mut lits: Vec<String> = c
                        .into_iter()
                        .map(|n| match n.hint {
                            Hint::Eq(s) | Hint::Sub(s) => s,
                        })
                        .collect();
                    lits.sort();
                    lits.dedup();
                    LiteralClause {
                        literals: lits,
                        keys: key,
                        pair_keys: Vec::new(),
                        exact: Vec::new(),
                    }
                })
                .filter(|c| !c.literals.is_empty())
                .collect();
            for (mut k, mut v) in pairs(p, preds, keys, field_ok) {
                k.sort();
                k.dedup();
                v.sort();
                v.dedup();
                if !k.is_empty() && !v.is_empty() {
                    out.push(LiteralClause {
                        exact: v.iter().map(|x| x.1).collect(),
                        literals: v.into_iter().map(|x| x.0).collect(),
                        keys: true,
                        pair_keys: k,
                    });
                }
            }
            out.sort();
            out.dedup();
            out
        })
        .collect()
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

/// Longest substring the candidate index searches for: a longer one is searched by its first
/// this many bytes (a text holding the substring holds its start; the rule itself then checks the
/// whole value). The automaton has one state per pattern byte: a rule value of a megabyte must
/// not make building it take minutes.
pub const MAX_INDEX_SUBSTRING: usize = 128;

/// The first [`MAX_INDEX_SUBSTRING`] bytes of `s` (at most), cut at a character boundary.
pub(crate) fn index_prefix(s: &str) -> &str {
    let mut end = s.len().min(MAX_INDEX_SUBSTRING);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn build_ac(subs: &HashMap<String, Vec<u32>>) -> Option<(AhoCorasick, Vec<Vec<u32>>)> {
    if subs.is_empty() {
        return None;
    }
    let mut cut: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for (p, rules) in subs {
        cut.entry(index_prefix(p)).or_default().extend(rules);
    }
    for rules in cut.values_mut() {
        rules.sort_unstable();
        rules.dedup();
    }
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(cut.keys().map(|p| p.as_bytes()))
        .ok()?;
    Some((ac, cut.into_values().collect()))
}

impl Index {
    pub fn build(progs: &[Prog], preds: &[Predicate], fields: &[FieldRef]) -> Index {
        let mut always = Vec::new();
        let mut eq: HashMap<u32, HashMap<String, Vec<u32>>> = HashMap::new();
        let mut sub: HashMap<Option<u32>, HashMap<String, Vec<u32>>> = HashMap::new();
        let mut kw_fallback = Vec::new();
        for (r, p) in progs.iter().enumerate() {
            let r = r as u32;
            let Some(ns) = needs(p, preds, &identity) else {
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

#[cfg(test)]
mod bound_tests {
    use super::*;

    #[test]
    fn index_substrings_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_INDEX_SUBSTRING);
        let cut = index_prefix(&long);
        assert!(cut.len() <= MAX_INDEX_SUBSTRING && cut.len() >= MAX_INDEX_SUBSTRING - 1);
        assert!(long.starts_with(cut));
        assert_eq!(index_prefix("short"), "short");
        let mut subs = HashMap::new();
        subs.insert("a".repeat(40_000), vec![1]);
        subs.insert("a".repeat(30_000), vec![0, 1]);
        let (ac, rules) = build_ac(&subs).expect("automaton");
        assert_eq!(ac.patterns_len(), 1);
        assert_eq!(rules, vec![vec![0, 1]]);
    }
}
