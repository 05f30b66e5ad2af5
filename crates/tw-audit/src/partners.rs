//! Partners: delegated admin relationships seen from the partner side (GDAP relationships with
//! their roles and access assignments, DAP contracts), and from the customer side (cross-tenant
//! access partners marked as service providers or trusted for MFA, directory roles held by
//! principals of another tenant).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::apps::role_use;
use crate::ctx::{Ctx, day, ev};
use crate::door::{Door, Kind, Risk, RoleUse, Verdict, ts};
use crate::tables::Tables;

fn roles(c: &Ctx<'_>, ids: &[String]) -> Vec<RoleUse> {
    let t = Tables::get();
    let defs: HashMap<&str, &crate::model::RoleDefinition> = c
        .snap
        .role_definitions
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let mut out: Vec<RoleUse> = ids.iter().map(|id| role_use(t, &defs, id, None)).collect();
    out.sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.name.cmp(&b.name)));
    out.dedup();
    out
}

fn role_reasons(v: &mut Verdict, roles: &[RoleUse], via: &str) {
    let t = Tables::get();
    for r in roles.iter().take(3) {
        let power = t
            .role(&r.name)
            .map(|x| x.power)
            .unwrap_or("a custom or unknown role");
        v.add(r.risk, format!("{} via {via}: {power}", r.name));
    }
    if roles.len() > 3 {
        v.add(Risk::Low, format!("and {} more roles", roles.len() - 3));
    }
}

/// What the customer side knows of one partner tenant: roles its principals hold here, the
/// verdict so far, and where it was seen.
type PartnerTenant = (Vec<RoleUse>, Verdict, Vec<crate::door::Evidence>);

/// Partner doors: GDAP relationships and DAP contracts (partner side), then one door per partner
/// tenant (customer side).
pub fn doors(c: &Ctx<'_>, out: &mut Vec<Door>) {
    let s = c.snap;
    out.extend(s.relationships.iter().filter_map(|rel| gdap_door(c, rel)));
    out.extend(s.contracts.iter().map(|k| dap_door(c, k)));
    for (tenant, (rs, v, evidence)) in partner_tenants(c) {
        out.push(partner_tenant_door(c, tenant, rs, v, evidence));
    }
}

