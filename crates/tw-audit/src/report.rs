//! The audit itself: load each snapshot, run every check, rank the doors, and say what could not
//! be checked. [`Report`] is what the renderers and `--format json` write.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Serialize;
use tw_event::Timestamp;

use crate::compare::Comparison;
use crate::coverage::{CheckGap, gaps};
use crate::ctx::{Ctx, Options};
use crate::door::{Door, Risk, rank};
use crate::load::{FileReport, Problem, Snapshot, load};
use crate::tables::Tables;

/// The JSON schema version of [`Report`].
pub const SCHEMA_VERSION: u32 = 1;

/// One tenant seen.
#[derive(Debug, Clone, Serialize)]
pub struct TenantSummary {
    /// Tenant id (`unknown` when no organization object was given).
    pub tenant_id: String,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The snapshot folder.
    pub snapshot: String,
    /// Objects read, by collection.
    pub objects: BTreeMap<&'static str, usize>,
}

/// A privileged directory role and who holds it.
#[derive(Debug, Clone, Serialize)]
pub struct PrivilegedRole {
    /// Tenant.
    pub tenant_id: String,
    /// Role name.
    pub name: String,
    /// Template id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Number of assignments.
    pub assignments: usize,
    /// How many of them are service principals known in the snapshot.
    pub service_principals: usize,
    /// Where from: `graph` or `scubagear`.
    pub source: &'static str,
}

/// The audit result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema version.
    pub version: u32,
    /// The reference time.
    pub as_of: String,
    /// Tenants.
    pub tenants: Vec<TenantSummary>,
    /// Doors, critical first.
    pub doors: Vec<Door>,
    /// Counts per risk.
    pub summary: BTreeMap<&'static str, usize>,
    /// Privileged roles and their holders.
    pub privileged_roles: Vec<PrivilegedRole>,
    /// Checks that could not run.
    pub checks_not_run: Vec<CheckGap>,
    /// Checks that ran only partly.
    pub checks_partial: Vec<CheckGap>,
    /// Malformed objects and unreadable files.
    pub problems: Vec<Problem>,
    /// Files read.
    pub files: Vec<FileReport>,
    /// Changes since an earlier snapshot (`--compare`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<Comparison>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn counts(s: &Snapshot) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    let mut put = |k: &'static str, n: usize| {
        if n > 0 {
            m.insert(k, n);
        }
    };
    put("servicePrincipals", s.service_principals.len());
    put("applications", s.applications.len());
    put("oauth2PermissionGrants", s.grant_count);
    put("appRoleAssignments", s.app_role_assignments.len());
    put("roleAssignments", s.role_assignments.len());
    put("roleDefinitions", s.role_definitions.len());
    put("domains", s.domains.len());
    put("federationConfiguration", s.federations.len());
    put(
        "crossTenantAccessPolicy/partners",
        s.cross_tenant_partners.len(),
    );
    put("delegatedAdminRelationships", s.relationships.len());
    put("accessAssignments", s.access_assignments.len());
    put("contracts", s.contracts.len());
    put("organization", s.organizations.len());
    put("Get-InboxRule", s.inbox_rules.len());
    put("Get-MailboxPermission", s.mailbox_permissions.len());
    put("Get-Mailbox", s.mailboxes.len());
    put("Get-ManagementRoleAssignment", s.management_roles.len());
    put("ScubaGear", s.scuba.len());
    m
}

fn privileged(c: &Ctx<'_>, out: &mut Vec<PrivilegedRole>) {
    let t = Tables::get();
    let s = c.snap;
    let sps: std::collections::HashSet<&str> =
        s.service_principals.iter().map(|p| p.id.as_str()).collect();
    let defs: HashMap<&str, &crate::model::RoleDefinition> = s
        .role_definitions
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let mut by_role: BTreeMap<String, (Option<String>, usize, usize)> = BTreeMap::new();
    for r in &s.role_assignments {
        let u = crate::apps::role_use(t, &defs, &r.role_definition_id, r.role_name.as_deref());
        if u.risk < Risk::High {
            continue;
        }
        let e = by_role.entry(u.name).or_insert((u.template_id, 0, 0));
        e.1 += 1;
        if sps.contains(r.principal_id.as_str()) {
            e.2 += 1;
        }
    }
    for (name, (template_id, n, k)) in by_role {
        out.push(PrivilegedRole {
            tenant_id: c.tenant.clone(),
            name,
            template_id,
            assignments: n,
            service_principals: k,
            source: "graph",
        });
    }
    for sc in &s.scuba {
        let sp_ids: std::collections::HashSet<&str> =
            sc.apps.iter().filter_map(|a| a.sp_id.as_deref()).collect();
        for r in &sc.roles {
            out.push(PrivilegedRole {
                tenant_id: c.tenant.clone(),
                name: r.name.clone(),
                template_id: r.template_id.clone(),
                assignments: r.assignments.len(),
                service_principals: r
                    .assignments
                    .iter()
                    .filter(|(p, _)| sp_ids.contains(p.as_str()))
                    .count(),
                source: "scubagear",
            });
        }
    }
}

/// Audits the snapshots under `paths`.
pub fn audit(paths: &[PathBuf], opts: &Options) -> Report {
    let snaps: Vec<Snapshot> = paths.iter().flat_map(|p| load(p)).collect();
    audit_snapshots(&snaps, opts)
}

/// Audits snapshots already loaded.
pub fn audit_snapshots(snaps: &[Snapshot], opts: &Options) -> Report {
    let now = opts
        .as_of
        .or_else(|| {
            snaps
                .iter()
                .flat_map(|s| s.scuba.iter())
                .find_map(|s| s.timestamp)
        })
        .unwrap_or(Timestamp(now_ms()));
    let mut report = Report {
        version: SCHEMA_VERSION,
        as_of: now.to_string(),
        tenants: Vec::new(),
        doors: Vec::new(),
        summary: BTreeMap::new(),
        privileged_roles: Vec::new(),
        checks_not_run: Vec::new(),
        checks_partial: Vec::new(),
        problems: Vec::new(),
        files: Vec::new(),
        compare: None,
    };
    for s in snaps {
        let c = Ctx {
            snap: s,
            tenant: s.tenant_id.clone().unwrap_or_else(|| "unknown".into()),
            now,
            opts,
        };
        report.tenants.push(TenantSummary {
            tenant_id: c.tenant.clone(),
            name: s.tenant_name.clone(),
            snapshot: s.root.clone(),
            objects: counts(s),
        });
        crate::partners::doors(&c, &mut report.doors);
        let views = crate::apps::views(&c);
        crate::apps::doors(&c, views, &mut report.doors);
        crate::federation::doors(&c, &mut report.doors);
        crate::exchange::doors(&c, &mut report.doors);
        privileged(&c, &mut report.privileged_roles);
        let (n, p) = gaps(&c);
        report.checks_not_run.extend(n);
        report.checks_partial.extend(p);
        report.problems.extend(s.problems.iter().cloned());
        report.files.extend(s.files.iter().cloned());
    }
    rank(&mut report.doors);
    for r in ["critical", "high", "medium", "low"] {
        report.summary.insert(r, 0);
    }
    for d in &report.doors {
        *report.summary.entry(d.risk.as_str()).or_default() += 1;
    }
    report.problems.sort();
    report
}
