//! The raw-record prefilter: decides from a record's bytes, before any parsing, which rules could
//! match it, so that records no rule can match are never decoded (design.md §6, "skip the full
//! parse of a record that no rule can match where that is sound").
//!
//! Every rule with a necessary literal set (one of the literals is in every event it matches, see
//! [`tw_sigma::RuleSet::required_literals`]) is looked up by those literals in one ASCII
//! case-insensitive Aho-Corasick automaton over the raw bytes. This is sound because a field value
//! appears verbatim in the record's text except where the text escapes it, and the literals are
//! cut down to what survives every escape:
//!
//! - a literal is cut at `"`, `\`, `/` (JSON may write `\/`), `-` and `–` (operation names are
//!   also matched in dash variants), control characters and non-ASCII characters, and the longest
//!   remaining piece (at least [`MIN_LITERAL`] bytes) is used; numbers only in plain decimal
//!   (`50053`, `1.5`: a JSON number equal to them holds that text, as no exporter of these logs
//!   writes exponents; `1e3` is not used);
//! - fields read through the canonical `tw.*` accessors, directly or through a pipeline, have
//!   computed values and give no literal;
//! - a record holding `\u` (a JSON escape can spell any character) or a character whose Unicode
//!   lowercase is ASCII (`K` KELVIN SIGN, `İ`) is a candidate for every rule.
//!
//! Rules without a usable literal are candidates for every record.

use crate::scan::LiteralScanner;
use tw_sigma::{FieldRef, RuleSet};

/// Shortest literal piece worth looking up.
pub const MIN_LITERAL: usize = 3;

/// Byte sequences that make a record's text unreliable for literal lookup.
const HAZARDS: &[&[u8]] = &[b"\\u", "\u{212A}".as_bytes(), "\u{130}".as_bytes()];

/// What the prefilter says about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No rule can match: the record need not be decoded.
    Skip,
    /// Only these rules (sorted) can match.
    Rules(Vec<u32>),
    /// The text cannot be trusted: every rule is a candidate.
    All,
}

/// Per-thread scratch space of [`RawPrefilter::verdict`].
#[derive(Debug, Default)]
pub struct PrefilterScratch {
    lower: Vec<u8>,
    found: Vec<bool>,
    touched: Vec<u32>,
    rule_seen: Vec<bool>,
    rules: Vec<u32>,
}

/// The prefilter of a rule set.
#[derive(Debug)]
pub struct RawPrefilter {
    scanner: Option<LiteralScanner>,
    /// Per literal: the rules with a clause holding it.
    lit_rules: Vec<Vec<u32>>,
    literal_text: Vec<String>,
    /// Per rule: its clauses, as literal ids, and whether they are key names.
    clauses: Vec<Vec<(Vec<u32>, bool)>>,
    /// Rules that are candidates for every record.
    always: Vec<u32>,
    /// Rules whose clauses are all key names: candidates for every CSV row.
    always_csv: Vec<u32>,
    /// Literal ids of `keep`: a record holding one is never skipped.
    keep: Vec<u32>,
}

/// Cuts `text` (a lowercase literal) down to the longest piece that appears verbatim in any raw
/// text holding it; `None` when there is none worth using.
pub fn raw_literal(text: &str) -> Option<String> {
    let t = text.trim();
    if t.parse::<f64>().is_ok() && !is_plain_decimal(t) {
        return None;
    }
    let best = text
        .split(|c: char| {
            !c.is_ascii() || c.is_ascii_control() || matches!(c, '"' | '\\' | '/' | '-')
        })
        .max_by_key(|p| p.len())?;
    (best.len() >= MIN_LITERAL).then(|| best.to_string())
}

/// Digits with at most one decimal point: written the same way by every exporter (no exporter of
/// these logs writes an integer in exponent form, `5.0053e4`).
fn is_plain_decimal(t: &str) -> bool {
    !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|&b| b == b'.').count() <= 1
        && !t.starts_with('.')
        && !t.ends_with('.')
}

