//! Reading a snapshot: walk the folder, recognise every object by its page's `@odata.context`, its
//! `@odata.type` or its shape (never by file name alone), read it into the typed model, and collect
//! what was malformed with file and index. A folder holding an `organization` (or a ScubaGear
//! report) is one tenant; folders below it without their own belong to it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json::{decode_text, for_each_object, has, string};
use crate::model::*;
use crate::scuba::Scuba;

/// The collections a snapshot can hold; which were seen decides which checks could run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Collection {
    /// servicePrincipals
    ServicePrincipals,
    /// applications
    Applications,
    /// oauth2PermissionGrants
    Oauth2PermissionGrants,
    /// appRoleAssignments / appRoleAssignedTo
    AppRoleAssignments,
    /// roleManagement/directory/roleAssignments (and PIM schedules)
    RoleAssignments,
    /// roleManagement/directory/roleDefinitions
    RoleDefinitions,
    /// domains
    Domains,
    /// domains/{id}/federationConfiguration
    FederationConfiguration,
    /// policies/crossTenantAccessPolicy/partners
    CrossTenantPartners,
    /// tenantRelationships/delegatedAdminRelationships
    DelegatedAdminRelationships,
    /// delegatedAdminRelationships/{id}/accessAssignments
    AccessAssignments,
    /// contracts
    Contracts,
    /// organization
    Organization,
    /// Get-InboxRule
    InboxRules,
    /// Get-MailboxPermission
    MailboxPermissions,
    /// Get-Mailbox
    Mailboxes,
    /// Get-ManagementRoleAssignment
    ManagementRoleAssignments,
    /// A ScubaGear results file
    ScubaGear,
}

impl Collection {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        use Collection::*;
        match self {
            ServicePrincipals => "servicePrincipals",
            Applications => "applications",
            Oauth2PermissionGrants => "oauth2PermissionGrants",
            AppRoleAssignments => "appRoleAssignments",
            RoleAssignments => "roleAssignments",
            RoleDefinitions => "roleDefinitions",
            Domains => "domains",
            FederationConfiguration => "federationConfiguration",
            CrossTenantPartners => "crossTenantAccessPolicy/partners",
            DelegatedAdminRelationships => "delegatedAdminRelationships",
            AccessAssignments => "accessAssignments",
            Contracts => "contracts",
            Organization => "organization",
            InboxRules => "Get-InboxRule",
            MailboxPermissions => "Get-MailboxPermission",
            Mailboxes => "Get-Mailbox",
            ManagementRoleAssignments => "Get-ManagementRoleAssignment",
            ScubaGear => "ScubaGear",
        }
    }
}

/// A malformed object or unreadable file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// 0-based object index, when the problem is one object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

/// What was read from one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: String,
    /// Objects read, by collection.
    pub objects: BTreeMap<&'static str, usize>,
    /// Objects not recognised.
    #[serde(skip_serializing_if = "is_zero")]
    pub unrecognised: usize,
    /// Objects rejected as malformed.
    #[serde(skip_serializing_if = "is_zero")]
    pub rejected: usize,
    /// A note (not JSON, unreadable, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Delegated grants aggregated per client and resource.
#[derive(Debug, Clone, Default)]
pub struct GrantAgg {
    /// Resource service principal object id.
    pub resource_id: String,
    /// Scopes granted to all users (admin consent).
    pub all_scopes: BTreeSet<String>,
    /// Scopes granted by single users, with how many users.
    pub user_scopes: BTreeMap<String, u32>,
}

