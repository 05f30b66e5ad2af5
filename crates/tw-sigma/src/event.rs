//! The event abstraction the engine matches against, and its implementation for
//! `serde_json::Value`.
//!
//! The engine never walks event data itself: it asks a [`SigmaEvent`] to visit the values
//! of a field ([`FieldRef`], resolved once at compile time and carrying a dense
//! [`FieldRef::slot`] so that an implementation may cache per-field accessors) or to visit
//! every string leaf (keyword search).
//!
//! Field lookup rules of the `serde_json::Value` implementation (design choices, see the
//! crate docs): a path of exact keys first; only when the event has none, the same walk with
//! keys matched case-insensitively (exact key before a case-insensitive one at each step); a
//! flat key containing dots (`"properties.message"`) is tried before the nested walk on `.`;
//! arrays anywhere on the
//! path are traversed and every element is visited; a nested object or array of objects is
//! visited as its compact JSON text.

use std::sync::Arc;

use serde_json::Value;

/// One value of an event field, as seen by the matcher.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An explicit null.
    Null,
}

impl FieldValue<'_> {
    /// The value rendered as text (numbers in canonical form, booleans as `true`/`false`);
    /// `None` for null.
    pub fn to_text(&self) -> Option<String> {
        match *self {
            FieldValue::Str(s) => Some(s.to_string()),
            FieldValue::Int(i) => Some(i.to_string()),
            FieldValue::Float(f) => Some(canonical_float(f)),
            FieldValue::Bool(b) => Some(b.to_string()),
            FieldValue::Null => None,
        }
    }

    /// The value as a number, when it is one or is a string holding one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            FieldValue::Int(i) => Some(i as f64),
            FieldValue::Float(f) => Some(f),
            FieldValue::Str(s) => parse_number(s),
            _ => None,
        }
    }
}

/// Canonical text of a float: integral values without a fraction (`3.0` → `"3"`).
pub fn canonical_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Parses a decimal number from trimmed text (no hex, no `inf`/`nan`).
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        || !t.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A field name used by a compiled rule set: the original name, its segments split on `.`,
/// and a dense slot number unique within one [`crate::RuleSet`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRef {
    slot: u32,
    name: Arc<str>,
}

impl FieldRef {
    /// Creates a field reference (the slot only matters to implementations that cache).
    pub fn new(slot: u32, name: &str) -> Self {
        FieldRef {
            slot,
            name: Arc::from(name),
        }
    }

    /// Dense index of this field within its rule set (0..`RuleSet::fields().len()`).
    pub fn slot(&self) -> usize {
        self.slot as usize
    }