impl RawPrefilter {
    /// Builds the prefilter of `set`; `field_ok` says which fields hold values taken verbatim
    /// from the record (not computed).
    pub fn new(
        set: &RuleSet,
        field_ok: &dyn Fn(&FieldRef) -> bool,
        field_keys: &dyn Fn(&FieldRef) -> Option<Vec<String>>,
        keep: &[&str],
    ) -> RawPrefilter {
        let per_rule = set.required_literals(field_ok, &|t, _| raw_literal(t), field_keys);
        let mut ids: std::collections::BTreeMap<String, u32> = Default::default();
        for k in keep {
            let n = ids.len() as u32;
            ids.entry(k.to_ascii_lowercase()).or_insert(n);
        }
        for c in per_rule.iter().flatten() {
            for l in &c.literals {
                let n = ids.len() as u32;
                ids.entry(l.clone()).or_insert(n);
            }
        }
        // Literal ids in sorted order (deterministic automaton).
        let literal_text: Vec<String> = ids.keys().cloned().collect();
        let id_of: std::collections::HashMap<&str, u32> = literal_text
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let mut lit_rules = vec![Vec::new(); literal_text.len()];
        let mut always = Vec::new();
        let mut always_csv = Vec::new();
        let mut clauses = Vec::with_capacity(per_rule.len());
        for (r, cs) in per_rule.iter().enumerate() {
            if cs.is_empty() {
                always.push(r as u32);
            }
            let cs: Vec<(Vec<u32>, bool)> = cs
                .iter()
                .map(|c| {
                    let ids = c
                        .literals
                        .iter()
                        .filter_map(|l| id_of.get(l.as_str()).copied())
                        .collect();
                    (ids, c.keys)
                })
                .collect();
            if !cs.is_empty() && cs.iter().all(|(_, keys)| *keys) {
                // Key names are not in a CSV row: there, nothing is known of this rule.
                always_csv.push(r as u32);
            }
            for (c, _) in &cs {
                for &l in c {
                    let v: &mut Vec<u32> = &mut lit_rules[l as usize];
                    if v.last() != Some(&(r as u32)) {
                        v.push(r as u32);
                    }
                }
            }
            clauses.push(cs);
        }
        let mut pats: Vec<Vec<u8>> = literal_text.iter().map(|t| t.as_bytes().to_vec()).collect();
        pats.extend(HAZARDS.iter().map(|h| h.to_vec()));
        let scanner = LiteralScanner::new(&pats);
        let keep = keep
            .iter()
            .filter_map(|k| id_of.get(k.to_ascii_lowercase().as_str()).copied())
            .collect();
        RawPrefilter {
            scanner,
            lit_rules,
            literal_text,
            clauses,
            always,
            always_csv,
            keep,
        }
    }

    /// Rules that are candidates for every record.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// True when the SIMD literal search is used (else one automaton).
    pub fn is_simd(&self) -> bool {
        self.scanner.as_ref().is_some_and(LiteralScanner::is_packed)
    }

    /// Number of distinct literals looked up.
    pub fn literal_count(&self) -> usize {
        self.literal_text.len()
    }

    /// The literals looked up, with the rules whose clauses hold each one.
    pub fn literals(&self) -> impl Iterator<Item = (&str, &[u32])> {
        self.literal_text
            .iter()
            .zip(&self.lit_rules)
            .map(|(t, r)| (t.as_str(), r.as_slice()))
    }

