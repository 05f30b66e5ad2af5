//! Comparing two audits: doors added, removed, or changed (risk or reason) since an earlier
//! snapshot. Doors are matched on (tenant, kind, id). The earlier side can be a snapshot folder or
//! a JSON report written by `--format json`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::door::{Door, Kind, Risk, rank};

/// One door whose risk or reason changed.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Tenant.
    pub tenant_id: String,
    /// Kind.
    pub kind: Kind,
    /// Id.
    pub id: String,
    /// Name now.
    pub name: String,
    /// Risk before.
    pub risk_before: Risk,
    /// Risk now.
    pub risk: Risk,
    /// Reason before.
    pub reason_before: String,
    /// Reason now.
    pub reason: String,
}

/// The difference.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// What the earlier side was.
    pub old: String,
    /// Doors present now, not before.
    pub added: Vec<Door>,
    /// Doors present before, not now.
    pub removed: Vec<Door>,
    /// Doors present in both whose risk or reason differ.
    pub changed: Vec<Change>,
}

/// Reads the doors of a JSON report written earlier; `None` when the text is not such a report.
pub fn doors_from_report(text: &str) -> Option<Vec<Door>> {
    #[derive(serde::Deserialize)]
    struct R {
        doors: Vec<Door>,
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str::<R>(text).ok().map(|r| r.doors)
}

/// Compares earlier doors with current ones.
pub fn compare(old_label: &str, old: &[Door], new: &[Door]) -> Comparison {
    let before: BTreeMap<_, &Door> = old.iter().map(|d| (d.key(), d)).collect();
    let after: BTreeMap<_, &Door> = new.iter().map(|d| (d.key(), d)).collect();
    let mut added: Vec<Door> = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(_, d)| (*d).clone())
        .collect();
    let mut removed: Vec<Door> = before
        .iter()
        .filter(|(k, _)| !after.contains_key(*k))
        .map(|(_, d)| (*d).clone())
        .collect();
    let mut changed = Vec::new();
    for (k, d) in &after {
        if let Some(b) = before.get(k)
            && (b.risk != d.risk || b.reason != d.reason)
        {
            changed.push(Change {
                tenant_id: d.tenant_id.clone(),
                kind: d.kind,
                id: d.id.clone(),
                name: d.name.clone(),
                risk_before: b.risk,
                risk: d.risk,
                reason_before: b.reason.clone(),
                reason: d.reason.clone(),
            });
        }
    }
    rank(&mut added);
    rank(&mut removed);
    changed.sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.id.cmp(&b.id)));
    Comparison {
        old: old_label.to_string(),
        added,
        removed,
        changed,
    }
}
