//! Helpers shared by the command-line tests: the binary, a temporary folder removed at the end,
//! a simulated world with its truth (the accuracy script's worlds too), commands run in a world's
//! folder, and the files under a folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The `tenantwatch` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tenantwatch"))
}

/// A fresh temporary folder (`tw-cli-TAG-PID`), removed when dropped.
pub struct Tmp(pub PathBuf);

impl Tmp {
    pub fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("tw-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `tenantwatch simulate --out OUT ARGS...` (checked to succeed); returns its `truth.json`.
pub fn simulate_world(out: &Path, args: &[&str]) -> Value {
    let o = bin()
        .arg("simulate")
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap()
}

/// The world `scripts/eval-accuracy.sh` builds for `seed` (`--vary SEED`, its tenant counts, ten
/// days, a small background), written to `out`; its truth.
pub fn eval_world(out: &Path, seed: u64) -> Value {
    let (t, c, s) = (
        (24 + seed % 7).to_string(),
        (7 + seed % 3).to_string(),
        seed.to_string(),
    );
    let args = [
        "--tenants",
        &t,
        "--compromised",
        &c,
        "--days",
        "10",
        "--scale",
        "0.05",
    ];
    simulate_world(out, &[&args[..], &["--vary", &s]].concat())
}

/// `tenantwatch SUBCOMMAND logs [--tenant-map tenant-map.txt]` run in the world folder `world`,
/// as the simulator writes it (the map names folders relative to that folder).
pub fn in_world(world: &Path, subcommand: &str) -> Command {
    let mut cmd = bin();
    cmd.current_dir(world).args([subcommand, "logs"]);
    if world.join("tenant-map.txt").exists() {
        cmd.args(["--tenant-map", "tenant-map.txt"]);
    }
    cmd
}

/// Every file under `dir`, relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}
