//! Rows to Arrow: the Arrow schema of [`crate::schema::columns`] (from which the Parquet schema
//! of the files is derived) and the record batch of a run of rows — what a file of those rows
//! reads back as — column by column (field-map columns, mostly null, are built from the rows that hold
//! them, with runs of nulls between).

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::row::{CanonicalValue, Row};
use crate::schema::{self, Storage};

/// The Arrow type of a storage.
pub fn data_type(s: Storage) -> DataType {
    match s {
        Storage::Text => DataType::Utf8,
        Storage::Long => DataType::Int64,
        Storage::TimestampMillisUtc => {
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        }
        Storage::Bool => DataType::Boolean,
        Storage::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
    }
}

/// The Arrow schema of the exported files.
pub fn arrow_schema() -> SchemaRef {
    let fields: Vec<Field> = schema::columns()
        .iter()
        .map(|c| Field::new(&c.name, data_type(c.storage), c.nullable))
        .collect();
    Arc::new(Schema::new(fields))
}

/// The record batch of `rows`, in the order given.
pub fn record_batch(schema: &SchemaRef, rows: &[Row]) -> Result<RecordBatch, ArrowError> {
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    cols.push(text_column(rows.iter().map(|r| Some(&*r.file))));
    cols.push(long_column(rows.iter().map(|r| r.record)));
    cols.push(long_column(rows.iter().map(|r| r.line)));
    cols.push(text_column(rows.iter().map(|r| r.tenant_id.as_deref())));
    let mut time = TimestampMillisecondBuilder::with_capacity(rows.len());
    for r in rows {
        time.append_option(r.time);
    }
    cols.push(Arc::new(time.finish().with_timezone("UTC")));
    cols.push(text_column(rows.iter().map(|r| Some(r.log_kind.as_str()))));
    cols.push(text_column(rows.iter().map(|r| Some(r.format.as_str()))));
    for (i, (_, _, storage)) in schema::CANONICAL.iter().skip(3).enumerate() {
        cols.push(canonical_column(rows, i, *storage));
    }
    cols.extend(field_map_columns(rows));
    cols.push(text_column(rows.iter().map(|r| Some(r.raw.as_str()))));
    RecordBatch::try_new(schema.clone(), cols)
}

fn text_column<'a>(values: impl Iterator<Item = Option<&'a str>> + Clone) -> ArrayRef {
    let (count, bytes) = values
        .clone()
        .fold((0, 0), |(n, b), v| (n + 1, b + v.map_or(0, str::len)));
    let mut b = StringBuilder::with_capacity(count, bytes);
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn long_column(values: impl Iterator<Item = u64>) -> ArrayRef {
    let mut b = Int64Builder::new();
    for v in values {
        b.append_value(i64::try_from(v).unwrap_or(i64::MAX));
    }
    Arc::new(b.finish())
}

/// Canonical column `i` (past `format`) of `rows`.
fn canonical_column(rows: &[Row], i: usize, storage: Storage) -> ArrayRef {
    fn value(r: &Row, i: usize) -> &CanonicalValue {
        r.canonical.get(i).unwrap_or(&CanonicalValue::Null)
    }
    match storage {
        Storage::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            for r in rows {
                match value(r, i) {
                    CanonicalValue::Bool(v) => b.append_value(*v),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Storage::TextList => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for r in rows {
                match value(r, i) {
                    CanonicalValue::List(items) => {
                        for t in items {
                            b.values().append_value(t);
                        }
                        b.append(true);
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        _ => text_column(rows.iter().map(|r| match value(r, i) {
            CanonicalValue::Text(t) => Some(t.as_str()),
            _ => None,
        })),
    }
}

/// A row holding a field-map column: its index in the batch and the range of its elements.
type Present = (usize, std::ops::Range<usize>);

/// Every field-map column of `rows`, in schema order.
fn field_map_columns(rows: &[Row]) -> Vec<ArrayRef> {
    let n = schema::field_map_fields().len();
    let mut by_col: Vec<Vec<Present>> = vec![Vec::new(); n];
    for (ri, r) in rows.iter().enumerate() {
        for (col, range) in r.field_spans() {
            if let Some(v) = by_col.get_mut(col as usize) {
                v.push((ri, range));
            }
        }
    }
    // Most columns are null in every row: they share one array.
    let all_null = new_null_array(&data_type(Storage::TextList), rows.len());
    by_col
        .into_iter()
        .map(|present| {
            if present.is_empty() {
                return all_null.clone();
            }
            let (items, bytes) = present.iter().fold((0, 0), |(n, b), (ri, range)| {
                let len: usize = range
                    .clone()
                    .map(|i| rows[*ri].element(i).map_or(0, str::len))
                    .sum();
                (n + range.len(), b + len)
            });
            let values = StringBuilder::with_capacity(items, bytes);
            let mut b = ListBuilder::with_capacity(values, rows.len());
            let mut next = 0;
            for (ri, range) in present {
                b.append_nulls(ri - next);
                for i in range {
                    b.values().append_option(rows[ri].element(i));
                }
                b.append(true);
                next = ri + 1;
            }
            b.append_nulls(rows.len() - next);
            Arc::new(b.finish()) as ArrayRef
        })
        .collect()
}
