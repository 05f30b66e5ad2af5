//! The emulated endpoints: Graph log listings filtered by time and paged with `$top` and
//! `$skiptoken`, GDAP customers, configuration collections, audit log queries, and the Management
//! Activity API (subscriptions, content listing with `NextPageUri`, content blobs). Faults are
//! injected here, per request, as the configuration says.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::data::{CONTENT_TYPES, Data, Rec, SIGNIN_TYPES, TenantData};
use crate::server::{Reply, Req, split_target};
use crate::tokens::{Expect, Tokens};
use crate::{Faults, Stats};

const HOUR: i64 = 3_600_000;

/// The state behind the endpoints.
pub struct Api {
    /// Served data.
    pub data: Data,
    /// Faults.
    pub faults: Faults,
    /// Credentials accepted.
    pub expect: Expect,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Tokens.
    pub tokens: Tokens,
    /// Counters.
    pub stats: Stats,
    started: Mutex<HashSet<(String, String)>>,
    queries: Mutex<HashMap<String, (String, i64, i64, u32)>>,
    next_query: AtomicU64,
}

fn json_error(status: u16, code: &str, msg: &str) -> Reply {
    let body = serde_json::json!({"error": {"code": code, "message": msg}}).to_string();
    Reply::Send(status, vec![], body)
}

/// `2024-07-23T00:00:00Z`, `.fff`, with or without `Z`.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (h, mi, sec) = (n(11, 13)?, n(14, 16)?, n(17, 19)?);
    let ms = match s.get(19..20) {
        Some(".") => {
            let f = s.get(20..)?;
            let f3: String = f.chars().chain("000".chars()).take(3).collect();
            f3.parse::<i64>().ok()?
        }
        _ => 0,
    };
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// The `ge` and `lt` instants and the `eq '…'` value of a `$filter`.
fn parse_filter(f: &str) -> (Option<i64>, Option<i64>, Option<String>) {
    let after = |op: &str| {
        f.find(op)
            .and_then(|i| f[i + op.len()..].split_whitespace().next())
            .and_then(parse_time)
    };
    let eq = f.find("eq '").and_then(|i| {
        let rest = &f[i + 4..];
        rest.find('\'').map(|j| rest[..j].to_string())
    });
    (after(" ge "), after(" lt "), eq)
}

/// Records of `recs` in `[ge, lt)`.
pub fn range(recs: &[Rec], ge: i64, lt: i64) -> &[Rec] {
    let lo = recs.partition_point(|r| r.t < ge);
    let hi = recs.partition_point(|r| r.t < lt).max(lo);
    &recs[lo..hi]
}

impl Api {
    /// The endpoints over `data`.
    pub fn new(data: Data, faults: Faults, expect: Expect, base: String) -> Api {
        Api {
            data,
            faults,
            expect,
            base,
            tokens: Tokens::default(),
            stats: Stats::default(),
            started: Mutex::new(HashSet::new()),
            queries: Mutex::new(HashMap::new()),
            next_query: AtomicU64::new(1),
        }
    }

