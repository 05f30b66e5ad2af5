//! # tw-event
//!
//! The one event type every other part of tenantwatch consumes: a log record from any export of
//! Microsoft 365, Entra ID or Azure logs, with
//! - its **log kind** ([`LogKind`]: `ual`, `signin`, `directory_audit`, ...),
//! - its **physical format** ([`Format`]: `ual.purview_csv`, `signin.azure_monitor`, ...),
//! - its **provenance** ([`Provenance`]: file, 0-based record index, 1-based start line),
//! - **canonical accessors** ([`Canonical`]: time, tenant, actor, IP, operation, result, targets),
//! - and the raw document as parsed.
//!
//! Timestamps of every shape the exports use are parsed by [`parse_timestamp`].
//!
//! ```
//! use tw_event::{parse_timestamp, Format, LogKind};
//!
//! let t = parse_timestamp("4/28/2021, 3:05:26.000 PM").unwrap();
//! assert_eq!(t.to_string(), "2021-04-28T15:05:26.000Z");
//! assert_eq!(Format::UalPurviewCsv.log_kind(), LogKind::Ual);
//! assert_eq!(Format::from_name("signin.graph_json"), Some(Format::SigninGraphJson));
//! ```

mod document;
mod event;
mod finding;
mod kind;
pub mod text;
mod time;

pub use document::{BuildDocument, Document, decode_json_strings};
pub use event::{Canonical, Event, Outcome, Provenance, TenantSource};
pub use finding::{Actor, ChangeTie, CopyIdentity, Finding, Merged, Origin, RuleRef};
pub use kind::{Format, LogKind};
pub use text::{escape_text, is_guid};
pub use time::{Timestamp, civil_from_days, days_from_civil, parse_timestamp};
