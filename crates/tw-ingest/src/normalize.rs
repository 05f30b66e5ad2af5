//! From a classified record to an [`Event`]'s document and canonical fields.
//!
//! Embedded JSON is decoded first (Purview's `AuditData` cell becomes the document; Log Analytics'
//! dynamic columns exported as JSON strings become objects), then each canonical field is read from an
//! ordered list of paths covering the Graph, Azure Monitor, Log Analytics and Management API shapes of
//! its log kind. A timestamp that is present but unparseable is an error, never "now".

use serde_json::Value;
use tw_event::{Canonical, Format, LogKind, Outcome, TenantSource, Timestamp, parse_timestamp};

use crate::roles;

type Path = &'static [&'static str];

/// Canonical field paths of one log kind.
struct Paths {
    time: &'static [Path],
    tenant: &'static [Path],
    user: &'static [Path],
    app_id: &'static [Path],
    sp_id: &'static [Path],
    home_tenant: &'static [Path],
    ip: &'static [Path],
    user_agent: &'static [Path],
    operation: &'static [Path],
    targets: &'static [Path],
}

const CLAIM_TID: &str = "http://schemas.microsoft.com/identity/claims/tenantid";

const UAL: Paths = Paths {
    time: &[&["CreationTime"], &["TimeGenerated"], &["CreationDate"]],
    tenant: &[&["OrganizationId"], &["TenantId"]],
    user: &[&["UserId"]],
    app_id: &[&["ClientAppId"], &["AppId"], &["ApplicationId"]],
    sp_id: &[],
    home_tenant: &[&["ActorContextId"]],
    ip: &[
        &["ClientIP"],
        &["ClientIPAddress"],
        &["Client_IPAddress"],
        &["ActorIpAddress"],
    ],
    user_agent: &[&["UserAgent"]],
    operation: &[&["Operation"], &["Operations"]],
    targets: &[&["ObjectId"], &["MailboxOwnerUPN"], &["Target", "[]", "ID"]],
};

const SIGNIN: Paths = Paths {
    time: &[
        &["createdDateTime"],
        &["properties", "createdDateTime"],
        &["time"],
        &["CreatedDateTime"],
        &["TimeGenerated"],
        &["Date (UTC)"],
    ],
    tenant: &[
        &["resourceTenantId"],
        &["properties", "resourceTenantId"],
        &["ResourceTenantId"],
        &["tenantId"],
        &["AADTenantId"],
        &["Resource tenant ID"],
        &["TenantId"],
    ],
    user: &[
        &["userPrincipalName"],
        &["properties", "userPrincipalName"],
        &["UserPrincipalName"],
        &["Username"],
    ],
    app_id: &[
        &["appId"],
        &["properties", "appId"],
        &["AppId"],
        &["Application ID"],
    ],
    sp_id: &[
        &["servicePrincipalId"],
        &["properties", "servicePrincipalId"],
        &["ServicePrincipalId"],
        &["Service principal ID"],
    ],
    home_tenant: &[
        &["homeTenantId"],
        &["properties", "homeTenantId"],
        &["HomeTenantId"],
        &["Home tenant ID"],
    ],
    ip: &[
        &["ipAddress"],
        &["properties", "ipAddress"],
        &["callerIpAddress"],
        &["IPAddress"],
        &["IpAddress"],
        &["IP address"],
    ],
    user_agent: &[
        &["userAgent"],
        &["properties", "userAgent"],
        &["UserAgent"],
        &["User agent"],
    ],
    operation: &[&["operationName"], &["OperationName"]],
    targets: &[
        &["resourceDisplayName"],
        &["properties", "resourceDisplayName"],
        &["ResourceDisplayName"],
        &["Resource"],
    ],
};

