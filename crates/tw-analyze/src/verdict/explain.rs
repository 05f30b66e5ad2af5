//! High findings the breach does not explain: ties of a finding to the blast result (seeds
//! given) or to anything beyond the finding itself (seeds derived from the findings).

use std::collections::HashSet;

use tw_event::Finding;

use super::{AttackerAddress, CompromisedIdentity, level_rank};
use crate::model::BlastResult;

/// With seeds given: high and critical findings with no tie to the breach: none of their records
/// is malicious in the blast result, their actor is no compromised identity and their address
/// no attacker's.
pub(super) fn unexplained(
    findings: &[Finding],
    b: &BlastResult,
    ids: &[CompromisedIdentity],
    ips: &[AttackerAddress],
) -> Vec<Finding> {
    let records: HashSet<(&str, u64)> = b
        .evidence
        .iter()
        .map(|r| (&*r.provenance.file, r.provenance.record))
        .collect();
    let idset: HashSet<String> = ids.iter().map(|i| i.id.to_ascii_lowercase()).collect();
    let ipset: HashSet<&str> = ips.iter().map(|a| a.address.as_str()).collect();
    findings
        .iter()
        .filter(|f| level_rank(&f.rule.level) >= 4)
        .filter(|f| {
            let in_evidence = f
                .evidence
                .iter()
                .any(|p| records.contains(&(&*p.file, p.record)));
            let actor = [
                &f.actor.user,
                &f.actor.app_id,
                &f.actor.service_principal_id,
            ]
            .into_iter()
            .flatten()
            .any(|a| idset.contains(&a.to_ascii_lowercase()));
            let ip = f.ip.as_deref().is_some_and(|a| ipset.contains(a));
            !(in_evidence || actor || ip)
        })
        .cloned()
        .collect()
}

/// The actors (lowercase) and address of a finding.
fn keys_of(f: &Finding) -> Vec<String> {
    let mut k: Vec<String> = [
        &f.actor.user,
        &f.actor.app_id,
        &f.actor.service_principal_id,
    ]
    .into_iter()
    .flatten()
    .map(|a| a.to_ascii_lowercase())
    .collect();
    k.extend(f.ip.clone());
    k
}

/// Two findings on copies of one action (the unified audit log's and the directory audit's):
/// the same operation (ignoring case and a trailing full stop) within five minutes.
fn same_action(f: &Finding, g: &Finding) -> bool {
    let op = |x: &Finding| {
        x.operation
            .as_deref()
            .unwrap_or("")
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    let near = match (f.time, g.time) {
        (Some(a), Some(b)) => (a.millis() - b.millis()).abs() <= 5 * 60_000,
        _ => true,
    };
    op(f) == op(g) && near
}

/// With seeds derived from the findings every high finding seeds the breach, so ties to the
/// result explain nothing. A high finding is explained there when something else points at
/// its actor or address: the blast radius reached it by expansion (a pivot one or more steps
/// from the seeds), a malicious record that is no high finding's evidence names it, or another
/// high finding of another rule, on another action, names it.
pub(super) fn uncorroborated(findings: &[Finding], b: &BlastResult) -> Vec<Finding> {
    let expanded: HashSet<String> = b
        .pivots
        .iter()
        .filter(|p| p.depth >= 1)
        .map(|p| {
            let v = p
                .indicator
                .split_once(':')
                .map_or(&*p.indicator, |(_, v)| v);
            v.to_ascii_lowercase()
        })
        .collect();
    let high: Vec<(&Finding, Vec<String>)> = findings
        .iter()
        .filter(|f| level_rank(&f.rule.level) >= 4)
        .map(|f| (f, keys_of(f)))
        .collect();
    let finding_records: HashSet<(&str, u64)> = high
        .iter()
        .flat_map(|(f, _)| f.evidence.iter().map(|p| (&*p.file, p.record)))
        .collect();
    // Actors and addresses of malicious records that are no high finding's evidence.
    let mut beyond: HashSet<String> = HashSet::new();
    for r in &b.evidence {
        if finding_records.contains(&(&*r.provenance.file, r.provenance.record)) {
            continue;
        }
        let actor = r.actor.split_once(':').map_or(&*r.actor, |(_, v)| v);
        beyond.insert(actor.to_ascii_lowercase());
        beyond.extend(r.ip.clone());
    }
    high.iter()
        .filter(|(f, keys)| {
            let reached = keys
                .iter()
                .any(|k| expanded.contains(k) || beyond.contains(k));
            let named_elsewhere = high.iter().any(|(g, gk)| {
                g.rule.id != f.rule.id && !same_action(f, g) && gk.iter().any(|k| keys.contains(k))
            });
            !(reached || named_elsewhere)
        })
        .map(|(f, _)| (*f).clone())
        .collect()
}
