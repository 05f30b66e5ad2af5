//! A CSV row's document. A row is kept as its cells' bytes in the batch buffer; decoding it checks
//! every cell (UTF-8, no NUL byte), then reads only the columns classification, canonical fields
//! and tenant names look at (decided once per file from the header, [`CsvColumns`]) and leaves
//! the full document — every non-empty cell by column name, Log Analytics' JSON columns decoded —
//! to be built on first use ([`Document::deferred`]). Purview rows go straight to their
//! `AuditData` cell. The format of a CSV file is decided here too, from its header.

use std::sync::{Arc, Mutex, Weak};

use serde_json::{Map, Value};
use tw_event::{Canonical, Document, Format};

use crate::classify::classify_csv;
use crate::csv_rows::Row;
use crate::names::record_name;
use crate::normalize::{
    canonical_of, decode_json_strings, decodes_json_strings, document_is_audit_data, prepare,
    time_and_tenant_of,
};
use crate::select::{Projection, Selects, Want, selection};

/// How much of a record is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Canonical fields, tenant name and (on first use) the document.
    Full,
    /// Canonical fields and tenant name; the document is empty (readers that never look at
    /// documents: `ingest --stats`). Reads, keeps and rejects exactly what [`Depth::Full`] does.
    Canonical,
    /// Only the time and the tenant (tenant attribution), rejecting what a full read rejects;
    /// the document is empty.
    TimeAndTenant,
}

/// A decoded record: its format, canonical fields, document, and the tenant name it carries.
pub(crate) type Decoded = (Format, Canonical, Document, Option<(String, String)>);

/// What the reader keeps of a column when it reads a row for canonical fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnUse {
    /// Not looked at.
    Skip,
    /// Only its presence (kept as null), as the selective JSON parse keeps such keys.
    Presence,
    /// Its text.
    Keep,
}

/// A CSV file's columns: names, and what the canonical read keeps of each.
#[derive(Debug)]
pub(crate) struct CsvColumns {
    /// Column names (cleaned header cells).
    pub header: Vec<String>,
    uses: Vec<ColumnUse>,
    /// What a read for time and tenant only keeps of each column ([`Depth::TimeAndTenant`]).
    tenant_uses: Vec<ColumnUse>,
    /// Columns named `AuditData`, in order.
    audit_data: Vec<usize>,
    /// Column indices in the order of their names (columns of one name in header order): a
    /// document's cells collected in this order are already sorted for its map.
    by_name: Vec<usize>,
    /// The reader's projection (rule fields and the selection), if any, and what a read through
    /// it keeps of each column: the row read so serves the rules, as a JSON record parsed
    /// through it does, and the full document is only built for what needs all of it.
    projection: Option<Weak<Projection>>,
    projected_uses: Vec<ColumnUse>,
    /// Per read ([`CsvColumns::uses`], [`CsvColumns::tenant_uses`],
    /// [`CsvColumns::projected_uses`]): the columns it keeps, in [`CsvColumns::by_name`] order.
    /// A row's other cells are not looked at.
    uses_order: Vec<usize>,
    tenant_order: Vec<usize>,
    projected_order: Vec<usize>,
}

/// Columns of recent headers: many files of a case share a few headers (one per table), and
/// looking every column of a header up in the selection costs more than reading a small file.
static RECENT_COLUMNS: Mutex<Vec<Arc<CsvColumns>>> = Mutex::new(Vec::new());

/// How many headers [`RECENT_COLUMNS`] keeps.
const RECENT_HEADERS: usize = 32;

impl CsvColumns {
    /// The columns of `header`, each looked up once in the selection (and in `projection`).
    pub fn new(header: Vec<String>, projection: Option<&Arc<Projection>>) -> CsvColumns {
        let uses: Vec<ColumnUse> = header.iter().map(|h| column_use(selection(), h)).collect();
        let projected_uses: Vec<ColumnUse> = match projection {
            Some(p) => header.iter().map(|h| column_use(&**p, h)).collect(),
            None => Vec::new(),
        };
        let keys = crate::normalize::time_and_tenant_keys();
        let tenant_uses: Vec<ColumnUse> = header
            .iter()
            .zip(&uses)
            .map(|(h, &u)| match keys.contains(&h.as_str()) {
                true => u,
                false => ColumnUse::Skip,
            })
            .collect();
        let audit_data = (0..header.len())
            .filter(|&i| header[i] == "AuditData")
            .collect();
        let mut by_name: Vec<usize> = (0..header.len()).collect();
        by_name.sort_by(|&a, &b| header[a].cmp(&header[b]));
        let kept = |uses: &[ColumnUse]| -> Vec<usize> {
            let used = |i: &usize| uses.get(*i).is_some_and(|&u| u != ColumnUse::Skip);
            by_name.iter().copied().filter(used).collect()
        };
        CsvColumns {
            uses_order: kept(&uses),
            tenant_order: kept(&tenant_uses),
            projected_order: kept(&projected_uses),
            header,
            uses,
            tenant_uses,
            audit_data,
            by_name,
            projection: projection.map(Arc::downgrade),
            projected_uses,
        }
    }

