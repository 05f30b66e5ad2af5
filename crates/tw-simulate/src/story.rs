//! What happens, as abstract activities: a sign-in, a directory change, a mailbox read, an Exchange
//! cmdlet, a file access, a Graph request. Writers turn one activity into records of every log
//! that would see it (a directory change lands in the directory audit log and in the unified audit
//! log).
//!
//! This module also writes the fixed storyline of each tenant: the attack where the attacker
//! strikes, and the benign look-alikes that make false positives (the backup service reading mail,
//! honest partner staff at work, a secret rotation, a harmless inbox rule, ...). The background
//! noise, which grows with `--scale`, is in [`crate::background`].

use crate::names::{self, AppRole, FirstParty, Role, fp};
use crate::rng::Rng;
use crate::world::{DAY, ForwardVariant, HOUR, Net, SpKind, Strike, Tenant, World};

/// Attack techniques, as named in `truth.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Technique {
    /// The partner's delegated account signs in from the attacker's infrastructure.
    PartnerSigninNewInfra,
    /// The partner's delegated account signs in as the attacker through the partner's own VPN
    /// egress, an address honest staff share (only with `--partner-vpn`; not in [`Self::ALL`]).
    PartnerSigninSharedInfra,
    /// A credential is added to a service principal or its application.
    SpCredentialAdded,
    /// A mail permission is granted to the service principal.
    MailPermissionGranted,
    /// The service principal signs in with the new credential.
    SpSigninNewCredential,
    /// Mail read through the service principal (`MailItemsAccessed`).
    MailItemsAccessed,
    /// Mail read through the service principal, as Microsoft Graph logs it.
    GraphMailRead,
    /// The service principal lists the directory's users.
    DirectoryEnumeration,
    /// Mail forwarded out by an inbox rule or mailbox forwarding.
    InboxRuleForward,
    /// Domain federation changed.
    FederationModified,
    /// A privileged directory role added.
    PrivilegedRoleAdded,
    /// An attempt to read mail that failed (a refused Graph request, a refused service principal
    /// sign-in to the mail APIs).
    MailAccessFailed,
}

impl Technique {
    /// Every technique of the classic world.
    pub const ALL: [Technique; 11] = [
        Technique::PartnerSigninNewInfra,
        Technique::SpCredentialAdded,
        Technique::MailPermissionGranted,
        Technique::SpSigninNewCredential,
        Technique::MailItemsAccessed,
        Technique::GraphMailRead,
        Technique::DirectoryEnumeration,
        Technique::InboxRuleForward,
        Technique::FederationModified,
        Technique::PrivilegedRoleAdded,
        Technique::MailAccessFailed,
    ];

    /// The name used in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::PartnerSigninNewInfra => "partner_signin_new_infra",
            Technique::PartnerSigninSharedInfra => "partner_signin_shared_infra",
            Technique::SpCredentialAdded => "sp_credential_added",
            Technique::MailPermissionGranted => "mail_permission_granted",
            Technique::SpSigninNewCredential => "sp_signin_new_credential",
            Technique::MailItemsAccessed => "mail_items_accessed",
            Technique::GraphMailRead => "graph_mail_read",
            Technique::DirectoryEnumeration => "directory_enumeration",
            Technique::InboxRuleForward => "inbox_rule_forward",
            Technique::FederationModified => "federation_modified",
            Technique::PrivilegedRoleAdded => "privileged_role_added",
            Technique::MailAccessFailed => "mail_access_failed",
        }
    }
}

/// Who acts, relative to the tenant the activity happens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// A user of the tenant (index into its users).
    User(usize),
    /// A reseller user working through delegated administration (index into the reseller's users).
    Partner(usize),
    /// A service principal of the tenant (index into its service principals).
    App(usize),
}

/// The client application of a sign-in or request.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    /// A Microsoft application.
    FirstParty(FirstParty),
    /// One of the tenant's service principals.
    Sp(usize),
}

/// How the client presents itself.
#[derive(Debug, Clone, Copy)]
pub enum Agent {
    /// The user's usual device (index into [`names::DEVICES`]).
    Device(usize),
    /// A given user agent (operating system and browser as sign-in logs name them).
    Raw {
        /// User agent string.
        ua: &'static str,
        /// Operating system.
        os: &'static str,
        /// Browser.
        browser: &'static str,
    },
}

impl Agent {
    /// The user agent string.
    pub fn ua(&self) -> &'static str {
        match self {
            Agent::Device(d) => names::DEVICES[*d % names::DEVICES.len()].ua,
            Agent::Raw { ua, .. } => ua,
        }
    }
    /// Operating system and browser.
    pub fn os_browser(&self) -> (&'static str, &'static str) {
        match self {
            Agent::Device(d) => {
                let d = names::DEVICES[*d % names::DEVICES.len()];
                (d.os, d.browser)
            }
            Agent::Raw { os, browser, .. } => (os, browser),
        }
    }
}

