//! Spark SQL target: each detection rule becomes a query over the view `events` returning
//! `rule_id`, `file`, `record` for every record it matches; correlations are lowered in
//! [`super::spark_corr`].
//!
//! A rule's condition is written per physical format (field names differ by format) and
//! formats giving the same text share one branch. Strings compare on `lower()` unless `|cased`;
//! `LIKE` patterns escape `\`, `%` and `_`; string literals escape `\` and `'`; regexes are
//! translated to Java's flavour or refused ([`super::java_regex`]); numbers compare as numbers
//! when the text is a decimal number, as the native engine parses them; keywords search the raw
//! record text (`raw`, their needles JSON-escaped as the text spells them).

use std::collections::BTreeMap;

use super::spark_field::{DOC, FieldSql, Names, field_sql};
use super::{
    BoolSyntax, LowerContext, Lowering, Scope, ValueTest, java_regex, like_escape, predicates,
    prog_text, rule_key, sql_lit,
};
use crate::RuleSet;
use crate::compile::Predicate;
use crate::value::{CmpOp, StrMode};

pub(crate) const SPARK_BOOL: BoolSyntax = BoolSyntax {
    and: "AND",
    or: "OR",
    not: "NOT",
    true_: "true",
    false_: "false",
    if_fn: "IF",
};

/// Lowers every rule and correlation of `set` to Spark SQL. Detection rules consumed only by
/// correlations give no query of their own (the native engine reports none of their matches).
pub fn lower(set: &RuleSet, ctx: &dyn LowerContext) -> Lowering {
    let mut out = Lowering::default();
    out.lower_rules(set, ctx, rule_query);
    super::spark_corr::lower_correlations(set, ctx, &mut out);
    out
}

/// The query of detection rule `r`.
pub(crate) fn rule_query(
    set: &RuleSet,
    r: usize,
    ctx: &dyn LowerContext,
) -> Result<String, String> {
    let scope = ctx.scope(r)?;
    let cond = rule_condition(set, r, ctx, &scope)?;
    let (rule_id, _, _) = rule_key(set, r);
    Ok(format!(
        "SELECT {} AS rule_id, file, record FROM {} WHERE {cond}",
        sql_lit(&rule_id),
        source(&scope)
    ))
}

/// The rows of `scope`'s log kinds, each with its parsed record.
pub(crate) fn source(scope: &Scope) -> String {
    let kinds: Vec<String> = scope.kinds.iter().map(|k| sql_lit(k)).collect();
    format!(
        "(SELECT *, from_json(raw, 'map<string,string>') AS {DOC} FROM events WHERE log_kind IN ({})) AS ev",
        kinds.join(", ")
    )
}

/// The condition of detection rule `r` over a row of `scope`, by format.
pub(crate) fn rule_condition(
    set: &RuleSet,
    r: usize,
    ctx: &dyn LowerContext,
    scope: &Scope,
) -> Result<String, String> {
    let prog = &set.rules()[r].prog;
    let preds = predicates(set);
    per_format(scope, &mut |format| {
        let mut names = Names::default();
        let mut leaf = |i: u32| pred_sql(&preds[i as usize], format, ctx, &mut names);
        prog_text(prog, &SPARK_BOOL, &mut leaf)
    })
}

/// An expression written per format of `scope` (`expr(None)`: formats outside the list), the
/// formats giving the same text sharing one branch of a `CASE` on the `format` column.
pub(crate) fn per_format(
    scope: &Scope,
    expr: &mut dyn FnMut(Option<&str>) -> Result<String, String>,
) -> Result<String, String> {
    let default = expr(None)?;
    let mut by_text: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &scope.formats {
        let text = expr(Some(f))?;
        if text != default {
            by_text.entry(text).or_default().push(f.clone());
        }
    }
    if by_text.is_empty() {
        return Ok(default);
    }
    let mut branches: Vec<(Vec<String>, String)> =
        by_text.into_iter().map(|(t, fs)| (fs, t)).collect();
    branches.sort();
    let mut out = String::from("CASE");
    for (formats, text) in branches {
        let list: Vec<String> = formats.iter().map(|f| sql_lit(f)).collect();
        out.push_str(&format!(
            " WHEN format IN ({}) THEN {text}",
            list.join(", ")
        ));
    }
    out.push_str(&format!(" ELSE {default} END"));
    Ok(out)
}

