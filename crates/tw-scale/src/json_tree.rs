//! A record's JSON text as a tree of spans, for reading field values straight from the bytes:
//! one scan of the text records where each value starts and ends (no string is copied, no map
//! is built), and top-level members no column can read are skipped whole. Values are then
//! written out as the engine's parsed document gives them: strings unescaped, numbers in
//! `serde_json`'s forms, objects and arrays as the compact JSON text `serde_json` writes for a
//! parsed value (keys in byte order, a repeated key's last value, its string escaping).
//!
//! Anything the scan cannot vouch for (a text that is not one JSON object, nesting deeper than
//! `serde_json` accepts, an escape it would reject, a number it would not read) is an error:
//! the caller then reads the parsed document instead.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

/// Nesting `serde_json` accepts (its recursion limit).
const MAX_DEPTH: usize = 128;

/// Objects of at least this many nodes (members and what they hold) have their keys indexed
/// on their first lookup; smaller ones are searched member by member.
const INDEXED_NODES: u32 = 32;

/// Per object looked up through an index: its keys (when none has escapes) → value node.
type KeyIndex<'t> = HashMap<u32, Option<HashMap<&'t str, u32>>>;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    /// An object: its members follow as (key, value) node pairs.
    Object,
    /// An array: its items follow.
    Array,
    /// A string without escapes: the span is its text.
    Str,
    /// A string with escapes: the span is its escaped text (between the quotes).
    EscStr,
    /// A number: the span is its text.
    Num,
    /// `true`.
    True,
    /// `false`.
    False,
    /// `null`.
    Null,
    /// A top-level member's value that was skipped (no column reads it).
    Skipped,
}

/// One value of the text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub tag: Tag,
    start: u32,
    end: u32,
    /// Index of the node after this one's subtree.
    next: u32,
}

/// The text did not scan as one JSON object the way `serde_json` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotScanned;

/// The tree of one record's text: nodes in document order (a container's children follow it).
#[derive(Debug, Default)]
pub(crate) struct Tree<'t> {
    text: &'t str,
    nodes: Vec<Node>,
    /// The top-level members read: (the id `keep` gave the key, the key's node).
    heads: Vec<(u32, u32)>,
    /// Key indexes of large objects, built on their first lookup.
    index: RefCell<KeyIndex<'t>>,
}

