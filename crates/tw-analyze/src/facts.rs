//! What blast reads from one event: who acted (a user or an application), from where, what
//! the record does (technique label), what it gave an application (credential key ids, target
//! object ids), which credential an application signed in with, and which mailbox was read.
//!
//! All functions are pure and cheap; they run on the ingest worker threads.

use std::collections::BTreeSet;

use serde_json::Value;
use tw_event::{Event, LogKind};

/// The identity behind an event: `user:<upn>` or `app:<app id or service principal id>`
/// (lowercase). The canonical fields already name the reader of mail as the actor (an
/// application's read has no user; the mailbox owner is its target, see
/// `tw_ingest::roles`): a record is the application's when it names a service principal or no
/// user, else the user's.
pub fn identity(ev: &Event) -> Option<String> {
    let c = &ev.canonical;
    let app = c
        .app_id
        .as_deref()
        .or(c.service_principal_id.as_deref())
        .filter(|s| !s.is_empty() && !is_microsoft_resource_app(s));
    let app_acts = c.service_principal_id.is_some() || c.user.is_none();
    if app_acts && let Some(a) = app {
        return Some(format!("app:{}", a.to_ascii_lowercase()));
    }
    c.user
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| format!("user:{}", u.to_ascii_lowercase()))
}

/// True for the application ids of Microsoft's own resources (Microsoft Graph, Exchange Online,
/// SharePoint Online, ...): they receive no credential from a tenant and are never a
/// compromised identity.
pub fn is_microsoft_resource_app(id: &str) -> bool {
    tw_ingest::roles::is_microsoft_resource_app(id.trim_start_matches("app:"))
}

/// Every identity key an event names as actor (the user and the client application).
pub fn actor_keys(ev: &Event) -> Vec<String> {
    let c = &ev.canonical;
    let mut v = Vec::new();
    if let Some(u) = c.user.as_deref().filter(|u| !u.is_empty()) {
        v.push(format!("user:{}", u.to_ascii_lowercase()));
    }
    for a in [c.app_id.as_deref(), c.service_principal_id.as_deref()]
        .into_iter()
        .flatten()
    {
        if !a.is_empty() && !is_microsoft_resource_app(a) {
            v.push(format!("app:{}", a.to_ascii_lowercase()));
        }
    }
    v
}

/// The document fields blast reads of every record, besides the canonical ones (dotted paths, as
/// [`tw_ingest::select::Projection`] takes them). A reader that parses records through a
/// projection holding these paths lets [`fields`] read them without parsing the whole record;
/// changes handing power (rare) and evidence rows read the whole document.
pub const FIELDS: &[&str] = &[
    "userId",
    "properties.userId",
    "servicePrincipalCredentialKeyId",
    "properties.servicePrincipalCredentialKeyId",
    "MailboxOwnerUPN",
    "properties.MailboxOwnerUPN",
    "targetResources",
    "properties.targetResources",
    "Actor",
    "Target",
];

/// The fields of [`FIELDS`] of an event: the record as the reader parsed it through its
/// projection when it did (the reader's projection must then hold [`FIELDS`]), else the whole
/// document. Lookups of those paths give the same values from either.
pub fn fields(ev: &Event) -> &Value {
    ev.raw.projected().unwrap_or_else(|| ev.doc())
}

/// The projection blast reads records through: classification, canonical fields and [`FIELDS`].
pub fn projection() -> tw_ingest::select::Projection {
    let mut p = tw_ingest::select::Projection::selection();
    for f in FIELDS {
        p.add(f);
    }
    p
}

fn str_field<'a>(doc: &'a Value, name: &str) -> Option<&'a str> {
    doc.get(name)
        .or_else(|| doc.get("properties").and_then(|p| p.get(name)))
        .and_then(Value::as_str)
}

