//! The built-in rule pack: Sigma rules under `rules/` at the top of the repository, embedded in the
//! binary (origin `builtin`).
//!
//! [`BUILTIN`] lists every `rules/*.yml` in file name order; a unit test checks that it does.

use tw_event::Origin;

use crate::hunt::RuleSource;

/// (file name, YAML) of every built-in rule.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "tw_admin_consent.yml",
        include_str!("../../../rules/tw_admin_consent.yml"),
    ),
    (
        "tw_admin_role_added_audit.yml",
        include_str!("../../../rules/tw_admin_role_added_audit.yml"),
    ),
    (
        "tw_admin_role_added_ual.yml",
        include_str!("../../../rules/tw_admin_role_added_ual.yml"),
    ),
    (
        "tw_app_credential_then_sp_signin.yml",
        include_str!("../../../rules/tw_app_credential_then_sp_signin.yml"),
    ),
    (
        "tw_app_credential_then_sp_signin_failure.yml",
        include_str!("../../../rules/tw_app_credential_then_sp_signin_failure.yml"),
    ),
    (
        "tw_app_credential_then_sp_signin_failure_ual.yml",
        include_str!("../../../rules/tw_app_credential_then_sp_signin_failure_ual.yml"),
    ),
    (
        "tw_app_credential_then_sp_signin_ual.yml",
        include_str!("../../../rules/tw_app_credential_then_sp_signin_ual.yml"),
    ),
    (
        "tw_app_given_then_used.yml",
        include_str!("../../../rules/tw_app_given_then_used.yml"),
    ),
    (
        "tw_app_graph_first_seen_ip.yml",
        include_str!("../../../rules/tw_app_graph_first_seen_ip.yml"),
    ),
    (
        "tw_app_mail_access_first_seen_ip.yml",
        include_str!("../../../rules/tw_app_mail_access_first_seen_ip.yml"),
    ),
    (
        "tw_app_reads_many_mailboxes.yml",
        include_str!("../../../rules/tw_app_reads_many_mailboxes.yml"),
    ),
    (
        "tw_application_impersonation_assigned.yml",
        include_str!("../../../rules/tw_application_impersonation_assigned.yml"),
    ),
    (
        "tw_audit_logging_disabled.yml",
        include_str!("../../../rules/tw_audit_logging_disabled.yml"),
    ),
    (
        "tw_credential_on_first_party_sp.yml",
        include_str!("../../../rules/tw_credential_on_first_party_sp.yml"),
    ),
    (
        "tw_credential_on_first_party_sp_ual.yml",
        include_str!("../../../rules/tw_credential_on_first_party_sp_ual.yml"),
    ),
    (
        "tw_credential_then_sp_signin.yml",
        include_str!("../../../rules/tw_credential_then_sp_signin.yml"),
    ),
    (
        "tw_credential_then_sp_signin_failure.yml",
        include_str!("../../../rules/tw_credential_then_sp_signin_failure.yml"),
    ),
    (
        "tw_credential_then_sp_signin_failure_ual.yml",
        include_str!("../../../rules/tw_credential_then_sp_signin_failure_ual.yml"),
    ),
    (
        "tw_credential_then_sp_signin_ual.yml",
        include_str!("../../../rules/tw_credential_then_sp_signin_ual.yml"),
    ),
    (
        "tw_cross_tenant_access_policy_changed.yml",
        include_str!("../../../rules/tw_cross_tenant_access_policy_changed.yml"),
    ),
    (
        "tw_domain_added.yml",
        include_str!("../../../rules/tw_domain_added.yml"),
    ),
    (
        "tw_federation_modified.yml",
        include_str!("../../../rules/tw_federation_modified.yml"),
    ),
    (
        "tw_federation_modified_ual.yml",
        include_str!("../../../rules/tw_federation_modified_ual.yml"),
    ),
    (
        "tw_graph_app_mail_read.yml",
        include_str!("../../../rules/tw_graph_app_mail_read.yml"),
    ),
    (
        "tw_graph_mail_access_denied.yml",
        include_str!("../../../rules/tw_graph_mail_access_denied.yml"),
    ),
    (
        "tw_high_privilege_permission_granted_audit.yml",
        include_str!("../../../rules/tw_high_privilege_permission_granted_audit.yml"),
    ),
    (
        "tw_high_privilege_permission_granted_by_partner_audit.yml",
        include_str!("../../../rules/tw_high_privilege_permission_granted_by_partner_audit.yml"),
    ),
    (
        "tw_high_privilege_permission_granted_by_partner_ual.yml",
        include_str!("../../../rules/tw_high_privilege_permission_granted_by_partner_ual.yml"),
    ),
    (
        "tw_high_privilege_permission_granted_ual.yml",
        include_str!("../../../rules/tw_high_privilege_permission_granted_ual.yml"),
    ),
    (
        "tw_inbox_rule_forward.yml",
        include_str!("../../../rules/tw_inbox_rule_forward.yml"),
    ),
    (
        "tw_inbox_rules_hide_mail.yml",
        include_str!("../../../rules/tw_inbox_rules_hide_mail.yml"),
    ),
    (
        "tw_mail_access_ip_admin_ual.yml",
        include_str!("../../../rules/tw_mail_access_ip_admin_ual.yml"),
    ),
    (
        "tw_mail_items_accessed_by_app.yml",
        include_str!("../../../rules/tw_mail_items_accessed_by_app.yml"),
    ),
    (
        "tw_mail_items_accessed_throttled.yml",
        include_str!("../../../rules/tw_mail_items_accessed_throttled.yml"),
    ),
    (
        "tw_mailbox_forwarding_set.yml",
        include_str!("../../../rules/tw_mailbox_forwarding_set.yml"),
    ),
    (
        "tw_mailbox_fullaccess_granted.yml",
        include_str!("../../../rules/tw_mailbox_fullaccess_granted.yml"),
    ),
    (
        "tw_partner_login_first_seen_ip_ual.yml",
        include_str!("../../../rules/tw_partner_login_first_seen_ip_ual.yml"),
    ),
    (
        "tw_partner_relationship_changed.yml",
        include_str!("../../../rules/tw_partner_relationship_changed.yml"),
    ),
    (
        "tw_partner_service_provider_signin.yml",
        include_str!("../../../rules/tw_partner_service_provider_signin.yml"),
    ),
    (
        "tw_partner_signin_first_seen_asn.yml",
        include_str!("../../../rules/tw_partner_signin_first_seen_asn.yml"),
    ),
    (
        "tw_partner_signin_first_seen_country.yml",
        include_str!("../../../rules/tw_partner_signin_first_seen_country.yml"),
    ),
    (
        "tw_partner_signin_first_seen_ip.yml",
        include_str!("../../../rules/tw_partner_signin_first_seen_ip.yml"),
    ),
    (
        "tw_privileged_role_added_audit.yml",
        include_str!("../../../rules/tw_privileged_role_added_audit.yml"),
    ),
    (
        "tw_privileged_role_added_ual.yml",
        include_str!("../../../rules/tw_privileged_role_added_ual.yml"),
    ),
    (
        "tw_seq_admin_action_ual.yml",
        include_str!("../../../rules/tw_seq_admin_action_ual.yml"),
    ),
    (
        "tw_seq_app_given_ual.yml",
        include_str!("../../../rules/tw_seq_app_given_ual.yml"),
    ),
    (
        "tw_seq_partner_app_credential_audit.yml",
        include_str!("../../../rules/tw_seq_partner_app_credential_audit.yml"),
    ),
    (
        "tw_seq_partner_app_credential_ual.yml",
        include_str!("../../../rules/tw_seq_partner_app_credential_ual.yml"),
    ),
    (
        "tw_seq_partner_credential_audit.yml",
        include_str!("../../../rules/tw_seq_partner_credential_audit.yml"),
    ),
    (
        "tw_seq_partner_credential_ual.yml",
        include_str!("../../../rules/tw_seq_partner_credential_ual.yml"),
    ),
    (
        "tw_seq_sp_signin_failure.yml",
        include_str!("../../../rules/tw_seq_sp_signin_failure.yml"),
    ),
    (
        "tw_signin_federated_mfa_claim.yml",
        include_str!("../../../rules/tw_signin_federated_mfa_claim.yml"),
    ),
    (
        "tw_sp_credential_added_audit.yml",
        include_str!("../../../rules/tw_sp_credential_added_audit.yml"),
    ),
    (
        "tw_sp_credential_added_by_partner_audit.yml",
        include_str!("../../../rules/tw_sp_credential_added_by_partner_audit.yml"),
    ),
    (
        "tw_sp_credential_added_by_partner_ual.yml",
        include_str!("../../../rules/tw_sp_credential_added_by_partner_ual.yml"),
    ),
    (
        "tw_sp_credential_added_ual.yml",
        include_str!("../../../rules/tw_sp_credential_added_ual.yml"),
    ),
    (
        "tw_sp_signin.yml",
        include_str!("../../../rules/tw_sp_signin.yml"),
    ),
    (
        "tw_sp_signin_failure_mail_api.yml",
        include_str!("../../../rules/tw_sp_signin_failure_mail_api.yml"),
    ),
    (
        "tw_sp_signin_first_seen_ip.yml",
        include_str!("../../../rules/tw_sp_signin_first_seen_ip.yml"),
    ),
    (
        "tw_token_issuer_first_seen.yml",
        include_str!("../../../rules/tw_token_issuer_first_seen.yml"),
    ),
    (
        "tw_transport_rule_redirect.yml",
        include_str!("../../../rules/tw_transport_rule_redirect.yml"),
    ),
    (
        "tw_user_login_seen_ual.yml",
        include_str!("../../../rules/tw_user_login_seen_ual.yml"),
    ),
    (
        "tw_user_signin_seen.yml",
        include_str!("../../../rules/tw_user_signin_seen.yml"),
    ),
];

/// The built-in rules as rule sources.
pub fn builtin_rules() -> Vec<RuleSource> {
    BUILTIN
        .iter()
        .map(|(name, text)| RuleSource {
            path: format!("builtin:{name}"),
            text: (*text).to_string(),
            origin: Origin::Builtin,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list is every `rules/*.yml`, in file name order.
    #[test]
    fn every_rule_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("rules folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".yml"))
            .collect();
        files.sort();
        let embedded: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            embedded, files,
            "crates/tw-detect/src/builtin.rs lists rules/*.yml"
        );
        for (name, text) in BUILTIN {
            let on_disk = std::fs::read_to_string(dir.join(name)).expect("rule file");
            assert_eq!(*text, on_disk, "{name}");
        }
    }
}
