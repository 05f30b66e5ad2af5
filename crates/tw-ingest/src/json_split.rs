//! Splitting a JSON stream into records without parsing it: JSON lines, JSON arrays (one line or
//! PowerShell-indented), Graph pages (`{"value":[...]}`, several per file, `@odata.*` keys skipped),
//! Azure Monitor blobs (`{"records":[...]}`), and concatenated top-level objects.
//!
//! The splitter tracks only nesting depth and string state, so it never recurses (a document nested
//! 100,000 levels deep costs a counter, not a stack) and holds at most one record in memory (records
//! above the size limit are skipped and reported).

use std::io::{self, BufRead};

/// How the records of a JSON file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonLayout {
    /// One record per non-blank line.
    Lines,
    /// Records are top-level values, elements of a top-level array, or elements of the `value` /
    /// `records` array of wrapper objects.
    Structured,
}

/// One piece the splitter found.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// A record; its bytes are in the caller's buffer. `line` is 1-based.
    Record {
        /// Line on which the record starts.
        line: u64,
    },
    /// A problem of the file that is no record: unclosed brackets after the last record.
    Trailing {
        /// Line where the input ended.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// Something that could not be a record (reason given); it still counts as a record.
    Bad {
        /// Line on which it starts.
        line: u64,
        /// Why it was rejected.
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    /// Inside a top-level object, expecting a key.
    ExpectKey,
    /// Reading a key string that starts at this offset of the capture buffer.
    InKey(usize),
    /// Key read, expecting `:`.
    ExpectColon,
    /// After `:`, expecting the value.
    ExpectValue,
    /// Inside a value at depth 1.
    InValue,
    /// No longer tracking: this object is a record.
    Done,
}

/// A streaming record splitter over a buffered reader.
pub struct JsonSplitter<R> {
    r: R,
    layout: JsonLayout,
    max_record: usize,
    line: u64,
    eof: bool,
    /// The last line ended with a `\r` at the end of a read: a `\n` right after belongs to it.
    after_cr: bool,
    // structured state
    depth: u64,
    in_str: bool,
    esc: bool,
    /// Depth at which values are records, when known.
    rec_depth: Option<u64>,
    /// Depth of the array whose elements are records (`None`: top-level values are records).
    rec_array: Option<u64>,
    /// Inside a wrapper object, after its record array closed: skip to its end.
    skipping_wrapper: bool,
    capturing: bool,
    cap_line: u64,
    cap_scalar: bool,
    overflow: bool,
    key_state: KeyState,
    keys_all_odata: bool,
    last_key: Vec<u8>,
    /// Where the current record starts in the caller's buffer.
    base: usize,
    /// Scratch copy of the part of the read buffer being scanned.
    window: Vec<u8>,
}

/// Bytes of the read buffer scanned per step of the structured splitter.
const WINDOW: usize = 16 << 10;

impl<R: BufRead> JsonSplitter<R> {
    /// A splitter for `layout`; records larger than `max_record` bytes are reported, not kept.
    pub fn new(r: R, layout: JsonLayout, max_record: usize) -> Self {
        JsonSplitter {
            r,
            layout,
            max_record,
            line: 1,
            eof: false,
            after_cr: false,
            depth: 0,
            in_str: false,
            esc: false,
            rec_depth: None,
            rec_array: None,
            skipping_wrapper: false,
            capturing: false,
            cap_line: 0,
            cap_scalar: false,
            overflow: false,
            key_state: KeyState::Done,
            keys_all_odata: true,
            last_key: Vec::new(),
            base: 0,
            window: Vec::new(),
        }
    }

    /// The same splitter for text whose first byte is on line `line` (lines before it were
    /// skipped by the caller).
    pub fn starting_at_line(mut self, line: u64) -> Self {
        self.line = line.max(1);
        self
    }

    /// The next piece; a record's bytes are appended to `out` after what it already holds (so a
    /// caller can collect many records in one buffer); for other pieces `out` is left as it was.
    /// `Ok(None)` at the end.
    pub fn next_piece(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        self.base = out.len();
        match self.layout {
            JsonLayout::Lines => self.next_line(out),
            JsonLayout::Structured => self.next_structured(out),
        }
    }

    fn next_line(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        loop {
            if self.eof {
                return Ok(None);
            }
            let start_line = self.line;
            let mut overflow = false;
            let mut got_any = false;
            loop {
                let buf = self.r.fill_buf()?;
                if buf.is_empty() {
                    self.eof = true;
                    break;
                }
                if std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                    // the `\n` of a `\r\n` split across reads: the line already ended
                    self.r.consume(1);
                    continue;
                }
                got_any = true;
                // A line ends at `\n`, `\r\n` or a bare `\r` (files whose line ends vary).
                let (take, done) = match memchr::memchr2(b'\n', b'\r', buf) {
                    Some(i) if buf[i] == b'\r' && buf.get(i + 1) == Some(&b'\n') => (i + 2, true),
                    Some(i) => {
                        self.after_cr = buf[i] == b'\r' && i + 1 == buf.len();
                        (i + 1, true)
                    }
                    None => (buf.len(), false),
                };
                if !overflow {
                    if out.len() - self.base + take > self.max_record.saturating_add(2) {
                        overflow = true;
                        out.truncate(self.base);
                    } else {
                        out.extend_from_slice(&buf[..take]);
                    }
                }
                self.r.consume(take);
                if done {
                    self.line += 1;
                    break;
                }
            }
            if !got_any {
                return Ok(None);
            }
            if overflow {
                return Ok(Some(Piece::Bad {
                    line: start_line,
                    reason: format!("record longer than the limit of {} bytes", self.max_record),
                }));
            }
            let base = self.base;
            let trimmed = trim_ascii(&out[base..]);
            if trimmed.is_empty() || trimmed == b"\xEF\xBB\xBF" {
                out.truncate(base);
                continue;
            }
            let (s, e) = span(&out[base..]);
            out.truncate(base + e);
            if s > 0 {
                out.drain(base..base + s);
            }
            if out[base..].starts_with(b"\xEF\xBB\xBF") {
                out.drain(base..base + 3);
            }
            return Ok(Some(Piece::Record { line: start_line }));
        }
    }

    fn start_capture(&mut self, out: &mut Vec<u8>, scalar: bool) {
        self.capturing = true;
        self.cap_line = self.line;
        self.cap_scalar = scalar;
        self.overflow = false;
        out.truncate(self.base);
    }

    fn push(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        if self.capturing && !self.overflow {
            if out.len() - self.base + bytes.len() > self.max_record {
                self.overflow = true;
                out.truncate(self.base);
            } else {
                out.extend_from_slice(bytes);
            }
        }
    }

    fn finish_capture(&mut self, out: &mut Vec<u8>) -> Piece {
        self.capturing = false;
        if self.overflow {
            out.truncate(self.base);
            Piece::Bad {
                line: self.cap_line,
                reason: format!("record longer than the limit of {} bytes", self.max_record),
            }
        } else {
            Piece::Record {
                line: self.cap_line,
            }
        }
    }

    fn next_structured(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                self.eof = true;
                if self.capturing {
                    self.capturing = false;
                    if self.cap_scalar && !self.in_str && self.depth == self.rec_depth.unwrap_or(0)
                    {
                        return Ok(Some(Piece::Record {
                            line: self.cap_line,
                        }));
                    }
                    out.truncate(self.base);
                    self.depth = 0;
                    return Ok(Some(Piece::Bad {
                        line: self.cap_line,
                        reason: "unexpected end of input inside a record (truncated file?)".into(),
                    }));
                }
                if self.depth > 0 {
                    let d = self.depth;
                    self.depth = 0;
                    return Ok(Some(Piece::Trailing {
                        line: self.line,
                        reason: format!(
                            "unexpected end of input: {d} unclosed bracket(s) after the last record"
                        ),
                    }));
                }
                return Ok(None);
            }
            // Copy out a window of the buffer so we can call &mut self helpers (a bounded copy:
            // a record ends the window early, and the rest is read again on the next call).
            let buf_len = buf.len().min(WINDOW);
            let mut chunk = std::mem::take(&mut self.window);
            chunk.clear();
            chunk.extend_from_slice(&buf[..buf_len]);
            let mut i = 0;
            let mut result: Option<Piece> = None;
            while i < chunk.len() {
                if self.in_str {
                    if self.esc {
                        // the previous chunk ended with a backslash: this byte is escaped
                        self.esc = false;
                        if chunk[i] == b'\n' {
                            self.line += 1;
                        }
                        self.push(out, &chunk[i..=i]);
                        i += 1;
                        continue;
                    }
                    // Fast path through string content.
                    match memchr::memchr3(b'"', b'\\', b'\n', &chunk[i..]) {
                        None => {
                            self.push(out, &chunk[i..]);
                            i = chunk.len();
                            continue;
                        }
                        Some(off) => {
                            let j = i + off;
                            self.push(out, &chunk[i..=j]);
                            match chunk[j] {
                                b'\\' => {
                                    if j + 1 < chunk.len() {
                                        self.push(out, &chunk[j + 1..=j + 1]);
                                        if chunk[j + 1] == b'\n' {
                                            self.line += 1;
                                        }
                                        i = j + 2;
                                    } else {
                                        self.esc = true;
                                        i = j + 1;
                                    }
                                }
                                b'\n' => {
                                    self.line += 1;
                                    i = j + 1;
                                }
                                _ => {
                                    self.in_str = false;
                                    i = j + 1;
                                    if let KeyState::InKey(start) = self.key_state {
                                        let end = out.len().saturating_sub(1);
                                        self.last_key = out
                                            .get(start..end)
                                            .map(<[u8]>::to_vec)
                                            .unwrap_or_default();
                                        self.key_state = KeyState::ExpectColon;
                                    }
                                    if self.capturing
                                        && self.cap_scalar
                                        && Some(self.depth) == self.rec_depth
                                    {
                                        result = Some(self.finish_capture(out));
                                        break;
                                    }
                                }
                            }
                            continue;
                        }
                    }
                }
                let b = chunk[i];
                // Scalar records end at a delimiter.
                if self.capturing && self.cap_scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        result = Some(self.finish_capture(out));
                        // do not consume: process the delimiter next time
                        break;
                    }
                    self.push(out, &chunk[i..=i]);
                    i += 1;
                    continue;
                }
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => {
                        // A run of whitespace (indentation) at once.
                        let run = chunk[i..]
                            .iter()
                            .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                            .count();
                        self.line +=
                            chunk[i..i + run].iter().filter(|c| **c == b'\n').count() as u64;
                        self.push(out, &chunk[i..i + run]);
                        i += run;
                        continue;
                    }
                    b'"' => {
                        if !self.capturing && self.at_record_start() {
                            self.start_capture(out, true);
                        }
                        if self.depth == 1
                            && self.rec_array.is_none()
                            && self.key_state == KeyState::ExpectKey
                        {
                            self.key_state = KeyState::InKey(out.len() + 1);
                        } else if self.depth == 1 && self.key_state == KeyState::ExpectValue {
                            self.value_started(false);
                        }
                        self.in_str = true;
                        self.push(out, &chunk[i..=i]);
                    }
                    b'{' | b'[' => {
                        if self.depth == 1
                            && self.key_state == KeyState::ExpectValue
                            && self.value_started(b == b'[')
                        {
                            // The top-level object is a wrapper: its array holds the records.
                            out.truncate(self.base);
                            self.capturing = false;
                            self.depth += 1;
                            self.rec_array = Some(self.depth);
                            self.rec_depth = Some(self.depth);
                            i += 1;
                            continue;
                        }
                        if !self.capturing
                            && self.depth == 0
                            && b == b'['
                            && self.rec_array.is_none()
                        {
                            // top-level array: its elements are records
                            self.depth = 1;
                            self.rec_array = Some(1);
                            self.rec_depth = Some(1);
                            i += 1;
                            continue;
                        }
                        if !self.capturing && self.at_record_start() {
                            self.start_capture(out, false);
                            if self.depth == 0 && b == b'{' {
                                self.key_state = KeyState::ExpectKey;
                                self.keys_all_odata = true;
                            }
                        }
                        self.depth += 1;
                        self.push(out, &chunk[i..=i]);
                    }
                    b'}' | b']' => {
                        if self.depth == 0 {
                            result = Some(Piece::Bad {
                                line: self.line,
                                reason: format!("unbalanced '{}'", b as char),
                            });
                            i += 1;
                            break;
                        }
                        if Some(self.depth) == self.rec_array && b == b']' && !self.capturing {
                            // end of the record array
                            self.depth -= 1;
                            self.rec_array = None;
                            self.rec_depth = None;
                            if self.depth > 0 {
                                self.skipping_wrapper = true;
                            }
                            i += 1;
                            continue;
                        }
                        self.depth -= 1;
                        self.push(out, &chunk[i..=i]);
                        if self.depth == 0 && self.skipping_wrapper {
                            self.skipping_wrapper = false;
                            self.key_state = KeyState::Done;
                        }
                        if self.capturing && self.depth == self.rec_depth.unwrap_or(0) {
                            self.key_state = KeyState::Done;
                            result = Some(self.finish_capture(out));
                            i += 1;
                            break;
                        }
                    }
                    b':' => {
                        if self.depth == 1 && self.key_state == KeyState::ExpectColon {
                            self.key_state = KeyState::ExpectValue;
                        }
                        self.push(out, &chunk[i..=i]);
                    }
                    b',' => {
                        if self.depth == 1 && self.key_state == KeyState::InValue {
                            self.key_state = KeyState::ExpectKey;
                        }
                        if self.capturing || self.depth > 0 {
                            self.push(out, &chunk[i..=i]);
                        }
                    }
                    0xEF if self.depth == 0 && !self.capturing => {
                        // byte order mark at a top-level position: skip it
                        let rest = &chunk[i..];
                        if rest.starts_with(b"\xEF\xBB\xBF") {
                            i += 3;
                            continue;
                        }
                        self.r.consume(i);
                        return Ok(Some(self.junk(out)));
                    }
                    _ => {
                        if self.depth == 1 && self.key_state == KeyState::ExpectValue {
                            self.value_started(false);
                        }
                        if !self.capturing && self.at_record_start() {
                            if self.depth == 0 {
                                self.r.consume(i);
                                return Ok(Some(self.junk(out)));
                            }
                            self.start_capture(out, true);
                        }
                        self.push(out, &chunk[i..=i]);
                    }
                }
                i += 1;
            }
            let consumed = i.min(buf_len);
            self.window = chunk;
            self.r.consume(consumed);
            if let Some(p) = result {
                return Ok(Some(p));
            }
        }
    }

    /// True at a position where a value would be a record.
    fn at_record_start(&self) -> bool {
        if self.skipping_wrapper {
            return false;
        }
        match self.rec_depth {
            Some(d) => self.depth == d,
            None => self.depth == 0,
        }
    }

    /// A value starts at depth 1 of a top-level object; returns true when the object is a wrapper.
    fn value_started(&mut self, is_array: bool) -> bool {
        let key = std::mem::take(&mut self.last_key);
        let wrapper = is_array && self.keys_all_odata && (key == b"value" || key == b"records");
        if wrapper {
            self.key_state = KeyState::Done;
            return true;
        }
        if !(key.starts_with(b"@odata") || key == b"nextLink") {
            self.keys_all_odata = false;
        }
        self.key_state = KeyState::InValue;
        false
    }

    /// Junk at the top level: report it and skip the rest of its line.
    fn junk(&mut self, out: &mut Vec<u8>) -> Piece {
        out.truncate(self.base);
        let line = self.line;
        // skip to the end of the line
        let mut skip_line = || -> io::Result<()> {
            loop {
                let buf = self.r.fill_buf()?;
                if buf.is_empty() {
                    return Ok(());
                }
                match memchr::memchr(b'\n', buf) {
                    Some(j) => {
                        self.r.consume(j + 1);
                        self.line += 1;
                        return Ok(());
                    }
                    None => {
                        let n = buf.len();
                        self.r.consume(n);
                    }
                }
            }
        };
        let _ = skip_line();
        Piece::Bad {
            line,
            reason: "text outside any JSON value".into(),
        }
    }
}

