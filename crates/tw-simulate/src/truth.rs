//! The ground truth written next to the logs (`DIR/truth.json`): every attack record by file and
//! record index (as `tenantwatch ingest` numbers them), the technique it shows, the attacked and
//! untouched tenants, the mailboxes read, the attacker's addresses, the stolen account, and the
//! number of records of every file.
//!
//! Paths are relative to `DIR/logs/`; members of a zip archive are named `archive.zip!inner/path`.
//! Record indexes are 0-based: the n-th non-blank line of JSON lines, the n-th element of a JSON
//! array or across Graph pages and `{"records":[...]}` blobs, the n-th data row of a CSV.

use std::collections::BTreeMap;

use serde::Serialize;
use tw_event::Timestamp;

use crate::world::{AuditFormat, SigninFormat, UalFormat, World};

/// One attack record.
#[derive(Debug, Clone, Serialize)]
pub struct MaliciousRecord {
    /// File, relative to `logs/`.
    pub file: String,
    /// 0-based record index in the file.
    pub record: u64,
    /// Technique (`sp_credential_added`, ...).
    pub technique: &'static str,
    /// Tenant the record belongs to (the resource tenant).
    pub tenant_id: String,
    /// When it happened (Unix ms; written as RFC 3339).
    #[serde(serialize_with = "ser_time")]
    pub time: i64,
}

pub(crate) fn ser_time<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&Timestamp(*t))
}

/// A tenant as truth describes it.
#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    /// Tenant id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Custom domain.
    pub domain: String,
    /// Folder (or archive) under `logs/`.
    pub folder: String,
    /// `reseller`, `customer`.
    pub role: &'static str,
    /// Has a delegated-admin relationship with the reseller.
    pub partner_relationship: bool,
    /// Touched by the attacker.
    pub compromised: bool,
    /// Physical formats of its exports.
    pub formats: Vec<&'static str>,
    /// Users (mailboxes).
    pub users: usize,
}

/// A time span.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    /// Start.
    #[serde(serialize_with = "ser_time")]
    pub start: i64,
    /// End.
    #[serde(serialize_with = "ser_time")]
    pub end: i64,
}

/// The options the case was generated with.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    /// Seed.
    pub seed: u64,
    /// Customer tenants.
    pub tenants: usize,
    /// Attacked tenants.
    pub compromised: usize,
    /// Days covered.
    pub days: u32,
    /// Background scale.
    pub scale: f64,
}

/// `truth.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Schema name and version.
    pub schema: &'static str,
    /// This case is synthetic.
    pub synthetic: bool,
    /// How it was generated.
    pub generated: Generated,
    /// Period the logs cover.
    pub period: Span,
    /// When the attacker was active.
    pub attack_window: Span,
    /// The reseller tenant's id.
    pub partner_tenant: String,
    /// The reseller's delegated-admin account the attacker used.
    pub partner_account: String,
    /// The attacker's addresses.
    pub attacker_ips: Vec<String>,
    /// Tenants the attacker touched, in the order attacked.
    pub compromised_tenants: Vec<String>,
    /// Customers with the partner relationship the attacker never touched.
    pub untouched_partner_tenants: Vec<String>,
    /// The untouched tenant in which the stolen account's owner kept working during the attack.
    pub owner_routine_tenant: String,
    /// Mailboxes whose mail the attacker read, per tenant.
    pub mailboxes_read: BTreeMap<String, Vec<String>>,
    /// Attack records per technique.
    pub techniques: BTreeMap<&'static str, u64>,
    /// Every attack record.
    pub malicious: Vec<MaliciousRecord>,
    /// Records per file (every file under `logs/`).
    pub files: BTreeMap<String, u64>,
    /// All tenants.
    pub tenants: Vec<TenantInfo>,
    /// What the world's variations add (only in varied worlds).
    #[serde(flatten)]
    pub varied: Option<crate::truth_vary::VariedTruth>,
}

fn signin_format(f: SigninFormat) -> &'static str {
    match f {
        SigninFormat::GraphBeta => "signin.graph_json",
        SigninFormat::LogAnalyticsTenantless => "signin.log_analytics_csv",
        _ => "signin.azure_monitor",
    }
}

fn ual_format(f: UalFormat) -> &'static str {
    match f {
        UalFormat::MgmtApiLines | UalFormat::MgmtApiArray => "ual.mgmt_api_json",
        UalFormat::PurviewCsv | UalFormat::PurviewCsvClassic => "ual.purview_csv",
        UalFormat::OfficeActivityTenantless => "ual.log_analytics_csv",
    }
}

fn audit_format(f: AuditFormat) -> &'static str {
    match f {
        AuditFormat::GraphJson => "directory_audit.graph_json",
        AuditFormat::LogAnalyticsCsv => "directory_audit.log_analytics_csv",
        AuditFormat::AzureMonitor => "directory_audit.azure_monitor",
        AuditFormat::LogAnalyticsTenantless => "directory_audit.log_analytics_csv",
    }
}

fn formats(w: &World, i: usize) -> Vec<&'static str> {
    let p = w.tenants[i].profile;
    let mut v = vec![
        ual_format(p.ual),
        signin_format(p.signin),
        audit_format(p.audit),
    ];
    if p.graph_activity {
        v.push("graph_activity.azure_monitor");
    }
    v.extend(p.ual2.map(ual_format));
    v.extend(p.signin2.map(signin_format));
    v.extend(p.audit2.map(audit_format));
    v
}

/// Assembles the truth of a generated case.
pub fn assemble(
    w: &World,
    generated: Generated,
    mut malicious: Vec<MaliciousRecord>,
    files: BTreeMap<String, u64>,
    mailboxes: BTreeMap<String, Vec<String>>,
) -> Truth {
    malicious.sort_by(|a, b| (a.time, &a.file, a.record).cmp(&(b.time, &b.file, b.record)));
    let mut techniques = BTreeMap::new();
    for m in &malicious {
        *techniques.entry(m.technique).or_insert(0u64) += 1;
    }
    let a = &w.attack;
    let tenants = w
        .tenants
        .iter()
        .map(|t| TenantInfo {
            id: t.id.clone(),
            name: t.name.clone(),
            domain: t.domain.clone(),
            folder: if t.profile.zipped {
                format!("{}.zip", t.folder())
            } else {
                t.folder()
            },
            role: if t.is_partner { "reseller" } else { "customer" },
            partner_relationship: t.partner_customer,
            compromised: t.compromised,
            formats: formats(w, t.index),
            users: t.users.len(),
        })
        .collect();
    Truth {
        schema: "tenantwatch-simulate-truth/1",
        synthetic: true,
        generated,
        period: Span {
            start: w.start,
            end: w.end,
        },
        attack_window: Span {
            start: a.start,
            end: a.end,
        },
        partner_tenant: w.partner().id.clone(),
        partner_account: w.partner_user().upn.clone(),
        attacker_ips: a.ips.iter().map(|n| n.text()).collect(),
        compromised_tenants: a
            .strikes
            .iter()
            .map(|s| w.tenants[s.tenant].id.clone())
            .collect(),
        untouched_partner_tenants: w
            .tenants
            .iter()
            .filter(|t| t.partner_customer && !t.compromised)
            .map(|t| t.id.clone())
            .collect(),
        owner_routine_tenant: w.tenants[a.owner_busy].id.clone(),
        mailboxes_read: mailboxes,
        techniques,
        malicious,
        files,
        tenants,
        varied: w.vary.any().then(|| crate::truth_vary::varied(w)),
    }
}
