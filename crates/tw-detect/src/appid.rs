//! Application identities learnt from the data itself. One application shows up under several
//! names in the logs: its application (client) id in sign-ins, Graph requests and mail reads
//! (`ClientAppId`), its service principal's object id in sign-ins and in grants, its application
//! object's id in credential changes ("Update application – Certificates and secrets
//! management"), and a display name almost everywhere. [`identity_keys`] reads the keys one record
//! names for the application it is about (for grants: the client that receives the permission,
//! never the resource such as Microsoft Graph); [`AppResolver`] joins the keys records show
//! together (a sign-in naming an app id and a service principal id, a grant naming a service
//! principal and its app id, a record naming an id and a display name) and answers whether two
//! keys are one application, and by which tie: an id both records name, or only a display name.
//!
//! Keys are per tenant: object ids are, and a display name is only unique within one tenant.

use hashbrown::HashMap;

use serde_json::Value;
use tw_event::{Event, LogKind};

/// What an identity key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// The application (client) id.
    AppId,
    /// A service principal's object id.
    ServicePrincipal,
    /// An application object's id.
    Application,
    /// A display name (lower case).
    Name,
}

impl KeyKind {
    /// How a tie through this kind of key is named in findings.
    pub fn tie_name(self) -> &'static str {
        match self {
            KeyKind::AppId => "application id",
            KeyKind::ServicePrincipal => "service principal",
            KeyKind::Application => "application object",
            KeyKind::Name => "display name",
        }
    }
}

/// One key: (tenant, kind, value lower case).
pub type Key = (String, KeyKind, String);

/// The value of `key` in `obj`, compared case-insensitively, at the top level or under
/// `properties` (Azure Monitor exports).
fn field<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    let find = |o: &'a Value| {
        o.as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v)
    };
    find(doc).or_else(|| field_in_properties(doc, &find))
}

fn field_in_properties<'a>(
    doc: &'a Value,
    find: &dyn Fn(&'a Value) -> Option<&'a Value>,
) -> Option<&'a Value> {
    let props = doc.as_object().and_then(|m| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("properties"))
            .map(|(_, v)| v)
    })?;
    find(props)
}

/// A value that may be JSON held in a string (Log Analytics exports): parsed when it is.
fn decoded(v: &Value) -> std::borrow::Cow<'_, Value> {
    match v {
        Value::String(s) if s.trim_start().starts_with(['[', '{']) => {
            match serde_json::from_str::<Value>(s) {
                Ok(p) => std::borrow::Cow::Owned(p),
                Err(_) => std::borrow::Cow::Borrowed(v),
            }
        }
        _ => std::borrow::Cow::Borrowed(v),
    }
}

/// The text of a scalar, quotes of a JSON-encoded string removed, trimmed; `None` when empty.
fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().trim_matches('"').trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && !s.eq_ignore_ascii_case("null")).then_some(s)
}

/// True for a GUID (8-4-4-4-12 hex digits).
pub use tw_event::is_guid;

/// Operations whose first target is the resource (Graph, Exchange) and whose recipient is the
/// client service principal named by `ServicePrincipal.*` modified properties or a later target.
fn grants_to_client(op: &str) -> bool {
    let op = op.to_ascii_lowercase();
    op.starts_with("add app role assignment to service principal")
        || op.starts_with("add delegated permission grant")
        || op.starts_with("remove app role assignment from service principal")
        || op.starts_with("remove delegated permission grant")
}

/// The keys a directory audit or unified audit log record names for the application it acts on.
fn audit_keys(ev: &Event, tenant: &str, out: &mut Vec<Key>) {
    let doc = ev.doc();
    let op = ev.canonical.operation.as_deref().unwrap_or("");
    let grant = grants_to_client(op);
    let mut push = |k: KeyKind, v: &str| {
        let v = v.trim().to_lowercase();
        if !v.is_empty() && !out.iter().any(|(_, kk, vv)| *kk == k && *vv == v) {
            out.push((tenant.to_string(), k, v));
        }
    };
    if let Some(targets) = field(doc, "targetResources") {
        let targets = decoded(targets);
        let targets: &[Value] = targets.as_array().map_or(&[], Vec::as_slice);
        let resource = targets.first().and_then(|t| t.get("id")).and_then(text);
        for (i, t) in targets.iter().enumerate() {
            let props = modified_properties(t);
            if !grant || !names_resource(&props, resource.as_deref()) {
                props_keys(&props, grant, &mut push);
            }
            // For grants the first target is the resource (Graph, Exchange): not the recipient.
            if grant && i == 0 {
                continue;
            }
            target_keys(t, &mut push);
        }
    }
    for (k, v) in key_values(doc, "additionalDetails") {
        if k.eq_ignore_ascii_case("AppId") {
            push(KeyKind::AppId, &v);
        }
    }
    ual_keys(ev, grant, &mut push);
}

