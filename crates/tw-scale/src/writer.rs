//! The partitioned Parquet writer: rows arrive in input order and are buffered per partition
//! across the whole run; a partition's rows become one complete file when they are written, so
//! a partition that fits in the buffer is one file whatever the order of the input. Memory stays
//! flat whatever the input size: when the rows buffered by all partitions together exceed
//! [`LakeOptions::buffer_budget`], partitions are written out, least recently written first (a
//! partition no row has reached for a while is likely complete), until half the budget is free;
//! a later row of a written partition starts its next file (`part-00001`, …). Only one file is
//! being encoded at a time. Files are written under a hidden name and renamed when complete, so
//! a reader never sees half a file. The output depends only on the order of the rows.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

use crate::batch::arrow_schema;
use crate::chunks::{ChunkWriter, RowGroupLimits};
use crate::row::Row;
use crate::schema;

/// Limits of the writer.
#[derive(Debug, Clone)]
pub struct LakeOptions {
    /// Bytes of rows all partitions together may buffer before partitions are written out.
    pub buffer_budget: usize,
    /// A row group is closed when its encoded size reaches this many bytes.
    pub row_group_bytes: usize,
    /// ... or this many rows.
    pub row_group_rows: usize,
}

impl Default for LakeOptions {
    fn default() -> Self {
        LakeOptions {
            buffer_budget: 128 << 20,
            row_group_bytes: 128 << 20,
            row_group_rows: 1 << 20,
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

/// The rows of one partition not yet written.
#[derive(Default)]
struct Pending {
    rows: Vec<Row>,
    bytes: usize,
    last_used: u64,
}

/// Writes rows into `log_kind=…/tenant_id=…/date=…/part-NNNNN.parquet` files under a folder.
pub struct LakeWriter {
    root: PathBuf,
    /// Encodes each file's rows.
    chunks: ChunkWriter,
    opts: LakeOptions,
    pending: HashMap<Arc<str>, Pending>,
    buffered: usize,
    next_part: HashMap<Arc<str>, u32>,
    files: Vec<WrittenFile>,
    clock: u64,
    /// The bytes of the file being written not yet written out; one buffer for every file.
    out_buf: Vec<u8>,
}

/// Bytes of a file gathered before they are written out (one write per megabyte).
const OUT_BUF_BYTES: usize = 1 << 20;

/// A file written through a buffer that outlives it: the writer's buffer is allocated once for
/// the run, not once per file (most files are small, and each fresh megabyte costs page faults).
struct Buffered<'b> {
    file: File,
    buf: &'b mut Vec<u8>,
}

impl Buffered<'_> {
    fn write_buffer(&mut self) -> std::io::Result<()> {
        let written = self.file.write_all(self.buf);
        self.buf.clear();
        written
    }
}

impl Write for Buffered<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > OUT_BUF_BYTES {
            self.write_buffer()?;
        }
        if data.len() >= OUT_BUF_BYTES {
            self.file.write_all(data)?;
        } else {
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.write_buffer()?;
        self.file.flush()
    }
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
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&arrow_schema())
            .map_err(|e| format!("the Parquet schema: {e}"))?;
        Ok(LakeWriter {
            root: root.to_path_buf(),
            chunks: ChunkWriter::new(parquet_schema, writer_properties()),
            opts,
            pending: HashMap::new(),
            buffered: 0,
            next_part: HashMap::new(),
            files: Vec::new(),
            clock: 0,
            out_buf: Vec::with_capacity(OUT_BUF_BYTES),
        })
    }

    /// Adds a row to its partition; writes partitions out when the buffer is over budget.
    pub fn push(&mut self, row: Row) -> Result<(), String> {
        self.clock += 1;
        let bytes = row.heap_bytes();
        let part = match self.pending.get_mut(&row.partition) {
            Some(p) => p,
            None => self.pending.entry(row.partition.clone()).or_default(),
        };
        part.rows.push(row);
        part.bytes += bytes;
        part.last_used = self.clock;
        self.buffered += bytes;
        if self.buffered > self.opts.buffer_budget {
            self.relieve()?;
        }
        Ok(())
    }

    /// Writes every partition still buffered, in path order; the files written, in path order.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, String> {
        let mut names: Vec<Arc<str>> = self.pending.keys().cloned().collect();
        names.sort();
        for name in names {
            self.write_out(&name)?;
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self.files)
    }

    /// Writes partitions out, least recently written first, until half the budget is free.
    fn relieve(&mut self) -> Result<(), String> {
        let mut by_age: Vec<(u64, Arc<str>)> = self
            .pending
            .iter()
            .map(|(name, p)| (p.last_used, name.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, name) in by_age {
            if self.buffered <= self.opts.buffer_budget / 2 {
                break;
            }
            self.write_out(&name)?;
        }
        Ok(())
    }

    /// Writes partition `name`'s buffered rows as its next file.
    fn write_out(&mut self, name: &Arc<str>) -> Result<(), String> {
        let Some(mut part) = self.pending.remove(name) else {
            return Ok(());
        };
        self.buffered = self.buffered.saturating_sub(part.bytes);
        let n = self.next_part.entry(name.clone()).or_insert(0);
        let file_name = format!("part-{:05}.parquet", *n);
        *n += 1;
        let dir = self.root.join(&**name);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let hidden = dir.join(format!(".{file_name}.inprogress"));
        let row_groups = self.encode(&hidden, &mut part.rows)?;
        let visible = dir.join(&file_name);
        fs::rename(&hidden, &visible)
            .map_err(|e| format!("cannot rename {}: {e}", hidden.display()))?;
        self.files.push(WrittenFile {
            path: format!("{name}/{file_name}"),
            rows: part.rows.len() as u64,
            row_groups,
        });
        Ok(())
    }

    /// Encodes `rows` into a new file at `path`; the number of row groups written.
    fn encode(&mut self, path: &Path, rows: &mut [Row]) -> Result<usize, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let limits = RowGroupLimits {
            max_bytes: self.opts.row_group_bytes.max(1),
            max_rows: self.opts.row_group_rows.max(1),
        };
        self.out_buf.clear();
        let out = Buffered {
            file,
            buf: &mut self.out_buf,
        };
        self.chunks
            .write_file(out, rows, limits)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The columns with min/max statistics in each column chunk: those a reader filters on
/// before reading (Spark pushes comparisons of top-level columns down to the statistics). The
/// compiled rules compare the other texts ignoring case (`lower(…)`), which no statistics
/// serve, so computing them (a comparison per value) and storing them buys nothing.
pub const COLUMNS_WITH_STATISTICS: &[&str] = &[
    schema::FILE,
    schema::RECORD,
    schema::LINE,
    schema::TENANT_ID,
    schema::TIME,
    schema::LOG_KIND,
    schema::FORMAT,
];

/// Snappy (Spark's default codec), Parquet 1.0 data pages (read by every Spark version),
/// statistics per column chunk on [`COLUMNS_WITH_STATISTICS`] only, no page offset index, and no
/// dictionary for the columns whose values rarely repeat (`record`, `line`, `time`, `tw_time`,
/// `raw`; the field-map columns are encoded apart, see [`crate::chunks`]).
fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_offset_index_disabled(true);
    for col in COLUMNS_WITH_STATISTICS {
        b = b.set_column_statistics_enabled(ColumnPath::from(*col), EnabledStatistics::Chunk);
    }
    for col in [
        schema::RECORD,
        schema::LINE,
        schema::TIME,
        "tw_time",
        schema::RAW,
    ] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(col), false);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn corpus_rows() -> Vec<Row> {
        crate::test_corpus::rows()
    }

    #[test]
    fn a_file_written_through_the_shared_buffer_holds_every_write_in_order() {
        let path = std::env::temp_dir().join(format!("tw-scale-buffered-{}", std::process::id()));
        let mut buf = Vec::new();
        let mut want = Vec::new();
        // Small writes, one that fills the buffer past its size, one larger than the buffer.
        let writes = [
            vec![1u8; 10],
            vec![2u8; OUT_BUF_BYTES - 5],
            vec![3u8; 7],
            vec![4u8; OUT_BUF_BYTES + 3],
            vec![5u8; 1],
        ];
        for _ in 0..2 {
            let file = File::create(&path).expect("created");
            let mut out = Buffered {
                file,
                buf: &mut buf,
            };
            want.clear();
            for w in &writes {
                out.write_all(w).expect("written");
                want.extend_from_slice(w);
                assert!(out.buf.len() <= OUT_BUF_BYTES);
            }
            out.flush().expect("flushed");
            assert!(out.buf.is_empty());
            assert_eq!(fs::read(&path).expect("read back"), want);
        }
        let _ = fs::remove_file(&path);
    }

    #[test]
    fn statistics_only_where_filtered_and_field_maps_without_dictionary() {
        let out = std::env::temp_dir().join(format!("tw-scale-footer-{}", std::process::id()));
        let _ = fs::remove_dir_all(&out);
        let mut writer = LakeWriter::create(&out, LakeOptions::default()).expect("writer");
        for row in corpus_rows() {
            writer.push(row).expect("pushed");
        }
        let files = writer.finish().expect("written");
        assert!(files.len() > 3, "{} files", files.len());
        let (mut with_stats, mut field_chunks) = (0, 0);
        for f in &files {
            let reader = SerializedFileReader::new(File::open(out.join(&f.path)).expect("open"))
                .expect("a Parquet file");
            for rg in reader.metadata().row_groups() {
                for (i, chunk) in rg.columns().iter().enumerate() {
                    let name = &schema::columns()[i].name;
                    let filtered = COLUMNS_WITH_STATISTICS.contains(&name.as_str());
                    // A column with values has statistics exactly when it is filtered on.
                    if chunk.num_values() > 0 && filtered {
                        assert!(chunk.statistics().is_some(), "{name} in {}", f.path);
                        with_stats += 1;
                    }
                    if !filtered {
                        assert!(chunk.statistics().is_none(), "{name} in {}", f.path);
                    }
                    if name.starts_with("f_") {
                        let dictionary = chunk.encodings().any(|e| {
                            matches!(e, Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY)
                        });
                        assert!(!dictionary, "{name} in {}", f.path);
                        field_chunks += 1;
                    }
                }
            }
        }
        assert!(with_stats >= files.len() * COLUMNS_WITH_STATISTICS.len() / 2);
        assert!(field_chunks > 0);
        let _ = fs::remove_dir_all(&out);
    }
}