    /// The field name as written in the rule after pipeline mapping (e.g. `properties.message`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What the engine needs from an event. Implement it for your event type; the crate
/// implements it for `serde_json::Value`.
///
/// Visitor callbacks return `true` to stop the visit early (a match was found).
pub trait SigmaEvent {
    /// Calls `f` with every value of `field` (each element of arrays, JSON `null` as
    /// [`FieldValue::Null`]) until `f` returns `true`. Returns whether the field is present
    /// at all (a present `null` counts as present).
    fn visit_field(&self, field: &FieldRef, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool;

    /// Calls `f` with every string leaf of the event (keyword search) until it returns `true`.
    fn visit_strings(&self, f: &mut dyn FnMut(&str) -> bool);
}

impl<T: SigmaEvent + ?Sized> SigmaEvent for &T {
    fn visit_field(&self, field: &FieldRef, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool {
        (**self).visit_field(field, f)
    }

    fn visit_strings(&self, f: &mut dyn FnMut(&str) -> bool) {
        (**self).visit_strings(f)
    }
}

impl SigmaEvent for Value {
    fn visit_field(&self, field: &FieldRef, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool {
        let found = std::cell::Cell::new(false);
        let mut stop = false;
        let mut visit = |v: &Value| {
            found.set(true);
            if !stop {
                stop = visit_value(v, f);
            }
            stop
        };
        lookup(self, field.name(), false, &mut visit);
        if !found.get() {
            lookup(self, field.name(), true, &mut visit);
        }
        found.get()
    }

    fn visit_strings(&self, f: &mut dyn FnMut(&str) -> bool) {
        let mut todo: Vec<&Value> = vec![self];
        while let Some(v) = todo.pop() {
            match v {
                Value::String(s) if f(s) => return,
                Value::Array(items) => todo.extend(items.iter().rev()),
                Value::Object(map) => {
                    let start = todo.len();
                    todo.extend(map.values());
                    todo[start..].reverse();
                }
                _ => {}
            }
        }
    }
}

/// Visits the leaf values of `v` (flattening arrays). Returns true when `f` stopped.
fn visit_value(v: &Value, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool {
    match v {
        Value::Null => f(FieldValue::Null),
        Value::Bool(b) => f(FieldValue::Bool(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                f(FieldValue::Int(i))
            } else if let Some(x) = n.as_f64() {
                f(FieldValue::Float(x))
            } else {
                f(FieldValue::Str(&n.to_string()))
            }
        }
        Value::String(s) => f(FieldValue::Str(s)),
        Value::Array(items) => {
            for item in items {
                let stop = match item {
                    Value::Object(_) | Value::Array(_) => f(FieldValue::Str(&item.to_string())),
                    _ => visit_value(item, f),
                };
                if stop {
                    return true;
                }
            }
            false
        }
        Value::Object(_) => f(FieldValue::Str(&v.to_string())),
    }
}

fn get_key<'v>(map: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    find_key_ignoring_case(map.iter().map(|(k, v)| (k.as_str(), v)), key)
}

/// The entry whose name equals `key` ignoring case, as field lookup matches a key not spelled
/// exactly: the first (in `entries`' order) equal ignoring ASCII case, else, for a key that is
/// not ASCII, the first equal in lower case. Entries in name order give what a JSON object of
/// them gives.
pub fn find_key_ignoring_case<'k, T>(
    entries: impl Iterator<Item = (&'k str, T)> + Clone,
    key: &str,
) -> Option<T> {
    let mut ascii = entries.clone();
    if let Some((_, v)) = ascii.find(|(k, _)| k.len() == key.len() && k.eq_ignore_ascii_case(key)) {
        return Some(v);
    }
    if key.is_ascii() {
        return None;
    }
    let lk = key.to_lowercase();
    let mut folded = entries;
    folded.find(|(k, _)| k.to_lowercase() == lk).map(|(_, v)| v)
}

/// The first value of `field` in `event` that has a text ([`FieldValue::to_text`]).
pub fn first_text(event: &dyn SigmaEvent, field: &FieldRef) -> Option<String> {
    let mut out = None;
    event.visit_field(field, &mut |v| {
        out = v.to_text();
        out.is_some()
    });
    out
}

/// Resolves `path` in `v` the way field lookup does (at each step the whole remaining path as
/// one flat key first, then split on each `.`; arrays walked item by item), calling `f` for every
/// value reached. Returns true when `f` stopped. With `ci`, a key missing exactly may match
/// case-insensitively.
pub fn lookup<'v>(
    v: &'v Value,
    path: &str,
    ci: bool,
    f: &mut dyn FnMut(&'v Value) -> bool,
) -> bool {
    match v {
        Value::Object(map) => {
            let get = |k: &str| if ci { get_key(map, k) } else { map.get(k) };
            if let Some(x) = get(path) {
                return f(x);
            }
            let mut from = 0;
            while let Some(pos) = path[from..].find('.') {
                let i = from + pos;
                let (head, tail) = (&path[..i], &path[i + 1..]);
                if let Some(x) = get(head)
                    && !tail.is_empty()
                    && lookup(x, tail, ci, f)
                {
                    return true;
                }
                from = i + 1;
            }
            false
        }
        Value::Array(items) => {
            for item in items {
                if lookup(item, path, ci, f) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(ev: &Value, name: &str) -> (bool, Vec<String>) {
        let mut out = Vec::new();
        let found = ev.visit_field(&FieldRef::new(0, name), &mut |v| {
            out.push(format!("{v:?}"));
            false
        });
        (found, out)
    }

    #[test]
    fn lookup_rules() {
        let ev = json!({"properties.message": "flat", "properties": {"message": "nested", "Arr": [1, {"x": "y"}]},
                        "Operation": "Op", "n": null});
        assert_eq!(values(&ev, "properties.message").1, vec!["Str(\"flat\")"]);
        assert_eq!(values(&ev, "operation").1, vec!["Str(\"Op\")"]);
        assert_eq!(values(&ev, "properties.arr.x").1, vec!["Str(\"y\")"]);
        assert_eq!(values(&ev, "properties.Arr").1.len(), 2);
        assert_eq!(values(&ev, "n"), (true, vec!["Null".to_string()]));
        assert_eq!(values(&ev, "missing"), (false, vec![]));
        // A path of exact keys wins over case-insensitive ones, flat or nested.
        let ev =
            json!({"Properties.Message": "ci flat", "properties": {"message": "exact nested"}});
        assert_eq!(
            values(&ev, "properties.message").1,
            vec!["Str(\"exact nested\")"]
        );
        let ev = json!({"PROPERTIES": {"Message": "ci nested"}, "x": 1});
        assert_eq!(
            values(&ev, "properties.message").1,
            vec!["Str(\"ci nested\")"]
        );
    }

    #[test]
    fn strings_visited() {
        let ev = json!({"a": ["x", {"b": "y"}], "c": 1});
        let mut out = Vec::new();
        ev.visit_strings(&mut |s| {
            out.push(s.to_string());
            false
        });
        assert_eq!(out, vec!["x", "y"]);
    }
}
