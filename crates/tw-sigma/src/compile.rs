//! Compilation of parsed rules into programs: predicates (one per detection item, shared
//! across rules when identical), a boolean tree over predicate ids per rule, and the
//! evaluation of that tree with per-event memoisation of predicate results.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

use crate::condition::Cond;
use crate::event::{FieldRef, FieldValue, SigmaEvent, canonical_float, parse_number};
use crate::modifier::{Modifier, Piece, SStr, expand_placeholders, parse_sigma_string, transform};
use crate::rule::{DetectionItem, RawValue, SigmaRule};
use crate::value::{CmpOp, IpNet, ReFlags, StrMatch, StrMode, StrPattern, Test, TimePart};

/// Regex compile limits (hostile patterns are rejected, matching is linear time).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_NEST_LIMIT: u32 = 64;

/// A literal that every match of a test must contain (used by the candidate index).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Hint {
    /// The lowercased value equals this.
    Eq(String),
    /// The lowercased value contains this.
    Sub(String),
}

/// One compiled detection item.
#[derive(Debug, Clone)]
pub(crate) struct Predicate {
    /// Fields checked (OR); empty for keywords.
    pub fields: Vec<FieldRef>,
    pub tests: Vec<Test>,
    /// Index hints, parallel to `tests`.
    pub hints: Vec<Option<Hint>>,
    /// Per test, the index of the listed value it came from (parallel to `tests`, ascending):
    /// one listed value may give several tests (`windash`, `base64offset`, `expand`).
    pub groups: Vec<u32>,
    /// `|all`: every listed value must match (through any of its tests).
    pub all: bool,
    pub neq: bool,
}

/// The boolean program of a rule.
#[derive(Debug, Clone)]
pub(crate) enum Prog {
    Pred(u32),
    Not(Box<Prog>),
    And(Vec<Prog>),
    Or(Vec<Prog>),
    AtLeast(usize, Vec<Prog>),
}

/// Label used for keyword evidence.
pub const KEYWORD_FIELD: &str = "(keywords)";

impl Predicate {
    pub fn eval(&self, ev: &dyn SigmaEvent) -> bool {
        self.capture(ev, false).is_some()
    }

    /// Evaluates; when `want` is set, returns the field and value that matched.
    pub fn capture(&self, ev: &dyn SigmaEvent, want: bool) -> Option<(String, String)> {
        let empty = || Some((String::new(), String::new()));
        if self.fields.is_empty() {
            let kw_test = |t: &Test| {
                let mut hit: Option<String> = None;
                ev.visit_strings(&mut |s| {
                    let ok = t.matches_value(FieldValue::Str(s), ev);
                    if ok && want {
                        hit = Some(s.to_string());
                    } else if ok {
                        hit = Some(String::new());
                    }
                    ok
                });
                hit
            };
            if self.all {
                let mut last = None;
                for g in self.value_groups() {
                    last = Some(g.iter().find_map(kw_test)?);
                }
                return last.map(|v| (KEYWORD_FIELD.to_string(), v));
            }
            let mut hit = None;
            ev.visit_strings(&mut |s| {
                let ok = self
                    .tests
                    .iter()
                    .any(|t| t.matches_value(FieldValue::Str(s), ev));
                if ok {
                    hit = Some(if want { s.to_string() } else { String::new() });
                }
                ok
            });
            return hit.map(|v| (KEYWORD_FIELD.to_string(), v));
        }
        for f in &self.fields {
            if let Some(v) = self.capture_field(f, ev, want) {
                return if want {
                    Some((f.name().to_string(), v))
                } else {
                    empty()
                };
            }
        }
        None
    }