const AUDIT: Paths = Paths {
    time: &[
        &["activityDateTime"],
        &["properties", "activityDateTime"],
        &["ActivityDateTime"],
        &["time"],
        &["TimeGenerated"],
    ],
    tenant: &[
        &["tenantId"],
        &["properties", "tenantId"],
        &["AADTenantId"],
        &["TenantId"],
    ],
    user: &[
        &["initiatedBy", "user", "userPrincipalName"],
        &["properties", "initiatedBy", "user", "userPrincipalName"],
        &["InitiatedBy", "user", "userPrincipalName"],
    ],
    app_id: &[
        &["initiatedBy", "app", "appId"],
        &["properties", "initiatedBy", "app", "appId"],
        &["InitiatedBy", "app", "appId"],
    ],
    sp_id: &[
        &["initiatedBy", "app", "servicePrincipalId"],
        &["properties", "initiatedBy", "app", "servicePrincipalId"],
        &["InitiatedBy", "app", "servicePrincipalId"],
    ],
    home_tenant: &[
        &["initiatedBy", "user", "homeTenantId"],
        &["properties", "initiatedBy", "user", "homeTenantId"],
        &["InitiatedBy", "user", "homeTenantId"],
    ],
    ip: &[
        &["initiatedBy", "user", "ipAddress"],
        &["properties", "initiatedBy", "user", "ipAddress"],
        &["InitiatedBy", "user", "ipAddress"],
        &["initiatedBy", "app", "ipAddress"],
        &["properties", "initiatedBy", "app", "ipAddress"],
        &["InitiatedBy", "app", "ipAddress"],
        &["callerIpAddress"],
        &["InitiatingIpAddress"],
    ],
    user_agent: &[&["UserAgent"]],
    operation: &[
        &["activityDisplayName"],
        &["properties", "activityDisplayName"],
        &["ActivityDisplayName"],
        &["operationName"],
        &["OperationName"],
    ],
    targets: &[
        &["targetResources", "[]", "displayName"],
        &["targetResources", "[]", "userPrincipalName"],
        &["targetResources", "[]", "id"],
        &["properties", "targetResources", "[]", "displayName"],
        &["properties", "targetResources", "[]", "userPrincipalName"],
        &["properties", "targetResources", "[]", "id"],
        &["TargetResources", "[]", "displayName"],
        &["TargetResources", "[]", "userPrincipalName"],
        &["TargetResources", "[]", "id"],
    ],
};

const ACTIVITY: Paths = Paths {
    time: &[
        &["eventTimestamp"],
        &["time"],
        &["TimeGenerated"],
        &["EventSubmissionTimestamp"],
    ],
    tenant: &[
        &["tenantId"],
        &["claims", CLAIM_TID],
        &["identity", "claims", CLAIM_TID],
        &["Claims_d", CLAIM_TID],
        &["TenantId"],
    ],
    user: &[
        &["caller"],
        &["Caller"],
        &[
            "identity",
            "claims",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        ],
        &["identity", "claims", "name"],
    ],
    app_id: &[
        &["claims", "appid"],
        &["identity", "claims", "appid"],
        &["Claims_d", "appid"],
        &["Claims", "appid"],
    ],
    sp_id: &[],
    home_tenant: &[],
    ip: &[
        &["callerIpAddress"],
        &["CallerIpAddress"],
        &["httpRequest", "clientIpAddress"],
        &["HTTPRequest", "clientIpAddress"],
    ],
    user_agent: &[],
    operation: &[
        &["operationName", "value"],
        &["operationName"],
        &["OperationNameValue"],
        &["OperationName"],
    ],
    targets: &[&["resourceId"], &["ResourceId"], &["_ResourceId"]],
};

const GRAPH: Paths = Paths {
    time: &[
        &["time"],
        &["properties", "timeGenerated"],
        &["TimeGenerated"],
    ],
    tenant: &[
        &["tenantId"],
        &["properties", "tenantId"],
        &["AadTenantId"],
        &["TenantId"],
    ],
    user: &[&["properties", "userId"], &["UserId"]],
    app_id: &[&["properties", "appId"], &["AppId"]],
    sp_id: &[
        &["properties", "servicePrincipalId"],
        &["ServicePrincipalId"],
    ],
    home_tenant: &[],
    ip: &[
        &["callerIpAddress"],
        &["properties", "ipAddress"],
        &["IPAddress"],
        &["IpAddress"],
    ],
    user_agent: &[&["properties", "userAgent"], &["UserAgent"]],
    operation: &[],
    targets: &[&["properties", "requestUri"], &["RequestUri"]],
};

const RISK: Paths = Paths {
    time: &[
        &["detectedDateTime"],
        &["properties", "detectedDateTime"],
        &["DetectedDateTime"],
        &["activityDateTime"],
        &["time"],
        &["TimeGenerated"],
    ],
    tenant: &[&["tenantId"], &["properties", "tenantId"], &["TenantId"]],
    user: &[
        &["userPrincipalName"],
        &["properties", "userPrincipalName"],
        &["UserPrincipalName"],
    ],
    app_id: &[&["appId"], &["properties", "appId"], &["AppId"]],
    sp_id: &[
        &["servicePrincipalId"],
        &["properties", "servicePrincipalId"],
        &["ServicePrincipalId"],
    ],
    home_tenant: &[],
    ip: &[
        &["ipAddress"],
        &["properties", "ipAddress"],
        &["IpAddress"],
        &["IPAddress"],
    ],
    user_agent: &[],
    operation: &[
        &["riskEventType"],
        &["properties", "riskEventType"],
        &["RiskEventType"],
    ],
    targets: &[
        &["userPrincipalName"],
        &["properties", "userPrincipalName"],
        &["UserPrincipalName"],
    ],
};

