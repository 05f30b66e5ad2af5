#![no_main]
//! Classification, selective reading and normalization of arbitrary JSON values, for every format:
//! never panics, and the selective reader agrees with the full parser on validity.

use libfuzzer_sys::fuzz_target;
use tw_event::Format;
use tw_ingest::classify::classify_json;
use tw_ingest::normalize::normalize;
use tw_ingest::select::{parse_selected, selection};

fuzz_target!(|data: &[u8]| {
    let full = serde_json::from_slice::<serde_json::Value>(data);
    let sparse = parse_selected(data, selection());
    if full.is_ok() && data.first() == Some(&b'{') {
        assert!(sparse.is_ok(), "selective reader rejected valid JSON");
    }
    let Ok(v) = full else { return };
    let _ = classify_json(&v);
    if let Ok(s) = sparse {
        let _ = classify_json(&s);
    }
    for f in Format::ALL {
        let _ = normalize(f, v.clone());
    }
});
