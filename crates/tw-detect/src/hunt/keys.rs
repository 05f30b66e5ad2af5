//! First-seen keys: how a first-seen rule's entity and value are read from an event and spelt
//! into the key its thread's first-seen state counts under
//! ([`crate::firstseen::LocalFirstSeen::key`]).

use tw_sigma::{FieldRef, SigmaEvent};

use crate::event::SigmaView;
use crate::firstseen::LocalFirstSeen;

/// The first value of `f`, lowercased, when it has a non-empty one.
pub(super) fn first_lower(view: &SigmaView<'_>, f: &FieldRef) -> Option<String> {
    tw_sigma::event::first_text(view, f)
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase())
}

/// Writes into `buf` the first-seen key of rule `rule` for the event: the lowercased first
/// values of the `entity` fields and of `value`. False when one has no non-empty value.
pub(super) fn first_seen_key(
    buf: &mut String,
    rule: usize,
    entity: &[FieldRef],
    value: &FieldRef,
    view: &SigmaView<'_>,
) -> bool {
    LocalFirstSeen::key_start(buf, rule);
    entity.iter().chain([value]).all(|f| key_part(buf, f, view))
}

/// Adds the first non-empty value of `f` to the key; false when it has none.
fn key_part(buf: &mut String, f: &FieldRef, view: &SigmaView<'_>) -> bool {
    let mut ok = false;
    view.visit_field(f, &mut |v| {
        // The first value with a text ends the visit; an empty one counts as none.
        let text = match v {
            tw_sigma::FieldValue::Str(s) => std::borrow::Cow::Borrowed(s),
            other => match other.to_text() {
                Some(t) => std::borrow::Cow::Owned(t),
                None => return false,
            },
        };
        if text.is_empty() {
            return true;
        }
        if text
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            LocalFirstSeen::key_part(buf, &text.to_lowercase());
        } else {
            LocalFirstSeen::key_part(buf, &text);
        }
        ok = true;
        true
    });
    ok
}
