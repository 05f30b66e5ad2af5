//! What an indicator is: its type, its value as logs hold it (refanged, lower case where logs
//! compare without case), where it was published, and how a written type name or a bare value is
//! recognised.

use std::sync::Arc;

use tw_event::Timestamp;

use crate::addr::{self, Range};
use crate::defang::refang;

/// Indicator types, in the order totals are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IocType {
    /// IPv4 address or CIDR range.
    Ipv4,
    /// IPv6 address or CIDR range.
    Ipv6,
    /// Domain or host name (its subdomains match too unless exact).
    Domain,
    /// URL (matched as a prefix of, or inside, logged URLs).
    Url,
    /// E-mail address.
    Email,
    /// User account (UPN or login name).
    Account,
    /// Application, object, tenant or credential key id (GUID).
    Id,
    /// User agent (matched as a substring).
    UserAgent,
    /// Certificate thumbprint (SHA-1 or SHA-256, hex), also matched in its base64 form.
    Thumbprint,
}

impl IocType {
    /// Every type.
    pub const ALL: [IocType; 9] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Domain,
        IocType::Url,
        IocType::Email,
        IocType::Account,
        IocType::Id,
        IocType::UserAgent,
        IocType::Thumbprint,
    ];

    /// The name used in titles and totals.
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Domain => "domain",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Account => "account",
            IocType::Id => "id",
            IocType::UserAgent => "user-agent",
            IocType::Thumbprint => "thumbprint",
        }
    }
}

/// One loaded indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Its type.
    pub kind: IocType,
    /// Its value as logs hold it (addresses canonical, ranges as `network/prefix`; domains,
    /// e-mail addresses, accounts, ids and thumbprints lower case).
    pub value: String,
    /// What the publisher says of it (description, comment, event title).
    pub description: Option<String>,
    /// The file it was read from.
    pub file: Arc<str>,
    /// The 1-based line of its entry.
    pub line: u64,
    /// Not valid before (STIX `valid_from`).
    pub valid_from: Option<Timestamp>,
    /// Not valid from (STIX `valid_until`).
    pub valid_until: Option<Timestamp>,
    /// The address range of an IPv4 or IPv6 indicator.
    pub range: Option<Range>,
}

impl Indicator {
    /// `type value`, as titles show it.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind.as_str(), self.value)
    }
}

/// A type name as lists write it (`ip-src`, `IPv4`, `domain-name`, `FileHash-SHA256`, ...):
/// `Ok(Some(t))` a type matched here, `Ok(None)` a name that says nothing (the value decides),
/// `Err(reason)` a type these logs cannot hold.
pub fn type_from_name(name: &str) -> Result<Option<IocType>, String> {
    let n: String = name
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '|')
        .collect();
    let t = match n.as_str() {
        "" | "indicator" | "ioc" | "observable" | "other" | "unknown" => return Ok(None),
        "ip" | "ipaddress" | "ipaddr" | "address" | "ipsrc" | "ipdst" | "ipsrc|port"
        | "ipdst|port" | "ipport" | "cidr" | "iprange" | "netblock" | "network" | "ipaddresses" => {
            return Ok(None);
        }
        "ipv4" | "ipv4addr" | "ipv4address" | "ipv4cidr" | "ipv4range" => IocType::Ipv4,
        "ipv6" | "ipv6addr" | "ipv6address" | "ipv6cidr" | "ipv6range" => IocType::Ipv6,
        "domain" | "domainname" | "hostname" | "host" | "fqdn" | "dns" | "domains" => {
            IocType::Domain
        }
        "url" | "uri" | "link" | "urls" => IocType::Url,
        "email" | "emailaddr" | "emailaddress" | "emailsrc" | "emaildst" | "targetemail"
        | "emailsender" | "sender" | "mail" => IocType::Email,
        "user" | "account" | "useraccount" | "username" | "upn" | "targetuser" | "login" => {
            IocType::Account
        }
        "appid" | "applicationid" | "clientid" | "objectid" | "guid" | "keyid" | "tenantid"
        | "serviceprincipalid" | "oauthappid" => IocType::Id,
        "useragent" | "httpuseragent" | "ua" => IocType::UserAgent,
        "x509fingerprintsha1"
        | "x509fingerprintsha256"
        | "thumbprint"
        | "certthumbprint"
        | "certificatethumbprint"
        | "x509certificate"
        | "certificate"
        | "certsha1"
        | "x509sha1"
        | "x509sha256" => IocType::Thumbprint,
        _ => {
            return Err(format!(
                "type {:?} is not held by these logs (supported: addresses, domains, URLs, e-mail addresses, accounts, ids, user agents, certificate thumbprints)",
                name.trim()
            ));
        }
    };
    Ok(Some(t))
}

