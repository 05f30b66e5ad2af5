//! Variations of the world, each a `simulate` option and all drawn together by `--vary SEED`:
//! how the attacker uses its infrastructure, how many accounts it stole, which benign services and
//! admins look like it, and how the exports were made and named. Without any variation the world
//! is the classic one, byte for byte; the choice made is written into `truth.json`.
//!
//! Every draw here comes from its own stream of the seed, after the classic world is built, so
//! turning a variation on never moves the classic world's own draws.

use serde::Serialize;

use crate::names::{self, AppRole};
use crate::rng::Rng;
use crate::world::{
    AuditFormat, DAY, HOUR, Layout, MailSettings, MassReader, Net, SigninFormat, Sp, SpKind,
    UalFormat, World, cloud_ips, guid, net_in,
};

/// The variations of a simulated world (all off by default: the classic world).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variations {
    /// The backdoored applications sign in and read mail from the same attacker addresses the
    /// stolen account uses.
    pub attacker_reuse: bool,
    /// The attacker comes through the reseller's VPN egress address in some tenants; honest
    /// reseller staff use that address before and after.
    pub partner_vpn: bool,
    /// Accounts of the reseller stolen by the same attacker (1: the classic single account).
    pub stolen_accounts: usize,
    /// Backup, archiving and e-discovery services reading 3–7 mailboxes at a time from a rotating
    /// pool of one cloud provider's addresses, from the first hour of the logs.
    pub mass_readers: bool,
    /// A tenant's own admin consents, from the office, to a mail-settings application with
    /// `Mail.ReadWrite` or `full_access_as_app`.
    pub admin_consents: bool,
    /// Each tenant's logs start at a different moment, in the middle of routine activity.
    pub mid_routine_start: bool,
    /// Sign-ins and directory audits exported twice, in two formats (besides every directory
    /// change being in both the directory audit and the unified audit log, as always).
    pub dual_exports: bool,
    /// Tenant folders named any way: company names with dates, Extractor-Suite `Output/` layouts,
    /// bare tenant ids, a `graph` folder.
    pub folder_names: bool,
    /// Directory audits exported through Graph (records without a tenant id) in a folder of
    /// their own, so no other record of the folder names the tenant.
    pub missing_tenant_ids: bool,
    /// A tenant map (`folder = tenant-id name` lines) written beside the logs.
    pub tenant_map: bool,
    /// Stolen accounts' owners keep working honestly in decoy tenants, with varying habits.
    pub owner_habits: bool,
    /// In one or two attacked tenants the intruder also acts as one of the tenant's own
    /// administrators, with a session token of theirs replayed from the intruder's host (no
    /// sign-in of the administrator from there is in the logs): it grants another application
    /// of the tenant a mail permission from the intruder's address.
    pub own_admin_token: bool,
    /// The seed the variations were drawn from (`--vary`), if they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drawn_from: Option<u64>,
}

impl Default for Variations {
    fn default() -> Self {
        Variations {
            attacker_reuse: false,
            partner_vpn: false,
            stolen_accounts: 1,
            mass_readers: false,
            admin_consents: false,
            mid_routine_start: false,
            dual_exports: false,
            folder_names: false,
            missing_tenant_ids: false,
            tenant_map: false,
            owner_habits: false,
            own_admin_token: false,
            drawn_from: None,
        }
    }
}

impl Variations {
    /// Whether any variation is on (else the world is the classic one).
    pub fn any(&self) -> bool {
        *self != Variations::default()
    }

    /// Draws every variation at random from `seed` (the same seed, the same choice).
    pub fn draw(seed: u64) -> Variations {
        let mut r = Rng::derive(seed, &[0x7A41]);
        Variations {
            attacker_reuse: r.chance(0.7),
            partner_vpn: r.chance(0.4),
            stolen_accounts: if r.chance(0.5) {
                1
            } else {
                r.between(2, 3) as usize
            },
            mass_readers: r.chance(0.7),
            admin_consents: r.chance(0.7),
            mid_routine_start: r.chance(0.6),
            dual_exports: r.chance(0.5),
            folder_names: r.chance(0.6),
            missing_tenant_ids: r.chance(0.4),
            tenant_map: r.chance(0.5),
            owner_habits: r.chance(0.6),
            own_admin_token: r.chance(0.5),
            drawn_from: Some(seed),
        }
    }
}

