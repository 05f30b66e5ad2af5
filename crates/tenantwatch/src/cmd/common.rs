//! Options shared by the subcommands that read logs, and their translation into ingest options.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use tw_event::Format;
use tw_ingest::IngestOptions;

use crate::progress::ProgressMode;

/// How inputs are read.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Files, folders (walked recursively), .gz or .zip archives.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Force one physical format for every record (e.g. `json` for generic JSON, `ual.purview_csv`).
    #[arg(long = "format-in", value_name = "NAME")]
    pub format_in: Option<String>,
    /// File mapping export folders to tenant ids (`folder = tenant-id` per line, or a JSON object).
    #[arg(long = "tenant-map", value_name = "FILE")]
    pub tenant_map: Option<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Largest record accepted, in MiB.
    #[arg(long = "max-record-mib", value_name = "MIB", default_value_t = 64)]
    pub max_record_mib: usize,
    /// Silences longer than this many hours are reported as coverage gaps.
    #[arg(long = "gap-hours", value_name = "HOURS", default_value_t = 24.0)]
    pub gap_hours: f64,
    /// Progress bar on standard error: `auto` on a terminal unless --quiet, TERM=dumb or CI.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

impl ReadArgs {
    /// The ingest options these arguments ask for.
    pub fn options(&self) -> Result<IngestOptions> {
        let mut o = IngestOptions::default();
        if let Some(t) = self.threads {
            o.threads = t.max(1);
        }
        o.max_record_bytes = self.max_record_mib.max(1) << 20;
        if !(self.gap_hours.is_finite() && self.gap_hours > 0.0) {
            bail!("--gap-hours must be a positive number of hours");
        }
        o.gap_threshold_ms = (self.gap_hours * 3_600_000.0) as i64;
        if let Some(name) = &self.format_in {
            o.format_in = Some(Format::from_name(name).with_context(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown --format-in {name:?}; known: json, {}",
                    names.join(", ")
                )
            })?);
        }
        if let Some(p) = &self.tenant_map {
            let map = read_tenant_map(p)?;
            o.tenant_map = map.folders;
            o.tenant_names = map.names;
        }
        Ok(o)
    }
}

/// Reads a tenant map (`folder = tenant-id [name]` lines or a JSON object; see
/// [`tw_ingest::tenant_map`]): folder → tenant id pairs, and the names given.
pub fn read_tenant_map(p: &std::path::Path) -> Result<tw_ingest::TenantMap> {
    tw_ingest::read_tenant_map(p).map_err(anyhow::Error::msg)
}
