//! Sign-ins exported from Log Analytics by a query whose projection leaves out the tenant columns
//! (`TenantId`, the workspace; `AADTenantId`, `ResourceTenantId`, `ResourceId`, the directory):
//! one CSV per table (`SigninLogs`, `AADNonInteractiveUserSignInLogs`,
//! `AADServicePrincipalSignInLogs`), "Export to CSV" style — a UTF-8 BOM, ` [UTC]` on time
//! columns, US-locale timestamps, `TRUE`/`FALSE`, dynamic columns (`Status`, `DeviceDetail`,
//! `LocationDetails`) as JSON in quoted cells. `HomeTenantId` stays: it names the signing-in
//! identity's home, not the tenant the record belongs to. No row names its tenant.
//!
//! Each row is the Graph sign-in object of [`crate::writers::signin_graph`], read back and laid
//! out in the tables' column names, so both exports carry the same values.

use serde_json::Value;

use crate::story::{Act, ActKind, SigninKind};
use crate::writers::Ctx;
use crate::writers::csv::next;
use crate::writers::json::{TimeStyle, time};
use crate::writers::signin_graph::object;

/// Header of the user sign-in tables (`SigninLogs`, `AADNonInteractiveUserSignInLogs`).
pub const HEADER_USER: &str = "TimeGenerated [UTC],OperationName,Category,ResultType,ResultDescription,CorrelationId,Identity,Level,Location,AppDisplayName,AppId,AuthenticationRequirement,AutonomousSystemNumber,ClientAppUsed,ConditionalAccessStatus,CreatedDateTime [UTC],CrossTenantAccessType,DeviceDetail,HomeTenantId,Id,IncomingTokenType,IPAddress,IsInteractive,LocationDetails,OriginalRequestId,ResourceDisplayName,ResourceIdentity,SessionId,SignInIdentifier,SignInIdentifierType,Status,TokenIssuerType,UniqueTokenIdentifier,UserAgent,UserDisplayName,UserId,UserPrincipalName,UserType,Type";

/// Header of `AADServicePrincipalSignInLogs`.
pub const HEADER_SP: &str = "TimeGenerated [UTC],OperationName,Category,ResultType,ResultDescription,CorrelationId,Identity,Level,Location,AppId,ClientCredentialType,ConditionalAccessStatus,Id,IPAddress,LocationDetails,ResourceDisplayName,ResourceIdentity,ServicePrincipalCredentialKeyId,ServicePrincipalCredentialThumbprint,ServicePrincipalId,ServicePrincipalName,UniqueTokenIdentifier,Type";

