//! What the lowering of rules (`tw_sigma::lower`) reads of tenantwatch: which log kinds and
//! formats a rule runs on (the hunt's routes), how a rule field is read from the Parquet lake
//! (the columns of [`crate::schema`], else a path in the raw record through the shipped field
//! maps), which rules only the native runner can report, and the Microsoft Sentinel tables each
//! log kind lives in for the KQL target. [`compile`] lowers a loaded [`Hunter`]'s rules.

use std::collections::HashMap;

use tw_detect::Hunter;
use tw_detect::event::OPERATION_FIELDS;
use tw_detect::fieldmap::{FieldMap, shipped_maps};
use tw_event::{Format, LogKind};
use tw_sigma::lower::{FieldRead, LowerContext, Lowering, Scope};

use crate::schema::{Storage, canonical_column, field_map_column, storage_of};

/// Query languages rules compile to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Spark SQL over the view `events` of an exported Parquet lake.
    SparkSql,
    /// KQL for Microsoft Sentinel / Log Analytics tables (single-event rules).
    Kql,
}

/// Lowers every rule `hunter` loaded to `target`; an error when the shipped field maps do not
/// load.
pub fn compile(hunter: &Hunter, target: Target) -> Result<Lowering, String> {
    let ctx = LakeContext {
        hunter,
        maps: shipped_maps()?,
    };
    let set = hunter.rule_set();
    Ok(match target {
        Target::SparkSql => tw_sigma::lower::spark::lower(set, &ctx),
        Target::Kql => tw_sigma::lower::kql::lower(set, &ctx),
    })
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
