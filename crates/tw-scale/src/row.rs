//! One event as one row of the lake: the values of every column of [`crate::schema`], read the
//! way the Sigma engine reads them (the shipped field maps; canonical `tw.*` fields through
//! `tw_detect`'s event adapter; field-map values by the adapter's rules from the record as the
//! reader parsed it, [`crate::lookup`]), computed on the reader's worker threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use tw_detect::event::{OPERATION_FIELDS, Resolver, SigmaView};
use tw_detect::fieldmap::{FieldMap, shipped_maps};
use tw_event::{Event, Format, LogKind, civil_from_days};
use tw_sigma::{FieldRef, FieldValue, SigmaEvent};

use crate::lookup::{Values, read_path};
use crate::schema::{self, CANONICAL, NULL_PARTITION, Storage};

/// The value of one canonical column (past `tenant_id`, `log_kind` and `format`).
#[derive(Debug, Clone, PartialEq)]
pub enum CanonicalValue {
    /// Absent.
    Null,
    /// A text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A list of texts.
    List(Vec<String>),
}

/// One event's values for every column.
#[derive(Debug, Clone)]
pub struct Row {
    /// The partition folder, relative (`log_kind=…/tenant_id=…/date=…`).
    pub partition: Arc<str>,
    /// Provenance file.
    pub file: Arc<str>,
    /// Provenance record index.
    pub record: u64,
    /// Provenance line.
    pub line: u64,
    /// Resource tenant.
    pub tenant_id: Option<String>,
    /// Event time, ms since the epoch (UTC).
    pub time: Option<i64>,
    /// Log kind.
    pub log_kind: LogKind,
    /// Physical format.
    pub format: Format,
    /// Canonical columns after `format`, in [`CANONICAL`] order from its fourth entry.
    pub canonical: Vec<CanonicalValue>,
    /// Field-map columns present in the record: (index in [`schema::field_map_fields`], number
    /// of elements), in index order; their elements follow one another in `elements`.
    pub fields: Vec<(u32, u32)>,
    /// Elements of the present field-map columns: a span of `text`, or `None` for a JSON null.
    pub elements: Vec<Option<(u32, u32)>>,
    /// The texts `elements` point into.
    pub text: String,
    /// The record as the engine reads it, as JSON text.
    pub raw: String,
}

impl Row {
    /// The field-map columns present: (column index, range of their elements in `elements`).
    pub fn field_spans(&self) -> impl Iterator<Item = (u32, std::ops::Range<usize>)> + '_ {
        let mut at = 0usize;
        self.fields.iter().map(move |&(col, n)| {
            let range = at..at + n as usize;
            at = range.end;
            (col, range)
        })
    }

    /// The text of element `i` (`None` for a JSON null).
    pub fn element(&self, i: usize) -> Option<&str> {
        let (s, e) = (*self.elements.get(i)?)?;
        self.text.get(s as usize..e as usize)
    }

    /// Approximate bytes held (for buffer budgets).
    pub fn heap_bytes(&self) -> usize {
        let canonical: usize = self
            .canonical
            .iter()
            .map(|v| match v {
                CanonicalValue::Text(t) => t.capacity(),
                CanonicalValue::List(l) => l.iter().map(|t| t.capacity() + 24).sum(),
                _ => 0,
            })
            .sum();
        std::mem::size_of::<Row>()
            + self.raw.capacity()
            + self.text.capacity()
            + self.elements.capacity() * std::mem::size_of::<Option<(u32, u32)>>()
            + self.fields.capacity() * 8
            + self.canonical.capacity() * std::mem::size_of::<CanonicalValue>()
            + canonical
            + self.tenant_id.as_ref().map_or(0, String::capacity)
    }
}

/// One read of a field-map column in a format: a canonical field, or a path of the record.
#[derive(Debug, Clone)]
enum Read {
    /// A canonical `tw.*` field (when present, the reads after it are not made).
    Canonical(FieldRef),
    /// A path of the record; `operation`: its texts also in their normalised variants.
    Path { path: String, operation: bool },
}

