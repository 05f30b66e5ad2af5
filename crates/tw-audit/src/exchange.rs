//! Exchange Online: ApplicationImpersonation holders, FullAccess grants, mailbox forwarding and
//! inbox rules that forward, redirect, delete or hide mail. "External" means a recipient domain
//! that is not one of the tenant's own; when the tenant's domains are not in the snapshot every
//! address counts as external (nothing is assumed safe because it is absent).

use std::collections::BTreeSet;

use crate::ctx::{Ctx, ev};
use crate::door::{Door, Kind, Risk, Verdict, ts};
use crate::load::own_domains;
use crate::model::{InboxRule, Mailbox, MailboxPermission, ManagementRoleAssignment};

/// The tenant's own mail domains, when the snapshot names them.
type OwnDomains = Option<BTreeSet<String>>;

/// Extracts e-mail addresses from Exchange recipient strings: `smtp:a@b.com`,
/// `"Name" [SMTP:a@b.com]`, plain `a@b.com`. Values without `@` (internal recipient names) yield
/// nothing.
pub fn addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in value
        .split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '"' | ';' | ',' | '<' | '>'))
    {
        let t = token.trim();
        let t = t
            .strip_prefix("SMTP:")
            .or_else(|| t.strip_prefix("smtp:"))
            .unwrap_or(t);
        if let Some((local, domain)) = t.rsplit_once('@')
            && !local.is_empty()
            && domain.contains('.')
        {
            out.push(t.to_ascii_lowercase());
        }
    }
    out.dedup();
    out
}

fn domain_of(addr: &str) -> &str {
    addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

fn is_internal(own: &Option<BTreeSet<String>>, addr: &str) -> bool {
    let d = domain_of(addr);
    own.as_ref()
        .is_some_and(|set| set.iter().any(|o| d == o || d.ends_with(&format!(".{o}"))))
}

/// Exchange doors.
pub fn doors(c: &Ctx<'_>, out: &mut Vec<Door>) {
    let s = c.snap;
    let own = own_domains(s);
    let unknown_note = if own.is_none() {
        " (the tenant's domains are not in the snapshot, so every address counts as external)"
    } else {
        ""
    };
    let x = Exchange {
        c,
        own,
        unknown_note,
    };
    out.extend(s.management_roles.iter().filter_map(|m| x.impersonation(m)));
    out.extend(
        s.mailbox_permissions
            .iter()
            .filter_map(|p| x.full_access(p)),
    );
    out.extend(s.mailboxes.iter().filter_map(|m| x.forwarding(m)));
    out.extend(s.inbox_rules.iter().filter_map(|r| x.inbox_rule(r)));
}

/// What the Exchange checks share: the snapshot, the tenant's own domains (to tell external
/// addresses), and the note added when those domains are unknown.
struct Exchange<'a> {
    c: &'a Ctx<'a>,
    own: OwnDomains,
    unknown_note: &'static str,
}

