//! Selective parsing: reads a JSON record keeping only the fields that classification and the
//! canonical accessors look at, skipping everything else without allocating. The full document is
//! parsed later, only for events that need it (a rule candidate, an emitted event).
//!
//! The fields kept come from [`crate::classify::CLASSIFY_KEYS`] (presence, or value where the
//! classifier reads it) and [`crate::normalize::canonical_paths`]; a test checks that classification
//! and canonical fields are the same from the selected and from the full document.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A hasher for field names that takes eight bytes a step (multiply and rotate): the selections
/// are fixed and not attacker-chosen, so flooding resistance is not needed on this path.
#[derive(Default, Clone, Copy)]
pub struct WordHash(u64);

impl std::hash::Hasher for WordHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type WordBuild = std::hash::BuildHasherDefault<WordHash>;

/// What to keep of a key's value.
#[derive(Debug)]
pub struct Node {
    /// Keep the whole value.
    keep: bool,
    /// Keep these sub-keys (objects are walked, arrays fanned out, scalars kept whole); a node
    /// neither kept nor with children keeps only the key's presence (value replaced by null).
    children: KeyTable<Node>,
}

/// A selection while it is built: paths are added to it, then it is frozen into a [`Node`].
#[derive(Default)]
struct Draft {
    keep: bool,
    children: HashMap<&'static str, Draft, WordBuild>,
}

impl Draft {
    /// Adds what classification looks at: the values of its value keys, the presence of the
    /// others.
    fn add_classification(&mut self) {
        for k in crate::classify::CLASSIFY_VALUE_KEYS {
            self.add(&[k]);
        }
        for k in crate::classify::CLASSIFY_KEYS {
            self.children.entry(k).or_default();
        }
    }

    fn add(&mut self, path: &[&'static str]) {
        match path.split_first() {
            None => self.keep = true,
            Some((&"[]", rest)) => self.add(rest),
            Some((seg, rest)) => self.children.entry(seg).or_default().add(rest),
        }
    }

    fn freeze(self) -> Node {
        Node {
            keep: self.keep,
            children: KeyTable::new(
                self.children
                    .into_iter()
                    .map(|(k, d)| (k, d.freeze()))
                    .collect(),
            ),
        }
    }
}

/// Fixed keys found without hashing them: a key's length and its first, middle and last bytes
/// pick a bucket (most hold one key or none), whose keys are then compared byte for byte.
/// Finding a record's key among the selected ones costs a few loads and one multiplication.
#[derive(Debug)]
struct KeyTable<T> {
    /// The keys and their values, in bucket order.
    entries: Vec<(&'static str, T)>,
    /// `starts[b]..starts[b + 1]`: the entries of bucket `b`.
    starts: Vec<usize>,
    /// The right shift that turns a key's mixed bytes into its bucket.
    shift: u32,
}

impl<T> KeyTable<T> {
    fn new(mut entries: Vec<(&'static str, T)>) -> Self {
        // At least twice as many buckets as keys: few keys share a bucket.
        let bits = (entries.len() * 2)
            .next_power_of_two()
            .trailing_zeros()
            .max(1);
        let shift = 32 - bits;
        entries.sort_by_key(|(k, _)| (bucket(k.as_bytes(), shift), *k));
        let mut starts = vec![0; (1 << bits) + 1];
        for (k, _) in &entries {
            if let Some(s) = starts.get_mut(bucket(k.as_bytes(), shift) + 1) {
                *s += 1;
            }
        }
        let mut sum = 0;
        for s in &mut starts {
            sum += *s;
            *s = sum;
        }
        KeyTable {
            entries,
            starts,
            shift,
        }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&self, key: &[u8]) -> Option<&T> {
        let b = bucket(key, self.shift);
        let (&from, &to) = (self.starts.get(b)?, self.starts.get(b + 1)?);
        self.entries
            .get(from..to)?
            .iter()
            .find(|(k, _)| same_bytes(k.as_bytes(), key))
            .map(|(_, v)| v)
    }
}

/// The bucket of a key: its length and first, middle and last bytes, mixed by a multiplication
/// whose top bits are kept.
fn bucket(key: &[u8], shift: u32) -> usize {
    let n = key.len();
    let byte = |i: usize| u32::from(key.get(i).copied().unwrap_or(0));
    let mixed = (n as u32) ^ (byte(0) << 8) ^ (byte(n / 2) << 16) ^ (byte(n.wrapping_sub(1)) << 24);
    (mixed.wrapping_mul(0x9E37_79B1) >> shift) as usize
}

/// Byte equality of two short texts, eight bytes a step (no call for the short keys of logs).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        if let Some(c) = s.get(at..at + 8) {
            w.copy_from_slice(c);
        }
        u64::from_le_bytes(w)
    };
    let n = a.len();
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    // Whole words, the last one ending at the last byte (it may overlap the one before).
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// The selection every record is read with.
pub fn selection() -> &'static Node {
    static SEL: OnceLock<Node> = OnceLock::new();
    SEL.get_or_init(|| {
        let mut root = Draft::default();
        for p in crate::normalize::canonical_paths() {
            root.add(p);
        }
        for p in crate::names::name_paths() {
            root.add(p);
        }
        root.add_classification();
        root.freeze()
    })
}

