//! The first look at an input's bytes: UTF-16 transcoded to UTF-8, a byte order mark and leading
//! blank lines skipped, the first 64 KiB kept to decide the format on, binary content told from
//! text, and JSON lines told from structured JSON.

use std::io::{self, BufRead, BufReader, Read};

use serde_json::Value;

use crate::json_split::JsonLayout;

/// Bytes looked at to decide an input's format.
const SNIFF: usize = 64 << 10;

/// The stream as UTF-8 text: UTF-16 with a byte order mark is transcoded (true when it was).
pub(crate) fn text_stream(
    stream: Box<dyn Read + Send>,
) -> io::Result<(BufReader<Box<dyn Read + Send>>, bool)> {
    let mut br = BufReader::with_capacity(256 << 10, stream);
    let Some(big_endian) = crate::utf16::utf16_bom(br.fill_buf()?) else {
        return Ok((br, false));
    };
    let text: Box<dyn Read + Send> = Box::new(crate::utf16::Utf16Reader::new(br, big_endian));
    Ok((BufReader::with_capacity(256 << 10, text), true))
}

/// Consumes a UTF-8 byte order mark and the blank lines at the start; returns how many lines they
/// were (`\n`, `\r\n` and bare `\r` each end one). Spaces before the first record on its own
/// line are kept.
pub(crate) fn skip_blank_lines<R: Read>(br: &mut BufReader<R>) -> io::Result<u64> {
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
pub(crate) fn looks_binary(head: &[u8]) -> bool {
    let control = |b: &u8| matches!(b, 0..=8 | 0x0E..=0x1A | 0x1C..=0x1F);
    let sample = &head[..head.len().min(4096)];
    sample.first().is_some_and(control)
        || sample.iter().filter(|b| control(b)).count() * 32 > sample.len()
}

/// The stream read from here on, whose first bytes (up to 64 KiB, what one read gave or not) are
/// `head`: the format is decided on those.
pub(crate) type Sniffed<R> = BufReader<io::Chain<io::Cursor<Vec<u8>>, BufReader<R>>>;

pub(crate) fn fill_prefix<R: Read>(mut br: BufReader<R>) -> io::Result<(Vec<u8>, Sniffed<R>)> {
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
    let rest = io::Cursor::new(head.clone()).chain(br);
    Ok((head, BufReader::with_capacity(256 << 10, rest)))
}

/// JSON lines when the first line is one complete object that is not a Graph page or records blob.
pub(crate) fn json_layout(body: &[u8]) -> JsonLayout {
    let Some(nl) = memchr::memchr2(b'\n', b'\r', body) else {
        return JsonLayout::Structured;
    };
    let line = body[..nl].trim_ascii();
    if !(line.starts_with(b"{") && line.ends_with(b"}")) {
        return JsonLayout::Structured;
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => {
            let wrapper = ["value", "records"]
                .iter()
                .any(|k| o.get(*k).is_some_and(Value::is_array))
                && o.keys().all(|k| {
                    k == "value" || k == "records" || k == "nextLink" || k.starts_with("@odata")
                });
            if wrapper {
                JsonLayout::Structured
            } else {
                JsonLayout::Lines
            }
        }
        _ => JsonLayout::Structured,
    }
}
