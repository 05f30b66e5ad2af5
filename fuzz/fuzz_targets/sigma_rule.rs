#![no_main]
//! The Sigma rule parser and compiler on arbitrary text, then matching a fixed event: never panics.

use libfuzzer_sys::fuzz_target;
use tw_sigma::RuleSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut b = RuleSet::builder();
    b.add_yaml("fuzz.yml", text);
    let set = b.build();
    let ev = serde_json::json!({"Operation": "Add service principal credentials.", "ResultType": 0, "properties": {"message": "x", "targetResources": [{"id": "a"}]}});
    let _ = set.matches(&ev);
});