/// The operation, lowercase, without a trailing full stop.
pub fn op_lower(ev: &Event) -> String {
    ev.canonical
        .operation
        .as_deref()
        .unwrap_or("")
        .trim()
        .trim_end_matches('.')
        .trim()
        .to_lowercase()
}

/// Kinds of change that hand an application power (pivot to the application).
pub fn is_grant(op: &str) -> bool {
    op.contains("credential")
        || op.contains("certificates and secrets")
        || op.contains("app role assignment")
        || op.contains("consent to application")
        || op.contains("delegated permission grant")
        || op.contains("oauth2permissiongrant")
        || op.contains("add owner to")
        || op.contains("member to role")
}

/// True when the event reports a failure.
pub fn failed(ev: &Event) -> bool {
    ev.canonical
        .result
        .as_ref()
        .and_then(|r| r.success)
        .is_some_and(|s| !s)
}

/// A technique label for a record, from the operation alone (indicator-based, independent of
/// any rule pack).
pub fn technique(ev: &Event, op: &str) -> &'static str {
    if ev.kind == LogKind::Signin || op == "userloggedin" || op == "sign-in activity" {
        if ev.canonical.service_principal_id.is_some() || ev.canonical.user.is_none() {
            return "app_sign_in";
        }
        return "sign_in";
    }
    if op == "mailitemsaccessed" {
        return if failed(ev) {
            "mail_access_failed"
        } else {
            "mail_read"
        };
    }
    if ev.kind == LogKind::GraphActivity {
        if op.contains("/messages") || op.contains("/mailfolders") {
            return if failed(ev) {
                "mail_access_failed"
            } else {
                "mail_read"
            };
        }
        if graph_path(op).is_some_and(|p| p == "users" || p.starts_with("users?")) {
            return "directory_enumeration";
        }
        return "graph_request";
    }
    if op.contains("credential") || op.contains("certificates and secrets") {
        return "credential_added";
    }
    if op.contains("app role assignment")
        || op.contains("consent to application")
        || op.contains("delegated permission grant")
        || op.contains("oauth2permissiongrant")
    {
        return "permission_granted";
    }
    if op.contains("member to role") {
        return "role_added";
    }
    if op.contains("federation") || op.contains("domain authentication") {
        return "federation_modified";
    }
    if op.contains("inboxrule") || op.contains("set-mailbox") || op.contains("forwarding") {
        return "mailbox_rule_or_forwarding";
    }
    if op.contains("mailboxpermission") || op.contains("folderpermission") {
        return "mailbox_permission";
    }
    if op.contains("filedownloaded") || op.contains("fileaccessed") {
        return "file_access";
    }
    "other_activity"
}

/// The Graph path after the version (`users/…/messages`), lowercase.
fn graph_path(op: &str) -> Option<&str> {
    let i = op.find("graph.microsoft.com/")?;
    let rest = &op[i + "graph.microsoft.com/".len()..];
    let j = rest.find('/')?;
    Some(&rest[j + 1..])
}

/// The mailbox whose mail a successful read returned: the owner UPN of `MailItemsAccessed`, or
/// `id:<object id>` for a Graph `/users/{id}/messages` request.
pub fn mailbox_read(ev: &Event, op: &str) -> Option<String> {
    if failed(ev) {
        return None;
    }
    if op == "mailitemsaccessed" {
        let doc = fields(ev);
        let upn = str_field(doc, "MailboxOwnerUPN")
            .filter(|s| !s.is_empty())
            .or(ev.canonical.user.as_deref())?;
        return Some(upn.to_ascii_lowercase());
    }
    if ev.kind == LogKind::GraphActivity && op.contains("/messages") {
        let p = graph_path(op)?;
        let rest = p.strip_prefix("users/")?;
        let id = rest.split(['/', '?']).next()?;
        if id.contains('@') {
            return Some(id.to_string());
        }
        return Some(format!("id:{id}"));
    }
    None
}

