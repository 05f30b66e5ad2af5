//! `tenantwatch rules`: list the built-in pack, and check rule folders — every rule loaded,
//! skipped (deprecated / unsupported) or rejected with its reason, and every field a rule uses that
//! the pipeline of a format it applies to cannot map; and run the rules' test vectors.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use tw_detect::{HuntOptions, Hunter, RuleSource, builtin_rules};

use tw_report::visible;

use super::rules_io::{RejectedFile, load_placeholders, load_sources};

/// Arguments of `rules`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `rules` subcommands.
#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the built-in rules.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Out::Table)]
        format: Out,
    },
    /// Load every rule under the paths and say what became of each.
    Check {
        /// Rule files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// YAML/JSON file with values of `expand` placeholders.
        #[arg(long = "config", value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Out::Table)]
        format: Out,
    },
    /// Lower every rule the engine loads to queries for another engine: Spark SQL over an
    /// exported Parquet lake (`export --parquet`; view `events`) or KQL for Sentinel tables.
    /// Writes `[{"rule_id","title","level","sql"}]`; rules left to the native engine are listed
    /// on standard error with the reason, with the counts.
    Compile {
        /// Query language.
        #[arg(long, value_enum)]
        target: super::rules_compile::Target,
        /// Sigma rules to compile besides the built-in pack (files or folders, repeatable).
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// Compile only the rules given with --rules.
        #[arg(long = "no-builtin")]
        no_builtin: bool,
        /// YAML/JSON file with values of `expand` placeholders.
        #[arg(long = "config", value_name = "FILE")]
        config: Option<PathBuf>,
        /// Write the JSON to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run test vectors: DIR holds one folder per rule, named like the rule file without its
    /// extension, with `positive/` log files (the rule must report at least one finding) and
    /// `negative/` log files (it must report none). Exit status 2 when a vector fails.
    Test {
        /// Folder of test vectors.
        #[arg(default_value = "tests/fixtures/builtin")]
        dir: PathBuf,
        /// Test these rule files or folders instead of the built-in pack (loaded together, so
        /// correlations find the rules they refer to).
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Out::Table)]
        format: Out,
    },
}

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// For people.
    Table,
    /// One JSON document.
    Json,
}

/// One field a format cannot map.
#[derive(Serialize, Debug)]
struct Unmapped {
    format: String,
    field: String,
}

/// One rule's fate.
#[derive(Serialize, Debug)]
struct RuleRow {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<String>,
    /// `loaded`, `skipped` or `rejected`.
    status: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    log_kinds: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unmapped: Vec<Unmapped>,
}

#[derive(Serialize, Debug)]
struct Summary {
    loaded: usize,
    skipped: usize,
    rejected: usize,
    with_unmapped_fields: usize,
}

#[derive(Serialize, Debug)]
struct CheckReport {
    rules: Vec<RuleRow>,
    summary: Summary,
}

impl CheckReport {
    /// Adds rule files that could not be read as text, rejected as a whole.
    fn add_rejected_files(&mut self, files: &[RejectedFile]) {
        for f in files {
            self.rules.push(RuleRow {
                path: f.path.clone(),
                line: None,
                id: None,
                title: None,
                level: None,
                status: "rejected",
                reason: f.reason.clone(),
                log_kinds: Vec::new(),
                unmapped: Vec::new(),
            });
        }
        self.rules
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
        self.summary.rejected += files.len();
    }
}

