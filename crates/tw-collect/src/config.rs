//! The configuration collections `audit` reads, collected from Microsoft Graph: organization,
//! service principals (with each one's `appRoleAssignedTo`), applications, OAuth2 permission
//! grants, directory role assignments (beta, for `principalOrganizationId`) and definitions,
//! domains (with each federated domain's `federationConfiguration`), cross-tenant access partners,
//! and in a partner tenant its GDAP relationships (with their access assignments). Every page is
//! written as one line as Graph served it (`@odata.context` and `value`), which is how `audit`
//! recognises the collection; one file per collection under `config/`.

use serde_json::value::RawValue;

use crate::Error;
use crate::source::{Cx, Fetch, Got, Page, Source, graph_pages_with};
use crate::store::WindowFile;
use crate::window::Window;

/// A collection and the per-object collection under it.
pub struct ConfigSet {
    name: String,
    path: &'static str,
    child: Option<Child>,
}

struct Child {
    sub: &'static str,
    /// Only parents for which this is true (federated domains).
    when: fn(&serde_json::Value) -> bool,
}

fn any(_: &serde_json::Value) -> bool {
    true
}

fn federated(v: &serde_json::Value) -> bool {
    v.get("authenticationType")
        .and_then(|x| x.as_str())
        .is_some_and(|s| s.eq_ignore_ascii_case("federated"))
}

fn set(name: &str, path: &'static str, child: Option<Child>) -> Box<dyn Source> {
    Box::new(ConfigSet {
        name: format!("config/{name}"),
        path,
        child,
    })
}

/// The configuration sources of a tenant (GDAP relationships in a partner tenant only).
pub fn sources(partner: bool) -> Vec<Box<dyn Source>> {
    let mut v = vec![
        set("organization", "v1.0/organization", None),
        set(
            "servicePrincipals",
            "v1.0/servicePrincipals",
            Some(Child {
                sub: "appRoleAssignedTo",
                when: any,
            }),
        ),
        set("applications", "v1.0/applications", None),
        set(
            "oauth2PermissionGrants",
            "v1.0/oauth2PermissionGrants",
            None,
        ),
        set(
            "roleAssignments",
            "beta/roleManagement/directory/roleAssignments",
            None,
        ),
        set(
            "roleDefinitions",
            "v1.0/roleManagement/directory/roleDefinitions",
            None,
        ),
        set(
            "domains",
            "v1.0/domains",
            Some(Child {
                sub: "federationConfiguration",
                when: federated,
            }),
        ),
        set(
            "crossTenantAccessPartners",
            "v1.0/policies/crossTenantAccessPolicy/partners",
            None,
        ),
    ];
    if partner {
        v.push(set(
            "delegatedAdminRelationships",
            "v1.0/tenantRelationships/delegatedAdminRelationships",
            Some(Child {
                sub: "accessAssignments",
                when: any,
            }),
        ));
    }
    v
}

/// Writes a page as one line: its context and records.
fn write_page(out: &mut WindowFile, page: &Page<'_>) -> Result<(), Error> {
    let ctx = page.context.as_deref().unwrap_or("");
    let value: Vec<&RawValue> = page.value.clone();
    let line = serde_json::json!({"@odata.context": ctx, "value": value});
    let text = serde_json::to_string(&line).map_err(|e| Error::Io(e.to_string()))?;
    out.line(text.as_bytes())
}

impl ConfigSet {
    /// Pages through `url` into `out`; returns the ids of the objects `when` accepts.
    fn pages(
        &self,
        cx: &Cx<'_>,
        url: String,
        out: &mut WindowFile,
        got: &mut Got,
        when: Option<fn(&serde_json::Value) -> bool>,
    ) -> Result<(Fetch, Vec<String>), Error> {
        let mut ids = Vec::new();
        let mut n = 0u64;
        let end = graph_pages_with(cx, url, got, &mut |page| {
            n += page.value.len() as u64;
            if let Some(f) = when {
                for r in &page.value {
                    let v: serde_json::Value = serde_json::from_str(r.get()).unwrap_or_default();
                    if let Some(id) = v.get("id").and_then(|x| x.as_str())
                        && f(&v)
                    {
                        ids.push(id.to_string());
                    }
                }
            }
            write_page(out, page)
        })?;
        got.records += n;
        Ok((end, ids))
    }
}

impl Source for ConfigSet {
    fn name(&self) -> &str {
        &self.name
    }

    fn folder(&self) -> &str {
        "config"
    }

    fn windowed(&self) -> bool {
        false
    }

    fn fetch(
        &self,
        cx: &Cx<'_>,
        _w: Window,
        out: &mut WindowFile,
        got: &mut Got,
    ) -> Result<Fetch, Error> {
        // A collection is not split by time: page and result caps do not apply to it.
        let limits = crate::source::Limits {
            max_pages: 0,
            result_cap: 0,
            ..cx.limits.clone()
        };
        let cx = &Cx {
            http: cx.http,
            auth: cx.auth,
            ep: cx.ep,
            tenant: cx.tenant,
            limits: &limits,
        };
        let url = format!("{}/{}", cx.ep.graph, self.path);
        let (end, ids) = self.pages(cx, url, out, got, self.child.as_ref().map(|c| c.when))?;
        if end != Fetch::Complete {
            return Ok(Fetch::Restart(format!("{} listing ended early", self.name)));
        }
        if let Some(c) = &self.child {
            for id in ids {
                let id = crate::auth::pct(&id);
                let url = format!("{}/{}/{id}/{}", cx.ep.graph, self.path, c.sub);
                let (end, _) = self.pages(cx, url, out, got, None)?;
                if end != Fetch::Complete {
                    return Ok(Fetch::Restart(format!("{} listing ended early", c.sub)));
                }
            }
        }
        Ok(Fetch::Complete)
    }
}
