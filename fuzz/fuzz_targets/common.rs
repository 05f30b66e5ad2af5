//! Shared by the ingest fuzz targets: reads bytes as one input through the whole decoding path and
//! checks the record accounting invariant.

use tw_ingest::{IngestOptions, Input, ingest_inputs};

/// Records above 1 KiB are rejected, so the oversized-record path is part of the accounting too.
pub fn read_all(name: &str, bytes: Vec<u8>) {
    let plain = IngestOptions { threads: 1, max_record_bytes: 1 << 10, batch_records: 7, ..IngestOptions::default() };
    // Records are read as a hunt reads them too (parsed through a projection): the same records
    // are accepted and rejected.
    let projected = IngestOptions {
        projection: Some(std::sync::Arc::new(tw_ingest::select::Projection::selection())),
        ..plain.clone()
    };
    let a = read_with(name, bytes.clone(), &plain);
    let b = read_with(name, bytes, &projected);
    assert_eq!((a.records, a.read, a.rejected), (b.records, b.read, b.rejected));
}

fn read_with(name: &str, bytes: Vec<u8>, opts: &IngestOptions) -> tw_ingest::Totals {
    let opts = opts.clone();
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
    report.totals
}
