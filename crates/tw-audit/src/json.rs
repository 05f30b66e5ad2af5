//! Reading snapshot files: text decoding (UTF-8 and UTF-16 byte order marks), splitting a file into
//! its top-level JSON documents, and visiting every object of a document — the elements of a
//! top-level array, of a Graph page's `value` (array or single object), or the document itself —
//! one at a time, so that a large export never sits in memory as one tree.
//!
//! Field access is case-insensitive after an exact try, because PowerShell exports spell Graph
//! properties in PascalCase (`AppOwnerOrganizationId`).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tw_event::{Timestamp, parse_timestamp};

use crate::bounded::Bounded;
pub use crate::bounded::MAX_STRING_BYTES;

/// Decodes file bytes to text: strips a UTF-8 byte order mark, decodes UTF-16 (PowerShell 5's
/// `Out-File` default) when it starts with a UTF-16 byte order mark.
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|e| format!("not UTF-8: {e}"));
    }
    let utf16 = |rest: &[u8], le: bool| -> Result<Cow<'_, str>, String> {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units)
            .map(Cow::Owned)
            .map_err(|e| format!("not UTF-16: {e}"))
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| format!("not UTF-8: {e}"))
}

/// Splits text into its top-level JSON documents (one, several concatenated pages, or JSON lines)
/// without parsing them. Returns byte ranges; an unterminated document is an error.
pub fn split_documents(text: &str) -> Result<Vec<(usize, usize)>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        match b[i] {
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut in_str = false;
                let mut esc = false;
                let mut end = None;
                while i < b.len() {
                    let c = b[i];
                    if in_str {
                        if esc {
                            esc = false;
                        } else if c == b'\\' {
                            esc = true;
                        } else if c == b'"' {
                            in_str = false;
                        }
                    } else {
                        match c {
                            b'"' => in_str = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    end = Some(i + 1);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    i += 1;
                }
                match end {
                    Some(e) => {
                        out.push((start, e));
                        i = e;
                    }
                    None => return Err(format!("unterminated JSON document at byte {start}")),
                }
            }
            _ => {
                let line_end = text[i..].find('\n').map(|p| i + p).unwrap_or(b.len());
                return Err(format!(
                    "not a JSON object or array at byte {start}: {:?}",
                    crate::render::clip(&text[start..line_end], 60)
                ));
            }
        }
    }
    Ok(out)
}

/// One object found in a file.
pub struct Item<'c> {
    /// The `@odata.context` of the page it came from.
    pub context: Option<&'c str>,
    /// 0-based element order across the file.
    pub index: usize,
    /// The object (or whatever stood where an object was expected).
    pub value: Value,
    /// Length of the longest string of the object over [`MAX_STRING_BYTES`] (not kept: the
    /// object must be rejected), 0 when none.
    pub cut: usize,
}

struct State<'f> {
    context: Option<String>,
    index: usize,
    emit: &'f mut dyn FnMut(Item<'_>),
    /// Longest string cut since the last object emitted.
    cut: Cell<usize>,
}

impl State<'_> {
    fn bounded(&self) -> Bounded<'_> {
        Bounded { cut: &self.cut }
    }
}

impl State<'_> {
    fn push(&mut self, value: Value) {
        // A page nested in an array of pages: expand it.
        if let Value::Object(o) = &value
            && let Some(Value::Array(_)) = o.get("value")
            && o.keys().all(|k| k == "value" || k.starts_with("@odata"))
        {
            let Value::Object(mut o) = value else { return };
            let ctx = o
                .get("@odata.context")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(Value::Array(items)) = o.remove("value") {
                let new_ctx = ctx.or_else(|| self.context.clone());
                let saved = std::mem::replace(&mut self.context, new_ctx);
                for v in items {
                    self.push_one(v);
                }
                self.context = saved;
            }
            return;
        }
        self.push_one(value);
    }

    fn push_one(&mut self, value: Value) {
        let index = self.index;
        self.index += 1;
        let cut = self.cut.replace(0);
        (self.emit)(Item {
            context: self.context.as_deref(),
            index,
            value,
            cut,
        });
    }
}

struct TopSeed<'s, 'f>(&'s mut State<'f>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(TopVisitor(self.0))
    }
}

struct TopVisitor<'s, 'f>(&'s mut State<'f>);

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element_seed(self.0.bounded())? {
            self.0.push(v);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = Map::new();
        let mut had_value = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "@odata.context" {
                let v = map.next_value_seed(self.0.bounded())?;
                self.0.context = v.as_str().map(str::to_string);
                rest.insert(key, v);
            } else if key == "value" && !had_value {
                had_value = true;
                map.next_value_seed(ValueSeed(self.0))?;
            } else if key == "@odata.nextLink" || key == "@odata.count" {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v = map.next_value_seed(self.0.bounded())?;
                rest.insert(key, v);
            }
        }
        if !had_value {
            self.0.push_one(Value::Object(rest));
        }
        Ok(())
    }
}

struct ValueSeed<'s, 'f>(&'s mut State<'f>);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(ValueVisitor(self.0))
    }
}

struct ValueVisitor<'s, 'f>(&'s mut State<'f>);

