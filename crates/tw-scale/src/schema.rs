//! The column contract of the exported Parquet files: every column's name, what it holds and how
//! a value is stored. Code that reads the lake (the Spark SQL lowering of rules) takes column
//! names from here: [`canonical_column`] for a canonical `tw.*` field, [`field_map_column`] for a
//! field the shipped field maps read, [`storage_of`] for how its values are stored.
//!
//! # Partitions
//! Files lie under `log_kind=<kind>/tenant_id=<tenant>/date=<YYYY-MM-DD>/` (Hive style; Spark's
//! partition discovery turns them into columns). `date` is the UTC day of `time`. A tenant or date
//! that is not known is `__HIVE_DEFAULT_PARTITION__` (read back as null); other values are
//! escaped as Hive escapes path names (`%2F` for `/`, …), so no value can leave its folder; a value
//! longer than [`MAX_PARTITION_VALUE`] bytes escaped goes to the null partition too
//! ([`partition_value`]).
//!
//! # Columns, in file order
//!
//! | column | type | holds |
//! |---|---|---|
//! | `file` | string | provenance: the file as `hunt --format jsonl` evidence names it (`archive.zip!inner/path` inside archives) |
//! | `record` | int64 | provenance: 0-based record index within the file |
//! | `line` | int64 | provenance: 1-based line where the record starts |
//! | `tenant_id` | string, null | the resource tenant (`tw.tenant_id`) |
//! | `time` | timestamp (ms, UTC), null | when it happened |
//! | `log_kind` | string | `ual`, `signin`, … (`tw.log`) |
//! | `format` | string | the physical format, `ual.purview_csv`, … (`tw.format`) |
//! | `tw_time` | string, null | `tw.time`: the time as the engine sees it, RFC 3339 UTC with milliseconds |
//! | `tw_home_tenant_id` | string, null | `tw.home_tenant_id` |
//! | `tw_cross_tenant` | boolean, null | `tw.cross_tenant` (null unless both tenants are known) |
//! | `tw_user` | string, null | `tw.user` |
//! | `tw_app_id` | string, null | `tw.app_id` |
//! | `tw_service_principal_id` | string, null | `tw.service_principal_id` |
//! | `tw_ip` | string, null | `tw.ip` |
//! | `tw_user_agent` | string, null | `tw.user_agent` |
//! | `tw_operation` | string, null | `tw.operation` |
//! | `tw_result` | string, null | `tw.result`: `success` or `failure` |
//! | `tw_result_code` | string, null | `tw.result_code` |
//! | `tw_targets` | list of string, null | `tw.targets`, in log order (null when there is none) |
//! | `tw_target_service_principal_id` | string, null | `tw.target_service_principal_id` |
//! | `f_…` | list of string, null | one per field the shipped field maps read (below) |
//! | `raw` | string | the record as the engine reads it, as JSON text |
//!
//! # Field-map columns
//! One column per field name a shipped pipeline (`tw-detect/pipelines/*.yml`) maps with
//! `field_name_mapping`, plus the fields of the built-in pack and of SigmaHQ's cloud rules that
//! are read through a `field_name_prefix_mapping` or named as they are ([`EXTRA_FIELDS`]). A row
//! holds, for its own format, **the values the native engine sees** for that field name: the
//! field resolved through the format's map (unmapped names are read as named), looked up the
//! engine's way (exact key, then ignoring case; a flat dotted key before the nested walk;
//! arrays fanned out), each value as text:
//! - strings as they are, **case preserved** (matching is the reader's business: the engine
//!   compares case-insensitively unless `|cased`);
//! - numbers in canonical form (`0`, `1.5`), booleans `true` / `false`; JSON null as a null
//!   element; objects and nested arrays as compact JSON text;
//! - operation fields (`Operation`, `OperationName`, `activityDisplayName`, …) also hold, after
//!   each value, the normalised variants the engine offers (trailing full stop and spaces
//!   removed, en dash and hyphen exchanged);
//! - a field mapped onto a canonical field (`status` → `tw.result`) holds that field's value.
//!
//! Lists are stored as Parquet lists of strings (Spark `array<string>`), never as JSON text: a
//! predicate matches a row when it matches **any** element (`exists(col, v -> …)`), as the engine
//! matches a field with several values. A field that is absent is a null list; a field present
//! with no value (an empty JSON array) an empty list.
//!
//! Column names are `f_` followed by the field name encoded so that names differing only in case
//! stay distinct in Spark (whose column names ignore case): a lowercase letter or digit stands
//! for itself, an uppercase letter is `_` and the letter in lowercase, `.` is `__`, `_` is `_0`,
//! any other character `_9` and its code point in six hex digits ([`field_column_name`]).
//! Fields read through a prefix mapping that have no column here are read from `raw`.
//!
//! Every field-map column, with its field name:
//!
//! `f__a_a_d_operation_type` AADOperationType; `f__a_a_d_tenant_id` AADTenantId;
//! `f__activity` Activity; `f__activity_date_time` ActivityDateTime;
//! `f__activity_display_name` ActivityDisplayName; `f__activity_status` ActivityStatus;
//! `f__activity_status_value` ActivityStatusValue; `f__activity_substatus` ActivitySubstatus;
//! `f__activity_substatus_value` ActivitySubstatusValue; `f__activity_type` ActivityType;
//! `f__actor` Actor; `f__actor_context_id` ActorContextId;
//! `f__additional_details` AdditionalDetails; `f__additional_info` AdditionalInfo;
//! `f__alert_type` AlertType; `f__api_version` ApiVersion; `f__app_display_name` AppDisplayName;
//! `f__app_id` AppId; `f__application` Application; `f__application_id` ApplicationId;
//! `f__authentication_protocol` AuthenticationProtocol;
//! `f__authentication_requirement` AuthenticationRequirement; `f__authorization` Authorization;
//! `f__authorization_0d` Authorization_d; `f__autonomous_system_number` AutonomousSystemNumber;
//! `f__azure_active_directory_event_type` AzureActiveDirectoryEventType; `f__caller` Caller;
//! `f__caller_ip_address` CallerIpAddress; `f__category` Category;
//! `f__category_value` CategoryValue; `f__claims` Claims; `f__claims_0d` Claims_d;
//! `f__client_app` ClientApp; `f__client_app_id` ClientAppId; `f__client_app_used` ClientAppUsed;
//! `f__client_auth_method` ClientAuthMethod; `f__client_i_p` ClientIP;
//! `f__client_i_p_address` ClientIPAddress; `f__client_info_string` ClientInfoString;
//! `f__client_request_id` ClientRequestId; `f__client_0_i_p_address` Client_IPAddress;
//! `f__conditional_access_status` ConditionalAccessStatus;
//! `f__consent_context___is_admin_consent` ConsentContext.IsAdminConsent;
//! `f__correlation_id` CorrelationId; `f__created_date_time` CreatedDateTime;
//! `f__creation_time` CreationTime; `f__cross_tenant_access_type` CrossTenantAccessType;
//! `f__data` Data; `f__delivery_action` DeliveryAction; `f__detected_date_time` DetectedDateTime;
//! `f__detection_timing_type` DetectionTimingType; `f__device_detail` DeviceDetail;
//! `f__device_detail__device_id` DeviceDetail.deviceId;
//! `f__device_detail__is_compliant` DeviceDetail.isCompliant;
//! `f__device_detail__trusttype` DeviceDetail.trusttype; `f__directionality` Directionality;
//! `f__duration_ms` DurationMs; `f__error_number` ErrorNumber; `f__event_data_id` EventDataId;
//! `f__event_submission_timestamp` EventSubmissionTimestamp;
//! `f__extended_properties` ExtendedProperties; `f__external_access` ExternalAccess;
//! `f__folders` Folders; `f__h_t_t_p_request` HTTPRequest; `f__hierarchy` Hierarchy;
//! `f__home_tenant_id` HomeTenantId; `f__i_p_address` IPAddress; `f__id` Id;
//! `f__identity` Identity; `f__identity_provider` IdentityProvider;
//! `f__incoming_token_type` IncomingTokenType; `f__initiated_by` InitiatedBy;
//! `f__initiatedby` Initiatedby; `f__initiatied___by` Initiatied.By;
//! `f__inter_systems_id` InterSystemsId; `f__ip_address` IpAddress;
//! `f__is_interactive` IsInteractive; `f__item` Item;
//! `f__last_updated_date_time` LastUpdatedDateTime; `f__level` Level; `f__location` Location;
//! `f__location_details` LocationDetails; `f__logged_by_service` LoggedByService;
//! `f__logon_error` LogonError; `f__logon_type` LogonType; `f__logon_0_type` Logon_Type;
//! `f__mailbox_guid` MailboxGuid; `f__mailbox_owner_u_p_n` MailboxOwnerUPN; `f__members` Members;
//! `f__mfa_detail` MfaDetail; `f__modified_object_resolved_name` ModifiedObjectResolvedName;
//! `f__modified_properties` ModifiedProperties; `f__name` Name;
//! `f__network_location_details` NetworkLocationDetails; `f__object_id` ObjectId;
//! `f__office_id` OfficeId; `f__office_object_id` OfficeObjectId;
//! `f__office_workload` OfficeWorkload; `f__operation` Operation; `f__operation_id` OperationId;
//! `f__operation_name` OperationName; `f__operation_name_value` OperationNameValue;
//! `f__operation_properties` OperationProperties;
//! `f__operation_properties___name` OperationProperties.Name;
//! `f__operation_properties___value` OperationProperties.Value;
//! `f__organization_id` OrganizationId; `f__parameters` Parameters;
//! `f__parameters___name` Parameters.Name; `f__parameters___value` Parameters.Value;
//! `f__payload` Payload; `f__properties` Properties; `f__properties_0d` Properties_d;
//! `f__recipients` Recipients; `f__record_type` RecordType; `f__request_id` RequestId;
//! `f__request_method` RequestMethod; `f__request_type` RequestType; `f__request_uri` RequestUri;
//! `f__resource` Resource; `f__resource_display_name` ResourceDisplayName;
//! `f__resource_group` ResourceGroup; `f__resource_id` ResourceId;
//! `f__resource_provider` ResourceProvider; `f__resource_provider_value` ResourceProviderValue;
//! `f__resource_tenant_id` ResourceTenantId; `f__response_size_bytes` ResponseSizeBytes;
//! `f__response_status_code` ResponseStatusCode; `f__result` Result;
//! `f__result_description` ResultDescription; `f__result_reason` ResultReason;
//! `f__result_signature` ResultSignature; `f__result_status` ResultStatus;
//! `f__result_type` ResultType; `f__resultdescription` Resultdescription;
//! `f__risk_detail` RiskDetail; `f__risk_event_type` RiskEventType;
//! `f__risk_event_types` RiskEventTypes; `f__risk_level` RiskLevel;
//! `f__risk_level_aggregated` RiskLevelAggregated;
//! `f__risk_level_during_sign_in` RiskLevelDuringSignIn; `f__risk_state` RiskState;
//! `f__risk_type` RiskType; `f__roles` Roles; `f__scopes` Scopes;
//! `f__sender_address` SenderAddress;
//! `f__service_principal_display_name` ServicePrincipalDisplayName;
//! `f__service_principal_id` ServicePrincipalId; `f__service_principal_name` ServicePrincipalName;
//! `f__session_id` SessionId; `f__severity` Severity; `f__sign_in_activity_id` SignInActivityId;
//! `f__site_url` SiteUrl; `f__site_0_url` Site_Url; `f__source` Source;
//! `f__source_file_name` SourceFileName; `f__source_relative_url` SourceRelativeUrl;
//! `f__status` Status; `f__subject` Subject; `f__subscription_id` SubscriptionId;
//! `f__target` Target; `f__target_context_id` TargetContextId;
//! `f__target_resources` TargetResources;
//! `f__target_resources___modified_properties___display_name` TargetResources.ModifiedProperties.DisplayName;
//! `f__target_resources___modified_properties___new_value` TargetResources.ModifiedProperties.NewValue;
//! `f__target_resources__display_name` TargetResources.displayName;
//! `f__target_resources__id` TargetResources.id;
//! `f__target_resources__modified_properties` TargetResources.modifiedProperties;
//! `f__target_resources__modified_properties__new_value` TargetResources.modifiedProperties.newValue;
//! `f__tenant_id` TenantId; `f__time_generated` TimeGenerated; `f__token_issued_at` TokenIssuedAt;
//! `f__token_issuer_type` TokenIssuerType; `f__type` Type;
//! `f__unique_token_identifier` UniqueTokenIdentifier; `f__user_agent` UserAgent;
//! `f__user_display_name` UserDisplayName; `f__user_domain` UserDomain; `f__user_id` UserId;
//! `f__user_key` UserKey; `f__user_principal_name` UserPrincipalName; `f__user_type` UserType;
//! `f__username` Username; `f__wids` Wids; `f__workload` Workload; `f__0_resource_id` _ResourceId;
//! `f_activity` activity; `f_activity_date_time` activityDateTime;
//! `f_activity_display_name` activityDisplayName; `f_activity_type` activityType;
//! `f_additional_details` additionalDetails;
//! `f_additional_details__additional_info` additionalDetails.additionalInfo;
//! `f_additional_info` additionalInfo; `f_app_display_name` appDisplayName; `f_app_id` appId;
//! `f_applied_conditional_access_policies` appliedConditionalAccessPolicies;
//! `f_authentication_protocol` authenticationProtocol;
//! `f_authentication_requirement` authenticationRequirement; `f_authorization` authorization;
//! `f_autonomous_system_number` autonomousSystemNumber; `f_caller` caller;
//! `f_caller_ip_address` callerIpAddress; `f_category` category; `f_channels` channels;
//! `f_claims` claims; `f_client_app_used` clientAppUsed;
//! `f_client_credential_type` clientCredentialType;
//! `f_conditional_access_status` conditionalAccessStatus; `f_correlation_id` correlationId;
//! `f_created_date_time` createdDateTime; `f_cross_tenant_access_type` crossTenantAccessType;
//! `f_description` description; `f_detected_date_time` detectedDateTime;
//! `f_detection_timing_type` detectionTimingType; `f_device_detail` deviceDetail;
//! `f_duration_ms` durationMs; `f_event_data_id` eventDataId; `f_event_name` eventName;
//! `f_event_source` eventSource; `f_event_timestamp` eventTimestamp;
//! `f_failure_0status_0reason` failure_status_reason; `f_flagged_for_review` flaggedForReview;
//! `f_home_tenant_id` homeTenantId; `f_http_request` httpRequest; `f_id` id; `f_identity` identity;
//! `f_incoming_token_type` incomingTokenType; `f_initiated_by` initiatedBy;
//! `f_ip_address` ipAddress; `f_is_interactive` isInteractive;
//! `f_last_updated_date_time` lastUpdatedDateTime; `f_level` level; `f_location` location;
//! `f_logged_by_service` loggedByService; `f_operation_id` operationId;
//! `f_operation_name` operationName; `f_operation_type` operationType;
//! `f_operation_version` operationVersion; `f_properties` properties;
//! `f_properties__app_id` properties.appId;
//! `f_properties__authentication_requirement` properties.authenticationRequirement;
//! `f_properties__device_detail__device_id` properties.deviceDetail.deviceId;
//! `f_properties__initiated_by` properties.initiatedBy; `f_properties__message` properties.message;
//! `f_properties__result` properties.result;
//! `f_properties__status__error_code` properties.status.errorCode;
//! `f_properties__target_resources` properties.targetResources; `f_request_id` requestId;
//! `f_request_method` requestMethod; `f_request_uri` requestUri;
//! `f_resource_display_name` resourceDisplayName; `f_resource_group_name` resourceGroupName;
//! `f_resource_id` resourceId; `f_resource_provider_name` resourceProviderName;
//! `f_resource_tenant_id` resourceTenantId; `f_resource_type` resourceType;
//! `f_response_status_code` responseStatusCode; `f_result` result;
//! `f_result_description` resultDescription; `f_result_reason` resultReason;
//! `f_result_signature` resultSignature; `f_result_type` resultType; `f_risk_detail` riskDetail;
//! `f_risk_event_type` riskEventType; `f_risk_event_types` riskEventTypes;
//! `f_risk_event_types_0v2` riskEventTypes_v2; `f_risk_level` riskLevel;
//! `f_risk_level_aggregated` riskLevelAggregated;
//! `f_risk_level_during_sign_in` riskLevelDuringSignIn; `f_risk_state` riskState;
//! `f_risk_type` riskType; `f_roles` roles; `f_scopes` scopes;
//! `f_service_principal_credential_key_id` servicePrincipalCredentialKeyId;
//! `f_service_principal_display_name` servicePrincipalDisplayName;
//! `f_service_principal_id` servicePrincipalId; `f_service_principal_name` servicePrincipalName;
//! `f_session_id` sessionId; `f_sign_in_event_types` signInEventTypes; `f_source` source;
//! `f_status` status; `f_status__error_code` status.errorCode;
//! `f_status__failure_reason` status.failureReason; `f_sub_status` subStatus;
//! `f_submission_timestamp` submissionTimestamp; `f_subscription_id` subscriptionId;
//! `f_target_resources` targetResources; `f_target_resources__type` targetResources.type;
//! `f_tenant_id` tenantId; `f_time` time; `f_token_issuer_name` tokenIssuerName;
//! `f_token_issuer_type` tokenIssuerType; `f_unique_token_identifier` uniqueTokenIdentifier;
//! `f_user_agent` userAgent; `f_user_display_name` userDisplayName; `f_user_id` userId;
//! `f_user_principal_name` userPrincipalName; `f_user_type` userType;
//!

