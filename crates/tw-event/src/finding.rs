//! Findings: what a detection concluded, with the evidence records that support it. This is the
//! machine-readable contract of `--format jsonl` (documented in `docs/findings.md`): absent values are
//! omitted, never empty strings.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Event, Provenance};
use crate::kind::LogKind;
use crate::time::Timestamp;

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The built-in pack shipped in the binary.
    Builtin,
    /// A SigmaHQ rule (recognised by its `sigmahq` path or `author` convention) given with `--rules`.
    Sigmahq,
    /// Any other rule given with `--rules`.
    User,
    /// A published indicator of compromise (`tenantwatch sweep`, `--iocs`).
    Ioc,
}

/// The rule behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// Rule id (UUID for Sigma rules).
    pub id: String,
    /// Rule title.
    pub title: String,
    /// `informational`, `low`, `medium`, `high`, `critical`.
    pub level: String,
    /// Tags (`attack.t1098.001`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Where the rule comes from.
    pub origin: Origin,
}

/// The actor of a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// User principal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Application (client) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Service principal object id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal_id: Option<String>,
    /// Home tenant of the actor (partner access when different from `tenant_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_tenant_id: Option<String>,
}

impl Actor {
    /// True when nothing is known of the actor.
    pub fn is_empty(&self) -> bool {
        self.user.is_none()
            && self.app_id.is_none()
            && self.service_principal_id.is_none()
            && self.home_tenant_id.is_none()
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: RuleRef,
    /// When (the first evidence record's time, for correlations the time the condition was met).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// The resource tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Who.
    #[serde(skip_serializing_if = "Actor::is_empty")]
    pub actor: Actor,
    /// From where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// What.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The log kind of the (first) evidence record.
    pub log: LogKind,
    /// Every supporting record.
    pub evidence: Vec<Provenance>,
    /// The fields (as named in the rule) and values that matched.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub matched: BTreeMap<String, String>,
    /// Every rule that saw the action, its copies in several logs, and the count of an aggregate
    /// (schema version 2; `docs/findings.md`).
    #[serde(flatten)]
    pub merged: Merged,
}

/// What merging the copies of one action, and aggregating routine context, adds to a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Merged {
    /// Every rule that reported the action, the finding's `rule` first, then by level (most
    /// severe first) and rule id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleRef>,
    /// How many records hold this one action (its copies in several logs or exports), when
    /// more than one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copies: Option<u64>,
    /// For a finding aggregating routine context: how many actions it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// For an aggregate: the time of its last action (`time` is its first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// How copies of the finding's action in other logs are recognised (not written).
    #[serde(skip)]
    pub identity: Option<Box<CopyIdentity>>,
}

/// What ties the copies of one action across logs and export formats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyIdentity {
    /// Ids that only this action carries and every copy of it repeats, each prefixed with its
    /// namespace (`signin:` request id, `audit:` directory audit id, `ual:` unified audit log
    /// record id, `graph:` Graph request id), lower case.
    pub ids: Vec<String>,
    /// For a directory change: the tie between its unified audit log copy and its directory
    /// audit copy, which share no record id.
    pub change: Option<ChangeTie>,
    /// For a correlation: the times (UTC seconds) of the records after its lead that another
    /// rule than the lead's matched — its follow-ups, the same in every copy of the sequence.
    pub follow_up: Option<Vec<i64>>,
}

/// A directory change as both the unified audit log and the directory audit record it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeTie {
    /// True for the unified audit log's copy, false for the directory audit's.
    pub from_ual: bool,
    /// Correlation ids: the directory audit's `correlationId`; the unified audit log's
    /// `InterSystemsId` and `IntraSystemId` (lower case).
    pub correlations: Vec<String>,
    /// The operation, normalised (lower case, dashes unified, spaces collapsed, no trailing
    /// full stop).
    pub operation: String,
    /// Object ids (GUIDs, lower case) of the change's targets.
    pub targets: Vec<String>,
}