/// Application ids of the resources permissions are granted on (Microsoft Graph, Exchange Online,
/// Azure AD Graph, SharePoint Online): never the recipient of a grant.
const RESOURCE_APPS: &[&str] = &[
    "00000003-0000-0000-c000-000000000000",
    "00000002-0000-0ff1-ce00-000000000000",
    "00000002-0000-0000-c000-000000000000",
    "00000003-0000-0ff1-ce00-000000000000",
];

/// True when a grant's `ServicePrincipal.*` properties describe the resource (its object id is
/// the first target's, or its app id a resource's) rather than the client.
fn names_resource(props: &[(String, String)], resource: Option<&str>) -> bool {
    props.iter().any(|(n, v)| {
        let v = v.to_ascii_lowercase();
        (n == "serviceprincipal.objectid" && resource.is_some_and(|r| r.eq_ignore_ascii_case(&v)))
            || (n == "serviceprincipal.appid" && RESOURCE_APPS.contains(&v.as_str()))
    })
}

/// The keys modified properties give.
fn props_keys(props: &[(String, String)], grant: bool, push: &mut dyn FnMut(KeyKind, &str)) {
    for (name, value) in props {
        match name.as_str() {
            "serviceprincipal.objectid" | "delegatedpermissiongrant.clientid" => {
                push(KeyKind::ServicePrincipal, value)
            }
            "serviceprincipal.appid" | "appid" => push(KeyKind::AppId, value),
            "serviceprincipal.displayname" | "displayname" if grant => push(KeyKind::Name, value),
            "targetid.serviceprincipalnames" if !grant => {
                for n in value.split(';').filter(|n| is_guid(n.trim())) {
                    push(KeyKind::AppId, n);
                }
            }
            _ => {}
        }
    }
}

/// The keys of one directory audit target: its id by type, its display name.
fn target_keys(t: &Value, push: &mut dyn FnMut(KeyKind, &str)) {
    let kind = match t.get("type").and_then(text).map(|s| s.to_ascii_lowercase()) {
        Some(k) if k == "application" => KeyKind::Application,
        Some(k) if k == "serviceprincipal" => KeyKind::ServicePrincipal,
        _ => return,
    };
    if let Some(id) = t.get("id").and_then(text) {
        push(kind, &id);
    }
    if let Some(n) = t.get("displayName").and_then(text) {
        push(KeyKind::Name, &n);
    }
}

/// The keys of a unified audit log directory record (`Target` list, `ModifiedProperties`).
fn ual_keys(ev: &Event, grant: bool, push: &mut dyn FnMut(KeyKind, &str)) {
    if ev.kind != LogKind::Ual {
        return;
    }
    let doc = ev.doc();
    let props: Vec<(String, String)> = field(doc, "ModifiedProperties")
        .map(|m| name_values(&decoded(m)))
        .unwrap_or_default()
        .into_iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .collect();
    if !grant || !names_resource(&props, None) {
        props_keys(&props, grant, push);
    }
    if grant {
        // The targets of a grant are the resource and the client together: the client is the
        // one the modified properties name.
        return;
    }
    let targets = field(doc, "Target").map(|t| decoded(t).into_owned());
    for t in targets
        .iter()
        .flat_map(|t| t.as_array().into_iter().flatten())
    {
        let Some(id) = t.get("ID").or_else(|| t.get("Id")).and_then(text) else {
            continue;
        };
        if let Some(sp) = id.strip_prefix("ServicePrincipal_") {
            push(KeyKind::ServicePrincipal, sp);
        } else if let Some(app) = id.strip_prefix("Application_") {
            push(KeyKind::Application, app);
        }
    }
    if let Some(name) = field(doc, "ObjectId").and_then(text) {
        // The object acted on, by display name ("Update application": the application's).
        if !name.contains('/') && !is_guid(&name) {
            push(KeyKind::Name, &name);
        }
    }
}