    /// Whether these columns were looked up in `projection` (the very one: a projection
    /// dropped is still told apart, its allocation being held by the weak reference).
    fn read_through(&self, projection: Option<&Projection>) -> bool {
        match (&self.projection, projection) {
            (Some(w), Some(p)) => std::ptr::eq(w.as_ptr(), p),
            (None, None) => true,
            _ => false,
        }
    }

    /// The columns of `header` read through `projection`, shared with the files read before
    /// it that had the same header and projection (what [`CsvColumns::new`] gives depends on
    /// them alone).
    pub fn shared(header: Vec<String>, projection: Option<&Arc<Projection>>) -> Arc<CsvColumns> {
        let Ok(mut recent) = RECENT_COLUMNS.lock() else {
            return Arc::new(CsvColumns::new(header, projection));
        };
        let same =
            |c: &Arc<CsvColumns>| c.header == header && c.read_through(projection.map(|p| &**p));
        if let Some(i) = recent.iter().position(same) {
            let columns = recent.remove(i);
            recent.push(columns.clone());
            return columns;
        }
        let columns = Arc::new(CsvColumns::new(header, projection));
        if recent.len() >= RECENT_HEADERS {
            recent.remove(0);
        }
        recent.push(columns.clone());
        columns
    }
}

/// What a read through `sel` keeps of column `name`.
fn column_use<S: Selects>(sel: &S, name: &str) -> ColumnUse {
    match sel.want(name) {
        Want::Keep | Want::Within(_) => ColumnUse::Keep,
        Want::Presence => ColumnUse::Presence,
        Want::Skip => ColumnUse::Skip,
    }
}

/// A row's cells: their bytes one after the other and the end of each, counted from the first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvRow<'a> {
    /// The cells' bytes.
    pub bytes: &'a [u8],
    /// Where each cell ends in `bytes`.
    pub ends: &'a [usize],
}

impl<'a> CsvRow<'a> {
    /// Cell `i`, if the row has it.
    pub fn cell(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(j) => *self.ends.get(j)?,
            None => 0,
        };
        self.bytes.get(start..end)
    }

    /// The cells in order.
    fn cells(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.ends.len()).filter_map(|i| self.cell(i))
    }
}

/// Cell `i` of the row stored at `buf[start..]` with cell ends `ends[cells.0..cells.1]`.
pub(crate) fn csv_cell<'a>(
    buf: &'a [u8],
    ends: &'a [usize],
    start: usize,
    cells: (usize, usize),
    i: usize,
) -> Option<&'a [u8]> {
    let row_ends = ends.get(cells.0..cells.1)?;
    let bytes = buf.get(start..start + row_ends.last().copied().unwrap_or(0))?;
    CsvRow {
        bytes,
        ends: row_ends,
    }
    .cell(i)
}

/// The format of a CSV file from its header (and the first row's table column).
pub(crate) fn csv_format(
    header: &[String],
    first: Option<&Row>,
    opts: &crate::IngestOptions,
) -> Option<Format> {
    if let Some(f) = opts.format_in {
        return Some(f);
    }
    let first = match first {
        Some(Row::Record { rec, .. }) => Some(rec),
        _ => None,
    };
    let table_col = header.iter().position(|h| h == "Type" || h == "$table");
    let first_table = match (first, table_col) {
        (Some(r), Some(i)) => r.get(i).and_then(|b| std::str::from_utf8(b).ok()),
        _ => None,
    };
    classify_csv(header, first_table).or_else(|| {
        let first_ok = first.is_some_and(|r| r.len() == header.len());
        (is_table_header(header) && first_ok).then_some(Format::TableCsv)
    })
}

