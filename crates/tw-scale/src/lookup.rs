//! A field's values as the Sigma engine's event adapter gives them, read either from the
//! record's text ([`Tree`], the usual way: no parsed document needed) or from a parsed
//! document (records whose document is not their text: CSV rows, decoded Log Analytics
//! columns). The rules are the engine's (`tw_sigma::event`, `tw_detect::event`): a path of
//! exact keys first, and only when it reaches nothing the same walk matching keys ignoring
//! case; at each step the whole remaining path as one flat key before splitting it on a `.`;
//! arrays on the path walked item by item; values as text (numbers in canonical form,
//! objects and arrays inside arrays as compact JSON text, JSON null as a null element); an
//! operation name also in its normalised variants. A unit test checks them against the
//! adapter on every record of the public samples.

use serde_json::Value;
use tw_sigma::event::find_key_ignoring_case;

use crate::json_tree::{NotScanned, Tag, Tree, push_number_value};

/// What a node holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    Scalar,
    Null,
    /// Not read (a skipped member of the text): reaching it means the text cannot answer.
    Skipped,
}

/// A document the engine's lookup can walk.
pub(crate) trait Doc {
    type Node: Copy;
    /// The document's root object.
    fn root(&self) -> Self::Node;
    /// What `n` holds.
    fn kind(&self, n: Self::Node) -> Kind;
    /// Member `key` of object `obj`: the exact key, or with `ci` a key as the engine matches
    /// one ignoring case.
    fn get(&self, obj: Self::Node, key: &str, ci: bool) -> Option<Self::Node>;
    /// An id of node `n` that stays the same for the document's life, when it has one (a
    /// rendered object is then copied, not rendered again).
    fn node_id(&self, n: Self::Node) -> Option<u32> {
        let _ = n;
        None
    }
    /// Member `key` of the root object, as [`Doc::get`]; `id` the key's id among the top-level
    /// keys a document may keep (`None`: not known).
    fn get_head(&self, id: Option<u32>, key: &str, ci: bool) -> Option<Self::Node> {
        let _ = id;
        self.get(self.root(), key, ci)
    }
    /// Calls `f` with each item of array `arr` (stopping at its first error).
    fn each_item(
        &self,
        arr: Self::Node,
        f: &mut dyn FnMut(Self::Node) -> Result<(), NotScanned>,
    ) -> Result<(), NotScanned>;
    /// Whether `n` is a string.
    fn is_string(&self, n: Self::Node) -> bool;
    /// Appends the text of scalar `n` (string unescaped, number, boolean).
    fn push_scalar(&self, n: Self::Node, out: &mut String) -> Result<(), NotScanned>;
    /// Appends the compact JSON text of object or array `n`.
    fn render(&self, n: Self::Node, out: &mut String) -> Result<(), NotScanned>;
}

