//! `tenantwatch simulate`: writes a realistic multi-tenant breach case (`DIR/logs/`) and its ground
//! truth (`DIR/truth.json`), in the classic world or varied (`--vary SEED`, or one option per
//! variation).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use tw_simulate::{SimulateOptions, Variations, simulate};

/// Arguments of `simulate`.
#[derive(Args, Debug)]
#[command(after_long_help = VARY_HELP)]
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
    /// Seed; the same seed writes the same bytes [default: 20201214, or the --vary seed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Multiplier of the benign background volume (0: attack and look-alikes only).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub scale: f64,
    /// Draw every variation below at random from SEED (recorded in truth.json); also the world's
    /// seed unless --seed is given. Variation options given as well are turned on in any case.
    #[arg(long, value_name = "SEED")]
    pub vary: Option<u64>,
    /// The backdoored applications sign in and read mail from the stolen account's attacker
    /// addresses.
    #[arg(long)]
    pub attacker_reuse: bool,
    /// The attacker comes through the reseller's VPN egress in some tenants; honest reseller staff
    /// use that address too.
    #[arg(long)]
    pub partner_vpn: bool,
    /// Reseller accounts stolen by the same attacker (1..=5).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub stolen_accounts: Option<i64>,
    /// Benign backup, archiving and e-discovery services reading 3–7 mailboxes at a time from a
    /// rotating pool of one cloud provider's addresses, from the first hour of the logs.
    #[arg(long)]
    pub mass_readers: bool,
    /// Tenant admins consent, from the office, to a mail-settings application with
    /// Mail.ReadWrite or full_access_as_app.
    #[arg(long)]
    pub admin_consents: bool,
    /// Each tenant's logs start at a different hour, in the middle of routine activity.
    #[arg(long)]
    pub mid_routine_start: bool,
    /// Sign-ins and directory audits exported twice, in two formats, for some tenants.
    #[arg(long)]
    pub dual_exports: bool,
    /// Tenant folders named any way: "<Company> - logs <date>", Extractor-Suite `Output/`
    /// layouts, bare tenant ids, a `graph` folder.
    #[arg(long)]
    pub folder_names: bool,
    /// Exports without tenant ids for some tenants: directory audits (Graph, or a Log Analytics
    /// query without the tenant columns) in a folder of their own; sign-ins and the unified audit
    /// log as Log Analytics queries without the tenant columns (replacing the tenant's exports
    /// with a tenant map, beside them without one).
    #[arg(long)]
    pub missing_tenant_ids: bool,
    /// Write DIR/tenant-map.txt (`logs/<folder> = <tenant-id> <name>` lines) beside the logs.
    #[arg(long)]
    pub write_tenant_map: bool,
    /// The stolen accounts' owners keep working honestly in the owner's routine tenant and more
    /// decoy tenants, with varying habits (days, office, VPN or home).
    #[arg(long)]
    pub owner_habits: bool,
    /// In one or two attacked tenants the intruder also replays a token of one of the tenant's
    /// own administrators from its addresses and grants another application a mail permission.
    #[arg(long)]
    pub own_admin_token: bool,
}

const VARY_HELP: &str = "\
Variations: without any of them the classic world is written (byte-identical to earlier versions).
`--vary SEED` draws each one at random; the choice is written into truth.json under `variations`,
with every stolen account, decoy tenant, benign look-alike entity and log start. docs/accuracy.md
describes each variation and the real service behaviour it reflects.";

impl SimulateArgs {
    fn variations(&self) -> Result<Variations> {
        let mut v = match self.vary {
            Some(s) => Variations::draw(s),
            None => Variations::default(),
        };
        v.attacker_reuse |= self.attacker_reuse;
        v.partner_vpn |= self.partner_vpn;
        v.mass_readers |= self.mass_readers;
        v.admin_consents |= self.admin_consents;
        v.mid_routine_start |= self.mid_routine_start;
        v.dual_exports |= self.dual_exports;
        v.folder_names |= self.folder_names;
        v.missing_tenant_ids |= self.missing_tenant_ids;
        v.tenant_map |= self.write_tenant_map;
        v.owner_habits |= self.owner_habits;
        v.own_admin_token |= self.own_admin_token;
        if let Some(n) = self.stolen_accounts {
            v.stolen_accounts = usize::try_from(n)
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| anyhow::anyhow!("--stolen-accounts must be 1..=5 (got {n})"))?;
        }
        Ok(v)
    }
}

/// Runs `simulate`; returns the exit status.
pub fn run(a: SimulateArgs) -> Result<u8> {
    let opts = SimulateOptions {
        tenants: a.tenants,
        compromised: a.compromised,
        days: a.days,
        seed: a.seed.or(a.vary).unwrap_or(20201214),
        scale: a.scale,
        vary: a.variations()?,
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
