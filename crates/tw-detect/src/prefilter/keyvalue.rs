//! Key/value conditions: a key named one of some keys has a value equal to, or holding, one of
//! some values; read from JSON text (and JSON held in JSON strings) by a small reader that follows
//! keys, strings and escaped quotes, without parsing the record.

use super::*;

/// A key/value condition: a key named one of `keys` has a value equal to or holding one of
/// `values`.
#[derive(Clone)]
pub(super) struct Pair {
    pub(super) keys: Vec<(memchr::memmem::Finder<'static>, usize)>,
    /// Per key: its id among all pairs' keys (a key's values are found once per record).
    pub(super) key_ids: Vec<u32>,
    pub(super) values: Vec<PairValue>,
}

/// A finder for a key name (lowercase) and the name's length, as [`Pair::keys`] holds them.
pub(super) fn key_finder(key: &str) -> (memchr::memmem::Finder<'static>, usize) {
    (
        memchr::memmem::Finder::new(key.as_bytes()).into_owned(),
        key.len(),
    )
}

/// Where a value found after a key is in a text.
#[derive(Debug, Clone, Copy)]
pub(super) enum Region {
    Array,
    Object,
    /// A string's content (escapes kept) or a bare scalar's text: `start..end`.
    Text(usize, usize),
}

#[derive(Clone)]
pub(super) enum PairValue {
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
    pub(super) fn new(text: &str, exact: bool) -> Option<PairValue> {
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
    pub(super) fn matches(&self, region: &[u8]) -> bool {
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
    pub(super) fn non_empty_only(&self) -> bool {
        self.values.iter().all(|v| matches!(v, PairValue::NonEmpty))
    }

    /// Checks the condition on a lowercased JSON text. Sound for JSON and for JSON held in JSON
    /// strings: a value that is an object, an array or a string holding JSON passes.
    #[cfg(test)]
    pub(super) fn holds(&self, text: &[u8]) -> bool {
        let mut found = Vec::new();
        self.keys.iter().any(|(finder, len)| {
            found.clear();
            values_of_key(text, finder, *len, &mut found);
            self.holds_in(text, &found)
        })
    }

    /// Whether one of the values found after a key (`found`, in `text`) passes.
    pub(super) fn holds_in(&self, text: &[u8], found: &[Region]) -> bool {
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
pub(super) fn values_of_key(
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
    pub(super) fn of(v: KeyValue<'_>, base: usize) -> Region {
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
pub(super) enum KeyValue<'a> {
    Array,
    Object,
    /// A string's content (escapes kept) or a bare scalar's text.
    Text(&'a [u8]),
}

/// Calls `f` with the value of every occurrence of the key `finder` finds (`len` bytes) in a
/// lowercased JSON text, plain or held in a JSON string, until `f` returns true; returns whether
/// it did. A key must start a key string, or follow a dot in a flattened one.
pub(super) fn key_values<'a>(
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
pub(super) fn value_at(text: &[u8], pos: usize, len: usize) -> Option<KeyValue<'_>> {
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
pub(super) fn single_value<'a>(
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

/// The text of a JSON string starting at `from` (after its opening quote) up to its closing
/// quote: in plain JSON the first quote after an even number of backslashes; in a string within
/// a JSON string (`inner`), the first quote after exactly one backslash, which never ends early
/// (quotes within the inner string have at least three).
pub(super) fn string_region(text: &[u8], from: usize, inner: bool) -> &[u8] {
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

impl RawPrefilter {
    /// Whether pair `p` holds in the scratch's lowercased text (each key's values are looked
    /// up once per record, whatever the number of rules asking).
    pub(super) fn pair_holds(&self, p: &Pair, s: &mut PrefilterScratch, plan: &Plan) -> bool {
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
}

/// The key/value conditions of each rule's clauses, and the ids of their distinct keys.
pub(super) fn pairs_of(
    per_rule: &[Vec<tw_sigma::LiteralClause>],
) -> (Vec<Vec<Pair>>, std::collections::BTreeMap<String, u32>) {
    let mut key_id: std::collections::BTreeMap<String, u32> = Default::default();
    for k in per_rule.iter().flatten().flat_map(|c| &c.pair_keys) {
        let n = key_id.len() as u32;
        key_id.entry(k.clone()).or_insert(n);
    }
    let pairs = per_rule
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
    (pairs, key_id)
}
