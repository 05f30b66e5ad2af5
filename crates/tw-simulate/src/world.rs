//! The world the case happens in: the reseller (partner) tenant and its customer tenants, with
//! their people, mailboxes, applications and service principals, network addresses, how each
//! tenant's logs were exported, and who the attacker is and where they strike.
//!
//! Everything is drawn from the seed; nothing here depends on `--scale`.

use crate::SimulateOptions;
use crate::names::{self, AppRole, Place};
use crate::rng::Rng;
use crate::writers::json::guid_string;
use tw_event::days_from_civil;

/// Milliseconds in an hour.
pub const HOUR: i64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY: i64 = 24 * HOUR;

/// A network address and where it geolocates.
#[derive(Debug, Clone, Copy)]
pub struct Net {
    /// IPv4 address.
    pub ip: [u8; 4],
    /// Where it geolocates.
    pub place: &'static Place,
}

impl Net {
    /// The dotted-quad text.
    pub fn text(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.ip[0], self.ip[1], self.ip[2], self.ip[3]
        )
    }

    /// The autonomous system number the address is announced by: one per /16, a fixed function
    /// of the address (the attacker's hosting prefixes and each office or home network keep theirs).
    pub fn asn(&self) -> u32 {
        let k = u32::from(self.ip[0]) << 8 | u32::from(self.ip[1]);
        2_000 + (k.wrapping_mul(2_654_435_761) >> 12) % 60_000
    }

    /// Appends the dotted-quad text.
    pub fn write(&self, b: &mut Vec<u8>) {
        for (i, o) in self.ip.iter().enumerate() {
            if i > 0 {
                b.push(b'.');
            }
            crate::writers::json::uint(b, u64::from(*o));
        }
    }
}

/// A person with a mailbox.
#[derive(Debug, Clone)]
pub struct User {
    /// User principal name (also the primary SMTP address).
    pub upn: String,
    /// Display name.
    pub display: String,
    /// Object id.
    pub id: String,
    /// Passport unique id as the unified audit log shows it (`UserKey`).
    pub puid: String,
    /// Security identifier of the mailbox owner.
    pub sid: String,
    /// Exchange mailbox GUID.
    pub mailbox_guid: String,
    /// Home network.
    pub home: Net,
    /// Usual device (index into [`names::DEVICES`]).
    pub device: usize,
    /// An administrator of the tenant.
    pub admin: bool,
}

/// What an application is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpKind {
    /// A line-of-business integration.
    LineOfBusiness,
    /// The third-party backup service that reads every mailbox.
    Backup,
    /// A backup, archiving or e-discovery service reading a few mailboxes at a time from a
    /// rotating pool of its cloud provider's addresses (`--mass-readers`).
    MassReader,
    /// A mail-settings application (signatures, mail flow) the tenant's own admin consented to
    /// with a high mail permission (`--admin-consents`).
    MailSettings,
}

/// An application's service principal in one tenant.
#[derive(Debug, Clone)]
pub struct Sp {
    /// Display name.
    pub name: String,
    /// Application (client) id.
    pub app_id: String,
    /// Service principal object id in this tenant.
    pub object_id: String,
    /// Application object id, when the app is registered in this tenant.
    pub app_object_id: Option<String>,
    /// Key id of the credential it normally authenticates with.
    pub key_id: String,
    /// Where it normally connects from.
    pub ips: Vec<Net>,
    /// What it is.
    pub kind: SpKind,
    /// The application permission it holds.
    pub role: AppRole,
}

/// How the unified audit log of a tenant was exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UalFormat {
    /// Management Activity API content as JSON lines.
    MgmtApiLines,
    /// Management Activity API content as one PowerShell-formatted JSON array.
    MgmtApiArray,
    /// Purview audit search CSV export (current header).
    PurviewCsv,
    /// Classic audit log search CSV export (`CreationDate,UserIds,Operations,AuditData`).
    PurviewCsvClassic,
    /// A Log Analytics query over `OfficeActivity` exported to CSV, its projection without the
    /// tenant columns (`--missing-tenant-ids`).
    OfficeActivityTenantless,
}

/// How the sign-in logs of a tenant were exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninFormat {
    /// Graph beta `auditLogs/signIns` pages, one file per sign-in type.
    GraphBeta,
    /// Azure Monitor diagnostic settings to a storage account (JSON lines, one file per category).
    AzureMonitorStorage,
    /// Azure Monitor diagnostic settings to an event hub (`{"records":[...]}`, categories mixed).
    AzureMonitorEventHub,
    /// Log Analytics queries over `SigninLogs`, `AADNonInteractiveUserSignInLogs` and
    /// `AADServicePrincipalSignInLogs` exported to CSV, their projection without the tenant
    /// columns (`--missing-tenant-ids`).
    LogAnalyticsTenantless,
}

