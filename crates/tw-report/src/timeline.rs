//! Findings as a timeline a responder reads top to bottom: grouped per tenant (tenants in order of
//! their first finding, each opened by its `== tenant` line), one line per finding in time order
//! with level, rule title, actor, IP, operation and the evidence `file:record` (for a merged
//! action its copies and rules, for an aggregate of routine context its count and last time),
//! closed by a summary: findings per tenant and level, the rules that fired, and what was read.
//! Log content is cleaned of control characters.

use std::collections::BTreeMap;
use std::io::{self, Write};

use tw_event::Finding;

use crate::table::clean;

/// What the run read, for the summary line.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunSummary {
    /// Records read.
    pub records: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Files read.
    pub files: u64,
}

const LEVELS: [&str; 5] = ["critical", "high", "medium", "low", "informational"];

fn level_rank(l: &str) -> usize {
    LEVELS.iter().position(|x| *x == l).unwrap_or(LEVELS.len())
}

/// The actor shown for a finding: user, else application, else service principal.
fn actor(f: &Finding) -> String {
    let a = &f.actor;
    let mut s = match (&a.user, &a.app_id, &a.service_principal_id) {
        (Some(u), _, _) => u.clone(),
        (None, Some(app), _) => format!("app {app}"),
        (None, None, Some(sp)) => format!("sp {sp}"),
        _ => "-".into(),
    };
    if a.home_tenant_id.is_some() && f.tenant_id.is_some() && a.home_tenant_id != f.tenant_id {
        s.push_str(" (partner)");
    }
    s
}

/// The evidence shown: the first record, and how many more; for an aggregate how many actions
/// until when, for a merged action in how many copies and by how many rules.
pub(crate) fn evidence(f: &Finding) -> String {
    let first = f
        .evidence
        .first()
        .map(|e| format!("{}:{}", e.file, e.record))
        .unwrap_or_else(|| "-".into());
    let mut s = if f.evidence.len() > 1 {
        format!("{first} (+{} records)", f.evidence.len() - 1)
    } else {
        first
    };
    if let Some(n) = f.merged.count {
        let until = f
            .merged
            .until
            .map(|t| format!(" until {t}"))
            .unwrap_or_default();
        s = format!("{n} actions{until}; {s}");
    } else if let Some(n) = f.merged.copies {
        s = format!("{n} copies; {s}");
    }
    let rules = f.all_rules().len();
    if rules > 1 {
        s.push_str(&format!(" [{rules} rules]"));
    }
    s
}

/// Writes the timeline and its summary.
pub fn write_timeline<W: Write>(
    w: &mut W,
    findings: &[Finding],
    run: &RunSummary,
) -> io::Result<()> {
    // Tenants in order of their first finding (findings arrive sorted by time).
    let mut order: Vec<&str> = Vec::new();
    let mut by_tenant: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let t = f.tenant_id.as_deref().unwrap_or("unknown tenant");
        let e = by_tenant.entry(t).or_default();
        if e.is_empty() {
            order.push(t);
        }
        e.push(f);
    }
    for t in &order {
        let list = &by_tenant[t];
        writeln!(w, "== tenant {} ({} findings)", clean(t, 64), list.len())?;
        for f in list {
            writeln!(
                w,
                "{:<24} {:<13} {:<64} {:<44} {:<15} {:<40} {}",
                f.time.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                f.rule.level,
                clean(&f.rule.title, 64),
                clean(&actor(f), 44),
                clean(f.ip.as_deref().unwrap_or("-"), 39),
                clean(f.operation.as_deref().unwrap_or("-"), 40),
                clean(&evidence(f), 300),
            )?;
        }
    }
    writeln!(w, "== summary")?;
    writeln!(
        w,
        "{} findings in {} tenants; {} records read ({} rejected) from {} files",
        findings.len(),
        order.len(),
        run.records,
        run.rejected,
        run.files
    )?;
    writeln!(w, "findings per tenant and level:")?;
    for t in &order {
        let mut counts = [0usize; LEVELS.len() + 1];
        for f in &by_tenant[t] {
            counts[level_rank(&f.rule.level)] += 1;
        }
        let parts: Vec<String> = LEVELS
            .iter()
            .enumerate()
            .filter(|(i, _)| counts[*i] > 0)
            .map(|(i, l)| format!("{l} {}", counts[i]))
            .collect();
        writeln!(w, "  {:<40} {}", clean(t, 40), parts.join(", "))?;
    }
    writeln!(w, "rules that fired:")?;
    let mut rules: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for f in findings {
        *rules
            .entry((level_rank(&f.rule.level), f.rule.title.as_str()))
            .or_default() += 1;
    }
    for ((rank, title), n) in rules {
        writeln!(
            w,
            "  {:<13} {:<72} {n}",
            LEVELS.get(rank).copied().unwrap_or("-"),
            clean(title, 72)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_event::{Actor, LogKind, Origin, Provenance, RuleRef, Timestamp};

    fn f(t: i64, tenant: &str, level: &str) -> Finding {
        Finding {
            rule: RuleRef {
                id: "r".into(),
                title: "Rule\u{1b}[31m".into(),
                level: level.into(),
                tags: vec![],
                origin: Origin::Builtin,
            },
            time: Some(Timestamp(t)),
            tenant_id: Some(tenant.into()),
            actor: Actor {
                user: Some("a@p.com".into()),
                home_tenant_id: Some("p".into()),
                ..Default::default()
            },
            ip: Some("1.2.3.4".into()),
            operation: Some("Add member to role".into()),
            log: LogKind::DirectoryAudit,
            evidence: vec![
                Provenance {
                    file: "x.json".into(),
                    record: 3,
                    line: 4,
                },
                Provenance {
                    file: "x.json".into(),
                    record: 5,
                    line: 6,
                },
            ],
            matched: Default::default(),
            merged: Default::default(),
        }
    }

    #[test]
    fn grouped_per_tenant_with_summary() {
        let mut out = Vec::new();
        let run = RunSummary {
            records: 10,
            rejected: 0,
            files: 1,
        };
        write_timeline(
            &mut out,
            &[f(0, "t2", "high"), f(1, "t1", "low"), f(2, "t2", "medium")],
            &run,
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        let t2 = s.find("== tenant t2").unwrap();
        let t1 = s.find("== tenant t1").unwrap();
        assert!(t2 < t1);
        assert!(s.contains("x.json:3 (+1 records)"));
        assert!(s.contains("a@p.com (partner)"));
        assert!(!s.contains('\u{1b}'));
        assert!(s.contains("t2") && s.contains("high 1, medium 1"));
        assert!(s.contains("10 records read"));
    }

    #[test]
    fn merged_actions_and_aggregates_say_so() {
        let mut merged = f(0, "t1", "high");
        merged.merged.copies = Some(2);
        merged.merged.rules = vec![merged.rule.clone(), {
            let mut r = merged.rule.clone();
            r.id = "r2".into();
            r
        }];
        let mut agg = f(1, "t1", "informational");
        agg.merged.count = Some(7);
        agg.merged.until = Some(Timestamp(3_600_000));
        let mut out = Vec::new();
        write_timeline(&mut out, &[merged, agg], &RunSummary::default()).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains("2 copies; x.json:3 (+1 records) [2 rules]"),
            "{s}"
        );
        assert!(
            s.contains("7 actions until 1970-01-01T01:00:00.000Z; x.json:3"),
            "{s}"
        );
    }
}
