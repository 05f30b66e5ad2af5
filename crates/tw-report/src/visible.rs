//! Control characters made visible: text taken from logs (file names, keys, values, user agents,
//! rule names) may hold ESC, BEL and other control characters that a terminal, a spreadsheet or
//! a text viewer would obey. Every place that shows such text passes it through [`visible`].

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for the characters [`visible`] rewrites: C0 controls, DEL and C1 controls.
pub fn is_hidden_control(c: char) -> bool {
    c.is_control()
}

/// Appends the visible escape of control character `c`: `\n`, `\r`, `\t`, `\x1b` for other C0
/// controls and DEL, `\u{9b}` for C1 controls.
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

/// `s` with every control character written as a visible escape (see [`push_escape`]); borrowed
/// when there is none.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden_control(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(
            visible("a\u{1b}[31mred\u{7}\u{7f}\u{9b}2J\tb\r\n"),
            "a\\x1b[31mred\\x07\\x7f\\u{9b}2J\\tb\\r\\n"
        );
        assert!(matches!(visible("plain ü text"), Cow::Borrowed(_)));
    }
}
