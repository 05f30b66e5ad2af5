//! Rows to Parquet column chunks with the low-level writer (no Arrow arrays in between): each
//! column of a row group is fed its typed values and levels straight from the rows, and a
//! field-map column that no row of the row group holds — most of them: a format carries a few
//! dozen of the fields — is not encoded at all but spliced in as a copy of one all-null chunk,
//! encoded once per row count and shared by every such column. Field-map columns holding the
//! same elements in every row are encoded once and their bytes spliced in for each.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, CompressionCodec};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::{ColumnCloseResult, ColumnWriter, get_column_writer};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, Int64Type};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesPtr, WriterVersion,
};
use parquet::file::writer::{
    SerializedFileWriter, SerializedPageWriter, SerializedRowGroupWriter, TrackedWrite,
};
use parquet::schema::types::{ColumnDescPtr, SchemaDescriptor, TypePtr};

use crate::row::{CanonicalValue, Row};
use crate::schema::{self, Source};

/// All-null chunks kept, by row count, up to this many.
const NULL_CHUNKS_CACHED: usize = 4096;

/// A column chunk encoded apart from any file: its bytes and what closing its writer reported.
struct EncodedChunk {
    bytes: Bytes,
    close: ColumnCloseResult,
    /// The codec of its pages (the writer's metadata may say uncompressed when the pages were
    /// compressed by [`SnappyPages`]).
    codec: CompressionCodec,
}

/// Writes files of rows; built once, used for every file.
pub struct ChunkWriter {
    root: TypePtr,
    descr: SchemaDescriptor,
    props: WriterPropertiesPtr,
    /// `props` without dictionaries.
    plain_props: WriterPropertiesPtr,
    /// `plain_props` uncompressed, when the pages of `plain_props` are Snappy data pages v1
    /// that [`SnappyPages`] compresses instead; `None` otherwise.
    raw_props: Option<WriterPropertiesPtr>,
    /// The Snappy encoder and its output buffer, reused for every page of this writer.
    snappy: SnappyScratch,
    null_props: WriterPropertiesPtr,
    /// Index of the first field-map column in the schema.
    first_field: usize,
    /// All-null field-map chunks by row count.
    null_chunks: HashMap<usize, EncodedChunk>,
    /// Per field-map column, the elements of the row group being written
    /// ([`present_elements`]); kept between row groups so their room is reused.
    by_col: Vec<Vec<(usize, Span)>>,
}

/// Where each row group ends: a row group is closed at `max_bytes` of rows (their
/// [`Row::heap_bytes`]) or `max_rows` rows.
#[derive(Debug, Clone, Copy)]
pub struct RowGroupLimits {
    /// Bytes of rows.
    pub max_bytes: usize,
    /// Rows.
    pub max_rows: usize,
}

impl ChunkWriter {
    /// A writer of files with schema `descr` (the columns of [`schema::columns`], in order).
    pub fn new(descr: SchemaDescriptor, props: WriterProperties) -> ChunkWriter {
        let plain_props = props.clone().into_builder().set_dictionary_enabled(false);
        let plain = plain_props.clone().build();
        let snappy_v1 = plain.writer_version() == WriterVersion::PARQUET_1_0
            && (0..descr.num_columns())
                .all(|i| plain.compression(descr.column(i).path()) == Compression::SNAPPY);
        let raw_props = snappy_v1.then(|| {
            let raw = plain_props
                .clone()
                .set_compression(Compression::UNCOMPRESSED);
            Arc::new(raw.build())
        });
        let null_props = plain_props
            .clone()
            .set_compression(Compression::UNCOMPRESSED)
            .set_statistics_enabled(EnabledStatistics::None)
            .build();
        let first_field = schema::columns()
            .iter()
            .position(|c| matches!(c.source, Source::FieldMap(_)))
            .unwrap_or(0);
        ChunkWriter {
            root: descr.root_schema_ptr(),
            descr,
            props: Arc::new(props),
            plain_props: Arc::new(plain),
            raw_props,
            snappy: SnappyScratch::new(),
            null_props: Arc::new(null_props),
            first_field,
            null_chunks: HashMap::new(),
            by_col: Vec::new(),
        }
    }

