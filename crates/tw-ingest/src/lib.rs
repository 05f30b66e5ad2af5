//! # tw-ingest
//!
//! Reads every export of Microsoft 365, Entra ID and Azure logs a responder is handed — Purview audit
//! CSV, Management Activity API JSON, Graph, Azure Monitor and Log Analytics exports of sign-ins,
//! directory audits, Azure activity, Graph activity and risk detections — from files, folders, `.gz`
//! and `.zip`, detecting each file's format from its content, into one ordered stream of
//! [`tw_event::Event`]s with provenance, plus a report of what was read ([`IngestReport`]).
//!
//! Data flows one way: [`source`] (find and open inputs) → [`json_split`] / CSV (split into raw
//! records) → [`classify`] (what is it) → [`normalize`] (document + canonical fields) → the caller's
//! function on worker threads → the caller's sink, in input order ([`ingest`]).
//!
//! ```
//! use tw_ingest::{ingest, IngestOptions};
//!
//! let dir = std::env::temp_dir().join(format!("tw-ingest-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(
//!     dir.join("ual.json"),
//!     r#"{"CreationTime":"2020-12-14T03:12:44","Operation":"MailItemsAccessed","RecordType":50,"OrganizationId":"11111111-2222-3333-4444-555555555555","UserId":"adele@contoso.com"}"#,
//! ).unwrap();
//! let mut users = Vec::new();
//! let report = ingest(&[dir.clone()], &IngestOptions::default(),
//!     |ev, out| out.push(ev.canonical.user.clone()),
//!     |u| users.push(u));
//! assert_eq!(report.totals.read, 1);
//! assert_eq!(users, vec![Some("adele@contoso.com".to_string())]);
//! assert_eq!(report.files[0].format, "ual.mgmt_api_json");
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

mod attribution;
pub mod classify;
pub mod collected;
mod csv_doc;
pub mod csv_rows;
mod json_doc;
pub mod json_split;
pub mod names;
pub mod normalize;
pub mod progress;
mod reader;
pub mod roles;
mod scan;
pub mod select;
mod sniff;
pub mod source;
pub mod stats;
pub mod tenant_map;
pub mod utf16;

pub use names::TenantName;
pub use progress::{ReadProgress, Snapshot};
pub use reader::{IngestOptions, RawColumns, RawRecord, ingest, ingest_inputs, ingest_prefiltered};
pub use source::{Input, ListError, SourceLimits};
pub use tenant_map::{TenantMap, read_tenant_map};
/// Per tenant id, its name and where it came from: [`IngestReport::tenant_names`].
pub fn tenant_names(report: &IngestReport) -> std::collections::BTreeMap<String, TenantName> {
    report.tenant_names()
}

pub use stats::{Attribution, CoverageRow, FileReport, Gap, IngestReport, RecordError, Totals};
