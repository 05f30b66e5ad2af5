//! The tenant configuration objects the audit understands, read from Graph JSON (camelCase) or
//! PowerShell exports (PascalCase) into small typed records. Each constructor checks the fields it
//! needs and reports what is wrong instead of guessing.

use std::sync::Arc;

use serde_json::{Map, Value};
use tw_event::Timestamp;

use crate::json::{boolean, field, list, string, strings, time};

/// Where an object was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prov {
    /// The file.
    pub file: Arc<str>,
    /// 0-based object index in the file.
    pub index: usize,
}

/// Credential types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CredKind {
    /// A client secret.
    Password,
    /// A certificate (asymmetric key).
    Certificate,
    /// A symmetric key.
    Symmetric,
    /// A federated identity credential (workload identity federation).
    Federated,
}

impl CredKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredKind::Password => "password",
            CredKind::Certificate => "certificate",
            CredKind::Symmetric => "symmetric",
            CredKind::Federated => "federated",
        }
    }
}

/// A credential (no secret material is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Type.
    pub kind: CredKind,
    /// Key id.
    pub key_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Valid from.
    pub start: Option<Timestamp>,
    /// Valid until.
    pub end: Option<Timestamp>,
    /// Issuer and subject of a federated credential.
    pub subject: Option<String>,
}

fn cred_list(
    o: &Map<String, Value>,
    name: &str,
    default: CredKind,
) -> Result<Vec<Credential>, String> {
    let mut out = Vec::new();
    for (i, v) in list(o, name)?.into_iter().enumerate() {
        let Some(c) = v.as_object() else {
            return Err(format!("{name}[{i}] is not an object"));
        };
        let kind = match default {
            CredKind::Federated => CredKind::Federated,
            _ => match string(c, "type").map(|t| t.to_ascii_lowercase()) {
                Some(t) if t == "symmetric" => CredKind::Symmetric,
                Some(t) if t.contains("x509") || t.contains("asymmetric") => CredKind::Certificate,
                _ => default,
            },
        };
        let subject = if kind == CredKind::Federated {
            let issuer = string(c, "issuer").unwrap_or_default();
            let subject = string(c, "subject").unwrap_or_default();
            Some(format!("{issuer} {subject}").trim().to_string())
        } else {
            None
        };
        out.push(Credential {
            kind,
            key_id: string(c, "keyId").or_else(|| string(c, "id")),
            name: string(c, "displayName").or_else(|| string(c, "name")),
            start: time(c, "startDateTime").map_err(|e| format!("{name}[{i}].{e}"))?,
            end: time(c, "endDateTime").map_err(|e| format!("{name}[{i}].{e}"))?,
            subject,
        });
    }
    Ok(out)
}

/// Key, password and federated credentials of an application or service principal.
pub fn credentials(o: &Map<String, Value>) -> Result<Vec<Credential>, String> {
    let mut c = cred_list(o, "keyCredentials", CredKind::Certificate)?;
    c.extend(cred_list(o, "passwordCredentials", CredKind::Password)?);
    c.extend(cred_list(
        o,
        "federatedIdentityCredentials",
        CredKind::Federated,
    )?);
    c.extend(cred_list(o, "FederatedCredentials", CredKind::Federated)?);
    c.dedup();
    Ok(c)
}

fn required(o: &Map<String, Value>, name: &str) -> Result<String, String> {
    string(o, name).ok_or_else(|| format!("missing {name}"))
}

fn verified_publisher(o: &Map<String, Value>) -> Option<String> {
    match field(o, "verifiedPublisher")? {
        Value::Object(m) => string(m, "displayName"),
        _ => None,
    }
}

/// A service principal.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePrincipal {
    /// Object id.
    pub id: String,
    /// App id.
    pub app_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Owner tenant of the application.
    pub owner_tenant: Option<String>,
    /// `Application`, `ManagedIdentity`, `Legacy`, ...
    pub sp_type: Option<String>,
    /// Publisher name (unverified).
    pub publisher_name: Option<String>,
    /// Verified publisher display name.
    pub verified_publisher: Option<String>,
    /// Sign-in audience.
    pub sign_in_audience: Option<String>,
    /// Credentials on the service principal.
    pub credentials: Vec<Credential>,
    /// App roles it publishes (id, value), for translating assignments to custom resources.
    pub app_roles: Vec<(String, String)>,
    /// Where read.
    pub prov: Prov,
}

