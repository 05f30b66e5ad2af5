//! Finding the input files and opening them: plain files, folders (walked recursively, sorted),
//! gzip streams and zip archives (members in nested folders), recognised by their magic bytes.
//!
//! Decompression is bounded: a zip member whose declared size or compression ratio is implausible is
//! refused, and every decompressed stream stops with an error past the configured size. A zip member
//! whose path would escape the archive (`../`, absolute) is refused.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::progress::{Counted, MemberShare, ReadProgress};

/// Limits applied while opening inputs.
#[derive(Debug, Clone)]
pub struct SourceLimits {
    /// Most bytes one decompressed stream may yield.
    pub max_decompressed: u64,
    /// Largest compression ratio accepted for zip members larger than 1 MiB.
    pub max_ratio: u64,
}

impl Default for SourceLimits {
    fn default() -> Self {
        SourceLimits {
            max_decompressed: 64 << 30,
            max_ratio: 1000,
        }
    }
}

/// Where one input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk (maybe gzip-compressed: detected when opened).
    File(PathBuf),
    /// Bytes already in memory (tests, fuzzing, API responses).
    Bytes(std::sync::Arc<Vec<u8>>),
    /// A member of a zip archive.
    ZipMember {
        /// The archive on disk.
        archive: PathBuf,
        /// The member's index in the archive.
        index: usize,
    },
}

/// One input to read: a file, or an archive member.
#[derive(Debug, Clone)]
pub struct Input {
    /// The name used in provenance: the path as given, `archive.zip!inner/path` for members.
    pub display: String,
    /// The export folder it belongs to (for tenant attribution).
    pub folder: String,
    /// Where its bytes are.
    pub origin: Origin,
    /// For an archive member: where its name starts in `display` (after the archive's path and
    /// the `!`), so that only real archive members are split there.
    pub member_at: Option<usize>,
}

/// An input that could not even be listed (unreadable folder, corrupt zip, refused member).
#[derive(Debug, Clone)]
pub struct ListError {
    /// The path as shown.
    pub path: String,
    /// What went wrong.
    pub reason: String,
    /// True when the input was deliberately not read (not a regular file, a second link to
    /// something already read): listed as `skipped`, not as `unreadable`.
    pub skipped: bool,
}

fn magic(path: &Path) -> io::Result<[u8; 4]> {
    let mut f = File::open(path)?;
    let mut m = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        let k = f.read(&mut m[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(m)
}

fn is_zip(m: &[u8; 4]) -> bool {
    m == b"PK\x03\x04" || m == b"PK\x05\x06"
}

fn is_gzip(m: &[u8]) -> bool {
    m.len() >= 2 && m[0] == 0x1f && m[1] == 0x8b
}

fn parent_of(display: &str) -> String {
    match display.rfind(['/', '\\']) {
        Some(i) => display[..i].to_string(),
        None => String::from("."),
    }
}

/// Lists every input under `paths`, in a deterministic order (paths as given, folders sorted).
///
/// Links are followed, but each real folder and file (device and inode) is read once: a link back
/// to a folder already walked (`ln -s . loop`) or a second name of a file already listed is
/// skipped with a note. Anything that is neither a folder nor a regular file (FIFO, socket,
/// device) is skipped with a note and never opened.
pub fn list_inputs(paths: &[PathBuf], limits: &SourceLimits) -> (Vec<Input>, Vec<ListError>) {
    let mut w = Walk {
        limits,
        inputs: Vec::new(),
        errors: Vec::new(),
        seen: std::collections::HashMap::new(),
    };
    for p in paths {
        w.walk(p);
    }
    (w.inputs, w.errors)
}

/// The state of one listing.
struct Walk<'a> {
    limits: &'a SourceLimits,
    inputs: Vec<Input>,
    errors: Vec<ListError>,
    /// Folders and files already listed (device, inode) → the name they were listed under.
    seen: std::collections::HashMap<(u64, u64), String>,
}

/// The device and inode of a file, where the platform has them.
#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// What a file that is neither a folder nor a regular file is.
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    let _ = meta;
    "not a regular file"
}

