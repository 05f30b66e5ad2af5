//! Findings as a table for a terminal: one line per finding in time order, then a summary.
//! Control characters in log content are replaced so they cannot move the cursor or recolour.

use std::collections::BTreeMap;
use std::io::{self, Write};

use tw_event::Finding;

/// Replaces control characters (ANSI escapes, newlines) with `?` and truncates to `max` characters.
pub fn clean(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// Writes findings as a table followed by counts per level and rule.
pub fn write_table<W: Write>(w: &mut W, findings: &[Finding]) -> io::Result<()> {
    writeln!(
        w,
        "{:<24} {:<8} {:<48} {:<36} {:<32} {:<16} {:<40} EVIDENCE",
        "TIME", "LEVEL", "RULE", "TENANT", "ACTOR", "IP", "OPERATION"
    )?;
    for f in findings {
        let actor = f
            .actor
            .user
            .as_deref()
            .or(f.actor.app_id.as_deref())
            .or(f.actor.service_principal_id.as_deref())
            .unwrap_or("-");
        let ev = crate::timeline::evidence(f);
        writeln!(
            w,
            "{:<24} {:<8} {:<48} {:<36} {:<32} {:<16} {:<40} {}",
            f.time.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
            f.rule.level,
            clean(&f.rule.title, 48),
            clean(f.tenant_id.as_deref().unwrap_or("-"), 36),
            clean(actor, 32),
            clean(f.ip.as_deref().unwrap_or("-"), 16),
            clean(f.operation.as_deref().unwrap_or("-"), 40),
            clean(&ev, 300),
        )?;
    }
    let mut by_level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *by_level.entry(f.rule.level.as_str()).or_default() += 1;
        *by_rule.entry(f.rule.title.as_str()).or_default() += 1;
    }
    writeln!(w, "\n{} findings", findings.len())?;
    for (l, n) in by_level {
        writeln!(w, "  {l:<14} {n}")?;
    }
    for (r, n) in by_rule {
        writeln!(w, "  {:<60} {n}", clean(r, 60))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_inert() {
        assert_eq!(clean("a\u{1b}[31mred\nx", 100), "a?[31mred?x");
        assert_eq!(clean("abcdef", 3), "abc…");
    }
}
