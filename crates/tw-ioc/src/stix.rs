//! STIX 2.1 bundles: `indicator` objects whose `pattern_type` is `stix` and whose pattern compares
//! addresses, domains, URLs, e-mail addresses, user accounts, certificate hashes or user agents
//! with `=` (or `ISSUBSET` for address ranges, `IN (…)` for lists), joined by `OR`. Patterns that
//! need several observations together (`AND`, `FOLLOWEDBY`, qualifiers) or other operators
//! (`LIKE`, `MATCHES`, `!=`) are listed as unsupported. `valid_from` and `valid_until` are kept;
//! revoked indicators are listed and not loaded.

use std::sync::Arc;

use serde_json::Value;
use tw_event::Timestamp;

use crate::kind::IocType;
use crate::load::{Lines, Loaded};

/// A bundle, a list of STIX objects or one STIX indicator.
pub fn is_stix(v: &Value) -> bool {
    let is_obj = |o: &Value| {
        o.get("type").and_then(Value::as_str).is_some()
            && o.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.contains("--"))
    };
    match v {
        Value::Object(o) => o.get("type").and_then(Value::as_str) == Some("bundle") || is_obj(v),
        Value::Array(a) => a.first().is_some_and(is_obj),
        _ => false,
    }
}

/// Loads every indicator of the bundle.
pub fn load(file: &Arc<str>, text: &str, v: &Value, out: &mut Loaded) {
    let objects: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("objects").and_then(Value::as_array) {
            Some(a) => a.iter().collect(),
            None if o.get("type").and_then(Value::as_str) == Some("bundle") => Vec::new(),
            None => vec![v],
        },
        _ => Vec::new(),
    };
    let mut lines = Lines::new(text);
    for o in objects {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        let line = lines.of(id);
        let ty = o.get("type").and_then(Value::as_str).unwrap_or("?");
        if ty != "indicator" {
            *out.not_indicators.entry(format!("stix {ty}")).or_default() += 1;
            continue;
        }
        indicator(file, line, o, out);
    }
}

fn indicator(file: &Arc<str>, line: u64, o: &Value, out: &mut Loaded) {
    let s = |k: &str| o.get(k).and_then(Value::as_str);
    let pattern = s("pattern").unwrap_or("");
    if o.get("revoked").and_then(Value::as_bool) == Some(true) {
        out.skip(file, line, "stix", pattern, "revoked".into());
        return;
    }
    let pattern_type = s("pattern_type").unwrap_or("stix");
    if !pattern_type.eq_ignore_ascii_case("stix") {
        out.skip(
            file,
            line,
            pattern_type,
            pattern,
            format!("pattern_type {pattern_type:?} is not supported (only stix)"),
        );
        return;
    }
    let comparisons = match parse_pattern(pattern) {
        Ok(c) => c,
        Err(reason) => {
            out.skip(file, line, "stix", pattern, reason);
            return;
        }
    };
    let description = match (s("name"), s("description")) {
        (Some(n), Some(d)) if n != d => Some(format!("{n}: {d}")),
        (Some(n), _) => Some(n.to_string()),
        (None, d) => d.map(str::to_string),
    };
    let from = s("valid_from").and_then(Timestamp::parse);
    let until = s("valid_until").and_then(Timestamp::parse);
    for (path, value) in comparisons {
        match kind_of_path(&path) {
            Ok(hint) => {
                if let Some(i) = out.add(file, line, &path, hint, &value, description.clone()) {
                    out.indicators[i].valid_from = from;
                    out.indicators[i].valid_until = until;
                }
            }
            Err(reason) => out.skip(file, line, &path, &value, reason),
        }
    }
}

/// The indicator type of an object path (`ipv4-addr:value`, `x509-certificate:hashes.'SHA-1'`);
/// `Ok(None)`: the value's shape decides (network traffic references).
fn kind_of_path(path: &str) -> Result<Option<IocType>, String> {
    let p = path.to_ascii_lowercase().replace(['\'', '"'], "");
    let t = match p.as_str() {
        "ipv4-addr:value" => IocType::Ipv4,
        "ipv6-addr:value" => IocType::Ipv6,
        "domain-name:value" => IocType::Domain,
        "url:value" => IocType::Url,
        "email-addr:value" | "email-message:from_ref.value" | "email-message:sender_ref.value" => {
            IocType::Email
        }
        "user-account:account_login" | "user-account:user_id" => IocType::Account,
        "x509-certificate:hashes.sha-1"
        | "x509-certificate:hashes.sha1"
        | "x509-certificate:hashes.sha-256"
        | "x509-certificate:hashes.sha256" => IocType::Thumbprint,
        "network-traffic:dst_ref.value" | "network-traffic:src_ref.value" => return Ok(None),
        _ if p.ends_with("request_header.user-agent") => IocType::UserAgent,
        _ => return Err(format!("object path {path} is not held by these logs")),
    };
    Ok(Some(t))
}