/// Applies `w.vary` to a classic world: `order` are the attacked tenants in attack order,
/// `untouched` the partner customers the attacker never touches.
pub(crate) fn apply(w: &mut World, order: &[usize], untouched: &[usize]) {
    let mut r = Rng::derive(w.seed, &[0x7A42]);
    let v = w.vary.clone();
    if v.stolen_accounts > 1 {
        stolen_accounts(w, &mut r, v.stolen_accounts);
    }
    if v.partner_vpn {
        partner_vpn(w, &mut r);
    }
    if v.mass_readers {
        mass_readers(w, &mut r, order, untouched);
    }
    if v.admin_consents {
        admin_consents(w, &mut r, order, untouched);
    }
    if v.mid_routine_start {
        mid_routine_start(w, &mut r);
    }
    if v.dual_exports {
        dual_exports(w, &mut r, order);
    }
    if v.missing_tenant_ids {
        missing_tenant_ids(w, &mut r, order);
    }
    if v.folder_names {
        folder_names(w, &mut r);
    }
    if v.owner_habits {
        owner_habits(w, &mut r, untouched);
    }
    if v.own_admin_token {
        own_admin_tokens(w, &mut Rng::derive(w.seed, &[0x7A43]));
    }
}

/// One or two strikes that reach mail get an own administrator whose token the intruder replays,
/// and a second line-of-business application of the tenant it grants a mail permission to.
fn own_admin_tokens(w: &mut World, r: &mut Rng) {
    let open: Vec<usize> = (0..w.attack.strikes.len())
        .filter(|&i| !w.attack.strikes[i].failed)
        .collect();
    let n = r.between(1, 2) as usize;
    for k in 0..n.min(open.len()) {
        let i = open[(k * open.len()) / n.max(1)];
        let s = &w.attack.strikes[i];
        let tn = &w.tenants[s.tenant];
        let admins: Vec<usize> = tn.admins().collect();
        let apps: Vec<usize> = (0..tn.sps.len())
            .filter(|&p| p != s.sp && tn.sps[p].kind == SpKind::LineOfBusiness)
            .collect();
        if admins.is_empty() || apps.is_empty() {
            continue;
        }
        let pick = (admins[r.index(admins.len())], apps[r.index(apps.len())]);
        w.attack.strikes[i].hijacked_admin = Some(pick);
    }
}

fn stolen_accounts(w: &mut World, r: &mut Rng, n: usize) {
    let first = w.partner_account;
    let mut others: Vec<usize> = w
        .partner_staff
        .iter()
        .copied()
        .filter(|&s| s != first)
        .collect();
    r.shuffle(&mut others);
    let mut stolen = vec![first];
    stolen.extend(others.into_iter().take(n - 1));
    for (j, s) in w.attack.strikes.iter_mut().enumerate() {
        s.account = stolen[j % stolen.len()];
    }
    w.attack.stolen = stolen;
}

fn partner_vpn(w: &mut World, r: &mut Rng) {
    let place = w.partner().place;
    w.partner_vpn = Some(net_in(r, names::BENIGN_OCTETS, place));
    let n = w.attack.strikes.len();
    let forced = r.index(n.max(1));
    for (j, s) in w.attack.strikes.iter_mut().enumerate() {
        s.via_vpn = j == forced || r.chance(0.25);
    }
}

/// Customers that get a look-alike: each with probability `p`, always the first attacked and the
/// first untouched one.
fn some_customers(
    w: &World,
    r: &mut Rng,
    p: f64,
    order: &[usize],
    untouched: &[usize],
) -> Vec<usize> {
    (1..w.tenants.len())
        .filter(|t| order.first() == Some(t) || untouched.first() == Some(t) || r.chance(p))
        .collect()
}

const MASS_READERS: [&str; 6] = [
    "Archivum Mail Archiving",
    "Lexhold eDiscovery",
    "Backvault 365 Backup",
    "Retentia Journal Archive",
    "Skyvault Cloud Backup",
    "Caseframe eDiscovery",
];

/// A provider pool: several /24s of one /16 (one network, one AS).
fn provider_pool(r: &mut Rng) -> Vec<Net> {
    let place = r.pick(names::CLOUD_PLACES);
    let a = *r.pick(names::CLOUD_OCTETS);
    let b = r.between(64, 250) as u8;
    let nets = r.between(3, 5);
    let mut pool = Vec::new();
    for _ in 0..nets {
        let c = r.between(0, 254) as u8;
        for _ in 0..r.between(4, 8) {
            pool.push(Net {
                ip: [a, b, c, r.between(4, 250) as u8],
                place,
            });
        }
    }
    pool
}