impl Finding {
    /// A finding for one event.
    pub fn from_event(rule: RuleRef, ev: &Event, matched: BTreeMap<String, String>) -> Finding {
        let c = &ev.canonical;
        Finding {
            rule,
            time: c.time,
            tenant_id: c.tenant_id.clone(),
            actor: Actor {
                user: c.user.clone(),
                app_id: c.app_id.clone(),
                service_principal_id: c.service_principal_id.clone(),
                home_tenant_id: c.home_tenant_id.clone(),
            },
            ip: c.ip.clone(),
            operation: c.operation.clone(),
            log: ev.kind,
            evidence: vec![ev.provenance.clone()],
            matched,
            merged: Merged::default(),
        }
    }

    /// Every rule that reported the finding: `rules`, or `rule` alone when nothing was merged.
    pub fn all_rules(&self) -> &[RuleRef] {
        if self.merged.rules.is_empty() {
            std::slice::from_ref(&self.rule)
        } else {
            &self.merged.rules
        }
    }

    /// The order findings are reported in: time, then file, then record, then rule id.
    pub fn sort_key(&self) -> (Option<Timestamp>, Option<&Provenance>, &str) {
        (self.time, self.evidence.first(), self.rule.id.as_str())
    }

    /// Compares by [`Finding::sort_key`], without comparing the texts of file names that are
    /// one and the same (the findings of one input share its name): what sorting many findings
    /// spends its time on otherwise.
    pub fn cmp_by_key(&self, other: &Finding) -> std::cmp::Ordering {
        let prov = match (self.evidence.first(), other.evidence.first()) {
            (Some(a), Some(b)) => {
                let file = if std::sync::Arc::ptr_eq(&a.file, &b.file) {
                    std::cmp::Ordering::Equal
                } else {
                    a.file.cmp(&b.file)
                };
                file.then(a.record.cmp(&b.record)).then(a.line.cmp(&b.line))
            }
            (a, b) => a.is_some().cmp(&b.is_some()),
        };
        self.time
            .cmp(&other.time)
            .then(prov)
            .then_with(|| self.rule.id.cmp(&other.rule.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn finding(time: Option<i64>, file: Option<&Arc<str>>, record: u64, rule: &str) -> Finding {
        Finding {
            rule: RuleRef {
                id: rule.into(),
                title: String::new(),
                level: "low".into(),
                tags: Vec::new(),
                origin: Origin::Builtin,
            },
            time: time.map(Timestamp),
            tenant_id: None,
            actor: Actor::default(),
            ip: None,
            operation: None,
            log: LogKind::Signin,
            evidence: file
                .map(|f| Provenance {
                    file: f.clone(),
                    record,
                    line: record + 1,
                })
                .into_iter()
                .collect(),
            matched: BTreeMap::new(),
            merged: Merged::default(),
        }
    }

    #[test]
    fn comparing_by_key_orders_as_the_sort_key_does() {
        // Two inputs, one of them named by two separate allocations of the same text.
        let a: Arc<str> = Arc::from("logs/a.json");
        let a_again: Arc<str> = Arc::from("logs/a.json");
        let b: Arc<str> = Arc::from("logs/b.json");
        let mut all = Vec::new();
        for time in [None, Some(5), Some(7)] {
            for file in [None, Some(&a), Some(&a_again), Some(&b)] {
                for record in [0, 3] {
                    for rule in ["r1", "r2"] {
                        all.push(finding(time, file, record, rule));
                    }
                }
            }
        }
        for x in &all {
            for y in &all {
                assert_eq!(
                    x.cmp_by_key(y),
                    x.sort_key().cmp(&y.sort_key()),
                    "{x:?} {y:?}"
                );
            }
        }
        let mut by_key = all.clone();
        by_key.reverse();
        by_key.sort_by(Finding::cmp_by_key);
        let mut reference = all;
        reference.sort_by(|x, y| x.sort_key().cmp(&y.sort_key()));
        assert_eq!(by_key, reference);
    }
}
