//! Notification reports a partner can send to an affected customer: what happened, when, what
//! was accessed, what to do now, and the evidence. One folder per affected tenant under the report
//! folder, holding `notification.md`, `notification.html` and `evidence.csv` (every supporting
//! record with its provenance, cells neutralised against formula injection).
//!
//! Folder names come from tenant ids and export folder names, both log-derived: they are reduced
//! to `[A-Za-z0-9._-]`, never start with a dot, and are joined under the report folder only, so no
//! input can make a report land outside it.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tw_analyze::{BlastResult, EvidenceRow, InputProblems, Status, TenantBlast};

use crate::csv_sink::neutralise;
use crate::html::write_html;
use crate::visible::visible;

/// Who sends the report and with what tool.
#[derive(Debug, Clone, Default)]
pub struct LetterContext {
    /// The sender (the partner), as it should appear in the letter.
    pub sender: String,
    /// Tool name and version, for the footer.
    pub tool: String,
    /// Evidence rows shown on the page (all are in `evidence.csv`).
    pub max_rows_shown: usize,
    /// What the inputs did not give (filled from the result by [`write_report_dir`]).
    pub input_problems: InputProblems,
}

/// The text of a letter, shared by the Markdown and HTML renderings (plain text, unescaped).
#[derive(Debug, Clone, Default)]
pub struct Letter {
    /// Title.
    pub title: String,
    /// Paragraphs of "what happened".
    pub what_happened: Vec<String>,
    /// Recommended actions.
    pub actions: Vec<String>,
    /// Paragraphs on the data examined.
    pub coverage: Vec<String>,
    /// Footer.
    pub footer: String,
}

fn ts(t: Option<tw_event::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "unknown".into())
}