const DEFENDER: Paths = Paths {
    time: &[&["Timestamp"], &["TimeGenerated"]],
    tenant: &[&["TenantId"]],
    user: &[&["AccountUpn"], &["InitiatingProcessAccountUpn"]],
    app_id: &[&["ApplicationId"]],
    sp_id: &[],
    home_tenant: &[],
    ip: &[&["RemoteIP"], &["IPAddress"]],
    user_agent: &[],
    operation: &[&["ActionType"]],
    targets: &[&["DeviceName"], &["TargetAccountUpn"]],
};

const WINDOWS: Paths = Paths {
    time: &[&["TimeGenerated"], &["TimeCreated"]],
    tenant: &[&["TenantId"]],
    user: &[&["Account"], &["TargetUserName"], &["UserName"]],
    app_id: &[],
    sp_id: &[],
    home_tenant: &[],
    ip: &[&["IpAddress"]],
    user_agent: &[],
    operation: &[&["EventID"]],
    targets: &[&["Computer"]],
};

const CEF: Paths = Paths {
    time: &[&["TimeGenerated"], &["ReceiptTime"]],
    tenant: &[&["TenantId"]],
    user: &[&["SourceUserName"]],
    app_id: &[],
    sp_id: &[],
    home_tenant: &[],
    ip: &[&["SourceIP"]],
    user_agent: &[&["RequestClientApplication"]],
    operation: &[&["Activity"], &["DeviceEventClassID"]],
    targets: &[&["DestinationIP"], &["DestinationHostName"]],
};

const GENERIC: Paths = Paths {
    time: &[
        &["TimeGenerated"],
        &["Timestamp"],
        &["timestamp"],
        &["@timestamp"],
        &["time"],
        &["Time"],
        &["CreationTime"],
        &["createdDateTime"],
        &["StartTime"],
    ],
    tenant: &[&["TenantId"], &["tenantId"]],
    user: &[],
    app_id: &[],
    sp_id: &[],
    home_tenant: &[],
    ip: &[],
    user_agent: &[],
    operation: &[],
    targets: &[],
};

const CONFIG: Paths = Paths {
    time: &[&["MetaData", "TimestampZulu"]],
    tenant: &[&["MetaData", "TenantId"], &["tenantId"]],
    user: &[],
    app_id: &[],
    sp_id: &[],
    home_tenant: &[],
    ip: &[],
    user_agent: &[],
    operation: &[],
    targets: &[],
};

/// The path tables of the log kinds, each once (`Other` and `Generic` share one; [`paths_of`]).
static TABLES: [&Paths; 11] = [
    &UAL, &SIGNIN, &AUDIT, &ACTIVITY, &GRAPH, &RISK, &DEFENDER, &WINDOWS, &CEF, &GENERIC, &CONFIG,
];

fn paths_of(kind: LogKind) -> &'static Paths {
    match kind {
        LogKind::Ual => &UAL,
        LogKind::Signin => &SIGNIN,
        LogKind::DirectoryAudit => &AUDIT,
        LogKind::AzureActivity => &ACTIVITY,
        LogKind::GraphActivity => &GRAPH,
        LogKind::RiskDetection => &RISK,
        LogKind::M365Defender => &DEFENDER,
        LogKind::WindowsEvent => &WINDOWS,
        LogKind::Cef => &CEF,
        LogKind::Other | LogKind::Generic => &GENERIC,
        LogKind::TenantConfig => &CONFIG,
    }
}

/// The value at `path` (no array steps).
pub fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = cur.as_object()?.get(*seg)?;
    }
    Some(cur)
}

/// Every value at `path`, `[]` steps fanning out over arrays.
fn collect<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match path.split_first() {
        None => match v {
            Value::Array(a) => out.extend(a.iter()),
            _ => out.push(v),
        },
        Some((&"[]", rest)) => {
            if let Value::Array(a) = v {
                for e in a {
                    collect(e, rest, out);
                }
            }
        }
        Some((seg, rest)) => {
            if let Some(n) = v.as_object().and_then(|o| o.get(*seg)) {
                collect(n, rest, out);
            }
        }
    }
}

/// A scalar as text; empty strings and nulls are absent.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first(v: &Value, paths: &[Path]) -> Option<String> {
    paths.iter().find_map(|p| get(v, p).and_then(text))
}

