//! The data tables kept in the repository and embedded at build time: permissions (app roles and
//! delegated scopes of Microsoft Graph, Exchange Online, SharePoint Online and the Office 365
//! Management APIs → name → plain power → risk), built-in directory roles, and Microsoft's
//! first-party owner tenants and app ids. Each file notes its sources.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::door::Risk;

/// The permissions table, as shipped (`data/permissions.tsv`).
pub const PERMISSIONS_TSV: &str = include_str!("../data/permissions.tsv");
/// Built-in directory roles (`data/roles.tsv`).
pub const ROLES_TSV: &str = include_str!("../data/roles.tsv");
/// Microsoft first-party owner tenants and app ids (`data/firstparty.tsv`).
pub const FIRST_PARTY_TSV: &str = include_str!("../data/firstparty.tsv");

/// Application permission (app role) or delegated permission (scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PermKind {
    /// An app role: the app acts as itself, on every user's data.
    Application,
    /// A scope: the app acts as the signed-in user.
    Delegated,
}

impl PermKind {
    /// `application` or `delegated`.
    pub fn as_str(self) -> &'static str {
        match self {
            PermKind::Application => "application",
            PermKind::Delegated => "delegated",
        }
    }
}

/// One row of the permissions table.
#[derive(Debug, Clone)]
pub struct Permission {
    /// The resource's app id (Microsoft Graph: 00000003-0000-0000-c000-000000000000).
    pub resource_app_id: &'static str,
    /// The resource's name.
    pub resource: &'static str,
    /// Application or delegated.
    pub kind: PermKind,
    /// The permission id, when verified (empty: matched by name).
    pub id: &'static str,
    /// The permission's value, e.g. `Mail.Read`.
    pub name: &'static str,
    /// What it lets the holder do, in plain words.
    pub power: &'static str,
    /// Risk when a third party holds it.
    pub risk: Risk,
}

/// A built-in directory role.
#[derive(Debug, Clone)]
pub struct Role {
    /// The role template id.
    pub template_id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Risk when a third party holds it.
    pub risk: Risk,
    /// What it lets the holder do.
    pub power: &'static str,
}

/// A malformed line of an embedded table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// Which table.
    pub table: &'static str,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Whether `s` is a GUID in the canonical 8-4-4-4-12 lowercase hex form.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

fn rows(text: &'static str) -> impl Iterator<Item = (usize, Vec<&'static str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
}

/// Parses the permissions table, reporting every malformed line.
pub fn parse_permissions(text: &'static str) -> (Vec<Permission>, Vec<TableError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (line, cols) in rows(text) {
        let err = |reason: String| TableError {
            table: "permissions",
            line,
            reason,
        };
        if cols.len() != 7 {
            errors.push(err(format!("{} columns, expected 7", cols.len())));
            continue;
        }
        let kind = match cols[2] {
            "application" => PermKind::Application,
            "delegated" => PermKind::Delegated,
            k => {
                errors.push(err(format!("unknown type {k:?}")));
                continue;
            }
        };
        let Some(risk) = Risk::parse(cols[6]) else {
            errors.push(err(format!("unknown risk {:?}", cols[6])));
            continue;
        };
        if !is_guid(cols[0]) {
            errors.push(err(format!("resource app id {:?} is not a GUID", cols[0])));
            continue;
        }
        if !cols[3].is_empty() && !is_guid(cols[3]) {
            errors.push(err(format!("id {:?} is not a GUID", cols[3])));
            continue;
        }
        if cols[4].is_empty() || cols[5].is_empty() {
            errors.push(err("empty name or power".into()));
            continue;
        }
        out.push(Permission {
            resource_app_id: cols[0],
            resource: cols[1],
            kind,
            id: cols[3],
            name: cols[4],
            power: cols[5],
            risk,
        });
    }
    (out, errors)
}

/// Parses the roles table.
pub fn parse_roles(text: &'static str) -> (Vec<Role>, Vec<TableError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (line, cols) in rows(text) {
        let risk = cols.get(2).and_then(|r| Risk::parse(r));
        match (cols.len(), risk) {
            (4, Some(risk)) if is_guid(cols[0]) => out.push(Role {
                template_id: cols[0],
                name: cols[1],
                risk,
                power: cols[3],
            }),
            _ => errors.push(TableError {
                table: "roles",
                line,
                reason: "expected: template-id, name, risk, power".into(),
            }),
        }
    }
    (out, errors)
}

