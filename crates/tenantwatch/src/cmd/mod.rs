//! One module per subcommand, plus the options they share.

pub mod audit;
pub mod blast;
pub mod collect;
pub mod common;
pub mod export;
pub mod findings;
pub mod hunt;
pub mod ingest;
pub mod investigate;
pub mod rules;
pub mod rules_compile;
pub mod rules_io;
pub mod simulate;
pub mod sweep;
