//! Unified audit log records as the Office 365 Management Activity API returns them (the same
//! object is the `AuditData` of Purview and `Search-UnifiedAuditLog` exports): `CreationTime`
//! without a zone, numeric `RecordType`, Entra ID changes (`Add service principal credentials.`,
//! with `ModifiedProperties`, `Actor`, `ActorContextId`, `Target`), sign-ins (`UserLoggedIn`),
//! `MailItemsAccessed` (`AppId`, `ClientAppId`, `MailboxOwnerUPN`, `Folders`,
//! `OperationProperties`), Exchange cmdlets (`New-InboxRule`, `Set-InboxRule`, `Set-Mailbox` with
//! `Parameters`) and SharePoint file operations.

use crate::names::{self, fp};
use crate::story::{
    Act, ActKind, DirOp, ExoAdmin, ExoOp, FileOp, ForwardTo, MailBy, MailRead, OwnerClient, Rule,
    SignIn, Who,
};
use crate::world::SpKind;
use crate::writers::dir;
use crate::writers::json::{Obj, TimeStyle, esc_inner, guid, hex_upper, uint};
use crate::writers::{Actor, Ctx};

/// Record type number, record type name, operation and user id of the record an activity makes.
pub fn summary(c: Ctx<'_>, a: &Act) -> (u8, &'static str, String, String) {
    match &a.kind {
        ActKind::SignIn(s) => (
            15,
            "AzureActiveDirectoryStsLogon",
            if s.error == 0 {
                "UserLoggedIn"
            } else {
                "UserLoginFailed"
            }
            .into(),
            c.actor(s.who).name().to_string(),
        ),
        ActKind::Dir(d) => (
            8,
            "AzureActiveDirectory",
            format!("{}.", dir::meta(&d.op).activity),
            c.actor(d.who).name().to_string(),
        ),
        ActKind::Mail(m) => (
            50,
            "ExchangeItemAggregated",
            "MailItemsAccessed".into(),
            c.user(m.mailbox).upn.clone(),
        ),
        ActKind::Exo(e) => (
            1,
            "ExchangeAdmin",
            exo_cmdlet(&e.op).into(),
            c.actor(e.who).name().to_string(),
        ),
        ActKind::File(f) => (
            6,
            "SharePointFileOperation",
            file_op(f).into(),
            c.user(f.user).upn.clone(),
        ),
        ActKind::Graph(_) => (0, "", String::new(), String::new()),
    }
}

fn exo_cmdlet(op: &ExoOp) -> &'static str {
    match op {
        ExoOp::NewRule { .. } => "New-InboxRule",
        ExoOp::SetRule { .. } => "Set-InboxRule",
        ExoOp::SetForwarding { .. } => "Set-Mailbox",
    }
}

fn file_op(f: &FileOp) -> &'static str {
    match f.op {
        1 => "FileModified",
        2 => "FileDownloaded",
        _ => "FileAccessed",
    }
}

#[allow(clippy::too_many_arguments)]
fn head(
    o: &mut Obj<'_>,
    a: &Act,
    op: &str,
    org: &str,
    record_type: u8,
    status: &str,
    user_key: &str,
    user_type: i64,
    workload: &str,
) {
    o.time("CreationTime", a.t, TimeStyle::Seconds, 0)
        .guid("Id", crate::rng::derive128(a.id, 0x1A))
        .str("Operation", op)
        .str("OrganizationId", org)
        .int("RecordType", i64::from(record_type))
        .str("ResultStatus", status)
        .str("UserKey", user_key)
        .int("UserType", user_type)
        .int("Version", 1)
        .str("Workload", workload);
}

fn ip_member(o: &mut Obj<'_>, k: &str, net: &crate::world::Net, port: Option<u64>) {
    let b = o.key(k);
    b.push(b'"');
    net.write(b);
    if let Some(p) = port {
        b.push(b':');
        uint(b, p);
    }
    b.push(b'"');
}

