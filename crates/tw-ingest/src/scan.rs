//! A hand-written selective JSON reader: walks a record's bytes once, building values only for
//! the keys a selection ([`crate::select::Node`] or [`crate::select::Projection`]) keeps and
//! checking everything else without building anything.
//!
//! It gives exactly the value serde's selective parse ([`crate::select::parse_selected`],
//! [`crate::select::Projection::parse`]) gives, or nothing: whenever a record is not plainly
//! valid (any syntax error, a control character in a string, deep nesting, a number or `\u`
//! escape serde might judge otherwise), [`scan`] returns `None` and the caller parses the record
//! with serde, which decides and words the error. So a record is accepted or rejected, and its
//! kept fields read, exactly as before; most records are simply read faster.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::select::{Selects, Want};

/// Nesting depth beyond which the scanner leaves the record to serde (whose limit is 128).
const MAX_DEPTH: u32 = 100;

/// Numbers longer than this (or with an exponent) are checked by serde: it may judge them out of
/// range.
const PLAIN_NUMBER_LEN: usize = 300;

/// The key by which serde's `Value` (with its `raw_value` feature, enabled in this workspace)
/// recognises a raw value; an object holding it is left to serde.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Reads `bytes` keeping what `sel` selects, as the serde selective parse would; `None` when the
/// record must be left to serde (invalid, or not plainly valid).
pub(crate) fn scan<N: Selects>(bytes: &[u8], sel: &N) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut s = Scanner {
        text,
        b: bytes,
        pos: 0,
        depth: 0,
        no_controls: no_control_bytes(bytes),
    };
    s.ws();
    let v = s.select(sel)?;
    s.ws();
    (s.pos == bytes.len()).then_some(v)
}

/// A position in a record being read.
struct Scanner<'a> {
    /// The record, checked as UTF-8 once: every string inside it is then valid UTF-8.
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: u32,
    /// The record holds no byte below 0x20 (no line break, no tab: a compact record): its
    /// strings cannot hold control characters, so they are scanned for `"` and `\` only.
    no_controls: bool,
}

/// True when no byte of `bytes` is below 0x20 (a pass the compiler vectorizes).
fn no_control_bytes(bytes: &[u8]) -> bool {
    bytes
        .chunks(64)
        .all(|c| c.iter().fold(u8::MAX, |m, &b| m.min(b)) >= 0x20)
}

/// Eight copies of a byte, for the word-at-a-time string scan.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of each of the eight bytes of `w` (little-endian) that is `"`, `\` or a control
/// character (below 0x20). Bytes after the first such one may be flagged wrongly (a borrow
/// carries upward), the first one never is: its position is exact.
fn special_mask(w: u64) -> u64 {
    let control = w.wrapping_sub(splat(0x20)) & !w & splat(0x80);
    quote_or_backslash_mask(w) | control
}