/// The attacker's PowerShell session.
pub const AGENT_PS: Agent = Agent::Raw {
    ua: names::ATTACKER_UA_POWERSHELL,
    os: "Windows 10",
    browser: "",
};
/// The attacker's browser.
pub const AGENT_BROWSER: Agent = Agent::Raw {
    ua: names::ATTACKER_UA_BROWSER,
    os: "Windows 10",
    browser: "Chrome 120.0.0",
};
/// A script.
pub const AGENT_SCRIPT: Agent = Agent::Raw {
    ua: names::ATTACKER_UA_SCRIPT,
    os: "",
    browser: "",
};

/// Kinds of sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninKind {
    /// Interactive user sign-in.
    Interactive,
    /// Non-interactive user sign-in (token refresh).
    NonInteractive,
    /// Service principal sign-in (client credentials).
    ServicePrincipal,
}

/// The credential a service principal signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Not a service principal sign-in.
    None,
    /// Its usual credential.
    Existing,
    /// A credential added during the period.
    New(u128),
}

/// A sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SignIn {
    /// Interactive, non-interactive or service principal.
    pub kind: SigninKind,
    /// Who signs in.
    pub who: Who,
    /// Client application.
    pub client: Client,
    /// Resource signed in to.
    pub resource: FirstParty,
    /// From where.
    pub net: Net,
    /// With what.
    pub agent: Agent,
    /// Entra ID error code (0 success).
    pub error: u32,
    /// Credential of a service principal.
    pub key: Key,
}

/// A service principal named by a directory change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpRef {
    /// One of the tenant's service principals.
    Tenant(usize),
    /// The harmless third-party app users consent to.
    Harmless,
}

/// A directory change.
#[derive(Debug, Clone, Copy)]
pub enum DirKind {
    /// `Add service principal credentials`.
    AddSpCredentials {
        /// The service principal.
        sp: usize,
        /// New key id.
        key: u128,
    },
    /// `Update application – Certificates and secrets management `.
    UpdateAppCredentials {
        /// The application's service principal.
        sp: usize,
        /// New key id.
        key: u128,
        /// The previous key is removed (a rotation) rather than kept.
        replace: bool,
    },
    /// `Add app role assignment to service principal`.
    AddAppRoleAssignment {
        /// The client service principal.
        sp: usize,
        /// The permission.
        role: AppRole,
    },
    /// `Consent to application`.
    Consent {
        /// The application.
        sp: SpRef,
        /// Admin consent on behalf of all.
        admin: bool,
        /// Application permissions (else delegated scopes).
        app_only: bool,
        /// Permissions consented to.
        scopes: &'static str,
    },
    /// `Add delegated permission grant`.
    AddDelegatedGrant {
        /// The client service principal.
        sp: usize,
        /// Scopes granted.
        scopes: &'static str,
    },
    /// `Set federation settings on domain`.
    SetFederation,
    /// `Set domain authentication` (managed → federated).
    SetDomainAuth,
    /// `Add member to role`.
    AddMemberToRole {
        /// The new member.
        target: Who,
        /// The role.
        role: Role,
    },
    /// `Update user`.
    UpdateUser {
        /// The user.
        user: usize,
    },
    /// `Change user license`.
    ChangeLicense {
        /// The user.
        user: usize,
        /// Index into [`names::SKUS`].
        sku: usize,
    },
    /// `Reset user password`.
    ResetPassword {
        /// The user.
        user: usize,
    },
    /// `Add member to group`.
    AddMemberToGroup {
        /// The user.
        user: usize,
        /// Index into [`names::GROUPS`].
        group: usize,
    },
}

/// A directory change with its actor.
#[derive(Debug, Clone, Copy)]
pub struct DirOp {
    /// Who made it.
    pub who: Who,
    /// From where.
    pub net: Net,
    /// With what.
    pub agent: Agent,
    /// What.
    pub op: DirKind,
    /// Whether it succeeded.
    pub ok: bool,
}

/// How a mailbox owner reads mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerClient {
    /// Outlook on the web.
    Owa,
    /// Outlook desktop.
    Outlook,
    /// Outlook mobile.
    Mobile,
}

/// Who reads a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailBy {
    /// The owner.
    Owner(OwnerClient),
    /// A service principal of the tenant through Microsoft Graph or EWS.
    App(usize),
}