/// (name lower case, new value) of every modified property of a directory audit target.
fn modified_properties(target: &Value) -> Vec<(String, String)> {
    let Some(m) = target
        .get("modifiedProperties")
        .or_else(|| target.get("ModifiedProperties"))
    else {
        return Vec::new();
    };
    m.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p.get("displayName").and_then(text)?.to_ascii_lowercase();
            let value = p.get("newValue").and_then(text)?;
            Some((name, value))
        })
        .collect()
}

/// (Name, NewValue or Value) pairs of a unified audit log list.
fn name_values(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p.get("Name").and_then(text)?;
            let value = p
                .get("NewValue")
                .or_else(|| p.get("Value"))
                .and_then(text)?;
            Some((name, value))
        })
        .collect()
}

/// (key, value) pairs of a `[{"key":…,"value":…}]` list.
fn key_values(doc: &Value, name: &str) -> Vec<(String, String)> {
    field(doc, name)
        .map(|v| decoded(v).into_owned())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| Some((p.get("key").and_then(text)?, p.get("value").and_then(text)?)))
        .collect()
}

/// The keys of the application acting in a sign-in, a Graph request or a mail read: its app id,
/// service principal id and display name.
fn actor_keys(ev: &Event, tenant: &str, out: &mut Vec<Key>) {
    let c = &ev.canonical;
    let mut push = |k: KeyKind, v: &str| {
        let v = v.trim().to_lowercase();
        if !v.is_empty() {
            out.push((tenant.to_string(), k, v));
        }
    };
    if let Some(a) = &c.app_id {
        push(KeyKind::AppId, a);
    }
    if let Some(sp) = &c.service_principal_id {
        push(KeyKind::ServicePrincipal, sp);
    }
    if ev.kind == LogKind::Signin && c.user.is_none() {
        let doc = light(ev);
        for k in ["servicePrincipalName", "appDisplayName"] {
            if let Some(n) = field(doc, k).and_then(text) {
                push(KeyKind::Name, &n);
                break;
            }
        }
    }
}

/// The fields the chain stage reads of the records it observes ([`identity_keys`],
/// [`signin_key_id`], [`defender_app_keys`]), by dotted path: the hunt parses records through a
/// projection that keeps them, so that a sign-in or a Defender row is never parsed whole just for
/// them. (Credential records, a handful, are read whole: their changed values can sit anywhere.)
pub const OBSERVED_PATHS: &[&str] = &[
    "servicePrincipalCredentialKeyId",
    "properties.servicePrincipalCredentialKeyId",
    "servicePrincipalName",
    "properties.servicePrincipalName",
    "appDisplayName",
    "properties.appDisplayName",
    "OAuthAppId",
    "AccountObjectId",
    "AccountDisplayName",
];

/// The record as parsed for the rules (what they and the correlations read, the service principal
/// name among them), without parsing the whole record again; the whole record when it was not
/// parsed through a projection.
fn light(ev: &Event) -> &Value {
    ev.raw.projected().unwrap_or_else(|| ev.doc())
}

/// The keys of an application acting in a Microsoft 365 Defender `CloudAppEvents` row: its app
/// id (`OAuthAppId`, which is then also the row's `AccountObjectId`) and its display name
/// (`AccountDisplayName`). Empty for rows of users.
pub fn defender_app_keys(ev: &Event) -> Vec<Key> {
    let doc = light(ev);
    let tenant = ev.canonical.tenant_id.clone().unwrap_or_default();
    let (Some(app), Some(account)) = (
        field(doc, "OAuthAppId").and_then(text),
        field(doc, "AccountObjectId").and_then(text),
    ) else {
        return Vec::new();
    };
    if !app.eq_ignore_ascii_case(&account) || !is_guid(&app) {
        return Vec::new();
    }
    let mut out = vec![(tenant.clone(), KeyKind::AppId, app.to_lowercase())];
    if let Some(n) = field(doc, "AccountDisplayName").and_then(text) {
        out.push((tenant, KeyKind::Name, n.to_lowercase()));
    }
    out
}

/// The identity keys a record names for the application it is about: for directory changes the
/// application or service principal acted on (the recipient of a grant), for sign-ins, Graph
/// requests and mail reads the acting application.
pub fn identity_keys(ev: &Event) -> Vec<Key> {
    let tenant = ev.canonical.tenant_id.clone().unwrap_or_default();
    let mut out = Vec::new();
    match ev.kind {
        LogKind::DirectoryAudit => audit_keys(ev, &tenant, &mut out),
        LogKind::Ual if ev.canonical.operation.as_deref() != Some("MailItemsAccessed") => {
            audit_keys(ev, &tenant, &mut out)
        }
        _ => actor_keys(ev, &tenant, &mut out),
    }
    out
}

