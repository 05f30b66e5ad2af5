//! The case page (`index.html` of `tenantwatch investigate`): the verdict, a timeline picture,
//! the pivot graph, the coverage grid and links to each tenant's notification report, in one
//! self-contained file. Inline SVG and CSS only: no script, no external resource, and a
//! Content-Security-Policy that forbids both; every text from the logs is escaped (control
//! characters shown as control pictures).

pub mod coverage;
pub mod pivots;
pub mod svg;
pub mod timeline;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use tw_analyze::BlastResult;
use tw_analyze::verdict::Verdict;

use svg::{esc, esc_short};

/// What the page says about its own making.
#[derive(Debug, Clone, Default)]
pub struct CaseContext {
    /// `tenantwatch X.Y.Z`.
    pub tool: String,
    /// The case folder as the user named it.
    pub case_dir: String,
    /// Other files of the case folder (relative paths), listed at the end.
    pub files: Vec<String>,
}

/// Rows shown per table; the rest are counted and left to `verdict.json`.
const MAX_TABLE_ROWS: usize = 300;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'";

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1080px;margin:1.5em auto;padding:0 1em;color:#1b1b1b;line-height:1.4}\
h1{font-size:1.6em;border-bottom:3px solid #b00020;padding-bottom:.3em}h2{margin-top:1.6em;font-size:1.2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;width:100%;font-size:.82em;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .45em;text-align:left;vertical-align:top;word-break:break-word}\
th{background:#f3f3f3}.muted{color:#666}.lead{font-size:1.1em}code{background:#f5f5f5;padding:0 .2em}\
ol.actions li{margin:.3em 0;font-weight:600}svg{display:block;margin:.5em 0;font-size:10px}\
.tick{stroke:#ddd;stroke-width:1}.ticklabel{fill:#555;text-anchor:middle}.lane{fill:#f4f4f4}.label,.kind{fill:#222;text-anchor:end}\
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.85em}.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}\
.edge{stroke:#888;stroke-opacity:.6}.node{stroke:#444;stroke-width:.6}.c0{fill:#f6c6c6}.c1{fill:#fde3b5}.c2{fill:#d6e4f5}.c3{fill:#dcefd8}.coltitle{font-weight:700;font-size:12px}\
.tenant{min-width:11em}.when{white-space:nowrap}#affected th{hyphens:auto}.nodelabel{fill:#111}.quiet{fill:#f0b9b9}.covered{fill:#6aaa64}.uncovered{fill:#f2dede}.gap,.missing{fill:#d62728}.window{fill:#ffe9a8;fill-opacity:.5}";

/// Writes the case page.
pub fn write_case_page<W: Write>(
    w: &mut W,
    v: &Verdict,
    blast: &BlastResult,
    ctx: &CaseContext,
) -> io::Result<()> {
    let mut o = String::with_capacity(1 << 16);
    head(&mut o, v);
    summary(&mut o, v);
    o.push_str("<h2 id=\"timeline-title\">Malicious activity over time</h2>");
    let techs = timeline::techniques(&blast.evidence);
    timeline::write(&mut o, v, &blast.evidence, &techs);
    affected(&mut o, v);
    o.push_str("<h2>Pivot graph: identity → address → application → tenant</h2>");
    pivots::write(&mut o, v, &blast.evidence);
    identities(&mut o, v);
    reached(&mut o, v);
    o.push_str("<h2>What the logs cover</h2><p class=\"muted\">Per tenant, one bar per log kind: green where records exist, pink where a log is quiet longer than the gap threshold, red where it is missing or silent longer than its own rate makes likely (the gaps listed below); the attack window is shaded. No findings is not no data.</p>");
    coverage::write(&mut o, v);
    gaps(&mut o, v);
    unexplained(&mut o, v);
    unread(&mut o, v);
    user_agents(&mut o, blast);
    footer(&mut o, v, ctx);
    w.write_all(o.as_bytes())
}

fn head(o: &mut String, v: &Verdict) {
    let title = format!(
        "Case verdict: {} tenant(s) affected",
        v.affected_tenants.len()
    );
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
}

fn time(t: Option<tw_event::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "-".into())
}

/// `YYYY-MM-DD HH:MM` (UTC).
fn minute(t: Option<tw_event::Timestamp>) -> String {
    let s = time(t);
    s.get(..16).unwrap_or(&s).replace('T', " ")
}

/// Technique labels without their ATT&CK tags, each once.
fn technique_labels(list: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for t in list {
        let w = svg::technique_of(t);
        if !seen.contains(&w) {
            seen.push(w);
        }
    }
    seen.join(", ")
}

fn summary(o: &mut String, v: &Verdict) {
    let window = v.attack_window.map_or_else(
        || "no malicious activity was linked".to_string(),
        |w| format!("attack window {} to {}", w.from, w.to),
    );
    let _ = write!(
        o,
        "<p class=\"lead\" id=\"summary\">{} compromised identit(ies), {} attacker address(es), {} affected tenant(s), {} reached without malicious activity, {} tenant(s) examined; {}.</p>",
        v.compromised_identities.len(),
        v.attacker_addresses.len(),
        v.affected_tenants.len(),
        v.reached_no_activity.len(),
        v.tenants_examined,
        esc(&window)
    );
    o.push_str("<h2>What to do first</h2><ol class=\"actions\" id=\"actions\">");
    for a in &v.actions {
        let _ = write!(o, "<li>{}</li>", esc(a));
    }
    o.push_str("</ol>");
}

fn more(o: &mut String, total: usize) {
    if total > MAX_TABLE_ROWS {
        let _ = write!(
            o,
            "<p class=\"muted\">… and {} more (verdict.json).</p>",
            total - MAX_TABLE_ROWS
        );
    }
}

fn identities(o: &mut String, v: &Verdict) {
    o.push_str("<h2>Compromised identities</h2><table id=\"identities\"><tr><th>Kind</th><th>Identity</th><th>How it was recognised</th></tr>");
    for i in v.compromised_identities.iter().take(MAX_TABLE_ROWS) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.kind),
            esc(&i.id),
            esc(&i.reason)
        );
    }
    o.push_str("</table>");
    more(o, v.compromised_identities.len());
    o.push_str(
        "<h2>Attacker addresses</h2><table id=\"addresses\"><tr><th>Address</th><th>Why</th></tr>",
    );
    for a in v.attacker_addresses.iter().take(MAX_TABLE_ROWS) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&a.address),
            esc(&a.reason)
        );
    }
    o.push_str("</table>");
    more(o, v.attacker_addresses.len());
}

