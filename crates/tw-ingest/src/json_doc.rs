//! Decoding a JSON record: the selective read (through [`crate::scan`], serde as its fallback)
//! of what classification and canonical fields need, or only what tenant attribution needs
//! ([`Depth::TimeAndTenant`]); the full text is kept for the document built on first use.

use serde_json::Value;
use tw_event::{Document, Format};

use crate::classify::classify_json;
use crate::csv_doc::{Decoded, Depth};
use crate::names::record_name;
use crate::normalize::{
    canonical_of, decode_json_strings, decodes_json_strings, document_is_audit_data, prepare,
    time_and_tenant_of,
};
use crate::reader::FileCtx;
use crate::select::{Projection, parse_selected, selection, time_and_tenant_selection};

/// The first keys of a record, for messages.
pub(crate) fn keys_of(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let mut k: Vec<&str> = o.keys().map(String::as_str).take(8).collect();
            if o.len() > 8 {
                k.push("…");
            }
            k.join(", ")
        }
        Value::Array(_) => "an array".into(),
        _ => "a scalar".into(),
    }
}

/// Reads a JSON record selectively (only what classification and canonical fields need, or at
/// [`Depth::TimeAndTenant`] only what classification, time and tenant need), keeping its text for
/// the full parse on first use.
pub(crate) fn decode_json_record(
    bytes: &[u8],
    ctx: &FileCtx,
    projection: Option<&Projection>,
    depth: Depth,
) -> Result<Decoded, String> {
    let sparse = parse_at(bytes, projection, depth).map_err(|e| format!("invalid JSON: {e}"))?;
    let format = match ctx.fixed {
        Some(f) => f,
        None => match classify_json(&sparse).or_else(|| ctx.fallback.get().copied()) {
            Some(f) => f,
            None => {
                let full = serde_json::from_slice::<Value>(bytes).unwrap_or(Value::Null);
                return Err(format!(
                    "not a record of any known log (keys: {})",
                    keys_of(&full)
                ));
            }
        },
    };
    if document_is_audit_data(format) {
        return match sparse.get("AuditData") {
            Some(Value::String(text)) => audit_data_record(format, text, projection, depth),
            _ => {
                let full = serde_json::from_slice::<Value>(bytes)
                    .map_err(|e| format!("invalid JSON: {e}"))?;
                let doc = prepare(format, full)?;
                decoded(format, doc, depth, Document::parsed)
            }
        };
    }
    let mut sparse = sparse;
    let decode = decodes_json_strings(format);
    if decode && let Value::Object(o) = &mut sparse {
        decode_json_strings(o);
    }
    if !sparse.is_object() {
        return Err("record is not a JSON object".into());
    }
    decoded(format, sparse, depth, |v| {
        kept_document(bytes, decode, projection, v)
    })
}

/// A record whose document is its `AuditData` text (Purview CSV cell, Search-UnifiedAuditLog
/// JSON member), read as [`parse_at`] reads it.
pub(crate) fn audit_data_record(
    format: Format,
    text: &str,
    projection: Option<&Projection>,
    depth: Depth,
) -> Result<Decoded, String> {
    let ad = parse_at(text.as_bytes(), projection, depth)
        .map_err(|e| format!("AuditData is not valid JSON: {e}"))?;
    if !ad.is_object() {
        return Err("AuditData is not a JSON object".into());
    }
    decoded(format, ad, depth, |v| {
        kept_document(text.as_bytes(), false, projection, v)
    })
}

/// The decoded record of `doc`, read at `depth`: time and tenant only, or its canonical fields,
/// name and the document `keep` makes of it.
fn decoded(
    format: Format,
    doc: Value,
    depth: Depth,
    keep: impl FnOnce(Value) -> Document,
) -> Result<Decoded, String> {
    if depth == Depth::TimeAndTenant {
        let c = time_and_tenant_of(format, &doc)?;
        return Ok((format, c, Document::default(), None));
    }
    let c = canonical_of(format, &doc)?;
    let name = record_name(&doc);
    if depth == Depth::Canonical {
        return Ok((format, c, Document::default(), name));
    }
    Ok((format, c, keep(doc), name))
}

/// Parses a record's text for a read at `depth`: [`parse_kept`], or only what classification,
/// time and tenant need.
fn parse_at(
    text: &[u8],
    projection: Option<&Projection>,
    depth: Depth,
) -> Result<Value, serde_json::Error> {
    match depth {
        Depth::Full | Depth::Canonical => parse_kept(text, projection),
        Depth::TimeAndTenant => parse_selected(text, time_and_tenant_selection()),
    }
}

/// Parses a record's text keeping what `projection` asks for, or (without one) what
/// classification and canonical fields read.
fn parse_kept(text: &[u8], projection: Option<&Projection>) -> Result<Value, serde_json::Error> {
    match projection {
        Some(p) => p.parse(text),
        None => parse_selected(text, selection()),
    }
}

/// The document of a record read by [`parse_kept`]: with a projection, what it kept serves the
/// rules; either way the whole text is parsed on first use of anything else.
fn kept_document(
    text: &[u8],
    decode: bool,
    projection: Option<&Projection>,
    kept: Value,
) -> Document {
    match projection {
        Some(_) => Document::lazy_projected(text.into(), decode, kept),
        None => Document::lazy(text.into(), decode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The read for time and tenant classifies, times, attributes and rejects every record of
    /// the repository's JSON fixtures as the full read does.
    #[test]
    fn time_and_tenant_reads_agree_with_full_reads_on_every_fixture() {
        let records = crate::scan::tests::fixture_records();
        let projection = Projection::selection();
        let ctx = FileCtx::json("fixture".into(), None, None);
        let (mut read, mut rejected) = (0, 0);
        for r in &records {
            let part = decode_json_record(r, &ctx, None, Depth::TimeAndTenant);
            for proj in [None, Some(&projection)] {
                let full = decode_json_record(r, &ctx, proj, Depth::Full);
                match (&full, &part) {
                    (Ok((f1, c1, _, _)), Ok((f2, c2, _, _))) => {
                        assert_eq!(f1, f2);
                        assert_eq!(
                            (c1.time, &c1.tenant_id, c1.tenant_source),
                            (c2.time, &c2.tenant_id, c2.tenant_source),
                            "{}",
                            String::from_utf8_lossy(r)
                        );
                        read += 1;
                    }
                    (Err(e1), Err(e2)) => {
                        assert_eq!(e1, e2);
                        rejected += 1;
                    }
                    _ => panic!("{}: {full:?} / {part:?}", String::from_utf8_lossy(r)),
                }
            }
        }
        assert!(read > 400, "{read} read, {rejected} rejected");
    }

    /// Every fixture record from which attribution reads a tenant passes the cheap test that
    /// lets attribution skip the others, and the test does skip some records.
    #[test]
    fn records_naming_a_tenant_pass_the_cheap_test() {
        let records = crate::scan::tests::fixture_records();
        let ctx = FileCtx::json("fixture".into(), None, None);
        let (mut named, mut skipped) = (0, 0);
        for r in &records {
            let may = crate::normalize::may_name_tenant(r);
            skipped += usize::from(!may);
            if let Ok((_, c, _, _)) = decode_json_record(r, &ctx, None, Depth::TimeAndTenant)
                && c.tenant_id.is_some()
            {
                named += 1;
                assert!(may, "{}", String::from_utf8_lossy(r));
            }
        }
        assert!(
            named > 300 && skipped > 10,
            "{named} named, {skipped} skipped"
        );
    }
}