/// The credential key id a sign-in authenticated with (`servicePrincipalCredentialKeyId` of
/// service principal sign-ins, Graph and Azure Monitor shapes), lower case.
pub fn signin_key_id(ev: &Event) -> Option<String> {
    if ev.kind != LogKind::Signin {
        return None;
    }
    field(light(ev), "servicePrincipalCredentialKeyId")
        .and_then(text)
        .filter(|k| is_guid(k))
        .map(|k| k.to_ascii_lowercase())
}

/// The credential key ids a change added: `KeyIdentifier=` values in its new values
/// (`newValue` of Graph and Azure Monitor `modifiedProperties`, `NewValue` of the unified audit
/// log's `ModifiedProperties`, also inside JSON held in strings) that are not in its old values.
pub fn added_key_ids(doc: &Value) -> Vec<String> {
    let (mut new, mut old) = (Vec::new(), Vec::new());
    key_values_in(doc, &mut new, &mut old, 0);
    let mut out: Vec<String> = new.into_iter().filter(|k| !old.contains(k)).collect();
    out.sort();
    out.dedup();
    out
}

fn key_values_in(v: &Value, new: &mut Vec<String>, old: &mut Vec<String>, depth: u32) {
    if depth > 8 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let text = x.as_str().unwrap_or_default();
                if k.eq_ignore_ascii_case("newValue") {
                    new.extend(key_identifiers(text));
                } else if k.eq_ignore_ascii_case("oldValue") {
                    old.extend(key_identifiers(text));
                } else {
                    key_values_in(x, new, old, depth + 1);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| key_values_in(x, new, old, depth + 1)),
        Value::String(_) => {
            if let std::borrow::Cow::Owned(p) = decoded(v) {
                key_values_in(&p, new, old, depth + 1);
            }
        }
        _ => {}
    }
}

/// The GUIDs after `KeyIdentifier=` in a text, lower case.
fn key_identifiers(s: &str) -> Vec<String> {
    let lower = s.to_ascii_lowercase();
    lower
        .split("keyidentifier=")
        .skip(1)
        .filter_map(|rest| rest.get(..36))
        .filter(|k| is_guid(k))
        .map(str::to_string)
        .collect()
}

/// Joins the identity keys of applications: keys named together by one record are one
/// application. Id links and display-name links are kept apart, so that a tie can say which it
/// used.
#[derive(Debug, Default)]
pub struct AppResolver {
    index: HashMap<Key, usize>,
    /// Union-find parents over ids only.
    by_id: Vec<usize>,
    /// Union-find parents over ids and names.
    by_any: Vec<usize>,
}

fn root(p: &mut [usize], mut i: usize) -> usize {
    while p[i] != i {
        p[i] = p[p[i]];
        i = p[i];
    }
    i
}

fn union(p: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (root(p, a), root(p, b));
    if ra != rb {
        p[ra.max(rb)] = ra.min(rb);
    }
}

impl AppResolver {
    fn slot(&mut self, k: &Key) -> usize {
        if let Some(&i) = self.index.get(k) {
            return i;
        }
        let i = self.by_id.len();
        self.index.insert(k.clone(), i);
        self.by_id.push(i);
        self.by_any.push(i);
        i
    }

    /// Learns that `keys` (named by one record) are one application.
    pub fn learn(&mut self, keys: &[Key]) {
        let slots: Vec<(usize, KeyKind)> = keys.iter().map(|k| (self.slot(k), k.1)).collect();
        let Some(&(first, _)) = slots.first() else {
            return;
        };
        let first_id = slots.iter().find(|s| s.1 != KeyKind::Name).map(|s| s.0);
        for &(s, kind) in &slots {
            union(&mut self.by_any, first, s);
            if let (Some(f), true) = (first_id, kind != KeyKind::Name) {
                union(&mut self.by_id, f, s);
            }
        }
    }

