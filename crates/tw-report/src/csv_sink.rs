//! Findings as CSV, one row per finding, cells neutralised against formula injection: a cell that
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.

use std::io::{self, Write};

use tw_event::Finding;

/// Neutralises a cell a spreadsheet would evaluate as a formula.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// The ids of every rule that saw the finding's action, separated by spaces.
fn rule_ids(f: &Finding) -> String {
    let ids: Vec<&str> = f.all_rules().iter().map(|r| r.id.as_str()).collect();
    ids.join(" ")
}

/// Writes findings as CSV with a header row.
pub fn write_csv<W: Write>(w: &mut W, findings: &[Finding]) -> io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    let header = [
        "time",
        "level",
        "rule_id",
        "rule_title",
        "origin",
        "tenant_id",
        "user",
        "app_id",
        "service_principal_id",
        "home_tenant_id",
        "ip",
        "operation",
        "log",
        "evidence",
        "matched",
        "rules",
        "copies",
        "count",
        "until",
    ];
    c.write_record(header).map_err(io::Error::other)?;
    for f in findings {
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{}:{}#{}", e.file, e.line, e.record))
            .collect();
        let matched: Vec<String> = f.matched.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let row = [
            f.time.map(|t| t.to_string()).unwrap_or_default(),
            f.rule.level.clone(),
            f.rule.id.clone(),
            f.rule.title.clone(),
            format!("{:?}", f.rule.origin).to_lowercase(),
            f.tenant_id.clone().unwrap_or_default(),
            f.actor.user.clone().unwrap_or_default(),
            f.actor.app_id.clone().unwrap_or_default(),
            f.actor.service_principal_id.clone().unwrap_or_default(),
            f.actor.home_tenant_id.clone().unwrap_or_default(),
            f.ip.clone().unwrap_or_default(),
            f.operation.clone().unwrap_or_default(),
            f.log.as_str().to_string(),
            evidence.join(" "),
            matched.join("; "),
            rule_ids(f),
            f.merged.copies.map(|n| n.to_string()).unwrap_or_default(),
            f.merged.count.map(|n| n.to_string()).unwrap_or_default(),
            f.merged.until.map(|t| t.to_string()).unwrap_or_default(),
        ];
        c.write_record(row.iter().map(|s| neutralise(s)))
            .map_err(io::Error::other)?;
    }
    c.flush()
}
