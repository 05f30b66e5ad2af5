//! The adapter that lets the Sigma engine read a tenantwatch [`Event`]: rule field names are
//! resolved per physical format through the shipped field maps (resolved once per field slot and
//! format), operation names are also offered in their normalised variants (trailing full stop and
//! spaces removed, en dash as hyphen), and the `tw.*` namespace exposes the canonical accessors
//! to every rule whatever the format:
//!
//! | field | value |
//! |---|---|
//! | `tw.log`, `tw.format` | log kind and physical format names |
//! | `tw.time` | event time, RFC 3339 UTC |
//! | `tw.tenant_id`, `tw.home_tenant_id` | resource and actor home tenant |
//! | `tw.cross_tenant` | `true` when both are known and differ |
//! | `tw.user`, `tw.app_id`, `tw.service_principal_id`, `tw.ip`, `tw.user_agent` | the actor |
//! | `tw.operation` | normalised operation |
//! | `tw.result` | `success`, `failure` or absent; `tw.result_code` the code |
//! | `tw.targets` | the objects acted upon |
//! | `tw.target_service_principal_id` | the service principal acted upon, where a target names it `ServicePrincipal_<object id>` (unified audit log) |
//!
//! A [`Snapshot`] keeps the texts of the fields a correlation reads from a matched event, read
//! back as an event through [`SnapshotView`].

use std::collections::HashMap;

use tw_event::{Event, Format, LogKind};
use tw_sigma::event::{find_key_ignoring_case, first_text};
use tw_sigma::{FieldRef, FieldValue, SigmaEvent};

use crate::fieldmap::FieldMap;
use tw_ingest::select::Projection;

/// Field names whose values are operation names, in any format.
pub const OPERATION_FIELDS: &[&str] = &[
    "Operation",
    "Operations",
    "activityDisplayName",
    "properties.activityDisplayName",
    "ActivityDisplayName",
    "operationName",
    "OperationName",
    "OperationNameValue",
    "operationName.value",
];

/// A resolved read: the field to look up and whether its values are operation names.
#[derive(Debug, Clone)]
struct Target {
    field: FieldRef,
    operation: bool,
}

/// Every rule field resolved for every format, indexed by field slot.
#[derive(Debug, Default)]
pub struct Resolver {
    by_format: HashMap<Format, Vec<Vec<Target>>>,
    identity: Vec<Vec<Target>>,
    /// Per field slot: read from the whole document and left out of the projection.
    late: Vec<bool>,
}

impl Resolver {
    /// Resolves `fields` (a rule set's fields, by slot) for every format in `maps`.
    pub fn new(fields: &[FieldRef], maps: &HashMap<Format, FieldMap>) -> Resolver {
        let target = |name: &str| Target {
            field: FieldRef::new(0, name),
            operation: OPERATION_FIELDS.contains(&name),
        };
        // Formats without a map (generic JSON) address fields exactly as the rule names them.
        let mut identity = vec![Vec::new(); fields.len()];
        for f in fields {
            identity[f.slot()] = vec![Target {
                field: FieldRef::new(0, f.name()),
                operation: false,
            }];
        }
        let mut by_format = HashMap::new();
        for (format, map) in maps {
            let mut v = vec![Vec::new(); fields.len()];
            for f in fields {
                v[f.slot()] = map
                    .resolve(f.name())
                    .targets
                    .iter()
                    .map(|t| target(t))
                    .collect();
            }
            by_format.insert(*format, v);
        }
        Resolver {
            by_format,
            identity,
            late: Vec::new(),
        }
    }

    /// Fields `slots` are read from each event's whole document, and records are not parsed
    /// keeping them ([`Resolver::projection`]): for fields read only on the few events a rule
    /// has already matched, which every record parsed need not carry.
    pub fn read_late(&mut self, slots: &[usize]) {
        for &s in slots {
            if self.late.len() <= s {
                self.late.resize(s + 1, false);
            }
            self.late[s] = true;
        }
    }