/// A header that names a table: at least two columns, each a plain name.
fn is_table_header(h: &[String]) -> bool {
    h.len() >= 2
        && h.iter().all(|c| {
            !c.is_empty()
                && c.len() <= 128
                && c.chars()
                    .all(|ch| ch.is_alphanumeric() || " _$@/.#[]()-".contains(ch))
        })
}

/// Every cell must be UTF-8 text without NUL bytes: the first that is not names the row's error.
fn check_cells(row: CsvRow<'_>, columns: &CsvColumns) -> Result<(), String> {
    // The whole row at once: UTF-8 without NUL, and every cell ending on a character boundary,
    // makes every cell UTF-8 without NUL. Otherwise the cells one by one name the first bad one.
    if let Ok(text) = std::str::from_utf8(row.bytes)
        && memchr::memchr(0, row.bytes).is_none()
        && row.ends.iter().all(|&e| text.is_char_boundary(e))
    {
        return Ok(());
    }
    for (i, cell) in row.cells().enumerate() {
        if cell.is_empty() {
            continue;
        }
        let name = || {
            columns
                .header
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("column{i}"))
        };
        match std::str::from_utf8(cell) {
            Ok(_) if memchr::memchr(0, cell).is_some() => {
                return Err(format!("NUL byte in column {}", name()));
            }
            Ok(_) => {}
            Err(_) => return Err(format!("invalid UTF-8 in column {}", name())),
        }
    }
    Ok(())
}

/// The row's non-empty cells by column name (a later column of the same name wins), each kept
/// when `keep` says so (`Presence` columns as null).
/// Only the columns of `order` (column indices in name order: [`CsvColumns::by_name`] or part
/// of it) and the cells past the header are looked at. The pairs are collected in that order
/// and the map built from them at once (it keeps the last pair of a name, as inserting them in
/// column order would): one insert per cell costs a search of the tree and its node splits.
fn cells_by_name(
    row: CsvRow<'_>,
    columns: &CsvColumns,
    order: &[usize],
    keep: impl Fn(usize) -> ColumnUse,
) -> Map<String, Value> {
    let pair = |i: usize| {
        let use_ = keep(i);
        if use_ == ColumnUse::Skip {
            return None;
        }
        let cell = row.cell(i).filter(|c| !c.is_empty())?;
        let value = match use_ {
            ColumnUse::Skip => return None,
            ColumnUse::Presence => Value::Null,
            // Checked by `check_cells`.
            ColumnUse::Keep => Value::String(match std::str::from_utf8(cell) {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(cell).into_owned(),
            }),
        };
        let name = columns
            .header
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("column{i}"));
        Some((name, value))
    };
    // Cells past the header (none in rows the reader keeps) come after the named ones.
    let past_header = columns.header.len()..row.ends.len();
    let order = order.iter().copied().chain(past_header);
    order.filter_map(pair).collect()
}

/// The full document of a row of `format`: every non-empty cell, JSON columns decoded.
fn full_document(row: CsvRow<'_>, columns: &CsvColumns, format: Format) -> Result<Value, String> {
    prepare(
        format,
        Value::Object(cells_by_name(row, columns, &columns.by_name, |_| {
            ColumnUse::Keep
        })),
    )
}