/// Strips a port and brackets: `1.2.3.4:5678` → `1.2.3.4`, `[2001:db8::1]:443` → `2001:db8::1`.
pub fn clean_ip(ip: &str) -> String {
    let ip = ip.trim();
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match ip.matches(':').count() {
        1 => ip.split(':').next().unwrap_or(ip).to_string(),
        _ => ip.to_string(),
    }
}

/// The operation as compared: surrounding white space and a trailing full stop removed.
pub fn clean_operation(op: &str) -> String {
    let t = op.trim();
    t.strip_suffix('.').unwrap_or(t).trim_end().to_string()
}

fn outcome_from_word(word: &str) -> Option<bool> {
    match word.trim().to_ascii_lowercase().as_str() {
        "succeeded" | "success" | "true" | "partiallysucceeded" | "ok" => Some(true),
        "failed" | "failure" | "false" | "timeout" | "error" => Some(false),
        _ => None,
    }
}

fn outcome(kind: LogKind, v: &Value) -> Option<Outcome> {
    match kind {
        LogKind::Ual => {
            let w = first(v, &[&["ResultStatus"]])?;
            Some(Outcome {
                success: outcome_from_word(&w),
                code: Some(w),
            })
        }
        LogKind::Signin => {
            let code = first(
                v,
                &[
                    &["status", "errorCode"],
                    &["properties", "status", "errorCode"],
                    &["ResultType"],
                    &["resultType"],
                    &["Sign-in error code"],
                ],
            );
            match code {
                Some(code) => Some(Outcome {
                    success: Some(code == "0"),
                    code: Some(code),
                }),
                // The portal's download without an error code: its `Status` word (`Success`,
                // `Failure`, `Interrupted`, the last neither).
                None => {
                    let w = first(v, &[&["Status"]])?;
                    Some(Outcome {
                        success: outcome_from_word(&w),
                        code: Some(w),
                    })
                }
            }
        }
        LogKind::DirectoryAudit => {
            let w = first(v, &[&["result"], &["properties", "result"], &["Result"]])?;
            let reason = first(
                v,
                &[
                    &["resultReason"],
                    &["properties", "resultReason"],
                    &["ResultReason"],
                ],
            );
            Some(Outcome {
                success: outcome_from_word(&w),
                code: reason.or(Some(w)),
            })
        }
        LogKind::AzureActivity => {
            let w = first(
                v,
                &[
                    &["status", "value"],
                    &["resultType"],
                    &["ActivityStatusValue"],
                    &["ActivityStatus"],
                ],
            )?;
            Some(Outcome {
                success: outcome_from_word(&w),
                code: Some(w),
            })
        }
        LogKind::GraphActivity => {
            let code = first(
                v,
                &[
                    &["properties", "responseStatusCode"],
                    &["ResponseStatusCode"],
                    &["resultSignature"],
                ],
            )?;
            let n: u32 = code.parse().ok()?;
            Some(Outcome {
                success: Some((200..400).contains(&n)),
                code: Some(code),
            })
        }
        _ => None,
    }
}

/// A `/tenants/<id>/` segment in a resource id or a path.
pub fn tenant_from_path(p: &str) -> Option<String> {
    let lower = p.to_ascii_lowercase();
    let i = lower.find("/tenants/")?;
    let rest = &lower[i + 9..];
    let id: String = rest.chars().take_while(|c| *c != '/').collect();
    is_guid(&id).then_some(id)
}

pub use tw_event::is_guid;

fn user_agent_from_details(v: &Value) -> Option<String> {
    for p in [
        &["additionalDetails"][..],
        &["properties", "additionalDetails"],
        &["AdditionalDetails"],
    ] {
        if let Some(Value::Array(a)) = get(v, p) {
            for d in a {
                let key = d.get("key").and_then(Value::as_str).unwrap_or("");
                if key.eq_ignore_ascii_case("User-Agent")
                    && let Some(t) = d.get("value").and_then(text)
                {
                    return Some(t);
                }
            }
        }
    }
    None
}

pub use tw_event::decode_json_strings;

fn parse_time_value(v: &Value) -> Option<Timestamp> {
    match v {
        Value::String(s) => parse_timestamp(s),
        Value::Number(n) => {
            let x = n.as_i64()?;
            Timestamp::from_millis(if x.abs() > 100_000_000_000 {
                x
            } else {
                x * 1000
            })
        }
        _ => None,
    }
}

