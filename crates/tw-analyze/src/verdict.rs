//! The verdict of a case: what a responder needs first, derived from the hunt's findings, the
//! blast-radius result and the ingest coverage. This is the `verdict.json` contract of
//! `tenantwatch investigate` (`docs/investigate.md`): field names are stable, fields may be added.
//!
//! Nothing here links indicators by itself: compromised identities and attacker addresses are the
//! blast result's pivots (with their reasons), affected tenants its tenant rows. The verdict only
//! rearranges them and adds what the logs cannot tell (coverage gaps in the attack window) and
//! what the breach does not explain (high findings outside it).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tw_event::{Finding, Timestamp};
use tw_ingest::{CoverageRow, FileReport};

use crate::model::{BlastResult, Coverage, ObjectChange, Status, TenantBlast};

mod explain;
mod gaps;

use explain::{uncorroborated, unexplained};
pub use gaps::EXPECTED_RECORDS;
use gaps::coverage_gaps;

/// Schema name and version of `verdict.json`.
pub const VERDICT_SCHEMA: &str = "tenantwatch-verdict/1";

/// 1 informational … 5 critical; 0 unknown.
pub fn level_rank(l: &str) -> u8 {
    match l.trim().to_ascii_lowercase().as_str() {
        "informational" | "info" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => 0,
    }
}

/// A tenant with malicious activity.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedTenant {
    /// Tenant id.
    pub tenant_id: String,
    /// Name as the blast result gives it (log-derived; may be empty).
    pub name: String,
    /// `partner` or `customer`.
    pub role: String,
    /// First malicious activity.
    pub first: Option<Timestamp>,
    /// Last malicious activity.
    pub last: Option<Timestamp>,
    /// Mailboxes whose mail was read (UPNs).
    pub mailboxes_read: Vec<String>,
    /// Mailboxes read whose UPN the logs do not give (object ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mailbox_ids_read: Vec<String>,
    /// Objects changed.
    pub objects_changed: Vec<ObjectChange>,
    /// Techniques seen.
    pub techniques: Vec<String>,
    /// Identities behind the malicious activity.
    pub actors: Vec<String>,
    /// Addresses of the malicious activity.
    pub ips: Vec<String>,
    /// Malicious records.
    pub evidence_records: u64,
    /// The tenant's notification report, relative to the case folder (set when written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// A compromised identity and why it was taken.
