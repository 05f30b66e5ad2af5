//! The rule model and the YAML loader.
//!
//! A YAML file holds one or more documents; each is a detection rule (it has `detection`)
//! or a correlation rule (it has `correlation`, see [`crate::correlation`]). Loading checks
//! structure, modifier names and the condition; it reports a [`RuleError`] naming the file,
//! the line where known and the precise reason.

use std::fmt;

use crate::condition::{Cond, parse_condition};
use crate::correlation::{CorrelationRule, parse_correlation};
use crate::modifier::{Modifier, parse_modifiers};
use crate::yaml::{Kind, Node, parse_documents};

/// Why a rule (or a whole file) could not be loaded or compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The path given to the loader.
    pub path: String,
    /// 1-based line of the problem, where known.
    pub line: Option<usize>,
    /// The precise reason.
    pub reason: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path, l, self.reason),
            None => write!(f, "{}: {}", self.path, self.reason),
        }
    }
}

impl std::error::Error for RuleError {}

impl RuleError {
    pub(crate) fn new(path: &str, line: Option<usize>, reason: impl Into<String>) -> Self {
        RuleError {
            path: path.to_string(),
            line,
            reason: reason.into(),
        }
    }
}

/// Rule maturity (`status`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Status {
    Stable,
    Test,
    Experimental,
    Deprecated,
    Unsupported,
    /// Any other value, kept verbatim.
    Other(String),
}

impl Status {
    fn parse(s: &str) -> Status {
        match s.to_ascii_lowercase().as_str() {
            "stable" => Status::Stable,
            "test" | "testing" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => Status::Other(s.to_string()),
        }
    }

    /// `deprecated` and `unsupported` rules are normally skipped by callers.
    pub fn is_retired(&self) -> bool {
        matches!(self, Status::Deprecated | Status::Unsupported)
    }

    /// The status as written in rules.
    pub fn as_str(&self) -> &str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
            Status::Other(s) => s,
        }
    }
}

/// Rule criticality (`level`), ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// Parses a level name (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The level as written in rules.
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// The `logsource` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    pub definition: Option<String>,
}

/// One entry of `related`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub id: String,
    /// `derived`, `obsolete`, `merged`, `renamed`, `similar`.
    pub kind: String,
}

/// A raw value of a detection item, as written in the rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Null,
    Bool(bool),
    /// Integer with its source text.
    Int(i64, String),
    /// Float with its source text.
    Float(f64, String),
    Str(String),
}

/// One `field|modifiers: values` entry (or a keyword list when `field` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionItem {
    /// The field as written in the rule; `None` for keywords.
    pub field: Option<String>,
    /// The data fields this item is checked against (after pipeline field mapping; the
    /// item matches if any of them matches). Equal to `[field]` before mapping.
    pub targets: Vec<String>,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<RawValue>,
    pub line: usize,
    /// Whether a pipeline mapped this item's field (or added the item).
    pub mapped: bool,
}

/// A search identifier: an OR of branches, each an AND of items.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub name: String,
    pub branches: Vec<Vec<DetectionItem>>,
    pub line: usize,
}

/// The `detection` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub selections: Vec<Selection>,
    /// The conditions (a list is an OR of conditions).
    pub conditions: Vec<Cond>,
    /// Condition source text, for display.
    pub condition_text: Vec<String>,
    /// Selections that must also hold (added by pipelines' `add_condition`).
    pub extra: Vec<usize>,
    /// Selections that must not hold (added by `add_condition` with `negated: true`).
    pub extra_not: Vec<usize>,
}

/// A parsed (not yet compiled) detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    pub path: String,
    /// Line where the rule's document starts.
    pub line: usize,
    pub title: String,
    pub id: Option<String>,
    /// `name` (used by correlation rules to refer to this rule).
    pub name: Option<String>,
    pub status: Option<Status>,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub fields: Vec<String>,
    pub related: Vec<Related>,
    pub logsource: LogSource,
    pub detection: Detection,
}