/// How the directory audit log of a tenant was exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// Graph `auditLogs/directoryAudits` pages.
    GraphJson,
    /// Log Analytics `AuditLogs` exported to CSV.
    LogAnalyticsCsv,
    /// Azure Monitor diagnostic settings, `AuditLogs` category (JSON lines).
    AzureMonitor,
    /// A Log Analytics query over `AuditLogs` exported to CSV, its projection without the tenant
    /// columns (`--missing-tenant-ids`).
    LogAnalyticsTenantless,
}

/// The exports a responder received for one tenant.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Unified audit log format.
    pub ual: UalFormat,
    /// The unified audit log exported a second time, beside the first (`--missing-tenant-ids`).
    pub ual2: Option<UalFormat>,
    /// Sign-in log format.
    pub signin: SigninFormat,
    /// Directory audit format.
    pub audit: AuditFormat,
    /// Microsoft Graph activity logs were collected.
    pub graph_activity: bool,
    /// Sign-ins exported a second time in another format (`--dual-exports`).
    pub signin2: Option<SigninFormat>,
    /// Directory audit exported a second time in another format (`--dual-exports`).
    pub audit2: Option<AuditFormat>,
    /// The directory audit export (its records without a tenant id) sits alone in its own
    /// folder (`--missing-tenant-ids`).
    pub audit_alone: bool,
    /// Sign-in files are gzipped.
    pub gzip_signins: bool,
    /// The unified audit log file is gzipped.
    pub gzip_ual: bool,
    /// The whole tenant folder arrived as one zip archive.
    pub zipped: bool,
}

/// Benign activity that looks like the attack, per tenant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lookalikes {
    /// An administrator rotates an application's secret.
    pub rotation: bool,
    /// A user creates a rule moving newsletters to a folder.
    pub harmless_rule: bool,
    /// An administrator forwards a leaver's mailbox to a colleague.
    pub internal_forward: bool,
    /// An administrator adds a colleague to a directory role.
    pub role_add: bool,
    /// A user consents to a harmless application.
    pub consent: bool,
}

/// One tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Position in [`World::tenants`] (0 is the partner).
    pub index: usize,
    /// Tenant id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Folder name.
    pub slug: String,
    /// Custom domain (users' UPN suffix).
    pub domain: String,
    /// `*.onmicrosoft.com` domain.
    pub initial_domain: String,
    /// Where the organisation is.
    pub place: &'static Place,
    /// People.
    pub users: Vec<User>,
    /// Applications.
    pub sps: Vec<Sp>,
    /// Office egress addresses.
    pub office: Vec<Net>,
    /// The reseller tenant itself.
    pub is_partner: bool,
    /// Has a delegated-admin relationship with the reseller.
    pub partner_customer: bool,
    /// Touched by the attacker.
    pub compromised: bool,
    /// How its logs were exported.
    pub profile: Profile,
    /// Log Analytics workspace id (the `TenantId` column of Log Analytics exports).
    pub workspace_id: String,
    /// Object id of the Microsoft Graph service principal in this tenant.
    pub graph_sp_id: String,
    /// Object id of the Office 365 Exchange Online service principal in this tenant.
    pub exo_sp_id: String,
    /// Exchange Online server name prefix.
    pub exo_server: String,
    /// Exchange organisation path used in object ids.
    pub exo_org: String,
    /// Index of the backup application in `sps`, if the tenant uses it.
    pub backup: Option<usize>,
    /// Benign look-alikes staged here.
    pub lookalikes: Lookalikes,
    /// First moment of this tenant's logs (the period start unless `--mid-routine-start`).
    pub log_start: i64,
    /// How the tenant's export folder is named and laid out.
    pub layout: Layout,
    /// Index of a mass-reading service's service principal in `sps`, and which service it is.
    pub mass_reader: Option<(usize, usize)>,
    /// An admin-consented mail-settings application (`--admin-consents`).
    pub mail_settings: Option<MailSettings>,
}

/// How a tenant's export folder is named and laid out (`--folder-names`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// `customers/<slug>/{ual,entra}/` (the reseller: `reseller-<slug>/`).
    Classic,
    /// `<Company Name> - logs <date>/{ual,entra}/`.
    CompanyDated(String),
    /// `<folder>/Output/{UnifiedAuditLog,EntraID}/`, as Extractor-Suite writes.
    ExtractorSuite(String),
    /// `<tenant id>/{ual,entra}/`.
    Guid,
    /// `<folder>/{purview,graph}/`: the Graph exports in a folder called `graph`.
    Graph(String),
}

