//! Applications, service principals and their credentials: who owns them (owner tenant, verified
//! publisher, Microsoft first party), what they may do (application and delegated permissions and
//! directory roles translated to plain power), and which credentials let someone act as them.

use std::collections::{BTreeSet, HashMap};

use tw_event::Timestamp;

use crate::ctx::{Ctx, DAY_MS, day, ev};
use crate::door::{
    CredentialView, Door, Evidence, Kind, PermissionUse, Risk, RoleUse, Verdict, ts,
};
use crate::load::{GrantAgg, Snapshot};
use crate::model::{AppRoleAssignment, Application, CredKind, Credential, ServicePrincipal};
use crate::scuba::{ScubaApp, ScubaPermission};
use crate::tables::{PermKind, Tables};

/// An app as the checks see it, from Graph objects or ScubaGear.
#[derive(Debug, Default)]
pub struct AppView {
    /// Door id: service principal object id, else application object id, else app id.
    pub key: String,
    /// Display name.
    pub name: String,
    /// App id.
    pub app_id: Option<String>,
    /// Owner tenant.
    pub owner_tenant: Option<String>,
    /// Verified publisher.
    pub verified_publisher: Option<String>,
    /// Multi-tenant.
    pub multi_tenant: Option<bool>,
    /// Microsoft first party: why we think so.
    pub first_party: Option<String>,
    /// Credentials; `true` when on the application registration.
    pub creds: Vec<(Credential, bool)>,
    /// Permissions.
    pub perms: Vec<PermissionUse>,
    /// Directory roles.
    pub roles: Vec<RoleUse>,
    /// Service principal type.
    pub sp_type: Option<String>,
    /// Where seen.
    pub evidence: Vec<Evidence>,
    /// Earliest grant seen.
    pub start: Option<Timestamp>,
}

fn first_party(t: &Tables, owner: Option<&str>, app_id: Option<&str>) -> Option<String> {
    if let Some(n) = owner.and_then(|o| t.first_party_tenant(o)) {
        return Some(format!("owner tenant {n}"));
    }
    app_id
        .and_then(|a| t.first_party_app(a))
        .map(|n| format!("well-known Microsoft app {n}"))
}

fn unknown_perm(
    resource: &str,
    kind: PermKind,
    id: &str,
    known_resource: bool,
    granted: &str,
) -> PermissionUse {
    PermissionUse {
        resource: resource.to_string(),
        name: id.to_string(),
        kind: kind.as_str().into(),
        power: if known_resource {
            "a permission not in the permissions table: look it up before trusting it".into()
        } else {
            format!("a permission defined by {resource}")
        },
        risk: if known_resource {
            Risk::Medium
        } else {
            Risk::Low
        },
        granted: granted.into(),
    }
}

/// A snapshot's objects indexed for the app views: service principals by object id, applications
/// by app id, app role and directory role assignments by principal, role definitions by id.
struct Index<'a> {
    t: &'static Tables,
    s: &'a Snapshot,
    sp_by_id: HashMap<String, usize>,
    app_by_appid: HashMap<String, usize>,
    ara_by_principal: HashMap<&'a str, Vec<usize>>,
    roles_by_principal: HashMap<&'a str, Vec<usize>>,
    defs: HashMap<&'a str, &'a crate::model::RoleDefinition>,
}