impl ServicePrincipal {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let mut app_roles = Vec::new();
        for r in list(o, "appRoles")? {
            if let Some(r) = r.as_object()
                && let (Some(id), Some(v)) = (string(r, "id"), string(r, "value"))
            {
                app_roles.push((id.to_ascii_lowercase(), v));
            }
        }
        Ok(ServicePrincipal {
            id: required(o, "id")?,
            app_id: string(o, "appId"),
            display_name: string(o, "displayName").or_else(|| string(o, "appDisplayName")),
            owner_tenant: string(o, "appOwnerOrganizationId").map(|s| s.to_ascii_lowercase()),
            sp_type: string(o, "servicePrincipalType"),
            publisher_name: string(o, "publisherName"),
            verified_publisher: verified_publisher(o),
            sign_in_audience: string(o, "signInAudience"),
            credentials: credentials(o)?,
            app_roles,
            prov,
        })
    }
}

/// An application registration.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// Object id.
    pub id: String,
    /// App id.
    pub app_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Sign-in audience.
    pub sign_in_audience: Option<String>,
    /// Verified publisher.
    pub verified_publisher: Option<String>,
    /// Credentials on the registration.
    pub credentials: Vec<Credential>,
    /// Requested permissions: (resource app id, permission id, is app role).
    pub required: Vec<(String, String, bool)>,
    /// Where read.
    pub prov: Prov,
}

impl Application {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let mut required_access = Vec::new();
        for r in list(o, "requiredResourceAccess")? {
            let Some(r) = r.as_object() else { continue };
            let Some(res) = string(r, "resourceAppId") else {
                continue;
            };
            for a in list(r, "resourceAccess")? {
                if let Some(a) = a.as_object()
                    && let Some(id) = string(a, "id")
                {
                    let role = string(a, "type").is_some_and(|t| t.eq_ignore_ascii_case("role"));
                    required_access.push((res.to_ascii_lowercase(), id.to_ascii_lowercase(), role));
                }
            }
        }
        Ok(Application {
            id: required(o, "id")?,
            app_id: string(o, "appId"),
            display_name: string(o, "displayName"),
            sign_in_audience: string(o, "signInAudience"),
            verified_publisher: verified_publisher(o),
            credentials: credentials(o)?,
            required: required_access,
            prov,
        })
    }
}

/// A delegated permission grant.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Client service principal object id.
    pub client_id: String,
    /// Resource service principal object id.
    pub resource_id: String,
    /// Admin consent for all users.
    pub all_principals: bool,
    /// Scope values.
    pub scopes: Vec<String>,
}

impl Grant {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>) -> Result<Self, String> {
        let consent = string(o, "consentType").unwrap_or_default();
        Ok(Grant {
            client_id: required(o, "clientId")?.to_ascii_lowercase(),
            resource_id: required(o, "resourceId")?.to_ascii_lowercase(),
            all_principals: consent.eq_ignore_ascii_case("AllPrincipals"),
            scopes: string(o, "scope")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        })
    }
}

/// An app role assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct AppRoleAssignment {
    /// Assignment id (dedup key).
    pub id: Option<String>,
    /// The app role id (all zeros: default access).
    pub app_role_id: String,
    /// The principal (service principal, user or group) object id.
    pub principal_id: String,
    /// `ServicePrincipal`, `User`, `Group`.
    pub principal_type: Option<String>,
    /// The resource service principal object id.
    pub resource_id: String,
    /// The resource's display name.
    pub resource_name: Option<String>,
    /// Created.
    pub created: Option<Timestamp>,
    /// Where read.
    pub prov: Prov,
}