impl<'t> Tree<'t> {
    /// Scans `text`, a JSON object; a top-level member whose key `keep` gives no id is skipped.
    pub fn scan(text: &'t str, keep: &mut KeepKey<'_>) -> Result<Tree<'t>, NotScanned> {
        let mut s = Scanner {
            b: text.as_bytes(),
            pos: 0,
            nodes: Vec::with_capacity(64),
            heads: Vec::new(),
        };
        s.ws();
        s.object(0, Some(keep))?;
        s.ws();
        if s.pos != s.b.len() {
            return Err(NotScanned);
        }
        Ok(Tree {
            text,
            nodes: s.nodes,
            heads: s.heads,
            index: RefCell::default(),
        })
    }

    /// The top-level members read: (id of the key, key node); the value node follows the key.
    pub fn heads(&self) -> &[(u32, u32)] {
        &self.heads
    }

    /// The root object.
    pub fn root(&self) -> u32 {
        0
    }

    /// The node at `i`.
    pub fn node(&self, i: u32) -> Node {
        self.nodes[i as usize]
    }

    /// The (key, value) node pairs of object `obj`, in text order.
    pub fn members(&self, obj: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let end = self.nodes[obj as usize].next;
        let mut at = obj + 1;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let (k, v) = (at, at + 1);
            at = self.nodes[v as usize].next;
            Some((k, v))
        })
    }

    /// The value of member `key` of object `obj` (the last of a repeated key), keys compared
    /// exactly.
    pub fn member(&self, obj: u32, key: &str) -> Option<u32> {
        let n = self.nodes[obj as usize];
        if n.next - obj >= INDEXED_NODES {
            let mut index = self.index.borrow_mut();
            let keys = index.entry(obj).or_insert_with(|| self.key_index(obj));
            if let Some(keys) = keys {
                return keys.get(key).copied();
            }
        }
        let mut exact = None;
        for (k, v) in self.members(obj) {
            if self.string_is(k, key) {
                exact = Some(v);
            }
        }
        exact
    }

    /// The keys of `obj` → their values' nodes (the last of a repeated key); `None` when a key
    /// has escapes.
    fn key_index(&self, obj: u32) -> Option<HashMap<&'t str, u32>> {
        let mut keys = HashMap::new();
        for (k, v) in self.members(obj) {
            let n = self.nodes[k as usize];
            if n.tag != Tag::Str {
                return None;
            }
            keys.insert(&self.text[n.start as usize..n.end as usize], v);
        }
        Some(keys)
    }

    /// The items of array `arr`.
    pub fn items(&self, arr: u32) -> impl Iterator<Item = u32> + '_ {
        let end = self.nodes[arr as usize].next;
        let mut at = arr + 1;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let i = at;
            at = self.nodes[i as usize].next;
            Some(i)
        })
    }

    /// The text of a string node, unescaped.
    pub fn string(&self, i: u32) -> Cow<'t, str> {
        let n = self.nodes[i as usize];
        let raw = &self.text[n.start as usize..n.end as usize];
        if n.tag == Tag::EscStr {
            let mut out = String::with_capacity(raw.len());
            // Escapes were checked by the scan.
            let _ = unescape_into(raw, &mut out);
            Cow::Owned(out)
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// Whether string node `i` is `key` (compared unescaped; lengths first).
    pub fn string_is(&self, i: u32, key: &str) -> bool {
        let n = self.nodes[i as usize];
        match n.tag {
            Tag::Str => {
                n.end - n.start == key.len() as u32
                    && &self.text.as_bytes()[n.start as usize..n.end as usize] == key.as_bytes()
            }
            Tag::EscStr => self.string(i) == key,
            _ => false,
        }
    }

    /// Whether string node `i` equals `key` ignoring ASCII case (compared unescaped).
    pub fn string_is_ascii_ci(&self, i: u32, key: &str) -> bool {
        let n = self.nodes[i as usize];
        match n.tag {
            Tag::Str => {
                n.end - n.start == key.len() as u32
                    && self.text.as_bytes()[n.start as usize..n.end as usize]
                        .eq_ignore_ascii_case(key.as_bytes())
            }
            Tag::EscStr => {
                let k = self.string(i);
                k.len() == key.len() && k.eq_ignore_ascii_case(key)
            }
            _ => false,
        }
    }

    /// Appends the text of string node `i`, unescaped.
    pub fn push_string(&self, i: u32, out: &mut String) {
        let n = self.nodes[i as usize];
        let raw = &self.text[n.start as usize..n.end as usize];
        if n.tag == Tag::EscStr {
            let _ = unescape_into(raw, out);
        } else {
            out.push_str(raw);
        }
    }

    /// The text of number node `i`.
    pub fn number(&self, i: u32) -> &'t str {
        let n = self.nodes[i as usize];
        &self.text[n.start as usize..n.end as usize]
    }

    /// Appends the compact JSON text `serde_json` writes for the value of node `i` once
    /// parsed; `Err` for a skipped node.
    pub fn render(&self, i: u32, out: &mut String) -> Result<(), NotScanned> {
        let n = self.nodes[i as usize];
        match n.tag {
            Tag::Object => self.render_object(i, out)?,
            Tag::Array => {
                out.push('[');
                for (k, item) in self.items(i).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    self.render(item, out)?;
                }
                out.push(']');
            }
            Tag::Str => {
                out.push('"');
                out.push_str(&self.text[n.start as usize..n.end as usize]);
                out.push('"');
            }
            Tag::EscStr => push_quoted(&self.string(i), out),
            Tag::Num => push_number_json(self.number(i), out)?,
            Tag::True => out.push_str("true"),
            Tag::False => out.push_str("false"),
            Tag::Null => out.push_str("null"),
            Tag::Skipped => return Err(NotScanned),
        }
        Ok(())
    }

    /// An object as `serde_json` writes a parsed one: keys in byte order, the last value of a
    /// repeated key.
    fn render_object(&self, i: u32, out: &mut String) -> Result<(), NotScanned> {
        let mut members: Vec<(Cow<'t, str>, u32)> =
            self.members(i).map(|(k, v)| (self.string(k), v)).collect();
        // Stable: among equal keys the last in the text comes last, and is the one kept.
        members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        out.push('{');
        let mut first = true;
        for (j, (key, value)) in members.iter().enumerate() {
            if members.get(j + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            push_quoted(key, out);
            out.push(':');
            self.render(*value, out)?;
        }
        out.push('}');
        Ok(())
    }
}

/// Appends `s` as a JSON string the way `serde_json` escapes it.
pub(crate) fn push_quoted(s: &str, out: &mut String) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            b'\t' => Some("\\t"),
            b'\n' => Some("\\n"),
            0x0c => Some("\\f"),
            b'\r' => Some("\\r"),
            0..=0x1f => Some(""),
            _ => None,
        };
        let Some(esc) = esc else { continue };
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// A number's text written as `serde_json` writes it once parsed.
fn push_number_json(text: &str, out: &mut String) -> Result<(), NotScanned> {
    if plain_integer(text) {
        out.push_str(text);
        return Ok(());
    }
    let n: serde_json::Number = serde_json::from_str(text).map_err(|_| NotScanned)?;
    out.push_str(&n.to_string());
    Ok(())
}

