//! Behaviour evidence for the addresses of a compromised account's early history: an address
//! the account used from the start of its history in the logs (or before its suspect period)
//! is the attacker's when an application then signed in from it with a credential a
//! compromised account added. Applications that authenticate with a client secret or
//! certificate run as daemons on the hosts of their service (the vendor's cloud, an automation
//! host), not on a technician's home line or office connection; the same address serving both
//! the account's interactive sign-ins and the application's sign-ins with the credential that
//! account added is one operator using the stolen account and its backdoor from one host.

use std::collections::HashMap;

use crate::gather::{Facts, Grant};

/// Attacker-relevant credentials indexed for the tie: which credentials were used from an
/// address, and which changes added each.
#[derive(Debug, Default)]
pub(super) struct KeyIndex {
    /// Address → (credential key id, application) of sign-ins with a credential.
    by_ip: HashMap<String, Vec<(String, String)>>,
    /// Credential key id → the changes (indices into `Facts::grants`) that added it.
    adders: HashMap<String, Vec<usize>>,
}

impl KeyIndex {
    /// The index of `f`: only credentials that a change in the logs added.
    pub(super) fn new(f: &Facts) -> KeyIndex {
        let mut adders: HashMap<String, Vec<usize>> = HashMap::new();
        for (gi, g) in f.grants.iter().enumerate() {
            if !g.actor.starts_with("user:") {
                continue;
            }
            for k in &g.key_ids {
                adders.entry(k.clone()).or_default().push(gi);
            }
        }
        let mut by_ip: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (k, uses) in &f.key_signins {
            if !adders.contains_key(k) {
                continue;
            }
            for (app, ip) in uses.keys() {
                by_ip
                    .entry(ip.clone())
                    .or_default()
                    .push((k.clone(), app.clone()));
            }
        }
        for v in by_ip.values_mut() {
            v.sort();
        }
        KeyIndex { by_ip, adders }
    }

    /// Whether an application signed in from `ip` with a credential a change in the logs added.
    pub(super) fn used_from(&self, ip: &str) -> bool {
        self.by_ip.contains_key(ip)
    }

    /// The sign-ins that tie `ip` to the attacker for `subject`: applications signed in from
    /// it with a credential that `subject`, or another account `compromised` says is, added.
    /// A credential cannot be used before it exists, so the sign-ins came after the change.
    /// Returns the first such sign-in, described, and every application that made one (their
    /// use of the address is the attacker's, not an honest history).
    pub(super) fn tie(
        &self,
        f: &Facts,
        ip: &str,
        subject: &str,
        compromised: impl Fn(&str) -> bool,
    ) -> Option<(String, Vec<String>)> {
        let mut first = None;
        let mut apps: Vec<String> = Vec::new();
        for (k, app) in self.by_ip.get(ip)? {
            for gi in self.adders.get(k).into_iter().flatten() {
                let Some(g) = f.grants.get(*gi) else { continue };
                if g.actor == subject || compromised(&g.actor) {
                    first.get_or_insert_with(|| describe(app, k, g));
                    if !apps.contains(app) {
                        apps.push(app.clone());
                    }
                }
            }
        }
        first.map(|d| (d, apps))
    }
}

fn describe(app: &str, k: &str, g: &Grant) -> String {
    format!(
        "{app} signed in from it with credential {k}, which {} added ({}, tenant {}, {}): an application signing in with a secret or certificate runs on its service's hosts, not on the connection an administrator signs in from",
        g.actor,
        g.op,
        g.tenant,
        super::when(g.millis())
    )
}
