//! The pivot graph: compromised identity → attacker address → application → tenant, drawn from
//! the malicious records (a user's record links user → address → tenant, an application's
//! address → application → tenant).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use tw_analyze::EvidenceRow;
use tw_analyze::verdict::Verdict;

use super::svg::{esc, esc_short};

/// Most nodes drawn per column; the rest are gathered in one "… and N more" node.
pub const MAX_NODES: usize = 24;
const COLS: [&str; 4] = ["Identities", "Addresses", "Applications", "Tenants"];
const COL_X: [f64; 4] = [10.0, 290.0, 520.0, 790.0];
const ROW: f64 = 22.0;
const WIDTH: f64 = 1040.0;

/// A node: its column and its name.
type Node = (usize, String);
/// A drawn node: its column and its row.
type Slot = (usize, usize);

/// Nodes per column with their record counts, and weighted edges between (column, name) pairs.
#[derive(Default)]
struct Graph {
    nodes: [BTreeMap<String, u64>; 4],
    edges: BTreeMap<(Node, Node), u64>,
}

impl Graph {
    fn add_row(&mut self, r: &EvidenceRow) {
        let mut chain: Vec<Node> = Vec::with_capacity(4);
        let (kind, id) = r.actor.split_once(':').unwrap_or(("", r.actor.as_str()));
        if kind == "user" {
            chain.push((0, id.to_string()));
        }
        if let Some(ip) = &r.ip {
            chain.push((1, ip.clone()));
        }
        if kind == "app" {
            chain.push((2, id.to_string()));
        }
        chain.push((3, r.tenant_id.clone()));
        for (c, n) in &chain {
            *self.nodes[*c].entry(n.clone()).or_default() += 1;
        }
        for w in chain.windows(2) {
            *self.edges.entry((w[0].clone(), w[1].clone())).or_default() += 1;
        }
    }
}

/// Per column: the nodes shown (most records first) and their row; hidden nodes map to the
/// "more" row.
fn layout(g: &Graph) -> [HashMap<String, usize>; 4] {
    let mut out: [HashMap<String, usize>; 4] = Default::default();
    for (c, nodes) in g.nodes.iter().enumerate() {
        let mut v: Vec<(&String, &u64)> = nodes.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (i, (n, _)) in v.into_iter().enumerate() {
            out[c].insert(n.clone(), i.min(MAX_NODES));
        }
    }
    out
}

/// Writes the pivot graph as SVG.
pub fn write(out: &mut String, v: &Verdict, evidence: &[EvidenceRow]) {
    let mut g = Graph::default();
    for r in evidence {
        g.add_row(r);
    }
    for i in &v.compromised_identities {
        let c = if i.kind == "app" { 2 } else { 0 };
        g.nodes[c].entry(i.id.clone()).or_default();
    }
    for a in &v.attacker_addresses {
        g.nodes[1].entry(a.address.clone()).or_default();
    }
    if g.nodes.iter().all(BTreeMap::is_empty) {
        out.push_str("<p class=\"muted\">No compromised identity or attacker address.</p>");
        return;
    }
    let rows = layout(&g);
    let tallest = rows
        .iter()
        .map(|r| r.values().max().map_or(0, |m| m + 1))
        .max()
        .unwrap_or(0);
    let height = 30.0 + ROW * tallest as f64;
    let _ = write!(
        out,
        "<svg id=\"pivots\" role=\"img\" aria-label=\"Pivot graph\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    for (c, title) in COLS.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"14\" class=\"coltitle\">{title}</text>",
            COL_X[c]
        );
    }
    edges(out, &g, &rows);
    nodes(out, &g, &rows, v);
    out.push_str("</svg>");
}

fn y_of(row: usize) -> f64 {
    30.0 + ROW * row as f64
}

fn edges(out: &mut String, g: &Graph, rows: &[HashMap<String, usize>; 4]) {
    let mut drawn: BTreeMap<(Slot, Slot), u64> = BTreeMap::new();
    for (((ca, a), (cb, b)), n) in &g.edges {
        let (Some(ra), Some(rb)) = (rows[*ca].get(a), rows[*cb].get(b)) else {
            continue;
        };
        *drawn.entry(((*ca, *ra), (*cb, *rb))).or_default() += n;
    }
    for (((ca, ra), (cb, rb)), n) in drawn {
        let width = 1.0 + (n as f64).log10().max(0.0);
        let _ = write!(
            out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"edge\" stroke-width=\"{width:.1}\"><title>{n} records</title></line>",
            COL_X[ca] + 200.0,
            y_of(ra) + 6.0,
            COL_X[cb] - 4.0,
            y_of(rb) + 6.0
        );
    }
}

fn nodes(out: &mut String, g: &Graph, rows: &[HashMap<String, usize>; 4], v: &Verdict) {
    for c in 0..4 {
        let mut hidden = BTreeSet::new();
        for (name, row) in &rows[c] {
            if *row >= MAX_NODES {
                hidden.insert(name);
                continue;
            }
            let label = if c == 3 { v.name_of(name) } else { name };
            let records = g.nodes[c].get(name).copied().unwrap_or(0);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"200\" height=\"16\" rx=\"3\" class=\"node c{c}\"><title>{} ({records} records)</title></rect><text x=\"{:.1}\" y=\"{:.1}\" class=\"nodelabel\">{}</text>",
                COL_X[c] - 4.0,
                y_of(*row) - 2.0,
                esc(name),
                COL_X[c],
                y_of(*row) + 10.0,
                esc_short(label, 30)
            );
        }
        if !hidden.is_empty() {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"nodelabel muted\">… and {} more</text>",
                COL_X[c],
                y_of(MAX_NODES) + 10.0,
                hidden.len()
            );
        }
    }
}