fn sign_in(c: Ctx<'_>, a: &Act, s: &SignIn, b: &mut Vec<u8>) {
    let actor = c.actor(s.who);
    let (_, app_id) = crate::writers::signin_graph::client(&c, s);
    let (os, browser) = s.agent.os_browser();
    let ok = s.error == 0;
    let mut o = Obj::new(b);
    head(
        &mut o,
        a,
        if ok {
            "UserLoggedIn"
        } else {
            "UserLoginFailed"
        },
        &c.t.id,
        15,
        if ok { "Success" } else { "Failed" },
        actor.id(),
        0,
        "AzureActiveDirectory",
    );
    ip_member(&mut o, "ClientIP", &s.net, None);
    o.str("ObjectId", s.resource.app_id)
        .str("UserId", actor.name())
        .int("AzureActiveDirectoryEventType", 1);
    o.arr("ExtendedProperties", |x| {
        x.obj(|o| {
            o.str("Name", "ResultStatusDetail")
                .str("Value", if ok { "Success" } else { "UserError" });
        })
        .obj(|o| {
            o.str("Name", "UserAgent").str("Value", s.agent.ua());
        })
        .obj(|o| {
            o.str("Name", "RequestType")
                .str("Value", "OAuth2:Authorize");
        });
    });
    o.arr("ModifiedProperties", |_| {});
    o.arr("Actor", |x| {
        x.obj(|o| {
            o.str("ID", actor.id()).int("Type", 0);
        })
        .obj(|o| {
            o.str("ID", actor.name()).int("Type", 5);
        });
    });
    o.str("ActorContextId", &actor.home.id);
    ip_member(&mut o, "ActorIpAddress", &s.net, None);
    o.guid("InterSystemsId", crate::rng::derive128(a.id, 0x15))
        .guid("IntraSystemId", crate::writers::signin_graph::signin_id(a))
        .str("SupportTicketId", "");
    o.arr("Target", |x| {
        x.obj(|o| {
            o.str("ID", s.resource.app_id).int("Type", 0);
        });
    });
    o.str("TargetContextId", &c.t.id)
        .str("ApplicationId", app_id);
    o.arr("DeviceProperties", |x| {
        x.obj(|o| {
            o.str("Name", "OS").str("Value", os);
        })
        .obj(|o| {
            o.str("Name", "BrowserType").str("Value", browser);
        })
        .obj(|o| {
            o.str("Name", "IsCompliantAndManaged").str("Value", "False");
        })
        .obj(|o| {
            o.str("Name", "SessionId");
            let v = o.key("Value");
            v.push(b'"');
            guid(v, crate::rng::derive128(a.id / 7, 0x5E));
            v.push(b'"');
        });
    });
    let en = o.key("ErrorNumber");
    en.push(b'"');
    uint(en, u64::from(s.error));
    en.push(b'"');
    if !ok {
        o.str(
            "LogonError",
            if s.error == 50126 {
                "InvalidUserNameOrPassword"
            } else {
                "UserStrongAuthClientAuthNRequired"
            },
        );
    }
    o.end();
}

