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
//!     matched: Default::default(),
//! };
//! let mut out = Vec::new();
//! tw_report::write_csv(&mut out, &[f]).unwrap();
//! assert!(String::from_utf8(out).unwrap().contains("'=cmd"));
//! ```

pub mod csv_sink;
pub mod jsonl;
pub mod table;

pub use csv_sink::{neutralise, write_csv};
pub use jsonl::write_jsonl;
pub use table::write_table;
