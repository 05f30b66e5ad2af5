//! Spark SQL lowering of correlations (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`, `value_percentile`), correlations of
//! correlations included, with the native engine's window semantics ([`crate::correlation`]).
//!
//! A correlation becomes two common table expressions: `o<c>`, its observations, and `w<c>`,
//! the windows it reports. Observations of a detection rule are its matches that have an event
//! time and every group-by field (first value with a text, aliases resolved per rule); those of
//! an inner correlation are the rows of its `w<c>`: one per reported window, at the time of the
//! window's last observation, with the outer group-by fields read from the inner group values
//! (exact name first, then ignoring ASCII case) and every base record behind the window as
//! evidence. Per group the observations are ordered as the native engine orders them (time,
//! then rule matches by (file, record, reference) before inner windows by the inner
//! correlation's evaluation rank, reference, group values and window) and scanned once by a
//! fold (`aggregate`): a window starts at each observation not yet reported and holds those at
//! most `timespan` later (both ends inclusive); a window meeting the condition is reported with
//! every observation it holds (an ordered one from its first reference's first observation) and
//! the scan resumes after it, so reported windows never overlap. The query of a correlation
//! returns the base records of its reported windows, each with the window it belongs to
//! (`window_id`: its group values and index, as JSON text), which the native post-processing
//! rebuilds one at a time (`tenantwatch findings --from-spark`).

use super::spark::{SPARK_BOOL, per_format, rule_condition, source};
use super::spark_field::{Names, field_sql};
use super::{LowerContext, Lowering, correlation_key, sql_lit};
use crate::correlation::{CorrelationCondition, CorrelationType};
use crate::{Correlation, FieldRef, RuleSet};

/// The columns of every observation, in `UNION ALL` order: time (ms), source (0: a rule match,
/// else 1 + the evaluation rank of the inner correlation), file and record (of a rule match),
/// reference position, inner group values and window index (of an inner window), group values
/// `g0…`, value, evidence records.
const OBS_STRUCT: &str = "named_struct('t', t, 'src', src, 'file', file, 'record', record, 'p', p, 'gk', gk, 'wi', wi, 'v', v, 'ev', ev)";

/// Lowers every correlation of `set` whose matches the native engine reports.
pub(crate) fn lower_correlations(set: &RuleSet, ctx: &dyn LowerContext, out: &mut Lowering) {
    let consumed: Vec<bool> = (0..set.correlations().len())
        .map(|ci| {
            set.correlations()
                .iter()
                .any(|p| !p.rule().generate && p.correlation_refs().contains(&ci))
        })
        .collect();
    let rank = evaluation_rank(set);
    for (ci, c) in set.correlations().iter().enumerate() {
        if consumed[ci] {
            continue;
        }
        let mut q = Query {
            set,
            ctx,
            rank: &rank,
            built: vec![false; rank.len()],
            ctes: Vec::new(),
        };
        let result = match ctx.correlation_native_only(ci) {
            Some(reason) => Err(reason),
            None => q.windows(ci),
        };
        let result = result.map(|()| {
            let (rule_id, _, _) = correlation_key(c);
            format!(
                "WITH {} SELECT DISTINCT {} AS rule_id, e.file AS file, e.record AS record, \
                 to_json(named_struct('g', gk, 'w', wi)) AS window_id FROM w{ci} LATERAL VIEW explode(ev) AS e",
                q.ctes.join(", "),
                sql_lit(&rule_id)
            )
        });
        out.record(correlation_key(c), result);
    }
}

/// Each correlation's rank in the native engine's evaluation order
/// ([`crate::correlation::evaluation_order`]; `usize::MAX` for one never evaluated).
pub(super) fn evaluation_rank(set: &RuleSet) -> Vec<usize> {
    let mut rank = vec![usize::MAX; set.correlations().len()];
    for (k, ci) in crate::correlation::evaluation_order(set.correlations())
        .into_iter()
        .enumerate()
    {
        rank[ci] = k;
    }
    rank
}

