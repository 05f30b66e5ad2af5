//! Refanging: published indicators are often written so that they cannot be clicked or resolved
//! (`1.2.3[.]4`, `evil[.]com`, `hxxps://`, `user[@]evil.com`, `evil(dot)com`); this turns them back
//! into the values logs hold.

/// Bracketed and spelled-out forms, replaced in this order (compared ASCII case-insensitively).
const FORMS: [(&str, &str); 16] = [
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    (" dot ", "."),
    ("\\.", "."),
    ("[@]", "@"),
    ("(@)", "@"),
    ("{@}", "@"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("[:]", ":"),
    ("[://]", "://"),
    ("[/]", "/"),
];

/// Schemes written so they do not work.
const SCHEMES: [(&str, &str); 5] = [
    ("hxxps", "https"),
    ("hxxp", "http"),
    ("hXXps", "https"),
    ("fxp", "ftp"),
    ("meow", "http"),
];

/// Replaces every `from` (ASCII case-insensitive) in `s` by `to`.
fn replace_ci(s: &str, from: &str, to: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    while let Some(i) = lower[at..].find(from) {
        out.push_str(&s[at..at + i]);
        out.push_str(to);
        at += i + from.len();
    }
    out.push_str(&s[at..]);
    out
}

/// The indicator as logs would hold it; `true` when it was defanged.
pub fn refang(text: &str) -> (String, bool) {
    let t = text.trim();
    // Most values of a long list are not defanged: no bracket, escape, space or odd scheme.
    let lower_start = t.get(..4).map(str::to_ascii_lowercase);
    if !t.contains(['[', '(', '{', '\\', ' '])
        && !matches!(lower_start.as_deref(), Some("hxxp" | "fxp:" | "meow"))
    {
        return (t.to_string(), false);
    }
    let mut s = t.to_string();
    let before = s.clone();
    for (from, to) in FORMS {
        if s.len() >= from.len() {
            s = replace_ci(&s, from, to);
        }
    }
    for (from, to) in SCHEMES {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with(&from.to_ascii_lowercase()) && lower[from.len()..].starts_with("://") {
            s = format!("{to}{}", &s[from.len()..]);
        }
    }
    let changed = s != before;
    (s, changed)
}

#[cfg(test)]
mod tests {
    use super::refang;

    #[test]
    fn defanged_forms_are_restored() {
        for (a, b) in [
            ("1.2.3[.]4", "1.2.3.4"),
            ("198[.]51[.]100[.]0/24", "198.51.100.0/24"),
            ("evil[.]com", "evil.com"),
            ("EVIL(DOT)com", "EVIL.com"),
            (
                "hxxps://login.evil[.]com/path",
                "https://login.evil.com/path",
            ),
            ("hXXp[://]evil.com", "http://evil.com"),
            ("user[@]evil.com", "user@evil.com"),
            ("user[at]evil[.]com", "user@evil.com"),
            ("2001:db8[:]:1", "2001:db8::1"),
            ("plain.example", "plain.example"),
        ] {
            assert_eq!(refang(a).0, b, "{a}");
        }
        assert!(!refang("evil.com").1);
        assert!(refang("evil[.]com").1);
    }
}
