//! Reading indicator files: the format is recognised from the content (a STIX 2.1 bundle, a MISP
//! event, a CSV/TSV list with a header, or plain text), every entry becomes an [`Indicator`] or a
//! [`Skipped`] entry with its file, line and reason, and totals are kept per type.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::kind::{Indicator, IocType, recognise, type_from_name};

/// An entry that was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub file: Arc<str>,
    /// The 1-based line of the entry.
    pub line: u64,
    /// The type as the file names it (`-` when none).
    pub type_name: String,
    /// The value as written (cut to 200 characters).
    pub value: String,
    /// Why.
    pub reason: String,
}

/// What reading indicator files gave.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Indicators loaded, in file order.
    pub indicators: Vec<Indicator>,
    /// Entries not loaded, in file order.
    pub skipped: Vec<Skipped>,
    /// Per file: the format recognised.
    pub formats: Vec<(Arc<str>, &'static str)>,
    /// Objects of a STIX bundle or MISP event that are no indicators (identities, relationships,
    /// reports), per object type: counted, not loaded.
    pub not_indicators: BTreeMap<String, u64>,
}

impl Loaded {
    /// Loaded indicators per type.
    pub fn loaded_per_type(&self) -> BTreeMap<IocType, u64> {
        let mut m = BTreeMap::new();
        for i in &self.indicators {
            *m.entry(i.kind).or_default() += 1;
        }
        m
    }

    /// Skipped entries per type name as written.
    pub fn skipped_per_type(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.type_name.clone()).or_default() += 1;
        }
        m
    }

    /// Adds one entry: loaded when its value is recognised, else skipped with the reason.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        file: &Arc<str>,
        line: u64,
        type_name: &str,
        hint: Option<IocType>,
        value: &str,
        description: Option<String>,
    ) -> Option<usize> {
        match recognise(value, hint) {
            Ok((kind, value, range)) => {
                self.indicators.push(Indicator {
                    kind,
                    value,
                    description: description.filter(|d| !d.trim().is_empty()),
                    file: file.clone(),
                    line,
                    valid_from: None,
                    valid_until: None,
                    range,
                });
                Some(self.indicators.len() - 1)
            }
            Err(reason) => {
                self.skip(file, line, type_name, value, reason);
                None
            }
        }
    }

    /// Adds an entry not loaded.
    pub(crate) fn skip(
        &mut self,
        file: &Arc<str>,
        line: u64,
        type_name: &str,
        value: &str,
        reason: String,
    ) {
        self.skipped.push(Skipped {
            file: file.clone(),
            line,
            type_name: if type_name.trim().is_empty() {
                "-".into()
            } else {
                type_name.trim().to_string()
            },
            value: value.chars().take(200).collect(),
            reason,
        });
    }

    /// Adds another file's result.
    pub fn merge(&mut self, o: Loaded) {
        self.indicators.extend(o.indicators);
        self.skipped.extend(o.skipped);
        self.formats.extend(o.formats);
        for (k, n) in o.not_indicators {
            *self.not_indicators.entry(k).or_default() += n;
        }
    }
}

/// Reads one indicator file; `Err` when it cannot be read at all.
pub fn load_file(path: &Path) -> Result<Loaded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name: Arc<str> = Arc::from(path.display().to_string());
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok(load_text(&name, &text))
}

/// Reads indicators from `text` (named `file`), recognising its format.
pub fn load_text(file: &Arc<str>, text: &str) -> Loaded {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let head = text.trim_start();
    let mut out = Loaded::default();
    let format = if head.starts_with('{') || head.starts_with('[') {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) if crate::stix::is_stix(&v) => {
                crate::stix::load(file, text, &v, &mut out);
                "stix"
            }
            Ok(v) if crate::misp::is_misp(&v) => {
                crate::misp::load(file, text, &v, &mut out);
                "misp"
            }
            Ok(_) => {
                out.skip(
                    file,
                    1,
                    "-",
                    "",
                    "JSON that is neither a STIX 2.1 bundle nor a MISP event".into(),
                );
                "json"
            }
            Err(e) => {
                out.skip(
                    file,
                    e.line() as u64,
                    "-",
                    "",
                    format!("not valid JSON: {e}"),
                );
                "json"
            }
        }
    } else if let Some(cols) = crate::table::header(text) {
        crate::table::load(file, text, &cols, &mut out);
        "csv"
    } else {
        load_plain(file, text, &mut out);
        "plain"
    };
    out.formats.push((file.clone(), format));
    out
}

