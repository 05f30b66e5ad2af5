//! Who is the actor and what is the target where a record names several identities: mail read
//! by an application or a delegate (the mailbox owner is the target, never the reader), and
//! permissions given to a service principal (the client that receives them is the target acted
//! upon; the resource whose permission it is — Microsoft Graph, Exchange Online — comes after).
//!
//! The record shapes are the real ones: `MailItemsAccessed` carries `UserId`, `MailboxOwnerUPN`,
//! `ClientAppId` (the application that read) and `AppId` (the API it called: Microsoft Graph
//! `00000003-0000-0000-c000-000000000000` or Exchange Online `00000002-0000-0ff1-ce00-000000000000`
//! for a Graph or EWS read of an application, the first-party client for an owner's read); an app
//! role assignment or delegated grant lists the resource service principal first in
//! `targetResources` / `Target` and names the client in `ServicePrincipal.ObjectID` /
//! `ServicePrincipal.AppId` modified properties (app role assignment) or as a second target
//! (delegated grant).

use serde_json::Value;
use tw_event::Canonical;

/// True for the application ids of Microsoft's first-party resources and services, which follow
/// two fixed patterns (`0000000N-0000-0000-c000-000000000000`: Microsoft Graph, Azure AD Graph,
/// Dynamics; `0000000N-0000-0ff1-ce00-000000000000`: Exchange Online, SharePoint Online, Skype,
/// Office 365 portal). No tenant can register such an id.
pub fn is_microsoft_resource_app(id: &str) -> bool {
    let l = id.trim().to_ascii_lowercase();
    l.len() == 36
        && l.starts_with("0000000")
        && (l.ends_with("-0000-0000-c000-000000000000")
            || l.ends_with("-0000-0ff1-ce00-000000000000"))
}

/// Microsoft's own mail clients: a read through one of them by the mailbox owner is the owner's.
const MICROSOFT_MAIL_CLIENTS: &[&str] = &[
    "9199bf20-a13f-4107-85dc-02114787ef48", // One Outlook Web
    "27922004-5251-4030-b22d-91ecd9a37ea4", // Outlook Mobile
    "5d661950-3475-41cd-a2c3-d671a3162bc1", // Microsoft Outlook
    "d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264", // Microsoft Teams
];

fn str_at<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The actor of a unified audit log record. The application is the client (`ClientAppId`), or
/// `AppId`/`ApplicationId` unless it names a Microsoft resource (then it is the API that was
/// called, not who called it). A mailbox record (`MailboxOwnerUPN`) read by a client
/// application, where `UserId` is the owner or empty, is the application's (application-only
/// access): the owner is the target and no user acted. A delegate's read (`UserId` another
/// user) stays the delegate's.
pub fn ual_actor(doc: &Value, c: &mut Canonical) {
    let client = str_at(doc, "ClientAppId").map(str::to_ascii_lowercase);
    if client.is_none() && c.app_id.as_deref().is_some_and(is_microsoft_resource_app) {
        c.app_id = None;
    }
    let Some(owner) = str_at(doc, "MailboxOwnerUPN") else {
        return;
    };
    let Some(client) = client.filter(|a| !is_microsoft_resource_app(a)) else {
        return;
    };
    if MICROSOFT_MAIL_CLIENTS.contains(&client.as_str()) {
        return;
    }
    let by_owner = c
        .user
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(owner));
    if by_owner {
        c.user = None;
    }
}

