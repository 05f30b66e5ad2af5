//! # tw-ioc
//!
//! Published indicators of compromise — addresses and ranges, domains, URLs, e-mail addresses,
//! accounts, application and object ids, user agents, certificate thumbprints — read from the
//! files agencies and vendors publish (plain lists, CSV/TSV, STIX 2.1 bundles, MISP events),
//! refanged, and matched against log records: first on a record's raw bytes ([`IocIndex::raw_candidate`],
//! so records holding no indicator are never decoded), then on the decoded document's values
//! ([`IocIndex::match_document`]).
//!
//! ```
//! use std::sync::Arc;
//! use tw_ioc::{IocIndex, MatchOptions, Scratch, load_text};
//!
//! let loaded = load_text(&Arc::from("list.txt"), "# campaign\n203.0.113[.]0/24\nevil[.]com\n");
//! assert_eq!(loaded.indicators.len(), 2);
//! let idx = IocIndex::build(loaded.indicators, MatchOptions::default());
//! let raw = br#"{"ClientIP":"203.0.113.9:51000","UserId":"bob@contoso.com"}"#;
//! assert!(idx.raw_candidate(raw, true, &mut Scratch::default()));
//! let doc: serde_json::Value = serde_json::from_slice(raw).unwrap();
//! let hits = idx.match_document(&doc);
//! assert_eq!(hits[0].field, "ClientIP");
//! assert_eq!(idx.indicators()[hits[0].ioc as usize].label(), "ipv4 203.0.113.0/24");
//! ```

pub mod addr;
pub mod defang;
pub mod index;
pub mod kind;
pub mod load;
pub mod misp;
pub mod prefilter;
pub mod ranges;
pub mod stix;
pub mod table;

pub use index::{Hit, IocIndex, MatchOptions, Scratch};
pub use kind::{Indicator, IocType};
pub use load::{Loaded, Skipped, load_file, load_text};