/// One loaded YAML document.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Document {
    Rule(SigmaRule),
    Correlation(CorrelationRule),
    /// A Sigma filter: a condition ANDed to the rules it names.
    Filter(SigmaFilter),
    /// A rule whose status is `deprecated` or `unsupported`, with the outcome of parsing it
    /// (retired rules often use syntax that is no longer supported).
    Retired(RetiredRule),
}

/// A Sigma filter document (`filter: {rules: [...], <selections>, condition}`): its condition is
/// ANDed to the condition of every rule it names (by id or name), so a rule matches only where the
/// filter's condition also holds (filters are usually written `condition: not selection`).
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaFilter {
    pub path: String,
    pub line: usize,
    pub title: String,
    pub id: Option<String>,
    pub logsource: LogSource,
    /// Ids or names of the rules it applies to.
    pub rules: Vec<String>,
    pub detection: Detection,
}

impl SigmaFilter {
    /// Adds this filter's selections to `rule` (renamed so they cannot clash) and ANDs its
    /// condition to each of the rule's conditions.
    pub fn apply_to(&self, rule: &mut SigmaRule, n: usize) {
        let offset = rule.detection.selections.len();
        for sel in &self.detection.selections {
            let mut s = sel.clone();
            s.name = format!("__filter{n}_{}", sel.name);
            rule.detection.selections.push(s);
        }
        fn shift(c: &Cond, off: usize) -> Cond {
            match c {
                Cond::Ident(i) => Cond::Ident(i + off),
                Cond::Not(x) => Cond::Not(Box::new(shift(x, off))),
                Cond::And(xs) => Cond::And(xs.iter().map(|x| shift(x, off)).collect()),
                Cond::Or(xs) => Cond::Or(xs.iter().map(|x| shift(x, off)).collect()),
                Cond::AtLeast(k, ids) => Cond::AtLeast(*k, ids.iter().map(|i| i + off).collect()),
                Cond::All(ids) => Cond::All(ids.iter().map(|i| i + off).collect()),
            }
        }
        let fconds: Vec<Cond> = self
            .detection
            .conditions
            .iter()
            .map(|c| shift(c, offset))
            .collect();
        let fcond = if fconds.len() == 1 {
            fconds.into_iter().next().unwrap_or(Cond::Or(Vec::new()))
        } else {
            Cond::Or(fconds)
        };
        rule.detection.conditions = rule
            .detection
            .conditions
            .iter()
            .map(|c| Cond::And(vec![c.clone(), fcond.clone()]))
            .collect();
        let ftext = self.detection.condition_text.join(" or ");
        rule.detection.condition_text = rule
            .detection
            .condition_text
            .iter()
            .map(|t| format!("({t}) and filter '{}' ({ftext})", self.title))
            .collect();
    }
}

fn parse_filter(doc: &Node, path: &str) -> Result<SigmaFilter, RuleError> {
    let title = opt_text(doc, "title")
        .ok_or_else(|| RuleError::new(path, Some(doc.line), "filter has no 'title'"))?;
    let Some(f) = doc.get("filter") else {
        return Err(RuleError::new(
            path,
            Some(doc.line),
            "filter document has no 'filter'",
        ));
    };
    let Kind::Map(entries) = &f.kind else {
        return Err(RuleError::new(path, Some(f.line), "'filter' must be a map"));
    };
    let rules = string_list(f.get("rules"));
    if rules.is_empty() {
        return Err(RuleError::new(
            path,
            Some(f.line),
            "filter names no rule ('rules' is missing or empty)",
        ));
    }
    let rest: Vec<(Node, Node)> = entries
        .iter()
        .filter(|(k, _)| k.key_text().as_deref() != Some("rules"))
        .cloned()
        .collect();
    let detection = parse_detection(
        &Node {
            kind: Kind::Map(rest),
            line: f.line,
        },
        path,
    )?;
    let logsource = match doc.get("logsource") {
        Some(ls) => LogSource {
            product: ls.get("product").and_then(text_of),
            category: ls.get("category").and_then(text_of),
            service: ls.get("service").and_then(text_of),
            definition: ls.get("definition").and_then(text_of),
        },
        None => LogSource::default(),
    };
    Ok(SigmaFilter {
        path: path.to_string(),
        line: doc.line,
        title,
        id: opt_text(doc, "id"),
        logsource,
        rules,
        detection,
    })
}

