//! Spark SQL expressions that read a rule field the way the native engine does: from the raw
//! JSON record parsed once per row into `__doc` (`map<string,string>`: nested objects and
//! arrays stay JSON text), walking the path with the native lookup rules — exact keys first and,
//! only when that finds nothing, keys ignoring case; a flat dotted key before the nested walk
//! at every split of the path; arrays on the path traversed; an array value visited element by
//! element; JSON null kept as a null element — or from a column of computed values.
//!
//! Every field gives two expressions: `present` (the field exists, possibly null) and `values`
//! (`array<string>` of its values as text, nulls included). Neither is ever SQL NULL.

use super::{FieldRead, sql_lit};

/// An empty `array<string>`.
pub(crate) const EMPTY: &str = "CAST(array() AS array<string>)";

/// The column holding each row's parsed record.
pub(crate) const DOC: &str = "__doc";

/// Fresh lambda variable names within one query.
#[derive(Debug, Default)]
pub(crate) struct Names(usize);

impl Names {
    pub(crate) fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}{}", self.0)
    }
}

/// A field as two Spark SQL expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldSql {
    pub present: String,
    pub values: String,
}

/// A backquoted column name.
pub(crate) fn column(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The field read through every one of `reads` (values in order, present if any is).
pub(crate) fn field_sql(reads: &[FieldRead], names: &mut Names) -> FieldSql {
    let parts: Vec<FieldSql> = reads.iter().map(|r| read_sql(r, names)).collect();
    match parts.len() {
        0 => FieldSql {
            present: "false".into(),
            values: EMPTY.into(),
        },
        1 => parts.into_iter().next().unwrap_or_else(|| FieldSql {
            present: "false".into(),
            values: EMPTY.into(),
        }),
        _ => FieldSql {
            present: format!(
                "({})",
                parts
                    .iter()
                    .map(|p| p.present.as_str())
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
            values: format!(
                "concat({})",
                parts
                    .iter()
                    .map(|p| p.values.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

fn read_sql(read: &FieldRead, names: &mut Names) -> FieldSql {
    match read {
        FieldRead::Column { name, list: true } => {
            let c = column(name);
            FieldSql {
                present: format!("({c} IS NOT NULL)"),
                values: format!("coalesce(CAST({c} AS array<string>), {EMPTY})"),
            }
        }
        FieldRead::Column { name, list: false } => {
            let c = column(name);
            FieldSql {
                present: format!("({c} IS NOT NULL)"),
                values: format!(
                    "CASE WHEN {c} IS NULL THEN {EMPTY} ELSE array(CAST({c} AS STRING)) END"
                ),
            }
        }
        FieldRead::Json { path, operation } => {
            let nodes = path_nodes(path, names);
            let flat = leaves(&nodes, names);
            FieldSql {
                present: format!("(size({nodes}) > 0)"),
                values: if *operation {
                    variants(&flat, names)
                } else {
                    flat
                },
            }
        }
    }
}

/// The nodes (JSON texts, nulls kept) `path` reaches in the record: the exact walk, else the
/// walk ignoring case.
fn path_nodes(path: &str, names: &mut Names) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    let exact = obj_lookup(DOC, &segs, false, names);
    let ci = obj_lookup(DOC, &segs, true, names);
    let r = names.next("r");
    format!("transform(array({exact}), {r} -> CASE WHEN size({r}) > 0 THEN {r} ELSE {ci} END)[0]")
}

fn has_key(m: &str, k: &str, ci: bool, names: &mut Names) -> String {
    if ci {
        let v = names.next("k");
        format!(
            "coalesce(exists(map_keys({m}), {v} -> lower({v}) = {}), false)",
            sql_lit(&k.to_lowercase())
        )
    } else {
        format!("coalesce(map_contains_key({m}, {}), false)", sql_lit(k))
    }
}

fn get_key(m: &str, k: &str, ci: bool, names: &mut Names) -> String {
    if ci {
        let (a, b) = (names.next("k"), names.next("v"));
        format!(
            "CASE WHEN coalesce(map_contains_key({m}, {lit}), false) THEN {m}[{lit}] \
             ELSE element_at(map_values(map_filter({m}, ({a}, {b}) -> lower({a}) = {low})), 1) END",
            lit = sql_lit(k),
            low = sql_lit(&k.to_lowercase())
        )
    } else {
        format!("{m}[{}]", sql_lit(k))
    }
}

/// Nodes reached from the object `m` (a map expression, possibly NULL) by `segs`.
fn obj_lookup(m: &str, segs: &[&str], ci: bool, names: &mut Names) -> String {
    let whole = segs.join(".");
    let mut splits = Vec::new();
    for i in 1..segs.len() {
        let head = segs[..i].join(".");
        let child = get_key(m, &head, ci, names);
        let sub = node_lookup(&child, &segs[i..], ci, names);
        splits.push(format!(
            "CASE WHEN {} THEN {sub} ELSE {EMPTY} END",
            has_key(m, &head, ci, names)
        ));
    }
    let rest = match splits.len() {
        0 => EMPTY.to_string(),
        1 => splits.remove(0),
        _ => format!("concat({})", splits.join(", ")),
    };
    format!(
        "CASE WHEN {} THEN array({}) ELSE {rest} END",
        has_key(m, &whole, ci, names),
        get_key(m, &whole, ci, names)
    )
}

/// Nodes reached from the JSON text `t` (an object, or an array whose objects are walked).
fn node_lookup(t: &str, segs: &[&str], ci: bool, names: &mut Names) -> String {
    let (m, it, m2) = (names.next("m"), names.next("i"), names.next("m"));
    let in_obj = obj_lookup(&m, segs, ci, names);
    let in_item = obj_lookup(&m2, segs, ci, names);
    format!(
        "concat(transform(array({obj}), {m} -> {in_obj})[0], \
         flatten(transform({arr}, {it} -> transform(array({item}), {m2} -> {in_item})[0])))",
        obj = as_object(t),
        arr = as_array(t),
        item = as_object(&it),
    )
}

/// The map of a JSON object text, else NULL.
fn as_object(t: &str) -> String {
    format!("CASE WHEN ltrim({t}) LIKE '{{%' THEN from_json({t}, 'map<string,string>') END")
}

/// The elements of a JSON array text, else an empty array.
fn as_array(t: &str) -> String {
    format!(
        "CASE WHEN ltrim({t}) LIKE '[%' THEN coalesce(from_json({t}, 'array<string>'), {EMPTY}) ELSE {EMPTY} END"
    )
}

/// The values of nodes: an array node gives its elements, any other node itself.
fn leaves(nodes: &str, names: &mut Names) -> String {
    let n = names.next("n");
    format!(
        "flatten(transform({nodes}, {n} -> CASE WHEN ltrim({n}) LIKE '[%' AND from_json({n}, 'array<string>') IS NOT NULL \
         THEN from_json({n}, 'array<string>') ELSE array({n}) END))"
    )
}

/// Operation names with their normalised variants (see the native adapter).
fn variants(values: &str, names: &mut Names) -> String {
    let x = names.next("x");
    let trimmed = format!("regexp_replace({x}, {}, '')", sql_lit(r"^\s+|\s+$"));
    let base = format!(
        "regexp_replace(regexp_replace({trimmed}, {}, ''), {}, '')",
        sql_lit(r"[.]\z"),
        sql_lit(r"\s+\z")
    );
    format!(
        "flatten(transform({values}, {x} -> CASE WHEN {x} IS NULL THEN array({x}) ELSE \
         array({x}, {trimmed}, {base}, replace({base}, '–', '-'), replace({base}, ' - ', ' – ')) END))"
    )
}