fn mass_readers(w: &mut World, r: &mut Rng, order: &[usize], untouched: &[usize]) {
    let mut names_left = MASS_READERS.to_vec();
    r.shuffle(&mut names_left);
    let services = r.between(1, 2) as usize;
    for name in names_left.iter().take(services) {
        w.mass_readers.push(MassReader {
            name: (*name).to_string(),
            app_id: guid(r),
            pool: provider_pool(r),
        });
    }
    for t in some_customers(w, r, 0.4, order, untouched) {
        let k = r.index(w.mass_readers.len());
        let m = &w.mass_readers[k];
        let role: AppRole = if r.chance(0.5) {
            names::FULL_ACCESS_AS_APP
        } else {
            names::MAIL_READ
        };
        let sp = Sp {
            name: m.name.clone(),
            app_id: m.app_id.clone(),
            object_id: guid(r),
            app_object_id: None,
            key_id: guid(r),
            ips: m.pool.iter().take(3).copied().collect(),
            kind: SpKind::MassReader,
            role,
        };
        let tn = &mut w.tenants[t];
        tn.mass_reader = Some((tn.sps.len(), k));
        tn.sps.push(sp);
    }
}

fn admin_consents(w: &mut World, r: &mut Rng, order: &[usize], untouched: &[usize]) {
    let name = format!(
        "{} Email Signatures",
        ["Signetic", "Inkline", "Signa365", "Footnote"][r.index(4)]
    );
    w.mail_settings_app = (name.clone(), guid(r));
    for t in some_customers(w, r, 0.35, order, untouched) {
        let role = if r.chance(0.5) {
            names::MAIL_READWRITE
        } else {
            names::FULL_ACCESS_AS_APP
        };
        let sp = Sp {
            name: name.clone(),
            app_id: w.mail_settings_app.1.clone(),
            object_id: guid(r),
            app_object_id: None,
            key_id: guid(r),
            ips: cloud_ips(r, 2),
            kind: SpKind::MailSettings,
            role,
        };
        let tn = &mut w.tenants[t];
        let admins: Vec<usize> = tn.admins().collect();
        let admin = admins
            .get(r.index(admins.len().max(1)))
            .copied()
            .unwrap_or(0);
        let seen_before = r.chance(0.5);
        tn.mail_settings = Some(MailSettings {
            sp: tn.sps.len(),
            admin,
            seen_before,
        });
        tn.sps.push(sp);
    }
}

fn mid_routine_start(w: &mut World, r: &mut Rng) {
    let room = ((w.attack.start - w.start) / HOUR - 6).clamp(1, 60) as u64;
    for tn in &mut w.tenants {
        tn.log_start = w.start + r.between(1, room) as i64 * HOUR + r.below(HOUR as u64) as i64;
    }
}

fn other_signin(f: SigninFormat) -> SigninFormat {
    match f {
        SigninFormat::GraphBeta => SigninFormat::AzureMonitorStorage,
        _ => SigninFormat::GraphBeta,
    }
}

fn other_audit(f: AuditFormat) -> AuditFormat {
    match f {
        AuditFormat::GraphJson => AuditFormat::LogAnalyticsCsv,
        _ => AuditFormat::GraphJson,
    }
}

fn dual_exports(w: &mut World, r: &mut Rng, order: &[usize]) {
    for (t, tn) in w.tenants.iter_mut().enumerate().skip(1) {
        if order.first() == Some(&t) || r.chance(0.5) {
            let p = &mut tn.profile;
            p.signin2 = Some(other_signin(p.signin));
            p.audit2 = Some(other_audit(p.audit));
        }
    }
}

/// Exports without tenant ids for some tenants (always the second attacked one): the directory
/// audit through Graph or a Log Analytics projection without the tenant columns, alone in a folder
/// of its own; and, from a stream of their own (so the other variations keep their draws),
/// sign-ins and the unified audit log as Log Analytics projections without the tenant columns.
/// With a tenant map they replace the tenant's exports; without one they come beside them, in the
/// same folder, where the other exports name the tenant.
fn missing_tenant_ids(w: &mut World, r: &mut Rng, order: &[usize]) {
    let mut r2 = Rng::derive(w.seed, &[0x7A43]);
    let mapped = w.vary.tenant_map;
    for (t, tn) in w.tenants.iter_mut().enumerate().skip(1) {
        let forced = order.get(1) == Some(&t);
        if !(forced || r.chance(0.4)) {
            continue;
        }
        let p = &mut tn.profile;
        p.audit = if forced || r2.chance(0.5) {
            AuditFormat::GraphJson
        } else {
            AuditFormat::LogAnalyticsTenantless
        };
        if p.audit2 == Some(AuditFormat::GraphJson) {
            p.audit2 = Some(AuditFormat::LogAnalyticsCsv);
        }
        p.audit_alone = true;
        if forced || r2.chance(0.4) {
            if mapped {
                p.signin = SigninFormat::LogAnalyticsTenantless;
            } else {
                p.signin2 = Some(SigninFormat::LogAnalyticsTenantless);
            }
        }
        if forced || r2.chance(0.3) {
            if mapped {
                p.ual = UalFormat::OfficeActivityTenantless;
            } else {
                p.ual2 = Some(UalFormat::OfficeActivityTenantless);
            }
        }
    }
}

