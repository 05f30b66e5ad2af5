//! # tw-simulate
//!
//! A realistic, deterministic simulator of a trusted-third-party breach across Microsoft 365 /
//! Entra ID tenants: a reseller's delegated-admin account is stolen and used, from new
//! infrastructure, against many of its customers — credentials added to service principals, mail
//! permissions granted, mail read through the application, forwarding rules, a federation change,
//! a privileged role — among benign background that makes false positives (a backup service
//! reading mail, honest partner staff at work, secret rotations, harmless inbox rules).
//!
//! [`simulate`] writes `DIR/logs/` — the case folder a responder receives, in every physical
//! format `tw-ingest` reads (Management Activity API JSON, Purview CSV, Graph and Azure Monitor
//! sign-ins, Graph / Log Analytics / Azure Monitor directory audits, Graph activity logs; with
//! `--missing-tenant-ids` also Log Analytics sign-in, `AuditLogs` and `OfficeActivity` queries
//! without the tenant columns; some gzipped, one tenant zipped) — and `DIR/truth.json`, the ground
//! truth ([`truth`]).
//!
//! The same options give byte-identical output; the benign volume grows linearly with
//! [`SimulateOptions::scale`]; generation is streaming and parallel across tenants.
//!
//! Modules: [`world`] (tenants, people, apps), [`story`] (the attack and look-alikes as abstract
//! activities), [`background`] (scaled noise), [`writers`] (one module per physical format),
//! [`truth`], [`variations`] (`--vary`: the ways a world can differ from the classic one).
//!
//! ```
//! use tw_simulate::{simulate, SimulateOptions};
//!
//! let dir = std::env::temp_dir().join(format!("tw-simulate-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let opts = SimulateOptions { tenants: 4, compromised: 2, days: 4, scale: 0.2, ..Default::default() };
//! let summary = simulate(&opts, &dir).unwrap();
//! assert!(summary.malicious > 0);
//! let truth: serde_json::Value =
//!     serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
//! assert_eq!(truth["compromised_tenants"].as_array().unwrap().len(), 2);
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

pub mod background;
mod generate;
pub mod names;
pub mod rng;
pub mod story;
mod story_vary;
pub mod truth;
pub mod truth_vary;
pub mod variations;
pub mod world;
pub mod writers;

pub use variations::Variations;

use std::fmt;
use std::path::{Path, PathBuf};

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateOptions {
    /// Customer tenants of the reseller (the reseller's own tenant comes on top).
    pub tenants: usize,
    /// Customer tenants the attacker touches.
    pub compromised: usize,
    /// Days the logs cover.
    pub days: u32,
    /// Seed: the same seed gives the same bytes.
    pub seed: u64,
    /// Multiplier of the benign background volume (0: the storyline only).
    pub scale: f64,
    /// Variations of the world (none: the classic world).
    pub vary: Variations,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            tenants: 40,
            compromised: 12,
            days: 14,
            seed: 20201214,
            scale: 1.0,
            vary: Variations::default(),
        }
    }
}

impl SimulateOptions {
    /// Checks the options make a complete storyline.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidOptions(m));
        if !(2..=2000).contains(&self.tenants) {
            return bad(format!("--tenants must be 2..=2000 (got {})", self.tenants));
        }
        if self.compromised < 2 || self.compromised >= self.tenants {
            return bad(format!(
                "--compromised must be at least 2 and less than --tenants (got {} of {}): one \
                 attacked tenant fails to read mail and at least one partner tenant stays untouched",
                self.compromised, self.tenants
            ));
        }
        if !(3..=366).contains(&self.days) {
            return bad(format!("--days must be 3..=366 (got {})", self.days));
        }
        if !(self.scale.is_finite() && (0.0..=100_000.0).contains(&self.scale)) {
            return bad(format!(
                "--scale must be a number in 0..=100000 (got {})",
                self.scale
            ));
        }
        if !(1..=5).contains(&self.vary.stolen_accounts) {
            return bad(format!(
                "--stolen-accounts must be 1..=5 (the reseller has 6 delegated admins; got {})",
                self.vary.stolen_accounts
            ));
        }
        Ok(())
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Log files (archive members counted one by one).
    pub files: u64,
    /// Records in all files.
    pub records: u64,
    /// Attack records.
    pub malicious: u64,
    /// Bytes on disk under `logs/`.
    pub bytes: u64,
    /// Tenants attacked.
    pub compromised_tenants: usize,
    /// `DIR/logs`.
    pub logs_dir: PathBuf,
    /// `DIR/truth.json`.
    pub truth_path: PathBuf,
}

/// Why a simulation failed.
#[derive(Debug)]
pub enum Error {
    /// The options cannot make a complete case.
    InvalidOptions(String),
    /// The output folder already holds a case.
    Exists(PathBuf),
    /// Writing failed.
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// A bug.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidOptions(m) => write!(f, "{m}"),
            Error::Exists(p) => write!(
                f,
                "{} already holds a case (logs/ not empty or truth.json present); choose an empty folder",
                p.display()
            ),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Writes a simulated case under `out_dir`: `out_dir/logs/` and `out_dir/truth.json`.
pub fn simulate(opts: &SimulateOptions, out_dir: &Path) -> Result<Summary, Error> {
    generate::simulate(opts, out_dir)
}