/// Plain lists: one indicator a line, `#` comments (whole lines, or after ` #` as the entry's
/// description), an optional `type:` or `type,` prefix naming the type, text after the value
/// (separated by white space, a tab or a comma) as its description.
fn load_plain(file: &Arc<str>, text: &str, out: &mut Loaded) {
    for (n, line) in text.lines().enumerate() {
        let line_no = n as u64 + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        let (entry, comment) = match t.find(" #") {
            Some(i) => (t[..i].trim(), Some(t[i + 2..].trim().to_string())),
            None => (t, None),
        };
        let (hint, type_name, rest) = typed_prefix(entry);
        if let Err(reason) = &hint {
            out.skip(file, line_no, type_name, rest, reason.clone());
            continue;
        }
        let hint = hint.ok().flatten();
        let (value, desc) = if hint == Some(IocType::UserAgent) {
            (rest, None)
        } else {
            match rest.find([' ', '\t', ',']) {
                Some(i) => (&rest[..i], Some(rest[i + 1..].trim().to_string())),
                None => (rest, None),
            }
        };
        if hint.is_none() && value != rest && recognise(value, None).is_err() {
            // Words, not an entry: show the whole line.
            out.skip(
                file,
                line_no,
                type_name,
                rest,
                "value of no recognised type".into(),
            );
            continue;
        }
        out.add(file, line_no, type_name, hint, value, comment.or(desc));
    }
}

/// `ipv4: 1.2.3.4`, `user-agent:python-requests/2.31` → the type named and the rest; a line
/// without a known type name before its first `:` or `,` is all value.
fn typed_prefix(entry: &str) -> (Result<Option<IocType>, String>, &str, &str) {
    if let Some(i) = entry.find([':', ',', '\t']) {
        let (name, rest) = (&entry[..i], &entry[i + 1..]);
        let is_word = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_' || b == b' ');
        if is_word && !rest.starts_with("//") {
            match type_from_name(name) {
                Ok(Some(t)) => return (Ok(Some(t)), name, rest.trim()),
                Err(e) if !entry.contains("://") => return (Err(e), name, rest.trim()),
                _ => {}
            }
        }
    }
    (Ok(None), "", entry)
}

/// Line numbers of positions in a text, found by searching for quoted strings (ids) in order.
/// Positions are met in increasing order as a rule, so lines are counted on from the last one
/// (a bundle of 100,000 objects is not recounted from its start each time).
pub(crate) struct Lines<'a> {
    text: &'a str,
    cursor: usize,
    /// A position and its line, where counting goes on from.
    counted: (usize, u64),
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            cursor: 0,
            counted: (0, 1),
        }
    }

    /// The line of the next occurrence of `"s"` after the last one found.
    pub(crate) fn of(&mut self, s: &str) -> u64 {
        if s.is_empty() {
            return self.line_at(self.cursor);
        }
        let quoted = format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let finder = memchr::memmem::Finder::new(quoted.as_bytes());
        let bytes = self.text.as_bytes();
        // Objects are met in text order: an id not found after the last one (spelled with
        // other escapes) is given the line reached so far, without searching the text again.
        match finder.find(&bytes[self.cursor..]) {
            Some(i) => {
                self.cursor += i + 1;
                self.line_at(self.cursor - 1)
            }
            None => self.line_at(self.cursor),
        }
    }

    fn line_at(&mut self, i: usize) -> u64 {
        let bytes = self.text.as_bytes();
        let i = i.min(bytes.len());
        let (from, line) = if i >= self.counted.0 {
            self.counted
        } else {
            (0, 1)
        };
        let line = line + memchr::memchr_iter(b'\n', &bytes[from..i]).count() as u64;
        self.counted = (i, line);
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lists_with_comments_types_and_bad_lines() {
        let f: Arc<str> = Arc::from("list.txt");
        let text = "# campaign X\n185.244.67[.]228 # C2 relay\n\nevil[.]com\nuser-agent: python-requests/2.31.0 (x)\nnot an indicator\nmutex:Global\\abc\n1.2.3.4/33\n";
        let l = load_text(&f, text);
        let got: Vec<(u64, String)> = l.indicators.iter().map(|i| (i.line, i.label())).collect();
        assert_eq!(
            got,
            vec![
                (2, "ipv4 185.244.67.228".into()),
                (4, "domain evil.com".into()),
                (5, "user-agent python-requests/2.31.0 (x)".into())
            ]
        );
        assert_eq!(l.indicators[0].description.as_deref(), Some("C2 relay"));
        let bad: Vec<u64> = l.skipped.iter().map(|s| s.line).collect();
        assert_eq!(bad, vec![6, 7, 8]);
    }
}