#[derive(Debug, Clone, Serialize)]
pub struct CompromisedIdentity {
    /// UPN or application id.
    pub id: String,
    /// `user` or `app`.
    pub kind: String,
    /// Why (the blast pivot's reason).
    pub reason: String,
    /// Expansion steps from the seeds (0: a seed).
    pub depth: u32,
    /// The indicator it was reached from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// An attacker address and why it was taken.
#[derive(Debug, Clone, Serialize)]
pub struct AttackerAddress {
    /// The address.
    pub address: String,
    /// Why (the blast pivot's reason).
    pub reason: String,
    /// Expansion steps from the seeds.
    pub depth: u32,
    /// The indicator it was reached from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A tenant the compromised identities reached without malicious activity.
#[derive(Debug, Clone, Serialize)]
pub struct ReachedTenant {
    /// Tenant id.
    pub tenant_id: String,
    /// Name (log-derived; may be empty).
    pub name: String,
    /// The time its logs cover.
    pub coverage: Coverage,
}

/// A stretch of the attack window one log kind of one tenant does not cover.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CoverageGap {
    /// Tenant id.
    pub tenant_id: String,
    /// Log kind (`ual`, `signin`, …).
    pub log_kind: String,
    /// Start of the uncovered stretch.
    pub from: Timestamp,
    /// End of the uncovered stretch.
    pub to: Timestamp,
    /// `missing` (no log of this kind for the tenant), `starts_late`, `ends_early`, `silence`.
    pub kind: String,
}

/// The time one log kind of one tenant covers (for the coverage grid).
#[derive(Debug, Clone, Serialize)]
pub struct CoverageSpan {
    /// Tenant id.
    pub tenant_id: String,
    /// Log kind.
    pub log_kind: String,
    /// Records read.
    pub records: u64,
    /// First record.
    pub first: Option<Timestamp>,
    /// Last record.
    pub last: Option<Timestamp>,
    /// Silences longer than the gap threshold: (from, to).
    pub gaps: Vec<(Timestamp, Timestamp)>,
}

/// A seed of the analysis and what it matched.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictSeed {
    /// `actor`, `app`, `ip`, `partner_tenant`, `findings`.
    pub kind: String,
    /// The indicator as given (for findings: how many).
    pub value: String,
    /// Records it appears in.
    pub records: u64,
    /// `given` on the command line or `derived` from the findings.
    pub origin: String,
    /// A sentence when it matched nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An input file that was not fully read.
#[derive(Debug, Clone, Serialize)]
pub struct UnreadFile {
    /// The path as shown in provenance.
    pub path: String,
    /// `partial`, `unrecognised`, `empty`, `unreadable`.
    pub status: String,
    /// Records rejected in it.
    pub rejected: u64,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A time range.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Window {
    /// Start.
    pub from: Timestamp,
    /// End.
    pub to: Timestamp,
}

/// Counts of the findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingCounts {
    /// Every finding.
    pub total: usize,
    /// Findings at high or critical.
    pub high_or_above: usize,
}

/// `verdict.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Schema name and version.
    pub schema: &'static str,
    /// Tenants with malicious activity, earliest first.
    pub affected_tenants: Vec<AffectedTenant>,
    /// Compromised identities with the reason each was taken.
    pub compromised_identities: Vec<CompromisedIdentity>,
    /// Attacker addresses with the reason each was taken.
    pub attacker_addresses: Vec<AttackerAddress>,
    /// Tenants reached without malicious activity, with the time their logs cover.
    pub reached_no_activity: Vec<ReachedTenant>,
    /// Stretches of the attack window the logs do not cover ("no findings" is not "no data").
    pub coverage_gaps: Vec<CoverageGap>,
    /// High and critical findings the breach does not explain.
    pub unexplained_findings: Vec<Finding>,
    /// Input files not fully read (what they hold is not in the verdict).
    pub files_not_fully_read: Vec<UnreadFile>,
    /// The seeds of the analysis.
    pub seeds: Vec<VerdictSeed>,
    /// First to last malicious activity over every tenant (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_window: Option<Window>,
    /// The window the coverage gaps are judged in: the attack window, else the whole case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_window: Option<Window>,
    /// What to do first, most urgent first.
    pub actions: Vec<String>,
    /// Counts of the findings.
    pub findings: FindingCounts,
    /// Tenants in the inputs.
    pub tenants_examined: usize,
    /// Coverage per tenant and log kind (the case page's coverage grid).
    pub coverage: Vec<CoverageSpan>,
    /// Tenant names by id, where known.
    pub tenant_names: BTreeMap<String, String>,
    /// True when the blast radius was cut (`notes` says where): the lists may be incomplete.
    pub truncated: bool,
    /// Warnings of the analysis (truncation, unmatched seeds).
    pub notes: Vec<String>,
}

/// What the verdict is derived from.
pub struct VerdictInput<'a> {
    /// Every finding of the hunt.
    pub findings: &'a [Finding],
    /// The blast-radius result.
    pub blast: &'a BlastResult,
    /// Ingest coverage per tenant and log kind.
    pub coverage: &'a [CoverageRow],
    /// What became of each input file.
    pub files: &'a [FileReport],
    /// True when the seeds were derived from the findings rather than given.
    pub seeds_derived: bool,
    /// Uncovered stretches at the window's edges shorter than this (ms) are not gaps (the
    /// ingest gap threshold: exports of different logs end minutes apart).
    pub min_gap_ms: i64,
}

/// Derives the verdict.
pub fn derive(input: &VerdictInput) -> Verdict {
    let b = input.blast;
    let affected: Vec<AffectedTenant> = b
        .tenants
        .iter()
        .filter(|t| t.status == Status::Affected)
        .map(affected_tenant)
        .collect();
    let attack_window = window_of(affected.iter().flat_map(|t| [t.first, t.last]));
    let coverage = spans(input.coverage);
    let judged_window = attack_window.or_else(|| {
        window_of(
            coverage
                .iter()
                .flat_map(|s| [s.first, s.last])
                .collect::<Vec<_>>(),
        )
    });
    let (identities, addresses) = indicators(b);
    let mut v = Verdict {
        schema: VERDICT_SCHEMA,
        reached_no_activity: b
            .tenants
            .iter()
            .filter(|t| t.status == Status::AccessNoActivity)
            .map(|t| ReachedTenant {
                tenant_id: t.tenant_id.clone(),
                name: t.name.clone(),
                coverage: t.coverage.clone(),
            })
            .collect(),
        coverage_gaps: judged_window
            .map(|w| coverage_gaps(&coverage, b, w, input.min_gap_ms))
            .unwrap_or_default(),
        unexplained_findings: if input.seeds_derived {
            uncorroborated(input.findings, b)
        } else {
            unexplained(input.findings, b, &identities, &addresses)
        },
        files_not_fully_read: input
            .files
            .iter()
            .filter(|f| f.status != "ok")
            .map(|f| UnreadFile {
                path: f.path.clone(),
                status: f.status.to_string(),
                rejected: f.rejected,
                reason: f.note.clone().or_else(|| {
                    (f.rejected > 0).then(|| format!("{} record(s) rejected", f.rejected))
                }),
            })
            .collect(),
        seeds: seeds(b, input.seeds_derived),
        attack_window,
        judged_window,
        actions: Vec::new(),
        findings: FindingCounts {
            total: input.findings.len(),
            high_or_above: input
                .findings
                .iter()
                .filter(|f| level_rank(&f.rule.level) >= 4)
                .count(),
        },
        tenants_examined: b.tenants.len(),
        coverage,
        tenant_names: b
            .tenants
            .iter()
            .filter(|t| !t.name.is_empty())
            .map(|t| (t.tenant_id.clone(), t.name.clone()))
            .collect(),
        truncated: b.truncated,
        notes: b.notes.clone(),
        affected_tenants: affected,
        compromised_identities: identities,
        attacker_addresses: addresses,
    };
    v.actions = actions(&v);
    v
}

