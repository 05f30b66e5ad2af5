//! `tenantwatch ingest`: what was read — formats, counts, coverage and gaps, errors — and the
//! normalized events for other tools.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tw_event::escape_text as esc;
use tw_ingest::{IngestOptions, IngestReport, ingest};

use super::common::ReadArgs;

/// Arguments of `ingest`.
#[derive(Args, Debug)]
pub struct IngestArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Print what was read (the default when nothing else is asked).
    #[arg(long)]
    pub stats: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write the normalized events (canonical fields, provenance, raw record).
    #[arg(long, value_enum)]
    pub emit: Option<EmitFormat>,
    /// Where to write emitted events (default: standard output; the report then goes to standard error).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit with status 2 when any record or file was rejected.
    #[arg(long)]
    pub strict: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Report formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// For people.
    Table,
    /// One JSON document.
    Json,
}

/// Event output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitFormat {
    /// One event per line.
    Jsonl,
}

/// Runs `ingest`; returns the exit status.
pub fn run(a: IngestArgs) -> Result<u8> {
    // Events streamed to the terminal would be drawn over.
    let on_screen =
        a.emit.is_some() && a.out.is_none() && io::IsTerminal::is_terminal(&io::stdout());
    let bar = crate::progress::Bar::start(a.read.progress, a.quiet || on_screen, &["ingest"]);
    let opts = bar.attach(a.read.options()?);
    let report = if a.emit.is_some() {
        let sink: Box<dyn Write> = match &a.out {
            Some(p) => {
                Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
            }
            None => Box::new(io::stdout().lock()),
        };
        let mut w = BufWriter::with_capacity(1 << 20, sink);
        let mut failed: Option<io::Error> = None;
        let report = ingest(
            &a.read.paths,
            &opts,
            |ev, out: &mut Vec<Vec<u8>>| {
                if let Ok(mut line) = serde_json::to_vec(ev) {
                    line.push(b'\n');
                    out.push(line);
                }
            },
            |line| {
                if failed.is_none()
                    && let Err(e) = w.write_all(&line)
                {
                    failed = Some(e);
                }
            },
        );
        if let Some(e) = failed
            && e.kind() != io::ErrorKind::BrokenPipe
        {
            return Err(e).context("writing events");
        }
        w.flush().ok();
        report
    } else {
        // Only the report is wanted: events need no documents.
        let opts = IngestOptions {
            documents: false,
            ..opts
        };
        ingest(&a.read.paths, &opts, |_, _: &mut Vec<()>| {}, |_| {})
    };
    drop(bar);
    let show = a.stats || a.emit.is_none();
    if show {
        let collected = collections(&report);
        let text = match a.format {
            ReportFormat::Json => {
                let mut v = serde_json::to_value(&report)?;
                if !collected.is_empty()
                    && let Some(o) = v.as_object_mut()
                {
                    o.insert("collections".into(), serde_json::to_value(&collected)?);
                }
                serde_json::to_string_pretty(&v)? + "\n"
            }
            ReportFormat::Table => render_table(&report) + &render_collections(&collected),
        };
        if a.emit.is_some() && a.out.is_none() {
            eprint!("{text}");
        } else {
            let mut out = io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
        }
    }
    // Skipped inputs (special files, second links) held nothing to lose.
    let problems = report.totals.rejected > 0
        || report
            .files
            .iter()
            .any(|f| f.status != "ok" && f.status != "skipped");
    Ok(if a.strict && problems { 2 } else { 0 })
}

fn opt_time(t: Option<tw_event::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "-".into())
}

/// The report as text for a person.
pub fn render_table(r: &IngestReport) -> String {
    let mut s = String::new();
    table_files(&mut s, r);
    table_totals(&mut s, r);
    table_coverage(&mut s, r);
    table_attribution(&mut s, r);
    table_errors(&mut s, r);
    s
}

/// Each file: status, format, records, rejected, path, note and per-format counts.
fn table_files(s: &mut String, r: &IngestReport) {
    use std::fmt::Write as _;
    let _ = writeln!(s, "FILES ({})", r.files.len());
    let _ = writeln!(
        s,
        "  {:<13} {:<36} {:>9} {:>8}  PATH",
        "STATUS", "FORMAT", "RECORDS", "REJECTED"
    );
    for f in &r.files {
        let fmt = if f.format.is_empty() {
            "-"
        } else {
            f.format.as_str()
        };
        let _ = writeln!(
            s,
            "  {:<13} {:<36} {:>9} {:>8}  {}",
            f.status,
            fmt,
            f.records,
            f.rejected,
            esc(&f.path)
        );
        if let Some(n) = &f.note {
            let _ = writeln!(s, "  {:<13} note: {}", "", esc(n));
        }
        for (fm, n) in &f.formats {
            let _ = writeln!(s, "  {:<13}   {fm}: {n}", "");
        }
    }
}