impl Tenant {
    /// Folder of this tenant relative to `logs/` (inside the archive when zipped).
    pub fn folder(&self) -> String {
        match &self.layout {
            Layout::Classic => {}
            Layout::CompanyDated(f) | Layout::ExtractorSuite(f) | Layout::Graph(f) => {
                return f.clone();
            }
            Layout::Guid => return self.id.clone(),
        }
        if self.is_partner {
            format!("reseller-{}", self.slug)
        } else {
            format!("customers/{}", self.slug)
        }
    }

    /// Where a file planned as `ual/<name>` or `entra/<name>` goes in this tenant's layout;
    /// `tenantless_audit` files (directory audits without tenant ids) go to a folder of their own
    /// when the profile says so.
    pub fn place_rel(&self, rel: &str, tenantless_audit: bool) -> String {
        let (top, name) = rel.split_once('/').unwrap_or(("", rel));
        let entra = top == "entra";
        let dir = match (&self.layout, entra) {
            (Layout::ExtractorSuite(_), false) => "Output/UnifiedAuditLog",
            (Layout::ExtractorSuite(_), true) => "Output/EntraID",
            (Layout::Graph(_), false) => "purview",
            (Layout::Graph(_), true) => "graph",
            _ => top,
        };
        if tenantless_audit && self.profile.audit_alone {
            format!("{dir}/AuditLogs/{name}")
        } else {
            format!("{dir}/{name}")
        }
    }

    /// Indexes of administrators.
    pub fn admins(&self) -> impl Iterator<Item = usize> + '_ {
        self.users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.admin)
            .map(|(i, _)| i)
    }
}

/// How the attacker set up mail forwarding in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardVariant {
    /// `New-InboxRule` with `ForwardTo` and `DeleteMessage`.
    RuleForwardTo,
    /// `Set-Mailbox` with `ForwardingSmtpAddress`.
    MailboxForwarding,
    /// `New-InboxRule` with `RedirectTo`.
    RuleRedirectTo,
    /// `Set-InboxRule` changing an existing rule to forward.
    SetRule,
}

/// The attack in one tenant.
#[derive(Debug, Clone)]
pub struct Strike {
    /// Tenant index.
    pub tenant: usize,
    /// When the attacker first signs in there.
    pub visit: i64,
    /// The service principal given a new credential.
    pub sp: usize,
    /// The credential is added to the application registration rather than the service principal.
    pub via_application: bool,
    /// The mail permission granted.
    pub role: AppRole,
    /// Admin consent recorded as well.
    pub consent: bool,
    /// A delegated permission grant as well.
    pub delegated: bool,
    /// Federation settings changed here.
    pub federation: bool,
    /// A privileged role added here.
    pub privileged: bool,
    /// Reading mail fails here (no permission granted).
    pub failed: bool,
    /// Mail forwarding set up here.
    pub forward: Option<ForwardVariant>,
    /// Mailboxes the attacker reads (user indexes).
    pub mailboxes: Vec<usize>,
    /// The stolen account used here (user index in the reseller's tenant).
    pub account: usize,
    /// The attacker comes through the reseller's VPN egress here (`--partner-vpn`).
    pub via_vpn: bool,
    /// An own administrator of the tenant whose session token the intruder replays here, and
    /// the service principal (another line-of-business application) it grants a mail
    /// permission to with it.
    pub hijacked_admin: Option<(usize, usize)>,
}

/// The attacker.
#[derive(Debug, Clone)]
pub struct Attack {
    /// Start of the attack window.
    pub start: i64,
    /// End of the attack window.
    pub end: i64,
    /// Strikes, in the order the tenants are attacked.
    pub strikes: Vec<Strike>,
    /// Addresses the attacker uses (distinct from every benign range).
    pub ips: Vec<Net>,
    /// External mailboxes mail is forwarded to.
    pub drops: Vec<String>,
    /// Issuer of the attacker's federation.
    pub issuer: String,
    /// Display name of the credentials the attacker adds.
    pub key_name: String,
    /// Untouched partner customer in which the compromised account's owner works during the attack.
    pub owner_busy: usize,
    /// Every stolen account (user indexes in the reseller's tenant; the first is the partner
    /// account), more than one with `--stolen-accounts`.
    pub stolen: Vec<usize>,
    /// Further untouched customers where a stolen account's owner keeps working honestly
    /// (`--owner-habits`): (tenant, account).
    pub decoys: Vec<(usize, usize)>,
}

