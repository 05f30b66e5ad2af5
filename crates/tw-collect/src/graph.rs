//! The Graph log sources: sign-ins (`beta/auditLogs/signIns`, one source per `signInEventTypes`
//! value, since the default listing holds interactive sign-ins only), directory audits
//! (`v1.0/auditLogs/directoryAudits`) and risk detections (`v1.0/identityProtection/riskDetections`).
//! Each window is one `$filter` on the record time (`ge` start, `lt` end: windows never overlap),
//! paged with `@odata.nextLink`; each record is written as one JSON line, exactly as served.

use crate::Error;
use crate::auth::pct;
use crate::source::{Cx, Fetch, Got, Source, graph_pages};
use crate::store::WindowFile;
use crate::window::{Window, format_utc};

/// The sign-in event types (`signInEventTypes`).
pub const SIGNIN_TYPES: &[&str] = &[
    "interactiveUser",
    "nonInteractiveUser",
    "servicePrincipal",
    "managedIdentity",
];

/// A time-filtered Graph collection.
pub struct GraphLog {
    name: String,
    path: &'static str,
    time_field: &'static str,
    extra: Option<String>,
}

impl GraphLog {
    /// Sign-ins of one event type.
    pub fn signins(event_type: &str) -> GraphLog {
        GraphLog {
            name: format!("signins/{event_type}"),
            path: "beta/auditLogs/signIns",
            time_field: "createdDateTime",
            extra: Some(format!("signInEventTypes/any(t: t eq '{event_type}')")),
        }
    }

    /// Directory audits.
    pub fn directory_audits() -> GraphLog {
        GraphLog {
            name: "directoryAudits".into(),
            path: "v1.0/auditLogs/directoryAudits",
            time_field: "activityDateTime",
            extra: None,
        }
    }

    /// Risk detections.
    pub fn risk_detections() -> GraphLog {
        GraphLog {
            name: "riskDetections".into(),
            path: "v1.0/identityProtection/riskDetections",
            time_field: "detectedDateTime",
            extra: None,
        }
    }

    /// The first page's URL for window `w`.
    pub fn url(&self, graph: &str, w: Window, top: u32) -> String {
        let mut f = format!(
            "{t} ge {} and {t} lt {}",
            format_utc(w.start),
            format_utc(w.end),
            t = self.time_field
        );
        if let Some(x) = &self.extra {
            f.push_str(" and ");
            f.push_str(x);
        }
        format!("{graph}/{}?$filter={}&$top={top}", self.path, pct(&f))
    }
}

impl Source for GraphLog {
    fn name(&self) -> &str {
        &self.name
    }

    fn folder(&self) -> &str {
        "entra"
    }

    fn file_prefix(&self) -> String {
        self.name.replace("signins/", "signIns_")
    }

    fn fetch(
        &self,
        cx: &Cx<'_>,
        w: Window,
        out: &mut WindowFile,
        got: &mut Got,
    ) -> Result<Fetch, Error> {
        let url = self.url(&cx.ep.graph, w, cx.limits.page_size);
        let mut n = 0u64;
        let r = graph_pages(cx, url, got, &mut |rec| {
            n += 1;
            out.line(rec.get().as_bytes())
        })?;
        got.records += n;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_is_half_open_and_encoded() {
        let w = Window {
            start: 1_721_692_800_000,
            end: 1_721_779_200_000,
        };
        let u = GraphLog::signins("servicePrincipal").url("https://g", w, 999);
        assert!(u.starts_with("https://g/beta/auditLogs/signIns?$filter=createdDateTime%20ge%202024-07-23T00%3A00%3A00Z%20and%20createdDateTime%20lt%202024-07-24T00%3A00%3A00Z%20and%20signInEventTypes"), "{u}");
        assert!(u.ends_with("&$top=999"));
    }
}