    /// Writes `rows` as one Parquet file into `out`, in row groups within `limits`; the number
    /// of row groups. The rows' texts are moved into the file's buffers (left empty).
    pub fn write_file<W: Write + Send>(
        &mut self,
        out: W,
        rows: &mut [Row],
        limits: RowGroupLimits,
    ) -> Result<usize> {
        let out = Unflushed(out);
        let mut file = SerializedFileWriter::new(out, self.root.clone(), self.props.clone())?;
        let mut groups = 0;
        let mut rest = rows;
        while !rest.is_empty() {
            let n = group_len(rest, limits);
            let (group, tail) = rest.split_at_mut(n);
            let mut rg = file.next_row_group()?;
            self.write_group(&mut rg, group)?;
            rg.close()?;
            groups += 1;
            rest = tail;
        }
        file.into_inner()?.0.flush()?;
        Ok(groups)
    }

    /// Every column of one row group, in schema order.
    fn write_group<W: Write + Send>(
        &mut self,
        rg: &mut SerializedRowGroupWriter<'_, W>,
        rows: &mut [Row],
    ) -> Result<()> {
        let files = file_values(rows);
        write_column::<ByteArrayType, W>(rg, &files, None, None)?;
        let record: Vec<i64> = rows.iter().map(|r| long(r.record)).collect();
        write_column::<Int64Type, W>(rg, &record, None, None)?;
        let line: Vec<i64> = rows.iter().map(|r| long(r.line)).collect();
        write_column::<Int64Type, W>(rg, &line, None, None)?;
        let tenant = rows.iter_mut().map(|r| r.tenant_id.take().map(text_value));
        write_optional::<ByteArrayType, W>(rg, tenant)?;
        write_optional::<Int64Type, W>(rg, rows.iter().map(|r| r.time))?;
        let kinds: Vec<ByteArray> = rows.iter().map(|r| r.log_kind.as_str().into()).collect();
        write_column::<ByteArrayType, W>(rg, &kinds, None, None)?;
        let formats: Vec<ByteArray> = rows.iter().map(|r| r.format.as_str().into()).collect();
        write_column::<ByteArrayType, W>(rg, &formats, None, None)?;
        let canonical = schema::CANONICAL.len() - 3;
        for i in 0..canonical {
            write_canonical(rg, rows, i)?;
        }
        self.write_field_maps(rg, rows)?;
        let raw: Vec<ByteArray> = rows
            .iter_mut()
            .map(|r| text_value(std::mem::take(&mut r.raw)))
            .collect();
        write_column::<ByteArrayType, W>(rg, &raw, None, None)
    }

    /// The field-map columns: each column some row holds encoded from the rows apart from the
    /// file, then spliced in (a column holding the same elements as an earlier one in every row
    /// — two names the format maps to the same field — reuses its bytes); the others spliced in
    /// as the all-null chunk of the row group's size.
    fn write_field_maps<W: Write + Send>(
        &mut self,
        rg: &mut SerializedRowGroupWriter<'_, W>,
        rows: &mut [Row],
    ) -> Result<()> {
        let mut by_col = std::mem::take(&mut self.by_col);
        present_elements(rows, &mut by_col);
        let written = self.write_field_chunks(rg, rows, &by_col);
        self.by_col = by_col;
        written
    }