/// Looked-up tables.
pub struct Tables {
    /// Every permission row.
    pub permissions: Vec<Permission>,
    by_id: HashMap<(String, PermKind, String), usize>,
    by_name: HashMap<(String, PermKind, String), usize>,
    /// Built-in roles.
    pub roles: Vec<Role>,
    roles_by_id: HashMap<&'static str, usize>,
    roles_by_name: HashMap<String, usize>,
    first_party_tenants: Vec<(&'static str, &'static str)>,
    first_party_apps: HashMap<&'static str, &'static str>,
}

impl Tables {
    /// The embedded tables (parsed once).
    pub fn get() -> &'static Tables {
        static T: OnceLock<Tables> = OnceLock::new();
        T.get_or_init(|| {
            let (permissions, _) = parse_permissions(PERMISSIONS_TSV);
            let (roles, _) = parse_roles(ROLES_TSV);
            let mut by_id = HashMap::new();
            let mut by_name = HashMap::new();
            for (i, p) in permissions.iter().enumerate() {
                if !p.id.is_empty() {
                    by_id
                        .entry((p.resource_app_id.to_string(), p.kind, p.id.to_string()))
                        .or_insert(i);
                }
                by_name
                    .entry((
                        p.resource_app_id.to_string(),
                        p.kind,
                        p.name.to_ascii_lowercase(),
                    ))
                    .or_insert(i);
            }
            let roles_by_id = roles
                .iter()
                .enumerate()
                .map(|(i, r)| (r.template_id, i))
                .collect();
            let roles_by_name = roles
                .iter()
                .enumerate()
                .map(|(i, r)| (r.name.to_ascii_lowercase(), i))
                .collect();
            let mut first_party_tenants = Vec::new();
            let mut first_party_apps = HashMap::new();
            for (_, cols) in rows(FIRST_PARTY_TSV) {
                match (cols.first(), cols.get(1), cols.get(2)) {
                    (Some(&"tenant"), Some(id), Some(n)) => first_party_tenants.push((*id, *n)),
                    (Some(&"app"), Some(id), Some(n)) => {
                        first_party_apps.insert(*id, *n);
                    }
                    _ => {}
                }
            }
            Tables {
                permissions,
                by_id,
                by_name,
                roles,
                roles_by_id,
                roles_by_name,
                first_party_tenants,
                first_party_apps,
            }
        })
    }

    /// A permission by resource app id, kind and id (case-insensitive).
    pub fn permission_by_id(
        &self,
        resource: &str,
        kind: PermKind,
        id: &str,
    ) -> Option<&Permission> {
        let key = (resource.to_ascii_lowercase(), kind, id.to_ascii_lowercase());
        self.by_id.get(&key).map(|i| &self.permissions[*i])
    }

    /// A permission by resource app id, kind and name (case-insensitive).
    pub fn permission_by_name(
        &self,
        resource: &str,
        kind: PermKind,
        name: &str,
    ) -> Option<&Permission> {
        let key = (
            resource.to_ascii_lowercase(),
            kind,
            name.to_ascii_lowercase(),
        );
        self.by_name.get(&key).map(|i| &self.permissions[*i])
    }

    /// The app id of a known resource by its display name (`Microsoft Graph`).
    pub fn resource_by_name(&self, name: &str) -> Option<&'static str> {
        self.permissions
            .iter()
            .find(|p| p.resource.eq_ignore_ascii_case(name.trim()))
            .map(|p| p.resource_app_id)
    }

    /// The name of a known resource app id.
    pub fn resource_name(&self, app_id: &str) -> Option<&'static str> {
        self.permissions
            .iter()
            .find(|p| p.resource_app_id.eq_ignore_ascii_case(app_id))
            .map(|p| p.resource)
            .or_else(|| self.first_party_apps.get(app_id).copied())
    }

    /// A built-in role by template id or by name.
    pub fn role(&self, id_or_name: &str) -> Option<&Role> {
        let k = id_or_name.trim().to_ascii_lowercase();
        self.roles_by_id
            .get(k.as_str())
            .or_else(|| self.roles_by_name.get(&k))
            .map(|i| &self.roles[*i])
    }

    /// The name of a Microsoft first-party owner tenant.
    pub fn first_party_tenant(&self, tenant: &str) -> Option<&'static str> {
        self.first_party_tenants
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(tenant))
            .map(|(_, n)| *n)
    }

    /// The name of a well-known Microsoft first-party app id.
    pub fn first_party_app(&self, app_id: &str) -> Option<&'static str> {
        self.first_party_apps
            .get(app_id.to_ascii_lowercase().as_str())
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tables_parse_without_errors() {
        let (p, e) = parse_permissions(PERMISSIONS_TSV);
        assert!(e.is_empty(), "{e:?}");
        assert!(p.len() > 100);
        let (r, e) = parse_roles(ROLES_TSV);
        assert!(e.is_empty(), "{e:?}");
        assert!(r.len() > 30);
    }

    #[test]
    fn every_guid_is_well_formed_and_unique_per_resource_and_type() {
        let (p, _) = parse_permissions(PERMISSIONS_TSV);
        let mut seen = HashSet::new();
        let mut names = HashSet::new();
        for x in &p {
            assert!(is_guid(x.resource_app_id));
            if !x.id.is_empty() {
                assert!(is_guid(x.id), "{}", x.id);
                assert!(
                    seen.insert((x.resource_app_id, x.kind, x.id)),
                    "duplicate id {}",
                    x.id
                );
            }
            assert!(
                names.insert((x.resource_app_id, x.kind, x.name)),
                "duplicate {}",
                x.name
            );
        }
        let (r, _) = parse_roles(ROLES_TSV);
        let mut ids = HashSet::new();
        for x in &r {
            assert!(
                ids.insert(x.template_id),
                "duplicate role {}",
                x.template_id
            );
        }
        for line in FIRST_PARTY_TSV.lines().filter(|l| !l.starts_with('#')) {
            let id = line.split('\t').nth(1).unwrap_or("");
            assert!(is_guid(id), "{line}");
        }
    }

    #[test]
    fn required_permissions_are_present() {
        let t = Tables::get();
        let g = "00000003-0000-0000-c000-000000000000";
        let a = PermKind::Application;
        let p = t
            .permission_by_id(g, a, "810c84a8-4a9e-49e6-bf7d-12d183f40d01")
            .unwrap();
        assert_eq!(p.name, "Mail.Read");
        assert_eq!(p.risk, Risk::Critical);
        let p = t
            .permission_by_id(g, a, "E2A3A72E-5F79-4C64-B1B1-878B674786C9")
            .unwrap();
        assert_eq!(p.name, "Mail.ReadWrite");
        let exo = "00000002-0000-0ff1-ce00-000000000000";
        let p = t
            .permission_by_id(exo, a, "dc890d15-9560-4a4c-9b7f-a736ec74ec40")
            .unwrap();
        assert_eq!(p.name, "full_access_as_app");
        for n in [
            "Mail.Send",
            "MailboxSettings.ReadWrite",
            "Directory.ReadWrite.All",
            "RoleManagement.ReadWrite.Directory",
            "AppRoleAssignment.ReadWrite.All",
            "Application.ReadWrite.All",
            "Files.ReadWrite.All",
            "Sites.FullControl.All",
            "User.ReadWrite.All",
            "Domain.ReadWrite.All",
            "Policy.ReadWrite.ConditionalAccess",
        ] {
            assert!(t.permission_by_name(g, a, n).is_some(), "{n}");
        }
        assert!(
            t.permission_by_name(exo, PermKind::Delegated, "EWS.AccessAsUser.All")
                .is_some()
        );
        assert!(
            t.permission_by_name(g, PermKind::Delegated, "Mail.Read")
                .is_some()
        );
        assert_eq!(
            t.role("62e90394-69f5-4237-9190-012177145e10").unwrap().name,
            "Global Administrator"
        );
        assert!(
            t.first_party_tenant("f8cdef31-a31e-4b4a-93e4-5f571e91255a")
                .is_some()
        );
        assert!(
            t.first_party_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
                .is_some()
        );
    }
}
