//! Log kinds (what a record is about) and physical formats (how an export shaped it).

use serde::Serialize;

/// What a record is about, whatever export carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// Microsoft 365 unified audit log (Exchange, SharePoint, Entra ID workloads, ...).
    Ual,
    /// Entra ID sign-ins: interactive, non-interactive, service principal, managed identity.
    Signin,
    /// Entra ID directory audit log.
    DirectoryAudit,
    /// Azure activity (control plane) log.
    AzureActivity,
    /// Microsoft Graph activity log.
    GraphActivity,
    /// Identity Protection risk detections (users and service principals).
    RiskDetection,
    /// Microsoft 365 Defender advanced hunting rows.
    M365Defender,
    /// Windows events forwarded to Log Analytics (`SecurityEvent`, `Event`, `WindowsEvent`).
    WindowsEvent,
    /// Common Event Format rows (`CommonSecurityLog`).
    Cef,
    /// A tenant configuration snapshot (not an event log).
    TenantConfig,
    /// A table that is no known log: a watchlist, a query result, a DNS export.
    Other,
    /// Any JSON read in generic mode (`--format-in json`).
    Generic,
}

impl LogKind {
    /// The stable name used in output (`ual`, `signin`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Ual => "ual",
            LogKind::Signin => "signin",
            LogKind::DirectoryAudit => "directory_audit",
            LogKind::AzureActivity => "azure_activity",
            LogKind::GraphActivity => "graph_activity",
            LogKind::RiskDetection => "risk_detection",
            LogKind::M365Defender => "m365_defender",
            LogKind::WindowsEvent => "windows_event",
            LogKind::Cef => "cef",
            LogKind::TenantConfig => "tenant_config",
            LogKind::Other => "other",
            LogKind::Generic => "generic",
        }
    }
}

/// How the record was exported. Names are `<log kind>.<shape>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Office 365 Management Activity API content blobs (JSON array or lines; `CreationTime` without zone).
    UalMgmtApiJson,
    /// `Search-UnifiedAuditLog` objects as JSON (`AuditData` as a JSON string).
    UalSearchJson,
    /// Purview audit search CSV export (old and new headers; `AuditData` as a JSON cell).
    UalPurviewCsv,
    /// Sentinel `OfficeActivity` exported from Log Analytics as CSV.
    UalLogAnalyticsCsv,
    /// Sentinel `OfficeActivity` as JSON (lines or array).
    UalLogAnalyticsJson,
    /// Graph `auditLogs/signIns` (v1.0 or beta).
    SigninGraphJson,
    /// Azure Monitor diagnostic export, sign-in categories.
    SigninAzureMonitor,
    /// Log Analytics `SigninLogs` / `AAD*SignInLogs` as CSV.
    SigninLogAnalyticsCsv,
    /// Log Analytics sign-in tables as JSON.
    SigninLogAnalyticsJson,
    /// The Entra admin center's sign-in download as CSV (`InteractiveSignIns_*.csv`,
    /// `NonInteractiveSignIns_*.csv`, `ServicePrincipalSignIns_*.csv`, …: `Date (UTC)`,
    /// `Request ID`, `Application ID `, `IP address`, … every cell quoted).
    SigninPortalCsv,
    /// Graph `auditLogs/directoryAudits`.
    DirectoryAuditGraphJson,
    /// Azure Monitor diagnostic export, `AuditLogs` category.
    DirectoryAuditAzureMonitor,
    /// Log Analytics `AuditLogs` as CSV.
    DirectoryAuditLogAnalyticsCsv,
    /// Log Analytics `AuditLogs` as JSON.
    DirectoryAuditLogAnalyticsJson,
    /// Azure activity log from the REST API (`operationName{value,localizedValue}`).
    AzureActivityRestJson,
    /// Azure activity log as a diagnostic / Event Hub export.
    AzureActivityAzureMonitor,
    /// Log Analytics `AzureActivity` as CSV.
    AzureActivityLogAnalyticsCsv,
    /// Log Analytics `AzureActivity` as JSON.
    AzureActivityLogAnalyticsJson,
    /// `MicrosoftGraphActivityLogs` diagnostic export.
    GraphActivityAzureMonitor,
    /// Log Analytics `MicrosoftGraphActivityLogs` as CSV.
    GraphActivityLogAnalyticsCsv,
    /// Log Analytics `MicrosoftGraphActivityLogs` as JSON.
    GraphActivityLogAnalyticsJson,
    /// Graph `identityProtection/riskDetections` / `servicePrincipalRiskDetections`.
    RiskGraphJson,
    /// Azure Monitor `UserRiskEvents` / `ServicePrincipalRiskEvents` / `RiskyUsers` categories.
    RiskAzureMonitor,
    /// Log Analytics `AADUserRiskEvents` / `AADServicePrincipalRiskEvents` as CSV.
    RiskLogAnalyticsCsv,
    /// Log Analytics risk tables as JSON.
    RiskLogAnalyticsJson,
    /// Microsoft 365 Defender advanced hunting rows as JSON.
    DefenderJson,
    /// Log Analytics `SecurityEvent` / `Event` rows as JSON.
    WindowsLogAnalyticsJson,
    /// Log Analytics `CommonSecurityLog` as CSV.
    CefLogAnalyticsCsv,
    /// ScubaGear assessment results (`ScubaResults_*.json`).
    ScubaGearJson,
    /// A CSV table that is no known log.
    TableCsv,
    /// Generic JSON (`--format-in json`).
    GenericJson,
}

