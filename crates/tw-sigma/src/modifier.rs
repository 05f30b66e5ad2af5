//! Value modifiers: names, validation of chains, and the value transformations done at
//! compile time (wildcard/escape parsing, `windash`, `base64`, `base64offset`, `utf16*`,
//! `contains`/`startswith`/`endswith`, `expand` placeholders).
//!
//! Transformations apply in the order written, as in pySigma: `|utf16le|base64offset|contains`
//! encodes, then wraps in wildcards. Values are kept as a sequence of [`Piece`]s so that
//! wildcards survive transformations and escaped `*`/`?` stay literal.

use std::collections::HashMap;

/// One value modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Windash,
    Re,
    /// `re` sub-modifier `i`.
    ReI,
    /// `re` sub-modifier `m`.
    ReM,
    /// `re` sub-modifier `s`.
    ReS,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Lt,
    Lte,
    Gt,
    Gte,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Cidr,
    Expand,
    FieldRef,
}

impl Modifier {
    /// Parses a modifier name (lower case, as written in rules).
    pub fn parse(name: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match name {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "exists" => Exists,
            "cased" => Cased,
            "neq" => Neq,
            "windash" => Windash,
            "re" => Re,
            "i" | "ignorecase" => ReI,
            "m" | "multiline" => ReM,
            "s" | "dotall" => ReS,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" | "wide" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "lt" => Lt,
            "lte" => Lte,
            "gt" => Gt,
            "gte" => Gte,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            "cidr" => Cidr,
            "expand" => Expand,
            "fieldref" => FieldRef,
            _ => return None,
        })
    }

    fn is_position(self) -> bool {
        matches!(
            self,
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
        )
    }

    fn is_compare(self) -> bool {
        matches!(
            self,
            Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte
        )
    }

    fn is_time(self) -> bool {
        matches!(
            self,
            Modifier::Minute
                | Modifier::Hour
                | Modifier::Day
                | Modifier::Week
                | Modifier::Month
                | Modifier::Year
        )
    }

    fn is_string_transform(self) -> bool {
        matches!(
            self,
            Modifier::Windash
                | Modifier::Base64
                | Modifier::Base64Offset
                | Modifier::Utf16Le
                | Modifier::Utf16Be
                | Modifier::Utf16
        ) || self.is_position()
    }
}

/// Parses and validates a modifier chain (`field|a|b` → `["a", "b"]`).
pub fn parse_modifiers(names: &[&str]) -> Result<Vec<Modifier>, String> {
    let mut mods = Vec::new();
    for name in names {
        let m = Modifier::parse(name).ok_or_else(|| format!("unknown modifier '{name}'"))?;
        if mods.contains(&m) {
            return Err(format!("modifier '{name}' given twice"));
        }
        mods.push(m);
    }
    let has = |m: Modifier| mods.contains(&m);
    let conflict = |a: &str, b: &str| Err(format!("conflicting modifiers '{a}' and '{b}'"));
    let positions: Vec<&Modifier> = mods.iter().filter(|m| m.is_position()).collect();
    if positions.len() > 1 {
        return conflict(names_of(*positions[0]), names_of(*positions[1]));
    }
    let compares: Vec<&Modifier> = mods.iter().filter(|m| m.is_compare()).collect();
    if compares.len() > 1 {
        return conflict(names_of(*compares[0]), names_of(*compares[1]));
    }
    let times: Vec<&Modifier> = mods.iter().filter(|m| m.is_time()).collect();
    if times.len() > 1 {
        return conflict(names_of(*times[0]), names_of(*times[1]));
    }
    for sub in [Modifier::ReI, Modifier::ReM, Modifier::ReS] {
        if has(sub) && !has(Modifier::Re) {
            return Err(format!(
                "modifier '{}' is only valid after 're'",
                names_of(sub)
            ));
        }
    }
    if has(Modifier::Exists) && mods.len() > 1 {
        let other = mods.iter().find(|m| **m != Modifier::Exists).copied();
        return conflict("exists", other.map(names_of).unwrap_or("?"));
    }
    if has(Modifier::Re)
        && let Some(m) = mods.iter().find(|m| {
            m.is_string_transform()
                || m.is_compare()
                || m.is_time()
                || **m == Modifier::Cidr
                || **m == Modifier::FieldRef
        })
    {
        return conflict("re", names_of(*m));
    }
    if has(Modifier::Cidr)
        && let Some(m) = mods.iter().find(|m| {
            m.is_string_transform() || m.is_compare() || m.is_time() || **m == Modifier::FieldRef
        })
    {
        return conflict("cidr", names_of(*m));
    }
    if let Some(c) = compares.first()
        && let Some(m) = mods
            .iter()
            .find(|m| m.is_string_transform() || **m == Modifier::FieldRef || **m == Modifier::Neq)
    {
        return conflict(names_of(**c), names_of(*m));
    }
    if let Some(t) = times.first()
        && let Some(m) = mods
            .iter()
            .find(|m| m.is_string_transform() || **m == Modifier::FieldRef)
    {
        return conflict(names_of(**t), names_of(*m));
    }
    if has(Modifier::FieldRef)
        && let Some(m) = mods.iter().find(|m| {
            matches!(
                m,
                Modifier::Windash
                    | Modifier::Base64
                    | Modifier::Base64Offset
                    | Modifier::Utf16
                    | Modifier::Utf16Be
                    | Modifier::Utf16Le
                    | Modifier::Expand
            )
        })
    {
        return conflict("fieldref", names_of(*m));
    }
    if has(Modifier::Base64) && has(Modifier::Base64Offset) {
        return conflict("base64", "base64offset");
    }
    let encs: Vec<&Modifier> = mods
        .iter()
        .filter(|m| matches!(m, Modifier::Utf16 | Modifier::Utf16Be | Modifier::Utf16Le))
        .collect();
    if encs.len() > 1 {
        return conflict(names_of(*encs[0]), names_of(*encs[1]));
    }
    Ok(mods)
}

