//! Where each user acts from: the first time the logs show a user at each address, kept from the
//! records of the rules a stage names as `seen` (successful sign-ins, `UserLoggedIn`), so a
//! stage can say whether an action came from an address new for the user. Memory grows with
//! distinct (user, address) pairs, never with events.
//!
//! An address is **new for the user** at time `t` when the logs show the user acting before `t`
//! (so it has a history to compare with), never from that address before `t`, and `t` is past
//! the learning period from the start of the logs of the action's tenant (within it every address
//! is new to everyone). Addresses compare case-insensitively without port or brackets (the
//! canonical `ip`).

use std::collections::HashMap;

use tw_event::{Event, Timestamp};

/// One record of a user at an address.
#[derive(Debug, Clone)]
pub struct SeenObs {
    /// The user (lower case).
    pub user: String,
    /// The address (lower case).
    pub ip: String,
    /// The record's tenant (lower case; empty when unknown).
    pub tenant: String,
    /// Event time (ms).
    pub time: i64,
}

/// The record of `ev` when it names a user, an address and a time.
pub fn observe(ev: &Event) -> Option<SeenObs> {
    let c = &ev.canonical;
    let user = c.user.as_deref().filter(|u| !u.is_empty())?;
    let ip = c.ip.as_deref().filter(|i| !i.is_empty())?;
    Some(SeenObs {
        user: user.to_lowercase(),
        ip: ip.trim().to_lowercase(),
        tenant: c.tenant_id.as_deref().unwrap_or("").to_lowercase(),
        time: c.time?.millis(),
    })
}

/// First uses per user and address, first record per user and per tenant.
#[derive(Debug, Default)]
pub struct SeenStore {
    first_use: HashMap<(String, String), i64>,
    user_first: HashMap<String, i64>,
    tenant_first: HashMap<String, i64>,
}

fn keep_min(slot: &mut i64, t: i64) {
    *slot = (*slot).min(t);
}

impl SeenStore {
    /// Keeps `o`.
    pub fn add(&mut self, o: SeenObs) {
        keep_min(
            self.user_first.entry(o.user.clone()).or_insert(o.time),
            o.time,
        );
        if !o.tenant.is_empty() {
            keep_min(self.tenant_first.entry(o.tenant).or_insert(o.time), o.time);
        }
        keep_min(
            self.first_use.entry((o.user, o.ip)).or_insert(o.time),
            o.time,
        );
    }

    /// Also counts an action's own tenant and time towards the start of its tenant's logs.
    pub fn note_tenant(&mut self, tenant: &str, time: i64) {
        if !tenant.is_empty() && time != i64::MIN {
            keep_min(
                self.tenant_first.entry(tenant.to_string()).or_insert(time),
                time,
            );
        }
    }

    /// Why `ip` is new for `user` at `time` in `tenant` (see the module docs), or `None`.
    pub fn new_for(
        &self,
        user: &str,
        ip: &str,
        tenant: &str,
        time: i64,
        learning_ms: i64,
    ) -> Option<String> {
        let (user, ip) = (user.to_lowercase(), ip.trim().to_lowercase());
        if user.is_empty() || ip.is_empty() || time == i64::MIN {
            return None;
        }
        let start = self.tenant_first.get(tenant).copied().unwrap_or(time);
        if time < start.saturating_add(learning_ms) {
            return None;
        }
        let since = self.user_first.get(&user).copied().filter(|f| *f < time)?;
        let used = self
            .first_use
            .get(&(user.clone(), ip.clone()))
            .is_some_and(|f| *f < time);
        (!used).then(|| {
            format!(
                "{ip} never used by {user} before {} (its history in the logs starts {})",
                Timestamp(time),
                Timestamp(since)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(user: &str, ip: &str, time: i64) -> SeenObs {
        SeenObs {
            user: user.into(),
            ip: ip.into(),
            tenant: "t".into(),
            time,
        }
    }

    #[test]
    fn new_only_after_learning_and_with_a_history() {
        const H: i64 = 3_600_000;
        let mut s = SeenStore::default();
        s.add(obs("adele@contoso.com", "203.0.113.9", 0));
        s.add(obs("adele@contoso.com", "198.51.100.7", 80 * H));
        // Within the learning period nothing is new.
        assert!(
            s.new_for("adele@contoso.com", "192.0.2.1", "t", 10 * H, 72 * H)
                .is_none()
        );
        // After it: an address never used before is new; a known one is not.
        assert!(
            s.new_for("Adele@contoso.com", "192.0.2.1", "t", 90 * H, 72 * H)
                .is_some()
        );
        assert!(
            s.new_for("adele@contoso.com", "203.0.113.9", "t", 90 * H, 72 * H)
                .is_none()
        );
        // Used only after the action: still new at the time of the action.
        assert!(
            s.new_for("adele@contoso.com", "198.51.100.7", "t", 75 * H, 72 * H)
                .is_some()
        );
        // A user with no history before the action: nothing to compare with.
        assert!(
            s.new_for("nobody@contoso.com", "192.0.2.1", "t", 90 * H, 72 * H)
                .is_none()
        );
    }
}
