//! The raw-record prefilter: decides from a record's bytes, before any parsing, which rules could
//! match it, so that records no rule can match are never decoded (design.md §6, "skip the full
//! parse of a record that no rule can match where that is sound").
//!
//! Every rule with necessary conditions (see [`tw_sigma::RuleSet::required_literals`]: literals
//! one of which is in every event it matches, key names, key/value conditions) is looked up by
//! its rarest literal clause in the raw bytes, ASCII case-insensitively ([`crate::scan`]); the
//! other conditions are checked only for rules so found. This is sound because a field value
//! appears verbatim in the record's text except where the text escapes it, and the literals are
//! cut down to what survives every escape:
//!
//! - a literal is cut at `"`, `\`, `-` and `–` (operation names are also matched in dash
//!   variants), control characters and non-ASCII characters, and the longest remaining piece (at
//!   least [`MIN_LITERAL`] bytes) is used; numbers give no literal (`50053` may be written
//!   `50053.0` or `5.0053e4`): they are checked as numbers on their key's value;
//! - fields read through the canonical `tw.*` accessors, directly or through a pipeline, have
//!   computed values and give no literal;
//! - a record holding `\u` (a JSON escape can spell any character), an escaped solidus `\/` or a
//!   character whose Unicode lowercase is ASCII (`K` KELVIN SIGN, `İ`) is a candidate for every
//!   rule.
//!
//! A caller may also require a non-empty value under some keys for a rule
//! ([`RawPrefilter::require_value`]; first-seen rules drop matches with an empty value): records
//! where every such value is `""` are no candidates of it.
//!
//! Rules without a usable literal are candidates for every record. After tuning on a sample of
//! the data, a rule whose only clause is held by nearly every sampled record of a log kind (a key
//! every sign-in spells, say) is a candidate for every record of that kind without looking: the
//! lookup would select nothing and cost a scan. Likewise each rule's trigger is its rarest clause
//! among the sampled records of the rule's own log kinds (a literal rare overall may be in most
//! records of those kinds), where each of them was sampled enough.

use std::sync::Arc;

use crate::scan::LiteralScanner;
use tw_event::LogKind;
use tw_sigma::{FieldRef, RuleSet};

/// A clause present in at least this share (per million) of the sampled records is not checked.
const USELESS_CHECK: u64 = 950_000;

/// A trigger clause present in at least this share (per million) of the sampled records of the
/// log kinds a plan is for is not looked up there: its rules are candidates for every such
/// record (looking would cost a scan and select nothing).
const UBIQUITOUS: u64 = 980_000;

/// Sampled records of a log kind needed before its literal shares are trusted.
const MIN_KIND_SAMPLE: u64 = 64;

/// One sampled record in this many is classified for the shares per kind.
const KIND_SAMPLE_STEP: usize = 4;

/// Trigger clauses whose shares of sampled records (per million) differ by less than this are
/// taken as equally rare.
const TRIGGER_SHARE_STEP: u64 = 10_000;

/// Bytes of sampled records the anchor windows are counted in.
const WINDOW_SAMPLE_BYTES: usize = 1 << 21;

/// Shortest literal piece worth looking up.
pub const MIN_LITERAL: usize = 3;

/// Longest literal piece looked up: a longer piece is cut to its first this many bytes (still a
/// necessary condition: a text holding the piece holds its start). No longer piece selects
/// records better, and the search automata grow with the literals' total length (one state per
/// byte): a rule value of a megabyte must not make building them take minutes.
pub const MAX_LITERAL: usize = 128;

/// Byte sequences that make a record's text unreliable for literal lookup: a `\u` escape, an
/// escaped solidus `\/`, and the characters whose Unicode lowercase is ASCII (KELVIN SIGN
/// `E2 84 AA`, `İ` `C4 B0`).
fn has_hazard(raw: &[u8]) -> bool {
    memchr::memchr3_iter(b'\\', 0xE2, 0xC4, raw).any(|i| match raw[i] {
        b'\\' => matches!(raw.get(i + 1), Some(b'u' | b'/')),
        0xE2 => raw.get(i + 1..i + 3) == Some(&[0x84, 0xAA][..]),
        _ => raw.get(i + 1) == Some(&0xB0),
    })
}

/// What the prefilter says about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No rule can match: the record need not be decoded.
    Skip,
    /// Only these rules (sorted) can match.
    Rules(Vec<u32>),
    /// The text cannot be trusted: every rule is a candidate.
    All,
    /// Only rules set aside by [`RawPrefilter::defer_same_tenant`] can match, and the record's
    /// actor acts in their own tenant, this one (lowercase, as the record spells it).
    Defer(String),
}

/// Per-thread scratch space of [`RawPrefilter::verdict`].
#[derive(Debug, Default)]
pub struct PrefilterScratch {
    lower: Vec<u8>,
    /// Per literal: 0 unknown, 1 in the text, 2 not in it.
    state: Vec<u8>,
    touched: Vec<u32>,
    rule_seen: Vec<bool>,
    seen_list: Vec<u32>,
    rules: Vec<u32>,
    /// Per pair key: whether its values were looked up in this record, and where they are.
    key_values: Vec<(bool, Vec<Region>)>,
    keys_touched: Vec<u32>,
    /// Where the scan found its literals in this record: (literal, start).
    found_at: Vec<(u32, u32)>,
    /// The log kinds of the last record whose kinds were looked up in full.
    predicted: Option<u64>,
}

/// How a verdict takes the rules' log kinds into account.
#[derive(Debug, Clone, Copy)]
enum KindFilter {
    /// Not at all.
    None,
    /// The record is of this kind.
    Known(LogKind),
    /// A rule needs the signature of one of its kinds in the text.
    Signatures,
}

/// A literal search plan: the scanner for some rules' trigger literals, and which literals it
/// looks for (a literal it looks for and did not report is not in the text).
#[derive(Debug, Default)]
struct Plan {
    scanner: Option<LiteralScanner>,
    scanned: Vec<bool>,
    /// Rules whose only clause is in nearly every sampled record of the plan's kinds: not looked
    /// up, candidates for every record.
    always: Vec<u32>,
    /// Rules whose only clause is in nearly every sampled record of the plan's kinds and that
    /// have key/value conditions: not looked up, candidates for every record passing those.
    always_checked: Vec<u32>,
    /// A `keep` literal is in nearly every sampled record of the plan's kinds: every record is
    /// kept (subject to the same-tenant check) without looking.
    keep_all: bool,
}

/// Per log kind (bit), from the sample: records of that kind alone, and per literal how many
/// of them hold it.
#[derive(Debug, Default, Clone)]
struct KindShares {
    records: Vec<u64>,
    holding: Vec<Vec<u64>>,
}

impl KindShares {
    /// The kinds (bits) of `mask`, when each of them was sampled enough.
    fn sampled(&self, mask: u64) -> Option<Vec<usize>> {
        let kinds: Vec<usize> = (0..self.records.len().min(64))
            .filter(|b| mask & (1 << b) != 0)
            .collect();
        kinds
            .iter()
            .all(|&b| self.records[b] >= MIN_KIND_SAMPLE)
            .then_some(kinds)
    }

    /// Per literal, its share of the sampled records of the kinds in `mask`, when each of those
    /// kinds was sampled enough.
    fn shares(&self, mask: u64, literals: usize) -> Option<Vec<f64>> {
        let kinds = self.sampled(mask)?;
        let records: u64 = kinds.iter().map(|&b| self.records[b]).sum();
        let mut held = vec![0u64; literals];
        for &b in &kinds {
            for (h, n) in held.iter_mut().zip(&self.holding[b]) {
                *h += n;
            }
        }
        (records > 0).then(|| held.iter().map(|&h| h as f64 / records as f64).collect())
    }

    /// Whether a literal of `lits` is held by at least [`UBIQUITOUS`] of the sampled records of
    /// each kind in `mask` (each kind sampled enough).
    fn ubiquitous(&self, mask: u64, lits: &[u32]) -> bool {
        let Some(kinds) = self.sampled(mask) else {
            return false;
        };
        !kinds.is_empty()
            && kinds.iter().all(|&b| {
                let held = lits
                    .iter()
                    .map(|&l| self.holding[b].get(l as usize).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0);
                held * 1_000_000 >= UBIQUITOUS * self.records[b]
            })
    }
}

/// A way to show a log kind: (the kind's bit, signature words all present).
type Alternative = (u64, Vec<u32>);

/// Occurrences in a sample of the data: of candidate anchors, and of every four bytes.
type AnchorCounts = (
    std::collections::HashMap<Vec<u8>, u64>,
    std::collections::HashMap<[u8; 4], u64>,
);

/// The key Azure Monitor records name their category with (lowercase).
static CATEGORY_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"category"));

/// Signature word scanners by the kinds whose words they leave out.
type GuardCache = std::sync::RwLock<std::collections::HashMap<u64, Arc<Option<LiteralScanner>>>>;

/// Search plans by (log kinds bit set, CSV row).
type PlanCache = std::sync::RwLock<std::collections::HashMap<(u64, bool), Arc<Plan>>>;

