#![no_main]
//! Timestamp parsing: never panics; a parsed value formats to RFC 3339 and parses back to itself.

use libfuzzer_sys::fuzz_target;
use tw_event::parse_timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some(t) = parse_timestamp(s) {
        let text = t.to_string();
        assert_eq!(parse_timestamp(&text), Some(t), "{s:?} -> {text}");
    }
});