/// Per format: lowercase top-level key → the field-map columns a key of that name may feed,
/// the columns read through a canonical field (always looked at), per column the first column
/// the format resolves to the same reads (its values are that column's: computed once), and
/// per column its reads, in the adapter's order.
#[derive(Debug, Default)]
struct FormatHeads {
    by_key: HashMap<String, Vec<u32>>,
    canonical: Vec<u32>,
    same_as: Vec<Option<u32>>,
    reads: Vec<Vec<Read>>,
}

/// Computes rows from events. Built once, shared by the worker threads.
pub struct Extractor {
    resolver: Resolver,
    /// The field-map columns' fields, by slot (what the engine's adapter is asked in tests).
    #[cfg(test)]
    fields: Vec<FieldRef>,
    canonical: Vec<FieldRef>,
    heads: HashMap<Format, FormatHeads>,
    identity: FormatHeads,
}

impl Extractor {
    /// The extractor of every column of [`schema::columns`], through the shipped field maps.
    pub fn new() -> Result<Extractor, String> {
        let maps = shipped_maps()?;
        let names = schema::field_map_fields();
        let fields: Vec<FieldRef> = names
            .iter()
            .enumerate()
            .map(|(i, n)| FieldRef::new(i as u32, n))
            .collect();
        let canonical = CANONICAL
            .iter()
            .skip(3)
            .enumerate()
            .map(|(i, (f, _, _))| FieldRef::new((names.len() + i) as u32, f))
            .collect();
        let heads = maps
            .iter()
            .map(|(f, m)| (*f, heads_of(names, Some(m))))
            .collect();
        Ok(Extractor {
            resolver: Resolver::new(&fields, &maps),
            #[cfg(test)]
            fields,
            canonical,
            heads,
            identity: heads_of(names, None),
        })
    }

    /// What a reader must keep of each record for these columns (with the reader's own
    /// classification and canonical fields).
    pub fn projection(&self) -> tw_ingest::select::Projection {
        let mut p = self.resolver.projection();
        p.merge(tw_ingest::select::Projection::selection());
        p
    }

    /// The row of `ev`.
    pub fn row(&self, ev: &Event) -> Row {
        let view = SigmaView::new(ev, &self.resolver);
        let canonical = self
            .canonical
            .iter()
            .zip(CANONICAL.iter().skip(3))
            .map(|(f, (_, _, storage))| canonical_value(&view, f, *storage))
            .collect();
        let raw = raw_text(ev);
        let heads = self.heads.get(&ev.format).unwrap_or(&self.identity);
        let mut fields = FieldValues::with_capacity(raw.len());
        fields.fill(ev.raw.projected().unwrap_or_else(|| ev.doc()), heads, &view);
        if fields.text.capacity() > 2 * fields.text.len() + 1024 {
            fields.text.shrink_to_fit();
        }
        Row {
            partition: partition_of(ev),
            file: ev.provenance.file.clone(),
            record: ev.provenance.record,
            line: ev.provenance.line,
            tenant_id: ev.canonical.tenant_id.clone(),
            time: ev.canonical.time.map(|t| t.millis()),
            log_kind: ev.kind,
            format: ev.format,
            canonical,
            fields: fields.fields,
            elements: fields.elements,
            text: fields.text,
            raw,
        }
    }
}

/// The field-map columns of a row being computed (see [`Row`]).
struct FieldValues {
    fields: Vec<(u32, u32)>,
    elements: Vec<Option<(u32, u32)>>,
    text: String,
    /// Objects already written into `text` ([`Values::rendered`]).
    rendered: Vec<(usize, u32, u32)>,
}

impl FieldValues {
    /// Empty, with room for `bytes` of text (the values are mostly parts of the record: the
    /// text does not grow, and move, value by value).
    fn with_capacity(bytes: usize) -> FieldValues {
        FieldValues {
            fields: Vec::new(),
            elements: Vec::new(),
            text: String::with_capacity(bytes),
            rendered: Vec::new(),
        }
    }

