//! KQL target (Microsoft Sentinel / Log Analytics): each single-event rule becomes a query over
//! the tables its log source lives in (`T | where …`, several tables joined with `union`),
//! ending with a `rule_id` column. Field names are those of the table's export format (the
//! caller's field maps), read from the table's columns with `column_ifexists` and walked as
//! dynamic values (`todynamic(col)["a"]["b"]`); arrays along a path are not fanned out.
//!
//! Strings compare with KQL's case-insensitive operators (`=~`, `startswith`, `endswith`,
//! `contains`) unless `|cased` (`==`, `*_cs`); regexes run as RE2 (`matches regex`, flags as
//! inline groups); `cidr` uses `ipv4_is_in_range` and `ipv6_is_in_range`, time-part modifiers
//! take the part from the value's text ([`super::kql_parts`]); keywords search every column
//! (`* contains`).
//! Log Analytics stores a missing string as an empty one: `null` and `exists` test emptiness.
//! Correlations, canonical `tw.*` fields and rules with no table are left out, with the reason.

use super::{
    BoolSyntax, LowerContext, Lowering, NotLowered, ValueTest, correlation_key, predicates,
    prog_text, rule_key,
};
use crate::RuleSet;
use crate::compile::{Predicate, group_ranges};
use crate::value::{CmpOp, StrMode};

const KQL_BOOL: BoolSyntax = BoolSyntax {
    and: "and",
    or: "or",
    not: "not",
    true_: "true",
    false_: "false",
    if_fn: "iff",
};

/// Lowers every single-event rule of `set` to KQL; correlations are listed as not compiled.
pub fn lower(set: &RuleSet, ctx: &dyn LowerContext) -> Lowering {
    let mut out = Lowering::default();
    out.lower_rules(set, ctx, rule_query);
    for c in set.correlations() {
        let (rule_id, title, _) = correlation_key(c);
        out.not_compiled.push(NotLowered {
            rule_id,
            title,
            reason: "the KQL target lowers single-event rules only (correlations run on Spark or natively)"
                .into(),
        });
    }
    out
}

fn rule_query(set: &RuleSet, r: usize, ctx: &dyn LowerContext) -> Result<String, String> {
    let tables = ctx.tables(r);
    if tables.is_empty() {
        return Err("no Sentinel table holds its log source".into());
    }
    let prog = &set.rules()[r].prog;
    let preds = predicates(set);
    let mut parts = Vec::new();
    for (table, format) in &tables {
        let mut leaf = |i: u32| pred_kql(&preds[i as usize], format, ctx);
        let cond = prog_text(prog, &KQL_BOOL, &mut leaf)?;
        parts.push(format!("{table} | where {cond}"));
    }
    let (rule_id, _, _) = rule_key(set, r);
    let body = if parts.len() == 1 {
        parts.remove(0)
    } else {
        let wrapped: Vec<String> = parts.iter().map(|p| format!("({p})")).collect();
        format!("union {}", wrapped.join(", "))
    };
    Ok(format!("{body} | extend rule_id = {}", kql_lit(&rule_id)))
}

/// A KQL string literal.
pub(crate) fn kql_lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The dynamic value at a field path of a table row.
fn access(path: &str) -> String {
    let mut segs = path.split('.');
    let head = segs.next().unwrap_or("");
    let mut out = format!("todynamic(column_ifexists({}, \"\"))", kql_lit(head));
    for s in segs {
        out.push_str(&format!("[{}]", kql_lit(s)));
    }
    out
}

fn pred_kql(p: &Predicate, format: &str, ctx: &dyn LowerContext) -> Result<String, String> {
    let tests: Vec<ValueTest> = p
        .tests
        .iter()
        .map(ValueTest::of)
        .collect::<Result<_, _>>()?;
    if p.fields.is_empty() {
        let terms: Result<Vec<String>, String> = tests.iter().map(keyword_test).collect();
        let terms = terms?;
        return Ok(if p.all {
            format!("({})", terms.join(" and "))
        } else {
            format!("({})", terms.join(" or "))
        });
    }
    let mut per_field = Vec::new();
    for f in &p.fields {
        let mut reads = Vec::new();
        for t in ctx.targets(format, f.name()) {
            if t.starts_with("tw.") {
                return Err(format!(
                    "reads the canonical field {t}, which Sentinel tables do not have"
                ));
            }
            reads.push(texts(&access(&t), ctx.is_operation(&t)));
        }
        for v in reads {
            let text = if p.neq {
                format!(
                    "(isnotempty({}) and not({}))",
                    v[0],
                    any_test(&v, &tests, format, ctx)?
                )
            } else if p.all {
                let groups: Result<Vec<String>, String> = group_ranges(&p.groups)
                    .map(|r| any_test(&v, &tests[r], format, ctx))
                    .collect();
                format!("({})", groups?.join(" and "))
            } else {
                any_test(&v, &tests, format, ctx)?
            };
            per_field.push(text);
        }
    }
    if per_field.is_empty() {
        return Ok("false".into());
    }
    Ok(format!("({})", per_field.join(" or ")))
}

