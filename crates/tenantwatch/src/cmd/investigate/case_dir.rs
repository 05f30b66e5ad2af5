//! The case folder: the refusal to overwrite, the removal of a previous run's outputs under
//! `--force`, and `manifest.json` (every file of the folder and every input, hashed).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tw_report::manifest::{FileHash, hash_inputs};

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

/// Makes `dir` ready: refuses a non-empty folder unless `force`; with `force`, removes what a
/// previous run wrote (the names in [`OUTPUTS`]) and leaves anything else alone.
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
        for name in OUTPUTS {
            let p = dir.join(name);
            let meta = std::fs::symlink_metadata(&p);
            let removed = match meta {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
                Ok(_) => std::fs::remove_file(&p),
                Err(_) => Ok(()),
            };
            removed.with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
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
    /// Every file of the case folder but this manifest, relative to the folder.
    pub files: Vec<FileHash>,
    /// Every input file.
    pub inputs: Vec<FileHash>,
    /// Inputs that could not be hashed, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_errors: Vec<String>,
}

/// Hashes the outputs written into `dir` and the inputs, and writes `manifest.json`.
pub fn write_manifest(
    dir: &Path,
    inputs: &[PathBuf],
    rule_set_version: String,
) -> Result<CaseManifest> {
    let (outputs, out_errors) = hash_inputs(&[dir.to_path_buf()]);
    if let Some(e) = out_errors.first() {
        bail!("cannot hash the case folder: {e}");
    }
    let files = outputs
        .into_iter()
        .filter_map(|mut f| {
            let rel = Path::new(&f.path).strip_prefix(dir).ok()?.to_path_buf();
            f.path = rel.display().to_string().replace('\\', "/");
            (f.path != "manifest.json").then_some(f)
        })
        .collect();
    let (inputs, input_errors) = hash_inputs(inputs);
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.is_empty() {
        arguments.push("investigate".into());
    }
    let m = CaseManifest {
        schema: "tenantwatch-case-manifest/1",
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
