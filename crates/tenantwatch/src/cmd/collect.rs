//! `tenantwatch collect`: collects tenants' logs and configuration through the Microsoft REST APIs
//! into `DIR/<tenant>/`, with `collection.json` as the proof of what was received. Options,
//! credentials and endpoints are wired here; the work is `tw_collect`'s.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use tw_collect::cloud::{CLOUDS, Endpoints};
use tw_collect::progress::Progress;
use tw_collect::secret::Credentials;
use tw_collect::{Options, UalApi, What, parse_utc};

use crate::progress::{ProgressMode, count, duration, wanted};

/// What `--what` names.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhatArg {
    /// Sign-ins of every event type (interactive, non-interactive, service principal, managed identity).
    Signins,
    /// Directory audits.
    Audits,
    /// The unified audit log.
    Ual,
    /// Risk detections.
    Risk,
    /// The configuration collections `audit` reads.
    GraphConfig,
}

/// Which API collects the unified audit log.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UalApiArg {
    /// The Management Activity API for its last 7 days, the audit log query API before.
    #[default]
    Auto,
    /// The Office 365 Management Activity API only.
    Management,
    /// The Graph audit log query API only.
    Query,
}

/// Arguments of `collect` (an option given twice takes its last value).
#[derive(Args, Debug)]
#[command(args_override_self = true)]
pub struct CollectArgs {
    /// Tenant id or domain to collect (repeatable).
    #[arg(
        long = "tenant",
        value_name = "ID",
        required_unless_present = "partner"
    )]
    pub tenants: Vec<String>,
    /// Collect a partner tenant and each of its GDAP customers; the partner's tenant id is the
    /// value, or TENANTWATCH_TENANT_ID.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    pub partner: Option<String>,
    /// First instant collected (2024-07-23 or 2024-07-23T08:00:00Z; UTC unless a zone is given).
    #[arg(long, value_name = "TIME")]
    pub since: String,
    /// First instant not collected.
    #[arg(long, value_name = "TIME")]
    pub until: String,
    /// Output folder (one folder per tenant under it).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// What to collect [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub what: Vec<WhatArg>,
    /// Continue an interrupted run from its checkpoints (same range and output folder).
    #[arg(long)]
    pub resume: bool,
    /// Requests in flight in all; tenants are collected ceil(N/2) at a time, up to 4 sources
    /// at a time each.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Gzip the output files.
    #[arg(long)]
    pub gzip: bool,
    /// JSON or YAML file with TENANTWATCH_CLIENT_ID and TENANTWATCH_CLIENT_SECRET or
    /// TENANTWATCH_CERTIFICATE (else they are read from the environment).
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// National cloud whose endpoints are used.
    #[arg(long, default_value = "global", value_parser = clap::builder::PossibleValuesParser::new(CLOUDS))]
    pub cloud: String,
    /// Identity platform endpoint (overrides --cloud).
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Microsoft Graph endpoint (overrides --cloud).
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Office 365 Management Activity API endpoint (overrides --cloud).
    #[arg(long, value_name = "URL")]
    pub manage_url: Option<String>,
    /// Which API collects the unified audit log.
    #[arg(long, value_enum, default_value_t)]
    pub ual_api: UalApiArg,
    /// Length of the time windows, in hours (each window is checkpointed once collected).
    #[arg(long, value_name = "H", default_value_t = 24.0)]
    pub window_hours: f64,
    /// Records asked for per page ($top).
    #[arg(long, value_name = "N", default_value_t = 999)]
    pub page_size: u32,
    /// Pages a window may take before it is split in two (0: no cap).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_pages: u64,
    /// Records one query returns at most; a window that reaches it is split (0: no cap).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub result_cap: u64,
    /// Seconds a request may take.
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub timeout: f64,
    /// First backoff delay after a failed request, in milliseconds (doubled each retry, jittered).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub retry_base_ms: u64,
    /// Seconds between polls of an audit log query.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub poll_seconds: f64,
    /// Progress bar on standard error.
    #[arg(long, value_enum, default_value_t)]
    pub progress: ProgressMode,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

fn what(args: &CollectArgs) -> Vec<What> {
    if args.what.is_empty() {
        return What::ALL.to_vec();
    }
    let mut v: Vec<What> = Vec::new();
    for w in &args.what {
        let x = match w {
            WhatArg::Signins => What::Signins,
            WhatArg::Audits => What::Audits,
            WhatArg::Ual => What::Ual,
            WhatArg::Risk => What::Risk,
            WhatArg::GraphConfig => What::GraphConfig,
        };
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

fn secs(v: f64, name: &str) -> Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v < 1e7) {
        bail!("{name} must be a positive number of seconds (got {v})");
    }
    Ok(Duration::from_secs_f64(v))
}

