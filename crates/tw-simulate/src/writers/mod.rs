//! Physical formats: one module per export shape, plus the framing every file needs (JSON lines,
//! PowerShell arrays, Graph pages, Azure Monitor `{"records":[...]}` blobs, CSV with a BOM),
//! optional gzip, and the routing of each activity to the files of every log that sees it.
//!
//! Files are created on their first record and written as a stream: memory stays flat whatever
//! the volume. Every record written is counted, so the index of an attack record in its file is
//! known the moment it is written (see [`crate::truth`]).

pub mod audit_azure_monitor;
pub mod audit_graph;
pub mod audit_log_analytics_csv;
pub mod csv;
pub mod dir;
pub mod graph_activity;
pub mod json;
pub mod signin_azure_monitor;
pub mod signin_graph;
pub mod signin_log_analytics_csv;
pub mod ual_mgmt_api;
pub mod ual_office_activity_csv;
pub mod ual_purview_csv;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::story::{Act, ActKind, SigninKind, Technique, Who};
use crate::truth::MaliciousRecord;
use crate::world::{AuditFormat, SigninFormat, Sp, Tenant, UalFormat, User, World};

/// What a writer needs to render a record: the world and the tenant the activity happens in.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The world.
    pub w: &'a World,
    /// The tenant.
    pub t: &'a Tenant,
}

/// The actor of an activity, resolved.
#[derive(Clone, Copy)]
pub struct Actor<'a> {
    /// The user, when a person acts.
    pub user: Option<&'a User>,
    /// The service principal, when an application acts.
    pub sp: Option<&'a Sp>,
    /// The actor's home tenant.
    pub home: &'a Tenant,
}

impl<'a> Actor<'a> {
    /// UPN of a user, or the name of an application.
    pub fn name(&self) -> &'a str {
        match (self.user, self.sp) {
            (Some(u), _) => &u.upn,
            (None, Some(s)) => &s.name,
            _ => "",
        }
    }
    /// Object id of the user or the service principal.
    pub fn id(&self) -> &'a str {
        match (self.user, self.sp) {
            (Some(u), _) => &u.id,
            (None, Some(s)) => &s.object_id,
            _ => "",
        }
    }
    /// `UserKey` as the unified audit log shows it.
    pub fn puid(&self) -> &'a str {
        match (self.user, self.sp) {
            (Some(u), _) => &u.puid,
            (None, Some(s)) => &s.app_id,
            _ => "",
        }
    }
}

impl<'a> Ctx<'a> {
    /// Resolves an actor.
    pub fn actor(&self, who: Who) -> Actor<'a> {
        let w: &'a World = self.w;
        let t: &'a Tenant = self.t;
        match who {
            Who::User(u) => Actor {
                user: t.users.get(u),
                sp: None,
                home: t,
            },
            Who::Partner(u) => Actor {
                user: w.partner().users.get(u),
                sp: None,
                home: w.partner(),
            },
            Who::App(s) => Actor {
                user: None,
                sp: t.sps.get(s),
                home: t,
            },
        }
    }

    /// A user of the tenant (the first when out of range).
    pub fn user(&self, u: usize) -> &'a User {
        let t: &'a Tenant = self.t;
        t.users.get(u).unwrap_or(&t.users[0])
    }

    /// A service principal of the tenant (the first when out of range).
    pub fn sp(&self, s: usize) -> &'a Sp {
        let t: &'a Tenant = self.t;
        t.sps.get(s).unwrap_or(&t.sps[0])
    }
}

/// Which log an output file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Unified audit log.
    Ual,
    /// Interactive user sign-ins.
    SigninInteractive,
    /// Non-interactive user sign-ins.
    SigninNonInteractive,
    /// Service principal sign-ins.
    SigninSp,
    /// Directory audit log.
    Audit,
    /// Microsoft Graph activity log.
    GraphActivity,
}

const CHANNELS: usize = 6;

