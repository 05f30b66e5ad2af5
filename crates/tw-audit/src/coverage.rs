//! Which checks could run: each check needs some collections; when none of them is in the
//! snapshot the check is listed as not run, with the reason. ScubaGear reports stand in for some
//! collections only partly (they list risky and privileged apps, not all of them).

use serde::Serialize;

use crate::ctx::Ctx;
use crate::load::Collection::{self, *};

/// A check that could not run, or ran only partly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CheckGap {
    /// The tenant.
    pub tenant_id: String,
    /// The check.
    pub check: String,
    /// Why.
    pub reason: String,
}

/// (check, collections any of which lets it run, whether ScubaGear covers it partly, what to export)
const CHECKS: &[(&str, &[Collection], bool, &str)] = &[
    (
        "partners.gdap_relationships",
        &[DelegatedAdminRelationships],
        false,
        "GET /tenantRelationships/delegatedAdminRelationships (partner tenant)",
    ),
    (
        "partners.gdap_access_assignments",
        &[AccessAssignments],
        false,
        "GET /tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments (partner tenant)",
    ),
    (
        "partners.dap_contracts",
        &[Contracts],
        false,
        "GET /contracts (partner tenant)",
    ),
    (
        "partners.cross_tenant_access",
        &[CrossTenantPartners],
        false,
        "GET /policies/crossTenantAccessPolicy/partners",
    ),
    (
        "partners.foreign_role_holders",
        &[RoleAssignments],
        false,
        "GET /roleManagement/directory/roleAssignments (beta, for principalOrganizationId)",
    ),
    (
        "apps.service_principals",
        &[ServicePrincipals],
        true,
        "GET /servicePrincipals",
    ),
    (
        "apps.applications",
        &[Applications],
        true,
        "GET /applications",
    ),
    (
        "apps.application_permissions",
        &[AppRoleAssignments],
        true,
        "GET /servicePrincipals/{id}/appRoleAssignments or appRoleAssignedTo",
    ),
    (
        "apps.delegated_permissions",
        &[Oauth2PermissionGrants],
        false,
        "GET /oauth2PermissionGrants",
    ),
    (
        "apps.directory_roles",
        &[RoleAssignments],
        true,
        "GET /roleManagement/directory/roleAssignments",
    ),
    ("federation.domains", &[Domains], true, "GET /domains"),
    (
        "exchange.impersonation",
        &[ManagementRoleAssignments],
        false,
        "Get-ManagementRoleAssignment -Role ApplicationImpersonation | ConvertTo-Json",
    ),
    (
        "exchange.mailbox_permissions",
        &[MailboxPermissions],
        false,
        "Get-Mailbox | Get-MailboxPermission | ConvertTo-Json",
    ),
    (
        "exchange.forwarding",
        &[Mailboxes],
        false,
        "Get-Mailbox | Select UserPrincipalName,ForwardingSmtpAddress,ForwardingAddress,DeliverToMailboxAndForward | ConvertTo-Json",
    ),
    (
        "exchange.inbox_rules",
        &[InboxRules],
        false,
        "Get-Mailbox | ForEach { Get-InboxRule -Mailbox $_ } | ConvertTo-Json",
    ),
];

/// The gaps of one snapshot: (not run, partial).
pub fn gaps(c: &Ctx<'_>) -> (Vec<CheckGap>, Vec<CheckGap>) {
    let s = c.snap;
    let scuba = s.seen.contains(&ScubaGear);
    let mut not_run = Vec::new();
    let mut partial = Vec::new();
    let gap = |check: &str, reason: String| CheckGap {
        tenant_id: c.tenant.clone(),
        check: check.to_string(),
        reason,
    };
    for (check, needs, scuba_partial, export) in CHECKS {
        if needs.iter().any(|n| s.seen.contains(n)) {
            continue;
        }
        if *scuba_partial && scuba {
            partial.push(gap(check, format!("only what ScubaGear lists (risky and privileged applications, privileged roles, the default domain); export {export} for all")));
        } else {
            let names: Vec<&str> = needs.iter().map(|n| n.as_str()).collect();
            not_run.push(gap(
                check,
                format!("no {} in the snapshot; export {export}", names.join(" or ")),
            ));
        }
    }
    let federated: Vec<&str> = s
        .domains
        .iter()
        .filter(|d| {
            d.auth_type
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("Federated"))
        })
        .filter(|d| {
            !s.federations
                .iter()
                .any(|f| f.domain.as_deref() == Some(d.name.as_str()))
        })
        .map(|d| d.name.as_str())
        .collect();
    if !federated.is_empty() {
        not_run.push(gap(
            "federation.configuration",
            format!("federated domain(s) {} without federationConfiguration; export GET /domains/{{id}}/federationConfiguration", federated.join(", ")),
        ));
    } else if !s.seen.contains(&Domains)
        && !s.seen.contains(&FederationConfiguration)
        && !s.scuba.iter().any(|x| !x.domains.is_empty())
    {
        not_run.push(gap("federation.configuration", "no domains or federationConfiguration in the snapshot; export GET /domains and each federated domain's federationConfiguration".into()));
    }
    let exchange = [InboxRules, Mailboxes, MailboxPermissions]
        .iter()
        .any(|x| s.seen.contains(x));
    if exchange && crate::load::own_domains(s).is_none() {
        not_run.push(gap("exchange.external_recipients", "the tenant's domains (organization or domains) are not in the snapshot: every forwarding address is treated as external".into()));
    }
    if s.tenant_id.is_none() {
        not_run.push(gap("tenant.identity", "no organization object or ScubaGear report: the tenant id is unknown; export GET /organization".into()));
    }
    (not_run, partial)
}