    /// The values of the columns `doc` may hold (in index order); a column the format resolves
    /// to the same reads as an earlier one gets that one's values.
    fn fill(&mut self, doc: &serde_json::Value, heads: &FormatHeads, view: &SigmaView<'_>) {
        // Columns done: (column, its range in `elements` when present), in column order.
        let mut done: Vec<(u32, Option<(usize, usize)>)> = Vec::new();
        for col in candidates(heads, doc) {
            let lead = heads.same_as.get(col as usize).copied().flatten();
            let copied = lead
                .and_then(|l| done.binary_search_by_key(&l, |d| d.0).ok())
                .map(|i| done[i].1);
            let range = match copied {
                Some(Some((start, n))) => {
                    self.elements.extend_from_within(start..start + n);
                    self.fields.push((col, n as u32));
                    Some((start, n))
                }
                Some(None) => None,
                None => self.read_column(doc, heads, col, view),
            };
            done.push((col, range));
        }
    }

    /// Appends the values of column `col` as the engine's adapter gives them, when present;
    /// the range of its elements (start, count).
    fn read_column(
        &mut self,
        doc: &serde_json::Value,
        heads: &FormatHeads,
        col: u32,
        view: &SigmaView<'_>,
    ) -> Option<(usize, usize)> {
        let start = self.elements.len();
        let mut found = false;
        for read in heads.reads.get(col as usize).map_or(&[][..], Vec::as_slice) {
            match read {
                Read::Canonical(field) => {
                    let (elements, text) = (&mut self.elements, &mut self.text);
                    if view.visit_field(field, &mut |v| {
                        elements.push(push_value(text, v));
                        false
                    }) {
                        found = true;
                        break;
                    }
                }
                Read::Path { path, operation } => {
                    let mut out = Values {
                        elements: &mut self.elements,
                        text: &mut self.text,
                        rendered: &mut self.rendered,
                    };
                    found |= read_path(doc, path, *operation, &mut out);
                }
            }
        }
        let n = self.elements.len() - start;
        if found || n > 0 {
            self.fields.push((col, n as u32));
            return Some((start, n));
        }
        None
    }
}

/// Appends `key` in lower case, as the heads of [`FormatHeads`] are spelled.
fn lowercase_into(key: &str, out: &mut String) {
    if key.is_ascii() {
        out.push_str(key);
        out.make_ascii_lowercase();
    } else {
        out.extend(key.chars().flat_map(char::to_lowercase));
    }
}

/// The candidates of the last record a thread looked at: which format's heads (by address),
/// the record's top-level keys, and the columns they gave.
#[derive(Default)]
struct LastCandidates {
    heads: usize,
    keys: Vec<String>,
    columns: Vec<u32>,
}

thread_local! {
    /// The records of a file mostly have the same top-level keys: their candidates are reused.
    static LAST_CANDIDATES: RefCell<LastCandidates> = RefCell::new(LastCandidates::default());
}

/// The field-map columns `ev` may hold a value of, in index order: those whose lookup can
/// reach a top-level key of the record (a lookup reaches a key only through its full path or
/// a dotted prefix of it, compared ignoring case), and those read through a canonical field.
/// The same as the previous record's on this thread when its keys and format are.
fn candidates(heads: &FormatHeads, doc: &serde_json::Value) -> Vec<u32> {
    let Some(obj) = doc.as_object() else {
        return columns_of_keys(heads, std::iter::empty());
    };
    let id = std::ptr::from_ref(heads) as usize;
    LAST_CANDIDATES.with_borrow_mut(|last| {
        if last.heads == id
            && last.keys.len() == obj.len()
            && last.keys.iter().zip(obj.keys()).all(|(a, b)| a == b)
        {
            return last.columns.clone();
        }
        let columns = columns_of_keys(heads, obj.keys());
        last.heads = id;
        last.keys.clear();
        last.keys.extend(obj.keys().cloned());
        last.columns.clone_from(&columns);
        columns
    })
}

