#![no_main]
//! Arbitrary bytes read as a JSON log file through the whole ingest path.

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::read_all("case/logs.json", data.to_vec());
});