/// A mail-settings application a tenant's admin grants a high mail permission.
#[derive(Debug, Clone, Copy)]
pub struct MailSettings {
    /// Index of its service principal in the tenant's `sps`.
    pub sp: usize,
    /// The consenting admin (user index).
    pub admin: usize,
    /// The application already worked in the tenant before the grant (a permission added to an
    /// application in use) rather than arriving with it.
    pub seen_before: bool,
}

/// A backup, archiving or e-discovery service reading mailboxes from a cloud address pool.
#[derive(Debug, Clone)]
pub struct MassReader {
    /// Display name.
    pub name: String,
    /// Application id.
    pub app_id: String,
    /// Its provider's egress addresses (several /24s of one network), used in turn.
    pub pool: Vec<Net>,
}

/// The whole world of the case.
#[derive(Debug, Clone)]
pub struct World {
    /// Seed.
    pub seed: u64,
    /// First millisecond of the period.
    pub start: i64,
    /// Days covered.
    pub days: u32,
    /// End of the period (exclusive).
    pub end: i64,
    /// Tenants; index 0 is the reseller.
    pub tenants: Vec<Tenant>,
    /// The reseller's delegated-admin account the attacker stole (user index in tenant 0).
    pub partner_account: usize,
    /// The reseller's staff who administer customer tenants (user indexes in tenant 0).
    pub partner_staff: Vec<usize>,
    /// The reseller's office addresses, used by all its honest staff.
    pub partner_office: Vec<Net>,
    /// The backup service's application id.
    pub backup_app_id: String,
    /// The backup service's name.
    pub backup_name: String,
    /// The backup service's addresses.
    pub backup_ips: Vec<Net>,
    /// A harmless third-party application users consent to: name and application id.
    pub harmless_app: (String, String),
    /// The attack.
    pub attack: Attack,
    /// The variations of this world.
    pub vary: crate::Variations,
    /// The reseller's VPN egress address, used by its honest staff (`--partner-vpn`).
    pub partner_vpn: Option<Net>,
    /// Mass-reading services (`--mass-readers`).
    pub mass_readers: Vec<MassReader>,
    /// Mail-settings application: name and application id (`--admin-consents`).
    pub mail_settings_app: (String, String),
}

impl World {
    /// The reseller tenant.
    pub fn partner(&self) -> &Tenant {
        &self.tenants[0]
    }

    /// The stolen account.
    pub fn partner_user(&self) -> &User {
        &self.tenants[0].users[self.partner_account]
    }

    /// The strike in tenant `t`, if any.
    pub fn strike(&self, t: usize) -> Option<&Strike> {
        self.attack.strikes.iter().find(|s| s.tenant == t)
    }
}

pub(crate) fn net_in(rng: &mut Rng, octets: &[u8], place: &'static Place) -> Net {
    Net {
        ip: [
            *rng.pick(octets),
            rng.between(1, 254) as u8,
            rng.between(0, 254) as u8,
            rng.between(2, 253) as u8,
        ],
        place,
    }
}

fn office(rng: &mut Rng, place: &'static Place, hosts: u64) -> Vec<Net> {
    let base = net_in(rng, names::BENIGN_OCTETS, place);
    let first = rng.between(10, 200) as u8;
    (0..hosts)
        .map(|i| Net {
            ip: [base.ip[0], base.ip[1], base.ip[2], first + i as u8],
            place,
        })
        .collect()
}

pub(crate) fn guid(rng: &mut Rng) -> String {
    guid_string(rng.next_u128())
}

fn slugify(name: &str) -> String {
    name.to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn company(rng: &mut Rng, used: &mut std::collections::BTreeSet<String>, b: &[&str]) -> String {
    for attempt in 0.. {
        let mut n = format!("{} {}", rng.pick(names::COMPANY_A), rng.pick(b));
        if attempt > 50 {
            n = format!("{n} {}", attempt);
        }
        if used.insert(n.clone()) {
            return n;
        }
    }
    String::new()
}

fn users(rng: &mut Rng, n: usize, domain: &str, place: &'static Place, admins: usize) -> Vec<User> {
    let style = rng.below(3);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let first = *rng.pick(names::FIRST);
        let last = *rng.pick(names::LAST);
        let local = match style {
            0 => format!("{}.{}", first, last),
            1 => format!("{}{}", &first[..1], last),
            _ => format!("{}{}", first, &last[..1]),
        }
        .to_ascii_lowercase();
        if !seen.insert(local.clone()) {
            if seen.len() > 3000 {
                break;
            }
            continue;
        }
        let i = out.len();
        out.push(User {
            upn: format!("{local}@{domain}"),
            display: format!("{first} {last}"),
            id: guid(rng),
            puid: format!("1003{:012X}", rng.next_u64() & 0xFFFF_FFFF_FFFF),
            sid: format!(
                "S-1-5-21-{}-{}-{}-{}",
                rng.between(1_000_000_000, 4_000_000_000),
                rng.between(1_000_000_000, 4_000_000_000),
                rng.between(1_000_000_000, 4_000_000_000),
                rng.between(10_000_000, 99_999_999)
            ),
            mailbox_guid: guid(rng),
            home: net_in(rng, names::BENIGN_OCTETS, place),
            device: rng.index(names::DEVICES.len()),
            admin: i < admins,
        });
    }
    out
}