fn channel_index(c: Channel) -> usize {
    match c {
        Channel::Ual => 0,
        Channel::SigninInteractive => 1,
        Channel::SigninNonInteractive => 2,
        Channel::SigninSp => 3,
        Channel::Audit => 4,
        Channel::GraphActivity => 5,
    }
}

/// How the records of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON record per line.
    Lines,
    /// One JSON array formatted by PowerShell (BOM, CRLF, indented).
    PsArray,
    /// Graph response pages, one per line.
    GraphPages {
        /// `@odata.context` of the pages.
        context: &'static str,
        /// Records per page.
        page: u32,
    },
    /// Azure Monitor / Event Hub blobs `{"records":[...]}`, one per line.
    Records {
        /// Records per blob.
        per: u32,
    },
    /// CSV with a UTF-8 BOM and this header line.
    Csv {
        /// Header line (no line end).
        header: &'static str,
    },
}

/// The record shape written to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Management Activity API record.
    UalMgmtApi,
    /// Purview audit search CSV row.
    UalPurview,
    /// Classic audit log search CSV row.
    UalPurviewClassic,
    /// Graph beta sign-in.
    SigninGraph,
    /// Azure Monitor sign-in.
    SigninAzureMonitor,
    /// Graph directory audit.
    AuditGraph,
    /// Azure Monitor directory audit.
    AuditAzureMonitor,
    /// Log Analytics `AuditLogs` CSV row.
    AuditLogAnalyticsCsv,
    /// Azure Monitor Graph activity.
    GraphActivity,
    /// Log Analytics `OfficeActivity` CSV row without the tenant columns.
    UalOfficeActivityTenantless,
    /// Log Analytics user sign-in CSV row (`SigninLogs`, `AADNonInteractiveUserSignInLogs`)
    /// without the tenant columns.
    SigninLogAnalyticsUserTenantless,
    /// Log Analytics `AADServicePrincipalSignInLogs` CSV row without the tenant columns.
    SigninLogAnalyticsSpTenantless,
    /// Log Analytics `AuditLogs` CSV row without the tenant columns.
    AuditLogAnalyticsTenantless,
}

impl Shape {
    /// Its records carry no tenant id (Graph directory audits, projections without the tenant
    /// columns): only the folder's other files or a tenant map place them.
    pub fn tenantless(self) -> bool {
        matches!(
            self,
            Shape::AuditGraph
                | Shape::AuditLogAnalyticsTenantless
                | Shape::UalOfficeActivityTenantless
                | Shape::SigninLogAnalyticsUserTenantless
                | Shape::SigninLogAnalyticsSpTenantless
        )
    }
}

/// One output file of a tenant.
#[derive(Debug, Clone)]
pub struct FileSpec {
    /// Path relative to the tenant's folder.
    pub rel: String,
    /// Layout.
    pub framing: Framing,
    /// Record shape.
    pub shape: Shape,
    /// Gzip-compressed.
    pub gzip: bool,
}

enum Sink {
    Plain(BufWriter<File>),
    Gz(Box<GzEncoder<BufWriter<File>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gz(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gz(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gz(w) => w.flush(),
        }
    }
}

impl Sink {
    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gz(w) => w.finish()?.flush(),
        }
    }
}

struct OutFile {
    sink: Sink,
    count: u64,
    in_group: u32,
}

/// What a tenant's writing produced.
pub struct Written {
    /// `(truth path, records)` per file written.
    pub files: Vec<(String, u64)>,
    /// Attack records.
    pub malicious: Vec<MaliciousRecord>,
    /// Mailboxes the attacker read (UPNs, sorted).
    pub mailboxes_read: Vec<String>,
}

/// Paths of the simulator's output: where a tenant's files go on disk and how truth names them.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Directory the tenant's files are written under.
    pub dir: PathBuf,
    /// Prefix of truth paths (relative to `logs/`), ending in `/`.
    pub truth_prefix: String,
}

