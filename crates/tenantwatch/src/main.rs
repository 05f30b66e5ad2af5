//! The `tenantwatch` command line: parses arguments and wires the crates together, nothing else.

mod cmd;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Documents are many small allocations; mimalloc reads them 15–25 % faster than the system allocator.
/// Built without transparent huge pages (`no_thp`): with them, memory freed and reused across
/// threads was zeroed again two megabytes at a time, half of `export`'s CPU time (docs/scale.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses, shown under every command's help.
const EXIT_STATUS: &str = "Exit status: 0 ran clean; 1 usage or fatal error (a path that does not exist, an unknown option, a file that cannot be written); 2 ran, but something was left out: a rule rejected (hunt, rules), the result truncated (blast), objects or files rejected (audit), a tenant's collection incomplete (collect), or, with --strict, records or files not fully read (ingest, hunt, blast, sweep, export) or indicator entries skipped (sweep). Files not fully read are always listed, with the reason.";

/// Incident response for trusted-third-party breaches of Microsoft 365 / Entra ID / Azure tenants.
#[derive(Parser, Debug)]
#[command(name = "tenantwatch", version, about, long_about = None, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inventory every third-party access path in tenant configuration snapshots.
    #[command(after_help = EXIT_STATUS)]
    Audit(cmd::audit::AuditArgs),
    /// Find every tenant, mailbox and object a compromised partner, user, app or address touched; write notification reports.
    #[command(after_help = EXIT_STATUS)]
    Blast(cmd::blast::BlastArgs),
    /// Collect tenants' logs and configuration through the Microsoft APIs, with proof of completeness.
    #[command(after_help = EXIT_STATUS)]
    Collect(cmd::collect::CollectArgs),
    /// Write every record read, normalized, as Parquet partitioned by log kind, tenant and day (for Spark).
    #[command(after_help = EXIT_STATUS)]
    Export(cmd::export::ExportArgs),
    /// Findings in the `hunt --format jsonl` contract from the records a Spark hunt returned (scripts/spark-hunt.py --records).
    #[command(after_help = EXIT_STATUS)]
    Findings(cmd::findings::FindingsArgs),
    /// Read log exports and report what was read: formats, record counts, coverage, errors.
    #[command(after_help = EXIT_STATUS)]
    Ingest(cmd::ingest::IngestArgs),
    /// Run the built-in detections and any Sigma rules over log exports; print the findings.
    #[command(after_help = EXIT_STATUS)]
    Hunt(cmd::hunt::HuntArgs),
    /// From a case's logs to the answer: verdict first, then the case folder (reports, case page, manifest).
    Investigate(cmd::investigate::InvestigateArgs),
    /// List the built-in rules, or check rule folders.
    #[command(after_help = EXIT_STATUS)]
    Rules(cmd::rules::RulesArgs),
    /// Write a realistic multi-tenant breach case with its ground truth.
    Simulate(cmd::simulate::SimulateArgs),
    /// Look for a campaign's published indicators (addresses, domains, URLs, accounts, ids, user agents, thumbprints) in every log.
    #[command(after_help = EXIT_STATUS)]
    Sweep(cmd::sweep::SweepArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Audit(a) => cmd::audit::run(a),
        Command::Blast(a) => cmd::blast::run(a),
        Command::Collect(a) => cmd::collect::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Findings(a) => cmd::findings::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Hunt(a) => cmd::hunt::run(a),
        Command::Investigate(a) => cmd::investigate::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("tenantwatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
