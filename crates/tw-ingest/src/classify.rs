//! Deciding what a record or a CSV header is, from content alone.
//!
//! JSON records are classified one by one (Azure Monitor and Event Hub captures mix categories in one
//! file); CSV files are classified once, from their header.

use serde_json::{Map, Value};
use tw_event::Format;

/// Top-level keys whose presence the classifier tests.
pub const CLASSIFY_KEYS: &[&str] = &[
    "category",
    "Category",
    "time",
    "properties",
    "resourceId",
    "operationName",
    "Type",
    "$table",
    "CreationTime",
    "Operation",
    "RecordType",
    "Workload",
    "AuditData",
    "CreationDate",
    "Operations",
    "eventTimestamp",
    "activityDateTime",
    "activityDisplayName",
    "riskEventType",
    "detectedDateTime",
    "createdDateTime",
    "appId",
    "appDisplayName",
    "userPrincipalName",
    "servicePrincipalId",
    "ipAddress",
    "Timestamp",
    "ActionType",
    "DeviceId",
    "ReportId",
    "ReportId_long",
    "MetaData",
    "Results",
    "Raw",
    "Summary",
    "OfficeWorkload",
    "UserId",
    "InitiatedBy",
    "TargetResources",
    "OperationName",
    "ActivityDisplayName",
    "RequestUri",
    "RequestMethod",
    "ResponseStatusCode",
    "RiskEventType",
    "DetectedDateTime",
    "ActivityDateTime",
    "RiskLevel",
    "AppId",
    "AppDisplayName",
    "ServicePrincipalId",
    "IPAddress",
    "IpAddress",
    "ResultType",
    "UserPrincipalName",
    "ConditionalAccessStatus",
    "IsInteractive",
    "ServicePrincipalName",
    "OperationNameValue",
    "Caller",
    "CallerIpAddress",
    "ActivityStatusValue",
    "ActivityStatus",
    "ResourceProviderValue",
    "ResourceProvider",
    "DeviceVendor",
    "DeviceProduct",
    "DeviceEventClassID",
    "Activity",
    "EventID",
    "Computer",
    "EventLog",
    "Channel",
    "EventSourceName",
];

/// Top-level keys whose value the classifier reads.
pub const CLASSIFY_VALUE_KEYS: &[&str] = &[
    "category",
    "Category",
    "Type",
    "$table",
    "operationName",
    "AuditData",
];

fn has(o: &Map<String, Value>, k: &str) -> bool {
    o.contains_key(k)
}

fn str_of<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

/// Azure Monitor diagnostic categories → format.
pub fn azure_monitor_category(category: &str) -> Option<Format> {
    let c = category.to_ascii_lowercase();
    Some(match c.as_str() {
        "signinlogs"
        | "noninteractiveusersigninlogs"
        | "serviceprincipalsigninlogs"
        | "managedidentitysigninlogs"
        | "adfssigninlogs" => Format::SigninAzureMonitor,
        "auditlogs" => Format::DirectoryAuditAzureMonitor,
        "microsoftgraphactivitylogs" => Format::GraphActivityAzureMonitor,
        "userriskevents"
        | "serviceprincipalriskevents"
        | "riskyusers"
        | "riskyserviceprincipals" => Format::RiskAzureMonitor,
        c if ACTIVITY_CATEGORIES.contains(&c) => Format::AzureActivityAzureMonitor,
        _ => return None,
    })
}

/// The Azure Monitor categories of the Azure activity log (lowercase).
const ACTIVITY_CATEGORIES: &[&str] = &[
    "administrative",
    "security",
    "servicehealth",
    "alert",
    "recommendation",
    "policy",
    "autoscale",
    "resourcehealth",
    "write",
    "delete",
    "action",
];

/// The `category` values (lowercase) that make a JSON record of log kind `kind` when none of
/// [`kind_signature`]'s alternatives is in its text: the Azure Monitor categories of the kind
/// that no signature word stands for (a record so classified has a `category` key holding one).
pub fn kind_categories(kind: tw_event::LogKind) -> &'static [&'static str] {
    match kind {
        tw_event::LogKind::AzureActivity => ACTIVITY_CATEGORIES,
        _ => &[],
    }
}

