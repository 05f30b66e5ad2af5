//! Processing pipelines: a pySigma-compatible subset that adapts rules to the data before
//! compilation.
//!
//! ```yaml
//! name: azure signin
//! priority: 20
//! vars:
//!   HomeTenantID: [contoso-tenant-id]
//! transformations:
//!   - id: signin_fields
//!     type: field_name_mapping
//!     mapping:
//!       ResultType: [resultType, properties.status.errorCode]   # one → many: any may match
//!     rule_conditions:
//!       - type: logsource
//!         product: azure
//!         service: signinlogs
//!   - type: field_name_prefix_mapping
//!     mapping: { "properties.": "" }
//!   - type: add_condition
//!     conditions: { category: SignInLogs }
//!   - type: value_placeholders          # uses `vars`
//!   - type: change_logsource
//!     service: signin
//! ```
//!
//! Supported transformation types: `field_name_mapping`, `field_name_prefix_mapping`,
//! `add_condition` (optionally `negated: true`), `value_placeholders` (optionally `include`
//! / `exclude` placeholder names), `change_logsource`. Rule conditions: `logsource`
//! (`product`, `category`, `service`: each given one must equal the rule's, case-insensitive),
//! combined with `rule_cond_op: and|or` (default `and`).
//!
//! Ordering follows pySigma: pipelines run by ascending `priority` (ties keep the order they
//! were added), transformations in file order; a mapping sees the names produced by earlier
//! ones. Field names match exactly. A rule field that no mapping touched is reported as
//! unmapped; in strict mode that rejects the rule.

use std::collections::{BTreeMap, HashMap};

use crate::modifier::expand_partial;
use crate::rule::{
    DetectionItem, LogSource, RawValue, RuleError, Selection, SigmaRule, string_list, text_of,
};
use crate::yaml::{Kind, Node, parse_documents};

/// A rule condition of a transformation.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleCondition {
    /// The rule's logsource has these values (each one given must be equal).
    Logsource(LogSource),
}

impl RuleCondition {
    fn holds(&self, rule: &SigmaRule) -> bool {
        match self {
            RuleCondition::Logsource(ls) => {
                let eq = |want: &Option<String>, have: &Option<String>| match want {
                    None => true,
                    Some(w) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)),
                };
                eq(&ls.product, &rule.logsource.product)
                    && eq(&ls.category, &rule.logsource.category)
                    && eq(&ls.service, &rule.logsource.service)
            }
        }
    }
}

/// A transformation.
#[derive(Debug, Clone)]
pub enum TransformKind {
    /// Field → replacement fields (one or many).
    FieldNameMapping(BTreeMap<String, Vec<String>>),
    /// Prefix → replacement prefix, tried in order.
    FieldNamePrefixMapping(Vec<(String, String)>),
    /// A selection ANDed with the rule's condition (or negated).
    AddCondition {
        items: Vec<DetectionItem>,
        negated: bool,
    },
    /// Replace `expand` placeholders with the pipeline's `vars`.
    ValuePlaceholders {
        include: Option<Vec<String>>,
        exclude: Vec<String>,
    },
    /// Overwrite the given logsource fields.
    ChangeLogsource(LogSource),
}

/// One processing item of a pipeline.
#[derive(Debug, Clone)]
pub struct Transformation {
    pub id: Option<String>,
    pub kind: TransformKind,
    pub rule_conditions: Vec<RuleCondition>,
    /// `rule_cond_op: or`.
    pub any_condition: bool,
}

/// A processing pipeline.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub name: String,
    pub priority: i64,
    pub vars: HashMap<String, Vec<String>>,
    pub transformations: Vec<Transformation>,
}

fn logsource_of(n: &Node) -> LogSource {
    LogSource {
        product: n.get("product").and_then(text_of),
        category: n.get("category").and_then(text_of),
        service: n.get("service").and_then(text_of),
        definition: None,
    }
}

