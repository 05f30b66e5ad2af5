//! Loading rule files and placeholder configurations for `hunt` and `rules`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tw_detect::{Hunter, RuleSource, builtin_rules, origin_of_path};
use tw_report::visible;

/// Every `.yml` / `.yaml` file under `paths` (folders walked recursively, sorted); a file named
/// explicitly is read whatever its extension.
pub fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else if p.is_dir() {
            walk(p, &mut out).with_context(|| format!("cannot read rules from {}", p.display()))?;
        } else {
            bail!("no such rule file or folder: {}", p.display());
        }
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(e);
        }
    }
    Ok(())
}

/// A rule file that could not be read as text: rejected as a whole, like a rule that does not
/// parse (the other files are still loaded).
#[derive(Debug, Clone)]
pub struct RejectedFile {
    /// The file.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Reads rule files as rule sources; a file that cannot be read or is not UTF-8 is rejected,
/// named with the reason, and the others are loaded.
pub fn load_sources(paths: &[PathBuf]) -> Result<(Vec<RuleSource>, Vec<RejectedFile>)> {
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    for f in rule_files(paths)? {
        let path = f.to_string_lossy().to_string();
        let text = match std::fs::read(&f) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                format!("not UTF-8 text (invalid byte at offset {at}): rule file rejected")
            }),
            Err(e) => Err(format!("cannot read rule file: {e}")),
        };
        match text {
            Ok(text) => out.push(RuleSource {
                origin: origin_of_path(&path),
                path,
                text,
            }),
            Err(reason) => rejected.push(RejectedFile { path, reason }),
        }
    }
    Ok((out, rejected))
}

/// Reads placeholder values: a YAML or JSON file `{placeholders: {name: [values]}}` or the map
/// itself (`{name: [values]}`).
pub fn load_placeholders(p: Option<&PathBuf>) -> Result<HashMap<String, Vec<String>>> {
    let Some(p) = p else {
        return Ok(HashMap::new());
    };
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("cannot read --config {}", p.display()))?;
    let docs =
        tw_sigma::yaml_to_json(&p.to_string_lossy(), &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = HashMap::new();
    for d in docs {
        let map = d.get("placeholders").cloned().unwrap_or(d);
        let Some(o) = map.as_object() else {
            bail!(
                "--config {}: expected a map of placeholder names to values",
                p.display()
            )
        };
        for (k, v) in o {
            let vals: Vec<String> = match v {
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            out.insert(k.clone(), vals);
        }
    }
    Ok(out)
}

/// The hunter over the built-in pack (unless `no_builtin`) and the rule files under `rules`, with
/// the placeholders of `config`; every rejected rule file, rejected rule and ignored extension is
/// named on standard error. Returns the hunter and how many rules (or rule files) were rejected.
pub fn load_hunter(
    no_builtin: bool,
    rules: &[PathBuf],
    config: Option<&PathBuf>,
) -> Result<(Hunter, usize)> {
    let mut sources = if no_builtin {
        Vec::new()
    } else {
        builtin_rules()
    };
    let (loaded, bad_files) = load_sources(rules)?;
    sources.extend(loaded);
    let placeholders = load_placeholders(config)?;
    let hunter = Hunter::new(&sources, placeholders).map_err(|e| anyhow::anyhow!(e))?;
    let set = hunter.rule_set();
    for f in &bad_files {
        eprintln!(
            "tenantwatch: rule rejected: {}: {}",
            visible(&f.path),
            visible(&f.reason)
        );
    }
    for e in set.errors() {
        eprintln!("tenantwatch: rule rejected: {}", visible(&e.to_string()));
    }
    for (path, reason) in hunter.extension_errors() {
        eprintln!(
            "tenantwatch: rule extension ignored: {}: {}",
            visible(path),
            visible(reason)
        );
    }
    if set.rules().is_empty() && set.correlations().is_empty() {
        eprintln!("tenantwatch: warning: no rule loaded");
    }
    let rejected = set.errors().len() + bad_files.len();
    Ok((hunter, rejected))
}