/// The prefilter of a rule set.
pub struct RawPrefilter {
    /// Plans for every rule: JSON text, CSV rows.
    full: (Arc<Plan>, Arc<Plan>),
    /// Plans for the rules of some log kinds only, built on first use.
    plans: PlanCache,
    /// Per set of predicted kinds: the scanner of the other kinds' signature words.
    guards: GuardCache,
    /// Three-byte sequence counts of the data, for anchors.
    /// Occurrences in the data's sample of the literals' possible anchors and of their
    /// first four bytes, for anchors the packed searchers seldom find in vain.
    anchor_counts: Option<Arc<AnchorCounts>>,
    literal_text: Vec<String>,
    /// Per literal: a finder for checking it in a lowercased text.
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// Per scanned literal: the rules whose trigger clause (JSON text, CSV row) holds it.
    trig_json: Vec<Vec<u32>>,
    trig_csv: Vec<Vec<u32>>,
    /// Per rule: its clauses, as literal ids, and whether they are key names.
    clauses: Vec<Vec<(Vec<u32>, bool)>>,
    /// Per rule: key/value conditions checked in JSON text (keys, values).
    pairs: Vec<Vec<Pair>>,
    /// Number of distinct keys of `pairs`.
    pair_keys: usize,
    /// Per pair key: the literal of the same text, if any (where the scan found it, its values
    /// are read without searching again).
    pair_key_literal: Vec<Option<u32>>,
    /// Per rule: the clause it is triggered by in JSON text and in CSV rows.
    trigger: Vec<(Option<usize>, Option<usize>)>,
    /// Per rule: the other clauses checked in JSON text and in CSV rows, rarest first; clauses
    /// present in nearly every sampled record are not checked (they would seldom reject).
    checks: Vec<(Vec<usize>, Vec<usize>)>,
    /// Rules that are candidates for every record.
    always: Vec<u32>,
    /// Rules whose clauses are all key names: candidates for every CSV row.
    always_csv: Vec<u32>,
    /// Per rule: its log kinds as a bit set over `kinds` (every bit when not routed).
    rule_masks: Vec<u64>,
    /// The log kinds rules are routed to (bit `i` is `kinds[i]`).
    kinds: Vec<LogKind>,
    /// The kinds' signature words, and the alternatives (kind bit, words all present) that
    /// show a kind; and the kinds without signature words (always possible).
    signatures: Option<(LiteralScanner, Vec<Alternative>)>,
    /// The signature words, by id.
    signature_words: Vec<Vec<u8>>,
    /// Kinds (bit) shown by a `category` key holding one of these values (lowercase).
    categories: Vec<(u64, Vec<Vec<u8>>)>,
    unsigned: u64,
    /// Literal ids of `keep`: a record holding one is never skipped.
    keep: Vec<u32>,
    /// A kept record of this kind may still be skipped when these two keys hold one and the
    /// same value (an actor acting in their own tenant).
    same_tenant: Option<SameTenant>,
    /// Rules (sorted) whose same-tenant records are set aside ([`Verdict::Defer`]).
    deferred: Vec<u32>,
    /// Literal shares per log kind in the sample ([`RawPrefilter::tune`]).
    kind_shares: Option<KindShares>,
}

/// See [`RawPrefilter::keep_unless_same`].
#[derive(Clone)]
struct SameTenant {
    kind: LogKind,
    home: (memchr::memmem::Finder<'static>, usize),
    tenant: (memchr::memmem::Finder<'static>, usize),
}

impl Clone for RawPrefilter {
    fn clone(&self) -> Self {
        RawPrefilter {
            full: self.full.clone(),
            plans: Default::default(),
            guards: Default::default(),
            anchor_counts: self.anchor_counts.clone(),
            literal_text: self.literal_text.clone(),
            finders: self.finders.clone(),
            trig_json: self.trig_json.clone(),
            trig_csv: self.trig_csv.clone(),
            clauses: self.clauses.clone(),
            pairs: self.pairs.clone(),
            pair_keys: self.pair_keys,
            pair_key_literal: self.pair_key_literal.clone(),
            trigger: self.trigger.clone(),
            checks: self.checks.clone(),
            always: self.always.clone(),
            always_csv: self.always_csv.clone(),
            rule_masks: self.rule_masks.clone(),
            kinds: self.kinds.clone(),
            signatures: self.signatures.clone(),
            signature_words: self.signature_words.clone(),
            categories: self.categories.clone(),
            unsigned: self.unsigned,
            keep: self.keep.clone(),
            same_tenant: self.same_tenant.clone(),
            deferred: self.deferred.clone(),
            kind_shares: self.kind_shares.clone(),
        }
    }
}

/// Every log kind.
const ALL_KINDS: u64 = u64::MAX;

/// A key/value condition: a key named one of `keys` has a value equal to or holding one of
/// `values`.
#[derive(Clone)]
struct Pair {
    keys: Vec<(memchr::memmem::Finder<'static>, usize)>,
    /// Per key: its id among all pairs' keys (a key's values are found once per record).
    key_ids: Vec<u32>,
    values: Vec<PairValue>,
}

/// A finder for a key name (lowercase) and the name's length, as [`Pair::keys`] holds them.
fn key_finder(key: &str) -> (memchr::memmem::Finder<'static>, usize) {
    (
        memchr::memmem::Finder::new(key.as_bytes()).into_owned(),
        key.len(),
    )
}

/// Where a value found after a key is in a text.
#[derive(Debug, Clone, Copy)]
enum Region {
    Array,
    Object,
    /// A string's content (escapes kept) or a bare scalar's text: `start..end`.
    Text(usize, usize),
}

#[derive(Clone)]
enum PairValue {
    /// A number: the value is a number (or numeric text) whose canonical text equals or holds
    /// this text, or a text holding it.
    Number(String, bool),
    /// The value, trimmed and without a trailing full stop, equals this (plain ASCII, no dash,
    /// not a number).
    Exact(Vec<u8>),
    /// The value's text holds this.
    Holds(Box<memchr::memmem::Finder<'static>>),
    /// The value is not an empty string.
    NonEmpty,
}

impl PairValue {
    /// From a rule value (lowercase); `None` when nothing can be checked.
    fn new(text: &str, exact: bool) -> Option<PairValue> {
        let plain = text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'/' | b'-') || b == b' ');
        let t = text.trim();
        if t.parse::<f64>().is_ok() {
            return Some(PairValue::Number(t.to_string(), exact));
        }
        let numeric = matches!(t, "true" | "false" | "null");
        if exact && plain && !numeric && !text.starts_with(['{', '[']) {
            let t = t.strip_suffix('.').unwrap_or(t).trim_end();
            return Some(PairValue::Exact(t.as_bytes().to_vec()));
        }
        let piece = text
            .split(|c: char| {
                !c.is_ascii() || c.is_ascii_control() || matches!(c, '"' | '\\' | '/' | '-')
            })
            .max_by_key(|p| p.len())
            .filter(|p| !p.is_empty())?;
        Some(PairValue::Holds(Box::new(
            memchr::memmem::Finder::new(piece.as_bytes()).into_owned(),
        )))
    }

    /// Checks a value's raw text (a string's content, or a bare scalar).
    fn matches(&self, region: &[u8]) -> bool {
        match self {
            PairValue::Number(text, exact) => {
                let r = region.trim_ascii();
                let holds = |hay: &[u8]| memchr::memmem::find(hay, text.as_bytes()).is_some();
                // A plain integer of up to 15 digits is its own canonical text.
                let plain = (1..=15).contains(&r.len())
                    && r.iter().all(u8::is_ascii_digit)
                    && (r[0] != b'0' || r.len() == 1);
                if plain {
                    return (*exact && r == text.as_bytes()) || holds(r);
                }
                let as_number = std::str::from_utf8(r)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .map(tw_sigma::event::canonical_float);
                match as_number {
                    Some(c) if *exact => c == *text || holds(r),
                    Some(c) => holds(c.as_bytes()) || holds(r),
                    None => holds(r),
                }
            }
            PairValue::Holds(f) => f.find(region).is_some(),
            // A bare `null` is text here too: it passes (only `""` is surely empty).
            PairValue::NonEmpty => !region.is_empty(),
            PairValue::Exact(v) => {
                if region.iter().any(|&b| b == b'\\' || !b.is_ascii()) {
                    // Escapes, or characters Unicode trims or folds: not compared here.
                    return true;
                }
                let r = region.trim_ascii();
                let r = r.strip_suffix(b".").unwrap_or(r).trim_ascii_end();
                r == v.as_slice()
            }
        }
    }
}

impl Pair {
    /// True when the condition is only that some value of the keys is not empty.
    fn non_empty_only(&self) -> bool {
        self.values.iter().all(|v| matches!(v, PairValue::NonEmpty))
    }

    /// Checks the condition on a lowercased JSON text. Sound for JSON and for JSON held in JSON
    /// strings: a value that is an object, an array or a string holding JSON passes.
    #[cfg(test)]
    fn holds(&self, text: &[u8]) -> bool {
        let mut found = Vec::new();
        self.keys.iter().any(|(finder, len)| {
            found.clear();
            values_of_key(text, finder, *len, &mut found);
            self.holds_in(text, &found)
        })
    }

    /// Whether one of the values found after a key (`found`, in `text`) passes.
    fn holds_in(&self, text: &[u8], found: &[Region]) -> bool {
        let any_holds = self
            .values
            .iter()
            .any(|v| matches!(v, PairValue::Holds(_) | PairValue::NonEmpty));
        found.iter().any(|v| match *v {
            Region::Array => true,
            // An object is compared as its JSON text: only a containment test can hold.
            Region::Object => any_holds,
            Region::Text(a, b) => {
                let region = text.get(a..b).unwrap_or(&[]);
                let lead = region
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .map(|p| region[p]);
                // A string holding JSON is decoded by some formats.
                matches!(lead, Some(b'{' | b'[')) || self.values.iter().any(|v| v.matches(region))
            }
        })
    }
}

/// Appends the value of every occurrence of the key `finder` finds (`len` bytes) in `text`.
fn values_of_key(
    text: &[u8],
    finder: &memchr::memmem::Finder<'_>,
    len: usize,
    out: &mut Vec<Region>,
) {
    let base = text.as_ptr() as usize;
    key_values(text, finder, len, &mut |v| {
        out.push(Region::of(v, base));
        false
    });
}

impl Region {
    /// Where `v` is in the text starting at address `base`.
    fn of(v: KeyValue<'_>, base: usize) -> Region {
        match v {
            KeyValue::Array => Region::Array,
            KeyValue::Object => Region::Object,
            // An empty value may be a slice of nothing: its place does not matter.
            KeyValue::Text([]) => Region::Text(0, 0),
            KeyValue::Text(t) => {
                let a = (t.as_ptr() as usize).saturating_sub(base);
                Region::Text(a, a + t.len())
            }
        }
    }
}

/// A value found after a key in a JSON text.
enum KeyValue<'a> {
    Array,
    Object,
    /// A string's content (escapes kept) or a bare scalar's text.
    Text(&'a [u8]),
}

/// Calls `f` with the value of every occurrence of the key `finder` finds (`len` bytes) in a
/// lowercased JSON text, plain or held in a JSON string, until `f` returns true; returns whether
/// it did. A key must start a key string, or follow a dot in a flattened one.
fn key_values<'a>(
    text: &'a [u8],
    finder: &memchr::memmem::Finder<'_>,
    len: usize,
    f: &mut dyn FnMut(KeyValue<'a>) -> bool,
) -> bool {
    for pos in finder.find_iter(text) {
        if let Some(value) = value_at(text, pos, len)
            && f(value)
        {
            return true;
        }
    }
    false
}

/// The value of the key whose name (`len` bytes) is at `pos` in a lowercased JSON text, plain or
/// held in a JSON string; `None` when no key starts there. A key must start a key string, or
/// follow a dot in a flattened one.
fn value_at(text: &[u8], pos: usize, len: usize) -> Option<KeyValue<'_>> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let skip_ws = |mut i: usize| {
        loop {
            match at(i) {
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                b'\\' if matches!(at(i + 1), b'n' | b't' | b'r') => i += 2,
                _ => return i,
            }
        }
    };
    if pos == 0 || !matches!(text.get(pos - 1), Some(b'"' | b'.')) {
        return None;
    }
    let mut i = pos + len;
    if at(i) == b'\\' {
        i += 1;
    }
    if at(i) != b'"' {
        return None;
    }
    i = skip_ws(i + 1);
    if at(i) != b':' {
        return None;
    }
    i = skip_ws(i + 1);
    Some(match at(i) {
        b'[' => KeyValue::Array,
        b'{' => KeyValue::Object,
        b'"' => KeyValue::Text(string_region(text, i + 1, false)),
        b'\\' if at(i + 1) == b'"' => KeyValue::Text(string_region(text, i + 2, true)),
        _ => {
            let rest = text.get(i..).unwrap_or(&[]);
            let end = rest
                .iter()
                .position(|b| {
                    matches!(b, b',' | b'}' | b']' | b'"' | b'\\') || b.is_ascii_whitespace()
                })
                .unwrap_or(rest.len());
            KeyValue::Text(&rest[..end])
        }
    })
}