impl Pipeline {
    /// Parses a pipeline from YAML. `path` names it in errors (and is the default name).
    pub fn from_yaml(path: &str, text: &str) -> Result<Pipeline, RuleError> {
        let docs = parse_documents(text)
            .map_err(|e| RuleError::new(path, e.line, format!("invalid YAML: {}", e.message)))?;
        let doc = docs
            .into_iter()
            .find(|d| !matches!(d.kind, Kind::Null))
            .ok_or_else(|| RuleError::new(path, None, "empty pipeline"))?;
        let err = |line: usize, msg: String| RuleError::new(path, Some(line), msg);
        if !matches!(doc.kind, Kind::Map(_)) {
            return Err(err(doc.line, "a pipeline must be a map".into()));
        }
        let name = doc
            .get("name")
            .and_then(text_of)
            .unwrap_or_else(|| path.to_string());
        let priority = match doc.get("priority").map(|n| &n.kind) {
            Some(Kind::Int(i, _)) => *i,
            Some(_) => return Err(err(doc.line, "'priority' must be an integer".into())),
            None => 0,
        };
        let mut vars = HashMap::new();
        if let Some(v) = doc.get("vars") {
            let Kind::Map(entries) = &v.kind else {
                return Err(err(v.line, "'vars' must be a map".into()));
            };
            for (k, val) in entries {
                vars.insert(k.key_text().unwrap_or_default(), string_list(Some(val)));
            }
        }
        let mut transformations = Vec::new();
        if let Some(t) = doc.get("transformations") {
            let Kind::Seq(items) = &t.kind else {
                return Err(err(t.line, "'transformations' must be a list".into()));
            };
            for item in items {
                transformations.push(parse_transformation(item, path)?);
            }
        }
        Ok(Pipeline {
            name,
            priority,
            vars,
            transformations,
        })
    }
}

fn parse_transformation(item: &Node, path: &str) -> Result<Transformation, RuleError> {
    let err = |line: usize, msg: String| RuleError::new(path, Some(line), msg);
    let ty = item
        .get("type")
        .and_then(text_of)
        .ok_or_else(|| err(item.line, "transformation has no 'type'".into()))?;
    let kind = match ty.as_str() {
        "field_name_mapping" => {
            let m = item
                .get("mapping")
                .ok_or_else(|| err(item.line, "field_name_mapping needs 'mapping'".into()))?;
            let Kind::Map(entries) = &m.kind else {
                return Err(err(m.line, "'mapping' must be a map".into()));
            };
            let mut map = BTreeMap::new();
            for (k, v) in entries {
                let targets = string_list(Some(v));
                if targets.is_empty() {
                    return Err(err(
                        v.line,
                        "a field mapping needs at least one target".into(),
                    ));
                }
                map.insert(k.key_text().unwrap_or_default(), targets);
            }
            TransformKind::FieldNameMapping(map)
        }
        "field_name_prefix_mapping" => {
            let m = item.get("mapping").ok_or_else(|| {
                err(
                    item.line,
                    "field_name_prefix_mapping needs 'mapping'".into(),
                )
            })?;
            let Kind::Map(entries) = &m.kind else {
                return Err(err(m.line, "'mapping' must be a map".into()));
            };
            TransformKind::FieldNamePrefixMapping(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.key_text().unwrap_or_default(),
                            text_of(v).unwrap_or_default(),
                        )
                    })
                    .collect(),
            )
        }
        "add_condition" => {
            let c = item
                .get("conditions")
                .ok_or_else(|| err(item.line, "add_condition needs 'conditions'".into()))?;
            let sel = crate::rule::parse_selection("_pipeline", c, path)?;
            if sel.branches.len() != 1 {
                return Err(err(
                    c.line,
                    "add_condition 'conditions' must be a map".into(),
                ));
            }
            let mut items = sel.branches.into_iter().next().unwrap_or_default();
            for i in &mut items {
                i.mapped = true;
            }
            let negated = matches!(item.get("negated").map(|n| &n.kind), Some(Kind::Bool(true)));
            TransformKind::AddCondition { items, negated }
        }
        "value_placeholders" => TransformKind::ValuePlaceholders {
            include: item.get("include").map(|n| string_list(Some(n))),
            exclude: string_list(item.get("exclude")),
        },
        "change_logsource" => TransformKind::ChangeLogsource(logsource_of(item)),
        other => {
            return Err(err(
                item.line,
                format!("unsupported pipeline transformation type '{other}'"),
            ));
        }
    };
    let mut rule_conditions = Vec::new();
    if let Some(rc) = item.get("rule_conditions") {
        let Kind::Seq(conds) = &rc.kind else {
            return Err(err(rc.line, "'rule_conditions' must be a list".into()));
        };
        for c in conds {
            match c.get("type").and_then(text_of).as_deref() {
                Some("logsource") => {
                    rule_conditions.push(RuleCondition::Logsource(logsource_of(c)))
                }
                other => {
                    return Err(err(
                        c.line,
                        format!("unsupported rule condition type {:?}", other.unwrap_or("")),
                    ));
                }
            }
        }
    }
    if let Some(x) = item.get("rule_cond_expr") {
        return Err(err(
            x.line,
            "'rule_cond_expr' is not supported; use rule_cond_op".into(),
        ));
    }
    for key in ["field_name_conditions", "detection_item_conditions"] {
        if let Some(x) = item.get(key) {
            return Err(err(x.line, format!("'{key}' is not supported")));
        }
    }
    let any_condition = matches!(
        item.get("rule_cond_op").and_then(text_of).as_deref(),
        Some("or")
    );
    Ok(Transformation {
        id: item.get("id").and_then(text_of),
        kind,
        rule_conditions,
        any_condition,
    })
}

