//! Totals of an accuracy evaluation over many worlds (one JSON line per world, as
//! `tw-bench accuracy --json` writes them) and the check against the targets of the evaluation:
//! recall 100 % of attack records; at most 1 benign high+ finding per tenant, median 0; blast from
//! the stolen account exact and its mailboxes exact in every world; blast from `hunt --min-level
//! high` findings exact in at least 95 % of worlds; no decoy tenant ever affected.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::accuracy::median;

/// Totals of one blast variant over the worlds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BlastTotals {
    /// Worlds with a result.
    pub worlds: u64,
    /// Worlds whose affected set was exact.
    pub exact: u64,
    /// Worlds whose mailboxes read were exact.
    pub mailboxes_exact: u64,
    /// Worlds in which a decoy tenant became affected.
    pub decoy_worlds: u64,
    /// Attacked tenants missed, over all worlds.
    pub missing: u64,
    /// Tenants wrongly reported affected, over all worlds.
    pub extra: u64,
    /// Mailbox pairs reported, right, true.
    pub mailboxes: (u64, u64, u64),
}

/// Totals over the worlds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    /// Worlds.
    pub worlds: u64,
    /// Per technique: total, found, found at medium+, found at high+.
    pub recall: BTreeMap<String, (u64, u64, u64, u64)>,
    /// Benign high+ findings per tenant, every tenant of every world.
    pub benign_per_tenant: Vec<u64>,
    /// From the stolen account.
    pub actor: BlastTotals,
    /// From `hunt --min-level high` findings.
    pub findings: BlastTotals,
    /// Per variation that was on in a world: worlds, blast from the account exact, blast from
    /// findings exact, worlds with more than 1 benign high+ finding in a tenant.
    pub by_variation: BTreeMap<String, [u64; 4]>,
}

/// Variations on in a world (a count above 1, or `true`).
fn variations_on(v: &Value) -> Vec<String> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, x)| {
            k.as_str() != "drawn_from"
                && (x.as_bool() == Some(true) || x.as_u64().is_some_and(|n| n > 1))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn add_variations(t: &mut Totals, v: &Value) {
    let flag = |b: &Value| u64::from(b["exact"].as_bool() == Some(true));
    let over = u64::from(u(&v["benign_high"]["max"]) > 1);
    for k in variations_on(&v["variations"]) {
        let e = t.by_variation.entry(k).or_default();
        e[0] += 1;
        e[1] += flag(&v["blast_actor"]);
        e[2] += flag(&v["blast_findings"]);
        e[3] += over;
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn add_blast(t: &mut BlastTotals, b: &Value) {
    if b.is_null() {
        return;
    }
    t.worlds += 1;
    t.exact += u64::from(b["exact"].as_bool() == Some(true));
    let m = &b["mailboxes"];
    t.mailboxes_exact += u64::from(m["exact"].as_bool() == Some(true));
    let n = |k: &str| b[k].as_array().map_or(0, Vec::len) as u64;
    t.decoy_worlds += u64::from(n("decoys_affected") > 0);
    t.missing += n("missing");
    t.extra += n("extra");
    t.mailboxes.0 += u(&m["reported"]);
    t.mailboxes.1 += u(&m["right"]);
    t.mailboxes.2 += u(&m["true"]);
}

/// Adds up world results (JSON lines); a line that is not a world result is an error naming it.
pub fn totals(text: &str) -> Result<Totals, String> {
    let mut t = Totals::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("results line {}: {e}", n + 1))?;
        let recall = v["recall"]
            .as_object()
            .ok_or_else(|| format!("results line {}: no recall", n + 1))?;
        t.worlds += 1;
        for (tech, r) in recall {
            let e = t.recall.entry(tech.clone()).or_default();
            e.0 += u(&r["total"]);
            e.1 += u(&r["found"]);
            e.2 += u(&r["found_medium"]);
            e.3 += u(&r["found_high"]);
        }
        let b = &v["benign_high"];
        let per: Vec<u64> = b["per_tenant"]
            .as_object()
            .map(|o| o.values().map(u).collect())
            .unwrap_or_default();
        let zeros = u(&b["tenants"]).saturating_sub(per.len() as u64);
        t.benign_per_tenant.extend(per);
        t.benign_per_tenant
            .extend(std::iter::repeat_n(0, zeros as usize));
        add_blast(&mut t.actor, &v["blast_actor"]);
        add_blast(&mut t.findings, &v["blast_findings"]);
        add_variations(&mut t, &v);
    }
    Ok(t)
}

/// The targets missed (empty: every target met).
pub fn missed(t: &Totals) -> Vec<String> {
    let mut out = Vec::new();
    let (total, found) = t
        .recall
        .values()
        .fold((0, 0), |(a, b), r| (a + r.0, b + r.1));
    if found < total {
        out.push(format!(
            "recall {found}/{total} attack records (target 100 %)"
        ));
    }
    let max = t.benign_per_tenant.iter().max().copied().unwrap_or(0);
    let med = median(&t.benign_per_tenant);
    if max > 1 || med > 0.0 {
        out.push(format!(
            "benign high+ findings per tenant: max {max}, median {med} (target max 1, median 0)"
        ));
    }
    let a = &t.actor;
    if a.exact < a.worlds || a.mailboxes_exact < a.worlds {
        out.push(format!(
            "blast from the stolen account: affected set exact in {}/{} worlds, mailboxes exact in {}/{} (target every world)",
            a.exact, a.worlds, a.mailboxes_exact, a.worlds
        ));
    }
    let f = &t.findings;
    if f.exact * 100 < f.worlds * 95 {
        out.push(format!(
            "blast from high findings: exact in {}/{} worlds (target 95 %)",
            f.exact, f.worlds
        ));
    }
    if a.decoy_worlds + f.decoy_worlds > 0 {
        out.push(format!(
            "a decoy tenant became affected ({} worlds from the account, {} from findings; target never)",
            a.decoy_worlds, f.decoy_worlds
        ));
    }
    out
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * a as f64 / b as f64)
    }
}