/// The one plain value every occurrence of a key has in a lowercased JSON text; `None` when the
/// key is absent, has several values, or a value that is not plain text.
fn single_value<'a>(
    text: &'a [u8],
    finder: &memchr::memmem::Finder<'_>,
    len: usize,
) -> Option<&'a [u8]> {
    let mut one: Option<&[u8]> = None;
    let mut unclear = false;
    key_values(text, finder, len, &mut |v| {
        match v {
            KeyValue::Text(t) if !t.is_empty() && !t.contains(&b'\\') => match one {
                None => one = Some(t),
                Some(o) if o == t => {}
                Some(_) => unclear = true,
            },
            _ => unclear = true,
        }
        unclear
    });
    if unclear { None } else { one }
}

/// Occurrences in the lowercased `texts` of each of `windows` (lowercase, at least four bytes
/// each) and of each one's first four bytes. One pass: each four bytes of the text are looked up
/// (through a bit set, then a map) among the windows' first four bytes.
fn count_windows(
    texts: &[&[u8]],
    windows: &[&[u8]],
) -> (Vec<u64>, std::collections::HashMap<[u8; 4], u64>) {
    let head = |w: &[u8]| match w {
        [a, b, c, d, ..] => Some([*a, *b, *c, *d]),
        _ => None,
    };
    let slot = |h: [u8; 4]| (u32::from_le_bytes(h).wrapping_mul(0x9E37_79B1) >> 16) as usize;
    let mut bits = vec![0u64; (1 << 16) / 64];
    // The distinct heads (head, occurrences, windows), chained per slot from `first`: the text
    // is looked up by the slot already computed, no hashing per byte.
    let mut heads: Vec<([u8; 4], u64, Vec<usize>, u32)> = Vec::new();
    let mut first = vec![u32::MAX; 1 << 16];
    let find = |heads: &[([u8; 4], u64, Vec<usize>, u32)], first: &[u32], h: [u8; 4]| {
        let mut e = first[slot(h)];
        while e != u32::MAX {
            if heads[e as usize].0 == h {
                return Some(e as usize);
            }
            e = heads[e as usize].3;
        }
        None
    };
    for (i, w) in windows.iter().enumerate() {
        if let Some(h) = head(w) {
            bits[slot(h) / 64] |= 1 << (slot(h) % 64);
            let e = match find(&heads, &first, h) {
                Some(e) => e,
                None => {
                    heads.push((h, 0, Vec::new(), first[slot(h)]));
                    first[slot(h)] = (heads.len() - 1) as u32;
                    heads.len() - 1
                }
            };
            heads[e].2.push(i);
        }
    }
    let mut n = vec![0u64; windows.len()];
    let mut lower = Vec::new();
    for text in texts {
        crate::scan::lowercase_into(text, &mut lower);
        for i in 0..lower.len().saturating_sub(3) {
            let h = [lower[i], lower[i + 1], lower[i + 2], lower[i + 3]];
            let b = slot(h);
            if bits[b / 64] & (1 << (b % 64)) == 0 {
                continue;
            }
            if let Some(e) = find(&heads, &first, h) {
                let (_, count, ws, _) = &mut heads[e];
                *count += 1;
                for &w in ws.iter() {
                    if lower[i..].starts_with(windows[w]) {
                        n[w] += 1;
                    }
                }
            }
        }
    }
    let fours = heads.into_iter().map(|(h, c, _, _)| (h, c)).collect();
    (n, fours)
}

/// The text of a JSON string starting at `from` (after its opening quote) up to its closing
/// quote: in plain JSON the first quote after an even number of backslashes; in a string within
/// a JSON string (`inner`), the first quote after exactly one backslash, which never ends early
/// (quotes within the inner string have at least three).
fn string_region(text: &[u8], from: usize, inner: bool) -> &[u8] {
    let rest = text.get(from..).unwrap_or(&[]);
    let mut i = 0;
    while let Some(q) = memchr::memchr(b'"', &rest[i..]) {
        let at = i + q;
        let slashes = rest[..at].iter().rev().take_while(|b| **b == b'\\').count();
        let end = if inner {
            slashes == 1
        } else {
            slashes % 2 == 0
        };
        if end {
            return &rest[..at.saturating_sub(usize::from(inner))];
        }
        i = at + 1;
    }
    rest
}

impl std::fmt::Debug for RawPrefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPrefilter")
            .field("literals", &self.literal_text.len())
            .field("scanned", &self.scanned_count())
            .field("always", &self.always)
            .field("scanner", &self.full.0.scanner)
            .finish()
    }
}

/// Cuts `text` (a lowercase literal) down to the longest piece that appears verbatim in any raw
/// text holding it; `None` when there is none worth using.
pub fn raw_literal(text: &str) -> Option<String> {
    if text.trim().parse::<f64>().is_ok() {
        // A number may be written `50053`, `50053.0` or `5.0053e4`: checked on the key's value.
        return None;
    }
    let best = text
        .split(|c: char| !c.is_ascii() || c.is_ascii_control() || matches!(c, '"' | '\\' | '-'))
        .max_by_key(|p| p.len())?;
    // The piece is ASCII: any byte offset is a character boundary.
    let best = best.get(..MAX_LITERAL).unwrap_or(best);
    (best.len() >= MIN_LITERAL).then(|| best.to_string())
}

/// Bytes read from the start of each input for [`sample_texts`], and in all.
const SAMPLE_PER_INPUT: usize = 128 << 10;
const SAMPLE_TOTAL: usize = 8 << 20;

/// Lines from the start of the inputs under `paths` (decompressed; at most 128 KiB of each of
/// evenly spread inputs, 8 MiB in all), for [`RawPrefilter::tune`]. Unreadable inputs are
/// passed over: the reader reports them.
pub fn sample_texts(paths: &[std::path::PathBuf]) -> Vec<Vec<u8>> {
    use std::io::Read;
    let limits = tw_ingest::SourceLimits::default();
    let (inputs, _) = tw_ingest::source::list_inputs(paths, &limits);
    let take = (SAMPLE_TOTAL / SAMPLE_PER_INPUT).max(1);
    let step = inputs.len().div_ceil(take).max(1);
    let mut out = Vec::new();
    for input in inputs.iter().step_by(step) {
        let Ok(stream) = tw_ingest::source::open(input, &limits) else {
            continue;
        };
        let mut buf = Vec::with_capacity(SAMPLE_PER_INPUT);
        if stream
            .take(SAMPLE_PER_INPUT as u64)
            .read_to_end(&mut buf)
            .is_err()
        {
            continue;
        }
        out.extend(
            buf.split(|&b| b == b'\n')
                .filter(|l| l.len() > 2)
                .map(<[u8]>::to_vec),
        );
    }
    out
}

/// Score of a clause: its estimated share of texts holding one of its literals (from literal
/// frequencies when known), then fewer and longer literals.
fn clause_cost(c: &[u32], freq: Option<&[f64]>, text: &[String]) -> (u64, usize, usize) {
    let share = match freq {
        Some(f) => c
            .iter()
            .map(|&l| f.get(l as usize).copied().unwrap_or(1.0))
            .sum::<f64>()
            .min(1.0),
        None => 0.0,
    };
    let shortest = c
        .iter()
        .map(|&l| text[l as usize].len().min(16))
        .min()
        .unwrap_or(0);
    ((share * 1e6) as u64, 16 - shortest, c.len())
}

