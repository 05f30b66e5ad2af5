//! `tenantwatch rules compile --target spark-sql|kql`: every rule the native engine loads,
//! lowered from its compiled form (`tw_sigma::lower`) to queries for Spark over the exported
//! Parquet lake (`tenantwatch export --parquet`, columns in `tw_lake::schema`) or for Microsoft
//! Sentinel / Log Analytics tables. Output: a JSON array `[{"rule_id","title","level","sql"}]`;
//! the rules left to the native engine are listed on standard error with the reason, and the
//! counts of compiled and not compiled rules are printed there.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use tw_detect::Hunter;
use tw_detect::event::OPERATION_FIELDS;
use tw_detect::fieldmap::{FieldMap, shipped_maps};
use tw_event::{Format, LogKind};
use tw_lake::schema::{Storage, canonical_column, field_map_column, storage_of};
use tw_report::visible;
use tw_sigma::lower::{FieldRead, LowerContext, Lowering, Scope};

use super::rules_io::load_hunter;

/// Query languages rules compile to.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Spark SQL over the view `events` of an exported Parquet lake.
    #[value(name = "spark-sql")]
    SparkSql,
    /// KQL for Microsoft Sentinel / Log Analytics tables (single-event rules).
    Kql,
}

/// Options of `rules compile`.
#[derive(Debug)]
pub struct CompileArgs {
    pub target: Target,
    pub rules: Vec<PathBuf>,
    pub no_builtin: bool,
    pub config: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

/// The Sentinel tables, each with the export format whose field names it has and its log kind.
pub const KQL_TABLES: &[(&str, &str, LogKind)] = &[
    ("SigninLogs", "signin.log_analytics_json", LogKind::Signin),
    (
        "AADNonInteractiveUserSignInLogs",
        "signin.log_analytics_json",
        LogKind::Signin,
    ),
    (
        "AADServicePrincipalSignInLogs",
        "signin.log_analytics_json",
        LogKind::Signin,
    ),
    (
        "AuditLogs",
        "directory_audit.log_analytics_json",
        LogKind::DirectoryAudit,
    ),
    ("OfficeActivity", "ual.log_analytics_json", LogKind::Ual),
    (
        "MicrosoftGraphActivityLogs",
        "graph_activity.log_analytics_json",
        LogKind::GraphActivity,
    ),
    (
        "AzureActivity",
        "azure_activity.log_analytics_json",
        LogKind::AzureActivity,
    ),
];

/// What the lowering reads of tenantwatch: routes, field maps, the lake's columns, and which
/// rules only the native runner can report.
struct LakeContext<'a> {
    hunter: &'a Hunter,
    maps: HashMap<Format, FieldMap>,
}

impl LowerContext for LakeContext<'_> {
    fn scope(&self, rule: usize) -> Result<Scope, String> {
        let kinds = self.hunter.routes(rule);
        if kinds.is_empty() {
            return Err("its log source names no log kind tenantwatch reads".into());
        }
        let mut formats: Vec<String> = Format::ALL
            .iter()
            .filter(|f| kinds.contains(&f.log_kind()) && self.maps.contains_key(f))
            .map(|f| f.as_str().to_string())
            .collect();
        formats.sort();
        Ok(Scope {
            kinds: kinds.iter().map(|k| k.as_str().to_string()).collect(),
            formats,
        })
    }

    fn native_only(&self, rule: usize) -> Option<String> {
        if self.hunter.is_first_seen(rule) {
            return Some(
                "first-seen rule (tenantwatch.first_seen): reported against each entity's history, native only"
                    .into(),
            );
        }
        if self.hunter.is_staged(rule) {
            return Some(
                "chain or burst rule (tenantwatch.chain, tenantwatch.burst): its matches feed a native stage"
                    .into(),
            );
        }
        None
    }

    fn reads(&self, format: Option<&str>, field: &str) -> Vec<FieldRead> {
        if let Some(read) = column_read(field) {
            return vec![read];
        }
        let map = format
            .and_then(Format::from_name)
            .and_then(|f| self.maps.get(&f));
        let Some(map) = map else {
            return vec![FieldRead::Json {
                path: field.to_string(),
                operation: false,
            }];
        };
        map.resolve(field)
            .targets
            .iter()
            .map(|t| {
                column_read(t)
                    .filter(|_| t.starts_with("tw."))
                    .unwrap_or_else(|| FieldRead::Json {
                        path: t.clone(),
                        operation: OPERATION_FIELDS.contains(&t.as_str()),
                    })
            })
            .collect()
    }

    fn correlation_native_only(&self, c: usize) -> Option<String> {
        self.hunter.is_new_behaviour(c).then(|| {
            "new-behaviour correlation (tenantwatch.new_behaviour): matches are kept against each entity's history, native only".to_string()
        })
    }

    fn targets(&self, format: &str, field: &str) -> Vec<String> {
        match Format::from_name(format).and_then(|f| self.maps.get(&f)) {
            Some(map) => map.resolve(field).targets,
            None => vec![field.to_string()],
        }
    }

    fn is_operation(&self, target: &str) -> bool {
        OPERATION_FIELDS.contains(&target)
    }

    fn tables(&self, rule: usize) -> Vec<(String, String)> {
        let kinds = self.hunter.routes(rule);
        KQL_TABLES
            .iter()
            .filter(|(_, _, k)| kinds.contains(k))
            .map(|(t, f, _)| (t.to_string(), f.to_string()))
            .collect()
    }
}

/// The lake column of a canonical field, or of a field the export writes per format.
fn column_read(field: &str) -> Option<FieldRead> {
    let name = match canonical_column(field) {
        Some(c) => c.to_string(),
        None => field_map_column(field)?,
    };
    Some(FieldRead::Column {
        list: storage_of(field) == Some(Storage::TextList),
        name,
    })
}

/// Runs `rules compile`; exit status 2 when a rule was rejected at load.
pub fn run(a: CompileArgs) -> Result<u8> {
    let (hunter, rejected) = load_hunter(a.no_builtin, &a.rules, a.config.as_ref())?;
    let ctx = LakeContext {
        hunter: &hunter,
        maps: shipped_maps().map_err(|e| anyhow::anyhow!(e))?,
    };
    let set = hunter.rule_set();
    let lowering: Lowering = match a.target {
        Target::SparkSql => tw_sigma::lower::spark::lower(set, &ctx),
        Target::Kql => tw_sigma::lower::kql::lower(set, &ctx),
    };
    let json = serde_json::to_string_pretty(&lowering.compiled)?;
    match &a.out {
        Some(p) => std::fs::write(p, format!("{json}\n"))
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")?;
        }
    }
    for n in &lowering.not_compiled {
        eprintln!(
            "tenantwatch: not compiled: {} ({}): {}",
            visible(&n.rule_id),
            visible(&n.title),
            visible(&n.reason)
        );
    }
    eprintln!(
        "tenantwatch: {} rules compiled, {} not compiled",
        lowering.compiled.len(),
        lowering.not_compiled.len()
    );
    Ok(if rejected > 0 { 2 } else { 0 })
}
