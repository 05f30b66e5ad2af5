#![no_main]
//! The JSON record splitter, both layouts, with small read buffers and a small record limit (both
//! chosen by the first byte): never panics, always ends, and keeps its documented contract —
//! bytes already in the caller's buffer are kept, a record is appended and is no larger than the
//! limit (plus the line ending for JSON lines), a bad or trailing piece appends nothing, reading
//! from memory never fails, and once it returned `None` it keeps returning `None`.

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use tw_ingest::json_split::{JsonLayout, JsonSplitter, Piece};

const PREFIX: &[u8] = b"<kept>";

fuzz_target!(|data: &[u8]| {
    let Some((&knob, body)) = data.split_first() else { return };
    // 1..=32-byte reads so that records, strings and escapes straddle buffer boundaries.
    let cap = 1 + usize::from(knob & 0x1f);
    // 16..=352-byte record limit.
    let max = 16 + usize::from(knob >> 5) * 48;
    for layout in [JsonLayout::Lines, JsonLayout::Structured] {
        let mut sp = JsonSplitter::new(BufReader::with_capacity(cap, body), layout, max);
        let mut out = Vec::new();
        let mut pieces = 0usize;
        loop {
            out.clear();
            out.extend_from_slice(PREFIX);
            let piece = sp.next_piece(&mut out).expect("reading from memory cannot fail");
            assert!(out.starts_with(PREFIX), "{layout:?}: bytes before the record were changed");
            let added = out.len() - PREFIX.len();
            match piece {
                None => {
                    assert_eq!(added, 0, "{layout:?}: end of input appended bytes");
                    break;
                }
                Some(Piece::Record { line }) => {
                    assert!(line >= 1);
                    let slack = if layout == JsonLayout::Lines { 2 } else { 0 };
                    assert!(added <= max + slack, "{layout:?}: record of {added} bytes over limit {max}");
                }
                Some(Piece::Bad { line, reason }) | Some(Piece::Trailing { line, reason }) => {
                    assert!(line >= 1);
                    assert!(!reason.is_empty());
                    assert_eq!(added, 0, "{layout:?}: non-record piece ({reason}) appended bytes");
                }
            }
            pieces += 1;
            assert!(pieces <= body.len() + 2, "{layout:?}: splitter does not progress");
        }
        out.clear();
        assert_eq!(sp.next_piece(&mut out).expect("memory"), None, "{layout:?}: not fused");
        assert!(out.is_empty());
    }
});
