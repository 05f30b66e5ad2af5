//! Sign-ins as Azure Monitor diagnostic settings export them (categories `SignInLogs`,
//! `NonInteractiveUserSignInLogs`, `ServicePrincipalSignInLogs`): `time`, `category`, `tenantId`,
//! `resultType`, `callerIpAddress`, `identity` at the top level and the sign-in under
//! `properties`. Written as JSON lines (storage account) or `{"records":[...]}` (event hub).

use crate::story::{Act, ActKind, SigninKind};
use crate::writers::Ctx;
use crate::writers::json::{Obj, TimeStyle, int};
use crate::writers::signin_graph::{failure_reason, object};

/// Writes one Azure Monitor sign-in record.
pub fn record(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>) {
    let ActKind::SignIn(s) = &a.kind else { return };
    let actor = c.actor(s.who);
    let category = match s.kind {
        SigninKind::Interactive => "SignInLogs",
        SigninKind::NonInteractive => "NonInteractiveUserSignInLogs",
        SigninKind::ServicePrincipal => "ServicePrincipalSignInLogs",
    };
    let mut o = Obj::new(b);
    o.time("time", a.t, TimeStyle::TicksZ, a.id);
    let r = o.key("resourceId");
    r.extend_from_slice(b"\"/tenants/");
    r.extend_from_slice(c.t.id.as_bytes());
    r.extend_from_slice(b"/providers/Microsoft.aadiam\"");
    o.str("operationName", "Sign-in activity")
        .str("operationVersion", "1.0")
        .str("category", category)
        .str("tenantId", &c.t.id);
    let rt = o.key("resultType");
    rt.push(b'"');
    int(rt, i64::from(s.error));
    rt.push(b'"');
    o.str("resultSignature", "None");
    if s.error != 0 {
        o.str("resultDescription", failure_reason(s.error));
    }
    o.int("durationMs", 0);
    let ip = o.key("callerIpAddress");
    ip.push(b'"');
    s.net.write(ip);
    ip.push(b'"');
    o.guid("correlationId", crate::rng::derive128(a.id, 0xC0));
    match (actor.user, actor.sp) {
        (Some(u), _) => {
            o.str("identity", &u.display);
        }
        (None, Some(sp)) => {
            o.str("identity", &sp.name);
        }
        _ => {}
    }
    o.int("Level", 4).str("location", s.net.place.country);
    let p = o.key("properties");
    object(c, a, s, p);
    o.end();
}