fn options(args: &CollectArgs) -> Result<Options> {
    let creds = Credentials::load(args.credentials.as_deref(), |k| std::env::var(k).ok())?;
    let since = parse_utc(&args.since)?;
    let until = parse_utc(&args.until)?;
    let mut o = Options::new(creds, "x", "2000-01-01", "2000-01-02", &args.out)?;
    o.tenants = args.tenants.iter().map(|t| t.trim().to_string()).collect();
    o.partner = match args.partner.as_deref() {
        None => None,
        Some("") => Some(std::env::var("TENANTWATCH_TENANT_ID").map_err(|_| {
            anyhow::anyhow!(
                "--partner needs the partner's tenant id (--partner ID or TENANTWATCH_TENANT_ID)"
            )
        })?),
        Some(p) => Some(p.trim().to_string()),
    };
    (o.since, o.until) = (since, until);
    o.what = what(args);
    o.resume = args.resume;
    if args.concurrency == 0 || args.concurrency > 256 {
        bail!("--concurrency must be 1..=256 (got {})", args.concurrency);
    }
    o.concurrency = args.concurrency;
    o.gzip = args.gzip;
    o.endpoints = Endpoints::preset(&args.cloud)
        .ok_or_else(|| anyhow::anyhow!("unknown cloud {}", args.cloud))?
        .with_overrides(
            args.login_url.as_deref(),
            args.graph_url.as_deref(),
            args.manage_url.as_deref(),
        );
    o.policy.timeout = secs(args.timeout, "--timeout")?;
    o.policy.backoff = Duration::from_millis(args.retry_base_ms);
    o.policy.concurrency = args.concurrency;
    o.limits.page_size = args.page_size.clamp(1, 1000);
    o.limits.max_pages = args.max_pages;
    o.limits.result_cap = args.result_cap;
    o.limits.poll = secs(args.poll_seconds, "--poll-seconds")?;
    let w = secs(args.window_hours * 3600.0, "--window-hours")?;
    o.window = w.as_millis() as i64;
    o.ual_api = match args.ual_api {
        UalApiArg::Auto => UalApi::Auto,
        UalApiArg::Management => UalApi::Management,
        UalApiArg::Query => UalApi::Query,
    };
    Ok(o)
}

/// Refuses to start afresh over a folder that holds an earlier run of the same tenant.
fn check_fresh(o: &Options) -> Result<()> {
    if o.resume {
        return Ok(());
    }
    for t in &o.tenants {
        tw_collect::check_tenant(t)?;
        let ck = o.out.join(t).join(tw_collect::store::CHECKPOINT);
        if ck.exists() {
            bail!(
                "{} holds an earlier collection of {t}: continue it with --resume, or choose another --out",
                o.out.display()
            );
        }
    }
    Ok(())
}

/// Errors printed per tenant (all are in its `collection.json`).
const MAX_ERRORS_SHOWN: usize = 5;

/// Runs `collect`.
pub fn run(args: CollectArgs) -> Result<u8> {
    let opts = options(&args)?;
    check_fresh(&opts)?;
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", opts.out.display()))?;
    let progress = Arc::new(Progress::default());
    let bar = CollectBar::start(args.progress, args.quiet, progress.clone());
    let started = Instant::now();
    let summary = tw_collect::collect(&opts, &progress);
    drop(bar);
    let summary = summary?;
    let mut incomplete = 0;
    for c in &summary.tenants {
        if !c.complete {
            incomplete += 1;
        }
        if !args.quiet {
            println!(
                "{} {}: {} records, {} retries, {:.1} s throttled{}",
                if c.complete {
                    "complete  "
                } else {
                    "INCOMPLETE"
                },
                c.tenant,
                c.records,
                c.retries,
                c.throttled_seconds,
                if c.complete {
                    ""
                } else {
                    " (see collection.json)"
                }
            );
        }
        let errors: Vec<&String> = c
            .errors
            .iter()
            .chain(c.sources.iter().flat_map(|s| s.errors.iter()))
            .collect();
        for e in errors.iter().take(MAX_ERRORS_SHOWN) {
            eprintln!("tenantwatch: {}: {}", c.tenant, e.escape_debug());
        }
        if errors.len() > MAX_ERRORS_SHOWN {
            eprintln!(
                "tenantwatch: {}: {} more errors in {}",
                c.tenant,
                errors.len() - MAX_ERRORS_SHOWN,
                opts.out.join(&c.tenant).join("collection.json").display()
            );
        }
    }
    if !args.quiet {
        let records: u64 = summary.tenants.iter().map(|c| c.records).sum();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{} tenants, {records} records in {secs:.1} s ({:.0} records/s) into {}",
            summary.tenants.len(),
            records as f64 / secs.max(1e-3),
            opts.out.display()
        );
    }
    Ok(if incomplete > 0 { 2 } else { 0 })
}

