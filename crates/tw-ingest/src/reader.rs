//! The parallel, streaming reader: one thread opens inputs in order, detects each file's format and
//! splits it into batches of raw records; worker threads decode and normalize batches into events and
//! apply the caller's function; the calling thread puts results back in input order. Memory holds
//! a bounded number of batches, whatever the input size, and everything the caller sees arrives in
//! the same order whatever the thread count.

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde_json::Value;
use tw_event::{Event, Format, LogKind, Provenance, TenantSource};

use crate::attribution::{Attributed, attribute};
use crate::classify::{classify_json, clean_header};
use crate::csv_doc::{CsvColumns, CsvRow, Decoded, Depth, csv_cell, csv_format};
use crate::csv_rows::{CsvRows, Row, RowAt};
use crate::json_doc::{audit_data_record, decode_json_record, keys_of};
use crate::json_split::{JsonLayout, JsonSplitter, Piece};
use crate::names::NameTally;
use crate::normalize::document_is_audit_data;
use crate::progress::ReadProgress;
use crate::select::{Projection, parse_selected, selection};
use crate::sniff::{fill_prefix, looks_binary, skip_blank_lines, text_stream};
use crate::source::{Input, ListError, SourceLimits, list_inputs, open_counted};
use crate::stats::{Coverage, CoverageRow, FileReport, IngestReport, RecordError};

/// Options of a read.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Largest record kept, in bytes; larger ones are rejected.
    pub max_record_bytes: usize,
    /// Decompression limits.
    pub limits: SourceLimits,
    /// Silences longer than this (ms) are reported as gaps.
    pub gap_threshold_ms: i64,
    /// Force one format for every record (`--format-in`).
    pub format_in: Option<Format>,
    /// Folder → tenant id, from `--tenant-map`.
    pub tenant_map: Vec<(String, String)>,
    /// Tenant id → name, from `--tenant-map` lines that give one.
    pub tenant_names: Vec<(String, String)>,
    /// Errors listed per file (all are counted).
    pub max_errors_listed_per_file: usize,
    /// Records per batch.
    pub batch_records: usize,
    /// Parse JSON records through this projection (which must hold [`Projection::selection`])
    /// and keep what it parsed in each event's document (`Document::projected`), for readers
    /// that look up only some fields; `None`: the classification and canonical fields only.
    pub projection: Option<std::sync::Arc<Projection>>,
    /// Read only the listed inputs with these names ([`Input::display`]): a second look at part
    /// of data already read (tenants attributed as when every input is read; inputs that cannot
    /// be listed are not reported again). `None`: every input.
    pub only_inputs: Option<std::sync::Arc<std::collections::BTreeSet<String>>>,
    /// Counters of bytes, records and files read, for a caller that shows progress.
    pub progress: Option<Arc<ReadProgress>>,
    /// Keep each event's raw document (`Event::raw`); `false` for a caller that reads canonical
    /// fields only (`ingest --stats`): events then carry an empty document, and no record's text
    /// is copied for it. Records are read, classified and rejected the same either way.
    pub documents: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            max_record_bytes: 64 << 20,
            limits: SourceLimits::default(),
            gap_threshold_ms: 24 * 3_600_000,
            format_in: None,
            tenant_map: Vec::new(),
            tenant_names: Vec::new(),
            max_errors_listed_per_file: 100,
            batch_records: 1024,
            projection: None,
            only_inputs: None,
            progress: None,
            documents: true,
        }
    }
}

/// Batch buffers handed back by the workers for reuse (no fresh pages per batch, no cell ends
/// grown again for each batch of CSV rows).
type Pool = (Sender<Buffers>, Receiver<Buffers>);

/// A batch's buffers: its records' bytes and its CSV cells' ends.
type Buffers = (Vec<u8>, Vec<usize>);

/// Bytes of a batch buffer: batches flush at 4 MiB, plus room for the record that crosses it.
const BATCH_BUF: usize = (4 << 20) + (256 << 10);

/// Per-file context shared by the batches of that file.
pub(crate) struct FileCtx {
    display: Arc<str>,
    /// A CSV file's columns.
    csv: Option<Arc<CsvColumns>>,
    /// In a CSV file whose document is one JSON cell (Purview's `AuditData`): its column.
    json_cell: Option<usize>,
    /// Format of every record (CSV, forced), or `None` to classify each JSON record.
    pub(crate) fixed: Option<Format>,
    default_tenant: Option<(String, TenantSource)>,
    /// Count the tenants the records name themselves ([`BatchOut::named`]): the file's folder
    /// was proven to name several tenants before attribution read all of it.
    count_named: bool,
    /// The first record's format in a JSON file of one Log Analytics table: rows a query projected
    /// down to too few columns to be recognised belong to the same table.
    pub(crate) fallback: std::sync::OnceLock<Format>,
}

impl FileCtx {
    /// The context of a JSON file: records classified one by one unless `fixed`.
    pub(crate) fn json(
        display: Arc<str>,
        fixed: Option<Format>,
        default_tenant: Option<(String, TenantSource)>,
    ) -> FileCtx {
        FileCtx {
            display,
            csv: None,
            json_cell: None,
            fixed,
            default_tenant,
            count_named: false,
            fallback: Default::default(),
        }
    }
}

/// The tenant a file's records get when they carry none, and whether the tenants they name
/// themselves are counted (see [`crate::attribution`]).
#[derive(Clone, Default)]
pub(crate) struct FileTenant {
    pub(crate) default: Option<(String, TenantSource)>,
    pub(crate) count_named: bool,
}

