//! Collection against the loopback emulator: every source's records collected equal the records
//! served, with and without injected faults.

use std::path::PathBuf;
use std::time::Duration;

use tw_collect::secret::{Credentials, Proof, Secret};
use tw_collect::{Options, UalApi, collect};
use tw_emulator::{Emulator, Faults, secret_auth};

fn world() -> tw_emulator::data::Data {
    tw_emulator::data::generate(&tw_simulate::SimulateOptions {
        tenants: 3,
        compromised: 2,
        days: 4,
        scale: 3.0,
        seed: 7,
        ..Default::default()
    })
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tw-collect-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn options(emu: &Emulator, tenant: &str, out: &PathBuf) -> Options {
    let creds = Credentials {
        client_id: "app".into(),
        proof: Proof::Secret(Secret::new("s3cr3t-value")),
    };
    let d = emu.data();
    let mut o = Options::new(creds, tenant, "2000-01-01", "2000-01-02", out).unwrap();
    o.since = d.start;
    o.until = d.end;
    o.endpoints = o
        .endpoints
        .with_overrides(Some(emu.url()), Some(emu.url()), Some(emu.url()));
    o.policy.backoff = Duration::from_millis(20);
    o.policy.timeout = Duration::from_secs(5);
    o.limits.page_size = 10;
    o.limits.poll = Duration::from_millis(10);
    o.ual_api = UalApi::Management;
    o.now = d.end;
    o
}

#[test]
fn every_source_collects_what_is_served() {
    let data = world();
    let end = data.end;
    let faults = Faults {
        now: end,
        duplicate_blobs: true,
        ..Default::default()
    };
    let emu = Emulator::start(data, faults, secret_auth("app", "s3cr3t-value")).unwrap();
    let tenant = emu.data().tenants[1].id.clone();
    let out = tmp("all");
    let opts = options(&emu, &tenant, &out);
    let s = collect(&opts, &Default::default()).unwrap();
    let c = &s.tenants[0];
    assert!(c.complete, "{:#?}", c.errors);
    let mut checked = 0;
    for src in &c.sources {
        if let Some(n) = emu.served(&tenant, &src.source, opts.since, opts.until) {
            assert_eq!(src.records, n, "{}", src.source);
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        18,
        "{:?}",
        c.sources.iter().map(|s| &s.source).collect::<Vec<_>>()
    );
    assert!(c.sources.iter().any(|s| s.duplicates > 0));
    std::fs::remove_dir_all(&out).ok();
}