/// What a read for time and tenant only (tenant attribution) keeps: what classification looks
/// at and the paths [`crate::normalize::time_and_tenant_of`] reads, a part of [`selection`] that
/// gives the same format, time and tenant.
pub fn time_and_tenant_selection() -> &'static Node {
    static SEL: OnceLock<Node> = OnceLock::new();
    SEL.get_or_init(|| {
        let mut root = Draft::default();
        for p in crate::normalize::time_and_tenant_paths() {
            root.add(p);
        }
        root.add_classification();
        root.freeze()
    })
}

/// Parses `bytes` keeping only what `sel` selects. The top level must be an object.
pub fn parse_selected(bytes: &[u8], sel: &Node) -> Result<Value, serde_json::Error> {
    match crate::scan::scan(bytes, sel) {
        Some(v) => Ok(v),
        None => serde_selected(bytes, sel),
    }
}

/// The selective parse by serde: it decides every record the hand-written scanner
/// ([`crate::scan`]) leaves to it, and words the error of an invalid one.
pub(crate) fn serde_selected<N: Selects>(
    bytes: &[u8],
    sel: &N,
) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Sel(sel).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Skips a value like serde's `IgnoredAny`, but through `deserialize_any`, so that the parser's
/// nesting limit applies to skipped values too: a record the full parser would reject is rejected
/// here as well.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// What a selection does with a key's value.
pub(crate) enum Want<'n, N> {
    /// Keep the whole value.
    Keep,
    /// Keep only that the key is present (the value is replaced by null).
    Presence,
    /// Keep what this node selects of the value.
    Within(&'n N),
    /// Skip the value.
    Skip,
}

/// A selection of a document's fields: [`Node`] (exact keys) or [`Projection`].
pub(crate) trait Selects: Sized {
    fn want(&self, key: &str) -> Want<'_, Self>;
}

impl Selects for Node {
    fn want(&self, key: &str) -> Want<'_, Node> {
        match self.children.get(key.as_bytes()) {
            Some(n) if n.keep => Want::Keep,
            Some(n) if !n.children.is_empty() => Want::Within(n),
            Some(_) => Want::Presence,
            None => Want::Skip,
        }
    }
}

impl Selects for Projection {
    fn want(&self, key: &str) -> Want<'_, Projection> {
        match self.walk(key) {
            Some(n) if n.keep => Want::Keep,
            Some(n) if n.children.is_empty() && n.presence => Want::Presence,
            Some(n) => Want::Within(n),
            None => Want::Skip,
        }
    }
}

/// Parses a value keeping what `N` selects of it.
struct Sel<'n, N>(&'n N);

impl<'de, N: Selects> DeserializeSeed<'de> for Sel<'_, N> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key, borrowed when the text has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KV;
        impl<'de> Visitor<'de> for KV {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KV)
    }
}

impl<'de, N: Selects> Visitor<'de> for Sel<'_, N> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Sel(self.0))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match self.0.want(&k) {
                Want::Keep => {
                    let v: Value = map.next_value()?;
                    out.insert(k.into_owned(), v);
                }
                Want::Within(n) => {
                    let v = map.next_value_seed(Sel(n))?;
                    out.insert(k.into_owned(), v);
                }
                Want::Presence => {
                    map.next_value::<Skip>()?;
                    out.insert(k.into_owned(), Value::Null);
                }
                Want::Skip => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// The fields some readers look up, by dotted path (`properties.status.errorCode`), matched the
/// way `tw_sigma`'s field lookup resolves them: keys compared case-insensitively, a key holding
/// dots standing for the path segments it spells (flattened exports), arrays fanned out. Parsing a
/// record through it keeps every value such a lookup can reach, whole, and skips the rest.
#[derive(Debug, Default, Clone)]
pub struct Projection {
    keep: bool,
    /// Only the key's presence is wanted (its value is kept as null), unless more is asked.
    presence: bool,
    children: HashMap<String, Projection, WordBuild>,
    /// The first bytes and the lengths (127 for longer) of the ASCII children's names: most
    /// keys of a record are ruled out by these without hashing.
    firsts: [u64; 4],
    lengths: [u64; 2],
    /// The longest child name, in bytes.
    max_len: usize,
}