    fn any_value(
        &self,
        f: &FieldRef,
        tests: &[Test],
        ev: &dyn SigmaEvent,
        want: bool,
    ) -> (bool, Option<String>) {
        let mut hit = None;
        let found = ev.visit_field(f, &mut |v| {
            let ok = tests.iter().any(|t| t.matches_value(v, ev));
            if ok {
                hit = Some(if want {
                    Test::evidence(v)
                } else {
                    String::new()
                });
            }
            ok
        });
        if hit.is_none() {
            for t in tests {
                let ok = match t {
                    Test::Null => !found,
                    Test::Exists(b) => found == *b,
                    _ => false,
                };
                if ok {
                    hit = Some(if found { "null" } else { "(missing)" }.to_string());
                    break;
                }
            }
        }
        (found, hit)
    }

    fn capture_field(&self, f: &FieldRef, ev: &dyn SigmaEvent, want: bool) -> Option<String> {
        if self.neq {
            let (found, hit) = self.any_value(f, &self.tests, ev, false);
            if !found || hit.is_some() {
                return None;
            }
            if !want {
                return Some(String::new());
            }
            let mut first = None;
            ev.visit_field(f, &mut |v| {
                first = Some(Test::evidence(v));
                true
            });
            return first;
        }
        if self.all {
            let mut last = None;
            for g in self.value_groups() {
                last = Some(self.any_value(f, g, ev, want).1?);
            }
            return last;
        }
        self.any_value(f, &self.tests, ev, want).1
    }

    /// The tests of each listed value, in order (with `all`, each such group must match).
    pub(crate) fn value_groups(&self) -> impl Iterator<Item = &[Test]> {
        group_ranges(&self.groups).map(|r| &self.tests[r])
    }
}

/// The ranges of equal consecutive group numbers.
pub(crate) fn group_ranges(groups: &[u32]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let first = groups.get(start)?;
        let len = groups[start..].iter().take_while(|g| *g == first).count();
        let r = start..start + len;
        start += len;
        Some(r)
    })
}

/// Per-event scratch space: memoised predicate results and candidate marks.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    pub(crate) epoch: u32,
    pub(crate) pred_stamp: Vec<u32>,
    pub(crate) pred_val: Vec<bool>,
    pub(crate) cand_stamp: Vec<u32>,
    pub(crate) cands: Vec<u32>,
}

impl Scratch {
    /// Creates empty scratch space (it grows to the rule set on first use).
    pub fn new() -> Self {
        Scratch::default()
    }

    pub(crate) fn reset(&mut self, n_preds: usize, n_rules: usize) {
        if self.pred_stamp.len() < n_preds {
            self.pred_stamp.resize(n_preds, 0);
            self.pred_val.resize(n_preds, false);
        }
        if self.cand_stamp.len() < n_rules {
            self.cand_stamp.resize(n_rules, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.pred_stamp.iter_mut().for_each(|s| *s = 0);
            self.cand_stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        self.cands.clear();
    }
}

pub(crate) fn eval_prog(
    p: &Prog,
    preds: &[Predicate],
    ev: &dyn SigmaEvent,
    s: &mut Scratch,
) -> bool {
    match p {
        Prog::Pred(i) => {
            let i = *i as usize;
            if s.pred_stamp[i] == s.epoch {
                return s.pred_val[i];
            }
            let v = preds[i].eval(ev);
            s.pred_stamp[i] = s.epoch;
            s.pred_val[i] = v;
            v
        }
        Prog::Not(x) => !eval_prog(x, preds, ev, s),
        Prog::And(xs) => xs.iter().all(|x| eval_prog(x, preds, ev, s)),
        Prog::Or(xs) => xs.iter().any(|x| eval_prog(x, preds, ev, s)),
        Prog::AtLeast(n, xs) => {
            let mut c = 0;
            for x in xs {
                if eval_prog(x, preds, ev, s) {
                    c += 1;
                    if c >= *n {
                        return true;
                    }
                }
            }
            false
        }
    }
}

/// Collects evidence from the predicates that made a matching program true.
pub(crate) fn collect_evidence(
    p: &Prog,
    preds: &[Predicate],
    ev: &dyn SigmaEvent,
    s: &mut Scratch,
    out: &mut Vec<(String, String)>,
) {
    match p {
        Prog::Pred(i) => {
            if let Some(kv) = preds[*i as usize].capture(ev, true)
                && !out.contains(&kv)
            {
                out.push(kv);
            }
        }
        Prog::Not(_) => {}
        Prog::And(xs) | Prog::Or(xs) | Prog::AtLeast(_, xs) => {
            for x in xs {
                if eval_prog(x, preds, ev, s) {
                    collect_evidence(x, preds, ev, s, out);
                }
            }
        }
    }
}

/// Shared compilation state of a rule set.
#[derive(Default)]
pub(crate) struct Compiler {
    pub preds: Vec<Predicate>,
    pub pred_keys: HashMap<String, u32>,
    pub fields: Vec<FieldRef>,
    pub field_ids: HashMap<String, u32>,
    pub vars: HashMap<String, Vec<String>>,
}

fn regex_build(pat: &str, i: bool, m: bool, s: bool) -> Result<Regex, String> {
    RegexBuilder::new(pat)
        .case_insensitive(i)
        .multi_line(m)
        .dot_matches_new_line(s)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT * 4)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| {
            let msg = e.to_string();
            let kind = if msg.contains("look-around") {
                "look-around is not supported (the regex engine is linear-time)"
            } else if msg.contains("backreference") {
                "backreferences are not supported (the regex engine is linear-time)"
            } else if msg.contains("size limit") {
                "regular expression too large"
            } else {
                "invalid regular expression"
            };
            let first = msg.lines().last().unwrap_or("").trim().to_string();
            format!("{kind}: {pat:?} ({first})")
        })
}