    /// The field-map columns of [`Self::write_field_maps`] from their elements `by_col`.
    fn write_field_chunks<W: Write + Send>(
        &mut self,
        rg: &mut SerializedRowGroupWriter<'_, W>,
        rows: &mut [Row],
        by_col: &[Vec<(usize, Span)>],
    ) -> Result<()> {
        let texts: Vec<Bytes> = rows
            .iter_mut()
            .map(|r| Bytes::from(std::mem::take(&mut r.text)))
            .collect();
        // Chunks encoded, with the elements they hold (a few dozen per row group).
        let mut encoded: Vec<(&[(usize, Span)], EncodedChunk)> = Vec::new();
        for (col, present) in by_col.iter().enumerate() {
            let index = self.first_field + col;
            if present.is_empty() {
                self.append_null(rg, index, rows.len())?;
                continue;
            }
            let at = match encoded.iter().position(|(p, _)| *p == present.as_slice()) {
                Some(at) => at,
                None => {
                    let levels = list_levels(present, &texts, rows.len());
                    encoded.push((present, self.encode_apart(index, &levels)?));
                    encoded.len() - 1
                }
            };
            let chunk = &encoded[at].1;
            let close = retarget(chunk, self.descr.column(index))?;
            rg.append_column(&chunk.bytes, close)?;
        }
        Ok(())
    }

    /// Encodes list column `index` of `levels` apart from any file, without a dictionary:
    /// a field-map column's values are few per file and mostly distinct (identifiers, times,
    /// JSON objects), so hashing each one for a dictionary costs more than it saves; Snappy
    /// still shortens repeated values.
    ///
    /// When the pages are Snappy data pages v1, the column writer is told to write them
    /// uncompressed and [`SnappyPages`] compresses each with the writer's one Snappy encoder:
    /// the same bytes, without a new encoder (and its zeroed table) per chunk.
    fn encode_apart(&mut self, index: usize, levels: &ListLevels) -> Result<EncodedChunk> {
        let mut sink = TrackedWrite::new(Vec::new());
        let serialized = SerializedPageWriter::new(&mut sink);
        let (props, page_writer, codec): (_, Box<dyn PageWriter + '_>, _) = match &self.raw_props {
            Some(raw) => {
                let pages = SnappyPages {
                    inner: serialized,
                    scratch: &mut self.snappy,
                };
                (raw.clone(), Box::new(pages), Some(Compression::SNAPPY))
            }
            None => (self.plain_props.clone(), Box::new(serialized), None),
        };
        let mut writer = get_column_writer(self.descr.column(index), props, page_writer);
        match &mut writer {
            ColumnWriter::ByteArrayColumnWriter(w) => {
                w.write_batch(&levels.values, Some(&levels.def), Some(&levels.rep))?;
            }
            _ => return Err(ParquetError::General("field-map columns hold texts".into())),
        }
        let close = writer.close()?;
        let bytes = Bytes::from(sink.into_inner()?);
        let codec = codec.map_or_else(|| close.metadata.compression_codec(), Into::into);
        Ok(EncodedChunk {
            bytes,
            close,
            codec,
        })
    }

    /// Splices the all-null chunk of `rows` rows in as column `index`.
    fn append_null<W: Write + Send>(
        &mut self,
        rg: &mut SerializedRowGroupWriter<'_, W>,
        index: usize,
        rows: usize,
    ) -> Result<()> {
        if !self.null_chunks.contains_key(&rows) {
            if self.null_chunks.len() >= NULL_CHUNKS_CACHED {
                self.null_chunks.clear();
            }
            let chunk = self.encode_null(rows)?;
            self.null_chunks.insert(rows, chunk);
        }
        let chunk = self
            .null_chunks
            .get(&rows)
            .ok_or_else(|| ParquetError::General("no all-null chunk".into()))?;
        let close = retarget(chunk, self.descr.column(index))?;
        rg.append_column(&chunk.bytes, close)
    }