impl Doc for Tree<'_> {
    type Node = u32;

    fn root(&self) -> u32 {
        Tree::root(self)
    }

    fn kind(&self, n: u32) -> Kind {
        match self.node(n).tag {
            Tag::Object => Kind::Object,
            Tag::Array => Kind::Array,
            Tag::Null => Kind::Null,
            Tag::Skipped => Kind::Skipped,
            _ => Kind::Scalar,
        }
    }

    fn get(&self, obj: u32, key: &str, ci: bool) -> Option<u32> {
        // A repeated key keeps its last value, as a parsed document does.
        let exact = self.member(obj, key);
        if exact.is_some() || !ci {
            return exact;
        }
        self.get_ignoring_case(obj, key)
    }

    fn each_item(
        &self,
        arr: u32,
        f: &mut dyn FnMut(u32) -> Result<(), NotScanned>,
    ) -> Result<(), NotScanned> {
        Tree::items(self, arr).try_for_each(f)
    }

    fn node_id(&self, n: u32) -> Option<u32> {
        Some(n)
    }

    fn get_head(&self, id: Option<u32>, key: &str, ci: bool) -> Option<u32> {
        let Some(id) = id else {
            return self.get(self.root(), key, ci);
        };
        // A key equal to `key`, exactly or ignoring ASCII case, has the same lowercase form,
        // hence the same id: only those members are compared.
        let same = || self.heads().iter().filter(move |(i, _)| *i == id);
        let mut exact = None;
        for &(_, k) in same() {
            if self.string_is(k, key) {
                exact = Some(k + 1);
            }
        }
        if exact.is_some() || !ci {
            return exact;
        }
        let mut best: Option<(std::borrow::Cow<'_, str>, u32)> = None;
        for &(_, k) in same() {
            if !self.string_is_ascii_ci(k, key) {
                continue;
            }
            let name = self.string(k);
            if best
                .as_ref()
                .is_none_or(|(b, _)| name.as_bytes() <= b.as_bytes())
            {
                best = Some((name, k + 1));
            }
        }
        best.map(|(_, v)| v)
    }

    fn is_string(&self, n: u32) -> bool {
        matches!(self.node(n).tag, Tag::Str | Tag::EscStr)
    }

    fn push_scalar(&self, n: u32, out: &mut String) -> Result<(), NotScanned> {
        match self.node(n).tag {
            Tag::Str | Tag::EscStr => self.push_string(n, out),
            Tag::Num => push_number_value(self.number(n), out)?,
            Tag::True => out.push_str("true"),
            Tag::False => out.push_str("false"),
            _ => return Err(NotScanned),
        }
        Ok(())
    }

    fn render(&self, n: u32, out: &mut String) -> Result<(), NotScanned> {
        Tree::render(self, n, out)
    }
}

impl Tree<'_> {
    /// The member the engine finds for `key` ignoring case when no key is spelled exactly: in
    /// key order (a parsed document's), the first key equal ignoring ASCII case, else for a key
    /// that is not ASCII the first equal in lower case; a repeated key's last value.
    fn get_ignoring_case(&self, obj: u32, key: &str) -> Option<u32> {
        let pick = |same: &dyn Fn(u32) -> bool| {
            let mut best: Option<(std::borrow::Cow<'_, str>, u32)> = None;
            for (k, v) in self.members(obj) {
                if !same(k) {
                    continue;
                }
                let name = self.string(k);
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| name.as_bytes() <= b.as_bytes())
                {
                    best = Some((name, v));
                }
            }
            best.map(|(_, v)| v)
        };
        let ascii = pick(&|k| self.string_is_ascii_ci(k, key));
        if ascii.is_some() || key.is_ascii() {
            return ascii;
        }
        let lower = key.to_lowercase();
        pick(&|k| self.string(k).to_lowercase() == lower)
    }
}

impl<'v> Doc for &'v Value {
    type Node = &'v Value;

