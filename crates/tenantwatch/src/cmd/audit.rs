//! `tenantwatch audit`: inventory every third-party access path (partner, app, credential,
//! federation, Exchange) in tenant configuration snapshots, ranked by risk.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tw_analyze::InputProblems;
use tw_audit::load::Problem;
use tw_audit::{Options, audit, compare_doors, doors_from_report};
use tw_event::{LogKind, Timestamp, parse_timestamp};
use tw_ingest::{IngestOptions, ingest};

/// Arguments of `audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Snapshot folders (or files): Graph JSON dumps, Exchange exports, ScubaGear results.
    #[arg(required = true)]
    pub snapshots: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// An earlier snapshot folder, or an earlier `--format json` report: show doors added and removed.
    #[arg(long, value_name = "OLD")]
    pub compare: Option<PathBuf>,
    /// Sign-in logs (any format `ingest` reads) to fill in each partner's and app's last use.
    #[arg(long, value_name = "PATH")]
    pub signins: Vec<PathBuf>,
    /// Judge expiry and recency as of this time (default: the ScubaGear assessment time, else now).
    #[arg(long = "as-of", value_name = "TIME")]
    pub as_of: Option<String>,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    /// For people.
    Table,
    /// One JSON document.
    Json,
    /// Markdown, for tickets and reports.
    Markdown,
}

/// Last use per (resource tenant, home tenant) and (resource tenant, app id) from sign-ins, and
/// what of the sign-in logs could not be read.
fn last_use(paths: &[PathBuf]) -> (HashMap<(String, String), Timestamp>, InputProblems) {
    let mut out: HashMap<(String, String), Timestamp> = HashMap::new();
    let opts = IngestOptions::default();
    let report = ingest(
        paths,
        &opts,
        |ev, keys: &mut Vec<((String, String), Timestamp)>| {
            if ev.kind != LogKind::Signin {
                return;
            }
            let c = &ev.canonical;
            let (Some(t), Some(tenant)) = (c.time, c.tenant_id.as_deref()) else {
                return;
            };
            let tenant = tenant.to_ascii_lowercase();
            if let Some(h) = c.home_tenant_id.as_deref()
                && !h.eq_ignore_ascii_case(&tenant)
            {
                keys.push(((tenant.clone(), h.to_ascii_lowercase()), t));
            }
            if let Some(a) = c.app_id.as_deref() {
                keys.push(((tenant, a.to_ascii_lowercase()), t));
            }
        },
        |(k, t)| {
            let e = out.entry(k).or_insert(t);
            if t > *e {
                *e = t;
            }
        },
    );
    (out, InputProblems::of(&report))
}

/// Sign-in log files not fully read, as audit problems (last use may be missing because of them).
fn signin_problems(p: &InputProblems) -> Vec<Problem> {
    p.files_not_read
        .iter()
        .map(|f| Problem {
            file: f.path.clone(),
            index: None,
            reason: format!(
                "sign-in log not fully read ({}: {}): last use may be missing",
                f.status, f.reason
            ),
        })
        .collect()
}

/// Runs `audit`; returns the exit status (2 when objects or files were rejected).
pub fn run(a: AuditArgs) -> Result<u8> {
    let mut opts = Options::default();
    if let Some(t) = &a.as_of {
        opts.as_of =
            Some(parse_timestamp(t).with_context(|| format!("--as-of {t:?} is not a time"))?);
    }
    for p in a.snapshots.iter().chain(&a.signins) {
        if !p.exists() {
            bail!("{} does not exist", p.display());
        }
    }
    let mut signin_issues = Vec::new();
    if !a.signins.is_empty() {
        let (uses, problems) = last_use(&a.signins);
        opts.last_use = uses;
        signin_issues = signin_problems(&problems);
    }
    let mut report = audit(&a.snapshots, &opts);
    report.problems.extend(signin_issues);
    if let Some(old) = &a.compare {
        let label = old.display().to_string();
        let old_doors = if old.is_file()
            && let Ok(text) = std::fs::read_to_string(old)
            && let Some(d) = doors_from_report(&text)
        {
            d
        } else if old.exists() {
            audit(std::slice::from_ref(old), &opts).doors
        } else {
            bail!("--compare {} does not exist", old.display());
        };
        report.compare = Some(compare_doors(&label, &old_doors, &report.doors));
    }
    let sink: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut w = io::BufWriter::with_capacity(1 << 20, sink);
    let written = match a.format {
        AuditFormat::Json => tw_audit::render::write_json(&mut w, &report),
        AuditFormat::Table => w.write_all(tw_audit::render::table(&report).as_bytes()),
        AuditFormat::Markdown => w.write_all(tw_audit::render::markdown_report(&report).as_bytes()),
    }
    .and_then(|_| w.flush());
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e).context("writing the report");
    }
    Ok(if report.problems.is_empty() { 0 } else { 2 })
}