/// Mail items read in one mailbox (one `MailItemsAccessed` record).
#[derive(Debug, Clone, Copy)]
pub struct MailRead {
    /// The mailbox owner (user index).
    pub mailbox: usize,
    /// Reader.
    pub by: MailBy,
    /// From where.
    pub net: Net,
    /// Sync (whole folder) rather than Bind (single items).
    pub sync: bool,
    /// Items read.
    pub items: u8,
    /// Folder (index into [`names::FOLDERS`]).
    pub folder: usize,
}

/// An inbox rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Move newsletters to a folder.
    Newsletters,
    /// Forward to an external address and delete (index into the attacker's drops).
    ForwardTo(usize),
    /// Redirect to an external address (index into the attacker's drops).
    RedirectTo(usize),
}

/// Where a mailbox forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardTo {
    /// One of the attacker's external mailboxes.
    Drop(usize),
    /// A colleague (user index).
    Internal(usize),
}

/// An Exchange cmdlet.
#[derive(Debug, Clone, Copy)]
pub enum ExoOp {
    /// `New-InboxRule`.
    NewRule {
        /// Mailbox (user index).
        mailbox: usize,
        /// The rule.
        rule: Rule,
    },
    /// `Set-InboxRule`.
    SetRule {
        /// Mailbox (user index).
        mailbox: usize,
        /// The rule after the change.
        rule: Rule,
    },
    /// `Set-Mailbox -ForwardingSmtpAddress`.
    SetForwarding {
        /// Mailbox (user index).
        mailbox: usize,
        /// Forwarding target.
        to: ForwardTo,
    },
}

/// An Exchange cmdlet with its actor.
#[derive(Debug, Clone, Copy)]
pub struct ExoAdmin {
    /// Who ran it.
    pub who: Who,
    /// From where.
    pub net: Net,
    /// What.
    pub op: ExoOp,
}

/// A SharePoint or OneDrive file operation.
#[derive(Debug, Clone, Copy)]
pub struct FileOp {
    /// The user.
    pub user: usize,
    /// 0 accessed, 1 modified, 2 downloaded.
    pub op: u8,
    /// Index into [`names::DOCUMENTS`].
    pub doc: usize,
    /// In the user's OneDrive rather than the team site.
    pub onedrive: bool,
    /// From where.
    pub net: Net,
    /// With what.
    pub agent: Agent,
}

/// What a Graph request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphUri {
    /// `/users/{id}/messages`.
    UserMessages(usize),
    /// `/users`.
    Users,
    /// `/me`.
    Me,
    /// `/me/messages`.
    MeMessages,
    /// `/me/events`.
    MeEvents,
    /// `/me/drive/recent`.
    MeDrive,
}

/// A Microsoft Graph request.
#[derive(Debug, Clone, Copy)]
pub struct GraphCall {
    /// Caller: a user (delegated) or a service principal (application).
    pub who: Who,
    /// Client application.
    pub client: Client,
    /// What.
    pub uri: GraphUri,
    /// HTTP status.
    pub status: u16,
    /// From where.
    pub net: Net,
    /// User agent.
    pub ua: &'static str,
}

/// One activity.
#[derive(Debug, Clone, Copy)]
pub enum ActKind {
    /// A sign-in.
    SignIn(SignIn),
    /// A directory change.
    Dir(DirOp),
    /// Mail read.
    Mail(MailRead),
    /// An Exchange cmdlet.
    Exo(ExoAdmin),
    /// A file operation.
    File(FileOp),
    /// A Graph request.
    Graph(GraphCall),
}

/// An activity at a time, with the entropy its records' identifiers derive from.
#[derive(Debug, Clone, Copy)]
pub struct Act {
    /// Unix milliseconds.
    pub t: i64,
    /// Tie-breaker for equal times.
    pub seq: u64,
    /// Entropy for identifiers.
    pub id: u64,
    /// The technique, for the attacker's activities.
    pub mal: Option<Technique>,
    /// What happens.
    pub kind: ActKind,
}

/// Collects a tenant's storyline.
pub(crate) struct Story<'w> {
    pub(crate) w: &'w World,
    pub(crate) t: &'w Tenant,
    pub(crate) rng: Rng,
    pub(crate) acts: Vec<Act>,
}