fn directory(c: Ctx<'_>, a: &Act, d: &DirOp, b: &mut Vec<u8>) {
    let m = dir::meta(&d.op);
    let targets = dir::targets(&c, a, d);
    let actor = c.actor(d.who);
    let mut op = String::with_capacity(m.activity.len() + 1);
    op.push_str(m.activity);
    op.push('.');
    let mut o = Obj::new(b);
    let user_type = if matches!(d.who, Who::App(_)) { 5 } else { 2 };
    head(
        &mut o,
        a,
        &op,
        &c.t.id,
        8,
        if d.ok { "Success" } else { "Failure" },
        actor.puid(),
        user_type,
        "AzureActiveDirectory",
    );
    ip_member(&mut o, "ClientIP", &d.net, None);
    let first = targets.first();
    o.str(
        "ObjectId",
        first
            .map(|t| {
                t.upn
                    .as_deref()
                    .or(t.name.as_deref())
                    .unwrap_or(t.id.as_str())
            })
            .unwrap_or(""),
    )
    .str("UserId", actor.name())
    .int("AzureActiveDirectoryEventType", 1);
    extended_properties(&mut o, d, &m);
    o.arr("ModifiedProperties", |x| {
        for t in &targets {
            for p in &t.props {
                x.obj(|o| {
                    o.str("Name", p.name)
                        .str("NewValue", &p.new)
                        .str("OldValue", &p.old);
                });
            }
        }
    });
    actor_array(&mut o, actor);
    o.str("ActorContextId", &actor.home.id);
    ip_member(&mut o, "ActorIpAddress", &d.net, None);
    o.guid("InterSystemsId", crate::rng::derive128(a.id, 0x15))
        .guid("IntraSystemId", crate::writers::audit_graph::correlation(a))
        .str("SupportTicketId", "");
    target_array(&mut o, &targets);
    o.str("TargetContextId", &c.t.id);
    o.end();
}

/// The `Actor` array of a directory change: a user by UPN, PUID and object id, or an
/// application by name, service principal and application id.
fn actor_array(o: &mut Obj<'_>, actor: Actor<'_>) {
    o.arr("Actor", |x| match (actor.user, actor.sp) {
        (Some(u), _) => {
            x.obj(|o| {
                o.str("ID", &u.upn).int("Type", 5);
            })
            .obj(|o| {
                o.str("ID", &u.puid).int("Type", 3);
            })
            .obj(|o| {
                let v = o.key("ID");
                v.extend_from_slice(b"\"User_");
                v.extend_from_slice(u.id.as_bytes());
                v.push(b'"');
                o.int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", &u.id).int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", "User").int("Type", 2);
            });
        }
        (None, Some(s)) => {
            x.obj(|o| {
                o.str("ID", &s.name).int("Type", 1);
            })
            .obj(|o| {
                let v = o.key("ID");
                v.extend_from_slice(b"\"ServicePrincipal_");
                v.extend_from_slice(s.object_id.as_bytes());
                v.push(b'"');
                o.int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", &s.app_id).int("Type", 2);
            });
        }
        _ => {}
    });
}

/// The `Target` array of a directory change: each target by kind and id, id, kind and name.
fn target_array(o: &mut Obj<'_>, targets: &[dir::Target]) {
    o.arr("Target", |x| {
        for t in targets {
            x.obj(|o| {
                let v = o.key("ID");
                v.push(b'"');
                v.extend_from_slice(t.kind.as_bytes());
                v.push(b'_');
                v.extend_from_slice(t.id.as_bytes());
                v.push(b'"');
                o.int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", &t.id).int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", t.kind).int("Type", 2);
            });
            if let Some(n) = t.upn.as_deref().or(t.name.as_deref()) {
                x.obj(|o| {
                    o.str("ID", n)
                        .int("Type", if t.upn.is_some() { 5 } else { 1 });
                });
            }
        }
    });
}

/// The `ExtendedProperties` of a directory change: the user agent and the event category.
fn extended_properties(o: &mut Obj<'_>, d: &DirOp, m: &dir::Meta) {
    o.arr("ExtendedProperties", |x| {
        x.obj(|o| {
            o.str("Name", "additionalDetails");
            let v = o.key("Value");
            v.extend_from_slice(b"\"{\\\"User-Agent\\\":\\\"");
            esc_inner(v, d.agent.ua());
            v.extend_from_slice(b"\\\"}\"");
        })
        .obj(|o| {
            o.str("Name", "extendedAuditEventCategory")
                .str("Value", m.ext_category);
        });
    });
}

/// Whether an application reads mail through Exchange Web Services (else Microsoft Graph).
fn via_ews(c: &Ctx<'_>, sp: usize) -> bool {
    let s = c.sp(sp);
    if s.kind == SpKind::Backup {
        return true;
    }
    if matches!(s.kind, SpKind::MassReader | SpKind::MailSettings) {
        return s.role.resource.app_id == fp::EXCHANGE.app_id;
    }
    c.w.strike(c.t.index)
        .is_some_and(|s| s.sp == sp && s.role.resource.app_id == fp::EXCHANGE.app_id)
}

