//! Splitting CSV text into rows (RFC 4180 quoting, `\n`, `\r\n` or bare `\r` line ends) with a
//! bound on each row: a row larger than the record limit is read through to its end without being
//! kept and reported by its line, so one huge cell costs no more memory than the limit, and the
//! next row is read as usual. Lines are counted on the bytes themselves (every line end, inside
//! quoted cells too), so the line of each row is where it starts in the file.

use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

/// One row of a CSV text.
#[derive(Debug)]
pub enum Row {
    /// A row within the limit, with the 1-based line it starts on.
    Record {
        /// Its cells.
        rec: csv::ByteRecord,
        /// Line on which it starts.
        line: u64,
    },
    /// A row over the limit: read through, not kept.
    TooLong {
        /// Line on which it starts.
        line: u64,
    },
}

/// One row of a CSV text, its cells appended to the caller's buffers ([`CsvRows::next_row_into`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAt {
    /// A row within the limit: its number of cells and the 1-based line it starts on.
    Record {
        /// Line on which it starts.
        line: u64,
        /// Cells appended.
        cells: usize,
    },
    /// A row over the limit: read through, nothing appended.
    TooLong {
        /// Line on which it starts.
        line: u64,
    },
}

/// A streaming row reader over buffered CSV text.
pub struct CsvRows<R> {
    r: R,
    core: Option<csv_core::Reader>,
    max_row: usize,
    line: u64,
    prev_cr: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    done: bool,
    /// Rows without quotes are split at their commas without the parser ([`CsvRows::plain_row`]).
    plain: bool,
}

impl<R: BufRead> CsvRows<R> {
    /// Rows of `r`, whose first byte is on line `first_line`; rows above `max_row` bytes (cells
    /// plus 8 bytes per cell) are reported as [`Row::TooLong`].
    pub fn new(r: R, max_row: usize, first_line: u64) -> Self {
        CsvRows {
            r,
            core: Some(spare_reader()),
            max_row: max_row.max(1),
            line: first_line.max(1),
            prev_cr: false,
            out: vec![0; 4096.min(max_row.max(1))],
            ends: vec![0; 64],
            done: false,
            plain: true,
        }
    }

    /// Skips the line ends before a row (blank lines are no rows).
    fn skip_blank_lines(&mut self) -> io::Result<()> {
        loop {
            let buf = self.r.fill_buf()?;
            let n = buf
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if n == 0 {
                return Ok(());
            }
            count_lines(&buf[..n], &mut self.line, &mut self.prev_cr);
            self.r.consume(n);
        }
    }

    /// The next row, `Ok(None)` at the end.
    pub fn next_row(&mut self) -> io::Result<Option<Row>> {
        Ok(self.read_row()?.map(|r| match r {
            Parsed::Kept {
                line,
                outlen,
                nends,
            } => self.record(line, outlen, nends),
            Parsed::Over { line } => Row::TooLong { line },
        }))
    }

    /// The next row with its cells appended to `cells` (unquoted, one after the other) and the
    /// end of each cell, counted from the row's first byte, to `ends`: no allocation per row.
    /// `Ok(None)` at the end.
    pub fn next_row_into(
        &mut self,
        cells: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) -> io::Result<Option<RowAt>> {
        Ok(self.read_row()?.map(|r| match r {
            Parsed::Kept {
                line,
                outlen,
                nends,
            } => {
                cells.extend_from_slice(self.out.get(..outlen).unwrap_or_default());
                ends.extend_from_slice(&self.ends[..nends]);
                RowAt::Record { line, cells: nends }
            }
            Parsed::Over { line } => RowAt::TooLong { line },
        }))
    }