impl RawPrefilter {
    /// Builds the prefilter of `set`; `field_ok` says which fields hold values taken verbatim
    /// from the record (not computed), `field_keys` the key names a field is read from, and a
    /// record holding one of the `keep` literals is never skipped.
    pub fn new(
        set: &RuleSet,
        field_ok: &dyn Fn(&FieldRef) -> bool,
        field_keys: &dyn Fn(usize, &FieldRef) -> Option<Vec<String>>,
        keep: &[&str],
    ) -> RawPrefilter {
        let per_rule = set.required_literals(field_ok, &|t, _| raw_literal(t), field_keys);
        let mut key_id: std::collections::BTreeMap<String, u32> = Default::default();
        for k in per_rule.iter().flatten().flat_map(|c| &c.pair_keys) {
            let n = key_id.len() as u32;
            key_id.entry(k.clone()).or_insert(n);
        }
        let pair_keys = key_id.len();
        let pairs: Vec<Vec<Pair>> = per_rule
            .iter()
            .map(|cs| {
                cs.iter()
                    .filter(|c| !c.pair_keys.is_empty())
                    .filter_map(|c| {
                        let values = c
                            .literals
                            .iter()
                            .zip(&c.exact)
                            .map(|(v, e)| PairValue::new(v, *e))
                            .collect::<Option<Vec<_>>>()?;
                        Some(Pair {
                            keys: c.pair_keys.iter().map(|k| key_finder(k)).collect(),
                            key_ids: c
                                .pair_keys
                                .iter()
                                .map(|k| key_id.get(k).copied().unwrap_or(0))
                                .collect(),
                            values,
                        })
                    })
                    .collect()
            })
            .collect();
        let per_rule: Vec<Vec<tw_sigma::LiteralClause>> = per_rule
            .into_iter()
            .map(|cs| cs.into_iter().filter(|c| c.pair_keys.is_empty()).collect())
            .collect();
        let mut ids: std::collections::BTreeSet<String> = Default::default();
        for k in keep {
            ids.insert(k.to_ascii_lowercase());
        }
        for c in per_rule.iter().flatten() {
            ids.extend(c.literals.iter().cloned());
        }
        // Literal ids in sorted order (deterministic).
        let literal_text: Vec<String> = ids.into_iter().collect();
        let id_of: std::collections::HashMap<&str, u32> = literal_text
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let mut always = Vec::new();
        let mut always_csv = Vec::new();
        let mut clauses = Vec::with_capacity(per_rule.len());
        for (r, cs) in per_rule.iter().enumerate() {
            if cs.is_empty() {
                always.push(r as u32);
            } else if cs.iter().all(|c| c.keys) {
                // Key names are not in a CSV row: there, nothing is known of this rule.
                always_csv.push(r as u32);
            }
            clauses.push(
                cs.iter()
                    .map(|c| {
                        let ids = c
                            .literals
                            .iter()
                            .filter_map(|l| id_of.get(l.as_str()).copied())
                            .collect();
                        (ids, c.keys)
                    })
                    .collect::<Vec<(Vec<u32>, bool)>>(),
            );
        }
        let keep = keep
            .iter()
            .filter_map(|k| id_of.get(k.to_ascii_lowercase().as_str()).copied())
            .collect();
        let mut pair_key_literal = vec![None; pair_keys];
        for (k, id) in &key_id {
            if let Some(slot) = pair_key_literal.get_mut(*id as usize) {
                *slot = id_of.get(k.as_str()).copied();
            }
        }
        let finders = literal_text
            .iter()
            .map(|t| memchr::memmem::Finder::new(t.as_bytes()).into_owned())
            .collect();
        let rules = clauses.len();
        let mut p = RawPrefilter {
            full: Default::default(),
            plans: Default::default(),
            guards: Default::default(),
            anchor_counts: None,
            trig_json: Vec::new(),
            trig_csv: Vec::new(),
            trigger: Vec::new(),
            checks: Vec::new(),
            pairs,
            pair_keys,
            pair_key_literal,
            literal_text,
            finders,
            clauses,
            always,
            always_csv,
            rule_masks: vec![ALL_KINDS; rules],
            kinds: Vec::new(),
            signatures: None,
            signature_words: Vec::new(),
            categories: Vec::new(),
            unsigned: ALL_KINDS,
            keep,
            same_tenant: None,
            deferred: Vec::new(),
            kind_shares: None,
        };
        p.choose(None);
        p
    }

    /// Picks each rule's trigger clauses (the rarest, by `freq` when known) and builds the
    /// scanner for their literals.
    fn choose(&mut self, freq: Option<&[f64]>) {
        let n = self.literal_text.len();
        let text = &self.literal_text;
        // Per set of log kinds rules are routed to: the literals' shares among the sampled
        // records of those kinds (a literal rare overall may be in most records of a rule's own
        // kinds), where each kind was sampled enough; else the shares among all records.
        let mut by_mask: std::collections::HashMap<u64, Option<Vec<f64>>> = Default::default();
        let per_rule: Vec<Option<&[f64]>> = {
            if let (Some(_), Some(k)) = (freq, &self.kind_shares) {
                for &m in &self.rule_masks {
                    if m != ALL_KINDS {
                        by_mask.entry(m).or_insert_with(|| k.shares(m, n));
                    }
                }
            }
            self.rule_masks
                .iter()
                .map(|m| match by_mask.get(m) {
                    Some(Some(v)) => Some(v.as_slice()),
                    _ => freq,
                })
                .collect()
        };
        self.trigger = self
            .clauses
            .iter()
            .zip(&per_rule)
            .map(|(cs, &freq)| {
                // The rarest clause, but among clauses about as rare (to the percent) the one
                // of fewest literals: every literal scanned for costs on every record, a
                // trigger found in one record more in a thousand costs a few checks there.
                let best = |csv: bool| {
                    cs.iter()
                        .enumerate()
                        .filter(|(_, (_, keys))| !(csv && *keys))
                        .min_by_key(|(_, (c, _))| {
                            let (share, short, n) = clause_cost(c, freq, text);
                            (share / TRIGGER_SHARE_STEP, n, short, share)
                        })
                        .map(|(i, _)| i)
                };
                (best(false), best(true))
            })
            .collect();
        self.checks = self
            .clauses
            .iter()
            .zip(&self.trigger)
            .zip(&per_rule)
            .map(|((cs, (tj, tc)), &freq)| {
                let order = |csv: bool, trig: &Option<usize>| {
                    let mut v: Vec<(u64, usize, usize, usize)> = cs
                        .iter()
                        .enumerate()
                        .filter(|(i, (_, keys))| Some(*i) != *trig && !(csv && *keys))
                        .map(|(i, (c, _))| {
                            let (share, short, n) = clause_cost(c, freq, text);
                            (share, short, n, i)
                        })
                        .filter(|(share, ..)| *share < USELESS_CHECK)
                        .collect();
                    v.sort_unstable();
                    v.into_iter().map(|x| x.3).collect::<Vec<usize>>()
                };
                (order(false, tj), order(true, tc))
            })
            .collect();
        let mut trig_json = vec![Vec::new(); n];
        let mut trig_csv = vec![Vec::new(); n];
        for (r, (j, c)) in self.trigger.iter().enumerate() {
            for (which, slot) in [(j, &mut trig_json), (c, &mut trig_csv)] {
                if let Some(i) = which {
                    for &l in &self.clauses[r][*i].0 {
                        slot[l as usize].push(r as u32);
                    }
                }
            }
        }
        self.trig_json = trig_json;
        self.trig_csv = trig_csv;
        self.plans = Default::default();
        self.guards = Default::default();
        self.full = (
            Arc::new(self.build_plan(ALL_KINDS, false)),
            Arc::new(self.build_plan(ALL_KINDS, true)),
        );
    }

    /// The search plan for the rules of the kinds in `mask`.
    fn build_plan(&self, mask: u64, csv: bool) -> Plan {
        let n = self.literal_text.len();
        let mut scanned = vec![false; n];
        // Shares per kind are of JSON text (CSV sample lines do not show their kind).
        let shares = self
            .kind_shares
            .as_ref()
            .filter(|_| !csv && mask != ALL_KINDS);
        let ubiquitous = |lits: &[u32]| shares.is_some_and(|k| k.ubiquitous(mask, lits));
        let keep_all = ubiquitous(&self.keep);
        if !keep_all {
            for &k in &self.keep {
                scanned[k as usize] = true;
            }
        }
        let mut always = Vec::new();
        let mut always_checked = Vec::new();
        for (r, (j, c)) in self.trigger.iter().enumerate() {
            if mask != ALL_KINDS && self.rule_masks.get(r).is_some_and(|m| m & mask == 0) {
                continue;
            }
            if let Some(i) = if csv { c } else { j } {
                let lits = &self.clauses[r][*i].0;
                // Only rules with no other clause to check: they would pass every such record
                // (but for their key/value conditions, looked up without the scan).
                let unchecked = self.checks.get(r).is_none_or(|(json, _)| json.is_empty());
                let pairs = self.pairs.get(r).map_or(&[][..], Vec::as_slice);
                if unchecked && ubiquitous(lits) {
                    if pairs.is_empty() {
                        always.push(r as u32);
                        continue;
                    }
                    if pairs.iter().all(Pair::non_empty_only) {
                        always_checked.push(r as u32);
                        continue;
                    }
                }
                for &l in lits {
                    scanned[l as usize] = true;
                }
            }
        }
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        for (l, on) in scanned.iter().enumerate() {
            if *on {
                pats.push(self.literal_text[l].as_bytes().to_vec());
                ids.push(l as u32);
            }
        }
        let scanner = self.scanner_for(&pats).map(|s| s.with_ids(ids));
        Plan {
            scanner,
            scanned,
            always,
            always_checked,
            keep_all,
        }
    }

    /// A scanner for `pats`, through the pieces of them rarest in the data once that is
    /// measured ([`RawPrefilter::tune`]).
    fn scanner_for(&self, pats: &[Vec<u8>]) -> Option<LiteralScanner> {
        if pats.is_empty() {
            return None;
        }
        match &self.anchor_counts {
            Some(counts) => {
                // An anchor found is checked against its literal; a fingerprint hit (the
                // searchers look at the first four bytes) against the anchor.
                let rarity = |x: &[u8]| {
                    let whole = counts.0.get(x).copied().unwrap_or(0);
                    let head = match x {
                        [a, b, c, d, ..] => counts.1.get(&[*a, *b, *c, *d]).copied().unwrap_or(0),
                        _ => 0,
                    };
                    4 * whole + head
                };
                LiteralScanner::anchored(pats, &rarity)
            }
            None => LiteralScanner::new(pats),
        }
    }

    /// The plan for `mask` (built once, then shared by every thread).
    fn plan(&self, mask: u64, csv: bool) -> Arc<Plan> {
        let all = self.rule_masks.iter().fold(0, |a, m| a | m);
        if mask == ALL_KINDS || (mask & all == all && !self.rule_masks.contains(&0)) {
            return if csv {
                self.full.1.clone()
            } else {
                self.full.0.clone()
            };
        }
        if let Ok(cache) = self.plans.read()
            && let Some(p) = cache.get(&(mask, csv))
        {
            return p.clone();
        }
        let plan = Arc::new(self.build_plan(mask, csv));
        if let Ok(mut cache) = self.plans.write() {
            cache.entry((mask, csv)).or_insert_with(|| plan.clone());
        }
        plan
    }

