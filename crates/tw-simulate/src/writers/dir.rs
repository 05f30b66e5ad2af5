//! The directory-change model shared by the directory audit formats and the unified audit log:
//! activity names exactly as each log writes them, categories, targets and modified properties.

use crate::names::{self, AppRole, Role, fp};
use crate::rng::derive128;
use crate::story::{Act, DirKind, DirOp, SpRef, Who};
use crate::writers::Ctx;
use crate::writers::json::{TimeStyle, guid_string, time_string};

/// How the logs name and classify a directory change.
pub struct Meta {
    /// Directory audit `activityDisplayName` (the unified audit log adds a full stop).
    pub activity: &'static str,
    /// Directory audit category.
    pub category: &'static str,
    /// Directory audit operation type.
    pub op_type: &'static str,
    /// `extendedAuditEventCategory` in the unified audit log.
    pub ext_category: &'static str,
}

/// Names and categories of `op`.
pub fn meta(op: &DirKind) -> Meta {
    let m = |activity, category, op_type, ext_category| Meta {
        activity,
        category,
        op_type,
        ext_category,
    };
    match op {
        DirKind::AddSpCredentials { .. } => m(
            "Add service principal credentials",
            "ApplicationManagement",
            "Update",
            "ServicePrincipal",
        ),
        DirKind::UpdateAppCredentials { .. } => m(
            "Update application – Certificates and secrets management ",
            "ApplicationManagement",
            "Update",
            "Application",
        ),
        DirKind::AddAppRoleAssignment { .. } => m(
            "Add app role assignment to service principal",
            "ApplicationManagement",
            "Assign",
            "ServicePrincipal",
        ),
        DirKind::Consent { .. } => m(
            "Consent to application",
            "ApplicationManagement",
            "Assign",
            "ServicePrincipal",
        ),
        DirKind::AddDelegatedGrant { .. } => m(
            "Add delegated permission grant",
            "ApplicationManagement",
            "Assign",
            "DelegatedPermissionGrant",
        ),
        DirKind::SetFederation => m(
            "Set federation settings on domain",
            "DirectoryManagement",
            "Update",
            "Domain",
        ),
        DirKind::SetDomainAuth => m(
            "Set domain authentication",
            "DirectoryManagement",
            "Update",
            "Domain",
        ),
        DirKind::AddMemberToRole { .. } => {
            m("Add member to role", "RoleManagement", "Assign", "Role")
        }
        DirKind::UpdateUser { .. } => m("Update user", "UserManagement", "Update", "User"),
        DirKind::ChangeLicense { .. } => {
            m("Change user license", "UserManagement", "Update", "User")
        }
        DirKind::ResetPassword { .. } => {
            m("Reset user password", "UserManagement", "Update", "User")
        }
        DirKind::AddMemberToGroup { .. } => {
            m("Add member to group", "GroupManagement", "Assign", "Group")
        }
    }
}

/// A modified property; `quoted` values are JSON strings in the directory audit form.
pub struct Prop {
    /// Name.
    pub name: &'static str,
    /// Old value (empty: none).
    pub old: String,
    /// New value.
    pub new: String,
    /// The directory audit log writes the value as a JSON string literal.
    pub quoted: bool,
}

/// A target of a directory change.
pub struct Target {
    /// `ServicePrincipal`, `Application`, `User`, `Domain`, `Role`, `Group`, ...
    pub kind: &'static str,
    /// Object id (or the domain name).
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// UPN of a user target.
    pub upn: Option<String>,
    /// Modified properties.
    pub props: Vec<Prop>,
}

fn p(name: &'static str, old: impl Into<String>, new: impl Into<String>, quoted: bool) -> Prop {
    Prop {
        name,
        old: old.into(),
        new: new.into(),
        quoted,
    }
}

fn key_desc(key: &str, name: &str) -> String {
    format!("[KeyIdentifier={key},KeyType=Password,KeyUsage=Verify,DisplayName={name}]")
}

fn json_list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", v.join(","))
}

/// FNV-1a of a string (stable salts from names).
pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The id of tenant object `salt` (a role, a group, a grant), stable across files.
pub fn object_id(c: &Ctx<'_>, salt: u64) -> String {
    guid_string(derive128(
        crate::rng::hash(c.w.seed, &[c.t.index as u64]),
        salt,
    ))
}

