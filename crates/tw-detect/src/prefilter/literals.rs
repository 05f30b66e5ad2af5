//! Literal extraction: what a rule's value becomes when looked up in a record's raw text (a
//! piece that survives every escape), and the texts whose bytes cannot be trusted for that.

/// Shortest literal piece worth looking up.
pub const MIN_LITERAL: usize = 3;

/// Longest literal piece looked up: a longer piece is cut to its first this many bytes (still a
/// necessary condition: a text holding the piece holds its start). No longer piece selects
/// records better, and the search automata grow with the literals' total length (one state per
/// byte): a rule value of a megabyte must not make building them take minutes.
pub const MAX_LITERAL: usize = 128;

/// Byte sequences that make a record's text unreliable for literal lookup: a `\u` escape, an
/// escaped solidus `\/`, and the characters whose Unicode lowercase is ASCII (KELVIN SIGN
/// `E2 84 AA`, `İ` `C4 B0`).
pub(super) fn has_hazard(raw: &[u8]) -> bool {
    memchr::memchr3_iter(b'\\', 0xE2, 0xC4, raw).any(|i| match raw[i] {
        b'\\' => matches!(raw.get(i + 1), Some(b'u' | b'/')),
        0xE2 => raw.get(i + 1..i + 3) == Some(&[0x84, 0xAA][..]),
        _ => raw.get(i + 1) == Some(&0xB0),
    })
}

/// Cuts `text` (a lowercase literal) down to the longest piece that appears verbatim in any raw
/// text holding it; `None` when there is none worth using.
pub fn raw_literal(text: &str) -> Option<String> {
    if text.trim().parse::<f64>().is_ok() {
        // A number may be written `50053`, `50053.0` or `5.0053e4`: checked on the key's value.
        return None;
    }
    let best = text
        .split(|c: char| !c.is_ascii() || c.is_ascii_control() || matches!(c, '"' | '\\' | '-'))
        .max_by_key(|p| p.len())?;
    // The piece is ASCII: any byte offset is a character boundary.
    let best = best.get(..MAX_LITERAL).unwrap_or(best);
    (best.len() >= MIN_LITERAL).then(|| best.to_string())
}
