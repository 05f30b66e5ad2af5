//! Spark SQL lowering of correlations (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`) with the native engine's window semantics
//! ([`crate::correlation`]): observations are the matches of the referenced rules that have an
//! event time and every group-by field (first value with a text, aliases resolved per rule);
//! per group they are ordered by (time, file, record) and scanned once: a window starts at each
//! observation not yet reported and holds those at most `timespan` later (both ends inclusive);
//! a window meeting the condition is reported with every observation it holds (an ordered one
//! from its first reference's first observation) and the scan resumes after it.
//!
//! The scan is a fold (`aggregate`) over each group's sorted observations, so reported windows
//! never overlap, exactly as natively. Correlations of correlations and `value_percentile` are
//! left to the native engine.

use super::spark::{SPARK_BOOL, per_format, rule_condition, source};
use super::spark_field::{Names, field_sql};
use super::{LowerContext, Lowering, correlation_key, sql_lit};
use crate::correlation::{CorrelationCondition, CorrelationType};
use crate::{Correlation, FieldRef, RuleSet};

/// Lowers every correlation of `set` whose matches the native engine reports.
pub(crate) fn lower_correlations(set: &RuleSet, ctx: &dyn LowerContext, out: &mut Lowering) {
    let consumed: Vec<bool> = (0..set.correlations().len())
        .map(|ci| {
            set.correlations()
                .iter()
                .any(|p| !p.rule().generate && p.correlation_refs().contains(&ci))
        })
        .collect();
    for (ci, c) in set.correlations().iter().enumerate() {
        if consumed[ci] {
            continue;
        }
        let result = match ctx.correlation_native_only(ci) {
            Some(reason) => Err(reason),
            None => correlation_query(set, c, ctx),
        };
        out.record(correlation_key(c), result);
    }
}

fn correlation_query(
    set: &RuleSet,
    c: &Correlation,
    ctx: &dyn LowerContext,
) -> Result<String, String> {
    if !c.correlation_refs().is_empty() {
        return Err("correlations of correlations are not lowered".into());
    }
    if c.rule().kind == CorrelationType::ValuePercentile {
        return Err("value_percentile correlations are not lowered".into());
    }
    let n_groups = c.rule().group_by.len();
    let mut parts = Vec::new();
    for (pos, r) in c.refs.iter().enumerate() {
        let Ok(r) = r else { continue };
        parts.push(observations(set, c, pos, *r, ctx)?);
    }
    let groups: Vec<String> = (0..n_groups).map(|g| format!("g{g}")).collect();
    let mut kept = vec!["t IS NOT NULL".to_string()];
    kept.extend(groups.iter().map(|g| format!("{g} IS NOT NULL")));
    let group_by = if groups.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", groups.join(", "))
    };
    let (rule_id, _, _) = correlation_key(c);
    Ok(format!(
        "WITH obs AS ({}), grouped AS (SELECT array_sort(collect_list(named_struct('t', t, 'file', file, 'record', record, 'p', p, 'v', v))) AS xs \
         FROM obs WHERE {}{group_by}), scanned AS (SELECT xs, {} AS ev FROM grouped WHERE size(xs) > 0) \
         SELECT DISTINCT {} AS rule_id, xs[k].file AS file, xs[k].record AS record FROM scanned LATERAL VIEW explode(ev) AS k",
        parts.join(" UNION ALL "),
        kept.join(" AND "),
        scan(c)?,
        sql_lit(&rule_id)
    ))
}

/// The observations of reference `pos` (detection rule `r`): time in milliseconds, group
/// values `g0…`, value `v`.
fn observations(
    set: &RuleSet,
    c: &Correlation,
    pos: usize,
    r: usize,
    ctx: &dyn LowerContext,
) -> Result<String, String> {
    let scope = ctx.scope(r)?;
    let cond = rule_condition(set, r, ctx, &scope)?;
    let mut cols = vec![
        "file".to_string(),
        "record".to_string(),
        "unix_millis(time) AS t".to_string(),
        format!("{pos} AS p"),
    ];
    let group_fields = c.group_fields.get(pos).map_or(&[][..], Vec::as_slice);
    for (g, f) in group_fields.iter().enumerate() {
        cols.push(format!("{} AS g{g}", first_text(f, &scope, ctx)?));
    }
    let value = match c.value_field.get(pos).and_then(Option::as_ref) {
        Some(f) => first_text(f, &scope, ctx)?,
        None => "CAST(NULL AS STRING)".to_string(),
    };
    cols.push(format!("{value} AS v"));
    Ok(format!(
        "SELECT {} FROM {} WHERE {cond}",
        cols.join(", "),
        source(&scope)
    ))
}

