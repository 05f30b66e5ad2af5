//! The unified audit log through the Microsoft Graph audit log query API
//! (`beta/security/auditLog/queries`), for history older than the Management Activity API's 7
//! days: per window a query is created, polled until it has `succeeded`, and its `records` are
//! paged through. Each record's `auditData` — the Management Activity API record — is written as
//! one JSON line, so that the output reads like the feed's; records outside the window are left
//! to the window that holds them, so that windows never overlap.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;
use crate::source::{Cx, Fetch, Got, Source, authed, graph_error, graph_pages};
use crate::store::WindowFile;
use crate::window::{Ms, Window, format_utc, parse_utc};

/// Polls of one query before it is given up (at the default 5 s, 4 hours).
const MAX_POLLS: u32 = 2880;

/// The audit log query source.
pub struct AuditQuery {
    until: Ms,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(rename = "createdDateTime", default)]
    created: Option<String>,
    #[serde(rename = "auditData", borrow)]
    audit_data: Option<&'a RawValue>,
}

impl AuditQuery {
    /// Collects the range up to `until`.
    pub fn new(until: Ms) -> AuditQuery {
        AuditQuery { until }
    }

    fn create(&self, cx: &Cx<'_>, w: Window, got: &mut Got) -> Result<String, Error> {
        let url = format!("{}/beta/security/auditLog/queries", cx.ep.graph);
        let body = serde_json::json!({
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": format!("tenantwatch {}..{}", format_utc(w.start), format_utc(w.end)),
            "filterStartDateTime": format_utc(w.start),
            "filterEndDateTime": format_utc(w.end),
        })
        .to_string();
        let r = authed(cx, &cx.ep.graph, &url, Some(&body), &mut got.tally)?;
        if r.status != 201 && r.status != 200 {
            return Err(graph_error(&url, &r));
        }
        let c: Created = serde_json::from_str(&r.body)
            .map_err(|e| Error::Http(format!("audit log query: no id in the answer ({e})")))?;
        self.wait(cx, &c.id, c.status, got)?;
        Ok(c.id)
    }

    fn wait(&self, cx: &Cx<'_>, id: &str, mut status: String, got: &mut Got) -> Result<(), Error> {
        let url = format!("{}/beta/security/auditLog/queries/{id}", cx.ep.graph);
        for _ in 0..MAX_POLLS {
            match status.as_str() {
                "succeeded" => return Ok(()),
                "failed" | "cancelled" => {
                    return Err(Error::Http(format!("audit log query {id} {status}")));
                }
                _ => {}
            }
            std::thread::sleep(cx.limits.poll);
            let r = authed(cx, &cx.ep.graph, &url, None, &mut got.tally)?;
            if r.status != 200 {
                return Err(graph_error(&url, &r));
            }
            status = serde_json::from_str::<Created>(&r.body)
                .map(|c| c.status)
                .map_err(|e| Error::Http(format!("audit log query {id}: {e}")))?;
        }
        Err(Error::Http(format!("audit log query {id} did not finish")))
    }
}

impl Source for AuditQuery {
    fn name(&self) -> &str {
        "ual/auditLogQuery"
    }

    fn folder(&self) -> &str {
        "ual"
    }

    fn clip(&self, since: Ms, until: Ms) -> (Ms, Ms) {
        (since, until.min(self.until))
    }

    fn fetch(
        &self,
        cx: &Cx<'_>,
        w: Window,
        out: &mut WindowFile,
        got: &mut Got,
    ) -> Result<Fetch, Error> {
        let id = self.create(cx, w, got)?;
        let url = format!(
            "{}/beta/security/auditLog/queries/{id}/records?$top={}",
            cx.ep.graph, cx.limits.page_size
        );
        let mut n = 0u64;
        let r = graph_pages(cx, url, got, &mut |raw| {
            let rec: Record<'_> = serde_json::from_str(raw.get())
                .map_err(|e| Error::Http(format!("audit log record: {e}")))?;
            let inside = rec
                .created
                .as_deref()
                .and_then(|t| parse_utc(t).ok())
                .is_none_or(|t| t >= w.start && t < w.end);
            if let (true, Some(d)) = (inside, rec.audit_data) {
                n += 1;
                out.line(d.get().as_bytes())?;
            }
            Ok(())
        })?;
        got.records += n;
        Ok(r)
    }
}
