//! Shared by the ingest fuzz targets: reads bytes as one input through the whole decoding path and
//! checks the record accounting invariant.

use tw_ingest::{IngestOptions, Input, ingest_inputs};

/// Records above 1 KiB are rejected, so the oversized-record path is part of the accounting too.
pub fn read_all(name: &str, bytes: Vec<u8>) {
    let opts = IngestOptions { threads: 1, max_record_bytes: 1 << 10, batch_records: 7, ..IngestOptions::default() };
    let report = ingest_inputs(
        vec![Input::from_bytes(name, bytes)],
        Vec::new(),
        &opts,
        |ev, out: &mut Vec<usize>| {
            // Touch the lazily parsed document and the serialized event.
            let _ = ev.doc();
            out.push(serde_json::to_vec(ev).map(|v| v.len()).unwrap_or(0));
        },
        |_| {},
    );
    let t = &report.totals;
    assert_eq!(t.records, t.read + t.rejected);
    let per_file: u64 = report.files.iter().map(|f| f.records).sum();
    assert_eq!(per_file, t.records);
}
