//! # tw-detect
//!
//! What tenantwatch runs against events: the shipped per-format pipelines that map SigmaHQ's field
//! names onto the real fields of each export shape, and the routing of Sigma log sources to log kinds.
//!
//! ```
//! use tw_event::Format;
//! let yaml = tw_detect::pipeline_for(Format::DirectoryAuditGraphJson).unwrap();
//! assert!(yaml.contains("properties.message"));
//! ```

pub mod pipelines;

pub use pipelines::{PIPELINES, pipeline_for};