    /// Re-picks each rule's trigger clause from literal frequencies measured on `sample` (texts
    /// of the data about to be read): the clause least often present is looked up, the others
    /// are checked only for rules it lets through. Changes speed only, never the verdicts'
    /// soundness.
    pub fn tune(&mut self, sample: &[&[u8]]) {
        if sample.is_empty() || self.literal_text.is_empty() {
            return;
        }
        let pats: Vec<Vec<u8>> = self
            .literal_text
            .iter()
            .map(|t| t.as_bytes().to_vec())
            .collect();
        let Some(all) = LiteralScanner::automaton(&pats) else {
            return;
        };
        let mut count = vec![0u64; pats.len()];
        let mut seen = vec![false; pats.len()];
        let mut touched = Vec::new();
        let mut lower = Vec::new();
        let mut shares = KindShares {
            records: vec![0; self.kinds.len()],
            holding: vec![vec![0; pats.len()]; self.kinds.len()],
        };
        // Consecutive sample lines are mostly of one input, hence of one kind.
        let mut predicted = None;
        for (t, text) in sample.iter().enumerate() {
            all.scan(text, &mut lower, &mut |i| {
                if !std::mem::replace(&mut seen[i as usize], true) {
                    touched.push(i);
                }
                true
            });
            // The record's kind, when its text shows exactly one (of every few records: shares
            // need no more).
            let kinds = if self.signatures.is_some() && t % KIND_SAMPLE_STEP == 0 {
                self.possible_kinds(&lower, &mut predicted) & !self.unsigned
            } else {
                0
            };
            let kind = (kinds.count_ones() == 1).then(|| kinds.trailing_zeros() as usize);
            if let Some(b) = kind.filter(|&b| b < shares.records.len()) {
                shares.records[b] += 1;
            }
            for &i in &touched {
                count[i as usize] += 1;
                seen[i as usize] = false;
                if let Some(b) = kind
                    && let Some(h) = shares.holding.get_mut(b)
                {
                    h[i as usize] += 1;
                }
            }
            touched.clear();
        }
        self.kind_shares = Some(shares);
        let freq: Vec<f64> = count
            .iter()
            .map(|&c| c as f64 / sample.len() as f64)
            .collect();
        // How often each possible anchor (and its first four bytes, what the searchers'
        // fingerprints look at) occurs in the sample.
        let mut windows: std::collections::BTreeSet<&[u8]> = Default::default();
        for t in self
            .literal_text
            .iter()
            .map(|t| t.as_bytes())
            .chain(self.signature_words.iter().map(Vec::as_slice))
        {
            if t.len() > crate::scan::ANCHOR {
                for len in crate::scan::anchor_lengths(t.len()) {
                    windows.extend(t.windows(len));
                }
            }
        }
        let windows: Vec<&[u8]> = windows.into_iter().collect();
        // Counted on an even spread of the sample's records, up to WINDOW_SAMPLE_BYTES: enough to
        // rank anchors by rarity, at a fraction of the cost of every sampled byte.
        let total: usize = sample.iter().map(|t| t.len()).sum();
        let step = total.div_ceil(WINDOW_SAMPLE_BYTES).max(1);
        let spread: Vec<&[u8]> = sample.iter().step_by(step).copied().collect();
        let (n, fours) = count_windows(&spread, &windows);
        let counts = windows.into_iter().map(<[u8]>::to_vec).zip(n).collect();
        self.anchor_counts = Some(Arc::new((counts, fours)));
        // Signature words too are searched through rare anchors (most start with a quote,
        // the commonest byte of JSON text).
        if let Some((_, alternatives)) = self.signatures.take() {
            self.signatures = self
                .scanner_for(&self.signature_words)
                .map(|s| (s, alternatives));
        }
        self.choose(Some(&freq));
    }