pub(crate) fn cloud_ips(rng: &mut Rng, n: usize) -> Vec<Net> {
    let place = rng.pick(names::CLOUD_PLACES);
    (0..n)
        .map(|_| net_in(rng, names::CLOUD_OCTETS, place))
        .collect()
}

const UAL_ROT: [UalFormat; 4] = [
    UalFormat::MgmtApiLines,
    UalFormat::PurviewCsv,
    UalFormat::MgmtApiArray,
    UalFormat::PurviewCsvClassic,
];
const SIGNIN_ROT: [SigninFormat; 3] = [
    SigninFormat::AzureMonitorStorage,
    SigninFormat::GraphBeta,
    SigninFormat::AzureMonitorEventHub,
];
const AUDIT_ROT: [AuditFormat; 3] = [
    AuditFormat::GraphJson,
    AuditFormat::LogAnalyticsCsv,
    AuditFormat::AzureMonitor,
];

/// Builds the world for `opts`.
pub fn build(opts: &SimulateOptions) -> World {
    let seed = opts.seed;
    let mut rng = Rng::derive(seed, &[1]);
    let day0 = days_from_civil(2024, 1, 1) + rng.below(560) as i64;
    let start = day0 * DAY;
    let days = opts.days;
    let end = start + i64::from(days) * DAY;

    // Names and places.
    let mut used = std::collections::BTreeSet::new();
    let partner_place = rng.pick(names::PLACES);
    let mut tenants = Vec::with_capacity(opts.tenants + 1);
    for i in 0..=opts.tenants {
        tenants.push(tenant(&mut rng, i, &mut used, partner_place, start));
    }

    // The reseller's staff and the stolen account.
    let partner_office = tenants[0].office.clone();
    let partner_staff: Vec<usize> = (0..6.min(tenants[0].users.len())).collect();
    let partner_account = partner_staff[rng.index(partner_staff.len())];

    let (order, untouched) = relationships(&mut rng, &mut tenants, opts.compromised);

    // Attack window and the attacker's infrastructure.
    let window_day = (i64::from(days) * 45 / 100).max(1).min(i64::from(days) - 1);
    let attack_start = start + window_day * DAY + rng.between(17, 22) as i64 * HOUR;
    let attack_end = end - 2 * HOUR;
    let (attacker_ips, drops, issuer, key_name) = attacker_infra(&mut rng);
    let (backup_app_id, backup_name, backup_ips, harmless_app) = third_party_apps(&mut rng);
    let win = Window {
        start,
        attack_start,
        attack_end,
    };
    let strikes = strikes(&mut rng, &mut tenants, &order, win, partner_account);
    let owner_busy = untouched[rng.index(untouched.len())];

    export_profiles(&mut rng, &mut tenants, &order, &strikes);
    let first = (order[0], untouched.first());
    let backup = (
        backup_name.as_str(),
        backup_app_id.as_str(),
        backup_ips.as_slice(),
    );
    place_backup(&mut rng, &mut tenants, first, backup);
    stage_lookalikes(&mut rng, &mut tenants, &order, &untouched, owner_busy);

    let mut w = World {
        seed,
        start,
        days,
        end,
        tenants,
        partner_account,
        partner_staff,
        partner_office,
        backup_app_id,
        backup_name,
        backup_ips,
        harmless_app,
        attack: Attack {
            start: attack_start,
            end: attack_end,
            strikes,
            ips: attacker_ips,
            drops,
            issuer,
            key_name,
            owner_busy,
            stolen: vec![partner_account],
            decoys: Vec::new(),
        },
        vary: opts.vary.clone(),
        partner_vpn: None,
        mass_readers: Vec::new(),
        mail_settings_app: (String::new(), String::new()),
    };
    if opts.vary.any() {
        crate::variations::apply(&mut w, &order, &untouched);
    }
    w
}

