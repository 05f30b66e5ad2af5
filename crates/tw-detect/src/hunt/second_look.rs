//! The second look: records of actors acting in their own tenant, read again for the
//! first-seen rules of cross-tenant actors (`own_tenant_later`), only in the inputs holding such
//! records of a tenant cross-tenant actors come from (a partner's own tenant), once the first
//! read has told which tenants those are. The other tenants' are never needed: their actors
//! never act elsewhere. The same look reads, for the rules telling stages where users act from
//! (`seen`, [`crate::newaddr`]), the own-tenant records of the tenants whose actions a stage
//! asks about (the tenants of mail-hiding bursts and of grants, and the partners' tenants): the
//! users' address histories those questions need, without decoding every user's log-in.

use hashbrown::HashSet;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tw_ingest::{IngestOptions, IngestReport, RawRecord, ingest_prefiltered};

use super::worker::Worker;
use crate::prefilter::Verdict;

/// The tenants whose own-tenant records a second look reads: the partners' (`home`, for the
/// first-seen rules of cross-tenant actors) and those whose users' address histories a stage asks
/// for (`asked`, for the `seen` rules).
pub(super) struct Wanted<'a> {
    pub(super) home: &'a HashSet<String>,
    pub(super) asked: &'a HashSet<String>,
}

/// Reads the inputs of `set_aside` whose tenant is wanted again; first-seen candidates go to the
/// workers' states, what the `seen` rules tell to the returned list. Records decoded now that
/// the first read left undecoded are taken off `report`'s prefiltered count.
pub(super) fn run(
    w: &Worker<'_>,
    (paths, ingest): (&[PathBuf], &IngestOptions),
    set_aside: &BTreeSet<(String, String, bool)>,
    wanted: &Wanted<'_>,
    report: &mut IngestReport,
) -> Vec<crate::newaddr::SeenObs> {
    let (home_tenants, asked) = (wanted.home, wanted.asked);
    // Inputs of a partner's tenant are read for every record of an own-tenant actor; inputs of
    // a tenant asked about only for the records the prefilter deferred unread.
    let home_inputs: BTreeSet<String> = set_aside
        .iter()
        .filter(|(_, t, _)| home_tenants.contains(t))
        .map(|(f, _, _)| f.clone())
        .collect();
    let mut again = home_inputs.clone();
    again.extend(
        set_aside
            .iter()
            .filter(|(_, t, deferred)| *deferred && asked.contains(t))
            .map(|(f, _, _)| f.clone()),
    );
    if again.is_empty() {
        return Vec::new();
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
        let home = home_inputs.contains(raw.source);
        match w.verdict_of(&raw) {
            Verdict::Defer(t) if (home && home_tenants.contains(&t)) || asked.contains(&t) => {
                Some((Verdict::Rules(later_rules.clone()), true))
            }
            Verdict::Rules(r) if home && r.iter().any(|&x| h.own_tenant_later[x as usize]) => {
                Some((Verdict::Rules(r), false))
            }
            Verdict::All if home => Some((Verdict::All, false)),
            _ => None,
        }
    };
    let reread = IngestOptions {
        only_inputs: Some(Arc::new(again)),
        ..ingest.clone()
    };
    let mut seen = Vec::new();
    ingest_prefiltered(
        paths,
        &reread,
        pre_again,
        |ev, (verdict, late): (Verdict, bool), out: &mut Vec<crate::newaddr::SeenObs>| {
            if late {
                decoded_late.fetch_add(1, Ordering::Relaxed);
            }
            let Some(t) = ev.own_tenant() else {
                return;
            };
            let t = t.to_ascii_lowercase();
            // Records the first read set aside, of a tenant asked about: where its users act
            // from (records the first read decoded told that already).
            if late && asked.contains(&t) {
                out.extend(w.seen_look_event(ev));
            }
            if !home_tenants.contains(&t) {
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
        |o| seen.push(o),
    );
    // Records set aside unread by the prefilter and read now were decoded after all.
    let late = decoded_late.into_inner();
    report.totals.prefiltered = report.totals.prefiltered.saturating_sub(late);
    seen
}
