//! `tenantwatch investigate`: from a case's logs to the answer. Runs the hunt, derives the seeds
//! from its high findings (or takes the ones given), runs the blast radius, prints the verdict
//! first and writes the case folder (verdict, findings, timeline, reports, case page, manifest).

mod case_dir;
mod text;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tw_analyze::verdict::{Verdict, VerdictInput, derive, level_rank};
use tw_analyze::{
    BlastOptions, BlastResult, Fact, Gathered, Seed, Status, blast_gathered, parse_findings_jsonl,
};
use tw_detect::{HuntOptions, HuntResult, Hunter, Observer};
use tw_report::case_page::{CaseContext, write_case_page};
use tw_report::{LetterContext, write_report_dir};

use super::common::ReadArgs;
use super::rules_io::load_hunter;

/// Arguments of `investigate`.
#[derive(Args, Debug)]
pub struct InvestigateArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// The case folder to write (must be empty or absent unless --force).
    #[arg(long, value_name = "DIR", default_value = "tenantwatch-case")]
    pub out: PathBuf,
    /// Sigma rules to run besides the built-in pack (files or folders, repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Run only the rules given with --rules.
    #[arg(long = "no-builtin")]
    pub no_builtin: bool,
    /// YAML/JSON file with values of `expand` placeholders (`placeholders: {name: [values]}`).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A compromised user (UPN); repeatable. Given seeds replace the ones derived from findings.
    #[arg(long = "actor", value_name = "UPN")]
    pub actor: Vec<String>,
    /// A compromised application (app id or service principal id); repeatable.
    #[arg(long = "app", value_name = "ID")]
    pub app: Vec<String>,
    /// An attacker address; repeatable.
    #[arg(long = "ip", value_name = "ADDR")]
    pub ip: Vec<String>,
    /// A compromised partner's tenant id: its identities' access to other tenants is tracked.
    #[arg(long = "partner-tenant", value_name = "ID")]
    pub partner_tenant: Vec<String>,
    /// Published indicators (plain, CSV/TSV, STIX 2.1, MISP; see `sweep`): every record holding
    /// one seeds the blast radius besides the other seeds; repeatable.
    #[arg(long = "iocs", value_name = "FILE")]
    pub iocs: Vec<PathBuf>,
    /// What standard output carries: the verdict as text, or verdict.json.
    #[arg(long, value_enum, default_value_t = VerdictFormat::Text)]
    pub format: VerdictFormat,
    /// No status lines on standard error (errors and rejected records are still reported).
    #[arg(long)]
    pub quiet: bool,
    /// Exit with status 2 when any record was rejected or any file not fully read.
    #[arg(long)]
    pub strict: bool,
    /// Write into a non-empty case folder, replacing a previous run's outputs.
    #[arg(long)]
    pub force: bool,
    /// Name of the partner, as the notification letters should call it.
    #[arg(long = "sender", value_name = "NAME")]
    pub sender: Option<String>,
}

/// What `investigate` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictFormat {
    /// The verdict for people, at most 60 lines.
    Text,
    /// `verdict.json`.
    Json,
}