/// The reseller's relationships (about one customer in ten buys elsewhere) and which customers
/// are attacked: the attacked ones in attack order, and the untouched partner customers.
fn relationships(
    rng: &mut Rng,
    tenants: &mut [Tenant],
    compromised: usize,
) -> (Vec<usize>, Vec<usize>) {
    let n = tenants.len() - 1;
    let mut customers: Vec<usize> = (1..=n).collect();
    rng.shuffle(&mut customers);
    let no_rel = (n / 10).min(n.saturating_sub(compromised + 1));
    for &c in customers.iter().skip(no_rel) {
        tenants[c].partner_customer = true;
    }
    let mut partner_customers: Vec<usize> = customers.iter().skip(no_rel).copied().collect();
    rng.shuffle(&mut partner_customers);
    let order: Vec<usize> = partner_customers[..compromised].to_vec();
    let mut untouched: Vec<usize> = partner_customers[compromised..].to_vec();
    untouched.sort_unstable();
    for &c in &order {
        tenants[c].compromised = true;
    }
    (order, untouched)
}

/// The attacker's addresses, drop mailboxes, federation issuer and credential name.
fn attacker_infra(rng: &mut Rng) -> (Vec<Net>, Vec<String>, String, String) {
    let mut prefixes: Vec<[u8; 2]> = names::ATTACKER_PREFIXES.to_vec();
    rng.shuffle(&mut prefixes);
    let attacker_ips: Vec<Net> = prefixes
        .iter()
        .take(5)
        .map(|p| Net {
            ip: [
                p[0],
                p[1],
                rng.between(1, 254) as u8,
                rng.between(2, 253) as u8,
            ],
            place: rng.pick(names::ATTACKER_PLACES),
        })
        .collect();
    let drops: Vec<String> = (0..3)
        .map(|_| {
            format!(
                "{}.{}{}@{}",
                rng.pick(names::FIRST).to_ascii_lowercase(),
                rng.pick(names::LAST).to_ascii_lowercase(),
                rng.between(10, 99),
                rng.pick(names::DROP_DOMAINS)
            )
        })
        .collect();
    let issuer = format!(
        "http://{}-sts.{}/adfs/services/trust",
        ["login", "auth", "sso", "id"][rng.index(4)],
        ["cloud-federation.net", "secure-idp.com", "fedgateway.io"][rng.index(3)]
    );
    let key_name = ["", "sync", "backup-key", "automation", "graph"][rng.index(5)].to_string();
    (attacker_ips, drops, issuer, key_name)
}

/// The backup service (application id, name, addresses) and the harmless application users
/// consent to (name, application id).
fn third_party_apps(rng: &mut Rng) -> (String, String, Vec<Net>, (String, String)) {
    let backup_app_id = guid(rng);
    let backup_name = format!(
        "{} Backup for Microsoft 365",
        ["Vaultline", "Cirrusave", "Keepsafe Cloud", "Arkiv"][rng.index(4)]
    );
    let backup_ips = cloud_ips(rng, 3);
    let harmless_app = (
        format!(
            "{} Meeting Scheduler",
            ["Calendo", "Slotwise", "Agendify", "Timeboxer"][rng.index(4)]
        ),
        guid(rng),
    );
    (backup_app_id, backup_name, backup_ips, harmless_app)
}

/// When the logs and the attack run: the period start, the attack window's start and end.
#[derive(Clone, Copy)]
struct Window {
    start: i64,
    attack_start: i64,
    attack_end: i64,
}

