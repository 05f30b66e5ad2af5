//! Writing a [`Report`]: a table for people, Markdown for tickets, JSON for machines. Display
//! names, rule names and addresses come from the tenant and may be hostile: the table neutralises
//! control characters (terminal escapes) and bidirectional overrides; Markdown also escapes its own
//! syntax and HTML, so nothing a tenant wrote can add a link, an image or markup.

use std::fmt::Write as _;

use crate::report::Report;

/// At most `n` characters of `s`, with `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Text safe for a terminal: control characters and bidi overrides become `�`, line breaks a space.
pub fn plain(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if dangerous(c) => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Text safe inside a Markdown table cell: [`plain`], then Markdown and HTML special characters
/// escaped (`&`, `<`, `>` as entities; `\ ` * _ [ ] ( ) # | ! ~ ` and others with a backslash).
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in plain(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | ':' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn summary_line(r: &Report) -> String {
    ["critical", "high", "medium", "low"]
        .iter()
        .map(|k| format!("{} {k}", r.summary.get(k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes JSON (pretty, newline-terminated) without building it in memory first.
pub fn write_json(w: &mut dyn std::io::Write, r: &Report) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r)?;
    w.write_all(b"\n")
}

/// JSON (pretty), newline-terminated.
pub fn json(r: &Report) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
}

/// A table for people.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "THIRD-PARTY ACCESS AUDIT (as of {})", r.as_of);
    table_tenants(&mut s, r);
    table_doors(&mut s, r);
    table_roles(&mut s, r);
    if let Some(c) = &r.compare {
        table_changes(&mut s, c);
    }
    table_checks(&mut s, r);
    table_problems(&mut s, r);
    s
}

/// The table's tenant lines: each snapshot and the objects recognised in it.
fn table_tenants(s: &mut String, r: &Report) {
    for t in &r.tenants {
        let objs: Vec<String> = t.objects.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            s,
            "  tenant {} {} — {}: {}",
            plain(&t.tenant_id),
            t.name
                .as_deref()
                .map(|n| format!("({})", plain(n)))
                .unwrap_or_default(),
            plain(&t.snapshot),
            if objs.is_empty() {
                "nothing recognised".into()
            } else {
                objs.join(", ")
            }
        );
    }
}

/// The table's doors: risk, kind, tenant, name, reason and action.
fn table_doors(s: &mut String, r: &Report) {
    let sum = summary_line(r);
    let _ = writeln!(s, "\nDOORS ({}: {})", r.doors.len(), sum);
    let _ = writeln!(
        s,
        "  {:<8} {:<10} {:<36} {:<40} REASON → ACTION",
        "RISK", "KIND", "TENANT", "NAME"
    );
    for d in &r.doors {
        let _ = writeln!(
            s,
            "  {:<8} {:<10} {:<36} {:<40} {} → {}",
            d.risk.as_str(),
            d.kind.as_str(),
            plain(&d.tenant_id),
            clip(&plain(&d.name), 40),
            plain(&d.reason),
            plain(&d.action)
        );
    }
}

/// The table's privileged roles held through third parties.
fn table_roles(s: &mut String, r: &Report) {
    if !r.privileged_roles.is_empty() {
        let _ = writeln!(s, "\nPRIVILEGED ROLES");
        for p in &r.privileged_roles {
            let _ = writeln!(
                s,
                "  {:<36} {:<40} {} assignment(s), {} service principal(s) [{}]",
                plain(&p.tenant_id),
                plain(&p.name),
                p.assignments,
                p.service_principals,
                p.source
            );
        }
    }
}

/// The table's changes since an older snapshot (`--compare`).
fn table_changes(s: &mut String, c: &crate::compare::Comparison) {
    let _ = writeln!(
        s,
        "\nCHANGES SINCE {} ({} added, {} removed, {} changed)",
        plain(&c.old),
        c.added.len(),
        c.removed.len(),
        c.changed.len()
    );
    for d in &c.added {
        let _ = writeln!(
            s,
            "  + {:<8} {:<10} {} {}",
            d.risk.as_str(),
            d.kind.as_str(),
            plain(&d.id),
            clip(&plain(&d.name), 50)
        );
    }
    for d in &c.removed {
        let _ = writeln!(
            s,
            "  - {:<8} {:<10} {} {}",
            d.risk.as_str(),
            d.kind.as_str(),
            plain(&d.id),
            clip(&plain(&d.name), 50)
        );
    }
    for d in &c.changed {
        let _ = writeln!(
            s,
            "  ~ {} → {} {:<10} {} {}",
            d.risk_before.as_str(),
            d.risk.as_str(),
            d.kind.as_str(),
            plain(&d.id),
            clip(&plain(&d.name), 50)
        );
    }
}

/// The table's checks that did not run, or ran on part of the data.
fn table_checks(s: &mut String, r: &Report) {
    if !r.checks_not_run.is_empty() || !r.checks_partial.is_empty() {
        let _ = writeln!(s, "\nCHECKS NOT RUN");
        for g in &r.checks_not_run {
            let _ = writeln!(
                s,
                "  {:<36} {:<34} {}",
                plain(&g.tenant_id),
                g.check,
                plain(&g.reason)
            );
        }
        for g in &r.checks_partial {
            let _ = writeln!(
                s,
                "  {:<36} {:<34} partial: {}",
                plain(&g.tenant_id),
                g.check,
                plain(&g.reason)
            );
        }
    }
}

/// The table's problems with the snapshot files.
fn table_problems(s: &mut String, r: &Report) {
    if !r.problems.is_empty() {
        let _ = writeln!(s, "\nPROBLEMS ({})", r.problems.len());
        for p in &r.problems {
            match p.index {
                Some(i) => {
                    let _ = writeln!(s, "  {} (object {i}): {}", plain(&p.file), plain(&p.reason));
                }
                None => {
                    let _ = writeln!(s, "  {}: {}", plain(&p.file), plain(&p.reason));
                }
            }
        }
    }
}

/// Markdown.
pub fn markdown_report(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Third-party access audit\n\nAs of {}.\n",
        markdown(&r.as_of)
    );
    let _ = writeln!(s, "| Tenant | Name | Snapshot |\n|---|---|---|");
    for t in &r.tenants {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            markdown(&t.tenant_id),
            markdown(t.name.as_deref().unwrap_or("")),
            markdown(&t.snapshot)
        );
    }
    let sum = summary_line(r);
    let _ = writeln!(s, "\n## Doors ({})\n\n{}\n", r.doors.len(), sum);
    let _ = writeln!(
        s,
        "| Risk | Kind | Tenant | Name | Reason | Action |\n|---|---|---|---|---|---|"
    );
    for d in &r.doors {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            d.risk.as_str(),
            d.kind.as_str(),
            markdown(&d.tenant_id),
            markdown(&d.name),
            markdown(&d.reason),
            markdown(&d.action)
        );
    }
    if let Some(c) = &r.compare {
        let _ = writeln!(s, "\n## Changes since {}\n", markdown(&c.old));
        let _ = writeln!(
            s,
            "| Change | Risk | Kind | Id | Name |\n|---|---|---|---|---|"
        );
        for (sign, list) in [("added", &c.added), ("removed", &c.removed)] {
            for d in list {
                let _ = writeln!(
                    s,
                    "| {sign} | {} | {} | {} | {} |",
                    d.risk.as_str(),
                    d.kind.as_str(),
                    markdown(&d.id),
                    markdown(&d.name)
                );
            }
        }
        for d in &c.changed {
            let _ = writeln!(
                s,
                "| changed | {} → {} | {} | {} | {} |",
                d.risk_before.as_str(),
                d.risk.as_str(),
                d.kind.as_str(),
                markdown(&d.id),
                markdown(&d.name)
            );
        }
    }
    if !r.checks_not_run.is_empty() || !r.checks_partial.is_empty() {
        let _ = writeln!(
            s,
            "\n## Checks not run\n\n| Tenant | Check | Reason |\n|---|---|---|"
        );
        for g in &r.checks_not_run {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                markdown(&g.tenant_id),
                markdown(&g.check),
                markdown(&g.reason)
            );
        }
        for g in &r.checks_partial {
            let _ = writeln!(
                s,
                "| {} | {} | partial: {} |",
                markdown(&g.tenant_id),
                markdown(&g.check),
                markdown(&g.reason)
            );
        }
    }
    if !r.problems.is_empty() {
        let _ = writeln!(
            s,
            "\n## Problems\n\n| File | Object | Reason |\n|---|---|---|"
        );
        for p in &r.problems {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                markdown(&p.file),
                p.index.map(|i| i.to_string()).unwrap_or_default(),
                markdown(&p.reason)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_neutralised() {
        assert_eq!(
            plain("a\u{1b}[31mb\u{202E}c\nd"),
            "a\u{FFFD}[31mb\u{FFFD}c d"
        );
        let m = markdown("<img src=x onerror=alert(1)> | [x](http://e) *b*");
        assert!(!m.contains('<') && !m.contains("](") && !m.contains(" | "));
        assert!(m.contains("&lt;img"));
    }
}
