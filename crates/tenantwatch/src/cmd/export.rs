//! `tenantwatch export --parquet DIR PATH...`: every record read, normalized, as Parquet files
//! partitioned `log_kind=/tenant_id=/date=` for Spark (columns: `tw_scale::schema`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;
use tw_analyze::InputProblems;
use tw_report::visible;
use tw_scale::{ExportReport, LakeOptions};

use super::common::{ReadArgs, print_input_problems, strict_status};

/// Arguments of `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write Parquet files into this folder (created; it must be empty if it exists).
    #[arg(long, value_name = "DIR", required = true)]
    pub parquet: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Memory for the rows buffered per partition (log kind, tenant, day), in MiB: a partition
    /// is written as one file when it fits; over the budget, the partitions written least
    /// recently are written out first, and a later record of one starts its next file.
    #[arg(long = "buffer-mib", value_name = "MIB", default_value_t = 128)]
    pub buffer_mib: usize,
    /// Exit with status 2 when any record or file was rejected (all are listed either way).
    #[arg(long)]
    pub strict: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `export`; returns the exit status.
pub fn run(a: ExportArgs) -> Result<u8> {
    let bar = crate::progress::Bar::start(a.read.progress, a.quiet, &["export"]);
    let opts = bar.attach(a.read.options()?);
    let lake = LakeOptions {
        buffer_budget: a.buffer_mib.max(1) << 20,
        ..LakeOptions::default()
    };
    let report =
        tw_scale::export(&a.read.paths, &a.parquet, &opts, lake).map_err(|e| anyhow!(e))?;
    drop(bar);
    let problems = InputProblems::of(&report.ingest);
    print_input_problems(&problems);
    print_summary(&a, &report, &problems);
    Ok(strict_status(a.strict, &problems))
}

fn print_summary(a: &ExportArgs, report: &ExportReport, problems: &InputProblems) {
    let t = &report.ingest.totals;
    let partitions: BTreeSet<&str> = report
        .files
        .iter()
        .filter_map(|f| f.path.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    let groups: usize = report.files.iter().map(|f| f.row_groups).sum();
    eprintln!(
        "tenantwatch: {} records read ({} rejected) from {} files ({} not fully read); {} rows in {} partitions, {} files, {} row groups written to {}",
        t.read,
        t.rejected,
        t.files,
        problems.files_not_read.len(),
        report.rows,
        partitions.len(),
        report.files.len(),
        groups,
        visible(&a.parquet.display().to_string())
    );
}