/// [`special_mask`] for text without control characters: `"` and `\` only.
fn quote_or_backslash_mask(w: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(splat(1)) & !x & splat(0x80);
    zero(w ^ splat(b'"')) | zero(w ^ splat(b'\\'))
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or fails.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Reads a string from its opening quote: the range of its contents and whether it holds
    /// escapes. A control character or an unknown escape fails.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = self.to_special(i)?;
            match *self.b.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some((start, i, escaped));
                }
                b'\\' => {
                    escaped = true;
                    i += match *self.b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' => 2 + self.hex4(i + 2)?,
                        _ => return None,
                    };
                }
                0..0x20 => return None,
                _ => i += 1,
            }
        }
    }

    /// Where the first `"`, `\` or control byte from `i` on is, or (none among them) where the
    /// last bytes of the record, fewer than eight, start. Most strings of logs are short: they
    /// are scanned eight bytes a step; a long one of a record without control bytes is left to
    /// `memchr2` after the first 32 bytes.
    fn to_special(&self, i: usize) -> Option<usize> {
        if self.no_controls {
            // No control byte anywhere in the record: two of the three tests suffice.
            self.first_flagged(i, 4, quote_or_backslash_mask)
        } else {
            self.first_flagged(i, usize::MAX, special_mask)
        }
    }

    /// Where the first byte `mask` flags is from `i` on, looking eight bytes a step; after
    /// `words` steps without one, the rest is searched by `memchr2` for `"` and `\` (only
    /// right for a record without control bytes).
    #[inline]
    fn first_flagged(
        &self,
        mut i: usize,
        words: usize,
        mask: impl Fn(u64) -> u64,
    ) -> Option<usize> {
        let mut done = 0;
        while let Some(chunk) = self.b.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let m = mask(u64::from_le_bytes(w));
            if m != 0 {
                return Some(i + (m.trailing_zeros() / 8) as usize);
            }
            i += 8;
            done += 1;
            if done == words {
                return Some(i + memchr::memchr2(b'"', b'\\', self.b.get(i..)?)?);
            }
        }
        Some(i)
    }

    /// Checks four hex digits at `at`.
    fn hex4(&self, at: usize) -> Option<usize> {
        let digits = self.b.get(at..at + 4)?;
        digits.iter().all(u8::is_ascii_hexdigit).then_some(4)
    }

    /// A string's value: borrowed when it has no escapes, else decoded by serde (which also
    /// judges `\u` surrogates).
    fn string_value(&mut self) -> Option<Cow<'a, str>> {
        let open = self.pos;
        let (start, end, escaped) = self.string()?;
        if !escaped {
            return Some(Cow::Borrowed(self.text.get(start..end)?));
        }
        serde_json::from_str::<String>(self.text.get(open..=end)?)
            .ok()
            .map(Cow::Owned)
    }

    /// Skips a string, checking its `\u` escapes as serde would.
    fn skip_string(&mut self) -> Option<()> {
        let open = self.pos;
        let (start, end, escaped) = self.string()?;
        if escaped && memchr::memchr(b'u', &self.b[start..end]).is_some() {
            serde_json::from_str::<String>(self.text.get(open..=end)?).ok()?;
        }
        Some(())
    }

    /// Reads a number's text; numbers serde might reject (out of range) are checked by it.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let mut i = start;
        let b = self.b;
        let digits = |mut i: usize| {
            let from = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            (i > from).then_some(i)
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        i = match b.get(i)? {
            b'0' => i + 1,
            b'1'..=b'9' => digits(i)?,
            _ => return None,
        };
        if b.get(i) == Some(&b'.') {
            i = digits(i + 1)?;
        }
        let mut plain = i - start <= PLAIN_NUMBER_LEN;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            i = digits(i)?;
            plain = false;
        }
        self.pos = i;
        let text = self.text.get(start..i)?;
        if !plain {
            serde_json::from_str::<Value>(text).ok()?;
        }
        Some(text)
    }

    /// Consumes a literal (`true`, `false`, `null`).
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.b.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// A scalar's value (the value starts at the current position).
    fn scalar(&mut self) -> Option<Value> {
        Some(match self.peek()? {
            b'"' => Value::String(self.string_value()?.into_owned()),
            b't' => self.literal(b"true").map(|()| Value::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Value::Bool(false))?,
            b'n' => self.literal(b"null").map(|()| Value::Null)?,
            _ => serde_json::from_str::<Value>(self.number()?).ok()?,
        })
    }

    /// Skips a value, checking it as serde would.
    fn skip(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.skip_string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'[' => self.each_element(|s| s.skip()),
            b'{' => self.each_member_key(Self::skip_string, |s, ()| s.skip()),
            _ => self.number().map(|_| ()),
        }
    }

    /// Builds the whole value.
    fn keep(&mut self) -> Option<Value> {
        self.ws();
        match self.peek()? {
            b'[' => {
                let mut out = Vec::new();
                self.each_element(|s| s.keep().map(|v| out.push(v)))?;
                Some(Value::Array(out))
            }
            b'{' => {
                let mut out = Map::new();
                self.each_member(|s, k| {
                    // serde reads an object keyed by its raw-value token as that value's text.
                    if k == RAW_VALUE_TOKEN {
                        return None;
                    }
                    let v = s.keep()?;
                    out.insert(k.into_owned(), v);
                    Some(())
                })?;
                Some(Value::Object(out))
            }
            _ => self.scalar(),
        }
    }

    /// Builds what `sel` selects of the value: objects by key, arrays element by element,
    /// scalars whole.
    fn select<N: Selects>(&mut self, sel: &N) -> Option<Value> {
        self.ws();
        match self.peek()? {
            b'[' => {
                let mut out = Vec::new();
                self.each_element(|s| s.select(sel).map(|v| out.push(v)))?;
                Some(Value::Array(out))
            }
            b'{' => {
                let mut out = Map::new();
                self.each_member(|s, k| {
                    let v = match sel.want(&k) {
                        Want::Keep => s.keep()?,
                        Want::Within(n) => s.select(n)?,
                        Want::Presence => s.skip().map(|()| Value::Null)?,
                        Want::Skip => return s.skip(),
                    };
                    out.insert(k.into_owned(), v);
                    Some(())
                })?;
                Some(Value::Object(out))
            }
            _ => self.scalar(),
        }
    }

    /// Reads an array from its `[`, calling `f` at each element.
    fn each_element(&mut self, mut f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter()?;
        self.pos += 1;
        self.ws();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                f(self)?;
                self.ws();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Reads an object from its `{`, calling `f` with each key, positioned at its value.
    fn each_member(&mut self, f: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>) -> Option<()> {
        self.each_member_key(Self::string_value, f)
    }

    /// Reads an object from its `{`, reading each key with `key` (its text, or only checking it)
    /// and calling `f` with what it gave, positioned at the member's value.
    fn each_member_key<K>(
        &mut self,
        key: impl Fn(&mut Self) -> Option<K>,
        mut f: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        self.enter()?;
        self.pos += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                if self.peek()? != b'"' {
                    return None;
                }
                let key = key(self)?;
                self.expect(b':')?;
                f(self, key)?;
                self.ws();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::json_split::{JsonLayout, JsonSplitter, Piece};
    use crate::select::{Projection, selection, serde_selected};
    use std::path::{Path, PathBuf};

    /// The hunt's kind of projection: the selection and a few paths rules look up.
    fn projection() -> Projection {
        let mut p = Projection::selection();
        for path in [
            "properties.status.errorCode",
            "TargetResources.modifiedProperties",
            "Parameters.Value",
            "properties.message",
        ] {
            p.add(path);
        }
        p
    }

    /// The scanner gives what serde gives, or leaves the record to serde; it never accepts a
    /// record serde rejects.
    fn agrees<N: Selects>(text: &[u8], sel: &N) -> Result<bool, String> {
        let fast = scan(text, sel);
        match (serde_selected(text, sel), fast) {
            (Ok(slow), Some(fast)) if slow == fast => Ok(true),
            (_, None) => Ok(false),
            (slow, fast) => Err(format!(
                "{}: serde {slow:?}, scanner {fast:?}",
                String::from_utf8_lossy(text)
            )),
        }
    }

    fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                json_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "json" || e == "jsonl") {
                out.push(p);
            }
        }
    }

    /// Every record of the repository's JSON fixtures (real corpus copies and format samples).
    pub(crate) fn fixture_records() -> Vec<Vec<u8>> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let mut files = Vec::new();
        json_files(&root, &mut files);
        let mut records = Vec::new();
        for f in files {
            let Ok(bytes) = std::fs::read(&f) else {
                continue;
            };
            let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
            let first_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
            let layout = match serde_json::from_slice::<Value>(first_line.trim_ascii()) {
                Ok(Value::Object(o)) if !o.contains_key("value") && !o.contains_key("records") => {
                    JsonLayout::Lines
                }
                _ => JsonLayout::Structured,
            };
            let mut sp = JsonSplitter::new(body, layout, 1 << 24);
            let mut buf = Vec::new();
            while let Ok(Some(piece)) = sp.next_piece(&mut buf) {
                if let Piece::Record { .. } = piece {
                    records.push(std::mem::take(&mut buf));
                }
                buf.clear();
            }
        }
        records
    }

    #[test]
    fn reads_every_fixture_record_as_serde_does() {
        let records = fixture_records();
        assert!(records.len() > 200, "only {} records", records.len());
        let proj = projection();
        let mut fast = 0;
        for r in &records {
            fast += usize::from(agrees(r, selection()).unwrap());
            assert!(agrees(r, &proj).unwrap());
        }
        // Real records are read by the scanner, not handed back to serde.
        assert!(
            fast * 10 >= records.len() * 9,
            "{fast} of {}",
            records.len()
        );
    }

    /// The word-at-a-time search finds the first special byte at every offset, among any
    /// bytes after it.
    #[test]
    fn special_mask_finds_the_first_special_byte() {
        let fillers = [b'a', 0x7f, 0xff, 0x20, 0x21, 0x5b, 0x5d, 0x80];
        let specials = [b'"', b'\\', 0x00, 0x01, 0x1f, b'\n'];
        for &fill in &fillers {
            assert_eq!(special_mask(u64::from_le_bytes([fill; 8])), 0);
            for &sp in &specials {
                for at in 0..8 {
                    for &after in specials.iter().chain(&fillers) {
                        let mut w = [fill; 8];
                        w[at] = sp;
                        for b in w.iter_mut().skip(at + 1) {
                            *b = after;
                        }
                        let m = special_mask(u64::from_le_bytes(w));
                        assert_eq!(m.trailing_zeros() / 8, at as u32, "{w:?}");
                        if sp >= 0x20 && fill >= 0x20 {
                            let m = quote_or_backslash_mask(u64::from_le_bytes(w));
                            assert_eq!(m.trailing_zeros() / 8, at as u32, "{w:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn leaves_every_invalid_record_to_serde() {
        let cases: &[&[u8]] = &[
            br#"{"Operation":"x",}"#,
            br#"{"Operation":"x""#,
            br#"{"Operation":01}"#,
            br#"{"a":1.}"#,
            br#"{"a":-}"#,
            br#"{"a":1e}"#,
            br#"{"a":1e400}"#,
            br#"{"a":"\x"}"#,
            br#"{"a":"\u12"}"#,
            br#"{"a":"\ud800"}"#,
            br#"{"Operation":"\udc00x"}"#,
            b"{\"a\":\"tab\there\"}",
            b"{\"a\":\"\xff\"}",
            br#"{"a":tru}"#,
            br#"{"a":nul}"#,
            br#"{"a" 1}"#,
            br#"{a:1}"#,
            br#"{"a":1} x"#,
            br#"{"a":[1,]}"#,
            br#"{"a":[1 2]}"#,
            b"{\"a\":1}\x0c",
            br#"{"a":1"#,
            b"",
        ];
        for c in cases {
            assert!(
                serde_selected(c, selection()).is_err(),
                "serde accepts {c:?}"
            );
            assert_eq!(scan(c, selection()), None, "{}", String::from_utf8_lossy(c));
        }
    }

    #[test]
    fn reads_valid_edge_cases_as_serde_does() {
        let cases: &[&[u8]] = &[
            br#"{}"#,
            br#" { "Operation" : "x" , "Operation":"y" } "#,
            br#"{"properties":{"status":{"errorCode":1,"errorCode":2},"b":1,"a":{"z":1,"y":2,"z":3}}}"#,
            br#"{"Operati\u006fn":"esc\"aped\\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00"}"#,
            br#"{"CreationTime":-0,"ResultStatus":12345678901234567890123,"Workload":1.5e3}"#,
            br#"{"UserId":[1,{"a":2},null,true,false,"s"],"Junk":{"x":[[[]]],"y":-1.25}}"#,
            br#"{"properties":{"status":{"errorCode":50053,"other":{"a":1}},"big":[1,2]}}"#,
            br#"{"Properties.Status.ErrorCode":7,"TargetResources":[{"modifiedProperties":[{"a":1}]},3]}"#,
            br#"{"Parameters":{"$serde_json::private::RawValue":"[1,2]"}}"#,
            b"{\"Operation\":\"\xc3\xa9t\xc3\xa9 \xe2\x80\x93 x\"}\r\n",
            br#""a scalar""#,
        ];
        let proj = projection();
        for c in cases {
            assert!(
                serde_selected(c, selection()).is_ok(),
                "serde rejects {c:?}"
            );
            agrees(c, selection()).unwrap();
            agrees(c, &proj).unwrap();
        }
        let deep = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        for n in [50, 99, 126, 127, 128, 200] {
            agrees(deep(n).as_bytes(), selection()).unwrap();
        }
    }

    #[test]
    fn mutated_records_are_read_as_serde_reads_them() {
        let records = fixture_records();
        let proj = projection();
        let replacements = [
            None,
            Some(b'"'),
            Some(b'\\'),
            Some(b'{'),
            Some(b']'),
            Some(b','),
            Some(b'0'),
            Some(b'e'),
            Some(0x01),
            Some(0xc3),
        ];
        let mut tried = 0;
        for r in records.iter().step_by(7).take(40) {
            let stride = (r.len() / 150).max(1);
            for at in (0..r.len()).step_by(stride) {
                for rep in replacements {
                    let mut m = r.clone();
                    match rep {
                        None => drop(m.remove(at)),
                        Some(b) => m[at] = b,
                    }
                    agrees(&m, selection()).unwrap();
                    agrees(&m, &proj).unwrap();
                    tried += 1;
                }
            }
        }
        assert!(tried > 10_000, "{tried}");
    }
}