impl<'de> Visitor<'de> for ValueVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `value` of a Graph page")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element_seed(self.0.bounded())? {
            self.0.push_one(v);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = self.0.bounded().map(map)?;
        self.0.push_one(v);
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        let v = self.0.bounded().visit_str::<E>(s)?;
        self.0.push_one(v);
        Ok(())
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<(), E> {
        self.0.push_one(Value::Bool(b));
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<(), E> {
        self.0.push_one(Value::from(n));
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<(), E> {
        self.0.push_one(Value::from(n));
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<(), E> {
        self.0.push_one(Value::from(n));
        Ok(())
    }
}

/// Visits every object of a file's text in order. Returns the number of documents, or the first
/// syntax error (objects before it have been visited).
pub fn for_each_object(text: &str, emit: &mut dyn FnMut(Item<'_>)) -> Result<usize, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = split_documents(text)?;
    let mut state = State {
        context: None,
        index: 0,
        emit,
        cut: Cell::new(0),
    };
    for &(s, e) in &docs {
        state.context = None;
        let mut de = serde_json::Deserializer::from_str(&text[s..e]);
        TopSeed(&mut state)
            .deserialize(&mut de)
            .map_err(|err| format!("invalid JSON in the document at byte {s}: {err}"))?;
    }
    Ok(docs.len())
}

/// A field by name: exact, then ASCII case-insensitive.
pub fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Whether a field is present (any value, null included).
pub fn has(o: &Map<String, Value>, name: &str) -> bool {
    field(o, name).is_some()
}

/// A non-empty string field (numbers and booleans are rendered as text).
pub fn string(o: &Map<String, Value>, name: &str) -> Option<String> {
    match field(o, name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean field; `"True"`/`"false"` strings accepted.
pub fn boolean(o: &Map<String, Value>, name: &str) -> Option<bool> {
    match field(o, name)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A timestamp field (ISO 8601, `/Date(ms)/`, US locale). An unparseable value is `Err(text)`.
pub fn time(o: &Map<String, Value>, name: &str) -> Result<Option<Timestamp>, String> {
    match field(o, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s)
            .map(Some)
            .ok_or_else(|| format!("{name}: unparseable time {:?}", crate::render::clip(s, 40))),
        // PowerShell sometimes writes dates as {"value": "/Date(..)/", "DateTime": "..."}.
        Some(Value::Object(m)) => match string(m, "value").or_else(|| string(m, "DateTime")) {
            Some(s) => parse_timestamp(&s)
                .map(Some)
                .ok_or_else(|| format!("{name}: unparseable time")),
            None => Err(format!("{name}: unparseable time")),
        },
        Some(_) => Err(format!("{name}: not a time")),
    }
}

/// The elements of a field that should be a list: an array, a single object (PowerShell unwraps
/// one-element arrays), or nothing for null/absent. `Err` when it is some other type.
pub fn list<'a>(o: &'a Map<String, Value>, name: &str) -> Result<Vec<&'a Value>, String> {
    match field(o, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.iter().collect()),
        Some(v @ Value::Object(_)) => Ok(vec![v]),
        Some(v @ Value::String(_)) => Ok(vec![v]),
        Some(_) => Err(format!("{name}: expected a list")),
    }
}

/// The strings of a list field (a string is a one-element list).
pub fn strings(o: &Map<String, Value>, name: &str) -> Vec<String> {
    match field(o, name) {
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Vec<(Option<String>, usize, Value)> {
        let mut out = Vec::new();
        for_each_object(text, &mut |it| {
            out.push((it.context.map(str::to_string), it.index, it.value))
        })
        .unwrap();
        out
    }

    #[test]
    fn pages_arrays_and_single_objects() {
        let t = r#"{"@odata.context":"x#servicePrincipals","value":[{"id":"a"},{"id":"b"}],"@odata.nextLink":"n"}
        {"@odata.context":"x#servicePrincipals","value":[{"id":"c"}]}"#;
        let v = collect(t);
        assert_eq!(v.len(), 3);
        assert_eq!(v[2].1, 2);
        assert_eq!(v[0].0.as_deref(), Some("x#servicePrincipals"));
        let v = collect("\u{feff}[{\"Name\":\"r\"},{\"Name\":\"s\"}]");
        assert_eq!(v.len(), 2);
        let v = collect(r#"{"value":{"issuerUri":"i"}}"#);
        assert_eq!(v[0].2["issuerUri"], "i");
        let v = collect(r#"{"id":"org","verifiedDomains":[]}"#);
        assert_eq!(v[0].2["id"], "org");
        let v = collect(r#"[{"@odata.context":"c","value":[{"id":1}]},{"value":[{"id":2}]}]"#);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for t in ["{", "[1,", "nope", "{\"a\":}", "\"x\"", "{\"value\":[1,2"] {
            assert!(for_each_object(t, &mut |_| {}).is_err(), "{t}");
        }
        assert!(decode_text(&[0xFF, 0xFE, b'[', 0, b']', 0]).is_ok());
        assert!(decode_text(&[0xC3, 0x28]).is_err());
    }
}
