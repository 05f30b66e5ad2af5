//! `tenantwatch rules compile --target spark-sql|kql`: every rule the native engine loads,
//! lowered from its compiled form (`tw_sigma::lower`) to queries for Spark over the exported
//! Parquet lake (`tenantwatch export --parquet`, columns in `tw_scale::schema`) or for Microsoft
//! Sentinel / Log Analytics tables. Output: a JSON array `[{"rule_id","title","level","sql"}]`;
//! the rules left to the native engine are listed on standard error with the reason, and the
//! counts of compiled and not compiled rules are printed there.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use tw_report::visible;
use tw_scale::lowering;

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

impl From<Target> for lowering::Target {
    fn from(t: Target) -> Self {
        match t {
            Target::SparkSql => lowering::Target::SparkSql,
            Target::Kql => lowering::Target::Kql,
        }
    }
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

/// Runs `rules compile`; exit status 2 when a rule was rejected at load.
pub fn run(a: CompileArgs) -> Result<u8> {
    let (hunter, rejected) = load_hunter(a.no_builtin, &a.rules, a.config.as_ref())?;
    let lowering = lowering::compile(&hunter, a.target.into()).map_err(|e| anyhow::anyhow!(e))?;
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