/// Log Analytics table names (`Type` / `$table`) → format, for JSON rows.
pub fn log_analytics_table(table: &str, csv: bool) -> Option<Format> {
    let pick = |c: Format, j: Format| if csv { c } else { j };
    Some(match table {
        "OfficeActivity" => pick(Format::UalLogAnalyticsCsv, Format::UalLogAnalyticsJson),
        "SigninLogs"
        | "AADNonInteractiveUserSignInLogs"
        | "AADServicePrincipalSignInLogs"
        | "AADManagedIdentitySignInLogs" => pick(
            Format::SigninLogAnalyticsCsv,
            Format::SigninLogAnalyticsJson,
        ),
        "AuditLogs" => pick(
            Format::DirectoryAuditLogAnalyticsCsv,
            Format::DirectoryAuditLogAnalyticsJson,
        ),
        "AzureActivity" => pick(
            Format::AzureActivityLogAnalyticsCsv,
            Format::AzureActivityLogAnalyticsJson,
        ),
        "MicrosoftGraphActivityLogs" => pick(
            Format::GraphActivityLogAnalyticsCsv,
            Format::GraphActivityLogAnalyticsJson,
        ),
        "AADUserRiskEvents"
        | "AADServicePrincipalRiskEvents"
        | "AADRiskyUsers"
        | "AADRiskyServicePrincipals" => {
            pick(Format::RiskLogAnalyticsCsv, Format::RiskLogAnalyticsJson)
        }
        "SecurityEvent" | "Event" | "WindowsEvent" if !csv => Format::WindowsLogAnalyticsJson,
        "CommonSecurityLog" if csv => Format::CefLogAnalyticsCsv,
        _ => return None,
    })
}

/// What the text of any JSON record that [`classify_json`] finds to be of log kind `kind`
/// holds, unless it has a `category` key holding one of [`kind_categories`]: one of these
/// alternatives, each a list of words (lowercase) all present. For each way
/// the classifier reaches the kind: a category or table name it requires, or top-level keys it
/// requires, quoted (`"ipaddress"` is the key `ipAddress`, not `callerIpAddress`). `None` for
/// kinds without such words. (Records classified through a file's fallback format are not
/// covered: see `RawRecord::falls_back`.)
pub fn kind_signature(kind: tw_event::LogKind) -> Option<&'static [&'static [&'static str]]> {
    use tw_event::LogKind as K;
    // Log Analytics sign-in columns: ResultType and IPAddress (and one of four more, not
    // looked for: the fewer the words, the faster the search; see `classify_columns`).
    Some(match kind {
        K::Signin => &[
            &["signinlogs"],
            &["\"createddatetime\""],
            &["\"resulttype\"", "\"ipaddress\""],
        ],
        K::DirectoryAudit => &[
            &["auditlogs"],
            &["\"targetresources\""],
            &["\"activitydisplayname\""],
        ],
        K::GraphActivity => &[&["microsoftgraphactivitylogs"], &["\"requesturi\""]],
        K::RiskDetection => &[
            &["riskevents"],
            &["riskyusers"],
            &["riskyserviceprincipals"],
            &["\"riskeventtype\""],
        ],
        // Azure Monitor's categories: see `kind_categories`.
        K::AzureActivity => &[
            &["azureactivity"],
            &["\"operationnamevalue\""],
            &["\"caller\""],
            &["\"eventtimestamp\""],
        ],
        K::Ual => &[
            &["officeactivity"],
            &["\"officeworkload\""],
            &["\"creationtime\""],
            &["\"auditdata\""],
        ],
        _ => return None,
    })
}

