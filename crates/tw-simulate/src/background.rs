//! Benign background activity, hour by hour, whose volume grows linearly with `--scale`: people
//! signing in interactively and silently, applications signing in, owners reading their mail,
//! files opened on SharePoint, Graph requests, routine administration, and the honest reseller
//! staff at work.
//!
//! Counts come from rate accumulators (expected count × scale, rounded cumulatively), drawn from a
//! generator that does not depend on the scale; the details of each activity come from a second
//! generator. Doubling the scale therefore doubles the counts, to within one per category.

use crate::names::{self, fp};
use crate::rng::Rng;
use crate::story::{
    Act, ActKind, Agent, Client, DirKind, DirOp, FileOp, GraphCall, GraphUri, Key, MailBy,
    MailRead, OwnerClient, SignIn, SigninKind, Who,
};
use crate::world::{DAY, HOUR, Net, SpKind, Tenant, World};

/// Daily rates per user (or per application, per tenant) at scale 1, for a weekday.
mod rate {
    pub const INTERACTIVE: f64 = 0.45;
    pub const NON_INTERACTIVE: f64 = 1.1;
    pub const FAILED: f64 = 0.02;
    pub const MAIL: f64 = 0.7;
    pub const FILE: f64 = 0.5;
    pub const GRAPH_USER: f64 = 0.5;
    pub const SP_SIGNIN: f64 = 4.0;
    pub const GRAPH_APP: f64 = 3.0;
    pub const BACKUP_MAIL: f64 = 0.3;
    pub const ADMIN: f64 = 0.6;
    pub const PARTNER: f64 = 0.25;
}

/// Activity over a working day, by local hour (mean 1).
const DIURNAL: [f64; 24] = [
    0.10, 0.05, 0.05, 0.05, 0.10, 0.20, 0.50, 1.20, 2.10, 2.50, 2.40, 2.20, 1.70, 2.20, 2.30, 2.10,
    1.80, 1.20, 0.65, 0.45, 0.35, 0.25, 0.15, 0.10,
];

#[derive(Clone, Copy)]
enum Cat {
    Interactive,
    NonInteractive,
    Failed,
    Mail,
    File,
    GraphUser,
    SpSignin,
    GraphApp,
    BackupMail,
    Admin,
    Partner,
}

const CATS: [Cat; 11] = [
    Cat::Interactive,
    Cat::NonInteractive,
    Cat::Failed,
    Cat::Mail,
    Cat::File,
    Cat::GraphUser,
    Cat::SpSignin,
    Cat::GraphApp,
    Cat::BackupMail,
    Cat::Admin,
    Cat::Partner,
];

/// The background generator of one tenant.
pub struct Background<'w> {
    w: &'w World,
    t: &'w Tenant,
    scale: f64,
    rates: Rng,
    ev: Rng,
    acc: [f64; 11],
    emitted: [u64; 11],
    seq: u64,
    lob: Vec<usize>,
}

