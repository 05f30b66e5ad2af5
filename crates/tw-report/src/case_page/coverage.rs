//! The coverage grid: per tenant, one bar per log kind over the case's time, silences and missing
//! logs in red, the attack window shaded ("no findings" is not "no data").

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use tw_analyze::verdict::{CoverageSpan, Verdict};

use super::svg::{Axis, esc_short};

const WIDTH: f64 = 1040.0;
const LABEL: f64 = 230.0;
const KIND: f64 = 120.0;
const ROW: f64 = 11.0;
/// Most tenants drawn; the rest are counted under the grid.
pub const MAX_TENANTS: usize = 80;

/// Tenants in the order they are drawn: affected, then reached, then the rest.
fn order(v: &Verdict) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let first = v
        .affected_tenants
        .iter()
        .map(|t| &t.tenant_id)
        .chain(v.reached_no_activity.iter().map(|t| &t.tenant_id));
    for t in first.chain(v.coverage.iter().map(|s| &s.tenant_id)) {
        if seen.insert(t.clone()) {
            out.push(t.clone());
        }
    }
    out
}

/// Writes the coverage grid as SVG.
pub fn write(out: &mut String, v: &Verdict) {
    let times = v.coverage.iter().flat_map(|s| [s.first, s.last]).flatten();
    let (Some(t0), Some(t1)) = (times.clone().min(), times.max()) else {
        out.push_str("<p class=\"muted\">No dated record was read.</p>");
        return;
    };
    let kinds: BTreeSet<&str> = v.coverage.iter().map(|s| s.log_kind.as_str()).collect();
    let mut by: BTreeMap<(&str, &str), &CoverageSpan> = BTreeMap::new();
    for s in &v.coverage {
        by.insert((s.tenant_id.as_str(), s.log_kind.as_str()), s);
    }
    let tenants = order(v);
    let shown = &tenants[..tenants.len().min(MAX_TENANTS)];
    let x0 = LABEL + KIND;
    let axis = Axis::new(t0, t1, x0, WIDTH - x0 - 10.0);
    let group = ROW * kinds.len() as f64 + 5.0;
    let height = 24.0 + group * shown.len() as f64;
    let _ = write!(
        out,
        "<svg id=\"coverage\" role=\"img\" aria-label=\"Log coverage per tenant\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    if let Some(w) = v.attack_window {
        let (a, b) = (axis.x(w.from), axis.x(w.to));
        let _ = write!(
            out,
            "<rect x=\"{a:.1}\" y=\"18\" width=\"{:.1}\" height=\"{:.1}\" class=\"window\"><title>attack window</title></rect>",
            (b - a).max(1.0),
            height - 18.0
        );
    }
    axis.ticks(out, 18.0, height);
    for (i, t) in shown.iter().enumerate() {
        let y = 24.0 + group * i as f64;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{}</text>",
            LABEL - 6.0,
            y + 9.0,
            esc_short(v.name_of(t), 34)
        );
        for (k, kind) in kinds.iter().enumerate() {
            let ky = y + ROW * k as f64;
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"kind\">{}</text>",
                x0 - 6.0,
                ky + 8.0,
                esc_short(kind, 18)
            );
            bar(out, &axis, by.get(&(t.as_str(), *kind)).copied(), ky);
            judged_gaps(out, &axis, v, t, kind, ky);
        }
    }
    out.push_str("</svg>");
    if tenants.len() > shown.len() {
        let _ = write!(
            out,
            "<p class=\"muted\">… and {} more tenants (verdict.json, <code>coverage</code>).</p>",
            tenants.len() - shown.len()
        );
    }
}

fn bar(out: &mut String, axis: &Axis, span: Option<&CoverageSpan>, y: f64) {
    let (x_start, x_end) = (
        axis.x(tw_event::Timestamp(i64::MIN / 2)),
        axis.x(tw_event::Timestamp(i64::MAX / 2)),
    );
    let Some((s, first, last)) = span.and_then(|s| Some((s, s.first?, s.last?))) else {
        let _ = write!(
            out,
            "<rect x=\"{x_start:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"8\" class=\"missing\"><title>no log of this kind</title></rect>",
            x_end - x_start
        );
        return;
    };
    let _ = write!(
        out,
        "<rect x=\"{x_start:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"8\" class=\"uncovered\"/>",
        x_end - x_start
    );
    let (a, b) = (axis.x(first), axis.x(last));
    let _ = write!(
        out,
        "<rect x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"8\" class=\"covered\"><title>{} records, {first} to {last}</title></rect>",
        (b - a).max(1.0),
        s.records
    );
    for (f, t) in &s.gaps {
        let (ga, gb) = (axis.x(*f), axis.x(*t));
        let _ = write!(
            out,
            "<rect x=\"{ga:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"8\" class=\"quiet\"><title>no record from {f} to {t}</title></rect>",
            (gb - ga).max(1.0)
        );
    }
}

/// The verdict's coverage gaps of one tenant and log kind, in red over the bar.
fn judged_gaps(out: &mut String, axis: &Axis, v: &Verdict, tenant: &str, kind: &str, y: f64) {
    for g in v
        .coverage_gaps
        .iter()
        .filter(|g| g.tenant_id == tenant && g.log_kind == kind && g.kind != "missing")
    {
        let (a, b) = (axis.x(g.from), axis.x(g.to));
        let _ = write!(
            out,
            "<rect x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"8\" class=\"gap\"><title>{} from {} to {}</title></rect>",
            (b - a).max(1.0),
            esc_short(&g.kind, 20),
            g.from,
            g.to
        );
    }
}