impl Story<'_> {
    pub(crate) fn push(&mut self, t: i64, mal: Option<Technique>, kind: ActKind) {
        if t < self.w.start || t >= self.w.end {
            return;
        }
        let seq = (1u64 << 62) + self.acts.len() as u64;
        let id = self.rng.next_u64();
        self.acts.push(Act {
            t,
            seq,
            id,
            mal,
            kind,
        });
    }

    pub(crate) fn jitter(&mut self, max_ms: i64) -> i64 {
        self.rng.below(max_ms.max(1) as u64) as i64
    }

    /// A moment in local office hours on a weekday on or after day `day` (0-based).
    pub(crate) fn office_time(&mut self, day: i64, place_offset: i64) -> i64 {
        let mut d = day;
        for _ in 0..7 {
            let weekday = (self.w.start / DAY + d + 3).rem_euclid(7); // 0 = Monday
            if weekday < 5 {
                break;
            }
            d += 1;
        }
        let local_hour = self.rng.between(9, 16) as i64;
        self.w.start + d * DAY + (local_hour - place_offset) * HOUR + self.jitter(HOUR)
    }

    pub(crate) fn user_net(&mut self, u: usize) -> Net {
        if self.rng.chance(0.7) {
            *self.rng.pick(&self.t.office)
        } else {
            self.t.users[u].home
        }
    }

    pub(crate) fn admin(&mut self) -> usize {
        let admins: Vec<usize> = self.t.admins().collect();
        if admins.is_empty() {
            0
        } else {
            admins[self.rng.index(admins.len())]
        }
    }

    fn partner_signin(
        &mut self,
        t: i64,
        staff: usize,
        net: Net,
        agent: Agent,
        mal: Option<Technique>,
    ) {
        let client = if mal.is_some() {
            if self.rng.chance(0.5) {
                fp::AAD_POWERSHELL
            } else {
                fp::AZURE_PORTAL
            }
        } else if self.rng.chance(0.6) {
            fp::O365_PORTAL
        } else {
            fp::AZURE_PORTAL
        };
        let agent = if mal.is_some() && client.app_id == fp::AZURE_PORTAL.app_id {
            AGENT_BROWSER
        } else {
            agent
        };
        self.push(
            t,
            mal,
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
        );
        let n = self.rng.between(1, 2);
        for _ in 0..n {
            let dt = self.jitter(25 * 60_000) + 60_000;
            let resource = if self.rng.chance(0.5) {
                fp::GRAPH
            } else {
                fp::ARM
            };
            self.push(
                t + dt,
                mal,
                ActKind::SignIn(SignIn {
                    kind: SigninKind::NonInteractive,
                    who: Who::Partner(staff),
                    client: Client::FirstParty(client),
                    resource,
                    net,
                    agent,
                    error: 0,
                    key: Key::None,
                }),
            );
        }
    }

    /// An honest partner visit: sign-in from the office (or its VPN), then routine changes.
    pub(crate) fn partner_visit(&mut self, t: i64, staff: usize) {
        let mut net = *self.rng.pick(&self.w.partner_office);
        if let Some(vpn) = self.w.partner_vpn
            && self.rng.chance(0.35)
        {
            net = vpn;
        }
        self.partner_visit_from(t, staff, net);
    }

    /// An honest partner visit from `net`.
    pub(crate) fn partner_visit_from(&mut self, t: i64, staff: usize, net: Net) {
        let agent = Agent::Device(self.w.partner().users[staff].device);
        self.partner_signin(t, staff, net, agent, None);
        let n = self.rng.between(1, 3);
        let mut at = t + 3 * 60_000;
        for _ in 0..n {
            at += self.jitter(10 * 60_000) + 30_000;
            let user = self.rng.index(self.t.users.len());
            let op = match self.rng.below(3) {
                0 => DirKind::ChangeLicense {
                    user,
                    sku: self.rng.index(names::SKUS.len()),
                },
                1 => DirKind::ResetPassword { user },
                _ => DirKind::UpdateUser { user },
            };
            self.push(
                at,
                None,
                ActKind::Dir(DirOp {
                    who: Who::Partner(staff),
                    net,
                    agent,
                    op,
                    ok: true,
                }),
            );
        }
    }

    pub(crate) fn dir(
        &mut self,
        t: i64,
        mal: Option<Technique>,
        who: Who,
        net: Net,
        agent: Agent,
        op: DirKind,
    ) {
        self.push(
            t,
            mal,
            ActKind::Dir(DirOp {
                who,
                net,
                agent,
                op,
                ok: true,
            }),
        );
    }

    pub(crate) fn sp_signin(
        &mut self,
        t: i64,
        mal: Option<Technique>,
        sp: usize,
        net: Net,
        key: Key,
        resource: FirstParty,
    ) {
        self.push(
            t,
            mal,
            ActKind::SignIn(SignIn {
                kind: SigninKind::ServicePrincipal,
                who: Who::App(sp),
                client: Client::Sp(sp),
                resource,
                net,
                agent: AGENT_SCRIPT,
                error: 0,
                key,
            }),
        );
    }

    /// The attacker in the reseller's own tenant, with every stolen account.
    fn attacker_at_home(&mut self) {
        for &acct in &self.w.attack.stolen {
            self.account_at_home(acct);
        }
    }

    /// The attacker signing in as one stolen account in the reseller's own tenant.
    fn account_at_home(&mut self, acct: usize) {
        let w = self.w;
        let a = &w.attack;
        let mut t = a.start - self.rng.between(1, 3) as i64 * HOUR + self.jitter(HOUR);
        let mut day = 0;
        while t < a.end {
            let net = a.ips[day % 2];
            let client = if day == 0 {
                fp::O365_PORTAL
            } else {
                fp::OFFICE
            };
            self.push(
                t,
                Some(Technique::PartnerSigninNewInfra),
                ActKind::SignIn(SignIn {
                    kind: SigninKind::Interactive,
                    who: Who::User(acct),
                    client: Client::FirstParty(client),
                    resource: fp::AAD_GRAPH,
                    net,
                    agent: AGENT_BROWSER,
                    error: 0,
                    key: Key::None,
                }),
            );
            let dt = self.jitter(40 * 60_000) + 60_000;
            self.push(
                t + dt,
                Some(Technique::PartnerSigninNewInfra),
                ActKind::SignIn(SignIn {
                    kind: SigninKind::NonInteractive,
                    who: Who::User(acct),
                    client: Client::FirstParty(client),
                    resource: fp::GRAPH,
                    net,
                    agent: AGENT_BROWSER,
                    error: 0,
                    key: Key::None,
                }),
            );
            day += 1;
            t += DAY + self.jitter(4 * HOUR) - 2 * HOUR;
        }
    }

    /// The attack in one customer tenant.
    fn strike(&mut self, s: &Strike) {
        let w = self.w;
        let a = &w.attack;
        let attacker_net = a.ips[(s.tenant + 1) % 2];
        let admin_net = match w.partner_vpn {
            Some(vpn) if s.via_vpn => vpn,
            _ => attacker_net,
        };
        let app_net = if w.vary.attacker_reuse {
            attacker_net
        } else {
            a.ips[2 + s.tenant % (a.ips.len() - 2).max(1)]
        };
        let signin_tech = if s.via_vpn && w.partner_vpn.is_some() {
            Technique::PartnerSigninSharedInfra
        } else {
            Technique::PartnerSigninNewInfra
        };
        self.partner_signin(s.visit, s.account, admin_net, AGENT_PS, Some(signin_tech));
        let key = self.rng.next_u128();
        let at = self.grant_mail_access(s, admin_net, key);
        if let Some((admin, sp)) = s.hijacked_admin {
            self.replayed_admin_grant((admin, sp), attacker_net, at);
        }
        self.takeover_steps(s, admin_net, at);
        self.app_at_work(s, app_net, key);
    }

    /// A change the stolen account makes in the attacked tenant, as the attacker.
    fn attacker_dir(&mut self, at: i64, tech: Technique, s: &Strike, net: Net, op: DirKind) {
        self.dir(at, Some(tech), Who::Partner(s.account), net, AGENT_PS, op);
    }

    /// The new credential on the application, then its mail permission (application, admin
    /// consent, delegated grant) unless this strike fails. Returns the time of the last change.
    fn grant_mail_access(&mut self, s: &Strike, net: Net, key: u128) -> i64 {
        use Technique as T;
        let mut at = s.visit + 4 * 60_000 + self.jitter(5 * 60_000);
        let op = if s.via_application {
            DirKind::UpdateAppCredentials {
                sp: s.sp,
                key,
                replace: false,
            }
        } else {
            DirKind::AddSpCredentials { sp: s.sp, key }
        };
        self.attacker_dir(at, T::SpCredentialAdded, s, net, op);
        if s.failed {
            return at;
        }
        at += 60_000 + self.jitter(4 * 60_000);
        let op = DirKind::AddAppRoleAssignment {
            sp: s.sp,
            role: s.role,
        };
        self.attacker_dir(at, T::MailPermissionGranted, s, net, op);
        if s.consent {
            at += 1_000 + self.jitter(3_000);
            let op = DirKind::Consent {
                sp: SpRef::Tenant(s.sp),
                admin: true,
                app_only: true,
                scopes: s.role.value,
            };
            self.attacker_dir(at, T::MailPermissionGranted, s, net, op);
        }
        if s.delegated {
            at += 30_000 + self.jitter(60_000);
            let op = DirKind::AddDelegatedGrant {
                sp: s.sp,
                scopes: "Mail.Read Mail.ReadWrite offline_access",
            };
            self.attacker_dir(at, T::MailPermissionGranted, s, net, op);
        }
        at
    }

    /// Federation, a privileged role and mail forwarding, where the strike has them, one after
    /// the other from `at`.
    fn takeover_steps(&mut self, s: &Strike, net: Net, mut at: i64) {
        use Technique as T;
        if s.federation {
            at += 2 * 60_000 + self.jitter(3 * 60_000);
            self.attacker_dir(at, T::FederationModified, s, net, DirKind::SetFederation);
            at += 20_000 + self.jitter(30_000);
            self.attacker_dir(at, T::FederationModified, s, net, DirKind::SetDomainAuth);
        }
        if s.privileged {
            at += 60_000 + self.jitter(3 * 60_000);
            let op = DirKind::AddMemberToRole {
                target: Who::App(s.sp),
                role: names::ROLE_GLOBAL_ADMIN,
            };
            self.attacker_dir(at, T::PrivilegedRoleAdded, s, net, op);
        }
        if let Some(v) = s.forward {
            at += 3 * 60_000 + self.jitter(5 * 60_000);
            let op = forward_op(s, v, self.w.attack.drops.len());
            self.push(
                at,
                Some(T::InboxRuleForward),
                ActKind::Exo(ExoAdmin {
                    who: Who::Partner(s.account),
                    net,
                    op,
                }),
            );
        }
    }

    /// The backdoored service principal at work with its new credential: 3–5 sessions, each
    /// signing in and reading the strike's mailboxes (refused where the strike fails).
    fn app_at_work(&mut self, s: &Strike, net: Net, key: u128) {
        let graph_logs = self.t.profile.graph_activity;
        let sessions = self.rng.between(3, 5);
        let mut st = s.visit + 40 * 60_000 + self.jitter(50 * 60_000);
        let resource = if s.role.resource.app_id == fp::EXCHANGE.app_id {
            fp::EXCHANGE
        } else {
            fp::GRAPH
        };
        if s.failed {
            self.refused_secret(s, net, key, resource, st);
        }
        for i in 0..sessions {
            self.sp_signin(
                st,
                Some(Technique::SpSigninNewCredential),
                s.sp,
                net,
                Key::New(key),
                resource,
            );
            let mut rt = st + 20_000 + self.jitter(60_000);
            if i == 0 && graph_logs {
                let call = attacker_call(s, GraphUri::Users, 200, net);
                self.push(rt, Some(Technique::DirectoryEnumeration), call);
                rt += 5_000 + self.jitter(20_000);
            }
            for (k, &mb) in s.mailboxes.iter().enumerate() {
                if s.failed {
                    if k < 4 {
                        let call = attacker_call(s, GraphUri::UserMessages(mb), 403, net);
                        self.push(rt, Some(Technique::MailAccessFailed), call);
                    }
                    rt += 2_000 + self.jitter(8_000);
                    continue;
                }
                if i > 0 && self.rng.chance(0.4) {
                    continue;
                }
                rt = self.read_mailbox(s, mb, net, resource, rt);
            }
            st += 4 * HOUR + self.jitter(10 * HOUR);
            if st >= self.w.attack.end {
                break;
            }
        }
    }

    /// The new secret tried against the mail API before it is usable: refused (AADSTS7000215),
    /// the signal that exposed the 2020 breach. `st` is when the first session starts.
    fn refused_secret(&mut self, s: &Strike, net: Net, key: u128, resource: FirstParty, st: i64) {
        let tries = self.rng.between(1, 3);
        let mut ft = st - 15 * 60_000 - self.jitter(5 * 60_000);
        for _ in 0..tries {
            self.push(
                ft,
                Some(Technique::MailAccessFailed),
                ActKind::SignIn(SignIn {
                    kind: SigninKind::ServicePrincipal,
                    who: Who::App(s.sp),
                    client: Client::Sp(s.sp),
                    resource,
                    net,
                    agent: AGENT_SCRIPT,
                    error: 7000215,
                    key: Key::New(key),
                }),
            );
            ft += 30_000 + self.jitter(3 * 60_000);
        }
    }

    /// One or two reads of mailbox `mb` through the application from `rt` (through Graph when
    /// it is the resource and its activity is logged); returns when the next read starts.
    fn read_mailbox(
        &mut self,
        s: &Strike,
        mb: usize,
        net: Net,
        resource: FirstParty,
        mut rt: i64,
    ) -> i64 {
        let graph_logs = self.t.profile.graph_activity;
        let reads = self.rng.between(1, 2);
        for _ in 0..reads {
            if graph_logs && resource.app_id == fp::GRAPH.app_id {
                let call = attacker_call(s, GraphUri::UserMessages(mb), 200, net);
                self.push(rt, Some(Technique::GraphMailRead), call);
            }
            let items = self.rng.between(5, 60) as u8;
            let folder = if self.rng.chance(0.7) {
                0
            } else {
                self.rng.index(names::FOLDERS.len())
            };
            let mt = rt + 1_500 + self.jitter(3_000);
            self.push(
                mt,
                Some(Technique::MailItemsAccessed),
                ActKind::Mail(MailRead {
                    mailbox: mb,
                    by: MailBy::App(s.sp),
                    net,
                    sync: false,
                    items,
                    folder,
                }),
            );
            rt += 10_000 + self.jitter(40_000);
        }
        rt
    }

    /// The backup service: nightly reads of a few mailboxes, from its own addresses.
    fn backup(&mut self, sp: usize) {
        let w = self.w;
        let graph_logs = self.t.profile.graph_activity;
        let n_users = self.t.users.len();
        for d in 0..i64::from(w.days) {
            let mut t = w.start
                + d * DAY
                + (1 - self.t.place.utc_offset).rem_euclid(24) * HOUR
                + self.jitter(HOUR);
            let net = *self.rng.pick(&w.backup_ips);
            self.sp_signin(t, None, sp, net, Key::Existing, fp::EXCHANGE);
            for k in 0..2.min(n_users) {
                t += 30_000 + self.jitter(120_000);
                let mailbox = (d as usize * 2 + k) % n_users;
                if graph_logs {
                    self.push(
                        t,
                        None,
                        ActKind::Graph(GraphCall {
                            who: Who::App(sp),
                            client: Client::Sp(sp),
                            uri: GraphUri::UserMessages(mailbox),
                            status: 200,
                            net,
                            ua: "BackupAgent/12.4 (Microsoft Graph SDK)",
                        }),
                    );
                }
                let items = self.rng.between(20, 200) as u8;
                self.push(
                    t + 2_000,
                    None,
                    ActKind::Mail(MailRead {
                        mailbox,
                        by: MailBy::App(sp),
                        net,
                        sync: true,
                        items,
                        folder: 0,
                    }),
                );
            }
        }
    }

    fn lookalikes(&mut self) {
        let w = self.w;
        let t = self.t;
        let la = t.lookalikes;
        let days = i64::from(w.days);
        let off = t.place.utc_offset;
        if la.rotation {
            let lob: Vec<usize> = (0..t.sps.len())
                .filter(|i| t.sps[*i].kind == SpKind::LineOfBusiness)
                .collect();
            if !lob.is_empty() {
                let sp = lob[self.rng.index(lob.len())];
                let day = self.rng.below(days.max(1) as u64) as i64;
                let at = self.office_time(day, off);
                let admin = self.admin();
                let net = *self.rng.pick(&t.office);
                let agent = Agent::Device(t.users[admin].device);
                let key = self.rng.next_u128();
                let op = if t.sps[sp].app_object_id.is_some() {
                    DirKind::UpdateAppCredentials {
                        sp,
                        key,
                        replace: true,
                    }
                } else {
                    DirKind::AddSpCredentials { sp, key }
                };
                self.dir(at, None, Who::User(admin), net, agent, op);
                let mut st = at + 20 * 60_000 + self.jitter(HOUR);
                for _ in 0..3 {
                    let net = *self.rng.pick(&t.sps[sp].ips);
                    self.sp_signin(st, None, sp, net, Key::New(key), fp::GRAPH);
                    st += 2 * HOUR + self.jitter(6 * HOUR);
                }
            }
        }
        if la.harmless_rule {
            let u = self.rng.index(t.users.len());
            let day = self.rng.below(days as u64) as i64;
            let at = self.office_time(day, off);
            let net = self.user_net(u);
            self.push(
                at,
                None,
                ActKind::Exo(ExoAdmin {
                    who: Who::User(u),
                    net,
                    op: ExoOp::NewRule {
                        mailbox: u,
                        rule: Rule::Newsletters,
                    },
                }),
            );
        }
        if la.internal_forward && t.users.len() > 2 {
            let admin = self.admin();
            let leaver = t.users.len() - 1;
            let to = (leaver + 1 + self.rng.index(t.users.len() - 2)) % t.users.len();
            let day = self.rng.below(days as u64) as i64;
            let at = self.office_time(day, off);
            let net = *self.rng.pick(&t.office);
            self.push(
                at,
                None,
                ActKind::Exo(ExoAdmin {
                    who: Who::User(admin),
                    net,
                    op: ExoOp::SetForwarding {
                        mailbox: leaver,
                        to: ForwardTo::Internal(to),
                    },
                }),
            );
        }
        if la.role_add && t.users.len() > 2 {
            let admin = self.admin();
            let target = t.users.len() - 2;
            let day = self.rng.below(days as u64) as i64;
            let at = self.office_time(day, off);
            let net = *self.rng.pick(&t.office);
            let agent = Agent::Device(t.users[admin].device);
            let role = if self.rng.chance(0.6) {
                names::ROLE_HELPDESK
            } else {
                names::ROLE_APP_ADMIN
            };
            self.dir(
                at,
                None,
                Who::User(admin),
                net,
                agent,
                DirKind::AddMemberToRole {
                    target: Who::User(target),
                    role,
                },
            );
        }
        if la.consent {
            let u = self.rng.index(t.users.len());
            let day = self.rng.below(days as u64) as i64;
            let at = self.office_time(day, off);
            let net = self.user_net(u);
            let agent = Agent::Device(t.users[u].device);
            self.dir(
                at,
                None,
                Who::User(u),
                net,
                agent,
                DirKind::Consent {
                    sp: SpRef::Harmless,
                    admin: false,
                    app_only: false,
                    scopes: "User.Read Calendars.ReadWrite offline_access",
                },
            );
        }
    }

    fn partner_routine(&mut self) {
        let w = self.w;
        let days = i64::from(w.days);
        let off = w.partner().place.utc_offset;
        let visits = self.rng.between(1, 3);
        for _ in 0..visits {
            let day = self.rng.below(days as u64) as i64;
            let at = self.office_time(day, off);
            let staff = if self.rng.chance(0.25) {
                w.partner_account
            } else {
                w.partner_staff[self.rng.index(w.partner_staff.len())]
            };
            self.partner_visit(at, staff);
        }
        let a = &w.attack;
        if self.t.index == a.owner_busy && w.vary.owner_habits {
            self.owner_habit(w.partner_account);
        } else if self.t.index == a.owner_busy {
            // The stolen account's owner keeps working here, from the office, during the attack.
            let first_day = (a.start - w.start) / DAY;
            let mut placed = false;
            for d in first_day..days {
                let at = self.office_time(d, off);
                if at > a.start && at < a.end - HOUR {
                    self.partner_visit(at, w.partner_account);
                    placed = true;
                }
            }
            if !placed {
                let at = a.start + (a.end - a.start) / 2;
                self.partner_visit(at, w.partner_account);
            }
        }
        if let Some(s) = w.strike(self.t.index) {
            // The owner worked here honestly before the attack.
            let day = ((s.visit - w.start) / DAY - 1 - self.rng.below(3) as i64).max(0);
            let at = self.office_time(day, off);
            if at < s.visit {
                self.partner_visit(at, s.account);
            }
        }
        for &(t, acct) in &w.attack.decoys {
            if t == self.t.index {
                self.owner_habit(acct);
            }
        }
    }
}

