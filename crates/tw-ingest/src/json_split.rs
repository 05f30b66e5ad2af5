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
    eof: bool,
    /// The last line ended with a `\r` at the end of a read: a `\n` right after belongs to it.
    after_cr: bool,
    s: Scan,
}

/// The state of the structured splitter between reads: where it is in the nesting and in strings,
/// the record being captured, and the keys of a top-level object (to tell wrappers from records).
struct Scan {
    line: u64,
    max_record: usize,
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
    /// Offset in the current read buffer of the record's bytes not yet copied to the caller's
    /// buffer: a record is copied in runs, not byte by byte.
    pending: usize,
}

/// What a scan of one read buffer ended with, besides needing more input.
enum Found {
    /// A piece to hand out.
    Piece(Piece),
    /// Text outside any JSON value starts here: the rest of its line is skipped.
    Junk,
}

impl<R: BufRead> JsonSplitter<R> {
    /// A splitter for `layout`; records larger than `max_record` bytes are reported, not kept.
    pub fn new(r: R, layout: JsonLayout, max_record: usize) -> Self {
        JsonSplitter {
            r,
            layout,
            eof: false,
            after_cr: false,
            s: Scan {
                line: 1,
                max_record,
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
                pending: 0,
            },
        }
    }

    /// The same splitter for text whose first byte is on line `line` (lines before it were
    /// skipped by the caller).
    pub fn starting_at_line(mut self, line: u64) -> Self {
        self.s.line = line.max(1);
        self
    }