    /// Whether field `slot` is read from the whole document ([`Resolver::read_late`]).
    fn is_late(&self, slot: usize) -> bool {
        self.late.get(slot).copied().unwrap_or(false)
    }

    /// Every path a field may be read from, in any format: what a record's document must keep
    /// for the rules to see what they would see in the whole document.
    pub fn projection(&self) -> Projection {
        let mut p = Projection::default();
        let slots = self
            .by_format
            .values()
            .chain([&self.identity])
            .flat_map(|v| v.iter().enumerate());
        for (_, targets) in slots.filter(|(slot, _)| !self.is_late(*slot)) {
            for t in targets
                .iter()
                .filter(|t| !t.field.name().starts_with("tw."))
            {
                p.add(t.field.name());
            }
        }
        p
    }

    /// True when field `slot` is read, in some format, through a canonical `tw.*` accessor (a
    /// computed value, not text of the record).
    pub fn reads_canonical(&self, field: &FieldRef) -> bool {
        field.name().starts_with("tw.")
            || self.by_format.values().any(|v| {
                v.get(field.slot())
                    .is_some_and(|ts| ts.iter().any(|t| t.field.name().starts_with("tw.")))
            })
    }

    /// The key names (last path step, lowercase) field `field` is read from in any format of
    /// `kinds` (every format when `None`; the rule's own name always), `None` when one of them
    /// is not usable by `usable`. A record holding a value of the field spells one of them out
    /// (as a JSON key; CSV rows do not).
    pub fn key_names(
        &self,
        field: &FieldRef,
        kinds: Option<&[LogKind]>,
        usable: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut add = |name: &str| -> Option<()> {
            if let Some(c) = name.strip_prefix("tw.") {
                // A canonical field: the keys it is read from.
                for leaf in tw_ingest::normalize::canonical_keys(c)? {
                    let k = usable(&leaf.to_lowercase())?;
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
                return Some(());
            }
            let leaf = name.rsplit('.').next()?.trim_end_matches("[]");
            let k = usable(&leaf.to_lowercase())?;
            if !out.contains(&k) {
                out.push(k);
            }
            Some(())
        };
        if field.name().starts_with("tw.") {
            add(field.name())?;
            out.sort();
            return Some(out);
        }
        for (format, v) in &self.by_format {
            if kinds.is_some_and(|k| !k.contains(&format.log_kind())) {
                continue;
            }
            for t in v.get(field.slot())? {
                add(t.field.name())?;
            }
        }
        for t in self.identity.get(field.slot())? {
            add(t.field.name())?;
        }
        out.sort();
        Some(out)
    }

    /// Per field slot, what a field names in `format`.
    fn targets(&self, format: Format) -> &[Vec<Target>] {
        self.by_format.get(&format).unwrap_or(&self.identity)
    }
}

/// An event as the Sigma engine sees it.
pub struct SigmaView<'a> {
    /// The event.
    pub event: &'a Event,
    /// How its format names fields.
    pub resolver: &'a Resolver,
    /// Per field slot, what the field names in the event's format (looked up once per event).
    targets: &'a [Vec<Target>],
}

impl<'a> SigmaView<'a> {
    /// The view of `event`, its fields named per format by `resolver`.
    pub fn new(event: &'a Event, resolver: &'a Resolver) -> SigmaView<'a> {
        SigmaView {
            event,
            resolver,
            targets: resolver.targets(event.format),
        }
    }

    /// The document fields are read from: the record as the reader parsed it through a
    /// projection of every rule field ([`Resolver::projection`]) when it did, else the whole
    /// document. Keyword searches always read the whole document.
    fn fields_doc(&self) -> &serde_json::Value {
        self.event
            .raw
            .projected()
            .unwrap_or_else(|| self.event.doc())
    }
}