/// True for formats whose JSON-string columns are decoded (Log Analytics exports, Defender rows,
/// generic tables).
pub fn decodes_json_strings(format: Format) -> bool {
    matches!(
        format,
        Format::UalLogAnalyticsCsv
            | Format::UalLogAnalyticsJson
            | Format::SigninLogAnalyticsCsv
            | Format::SigninLogAnalyticsJson
            | Format::DirectoryAuditLogAnalyticsCsv
            | Format::DirectoryAuditLogAnalyticsJson
            | Format::AzureActivityLogAnalyticsCsv
            | Format::AzureActivityLogAnalyticsJson
            | Format::GraphActivityLogAnalyticsCsv
            | Format::GraphActivityLogAnalyticsJson
            | Format::RiskLogAnalyticsCsv
            | Format::RiskLogAnalyticsJson
            | Format::WindowsLogAnalyticsJson
            | Format::CefLogAnalyticsCsv
            | Format::DefenderJson
            | Format::TableCsv
    )
}

/// True for formats whose document is the record's `AuditData` (Purview CSV, Search-UnifiedAuditLog).
pub fn document_is_audit_data(format: Format) -> bool {
    matches!(format, Format::UalSearchJson | Format::UalPurviewCsv)
}

/// Turns a raw record of `format` into its document: `AuditData` decoded where it is the document,
/// JSON-string columns decoded where the format has them.
pub fn prepare(format: Format, raw: Value) -> Result<Value, String> {
    let mut doc = if document_is_audit_data(format) {
        let ad = raw.get("AuditData").ok_or("no AuditData")?;
        let parsed = match ad {
            Value::String(s) => serde_json::from_str::<Value>(s)
                .map_err(|e| format!("AuditData is not valid JSON: {e}"))?,
            Value::Object(_) => ad.clone(),
            _ => return Err("AuditData is neither a JSON object nor a JSON string".into()),
        };
        if !parsed.is_object() {
            return Err("AuditData is not a JSON object".into());
        }
        parsed
    } else {
        raw
    };
    if decodes_json_strings(format)
        && let Value::Object(o) = &mut doc
    {
        decode_json_strings(o);
    }
    if !doc.is_object() {
        return Err("record is not a JSON object".into());
    }
    Ok(doc)
}

/// Turns a raw record of `format` into (document, canonical fields). Errors name the reason.
pub fn normalize(format: Format, raw: Value) -> Result<(Value, Canonical), String> {
    let doc = prepare(format, raw)?;
    let c = canonical(format.log_kind(), &doc)?;
    Ok((doc, c))
}

/// The key names (last path step) a canonical field is read from, in any log kind: a record
/// whose canonical field has a value spells one of them out. `None` for fields that may come from
/// outside the record's keys (`tenant_id` from a resource path or the folder, `operation` of
/// sign-ins, `result`, `time`) or are not a single field (`log`, `format`). `cross_tenant`
/// needs the actor's home tenant.
pub fn canonical_keys(field: &str) -> Option<Vec<&'static str>> {
    let pick: fn(&Paths) -> &'static [Path] = match field {
        "user" => |p| p.user,
        "app_id" => |p| p.app_id,
        "service_principal_id" => |p| p.sp_id,
        "home_tenant_id" | "cross_tenant" => |p| p.home_tenant,
        "ip" => |p| p.ip,
        "targets" => |p| p.targets,
        _ => return None,
    };
    let mut out: Vec<&'static str> = Vec::new();
    for p in TABLES {
        for path in pick(p) {
            let leaf = path.iter().rev().find(|s| **s != "[]")?;
            if !out.contains(leaf) {
                out.push(leaf);
            }
        }
    }
    Some(out)
}

/// The log kinds whose records may carry the actor's home tenant (`home_tenant_id`): a record of
/// any other kind never has one, so it never names a user acting across tenants.
pub fn kinds_with_home_tenant() -> Vec<LogKind> {
    // Every log kind is the kind of some format.
    let mut kinds: Vec<LogKind> = Vec::new();
    for kind in Format::ALL.iter().map(|f| f.log_kind()) {
        if !kinds.contains(&kind) && !paths_of(kind).home_tenant.is_empty() {
            kinds.push(kind);
        }
    }
    kinds
}

/// Every path the canonical fields of any log kind read, `[]` steps included (for selective parsing).
pub fn canonical_paths() -> Vec<&'static [&'static str]> {
    let mut v: Vec<&'static [&'static str]> = Vec::new();
    for p in TABLES {
        for list in [
            p.time,
            p.tenant,
            p.user,
            p.app_id,
            p.sp_id,
            p.home_tenant,
            p.ip,
            p.user_agent,
            p.operation,
            p.targets,
        ] {
            v.extend_from_slice(list);
        }
    }
    v.extend_from_slice(OTHER_PATHS);
    v
}