/// The strikes, in attack order: when, which application, what the attacker does and which
/// mailboxes it reads in each attacked tenant.
fn strikes(
    rng: &mut Rng,
    tenants: &mut [Tenant],
    order: &[usize],
    win: Window,
    partner_account: usize,
) -> Vec<Strike> {
    let Window {
        start,
        attack_start,
        attack_end,
    } = win;
    let k = order.len().max(1) as i64;
    let spread = ((attack_end - attack_start - 36 * HOUR).max(k * 20 * 60_000)) / k;
    let mut variants = [
        ForwardVariant::RuleForwardTo,
        ForwardVariant::MailboxForwarding,
        ForwardVariant::RuleRedirectTo,
        ForwardVariant::SetRule,
    ]
    .into_iter()
    .cycle();
    let last = order.len().saturating_sub(1);
    let mut strikes = Vec::new();
    for (j, &t) in order.iter().enumerate() {
        let tn = &mut tenants[t];
        let visit =
            (attack_start + j as i64 * spread + rng.below((spread / 2).max(1) as u64) as i64)
                .min(attack_end - 3 * HOUR)
                .max(start);
        let failed = j == last && order.len() > 1;
        let federation = j == 0;
        let privileged = j == 1 % order.len().max(1);
        let forward = if !failed && (j % 2 == 0 || j == 1) {
            variants.next()
        } else {
            None
        };
        let n_mb = tn.users.len().clamp(1, 8);
        let n_read = rng.between(3.min(n_mb as u64), n_mb as u64) as usize;
        let mut mbs: Vec<usize> = (0..tn.users.len()).collect();
        rng.shuffle(&mut mbs);
        mbs.truncate(n_read);
        mbs.sort_unstable();
        strikes.push(Strike {
            tenant: t,
            visit,
            sp: rng.index(tn.sps.len()),
            via_application: j % 3 == 2,
            role: names::MAIL_ROLES[j % names::MAIL_ROLES.len()],
            consent: j % 2 == 0,
            delegated: j % 4 == 3,
            federation,
            privileged,
            failed,
            forward,
            mailboxes: mbs,
            account: partner_account,
            via_vpn: false,
            hijacked_admin: None,
        });
    }
    // A single-tenant app is needed to add a credential to the application registration.
    for s in &mut strikes {
        let tn = &mut tenants[s.tenant];
        if s.via_application && tn.sps[s.sp].app_object_id.is_none() {
            tn.sps[s.sp].app_object_id = Some(guid(rng));
        }
    }
    strikes
}

/// How each tenant's logs were exported: the attacked tenants cycle through every format, the
/// others rotate from a random offset; one attacked tenant arrives zipped, some files gzipped.
fn export_profiles(rng: &mut Rng, tenants: &mut [Tenant], order: &[usize], strikes: &[Strike]) {
    let n = tenants.len() - 1;
    for (j, &t) in order.iter().enumerate() {
        let p = &mut tenants[t].profile;
        p.ual = UAL_ROT[j % 4];
        p.signin = SIGNIN_ROT[j % 3];
        p.audit = AUDIT_ROT[(j + 1) % 3];
        p.graph_activity = j % 3 != 1 || strikes[j].failed;
    }
    let r = rng.below(12) as usize;
    let mut others: Vec<usize> = (1..=n).filter(|t| !tenants[*t].compromised).collect();
    others.sort_unstable();
    for (j, &t) in others.iter().enumerate() {
        let p = &mut tenants[t].profile;
        p.ual = UAL_ROT[(j + r) % 4];
        p.signin = SIGNIN_ROT[(j + r) % 3];
        p.audit = AUDIT_ROT[(j / 2 + r) % 3];
        p.graph_activity = (j + r).is_multiple_of(2);
    }
    let zipped = order[1 % order.len()];
    for (t, tn) in tenants.iter_mut().enumerate().skip(1) {
        let p = &mut tn.profile;
        p.zipped = t == zipped;
        p.gzip_signins = !p.zipped && t.is_multiple_of(2);
        p.gzip_ual = !p.zipped && t % 3 == 2;
    }
}

/// The backup service in about a third of the customers, attacked and untouched ones among them.
fn place_backup(
    rng: &mut Rng,
    tenants: &mut [Tenant],
    first: (usize, Option<&usize>),
    backup: (&str, &str, &[Net]),
) {
    let (backup_name, backup_app_id, backup_ips) = backup;
    for (t, tn) in tenants.iter_mut().enumerate().skip(1) {
        let force = t == first.0 || Some(&t) == first.1;
        if force || rng.chance(0.3) {
            tn.backup = Some(tn.sps.len());
            tn.sps.push(Sp {
                name: backup_name.to_string(),
                app_id: backup_app_id.to_string(),
                object_id: guid(rng),
                app_object_id: None,
                key_id: guid(rng),
                ips: backup_ips.to_vec(),
                kind: SpKind::Backup,
                role: names::FULL_ACCESS_AS_APP,
            });
        }
    }
}

/// Look-alikes: each in some tenants, always in at least one attacked and one untouched tenant.
fn stage_lookalikes(
    rng: &mut Rng,
    tenants: &mut [Tenant],
    order: &[usize],
    untouched: &[usize],
    owner_busy: usize,
) {
    let first_untouched = untouched.first().copied().unwrap_or(0);
    for (t, tn) in tenants.iter_mut().enumerate().skip(1) {
        let pin = t == order[0] || t == first_untouched;
        let pin2 = t == order[order.len() - 1] || t == owner_busy;
        tn.lookalikes = Lookalikes {
            rotation: pin || rng.chance(0.25),
            harmless_rule: pin2 || rng.chance(0.3),
            internal_forward: pin || rng.chance(0.1),
            role_add: pin2 || rng.chance(0.15),
            consent: pin || rng.chance(0.2),
        };
    }
}