use std::sync::OnceLock;

use serde_json::Value;

/// Provenance: the file, as hunt evidence names it.
pub const FILE: &str = "file";
/// Provenance: the 0-based record index within the file.
pub const RECORD: &str = "record";
/// Provenance: the 1-based line where the record starts.
pub const LINE: &str = "line";
/// The resource tenant (also a partition column).
pub const TENANT_ID: &str = "tenant_id";
/// Event time, timestamp in milliseconds, UTC.
pub const TIME: &str = "time";
/// The log kind (also a partition column).
pub const LOG_KIND: &str = "log_kind";
/// The physical format.
pub const FORMAT: &str = "format";
/// The record as the engine reads it, as JSON text.
pub const RAW: &str = "raw";
/// The partition column that is not stored in the files: the UTC day of `time`.
pub const DATE: &str = "date";
/// The partition columns, in folder order.
pub const PARTITION_COLUMNS: [&str; 3] = [LOG_KIND, TENANT_ID, DATE];
/// The folder name Hive and Spark read as a null partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// How a column's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Storage {
    /// UTF-8 string (Spark `string`).
    Text,
    /// 64-bit integer (Spark `bigint`).
    Long,
    /// Timestamp in milliseconds, adjusted to UTC (Spark `timestamp`).
    TimestampMillisUtc,
    /// Boolean (Spark `boolean`).
    Bool,
    /// List of UTF-8 strings, elements nullable (Spark `array<string>`).
    TextList,
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Provenance file.
    File,
    /// Provenance record index.
    Record,
    /// Provenance line.
    Line,
    /// Event time.
    Time,
    /// The raw record.
    Raw,
    /// A canonical `tw.*` field (`tw.log`, `tw.format` and `tw.tenant_id` included).
    Canonical(&'static str),
    /// A field name as rules name it, resolved per format by the shipped field maps.
    FieldMap(String),
}

