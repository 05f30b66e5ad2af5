//! A field's values as the Sigma engine's event adapter gives them, read from the record's
//! document as the reader parsed it (through the projection of every column's fields) by the
//! engine's rules (`tw_sigma::event`, `tw_detect::event`) but without its visitor: a path of
//! exact keys first, and only when it reaches nothing the same walk matching keys ignoring
//! case; at each step the whole remaining path as one flat key before splitting it on a `.`;
//! arrays on the path walked item by item; values as text (numbers in canonical form, objects
//! and arrays inside arrays as compact JSON text, JSON null as a null element); an operation
//! name also in its normalised variants. Objects are written as JSON straight into the row's
//! text (no formatter, no intermediate string), once per row however many columns hold them.
//! A unit test checks every column against the adapter on every record of the public samples
//! and of the example case.

use serde_json::Value;
use tw_detect::event::operation_variants;
use tw_sigma::event::{canonical_float, lookup};

/// Where a row's field-map values go: elements (spans of `text`, `None` for a JSON null).
pub(crate) struct Values<'r> {
    pub elements: &'r mut Vec<Option<(u32, u32)>>,
    pub text: &'r mut String,
    /// Objects and arrays already written into `text`: (their address, start, end).
    pub rendered: &'r mut Vec<(usize, u32, u32)>,
}

/// Appends the values of `path` in `doc`, the engine's way (exact keys, else ignoring case);
/// whether the field is present. `operation`: texts also in their normalised variants.
pub(crate) fn read_path(doc: &Value, path: &str, operation: bool, out: &mut Values<'_>) -> bool {
    let found = std::cell::Cell::new(false);
    let mut visit = |v: &Value| {
        found.set(true);
        visit_value(v, operation, out);
    };
    // The engine's walk, which never stops early here.
    lookup(doc, path, false, &mut |v| {
        visit(v);
        false
    });
    if !found.get() {
        // Nothing reached, so nothing was appended: the walk again, ignoring case.
        lookup(doc, path, true, &mut |v| {
            visit(v);
            false
        });
    }
    found.get()
}

/// Appends the values of `v`: a scalar, each item of an array (objects and arrays in it as
/// JSON text), an object as JSON text.
fn visit_value(v: &Value, operation: bool, out: &mut Values<'_>) {
    match v {
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) => push_text(item, operation, out),
                    _ => visit_value(item, operation, out),
                }
            }
        }
        Value::Null => out.elements.push(None),
        _ => push_text(v, operation, out),
    }
}

/// Appends one text value (an object or array written as JSON, or a scalar), then for an
/// operation field the variants of a text (not of a number or boolean).
fn push_text(v: &Value, operation: bool, out: &mut Values<'_>) {
    let start = out.text.len();
    match v {
        Value::Object(_) | Value::Array(_) => {
            let id = std::ptr::from_ref(v) as usize;
            match out.rendered.iter().find(|r| r.0 == id) {
                Some(&(_, s, e)) => out.text.extend_from_within(s as usize..e as usize),
                None => {
                    render_value(v, out.text);
                    out.rendered.push((id, start as u32, out.text.len() as u32));
                }
            }
        }
        Value::String(s) => out.text.push_str(s),
        Value::Bool(b) => out.text.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                push_display(out.text, i);
            } else if let Some(x) = n.as_f64() {
                out.text.push_str(&canonical_float(x));
            } else {
                push_display(out.text, n);
            }
        }
        Value::Null => return out.elements.push(None),
    }
    let end = out.text.len();
    out.elements.push(Some((start as u32, end as u32)));
    if operation && !matches!(v, Value::Number(_) | Value::Bool(_)) {
        for variant in operation_variants(&out.text[start..end]) {
            let s = out.text.len();
            out.text.push_str(&variant);
            out.elements.push(Some((s as u32, out.text.len() as u32)));
        }
    }
}

/// Appends `x` as `Display` writes it.
fn push_display(out: &mut String, x: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{x}");
}

/// Appends the compact JSON text `serde_json` writes for `v` (keys in the map's order, its
/// string escaping, its number forms).
fn render_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => push_display(out, n),
        Value::String(s) => push_quoted(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_quoted(k, out);
                out.push(':');
                render_value(item, out);
            }
            out.push('}');
        }
    }
}

