//! # tw-collect
//!
//! Live collection from Microsoft 365 / Entra ID tenants through the REST APIs, with proof of
//! completeness: app-only OAuth 2.0 tokens (client secret or certificate assertion), Microsoft
//! Graph sign-ins, directory audits, risk detections and the configuration collections `audit`
//! reads, and the unified audit log through the Office 365 Management Activity API and the Graph
//! audit log query API. A range is collected in time windows; a window that reaches a page or
//! result cap is split; each completed window is checkpointed, so that a run killed at any moment
//! resumes with exactly the records of an uninterrupted run. `DIR/<tenant>/collection.json` holds,
//! per source and window, the range asked for, the records received, pages, retries, throttled
//! seconds and errors.
//!
//! Modules: [`secret`] (credentials), [`cloud`] (endpoints), [`http`] (client, retries,
//! concurrency), [`auth`] and [`jwt`] (tokens), [`window`], [`store`] (window files, checkpoint),
//! [`manifest`] (`collection.json`), [`source`] (the source trait, Graph paging), [`graph`],
//! [`mgmt`] (Management Activity API), [`query`] (audit log queries), [`config`] (configuration
//! collections), [`partner`] (GDAP customers), [`run`] (the window driver), [`progress`].
//!
//! ```no_run
//! use tw_collect::{collect, Options, What};
//! # fn main() -> Result<(), tw_collect::Error> {
//! let creds = tw_collect::secret::Credentials::load(None, |k| std::env::var(k).ok())?;
//! let opts = Options::new(creds, "contoso.onmicrosoft.com", "2024-07-23", "2024-07-30", "case")?;
//! let summary = collect(&opts, &Default::default())?;
//! assert!(summary.tenants.iter().all(|t| t.complete));
//! # Ok(()) }
//! ```

pub mod auth;
pub mod cloud;
pub mod config;
pub mod graph;
pub mod http;
pub mod jwt;
pub mod manifest;
pub mod mgmt;
pub mod partner;
pub mod progress;
pub mod query;
pub mod run;
pub mod secret;
pub mod source;
pub mod store;
pub mod window;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use manifest::Collection;
pub use window::{Ms, format_utc, parse_utc};

/// Why a run could not go on.
#[derive(Debug)]
pub enum Error {
    /// Bad options or credentials.
    Usage(String),
    /// No token.
    Auth(String),
    /// A request failed for good.
    Http(String),
    /// Reading or writing the output folder.
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Auth(m) | Error::Http(m) | Error::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// What to collect (`--what`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// Sign-ins of every event type.
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

impl What {
    /// Every kind, in `--what` order.
    pub const ALL: [What; 5] = [
        What::Signins,
        What::Audits,
        What::Ual,
        What::Risk,
        What::GraphConfig,
    ];
}

/// Which API collects the unified audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UalApi {
    /// The Management Activity API for its last 7 days, the audit log query API before.
    Auto,
    /// The Management Activity API only.
    Management,
    /// The audit log query API only.
    Query,
}

/// A run.
pub struct Options {
    /// Tenants (ids or initial domains).
    pub tenants: Vec<String>,
    /// Partner tenant whose GDAP customers are collected (and itself).
    pub partner: Option<String>,
    /// First instant.
    pub since: Ms,
    /// First instant after.
    pub until: Ms,
    /// Output folder.
    pub out: PathBuf,
    /// What to collect.
    pub what: Vec<What>,
    /// Continue from the checkpoints.
    pub resume: bool,
    /// Requests in flight in all.
    pub concurrency: usize,
    /// Gzip the output files.
    pub gzip: bool,
    /// Endpoints.
    pub endpoints: cloud::Endpoints,
    /// Credentials.
    pub credentials: secret::Credentials,
    /// Retries and timeouts.
    pub policy: http::Policy,
    /// Caps.
    pub limits: source::Limits,
    /// Window length.
    pub window: Ms,
    /// Unified audit log API.
    pub ual_api: UalApi,
    /// "Now" for the Management Activity API's 7 days.
    pub now: Ms,
}

impl Options {
    /// Defaults for one tenant and a range.
    pub fn new(
        credentials: secret::Credentials,
        tenant: &str,
        since: &str,
        until: &str,
        out: impl Into<PathBuf>,
    ) -> Result<Options, Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Ok(Options {
            tenants: vec![tenant.to_string()],
            partner: None,
            since: parse_utc(since)?,
            until: parse_utc(until)?,
            out: out.into(),
            what: What::ALL.to_vec(),
            resume: false,
            concurrency: 8,
            gzip: false,
            endpoints: cloud::Endpoints::preset("global")
                .ok_or_else(|| Error::Usage("no global cloud".into()))?,
            credentials,
            policy: http::Policy::default(),
            limits: source::Limits::default(),
            window: 86_400_000,
            ual_api: UalApi::Auto,
            now,
        })
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// One entry per tenant, in the order collected.
    pub tenants: Vec<Collection>,
    /// Tokens obtained.
    pub tokens: u64,
}