fn affected(o: &mut String, v: &Verdict) {
    o.push_str("<h2>Affected tenants</h2><table id=\"affected\"><tr><th>Tenant</th><th>Role</th><th>First (UTC)</th><th>Last (UTC)</th><th>Mailboxes read</th><th>Objects changed</th><th>Techniques</th><th>Report</th></tr>");
    for t in v.affected_tenants.iter().take(MAX_TABLE_ROWS) {
        let name = if t.name.is_empty() {
            &t.tenant_id
        } else {
            &t.name
        };
        let objects: Vec<String> = t
            .objects_changed
            .iter()
            .take(8)
            .map(|x| format!("{}: {}", x.kind, x.name))
            .collect();
        let report = t.report.as_deref().map_or_else(
            || "-".to_string(),
            |r| format!("<a href=\"{}\">report</a>", esc(r)),
        );
        let _ = write!(
            o,
            "<tr><td class=\"tenant\"><strong>{}</strong><br><code class=\"muted\">{}</code></td><td class=\"when\">{}</td><td class=\"when\">{}</td><td class=\"when\">{}</td><td>{}</td><td>{} {}</td><td>{}</td><td class=\"when\">{report}</td></tr>",
            esc(name),
            esc(&t.tenant_id),
            esc(&t.role),
            minute(t.first),
            minute(t.last),
            t.mailboxes_read.len() + t.mailbox_ids_read.len(),
            t.objects_changed.len(),
            esc(&objects.join("; ")),
            esc(&technique_labels(&t.techniques))
        );
    }
    o.push_str("</table>");
    more(o, v.affected_tenants.len());
}

fn reached(o: &mut String, v: &Verdict) {
    o.push_str("<h2>Reached, no malicious activity</h2><table id=\"reached\"><tr><th>Tenant</th><th>Logs cover (UTC)</th><th>Log kinds</th><th>Records</th></tr>");
    for t in v.reached_no_activity.iter().take(MAX_TABLE_ROWS) {
        let _ = write!(
            o,
            "<tr><td>{}<br><code class=\"muted\">{}</code></td><td>{} to {}</td><td>{}</td><td>{}</td></tr>",
            esc(v.name_of(&t.tenant_id)),
            esc(&t.tenant_id),
            minute(t.coverage.first),
            minute(t.coverage.last),
            esc(&t.coverage.log_kinds.join(", ")),
            t.coverage.records
        );
    }
    o.push_str("</table>");
    more(o, v.reached_no_activity.len());
}

