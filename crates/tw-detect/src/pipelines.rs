//! The shipped pipelines: one pySigma-style processing pipeline per physical log format, embedded
//! from `pipelines/<format>.yml`.

use tw_event::Format;

/// (format name, pipeline YAML) for every format that has one.
pub const PIPELINES: &[(&str, &str)] = &[
    (
        "azure_activity.azure_monitor",
        include_str!("../pipelines/azure_activity.azure_monitor.yml"),
    ),
    (
        "azure_activity.log_analytics_csv",
        include_str!("../pipelines/azure_activity.log_analytics_csv.yml"),
    ),
    (
        "azure_activity.log_analytics_json",
        include_str!("../pipelines/azure_activity.log_analytics_json.yml"),
    ),
    (
        "azure_activity.rest_json",
        include_str!("../pipelines/azure_activity.rest_json.yml"),
    ),
    (
        "directory_audit.azure_monitor",
        include_str!("../pipelines/directory_audit.azure_monitor.yml"),
    ),
    (
        "directory_audit.graph_json",
        include_str!("../pipelines/directory_audit.graph_json.yml"),
    ),
    (
        "directory_audit.log_analytics_csv",
        include_str!("../pipelines/directory_audit.log_analytics_csv.yml"),
    ),
    (
        "directory_audit.log_analytics_json",
        include_str!("../pipelines/directory_audit.log_analytics_json.yml"),
    ),
    (
        "graph_activity.azure_monitor",
        include_str!("../pipelines/graph_activity.azure_monitor.yml"),
    ),
    (
        "graph_activity.log_analytics_csv",
        include_str!("../pipelines/graph_activity.log_analytics_csv.yml"),
    ),
    (
        "graph_activity.log_analytics_json",
        include_str!("../pipelines/graph_activity.log_analytics_json.yml"),
    ),
    (
        "risk_detection.azure_monitor",
        include_str!("../pipelines/risk_detection.azure_monitor.yml"),
    ),
    (
        "risk_detection.graph_json",
        include_str!("../pipelines/risk_detection.graph_json.yml"),
    ),
    (
        "risk_detection.log_analytics_csv",
        include_str!("../pipelines/risk_detection.log_analytics_csv.yml"),
    ),
    (
        "risk_detection.log_analytics_json",
        include_str!("../pipelines/risk_detection.log_analytics_json.yml"),
    ),
    (
        "signin.azure_monitor",
        include_str!("../pipelines/signin.azure_monitor.yml"),
    ),
    (
        "signin.graph_json",
        include_str!("../pipelines/signin.graph_json.yml"),
    ),
    (
        "signin.log_analytics_csv",
        include_str!("../pipelines/signin.log_analytics_csv.yml"),
    ),
    (
        "signin.log_analytics_json",
        include_str!("../pipelines/signin.log_analytics_json.yml"),
    ),
    (
        "signin.portal_csv",
        include_str!("../pipelines/signin.portal_csv.yml"),
    ),
    (
        "ual.log_analytics_csv",
        include_str!("../pipelines/ual.log_analytics_csv.yml"),
    ),
    (
        "ual.log_analytics_json",
        include_str!("../pipelines/ual.log_analytics_json.yml"),
    ),
    (
        "ual.mgmt_api_json",
        include_str!("../pipelines/ual.mgmt_api_json.yml"),
    ),
    (
        "ual.purview_csv",
        include_str!("../pipelines/ual.purview_csv.yml"),
    ),
    (
        "ual.search_ual_json",
        include_str!("../pipelines/ual.search_ual_json.yml"),
    ),
];

/// The pipeline of a physical format, if it has one.
pub fn pipeline_for(format: Format) -> Option<&'static str> {
    PIPELINES
        .iter()
        .find(|(n, _)| *n == format.as_str())
        .map(|(_, y)| *y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_log_format_has_a_pipeline() {
        for f in Format::ALL {
            let log = !matches!(
                f.log_kind(),
                tw_event::LogKind::TenantConfig
                    | tw_event::LogKind::Other
                    | tw_event::LogKind::Generic
                    | tw_event::LogKind::M365Defender
                    | tw_event::LogKind::WindowsEvent
                    | tw_event::LogKind::Cef
            );
            assert_eq!(pipeline_for(f).is_some(), log, "{}", f.as_str());
        }
        for (name, _) in PIPELINES {
            assert!(
                Format::from_name(name).is_some(),
                "pipeline for unknown format {name}"
            );
        }
    }
}