/// Recognises a value of type `hint` (or, without one, of the type its shape says) and gives it
/// as logs hold it: `Err(reason)` when it is not a valid indicator.
pub fn recognise(
    raw: &str,
    hint: Option<IocType>,
) -> Result<(IocType, String, Option<Range>), String> {
    if hint == Some(IocType::UserAgent) {
        let v = raw.trim();
        return if v.len() < 4 {
            Err("user agent shorter than 4 characters".into())
        } else {
            Ok((IocType::UserAgent, v.to_string(), None))
        };
    }
    let (v, _) = refang(raw);
    let v = strip_port(&v);
    if v.is_empty() {
        return Err("empty value".into());
    }
    if hint.is_none()
        && let Ok((range, text)) = addr::parse_indicator(v)
    {
        return Ok((family(range), text, Some(range)));
    }
    let kind = match hint {
        Some(k) => k,
        None => match shape_of(v) {
            Some(k) => k,
            // Digits, dots, colons and a prefix: an address that does not parse.
            None if v.bytes().any(|b| b.is_ascii_digit())
                && v.bytes()
                    .all(|b| b.is_ascii_hexdigit() || b".:/".contains(&b)) =>
            {
                IocType::Ipv4
            }
            None => return Err("value of no recognised type".to_string()),
        },
    };
    let lower = v.to_ascii_lowercase();
    match kind {
        IocType::Ipv4 | IocType::Ipv6 => {
            let (range, text) = addr::parse_indicator(v)?;
            Ok((family(range), text, Some(range)))
        }
        IocType::Domain => {
            let d = lower.trim_end_matches('.').trim_start_matches("*.");
            if is_domain(d) {
                Ok((kind, d.to_string(), None))
            } else {
                Err("not a domain name".into())
            }
        }
        IocType::Url => {
            if lower.contains("://") && lower.len() > 8 {
                Ok((kind, lower, None))
            } else {
                Err("not a URL (no scheme)".into())
            }
        }
        IocType::Email => match lower.split_once('@') {
            Some((l, d)) if !l.is_empty() && is_domain(d) && !d.contains('@') => {
                Ok((kind, lower, None))
            }
            _ => Err("not an e-mail address".into()),
        },
        IocType::Account => {
            if lower.len() >= 3 && !lower.contains(char::is_whitespace) {
                Ok((kind, lower, None))
            } else {
                Err("not an account name".into())
            }
        }
        IocType::Id => {
            let g = lower.trim_matches(|c| c == '{' || c == '}');
            if is_guid(g) {
                Ok((kind, g.to_string(), None))
            } else {
                Err("not an id (GUID)".into())
            }
        }
        IocType::Thumbprint => {
            let h: String = lower.chars().filter(|c| *c != ':' && *c != ' ').collect();
            if (h.len() == 40 || h.len() == 64) && h.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok((kind, h, None))
            } else {
                Err("not a SHA-1 or SHA-256 thumbprint (40 or 64 hex digits)".into())
            }
        }
        IocType::UserAgent => Ok((kind, v.to_string(), None)),
    }
}

/// The address family of a range.
fn family(r: Range) -> IocType {
    match r {
        Range::V4(..) => IocType::Ipv4,
        Range::V6(..) => IocType::Ipv6,
    }
}