fn check(
    sources: &[RuleSource],
    placeholders: std::collections::HashMap<String, Vec<String>>,
) -> Result<CheckReport> {
    let hunter = Hunter::new(sources, placeholders).map_err(|e| anyhow::anyhow!(e))?;
    let set = hunter.rule_set();
    let mut rows = Vec::new();
    for (i, r) in set.rules().iter().enumerate() {
        let kinds: Vec<&'static str> = hunter.routes(i).iter().map(|k| k.as_str()).collect();
        let unmapped: Vec<Unmapped> = hunter
            .unmapped_fields(i)
            .into_iter()
            .map(|(f, field)| Unmapped {
                format: f.as_str().to_string(),
                field,
            })
            .collect();
        let reason = if kinds.is_empty() {
            "log source names no log kind tenantwatch reads: the rule can never match".to_string()
        } else {
            String::new()
        };
        rows.push(RuleRow {
            path: r.path().to_string(),
            line: None,
            id: r.id().map(str::to_string),
            title: Some(r.title().to_string()),
            level: r.level().map(|l| l.as_str().to_string()),
            status: "loaded",
            reason,
            log_kinds: kinds,
            unmapped,
        });
    }
    for c in set.correlations() {
        let r = c.rule();
        rows.push(RuleRow {
            path: r.path.clone(),
            line: Some(r.line),
            id: r.id.clone(),
            title: Some(r.title.clone()),
            level: r.level.map(|l| l.as_str().to_string()),
            status: "loaded",
            reason: format!("correlation ({})", r.kind.as_str()),
            log_kinds: Vec::new(),
            unmapped: Vec::new(),
        });
    }
    for s in set.retired() {
        rows.push(RuleRow {
            path: s.path.clone(),
            line: None,
            id: s.id.clone(),
            title: s.title.clone(),
            level: None,
            status: "skipped",
            reason: format!("status {}", s.status.as_str()),
            log_kinds: Vec::new(),
            unmapped: Vec::new(),
        });
    }
    for e in set.errors() {
        rows.push(RuleRow {
            path: e.path.clone(),
            line: e.line,
            id: None,
            title: None,
            level: None,
            status: "rejected",
            reason: e.reason.clone(),
            log_kinds: Vec::new(),
            unmapped: Vec::new(),
        });
    }
    rows.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.line.cmp(&b.line))
            .then(a.id.cmp(&b.id))
    });
    let summary = Summary {
        loaded: rows.iter().filter(|r| r.status == "loaded").count(),
        skipped: rows.iter().filter(|r| r.status == "skipped").count(),
        rejected: rows.iter().filter(|r| r.status == "rejected").count(),
        with_unmapped_fields: rows.iter().filter(|r| !r.unmapped.is_empty()).count(),
    };
    Ok(CheckReport {
        rules: rows,
        summary,
    })
}

fn print(report: &CheckReport, format: Out) -> Result<()> {
    match format {
        Out::Json => println!("{}", serde_json::to_string_pretty(report)?),
        Out::Table => {
            for r in &report.rules {
                let at = match r.line {
                    Some(l) => format!("{}:{l}", visible(&r.path)),
                    None => visible(&r.path).into_owned(),
                };
                println!(
                    "{:<9} {:<60} {}",
                    r.status,
                    visible(r.title.as_deref().unwrap_or("-")),
                    at
                );
                if !r.reason.is_empty() {
                    println!("{:<9}   {}", "", visible(&r.reason));
                }
                for u in &r.unmapped {
                    println!(
                        "{:<9}   field {} is not mapped for {}",
                        "", u.field, u.format
                    );
                }
            }
            let s = &report.summary;
            println!(
                "\n{} loaded, {} skipped (deprecated or unsupported), {} rejected; {} rules use fields some format cannot map",
                s.loaded, s.skipped, s.rejected, s.with_unmapped_fields
            );
        }
    }
    Ok(())
}

/// The outcome of one rule's vectors.
#[derive(Serialize, Debug)]
struct TestRow {
    rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// `pass`, `fail` or `untested`.
    status: &'static str,
    positive_findings: usize,
    negative_findings: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    reason: String,
}

/// File name without folder and extension (`builtin:tw_x.yml` → `tw_x`).
fn stem_of(path: &str) -> String {
    let name = path.rsplit(['/', '\\', ':']).next().unwrap_or(path);
    name.strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
        .unwrap_or(name)
        .to_string()
}