/// The name, application id and object id of a service principal reference.
pub fn sp_ref(c: &Ctx<'_>, r: SpRef) -> (String, String, String) {
    match r {
        SpRef::Tenant(i) => {
            let s = c.sp(i);
            (s.name.clone(), s.app_id.clone(), s.object_id.clone())
        }
        SpRef::Harmless => (
            c.w.harmless_app.0.clone(),
            c.w.harmless_app.1.clone(),
            object_id(c, 0x4A11),
        ),
    }
}

/// Targets and modified properties of a directory change.
pub fn targets(c: &Ctx<'_>, a: &Act, d: &DirOp) -> Vec<Target> {
    match d.op {
        DirKind::AddSpCredentials { sp, key } => add_sp_credentials(c, a, sp, key),
        DirKind::UpdateAppCredentials { sp, key, replace } => {
            update_app_credentials(c, sp, key, replace)
        }
        DirKind::AddAppRoleAssignment { sp, role } => app_role_assignment(c, a, sp, role),
        DirKind::Consent {
            sp,
            admin,
            app_only,
            scopes,
        } => consent(c, a, d, sp, admin, app_only, scopes),
        DirKind::AddDelegatedGrant { sp, scopes } => delegated_grant(c, sp, scopes),
        DirKind::SetFederation => federation(c, a),
        DirKind::SetDomainAuth => domain_auth(c),
        DirKind::AddMemberToRole { target, role } => role_member(c, target, role),
        DirKind::UpdateUser { user } => update_user(c, a, user),
        DirKind::ChangeLicense { user, sku } => change_license(c, user, sku),
        DirKind::ResetPassword { user } => reset_password(c, user),
        DirKind::AddMemberToGroup { user, group } => group_member(c, user, group),
    }
}

/// The display name of a credential: the attacker's name for its own, `rotated` for a rotation.
fn key_name(c: &Ctx<'_>, replace: bool) -> String {
    if replace {
        "rotated".to_string()
    } else {
        c.w.attack.key_name.clone()
    }
}

/// Adds a password credential to a service principal.
fn add_sp_credentials(c: &Ctx<'_>, a: &Act, sp: usize, key: u128) -> Vec<Target> {
    let s = c.sp(sp);
    let k = guid_string(key);
    let name = if a.mal.is_some() {
        key_name(c, false)
    } else {
        "rotated".into()
    };
    vec![Target {
        kind: "ServicePrincipal",
        id: s.object_id.clone(),
        name: Some(s.name.clone()),
        upn: None,
        props: vec![
            p(
                "KeyDescription",
                "[]",
                json_list(&[key_desc(&k, &name)]),
                false,
            ),
            p("Included Updated Properties", "", "KeyDescription", true),
            p("TargetId.ServicePrincipalNames", "", s.app_id.clone(), true),
        ],
    }]
}

/// Adds (or replaces) a credential of an application registration.
fn update_app_credentials(c: &Ctx<'_>, sp: usize, key: u128, replace: bool) -> Vec<Target> {
    let s = c.sp(sp);
    let old = key_desc(&s.key_id, "primary");
    let new = key_desc(&guid_string(key), &key_name(c, replace));
    let new_list = if replace {
        vec![new]
    } else {
        vec![old.clone(), new]
    };
    vec![Target {
        kind: "Application",
        id: s
            .app_object_id
            .clone()
            .unwrap_or_else(|| s.object_id.clone()),
        name: Some(s.name.clone()),
        upn: None,
        props: vec![
            p(
                "KeyDescription",
                json_list(&[old]),
                json_list(&new_list),
                false,
            ),
            p("Included Updated Properties", "", "KeyDescription", true),
        ],
    }]
}

/// Grants an application permission: the resource (Graph or Exchange) first, then the client.
fn app_role_assignment(c: &Ctx<'_>, a: &Act, sp: usize, role: AppRole) -> Vec<Target> {
    let s = c.sp(sp);
    let (res_id, res_name) = if role.resource.app_id == fp::EXCHANGE.app_id {
        (c.t.exo_sp_id.clone(), fp::EXCHANGE.name)
    } else {
        (c.t.graph_sp_id.clone(), fp::GRAPH.name)
    };
    let created = time_string(a.t, TimeStyle::TicksZ);
    vec![
        Target {
            kind: "ServicePrincipal",
            id: res_id,
            name: Some(res_name.to_string()),
            upn: None,
            props: vec![
                p("AppRole.Id", "", role.id, true),
                p("AppRole.Value", "", role.value, true),
                p("AppRole.DisplayName", "", role.display, true),
                p(
                    "AppRoleAssignment.CreatedDateTime",
                    "",
                    created.clone(),
                    true,
                ),
                p("AppRoleAssignment.LastModifiedDateTime", "", created, true),
                p("ServicePrincipal.ObjectID", "", s.object_id.clone(), true),
                p("ServicePrincipal.DisplayName", "", s.name.clone(), true),
                p("ServicePrincipal.AppId", "", s.app_id.clone(), true),
                p("ServicePrincipal.Name", "", s.app_id.clone(), true),
                p(
                    "TargetId.ServicePrincipalNames",
                    "",
                    role.resource.app_id,
                    true,
                ),
            ],
        },
        Target {
            kind: "ServicePrincipal",
            id: s.object_id.clone(),
            name: Some(s.name.clone()),
            upn: None,
            props: Vec::new(),
        },
    ]
}

