//! Microsoft Graph activity logs as Azure Monitor diagnostic settings export them (category
//! `MicrosoftGraphActivityLogs`): one record per HTTP request with `requestUri`, `requestMethod`,
//! `responseStatusCode`, the calling `appId` and `servicePrincipalId` or `userId`, the caller's
//! address and the token's roles or scopes.

use crate::names::fp;
use crate::story::{Act, ActKind, Client, GraphCall, GraphUri, Who};
use crate::writers::Ctx;
use crate::writers::json::{Obj, TimeStyle, esc_inner, guid, time, uint};

fn uri(c: Ctx<'_>, u: GraphUri, b: &mut Vec<u8>) {
    b.extend_from_slice(b"https://graph.microsoft.com/v1.0/");
    match u {
        GraphUri::UserMessages(i) => {
            b.extend_from_slice(b"users/");
            b.extend_from_slice(c.user(i).id.as_bytes());
            b.extend_from_slice(b"/messages");
        }
        GraphUri::Users => {
            b.extend_from_slice(b"users?$select=id,displayName,userPrincipalName,mail&$top=999")
        }
        GraphUri::Me => b.extend_from_slice(b"me"),
        GraphUri::MeMessages => b.extend_from_slice(b"me/messages?$top=25"),
        GraphUri::MeEvents => b.extend_from_slice(b"me/events"),
        GraphUri::MeDrive => b.extend_from_slice(b"me/drive/recent"),
    }
}

/// Writes one Graph activity record.
pub fn record(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>) {
    let ActKind::Graph(g) = &a.kind else { return };
    let t = c.t;
    let region = match t.place.country {
        "US" | "CA" => "West US 2",
        "AU" => "Australia East",
        _ => "West Europe",
    };
    let (request, duration) = (request_id(a), duration(a));
    let (app_id, sp_id, user_id) = caller(c, g);
    let roles = roles(c, a, g);
    let mut o = Obj::new(b);
    o.time("time", a.t, TimeStyle::TicksZ, a.id);
    let r = o.key("resourceId");
    r.extend_from_slice(b"\"/TENANTS/");
    r.extend_from_slice(t.id.to_ascii_uppercase().as_bytes());
    r.extend_from_slice(b"/PROVIDERS/MICROSOFT.AADIAM\"");
    o.str("operationName", "Microsoft Graph Activity")
        .str("operationVersion", "v1.0")
        .str("category", "MicrosoftGraphActivityLogs");
    let rs = o.key("resultSignature");
    rs.push(b'"');
    uint(rs, u64::from(g.status));
    rs.push(b'"');
    let d = o.key("durationMs");
    d.push(b'"');
    uint(d, duration);
    d.push(b'"');
    let ip = o.key("callerIpAddress");
    ip.push(b'"');
    g.net.write(ip);
    ip.push(b'"');
    o.guid("correlationId", request)
        .str("level", "Informational")
        .str("location", region);
    o.obj("properties", |p| {
        let caller = Caller {
            app_id,
            sp_id,
            user_id,
            roles,
        };
        properties(p, c, a, g, region, &caller);
    });
    o.str("tenantId", &t.id);
    o.end();
}

/// The request id of a Graph call (also its correlation and operation id).
fn request_id(a: &Act) -> u128 {
    crate::rng::derive128(a.id, 0x6A)
}

/// How long a Graph call took (the unit the log states).
fn duration(a: &Act) -> u64 {
    20_000 + (crate::rng::mix64(a.id) % 900_000)
}

/// The calling application, its service principal and the signed-in user of a request.
fn caller<'a>(c: Ctx<'a>, g: &GraphCall) -> (&'a str, Option<&'a str>, Option<&'a str>) {
    match (g.who, g.client) {
        (Who::App(s), _) => {
            let sp = c.sp(s);
            (sp.app_id.as_str(), Some(sp.object_id.as_str()), None)
        }
        (Who::User(u), Client::FirstParty(f)) => (f.app_id, None, Some(c.user(u).id.as_str())),
        (Who::User(u), Client::Sp(s)) => {
            (c.sp(s).app_id.as_str(), None, Some(c.user(u).id.as_str()))
        }
        (Who::Partner(u), _) => (
            fp::GRAPH_CLI.app_id,
            None,
            Some(c.w.partner().users.get(u).map_or("", |x| x.id.as_str())),
        ),
    }
}

