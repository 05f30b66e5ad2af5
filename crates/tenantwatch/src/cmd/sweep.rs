//! `tenantwatch sweep`: published indicators of compromise (addresses and ranges, domains, URLs,
//! e-mail addresses, accounts, ids, user agents, certificate thumbprints) looked for in every
//! record of every log; each record holding one is a finding of origin `ioc`. The indicator files
//! are read by `tw_ioc`; records whose bytes hold no indicator are not decoded.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tw_analyze::{FindingSeed, InputProblems};
use tw_event::{Event, Finding, Origin, RuleRef, Timestamp};
use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest_prefiltered};
use tw_ioc::{Hit, IocIndex, IocType, Loaded, MatchOptions, Scratch};
use tw_report::visible;

use super::common::{ReadArgs, print_input_problems, strict_status};

/// Arguments of `sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// An indicator file: plain list, CSV/TSV with a header, STIX 2.1 bundle or MISP JSON event
    /// (recognised from the content); repeatable.
    #[arg(long = "iocs", value_name = "FILE", required = true)]
    pub iocs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SweepFormat::Table)]
    pub format: SweepFormat,
    /// Write the matches to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only indicators valid at this time (STIX `valid_from` / `valid_until`, CSV `valid_from` /
    /// `valid_until` columns); indicators that give no validity are always kept.
    #[arg(long = "valid-at", value_name = "TIME")]
    pub valid_at: Option<String>,
    /// A domain indicator matches that host name only, not its subdomains.
    #[arg(long = "exact-domains")]
    pub exact_domains: bool,
    /// Exit with status 2 when an indicator entry was skipped (malformed or unsupported), a
    /// record rejected or a file not fully read (all are listed either way).
    #[arg(long)]
    pub strict: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Output formats of `sweep`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepFormat {
    /// Grouped per tenant, for people.
    Table,
    /// One finding per line (docs/findings.md).
    Jsonl,
    /// The findings as CSV (cells neutralised against formula injection).
    Csv,
}

/// Indicators read from files, filtered, with what was left out.
pub struct Indicators {
    /// What the files gave.
    pub loaded: Loaded,
    /// Entries left out as not valid at `--valid-at`, per type.
    pub not_valid: BTreeMap<IocType, u64>,
    /// Entries repeating an earlier one's type and value, per type.
    pub duplicates: BTreeMap<IocType, u64>,
}

/// Reads the indicator files (an unreadable one is an error), keeps those valid at `valid_at`,
/// and merges entries of the same type and value (the first kept).
pub fn load_indicators(files: &[PathBuf], valid_at: Option<&str>) -> Result<Indicators> {
    let at = match valid_at {
        Some(t) => Some(
            Timestamp::parse(t)
                .with_context(|| format!("bad --valid-at {t:?} (e.g. 2024-11-20T00:00:00Z)"))?,
        ),
        None => None,
    };
    let mut loaded = Loaded::default();
    for f in files {
        loaded.merge(tw_ioc::load_file(f).map_err(anyhow::Error::msg)?);
    }
    let mut not_valid = BTreeMap::new();
    let mut duplicates = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    loaded.indicators.retain(|i| {
        let valid = at.is_none_or(|t| {
            i.valid_from.is_none_or(|f| f <= t) && i.valid_until.is_none_or(|u| t < u)
        });
        if !valid {
            *not_valid.entry(i.kind).or_default() += 1;
            return false;
        }
        if !seen.insert((i.kind, i.value.clone())) {
            *duplicates.entry(i.kind).or_default() += 1;
            return false;
        }
        true
    });
    Ok(Indicators {
        loaded,
        not_valid,
        duplicates,
    })
}

