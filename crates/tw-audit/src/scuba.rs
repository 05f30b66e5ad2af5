//! ScubaGear results (`ScubaResults_*.json`): its `Raw` section is a tenant configuration snapshot
//! in ScubaGear's own shape — privileged users and service principals, privileged roles with their
//! assignments, risky applications and third-party service principals with credentials and
//! permissions, the legacy Exchange service principal, dedicated Exchange hybrid apps, domain
//! settings and accepted domains. PowerShell unwraps one-element arrays into objects; both are read.

use serde_json::{Map, Value};
use tw_event::Timestamp;

use crate::json::{boolean, field, list, string, strings, time};
use crate::model::{CredKind, Credential, Prov};

/// A permission as ScubaGear lists it.
#[derive(Debug, Clone)]
pub struct ScubaPermission {
    /// Role or scope id.
    pub id: Option<String>,
    /// Application or delegated.
    pub application: bool,
    /// Name.
    pub name: Option<String>,
    /// Resource name.
    pub resource: Option<String>,
    /// Admin consented.
    pub admin_consented: Option<bool>,
}

/// An application or service principal as ScubaGear lists it, merged across its lists.
#[derive(Debug, Clone)]
pub struct ScubaApp {
    /// App id.
    pub app_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Service principal object id.
    pub sp_id: Option<String>,
    /// Application object id.
    pub app_object_id: Option<String>,
    /// Multi-tenant.
    pub multi_tenant: Option<bool>,
    /// Owner tenant.
    pub owner_tenant: Option<String>,
    /// Credentials, with where they sit (true: application registration).
    pub credentials: Vec<(Credential, bool)>,
    /// Permissions.
    pub permissions: Vec<ScubaPermission>,
    /// Directory roles (names).
    pub roles: Vec<String>,
    /// The ScubaGear lists it appears in.
    pub lists: Vec<&'static str>,
    /// Where read.
    pub prov: Prov,
}

/// A privileged role and its assignments.
#[derive(Debug, Clone)]
pub struct ScubaRole {
    /// Name.
    pub name: String,
    /// Template id.
    pub template_id: Option<String>,
    /// Assigned principals (object ids), with end time.
    pub assignments: Vec<(String, Option<Timestamp>)>,
}

/// What a ScubaGear results file holds for this audit.
#[derive(Debug, Clone)]
pub struct Scuba {
    /// Tenant id (MetaData.TenantId, else Raw.tenant_id).
    pub tenant_id: Option<String>,
    /// Tenant name.
    pub tenant_name: Option<String>,
    /// When the assessment ran.
    pub timestamp: Option<Timestamp>,
    /// Apps and service principals.
    pub apps: Vec<ScubaApp>,
    /// Privileged roles.
    pub roles: Vec<ScubaRole>,
    /// Number of privileged users.
    pub privileged_users: usize,
    /// Domain settings: (name, authentication type, verified).
    pub domains: Vec<(String, Option<String>, Option<bool>)>,
    /// Exchange accepted domains.
    pub accepted_domains: Vec<String>,
    /// Where read.
    pub prov: Prov,
}

fn creds(
    o: &Map<String, Value>,
    problems: &mut Vec<String>,
    what: &str,
) -> Vec<(Credential, bool)> {
    let mut out = Vec::new();
    for (name, kind) in [
        ("KeyCredentials", CredKind::Certificate),
        ("PasswordCredentials", CredKind::Password),
        ("FederatedCredentials", CredKind::Federated),
    ] {
        let items = match list(o, name) {
            Ok(i) => i,
            Err(e) => {
                problems.push(format!("{what}: {e}"));
                continue;
            }
        };
        for v in items {
            let Some(c) = v.as_object() else { continue };
            let mut t = |f: &str| match time(c, f) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("{what}: {name}.{e}"));
                    None
                }
            };
            let start = t("StartDateTime");
            let end = t("EndDateTime");
            let subject = (kind == CredKind::Federated).then(|| {
                format!(
                    "{} {}",
                    string(c, "Issuer").unwrap_or_default(),
                    string(c, "Subject").unwrap_or_default()
                )
                .trim()
                .to_string()
            });
            out.push((
                Credential {
                    kind,
                    key_id: string(c, "KeyId").or_else(|| string(c, "Id")),
                    name: string(c, "DisplayName").or_else(|| string(c, "Name")),
                    start,
                    end,
                    subject,
                },
                // Federated credentials live on the application registration.
                boolean(c, "IsFromApplication").unwrap_or(kind == CredKind::Federated),
            ));
        }
    }
    out
}