impl Projection {
    /// What [`selection`] keeps (classification and canonical fields), as a projection: a
    /// record parsed through it, or through it and more paths, gives the same format and
    /// canonical fields as one parsed through [`selection`].
    pub fn selection() -> Projection {
        let mut p = Projection::default();
        for path in crate::normalize::canonical_paths() {
            p.add_segments(path);
        }
        for path in crate::names::name_paths() {
            p.add_segments(path);
        }
        for k in crate::classify::CLASSIFY_VALUE_KEYS {
            p.add_segments(&[k]);
        }
        for k in crate::classify::CLASSIFY_KEYS {
            p.entry(k.to_lowercase()).presence = true;
        }
        p
    }

    /// Adds everything `other` keeps.
    pub fn merge(&mut self, other: Projection) {
        self.keep |= other.keep;
        self.presence |= other.presence;
        for (k, v) in other.children {
            self.entry(k).merge(v);
        }
    }

    /// The child named `key` (lowercase), added if missing.
    fn entry(&mut self, key: String) -> &mut Projection {
        self.max_len = self.max_len.max(key.len());
        if let Some(&f) = key.as_bytes().first()
            && key.is_ascii()
        {
            let l = key.len().min(127);
            self.firsts[usize::from(f) / 64] |= 1 << (f % 64);
            self.lengths[l / 64] |= 1 << (l % 64);
        }
        self.children.entry(key).or_default()
    }

    /// Adds a dotted path (`[]` after a segment, an array marker, is ignored).
    pub fn add(&mut self, path: &str) {
        let segs: Vec<&str> = path.split('.').collect();
        self.add_segments(&segs);
    }

    /// Adds a path given as segments (`[]` segments and suffixes, array markers, are ignored).
    pub fn add_segments(&mut self, path: &[&str]) {
        let mut node = self;
        for seg in path {
            if *seg == "[]" {
                continue;
            }
            let seg = seg.strip_suffix("[]").unwrap_or(seg).to_lowercase();
            node = node.entry(seg);
        }
        node.keep = true;
    }

