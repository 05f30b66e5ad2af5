//! `tw-bench gen-real`: a benchmark set made of real public samples rather than generated data.
//!
//! Every record tenantwatch reads from a corpus folder (the public samples of
//! `../shared/corpus/logs`) is written as one JSON object per line — the record as the events
//! carry it: JSON records as they are, CSV rows with their embedded JSON cells decoded — and the
//! whole list repeated, in file and record order, until the set reaches the requested size
//! (`OUT/jsonl/events.jsonl`, for generic `--format-in json` runs). The files those records came
//! from are copied as they are, again and again, to about the same size (`OUT/formats/copy-N/…`,
//! for runs with formats detected). Files tenantwatch does not read, and tenant configuration
//! reports (a ScubaGear report is one 1.9 MB document: a snapshot for `audit`, not a log record;
//! kept, it would be two thirds of the set's bytes), are left out of both, so both modes see the
//! same log records.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tw_ingest::{IngestOptions, ingest};

/// What `gen-real` wrote.
pub struct RealSet {
    pub records: usize,
    pub files: usize,
    pub jsonl_events: u64,
    pub jsonl_bytes: u64,
    pub format_copies: u64,
    pub format_bytes: u64,
}

/// The records of `corpus` as single-line JSON, in file and record order, and the files read.
fn flatten(corpus: &Path) -> Result<(Vec<String>, Vec<PathBuf>), String> {
    let opts = IngestOptions {
        threads: 1,
        ..IngestOptions::default()
    };
    let mut rows: Vec<(String, u64, String)> = Vec::new();
    let report = ingest(
        &[corpus.to_path_buf()],
        &opts,
        |ev, out: &mut Vec<(String, u64, String)>| {
            if ev.kind == tw_event::LogKind::TenantConfig {
                return;
            }
            out.push((
                ev.provenance.file.to_string(),
                ev.provenance.record,
                ev.doc().to_string(),
            ));
        },
        |row| rows.push(row),
    );
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let files: Vec<PathBuf> = report
        .files
        .iter()
        .filter(|f| f.read > 0 && f.log_kind != "tenant_config" && !f.path.contains('!'))
        .map(|f| PathBuf::from(&f.path))
        .collect();
    if rows.is_empty() {
        return Err(format!("{}: no records read", corpus.display()));
    }
    Ok((rows.into_iter().map(|r| r.2).collect(), files))
}

/// Writes the set of `corpus` into `out`, each half about `mb` MB.
pub fn generate(corpus: &Path, out: &Path, mb: u64) -> Result<RealSet, String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let (records, files) = flatten(corpus)?;
    let target = mb * 1_000_000;
    let jsonl_dir = out.join("jsonl");
    std::fs::create_dir_all(&jsonl_dir).map_err(|e| err(&jsonl_dir, e))?;
    let path = jsonl_dir.join("events.jsonl");
    let mut w = BufWriter::new(std::fs::File::create(&path).map_err(|e| err(&path, e))?);
    let (mut jsonl_bytes, mut jsonl_events) = (0u64, 0u64);
    while jsonl_bytes < target {
        for r in &records {
            w.write_all(r.as_bytes()).map_err(|e| err(&path, e))?;
            w.write_all(b"\n").map_err(|e| err(&path, e))?;
            jsonl_bytes += r.len() as u64 + 1;
            jsonl_events += 1;
        }
    }
    w.flush().map_err(|e| err(&path, e))?;
    let (format_copies, format_bytes) = copy_files(corpus, &files, &out.join("formats"), target)?;
    Ok(RealSet {
        records: records.len(),
        files: files.len(),
        jsonl_events,
        jsonl_bytes,
        format_copies,
        format_bytes,
    })
}

/// Copies `files` (under `corpus`) into `dir/copy-N/` until `target` bytes are written.
fn copy_files(
    corpus: &Path,
    files: &[PathBuf],
    dir: &Path,
    target: u64,
) -> Result<(u64, u64), String> {
    let (mut copies, mut bytes) = (0u64, 0u64);
    let mut texts = Vec::new();
    for f in files {
        let rel = f.strip_prefix(corpus).unwrap_or(f);
        let data = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        texts.push((rel.to_path_buf(), data));
    }
    while bytes < target {
        let base = dir.join(format!("copy-{copies:04}"));
        for (rel, data) in &texts {
            let p = base.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&p, data).map_err(|e| format!("{}: {e}", p.display()))?;
            bytes += data.len() as u64;
        }
        copies += 1;
    }
    Ok((copies, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_holds_every_log_record_of_the_corpus_in_both_shapes() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/corpus");
        let out = std::env::temp_dir().join(format!("tw-bench-real-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let set = generate(&corpus, &out, 1).expect("set");
        // The copies of the public samples: 741 log records of 15 files; the ScubaGear report
        // (tenant configuration) and the PROVENANCE notes are left out.
        assert_eq!((set.records, set.files), (741, 15));
        let text = std::fs::read_to_string(out.join("jsonl/events.jsonl")).expect("jsonl");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, set.jsonl_events);
        assert_eq!(lines.len() % set.records, 0, "whole repetitions");
        assert!(set.jsonl_bytes >= 1_000_000 && set.format_bytes >= 1_000_000);
        for l in &lines[..set.records] {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object a line");
            assert!(v.is_object(), "{l}");
        }
        assert!(!text.contains("ScubaResults"));
        let first = out.join("formats/copy-0000");
        assert!(
            first
                .join("Azure-Sentinel-Training-Lab/Artifacts/Telemetry/signinLogs.csv")
                .is_file()
        );
        assert!(!first.join("cisagov-ScubaGear").exists());
        let _ = std::fs::remove_dir_all(&out);
    }
}
