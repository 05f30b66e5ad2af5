//! The benign background grows linearly with `--scale`; the storyline does not change.

mod common;

use common::{TempDir, run, truth};
use tw_simulate::SimulateOptions;

fn total(t: &serde_json::Value) -> f64 {
    t["files"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum::<u64>() as f64
}

#[test]
fn background_volume_is_linear_in_scale() {
    let d = TempDir::new("scale");
    let opts = |scale| SimulateOptions {
        tenants: 3,
        compromised: 2,
        days: 5,
        seed: 5,
        scale,
        ..SimulateOptions::default()
    };
    let t0 = truth(&run(&d.0, "s0", &opts(0.0)));
    let t1 = truth(&run(&d.0, "s1", &opts(1.0)));
    let t2 = truth(&run(&d.0, "s2", &opts(2.0)));
    let t4 = truth(&run(&d.0, "s4", &opts(4.0)));
    let (n0, n1, n2, n4) = (total(&t0), total(&t1), total(&t2), total(&t4));
    let b1 = n1 - n0;
    assert!(b1 > 500.0, "background at scale 1: {b1}");
    let r2 = (n2 - n0) / b1;
    let r4 = (n4 - n0) / b1;
    assert!((r2 - 2.0).abs() < 0.03, "scale 2 / scale 1 = {r2}");
    assert!((r4 - 4.0).abs() < 0.06, "scale 4 / scale 1 = {r4}");
    // The attack is the same whatever the scale.
    assert_eq!(t0["techniques"], t1["techniques"]);
    assert_eq!(t0["techniques"], t4["techniques"]);
    assert_eq!(t0["mailboxes_read"], t2["mailboxes_read"]);
}
