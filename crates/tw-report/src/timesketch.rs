//! Findings as Timesketch-ready JSON lines: the three fields Timesketch requires (`message`,
//! `datetime` in ISO 8601, `timestamp_desc`) plus tenantwatch's own fields flattened (rule, level,
//! tenant, actor, IP, operation, log, evidence, matched values), so a sketch can be filtered on
//! them. Findings without a time are written with the Unix epoch and `timestamp_desc`
//! `No time in record`.

use std::io::{self, Write};

use serde_json::{Map, Value, json};
use tw_event::Finding;

/// The JSON object of one finding.
pub fn timesketch_event(f: &Finding) -> Value {
    let actor = f
        .actor
        .user
        .as_deref()
        .or(f.actor.app_id.as_deref())
        .or(f.actor.service_principal_id.as_deref())
        .unwrap_or("-");
    let mut message = format!(
        "[{}] {}: {} by {} from {}",
        f.rule.level,
        f.rule.title,
        f.operation.as_deref().unwrap_or("-"),
        actor,
        f.ip.as_deref().unwrap_or("-")
    );
    if let Some(n) = f.merged.count {
        message.push_str(&format!(" ({n} actions)"));
    }
    let (datetime, desc) = match f.time {
        Some(t) => (t.to_string(), "Event time"),
        None => ("1970-01-01T00:00:00.000Z".to_string(), "No time in record"),
    };
    let mut o = Map::new();
    o.insert("message".into(), json!(message));
    o.insert("datetime".into(), json!(datetime));
    o.insert("timestamp_desc".into(), json!(desc));
    o.insert("rule_id".into(), json!(f.rule.id));
    o.insert("rule_title".into(), json!(f.rule.title));
    o.insert("level".into(), json!(f.rule.level));
    o.insert(
        "origin".into(),
        serde_json::to_value(f.rule.origin).unwrap_or(Value::Null),
    );
    if !f.rule.tags.is_empty() {
        o.insert("tags".into(), json!(f.rule.tags));
    }
    let mut opt = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            o.insert(k.into(), json!(v));
        }
    };
    opt("tenant_id", &f.tenant_id);
    opt("user", &f.actor.user);
    opt("app_id", &f.actor.app_id);
    opt("service_principal_id", &f.actor.service_principal_id);
    opt("home_tenant_id", &f.actor.home_tenant_id);
    opt("ip", &f.ip);
    opt("operation", &f.operation);
    o.insert("log".into(), json!(f.log.as_str()));
    let evidence: Vec<String> = f
        .evidence
        .iter()
        .map(|e| format!("{}:{}", e.file, e.record))
        .collect();
    o.insert("evidence".into(), json!(evidence));
    o.insert("evidence_count".into(), json!(f.evidence.len()));
    let rules: Vec<&str> = f.all_rules().iter().map(|r| r.id.as_str()).collect();
    o.insert("rule_ids".into(), json!(rules));
    if let Some(n) = f.merged.copies {
        o.insert("copies".into(), json!(n));
    }
    if let Some(n) = f.merged.count {
        o.insert("count".into(), json!(n));
    }
    if let Some(t) = f.merged.until {
        o.insert("until".into(), json!(t.to_string()));
    }
    if !f.matched.is_empty() {
        o.insert("matched".into(), json!(f.matched));
    }
    o.insert("data_type".into(), json!("tenantwatch:finding"));
    Value::Object(o)
}

/// Writes findings as Timesketch JSON lines.
pub fn write_timesketch<W: Write>(w: &mut W, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *w, &timesketch_event(f))?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tw_event::{Actor, LogKind, Origin, Provenance, RuleRef, Timestamp};

    #[test]
    fn required_fields() {
        let f = Finding {
            rule: RuleRef {
                id: "r".into(),
                title: "Rule".into(),
                level: "high".into(),
                tags: vec!["attack.t1098.001".into()],
                origin: Origin::Builtin,
            },
            time: Some(Timestamp(1_607_915_564_123)),
            tenant_id: Some("t".into()),
            actor: Actor::default(),
            ip: None,
            operation: Some("Add service principal credentials".into()),
            log: LogKind::Ual,
            evidence: vec![Provenance {
                file: "a.json".into(),
                record: 2,
                line: 3,
            }],
            matched: Default::default(),
            merged: Default::default(),
        };
        let mut out = Vec::new();
        write_timesketch(&mut out, &[f]).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["datetime"], "2020-12-14T03:12:44.123Z");
        assert_eq!(v["timestamp_desc"], "Event time");
        assert!(v["message"].as_str().unwrap().contains("Rule"));
        assert_eq!(v["origin"], "builtin");
        assert_eq!(v["evidence"][0], "a.json:2");
        assert!(v.get("ip").is_none());
    }
}