impl<'a> Index<'a> {
    fn new(s: &'a Snapshot) -> Index<'a> {
        let sp_by_id = s
            .service_principals
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.to_ascii_lowercase(), i))
            .collect();
        let app_by_appid = s
            .applications
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.app_id.as_ref().map(|id| (id.to_ascii_lowercase(), i)))
            .collect();
        let mut ara_by_principal: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, a) in s.app_role_assignments.iter().enumerate() {
            ara_by_principal
                .entry(a.principal_id.as_str())
                .or_default()
                .push(i);
        }
        let mut roles_by_principal: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in s.role_assignments.iter().enumerate() {
            roles_by_principal
                .entry(r.principal_id.as_str())
                .or_default()
                .push(i);
        }
        let defs = s
            .role_definitions
            .iter()
            .map(|d| (d.id.as_str(), d))
            .collect();
        Index {
            t: Tables::get(),
            s,
            sp_by_id,
            app_by_appid,
            ara_by_principal,
            roles_by_principal,
            defs,
        }
    }

    /// The resource app id and name of a resource service principal (or of a resource name).
    fn resource_of(&self, res_id: &str, res_name: Option<&str>) -> (String, String) {
        let (t, s) = (self.t, self.s);
        if let Some(sp) = self.sp_by_id.get(res_id).map(|i| &s.service_principals[*i])
            && let Some(app) = &sp.app_id
        {
            let app = app.to_ascii_lowercase();
            let name = t
                .resource_name(&app)
                .map(str::to_string)
                .or_else(|| sp.display_name.clone())
                .unwrap_or_else(|| app.clone());
            return (app, name);
        }
        match res_name.and_then(|n| t.resource_by_name(n)) {
            Some(app) => (app.to_string(), res_name.unwrap_or(app).to_string()),
            None => (String::new(), res_name.unwrap_or(res_id).to_string()),
        }
    }

    /// The view of a service principal, with its application's credentials; also the index of
    /// that application, when the snapshot holds it.
    fn sp_view(&self, sp: &ServicePrincipal) -> (AppView, Option<usize>) {
        let (t, s) = (self.t, self.s);
        let spid = sp.id.to_ascii_lowercase();
        let app_id = sp.app_id.as_ref().map(|a| a.to_ascii_lowercase());
        let mut v = AppView {
            key: spid.clone(),
            name: sp
                .display_name
                .clone()
                .unwrap_or_else(|| app_id.clone().unwrap_or_else(|| spid.clone())),
            owner_tenant: sp.owner_tenant.clone(),
            verified_publisher: sp.verified_publisher.clone(),
            multi_tenant: sp
                .sign_in_audience
                .as_ref()
                .map(|a| a.to_ascii_lowercase().contains("multiple")),
            first_party: first_party(t, sp.owner_tenant.as_deref(), app_id.as_deref()),
            sp_type: sp.sp_type.clone(),
            evidence: vec![ev(&sp.prov)],
            ..AppView::default()
        };
        v.creds = sp.credentials.iter().map(|c| (c.clone(), false)).collect();
        let app = app_id
            .as_ref()
            .and_then(|a| self.app_by_appid.get(a))
            .copied();
        if let Some(a) = app {
            let app = &s.applications[a];
            v.creds
                .extend(app.credentials.iter().map(|c| (c.clone(), true)));
            v.evidence.push(ev(&app.prov));
        }
        v.app_id = app_id;
        for i in self
            .ara_by_principal
            .get(spid.as_str())
            .into_iter()
            .flatten()
        {
            let a = &s.app_role_assignments[*i];
            if a.app_role_id == "00000000-0000-0000-0000-000000000000" {
                continue;
            }
            v.start = match (v.start, a.created) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            v.perms.push(self.app_role_perm(a));
        }
        for g in s.grants.get(&spid).into_iter().flatten() {
            self.grant_perms(g, &mut v.perms);
        }
        for i in self
            .roles_by_principal
            .get(spid.as_str())
            .into_iter()
            .flatten()
        {
            let r = &s.role_assignments[*i];
            v.roles.push(role_use(
                t,
                &self.defs,
                &r.role_definition_id,
                r.role_name.as_deref(),
            ));
        }
        (v, app)
    }

    /// The application permission an app role assignment gives: from the permissions table by
    /// id, else by the name the resource gives the role, else unknown.
    fn app_role_perm(&self, a: &AppRoleAssignment) -> PermissionUse {
        let (t, s) = (self.t, self.s);
        let (res_app, res_name) = self.resource_of(&a.resource_id, a.resource_name.as_deref());
        let granted = "app role assignment (admin consent)";
        let known = |p: &crate::tables::Permission| PermissionUse {
            resource: p.resource.into(),
            name: p.name.into(),
            kind: "application".into(),
            power: p.power.into(),
            risk: p.risk,
            granted: granted.into(),
        };
        if let Some(p) = t.permission_by_id(&res_app, PermKind::Application, &a.app_role_id) {
            return known(p);
        }
        let custom = self
            .sp_by_id
            .get(&a.resource_id)
            .and_then(|r| {
                s.service_principals[*r]
                    .app_roles
                    .iter()
                    .find(|(id, _)| *id == a.app_role_id)
            })
            .map(|(_, v)| v.clone());
        match custom
            .as_deref()
            .and_then(|n| t.permission_by_name(&res_app, PermKind::Application, n))
        {
            Some(p) => known(p),
            None => unknown_perm(
                &res_name,
                PermKind::Application,
                custom.as_deref().unwrap_or(&a.app_role_id),
                t.resource_name(&res_app).is_some(),
                granted,
            ),
        }
    }

    /// The delegated permissions of a grant: scopes consented for all users, then scopes only
    /// some users consented to (one step less risky).
    fn grant_perms(&self, g: &GrantAgg, perms: &mut Vec<PermissionUse>) {
        let t = self.t;
        let (res_app, res_name) = self.resource_of(&g.resource_id, None);
        let scopes = g
            .all_scopes
            .iter()
            .map(|x| (x.as_str(), "admin consent for all users".to_string(), false))
            .chain(
                g.user_scopes
                    .iter()
                    .filter(|(x, _)| !g.all_scopes.contains(*x))
                    .map(|(x, n)| {
                        (
                            x.as_str(),
                            format!("consent by {n} user{}", if *n == 1 { "" } else { "s" }),
                            true,
                        )
                    }),
            );
        for (scope, granted, per_user) in scopes {
            let p = match t.permission_by_name(&res_app, PermKind::Delegated, scope) {
                Some(p) => PermissionUse {
                    resource: p.resource.into(),
                    name: p.name.into(),
                    kind: "delegated".into(),
                    power: p.power.into(),
                    risk: if per_user && p.risk > Risk::Low {
                        lower(p.risk)
                    } else {
                        p.risk
                    },
                    granted,
                },
                None => {
                    let mut u = unknown_perm(
                        &res_name,
                        PermKind::Delegated,
                        scope,
                        t.resource_name(&res_app).is_some(),
                        &granted,
                    );
                    if t.resource_name(&res_app).is_some() {
                        u.risk = Risk::Low;
                        u.power = "a delegated scope not in the permissions table".into();
                    }
                    u
                }
            };
            perms.push(p);
        }
    }
}