/// The files of one tenant and the truth gathered while writing them.
pub struct TenantFiles<'a> {
    ctx: Ctx<'a>,
    place: Placement,
    specs: Vec<FileSpec>,
    files: Vec<Option<OutFile>>,
    slots: Slots,
    rec: Vec<u8>,
    aux: Vec<u8>,
    aux2: Vec<u8>,
    /// Attack records written.
    pub malicious: Vec<MaliciousRecord>,
    /// Mailboxes read by the attacker (UPNs).
    pub mailboxes_read: std::collections::BTreeSet<String>,
}

fn date(ms: i64) -> String {
    let mut s = json::time_string(ms, json::TimeStyle::Seconds);
    s.truncate(10);
    s
}

/// Which files each channel writes to (a channel exported twice writes to two files).
pub type Slots = [Vec<usize>; CHANNELS];

/// The files of a tenant's plan as they are being added.
struct Planner<'a> {
    t: &'a Tenant,
    specs: Vec<FileSpec>,
    slots: Slots,
}

impl Planner<'_> {
    fn add(&mut self, c: &[Channel], rel: String, framing: Framing, shape: Shape, gzip: bool) {
        let tenantless_audit = matches!(
            shape,
            Shape::AuditGraph | Shape::AuditLogAnalyticsTenantless
        );
        let rel = self.t.place_rel(&rel, tenantless_audit);
        let rel = if gzip { format!("{rel}.gz") } else { rel };
        self.specs.push(FileSpec {
            rel,
            framing,
            shape,
            gzip,
        });
        for ch in c {
            self.slots[channel_index(*ch)].push(self.specs.len() - 1);
        }
    }

    fn ual(&mut self, format: UalFormat, range: &str) {
        let p = self.t.profile;
        let (rel, framing, shape) = match format {
            UalFormat::MgmtApiLines => (
                format!("ual/UnifiedAuditLog_{range}.json"),
                Framing::Lines,
                Shape::UalMgmtApi,
            ),
            UalFormat::MgmtApiArray => (
                format!("ual/AuditData_{range}.json"),
                Framing::PsArray,
                Shape::UalMgmtApi,
            ),
            UalFormat::PurviewCsv => (
                format!("ual/Audit_Search_{range}.csv"),
                Framing::Csv {
                    header: ual_purview_csv::HEADER,
                },
                Shape::UalPurview,
            ),
            UalFormat::PurviewCsvClassic => (
                format!("ual/AuditLog_{range}.csv"),
                Framing::Csv {
                    header: ual_purview_csv::HEADER_CLASSIC,
                },
                Shape::UalPurviewClassic,
            ),
            UalFormat::OfficeActivityTenantless => (
                format!("ual/OfficeActivity_{range}.csv"),
                Framing::Csv {
                    header: ual_office_activity_csv::HEADER,
                },
                Shape::UalOfficeActivityTenantless,
            ),
        };
        self.add(&[Channel::Ual], rel, framing, shape, p.gzip_ual);
    }

    fn signins(&mut self, format: SigninFormat, range: &str) {
        let gz = self.t.profile.gzip_signins;
        match format {
            SigninFormat::GraphBeta => {
                for (c, name) in [
                    (Channel::SigninInteractive, "interactiveUser"),
                    (Channel::SigninNonInteractive, "nonInteractiveUser"),
                    (Channel::SigninSp, "servicePrincipal"),
                ] {
                    let framing = Framing::GraphPages {
                        context: signin_graph::CONTEXT,
                        page: 500,
                    };
                    let rel = format!("entra/signIns_{name}.json");
                    self.add(&[c], rel, framing, Shape::SigninGraph, gz);
                }
            }
            SigninFormat::AzureMonitorStorage => {
                for (c, name) in [
                    (Channel::SigninInteractive, "signinlogs"),
                    (
                        Channel::SigninNonInteractive,
                        "noninteractiveusersigninlogs",
                    ),
                    (Channel::SigninSp, "serviceprincipalsigninlogs"),
                ] {
                    let rel = format!("entra/insights-logs-{name}.json");
                    self.add(&[c], rel, Framing::Lines, Shape::SigninAzureMonitor, gz);
                }
            }
            SigninFormat::AzureMonitorEventHub => self.add(
                &[
                    Channel::SigninInteractive,
                    Channel::SigninNonInteractive,
                    Channel::SigninSp,
                ],
                "entra/eventhub-entra-signins.json".into(),
                Framing::Records { per: 100 },
                Shape::SigninAzureMonitor,
                gz,
            ),
            SigninFormat::LogAnalyticsTenantless => {
                use signin_log_analytics_csv::{HEADER_SP, HEADER_USER};
                for (c, table, header, shape) in [
                    (
                        Channel::SigninInteractive,
                        "SigninLogs",
                        HEADER_USER,
                        Shape::SigninLogAnalyticsUserTenantless,
                    ),
                    (
                        Channel::SigninNonInteractive,
                        "AADNonInteractiveUserSignInLogs",
                        HEADER_USER,
                        Shape::SigninLogAnalyticsUserTenantless,
                    ),
                    (
                        Channel::SigninSp,
                        "AADServicePrincipalSignInLogs",
                        HEADER_SP,
                        Shape::SigninLogAnalyticsSpTenantless,
                    ),
                ] {
                    let rel = format!("entra/{table}_{range}.csv");
                    self.add(&[c], rel, Framing::Csv { header }, shape, gz);
                }
            }
        }
    }

    fn audit(&mut self, format: AuditFormat, range: &str) {
        let (rel, framing, shape) = match format {
            AuditFormat::GraphJson => (
                "entra/directoryAudits.json".to_string(),
                Framing::GraphPages {
                    context: audit_graph::CONTEXT,
                    page: 500,
                },
                Shape::AuditGraph,
            ),
            AuditFormat::LogAnalyticsCsv => (
                format!("entra/AuditLogs_{range}.csv"),
                Framing::Csv {
                    header: audit_log_analytics_csv::HEADER,
                },
                Shape::AuditLogAnalyticsCsv,
            ),
            AuditFormat::AzureMonitor => (
                "entra/insights-logs-auditlogs.json".to_string(),
                Framing::Lines,
                Shape::AuditAzureMonitor,
            ),
            AuditFormat::LogAnalyticsTenantless => (
                format!("entra/AuditLogs_{range}.csv"),
                Framing::Csv {
                    header: audit_log_analytics_csv::HEADER_TENANTLESS,
                },
                Shape::AuditLogAnalyticsTenantless,
            ),
        };
        self.add(&[Channel::Audit], rel, framing, shape, false);
    }
}