/// One column of the exported files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name in the Parquet schema.
    pub name: String,
    /// How values are stored.
    pub storage: Storage,
    /// Whether it may be null.
    pub nullable: bool,
    /// What it holds.
    pub source: Source,
}

/// Every canonical field the engine exposes, its column and how it is stored, in file order.
pub const CANONICAL: &[(&str, &str, Storage)] = &[
    ("tw.tenant_id", TENANT_ID, Storage::Text),
    ("tw.log", LOG_KIND, Storage::Text),
    ("tw.format", FORMAT, Storage::Text),
    ("tw.time", "tw_time", Storage::Text),
    ("tw.home_tenant_id", "tw_home_tenant_id", Storage::Text),
    ("tw.cross_tenant", "tw_cross_tenant", Storage::Bool),
    ("tw.user", "tw_user", Storage::Text),
    ("tw.app_id", "tw_app_id", Storage::Text),
    (
        "tw.service_principal_id",
        "tw_service_principal_id",
        Storage::Text,
    ),
    ("tw.ip", "tw_ip", Storage::Text),
    ("tw.user_agent", "tw_user_agent", Storage::Text),
    ("tw.operation", "tw_operation", Storage::Text),
    ("tw.result", "tw_result", Storage::Text),
    ("tw.result_code", "tw_result_code", Storage::Text),
    ("tw.targets", "tw_targets", Storage::TextList),
    (
        "tw.target_service_principal_id",
        "tw_target_service_principal_id",
        Storage::Text,
    ),
];