fn gaps(o: &mut String, v: &Verdict) {
    let window = v
        .judged_window
        .map_or_else(String::new, |w| format!(" between {} and {}", w.from, w.to));
    let _ = write!(
        o,
        "<h3>Gaps{}</h3><table id=\"gaps\"><tr><th>Tenant</th><th>Log kind</th><th>Gap</th><th>From</th><th>To</th></tr>",
        esc(&window)
    );
    for g in v.coverage_gaps.iter().take(MAX_TABLE_ROWS) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(v.name_of(&g.tenant_id)),
            esc(&g.log_kind),
            esc(&g.kind),
            minute(Some(g.from)),
            minute(Some(g.to))
        );
    }
    o.push_str("</table>");
    more(o, v.coverage_gaps.len());
}

fn unexplained(o: &mut String, v: &Verdict) {
    o.push_str("<h2>High findings the breach does not explain</h2><table id=\"unexplained\"><tr><th>Time (UTC)</th><th>Tenant</th><th>Level</th><th>Rule</th><th>Actor</th><th>Address</th></tr>");
    for f in v.unexplained_findings.iter().take(MAX_TABLE_ROWS) {
        let actor = f
            .actor
            .user
            .as_deref()
            .or(f.actor.app_id.as_deref())
            .unwrap_or("");
        let tenant = f.tenant_id.as_deref().unwrap_or("");
        let _ = write!(
            o,
            "<tr><td class=\"when\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            minute(f.time),
            esc(v.name_of(tenant)),
            esc(&f.rule.level),
            esc(&f.rule.title),
            esc(actor),
            esc(f.ip.as_deref().unwrap_or(""))
        );
    }
    o.push_str("</table>");
    more(o, v.unexplained_findings.len());
}

fn unread(o: &mut String, v: &Verdict) {
    if v.files_not_fully_read.is_empty() {
        return;
    }
    o.push_str("<h2>Input files not fully read</h2><table id=\"unread\"><tr><th>File</th><th>Status</th><th>Records rejected</th><th>Why</th></tr>");
    for f in v.files_not_fully_read.iter().take(MAX_TABLE_ROWS) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.path),
            esc(&f.status),
            f.rejected,
            esc(f.reason.as_deref().unwrap_or(""))
        );
    }
    o.push_str("</table>");
    more(o, v.files_not_fully_read.len());
}

fn user_agents(o: &mut String, b: &BlastResult) {
    let mut uas: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &b.evidence {
        if let Some(ua) = r.user_agent.as_deref().filter(|s| !s.is_empty()) {
            *uas.entry(ua).or_default() += 1;
        }
    }
    let mut v: Vec<(&str, u64)> = uas.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    o.push_str("<h2>User agents of the malicious records</h2><table id=\"user-agents\"><tr><th>User agent</th><th>Records</th></tr>");
    for (ua, n) in v.iter().take(30) {
        let _ = write!(o, "<tr><td>{}</td><td>{n}</td></tr>", esc_short(ua, 300));
    }
    o.push_str("</table>");
}

fn footer(o: &mut String, v: &Verdict, ctx: &CaseContext) {
    o.push_str("<h2>Seeds</h2><ul id=\"seeds\">");
    for s in &v.seeds {
        let _ = write!(
            o,
            "<li>{} {} ({}): {} records{}</li>",
            esc(&s.kind),
            esc(&s.value),
            esc(&s.origin),
            s.records,
            s.note
                .as_deref()
                .map(|n| format!(" — {}", esc(n)))
                .unwrap_or_default()
        );
    }
    o.push_str("</ul><h2>Case folder</h2><ul id=\"files\">");
    for f in &ctx.files {
        let _ = write!(o, "<li><code>{}</code></li>", esc(f));
    }
    let _ = writeln!(
        o,
        "</ul><p class=\"muted\">Written by {} into {}. Every file's SHA-256 is in manifest.json.</p></body></html>",
        esc(&ctx.tool),
        esc(&ctx.case_dir)
    );
}