/// Runs `investigate`; returns the exit status.
pub fn run(a: InvestigateArgs) -> Result<u8> {
    let ingest = a.read.options()?;
    let gap_ms = ingest.gap_threshold_ms;
    case_dir::outside_inputs(&a.out, &a.read.paths)?;
    case_dir::prepare(&a.out, a.force)?;
    let (hunter, rules_rejected) = hunter(&a)?;
    // The manifest's hashes of the inputs are taken while the logs are read and analysed.
    let hashing = std::thread::spawn({
        let paths = a.read.paths.clone();
        move || case_dir::hash_inputs(&paths)
    });
    let opts = HuntOptions {
        ingest: ingest.clone(),
        min_level: None,
        placeholders: Default::default(),
        max_correlation_observations: 2_000_000,
        decode_all: false,
        learning_period_ms: None,
    };
    let bar = crate::progress::Bar::start(a.read.progress, a.quiet, crate::progress::INVESTIGATE);
    let opts = HuntOptions {
        ingest: bar.attach(opts.ingest),
        ..opts
    };
    let started = Instant::now();
    // One read for the hunt and the blast radius's fact pass (its facts do not depend on the
    // seeds, which come from the findings).
    let mut gathered = Gathered::default();
    let hunted = hunter.hunt_observed(&a.read.paths, &opts, &BlastFacts, |f| gathered.add(f));
    let hunt_secs = started.elapsed().as_secs_f64();
    let mut findings_text = Vec::new();
    tw_report::write_jsonl(&mut findings_text, &hunted.findings).context("writing findings")?;
    write_file(&a.out.join("findings.jsonl"), &findings_text)?;
    let (mut seeds, derived) = seeds(&a, &findings_text);
    if !a.iocs.is_empty() {
        let found = super::sweep::indicator_seeds(&a.iocs, &a.read.paths, &ingest)?;
        seeds.push(Seed::Findings(found));
    }
    let bopts = BlastOptions {
        ingest: bar.attach(ingest),
        ..Default::default()
    };
    let mut radius = blast_gathered(&a.read.paths, &seeds, &bopts, gathered, &hunted.ingest);
    drop(bar);
    if derived && matches!(seeds.as_slice(), [Seed::Findings(l)] if l.is_empty()) {
        // No high finding: the blast radius ran only to list the tenants and their coverage.
        radius
            .notes
            .retain(|n| n != "the findings file holds no finding");
        radius.notes.push(
            "no finding at high or above: nothing to seed the blast radius from; give seeds (--actor, --app, --ip, --partner-tenant) if the breach is known".into(),
        );
    }
    let blast_secs = started.elapsed().as_secs_f64() - hunt_secs;
    let mut verdict = derive(&VerdictInput {
        findings: &hunted.findings,
        blast: &radius,
        coverage: &hunted.ingest.coverage,
        files: &hunted.ingest.files,
        seeds_derived: derived,
        min_gap_ms: gap_ms,
    });
    incomplete_collections(&hunted.ingest, &mut verdict);
    let mut written = vec![a.out.join("findings.jsonl")];
    written.extend(write_outputs(&a, &hunted, &radius, &mut verdict)?);
    let hashed = hashing
        .join()
        .map_err(|_| anyhow::anyhow!("hashing the inputs failed"))?;
    let manifest =
        case_dir::write_manifest(&a.out, &written, hashed, super::blast::rule_set_version())?;
    print_verdict(&a, &verdict)?;
    let times = [hunt_secs, blast_secs, started.elapsed().as_secs_f64()];
    report(&a, &hunted, &radius, manifest.files.len(), times);
    let rejected = hunted.ingest.totals.rejected > 0 || !verdict.files_not_fully_read.is_empty();
    let status = rules_rejected || radius.truncated || (a.strict && rejected);
    // The process ends right after: the hunt's findings need not be freed one by one.
    std::mem::forget(hunted);
    Ok(if status { 2 } else { 0 })
}

/// Tenants whose `collect` run did not get everything (or whose folder no longer holds what it
/// got) are listed with the files not fully read, and the first action says to resume them.
fn incomplete_collections(r: &tw_ingest::IngestReport, v: &mut tw_analyze::verdict::Verdict) {
    for c in super::ingest::collections(r) {
        if c.complete && c.collected == c.read {
            continue;
        }
        let why = if c.complete {
            format!(
                "collected {} records, the folder holds {}",
                c.collected, c.read
            )
        } else {
            format!(
                "collection incomplete ({} records collected; errors in collection.json): run tenantwatch collect --resume",
                c.collected
            )
        };
        v.files_not_fully_read
            .push(tw_analyze::verdict::UnreadFile {
                path: format!("{}/collection.json", c.folder),
                status: "incomplete collection".into(),
                rejected: 0,
                reason: Some(why),
            });
        v.actions.insert(
            0,
            format!(
                "Tenant {}'s logs were not all collected: finish the collection (tenantwatch collect --resume) and investigate again",
                c.tenant
            ),
        );
    }
}

/// The blast radius's fact pass, run on the hunt's read.
struct BlastFacts;

impl Observer for BlastFacts {
    type Kept = Fact;
    fn fields(&self) -> &[&str] {
        tw_analyze::facts::FIELDS
    }
    fn observe(&self, ev: &tw_event::Event, out: &mut Vec<Fact>) {
        out.push(tw_analyze::observe(ev));
    }
}

/// The hunter over the built-in pack and the given rules; true when a rule was rejected.
fn hunter(a: &InvestigateArgs) -> Result<(Hunter, bool)> {
    let (hunter, rejected) = load_hunter(a.no_builtin, &a.rules, a.config.as_ref())?;
    Ok((hunter, rejected > 0))
}

