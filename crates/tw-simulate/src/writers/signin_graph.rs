//! Sign-ins as the Microsoft Graph beta API returns them (`GET /beta/auditLogs/signIns`, filtered by
//! `signInEventTypes`): interactive and non-interactive user sign-ins, service principal sign-ins
//! with their credential key id, and cross-tenant (service provider) access with `homeTenantId`,
//! `resourceTenantId` and `crossTenantAccessType`.

use crate::story::{Act, ActKind, Client, Key, SignIn, SigninKind, Who};
use crate::writers::json::{Obj, TimeStyle, guid};
use crate::writers::{Actor, Ctx};

/// `@odata.context` of sign-in pages.
pub const CONTEXT: &str = "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns";

/// The text of an Entra ID error code.
pub fn failure_reason(code: u32) -> &'static str {
    match code {
        0 => "Other.",
        50126 => "Error validating credentials due to invalid username or password.",
        50074 => "Strong Authentication is required.",
        7000215 => {
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app."
        }
        50140 => {
            "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."
        }
        _ => "Other.",
    }
}

/// The sign-in id (shared by every log that records the sign-in).
pub fn signin_id(a: &Act) -> u128 {
    crate::rng::derive128(a.id, 0x5161)
}

/// Client name and app id of a sign-in.
pub fn client<'a>(c: &Ctx<'a>, s: &SignIn) -> (&'a str, &'a str) {
    match s.client {
        Client::FirstParty(f) => (f.name, f.app_id),
        Client::Sp(i) => {
            let sp = c.sp(i);
            (sp.name.as_str(), sp.app_id.as_str())
        }
    }
}

/// A sign-in being written, with what every part of the object needs.
#[derive(Clone, Copy)]
struct View<'a> {
    c: Ctx<'a>,
    a: &'a Act,
    s: &'a SignIn,
    actor: Actor<'a>,
    sp_signin: bool,
    cross: bool,
}

/// Writes the Graph sign-in object (also the `properties` of the Azure Monitor form).
pub fn object(c: Ctx<'_>, a: &Act, s: &SignIn, b: &mut Vec<u8>) {
    let v = View {
        c,
        a,
        s,
        actor: c.actor(s.who),
        sp_signin: s.kind == SigninKind::ServicePrincipal,
        cross: matches!(s.who, Who::Partner(_)),
    };
    let mut o = Obj::new(b);
    identity(&mut o, &v);
    client_fields(&mut o, &v);
    tenants(&mut o, &v);
    credential(&mut o, &v);
    token(&mut o, &v);
    details(&mut o, &v);
    o.end();
}

/// Who signed in, to which application, from where.
fn identity(o: &mut Obj<'_>, v: &View<'_>) {
    let View {
        c, a, s, sp_signin, ..
    } = *v;
    let (app_name, app_id) = client(&c, s);
    let user = v.actor.user;
    o.guid("id", signin_id(a))
        .time("createdDateTime", a.t, TimeStyle::SecondsZ, 0)
        .opt("userDisplayName", user.map(|u| u.display.as_str()))
        .opt("userPrincipalName", user.map(|u| u.upn.as_str()))
        .opt(
            "userId",
            user.map(|u| u.id.as_str())
                .or(if sp_signin { Some("") } else { None }),
        )
        .str("appId", app_id)
        .str("appDisplayName", app_name);
    let ip = o.key("ipAddress");
    ip.push(b'"');
    s.net.write(ip);
    ip.push(b'"');
    o.null("ipAddressFromResourceProvider");
    o.int("autonomousSystemNumber", i64::from(s.net.asn()));
}

/// The client, the conditional access outcome, the risk and the resource.
fn client_fields(o: &mut Obj<'_>, v: &View<'_>) {
    let View {
        c, a, s, sp_signin, ..
    } = *v;
    let client_app = match (
        s.kind,
        s.agent.ua().contains("Mobile") || s.agent.ua().contains("Outlook"),
    ) {
        (SigninKind::ServicePrincipal, _) => "",
        (_, true) => "Mobile Apps and Desktop clients",
        _ => "Browser",
    };
    o.str("clientAppUsed", client_app)
        .str("userAgent", s.agent.ua())
        .guid("correlationId", crate::rng::derive128(a.id, 0xC0))
        .str(
            "conditionalAccessStatus",
            if sp_signin {
                "notApplied"
            } else if s.error == 0 {
                "success"
            } else {
                "notApplied"
            },
        )
        .guid("originalRequestId", crate::rng::derive128(a.id, 0x0E))
        .bool("isInteractive", s.kind == SigninKind::Interactive)
        .str("tokenIssuerName", "")
        .str("tokenIssuerType", "AzureAD")
        .str(
            "clientCredentialType",
            if sp_signin { "clientSecret" } else { "none" },
        )
        .int("processingTimeInMilliseconds", 40 + (a.id % 400) as i64)
        .str("riskDetail", "none")
        .str("riskLevelAggregated", "none")
        .str("riskLevelDuringSignIn", "none")
        .str("riskState", "none")
        .arr("riskEventTypes_v2", |_| {})
        .str("resourceDisplayName", s.resource.name)
        .str("resourceId", s.resource.app_id)
        .str("resourceTenantId", &c.t.id);
}

