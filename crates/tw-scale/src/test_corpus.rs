//! Test data shared by the crate's tests: the public samples under `tests/fixtures/corpus`
//! (sources and licences in their PROVENANCE notes), read as the export reads them.

use std::path::PathBuf;
use std::sync::Arc;

use tw_ingest::{IngestOptions, ingest};

use crate::row::{Extractor, Row};

/// The folder of the samples.
pub(crate) fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus")
}

/// Reading options that keep what `ex` reads.
pub(crate) fn options(ex: &Extractor) -> IngestOptions {
    IngestOptions {
        projection: Some(Arc::new(ex.projection())),
        ..IngestOptions::default()
    }
}

/// The rows of the samples, in input order.
pub(crate) fn rows() -> Vec<Row> {
    let ex = Extractor::new().expect("the shipped maps load");
    let mut rows = Vec::new();
    ingest(
        &[path()],
        &options(&ex),
        |ev, out| out.push(ex.row(ev)),
        |r| rows.push(r),
    );
    rows
}