/// Consent to an application (admin consent for everyone, or a user's own).
fn consent(
    c: &Ctx<'_>,
    a: &Act,
    d: &DirOp,
    sp: SpRef,
    admin: bool,
    app_only: bool,
    scopes: &str,
) -> Vec<Target> {
    let (name, app_id, obj) = sp_ref(c, sp);
    let principal = match (admin, d.who) {
        (false, Who::User(u)) => c.user(u).id.clone(),
        _ => String::new(),
    };
    let consent_type = if admin { "AllPrincipals" } else { "Principal" };
    let tf = |b: bool| if b { "True" } else { "False" };
    let grant = object_id(c, a.id ^ 0xC0);
    vec![Target {
        kind: "ServicePrincipal",
        id: obj.clone(),
        name: Some(name),
        upn: None,
        props: vec![
            p("ConsentContext.IsAdminConsent", "", tf(admin), true),
            p("ConsentContext.IsAppOnly", "", tf(app_only), true),
            p("ConsentContext.OnBehalfOfAll", "", tf(admin), true),
            p("ConsentContext.Tags", "", "", true),
            p(
                "ConsentAction.Permissions",
                "",
                format!(
                    "[] => [[Id: {grant}, ClientId: {obj}, PrincipalId: {principal}, ResourceId: {}, ConsentType: {consent_type}, Scope: {scopes}, CreatedDateTime: , LastModifiedDateTime ]]; ",
                    c.t.graph_sp_id
                ),
                true,
            ),
            p("TargetId.ServicePrincipalNames", "", app_id, true),
        ],
    }]
}

/// Grants delegated Graph permissions to every user: Graph first, then the client.
fn delegated_grant(c: &Ctx<'_>, sp: usize, scopes: &str) -> Vec<Target> {
    let s = c.sp(sp);
    vec![
        Target {
            kind: "ServicePrincipal",
            id: c.t.graph_sp_id.clone(),
            name: Some(fp::GRAPH.name.to_string()),
            upn: None,
            props: vec![
                p(
                    "DelegatedPermissionGrant.Scope",
                    "",
                    format!(" {scopes}"),
                    true,
                ),
                p(
                    "DelegatedPermissionGrant.ClientId",
                    "",
                    s.object_id.clone(),
                    true,
                ),
                p(
                    "DelegatedPermissionGrant.ConsentType",
                    "",
                    "AllPrincipals",
                    true,
                ),
                p(
                    "ServicePrincipal.ObjectID",
                    "",
                    c.t.graph_sp_id.clone(),
                    true,
                ),
                p("ServicePrincipal.DisplayName", "", fp::GRAPH.name, true),
                p("ServicePrincipal.AppId", "", fp::GRAPH.app_id, true),
                p("ServicePrincipal.Name", "", fp::GRAPH.app_id, true),
                p("TargetId.ServicePrincipalNames", "", fp::GRAPH.app_id, true),
            ],
        },
        Target {
            kind: "ServicePrincipal",
            id: s.object_id.clone(),
            name: Some(s.name.clone()),
            upn: None,
            props: Vec::new(),
        },
    ]
}