/// Lists every skipped entry and the totals per type on standard error.
pub fn print_indicators(ind: &Indicators, valid_at: Option<&str>) {
    for s in &ind.loaded.skipped {
        eprintln!(
            "tenantwatch: skipped indicator {}:{}: [{}] {:?}: {}",
            visible(&s.file),
            s.line,
            visible(&s.type_name),
            visible(&s.value),
            visible(&s.reason)
        );
    }
    let loaded = ind.loaded.loaded_per_type();
    let mut parts: Vec<String> = Vec::new();
    for t in IocType::ALL {
        let n = loaded.get(&t).copied().unwrap_or(0);
        let nv = ind.not_valid.get(&t).copied().unwrap_or(0);
        let d = ind.duplicates.get(&t).copied().unwrap_or(0);
        if n + nv + d == 0 {
            continue;
        }
        let mut p = format!("{} {n}", t.as_str());
        if nv > 0 {
            p.push_str(&format!(
                " (+{nv} not valid at {})",
                visible(valid_at.unwrap_or("-"))
            ));
        }
        if d > 0 {
            p.push_str(&format!(" (+{d} duplicates)"));
        }
        parts.push(p);
    }
    let skipped: Vec<String> = ind
        .loaded
        .skipped_per_type()
        .iter()
        .map(|(t, n)| format!("{} {n}", visible(t)))
        .collect();
    eprintln!(
        "tenantwatch: indicators loaded: {} ({} in all); skipped: {} ({} in all)",
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        },
        ind.loaded.indicators.len(),
        if skipped.is_empty() {
            "none".into()
        } else {
            skipped.join(", ")
        },
        ind.loaded.skipped.len()
    );
    for (k, n) in &ind.loaded.not_indicators {
        eprintln!(
            "tenantwatch: {n} {} objects are no indicators (not loaded)",
            visible(k)
        );
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Longest field value kept in a finding's `matched`.
const VALUE_SHOWN: usize = 500;

/// The finding for one indicator in one record.
fn finding(idx: &IocIndex, hit: &Hit, ev: &Event) -> Finding {
    let ind = &idx.indicators()[hit.ioc as usize];
    let mut matched = BTreeMap::new();
    matched.insert(
        hit.field.clone(),
        hit.value.chars().take(VALUE_SHOWN).collect(),
    );
    if let Some(d) = &ind.description {
        matched.insert("ioc.description".to_string(), d.clone());
    }
    matched.insert(
        "ioc.source".to_string(),
        format!("{}:{}", ind.file, ind.line),
    );
    let rule = RuleRef {
        id: format!("ioc:{}:{}", ind.kind.as_str(), ind.value),
        title: format!("Indicator match: {}", ind.label()),
        level: "high".into(),
        tags: Vec::new(),
        origin: Origin::Ioc,
    };
    Finding::from_event(rule, ev, matched)
}

/// Sweeps the logs under `paths`: the findings (sorted) and the reader's report.
pub fn sweep(
    paths: &[PathBuf],
    idx: &IocIndex,
    ingest: &IngestOptions,
) -> (Vec<Finding>, IngestReport) {
    let mut findings = Vec::new();
    let pre = |raw: RawRecord<'_>| -> Option<()> {
        SCRATCH
            .with(|s| idx.raw_candidate(raw.bytes, raw.spells_keys, &mut s.borrow_mut()))
            .then_some(())
    };
    let map = |ev: &Event, (): (), out: &mut Vec<Finding>| {
        for hit in idx.match_document(ev.doc()) {
            out.push(finding(idx, &hit, ev));
        }
    };
    let report = ingest_prefiltered(paths, ingest, pre, map, |f| findings.push(f));
    findings.sort_by(|a, b| a.cmp_by_key(b));
    (findings, report)
}

/// Sweeps for the indicators of `files` and turns each match into a blast seed whose reason
/// names the indicator and where it was published (`--iocs` of `blast` and `investigate`).
pub fn indicator_seeds(
    files: &[PathBuf],
    paths: &[PathBuf],
    ingest: &IngestOptions,
) -> Result<Vec<FindingSeed>> {
    let ind = load_indicators(files, None)?;
    print_indicators(&ind, None);
    let idx = IocIndex::build(ind.loaded.indicators, MatchOptions::default());
    let (findings, _) = sweep(paths, &idx, ingest);
    let seeds = findings
        .iter()
        .map(|f| {
            let source = f.matched.get("ioc.source").cloned().unwrap_or_default();
            let label = f.rule.title.trim_start_matches("Indicator match: ");
            FindingSeed {
                title: format!("seed: indicator {label} from {source}"),
                level: f.rule.level.clone(),
                tags: Vec::new(),
                user: f.actor.user.clone(),
                app_id: f.actor.app_id.clone(),
                ip: f.ip.clone(),
                evidence: f
                    .evidence
                    .iter()
                    .map(|e| (e.file.to_string(), e.record))
                    .collect(),
            }
        })
        .collect::<Vec<_>>();
    eprintln!(
        "tenantwatch: --iocs: {} records hold an indicator; they seed the blast radius",
        seeds.len()
    );
    Ok(seeds)
}

/// Runs `sweep`; returns the exit status.
pub fn run(a: SweepArgs) -> Result<u8> {
    let ingest = a.read.options()?;
    let ind = load_indicators(&a.iocs, a.valid_at.as_deref())?;
    print_indicators(&ind, a.valid_at.as_deref());
    let skipped = ind.loaded.skipped.len();
    if ind.loaded.indicators.is_empty() {
        bail!("no indicator loaded from the --iocs files: nothing to look for");
    }
    let idx = IocIndex::build(
        ind.loaded.indicators,
        MatchOptions {
            exact_domains: a.exact_domains,
        },
    );
    eprintln!(
        "tenantwatch: indicator index: {:.1} MiB for {} indicators",
        idx.heap_bytes() as f64 / (1 << 20) as f64,
        idx.indicators().len()
    );
    let bar = crate::progress::Bar::start(a.read.progress, a.quiet, &["sweep"]);
    let ingest = bar.attach(ingest);
    let (findings, report) = sweep(&a.read.paths, &idx, &ingest);
    drop(bar);
    write_output(&a, &findings, &report)?;
    let problems = InputProblems::of(&report);
    print_input_problems(&problems);
    print_summary(&findings, &report, &problems);
    std::mem::forget(findings);
    Ok(if a.strict && skipped > 0 {
        2
    } else {
        strict_status(a.strict, &problems)
    })
}