fn perms(o: &Map<String, Value>) -> Vec<ScubaPermission> {
    let mut out = Vec::new();
    for p in list(o, "Permissions").unwrap_or_default() {
        let Some(p) = p.as_object() else { continue };
        out.push(ScubaPermission {
            id: string(p, "RoleId").map(|s| s.to_ascii_lowercase()),
            application: string(p, "RoleType")
                .is_some_and(|t| t.eq_ignore_ascii_case("Application")),
            name: string(p, "RoleDisplayName"),
            resource: string(p, "ApplicationDisplayName"),
            admin_consented: boolean(p, "IsAdminConsented"),
        });
    }
    out
}

impl Scuba {
    /// Reads the results document (top-level object with `MetaData` and `Raw`).
    pub fn from_obj(
        o: &Map<String, Value>,
        prov: &Prov,
        problems: &mut Vec<String>,
    ) -> Result<Scuba, String> {
        let meta = field(o, "MetaData").and_then(Value::as_object);
        let raw = field(o, "Raw")
            .and_then(Value::as_object)
            .ok_or("Raw is not an object")?;
        let tenant_id = meta
            .and_then(|m| string(m, "TenantId"))
            .or_else(|| string(raw, "tenant_id"))
            .map(|s| s.to_ascii_lowercase());
        let tenant_name = meta.and_then(|m| string(m, "DisplayName"));
        let timestamp = meta
            .and_then(|m| time(m, "TimestampZulu").ok().flatten())
            .or_else(|| time(raw, "timestamp_zulu").ok().flatten());
        let mut s = Scuba {
            tenant_id,
            tenant_name,
            timestamp,
            apps: Vec::new(),
            roles: Vec::new(),
            privileged_users: field(raw, "privileged_users")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len()),
            domains: Vec::new(),
            accepted_domains: Vec::new(),
            prov: prov.clone(),
        };
        s.read_apps(raw, problems);
        s.read_roles(raw, problems);
        s.read_domains(raw);
        Ok(s)
    }

    /// The apps of every list ScubaGear writes them in, merged by app id.
    fn read_apps(&mut self, raw: &Map<String, Value>, problems: &mut Vec<String>) {
        let s = self;
        for name in [
            "risky_applications",
            "risky_third_party_service_principals",
            "legacy_exchange_service_principal",
        ] {
            for a in list(raw, name).unwrap_or_default() {
                match a.as_object() {
                    Some(a) => s.add_app(a, name, problems),
                    None => problems.push(format!("{name}: an entry is not an object")),
                }
            }
        }
        for h in list(raw, "dedicated_exchange_hybrid_applications").unwrap_or_default() {
            let Some(h) = h.as_object() else { continue };
            for a in list(h, "Apps").unwrap_or_default() {
                if let Some(a) = a.as_object() {
                    s.add_app(a, "dedicated_exchange_hybrid_applications", problems);
                }
            }
        }
        if let Some(Value::Object(m)) = field(raw, "privileged_service_principals") {
            for (_, a) in m {
                if let Some(a) = a.as_object() {
                    s.add_app(a, "privileged_service_principals", problems);
                }
            }
        }
    }

    /// One app entry of `list_name`: a new app, or more of one already listed.
    fn add_app(
        &mut self,
        a: &Map<String, Value>,
        list_name: &'static str,
        problems: &mut Vec<String>,
    ) {
        let prov = &self.prov;
        let Some(app_id) = string(a, "AppId").map(|x| x.to_ascii_lowercase()) else {
            problems.push(format!("{list_name}: an entry without AppId"));
            return;
        };
        let (app_obj, sp_obj) = match field(a, "ObjectId") {
            Some(Value::Object(ids)) => {
                (string(ids, "Application"), string(ids, "ServicePrincipal"))
            }
            Some(Value::String(id)) => (None, Some(id.clone())),
            _ => (None, string(a, "ServicePrincipalId")),
        };
        let multi = boolean(a, "IsMultiTenantEnabled").or_else(|| {
            string(a, "SignInAudience").map(|x| x.eq_ignore_ascii_case("AzureADMultipleOrgs"))
        });
        let entry = ScubaApp {
            app_id: app_id.clone(),
            name: string(a, "DisplayName"),
            sp_id: sp_obj.map(|x| x.to_ascii_lowercase()),
            app_object_id: app_obj.map(|x| x.to_ascii_lowercase()),
            multi_tenant: multi,
            owner_tenant: string(a, "AppOwnerOrganizationId").map(|x| x.to_ascii_lowercase()),
            credentials: creds(a, problems, list_name),
            permissions: perms(a),
            roles: strings(a, "roles"),
            lists: vec![list_name],
            prov: prov.clone(),
        };
        match self.apps.iter_mut().find(|x| x.app_id == app_id) {
            Some(x) => x.merge(entry, list_name),
            None => self.apps.push(entry),
        }
    }

    /// Privileged roles and their assignments.
    fn read_roles(&mut self, raw: &Map<String, Value>, problems: &mut Vec<String>) {
        let s = self;
        for r in list(raw, "privileged_roles").unwrap_or_default() {
            let Some(r) = r.as_object() else { continue };
            let Some(name) = string(r, "DisplayName") else {
                problems.push("privileged_roles: an entry without DisplayName".into());
                continue;
            };
            let mut assignments = Vec::new();
            for a in list(r, "Assignments").unwrap_or_default() {
                if let Some(a) = a.as_object()
                    && let Some(p) = string(a, "PrincipalId")
                {
                    assignments.push((
                        p.to_ascii_lowercase(),
                        time(a, "EndDateTime").ok().flatten(),
                    ));
                }
            }
            s.roles.push(ScubaRole {
                name,
                template_id: string(r, "RoleTemplateId").map(|x| x.to_ascii_lowercase()),
                assignments,
            });
        }
    }

    /// Domains with their authentication type, and accepted domains.
    fn read_domains(&mut self, raw: &Map<String, Value>) {
        let s = self;
        for d in list(raw, "domain_settings").unwrap_or_default() {
            if let Some(d) = d.as_object()
                && let Some(id) = string(d, "Id")
            {
                s.domains.push((
                    id.to_ascii_lowercase(),
                    string(d, "AuthenticationType"),
                    boolean(d, "IsVerified"),
                ));
            }
        }
        for d in list(raw, "accepted_domains").unwrap_or_default() {
            if let Some(n) = d.as_object().and_then(|d| string(d, "DomainName")) {
                s.accepted_domains.push(n.to_ascii_lowercase());
            }
        }
    }
}

impl ScubaApp {
    /// Adds what another list says of the same app: names and ids it lacked, new credentials,
    /// permissions and roles.
    fn merge(&mut self, entry: ScubaApp, list_name: &'static str) {
        let x = self;
        x.lists.push(list_name);
        x.name = x.name.take().or(entry.name);
        x.sp_id = x.sp_id.take().or(entry.sp_id);
        x.app_object_id = x.app_object_id.take().or(entry.app_object_id);
        x.multi_tenant = x.multi_tenant.or(entry.multi_tenant);
        x.owner_tenant = x.owner_tenant.take().or(entry.owner_tenant);
        for c in entry.credentials {
            if !x.credentials.contains(&c) {
                x.credentials.push(c);
            }
        }
        for p in entry.permissions {
            if !x
                .permissions
                .iter()
                .any(|q| q.id == p.id && q.application == p.application)
            {
                x.permissions.push(p);
            }
        }
        for r in entry.roles {
            if !x.roles.contains(&r) {
                x.roles.push(r);
            }
        }
    }
}
