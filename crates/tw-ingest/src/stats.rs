//! What was read: per-file formats and counts, coverage (time range and gaps) per tenant and log
//! kind, and record errors with file and line. Everything merges commutatively or in file order, so
//! the report is the same whatever the thread count.

use std::collections::BTreeMap;

use serde::Serialize;
use tw_event::{LogKind, TenantSource, Timestamp};

/// Gap detection without keeping every timestamp: events fall into buckets as wide as the gap
/// threshold, each keeping its earliest and latest time, so any silence longer than the threshold
/// lies between the latest time of one bucket and the earliest of the next non-empty one.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Records counted.
    pub records: u64,
    /// bucket → (min, max) time in the bucket.
    buckets: BTreeMap<i64, (i64, i64)>,
    /// How the tenant id of these records was decided.
    pub sources: BTreeMap<TenantSource, u64>,
}

impl Coverage {
    /// Adds one event time.
    pub fn add(&mut self, t: i64, width: i64) {
        let b = t.div_euclid(width.max(1));
        let e = self.buckets.entry(b).or_insert((t, t));
        e.0 = e.0.min(t);
        e.1 = e.1.max(t);
    }

    /// Merges another coverage of the same key.
    pub fn merge(&mut self, o: Coverage) {
        self.records += o.records;
        for (b, (lo, hi)) in o.buckets {
            let e = self.buckets.entry(b).or_insert((lo, hi));
            e.0 = e.0.min(lo);
            e.1 = e.1.max(hi);
        }
        for (s, n) in o.sources {
            *self.sources.entry(s).or_default() += n;
        }
    }

    /// First time, last time and the gaps longer than `threshold` ms.
    pub fn summarize(&self, threshold: i64) -> (Option<Timestamp>, Option<Timestamp>, Vec<Gap>) {
        let first = self.buckets.values().next().map(|x| Timestamp(x.0));
        let last = self.buckets.values().next_back().map(|x| Timestamp(x.1));
        let mut gaps = Vec::new();
        let mut prev: Option<i64> = None;
        for (lo, hi) in self.buckets.values() {
            if let Some(p) = prev
                && lo - p > threshold
            {
                gaps.push(Gap {
                    from: Timestamp(p),
                    to: Timestamp(*lo),
                    hours: ((lo - p) as f64 / 3_600_000.0 * 10.0).round() / 10.0,
                });
            }
            prev = Some(*hi);
        }
        (first, last, gaps)
    }
}

/// A silence in the data longer than the threshold.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    /// Last event before the silence.
    pub from: Timestamp,
    /// First event after it.
    pub to: Timestamp,
    /// Its length in hours (one decimal).
    pub hours: f64,
}

/// One line of the coverage report.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    /// The tenant (`unknown` when it could not be decided).
    pub tenant_id: String,
    /// The log kind.
    pub log_kind: LogKind,
    /// Records with a time.
    pub records: u64,
    /// Earliest event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<Timestamp>,
    /// Latest event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Timestamp>,
    /// Silences longer than the threshold.
    pub gaps: Vec<Gap>,
    /// How the tenant id was decided, with counts.
    pub tenant_source: BTreeMap<TenantSource, u64>,
}

/// What became of one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as shown in provenance.
    pub path: String,
    /// `ok`, `partial` (some records rejected or the stream broke), `unrecognised`, `empty`,
    /// `unreadable`, `skipped` (not a regular file, or a second link to one already read).
    pub status: &'static str,
    /// The log kind, `mixed` when records of several kinds share the file, empty when unrecognised.
    pub log_kind: String,
    /// The physical format (`azure_monitor.mixed` for mixed diagnostic exports).
    pub format: String,
    /// Records found in the file: `read + rejected`.
    pub records: u64,
    /// Records turned into events.
    pub read: u64,
    /// Records rejected (each listed in `errors`, up to the listing limit).
    pub rejected: u64,
    /// Records read that carry no time.
    #[serde(skip_serializing_if = "is_zero")]
    pub untimed: u64,
    /// Records read but never decoded: a prefilter found no use for them.
    #[serde(skip_serializing_if = "is_zero")]
    pub prefiltered: u64,
    /// Records per format, when the file mixes several.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub formats: BTreeMap<String, u64>,
    /// Why the file is unrecognised, unreadable or incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A rejected record or a file problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordError {
    /// The file.
    pub path: String,
    /// 1-based line where the record starts (0 when the problem is the whole file).
    pub line: u64,
    /// 0-based record index, when the problem is a record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

/// The whole ingest report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct IngestReport {
    /// Every input, in input order.
    pub files: Vec<FileReport>,
    /// Coverage per tenant and log kind, sorted.
    pub coverage: Vec<CoverageRow>,
    /// Rejected records and file problems, in input order (at most the listing limit per file).
    pub errors: Vec<RecordError>,
    /// Errors counted but not listed (over the per-file listing limit).
    pub errors_not_listed: u64,
    /// Totals.
    pub totals: Totals,
    /// The gap threshold used, in hours.
    pub gap_threshold_hours: f64,
    /// How tenants without an id in their records were attributed, per export folder.
    pub attribution: Vec<Attribution>,
    /// Each tenant's name and where it came from (see [`crate::names`]), sorted by tenant id.
    pub tenant_names: Vec<crate::names::TenantName>,
    /// Things the reader should know that are no error of one file (conflicting tenant names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl IngestReport {
    /// Per tenant id (lower case), its name and where it came from.
    pub fn tenant_names(&self) -> BTreeMap<String, crate::names::TenantName> {
        self.tenant_names
            .iter()
            .map(|n| (n.tenant_id.clone(), n.clone()))
            .collect()
    }
}

/// Totals over all inputs.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Totals {
    /// Files listed.
    pub files: u64,
    /// Files whose format was not recognised.
    pub unrecognised_files: u64,
    /// Inputs deliberately not read: not regular files (FIFO, socket, device), or a second link
    /// to a folder or file already read.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_files: u64,
    /// Records found: `read + rejected`.
    pub records: u64,
    /// Records read.
    pub read: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Records read whose bytes a prefilter found no use for: counted in `read`, never decoded
    /// (so neither classified nor checked), absent from the per-kind and per-tenant counts.
    #[serde(skip_serializing_if = "is_zero")]
    pub prefiltered: u64,
    /// Records read per log kind.
    pub by_log_kind: BTreeMap<LogKind, u64>,
    /// Records read per tenant.
    pub by_tenant: BTreeMap<String, u64>,
}

/// How one export folder's tenant was decided for records that carry none.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attribution {
    /// The folder.
    pub folder: String,
    /// The tenant attributed, if one could be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `map`, `path`, `folder`, or `none`.
    pub method: String,
    /// In words.
    pub reason: String,
}
