//! How far a read has got, for a caller that shows progress: counters of bytes consumed on disk,
//! records read and files finished, updated by the reader with one atomic addition per chunk
//! (256 KiB), per batch (1,024 records) and per file — never per record, never under a lock. The
//! caller shares one [`ReadProgress`] through [`crate::IngestOptions::progress`] and samples it
//! ([`ReadProgress::snapshot`]) from its own thread whenever it likes.
//!
//! Bytes are those taken from the file on disk: compressed bytes for `.gz`; for a zip member, its
//! compressed size in proportion to what was decompressed of it. The total is the sum of the
//! inputs' sizes on disk (each archive once).

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use crate::source::{Input, Origin};

/// Counters of one read after another; see the module documentation.
#[derive(Debug, Default)]
pub struct ReadProgress {
    passes: AtomicU64,
    partial: AtomicBool,
    total_bytes: AtomicU64,
    total_files: AtomicU64,
    bytes: AtomicU64,
    records: AtomicU64,
    files_done: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Complete reads of the inputs begun so far (1 during the first).
    pub passes: u64,
    /// True while the current read is a second look at some of the inputs only (a rule that
    /// needs records of tenants known only at the end of the first read).
    pub partial: bool,
    /// Bytes on disk of the inputs of the current read.
    pub total_bytes: u64,
    /// Inputs of the current read.
    pub total_files: u64,
    /// Bytes consumed so far in the current read.
    pub bytes: u64,
    /// Records read so far in the current read.
    pub records: u64,
    /// Inputs finished so far in the current read.
    pub files_done: u64,
}

impl ReadProgress {
    /// New counters, no read begun.
    pub fn new() -> Arc<ReadProgress> {
        Arc::new(ReadProgress::default())
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            passes: self.passes.load(Relaxed),
            partial: self.partial.load(Relaxed),
            total_bytes: self.total_bytes.load(Relaxed),
            total_files: self.total_files.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            records: self.records.load(Relaxed),
            files_done: self.files_done.load(Relaxed),
        }
    }

    /// A read of `inputs` begins; `partial` when it reads only some of the inputs again.
    pub(crate) fn begin<'a>(&self, inputs: impl Iterator<Item = &'a Input>, partial: bool) {
        let (bytes, files) = size_on_disk(inputs);
        self.bytes.store(0, Relaxed);
        self.records.store(0, Relaxed);
        self.files_done.store(0, Relaxed);
        self.total_bytes.store(bytes, Relaxed);
        self.total_files.store(files, Relaxed);
        self.partial.store(partial, Relaxed);
        if !partial {
            self.passes.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Relaxed);
    }

    pub(crate) fn add_records(&self, n: u64) {
        self.records.fetch_add(n, Relaxed);
    }

    pub(crate) fn file_done(&self) {
        self.files_done.fetch_add(1, Relaxed);
    }
}

/// Bytes on disk of `inputs` (each archive once; in-memory inputs by their length) and their count.
fn size_on_disk<'a>(inputs: impl Iterator<Item = &'a Input>) -> (u64, u64) {
    let mut archives: BTreeSet<&PathBuf> = BTreeSet::new();
    let (mut bytes, mut files) = (0u64, 0u64);
    let len = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    for input in inputs {
        files += 1;
        bytes += match &input.origin {
            Origin::File(p) => len(p),
            Origin::Bytes(b) => b.len() as u64,
            Origin::ZipMember { archive, .. } if archives.insert(archive) => len(archive),
            Origin::ZipMember { .. } => 0,
        };
    }
    (bytes, files)
}

/// A reader that adds what it reads to the counters (one addition per read call: the callers
/// read through buffers of 256 KiB).
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) progress: Arc<ReadProgress>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add_bytes(n as u64);
        Ok(n)
    }
}

/// Counts a zip member's compressed bytes in proportion to what was decompressed of it: the
/// decompressor does not say how much of the archive it consumed.
pub(crate) struct MemberShare {
    progress: Option<Arc<ReadProgress>>,
    compressed: u64,
    size: u64,
    out: u64,
    counted: u64,
}

impl MemberShare {
    /// A member of `size` bytes stored in `compressed` bytes.
    pub(crate) fn new(progress: Option<Arc<ReadProgress>>, compressed: u64, size: u64) -> Self {
        MemberShare {
            progress,
            compressed,
            size,
            out: 0,
            counted: 0,
        }
    }

    /// `n` more bytes were decompressed (0: the member is finished).
    pub(crate) fn decompressed(&mut self, n: u64) {
        let Some(p) = &self.progress else {
            return;
        };
        self.out += n;
        let due = if n == 0 || self.size == 0 {
            self.compressed
        } else {
            let share = self.compressed as u128 * self.out.min(self.size) as u128;
            (share / self.size as u128) as u64
        };
        if due > self.counted {
            p.add_bytes(due - self.counted);
            self.counted = due;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zip_member_counts_its_compressed_size_in_proportion() {
        let p = ReadProgress::new();
        let mut share = MemberShare::new(Some(p.clone()), 1_000, 10_000);
        share.decompressed(2_500);
        assert_eq!(p.snapshot().bytes, 250);
        share.decompressed(5_000);
        assert_eq!(p.snapshot().bytes, 750);
        // A member longer than declared never counts past its compressed size.
        share.decompressed(9_000);
        assert_eq!(p.snapshot().bytes, 1_000);
        share.decompressed(0);
        assert_eq!(p.snapshot().bytes, 1_000);
        let mut short = MemberShare::new(Some(p.clone()), 40, 400);
        short.decompressed(100);
        short.decompressed(0);
        assert_eq!(p.snapshot().bytes, 1_040);
    }

    #[test]
    fn a_new_read_resets_the_counters_and_counts_archives_once() {
        let p = ReadProgress::new();
        let inputs = [
            Input::from_bytes("a/x.json", vec![b'{'; 300]),
            Input::from_bytes("a/y.json", vec![b'{'; 50]),
        ];
        p.begin(inputs.iter(), false);
        p.add_bytes(120);
        p.add_records(7);
        p.file_done();
        let s = p.snapshot();
        assert_eq!((s.passes, s.total_bytes, s.total_files), (1, 350, 2));
        assert_eq!((s.bytes, s.records, s.files_done), (120, 7, 1));
        p.begin(inputs[..1].iter(), true);
        let s = p.snapshot();
        assert_eq!((s.passes, s.partial, s.total_bytes), (1, true, 300));
        assert_eq!((s.bytes, s.records, s.files_done), (0, 0, 0));
        p.begin(inputs.iter(), false);
        assert_eq!(p.snapshot().passes, 2);
        let dir = std::env::temp_dir().join(format!("tw-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let zip = dir.join("case.zip");
        std::fs::write(&zip, vec![0u8; 4_096]).ok();
        let member = |index| Input {
            display: format!("case.zip!m{index}.json"),
            folder: "case.zip".into(),
            origin: Origin::ZipMember {
                archive: zip.clone(),
                index,
            },
            member_at: Some(9),
        };
        let members = [member(0), member(1), member(2)];
        assert_eq!(size_on_disk(members.iter()), (4_096, 3));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn counted_reads_add_what_they_read() {
        let p = ReadProgress::new();
        let mut r = Counted {
            inner: io::Cursor::new(vec![7u8; 10_000]),
            progress: p.clone(),
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).ok();
        assert_eq!((out.len(), p.snapshot().bytes), (10_000, 10_000));
    }
}
