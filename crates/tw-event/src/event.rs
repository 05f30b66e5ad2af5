//! The normalized event: the raw document, what it is, where it came from, and canonical accessors.

use std::sync::Arc;

use serde::Serialize;

use crate::document::Document;
use crate::kind::{Format, LogKind};
use crate::time::Timestamp;

/// Where a record came from. `file` is the path as given (inside archives `archive.zip!inner/path`),
/// `record` the 0-based record index within that file, `line` the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Provenance {
    /// Path of the file (for archive members `archive.zip!inner/path`).
    pub file: Arc<str>,
    /// 0-based record index within the file.
    pub record: u64,
    /// 1-based line on which the record starts.
    pub line: u64,
}

/// How the tenant id of an event was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TenantSource {
    /// The record carries it (`OrganizationId`, `tenantId`, `resourceTenantId`, `TenantId`, ...).
    Record,
    /// A `/tenants/<id>/` segment of the record's resource id or of the file path.
    Path,
    /// The other records of the same export folder all name one tenant.
    Folder,
    /// The user's `--tenant-map` file.
    Map,
    /// Not decided.
    #[default]
    Unknown,
}

/// Success or failure of the recorded action, with the error code when the log gives one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Outcome {
    /// `Some(true)` succeeded, `Some(false)` failed, `None` not stated.
    pub success: Option<bool>,
    /// The error code or status as the log states it (`50126`, `Failed`, `403`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The canonical accessors, filled for every log kind where the data has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Canonical {
    /// When it happened (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// The resource tenant: the tenant acted upon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// How `tenant_id` was decided.
    pub tenant_source: TenantSource,
    /// The acting user (UPN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The acting application (client) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The acting service principal object id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal_id: Option<String>,
    /// The actor's home tenant; different from `tenant_id` for partner / cross-tenant access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_tenant_id: Option<String>,
    /// Client IP address, port and brackets stripped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Client user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The operation, trimmed of surrounding white space and a trailing full stop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The operation exactly as logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_raw: Option<String>,
    /// Success or failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Outcome>,
    /// Objects acted upon (ids, names, UPNs), in log order, without duplicates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

/// One log record, normalized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// What the record is about.
    #[serde(rename = "log")]
    pub kind: LogKind,
    /// How it was exported.
    pub format: Format,
    /// Where it came from.
    #[serde(rename = "source")]
    pub provenance: Provenance,
    /// Canonical fields.
    #[serde(flatten)]
    pub canonical: Canonical,
    /// The record (CSV rows with their embedded JSON cells decoded), parsed on first use.
    pub raw: Document,
}

impl Event {
    /// The raw document (parsed on first use).
    pub fn doc(&self) -> &serde_json::Value {
        self.raw.get()
    }

    /// Time of the event, if the record has one.
    pub fn time(&self) -> Option<Timestamp> {
        self.canonical.time
    }

    /// Resource tenant id, if decided.
    pub fn tenant_id(&self) -> Option<&str> {
        self.canonical.tenant_id.as_deref()
    }

    /// True when the actor's home tenant differs from the resource tenant.
    pub fn is_cross_tenant(&self) -> bool {
        match (&self.canonical.home_tenant_id, &self.canonical.tenant_id) {
            (Some(h), Some(t)) => !h.eq_ignore_ascii_case(t),
            _ => false,
        }
    }

    /// The tenant, when the actor's home tenant is known and is this one (an actor acting in
    /// their own tenant).
    pub fn own_tenant(&self) -> Option<&str> {
        match (&self.canonical.home_tenant_id, &self.canonical.tenant_id) {
            (Some(h), Some(t)) if h.eq_ignore_ascii_case(t) => Some(t),
            _ => None,
        }
    }
}
