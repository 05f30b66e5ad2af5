//! Options shared by the subcommands that read logs, and their translation into ingest options.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use tw_analyze::InputProblems;
use tw_event::Format;
use tw_ingest::IngestOptions;
use tw_report::visible;

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
    /// The ingest options these arguments ask for. A path that does not exist is an error.
    pub fn options(&self) -> Result<IngestOptions> {
        check_paths_exist(&self.paths)?;
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

/// Fails on the first path that does not exist (a mistyped path must not read as "no activity").
/// A dangling link counts as existing: the reader lists it as unreadable.
pub fn check_paths_exist(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            bail!("{} does not exist", visible(&p.display().to_string()));
        }
    }
    Ok(())
}

/// Errors listed on standard error at most (all are counted; `--format json` outputs list them).
const ERRORS_SHOWN: usize = 20;

/// Lists on standard error every file not fully read, with its status and reason, and the first
/// rejected records with file and line; log-derived text is escaped.
pub fn print_input_problems(p: &InputProblems) {
    for f in &p.files_not_read {
        eprintln!(
            "tenantwatch: not fully read: {}: {}: {}",
            visible(&f.path),
            f.status,
            visible(&f.reason)
        );
    }
    // A file-level error (line 0) of a file listed above says nothing more.
    let records: Vec<_> = p
        .errors
        .iter()
        .filter(|e| !(e.line == 0 && p.files_not_read.iter().any(|f| f.path == e.path)))
        .collect();
    for e in records.iter().take(ERRORS_SHOWN) {
        eprintln!(
            "tenantwatch: rejected {}:{}: {}",
            visible(&e.path),
            e.line,
            visible(&e.reason)
        );
    }
    let more = records.len().saturating_sub(ERRORS_SHOWN) as u64 + p.errors_not_listed;
    if more > 0 {
        eprintln!("tenantwatch: {more} more rejected records not listed");
    }
}

/// The summary's words for what was not read: `N files not fully read, R records rejected`.
pub fn input_problems_summary(p: &InputProblems) -> String {
    format!(
        "{} of {} files not fully read, {} records rejected",
        p.files_not_read.len(),
        p.files,
        p.records_rejected
    )
}

/// Exit status for input problems: 2 under `--strict` when a file was not fully read.
pub fn strict_status(strict: bool, p: &InputProblems) -> u8 {
    if strict && !p.is_clean() { 2 } else { 0 }
}