/// Decodes a CSV row of `format`. Purview: the `AuditData` cell is the document, read by
/// `audit_data` (through `projection`). Other rows: only the selected columns are read, and the
/// full document is built on first use (rules look fields up in it; readers of canonical fields
/// never build it).
pub(crate) fn csv_record(
    row: CsvRow<'_>,
    columns: &Arc<CsvColumns>,
    format: Format,
    projection: Option<&Projection>,
    depth: Depth,
    audit_data: impl Fn(Format, &str, Option<&Projection>, Depth) -> Result<Decoded, String>,
) -> Result<Decoded, String> {
    check_cells(row, columns)?;
    if document_is_audit_data(format) {
        // The last non-empty `AuditData` cell, as a map by column name would keep it.
        let cell = columns
            .audit_data
            .iter()
            .rev()
            .filter_map(|&i| row.cell(i))
            .find(|c| !c.is_empty());
        return match cell.map(std::str::from_utf8) {
            Some(Ok(text)) => audit_data(format, text, projection, depth),
            _ => Err("no AuditData".to_string()),
        };
    }
    // Read through the projection when the columns were looked up in it.
    let projected = projection.is_some() && columns.read_through(projection);
    let (uses, order) = match depth {
        Depth::Full | Depth::Canonical if projected => {
            (&columns.projected_uses, &columns.projected_order)
        }
        Depth::Full | Depth::Canonical => (&columns.uses, &columns.uses_order),
        Depth::TimeAndTenant => (&columns.tenant_uses, &columns.tenant_order),
    };
    let mut sparse = cells_by_name(row, columns, order, |i| {
        uses.get(i).copied().unwrap_or(ColumnUse::Skip)
    });
    if decodes_json_strings(format) {
        decode_json_strings(&mut sparse);
    }
    let sparse = Value::Object(sparse);
    if depth == Depth::TimeAndTenant {
        let c = time_and_tenant_of(format, &sparse)?;
        return Ok((format, c, Document::default(), None));
    }
    let c = canonical_of(format, &sparse)?;
    let name = record_name(&sparse);
    if depth == Depth::Canonical {
        return Ok((format, c, Document::default(), name));
    }
    let (bytes, ends): (Box<[u8]>, Box<[usize]>) = (row.bytes.into(), row.ends.into());
    let columns = columns.clone();
    let build: tw_event::BuildDocument = Arc::new(move || {
        let row = CsvRow {
            bytes: &bytes,
            ends: &ends,
        };
        full_document(row, &columns, format).unwrap_or(Value::Null)
    });
    let doc = match projected {
        true => Document::deferred_projected(build, sparse),
        false => Document::deferred(build),
    };
    Ok((format, c, doc, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::clean_header;
    use crate::csv_rows::{CsvRows, RowAt};

    /// Every row of the repository's CSV fixtures (copies of real exports, see their folders):
    /// the time-and-tenant read agrees with the full read, and the document built on first use
    /// holds every non-empty cell by column name.
    #[test]
    fn partial_reads_agree_with_the_full_row_on_real_exports() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
        let files = [
            "corpus/Azure-Sentinel-Training-Lab/Artifacts/Telemetry/signinLogs.csv",
            "corpus/Azure-Sentinel-Training-Lab/Artifacts/Telemetry/AuditLogs_Hunting.csv",
            "corpus/Azure-Sentinel-Training-Lab/Artifacts/Telemetry/azure_activity.csv",
            "corpus/Azure-Sentinel-Training-Lab/Artifacts/Telemetry/office_activity.csv",
            "formats/signin.log_analytics_csv/AADServicePrincipalSignInLogs_export.csv",
        ];
        let mut rows_checked = 0;
        for f in files {
            let text = std::fs::read(root.join(f)).expect("fixture");
            let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
            let (mut cells, mut ends) = (Vec::new(), Vec::new());
            let mut rows = CsvRows::new(text, 1 << 20, 1);
            rows.next_row_into(&mut cells, &mut ends).expect("header");
            let header: Vec<String> = CsvRow {
                bytes: &cells,
                ends: &ends,
            }
            .cells()
            .map(|c| clean_header(std::str::from_utf8(c).expect("UTF-8")))
            .collect();
            let format = classify_csv(&header, None).unwrap_or(Format::TableCsv);
            let columns = Arc::new(CsvColumns::new(header.clone(), None));
            let projection = Arc::new(rule_projection());
            let through = Arc::new(CsvColumns::new(header.clone(), Some(&projection)));
            loop {
                let (start, from) = (cells.len(), ends.len());
                match rows.next_row_into(&mut cells, &mut ends).expect("read") {
                    None => break,
                    Some(RowAt::TooLong { .. }) => panic!("no row is too long here"),
                    Some(RowAt::Record { .. }) => {}
                }
                let row_ends = ends[from..].to_vec();
                let row = CsvRow {
                    bytes: &cells[start..],
                    ends: &row_ends,
                };
                let read = |depth| {
                    csv_record(row, &columns, format, None, depth, |_, _, _, _| {
                        Err("no Purview export here".to_string())
                    })
                };
                let (full, part) = (read(Depth::Full), read(Depth::TimeAndTenant));
                let projected = csv_record(
                    row,
                    &through,
                    format,
                    Some(&projection),
                    Depth::Full,
                    |_, _, _, _| Err("no Purview export here".to_string()),
                );
                projected_agrees(&full, &projected, f);
                match (&full, &part) {
                    (Ok(full), Ok(part)) => {
                        assert_eq!(full.1.time, part.1.time, "{f}");
                        assert_eq!(full.1.tenant_id, part.1.tenant_id, "{f}");
                        assert_eq!(full.1.tenant_source, part.1.tenant_source, "{f}");
                        let mut want = Map::new();
                        for (i, cell) in row.cells().enumerate() {
                            if !cell.is_empty() {
                                let text = String::from_utf8(cell.to_vec()).expect("UTF-8");
                                want.insert(header[i].clone(), Value::String(text));
                            }
                        }
                        let want = prepare(format, Value::Object(want)).expect("a document");
                        assert_eq!(full.2.get(), &want, "{f}");
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b, "{f}"),
                    _ => panic!("{f}: full {full:?}, time and tenant {part:?}"),
                }
                rows_checked += 1;
            }
        }
        assert!(rows_checked > 100, "{rows_checked} rows");
    }
}

/// The bytes of a row of `cells` and the end of each cell in them.
#[cfg(test)]
fn row_of(cells: &[&str]) -> (Vec<u8>, Vec<usize>) {
    let ends = cells
        .iter()
        .scan(0, |at, c| {
            *at += c.len();
            Some(*at)
        })
        .collect();
    (cells.concat().into_bytes(), ends)
}

/// A hunt's kind of projection: the selection and a few rule fields, some in JSON columns.
#[cfg(test)]
fn rule_projection() -> Projection {
    let mut p = Projection::selection();
    for f in [
        "InitiatedBy.user.userPrincipalName",
        "TargetResources.modifiedProperties.displayName",
        "Category",
        "ResultType",
        "Status.errorCode",
        "properties.message",
    ] {
        p.add(f);
    }
    p
}

/// A row read through a projection gives what the plain read gives (canonical fields, name,
/// full document, errors), and a projected document whose every key holds the full document's
/// value (or null for a key kept for its presence), with every rule field's column there.
#[cfg(test)]
fn projected_agrees(
    full: &Result<Decoded, String>,
    projected: &Result<Decoded, String>,
    file: &str,
) {
    let (full, projected) = match (full, projected) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => return assert_eq!(a, b, "{file}"),
        _ => panic!("{file}: plain {full:?}, projected {projected:?}"),
    };
    assert_eq!(
        (full.0, &full.1, &full.3),
        (projected.0, &projected.1, &projected.3)
    );
    assert!(full.2.projected().is_none(), "{file}");
    let whole = full.2.get();
    assert_eq!(projected.2.get(), whole, "{file}");
    let Some(Value::Object(kept)) = projected.2.projected() else {
        panic!("{file}: no projected document");
    };
    for (k, v) in kept {
        assert!(v.is_null() || whole.get(k) == Some(v), "{file}: {k}");
    }
    for k in [
        "InitiatedBy",
        "TargetResources",
        "Category",
        "ResultType",
        "Status",
    ] {
        assert_eq!(kept.get(k), whole.get(k), "{file}: {k}");
    }
}

