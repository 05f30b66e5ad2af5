//! # tw-scale
//!
//! tenantwatch's normalized events as a data lake: Parquet files in Hive-style partitions
//! (`log_kind=…/tenant_id=…/date=…/`), for Apache Spark or any Parquet reader. The column
//! contract — every column's name, what it holds and how a value is stored — lives in one module,
//! [`schema`], so the code that lowers rules to Spark SQL reads column names from it.
//!
//! Data flows one way: `tw_ingest` reads the inputs → [`row`] turns each event into a row on the
//! worker threads, reading fields by the Sigma engine's rules from the parsed record → [`writer`]
//! buffers the rows, in input order, per partition under a memory budget and writes each
//! partition as a file ([`chunks`] encodes the column chunks straight from the rows) →
//! [`export()`] runs it all and reports what was read and written. [`batch`] gives the Arrow
//! schema of the files and the Arrow batch of a run of rows (what a file of them reads back as).
//! [`lowering`] gives the lowering of rules to Spark SQL and KQL (`tw_sigma::lower`) what it
//! needs to know of the lake and of the hunt: rules compiled here query the files written here.
//!
//! ```
//! use tw_scale::schema::{self, Storage};
//!
//! // A canonical field and a field the shipped field maps read:
//! assert_eq!(schema::canonical_column("tw.user"), Some("tw_user"));
//! assert_eq!(schema::field_map_column("properties.message").as_deref(),
//!            Some("f_properties__message"));
//! assert_eq!(schema::field_map_column("ResultType").as_deref(), Some("f__result_type"));
//! assert_eq!(schema::storage_of("ResultType"), Some(Storage::TextList));
//! ```

pub mod batch;
pub mod chunks;
pub mod export;
mod lookup;
pub mod lowering;
pub mod row;
pub mod schema;
pub mod writer;

#[cfg(test)]
mod test_corpus;

pub use export::{ExportReport, export};
pub use writer::{LakeOptions, WrittenFile};