enum Item {
    Json {
        start: usize,
        end: usize,
        index: u64,
        line: u64,
    },
    /// A CSV row: its cells one after the other in `buf[start..end]`, their ends (from `start`)
    /// in `cell_ends[cells.0..cells.1]` of the batch.
    Csv {
        start: usize,
        end: usize,
        cells: (usize, usize),
        index: u64,
        line: u64,
    },
    Bad {
        index: u64,
        line: u64,
        reason: String,
    },
}

struct Batch {
    file: usize,
    seq: u64,
    ctx: Arc<FileCtx>,
    buf: Vec<u8>,
    /// Ends of the CSV rows' cells ([`Item::Csv`]).
    cell_ends: Vec<usize>,
    items: Vec<Item>,
}

/// What a worker made of a batch.
struct BatchOut<T> {
    file: usize,
    seq: u64,
    outputs: Vec<T>,
    read: u64,
    rejected: u64,
    untimed: u64,
    prefiltered: u64,
    errors: Vec<RecordError>,
    formats: BTreeMap<Format, u64>,
    coverage: BTreeMap<(String, LogKind), Coverage>,
    names: NameTally,
    /// The tenants the records name themselves (record or resource path), in files whose
    /// context counts them.
    named: std::collections::BTreeSet<String>,
}

/// The file's outcome as the reading thread saw it.
struct FileEnd {
    file: usize,
    batches: u64,
    status: Option<&'static str>,
    format_label: Option<String>,
    note: Option<String>,
    file_errors: Vec<RecordError>,
}

impl FileEnd {
    /// The file could not be read as a log: its status and why (unreadable ones are errors too).
    fn fail(&mut self, path: &str, status: &'static str, reason: String) {
        self.status = Some(status);
        self.note = Some(reason.clone());
        if status == "unreadable" {
            self.file_errors.push(RecordError {
                path: path.to_string(),
                line: 0,
                record: None,
                reason,
            });
        }
    }

    /// The stream broke after `records` records (truncated `.gz`, read error).
    fn broken(&mut self, path: &str, records: u64, e: io::Error) {
        self.note = Some(format!("stream broken after {records} records: {e}"));
        self.file_errors.push(RecordError {
            path: path.to_string(),
            line: 0,
            record: None,
            reason: format!("stream broken: {e}"),
        });
    }
}

enum Msg<T> {
    Batch(BatchOut<T>),
    End(FileEnd),
}

/// Reads every input under `paths`. `map` runs on worker threads for each event and may push any
/// number of outputs; `sink` receives them on the calling thread in input order.
pub fn ingest<T, M, S>(paths: &[PathBuf], opts: &IngestOptions, map: M, sink: S) -> IngestReport
where
    T: Send,
    M: Fn(&Event, &mut Vec<T>) + Sync,
    S: FnMut(T),
{
    let (inputs, list_errors) = list_inputs(paths, &opts.limits);
    ingest_inputs(inputs, list_errors, opts, map, sink)
}

/// A record's bytes as a prefilter sees them, before any decoding.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    /// One JSON record's text; a CSV row's cells unquoted and concatenated; or, in a CSV file whose
    /// document is one JSON cell (Purview's `AuditData`), that cell (`spells_keys` then true).
    pub bytes: &'a [u8],
    /// True for JSON text (field names are spelled out in it), false for a CSV row (they are in
    /// the header only).
    pub spells_keys: bool,
    /// The record's format when known before decoding (CSV files, `--format-in`).
    pub format: Option<Format>,
    /// True when a record the classifier does not recognise takes the file's first format
    /// (Log Analytics JSON rows projected down to a few columns): its content may then not say
    /// what it is.
    pub falls_back: bool,
    /// The input it is read from, as named in provenance ([`Input::display`]).
    pub source: &'a str,
    /// Its 0-based record index in that input, as in provenance.
    pub record: u64,
    /// A CSV row's columns, to find a cell's place in `bytes` (`None` for JSON text).
    pub columns: Option<RawColumns<'a>>,
}

/// Where each cell of a CSV row lies in [`RawRecord::bytes`], by column name.
#[derive(Clone, Copy, Debug)]
pub struct RawColumns<'a> {
    header: &'a [String],
    /// The end of each cell in the row's bytes.
    ends: &'a [usize],
}

impl<'a> RawColumns<'a> {
    /// The columns `header` of a row whose cell `i` ends at byte `ends[i]` of its bytes.
    pub fn new(header: &'a [String], ends: &'a [usize]) -> RawColumns<'a> {
        RawColumns { header, ends }
    }

    /// The byte range in the row of the cell of the column named `name` (ASCII case ignored; the
    /// first such column).
    pub fn cell(&self, name: &str) -> Option<std::ops::Range<usize>> {
        let i = self
            .header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))?;
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        Some(start..end)
    }
}

