//! `tw-bench gen-mixed`: realistic mixed tenant log exports as JSON lines, one file per log kind.
//!
//! - `signin.jsonl`: Entra ID diagnostic export, categories `SignInLogs`,
//!   `NonInteractiveUserSignInLogs` and `ServicePrincipalSignInLogs`;
//! - `audit.jsonl`: `AuditLogs` category;
//! - `graph.jsonl`: `MicrosoftGraphActivityLogs` category;
//! - `risk.jsonl`: `UserRiskEvents` category;
//! - `activity.jsonl`: Azure activity log diagnostic export (`insights-activity-logs`, category
//!   `Administrative`);
//! - `ual.jsonl`: Unified Audit Log records as the Management Activity API returns them.
//!
//! A small share of records (about 0.5 %) is what SigmaHQ's cloud rules look for: role
//! assignments, application credentials, app role grants, locked and disabled accounts, risk
//! detections, Key Vault and network security group changes, MFA being disabled. The output is
//! deterministic for a given size.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use crate::{Rng, ual_record};

/// Per mille of records of each kind that are planted hits.
const HIT_PER_MILLE: u64 = 4;

const FIRST: [&str; 16] = [
    "adele",
    "alex",
    "allan",
    "diego",
    "emily",
    "grady",
    "henrietta",
    "isaiah",
    "johanna",
    "joni",
    "lee",
    "lidia",
    "lynne",
    "megan",
    "miriam",
    "nestor",
];
const LAST: [&str; 12] = [
    "vance",
    "wilber",
    "deyoung",
    "siciliani",
    "braun",
    "archie",
    "mueller",
    "langer",
    "lambert",
    "sherman",
    "gonzalez",
    "holt",
];

/// (appId, display name) of client applications seen in sign-ins.
const APPS: [(&str, &str); 10] = [
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    (
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
    ),
    (
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
    ),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
    ("ecd6b820-32c2-49b6-98a6-444530e5a77a", "Microsoft Edge"),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
    ),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
];

/// (resource id, display name) of resources signed in to.
const RESOURCES: [(&str, &str); 6] = [
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
    (
        "00000003-0000-0ff1-ce00-000000000000",
        "Office 365 SharePoint Online",
    ),
    (
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "Windows Azure Service Management API",
    ),
    (
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Microsoft Teams Services",
    ),
    (
        "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9",
        "Device Registration Service",
    ),
];

/// (city, state, country, latitude, longitude).
const PLACES: [(&str, &str, &str, f64, f64); 6] = [
    ("Redmond", "Washington", "US", 47.67399, -122.12151),
    ("Amsterdam", "Noord-Holland", "NL", 52.37403, 4.88969),
    ("London", "England", "GB", 51.50853, -0.12574),
    ("Munich", "Bayern", "DE", 48.13743, 11.57549),
    ("Toronto", "Ontario", "CA", 43.70011, -79.4163),
    ("Sydney", "New South Wales", "AU", -33.86785, 151.20732),
];

const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Windows-AzureAD-Authentication-Provider/1.0",
    "Mozilla/5.0 (compatible; MSAL 1.0) PKeyAuth/1.0",
];

/// A user of the tenant.
struct User {
    upn: String,
    display: String,
    id: String,
}

/// Writes one file per log kind.
struct Out {
    w: BufWriter<File>,
    records: u64,
    bytes: u64,
}

impl Out {
    fn new(dir: &Path, name: &str) -> std::io::Result<Out> {
        Ok(Out {
            w: BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?),
            records: 0,
            bytes: 0,
        })
    }
    fn put(&mut self, rec: &str) -> std::io::Result<u64> {
        self.w.write_all(rec.as_bytes())?;
        self.w.write_all(b"\n")?;
        self.records += 1;
        self.bytes += rec.len() as u64 + 1;
        Ok(rec.len() as u64 + 1)
    }
}

/// The user and service principal a directory change is about.
struct AuditTarget {
    target: String,
    target_id: String,
    sp: String,
}