/// Classifies one JSON record. `None`: not a record of any known log.
pub fn classify_json(v: &Value) -> Option<Format> {
    let o = v.as_object()?;
    // Azure Monitor diagnostic settings export / Event Hub capture: per-record category.
    if let Some(cat) = str_of(o, "category").or_else(|| str_of(o, "Category"))
        && (has(o, "time") || has(o, "properties") || has(o, "resourceId"))
        && has(o, "operationName")
        && let Some(f) = azure_monitor_category(cat)
    {
        // The REST API's activity log also has `category` (an object) — excluded by str_of.
        return Some(f);
    }
    // Log Analytics rows carry their table name; a query may have dropped or overwritten it.
    if let Some(t) = str_of(o, "Type").or_else(|| str_of(o, "$table"))
        && let Some(f) = log_analytics_table(t, false)
    {
        return Some(f);
    }
    if let Some(f) = classify_columns(&|k| o.contains_key(k), false) {
        return Some(f);
    }
    // Management Activity API / AuditData records.
    if has(o, "CreationTime") && has(o, "Operation") && (has(o, "RecordType") || has(o, "Workload"))
    {
        return Some(Format::UalMgmtApiJson);
    }
    // Search-UnifiedAuditLog objects.
    if has(o, "AuditData")
        && (has(o, "CreationDate") || has(o, "Operations") || has(o, "RecordType"))
    {
        return Some(Format::UalSearchJson);
    }
    // Azure activity log via the REST API.
    if has(o, "eventTimestamp") && o.get("operationName").is_some_and(Value::is_object) {
        return Some(Format::AzureActivityRestJson);
    }
    // Graph resources.
    if has(o, "activityDateTime") && has(o, "activityDisplayName") {
        return Some(Format::DirectoryAuditGraphJson);
    }
    if has(o, "riskEventType") && (has(o, "detectedDateTime") || has(o, "activityDateTime")) {
        return Some(Format::RiskGraphJson);
    }
    if has(o, "createdDateTime")
        && (has(o, "appId") || has(o, "appDisplayName"))
        && (has(o, "userPrincipalName") || has(o, "servicePrincipalId") || has(o, "ipAddress"))
    {
        return Some(Format::SigninGraphJson);
    }
    // Microsoft 365 Defender advanced hunting.
    if has(o, "Timestamp")
        && has(o, "ActionType")
        && (has(o, "DeviceId") || has(o, "ReportId") || has(o, "ReportId_long"))
    {
        return Some(Format::DefenderJson);
    }
    // ScubaGear results.
    if has(o, "MetaData") && has(o, "Results") && (has(o, "Raw") || has(o, "Summary")) {
        return Some(Format::ScubaGearJson);
    }
    None
}

/// Strips what Log Analytics adds to exported column names (`TimeGenerated [UTC]`).
pub fn clean_header(h: &str) -> String {
    let h = h.trim_start_matches('\u{feff}').trim();
    h.strip_suffix(" [UTC]").unwrap_or(h).to_string()
}

