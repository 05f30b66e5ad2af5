//! The second look: records of actors acting in their own tenant, read again for the
//! first-seen rules of cross-tenant actors (`own_tenant_later`), only in the inputs holding such
//! records of a tenant cross-tenant actors come from (a partner's own tenant), once the first
//! read has told which tenants those are. The other tenants' are never needed: their actors
//! never act elsewhere.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest_prefiltered};

use super::worker::Worker;
use crate::prefilter::Verdict;

/// Reads the inputs of `set_aside` whose tenant is among `home_tenants` again; first-seen
/// candidates go to the workers' states. Records decoded now that the first read left undecoded
/// are taken off `report`'s prefiltered count.
pub(super) fn run(
    w: &Worker<'_>,
    (paths, ingest): (&[PathBuf], &IngestOptions),
    set_aside: &BTreeSet<(String, String)>,
    home_tenants: &HashSet<String>,
    report: &mut IngestReport,
) {
    let again: BTreeSet<String> = set_aside
        .iter()
        .filter(|(_, t)| home_tenants.contains(t))
        .map(|(f, _)| f.clone())
        .collect();
    if again.is_empty() {
        return;
    }
    let h = w.hunter;
    let decoded_late = AtomicU64::new(0);
    let later_rules: Vec<u32> = (0..h.set.rules().len() as u32)
        .filter(|&r| h.own_tenant_later[r as usize])
        .collect();
    let pre_again = |raw: RawRecord<'_>| -> Option<(Verdict, bool)> {
        if w.decode_all {
            return Some((Verdict::All, false));
        }
        match w.verdict_of(&raw) {
            Verdict::Defer(t) if home_tenants.contains(&t) => {
                Some((Verdict::Rules(later_rules.clone()), true))
            }
            Verdict::Rules(r) if r.iter().any(|&x| h.own_tenant_later[x as usize]) => {
                Some((Verdict::Rules(r), false))
            }
            Verdict::All => Some((Verdict::All, false)),
            _ => None,
        }
    };
    let reread = IngestOptions {
        only_inputs: Some(Arc::new(again)),
        ..ingest.clone()
    };
    ingest_prefiltered(
        paths,
        &reread,
        pre_again,
        |ev, (verdict, late): (Verdict, bool), _: &mut Vec<()>| {
            if late {
                decoded_late.fetch_add(1, Ordering::Relaxed);
            }
            let Some(t) = ev.own_tenant() else {
                return;
            };
            if !home_tenants.contains(&t.to_ascii_lowercase()) {
                return;
            }
            let rules: Vec<u32> = match verdict {
                Verdict::Rules(r) => r,
                _ => later_rules.clone(),
            }
            .into_iter()
            .filter(|&r| h.own_tenant_later[r as usize] && w.routed(r as usize, &ev.kind))
            .collect();
            w.second_look_event(ev, &rules);
        },
        |()| {},
    );
    // Records set aside unread by the prefilter and read now were decoded after all.
    let late = decoded_late.into_inner();
    report.totals.prefiltered = report.totals.prefiltered.saturating_sub(late);
}