/// The columns read through a canonical field and those reachable from top-level `keys`,
/// in index order.
fn columns_of_keys<'k>(heads: &FormatHeads, keys: impl Iterator<Item = &'k String>) -> Vec<u32> {
    let mut out = heads.canonical.clone();
    let mut key = String::new();
    for k in keys {
        key.clear();
        lowercase_into(k, &mut key);
        if let Some(cols) = heads.by_key.get(&key) {
            out.extend_from_slice(cols);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Appends `v`'s text to `text`; its span, `None` for null.
fn push_value(text: &mut String, v: FieldValue<'_>) -> Option<(u32, u32)> {
    let start = text.len();
    match v {
        FieldValue::Null => return None,
        FieldValue::Str(s) => text.push_str(s),
        other => text.push_str(&other.to_text().unwrap_or_default()),
    }
    Some((start as u32, text.len() as u32))
}

/// The heads (lowercase top-level keys) through which each field-map column can be reached in
/// a format with map `map` (`None`: fields read as named), and each column's reads.
fn heads_of(names: &[String], map: Option<&FieldMap>) -> FormatHeads {
    let mut h = FormatHeads::default();
    // The first column of each list of reads: the engine's adapter resolves a field name to
    // the same list of reads for the same format, so their values are equal.
    let mut first_of: HashMap<Vec<String>, u32> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let targets = match map {
            Some(m) => m.resolve(name).targets,
            None => vec![name.clone()],
        };
        let lead = *first_of.entry(targets.clone()).or_insert(i as u32);
        h.same_as.push((lead != i as u32).then_some(lead));
        h.reads.push(reads_of(&targets, map.is_some()));
        for t in &targets {
            if t.starts_with("tw.") {
                h.canonical.push(i as u32);
                continue;
            }
            let lower = t.to_lowercase();
            let mut keys: Vec<&str> = vec![&lower];
            keys.extend(lower.match_indices('.').map(|(at, _)| &lower[..at]));
            for k in keys {
                let cols = h.by_key.entry(k.to_string()).or_default();
                if cols.last() != Some(&(i as u32)) {
                    cols.push(i as u32);
                }
            }
        }
    }
    h
}

/// The reads of a field resolved to `targets`, as the adapter makes them: operation names get
/// their variants where a format's map names them (not in formats read as named).
fn reads_of(targets: &[String], mapped: bool) -> Vec<Read> {
    targets
        .iter()
        .map(|t| {
            if t.starts_with("tw.") {
                Read::Canonical(FieldRef::new(0, t))
            } else {
                Read::Path {
                    path: t.clone(),
                    operation: mapped && OPERATION_FIELDS.contains(&t.as_str()),
                }
            }
        })
        .collect()
}

/// A canonical field's value as the engine sees it: for a text column the first value with a
/// text (booleans left out), for a boolean column the first boolean, for a list column every
/// value with a text (booleans left out). Only the texts kept are made (one allocation per
/// value stored, none for the values passed over).
fn canonical_value(view: &SigmaView<'_>, f: &FieldRef, storage: Storage) -> CanonicalValue {
    let mut out = CanonicalValue::Null;
    view.visit_field(f, &mut |v| {
        match (storage, &mut out) {
            (Storage::Bool, CanonicalValue::Null) => {
                if let FieldValue::Bool(b) = v {
                    out = CanonicalValue::Bool(b);
                }
            }
            (Storage::Text, CanonicalValue::Null) if !matches!(v, FieldValue::Bool(_)) => {
                if let Some(t) = v.to_text() {
                    out = CanonicalValue::Text(t);
                }
            }
            (Storage::TextList, CanonicalValue::Null) if !matches!(v, FieldValue::Bool(_)) => {
                if let Some(t) = v.to_text() {
                    out = CanonicalValue::List(vec![t]);
                }
            }
            (Storage::TextList, CanonicalValue::List(items))
                if !matches!(v, FieldValue::Bool(_)) =>
            {
                items.extend(v.to_text());
            }
            _ => {}
        }
        false
    });
    out
}

/// The record as the engine reads it: the record's JSON text when the document is that text
/// as it is, else the document (CSV rows, decoded Log Analytics columns) written as JSON.
fn raw_text(ev: &Event) -> String {
    if !tw_ingest::normalize::decodes_json_strings(ev.format)
        && let Some(text) = ev.raw.text()
        && let Ok(s) = std::str::from_utf8(text)
    {
        return s.to_string();
    }
    serde_json::to_string(ev.doc()).unwrap_or_else(|_| "null".into())
}

/// A partition folder and what it was computed from: (log kind, tenant, day, folder).
type PartitionKey = (LogKind, Option<String>, Option<i64>, Arc<str>);

thread_local! {
    /// The partition of the last event this thread turned into a row: the records of a file
    /// mostly follow one another within one log kind, tenant and day, and share its text.
    static LAST_PARTITION: RefCell<Option<PartitionKey>> = const { RefCell::new(None) };
}

/// The partition folder of `ev`, shared with the previous row of this thread when equal.
fn partition_of(ev: &Event) -> Arc<str> {
    let day = ev.canonical.time.map(|t| t.millis().div_euclid(86_400_000));
    let tenant = ev.canonical.tenant_id.as_deref();
    LAST_PARTITION.with_borrow_mut(|last| {
        if let Some((kind, t, d, folder)) = last.as_ref()
            && *kind == ev.kind
            && *d == day
            && t.as_deref() == tenant
        {
            return folder.clone();
        }
        let folder: Arc<str> = partition_folder(ev.kind, tenant, day).into();
        *last = Some((ev.kind, tenant.map(str::to_string), day, folder.clone()));
        folder
    })
}

/// The partition folder `log_kind=…/tenant_id=…/date=…` of a log kind, tenant and day (days
/// since the epoch, UTC).
fn partition_folder(kind: LogKind, tenant: Option<&str>, day: Option<i64>) -> String {
    let tenant = tenant.map_or_else(|| NULL_PARTITION.to_string(), schema::partition_value);
    let date = match day {
        Some(day) => {
            let (y, m, d) = civil_from_days(day);
            format!("{y:04}-{m:02}-{d:02}")
        }
        None => NULL_PARTITION.to_string(),
    };
    format!(
        "{}={}/{}={tenant}/{}={date}",
        schema::LOG_KIND,
        kind.as_str(),
        schema::TENANT_ID,
        schema::DATE
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_ingest::{IngestOptions, ingest};

    /// (columns checked, columns whose values were those of an earlier column) of `ev`, after
    /// checking that every field-map column of its row holds exactly what the engine's adapter
    /// gives for that field.
    fn check(ex: &Extractor, ev: &Event) -> (usize, usize) {
        let row = ex.row(ev);
        let view = SigmaView::new(ev, &ex.resolver);
        let heads = ex.heads.get(&ev.format).unwrap_or(&ex.identity);
        let got: HashMap<u32, Vec<Option<String>>> = row
            .field_spans()
            .map(|(c, r)| (c, r.map(|i| row.element(i).map(str::to_string)).collect()))
            .collect();
        let mut shared = 0;
        for (i, f) in ex.fields.iter().enumerate() {
            let mut want = Vec::new();
            let found = view.visit_field(f, &mut |v| {
                want.push(v.to_text());
                false
            });
            let want = (found || !want.is_empty()).then_some(want);
            let have = got.get(&(i as u32)).cloned();
            assert_eq!(
                have,
                want,
                "{} of {}:{}",
                f.name(),
                ev.provenance.file,
                ev.provenance.line
            );
            if have.is_some() && heads.same_as[i].is_some() {
                shared += 1;
            }
        }
        (ex.fields.len(), shared)
    }

    /// Every record of `path` checked by [`check`]: (events, columns checked, shared).
    fn check_all(ex: &Extractor, path: std::path::PathBuf) -> (usize, usize, usize) {
        let opts = crate::test_corpus::options(ex);
        let (mut events, mut checked, mut shared) = (0, 0, 0);
        let report = ingest(
            &[path],
            &opts,
            |ev, out| out.push(check(ex, ev)),
            |(c, s)| {
                events += 1;
                checked += c;
                shared += s;
            },
        );
        assert_eq!(events, report.totals.read as usize);
        (events, checked, shared)
    }

    #[test]
    fn rows_hold_the_adapters_values_for_every_column() {
        let ex = Extractor::new().expect("the shipped maps load");
        let (events, checked, shared) = check_all(&ex, crate::test_corpus::path());
        assert!(events > 100, "{events} events");
        assert!(
            checked > 10_000 && shared > 100,
            "{checked} checked, {shared} shared"
        );
    }

    /// The simulated case of the repository (every format the simulator writes).
    #[test]
    fn rows_of_the_example_case_hold_the_adapters_values() {
        let ex = Extractor::new().expect("the shipped maps load");
        let example = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/reseller-breach/logs");
        let (events, _, shared) = check_all(&ex, example);
        assert!(
            events > 2_000 && shared > 1_000,
            "{events} events, {shared} shared"
        );
    }

    /// A canonical field's value as the export first computed it: every value visited and
    /// kept, then the one the column stores picked.
    fn canonical_value_collected(
        view: &SigmaView<'_>,
        f: &FieldRef,
        storage: Storage,
    ) -> CanonicalValue {
        let mut bools: Vec<bool> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        view.visit_field(f, &mut |v| {
            match v {
                FieldValue::Bool(b) => bools.push(b),
                other => texts.extend(other.to_text()),
            }
            false
        });
        match (storage, bools.first()) {
            (Storage::Bool, Some(b)) => CanonicalValue::Bool(*b),
            (Storage::TextList, _) if !texts.is_empty() => CanonicalValue::List(texts),
            (Storage::Text, _) => texts
                .into_iter()
                .next()
                .map_or(CanonicalValue::Null, CanonicalValue::Text),
            _ => CanonicalValue::Null,
        }
    }

    #[test]
    fn canonical_values_are_those_of_every_value_visited() {
        let ex = Extractor::new().expect("the shipped maps load");
        let example = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/reseller-breach/logs");
        let opts = crate::test_corpus::options(&ex);
        let mut kinds = [0usize; 4];
        ingest(
            &[crate::test_corpus::path(), example],
            &opts,
            |ev, out| {
                let view = SigmaView::new(ev, &ex.resolver);
                let row = ex.row(ev);
                let fields = ex.canonical.iter().zip(CANONICAL.iter().skip(3));
                for ((f, (_, _, storage)), got) in fields.zip(&row.canonical) {
                    let want = canonical_value_collected(&view, f, *storage);
                    assert_eq!(got, &want, "{} of {}", f.name(), ev.provenance.file);
                    // The value's capacity counts in the writer's budget: unchanged.
                    if let (CanonicalValue::Text(a), CanonicalValue::Text(b)) = (got, &want) {
                        assert_eq!(a.capacity(), b.capacity());
                    }
                    out.push(match got {
                        CanonicalValue::Null => 0,
                        CanonicalValue::Text(_) => 1,
                        CanonicalValue::Bool(_) => 2,
                        CanonicalValue::List(_) => 3,
                    });
                }
            },
            |kind| kinds[kind] += 1,
        );
        assert!(kinds.iter().all(|n| *n > 10), "{kinds:?}");
    }

    #[test]
    fn partitions_follow_each_event_and_are_shared_by_rows_in_a_run() {
        let ex = Extractor::new().expect("the shipped maps load");
        let corpus = crate::test_corpus::path();
        let opts = IngestOptions {
            threads: 1,
            ..crate::test_corpus::options(&ex)
        };
        let mut rows: Vec<(Row, String)> = Vec::new();
        ingest(
            &[corpus],
            &opts,
            |ev, out| {
                let want = partition_folder(
                    ev.kind,
                    ev.canonical.tenant_id.as_deref(),
                    ev.canonical.time.map(|t| t.millis().div_euclid(86_400_000)),
                );
                out.push((ex.row(ev), want));
            },
            |r| rows.push(r),
        );
        let (mut shared, mut changes) = (0, 0);
        for (i, (row, want)) in rows.iter().enumerate() {
            assert_eq!(&*row.partition, want.as_str(), "{}:{}", row.file, row.line);
            if let Some((prev, _)) = i.checked_sub(1).and_then(|p| rows.get(p)) {
                if prev.partition == row.partition {
                    assert!(Arc::ptr_eq(&prev.partition, &row.partition));
                    shared += 1;
                } else {
                    changes += 1;
                }
            }
        }
        assert!(
            shared > 100 && changes > 5,
            "{shared} shared, {changes} changes"
        );
        // A day before the epoch and a missing tenant and time.
        assert_eq!(
            partition_folder(LogKind::Ual, None, Some(-1)),
            "log_kind=ual/tenant_id=__HIVE_DEFAULT_PARTITION__/date=1969-12-31"
        );
        assert_eq!(
            partition_folder(LogKind::Ual, Some("t1"), None),
            "log_kind=ual/tenant_id=t1/date=__HIVE_DEFAULT_PARTITION__"
        );
    }
}
