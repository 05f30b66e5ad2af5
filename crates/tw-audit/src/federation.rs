//! Federation: every federated domain is a door — whoever holds its token-signing key can sign in
//! as any user of the domain, MFA claims included. Checked: the issuer (the AADInternals backdoor
//! `http://any.sts/…`, an issuer that does not match the domain), the signing certificate's
//! validity, a second (next) signing certificate, the MFA behaviour, federated domains whose
//! configuration is missing, and unverified domains.

use std::collections::BTreeSet;

use crate::ctx::{Ctx, day, ev};
use crate::door::{Door, Kind, Risk, Verdict, ts};
use crate::model::Federation;
use crate::x509::parse_certificate;

/// Identity providers commonly federated with Entra ID (a third party, but an expected one).
const KNOWN_IDPS: [&str; 8] = [
    "okta.com",
    "oktapreview.com",
    "pingone.com",
    "pingidentity.com",
    "onelogin.com",
    "duosecurity.com",
    "google.com",
    "auth0.com",
];

/// The host of a URI (`http://sts.contoso.com/adfs/services/trust` → `sts.contoso.com`).
pub fn issuer_host(issuer: &str) -> Option<String> {
    let rest = issuer.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host
        .rsplit('@')
        .next()?
        .split(':')
        .next()?
        .to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

fn base(d: &str) -> String {
    let labels: Vec<&str> = d.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    if n >= 3 && labels[n - 2].len() <= 3 && labels[n - 1].len() == 2 {
        labels[n - 3..].join(".")
    } else if n >= 2 {
        labels[n - 2..].join(".")
    } else {
        d.to_string()
    }
}

/// Whether an issuer host belongs to the domain (same registrable domain).
pub fn matches_domain(host: &str, domain: &str) -> bool {
    host == domain
        || host.ends_with(&format!(".{domain}"))
        || domain.ends_with(&format!(".{host}"))
        || base(host) == base(domain)
}

fn check_config(c: &Ctx<'_>, f: &Federation, domain: Option<&str>, v: &mut Verdict) {
    match f.issuer.as_deref() {
        None => v.add(Risk::Medium, "no issuer URI in the configuration"),
        Some(i) => {
            let host = issuer_host(i);
            if i.to_ascii_lowercase().contains("any.sts") {
                v.add(Risk::Critical, format!("issuer {i} has the shape of the AADInternals federation backdoor (any.sts): anyone with its key can sign in as any user"));
                v.act("Treat as compromise: convert the domain to managed (or restore the real AD FS settings), revoke all users' sessions and refresh tokens, and hunt for sign-ins with federated tokens since the change.");
            } else if let (Some(h), Some(d)) = (host.as_deref(), domain) {
                if KNOWN_IDPS
                    .iter()
                    .any(|k| h == *k || h.ends_with(&format!(".{k}")))
                {
                    v.add(Risk::Medium, format!("issuer {i} is a third-party identity provider ({h}): that provider can sign in as any user of the domain"));
                } else if !matches_domain(h, d) {
                    v.add(
                        Risk::High,
                        format!("issuer {i} does not match the domain {d}"),
                    );
                    v.act("Verify the issuer with the team that runs your identity provider; if nobody owns it, convert the domain to managed and revoke sessions.");
                }
            } else if host.is_none() && !i.to_ascii_lowercase().starts_with("urn:") {
                v.add(Risk::Medium, format!("issuer {i} is not a URI"));
            }
        }
    }
    let cur = f.signing_cert.as_deref().map(|s| (s, parse_certificate(s)));
    match &cur {
        None => v.add(Risk::Medium, "no signing certificate in the configuration"),
        Some((_, None)) => v.add(Risk::Medium, "the signing certificate cannot be read"),
        Some((_, Some(ci))) => {
            if ci.not_after < c.now {
                v.add(
                    Risk::Medium,
                    format!("the signing certificate expired on {}", day(ci.not_after)),
                );
            } else if ci.not_before > c.now {
                v.add(
                    Risk::Medium,
                    format!(
                        "the signing certificate is not valid before {}",
                        day(ci.not_before)
                    ),
                );
            }
        }
    }
    if let Some(next) = f.next_signing_cert.as_deref()
        && Some(next) != f.signing_cert.as_deref()
    {
        let ni = parse_certificate(next);
        let subject_note = match (&cur, &ni) {
            (Some((_, Some(a))), Some(b)) if a.subject_cn != b.subject_cn => format!(
                ", with a different subject ({} vs {})",
                b.subject_cn.as_deref().unwrap_or("?"),
                a.subject_cn.as_deref().unwrap_or("?")
            ),
            (_, None) => ", which cannot be read".into(),
            _ => String::new(),
        };
        v.add(Risk::High, format!("a second signing certificate (nextSigningCertificate) is configured{subject_note}: tokens signed by either are accepted; it is a rollover or a backdoor signer"));
        v.act("Confirm the next signing certificate is your identity provider's own rollover certificate (compare thumbprints with AD FS); remove it otherwise.");
    }
    if f.mfa_behavior
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("acceptIfMfaDoneByFederatedIdp"))
    {
        v.add(
            Risk::Medium,
            "MFA claimed by the federated identity provider is accepted",
        );
    }
}