impl Verdict {
    /// The tenant's name, or its id where no name is known.
    pub fn name_of<'a>(&'a self, tenant_id: &'a str) -> &'a str {
        self.tenant_names
            .get(tenant_id)
            .map(String::as_str)
            .unwrap_or(tenant_id)
    }
}

fn affected_tenant(t: &TenantBlast) -> AffectedTenant {
    AffectedTenant {
        tenant_id: t.tenant_id.clone(),
        name: t.name.clone(),
        role: t.role.clone(),
        first: t.first,
        last: t.last,
        mailboxes_read: t.mailboxes_read.clone(),
        mailbox_ids_read: t.mailbox_ids_read.clone(),
        objects_changed: t.objects_changed.clone(),
        techniques: t.techniques.clone(),
        actors: t.actors.clone(),
        ips: t.ips.clone(),
        evidence_records: t.evidence_records,
        report: None,
    }
}

fn window_of(times: impl IntoIterator<Item = Option<Timestamp>>) -> Option<Window> {
    let mut w: Option<Window> = None;
    for t in times.into_iter().flatten() {
        w = Some(match w {
            None => Window { from: t, to: t },
            Some(w) => Window {
                from: w.from.min(t),
                to: w.to.max(t),
            },
        });
    }
    w
}

/// Compromised identities and attacker addresses: the blast result's pivots, in pivot order.
fn indicators(b: &BlastResult) -> (Vec<CompromisedIdentity>, Vec<AttackerAddress>) {
    let mut ids = Vec::new();
    let mut ips = Vec::new();
    for p in &b.pivots {
        match p.kind.as_str() {
            "identity" => {
                let (kind, id) = match p.indicator.split_once(':') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => ("identity".to_string(), p.indicator.clone()),
                };
                ids.push(CompromisedIdentity {
                    id,
                    kind,
                    reason: p.reason.clone(),
                    depth: p.depth,
                    from: p.from.clone(),
                });
            }
            "ip" => ips.push(AttackerAddress {
                address: p.indicator.clone(),
                reason: p.reason.clone(),
                depth: p.depth,
                from: p.from.clone(),
            }),
            _ => {}
        }
    }
    (ids, ips)
}

fn spans(rows: &[CoverageRow]) -> Vec<CoverageSpan> {
    let mut v: Vec<CoverageSpan> = rows
        .iter()
        .map(|r| CoverageSpan {
            tenant_id: r.tenant_id.to_ascii_lowercase(),
            log_kind: r.log_kind.as_str().to_string(),
            records: r.records,
            first: r.first,
            last: r.last,
            gaps: r.gaps.iter().map(|g| (g.from, g.to)).collect(),
        })
        .collect();
    v.sort_by(|a, b| (&a.tenant_id, &a.log_kind).cmp(&(&b.tenant_id, &b.log_kind)));
    v
}

fn seeds(b: &BlastResult, derived: bool) -> Vec<VerdictSeed> {
    b.seeds
        .iter()
        .map(|s| VerdictSeed {
            kind: s.kind.clone(),
            value: s.value.clone(),
            records: s.records,
            origin: if derived && s.kind == "findings" {
                "derived".into()
            } else {
                "given".into()
            },
            note: s.note.clone(),
        })
        .collect()
}

