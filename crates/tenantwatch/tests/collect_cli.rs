//! `tenantwatch collect` against the loopback emulator (`tw-emulator`), started by each test on
//! `127.0.0.1:0` and stopped when the test ends: records collected equal records served for every
//! source, with faults injected; kill -9 and `--resume` lose and repeat nothing; windows split at
//! a result cap; secrets appear in no output file and no log.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{Tmp, bin};
use serde_json::Value;
use tw_emulator::{Emulator, Expect, Faults, secret_auth};

const SECRET: &str = "tw-test-secret-Zq8~vN.41";

fn world(scale: f64, tenants: usize) -> tw_emulator::data::Data {
    tw_emulator::data::generate(&tw_simulate::SimulateOptions {
        tenants,
        compromised: 2,
        days: 4,
        scale,
        seed: 11,
        ..Default::default()
    })
}

fn start(faults: Faults, expect: Expect, scale: f64) -> Emulator {
    let data = world(scale, 3);
    let faults = Faults {
        now: data.end,
        ..faults
    };
    Emulator::start(data, faults, expect).unwrap()
}

fn time(ms: i64) -> String {
    tw_emulator::format_time(ms)
}

/// `collect` against `emu` for `tenant` over the whole world, with `extra` arguments.
fn collect_cmd(emu: &Emulator, out: &Path, extra: &[&str]) -> Command {
    let d = emu.data();
    let mut c = bin();
    c.arg("collect")
        .args(["--since", &time(d.start), "--until", &time(d.end)])
        .arg("--out")
        .arg(out)
        .args([
            "--login-url",
            emu.url(),
            "--graph-url",
            emu.url(),
            "--manage-url",
            emu.url(),
        ])
        .args([
            "--retry-base-ms",
            "20",
            "--timeout",
            "5",
            "--poll-seconds",
            "0.01",
        ])
        .args(["--page-size", "20", "--ual-api", "management"])
        .args(extra)
        .env("TENANTWATCH_CLIENT_ID", "app")
        .env("TENANTWATCH_CLIENT_SECRET", SECRET)
        .env_remove("TENANTWATCH_CERTIFICATE");
    c
}

fn tenant(emu: &Emulator, i: usize) -> String {
    emu.data().tenants[i].id.clone()
}

