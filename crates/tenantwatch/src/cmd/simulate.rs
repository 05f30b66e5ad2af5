//! `tenantwatch simulate`: writes a realistic multi-tenant breach case (`DIR/logs/`) and its ground
//! truth (`DIR/truth.json`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use tw_simulate::{SimulateOptions, simulate};

/// Arguments of `simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Folder to write the case to (`DIR/logs/`, `DIR/truth.json`); must not hold a case yet.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Customer tenants of the reseller.
    #[arg(long, default_value_t = 40)]
    pub tenants: usize,
    /// Customer tenants the attacker touches.
    #[arg(long, default_value_t = 12)]
    pub compromised: usize,
    /// Days the logs cover.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Seed; the same seed writes the same bytes.
    #[arg(long, default_value_t = 20201214)]
    pub seed: u64,
    /// Multiplier of the benign background volume (0: attack and look-alikes only).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

/// Runs `simulate`; returns the exit status.
pub fn run(a: SimulateArgs) -> Result<u8> {
    let opts = SimulateOptions {
        tenants: a.tenants,
        compromised: a.compromised,
        days: a.days,
        seed: a.seed,
        scale: a.scale,
    };
    let started = Instant::now();
    let s = simulate(&opts, &a.out)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} files, {} records ({} attack records in {} tenants), {:.1} MB in {:.2} s ({:.0} MB/s)\n  logs:  {}\n  truth: {}",
        s.files,
        s.records,
        s.malicious,
        s.compromised_tenants,
        s.bytes as f64 / 1e6,
        secs,
        s.bytes as f64 / 1e6 / secs.max(1e-9),
        s.logs_dir.display(),
        s.truth_path.display()
    );
    Ok(0)
}