/// A `deprecated` or `unsupported` rule.
#[derive(Debug, Clone)]
pub struct RetiredRule {
    pub path: String,
    pub line: usize,
    pub title: Option<String>,
    pub id: Option<String>,
    pub status: Status,
    pub parsed: Result<Box<SigmaRule>, RuleError>,
}

pub(crate) fn text_of(node: &Node) -> Option<String> {
    node.scalar_text()
}

pub(crate) fn string_list(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items.iter().filter_map(text_of).collect(),
        Some(_) => node.and_then(text_of).into_iter().collect(),
        None => Vec::new(),
    }
}

fn raw_value(node: &Node, path: &str) -> Result<RawValue, RuleError> {
    Ok(match &node.kind {
        Kind::Null => RawValue::Null,
        Kind::Bool(b) => RawValue::Bool(*b),
        Kind::Int(i, t) => RawValue::Int(*i, t.clone()),
        Kind::Float(f, t) => RawValue::Float(*f, t.clone()),
        Kind::Str(s) => RawValue::Str(s.clone()),
        Kind::Seq(_) | Kind::Map(_) => {
            return Err(RuleError::new(
                path,
                Some(node.line),
                format!(
                    "a detection value must be a scalar, found a {}",
                    node.type_name()
                ),
            ));
        }
    })
}