/// The id (or title) of every rule document of a source.
fn ids_of(s: &RuleSource) -> Vec<String> {
    tw_sigma::yaml_to_json(&s.path, &s.text)
        .map(|docs| {
            docs.iter()
                .filter_map(|d| {
                    d.get("id")
                        .or_else(|| d.get("name"))
                        .or_else(|| d.get("title"))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn test_vectors(sources: &[RuleSource], dir: &std::path::Path) -> Result<Vec<TestRow>> {
    let hunter = Hunter::new(sources, Default::default()).map_err(|e| anyhow::anyhow!(e))?;
    let mut by_stem: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for s in sources {
        by_stem
            .entry(stem_of(&s.path))
            .or_default()
            .extend(ids_of(s));
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read test vectors {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut rows = Vec::new();
    let mut tested = std::collections::BTreeSet::new();
    let opts = HuntOptions::default();
    for f in folders {
        let stem = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let Some(ids) = by_stem.get(&stem) else {
            rows.push(TestRow {
                rule: stem,
                id: None,
                status: "fail",
                positive_findings: 0,
                negative_findings: 0,
                reason: "no rule file with this name".into(),
            });
            continue;
        };
        tested.insert(stem.clone());
        let count = |sub: &str| -> Option<usize> {
            let p = f.join(sub);
            if !p.is_dir() {
                return None;
            }
            let r = hunter.hunt(&[p], &opts);
            Some(
                r.findings
                    .iter()
                    // A finding merged from several rules counts for each of them.
                    .filter(|x| x.all_rules().iter().any(|r| ids.contains(&r.id)))
                    .count(),
            )
        };
        let pos = count("positive");
        let neg = count("negative");
        let mut reasons = Vec::new();
        match pos {
            None => reasons.push("no positive/ folder".to_string()),
            Some(0) => reasons.push("no finding on the positive events".to_string()),
            _ => {}
        }
        match neg {
            None => reasons.push("no negative/ folder".to_string()),
            Some(n) if n > 0 => reasons.push(format!("{n} findings on the negative events")),
            _ => {}
        }
        rows.push(TestRow {
            rule: stem,
            id: ids.first().cloned(),
            status: if reasons.is_empty() { "pass" } else { "fail" },
            positive_findings: pos.unwrap_or(0),
            negative_findings: neg.unwrap_or(0),
            reason: reasons.join("; "),
        });
    }
    for (stem, ids) in &by_stem {
        if !tested.contains(stem) {
            rows.push(TestRow {
                rule: stem.clone(),
                id: ids.first().cloned(),
                status: "untested",
                positive_findings: 0,
                negative_findings: 0,
                reason: "no test vectors".into(),
            });
        }
    }
    Ok(rows)
}

/// Runs `rules`; returns the exit status.
pub fn run(a: RulesArgs) -> Result<u8> {
    match a.command {
        RulesCommand::List { format } => {
            let report = check(&builtin_rules(), Default::default())?;
            print(&report, format)?;
            Ok(if report.summary.rejected > 0 { 2 } else { 0 })
        }
        RulesCommand::Check {
            paths,
            config,
            format,
        } => {
            let (sources, bad_files) = load_sources(&paths)?;
            let mut report = check(&sources, load_placeholders(config.as_ref())?)?;
            report.add_rejected_files(&bad_files);
            print(&report, format)?;
            Ok(if report.summary.rejected > 0 { 2 } else { 0 })
        }
        RulesCommand::Compile {
            target,
            rules,
            no_builtin,
            config,
            out,
        } => super::rules_compile::run(super::rules_compile::CompileArgs {
            target,
            rules,
            no_builtin,
            config,
            out,
        }),
        RulesCommand::Test { dir, rules, format } => {
            let sources = if rules.is_empty() {
                builtin_rules()
            } else {
                let (sources, bad_files) = load_sources(&rules)?;
                if let Some(f) = bad_files.first() {
                    bail!("{}: {}", visible(&f.path), visible(&f.reason));
                }
                sources
            };
            let rows = test_vectors(&sources, &dir)?;
            let failed = rows.iter().filter(|r| r.status == "fail").count();
            let passed = rows.iter().filter(|r| r.status == "pass").count();
            let untested = rows.iter().filter(|r| r.status == "untested").count();
            match format {
                Out::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "rules": rows,
                        "summary": {"passed": passed, "failed": failed, "untested": untested}
                    }))?
                ),
                Out::Table => {
                    for r in &rows {
                        println!(
                            "{:<9} {:<48} positive {:>3}  negative {:>3}  {}",
                            r.status, r.rule, r.positive_findings, r.negative_findings, r.reason
                        );
                    }
                    println!("\n{passed} passed, {failed} failed, {untested} without vectors");
                }
            }
            Ok(if failed > 0 { 2 } else { 0 })
        }
    }
}
