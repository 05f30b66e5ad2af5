//! The HTTP client: one `ureq` agent (rustls, pooled connections, a timeout on every request),
//! a limit on the requests in flight across all tenants, and the retry policy — `Retry-After`
//! honoured on 429 and 503, exponential backoff with jitter on other 5xx answers and on dropped,
//! refused or slow connections. Counts retries and throttled time into the caller's [`Tally`].

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::Error;

/// How requests are retried and bounded.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Longest a request may take, connection to last byte.
    pub timeout: Duration,
    /// First backoff delay (doubled at each retry, capped at 64 times, jittered).
    pub backoff: Duration,
    /// Retries after transport errors and 5xx answers before a request fails.
    pub max_retries: u32,
    /// Throttled answers (429, 503 with `Retry-After`) a request may get before it fails.
    pub max_throttles: u32,
    /// Longest `Retry-After` honoured as given (longer ones are waited this long).
    pub max_retry_after: Duration,
    /// Requests in flight in all.
    pub concurrency: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timeout: Duration::from_secs(120),
            backoff: Duration::from_secs(1),
            max_retries: 8,
            max_throttles: 60,
            max_retry_after: Duration::from_secs(300),
            concurrency: 8,
        }
    }
}

/// What a window's requests cost: retries and throttled time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Requests sent again after a failure or a throttled answer.
    pub retries: u64,
    /// Time spent waiting on `Retry-After`.
    pub throttled: Duration,
    /// Requests made.
    pub requests: u64,
}

impl Tally {
    /// Adds another tally.
    pub fn add(&mut self, o: &Tally) {
        self.retries += o.retries;
        self.throttled += o.throttled;
        self.requests += o.requests;
    }
}

/// Gives a bearer token (renewed when due).
pub type TokenFn<'a> = dyn Fn(&mut Tally) -> Result<crate::secret::Secret, Error> + 'a;

/// An HTTP request.
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub post: bool,
    /// Full URL.
    pub url: &'a str,
    /// Gives the `Authorization: Bearer` value before each attempt (a token renewed while the
    /// request waited on `Retry-After` is picked up).
    pub bearer: Option<&'a TokenFn<'a>>,
    /// Body and its content type.
    pub body: Option<(&'a str, &'a str)>,
}

/// An answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `NextPageUri` header (Management Activity API content listing).
    pub next_page_uri: Option<String>,
    /// Body text.
    pub body: String,
}

/// The client shared by every tenant and source.
pub struct Http {
    agent: ureq::Agent,
    policy: Policy,
    slots: Mutex<usize>,
    freed: Condvar,
}

/// Largest body read (content blobs are a few MiB; a page of 1,000 sign-ins ~5 MiB).
const BODY_LIMIT: u64 = 512 << 20;

enum Attempt {
    Done(Reply),
    Throttled(Duration),
    Transient(String),
}

impl Http {
    /// A client with `policy`.
    pub fn new(policy: Policy) -> Http {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(policy.timeout))
            .timeout_connect(Some(policy.timeout.min(Duration::from_secs(30))))
            .http_status_as_error(false)
            .user_agent(concat!("tenantwatch/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(policy.concurrency.max(1) * 2)
            .build();
        Http {
            agent: config.into(),
            slots: Mutex::new(policy.concurrency.max(1)),
            freed: Condvar::new(),
            policy,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sends `req`, retrying as the policy says; any answer that is no 429, 5xx or transport
    /// failure is returned (the caller judges 4xx).
    pub fn send(&self, req: &Request<'_>, tally: &mut Tally) -> Result<Reply, Error> {
        let mut failures = 0u32;
        let mut throttles = 0u32;
        loop {
            tally.requests += 1;
            let token = match req.bearer {
                Some(f) => Some(f(tally)?),
                None => None,
            };
            match self.attempt(req, token.as_ref().map(|t| t.expose())) {
                Attempt::Done(r) => return Ok(r),
                Attempt::Throttled(wait) => {
                    throttles += 1;
                    if throttles > self.policy.max_throttles {
                        return Err(Error::Http(format!(
                            "{}: still throttled after {} answers with Retry-After",
                            strip_query(req.url),
                            throttles - 1
                        )));
                    }
                    let wait = wait.min(self.policy.max_retry_after);
                    tally.retries += 1;
                    tally.throttled += wait;
                    std::thread::sleep(wait);
                }
                Attempt::Transient(why) => {
                    failures += 1;
                    if failures > self.policy.max_retries {
                        return Err(Error::Http(format!(
                            "{}: {why} (gave up after {} retries)",
                            strip_query(req.url),
                            failures - 1
                        )));
                    }
                    tally.retries += 1;
                    std::thread::sleep(backoff(self.policy.backoff, failures));
                }
            }
        }
    }

    fn attempt(&self, req: &Request<'_>, bearer: Option<&str>) -> Attempt {
        let _slot = self.acquire();
        let result = if req.post {
            let mut b = self.agent.post(req.url);
            if let Some(t) = bearer {
                b = b.header("Authorization", &format!("Bearer {t}"));
            }
            let (body, ctype) = req.body.unwrap_or(("", "application/json"));
            b.header("Content-Type", ctype).send(body)
        } else {
            let mut b = self.agent.get(req.url);
            if let Some(t) = bearer {
                b = b.header("Authorization", &format!("Bearer {t}"));
            }
            b.call()
        };
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => return Attempt::Transient(transport_error(&e)),
        };
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let next_page_uri = header("nextpageuri");
        let body = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string();
        let body = match body {
            Ok(b) => b,
            Err(e) => return Attempt::Transient(transport_error(&e)),
        };
        match (status, retry_after) {
            (429 | 503, Some(w)) => Attempt::Throttled(w),
            // 429 without Retry-After: wait as for a server error.
            (429, None) | (500..=599, _) => Attempt::Transient(format!("HTTP {status}")),
            _ => Attempt::Done(Reply {
                status,
                next_page_uri,
                body,
            }),
        }
    }

    fn acquire(&self) -> SlotGuard<'_> {
        let mut n = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        while *n == 0 {
            n = self.freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Http);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut n = self.0.slots.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        self.0.freed.notify_one();
    }
}

/// A transport error in words, without the URL's query (it may hold tokens of paging).
fn transport_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => format!("connection failed ({})", io.kind()),
        ureq::Error::ConnectionFailed => "connection refused".into(),
        other => format!("transport error ({other})"),
    }
}

/// `Retry-After`: delay seconds (HTTP-date values are not sent by Microsoft's APIs; a missing or
/// unreadable value falls back to backoff).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Backoff before retry `n` (1-based): base × 2^(n-1), at most 64 × base, with "equal jitter"
/// (half fixed, half random), so clients that failed together do not retry together.
pub fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << n.saturating_sub(1).min(6));
    let half = exp / 2;
    let jitter = (random() % 1_000_000) as f64 / 1_000_000.0;
    half + half.mul_f64(jitter)
}

/// A cheap random number (jitter only): clock and thread mixed through splitmix64.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    let mut z = h.finish().wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^ (z >> 31)
}

/// The URL without its query, for messages.
pub fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_inside_bounds() {
        let b = Duration::from_millis(100);
        for n in 1..10 {
            let d = backoff(b, n);
            let exp = b * (1 << (n - 1).min(6));
            assert!(d >= exp / 2 && d <= exp, "{n}: {d:?}");
        }
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