/// A number's text as the engine gives a number field's value: an integer that fits `i64` as
/// itself, any other number in the engine's canonical float form.
pub(crate) fn push_number_value(text: &str, out: &mut String) -> Result<(), NotScanned> {
    if plain_integer(text) {
        out.push_str(text);
        return Ok(());
    }
    let n: serde_json::Number = serde_json::from_str(text).map_err(|_| NotScanned)?;
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(x) = n.as_f64() {
        out.push_str(&tw_sigma::event::canonical_float(x));
    } else {
        out.push_str(&n.to_string());
    }
    Ok(())
}

/// An integer written as every reader writes it back: optional `-`, 1 to 18 digits, no
/// leading zero, not `-0`.
fn plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'))
        && text != "-0"
}

/// Unescapes the text between a JSON string's quotes into `out`, as `serde_json` does
/// (`Err` for an escape it rejects, such as an unpaired surrogate).
fn unescape_into(raw: &str, out: &mut String) -> Result<(), NotScanned> {
    let b = raw.as_bytes();
    let (mut i, mut run) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&raw[run..i]);
        let c = *b.get(i + 1).ok_or(NotScanned)?;
        i += 2;
        match c {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = hex4(b, i)?;
                i += 4;
                let ch = if (0xD800..0xDC00).contains(&hi) {
                    if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                        return Err(NotScanned);
                    }
                    let lo = hex4(b, i + 2)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(NotScanned);
                    }
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                out.push(char::from_u32(ch).ok_or(NotScanned)?);
            }
            _ => return Err(NotScanned),
        }
        run = i;
    }
    out.push_str(&raw[run..]);
    Ok(())
}

/// The four hex digits at `at`.
fn hex4(b: &[u8], at: usize) -> Result<u32, NotScanned> {
    let digits = b.get(at..at + 4).ok_or(NotScanned)?;
    let s = std::str::from_utf8(digits).map_err(|_| NotScanned)?;
    u32::from_str_radix(s, 16).map_err(|_| NotScanned)
}

/// Which top-level members a scan reads: the id of a key it reads, `None` to skip it.
pub(crate) type KeepKey<'k> = dyn FnMut(&str) -> Option<u32> + 'k;