/// The first value of `f` with a text, per format.
fn first_text(
    f: &FieldRef,
    scope: &super::Scope,
    ctx: &dyn LowerContext,
) -> Result<String, String> {
    per_format(scope, &mut |format| {
        let mut names = Names::default();
        let field = field_sql(&ctx.reads(format, f.name()), &mut names);
        Ok(format!(
            "element_at(filter({}, y -> y IS NOT NULL), 1)",
            field.values
        ))
    })
}

/// The fold over a group's sorted observations `xs`: the indexes of the observations of every
/// reported window.
fn scan(c: &Correlation) -> Result<String, String> {
    let span = c.rule().timespan_ms;
    let window = format!("filter(slice(xs, k + 1, size(xs) - k), o -> o.t <= xs[k].t + {span})");
    let measured = measure(c)?;
    let start = match c.rule().kind {
        CorrelationType::TemporalOrdered => {
            "CAST(greatest(array_position(transform(w, o -> o.p), 0) - 1, 0) AS INT)"
        }
        _ => "0",
    };
    // The state is one int array: the index where the next window may start, then the
    // indexes of every reported observation.
    let step = format!(
        "transform(array({window}), w -> IF({measured}, \
         concat(array(k + size(w)), slice(st, 2, size(st) - 1), sequence(k + {start}, k + size(w) - 1)), st))[0]"
    );
    Ok(format!(
        "slice(aggregate(sequence(0, size(xs) - 1), array(0), (st, k) -> IF(k < st[0], st, {step})), 2, size(xs) + 1)"
    ))
}

/// Whether window `w` meets the correlation's condition.
fn measure(c: &Correlation) -> Result<String, String> {
    let r = c.rule();
    let n = c.refs.len();
    let nums = "transform(filter(w, o -> o.v RLIKE '^\\\\s*[-+.eE0-9]*[0-9][-+.eE0-9]*\\\\s*$'), o -> CAST(o.v AS DOUBLE))";
    let bounded = |value: &str| condition(&r.condition, value);
    Ok(match r.kind {
        CorrelationType::EventCount => bounded("size(w)"),
        CorrelationType::ValueCount => {
            bounded("size(array_distinct(filter(transform(w, o -> o.v), x -> x IS NOT NULL)))")
        }
        CorrelationType::Temporal => {
            let v = "size(array_distinct(transform(w, o -> o.p)))";
            if has_bound(&r.condition) {
                bounded(v)
            } else {
                format!("{v} >= {n}")
            }
        }
        CorrelationType::TemporalOrdered => {
            let v = format!("aggregate(w, 0, (nx, o) -> IF(nx < {n} AND o.p = nx, nx + 1, nx))");
            if has_bound(&r.condition) {
                bounded(&v)
            } else {
                format!("{v} >= {n}")
            }
        }
        CorrelationType::ValueSum => format!(
            "(size({nums}) > 0 AND {})",
            bounded(&format!(
                "aggregate({nums}, CAST(0 AS DOUBLE), (a, b) -> a + b)"
            ))
        ),
        CorrelationType::ValueAvg => format!(
            "(size({nums}) > 0 AND {})",
            bounded(&format!(
                "aggregate({nums}, CAST(0 AS DOUBLE), (a, b) -> a + b) / size({nums})"
            ))
        ),
        CorrelationType::ValuePercentile => {
            return Err("value_percentile correlations are not lowered".into());
        }
    })
}

fn has_bound(c: &CorrelationCondition) -> bool {
    [c.gt, c.gte, c.lt, c.lte, c.eq, c.neq]
        .iter()
        .any(Option::is_some)
}

/// Every bound of the condition on `value`.
fn condition(c: &CorrelationCondition, value: &str) -> String {
    let mut terms = Vec::new();
    for (b, op) in [
        (c.gt, ">"),
        (c.gte, ">="),
        (c.lt, "<"),
        (c.lte, "<="),
        (c.eq, "="),
        (c.neq, "!="),
    ] {
        if let Some(b) = b {
            terms.push(format!("{value} {op} CAST('{b}' AS DOUBLE)"));
        }
    }
    if terms.is_empty() {
        return SPARK_BOOL.true_.to_string();
    }
    format!("({})", terms.join(" AND "))
}