/// A user's object id and UPN, when the record names both (sign-ins, audit actors).
pub fn user_id_pair(ev: &Event) -> Option<(String, String)> {
    let upn = ev.canonical.user.as_deref().filter(|u| u.contains('@'))?;
    let doc = fields(ev);
    let id = str_field(doc, "userId")
        .or_else(|| str_field(doc, "UserId").filter(|s| !s.contains('@')))
        .filter(|s| looks_like_guid(s))?;
    Some((id.to_ascii_lowercase(), upn.to_ascii_lowercase()))
}

/// Users' object ids and UPNs named as targets of directory changes (`targetResources`).
pub fn target_user_pairs(ev: &Event) -> Vec<(String, String)> {
    let doc = fields(ev);
    let list = ["targetResources", "TargetResources"].iter().find_map(|n| {
        doc.get(*n)
            .or_else(|| doc.get("properties").and_then(|p| p.get(*n)))
            .and_then(Value::as_array)
    });
    let mut out = Vec::new();
    // Unified audit log: `Actor` / `Target` arrays of `{ID, Type}` naming one user by UPN and by
    // object id.
    for name in ["Actor", "Target"] {
        if let Some(a) = doc.get(name).and_then(Value::as_array) {
            let ids: Vec<&str> = a
                .iter()
                .filter_map(|x| x.get("ID").and_then(Value::as_str))
                .collect();
            let upns: BTreeSet<&str> = ids.iter().copied().filter(|s| s.contains('@')).collect();
            let guids: BTreeSet<&str> =
                ids.iter().copied().filter(|s| looks_like_guid(s)).collect();
            if upns.len() == 1
                && guids.len() == 1
                && let (Some(u), Some(g)) = (upns.first(), guids.first())
            {
                out.push((g.to_ascii_lowercase(), u.to_ascii_lowercase()));
            }
        }
    }
    for t in list.into_iter().flatten() {
        let id = t.get("id").and_then(Value::as_str);
        let upn = t.get("userPrincipalName").and_then(Value::as_str);
        if let (Some(id), Some(upn)) = (id, upn)
            && looks_like_guid(id)
            && upn.contains('@')
        {
            out.push((id.to_ascii_lowercase(), upn.to_ascii_lowercase()));
        }
    }
    out
}

/// The credential key id an application signed in with.
pub fn signin_key(ev: &Event) -> Option<String> {
    if ev.kind != LogKind::Signin {
        return None;
    }
    let doc = fields(ev);
    [
        "servicePrincipalCredentialKeyId",
        "ServicePrincipalCredentialKeyId",
    ]
    .iter()
    .find_map(|n| str_field(doc, n))
    .filter(|s| looks_like_guid(s))
    .map(|s| s.to_ascii_lowercase())
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn looks_like_guid(s: &str) -> bool {
    tw_event::is_guid(s)
}

/// Every GUID in a text, lowercase.
pub fn guids_in(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 36 <= b.len() {
        if let Some(s) = text.get(i..i + 36)
            && looks_like_guid(s)
            && (i == 0 || !b[i - 1].is_ascii_hexdigit())
            && (i + 36 == b.len() || !b[i + 36].is_ascii_hexdigit())
        {
            out.push(s.to_ascii_lowercase());
            i += 36;
            continue;
        }
        i += 1;
    }
    out
}

/// Key ids a credential change added: `KeyIdentifier=` values in new values that are not in old
/// values (every shape: Graph `modifiedProperties`, UAL `ModifiedProperties`, JSON strings).
pub fn added_key_ids(doc: &Value) -> Vec<String> {
    let mut new = Vec::new();
    let mut old = Vec::new();
    collect_values(doc, &mut new, &mut old, 0);
    let old: std::collections::HashSet<String> = old.iter().flat_map(|s| key_ids(s)).collect();
    let mut v: Vec<String> = new
        .iter()
        .flat_map(|s| key_ids(s))
        .filter(|k| !old.contains(k))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn key_ids(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = s.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("keyidentifier=") {
        rest = &rest[i + "keyidentifier=".len()..];
        if let Some(k) = rest.get(..36)
            && looks_like_guid(k)
        {
            out.push(k.to_string());
        }
    }
    out
}

fn collect_values(v: &Value, new: &mut Vec<String>, old: &mut Vec<String>, depth: u32) {
    if depth > 12 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let kl = k.to_ascii_lowercase();
                if let Value::String(s) = x {
                    if kl == "newvalue" {
                        new.push(s.clone());
                    } else if kl == "oldvalue" {
                        old.push(s.clone());
                    } else if (s.starts_with('[') || s.starts_with('{'))
                        && let Ok(inner) = serde_json::from_str::<Value>(s)
                    {
                        collect_values(&inner, new, old, depth + 1);
                    }
                } else {
                    collect_values(x, new, old, depth + 1);
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_values(x, new, old, depth + 1);
            }
        }
        _ => {}
    }
}

