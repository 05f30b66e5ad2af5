//! MISP JSON events (`{"Event": {...}}`, a list of them, or a `{"response": [...]}` search
//! result): the attributes of the event and of its objects. Attribute types these logs can hold
//! are loaded (`ip-src`, `ip-dst`, `ip-src|port`, `domain`, `hostname`, `domain|ip`, `url`,
//! `email-src`, `email-dst`, `target-user`, `user-agent`, `x509-fingerprint-sha1`, …); others
//! (file hashes, mutexes, registry keys, …) and attributes not meant for detection (`to_ids`
//! false) are listed as skipped.

use std::sync::Arc;

use serde_json::Value;

use crate::kind::{IocType, type_from_name};
use crate::load::{Lines, Loaded};

/// The events in a MISP export.
fn events(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().filter_map(|e| e.get("Event")).collect(),
        Value::Object(o) => {
            if let Some(e) = o.get("Event") {
                vec![e]
            } else if let Some(Value::Array(a)) = o.get("response") {
                a.iter().filter_map(|e| e.get("Event")).collect()
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// A MISP event export.
pub fn is_misp(v: &Value) -> bool {
    !events(v).is_empty()
}

/// Loads every attribute of every event.
pub fn load(file: &Arc<str>, text: &str, v: &Value, out: &mut Loaded) {
    let mut lines = Lines::new(text);
    for ev in events(v) {
        let info = ev.get("info").and_then(Value::as_str).map(str::to_string);
        let mut attrs: Vec<&Value> = Vec::new();
        if let Some(a) = ev.get("Attribute").and_then(Value::as_array) {
            attrs.extend(a);
        }
        for o in ev
            .get("Object")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(a) = o.get("Attribute").and_then(Value::as_array) {
                attrs.extend(a);
            }
        }
        // Objects' attributes follow the event's own in the text: order them by position.
        let mut placed: Vec<(u64, &Value)> = attrs
            .into_iter()
            .map(|a| {
                let key = a
                    .get("uuid")
                    .and_then(Value::as_str)
                    .or_else(|| a.get("value").and_then(Value::as_str))
                    .unwrap_or("");
                (lines.of(key), a)
            })
            .collect();
        placed.sort_by_key(|p| p.0);
        for (line, a) in placed {
            attribute(file, line, a, info.as_deref(), out);
        }
    }
}

fn attribute(file: &Arc<str>, line: u64, a: &Value, info: Option<&str>, out: &mut Loaded) {
    let ty = a.get("type").and_then(Value::as_str).unwrap_or("");
    let value = a.get("value").and_then(Value::as_str).unwrap_or("");
    if a.get("to_ids").and_then(Value::as_bool) == Some(false) {
        out.skip(
            file,
            line,
            ty,
            value,
            "to_ids is false (context, not for detection)".into(),
        );
        return;
    }
    if a.get("deleted").and_then(Value::as_bool) == Some(true) {
        out.skip(file, line, ty, value, "deleted".into());
        return;
    }
    let comment = a
        .get("comment")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty());
    let description = match (info, comment) {
        (Some(i), Some(c)) => Some(format!("{i}: {c}")),
        (Some(i), None) => Some(i.to_string()),
        (None, c) => c.map(str::to_string),
    };
    let hint = match ty {
        "link" => Err("a reference link, not an indicator".to_string()),
        "x509-fingerprint-md5" => {
            Err("MD5 certificate fingerprints are not logged (SHA-1 thumbprints are)".to_string())
        }
        "domain|ip" | "hostname|port" | "ip-src|port" | "ip-dst|port" => Ok(None),
        _ => type_from_name(ty),
    };
    let hint = match hint {
        Ok(h) => h,
        Err(reason) => {
            out.skip(file, line, ty, value, reason);
            return;
        }
    };
    if ty == "domain|ip"
        && let Some((d, ip)) = value.split_once('|')
    {
        out.add(
            file,
            line,
            ty,
            Some(IocType::Domain),
            d,
            description.clone(),
        );
        out.add(file, line, ty, None, ip, description);
        return;
    }
    let v = if ty == "hostname|port" {
        value.split('|').next().unwrap_or("")
    } else {
        value
    };
    let hint = if ty == "hostname|port" {
        Some(IocType::Domain)
    } else {
        hint
    };
    out.add(file, line, ty, hint, v, description);
}
