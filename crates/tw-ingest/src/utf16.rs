//! Reading UTF-16 text (with a byte order mark, little or big endian) — what Windows PowerShell 5
//! writes by default (`Out-File`, `>`, `Export-Csv -Encoding Unicode`) — as UTF-8, streaming.
//! Every character keeps its place in its line, so line numbers are those of the file; unpaired
//! surrogates become U+FFFD, and an odd last byte is dropped.

use std::io::{self, Read};

/// The byte order of a UTF-16 text, from its byte order mark.
pub fn utf16_bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

/// A UTF-16 stream read as UTF-8 (the byte order mark comes out as a UTF-8 one).
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    /// Raw bytes read but not yet decoded (at most one odd byte and a pending high surrogate).
    raw: Vec<u8>,
    /// UTF-8 bytes decoded but not yet handed out.
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    /// Decodes `inner`, UTF-16 in the given byte order.
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            eof: false,
        }
    }

    /// Reads a chunk and decodes every complete character in it.
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let mut chunk = vec![0u8; 64 << 10];
        let n = self.inner.read(&mut chunk)?;
        if n == 0 {
            self.eof = true;
        }
        self.raw.extend_from_slice(&chunk[..n]);
        let units: Vec<u16> = self
            .raw
            .chunks_exact(2)
            .map(|p| {
                if self.big_endian {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    u16::from_le_bytes([p[0], p[1]])
                }
            })
            .collect();
        // A high surrogate at the end waits for its pair (unless the input ended).
        let keep = match units.last() {
            Some(u) if (0xD800..0xDC00).contains(u) && !self.eof => 1,
            _ => 0,
        };
        let done = units.len() - keep;
        let mut s = String::with_capacity(done * 2);
        s.extend(
            char::decode_utf16(units[..done].iter().copied()).map(|c| c.unwrap_or('\u{FFFD}')),
        );
        self.out.extend_from_slice(s.as_bytes());
        self.raw.drain(..done * 2);
        if self.eof {
            self.raw.clear();
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.eof || buf.is_empty() {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::{Utf16Reader, utf16_bom};
    use std::io::Read;

    fn encode(s: &str, big: bool) -> Vec<u8> {
        let mut b = if big {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in s.encode_utf16() {
            b.extend(if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        b
    }

    #[test]
    fn both_byte_orders_decode_to_the_same_utf8() {
        let text = "CreationDate,UserIds\r\n2024-01-02,adèle@contoso.com 😀\r\n";
        for big in [false, true] {
            let bytes = encode(text, big);
            assert_eq!(utf16_bom(&bytes), Some(big));
            // A reader handing one byte at a time splits pairs and surrogates anywhere.
            let slow = bytes.chunks(1).map(|c| c.to_vec()).collect::<Vec<_>>();
            let mut chained: Box<dyn Read> = Box::new(std::io::empty());
            for c in slow {
                chained = Box::new(chained.chain(std::io::Cursor::new(c)));
            }
            let mut out = String::new();
            Utf16Reader::new(chained, big)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, format!("\u{feff}{text}"));
        }
        assert_eq!(utf16_bom(b"\xEF\xBB\xBF{"), None);
    }

    #[test]
    fn an_unpaired_surrogate_becomes_a_replacement_character() {
        let mut bytes = vec![0xFF, 0xFE, b'a', 0];
        bytes.extend([0x00, 0xD8, b'b', 0]);
        let mut out = String::new();
        Utf16Reader::new(&bytes[2..], false)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\u{FFFD}b");
    }
}
