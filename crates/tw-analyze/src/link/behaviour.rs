//! Behaviour evidence for the addresses of a compromised account's early history: an address
//! the account used from the start of its history in the logs (or before its suspect period)
//! is the attacker's when an application then signed in from it with a credential a
//! compromised account added. Applications that authenticate with a client secret or
//! certificate run as daemons on the hosts of their service (the vendor's cloud, an automation
//! host), not on a technician's home line or office connection; the same address serving both
//! the account's interactive sign-ins and the application's sign-ins with the credential that
//! account added is one operator using the stolen account and its backdoor from one host.

use std::collections::{HashMap, HashSet};

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

    /// Whether `app` signed in from `ip` with a credential that a partner account (a user the
    /// logs show acting across tenants) added. Such a use is no honest history: partners rarely
    /// own their customers' applications, and a credential a partner account planted, used by
    /// the application from wherever its holder works, is the very pattern under investigation.
    /// The attacker's applications backdoored through other stolen accounts of the partner, not
    /// yet known, sign in this way from the attacker's addresses before the one being judged.
    pub(super) fn partner_credential_at(&self, f: &Facts, ip: &str, app: &str) -> bool {
        self.by_ip.get(ip).is_some_and(|uses| {
            uses.iter().any(|(k, a)| {
                a == app
                    && self.adders.get(k).into_iter().flatten().any(|gi| {
                        f.grants
                            .get(*gi)
                            .is_some_and(|g| f.ident_home.contains_key(&g.actor))
                    })
            })
        })
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

impl super::Expander<'_> {
    /// Attacker addresses → the accounts that planted the credentials applications signed in
    /// with from them. A credential cannot be used before it exists: the account that added it,
    /// when the application then signs in with it from the attacker's infrastructure, made the
    /// attacker's backdoor — its session is the attacker's, as the other stolen accounts of a
    /// partner are (their addresses are then judged like the seed's).
    pub(super) fn expand_planters(&mut self, done: &mut HashSet<String>) -> bool {
        let mut changed = false;
        let f = self.f;
        let ips: Vec<(String, super::IpMark)> = self
            .ind
            .ips
            .iter()
            .filter(|(ip, _)| !done.contains(*ip))
            .map(|(ip, m)| (ip.clone(), *m))
            .collect();
        for (ip, mark) in ips {
            done.insert(ip.clone());
            let uses = self.keys.by_ip.get(&ip).cloned().unwrap_or_default();
            for (k, app) in uses {
                if f.first_use(&app, &ip) < mark.since {
                    continue;
                }
                for gi in self.keys.adders.get(&k).cloned().unwrap_or_default() {
                    let Some(g) = f.grants.get(gi) else { continue };
                    if self.ind.idents.contains_key(&g.actor) {
                        continue;
                    }
                    if mark.depth >= self.o.depth {
                        self.not_followed(
                            mark.depth + 1,
                            "identity",
                            &g.actor,
                            &ip,
                            "depth limit reached".into(),
                        );
                        continue;
                    }
                    let why = format!(
                        "added credential {k} ({}, tenant {}, {}), with which {app} then signed in from attacker address {ip}: the account planted the attacker's backdoor",
                        g.op,
                        g.tenant,
                        super::when(g.millis())
                    );
                    changed |= self.add_ident(&g.actor, mark.depth + 1, true, Some(&ip), why);
                }
            }
        }
        changed
    }
}
