//! Where each user acts from: the first time the logs show a user at each address, kept from the
//! records of the rules a stage names as `seen` (successful sign-ins, `UserLoggedIn`), so a
//! stage can say whether an action came from an address new for the user. Memory grows with
//! distinct (user, address) pairs, never with events.
//!
//! An address is **new for the user** at time `t` when the logs show the user acting since at
//! least the learning period before `t` (so it has a history to compare with), never from that address's network (IPv4 /24, IPv6 /48:
//! an office's or provider's egress pool) before `t`, no other user of the same tenant used the
//! address before `t` (the organisation's office or VPN, new to one administrator, is not new
//! infrastructure), and `t` is past the learning period from the start of the logs of the
//! action's tenant (within it every address is new to everyone). Addresses compare
//! case-insensitively without port or brackets (the canonical `ip`).

use hashbrown::HashMap;

use serde_json::Value;
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

/// What one worker thread has already sent of the records of users at addresses: per (user,
/// address, tenant), the earliest time. Everything [`SeenStore`] keeps is an earliest time per
/// user, address, network or tenant, so a record no earlier than one already sent for its
/// (user, address, tenant) changes nothing and is not sent: most sign-ins repeat a user's
/// address, and each record sent costs allocations here and map updates on the collecting thread.
#[derive(Debug, Default)]
pub struct SeenCache {
    earliest: HashMap<Box<str>, i64>,
    key: String,
}

/// Appends `s` lowercased (as [`str::to_lowercase`] does) to `buf`.
fn push_lower(buf: &mut String, s: &str) {
    if s.is_ascii() {
        let from = buf.len();
        buf.push_str(s);
        // Only the ASCII bytes just appended are changed: the string stays valid UTF-8.
        if let Some(tail) = buf.get_mut(from..) {
            tail.make_ascii_lowercase();
        }
    } else {
        buf.push_str(&s.to_lowercase());
    }
}

impl SeenCache {
    /// [`observe`] for a record not earlier than one already sent for its user, address and
    /// tenant: `None`.
    pub fn observe(&mut self, ev: &Event) -> Option<SeenObs> {
        let c = &ev.canonical;
        let user = c.user.as_deref().filter(|u| !u.is_empty())?;
        let ip = c.ip.as_deref().filter(|i| !i.is_empty())?;
        let time = c.time?.millis();
        let tenant = c.tenant_id.as_deref().unwrap_or("");
        let key = &mut self.key;
        key.clear();
        push_lower(key, user);
        key.push('\n');
        let ip_at = key.len();
        push_lower(key, ip.trim());
        key.push('\n');
        let tenant_at = key.len();
        push_lower(key, tenant);
        match self.earliest.get_mut(key.as_str()) {
            Some(t) if *t <= time => return None,
            Some(t) => *t = time,
            None => {
                self.earliest.insert(key.as_str().into(), time);
            }
        }
        Some(SeenObs {
            user: key[..ip_at - 1].to_string(),
            ip: key[ip_at..tenant_at - 1].to_string(),
            tenant: key[tenant_at..].to_string(),
            time,
        })
    }
}

/// The network of an address for the egress-pool test: the first three octets of an IPv4
/// address, the first three groups of an IPv6 address (the address itself otherwise).
fn network(ip: &str) -> &str {
    let sep = if ip.contains(':') { ':' } else { '.' };
    match ip.match_indices(sep).nth(2) {
        Some((i, _)) => &ip[..i],
        None => ip,
    }
}

/// The two earliest distinct users of an address in a tenant, with their first use: enough to
/// tell whether anyone other than a given user used it before a given time.
#[derive(Debug, Default, Clone)]
struct FirstUsers(Vec<(String, i64)>);

impl FirstUsers {
    fn add(&mut self, user: &str, t: i64) {
        match self.0.iter_mut().find(|(u, _)| u == user) {
            Some((_, ft)) => *ft = (*ft).min(t),
            None => self.0.push((user.to_string(), t)),
        }
        self.0.sort_by_key(|(_, ft)| *ft);
        self.0.truncate(2);
    }

    /// Whether a user other than `user` used the address before `t`.
    fn other_before(&self, user: &str, t: i64) -> bool {
        self.0.iter().any(|(u, ft)| u != user && *ft < t)
    }
}

