#![no_main]
//! Projected parsing never hides what a field lookup reaches: for any JSON object, every path of
//! a fixed set (mixed case, dotted, through arrays) looked up in the record parsed through a
//! projection of those paths gives exactly what it gives in the fully parsed record; the
//! projected parse accepts what the full parser accepts and never panics.

use libfuzzer_sys::fuzz_target;
use tw_ingest::select::Projection;
use tw_sigma::{FieldRef, SigmaEvent};

const PATHS: &[&str] = &[
    "a",
    "A.b",
    "a.b.c",
    "properties.status.errorCode",
    "Target.ID",
    "x.y",
    "deviceDetail.isCompliant",
    "k.l.m.n",
];

fn seen(v: &serde_json::Value, path: &str) -> (bool, Vec<String>) {
    let mut out = Vec::new();
    let found = v.visit_field(&FieldRef::new(0, path), &mut |x| {
        out.push(format!("{x:?}"));
        false
    });
    (found, out)
}

fuzz_target!(|data: &[u8]| {
    let mut p = Projection::default();
    for path in PATHS {
        p.add(path);
    }
    let full = serde_json::from_slice::<serde_json::Value>(data);
    let projected = p.parse(data);
    match (&full, &projected) {
        (Ok(serde_json::Value::Object(_)), Err(e)) => panic!("projection rejected valid JSON: {e}"),
        (Err(_), Ok(_)) => panic!("projection accepted invalid JSON"),
        _ => {}
    }
    let (Ok(full), Ok(projected)) = (full, projected) else {
        return;
    };
    for path in PATHS {
        assert_eq!(seen(&full, path), seen(&projected, path), "{path}");
    }
});