impl AppRoleAssignment {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        Ok(AppRoleAssignment {
            id: string(o, "id"),
            app_role_id: required(o, "appRoleId")?.to_ascii_lowercase(),
            principal_id: required(o, "principalId")?.to_ascii_lowercase(),
            principal_type: string(o, "principalType"),
            resource_id: required(o, "resourceId")?.to_ascii_lowercase(),
            resource_name: string(o, "resourceDisplayName"),
            created: time(o, "createdDateTime")?,
            prov,
        })
    }
}

/// A directory role assignment (unifiedRoleAssignment, or a PIM schedule instance).
#[derive(Debug, Clone)]
pub struct RoleAssignment {
    /// Role definition id (= template id for built-in roles).
    pub role_definition_id: String,
    /// Principal object id.
    pub principal_id: String,
    /// The principal's home tenant (beta `principalOrganizationId`).
    pub principal_org: Option<String>,
    /// `@odata.type` of an expanded principal.
    pub principal_type: Option<String>,
    /// Display name of an expanded principal.
    pub principal_name: Option<String>,
    /// Role name from an expanded definition.
    pub role_name: Option<String>,
    /// Directory scope.
    pub scope: Option<String>,
    /// Start (PIM).
    pub start: Option<Timestamp>,
    /// End (PIM).
    pub end: Option<Timestamp>,
    /// Where read.
    pub prov: Prov,
}

impl RoleAssignment {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let principal = field(o, "principal").and_then(Value::as_object);
        let def = field(o, "roleDefinition").and_then(Value::as_object);
        Ok(RoleAssignment {
            role_definition_id: required(o, "roleDefinitionId")?.to_ascii_lowercase(),
            principal_id: required(o, "principalId")?.to_ascii_lowercase(),
            principal_org: string(o, "principalOrganizationId").map(|s| s.to_ascii_lowercase()),
            principal_type: principal.and_then(|p| string(p, "@odata.type")),
            principal_name: principal.and_then(|p| string(p, "displayName")),
            role_name: def.and_then(|d| string(d, "displayName")),
            scope: string(o, "directoryScopeId"),
            start: time(o, "startDateTime")?,
            end: time(o, "endDateTime")?,
            prov,
        })
    }
}

/// A role definition.
#[derive(Debug, Clone)]
pub struct RoleDefinition {
    /// Id.
    pub id: String,
    /// Template id.
    pub template_id: Option<String>,
    /// Name.
    pub name: String,
    /// Built in.
    pub built_in: Option<bool>,
    /// Allowed resource actions.
    pub actions: Vec<String>,
}

impl RoleDefinition {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>) -> Result<Self, String> {
        let mut actions = Vec::new();
        for p in list(o, "rolePermissions")? {
            if let Some(p) = p.as_object() {
                actions.extend(strings(p, "allowedResourceActions"));
            }
        }
        Ok(RoleDefinition {
            id: required(o, "id")?.to_ascii_lowercase(),
            template_id: string(o, "templateId").map(|s| s.to_ascii_lowercase()),
            name: required(o, "displayName")?,
            built_in: boolean(o, "isBuiltIn"),
            actions,
        })
    }
}

/// A domain's federation configuration (internalDomainFederation, or MSOnline
/// `Get-MsolDomainFederationSettings`).
#[derive(Debug, Clone)]
pub struct Federation {
    /// The domain it belongs to, when known.
    pub domain: Option<String>,
    /// Issuer URI.
    pub issuer: Option<String>,
    /// Current token-signing certificate (base64).
    pub signing_cert: Option<String>,
    /// Next token-signing certificate (base64).
    pub next_signing_cert: Option<String>,
    /// Passive sign-in URI.
    pub passive_uri: Option<String>,
    /// federatedIdpMfaBehavior.
    pub mfa_behavior: Option<String>,
    /// Where read.
    pub prov: Prov,
}

impl Federation {
    /// Reads one.
    pub fn from_obj(
        o: &Map<String, Value>,
        domain: Option<String>,
        prov: Prov,
    ) -> Result<Self, String> {
        let f = Federation {
            domain: domain
                .or_else(|| string(o, "domainName"))
                .map(|d| d.to_ascii_lowercase()),
            issuer: string(o, "issuerUri"),
            signing_cert: string(o, "signingCertificate"),
            next_signing_cert: string(o, "nextSigningCertificate"),
            passive_uri: string(o, "passiveSignInUri").or_else(|| string(o, "passiveLogOnUri")),
            mfa_behavior: string(o, "federatedIdpMfaBehavior"),
            prov,
        };
        if f.issuer.is_none() && f.signing_cert.is_none() {
            return Err("federation configuration without issuerUri or signingCertificate".into());
        }
        Ok(f)
    }
}

