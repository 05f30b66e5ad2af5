//! # tw-emulator
//!
//! A loopback emulator of the Microsoft identity platform token endpoint, Microsoft Graph (sign-ins,
//! directory audits, risk detections, audit log queries, GDAP customers, configuration
//! collections) and the Office 365 Management Activity API, serving a simulated world in the
//! documented response shapes, with faults injected: 429 and 503 with `Retry-After`, 500, dropped
//! connections, slow answers, expired skip tokens, a result cap per query, and records repeated
//! across content blobs. Tests start it on `127.0.0.1:0`; it stops when dropped.
//!
//! ```
//! use tw_emulator::{Emulator, Faults};
//! let data = tw_emulator::data::generate(&tw_simulate::SimulateOptions {
//!     tenants: 3, compromised: 2, days: 3, scale: 0.05, ..Default::default() });
//! let emu = Emulator::start(data, Faults::default(), tw_emulator::secret_auth("app", "s")).unwrap();
//! assert!(emu.url().starts_with("http://127.0.0.1:"));
//! ```

pub mod config_data;
pub mod data;
mod mgmt;
pub mod routes;
pub mod server;
pub mod tokens;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use data::{CONTENT_TYPES, Data, SIGNIN_TYPES};
use routes::{Api, blobs, query_records, range};
pub use tokens::Expect;

/// Faults to inject (0: never). A fault hits every N-th API request.
#[derive(Clone, Debug)]
pub struct Faults {
    /// 429 with `Retry-After`.
    pub throttle_every: u64,
    /// 503 with `Retry-After`.
    pub unavailable_every: u64,
    /// 500.
    pub error_every: u64,
    /// Connection closed without an answer.
    pub drop_every: u64,
    /// Answer delayed by `slow_ms`.
    pub slow_every: u64,
    /// Delay of slow answers.
    pub slow_ms: u64,
    /// `Retry-After` seconds.
    pub retry_after_secs: u64,
    /// Every N-th next-page request: the skip token has expired.
    pub expire_skiptoken_every: u64,
    /// Most records a listing or query returns (0: all).
    pub result_cap: u64,
    /// Content blobs repeat a record of the blob before.
    pub duplicate_blobs: bool,
    /// Blobs per content listing page.
    pub listing_page: usize,
    /// Most faults injected in all (0: no limit).
    pub max_faults: u64,
    /// "Now" of the Management Activity API's 7 days (Unix ms).
    pub now: i64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            throttle_every: 0,
            unavailable_every: 0,
            error_every: 0,
            drop_every: 0,
            slow_every: 0,
            slow_ms: 0,
            retry_after_secs: 1,
            expire_skiptoken_every: 0,
            result_cap: 0,
            duplicate_blobs: false,
            listing_page: 8,
            max_faults: 0,
            now: i64::MAX / 2,
        }
    }
}

/// Counters of what was served.
#[derive(Debug, Default)]
pub struct Stats {
    /// Authenticated API requests.
    pub requests: AtomicU64,
    /// Faults injected.
    pub faults: AtomicU64,
    /// Requests refused for an expired token.
    pub expired_refused: AtomicU64,
    /// Next-page requests.
    pub next_pages: AtomicU64,
    /// API requests being answered now.
    pub in_flight: AtomicU64,
    /// Most API requests answered at once.
    pub max_in_flight: AtomicU64,
}

/// Accept a client secret.
pub fn secret_auth(client_id: &str, secret: &str) -> Expect {
    Expect {
        client_id: client_id.into(),
        secret: Some(secret.into()),
        public_key: None,
        lifetime: Duration::from_secs(3600),
    }
}

/// A running emulator.
pub struct Emulator {
    api: Arc<Api>,
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts serving `data` on a loopback port.
    pub fn start(data: Data, faults: Faults, expect: Expect) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let api = Arc::new(Api::new(data, faults, expect, url.clone()));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (api.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            server::serve(listener, s, Arc::new(move |r| a.handle(r)));
        });
        Ok(Emulator {
            api,
            url,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (login, Graph and Management API alike).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.api.stats
    }

    /// Tokens issued.
    pub fn tokens_issued(&self) -> u64 {
        self.api.tokens.count()
    }

    /// The data served.
    pub fn data(&self) -> &Data {
        &self.api.data
    }

    /// Records a complete collection of `source` (the collector's name) gets for `tenant` in
    /// `[since, until)`: duplicates across blobs counted once; without the result cap.
    pub fn served(&self, tenant: &str, source: &str, since: i64, until: i64) -> Option<u64> {
        let t = self.api.data.tenant(tenant)?;
        let n = |v: &[data::Rec]| range(v, since, until).len() as u64;
        if let Some(k) = source.strip_prefix("signins/") {
            let i = SIGNIN_TYPES.iter().position(|x| *x == k)?;
            return Some(n(&t.signins[i]));
        }
        if let Some(name) = source.strip_prefix("config/") {
            let base = match name {
                "organization" => "v1.0/organization",
                "servicePrincipals" => "v1.0/servicePrincipals",
                "applications" => "v1.0/applications",
                "oauth2PermissionGrants" => "v1.0/oauth2PermissionGrants",
                "roleAssignments" => "beta/roleManagement/directory/roleAssignments",
                "roleDefinitions" => "v1.0/roleManagement/directory/roleDefinitions",
                "domains" => "v1.0/domains",
                "crossTenantAccessPartners" => "v1.0/policies/crossTenantAccessPolicy/partners",
                "delegatedAdminRelationships" => {
                    "v1.0/tenantRelationships/delegatedAdminRelationships"
                }
                _ => return None,
            };
            // The collection and the per-object collections under it.
            let under = format!("{base}/");
            let objects = t
                .config
                .iter()
                .filter(|l| l.path == base || l.path.starts_with(&under))
                .map(|l| l.objects.len() as u64)
                .sum();
            return Some(objects);
        }
        match source {
            "directoryAudits" => Some(n(&t.audits)),
            "riskDetections" => Some(n(&t.risk)),
            "ual/auditLogQuery" => Some(query_records(t, since, until).len() as u64),
            s => {
                let ct = s.strip_prefix("ual/")?;
                let ci = CONTENT_TYPES.iter().position(|x| *x == ct)?;
                let mut ids = std::collections::HashSet::new();
                for (_, recs) in blobs(t, ci, since, until, self.api.faults.duplicate_blobs) {
                    ids.extend(recs.iter().map(|r| r.id.as_str()));
                }
                Some(ids.len() as u64)
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `2024-07-23T00:00:00Z` of Unix ms (whole seconds).
pub fn format_time(t: i64) -> String {
    let (y, m, d) = tw_event::civil_from_days(t.div_euclid(86_400_000));
    let secs = t.rem_euclid(86_400_000) / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}
