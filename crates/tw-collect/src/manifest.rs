//! `DIR/<tenant>/collection.json`: the proof of what a run collected. Per source and window the
//! requested range, the records received, pages, retries, throttled seconds and errors; per source
//! and tenant whether everything requested was collected. Written when a tenant starts
//! (`complete: false`) and again when it ends, through a temporary file and a rename.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::store::WindowDone;
use crate::window::{Ms, format_utc};

/// File name in the tenant folder.
pub const COLLECTION_JSON: &str = "collection.json";

/// One window of one source.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WindowReport {
    /// First instant (UTC).
    pub start: String,
    /// First instant after (UTC).
    pub end: String,
    /// Collected completely.
    pub complete: bool,
    /// Taken from the checkpoint of an earlier run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
    /// Counts and file.
    #[serde(flatten)]
    pub done: WindowDone,
    /// Why the window is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One source of one tenant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct SourceReport {
    /// `signins/interactiveUser`, `directoryAudits`, `ual/Audit.Exchange`, …
    pub source: String,
    /// The range asked for.
    pub requested: Range,
    /// Every window collected.
    pub complete: bool,
    /// Records written.
    pub records: u64,
    /// Pages or content blobs read.
    pub pages: u64,
    /// Requests retried.
    pub retries: u64,
    /// Seconds waited on `Retry-After`.
    pub throttled_seconds: f64,
    /// Records served twice and dropped.
    pub duplicates: u64,
    /// Windows split because they reached a cap.
    pub splits: u64,
    /// What went wrong.
    pub errors: Vec<String>,
    /// The windows, in time order.
    pub windows: Vec<WindowReport>,
}

/// A time range in UTC text.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct Range {
    /// First instant.
    pub start: String,
    /// First instant after.
    pub end: String,
}

impl Range {
    /// `[start, end)`.
    pub fn new(start: Ms, end: Ms) -> Range {
        Range {
            start: format_utc(start),
            end: format_utc(end),
        }
    }
}

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct Collection {
    /// Tool and version.
    pub tool: String,
    /// Tenant id.
    pub tenant: String,
    /// The range asked for.
    pub requested: Range,
    /// Every source complete.
    pub complete: bool,
    /// Records written in all.
    pub records: u64,
    /// Requests retried in all.
    pub retries: u64,
    /// Seconds waited on `Retry-After` in all.
    pub throttled_seconds: f64,
    /// Errors of the tenant as a whole (no token, a source that could not start).
    #[serde(default)]
    pub errors: Vec<String>,
    /// The sources.
    pub sources: Vec<SourceReport>,
}

impl Collection {
    /// Reads a `collection.json`.
    pub fn read(path: &Path) -> Result<Collection, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
    }

    /// Log records collected (configuration collections left out: they are no log).
    pub fn log_records(&self) -> u64 {
        self.sources
            .iter()
            .filter(|s| !s.source.starts_with("config/"))
            .map(|s| s.records)
            .sum()
    }

    /// Sums the sources into the totals and `complete`.
    pub fn total(&mut self) {
        self.records = self.sources.iter().map(|s| s.records).sum();
        self.retries = self.sources.iter().map(|s| s.retries).sum();
        self.throttled_seconds = self.sources.iter().map(|s| s.throttled_seconds).sum();
        self.complete = self.errors.is_empty() && self.sources.iter().all(|s| s.complete);
    }

    /// Writes `dir/collection.json` through a temporary file.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let path = dir.join(COLLECTION_JSON);
        let tmp = dir.join(format!("{COLLECTION_JSON}.part"));
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| Error::Io(e.to_string()))?;
        text.push(b'\n');
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| Error::Io(format!("{}: {e}", path.display())))
    }
}

impl SourceReport {
    /// Adds a window's counts.
    pub fn add(&mut self, w: WindowReport) {
        self.records += w.done.records;
        self.pages += w.done.pages;
        self.retries += w.done.retries;
        self.throttled_seconds += w.done.throttled_seconds;
        self.duplicates += w.done.duplicates;
        if let Some(e) = &w.error {
            self.errors.push(format!("{}..{}: {e}", w.start, w.end));
        }
        self.windows.push(w);
    }
}
