//! The selective reader must give the same canonical fields as a full parse of the same record:
//! checked over every fixture in the repository (real corpus copies and written format samples)
//! and over a generated record with every canonical path present.

use std::path::PathBuf;

use tw_event::{Canonical, Format, TenantSource};
use tw_ingest::normalize::canonical;
use tw_ingest::{IngestOptions, ingest};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn comparable(mut c: Canonical) -> Canonical {
    // Attribution from file paths, folders or maps happens after normalization.
    if c.tenant_source != TenantSource::Record {
        c.tenant_id = None;
        c.tenant_source = TenantSource::Unknown;
    }
    c
}

#[test]
fn selected_and_full_documents_agree_on_every_fixture() {
    let root = fixtures();
    assert!(root.is_dir(), "fixtures folder missing: {}", root.display());
    let mut checked = 0usize;
    let mut mismatches = Vec::new();
    let report = ingest(
        &[root],
        &IngestOptions::default(),
        |ev, out: &mut Vec<(String, Canonical, Result<Canonical, String>)>| {
            if ev.format == Format::ScubaGearJson {
                return;
            }
            let full = canonical(ev.kind, ev.doc());
            out.push((
                format!("{}:{}", ev.provenance.file, ev.provenance.line),
                ev.canonical.clone(),
                full,
            ));
        },
        |(at, selected, full)| {
            checked += 1;
            match full {
                Ok(full) if comparable(full.clone()) == comparable(selected.clone()) => {}
                other => mismatches.push(format!("{at}: selected {selected:?} full {other:?}")),
            }
        },
    );
    assert!(report.totals.read > 0);
    assert!(checked > 0);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Reading through a projection holding [`Projection::selection`] (and more: every key of some
/// common shapes) gives every record the same format and canonical fields as the selective read.
#[test]
fn a_projected_read_classifies_and_normalizes_like_the_selective_read() {
    use std::sync::Arc;
    use tw_ingest::select::Projection;
    let read = |projection: Option<Arc<Projection>>| {
        let mut out: Vec<(String, Format, Canonical, bool)> = Vec::new();
        let opts = IngestOptions {
            projection,
            ..IngestOptions::default()
        };
        let report = ingest(
            &[fixtures()],
            &opts,
            |ev, o: &mut Vec<(String, Format, Canonical, bool)>| {
                o.push((
                    format!("{}:{}", ev.provenance.file, ev.provenance.line),
                    ev.format,
                    ev.canonical.clone(),
                    ev.raw.projected().is_some(),
                ));
            },
            |x| out.push(x),
        );
        (out, report.totals.read, report.totals.rejected)
    };
    let mut p = Projection::selection();
    for path in [
        "properties.status",
        "Status.errorCode",
        "TargetResources.modifiedProperties",
    ] {
        p.add(path);
    }
    let (plain, n, rejected) = read(None);
    let (projected, read2, rejected2) = read(Some(Arc::new(p)));
    assert_eq!((n, rejected), (read2, rejected2));
    assert!(plain.len() > 100, "{}", plain.len());
    assert_eq!(plain.len(), projected.len());
    let mut with_projection = 0;
    for (a, b) in plain.iter().zip(&projected) {
        assert_eq!((&a.0, a.1, &a.2), (&b.0, b.1, &b.2));
        assert!(!a.3);
        with_projection += usize::from(b.3);
    }
    // JSON records keep what the projection parsed; CSV rows are parsed whole anyway.
    assert!(with_projection > 100, "{with_projection}");
}

/// Every JSON record of every fixture holds one of its log kind's signature words (what the hunt's
/// prefilter relies on to pass over records of other kinds undecoded).
#[test]
fn every_classified_json_record_holds_its_kind_signature() {
    use tw_ingest::classify::{kind_categories, kind_signature};
    use tw_ingest::{RawRecord, ingest_prefiltered};
    let mut checked = 0usize;
    let mut missing = Vec::new();
    let report = ingest_prefiltered(
        &[
            fixtures(),
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples"),
        ],
        &IngestOptions::default(),
        |raw: RawRecord<'_>| {
            Some(
                (raw.spells_keys && !raw.falls_back && raw.format.is_none())
                    .then(|| raw.bytes.to_ascii_lowercase()),
            )
        },
        |ev, text: Option<Vec<u8>>, out: &mut Vec<Option<String>>| {
            let (Some(text), Some(alternatives)) = (text, kind_signature(ev.kind)) else {
                return;
            };
            let has = |w: &str| text.windows(w.len()).any(|x| x == w.as_bytes());
            let category = serde_json::from_slice::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("category").and_then(|c| c.as_str()).map(String::from));
            let holds = alternatives.iter().any(|all| all.iter().all(|w| has(w)))
                || category.is_some_and(|c| kind_categories(ev.kind).contains(&c.as_str()));
            out.push(if holds {
                None
            } else {
                Some(format!(
                    "{}:{} ({:?})",
                    ev.provenance.file, ev.provenance.line, ev.kind
                ))
            });
        },
        |r| {
            checked += 1;
            if let Some(at) = r {
                missing.push(at);
            }
        },
    );
    assert!(report.totals.read > 0);
    assert!(checked > 100, "{checked}");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