/// The view of an application registration without a service principal in the snapshot: what
/// it requests (not granted here).
fn registration_view(c: &Ctx<'_>, t: &Tables, app: &Application) -> AppView {
    let app_id = app.app_id.as_ref().map(|a| a.to_ascii_lowercase());
    let mut v = AppView {
        key: app.id.to_ascii_lowercase(),
        name: app.display_name.clone().unwrap_or_else(|| app.id.clone()),
        owner_tenant: Some(c.tenant.clone()),
        verified_publisher: app.verified_publisher.clone(),
        multi_tenant: app
            .sign_in_audience
            .as_ref()
            .map(|a| a.to_ascii_lowercase().contains("multiple")),
        creds: app.credentials.iter().map(|c| (c.clone(), true)).collect(),
        evidence: vec![ev(&app.prov)],
        app_id,
        ..AppView::default()
    };
    for (res, id, role) in &app.required {
        let kind = if *role {
            PermKind::Application
        } else {
            PermKind::Delegated
        };
        let granted = "requested, not granted here";
        if let Some(p) = t.permission_by_id(res, kind, id) {
            v.perms.push(PermissionUse {
                resource: p.resource.into(),
                name: p.name.into(),
                kind: kind.as_str().into(),
                power: p.power.into(),
                risk: Risk::Low,
                granted: granted.into(),
            });
        }
    }
    v
}

/// The view of an app in a ScubaGear report.
fn scuba_view(t: &Tables, a: &ScubaApp) -> AppView {
    let mut v = AppView {
        key: a
            .sp_id
            .clone()
            .or_else(|| a.app_object_id.clone())
            .unwrap_or_else(|| a.app_id.clone()),
        name: a.name.clone().unwrap_or_else(|| a.app_id.clone()),
        app_id: Some(a.app_id.clone()),
        owner_tenant: a.owner_tenant.clone(),
        multi_tenant: a.multi_tenant,
        first_party: first_party(t, a.owner_tenant.as_deref(), Some(&a.app_id)),
        creds: a.credentials.clone(),
        evidence: vec![ev(&a.prov)],
        ..AppView::default()
    };
    for p in &a.permissions {
        v.perms.push(scuba_perm(t, p));
    }
    for r in &a.roles {
        if !v.roles.iter().any(|x| &x.name == r) {
            v.roles.push(role_use(t, &HashMap::new(), r, Some(r)));
        }
    }
    v
}

