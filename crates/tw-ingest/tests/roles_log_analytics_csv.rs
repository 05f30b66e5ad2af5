//! Roles in the Log Analytics CSV exports (the portal's "Export to CSV" of a query over
//! `OfficeActivity`, `AuditLogs`, `SigninLogs` and `AADServicePrincipalSignInLogs`): the real
//! column names with their ` [UTC]` suffixes, US-locale dates, a byte order mark, and the dynamic
//! columns (`InitiatedBy`, `TargetResources`, `AdditionalDetails`, `Parameters`, `Folders`,
//! `Status`, `LocationDetails`) as JSON text in a quoted cell with doubled quotes. Each technique's
//! actor and target are read as in every other format (`tw_ingest::roles`): the application that
//! read mail, never the mailbox owner; the client service principal that received a permission,
//! never Microsoft Graph or Exchange Online; the account that added a credential, changed
//! federation or created an inbox rule. Shapes follow the format fixtures under
//! `tests/fixtures/formats/*log_analytics_csv/` and the OTRF lab's `AADAuditEvents` rows.

use std::path::PathBuf;

use tw_event::{Canonical, Format};
use tw_ingest::roles::permission_recipients;
use tw_ingest::{IngestOptions, ingest};

const TENANT: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";
const WORKSPACE: &str = "5c4b3a29-1807-4f6e-8d5c-4b3a29180716";
const APP: &str = "e9a7c1d2-4b3f-4a5e-8c6d-7f8e9a0b1c2d";
const CLIENT_SP: &str = "6a0f2c1e-93d4-4b7a-a5e2-1c8d7f6b5a43";
const GRAPH_SP: &str = "401dd906-ea4f-4d41-b762-7e936d222368";
const EXO_SP: &str = "8429eb5c-faeb-4ade-8eac-acc003790769";
const PARTNER: &str = "helpdesk_northwindit.example#EXT#@contoso.onmicrosoft.com";
const OWNER: &str = "adele.vance@contoso.com";

/// One decoded record: its format, canonical fields and the permission recipients of its document.
struct Read {
    format: Format,
    c: Canonical,
    recipients: Vec<String>,
}

