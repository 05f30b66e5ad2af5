//! Log-source routing: which log kinds a Sigma rule's `logsource` applies to. A rule only sees
//! events of its kinds; a rule whose log source names no kind tenantwatch reads is reported.

use tw_event::LogKind;
use tw_sigma::LogSource;

/// The log kinds a log source applies to; empty when it names none tenantwatch reads.
pub fn kinds_for(ls: &LogSource) -> Vec<LogKind> {
    let product = ls.product.as_deref().unwrap_or("").to_ascii_lowercase();
    let service = ls.service.as_deref().unwrap_or("").to_ascii_lowercase();
    match (product.as_str(), service.as_str()) {
        ("azure", "signinlogs" | "signin" | "signinlog") => vec![LogKind::Signin],
        ("azure", "auditlogs" | "auditlog") => vec![LogKind::DirectoryAudit],
        ("azure", "activitylogs" | "activitylog") => vec![LogKind::AzureActivity],
        ("azure", "riskdetection" | "identityprotection" | "pim") => vec![LogKind::RiskDetection],
        ("azure", "graphactivitylogs" | "microsoftgraphactivitylogs") => {
            vec![LogKind::GraphActivity]
        }
        (
            "m365",
            "audit" | "exchange" | "threat_management" | "threat_detection" | "sharepoint",
        ) => {
            vec![LogKind::Ual]
        }
        ("m365", "") => vec![LogKind::Ual],
        ("azure", "") => vec![
            LogKind::Signin,
            LogKind::DirectoryAudit,
            LogKind::AzureActivity,
            LogKind::RiskDetection,
            LogKind::GraphActivity,
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(p: &str, s: &str) -> LogSource {
        LogSource {
            product: Some(p.into()),
            service: Some(s.into()),
            ..Default::default()
        }
    }

    #[test]
    fn sigmahq_services() {
        assert_eq!(
            kinds_for(&ls("azure", "auditlogs")),
            vec![LogKind::DirectoryAudit]
        );
        assert_eq!(kinds_for(&ls("azure", "signinlogs")), vec![LogKind::Signin]);
        assert_eq!(
            kinds_for(&ls("azure", "activitylogs")),
            vec![LogKind::AzureActivity]
        );
        assert_eq!(
            kinds_for(&ls("azure", "riskdetection")),
            vec![LogKind::RiskDetection]
        );
        assert_eq!(
            kinds_for(&ls("m365", "threat_management")),
            vec![LogKind::Ual]
        );
        assert!(kinds_for(&ls("windows", "security")).is_empty());
    }
}