/// Field names with a column besides the keys of the shipped `field_name_mapping`s: the fields
/// the built-in pack and SigmaHQ's cloud rules read through a prefix mapping or as named.
pub const EXTRA_FIELDS: &[&str] = &[
    // SigmaHQ cloud rules (rules/cloud, DRL 1.1).
    "ConsentContext.IsAdminConsent",
    "DeviceDetail.deviceId",
    "DeviceDetail.isCompliant",
    "DeviceDetail.trusttype",
    "TargetResources.ModifiedProperties.DisplayName",
    "TargetResources.ModifiedProperties.NewValue",
    "TargetResources.modifiedProperties",
    "TargetResources.modifiedProperties.newValue",
    "additionalDetails.additionalInfo",
    "targetResources.type",
    // The built-in pack.
    "OperationProperties.Name",
    "OperationProperties.Value",
    "Parameters.Name",
    "Parameters.Value",
    "TargetResources.displayName",
    "TargetResources.id",
];

/// The column of canonical field `field` (`tw.user` → `tw_user`), `None` for a name that is no
/// canonical field.
pub fn canonical_column(field: &str) -> Option<&'static str> {
    CANONICAL
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, c, _)| *c)
}

/// The column of field `field` as rules name it (`properties.message` →
/// `f_properties__message`), `None` when the export has no column for it (read it from `raw`).
/// Case matters: `ResultType` and `resultType` are two fields with two columns.
pub fn field_map_column(field: &str) -> Option<String> {
    field_map_fields()
        .binary_search_by(|f| f.as_str().cmp(field))
        .ok()
        .map(|_| field_column_name(field))
}

