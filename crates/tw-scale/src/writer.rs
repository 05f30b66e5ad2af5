//! The partitioned Parquet writer: rows arrive in input order and go to their partition's open
//! file; memory stays flat whatever the input size — rows are buffered per open partition up to
//! a small batch, at most [`LakeOptions::max_open`] partitions are open at once (the least
//! recently written is closed first, and a later row of it starts a new file), and the encoded
//! row groups held by all open files together never exceed [`LakeOptions::buffer_budget`] (the
//! largest is flushed early). Files are written under a hidden name and renamed when complete,
//! so a reader never sees half a file. The output depends only on the order of the rows.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::{ColumnPath, SchemaDescriptor};

use crate::batch::{arrow_schema, record_batch};
use crate::row::Row;
use crate::schema::{self, Storage};

/// Limits of the writer.
#[derive(Debug, Clone)]
pub struct LakeOptions {
    /// Partitions open at once.
    pub max_open: usize,
    /// A row group is closed when its encoded size reaches this many bytes.
    pub row_group_bytes: usize,
    /// ... or this many rows.
    pub row_group_rows: usize,
    /// Encoded bytes all open row groups may hold together.
    pub buffer_budget: usize,
    /// Rows buffered per partition before they are encoded.
    pub batch_rows: usize,
    /// Bytes of rows buffered per partition before they are encoded.
    pub batch_bytes: usize,
}

impl Default for LakeOptions {
    fn default() -> Self {
        LakeOptions {
            max_open: 16,
            row_group_bytes: 128 << 20,
            row_group_rows: 1 << 20,
            buffer_budget: 256 << 20,
            batch_rows: 4096,
            batch_bytes: 8 << 20,
        }
    }
}

/// A file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Path relative to the output folder, `/`-separated.
    pub path: String,
    /// Rows in it.
    pub rows: u64,
    /// Row groups in it.
    pub row_groups: usize,
}

/// One open partition file.
struct OpenPart {
    partition: Arc<str>,
    writer: ArrowWriter<BufWriter<File>>,
    hidden: PathBuf,
    visible: PathBuf,
    relative: String,
    rows: Vec<Row>,
    rows_bytes: usize,
    written: u64,
    last_used: u64,
}

/// Writes rows into `log_kind=…/tenant_id=…/date=…/part-NNNNN.parquet` files under a folder.
pub struct LakeWriter {
    root: PathBuf,
    schema: SchemaRef,
    /// The Parquet schema of `schema`, converted once.
    parquet_schema: SchemaDescriptor,
    props: WriterProperties,
    opts: LakeOptions,
    open: Vec<OpenPart>,
    next_part: HashMap<Arc<str>, u32>,
    files: Vec<WrittenFile>,
    clock: u64,
}