fn lit_text(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| {
        "value is not valid text after encoding (chain utf16 modifiers with base64 or base64offset)"
            .to_string()
    })
}

/// Builds a string pattern and its index hint from a parsed Sigma string.
pub(crate) fn build_pattern(v: &SStr, cased: bool) -> Result<(StrPattern, Option<Hint>), String> {
    let mut parts: Vec<Piece> = Vec::with_capacity(v.len());
    for p in v {
        parts.push(match p {
            Piece::Lit(b) => {
                let t = lit_text(b)?;
                Piece::Lit(if cased { t } else { t.to_lowercase() }.into_bytes())
            }
            Piece::Class(cs) if !cased => {
                let mut l: Vec<char> = cs.iter().flat_map(|c| c.to_lowercase()).collect();
                l.dedup();
                Piece::Class(l)
            }
            other => other.clone(),
        });
    }
    let text = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    let boxed = |b: &Vec<u8>| text(b).into_boxed_str();
    let (m, hint) = match parts.as_slice() {
        [] => (StrMatch::Exact("".into()), Some(Hint::Eq(String::new()))),
        [Piece::Lit(a)] => (StrMatch::Exact(boxed(a)), Some(Hint::Eq(text(a)))),
        [Piece::Star] => (StrMatch::Any, None),
        [Piece::Lit(a), Piece::Star] => (StrMatch::Prefix(boxed(a)), Some(Hint::Sub(text(a)))),
        [Piece::Star, Piece::Lit(a)] => (StrMatch::Suffix(boxed(a)), Some(Hint::Sub(text(a)))),
        [Piece::Star, Piece::Lit(a), Piece::Star] => {
            (StrMatch::Contains(boxed(a)), Some(Hint::Sub(text(a))))
        }
        _ => {
            let mut re = String::from("(?s)^");
            let mut longest = String::new();
            for p in &parts {
                match p {
                    Piece::Lit(b) => {
                        let t = text(b);
                        re.push_str(&regex::escape(&t));
                        if t.len() > longest.len() {
                            longest = t;
                        }
                    }
                    Piece::Star => re.push_str(".*"),
                    Piece::One => re.push('.'),
                    Piece::Class(cs) => {
                        re.push('[');
                        for c in cs {
                            re.push_str(&regex::escape(&c.to_string()));
                        }
                        re.push(']');
                    }
                }
            }
            re.push('$');
            let hint = if longest.is_empty() {
                None
            } else {
                Some(Hint::Sub(longest))
            };
            (StrMatch::Glob(regex_build(&re, false, false, true)?), hint)
        }
    };
    // A case-sensitive non-ASCII needle cannot be indexed on lowercased text soundly.
    let hint = match hint {
        Some(Hint::Eq(h) | Hint::Sub(h)) if cased && !h.is_ascii() => None,
        Some(Hint::Eq(h)) if cased => Some(Hint::Eq(h.to_ascii_lowercase())),
        Some(Hint::Sub(h)) if cased => Some(Hint::Sub(h.to_ascii_lowercase())),
        h => h,
    };
    Ok((StrPattern { m, cased }, hint))
}

