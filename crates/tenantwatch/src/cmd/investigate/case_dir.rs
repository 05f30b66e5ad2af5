//! The case folder: the refusal to overwrite, the removal of a previous run's outputs under
//! `--force` (only the files its manifest lists), and `manifest.json` (every file of the folder
//! and every input, hashed).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
pub use tw_report::manifest::hash_inputs;
use tw_report::manifest::{FileHash, hash_reports};

/// Schema name and version of the case manifest.
pub const MANIFEST_SCHEMA: &str = "tenantwatch-case-manifest/1";

/// Files `investigate` writes at the top of the case folder.
pub const OUTPUTS: [&str; 8] = [
    "verdict.json",
    "findings.jsonl",
    "timeline.csv",
    "timesketch.jsonl",
    "blast.json",
    "index.html",
    "manifest.json",
    "reports",
];

/// The absolute form of `p`, which need not exist yet (its nearest existing ancestor is resolved).
fn absolute(p: &Path) -> Option<PathBuf> {
    let p = std::path::absolute(p).ok()?;
    let mut tail = Vec::new();
    let mut cur = p.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            out.extend(tail.iter().rev());
            return Some(out);
        }
        tail.push(cur.file_name()?.to_os_string());
        cur = cur.parent()?;
    }
}

/// Refuses a case folder inside an input folder: the blast radius reads the inputs after the
/// findings are written, and would read them as evidence.
pub fn outside_inputs(dir: &Path, inputs: &[PathBuf]) -> Result<()> {
    let Some(d) = absolute(dir) else {
        return Ok(());
    };
    for i in inputs {
        if let Ok(i) = i.canonicalize()
            && i.is_dir()
            && d.starts_with(&i)
        {
            bail!(
                "the case folder {} is inside the input {}: give --out a folder outside the logs",
                dir.display(),
                i.display()
            );
        }
    }
    Ok(())
}

/// Makes `dir` ready: refuses a non-empty folder unless `force`; with `force`, removes what the
/// previous run wrote there (the files its `manifest.json` lists) and leaves anything else alone.
pub fn prepare(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("--out {} exists and is not a folder", dir.display());
        }
        let non_empty = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some();
        if non_empty && !force {
            bail!(
                "the case folder {} is not empty; give another --out, or --force to overwrite it",
                dir.display()
            );
        }
        if non_empty {
            remove_previous(dir)?;
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The files a previous run's manifest lists, relative to the case folder; `None` without a case
/// manifest.
fn previous_outputs(dir: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let m: serde_json::Value = serde_json::from_str(&text).ok()?;
    if m.get("schema")?.as_str()? != MANIFEST_SCHEMA {
        return None;
    }
    let files = m.get("files")?.as_array()?;
    Some(
        files
            .iter()
            .filter_map(|f| f.get("path")?.as_str())
            .map(PathBuf::from)
            // Only plain relative paths inside the folder.
            .filter(|p| p.components().all(|c| matches!(c, Component::Normal(_))))
            .collect(),
    )
}

/// Removes a previous run's outputs: the files its manifest lists, the report folders left
/// empty, the manifest. A `reports/` folder without a case manifest is not this command's: refused.
fn remove_previous(dir: &Path) -> Result<()> {
    let Some(files) = previous_outputs(dir) else {
        if dir.join("reports").exists() {
            bail!(
                "{} holds a reports/ folder but no manifest.json of a case: it was not written by investigate; remove it or give another --out",
                dir.display()
            );
        }
        return Ok(());
    };
    for f in files.iter().chain([&PathBuf::from("manifest.json")]) {
        let p = dir.join(f);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", p.display()));
            }
            _ => {}
        }
        // Folders the removal left empty, up to the case folder.
        let mut parent = p.parent();
        while let Some(d) = parent.filter(|d| *d != dir) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            parent = d.parent();
        }
    }
    Ok(())
}

/// `manifest.json` of a case folder.
#[derive(Debug, Serialize)]
pub struct CaseManifest {
    /// Schema name and version.
    pub schema: &'static str,
    /// `tenantwatch`.
    pub tool: &'static str,
    /// Tool version.
    pub tool_version: &'static str,
    /// Rule set version (a digest of the built-in pack).
    pub rule_set_version: String,
    /// The command line that produced the folder.
    pub arguments: Vec<String>,
    /// Every file this run wrote into the case folder but this manifest, relative to the folder.
    pub files: Vec<FileHash>,
    /// Every input file.
    pub inputs: Vec<FileHash>,
    /// Inputs that could not be hashed, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_errors: Vec<String>,
}

/// Hashes the files this run wrote into `dir` and the inputs, and writes `manifest.json`.
/// `inputs`: the inputs hashed ([`hash_inputs`]), with the inputs that could not be.
pub fn write_manifest(
    dir: &Path,
    written: &[PathBuf],
    inputs: (Vec<FileHash>, Vec<String>),
    rule_set_version: String,
) -> Result<CaseManifest> {
    let mut files = hash_reports(dir, written).context("hashing the case folder")?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let (inputs, input_errors) = inputs;
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.is_empty() {
        arguments.push("investigate".into());
    }
    let m = CaseManifest {
        schema: MANIFEST_SCHEMA,
        tool: "tenantwatch",
        tool_version: env!("CARGO_PKG_VERSION"),
        rule_set_version,
        arguments,
        files,
        inputs,
        input_errors,
    };
    let text = serde_json::to_string_pretty(&m)? + "\n";
    std::fs::write(dir.join("manifest.json"), text).context("writing manifest.json")?;
    Ok(m)
}
