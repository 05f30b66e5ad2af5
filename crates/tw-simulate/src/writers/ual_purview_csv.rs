//! Unified audit log rows as the Purview audit search exports them to CSV: a UTF-8 BOM, the current
//! header `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,
//! AssociatedAdminUnitsNames` or the classic `CreationDate,UserIds,Operations,AuditData` (US-locale
//! dates), and the Management Activity API record as JSON in the quoted `AuditData` cell.

use crate::story::Act;
use crate::writers::Ctx;
use crate::writers::csv::next;
use crate::writers::json::{TimeStyle, guid, time};
use crate::writers::ual_mgmt_api;

/// Header of the current Purview export.
pub const HEADER: &str = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames";
/// Header of the classic audit log search export.
pub const HEADER_CLASSIC: &str = "CreationDate,UserIds,Operations,AuditData";

/// Writes one CSV row (no line end); `aux` is scratch.
pub fn row(c: Ctx<'_>, a: &Act, classic: bool, b: &mut Vec<u8>, aux: &mut Vec<u8>) {
    let (_, type_name, op, user) = ual_mgmt_api::summary(c, a);
    let mut first = true;
    if classic {
        aux.clear();
        time(aux, a.t, TimeStyle::UsSeconds, 0);
        next(b, &mut first, aux);
        next(b, &mut first, user.as_bytes());
        next(b, &mut first, op.as_bytes());
    } else {
        aux.clear();
        guid(aux, crate::rng::derive128(a.id, 0x1A));
        next(b, &mut first, aux);
        aux.clear();
        time(aux, a.t, TimeStyle::TicksZeroZ, 0);
        next(b, &mut first, aux);
        next(b, &mut first, type_name.as_bytes());
        next(b, &mut first, op.as_bytes());
        next(b, &mut first, user.as_bytes());
    }
    aux.clear();
    ual_mgmt_api::record(c, a, aux);
    next(b, &mut first, aux);
    if !classic {
        next(b, &mut first, b"");
        next(b, &mut first, b"");
    }
}
