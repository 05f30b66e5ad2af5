//! What every source shares: the [`Source`] trait the window driver calls, the context of a
//! tenant's requests ([`Cx`]), authenticated requests that renew a refused token once, and the
//! paging of Graph collections (`value` + `@odata.nextLink`).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;
use crate::auth::Auth;
use crate::cloud::Endpoints;
use crate::http::{Http, Reply, Request, Tally, strip_query};
use crate::store::WindowFile;
use crate::window::{Ms, Window};

/// Caps that make a window split, and the page size asked for.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `$top` of Graph requests.
    pub page_size: u32,
    /// Pages a window may take before it is split (0: no cap).
    pub max_pages: u64,
    /// Records a single query returns at most; a window that reaches it is split (0: none).
    pub result_cap: u64,
    /// Times a window is started again after an expired skip token.
    pub max_restarts: u64,
    /// Seconds between polls of an audit log query.
    pub poll: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            page_size: 999,
            max_pages: 200,
            result_cap: 0,
            max_restarts: 3,
            poll: std::time::Duration::from_secs(5),
        }
    }
}

/// A tenant's request context.
pub struct Cx<'a> {
    /// The client.
    pub http: &'a Http,
    /// Tokens.
    pub auth: &'a Auth,
    /// Endpoints.
    pub ep: &'a Endpoints,
    /// Tenant id.
    pub tenant: &'a str,
    /// Caps.
    pub limits: &'a Limits,
}

/// What a window's fetch counted.
#[derive(Debug, Default)]
pub struct Got {
    /// Pages or blobs read.
    pub pages: u64,
    /// Records written.
    pub records: u64,
    /// Records dropped as served twice.
    pub duplicates: u64,
    /// Requests, retries and throttled time.
    pub tally: Tally,
}

/// How a window's fetch ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetch {
    /// Every record of the window was written.
    Complete,
    /// The window reached a page or result cap: split it.
    Capped(String),
    /// The service lost the paging state (expired skip token): start the window again.
    Restart(String),
}

/// A collection of one tenant's records.
pub trait Source: Send + Sync {
    /// Name in `collection.json` and the output folder (`signins/interactiveUser`).
    fn name(&self) -> &str;
    /// Folder of the source's files in the tenant folder (`entra`, `ual`, `config`): sign-ins,
    /// directory audits and risk detections share `entra`, so that records without a tenant id
    /// (directory audits) are attributed by `ingest` from their neighbours.
    fn folder(&self) -> &str;
    /// Start of the source's file names (`signIns_interactiveUser`).
    fn file_prefix(&self) -> String {
        self.name().rsplit('/').next().unwrap_or("").to_string()
    }
    /// False for configuration collections (one "window": the whole collection).
    fn windowed(&self) -> bool {
        true
    }
    /// The part of `[since, until)` this source collects (the Management Activity API keeps 7
    /// days; the audit log query API takes what is older).
    fn clip(&self, since: Ms, until: Ms) -> (Ms, Ms) {
        (since, until)
    }
    /// Longest window the API accepts.
    fn max_window(&self) -> Option<Ms> {
        None
    }
    /// Writes the records of `w` to `out`.
    fn fetch(
        &self,
        cx: &Cx<'_>,
        w: Window,
        out: &mut WindowFile,
        got: &mut Got,
    ) -> Result<Fetch, Error>;
    /// True when the source must see the records of windows completed by an earlier run.
    fn wants_history(&self) -> bool {
        false
    }
    /// A record line of a window completed by an earlier run.
    fn remember(&self, _line: &[u8]) {}
}