fn blast_text(name: &str, b: &BlastTotals) -> String {
    let (rep, right, tru) = b.mailboxes;
    format!(
        "{name}: exact in {}/{} worlds ({} attacked tenants missed, {} extra in all), decoy affected in {} worlds; mailboxes exact in {}/{} worlds, precision {}, recall {}\n",
        b.exact,
        b.worlds,
        b.missing,
        b.extra,
        b.decoy_worlds,
        b.mailboxes_exact,
        b.worlds,
        pct(right, rep),
        pct(right, tru)
    )
}

/// The totals as text.
pub fn text(t: &Totals) -> String {
    let mut out = format!(
        "TOTAL over {} worlds\nrecall per technique (all levels / medium+ / high+):\n",
        t.worlds
    );
    for (tech, (total, found, medium, high)) in &t.recall {
        out.push_str(&format!(
            "  {tech:<26} {found:>6}/{total:<6} {:>8}   {medium:>6}/{total:<6} {:>8}   {high:>6}/{total:<6} {:>8}\n",
            pct(*found, *total),
            pct(*medium, *total),
            pct(*high, *total)
        ));
    }
    let b = &t.benign_per_tenant;
    out.push_str(&format!(
        "benign high+ findings: {} in {} tenants; per tenant max {}, median {}, tenants with any {}\n",
        b.iter().sum::<u64>(),
        b.len(),
        b.iter().max().copied().unwrap_or(0),
        median(b),
        b.iter().filter(|n| **n > 0).count()
    ));
    out.push_str(&blast_text("blast --actor <stolen account>", &t.actor));
    out.push_str(&blast_text("blast --findings <hunt high+>", &t.findings));
    if !t.by_variation.is_empty() {
        out.push_str("per variation (worlds with it on): worlds, blast --actor exact, blast --findings exact, worlds with a tenant over 1 benign high+\n");
        for (k, [n, a, f, b]) in &t.by_variation {
            out.push_str(&format!("  {k:<20} {n:>4} {a:>4} {f:>4} {b:>4}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(found: u64, benign: &str, actor_exact: bool, decoy: bool) -> String {
        let max = if benign.contains('2') { 2 } else { 1 };
        format!(
            r#"{{"recall":{{"sp_credential_added":{{"total":4,"found":{found},"found_medium":1}}}},
            "benign_high":{{"tenants":10,"max":{max},"per_tenant":{benign}}},
            "variations":{{"attacker_reuse":true,"stolen_accounts":1,"drawn_from":3}},
            "blast_actor":{{"exact":{actor_exact},"missing":[],"extra":[],"decoys_affected":{},
              "mailboxes":{{"reported":3,"right":3,"true":3,"exact":true}}}},
            "blast_findings":{{"exact":true,"missing":[],"extra":[],"decoys_affected":[],
              "mailboxes":{{"reported":4,"right":3,"true":3,"exact":false}}}}}}"#,
            if decoy { r#"["d"]"# } else { "[]" }
        )
        .replace('\n', "")
    }

    #[test]
    fn totals_add_up_worlds_and_meet_targets() {
        let text = [
            world(4, "{}", true, false),
            world(4, r#"{"a":1}"#, true, false),
        ]
        .join("\n");
        let t = totals(&text).unwrap();
        assert_eq!(t.worlds, 2);
        assert_eq!(t.recall["sp_credential_added"], (8, 8, 2, 0));
        assert_eq!(t.benign_per_tenant.len(), 20);
        assert_eq!(t.actor.exact, 2);
        assert_eq!(t.findings.mailboxes, (8, 6, 6));
        assert!(missed(&t).is_empty(), "{:?}", missed(&t));
        assert!(super::text(&t).contains("exact in 2/2 worlds"));
        assert_eq!(t.by_variation.len(), 1, "{:?}", t.by_variation);
        assert_eq!(t.by_variation["attacker_reuse"], [2, 2, 2, 0]);
    }

    #[test]
    fn each_missed_target_is_named() {
        let text = [
            world(3, r#"{"a":2}"#, false, true),
            world(4, "{}", true, false),
        ]
        .join("\n");
        let m = missed(&totals(&text).unwrap());
        assert_eq!(m.len(), 4, "{m:?}");
        assert!(m[0].starts_with("recall 7/8"));
        assert!(m[1].contains("max 2"));
        assert!(m[2].contains("exact in 1/2"));
        assert!(m[3].contains("decoy"));
        assert_eq!(
            totals(&text).unwrap().by_variation["attacker_reuse"],
            [2, 1, 2, 1]
        );
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        assert!(totals("{}\n").unwrap_err().contains("line 1"));
        assert!(totals("\nnope").unwrap_err().contains("line 2"));
    }
}
