//! `tenantwatch rules`: list the built-in pack, and check rule folders — every rule loaded,
//! skipped (deprecated / unsupported) or rejected with its reason, and every field a rule uses that
//! the pipeline of a format it applies to cannot map.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use tw_detect::{Hunter, RuleSource, builtin_rules};

use super::rules_io::{load_placeholders, load_sources};

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
                    Some(l) => format!("{}:{l}", r.path),
                    None => r.path.clone(),
                };
                println!(
                    "{:<9} {:<60} {}",
                    r.status,
                    r.title.as_deref().unwrap_or("-"),
                    at
                );
                if !r.reason.is_empty() {
                    println!("{:<9}   {}", "", r.reason);
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
            let sources = load_sources(&paths)?;
            let report = check(&sources, load_placeholders(config.as_ref())?)?;
            print(&report, format)?;
            Ok(if report.summary.rejected > 0 { 2 } else { 0 })
        }
    }
}