/// One tenant's configuration as read.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The folder.
    pub root: String,
    /// Tenant id (organization or ScubaGear).
    pub tenant_id: Option<String>,
    /// Tenant name.
    pub tenant_name: Option<String>,
    /// Collections seen (even empty).
    pub seen: BTreeSet<Collection>,
    /// Service principals.
    pub service_principals: Vec<ServicePrincipal>,
    /// Applications.
    pub applications: Vec<Application>,
    /// Delegated grants by client object id.
    pub grants: HashMap<String, Vec<GrantAgg>>,
    /// Number of grant objects read.
    pub grant_count: usize,
    /// App role assignments.
    pub app_role_assignments: Vec<AppRoleAssignment>,
    /// Directory role assignments.
    pub role_assignments: Vec<RoleAssignment>,
    /// Role definitions.
    pub role_definitions: Vec<RoleDefinition>,
    /// Domains.
    pub domains: Vec<Domain>,
    /// Federation configurations.
    pub federations: Vec<Federation>,
    /// Cross-tenant partners.
    pub cross_tenant_partners: Vec<CrossTenantPartner>,
    /// GDAP relationships.
    pub relationships: Vec<DapRelationship>,
    /// GDAP access assignments.
    pub access_assignments: Vec<AccessAssignment>,
    /// DAP contracts.
    pub contracts: Vec<Contract>,
    /// Organization objects.
    pub organizations: Vec<Organization>,
    /// Inbox rules.
    pub inbox_rules: Vec<InboxRule>,
    /// Mailbox permissions.
    pub mailbox_permissions: Vec<MailboxPermission>,
    /// Mailboxes.
    pub mailboxes: Vec<Mailbox>,
    /// Exchange management role assignments.
    pub management_roles: Vec<ManagementRoleAssignment>,
    /// ScubaGear reports.
    pub scuba: Vec<Scuba>,
    /// Malformed objects and unreadable files.
    pub problems: Vec<Problem>,
    /// Per file.
    pub files: Vec<FileReport>,
}

impl Snapshot {
    fn merge(&mut self, o: Snapshot) {
        self.seen.extend(o.seen);
        self.service_principals.extend(o.service_principals);
        self.applications.extend(o.applications);
        for (k, v) in o.grants {
            let e = self.grants.entry(k).or_default();
            for g in v {
                merge_grant(e, g);
            }
        }
        self.grant_count += o.grant_count;
        self.app_role_assignments.extend(o.app_role_assignments);
        self.role_assignments.extend(o.role_assignments);
        self.role_definitions.extend(o.role_definitions);
        self.domains.extend(o.domains);
        self.federations.extend(o.federations);
        self.cross_tenant_partners.extend(o.cross_tenant_partners);
        self.relationships.extend(o.relationships);
        self.access_assignments.extend(o.access_assignments);
        self.contracts.extend(o.contracts);
        self.organizations.extend(o.organizations);
        self.inbox_rules.extend(o.inbox_rules);
        self.mailbox_permissions.extend(o.mailbox_permissions);
        self.mailboxes.extend(o.mailboxes);
        self.management_roles.extend(o.management_roles);
        self.scuba.extend(o.scuba);
        self.problems.extend(o.problems);
        self.files.extend(o.files);
    }

    /// Removes duplicates (overlapping pages) and fixes the tenant identity.
    fn finish(&mut self) {
        let p = &mut self.problems;
        dedup(
            &mut self.service_principals,
            "service principal",
            |s| Some(s.id.to_ascii_lowercase()),
            |s| &mut s.prov,
            p,
        );
        dedup(
            &mut self.applications,
            "application",
            |a| Some(a.id.to_ascii_lowercase()),
            |a| &mut a.prov,
            p,
        );
        dedup(
            &mut self.app_role_assignments,
            "app role assignment",
            |a| a.id.as_ref().map(|id| format!("{id}|{}", a.principal_id)),
            |a| &mut a.prov,
            p,
        );
        if self.tenant_id.is_none() {
            if let Some(o) = self.organizations.first() {
                self.tenant_id = Some(o.id.clone());
                self.tenant_name = o.display_name.clone();
            } else if let Some(s) = self.scuba.iter().find(|s| s.tenant_id.is_some()) {
                self.tenant_id = s.tenant_id.clone();
                self.tenant_name = s.tenant_name.clone();
            }
        }
    }