/// What a detection item's modifiers make of its values.
struct ItemKind {
    mods: Vec<Modifier>,
    keyword: bool,
    cmp: Option<CmpOp>,
    time: Option<TimePart>,
}

impl ItemKind {
    fn of(item: &DetectionItem) -> Result<Self, String> {
        let mods = &item.modifiers;
        let cmp = mods.iter().find_map(|m| match m {
            Modifier::Lt => Some(CmpOp::Lt),
            Modifier::Lte => Some(CmpOp::Lte),
            Modifier::Gt => Some(CmpOp::Gt),
            Modifier::Gte => Some(CmpOp::Gte),
            _ => None,
        });
        let time = mods.iter().find_map(|m| match m {
            Modifier::Minute => Some(TimePart::Minute),
            Modifier::Hour => Some(TimePart::Hour),
            Modifier::Day => Some(TimePart::Day),
            Modifier::Week => Some(TimePart::Week),
            Modifier::Month => Some(TimePart::Month),
            Modifier::Year => Some(TimePart::Year),
            _ => None,
        });
        let k = ItemKind {
            mods: mods.clone(),
            keyword: item.field.is_none(),
            cmp,
            time,
        };
        let non_string = [
            Modifier::Exists,
            Modifier::FieldRef,
            Modifier::Cidr,
            Modifier::Neq,
        ];
        if k.keyword && (cmp.is_some() || time.is_some() || non_string.iter().any(|m| k.has(*m))) {
            return Err("keyword searches only accept string modifiers".into());
        }
        Ok(k)
    }

    fn has(&self, m: Modifier) -> bool {
        self.mods.contains(&m)
    }

    /// A field value without string, network or field-reference modifiers: booleans and
    /// numbers keep their type.
    fn plain(&self) -> bool {
        let string_mods = self.mods.iter().any(|m| {
            matches!(
                m,
                Modifier::Contains
                    | Modifier::StartsWith
                    | Modifier::EndsWith
                    | Modifier::Windash
                    | Modifier::Base64
                    | Modifier::Base64Offset
                    | Modifier::Utf16
                    | Modifier::Utf16Le
                    | Modifier::Utf16Be
                    | Modifier::Re
                    | Modifier::Cased
                    | Modifier::Expand
            )
        });
        !self.keyword && !string_mods && !self.has(Modifier::Cidr) && !self.has(Modifier::FieldRef)
    }
}

fn raw_text(v: &RawValue) -> Option<String> {
    match v {
        RawValue::Null => None,
        RawValue::Bool(b) => Some(b.to_string()),
        RawValue::Int(_, t) | RawValue::Float(_, t) => Some(t.clone()),
        RawValue::Str(s) => Some(s.clone()),
    }
}

fn raw_number(v: &RawValue) -> Option<f64> {
    match v {
        RawValue::Int(i, _) => Some(*i as f64),
        RawValue::Float(f, _) => Some(*f),
        RawValue::Str(s) => parse_number(s),
        _ => None,
    }
}

impl Compiler {
    pub fn field(&mut self, name: &str) -> FieldRef {
        if let Some(&id) = self.field_ids.get(name) {
            return self.fields[id as usize].clone();
        }
        let id = self.fields.len() as u32;
        let f = FieldRef::new(id, name);
        self.fields.push(f.clone());
        self.field_ids.insert(name.to_string(), id);
        f
    }