/// Home and resource tenants and the authentication requirement.
fn tenants(o: &mut Obj<'_>, v: &View<'_>) {
    let View {
        c,
        a,
        s,
        actor,
        sp_signin,
        cross,
        ..
    } = *v;
    let user = v.actor.user;
    if sp_signin {
        o.str("homeTenantId", &c.t.id).null("homeTenantName");
    } else {
        o.str("homeTenantId", &actor.home.id)
            .opt("homeTenantName", cross.then_some(actor.home.name.as_str()));
    }
    o.str(
        "authenticationRequirement",
        if s.kind == SigninKind::Interactive && !cross && a.id.is_multiple_of(4) {
            "multiFactorAuthentication"
        } else {
            "singleFactorAuthentication"
        },
    )
    .opt("signInIdentifier", user.map(|u| u.upn.as_str()))
    .str(
        "signInIdentifierType",
        if sp_signin { "" } else { "userPrincipalName" },
    );
}

/// The service principal and the credential it used (empty for users).
fn credential(o: &mut Obj<'_>, v: &View<'_>) {
    let View {
        s,
        actor,
        sp_signin,
        ..
    } = *v;
    if sp_signin {
        let sp = actor.sp;
        o.opt("servicePrincipalId", sp.map(|x| x.object_id.as_str()))
            .opt("servicePrincipalName", sp.map(|x| x.name.as_str()));
        match s.key {
            Key::New(k) => {
                o.guid("servicePrincipalCredentialKeyId", k);
            }
            _ => {
                o.opt(
                    "servicePrincipalCredentialKeyId",
                    sp.map(|x| x.key_id.as_str()),
                );
            }
        }
        o.str("servicePrincipalCredentialThumbprint", "");
    } else {
        o.str("servicePrincipalId", "")
            .str("servicePrincipalName", "")
            .str("servicePrincipalCredentialKeyId", "")
            .str("servicePrincipalCredentialThumbprint", "");
    }
}

/// Token, cross-tenant access type and session.
fn token(o: &mut Obj<'_>, v: &View<'_>) {
    let View {
        a,
        s,
        sp_signin,
        cross,
        ..
    } = *v;
    o.str("userType", if sp_signin { "" } else { "member" })
        .str(
            "crossTenantAccessType",
            if cross { "serviceProvider" } else { "none" },
        )
        .str(
            "incomingTokenType",
            if s.kind == SigninKind::NonInteractive {
                "refreshToken"
            } else {
                "none"
            },
        );
    let uti = o.key("uniqueTokenIdentifier");
    uti.push(b'"');
    let x = crate::rng::mix64(a.id ^ 0x07);
    for i in 0..22 {
        uti.push(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                [((x.rotate_left(i * 7)) % 64) as usize],
        );
    }
    uti.push(b'"');
    if !sp_signin {
        let sess = o.key("sessionId");
        sess.push(b'"');
        guid(sess, crate::rng::derive128(a.id / 7, 0x5E));
        sess.push(b'"');
    }
}

/// Event types, status, device and location.
fn details(o: &mut Obj<'_>, v: &View<'_>) {
    let View { s, .. } = *v;
    let (os, browser) = v.s.agent.os_browser();
    o.arr("signInEventTypes", |arr| {
        arr.str(match s.kind {
            SigninKind::Interactive => "interactiveUser",
            SigninKind::NonInteractive => "nonInteractiveUser",
            SigninKind::ServicePrincipal => "servicePrincipal",
        });
    });
    o.obj("status", |o| {
        o.int("errorCode", i64::from(s.error));
        if s.error == 0 {
            o.null("failureReason");
        } else {
            o.str("failureReason", failure_reason(s.error));
        }
        o.null("additionalDetails");
    });
    o.obj("deviceDetail", |o| {
        o.str("deviceId", "")
            .str("displayName", "")
            .str("operatingSystem", os)
            .str("browser", browser)
            .bool("isCompliant", false)
            .bool("isManaged", false)
            .str("trustType", "");
    });
    let place = s.net.place;
    o.obj("location", |o| {
        o.str("city", place.city)
            .str("state", place.state)
            .str("countryOrRegion", place.country)
            .obj("geoCoordinates", |o| {
                o.null("altitude");
                let lat = o.key("latitude");
                lat.extend_from_slice(format!("{}", place.lat).as_bytes());
                let lon = o.key("longitude");
                lon.extend_from_slice(format!("{}", place.lon).as_bytes());
            });
    });
    o.arr("appliedConditionalAccessPolicies", |_| {});
    o.arr("authenticationProcessingDetails", |_| {});
    o.arr("networkLocationDetails", |_| {});
}

/// Writes one Graph sign-in record.
pub fn record(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>) {
    if let ActKind::SignIn(s) = &a.kind {
        object(c, a, s, b);
    }
}
