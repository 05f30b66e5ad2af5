//! # tw-audit
//!
//! Tenant configuration snapshots → **doors**: every path by which a third party can reach a
//! Microsoft 365 / Entra ID tenant, and with what power. A snapshot is a folder of Microsoft Graph
//! JSON dumps (servicePrincipals, applications, oauth2PermissionGrants, appRoleAssignments,
//! directory role assignments and definitions, domains and their federationConfiguration,
//! cross-tenant access partners, delegatedAdminRelationships with accessAssignments, contracts,
//! organization), Exchange Online PowerShell exports (`Get-InboxRule`, `Get-MailboxPermission`,
//! `Get-Mailbox`, `Get-ManagementRoleAssignment`) and ScubaGear results. Files are recognised by
//! content.
//!
//! Flow: [`load`] (files → typed objects, malformed ones reported with file and index) →
//! checks ([`partners`], [`apps`], [`federation`], [`exchange`]) → ranked [`Door`]s, with
//! [`coverage`] saying which checks could not run → [`render`] (table, Markdown, JSON) and
//! [`compare`] (doors added and removed since an earlier snapshot). [`tables`] holds the
//! permissions table (app-role and scope GUIDs → names → plain power → risk).
//!
//! The crate knows nothing about logs: sign-in "last use" figures come in through [`Options`].
//!
//! ```
//! use tw_audit::{audit, Options, Risk};
//!
//! let dir = std::env::temp_dir().join(format!("tw-audit-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("org.json"), r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#organization","value":[{"id":"11111111-1111-1111-1111-111111111111","verifiedDomains":[]}]}"#).unwrap();
//! std::fs::write(dir.join("contracts.json"), r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#contracts","value":[{"id":"c1","contractType":"ResellerPartner","customerId":"22222222-2222-2222-2222-222222222222","defaultDomainName":"contoso.onmicrosoft.com","displayName":"Contoso"}]}"#).unwrap();
//! let report = audit(&[dir.clone()], &Options::default());
//! let door = &report.doors[0];
//! assert_eq!(door.risk, Risk::Critical);
//! assert!(door.reason.contains("Global Administrator via DAP"));
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

pub mod apps;
pub mod bounded;
pub mod compare;
pub mod coverage;
pub mod ctx;
pub mod door;
pub mod exchange;
pub mod federation;
pub mod json;
pub mod load;
pub mod model;
pub mod partners;
pub mod render;
pub mod report;
pub mod scuba;
pub mod tables;
pub mod x509;

pub use compare::{Comparison, compare as compare_doors, doors_from_report};
pub use ctx::Options;
pub use door::{Door, Kind, Risk};
pub use report::{Report, audit, audit_snapshots};
