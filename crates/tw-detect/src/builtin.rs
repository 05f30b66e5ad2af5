//! The built-in rule pack: Sigma rules under `rules/` at the top of the repository, embedded in the
//! binary (origin `builtin`).

use tw_event::Origin;

use crate::hunt::RuleSource;

/// (file name, YAML) of every built-in rule.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "tw_federation_modified.yml",
        include_str!("../../../rules/tw_federation_modified.yml"),
    ),
    (
        "tw_inbox_rule_forward.yml",
        include_str!("../../../rules/tw_inbox_rule_forward.yml"),
    ),
    (
        "tw_partner_service_provider_signin.yml",
        include_str!("../../../rules/tw_partner_service_provider_signin.yml"),
    ),
    (
        "tw_sp_credential_added_audit.yml",
        include_str!("../../../rules/tw_sp_credential_added_audit.yml"),
    ),
    (
        "tw_sp_credential_added_ual.yml",
        include_str!("../../../rules/tw_sp_credential_added_ual.yml"),
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