impl Exchange<'_> {
    /// An ApplicationImpersonation role assignment.
    fn impersonation(&self, m: &ManagementRoleAssignment) -> Option<Door> {
        let c = self.c;
        if !m.role.eq_ignore_ascii_case("ApplicationImpersonation") {
            return None;
        }
        let mut d = Door::new(
            &c.tenant,
            Kind::Exchange,
            &format!("impersonation/{}", m.name),
            &m.assignee,
        );
        d.evidence = vec![ev(&m.prov)];
        d.start = ts(m.created);
        let mut v = Verdict::default();
        if m.enabled == Some(false) {
            v.add(Risk::Low, "ApplicationImpersonation assignment (disabled)");
        } else {
            let r = match m
                .assignee_type
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("serviceprincipal") | Some("partnerlinkedrolegroup") => Risk::Critical,
                _ => Risk::High,
            };
            v.add(r, format!(
                "{} ({}) holds ApplicationImpersonation: can open every mailbox through Exchange Web Services",
                m.assignee,
                m.assignee_type.as_deref().unwrap_or("assignee")
            ));
        }
        v.act("Remove the ApplicationImpersonation assignment (Microsoft is retiring the role); give the application Graph permissions limited by an application access policy instead.");
        v.apply(&mut d);
        Some(d)
    }

    /// A FullAccess mailbox permission held by someone other than the system.
    fn full_access(&self, p: &MailboxPermission) -> Option<Door> {
        let (c, own, unknown_note) = (self.c, &self.own, self.unknown_note);
        if p.deny
            || p.inherited
            || !p
                .rights
                .iter()
                .any(|r| r.eq_ignore_ascii_case("FullAccess"))
        {
            return None;
        }
        let u = p.user.to_ascii_lowercase();
        if u.starts_with("nt authority\\") || u.starts_with("s-1-5-") {
            return None;
        }
        let mut d = Door::new(
            &c.tenant,
            Kind::Exchange,
            &format!("fullaccess/{}/{}", p.mailbox, p.user),
            &format!("{} → {}", p.user, p.mailbox),
        );
        d.evidence = vec![ev(&p.prov)];
        let mut v = Verdict::default();
        let ext = u.contains("#ext#") || addresses(&p.user).iter().any(|a| !is_internal(own, a));
        if ext {
            v.add(
                Risk::High,
                format!(
                    "FullAccess to mailbox {} held by an external or guest principal {}{}",
                    p.mailbox,
                    p.user,
                    if u.contains('@') { unknown_note } else { "" }
                ),
            );
        } else {
            v.add(
                Risk::Medium,
                format!("FullAccess to mailbox {} held by {}", p.mailbox, p.user),
            );
        }
        v.act("Confirm the delegation with the mailbox owner; remove it otherwise (Remove-MailboxPermission).");
        v.apply(&mut d);
        Some(d)
    }

    /// A mailbox forwarding all its mail.
    fn forwarding(&self, m: &Mailbox) -> Option<Door> {
        let (c, own, unknown_note) = (self.c, &self.own, self.unknown_note);
        let mut targets: Vec<String> = Vec::new();
        if let Some(f) = &m.forwarding_smtp {
            targets.extend(addresses(f));
        }
        let address_obj = m.forwarding_address.clone();
        if targets.is_empty() && address_obj.is_none() {
            return None;
        }
        let mut d = Door::new(
            &c.tenant,
            Kind::Exchange,
            &format!("forwarding/{}", m.name),
            &m.name,
        );
        d.evidence = vec![ev(&m.prov)];
        let mut v = Verdict::default();
        let copy = if m.keep_copy == Some(false) {
            " without keeping a copy"
        } else {
            ""
        };
        for t in &targets {
            if is_internal(own, t) {
                v.add(
                    Risk::Low,
                    format!("forwards all mail to internal address {t}{copy}"),
                );
            } else {
                v.add(
                    Risk::High,
                    format!("forwards all mail to external address {t}{copy}{unknown_note}"),
                );
            }
        }
        if let Some(a) = address_obj {
            v.add(
                Risk::Medium,
                format!("forwards all mail to recipient {a} (a mail contact may be external)"),
            );
        }
        v.act("Confirm the forwarding with the mailbox owner; remove it otherwise and block automatic external forwarding in the outbound spam policy.");
        v.apply(&mut d);
        Some(d)
    }

    /// An inbox rule that forwards or hides mail.
    fn inbox_rule(&self, r: &InboxRule) -> Option<Door> {
        let (c, own, unknown_note) = (self.c, &self.own, self.unknown_note);
        let fw: Vec<String> = r.forwards.iter().flat_map(|x| addresses(x)).collect();
        let internal_names = r
            .forwards
            .iter()
            .filter(|x| addresses(x).is_empty())
            .count();
        if fw.is_empty() && internal_names == 0 && r.hides.is_none() {
            return None;
        }
        let mut d = Door::new(
            &c.tenant,
            Kind::Exchange,
            &format!("inboxrule/{}/{}", r.mailbox, r.name),
            &format!("{}: {}", r.mailbox, r.name),
        );
        d.evidence = vec![ev(&r.prov)];
        let mut v = Verdict::default();
        let external: Vec<&String> = fw.iter().filter(|a| !is_internal(own, a)).collect();
        let disabled = r.enabled == Some(false);
        if !external.is_empty() {
            let list = external
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let risk = if r.hides.is_some() {
                Risk::Critical
            } else {
                Risk::High
            };
            v.add(
                risk,
                format!("inbox rule forwards mail to external {list}{unknown_note}"),
            );
        } else if !fw.is_empty() || internal_names > 0 {
            v.add(Risk::Low, "inbox rule forwards mail internally");
        }
        if let Some(h) = &r.hides {
            v.add(
                Risk::Medium,
                format!("inbox rule {h}: a common way to hide replies from the victim"),
            );
        }
        if disabled {
            let mut low = Verdict::default();
            low.add(Risk::Low, "disabled inbox rule that forwards or hides mail");
            v = low;
        }
        v.act("Check the rule with the mailbox owner; remove it if they did not create it and look for the sign-in that did (New-InboxRule / Set-InboxRule in the audit log).");
        v.apply(&mut d);
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_from_exchange_strings() {
        assert_eq!(addresses("smtp:a@evil.com"), vec!["a@evil.com"]);
        assert_eq!(
            addresses("\"Mallory\" [SMTP:m@evil.net]"),
            vec!["m@evil.net"]
        );
        assert!(addresses("Adele Vance").is_empty());
    }
}