    /// The next piece; a record's bytes are appended to `out` after what it already holds (so a
    /// caller can collect many records in one buffer); for other pieces `out` is left as it was.
    /// `Ok(None)` at the end.
    pub fn next_piece(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        self.s.base = out.len();
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
            let start_line = self.s.line;
            let Some(overflow) = self.read_line(out)? else {
                return Ok(None);
            };
            if overflow {
                return Ok(Some(Piece::Bad {
                    line: start_line,
                    reason: format!(
                        "record longer than the limit of {} bytes",
                        self.s.max_record
                    ),
                }));
            }
            let base = self.s.base;
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

    /// Appends one line to `out` (dropped once it is over the limit). `None` at the end of input;
    /// `Some(true)` when the line was over the limit.
    fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<Option<bool>> {
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
                if out.len() - self.s.base + take > self.s.max_record.saturating_add(2) {
                    overflow = true;
                    out.truncate(self.s.base);
                } else {
                    out.extend_from_slice(&buf[..take]);
                }
            }
            self.r.consume(take);
            if done {
                self.s.line += 1;
                break;
            }
        }
        Ok(got_any.then_some(overflow))
    }

    /// Scans read buffers in place (no copy but the record's own bytes) until a piece is found.
    fn next_structured(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                self.eof = true;
                return Ok(self.s.at_end(out));
            }
            let (consumed, found) = self.s.scan(buf, out);
            self.r.consume(consumed);
            match found {
                Some(Found::Piece(p)) => return Ok(Some(p)),
                Some(Found::Junk) => return Ok(Some(self.junk(out))),
                None => {}
            }
        }
    }

    /// Junk at the top level: report it and skip the rest of its line.
    fn junk(&mut self, out: &mut Vec<u8>) -> Piece {
        out.truncate(self.s.base);
        let line = self.s.line;
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
                        self.s.line += 1;
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

impl Scan {
    /// The end of input: a record cut short, brackets left open, or nothing more.
    fn at_end(&mut self, out: &mut Vec<u8>) -> Option<Piece> {
        if self.capturing {
            self.capturing = false;
            if self.cap_scalar && !self.in_str && self.depth == self.rec_depth.unwrap_or(0) {
                return Some(Piece::Record {
                    line: self.cap_line,
                });
            }
            out.truncate(self.base);
            self.depth = 0;
            return Some(Piece::Bad {
                line: self.cap_line,
                reason: "unexpected end of input inside a record (truncated file?)".into(),
            });
        }
        if self.depth > 0 {
            let d = self.depth;
            self.depth = 0;
            return Some(Piece::Trailing {
                line: self.line,
                reason: format!(
                    "unexpected end of input: {d} unclosed bracket(s) after the last record"
                ),
            });
        }
        None
    }

    /// Scans `buf` until a piece ends or the buffer does; returns the bytes consumed.
    fn scan(&mut self, buf: &[u8], out: &mut Vec<u8>) -> (usize, Option<Found>) {
        self.pending = 0;
        let mut i = 0;
        while i < buf.len() {
            let step = if self.in_str {
                self.string_run(buf, i, out)
            } else if self.capturing && self.cap_scalar {
                self.scalar_byte(buf, i, out)
            } else if self.capturing && self.depth > 1 {
                self.nested_run(buf, i, out)
            } else {
                self.structural(buf, i, out)
            };
            match step {
                Ok(next) => i = next,
                Err((next, found)) => return (next, Some(found)),
            }
        }
        self.flush(buf, i, out);
        (i, None)
    }

    /// Copies the record's bytes of `buf` up to `upto` to `out` (nothing once over the limit).
    fn flush(&mut self, buf: &[u8], upto: usize, out: &mut Vec<u8>) {
        if self.capturing && !self.overflow && upto > self.pending {
            let run = &buf[self.pending..upto];
            if out.len() - self.base + run.len() > self.max_record {
                self.overflow = true;
                out.truncate(self.base);
            } else {
                out.extend_from_slice(run);
            }
        }
        self.pending = upto;
    }

    fn start_capture(&mut self, out: &mut Vec<u8>, scalar: bool, at: usize) {
        self.capturing = true;
        self.cap_line = self.line;
        self.cap_scalar = scalar;
        self.overflow = false;
        self.pending = at;
        out.truncate(self.base);
    }

    /// Ends the record at `upto` (exclusive) in `buf`.
    fn finish_capture(&mut self, buf: &[u8], upto: usize, out: &mut Vec<u8>) -> Piece {
        self.flush(buf, upto, out);
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

    /// Inside a string from `i`: to its closing quote, an escape or a line end at once.
    fn string_run(
        &mut self,
        buf: &[u8],
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, (usize, Found)> {
        if self.esc {
            // the previous read ended with a backslash: this byte is escaped
            self.esc = false;
            if buf[i] == b'\n' {
                self.line += 1;
            }
            return Ok(i + 1);
        }
        let Some(off) = string_stop(&buf[i..]) else {
            return Ok(buf.len());
        };
        let j = i + off;
        match buf[j] {
            b'\\' if j + 1 < buf.len() => {
                if buf[j + 1] == b'\n' {
                    self.line += 1;
                }
                Ok(j + 2)
            }
            b'\\' => {
                self.esc = true;
                Ok(j + 1)
            }
            b'\n' => {
                self.line += 1;
                Ok(j + 1)
            }
            _ => self.string_closed(buf, j + 1, out),
        }
    }

    /// A string closed just before `i`: a key of a top-level object is noted; a string record ends.
    fn string_closed(
        &mut self,
        buf: &[u8],
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, (usize, Found)> {
        self.in_str = false;
        if let KeyState::InKey(start) = self.key_state {
            self.flush(buf, i, out);
            let end = out.len().saturating_sub(1);
            self.last_key = out.get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
            self.key_state = KeyState::ExpectColon;
        }
        if self.capturing && self.cap_scalar && Some(self.depth) == self.rec_depth {
            let piece = self.finish_capture(buf, i, out);
            return Err((i, Found::Piece(piece)));
        }
        Ok(i)
    }

    /// A byte of a scalar record (number, literal): it ends at a delimiter, which is left for
    /// the next call.
    fn scalar_byte(
        &mut self,
        buf: &[u8],
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, (usize, Found)> {
        if matches!(buf[i], b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
            let piece = self.finish_capture(buf, i, out);
            return Err((i, Found::Piece(piece)));
        }
        Ok(i + 1)
    }

    /// Inside a record below the top level of any top-level object (depth above 1), outside
    /// strings: no key is tracked there and no record starts, so only quotes, brackets and line
    /// feeds matter. Runs to the next string, the end of the record or a return to depth 1.
    fn nested_run(
        &mut self,
        buf: &[u8],
        mut i: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, (usize, Found)> {
        while let Some(&b) = buf.get(i) {
            i += 1;
            match b {
                b'"' => {
                    self.in_str = true;
                    return Ok(i);
                }
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == self.rec_depth.unwrap_or(0) {
                        self.key_state = KeyState::Done;
                        let piece = self.finish_capture(buf, i, out);
                        return Err((i, Found::Piece(piece)));
                    }
                    if self.depth <= 1 {
                        return Ok(i);
                    }
                }
                b'\n' => self.line += 1,
                _ => {}
            }
        }
        Ok(i)
    }

    /// A byte outside strings and scalar records: whitespace, brackets, `:`, `,`, the start of
    /// a string or scalar, a byte order mark or junk.
    fn structural(
        &mut self,
        buf: &[u8],
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, (usize, Found)> {
        let b = buf[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                // A run of whitespace (indentation) at once.
                let run = buf[i..]
                    .iter()
                    .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                    .count();
                self.line += memchr::memchr_iter(b'\n', &buf[i..i + run]).count() as u64;
                Ok(i + run)
            }
            b'"' => {
                self.string_opened(buf, i, out);
                Ok(i + 1)
            }
            b'{' | b'[' => Ok(self.opened(b, i, out)),
            b'}' | b']' => self.closed(b, buf, i, out),
            b':' => {
                if self.depth == 1 && self.key_state == KeyState::ExpectColon {
                    self.key_state = KeyState::ExpectValue;
                }
                Ok(i + 1)
            }
            b',' => {
                if self.depth == 1 && self.key_state == KeyState::InValue {
                    self.key_state = KeyState::ExpectKey;
                }
                Ok(i + 1)
            }
            0xEF if self.depth == 0 && !self.capturing => {
                // byte order mark at a top-level position: skip it
                if buf[i..].starts_with(b"\xEF\xBB\xBF") {
                    return Ok(i + 3);
                }
                Err((i, Found::Junk))
            }
            _ => {
                if self.depth == 1 && self.key_state == KeyState::ExpectValue {
                    self.value_started(false);
                }
                if !self.capturing && self.at_record_start() {
                    if self.depth == 0 {
                        return Err((i, Found::Junk));
                    }
                    self.start_capture(out, true, i);
                }
                Ok(i + 1)
            }
        }
    }

    /// A `"` outside strings at `i`: maybe a string record, a key or a value of a top-level object.
    fn string_opened(&mut self, buf: &[u8], i: usize, out: &mut Vec<u8>) {
        if !self.capturing && self.at_record_start() {
            self.start_capture(out, true, i);
        }
        if self.depth == 1 && self.rec_array.is_none() && self.key_state == KeyState::ExpectKey {
            self.flush(buf, i + 1, out);
            self.key_state = KeyState::InKey(out.len());
        } else if self.depth == 1 && self.key_state == KeyState::ExpectValue {
            self.value_started(false);
        }
        self.in_str = true;
    }

    /// `{` or `[` at `i`: a wrapper's record array, a top-level array, or a record or nested
    /// value opening. Returns where to go on.
    fn opened(&mut self, b: u8, i: usize, out: &mut Vec<u8>) -> usize {
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
            return i + 1;
        }
        if !self.capturing && self.depth == 0 && b == b'[' && self.rec_array.is_none() {
            // top-level array: its elements are records
            self.depth = 1;
            self.rec_array = Some(1);
            self.rec_depth = Some(1);
            return i + 1;
        }
        if !self.capturing && self.at_record_start() {
            self.start_capture(out, false, i);
            if self.depth == 0 && b == b'{' {
                self.key_state = KeyState::ExpectKey;
                self.keys_all_odata = true;
            }
        }
        self.depth += 1;
        i + 1
    }

    /// `}` or `]` at `i`: unbalanced, the end of the record array, or a value (maybe a record)
    /// closing.
    fn closed(
        &mut self,
        b: u8,
        buf: &[u8],
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, (usize, Found)> {
        if self.depth == 0 {
            let piece = Piece::Bad {
                line: self.line,
                reason: format!("unbalanced '{}'", b as char),
            };
            return Err((i + 1, Found::Piece(piece)));
        }
        if Some(self.depth) == self.rec_array && b == b']' && !self.capturing {
            // end of the record array
            self.depth -= 1;
            self.rec_array = None;
            self.rec_depth = None;
            if self.depth > 0 {
                self.skipping_wrapper = true;
            }
            return Ok(i + 1);
        }
        self.depth -= 1;
        if self.depth == 0 && self.skipping_wrapper {
            self.skipping_wrapper = false;
            self.key_state = KeyState::Done;
        }
        if self.capturing && self.depth == self.rec_depth.unwrap_or(0) {
            self.key_state = KeyState::Done;
            let piece = self.finish_capture(buf, i + 1, out);
            return Err((i + 1, Found::Piece(piece)));
        }
        Ok(i + 1)
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
}

/// Where the first `"`, `\` or line feed of `text` is: strings of logs are mostly short, so
/// the first 32 bytes are looked at eight a step, the rest by `memchr3`.
fn string_stop(text: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // The high bit of every byte of `x` that is zero; the lowest one flagged is exact.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    for chunk in text.chunks_exact(8).take(4) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        let m = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | zero(w ^ (ONES * u64::from(b'\n')));
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr3(b'"', b'\\', b'\n', text.get(at..)?).map(|i| at + i)
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

    /// The word-at-a-time search stops where `memchr3` does, at every offset of short and long
    /// texts.
    #[test]
    fn string_stop_agrees_with_memchr3() {
        let stops = [b'"', b'\\', b'\n'];
        let others = [b'a', b'\r', 0x00, 0x80, 0xff, b'#', b']', b'\\' ^ 1];
        for len in 0..80 {
            for &fill in &others {
                let base = vec![fill; len];
                assert_eq!(string_stop(&base), None);
                for at in 0..len {
                    for &stop in &stops {
                        for &after in stops.iter().chain(&others) {
                            let mut t = base.clone();
                            t[at] = stop;
                            for b in t.iter_mut().skip(at + 1) {
                                *b = after;
                            }
                            assert_eq!(string_stop(&t), Some(at), "{t:?}");
                        }
                    }
                }
            }
        }
    }

    /// Every fixture file splits into the same pieces (bytes and lines) whatever the size of
    /// the reads, down to three bytes (a leading byte order mark is read whole): state carried
    /// across reads is kept right.
    #[test]
    fn pieces_do_not_depend_on_read_sizes() {
        let root =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "json")
                    && e.metadata().is_ok_and(|m| m.len() < 64 * 1024)
                {
                    files.push(p);
                }
            }
        }
        files.sort();
        assert!(files.len() > 20, "{}", files.len());
        let pieces = |text: &[u8], cap: usize| {
            let r = io::BufReader::with_capacity(cap, text);
            let mut sp = JsonSplitter::new(r, JsonLayout::Structured, 1 << 20);
            let mut v = Vec::new();
            let mut out = Vec::new();
            while let Some(p) = sp.next_piece(&mut out).unwrap() {
                v.push((format!("{p:?}"), std::mem::take(&mut out)));
            }
            v
        };
        let mut records = 0;
        for f in &files {
            let text = std::fs::read(f).unwrap();
            let whole = pieces(&text, 1 << 16);
            records += whole.len();
            for cap in [3, 4, 7, 64] {
                assert_eq!(
                    pieces(&text, cap),
                    whole,
                    "{} read {cap} at a time",
                    f.display()
                );
            }
        }
        assert!(records > 200, "{records}");
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