/// Object ids and app ids of the application a change handed power to, lowercase. A permission
/// (app role assignment, delegated grant, consent) goes to the client service principal the
/// record names as its recipient, never to the resource it is a permission on
/// (`tw_ingest::roles::permission_recipients`); a credential, an owner or a role membership goes
/// to the object the change targets (targets and GUIDs in new values). Microsoft's own
/// resource applications are never a recipient.
pub fn target_ids(ev: &Event) -> Vec<String> {
    let op = ev.canonical.operation.as_deref().unwrap_or("");
    let lower = op.to_ascii_lowercase();
    if lower.contains("app role assignment")
        || lower.contains("delegated permission grant")
        || lower.contains("oauth2permissiongrant")
        || lower.contains("consent to application")
    {
        let mut v = tw_ingest::roles::permission_recipients(ev.doc(), op);
        v.sort();
        v.dedup();
        return v;
    }
    let mut v: Vec<String> = ev
        .canonical
        .targets
        .iter()
        .flat_map(|t| guids_in(t))
        .collect();
    let mut new = Vec::new();
    let mut old = Vec::new();
    collect_values(ev.doc(), &mut new, &mut old, 0);
    for s in &new {
        v.extend(guids_in(s));
    }
    v.retain(|id| !is_microsoft_resource_app(id));
    v.sort();
    v.dedup();
    v
}