/// The name of a modifier as written in rules.
pub fn names_of(m: Modifier) -> &'static str {
    use Modifier::*;
    match m {
        Contains => "contains",
        StartsWith => "startswith",
        EndsWith => "endswith",
        All => "all",
        Exists => "exists",
        Cased => "cased",
        Neq => "neq",
        Windash => "windash",
        Re => "re",
        ReI => "i",
        ReM => "m",
        ReS => "s",
        Base64 => "base64",
        Base64Offset => "base64offset",
        Utf16Le => "utf16le",
        Utf16Be => "utf16be",
        Utf16 => "utf16",
        Lt => "lt",
        Lte => "lte",
        Gt => "gt",
        Gte => "gte",
        Minute => "minute",
        Hour => "hour",
        Day => "day",
        Week => "week",
        Month => "month",
        Year => "year",
        Cidr => "cidr",
        Expand => "expand",
        FieldRef => "fieldref",
    }
}

/// A part of a Sigma string value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Literal bytes (UTF-8 unless an encoding modifier produced binary).
    Lit(Vec<u8>),
    /// `*`: any sequence, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
    /// One character out of a set (produced by `windash` on long values).
    Class(Vec<char>),
}

/// A Sigma string: literal pieces and wildcards.
pub type SStr = Vec<Piece>;

fn push_lit(out: &mut SStr, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    if let Some(Piece::Lit(prev)) = out.last_mut() {
        prev.extend_from_slice(bytes);
    } else {
        out.push(Piece::Lit(bytes.to_vec()));
    }
}

/// Parses a rule string: `*` and `?` are wildcards; a backslash escapes `*`, `?` and `\`;
/// a backslash before any other character is literal.
pub fn parse_sigma_string(s: &str) -> SStr {
    let mut out = SStr::new();
    let mut chars = s.chars().peekable();
    let mut buf = [0u8; 4];
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    chars.next();
                    push_lit(&mut out, n.encode_utf8(&mut buf).as_bytes());
                }
                _ => push_lit(&mut out, b"\\"),
            },
            '*' => {
                if out.last() != Some(&Piece::Star) {
                    out.push(Piece::Star);
                }
            }
            '?' => out.push(Piece::One),
            _ => push_lit(&mut out, c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    out
}