/// `1.2.3.4:443` and `[2001:db8::1]:443` without their port (MISP `ip-dst|port`, ThreatFox).
fn strip_port(v: &str) -> &str {
    let v = v.trim();
    let v = v.split_once('|').map_or(v, |(a, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            a
        } else {
            v
        }
    });
    if let Some(rest) = v.strip_prefix('[')
        && let Some((a, _)) = rest.split_once(']')
    {
        return a;
    }
    if let Some((a, p)) = v.rsplit_once(':')
        && a.matches(':').count() == 0
        && a.contains('.')
        && !p.is_empty()
        && p.bytes().all(|b| b.is_ascii_digit())
        && a.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return a;
    }
    v
}

/// The type a bare value's shape says.
fn shape_of(v: &str) -> Option<IocType> {
    if let Ok((r, _)) = addr::parse_indicator(v) {
        return Some(match r {
            Range::V4(..) => IocType::Ipv4,
            Range::V6(..) => IocType::Ipv6,
        });
    }
    let lower = v.to_ascii_lowercase();
    if lower.contains("://") {
        return Some(IocType::Url);
    }
    if lower.contains('@') {
        return Some(IocType::Email);
    }
    let g = lower.trim_matches(|c| c == '{' || c == '}');
    if is_guid(g) {
        return Some(IocType::Id);
    }
    if (g.len() == 40 || g.len() == 64) && g.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(IocType::Thumbprint);
    }
    if is_domain(lower.trim_end_matches('.')) {
        return Some(IocType::Domain);
    }
    None
}

pub use tw_event::is_guid;

/// At least two labels of letters, digits, `-` and `_`, the last not all digits.
pub fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && s.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && labels
            .last()
            .is_some_and(|l| !l.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: &str) -> (IocType, String) {
        let (k, v, _) = recognise(v, None).unwrap();
        (k, v)
    }

    #[test]
    fn bare_values_are_recognised_by_shape() {
        assert_eq!(
            rec("185.244.67[.]228"),
            (IocType::Ipv4, "185.244.67.228".into())
        );
        assert_eq!(
            rec("185.244.67.228:8443"),
            (IocType::Ipv4, "185.244.67.228".into())
        );
        assert_eq!(
            rec("2001:DB8:0::/48"),
            (IocType::Ipv6, "2001:db8::/48".into())
        );
        assert_eq!(
            rec("[2001:db8::7]:443"),
            (IocType::Ipv6, "2001:db8::7".into())
        );
        assert_eq!(
            rec("Login.Evil[.]com."),
            (IocType::Domain, "login.evil.com".into())
        );
        assert_eq!(
            rec("hxxps://evil[.]com/a"),
            (IocType::Url, "https://evil.com/a".into())
        );
        assert_eq!(
            rec("Ops[@]Evil.com"),
            (IocType::Email, "ops@evil.com".into())
        );
        assert_eq!(
            rec("{9A2B6D3C-1E4F-4A5B-8C7D-0E1F2A3B4C5D}"),
            (IocType::Id, "9a2b6d3c-1e4f-4a5b-8c7d-0e1f2a3b4c5d".into())
        );
        assert_eq!(rec(&"AB".repeat(20)).0, IocType::Thumbprint);
        assert!(recognise("not an indicator", None).is_err());
        assert!(recognise("1.2.3.4/40", None).is_err());
        assert!(recognise("3.14", None).is_err());
    }

    #[test]
    fn type_names_of_published_lists() {
        assert_eq!(type_from_name("ip-dst|port"), Ok(None));
        assert_eq!(type_from_name("IPv4"), Ok(Some(IocType::Ipv4)));
        assert_eq!(type_from_name("domain-name"), Ok(Some(IocType::Domain)));
        assert_eq!(
            type_from_name("x509-fingerprint-sha1"),
            Ok(Some(IocType::Thumbprint))
        );
        assert_eq!(type_from_name("User-Agent"), Ok(Some(IocType::UserAgent)));
        assert!(type_from_name("FileHash-SHA256").is_err());
        assert!(type_from_name("mutex").is_err());
    }
}
