//! Tenant names from the data, for people reading a report: per tenant id, a name and where it
//! came from, in this order of trust:
//!
//! 1. `map` — the name given on the tenant's `--tenant-map` line;
//! 2. `tenant_name` — a tenant name field a record carries next to the tenant id it names
//!    (`homeTenantName` of sign-ins and of directory audits' `initiatedBy.user`, Exchange's
//!    `OrganizationName` when it is no domain);
//! 3. `user_domain` — the most common verified (not `*.onmicrosoft.com`) domain of the UPNs of the
//!    tenant's own users;
//! 4. `initial_domain` — its `*.onmicrosoft.com` domain (users' UPNs, guests' `#EXT#` UPNs, or
//!    Exchange's `OrganizationName`);
//! 5. `folder` — the export folder its files share, as a last resort.
//!
//! A user is the tenant's own when the record names the user's home tenant (`homeTenantId`,
//! `ActorContextId`), or, when no record of that domain names one, when the domain appears in that
//! tenant's records only: a partner technician's domain, seen in many customers' logs, names none
//! of them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tw_event::Canonical;

/// A tenant's name and how it was decided.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantName {
    /// The tenant id (lower case).
    pub tenant_id: String,
    /// The name to show.
    pub name: String,
    /// `map`, `tenant_name`, `user_domain`, `initial_domain` or `folder`.
    pub name_source: &'static str,
    /// What the name was read from, in words.
    pub evidence: String,
}

/// (name field, field of the tenant id it names).
type NameField = (&'static [&'static str], &'static [&'static str]);

/// Fields that carry a tenant's name, each with the field of the tenant id it belongs to.
pub const NAME_FIELDS: &[NameField] = &[
    (&["homeTenantName"], &["homeTenantId"]),
    (
        &["properties", "homeTenantName"],
        &["properties", "homeTenantId"],
    ),
    (&["HomeTenantName"], &["HomeTenantId"]),
    (
        &["initiatedBy", "user", "homeTenantName"],
        &["initiatedBy", "user", "homeTenantId"],
    ),
    (
        &["properties", "initiatedBy", "user", "homeTenantName"],
        &["properties", "initiatedBy", "user", "homeTenantId"],
    ),
    (
        &["InitiatedBy", "user", "homeTenantName"],
        &["InitiatedBy", "user", "homeTenantId"],
    ),
    (&["OrganizationName"], &["OrganizationId"]),
];

/// Every path [`NAME_FIELDS`] reads (added to what records are parsed for).
pub fn name_paths() -> impl Iterator<Item = &'static [&'static str]> {
    NAME_FIELDS.iter().flat_map(|(n, t)| [*n, *t])
}

fn text_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

use tw_event::is_guid;

fn is_initial_domain(d: &str) -> bool {
    d.ends_with(".onmicrosoft.com")
        || d.ends_with(".onmicrosoft.us")
        || d.ends_with(".onmschina.cn")
}