/// The scan: nodes pushed in document order.
struct Scanner<'b> {
    b: &'b [u8],
    pos: usize,
    nodes: Vec<Node>,
    heads: Vec<(u32, u32)>,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn push(&mut self, tag: Tag, start: usize, end: usize) -> usize {
        let at = self.nodes.len();
        self.nodes.push(Node {
            tag,
            start: start as u32,
            end: end as u32,
            next: at as u32 + 1,
        });
        at
    }

    fn close(&mut self, at: usize) {
        let next = self.nodes.len() as u32;
        let end = self.pos as u32;
        if let Some(n) = self.nodes.get_mut(at) {
            n.next = next;
            n.end = end;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), NotScanned> {
        match self.b.get(self.pos) {
            Some(b'{') => self.object(depth, None),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(|_| ()),
            Some(b't') => self.literal(b"true", Tag::True),
            Some(b'f') => self.literal(b"false", Tag::False),
            Some(b'n') => self.literal(b"null", Tag::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(NotScanned),
        }
    }

    /// An object at `pos`; with `keep`, members whose key it refuses are skipped.
    fn object(
        &mut self,
        depth: usize,
        mut keep: Option<&mut KeepKey<'_>>,
    ) -> Result<(), NotScanned> {
        if depth >= MAX_DEPTH || self.b.get(self.pos) != Some(&b'{') {
            return Err(NotScanned);
        }
        let at = self.push(Tag::Object, self.pos, self.pos);
        self.pos += 1;
        self.ws();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.close(at);
            return Ok(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let wanted = match keep.as_deref_mut() {
                Some(k) => match k(&key_text(self, key)) {
                    Some(id) => {
                        self.heads.push((id, key as u32));
                        true
                    }
                    None => false,
                },
                None => true,
            };
            if wanted {
                self.value(depth + 1)?;
            } else {
                let start = self.pos;
                self.skip(depth + 1)?;
                if self.pos == start {
                    return Err(NotScanned);
                }
                self.push(Tag::Skipped, start, self.pos);
            }
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.close(at);
                    return Ok(());
                }
                _ => return Err(NotScanned),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), NotScanned> {
        if depth >= MAX_DEPTH {
            return Err(NotScanned);
        }
        let at = self.push(Tag::Array, self.pos, self.pos);
        self.pos += 1;
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.close(at);
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.close(at);
                    return Ok(());
                }
                _ => return Err(NotScanned),
            }
        }
    }

    /// A string at `pos`: its node's index. Escapes are checked, control characters refused.
    fn string(&mut self) -> Result<usize, NotScanned> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let rest = self.b.get(self.pos..).ok_or(NotScanned)?;
            self.pos += memchr::memchr2(b'"', b'\\', rest).ok_or(NotScanned)?;
            if self.b[self.pos] == b'"' {
                break;
            }
            escaped = true;
            self.pos += 2;
        }
        let end = self.pos;
        self.pos += 1;
        let raw = self.b.get(start..end).ok_or(NotScanned)?;
        // `serde_json` refuses control characters in strings.
        if raw.iter().any(|&b| b < 0x20) {
            return Err(NotScanned);
        }
        if escaped {
            let text = std::str::from_utf8(raw).map_err(|_| NotScanned)?;
            unescape_into(text, &mut String::new())?;
        }
        let tag = if escaped { Tag::EscStr } else { Tag::Str };
        Ok(self.push(tag, start, end))
    }

    fn number(&mut self) -> Result<(), NotScanned> {
        let start = self.pos;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.b.get(self.pos) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.b[start..self.pos]).map_err(|_| NotScanned)?;
        if !plain_integer(text) && serde_json::from_str::<serde_json::Number>(text).is_err() {
            return Err(NotScanned);
        }
        self.push(Tag::Num, start, self.pos);
        Ok(())
    }

    fn literal(&mut self, word: &[u8], tag: Tag) -> Result<(), NotScanned> {
        if !self.b[self.pos..].starts_with(word) {
            return Err(NotScanned);
        }
        self.push(tag, self.pos, self.pos + word.len());
        self.pos += word.len();
        Ok(())
    }

    fn expect(&mut self, c: u8) -> Result<(), NotScanned> {
        if self.b.get(self.pos) != Some(&c) {
            return Err(NotScanned);
        }
        self.pos += 1;
        Ok(())
    }

    /// Skips the value at `pos`: strings and nesting followed, nothing checked further.
    fn skip(&mut self, depth: usize) -> Result<(), NotScanned> {
        let mut open = 0usize;
        loop {
            match self.b.get(self.pos) {
                None => return Err(NotScanned),
                Some(b'"') => self.skip_string()?,
                Some(b'{' | b'[') => {
                    open += 1;
                    if depth + open > MAX_DEPTH {
                        return Err(NotScanned);
                    }
                    self.pos += 1;
                }
                Some(b'}' | b']') if open > 0 => {
                    open -= 1;
                    self.pos += 1;
                }
                Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') if open == 0 => {
                    return Ok(());
                }
                Some(_) => self.pos += 1,
            }
            // A string or container closed at the top: the value ends there.
            if open == 0
                && matches!(
                    self.b.get(self.pos.wrapping_sub(1)),
                    Some(b'"' | b'}' | b']')
                )
            {
                return Ok(());
            }
        }
    }

    /// Skips the string at `pos`, quotes included.
    fn skip_string(&mut self) -> Result<(), NotScanned> {
        self.pos += 1;
        loop {
            let rest = self.b.get(self.pos..).ok_or(NotScanned)?;
            self.pos += memchr::memchr2(b'"', b'\\', rest).ok_or(NotScanned)?;
            if self.b[self.pos] == b'"' {
                break;
            }
            self.pos += 2;
        }
        self.pos += 1;
        Ok(())
    }
}