/// Substitutes `%name%` placeholders (an escaped `\%` stays literal). Each placeholder
/// expands to every configured value (cartesian product when there are several).
/// Configured values are Sigma strings (wildcards allowed).
pub fn expand_placeholders(
    s: &str,
    vars: &HashMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    // Split into literal segments (with their escapes kept) and placeholder names.
    enum Seg {
        Lit(String),
        Var(String),
    }
    let mut segs = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("\\%") {
            lit.push('%');
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('%')
            && let Some(end) = r.find('%')
        {
            let name = &r[..end];
            if !name.is_empty() && !name.contains(char::is_whitespace) {
                segs.push(Seg::Lit(std::mem::take(&mut lit)));
                segs.push(Seg::Var(name.to_string()));
                rest = &r[end + 1..];
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or('%');
        lit.push(c);
        rest = &rest[c.len_utf8()..];
    }
    segs.push(Seg::Lit(lit));
    let mut out = vec![String::new()];
    for seg in segs {
        match seg {
            Seg::Lit(l) => out.iter_mut().for_each(|o| o.push_str(&l)),
            Seg::Var(name) => {
                let values = vars.get(&name).ok_or_else(|| {
                    format!("unresolved placeholder '%{name}%' (no values configured)")
                })?;
                if values.is_empty() {
                    return Err(format!("placeholder '%{name}%' has an empty value list"));
                }
                if out.len().saturating_mul(values.len()) > 10_000 {
                    return Err("placeholder expansion produces too many values".into());
                }
                out = out
                    .iter()
                    .flat_map(|o| values.iter().map(move |v| format!("{o}{v}")))
                    .collect();
            }
        }
    }
    Ok(out)
}

/// Substitutes only the placeholders named in `vars`, leaving other placeholders and
/// `\%` escapes untouched (pipelines resolve their own variables first).
pub fn expand_partial(s: &str, vars: &HashMap<String, Vec<String>>) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("\\%") {
            out.iter_mut().for_each(|o| o.push_str("\\%"));
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('%')
            && let Some(end) = r.find('%')
            && let Some(values) = vars.get(&r[..end])
            && !values.is_empty()
            && out.len().saturating_mul(values.len()) <= 10_000
        {
            out = out
                .iter()
                .flat_map(|o| values.iter().map(move |v| format!("{o}{v}")))
                .collect();
            rest = &r[end + 1..];
            continue;
        }
        let c = rest.chars().next().unwrap_or('%');
        out.iter_mut().for_each(|o| o.push(c));
        rest = &rest[c.len_utf8()..];
    }
    out
}

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
/// Values with more dashes than this use a character class instead of full expansion.
const WINDASH_EXPAND_MAX: usize = 3;

/// `windash`: every permutation of the dash characters.
pub fn windash(value: &SStr) -> Vec<SStr> {
    // Split literal pieces at dash characters into a flat list of options.
    let mut parts: Vec<Piece> = Vec::new();
    let mut n_dash = 0usize;
    for p in value {
        match p {
            Piece::Lit(bytes) => {
                let text = String::from_utf8_lossy(bytes);
                let mut cur = String::new();
                for c in text.chars() {
                    if DASHES.contains(&c) {
                        if !cur.is_empty() {
                            parts.push(Piece::Lit(std::mem::take(&mut cur).into_bytes()));
                        }
                        parts.push(Piece::Class(DASHES.to_vec()));
                        n_dash += 1;
                    } else {
                        cur.push(c);
                    }
                }
                if !cur.is_empty() {
                    parts.push(Piece::Lit(cur.into_bytes()));
                }
            }
            other => parts.push(other.clone()),
        }
    }
    if n_dash == 0 {
        return vec![value.clone()];
    }
    if n_dash > WINDASH_EXPAND_MAX {
        return vec![normalize(parts)];
    }
    let mut out: Vec<SStr> = vec![Vec::new()];
    for p in parts {
        match p {
            Piece::Class(chars) => {
                let mut next = Vec::new();
                for o in &out {
                    for c in &chars {
                        let mut v = o.clone();
                        let mut buf = [0u8; 4];
                        push_lit(&mut v, c.encode_utf8(&mut buf).as_bytes());
                        next.push(v);
                    }
                }
                out = next;
            }
            Piece::Lit(b) => out.iter_mut().for_each(|o| push_lit(o, &b)),
            other => out.iter_mut().for_each(|o| o.push(other.clone())),
        }
    }
    out
}

/// Merges adjacent literals and repeated stars.
pub fn normalize(parts: Vec<Piece>) -> SStr {
    let mut out = SStr::new();
    for p in parts {
        match p {
            Piece::Lit(b) => push_lit(&mut out, &b),
            Piece::Star if out.last() == Some(&Piece::Star) => {}
            other => out.push(other),
        }
    }
    out
}

fn literal_bytes(value: &SStr, what: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for p in value {
        match p {
            Piece::Lit(b) => out.extend_from_slice(b),
            _ => {
                return Err(format!(
                    "'{what}' cannot encode a value containing wildcards"
                ));
            }
        }
    }
    Ok(out)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// `base64offset`: the three encodings of `data` at byte offsets 0, 1 and 2, trimmed to
/// the characters that do not depend on surrounding bytes.
pub fn base64_offsets(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for shift in 0..3usize {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(data);
        let enc = base64_encode(&buf);
        let start = [0usize, 2, 3][shift];
        let trim_end = [0usize, 3, 2][(data.len() + shift) % 3];
        let end = enc.len().saturating_sub(trim_end);
        if start < end {
            out.push(enc[start..end].to_string());
        }
    }
    out.dedup();
    out
}

/// Applies the string transformations of `mods` (in order) to one parsed value.
pub fn transform(value: SStr, mods: &[Modifier]) -> Result<Vec<SStr>, String> {
    let mut values = vec![value];
    for m in mods {
        let mut next = Vec::new();
        for v in values {
            match m {
                Modifier::Contains => {
                    let mut x = vec![Piece::Star];
                    x.extend(v);
                    x.push(Piece::Star);
                    next.push(normalize(x));
                }
                Modifier::StartsWith => {
                    let mut x = v;
                    x.push(Piece::Star);
                    next.push(normalize(x));
                }
                Modifier::EndsWith => {
                    let mut x = vec![Piece::Star];
                    x.extend(v);
                    next.push(normalize(x));
                }
                Modifier::Windash => next.extend(windash(&v)),
                Modifier::Base64 => {
                    let b = literal_bytes(&v, "base64")?;
                    next.push(vec![Piece::Lit(base64_encode(&b).into_bytes())]);
                }
                Modifier::Base64Offset => {
                    let b = literal_bytes(&v, "base64offset")?;
                    for s in base64_offsets(&b) {
                        next.push(vec![Piece::Lit(s.into_bytes())]);
                    }
                }
                Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 => {
                    let mut x = SStr::new();
                    if *m == Modifier::Utf16 {
                        x.push(Piece::Lit(vec![0xFF, 0xFE]));
                    }
                    for p in v {
                        match p {
                            Piece::Lit(b) => {
                                let text = String::from_utf8_lossy(&b);
                                let mut enc = Vec::new();
                                for u in text.encode_utf16() {
                                    let pair = if *m == Modifier::Utf16Be {
                                        u.to_be_bytes()
                                    } else {
                                        u.to_le_bytes()
                                    };
                                    enc.extend_from_slice(&pair);
                                }
                                push_lit(&mut x, &enc);
                            }
                            other => x.push(other),
                        }
                    }
                    next.push(x);
                }
                _ => next.push(v),
            }
        }
        if next.len() > 100_000 {
            return Err("modifiers produce too many values".into());
        }
        values = next;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Lit(s.as_bytes().to_vec())
    }

    #[test]
    fn escaping_table() {
        assert_eq!(parse_sigma_string(r"a\*b"), vec![lit("a*b")]);
        assert_eq!(parse_sigma_string(r"a\\*"), vec![lit("a\\"), Piece::Star]);
        assert_eq!(parse_sigma_string(r"a\\\*"), vec![lit("a\\*")]);
        assert_eq!(parse_sigma_string(r"a\\\\b"), vec![lit("a\\\\b")]);
        assert_eq!(parse_sigma_string(r"a\\\b"), vec![lit("a\\\\b")]);
        assert_eq!(parse_sigma_string(r"C:\Windows"), vec![lit("C:\\Windows")]);
        assert_eq!(parse_sigma_string("a?"), vec![lit("a"), Piece::One]);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_encode(b""), "");
        // Offsets of "http://" as listed in common references.
        assert_eq!(
            base64_offsets(b"http://"),
            vec!["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]
        );
    }

    #[test]
    fn placeholders() {
        let mut vars = HashMap::new();
        vars.insert("a".to_string(), vec!["x".to_string(), "y".to_string()]);
        assert_eq!(
            expand_placeholders("p%a%q", &vars).unwrap(),
            vec!["pxq", "pyq"]
        );
        assert_eq!(expand_placeholders(r"\%a%", &vars).unwrap(), vec!["%a%"]);
        assert!(
            expand_placeholders("%b%", &vars)
                .unwrap_err()
                .contains("unresolved placeholder")
        );
    }

    #[test]
    fn modifier_conflicts() {
        assert!(parse_modifiers(&["contains", "startswith"]).is_err());
        assert!(parse_modifiers(&["i"]).is_err());
        assert!(parse_modifiers(&["re", "contains"]).is_err());
        assert!(parse_modifiers(&["re", "i", "m"]).is_ok());
        assert!(
            parse_modifiers(&["nope"])
                .unwrap_err()
                .contains("unknown modifier")
        );
        assert!(parse_modifiers(&["utf16le", "base64offset", "contains"]).is_ok());
    }

    #[test]
    fn windash_variants() {
        let v = windash(&vec![lit("-a")]);
        assert_eq!(v.len(), 5);
        let v = windash(&vec![lit("-a -b -c -d")]);
        assert_eq!(v.len(), 1);
    }
}