/// How the values of `field` (a canonical `tw.*` field or a field-map field) are stored, `None`
/// when it has no column.
pub fn storage_of(field: &str) -> Option<Storage> {
    if let Some((_, _, s)) = CANONICAL.iter().find(|(f, _, _)| *f == field) {
        return Some(*s);
    }
    field_map_column(field).map(|_| Storage::TextList)
}

/// The column name field `name` has in the field-map family: `f_` and the name encoded (a
/// lowercase letter or digit as itself, an uppercase letter as `_` + lowercase, `.` as `__`, `_`
/// as `_0`, anything else as `_9` + six hex digits), distinct for names differing only in case.
pub fn field_column_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    out.push_str("f_");
    for c in name.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            }
            '.' => out.push_str("__"),
            '_' => out.push_str("_0"),
            _ => out.push_str(&format!("_9{:06x}", c as u32)),
        }
    }
    out
}

/// Every field name with a column, sorted (byte order): the keys of every shipped
/// `field_name_mapping` and [`EXTRA_FIELDS`], canonical `tw.*` names left out.
pub fn field_map_fields() -> &'static [String] {
    static FIELDS: OnceLock<Vec<String>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut out: Vec<String> = EXTRA_FIELDS.iter().map(|s| s.to_string()).collect();
        for (name, yaml) in tw_detect::PIPELINES {
            out.extend(mapped_names(name, yaml));
        }
        out.retain(|f| !f.starts_with("tw."));
        out.sort();
        out.dedup();
        out
    })
}