    fn has_identity(&self) -> bool {
        !self.organizations.is_empty() || self.scuba.iter().any(|s| s.tenant_id.is_some())
    }
}

/// Keeps the first of the objects sharing a key (overlapping pages, the same export twice); a
/// later one whose content differs is reported with where both were read, since only the first
/// is audited.
fn dedup<T: Clone + PartialEq>(
    items: &mut Vec<T>,
    what: &str,
    key: impl Fn(&T) -> Option<String>,
    prov: impl Fn(&mut T) -> &mut Prov,
    problems: &mut Vec<Problem>,
) {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut keep = vec![true; items.len()];
    for i in 0..items.len() {
        let Some(k) = key(&items[i]) else { continue };
        let Some(&j) = first.get(&k) else {
            first.insert(k, i);
            continue;
        };
        keep[i] = false;
        let mut kept = items[j].clone();
        let kept_at = prov(&mut kept).clone();
        let mut later = items[i].clone();
        let later_at = std::mem::replace(prov(&mut later), kept_at.clone());
        if later != kept {
            problems.push(Problem {
                file: later_at.file.to_string(),
                index: Some(later_at.index),
                reason: format!(
                    "{what} {k} differs from the one read from {} object {}: the first one read is audited, this one ignored",
                    kept_at.file, kept_at.index
                ),
            });
        }
    }
    let mut n = 0;
    items.retain(|_| {
        n += 1;
        keep[n - 1]
    });
}

fn merge_grant(list: &mut Vec<GrantAgg>, g: GrantAgg) {
    match list.iter_mut().find(|x| x.resource_id == g.resource_id) {
        Some(x) => {
            x.all_scopes.extend(g.all_scopes);
            for (s, n) in g.user_scopes {
                *x.user_scopes.entry(s).or_default() += n;
            }
        }
        None => list.push(g),
    }
}

/// What a page's `@odata.context` says: the collection and the key of its parent
/// (`domains('contoso.com')/federationConfiguration` → contoso.com).
fn context_hint(ctx: &str) -> (Option<Collection>, Option<String>) {
    let Some((_, frag)) = ctx.split_once('#') else {
        return (None, None);
    };
    let frag = frag.trim_end_matches("/$entity");
    let mut segs: Vec<&str> = frag.split('/').filter(|s| !s.is_empty()).collect();
    let last = segs.pop().unwrap_or("");
    let name = last.split('(').next().unwrap_or("").to_ascii_lowercase();
    let parent_key = segs.last().and_then(|p| {
        let inner = p.split_once('(')?.1.trim_end_matches(')');
        Some(inner.trim_matches('\'').to_string())
    });
    use Collection::*;
    let c = match name.as_str() {
        "serviceprincipals" => Some(ServicePrincipals),
        "applications" => Some(Applications),
        "oauth2permissiongrants" => Some(Oauth2PermissionGrants),
        "approleassignments" | "approleassignedto" => Some(AppRoleAssignments),
        "roleassignments"
        | "roleassignmentschedules"
        | "roleassignmentscheduleinstances"
        | "roleeligibilityschedules"
        | "roleeligibilityscheduleinstances" => Some(RoleAssignments),
        "roledefinitions" => Some(RoleDefinitions),
        "domains" => Some(Domains),
        "federationconfiguration" => Some(FederationConfiguration),
        "partners" => Some(CrossTenantPartners),
        "delegatedadminrelationships" => Some(DelegatedAdminRelationships),
        "accessassignments" => Some(AccessAssignments),
        "contracts" => Some(Contracts),
        "organization" => Some(Organization),
        _ => None,
    };
    (c, parent_key)
}