impl Format {
    /// Every format, for listings.
    pub const ALL: [Format; 31] = [
        Format::UalMgmtApiJson,
        Format::UalSearchJson,
        Format::UalPurviewCsv,
        Format::UalLogAnalyticsCsv,
        Format::UalLogAnalyticsJson,
        Format::SigninGraphJson,
        Format::SigninAzureMonitor,
        Format::SigninLogAnalyticsCsv,
        Format::SigninLogAnalyticsJson,
        Format::SigninPortalCsv,
        Format::DirectoryAuditGraphJson,
        Format::DirectoryAuditAzureMonitor,
        Format::DirectoryAuditLogAnalyticsCsv,
        Format::DirectoryAuditLogAnalyticsJson,
        Format::AzureActivityRestJson,
        Format::AzureActivityAzureMonitor,
        Format::AzureActivityLogAnalyticsCsv,
        Format::AzureActivityLogAnalyticsJson,
        Format::GraphActivityAzureMonitor,
        Format::GraphActivityLogAnalyticsCsv,
        Format::GraphActivityLogAnalyticsJson,
        Format::RiskGraphJson,
        Format::RiskAzureMonitor,
        Format::RiskLogAnalyticsCsv,
        Format::RiskLogAnalyticsJson,
        Format::DefenderJson,
        Format::WindowsLogAnalyticsJson,
        Format::CefLogAnalyticsCsv,
        Format::ScubaGearJson,
        Format::TableCsv,
        Format::GenericJson,
    ];

    /// The stable name used in output and with `--format-in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::UalMgmtApiJson => "ual.mgmt_api_json",
            Format::UalSearchJson => "ual.search_ual_json",
            Format::UalPurviewCsv => "ual.purview_csv",
            Format::UalLogAnalyticsCsv => "ual.log_analytics_csv",
            Format::UalLogAnalyticsJson => "ual.log_analytics_json",
            Format::SigninGraphJson => "signin.graph_json",
            Format::SigninAzureMonitor => "signin.azure_monitor",
            Format::SigninLogAnalyticsCsv => "signin.log_analytics_csv",
            Format::SigninLogAnalyticsJson => "signin.log_analytics_json",
            Format::SigninPortalCsv => "signin.portal_csv",
            Format::DirectoryAuditGraphJson => "directory_audit.graph_json",
            Format::DirectoryAuditAzureMonitor => "directory_audit.azure_monitor",
            Format::DirectoryAuditLogAnalyticsCsv => "directory_audit.log_analytics_csv",
            Format::DirectoryAuditLogAnalyticsJson => "directory_audit.log_analytics_json",
            Format::AzureActivityRestJson => "azure_activity.rest_json",
            Format::AzureActivityAzureMonitor => "azure_activity.azure_monitor",
            Format::AzureActivityLogAnalyticsCsv => "azure_activity.log_analytics_csv",
            Format::AzureActivityLogAnalyticsJson => "azure_activity.log_analytics_json",
            Format::GraphActivityAzureMonitor => "graph_activity.azure_monitor",
            Format::GraphActivityLogAnalyticsCsv => "graph_activity.log_analytics_csv",
            Format::GraphActivityLogAnalyticsJson => "graph_activity.log_analytics_json",
            Format::RiskGraphJson => "risk_detection.graph_json",
            Format::RiskAzureMonitor => "risk_detection.azure_monitor",
            Format::RiskLogAnalyticsCsv => "risk_detection.log_analytics_csv",
            Format::RiskLogAnalyticsJson => "risk_detection.log_analytics_json",
            Format::DefenderJson => "m365_defender.advanced_hunting_json",
            Format::WindowsLogAnalyticsJson => "windows_event.log_analytics_json",
            Format::CefLogAnalyticsCsv => "cef.log_analytics_csv",
            Format::ScubaGearJson => "tenant_config.scubagear_json",
            Format::TableCsv => "other.table_csv",
            Format::GenericJson => "generic.json",
        }
    }

    /// The log kind every record of this format has.
    pub fn log_kind(self) -> LogKind {
        use Format::*;
        match self {
            UalMgmtApiJson | UalSearchJson | UalPurviewCsv | UalLogAnalyticsCsv
            | UalLogAnalyticsJson => LogKind::Ual,
            SigninGraphJson
            | SigninAzureMonitor
            | SigninLogAnalyticsCsv
            | SigninLogAnalyticsJson
            | SigninPortalCsv => LogKind::Signin,
            DirectoryAuditGraphJson
            | DirectoryAuditAzureMonitor
            | DirectoryAuditLogAnalyticsCsv
            | DirectoryAuditLogAnalyticsJson => LogKind::DirectoryAudit,
            AzureActivityRestJson
            | AzureActivityAzureMonitor
            | AzureActivityLogAnalyticsCsv
            | AzureActivityLogAnalyticsJson => LogKind::AzureActivity,
            GraphActivityAzureMonitor
            | GraphActivityLogAnalyticsCsv
            | GraphActivityLogAnalyticsJson => LogKind::GraphActivity,
            RiskGraphJson | RiskAzureMonitor | RiskLogAnalyticsCsv | RiskLogAnalyticsJson => {
                LogKind::RiskDetection
            }
            DefenderJson => LogKind::M365Defender,
            WindowsLogAnalyticsJson => LogKind::WindowsEvent,
            CefLogAnalyticsCsv => LogKind::Cef,
            ScubaGearJson => LogKind::TenantConfig,
            TableCsv => LogKind::Other,
            GenericJson => LogKind::Generic,
        }
    }

    /// Looks a format up by its stable name.
    pub fn from_name(name: &str) -> Option<Format> {
        if name == "json" {
            return Some(Format::GenericJson);
        }
        Format::ALL.iter().copied().find(|f| f.as_str() == name)
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