    /// Compiles one detection item into tests, each with its index hint and the index of the
    /// listed value it came from.
    fn item_tests(
        &mut self,
        item: &DetectionItem,
    ) -> Result<Vec<(Test, Option<Hint>, u32)>, String> {
        let k = ItemKind::of(item)?;
        let mut out = Vec::new();
        for (i, raw) in item.values.iter().enumerate() {
            let group = u32::try_from(i).map_err(|_| "too many values")?;
            for (t, h) in self.value_tests(item, &k, raw)? {
                out.push((t, h, group));
            }
            if out.len() > 100_000 {
                return Err("detection item expands to too many values".into());
            }
        }
        Ok(out)
    }

    /// The tests of one listed value (several when modifiers expand it).
    fn value_tests(
        &mut self,
        item: &DetectionItem,
        k: &ItemKind,
        raw: &RawValue,
    ) -> Result<Vec<(Test, Option<Hint>)>, String> {
        if k.has(Modifier::Exists) {
            return match raw {
                RawValue::Bool(b) => Ok(vec![(Test::Exists(*b), None)]),
                RawValue::Str(s)
                    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
                {
                    Ok(vec![(Test::Exists(s.eq_ignore_ascii_case("true")), None)])
                }
                _ => Err("'exists' takes true or false".into()),
            };
        }
        if matches!(raw, RawValue::Null) {
            if k.keyword {
                return Err("null is not a valid keyword".into());
            }
            return Ok(vec![(Test::Null, None)]);
        }
        if let Some(part) = k.time {
            let n = raw_number(raw).ok_or("time modifiers take a number")?;
            return Ok(vec![(
                Test::Time(part, k.cmp.unwrap_or(CmpOp::Eq), n),
                None,
            )]);
        }
        if let Some(op) = k.cmp {
            let n = raw_number(raw).ok_or("comparison modifiers take a number")?;
            return Ok(vec![(Test::Cmp(op, n), None)]);
        }
        if k.plain() {
            match raw {
                RawValue::Bool(b) => return Ok(vec![(Test::Bool(*b), None)]),
                RawValue::Int(..) | RawValue::Float(..) => {
                    let n = raw_number(raw).unwrap_or(f64::NAN);
                    let canon = canonical_float(n);
                    return Ok(vec![(Test::Num(n), Some(Hint::Eq(canon)))]);
                }
                _ => {}
            }
        }
        let text = raw_text(raw).unwrap_or_default();
        let texts = if k.has(Modifier::Expand) {
            expand_placeholders(&text, &self.vars)?
        } else {
            vec![text]
        };
        let mut out = Vec::new();
        for t in texts {
            self.text_tests(item, k, &t, &mut out)?;
        }
        Ok(out)
    }

    /// The tests of one text value (after placeholder expansion).
    fn text_tests(
        &mut self,
        item: &DetectionItem,
        k: &ItemKind,
        t: &str,
        out: &mut Vec<(Test, Option<Hint>)>,
    ) -> Result<(), String> {
        let has = |m| k.has(m);
        if has(Modifier::Re) {
            let flags = ReFlags {
                i: has(Modifier::ReI),
                m: has(Modifier::ReM),
                s: has(Modifier::ReS),
            };
            let re = regex_build(t, flags.i, flags.m, flags.s)?;
            let p = StrPattern {
                m: StrMatch::Regex(re, flags),
                cased: true,
            };
            out.push((Test::Str(p), None));
        } else if has(Modifier::Cidr) {
            let net = IpNet::parse(t).ok_or_else(|| format!("invalid CIDR network {t:?}"))?;
            out.push((Test::Cidr(net), None));
        } else if has(Modifier::FieldRef) {
            let mode = if has(Modifier::Contains) {
                StrMode::Contains
            } else if has(Modifier::StartsWith) {
                StrMode::Prefix
            } else if has(Modifier::EndsWith) {
                StrMode::Suffix
            } else {
                StrMode::Exact
            };
            let f = self.field(t);
            out.push((Test::FieldRef(f, mode), None));
        } else {
            let mut variants = transform(parse_sigma_string(t), &item.modifiers)?;
            if k.keyword {
                for v in &mut variants {
                    let mut x = vec![Piece::Star];
                    x.append(v);
                    x.push(Piece::Star);
                    *v = crate::modifier::normalize(x);
                }
            }
            for v in &variants {
                let (p, h) = build_pattern(v, k.has(Modifier::Cased))?;
                out.push((Test::Str(p), h));
            }
        }
        Ok(())
    }

