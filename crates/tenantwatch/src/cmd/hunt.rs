//! `tenantwatch hunt`: run the built-in pack and any Sigma rules over log exports and print the
//! findings.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tw_detect::HuntOptions;
use tw_sigma::Level;

use tw_analyze::InputProblems;

use super::common::{ReadArgs, print_input_problems, strict_status};
use super::rules_io::load_hunter;

/// Arguments of `hunt`.
#[derive(Args, Debug)]
pub struct HuntArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Sigma rules to run besides the built-in pack (files or folders, repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Run only the rules given with --rules.
    #[arg(long = "no-builtin")]
    pub no_builtin: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FindingFormat::Timeline)]
    pub format: FindingFormat,
    /// Report findings of this level and above (informational, low, medium, high, critical).
    /// `informational` adds routine context (mail read by applications, partner and service
    /// principal sign-ins), aggregated per actor, tenant and UTC day.
    #[arg(long = "min-level", value_name = "LEVEL", default_value = "low")]
    pub min_level: String,
    /// YAML/JSON file with values of `expand` placeholders (`placeholders: {name: [values]}`).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write findings to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Most observations buffered for correlation rules, over all correlations and groups (at
    /// least 1); observations past it are dropped, counted and reported.
    #[arg(
        long = "max-correlation-state",
        value_name = "N",
        default_value_t = 2_000_000
    )]
    pub max_correlation_state: usize,
    /// Exit with status 2 when any record was rejected or any file not fully read (they are
    /// listed either way). A rejected rule gives status 2 even without --strict: a rule asked
    /// for did not run.
    #[arg(long)]
    pub strict: bool,
    /// Decode and check every record, also those no rule can match, and read rule fields from
    /// whole documents (by default such records are recognised from their bytes and skipped
    /// undecoded, so a malformed one among them is not reported, and documents are parsed keeping
    /// only what the rules read; `ingest --stats` checks every record).
    #[arg(long = "decode-all")]
    pub decode_all: bool,
    /// Learning period of every first-seen and new-behaviour rule and chain (e.g. 72h, 3d):
    /// nothing is "new" before it has passed from the start of a tenant's logs (default: each
    /// rule's own, 72h in the built-in pack).
    #[arg(long = "learning-period", value_name = "DURATION")]
    pub learning_period: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Output formats of findings.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingFormat {
    /// A timeline for people: grouped per tenant, one line per finding, then a summary.
    Timeline,
    /// A flat table for people.
    Table,
    /// CSV (cells neutralised against formula injection).
    Csv,
    /// One finding per line, the machine contract (docs/findings.md).
    Jsonl,
    /// Timesketch-ready JSON lines (message, datetime, timestamp_desc and tenantwatch's fields).
    Timesketch,
}

/// Runs `hunt`; returns the exit status.
pub fn run(a: HuntArgs) -> Result<u8> {
    let ingest = a.read.options()?;
    if a.max_correlation_state == 0 {
        anyhow::bail!(
            "--max-correlation-state must be at least 1 (it bounds memory; there is no unbounded setting)"
        );
    }
    let min_level = Some(
        Level::parse(&a.min_level)
            .with_context(|| format!("unknown --min-level {:?}", a.min_level))?,
    );
    let (hunter, rules_rejected) = load_hunter(a.no_builtin, &a.rules, a.config.as_ref())?;
    let set = hunter.rule_set();
    let learning_period_ms = match &a.learning_period {
        Some(d) => Some(
            tw_detect::firstseen::parse_duration_ms(d)
                .with_context(|| format!("bad --learning-period {d:?} (e.g. 72h, 3d)"))?,
        ),
        None => None,
    };
    let opts = HuntOptions {
        ingest,
        min_level,
        placeholders: Default::default(),
        max_correlation_observations: a.max_correlation_state,
        decode_all: a.decode_all,
        learning_period_ms,
    };
    let bar = crate::progress::Bar::start(a.read.progress, a.quiet, &["hunt"]);
    let opts = HuntOptions {
        ingest: bar.attach(opts.ingest),
        ..opts
    };
    let result = hunter.hunt(&a.read.paths, &opts);
    drop(bar);
    let sink: Box<dyn Write> = match &a.out {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut w = BufWriter::new(sink);
    let problems = InputProblems::of(&result.ingest);
    let written = match a.format {
        FindingFormat::Timeline => {
            let run = tw_report::RunSummary {
                records: result.ingest.totals.read,
                rejected: result.ingest.totals.rejected,
                files: result.ingest.totals.files,
                files_not_read: problems.files_not_read.len() as u64,
            };
            tw_report::write_timeline(&mut w, &result.findings, &run)
        }
        FindingFormat::Table => tw_report::write_table(&mut w, &result.findings),
        FindingFormat::Timesketch => tw_report::write_timesketch(&mut w, &result.findings),
        FindingFormat::Csv => tw_report::write_csv(&mut w, &result.findings),
        FindingFormat::Jsonl => tw_report::write_jsonl(&mut w, &result.findings),
    };
    match written.and_then(|_| w.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Err(e).context("writing findings");
        }
        _ => {}
    }
    print_input_problems(&problems);
    print_summary(&result, &problems, set.retired().len(), rules_rejected);
    let status = if rules_rejected > 0 {
        2
    } else {
        strict_status(a.strict, &problems)
    };
    // The process ends right after: freeing every finding one by one would only add a
    // single-threaded pause at the end of the run (a tenth of a hunt's time on large inputs).
    std::mem::forget(result);
    Ok(status)
}

/// The summary line on standard error, and the correlation state warning when it cut.
fn print_summary(
    result: &tw_detect::HuntResult,
    problems: &InputProblems,
    retired: usize,
    rejected_rules: usize,
) {
    let r = &result.ingest;
    let s = &result.stats;
    let pairs = s.evaluated + s.skipped;
    eprintln!(
        "tenantwatch: {} records read ({} rejected, {} not decoded: no rule can match them) from {} files ({} not fully read); {} rules, {} correlations, {} retired skipped, {} rejected; {} findings; candidate index skipped {:.2} % of rule/event pairs",
        r.totals.read,
        r.totals.rejected,
        r.totals.prefiltered,
        r.totals.files,
        problems.files_not_read.len(),
        s.rules,
        s.correlations,
        retired,
        rejected_rules,
        result.findings.len(),
        if pairs > 0 {
            s.skipped as f64 * 100.0 / pairs as f64
        } else {
            0.0
        }
    );
    if s.correlation_dropped > 0 {
        eprintln!(
            "tenantwatch: warning: correlation state bound reached, {} observations dropped (raise --max-correlation-state)",
            s.correlation_dropped
        );
    }
}