/// First uses per user and address (and network), who used each address of a tenant first,
/// first record per user and per tenant.
#[derive(Debug, Default)]
pub struct SeenStore {
    first_use: HashMap<(String, String), i64>,
    net_first: HashMap<(String, String), i64>,
    tenant_ip: HashMap<(String, String), FirstUsers>,
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
            keep_min(
                self.tenant_first.entry(o.tenant.clone()).or_insert(o.time),
                o.time,
            );
        }
        let net = network(&o.ip).to_string();
        keep_min(
            self.net_first
                .entry((o.user.clone(), net))
                .or_insert(o.time),
            o.time,
        );
        self.tenant_ip
            .entry((o.tenant, o.ip.clone()))
            .or_default()
            .add(&o.user, o.time);
        keep_min(
            self.first_use.entry((o.user, o.ip)).or_insert(o.time),
            o.time,
        );
    }

    /// True when some record of a user of `tenant` (lower case; anyone's, any time) came from
    /// `ip`.
    pub fn signed_in_from(&self, ip: &str, tenant: &str) -> bool {
        self.tenant_ip
            .contains_key(&(tenant.to_string(), ip.trim().to_lowercase()))
    }

    /// The earliest record of `user` from `ip` (both lower case), in any tenant.
    pub fn first_use(&self, user: &str, ip: &str) -> Option<i64> {
        if user.is_empty() {
            return None;
        }
        self.first_use
            .get(&(user.to_string(), ip.to_string()))
            .copied()
    }

    /// Per address of `ips` (lower case): the earliest users of it in every tenant, with their
    /// first use (at least the two earliest users of each tenant).
    pub fn first_users_of<'a>(
        &self,
        ips: impl Iterator<Item = &'a str>,
    ) -> HashMap<String, Vec<(String, i64)>> {
        let mut out: HashMap<String, Vec<(String, i64)>> =
            ips.map(|ip| (ip.to_string(), Vec::new())).collect();
        for ((_, ip), users) in &self.tenant_ip {
            if let Some(v) = out.get_mut(ip) {
                v.extend(users.0.iter().cloned());
            }
        }
        out
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

    /// Why `ip` is new for `user` in `tenant` for an action at `time`: it was new (see
    /// [`SeenStore::new_for`]) when the user first came from it — the sign-in of the session
    /// that acted, or the action itself — and that was less than the learning period before
    /// `time` (an address used that long is part of the user's routine by then).
    pub fn new_since_first_use(
        &self,
        user: &str,
        ip: &str,
        tenant: &str,
        time: i64,
        learning_ms: i64,
    ) -> Option<String> {
        let key = (user.to_lowercase(), ip.trim().to_lowercase());
        let first = self
            .first_use
            .get(&key)
            .copied()
            .map_or(time, |f| f.min(time));
        if time.saturating_sub(first) >= learning_ms {
            return None;
        }
        self.new_for(user, ip, tenant, first, learning_ms)
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
        // The user's own history must span the learning period too: a user first seen hours
        // before has no routine addresses the logs could show yet.
        let since = self
            .user_first
            .get(&user)
            .copied()
            .filter(|f| f.saturating_add(learning_ms) <= time)?;
        let before = |f: Option<&i64>| f.is_some_and(|f| *f < time);
        let used = before(self.first_use.get(&(user.clone(), ip.clone())))
            || before(
                self.net_first
                    .get(&(user.clone(), network(&ip).to_string())),
            )
            || self
                .tenant_ip
                .get(&(tenant.to_string(), ip.clone()))
                .is_some_and(|u| u.other_before(&user, time));
        (!used).then(|| {
            format!(
                "{ip} never used by {user} before {} (its history in the logs starts {})",
                Timestamp(time),
                Timestamp(since)
            )
        })
    }
}

/// The names listed under `key` of `block` (a missing key is an empty list).
pub fn names(block: &Value, key: &str, what: &str) -> Result<Vec<String>, String> {
    match block.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{what}: {key} must list rule names")),
        Some(v) => Err(format!("{what}: {key} must be a list, not {v}")),
    }
}

/// A duration of `block` (`learning: 72h`), 72 hours when absent.
pub fn learning(block: &Value, what: &str) -> Result<i64, String> {
    match block.get("learning") {
        None => Ok(72 * 3_600_000),
        Some(v) => v
            .as_str()
            .and_then(crate::firstseen::parse_duration_ms)
            .ok_or_else(|| format!("{what}: bad learning {v}")),
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
        // A user first seen less than the learning period before: no history yet.
        s.add(obs("late@contoso.com", "198.51.100.9", 60 * H));
        assert!(
            s.new_for("late@contoso.com", "192.0.2.1", "t", 90 * H, 72 * H)
                .is_none()
        );
        assert!(
            s.new_for("late@contoso.com", "192.0.2.1", "t", 133 * H, 72 * H)
                .is_some()
        );
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
        // Another address of a network the user works from is not new.
        assert!(
            s.new_for("adele@contoso.com", "203.0.113.10", "t", 90 * H, 72 * H)
                .is_none()
        );
        // The office a colleague of the tenant used first is not new infrastructure.
        s.add(obs("megan@contoso.com", "192.0.2.50", 5 * H));
        s.add(obs("alex@contoso.com", "192.0.2.50", 2 * H));
        assert!(
            s.new_for("adele@contoso.com", "192.0.2.50", "t", 90 * H, 72 * H)
                .is_none()
        );
        assert!(
            s.new_for("alex@contoso.com", "198.18.0.1", "t", 90 * H, 72 * H)
                .is_some()
        );
    }

    #[test]
    fn first_users_tell_whether_another_came_before() {
        let mut u = FirstUsers::default();
        u.add("a", 10);
        u.add("a", 5);
        assert!(!u.other_before("a", 100));
        assert!(u.other_before("b", 6));
        u.add("b", 3);
        assert!(u.other_before("a", 4));
        assert!(u.other_before("b", 6));
        assert!(!u.other_before("b", 5));
        u.add("c", 4);
        assert!(u.other_before("b", 5));
    }
}