/// Paths read outside the per-kind tables: outcomes, resource ids, user agents in details, Graph
/// activity method and URI.
const OTHER_PATHS: &[Path] = &[
    &["ResultStatus"],
    &["status", "errorCode"],
    &["properties", "status", "errorCode"],
    &["ResultType"],
    &["resultType"],
    &["Sign-in error code"],
    &["Status"],
    &["result"],
    &["properties", "result"],
    &["Result"],
    &["resultReason"],
    &["properties", "resultReason"],
    &["ResultReason"],
    &["status", "value"],
    &["ActivityStatusValue"],
    &["ActivityStatus"],
    &["properties", "responseStatusCode"],
    &["ResponseStatusCode"],
    &["resultSignature"],
    &["resourceId"],
    &["ResourceId"],
    &["_ResourceId"],
    &["additionalDetails"],
    &["properties", "additionalDetails"],
    &["AdditionalDetails"],
    &["properties", "requestMethod"],
    &["RequestMethod"],
    &["properties", "requestUri"],
    &["RequestUri"],
    // Roles (`crate::roles`): who read a mailbox, who received a permission.
    &["LogonType"],
    &["Logon_Type"],
    &["ModifiedProperties", "[]", "Name"],
    &["ModifiedProperties", "[]", "NewValue"],
    &[
        "targetResources",
        "[]",
        "modifiedProperties",
        "[]",
        "displayName",
    ],
    &[
        "targetResources",
        "[]",
        "modifiedProperties",
        "[]",
        "newValue",
    ],
    &[
        "properties",
        "targetResources",
        "[]",
        "modifiedProperties",
        "[]",
        "displayName",
    ],
    &[
        "properties",
        "targetResources",
        "[]",
        "modifiedProperties",
        "[]",
        "newValue",
    ],
    &[
        "TargetResources",
        "[]",
        "modifiedProperties",
        "[]",
        "displayName",
    ],
    &[
        "TargetResources",
        "[]",
        "modifiedProperties",
        "[]",
        "newValue",
    ],
];

/// The canonical fields of a prepared document of format `format`. A Log Analytics table's
/// `TenantId` column is the workspace the row was stored in, not a tenant: for the tables that
/// name the tenant in a column of their own (`OrganizationId` of `OfficeActivity`, `AADTenantId`
/// of `SigninLogs` and `AuditLogs`, `AadTenantId` of `MicrosoftGraphActivityLogs`) a query that
/// projected that column away leaves the row's tenant to its folder or the tenant map, never to
/// the workspace.
pub fn canonical_of(format: Format, doc: &Value) -> Result<Canonical, String> {
    canonical_with(format.log_kind(), doc, skips_workspace(format))
}

/// True for Log Analytics tables whose `TenantId` column is the workspace and that name the
/// tenant in a column of their own.
fn skips_workspace(format: Format) -> bool {
    let workspace_only = format.as_str().ends_with(".log_analytics_csv")
        || format.as_str().ends_with(".log_analytics_json");
    let tenant_named_apart = matches!(
        format.log_kind(),
        LogKind::Ual | LogKind::Signin | LogKind::DirectoryAudit | LogKind::GraphActivity
    );
    workspace_only && tenant_named_apart
}

/// The canonical fields of a prepared document of log kind `kind`.
pub fn canonical(kind: LogKind, doc: &Value) -> Result<Canonical, String> {
    canonical_with(kind, doc, false)
}

/// The time and tenant of a prepared document of format `format`, as [`canonical_of`] reads
/// them (and failing as it does), the other fields left empty: what tenant attribution needs.
pub fn time_and_tenant_of(format: Format, doc: &Value) -> Result<Canonical, String> {
    let mut c = Canonical::default();
    time_and_tenant(format.log_kind(), doc, skips_workspace(format), &mut c)?;
    Ok(c)
}

/// The paths [`time_and_tenant_of`] reads, over every log kind.
pub fn time_and_tenant_paths() -> Vec<Path> {
    let mut v: Vec<Path> = RESOURCE_IDS.to_vec();
    for p in TABLES {
        v.extend(p.time.iter().chain(p.tenant));
    }
    v
}

/// The first steps of the paths [`time_and_tenant_of`] reads.
pub fn time_and_tenant_keys() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = time_and_tenant_paths()
        .iter()
        .filter_map(|p| p.first().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Pieces of text that every key a tenant may be read from holds (see [`tenant_keys`]).
pub(crate) const TENANT_KEY_PIECES: [&str; 3] = ["enant", "esourceId", "rganizationId"];

/// The last key of every path [`time_and_tenant_of`] may read a tenant from, over every log kind.
pub fn tenant_keys() -> Vec<&'static str> {
    let mut v = record_tenant_keys();
    v.extend(resource_id_keys());
    v.sort_unstable();
    v.dedup();
    v
}

