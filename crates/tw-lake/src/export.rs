//! The export run: reads inputs with `tw_ingest` (records parsed through the projection of the
//! columns' fields, rows computed on the worker threads) and writes the rows, in input order, to
//! the partitioned writer. The files are the same whatever the thread count.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tw_ingest::{IngestOptions, IngestReport, ingest};

use crate::row::Extractor;
use crate::writer::{LakeOptions, LakeWriter, WrittenFile};

/// What an export wrote and read.
#[derive(Debug)]
pub struct ExportReport {
    /// The reader's report: files, formats, counts, rejected records with file and line.
    pub ingest: IngestReport,
    /// Files written, in path order.
    pub files: Vec<WrittenFile>,
    /// Rows written (one per record read).
    pub rows: u64,
}

/// Exports every record under `paths` into the folder `out` (empty or new). An error is a
/// problem of the output (a file that cannot be written); records that cannot be read are
/// counted and listed in the report.
pub fn export(
    paths: &[PathBuf],
    out: &Path,
    ingest_opts: &IngestOptions,
    lake: LakeOptions,
) -> Result<ExportReport, String> {
    let extractor = Extractor::new()?;
    let mut opts = ingest_opts.clone();
    opts.projection = Some(Arc::new(extractor.projection()));
    let mut writer = LakeWriter::create(out, lake)?;
    let mut failed: Option<String> = None;
    let mut rows = 0u64;
    let report = ingest(
        paths,
        &opts,
        |ev, out| out.push(extractor.row(ev)),
        |row| {
            if failed.is_none() {
                match writer.push(row) {
                    Ok(()) => rows += 1,
                    Err(e) => failed = Some(e),
                }
            }
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    let files = writer.finish()?;
    Ok(ExportReport {
        ingest: report,
        files,
        rows,
    })
}
