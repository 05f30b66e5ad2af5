//! Runs the Sigma conformance vectors in `tests/conformance/*.yml`.
//!
//! Each file covers one feature and holds `vectors`, each with a `rule` (YAML text, possibly
//! several documents), optional `placeholders`, `events` (events carry their time in `_t`,
//! seconds) and the expectation: `match` (indexes of the events the rules match), or
//! `correlations` (per correlation match, in output order, the indexes of its events), or
//! `error` (a substring of the expected load error). Every vector is also checked against
//! the unindexed evaluation.
//!
//! `cargo test -p tw-sigma --test conformance -- --nocapture` prints a feature × pass matrix.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use tw_sigma::{CorrelationEngine, CorrelationLimits, RuleSet};

struct FileResult {
    file: String,
    feature: String,
    passed: usize,
    failures: Vec<String>,
}

fn as_indexes(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn run_vector(v: &Value) -> Result<(), String> {
    let rule = v["rule"].as_str().ok_or("vector has no rule")?;
    let mut b = RuleSet::builder();
    if let Some(map) = v["placeholders"].as_object() {
        let vars: HashMap<String, Vec<String>> = map
            .iter()
            .map(|(k, vals)| {
                let list = vals
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                (k.clone(), list)
            })
            .collect();
        b.placeholders(vars);
    }
    b.add_yaml("vector.yml", rule);
    let set = b.build();
    if let Some(want) = v["error"].as_str() {
        return if set
            .errors()
            .iter()
            .any(|e| e.reason.contains(want) || e.to_string().contains(want))
        {
            Ok(())
        } else {
            Err(format!(
                "expected error containing {want:?}, got {:?}",
                set.errors()
            ))
        };
    }
    if !set.errors().is_empty() {
        return Err(format!("unexpected errors: {:?}", set.errors()));
    }
    let events = v["events"].as_array().cloned().unwrap_or_default();
    if v.get("match").is_some() {
        let want = as_indexes(&v["match"]);
        let mut got = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            let m = set.matches(ev);
            let u = set.matches_unindexed(ev);
            if m != u {
                return Err(format!("event {i}: indexed {m:?} != unindexed {u:?}"));
            }
            if m.iter().any(|m| set.rules()[m.rule].standalone()) {
                got.push(i as u64);
            }
        }
        if got != want {
            return Err(format!("matched {got:?}, expected {want:?}"));
        }
    }
    if let Some(expected) = v["correlations"].as_array() {
        let mut engine = CorrelationEngine::new(&set, CorrelationLimits::default());
        for (i, ev) in events.iter().enumerate() {
            let t = ev["_t"].as_f64().ok_or("correlation events need _t")?;
            for m in set.matches(ev) {
                engine.observe(m.rule, i as u64, (t * 1000.0) as i64, ev);
            }
        }
        let (got, _stats) = engine.finish();
        let got: Vec<Vec<u64>> = got
            .iter()
            .map(|m| {
                let mut e = m.events.clone();
                e.sort_unstable();
                e
            })
            .collect();
        let want: Vec<Vec<u64>> = expected
            .iter()
            .map(|x| {
                let mut e = as_indexes(x);
                e.sort_unstable();
                e
            })
            .collect();
        if got != want {
            return Err(format!("correlations {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

fn run_all() -> Vec<FileResult> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("conformance folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read vector file");
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let docs = match tw_sigma::yaml_to_json(&name, &text) {
            Ok(d) => d,
            Err(e) => {
                out.push(FileResult {
                    file: name,
                    feature: "?".into(),
                    passed: 0,
                    failures: vec![e.to_string()],
                });
                continue;
            }
        };
        let doc = docs.into_iter().next().unwrap_or(Value::Null);
        let mut r = FileResult {
            file: name,
            feature: doc["feature"].as_str().unwrap_or("?").to_string(),
            passed: 0,
            failures: Vec::new(),
        };
        for v in doc["vectors"].as_array().cloned().unwrap_or_default() {
            let vname = v["name"].as_str().unwrap_or("?").to_string();
            match run_vector(&v) {
                Ok(()) => r.passed += 1,
                Err(e) => r.failures.push(format!("{vname}: {e}")),
            }
        }
        out.push(r);
    }
    out
}

/// The feature × pass matrix as a Markdown table.
fn matrix(results: &[FileResult]) -> String {
    let mut s = String::from("| feature | file | vectors | passed |\n|---|---|---|---|\n");
    for r in results {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.feature,
            r.file,
            r.passed + r.failures.len(),
            if r.failures.is_empty() {
                "all".to_string()
            } else {
                format!("{}", r.passed)
            }
        ));
    }
    s
}

#[test]
fn conformance_vectors() {
    let results = run_all();
    println!("{}", matrix(&results));
    let failures: Vec<String> = results
        .iter()
        .flat_map(|r| r.failures.iter().map(move |f| format!("{}: {f}", r.file)))
        .collect();
    assert!(results.len() >= 25, "vector files missing");
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}