/// The last key of every path a record's own tenant id is read from (its value, trimmed and
/// lower-cased, is the tenant), over every log kind.
pub(crate) fn record_tenant_keys() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TABLES
        .iter()
        .flat_map(|p| p.tenant.iter())
        .filter_map(|p| p.last().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The last key of every resource id path a tenant may be read from ([`tenant_from_path`] of
/// its trimmed value).
pub(crate) fn resource_id_keys() -> Vec<&'static str> {
    RESOURCE_IDS
        .iter()
        .filter_map(|p| p.last().copied())
        .collect()
}

/// False only when a JSON record's text cannot name a tenant: it holds none of the pieces of
/// the tenant keys (every key of [`tenant_keys`] holds one) and no `\u` escape (which could
/// spell one). Keys are looked up exactly, so a record without them yields no tenant.
pub fn may_name_tenant(text: &[u8]) -> bool {
    use memchr::memmem::Finder;
    static FINDERS: std::sync::OnceLock<Vec<Finder<'static>>> = std::sync::OnceLock::new();
    let finders = FINDERS.get_or_init(|| {
        TENANT_KEY_PIECES
            .iter()
            .chain(&["\\u"])
            .map(|p| Finder::new(p.as_bytes()))
            .collect()
    });
    finders.iter().any(|f| f.find(text).is_some())
}

/// Where a tenant id may be read from a resource path.
const RESOURCE_IDS: &[Path] = &[&["resourceId"], &["ResourceId"], &["_ResourceId"]];

/// Reads the time (present but unparseable is an error) and the tenant into `c`.
fn time_and_tenant(
    kind: LogKind,
    doc: &Value,
    skip_workspace: bool,
    c: &mut Canonical,
) -> Result<(), String> {
    let p = paths_of(kind);
    // Time: present but unparseable is an error.
    for path in p.time {
        if let Some(v) = get(doc, path) {
            if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
                continue;
            }
            match parse_time_value(v) {
                Some(t) => c.time = Some(t),
                None => {
                    return Err(format!(
                        "unparseable timestamp {} in field {}",
                        truncate(&v.to_string(), 60),
                        path.join(".")
                    ));
                }
            }
            break;
        }
    }
    let tenant = if skip_workspace {
        p.tenant
            .iter()
            .filter(|path| **path != ["TenantId"])
            .find_map(|path| get(doc, path).and_then(text))
    } else {
        first(doc, p.tenant)
    };
    if let Some(t) = tenant {
        c.tenant_id = Some(t.to_ascii_lowercase());
        c.tenant_source = TenantSource::Record;
    } else if let Some(t) = first(doc, RESOURCE_IDS).and_then(|r| tenant_from_path(&r)) {
        c.tenant_id = Some(t);
        c.tenant_source = TenantSource::Path;
    }
    Ok(())
}