#[cfg(test)]
mod rejection_tests {
    use super::*;

    /// A row whose time is present but unparseable is rejected by both reads, with one reason;
    /// a NUL byte in a column neither read looks at still rejects the row.
    #[test]
    fn both_reads_reject_what_a_full_read_rejects() {
        let header = [
            "TenantId",
            "TimeGenerated",
            "AADTenantId",
            "UserPrincipalName",
            "Notes",
        ];
        let columns = Arc::new(CsvColumns::new(header.map(String::from).to_vec(), None));
        let read = |cells: &[&str], depth| {
            let (bytes, ends) = row_of(cells);
            let row = CsvRow {
                bytes: &bytes,
                ends: &ends,
            };
            csv_record(
                row,
                &columns,
                Format::SigninLogAnalyticsCsv,
                None,
                depth,
                |_, _, _, _| Err("no Purview export here".to_string()),
            )
            .map(|d| (d.1.time, d.1.tenant_id))
        };
        let tenant = "2ad3fc79-1859-42fa-9011-6f8df2251b22";
        let good = ["ws", "2021-04-28T14:08:45.221Z", tenant, "a@b.c", "x"];
        let late = ["ws", "4/28/2021, 3:05:26.000 PM", tenant, "a@b.c", "x"];
        let bad_time = ["ws", "yesterday", tenant, "a@b.c", "x"];
        let nul = ["ws", "2021-04-28T14:08:45.221Z", tenant, "a@b.c", "x\0y"];
        for depth in [Depth::Full, Depth::TimeAndTenant] {
            let (time, t) = read(&good, depth).expect("a good row");
            assert_eq!(time.map(|t| t.millis()), Some(1_619_618_925_221));
            assert_eq!(t.as_deref(), Some(tenant));
            assert!(read(&late, depth).is_ok_and(|(time, _)| time.is_some()));
            let e = read(&bad_time, depth).expect_err("unparseable time");
            assert!(e.contains("unparseable timestamp"), "{e}");
            assert_eq!(read(&nul, depth), Err("NUL byte in column Notes".into()));
        }
    }

