//! Tenant attribution of export folders, read as `hunt --format-in json` reads JSON lines: the
//! records that carry no tenant take the folder's one tenant, wherever they stand (before or
//! after the records that name it, and after the folder's scan stopped decoding records that
//! name it); a tenant named late, after thousands of records of the first one, makes the folder
//! ambiguous; the report counts every tenant of an ambiguous folder although the scan stops at
//! the second; and the outcome is the same with one and with two threads.
//!
//! Records imitate the Log Analytics JSON export of `SigninLogs` (`TimeGenerated`, `TenantId`,
//! `ResourceId`, `OperationName`), one object a line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tw_event::{Format, TenantSource};
use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest, ingest_prefiltered};

const T: &str = "3f077120-9ad8-590f-3cc3-95b254b50b0b";
const X: &str = "8ecf8077-cf51-4820-aadd-14040956f35d";
const Y: &str = "7c759f10-811c-4db8-ad6d-f07d8ae3f8ea";

/// A sign-in row naming `tenant`, or no tenant at all.
fn row(i: usize, tenant: Option<&str>) -> String {
    let time = format!(
        "2024-03-01T{:02}:{:02}:{:02}Z",
        i / 3600 % 24,
        i / 60 % 60,
        i % 60
    );
    match tenant {
        Some(t) => format!(
            r#"{{"TimeGenerated":"{time}","TenantId":"{t}","ResourceId":"/tenants/{t}/providers/Microsoft.aadiam","OperationName":"Sign-in activity","UserPrincipalName":"megan@contoso.com"}}"#
        ),
        None => format!(
            r#"{{"TimeGenerated":"{time}","OperationName":"Update user","Category":"AuditLogs","Identity":"admin@contoso.com"}}"#
        ),
    }
}