    /// Parses the next row into `out` and `ends`.
    fn read_row(&mut self) -> io::Result<Option<Parsed>> {
        if self.done {
            return Ok(None);
        }
        self.skip_blank_lines()?;
        let line = self.line;
        if self.plain
            && let Some(row) = self.plain_row(line)?
        {
            return Ok(Some(row));
        }
        let (mut outlen, mut nends, mut over) = (0usize, 0usize, false);
        let Some(core) = self.core.as_mut() else {
            return Ok(None);
        };
        loop {
            let buf = self.r.fill_buf()?;
            let (res, nin, nout, nend) =
                core.read_record(buf, &mut self.out[outlen..], &mut self.ends[nends..]);
            count_lines(&buf[..nin], &mut self.line, &mut self.prev_cr);
            self.r.consume(nin);
            outlen += nout;
            nends += nend;
            if !over && outlen + nends * 8 > self.max_row {
                over = true;
            }
            if over {
                // Read through without keeping: the parser writes over the same bytes.
                (outlen, nends) = (0, 0);
            }
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if !over {
                        let len = (self.out.len() * 2).min(self.max_row + 1);
                        let len = len.max(self.out.len() + 1);
                        // exactly what is needed: the limit bounds the memory, not twice it
                        self.out.reserve_exact(len - self.out.len());
                        self.out.resize(len, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if !over {
                        let len = self.ends.len() * 2;
                        self.ends.resize(len, 0);
                    }
                }
                ReadRecordResult::Record if over => return Ok(Some(Parsed::Over { line })),
                ReadRecordResult::Record => {
                    return Ok(Some(Parsed::Kept {
                        line,
                        outlen,
                        nends,
                    }));
                }
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    /// The next row when the buffer holds all of it and it is regular RFC 4180 (each cell either
    /// unquoted and free of quotes, or quoted whole with doubled quotes inside): its cells read
    /// with `memchr`, the ones the parser would give. Anything else (a row not buffered whole, a
    /// stray quote, a row over the limit) is left to the parser. Most rows of the exports are
    /// regular, and the parser's state machine costs several times these searches.
    fn plain_row(&mut self, line: u64) -> io::Result<Option<Parsed>> {
        let CsvRows {
            r,
            out,
            ends,
            max_row,
            ..
        } = self;
        let buf = r.fill_buf()?;
        let mut row = RowWriter {
            out,
            ends,
            len: 0,
            cells: 0,
            max: *max_row,
        };
        let Some(at) = row.split(buf) else {
            return Ok(None);
        };
        let (outlen, nends) = (row.len, row.cells);
        count_lines(&buf[..=at], &mut self.line, &mut self.prev_cr);
        self.r.consume(at + 1);
        Ok(Some(Parsed::Kept {
            line,
            outlen,
            nends,
        }))
    }

    fn record(&self, line: u64, outlen: usize, nends: usize) -> Row {
        let mut rec = csv::ByteRecord::with_capacity(outlen, nends);
        let mut start = 0;
        for &end in &self.ends[..nends] {
            rec.push_field(self.out.get(start..end).unwrap_or_default());
            start = end;
        }
        Row::Record { rec, line }
    }
}

/// A row parsed into the reader's buffers.
/// `csv_core` readers of files read to the end or dropped, reset, for the next files: building one
/// (its state machine) costs more than reading the rows of a small file.
static SPARE_READERS: std::sync::Mutex<Vec<csv_core::Reader>> = std::sync::Mutex::new(Vec::new());

/// A `csv_core` reader with the default settings, as new.
// `csv_core::Reader::default()` is not `Reader::new()`: it leaves the state machine unbuilt, and
// such a reader never ends a row.
#[allow(clippy::unwrap_or_default)]
fn spare_reader() -> csv_core::Reader {
    SPARE_READERS
        .lock()
        .ok()
        .and_then(|mut v| v.pop())
        .unwrap_or_else(csv_core::Reader::new)
}

impl<R> Drop for CsvRows<R> {
    fn drop(&mut self) {
        if let Some(mut core) = self.core.take()
            && let Ok(mut spare) = SPARE_READERS.lock()
            && spare.len() < 16
        {
            core.reset();
            spare.push(core);
        }
    }
}

/// Cells of a regular row written to a [`CsvRows`]' buffers ([`CsvRows::plain_row`]).
struct RowWriter<'a> {
    out: &'a mut Vec<u8>,
    ends: &'a mut Vec<usize>,
    len: usize,
    cells: usize,
    max: usize,
}

impl RowWriter<'_> {
    /// Splits the row at the start of `buf` into cells; the index of its line end, or `None`
    /// when the row is not regular, not buffered whole, or over the limit.
    fn split(&mut self, buf: &[u8]) -> Option<usize> {
        let mut pos = 0;
        loop {
            let next = match buf.get(pos)? {
                b'"' => self.quoted(buf, pos + 1)?,
                // An empty cell (most columns of the Log Analytics exports): nothing to search.
                b',' | b'\n' | b'\r' => pos,
                _ => {
                    let at = pos + memchr::memchr3(b',', b'\n', b'\r', buf.get(pos..)?)?;
                    let cell = &buf[pos..at];
                    if memchr::memchr(b'"', cell).is_some() {
                        return None;
                    }
                    self.push(cell)?;
                    at
                }
            };
            self.end_cell()?;
            match buf.get(next)? {
                b',' => pos = next + 1,
                b'\n' | b'\r' => return Some(next),
                _ => return None,
            }
        }
    }

    /// A quoted cell whose text starts at `pos`: the index after its closing quote. The text
    /// is read eight bytes at a time: the JSON cells of Log Analytics exports double a quote
    /// every few bytes, where a `memchr` call and a copy per piece cost more than the search.
    fn quoted(&mut self, buf: &[u8], mut pos: usize) -> Option<usize> {
        while let Some(word) = buf.get(pos..pos + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let Some(k) = first_quote(u64::from_le_bytes(w)) else {
                self.push_prefix(&w, 8)?;
                pos += 8;
                continue;
            };
            if buf.get(pos + k + 1) == Some(&b'"') {
                // A doubled quote: the text before it and one quote.
                self.push_prefix(&w, k + 1)?;
                pos += k + 2;
            } else {
                self.push_prefix(&w, k)?;
                return Some(pos + k + 1);
            }
        }
        // Fewer than eight bytes left in the buffer.
        loop {
            let q = pos + memchr::memchr(b'"', buf.get(pos..)?)?;
            self.push(&buf[pos..q])?;
            if buf.get(q + 1) == Some(&b'"') {
                self.push(b"\"")?;
                pos = q + 2;
            } else {
                return Some(q + 1);
            }
        }
    }

    /// Appends the first `n` bytes of `word` (the whole word is written: one store, not a copy
    /// of a length only known at run time; the bytes past `n` are overwritten next).
    fn push_prefix(&mut self, word: &[u8; 8], n: usize) -> Option<()> {
        let len = self.len + n;
        if len + (self.cells + 1) * 8 > self.max {
            return None;
        }
        if self.out.len() < self.len + 8 {
            let want = (self.len + 8).max(self.out.len() * 2).min(self.max + 9);
            self.out.resize(want, 0);
        }
        self.out
            .get_mut(self.len..self.len + 8)?
            .copy_from_slice(word);
        self.len = len;
        Some(())
    }

    fn push(&mut self, bytes: &[u8]) -> Option<()> {
        let len = self.len + bytes.len();
        if len + (self.cells + 1) * 8 > self.max {
            return None;
        }
        if self.out.len() < len {
            self.out
                .resize(len.max(self.out.len() * 2).min(self.max + 1), 0);
        }
        self.out.get_mut(self.len..len)?.copy_from_slice(bytes);
        self.len = len;
        Some(())
    }

    fn end_cell(&mut self) -> Option<()> {
        if self.len + (self.cells + 1) * 8 > self.max {
            return None;
        }
        if self.ends.len() <= self.cells {
            self.ends.resize((self.cells + 1) * 2, 0);
        }
        self.ends[self.cells] = self.len;
        self.cells += 1;
        Some(())
    }
}

/// The place of the first `"` in the eight bytes of `word` (little-endian), if any: a zero
/// byte of `word ^ 0x2222…` marks one; the lowest byte flagged is exact (the carries of the
/// subtraction reach only higher bytes).
fn first_quote(word: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let y = word ^ (ONES * u64::from(b'"'));
    let hits = y.wrapping_sub(ONES) & !y & (ONES << 7);
    (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize)
}

enum Parsed {
    Kept {
        line: u64,
        outlen: usize,
        nends: usize,
    },
    Over {
        line: u64,
    },
}

/// Counts line ends in `bytes` (`\r\n` once, also when split across reads).
fn count_lines(bytes: &[u8], line: &mut u64, prev_cr: &mut bool) {
    let mut last = None;
    for i in memchr::memchr2_iter(b'\r', b'\n', bytes) {
        let after_cr = match i.checked_sub(1) {
            Some(j) => last == Some(j) && bytes[j] == b'\r',
            None => *prev_cr,
        };
        if bytes[i] == b'\r' || !after_cr {
            *line += 1;
        }
        last = Some(i);
    }
    if let Some(&b) = bytes.last() {
        *prev_cr = b == b'\r';
    }
}

#[cfg(test)]
mod tests {
    use super::{CsvRows, Row};