fn collection(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("collection.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Asserts every source of the tenant's collection.json got what the emulator serves.
fn assert_complete(emu: &Emulator, out: &Path, t: &str) -> Value {
    let c = collection(&out.join(t));
    assert_eq!(c["complete"], true, "{c:#}");
    let (s, e) = (emu.data().start, emu.data().end);
    let mut checked = 0;
    for src in c["sources"].as_array().unwrap() {
        let name = src["source"].as_str().unwrap();
        if let Some(n) = emu.served(t, name, s, e) {
            assert_eq!(src["records"].as_u64(), Some(n), "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 1);
    c
}

fn run_ok(mut c: Command) -> Output {
    let o = c.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout {}\nstderr {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Every line of every record file of a tenant, per file, sorted.
fn lines(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                let key = p.strip_prefix(dir).unwrap().display().to_string();
                let text = std::fs::read_to_string(&p).unwrap();
                out.entry(key)
                    .or_default()
                    .extend(text.lines().map(str::to_string));
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push(p);
            }
        }
    }
    v
}

fn assert_no_secret(dir: &Path, logs: &[&[u8]]) {
    let s = SECRET.as_bytes();
    let has = |b: &[u8]| b.windows(s.len()).any(|w| w == s);
    for f in all_files(dir) {
        assert!(
            !has(&std::fs::read(&f).unwrap()),
            "secret in {}",
            f.display()
        );
    }
    for l in logs {
        assert!(!has(l), "secret in the output");
    }
}

#[test]
fn collects_every_source_that_ingest_then_reads_and_never_writes_the_secret() {
    let emu = start(
        Faults {
            duplicate_blobs: true,
            ..Faults::default()
        },
        secret_auth("app", SECRET),
        2.0,
    );
    let tmp = Tmp::new("collect-all");
    let t = tenant(&emu, 0);
    let o = run_ok(collect_cmd(&emu, &tmp.0, &["--tenant", &t]));
    let c = assert_complete(&emu, &tmp.0, &t);
    assert_eq!(c["sources"].as_array().unwrap().len(), 4 + 1 + 4 + 1 + 8);
    let sp = c["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "config/servicePrincipals");
    assert!(sp.unwrap()["records"].as_u64() > Some(1), "{sp:?}");
    assert!(c["records"].as_u64().unwrap() > 200, "{}", c["records"]);
    assert!(
        c["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["duplicates"].as_u64() > Some(0))
    );
    let ing = bin()
        .args(["ingest", "--stats", "--format", "json"])
        .arg(tmp.0.join(&t))
        .output()
        .unwrap();
    assert_no_secret(&tmp.0, &[&o.stdout, &o.stderr, &ing.stdout, &ing.stderr]);
    let r: Value = serde_json::from_slice(&ing.stdout).unwrap();
    let logs: u64 = c["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["source"].as_str().unwrap().starts_with("config/"))
        .map(|s| s["records"].as_u64().unwrap())
        .sum();
    assert_eq!(r["totals"]["unrecognised_files"], 0, "{r:#}");
    let col = &r["collections"][0];
    assert_eq!(col["tenant"], t.as_str());
    assert_eq!(col["collected"].as_u64(), Some(logs));
    assert_eq!(col["read"].as_u64(), Some(logs));
    assert_eq!(col["complete"], true);
    let table = bin()
        .args(["ingest", "--stats"])
        .arg(tmp.0.join(&t))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&format!("collected {logs}, read {logs}  complete")),
        "{table}"
    );
    let read = r["totals"]["read"].as_u64().unwrap();
    assert!(
        read >= logs,
        "ingest read {read} of {logs} collected: {r:#}"
    );
    assert_eq!(r["totals"]["rejected"].as_u64().unwrap_or(0), 0, "{r:#}");
}

#[test]
fn throttling_server_errors_dropped_and_slow_answers_and_expired_skip_tokens_lose_nothing() {
    let emu = start(
        Faults {
            throttle_every: 23,
            unavailable_every: 29,
            error_every: 13,
            drop_every: 17,
            slow_every: 19,
            slow_ms: 1500,
            expire_skiptoken_every: 3,
            retry_after_secs: 1,
            max_faults: 30,
            duplicate_blobs: true,
            ..Faults::default()
        },
        secret_auth("app", SECRET),
        2.0,
    );
    let tmp = Tmp::new("collect-faults");
    let t = tenant(&emu, 1);
    let args = ["--tenant", &t, "--timeout", "1", "--page-size", "5"];
    let args = [&args[..], &["--what", "signins,audits,ual,risk"]].concat();
    let o = run_ok(collect_cmd(&emu, &tmp.0, &args));
    let c = assert_complete(&emu, &tmp.0, &t);
    assert_eq!(
        emu.stats()
            .faults
            .load(std::sync::atomic::Ordering::Relaxed),
        30
    );
    // Every fault but an expired skip token is retried.
    assert!(c["retries"].as_u64().unwrap() >= 10, "{c:#}");
    assert!(c["throttled_seconds"].as_f64().unwrap() >= 1.0, "{c:#}");
    let restarts: u64 = c["sources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["windows"].as_array().unwrap())
        .map(|w| w["restarts"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        restarts >= 1,
        "no window restarted after an expired skip token"
    );
    assert_no_secret(&tmp.0, &[&o.stdout, &o.stderr]);
}

#[test]
fn requests_in_flight_stay_bounded_and_tokens_are_renewed_before_they_expire() {
    let expect = Expect {
        lifetime: Duration::from_secs(1),
        ..secret_auth("app", SECRET)
    };
    let emu = start(
        Faults {
            slow_every: 1,
            slow_ms: 25,
            ..Faults::default()
        },
        expect,
        1.0,
    );
    let tmp = Tmp::new("collect-bounded");
    let (t0, t1) = (tenant(&emu, 1), tenant(&emu, 2));
    let args = [
        "--tenant",
        &t0,
        "--tenant",
        &t1,
        "--concurrency",
        "3",
        "--page-size",
        "5",
    ];
    run_ok(collect_cmd(&emu, &tmp.0, &args));
    assert_complete(&emu, &tmp.0, &t0);
    assert_complete(&emu, &tmp.0, &t1);
    let s = emu.stats();
    let max = s.max_in_flight.load(std::sync::atomic::Ordering::Relaxed);
    assert!((2..=3).contains(&max), "{max} requests in flight at once");
    let requests = s.requests.load(std::sync::atomic::Ordering::Relaxed);
    // At 25 ms an answer and 3 at a time, the run lasts several token lifetimes.
    assert!(
        requests * 25 / 3 > 3000,
        "{requests} requests: too short a run"
    );
    assert!(emu.tokens_issued() >= 6, "{} tokens", emu.tokens_issued());
    assert_eq!(
        s.expired_refused.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

/// A run killed with SIGKILL at random moments and resumed each time ends with exactly the
/// records of an uninterrupted run.
#[test]
fn kill_9_at_random_moments_then_resume_loses_and_repeats_nothing() {
    let emu = start(
        Faults {
            slow_every: 1,
            slow_ms: 4,
            duplicate_blobs: true,
            ..Faults::default()
        },
        secret_auth("app", SECRET),
        2.0,
    );
    let t = tenant(&emu, 0);
    let base = ["--tenant", &t, "--window-hours", "6", "--concurrency", "4"];
    let clean = Tmp::new("collect-clean");
    run_ok(collect_cmd(&emu, &clean.0, &base));
    let expected = lines(&clean.0.join(&t));
    assert!(expected.len() >= 10);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("kill seed {seed}");
    let mut rng = seed | 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let tmp = Tmp::new("collect-killed");
    let mut resumed = Vec::from(base);
    let mut kills = 0;
    for round in 0..4 {
        if round > 0 {
            resumed.push("--resume");
            resumed.dedup();
        }
        let mut child = collect_cmd(&emu, &tmp.0, &resumed)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + next() % 600));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    eprintln!("{kills} kills");
    resumed.push("--resume");
    resumed.dedup();
    run_ok(collect_cmd(&emu, &tmp.0, &resumed));
    assert_complete(&emu, &tmp.0, &t);
    let got = lines(&tmp.0.join(&t));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (k, v) in &expected {
        assert_eq!(got[k].len(), v.len(), "{k} (seed {seed})");
        assert!(got[k] == *v, "{k}: other records (seed {seed})");
    }
    let parts = all_files(&tmp.0)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".part"));
    assert_eq!(parts.count(), 0);
}

#[test]
fn a_second_run_over_the_same_folder_needs_resume() {
    let emu = start(Faults::default(), secret_auth("app", SECRET), 0.2);
    let tmp = Tmp::new("collect-twice");
    let t = tenant(&emu, 2);
    run_ok(collect_cmd(
        &emu,
        &tmp.0,
        &["--tenant", &t, "--what", "audits"],
    ));
    let o = collect_cmd(&emu, &tmp.0, &["--tenant", &t, "--what", "audits"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resume"));
}

#[test]
fn windows_split_at_the_result_cap_and_the_audit_log_query_api_collects_older_history() {
    let emu = start(
        Faults {
            result_cap: 40,
            ..Faults::default()
        },
        secret_auth("app", SECRET),
        3.0,
    );
    let tmp = Tmp::new("collect-cap");
    let t = tenant(&emu, 0);
    let args = ["--tenant", &t, "--result-cap", "40", "--ual-api", "query"];
    let args = [&args[..], &["--what", "signins,ual"]].concat();
    run_ok(collect_cmd(&emu, &tmp.0, &args));
    let c = assert_complete(&emu, &tmp.0, &t);
    let q = c["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "ual/auditLogQuery")
        .unwrap();
    assert!(q["records"].as_u64().unwrap() > 40, "{q:#}");
    let splits: u64 = c["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["splits"].as_u64().unwrap())
        .sum();
    assert!(splits >= 2, "{c:#}");
    // Without the cap known, the truncated windows are not noticed: fewer records than served.
    let tmp2 = Tmp::new("collect-cap-unknown");
    run_ok(collect_cmd(
        &emu,
        &tmp2.0,
        &[&args[..2], &["--what", "ual", "--ual-api", "query"]].concat(),
    ));
    let c2 = collection(&tmp2.0.join(&t));
    assert!(c2["records"].as_u64() < q["records"].as_u64(), "{c2:#}");
}

#[test]
fn audit_reads_the_collected_configuration_of_a_partner_and_its_gdap_customers() {
    let emu = start(Faults::default(), secret_auth("app", SECRET), 0.2);
    let tmp = Tmp::new("collect-partner");
    let partner = tenant(&emu, 0);
    let args = [
        "--partner",
        &partner,
        "--what",
        "graph-config,audits",
        "--concurrency",
        "4",
    ];
    let o = run_ok(collect_cmd(&emu, &tmp.0, &args));
    let customers = emu.data().tenants[0].customers.len();
    assert!(customers >= 2);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("{} tenants", customers + 1)), "{out}");
    for t in
        emu.data().tenants.iter().filter(|x| {
            x.id == partner || emu.data().tenants[0].customers.iter().any(|c| c.0 == x.id)
        })
    {
        assert_complete(&emu, &tmp.0, &t.id);
    }
    let a = bin()
        .args(["audit", "--format", "json"])
        .arg(tmp.0.join(&partner).join("config"))
        .output()
        .unwrap();
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let text = String::from_utf8_lossy(&a.stdout);
    let v: Value = serde_json::from_str(&text).unwrap();
    let body = v.to_string();
    assert!(body.contains(&partner), "the tenant is named");
    for (id, _) in &emu.data().tenants[0].customers {
        assert!(
            body.contains(id),
            "GDAP customer {id} not among the partner's doors"
        );
    }
}

#[test]
fn certificate_credentials_from_a_yaml_file_sign_the_client_assertion() {
    let tmp = Tmp::new("collect-cert");
    let pem = tmp.0.join("app.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=tenantwatch-test",
        ])
        .arg("-keyout")
        .arg(tmp.0.join("key.pem"))
        .arg("-out")
        .arg(tmp.0.join("cert.pem"))
        .output();
    let Ok(made) = made else {
        eprintln!("no openssl: certificate test skipped");
        return;
    };
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut both = std::fs::read(tmp.0.join("key.pem")).unwrap();
    both.extend(std::fs::read(tmp.0.join("cert.pem")).unwrap());
    std::fs::write(&pem, both).unwrap();
    let der = Command::new("openssl")
        .args(["rsa", "-RSAPublicKey_out", "-outform", "DER", "-in"])
        .arg(tmp.0.join("key.pem"))
        .output()
        .unwrap();
    let fp = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(tmp.0.join("cert.pem"))
        .output()
        .unwrap();
    let fp = String::from_utf8_lossy(&fp.stdout);
    let hex = fp.trim().rsplit('=').next().unwrap().replace(':', "");
    let sha1: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert_eq!(sha1.len(), 20, "{fp}");
    let x5t = b64url(&sha1);
    let expect = Expect {
        client_id: "cert-app".into(),
        secret: None,
        public_key: Some((der.stdout, x5t)),
        lifetime: Duration::from_secs(3600),
    };
    let emu = start(Faults::default(), expect, 0.2);
    let t = tenant(&emu, 1);
    let creds = tmp.0.join("creds.yaml");
    std::fs::write(
        &creds,
        format!("client_id: cert-app\ncertificate: {}\n", pem.display()),
    )
    .unwrap();
    let out = tmp.0.join("out");
    let mut c = collect_cmd(&emu, &out, &["--tenant", &t, "--what", "audits"]);
    c.arg("--credentials").arg(&creds);
    run_ok(c);
    assert_complete(&emu, &out, &t);
    // The wrong key is refused, and says so without printing any key material.
    let other = tmp.0.join("other.pem");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=x",
        ])
        .arg("-keyout")
        .arg(&other)
        .arg("-out")
        .arg(tmp.0.join("other-cert.pem"))
        .output()
        .unwrap();
    assert!(made.status.success());
    let mut both = std::fs::read(&other).unwrap();
    both.extend(std::fs::read(tmp.0.join("other-cert.pem")).unwrap());
    std::fs::write(&other, both).unwrap();
    std::fs::write(
        &creds,
        format!("client_id: cert-app\ncertificate: {}\n", other.display()),
    )
    .unwrap();
    let mut c = collect_cmd(
        &emu,
        &tmp.0.join("out2"),
        &["--tenant", &t, "--what", "audits"],
    );
    c.arg("--credentials").arg(&creds);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("PRIVATE") && !err.contains("MII"), "{err}");
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn investigate_reports_a_tenant_whose_collection_is_incomplete() {
    let emu = start(Faults::default(), secret_auth("app", SECRET), 0.5);
    let tmp = Tmp::new("collect-investigate");
    let logs = tmp.0.join("logs");
    let (good, bad) = (tenant(&emu, 1), tenant(&emu, 2));
    run_ok(collect_cmd(&emu, &logs, &["--tenant", &good]));
    let o = collect_cmd(&emu, &logs, &["--tenant", &bad])
        .env("TENANTWATCH_CLIENT_SECRET", "not-the-secret")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("INCOMPLETE {bad}")));
    let v = bin()
        .args(["investigate", "--format", "json", "--out"])
        .arg(tmp.0.join("case"))
        .arg(&logs)
        .output()
        .unwrap();
    let verdict: Value = serde_json::from_slice(&v.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&v.stderr)));
    let unread = verdict["files_not_fully_read"].as_array().unwrap();
    let incomplete: Vec<&Value> = unread
        .iter()
        .filter(|f| f["status"] == "incomplete collection")
        .collect();
    assert_eq!(incomplete.len(), 1, "{unread:#?}");
    assert!(incomplete[0]["path"].as_str().unwrap().contains(&bad));
    assert!(verdict["actions"][0].as_str().unwrap().contains(&bad));
}

#[test]
fn gzip_output_reads_alike_and_resume_keeps_dropping_blob_duplicates() {
    let emu = start(
        Faults {
            duplicate_blobs: true,
            ..Faults::default()
        },
        secret_auth("app", SECRET),
        1.0,
    );
    let tmp = Tmp::new("collect-gzip");
    let t = tenant(&emu, 0);
    let base = [
        "--tenant",
        &t,
        "--gzip",
        "--what",
        "ual",
        "--window-hours",
        "6",
    ];
    run_ok(collect_cmd(&emu, &tmp.0, &base));
    let c = assert_complete(&emu, &tmp.0, &t);
    // A resumed run over finished windows reads their ids back and collects nothing twice.
    let ck = tmp.0.join(&t).join("checkpoint.jsonl");
    let text = std::fs::read_to_string(&ck).unwrap();
    // Every second window is forgotten: each is collected again, beside finished neighbours.
    let kept: Vec<&str> = text.lines().step_by(2).collect();
    std::fs::write(&ck, kept.join("\n")).unwrap();
    run_ok(collect_cmd(
        &emu,
        &tmp.0,
        &[&base[..], &["--resume"]].concat(),
    ));
    let c2 = assert_complete(&emu, &tmp.0, &t);
    assert_eq!(c["records"], c2["records"]);
    let gz = all_files(&tmp.0.join(&t))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .count();
    assert!(gz >= 16, "{gz} gzip files");
    let ing = bin()
        .args(["ingest", "--stats", "--format", "json"])
        .arg(tmp.0.join(&t))
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&ing.stdout).unwrap();
    assert_eq!(
        r["collections"][0]["read"], c2["records"],
        "{:#}",
        r["collections"]
    );
}

#[test]
fn progress_always_draws_the_line_on_standard_error_and_erases_it() {
    let emu = start(
        Faults {
            slow_every: 1,
            slow_ms: 40,
            ..Faults::default()
        },
        secret_auth("app", SECRET),
        0.3,
    );
    let tmp = Tmp::new("collect-progress");
    let t = tenant(&emu, 1);
    let args = [
        "--tenant",
        &t,
        "--what",
        "signins",
        "--progress",
        "always",
        "--concurrency",
        "1",
    ];
    let o = run_ok(collect_cmd(&emu, &tmp.0, &args));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("\rcollect ") && err.contains("signins/"),
        "{err:?}"
    );
    assert!(err.ends_with("\r\x1b[K"), "{err:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("complete   ") && !out.contains('\r'),
        "{out:?}"
    );
    let quiet = run_ok(collect_cmd(
        &emu,
        &tmp.0.join("q"),
        &[&args[..4], &["--progress", "never"]].concat(),
    ));
    assert!(quiet.stderr.is_empty());
}
