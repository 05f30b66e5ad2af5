//! The timeline picture: malicious activity per affected tenant over time, one row per tenant,
//! each time bin coloured by the technique with most records in it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tw_analyze::EvidenceRow;
use tw_analyze::verdict::Verdict;

use super::svg::{Axis, colour, esc, esc_short, technique_of};

const WIDTH: f64 = 1040.0;
const LABEL: f64 = 230.0;
const ROW: f64 = 18.0;
const BINS: usize = 200;
/// Most tenant rows drawn; the rest are counted under the picture.
pub const MAX_ROWS: usize = 60;

/// The techniques seen, in a fixed order (the palette index of each).
pub fn techniques(evidence: &[EvidenceRow]) -> Vec<String> {
    let mut count: BTreeMap<&str, u64> = BTreeMap::new();
    for r in evidence {
        *count.entry(technique_of(&r.technique)).or_default() += 1;
    }
    count.into_keys().map(str::to_string).collect()
}

/// Writes the timeline figure (SVG and legend) as HTML.
pub fn write(out: &mut String, v: &Verdict, evidence: &[EvidenceRow], techs: &[String]) {
    let Some(w) = v.attack_window else {
        out.push_str("<p class=\"muted\">No malicious activity to draw.</p>");
        return;
    };
    let axis = Axis::new(w.from, w.to, LABEL, WIDTH - LABEL - 10.0);
    let rows: Vec<&str> = v
        .affected_tenants
        .iter()
        .take(MAX_ROWS)
        .map(|t| t.tenant_id.as_str())
        .collect();
    // (row, bin) → technique → records.
    let mut cells: BTreeMap<(usize, usize), BTreeMap<usize, u64>> = BTreeMap::new();
    let row_of: std::collections::HashMap<&str, usize> =
        rows.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for r in evidence {
        let (Some(row), Some(t)) = (row_of.get(r.tenant_id.as_str()).copied(), r.time) else {
            continue;
        };
        let tech = techs
            .iter()
            .position(|x| x == technique_of(&r.technique))
            .unwrap_or(0);
        *cells
            .entry((row, axis.bin(t, BINS)))
            .or_default()
            .entry(tech)
            .or_default() += 1;
    }
    let height = 24.0 + ROW * rows.len() as f64 + 8.0;
    let _ = write!(
        out,
        "<svg id=\"timeline\" role=\"img\" aria-label=\"Malicious activity per tenant over time\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    axis.ticks(out, 18.0, height - 4.0);
    for (i, id) in rows.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let _ = write!(
            out,
            "<rect x=\"{LABEL}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"lane\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{}</text>",
            WIDTH - LABEL - 10.0,
            ROW - 4.0,
            LABEL - 6.0,
            y + ROW - 8.0,
            esc_short(v.name_of(id), 34)
        );
    }
    let bin_w = (WIDTH - LABEL - 10.0) / BINS as f64;
    for ((row, bin), by_tech) in &cells {
        let Some((tech, _)) = by_tech.iter().max_by_key(|(_, n)| **n) else {
            continue;
        };
        let total: u64 = by_tech.values().sum();
        let detail: Vec<String> = by_tech
            .iter()
            .map(|(t, n)| format!("{} {n}", techs.get(*t).map_or("?", |s| s.as_str())))
            .collect();
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} records: {}</title></rect>",
            LABEL + bin_w * *bin as f64,
            24.0 + ROW * *row as f64,
            bin_w.max(2.0),
            ROW - 4.0,
            colour(*tech),
            total,
            esc(&detail.join(", "))
        );
    }
    out.push_str("</svg>");
    if v.affected_tenants.len() > rows.len() {
        let _ = write!(
            out,
            "<p class=\"muted\">… and {} more tenants (verdict.json).</p>",
            v.affected_tenants.len() - rows.len()
        );
    }
    legend(out, techs);
}

fn legend(out: &mut String, techs: &[String]) {
    out.push_str("<ul class=\"legend\">");
    for (i, t) in techs.iter().enumerate() {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            colour(i),
            esc(t)
        );
    }
    out.push_str("</ul>");
}
