#![no_main]
//! Arbitrary CSV bodies after the header of a real export (chosen by the first byte), through the
//! whole ingest path: Purview old and new headers, Log Analytics SigninLogs, AuditLogs, OfficeActivity.

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADERS: &[&str] = &[
    "CreationDate,UserIds,Operations,AuditData\r\n",
    "\u{feff}RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n",
    "\u{feff}TenantId,TimeGenerated [UTC],OperationName,ResultType,AppDisplayName,AppId,IPAddress,UserPrincipalName,ConditionalAccessStatus,DeviceDetail,Status\n",
    "TimeGenerated [UTC],OperationName,Category,Result,ActivityDisplayName,InitiatedBy,TargetResources,AADTenantId\n",
    "TenantId,TimeGenerated [UTC],Operation,OrganizationId,UserId,ClientIP,OfficeWorkload,RecordType,Parameters\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let mut bytes = HEADERS[pick as usize % HEADERS.len()].as_bytes().to_vec();
    bytes.extend_from_slice(body);
    common::read_all("case/export.csv", bytes);
});