fn by_odata_type(o: &Map<String, Value>) -> Option<Collection> {
    let t = string(o, "@odata.type")?.to_ascii_lowercase();
    use Collection::*;
    Some(match t.trim_start_matches("#microsoft.graph.") {
        "serviceprincipal" => ServicePrincipals,
        "application" => Applications,
        "oauth2permissiongrant" => Oauth2PermissionGrants,
        "approleassignment" => AppRoleAssignments,
        "unifiedroleassignment"
        | "unifiedroleassignmentschedule"
        | "unifiedroleassignmentscheduleinstance"
        | "unifiedroleeligibilityschedule" => RoleAssignments,
        "unifiedroledefinition" => RoleDefinitions,
        "domain" => Domains,
        "internaldomainfederation" => FederationConfiguration,
        "crosstenantaccesspolicyconfigurationpartner" => CrossTenantPartners,
        "delegatedadminrelationship" | "resellerdelegatedadminrelationship" => {
            DelegatedAdminRelationships
        }
        "delegatedadminaccessassignment" => AccessAssignments,
        "contract" => Contracts,
        "organization" => Organization,
        _ => return None,
    })
}

/// Recognises an object by its shape.
pub fn by_shape(o: &Map<String, Value>) -> Option<Collection> {
    use Collection::*;
    let h = |k: &str| has(o, k);
    Some(if h("MetaData") && h("Raw") {
        ScubaGear
    } else if h("clientId") && h("consentType") {
        Oauth2PermissionGrants
    } else if h("appRoleId") && h("principalId") && h("resourceId") {
        AppRoleAssignments
    } else if h("roleDefinitionId") && h("principalId") {
        RoleAssignments
    } else if h("rolePermissions") {
        RoleDefinitions
    } else if h("servicePrincipalType") || h("appOwnerOrganizationId") || h("servicePrincipalNames")
    {
        ServicePrincipals
    } else if h("appId")
        && (h("requiredResourceAccess") || h("identifierUris") || h("publisherDomain"))
    {
        Applications
    } else if h("accessContainer") {
        AccessAssignments
    } else if h("customer") && (h("accessDetails") || h("duration")) {
        DelegatedAdminRelationships
    } else if h("contractType") || (h("customerId") && h("defaultDomainName")) {
        Contracts
    } else if h("issuerUri") || h("signingCertificate") {
        FederationConfiguration
    } else if h("tenantId")
        && (h("isServiceProvider") || h("inboundTrust") || h("b2bCollaborationInbound"))
    {
        CrossTenantPartners
    } else if h("authenticationType") && h("isVerified") {
        Domains
    } else if h("verifiedDomains") {
        Organization
    } else if h("MailboxOwnerId")
        || (h("Name") && (h("ForwardTo") || h("RedirectTo") || h("DeleteMessage")))
    {
        InboxRules
    } else if h("AccessRights") && h("User") {
        MailboxPermissions
    } else if h("Role") && (h("RoleAssigneeName") || h("RoleAssignee")) {
        ManagementRoleAssignments
    } else if h("ForwardingSmtpAddress") || h("DeliverToMailboxAndForward") {
        Mailboxes
    } else {
        return None;
    })
}