/// A CSV cell as Log Analytics writes it: quoted when it holds a comma, quote or line break,
/// quotes doubled.
fn cell(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// A CSV export: BOM, the header, then each row (column → value; absent columns empty), CRLF.
fn csv(header: &[&str], rows: &[Vec<(&str, String)>]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in rows {
        let cells: Vec<String> = header
            .iter()
            .map(|h| {
                let name = h.trim_end_matches(" [UTC]");
                r.iter()
                    .find(|(k, _)| *k == name)
                    .map_or(String::new(), |(_, v)| cell(v))
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Reads `text` as the file `name` through the reader, as `tenantwatch` does.
fn read(name: &str, text: &str) -> Vec<Read> {
    let dir = std::env::temp_dir().join(format!(
        "tw-roles-la-csv-{}-{}",
        std::process::id(),
        name.replace('.', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let mut out = Vec::new();
    let report = ingest(
        &[PathBuf::from(&path)],
        &IngestOptions::default(),
        |ev, o: &mut Vec<Read>| {
            let op = ev.canonical.operation.clone().unwrap_or_default();
            o.push(Read {
                format: ev.format,
                c: ev.canonical.clone(),
                recipients: permission_recipients(ev.doc(), &op),
            })
        },
        |r| out.push(r),
    );
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(report.totals.rejected, 0, "{name}");
    out
}

const OFFICE_ACTIVITY: &[&str] = &[
    "TenantId",
    "Application",
    "UserDomain",
    "UserAgent",
    "RecordType",
    "TimeGenerated [UTC]",
    "Operation",
    "OrganizationId",
    "OrganizationId_",
    "UserType",
    "UserKey",
    "OfficeWorkload",
    "ResultStatus",
    "ResultReasonType",
    "OfficeObjectId",
    "UserId",
    "UserId_",
    "ClientIP",
    "ClientIP_",
    "Scope",
    "Site_",
    "ItemType",
    "EventSource",
    "Source_Name",
    "SourceRelativeUrl",
    "SourceFileName",
    "SourceFileExtension",
    "Parameters",
    "ExternalAccess",
    "OriginatingServer",
    "OrganizationName",
    "Logon_Type",
    "MailboxOwnerUPN",
    "ClientInfoString",
    "Client_IPAddress",
    "Folders",
    "ElevationTime [UTC]",
    "SourceSystem",
    "OfficeId",
    "SourceRecordId",
    "Start_Time [UTC]",
    "OfficeTenantId",
    "AppId",
    "ClientAppId",
    "Type",
    "_ResourceId",
];

fn office_row(time: &str, op: &str, record_type: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TenantId", WORKSPACE.into()),
        ("RecordType", record_type.into()),
        ("TimeGenerated", time.into()),
        ("Operation", op.into()),
        ("OrganizationId", TENANT.into()),
        ("OrganizationId_", TENANT.into()),
        ("OfficeWorkload", "Exchange".into()),
        ("OrganizationName", "contoso.onmicrosoft.com".into()),
        ("SourceSystem", "OfficeActivityManager".into()),
        ("OfficeTenantId", "$RestApiTenantId$".into()),
        ("Type", "OfficeActivity".into()),
    ]
}

#[test]
fn office_activity_csv_mail_read_is_the_applications_and_the_inbox_rule_the_users() {
    let mut read_row = office_row(
        "4/28/2021, 3:05:26.000 PM",
        "MailItemsAccessed",
        "ExchangeItemAggregated",
    );
    read_row.extend([
        ("UserType", "Regular".to_string()),
        ("ResultStatus", "Succeeded".into()),
        ("UserId", OWNER.into()),
        ("UserId_", OWNER.into()),
        ("Logon_Type", "Owner".into()),
        ("MailboxOwnerUPN", OWNER.into()),
        ("ClientInfoString", "Client=REST;Client=RESTSystem;;".into()),
        ("Client_IPAddress", "203.0.113.45".into()),
        ("Folders", "[\n  {\n    \"FolderItems\": [\n      {\n        \"InternetMessageId\": \"<DM6PR11MB43291A2B3C4D5E6F@DM6PR11MB4329.namprd11.prod.outlook.com>\",\n        \"SizeInBytes\": 14523\n      }\n    ],\n    \"Path\": \"\\\\Inbox\"\n  }\n]".into()),
        ("AppId", "00000003-0000-0000-c000-000000000000".into()),
        ("ClientAppId", APP.into()),
    ]);
    let mut rule_row = office_row(
        "4/28/2021, 3:10:44.000 PM",
        "New-InboxRule",
        "ExchangeAdmin",
    );
    rule_row.extend([
        ("UserType", "Admin".to_string()),
        ("ResultStatus", "True".into()),
        ("OfficeObjectId", "NAMPR11A003.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Adele Vance\\.".into()),
        ("UserId", OWNER.into()),
        ("UserId_", OWNER.into()),
        ("ClientIP", "[2001:db8:4a::17]:36185".into()),
        ("ClientIP_", "[2001:db8:4a::17]:36185".into()),
        ("Parameters", "[\n  {\n    \"Name\": \"MoveToFolder\",\n    \"Value\": \"RSS Feeds\"\n  },\n  {\n    \"Name\": \"Name\",\n    \"Value\": \".\"\n  },\n  {\n    \"Name\": \"MarkAsRead\",\n    \"Value\": \"True\"\n  }\n]".into()),
        ("AppId", "00000002-0000-0ff1-ce00-000000000000".into()),
    ]);
    let rs = read(
        "OfficeActivity_export.csv",
        &csv(OFFICE_ACTIVITY, &[read_row, rule_row]),
    );
    assert_eq!(rs.len(), 2);
    assert!(rs.iter().all(|r| r.format == Format::UalLogAnalyticsCsv));
    let mail = &rs[0].c;
    assert_eq!(mail.user, None, "the mailbox owner is not the reader");
    assert_eq!(mail.app_id.as_deref(), Some(APP));
    assert!(
        mail.targets.iter().any(|t| t == OWNER),
        "{:?}",
        mail.targets
    );
    assert_eq!(
        mail.tenant_id.as_deref(),
        Some(TENANT),
        "the tenant, not the workspace"
    );
    let rule = &rs[1].c;
    assert_eq!(rule.user.as_deref(), Some(OWNER));
    assert_eq!(
        rule.app_id, None,
        "Exchange Online is the API, not an actor"
    );
    assert_eq!(rule.ip.as_deref(), Some("2001:db8:4a::17"));
}

const AUDIT_LOGS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated [UTC]",
    "ResourceId",
    "OperationName",
    "OperationVersion",
    "Category",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CorrelationId",
    "Resource",
    "ResourceGroup",
    "ResourceProvider",
    "Identity",
    "Level",
    "Location",
    "AdditionalDetails",
    "Id",
    "InitiatedBy",
    "LoggedByService",
    "Result",
    "ResultReason",
    "TargetResources",
    "AADTenantId",
    "ActivityDisplayName",
    "ActivityDateTime [UTC]",
    "AADOperationType",
    "Type",
];

fn audit_row(time: &str, op: &str, targets: &str) -> Vec<(&'static str, String)> {
    let by = format!(
        "{{\"user\":{{\"id\":\"7d6c5b4a-3928-4170-8e6d-5c4b3a291807\",\"displayName\":null,\"userPrincipalName\":\"{PARTNER}\",\"ipAddress\":\"198.51.100.23\",\"userType\":null,\"homeTenantId\":\"b7e2c9d4-5a6f-4e1b-9c3d-2f8a7e6d5c4b\",\"homeTenantName\":null}}}}"
    );
    vec![
        ("TenantId", WORKSPACE.into()),
        ("SourceSystem", "Azure AD".into()),
        ("TimeGenerated", time.into()),
        ("ResourceId", format!("/tenants/{TENANT}/providers/Microsoft.aadiam")),
        ("OperationName", op.into()),
        ("OperationVersion", "1.0".into()),
        ("Category", "ApplicationManagement".into()),
        ("ResultSignature", "None".into()),
        ("DurationMs", "0".into()),
        ("Identity", PARTNER.into()),
        ("Level", "4".into()),
        ("AdditionalDetails", "[\n  {\n    \"key\": \"User-Agent\",\n    \"value\": \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"\n  }\n]".into()),
        ("InitiatedBy", by),
        ("LoggedByService", "Core Directory".into()),
        ("Result", "success".into()),
        ("TargetResources", targets.into()),
        ("AADTenantId", TENANT.into()),
        ("ActivityDisplayName", op.into()),
        ("ActivityDateTime", time.into()),
        ("Type", "AuditLogs".into()),
    ]
}

fn prop(name: &str, new: &str) -> String {
    format!("{{\"displayName\":\"{name}\",\"oldValue\":null,\"newValue\":{new}}}")
}

fn q(s: &str) -> String {
    format!("\"\\\"{s}\\\"\"")
}

fn sp(id: &str, name: &str, props: &[String]) -> String {
    format!(
        "{{\"id\":\"{id}\",\"displayName\":{name},\"type\":\"ServicePrincipal\",\"userPrincipalName\":null,\"groupType\":null,\"modifiedProperties\":[{}],\"administrativeUnits\":[]}}",
        props.join(",")
    )
}

#[test]
fn audit_logs_csv_permissions_go_to_the_client_and_changes_to_their_initiator() {
    let role = format!(
        "[{}]",
        sp(
            EXO_SP,
            "\"Office 365 Exchange Online\"",
            &[
                prop("AppRole.Value", &q("full_access_as_app")),
                prop("ServicePrincipal.ObjectID", &q(CLIENT_SP)),
                prop("ServicePrincipal.DisplayName", &q("NorthwindSync")),
                prop("ServicePrincipal.AppId", &q(APP)),
                prop(
                    "TargetId.ServicePrincipalNames",
                    &q("00000002-0000-0ff1-ce00-000000000000")
                ),
            ]
        )
    );
    let grant = format!(
        "[{},{}]",
        sp(
            GRAPH_SP,
            "\"Microsoft Graph\"",
            &[
                prop(
                    "DelegatedPermissionGrant.Scope",
                    &q("User.Read Mail.ReadWrite")
                ),
                prop("ServicePrincipal.ObjectID", &q(CLIENT_SP)),
                prop("ServicePrincipal.AppId", "null"),
                prop(
                    "TargetId.ServicePrincipalNames",
                    &q("00000003-0000-0000-c000-000000000000;https://graph.microsoft.com")
                ),
            ]
        ),
        sp(CLIENT_SP, "null", &[])
    );
    let credential = format!(
        "[{}]",
        sp(
            CLIENT_SP,
            "\"NorthwindSync\"",
            &[
                prop(
                    "KeyDescription",
                    "\"[\\\"[KeyIdentifier=2b9f0e1d-7c6a-4b5e-9d8c-1a2b3c4d5e6f,KeyType=Password,KeyUsage=Verify,DisplayName=sync]\\\"]\""
                ),
                prop("TargetId.ServicePrincipalNames", &q(APP)),
            ]
        )
    );
    let domain = "[{\"id\":\"0f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9\",\"displayName\":\"contoso.com\",\"type\":\"Other\",\"modifiedProperties\":[{\"displayName\":\"LiveType\",\"oldValue\":\"\\\"Managed\\\"\",\"newValue\":\"\\\"Federated\\\"\"}],\"administrativeUnits\":[]}]";
    let rows = [
        audit_row(
            "4/28/2021, 2:55:40.113 PM",
            "Add app role assignment to service principal",
            &role,
        ),
        audit_row(
            "4/28/2021, 2:56:02.901 PM",
            "Add delegated permission grant",
            &grant,
        ),
        audit_row(
            "4/28/2021, 2:58:11.547 PM",
            "Add service principal credentials",
            &credential,
        ),
        audit_row(
            "4/28/2021, 3:01:17.420 PM",
            "Set domain authentication",
            domain,
        ),
    ];
    let rs = read("AuditLogs_export.csv", &csv(AUDIT_LOGS, &rows));
    assert_eq!(rs.len(), 4);
    for r in &rs {
        assert_eq!(r.format, Format::DirectoryAuditLogAnalyticsCsv);
        assert_eq!(r.c.user.as_deref(), Some(PARTNER), "{:?}", r.c.operation);
        assert_eq!(r.c.ip.as_deref(), Some("198.51.100.23"));
        assert_eq!(r.c.tenant_id.as_deref(), Some(TENANT));
        assert_eq!(
            r.c.home_tenant_id.as_deref(),
            Some("b7e2c9d4-5a6f-4e1b-9c3d-2f8a7e6d5c4b")
        );
    }
    let client = format!("ServicePrincipal_{CLIENT_SP}");
    // App role assignment: the client, by object id and app id; never Exchange Online.
    assert_eq!(rs[0].c.targets[0], client, "{:?}", rs[0].c.targets);
    assert!(rs[0].recipients.contains(&CLIENT_SP.to_string()));
    assert!(rs[0].recipients.contains(&APP.to_string()));
    assert!(!rs[0].recipients.contains(&EXO_SP.to_string()));
    // Delegated grant: Microsoft Graph is listed first, the client receives the permission.
    assert_eq!(rs[1].c.targets[0], client, "{:?}", rs[1].c.targets);
    assert_eq!(rs[1].recipients, vec![CLIENT_SP.to_string()]);
    // Credential added: the service principal that got it.
    assert!(
        rs[2].c.targets.iter().any(|t| t.contains(CLIENT_SP)),
        "{:?}",
        rs[2].c.targets
    );
    // Federation change: the domain.
    assert!(
        rs[3].c.targets.iter().any(|t| t.contains("contoso.com")),
        "{:?}",
        rs[3].c.targets
    );
    assert!(rs[3].recipients.is_empty());
}

const SIGNIN_LOGS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated [UTC]",
    "ResourceId",
    "OperationName",
    "OperationVersion",
    "Category",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CorrelationId",
    "ResourceGroup",
    "ResourceProvider",
    "Identity",
    "Level",
    "Location",
    "AlternateSignInName",
    "AppDisplayName",
    "AppId",
    "AuthenticationDetails",
    "AuthenticationRequirement",
    "ClientAppUsed",
    "ConditionalAccessPolicies",
    "ConditionalAccessStatus",
    "CreatedDateTime [UTC]",
    "DeviceDetail",
    "IsInteractive",
    "Id",
    "IPAddress",
    "IsRisky",
    "LocationDetails",
    "MfaDetail",
    "NetworkLocationDetails",
    "OriginalRequestId",
    "ResourceDisplayName",
    "ResourceIdentity",
    "ServicePrincipalId",
    "Status",
    "TokenIssuerType",
    "UserAgent",
    "UserDisplayName",
    "UserId",
    "UserPrincipalName",
    "AADTenantId",
    "UserType",
    "FlaggedForReview",
    "ResourceTenantId",
    "HomeTenantId",
    "Type",
];

const SP_SIGNIN_LOGS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated [UTC]",
    "AADTenantId",
    "CreatedDateTime [UTC]",
    "OperationName",
    "OperationVersion",
    "Category",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CorrelationId",
    "ResourceGroup",
    "Identity",
    "Level",
    "Location",
    "AppId",
    "AuthenticationProcessingDetails",
    "ConditionalAccessPolicies",
    "ConditionalAccessStatus",
    "FederatedCredentialId",
    "Id",
    "IPAddress",
    "LocationDetails",
    "ResourceDisplayName",
    "ResourceIdentity",
    "ResourceServicePrincipalId",
    "ServicePrincipalCredentialKeyId",
    "ServicePrincipalCredentialThumbprint",
    "ServicePrincipalId",
    "ServicePrincipalName",
    "UniqueTokenIdentifier",
    "Type",
];

#[test]
fn sign_in_csv_exports_name_the_user_or_the_application() {
    let user = vec![
        ("TenantId", WORKSPACE.to_string()),
        ("SourceSystem", "Azure AD".into()),
        ("TimeGenerated", "4/28/2021, 2:40:02.700 PM".into()),
        ("OperationName", "Sign-in activity".into()),
        ("Category", "SignInLogs".into()),
        ("ResultType", "0".into()),
        ("Identity", "Northwind Helpdesk".into()),
        ("AppDisplayName", "Azure Portal".into()),
        ("AppId", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c".into()),
        ("CreatedDateTime", "4/28/2021, 2:40:02.700 PM".into()),
        ("IPAddress", "198.51.100.23".into()),
        (
            "LocationDetails",
            "{\"city\":\"Leeds\",\"countryOrRegion\":\"GB\"}".into(),
        ),
        (
            "ResourceDisplayName",
            "Windows Azure Service Management API".into(),
        ),
        ("Status", "{\"errorCode\":0}".into()),
        ("UserPrincipalName", "helpdesk@northwindit.example".into()),
        ("AADTenantId", TENANT.into()),
        ("UserType", "Member".into()),
        ("ResourceTenantId", TENANT.into()),
        (
            "HomeTenantId",
            "b7e2c9d4-5a6f-4e1b-9c3d-2f8a7e6d5c4b".into(),
        ),
        ("Type", "SigninLogs".into()),
    ];
    let rs = read("SigninLogs_export.csv", &csv(SIGNIN_LOGS, &[user]));
    assert_eq!(rs[0].format, Format::SigninLogAnalyticsCsv);
    assert_eq!(
        rs[0].c.user.as_deref(),
        Some("helpdesk@northwindit.example")
    );
    assert_eq!(rs[0].c.service_principal_id, None);
    assert_eq!(
        rs[0].c.home_tenant_id.as_deref(),
        Some("b7e2c9d4-5a6f-4e1b-9c3d-2f8a7e6d5c4b")
    );
    let app = vec![
        ("TenantId", WORKSPACE.to_string()),
        ("SourceSystem", "Azure AD".into()),
        ("TimeGenerated", "4/28/2021, 3:04:40.310 PM".into()),
        ("AADTenantId", TENANT.into()),
        ("CreatedDateTime", "4/28/2021, 3:04:40.310 PM".into()),
        ("OperationName", "Sign-in activity".into()),
        ("Category", "ServicePrincipalSignInLogs".into()),
        ("ResultType", "0".into()),
        ("Identity", "NorthwindSync".into()),
        ("AppId", APP.into()),
        ("IPAddress", "203.0.113.45".into()),
        ("ResourceDisplayName", "Microsoft Graph".into()),
        (
            "ResourceIdentity",
            "00000003-0000-0000-c000-000000000000".into(),
        ),
        (
            "ServicePrincipalCredentialKeyId",
            "2b9f0e1d-7c6a-4b5e-9d8c-1a2b3c4d5e6f".into(),
        ),
        ("ServicePrincipalId", CLIENT_SP.into()),
        ("ServicePrincipalName", "NorthwindSync".into()),
        ("Type", "AADServicePrincipalSignInLogs".into()),
    ];
    let rs = read(
        "AADServicePrincipalSignInLogs_export.csv",
        &csv(SP_SIGNIN_LOGS, &[app]),
    );
    assert_eq!(rs[0].format, Format::SigninLogAnalyticsCsv);
    assert_eq!(rs[0].c.user, None);
    assert_eq!(rs[0].c.app_id.as_deref(), Some(APP));
    assert_eq!(rs[0].c.service_principal_id.as_deref(), Some(CLIENT_SP));
    assert_eq!(rs[0].c.tenant_id.as_deref(), Some(TENANT));
}
