//! The raw document of an event: parsed on first use from the record's JSON text, built on first
//! use from what the reader kept (CSV rows), or given already parsed. Readers that only need
//! canonical fields never pay for the full parse.

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::{Map, Value};

/// Builds a document on its first use (a CSV row's cells by column name).
pub type BuildDocument = Arc<dyn Fn() -> Value + Send + Sync>;

/// A document's builder, shown by name only.
#[derive(Clone)]
struct Builder(BuildDocument);

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Builder")
    }
}

/// An event's raw document.
#[derive(Debug, Clone, Default)]
pub struct Document {
    text: Option<Box<[u8]>>,
    decode_strings: bool,
    parsed: OnceLock<Value>,
    /// The record as parsed by the reader through a projection (the fields some readers look
    /// up, see `tw_ingest::select::Projection`), when it was.
    projected: Option<Value>,
    /// Builds the document when it has no text.
    build: Option<Builder>,
}

impl Document {
    /// A document already parsed.
    pub fn parsed(v: Value) -> Document {
        let parsed = OnceLock::new();
        let _ = parsed.set(v);
        Document {
            text: None,
            decode_strings: false,
            parsed,
            projected: None,
            build: None,
        }
    }

    /// A document built by `build` on first use, from what the reader kept of the record (a CSV
    /// row): it has no text.
    pub fn deferred(build: BuildDocument) -> Document {
        Document {
            build: Some(Builder(build)),
            ..Document::default()
        }
    }

    /// Like [`Document::deferred`], with the record already read through a projection.
    pub fn deferred_projected(build: BuildDocument, projected: Value) -> Document {
        Document {
            projected: Some(projected),
            ..Document::deferred(build)
        }
    }

    /// A document parsed from `text` on first use; `decode_strings`: decode top-level string values
    /// that hold JSON objects or arrays (Log Analytics dynamic columns).
    pub fn lazy(text: Box<[u8]>, decode_strings: bool) -> Document {
        Document {
            text: Some(text),
            decode_strings,
            parsed: OnceLock::new(),
            projected: None,
            build: None,
        }
    }

    /// Like [`Document::lazy`], with the record already parsed through a projection.
    pub fn lazy_projected(text: Box<[u8]>, decode_strings: bool, projected: Value) -> Document {
        Document {
            projected: Some(projected),
            ..Document::lazy(text, decode_strings)
        }
    }

    /// The record as parsed through the reader's projection, if it was.
    pub fn projected(&self) -> Option<&Value> {
        self.projected.as_ref()
    }

    /// The record's JSON text, when the document came from JSON.
    pub fn text(&self) -> Option<&[u8]> {
        self.text.as_deref()
    }

    /// The parsed document (`null` if the text no longer parses, which the reader rules out by
    /// checking every record with the same parser).
    pub fn get(&self) -> &Value {
        self.parsed.get_or_init(|| {
            let Some(text) = &self.text else {
                return self.build.as_ref().map_or(Value::Null, |b| (b.0)());
            };
            let mut v = serde_json::from_slice::<Value>(text).unwrap_or(Value::Null);
            if self.decode_strings
                && let Value::Object(o) = &mut v
            {
                decode_json_strings(o);
            }
            v
        })
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

/// Decodes top-level string values holding JSON objects or arrays (Log Analytics dynamic columns).
pub fn decode_json_strings(o: &mut Map<String, Value>) {
    for (_, v) in o.iter_mut() {
        if let Value::String(s) = v {
            let t = s.trim_start();
            if (t.starts_with('{') || t.starts_with('['))
                && t.len() > 1
                && let Ok(parsed) = serde_json::from_str::<Value>(t)
                && (parsed.is_object() || parsed.is_array())
            {
                *v = parsed;
            }
        }
    }
}