/// A permission as ScubaGear lists it: low risk unless an admin consented.
fn scuba_perm(t: &Tables, p: &ScubaPermission) -> PermissionUse {
    let kind = if p.application {
        PermKind::Application
    } else {
        PermKind::Delegated
    };
    let res_app = p
        .resource
        .as_deref()
        .and_then(|r| t.resource_by_name(r))
        .unwrap_or("");
    let found =
        p.id.as_deref()
            .and_then(|id| t.permission_by_id(res_app, kind, id))
            .or_else(|| {
                p.name
                    .as_deref()
                    .and_then(|n| t.permission_by_name(res_app, kind, n))
            });
    let consented = p.admin_consented == Some(true);
    let granted = if consented {
        "admin consented"
    } else {
        "requested, admin consent not recorded"
    };
    let mut u = match found {
        Some(x) => PermissionUse {
            resource: x.resource.into(),
            name: x.name.into(),
            kind: kind.as_str().into(),
            power: x.power.into(),
            risk: x.risk,
            granted: granted.into(),
        },
        None => unknown_perm(
            p.resource.as_deref().unwrap_or("unknown API"),
            kind,
            p.name.as_deref().or(p.id.as_deref()).unwrap_or("?"),
            false,
            granted,
        ),
    };
    if !consented {
        u.risk = Risk::Low;
    }
    u
}

/// Builds the app views of a snapshot: service principals (with their applications), then
/// application registrations without one, then apps of ScubaGear reports.
pub fn views(c: &Ctx<'_>) -> Vec<AppView> {
    let idx = Index::new(c.snap);
    let s = c.snap;
    let mut out = Vec::new();
    let mut apps_with_sp = BTreeSet::new();
    for sp in &s.service_principals {
        let (v, app) = idx.sp_view(sp);
        apps_with_sp.extend(app);
        out.push(v);
    }
    for (i, app) in s.applications.iter().enumerate() {
        if !apps_with_sp.contains(&i) {
            out.push(registration_view(c, idx.t, app));
        }
    }
    for sc in &s.scuba {
        out.extend(sc.apps.iter().map(|a| scuba_view(idx.t, a)));
    }
    out
}

fn lower(r: Risk) -> Risk {
    match r {
        Risk::Critical => Risk::High,
        Risk::High => Risk::Medium,
        _ => Risk::Low,
    }
}

/// A role by definition id or name, with its risk.
pub fn role_use(
    t: &Tables,
    defs: &HashMap<&str, &crate::model::RoleDefinition>,
    id: &str,
    name: Option<&str>,
) -> RoleUse {
    let def = defs.get(id);
    let template = def.and_then(|d| d.template_id.as_deref()).unwrap_or(id);
    if let Some(r) = t.role(template).or_else(|| name.and_then(|n| t.role(n))) {
        return RoleUse {
            name: r.name.into(),
            template_id: Some(r.template_id.into()),
            risk: r.risk,
        };
    }
    let (name, risk) = match def {
        Some(d) => {
            let dangerous = d.actions.iter().any(|a| {
                let a = a.to_ascii_lowercase();
                a.contains("credentials/update")
                    || a.contains("federation")
                    || a.contains("roleassignments")
                    || a.contains("approleassignments")
                    || a.contains("allproperties/alltasks")
            });
            (
                d.name.clone(),
                if dangerous { Risk::High } else { Risk::Medium },
            )
        }
        None => (name.unwrap_or(id).to_string(), Risk::Medium),
    };
    RoleUse {
        name,
        template_id: None,
        risk,
    }
}

fn top_powers(perms: &[PermissionUse], roles: &[RoleUse]) -> Vec<(Risk, String)> {
    let mut items: Vec<(Risk, String)> = perms
        .iter()
        .filter(|p| p.risk >= Risk::Medium)
        .map(|p| {
            (
                p.risk,
                format!("{} ({}, {}, {})", p.power, p.name, p.kind, p.resource),
            )
        })
        .collect();
    let t = Tables::get();
    for r in roles {
        let power = t
            .role(&r.name)
            .map(|x| x.power)
            .unwrap_or("a custom directory role");
        items.push((r.risk, format!("holds directory role {}: {power}", r.name)));
    }
    items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    items.dedup_by(|a, b| a.1 == b.1);
    items
}

fn power_risk(v: &AppView) -> Option<Risk> {
    v.perms
        .iter()
        .map(|p| p.risk)
        .chain(v.roles.iter().map(|r| r.risk))
        .max()
}

