//! Directory audits as Microsoft Graph returns them (`GET /v1.0/auditLogs/directoryAudits`):
//! `activityDisplayName`, `initiatedBy.user|app`, `targetResources[].modifiedProperties` with
//! JSON-encoded values, `additionalDetails` key/value pairs.

use crate::story::{Act, ActKind, DirOp, Who};
use crate::writers::Ctx;
use crate::writers::dir::{self, Target};
use crate::writers::json::{Arr, Obj, TimeStyle, esc, guid};

/// `@odata.context` of directory audit pages.
pub const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits";

/// The correlation id of a directory change (shared by every log that records it).
pub fn correlation(a: &Act) -> u128 {
    crate::rng::derive128(a.id, 0xC022)
}

/// The audit record id: `Directory_<correlation>_<5 chars>_<8 digits>`.
pub fn record_id(b: &mut Vec<u8>, a: &Act) {
    b.extend_from_slice(b"Directory_");
    guid(b, correlation(a));
    b.push(b'_');
    let x = crate::rng::mix64(a.id ^ 0x1D);
    for i in 0..5 {
        b.push(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"[((x >> (i * 6)) % 34) as usize]);
    }
    b.push(b'_');
    crate::writers::json::uint(b, 10_000_000 + (x >> 32) % 89_999_999);
}

/// A string value as the directory audit log encodes it: a JSON string literal inside a string.
fn quoted(v: &str) -> String {
    let mut b = Vec::with_capacity(v.len() + 2);
    esc(&mut b, v);
    String::from_utf8(b).unwrap_or_default()
}

/// Writes `initiatedBy`.
pub fn initiated_by(o: &mut Obj<'_>, c: Ctx<'_>, d: &DirOp) {
    let actor = c.actor(d.who);
    o.obj("initiatedBy", |o| match d.who {
        Who::App(_) => {
            o.obj("app", |o| {
                let sp = actor.sp;
                o.opt("appId", sp.map(|s| s.app_id.as_str()))
                    .opt("displayName", sp.map(|s| s.name.as_str()))
                    .opt("servicePrincipalId", sp.map(|s| s.object_id.as_str()))
                    .opt("servicePrincipalName", sp.map(|s| s.name.as_str()));
            })
            .null("user");
        }
        _ => {
            o.null("app").obj("user", |o| {
                o.str("id", actor.id())
                    .null("displayName")
                    .str("userPrincipalName", actor.name());
                let ip = o.key("ipAddress");
                ip.push(b'"');
                d.net.write(ip);
                ip.push(b'"');
                o.null("userType")
                    .str("homeTenantId", &actor.home.id)
                    .str("homeTenantName", &actor.home.name);
            });
        }
    });
}

/// Writes `targetResources`.
pub fn target_resources(o: &mut Obj<'_>, targets: &[Target]) {
    o.arr("targetResources", |a| {
        for t in targets {
            a.obj(|o| {
                o.str("id", &t.id)
                    .opt("displayName", t.name.as_deref())
                    .str("type", t.kind)
                    .opt("userPrincipalName", t.upn.as_deref())
                    .null("groupType");
                o.arr("modifiedProperties", |a| {
                    for p in &t.props {
                        a.obj(|o| {
                            o.str("displayName", p.name);
                            if p.old.is_empty() {
                                o.null("oldValue");
                            } else if p.quoted {
                                o.str("oldValue", &quoted(&p.old));
                            } else {
                                o.str("oldValue", &p.old);
                            }
                            if p.quoted {
                                o.str("newValue", &quoted(&p.new));
                            } else {
                                o.str("newValue", &p.new);
                            }
                        });
                    }
                });
                o.arr("administrativeUnits", |_| {});
            });
        }
    });
}

/// Writes `additionalDetails`.
pub fn additional_details(o: &mut Obj<'_>, c: Ctx<'_>, d: &DirOp) {
    o.arr("additionalDetails", |a: &mut Arr<'_>| {
        a.obj(|o| {
            o.str("key", "User-Agent").str("value", d.agent.ua());
        });
        if let Who::App(s) = d.who {
            a.obj(|o| {
                o.str("key", "AppId").str("value", &c.sp(s).app_id);
            });
        }
    });
}

/// Writes the directory audit object of a directory change (also the `properties` of the Azure
/// Monitor form).
pub fn object(c: Ctx<'_>, a: &Act, d: &DirOp, b: &mut Vec<u8>) {
    let m = dir::meta(&d.op);
    let targets = dir::targets(&c, a, d);
    let mut o = Obj::new(b);
    let idb = o.key("id");
    idb.push(b'"');
    record_id(idb, a);
    idb.push(b'"');
    o.str("category", m.category)
        .guid("correlationId", correlation(a))
        .str("result", if d.ok { "success" } else { "failure" })
        .str("resultReason", "")
        .str("activityDisplayName", m.activity)
        .time("activityDateTime", a.t, TimeStyle::TicksZ, a.id)
        .str("loggedByService", "Core Directory")
        .str("operationType", m.op_type);
    initiated_by(&mut o, c, d);
    target_resources(&mut o, &targets);
    additional_details(&mut o, c, d);
    o.end();
}

/// Writes one Graph directory audit record.
pub fn record(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>) {
    if let ActKind::Dir(d) = &a.kind {
        object(c, a, d, b);
    }
}