/// A request with the tenant's token for `resource`; a 401 renews the token once.
pub fn authed(
    cx: &Cx<'_>,
    resource: &str,
    url: &str,
    post: Option<&str>,
    tally: &mut Tally,
) -> Result<Reply, Error> {
    let token = |t: &mut Tally| cx.auth.token(cx.http, cx.tenant, resource, t);
    for attempt in 0..2 {
        let reply = cx.http.send(
            &Request {
                post: post.is_some(),
                url,
                bearer: Some(&token),
                body: post.map(|b| (b, "application/json")),
            },
            tally,
        )?;
        if reply.status == 401 && attempt == 0 {
            cx.auth.invalidate(cx.tenant, resource);
            continue;
        }
        return Ok(reply);
    }
    Err(Error::Http(format!(
        "{}: token refused twice",
        strip_query(url)
    )))
}

/// A Graph answer that is no success, in words (the service's error code and message).
pub fn graph_error(url: &str, r: &Reply) -> Error {
    Error::Http(format!(
        "{}: HTTP {} {}",
        strip_query(url),
        r.status,
        service_message(&r.body)
    ))
}

/// `code: message` of a Graph error body, printable and short.
pub fn service_message(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let e = v.get("error").unwrap_or(&v);
    let code = e.get("code").and_then(|x| x.as_str()).unwrap_or("");
    let msg = e.get("message").and_then(|x| x.as_str()).unwrap_or("");
    let s: String = format!("{code}: {msg}")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    s.trim_matches(|c| c == ':' || c == ' ').to_string()
}

/// A Graph page.
#[derive(Deserialize)]
pub struct Page<'a> {
    /// The records.
    #[serde(borrow, default)]
    pub value: Vec<&'a RawValue>,
    /// The next page.
    #[serde(rename = "@odata.nextLink")]
    pub next: Option<String>,
    /// What the page holds.
    #[serde(rename = "@odata.context")]
    pub context: Option<String>,
}

/// True when a 4xx answer to a next-page request says its skip token is no longer valid.
pub fn expired_token(r: &Reply) -> bool {
    let m = service_message(&r.body).to_ascii_lowercase();
    (400..500).contains(&r.status)
        && r.status != 401
        && r.status != 403
        && (m.contains("skiptoken") || m.contains("skip token"))
}

/// Reads every page from `first`, handing each record to `each`. Stops with `Capped` at the
/// page or result cap and `Restart` on an expired skip token.
pub fn graph_pages(
    cx: &Cx<'_>,
    first: String,
    got: &mut Got,
    each: &mut dyn FnMut(&RawValue) -> Result<(), Error>,
) -> Result<Fetch, Error> {
    graph_pages_with(cx, first, got, &mut |page| {
        for r in &page.value {
            each(r)?;
        }
        Ok(())
    })
}

/// As [`graph_pages`], handing whole pages to `each`.
pub fn graph_pages_with(
    cx: &Cx<'_>,
    first: String,
    got: &mut Got,
    each: &mut dyn FnMut(&Page<'_>) -> Result<(), Error>,
) -> Result<Fetch, Error> {
    let mut url = first;
    let mut pages = 0u64;
    let mut records = 0u64;
    loop {
        let reply = authed(cx, &cx.ep.graph, &url, None, &mut got.tally)?;
        if reply.status != 200 {
            if pages > 0 && expired_token(&reply) {
                return Ok(Fetch::Restart(service_message(&reply.body)));
            }
            return Err(graph_error(&url, &reply));
        }
        let page: Page<'_> = serde_json::from_str(&reply.body)
            .map_err(|e| Error::Http(format!("{}: not a Graph page ({e})", strip_query(&url))))?;
        pages += 1;
        got.pages += 1;
        each(&page)?;
        records += page.value.len() as u64;
        let cap = cx.limits.result_cap;
        if cap > 0 && records >= cap {
            return Ok(Fetch::Capped(format!(
                "{records} records, the cap of one query"
            )));
        }
        match page.next {
            Some(_) if cx.limits.max_pages > 0 && pages >= cx.limits.max_pages => {
                return Ok(Fetch::Capped(format!("more than {pages} pages")));
            }
            Some(n) => url = n,
            None => return Ok(Fetch::Complete),
        }
    }
}