    /// Encodes `rows` null lists as one column chunk, apart from any file.
    fn encode_null(&self, rows: usize) -> Result<EncodedChunk> {
        let descr = self.descr.column(self.first_field);
        let mut sink = TrackedWrite::new(Vec::new());
        let page_writer = Box::new(SerializedPageWriter::new(&mut sink));
        let mut writer = get_column_writer(descr, self.null_props.clone(), page_writer);
        let zeros = vec![0i16; rows];
        match &mut writer {
            ColumnWriter::ByteArrayColumnWriter(w) => {
                w.write_batch(&[], Some(&zeros), Some(&zeros))?;
            }
            _ => return Err(ParquetError::General("field-map columns hold texts".into())),
        }
        let close = writer.close()?;
        let bytes = Bytes::from(sink.into_inner()?);
        let codec = close.metadata.compression_codec();
        Ok(EncodedChunk {
            bytes,
            close,
            codec,
        })
    }
}

/// A Snappy encoder and its output buffer, kept for every page a writer compresses.
struct SnappyScratch {
    encoder: snap::raw::Encoder,
    out: Vec<u8>,
}

impl SnappyScratch {
    fn new() -> SnappyScratch {
        SnappyScratch {
            encoder: snap::raw::Encoder::new(),
            out: Vec::new(),
        }
    }

    /// `data` compressed, as Parquet's Snappy codec compresses a page.
    fn compress(&mut self, data: &[u8]) -> Result<Bytes> {
        let need = snap::raw::max_compress_len(data.len());
        if self.out.len() < need {
            self.out.resize(need, 0);
        }
        let n = self
            .encoder
            .compress(data, &mut self.out)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        let compressed = self
            .out
            .get(..n)
            .ok_or_else(|| ParquetError::General("Snappy wrote past its buffer".into()))?;
        Ok(Bytes::copy_from_slice(compressed))
    }
}

/// A page writer that Snappy-compresses the uncompressed pages of a column writer (data pages
/// v1 and dictionary pages) before passing them on, as the column writer would have.
struct SnappyPages<'a, W: Write + Send> {
    inner: SerializedPageWriter<'a, W>,
    scratch: &'a mut SnappyScratch,
}

impl<W: Write + Send> PageWriter for SnappyPages<'_, W> {
    fn write_page(&mut self, page: CompressedPage) -> Result<PageWriteSpec> {
        let uncompressed_size = page.uncompressed_size();
        // Only the payload changes: every other field of the page is written as parquet gave it.
        let mut compressed = page.compressed_page().clone();
        match &mut compressed {
            Page::DataPage { buf, .. } | Page::DictionaryPage { buf, .. } => {
                *buf = self.scratch.compress(buf)?;
            }
            Page::DataPageV2 { .. } => {
                return Err(ParquetError::General("data pages v2 not expected".into()));
            }
        }
        self.inner
            .write_page(CompressedPage::new(compressed, uncompressed_size))
    }

    fn close(&mut self) -> Result<()> {
        self.inner.close()
    }
}

/// What closing a chunk reported, for the same bytes as column `descr`, with the codec of
/// its pages.
fn retarget(chunk: &EncodedChunk, descr: ColumnDescPtr) -> Result<ColumnCloseResult> {
    let close = &chunk.close;
    let m = &close.metadata;
    let mut b = ColumnChunkMetaData::builder(descr)
        .set_compression_codec(chunk.codec)
        .set_encodings_mask(*m.encodings_mask())
        .set_total_compressed_size(m.compressed_size())
        .set_total_uncompressed_size(m.uncompressed_size())
        .set_num_values(m.num_values())
        .set_data_page_offset(m.data_page_offset())
        .set_dictionary_page_offset(m.dictionary_page_offset())
        .set_unencoded_byte_array_data_bytes(m.unencoded_byte_array_data_bytes());
    if let Some(h) = m.repetition_level_histogram() {
        b = b.set_repetition_level_histogram(Some(h.clone()));
    }
    if let Some(h) = m.definition_level_histogram() {
        b = b.set_definition_level_histogram(Some(h.clone()));
    }
    if let Some(s) = m.statistics() {
        b = b.set_statistics(s.clone());
    }
    if let Some(s) = m.page_encoding_stats() {
        b = b.set_page_encoding_stats(s.clone());
    }
    Ok(ColumnCloseResult {
        bytes_written: close.bytes_written,
        rows_written: close.rows_written,
        metadata: b.build()?,
        bloom_filter: None,
        column_index: None,
        offset_index: None,
    })
}