/// Tenant `i` (0: the reseller): its name, place, people, offices, applications and ids.
fn tenant(
    rng: &mut Rng,
    i: usize,
    used: &mut std::collections::BTreeSet<String>,
    partner_place: &'static Place,
    start: i64,
) -> Tenant {
    let is_partner = i == 0;
    let name = if is_partner {
        company(rng, used, names::PARTNER_B)
    } else {
        company(rng, used, names::COMPANY_B)
    };
    let place: &'static Place = if is_partner || rng.chance(0.7) {
        if rng.chance(0.5) {
            partner_place
        } else {
            names::PLACES
                .iter()
                .find(|p| p.country == partner_place.country && p.city != partner_place.city)
                .unwrap_or(partner_place)
        }
    } else {
        rng.pick(names::PLACES)
    };
    let compact: String = name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let domain = format!("{compact}.{}", place.tld);
    let initial_domain = format!("{}.onmicrosoft.com", &compact[..compact.len().min(20)]);
    let n_users = if is_partner {
        rng.between(10, 16)
    } else {
        rng.between(6, 30)
    } as usize;
    let admins = if is_partner {
        6
    } else {
        rng.between(1, 2) as usize
    };
    let us = users(rng, n_users, &domain, place, admins);
    let hosts = rng.between(2, 3);
    let office = office(rng, place, hosts);
    let (exo_server, exo_org) = exo_names(rng, place, &initial_domain);
    let sps = lob_sps(rng, is_partner);
    Tenant {
        index: i,
        id: guid(rng),
        slug: slugify(&name),
        name,
        domain,
        initial_domain,
        place,
        users: us,
        sps,
        office,
        is_partner,
        partner_customer: false,
        compromised: false,
        profile: Profile {
            ual: UalFormat::MgmtApiLines,
            ual2: None,
            signin: SigninFormat::GraphBeta,
            audit: AuditFormat::LogAnalyticsCsv,
            graph_activity: true,
            signin2: None,
            audit2: None,
            audit_alone: false,
            gzip_signins: false,
            gzip_ual: false,
            zipped: false,
        },
        workspace_id: guid(rng),
        graph_sp_id: guid(rng),
        exo_sp_id: guid(rng),
        exo_server,
        exo_org,
        backup: None,
        lookalikes: Lookalikes::default(),
        log_start: start,
        layout: Layout::Classic,
        mass_reader: None,
        mail_settings: None,
    }
}

/// The Exchange Online server prefix and organisation path of a tenant hosted near `place`.
fn exo_names(rng: &mut Rng, place: &Place, initial_domain: &str) -> (String, String) {
    let region = if place.country == "US" || place.country == "CA" {
        ["BY", "CH", "SN", "PH"][rng.index(4)]
    } else if place.country == "AU" {
        "SY"
    } else {
        ["DB", "AM", "VI", "LO"][rng.index(4)]
    };
    let exo_server = format!(
        "{region}{}PR{:02}MB{:04}",
        rng.between(3, 9),
        rng.between(1, 20),
        rng.between(1000, 9999)
    );
    let exo_org = format!(
        "{}PR{:02}A{:03}.prod.outlook.com/Microsoft Exchange Hosted Organizations/{initial_domain}",
        if region == "DB" || region == "AM" || region == "VI" || region == "LO" {
            "EUR"
        } else {
            "NAM"
        },
        rng.between(1, 12),
        rng.between(1, 999)
    );
    (exo_server, exo_org)
}

/// The line-of-business applications of a tenant (one for the reseller, 1–3 for a customer).
fn lob_sps(rng: &mut Rng, is_partner: bool) -> Vec<Sp> {
    let n_lob = if is_partner { 1 } else { rng.between(1, 3) } as usize;
    let mut lob_names: Vec<&str> = names::LOB_APPS.to_vec();
    rng.shuffle(&mut lob_names);
    lob_names
        .iter()
        .take(n_lob)
        .map(|n| {
            let single = rng.chance(0.5);
            Sp {
                name: (*n).to_string(),
                app_id: guid(rng),
                object_id: guid(rng),
                app_object_id: single.then(|| guid(rng)),
                key_id: guid(rng),
                ips: cloud_ips(rng, 2),
                kind: SpKind::LineOfBusiness,
                role: names::USER_READ_ALL,
            }
        })
        .collect()
}
