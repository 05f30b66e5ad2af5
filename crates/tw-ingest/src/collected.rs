//! Files that `tenantwatch collect` writes beside the logs and that are no log: its record of the
//! collection (`collection.json`), its checkpoint, and the tenant configuration pages that
//! `tenantwatch audit` reads. Recognised by content (the first record), and listed as `skipped`
//! with what they are, so that reading a collected folder reports no unrecognised file.

use serde_json::Value;

/// What the file is, when its first record shows it is one of `collect`'s non-log files.
pub fn not_a_log(first: &Value) -> Option<&'static str> {
    let o = first.as_object()?;
    let has = |k: &str| o.contains_key(k);
    let tool = o.get("tool").and_then(Value::as_str).unwrap_or("");
    if tool.starts_with("tenantwatch") && has("sources") {
        return Some("the record of a collection by tenantwatch collect (collection.json)");
    }
    if tool.starts_with("tenantwatch") && has("checkpoint") {
        return Some("the checkpoint of tenantwatch collect");
    }
    let config = has("servicePrincipalType")
        || has("appOwnerOrganizationId")
        || has("verifiedDomains")
        || has("requiredResourceAccess")
        || (has("authenticationType") && has("isVerified"))
        || (has("appRoleId") && has("resourceId"))
        || (has("clientId") && has("consentType"))
        || (has("roleDefinitionId") && has("principalId"))
        || has("rolePermissions")
        || (has("customer") && has("accessDetails"))
        || has("accessContainer")
        || has("inboundTrust")
        || has("issuerUri");
    config.then_some("tenant configuration (read by tenantwatch audit), no log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_and_configuration_are_recognised_logs_are_not() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(
            not_a_log(&v(
                r#"{"tool":"tenantwatch 0.1.0","tenant":"x","sources":[]}"#
            ))
            .is_some()
        );
        assert!(not_a_log(&v(r#"{"tool":"tenantwatch 0.1.0","checkpoint":1}"#)).is_some());
        assert!(
            not_a_log(&v(
                r#"{"id":"1","appId":"a","servicePrincipalType":"Application"}"#
            ))
            .is_some()
        );
        assert!(
            not_a_log(&v(
                r#"{"id":"d","authenticationType":"Managed","isVerified":true}"#
            ))
            .is_some()
        );
        assert!(not_a_log(&v(r#"{"tool":"other","sources":[]}"#)).is_none());
        assert!(
            not_a_log(&v(
                r#"{"id":"1","createdDateTime":"2024-01-01T00:00:00Z","appId":"a"}"#
            ))
            .is_none()
        );
    }
}