/// Like [`ingest`], with a prefilter: `pre` runs on worker threads on each record's bytes before
/// it is decoded; `None` means no use for the record (it is counted as read and prefiltered, and
/// never decoded), `Some(k)` hands `k` to `map` with the decoded event.
pub fn ingest_prefiltered<T, K, P, M, S>(
    paths: &[PathBuf],
    opts: &IngestOptions,
    pre: P,
    map: M,
    sink: S,
) -> IngestReport
where
    T: Send,
    P: Fn(RawRecord<'_>) -> Option<K> + Sync,
    M: Fn(&Event, K, &mut Vec<T>) + Sync,
    S: FnMut(T),
{
    let (inputs, list_errors) = list_inputs(paths, &opts.limits);
    run(inputs, list_errors, opts, &pre, &map, sink)
}

/// Reads inputs already listed (see [`crate::source::list_inputs`], [`Input::from_bytes`]); inputs
/// that could not be listed are reported as unreadable.
pub fn ingest_inputs<T, M, S>(
    inputs: Vec<Input>,
    list_errors: Vec<ListError>,
    opts: &IngestOptions,
    map: M,
    sink: S,
) -> IngestReport
where
    T: Send,
    M: Fn(&Event, &mut Vec<T>) + Sync,
    S: FnMut(T),
{
    run(
        inputs,
        list_errors,
        opts,
        &|_: RawRecord<'_>| Some(()),
        &|ev: &Event, (), out: &mut Vec<T>| map(ev, out),
        sink,
    )
}

fn run<T, K, P, M, S>(
    inputs: Vec<Input>,
    list_errors: Vec<ListError>,
    opts: &IngestOptions,
    pre: &P,
    map: &M,
    mut sink: S,
) -> IngestReport
where
    T: Send,
    P: Fn(RawRecord<'_>) -> Option<K> + Sync + ?Sized,
    M: Fn(&Event, K, &mut Vec<T>) + Sync + ?Sized,
    S: FnMut(T),
{
    // With `only_inputs`, tenants are still attributed over every input listed.
    let selected = |i: &Input| {
        opts.only_inputs
            .as_ref()
            .is_none_or(|only| only.contains(&i.display))
    };
    if let Some(p) = &opts.progress {
        p.begin(
            inputs.iter().filter(|i| selected(i)),
            opts.only_inputs.is_some(),
        );
    }
    let Attributed {
        defaults,
        notes: attribution,
        several,
    } = attribute(&inputs, opts, &selected);
    let (inputs, defaults, list_errors) = if opts.only_inputs.is_some() {
        let (inputs, defaults): (Vec<Input>, Vec<_>) = inputs
            .into_iter()
            .zip(defaults)
            .filter(|(i, _)| selected(i))
            .unzip();
        (inputs, defaults, Vec::new())
    } else {
        (inputs, defaults, list_errors)
    };
    let threads = opts.threads.max(1);
    let depth = read_depth(opts);
    let (work_tx, work_rx) = bounded::<Batch>(threads * 2);
    let pool: Pool = bounded(threads * 4 + 4);
    // Bounded: a caller whose sink is slower than the workers holds them back (the collecting
    // loop always drains the channel into its reorder map, so a full channel cannot block it).
    let (res_tx, res_rx) = bounded::<Msg<T>>(threads * 2 + 2);
    let mut report = IngestReport {
        gap_threshold_hours: opts.gap_threshold_ms as f64 / 3_600_000.0,
        attribution,
        ..Default::default()
    };

    let mut seen = BTreeMap::new();
    std::thread::scope(|scope| {
        let inputs_ref = &inputs;
        let defaults_ref = &defaults;
        let several_ref = &several;
        let res_tx_reader = res_tx.clone();
        let pool_rx = pool.1.clone();
        scope.spawn(move || {
            for (i, input) in inputs_ref.iter().enumerate() {
                let default = defaults_ref.get(i).cloned().flatten();
                // The files the folder scan read: those with no tenant from the map or path.
                let count_named = default.is_none() && several_ref.contains_key(&input.folder);
                let tenant = FileTenant {
                    default,
                    count_named,
                };
                let end = read_file(i, input, opts, tenant, &work_tx, Some(&pool_rx));
                if res_tx_reader.send(Msg::End(end)).is_err() {
                    return;
                }
            }
            drop(work_tx);
        });
        for _ in 0..threads {
            let rx: Receiver<Batch> = work_rx.clone();
            let tx: Sender<Msg<T>> = res_tx.clone();
            let recycle = pool.0.clone();
            scope.spawn(move || {
                for batch in rx.iter() {
                    let (out, mut buf) = process_batch(batch, opts, depth, pre, map);
                    buf.0.clear();
                    buf.1.clear();
                    let _ = recycle.try_send(buf);
                    if tx.send(Msg::Batch(out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        drop(work_rx);
        seen = collect(&inputs, opts, res_rx, &mut sink, &mut report);
    });
    // A second look at some inputs does not see every record of their folders.
    let complete = opts.only_inputs.is_none();
    crate::attribution::finish(&mut report.attribution, several, &seen, complete);

    add_list_errors(&mut report, list_errors);
    report
}

/// How deep the main read decodes records: documents only for callers that want them.
fn read_depth(opts: &IngestOptions) -> Depth {
    if opts.documents {
        Depth::Full
    } else {
        Depth::Canonical
    }
}

/// Reports the inputs that could not be listed and counts files by status.
fn add_list_errors(report: &mut IngestReport, list_errors: Vec<ListError>) {
    for e in list_errors {
        let status = if e.skipped { "skipped" } else { "unreadable" };
        report.files.push(FileReport {
            path: e.path.clone(),
            status,
            log_kind: String::new(),
            format: String::new(),
            records: 0,
            read: 0,
            rejected: 0,
            untimed: 0,
            prefiltered: 0,
            formats: BTreeMap::new(),
            note: Some(e.reason.clone()),
        });
        if e.skipped {
            report.totals.skipped_files += 1;
            continue;
        }
        report.errors.push(RecordError {
            path: e.path,
            line: 0,
            record: None,
            reason: e.reason,
        });
    }
    report.totals.files = report.files.len() as u64;
    report.totals.skipped_files = report
        .files
        .iter()
        .filter(|f| f.status == "skipped")
        .count() as u64;
    report.totals.unrecognised_files = report
        .files
        .iter()
        .filter(|f| f.status == "unrecognised")
        .count() as u64;
}

/// Puts worker results back in input order and folds them into the report. Returns, per
/// folder, what the read saw of the tenants its records name ([`FolderSeen`]).
fn collect<T, S: FnMut(T)>(
    inputs: &[Input],
    opts: &IngestOptions,
    rx: Receiver<Msg<T>>,
    sink: &mut S,
    report: &mut IngestReport,
) -> BTreeMap<String, FolderSeen> {
    let mut seen: BTreeMap<String, FolderSeen> = BTreeMap::new();
    let mut pending: BTreeMap<(usize, u64), BatchOut<T>> = BTreeMap::new();
    let mut ends: BTreeMap<usize, FileEnd> = BTreeMap::new();
    let mut next_file = 0usize;
    let mut next_seq = 0u64;
    let mut cur = FileAcc::default();
    let mut coverage: BTreeMap<(String, LogKind), Coverage> = BTreeMap::new();
    let mut names = NameTally::default();
    let mut file_tenants: BTreeMap<(usize, String), u64> = BTreeMap::new();
    for msg in rx.iter() {
        match msg {
            Msg::Batch(b) => {
                if let Some(p) = &opts.progress {
                    p.add_records(b.read);
                }
                pending.insert((b.file, b.seq), b);
            }
            Msg::End(e) => {
                ends.insert(e.file, e);
            }
        }
        loop {
            if let Some(b) = pending.remove(&(next_file, next_seq)) {
                next_seq += 1;
                cur.read += b.read;
                cur.rejected += b.rejected;
                cur.untimed += b.untimed;
                cur.prefiltered += b.prefiltered;
                for (f, n) in b.formats {
                    *cur.formats.entry(f).or_default() += n;
                }
                for e in b.errors {
                    if cur.listed < opts.max_errors_listed_per_file {
                        cur.listed += 1;
                        report.errors.push(e);
                    } else {
                        report.errors_not_listed += 1;
                    }
                }
                names.merge(b.names);
                cur.named.extend(b.named);
                for (k, c) in b.coverage {
                    *file_tenants.entry((b.file, k.0.clone())).or_default() += c.records;
                    *report.totals.by_tenant.entry(k.0.clone()).or_default() += c.records;
                    *report.totals.by_log_kind.entry(k.1).or_default() += c.records;
                    coverage.entry(k).or_default().merge(c);
                }
                for o in b.outputs {
                    sink(o);
                }
                continue;
            }
            if ends.get(&next_file).is_some_and(|e| e.batches == next_seq) {
                if let Some(e) = ends.remove(&next_file) {
                    let mut acc = std::mem::take(&mut cur);
                    let folder = seen.entry(inputs[next_file].folder.clone()).or_default();
                    folder.tenants.append(&mut acc.named);
                    folder.prefiltered += acc.prefiltered;
                    finish_file(&inputs[next_file], e, acc, report);
                }
                if let Some(p) = &opts.progress {
                    p.file_done();
                }
                next_file += 1;
                next_seq = 0;
                continue;
            }
            break;
        }
    }
    let folders = crate::names::folder_labels(inputs, &file_tenants);
    let (tenant_names, warnings) = crate::names::decide(&names, &opts.tenant_names, &folders);
    report.tenant_names = tenant_names;
    report.warnings.extend(warnings);
    for ((tenant, kind), c) in coverage {
        let (first, last, gaps) = c.summarize(opts.gap_threshold_ms);
        report.coverage.push(CoverageRow {
            tenant_id: tenant,
            log_kind: kind,
            records: c.records,
            first,
            last,
            gaps,
            tenant_source: c.sources,
        });
    }
    seen
}

/// What the read saw of a folder: the tenants its records name themselves (in files whose
/// context counts them), and how many of its records it left undecoded.
#[derive(Default)]
pub(crate) struct FolderSeen {
    pub(crate) tenants: std::collections::BTreeSet<String>,
    pub(crate) prefiltered: u64,
}

#[derive(Default)]
struct FileAcc {
    read: u64,
    rejected: u64,
    untimed: u64,
    prefiltered: u64,
    listed: usize,
    formats: BTreeMap<Format, u64>,
    named: std::collections::BTreeSet<String>,
}

fn finish_file(input: &Input, e: FileEnd, acc: FileAcc, report: &mut IngestReport) {
    let kinds: std::collections::BTreeSet<LogKind> =
        acc.formats.keys().map(|f| f.log_kind()).collect();
    let (log_kind, format) = match (acc.formats.len(), kinds.len()) {
        (0, _) => (String::new(), e.format_label.clone().unwrap_or_default()),
        (1, _) => {
            let f = acc
                .formats
                .keys()
                .next()
                .copied()
                .unwrap_or(Format::GenericJson);
            (f.log_kind().as_str().to_string(), f.as_str().to_string())
        }
        (_, 1) => {
            let k = kinds.iter().next().copied().unwrap_or(LogKind::Generic);
            (k.as_str().to_string(), "mixed".to_string())
        }
        _ => {
            let azure = acc
                .formats
                .keys()
                .all(|f| f.as_str().ends_with(".azure_monitor"));
            (
                "mixed".to_string(),
                if azure {
                    "azure_monitor.mixed"
                } else {
                    "mixed"
                }
                .to_string(),
            )
        }
    };
    let (log_kind, format) = if log_kind.is_empty() && e.status.is_none() && acc.rejected > 0 {
        // every record rejected: still say what the file was detected as
        (String::new(), e.format_label.clone().unwrap_or(format))
    } else {
        (log_kind, format)
    };
    let status = e
        .status
        .unwrap_or(if acc.rejected > 0 || !e.file_errors.is_empty() {
            "partial"
        } else {
            "ok"
        });
    let formats = if acc.formats.len() > 1 {
        acc.formats
            .iter()
            .map(|(f, n)| (f.as_str().to_string(), *n))
            .collect()
    } else {
        BTreeMap::new()
    };
    report.totals.records += acc.read + acc.rejected;
    report.totals.read += acc.read;
    report.totals.rejected += acc.rejected;
    report.totals.prefiltered += acc.prefiltered;
    report.files.push(FileReport {
        path: input.display.clone(),
        status,
        log_kind,
        format,
        records: acc.read + acc.rejected,
        read: acc.read,
        rejected: acc.rejected,
        untimed: acc.untimed,
        prefiltered: acc.prefiltered,
        formats,
        note: e.note,
    });
    report.errors.extend(e.file_errors);
}

/// Sequentially reads one input, calling `f` with what `map` makes of each event until it
/// returns false (used by attribution), at [`Depth::TimeAndTenant`]. A record `skip` returns
/// true for (given its text and whether its file is JSON) is not decoded, never seen by `map`.
pub(crate) fn each_record<T>(
    input: &Input,
    opts: &IngestOptions,
    skip: &dyn Fn(RawRecord<'_>, bool) -> bool,
    map: &(dyn Fn(&Event, &mut Vec<T>) + Sync),
    f: &mut dyn FnMut(T) -> bool,
) -> io::Result<()> {
    let (tx, rx) = bounded::<Batch>(2);
    // Batch buffers go back to the reading thread: no fresh pages per batch.
    let (recycle, reuse): Pool = bounded(4);
    std::thread::scope(|s| {
        s.spawn(move || {
            let _ = read_file(0, input, opts, FileTenant::default(), &tx, Some(&reuse));
        });
        let rx = rx;
        'batches: for batch in rx.iter() {
            let json_file = batch.ctx.csv.is_none();
            let pre = |r: RawRecord<'_>| (!skip(r, json_file)).then_some(());
            let keep = |ev: &Event, (), o: &mut Vec<T>| map(ev, o);
            // Attribution looks at times and tenants only.
            let (out, mut buf) = process_batch(batch, opts, Depth::TimeAndTenant, &pre, &keep);
            buf.0.clear();
            buf.1.clear();
            let _ = recycle.try_send(buf);
            for x in out.outputs {
                if !f(x) {
                    break 'batches;
                }
            }
        }
        // The reader stops at its next batch: nobody takes it.
        drop(rx);
    });
    Ok(())
}

/// Reads one input into batches. Returns how the file ended.
fn read_file(
    file: usize,
    input: &Input,
    opts: &IngestOptions,
    tenant: FileTenant,
    tx: &Sender<Batch>,
    pool: Option<&Receiver<Buffers>>,
) -> FileEnd {
    let mut end = FileEnd {
        file,
        batches: 0,
        status: None,
        format_label: None,
        note: None,
        file_errors: Vec::new(),
    };
    let fail = |end: &mut FileEnd, status: &'static str, reason: String| {
        end.fail(&input.display, status, reason)
    };
    let stream = match open_counted(input, &opts.limits, opts.progress.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            fail(&mut end, "unreadable", format!("cannot open: {e}"));
            return end;
        }
    };
    let (mut br, utf16) = match text_stream(stream) {
        Ok(x) => x,
        Err(e) => {
            fail(&mut end, "unreadable", format!("cannot read: {e}"));
            return end;
        }
    };
    // Blank lines before the first record are skipped whatever their number; the records keep
    // their lines.
    let first_line = match skip_blank_lines(&mut br) {
        Ok(n) => n + 1,
        Err(e) => {
            fail(&mut end, "unreadable", format!("cannot read: {e}"));
            return end;
        }
    };
    let br = match fill_prefix(br) {
        Ok(h) => h,
        Err(e) => {
            fail(&mut end, "unreadable", format!("cannot read: {e}"));
            return end;
        }
    };
    let body = br.head();
    let Some(first) = body.iter().copied().find(|b| !b.is_ascii_whitespace()) else {
        fail(&mut end, "empty", "empty file".into());
        return end;
    };
    if looks_binary(body) {
        fail(&mut end, "unrecognised", "binary content".into());
        return end;
    }
    end.note = utf16.then(|| "UTF-16 text, read as UTF-8".to_string());
    let display: Arc<str> = Arc::from(input.display.as_str());
    let mut sender = BatchSender {
        file,
        tx,
        seq: 0,
        cur: None,
        batch_records: opts.batch_records,
        pool,
        closed: false,
    };
    let forced = opts.format_in;
    let result = if first == b'{' || first == b'[' {
        let layout = json_layout(body);
        let ctx = Arc::new(FileCtx {
            count_named: tenant.count_named,
            ..FileCtx::json(display, forced, tenant.default)
        });
        read_json(br, layout, first_line, ctx, opts, &mut sender, &mut end)
    } else if forced == Some(Format::GenericJson) {
        fail(
            &mut end,
            "unrecognised",
            "not JSON (--format-in json)".into(),
        );
        return end;
    } else {
        read_csv(br, display, tenant, opts, first_line, &mut sender, &mut end)
    };
    if let Err(e) = result {
        end.broken(&input.display, sender.count(), e);
    }
    sender.flush();
    end.batches = sender.seq;
    end
}

/// JSON lines when the first line is one complete object that is not a Graph page or records blob.
fn json_layout(body: &[u8]) -> JsonLayout {
    let Some(nl) = memchr::memchr2(b'\n', b'\r', body) else {
        return JsonLayout::Structured;
    };
    let line = body[..nl].trim_ascii();
    if !(line.starts_with(b"{") && line.ends_with(b"}")) {
        return JsonLayout::Structured;
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => {
            let wrapper = ["value", "records"]
                .iter()
                .any(|k| o.get(*k).is_some_and(Value::is_array))
                && o.keys().all(|k| {
                    k == "value" || k == "records" || k == "nextLink" || k.starts_with("@odata")
                });
            if wrapper {
                JsonLayout::Structured
            } else {
                JsonLayout::Lines
            }
        }
        _ => JsonLayout::Structured,
    }
}

struct BatchSender<'a> {
    file: usize,
    tx: &'a Sender<Batch>,
    seq: u64,
    cur: Option<Batch>,
    batch_records: usize,
    pool: Option<&'a Receiver<Buffers>>,
    /// Nobody takes batches any more: reading stops.
    closed: bool,
}

impl BatchSender<'_> {
    fn batch(&mut self, ctx: &Arc<FileCtx>) -> &mut Batch {
        let file = self.file;
        let seq = self.seq;
        let pool = self.pool;
        let batch_records = self.batch_records.min(1 << 16);
        self.cur.get_or_insert_with(|| {
            let (buf, cell_ends) = pool
                .and_then(|p| p.try_recv().ok())
                .unwrap_or_else(|| (Vec::with_capacity(BATCH_BUF), Vec::new()));
            Batch {
                file,
                seq,
                ctx: ctx.clone(),
                buf,
                cell_ends,
                items: Vec::with_capacity(batch_records),
            }
        })
    }
    fn maybe_flush(&mut self) {
        if self
            .cur
            .as_ref()
            .is_some_and(|b| b.items.len() >= self.batch_records || b.buf.len() >= (4 << 20))
        {
            self.flush();
        }
    }
    fn flush(&mut self) {
        if let Some(b) = self.cur.take() {
            self.seq += 1;
            self.closed |= self.tx.send(b).is_err();
        }
    }
    fn count(&self) -> u64 {
        self.seq * self.batch_records as u64 + self.cur.as_ref().map_or(0, |b| b.items.len() as u64)
    }
}

fn read_json<R: BufRead>(
    br: R,
    layout: JsonLayout,
    first_line: u64,
    ctx: Arc<FileCtx>,
    opts: &IngestOptions,
    out: &mut BatchSender<'_>,
    end: &mut FileEnd,
) -> io::Result<()> {
    let mut sp = JsonSplitter::new(br, layout, opts.max_record_bytes).starting_at_line(first_line);
    let mut index = 0u64;
    let mut checked_first = ctx.fixed.is_some();
    loop {
        // Records are split straight into the batch buffer: no copy.
        let b = out.batch(&ctx);
        let start = b.buf.len();
        let Some(piece) = sp.next_piece(&mut b.buf)? else {
            break;
        };
        match piece {
            Piece::Record { line } => {
                let end_at = b.buf.len();
                if !checked_first {
                    // The first record decides whether the file is a log we know at all.
                    checked_first = true;
                    match parse_selected(&b.buf[start..end_at], selection()) {
                        Ok(v) => {
                            let first = classify_json(&v);
                            if let Some(f) = first
                                && (f.as_str().ends_with(".log_analytics_json")
                                    || f == Format::DefenderJson)
                            {
                                let _ = ctx.fallback.set(f);
                            }
                            if first.is_none() {
                                end.status = Some("unrecognised");
                                end.format_label = Some("json".into());
                                let full = serde_json::from_slice::<Value>(&b.buf[start..end_at])
                                    .unwrap_or(Value::Null);
                                end.note = Some(format!(
                                    "JSON, but no known log shape (first record's keys: {})",
                                    keys_of(&full)
                                ));
                                if let Some(what) = crate::collected::not_a_log(&full) {
                                    end.status = Some("skipped");
                                    end.note = Some(what.to_string());
                                }
                                out.cur = None;
                                return Ok(());
                            }
                        }
                        Err(_) => {
                            // a broken first record: the worker reports it; classify the next one
                            checked_first = false;
                        }
                    }
                }
                b.items.push(Item::Json {
                    start,
                    end: end_at,
                    index,
                    line,
                });
            }
            Piece::Bad { line, reason } => {
                b.items.push(Item::Bad {
                    index,
                    line,
                    reason,
                });
            }
            Piece::Trailing { line, reason } => {
                end.file_errors.push(RecordError {
                    path: ctx.display.to_string(),
                    line,
                    record: None,
                    reason,
                });
                continue;
            }
        }
        index += 1;
        out.maybe_flush();
        if out.closed {
            break;
        }
    }
    Ok(())
}

fn read_csv<R: BufRead>(
    br: R,
    display: Arc<str>,
    tenant: FileTenant,
    opts: &IngestOptions,
    first_line: u64,
    out: &mut BatchSender<'_>,
    end: &mut FileEnd,
) -> io::Result<()> {
    let mut rows = CsvRows::new(br, opts.max_record_bytes, first_line);
    let header: Vec<String> = match rows.next_row()? {
        Some(Row::Record { rec, .. }) => match rec
            .iter()
            .map(|c| std::str::from_utf8(c).map(clean_header))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(v) => v,
            Err(_) => {
                end.status = Some("unrecognised");
                end.note = Some("not UTF-8 text".into());
                return Ok(());
            }
        },
        Some(Row::TooLong { .. }) => {
            end.status = Some("unrecognised");
            end.note = Some(format!(
                "neither JSON nor CSV: a first line longer than the limit of {} bytes",
                opts.max_record_bytes
            ));
            return Ok(());
        }
        None => {
            end.status = Some("empty");
            end.note = Some("empty file".into());
            return Ok(());
        }
    };
    let first = rows.next_row()?;
    let Some(format) = csv_format(&header, first.as_ref(), opts) else {
        end.status = Some("unrecognised");
        end.format_label = Some("csv?".into());
        end.note = Some(format!(
            "text that is no known log or table (first line: {})",
            header.join(",").chars().take(80).collect::<String>()
        ));
        return Ok(());
    };
    end.format_label = Some(format.as_str().to_string());
    let json_cell = document_is_audit_data(format)
        .then(|| header.iter().position(|h| h == "AuditData"))
        .flatten();
    let width = header.len();
    let ctx = Arc::new(FileCtx {
        display,
        json_cell,
        csv: Some(CsvColumns::shared(header, opts.projection.as_ref())),
        fixed: Some(format),
        default_tenant: tenant.default,
        count_named: tenant.count_named,
        fallback: Default::default(),
    });
    let mut index = 0u64;
    if let Some(row) = first {
        let b = out.batch(&ctx);
        let (start, cells_from) = (b.buf.len(), b.cell_ends.len());
        let row = match row {
            Row::Record { rec, line } => {
                b.buf.extend_from_slice(rec.as_slice());
                let mut at = 0;
                for cell in &rec {
                    at += cell.len();
                    b.cell_ends.push(at);
                }
                RowAt::Record {
                    line,
                    cells: rec.len(),
                }
            }
            Row::TooLong { line } => RowAt::TooLong { line },
        };
        let item = csv_item(row, (start, cells_from), b, index, width, opts);
        b.items.push(item);
        index += 1;
        out.maybe_flush();
    }
    while !out.closed {
        let b = out.batch(&ctx);
        let (start, cells_from) = (b.buf.len(), b.cell_ends.len());
        let Some(row) = rows.next_row_into(&mut b.buf, &mut b.cell_ends)? else {
            break;
        };
        let item = csv_item(row, (start, cells_from), b, index, width, opts);
        b.items.push(item);
        index += 1;
        out.maybe_flush();
    }
    Ok(())
}

/// A CSV row appended to batch `b` from `(start, cells_from)` on, as a batch item: kept, or
/// rejected for its size or its number of cells (its bytes then dropped from the batch).
fn csv_item(
    row: RowAt,
    (start, cells_from): (usize, usize),
    b: &mut Batch,
    index: u64,
    width: usize,
    opts: &IngestOptions,
) -> Item {
    match row {
        RowAt::Record { line, cells } if cells == width => Item::Csv {
            start,
            end: b.buf.len(),
            cells: (cells_from, b.cell_ends.len()),
            index,
            line,
        },
        RowAt::Record { line, cells } => {
            b.buf.truncate(start);
            b.cell_ends.truncate(cells_from);
            Item::Bad {
                index,
                line,
                reason: format!("row has {cells} fields, the header {width} (bad quoting?)"),
            }
        }
        RowAt::TooLong { line } => Item::Bad {
            index,
            line,
            reason: format!(
                "row longer than the limit of {} bytes (--max-record-mib)",
                opts.max_record_bytes
            ),
        },
    }
}

/// Decodes a CSV row ([`crate::csv_doc`]).
fn csv_record(
    row: CsvRow<'_>,
    ctx: &FileCtx,
    opts: &IngestOptions,
    depth: Depth,
) -> Result<Decoded, String> {
    let Some(columns) = &ctx.csv else {
        return Err("a CSV row without a header".into());
    };
    let format = ctx.fixed.unwrap_or(Format::TableCsv);
    crate::csv_doc::csv_record(
        row,
        columns,
        format,
        opts.projection.as_deref(),
        depth,
        audit_data_record,
    )
}

/// A record's bytes as the prefilter sees them; `None` for a record already rejected.
fn raw_record<'a>(
    item: &'a Item,
    buf: &'a [u8],
    ends: &'a [usize],
    ctx: &'a FileCtx,
) -> Option<RawRecord<'a>> {
    match item {
        Item::Json {
            start, end, index, ..
        } => Some(RawRecord {
            bytes: &buf[*start..*end],
            spells_keys: true,
            format: ctx.fixed,
            falls_back: ctx.fallback.get().is_some(),
            source: &ctx.display,
            record: *index,
            columns: None,
        }),
        // The document of a Purview row is its JSON cell: handed as the JSON text it is.
        Item::Csv {
            start,
            end,
            cells,
            index,
            ..
        } => Some(
            match ctx
                .json_cell
                .and_then(|i| csv_cell(buf, ends, *start, *cells, i))
            {
                Some(json) => RawRecord {
                    bytes: json,
                    spells_keys: true,
                    format: ctx.fixed,
                    falls_back: false,
                    source: &ctx.display,
                    record: *index,
                    columns: None,
                },
                None => RawRecord {
                    bytes: &buf[*start..*end],
                    spells_keys: false,
                    format: ctx.fixed,
                    falls_back: false,
                    source: &ctx.display,
                    record: *index,
                    columns: ctx.csv.as_ref().and_then(|c| {
                        Some(RawColumns {
                            header: &c.header,
                            ends: ends.get(cells.0..cells.1)?,
                        })
                    }),
                },
            },
        ),
        Item::Bad { .. } => None,
    }
}

impl<T> BatchOut<T> {
    /// Counts a read event: its format, the tenant name it carries, its tenant's coverage.
    fn tally(&mut self, ev: &Event, name: Option<(String, String)>, width: i64) {
        self.read += 1;
        self.names.add(&ev.canonical, name);
        *self.formats.entry(ev.format).or_default() += 1;
        let key = (
            ev.canonical
                .tenant_id
                .clone()
                .unwrap_or_else(|| "unknown".into()),
            ev.kind,
        );
        let cov = self.coverage.entry(key).or_default();
        cov.records += 1;
        *cov.sources.entry(ev.canonical.tenant_source).or_default() += 1;
        match ev.canonical.time {
            Some(t) => cov.add(t.millis(), width),
            None => self.untimed += 1,
        }
    }
}

/// A batch item's index, line and decoded record (a rejected item: its reason as the error).
fn decode_item(
    item: Item,
    batch: &Batch,
    opts: &IngestOptions,
    depth: Depth,
) -> (u64, u64, Result<Decoded, String>) {
    let ctx = &batch.ctx;
    match item {
        Item::Bad {
            index,
            line,
            reason,
        } => (index, line, Err(reason)),
        Item::Json {
            start,
            end,
            index,
            line,
        } => {
            let bytes = &batch.buf[start..end];
            let decoded = decode_json_record(bytes, ctx, opts.projection.as_deref(), depth);
            (index, line, decoded)
        }
        Item::Csv {
            start,
            end,
            cells,
            index,
            line,
        } => {
            let row = CsvRow {
                bytes: &batch.buf[start..end],
                ends: &batch.cell_ends[cells.0..cells.1],
            };
            (index, line, csv_record(row, ctx, opts, depth))
        }
    }
}

/// Decodes, classifies and normalizes a batch; applies `map` to each event.
fn process_batch<T, K, P, M>(
    mut batch: Batch,
    opts: &IngestOptions,
    depth: Depth,
    pre: &P,
    map: &M,
) -> (BatchOut<T>, Buffers)
where
    P: Fn(RawRecord<'_>) -> Option<K> + ?Sized,
    M: Fn(&Event, K, &mut Vec<T>) + ?Sized,
{
    let width = opts.gap_threshold_ms.max(1000);
    let mut out = BatchOut {
        file: batch.file,
        seq: batch.seq,
        outputs: Vec::new(),
        read: 0,
        rejected: 0,
        untimed: 0,
        prefiltered: 0,
        errors: Vec::new(),
        formats: BTreeMap::new(),
        coverage: BTreeMap::new(),
        names: NameTally::default(),
        named: Default::default(),
    };
    let ctx = &batch.ctx;
    let reject = |out: &mut BatchOut<T>, index: u64, line: u64, reason: String| {
        out.rejected += 1;
        out.errors.push(RecordError {
            path: ctx.display.to_string(),
            line,
            record: Some(index),
            reason,
        });
    };
    for item in std::mem::take(&mut batch.items) {
        let raw = raw_record(&item, &batch.buf, &batch.cell_ends, ctx);
        let handed = match raw.map(pre) {
            Some(None) => {
                out.read += 1;
                out.prefiltered += 1;
                continue;
            }
            Some(Some(k)) => Some(k),
            None => None,
        };
        let (index, line, decoded) = decode_item(item, &batch, opts, depth);
        let (format, mut canonical, doc, name) = match decoded {
            Ok(x) => x,
            Err(reason) => {
                reject(&mut out, index, line, reason);
                continue;
            }
        };
        if ctx.count_named
            && let (Some(t), TenantSource::Record | TenantSource::Path) =
                (&canonical.tenant_id, canonical.tenant_source)
            && !out.named.contains(t)
        {
            out.named.insert(t.clone());
        }
        if canonical.tenant_id.is_none()
            && let Some((t, src)) = &ctx.default_tenant
        {
            canonical.tenant_id = Some(t.clone());
            canonical.tenant_source = *src;
        }
        let ev = Event {
            kind: format.log_kind(),
            format,
            provenance: Provenance {
                file: ctx.display.clone(),
                record: index,
                line,
            },
            canonical,
            raw: doc,
        };
        out.tally(&ev, name, width);
        if let Some(k) = handed {
            map(&ev, k, &mut out.outputs);
        }
    }
    (out, (batch.buf, batch.cell_ends))
}