/// The common table expressions of one correlation query, built inner correlations first.
struct Query<'a> {
    set: &'a RuleSet,
    ctx: &'a dyn LowerContext,
    rank: &'a [usize],
    /// Correlations whose `o<c>` and `w<c>` are already in `ctes`.
    built: Vec<bool>,
    ctes: Vec<String>,
}

impl Query<'_> {
    /// Adds `o<ci>` and `w<ci>` (and those of the correlations it refers to).
    fn windows(&mut self, ci: usize) -> Result<(), String> {
        if self.built.get(ci).copied().unwrap_or(true) {
            return Ok(());
        }
        let c = &self.set.correlations()[ci];
        let texts = observes_texts(self.set, c);
        let mut parts = Vec::new();
        for (pos, r) in c.refs.iter().enumerate() {
            match *r {
                Ok(r) => parts.push(observations(self.set, c, pos, r, self.ctx)?),
                Err(j) => {
                    if let Some(reason) = self.ctx.correlation_native_only(j) {
                        let (inner, _, _) = correlation_key(&self.set.correlations()[j]);
                        return Err(format!("refers to correlation {inner}: {reason}"));
                    }
                    self.windows(j)?;
                    let inner = &self.set.correlations()[j];
                    let rank = self.rank.get(j).copied().unwrap_or(usize::MAX);
                    parts.push(inner_observations(c, pos, (inner, j, rank), texts)?);
                }
            }
        }
        self.ctes
            .push(format!("o{ci} AS ({})", parts.join(" UNION ALL ")));
        self.ctes
            .push(format!("w{ci} AS ({})", windows_query(c, ci)?));
        self.built[ci] = true;
        Ok(())
    }
}

/// The observations of reference `pos` (detection rule `r`).
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
        "unix_millis(time) AS t".to_string(),
        "0 AS src".to_string(),
        "file".to_string(),
        "record".to_string(),
        format!("{pos} AS p"),
        "CAST(array() AS array<string>) AS gk".to_string(),
        "0 AS wi".to_string(),
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
    cols.push("array(named_struct('file', file, 'record', record)) AS ev".to_string());
    Ok(format!(
        "SELECT {} FROM {} WHERE {cond}",
        cols.join(", "),
        source(&scope)
    ))
}

/// The position of group-by name `name` among `names` (exact, then ignoring ASCII case), as the
/// native engine finds an outer field among an inner correlation's group values.
fn group_index(names: &[String], name: &str) -> Option<usize> {
    names
        .iter()
        .position(|g| g == name)
        .or_else(|| names.iter().position(|g| g.eq_ignore_ascii_case(name)))
}

/// Whether some observation values of correlation `c` are texts read from events (a detection
/// rule's field, an inner correlation's group value) rather than measured values.
fn observes_texts(set: &RuleSet, c: &Correlation) -> bool {
    let field = c.rule().condition.field.as_deref();
    c.refs.iter().any(|r| match *r {
        Ok(_) => true,
        Err(j) => {
            let names = &set.correlations()[j].rule().group_by;
            field.and_then(|f| group_index(names, f)).is_some()
        }
    })
}