impl<'w> Background<'w> {
    /// The generator for tenant `index` at `scale`.
    pub fn new(w: &'w World, index: usize, scale: f64) -> Background<'w> {
        let t = &w.tenants[index];
        Background {
            w,
            t,
            scale,
            rates: Rng::derive(w.seed, &[3, index as u64]),
            ev: Rng::derive(w.seed, &[4, index as u64]),
            acc: [0.5; 11],
            emitted: [0; 11],
            seq: 0,
            lob: (0..t.sps.len())
                .filter(|i| t.sps[*i].kind == SpKind::LineOfBusiness)
                .collect(),
        }
    }

    fn daily(&self, c: Cat) -> f64 {
        let t = self.t;
        let users = t.users.len() as f64;
        let graph = t.profile.graph_activity;
        match c {
            Cat::Interactive => rate::INTERACTIVE * users,
            Cat::NonInteractive => rate::NON_INTERACTIVE * users,
            Cat::Failed => rate::FAILED * users,
            Cat::Mail => rate::MAIL * users,
            Cat::File => rate::FILE * users,
            Cat::GraphUser if graph => rate::GRAPH_USER * users,
            Cat::SpSignin => rate::SP_SIGNIN * t.sps.len() as f64,
            Cat::GraphApp if graph => rate::GRAPH_APP * self.lob.len() as f64,
            Cat::BackupMail if t.backup.is_some() => rate::BACKUP_MAIL * users,
            Cat::Admin => rate::ADMIN,
            Cat::Partner if t.partner_customer => rate::PARTNER,
            _ => 0.0,
        }
    }

    /// Appends the activities of hour `h` (0-based from the start of the period).
    pub fn hour(&mut self, h: i64, out: &mut Vec<Act>) {
        let t0 = self.w.start + h * HOUR;
        let local = (h + self.t.place.utc_offset).rem_euclid(24) as usize;
        let weekday = ((t0 + self.t.place.utc_offset * HOUR).div_euclid(DAY) + 3).rem_euclid(7);
        let weekend = weekday >= 5;
        for (i, c) in CATS.iter().enumerate() {
            let jitter = 0.7 + 0.6 * self.rates.unit();
            let shape = match c {
                Cat::NonInteractive | Cat::GraphUser => 0.4 + 0.6 * DIURNAL[local],
                Cat::SpSignin | Cat::GraphApp => 1.0,
                Cat::BackupMail => {
                    if local < 6 {
                        4.0
                    } else {
                        0.0
                    }
                }
                _ => DIURNAL[local],
            };
            let day_factor =
                if weekend && !matches!(c, Cat::SpSignin | Cat::GraphApp | Cat::BackupMail) {
                    0.2
                } else {
                    1.0
                };
            let expected = self.daily(*c) / 24.0 * shape * day_factor * jitter * self.scale;
            self.acc[i] += expected;
            let target = self.acc[i].floor().max(0.0) as u64;
            let n = target.saturating_sub(self.emitted[i]);
            self.emitted[i] = target;
            for _ in 0..n {
                let at = t0 + self.ev.below(HOUR as u64) as i64;
                self.make(*c, at, weekend, out);
            }
        }
    }

    fn push(&mut self, t: i64, kind: ActKind, out: &mut Vec<Act>) {
        if t >= self.w.end {
            return;
        }
        self.seq += 1;
        out.push(Act {
            t,
            seq: self.seq,
            id: self.ev.next_u64(),
            mal: None,
            kind,
        });
    }

    fn user_net(&mut self, u: usize, weekend: bool) -> Net {
        if !weekend && self.ev.chance(0.65) {
            *self.ev.pick(&self.t.office)
        } else {
            self.t.users[u].home
        }
    }

    /// One background activity of category `c` at `at`.
    fn make(&mut self, c: Cat, at: i64, weekend: bool, out: &mut Vec<Act>) {
        match c {
            Cat::Interactive | Cat::NonInteractive | Cat::Failed => {
                self.user_signin(c, at, weekend, out)
            }
            Cat::Mail => self.owner_mail(at, weekend, out),
            Cat::File => self.file_op(at, weekend, out),
            Cat::GraphUser => self.user_graph(at, weekend, out),
            Cat::SpSignin => self.sp_signin(at, out),
            Cat::GraphApp => self.app_graph(at, out),
            Cat::BackupMail => self.backup_mail(at, out),
            Cat::Admin => self.admin_change(at, weekend, out),
            Cat::Partner => self.partner(at, out),
        }
    }

    /// A user signs in (or fails to) from the office or home.
    fn user_signin(&mut self, c: Cat, at: i64, weekend: bool, out: &mut Vec<Act>) {
        let t = self.t;
        let nu = t.users.len();
        let u = self.ev.index(nu);
        let net = self.user_net(u, weekend);
        let mobile = names::DEVICES[t.users[u].device % names::DEVICES.len()]
            .ua
            .contains("Mobile");
        let client = if mobile {
            *self.ev.pick(&[fp::OUTLOOK_MOBILE, fp::TEAMS])
        } else {
            *self.ev.pick(names::USER_APPS)
        };
        let resource = match client.app_id {
            a if a == fp::OWA.app_id || a == fp::OUTLOOK_MOBILE.app_id => fp::EXCHANGE,
            a if a == fp::ONEDRIVE.app_id => fp::SHAREPOINT,
            _ => fp::GRAPH,
        };
        let (kind, error) = match c {
            Cat::Interactive => (SigninKind::Interactive, 0),
            Cat::NonInteractive => (SigninKind::NonInteractive, 0),
            _ => (
                SigninKind::Interactive,
                *self.ev.pick(&[50126u32, 50126, 50074, 50140]),
            ),
        };
        self.push(
            at,
            ActKind::SignIn(SignIn {
                kind,
                who: Who::User(u),
                client: Client::FirstParty(client),
                resource,
                net,
                agent: Agent::Device(t.users[u].device),
                error,
                key: Key::None,
            }),
            out,
        );
    }

    /// A user reads their own mail.
    fn owner_mail(&mut self, at: i64, weekend: bool, out: &mut Vec<Act>) {
        let t = self.t;
        let nu = t.users.len();
        let u = self.ev.index(nu);
        let net = self.user_net(u, weekend);
        let client = match self.ev.below(3) {
            0 => OwnerClient::Owa,
            1 => OwnerClient::Outlook,
            _ => OwnerClient::Mobile,
        };
        let sync = self.ev.chance(0.3);
        let items = self.ev.between(1, 12) as u8;
        let folder = if self.ev.chance(0.8) {
            0
        } else {
            self.ev.index(names::FOLDERS.len())
        };
        self.push(
            at,
            ActKind::Mail(MailRead {
                mailbox: u,
                by: MailBy::Owner(client),
                net,
                sync,
                items,
                folder,
            }),
            out,
        );
    }

    /// A user works on a document.
    fn file_op(&mut self, at: i64, weekend: bool, out: &mut Vec<Act>) {
        let t = self.t;
        let nu = t.users.len();
        let u = self.ev.index(nu);
        let net = self.user_net(u, weekend);
        let op = *self.ev.pick(&[0u8, 0, 0, 1, 2]);
        let doc = self.ev.index(names::DOCUMENTS.len());
        let onedrive = self.ev.chance(0.4);
        self.push(
            at,
            ActKind::File(FileOp {
                user: u,
                op,
                doc,
                onedrive,
                net,
                agent: Agent::Device(t.users[u].device),
            }),
            out,
        );
    }

    /// A user's client calls Microsoft Graph.
    fn user_graph(&mut self, at: i64, weekend: bool, out: &mut Vec<Act>) {
        let t = self.t;
        let nu = t.users.len();
        let u = self.ev.index(nu);
        let net = self.user_net(u, weekend);
        let uri = *self.ev.pick(&[
            GraphUri::Me,
            GraphUri::MeMessages,
            GraphUri::MeEvents,
            GraphUri::MeDrive,
        ]);
        let client = *self.ev.pick(&[fp::TEAMS, fp::OFFICE, fp::OWA]);
        self.push(
            at,
            ActKind::Graph(GraphCall {
                who: Who::User(u),
                client: Client::FirstParty(client),
                uri,
                status: 200,
                net,
                ua: names::DEVICES[t.users[u].device % names::DEVICES.len()].ua,
            }),
            out,
        );
    }

    /// An application signs in from its usual addresses.
    fn sp_signin(&mut self, at: i64, out: &mut Vec<Act>) {
        let t = self.t;
        if t.sps.is_empty() {
            return;
        }
        let sp = self.ev.index(t.sps.len());
        if t.sps[sp].kind == SpKind::MailSettings {
            // Signs in only around its grant (the storyline).
            return;
        }
        let net = *self.ev.pick(&t.sps[sp].ips);
        let resource = if t.sps[sp].kind == SpKind::Backup {
            fp::EXCHANGE
        } else {
            fp::GRAPH
        };
        self.push(
            at,
            ActKind::SignIn(SignIn {
                kind: SigninKind::ServicePrincipal,
                who: Who::App(sp),
                client: Client::Sp(sp),
                resource,
                net,
                agent: Agent::Raw {
                    ua: "",
                    os: "",
                    browser: "",
                },
                error: 0,
                key: Key::Existing,
            }),
            out,
        );
    }

    /// A line-of-business application lists the users through Graph.
    fn app_graph(&mut self, at: i64, out: &mut Vec<Act>) {
        let t = self.t;
        if self.lob.is_empty() {
            return;
        }
        let sp = self.lob[self.ev.index(self.lob.len())];
        let net = *self.ev.pick(&t.sps[sp].ips);
        self.push(
            at,
            ActKind::Graph(GraphCall {
                who: Who::App(sp),
                client: Client::Sp(sp),
                uri: GraphUri::Users,
                status: 200,
                net,
                ua: "Microsoft.Graph.Client/5.44.0",
            }),
            out,
        );
    }

    /// The backup service reads a mailbox.
    fn backup_mail(&mut self, at: i64, out: &mut Vec<Act>) {
        let t = self.t;
        let nu = t.users.len();
        let Some(sp) = t.backup else { return };
        let u = self.ev.index(nu);
        let net = *self.ev.pick(&self.w.backup_ips);
        let items = self.ev.between(10, 250) as u8;
        self.push(
            at,
            ActKind::Mail(MailRead {
                mailbox: u,
                by: MailBy::App(sp),
                net,
                sync: true,
                items,
                folder: 0,
            }),
            out,
        );
    }

    /// A tenant admin changes a user or a membership.
    fn admin_change(&mut self, at: i64, weekend: bool, out: &mut Vec<Act>) {
        let t = self.t;
        let nu = t.users.len();
        let admins: Vec<usize> = t.admins().collect();
        let admin = if admins.is_empty() {
            0
        } else {
            admins[self.ev.index(admins.len())]
        };
        let user = self.ev.index(nu);
        let op = match self.ev.below(4) {
            0 => DirKind::UpdateUser { user },
            1 => DirKind::AddMemberToGroup {
                user,
                group: self.ev.index(names::GROUPS.len()),
            },
            2 => DirKind::ChangeLicense {
                user,
                sku: self.ev.index(names::SKUS.len()),
            },
            _ => DirKind::ResetPassword { user },
        };
        let net = self.user_net(admin, weekend);
        self.push(
            at,
            ActKind::Dir(DirOp {
                who: Who::User(admin),
                net,
                agent: Agent::Device(t.users[admin].device),
                op,
                ok: true,
            }),
            out,
        );
    }

    /// An honest reseller staff member at work in the tenant (office or VPN).
    fn partner(&mut self, at: i64, out: &mut Vec<Act>) {
        let nu = self.t.users.len();
        let w = self.w;
        let staff = w.partner_staff[self.ev.index(w.partner_staff.len())];
        let mut net = *self.ev.pick(&w.partner_office);
        if let Some(vpn) = w.partner_vpn
            && self.ev.chance(0.35)
        {
            net = vpn;
        }
        let agent = Agent::Device(w.partner().users[staff].device);
        let client = if self.ev.chance(0.6) {
            fp::O365_PORTAL
        } else {
            fp::AZURE_PORTAL
        };
        self.push(
            at,
            ActKind::SignIn(SignIn {
                kind: SigninKind::Interactive,
                who: Who::Partner(staff),
                client: Client::FirstParty(client),
                resource: fp::AAD_GRAPH,
                net,
                agent,
                error: 0,
                key: Key::None,
            }),
            out,
        );
        let user = self.ev.index(nu);
        let op = if self.ev.chance(0.5) {
            DirKind::ChangeLicense {
                user,
                sku: self.ev.index(names::SKUS.len()),
            }
        } else {
            DirKind::ResetPassword { user }
        };
        let dt = 60_000 + self.ev.below(10 * 60_000) as i64;
        self.push(
            at + dt,
            ActKind::Dir(DirOp {
                who: Who::Partner(staff),
                net,
                agent,
                op,
                ok: true,
            }),
            out,
        );
    }
}