/// Reads one file into `snap`.
fn load_file(path: &Path, display: &str, snap: &mut Snapshot) {
    let file: Arc<str> = Arc::from(display);
    let mut report = FileReport {
        path: display.to_string(),
        objects: BTreeMap::new(),
        unrecognised: 0,
        rejected: 0,
        note: None,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            snap.problems.push(Problem {
                file: display.to_string(),
                index: None,
                reason: format!("cannot read: {e}"),
            });
            report.note = Some("unreadable".into());
            snap.files.push(report);
            return;
        }
    };
    let text = match decode_text(&bytes) {
        Ok(t) => t,
        Err(e) => {
            report.note = Some(format!("skipped: {e}"));
            snap.files.push(report);
            return;
        }
    };
    if !text.trim_start().starts_with(['{', '[']) {
        report.note = Some("skipped: not JSON".into());
        snap.files.push(report);
        return;
    }
    let mut problems = Vec::new();
    let result = for_each_object(&text, &mut |item| {
        let (hint, parent) = item.context.map(context_hint).unwrap_or((None, None));
        if let Some(h) = hint {
            snap.seen.insert(h);
        }
        let prov = Prov {
            file: file.clone(),
            index: item.index,
        };
        if item.cut > 0 {
            report.rejected += 1;
            problems.push((
                item.index,
                format!(
                    "a string of {} bytes is longer than the {} bytes a snapshot value may hold: object not read",
                    item.cut,
                    crate::json::MAX_STRING_BYTES
                ),
            ));
            return;
        }
        let Value::Object(o) = item.value else {
            report.rejected += 1;
            problems.push((item.index, "not an object".to_string()));
            return;
        };
        let kind = by_odata_type(&o).or(hint).or_else(|| by_shape(&o));
        let Some(kind) = kind else {
            report.unrecognised += 1;
            return;
        };
        match add_object(snap, kind, &o, parent, prov) {
            Ok(()) => {
                snap.seen.insert(kind);
                *report.objects.entry(kind.as_str()).or_default() += 1;
            }
            Err(e) => {
                report.rejected += 1;
                problems.push((item.index, format!("{}: {e}", kind.as_str())));
            }
        }
    });
    for (index, reason) in problems {
        snap.problems.push(Problem {
            file: display.to_string(),
            index: Some(index),
            reason,
        });
    }
    if let Err(e) = result {
        snap.problems.push(Problem {
            file: display.to_string(),
            index: None,
            reason: e.clone(),
        });
        report.note = Some(e);
    } else if report.objects.is_empty() && report.rejected == 0 {
        report.note = Some("no tenant configuration objects recognised".into());
    }
    snap.files.push(report);
}