/// The observations of reference `pos`, inner correlation `inner` (index `j`, evaluation rank
/// `rank`): its reported windows. A group-by field the inner correlation does not group by
/// drops them all, as natively; the value is the inner group value the condition's `field`
/// names, else the window's measured value as the native engine writes a number. `texts`: the
/// outer correlation also observes texts read from events.
fn inner_observations(
    c: &Correlation,
    pos: usize,
    (inner, j, rank): (&Correlation, usize, usize),
    texts: bool,
) -> Result<String, String> {
    let names = &inner.rule().group_by;
    let index_of = |name: &str| group_index(names, name);
    let mut cols = vec![
        "t".to_string(),
        format!("{} AS src", rank.saturating_add(1)),
        "CAST('' AS STRING) AS file".to_string(),
        "CAST(0 AS BIGINT) AS record".to_string(),
        format!("{pos} AS p"),
        "gk".to_string(),
        "wi".to_string(),
    ];
    let group_fields = c.group_fields.get(pos).map_or(&[][..], Vec::as_slice);
    for (g, f) in group_fields.iter().enumerate() {
        let value = match index_of(f.name()) {
            Some(i) => format!("gk[{i}]"),
            None => "CAST(NULL AS STRING)".to_string(),
        };
        cols.push(format!("{value} AS g{g}"));
    }
    let value = match c.rule().condition.field.as_deref().and_then(index_of) {
        Some(i) => format!("gk[{i}]"),
        None => {
            // Distinct measured values have distinct texts on both sides (each writes a double
            // one way), so counting them agrees; compared with texts from events, a number that
            // is not whole would not (Spark writes `2.0E-7` where the engine writes `0.0000002`).
            if c.rule().kind == CorrelationType::ValueCount
                && fractional(inner.rule().kind)
                && texts
            {
                return Err(format!(
                    "value_count of the measured values of correlation {} together with values read from events: a number that is not whole is written differently by Spark",
                    correlation_key(inner).0
                ));
            }
            number_text("m")
        }
    };
    cols.push(format!("{value} AS v"));
    cols.push("ev".to_string());
    Ok(format!("SELECT {} FROM w{j}", cols.join(", ")))
}

/// Whether correlation type `kind` may measure a number that is not whole.
fn fractional(kind: CorrelationType) -> bool {
    matches!(
        kind,
        CorrelationType::ValueSum | CorrelationType::ValueAvg | CorrelationType::ValuePercentile
    )
}

