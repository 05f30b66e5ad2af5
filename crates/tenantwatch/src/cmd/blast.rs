//! `tenantwatch blast`: from a compromised partner, user, application or address, find every
//! tenant, mailbox and object it touched; print a table or JSON, and write notification reports.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tw_analyze::{BlastOptions, BlastResult, Seed, Status, blast, parse_findings_jsonl};
use tw_report::manifest::{Manifest, hash_inputs, hash_reports, sha256_hex, write_manifest};
use tw_report::{LetterContext, write_report_dir};

use tw_report::visible;

use super::common::{ReadArgs, input_problems_summary, print_input_problems, strict_status};

/// Arguments of `blast`.
#[derive(Args, Debug)]
pub struct BlastArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// A compromised user (UPN); repeatable.
    #[arg(long = "actor", value_name = "UPN")]
    pub actor: Vec<String>,
    /// A compromised application (app id or service principal id); repeatable.
    #[arg(long = "app", value_name = "APPID")]
    pub app: Vec<String>,
    /// An attacker address; repeatable.
    #[arg(long = "ip", value_name = "ADDR")]
    pub ip: Vec<String>,
    /// A compromised partner's tenant id: its identities' access to other tenants is tracked.
    #[arg(long = "partner-tenant", value_name = "ID")]
    pub partner_tenant: Vec<String>,
    /// Findings (`tenantwatch hunt --format jsonl`) whose actors, addresses and records are seeds.
    #[arg(long = "findings", value_name = "FILE")]
    pub findings: Vec<PathBuf>,
    /// Published indicators (plain, CSV/TSV, STIX 2.1, MISP; see `sweep`): every record holding
    /// one is a seed, as a finding named after the indicator and where it was published.
    #[arg(long = "iocs", value_name = "FILE")]
    pub iocs: Vec<PathBuf>,
    /// Findings below this level are not seeds (informational, low, medium, high, critical).
    #[arg(
        long = "findings-min-level",
        value_name = "LEVEL",
        default_value = "high"
    )]
    pub findings_min_level: String,
    /// Expansion steps from the seeds.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub depth: u32,
    /// Most pivots taken; beyond, the result says it is truncated.
    #[arg(long = "max-pivots", value_name = "N", default_value_t = 1000)]
    pub max_pivots: usize,
    /// An address with more than N identities with an honest history there (before the suspect
    /// period, or since the start of the logs) is shared infrastructure, not followed; identities
    /// that came after the attacker never count.
    #[arg(long = "max-shared", value_name = "N", default_value_t = 0)]
    pub max_shared: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BlastFormat::Table)]
    pub format: BlastFormat,
    /// Write one notification report folder per affected tenant, and manifest.json, here.
    #[arg(long = "report-dir", value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Name of the partner, as the notification letters should call it.
    #[arg(long = "sender", value_name = "NAME")]
    pub sender: Option<String>,
    /// Exit with status 2 when any record or file could not be read (they are always listed,
    /// counted in the JSON output, the manifest and the letters' "Data examined").
    #[arg(long)]
    pub strict: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Output formats of `blast`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlastFormat {
    /// A table for people.
    Table,
    /// The whole result (docs/blast.md).
    Json,
}

/// 1 informational … 5 critical; 0 unknown.
fn level_rank(l: &str) -> u8 {
    match l.trim().to_ascii_lowercase().as_str() {
        "informational" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => 0,
    }
}

/// The version of the rule set in use: a digest of the built-in pack.
pub(crate) fn rule_set_version() -> String {
    let mut all = Vec::new();
    for (name, text) in tw_detect::builtin::BUILTIN {
        all.extend_from_slice(name.as_bytes());
        all.push(0);
        all.extend_from_slice(text.as_bytes());
        all.push(0);
    }
    format!(
        "builtin-{}-sha256:{}",
        tw_detect::builtin::BUILTIN.len(),
        &sha256_hex(&all)[..16]
    )
}