fn all_items(rule: &mut SigmaRule) -> impl Iterator<Item = &mut DetectionItem> {
    rule.detection
        .selections
        .iter_mut()
        .flat_map(|s| s.branches.iter_mut())
        .flat_map(|b| b.iter_mut())
}

/// Maps a field name through the field mappings of the pipelines that apply to `rule`
/// (used for correlation `group-by` fields). Returns the first target.
pub(crate) fn map_field_name(pipelines: &[Pipeline], rule: &SigmaRule, field: &str) -> String {
    let mut name = field.to_string();
    for p in pipelines {
        for t in &p.transformations {
            if !conditions_hold(t, rule) {
                continue;
            }
            match &t.kind {
                TransformKind::FieldNameMapping(m) => {
                    if let Some(first) = m.get(&name).and_then(|v| v.first()) {
                        name = first.clone();
                    }
                }
                TransformKind::FieldNamePrefixMapping(m) => {
                    if let Some((p, r)) = m.iter().find(|(p, _)| name.starts_with(p.as_str())) {
                        name = format!("{r}{}", &name[p.len()..]);
                    }
                }
                _ => {}
            }
        }
    }
    name
}

fn conditions_hold(t: &Transformation, rule: &SigmaRule) -> bool {
    if t.rule_conditions.is_empty() {
        return true;
    }
    if t.any_condition {
        t.rule_conditions.iter().any(|c| c.holds(rule))
    } else {
        t.rule_conditions.iter().all(|c| c.holds(rule))
    }
}

/// Applies pipelines (already sorted by priority) to a rule.
pub(crate) fn apply(pipelines: &[Pipeline], rule: &mut SigmaRule) {
    let mut added = 0usize;
    for p in pipelines {
        for t in &p.transformations {
            if !conditions_hold(t, rule) {
                continue;
            }
            match &t.kind {
                TransformKind::FieldNameMapping(m) => {
                    for item in all_items(rule) {
                        let mut hit = false;
                        let mut out = Vec::new();
                        for target in &item.targets {
                            match m.get(target) {
                                Some(new) => {
                                    hit = true;
                                    out.extend(new.iter().cloned());
                                }
                                None => out.push(target.clone()),
                            }
                        }
                        out.dedup();
                        if hit {
                            item.targets = out;
                            item.mapped = true;
                        }
                    }
                }
                TransformKind::FieldNamePrefixMapping(m) => {
                    for item in all_items(rule) {
                        for target in &mut item.targets {
                            if let Some((p, r)) =
                                m.iter().find(|(p, _)| target.starts_with(p.as_str()))
                            {
                                *target = format!("{r}{}", &target[p.len()..]);
                                item.mapped = true;
                            }
                        }
                    }
                }
                TransformKind::AddCondition { items, negated } => {
                    let det = &mut rule.detection;
                    let idx = det.selections.len();
                    det.selections.push(Selection {
                        name: format!("_pipeline_condition_{added}"),
                        branches: vec![items.clone()],
                        line: items.first().map(|i| i.line).unwrap_or(0),
                    });
                    added += 1;
                    if *negated {
                        det.extra_not.push(idx);
                    } else {
                        det.extra.push(idx);
                    }
                }
                TransformKind::ValuePlaceholders { include, exclude } => {
                    let vars: HashMap<String, Vec<String>> = p
                        .vars
                        .iter()
                        .filter(|(k, _)| include.as_ref().is_none_or(|inc| inc.contains(k)))
                        .filter(|(k, _)| !exclude.contains(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    for item in all_items(rule) {
                        if !item.modifiers.contains(&crate::modifier::Modifier::Expand) {
                            continue;
                        }
                        let mut values = Vec::new();
                        for v in &item.values {
                            match v {
                                RawValue::Str(s) => values.extend(
                                    expand_partial(s, &vars).into_iter().map(RawValue::Str),
                                ),
                                other => values.push(other.clone()),
                            }
                        }
                        item.values = values;
                    }
                }
                TransformKind::ChangeLogsource(ls) => {
                    if ls.product.is_some() {
                        rule.logsource.product = ls.product.clone();
                    }
                    if ls.category.is_some() {
                        rule.logsource.category = ls.category.clone();
                    }
                    if ls.service.is_some() {
                        rule.logsource.service = ls.service.clone();
                    }
                }
            }
        }
    }
}

/// The original names of fields no pipeline mapped, in rule order without duplicates.
pub(crate) fn unmapped_fields(rule: &SigmaRule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &rule.detection.selections {
        for b in &s.branches {
            for i in b {
                if let Some(f) = &i.field
                    && !i.mapped
                    && !out.contains(f)
                {
                    out.push(f.clone());
                }
            }
        }
    }
    out
}