    /// A character split between two cells leaves both invalid, although the row's bytes
    /// together are UTF-8: the row is rejected, naming the first of them.
    #[test]
    fn a_character_split_between_cells_is_invalid_utf8() {
        let columns = CsvColumns::new(vec!["Name".into(), "Notes".into(), "Other".into()], None);
        let bytes = b"caf\xc3\xa9 ok\xc3\xa9x";
        let check = |ends: &[usize]| check_cells(CsvRow { bytes, ends }, &columns);
        assert_eq!(check(&[5, 8, 11]), Ok(()));
        assert_eq!(
            check(&[4, 8, 11]),
            Err("invalid UTF-8 in column Name".into())
        );
        assert_eq!(
            check(&[5, 9, 11]),
            Err("invalid UTF-8 in column Notes".into())
        );
    }
}

#[cfg(test)]
mod column_order_tests {
    use super::*;

    /// Columns of one name (a later one wins, as inserting cells in column order keeps it),
    /// empty and skipped cells: the map built in name order is the map built by inserts.
    #[test]
    fn cells_collected_in_name_order_make_the_map_inserts_make() {
        let header = ["b", "a", "b", "c", "a", "TimeGenerated", "A"];
        let columns = CsvColumns::shared(header.map(String::from).to_vec(), None);
        let cells: [&[&str]; 3] = [
            &["1", "2", "3", "4", "5", "6", "7"],
            &["", "2", "3", "", "", "6", "7"],
            &["1", "", "", "4", "5", "", ""],
        ];
        for row_cells in cells {
            let (bytes, ends) = row_of(row_cells);
            let row = CsvRow {
                bytes: &bytes,
                ends: &ends,
            };
            for keep in [ColumnUse::Keep, ColumnUse::Presence] {
                let pick = |i: usize| if i % 3 == 1 { ColumnUse::Skip } else { keep };
                let mut want = Map::new();
                for (i, cell) in row.cells().enumerate() {
                    match pick(i) {
                        _ if cell.is_empty() => {}
                        ColumnUse::Skip => {}
                        ColumnUse::Presence => {
                            want.insert(header[i].to_string(), Value::Null);
                        }
                        ColumnUse::Keep => {
                            let text = String::from_utf8(cell.to_vec()).expect("UTF-8");
                            want.insert(header[i].to_string(), Value::String(text));
                        }
                    }
                }
                let all = &columns.by_name;
                assert_eq!(
                    cells_by_name(row, &columns, all, pick),
                    want,
                    "{row_cells:?}"
                );
                // Only the columns kept, as the reads' orders list them.
                let kept: Vec<usize> = all
                    .iter()
                    .copied()
                    .filter(|&i| pick(i) != ColumnUse::Skip)
                    .collect();
                assert_eq!(cells_by_name(row, &columns, &kept, pick), want);
            }
        }
    }

    /// Files of one header share its columns; another header gets its own.
    #[test]
    fn files_of_one_header_share_its_columns() {
        let header = || vec!["Zeta".to_string(), "TenantId".to_string()];
        let a = CsvColumns::shared(header(), None);
        let b = CsvColumns::shared(header(), None);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.uses, CsvColumns::new(header(), None).uses);
        let c = CsvColumns::shared(vec!["Zeta".to_string(), "Other".to_string()], None);
        assert_eq!(c.header, ["Zeta", "Other"]);
        assert_eq!(c.by_name, [1, 0]);
    }
}