    fn rows(text: &[u8], max: usize) -> Vec<String> {
        rows_read(CsvRows::new(text, max, 1))
    }

    fn rows_read<R: std::io::BufRead>(mut r: CsvRows<R>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(Some(row)) = r.next_row() {
            out.push(match row {
                Row::Record { rec, line } => {
                    let cells: Vec<String> = rec
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    format!("{line}:{}", cells.join("|"))
                }
                Row::TooLong { line } => format!("{line}:too long"),
            });
        }
        out
    }

    #[test]
    fn rows_keep_their_start_lines_whatever_the_line_ends() {
        let text = b"a,b\n1,\"x\r\ny\"\r\n\n2,z\r3,w";
        assert_eq!(
            rows(text, 1 << 20),
            ["1:a|b", "2:1|x\r\ny", "5:2|z", "6:3|w"]
        );
    }

    #[test]
    fn a_row_over_the_limit_is_read_through_and_the_next_one_kept() {
        let mut text = b"a,b\n1,\"".to_vec();
        text.extend(std::iter::repeat_n(b'q', 100_000));
        text.extend_from_slice(b"\nmore\"\n2,ok\n");
        assert_eq!(rows(&text, 1000), ["1:a|b", "2:too long", "4:2|ok"]);
        // Many empty cells are bounded too (8 bytes each).
        let commas = [b"a\n".to_vec(), vec![b','; 5000], b"\nb\n".to_vec()].concat();
        assert_eq!(rows(&commas, 1000), ["1:a", "2:too long", "3:b"]);
    }

