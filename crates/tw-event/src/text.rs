//! Showing text that comes from the data (field names, values, file and archive member names, user
//! agents, rule names) on a terminal or in a report: control characters are written as visible
//! escapes, so that nothing in a log can move the cursor, recolour the screen, ring the bell or
//! reorder what follows. Every command and report uses this one escaping. The test of a GUID every
//! reader of the logs applies ([`is_guid`]) is here too.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters never shown raw: C0 controls (tab and newline included), DEL, C1 controls,
/// and the bidirectional overrides and isolates that reorder the text after them.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Appends the visible escape of hidden character `c`: `\n`, `\r`, `\t`, `\x1b` for other C0
/// controls and DEL, `\u{9b}` / `\u{202e}` for C1 controls and bidirectional controls.
pub fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every control character (C0, DEL, C1) and bidirectional override written as an escape
/// (see [`push_escape`]); text without any is returned as it is, without copying.
///
/// ```
/// use tw_event::escape_text;
/// assert_eq!(escape_text("a\u{1b}[31mb\u{7}"), "a\\x1b[31mb\\x07");
/// assert_eq!(escape_text("line\r\nnext"), "line\\r\\nnext");
/// assert_eq!(escape_text("plain/path é"), "plain/path é");
/// ```
pub fn escape_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// True for a GUID as the logs write them: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits of
/// either case.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::escape_text;

    #[test]
    fn every_control_character_is_escaped_and_the_rest_kept() {
        assert_eq!(escape_text("\u{1b}]0;title\u{7}"), "\\x1b]0;title\\x07");
        assert_eq!(escape_text("a\tb\u{7f}"), "a\\tb\\x7f");
        assert_eq!(escape_text("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_text("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(escape_text("C:\\Logs\\Contoso ü"), "C:\\Logs\\Contoso ü");
        assert_eq!(
            escape_text("a\u{1b}[31mred\u{7}\u{7f}\u{9b}2J\tb\r\n"),
            "a\\x1b[31mred\\x07\\x7f\\u{9b}2J\\tb\\r\\n"
        );
        assert!(matches!(
            escape_text("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