fn add_object(
    snap: &mut Snapshot,
    kind: Collection,
    o: &Map<String, Value>,
    parent: Option<String>,
    prov: Prov,
) -> Result<(), String> {
    use Collection::*;
    match kind {
        ServicePrincipals => snap
            .service_principals
            .push(ServicePrincipal::from_obj(o, prov)?),
        Applications => snap.applications.push(Application::from_obj(o, prov)?),
        Oauth2PermissionGrants => {
            let g = Grant::from_obj(o)?;
            snap.grant_count += 1;
            let mut agg = GrantAgg {
                resource_id: g.resource_id,
                ..GrantAgg::default()
            };
            for s in g.scopes {
                if g.all_principals {
                    agg.all_scopes.insert(s);
                } else {
                    agg.user_scopes.insert(s, 1);
                }
            }
            merge_grant(snap.grants.entry(g.client_id).or_default(), agg);
        }
        AppRoleAssignments => snap
            .app_role_assignments
            .push(AppRoleAssignment::from_obj(o, prov)?),
        RoleAssignments => snap
            .role_assignments
            .push(RoleAssignment::from_obj(o, prov)?),
        RoleDefinitions => snap.role_definitions.push(RoleDefinition::from_obj(o)?),
        Domains => {
            let (d, feds) = Domain::from_obj(o, prov)?;
            if !feds.is_empty() {
                snap.seen.insert(FederationConfiguration);
            }
            snap.domains.push(d);
            snap.federations.extend(feds);
        }
        FederationConfiguration => snap
            .federations
            .push(Federation::from_obj(o, parent, prov)?),
        CrossTenantPartners => snap
            .cross_tenant_partners
            .push(CrossTenantPartner::from_obj(o, prov)?),
        DelegatedAdminRelationships => snap.relationships.push(DapRelationship::from_obj(o, prov)?),
        AccessAssignments => snap
            .access_assignments
            .push(AccessAssignment::from_obj(o, parent)?),
        Contracts => snap.contracts.push(Contract::from_obj(o, prov)?),
        Organization => snap
            .organizations
            .push(crate::model::Organization::from_obj(o)?),
        InboxRules => snap.inbox_rules.push(InboxRule::from_obj(o, prov)?),
        MailboxPermissions => snap
            .mailbox_permissions
            .push(MailboxPermission::from_obj(o, prov)?),
        Mailboxes => snap.mailboxes.push(Mailbox::from_obj(o, prov)?),
        ManagementRoleAssignments => snap
            .management_roles
            .push(ManagementRoleAssignment::from_obj(o, prov)?),
        ScubaGear => {
            let mut problems = Vec::new();
            let s = Scuba::from_obj(o, &prov, &mut problems)?;
            for p in problems {
                snap.problems.push(Problem {
                    file: prov.file.to_string(),
                    index: Some(prov.index),
                    reason: format!("ScubaGear: {p}"),
                });
            }
            snap.scuba.push(s);
        }
    }
    Ok(())
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem {
                file: dir.display().to_string(),
                index: None,
                reason: format!("cannot list: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => list_files(&p, out, problems),
            Ok(m) if m.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// Reads every snapshot under `path` (a folder or one file). Sub-folders with their own
/// `organization` are separate tenants.
pub fn load(path: &Path) -> Vec<Snapshot> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => list_files(path, &mut files, &mut problems),
        Ok(_) => files.push(path.to_path_buf()),
        Err(e) => problems.push(Problem {
            file: path.display().to_string(),
            index: None,
            reason: format!("cannot read: {e}"),
        }),
    }
    // One partial snapshot per folder, then fold folders without a tenant identity upwards.
    let mut partials: BTreeMap<PathBuf, Snapshot> = BTreeMap::new();
    for f in &files {
        let dir = f.parent().unwrap_or(path).to_path_buf();
        let snap = partials.entry(dir.clone()).or_insert_with(|| Snapshot {
            root: dir.display().to_string(),
            ..Snapshot::default()
        });
        load_file(f, &f.display().to_string(), snap);
    }
    let root_dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(path).to_path_buf()
    };
    let mut roots: BTreeMap<PathBuf, Snapshot> = BTreeMap::new();
    let mut orphans = Vec::new();
    for (dir, s) in partials {
        if s.has_identity() {
            roots.insert(dir, s);
        } else {
            orphans.push((dir, s));
        }
    }
    let mut base = Snapshot {
        root: path.display().to_string(),
        problems,
        ..Snapshot::default()
    };
    for (dir, s) in orphans {
        let owner = roots
            .keys()
            .filter(|r| dir.starts_with(r))
            .max_by_key(|r| r.components().count())
            .cloned();
        match owner {
            Some(r) => roots.get_mut(&r).map(|x| x.merge(s)).unwrap_or(()),
            None => base.merge(s),
        }
    }
    let mut out = Vec::new();
    let base_used = !base.files.is_empty() || !base.problems.is_empty();
    if base_used || roots.is_empty() {
        match roots.get_mut(&root_dir) {
            Some(r) => r.merge(base),
            None => out.push(base),
        }
    }
    out.extend(roots.into_values());
    for s in &mut out {
        s.finish();
    }
    out
}

/// The tenant's own domains (verified), from organization, domains and ScubaGear.
pub fn own_domains(s: &Snapshot) -> Option<BTreeSet<String>> {
    let mut d = BTreeSet::new();
    let mut known = false;
    for o in &s.organizations {
        known = true;
        d.extend(o.verified_domains.iter().cloned());
    }
    if s.seen.contains(&Collection::Domains) {
        known = true;
    }
    for x in &s.domains {
        d.insert(x.name.clone());
    }
    for sc in &s.scuba {
        if !sc.accepted_domains.is_empty() {
            known = true;
        }
        d.extend(sc.accepted_domains.iter().cloned());
    }
    known.then_some(d)
}
