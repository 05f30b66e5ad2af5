//! The same seed writes the same bytes; another seed writes another world.

mod common;

use common::{TempDir, hashes, run, small, truth};

#[test]
fn same_seed_gives_byte_identical_output() {
    let d = TempDir::new("det-same");
    let a = run(&d.0, "a", &small(11, 0.4));
    let b = run(&d.0, "b", &small(11, 0.4));
    let ha = hashes(&a);
    let hb = hashes(&b);
    assert!(ha.len() > 10, "{ha:?}");
    assert!(ha.contains_key("truth.json"));
    assert!(
        ha.keys().any(|k| k.ends_with(".zip")),
        "one tenant arrives zipped"
    );
    assert!(
        ha.keys().any(|k| k.ends_with(".gz")),
        "some files are gzipped"
    );
    assert_eq!(ha, hb);
}

#[test]
fn another_seed_gives_other_tenants_names_and_timings() {
    let d = TempDir::new("det-other");
    let a = truth(&run(&d.0, "a", &small(11, 0.2)));
    let b = truth(&run(&d.0, "b", &small(12, 0.2)));
    let ids = |t: &serde_json::Value| -> Vec<String> {
        t["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let names = |t: &serde_json::Value| -> Vec<String> {
        t["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    let ia = ids(&a);
    assert!(ids(&b).iter().all(|x| !ia.contains(x)));
    assert_ne!(names(&a), names(&b));
    assert_ne!(a["partner_account"], b["partner_account"]);
    assert_ne!(a["attack_window"], b["attack_window"]);
    assert_ne!(a["attacker_ips"], b["attacker_ips"]);
    let times = |t: &serde_json::Value| -> Vec<String> {
        t["malicious"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["time"].as_str().unwrap().to_string())
            .collect()
    };
    assert_ne!(times(&a), times(&b));
}

#[test]
fn refuses_to_overwrite_a_case() {
    let d = TempDir::new("det-exists");
    run(&d.0, "a", &small(3, 0.0));
    let e = tw_simulate::simulate(&small(3, 0.0), &d.0.join("a")).unwrap_err();
    assert!(e.to_string().contains("already holds a case"), "{e}");
}

#[test]
fn options_that_cannot_tell_the_story_are_rejected() {
    let base = small(1, 1.0);
    for bad in [
        tw_simulate::SimulateOptions {
            compromised: 1,
            ..base.clone()
        },
        tw_simulate::SimulateOptions {
            compromised: 5,
            ..base.clone()
        },
        tw_simulate::SimulateOptions {
            tenants: 1,
            compromised: 1,
            ..base.clone()
        },
        tw_simulate::SimulateOptions {
            days: 2,
            ..base.clone()
        },
        tw_simulate::SimulateOptions {
            scale: -1.0,
            ..base.clone()
        },
        tw_simulate::SimulateOptions {
            scale: f64::NAN,
            ..base.clone()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
    assert!(base.validate().is_ok());
    assert!(tw_simulate::SimulateOptions::default().validate().is_ok());
}