    fn root(&self) -> &'v Value {
        self
    }

    fn kind(&self, n: &'v Value) -> Kind {
        match n {
            Value::Object(_) => Kind::Object,
            Value::Array(_) => Kind::Array,
            Value::Null => Kind::Null,
            _ => Kind::Scalar,
        }
    }

    fn get(&self, obj: &'v Value, key: &str, ci: bool) -> Option<&'v Value> {
        let map = obj.as_object()?;
        match map.get(key) {
            Some(v) => Some(v),
            None if ci => find_key_ignoring_case(map.iter().map(|(k, v)| (k.as_str(), v)), key),
            None => None,
        }
    }

    fn each_item(
        &self,
        arr: &'v Value,
        f: &mut dyn FnMut(&'v Value) -> Result<(), NotScanned>,
    ) -> Result<(), NotScanned> {
        match arr {
            Value::Array(items) => items.iter().try_for_each(f),
            _ => Ok(()),
        }
    }

    fn is_string(&self, n: &'v Value) -> bool {
        n.is_string()
    }

    fn push_scalar(&self, n: &'v Value, out: &mut String) -> Result<(), NotScanned> {
        match n {
            Value::String(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(num) => {
                if let Some(i) = num.as_i64() {
                    out.push_str(&i.to_string());
                } else if let Some(x) = num.as_f64() {
                    out.push_str(&tw_sigma::event::canonical_float(x));
                } else {
                    out.push_str(&num.to_string());
                }
            }
            _ => return Err(NotScanned),
        }
        Ok(())
    }

    fn render(&self, n: &'v Value, out: &mut String) -> Result<(), NotScanned> {
        out.push_str(&n.to_string());
        Ok(())
    }
}

/// Where a row's field-map values go: elements (spans of `text`, `None` for a JSON null).
pub(crate) struct Values<'r> {
    pub elements: &'r mut Vec<Option<(u32, u32)>>,
    pub text: &'r mut String,
    /// Objects and arrays already rendered into `text`: (node id, start, end).
    pub rendered: &'r mut Vec<(u32, u32, u32)>,
}

/// Appends the values of `path` in `doc`, the engine's way (exact keys, else ignoring case);
/// whether the field is present. `operation`: texts also in their normalised variants.
pub(crate) fn read_path<D: Doc>(
    doc: &D,
    path: &str,
    heads: &[Option<u32>],
    operation: bool,
    out: &mut Values<'_>,
) -> Result<bool, NotScanned> {
    let found = std::cell::Cell::new(false);
    let mut visit = |n: D::Node| {
        found.set(true);
        visit_value(doc, n, operation, out)
    };
    lookup_root(doc, path, heads, false, &mut visit)?;
    if !found.get() {
        // Nothing reached, so nothing was appended: the walk again, ignoring case.
        lookup_root(doc, path, heads, true, &mut visit)?;
    }
    Ok(found.get())
}

/// [`lookup`] from the root, its keys found by their ids (`heads`, see [`Doc::get_head`]).
fn lookup_root<D: Doc>(
    doc: &D,
    path: &str,
    heads: &[Option<u32>],
    ci: bool,
    f: &mut dyn FnMut(D::Node) -> Result<(), NotScanned>,
) -> Result<(), NotScanned> {
    let id = |j: usize| heads.get(j).copied().flatten();
    if let Some(x) = doc.get_head(id(0), path, ci) {
        return f(x);
    }
    for (j, (i, _)) in path.match_indices('.').enumerate() {
        let (head, tail) = (&path[..i], &path[i + 1..]);
        if !tail.is_empty()
            && let Some(x) = doc.get_head(id(j + 1), head, ci)
        {
            lookup(doc, x, tail, ci, f)?;
        }
    }
    Ok(())
}

/// Calls `f` with every node `path` reaches from `n`, in the engine's order (its `lookup`,
/// which never stops early here).
fn lookup<D: Doc>(
    doc: &D,
    n: D::Node,
    path: &str,
    ci: bool,
    f: &mut dyn FnMut(D::Node) -> Result<(), NotScanned>,
) -> Result<(), NotScanned> {
    match doc.kind(n) {
        Kind::Object => {
            if let Some(x) = doc.get(n, path, ci) {
                return f(x);
            }
            let mut from = 0;
            while let Some(pos) = path[from..].find('.') {
                let i = from + pos;
                let (head, tail) = (&path[..i], &path[i + 1..]);
                if !tail.is_empty()
                    && let Some(x) = doc.get(n, head, ci)
                {
                    lookup(doc, x, tail, ci, f)?;
                }
                from = i + 1;
            }
            Ok(())
        }
        Kind::Array => doc.each_item(n, &mut |item| lookup(doc, item, path, ci, f)),
        Kind::Skipped => Err(NotScanned),
        Kind::Scalar | Kind::Null => Ok(()),
    }
}

/// Appends the values of node `n`: a scalar, each item of an array (objects and arrays in it
/// as JSON text), an object as JSON text.
fn visit_value<D: Doc>(
    doc: &D,
    n: D::Node,
    operation: bool,
    out: &mut Values<'_>,
) -> Result<(), NotScanned> {
    match doc.kind(n) {
        Kind::Array => doc.each_item(n, &mut |item| match doc.kind(item) {
            Kind::Object | Kind::Array => push_text(doc, item, true, operation, out),
            _ => visit_value(doc, item, operation, out),
        }),
        Kind::Object => push_text(doc, n, true, operation, out),
        Kind::Null => {
            out.elements.push(None);
            Ok(())
        }
        Kind::Scalar => push_text(doc, n, false, operation, out),
        Kind::Skipped => Err(NotScanned),
    }
}

/// Appends one text value (an object or array rendered, or a scalar), then for an operation
/// field the variants of a string.
fn push_text<D: Doc>(
    doc: &D,
    n: D::Node,
    rendered: bool,
    operation: bool,
    out: &mut Values<'_>,
) -> Result<(), NotScanned> {
    let start = out.text.len();
    if rendered {
        let id = doc.node_id(n);
        let done = id.and_then(|id| out.rendered.iter().find(|r| r.0 == id));
        if let Some(&(_, s, e)) = done {
            out.text.extend_from_within(s as usize..e as usize);
        } else {
            doc.render(n, out.text)?;
            if let Some(id) = id {
                out.rendered.push((id, start as u32, out.text.len() as u32));
            }
        }
    } else {
        doc.push_scalar(n, out.text)?;
    }
    let end = out.text.len();
    out.elements.push(Some((start as u32, end as u32)));
    // Only strings (and rendered texts) are offered in variants, not numbers or booleans.
    if operation && (rendered || doc.is_string(n)) {
        let variants = operation_variants(&out.text[start..end]);
        for v in variants {
            let s = out.text.len();
            out.text.push_str(&v);
            out.elements.push(Some((s as u32, out.text.len() as u32)));
        }
    }
    Ok(())
}

/// The variants an operation name is also offered as by the engine's adapter (trimmed,
/// without the trailing full stop, en dash and spaced hyphen exchanged), without the name
/// itself.
fn operation_variants(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let t = s.trim();
    if t.len() == s.len() && !t.ends_with('.') && !t.contains('–') && !t.contains(" - ") {
        return out;
    }
    let base = t.strip_suffix('.').unwrap_or(t).trim_end();
    for v in [
        t.to_string(),
        base.to_string(),
        base.replace('–', "-"),
        base.replace(" - ", " – "),
    ] {
        if v != s && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_sigma::{FieldRef, FieldValue, SigmaEvent};

    /// (present, texts) of `path` read from the tree of `text`.
    fn from_tree(text: &str, path: &str, operation: bool) -> (bool, Vec<Option<String>>) {
        let tree = Tree::scan(text, &mut |_| Some(0)).expect("scans");
        let (mut elements, mut out, mut rendered) = (Vec::new(), String::new(), Vec::new());
        let mut values = Values {
            elements: &mut elements,
            text: &mut out,
            rendered: &mut rendered,
        };
        let found = read_path(&tree, path, &[], operation, &mut values).expect("answers");
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
    fn paths_read_from_the_text_as_the_engine_reads_them() {
        let text = r#"{
            "a.b": "flat", "a": {"b": "nested", "B": "upper", "c": [{"d": 1}, {"d": [2, {"e": 3}]}]},
            "Status": {"errorCode": 50126, "Detail": null}, "status": "lower wins exactly",
            "list": [[1, 2], {"z": "\u00e9", "a": 1.0}, null, true, 1e2, 12345678901234567890],
            "Dup": 1, "Dup": 2, "DUP": 3, "x": {"y.z": "flat inside", "y": {"z": "nested inside"}},
            "ÉTAT": "accent", "num": -0.0
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
        ] {
            assert_eq!(
                from_tree(text, path, false),
                from_engine(text, path),
                "{path}"
            );
        }
    }

    #[test]
    fn operation_names_get_the_adapters_variants() {
        let text = r#"{"Operation": "Add member to role.", "Other": "Set – policy ", "n": 3}"#;
        let (_, got) = from_tree(text, "Operation", true);
        assert_eq!(
            got,
            [
                Some("Add member to role.".into()),
                Some("Add member to role".into())
            ]
        );
        let (_, got) = from_tree(text, "Other", true);
        let want = ["Set – policy ", "Set – policy", "Set - policy"];
        assert_eq!(got, want.map(|s| Some(s.to_string())));
        let (_, got) = from_tree(text, "n", true);
        assert_eq!(got, [Some("3".to_string())]);
    }
}