fn canonical_with(kind: LogKind, doc: &Value, skip_workspace: bool) -> Result<Canonical, String> {
    let p = paths_of(kind);
    let mut c = Canonical::default();
    time_and_tenant(kind, doc, skip_workspace, &mut c)?;
    c.user = first(doc, p.user);
    c.app_id = first(doc, p.app_id).map(|s| s.to_ascii_lowercase());
    c.service_principal_id = first(doc, p.sp_id).map(|s| s.to_ascii_lowercase());
    if kind == LogKind::Ual {
        roles::ual_actor(doc, &mut c);
    }
    c.home_tenant_id = first(doc, p.home_tenant).map(|s| s.to_ascii_lowercase());
    c.ip = first(doc, p.ip)
        .map(|s| clean_ip(&s))
        .filter(|s| !s.is_empty());
    c.user_agent = first(doc, p.user_agent);
    if kind == LogKind::DirectoryAudit && c.user_agent.is_none() {
        c.user_agent = user_agent_from_details(doc);
    }
    c.operation_raw = if kind == LogKind::GraphActivity {
        let m = first(doc, &[&["properties", "requestMethod"], &["RequestMethod"]]);
        let u = first(doc, &[&["properties", "requestUri"], &["RequestUri"]]);
        match (m, u) {
            (Some(m), Some(u)) => Some(format!("{m} {u}")),
            (m, u) => m.or(u),
        }
    } else {
        paths_of(kind).operation.iter().find_map(|path| {
            get(doc, path).and_then(|v| v.as_str().map(str::to_string).or_else(|| text(v)))
        })
    };
    c.operation = c
        .operation_raw
        .as_deref()
        .map(clean_operation)
        .filter(|s| !s.is_empty());
    if c.operation.is_none() && kind == LogKind::Signin {
        // Graph sign-in resources name no operation; Azure Monitor calls them "Sign-in activity".
        c.operation = Some("Sign-in activity".to_string());
    }
    c.result = outcome(kind, doc);
    let mut targets: Vec<String> = Vec::new();
    let mut found = Vec::new();
    for path in p.targets {
        found.clear();
        collect(doc, path, &mut found);
        for v in &found {
            if let Some(t) = text(v)
                && !targets.contains(&t)
                && targets.len() < 64
            {
                targets.push(t);
            }
        }
    }
    c.targets = targets;
    if matches!(kind, LogKind::Ual | LogKind::DirectoryAudit) {
        roles::recipient_first(doc, &mut c);
    }
    Ok(c)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n).collect();
        format!("{t}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_kinds_with_a_home_tenant_are_those_whose_records_name_one() {
        // Records of each kind with the actor's home tenant where the kind spells it.
        let docs = [
            (
                Format::UalMgmtApiJson,
                json!({"ActorContextId": "HOME", "OrganizationId": "t"}),
            ),
            (
                Format::SigninGraphJson,
                json!({"homeTenantId": "HOME", "resourceTenantId": "t"}),
            ),
        ];
        let kinds = kinds_with_home_tenant();
        for (format, doc) in docs {
            assert!(kinds.contains(&format.log_kind()), "{format:?}");
            let c = canonical_of(format, &doc).unwrap();
            assert_eq!(c.home_tenant_id.as_deref(), Some("home"), "{format:?}");
        }
        for kind in [LogKind::TenantConfig, LogKind::Generic, LogKind::Other] {
            assert!(!kinds.contains(&kind), "{kind:?}");
        }
    }

    /// Every key a tenant may be read from holds one of the pieces the cheap test looks for; a
    /// key spelled with a `\u` escape is not ruled out either.
    #[test]
    fn every_tenant_key_is_seen_by_the_cheap_test() {
        let keys = tenant_keys();
        assert!(keys.contains(&"OrganizationId") && keys.contains(&"_ResourceId"));
        for k in keys {
            assert!(TENANT_KEY_PIECES.iter().any(|p| k.contains(p)), "{k}");
            assert!(
                may_name_tenant(format!("{{\"{k}\":\"x\"}}").as_bytes()),
                "{k}"
            );
        }
        assert!(may_name_tenant(br#"{"\u0054enantId":"x"}"#));
        assert!(!may_name_tenant(
            br#"{"id":"x","activityDateTime":"2024-01-01T00:00:00Z"}"#
        ));
    }

    #[test]
    fn ips() {
        assert_eq!(clean_ip("1.2.3.4:5678"), "1.2.3.4");
        assert_eq!(clean_ip("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(clean_ip("2001:db8::1"), "2001:db8::1");
        assert_eq!(clean_ip(" 10.0.0.1 "), "10.0.0.1");
    }

    #[test]
    fn operations() {
        assert_eq!(
            clean_operation("Add service principal credentials."),
            "Add service principal credentials"
        );
        assert_eq!(
            clean_operation("Update application – Certificates and secrets management "),
            "Update application – Certificates and secrets management"
        );
    }

    #[test]
    fn purview_audit_data() {
        let raw = json!({"CreationDate":"4/28/2021 3:05:26 PM","AuditData":"{\"CreationTime\":\"2021-04-28T15:05:26\",\"Operation\":\"MailItemsAccessed\",\"OrganizationId\":\"AB\",\"ClientIPAddress\":\"1.2.3.4:55\",\"ResultStatus\":\"Succeeded\"}"});
        let (doc, c) = normalize(Format::UalPurviewCsv, raw).unwrap();
        assert_eq!(doc["Operation"], "MailItemsAccessed");
        assert_eq!(c.tenant_id.as_deref(), Some("ab"));
        assert_eq!(c.ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(c.time.unwrap().to_string(), "2021-04-28T15:05:26.000Z");
        assert_eq!(c.result.unwrap().success, Some(true));
    }

    #[test]
    fn bad_time_is_an_error() {
        let raw = json!({"CreationTime":"yesterday","Operation":"X","RecordType":1});
        let e = normalize(Format::UalMgmtApiJson, raw).unwrap_err();
        assert!(e.contains("unparseable timestamp"), "{e}");
    }

    #[test]
    fn tenant_from_resource_id() {
        assert_eq!(
            tenant_from_path(
                "/tenants/4A5B6C7D-0000-0000-0000-000000000001/providers/Microsoft.aadiam"
            )
            .as_deref(),
            Some("4a5b6c7d-0000-0000-0000-000000000001")
        );
    }
}