/// The application permissions in the caller's token (none for delegated calls).
fn roles(c: Ctx<'_>, a: &Act, g: &GraphCall) -> &'static str {
    match g.who {
        Who::App(s) => {
            let sp = c.sp(s);
            let granted =
                c.w.strike(c.t.index)
                    .filter(|st| st.sp == s && !st.failed && a.t > st.visit)
                    .map(|st| st.role.value);
            match (sp.kind, granted) {
                (crate::world::SpKind::Backup | crate::world::SpKind::MassReader, _) => {
                    "Mail.Read User.Read.All"
                }
                (crate::world::SpKind::MailSettings, _) => {
                    "MailboxSettings.ReadWrite Mail.ReadWrite"
                }
                (_, Some("Mail.ReadWrite")) => "User.Read.All Mail.ReadWrite",
                (_, Some("Mail.Read")) => "User.Read.All Mail.Read",
                _ => "User.Read.All",
            }
        }
        _ => "",
    }
}

/// Who made a request, as its `properties` name them.
struct Caller<'a> {
    app_id: &'a str,
    sp_id: Option<&'a str>,
    user_id: Option<&'a str>,
    roles: &'a str,
}

/// Writes the `properties` of a Graph activity record.
fn properties(p: &mut Obj<'_>, c: Ctx<'_>, a: &Act, g: &GraphCall, region: &str, k: &Caller<'_>) {
    let Caller {
        app_id,
        sp_id,
        user_id,
        roles,
    } = *k;
    let (request, duration) = (request_id(a), duration(a));
    p.time("timeGenerated", a.t, TimeStyle::TicksZ, a.id)
        .str("location", region)
        .guid("requestId", request)
        .guid("operationId", request)
        .guid("clientRequestId", crate::rng::derive128(a.id, 0xC1))
        .str("apiVersion", "v1.0")
        .str("requestMethod", "GET")
        .int("responseStatusCode", i64::from(g.status))
        .str("tenantId", &c.t.id)
        .int("durationMs", duration as i64)
        .int(
            "responseSizeBytes",
            if g.status == 200 {
                2_000 + (a.id % 60_000) as i64
            } else {
                214
            },
        );
    let s = p.key("signInActivityId");
    s.push(b'"');
    let x = crate::rng::mix64((a.id / 5) ^ 0x51);
    for i in 0..22 {
        s.push(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                [(x.rotate_left(i * 5) % 64) as usize],
        );
    }
    s.push(b'"');
    p.str("roles", roles).str("appId", app_id);
    match user_id {
        Some(u) => {
            p.str("userId", u)
                .str("scopes", "Mail.ReadWrite Calendars.ReadWrite Files.ReadWrite.All User.Read openid profile email");
        }
        None => {
            p.str("scopes", "");
        }
    }
    let idp = p.key("identityProvider");
    idp.extend_from_slice(b"\"https://sts.windows.net/");
    idp.extend_from_slice(c.t.id.as_bytes());
    idp.extend_from_slice(b"/\"");
    p.str("clientAuthMethod", if sp_id.is_some() { "1" } else { "0" });
    let tk = p.key("tokenIssuedAt");
    tk.push(b'"');
    time(tk, a.t - (a.id % 3_000_000) as i64, TimeStyle::TicksZ, 0);
    tk.push(b'"');
    let ipb = p.key("ipAddress");
    ipb.push(b'"');
    g.net.write(ipb);
    ipb.push(b'"');
    let ua = p.key("userAgent");
    ua.push(b'"');
    esc_inner(ua, g.ua);
    ua.push(b'"');
    let ru = p.key("requestUri");
    ru.push(b'"');
    uri(c, g.uri, ru);
    ru.push(b'"');
    p.null("deviceId");
    if let Some(sp) = sp_id {
        p.str("servicePrincipalId", sp);
    }
    if user_id.is_some() {
        let ses = p.key("sessionId");
        ses.push(b'"');
        guid(ses, crate::rng::derive128(a.id / 11, 0x5E));
        ses.push(b'"');
    }
}