fn cred_view(c: &Credential, on_app: bool) -> CredentialView {
    CredentialView {
        kind: c.kind.as_str().into(),
        on: if on_app {
            "application"
        } else {
            "service_principal"
        }
        .into(),
        key_id: c.key_id.clone(),
        display_name: c.name.clone(),
        created: ts(c.start),
        expires: ts(c.end),
        subject: c.subject.clone(),
    }
}

/// What the doors of one app view are judged on.
struct Judged {
    /// Owned by another tenant, and not Microsoft's.
    foreign: bool,
    /// The highest risk of its permissions and roles.
    power: Option<Risk>,
    /// Its powers in plain words, riskiest first.
    powers: Vec<(Risk, String)>,
    /// Its last sign-in seen.
    last_use: Option<Timestamp>,
}

/// The app and credential doors of the views.
pub fn doors(c: &Ctx<'_>, views: Vec<AppView>, out: &mut Vec<Door>) {
    for mut v in views {
        let j = Judged {
            foreign: v.first_party.is_none()
                && v.owner_tenant
                    .as_deref()
                    .is_some_and(|o| !o.eq_ignore_ascii_case(&c.tenant)),
            power: power_risk(&v),
            powers: top_powers(&v.perms, &v.roles),
            last_use: v.app_id.as_deref().and_then(|a| c.last_use(&c.tenant, a)),
        };
        let relevant = v.first_party.is_none()
            && (j.foreign || j.power.is_some_and(|r| r >= Risk::Medium) || !v.roles.is_empty());
        if relevant {
            out.push(app_door(c, &mut v, &j));
        }
        if !v.creds.is_empty() {
            out.push(credential_door(c, &v, &j));
        }
    }
}

/// A door of `kind` for the view, with what every door of an app says.
fn base_door(c: &Ctx<'_>, v: &AppView, j: &Judged, kind: Kind) -> Door {
    let mut d = Door::new(&c.tenant, kind, &v.key, &v.name);
    d.app_id = v.app_id.clone();
    d.other_tenant_id = v
        .owner_tenant
        .clone()
        .filter(|o| !o.eq_ignore_ascii_case(&c.tenant));
    d.verified_publisher = v.verified_publisher.clone();
    d.first_party = v.first_party.is_some();
    d.evidence = v.evidence.iter().take(5).cloned().collect();
    d.last_use = ts(j.last_use);
    d
}

/// The app door: its top powers, who owns it, what to do. Takes the view's permissions and roles.
fn app_door(c: &Ctx<'_>, v: &mut AppView, j: &Judged) -> Door {
    let mut d = base_door(c, v, j, Kind::App);
    let mut verdict = Verdict::default();
    for (i, (r, p)) in j.powers.iter().enumerate().take(3) {
        let prefix = if i == 0 && j.foreign {
            "third-party app: "
        } else {
            ""
        };
        verdict.add(*r, format!("{prefix}{p}"));
    }
    if j.powers.len() > 3 {
        verdict.add(
            Risk::Low,
            format!("and {} more permissions", j.powers.len() - 3),
        );
    }
    if j.foreign {
        let owner = v.owner_tenant.as_deref().unwrap_or("?");
        let r = if j.power.is_some_and(|r| r >= Risk::Medium) && v.verified_publisher.is_none() {
            Risk::Medium
        } else {
            Risk::Low
        };
        let publisher = match &v.verified_publisher {
            Some(p) => format!("verified publisher {p}"),
            None => "no verified publisher".into(),
        };
        verdict.add(r, format!("owned by tenant {owner}, {publisher}"));
        verdict.act("Confirm a business owner and the vendor for this app; disable the service principal if nobody claims it.");
    }
    if v.perms.is_empty() && v.roles.is_empty() && j.foreign {
        verdict.add(
            Risk::Low,
            "no permissions recorded: can sign users in to itself",
        );
    }
    match j.power {
        Some(Risk::Critical) | Some(Risk::High) => {
            verdict.act("Remove the app role assignments, consent grants and roles it does not need; restrict mailbox access with an Exchange application access policy; review its service principal sign-ins and audit events for the incident window.");
        }
        _ => verdict.act("Keep in the inventory and review at the next access review."),
    }
    d.permissions = std::mem::take(&mut v.perms);
    d.permissions
        .sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.name.cmp(&b.name)));
    d.roles = std::mem::take(&mut v.roles);
    d.start = ts(v.start);
    verdict.apply(&mut d);
    d
}