impl LakeWriter {
    /// A writer into `root`, which must be an empty folder or not exist (it is created).
    pub fn create(root: &Path, opts: LakeOptions) -> Result<LakeWriter, String> {
        if let Ok(mut entries) = fs::read_dir(root)
            && entries.next().is_some()
        {
            return Err(format!("{} is not empty", root.display()));
        }
        fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        let schema = arrow_schema();
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&schema)
            .map_err(|e| format!("the Parquet schema: {e}"))?;
        Ok(LakeWriter {
            root: root.to_path_buf(),
            schema,
            parquet_schema,
            props: writer_properties(&opts),
            opts: LakeOptions {
                max_open: opts.max_open.max(1),
                batch_rows: opts.batch_rows.max(1),
                ..opts
            },
            open: Vec::new(),
            next_part: HashMap::new(),
            files: Vec::new(),
            clock: 0,
        })
    }

    /// Adds a row to its partition.
    pub fn push(&mut self, row: Row) -> Result<(), String> {
        self.clock += 1;
        let i = match self.open.iter().position(|p| p.partition == row.partition) {
            Some(i) => i,
            None => self.open_part(row.partition.clone())?,
        };
        let part = &mut self.open[i];
        part.last_used = self.clock;
        part.rows_bytes += row.heap_bytes();
        part.rows.push(row);
        if part.rows.len() >= self.opts.batch_rows || part.rows_bytes >= self.opts.batch_bytes {
            encode_rows(&self.schema, part)?;
            self.keep_budget()?;
        }
        Ok(())
    }

    /// Closes every open file; the files written, in path order.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, String> {
        while let Some(part) = self.open.pop() {
            let f = close_part(&self.schema, part)?;
            self.files.push(f);
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self.files)
    }

    /// Opens a new file for `partition`, closing the least recently written one when at the
    /// limit; its index in `open`.
    fn open_part(&mut self, partition: Arc<str>) -> Result<usize, String> {
        if self.open.len() >= self.opts.max_open
            && let Some(lru) = (0..self.open.len()).min_by_key(|&i| self.open[i].last_used)
        {
            let part = self.open.swap_remove(lru);
            let f = close_part(&self.schema, part)?;
            self.files.push(f);
        }
        let n = self.next_part.entry(partition.clone()).or_insert(0);
        let name = format!("part-{:05}.parquet", *n);
        *n += 1;
        let dir = self.root.join(&*partition);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let hidden = dir.join(format!(".{name}.inprogress"));
        let file = File::create(&hidden)
            .map_err(|e| format!("cannot create {}: {e}", hidden.display()))?;
        let options = ArrowWriterOptions::new()
            .with_properties(self.props.clone())
            .with_parquet_schema(self.parquet_schema.clone())
            .with_skip_arrow_metadata(true);
        let writer = ArrowWriter::try_new_with_options(
            BufWriter::with_capacity(1 << 20, file),
            self.schema.clone(),
            options,
        )
        .map_err(|e| format!("{}: {e}", hidden.display()))?;
        self.open.push(OpenPart {
            relative: format!("{partition}/{name}"),
            visible: dir.join(&name),
            partition,
            writer,
            hidden,
            rows: Vec::new(),
            rows_bytes: 0,
            written: 0,
            last_used: self.clock,
        });
        Ok(self.open.len() - 1)
    }

    /// Flushes the largest open row groups while all together hold more than the budget.
    fn keep_budget(&mut self) -> Result<(), String> {
        loop {
            let total: usize = self.open.iter().map(|p| p.writer.memory_size()).sum();
            if total <= self.opts.buffer_budget {
                return Ok(());
            }
            let Some(big) = self.open.iter_mut().max_by_key(|p| p.writer.memory_size()) else {
                return Ok(());
            };
            big.writer
                .flush()
                .map_err(|e| format!("{}: {e}", big.hidden.display()))?;
        }
    }
}

/// Encodes a partition's buffered rows into its open row group.
fn encode_rows(schema: &SchemaRef, part: &mut OpenPart) -> Result<(), String> {
    if part.rows.is_empty() {
        return Ok(());
    }
    let batch = record_batch(schema, &part.rows).map_err(|e| format!("{}: {e}", part.relative))?;
    part.writer
        .write(&batch)
        .map_err(|e| format!("{}: {e}", part.hidden.display()))?;
    part.written += part.rows.len() as u64;
    part.rows.clear();
    part.rows_bytes = 0;
    Ok(())
}

/// Writes a partition's last rows, closes its file and gives it its visible name.
fn close_part(schema: &SchemaRef, mut part: OpenPart) -> Result<WrittenFile, String> {
    encode_rows(schema, &mut part)?;
    let meta = part
        .writer
        .close()
        .map_err(|e| format!("{}: {e}", part.hidden.display()))?;
    fs::rename(&part.hidden, &part.visible)
        .map_err(|e| format!("cannot rename {}: {e}", part.hidden.display()))?;
    Ok(WrittenFile {
        path: part.relative,
        rows: part.written,
        row_groups: meta.num_row_groups(),
    })
}

/// Snappy (Spark's default codec), Parquet 1.0 data pages (read by every Spark version),
/// statistics per column chunk, no dictionary for the columns whose values rarely repeat, and
/// neither dictionary nor statistics for `raw`.
fn writer_properties(opts: &LakeOptions) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_offset_index_disabled(true)
        .set_max_row_group_bytes(Some(opts.row_group_bytes.max(1)))
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)));
    for col in [schema::RECORD, schema::LINE, schema::TIME, "tw_time"] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(col), false);
    }
    // Spark filters on the statistics of top-level scalar columns only.
    for c in schema::columns() {
        if c.storage == Storage::TextList {
            b = b.set_column_statistics_enabled(
                ColumnPath::new(vec![c.name.clone(), "list".into(), "item".into()]),
                EnabledStatistics::None,
            );
        }
    }
    b = b
        .set_column_dictionary_enabled(ColumnPath::from(schema::RAW), false)
        .set_column_statistics_enabled(ColumnPath::from(schema::RAW), EnabledStatistics::None);
    b.build()
}