fn item_from_entry(key: &Node, value: &Node, path: &str) -> Result<DetectionItem, RuleError> {
    let key_text = key.key_text().unwrap_or_default();
    let mut parts = key_text.split('|');
    let field = parts.next().unwrap_or_default().to_string();
    let mods: Vec<&str> = parts.collect();
    let modifiers = parse_modifiers(&mods).map_err(|e| RuleError::new(path, Some(key.line), e))?;
    let values = match &value.kind {
        Kind::Seq(items) => {
            if items.is_empty() {
                return Err(RuleError::new(
                    path,
                    Some(value.line),
                    format!("empty value list for '{key_text}'"),
                ));
            }
            items
                .iter()
                .map(|n| raw_value(n, path))
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => vec![raw_value(value, path)?],
    };
    let field = if field.is_empty() { None } else { Some(field) };
    Ok(DetectionItem {
        targets: field.iter().cloned().collect(),
        field,
        modifiers,
        values,
        line: key.line,
        mapped: false,
    })
}

fn map_branch(entries: &[(Node, Node)], path: &str) -> Result<Vec<DetectionItem>, RuleError> {
    entries
        .iter()
        .map(|(k, v)| item_from_entry(k, v, path))
        .collect()
}

pub(crate) fn parse_selection(name: &str, node: &Node, path: &str) -> Result<Selection, RuleError> {
    let keywords = |values: Vec<RawValue>, line| DetectionItem {
        field: None,
        targets: Vec::new(),
        modifiers: Vec::new(),
        values,
        line,
        mapped: false,
    };
    let branches = match &node.kind {
        Kind::Map(entries) => {
            if entries.is_empty() {
                return Err(RuleError::new(
                    path,
                    Some(node.line),
                    format!("search identifier '{name}' is empty"),
                ));
            }
            vec![map_branch(entries, path)?]
        }
        Kind::Seq(items) => {
            if items.is_empty() {
                return Err(RuleError::new(
                    path,
                    Some(node.line),
                    format!("search identifier '{name}' is an empty list"),
                ));
            }
            let mut branches = Vec::new();
            let mut words = Vec::new();
            for item in items {
                match &item.kind {
                    Kind::Map(entries) => branches.push(map_branch(entries, path)?),
                    Kind::Seq(_) => {
                        return Err(RuleError::new(
                            path,
                            Some(item.line),
                            format!("nested list in search identifier '{name}'"),
                        ));
                    }
                    _ => words.push(raw_value(item, path)?),
                }
            }
            if !words.is_empty() {
                branches.push(vec![keywords(words, node.line)]);
            }
            branches
        }
        Kind::Str(_) | Kind::Int(..) | Kind::Float(..) => {
            vec![vec![keywords(vec![raw_value(node, path)?], node.line)]]
        }
        _ => {
            return Err(RuleError::new(
                path,
                Some(node.line),
                format!(
                    "search identifier '{name}' must be a map, a list or a string, found {}",
                    node.type_name()
                ),
            ));
        }
    };
    Ok(Selection {
        name: name.to_string(),
        branches,
        line: node.line,
    })
}

fn parse_detection(node: &Node, path: &str) -> Result<Detection, RuleError> {
    let Kind::Map(entries) = &node.kind else {
        return Err(RuleError::new(
            path,
            Some(node.line),
            "'detection' must be a map",
        ));
    };
    let mut selections = Vec::new();
    let mut condition: Option<&Node> = None;
    for (k, v) in entries {
        let name = k.key_text().unwrap_or_default();
        match name.as_str() {
            "condition" => condition = Some(v),
            "timeframe" => {
                return Err(RuleError::new(
                    path,
                    Some(k.line),
                    "'timeframe' (aggregation) is not supported; use a correlation rule",
                ));
            }
            _ => selections.push(parse_selection(&name, v, path)?),
        }
    }
    let Some(cond_node) = condition else {
        return Err(RuleError::new(
            path,
            Some(node.line),
            "detection has no 'condition'",
        ));
    };
    let cond_texts: Vec<(String, usize)> = match &cond_node.kind {
        Kind::Str(s) => vec![(s.clone(), cond_node.line)],
        Kind::Seq(items) if !items.is_empty() => items
            .iter()
            .map(|n| {
                n.as_str()
                    .map(|s| (s.to_string(), n.line))
                    .ok_or_else(|| RuleError::new(path, Some(n.line), "condition must be a string"))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(RuleError::new(
                path,
                Some(cond_node.line),
                "condition must be a string or a list of strings",
            ));
        }
    };
    let names: Vec<String> = selections.iter().map(|s| s.name.clone()).collect();
    let mut conditions = Vec::new();
    for (text, line) in &cond_texts {
        conditions
            .push(parse_condition(text, &names).map_err(|e| RuleError::new(path, Some(*line), e))?);
    }
    Ok(Detection {
        selections,
        conditions,
        condition_text: cond_texts.into_iter().map(|(t, _)| t).collect(),
        extra: Vec::new(),
        extra_not: Vec::new(),
    })
}

fn opt_text(doc: &Node, key: &str) -> Option<String> {
    doc.get(key).and_then(text_of)
}

fn parse_rule(doc: &Node, path: &str) -> Result<SigmaRule, RuleError> {
    let title = opt_text(doc, "title")
        .ok_or_else(|| RuleError::new(path, Some(doc.line), "rule has no 'title'"))?;
    let level = match doc.get("level") {
        None => None,
        Some(n) => match n.as_str().and_then(Level::parse) {
            Some(l) => Some(l),
            None => {
                return Err(RuleError::new(
                    path,
                    Some(n.line),
                    format!("unknown level {:?}", n.scalar_text().unwrap_or_default()),
                ));
            }
        },
    };
    let logsource = match doc.get("logsource") {
        Some(ls) => {
            if !matches!(ls.kind, Kind::Map(_)) {
                return Err(RuleError::new(
                    path,
                    Some(ls.line),
                    "'logsource' must be a map",
                ));
            }
            LogSource {
                product: opt_text(ls, "product"),
                category: opt_text(ls, "category"),
                service: opt_text(ls, "service"),
                definition: opt_text(ls, "definition"),
            }
        }
        None => LogSource::default(),
    };
    let related = match doc.get("related").map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items
            .iter()
            .filter_map(|r| {
                Some(Related {
                    id: opt_text(r, "id")?,
                    kind: opt_text(r, "type").unwrap_or_default(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let detection_node = doc
        .get("detection")
        .ok_or_else(|| RuleError::new(path, Some(doc.line), "rule has no 'detection'"))?;
    let detection = parse_detection(detection_node, path)?;
    Ok(SigmaRule {
        path: path.to_string(),
        line: doc.line,
        title,
        id: opt_text(doc, "id"),
        name: opt_text(doc, "name"),
        status: opt_text(doc, "status").map(|s| Status::parse(&s)),
        level,
        description: opt_text(doc, "description"),
        author: opt_text(doc, "author"),
        date: opt_text(doc, "date"),
        modified: opt_text(doc, "modified"),
        tags: string_list(doc.get("tags")),
        references: string_list(doc.get("references")),
        falsepositives: string_list(doc.get("falsepositives")),
        fields: string_list(doc.get("fields")),
        related,
        logsource,
        detection,
    })
}

/// Loads every document of a YAML text. A YAML syntax error fails the whole file (one
/// error); otherwise each document yields a rule, a correlation or its own error.
pub fn load_documents(path: &str, text: &str) -> Vec<Result<Document, RuleError>> {
    let docs = match parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            return vec![Err(RuleError::new(
                path,
                e.line,
                format!("invalid YAML: {}", e.message),
            ))];
        }
    };
    let mut out = Vec::new();
    for doc in &docs {
        if matches!(doc.kind, Kind::Null) {
            continue;
        }
        if !matches!(doc.kind, Kind::Map(_)) {
            out.push(Err(RuleError::new(
                path,
                Some(doc.line),
                format!("a rule document must be a map, found {}", doc.type_name()),
            )));
            continue;
        }
        if let Some(a) = doc.get("action") {
            out.push(Err(RuleError::new(
                path,
                Some(a.line),
                "rule collections ('action: global/reset/repeat') are not supported",
            )));
            continue;
        }
        if doc.get("correlation").is_some() {
            out.push(parse_correlation(doc, path).map(Document::Correlation));
        } else if doc.get("detection").is_some() {
            let status = opt_text(doc, "status").map(|s| Status::parse(&s));
            match status {
                Some(status) if status.is_retired() => {
                    out.push(Ok(Document::Retired(RetiredRule {
                        path: path.to_string(),
                        line: doc.line,
                        title: opt_text(doc, "title"),
                        id: opt_text(doc, "id"),
                        status,
                        parsed: parse_rule(doc, path).map(Box::new),
                    })));
                }
                _ => out.push(parse_rule(doc, path).map(Document::Rule)),
            }
        } else if doc.get("filter").is_some() {
            out.push(parse_filter(doc, path).map(Document::Filter));
        } else {
            out.push(Err(RuleError::new(
                path,
                Some(doc.line),
                "document has neither 'detection' nor 'correlation'",
            )));
        }
    }
    if out.is_empty() {
        out.push(Err(RuleError::new(path, None, "no rule in file")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_rule() {
        let y = "title: T\nid: abc\nstatus: test\nlevel: high\ntags: [attack.t1]\nlogsource:\n  product: azure\ndetection:\n  sel:\n    Op|contains: x\n  kw:\n    - foo\n  condition: sel and kw\n";
        let docs = load_documents("r.yml", y);
        let Ok(Document::Rule(r)) = &docs[0] else {
            panic!("{docs:?}")
        };
        assert_eq!(r.title, "T");
        assert_eq!(r.level, Some(Level::High));
        assert_eq!(r.detection.selections.len(), 2);
        assert_eq!(r.detection.selections[1].branches[0][0].field, None);
    }

    #[test]
    fn errors_have_lines() {
        let y = "title: T\ndetection:\n  sel:\n    Op|bogus: x\n  condition: sel\n";
        let Err(e) = &load_documents("r.yml", y)[0] else {
            panic!()
        };
        assert_eq!(e.line, Some(4));
        assert!(e.reason.contains("unknown modifier"), "{}", e.reason);
        let y = "title: T\ndetection:\n  sel:\n    Op: x\n  condition: sel and nope\n";
        let Err(e) = &load_documents("r.yml", y)[0] else {
            panic!()
        };
        assert_eq!(e.line, Some(5));
    }
}