/// A modified property's new value, without the JSON string quotes the directory audit log
/// writes around it; `None` when empty or null.
fn new_value<'a>(props: impl Iterator<Item = &'a Value>, name: &str) -> Option<String> {
    for p in props {
        let n = p
            .get("displayName")
            .or_else(|| p.get("Name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !n.eq_ignore_ascii_case(name) {
            continue;
        }
        let v = p
            .get("newValue")
            .or_else(|| p.get("NewValue"))
            .and_then(Value::as_str)?;
        let v = v.trim().trim_matches('"').trim();
        return (!v.is_empty()).then(|| v.to_string());
    }
    None
}

/// Every modified property of a directory change, in either shape: directory audit
/// `targetResources[].modifiedProperties[]` (Graph, Azure Monitor `properties.`, Log Analytics)
/// or unified audit log `ModifiedProperties[]`.
pub fn modified_properties(doc: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for t in target_resources(doc) {
        if let Some(a) = t.get("modifiedProperties").and_then(Value::as_array) {
            out.extend(a.iter());
        }
    }
    if let Some(a) = doc.get("ModifiedProperties").and_then(Value::as_array) {
        out.extend(a.iter());
    }
    out
}

/// The `targetResources` array of a directory audit record, in any of its shapes.
pub fn target_resources(doc: &Value) -> &[Value] {
    for path in [
        &["targetResources"][..],
        &["properties", "targetResources"],
        &["TargetResources"],
    ] {
        if let Some(a) = crate::normalize::get(doc, path).and_then(Value::as_array) {
            return a;
        }
    }
    &[]
}

/// The object ids and app ids of the service principal that *receives* a permission (app role
/// assignment to a service principal, delegated permission grant, consent), never the resource
/// the permission is on. Empty for other operations or when the record does not say.
pub fn permission_recipients(doc: &Value, operation: &str) -> Vec<String> {
    let op = operation.to_ascii_lowercase();
    let props = modified_properties(doc);
    let targets = target_ids(doc);
    let mut out: Vec<String> = Vec::new();
    if op.contains("app role assignment to service principal")
        || op.contains("delegated permission grant")
    {
        // The resource is the first target; the client is named by the properties or is a
        // further service principal target.
        let resource = targets.first().cloned();
        for name in [
            "ServicePrincipal.ObjectID",
            "ServicePrincipal.AppId",
            "DelegatedPermissionGrant.ClientId",
        ] {
            if let Some(v) = new_value(props.iter().copied(), name) {
                out.push(v.to_ascii_lowercase());
            }
        }
        out.extend(targets.iter().skip(1).cloned());
        let resource_names = new_value(props.iter().copied(), "TargetId.ServicePrincipalNames")
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        out.retain(|id| {
            Some(id) != resource.as_ref()
                && !resource_names.split(';').any(|n| n.trim() == id)
                && !is_microsoft_resource_app(id)
        });
    } else if op.contains("consent to application") {
        // The consented application is the target.
        out.extend(targets.first().cloned());
        if let Some(v) = new_value(props.iter().copied(), "TargetId.ServicePrincipalNames") {
            out.extend(v.split(';').map(|s| s.trim().to_ascii_lowercase()));
        }
        out.retain(|id| is_guid(id) && !is_microsoft_resource_app(id));
    }
    out.dedup();
    out
}

use tw_event::is_guid;

/// Object ids of the targets of a directory change, in log order: `targetResources[].id`, or
/// the unified audit log's `Target` entries `Kind_<object id>` and bare GUIDs.
fn target_ids(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        if is_guid(&s) && !out.contains(&s) {
            out.push(s);
        }
    };
    let tr = target_resources(doc);
    if !tr.is_empty() {
        for t in tr {
            if let Some(id) = t.get("id").and_then(Value::as_str) {
                push(id);
            }
        }
        return out;
    }
    if let Some(a) = doc.get("Target").and_then(Value::as_array) {
        for t in a {
            let Some(id) = t.get("ID").and_then(Value::as_str) else {
                continue;
            };
            match id.rsplit_once('_') {
                Some((_, g)) if is_guid(g) => push(g),
                _ => push(id),
            }
        }
    }
    out
}

/// Puts the recipient of a permission first among the canonical targets (the object acted upon),
/// as `ServicePrincipal_<object id>` where the record names its object id, so that the service
/// principal a change concerns is the client, not Microsoft Graph or Exchange Online.
pub fn recipient_first(doc: &Value, c: &mut Canonical) {
    let Some(op) = c.operation.as_deref() else {
        return;
    };
    let rec = permission_recipients(doc, op);
    let Some(first) = rec.first() else {
        return;
    };
    let lead = format!("ServicePrincipal_{first}");
    let mut targets = vec![lead];
    targets.extend(rec.iter().cloned());
    for t in std::mem::take(&mut c.targets) {
        if !targets.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            targets.push(t);
        }
    }
    targets.truncate(64);
    c.targets = targets;
}

#[cfg(test)]
mod tests {
    //! Roles in every format that carries them. Record shapes follow real exports: the
    //! OTRF-Security-Datasets GoldenSAMLADFSMailAccess lab (Log Analytics `OfficeActivity` and
    //! `AuditLogs`), the Azure-Sentinel-Training-Lab `office_activity.csv` rows, and Entra ID's
    //! documented `directoryAudits` / diagnostic shapes.
    use super::*;
    use crate::normalize::normalize;
    use serde_json::json;
    use tw_event::Format;

