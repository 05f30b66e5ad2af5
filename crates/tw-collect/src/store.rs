//! What a run leaves on disk: one file per source and completed window (written as `NAME.part`,
//! renamed when the window is complete, so a file under its final name is always whole), optionally
//! gzipped, and the checkpoint `DIR/<tenant>/checkpoint.jsonl`: one line per completed or split
//! window, appended and synced after the rename. After a kill at any moment, `--resume` skips the
//! windows the checkpoint names and collects the others again into the same file names, so no
//! record is lost or written twice.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::window::Window;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io(format!("{}: {e}", path.display()))
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

/// The file of one window while it is being collected.
pub struct WindowFile {
    part: PathBuf,
    path: PathBuf,
    sink: Sink,
    counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl WindowFile {
    /// Creates `path` + `.part` (replacing a leftover of an interrupted run).
    pub fn create(path: PathBuf, gzip: bool) -> Result<WindowFile, Error> {
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(io(d))?;
        }
        let mut part = path.clone().into_os_string();
        part.push(".part");
        let part = PathBuf::from(part);
        let f = File::create(&part).map_err(io(&part))?;
        let w = BufWriter::with_capacity(1 << 18, f);
        let sink = if gzip {
            Sink::Gzip(Box::new(GzEncoder::new(w, Compression::fast())))
        } else {
            Sink::Plain(w)
        };
        Ok(WindowFile {
            part,
            path,
            sink,
            counter: None,
        })
    }

    /// Counts each line written into `c` too (progress display).
    pub fn count_into(&mut self, c: std::sync::Arc<std::sync::atomic::AtomicU64>) {
        self.counter = Some(c);
    }

    /// Appends one line. A record served pretty-printed keeps one line: line breaks inside JSON
    /// text can only be white space between tokens (inside strings they are escaped), so they
    /// become spaces.
    pub fn line(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(c) = &self.counter {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let flat: Vec<u8>;
        let data = if data.iter().any(|&b| b == b'\n' || b == b'\r') {
            flat = data
                .iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                .collect();
            &flat[..]
        } else {
            data
        };
        let r = match &mut self.sink {
            Sink::Plain(w) => w.write_all(data).and_then(|_| w.write_all(b"\n")),
            Sink::Gzip(w) => w.write_all(data).and_then(|_| w.write_all(b"\n")),
        };
        r.map_err(io(&self.part))
    }

    /// Flushes, syncs and renames the file to its final name.
    pub fn finish(self) -> Result<PathBuf, Error> {
        let f = match self.sink {
            Sink::Plain(w) => w.into_inner().map_err(|e| e.into_error()),
            Sink::Gzip(w) => w
                .finish()
                .and_then(|b| b.into_inner().map_err(|e| e.into_error())),
        }
        .map_err(io(&self.part))?;
        f.sync_all().map_err(io(&self.part))?;
        fs::rename(&self.part, &self.path).map_err(io(&self.path))?;
        Ok(self.path)
    }

    /// Drops what was written.
    pub fn discard(self) {
        let part = self.part.clone();
        drop(self.sink);
        let _ = fs::remove_file(part);
    }
}

/// What was collected in one window.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct WindowDone {
    /// Records written.
    pub records: u64,
    /// Pages (or content blobs) read.
    pub pages: u64,
    /// Requests retried.
    pub retries: u64,
    /// Seconds waited on `Retry-After`.
    pub throttled_seconds: f64,
    /// Records served twice and dropped (Management Activity API blobs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicates: u64,
    /// Times the window was started again (expired skip token).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restarts: u64,
    /// The file, relative to the tenant folder.
    pub file: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One checkpoint line.
#[derive(Serialize, Deserialize)]
struct Line {
    source: String,
    start: i64,
    end: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    done: Option<WindowDone>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    split: bool,
}

/// State of a window in the checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// Collected into a file.
    Done(WindowDone),
    /// Replaced by its two halves.
    Split,
}

/// The checkpoint of one tenant.
pub struct Checkpoint {
    path: PathBuf,
    marks: HashMap<(String, Window), Mark>,
    file: std::sync::Mutex<Option<File>>,
}

/// File name of the checkpoint in the tenant folder.
pub const CHECKPOINT: &str = "checkpoint.jsonl";