/// The text of double `x` as the native engine writes a measured value: a whole number without
/// a fraction (`3`, not `3.0`); other numbers as Spark writes a double (they are only read
/// back as numbers, which gives the same double).
fn number_text(x: &str) -> String {
    format!(
        "CASE WHEN abs({x}) < 1e15 AND {x} = floor({x}) THEN CAST(CAST({x} AS BIGINT) AS STRING) ELSE CAST({x} AS STRING) END"
    )
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

/// `w<ci>`: one row per reported window of correlation `c`: its group values `gk`, its index
/// `wi` in the group, the time `t` of its last observation, its measured value `m` and the base
/// records `ev` of the observations it reports.
fn windows_query(c: &Correlation, ci: usize) -> Result<String, String> {
    let n_groups = c.rule().group_by.len();
    let groups: Vec<String> = (0..n_groups).map(|g| format!("g{g}")).collect();
    let mut kept = vec!["t IS NOT NULL".to_string()];
    kept.extend(groups.iter().map(|g| format!("{g} IS NOT NULL")));
    let (selected, group_by, gk) = if groups.is_empty() {
        (
            String::new(),
            String::new(),
            "CAST(array() AS array<string>)".to_string(),
        )
    } else {
        (
            format!("{}, ", groups.join(", ")),
            format!(" GROUP BY {}", groups.join(", ")),
            format!("array({})", groups.join(", ")),
        )
    };
    let measured = format!(
        "transform(array(slice(xs, kab[0] + 1, kab[2] - kab[0] + 1)), w -> CAST({} AS DOUBLE))[0]",
        measure(c).value
    );
    Ok(format!(
        "SELECT gk, wi, xs[kab[2]].t AS t, {measured} AS m, \
         array_distinct(flatten(transform(slice(xs, kab[1] + 1, kab[2] - kab[1] + 1), o -> o.ev))) AS ev \
         FROM (SELECT {gk} AS gk, xs, {} AS st FROM (SELECT {selected}array_sort(collect_list({OBS_STRUCT})) AS xs \
         FROM o{ci} WHERE {}{group_by}) grouped WHERE size(xs) > 0) scanned \
         LATERAL VIEW posexplode(slice(st, 2, size(st) - 1)) reported AS wi, kab",
        scan(c),
        kept.join(" AND "),
    ))
}

/// The fold over a group's sorted observations `xs`. Its state is an array of int arrays: the
/// index where the next window may start, then per reported window the indexes of its first
/// observation, of its first reported one and of its last.
fn scan(c: &Correlation) -> String {
    let span = c.rule().timespan_ms;
    let window = format!("filter(slice(xs, k + 1, size(xs) - k), o -> o.t <= xs[k].t + {span})");
    let start = match c.rule().kind {
        CorrelationType::TemporalOrdered => {
            "CAST(greatest(array_position(transform(w, o -> o.p), 0) - 1, 0) AS INT)"
        }
        _ => "0",
    };
    let step = format!(
        "transform(array({window}), w -> IF({}, \
         concat(array(array(k + size(w))), slice(st, 2, size(st) - 1), array(array(k, k + {start}, k + size(w) - 1))), st))[0]",
        measure(c).test(c)
    );
    format!(
        "aggregate(sequence(0, size(xs) - 1), array(array(0)), (st, k) -> IF(k < st[0][0], st, {step}))"
    )
}

/// What a window `w` measures: the value, and what must hold for there to be one (value types
/// measure only windows with a number).
struct Measure {
    value: String,
    needs: Option<String>,
}

impl Measure {
    /// Whether the window meets the correlation's condition.
    fn test(&self, c: &Correlation) -> String {
        let r = c.rule();
        let n = c.refs.len();
        let bounded = match r.kind {
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
                if !has_bound(&r.condition) =>
            {
                format!("{} >= {n}", self.value)
            }
            _ => condition(&r.condition, &self.value),
        };
        match &self.needs {
            Some(needs) => format!("({needs} AND {bounded})"),
            None => bounded,
        }
    }
}

/// The measure of a window `w` of correlation `c`, as the native engine measures one.
fn measure(c: &Correlation) -> Measure {
    let r = c.rule();
    let n = c.refs.len();
    // The values the native engine reads as numbers (finite decimal numbers).
    let nums = "filter(transform(filter(w, o -> o.v RLIKE '^\\\\s*[-+.eE0-9]*[0-9][-+.eE0-9]*\\\\s*$'), o -> CAST(o.v AS DOUBLE)), x -> x IS NOT NULL AND abs(x) < CAST('Infinity' AS DOUBLE))";
    let sum = format!("aggregate({nums}, CAST(0 AS DOUBLE), (a, b) -> a + b)");
    let needs = Some(format!("size({nums}) > 0"));
    match r.kind {
        CorrelationType::EventCount => Measure {
            value: "size(w)".into(),
            needs: None,
        },
        CorrelationType::ValueCount => Measure {
            value: "size(array_distinct(filter(transform(w, o -> o.v), x -> x IS NOT NULL)))"
                .into(),
            needs: None,
        },
        CorrelationType::Temporal => Measure {
            value: "size(array_distinct(transform(w, o -> o.p)))".into(),
            needs: None,
        },
        CorrelationType::TemporalOrdered => Measure {
            value: format!("aggregate(w, 0, (nx, o) -> IF(nx < {n} AND o.p = nx, nx + 1, nx))"),
            needs: None,
        },
        CorrelationType::ValueSum => Measure { value: sum, needs },
        CorrelationType::ValueAvg => Measure {
            value: format!("{sum} / size({nums})"),
            needs,
        },
        CorrelationType::ValuePercentile => Measure {
            value: percentile(nums, r.condition.percentile.unwrap_or(50.0)),
            needs,
        },
    }
}

/// The nearest-rank percentile `p` of the numbers `nums`, as the native engine takes it: the
/// value at rank `ceil(p / 100 × count)` (at least 1, at most the count) of the sorted numbers.
fn percentile(nums: &str, p: f64) -> String {
    format!(
        "element_at(array_sort({nums}), CAST(greatest(least(ceil(CAST('{p}' AS DOUBLE) / CAST(100 AS DOUBLE) * CAST(size({nums}) AS DOUBLE)), size({nums})), 1) AS INT))"
    )
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