/// Federates the tenant's domain with the attacker's issuer.
fn federation(c: &Ctx<'_>, a: &Act) -> Vec<Target> {
    let issuer = &c.w.attack.issuer;
    let host = issuer
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    vec![Target {
        kind: "Domain",
        id: object_id(c, 0xD0),
        name: Some(c.t.domain.clone()),
        upn: None,
        props: vec![
            p("FederationBrandName", "", c.t.name.clone(), true),
            p("IssuerUri", "", issuer.clone(), true),
            p(
                "PassiveLogOnUri",
                "",
                format!("https://{host}/adfs/ls/"),
                true,
            ),
            p(
                "ActiveLogOnUri",
                "",
                format!("https://{host}/adfs/services/trust/2005/usernamemixed"),
                true,
            ),
            p("PreferredAuthenticationProtocol", "", "WsFed", true),
            p(
                "SigningCertificate",
                "",
                format!("MIIC8DCCAdigAwIBAgIQ{:016X}", crate::rng::mix64(a.id)),
                true,
            ),
        ],
    }]
}

/// Switches the domain to federated authentication.
fn domain_auth(c: &Ctx<'_>) -> Vec<Target> {
    vec![Target {
        kind: "Domain",
        id: object_id(c, 0xD0),
        name: Some(c.t.domain.clone()),
        upn: None,
        props: vec![
            p("LiveType", "Managed", "Federated", true),
            p("Included Updated Properties", "", "LiveType", true),
        ],
    }]
}

/// Adds a user or a service principal to a directory role.
fn role_member(c: &Ctx<'_>, target: Who, role: Role) -> Vec<Target> {
    let (kind, id, name, upn) = match target {
        Who::App(s) => {
            let s = c.sp(s);
            (
                "ServicePrincipal",
                s.object_id.clone(),
                Some(s.name.clone()),
                None,
            )
        }
        Who::User(u) | Who::Partner(u) => {
            let u = c.user(u);
            ("User", u.id.clone(), None, Some(u.upn.clone()))
        }
    };
    vec![Target {
        kind,
        id,
        name,
        upn,
        props: vec![
            p(
                "Role.ObjectID",
                "",
                object_id(c, fnv(role.template_id)),
                true,
            ),
            p("Role.DisplayName", "", role.name, true),
            p("Role.TemplateId", "", role.template_id, true),
            p("Role.WellKnownObjectName", "", role.wellknown, true),
        ],
    }]
}

/// Changes one property of a user.
fn update_user(c: &Ctx<'_>, a: &Act, user: usize) -> Vec<Target> {
    let u = c.user(user);
    let (name, old, new) = match a.id % 3 {
        0 => ("JobTitle", "[\"Analyst\"]", "[\"Senior Analyst\"]"),
        1 => ("Department", "[\"Sales\"]", "[\"Operations\"]"),
        _ => ("TelephoneNumber", "[]", "[\"+1 425 555 0142\"]"),
    };
    vec![Target {
        kind: "User",
        id: u.id.clone(),
        name: None,
        upn: Some(u.upn.clone()),
        props: vec![
            p(name, old, new, false),
            p("Included Updated Properties", "", name, true),
        ],
    }]
}

/// Assigns a licence to a user.
fn change_license(c: &Ctx<'_>, user: usize, sku: usize) -> Vec<Target> {
    let u = c.user(user);
    let (part, id) = names::SKUS[sku % names::SKUS.len()];
    vec![Target {
        kind: "User",
        id: u.id.clone(),
        name: None,
        upn: Some(u.upn.clone()),
        props: vec![
            p(
                "AssignedLicense",
                "[]",
                format!(
                    "[\"[SkuName={part}, AccountId={}, SkuId={id}, DisabledPlans=[]]\"]",
                    c.t.id
                ),
                false,
            ),
            p(
                "Included Updated Properties",
                "",
                "AssignedLicense, AssignedPlan",
                true,
            ),
        ],
    }]
}

/// Resets a user's password.
fn reset_password(c: &Ctx<'_>, user: usize) -> Vec<Target> {
    let u = c.user(user);
    vec![Target {
        kind: "User",
        id: u.id.clone(),
        name: None,
        upn: Some(u.upn.clone()),
        props: Vec::new(),
    }]
}

/// Adds a user to a group: the group first, then the user.
fn group_member(c: &Ctx<'_>, user: usize, group: usize) -> Vec<Target> {
    let u = c.user(user);
    let g = names::GROUPS[group % names::GROUPS.len()];
    let gid = object_id(c, 0x6000 + group as u64);
    vec![
        Target {
            kind: "Group",
            id: gid.clone(),
            name: Some(g.to_string()),
            upn: None,
            props: vec![
                p("Group.ObjectID", "", gid, true),
                p("Group.DisplayName", "", g, true),
            ],
        },
        Target {
            kind: "User",
            id: u.id.clone(),
            name: None,
            upn: Some(u.upn.clone()),
            props: Vec::new(),
        },
    ]
}