    /// Answers one request.
    pub fn handle(&self, req: &Req) -> Reply {
        let (path, query) = split_target(&req.target);
        if req.method == "POST" && path.ends_with("/oauth2/v2.0/token") {
            let tenant = path.trim_start_matches('/').split('/').next().unwrap_or("");
            return self.tokens.issue(&self.expect, tenant, req);
        }
        let tenant = match self.tokens.check(req.header("authorization")) {
            Ok(t) => t,
            Err(expired) => {
                if expired {
                    self.stats.expired_refused.fetch_add(1, Ordering::Relaxed);
                }
                return json_error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token has expired or is not yet valid.",
                );
            }
        };
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.max_in_flight.fetch_max(now, Ordering::Relaxed);
        let r = match self.fault() {
            Some(f) => f,
            None => self.route(&tenant, req, &path, &query),
        };
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        r
    }

    /// The fault of this request, if any (slow responses sleep, then are answered).
    fn fault(&self) -> Option<Reply> {
        let f = &self.faults;
        let n = self.stats.requests.load(Ordering::Relaxed);
        let hit = |every: u64| every > 0 && n.is_multiple_of(every);
        let limit_ok =
            f.max_faults == 0 || self.stats.faults.load(Ordering::Relaxed) < f.max_faults;
        if !limit_ok {
            return None;
        }
        let count = || self.stats.faults.fetch_add(1, Ordering::Relaxed);
        let retry = vec![("Retry-After".to_string(), f.retry_after_secs.to_string())];
        if hit(f.drop_every) {
            count();
            return Some(Reply::Drop);
        }
        if hit(f.slow_every) {
            count();
            std::thread::sleep(Duration::from_millis(f.slow_ms));
        }
        if hit(f.throttle_every) {
            count();
            return Some(Reply::Send(
                429,
                retry,
                r#"{"error":{"code":"TooManyRequests","message":"Too many requests."}}"#.into(),
            ));
        }
        if hit(f.unavailable_every) {
            count();
            return Some(Reply::Send(
                503,
                retry,
                r#"{"error":{"code":"ServiceUnavailable","message":"Service unavailable."}}"#
                    .into(),
            ));
        }
        if hit(f.error_every) {
            count();
            return Some(json_error(
                500,
                "InternalServerError",
                "Internal server error.",
            ));
        }
        None
    }

    fn route(&self, tenant: &str, req: &Req, path: &str, q: &[(String, String)]) -> Reply {
        let Some(t) = self.data.tenant(tenant) else {
            return json_error(403, "Forbidden", "Unknown tenant.");
        };
        let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        let filter = parse_filter(get("$filter").unwrap_or(""));
        match path {
            "/beta/auditLogs/signIns" => {
                let kind = filter.2.as_deref().unwrap_or("interactiveUser");
                match SIGNIN_TYPES.iter().position(|k| *k == kind) {
                    Some(i) => self.log_page(
                        req,
                        path,
                        q,
                        &t.signins[i],
                        filter,
                        "auditLogs/signIns",
                        "beta",
                    ),
                    None => json_error(400, "BadRequest", "Invalid filter."),
                }
            }
            "/v1.0/auditLogs/directoryAudits" => self.log_page(
                req,
                path,
                q,
                &t.audits,
                filter,
                "auditLogs/directoryAudits",
                "v1.0",
            ),
            "/v1.0/identityProtection/riskDetections" => {
                self.log_page(req, path, q, &t.risk, filter, "riskDetections", "v1.0")
            }
            "/v1.0/tenantRelationships/delegatedAdminCustomers" => {
                let objs: Vec<String> = t
                    .customers
                    .iter()
                    .map(|(id, n)| {
                        serde_json::json!({"id": id, "tenantId": id, "displayName": n}).to_string()
                    })
                    .collect();
                page_body(
                    "v1.0",
                    "tenantRelationships/delegatedAdminCustomers",
                    &objs,
                    None,
                )
            }
            p if p.starts_with("/beta/security/auditLog/queries") => self.audit_query(t, req, p, q),
            p if p.starts_with("/api/v1.0/") => crate::mgmt::route(self, t, req, p, q),
            p => self.config(t, p),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn log_page(
        &self,
        req: &Req,
        path: &str,
        q: &[(String, String)],
        recs: &[Rec],
        filter: (Option<i64>, Option<i64>, Option<String>),
        ctx: &str,
        version: &str,
    ) -> Reply {
        let ge = filter.0.unwrap_or(i64::MIN);
        let lt = filter.1.unwrap_or(i64::MAX);
        let slice = range(recs, ge, lt);
        let objs: Vec<&str> = slice.iter().map(|r| r.json.as_str()).collect();
        self.paged(req, path, q, &objs, ctx, version)
    }

    /// A page of `objs` by `$top` and `$skiptoken`, capped at the result cap.
    pub fn paged(
        &self,
        _req: &Req,
        path: &str,
        q: &[(String, String)],
        objs: &[&str],
        ctx: &str,
        version: &str,
    ) -> Reply {
        let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        let top: usize = get("$top")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100)
            .clamp(1, 1000);
        let skip = match get("$skiptoken") {
            None => 0usize,
            Some(tok) => {
                let n = self.stats.next_pages.fetch_add(1, Ordering::Relaxed) + 1;
                let e = self.faults.expire_skiptoken_every;
                let limit_ok = self.faults.max_faults == 0
                    || self.stats.faults.load(Ordering::Relaxed) < self.faults.max_faults;
                if e > 0 && n.is_multiple_of(e) && limit_ok {
                    self.stats.faults.fetch_add(1, Ordering::Relaxed);
                    // The answer Graph gives (msgraph-sdk-powershell issue 1388).
                    return json_error(400, "", "Invalid Skip Token, skip token is null");
                }
                match tok.strip_prefix("o").and_then(|x| x.parse().ok()) {
                    Some(n) => n,
                    None => return json_error(400, "Request_BadRequest", "Invalid $skiptoken."),
                }
            }
        };
        let cap = if self.faults.result_cap > 0 {
            self.faults.result_cap as usize
        } else {
            usize::MAX
        };
        let total = objs.len().min(cap);
        let end = (skip + top).min(total);
        let page = &objs[skip.min(end)..end];
        let next = (end < total).then(|| {
            let mut link = format!("{}{}?", self.base, path);
            let kept: Vec<String> = q
                .iter()
                .filter(|(k, _)| k != "$skiptoken")
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            link.push_str(&kept.join("&"));
            link.push_str(&format!("&$skiptoken=o{end}"));
            link
        });
        let owned: Vec<String> = page.iter().map(|s| s.to_string()).collect();
        page_body(version, ctx, &owned, next)
    }

    fn config(&self, t: &TenantData, path: &str) -> Reply {
        let p = path.trim_start_matches('/');
        match t.config.iter().find(|l| l.path == p) {
            Some(l) => {
                let body = format!(
                    "{{\"@odata.context\":{},\"value\":[{}]}}",
                    serde_json::Value::from(l.context.clone()),
                    l.objects.join(",")
                );
                Reply::Send(200, vec![], body)
            }
            None => json_error(404, "Request_ResourceNotFound", "Resource not found."),
        }
    }

    fn audit_query(&self, t: &TenantData, req: &Req, p: &str, q: &[(String, String)]) -> Reply {
        let rest = p.trim_start_matches("/beta/security/auditLog/queries");
        let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let mut queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        match (req.method.as_str(), parts.as_slice()) {
            ("POST", []) => {
                let v: serde_json::Value = serde_json::from_str(&req.body).unwrap_or_default();
                let s = v["filterStartDateTime"].as_str().and_then(parse_time);
                let e = v["filterEndDateTime"].as_str().and_then(parse_time);
                let (Some(s), Some(e)) = (s, e) else {
                    return json_error(
                        400,
                        "BadRequest",
                        "filterStartDateTime and filterEndDateTime are required.",
                    );
                };
                let id = format!("q{}", self.next_query.fetch_add(1, Ordering::Relaxed));
                queries.insert(id.clone(), (t.id.clone(), s, e, 0));
                let body = serde_json::json!({"@odata.type": "#microsoft.graph.security.auditLogQuery", "id": id, "status": "notStarted", "filterStartDateTime": v["filterStartDateTime"], "filterEndDateTime": v["filterEndDateTime"]});
                Reply::Send(201, vec![], body.to_string())
            }
            ("GET", [id]) => match queries.get_mut(*id) {
                Some(qq) => {
                    qq.3 += 1;
                    let status = if qq.3 >= 2 { "succeeded" } else { "running" };
                    Reply::Send(
                        200,
                        vec![],
                        serde_json::json!({"id": id, "status": status}).to_string(),
                    )
                }
                None => json_error(404, "NotFound", "No such query."),
            },
            ("GET", [id, "records"]) => match queries.get(*id).cloned() {
                Some((_, s, e, _)) => {
                    drop(queries);
                    let objs = query_records(t, s, e);
                    let refs: Vec<&str> = objs.iter().map(String::as_str).collect();
                    self.paged(
                        req,
                        p,
                        q,
                        &refs,
                        &format!("security/auditLog/queries('{id}')/records"),
                        "beta",
                    )
                }
                None => json_error(404, "NotFound", "No such query."),
            },
            _ => json_error(400, "BadRequest", "Unsupported."),
        }
    }

    pub(crate) fn start_subscription(&self, tenant: &str, ct: &str) -> bool {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((tenant.to_string(), ct.to_string()))
    }

    pub(crate) fn subscribed(&self, tenant: &str, ct: &str) -> bool {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&(tenant.to_string(), ct.to_string()))
    }
}