/// One predicate in `format`: true when any of its fields passes (keywords: the raw text).
fn pred_sql(
    p: &Predicate,
    format: Option<&str>,
    ctx: &dyn LowerContext,
    names: &mut Names,
) -> Result<String, String> {
    let tests: Vec<ValueTest> = p
        .tests
        .iter()
        .map(ValueTest::of)
        .collect::<Result<_, _>>()?;
    let keyword = p.fields.is_empty();
    let fields: Vec<FieldSql> = if keyword {
        vec![FieldSql {
            present: "true".into(),
            values: "array(raw)".into(),
        }]
    } else {
        p.fields
            .iter()
            .map(|f| field_sql(&ctx.reads(format, f.name()), names))
            .collect()
    };
    let env = Env {
        format,
        ctx,
        keyword,
    };
    let mut per_field = Vec::new();
    for f in &fields {
        let text = if p.neq {
            format!(
                "({} AND NOT {})",
                f.present,
                any_value(f, &tests, &env, names)?
            )
        } else if p.all {
            let groups: Result<Vec<String>, String> = crate::compile::group_ranges(&p.groups)
                .map(|r| any_value(f, &tests[r], &env, names))
                .collect();
            format!("({})", groups?.join(" AND "))
        } else {
            any_value(f, &tests, &env, names)?
        };
        per_field.push(text);
    }
    Ok(format!("coalesce(({}), false)", per_field.join(" OR ")))
}

/// What a test needs besides the value.
struct Env<'a> {
    format: Option<&'a str>,
    ctx: &'a dyn LowerContext,
    keyword: bool,
}

/// True when some value passes a test, or a field-level test (null, exists) holds.
fn any_value(
    f: &FieldSql,
    tests: &[ValueTest],
    env: &Env,
    names: &mut Names,
) -> Result<String, String> {
    let x = names.next("x");
    let mut on_value = Vec::new();
    let mut on_field = Vec::new();
    for t in tests {
        match t {
            ValueTest::Null => {
                on_value.push(format!("{x} IS NULL"));
                on_field.push(format!("NOT {}", f.present));
            }
            ValueTest::Exists(true) => on_field.push(f.present.clone()),
            ValueTest::Exists(false) => on_field.push(format!("NOT {}", f.present)),
            _ => on_value.push(value_test(t, &x, env, names)?),
        }
    }
    let mut terms = Vec::new();
    if !on_value.is_empty() {
        terms.push(format!(
            "exists({}, {x} -> coalesce({}, false))",
            f.values,
            on_value.join(" OR ")
        ));
    }
    terms.extend(on_field);
    Ok(if terms.is_empty() {
        "false".into()
    } else {
        format!("({})", terms.join(" OR "))
    })
}

/// A decimal number as the native engine parses one (trimmed digits, sign, point, exponent).
const NUMBER_RE: &str = r"^\s*[-+.eE0-9]*[0-9][-+.eE0-9]*\s*$";

fn number(x: &str, op: &str, n: f64) -> String {
    format!(
        "({x} RLIKE {} AND try_cast({x} AS DOUBLE) {op} CAST({} AS DOUBLE))",
        sql_lit(NUMBER_RE),
        sql_lit(&format!("{n}"))
    )
}

/// A needle as it appears in the raw JSON text (keyword search).
fn in_raw(s: &str, keyword: bool) -> String {
    if !keyword {
        return s.to_string();
    }
    let j = serde_json::to_string(s).unwrap_or_default();
    j.get(1..j.len().saturating_sub(1))
        .unwrap_or("")
        .to_string()
}