fn keyword_test(t: &ValueTest) -> Result<String, String> {
    match t {
        ValueTest::Contains(n, false) => Ok(format!("* contains {}", kql_lit(n))),
        ValueTest::Contains(n, true) => Ok(format!("* contains_cs {}", kql_lit(n))),
        _ => Err("keyword patterns other than a plain substring are not lowered to KQL".into()),
    }
}

/// The texts a field's value is tested as: itself, and for an operation name the normalised
/// variants the native engine offers (trimmed; without a trailing full stop and spaces; en dash
/// and spaced hyphen exchanged).
fn texts(v: &str, operation: bool) -> Vec<String> {
    let s = format!("tostring({v})");
    if !operation {
        return vec![s];
    }
    let trimmed = format!(r#"trim(@"\s+", {s})"#);
    let base = format!(r#"trim_end(@"\s+", trim_end(@"\.", {trimmed}))"#);
    vec![
        s,
        trimmed,
        base.clone(),
        format!(r#"replace_string({base}, "–", "-")"#),
        format!(r#"replace_string({base}, " - ", " – ")"#),
    ]
}

/// True when one of the field's texts passes one of `tests` (null and exists: the value itself).
fn any_test(
    v: &[String],
    tests: &[ValueTest],
    format: &str,
    ctx: &dyn LowerContext,
) -> Result<String, String> {
    let mut terms = Vec::new();
    for t in tests {
        let on: &[String] = match t {
            ValueTest::Null | ValueTest::Exists(_) => &v[..v.len().min(1)],
            _ => v,
        };
        for s in on {
            terms.push(value_test(s, t, format, ctx)?);
        }
    }
    Ok(format!("({})", terms.join(" or ")))
}

/// One test of the text `s` (a KQL string expression).
fn value_test(
    s: &str,
    t: &ValueTest,
    format: &str,
    ctx: &dyn LowerContext,
) -> Result<String, String> {
    let s = s.to_string();
    let op = |ci: &str, cs: &str, n: &str, cased: bool| {
        format!("{s} {} {}", if cased { cs } else { ci }, kql_lit(n))
    };
    Ok(match t {
        ValueTest::Exact(n, c) => op("=~", "==", n, *c),
        ValueTest::Prefix(n, c) => op("startswith", "startswith_cs", n, *c),
        ValueTest::Suffix(n, c) => op("endswith", "endswith_cs", n, *c),
        ValueTest::Contains(n, c) => op("contains", "contains_cs", n, *c),
        ValueTest::Any => format!("isnotempty({s})"),
        ValueTest::Glob(re, cased) => {
            let hay = if *cased {
                s.clone()
            } else {
                format!("tolower({s})")
            };
            format!("{hay} matches regex {}", kql_lit(re))
        }
        ValueTest::Regex(re, f) => {
            let mut flags = String::new();
            for (on, c) in [(f.i, 'i'), (f.m, 'm'), (f.s, 's')] {
                if on {
                    flags.push(c);
                }
            }
            let re = if flags.is_empty() {
                re.clone()
            } else {
                format!("(?{flags}){re}")
            };
            format!("{s} matches regex {}", kql_lit(&re))
        }
        ValueTest::Num(n) => format!("todouble({s}) == {}", kql_num(*n)),
        ValueTest::Cmp(o, n) => format!("todouble({s}) {} {}", cmp(*o), kql_num(*n)),
        ValueTest::Bool(b) => format!("{s} =~ \"{b}\""),
        ValueTest::Null => format!("isempty({s})"),
        ValueTest::Exists(true) => format!("isnotempty({s})"),
        ValueTest::Exists(false) => format!("isempty({s})"),
        ValueTest::Cidr4(lo, hi) => super::kql_parts::in_v4(&s, *lo, *hi),
        ValueTest::Time(part, o, n) => super::kql_parts::time_test(&s, *part, *o, *n),
        ValueTest::Cidr6(lo, hi) => super::kql_parts::in_v6(&s, *lo, *hi),
        ValueTest::FieldRef(other, mode) => {
            let targets = ctx.targets(format, other);
            let o = targets
                .first()
                .map(|t| access(t))
                .unwrap_or_else(|| access(other));
            let o = format!("tolower(tostring({o}))");
            let me = format!("tolower({s})");
            match mode {
                StrMode::Exact => format!("{me} == {o}"),
                StrMode::Prefix => format!("indexof({me}, {o}) == 0"),
                StrMode::Suffix => format!("{me} endswith_cs {o}"),
                StrMode::Contains => format!("{me} contains_cs {o}"),
            }
        }
    })
}

fn kql_num(n: f64) -> String {
    format!("real({n})")
}

/// The KQL operator of a comparison.
pub(super) fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Eq => "==",
    }
}
