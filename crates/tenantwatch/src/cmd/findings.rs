//! `tenantwatch findings --from-spark RECORDS`: the findings of a Spark hunt in the native
//! contract. `scripts/spark-hunt.py --records` writes one JSON line per record its queries
//! returned: the record's provenance (`file`, `record`, `line`), `format`, `tenant_id` and `raw`
//! (the lake's columns), `rules`, the ids of the queries that returned it, and `windows`, per
//! correlation id, the windows it belongs to (the query's `window_id`). Each record is
//! rebuilt as an event from its document and given to the engine's own post-processing
//! ([`tw_detect::Hunter::findings_of_hits`]): the rules are evaluated again on it for `matched`,
//! correlation windows are rebuilt one at a time from their records, copies of one action are
//! merged and routine context aggregated, exactly as `hunt` does. The rules must be those the
//! queries were compiled from (`--rules`, `--no-builtin` as given to `rules compile`).

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use tw_detect::HitRecord;
use tw_event::{Canonical, Document, Event, Format, Provenance, TenantSource};
use tw_report::visible;
use tw_sigma::Level;

use super::rules_io::load_hunter;

/// Arguments of `findings`.
#[derive(Args, Debug)]
pub struct FindingsArgs {
    /// Records a Spark hunt returned, as JSON lines (`scripts/spark-hunt.py --records`).
    #[arg(long = "from-spark", value_name = "RECORDS")]
    pub from_spark: PathBuf,
    /// Sigma rules the queries were compiled from besides the built-in pack (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// The queries were compiled from the --rules alone.
    #[arg(long = "no-builtin")]
    pub no_builtin: bool,
    /// YAML/JSON file with values of `expand` placeholders, as given to `rules compile`.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report findings of this level and above, as `hunt --min-level`.
    #[arg(long = "min-level", value_name = "LEVEL", default_value = "low")]
    pub min_level: String,
    /// Write the findings (JSON lines, as `hunt --format jsonl`) to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// One line of the records file.
#[derive(Deserialize)]
struct SparkRecord {
    file: String,
    record: u64,
    line: u64,
    format: String,
    tenant_id: Option<String>,
    raw: String,
    rules: Vec<String>,
    /// Per correlation id: the windows the record belongs to.
    #[serde(default)]
    windows: std::collections::BTreeMap<String, Vec<String>>,
}

/// Runs `findings`; exit status 2 when a line or a rule id was rejected, or a rule at load.
pub fn run(a: FindingsArgs) -> Result<u8> {
    let min_level = Level::parse(&a.min_level)
        .with_context(|| format!("unknown --min-level {:?}", a.min_level))?;
    let (hunter, rules_rejected) = load_hunter(a.no_builtin, &a.rules, a.config.as_ref())?;
    let (mut records, rejected) = read_records(&a.from_spark)?;
    records.sort_by(|x, y| {
        let (p, q) = (&x.event.provenance, &y.event.provenance);
        (&p.file, p.record).cmp(&(&q.file, q.record))
    });
    let result = hunter.findings_of_hits(&records, Some(min_level));
    let sink: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut w = BufWriter::new(sink);
    tw_report::write_jsonl(&mut w, &result.findings)
        .and_then(|_| w.flush())
        .context("writing findings")?;
    for id in &result.unknown_rules {
        eprintln!(
            "tenantwatch: rule {} of the hits is not among the rules loaded (give the --rules the queries were compiled from)",
            visible(id)
        );
    }
    eprintln!(
        "tenantwatch: {} records read ({} rejected) from {}; {} findings",
        records.len(),
        rejected,
        a.from_spark.display(),
        result.findings.len()
    );
    let bad = rejected + result.unknown_rules.len() + rules_rejected;
    Ok(if bad > 0 { 2 } else { 0 })
}

/// The records of the file, each rebuilt as an event; lines that cannot be are reported with
/// their line number and counted.
fn read_records(path: &PathBuf) -> Result<(Vec<HitRecord>, usize)> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    let mut rejected = 0;
    let mut reader = BufReader::new(f);
    let mut bytes = Vec::new();
    let mut n = 0usize;
    loop {
        bytes.clear();
        let read = reader
            .read_until(b'\n', &mut bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        n += 1;
        // A line that is not UTF-8 is one bad record, not the end of the run.
        let line = match std::str::from_utf8(&bytes) {
            Ok(l) => l,
            Err(e) => {
                rejected += 1;
                eprintln!(
                    "tenantwatch: {}:{}: record rejected: not UTF-8 ({e})",
                    path.display(),
                    n
                );
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match record_of(line) {
            Ok(r) => out.push(r),
            Err(e) => {
                rejected += 1;
                eprintln!(
                    "tenantwatch: {}:{}: record rejected: {}",
                    path.display(),
                    n,
                    visible(&e)
                );
            }
        }
    }
    Ok((out, rejected))
}

/// One line made a record: the document parsed from `raw`, the canonical fields read from it as
/// the reader reads them, the tenant the lake attributed (from the folder or tenant map too).
fn record_of(line: &str) -> Result<HitRecord, String> {
    let r: SparkRecord = serde_json::from_str(line).map_err(|e| format!("not a record: {e}"))?;
    let format =
        Format::from_name(&r.format).ok_or_else(|| format!("unknown format {:?}", r.format))?;
    let doc: serde_json::Value =
        serde_json::from_str(&r.raw).map_err(|e| format!("raw is not JSON: {e}"))?;
    if !doc.is_object() {
        return Err("raw is not a JSON object".into());
    }
    let mut canonical: Canonical = tw_ingest::normalize::canonical_of(format, &doc)?;
    let tenant = r.tenant_id.filter(|t| !t.is_empty());
    if canonical.tenant_id != tenant {
        canonical.tenant_source = match tenant {
            Some(_) => TenantSource::Folder,
            None => TenantSource::Unknown,
        };
        canonical.tenant_id = tenant;
    }
    let event = Event {
        kind: format.log_kind(),
        format,
        provenance: Provenance {
            file: Arc::from(r.file.as_str()),
            record: r.record,
            line: r.line,
        },
        canonical,
        raw: Document::parsed(doc),
    };
    Ok(HitRecord {
        event,
        rules: r.rules,
        windows: r.windows,
    })
}
