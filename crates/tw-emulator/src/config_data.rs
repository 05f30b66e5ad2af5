//! The configuration collections of a simulated tenant, in Microsoft Graph's shapes: the
//! organization, its service principals (Microsoft Graph's own among them) with the application
//! permissions assigned to each (`appRoleAssignedTo` of the resource), applications registered in
//! the tenant, domains, and for the reseller its GDAP relationships with their access assignments.
//! Collections the simulator has nothing for (grants, role assignments, cross-tenant partners)
//! are served empty, as a tenant without them answers.

use serde_json::{Value, json};
use tw_simulate::world::{Tenant, World};

/// One collection at one URL path.
#[derive(Clone, Debug)]
pub struct Listing {
    /// Path after the host (`v1.0/servicePrincipals`).
    pub path: String,
    /// `@odata.context` of its pages.
    pub context: String,
    /// The objects.
    pub objects: Vec<String>,
}

fn listing(path: &str, ctx: &str, objects: Vec<Value>) -> Listing {
    let version = path.split('/').next().unwrap_or("v1.0");
    Listing {
        path: path.to_string(),
        context: format!("https://graph.microsoft.com/{version}/$metadata#{ctx}"),
        objects: objects.into_iter().map(|v| v.to_string()).collect(),
    }
}

const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";
const MICROSOFT_SERVICES: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// Every collection of tenant `t`.
pub fn collections(w: &World, t: &Tenant) -> Vec<Listing> {
    let mut out = vec![listing(
        "v1.0/organization",
        "organization",
        vec![json!({
            "id": t.id, "displayName": t.name,
            "verifiedDomains": [
                {"name": t.domain, "type": "Managed", "isDefault": true, "isInitial": false, "capabilities": "Email, OfficeCommunicationsOnline"},
                {"name": t.initial_domain, "type": "Managed", "isDefault": false, "isInitial": true, "capabilities": "Email, OfficeCommunicationsOnline"}
            ]
        })],
    )];
    out.extend(service_principals(t));
    let apps: Vec<Value> = t
        .sps
        .iter()
        .filter_map(|s| {
            let id = s.app_object_id.as_ref()?;
            Some(json!({
                "id": id, "appId": s.app_id, "displayName": s.name,
                "publisherDomain": t.initial_domain, "signInAudience": "AzureADMyOrg",
                "identifierUris": [], "requiredResourceAccess": [],
                "keyCredentials": [], "passwordCredentials": [], "createdDateTime": "2023-01-10T09:00:00Z"
            }))
        })
        .collect();
    out.push(listing("v1.0/applications", "applications", apps));
    let domains = [(&t.domain, true), (&t.initial_domain, false)]
        .iter()
        .map(|(d, default)| {
            json!({
                "id": d, "authenticationType": "Managed", "isDefault": default,
                "isInitial": !default, "isVerified": true, "isRoot": true,
                "supportedServices": ["Email", "OfficeCommunicationsOnline"]
            })
        })
        .collect();
    out.push(listing("v1.0/domains", "domains", domains));
    for (path, ctx) in [
        ("v1.0/oauth2PermissionGrants", "oauth2PermissionGrants"),
        (
            "beta/roleManagement/directory/roleAssignments",
            "roleManagement/directory/roleAssignments",
        ),
        (
            "v1.0/roleManagement/directory/roleDefinitions",
            "roleManagement/directory/roleDefinitions",
        ),
        (
            "v1.0/policies/crossTenantAccessPolicy/partners",
            "policies/crossTenantAccessPolicy/partners",
        ),
    ] {
        out.push(listing(path, ctx, Vec::new()));
    }
    if t.is_partner {
        out.extend(relationships(w));
    }
    out
}

fn service_principals(t: &Tenant) -> Vec<Listing> {
    let mut sps = vec![json!({
        "id": t.graph_sp_id, "appId": GRAPH_APP, "displayName": "Microsoft Graph",
        "servicePrincipalType": "Application", "appOwnerOrganizationId": MICROSOFT_SERVICES,
        "accountEnabled": true, "keyCredentials": [], "passwordCredentials": []
    })];
    let mut assigned = Vec::new();
    for s in &t.sps {
        let owner = if s.app_object_id.is_some() {
            t.id.as_str()
        } else {
            MICROSOFT_SERVICES
        };
        sps.push(json!({
            "id": s.object_id, "appId": s.app_id, "displayName": s.name,
            "servicePrincipalType": "Application", "appOwnerOrganizationId": owner,
            "accountEnabled": true, "keyCredentials": [], "passwordCredentials": []
        }));
        if s.role.resource.app_id == GRAPH_APP {
            assigned.push(json!({
                "id": format!("{}-{}", &s.object_id[..8.min(s.object_id.len())], s.role.id),
                "appRoleId": s.role.id, "createdDateTime": "2023-01-10T09:00:00Z",
                "principalDisplayName": s.name, "principalId": s.object_id,
                "principalType": "ServicePrincipal", "resourceDisplayName": "Microsoft Graph",
                "resourceId": t.graph_sp_id
            }));
        }
    }
    let mut out = Vec::new();
    for sp in &sps {
        let id = sp["id"].as_str().unwrap_or_default();
        let objects = if id == t.graph_sp_id {
            assigned.clone()
        } else {
            Vec::new()
        };
        out.push(listing(
            &format!("v1.0/servicePrincipals/{id}/appRoleAssignedTo"),
            &format!("servicePrincipals('{id}')/appRoleAssignedTo"),
            objects,
        ));
    }
    out.insert(
        0,
        listing("v1.0/servicePrincipals", "servicePrincipals", sps),
    );
    out
}

fn relationships(w: &World) -> Vec<Listing> {
    let mut rels = Vec::new();
    let mut out = Vec::new();
    for c in w.tenants.iter().filter(|x| x.partner_customer) {
        let id = format!("{}-{}", &c.id[..8.min(c.id.len())], "gdap");
        rels.push(json!({
            "id": id, "displayName": format!("{} admin", c.name), "status": "active",
            "duration": "P730D", "autoExtendDuration": "P180D",
            "createdDateTime": "2023-03-01T10:00:00Z", "activatedDateTime": "2023-03-01T10:05:00Z",
            "endDateTime": "2025-03-01T10:05:00Z",
            "customer": {"tenantId": c.id, "displayName": c.name},
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10"}]}
        }));
        out.push(listing(
            &format!("v1.0/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments"),
            &format!("tenantRelationships/delegatedAdminRelationships('{id}')/accessAssignments"),
            Vec::new(),
        ));
    }
    out.insert(
        0,
        listing(
            "v1.0/tenantRelationships/delegatedAdminRelationships",
            "tenantRelationships/delegatedAdminRelationships",
            rels,
        ),
    );
    out
}