/// The field names a pipeline's `field_name_mapping` transformations map. The shipped pipelines
/// are embedded and tested to parse (`tw_detect::fieldmap`); one that did not would map nothing.
fn mapped_names(name: &str, yaml: &str) -> Vec<String> {
    let Ok(docs) = tw_sigma::yaml_to_json(name, yaml) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in &docs {
        let steps = doc.get("transformations").and_then(Value::as_array);
        for t in steps.into_iter().flatten() {
            if t.get("type").and_then(Value::as_str) != Some("field_name_mapping") {
                continue;
            }
            if let Some(map) = t.get("mapping").and_then(Value::as_object) {
                out.extend(map.keys().cloned());
            }
        }
    }
    out
}

/// Every column, in file order.
pub fn columns() -> &'static [Column] {
    static COLUMNS: OnceLock<Vec<Column>> = OnceLock::new();
    COLUMNS.get_or_init(build_columns)
}

fn build_columns() -> Vec<Column> {
    let col = |name: &str, storage, nullable, source| Column {
        name: name.to_string(),
        storage,
        nullable,
        source,
    };
    let mut out = vec![
        col(FILE, Storage::Text, false, Source::File),
        col(RECORD, Storage::Long, false, Source::Record),
        col(LINE, Storage::Long, false, Source::Line),
        col(
            TENANT_ID,
            Storage::Text,
            true,
            Source::Canonical("tw.tenant_id"),
        ),
        col(TIME, Storage::TimestampMillisUtc, true, Source::Time),
        col(LOG_KIND, Storage::Text, false, Source::Canonical("tw.log")),
        col(FORMAT, Storage::Text, false, Source::Canonical("tw.format")),
    ];
    for (field, name, storage) in CANONICAL.iter().skip(3) {
        out.push(col(name, *storage, true, Source::Canonical(field)));
    }
    for field in field_map_fields() {
        out.push(col(
            &field_column_name(field),
            Storage::TextList,
            true,
            Source::FieldMap(field.clone()),
        ));
    }
    out.push(col(RAW, Storage::Text, false, Source::Raw));
    out
}