/// The object a change concerns, for the report: kind and a readable name (log content).
pub fn object_changed(ev: &Event, op: &str, technique: &str) -> Option<(String, String)> {
    let name = || {
        ev.canonical
            .targets
            .iter()
            .find(|t| !looks_like_guid(t))
            .or(ev.canonical.targets.first())
            .cloned()
            .unwrap_or_default()
    };
    let kind = match technique {
        "credential_added" => "app",
        "permission_granted" => "permission",
        "role_added" => "role",
        "federation_modified" => "domain",
        "mailbox_rule_or_forwarding" | "mailbox_permission" => "mailbox_rule",
        _ => {
            if op.starts_with("add ")
                || op.starts_with("update ")
                || op.starts_with("set")
                || op.starts_with("new-")
                || op.starts_with("remove")
                || op.starts_with("delete")
            {
                "other"
            } else {
                return None;
            }
        }
    };
    let mut n = if kind == "permission" {
        permission_name(&ev.canonical.targets).unwrap_or_else(name)
    } else {
        name()
    };
    if kind == "mailbox_rule" {
        let doc = ev.doc();
        if let Some(params) = doc.get("Parameters").and_then(Value::as_array) {
            let p = |k: &str| {
                params
                    .iter()
                    .find(|x| x.get("Name").and_then(Value::as_str) == Some(k))
                    .and_then(|x| x.get("Value"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let mailbox = p("Mailbox").or(p("Identity")).unwrap_or_default();
            let rule = p("Name").unwrap_or_default();
            let to = p("ForwardTo")
                .or(p("RedirectTo"))
                .or(p("ForwardAsAttachmentTo"))
                .or(p("ForwardingSmtpAddress"))
                .unwrap_or_default();
            n = format!("{mailbox} rule {rule:?} → {to}");
        }
    }
    Some((kind.to_string(), n))
}

/// Display names of Microsoft APIs a permission is granted on (the resource of an app role
/// assignment or delegated grant), never the application that receives it.
const MICROSOFT_APIS: &[&str] = &[
    "microsoft graph",
    "office 365 exchange online",
    "windows azure active directory",
    "office 365 management apis",
    "office 365 sharepoint online",
    "microsoft teams services",
    "azure key vault",
    "windows azure service management api",
    "azure storage",
];

/// The application a permission was given to, named as the targets name it ("Signature Manager
/// (on Microsoft Graph)"): target names that are no id, no `ServicePrincipal_<id>` key and no
/// object type; the API it is on is a Microsoft API's display name.
fn permission_name(targets: &[String]) -> Option<String> {
    let names: Vec<&String> = targets
        .iter()
        .filter(|t| {
            !looks_like_guid(t)
                && !t.starts_with("ServicePrincipal_")
                && !matches!(t.as_str(), "ServicePrincipal" | "Application" | "User")
        })
        .collect();
    let is_api = |t: &&&String| MICROSOFT_APIS.contains(&t.to_ascii_lowercase().as_str());
    let client = names.iter().find(|t| !is_api(t))?;
    Some(match names.iter().find(is_api) {
        Some(api) => format!("{client} (on {api})"),
        None => client.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_names_the_application_that_received_it_and_the_api() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let grant = t(&[
            "ServicePrincipal_be17ba7c-0e85-4805-b348-09e228dfe580",
            "be17ba7c-0e85-4805-b348-09e228dfe580",
            "Microsoft Graph",
            "ServicePrincipal",
            "Signature Manager",
        ]);
        assert_eq!(
            permission_name(&grant).as_deref(),
            Some("Signature Manager (on Microsoft Graph)")
        );
        let consent = t(&[
            "ServicePrincipal_5a29b83a-e565-4bd2-86f2-9902d55aa44b",
            "Timeboxer",
        ]);
        assert_eq!(permission_name(&consent).as_deref(), Some("Timeboxer"));
        let only_api = t(&[
            "ServicePrincipal_5a29b83a-e565-4bd2-86f2-9902d55aa44b",
            "Microsoft Graph",
        ]);
        assert_eq!(permission_name(&only_api), None);
    }

    #[test]
    fn added_keys_are_new_minus_old() {
        let doc: Value = serde_json::json!({"targetResources":[{"modifiedProperties":[{
            "displayName":"KeyDescription",
            "newValue":"[\"[KeyIdentifier=28af2b99-72a2-4f1c-a59f-94bb3ac41a13,KeyType=Password]\",\"[KeyIdentifier=8d42f506-d8ac-4f1e-bdd3-c2ade6bbe1c5,KeyType=Password]\"]",
            "oldValue":"[\"[KeyIdentifier=28af2b99-72a2-4f1c-a59f-94bb3ac41a13,KeyType=Password]\"]"}]}]});
        assert_eq!(
            added_key_ids(&doc),
            vec!["8d42f506-d8ac-4f1e-bdd3-c2ade6bbe1c5".to_string()]
        );
    }

    #[test]
    fn guids_are_found_whole() {
        assert_eq!(
            guids_in("ServicePrincipal_81DDF15A-7893-457c-94ae-e967e3b67172a"),
            Vec::<String>::new()
        );
        assert_eq!(
            guids_in("ServicePrincipal_81DDF15A-7893-457c-94ae-e967e3b67172"),
            vec!["81ddf15a-7893-457c-94ae-e967e3b67172".to_string()]
        );
        assert!(!looks_like_guid("not-a-guid"));
    }
}