/// An element's span in its row's text, `None` for a JSON null.
type Span = Option<(u32, u32)>;

/// Per field-map column, the rows holding it and each one's elements: (row, element), in
/// row order, into `by_col` (emptied first, one list per column).
fn present_elements(rows: &[Row], by_col: &mut Vec<Vec<(usize, Span)>>) {
    let n = schema::field_map_fields().len();
    by_col.resize_with(n, Vec::new);
    for v in by_col.iter_mut() {
        v.clear();
    }
    for (ri, r) in rows.iter().enumerate() {
        for (col, range) in r.field_spans() {
            if let Some(v) = by_col.get_mut(col as usize) {
                if range.is_empty() {
                    // An empty list: a row with no element, told apart from a null element.
                    v.push((ri, Some((u32::MAX, u32::MAX))));
                }
                v.extend(range.map(|i| (ri, r.elements.get(i).copied().flatten())));
            }
        }
    }
}

/// The levels and values of a list column from its rows' elements ([`present_elements`]).
fn list_levels(present: &[(usize, Span)], texts: &[Bytes], rows: usize) -> ListLevels {
    // A level per row without the column, one per element (or empty list) of the others.
    let mut levels = ListLevels::with_capacity(rows + present.len(), present.len());
    let mut next = 0;
    let mut at = 0;
    while let Some(&(ri, _)) = present.get(at) {
        levels.nulls(ri - next);
        let end = at + present[at..].iter().take_while(|(r, _)| *r == ri).count();
        let items = &present[at..end];
        if items == [(ri, Some((u32::MAX, u32::MAX)))] {
            levels.list(std::iter::empty());
        } else {
            levels.list(items.iter().map(|&(_, span)| {
                let (s, e) = span?;
                let text = texts.get(ri)?;
                text.get(s as usize..e as usize)?;
                Some(ByteArray::from(text.slice(s as usize..e as usize)))
            }));
        }
        next = ri + 1;
        at = end;
    }
    levels.nulls(rows - next);
    levels
}

/// A writer whose `flush` does nothing: the Parquet writer flushes after every column chunk,
/// which would make one system call per chunk; the file is flushed once, when complete.
struct Unflushed<W: Write>(W);

impl<W: Write> Write for Unflushed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How many of `rows` the next row group takes (at least one).
fn group_len(rows: &[Row], limits: RowGroupLimits) -> usize {
    let mut bytes = 0;
    for (i, r) in rows.iter().enumerate() {
        bytes += r.heap_bytes();
        if i + 1 >= limits.max_rows.max(1) || bytes >= limits.max_bytes {
            return i + 1;
        }
    }
    rows.len()
}

fn long(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A text as a value, without copying it.
fn text_value(s: String) -> ByteArray {
    ByteArray::from(Bytes::from(s))
}

/// The `file` column: one buffer per distinct file (rows of a file follow one another).
fn file_values(rows: &[Row]) -> Vec<ByteArray> {
    let mut out: Vec<ByteArray> = Vec::with_capacity(rows.len());
    let mut last: Option<&Arc<str>> = None;
    for r in rows {
        match (last, out.last()) {
            (Some(l), Some(v)) if Arc::ptr_eq(l, &r.file) => out.push(v.clone()),
            _ => out.push(ByteArray::from(Bytes::copy_from_slice(r.file.as_bytes()))),
        }
        last = Some(&r.file);
    }
    out
}

/// Writes the next column: `values` with their levels.
fn write_column<T: DataType, W: Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    values: &[T::T],
    def: Option<&[i16]>,
    rep: Option<&[i16]>,
) -> Result<()> {
    let mut col = rg
        .next_column()?
        .ok_or_else(|| ParquetError::General("more values than columns".into()))?;
    col.typed::<T>().write_batch(values, def, rep)?;
    col.close()
}