    /// How `a` and `b` (keys of two records) are one application: `Some(kind)` of the tie — an id
    /// kind when ids join them, [`KeyKind::Name`] when only a display name does.
    pub fn tie(&mut self, a: &[Key], b: &[Key]) -> Option<KeyKind> {
        let ids = |r: &Self, keys: &[Key]| -> Vec<(usize, KeyKind)> {
            keys.iter()
                .filter_map(|k| r.index.get(k).map(|&i| (i, k.1)))
                .collect()
        };
        let (sa, sb) = (ids(self, a), ids(self, b));
        let mut by_name = false;
        for &(x, kx) in &sa {
            for &(y, ky) in &sb {
                if kx != KeyKind::Name
                    && ky != KeyKind::Name
                    && root(&mut self.by_id, x) == root(&mut self.by_id, y)
                {
                    return Some(kx);
                }
                by_name |= root(&mut self.by_any, x) == root(&mut self.by_any, y);
            }
        }
        by_name.then_some(KeyKind::Name)
    }

    /// The application ids (lower case) known for the application of `keys`.
    pub fn app_ids(&mut self, keys: &[Key]) -> Vec<String> {
        let roots: Vec<usize> = keys
            .iter()
            .filter_map(|k| self.index.get(k).copied())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|i| root(&mut self.by_any, i))
            .collect();
        let mut all: Vec<(Key, usize)> = self.index.iter().map(|(k, &i)| (k.clone(), i)).collect();
        all.sort();
        let mut out = Vec::new();
        for (k, i) in all {
            if k.1 == KeyKind::AppId && roots.contains(&root(&mut self.by_any, i)) {
                out.push(k.2);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(kind: KeyKind, v: &str) -> Key {
        ("t".into(), kind, v.into())
    }

    #[test]
    fn ties_say_whether_an_id_or_only_a_name_joins_two_records() {
        let mut r = AppResolver::default();
        // A sign-in: app id, service principal, name.
        r.learn(&[
            k(KeyKind::AppId, "a1"),
            k(KeyKind::ServicePrincipal, "sp1"),
            k(KeyKind::Name, "simulandapp"),
        ]);
        // A credential on the application object, named.
        r.learn(&[
            k(KeyKind::Application, "obj1"),
            k(KeyKind::Name, "simulandapp"),
        ]);
        let grant = [k(KeyKind::ServicePrincipal, "sp1")];
        let read = [k(KeyKind::AppId, "a1")];
        let cred = [
            k(KeyKind::Application, "obj1"),
            k(KeyKind::Name, "simulandapp"),
        ];
        assert_eq!(r.tie(&grant, &read), Some(KeyKind::ServicePrincipal));
        assert_eq!(r.tie(&cred, &read), Some(KeyKind::Name));
        assert_eq!(r.tie(&[k(KeyKind::AppId, "other")], &read), None);
        assert_eq!(r.app_ids(&cred), vec!["a1".to_string()]);
    }

    #[test]
    fn added_key_ids_are_the_new_ones_in_every_shape() {
        let graph = serde_json::json!({"targetResources":[{"modifiedProperties":[
            {"displayName":"KeyDescription",
             "oldValue":"[\"[KeyIdentifier=28AF2B99-72a2-4f1c-a59f-94bb3ac41a13,KeyType=Password]\"]",
             "newValue":"[\"[KeyIdentifier=28af2b99-72a2-4f1c-a59f-94bb3ac41a13,KeyType=Password]\",\"[KeyIdentifier=8D42F506-d8ac-4f1e-bdd3-c2ade6bbe1c5,KeyType=Password]\"]"}]}]});
        assert_eq!(
            added_key_ids(&graph),
            ["8d42f506-d8ac-4f1e-bdd3-c2ade6bbe1c5"]
        );
        // A Log Analytics row holds the targets as JSON text; the unified audit log says NewValue.
        let csv = serde_json::json!({"TargetResources": graph["targetResources"].to_string()});
        assert_eq!(added_key_ids(&csv), added_key_ids(&graph));
        let ual = serde_json::json!({"ModifiedProperties":[{"Name":"KeyDescription",
            "NewValue":"[\"[KeyIdentifier=bbf91575-e6da-40d9-9cb3-0b4b3381cdf0,KeyType=Password]\"]",
            "OldValue":"[]"}]});
        assert_eq!(
            added_key_ids(&ual),
            ["bbf91575-e6da-40d9-9cb3-0b4b3381cdf0"]
        );
        assert!(added_key_ids(&serde_json::json!({"KeyIdentifier=x": 1})).is_empty());
    }

    #[test]
    fn guids() {
        assert!(is_guid("5a95e683-08ad-424e-a441-1d1aec52c02c"));
        assert!(!is_guid("https://graph.microsoft.com"));
    }
}