/// The progress line of a collection.
struct CollectBar {
    stop: Option<mpsc::Sender<()>>,
    drawer: Option<std::thread::JoinHandle<()>>,
}

impl CollectBar {
    fn start(mode: ProgressMode, quiet: bool, p: Arc<Progress>) -> CollectBar {
        let term = std::env::var("TERM").ok();
        let ci = std::env::var("CI").ok();
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if !wanted(mode, quiet, terminal, term.as_deref(), ci.as_deref()) {
            return CollectBar {
                stop: None,
                drawer: None,
            };
        }
        let (stop, stopped) = mpsc::channel();
        let drawer = std::thread::spawn(move || draw(&p, &stopped));
        CollectBar {
            stop: Some(stop),
            drawer: Some(drawer),
        }
    }
}

impl Drop for CollectBar {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.drawer.take() {
            let _ = d.join();
        }
    }
}

/// `collect 12/40 sources 1.2M rec 3.1k rec/s throttled 0:12 | <tenant> <source> 45.1k`.
pub fn bar_line(p: &Progress, rate: f64) -> String {
    use tw_collect::progress::{DONE, INCOMPLETE, RUNNING};
    let rows = p.rows();
    let finished = rows
        .iter()
        .filter(|r| matches!(r.state.load(Ordering::Relaxed), DONE | INCOMPLETE))
        .count();
    let records: u64 = rows.iter().map(|r| r.records.load(Ordering::Relaxed)).sum();
    let throttled: u64 = rows
        .iter()
        .map(|r| r.throttled_ms.load(Ordering::Relaxed))
        .sum();
    let mut line = format!(
        "collect {finished}/{} sources {} rec {}/s throttled {}",
        rows.len(),
        count(records),
        count(rate as u64),
        duration(throttled as f64 / 1000.0)
    );
    if let Some(r) = rows
        .iter()
        .find(|r| r.state.load(Ordering::Relaxed) == RUNNING)
    {
        let short: String = r.tenant.chars().take(13).collect();
        line.push_str(&format!(
            " | {short} {} {}",
            r.source,
            count(r.records.load(Ordering::Relaxed))
        ));
    }
    line.chars().take(79).collect()
}

fn draw(p: &Progress, stopped: &mpsc::Receiver<()>) {
    use std::io::Write;
    let mut err = std::io::stderr();
    let mut samples: std::collections::VecDeque<(Instant, u64)> = Default::default();
    let mut last = String::new();
    loop {
        let total: u64 = p
            .rows()
            .iter()
            .map(|r| r.records.load(Ordering::Relaxed))
            .sum();
        let now = Instant::now();
        samples.push_back((now, total));
        while samples.len() > 2 && now.duration_since(samples[0].0) > Duration::from_secs(5) {
            samples.pop_front();
        }
        let (t0, n0) = samples[0];
        let dt = now.duration_since(t0).as_secs_f64();
        let rate = if dt > 0.0 {
            (total - n0.min(total)) as f64 / dt
        } else {
            0.0
        };
        let l = bar_line(p, rate);
        if l != last {
            let _ = write!(err, "\r{l}\x1b[K");
            let _ = err.flush();
            last = l;
        }
        if !matches!(
            stopped.recv_timeout(Duration::from_millis(200)),
            Err(mpsc::RecvTimeoutError::Timeout)
        ) {
            break;
        }
    }
    if !last.is_empty() {
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_collect::progress::{DONE, RUNNING};

    #[test]
    fn bar_names_counts_rate_throttling_and_the_running_source() {
        let p = Progress::default();
        let a = p.row(
            "0f8c2a51-4d7e-4b0a-9d8e-2c1b3a4f5e6d",
            "signins/interactiveUser",
        );
        let b = p.row("0f8c2a51-4d7e-4b0a-9d8e-2c1b3a4f5e6d", "directoryAudits");
        a.records.fetch_add(45_100, Ordering::Relaxed);
        a.set(RUNNING);
        b.records.fetch_add(900, Ordering::Relaxed);
        b.throttled_ms.fetch_add(12_000, Ordering::Relaxed);
        b.set(DONE);
        let l = bar_line(&p, 3100.0);
        assert_eq!(
            l,
            "collect 1/2 sources 46.0k rec 3.1k/s throttled 0:12 | 0f8c2a51-4d7e signins/interactiveUser 45.1k"
                .chars()
                .take(79)
                .collect::<String>()
        );
        assert!(l.chars().count() <= 79);
    }
}