    #[test]
    fn rows_split_at_commas_are_the_rows_the_parser_gives() {
        // Texts of quotes, commas, every line end and blank lines, read through buffers of a
        // few bytes (line ends and rows cut across reads), with and without the plain path;
        // then texts with runs of 7 to 40 bytes and JSON cells with doubled quotes, so that
        // quotes, commas and line ends fall at every place of the eight-byte words the plain
        // path reads, and past them.
        let short: &[&[u8]] = &[
            b"a", b"bc", b",", b",", b"\"", b"\"\"", b"\n", b"\r\n", b"\r", b"\n\n",
        ];
        let long: &[&[u8]] = &[
            b"abcdefg",
            b"2024-03-01T00:00:03.1540149Z",
            b"0123456789abcdef0123456789abcdef01234567",
            b"\"{\"\"id\"\":\"\"3f077120-9ad8\"\",\"\"n\"\":1}\"",
            b"\"\"",
            b"\"",
            b",",
            b"\n",
            b"\r\n",
            b"x",
        ];
        differential(short, 3000, 40);
        differential(long, 3000, 24);
    }

    /// Reads `cases` texts of up to `pieces` random pieces of `alphabet` both ways.
    fn differential(alphabet: &[&[u8]], cases: usize, pieces: usize) {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for case in 0..cases {
            let mut text = Vec::new();
            for _ in 0..(case % pieces) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.extend_from_slice(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            for cap in [1, 3, 8, 64, 4096] {
                let max = 8 + case % 64 + (case % 3) * 200;
                let plain = CsvRows::new(std::io::BufReader::with_capacity(cap, &text[..]), max, 1);
                let mut parser =
                    CsvRows::new(std::io::BufReader::with_capacity(cap, &text[..]), max, 1);
                parser.plain = false;
                assert_eq!(
                    rows_read(plain),
                    rows_read(parser),
                    "{:?} read {cap} bytes at a time, limit {max}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    /// The word-at-a-time search finds the first quote a byte-by-byte one finds, whatever the
    /// other bytes (those next to `"` in value, 0x80, 0xff) and wherever the quotes are.
    #[test]
    fn the_word_search_finds_the_first_quote() {
        let bytes = [b'"', b'a', b'!', b'#', 0x80, 0xff, 0x21, 0x23, 0x00, 0xa2];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let w: [u8; 8] =
                std::array::from_fn(|i| bytes[((seed >> (i * 8)) % bytes.len() as u64) as usize]);
            let naive = w.iter().position(|&b| b == b'"');
            assert_eq!(super::first_quote(u64::from_le_bytes(w)), naive, "{w:?}");
        }
    }
}
