//! What the emulator serves, generated from a simulated world (`tw-simulate`): per tenant the
//! Graph sign-ins of each event type, directory audits and risk detections, the Management
//! Activity API records of each content type grouped into hourly content blobs, and the
//! configuration collections `audit` reads; for the reseller, its GDAP customers. Records are the
//! simulator's own writers' output, so they have the documented shapes.

use tw_simulate::SimulateOptions;
use tw_simulate::background::Background;
use tw_simulate::story::{Act, ActKind, SigninKind, storyline};
use tw_simulate::world::{self, HOUR, World};
use tw_simulate::writers::{Ctx, audit_graph, signin_graph, ual_mgmt_api};

/// A record and its time (Unix ms).
#[derive(Clone, Debug)]
pub struct Rec {
    /// Time.
    pub t: i64,
    /// The JSON text.
    pub json: String,
    /// `Id` (unified audit log records).
    pub id: String,
}

/// The sign-in event types in the order of [`TenantData::signins`].
pub const SIGNIN_TYPES: [&str; 4] = [
    "interactiveUser",
    "nonInteractiveUser",
    "servicePrincipal",
    "managedIdentity",
];

/// Content types in the order of [`TenantData::ual`].
pub const CONTENT_TYPES: [&str; 4] = [
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
];

/// One tenant's data.
#[derive(Debug, Default)]
pub struct TenantData {
    /// Tenant id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Sign-ins per event type, by time.
    pub signins: [Vec<Rec>; 4],
    /// Directory audits, by time.
    pub audits: Vec<Rec>,
    /// Risk detections, by time.
    pub risk: Vec<Rec>,
    /// Unified audit log records per content type, by time.
    pub ual: [Vec<Rec>; 4],
    /// Configuration collections.
    pub config: Vec<crate::config_data::Listing>,
    /// GDAP customers (reseller only): (tenant id, name).
    pub customers: Vec<(String, String)>,
}

/// Everything served.
#[derive(Debug, Default)]
pub struct Data {
    /// Tenants; the first is the reseller.
    pub tenants: Vec<TenantData>,
    /// First instant of the logs.
    pub start: i64,
    /// First instant after.
    pub end: i64,
}

impl Data {
    /// The tenant with id `id`.
    pub fn tenant(&self, id: &str) -> Option<&TenantData> {
        self.tenants.iter().find(|t| t.id.eq_ignore_ascii_case(id))
    }
}

/// Generates the data of a simulated world.
pub fn generate(opts: &SimulateOptions) -> Data {
    let w = world::build(opts);
    let mut tenants = Vec::with_capacity(w.tenants.len());
    for i in 0..w.tenants.len() {
        tenants.push(tenant(&w, i, opts.scale));
    }
    Data {
        tenants,
        start: w.start,
        end: w.end,
    }
}

fn tenant(w: &World, index: usize, scale: f64) -> TenantData {
    let t = &w.tenants[index];
    let mut d = TenantData {
        id: t.id.clone(),
        name: t.name.clone(),
        ..Default::default()
    };
    let c = Ctx { w, t };
    let story = storyline(w, index);
    let mut bg = Background::new(w, index, scale);
    let mut buf: Vec<Act> = Vec::new();
    for h in 0..i64::from(w.days) * 24 {
        buf.clear();
        bg.hour(h, &mut buf);
        let end = w.start + (h + 1) * HOUR;
        let begin = w.start + h * HOUR;
        buf.extend(story.iter().filter(|a| a.t >= begin && a.t < end).copied());
        for a in &buf {
            if a.t >= t.log_start && a.t < w.end {
                render(c, a, &mut d);
            }
        }
    }
    for v in d.signins.iter_mut().chain(d.ual.iter_mut()) {
        v.sort_by_key(|r| r.t);
    }
    d.audits.sort_by_key(|r| r.t);
    d.risk.sort_by_key(|r| r.t);
    d.config = crate::config_data::collections(w, t);
    if t.is_partner {
        d.customers = w
            .tenants
            .iter()
            .filter(|x| x.partner_customer)
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect();
    }
    d
}

fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut b = Vec::new();
    f(&mut b);
    String::from_utf8_lossy(&b).into_owned()
}

fn render(c: Ctx<'_>, a: &Act, d: &mut TenantData) {
    match &a.kind {
        ActKind::SignIn(s) => {
            let k = match s.kind {
                SigninKind::Interactive => 0,
                SigninKind::NonInteractive => 1,
                SigninKind::ServicePrincipal => 2,
            };
            let json = text(|b| signin_graph::record(c, a, b));
            if a.mal.is_some() && k < 2 {
                d.risk.push(risk(a, &json));
            }
            d.signins[k].push(Rec {
                t: a.t,
                json,
                id: String::new(),
            });
        }
        ActKind::Dir(_) => d.audits.push(Rec {
            t: a.t,
            json: text(|b| audit_graph::record(c, a, b)),
            id: String::new(),
        }),
        _ => {}
    }
    let (rt, _, _, _) = ual_mgmt_api::summary(c, a);
    let json = text(|b| ual_mgmt_api::record(c, a, b));
    if json.is_empty() {
        return;
    }
    let ct = match rt {
        8 | 15 => 0,
        1 | 50 => 1,
        6 => 2,
        _ => 3,
    };
    let id = serde_json::from_str::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| v.get("Id").and_then(|x| x.as_str()).map(str::to_string))
        .unwrap_or_default();
    d.ual[ct].push(Rec { t: a.t, json, id });
}

/// A risk detection (Identity Protection `unfamiliarFeatures`) of an attacker's sign-in.
fn risk(a: &Act, signin: &str) -> Rec {
    let v: serde_json::Value = serde_json::from_str(signin).unwrap_or_default();
    let s = |k: &str| v.get(k).cloned().unwrap_or(serde_json::Value::Null);
    let when = s("createdDateTime");
    let id = format!("{:032x}", u128::from(a.id) << 7 ^ 0x5a5a);
    let json = serde_json::json!({
        "id": id,
        "requestId": s("id"),
        "correlationId": s("correlationId"),
        "riskType": "unfamiliarFeatures",
        "riskEventType": "unfamiliarFeatures",
        "riskState": "atRisk",
        "riskLevel": "medium",
        "riskDetail": "none",
        "source": "IdentityProtection",
        "detectionTimingType": "realtime",
        "activity": "signin",
        "tokenIssuerType": "AzureAD",
        "ipAddress": s("ipAddress"),
        "location": s("location"),
        "activityDateTime": when,
        "detectedDateTime": when,
        "lastUpdatedDateTime": when,
        "userId": s("userId"),
        "userDisplayName": s("userDisplayName"),
        "userPrincipalName": s("userPrincipalName"),
        "additionalInfo": "[{\"Key\":\"userAgent\",\"Value\":\"\"}]"
    });
    Rec {
        t: a.t,
        json: json.to_string(),
        id: String::new(),
    }
}
