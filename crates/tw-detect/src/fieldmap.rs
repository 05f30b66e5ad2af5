//! Per-format field maps, read from the shipped pipelines (`pipelines/<format>.yml`, the
//! `field_name_mapping` and `field_name_prefix_mapping` transformations): a rule's field name →
//! the real fields of one export shape. Rules are compiled once, with their own field names; the
//! event adapter ([`crate::event`]) resolves each name per format, so one rule set (and one
//! correlation state) serves every format.

use std::collections::HashMap;

use serde_json::Value;
use tw_event::Format;

use crate::pipelines::PIPELINES;

/// How one format names fields.
#[derive(Debug, Clone, Default)]
pub struct FieldMap {
    exact: HashMap<String, Vec<String>>,
    prefixes: Vec<(String, String)>,
}

/// How a rule field resolves in a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The real field names to read.
    pub targets: Vec<String>,
    /// False when the pipeline neither maps the name nor lists it as a field of the format.
    pub known: bool,
}

impl FieldMap {
    /// Reads a pipeline's field mappings. Errors name the problem.
    pub fn from_pipeline(path: &str, yaml: &str) -> Result<FieldMap, String> {
        let docs = tw_sigma::yaml_to_json(path, yaml).map_err(|e| e.to_string())?;
        let mut m = FieldMap::default();
        for doc in docs {
            let Some(ts) = doc.get("transformations").and_then(Value::as_array) else {
                continue;
            };
            for t in ts {
                let kind = t.get("type").and_then(Value::as_str).unwrap_or("");
                let Some(map) = t.get("mapping").and_then(Value::as_object) else {
                    continue;
                };
                for (k, v) in map {
                    let targets: Vec<String> = match v {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a
                            .iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect(),
                        _ => {
                            return Err(format!(
                                "{path}: mapping of {k} is neither a name nor a list"
                            ));
                        }
                    };
                    match kind {
                        "field_name_mapping" => {
                            m.exact.insert(k.clone(), targets);
                        }
                        "field_name_prefix_mapping" => {
                            if let Some(t) = targets.into_iter().next() {
                                m.prefixes.push((k.clone(), t));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        m.prefixes
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(m)
    }

    /// Resolves a rule field name.
    pub fn resolve(&self, name: &str) -> Resolved {
        if let Some(t) = self.exact.get(name) {
            return Resolved {
                targets: t.clone(),
                known: true,
            };
        }
        for (p, t) in &self.prefixes {
            if let Some(rest) = name.strip_prefix(p.as_str()) {
                return Resolved {
                    targets: vec![format!("{t}{rest}")],
                    known: true,
                };
            }
        }
        Resolved {
            targets: vec![name.to_string()],
            known: false,
        }
    }
}

/// The field map of every format that has a pipeline.
pub fn shipped_maps() -> Result<HashMap<Format, FieldMap>, String> {
    let mut out = HashMap::new();
    for (name, yaml) in PIPELINES {
        let f =
            Format::from_name(name).ok_or_else(|| format!("pipeline for unknown format {name}"))?;
        out.insert(
            f,
            FieldMap::from_pipeline(&format!("pipelines/{name}.yml"), yaml)?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_pipelines_parse_and_map() {
        let maps = shipped_maps().unwrap();
        let graph = &maps[&Format::DirectoryAuditGraphJson];
        assert_eq!(
            graph.resolve("properties.message").targets,
            vec!["activityDisplayName"]
        );
        assert_eq!(
            graph
                .resolve("TargetResources.modifiedProperties.newValue")
                .targets,
            vec!["targetResources.modifiedProperties.newValue"]
        );
        assert!(!graph.resolve("NoSuchField").known);
        let la = &maps[&Format::DirectoryAuditLogAnalyticsCsv];
        assert_eq!(
            la.resolve("properties.message").targets,
            vec!["OperationName", "ActivityDisplayName"]
        );
        let az = &maps[&Format::SigninAzureMonitor];
        assert_eq!(
            az.resolve("ResultType").targets,
            vec!["resultType", "properties.status.errorCode"]
        );
    }
}