    const APP: &str = "5a95e683-08ad-424e-a441-1d1aec52c02c";
    const CLIENT_SP: &str = "2e5c2fd0-cca4-452c-9891-a07c0dafd964";
    const EXO_SP: &str = "8429eb5c-faeb-4ade-8eac-acc003790769";
    const GRAPH_SP: &str = "401dd906-ea4f-4d41-b762-7e936d222368";

    fn canon(format: Format, raw: Value) -> Canonical {
        normalize(format, raw).unwrap().1
    }

    fn app_read() -> Value {
        json!({"CreationTime":"2021-08-02T13:32:07","Id":"699e0b10-1c53-403e-976f-ce0847a92b44",
            "Operation":"MailItemsAccessed","OrganizationId":"00000000-0000-0000-0000-000000000001",
            "RecordType":50,"ResultStatus":"Succeeded","UserKey":"100320015858B802","UserType":0,
            "Workload":"Exchange","UserId":"pgustavo@simulandlabs.com",
            "AppId":"00000003-0000-0000-c000-000000000000","ClientAppId":APP,
            "ClientIPAddress":"1.2.3.4","ClientInfoString":"Client=REST;;","LogonType":0,
            "MailboxOwnerUPN":"pgustavo@simulandlabs.com",
            "OperationProperties":[{"Name":"MailAccessType","Value":"Bind"}]})
    }

    fn assert_app_read(c: &Canonical) {
        assert_eq!(c.user, None, "the mailbox owner is not the reader");
        assert_eq!(c.app_id.as_deref(), Some(APP));
        assert!(c.targets.iter().any(|t| t == "pgustavo@simulandlabs.com"));
    }

    #[test]
    fn application_mail_read_is_the_applications_in_every_ual_format() {
        assert_app_read(&canon(Format::UalMgmtApiJson, app_read()));
        let purview = json!({"RecordId":"699e0b10-1c53-403e-976f-ce0847a92b44",
            "CreationDate":"8/2/2021 1:32:07 PM","RecordType":"ExchangeItemAggregated",
            "Operation":"MailItemsAccessed","UserId":"pgustavo@simulandlabs.com",
            "AuditData": app_read().to_string()});
        assert_app_read(&canon(Format::UalPurviewCsv, purview));
        // Log Analytics OfficeActivity, as in the OTRF lab export.
        let la = json!({"TenantId":"00000000-0000-0000-0000-000000000001","RecordType":"50",
            "TimeGenerated":"2021-08-02T13:32:07Z","Operation":"MailItemsAccessed",
            "OrganizationId":"00000000-0000-0000-0000-000000000001","UserType":"Regular",
            "OfficeWorkload":"Exchange","ResultStatus":"Succeeded",
            "UserId":"pgustavo@simulandlabs.com","Logon_Type":"Owner",
            "MailboxOwnerUPN":"pgustavo@simulandlabs.com","ClientInfoString":"Client=REST;;",
            "Client_IPAddress":"1.2.3.4","AppId":"00000003-0000-0000-c000-000000000000",
            "ClientAppId":APP,"Type":"OfficeActivity"});
        assert_app_read(&canon(Format::UalLogAnalyticsJson, la));
    }