/// Runs `blast`; returns the exit status.
pub fn run(a: BlastArgs) -> Result<u8> {
    let mut seeds = Vec::new();
    seeds.extend(a.actor.iter().map(|v| Seed::Actor(v.clone())));
    seeds.extend(a.app.iter().map(|v| Seed::App(v.clone())));
    seeds.extend(a.ip.iter().map(|v| Seed::Ip(v.clone())));
    seeds.extend(
        a.partner_tenant
            .iter()
            .map(|v| Seed::PartnerTenant(v.clone())),
    );
    let min = level_rank(&a.findings_min_level);
    if min == 0 {
        bail!(
            "unknown --findings-min-level {:?}: informational, low, medium, high or critical",
            a.findings_min_level
        );
    }
    for f in &a.findings {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read --findings {}", f.display()))?;
        let (mut list, bad) = parse_findings_jsonl(&text);
        let before = list.len();
        list.retain(|f| level_rank(&f.level) >= min);
        if list.len() < before {
            eprintln!(
                "tenantwatch: --findings {}: {} of {before} findings are below --findings-min-level {} and are not seeds",
                f.display(),
                before - list.len(),
                a.findings_min_level
            );
        }
        for n in bad.iter().take(10) {
            eprintln!(
                "tenantwatch: --findings {}:{n}: not a finding, skipped",
                f.display()
            );
        }
        seeds.push(Seed::Findings(list));
    }
    if !a.iocs.is_empty() {
        let ingest = a.read.options()?;
        seeds.push(Seed::Findings(super::sweep::indicator_seeds(
            &a.iocs,
            &a.read.paths,
            &ingest,
        )?));
    }
    if seeds.is_empty() {
        bail!(
            "give at least one seed: --actor, --app, --ip, --partner-tenant, --findings or --iocs"
        );
    }
    let opts = BlastOptions {
        ingest: a.read.options()?,
        depth: a.depth,
        max_pivots: a.max_pivots.max(1),
        max_shared: a.max_shared,
        ..Default::default()
    };
    let bar = crate::progress::Bar::start(a.read.progress, a.quiet, crate::progress::BLAST);
    let opts = BlastOptions {
        ingest: bar.attach(opts.ingest),
        ..opts
    };
    let result = blast(&a.read.paths, &seeds, &opts);
    drop(bar);

    let out = io::stdout().lock();
    let mut w = BufWriter::new(out);
    let written = match a.format {
        BlastFormat::Json => serde_json::to_writer_pretty(&mut w, &result)
            .map_err(io::Error::other)
            .and_then(|_| writeln!(w)),
        BlastFormat::Table => write_table(&mut w, &result),
    };
    match written.and_then(|_| w.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Err(e).context("writing the result");
        }
        _ => {}
    }
    for n in &result.notes {
        eprintln!("tenantwatch: note: {}", visible(n));
    }
    print_input_problems(&result.input_problems);

    if let Some(dir) = &a.report_dir {
        write_reports(dir, &a, &result)?;
    }
    eprintln!(
        "tenantwatch: {} records read ({}); {} pivots ({} not followed){}",
        result.records_read,
        input_problems_summary(&result.input_problems),
        result.pivots.len(),
        result.not_followed.len(),
        if result.truncated { "; TRUNCATED" } else { "" }
    );
    Ok(if result.truncated {
        2
    } else {
        strict_status(a.strict, &result.input_problems)
    })
}

/// Writes the notification reports and manifest.json under `dir`.
fn write_reports(dir: &std::path::Path, a: &BlastArgs, result: &BlastResult) -> Result<()> {
    let ctx = LetterContext {
        sender: a.sender.clone().unwrap_or_default(),
        tool: format!("tenantwatch {}", env!("CARGO_PKG_VERSION")),
        max_rows_shown: 500,
        input_problems: Default::default(),
    };
    let files = write_report_dir(dir, result, &ctx)
        .with_context(|| format!("writing reports to {}", dir.display()))?;
    let (inputs, errors) = hash_inputs(&a.read.paths);
    for e in &errors {
        eprintln!("tenantwatch: cannot hash input {}", visible(e));
    }
    let reports = hash_reports(dir, &files).context("hashing the reports")?;
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.is_empty() {
        arguments.push("blast".into());
    }
    let m = Manifest {
        schema: "tenantwatch-blast-manifest/1",
        tool: "tenantwatch".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        rule_set_version: rule_set_version(),
        arguments,
        inputs,
        reports,
        input_problems: result.input_problems.clone(),
    };
    write_manifest(dir, &m).context("writing manifest.json")?;
    let affected = result
        .tenants
        .iter()
        .filter(|t| t.status == Status::Affected)
        .count();
    eprintln!(
        "tenantwatch: {affected} notification reports and manifest.json written to {}",
        dir.display()
    );
    Ok(())
}

/// A table cell: control characters written as visible escapes, cut to `width` characters.
fn cell(s: &str, width: usize) -> String {
    let s = visible(s).into_owned();
    if s.chars().count() > width {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        s
    }
}

fn write_table<W: Write>(w: &mut W, r: &BlastResult) -> io::Result<()> {
    writeln!(
        w,
        "{:<38} {:<20} {:<18} {:<24} {:<24} {:>5} {:>6}  techniques / coverage",
        "tenant", "name", "status", "first", "last", "mbx", "recs"
    )?;
    for t in &r.tenants {
        let tail = match t.status {
            Status::Affected => t.techniques.join(","),
            _ => format!(
                "logs cover {} .. {}",
                t.coverage
                    .first
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "-".into()),
                t.coverage
                    .last
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
        };
        writeln!(
            w,
            "{:<38} {:<20} {:<18} {:<24} {:<24} {:>5} {:>6}  {}",
            cell(&t.tenant_id, 38),
            cell(&t.name, 20),
            t.status.as_str(),
            t.first.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
            t.last.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
            t.mailboxes_read.len() + t.mailbox_ids_read.len(),
            t.evidence_records,
            cell(&tail, 120)
        )?;
    }
    writeln!(w, "\npivots:")?;
    for p in &r.pivots {
        writeln!(
            w,
            "  [{}] {} {} — {}",
            p.depth,
            p.kind,
            cell(&p.indicator, 80),
            cell(&p.reason, 200)
        )?;
    }
    if !r.not_followed.is_empty() {
        writeln!(w, "not followed:")?;
        for p in &r.not_followed {
            writeln!(
                w,
                "  [{}] {} {} — {}",
                p.depth,
                p.kind,
                cell(&p.indicator, 80),
                cell(&p.reason, 200)
            )?;
        }
    }
    Ok(())
}