fn folder_id(b: &mut Vec<u8>, seed: u64) {
    b.extend_from_slice(b"LgAAAAB");
    let mut x = seed;
    for _ in 0..5 {
        x = crate::rng::mix64(x);
        for i in 0..8 {
            b.push(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                    [((x >> (i * 6)) % 64) as usize],
            );
        }
    }
    b.extend_from_slice(b"AAAB");
}

fn mail(c: Ctx<'_>, a: &Act, m: &MailRead, b: &mut Vec<u8>) {
    let t = c.t;
    let u = c.user(m.mailbox);
    let mut o = Obj::new(b);
    head(
        &mut o,
        a,
        "MailItemsAccessed",
        &t.id,
        50,
        "Succeeded",
        &u.puid,
        0,
        "Exchange",
    );
    o.str("UserId", &u.upn);
    let (app, client_app, info): (Option<&str>, Option<&str>, &str) = match m.by {
        MailBy::Owner(OwnerClient::Owa) => (
            Some(fp::OWA.app_id),
            None,
            "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0;",
        ),
        MailBy::Owner(OwnerClient::Outlook) => (None, None, "Client=MSExchangeRPC"),
        MailBy::Owner(OwnerClient::Mobile) => (
            Some(fp::OUTLOOK_MOBILE.app_id),
            None,
            "Client=OutlookService;Outlook-iOS/2.0;",
        ),
        MailBy::App(s) => {
            let sp = c.sp(s);
            if via_ews(&c, s) {
                (
                    Some(sp.app_id.as_str()),
                    Some(sp.app_id.as_str()),
                    "Client=WebServices;ExchangeServicesClient/15.0.913.15;",
                )
            } else {
                (
                    Some(fp::GRAPH.app_id),
                    Some(sp.app_id.as_str()),
                    "Client=REST;Client=RESTSystem;;",
                )
            }
        }
    };
    if let Some(x) = app {
        o.str("AppId", x);
    }
    if let Some(x) = client_app {
        o.str("ClientAppId", x);
    }
    ip_member(&mut o, "ClientIPAddress", &m.net, None);
    o.str("ClientInfoString", info)
        .bool("ExternalAccess", false)
        .int("InternalLogonType", 0)
        .int("LogonType", 0)
        .str("LogonUserSid", &u.sid)
        .str("MailboxGuid", &u.mailbox_guid)
        .str("MailboxOwnerSid", &u.sid)
        .str("MailboxOwnerUPN", &u.upn);
    o.arr("OperationProperties", |x| {
        x.obj(|o| {
            o.str("Name", "MailAccessType")
                .str("Value", if m.sync { "Sync" } else { "Bind" });
        })
        .obj(|o| {
            o.str("Name", "IsThrottled").str("Value", "False");
        });
    });
    o.str("OrganizationName", &t.initial_domain);
    let os = o.key("OriginatingServer");
    os.push(b'"');
    os.extend_from_slice(t.exo_server.as_bytes());
    os.extend_from_slice(b" (15.20.7409.043)\\r\\n\"");
    o.guid("SessionId", crate::rng::derive128(a.id / 13, 0x5E));
    let folder = names::FOLDERS[m.folder % names::FOLDERS.len()];
    o.arr("Folders", |x| {
        x.obj(|o| {
            if !m.sync {
                o.arr("FolderItems", |x| {
                    for i in 0..u64::from(m.items.min(10)) {
                        x.obj(|o| {
                            let v = o.key("InternetMessageId");
                            v.extend_from_slice(b"\"<");
                            hex_upper(v, crate::rng::mix64(a.id ^ i), 16);
                            v.push(b'@');
                            v.extend_from_slice(t.exo_server.as_bytes());
                            v.extend_from_slice(if t.exo_org.starts_with("EUR") {
                                b".eurprd05.prod.outlook.com>\"".as_slice()
                            } else {
                                b".namprd05.prod.outlook.com>\"".as_slice()
                            });
                        });
                    }
                });
            }
            let v = o.key("Id");
            v.push(b'"');
            folder_id(
                v,
                crate::rng::hash(m.mailbox as u64, &[m.folder as u64, t.index as u64]),
            );
            v.push(b'"');
            o.str("Path", folder);
        });
    });
    o.int("OperationCount", i64::from(m.items.max(1)));
    o.end();
}