/// Pattern tokens.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    ParenOpen,
    ParenClose,
    Comma,
    Str(String),
    Word(String),
}

fn tokens(p: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => out.push(Tok::Open),
            ']' => out.push(Tok::Close),
            '(' => out.push(Tok::ParenOpen),
            ')' => out.push(Tok::ParenClose),
            ',' => out.push(Tok::Comma),
            '\'' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => s.push(chars.next().ok_or("unterminated string")?),
                        Some('\'') => break,
                        Some(c) => s.push(c),
                        None => return Err("unterminated string in pattern".into()),
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_whitespace() => {}
            '=' => out.push(Tok::Word("=".into())),
            _ => {
                let mut w = String::from(c);
                // `hashes.'SHA-1'`: a quoted path step is part of the path.
                let mut quoted = false;
                while let Some(&n) = chars.peek() {
                    if quoted || (n == '\'' && w.ends_with('.')) {
                        quoted = !(quoted && n == '\'');
                        w.push(n);
                        chars.next();
                        continue;
                    }
                    if n.is_whitespace() || "[]()',=".contains(n) {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

/// The `(object path, value)` comparisons of a pattern made only of comparisons joined by `OR`.
pub fn parse_pattern(p: &str) -> Result<Vec<(String, String)>, String> {
    if p.trim().is_empty() {
        return Err("indicator without a pattern".into());
    }
    let toks = tokens(p)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open | Tok::Close | Tok::ParenOpen | Tok::ParenClose => i += 1,
            Tok::Word(w) if w.eq_ignore_ascii_case("OR") => i += 1,
            Tok::Word(w) if matches!(w.to_ascii_uppercase().as_str(), "AND" | "FOLLOWEDBY") => {
                return Err(format!(
                    "{w} needs several observations together; only comparisons joined by OR are supported"
                ));
            }
            Tok::Word(w)
                if matches!(
                    w.to_ascii_uppercase().as_str(),
                    "WITHIN" | "REPEATS" | "START" | "STOP"
                ) =>
            {
                return Err(format!("qualifier {w} is not supported"));
            }
            Tok::Word(path) if path.contains(':') => {
                let (n, values) = comparison(&toks[i + 1..])?;
                out.extend(values.into_iter().map(|v| (path.clone(), v)));
                i += 1 + n;
            }
            t => return Err(format!("unexpected {t:?} in pattern")),
        }
    }
    if out.is_empty() {
        return Err("pattern without a comparison".into());
    }
    Ok(out)
}

/// After an object path: the operator and value(s); returns tokens used and values.
fn comparison(rest: &[Tok]) -> Result<(usize, Vec<String>), String> {
    let op = match rest.first() {
        Some(Tok::Word(w)) => w.to_ascii_uppercase(),
        _ => return Err("comparison without an operator".into()),
    };
    match (op.as_str(), rest.get(1)) {
        ("=" | "ISSUBSET", Some(Tok::Str(v))) => Ok((2, vec![v.clone()])),
        ("IN", Some(Tok::ParenOpen)) => {
            let mut values = Vec::new();
            let mut n = 2;
            loop {
                match rest.get(n) {
                    Some(Tok::Str(v)) => values.push(v.clone()),
                    Some(Tok::Comma) => {}
                    Some(Tok::ParenClose) => return Ok((n + 1, values)),
                    _ => return Err("bad IN list".into()),
                }
                n += 1;
            }
        }
        (op, _) => Err(format!(
            "operator {op} is not supported (only =, ISSUBSET and IN)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(
            parse_pattern(
                "[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value ISSUBSET '203.0.113.0/24']"
            )
            .unwrap(),
            vec![
                ("ipv4-addr:value".into(), "198.51.100.1".into()),
                ("ipv4-addr:value".into(), "203.0.113.0/24".into())
            ]
        );
        assert_eq!(
            parse_pattern("[x509-certificate:hashes.'SHA-1' = 'AB'] OR [domain-name:value IN ('a.com', 'b.com')]").unwrap(),
            vec![
                ("x509-certificate:hashes.'SHA-1'".into(), "AB".into()),
                ("domain-name:value".into(), "a.com".into()),
                ("domain-name:value".into(), "b.com".into())
            ]
        );
        assert_eq!(
            parse_pattern(r"[user-account:account_login = 'o\'brien']").unwrap()[0].1,
            "o'brien"
        );
        assert!(
            parse_pattern("[ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = 443]")
                .is_err()
        );
        assert!(parse_pattern("[domain-name:value LIKE '%.evil.com']").is_err());
        assert!(parse_pattern("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS").is_err());
        assert!(parse_pattern("").is_err());
    }
}