/// The variants an operation name is also offered as (trimmed, without the trailing full stop,
/// en dash and spaced hyphen exchanged), without the name itself.
pub fn operation_variants(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let t = s.trim();
    if t.len() == s.len() && !t.ends_with('.') && !t.contains('–') && !t.contains(" - ") {
        // Every variant would be the name itself.
        return out;
    }
    let base = t.strip_suffix('.').unwrap_or(t).trim_end();
    for v in [
        t.to_string(),
        base.to_string(),
        base.replace('–', "-"),
        base.replace(" - ", " – "),
    ] {
        if v != s && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

impl SigmaView<'_> {
    fn canonical(&self, name: &str, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool {
        let c = &self.event.canonical;
        let s = |v: &Option<String>, f: &mut dyn FnMut(FieldValue<'_>) -> bool| match v {
            Some(x) => {
                f(FieldValue::Str(x));
                true
            }
            None => false,
        };
        match name {
            "tw.log" => {
                f(FieldValue::Str(self.event.kind.as_str()));
                true
            }
            "tw.format" => {
                f(FieldValue::Str(self.event.format.as_str()));
                true
            }
            "tw.time" => s(&c.time.map(|t| t.to_string()), f),
            "tw.tenant_id" => s(&c.tenant_id, f),
            "tw.home_tenant_id" => s(&c.home_tenant_id, f),
            "tw.cross_tenant" => match (&c.home_tenant_id, &c.tenant_id) {
                (Some(_), Some(_)) => {
                    f(FieldValue::Bool(self.event.is_cross_tenant()));
                    true
                }
                _ => false,
            },
            "tw.user" => s(&c.user, f),
            "tw.app_id" => s(&c.app_id, f),
            "tw.service_principal_id" => s(&c.service_principal_id, f),
            "tw.ip" => s(&c.ip, f),
            "tw.user_agent" => s(&c.user_agent, f),
            "tw.operation" => s(&c.operation, f),
            "tw.result" => match c.result.as_ref().and_then(|r| r.success) {
                Some(ok) => {
                    f(FieldValue::Str(if ok { "success" } else { "failure" }));
                    true
                }
                None => false,
            },
            "tw.result_code" => s(&c.result.as_ref().and_then(|r| r.code.clone()), f),
            "tw.targets" => {
                for t in &c.targets {
                    if f(FieldValue::Str(t)) {
                        break;
                    }
                }
                !c.targets.is_empty()
            }
            "tw.target_service_principal_id" => {
                const PREFIX: &str = "ServicePrincipal_";
                let id = c.targets.iter().find_map(|t| {
                    let head = t.get(..PREFIX.len())?;
                    let id = t.get(PREFIX.len()..)?;
                    (head.eq_ignore_ascii_case(PREFIX) && !id.is_empty()).then_some(id)
                });
                match id {
                    Some(id) => {
                        f(FieldValue::Str(id));
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }
}

impl SigmaEvent for SigmaView<'_> {
    fn visit_field(&self, field: &FieldRef, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool {
        if field.name().starts_with("tw.") {
            return self.canonical(field.name(), f);
        }
        let doc = if self.resolver.is_late(field.slot()) {
            self.event.doc()
        } else {
            self.fields_doc()
        };
        let mut found = false;
        for t in self
            .targets
            .get(field.slot())
            .map_or(&[][..], Vec::as_slice)
        {
            if t.field.name().starts_with("tw.") {
                // A pipeline may map a rule field onto a canonical field (e.g. `status` → `tw.result`).
                if self.canonical(t.field.name(), f) {
                    return true;
                }
                continue;
            }
            let mut stop = false;
            let present = if t.operation {
                doc.visit_field(&t.field, &mut |v| {
                    if stop {
                        return true;
                    }
                    stop = f(v);
                    if !stop && let FieldValue::Str(s) = v {
                        for variant in operation_variants(s) {
                            if f(FieldValue::Str(&variant)) {
                                stop = true;
                                break;
                            }
                        }
                    }
                    stop
                })
            } else {
                doc.visit_field(&t.field, &mut |v| {
                    stop = f(v);
                    stop
                })
            };
            found |= present;
            if stop {
                break;
            }
        }
        found
    }

    fn visit_strings(&self, f: &mut dyn FnMut(&str) -> bool) {
        self.event.doc().visit_strings(f)
    }
}

/// The texts of some fields of one event, kept after the event is gone (what a correlation reads
/// from a matched event): per field with a text, its position in the field list it was taken
/// with and its first value with a text, in field name order.
#[derive(Debug, Default)]
pub struct Snapshot(Vec<(u32, String)>);

impl Snapshot {
    /// The first value with a text of each of `fields` in `event`.
    pub fn of(fields: &[FieldRef], event: &dyn SigmaEvent) -> Snapshot {
        let mut values: Vec<(u32, String)> = fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((i as u32, first_text(event, f)?)))
            .collect();
        let name = |i: u32| fields.get(i as usize).map_or("", FieldRef::name);
        values.sort_by(|a, b| name(a.0).cmp(name(b.0)));
        Snapshot(values)
    }

    /// The snapshot read through the field list it was taken with.
    pub fn view<'a>(&'a self, fields: &'a [FieldRef]) -> SnapshotView<'a> {
        SnapshotView {
            fields,
            values: &self.0,
        }
    }
}

/// A [`Snapshot`] read as an event: a field is found as in a JSON object of the snapshot's names
/// (the exact name, else as field lookup matches a name not spelled exactly).
pub struct SnapshotView<'a> {
    fields: &'a [FieldRef],
    values: &'a [(u32, String)],
}

impl<'a> SnapshotView<'a> {
    /// Name and text of each field, in name order.
    fn entries(&self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + use<'a> {
        let (fields, values): (&'a [FieldRef], &'a [(u32, String)]) = (self.fields, self.values);
        values.iter().map(move |(i, v)| {
            (
                fields.get(*i as usize).map_or("", FieldRef::name),
                v.as_str(),
            )
        })
    }

    /// The text of the field named exactly `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.entries().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The text of the field `name` finds (see the type's documentation).
    fn find(&self, name: &str) -> Option<&'a str> {
        self.get(name)
            .or_else(|| find_key_ignoring_case(self.entries(), name))
    }
}

impl SigmaEvent for SnapshotView<'_> {
    fn visit_field(&self, field: &FieldRef, f: &mut dyn FnMut(FieldValue<'_>) -> bool) -> bool {
        match self.find(field.name()) {
            Some(v) => {
                f(FieldValue::Str(v));
                true
            }
            None => false,
        }
    }

    fn visit_strings(&self, f: &mut dyn FnMut(&str) -> bool) {
        for (_, v) in self.entries() {
            if f(v) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_as_the_flat_object_of_its_fields_would() {
        let event = serde_json::json!({
            "TargetResources": [{"id": "sp-1"}, {"id": "sp-2"}],
            "AppId": "App-A",
            "appid": "app-b",
            "Größe": "groß",
            "count": 7,
            "none": null
        });
        // Listed out of name order: a name matched ignoring case resolves in name order.
        let names = [
            "TargetResources.id",
            "appid",
            "AppId",
            "Größe",
            "count",
            "none",
            "missing",
        ];
        let fields: Vec<FieldRef> = names
            .iter()
            .enumerate()
            .map(|(i, n)| FieldRef::new(i as u32, n))
            .collect();
        let snapshot = Snapshot::of(&fields, &event);
        let view = snapshot.view(&fields);
        // What the snapshot replaces: a flat JSON object of the fields' first texts.
        let mut flat = serde_json::Map::new();
        for f in &fields {
            let mut text = None;
            event.visit_field(f, &mut |v| {
                text = v.to_text();
                text.is_some()
            });
            if let Some(t) = text {
                flat.insert(f.name().to_string(), serde_json::Value::String(t));
            }
        }
        let flat = serde_json::Value::Object(flat);
        let read = |ev: &dyn SigmaEvent, name: &str| {
            let mut out = Vec::new();
            let found = ev.visit_field(&FieldRef::new(0, name), &mut |v| {
                out.push(format!("{v:?}"));
                false
            });
            (found, out)
        };
        for name in [
            "TargetResources.id",
            "targetresources.ID",
            "AppId",
            "appid",
            "APPID",
            "Größe",
            "GRÖSSE",
            "grösse",
            "count",
            "none",
            "missing",
            "",
        ] {
            assert_eq!(read(&view, name), read(&flat, name), "{name}");
        }
        assert_eq!(read(&view, "TargetResources.id").1, vec!["Str(\"sp-1\")"]);
        assert_eq!(read(&view, "APPID").1, vec!["Str(\"App-A\")"]);
        assert_eq!(view.get("appid"), Some("app-b"));
        assert_eq!(view.get("APPID"), None);
    }

    #[test]
    fn fields_read_late_are_not_kept_in_the_projection_and_are_read_from_the_record() {
        let fields = [FieldRef::new(0, "status"), FieldRef::new(1, "Location")];
        let mut resolver = Resolver::new(&fields, &HashMap::new());
        resolver.read_late(&[1]);
        let text = br#"{"status":"ok","Location":{"countryOrRegion":"NL","city":"Utrecht"}}"#;
        let projected = resolver.projection().parse(text).expect("JSON");
        assert_eq!(projected["status"], "ok");
        assert!(projected.get("Location").is_none());
        let event = Event {
            kind: LogKind::Signin,
            format: Format::GenericJson,
            provenance: tw_event::Provenance {
                file: "f".into(),
                record: 0,
                line: 1,
            },
            canonical: Default::default(),
            raw: tw_event::Document::lazy_projected(text.to_vec().into(), false, projected),
        };
        let read = |f: &FieldRef| {
            let mut out = Vec::new();
            let found = SigmaView::new(&event, &resolver).visit_field(f, &mut |v| {
                out.push(v.to_text().unwrap_or_default());
                false
            });
            (found, out)
        };
        assert_eq!(read(&fields[0]), (true, vec!["ok".to_string()]));
        let (found, location) = read(&fields[1]);
        assert!(found);
        assert!(location[0].contains("Utrecht"), "{location:?}");
    }

    #[test]
    fn target_service_principal_id_is_read_from_the_targets() {
        let event = |targets: &[&str]| Event {
            kind: LogKind::Ual,
            format: Format::UalMgmtApiJson,
            provenance: tw_event::Provenance {
                file: "f".into(),
                record: 0,
                line: 1,
            },
            canonical: tw_event::Canonical {
                targets: targets.iter().map(|t| t.to_string()).collect(),
                ..Default::default()
            },
            raw: tw_event::Document::parsed(serde_json::Value::Null),
        };
        let resolver = Resolver::default();
        let field = FieldRef::new(0, "tw.target_service_principal_id");
        let read = |ev: &Event| {
            let mut out = Vec::new();
            let found = SigmaView::new(ev, &resolver).visit_field(&field, &mut |v| {
                out.push(format!("{v:?}"));
                false
            });
            (found, out)
        };
        let ev = event(&[
            "Application_1",
            "serviceprincipal_ab-12",
            "ab-12",
            "ServicePrincipal_cd",
        ]);
        assert_eq!(read(&ev), (true, vec!["Str(\"ab-12\")".to_string()]));
        // The bare type name and an empty id name no service principal.
        let ev = event(&["ServicePrincipal", "ServicePrincipal_", "x"]);
        assert_eq!(read(&ev), (false, vec![]));
    }

    #[test]
    fn variants() {
        let v = operation_variants("Update application – Certificates and secrets management ");
        assert!(
            v.contains(&"Update application – Certificates and secrets management".to_string())
        );
        assert!(
            v.contains(&"Update application - Certificates and secrets management".to_string())
        );
        let v = operation_variants("Add service principal credentials.");
        assert_eq!(v[0], "Add service principal credentials");
    }
}