fn span(b: &[u8]) -> (usize, usize) {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|p| p + 1)
        .unwrap_or(s);
    (s, e.max(s))
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let (s, e) = span(b);
    &b[s..e]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, layout: JsonLayout) -> Vec<(String, u64)> {
        let mut sp = JsonSplitter::new(
            io::BufReader::with_capacity(7, text.as_bytes()),
            layout,
            1 << 20,
        );
        let mut out = Vec::new();
        let mut v = Vec::new();
        while let Some(p) = {
            out.clear();
            sp.next_piece(&mut out).unwrap()
        } {
            match p {
                Piece::Record { line } => v.push((
                    String::from_utf8(out.clone()).unwrap().trim().to_string(),
                    line,
                )),
                Piece::Bad { line, reason } => v.push((format!("BAD {reason}"), line)),
                Piece::Trailing { line, reason } => v.push((format!("TRAILING {reason}"), line)),
            }
        }
        v
    }

    #[test]
    fn lines() {
        let v = split("{\"a\":1}\r\n\n  {\"b\":\"x\\n\"}\n", JsonLayout::Lines);
        assert_eq!(
            v,
            vec![("{\"a\":1}".into(), 1), ("{\"b\":\"x\\n\"}".into(), 3)]
        );
    }

    #[test]
    fn array_pretty() {
        let v = split(
            "\u{feff}[\r\n  {\r\n    \"a\": \"]}\\\"\"\r\n  },\r\n  {\"b\": [1,{\"c\":2}]}\r\n]\r\n",
            JsonLayout::Structured,
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].1, 2);
        assert!(v[0].0.contains("]}\\\""));
        assert_eq!(v[1], ("{\"b\": [1,{\"c\":2}]}".into(), 5));
    }

    #[test]
    fn graph_pages() {
        let text = "{\"@odata.context\":\"x\",\"value\":[{\"id\":1},\n{\"id\":2}],\"@odata.nextLink\":\"n\"}\n{\"@odata.context\":\"x\",\"value\":[\n{\"id\":3}]}";
        let v = split(text, JsonLayout::Structured);
        assert_eq!(
            v,
            vec![
                ("{\"id\":1}".into(), 1),
                ("{\"id\":2}".into(), 2),
                ("{\"id\":3}".into(), 4)
            ]
        );
    }

    #[test]
    fn records_blob_and_plain_objects() {
        let v = split(
            "{\"records\": [{\"a\":1},{\"a\":[2]}]}",
            JsonLayout::Structured,
        );
        assert_eq!(v.len(), 2);
        // an object whose `value` is not first after @odata keys is a record
        let v = split(
            "{\n \"id\": 1,\n \"value\": [1]\n}\n{\"id\":2}",
            JsonLayout::Structured,
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].1, 5);
    }

    #[test]
    fn truncated_and_junk() {
        let v = split("[{\"a\":1},{\"a\":", JsonLayout::Structured);
        assert_eq!(v.len(), 2);
        assert!(v[1].0.starts_with("BAD unexpected end"));
        let v = split("garbage line\n{\"a\":1}", JsonLayout::Structured);
        assert_eq!(v[0].0, "BAD text outside any JSON value");
        assert_eq!(v[1], ("{\"a\":1}".into(), 2));
    }

    #[test]
    fn deep_nesting_is_not_recursive() {
        let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        let v = split(&deep, JsonLayout::Structured);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn oversize_record() {
        let big = format!("[{{\"a\":\"{}\"}},{{\"b\":1}}]", "x".repeat(5000));
        let mut sp = JsonSplitter::new(
            io::BufReader::new(big.as_bytes()),
            JsonLayout::Structured,
            1000,
        );
        let mut out = Vec::new();
        let p1 = sp.next_piece(&mut out).unwrap().unwrap();
        assert!(matches!(p1, Piece::Bad { .. }));
        out.clear();
        let p2 = sp.next_piece(&mut out).unwrap().unwrap();
        assert_eq!(p2, Piece::Record { line: 1 });
        assert_eq!(out, b"{\"b\":1}");
    }
}