impl Walk<'_> {
    fn error(&mut self, path: String, reason: String) {
        self.errors.push(ListError {
            path,
            reason,
            skipped: false,
        });
    }

    fn skip(&mut self, path: String, reason: String) {
        self.errors.push(ListError {
            path,
            reason,
            skipped: true,
        });
    }

    /// True the first time a folder or file is met; a note for the later ones.
    fn first_visit(&mut self, meta: &std::fs::Metadata, display: &str) -> bool {
        let Some(id) = identity(meta) else {
            return true;
        };
        match self.seen.get(&id) {
            Some(first) => {
                let what = if meta.is_dir() { "folder" } else { "file" };
                let reason = format!(
                    "skipped: the same {what} as {} (a link), already read",
                    tw_event::escape_text(first)
                );
                self.skip(display.to_string(), reason);
                false
            }
            None => {
                self.seen.insert(id, display.to_string());
                true
            }
        }
    }

    fn walk(&mut self, p: &Path) {
        let display = p.to_string_lossy().to_string();
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => return self.error(display, format!("cannot read: {e}")),
        };
        if meta.is_dir() {
            if self.first_visit(&meta, &display) {
                self.walk_dir(p, display);
            }
            return;
        }
        if !meta.is_file() {
            let reason = format!("skipped: {}, not opened", special_kind(&meta));
            return self.skip(display, reason);
        }
        if !self.first_visit(&meta, &display) {
            return;
        }
        match magic(p) {
            Ok(m) if is_zip(&m) => {
                list_zip(p, &display, self.limits, &mut self.inputs, &mut self.errors)
            }
            Ok(_) => self.inputs.push(Input {
                folder: parent_of(&display),
                display,
                origin: Origin::File(p.to_path_buf()),
                member_at: None,
            }),
            Err(e) => self.error(display, format!("cannot read: {e}")),
        }
    }

    fn walk_dir(&mut self, p: &Path, display: String) {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return self.error(display, format!("cannot list folder: {e}")),
        };
        entries.sort();
        for e in entries {
            self.walk(&e);
        }
    }
}

/// A zip member's name as a relative path with `/` separators, or `None` when it would escape the
/// archive: absolute (`/x`, `\\x`), a drive letter (`C:x`), or a `..` component. Backslashes are
/// separators (archives written on Windows use them).
pub fn member_path(raw: &str) -> Option<String> {
    let name = raw.replace('\\', "/");
    let b = name.as_bytes();
    if name.starts_with('/') || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':') {
        return None;
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() || parts.iter().any(|c| *c == ".." || c.contains('\0')) {
        return None;
    }
    Some(parts.join("/"))
}

fn list_zip(
    p: &Path,
    display: &str,
    limits: &SourceLimits,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<ListError>,
) {
    let f = match File::open(p) {
        Ok(f) => f,
        Err(e) => {
            errors.push(ListError {
                path: display.to_string(),
                reason: format!("cannot read: {e}"),
                skipped: false,
            });
            return;
        }
    };
    let mut z = match zip::ZipArchive::new(BufReader::new(f)) {
        Ok(z) => z,
        Err(e) => {
            errors.push(ListError {
                path: display.to_string(),
                reason: format!("corrupt zip archive: {e}"),
                skipped: false,
            });
            return;
        }
    };
    let mut members = Vec::new();
    for i in 0..z.len() {
        // The central directory names the member even when its data is damaged.
        let shown = match z.name_for_index(i) {
            Some(n) => format!("{display}!{n}"),
            None => format!("{display}!#{i}"),
        };
        let refuse = |path: String, reason: String| ListError {
            path,
            reason,
            skipped: false,
        };
        let m = match z.by_index_raw(i) {
            Ok(m) => m,
            Err(e) => {
                errors.push(refuse(shown, format!("corrupt zip member: {e}")));
                continue;
            }
        };
        if m.is_dir() {
            continue;
        }
        let raw_name = m.name().to_string();
        let Some(name) = member_path(&raw_name) else {
            errors.push(refuse(
                format!("{display}!{raw_name}"),
                "zip member path escapes the archive (parent folder, absolute or drive path); refused"
                    .into(),
            ));
            continue;
        };
        let size = m.size();
        let csize = m.compressed_size().max(1);
        if size > limits.max_decompressed || (size > (1 << 20) && size / csize > limits.max_ratio) {
            errors.push(refuse(
                format!("{display}!{name}"),
                format!(
                    "zip member declares {size} bytes from {csize} compressed (bomb?); refused"
                ),
            ));
            continue;
        }
        members.push((name, i));
    }
    members.sort();
    for (name, index) in members {
        let disp = format!("{display}!{name}");
        inputs.push(Input {
            folder: parent_of(&disp),
            display: disp,
            origin: Origin::ZipMember {
                archive: p.to_path_buf(),
                index,
            },
            member_at: Some(display.len() + 1),
        });
    }
}

