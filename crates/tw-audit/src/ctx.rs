//! What every check gets: the snapshot, the tenant id doors are attributed to, the reference time,
//! and sign-in "last use" figures supplied by the caller.

use std::collections::HashMap;

use tw_event::Timestamp;

use crate::door::Evidence;
use crate::load::Snapshot;
use crate::model::Prov;

/// Audit options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The time expiry and recency are judged against (default: the ScubaGear assessment time,
    /// else now).
    pub as_of: Option<Timestamp>,
    /// Last use seen in sign-in logs, keyed by (resource tenant id, actor) where the actor is a
    /// home tenant id (partner access) or an app id; all lowercase.
    pub last_use: HashMap<(String, String), Timestamp>,
}

/// The per-snapshot context of the checks.
pub struct Ctx<'a> {
    /// The snapshot.
    pub snap: &'a Snapshot,
    /// The tenant id (or `unknown`).
    pub tenant: String,
    /// Reference time.
    pub now: Timestamp,
    /// Options.
    pub opts: &'a Options,
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

impl Ctx<'_> {
    /// Last use of `actor` in `tenant`.
    pub fn last_use(&self, tenant: &str, actor: &str) -> Option<Timestamp> {
        self.opts
            .last_use
            .get(&(tenant.to_ascii_lowercase(), actor.to_ascii_lowercase()))
            .copied()
    }
}

/// Evidence from provenance.
pub fn ev(p: &Prov) -> Evidence {
    Evidence {
        file: p.file.to_string(),
        index: p.index,
    }
}

/// A short date (`2024-02-10`) for reasons.
pub fn day(t: Timestamp) -> String {
    let s = t.to_string();
    s.get(..10).unwrap_or(&s).to_string()
}