/// The files a tenant's export profile produces, and which channel writes where.
pub fn plan(w: &World, t: &Tenant) -> (Vec<FileSpec>, Slots) {
    let p = t.profile;
    let range = format!("{}_{}", date(w.start), date(w.end - 1));
    let mut pl = Planner {
        t,
        specs: Vec::new(),
        slots: std::array::from_fn(|_| Vec::new()),
    };
    pl.ual(p.ual, &range);
    if let Some(f) = p.ual2 {
        pl.ual(f, &range);
    }
    pl.signins(p.signin, &range);
    pl.audit(p.audit, &range);
    if p.graph_activity {
        let framing = if p.signin == SigninFormat::AzureMonitorEventHub {
            Framing::Records { per: 100 }
        } else {
            Framing::Lines
        };
        pl.add(
            &[Channel::GraphActivity],
            "entra/insights-logs-microsoftgraphactivitylogs.json".into(),
            framing,
            Shape::GraphActivity,
            p.gzip_signins,
        );
    }
    if let Some(f) = p.signin2 {
        pl.signins(f, &range);
    }
    if let Some(f) = p.audit2 {
        pl.audit(f, &range);
    }
    (pl.specs, pl.slots)
}

impl<'a> TenantFiles<'a> {
    /// The (not yet created) files of tenant `t`, written under `place`.
    pub fn new(w: &'a World, t: &'a Tenant, place: Placement) -> TenantFiles<'a> {
        let (specs, slots) = plan(w, t);
        let files = specs.iter().map(|_| None).collect();
        TenantFiles {
            ctx: Ctx { w, t },
            place,
            specs,
            files,
            slots,
            rec: Vec::with_capacity(8192),
            aux: Vec::with_capacity(4096),
            aux2: Vec::with_capacity(4096),
            malicious: Vec::new(),
            mailboxes_read: Default::default(),
        }
    }

    /// Writes every record `act` produces.
    pub fn emit(&mut self, act: &Act) -> io::Result<()> {
        match &act.kind {
            ActKind::SignIn(s) => {
                let ch = match s.kind {
                    SigninKind::Interactive => Channel::SigninInteractive,
                    SigninKind::NonInteractive => Channel::SigninNonInteractive,
                    SigninKind::ServicePrincipal => Channel::SigninSp,
                };
                self.write(ch, act)?;
                if s.kind == SigninKind::Interactive && matches!(s.who, Who::User(_)) {
                    self.write(Channel::Ual, act)?;
                }
            }
            ActKind::Dir(_) => {
                self.write(Channel::Audit, act)?;
                self.write(Channel::Ual, act)?;
            }
            ActKind::Mail(m) => {
                self.write(Channel::Ual, act)?;
                if act.mal == Some(Technique::MailItemsAccessed) {
                    let upn = self.ctx.user(m.mailbox).upn.clone();
                    self.mailboxes_read.insert(upn);
                }
            }
            ActKind::Exo(_) | ActKind::File(_) => self.write(Channel::Ual, act)?,
            ActKind::Graph(_) => self.write(Channel::GraphActivity, act)?,
        }
        Ok(())
    }

    fn render(&mut self, shape: Shape, act: &Act) {
        let c = self.ctx;
        let b = &mut self.rec;
        b.clear();
        match shape {
            Shape::UalMgmtApi => ual_mgmt_api::record(c, act, b),
            Shape::UalPurview => ual_purview_csv::row(c, act, false, b, &mut self.aux),
            Shape::UalPurviewClassic => ual_purview_csv::row(c, act, true, b, &mut self.aux),
            Shape::SigninGraph => signin_graph::record(c, act, b),
            Shape::SigninAzureMonitor => signin_azure_monitor::record(c, act, b),
            Shape::AuditGraph => audit_graph::record(c, act, b),
            Shape::AuditAzureMonitor => audit_azure_monitor::record(c, act, b),
            Shape::AuditLogAnalyticsCsv => {
                audit_log_analytics_csv::row(c, act, false, b, &mut self.aux, &mut self.aux2)
            }
            Shape::AuditLogAnalyticsTenantless => {
                audit_log_analytics_csv::row(c, act, true, b, &mut self.aux, &mut self.aux2)
            }
            Shape::UalOfficeActivityTenantless => {
                ual_office_activity_csv::row(c, act, b, &mut self.aux)
            }
            Shape::SigninLogAnalyticsUserTenantless | Shape::SigninLogAnalyticsSpTenantless => {
                signin_log_analytics_csv::row(c, act, b, &mut self.aux)
            }
            Shape::GraphActivity => graph_activity::record(c, act, b),
        }
    }

    fn open(&self, i: usize) -> io::Result<OutFile> {
        let spec = &self.specs[i];
        let path = self.place.dir.join(&spec.rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let f = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        let mut sink = if spec.gzip {
            Sink::Gz(Box::new(GzEncoder::new(f, Compression::fast())))
        } else {
            Sink::Plain(f)
        };
        match spec.framing {
            Framing::PsArray => sink.write_all(b"\xEF\xBB\xBF[\r\n")?,
            Framing::Csv { header } => {
                sink.write_all(b"\xEF\xBB\xBF")?;
                sink.write_all(header.as_bytes())?;
                sink.write_all(b"\n")?;
            }
            _ => {}
        }
        Ok(OutFile {
            sink,
            count: 0,
            in_group: 0,
        })
    }

    fn write(&mut self, ch: Channel, act: &Act) -> io::Result<()> {
        for k in 0..self.slots[channel_index(ch)].len() {
            let i = self.slots[channel_index(ch)][k];
            self.write_to(i, act)?;
        }
        Ok(())
    }

    fn write_to(&mut self, i: usize, act: &Act) -> io::Result<()> {
        let shape = self.specs[i].shape;
        let framing = self.specs[i].framing;
        self.render(shape, act);
        if self.files[i].is_none() {
            self.files[i] = Some(self.open(i)?);
        }
        let Some(f) = self.files[i].as_mut() else {
            return Ok(());
        };
        let rec = &self.rec;
        match framing {
            Framing::Lines | Framing::Csv { .. } => {
                f.sink.write_all(rec)?;
                f.sink.write_all(b"\n")?;
            }
            Framing::PsArray => {
                if f.count > 0 {
                    f.sink.write_all(b",\r\n")?;
                }
                self.aux.clear();
                self.aux.extend_from_slice(b"    ");
                json::pretty_powershell(rec, 1, &mut self.aux);
                f.sink.write_all(&self.aux)?;
            }
            Framing::GraphPages { context, page } => {
                if f.in_group == 0 {
                    f.sink.write_all(b"{\"@odata.context\":\"")?;
                    f.sink.write_all(context.as_bytes())?;
                    f.sink.write_all(b"\",\"value\":[")?;
                } else if f.in_group >= page {
                    let mut link = Vec::with_capacity(200);
                    link.extend_from_slice(b"],\"@odata.nextLink\":\"");
                    link.extend_from_slice(
                        context.split("/$metadata").next().unwrap_or("").as_bytes(),
                    );
                    link.extend_from_slice(if shape == Shape::AuditGraph {
                        b"/auditLogs/directoryAudits?$skiptoken=".as_slice()
                    } else {
                        b"/auditLogs/signIns?$skiptoken=".as_slice()
                    });
                    json::hex_upper(&mut link, crate::rng::mix64(act.id), 16);
                    link.extend_from_slice(b"\"}\n{\"@odata.context\":\"");
                    link.extend_from_slice(context.as_bytes());
                    link.extend_from_slice(b"\",\"value\":[");
                    f.sink.write_all(&link)?;
                    f.in_group = 0;
                } else {
                    f.sink.write_all(b",")?;
                }
                f.sink.write_all(rec)?;
                f.in_group += 1;
            }
            Framing::Records { per } => {
                if f.in_group == 0 {
                    f.sink.write_all(b"{\"records\":[")?;
                } else if f.in_group >= per {
                    f.sink.write_all(b"]}\n{\"records\":[")?;
                    f.in_group = 0;
                } else {
                    f.sink.write_all(b",")?;
                }
                f.sink.write_all(rec)?;
                f.in_group += 1;
            }
        }
        let index = f.count;
        f.count += 1;
        if let Some(tech) = act.mal {
            self.malicious.push(MaliciousRecord {
                file: format!("{}{}", self.place.truth_prefix, self.specs[i].rel),
                record: index,
                technique: tech.as_str(),
                tenant_id: self.ctx.t.id.clone(),
                time: act.t,
            });
        }
        Ok(())
    }

    /// Closes every file.
    pub fn finish(mut self) -> io::Result<Written> {
        let mut counts = Vec::new();
        for (i, f) in self.files.iter_mut().enumerate() {
            let Some(mut f) = f.take() else { continue };
            match self.specs[i].framing {
                Framing::PsArray => f.sink.write_all(b"\r\n]\r\n")?,
                Framing::GraphPages { .. } => f.sink.write_all(b"]}\n")?,
                Framing::Records { .. } => f.sink.write_all(b"]}\n")?,
                _ => {}
            }
            f.sink.finish()?;
            counts.push((
                format!("{}{}", self.place.truth_prefix, self.specs[i].rel),
                f.count,
            ));
        }
        Ok(Written {
            files: counts,
            malicious: self.malicious,
            mailboxes_read: self.mailboxes_read.into_iter().collect(),
        })
    }
}

/// Creates the parent folders of `path`.
pub fn ensure_parent(path: &Path) -> io::Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    Ok(())
}