/// Longest partition value in a folder name, escaped, in bytes (folder names stop at 255).
pub const MAX_PARTITION_VALUE: usize = 200;

/// The folder name of partition value `value`: [`escape_partition_value`], or
/// [`NULL_PARTITION`] for a value that escaped is longer than [`MAX_PARTITION_VALUE`] (no real
/// tenant id is; the row keeps the value in its column, Spark reads the partition as null).
pub fn partition_value(value: &str) -> String {
    let escaped = escape_partition_value(value);
    if escaped.len() > MAX_PARTITION_VALUE {
        return NULL_PARTITION.to_string();
    }
    escaped
}

/// Hive's escaping of a partition value in a folder name (what Spark's partition discovery
/// unescapes): control characters and `"#%'*/:=?\{[]^` and DEL as `%XX`; an empty value or one
/// made only of dots (`.`, `..`) escaped whole, so every value names a folder of its own.
pub fn escape_partition_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let only_dots = !value.is_empty() && value.bytes().all(|b| b == b'.');
    for c in value.chars() {
        let special = matches!(
            c,
            '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
        ) || (c as u32) < 0x20
            || c as u32 == 0x7f
            || (only_dots && c == '.');
        if special {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        return NULL_PARTITION.to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn column_names_are_distinct_ignoring_case() {
        let mut seen = HashSet::new();
        for c in columns() {
            assert!(seen.insert(c.name.to_lowercase()), "duplicate {}", c.name);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                c.name
            );
        }
        assert!(
            !PARTITION_COLUMNS
                .iter()
                .any(|p| *p == DATE && seen.contains(*p))
        );
    }

    #[test]
    fn field_names_encode_injectively() {
        let names = [
            "ResultType",
            "resultType",
            "resulttype",
            "properties.message",
            "properties_message",
            "_ResourceId",
            "Initiatied.By",
            "a–b",
        ];
        let encoded: HashSet<String> = names.iter().map(|n| field_column_name(n)).collect();
        assert_eq!(encoded.len(), names.len());
        assert_eq!(field_column_name("ResultType"), "f__result_type");
        assert_eq!(
            field_column_name("properties.message"),
            "f_properties__message"
        );
        assert_eq!(field_column_name("_ResourceId"), "f__0_resource_id");
        assert_eq!(field_column_name("a–b"), "f_a_9002013b");
    }

    #[test]
    fn field_map_columns_cover_the_shipped_maps() {
        let fields = field_map_fields();
        for f in [
            "ResultType",
            "resultType",
            "properties.message",
            "Operation",
            "status",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f}");
        }
        assert_eq!(field_map_column("status").as_deref(), Some("f_status"));
        assert_eq!(field_map_column("NoSuchField"), None);
        assert_eq!(field_map_column("tw.user"), None);
        assert_eq!(canonical_column("tw.user"), Some("tw_user"));
        assert_eq!(canonical_column("tw.log"), Some("log_kind"));
        assert_eq!(storage_of("tw.targets"), Some(Storage::TextList));
        assert_eq!(storage_of("tw.cross_tenant"), Some(Storage::Bool));
        assert_eq!(storage_of("Parameters.Name"), Some(Storage::TextList));
        assert_eq!(storage_of("NoSuchField"), None);
    }

    #[test]
    fn every_field_of_the_built_in_pack_has_a_column() {
        let hunter = tw_detect::Hunter::new(&tw_detect::builtin_rules(), Default::default())
            .expect("the built-in pack loads");
        let fields = hunter.rule_set().fields();
        assert!(fields.len() > 10);
        let missing: Vec<&str> = fields
            .iter()
            .map(|f| f.name())
            .filter(|n| storage_of(n).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "built-in rule fields without a column: {missing:?}"
        );
    }

    #[test]
    fn doc_comment_lists_every_column() {
        let src = include_str!("schema.rs");
        let doc: String = src
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        for c in columns() {
            assert!(
                doc.contains(&format!("`{}`", c.name)),
                "{} not listed",
                c.name
            );
        }
    }

    #[test]
    fn partition_values_cannot_leave_their_folder() {
        assert_eq!(escape_partition_value("a/b"), "a%2Fb");
        assert_eq!(escape_partition_value(".."), "%2E%2E");
        assert_eq!(escape_partition_value("a=b:c"), "a%3Db%3Ac");
        assert_eq!(escape_partition_value(""), NULL_PARTITION);
        assert_eq!(partition_value(&"x".repeat(300)), NULL_PARTITION);
        assert_eq!(partition_value(&"/".repeat(60)).len(), 180);
        assert_eq!(
            escape_partition_value("72f988bf-86f1-41af-91ab-2d7cd011db47"),
            "72f988bf-86f1-41af-91ab-2d7cd011db47"
        );
    }
}
