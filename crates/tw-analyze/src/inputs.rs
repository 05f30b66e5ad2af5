//! What a run could not read of its inputs: the files not fully read (with status and reason)
//! and the records rejected (with file and line), taken from the reader's report. Every command
//! that reads logs shows it in its summary and JSON output; `blast` also in its letters and
//! manifest.

use serde::Serialize;
use tw_ingest::{IngestReport, RecordError};

/// A file not fully read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnreadFile {
    /// The path as shown in provenance.
    pub path: String,
    /// `partial`, `unrecognised`, `empty` or `unreadable` (see docs/ingest.md).
    pub status: String,
    /// Records of the file rejected.
    pub rejected: u64,
    /// Why the file was not (fully) read.
    pub reason: String,
}

/// What the inputs did not give.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct InputProblems {
    /// Files found under the paths given.
    pub files: u64,
    /// Records found in them (read + rejected).
    pub records: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Every file not fully read.
    pub files_not_read: Vec<UnreadFile>,
    /// Rejected records and file problems with file and line (line 0: the file as a whole), up to
    /// the reader's listing limit.
    pub errors: Vec<RecordError>,
    /// Errors beyond the listing limit (counted, not listed).
    pub errors_not_listed: u64,
}

impl InputProblems {
    /// The problems of a reader's report.
    pub fn of(report: &IngestReport) -> InputProblems {
        let files_not_read = report
            .files
            .iter()
            .filter(|f| f.status != "ok")
            .map(|f| UnreadFile {
                path: f.path.clone(),
                status: f.status.to_string(),
                rejected: f.rejected,
                reason: match (&f.note, f.rejected) {
                    (Some(n), _) => n.clone(),
                    (None, 0) => f.status.to_string(),
                    (None, n) => format!("{n} records rejected"),
                },
            })
            .collect();
        InputProblems {
            files: report.totals.files,
            records: report.totals.records,
            records_rejected: report.totals.rejected,
            files_not_read,
            errors: report.errors.clone(),
            errors_not_listed: report.errors_not_listed,
        }
    }

    /// True when every file was fully read.
    pub fn is_clean(&self) -> bool {
        self.files_not_read.is_empty() && self.records_rejected == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tw_ingest::FileReport;

    fn file(path: &str, status: &'static str, rejected: u64, note: Option<&str>) -> FileReport {
        FileReport {
            path: path.into(),
            status,
            log_kind: String::new(),
            format: String::new(),
            records: rejected,
            read: 0,
            rejected,
            untimed: 0,
            prefiltered: 0,
            formats: BTreeMap::new(),
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn files_not_fully_read_are_listed_with_their_reason() {
        let mut r = IngestReport::default();
        r.files.push(file("a.json", "ok", 0, None));
        r.files.push(file("b.json", "partial", 2, None));
        r.files
            .push(file("c.txt", "unrecognised", 0, Some("no known log")));
        r.totals.rejected = 2;
        let p = InputProblems::of(&r);
        assert!(!p.is_clean());
        let got: Vec<(&str, &str, &str)> = p
            .files_not_read
            .iter()
            .map(|f| (f.path.as_str(), f.status.as_str(), f.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("b.json", "partial", "2 records rejected"),
                ("c.txt", "unrecognised", "no known log")
            ]
        );
        assert!(InputProblems::default().is_clean());
    }
}
