//! Which records can be blast evidence, kept from the fact pass so that the evidence pass reads
//! only those. Per record with an acting identity, an address or a sign-in credential: those
//! (interned) and its time, 32 bytes a record. Once the indicator set is known, the records from
//! attacker addresses or with attacker credentials are picked without reading the logs again,
//! and the acting identity of a seed finding's evidence record is looked up the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::gather::{Fact, NO_TIME};
use crate::link::Indicators;

/// No value.
const NONE: u32 = u32::MAX;
/// A value not interned (more distinct values than ids): matches every indicator.
const ANY: u32 = u32::MAX - 1;

/// Strings numbered in the order first seen.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Interner {
    fn id(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else {
            return NONE;
        };
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let Ok(id) = u32::try_from(self.names.len()) else {
            return ANY;
        };
        if id >= ANY {
            return ANY;
        }
        let name: Arc<str> = Arc::from(s);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn name(&self, id: u32) -> Option<&Arc<str>> {
        self.names.get(id as usize)
    }
}

/// One record with something an evidence row or a seed finding's actor can come from.
#[derive(Debug, Clone, Copy)]
struct Row {
    file: u32,
    ip: u32,
    key: u32,
    ident: u32,
    record: u64,
    /// Milliseconds, [`NO_TIME`] when the record has no time.
    time: i64,
}

/// The records of a fact pass that can hold evidence.
#[derive(Debug, Default)]
pub struct RecordIndex {
    files: Interner,
    ips: Interner,
    keys: Interner,
    idents: Interner,
    rows: Vec<Row>,
}

/// Per input (as provenance names it), the records to read.
pub type Picked = HashMap<Arc<str>, HashSet<u64>>;

impl RecordIndex {
    /// Notes the record of `f` when it has an identity, an address or a sign-in credential.
    pub fn add(&mut self, f: &Fact) {
        if f.ident().is_none() && f.ip().is_none() && f.signin_key().is_none() {
            return;
        }
        let row = Row {
            file: self.files.id(Some(f.file())),
            ip: self.ips.id(f.ip()),
            key: self.keys.id(f.signin_key()),
            ident: self.idents.id(f.ident()),
            record: f.record(),
            time: f.time().unwrap_or(NO_TIME),
        };
        self.rows.push(row);
    }

    /// The acting identity of each of the records named (file, record) that has one; for a
    /// record read twice, the later reading.
    pub fn actors_of(&self, wanted: &HashSet<(String, u64)>) -> HashMap<(String, u64), String> {
        let mut by_file: HashMap<u32, HashSet<u64>> = HashMap::new();
        for (file, record) in wanted {
            if let Some(&id) = self.files.ids.get(file.as_str()) {
                by_file.entry(id).or_default().insert(*record);
            }
        }
        let mut out = HashMap::new();
        if by_file.is_empty() {
            return out;
        }
        for r in &self.rows {
            if !by_file.get(&r.file).is_some_and(|s| s.contains(&r.record)) {
                continue;
            }
            if let (Some(file), Some(id)) = (self.files.name(r.file), self.idents.name(r.ident)) {
                out.insert((file.to_string(), r.record), id.to_string());
            }
        }
        out
    }