/// Where a column's value comes from.
enum Col {
    /// The activity's time, US locale.
    Time,
    /// A fixed text.
    Fixed(&'static str),
    /// The table's category or name.
    Category,
    /// The table name.
    Table,
    /// A member of the Graph object (text as is, numbers and objects as JSON, booleans upper case).
    Field(&'static str),
    /// The error code of `status`.
    ErrorCode,
    /// The failure reason of `status`.
    FailureReason,
    /// The user's or the application's name.
    Identity,
    /// The country of `location`.
    Country,
    /// `userType` as the tables write it (`Member`).
    UserType,
}

const USER: &[Col] = &[
    Col::Time,
    Col::Fixed("Sign-in activity"),
    Col::Category,
    Col::ErrorCode,
    Col::FailureReason,
    Col::Field("correlationId"),
    Col::Identity,
    Col::Fixed("4"),
    Col::Country,
    Col::Field("appDisplayName"),
    Col::Field("appId"),
    Col::Field("authenticationRequirement"),
    Col::Field("autonomousSystemNumber"),
    Col::Field("clientAppUsed"),
    Col::Field("conditionalAccessStatus"),
    Col::Time,
    Col::Field("crossTenantAccessType"),
    Col::Field("deviceDetail"),
    Col::Field("homeTenantId"),
    Col::Field("id"),
    Col::Field("incomingTokenType"),
    Col::Field("ipAddress"),
    Col::Field("isInteractive"),
    Col::Field("location"),
    Col::Field("originalRequestId"),
    Col::Field("resourceDisplayName"),
    Col::Field("resourceId"),
    Col::Field("sessionId"),
    Col::Field("signInIdentifier"),
    Col::Field("signInIdentifierType"),
    Col::Field("status"),
    Col::Field("tokenIssuerType"),
    Col::Field("uniqueTokenIdentifier"),
    Col::Field("userAgent"),
    Col::Field("userDisplayName"),
    Col::Field("userId"),
    Col::Field("userPrincipalName"),
    Col::UserType,
    Col::Table,
];

const SP: &[Col] = &[
    Col::Time,
    Col::Fixed("Sign-in activity"),
    Col::Category,
    Col::ErrorCode,
    Col::FailureReason,
    Col::Field("correlationId"),
    Col::Identity,
    Col::Fixed("4"),
    Col::Country,
    Col::Field("appId"),
    Col::Field("clientCredentialType"),
    Col::Field("conditionalAccessStatus"),
    Col::Field("id"),
    Col::Field("ipAddress"),
    Col::Field("location"),
    Col::Field("resourceDisplayName"),
    Col::Field("resourceId"),
    Col::Field("servicePrincipalCredentialKeyId"),
    Col::Field("servicePrincipalCredentialThumbprint"),
    Col::Field("servicePrincipalId"),
    Col::Field("servicePrincipalName"),
    Col::Field("uniqueTokenIdentifier"),
    Col::Table,
];

/// Appends the text of a JSON value as the export writes it in a cell.
fn value_text(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => {}
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bool(true) => out.extend_from_slice(b"TRUE"),
        Value::Bool(false) => out.extend_from_slice(b"FALSE"),
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// Writes one CSV row (no line end) of the table the sign-in belongs to; `aux` is scratch.
pub fn row(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>, aux: &mut Vec<u8>) {
    let ActKind::SignIn(s) = &a.kind else { return };
    aux.clear();
    object(c, a, s, aux);
    let Ok(g) = serde_json::from_slice::<Value>(aux) else {
        return;
    };
    let (category, table, cols) = match s.kind {
        SigninKind::Interactive => ("SignInLogs", "SigninLogs", USER),
        SigninKind::NonInteractive => (
            "NonInteractiveUserSignInLogs",
            "AADNonInteractiveUserSignInLogs",
            USER,
        ),
        SigninKind::ServicePrincipal => (
            "ServicePrincipalSignInLogs",
            "AADServicePrincipalSignInLogs",
            SP,
        ),
    };
    let status = &g["status"];
    let mut first = true;
    let mut cell = Vec::with_capacity(256);
    for col in cols {
        cell.clear();
        match col {
            Col::Time => time(&mut cell, a.t, TimeStyle::UsMillis, 0),
            Col::Fixed(v) => cell.extend_from_slice(v.as_bytes()),
            Col::Category => cell.extend_from_slice(category.as_bytes()),
            Col::Table => cell.extend_from_slice(table.as_bytes()),
            Col::Field(k) => value_text(&g[*k], &mut cell),
            Col::ErrorCode => value_text(&status["errorCode"], &mut cell),
            Col::FailureReason => value_text(&status["failureReason"], &mut cell),
            Col::Identity => {
                let name = g["userDisplayName"]
                    .as_str()
                    .or(g["servicePrincipalName"].as_str())
                    .unwrap_or("");
                cell.extend_from_slice(name.as_bytes());
            }
            Col::Country => value_text(&g["location"]["countryOrRegion"], &mut cell),
            Col::UserType => {
                if g["userType"] == "member" {
                    cell.extend_from_slice(b"Member");
                }
            }
        }
        next(b, &mut first, &cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_have_a_column_per_value() {
        assert_eq!(HEADER_USER.split(',').count(), USER.len());
        assert_eq!(HEADER_SP.split(',').count(), SP.len());
        for h in [HEADER_USER, HEADER_SP] {
            assert!(h.starts_with("TimeGenerated [UTC],") && h.ends_with(",Type"));
            for tenant_column in ["TenantId", "AADTenantId", "ResourceTenantId", "ResourceId"] {
                assert!(!h.split(',').any(|c| c == tenant_column), "{tenant_column}");
            }
        }
    }
}
