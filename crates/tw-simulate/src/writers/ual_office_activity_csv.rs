//! The unified audit log as Microsoft Sentinel keeps it (`OfficeActivity`), exported from Log
//! Analytics by a query whose projection leaves out the tenant columns (`TenantId`, the
//! workspace; `OrganizationId`, `OfficeTenantId`, `TargetContextId`, `_ResourceId`): a UTF-8 BOM,
//! ` [UTC]` on the time column, US-locale timestamps, the table's column names (`OfficeWorkload`,
//! `OfficeId`, `OfficeObjectId`, `Client_IPAddress`, `Logon_Type`, `AADTarget`, ...), record and
//! user types by name, nested values as JSON in quoted cells. No row names its tenant;
//! `ActorContextId` stays (the actor's home organisation).
//!
//! Each row is the Management Activity API record of [`crate::writers::ual_mgmt_api`], read back
//! and laid out in the table's columns, so both exports carry the same values.

use serde_json::Value;

use crate::story::Act;
use crate::writers::Ctx;
use crate::writers::csv::next;
use crate::writers::json::{TimeStyle, time};
use crate::writers::ual_mgmt_api::{record, summary};

/// `OfficeActivity` columns of the projection and the `AuditData` member each one holds
/// (`""`: filled otherwise, see [`row`]).
const COLUMNS: &[(&str, &str)] = &[
    ("TimeGenerated [UTC]", ""),
    ("RecordType", ""),
    ("Operation", "Operation"),
    ("UserType", ""),
    ("UserKey", "UserKey"),
    ("OfficeWorkload", "Workload"),
    ("ResultStatus", "ResultStatus"),
    ("OfficeObjectId", "ObjectId"),
    ("UserId", "UserId"),
    ("ClientIP", "ClientIP"),
    ("UserAgent", "UserAgent"),
    ("ItemType", "ItemType"),
    ("EventSource", "EventSource"),
    ("Site_Url", "SiteUrl"),
    ("SourceRelativeUrl", "SourceRelativeUrl"),
    ("SourceFileName", "SourceFileName"),
    ("SourceFileExtension", "SourceFileExtension"),
    ("Parameters", "Parameters"),
    ("ExternalAccess", "ExternalAccess"),
    ("OriginatingServer", "OriginatingServer"),
    ("OrganizationName", "OrganizationName"),
    ("Logon_Type", "LogonType"),
    ("InternalLogonType", "InternalLogonType"),
    ("MailboxGuid", "MailboxGuid"),
    ("MailboxOwnerUPN", "MailboxOwnerUPN"),
    ("MailboxOwnerSid", "MailboxOwnerSid"),
    ("LogonUserSid", "LogonUserSid"),
    ("ClientInfoString", "ClientInfoString"),
    ("Client_IPAddress", "ClientIPAddress"),
    ("Folders", "Folders"),
    ("AffectedItems", "AffectedItems"),
    ("Item", "Item"),
    ("ModifiedProperties", "ModifiedProperties"),
    ("ExtendedProperties", "ExtendedProperties"),
    ("Actor", "Actor"),
    ("ActorContextId", "ActorContextId"),
    ("ActorIpAddress", "ActorIpAddress"),
    ("InterSystemsId", "InterSystemsId"),
    ("IntraSystemId", "IntraSystemId"),
    ("SupportTicketId", "SupportTicketId"),
    ("SourceSystem", ""),
    ("OfficeId", "Id"),
    (
        "AzureActiveDirectory_EventType",
        "AzureActiveDirectoryEventType",
    ),
    ("AADTarget", "Target"),
    ("OperationProperties", "OperationProperties"),
    ("ApplicationId", "ApplicationId"),
    ("AppId", "AppId"),
    ("ClientAppId", "ClientAppId"),
    ("Type", ""),
];

/// The header line.
pub const HEADER: &str = "TimeGenerated [UTC],RecordType,Operation,UserType,UserKey,OfficeWorkload,ResultStatus,OfficeObjectId,UserId,ClientIP,UserAgent,ItemType,EventSource,Site_Url,SourceRelativeUrl,SourceFileName,SourceFileExtension,Parameters,ExternalAccess,OriginatingServer,OrganizationName,Logon_Type,InternalLogonType,MailboxGuid,MailboxOwnerUPN,MailboxOwnerSid,LogonUserSid,ClientInfoString,Client_IPAddress,Folders,AffectedItems,Item,ModifiedProperties,ExtendedProperties,Actor,ActorContextId,ActorIpAddress,InterSystemsId,IntraSystemId,SupportTicketId,SourceSystem,OfficeId,AzureActiveDirectory_EventType,AADTarget,OperationProperties,ApplicationId,AppId,ClientAppId,Type";

/// The `UserType` name of a Management Activity API user type number.
fn user_type(v: &Value) -> &'static str {
    match v.as_u64() {
        Some(0) => "Regular",
        Some(1) => "Reserved",
        Some(2) => "Admin",
        Some(3) => "DcAdmin",
        Some(4) => "System",
        Some(5) => "Application",
        Some(6) => "ServicePrincipal",
        _ => "",
    }
}

/// Appends the text of a JSON value as the export writes it in a cell.
fn value_text(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => {}
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// Writes one CSV row (no line end); `aux` is scratch.
pub fn row(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>, aux: &mut Vec<u8>) {
    aux.clear();
    record(c, a, aux);
    let Ok(d) = serde_json::from_slice::<Value>(aux) else {
        return;
    };
    let record_type = summary(c, a).1;
    let mut first = true;
    let mut cell = Vec::with_capacity(256);
    for (column, member) in COLUMNS {
        cell.clear();
        match *column {
            "TimeGenerated [UTC]" => time(&mut cell, a.t, TimeStyle::UsMillis, 0),
            "RecordType" => cell.extend_from_slice(record_type.as_bytes()),
            "UserType" => cell.extend_from_slice(user_type(&d["UserType"]).as_bytes()),
            "SourceSystem" => cell.extend_from_slice(b"OfficeActivityManager"),
            "Type" => cell.extend_from_slice(b"OfficeActivity"),
            _ => value_text(&d[*member], &mut cell),
        }
        next(b, &mut first, &cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_every_column_in_order() {
        let names: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
        assert_eq!(HEADER.split(',').collect::<Vec<_>>(), names);
    }
}