/// Appends `s` as a JSON string the way `serde_json` escapes it.
fn push_quoted(s: &str, out: &mut String) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_sigma::{FieldRef, FieldValue, SigmaEvent};

    /// (present, texts) of `path` read here from the parsed `text`.
    fn read(text: &str, path: &str, operation: bool) -> (bool, Vec<Option<String>>) {
        let doc: Value = serde_json::from_str(text).expect("valid JSON");
        let (mut elements, mut out, mut rendered) = (Vec::new(), String::new(), Vec::new());
        let mut values = Values {
            elements: &mut elements,
            text: &mut out,
            rendered: &mut rendered,
        };
        let found = read_path(&doc, path, operation, &mut values);
        let texts = elements
            .iter()
            .map(|e| e.map(|(s, e)| out[s as usize..e as usize].to_string()))
            .collect();
        (found, texts)
    }

    /// (present, texts) of `path` as the engine reads the parsed document.
    fn from_engine(text: &str, path: &str) -> (bool, Vec<Option<String>>) {
        let doc: Value = serde_json::from_str(text).expect("valid JSON");
        let mut texts = Vec::new();
        let found = doc.visit_field(&FieldRef::new(0, path), &mut |v: FieldValue<'_>| {
            texts.push(v.to_text());
            false
        });
        (found, texts)
    }

    #[test]
    fn paths_read_as_the_engine_reads_them() {
        let text = r#"{
            "a.b": "flat", "a": {"b": "nested", "B": "upper", "c": [{"d": 1}, {"d": [2, {"e": 3}]}]},
            "Status": {"errorCode": 50126, "Detail": null}, "status": "lower wins exactly",
            "list": [[1, 2], {"z": "\u00e9\"\n\u0001", "a": 1.0}, null, true, 1e2, 12345678901234567890],
            "Dup": 1, "Dup": 2, "DUP": 3, "x": {"y.z": "flat inside", "y": {"z": "nested inside"}},
            "ÉTAT": "accent", "num": -0.0, "big": 1.5e300, "obj": {"b": [1.25, -3], "a": "\/"}
        }"#;
        for path in [
            "a.b",
            "a.B",
            "A.b",
            "a.c.d",
            "a.c.d.e",
            "status",
            "Status.errorCode",
            "STATUS.ERRORCODE",
            "status.detail",
            "list",
            "dup",
            "Dup",
            "x.y.z",
            "X.Y.Z",
            "état",
            "num",
            "missing",
            "a",
            "a.c",
            "list.z",
            "big",
            "obj",
        ] {
            assert_eq!(read(text, path, false), from_engine(text, path), "{path}");
        }
    }

    #[test]
    fn operation_names_get_the_adapters_variants() {
        let text = r#"{"Operation": "Add member to role.", "Other": "Set – policy ", "n": 3}"#;
        let (_, got) = read(text, "Operation", true);
        assert_eq!(
            got,
            [
                Some("Add member to role.".into()),
                Some("Add member to role".into())
            ]
        );
        let (_, got) = read(text, "Other", true);
        let want = ["Set – policy ", "Set – policy", "Set - policy"];
        assert_eq!(got, want.map(|s| Some(s.to_string())));
        let (_, got) = read(text, "n", true);
        assert_eq!(got, [Some("3".to_string())]);
    }

    #[test]
    fn an_object_in_several_columns_is_written_once_and_copied() {
        let doc: Value =
            serde_json::from_str(r#"{"p": {"z": 1, "a": "x\ty"}}"#).expect("valid JSON");
        let (mut elements, mut out, mut rendered) = (Vec::new(), String::new(), Vec::new());
        let mut values = Values {
            elements: &mut elements,
            text: &mut out,
            rendered: &mut rendered,
        };
        assert!(read_path(&doc, "p", false, &mut values));
        assert!(read_path(&doc, "P", false, &mut values));
        assert_eq!(rendered.len(), 1);
        let want = doc["p"].to_string();
        assert_eq!(out, format!("{want}{want}"));
        assert_eq!(elements.len(), 2);
    }
}