/// The credential door: who can act as the app, on what, for how long.
fn credential_door(c: &Ctx<'_>, v: &AppView, j: &Judged) -> Door {
    let mut d = base_door(c, v, j, Kind::Credential);
    d.credentials = v.creds.iter().map(|(cr, on)| cred_view(cr, *on)).collect();
    d.credentials.sort();
    let mut verdict = Verdict::default();
    let active: Vec<&(Credential, bool)> = v
        .creds
        .iter()
        .filter(|(cr, _)| cr.end.is_none_or(|e| e > c.now))
        .collect();
    let on_sp = v
        .creds
        .iter()
        .filter(|(cr, on_app)| !on_app && cr.kind != CredKind::Federated)
        .count();
    let n = v.creds.len();
    let kinds: BTreeSet<&str> = v.creds.iter().map(|(cr, _)| cr.kind.as_str()).collect();
    let what = format!(
        "{n} credential{} ({}), {} active",
        if n == 1 { "" } else { "s" },
        kinds.into_iter().collect::<Vec<_>>().join(", "),
        active.len()
    );
    if let Some(fp) = &v.first_party
        && on_sp > 0
    {
        verdict.add(Risk::Critical, format!("{what} on the service principal of a Microsoft first-party app ({fp}): Microsoft never needs a customer-added credential there; intruders add one to act as the app"));
        verdict.act("Remove the credentials from this service principal now, then hunt for their use: service principal sign-ins with this app id and what it accessed (MailItemsAccessed, directory changes).");
    }
    let first_party_flagged = v.first_party.is_some() && on_sp > 0;
    if !active.is_empty() {
        active_credentials(&mut verdict, j, &what, first_party_flagged, on_sp);
        for (cr, _) in &active {
            credential_age(&mut verdict, cr, c.now);
        }
        verdict.act("Remove credentials nobody can account for.");
    } else {
        verdict.add(Risk::Low, format!("{what}: all expired"));
        verdict.act("Remove the expired credentials.");
    }
    verdict.apply(&mut d);
    d.expiry = ts(active.iter().filter_map(|(cr, _)| cr.end).max());
    d
}

/// What active credentials mean for an app of this power and owner.
fn active_credentials(
    verdict: &mut Verdict,
    j: &Judged,
    what: &str,
    first_party_flagged: bool,
    on_sp: usize,
) {
    match j.power {
        Some(r @ (Risk::Critical | Risk::High)) => {
            let p = j.powers.first().map(|x| x.1.clone()).unwrap_or_default();
            verdict.add(
                r,
                format!("{what}: whoever holds one acts as the app, which {p}"),
            );
            verdict.act("Confirm every credential with the app owner; remove unknown ones and rotate the rest; prefer short-lived certificates or federated credentials.");
        }
        _ if first_party_flagged => {}
        _ => verdict.add(
            Risk::Low,
            format!("{what} on an app with little recorded power"),
        ),
    }
    if j.foreign && on_sp > 0 {
        verdict.add(Risk::High, "credentials on the local service principal of another tenant's app: only someone with admin rights in this tenant could add them".to_string());
        verdict.act("Ask the vendor whether they expect credentials on their app in your tenant (they normally do not); remove them if not.");
    }
}

/// An active credential that never expires, lives longer than two years or was added in the
/// last 30 days.
fn credential_age(verdict: &mut Verdict, cr: &Credential, now: Timestamp) {
    if cr.end.is_none() {
        verdict.add(
            Risk::Medium,
            format!(
                "credential {} never expires",
                cr.key_id.as_deref().unwrap_or("?")
            ),
        );
    } else if let (Some(s), Some(e)) = (cr.start, cr.end)
        && e.millis() - s.millis() > 2 * 366 * DAY_MS
    {
        verdict.add(
            Risk::Medium,
            format!(
                "credential {} is valid for more than two years (until {})",
                cr.key_id.as_deref().unwrap_or("?"),
                day(e)
            ),
        );
    }
    if let Some(s) = cr.start
        && s <= now
        && now.millis() - s.millis() <= 30 * DAY_MS
    {
        verdict.add(
            Risk::Medium,
            format!(
                "credential {} added recently ({})",
                cr.key_id.as_deref().unwrap_or("?"),
                day(s)
            ),
        );
    }
}