/// A domain.
#[derive(Debug, Clone)]
pub struct Domain {
    /// The name (`contoso.com`).
    pub name: String,
    /// `Managed` or `Federated`.
    pub auth_type: Option<String>,
    /// Verified.
    pub verified: Option<bool>,
    /// Where read.
    pub prov: Prov,
}

impl Domain {
    /// Reads one; an inline `federationConfiguration` is returned too.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<(Self, Vec<Federation>), String> {
        let name = required(o, "id")
            .or_else(|_| required(o, "name"))?
            .to_ascii_lowercase();
        let mut feds = Vec::new();
        for f in list(o, "federationConfiguration")? {
            if let Some(f) = f.as_object() {
                feds.push(Federation::from_obj(f, Some(name.clone()), prov.clone())?);
            }
        }
        Ok((
            Domain {
                name,
                auth_type: string(o, "authenticationType"),
                verified: boolean(o, "isVerified"),
                prov,
            },
            feds,
        ))
    }
}

/// A cross-tenant access policy partner configuration.
#[derive(Debug, Clone)]
pub struct CrossTenantPartner {
    /// The partner tenant.
    pub tenant_id: String,
    /// Marked as a service provider (CSP/GDAP partner).
    pub service_provider: bool,
    /// Inbound trust: MFA, compliant device, hybrid joined device accepted.
    pub trusts: Vec<&'static str>,
    /// Automatic redemption of invitations from the partner.
    pub auto_consent_inbound: bool,
    /// Where read.
    pub prov: Prov,
}

impl CrossTenantPartner {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let mut trusts = Vec::new();
        if let Some(Value::Object(t)) = field(o, "inboundTrust") {
            if boolean(t, "isMfaAccepted") == Some(true) {
                trusts.push("MFA");
            }
            if boolean(t, "isCompliantDeviceAccepted") == Some(true) {
                trusts.push("compliant devices");
            }
            if boolean(t, "isHybridAzureADJoinedDeviceAccepted") == Some(true) {
                trusts.push("hybrid joined devices");
            }
        }
        let auto = match field(o, "automaticUserConsentSettings") {
            Some(Value::Object(a)) => boolean(a, "inboundAllowed") == Some(true),
            _ => false,
        };
        Ok(CrossTenantPartner {
            tenant_id: required(o, "tenantId")?.to_ascii_lowercase(),
            service_provider: boolean(o, "isServiceProvider") == Some(true),
            trusts,
            auto_consent_inbound: auto,
            prov,
        })
    }
}

fn unified_roles(o: &Map<String, Value>) -> Result<Vec<String>, String> {
    let mut roles = Vec::new();
    if let Some(Value::Object(d)) = field(o, "accessDetails") {
        for r in list(d, "unifiedRoles")? {
            if let Some(id) = r.as_object().and_then(|r| string(r, "roleDefinitionId")) {
                roles.push(id.to_ascii_lowercase());
            }
        }
    }
    Ok(roles)
}

/// A delegated admin relationship (GDAP), partner side.
#[derive(Debug, Clone)]
pub struct DapRelationship {
    /// Id.
    pub id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Customer tenant.
    pub customer_tenant: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Role definition ids.
    pub roles: Vec<String>,
    /// Status.
    pub status: Option<String>,
    /// Duration (ISO 8601).
    pub duration: Option<String>,
    /// Auto-extend duration.
    pub auto_extend: Option<String>,
    /// Activated.
    pub activated: Option<Timestamp>,
    /// Created.
    pub created: Option<Timestamp>,
    /// End.
    pub end: Option<Timestamp>,
    /// Where read.
    pub prov: Prov,
}

