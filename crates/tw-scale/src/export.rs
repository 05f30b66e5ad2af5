//! The export run: reads inputs with `tw_ingest` (records parsed through the projection of the
//! columns' fields, rows computed on the worker threads) and hands the rows, in input order, to
//! the partitioned writer on a thread of its own (encoding runs beside the decoding). The files
//! are the same whatever the thread count.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use tw_ingest::{IngestOptions, IngestReport, ingest};

use crate::row::{Extractor, Row};
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

/// Rows handed to the writer thread at a time.
const CHUNK_ROWS: usize = 256;
/// Chunks waiting for the writer thread at most.
const CHUNKS_QUEUED: usize = 8;

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
    let writer = LakeWriter::create(out, lake)?;
    let (tx, rx) = sync_channel::<Vec<Row>>(CHUNKS_QUEUED);
    std::thread::scope(|scope| {
        let written = scope.spawn(move || write_all(writer, rx));
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        let mut open = true;
        let report = ingest(
            paths,
            &opts,
            |ev, out| out.push(extractor.row(ev)),
            |row| {
                if !open {
                    return;
                }
                chunk.push(row);
                if chunk.len() >= CHUNK_ROWS {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                    // A closed channel means the writer failed: its error is reported below.
                    open = tx.send(full).is_ok();
                }
            },
        );
        if open && !chunk.is_empty() {
            let _ = tx.send(chunk);
        }
        drop(tx);
        let (files, rows) = written
            .join()
            .map_err(|_| "the Parquet writer stopped".to_string())??;
        Ok(ExportReport {
            ingest: report,
            files,
            rows,
        })
    })
}

/// The writer thread: every chunk in order, then the files closed; (files, rows written).
fn write_all(
    mut writer: LakeWriter,
    rx: Receiver<Vec<Row>>,
) -> Result<(Vec<WrittenFile>, u64), String> {
    let mut rows = 0u64;
    for chunk in rx {
        for row in chunk {
            writer.push(row)?;
            rows += 1;
        }
    }
    Ok((writer.finish()?, rows))
}