/// Composes the letter of one tenant.
pub fn letter(t: &TenantBlast, _evidence: &[&EvidenceRow], ctx: &LetterContext) -> Letter {
    let name = if t.name.is_empty() {
        t.tenant_id.clone()
    } else {
        format!("{} ({})", t.name, t.tenant_id)
    };
    let sender = if ctx.sender.is_empty() {
        "your IT partner".to_string()
    } else {
        ctx.sender.clone()
    };
    let mut what = vec![format!(
        "Between {} and {} (UTC), an attacker acted in your Microsoft 365 / Entra ID tenant {name} using access held through {sender}. We found {} records of malicious activity in the logs.",
        ts(t.first),
        ts(t.last),
        t.evidence_records
    )];
    if !t.actors.is_empty() {
        what.push(format!(
            "Identities used by the attacker: {}.",
            t.actors.join(", ")
        ));
    }
    if !t.ips.is_empty() {
        what.push(format!(
            "Addresses the attacker acted from: {}.",
            t.ips.join(", ")
        ));
    }
    let n_mail = t.mailboxes_read.len() + t.mailbox_ids_read.len();
    if n_mail > 0 {
        what.push(format!(
            "Mail was read in {n_mail} mailboxes: {}.",
            t.mailboxes_read
                .iter()
                .chain(t.mailbox_ids_read.iter())
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let has = |x: &str| t.techniques.iter().any(|s| s.split(' ').any(|p| p == x));
    let objects = |kind: &str| -> Vec<String> {
        t.objects_changed
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.name.clone())
            .collect::<Vec<_>>()
    };
    let mut actions = vec![
        format!(
            "Review and, until the investigation ends, suspend the delegated administration (GDAP/DAP) relationships and any guest or partner accounts of {sender} in your tenant; revoke their sessions and refresh tokens."
        ),
        "Block the attacker's addresses listed above (Conditional Access named locations) and search your own logs for them.".into(),
    ];
    if has("credential_added") || has("app_sign_in") {
        let apps = objects("app");
        actions.push(format!(
            "Remove the credentials (secrets and certificates) the attacker added to applications{}, rotate every remaining credential of those applications, and review their sign-ins.",
            if apps.is_empty() { String::new() } else { format!(" ({})", apps.join(", ")) }
        ));
    }
    if has("permission_granted") {
        actions.push("Remove the application permissions, app role assignments, consents and delegated permission grants added during the incident (see the objects changed).".into());
    }
    if has("role_added") {
        actions.push("Remove directory role memberships added during the incident and review all privileged role holders.".into());
    }
    if has("federation_modified") {
        actions.push("Review domain federation: revert domains the attacker federated to managed authentication, check issuer URIs and signing certificates, and treat tokens issued meanwhile as forged.".into());
    }
    if has("mailbox_rule_or_forwarding") {
        actions.push("Remove the inbox rules and mailbox forwarding the attacker created and check what was forwarded.".into());
    }
    if n_mail > 0 {
        actions.push("Assess the exposure of the mail read in the listed mailboxes: its owners, the people it concerns and your notification obligations (for personal data, e.g. GDPR Art. 33: 72 hours).".into());
    }
    actions.push(
        "Keep the logs and this report (with manifest.json) as evidence; extend log retention."
            .into(),
    );
    let c = &t.coverage;
    let mut coverage = vec![format!(
        "The logs examined for this tenant cover {} to {} (UTC): {} records of {}{}. Activity outside this range or in logs not provided cannot be ruled out.",
        ts(c.first),
        ts(c.last),
        c.records,
        if c.log_kinds.is_empty() {
            "no log kind".to_string()
        } else {
            c.log_kinds.join(", ")
        },
        if c.gaps > 0 {
            format!(", with {} gaps in coverage", c.gaps)
        } else {
            String::new()
        }
    )];
    coverage.push(inputs_paragraph(&ctx.input_problems));
    Letter {
        title: format!("Security incident notification: {name}"),
        what_happened: what,
        actions,
        coverage,
        footer: format!(
            "Prepared with {}. Times are UTC. Log content is shown as recorded and may be attacker-controlled.",
            if ctx.tool.is_empty() {
                "tenantwatch"
            } else {
                &ctx.tool
            }
        ),
    }
}

/// Files named in the letter's "Data examined" at most (all are in `manifest.json`).
const UNREAD_FILES_NAMED: usize = 20;

/// The "Data examined" paragraph on input files: all read, or which could not be and why.
fn inputs_paragraph(p: &InputProblems) -> String {
    if p.is_clean() {
        return format!(
            "All {} input files were read completely ({} records).",
            p.files, p.records
        );
    }
    let named: Vec<String> = p
        .files_not_read
        .iter()
        .take(UNREAD_FILES_NAMED)
        .map(|f| format!("{} ({}: {})", f.path, f.status, f.reason))
        .collect();
    let more = p.files_not_read.len().saturating_sub(UNREAD_FILES_NAMED);
    format!(
        "{} of the {} input files could not be fully read and {} of {} records were rejected; activity recorded only there is not reflected in this report{}{}{}",
        p.files_not_read.len(),
        p.files,
        p.records_rejected,
        p.records,
        if named.is_empty() { "." } else { ": " },
        named.join("; "),
        if more > 0 {
            format!("; and {more} more files (listed in manifest.json).")
        } else if named.is_empty() {
            String::new()
        } else {
            ".".to_string()
        }
    )
}

/// Escapes text for Markdown: HTML-significant characters become entities, Markdown punctuation
/// is backslash-escaped, line breaks become spaces.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\r' | '\n' => o.push(' '),
            // Written `\\x1b`: Markdown shows the backslash.
            c if crate::visible::is_hidden_control(c) => {
                o.push('\\');
                crate::visible::push_escape(&mut o, c);
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

/// Writes the notification report of one tenant as Markdown.
pub fn write_markdown<W: Write>(
    w: &mut W,
    t: &TenantBlast,
    evidence: &[&EvidenceRow],
    ctx: &LetterContext,
) -> io::Result<()> {
    let l = letter(t, evidence, ctx);
    let e = md_escape;
    writeln!(w, "# {}\n", e(&l.title))?;
    writeln!(w, "Status: **{}**\n", t.status.as_str())?;
    writeln!(w, "## What happened\n")?;
    for p in &l.what_happened {
        writeln!(w, "{}\n", e(p))?;
    }
    writeln!(w, "## What was accessed\n")?;
    writeln!(
        w,
        "### Mailboxes read ({})\n",
        t.mailboxes_read.len() + t.mailbox_ids_read.len()
    )?;
    for m in &t.mailboxes_read {
        writeln!(w, "- {}", e(m))?;
    }
    for m in &t.mailbox_ids_read {
        writeln!(w, "- user object id {}", e(m))?;
    }
    if t.mailboxes_read.is_empty() && t.mailbox_ids_read.is_empty() {
        writeln!(w, "No mail read was found in the logs.")?;
    }
    writeln!(w, "\n### Objects changed ({})\n", t.objects_changed.len())?;
    if !t.objects_changed.is_empty() {
        writeln!(w, "| Kind | Object | Operation |\n|---|---|---|")?;
        for o in &t.objects_changed {
            writeln!(
                w,
                "| {} | {} | {} |",
                e(&o.kind),
                e(&o.name),
                e(&o.operation)
            )?;
        }
    }
    writeln!(w, "\n### Techniques\n")?;
    for x in &t.techniques {
        writeln!(w, "- {}", e(x))?;
    }
    writeln!(w, "\n## What to do now\n")?;
    for (i, a) in l.actions.iter().enumerate() {
        writeln!(w, "{}. {}", i + 1, e(a))?;
    }
    writeln!(w, "\n## Data examined\n")?;
    for p in &l.coverage {
        writeln!(w, "{}\n", e(p))?;
    }
    writeln!(
        w,
        "## Evidence ({} records)\n\nEvery supporting record with its provenance is in `evidence.csv`.\n",
        t.evidence_records
    )?;
    writeln!(
        w,
        "| Time (UTC) | Technique | Actor | Address | Operation | Detail | Source |\n|---|---|---|---|---|---|---|"
    )?;
    for r in evidence.iter().take(ctx.max_rows_shown.max(1)) {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {}:{} (record {}) |",
            e(&r.time.map(|t| t.to_string()).unwrap_or_default()),
            e(&r.technique),
            e(&r.actor),
            e(r.ip.as_deref().unwrap_or("")),
            e(&r.operation),
            e(r.detail.as_deref().unwrap_or("")),
            e(&r.provenance.file),
            r.provenance.line,
            r.provenance.record
        )?;
    }
    if evidence.len() > ctx.max_rows_shown.max(1) {
        writeln!(
            w,
            "\n{} more records in `evidence.csv`.",
            evidence.len() - ctx.max_rows_shown.max(1)
        )?;
    }
    writeln!(w, "\n---\n{}", e(&l.footer))
}

/// Writes the evidence of one tenant as CSV (cells neutralised, control characters written as
/// visible escapes).
pub fn write_evidence_csv<W: Write>(w: &mut W, rows: &[&EvidenceRow]) -> io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record([
        "time",
        "tenant_id",
        "log",
        "technique",
        "actor",
        "ip",
        "operation",
        "detail",
        "user_agent",
        "reason",
        "file",
        "record",
        "line",
    ])
    .map_err(io::Error::other)?;
    for r in rows {
        let row = [
            r.time.map(|t| t.to_string()).unwrap_or_default(),
            r.tenant_id.clone(),
            r.log.clone(),
            r.technique.clone(),
            r.actor.clone(),
            r.ip.clone().unwrap_or_default(),
            r.operation.clone(),
            r.detail.clone().unwrap_or_default(),
            r.user_agent.clone().unwrap_or_default(),
            r.reason.clone(),
            r.provenance.file.to_string(),
            r.provenance.record.to_string(),
            r.provenance.line.to_string(),
        ];
        c.write_record(row.iter().map(|s| neutralise(&visible(s))))
            .map_err(io::Error::other)?;
    }
    c.flush()
}

/// A path component made safe: `[A-Za-z0-9._-]` only, no leading dot, at most 80 characters,
/// never empty.
pub fn safe_component(s: &str) -> String {
    let mut o: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    while o.starts_with('.') {
        o.replace_range(..1, "_");
    }
    if o.is_empty() {
        o.push_str("tenant");
    }
    o
}

/// The folder name of a tenant's report.
pub fn tenant_folder(t: &TenantBlast) -> String {
    if t.name.is_empty() {
        safe_component(&t.tenant_id)
    } else {
        format!(
            "{}_{}",
            safe_component(t.name.trim_end_matches(".zip")),
            safe_component(&t.tenant_id)
        )
    }
}

/// Writes one folder per affected tenant under `dir` (created if missing) and a `summary.json`
/// of the whole result; returns every file written, in order.
pub fn write_report_dir(
    dir: &Path,
    result: &BlastResult,
    ctx: &LetterContext,
) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let ctx = &LetterContext {
        input_problems: result.input_problems.clone(),
        ..ctx.clone()
    };
    let mut by_tenant: BTreeMap<&str, Vec<&EvidenceRow>> = BTreeMap::new();
    for r in &result.evidence {
        by_tenant.entry(r.tenant_id.as_str()).or_default().push(r);
    }
    for v in by_tenant.values_mut() {
        v.sort_by(|a, b| {
            (a.time, &a.provenance.file, a.provenance.record).cmp(&(
                b.time,
                &b.provenance.file,
                b.provenance.record,
            ))
        });
    }
    let mut written = Vec::new();
    let mut used = std::collections::HashSet::new();
    for t in result
        .tenants
        .iter()
        .filter(|t| t.status == Status::Affected)
    {
        let mut name = tenant_folder(t);
        let mut k = 2;
        while !used.insert(name.clone()) {
            name = format!("{}_{k}", tenant_folder(t));
            k += 1;
        }
        let folder = dir.join(&name);
        fs::create_dir_all(&folder)?;
        let rows = by_tenant
            .get(t.tenant_id.as_str())
            .map(|v| v.as_slice())
            .unwrap_or(&[]);
        let shown: Vec<&EvidenceRow> = rows
            .iter()
            .take(ctx.max_rows_shown.max(1))
            .copied()
            .collect();
        let md = folder.join("notification.md");
        let mut w = BufWriter::new(File::create(&md)?);
        write_markdown(&mut w, t, rows, ctx)?;
        w.flush()?;
        written.push(md);
        let html = folder.join("notification.html");
        let mut w = BufWriter::new(File::create(&html)?);
        write_html(&mut w, t, &shown, ctx)?;
        w.flush()?;
        written.push(html);
        let csv = folder.join("evidence.csv");
        let mut w = BufWriter::new(File::create(&csv)?);
        write_evidence_csv(&mut w, rows)?;
        w.flush()?;
        written.push(csv);
    }
    let summary = dir.join("summary.json");
    let mut w = BufWriter::new(File::create(&summary)?);
    serde_json::to_writer_pretty(&mut w, result).map_err(io::Error::other)?;
    w.write_all(b"\n")?;
    w.flush()?;
    written.push(summary);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_stay_inside() {
        assert_eq!(safe_component("../../etc"), "_._.._etc");
        assert_eq!(safe_component(".."), "_.");
        assert_eq!(safe_component(""), "tenant");
        assert_eq!(safe_component("a/b\\c"), "a_b_c");
    }

    #[test]
    fn markdown_is_inert() {
        let s = md_escape("<script>x</script> [a](http://e) =cmd|");
        assert!(!s.contains('<'));
        assert!(s.contains("\\[a\\]"));
    }
}
