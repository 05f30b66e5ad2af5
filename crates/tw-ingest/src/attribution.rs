//! Tenant attribution: the tenant of records that carry none, decided per input before the main
//! read — `--tenant-map`, then a `/tenants/<id>/` path segment, then the one tenant the other
//! records of the same export folder name (docs/ingest.md, "Tenant attribution").
//!
//! The folder scan reads only what can change the decision. It stops at the second tenant a
//! folder's records name (the folder is then ambiguous, whatever the rest holds; the main read
//! counts the tenants for the report, [`finish`]); and once a folder's records have named one
//! tenant, a JSON record whose text can name no other ([`may_name_other_tenant`]) is not
//! decoded. The decision (none, one tenant, several) is the one a full read makes, whatever
//! the thread count.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use memchr::memmem::Finder;
use tw_event::{Event, TenantSource};

use crate::normalize::{
    TENANT_KEY_PIECES, may_name_tenant, record_tenant_keys, resource_id_keys, tenant_from_path,
};
use crate::reader::{FolderSeen, IngestOptions, RawRecord, each_record};
use crate::source::Input;
use crate::stats::Attribution;

/// What attribution decided.
pub(crate) struct Attributed {
    /// Per input, the tenant of its records that carry none, and how it was decided.
    pub(crate) defaults: Vec<Option<(String, TenantSource)>>,
    /// Per folder, how it was attributed (the folders in `several` are added by [`finish`]).
    pub(crate) notes: Vec<Attribution>,
    /// Folders whose records name several tenants: the tenants found before the scan stopped.
    pub(crate) several: BTreeMap<String, BTreeSet<String>>,
}

/// Decides, per input, the tenant for records that carry none. Only folders holding an input
/// `wanted` accepts are read for that.
pub(crate) fn attribute(
    inputs: &[Input],
    opts: &IngestOptions,
    wanted: &dyn Fn(&Input) -> bool,
) -> Attributed {
    let mut defaults = vec![None; inputs.len()];
    let mut need_folder: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, input) in inputs.iter().enumerate() {
        if let Some((_, t)) = opts
            .tenant_map
            .iter()
            .filter(|(folder, _)| crate::tenant_map::input_under(input, folder))
            .max_by_key(|(folder, _)| folder.len())
        {
            defaults[i] = Some((t.to_ascii_lowercase(), TenantSource::Map));
        } else if let Some(t) = tenant_from_path(&input.display.replace('\\', "/")) {
            defaults[i] = Some((t, TenantSource::Path));
        } else {
            need_folder.entry(input.folder.clone()).or_default().push(i);
        }
    }
    // Only folders holding a file whose first record has no tenant are scanned.
    let tenantless: Vec<(String, Vec<usize>)> = need_folder
        .into_iter()
        .filter(|(_, members)| members.iter().any(|&i| wanted(&inputs[i])))
        .filter(|(_, members)| {
            members
                .iter()
                .any(|&i| first_record_lacks_tenant(&inputs[i], opts))
        })
        .collect();
    let found = scan_folders(inputs, opts, &tenantless);
    let mut notes = Vec::new();
    let mut several = BTreeMap::new();
    for ((folder, members), tenants) in tenantless.into_iter().zip(found) {
        match tenants.len() {
            1 => {
                let t = tenants.into_iter().next().unwrap_or_default();
                for &i in &members {
                    defaults[i] = Some((t.clone(), TenantSource::Folder));
                }
                notes.push(Attribution {
                    folder,
                    tenant_id: Some(t),
                    method: "folder".into(),
                    reason: "the other records of this export folder all name this tenant".into(),
                });
            }
            0 => notes.push(Attribution {
                folder,
                tenant_id: None,
                method: "none".into(),
                reason: "no record in this folder names a tenant; give --tenant-map".into(),
            }),
            _ => {
                several.insert(folder, tenants);
            }
        }
    }
    for (folder, t) in &opts.tenant_map {
        notes.push(Attribution {
            folder: folder.clone(),
            tenant_id: Some(t.to_ascii_lowercase()),
            method: "map".into(),
            reason: "--tenant-map".into(),
        });
    }
    notes.sort();
    Attributed {
        defaults,
        notes,
        several,
    }
}

