//! The unified audit log through the Office 365 Management Activity API: the subscription of each
//! content type is started (an already enabled one is fine), content is listed in windows of at
//! most 24 hours within the last 7 days (`subscriptions/content`, following `NextPageUri`), and
//! every content blob is fetched. The API may deliver a record in more than one blob: records are
//! kept once by `Id` across the whole range (windows of an earlier run included, read back on
//! `--resume`). Each record is written as one JSON line, as served.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;
use crate::source::{Cx, Fetch, Got, Source, authed, graph_error, service_message};
use crate::store::WindowFile;
use crate::window::{Ms, Window, format_utc};

/// The content types collected.
pub const CONTENT_TYPES: &[&str] = &[
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
];

/// A record `Id`: a GUID kept as its 16 bytes (what the service writes), anything else as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum RecordId {
    Guid(u128),
    Text(Box<str>),
}

impl RecordId {
    fn of(id: &str) -> RecordId {
        let b = id.as_bytes();
        let dashes = b.len() == 36 && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-');
        let hex: String = id.chars().filter(|&c| c != '-').collect();
        match u128::from_str_radix(&hex, 16) {
            Ok(v) if dashes && hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()) => {
                RecordId::Guid(v)
            }
            _ => RecordId::Text(id.into()),
        }
    }
}

/// One content type's feed.
pub struct Feed {
    name: String,
    content_type: &'static str,
    from: Ms,
    started: OnceLock<Result<(), String>>,
    seen: Mutex<HashSet<RecordId>>,
}

#[cfg(test)]
mod tests {
    use super::RecordId;

    #[test]
    fn guids_are_kept_as_numbers_case_alike_and_other_ids_as_text() {
        let a = RecordId::of("5f1c1c86-1b0a-4ab8-9f6e-08dc3a4e7c11");
        assert!(matches!(a, RecordId::Guid(_)));
        assert_eq!(a, RecordId::of("5F1C1C86-1B0A-4AB8-9F6E-08DC3A4E7C11"));
        assert_ne!(a, RecordId::of("5f1c1c86-1b0a-4ab8-9f6e-08dc3a4e7c12"));
        assert!(matches!(
            RecordId::of("+5f1c1c86-1b0a-4ab8-9f6e-08dc3a4e7c1"),
            RecordId::Text(_)
        ));
        assert!(matches!(RecordId::of("abc"), RecordId::Text(_)));
    }
}

#[derive(Deserialize)]
struct Blob {
    #[serde(rename = "contentUri")]
    uri: String,
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(rename = "Id", borrow)]
    id: Option<&'a str>,
}

impl Feed {
    /// The feed of `content_type`, collected from `from` on.
    pub fn new(content_type: &'static str, from: Ms) -> Feed {
        Feed {
            name: format!("ual/{content_type}"),
            content_type,
            from,
            started: OnceLock::new(),
            seen: Mutex::new(HashSet::new()),
        }
    }

    fn base(&self, cx: &Cx<'_>) -> String {
        format!("{}/api/v1.0/{}/activity/feed", cx.ep.manage, cx.tenant)
    }

    /// Starts the subscription once per run.
    fn start(&self, cx: &Cx<'_>, got: &mut Got) -> Result<(), Error> {
        let r = self.started.get_or_init(|| {
            let url = format!(
                "{}/subscriptions/start?contentType={}",
                self.base(cx),
                self.content_type
            );
            match authed(cx, &cx.ep.manage, &url, Some(""), &mut got.tally) {
                Ok(r) if r.status == 200 || r.status == 201 => Ok(()),
                // AF20024: the subscription is already enabled.
                Ok(r) if service_message(&r.body).contains("AF20024") => Ok(()),
                Ok(r) => Err(graph_error(&url, &r).to_string()),
                Err(e) => Err(e.to_string()),
            }
        });
        r.clone().map_err(Error::Http)
    }

    /// Every content URI of window `w`.
    fn list(&self, cx: &Cx<'_>, w: Window, got: &mut Got) -> Result<Vec<String>, Error> {
        let t = |m: Ms| format_utc(m).trim_end_matches('Z').to_string();
        let mut url = format!(
            "{}/subscriptions/content?contentType={}&startTime={}&endTime={}",
            self.base(cx),
            self.content_type,
            t(w.start),
            t(w.end)
        );
        let mut uris = Vec::new();
        loop {
            let r = authed(cx, &cx.ep.manage, &url, None, &mut got.tally)?;
            if r.status != 200 {
                return Err(graph_error(&url, &r));
            }
            let blobs: Vec<Blob> = serde_json::from_str(&r.body)
                .map_err(|e| Error::Http(format!("content listing is no list of blobs ({e})")))?;
            uris.extend(blobs.into_iter().map(|b| b.uri));
            match r.next_page_uri {
                Some(n) if !n.is_empty() => url = n,
                _ => return Ok(uris),
            }
        }
    }
}

impl Source for Feed {
    fn name(&self) -> &str {
        &self.name
    }

    fn folder(&self) -> &str {
        "ual"
    }

    fn clip(&self, since: Ms, until: Ms) -> (Ms, Ms) {
        (since.max(self.from), until)
    }

    fn max_window(&self) -> Option<Ms> {
        Some(86_400_000)
    }

    fn wants_history(&self) -> bool {
        true
    }

    fn remember(&self, line: &[u8]) {
        if let Ok(IdOnly { id: Some(id) }) = serde_json::from_slice::<IdOnly<'_>>(line) {
            let mut s = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            s.insert(RecordId::of(id));
        }
    }

    fn fetch(
        &self,
        cx: &Cx<'_>,
        w: Window,
        out: &mut WindowFile,
        got: &mut Got,
    ) -> Result<Fetch, Error> {
        self.start(cx, got)?;
        let uris = self.list(cx, w, got)?;
        let mut local: HashSet<RecordId> = HashSet::new();
        for uri in uris {
            let r = authed(cx, &cx.ep.manage, &uri, None, &mut got.tally)?;
            if r.status != 200 {
                return Err(graph_error(&uri, &r));
            }
            let records: Vec<&RawValue> = serde_json::from_str(&r.body)
                .map_err(|e| Error::Http(format!("content blob is no list of records ({e})")))?;
            got.pages += 1;
            let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            for rec in records {
                let id = serde_json::from_str::<IdOnly<'_>>(rec.get())
                    .ok()
                    .and_then(|x| x.id);
                if let Some(id) = id
                    && let key = RecordId::of(id)
                    && (seen.contains(&key) || !local.insert(key))
                {
                    got.duplicates += 1;
                    continue;
                }
                out.line(rec.get().as_bytes())?;
                got.records += 1;
            }
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(local);
        Ok(Fetch::Complete)
    }
}