/// A tenant id or domain usable as a folder name and in a URL path.
pub fn check_tenant(t: &str) -> Result<(), Error> {
    let ok = !t.is_empty()
        && t.len() <= 256
        && !t.starts_with('.')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{:?} is no tenant id or domain",
            t.chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect::<String>()
        )))
    }
}

/// Collects every tenant of `opts`.
pub fn collect(opts: &Options, progress: &progress::Progress) -> Result<Summary, Error> {
    if opts.since >= opts.until {
        return Err(Error::Usage("--since must be before --until".into()));
    }
    let http = http::Http::new(opts.policy.clone());
    let auth = auth::Auth::new(&opts.credentials, &opts.endpoints.login)?;
    let mut tenants = opts.tenants.clone();
    let mut partner_of = None;
    if let Some(p) = &opts.partner {
        check_tenant(p)?;
        let cx = source::Cx {
            http: &http,
            auth: &auth,
            ep: &opts.endpoints,
            tenant: p,
            limits: &opts.limits,
        };
        let customers = partner::customers(&cx)?;
        partner_of = Some(p.clone());
        tenants.insert(0, p.clone());
        tenants.extend(customers);
    }
    for t in &tenants {
        check_tenant(t)?;
    }
    tenants.dedup();
    let at_once = opts.concurrency.div_ceil(2).clamp(1, tenants.len().max(1));
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![None; tenants.len()]);
    std::thread::scope(|s| {
        for _ in 0..at_once {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(t) = tenants.get(i) else { break };
                    let is_partner = partner_of.as_deref() == Some(t.as_str());
                    let c = one_tenant(opts, &http, &auth, t, is_partner, progress);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(c);
                }
            });
        }
    });
    Ok(Summary {
        tenants: results
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_iter()
            .flatten()
            .collect(),
        tokens: auth.issued(),
    })
}

fn one_tenant(
    opts: &Options,
    http: &http::Http,
    auth: &auth::Auth,
    tenant: &str,
    is_partner: bool,
    progress: &progress::Progress,
) -> Collection {
    let cx = source::Cx {
        http,
        auth,
        ep: &opts.endpoints,
        tenant,
        limits: &opts.limits,
    };
    let sources = sources_for(opts, is_partner);
    let plan = run::Plan {
        dir: opts.out.join(tenant),
        since: opts.since,
        until: opts.until,
        window: opts.window,
        gzip: opts.gzip,
        resume: opts.resume,
        threads: opts.concurrency.clamp(1, 4),
        progress,
    };
    run::run_tenant(&cx, &plan, &sources)
}

/// The sources of `opts.what`.
pub fn sources_for(opts: &Options, is_partner: bool) -> Vec<Box<dyn source::Source>> {
    let mut v: Vec<Box<dyn source::Source>> = Vec::new();
    for w in &opts.what {
        match w {
            What::Signins => {
                for t in graph::SIGNIN_TYPES {
                    v.push(Box::new(graph::GraphLog::signins(t)));
                }
            }
            What::Audits => v.push(Box::new(graph::GraphLog::directory_audits())),
            What::Risk => v.push(Box::new(graph::GraphLog::risk_detections())),
            What::Ual => v.extend(ual_sources(opts)),
            What::GraphConfig => v.extend(config::sources(is_partner)),
        }
    }
    v
}

/// The Management Activity API keeps 7 days of content.
pub const MANAGEMENT_DAYS: Ms = 7 * 86_400_000;

fn ual_sources(opts: &Options) -> Vec<Box<dyn source::Source>> {
    let recent = opts.now - MANAGEMENT_DAYS;
    let (mgmt, query) = match opts.ual_api {
        UalApi::Management => (Some(opts.since), None),
        UalApi::Query => (None, Some(opts.until)),
        UalApi::Auto if opts.since >= recent => (Some(opts.since), None),
        UalApi::Auto if opts.until <= recent => (None, Some(opts.until)),
        UalApi::Auto => (Some(recent), Some(recent)),
    };
    let mut v: Vec<Box<dyn source::Source>> = Vec::new();
    if let Some(from) = mgmt {
        for ct in mgmt::CONTENT_TYPES {
            v.push(Box::new(mgmt::Feed::new(ct, from)));
        }
    }
    if let Some(to) = query {
        v.push(Box::new(query::AuditQuery::new(to)));
    }
    v
}
