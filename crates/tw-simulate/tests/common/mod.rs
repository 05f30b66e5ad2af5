//! Helpers shared by the simulator's tests: temporary folders, hashing, reading truth, and
//! reading a case back with tw-ingest.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tw_simulate::{SimulateOptions, simulate};

/// A fresh, empty temporary folder (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "tw-simulate-test-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Small options (fast in debug builds).
pub fn small(seed: u64, scale: f64) -> SimulateOptions {
    SimulateOptions {
        tenants: 5,
        compromised: 3,
        days: 4,
        seed,
        scale,
        ..SimulateOptions::default()
    }
}

/// Runs the simulator into `dir/name`.
pub fn run(dir: &Path, name: &str, opts: &SimulateOptions) -> PathBuf {
    let out = dir.join(name);
    simulate(opts, &out).unwrap();
    out
}

/// FNV-1a over bytes (enough to tell files apart in tests).
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Relative path → (length, hash) of every file under `root`.
pub fn hashes(root: &Path) -> BTreeMap<String, (usize, u64)> {
    fn walk(d: &Path, root: &Path, out: &mut BTreeMap<String, (usize, u64)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let b = std::fs::read(&p).unwrap();
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, (b.len(), fnv(&b)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// `truth.json` of a case.
pub fn truth(case: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(case.join("truth.json")).unwrap()).unwrap()
}

/// One event as the tests look at it.
#[derive(Debug, Clone)]
pub struct Ev {
    pub log: String,
    pub format: String,
    pub operation: Option<String>,
    pub operation_raw: Option<String>,
    pub tenant: Option<String>,
    pub user: Option<String>,
    pub ip: Option<String>,
    pub home_tenant: Option<String>,
    pub sp: Option<String>,
    pub app: Option<String>,
    pub code: Option<String>,
    pub time: Option<i64>,
    pub raw: Value,
}

/// Reads a case's `logs/` with tw-ingest: (report, events by (path relative to logs/, record)).
pub fn ingest(case: &Path) -> (tw_ingest::IngestReport, BTreeMap<(String, u64), Ev>) {
    let logs = case.join("logs");
    let prefix = format!("{}/", logs.to_string_lossy());
    let mut events = BTreeMap::new();
    let report = tw_ingest::ingest(
        std::slice::from_ref(&logs),
        &tw_ingest::IngestOptions::default(),
        |ev, out: &mut Vec<((String, u64), Ev)>| {
            let c = &ev.canonical;
            let file = ev.provenance.file.to_string();
            let rel = file.strip_prefix(&prefix).unwrap_or(&file).to_string();
            out.push((
                (rel, ev.provenance.record),
                Ev {
                    log: ev.kind.as_str().to_string(),
                    format: ev.format.as_str().to_string(),
                    operation: c.operation.clone(),
                    operation_raw: c.operation_raw.clone(),
                    tenant: c.tenant_id.clone(),
                    user: c.user.clone(),
                    ip: c.ip.clone(),
                    home_tenant: c.home_tenant_id.clone(),
                    sp: c.service_principal_id.clone(),
                    app: c.app_id.clone(),
                    code: c.result.as_ref().and_then(|r| r.code.clone()),
                    time: c.time.map(|t| t.millis()),
                    raw: ev.doc().clone(),
                },
            ));
        },
        |(k, v)| {
            events.insert(k, v);
        },
    );
    (report, events)
}