    /// What the prefilter requires of rule `r`'s records, in words (for diagnostics).
    pub fn describe(&self, r: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (c, keys)) in self.clauses.get(r).into_iter().flatten().enumerate() {
            let lits: Vec<&str> = c
                .iter()
                .map(|&l| self.literal_text[l as usize].as_str())
                .collect();
            let trig = self.trigger.get(r).is_some_and(|t| t.0 == Some(i));
            out.push(format!(
                "{}{} one of {:?}",
                if *keys { "key " } else { "value " },
                if trig { "(trigger)" } else { "" },
                lits
            ));
        }
        for p in self.pairs.get(r).into_iter().flatten() {
            out.push(format!(
                "pair: {} keys, {} values",
                p.keys.len(),
                p.values.len()
            ));
        }
        out
    }

    /// Rules that are candidates for every record.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// True when the SIMD literal search is used (else one automaton).
    pub fn is_simd(&self) -> bool {
        self.full
            .0
            .scanner
            .as_ref()
            .is_some_and(LiteralScanner::is_packed)
    }

    /// Number of distinct literals known.
    pub fn literal_count(&self) -> usize {
        self.literal_text.len()
    }

    /// Number of literals the scanner looks for (the trigger clauses' and `keep`).
    pub fn scanned_count(&self) -> usize {
        self.full.0.scanned.iter().filter(|x| **x).count()
    }

    /// The literals known, with whether each is scanned for.
    pub fn literals(&self) -> impl Iterator<Item = (&str, bool)> {
        self.literal_text
            .iter()
            .zip(&self.full.0.scanned)
            .map(|(t, s)| (t.as_str(), *s))
    }

    /// The candidate rules of a record's raw bytes; `spells_keys` is true for JSON text (field
    /// names written out in the record), false for a CSV row. A record holding a `keep` literal
    /// (or any CSV row, when there are such literals) is not skipped, even with no rule.
    pub fn verdict(&self, raw: &[u8], spells_keys: bool, s: &mut PrefilterScratch) -> Verdict {
        self.verdict_of(raw, spells_keys, KindFilter::None, s)
    }

    /// Like [`RawPrefilter::verdict`], for a record as the reader hands it: when the rules'
    /// log kinds are known ([`RawPrefilter::route`]), a rule is only a candidate for a record of
    /// its kinds (the record's format when known, else the kind's signature words in its text,
    /// `tw_ingest::classify::kind_signature`).
    pub fn verdict_record(
        &self,
        raw: &tw_ingest::RawRecord<'_>,
        s: &mut PrefilterScratch,
    ) -> Verdict {
        let filter = if self.kinds.is_empty() {
            KindFilter::None
        } else if let Some(f) = raw.format {
            KindFilter::Known(f.log_kind())
        } else if raw.spells_keys && !raw.falls_back {
            KindFilter::Signatures
        } else {
            KindFilter::None
        };
        self.verdict_of(raw.bytes, raw.spells_keys, filter, s)
    }

    /// Routes rule `i` to `routes[i]` (log kinds), for [`RawPrefilter::verdict_record`].
    pub fn route(&mut self, routes: Vec<Vec<LogKind>>) {
        let kinds: Vec<LogKind> = routes
            .iter()
            .flatten()
            .copied()
            .collect::<std::collections::BTreeSet<LogKind>>()
            .into_iter()
            .collect();
        if kinds.len() > 63 {
            return;
        }
        let bit = |k: &LogKind| kinds.iter().position(|x| x == k).map_or(0, |i| 1u64 << i);
        self.rule_masks = routes
            .iter()
            .map(|ks| ks.iter().fold(0, |m, k| m | bit(k)))
            .collect();
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut alternatives: Vec<(u64, Vec<u32>)> = Vec::new();
        self.unsigned = 0;
        for k in &kinds {
            match tw_ingest::classify::kind_signature(*k) {
                Some(alts) => {
                    for all in alts {
                        let ids = all
                            .iter()
                            .map(|w| match words.iter().position(|x| x == w.as_bytes()) {
                                Some(i) => i as u32,
                                None => {
                                    words.push(w.as_bytes().to_vec());
                                    (words.len() - 1) as u32
                                }
                            })
                            .collect();
                        alternatives.push((bit(k), ids));
                    }
                }
                None => self.unsigned |= bit(k),
            }
        }
        self.categories = kinds
            .iter()
            .map(|k| (bit(k), tw_ingest::classify::kind_categories(*k)))
            .filter(|(_, c)| !c.is_empty())
            .map(|(b, c)| (b, c.iter().map(|v| v.as_bytes().to_vec()).collect()))
            .collect();
        self.signatures = self.scanner_for(&words).map(|s| (s, alternatives));
        self.signature_words = words;
        self.kinds = kinds;
        let freq = None;
        self.choose(freq);
    }

    /// A record kept only for its `keep` literals, that is certainly of log kind `kind` and whose
    /// `home_key` and `tenant_key` (top-level keys its kind's canonical home and resource tenant
    /// are read from) hold one and the same value, is skipped after all: its actor acts in their
    /// own tenant.
    pub fn keep_unless_same(&mut self, kind: LogKind, home_key: &str, tenant_key: &str) {
        let f = |k: &str| key_finder(&k.to_ascii_lowercase());
        self.same_tenant = Some(SameTenant {
            kind,
            home: f(home_key),
            tenant: f(tenant_key),
        });
    }

    /// Rule `rule` is a candidate only for JSON records in which a key named one of `keys`
    /// (lowercase) holds something other than an empty string: for a caller that drops the
    /// rule's matches whose field read from those keys is empty (first-seen rules do, for their
    /// entity and value). Every occurrence of the keys counts, at any depth, so the field's own
    /// value is among them; objects, arrays, `null` and escaped text pass.
    pub fn require_value(&mut self, rule: usize, keys: &[String]) {
        if keys.is_empty() || rule >= self.pairs.len() {
            return;
        }
        let mut key_ids = Vec::with_capacity(keys.len());
        for k in keys {
            // A key another condition looks at already: its values are found once per record.
            let known = self
                .pairs
                .iter()
                .flatten()
                .flat_map(|p| p.keys.iter().zip(&p.key_ids))
                .find(|((f, _), _)| f.needle() == k.as_bytes())
                .map(|(_, &id)| id);
            key_ids.push(known.unwrap_or_else(|| {
                self.pair_keys += 1;
                // A key the scan looks for anyway: its occurrences are taken from the scan.
                self.pair_key_literal
                    .push(self.literal_text.binary_search(k).ok().map(|i| i as u32));
                (self.pair_keys - 1) as u32
            }));
        }
        self.pairs[rule].push(Pair {
            keys: keys.iter().map(|k| key_finder(k)).collect(),
            key_ids,
            values: vec![PairValue::NonEmpty],
        });
        self.choose(None);
    }

    /// A record of the kind given to [`RawPrefilter::keep_unless_same`] whose candidate rules are
    /// all among `rules`, and whose two keys hold one and the same tenant, gets
    /// [`Verdict::Defer`] with that tenant instead of its rules: rules that only need the
    /// records of some tenants, known once everything is read.
    pub fn defer_same_tenant(&mut self, mut rules: Vec<u32>) {
        rules.sort_unstable();
        rules.dedup();
        self.deferred = rules;
    }

    /// The log kinds a lowercased JSON text may be of, by their signature words.
    ///
    /// `predicted` is the kinds found for an earlier record (most records are of the kinds of the
    /// one before): only the other kinds' words are looked for, and when none of those kinds
    /// shows, the record is taken to be of the predicted kinds (a superset of its own, so no rule
    /// it could match is left out). Otherwise, and with no prediction, every word is looked for;
    /// `predicted` becomes what was found if that is one kind.
    fn possible_kinds(&self, lower: &[u8], predicted: &mut Option<u64>) -> u64 {
        let Some((scanner, alternatives)) = &self.signatures else {
            return ALL_KINDS;
        };
        let shows = |scanner: &LiteralScanner, skip: u64| {
            let mut found: u64 = 0;
            let mut many = false;
            scanner.scan_lowered(lower, &mut |w| {
                if w < 64 {
                    found |= 1 << w;
                } else {
                    many = true;
                }
                true
            });
            if many {
                return ALL_KINDS;
            }
            let mut mask = 0;
            for (kind, all) in alternatives {
                if kind & skip == 0 && all.iter().all(|&w| w < 64 && found & (1 << w) != 0) {
                    mask |= kind;
                }
            }
            mask
        };
        if let Some(p) = *predicted {
            let others = match self.guard(p).as_ref() {
                Some(g) => shows(g, p),
                None => 0,
            } | self.category_kinds(lower, p);
            if others == 0 {
                return p;
            }
        }
        let mask = self.unsigned | shows(scanner, 0) | self.category_kinds(lower, 0);
        // Only a record of one kind predicts: the prediction is then never wider than needed.
        *predicted = ((mask & !self.unsigned).count_ones() == 1).then_some(mask);
        mask
    }

    /// The kinds not in `skip` that a lowercased JSON text may be of by a `category` key's value
    /// ([`tw_ingest::classify::kind_categories`]).
    fn category_kinds(&self, lower: &[u8], skip: u64) -> u64 {
        let wanted = self
            .categories
            .iter()
            .filter(|(k, _)| k & skip == 0)
            .fold(0, |m, (k, _)| m | k);
        if wanted == 0 {
            return 0;
        }
        let mut mask = 0;
        key_values(
            lower,
            &CATEGORY_KEY,
            CATEGORY_KEY.needle().len(),
            &mut |v| {
                if let KeyValue::Text(t) = v {
                    let t = t.trim_ascii();
                    for (k, values) in &self.categories {
                        // An escape may spell any value.
                        if k & wanted != 0 && (t.contains(&b'\\') || values.iter().any(|x| x == t))
                        {
                            mask |= k;
                        }
                    }
                }
                mask == wanted
            },
        );
        mask
    }

    /// The scanner of the signature words of the kinds not in `predicted` (built once per set
    /// of kinds, then shared by every thread); `None` when there are none.
    fn guard(&self, predicted: u64) -> Arc<Option<LiteralScanner>> {
        if let Ok(cache) = self.guards.read()
            && let Some(g) = cache.get(&predicted)
        {
            return g.clone();
        }
        let mut ids: Vec<u32> = Vec::new();
        if let Some((_, alternatives)) = &self.signatures {
            for (kind, words) in alternatives {
                if kind & predicted == 0 {
                    ids.extend(words);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let words: Vec<Vec<u8>> = ids
            .iter()
            .filter_map(|&w| self.signature_words.get(w as usize).cloned())
            .collect();
        let g = Arc::new(self.scanner_for(&words).map(|s| s.with_ids(ids)));
        if let Ok(mut cache) = self.guards.write() {
            cache.entry(predicted).or_insert_with(|| g.clone());
        }
        g
    }

    fn verdict_of(
        &self,
        raw: &[u8],
        spells_keys: bool,
        filter: KindFilter,
        s: &mut PrefilterScratch,
    ) -> Verdict {
        if has_hazard(raw) {
            return Verdict::All;
        }
        let n = self.literal_text.len();
        if s.state.len() != n {
            s.state = vec![0; n];
            s.touched.clear();
        }
        if s.rule_seen.len() != self.clauses.len() {
            s.rule_seen = vec![false; self.clauses.len()];
            s.seen_list.clear();
        }
        for &l in &s.touched {
            s.state[l as usize] = 0;
        }
        s.touched.clear();
        if s.key_values.len() != self.pair_keys {
            s.key_values = vec![(false, Vec::new()); self.pair_keys];
            s.keys_touched.clear();
        }
        for &k in &s.keys_touched {
            if let Some(e) = s.key_values.get_mut(k as usize) {
                e.0 = false;
                e.1.clear();
            }
        }
        s.keys_touched.clear();
        crate::scan::lowercase_into(raw, &mut s.lower);
        // The log kinds the record may be of, and the literals of their rules' triggers.
        let mask = match filter {
            KindFilter::None => ALL_KINDS,
            KindFilter::Known(k) => self
                .kinds
                .iter()
                .position(|x| *x == k)
                .map_or(0, |i| 1u64 << i),
            KindFilter::Signatures => self.possible_kinds(&s.lower, &mut s.predicted),
        };
        let plan = self.plan(mask, !spells_keys);
        s.found_at.clear();
        if let Some(scanner) = &plan.scanner {
            let (state, touched, found_at) = (&mut s.state, &mut s.touched, &mut s.found_at);
            scanner.scan_lowered_at(&s.lower, &mut |p, at| {
                found_at.push((p, at as u32));
                if state[p as usize] == 0 {
                    state[p as usize] = 1;
                    touched.push(p);
                }
                true
            });
        }
        // Every kind (no routing known, or generic mode): every rule.
        let in_kinds = |r: u32| {
            mask == ALL_KINDS
                || self
                    .rule_masks
                    .get(r as usize)
                    .is_none_or(|m| m & mask != 0)
        };
        s.rules.clear();
        s.rules
            .extend(self.always.iter().copied().filter(|&r| in_kinds(r)));
        if !spells_keys {
            s.rules
                .extend(self.always_csv.iter().copied().filter(|&r| in_kinds(r)));
        }
        let trig = if spells_keys {
            &self.trig_json
        } else {
            &self.trig_csv
        };
        // Literals the scan found; `holds` may append looked-up ones after them.
        let found = s.touched.len();
        for f in 0..found {
            let l = s.touched[f];
            for &r in &trig[l as usize] {
                if !in_kinds(r) || std::mem::replace(&mut s.rule_seen[r as usize], true) {
                    continue;
                }
                s.seen_list.push(r);
                if self.passes_checks(r, spells_keys, s, &plan) {
                    s.rules.push(r);
                }
            }
        }
        // Rules whose only clause is in nearly every record of these kinds.
        s.rules.extend_from_slice(&plan.always);
        for &r in &plan.always_checked {
            if in_kinds(r) && self.passes_checks(r, spells_keys, s, &plan) {
                s.rules.push(r);
            }
        }
        for r in s.seen_list.drain(..) {
            s.rule_seen[r as usize] = false;
        }
        let mut kept = !self.keep.is_empty()
            && (!spells_keys
                || plan.keep_all
                || self.keep.iter().any(|&k| s.state[k as usize] == 1));
        if !s.rules.is_empty()
            && !self.deferred.is_empty()
            && s.rules
                .iter()
                .all(|r| self.deferred.binary_search(r).is_ok())
            && let Some(t) = self.own_tenant(&s.lower, mask, spells_keys)
        {
            return Verdict::Defer(String::from_utf8_lossy(t).into_owned());
        }
        if kept && s.rules.is_empty() && self.own_tenant(&s.lower, mask, spells_keys).is_some() {
            kept = false;
        }
        if s.rules.is_empty() && !kept {
            Verdict::Skip
        } else {
            s.rules.sort_unstable();
            s.rules.dedup();
            Verdict::Rules(s.rules.clone())
        }
    }

    /// The actor's own tenant, when the lowercased JSON text is certainly of the kind given to
    /// [`RawPrefilter::keep_unless_same`] (`mask` is that kind alone) and its two keys hold one
    /// and the same value.
    fn own_tenant<'a>(&self, lower: &'a [u8], mask: u64, spells_keys: bool) -> Option<&'a [u8]> {
        let st = self.same_tenant.as_ref()?;
        let i = self.kinds.iter().position(|k| *k == st.kind)?;
        if !spells_keys || mask != 1u64 << i {
            return None;
        }
        let h = single_value(lower, &st.home.0, st.home.1)?;
        let t = single_value(lower, &st.tenant.0, st.tenant.1)?;
        (h.trim_ascii() == t.trim_ascii()).then(|| t.trim_ascii())
    }

    /// Whether pair `p` holds in the scratch's lowercased text (each key's values are looked
    /// up once per record, whatever the number of rules asking).
    fn pair_holds(&self, p: &Pair, s: &mut PrefilterScratch, plan: &Plan) -> bool {
        for ((finder, len), &id) in p.keys.iter().zip(&p.key_ids) {
            let Some(entry) = s.key_values.get_mut(id as usize) else {
                return true;
            };
            if !entry.0 {
                entry.0 = true;
                s.keys_touched.push(id);
                match self.pair_key_literal.get(id as usize).copied().flatten() {
                    // The scan looked for this key's name: its occurrences are known.
                    Some(l) if plan.scanned.get(l as usize) == Some(&true) => {
                        let base = s.lower.as_ptr() as usize;
                        for &(_, at) in s.found_at.iter().filter(|(x, _)| *x == l) {
                            if let Some(v) = value_at(&s.lower, at as usize, *len) {
                                entry.1.push(Region::of(v, base));
                            }
                        }
                    }
                    _ => values_of_key(&s.lower, finder, *len, &mut entry.1),
                }
            }
            if p.holds_in(&s.lower, &entry.1) {
                return true;
            }
        }
        false
    }

    /// Whether the record in the scratch passes rule `r`'s checks: its key/value conditions
    /// (JSON text), then its other clauses, rarest first.
    fn passes_checks(
        &self,
        r: u32,
        spells_keys: bool,
        s: &mut PrefilterScratch,
        plan: &Plan,
    ) -> bool {
        // Key/value conditions first: they are the most selective, and each key's values are
        // looked up once per record.
        let checks: &[usize] = match self.checks.get(r as usize) {
            Some((json, csv)) => {
                if spells_keys {
                    json
                } else {
                    csv
                }
            }
            None => &[],
        };
        let clauses = &self.clauses[r as usize];
        (!spells_keys
            || self.pairs[r as usize]
                .iter()
                .all(|p| self.pair_holds(p, s, plan)))
            && checks
                .iter()
                .all(|&i| clauses[i].0.iter().any(|&x| self.holds(x, s, plan)))
    }

    /// Whether literal `l` is in the scratch's lowercased text (found by the scan, or looked up
    /// once and remembered).
    fn holds(&self, l: u32, s: &mut PrefilterScratch, plan: &Plan) -> bool {
        let i = l as usize;
        match s.state[i] {
            1 => true,
            2 => false,
            _ if plan.scanned[i] => false,
            _ => {
                let hit = self.finders[i].find(&s.lower).is_some();
                s.state[i] = if hit { 1 } else { 2 };
                s.touched.push(l);
                hit
            }
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
        assert_eq!(raw_literal("/me/messages").as_deref(), Some("/me/messages"));
        assert_eq!(raw_literal("50126"), None);
        assert_eq!(raw_literal("1e3"), None);
        assert_eq!(raw_literal("a-b"), None);
        assert_eq!(raw_literal("süßes"), None);
    }

    #[test]
    fn a_long_value_gives_a_bounded_literal() {
        let long = "a".repeat(40_000);
        assert_eq!(raw_literal(&long), Some("a".repeat(MAX_LITERAL)));
        let s = set(&format!(
            "title: long\nlogsource: {{product: azure}}\ndetection:\n  sel: {{OperationName|contains: 'x-{long}'}}\n  condition: sel\n"
        ));
        let all = |_: &FieldRef| true;
        let p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
        assert!(p.literal_count() > 0, "{:?}", p.describe(0));
        for (lit, _) in p.literals() {
            assert!(lit.len() <= MAX_LITERAL, "{} bytes", lit.len());
        }
        let mut seen = PrefilterScratch::default();
        let text = format!(r#"{{"OperationName":"x-{long}"}}"#);
        assert_ne!(p.verdict(text.as_bytes(), true, &mut seen), Verdict::Skip);
        let short = format!(r#"{{"OperationName":"{}"}}"#, "b".repeat(200));
        assert_eq!(p.verdict(short.as_bytes(), true, &mut seen), Verdict::Skip);
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
        let p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
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
        // An escaped solidus may hide a literal holding `/`.
        assert_eq!(
            p.verdict(
                br#"{"operationName":"Add owner to\/application"}"#,
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
        let p = RawPrefilter::new(&s, &no_tw, &|_, _| None, &[]);
        assert_eq!(p.always(), &[1, 2]);
        let s = set(
            "title: a\nlogsource: {product: azure}\ndetection:\n  sel: {operationName: 'Add owner to application', ResultType: 50126}\n  condition: sel\n",
        );
        let p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
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

    #[test]
    fn window_counts_match_a_naive_count() {
        let texts: [&[u8]; 3] = [
            b"{\"ResultType\":\"50126\",\"resultDescription\":\"Invalid\"}",
            b"resulttyperesulttype RESULTTYPE resu",
            b"",
        ];
        let windows: [&[u8]; 5] = [b"resulttype", b"result", b"ulttyp", b"esul", b"nowhere"];
        let (n, fours) = count_windows(&texts, &windows);
        for (w, got) in windows.iter().zip(&n) {
            let naive: usize = texts
                .iter()
                .map(|t| {
                    let t = t.to_ascii_lowercase();
                    t.windows(w.len()).filter(|x| x == w).count()
                })
                .sum();
            assert_eq!(*got, naive as u64, "{}", String::from_utf8_lossy(w));
        }
        assert_eq!(fours.get(b"resu"), Some(&6));
        assert_eq!(fours.get(b"ultt"), Some(&4));
    }

    /// The prefilter of the rules in `yaml`, each field read from a key of its own name, the
    /// rules routed to `routes`.
    fn keyed_prefilter(yaml: &str, routes: Vec<Vec<LogKind>>) -> RawPrefilter {
        let s = set(yaml);
        let all = |_: &FieldRef| true;
        let keys = |_: usize, f: &FieldRef| Some(vec![f.name().to_lowercase()]);
        let mut p = RawPrefilter::new(&s, &all, &keys, &[]);
        p.route(routes);
        p
    }

    /// The bit of `kind` in the prefilter's kind masks.
    fn kind_bit(p: &RawPrefilter, kind: LogKind) -> u64 {
        1u64 << p.kinds.iter().position(|k| *k == kind).expect("kind")
    }

    /// A JSON record of the test's text.
    fn record(b: &[u8]) -> tw_ingest::RawRecord<'_> {
        tw_ingest::RawRecord {
            bytes: b,
            spells_keys: true,
            format: None,
            falls_back: false,
            source: "test.json",
            record: 0,
        }
    }

    #[test]
    fn tuned_per_kind_the_prefilter_still_hides_no_match() {
        // Sign-ins built from varied parts (case, escapes, numbers written several ways); the
        // prefilter is routed and tuned on the first of them, so that its per-kind choices
        // (keys every sign-in spells, triggers rare among sign-ins) are in play.
        let s = set(
            "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {userAgent|exists: true}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'mailbox', Details|contains: ['forwardingsmtp', 'redirectto']}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {status.errorCode: 50126}\n  condition: sel\n---\ntitle: d\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {appDisplayName|startswith: 'Azure', tokenIssuerType: 'AzureAD'}\n  condition: sel\n---\ntitle: e\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
        );
        let all = |_: &FieldRef| true;
        let keys = |_: usize, f: &FieldRef| {
            let leaf = f.name().rsplit('.').next()?;
            Some(vec![raw_literal(&leaf.to_lowercase())?])
        };
        let mut p = RawPrefilter::new(&s, &all, &keys, &[]);
        let signin = vec![LogKind::Signin];
        p.route(vec![
            signin.clone(),
            signin.clone(),
            signin.clone(),
            signin,
            vec![LogKind::DirectoryAudit],
        ]);
        let pick = |seed: &mut u64, n: usize| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) as usize % n
        };
        let mut seed = 11u64;
        let texts: Vec<String> = (0..3000)
            .map(|i| {
                let agent = ["", r#","userAgent":"Mozilla""#, r#","UserAgent":null"#, r#","useragent":"x""#];
                let result = ["mailbox full", "MAILBOX", "other", r#"\u006dailbox"#, "mail box"];
                let details = ["ForwardingSmtp on", "redirectTo x", "none", r#"Forwarding\u0053mtp"#];
                let code = ["50126", "50126.0", r#""50126""#, "0", "5.0126e4"];
                let app = ["Azure Portal", "azure CLI", "Office", r#"Azure\/Portal"#];
                let issuer = ["AzureAD", "azuread", "ADFederationServices"];
                format!(
                    r#"{{"createdDateTime":"2020-12-14T03:{i}Z"{},"ResultDescription":"{}","Details":"{}","status":{{"errorCode":{}}},"appDisplayName":"{}","tokenIssuerType":"{}"}}"#,
                    agent[pick(&mut seed, if i < 600 { 2 } else { 4 }) + usize::from(i < 600)],
                    result[pick(&mut seed, 5)],
                    details[pick(&mut seed, 4)],
                    code[pick(&mut seed, 5)],
                    app[pick(&mut seed, 4)],
                    issuer[pick(&mut seed, 3)],
                )
            })
            .collect();
        let sample: Vec<&[u8]> = texts[..600].iter().map(|t| t.as_bytes()).collect();
        p.tune(&sample);
        let signin_mask = kind_bit(&p, LogKind::Signin);
        // The sample makes the userAgent key a clause of every sign-in: rule a is not looked up.
        assert_eq!(p.plan(signin_mask, false).always, vec![0]);
        let mut scratch = PrefilterScratch::default();
        let mut matched_any = [false; 4];
        for t in &texts {
            let Ok(doc) = serde_json::from_str::<serde_json::Value>(t) else {
                continue;
            };
            let verdict = p.verdict_record(&record(t.as_bytes()), &mut scratch);
            for m in s.matches_unindexed(&doc) {
                if m.rule >= 4 {
                    continue;
                }
                matched_any[m.rule] = true;
                let ok = match &verdict {
                    Verdict::All => true,
                    Verdict::Rules(c) => c.contains(&(m.rule as u32)),
                    _ => false,
                };
                assert!(
                    ok,
                    "rule {} matched {t} but the verdict is {verdict:?}",
                    m.rule
                );
            }
        }
        // Every rule matched somewhere, or this test would prove little.
        assert_eq!(matched_any, [true; 4]);
    }

    #[test]
    fn triggers_are_chosen_by_their_share_of_the_rules_own_log_kinds() {
        // "mailbox" is in every sign-in but rare overall (audit records outnumber sign-ins):
        // among sign-ins, the other clause is the rare one.
        let s = set(
            "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'mailbox', Details|contains: ['forwardingsmtp', 'redirectto']}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
        );
        let all = |_: &FieldRef| true;
        let mut p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
        p.route(vec![vec![LogKind::Signin], vec![LogKind::DirectoryAudit]]);
        let signins: Vec<String> = (0..400)
            .map(|i| format!(r#"{{"createdDateTime":"2020-12-14T03:12:{i}Z","ResultDescription":"mailbox {i}","status":{{}}}}"#))
            .collect();
        let audits: Vec<String> = (0..60_000)
            .map(|i| {
                format!(r#"{{"activityDateTime":"x","activityDisplayName":"Update user {i}"}}"#)
            })
            .collect();
        let sample = |signins: &[String]| -> Vec<Vec<u8>> {
            signins
                .iter()
                .chain(&audits)
                .map(|t| t.as_bytes().to_vec())
                .collect()
        };
        let trigger = |p: &RawPrefilter| {
            p.describe(0)
                .into_iter()
                .find(|d| d.contains("(trigger)"))
                .unwrap_or_default()
        };
        // Too few sign-ins sampled for their own shares: the single-literal clause wins among
        // clauses under 1 % overall.
        let few = sample(&signins[..60]);
        p.tune(&few.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert!(trigger(&p).contains("mailbox"), "{:?}", p.describe(0));
        let enough = sample(&signins);
        p.tune(&enough.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert!(
            trigger(&p).contains("forwardingsmtp"),
            "{:?}",
            p.describe(0)
        );
        let mut scratch = PrefilterScratch::default();
        let plain: &[u8] = br#"{"createdDateTime":"x","ResultDescription":"mailbox","status":{}}"#;
        let forward: &[u8] = br#"{"createdDateTime":"x","ResultDescription":"mailbox","Details":"ForwardingSmtp x","status":{}}"#;
        assert_eq!(
            p.verdict_record(&record(plain), &mut scratch),
            Verdict::Skip
        );
        assert_eq!(
            p.verdict_record(&record(forward), &mut scratch),
            Verdict::Rules(vec![0])
        );
    }

    #[test]
    fn a_clause_in_every_sampled_record_of_a_kind_is_not_looked_up_there() {
        let mut p = keyed_prefilter(
            "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {tokenIssuerName|exists: true}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'Invalid password'}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
            vec![
                vec![LogKind::Signin],
                vec![LogKind::Signin],
                vec![LogKind::DirectoryAudit],
            ],
        );
        let lit = p
            .literal_text
            .iter()
            .position(|t| t == "tokenissuername")
            .expect("key literal") as u32;
        let signin = kind_bit(&p, LogKind::Signin);
        let texts: Vec<String> = (0..400)
            .map(|i| format!(r#"{{"createdDateTime":"2020-12-14T03:12:{i}Z","tokenIssuerName":"","ResultDescription":"ok","status":{{"failureReason":"ok"}}}}"#))
            .collect();
        let sample: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        let with: &[u8] = br#"{"createdDateTime":"x","tokenIssuerName":"sts","ResultDescription":"Invalid password","status":{}}"#;
        let without: &[u8] =
            br#"{"createdDateTime":"x","ResultDescription":"Invalid password","status":{}}"#;
        // Too few records of the kind in the sample: still looked up.
        p.tune(&sample[..40]);
        assert!(p.plan(signin, false).scanned[lit as usize]);
        let mut scratch = PrefilterScratch::default();
        assert_eq!(
            p.verdict_record(&record(without), &mut scratch),
            Verdict::Rules(vec![1])
        );
        p.tune(&sample);
        let plan = p.plan(signin, false);
        assert!(!plan.scanned[lit as usize]);
        assert_eq!(plan.always, vec![0]);
        // Rule b, whose literal is rare, is still looked up; rule a is a candidate throughout.
        assert_eq!(
            p.verdict_record(&record(with), &mut scratch),
            Verdict::Rules(vec![0, 1])
        );
        assert_eq!(
            p.verdict_record(&record(without), &mut scratch),
            Verdict::Rules(vec![0, 1])
        );
        // Not for CSV rows, whose sample lines show no kind.
        assert!(p.plan(signin, true).always.is_empty());
    }

    #[test]
    fn a_rule_requiring_a_value_is_no_candidate_where_every_such_value_is_empty() {
        // A rule of another kind, so that sign-ins get a plan of their own.
        let mut p = keyed_prefilter(
            "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {tokenIssuerName|exists: true}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {activityDisplayName: 'Consent to application'}\n  condition: sel\n",
            vec![vec![LogKind::Signin], vec![LogKind::DirectoryAudit]],
        );
        p.require_value(0, &["tokenissuername".to_string()]);
        // A key already looked at gets no second lookup.
        let keys = p.pair_keys;
        p.require_value(0, &["tokenissuername".to_string()]);
        assert_eq!(p.pair_keys, keys);
        let sign_in = |issuer: &str| {
            format!(
                r#"{{"createdDateTime":"2020-12-14T03:12:44Z","tokenIssuerName":{issuer},"ResultDescription":"ok","status":{{"failureReason":"ok"}}}}"#
            )
        };
        let check = |p: &RawPrefilter| {
            let mut scratch = PrefilterScratch::default();
            let mut verdict = |t: &str| p.verdict_record(&record(t.as_bytes()), &mut scratch);
            assert_eq!(verdict(&sign_in(r#""""#)), Verdict::Skip);
            assert_eq!(verdict(&sign_in(r#"  ""  "#)), Verdict::Skip);
            for kept in [
                r#""http://sts.contoso.com/adfs/services/trust""#,
                r#"" ""#,
                "null",
                "42",
                r#"{"name":""}"#,
                r#"[""]"#,
                r#""\"""#,
                // A JSON string holding JSON, as some exports nest records.
                r#""{\"a\":1}""#,
            ] {
                assert_eq!(verdict(&sign_in(kept)), Verdict::Rules(vec![0]), "{kept}");
            }
            // Another occurrence of the key with a value: the field's may be that one.
            let nested = r#"{"createdDateTime":"x","tokenIssuerName":"","details":{"tokenIssuerName":"sts"}}"#;
            assert_eq!(verdict(nested), Verdict::Rules(vec![0]));
            // Text that cannot be trusted: every rule.
            assert_eq!(verdict(&sign_in(r#""\u0041""#)), Verdict::All);
        };
        // Looked up through the scan (the key is the rule's trigger), then, tuned on sign-ins
        // that all spell the key, without it.
        check(&p);
        let texts: Vec<String> = (0..400).map(|_| sign_in(r#""""#)).collect();
        let sample: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        p.tune(&sample);
        let signin = kind_bit(&p, LogKind::Signin);
        let plan = p.plan(signin, false);
        assert!(plan.always.is_empty());
        assert_eq!(plan.always_checked, vec![0]);
        check(&p);
    }

    #[test]
    fn kinds_predicted_from_the_record_before_are_checked() {
        let s = set(
            "title: a\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {ResultDescription|contains: 'Invalid password'}\n  condition: sel\n---\ntitle: b\nlogsource: {product: azure, service: auditlogs}\ndetection:\n  sel: {ActivityDisplayName|contains: 'Invalid password'}\n  condition: sel\n---\ntitle: c\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  sel: {OperationNameValue|contains: 'Invalid password'}\n  condition: sel\n",
        );
        let all = |_: &FieldRef| true;
        let mut p = RawPrefilter::new(&s, &all, &|_, _| None, &[]);
        p.route(vec![
            vec![LogKind::Signin],
            vec![LogKind::DirectoryAudit],
            vec![LogKind::AzureActivity],
        ]);
        let signin: &[u8] = br#"{"createdDateTime":"2020-12-14T03:12:44Z","status":{"failureReason":"Invalid password"}}"#;
        let audit: &[u8] = br#"{"activityDateTime":"2020-12-14T03:12:44Z","activityDisplayName":"Invalid password reset"}"#;
        let both: &[u8] = br#"{"createdDateTime":"x","activityDisplayName":"Invalid password","targetResources":[]}"#;
        // Azure Monitor's activity log: known by its category's value.
        let activity: &[u8] =
            br#"{"time":"x","category" : "Administrative","operationName":"Invalid password"}"#;
        let sample: Vec<&[u8]> = vec![signin, audit, activity];
        for tuned in [false, true] {
            if tuned {
                p.tune(&sample);
            }
            let mut seen = PrefilterScratch::default();
            for order in [
                [signin, audit, signin, both, activity],
                [audit, signin, both, audit, activity],
                [activity, signin, activity, audit, activity],
            ] {
                for b in order {
                    let want = if b == signin {
                        vec![0]
                    } else if b == audit {
                        vec![1]
                    } else if b == activity {
                        vec![2]
                    } else {
                        vec![0, 1]
                    };
                    assert_eq!(
                        p.verdict_record(&record(b), &mut seen),
                        Verdict::Rules(want),
                        "{}",
                        String::from_utf8_lossy(b)
                    );
                }
            }
        }
    }

    fn pair(keys: &[&str], values: &[(&str, bool)]) -> Pair {
        Pair {
            keys: keys.iter().map(|k| key_finder(k)).collect(),
            key_ids: (0..keys.len() as u32).collect(),
            values: values
                .iter()
                .map(|(v, e)| PairValue::new(v, *e).expect("value"))
                .collect(),
        }
    }

    #[test]
    fn key_value_conditions_follow_json_and_json_in_strings() {
        let lower = |t: &str| t.to_ascii_lowercase().into_bytes();
        let p = pair(&["iscompliant"], &[("false", true)]);
        assert!(p.holds(&lower(
            r#"{"deviceDetail":{"isCompliant":false,"isManaged":true}}"#
        )));
        assert!(!p.holds(&lower(
            r#"{"deviceDetail":{"isCompliant":true},"isInteractive":false}"#
        )));
        // Pretty-printed, and inside a JSON string (Log Analytics dynamic columns).
        assert!(p.holds(&lower("{\"isCompliant\" :\n   false}")));
        assert!(p.holds(&lower(r#"{"DeviceDetail":"{\"isCompliant\":false}"}"#)));
        assert!(p.holds(&lower(r#"{"DeviceDetail":"{\"isCompliant\":\n false}"}"#)));
        assert!(!p.holds(&lower(
            r#"{"DeviceDetail":"{\"isCompliant\":true}","x":false}"#
        )));
        assert!(p.holds(&lower(r#"{"deviceDetail.isCompliant":false}"#)));
        // A longer key ending in the name is another field.
        assert!(!p.holds(&lower(r#"{"wasCompliant":true,"notiscompliant":false}"#)));
        // Exact values: operation names with a trailing full stop and spaces; objects are
        // compared as their JSON text; arrays fan out; escapes and non-ASCII are not judged.
        let op = pair(
            &["operation"],
            &[("add service principal credentials", true)],
        );
        assert!(op.holds(&lower(
            r#"{"Operation":"Add service principal credentials. "}"#
        )));
        assert!(!op.holds(&lower(r#"{"Operation":"Add service principal"}"#)));
        assert!(op.holds(&lower(
            r#"{"Operation":["x","Add service principal credentials"]}"#
        )));
        assert!(!op.holds(&lower(
            r#"{"Operation":{"name":"Add service principal credentials"}}"#
        )));
        assert!(op.holds(&lower(
            r#"{"Operation":"Add service principal \"credentials\""}"#
        )));
        assert!(op.holds(&lower(
            "{\"Operation\":\"Add service principal credentials\u{a0}\"}"
        )));
        let sub = pair(&["operation"], &[("credentials", false)]);
        assert!(sub.holds(&lower(
            r#"{"Operation":{"name":"Add service principal credentials"}}"#
        )));
        // A string value holding an escaped quote is read to its real end.
        let far = pair(&["target"], &[("needle", false)]);
        assert!(far.holds(&lower(r#"{"Target":"a \"quoted\" needle"}"#)));
        assert!(far.holds(&lower(r#"{"x":"{\"Target\":\"a \\\"q\\\" needle\"}"}"#)));
        assert!(!far.holds(&lower(r#"{"Target":"a","y":"needle"}"#)));
        // Numbers are held, not equal: 50126.0 is 50126.
        let num = pair(&["resulttype"], &[("50126", true)]);
        assert!(num.holds(&lower(r#"{"ResultType":50126.0}"#)));
        assert!(num.holds(&lower(r#"{"ResultType":"50126"}"#)));
        assert!(!num.holds(&lower(r#"{"ResultType":0}"#)));
        assert!(num.holds(&lower(r#"{"ResultType":5.0126e4}"#)));
        assert!(num.holds(&lower(r#"{"ResultType":"5.0126E+4"}"#)));
    }
}
