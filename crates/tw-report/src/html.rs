//! The notification report as a standalone HTML page. Every piece of log content is escaped
//! (it is attacker-controlled: rule names, user agents, display names); the page carries no
//! script and a Content-Security-Policy that forbids any, as a second line of defence.

use std::io::{self, Write};

use tw_analyze::{EvidenceRow, TenantBlast};

use crate::letter::{Letter, LetterContext, letter};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\0' => o.push('\u{FFFD}'),
            '\n' => o.push('\n'),
            c if crate::visible::is_hidden_control(c) => crate::visible::push_escape(&mut o, c),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}\
h1{font-size:1.6em;border-bottom:3px solid #b00020;padding-bottom:.3em}h2{margin-top:1.6em;font-size:1.25em}\
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;word-break:break-word}\
th{background:#f3f3f3}.status{display:inline-block;padding:.1em .6em;border-radius:.3em;background:#b00020;color:#fff;font-weight:600}\
.muted{color:#666}code{background:#f5f5f5;padding:0 .2em}li{margin:.2em 0}";

/// Writes the notification report of one tenant as HTML.
pub fn write_html<W: Write>(
    w: &mut W,
    t: &TenantBlast,
    evidence: &[&EvidenceRow],
    ctx: &LetterContext,
) -> io::Result<()> {
    let l = letter(t, evidence, ctx);
    render(w, &l, t, evidence)
}

fn render<W: Write>(
    w: &mut W,
    l: &Letter,
    t: &TenantBlast,
    evidence: &[&EvidenceRow],
) -> io::Result<()> {
    let e = escape;
    writeln!(w, "<!DOCTYPE html>")?;
    writeln!(w, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        w,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'none'\">"
    )?;
    writeln!(w, "<title>{}</title>", e(&l.title))?;
    writeln!(w, "<style>{STYLE}</style></head><body>")?;
    writeln!(w, "<h1>{}</h1>", e(&l.title))?;
    writeln!(
        w,
        "<p><span class=\"status\" id=\"status\">{}</span> <span class=\"muted\">tenant <code id=\"tenant-id\">{}</code></span></p>",
        e(t.status.as_str()),
        e(&t.tenant_id)
    )?;
    writeln!(w, "<h2>What happened</h2>")?;
    for p in &l.what_happened {
        writeln!(w, "<p>{}</p>", e(p))?;
    }
    writeln!(w, "<h2>What was accessed</h2>")?;
    writeln!(
        w,
        "<h3>Mailboxes read ({})</h3><ul id=\"mailboxes\">",
        t.mailboxes_read.len() + t.mailbox_ids_read.len()
    )?;
    for m in &t.mailboxes_read {
        writeln!(w, "<li>{}</li>", e(m))?;
    }
    for m in &t.mailbox_ids_read {
        writeln!(w, "<li>user object id {}</li>", e(m))?;
    }
    if t.mailboxes_read.is_empty() && t.mailbox_ids_read.is_empty() {
        writeln!(
            w,
            "<li class=\"muted\">No mail read was found in the logs.</li>"
        )?;
    }
    writeln!(w, "</ul>")?;
    writeln!(
        w,
        "<h3>Objects changed ({})</h3><table id=\"objects\"><tr><th>Kind</th><th>Object</th><th>Operation</th></tr>",
        t.objects_changed.len()
    )?;
    for o in &t.objects_changed {
        writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&o.kind),
            e(&o.name),
            e(&o.operation)
        )?;
    }
    writeln!(w, "</table>")?;
    writeln!(w, "<h3>Techniques</h3><ul id=\"techniques\">")?;
    for x in &t.techniques {
        writeln!(w, "<li>{}</li>", e(x))?;
    }
    writeln!(w, "</ul>")?;
    writeln!(w, "<h3>Actors and addresses</h3><ul>")?;
    for x in &t.actors {
        writeln!(w, "<li>actor {}</li>", e(x))?;
    }
    for x in &t.ips {
        writeln!(w, "<li>address {}</li>", e(x))?;
    }
    writeln!(w, "</ul>")?;
    writeln!(w, "<h2>What to do now</h2><ol id=\"actions\">")?;
    for a in &l.actions {
        writeln!(w, "<li>{}</li>", e(a))?;
    }
    writeln!(w, "</ol>")?;
    writeln!(w, "<h2>Data examined</h2>")?;
    for p in &l.coverage {
        writeln!(w, "<p>{}</p>", e(p))?;
    }
    writeln!(
        w,
        "<h2>Evidence ({} records)</h2><p class=\"muted\">Every supporting record with its provenance is in <code>evidence.csv</code> next to this page.</p>",
        t.evidence_records
    )?;
    writeln!(
        w,
        "<table id=\"evidence\"><tr><th>Time (UTC)</th><th>Technique</th><th>Actor</th><th>Address</th><th>Operation</th><th>Detail</th><th>User agent</th><th>Source</th></tr>"
    )?;
    for r in evidence {
        writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}:{} (record {})</td></tr>",
            e(&r.time.map(|t| t.to_string()).unwrap_or_default()),
            e(&r.technique),
            e(&r.actor),
            e(r.ip.as_deref().unwrap_or("")),
            e(&r.operation),
            e(r.detail.as_deref().unwrap_or("")),
            e(r.user_agent.as_deref().unwrap_or("")),
            e(&r.provenance.file),
            r.provenance.line,
            r.provenance.record
        )?;
    }
    writeln!(w, "</table>")?;
    writeln!(w, "<p class=\"muted\">{}</p>", e(&l.footer))?;
    writeln!(w, "</body></html>")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
