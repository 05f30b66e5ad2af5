//! The blast-radius result: seeds, pivots, per-tenant status and the evidence behind it. This is
//! the `--format json` contract of `tenantwatch blast` (`docs/blast.md`): field names are stable.

use std::collections::BTreeMap;

use serde::Serialize;
use tw_event::{Provenance, Timestamp};

/// A starting indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seed {
    /// A user principal name (compared case-insensitively).
    Actor(String),
    /// An application (client) id or service principal object id.
    App(String),
    /// An IP address.
    Ip(String),
    /// A partner's tenant id: its identities' access to other tenants is tracked.
    PartnerTenant(String),
    /// Findings (from `tenantwatch hunt --format jsonl`): their evidence records are malicious,
    /// their actors and addresses are seeds.
    Findings(Vec<FindingSeed>),
}

impl Seed {
    /// `actor`, `app`, `ip`, `partner_tenant`, `findings`.
    pub fn kind(&self) -> &'static str {
        match self {
            Seed::Actor(_) => "actor",
            Seed::App(_) => "app",
            Seed::Ip(_) => "ip",
            Seed::PartnerTenant(_) => "partner_tenant",
            Seed::Findings(_) => "findings",
        }
    }
    /// The indicator as written.
    pub fn value(&self) -> String {
        match self {
            Seed::Actor(v) | Seed::App(v) | Seed::Ip(v) | Seed::PartnerTenant(v) => v.clone(),
            Seed::Findings(f) => format!("{} findings", f.len()),
        }
    }
}

/// What blast needs of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FindingSeed {
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: String,
    /// ATT&CK tags.
    pub tags: Vec<String>,
    /// Actor user.
    pub user: Option<String>,
    /// Actor application.
    pub app_id: Option<String>,
    /// Address.
    pub ip: Option<String>,
    /// Evidence records (file, record).
    pub evidence: Vec<(String, u64)>,
}

/// Status of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Malicious activity found.
    Affected,
    /// The partner or a compromised identity had access; no malicious activity in the data.
    AccessNoActivity,
    /// No compromised identity or partner access seen.
    NotReached,
}

impl Status {
    /// `affected`, `access_no_activity`, `not_reached`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Affected => "affected",
            Status::AccessNoActivity => "access_no_activity",
            Status::NotReached => "not_reached",
        }
    }
}

/// The time range the logs of a tenant cover (from the ingest coverage report).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// First record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<Timestamp>,
    /// Last record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Timestamp>,
    /// Log kinds present.
    pub log_kinds: Vec<String>,
    /// Records read.
    pub records: u64,
    /// Silences longer than the gap threshold, over all log kinds.
    pub gaps: u64,
}

/// An object the attacker changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectChange {
    /// `app`, `role`, `domain`, `mailbox_rule`, `permission`, `other`.
    pub kind: String,
    /// Name or id of the object (log content).
    pub name: String,
    /// The operation.
    pub operation: String,
}

/// One supporting record.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    /// Resource tenant.
    pub tenant_id: String,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// Log kind.
    pub log: String,
    /// Acting identity (`user:…` or `app:…`).
    pub actor: String,
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Operation.
    pub operation: String,
    /// Technique label.
    pub technique: String,
    /// Why the record counts as malicious.
    pub reason: String,
    /// User agent (log content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Detail: mailbox read, object changed (log content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Where the record is.
    pub provenance: Provenance,
}

/// Per-tenant result.
#[derive(Debug, Clone, Serialize)]
pub struct TenantBlast {
    /// Tenant id.
    pub tenant_id: String,
    /// Export folder the tenant's logs came from (log-derived label, may be empty).
    pub name: String,
    /// `partner` when it is the home tenant of a compromised identity, else `customer`.
    pub role: String,
    /// Status.
    pub status: Status,
    /// First malicious activity (`null` when none).
    pub first: Option<Timestamp>,
    /// Last malicious activity (`null` when none).
    pub last: Option<Timestamp>,
    /// Identities behind the malicious activity.
    pub actors: Vec<String>,
    /// Addresses of the malicious activity.
    pub ips: Vec<String>,
    /// Techniques seen.
    pub techniques: Vec<String>,
    /// Mailboxes whose mail was read (UPNs).
    pub mailboxes_read: Vec<String>,
    /// Mailboxes read through Graph whose UPN is not known from the logs (object ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mailbox_ids_read: Vec<String>,
    /// Objects changed.
    pub objects_changed: Vec<ObjectChange>,
    /// Malicious records.
    pub evidence_records: u64,
    /// Partner or compromised identities that had access (cross-tenant), with their record counts.
    pub access: BTreeMap<String, u64>,
    /// Time range covered by the tenant's logs.
    pub coverage: Coverage,
}

/// One expansion step.
#[derive(Debug, Clone, Serialize)]
pub struct Pivot {
    /// 0 for seeds.
    pub depth: u32,
    /// `identity`, `ip`, `credential`, `tenant`, `finding`.
    pub kind: String,
    /// The indicator added.
    pub indicator: String,
    /// The indicator it was reached from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Why.
    pub reason: String,
}

/// What a seed matched.
#[derive(Debug, Clone, Serialize)]
pub struct SeedMatch {
    /// `actor`, `app`, `ip`, `partner_tenant`, `findings`.
    pub kind: String,
    /// Indicator.
    pub value: String,
    /// Records it appears in.
    pub records: u64,
    /// A sentence when it matched nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole result.
#[derive(Debug, Clone, Serialize, Default)]
pub struct BlastResult {
    /// Tenants: affected first, then access without activity, then not reached.
    pub tenants: Vec<TenantBlast>,
    /// Expansion steps, in order.
    pub pivots: Vec<Pivot>,
    /// Candidate expansions not taken (shared infrastructure, depth limit), with reasons.
    pub not_followed: Vec<Pivot>,
    /// Seeds and what they matched.
    pub seeds: Vec<SeedMatch>,
    /// True when `max_pivots` or the evidence bound cut the result; see `notes`.
    pub truncated: bool,
    /// Warnings: truncation, unmatched indicators.
    pub notes: Vec<String>,
    /// The linking rule applied.
    pub linking_rule: String,
    /// Records read over both passes' first pass.
    pub records_read: u64,
    /// Files not fully read and records rejected (first pass).
    pub input_problems: crate::inputs::InputProblems,
    /// Supporting records (also counted per tenant).
    #[serde(skip)]
    pub evidence: Vec<EvidenceRow>,
}