fn write_output(a: &SweepArgs, findings: &[Finding], report: &IngestReport) -> Result<()> {
    let sink: Box<dyn Write> = match &a.out {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut w = BufWriter::new(sink);
    let written = match a.format {
        SweepFormat::Table => write_table(&mut w, findings, report),
        SweepFormat::Jsonl => tw_report::write_jsonl(&mut w, findings),
        SweepFormat::Csv => tw_report::write_csv(&mut w, findings),
    };
    match written.and_then(|_| w.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("writing the matches"),
        _ => Ok(()),
    }
}

fn print_summary(findings: &[Finding], report: &IngestReport, problems: &InputProblems) {
    let t = &report.totals;
    let indicators: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.rule.id.as_str()).collect();
    let tenants: std::collections::BTreeSet<Option<&str>> =
        findings.iter().map(|f| f.tenant_id.as_deref()).collect();
    eprintln!(
        "tenantwatch: {} records read ({} rejected, {} not decoded: no indicator in their bytes) from {} files ({} not fully read); {} matches of {} indicators in {} tenants",
        t.read,
        t.rejected,
        t.prefiltered,
        t.files,
        problems.files_not_read.len(),
        findings.len(),
        indicators.len(),
        tenants.len()
    );
}

/// A table cell: escaped, cut to `width` characters.
fn cell(s: &str, width: usize) -> String {
    let s = visible(s);
    if s.chars().count() > width {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        s.into_owned()
    }
}

/// The field a finding matched in, and its value (not the indicator's description or source).
fn matched_field(f: &Finding) -> (String, String) {
    f.matched
        .iter()
        .find(|(k, _)| !k.starts_with("ioc."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default()
}

/// Matches grouped per tenant (tenants in id order, matches in time order), then per indicator.
fn write_table<W: Write>(w: &mut W, findings: &[Finding], report: &IngestReport) -> io::Result<()> {
    let names = tw_ingest::tenant_names(report);
    let mut by_tenant: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_tenant
            .entry(f.tenant_id.as_deref().unwrap_or("(tenant unknown)"))
            .or_default()
            .push(f);
    }
    for (tenant, list) in &by_tenant {
        let name = names.get(*tenant).map(|n| n.name.as_str()).unwrap_or("");
        writeln!(
            w,
            "tenant {} {} — {} matches",
            cell(tenant, 40),
            cell(name, 40),
            list.len()
        )?;
        for f in list {
            let (field, value) = matched_field(f);
            let actor = f
                .actor
                .user
                .as_deref()
                .or(f.actor.app_id.as_deref())
                .unwrap_or("-");
            let ev = f.evidence.first();
            writeln!(
                w,
                "  {:<24} {:<44} {}={}  actor {}  op {}  at {}:{}  (indicator from {})",
                f.time.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                cell(f.rule.title.trim_start_matches("Indicator match: "), 44),
                cell(&field, 40),
                cell(&value, 80),
                cell(actor, 48),
                cell(f.operation.as_deref().unwrap_or("-"), 40),
                cell(ev.map_or("-", |e| &*e.file), 120),
                ev.map_or(0, |e| e.line),
                cell(f.matched.get("ioc.source").map_or("-", String::as_str), 120),
            )?;
        }
        writeln!(w)?;
    }
    let mut per_ioc: BTreeMap<&str, (u64, std::collections::BTreeSet<&str>, Option<&str>)> =
        BTreeMap::new();
    for f in findings {
        let e = per_ioc.entry(f.rule.title.as_str()).or_default();
        e.0 += 1;
        e.1.insert(f.tenant_id.as_deref().unwrap_or("-"));
        e.2 = f.matched.get("ioc.description").map(String::as_str);
    }
    writeln!(
        w,
        "{} matches of {} indicators",
        findings.len(),
        per_ioc.len()
    )?;
    for (title, (n, tenants, desc)) in per_ioc {
        writeln!(
            w,
            "  {:<60} {n:>6} records, {:>3} tenants  {}",
            cell(title, 60),
            tenants.len(),
            cell(desc.unwrap_or(""), 100)
        )?;
    }
    Ok(())
}
