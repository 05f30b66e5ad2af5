#![no_main]
//! The JSON record splitter, both layouts, with a small record limit: never panics, always ends,
//! and every record it yields is no larger than the limit.

use libfuzzer_sys::fuzz_target;
use tw_ingest::json_split::{JsonLayout, JsonSplitter, Piece};

fuzz_target!(|data: &[u8]| {
    for layout in [JsonLayout::Lines, JsonLayout::Structured] {
        let mut sp = JsonSplitter::new(std::io::BufReader::with_capacity(16, data), layout, 256);
        let mut out = Vec::new();
        let mut pieces = 0usize;
        loop {
            out.clear();
            match sp.next_piece(&mut out) {
                Ok(Some(Piece::Record { line })) => {
                    assert!(line >= 1);
                    assert!(out.len() <= 258);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
            pieces += 1;
            assert!(pieces <= data.len() + 2, "splitter does not progress");
        }
    }
});