/// The door of a GDAP relationship that is not over: its roles, its state, its extensions.
fn gdap_door(c: &Ctx<'_>, rel: &crate::model::DapRelationship) -> Option<Door> {
    let s = c.snap;
    let status = rel.status.clone().unwrap_or_else(|| "unknown".into());
    let st = status.to_ascii_lowercase();
    if matches!(st.as_str(), "terminated" | "expired" | "terminating") {
        return None;
    }
    let customer = rel
        .customer_tenant
        .clone()
        .unwrap_or_else(|| c.tenant.clone());
    let name = format!(
        "{} → {}",
        rel.display_name.as_deref().unwrap_or("GDAP relationship"),
        rel.customer_name.as_deref().unwrap_or(&customer)
    );
    let mut d = Door::new(&customer, Kind::Partner, &rel.id, &name);
    d.other_tenant_id = Some(c.tenant.clone());
    d.roles = roles(c, &rel.roles);
    d.start = ts(rel.activated.or(rel.created));
    d.expiry = ts(rel.end);
    d.last_use = ts(c.last_use(&customer, &c.tenant));
    d.evidence = vec![ev(&rel.prov)];
    let mut v = Verdict::default();
    role_reasons(&mut v, &d.roles, "GDAP");
    if d.roles.is_empty() {
        v.add(Risk::Medium, "GDAP relationship without readable roles");
    }
    if matches!(st.as_str(), "approvalpending" | "created" | "approved") {
        v = Verdict::default();
        v.add(
            Risk::Low,
            format!(
                "GDAP relationship not active yet (status {status}); roles requested: {}",
                d.roles
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if rel
        .auto_extend
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("P180D"))
    {
        v.add(
            Risk::Medium,
            "auto-extends by 180 days: never expires on its own",
        );
    }
    if rel
        .display_name
        .as_deref()
        .is_some_and(|n| n.starts_with("MLT_"))
    {
        v.add(
            Risk::Medium,
            "created by Microsoft's automatic DAP-to-GDAP transition, with its default roles",
        );
    }
    if let Some(e) = rel.end
        && e < c.now
    {
        v.add(
            Risk::Low,
            format!("end date {} has passed but status is {status}", day(e)),
        );
    }
    assignment_reasons(&mut v, s, &rel.id);
    if d.roles.iter().any(|r| r.risk == Risk::Critical) {
        v.act("Replace the highly privileged roles with least-privilege GDAP roles (e.g. Helpdesk or User Administrator) assigned to named partner security groups; turn off auto-extend; review sign-ins by the partner in the customer tenant.");
    } else {
        v.act("Confirm the customer still needs these roles; keep the relationship time-limited.");
    }
    v.apply(&mut d);
    Some(d)
}

/// What the relationship's access assignments say, when the snapshot holds them: which partner
/// groups can use its roles.
fn assignment_reasons(v: &mut Verdict, s: &crate::load::Snapshot, rel_id: &str) {
    let assigned: BTreeSet<&str> = s
        .access_assignments
        .iter()
        .filter(|a| a.relationship_id.as_deref() == Some(rel_id))
        .filter(|a| {
            a.status
                .as_deref()
                .is_none_or(|x| x.eq_ignore_ascii_case("active"))
        })
        .flat_map(|a| a.roles.iter().map(String::as_str))
        .collect();
    if s.seen.contains(&crate::load::Collection::AccessAssignments) {
        if assigned.is_empty() {
            v.add(
                Risk::Low,
                "no active access assignment: no partner group can use these roles yet",
            );
        } else {
            let groups = s
                .access_assignments
                .iter()
                .filter(|a| a.relationship_id.as_deref() == Some(rel_id))
                .filter_map(|a| a.container_id.as_deref())
                .collect::<BTreeSet<_>>();
            v.add(
                Risk::Low,
                format!(
                    "roles usable by partner security group(s) {}",
                    groups.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

/// The door of a DAP contract: Global Administrator without expiry.
fn dap_door(c: &Ctx<'_>, k: &crate::model::Contract) -> Door {
    let name = k
        .display_name
        .clone()
        .or_else(|| k.default_domain.clone())
        .unwrap_or_else(|| k.customer_id.clone());
    let mut d = Door::new(
        &k.customer_id,
        Kind::Partner,
        &k.id,
        &format!("DAP → {name}"),
    );
    d.other_tenant_id = Some(c.tenant.clone());
    d.roles = vec![RoleUse {
        name: "Global Administrator".into(),
        template_id: Some("62e90394-69f5-4237-9190-012177145e10".into()),
        risk: Risk::Critical,
    }];
    d.last_use = ts(c.last_use(&k.customer_id, &c.tenant));
    d.evidence = vec![ev(&k.prov)];
    let mut v = Verdict::default();
    v.add(
        Risk::Critical,
        format!(
            "Global Administrator via DAP, no expiry ({} contract): the partner's Admin agents can do anything in this customer; migrate to GDAP with least-privilege roles",
            k.contract_type.as_deref().unwrap_or("contract")
        ),
    );
    v.act("Migrate to GDAP with least-privilege roles and an end date, then remove the DAP relationship (customer: Microsoft 365 admin center → Partner relationships; partner: remove delegated admin privileges).");
    v.apply(&mut d);
    d
}

/// Customer side: cross-tenant access partners and tenants whose principals hold directory
/// roles here, by partner tenant.
fn partner_tenants(c: &Ctx<'_>) -> BTreeMap<String, PartnerTenant> {
    let s = c.snap;
    let mut by_partner: BTreeMap<String, PartnerTenant> = BTreeMap::new();
    for p in &s.cross_tenant_partners {
        let e = by_partner.entry(p.tenant_id.clone()).or_default();
        e.2.push(ev(&p.prov));
        if p.service_provider {
            e.1.add(Risk::High, "marked as a service provider: a CSP/GDAP partner whose administrators can act in this tenant with the roles granted to them");
        }
        if !p.trusts.is_empty() {
            let r = if p.trusts.contains(&"MFA") {
                Risk::High
            } else {
                Risk::Medium
            };
            e.1.add(r, format!("the partner tenant's claims are trusted here ({}): a stolen partner session passes your Conditional Access", p.trusts.join(", ")));
            e.1.act(
                "Stop trusting the partner's MFA and device claims unless contractually required.",
            );
        }
        if p.auto_consent_inbound {
            e.1.add(Risk::Medium, "invitations from the partner are redeemed automatically (cross-tenant synchronization)");
        }
        if !p.service_provider && p.trusts.is_empty() && !p.auto_consent_inbound {
            e.1.add(
                Risk::Low,
                "cross-tenant access settings exist for this tenant",
            );
        }
    }
    let mut foreign: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &s.role_assignments {
        if let Some(org) = &r.principal_org
            && !org.eq_ignore_ascii_case(&c.tenant)
        {
            foreign
                .entry(org.clone())
                .or_default()
                .push(r.role_definition_id.clone());
            by_partner
                .entry(org.clone())
                .or_default()
                .2
                .push(ev(&r.prov));
        }
    }
    for (org, ids) in foreign {
        let rs = roles(c, &ids);
        let e = by_partner.entry(org).or_default();
        role_reasons(&mut e.1, &rs, "principals of this partner tenant");
        e.0 = rs;
    }
    by_partner
}

/// The customer-side door of one partner tenant.
fn partner_tenant_door(
    c: &Ctx<'_>,
    tenant: String,
    rs: Vec<RoleUse>,
    mut v: Verdict,
    evidence: Vec<crate::door::Evidence>,
) -> Door {
    let t = Tables::get();
    if t.first_party_tenant(&tenant).is_some() {
        v.add(Risk::Low, "a Microsoft tenant");
    }
    let mut d = Door::new(
        &c.tenant,
        Kind::Partner,
        &tenant,
        &format!("partner tenant {tenant}"),
    );
    d.other_tenant_id = Some(tenant.clone());
    d.roles = rs;
    d.last_use = ts(c.last_use(&c.tenant, &tenant));
    d.evidence = evidence.into_iter().take(5).collect();
    v.act("Confirm the partner relationship is still needed; remove DAP, keep GDAP with least-privilege roles and an end date; review sign-ins whose home tenant is this partner.");
    v.apply(&mut d);
    d
}