/// Adds the notes of the folders found to name several tenants. When the main read decoded
/// every record of the folder (`complete`, nothing prefiltered), it saw every tenant they name
/// (`seen`): the note counts them, as a full scan does. Otherwise it says "more than one" (what
/// the scan found before it stopped depends on the threads' timing).
pub(crate) fn finish(
    notes: &mut Vec<Attribution>,
    several: BTreeMap<String, BTreeSet<String>>,
    seen: &BTreeMap<String, FolderSeen>,
    complete: bool,
) {
    if several.is_empty() {
        return;
    }
    for (folder, mut tenants) in several {
        let read = seen.get(&folder).filter(|s| complete && s.prefiltered == 0);
        let count = match read {
            Some(s) => {
                tenants.extend(s.tenants.iter().cloned());
                format!("{} tenants", tenants.len())
            }
            None => "more than one tenant".to_string(),
        };
        notes.push(Attribution {
            folder,
            tenant_id: None,
            method: "none".into(),
            reason: format!("records in this folder name {count}; not guessed, give --tenant-map"),
        });
    }
    notes.sort();
}

/// The tenants the records of each folder name, as far as the decision needs: every one when
/// there is at most one, two or more otherwise. The folders' files are read on every worker
/// thread, parsed for time and tenant only.
fn scan_folders(
    inputs: &[Input],
    opts: &IngestOptions,
    folders: &[(String, Vec<usize>)],
) -> Vec<BTreeSet<String>> {
    let scan_opts = IngestOptions {
        projection: Some(std::sync::Arc::new(crate::select::Projection::selection())),
        progress: None,
        ..opts.clone()
    };
    let state: Vec<FolderScan> = folders.iter().map(|_| FolderScan::default()).collect();
    let jobs: Vec<(usize, usize)> = folders
        .iter()
        .enumerate()
        .flat_map(|(f, (_, m))| m.iter().map(move |&i| (f, i)))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.max(1).min(jobs.len()) {
            scope.spawn(|| {
                while let Some(&(f, i)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if state[f].single().1 {
                        continue;
                    }
                    scan_file(&inputs[i], &scan_opts, &state[f]);
                }
            });
        }
    });
    state
        .into_iter()
        .map(|s| s.tenants.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// The tenants a folder's records named so far, shared by the threads scanning its files.
#[derive(Default)]
struct FolderScan {
    tenants: Mutex<BTreeSet<String>>,
}

impl FolderScan {
    /// Adds a tenant; then the folder's one tenant, if it has exactly one, and whether it has
    /// several.
    fn add(&self, t: String) -> (Option<String>, bool) {
        let mut set = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(t);
        Self::state(&set)
    }

    fn single(&self) -> (Option<String>, bool) {
        Self::state(&self.tenants.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn state(set: &BTreeSet<String>) -> (Option<String>, bool) {
        let one = (set.len() == 1)
            .then(|| set.iter().next().cloned())
            .flatten();
        (one, set.len() > 1)
    }
}

/// Reads one file of a folder for the tenants its records name, until the folder has several.
fn scan_file(input: &Input, opts: &IngestOptions, folder: &FolderScan) {
    let known: RefCell<Option<String>> = RefCell::new(folder.single().0);
    // Records that cannot name a tenant, or no other than the folder's one, are not decoded.
    let skip = |r: RawRecord<'_>, json_file: bool| {
        r.spells_keys
            && !(if json_file {
                may_name_other_tenant(r.bytes, known.borrow().as_deref())
            } else {
                may_name_tenant(r.bytes)
            })
    };
    let _ = each_record(
        input,
        opts,
        &skip,
        &|ev: &Event, o: &mut Vec<String>| {
            if let (Some(t), TenantSource::Record | TenantSource::Path) =
                (&ev.canonical.tenant_id, ev.canonical.tenant_source)
            {
                o.push(t.clone());
            }
        },
        &mut |t| {
            let (one, several) = folder.add(t);
            *known.borrow_mut() = one;
            !several
        },
    );
}

/// Reads the first record of an input: true when it is a known record without a tenant id.
fn first_record_lacks_tenant(input: &Input, opts: &IngestOptions) -> bool {
    let mut lacks = false;
    let mut seen = 0;
    // One record is read, so one is decoded.
    let opts = IngestOptions {
        batch_records: 1,
        progress: None,
        ..opts.clone()
    };
    let _ = each_record(
        input,
        &opts,
        &|_, _| false,
        &|ev: &Event, o: &mut Vec<bool>| o.push(ev.canonical.tenant_id.is_none()),
        &mut |none| {
            lacks = none;
            seen += 1;
            false
        },
    );
    seen > 0 && lacks
}

/// The keys a record's tenant is read from, and those of resource ids.
struct TenantKeys {
    /// Finders of [`TENANT_KEY_PIECES`].
    pieces: Vec<Finder<'static>>,
    escape: Finder<'static>,
    record: Vec<&'static str>,
    resource: Vec<&'static str>,
}

fn tenant_keys() -> &'static TenantKeys {
    static KEYS: OnceLock<TenantKeys> = OnceLock::new();
    KEYS.get_or_init(|| TenantKeys {
        pieces: TENANT_KEY_PIECES
            .iter()
            .map(|p| Finder::new(p.as_bytes()))
            .collect(),
        escape: Finder::new(b"\\u"),
        record: record_tenant_keys(),
        resource: resource_id_keys(),
    })
}

/// False only when a JSON record's text cannot name a tenant other than `known` (lower case;
/// `None`: no tenant at all, as [`may_name_tenant`]). Every key a tenant may be read from holds
/// a piece of [`TENANT_KEY_PIECES`]; each place a piece appears must be inside a value, or in
/// a key whose value gives `known` or nothing: a record tenant key (`tenantId`, …) with `null`
/// or a string that trims to empty or to `known` (ASCII case ignored), a resource id key with
/// `null` or a string whose `/tenants/<id>/` segment is absent or `known`, any other key with
/// any value. Anything it cannot vouch for (a `\u` escape anywhere, a backslash in or next to
/// the key or in the value, a value of another type) counts as naming one.
pub(crate) fn may_name_other_tenant(text: &[u8], known: Option<&str>) -> bool {
    let Some(known) = known else {
        return may_name_tenant(text);
    };
    let keys = tenant_keys();
    // A `\u` escape could spell a key.
    if keys.escape.find(text).is_some() {
        return true;
    }
    keys.pieces.iter().any(|f| {
        let n = f.needle().len();
        f.find_iter(text)
            .any(|at| !key_gives_at_most(text, at, at + n, keys, known))
    })
}

/// True when the piece found at `text[start..end]` cannot give a tenant other than `known`.
fn key_gives_at_most(
    text: &[u8],
    start: usize,
    end: usize,
    keys: &TenantKeys,
    known: &str,
) -> bool {
    // The string holding the piece: from the quote before it to the quote after it, with no
    // backslash in between or before the first quote (so both quotes are real).
    let Some(close) = memchr::memchr2(b'"', b'\\', &text[end..]).map(|i| end + i) else {
        return false;
    };
    let Some(open) = memchr::memrchr2(b'"', b'\\', &text[..start]) else {
        return false;
    };
    if text[close] != b'"' || text[open] != b'"' || (open > 0 && text[open - 1] == b'\\') {
        return false;
    }
    let mut at = skip_space(text, close + 1);
    if text.get(at) != Some(&b':') {
        // A string value, not a key: nothing is read from it.
        return true;
    }
    let key = &text[open + 1..close];
    let is_record = keys.record.iter().any(|k| k.as_bytes() == key);
    let is_resource = keys.resource.iter().any(|k| k.as_bytes() == key);
    if !is_record && !is_resource {
        return true;
    }
    at = skip_space(text, at + 1);
    let value = match text.get(at) {
        Some(b'n') if text[at..].starts_with(b"null") => return true,
        Some(b'"') => {
            let from = at + 1;
            let Some(to) = memchr::memchr2(b'"', b'\\', &text[from..]).map(|i| from + i) else {
                return false;
            };
            if text[to] != b'"' {
                return false;
            }
            match std::str::from_utf8(&text[from..to]) {
                Ok(s) => s.trim(),
                Err(_) => return false,
            }
        }
        _ => return false,
    };
    let record_ok = !is_record || value.is_empty() || value.eq_ignore_ascii_case(known);
    let resource_ok =
        !is_resource || value.is_empty() || tenant_from_path(value).is_none_or(|t| t == known);
    record_ok && resource_ok
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while text
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_doc::Depth;
    use crate::json_doc::decode_json_record;
    use crate::reader::FileCtx;

    const T: &str = "3f077120-9ad8-590f-3cc3-95b254b50b0b";
    const OTHER: &str = "8ecf8077-cf51-4820-aadd-14040956f35d";

    /// The tenant attribution reads from a record (its own, from a key or a resource id).
    fn own_tenant(ctx: &FileCtx, r: &[u8]) -> Option<String> {
        let projection = crate::select::Projection::selection();
        match decode_json_record(r, ctx, Some(&projection), Depth::TimeAndTenant) {
            Ok((_, c, _, _)) => match c.tenant_source {
                TenantSource::Record | TenantSource::Path => c.tenant_id,
                _ => None,
            },
            Err(_) => None,
        }
    }

    /// Every fixture record, and each with its tenant replaced by another one (first place
    /// only, and everywhere): where the cheap test says a record can name no tenant but
    /// `known`, the decoder reads `known` or nothing from it. The test skips most records
    /// naming the known tenant, and never one naming another.
    #[test]
    fn records_passed_over_name_no_other_tenant_than_the_known_one() {
        let mut records = crate::scan::tests::fixture_records();
        let ctx = FileCtx::json("fixture".into(), None, None);
        let tenants: Vec<Option<String>> = records.iter().map(|r| own_tenant(&ctx, r)).collect();
        for (r, t) in records.clone().iter().zip(&tenants) {
            let (Some(t), Ok(text)) = (t, std::str::from_utf8(r)) else {
                continue;
            };
            for variant in [
                text.replacen(t.as_str(), OTHER, 1),
                text.replace(t.as_str(), OTHER),
                text.replace(t.as_str(), &t.to_ascii_uppercase()),
            ] {
                records.push(variant.into_bytes());
            }
        }
        let (mut passed_over, mut named) = (0, 0);
        for r in &records {
            let own = own_tenant(&ctx, r);
            assert_eq!(
                may_name_other_tenant(r, None),
                may_name_tenant(r),
                "{}",
                String::from_utf8_lossy(r)
            );
            let mut knowns = vec![T.to_string(), OTHER.to_string()];
            knowns.extend(own.clone());
            for known in &knowns {
                if !may_name_other_tenant(r, Some(known)) {
                    assert!(
                        own.as_ref().is_none_or(|t| t == known),
                        "{known}: {}",
                        String::from_utf8_lossy(r)
                    );
                }
            }
            if let Some(t) = &own {
                named += 1;
                passed_over += usize::from(!may_name_other_tenant(r, Some(t)));
            }
        }
        assert!(
            named > 600 && passed_over * 2 > named,
            "{passed_over} of {named} passed over"
        );
    }

    /// Hand-made records at the edges: keys in values, escapes, other types, resource ids.
    #[test]
    fn the_cheap_test_vouches_only_for_what_it_reads() {
        let other = |text: &str| may_name_other_tenant(text.as_bytes(), Some(T));
        let upper = T.to_ascii_uppercase();
        // The known tenant, in any case, padded, or nothing.
        assert!(!other(&format!(
            r#"{{"TenantId":"{upper}","tenantId" : " {T} "}}"#
        )));
        assert!(!other(r#"{"TenantId":null,"AADTenantId":"  ","x":1}"#));
        assert!(!other(&format!(
            r#"{{"resourceId":"/tenants/{T}/providers/x","_ResourceId":"/SUBSCRIPTIONS/A"}}"#
        )));
        // Keys no tenant is read from, and the pieces inside values.
        assert!(!other(&format!(
            r#"{{"__UDI_RequiredFields_TenantId":"{OTHER}","msg":"tenantId is {OTHER}"}}"#
        )));
        // Another tenant, wherever a tenant key is.
        assert!(other(&format!(r#"{{"TenantId":"{OTHER}"}}"#)));
        assert!(other(&format!(
            r#"{{"properties":{{"tenantId":"{OTHER}"}}}}"#
        )));
        assert!(other(&format!(r#"{{"resourceId":"/tenants/{OTHER}/x"}}"#)));
        assert!(other(r#"{"TenantId":"not-a-guid"}"#));
        // What it cannot vouch for.
        assert!(other(r#"{"TenantId":42}"#));
        assert!(other(r#"{"TenantId":{"id":"x"}}"#));
        assert!(other(&format!(r#"{{"\u0054enantId":"{OTHER}"}}"#)));
        assert!(other(&format!(r#"{{"TenantId":"{T}\n"}}"#)));
        assert!(other(&format!(
            r#"{{"AuditData":"{{\"OrganizationId\":\"{T}\"}}"}}"#
        )));
    }
}