/// Federation and domain doors.
pub fn doors(c: &Ctx<'_>, out: &mut Vec<Door>) {
    let s = c.snap;
    let mut handled = BTreeSet::new();
    let federated: BTreeSet<String> = s
        .domains
        .iter()
        .filter(|d| {
            d.auth_type
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("Federated"))
        })
        .map(|d| d.name.clone())
        .collect();
    for f in &s.federations {
        let id = f.domain.clone().unwrap_or_else(|| {
            format!("federation configuration {} #{}", f.prov.file, f.prov.index)
        });
        handled.insert(id.clone());
        let mut d = Door::new(&c.tenant, Kind::Federation, &id, &id);
        d.evidence = vec![ev(&f.prov)];
        let mut v = Verdict::default();
        v.add(Risk::Medium, "federated: whoever holds the token-signing key can sign in as any user of this domain, MFA included");
        check_config(c, f, f.domain.as_deref(), &mut v);
        if let Some(ci) = f.signing_cert.as_deref().and_then(parse_certificate) {
            d.start = ts(Some(ci.not_before));
            d.expiry = ts(Some(ci.not_after));
        }
        if let Some(dom) = s
            .domains
            .iter()
            .find(|x| Some(&x.name) == f.domain.as_ref())
            && dom.verified == Some(false)
        {
            v.add(Risk::High, "federated but not verified");
        }
        v.act("Keep the token-signing key in an HSM and monitor changes to federation settings (Set domain authentication, Set federation settings on domain).");
        v.apply(&mut d);
        out.push(d);
    }
    for name in &federated {
        if handled.contains(name) {
            continue;
        }
        let mut d = Door::new(&c.tenant, Kind::Federation, name, name);
        if let Some(dom) = s.domains.iter().find(|x| &x.name == name) {
            d.evidence = vec![ev(&dom.prov)];
        }
        let mut v = Verdict::default();
        v.add(Risk::High, "federated, but its federationConfiguration is not in the snapshot: issuer and signing certificates unchecked");
        v.act("Export GET /domains/{id}/federationConfiguration and audit again.");
        v.apply(&mut d);
        out.push(d);
    }
    for dom in &s.domains {
        if dom.verified == Some(false) && !federated.contains(&dom.name) {
            let mut d = Door::new(&c.tenant, Kind::Federation, &dom.name, &dom.name);
            d.evidence = vec![ev(&dom.prov)];
            let mut v = Verdict::default();
            v.add(
                Risk::Low,
                "unverified domain: added to the tenant but never proven",
            );
            v.act("Remove it if nobody in the organization added it on purpose.");
            v.apply(&mut d);
            out.push(d);
        }
    }
    for sc in &s.scuba {
        for (name, auth, verified) in &sc.domains {
            if handled.contains(name) || federated.contains(name) {
                continue;
            }
            let fed = auth
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("Federated"));
            if fed || *verified == Some(false) {
                let mut d = Door::new(&c.tenant, Kind::Federation, name, name);
                d.evidence = vec![ev(&sc.prov)];
                let mut v = Verdict::default();
                if fed {
                    v.add(Risk::High, "federated (ScubaGear domain settings); its federation configuration is not in the snapshot");
                    v.act("Export the domain's federationConfiguration and audit again.");
                } else {
                    v.add(Risk::Low, "unverified domain");
                    v.act("Remove it if nobody added it on purpose.");
                }
                v.apply(&mut d);
                out.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_matching() {
        assert_eq!(
            issuer_host("http://sts.contoso.com/adfs/services/trust").as_deref(),
            Some("sts.contoso.com")
        );
        assert!(matches_domain("sts.contoso.com", "contoso.com"));
        assert!(matches_domain("contoso.com", "mail.contoso.com"));
        assert!(matches_domain("sts.contoso.co.uk", "contoso.co.uk"));
        assert!(!matches_domain("evil.net", "contoso.com"));
        assert_eq!(issuer_host("nonsense"), None);
    }
}
