//! The evidence manifest (`manifest.json`): the SHA-256 of every input file and of every report
//! written, the tool version and the rule set version, so a result can be reproduced and its files
//! checked for tampering.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// One hashed file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileHash {
    /// Path (inputs: as found under the paths given; reports: relative to the report folder).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Schema name and version.
    pub schema: &'static str,
    /// `tenantwatch`.
    pub tool: String,
    /// Tool version.
    pub tool_version: String,
    /// Rule set version (a digest of the rules in use).
    pub rule_set_version: String,
    /// The command line arguments that produced the reports (seeds, bounds).
    pub arguments: Vec<String>,
    /// Every input file.
    pub inputs: Vec<FileHash>,
    /// Every report file written.
    pub reports: Vec<FileHash>,
    /// Input files not fully read and records rejected: the reports do not reflect them.
    pub input_problems: tw_analyze::InputProblems,
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(d: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(d.len() * 2);
    for b in d {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 and size of a file, read in chunks.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex(&h.finalize()), n))
}

/// Every regular file under the paths (folders walked recursively, sorted; symbolic links are
/// not followed), hashed. Unreadable files are returned as errors next to the hashes.
pub fn hash_inputs(paths: &[PathBuf]) -> (Vec<FileHash>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        walk(p, &mut files, &mut errors, 0);
    }
    let mut out = Vec::new();
    for f in files {
        match sha256_file(&f) {
            Ok((sha256, bytes)) => out.push(FileHash {
                path: f.display().to_string(),
                bytes,
                sha256,
            }),
            Err(e) => errors.push(format!("{}: {e}", f.display())),
        }
    }
    (out, errors)
}

fn walk(p: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<String>, depth: u32) {
    let meta = match std::fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => {
            errors.push(format!("{}: {e}", p.display()));
            return;
        }
    };
    if meta.is_file() {
        files.push(p.to_path_buf());
    } else if meta.is_dir() && depth < 64 {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push(format!("{}: {e}", p.display()));
                return;
            }
        };
        entries.sort();
        for e in entries {
            walk(&e, files, errors, depth + 1);
        }
    } else if meta.file_type().is_symlink() {
        // A link given directly on the command line is what the user means: follow it once.
        if depth == 0 && p.is_file() {
            files.push(p.to_path_buf());
        }
    }
}

/// Hashes report files relative to `root`.
pub fn hash_reports(root: &Path, files: &[PathBuf]) -> io::Result<Vec<FileHash>> {
    let mut out = Vec::new();
    for f in files {
        let (sha256, bytes) = sha256_file(f)?;
        let rel = f.strip_prefix(root).unwrap_or(f);
        out.push(FileHash {
            path: rel.display().to_string().replace('\\', "/"),
            bytes,
            sha256,
        });
    }
    Ok(out)
}

/// Writes `manifest.json` into `dir`; returns its path.
pub fn write_manifest(dir: &Path, m: &Manifest) -> io::Result<PathBuf> {
    let path = dir.join("manifest.json");
    let mut f = File::create(&path)?;
    serde_json::to_writer_pretty(&mut f, m).map_err(io::Error::other)?;
    f.write_all(b"\n")?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
