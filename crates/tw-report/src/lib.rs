//! # tw-report
//!
//! Where findings go: a table for people, CSV for spreadsheets (cells neutralised against formula
//! injection), JSON lines for machines (the contract of `docs/findings.md`). Log content is
//! attacker-controlled: every sink escapes or neutralises it.
//!
//! ```
//! use tw_event::{Finding, LogKind, Origin, RuleRef, Actor, Provenance};
//! let f = Finding {
//!     rule: RuleRef { id: "r1".into(), title: "Rule".into(), level: "high".into(), tags: vec![], origin: Origin::User },
//!     time: None, tenant_id: None, actor: Actor::default(), ip: None, operation: Some("=cmd|' /C calc'!A0".into()),
//!     log: LogKind::Ual,
//!     evidence: vec![Provenance { file: "a.json".into(), record: 0, line: 1 }],
//!     matched: Default::default(), merged: Default::default(),
//! };
//! let mut out = Vec::new();
//! tw_report::write_csv(&mut out, &[f]).unwrap();
//! assert!(String::from_utf8(out).unwrap().contains("'=cmd"));
//! ```

pub mod case_page;
pub mod csv_sink;
pub mod html;
pub mod jsonl;
pub mod letter;
pub mod manifest;
pub mod table;
pub mod timeline;
pub mod timesketch;

pub use csv_sink::{neutralise, write_csv};
pub use html::write_html;
pub use jsonl::write_jsonl;
pub use letter::{LetterContext, write_evidence_csv, write_markdown, write_report_dir};
pub use manifest::{FileHash, Manifest, sha256_file, sha256_hex, write_manifest};
pub use table::write_table;
pub use timeline::{RunSummary, write_timeline};
pub use timesketch::write_timesketch;
