//! Partner mode: the GDAP customers of a partner tenant
//! (`v1.0/tenantRelationships/delegatedAdminCustomers`, paged), each checked to be a tenant id
//! usable as a folder name before anything is written for it.

use serde::Deserialize;

use crate::source::{Cx, Got, graph_pages};
use crate::{Error, check_tenant};

#[derive(Deserialize)]
struct Customer {
    #[serde(rename = "tenantId")]
    tenant_id: Option<String>,
    id: Option<String>,
}

/// The customers' tenant ids, sorted, without duplicates.
pub fn customers(cx: &Cx<'_>) -> Result<Vec<String>, Error> {
    let url = format!(
        "{}/v1.0/tenantRelationships/delegatedAdminCustomers",
        cx.ep.graph
    );
    let mut got = Got::default();
    let mut out = Vec::new();
    let mut bad = 0u64;
    let end = graph_pages(cx, url, &mut got, &mut |raw| {
        let c: Customer = serde_json::from_str(raw.get())
            .map_err(|e| Error::Http(format!("delegatedAdminCustomers: {e}")))?;
        match c.tenant_id.or(c.id) {
            Some(t) if check_tenant(&t).is_ok() => out.push(t.to_ascii_lowercase()),
            _ => bad += 1,
        }
        Ok(())
    })?;
    if end != crate::source::Fetch::Complete {
        return Err(Error::Http(format!(
            "delegatedAdminCustomers: listing incomplete ({end:?})"
        )));
    }
    if bad > 0 {
        return Err(Error::Http(format!(
            "delegatedAdminCustomers: {bad} customers without a valid tenant id"
        )));
    }
    out.sort();
    out.dedup();
    Ok(out)
}