fn folder_names(w: &mut World, r: &mut Rng) {
    let date = {
        let mut s = crate::writers::json::time_string(
            w.end - DAY + r.below(2) as i64 * DAY,
            crate::writers::json::TimeStyle::Seconds,
        );
        s.truncate(10);
        s
    };
    let mut numbers: Vec<usize> = (1..=w.tenants.len()).collect();
    r.shuffle(&mut numbers);
    for (i, tn) in w.tenants.iter_mut().enumerate() {
        let k = numbers[i];
        tn.layout = match r.below(5) {
            0 => Layout::Classic,
            1 => Layout::CompanyDated(format!("{} - logs {date}", tn.name)),
            2 => Layout::ExtractorSuite(format!("case-{k:03}")),
            3 => Layout::Guid,
            _ => Layout::Graph(format!("collection {k:03}")),
        };
    }
}

fn owner_habits(w: &mut World, r: &mut Rng, untouched: &[usize]) {
    let mut free: Vec<usize> = untouched
        .iter()
        .copied()
        .filter(|&t| t != w.attack.owner_busy)
        .collect();
    r.shuffle(&mut free);
    let stolen = w.attack.stolen.clone();
    for (i, &acct) in stolen.iter().enumerate() {
        let n = if i == 0 { r.below(2) } else { r.between(1, 2) } as usize;
        for _ in 0..n {
            if let Some(t) = free.pop() {
                w.attack.decoys.push((t, acct));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimulateOptions;

    #[test]
    fn draw_is_a_function_of_the_seed_and_always_counts_as_varied() {
        assert!(!Variations::default().any());
        assert_eq!(Variations::draw(9), Variations::draw(9));
        let drawn: Vec<Variations> = (1..40).map(Variations::draw).collect();
        assert!(drawn.iter().all(Variations::any));
        // Over a few seeds every variation is drawn both ways.
        assert!(drawn.iter().any(|v| v.attacker_reuse) && drawn.iter().any(|v| !v.attacker_reuse));
        assert!(drawn.iter().any(|v| v.stolen_accounts > 1));
        assert!(drawn.iter().any(|v| v.stolen_accounts == 1));
        assert!(drawn.iter().any(|v| v.tenant_map) && drawn.iter().any(|v| !v.tenant_map));
    }

    #[test]
    fn applied_variations_keep_the_attack_and_add_look_alikes() {
        let opts = |vary| SimulateOptions {
            tenants: 8,
            compromised: 4,
            days: 6,
            seed: 4,
            scale: 0.0,
            vary,
        };
        let classic = crate::world::build(&opts(Variations::default()));
        let v = Variations {
            attacker_reuse: true,
            partner_vpn: true,
            stolen_accounts: 3,
            mass_readers: true,
            admin_consents: true,
            mid_routine_start: true,
            ..Variations::default()
        };
        let w = crate::world::build(&opts(v));
        // The same attacked tenants in the same order; accounts taken in turn.
        let order = |w: &World| {
            w.attack
                .strikes
                .iter()
                .map(|s| s.tenant)
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&classic), order(&w));
        assert_eq!(w.attack.stolen.len(), 3);
        assert_eq!(w.attack.stolen[0], classic.partner_account);
        let used: Vec<usize> = w.attack.strikes.iter().map(|s| s.account).collect();
        assert_eq!(&used[..3], &w.attack.stolen[..]);
        assert!(w.partner_vpn.is_some() && w.attack.strikes.iter().any(|s| s.via_vpn));
        assert!(w.tenants.iter().any(|t| t.mass_reader.is_some()));
        assert!(w.tenants.iter().any(|t| t.mail_settings.is_some()));
        // Logs start after the period start and before the attack.
        for t in &w.tenants {
            assert!(
                t.log_start > w.start && t.log_start < w.attack.start,
                "{}",
                t.log_start
            );
        }
        assert!(classic.tenants.iter().all(|t| t.log_start == classic.start));
    }
}
