//! Opening an input as text and looking at its start: UTF-16 (with a byte order mark) transcoded
//! to UTF-8, a UTF-8 byte order mark and leading blank lines skipped (counted, so records keep
//! their lines), the first 64 KiB kept aside to decide the format, and binary content told from
//! text with a stray control byte.

use std::io::{self, BufRead, BufReader, Read};

/// Bytes looked at to decide a file's format.
pub const SNIFF: usize = 64 << 10;

/// The stream as UTF-8 text: UTF-16 with a byte order mark is transcoded (true when it was).
/// UTF-8 text is read through the stream's own buffer (no second buffer, no copy).
pub fn text_stream(
    mut stream: Box<dyn BufRead + Send>,
) -> io::Result<(Box<dyn BufRead + Send>, bool)> {
    let Some(big_endian) = crate::utf16::utf16_bom(stream.fill_buf()?) else {
        return Ok((stream, false));
    };
    let text = crate::utf16::Utf16Reader::new(stream, big_endian);
    Ok((Box::new(BufReader::with_capacity(256 << 10, text)), true))
}

/// Consumes a UTF-8 byte order mark and the blank lines at the start; returns how many lines they
/// were (`\n`, `\r\n` and bare `\r` each end one). Spaces before the first record on its own
/// line are kept.
pub fn skip_blank_lines<R: BufRead>(br: &mut R) -> io::Result<u64> {
    if br.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        br.consume(3);
    }
    let (mut lines, mut prev_cr) = (0u64, false);
    loop {
        let buf = br.fill_buf()?;
        if buf.is_empty() {
            return Ok(lines);
        }
        let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        // Up to the last line end in the blank run (all of it when the buffer is all blank).
        let upto = if blank == buf.len() {
            blank
        } else {
            buf[..blank]
                .iter()
                .rposition(|b| matches!(b, b'\r' | b'\n'))
                .map_or(0, |i| i + 1)
        };
        for &b in &buf[..upto] {
            if b == b'\r' || (b == b'\n' && !prev_cr) {
                lines += 1;
            }
            prev_cr = b == b'\r';
        }
        let all_blank = blank == buf.len();
        br.consume(upto);
        if !all_blank {
            return Ok(lines);
        }
    }
}

/// Binary content, as opposed to text with a stray control byte (whose record alone is then
/// rejected): the first byte is a control character other than white space, or more than 1 in 32
/// of the first 4 KiB are (text logs never hold that many; executables, images, databases and
/// UTF-16 without a byte order mark all do).
pub fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    sample.first().is_some_and(|&b| is_control(b) != 0) || control_bytes(sample) * 32 > sample.len()
}

/// 1 for a control byte other than white space (and ESC), else 0: three range tests without
/// branches.
fn is_control(b: u8) -> u8 {
    u8::from(b <= 0x08)
        | u8::from(b.wrapping_sub(0x0E) <= 0x0C)
        | u8::from(b.wrapping_sub(0x1C) <= 0x03)
}

/// How many bytes of `bytes` are [`is_control`]: summed in bytes over runs of 255, which the
/// compiler turns into vector code (a filter and count went byte by byte, 1.5 % of a hunt of
/// many small files).
fn control_bytes(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|run| usize::from(run.iter().fold(0u8, |n, &b| n + is_control(b))))
        .sum()
}

/// The stream read from here on, whose first bytes (up to 64 KiB, what one read gave or not) are
/// [`Sniffed::head`]: the format is decided on those. The head is handed out first, then the
/// stream's own buffer: no second buffer, no copy of the rest.
pub struct Sniffed<R> {
    head: Vec<u8>,
    /// Bytes of `head` already consumed.
    at: usize,
    rest: R,
}

impl<R> Sniffed<R> {
    /// The first bytes of the stream (up to 64 KiB), whatever has been consumed since.
    pub fn head(&self) -> &[u8] {
        &self.head
    }
}

impl<R: BufRead> Read for Sniffed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let mut avail = self.fill_buf()?;
            avail.read(buf)?
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Sniffed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at < self.head.len() {
            return Ok(&self.head[self.at..]);
        }
        self.rest.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if self.at < self.head.len() {
            self.at = (self.at + amt).min(self.head.len());
        } else {
            self.rest.consume(amt);
        }
    }
}

/// Takes up to 64 KiB from the start of `br` as the head of the returned stream.
pub fn fill_prefix<R: BufRead>(mut br: R) -> io::Result<Sniffed<R>> {
    let mut head = Vec::with_capacity(SNIFF);
    while head.len() < SNIFF {
        let buf = br.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let take = buf.len().min(SNIFF - head.len());
        head.extend_from_slice(&buf[..take]);
        br.consume(take);
    }
    Ok(Sniffed {
        head,
        at: 0,
        rest: br,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The control bytes are those of the ranges 0–8, 0x0E–0x1A and 0x1C–0x1F, counted as a
    /// byte-by-byte count does, over buffers of every length around the runs summed at once.
    #[test]
    fn control_bytes_are_counted_as_one_by_one() {
        let naive = |b: u8| matches!(b, 0..=8 | 0x0E..=0x1A | 0x1C..=0x1F);
        for b in 0..=255u8 {
            assert_eq!(is_control(b) == 1, naive(b), "{b:#x}");
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in (0..600).chain([4095, 4096, 5000]) {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    if seed.is_multiple_of(3) {
                        (seed >> 8) as u8
                    } else {
                        b'a'
                    }
                })
                .collect();
            let want = bytes.iter().filter(|&&b| naive(b)).count();
            assert_eq!(control_bytes(&bytes), want, "{len}");
            let sample = &bytes[..bytes.len().min(4096)];
            let was = sample.first().is_some_and(|&b| naive(b))
                || sample.iter().filter(|&&b| naive(b)).count() * 32 > sample.len();
            assert_eq!(looks_binary(&bytes), was, "{len}");
        }
    }

    /// The stream after the head gives back every byte, in order, whatever the reads' sizes.
    #[test]
    fn sniffed_stream_gives_every_byte_once() {
        let text: Vec<u8> = (0..200_000u32)
            .map(|i| b"{\"a\":1}\n"[i as usize % 8])
            .collect();
        for cap in [1, 7, 4096, 300_000] {
            let br = BufReader::with_capacity(cap, io::Cursor::new(text.clone()));
            let mut s = fill_prefix(br).expect("in memory");
            assert_eq!(s.head(), &text[..SNIFF]);
            let mut out = Vec::new();
            let mut step = 1;
            loop {
                let buf = s.fill_buf().expect("in memory");
                if buf.is_empty() {
                    break;
                }
                let n = buf.len().min(step);
                out.extend_from_slice(&buf[..n]);
                s.consume(n);
                step = step * 3 % 70_001 + 1;
            }
            assert_eq!(out, text, "buffer of {cap}");
        }
    }
}
