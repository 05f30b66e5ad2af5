//! The storyline acts of the world's variations (see [`crate::variations`]): mass-reading
//! services at work, a tenant admin consenting to a mail-settings application, and a stolen
//! account's owner working honestly in a decoy tenant with habits of their own, and the intruder
//! acting with a tenant administrator's replayed token.

use crate::names::{self, FirstParty, fp};
use crate::story::{
    AGENT_PS, ActKind, Agent, DirKind, GraphCall, GraphUri, Key, MailBy, MailRead, SpRef, Story,
    Technique, Who,
};
use crate::world::{DAY, HOUR, MailSettings, Net};

/// User agents of the mass-reading services' Graph clients.
const READER_AGENTS: [&str; 3] = [
    "ArchiveConnector/4.2 (Microsoft Graph SDK)",
    "eDiscoveryCollector/2.9",
    "BackupAgent/12.4 (Microsoft Graph SDK)",
];

impl Story<'_> {
    fn resource_of(&self, sp: usize) -> FirstParty {
        if self.t.sps[sp].role.resource.app_id == fp::EXCHANGE.app_id {
            fp::EXCHANGE
        } else {
            fp::GRAPH
        }
    }

    /// A mass-reading service: every few hours, from the next address of its provider's pool,
    /// it signs in and reads 3–7 mailboxes in turn, from the first hour of the logs to the last.
    pub(crate) fn mass_reader(&mut self, sp: usize, service: usize) {
        let w = self.w;
        let t = self.t;
        let pool = &w.mass_readers[service].pool;
        let n_users = t.users.len();
        if pool.is_empty() || n_users == 0 {
            return;
        }
        let resource = self.resource_of(sp);
        let graph = t.profile.graph_activity && resource.app_id == fp::GRAPH.app_id;
        let ua = READER_AGENTS[service % READER_AGENTS.len()];
        let mut next = self.rng.index(pool.len());
        let mut cursor = self.rng.index(n_users);
        let mut at = t.log_start + self.jitter(20 * 60_000);
        while at < w.end {
            let net = pool[next % pool.len()];
            next += 1 + self.rng.index(2);
            self.sp_signin(at, None, sp, net, Key::Existing, resource);
            let k = (self.rng.between(3, 7) as usize).min(n_users);
            let mut rt = at + 20_000 + self.jitter(60_000);
            for _ in 0..k {
                let mailbox = cursor % n_users;
                cursor += 1;
                if graph {
                    let uri = GraphUri::UserMessages(mailbox);
                    let call = GraphCall {
                        who: Who::App(sp),
                        client: crate::story::Client::Sp(sp),
                        uri,
                        status: 200,
                        net,
                        ua,
                    };
                    self.push(rt, None, ActKind::Graph(call));
                }
                let items = self.rng.between(10, 200) as u8;
                let read = MailRead {
                    mailbox,
                    by: MailBy::App(sp),
                    net,
                    sync: true,
                    items,
                    folder: 0,
                };
                self.push(rt + 1_500, None, ActKind::Mail(read));
                rt += 5_000 + self.jitter(40_000);
            }
            at += 2 * HOUR + self.jitter(4 * HOUR);
        }
    }

    /// The tenant's own admin, from the office, grants a mail-settings application its mail
    /// permission and consents for the organisation; the application then signs in from its own
    /// cloud addresses (and did so before, when it was already in use).
    pub(crate) fn admin_consent(&mut self, m: MailSettings) {
        let (sp, admin) = (m.sp, m.admin);
        let w = self.w;
        let t = self.t;
        let first = (t.log_start - w.start) / DAY + 1;
        let days = i64::from(w.days);
        let day = first + self.rng.below((days - first - 1).max(1) as u64) as i64;
        // Inside this tenant's logs, whatever their start and length.
        let at = self.office_time(day, t.place.utc_offset).clamp(
            t.log_start + HOUR,
            (w.end - 2 * HOUR).max(t.log_start + HOUR),
        );
        let net = *self.rng.pick(&t.office);
        let agent = Agent::Device(t.users[admin].device);
        let role = t.sps[sp].role;
        let grant = DirKind::AddAppRoleAssignment { sp, role };
        self.dir(at, None, Who::User(admin), net, agent, grant);
        let consent = DirKind::Consent {
            sp: SpRef::Tenant(sp),
            admin: true,
            app_only: true,
            scopes: role.value,
        };
        let ct = at + 1_000 + self.jitter(3_000);
        self.dir(ct, None, Who::User(admin), net, agent, consent);
        let resource = self.resource_of(sp);
        if m.seen_before {
            // An application in use, granted one more permission.
            let mut st = t.log_start + self.jitter(6 * HOUR);
            while st < at {
                let net = *self.rng.pick(&t.sps[sp].ips);
                self.sp_signin(st, None, sp, net, Key::Existing, resource);
                st += 6 * HOUR + self.jitter(12 * HOUR);
            }
        }
        let mut st = at + 10 * 60_000 + self.jitter(HOUR);
        for _ in 0..self.rng.between(3, 6) {
            let net = *self.rng.pick(&t.sps[sp].ips);
            self.sp_signin(st, None, sp, net, Key::Existing, resource);
            st += 3 * HOUR + self.jitter(12 * HOUR);
        }
    }

    /// The intruder, with a token of the tenant's own administrator replayed from its host,
    /// grants another application of the tenant a mail permission for later use (`--vary`'s
    /// `own_admin_token`): a directory change by the administrator from the intruder's address,
    /// with no sign-in of the administrator from there and no use of the permission in the logs.
    pub(crate) fn replayed_admin_grant(
        &mut self,
        (admin, sp): (usize, usize),
        net: Net,
        after: i64,
    ) {
        let at = after + 10 * 60_000 + self.jitter(20 * 60_000);
        let role = if self.rng.chance(0.5) {
            names::FULL_ACCESS_AS_APP
        } else {
            names::MAIL_READWRITE
        };
        let grant = DirKind::AddAppRoleAssignment { sp, role };
        let tech = Some(Technique::MailPermissionGranted);
        self.dir(at, tech, Who::User(admin), net, AGENT_PS, grant);
    }

    /// A stolen account's owner working honestly here: on some days before and during the
    /// attack (at least once during it), once or twice a day, from the reseller's office, its VPN
    /// or (for some owners, before the attack as well) their home.
    pub(crate) fn owner_habit(&mut self, acct: usize) {
        let w = self.w;
        let off = w.partner().place.utc_offset;
        let home = w.partner().users[acct].home;
        let p_day = 0.4 + 0.6 * self.rng.unit();
        let p_home = if self.rng.chance(0.5) {
            0.1 + 0.3 * self.rng.unit()
        } else {
            0.0
        };
        let first = (self.t.log_start - w.start) / DAY;
        if p_home > 0.0 {
            // Working from home is a habit: it shows before the attack too.
            let at = self.office_time(first + 1, off);
            if at < w.attack.start {
                self.partner_visit_from(at, acct, home);
            }
        }
        let mut during = false;
        for d in first..i64::from(w.days) {
            if !self.rng.chance(p_day) {
                continue;
            }
            for _ in 0..self.rng.between(1, 2) {
                let at = self.office_time(d, off);
                if at >= w.attack.end || at < self.t.log_start {
                    continue;
                }
                during |= at > w.attack.start;
                if self.rng.chance(p_home) {
                    self.partner_visit_from(at, acct, home);
                } else {
                    self.partner_visit(at, acct);
                }
            }
        }
        if !during {
            // At least once while the attack goes on.
            let at = w.attack.start + (w.attack.end - w.attack.start) / 2;
            self.partner_visit(at, acct);
        }
    }
}