    /// The candidate rules of a record's raw bytes; `spells_keys` is true for JSON text (field
    /// names written out in the record), false for a CSV row. A record holding a `keep` literal
    /// (or any CSV row, when there are such literals) is not skipped, even with no rule.
    pub fn verdict(&self, raw: &[u8], spells_keys: bool, s: &mut PrefilterScratch) -> Verdict {
        let Some(scanner) = &self.scanner else {
            return Verdict::All;
        };
        let n = self.literal_text.len();
        if s.found.len() != n {
            s.found = vec![false; n];
            s.touched.clear();
        }
        if s.rule_seen.len() != self.clauses.len() {
            s.rule_seen = vec![false; self.clauses.len()];
        }
        for &l in &s.touched {
            s.found[l as usize] = false;
        }
        s.touched.clear();
        let mut hazard = false;
        let (found, touched) = (&mut s.found, &mut s.touched);
        scanner.scan(raw, &mut s.lower, &mut |p| {
            let p = p as usize;
            if p >= n {
                hazard = true;
                return false;
            }
            if !std::mem::replace(&mut found[p], true) {
                touched.push(p as u32);
            }
            true
        });
        if hazard {
            return Verdict::All;
        }
        s.rules.clear();
        s.rules.extend_from_slice(&self.always);
        if !spells_keys {
            s.rules.extend_from_slice(&self.always_csv);
        }
        for &l in &s.touched {
            for &r in &self.lit_rules[l as usize] {
                if std::mem::replace(&mut s.rule_seen[r as usize], true) {
                    continue;
                }
                let ok = self.clauses[r as usize].iter().all(|(c, keys)| {
                    (*keys && !spells_keys) || c.iter().any(|&x| s.found[x as usize])
                });
                if ok {
                    s.rules.push(r);
                }
            }
        }
        for &l in &s.touched {
            for &r in &self.lit_rules[l as usize] {
                s.rule_seen[r as usize] = false;
            }
        }
        let kept = !self.keep.is_empty()
            && (!spells_keys || self.keep.iter().any(|&k| s.found[k as usize]));
        if s.rules.is_empty() && !kept {
            Verdict::Skip
        } else {
            s.rules.sort_unstable();
            s.rules.dedup();
            Verdict::Rules(s.rules.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_cut_to_what_survives_escapes() {
        assert_eq!(
            raw_literal("update application – certificates and secrets management").as_deref(),
            Some(" certificates and secrets management")
        );
        assert_eq!(raw_literal("/me/messages").as_deref(), Some("messages"));
        assert_eq!(raw_literal("50126").as_deref(), Some("50126"));
        assert_eq!(raw_literal("1e3"), None);
        assert_eq!(raw_literal("a-b"), None);
        assert_eq!(raw_literal("süßes"), None);
    }

    fn set(yaml: &str) -> RuleSet {
        let mut b = RuleSet::builder();
        b.add_yaml("t.yml", yaml);
        let s = b.build();
        assert!(s.errors().is_empty(), "{:?}", s.errors());
        s
    }

    #[test]
    fn verdicts() {
        let s = set(
            "title: a\nlogsource: {product: azure}\ndetection:\n  sel: {operationName: 'Add owner to application'}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure}\ndetection:\n  sel: {ResultType|re: '^5'}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure}\ndetection:\n  sel: {tw.ip: '1.2.3.4'}\n  keywords: ['Set-Mailbox']\n  condition: sel or keywords\n---\ntitle: d\nlogsource: {product: azure}\ndetection:\n  sel: {Operation: 'Set-Mailbox', Parameters|contains|all: ['ForwardingSmtpAddress', 'DeliverToMailboxAndForward']}\n  condition: sel\n",
        );
        let all = |_: &FieldRef| true;
        let p = RawPrefilter::new(&s, &all, &|_| None, &[]);
        let mut seen = PrefilterScratch::default();
        // A regular expression gives no literal.
        assert_eq!(p.always(), &[1]);
        assert_eq!(
            p.verdict(
                br#"{"operationName":"ADD OWNER TO APPLICATION."}"#,
                true,
                &mut seen
            ),
            Verdict::Rules(vec![0, 1])
        );
        assert_eq!(
            p.verdict(
                br#"{"operationName":"Add owner to \u0061pplication"}"#,
                true,
                &mut seen
            ),
            Verdict::All
        );
        // Every clause of d must be satisfied: the operation alone is not enough.
        assert_eq!(
            p.verdict(
                br#"{"Operation":"Set-Mailbox","Parameters":[{"Name":"ForwardingSmtpAddress"}]}"#,
                true,
                &mut seen
            ),
            Verdict::Rules(vec![1, 2])
        );
        assert_eq!(
            p.verdict(br#"{"Operation":"Set-Mailbox","Parameters":[{"Name":"ForwardingSmtpAddress"},{"Name":"DeliverToMailboxAndForward"}]}"#, true, &mut seen),
            Verdict::Rules(vec![1, 2, 3])
        );
        // Without the tw.* field, rule c has no necessary literal: it is always a candidate.
        let no_tw = |f: &FieldRef| !f.name().starts_with("tw.");
        let p = RawPrefilter::new(&s, &no_tw, &|_| None, &[]);
        assert_eq!(p.always(), &[1, 2]);
        let s = set(
            "title: a\nlogsource: {product: azure}\ndetection:\n  sel: {operationName: 'Add owner to application', ResultType: 50126}\n  condition: sel\n",
        );
        let p = RawPrefilter::new(&s, &all, &|_| None, &[]);
        assert_eq!(
            p.verdict(
                br#"{"operationName":"Add member","ResultType":50126}"#,
                true,
                &mut seen
            ),
            Verdict::Skip
        );
        assert_eq!(
            p.verdict(
                br#"{"operationName":"Add owner to application","ResultType":"50126"}"#,
                true,
                &mut seen
            ),
            Verdict::Rules(vec![0])
        );
        // KELVIN SIGN lowercases to ASCII k.
        assert_eq!(
            p.verdict("{\"x\":\"\u{212A}\"}".as_bytes(), true, &mut seen),
            Verdict::All
        );
    }
}
