//! Coverage gaps of a case: the stretches of a window that a tenant's logs do not cover, judged
//! against each log's own rate ("no findings" is not "no data").

use std::collections::{BTreeMap, BTreeSet};

use tw_event::Timestamp;

use super::{CoverageGap, CoverageSpan, Window};
use crate::model::BlastResult;

/// Records a log would hold, at its own average rate, in a stretch where it holds none before
/// the silence is reported: with events arriving independently (a Poisson process), five expected
/// records leave a chance below 1 % (e^-5) that the silence is normal quiet. A log with few
/// records (a small tenant's directory audit) is quiet for days in ordinary weeks; its absence is
/// then no sign of missing data and is not reported.
pub const EXPECTED_RECORDS: f64 = 5.0;

/// Records expected in `ms` milliseconds at the span's average rate.
fn expected(s: &CoverageSpan, ms: i64) -> f64 {
    let (Some(a), Some(b)) = (s.first, s.last) else {
        return 0.0;
    };
    let covered = (b.millis() - a.millis()).max(1) as f64;
    s.records as f64 * ms as f64 / covered
}

/// Every stretch of `w` a log kind present in the case does not cover, per tenant: a kind the
/// tenant has no log of, and silences unlikely at the log's own rate.
pub(super) fn coverage_gaps(
    spans: &[CoverageSpan],
    b: &BlastResult,
    w: Window,
    min_gap_ms: i64,
) -> Vec<CoverageGap> {
    let long = |a: Timestamp, b: Timestamp| b.millis() - a.millis() > min_gap_ms;
    let kinds: BTreeSet<&str> = spans.iter().map(|s| s.log_kind.as_str()).collect();
    let mut by_tenant: BTreeMap<&str, Vec<&CoverageSpan>> = BTreeMap::new();
    for s in spans {
        by_tenant.entry(&s.tenant_id).or_default().push(s);
    }
    for t in &b.tenants {
        by_tenant.entry(&t.tenant_id).or_default();
    }
    let mut out = Vec::new();
    // Records whose tenant could not be decided are no tenant whose logs could be missing.
    by_tenant.remove("unknown");
    for (tenant, have) in by_tenant {
        for kind in &kinds {
            let gap = |from: Timestamp, to: Timestamp, k: &str| CoverageGap {
                tenant_id: tenant.to_string(),
                log_kind: kind.to_string(),
                from,
                to,
                kind: k.to_string(),
            };
            let Some(s) = have.iter().find(|s| s.log_kind == *kind) else {
                out.push(gap(w.from, w.to, "missing"));
                continue;
            };
            let (Some(first), Some(last)) = (s.first, s.last) else {
                out.push(gap(w.from, w.to, "missing"));
                continue;
            };
            // A silence counts where the log's own rate makes it unlikely by chance.
            let unlikely = |a: Timestamp, b: Timestamp| {
                long(a, b) && expected(s, b.millis() - a.millis()) >= EXPECTED_RECORDS
            };
            if first > w.from && unlikely(w.from, first.min(w.to)) {
                out.push(gap(w.from, first.min(w.to), "starts_late"));
            }
            for (f, t) in &s.gaps {
                let (a, z) = ((*f).max(w.from), (*t).min(w.to));
                if a < z && expected(s, t.millis() - f.millis()) >= EXPECTED_RECORDS {
                    out.push(gap(a, z, "silence"));
                }
            }
            if last < w.to && unlikely(last.max(w.from), w.to) {
                out.push(gap(last.max(w.from), w.to, "ends_early"));
            }
        }
    }
    out
}