    /// The child named `seg`, compared case-insensitively.
    fn child(&self, seg: &str) -> Option<&Projection> {
        // Lowercasing shrinks a name three times at most (a three-byte character to one byte):
        // a longer name cannot match, and is ruled out without reading it (keys of any length,
        // and their dotted prefixes, are tried here).
        if seg.len() > self.max_len.saturating_mul(3) {
            return None;
        }
        if let Some(&f) = seg.as_bytes().first()
            && seg.is_ascii()
        {
            // An ASCII name only equals an ASCII child's name, of its first byte and length.
            let (f, l) = (f.to_ascii_lowercase(), seg.len().min(127));
            if self.firsts[usize::from(f) / 64] & (1 << (f % 64)) == 0
                || self.lengths[l / 64] & (1 << (l % 64)) == 0
            {
                return None;
            }
        }
        if !seg.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            return self.children.get(seg);
        }
        let mut buf = [0u8; 64];
        if seg.is_ascii() && seg.len() <= buf.len() {
            // Lowercased on the stack: no allocation per key.
            let low = &mut buf[..seg.len()];
            low.copy_from_slice(seg.as_bytes());
            low.make_ascii_lowercase();
            return std::str::from_utf8(low)
                .ok()
                .and_then(|l| self.children.get(l));
        }
        self.children.get(&seg.to_lowercase())
    }

    /// The node a key leads to from here: the key as one segment, else the key read as dotted
    /// segments (a flattened path), case-insensitively.
    fn walk(&self, key: &str) -> Option<&Projection> {
        if let Some(n) = self.child(key) {
            return Some(n);
        }
        let mut from = 0;
        while let Some(i) = key[from..].find('.').map(|i| from + i) {
            if let Some(n) = self.child(&key[..i]) {
                if n.keep {
                    return Some(n);
                }
                if let Some(m) = n.walk(&key[i + 1..]) {
                    return Some(m);
                }
            }
            from = i + 1;
        }
        None
    }

    /// Parses `bytes` (a JSON object) keeping what a lookup of one of the paths can reach.
    pub fn parse(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        match crate::scan::scan(bytes, self) {
            Some(v) => Ok(v),
            None => serde_selected(bytes, self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_selected() {
        let text = br#"{"CreationTime":"2020-12-14T03:12:44","Operation":"X","Junk":{"a":[1,2,3]},"Target":[{"ID":"a","Type":2},{"ID":"b"}],"properties":{"userPrincipalName":"u","big":"x"}}"#;
        let v = parse_selected(text, selection()).unwrap();
        assert_eq!(v["CreationTime"], "2020-12-14T03:12:44");
        assert!(v.get("Junk").is_none());
        assert_eq!(v["Target"][1]["ID"], "b");
        assert!(v["Target"][0].get("Type").is_none());
        assert_eq!(v["properties"]["userPrincipalName"], "u");
        assert!(v["properties"].get("big").is_none());
    }

    #[test]
    fn a_projection_keeps_what_a_case_insensitive_dotted_lookup_reaches() {
        let mut p = Projection::default();
        for path in [
            "properties.status.errorCode",
            "DeviceDetail.isCompliant",
            "targetResources[].modifiedProperties",
            "Operation",
        ] {
            p.add(path);
        }
        let text = br#"{"Properties":{"Status":{"ErrorCode":50053,"Other":1},"big":[1,2]},"deviceDetail.isCompliant":false,"TargetResources":[{"modifiedProperties":[{"a":1}],"id":"x"},{"id":"y"},3],"operation":"Set","Junk":{"operation":"no"}}"#;
        let v = p.parse(text).unwrap();
        let want = serde_json::json!({
            "Properties": {"Status": {"ErrorCode": 50053}},
            "deviceDetail.isCompliant": false,
            "TargetResources": [{"modifiedProperties": [{"a": 1}]}, {}, 3],
            "operation": "Set"
        });
        assert_eq!(v, want);
        // A path ending on an object keeps it whole.
        let mut whole = Projection::default();
        whole.add("properties");
        let v = whole.parse(text).unwrap();
        assert_eq!(v["Properties"]["big"], serde_json::json!([1, 2]));
        assert!(p.parse(b"{\"a\":").is_err());
    }

    #[test]
    fn a_projection_reads_hostile_keys_in_linear_time() {
        let mut p = Projection::selection();
        p.add("properties.status.errorCode");
        // One key of 200,000 dotted segments, and one long key that is all one segment.
        let dotted = "properties.".repeat(200_000);
        let long = "x".repeat(2_000_000);
        let text = format!(
            "{{\"{dotted}\":1,\"{long}\":2,\"Properties\":{{\"Status\":{{\"ErrorCode\":7}}}}}}"
        );
        let v = p.parse(text.as_bytes()).unwrap();
        assert_eq!(v["Properties"]["Status"]["ErrorCode"], 7);
        assert!(v.get(long.as_str()).is_none());
    }

    #[test]
    fn the_key_table_finds_exactly_its_keys() {
        let keys: Vec<&'static str> = crate::normalize::canonical_paths()
            .into_iter()
            .flatten()
            .copied()
            .chain(crate::classify::CLASSIFY_KEYS.iter().copied())
            .chain(["", "a", "ab", "abcdefgh", "abcdefghi", "abcdefghabcdefgh"])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for n in [0, 1, 2, 3, 7, 8, 9, keys.len()] {
            let some = &keys[..n.min(keys.len())];
            let table = KeyTable::new(some.iter().map(|&k| (k, k.len())).collect());
            for &k in &keys {
                let want = some.contains(&k).then_some(k.len());
                assert_eq!(table.get(k.as_bytes()).copied(), want, "{k:?} of {n}");
                // Near misses: one byte changed anywhere, one byte more or less.
                for i in 0..k.len() {
                    let mut near = k.as_bytes().to_vec();
                    near[i] ^= 0x20;
                    let is_key = some.iter().any(|s| s.as_bytes() == near.as_slice());
                    assert_eq!(table.get(&near).is_some(), is_key, "{near:?}");
                }
                let longer = format!("{k}x");
                let shorter = k.get(..k.len().saturating_sub(1)).unwrap_or("");
                for other in [longer.as_str(), shorter] {
                    let is_key = some.contains(&other);
                    assert_eq!(table.get(other.as_bytes()).is_some(), is_key, "{other:?}");
                }
            }
        }
    }

    #[test]
    fn same_bytes_is_byte_equality() {
        let texts: Vec<Vec<u8>> = (0..40)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                let mut last = base.clone();
                if let Some(b) = last.last_mut() {
                    *b = b'Z';
                }
                let mut first = base.clone();
                if let Some(b) = first.first_mut() {
                    *b = b'Z';
                }
                [base, last, first]
            })
            .collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn errors_like_the_full_parser() {
        assert!(parse_selected(b"{\"a\":1", selection()).is_err());
        assert!(parse_selected(b"{\"a\":1} x", selection()).is_err());
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_selected(deep.as_bytes(), selection()).is_err());
    }
}