/// One test of the value in lambda variable `x`.
fn value_test(t: &ValueTest, x: &str, env: &Env, names: &mut Names) -> Result<String, String> {
    let hay = |cased: bool| {
        if cased {
            x.to_string()
        } else {
            format!("lower({x})")
        }
    };
    let like = |n: &str, cased: bool, pre: &str, post: &str| {
        let pat = format!("{pre}{}{post}", like_escape(&in_raw(n, env.keyword)));
        format!("{} LIKE {}", hay(cased), sql_lit(&pat))
    };
    if env.keyword {
        return keyword_test(t, x);
    }
    Ok(match t {
        ValueTest::Exact(n, c) => format!("{} = {}", hay(*c), sql_lit(&in_raw(n, env.keyword))),
        ValueTest::Prefix(n, c) => like(n, *c, "", "%"),
        ValueTest::Suffix(n, c) => like(n, *c, "%", ""),
        ValueTest::Contains(n, c) => like(n, *c, "%", "%"),
        ValueTest::Any => format!("{x} IS NOT NULL"),
        ValueTest::Glob(re, c) => {
            let j = java_regex(re, Default::default())?;
            format!("{} RLIKE {}", hay(*c), sql_lit(&j))
        }
        ValueTest::Regex(re, flags) => format!("{x} RLIKE {}", sql_lit(&java_regex(re, *flags)?)),
        ValueTest::Num(n) => number(x, "=", *n),
        ValueTest::Cmp(op, n) => number(x, cmp_op(*op), *n),
        ValueTest::Bool(b) => format!("lower(trim({x})) = '{b}'"),
        ValueTest::Cidr4(lo, hi) => super::spark_ip::in_v4(x, *lo, *hi, names),
        ValueTest::Time(part, op, n) => {
            super::spark_time::time_test(x, *part, cmp_op(*op), *n, names)
        }
        ValueTest::Cidr6(lo, hi) => super::spark_ip::in_v6(x, *lo, *hi, names),
        ValueTest::FieldRef(other, mode) => {
            let o = field_sql(&env.ctx.reads(env.format, other), names);
            let v = names.next("o");
            let cmp = match mode {
                StrMode::Exact => format!("lower({x}) = lower({v})"),
                StrMode::Prefix => format!("startswith(lower({x}), lower({v}))"),
                StrMode::Suffix => format!("endswith(lower({x}), lower({v}))"),
                StrMode::Contains => format!("contains(lower({x}), lower({v}))"),
            };
            format!("exists({}, {v} -> coalesce({cmp}, false))", o.values)
        }
        ValueTest::Null | ValueTest::Exists(_) => "false".into(),
    })
}

/// A keyword searched in the raw JSON text `x`, inside one string value. The text's string
/// tokens are taken whole, left to right (each match consumes one token, so tokens never
/// misalign), a token followed by `:` is a key and does not count, as the native keyword search
/// visits values only. The token regex has no nested repetition over characters (Java's matcher
/// recurses on those and long records overflow). A plain substring is searched in the token as
/// the text spells it (the needle JSON-escaped); a wildcard pattern is the engine's anchored
/// regex (translated to Java's) over the token's decoded value.
fn keyword_test(t: &ValueTest, x: &str) -> Result<String, String> {
    const TOKEN: &str = r#""[^"\\]*+(?:\\.[^"\\]*+)*+"(?:\s*+:)?"#;
    let hay = |s: &str, cased: bool| {
        if cased {
            s.to_string()
        } else {
            format!("lower({s})")
        }
    };
    let on_token = match t {
        ValueTest::Contains(n, cased) => {
            let like = format!("%{}%", like_escape(&in_raw(n, true)));
            format!("{} LIKE {}", hay("s", *cased), sql_lit(&like))
        }
        ValueTest::Glob(re, cased) => {
            let decoded = "from_json(concat('[', s, ']'), 'array<string>')[0]";
            let j = java_regex(re, Default::default())?;
            format!("{} RLIKE {}", hay(decoded, *cased), sql_lit(&j))
        }
        ValueTest::Any => "true".to_string(),
        _ => return Err("keyword patterns other than strings are not lowered".into()),
    };
    Ok(format!(
        "exists(regexp_extract_all({x}, {}, 0), s -> s NOT LIKE '%:' AND {on_token})",
        sql_lit(TOKEN)
    ))
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Eq => "=",
    }
}