impl Checkpoint {
    /// Opens the tenant's checkpoint: read when `resume`, else started afresh. A last line cut
    /// short by a kill is ignored (its window is collected again).
    pub fn open(dir: &Path, resume: bool) -> Result<Checkpoint, Error> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(CHECKPOINT);
        let mut marks = HashMap::new();
        if resume && path.exists() {
            let f = File::open(&path).map_err(io(&path))?;
            for line in BufReader::new(f).lines() {
                let line = line.map_err(io(&path))?;
                let Ok(l) = serde_json::from_str::<Line>(&line) else {
                    continue;
                };
                let w = Window {
                    start: l.start,
                    end: l.end,
                };
                let mark = match (l.done, l.split) {
                    (Some(d), _) => Mark::Done(d),
                    (None, true) => Mark::Split,
                    (None, false) => continue,
                };
                marks.insert((l.source, w), mark);
            }
        }
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        if !resume || f.metadata().map(|m| m.len() == 0).unwrap_or(true) {
            f.set_len(0).map_err(io(&path))?;
            // What the file is, for readers of the folder (ingest lists it as no log).
            let head = concat!(
                "{\"tool\":\"tenantwatch ",
                env!("CARGO_PKG_VERSION"),
                "\",\"checkpoint\":1}"
            );
            let mut f2 = &f;
            f2.write_all(head.as_bytes()).map_err(io(&path))?;
        }
        Ok(Checkpoint {
            path,
            marks,
            file: std::sync::Mutex::new(Some(f)),
        })
    }

    /// What an earlier run recorded for `source`'s `window`.
    pub fn get(&self, source: &str, window: Window) -> Option<&Mark> {
        self.marks.get(&(source.to_string(), window))
    }

    /// Records `window` of `source` (appended and synced before returning).
    pub fn record(&self, source: &str, window: Window, mark: &Mark) -> Result<(), Error> {
        let (done, split) = match mark {
            Mark::Done(d) => (Some(d.clone()), false),
            Mark::Split => (None, true),
        };
        let l = Line {
            source: source.to_string(),
            start: window.start,
            end: window.end,
            done,
            split,
        };
        let mut text = serde_json::to_vec(&l).map_err(|e| Error::Io(e.to_string()))?;
        // A leading newline ends a line that a kill may have cut short.
        text.insert(0, b'\n');
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let f = g
            .as_mut()
            .ok_or_else(|| Error::Io(format!("{}: closed", self.path.display())))?;
        f.write_all(&text).map_err(io(&self.path))?;
        f.sync_data().map_err(io(&self.path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_survives_a_cut_line_and_starts_afresh_without_resume() {
        let d = std::env::temp_dir().join(format!("tw-collect-ckpt-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let w = Window {
            start: 0,
            end: 60_000,
        };
        let done = WindowDone {
            records: 3,
            file: "a.jsonl".into(),
            ..Default::default()
        };
        {
            let c = Checkpoint::open(&d, false).unwrap();
            c.record("s", w, &Mark::Done(done.clone())).unwrap();
            c.record("s", Window { start: 1, end: 2 }, &Mark::Split)
                .unwrap();
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(d.join(CHECKPOINT))
            .unwrap();
        f.write_all(b"\n{\"source\":\"s\",\"sta").unwrap();
        let c = Checkpoint::open(&d, true).unwrap();
        assert_eq!(c.get("s", w), Some(&Mark::Done(done)));
        assert_eq!(c.get("s", Window { start: 1, end: 2 }), Some(&Mark::Split));
        c.record("t", w, &Mark::Split).unwrap();
        drop(c);
        let c = Checkpoint::open(&d, true).unwrap();
        assert_eq!(c.get("t", w), Some(&Mark::Split));
        let c = Checkpoint::open(&d, false).unwrap();
        assert!(c.get("s", w).is_none());
        fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn window_file_appears_only_when_finished() {
        let d = std::env::temp_dir().join(format!("tw-collect-wf-{}", std::process::id()));
        let p = d.join("x/a.jsonl");
        let mut f = WindowFile::create(p.clone(), false).unwrap();
        f.line(b"{}").unwrap();
        f.line(b"{\r\n  \"a\": \"x\\ny\"\n}").unwrap();
        assert!(!p.exists());
        f.finish().unwrap();
        let text = fs::read_to_string(&p).unwrap();
        assert_eq!(text, "{}\n{    \"a\": \"x\\ny\" }\n");
        let v: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(v["a"], "x\ny");
        let f = WindowFile::create(d.join("x/b.jsonl"), true).unwrap();
        f.discard();
        assert_eq!(fs::read_dir(d.join("x")).unwrap().count(), 1);
        fs::remove_dir_all(&d).ok();
    }
}