/// A reader that fails once more than `left` bytes have been read.
struct Limit<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(
                "decompressed size exceeds the limit (decompression bomb?)",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Streams a zip member through a pipe thread so that nothing is held in memory whole.
fn zip_member_stream(
    archive: &Path,
    index: usize,
    limits: &SourceLimits,
    progress: Option<Arc<ReadProgress>>,
) -> io::Result<Box<dyn Read + Send>> {
    let (tx, rx) = crossbeam_channel::bounded::<io::Result<Vec<u8>>>(4);
    let archive = archive.to_path_buf();
    let max = limits.max_decompressed;
    std::thread::spawn(move || {
        let run = || -> io::Result<()> {
            let f = File::open(&archive)?;
            let mut z = zip::ZipArchive::new(BufReader::new(f)).map_err(io::Error::other)?;
            let m = z.by_index(index).map_err(io::Error::other)?;
            let mut share = MemberShare::new(progress, m.compressed_size(), m.size());
            let mut r = Limit {
                inner: m,
                left: max,
            };
            loop {
                let mut buf = vec![0u8; 256 << 10];
                let n = r.read(&mut buf)?;
                share.decompressed(n as u64);
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                if tx.send(Ok(buf)).is_err() {
                    return Ok(());
                }
            }
        };
        if let Err(e) = run() {
            let _ = tx.send(Err(e));
        }
    });
    Ok(Box::new(ChannelReader {
        rx,
        cur: io::Cursor::new(Vec::new()),
    }))
}

struct ChannelReader {
    rx: crossbeam_channel::Receiver<io::Result<Vec<u8>>>,
    cur: io::Cursor<Vec<u8>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.cur.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => self.cur = io::Cursor::new(chunk),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Shared bytes as a cursor target.
struct SharedBytes(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Input {
    /// An in-memory input named `display` (its export folder is the display path's parent).
    pub fn from_bytes(display: &str, bytes: Vec<u8>) -> Input {
        Input {
            display: display.to_string(),
            folder: parent_of(display),
            origin: Origin::Bytes(std::sync::Arc::new(bytes)),
            member_at: None,
        }
    }
}

/// Opens an input as a byte stream, decompressing gzip (detected by magic bytes, also inside zips).
pub fn open(input: &Input, limits: &SourceLimits) -> io::Result<Box<dyn Read + Send>> {
    Ok(Box::new(open_counted(input, limits, None)?))
}

/// Like [`open`], buffered (one buffer of 256 KiB between the source and the reader), adding
/// the bytes taken from disk to `progress` (see [`crate::progress`]).
pub fn open_counted(
    input: &Input,
    limits: &SourceLimits,
    progress: Option<&Arc<ReadProgress>>,
) -> io::Result<Box<dyn BufRead + Send>> {
    let counted = |inner: Box<dyn Read + Send>| -> Box<dyn Read + Send> {
        match progress {
            Some(p) => Box::new(Counted {
                inner,
                progress: p.clone(),
            }),
            None => inner,
        }
    };
    let raw: Box<dyn Read + Send> = match &input.origin {
        Origin::File(p) => counted(Box::new(File::open(p)?)),
        Origin::Bytes(b) => counted(Box::new(io::Cursor::new(SharedBytes(b.clone())))),
        Origin::ZipMember { archive, index } => {
            zip_member_stream(archive, *index, limits, progress.cloned())?
        }
    };
    let mut br = BufReader::with_capacity(256 << 10, raw);
    let head = {
        br.fill_buf()?
            .get(..2)
            .map(|h| h.to_vec())
            .unwrap_or_default()
    };
    if is_gzip(&head) {
        let gz = flate2::bufread::MultiGzDecoder::new(br);
        let text = Limit {
            inner: gz,
            left: limits.max_decompressed,
        };
        Ok(Box::new(BufReader::with_capacity(256 << 10, text)))
    } else {
        Ok(Box::new(br))
    }
}