fn exo(c: Ctx<'_>, a: &Act, e: &ExoAdmin, b: &mut Vec<u8>) {
    let t = c.t;
    let actor = c.actor(e.who);
    let (mailbox, rule_name) = match e.op {
        ExoOp::NewRule { mailbox, rule } | ExoOp::SetRule { mailbox, rule } => (
            mailbox,
            Some(match rule {
                Rule::Newsletters => "Newsletters",
                _ => [".", "..", "RSS Subscriptions", "Archive sync"][(a.id % 4) as usize],
            }),
        ),
        ExoOp::SetForwarding { mailbox, .. } => (mailbox, None),
    };
    let owner = c.user(mailbox);
    let self_service = e.who == Who::User(mailbox);
    let mut o = Obj::new(b);
    head(
        &mut o,
        a,
        exo_cmdlet(&e.op),
        &t.id,
        1,
        "True",
        actor.puid(),
        if self_service { 0 } else { 2 },
        "Exchange",
    );
    ip_member(&mut o, "ClientIP", &e.net, Some(40_000 + a.id % 25_000));
    let obj = o.key("ObjectId");
    obj.push(b'"');
    esc_inner(obj, &t.exo_org);
    obj.push(b'/');
    esc_inner(obj, &owner.display);
    if let Some(r) = rule_name {
        obj.extend_from_slice(b"\\\\");
        esc_inner(obj, r);
    }
    obj.push(b'"');
    o.str("UserId", actor.name())
        .str(
            "AppId",
            if self_service {
                fp::OWA.app_id
            } else {
                fp::EXO_POWERSHELL.app_id
            },
        )
        .str("ClientAppId", "")
        .str("CorrelationID", "")
        .bool("ExternalAccess", matches!(e.who, Who::Partner(_)))
        .str("OrganizationName", &t.initial_domain);
    let os = o.key("OriginatingServer");
    os.push(b'"');
    os.extend_from_slice(t.exo_server.as_bytes());
    os.extend_from_slice(b" (15.20.7409.043)\"");
    let drop = |i: usize| c.w.attack.drops[i % c.w.attack.drops.len().max(1)].as_str();
    o.arr("Parameters", |x| {
        let mut p = |n: &str, v: &str| {
            x.obj(|o| {
                o.str("Name", n).str("Value", v);
            });
        };
        match e.op {
            ExoOp::NewRule { rule, .. } => {
                p("AlwaysDeleteOutlookRulesBlob", "True");
                p("Force", "True");
                p("Mailbox", &owner.upn);
                p("Name", rule_name.unwrap_or(""));
                match rule {
                    Rule::Newsletters => {
                        p("SubjectOrBodyContainsWords", "newsletter;unsubscribe");
                        p("MoveToFolder", "Newsletters");
                        p("StopProcessingRules", "True");
                    }
                    Rule::ForwardTo(i) => {
                        p("ForwardTo", drop(i));
                        p("DeleteMessage", "True");
                        p("MarkAsRead", "True");
                        p("StopProcessingRules", "True");
                    }
                    Rule::RedirectTo(i) => {
                        p("RedirectTo", drop(i));
                        p("DeleteMessage", "True");
                        p("StopProcessingRules", "True");
                    }
                }
            }
            ExoOp::SetRule { rule, .. } => {
                let id = format!("{}\\{}", owner.upn, 1_000_000 + a.id % 9_000_000);
                p("Identity", &id);
                match rule {
                    Rule::ForwardTo(i) => p("ForwardTo", drop(i)),
                    Rule::RedirectTo(i) => p("RedirectTo", drop(i)),
                    Rule::Newsletters => p("MoveToFolder", "Newsletters"),
                }
                p("DeleteMessage", "True");
            }
            ExoOp::SetForwarding { to, .. } => {
                p("Identity", &owner.upn);
                match to {
                    ForwardTo::Drop(i) => {
                        p("ForwardingSmtpAddress", &format!("smtp:{}", drop(i)));
                        p("DeliverToMailboxAndForward", "False");
                    }
                    ForwardTo::Internal(u) => {
                        p("ForwardingSmtpAddress", &format!("smtp:{}", c.user(u).upn));
                        p("DeliverToMailboxAndForward", "True");
                    }
                }
            }
        }
    });
    o.guid("SessionId", crate::rng::derive128(a.id, 0x5E));
    o.end();
}

