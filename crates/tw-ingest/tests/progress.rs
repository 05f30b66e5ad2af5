//! The progress counters over a whole case (the bundled example: JSON, CSV, `.gz` and a `.zip`
//! of exports, written by `tenantwatch simulate`): at the end of a read they hold every byte on
//! disk that was read (compressed bytes for `.gz`, each zip member's compressed size), every
//! record and every file.

use std::path::{Path, PathBuf};

use tw_ingest::{IngestOptions, ReadProgress, ingest};

fn case() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/reseller-breach/logs")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("case folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Bytes on disk; bytes a read takes from disk (zip members: their compressed sizes); zip members.
fn sizes(paths: &[PathBuf]) -> (u64, u64, u64) {
    let (mut disk, mut taken, mut members) = (0, 0, 0);
    for p in paths {
        let len = std::fs::metadata(p).expect("size").len();
        disk += len;
        if p.extension().is_some_and(|e| e == "zip") {
            let f = std::fs::File::open(p).expect("zip");
            let mut z = zip::ZipArchive::new(f).expect("zip archive");
            for i in 0..z.len() {
                let m = z.by_index(i).expect("member");
                if m.is_file() {
                    taken += m.compressed_size();
                    members += 1;
                }
            }
        } else {
            taken += len;
        }
    }
    (disk, taken, members)
}

#[test]
fn a_read_counts_every_byte_record_and_file_of_the_case() {
    let mut paths = Vec::new();
    files(&case(), &mut paths);
    let (disk, taken, members) = sizes(&paths);
    assert!(members > 0, "the example holds a zip");
    assert!(
        paths
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "gz"))
    );
    let progress = ReadProgress::new();
    let opts = IngestOptions {
        progress: Some(progress.clone()),
        threads: 2,
        ..Default::default()
    };
    let report = ingest(&[case()], &opts, |_, _: &mut Vec<()>| {}, |_| {});
    let s = progress.snapshot();
    let inputs = paths.len() as u64 - 1 + members;
    assert_eq!((s.passes, s.partial), (1, false));
    assert_eq!((s.total_bytes, s.total_files), (disk, inputs));
    assert_eq!(s.bytes, taken);
    assert_eq!(s.records, report.totals.read);
    assert_eq!(s.files_done, inputs);
    assert_eq!(report.files.len() as u64, inputs);

    // The same counters on the next read start again from zero, counted as the second pass.
    let again = ingest(&[case()], &opts, |_, _: &mut Vec<()>| {}, |_| {});
    let s2 = progress.snapshot();
    assert_eq!(s2.passes, 2);
    assert_eq!((s2.bytes, s2.records), (taken, again.totals.read));
}

#[test]
fn without_counters_nothing_changes() {
    let with = IngestOptions {
        progress: Some(ReadProgress::new()),
        ..Default::default()
    };
    let mut a = Vec::new();
    let mut b = Vec::new();
    let key = |ev: &tw_event::Event, out: &mut Vec<String>| {
        out.push(format!("{}:{}", ev.provenance.file, ev.provenance.record))
    };
    let ra = ingest(&[case()], &with, key, |k| a.push(k));
    let rb = ingest(&[case()], &IngestOptions::default(), key, |k| b.push(k));
    assert_eq!(a, b);
    assert_eq!(ra.totals.read, rb.totals.read);
}