/// The audit log query records of `[s, e)`: every content type, by time, as `auditLogRecord`s.
pub fn query_records(t: &TenantData, s: i64, e: i64) -> Vec<String> {
    let mut recs: Vec<&Rec> = t.ual.iter().flat_map(|v| range(v, s, e)).collect();
    recs.sort_by_key(|r| r.t);
    recs.iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.json).unwrap_or_default();
            format!(
                "{{\"id\":{},\"createdDateTime\":{},\"auditLogRecordType\":{},\"operation\":{},\"organizationId\":{},\"userPrincipalName\":{},\"auditData\":{}}}",
                serde_json::Value::from(r.id.clone()),
                serde_json::Value::from(format!("{}Z", v["CreationTime"].as_str().unwrap_or(""))),
                v["RecordType"],
                v["Operation"],
                v["OrganizationId"],
                v["UserId"],
                r.json
            )
        })
        .collect()
}

/// Percent-encodes a query component for a next link.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~$".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn page_body(version: &str, ctx: &str, objs: &[String], next: Option<String>) -> Reply {
    let mut body =
        format!("{{\"@odata.context\":\"https://graph.microsoft.com/{version}/$metadata#{ctx}\",");
    if let Some(n) = next {
        body.push_str(&format!(
            "\"@odata.nextLink\":{},",
            serde_json::Value::from(n)
        ));
    }
    body.push_str("\"value\":[");
    body.push_str(&objs.join(","));
    body.push_str("]}");
    Reply::Send(200, vec![], body)
}

/// Hour blobs of content type `ct` listed for `[s, e)`: (hour, records), duplicates included.
pub fn blobs(t: &TenantData, ct: usize, s: i64, e: i64, duplicate: bool) -> Vec<(i64, Vec<&Rec>)> {
    let recs = &t.ual[ct];
    // A blob of hour h is created at the end of the hour: listed when (h+1)·H ∈ [s, e).
    let first = s.div_euclid(HOUR) + i64::from(s.rem_euclid(HOUR) != 0) - 1;
    let last = e.div_euclid(HOUR) + i64::from(e.rem_euclid(HOUR) != 0) - 1;
    let mut out = Vec::new();
    for h in first..last {
        let mut v: Vec<&Rec> = range(recs, h * HOUR, (h + 1) * HOUR).iter().collect();
        if v.is_empty() {
            continue;
        }
        if duplicate && let Some(prev) = range(recs, (h - 1) * HOUR, h * HOUR).last() {
            v.insert(0, prev);
        }
        out.push((h, v));
    }
    out
}

/// Names of the content types.
pub fn content_type_index(ct: &str) -> Option<usize> {
    CONTENT_TYPES.iter().position(|c| *c == ct)
}