/// The seeds given on the command line, or else the high and critical findings, read back from
/// their JSON lines exactly as `blast --findings` reads them; true when derived.
fn seeds(a: &InvestigateArgs, findings_jsonl: &[u8]) -> (Vec<Seed>, bool) {
    let mut given = Vec::new();
    given.extend(a.actor.iter().map(|v| Seed::Actor(v.clone())));
    given.extend(a.app.iter().map(|v| Seed::App(v.clone())));
    given.extend(a.ip.iter().map(|v| Seed::Ip(v.clone())));
    given.extend(
        a.partner_tenant
            .iter()
            .map(|v| Seed::PartnerTenant(v.clone())),
    );
    if !given.is_empty() {
        return (given, false);
    }
    let (mut list, bad) = parse_findings_jsonl(&String::from_utf8_lossy(findings_jsonl));
    for n in bad.iter().take(10) {
        eprintln!("tenantwatch: findings.jsonl:{n}: not a finding, not a seed");
    }
    list.retain(|f| level_rank(&f.level) >= 4);
    (vec![Seed::Findings(list)], true)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn write_with(path: &Path, f: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(file);
    f(&mut w)
        .and_then(|_| w.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Every output but findings.jsonl and the manifest; fills the reports' paths into the verdict.
/// Returns the files written.
fn write_outputs(
    a: &InvestigateArgs,
    hunted: &HuntResult,
    radius: &BlastResult,
    verdict: &mut Verdict,
) -> Result<Vec<PathBuf>> {
    let dir = &a.out;
    write_with(&dir.join("timeline.csv"), |w| {
        tw_report::write_csv(w, &hunted.findings)
    })?;
    write_with(&dir.join("timesketch.jsonl"), |w| {
        tw_report::write_timesketch(w, &hunted.findings)
    })?;
    write_with(&dir.join("blast.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, radius).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })?;
    let ctx = LetterContext {
        sender: a.sender.clone().unwrap_or_default(),
        tool: format!("tenantwatch {}", env!("CARGO_PKG_VERSION")),
        max_rows_shown: 500,
        input_problems: Default::default(),
    };
    let reports = dir.join("reports");
    let written = write_report_dir(&reports, radius, &ctx)
        .with_context(|| format!("writing reports to {}", reports.display()))?;
    link_reports(dir, &written, radius, verdict);
    write_with(&dir.join("verdict.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &*verdict).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })?;
    let page = CaseContext {
        tool: ctx.tool.clone(),
        case_dir: dir.display().to_string(),
        files: case_dir::OUTPUTS.iter().map(|s| s.to_string()).collect(),
    };
    write_with(&dir.join("index.html"), |w| {
        write_case_page(w, verdict, radius, &page)
    })?;
    let mut files: Vec<PathBuf> = ["timeline.csv", "timesketch.jsonl", "blast.json"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    files.extend(written);
    files.extend([dir.join("verdict.json"), dir.join("index.html")]);
    Ok(files)
}

/// Sets each affected tenant's report path (relative to the case folder) from the files the
/// report writer wrote: the notification page in the tenant's folder.
fn link_reports(dir: &Path, written: &[PathBuf], radius: &BlastResult, verdict: &mut Verdict) {
    let pages: Vec<&PathBuf> = written
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "notification.html"))
        .collect();
    for t in &mut verdict.affected_tenants {
        let Some(row) = radius.tenants.iter().find(|r| r.tenant_id == t.tenant_id) else {
            continue;
        };
        let folder = tw_report::letter::tenant_folder(row);
        let page = pages.iter().find(|p| {
            p.parent()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .is_some_and(|n| {
                    n == folder || n.strip_prefix(&folder).is_some_and(|r| r.starts_with('_'))
                })
        });
        t.report = page.and_then(|p| {
            let rel = p.strip_prefix(dir).ok()?;
            Some(rel.display().to_string().replace('\\', "/"))
        });
    }
}

fn print_verdict(a: &InvestigateArgs, v: &Verdict) -> Result<()> {
    let mut w = BufWriter::new(io::stdout().lock());
    let written = match a.format {
        VerdictFormat::Json => serde_json::to_writer_pretty(&mut w, v)
            .map_err(io::Error::other)
            .and_then(|_| writeln!(w)),
        VerdictFormat::Text => text::verdict_lines(v, &a.out.display().to_string())
            .iter()
            .try_for_each(|l| writeln!(w, "{l}")),
    };
    match written.and_then(|_| w.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("writing the verdict"),
        _ => Ok(()),
    }
}

/// Status lines on standard error: what was read and rejected, what was written.
/// `times`: seconds of the hunt, of the blast radius, and in all.
fn report(
    a: &InvestigateArgs,
    hunted: &HuntResult,
    radius: &BlastResult,
    files: usize,
    times: [f64; 3],
) {
    let r = &hunted.ingest;
    for e in r.errors.iter().take(20) {
        eprintln!(
            "tenantwatch: rejected {}:{}: {}",
            tw_report::table::clean(&e.path, 300),
            e.line,
            tw_report::table::clean(&e.reason, 300)
        );
    }
    if a.quiet {
        return;
    }
    for n in &radius.notes {
        eprintln!("tenantwatch: note: {}", tw_report::table::clean(n, 300));
    }
    let affected = radius
        .tenants
        .iter()
        .filter(|t| t.status == Status::Affected)
        .count();
    eprintln!(
        "tenantwatch: {} records read ({} rejected) from {} files; {} findings; {} pivots; {affected} tenants affected; {files} files and manifest.json written to {}",
        r.totals.read,
        r.totals.rejected,
        r.totals.files,
        hunted.findings.len(),
        radius.pivots.len(),
        a.out.display()
    );
    eprintln!(
        "tenantwatch: {:.2} s: hunt and facts {:.2} s, blast radius {:.2} s (the evidence records read again), writing {:.2} s",
        times[2],
        times[0],
        times[1],
        times[2] - times[0] - times[1]
    );
}
