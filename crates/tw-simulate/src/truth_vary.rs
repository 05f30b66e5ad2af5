//! The part of `truth.json` only varied worlds have (`simulate --vary` or any variation option):
//! the variations chosen, every stolen account, the decoy tenants where an owner kept working
//! honestly, the benign look-alike entities (mass-reading services, consenting admins), where the
//! attacker came through the reseller's VPN, when each tenant's logs start, and the tenant map
//! written beside the logs.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Variations;
use crate::truth::ser_time;
use crate::world::World;

/// A decoy tenant: a stolen account's owner works there honestly during the attack.
#[derive(Debug, Clone, Serialize)]
pub struct Decoy {
    /// Tenant id.
    pub tenant_id: String,
    /// The account (UPN).
    pub account: String,
}

/// A benign service reading many mailboxes.
#[derive(Debug, Clone, Serialize)]
pub struct MassReaderInfo {
    /// Display name.
    pub name: String,
    /// Application id.
    pub app_id: String,
    /// Tenants it reads mail in.
    pub tenants: Vec<String>,
    /// Its provider's address pool.
    pub addresses: Vec<String>,
}

/// A tenant's own admin consenting to a mail-settings application.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentInfo {
    /// Tenant id.
    pub tenant_id: String,
    /// The admin (UPN).
    pub admin: String,
    /// Application name.
    pub app: String,
    /// Application id.
    pub app_id: String,
    /// Permission granted.
    pub permission: &'static str,
    /// The application signed in to the tenant before the grant (else it arrives with it).
    pub app_seen_before: bool,
}

/// Benign entities that look like the attack.
#[derive(Debug, Clone, Serialize)]
pub struct Benign {
    /// Mass-reading services.
    pub mass_readers: Vec<MassReaderInfo>,
    /// Admin consents to high-privilege applications.
    pub consenting_admins: Vec<ConsentInfo>,
    /// Addresses honest identities share with the attacker (the reseller's VPN egress).
    pub shared_addresses: Vec<String>,
}

/// A file whose records carry no tenant id, and what places them in their tenant.
#[derive(Debug, Clone, Serialize)]
pub struct TenantlessFile {
    /// File, relative to `logs/` (as in `files`).
    pub file: String,
    /// The tenant its records belong to.
    pub tenant_id: String,
    /// `folder`: another file of the same folder names the tenant; `map`: only the tenant map
    /// does (without a map the records belong to no known tenant).
    pub placed_by: &'static str,
}

/// What a varied world adds to `truth.json`.
#[derive(Debug, Clone, Serialize)]
pub struct VariedTruth {
    /// The variations of this world.
    pub variations: Variations,
    /// Every stolen account (UPNs; the first is `partner_account`).
    pub stolen_accounts: Vec<String>,
    /// The stolen account used in each attacked tenant.
    pub account_per_tenant: BTreeMap<String, String>,
    /// Tenants where the attacker came through the reseller's VPN egress.
    pub attacker_via_vpn: Vec<String>,
    /// Every decoy tenant (`owner_routine_tenant` first).
    pub decoy_tenants: Vec<Decoy>,
    /// Benign look-alike entities.
    pub benign: Benign,
    /// When each tenant's logs start (RFC 3339), by tenant id.
    pub log_starts: BTreeMap<String, Stamp>,
    /// Every file whose records carry no tenant id (also those never written: see `files`).
    pub tenantless_files: Vec<TenantlessFile>,
    /// The tenant map beside the logs (relative to the case folder), if one was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_map: Option<String>,
}

/// A time, written as RFC 3339.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stamp(#[serde(serialize_with = "ser_time")] pub i64);

/// The tenant map file name, beside `logs/`.
pub const TENANT_MAP: &str = "tenant-map.txt";

fn decoys(w: &World) -> Vec<Decoy> {
    let a = &w.attack;
    let upn = |u: usize| w.partner().users[u].upn.clone();
    let mut out = vec![Decoy {
        tenant_id: w.tenants[a.owner_busy].id.clone(),
        account: upn(w.partner_account),
    }];
    out.extend(a.decoys.iter().map(|&(t, acct)| Decoy {
        tenant_id: w.tenants[t].id.clone(),
        account: upn(acct),
    }));
    out
}

fn benign(w: &World) -> Benign {
    let mass_readers = w
        .mass_readers
        .iter()
        .enumerate()
        .map(|(k, m)| MassReaderInfo {
            name: m.name.clone(),
            app_id: m.app_id.clone(),
            tenants: w
                .tenants
                .iter()
                .filter(|t| t.mass_reader.is_some_and(|(_, s)| s == k))
                .map(|t| t.id.clone())
                .collect(),
            addresses: m.pool.iter().map(|n| n.text()).collect(),
        })
        .collect();
    let consenting_admins = w
        .tenants
        .iter()
        .filter_map(|t| {
            let m = t.mail_settings?;
            let s = t.sps.get(m.sp)?;
            Some(ConsentInfo {
                tenant_id: t.id.clone(),
                admin: t.users.get(m.admin)?.upn.clone(),
                app_seen_before: m.seen_before,
                app: s.name.clone(),
                app_id: s.app_id.clone(),
                permission: s.role.value,
            })
        })
        .collect();
    Benign {
        mass_readers,
        consenting_admins,
        shared_addresses: w.partner_vpn.iter().map(|n| n.text()).collect(),
    }
}

/// The folder of a path (`""` at the top).
fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The tenantless files of every tenant, each with what places it.
fn tenantless_files(w: &World) -> Vec<TenantlessFile> {
    let mut out = Vec::new();
    for t in &w.tenants {
        let (specs, _) = crate::writers::plan(w, t);
        let prefix = crate::generate::truth_prefix(t);
        for s in specs.iter().filter(|s| s.shape.tenantless()) {
            let named = specs
                .iter()
                .any(|o| !o.shape.tenantless() && parent(&o.rel) == parent(&s.rel));
            out.push(TenantlessFile {
                file: format!("{prefix}{}", s.rel),
                tenant_id: t.id.clone(),
                placed_by: if named { "folder" } else { "map" },
            });
        }
    }
    out
}

/// The varied part of the truth of world `w`.
pub fn varied(w: &World) -> VariedTruth {
    let a = &w.attack;
    let upn = |u: usize| w.partner().users[u].upn.clone();
    VariedTruth {
        variations: w.vary.clone(),
        stolen_accounts: a.stolen.iter().map(|&u| upn(u)).collect(),
        account_per_tenant: a
            .strikes
            .iter()
            .map(|s| (w.tenants[s.tenant].id.clone(), upn(s.account)))
            .collect(),
        attacker_via_vpn: a
            .strikes
            .iter()
            .filter(|s| s.via_vpn)
            .map(|s| w.tenants[s.tenant].id.clone())
            .collect(),
        decoy_tenants: decoys(w),
        benign: benign(w),
        log_starts: w
            .tenants
            .iter()
            .map(|t| (t.id.clone(), Stamp(t.log_start)))
            .collect(),
        tenantless_files: tenantless_files(w),
        tenant_map: w.vary.tenant_map.then(|| TENANT_MAP.to_string()),
    }
}

/// The tenant map of world `w`: `logs/<folder> = <tenant id> <name>` per tenant.
pub fn tenant_map(w: &World) -> String {
    let mut out = String::from("# folder = tenant-id name\n");
    for t in &w.tenants {
        let folder = if t.profile.zipped {
            format!("{}.zip", t.folder())
        } else {
            t.folder()
        };
        out.push_str(&format!("logs/{folder} = {} {}\n", t.id, t.name));
    }
    out
}