    /// The records from attacker infrastructure (at or after the attacker's first use of the
    /// address, or without a time) or signed in with an attacker credential: every record the
    /// evidence pass would take for these indicators, seed findings' records aside.
    pub fn picked(&self, ind: &Indicators) -> Picked {
        let since: Vec<Option<i64>> = self
            .ips
            .names
            .iter()
            .map(|ip| ind.ips.get(ip.as_ref()).map(|m| m.since))
            .collect();
        let key: Vec<bool> = self
            .keys
            .names
            .iter()
            .map(|k| ind.keys.contains_key(k.as_ref()))
            .collect();
        let mut out: Picked = HashMap::new();
        for r in &self.rows {
            let by_ip = match r.ip {
                NONE => false,
                ANY => !ind.ips.is_empty(),
                id => since
                    .get(id as usize)
                    .copied()
                    .flatten()
                    .is_some_and(|s| r.time >= s),
            };
            let by_key = match r.key {
                NONE => false,
                ANY => !ind.keys.is_empty(),
                id => key.get(id as usize).copied().unwrap_or(false),
            };
            if (by_ip || by_key)
                && let Some(file) = self.files.name(r.file)
            {
                out.entry(file.clone()).or_default().insert(r.record);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::extract;
    use crate::link::IpMark;
    use serde_json::json;
    use tw_event::{Canonical, Document, Event, Format, Provenance, Timestamp};

    const KEY: &str = "8d42f506-d8ac-4f1e-bdd3-c2ade6bbe1c5";
    const APP: &str = "1f2d6c1e-4b8a-4f6e-9c1d-2a3b4c5d6e7f";

    /// A Graph sign-in (user, or application with the credential key it used) as the reader
    /// gives it.
    fn signin(record: u64, ip: &str, ms: Option<i64>, user: Option<&str>, key: &str) -> Event {
        let doc = json!({
            "createdDateTime": "2024-11-14T21:28:15Z",
            "ipAddress": ip,
            "appId": APP,
            "servicePrincipalCredentialKeyId": key,
        });
        Event {
            kind: Format::SigninGraphJson.log_kind(),
            format: Format::SigninGraphJson,
            provenance: Provenance {
                file: Arc::from("customers/cedar/signIns.json"),
                record,
                line: record + 1,
            },
            canonical: Canonical {
                time: ms.map(Timestamp),
                tenant_id: Some("87e7ef25-3f11-4b67-ae17-695f93a62ea8".into()),
                user: user.map(str::to_string),
                app_id: Some(APP.into()),
                service_principal_id: user.is_none().then(|| APP.to_string()),
                ip: Some(ip.into()),
                operation: Some("Sign-in activity".into()),
                ..Default::default()
            },
            raw: Document::parsed(doc),
        }
    }

    #[test]
    fn picks_attacker_address_records_from_its_first_use_and_attacker_credential_sign_ins() {
        let user = Some("yrossi@keystone.nl");
        let other_key = "28af2b99-72a2-4f1c-a59f-94bb3ac41a13";
        let events = [
            signin(0, "185.220.50.189", Some(100), user, ""),
            signin(1, "185.220.50.189", Some(300), user, ""),
            signin(2, "20.50.2.9", Some(400), None, KEY),
            signin(3, "185.220.50.189", None, user, ""),
            signin(4, "20.50.2.9", Some(500), None, other_key),
            signin(5, "80.74.40.120", Some(600), user, ""),
        ];
        let mut index = RecordIndex::default();
        for ev in &events {
            index.add(&extract(ev));
        }
        let mut ind = Indicators::default();
        let mark = IpMark {
            depth: 1,
            since: 200,
        };
        ind.ips.insert("185.220.50.189".into(), mark);
        ind.keys.insert(KEY.into(), 1);
        let picked = index.picked(&ind);
        let mut got: Vec<u64> = picked
            .get("customers/cedar/signIns.json")
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        got.sort();
        assert_eq!(got, vec![1, 2, 3]);
        assert_eq!(picked.len(), 1);

        let wanted = HashSet::from([
            ("customers/cedar/signIns.json".to_string(), 2),
            ("customers/cedar/signIns.json".to_string(), 5),
            ("elsewhere.json".to_string(), 5),
        ]);
        let actors = index.actors_of(&wanted);
        assert_eq!(actors.len(), 2);
        assert_eq!(
            actors[&("customers/cedar/signIns.json".to_string(), 2)],
            format!("app:{APP}")
        );
        assert_eq!(
            actors[&("customers/cedar/signIns.json".to_string(), 5)],
            "user:yrossi@keystone.nl"
        );
    }
}