/// Writes the next column, optional and flat: a value or null per row.
fn write_optional<T: DataType, W: Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    values: impl Iterator<Item = Option<T::T>>,
) -> Result<()> {
    let (mut present, mut def) = match values.size_hint() {
        (_, Some(n)) => (Vec::with_capacity(n), Vec::with_capacity(n)),
        _ => (Vec::new(), Vec::new()),
    };
    for v in values {
        def.push(i16::from(v.is_some()));
        present.extend(v);
    }
    write_column::<T, W>(rg, &present, Some(&def), None)
}

/// Canonical column `i` (past `format`) of `rows`.
fn write_canonical<W: Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    rows: &mut [Row],
    i: usize,
) -> Result<()> {
    let storage = schema::CANONICAL.get(i + 3).map(|c| c.2);
    let take = |r: &mut Row| match r.canonical.get_mut(i) {
        Some(v) => std::mem::replace(v, CanonicalValue::Null),
        None => CanonicalValue::Null,
    };
    match storage {
        Some(schema::Storage::Bool) => write_optional::<BoolType, W>(
            rg,
            rows.iter_mut().map(|r| match take(r) {
                CanonicalValue::Bool(b) => Some(b),
                _ => None,
            }),
        ),
        Some(schema::Storage::TextList) => {
            let mut levels = ListLevels::with_capacity(rows.len(), 0);
            for r in rows.iter_mut() {
                match take(r) {
                    CanonicalValue::List(items) => {
                        levels.list(items.into_iter().map(|t| Some(text_value(t))))
                    }
                    _ => levels.nulls(1),
                }
            }
            levels.write(rg)
        }
        _ => write_optional::<ByteArrayType, W>(
            rg,
            rows.iter_mut().map(|r| match take(r) {
                CanonicalValue::Text(t) => Some(text_value(t)),
                _ => None,
            }),
        ),
    }
}