impl DapRelationship {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let customer = field(o, "customer").and_then(Value::as_object);
        Ok(DapRelationship {
            id: required(o, "id")?,
            display_name: string(o, "displayName"),
            customer_tenant: customer
                .and_then(|c| string(c, "tenantId"))
                .map(|s| s.to_ascii_lowercase()),
            customer_name: customer.and_then(|c| string(c, "displayName")),
            roles: unified_roles(o)?,
            status: string(o, "status"),
            duration: string(o, "duration"),
            auto_extend: string(o, "autoExtendDuration"),
            activated: time(o, "activatedDateTime")?,
            created: time(o, "createdDateTime")?,
            end: time(o, "endDateTime")?,
            prov,
        })
    }
}

/// A GDAP access assignment: which security group of the partner holds which roles.
#[derive(Debug, Clone)]
pub struct AccessAssignment {
    /// The relationship, when known (from the page's context).
    pub relationship_id: Option<String>,
    /// Security group id in the partner tenant.
    pub container_id: Option<String>,
    /// Role definition ids.
    pub roles: Vec<String>,
    /// Status.
    pub status: Option<String>,
}

impl AccessAssignment {
    /// Reads one.
    pub fn from_obj(
        o: &Map<String, Value>,
        relationship_id: Option<String>,
    ) -> Result<Self, String> {
        let container = field(o, "accessContainer").and_then(Value::as_object);
        Ok(AccessAssignment {
            relationship_id,
            container_id: container.and_then(|c| string(c, "accessContainerId")),
            roles: unified_roles(o)?,
            status: string(o, "status"),
        })
    }
}

/// A partner contract (DAP), partner side.
#[derive(Debug, Clone)]
pub struct Contract {
    /// Id.
    pub id: String,
    /// Contract type.
    pub contract_type: Option<String>,
    /// Customer tenant.
    pub customer_id: String,
    /// Customer default domain.
    pub default_domain: Option<String>,
    /// Customer name.
    pub display_name: Option<String>,
    /// Where read.
    pub prov: Prov,
}

impl Contract {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        Ok(Contract {
            id: required(o, "id")?,
            contract_type: string(o, "contractType"),
            customer_id: required(o, "customerId")?.to_ascii_lowercase(),
            default_domain: string(o, "defaultDomainName"),
            display_name: string(o, "displayName"),
            prov,
        })
    }
}

/// The organization (tenant) object.
#[derive(Debug, Clone)]
pub struct Organization {
    /// Tenant id.
    pub id: String,
    /// Name.
    pub display_name: Option<String>,
    /// Verified domain names.
    pub verified_domains: Vec<String>,
}

impl Organization {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>) -> Result<Self, String> {
        let mut verified_domains = Vec::new();
        for d in list(o, "verifiedDomains")? {
            if let Some(n) = d.as_object().and_then(|d| string(d, "name")) {
                verified_domains.push(n.to_ascii_lowercase());
            }
        }
        Ok(Organization {
            id: required(o, "id")?.to_ascii_lowercase(),
            display_name: string(o, "displayName"),
            verified_domains,
        })
    }
}

/// An inbox rule (`Get-InboxRule`).
#[derive(Debug, Clone)]
pub struct InboxRule {
    /// Mailbox.
    pub mailbox: String,
    /// Rule name.
    pub name: String,
    /// Enabled.
    pub enabled: Option<bool>,
    /// Forward / redirect / forward-as-attachment recipients.
    pub forwards: Vec<String>,
    /// Deletes, soft-deletes or moves to a hiding folder.
    pub hides: Option<String>,
    /// Where read.
    pub prov: Prov,
}

const HIDING_FOLDERS: [&str; 5] = [
    "deleted items",
    "rss feeds",
    "rss subscriptions",
    "conversation history",
    "archive",
];

