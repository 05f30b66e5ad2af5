//! Objects read with a bound on every string: a snapshot object is parsed into a JSON tree, and a
//! hostile or broken file may hold one string of gigabytes. Strings longer than
//! [`MAX_STRING_BYTES`] are not kept (an empty string stands in) and the longest one cut is
//! recorded, so the object can be rejected with the reason instead of exhausting memory.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Longest string kept in a snapshot object: 1 MiB. Entra directory string properties are short
/// (`displayName` at most 256 characters, `notes` 1,024); the longest values of real exports
/// are certificate keys (`keyCredentials.key`, the base64 of a certificate, a few KiB).
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// A JSON value read with every string bounded; `cut` holds the length of the longest string
/// not kept (0 when none was cut).
#[derive(Clone, Copy)]
pub struct Bounded<'c> {
    /// Longest string cut so far.
    pub cut: &'c Cell<usize>,
}

impl Bounded<'_> {
    fn string(self, s: &str) -> Value {
        if s.len() > MAX_STRING_BYTES {
            self.cut.set(self.cut.get().max(s.len()));
            Value::String(String::new())
        } else {
            Value::String(s.to_string())
        }
    }

    /// Reads the entries of a map into an object.
    pub fn map<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(self)?;
            let k = if k.len() > MAX_STRING_BYTES {
                self.cut.set(self.cut.get().max(k.len()));
                String::new()
            } else {
                k
            };
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(self.string(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element_seed(self)? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        self.map(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_and_measured() {
        let big = "x".repeat(MAX_STRING_BYTES + 5);
        let text = format!(r#"{{"id":"a","notes":"{big}","list":["b",{{"k":"{big}y"}}]}}"#);
        let cut = Cell::new(0);
        let mut de = serde_json::Deserializer::from_str(&text);
        let v = Bounded { cut: &cut }.deserialize(&mut de).unwrap();
        assert_eq!(cut.get(), MAX_STRING_BYTES + 6);
        assert_eq!(v["id"], "a");
        assert_eq!(v["notes"], "");
        assert_eq!(v["list"][0], "b");
        let cut = Cell::new(0);
        let mut de = serde_json::Deserializer::from_str(r#"{"id":"a"}"#);
        Bounded { cut: &cut }.deserialize(&mut de).unwrap();
        assert_eq!(cut.get(), 0);
    }
}