/// What to do first, from the verdict's own content.
fn actions(v: &Verdict) -> Vec<String> {
    let mut out = Vec::new();
    let users: Vec<&str> = v
        .compromised_identities
        .iter()
        .filter(|i| i.kind == "user")
        .map(|i| i.id.as_str())
        .collect();
    let apps: Vec<&str> = v
        .compromised_identities
        .iter()
        .filter(|i| i.kind == "app")
        .map(|i| i.id.as_str())
        .collect();
    if !users.is_empty() {
        out.push(format!(
            "Revoke the sessions and reset the credentials (and MFA methods) of {}; remove their delegated admin access to customers until cleared.",
            list(&users)
        ));
    }
    if !apps.is_empty() {
        out.push(format!(
            "Remove the credentials and permissions added to application(s) {}; review their sign-ins.",
            list(&apps)
        ));
    }
    if !v.attacker_addresses.is_empty() {
        out.push(format!(
            "Block the {} attacker address(es) in Conditional Access of the partner and every affected tenant.",
            v.attacker_addresses.len()
        ));
    }
    let customers = v
        .affected_tenants
        .iter()
        .filter(|t| t.role != "partner")
        .count();
    if customers > 0 {
        out.push(format!(
            "Notify the {customers} affected customer tenant(s): the reports are in the case folder."
        ));
    }
    let gap_tenants: BTreeSet<&str> = v
        .coverage_gaps
        .iter()
        .map(|g| g.tenant_id.as_str())
        .collect();
    if !gap_tenants.is_empty() {
        out.push(format!(
            "Collect the missing logs of {} tenant(s) for the attack window before their retention ends, then run again.",
            gap_tenants.len()
        ));
    }
    if !v.files_not_fully_read.is_empty() {
        out.push(format!(
            "Read again the {} input file(s) that were not fully read (verdict.json, files_not_fully_read): what they hold is not in this verdict.",
            v.files_not_fully_read.len()
        ));
    }
    if !v.unexplained_findings.is_empty() {
        out.push(format!(
            "Triage the {} high finding(s) the breach does not explain.",
            v.unexplained_findings.len()
        ));
    }
    if out.is_empty() {
        out.push("No malicious activity was linked: check the coverage gaps and the seeds.".into());
    }
    out
}

