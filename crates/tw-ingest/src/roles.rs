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

fn is_guid(s: &str) -> bool {
    crate::normalize::is_guid(s)
}

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
