//! Directory audits exported from Log Analytics (`AuditLogs` table, "Export to CSV"): a UTF-8 BOM,
//! ` [UTC]` on time columns, US-locale timestamps, `InitiatedBy` / `TargetResources` /
//! `AdditionalDetails` as JSON in quoted cells, the workspace id in `TenantId` and the directory in
//! `AADTenantId`. A query may project the tenant columns away (`TenantId`, `ResourceId`,
//! `AADTenantId`): its rows name no tenant ([`HEADER_TENANTLESS`]).

use crate::story::{Act, ActKind};
use crate::writers::Ctx;
use crate::writers::audit_graph::{
    additional_details, correlation, initiated_by, record_id, target_resources,
};
use crate::writers::csv::next;
use crate::writers::dir;
use crate::writers::json::{Obj, TimeStyle, guid, time};

/// The header line.
pub const HEADER: &str = "TenantId,SourceSystem,TimeGenerated [UTC],ResourceId,OperationName,OperationVersion,Category,ResultType,ResultSignature,ResultDescription,DurationMs,CorrelationId,Resource,ResourceGroup,ResourceProvider,Identity,Level,Location,AdditionalDetails,Id,InitiatedBy,LoggedByService,Result,ResultReason,TargetResources,AADTenantId,ActivityDisplayName,ActivityDateTime [UTC],AADOperationType,Type";

/// The header line of a projection without the tenant columns.
pub const HEADER_TENANTLESS: &str = "SourceSystem,TimeGenerated [UTC],OperationName,OperationVersion,Category,ResultType,ResultSignature,ResultDescription,DurationMs,CorrelationId,Resource,ResourceGroup,ResourceProvider,Identity,Level,Location,AdditionalDetails,Id,InitiatedBy,LoggedByService,Result,ResultReason,TargetResources,ActivityDisplayName,ActivityDateTime [UTC],AADOperationType,Type";

/// Strips the surrounding `{"key":` and `}` from a one-member object built with [`Obj`].
fn member_value(buf: &[u8]) -> &[u8] {
    let start = buf.iter().position(|c| *c == b':').map_or(0, |i| i + 1);
    &buf[start..buf.len().saturating_sub(1)]
}

/// Writes one CSV row (no line end), without the tenant columns when `tenantless`. `aux` and
/// `aux2` are scratch buffers.
pub fn row(
    c: Ctx<'_>,
    a: &Act,
    tenantless: bool,
    b: &mut Vec<u8>,
    aux: &mut Vec<u8>,
    aux2: &mut Vec<u8>,
) {
    let ActKind::Dir(d) = &a.kind else { return };
    let m = dir::meta(&d.op);
    let targets = dir::targets(&c, a, d);
    let actor = c.actor(d.who);
    let mut first = true;
    let cell = |b: &mut Vec<u8>, first: &mut bool, v: &[u8]| next(b, first, v);
    let tenant_cell = |b: &mut Vec<u8>, first: &mut bool, v: &[u8]| {
        if !tenantless {
            next(b, first, v)
        }
    };
    tenant_cell(b, &mut first, c.t.workspace_id.as_bytes());
    cell(b, &mut first, b"Azure AD");
    aux.clear();
    time(aux, a.t, TimeStyle::UsMillis, 0);
    cell(b, &mut first, aux);
    aux.clear();
    aux.extend_from_slice(b"/tenants/");
    aux.extend_from_slice(c.t.id.as_bytes());
    aux.extend_from_slice(b"/providers/Microsoft.aadiam");
    tenant_cell(b, &mut first, aux);
    cell(b, &mut first, m.activity.as_bytes());
    cell(b, &mut first, b"1.0");
    cell(b, &mut first, m.category.as_bytes());
    cell(b, &mut first, b"");
    cell(b, &mut first, b"None");
    cell(b, &mut first, b"");
    cell(b, &mut first, b"0");
    aux.clear();
    guid(aux, correlation(a));
    cell(b, &mut first, aux);
    cell(b, &mut first, b"Microsoft.aadiam");
    cell(b, &mut first, b"Microsoft.aadiam");
    cell(b, &mut first, b"");
    cell(b, &mut first, actor.name().as_bytes());
    cell(b, &mut first, b"4");
    cell(b, &mut first, b"");
    // AdditionalDetails
    aux.clear();
    {
        let mut o = Obj::new(aux);
        additional_details(&mut o, c, d);
        o.end();
    }
    cell(b, &mut first, member_value(aux));
    aux.clear();
    record_id(aux, a);
    cell(b, &mut first, aux);
    // InitiatedBy
    aux.clear();
    {
        let mut o = Obj::new(aux);
        initiated_by(&mut o, c, d);
        o.end();
    }
    cell(b, &mut first, member_value(aux));
    cell(b, &mut first, b"Core Directory");
    cell(
        b,
        &mut first,
        if d.ok {
            b"success".as_slice()
        } else {
            b"failure".as_slice()
        },
    );
    cell(b, &mut first, b"");
    aux2.clear();
    {
        let mut o = Obj::new(aux2);
        target_resources(&mut o, &targets);
        o.end();
    }
    cell(b, &mut first, member_value(aux2));
    tenant_cell(b, &mut first, c.t.id.as_bytes());
    cell(b, &mut first, m.activity.as_bytes());
    aux.clear();
    time(aux, a.t, TimeStyle::UsMillis, 0);
    cell(b, &mut first, aux);
    cell(b, &mut first, m.op_type.as_bytes());
    cell(b, &mut first, b"AuditLogs");
}