/// A name that is a DNS domain (`contoso.onmicrosoft.com`), not a display name.
fn looks_like_domain(n: &str) -> bool {
    n.contains('.')
        && !n.starts_with('.')
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// A tenant name a record carries: (tenant id, name).
pub fn record_name(doc: &Value) -> Option<(String, String)> {
    NAME_FIELDS.iter().find_map(|(name, id)| {
        let n = text_at(doc, name)?;
        let t = text_at(doc, id)?.to_ascii_lowercase();
        let usable = is_guid(&t)
            && t != "00000000-0000-0000-0000-000000000000"
            && !is_guid(n)
            && n.chars().count() <= 256;
        usable.then(|| (t, n.to_string()))
    })
}

/// The domain of a UPN, lower case (`None` for anything that is no UPN).
fn upn_domain(user: &str) -> Option<String> {
    let (_, d) = user.trim().rsplit_once('@')?;
    let ok = d.len() <= 253
        && d.contains('.')
        && !d.starts_with('.')
        && d.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-');
    if !ok {
        return None;
    }
    let d = d.to_ascii_lowercase();
    // Exchange Online's own servers (`NAMPRD06.PROD.OUTLOOK.COM`) and consumer mail name no
    // tenant.
    let service = ["outlook.com", "exchangelabs.com", "microsoftonline.com"]
        .iter()
        .any(|s| d == *s || d.strip_suffix(s).is_some_and(|head| head.ends_with('.')));
    (!service).then_some(d)
}

/// What the records say about tenant names, merged commutatively across batches.
#[derive(Debug, Default, Clone)]
pub struct NameTally {
    /// (domain, tenant) → (records naming the tenant as the user's home, records of the tenant
    /// saying nothing of the user's home).
    domains: BTreeMap<(String, String), (u64, u64)>,
    /// (tenant, name) → records carrying it.
    names: BTreeMap<(String, String), u64>,
}

impl NameTally {
    /// Counts what one record says.
    pub fn add(&mut self, c: &Canonical, carried: Option<(String, String)>) {
        if let Some(d) = c.user.as_deref().and_then(upn_domain) {
            let home = c.home_tenant_id.as_deref().filter(|h| is_guid(h));
            match (home, c.tenant_id.as_deref()) {
                (Some(h), _) => {
                    self.domains
                        .entry((d, h.to_ascii_lowercase()))
                        .or_default()
                        .0 += 1
                }
                (None, Some(t)) if is_guid(t) => {
                    self.domains
                        .entry((d, t.to_ascii_lowercase()))
                        .or_default()
                        .1 += 1
                }
                _ => {}
            }
        }
        if let Some(k) = carried {
            *self.names.entry(k).or_default() += 1;
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, o: NameTally) {
        for (k, (s, w)) in o.domains {
            let e = self.domains.entry(k).or_default();
            e.0 += s;
            e.1 += w;
        }
        for (k, n) in o.names {
            *self.names.entry(k).or_default() += n;
        }
    }

    /// Per domain, the tenant it belongs to, with its users' records there.
    fn domain_owners(&self) -> BTreeMap<&str, (&str, u64)> {
        let mut by_domain: BTreeMap<&str, Vec<(&str, u64, u64)>> = BTreeMap::new();
        for ((d, t), (s, w)) in &self.domains {
            by_domain.entry(d).or_default().push((t, *s, *w));
        }
        let mut out = BTreeMap::new();
        for (d, seen) in by_domain {
            let owner = if seen.iter().any(|x| x.1 > 0) {
                // most records naming it as home; ties to the smaller id (deterministic)
                seen.iter()
                    .filter(|x| x.1 > 0)
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            } else if seen.len() == 1 {
                seen.first()
            } else {
                None
            };
            if let Some((t, s, w)) = owner {
                out.insert(d, (*t, s + w));
            }
        }
        out
    }
}

/// The folders holding an input, outermost first: the folders of its path, and for an archive
/// member the archive (named without `.zip`) and the member's folders. Only a real archive member
/// is split at its `!`; a folder whose name holds a `!` stays whole.
fn folder_parts(input: &crate::Input) -> Vec<String> {
    let split = |p: &str| -> Vec<String> {
        p.split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .map(String::from)
            .collect()
    };
    let d = &input.display;
    match input
        .member_at
        .filter(|&m| m > 0 && m <= d.len() && d.is_char_boundary(m))
    {
        Some(m) => {
            let mut parts = split(&d[..m - 1]);
            if let Some(archive) = parts.last_mut()
                && let Some(stem) = archive.strip_suffix(".zip").filter(|s| !s.is_empty())
            {
                *archive = stem.to_string();
            }
            let mut inner = split(&d[m..]);
            inner.pop();
            parts.extend(inner);
            parts
        }
        None => {
            let mut parts = split(d);
            parts.pop();
            parts
        }
    }
}

/// Folder names export tools give by themselves, which name no tenant (`Output/EntraID/…` of
/// Microsoft-Extractor-Suite, `graph`, `ual`, a bare date, a bare GUID: an id is no name).
fn generic_folder(name: &str) -> bool {
    const GENERIC: &[&str] = &[
        "output",
        "outputs",
        "logs",
        "log",
        "export",
        "exports",
        "graph",
        "entra",
        "entraid",
        "azuread",
        "aad",
        "ual",
        "audit",
        "auditlog",
        "auditlogs",
        "unifiedauditlog",
        "signins",
        "signinlogs",
        "sign-ins",
        "m365",
        "o365",
        "microsoft365",
        "azure",
        "data",
        "case",
        "collection",
        "evidence",
        "customers",
        "tenants",
        "json",
        "csv",
    ];
    let n = name.to_ascii_lowercase();
    GENERIC.contains(&n.as_str())
        || n.chars().all(|c| c.is_ascii_digit() || "-_. ".contains(c))
        || is_guid(&n)
}

/// Per tenant, a name from its folders, as a last resort: below the folders its files share, the
/// highest folder holding no other tenant's files, passing over folder names export tools give
/// ([`generic_folder`]). Each file counts for the tenant holding most of its records.
pub fn folder_labels(
    inputs: &[crate::Input],
    file_tenants: &BTreeMap<(usize, String), u64>,
) -> BTreeMap<String, String> {
    let mut best: BTreeMap<usize, (&str, u64)> = BTreeMap::new();
    for ((file, t), n) in file_tenants {
        let e = best.entry(*file).or_insert((t, *n));
        if *n > e.1 {
            *e = (t, *n);
        }
    }
    let files: Vec<(&str, Vec<String>)> = best
        .into_iter()
        .filter(|(_, (t, _))| *t != "unknown")
        .filter_map(|(file, (t, _))| Some((t, folder_parts(inputs.get(file)?))))
        .collect();
    let mut common: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (t, parts) in &files {
        match common.get_mut(t) {
            Some(c) => {
                let same = c.iter().zip(parts).take_while(|(a, b)| a == b).count();
                c.truncate(same);
            }
            None => {
                common.insert(t, parts.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (t, prefix) in common {
        let exclusive = |k: usize| {
            !files
                .iter()
                .any(|(o, parts)| *o != t && parts.len() >= k && parts[..k] == prefix[..k])
        };
        let label = (1..=prefix.len())
            .filter(|&k| exclusive(k))
            .map(|k| &prefix[k - 1])
            .find(|name| !generic_folder(name));
        if let Some(l) = label {
            out.insert(t.to_string(), l.clone());
        }
    }
    out
}

/// The name of each tenant from the tally, the map's names and the folder labels; and warnings for
/// conflicting names.
pub fn decide(
    tally: &NameTally,
    map_names: &[(String, String)],
    folders: &BTreeMap<String, String>,
) -> (Vec<TenantName>, Vec<String>) {
    let mut out: BTreeMap<String, TenantName> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut put = |t: &str, name: &str, source: &'static str, evidence: String| {
        out.entry(t.to_string()).or_insert_with(|| TenantName {
            tenant_id: t.to_string(),
            name: name.to_string(),
            name_source: source,
            evidence,
        });
    };
    let mut mapped: BTreeMap<String, &str> = BTreeMap::new();
    for (t, name) in map_names {
        let t = t.to_ascii_lowercase();
        match mapped.get(&t) {
            Some(other) if *other != name => warnings.push(format!(
                "--tenant-map gives tenant {t} two names: {other:?} and {name:?}; {other:?} is used"
            )),
            Some(_) => {}
            None => {
                mapped.insert(t.clone(), name);
                put(&t, name, "map", "--tenant-map".into());
            }
        }
    }
    // Display names carried by records, most common first (domains carried are weighed below).
    let mut carried: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for ((t, n), c) in &tally.names {
        if !looks_like_domain(n) {
            carried.entry(t).or_default().push((n, *c));
        }
    }
    for (t, mut names) in carried {
        names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let (best, count) = names[0];
        let others: Vec<String> = names[1..].iter().map(|(n, _)| format!("{n:?}")).collect();
        if let Some(m) = mapped
            .get(t)
            .filter(|m| !names.iter().any(|(n, _)| n == *m))
        {
            warnings.push(format!(
                "tenant {t}: --tenant-map names it {m:?}, its records {best:?}; the map's name is used"
            ));
        } else if !others.is_empty() && !mapped.contains_key(t) {
            warnings.push(format!(
                "tenant {t}: records name it {best:?} and {}; {best:?} (most records) is used",
                others.join(", ")
            ));
        }
        put(
            t,
            best,
            "tenant_name",
            format!("tenant name field of {count} record(s)"),
        );
    }
    let owners = tally.domain_owners();
    for initial in [false, true] {
        let mut best: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
        for (d, (t, n)) in &owners {
            if is_initial_domain(d) != initial {
                continue;
            }
            let e = best.entry(t).or_insert((d, *n));
            if *n > e.1 {
                *e = (d, *n);
            }
        }
        let source = if initial {
            "initial_domain"
        } else {
            "user_domain"
        };
        for (t, (d, n)) in best {
            put(
                t,
                d,
                source,
                format!("UPN domain in {n} record(s) of the tenant's own users"),
            );
        }
    }
    for ((t, n), c) in &tally.names {
        if looks_like_domain(n) {
            let source = if is_initial_domain(&n.to_ascii_lowercase()) {
                "initial_domain"
            } else {
                "user_domain"
            };
            put(
                t,
                n,
                source,
                format!("tenant domain field of {c} record(s)"),
            );
        }
    }
    for (t, label) in folders {
        put(
            t,
            label,
            "folder",
            "the export folder its files share (no name in the records)".into(),
        );
    }
    (out.into_values().collect(), warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTOSO: &str = "11111111-2222-3333-4444-555555555555";
    const PARTNER: &str = "99999999-8888-7777-6666-555555555555";
    const FABRIKAM: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn rec(user: &str, tenant: &str, home: Option<&str>) -> Canonical {
        Canonical {
            user: Some(user.into()),
            tenant_id: Some(tenant.into()),
            home_tenant_id: home.map(String::from),
            ..Canonical::default()
        }
    }

    #[test]
    fn own_users_name_a_tenant_and_a_partner_domain_names_none_of_its_customers() {
        let mut t = NameTally::default();
        for _ in 0..3 {
            t.add(&rec("adele@contoso.com", CONTOSO, None), None);
            // the partner's technician works in both customers, more often than their users
            t.add(&rec("tech@partner.example", CONTOSO, None), None);
            t.add(&rec("tech@partner.example", FABRIKAM, None), None);
            t.add(&rec("tech@partner.example", FABRIKAM, None), None);
        }
        t.add(&rec("it@fabrikam.onmicrosoft.com", FABRIKAM, None), None);
        t.add(
            &rec("s-1-5-18@namprd06.prod.outlook.com", FABRIKAM, None),
            None,
        );
        let (names, warnings) = decide(&t, &[], &BTreeMap::new());
        let got: Vec<(&str, &str, &str)> = names
            .iter()
            .map(|n| (n.tenant_id.as_str(), n.name.as_str(), n.name_source))
            .collect();
        assert_eq!(
            got,
            [
                (CONTOSO, "contoso.com", "user_domain"),
                (FABRIKAM, "fabrikam.onmicrosoft.com", "initial_domain"),
            ]
        );
        assert!(warnings.is_empty());
        // A sign-in naming the technician's home tenant gives the domain to the partner.
        t.add(&rec("tech@partner.example", CONTOSO, Some(PARTNER)), None);
        let (names, _) = decide(&t, &[], &BTreeMap::new());
        assert!(
            names
                .iter()
                .any(|n| n.tenant_id == PARTNER && n.name == "partner.example")
        );
    }

    #[test]
    fn the_map_wins_and_conflicts_are_warned_with_both_names() {
        let mut t = NameTally::default();
        t.add(
            &rec("a@contoso.com", CONTOSO, None),
            Some((CONTOSO.into(), "Contoso Ltd".into())),
        );
        let folders = BTreeMap::from([(FABRIKAM.to_string(), "Fabrikam export".to_string())]);
        let map = [(CONTOSO.to_string(), "Contoso Group".to_string())];
        let (names, warnings) = decide(&t, &map, &folders);
        assert_eq!(
            (names[0].name.as_str(), names[0].name_source),
            ("Contoso Group", "map")
        );
        assert_eq!(
            (names[1].name.as_str(), names[1].name_source),
            ("Fabrikam export", "folder")
        );
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("\"Contoso Group\"") && warnings[0].contains("\"Contoso Ltd\"")
        );
        let (names, _) = decide(&t, &[], &folders);
        assert_eq!(
            (names[0].name.as_str(), names[0].name_source),
            ("Contoso Ltd", "tenant_name")
        );
    }

    #[test]
    fn folder_names_split_real_archive_members_only_and_skip_tool_folders() {
        let file = |p: &str| crate::Input::from_bytes(p, Vec::new());
        let mut zipped = file("case/customers/elm-architects.zip!Output/EntraID/audit.json");
        zipped.member_at = Some("case/customers/elm-architects.zip!".len());
        let inputs = [
            zipped,
            file("case/customers/Acme!Corp 2025-01-17/graph/signIns.json"),
            file("case/customers/Acme!Corp 2025-01-17/ual/ual.json"),
            file("case/graph/only.json"),
            file("case/5b1c8e2a-3d4f-4a6b-8c9d-0e1f2a3b4c5d/Output/x.json"),
        ];
        let tenants = BTreeMap::from([
            ((0, CONTOSO.to_string()), 5),
            ((1, FABRIKAM.to_string()), 5),
            ((2, FABRIKAM.to_string()), 5),
            ((2, CONTOSO.to_string()), 1),
            ((3, PARTNER.to_string()), 1),
            ((4, "5b1c8e2a-3d4f-4a6b-8c9d-0e1f2a3b4c5d".to_string()), 1),
        ]);
        let labels = folder_labels(&inputs, &tenants);
        assert_eq!(
            labels.get(CONTOSO).map(String::as_str),
            Some("elm-architects")
        );
        assert_eq!(
            labels.get(FABRIKAM).map(String::as_str),
            Some("Acme!Corp 2025-01-17")
        );
        assert_eq!(
            labels.get(PARTNER),
            None,
            "`case` and `graph` name no tenant"
        );
    }

    #[test]
    fn tenant_name_fields_are_read_with_the_id_they_belong_to() {
        let v: Value = serde_json::json!({"initiatedBy": {"user": {
            "homeTenantId": CONTOSO.to_uppercase(), "homeTenantName": " Contoso "}}});
        assert_eq!(record_name(&v), Some((CONTOSO.into(), "Contoso".into())));
        let zero = serde_json::json!({"OrganizationName": "x.onmicrosoft.com",
            "OrganizationId": "00000000-0000-0000-0000-000000000000"});
        assert_eq!(record_name(&zero), None);
    }
}
