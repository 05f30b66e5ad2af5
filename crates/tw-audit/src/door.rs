//! A door: one third-party access path into a tenant — a partner relationship, an application, a
//! credential, a federation trust or an Exchange permission — with its risk, the reason, and what
//! to do about it. The JSON field names `tenant_id`, `kind`, `id`, `name`, `risk`, `reason` and
//! `action` are a contract.

use serde::{Deserialize, Serialize};
use tw_event::Timestamp;

/// How dangerous a door is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Informational: little power, or already closed.
    Low,
    /// Worth a look.
    Medium,
    /// Can reach sensitive data or change security.
    High,
    /// Can read every mailbox, become an administrator, or sign in as anyone.
    Critical,
}

impl Risk {
    /// `critical`, `high`, `medium` or `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<Risk> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Risk::Low),
            "medium" => Some(Risk::Medium),
            "high" => Some(Risk::High),
            "critical" => Some(Risk::Critical),
            _ => None,
        }
    }
}

/// What sort of door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A partner: DAP/GDAP relationship, service provider, foreign role holder.
    Partner,
    /// An application or service principal and its permissions.
    App,
    /// Credentials (secrets, certificates, federated credentials) on an app or service principal.
    Credential,
    /// A federation trust or a domain.
    Federation,
    /// An Exchange Online permission, forwarding or inbox rule.
    Exchange,
}

impl Kind {
    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Partner => "partner",
            Kind::App => "app",
            Kind::Credential => "credential",
            Kind::Federation => "federation",
            Kind::Exchange => "exchange",
        }
    }
}

/// Where a door was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// The file.
    pub file: String,
    /// 0-based object index within the file.
    pub index: usize,
}

/// A permission a door holds, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PermissionUse {
    /// The API (`Microsoft Graph`).
    pub resource: String,
    /// The permission (`Mail.Read`), or its id when unknown.
    pub name: String,
    /// `application` or `delegated`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it lets the holder do.
    pub power: String,
    /// Its risk.
    pub risk: Risk,
    /// How it is held (`app role assignment`, `admin consent for all users`, `consent by 3 users`,
    /// `requested, not granted`).
    pub granted: String,
}

/// A directory role a door holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleUse {
    /// The role's name.
    pub name: String,
    /// Its template id, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub template_id: Option<String>,
    /// Its risk.
    pub risk: Risk,
}

/// A credential, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CredentialView {
    /// `password`, `certificate`, `symmetric` or `federated`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it sits: `application` (the app registration) or `service_principal`.
    pub on: String,
    /// The key id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<String>,
    /// Its display name (attacker-controlled).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub display_name: Option<String>,
    /// Valid from (Graph has no creation time; the start is the closest).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
    /// Valid until.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires: Option<String>,
    /// For federated credentials: issuer and subject.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
}

/// One access path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Door {
    /// The tenant the door opens into.
    pub tenant_id: String,
    /// What sort of door.
    pub kind: Kind,
    /// A stable id within tenant and kind (object id, relationship id, domain name, ...).
    pub id: String,
    /// A display name (attacker-controlled where it comes from the tenant).
    pub name: String,
    /// How dangerous.
    pub risk: Risk,
    /// Why, in plain words.
    pub reason: String,
    /// What to do.
    pub action: String,
    /// The other tenant involved (partner tenant, app owner tenant).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub other_tenant_id: Option<String>,
    /// Verified publisher of an app.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verified_publisher: Option<String>,
    /// Whether the door belongs to a Microsoft first-party app.
    #[serde(skip_serializing_if = "is_false", default)]
    pub first_party: bool,
    /// App id of an app or credential door.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app_id: Option<String>,
    /// Permissions held.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub permissions: Vec<PermissionUse>,
    /// Directory roles held.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub roles: Vec<RoleUse>,
    /// Credentials.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub credentials: Vec<CredentialView>,
    /// Start of the access (relationship activation, assignment creation).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start: Option<String>,
    /// When the access ends by itself, if ever.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiry: Option<String>,
    /// Last use seen in the sign-in logs given with `--signins`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_use: Option<String>,
    /// Where it was seen (first few objects).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<Evidence>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Formats an optional timestamp as RFC 3339.
pub fn ts(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

impl Door {
    /// A door with the required fields and nothing else.
    pub fn new(tenant_id: &str, kind: Kind, id: &str, name: &str) -> Door {
        Door {
            tenant_id: tenant_id.to_string(),
            kind,
            id: id.to_string(),
            name: name.to_string(),
            risk: Risk::Low,
            reason: String::new(),
            action: String::new(),
            other_tenant_id: None,
            verified_publisher: None,
            first_party: false,
            app_id: None,
            permissions: Vec::new(),
            roles: Vec::new(),
            credentials: Vec::new(),
            start: None,
            expiry: None,
            last_use: None,
            evidence: Vec::new(),
        }
    }

    /// The identity used to compare snapshots.
    pub fn key(&self) -> (String, Kind, String) {
        (self.tenant_id.clone(), self.kind, self.id.clone())
    }
}

/// Collects reasons and actions, keeping the highest risk.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Highest risk so far.
    pub risk: Option<Risk>,
    reasons: Vec<(Risk, String)>,
    actions: Vec<String>,
}

impl Verdict {
    /// Adds a reason with its risk.
    pub fn add(&mut self, risk: Risk, reason: impl Into<String>) {
        self.risk = Some(self.risk.map_or(risk, |r| r.max(risk)));
        self.reasons.push((risk, reason.into()));
    }

    /// Adds an action (deduplicated).
    pub fn act(&mut self, action: impl Into<String>) {
        let a = action.into();
        if !self.actions.contains(&a) {
            self.actions.push(a);
        }
    }

    /// Writes risk, reason (most severe first) and action into a door.
    pub fn apply(mut self, d: &mut Door) {
        self.reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
        d.risk = self.risk.unwrap_or(Risk::Low);
        d.reason = self
            .reasons
            .into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
            .join("; ");
        d.action = self.actions.join(" ");
    }
}

/// Sorts doors critical → low, then by kind, tenant, name and id.
pub fn rank(doors: &mut [Door]) {
    doors.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.tenant_id.cmp(&b.tenant_id))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
}
