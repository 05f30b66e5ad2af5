#![no_main]
//! The CSV row splitter under a record limit: byte 0 picks the read-buffer size (1..32) and the
//! limit (8..260 bytes); the rest is the CSV text. Never panics, always ends; a row kept is within
//! the limit (cells plus 8 bytes per cell); lines never go back; and when no row is over the
//! limit, the rows are exactly those the `csv` crate reads (no header, any number of cells).

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use tw_ingest::csv_rows::{CsvRows, Row};

fuzz_target!(|data: &[u8]| {
    let Some((&knob, text)) = data.split_first() else { return };
    let cap = (knob % 32) as usize + 1;
    let max = (knob as usize) + 8;
    let mut rows = CsvRows::new(BufReader::with_capacity(cap, text), max, 1);
    let mut kept: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut too_long = 0;
    let mut last_line = 0;
    for _ in 0..=text.len() + 1 {
        let Ok(Some(row)) = rows.next_row() else { break };
        let line = match row {
            Row::Record { rec, line } => {
                let size: usize = rec.iter().map(|c| c.len() + 8).sum();
                assert!(size <= max, "row of {size} bytes kept under a limit of {max}");
                kept.push(rec.iter().map(<[u8]>::to_vec).collect());
                line
            }
            Row::TooLong { line } => {
                too_long += 1;
                line
            }
        };
        assert!(line >= last_line && line >= 1);
        last_line = line;
    }
    assert!(matches!(rows.next_row(), Ok(None)), "the end stays the end");
    if too_long == 0 {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let want: Vec<Vec<Vec<u8>>> = rdr
            .byte_records()
            .filter_map(Result::ok)
            .map(|r| r.iter().map(<[u8]>::to_vec).collect())
            .collect();
        assert_eq!(kept, want);
    }
});
