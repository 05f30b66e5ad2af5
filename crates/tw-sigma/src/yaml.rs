//! A small YAML document tree with line numbers, built from the `yaml-rust2` event parser.
//!
//! Every node remembers the 1-based line where it starts so that rule errors can point at
//! the offending line. Plain scalars are typed with the YAML 1.2 core schema (null, booleans,
//! integers, floats); quoted and block scalars are always strings. Aliases are expanded, with
//! a bound on the total number of nodes so that alias bombs are rejected.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Upper bound on nodes in one YAML stream (after alias expansion).
const MAX_NODES: usize = 1_000_000;

/// A YAML node with the line (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub line: usize,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    /// An integer, with its source text.
    Int(i64, String),
    /// A float, with its source text.
    Float(f64, String),
    Str(String),
    Seq(Vec<Node>),
    /// Mapping entries in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error with its line.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub line: Option<usize>,
    pub message: String,
}

impl Node {
    /// The node as a string scalar (strings only).
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node's scalar rendered as text (strings, numbers, booleans); `None` for null,
    /// sequences and maps.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(_, raw) | Kind::Float(_, raw) => Some(raw.clone()),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Looks a key up in a mapping node (string keys only).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.key_text().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Text of a mapping key: strings, numbers and booleans are accepted as keys.
    pub fn key_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Null => Some(String::new()),
            _ => self.scalar_text(),
        }
    }

    /// A short name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "boolean",
            Kind::Int(..) => "integer",
            Kind::Float(..) => "number",
            Kind::Str(_) => "string",
            Kind::Seq(_) => "list",
            Kind::Map(_) => "map",
        }
    }
}

enum Frame {
    Seq(Vec<Node>, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
}

struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    error: Option<YamlError>,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }

    fn count(&mut self, n: usize, line: usize) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            if self.error.is_none() {
                self.error = Some(YamlError {
                    line: Some(line),
                    message: format!("document too large (more than {MAX_NODES} nodes)"),
                });
            }
            return false;
        }
        true
    }
}

fn node_size(n: &Node) -> usize {
    let mut total = 0usize;
    let mut todo = vec![n];
    while let Some(x) = todo.pop() {
        total += 1;
        match &x.kind {
            Kind::Seq(items) => todo.extend(items.iter()),
            Kind::Map(entries) => {
                for (k, v) in entries {
                    todo.push(k);
                    todo.push(v);
                }
            }
            _ => {}
        }
        if total > MAX_NODES {
            break;
        }
    }
    total
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                if !self.count(1, line) {
                    return;
                }
                let kind = if style == TScalarStyle::Plain {
                    type_plain(text)
                } else {
                    Kind::Str(text)
                };
                self.push_value(Node { kind, line }, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(Vec::new(), anchor, line))
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(Vec::new(), None, anchor, line))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if !self.count(1, line) {
                    return;
                }
                match self.stack.pop() {
                    Some(Frame::Seq(items, anchor, l)) => {
                        self.push_value(
                            Node {
                                kind: Kind::Seq(items),
                                line: l,
                            },
                            anchor,
                        );
                    }
                    Some(Frame::Map(entries, _, anchor, l)) => {
                        self.push_value(
                            Node {
                                kind: Kind::Map(entries),
                                line: l,
                            },
                            anchor,
                        );
                    }
                    None => {}
                }
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(n) => n.clone(),
                    None => {
                        self.error = Some(YamlError {
                            line: Some(line),
                            message: "unknown alias".into(),
                        });
                        return;
                    }
                };
                let size = node_size(&node);
                if !self.count(size, line) {
                    return;
                }
                self.push_value(node, 0);
            }
            Event::DocumentEnd => {
                // An empty document (`---` followed by nothing) yields a null scalar.
            }
            _ => {}
        }
    }
}

fn type_plain(text: String) -> Kind {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_yaml_int(&text) {
        return Kind::Int(i, text);
    }
    let t = text.as_str();
    let looks_float = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && t.bytes().any(|b| b.is_ascii_digit());
    if looks_float && let Ok(f) = t.parse::<f64>() {
        return Kind::Float(f, text);
    }
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Kind::Float(f64::INFINITY, text),
        "-.inf" | "-.Inf" | "-.INF" => return Kind::Float(f64::NEG_INFINITY, text),
        ".nan" | ".NaN" | ".NAN" => return Kind::Float(f64::NAN, text),
        _ => {}
    }
    Kind::Str(text)
}

fn parse_yaml_int(t: &str) -> Option<i64> {
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok()
}

/// Parses a YAML stream into its documents. A leading byte order mark is ignored.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder {
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(YamlError {
            line: Some(e.marker().line()),
            message: e.info().to_string(),
        });
    }
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(builder.docs)
}

/// Converts a node to JSON (integers and floats as numbers, non-finite floats as null,
/// mapping keys as text).
pub fn to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &n.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(*b),
        Kind::Int(i, _) => Value::from(*i),
        Kind::Float(f, _) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Kind::Str(s) => Value::String(s.clone()),
        Kind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.key_text().unwrap_or_default(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_docs_with_lines() {
        let docs = parse_documents("a: 1\nb: 'x'\n---\nc: [true, null, 1.5]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].get("b").unwrap().kind, Kind::Str("x".into()));
        assert_eq!(docs[0].get("b").unwrap().line, 2);
        assert!(matches!(docs[0].get("a").unwrap().kind, Kind::Int(1, _)));
        assert_eq!(docs[1].get("c").unwrap().line, 4);
    }

    #[test]
    fn reports_error_line() {
        let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line.is_some());
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let docs = parse_documents("a: '0'\nb: 0\nc: 0x17\n").unwrap();
        assert_eq!(docs[0].get("a").unwrap().kind, Kind::Str("0".into()));
        assert!(matches!(docs[0].get("b").unwrap().kind, Kind::Int(0, _)));
        assert!(matches!(docs[0].get("c").unwrap().kind, Kind::Int(23, _)));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            s.push_str(&format!(
                "{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = c;
        }
        assert!(parse_documents(&s).is_err());
    }
}