/// Classifies a row of a Log Analytics table from its column names (a query may drop or overwrite
/// `Type`). `csv`: the row came from a CSV export.
pub fn classify_columns(has: &dyn Fn(&str) -> bool, csv: bool) -> Option<Format> {
    let pick = |c: Format, j: Format| Some(if csv { c } else { j });
    if has("OfficeWorkload") && has("Operation") && (has("RecordType") || has("UserId")) {
        return pick(Format::UalLogAnalyticsCsv, Format::UalLogAnalyticsJson);
    }
    if has("InitiatedBy")
        && has("TargetResources")
        && (has("OperationName") || has("ActivityDisplayName"))
    {
        return pick(
            Format::DirectoryAuditLogAnalyticsCsv,
            Format::DirectoryAuditLogAnalyticsJson,
        );
    }
    if has("RequestUri") && has("RequestMethod") && has("ResponseStatusCode") {
        return pick(
            Format::GraphActivityLogAnalyticsCsv,
            Format::GraphActivityLogAnalyticsJson,
        );
    }
    if has("RiskEventType")
        && (has("DetectedDateTime") || has("ActivityDateTime") || has("RiskLevel"))
    {
        return pick(Format::RiskLogAnalyticsCsv, Format::RiskLogAnalyticsJson);
    }
    if (has("AppId") || has("AppDisplayName") || has("ServicePrincipalId"))
        && (has("IPAddress") || has("IpAddress"))
        && has("ResultType")
        && (has("UserPrincipalName")
            || has("ConditionalAccessStatus")
            || has("IsInteractive")
            || has("ServicePrincipalName"))
    {
        return pick(
            Format::SigninLogAnalyticsCsv,
            Format::SigninLogAnalyticsJson,
        );
    }
    if (has("OperationNameValue") || (has("Caller") && has("CallerIpAddress")))
        && (has("ActivityStatusValue")
            || has("ActivityStatus")
            || has("ResourceProviderValue")
            || has("ResourceProvider"))
    {
        return pick(
            Format::AzureActivityLogAnalyticsCsv,
            Format::AzureActivityLogAnalyticsJson,
        );
    }
    if csv
        && has("DeviceVendor")
        && has("DeviceProduct")
        && (has("DeviceEventClassID") || has("Activity"))
    {
        return Some(Format::CefLogAnalyticsCsv);
    }
    if !csv
        && has("EventID")
        && has("Computer")
        && (has("EventLog") || has("Channel") || has("EventSourceName"))
    {
        return Some(Format::WindowsLogAnalyticsJson);
    }
    None
}

/// Classifies a CSV file from its (cleaned) header and, where it has one, the first row's table name.
/// The Entra admin center's sign-in download: its date, request and address columns, and the
/// application (user sign-ins; `Application ID ` with its trailing space as the portal writes it)
/// or the service principal (application sign-ins).
fn is_portal_signin_header(has: &dyn Fn(&str) -> bool) -> bool {
    has("Date (UTC)")
        && has("Request ID")
        && has("IP address")
        && (has("Application ID ") || has("Application ID") || has("Service principal ID"))
}

pub fn classify_csv(header: &[String], first_table: Option<&str>) -> Option<Format> {
    let has = |k: &str| header.iter().any(|h| h == k);
    if has("AuditData") && (has("CreationDate") || has("Operations") || has("Operation")) {
        return Some(Format::UalPurviewCsv);
    }
    if let Some(f) = classify_columns(&has, true) {
        return Some(f);
    }
    if is_portal_signin_header(&has) {
        return Some(Format::SigninPortalCsv);
    }
    if first_table
        .and_then(|t| log_analytics_table(t, true))
        .is_some()
    {
        // A known table name but none of its columns: a query result, not the raw log.
        return Some(Format::TableCsv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_records() {
        assert_eq!(
            classify_json(
                &json!({"CreationTime":"2020-12-14T03:12:44","Operation":"X","RecordType":8,"OrganizationId":"t"})
            ),
            Some(Format::UalMgmtApiJson)
        );
        assert_eq!(
            classify_json(
                &json!({"time":"x","operationName":"Sign-in activity","category":"ServicePrincipalSignInLogs","properties":{}})
            ),
            Some(Format::SigninAzureMonitor)
        );
        assert_eq!(
            classify_json(
                &json!({"time":"x","operationName":"MICROSOFT.X/WRITE","category":"Administrative","resourceId":"r"})
            ),
            Some(Format::AzureActivityAzureMonitor)
        );
        assert_eq!(
            classify_json(
                &json!({"eventTimestamp":"x","operationName":{"value":"a","localizedValue":"b"},"category":{"value":"Administrative"}})
            ),
            Some(Format::AzureActivityRestJson)
        );
        assert_eq!(
            classify_json(&json!({"Type":"AuditLogs"})),
            Some(Format::DirectoryAuditLogAnalyticsJson)
        );
        assert_eq!(
            classify_json(
                &json!({"id":"1","activityDateTime":"x","activityDisplayName":"Add user"})
            ),
            Some(Format::DirectoryAuditGraphJson)
        );
        assert_eq!(classify_json(&json!({"hello":"world"})), None);
        assert_eq!(classify_json(&json!([1, 2])), None);
    }
}