/// Writes `lines` rows into `dir/name`, row `i` naming `tenant(i)`.
fn write(dir: &Path, name: &str, lines: usize, tenant: impl Fn(usize) -> Option<&'static str>) {
    std::fs::create_dir_all(dir).unwrap();
    let text: Vec<String> = (0..lines).map(|i| row(i, tenant(i))).collect();
    std::fs::write(dir.join(name), text.join("\n") + "\n").unwrap();
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-attribution-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(threads: usize) -> IngestOptions {
    IngestOptions {
        threads,
        format_in: Some(Format::GenericJson),
        ..IngestOptions::default()
    }
}

/// Every record's tenant and its source, by (file name, record index); and the report.
type Tenants = BTreeMap<(String, u64), (Option<String>, TenantSource)>;

fn read(dir: &Path, threads: usize) -> (Tenants, IngestReport) {
    let mut tenants = Tenants::new();
    let report = ingest(
        &[dir.to_path_buf()],
        &options(threads),
        |ev, out: &mut Vec<_>| {
            let file = ev
                .provenance
                .file
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            out.push((
                (file, ev.provenance.record),
                (ev.canonical.tenant_id.clone(), ev.canonical.tenant_source),
            ));
        },
        |(k, v)| {
            tenants.insert(k, v);
        },
    );
    (tenants, report)
}

#[test]
fn records_without_a_tenant_take_the_folders_one_tenant_before_and_after_it_is_known() {
    let dir = scratch("one");
    // Records 0, 1,500 and 4,000 name no tenant; the rest name T. A second file names none.
    write(&dir, "a.jsonl", 4001, |i| {
        (![0, 1500, 4000].contains(&i)).then_some(T)
    });
    write(&dir, "b.jsonl", 10, |_| None);
    for threads in [1, 2] {
        let (tenants, report) = read(&dir, threads);
        assert_eq!(tenants.len(), 4011);
        for ((file, i), (t, source)) in &tenants {
            assert_eq!(t.as_deref(), Some(T), "{file} {i}");
            let tenantless = file == "b.jsonl" || [0, 1500, 4000].contains(i);
            let expected = if tenantless {
                TenantSource::Folder
            } else {
                TenantSource::Record
            };
            assert_eq!(*source, expected, "{file} {i}");
        }
        assert_eq!(report.attribution.len(), 1);
        assert_eq!(report.attribution[0].method, "folder");
        assert_eq!(report.attribution[0].tenant_id.as_deref(), Some(T));
    }
}

#[test]
fn a_tenant_named_late_makes_the_folder_ambiguous() {
    let dir = scratch("late");
    // 3,000 records name T before one names X (in capitals, with T nowhere in it).
    write(&dir, "a.jsonl", 4000, |i| match i {
        0 | 3999 => None,
        3000 => Some("8ECF8077-CF51-4820-AADD-14040956F35D"),
        _ => Some(T),
    });
    for threads in [1, 2] {
        let (tenants, report) = read(&dir, threads);
        assert_eq!(
            tenants[&("a.jsonl".into(), 0)],
            (None, TenantSource::Unknown)
        );
        assert_eq!(tenants[&("a.jsonl".into(), 3999)].0, None);
        assert_eq!(tenants[&("a.jsonl".into(), 3000)].0.as_deref(), Some(X));
        assert_eq!(report.attribution.len(), 1);
        assert_eq!(report.attribution[0].method, "none");
        assert_eq!(
            report.attribution[0].reason,
            "records in this folder name 2 tenants; not guessed, give --tenant-map"
        );
    }
}

#[test]
fn every_tenant_of_an_ambiguous_folder_is_counted() {
    let dir = scratch("three");
    write(&dir, "a.jsonl", 3000, |i| match i {
        0 => None,
        1 => Some(X),
        _ => Some(T),
    });
    write(&dir, "b.jsonl", 3000, |i| (i == 2999).then_some(Y));
    let reasons = |report: &IngestReport| -> Vec<String> {
        report
            .attribution
            .iter()
            .map(|a| a.reason.clone())
            .collect()
    };
    for threads in [1, 2] {
        let (tenants, report) = read(&dir, threads);
        assert_eq!(tenants[&("b.jsonl".into(), 2999)].0.as_deref(), Some(Y));
        assert_eq!(tenants[&("b.jsonl".into(), 0)].0, None);
        assert_eq!(
            reasons(&report),
            ["records in this folder name 3 tenants; not guessed, give --tenant-map"]
        );
        // A read that decodes none of the records cannot count them: it says so.
        let report = ingest_prefiltered(
            std::slice::from_ref(&dir),
            &options(threads),
            |_: RawRecord<'_>| None::<()>,
            |_, (), _: &mut Vec<()>| {},
            |()| {},
        );
        assert_eq!(report.totals.prefiltered, 6000);
        assert_eq!(
            reasons(&report),
            ["records in this folder name more than one tenant; not guessed, give --tenant-map"]
        );
    }
}

/// A file whose path names its tenant (`…/tenants/<id>`) is not part of its folder's
/// attribution: the tenants its records name are not counted in the folder's note.
#[test]
fn a_file_attributed_by_its_path_is_not_counted_in_its_folders_note() {
    let dir = scratch("path").join("tenants");
    write(&dir, "a.jsonl", 3000, |i| match i {
        0 => None,
        1 => Some(X),
        _ => Some(T),
    });
    write(&dir, "0b5c1a3e-6f2d-4c1b-9a8e-7d6c5b4a3f21", 10, |_| {
        Some(Y)
    });
    for threads in [1, 2] {
        let (tenants, report) = read(&dir, threads);
        assert_eq!(
            tenants[&("0b5c1a3e-6f2d-4c1b-9a8e-7d6c5b4a3f21".into(), 0)],
            (Some(Y.to_string()), TenantSource::Record)
        );
        let reasons: Vec<&str> = report
            .attribution
            .iter()
            .map(|a| a.reason.as_str())
            .collect();
        assert_eq!(
            reasons,
            ["records in this folder name 2 tenants; not guessed, give --tenant-map"]
        );
    }
}