/// The fixed storyline of tenant `index`: attack and look-alikes, in time order.
pub fn storyline(w: &World, index: usize) -> Vec<Act> {
    let t = &w.tenants[index];
    let mut s = Story {
        w,
        t,
        rng: Rng::derive(w.seed, &[2, index as u64]),
        acts: Vec::new(),
    };
    if t.is_partner {
        s.attacker_at_home();
    } else {
        if t.partner_customer {
            s.partner_routine();
        }
        if let Some(sp) = t.backup {
            s.backup(sp);
        }
        s.lookalikes();
        if let Some((sp, service)) = t.mass_reader {
            s.mass_reader(sp, service);
        }
        if let Some(m) = t.mail_settings {
            s.admin_consent(m);
        }
        if let Some(strike) = w.strike(index) {
            s.strike(strike);
        }
    }
    let mut acts = s.acts;
    acts.sort_by_key(|a| (a.t, a.seq));
    acts
}

/// The forwarding a strike sets up, to one of `drops` external mailboxes.
fn forward_op(s: &Strike, v: ForwardVariant, drops: usize) -> ExoOp {
    let mailbox = s.mailboxes.first().copied().unwrap_or(0);
    let drop = s.tenant % drops.max(1);
    match v {
        ForwardVariant::RuleForwardTo => ExoOp::NewRule {
            mailbox,
            rule: Rule::ForwardTo(drop),
        },
        ForwardVariant::RuleRedirectTo => ExoOp::NewRule {
            mailbox,
            rule: Rule::RedirectTo(drop),
        },
        ForwardVariant::SetRule => ExoOp::SetRule {
            mailbox,
            rule: Rule::RedirectTo(drop),
        },
        ForwardVariant::MailboxForwarding => ExoOp::SetForwarding {
            mailbox,
            to: ForwardTo::Drop(drop),
        },
    }
}

/// A Graph call of the backdoored application from the attacker's script.
fn attacker_call(s: &Strike, uri: GraphUri, status: u16, net: Net) -> ActKind {
    ActKind::Graph(GraphCall {
        who: Who::App(s.sp),
        client: Client::Sp(s.sp),
        uri,
        status,
        net,
        ua: names::ATTACKER_UA_SCRIPT,
    })
}
