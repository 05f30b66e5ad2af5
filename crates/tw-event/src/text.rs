//! Showing text that comes from the data (field names, values, file and archive member names) on a
//! terminal or in a report: control characters are written as visible escapes, so that nothing in a
//! log can move the cursor, recolour the screen, ring the bell or reorder what follows.

use std::borrow::Cow;

/// True for characters never shown raw: C0 controls (tab and newline included), DEL, C1 controls,
/// and the bidirectional overrides and isolates that reorder the text after them.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character (C0, DEL, C1) and bidirectional override written as an escape
/// (`\x1b`, `\u{202e}`); text without any is returned as it is, without copying.
///
/// ```
/// use tw_event::escape_text;
/// assert_eq!(escape_text("a\u{1b}[31mb\u{7}"), "a\\x1b[31mb\\x07");
/// assert_eq!(escape_text("line\r\nnext"), "line\\x0d\\x0anext");
/// assert_eq!(escape_text("plain/path é"), "plain/path é");
/// ```
pub fn escape_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !hidden(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_text;

    #[test]
    fn every_control_character_is_escaped_and_the_rest_kept() {
        assert_eq!(escape_text("\u{1b}]0;title\u{7}"), "\\x1b]0;title\\x07");
        assert_eq!(escape_text("a\tb\u{7f}"), "a\\x09b\\x7f");
        assert_eq!(escape_text("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_text("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(escape_text("C:\\Logs\\Contoso ü"), "C:\\Logs\\Contoso ü");
        assert!(matches!(
            escape_text("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