fn list(items: &[&str]) -> String {
    const SHOWN: usize = 4;
    let mut s = items
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Pivot, TenantBlast};
    use tw_event::{Actor, LogKind, Origin, Provenance, RuleRef};
    use tw_ingest::Gap;

    const HOUR: i64 = 3_600_000;

    fn t(h: i64) -> Timestamp {
        // 2024-11-07T00:00:00Z plus `h` hours.
        Timestamp(1_730_937_600_000 + h * HOUR)
    }

    fn row(tenant: &str, kind: LogKind, records: u64, gaps: &[(i64, i64)]) -> CoverageRow {
        CoverageRow {
            tenant_id: tenant.into(),
            log_kind: kind,
            records,
            first: Some(t(0)),
            last: Some(t(14 * 24)),
            gaps: gaps
                .iter()
                .map(|(a, b)| Gap {
                    from: t(*a),
                    to: t(*b),
                    hours: (b - a) as f64,
                })
                .collect(),
            tenant_source: Default::default(),
        }
    }

    fn tenant(id: &str, status: Status, first: i64, last: i64) -> TenantBlast {
        TenantBlast {
            tenant_id: id.into(),
            name: format!("name of {id}"),
            role: "customer".into(),
            status,
            first: (status == Status::Affected).then(|| t(first)),
            last: (status == Status::Affected).then(|| t(last)),
            actors: vec![],
            ips: vec![],
            techniques: vec![],
            mailboxes_read: vec![],
            mailbox_ids_read: vec![],
            objects_changed: vec![],
            evidence_records: 0,
            access: Default::default(),
            coverage: Default::default(),
        }
    }

    fn finding(user: &str, ip: &str, level: &str) -> Finding {
        Finding {
            rule: RuleRef {
                id: "r".into(),
                title: format!("rule {level}"),
                level: level.into(),
                tags: vec![],
                origin: Origin::Builtin,
            },
            time: Some(t(150)),
            tenant_id: Some("b".into()),
            actor: Actor {
                user: Some(user.into()),
                ..Default::default()
            },
            ip: Some(ip.into()),
            operation: Some("Add member to role.".into()),
            log: LogKind::DirectoryAudit,
            evidence: vec![Provenance {
                file: "b/audit.json".into(),
                record: 3,
                line: 4,
            }],
            matched: Default::default(),
        }
    }

    fn blast_result() -> BlastResult {
        BlastResult {
            tenants: vec![
                tenant("a", Status::Affected, 120, 180),
                tenant("b", Status::AccessNoActivity, 0, 0),
            ],
            pivots: vec![
                Pivot {
                    depth: 0,
                    kind: "identity".into(),
                    indicator: "user:tech@partner.example".into(),
                    from: None,
                    reason: "seed (--actor)".into(),
                },
                Pivot {
                    depth: 1,
                    kind: "ip".into(),
                    indicator: "203.0.113.9".into(),
                    from: Some("user:tech@partner.example".into()),
                    reason: "used by the seed".into(),
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn gaps_in_the_attack_window_are_judged_by_each_log_s_rate() {
        let b = blast_result();
        let coverage = vec![
            // Dense sign-ins (100 an hour) silent for 30 hours in the window: a gap.
            row("a", LogKind::Signin, 33_600, &[(130, 160)]),
            // A directory audit of 20 records over two weeks silent for 40 hours: ordinary quiet.
            row("a", LogKind::DirectoryAudit, 20, &[(100, 140)]),
            row("b", LogKind::Signin, 33_600, &[]),
            // No directory audit for tenant b at all: missing.
            row("unknown", LogKind::Ual, 10, &[]),
        ];
        let v = derive(&VerdictInput {
            findings: &[],
            blast: &b,
            coverage: &coverage,
            files: &[],
            seeds_derived: false,
            min_gap_ms: 24 * HOUR,
        });
        assert_eq!(
            v.attack_window,
            Some(Window {
                from: t(120),
                to: t(180)
            })
        );
        let got: Vec<(&str, &str, &str)> = v
            .coverage_gaps
            .iter()
            .map(|g| (g.tenant_id.as_str(), g.log_kind.as_str(), g.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "signin", "silence"),
                ("a", "ual", "missing"),
                ("b", "directory_audit", "missing"),
                ("b", "ual", "missing"),
            ]
        );
        assert_eq!(
            (v.coverage_gaps[0].from, v.coverage_gaps[0].to),
            (t(130), t(160))
        );
        assert_eq!(v.reached_no_activity[0].tenant_id, "b");
        assert_eq!(v.compromised_identities[0].id, "tech@partner.example");
        assert_eq!(v.compromised_identities[0].kind, "user");
        assert_eq!(v.attacker_addresses[0].address, "203.0.113.9");
    }

    #[test]
    fn derived_seeds_leave_lone_high_findings_unexplained() {
        let b = blast_result();
        let mut grant = finding("admin@customer.example", "198.51.100.7", "high");
        let mut grant_copy = grant.clone();
        grant_copy.rule.id = "r-ual".into();
        grant_copy.operation = Some("Add member to role".into());
        grant.time = Some(t(150));
        grant_copy.time = Some(Timestamp(t(150).millis() + 60_000));
        let mut first = finding("tech@partner.example", "192.0.2.1", "high");
        first.rule.id = "credential".into();
        let mut second = finding("tech@partner.example", "192.0.2.1", "high");
        second.rule.id = "sign-in".into();
        second.operation = Some("Sign-in activity".into());
        let findings = vec![grant, grant_copy, first, second];
        let v = derive(&VerdictInput {
            findings: &findings,
            blast: &b,
            coverage: &[],
            files: &[],
            seeds_derived: true,
            min_gap_ms: 24 * HOUR,
        });
        // The grant and its copy in another log name each other only: both unexplained; the
        // partner account's two findings on two actions explain each other.
        let who: Vec<&str> = v
            .unexplained_findings
            .iter()
            .filter_map(|f| f.actor.user.as_deref())
            .collect();
        assert_eq!(
            who,
            vec!["admin@customer.example", "admin@customer.example"]
        );
    }

    #[test]
    fn high_findings_outside_the_breach_are_unexplained() {
        let b = blast_result();
        let findings = vec![
            finding("admin@customer.example", "198.51.100.7", "high"),
            finding("TECH@partner.example", "198.51.100.7", "critical"),
            finding("admin@customer.example", "203.0.113.9", "high"),
            finding("admin@customer.example", "198.51.100.7", "medium"),
        ];
        let v = derive(&VerdictInput {
            findings: &findings,
            blast: &b,
            coverage: &[],
            files: &[],
            seeds_derived: false,
            min_gap_ms: 24 * HOUR,
        });
        assert_eq!(v.unexplained_findings.len(), 1);
        assert_eq!(
            v.unexplained_findings[0].actor.user.as_deref(),
            Some("admin@customer.example")
        );
        assert_eq!(v.findings.high_or_above, 3);
        assert!(v.actions.iter().any(|a| a.contains("Triage the 1 high")));
    }
}