/// The values and levels of a list-of-texts column (`optional group (LIST) { repeated group list
/// { optional binary item } }`): definition 0 null list, 1 empty list, 2 null element, 3
/// element; repetition 0 at a row's start, 1 within it.
struct ListLevels {
    values: Vec<ByteArray>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl ListLevels {
    /// Room for `levels` levels and `values` values.
    fn with_capacity(levels: usize, values: usize) -> ListLevels {
        ListLevels {
            values: Vec::with_capacity(values),
            def: Vec::with_capacity(levels),
            rep: Vec::with_capacity(levels),
        }
    }

    /// `n` null lists.
    fn nulls(&mut self, n: usize) {
        self.def.extend(std::iter::repeat_n(0, n));
        self.rep.extend(std::iter::repeat_n(0, n));
    }

    /// One list of these elements.
    fn list(&mut self, items: impl Iterator<Item = Option<ByteArray>>) {
        let start = self.def.len();
        for item in items {
            let first = self.def.len() == start;
            self.rep.push(if first { 0 } else { 1 });
            self.def.push(if item.is_some() { 3 } else { 2 });
            self.values.extend(item);
        }
        if self.def.len() == start {
            self.def.push(1);
            self.rep.push(0);
        }
    }

    fn write<W: Write + Send>(self, rg: &mut SerializedRowGroupWriter<'_, W>) -> Result<()> {
        write_column::<ByteArrayType, W>(rg, &self.values, Some(&self.def), Some(&self.rep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use arrow_array::RecordBatch;
    use parquet::arrow::ArrowSchemaConverter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use crate::batch::{arrow_schema, record_batch};

    fn corpus_rows() -> Vec<Row> {
        crate::test_corpus::rows()
    }

    /// `rows` written as one file with `limits`, read back as record batches.
    fn round_trip(rows: &[Row], limits: RowGroupLimits) -> (usize, Vec<RecordBatch>) {
        let schema = arrow_schema();
        let descr = ArrowSchemaConverter::new()
            .convert(&schema)
            .expect("schema");
        let mut writer = ChunkWriter::new(descr, WriterProperties::builder().build());
        let mut buf = Vec::new();
        let mut owned = rows.to_vec();
        let groups = writer
            .write_file(&mut buf, &mut owned, limits)
            .expect("written");
        let batches = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(buf))
            .expect("a Parquet file")
            .with_batch_size(rows.len().max(1))
            .build()
            .expect("reader")
            .collect::<std::result::Result<Vec<_>, _>>()
            .expect("batches");
        (groups, batches)
    }

    /// `rows` written as one file by `writer` with `limits`: the file's bytes.
    fn file_bytes(writer: &mut ChunkWriter, rows: &[Row], limits: RowGroupLimits) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut owned = rows.to_vec();
        writer
            .write_file(&mut buf, &mut owned, limits)
            .expect("written");
        buf
    }

    #[test]
    fn pages_compressed_with_one_encoder_are_the_bytes_parquet_writes() {
        let rows = corpus_rows();
        let descr = ArrowSchemaConverter::new()
            .convert(&arrow_schema())
            .expect("schema");
        // Small pages too, so that chunks hold several pages.
        for page_limit in [usize::MAX, 256] {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_data_page_size_limit(page_limit)
                .set_data_page_row_count_limit(page_limit.min(20_000))
                .build();
            let mut reused = ChunkWriter::new(descr.clone(), props.clone());
            assert!(reused.raw_props.is_some(), "Snappy pages compressed apart");
            let mut by_parquet = ChunkWriter::new(descr.clone(), props);
            by_parquet.raw_props = None;
            for max_rows in [usize::MAX, 7, 1] {
                let limits = RowGroupLimits {
                    max_bytes: usize::MAX,
                    max_rows,
                };
                let want = file_bytes(&mut by_parquet, &rows, limits);
                let got = file_bytes(&mut reused, &rows, limits);
                assert!(
                    got == want,
                    "page limit {page_limit}, {max_rows} rows a group"
                );
            }
        }
        // Other codecs stay with the column writer's own compression.
        let plain = ChunkWriter::new(descr, WriterProperties::builder().build());
        assert!(plain.raw_props.is_none());
    }

    #[test]
    fn files_read_back_as_the_arrow_batch_of_their_rows() {
        let mut rows = corpus_rows();
        assert!(rows.len() > 100, "{} rows", rows.len());
        // The last field-map column as an empty list in one row, and as a null element and an
        // empty text in the next.
        let last = schema::field_map_fields().len() as u32 - 1;
        assert!(
            rows[..2]
                .iter()
                .all(|r| r.fields.iter().all(|f| f.0 < last))
        );
        rows[0].fields.push((last, 0));
        rows[1].fields.push((last, 2));
        rows[1].elements.extend([None, Some((0, 0))]);
        let want = record_batch(&arrow_schema(), &rows).expect("batch");
        let whole = RowGroupLimits {
            max_bytes: usize::MAX,
            max_rows: usize::MAX,
        };
        let (groups, got) = round_trip(&rows, whole);
        assert_eq!(groups, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].num_rows(), rows.len());
        for (i, f) in want.schema().fields().iter().enumerate() {
            assert_eq!(
                got[0].column(i).to_data(),
                want.column(i).to_data(),
                "column {}",
                f.name()
            );
        }
        // Small row groups: the same rows, in the same order.
        let small = RowGroupLimits {
            max_bytes: usize::MAX,
            max_rows: 7,
        };
        let (groups, got) = round_trip(&rows, small);
        assert_eq!(groups, rows.len().div_ceil(7));
        assert_eq!(got.len(), 1, "one batch across the row groups");
        assert!(got[0] == want, "small row groups read back differently");
    }
}