impl InboxRule {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let mut forwards = strings(o, "ForwardTo");
        forwards.extend(strings(o, "RedirectTo"));
        forwards.extend(strings(o, "ForwardAsAttachmentTo"));
        let hides = if boolean(o, "DeleteMessage") == Some(true) {
            Some("deletes the message".to_string())
        } else if boolean(o, "SoftDeleteMessage") == Some(true) {
            Some("soft-deletes the message".to_string())
        } else {
            string(o, "MoveToFolder").and_then(|f| {
                let leaf = f
                    .rsplit(['\\', '/', ':'])
                    .next()
                    .unwrap_or(&f)
                    .trim()
                    .to_ascii_lowercase();
                HIDING_FOLDERS
                    .contains(&leaf.as_str())
                    .then(|| format!("moves the message to {f}"))
            })
        };
        Ok(InboxRule {
            mailbox: string(o, "MailboxOwnerId")
                .or_else(|| {
                    string(o, "Identity").map(|i| i.split('\\').next().unwrap_or(&i).to_string())
                })
                .ok_or("missing MailboxOwnerId and Identity")?,
            name: string(o, "Name").unwrap_or_else(|| "(unnamed rule)".into()),
            enabled: boolean(o, "Enabled"),
            forwards,
            hides,
            prov,
        })
    }
}

/// A mailbox permission (`Get-MailboxPermission`).
#[derive(Debug, Clone)]
pub struct MailboxPermission {
    /// Mailbox.
    pub mailbox: String,
    /// Who holds it.
    pub user: String,
    /// Rights.
    pub rights: Vec<String>,
    /// Inherited.
    pub inherited: bool,
    /// Deny entry.
    pub deny: bool,
    /// Where read.
    pub prov: Prov,
}

impl MailboxPermission {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let rights = strings(o, "AccessRights")
            .iter()
            .flat_map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect();
        Ok(MailboxPermission {
            mailbox: required(o, "Identity")?,
            user: required(o, "User")?,
            rights,
            inherited: boolean(o, "IsInherited") == Some(true),
            deny: boolean(o, "Deny") == Some(true),
            prov,
        })
    }
}

/// A mailbox's forwarding settings (`Get-Mailbox`).
#[derive(Debug, Clone)]
pub struct Mailbox {
    /// Mailbox.
    pub name: String,
    /// ForwardingSmtpAddress.
    pub forwarding_smtp: Option<String>,
    /// ForwardingAddress (a recipient object).
    pub forwarding_address: Option<String>,
    /// DeliverToMailboxAndForward.
    pub keep_copy: Option<bool>,
    /// Where read.
    pub prov: Prov,
}

impl Mailbox {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        Ok(Mailbox {
            name: string(o, "UserPrincipalName")
                .or_else(|| string(o, "PrimarySmtpAddress"))
                .or_else(|| string(o, "Identity"))
                .ok_or("missing UserPrincipalName, PrimarySmtpAddress and Identity")?,
            forwarding_smtp: string(o, "ForwardingSmtpAddress"),
            forwarding_address: string(o, "ForwardingAddress"),
            keep_copy: boolean(o, "DeliverToMailboxAndForward"),
            prov,
        })
    }
}

/// An Exchange management role assignment (`Get-ManagementRoleAssignment`).
#[derive(Debug, Clone)]
pub struct ManagementRoleAssignment {
    /// Assignment name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Assignee.
    pub assignee: String,
    /// Assignee type.
    pub assignee_type: Option<String>,
    /// Enabled.
    pub enabled: Option<bool>,
    /// Created.
    pub created: Option<Timestamp>,
    /// Where read.
    pub prov: Prov,
}

impl ManagementRoleAssignment {
    /// Reads one.
    pub fn from_obj(o: &Map<String, Value>, prov: Prov) -> Result<Self, String> {
        let created = time(o, "WhenCreatedUTC").or_else(|_| time(o, "WhenCreated"))?;
        Ok(ManagementRoleAssignment {
            name: string(o, "Name")
                .or_else(|| string(o, "Identity"))
                .ok_or("missing Name")?,
            role: required(o, "Role")?,
            assignee: string(o, "RoleAssigneeName")
                .or_else(|| string(o, "EffectiveUserName"))
                .or_else(|| string(o, "RoleAssignee"))
                .ok_or("missing RoleAssigneeName")?,
            assignee_type: string(o, "RoleAssigneeType"),
            enabled: boolean(o, "Enabled"),
            created,
            prov,
        })
    }
}