    /// Compiles (or reuses) the predicate of one detection item.
    pub fn predicate(&mut self, item: &DetectionItem) -> Result<u32, String> {
        let key = format!("{:?}|{:?}|{:?}", item.targets, item.modifiers, item.values);
        if let Some(&id) = self.pred_keys.get(&key) {
            return Ok(id);
        }
        let tests = self.item_tests(item)?;
        let fields: Vec<FieldRef> = item.targets.iter().map(|t| self.field(t)).collect();
        if item.field.is_some() && fields.is_empty() {
            return Err(format!(
                "field '{}' is mapped to no field",
                item.field.as_deref().unwrap_or_default()
            ));
        }
        let mut groups = Vec::with_capacity(tests.len());
        let mut hints = Vec::with_capacity(tests.len());
        let tests: Vec<Test> = tests
            .into_iter()
            .map(|(t, h, g)| {
                hints.push(h);
                groups.push(g);
                t
            })
            .collect();
        let id = self.preds.len() as u32;
        self.preds.push(Predicate {
            fields,
            tests,
            hints,
            groups,
            all: item.modifiers.contains(&Modifier::All),
            neq: item.modifiers.contains(&Modifier::Neq),
        });
        self.pred_keys.insert(key, id);
        Ok(id)
    }

    /// Compiles a rule's detection into a program.
    pub fn rule(&mut self, rule: &SigmaRule) -> Result<Prog, (Option<usize>, String)> {
        let det = &rule.detection;
        let mut sel_progs = Vec::with_capacity(det.selections.len());
        for sel in &det.selections {
            let mut branches = Vec::new();
            for branch in &sel.branches {
                let mut items = Vec::new();
                for item in branch {
                    let id = self.predicate(item).map_err(|e| (Some(item.line), e))?;
                    items.push(Prog::Pred(id));
                }
                branches.push(if items.len() == 1 {
                    items.remove(0)
                } else {
                    Prog::And(items)
                });
            }
            sel_progs.push(if branches.len() == 1 {
                branches.remove(0)
            } else {
                Prog::Or(branches)
            });
        }
        fn lower(c: &Cond, sels: &[Prog]) -> Prog {
            let pick = |ids: &[usize]| ids.iter().filter_map(|i| sels.get(*i).cloned()).collect();
            match c {
                Cond::Ident(i) => sels.get(*i).cloned().unwrap_or(Prog::Or(Vec::new())),
                Cond::Not(x) => Prog::Not(Box::new(lower(x, sels))),
                Cond::And(xs) => Prog::And(xs.iter().map(|x| lower(x, sels)).collect()),
                Cond::Or(xs) => Prog::Or(xs.iter().map(|x| lower(x, sels)).collect()),
                Cond::AtLeast(n, ids) => Prog::AtLeast(*n, pick(ids)),
                Cond::All(ids) => Prog::And(pick(ids)),
            }
        }
        let mut conds: Vec<Prog> = det
            .conditions
            .iter()
            .map(|c| lower(c, &sel_progs))
            .collect();
        let mut root = if conds.len() == 1 {
            conds.remove(0)
        } else {
            Prog::Or(conds)
        };
        if !det.extra.is_empty() || !det.extra_not.is_empty() {
            let mut all: Vec<Prog> = det
                .extra
                .iter()
                .filter_map(|i| sel_progs.get(*i).cloned())
                .collect();
            all.extend(
                det.extra_not
                    .iter()
                    .filter_map(|i| sel_progs.get(*i).cloned())
                    .map(|p| Prog::Not(Box::new(p))),
            );
            all.push(root);
            root = Prog::And(all);
        }
        Ok(root)
    }
}
