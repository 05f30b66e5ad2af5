//! The bundled example case (`examples/reseller-breach/`) is exactly what the command in its
//! README produces.

mod common;

use std::path::Path;

use common::{TempDir, hashes};
use tw_simulate::{SimulateOptions, simulate};

/// The options of the command in `examples/reseller-breach/README.md`.
fn example_options() -> SimulateOptions {
    SimulateOptions {
        scale: 0.03,
        ..SimulateOptions::default()
    }
}

#[test]
fn bundled_example_is_reproducible_and_small() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/reseller-breach");
    assert!(
        example.join("truth.json").is_file(),
        "{} is missing",
        example.display()
    );
    let readme = std::fs::read_to_string(example.join("README.md")).unwrap();
    assert!(readme.contains("tenantwatch simulate --out examples/reseller-breach --scale 0.03"));
    let d = TempDir::new("example");
    let fresh = d.0.join("case");
    simulate(&example_options(), &fresh).unwrap();
    let mut want = hashes(&example);
    want.remove("README.md");
    assert_eq!(
        hashes(&fresh),
        want,
        "regenerate the example with the command in its README"
    );
    let bytes: usize = hashes(&example).values().map(|(n, _)| n).sum();
    assert!(bytes < 5_000_000, "example is {bytes} bytes");
}