    #[test]
    fn delegate_and_owner_reads_stay_the_users() {
        let mut d = app_read();
        d["UserId"] = json!("assistant@simulandlabs.com");
        d["LogonType"] = json!(2);
        let c = canon(Format::UalMgmtApiJson, d);
        assert_eq!(c.user.as_deref(), Some("assistant@simulandlabs.com"));
        // Outlook on the web: AppId names Exchange Online, the API, not a client that acted.
        let owa = json!({"CreationTime":"2021-04-28T14:54:37","Operation":"MailItemsAccessed",
            "OrganizationId":"2ad3fc79-1859-42fa-9011-6f8df2251b22","RecordType":50,
            "ResultStatus":"Succeeded","UserId":"AdeleV@M365x816222.OnMicrosoft.com",
            "MailboxOwnerUPN":"AdeleV@M365x816222.OnMicrosoft.com","LogonType":0,
            "ClientInfoString":"Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "ClientIPAddress":"175.45.176.99","AppId":"00000002-0000-0ff1-ce00-000000000000"});
        let c = canon(Format::UalMgmtApiJson, owa);
        assert_eq!(
            c.user.as_deref(),
            Some("AdeleV@M365x816222.OnMicrosoft.com")
        );
        assert_eq!(c.app_id, None);
        // The owner in Outlook mobile: a Microsoft mail client.
        let mut m = app_read();
        m["ClientAppId"] = json!("27922004-5251-4030-b22d-91ecd9a37ea4");
        let c = canon(Format::UalMgmtApiJson, m);
        assert_eq!(c.user.as_deref(), Some("pgustavo@simulandlabs.com"));
    }

    fn role_targets() -> Value {
        let q = |s: &str| format!("\"{s}\"");
        json!([{"id":EXO_SP,"displayName":"Office 365 Exchange Online","type":"ServicePrincipal",
            "modifiedProperties":[
                {"displayName":"AppRole.Id","oldValue":null,"newValue":q("dc890d15-9560-4a4c-9b7f-a736ec74ec40")},
                {"displayName":"AppRole.Value","oldValue":null,"newValue":q("full_access_as_app")},
                {"displayName":"AppRoleAssignment.CreatedDateTime","oldValue":null,"newValue":q("2024-02-08T21:49:53.6813076Z")},
                {"displayName":"ServicePrincipal.ObjectID","oldValue":null,"newValue":q(CLIENT_SP)},
                {"displayName":"ServicePrincipal.DisplayName","oldValue":null,"newValue":q("STRT_OauthApp")},
                {"displayName":"ServicePrincipal.AppId","oldValue":null,"newValue":q(APP)},
                {"displayName":"ServicePrincipal.Name","oldValue":null,"newValue":q(APP)},
                {"displayName":"TargetId.ServicePrincipalNames","oldValue":null,"newValue":q("00000002-0000-0ff1-ce00-000000000000")}],
            "administrativeUnits":[]}])
    }

    fn assert_client_first(c: &Canonical, doc_recipients: Vec<String>) {
        assert_eq!(
            c.targets[0],
            format!("ServicePrincipal_{CLIENT_SP}"),
            "{:?}",
            c.targets
        );
        assert!(doc_recipients.contains(&CLIENT_SP.to_string()));
        assert!(doc_recipients.contains(&APP.to_string()));
        assert!(!doc_recipients.contains(&EXO_SP.to_string()));
        assert!(doc_recipients.iter().all(|r| !is_microsoft_resource_app(r)));
    }

    #[test]
    fn app_role_assignment_goes_to_the_client_in_every_directory_format() {
        let op = "Add app role assignment to service principal";
        let graph = json!({"id":"Directory_ed53faec-49b5-444f-b6af-b928558ca433_XH34Q_29215277",
            "category":"ApplicationManagement","result":"success","activityDisplayName":op,
            "activityDateTime":"2024-02-08T21:49:53.7643129Z","loggedByService":"Core Directory",
            "operationType":"Assign","tenantId":"75243ab2-44f8-435c-a7a6-b479385df6d4",
            "initiatedBy":{"user":{"id":"aead923d-498b-4f64-a66c-2af91447a8b6",
                "userPrincipalName":"admin@contoso.com","ipAddress":"203.0.113.9"}},
            "targetResources": role_targets()});
        let (doc, c) = normalize(Format::DirectoryAuditGraphJson, graph.clone()).unwrap();
        assert_client_first(&c, permission_recipients(&doc, op));
        assert_eq!(c.user.as_deref(), Some("admin@contoso.com"));
        // Azure Monitor diagnostic export: the same under `properties`.
        let am = json!({"time":"2024-02-08T21:49:53.7643129Z",
            "resourceId":"/tenants/75243ab2-44f8-435c-a7a6-b479385df6d4/providers/Microsoft.aadiam",
            "operationName":op,"category":"AuditLogs","tenantId":"75243ab2-44f8-435c-a7a6-b479385df6d4",
            "properties": graph});
        let (doc, c) = normalize(Format::DirectoryAuditAzureMonitor, am).unwrap();
        assert_client_first(&c, permission_recipients(&doc, op));
        // Log Analytics AuditLogs: dynamic columns exported as JSON strings.
        let la = json!({"TenantId":"75243ab2-44f8-435c-a7a6-b479385df6d4",
            "TimeGenerated":"2024-02-08T21:49:53.764Z","OperationName":op,
            "Category":"ApplicationManagement","Result":"success","ActivityDisplayName":op,
            "InitiatedBy":"{\"user\":{\"userPrincipalName\":\"admin@contoso.com\",\"ipAddress\":\"203.0.113.9\"}}",
            "TargetResources": role_targets().to_string(),"Type":"AuditLogs"});
        let (doc, c) = normalize(Format::DirectoryAuditLogAnalyticsJson, la).unwrap();
        assert_client_first(&c, permission_recipients(&doc, op));
        // Unified audit log copy: `ModifiedProperties` flat, `Target` naming the resource first.
        let ual = json!({"CreationTime":"2024-02-08T21:49:53","Operation":format!("{op}."),
            "OrganizationId":"75243ab2-44f8-435c-a7a6-b479385df6d4","RecordType":8,
            "ResultStatus":"Success","UserId":"admin@contoso.com","ClientIP":"203.0.113.9",
            "Workload":"AzureActiveDirectory",
            "ModifiedProperties":[
                {"Name":"AppRole.Value","NewValue":"full_access_as_app","OldValue":""},
                {"Name":"ServicePrincipal.ObjectID","NewValue":CLIENT_SP,"OldValue":""},
                {"Name":"ServicePrincipal.AppId","NewValue":APP,"OldValue":""},
                {"Name":"TargetId.ServicePrincipalNames","NewValue":"00000002-0000-0ff1-ce00-000000000000","OldValue":""}],
            "Target":[{"ID":format!("ServicePrincipal_{EXO_SP}"),"Type":2},{"ID":EXO_SP,"Type":2},
                {"ID":"ServicePrincipal","Type":2},{"ID":"Office 365 Exchange Online","Type":1},
                {"ID":"00000002-0000-0ff1-ce00-000000000000","Type":2}]});
        let (doc, c) = normalize(Format::UalMgmtApiJson, ual).unwrap();
        assert_client_first(&c, permission_recipients(&doc, op));
    }

    #[test]
    fn delegated_grant_goes_to_the_client_not_microsoft_graph() {
        // The OTRF lab's Log Analytics record: Microsoft Graph first, the client second and in
        // `ServicePrincipal.ObjectID`.
        let op = "Add delegated permission grant";
        let tr = json!([{"id":GRAPH_SP,"displayName":"Microsoft Graph","type":"ServicePrincipal",
            "modifiedProperties":[
                {"displayName":"DelegatedPermissionGrant.Scope","oldValue":"\"User.Read\"","newValue":"\"User.Read Mail.ReadWrite\""},
                {"displayName":"ServicePrincipal.ObjectID","oldValue":null,"newValue":format!("\"{CLIENT_SP}\"")},
                {"displayName":"ServicePrincipal.AppId","oldValue":null,"newValue":null},
                {"displayName":"TargetId.ServicePrincipalNames","oldValue":null,"newValue":"\"00000003-0000-0000-c000-000000000000/ags.windows.net;00000003-0000-0000-c000-000000000000;https://graph.microsoft.com\""}],
            "administrativeUnits":[]},
            {"id":CLIENT_SP,"displayName":null,"type":"ServicePrincipal","modifiedProperties":[],"administrativeUnits":[]}]);
        let la = json!({"TenantId":"00000000-0000-0000-0000-000000000001",
            "TimeGenerated":"2021-08-02T13:27:20.017Z","OperationName":op,"ActivityDisplayName":op,
            "Category":"ApplicationManagement","Result":"success",
            "InitiatedBy":"{\"user\":{\"userPrincipalName\":\"pgustavo@simulandlabs.com\",\"ipAddress\":null}}",
            "TargetResources": tr.to_string(),"Type":"AuditLogs"});
        let (doc, c) = normalize(Format::DirectoryAuditLogAnalyticsJson, la).unwrap();
        assert_eq!(permission_recipients(&doc, op), vec![CLIENT_SP.to_string()]);
        assert_eq!(c.targets[0], format!("ServicePrincipal_{CLIENT_SP}"));
    }

    #[test]
    fn consent_goes_to_the_consented_application() {
        let op = "Consent to application";
        let graph = json!({"activityDisplayName":op,"activityDateTime":"2024-02-08T21:40:00Z",
            "result":"success","tenantId":"75243ab2-44f8-435c-a7a6-b479385df6d4",
            "initiatedBy":{"user":{"userPrincipalName":"adele@contoso.com","ipAddress":"203.0.113.9"}},
            "targetResources":[{"id":CLIENT_SP,"displayName":"STRT_OauthApp","type":"ServicePrincipal",
                "modifiedProperties":[
                    {"displayName":"ConsentContext.IsAdminConsent","oldValue":null,"newValue":"\"True\""},
                    {"displayName":"ConsentAction.Permissions","oldValue":null,"newValue":format!("\"[] => [[Id: x, ClientId: {CLIENT_SP}, PrincipalId: , ResourceId: {GRAPH_SP}, ConsentType: AllPrincipals, Scope: Mail.Read]]; \"")},
                    {"displayName":"TargetId.ServicePrincipalNames","oldValue":null,"newValue":format!("\"{APP}\"")}]}]});
        let (doc, c) = normalize(Format::DirectoryAuditGraphJson, graph).unwrap();
        let r = permission_recipients(&doc, op);
        assert_eq!(r, vec![CLIENT_SP.to_string(), APP.to_string()]);
        assert_eq!(c.targets[0], format!("ServicePrincipal_{CLIENT_SP}"));
    }

    #[test]
    fn sign_ins_and_graph_activity_name_the_actor() {
        // A service principal sign-in (Graph beta page, empty user fields).
        let sp = json!({"createdDateTime":"2025-02-13T00:45:11Z","userPrincipalName":null,
            "userId":"","appId":APP,"ipAddress":"20.104.10.46","servicePrincipalId":CLIENT_SP,
            "servicePrincipalCredentialKeyId":"59eaeebc-8a6b-44a6-9f24-7d55e64420c9",
            "resourceId":"00000003-0000-0000-c000-000000000000",
            "resourceTenantId":"ac048c2e-991f-4fd9-a7e2-92de8f3e3d09","status":{"errorCode":0},
            "signInEventTypes":["servicePrincipal"]});
        let c = canon(Format::SigninGraphJson, sp.clone());
        assert_eq!((c.user, c.app_id.as_deref()), (None, Some(APP)));
        assert_eq!(c.service_principal_id.as_deref(), Some(CLIENT_SP));
        // The same in an Azure Monitor export.
        let am = json!({"time":"2025-02-13T00:45:11.2895094Z","category":"ServicePrincipalSignInLogs",
            "tenantId":"ac048c2e-991f-4fd9-a7e2-92de8f3e3d09","callerIpAddress":"20.104.10.46",
            "properties": sp});
        let c = canon(Format::SigninAzureMonitor, am);
        assert_eq!(c.service_principal_id.as_deref(), Some(CLIENT_SP));
        // A user's sign-in names the user; the empty service principal fields name nobody.
        let user = json!({"createdDateTime":"2025-02-14T15:45:06Z","userPrincipalName":"ulla@maple.fr",
            "appId":"00000006-0000-0ff1-ce00-000000000000","ipAddress":"217.234.244.48",
            "servicePrincipalId":"","resourceTenantId":"2017246d-3ea4-4c62-afbd-a234967c60d8",
            "status":{"errorCode":0}});
        let c = canon(Format::SigninGraphJson, user);
        assert_eq!(c.user.as_deref(), Some("ulla@maple.fr"));
        assert_eq!(c.service_principal_id, None);
        // Graph activity: an application-only request names the service principal, no user.
        let ga = json!({"time":"2025-02-13T00:47:18.3340464Z","category":"MicrosoftGraphActivityLogs",
            "properties":{"timeGenerated":"2025-02-13T00:47:18.3340464Z","requestMethod":"GET",
                "responseStatusCode":200,"tenantId":"ac048c2e-991f-4fd9-a7e2-92de8f3e3d09",
                "appId":APP,"ipAddress":"20.104.10.46","servicePrincipalId":CLIENT_SP,
                "requestUri":"https://graph.microsoft.com/v1.0/users/bd697a48-8773-4b7d-af97-032bbe9299c1/messages"}});
        let c = canon(Format::GraphActivityAzureMonitor, ga);
        assert_eq!((c.user, c.app_id.as_deref()), (None, Some(APP)));
    }

    #[test]
    fn microsoft_resources_are_recognised() {
        for id in [
            "00000003-0000-0000-c000-000000000000",
            "00000002-0000-0ff1-ce00-000000000000",
            "00000003-0000-0ff1-ce00-000000000000",
            "00000002-0000-0000-c000-000000000000",
        ] {
            assert!(is_microsoft_resource_app(id), "{id}");
        }
        assert!(!is_microsoft_resource_app(APP));
        assert!(!is_microsoft_resource_app(
            "00000003-0000-0000-c000-00000000000"
        ));
    }
}