/// A directory change: activity, category, operation type and `targetResources` JSON.
type AuditChange = (&'static str, &'static str, &'static str, String);

/// What every sign-in draws first (see `Gen::signin_head`).
struct SigninHead {
    t: String,
    created: String,
    category: &'static str,
    ip: String,
    corr: String,
    id: String,
    place: (&'static str, &'static str, &'static str, f64, f64),
    res: (&'static str, &'static str),
    tenant: String,
    hit: bool,
}

/// How a user sign-in looks, which a planted hit may change: user agent, device compliance,
/// authentication requirement, resource.
struct SigninLook {
    agent: &'static str,
    compliant: bool,
    auth_req: &'static str,
    res: (&'static str, &'static str),
}

/// The authentication steps of an interactive sign-in (none for the others).
fn auth_details(created: &str, code: u32, interactive: bool) -> String {
    if interactive {
        format!(
            r#"[{{"authenticationStepDateTime":"{created}","authenticationMethod":"Password","authenticationMethodDetail":"Password in the cloud","succeeded":{ok},"authenticationStepResultDetail":"{detail}","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":0}},{{"authenticationStepDateTime":"{created}","authenticationMethod":"Mobile app notification","succeeded":{ok},"authenticationStepResultDetail":"MFA successfully completed","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":1}}]"#,
            ok = code == 0,
            detail = if code == 0 {
                "Correct password"
            } else {
                "Invalid username or password or Invalid on-premise username or password."
            }
        )
    } else {
        "[]".to_string()
    }
}

struct Gen {
    r: Rng,
    tenant: String,
    subscriptions: Vec<String>,
    users: Vec<User>,
    /// Milliseconds since the epoch; advances with every record.
    clock: i64,
    buf: String,
    /// Planted hits per description.
    planted: BTreeMap<&'static str, u64>,
}

impl Gen {
    fn new() -> Gen {
        let mut r = Rng(0x51a7_3c0f_fee1_dead);
        let tenant = r.guid();
        let subscriptions = (0..4).map(|_| r.guid()).collect();
        let users = (0..600)
            .map(|i| {
                let f = FIRST[i % FIRST.len()];
                let l = LAST[(i / FIRST.len()) % LAST.len()];
                let n = i / (FIRST.len() * LAST.len());
                let upn = if n == 0 {
                    format!("{f}.{l}@contoso.com")
                } else {
                    format!("{f}.{l}{n}@contoso.com")
                };
                let cap = |s: &str| {
                    let mut c = s.chars();
                    c.next()
                        .map(|h| h.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                };
                let display = format!("{} {}", cap(f), cap(l));
                User {
                    upn,
                    display,
                    id: r.guid(),
                }
            })
            .collect();
        Gen {
            r,
            tenant,
            subscriptions,
            users,
            clock: 1_709_251_200_000, // 2024-03-01
            buf: String::with_capacity(8192),
            planted: BTreeMap::new(),
        }
    }

    fn hit(&mut self) -> bool {
        self.r.below(1000) < HIT_PER_MILLE
    }

    fn plant(&mut self, what: &'static str) {
        *self.planted.entry(what).or_default() += 1;
    }

    fn tick(&mut self) {
        self.clock += self.r.below(400) as i64;
    }

    /// `2024-03-01T10:11:12.1234567Z` (diagnostic exports carry 7 fractional digits).
    fn time7(&mut self) -> String {
        let t = tw_event::Timestamp(self.clock).to_string();
        format!("{}{:04}Z", &t[..23], self.r.below(10_000))
    }

    fn ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            20 + self.r.below(180),
            self.r.below(256),
            self.r.below(256),
            1 + self.r.below(254)
        )
    }

    fn user(&mut self) -> usize {
        // A few users are much busier than the rest.
        let n = self.users.len() as u64;
        if self.r.below(4) == 0 {
            self.r.below(20) as usize
        } else {
            self.r.below(n) as usize
        }
    }

    /// One sign-in (interactive, non-interactive or service principal).
    fn signin(&mut self) -> &str {
        let h = self.signin_head();
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        if h.category == "ServicePrincipalSignInLogs" {
            self.sp_signin(h, &mut b);
        } else {
            self.user_signin(h, &mut b);
        }
        self.buf = b;
        &self.buf
    }

    /// What every sign-in draws first, in this order: time, category, address, ids, place,
    /// resource, and whether it is one the rules look for.
    fn signin_head(&mut self) -> SigninHead {
        let t = self.time7();
        let created = format!("{}+00:00", &t[..t.len() - 1]);
        let kind = self.r.below(100);
        let category = match kind {
            0..=24 => "SignInLogs",
            25..=87 => "NonInteractiveUserSignInLogs",
            _ => "ServicePrincipalSignInLogs",
        };
        let ip = self.ip();
        let corr = self.r.guid();
        let id = self.r.guid();
        let place = PLACES[self.r.below(PLACES.len() as u64) as usize];
        let res = RESOURCES[self.r.below(RESOURCES.len() as u64 - 1) as usize];
        let tenant = self.tenant.clone();
        let hit = self.hit();
        SigninHead {
            t,
            created,
            category,
            ip,
            corr,
            id,
            place,
            res,
            tenant,
            hit,
        }
    }

    /// A service principal sign-in, into `b`.
    fn sp_signin(&mut self, h: SigninHead, b: &mut String) {
        let SigninHead {
            t,
            created,
            category,
            ip,
            corr,
            id,
            place,
            res: (res_id, res_name),
            tenant,
            hit,
        } = h;
        let sp = self.r.guid();
        let app = self.r.guid();
        let key = self.r.guid();
        let (code, reason) = if hit {
            self.plant("signin: service principal, 53003 blocked by Conditional Access");
            (
                53003,
                "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
            )
        } else if self.r.below(50) == 0 {
            (7000215, "Invalid client secret is provided.")
        } else {
            (0, "Other.")
        };
        let _ = write!(
            b,
            r#"{{"time":"{t}","resourceId":"/tenants/{tenant}/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"{category}","tenantId":"{tenant}","resultType":"{code}","resultSignature":"None","resultDescription":"{reason}","durationMs":0,"callerIpAddress":"{ip}","correlationId":"{corr}","Level":4,"location":"{cc}","properties":{{"id":"{id}","createdDateTime":"{created}","status":{{"errorCode":{code}{fr}}},"location":{{"city":"{city}","state":"{state}","countryOrRegion":"{cc}","geoCoordinates":{{"altitude":null,"latitude":{lat},"longitude":{lon}}}}},"correlationId":"{corr}","conditionalAccessStatus":"{cas}","appliedConditionalAccessPolicies":[],"authenticationProcessingDetails":[],"networkLocationDetails":[],"servicePrincipalCredentialKeyId":"{key}","servicePrincipalCredentialThumbprint":"","ipAddress":"{ip}","appId":"{app}","appDisplayName":"sync-worker-{n}","servicePrincipalId":"{sp}","servicePrincipalName":"sync-worker-{n}","resourceDisplayName":"{res_name}","resourceId":"{res_id}","resourceServicePrincipalId":"{rsp}","federatedCredentialId":"","resourceTenantId":"{tenant}","homeTenantId":"{tenant}","tokenIssuerType":"AzureAD","uniqueTokenIdentifier":"{uti:016x}"}}}}"#,
            cc = place.2,
            city = place.0,
            state = place.1,
            lat = place.3,
            lon = place.4,
            fr = if code == 0 {
                String::new()
            } else {
                format!(r#","failureReason":"{reason}""#)
            },
            cas = if code == 53003 {
                "failure"
            } else {
                "notApplied"
            },
            n = self.r.below(40),
            rsp = self.r.guid(),
            uti = self.r.next(),
        );
    }

    /// A user's sign-in (interactive or not), into `b`.
    fn user_signin(&mut self, h: SigninHead, b: &mut String) {
        let SigninHead {
            t,
            created,
            category,
            ip,
            corr,
            id,
            place,
            res: (res_id, res_name),
            tenant,
            hit,
        } = h;
        let interactive = category == "SignInLogs";
        let u = self.user();
        let (app_id, app_name) = APPS[self.r.below(APPS.len() as u64) as usize];
        let mut look = SigninLook {
            agent: AGENTS[self.r.below(AGENTS.len() as u64) as usize],
            compliant: true,
            auth_req: if self.r.below(3) == 0 {
                "multiFactorAuthentication"
            } else {
                "singleFactorAuthentication"
            },
            res: (res_id, res_name),
        };
        let (code, reason) = self.signin_outcome(hit, &mut look);
        let SigninLook {
            agent,
            compliant,
            auth_req,
            res,
        } = look;
        let cas = match code {
            53003 => "failure",
            0 if self.r.below(2) == 0 => "success",
            _ => "notApplied",
        };
        let auth_details = auth_details(&created, code, interactive);
        let user = &self.users[u];
        let (upn, display, uid) = (user.upn.clone(), user.display.clone(), user.id.clone());
        let device = self.device(compliant);
        let _ = write!(
            b,
            r#"{{"time":"{t}","resourceId":"/tenants/{tenant}/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"{category}","tenantId":"{tenant}","resultType":"{code}","resultSignature":"None","resultDescription":"{reason}","durationMs":0,"callerIpAddress":"{ip}","correlationId":"{corr}","identity":"{display}","Level":4,"location":"{cc}","properties":{{"id":"{id}","createdDateTime":"{created}","userDisplayName":"{display}","userPrincipalName":"{upn}","userId":"{uid}","appId":"{app_id}","appDisplayName":"{app_name}","ipAddress":"{ip}","clientAppUsed":"{client}","userAgent":"{agent}","correlationId":"{corr}","conditionalAccessStatus":"{cas}","originalRequestId":"{orig}","isInteractive":{interactive},"tokenIssuerName":"","tokenIssuerType":"AzureAD","processingTimeInMilliseconds":{ptime},"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":"{rname}","resourceId":"{rid}","resourceTenantId":"{tenant}","homeTenantId":"{tenant}","status":{{"errorCode":{code}{fr}}},"deviceDetail":{device},"location":{{"city":"{city}","state":"{state}","countryOrRegion":"{cc}","geoCoordinates":{{"altitude":null,"latitude":{lat},"longitude":{lon}}}}},"mfaDetail":{{}},"appliedConditionalAccessPolicies":[{{"id":"0d9c1f5b-7a3e-4c2b-9b51-5f2d0e6a3c11","displayName":"Require MFA for admins","enforcedGrantControls":["Mfa"],"enforcedSessionControls":[],"result":"notApplied"}},{{"id":"7e4f2a9d-1c6b-4e3a-8d20-3b5c7f9e1a22","displayName":"Block legacy authentication","enforcedGrantControls":["Block"],"enforcedSessionControls":[],"result":"{p2r}"}}],"authenticationContextClassReferences":[],"authenticationProcessingDetails":[{{"key":"Legacy TLS (TLS 1.0, 1.1, 3DES)","value":"False"}},{{"key":"Is CAE Token","value":"False"}}],"networkLocationDetails":[],"authenticationDetails":{auth_details},"authenticationRequirementPolicies":[],"sessionLifetimePolicies":[],"authenticationMethodsUsed":[],"authenticationRequirement":"{auth_req}","authenticationProtocol":"none","incomingTokenType":"none","userType":"Member","crossTenantAccessType":"none","isTenantRestricted":false,"autonomousSystemNumber":{asn},"uniqueTokenIdentifier":"{uti:016x}{uti2:06x}"}}}}"#,
            cc = place.2,
            city = place.0,
            state = place.1,
            lat = place.3,
            lon = place.4,
            client = if self.r.below(10) == 0 {
                "Mobile Apps and Desktop clients"
            } else {
                "Browser"
            },
            orig = self.r.guid(),
            ptime = 20 + self.r.below(400),
            rname = res.1,
            rid = res.0,
            fr = if code == 0 {
                String::new()
            } else {
                format!(
                    r#","failureReason":"{reason}","additionalDetails":"MFA requirement satisfied by claim in the token""#
                )
            },
            p2r = if cas == "failure" {
                "failure"
            } else {
                "success"
            },
            asn = 8075 + self.r.below(3),
            uti = self.r.next(),
            uti2 = self.r.below(1 << 24),
        );
    }

    /// A user sign-in's result code and reason; a planted one may change how it looks.
    fn signin_outcome(&mut self, hit: bool, look: &mut SigninLook) -> (u32, &'static str) {
        if hit {
            match self.r.below(7) {
                0 => {
                    self.plant("signin: 50053 account locked");
                    (
                        50053,
                        "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
                    )
                }
                1 => {
                    self.plant("signin: 50057 account disabled");
                    (
                        50057,
                        "User account is disabled. The account has been disabled by an administrator.",
                    )
                }
                2 => {
                    self.plant("signin: 500121 strong authentication failed");
                    (
                        500121,
                        "Authentication failed during strong authentication request.",
                    )
                }
                3 => {
                    self.plant("signin: azurehound user agent");
                    look.agent = "azurehound/v2.1.7";
                    (0, "Other.")
                }
                4 => {
                    self.plant("signin: non-compliant device");
                    look.compliant = false;
                    (0, "Other.")
                }
                5 => {
                    self.plant("signin: device registration without MFA");
                    look.res = RESOURCES[5];
                    look.auth_req = "singleFactorAuthentication";
                    (0, "Other.")
                }
                _ => {
                    self.plant("signin: 53003 blocked by Conditional Access");
                    (
                        53003,
                        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
                    )
                }
            }
        } else {
            match self.r.below(100) {
                0..=1 => (
                    50126,
                    "Error validating credentials due to invalid username or password.",
                ),
                2..=3 => (50074, "Strong Authentication is required."),
                4..=5 => (
                    50140,
                    "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
                ),
                6 => (
                    70044,
                    "The session has expired or is invalid due to sign-in frequency checks by conditional access.",
                ),
                _ => (0, "Other."),
            }
        }
    }

    /// The device of a user sign-in: a managed, compliant one, or an unknown one.
    fn device(&mut self, compliant: bool) -> String {
        if compliant {
            format!(
                r#"{{"deviceId":"{}","displayName":"CONTOSO-{:05}","operatingSystem":"Windows10","browser":"Edge 122.0.0","isCompliant":true,"isManaged":true,"trustType":"Azure AD joined"}}"#,
                self.r.guid(),
                self.r.below(99999)
            )
        } else {
            r#"{"deviceId":"","displayName":"","operatingSystem":"Windows10","browser":"Chrome 122.0.0","isCompliant":false,"isManaged":false,"trustType":""}"#.to_string()
        }
    }

    /// One directory audit record.
    fn audit(&mut self) -> &str {
        let t = self.time7();
        let at = format!("{}+00:00", &t[..t.len() - 1]);
        let tenant = self.tenant.clone();
        let corr = self.r.guid();
        let id = format!(
            "Directory_{}_{}_{}",
            self.r.guid(),
            ["KX1AB", "OGMPV", "ZQ9RT"][self.r.below(3) as usize],
            100_000_000 + self.r.below(900_000_000)
        );
        let actor_i = self.user();
        let target_i = self.user();
        let actor = self.users[actor_i].upn.clone();
        let actor_id = self.users[actor_i].id.clone();
        let target = self.users[target_i].upn.clone();
        let target_id = self.users[target_i].id.clone();
        let ip = self.ip();
        let sp = self.r.guid();
        let hit = self.hit();
        let who = AuditTarget {
            target,
            target_id,
            sp: sp.clone(),
        };
        let (activity, category, optype, targets) = if hit {
            self.planted_change(&who)
        } else {
            self.routine_change(&who, &at)
        };
        let (by_app, identity) = if !hit && self.r.below(4) == 0 {
            (true, "Microsoft Substrate Management".to_string())
        } else {
            (false, actor.clone())
        };
        let initiated = if by_app {
            format!(
                r#"{{"app":{{"appId":"98db8bd6-0cc0-4e67-9de5-f187f1cd1b41","displayName":"Microsoft Substrate Management","servicePrincipalId":"{sp}","servicePrincipalName":null}}}}"#
            )
        } else {
            format!(
                r#"{{"user":{{"id":"{actor_id}","displayName":null,"userPrincipalName":"{actor}","ipAddress":"{ip}","userType":null,"homeTenantId":null,"homeTenantName":null}}}}"#
            )
        };
        let result = if self.r.below(100) == 0 && !hit {
            "failure"
        } else {
            "success"
        };
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        let _ = write!(
            b,
            r#"{{"time":"{t}","resourceId":"/tenants/{tenant}/providers/Microsoft.aadiam","operationName":"{activity}","operationVersion":"1.0","category":"AuditLogs","tenantId":"{tenant}","resultSignature":"None","durationMs":0,"callerIpAddress":"{cip}","correlationId":"{corr}","identity":"{identity}","Level":4,"properties":{{"id":"{id}","category":"{category}","correlationId":"{corr}","result":"{result}","resultReason":"","activityDisplayName":"{activity}","activityDateTime":"{at}","loggedByService":"Core Directory","operationType":"{optype}","initiatedBy":{initiated},"targetResources":{targets},"additionalDetails":[{{"key":"User-Agent","value":"{agent}"}}],"userAgent":null}}}}"#,
            cip = if by_app {
                "20.190.128.100"
            } else {
                ip.as_str()
            },
            agent = AGENTS[self.r.below(3) as usize],
        );
        self.buf = b;
        &self.buf
    }

    /// A directory change the rules look for: role grants, credentials, app roles, new service
    /// principals and users, MFA disabled, a deleted Conditional Access policy.
    fn planted_change(&mut self, who: &AuditTarget) -> AuditChange {
        let AuditTarget {
            target,
            target_id,
            sp,
        } = who;
        match self.r.below(8) {
            0 => {
                self.plant("audit: Add member to role (Global Administrator)");
                (
                    "Add member to role",
                    "RoleManagement",
                    "Assign",
                    format!(
                        r#"[{{"id":"{target_id}","displayName":null,"type":"User","userPrincipalName":"{target}","groupType":null,"modifiedProperties":[{{"displayName":"Role.ObjectID","oldValue":null,"newValue":"\"62e90394-69f5-4237-9190-012177145e10\""}},{{"displayName":"Role.DisplayName","oldValue":null,"newValue":"\"Global Administrator\""}},{{"displayName":"Role.TemplateId","oldValue":null,"newValue":"\"62e90394-69f5-4237-9190-012177145e10\""}}],"administrativeUnits":[]}},{{"id":"62e90394-69f5-4237-9190-012177145e10","displayName":"Global Administrator","type":"Role","modifiedProperties":[],"administrativeUnits":[]}}]"#
                    ),
                )
            }
            1 => {
                self.plant("audit: Add member to role (service principal)");
                (
                    "Add member to role",
                    "RoleManagement",
                    "Assign",
                    format!(
                        r#"[{{"id":"{sp}","displayName":"NorthwindSync","type":"ServicePrincipal","modifiedProperties":[{{"displayName":"Role.DisplayName","oldValue":null,"newValue":"\"Application Administrator\""}}],"administrativeUnits":[]}}]"#
                    ),
                )
            }
            2 => {
                self.plant("audit: Update application – Certificates and secrets management");
                (
                    "Update application – Certificates and secrets management ",
                    "ApplicationManagement",
                    "Update",
                    format!(
                        r#"[{{"id":"{sp}","displayName":"NorthwindSync","type":"Application","modifiedProperties":[{{"displayName":"KeyDescription","oldValue":"[]","newValue":"[\"[KeyIdentifier={kid},KeyType=Password,KeyUsage=Verify,DisplayName=sync]\"]"}},{{"displayName":"Included Updated Properties","oldValue":null,"newValue":"\"KeyDescription\""}}],"administrativeUnits":[]}}]"#,
                        kid = self.r.guid()
                    ),
                )
            }
            3 => {
                self.plant("audit: Add app role assignment to service principal");
                (
                    "Add app role assignment to service principal",
                    "ApplicationManagement",
                    "Assign",
                    format!(
                        r#"[{{"id":"{sp}","displayName":"Microsoft Graph","type":"ServicePrincipal","modifiedProperties":[{{"displayName":"AppRole.Id","oldValue":null,"newValue":"\"810c84a8-4a9e-49e6-bf7d-12d183f40d01\""}},{{"displayName":"AppRole.Value","oldValue":null,"newValue":"\"Mail.Read\""}},{{"displayName":"ServicePrincipal.DisplayName","oldValue":null,"newValue":"\"NorthwindSync\""}}],"administrativeUnits":[]}}]"#
                    ),
                )
            }
            4 => {
                self.plant("audit: Add service principal");
                (
                    "Add service principal",
                    "ApplicationManagement",
                    "Add",
                    format!(
                        r#"[{{"id":"{sp}","displayName":"NorthwindSync","type":"ServicePrincipal","modifiedProperties":[{{"displayName":"AccountEnabled","oldValue":"[]","newValue":"[true]"}},{{"displayName":"AppPrincipalId","oldValue":"[]","newValue":"[\"{app}\"]"}}],"administrativeUnits":[]}}]"#,
                        app = self.r.guid()
                    ),
                )
            }
            5 => {
                self.plant("audit: Add user");
                (
                    "Add user",
                    "UserManagement",
                    "Add",
                    format!(
                        r#"[{{"id":"{target_id}","displayName":null,"type":"User","userPrincipalName":"svc-{n}@contoso.com","modifiedProperties":[{{"displayName":"AccountEnabled","oldValue":"[]","newValue":"[true]"}},{{"displayName":"UserType","oldValue":"[]","newValue":"[\"Member\"]"}}],"administrativeUnits":[]}}]"#,
                        n = self.r.below(9999)
                    ),
                )
            }
            6 => {
                self.plant("audit: Disable Strong Authentication");
                (
                    "Disable Strong Authentication",
                    "UserManagement",
                    "Update",
                    format!(
                        r#"[{{"id":"{target_id}","displayName":null,"type":"User","userPrincipalName":"{target}","modifiedProperties":[{{"displayName":"StrongAuthenticationRequirement","oldValue":"[{{\"RelyingParty\":\"*\",\"State\":1,\"RememberDevicesNotIssuedBefore\":\"2024-01-10T09:00:00Z\"}}]","newValue":"[]"}}],"administrativeUnits":[]}}]"#
                    ),
                )
            }
            _ => {
                self.plant("audit: Delete conditional access policy");
                (
                    "Delete conditional access policy",
                    "Policy",
                    "Delete",
                    format!(
                        r#"[{{"id":"{sp}","displayName":"Block legacy authentication","type":"Policy","modifiedProperties":[],"administrativeUnits":[]}}]"#
                    ),
                )
            }
        }
    }

    /// A routine directory change: user and group updates, licences, password resets, devices.
    fn routine_change(&mut self, who: &AuditTarget, at: &str) -> AuditChange {
        let AuditTarget {
            target,
            target_id,
            sp: _,
        } = who;
        let user_target = format!(
            r#"[{{"id":"{target_id}","displayName":null,"type":"User","userPrincipalName":"{target}","groupType":null,"modifiedProperties":[{{"displayName":"StsRefreshTokensValidFrom","oldValue":"[\"2024-01-02T10:00:00Z\"]","newValue":"[\"{at}\"]"}},{{"displayName":"Included Updated Properties","oldValue":null,"newValue":"\"StsRefreshTokensValidFrom\""}}],"administrativeUnits":[]}}]"#
        );
        let group_target = format!(
            r#"[{{"id":"{target_id}","displayName":null,"type":"User","userPrincipalName":"{target}","modifiedProperties":[{{"displayName":"Group.ObjectID","oldValue":null,"newValue":"\"{g}\""}},{{"displayName":"Group.DisplayName","oldValue":null,"newValue":"\"Sales EMEA\""}}],"administrativeUnits":[]}},{{"id":"{g}","displayName":"Sales EMEA","type":"Group","modifiedProperties":[],"administrativeUnits":[]}}]"#,
            g = self.r.guid()
        );
        match self.r.below(10) {
            0..=2 => ("Update user", "UserManagement", "Update", user_target),
            3 => (
                "Update StsRefreshTokenValidFrom Timestamp",
                "UserManagement",
                "Update",
                user_target,
            ),
            4 => (
                "Change user license",
                "UserManagement",
                "Update",
                user_target,
            ),
            5 => (
                "Add member to group",
                "GroupManagement",
                "Assign",
                group_target,
            ),
            6 => (
                "Add owner to group",
                "GroupManagement",
                "Assign",
                group_target,
            ),
            7 => ("Update group", "GroupManagement", "Update", group_target),
            8 => (
                "Reset password (self-service)",
                "UserManagement",
                "Update",
                user_target,
            ),
            _ => (
                "Register device",
                "Device",
                "Add",
                format!(
                    r#"[{{"id":"{d}","displayName":"CONTOSO-{n:05}","type":"Device","modifiedProperties":[{{"displayName":"CloudDisplayName","oldValue":null,"newValue":"\"CONTOSO-{n:05}\""}}],"administrativeUnits":[]}}]"#,
                    d = self.r.guid(),
                    n = self.r.below(99999)
                ),
            ),
        }
    }

    /// One Microsoft Graph activity record.
    fn graph(&mut self) -> &str {
        let t = self.time7();
        let tenant = self.tenant.clone();
        let req = self.r.guid();
        let u = self.user();
        let uid = self.users[u].id.clone();
        let ip = self.ip();
        let (method, uri, status) = match self.r.below(10) {
            0..=3 => (
                "GET",
                format!("https://graph.microsoft.com/v1.0/users/{uid}"),
                200,
            ),
            4..=5 => (
                "GET",
                format!(
                    "https://graph.microsoft.com/v1.0/users/{uid}/mailFolders/inbox/messages?$top=50&$select=subject,from,receivedDateTime"
                ),
                200,
            ),
            6 => (
                "GET",
                "https://graph.microsoft.com/v1.0/me/joinedTeams".to_string(),
                200,
            ),
            7 => (
                "GET",
                format!("https://graph.microsoft.com/beta/users/{uid}/authentication/methods"),
                if self.r.below(5) == 0 { 403 } else { 200 },
            ),
            8 => (
                "POST",
                "https://graph.microsoft.com/v1.0/$batch".to_string(),
                200,
            ),
            _ => (
                "PATCH",
                format!("https://graph.microsoft.com/v1.0/users/{uid}"),
                204,
            ),
        };
        let (app_id, _) = APPS[self.r.below(APPS.len() as u64) as usize];
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        let _ = write!(
            b,
            r#"{{"Level":4,"callerIpAddress":"{ip}","category":"MicrosoftGraphActivityLogs","correlationId":"{req}","durationMs":{dur},"location":"West Europe","operationName":"Microsoft Graph Activity","operationVersion":"v1.0","properties":{{"__UDI_RequiredFields_RegionScope":"EU","__UDI_RequiredFields_TenantId":"{tenant}","apiVersion":"{api}","appId":"{app_id}","atContent":"","clientAuthMethod":"{cam}","clientRequestId":"{req}","durationMs":{dur},"identityProvider":"https://sts.windows.net/{tenant}/","ipAddress":"{ip}","location":"West Europe","operationId":"{req}","requestId":"{req}","requestMethod":"{method}","requestUri":"{uri}","responseSizeBytes":{size},"responseStatusCode":{status},"roles":"","scopes":"User.Read Mail.Read openid profile email","servicePrincipalId":"","signInActivityId":"{sia:016x}","tenantId":"{tenant}","timeGenerated":"{t}","tokenIssuedAt":"{tia}","userAgent":"{agent}","userId":"{uid}","wids":"b79fbf4d-3ef9-4689-8143-76b194e85509"}},"resourceId":"/TENANTS/{tenant_up}/PROVIDERS/MICROSOFT.AADIAM","resultSignature":"{status}","tenantId":"{tenant}","time":"{t}"}}"#,
            dur = 5_000 + self.r.below(400_000),
            api = if uri.contains("/beta/") {
                "beta"
            } else {
                "v1.0"
            },
            cam = self.r.below(3),
            size = 200 + self.r.below(60_000),
            sia = self.r.next(),
            tia = &t[..19],
            agent = AGENTS[self.r.below(AGENTS.len() as u64) as usize],
            tenant_up = tenant.to_ascii_uppercase(),
        );
        self.buf = b;
        &self.buf
    }

    /// One user risk detection (every one is something a SigmaHQ rule may look for).
    fn risk(&mut self) -> &str {
        let t = self.time7();
        let tenant = self.tenant.clone();
        let u = self.user();
        let (upn, display, uid) = (
            self.users[u].upn.clone(),
            self.users[u].display.clone(),
            self.users[u].id.clone(),
        );
        let ip = self.ip();
        let place = PLACES[self.r.below(PLACES.len() as u64) as usize];
        let types = [
            "unfamiliarFeatures",
            "anonymizedIPAddress",
            "unlikelyTravel",
            "anomalousToken",
            "leakedCredentials",
            "passwordSpray",
            "mcasImpossibleTravel",
            "generic",
        ];
        let rt = types[self.r.below(types.len() as u64) as usize];
        let id = format!(
            "{:016x}{:016x}{:016x}",
            self.r.next(),
            self.r.next(),
            self.r.next()
        );
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        let _ = write!(
            b,
            r#"{{"time":"{t}","resourceId":"/tenants/{tenant}/providers/microsoft.aadiam","operationName":"User Risk Detection","operationVersion":"1.0","category":"UserRiskEvents","tenantId":"{tenant}","resultSignature":"None","durationMs":0,"callerIpAddress":"{ip}","correlationId":"{id}","identity":"{display}","Level":4,"location":"{cc}","properties":{{"id":"{id}","requestId":"{req}","correlationId":"{corr}","riskType":"{rt}","riskEventType":"{rt}","riskState":"atRisk","riskLevel":"{level}","riskDetail":"none","source":"IdentityProtection","detectionTimingType":"{timing}","activity":"signin","tokenIssuerType":"AzureAD","ipAddress":"{ip}","activityDateTime":"{t}","detectedDateTime":"{t}","lastUpdatedDateTime":"{t}","userId":"{uid}","userDisplayName":"{display}","userPrincipalName":"{upn}","additionalInfo":"[{{\"Key\":\"userAgent\",\"Value\":\"{agent}\"}}]","location":{{"city":"{city}","state":"{state}","countryOrRegion":"{cc}","geoCoordinates":{{"altitude":null,"latitude":{lat},"longitude":{lon}}}}},"resourceTenantId":null,"homeTenantId":"{tenant}","userType":"member","crossTenantAccessType":"none"}}}}"#,
            cc = place.2,
            city = place.0,
            state = place.1,
            lat = place.3,
            lon = place.4,
            req = self.r.guid(),
            corr = self.r.guid(),
            level = ["low", "medium", "high"][self.r.below(3) as usize],
            timing = if self.r.below(2) == 0 {
                "realtime"
            } else {
                "offline"
            },
            agent = AGENTS[self.r.below(AGENTS.len() as u64) as usize],
        );
        self.buf = b;
        &self.buf
    }

    /// One Azure activity log record (Administrative category, diagnostic export shape).
    fn activity(&mut self) -> &str {
        let t = self.time7();
        let tenant = self.tenant.clone();
        let sub =
            self.subscriptions[self.r.below(self.subscriptions.len() as u64) as usize].clone();
        let rg = ["rg-prod", "rg-dev", "rg-shared", "rg-data"][self.r.below(4) as usize];
        let hit = self.hit();
        let (path, name, action) = if hit {
            self.planted_operation()
        } else {
            routine_operation(self.r.below(10))
        };
        let rid_tail = if name.is_empty() {
            self.r.guid()
        } else {
            format!("{name}-{:02}", self.r.below(30))
        };
        let entity = if path.starts_with("Microsoft.Authorization/elevateAccess") {
            "/providers/Microsoft.Authorization/elevateAccess".to_string()
        } else {
            format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}/{rid_tail}")
        };
        let message = format!("{}/{action}", path_type(path));
        let op = message.to_ascii_uppercase();
        let status = match self.r.below(3) {
            0 => ("Start", "Started."),
            1 => ("Success", "Succeeded."),
            _ => ("Accept", "Accepted.Created"),
        };
        let u = self.user();
        let (upn, display, uid) = (
            self.users[u].upn.clone(),
            self.users[u].display.clone(),
            self.users[u].id.clone(),
        );
        let (given, sur) = display.split_once(' ').unwrap_or((&display, ""));
        let (given, sur) = (given.to_string(), sur.to_string());
        let ip = self.ip();
        let iat = self.clock / 1000 - 600;
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        let _ = write!(
            b,
            r#"{{"time":"{t}","resourceId":"{rid}","operationName":"{op}","category":"Administrative","resultType":"{st}","resultSignature":"{sig}","durationMs":"{dur}","callerIpAddress":"{ip}","correlationId":"{corr}","identity":{{"authorization":{{"action":"{message}","scope":"{entity}","evidence":{{"role":"Contributor","roleAssignmentScope":"/subscriptions/{sub}","roleAssignmentId":"{raid:016x}{raid2:016x}","roleDefinitionId":"b24988ac618042a0ab8820f7382dd24c","principalId":"{pid}","principalType":"User"}}}},"claims":{{"aud":"https://management.core.windows.net/","iss":"https://sts.windows.net/{tenant}/","iat":"{iat}","nbf":"{iat}","exp":"{exp}","http://schemas.microsoft.com/claims/authnclassreference":"1","aio":"E2Zg{aio:012x}AQA=","http://schemas.microsoft.com/claims/authnmethodsreferences":"pwd,mfa","appid":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","appidacr":"0","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname":"{sur}","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname":"{given}","ipaddr":"{ip}","name":"{display}","http://schemas.microsoft.com/identity/claims/objectidentifier":"{uid}","puid":"{puid:016X}","http://schemas.microsoft.com/identity/claims/scope":"user_impersonation","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier":"{nid:x}","http://schemas.microsoft.com/identity/claims/tenantid":"{tenant}","uti":"{uti:x}","ver":"1.0","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"{upn}","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"{upn}"}}}},"level":"Information","location":"global","properties":{{"entity":"{entity}","eventCategory":"Administrative","hierarchy":"{tenant}/{sub}","message":"{message}","serviceRequestId":"{srid}","statusCode":"{code}"}}}}"#,
            rid = entity.to_ascii_uppercase(),
            st = status.0,
            sig = status.1,
            dur = self.r.below(5000),
            corr = self.r.guid(),
            raid = self.r.next(),
            raid2 = self.r.next(),
            pid = uid.replace('-', ""),
            exp = iat + 3900,
            aio = self.r.next() >> 16,
            puid = self.r.next(),
            nid = self.r.next(),
            uti = self.r.next(),
            srid = self.r.guid(),
            code = match status.0 {
                "Start" => "",
                "Success" => "OK",
                _ => "Created",
            },
        );
        self.buf = b;
        &self.buf
    }

    /// An Azure operation the rules look for (Key Vault, NSG rules, role assignments, Cloud
    /// Shell, elevated access): provider/type path with its casing, name prefix, action.
    fn planted_operation(&mut self) -> AzureOperation {
        match self.r.below(6) {
            0 => {
                self.plant("activity: MICROSOFT.KEYVAULT/VAULTS/DELETE");
                ("Microsoft.KeyVault/vaults", "kv-contoso", "delete")
            }
            1 => {
                self.plant("activity: MICROSOFT.KEYVAULT/VAULTS/WRITE");
                ("Microsoft.KeyVault/vaults", "kv-contoso", "write")
            }
            2 => {
                self.plant("activity: NETWORKSECURITYGROUPS/SECURITYRULES/WRITE");
                (
                    "Microsoft.Network/networkSecurityGroups/nsg-web/securityRules",
                    "allow-any",
                    "write",
                )
            }
            3 => {
                self.plant("activity: Microsoft.Authorization/roleAssignments/write");
                ("Microsoft.Authorization/roleAssignments", "", "write")
            }
            4 => {
                self.plant("activity: MICROSOFT.PORTAL/CONSOLES/WRITE");
                ("Microsoft.Portal/consoles", "default", "write")
            }
            _ => {
                self.plant("activity: MICROSOFT.AUTHORIZATION/ELEVATEACCESS/ACTION");
                ("Microsoft.Authorization/elevateAccess", "", "action")
            }
        }
    }

    /// One Unified Audit Log record (Management Activity API shape).
    fn ual(&mut self) -> String {
        let hit = self.hit();
        let tenants = [self.tenant.clone()];
        let mut rec = ual_record(&mut self.r, &tenants);
        if hit {
            let (op, rt) = if self.r.below(2) == 0 {
                self.plant("ual: Disable Strong Authentication.");
                ("Disable Strong Authentication.", 8)
            } else {
                self.plant("ual: Add domain to company.");
                ("Add domain to company.", 8)
            };
            let u = self.user();
            let t = tw_event::Timestamp(self.clock).to_string();
            let ip = self.ip();
            let obj = if op.starts_with("Add domain") {
                "fabrikam-partner.com".to_string()
            } else {
                let o = self.user();
                self.users[o].upn.clone()
            };
            let upn = self.users[u].upn.clone();
            rec = format!(
                r#"{{"CreationTime":"{ct}","Id":"{id}","Operation":"{op}","OrganizationId":"{tenant}","RecordType":{rt},"ResultStatus":"Success","UserKey":"10032000{k:08X}@contoso.com","UserType":2,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"{ip}","ObjectId":"{obj}","UserId":"{upn}","AzureActiveDirectoryEventType":1,"ExtendedProperties":[{{"Name":"additionalDetails","Value":"{{}}"}},{{"Name":"extendedAuditEventCategory","Value":"{cat}"}}],"ModifiedProperties":[],"Actor":[{{"ID":"{upn}","Type":5}},{{"ID":"{aid}","Type":3}}],"ActorContextId":"{tenant}","ActorIpAddress":"{ip}","InterSystemsId":"{isid}","IntraSystemId":"{irid}","SupportTicketId":"","Target":[{{"ID":"{obj}","Type":2}}],"TargetContextId":"{tenant}"}}"#,
                ct = &t[..19],
                id = self.r.guid(),
                tenant = self.tenant,
                k = self.r.below(u32::MAX as u64),
                cat = if op.starts_with("Add domain") {
                    "Domain"
                } else {
                    "User"
                },
                aid = self.r.guid(),
                isid = self.r.guid(),
                irid = self.r.guid(),
            );
        }
        rec
    }
}

/// `Microsoft.Network/networkSecurityGroups/nsg-web/securityRules` →
/// `Microsoft.Network/networkSecurityGroups/securityRules` (the resource type of a path).
/// A routine Azure operation, the `n`-th of ten: provider/type path, name prefix, action.
fn routine_operation(n: u64) -> AzureOperation {
    match n {
        0 => (
            "Microsoft.Compute/virtualMachines",
            "vm-app",
            "start/action",
        ),
        1 => (
            "Microsoft.Compute/virtualMachines",
            "vm-app",
            "deallocate/action",
        ),
        2 => ("Microsoft.Web/sites", "app-contoso", "write"),
        3 => ("Microsoft.Web/sites", "app-contoso", "restart/action"),
        4 => ("Microsoft.Storage/storageAccounts", "stcontoso", "write"),
        5 => ("Microsoft.Sql/servers/sql-contoso/databases", "db", "write"),
        6 => (
            "Microsoft.Insights/diagnosticSettings",
            "send-to-workspace",
            "write",
        ),
        7 => ("Microsoft.Resources/tags", "default", "write"),
        8 => (
            "Microsoft.Automation/automationAccounts/aa-ops/jobs",
            "job",
            "write",
        ),
        _ => ("Microsoft.Logic/workflows", "la-notify", "write"),
    }
}

/// An Azure operation: provider/type path with its casing, name prefix, action.
type AzureOperation = (&'static str, &'static str, &'static str);

fn path_type(path: &str) -> String {
    let mut parts = path.split('/');
    let mut out = String::new();
    if let Some(p) = parts.next() {
        out.push_str(p);
    }
    for (i, p) in parts.enumerate() {
        if i % 2 == 0 {
            out.push('/');
            out.push_str(p);
        }
    }
    out
}

/// Writes about `mb` MB of mixed records under `dir`; prints what was written to stderr.
pub fn generate(dir: &Path, mb: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let start = Instant::now();
    let mut g = Gen::new();
    let names = [
        "signin.jsonl",
        "audit.jsonl",
        "graph.jsonl",
        "risk.jsonl",
        "activity.jsonl",
        "ual.jsonl",
    ];
    let mut outs: Vec<Out> = names
        .iter()
        .map(|n| Out::new(dir, n))
        .collect::<Result<_, _>>()?;
    // Records per 10,000: sign-ins 46 %, Graph activity 22 %, UAL 17 %, audit 8 %, activity
    // 6.85 %, risk detections 0.15 %.
    let target = mb * 1_000_000;
    let mut total = 0u64;
    while total < target {
        g.tick();
        let k = g.r.below(10_000);
        total += match k {
            0..=4599 => {
                let s = g.signin();
                outs[0].put(s)?
            }
            4600..=5399 => {
                let s = g.audit();
                outs[1].put(s)?
            }
            5400..=7599 => {
                let s = g.graph();
                outs[2].put(s)?
            }
            7600..=7614 => {
                g.plant("risk: user risk detection");
                let s = g.risk();
                outs[3].put(s)?
            }
            7615..=8299 => {
                let s = g.activity();
                outs[4].put(s)?
            }
            _ => {
                let s = g.ual();
                outs[5].put(&s)?
            }
        };
    }
    let mut records = 0;
    for (o, n) in outs.iter_mut().zip(names) {
        o.w.flush()?;
        records += o.records;
        eprintln!("{n}: {} records, {} bytes", o.records, o.bytes);
    }
    let planted: u64 = g.planted.values().sum();
    for (what, n) in &g.planted {
        eprintln!("  planted {n:>7}  {what}");
    }
    eprintln!(
        "{records} records, {total} bytes, {planted} planted ({:.2} %); generated in {:.1} s",
        planted as f64 * 100.0 / records.max(1) as f64,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