/// The text of key node `key`, unescaped.
fn key_text<'b>(s: &Scanner<'b>, key: usize) -> Cow<'b, str> {
    let n = s.nodes[key];
    let raw = std::str::from_utf8(&s.b[n.start as usize..n.end as usize]).unwrap_or("");
    if n.tag == Tag::EscStr {
        let mut out = String::new();
        let _ = unescape_into(raw, &mut out);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The text `serde_json` writes for `text` parsed, and the tree's rendering of it.
    fn both(text: &str) -> (String, String) {
        let want = serde_json::from_str::<Value>(text)
            .expect("valid JSON")
            .to_string();
        let tree = Tree::scan(text, &mut |_| Some(0)).expect("scans");
        let mut got = String::new();
        tree.render(tree.root(), &mut got).expect("renders");
        (got, want)
    }

    #[test]
    fn objects_render_as_serde_json_writes_them_parsed() {
        for text in [
            r#"{"b":1,"a":{"z":"x\"y","y":[1,2.50,-0,1e3,-1.5E-7,12345678901234567890,-9223372036854775809]}}"#,
            r#"{"k":"\u00e9\ud83d\ude00\n\u0001\/\t\b\f\r\\","K":"é","":null,"t":true,"f":false}"#,
            r#"{"dup":1,"a":2,"dup":{"x":[{"q":1,"p":[]},{}]},"ab":3,"a\u0062":4}"#,
            "{ \"spaced\" : [ 1 , { \"b\" : \"x\" , \"a\" : [ ] } ] ,\r\n \"n\" : 0.1 }",
            r#"{"deep":[[[["x"]]]],"e":"tab	inside is refused by serde, so not here"}"#,
        ] {
            if serde_json::from_str::<Value>(text).is_err() {
                assert!(Tree::scan(text, &mut |_| Some(0)).is_err(), "{text}");
                continue;
            }
            let (got, want) = both(text);
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn texts_serde_json_refuses_are_not_scanned() {
        for text in [
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e999}"#,
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"[1]"#,
            r#"{"a":1} x"#,
            "{\"a\":\"line\nbreak\"}",
        ] {
            assert!(Tree::scan(text, &mut |_| Some(0)).is_err(), "{text}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert!(Tree::scan(&deep, &mut |_| Some(0)).is_err());
        assert!(serde_json::from_str::<Value>(&deep).is_err());
    }

    #[test]
    fn skipped_members_are_followed_to_their_end() {
        let text =
            r#"{"skip":{"a":"}]\"","b":[1,{"c":"{"}]},"s2":"x,}","n":-1.5e3,"keep":{"v":[true]}}"#;
        let mut kept = Vec::new();
        let tree = Tree::scan(text, &mut |k| {
            kept.push(k.to_string());
            (k == "keep").then_some(7)
        })
        .expect("scans");
        assert_eq!(kept, ["skip", "s2", "n", "keep"]);
        assert_eq!(tree.heads().len(), 1);
        let (id, key) = tree.heads()[0];
        assert_eq!((id, tree.string(key).as_ref()), (7, "keep"));
        let mut out = String::new();
        tree.render(key + 1, &mut out).expect("renders");
        assert_eq!(out, r#"{"v":[true]}"#);
        assert!(tree.render(tree.root(), &mut String::new()).is_err());
    }

    #[test]
    fn every_sample_record_renders_as_its_parsed_document() {
        let example = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/reseller-breach/logs");
        let ex = crate::row::Extractor::new().expect("the shipped maps load");
        let opts = crate::test_corpus::options(&ex);
        let mut checked = 0;
        tw_ingest::ingest(
            &[crate::test_corpus::path(), example],
            &opts,
            |ev, out| {
                let text = ev.raw.text().and_then(|t| std::str::from_utf8(t).ok());
                out.push(text.map(|t| (t.to_string(), both(t))));
            },
            |r| {
                if let Some((text, (got, want))) = r {
                    assert_eq!(got, want, "{text}");
                    checked += 1;
                }
            },
        );
        assert!(checked > 2_000, "{checked} records");
    }
}
