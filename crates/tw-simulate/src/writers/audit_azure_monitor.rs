//! Directory audits as Azure Monitor diagnostic settings export them (category `AuditLogs`): the
//! Graph object under `properties`, with `time`, `operationName`, `tenantId`, `callerIpAddress`
//! and `correlationId` at the top level; JSON lines, as a storage account holds them.

use crate::story::{Act, ActKind};
use crate::writers::Ctx;
use crate::writers::audit_graph::{correlation, object};
use crate::writers::dir;
use crate::writers::json::{Obj, TimeStyle};

/// Writes one Azure Monitor `AuditLogs` record.
pub fn record(c: Ctx<'_>, a: &Act, b: &mut Vec<u8>) {
    let ActKind::Dir(d) = &a.kind else { return };
    let m = dir::meta(&d.op);
    let mut o = Obj::new(b);
    o.time("time", a.t, TimeStyle::TicksZ, a.id);
    let r = o.key("resourceId");
    r.extend_from_slice(b"\"/tenants/");
    r.extend_from_slice(c.t.id.as_bytes());
    r.extend_from_slice(b"/providers/Microsoft.aadiam\"");
    o.str("operationName", m.activity)
        .str("operationVersion", "1.0")
        .str("category", "AuditLogs")
        .str("tenantId", &c.t.id)
        .str("resultSignature", "None")
        .int("durationMs", 0);
    let ip = o.key("callerIpAddress");
    ip.push(b'"');
    d.net.write(ip);
    ip.push(b'"');
    o.guid("correlationId", correlation(a))
        .str("Level", "Informational");
    let p = o.key("properties");
    object(c, a, d, p);
    o.end();
}