/// Totals by log kind and tenant, tenant names and warnings.
fn table_totals(s: &mut String, r: &IngestReport) {
    use std::fmt::Write as _;
    let t = &r.totals;
    let _ = writeln!(
        s,
        "\nTOTALS  {} records in = {} read + {} rejected; {} files, {} unrecognised",
        t.records, t.read, t.rejected, t.files, t.unrecognised_files
    );
    for (k, n) in &t.by_log_kind {
        let _ = writeln!(s, "  log kind {:<20} {n}", k.as_str());
    }
    for (k, n) in &t.by_tenant {
        let _ = writeln!(s, "  tenant   {:<38} {n}", esc(k));
    }
    if !r.tenant_names.is_empty() {
        let _ = writeln!(s, "\nTENANTS");
        for n in &r.tenant_names {
            let _ = writeln!(
                s,
                "  {:<38} {} ({}: {})",
                esc(&n.tenant_id),
                esc(&n.name),
                n.name_source,
                esc(&n.evidence)
            );
        }
    }
    for w in &r.warnings {
        let _ = writeln!(s, "WARNING: {}", esc(w));
    }
}

/// Coverage per tenant and log kind, with gaps.
fn table_coverage(s: &mut String, r: &IngestReport) {
    use std::fmt::Write as _;
    let _ = writeln!(
        s,
        "\nCOVERAGE (gaps longer than {} h)",
        r.gap_threshold_hours
    );
    let _ = writeln!(
        s,
        "  {:<38} {:<16} {:>8}  {:<24} {:<24} GAPS",
        "TENANT", "LOG", "RECORDS", "FIRST", "LAST"
    );
    for c in &r.coverage {
        let gaps = if c.gaps.is_empty() {
            "none".to_string()
        } else {
            c.gaps
                .iter()
                .map(|g| format!("{} → {} ({} h)", g.from, g.to, g.hours))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            s,
            "  {:<38} {:<16} {:>8}  {:<24} {:<24} {}",
            esc(&c.tenant_id),
            c.log_kind.as_str(),
            c.records,
            opt_time(c.first),
            opt_time(c.last),
            gaps
        );
    }
}

/// How records without a tenant id were attributed.
fn table_attribution(s: &mut String, r: &IngestReport) {
    use std::fmt::Write as _;
    if !r.attribution.is_empty() {
        let _ = writeln!(s, "\nTENANT ATTRIBUTION (records without a tenant id)");
        for a in &r.attribution {
            let _ = writeln!(
                s,
                "  {} → {} ({}: {})",
                esc(&a.folder),
                esc(a.tenant_id.as_deref().unwrap_or("unknown")),
                a.method,
                esc(&a.reason)
            );
        }
    }
}

/// Errors listed with file, line and record.
fn table_errors(s: &mut String, r: &IngestReport) {
    use std::fmt::Write as _;
    if !r.errors.is_empty() {
        let _ = writeln!(
            s,
            "\nERRORS ({} listed, {} more not listed)",
            r.errors.len(),
            r.errors_not_listed
        );
        for e in &r.errors {
            match e.record {
                Some(i) => {
                    let (p, r) = (esc(&e.path), esc(&e.reason));
                    let _ = writeln!(s, "  {p}:{} (record {i}): {r}", e.line);
                }
                None => {
                    let _ = writeln!(s, "  {}: {}", esc(&e.path), esc(&e.reason));
                }
            }
        }
    }
}

/// A tenant folder written by `collect`, with what its `collection.json` says was collected and
/// what this read found in the folder.
#[derive(Debug, serde::Serialize)]
pub struct Collected {
    /// Tenant id.
    pub tenant: String,
    /// The tenant folder.
    pub folder: String,
    /// Every source and window collected completely.
    pub complete: bool,
    /// Log records the collection received (configuration left out).
    pub collected: u64,
    /// Records read from the folder's files.
    pub read: u64,
}

/// The collections among the inputs (`collection.json` files listed as skipped).
pub fn collections(r: &IngestReport) -> Vec<Collected> {
    let mut out = Vec::new();
    for f in r.files.iter().filter(|f| {
        f.status == "skipped"
            && f.note
                .as_deref()
                .is_some_and(|n| n.contains("collection.json"))
    }) {
        let path = std::path::Path::new(&f.path);
        let (Ok(c), Some(folder)) = (tw_collect::Collection::read(path), path.parent()) else {
            continue;
        };
        let read = r
            .files
            .iter()
            .filter(|g| std::path::Path::new(&g.path).starts_with(folder))
            .map(|g| g.read)
            .sum();
        out.push(Collected {
            tenant: c.tenant.clone(),
            folder: folder.display().to_string(),
            complete: c.complete,
            collected: c.log_records(),
            read,
        });
    }
    out
}

fn render_collections(c: &[Collected]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    if c.is_empty() {
        return s;
    }
    let _ = writeln!(s, "\nCOLLECTIONS (collection.json of tenantwatch collect)");
    for x in c {
        let state = match (x.complete, x.collected == x.read) {
            (true, true) => "complete",
            (false, _) => "INCOMPLETE collection (see collection.json)",
            (true, false) => "MISMATCH: the folder does not hold what was collected",
        };
        let _ = writeln!(
            s,
            "  {:<38} collected {}, read {}  {state}  {}",
            esc(&x.tenant),
            x.collected,
            x.read,
            esc(&x.folder)
        );
    }
    s
}