fn file(c: Ctx<'_>, a: &Act, f: &FileOp, b: &mut Vec<u8>) {
    let t = c.t;
    let u = c.user(f.user);
    let short = t.initial_domain.split('.').next().unwrap_or("");
    let doc = names::DOCUMENTS[f.doc % names::DOCUMENTS.len()];
    let ext = doc.rsplit('.').next().unwrap_or("");
    let (site, rel) = if f.onedrive {
        let p = u.upn.replace(['@', '.'], "_");
        (
            format!("https://{short}-my.sharepoint.com/personal/{p}/"),
            "Documents".to_string(),
        )
    } else {
        (
            format!("https://{short}.sharepoint.com/sites/Shared/"),
            "Shared Documents".to_string(),
        )
    };
    let mut o = Obj::new(b);
    let key = format!("i:0h.f|membership|{}@live.com", u.puid.to_ascii_lowercase());
    head(
        &mut o,
        a,
        file_op(f),
        &t.id,
        6,
        "",
        &key,
        0,
        if f.onedrive { "OneDrive" } else { "SharePoint" },
    );
    ip_member(&mut o, "ClientIP", &f.net, None);
    o.str("ObjectId", &format!("{site}{rel}/{doc}"))
        .str("UserId", &u.upn)
        .guid("CorrelationId", crate::rng::derive128(a.id, 0xC0))
        .str("EventSource", "SharePoint")
        .str("ItemType", "File")
        .guid(
            "ListId",
            crate::rng::derive128(
                crate::rng::hash(t.index as u64, &[f.onedrive as u64, f.user as u64]),
                1,
            ),
        )
        .guid(
            "ListItemUniqueId",
            crate::rng::derive128(
                crate::rng::hash(t.index as u64, &[f.doc as u64, f.user as u64]),
                2,
            ),
        )
        .guid(
            "Site",
            crate::rng::derive128(
                crate::rng::hash(t.index as u64, &[f.onedrive as u64, f.user as u64]),
                3,
            ),
        )
        .str("UserAgent", f.agent.ua())
        .guid(
            "WebId",
            crate::rng::derive128(
                crate::rng::hash(t.index as u64, &[f.onedrive as u64, f.user as u64]),
                4,
            ),
        )
        .str("SourceFileExtension", ext)
        .str("SiteUrl", &site)
        .str("SourceFileName", doc)
        .str("SourceRelativeUrl", &rel);
    o.end();
}

/// Writes the Management Activity API record of an activity.
pub fn record(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>) {
    match &a.kind {
        ActKind::SignIn(s) => sign_in(c, a, s, b),
        ActKind::Dir(d) => directory(c, a, d, b),
        ActKind::Mail(m) => mail(c, a, m, b),
        ActKind::Exo(e) => exo(c, a, e, b),
        ActKind::File(f) => file(c, a, f, b),
        ActKind::Graph(_) => {}
    }
}
