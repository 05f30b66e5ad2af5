//! The raw-record prefilter: decides from a record's bytes, before any parsing, which rules could
//! match it, so that records no rule can match are never decoded (design.md §6, "skip the full
//! parse of a record that no rule can match where that is sound").
//!
//! Every rule with necessary conditions (see [`tw_sigma::RuleSet::required_literals`]: literals
//! one of which is in every event it matches, key names, key/value conditions) is looked up by
//! its rarest literal clause in the raw bytes, ASCII case-insensitively ([`crate::scan`]); the
//! other conditions are checked only for rules so found. This is sound because a field value
//! appears verbatim in the record's text except where the text escapes it, and the literals are
//! cut down to what survives every escape:
//!
//! - a literal is cut at `"`, `\`, `-` and `–` (operation names are also matched in dash
//!   variants), control characters and non-ASCII characters, and the longest remaining piece (at
//!   least [`MIN_LITERAL`] bytes) is used; numbers give no literal (`50053` may be written
//!   `50053.0` or `5.0053e4`): they are checked as numbers on their key's value;
//! - fields read through the canonical `tw.*` accessors, directly or through a pipeline, have
//!   computed values and give no literal;
//! - a record holding `\u` (a JSON escape can spell any character), an escaped solidus `\/` or a
//!   character whose Unicode lowercase is ASCII (`K` KELVIN SIGN, `İ`) is a candidate for every
//!   rule.
//!
//! A caller may also require a non-empty value under some keys for a rule
//! ([`RawPrefilter::require_value`]; first-seen rules drop matches with an empty value): records
//! where every such value is `""` are no candidates of it.
//!
//! Rules without a usable literal are candidates for every record. After tuning on a sample of
//! the data, a rule whose only clause is held by nearly every sampled record of a log kind (a key
//! every sign-in spells, say) is a candidate for every record of that kind without looking: the
//! lookup would select nothing and cost a scan. Likewise each rule's trigger is its rarest clause
//! among the sampled records of the rule's own log kinds (a literal rare overall may be in most
//! records of those kinds), where each of them was sampled enough.
//!
//! Modules: [`literals`] (what a rule value becomes in raw text, and which texts cannot be
//! trusted), [`plan`] (triggers, search plans and their tuning on a sample of the data),
//! [`scanning`] (the verdict on one record), [`keyvalue`] (key/value conditions read from JSON
//! text).

mod keyvalue;
mod literals;
mod plan;
mod scanning;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::scan::LiteralScanner;
use tw_event::LogKind;
use tw_sigma::{FieldRef, RuleSet};

use keyvalue::{KeyValue, Pair, PairValue, Region, key_finder, key_values, single_value};
use literals::has_hazard;
pub use literals::{MAX_LITERAL, MIN_LITERAL, raw_literal};
use plan::KindShares;
pub use plan::sample_texts;

/// A clause present in at least this share (per million) of the sampled records is not checked.
const USELESS_CHECK: u64 = 950_000;

/// A trigger clause present in at least this share (per million) of the sampled records of the
/// log kinds a plan is for is not looked up there: its rules are candidates for every such
/// record (looking would cost a scan and select nothing).
const UBIQUITOUS: u64 = 980_000;

/// Sampled records of a log kind needed before its literal shares are trusted.
const MIN_KIND_SAMPLE: u64 = 64;

/// One sampled record in this many is classified for the shares per kind.
const KIND_SAMPLE_STEP: usize = 4;

/// Trigger clauses whose shares of sampled records (per million) differ by less than this are
/// taken as equally rare.
const TRIGGER_SHARE_STEP: u64 = 10_000;

/// Bytes of sampled records the anchor windows are counted in.
const WINDOW_SAMPLE_BYTES: usize = 1 << 21;

/// What the prefilter says about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No rule can match: the record need not be decoded.
    Skip,
    /// Only these rules (sorted) can match.
    Rules(Vec<u32>),
    /// The text cannot be trusted: every rule is a candidate.
    All,
    /// Only rules set aside by [`RawPrefilter::defer_same_tenant`] can match, and the record's
    /// actor acts in their own tenant, this one (lowercase, as the record spells it).
    Defer(String),
}

/// Per-thread scratch space of [`RawPrefilter::verdict`].
#[derive(Debug, Default)]
pub struct PrefilterScratch {
    lower: Vec<u8>,
    /// Per literal: 0 unknown, 1 in the text, 2 not in it.
    state: Vec<u8>,
    touched: Vec<u32>,
    rule_seen: Vec<bool>,
    seen_list: Vec<u32>,
    rules: Vec<u32>,
    /// Per pair key: whether its values were looked up in this record, and where they are.
    key_values: Vec<(bool, Vec<Region>)>,
    keys_touched: Vec<u32>,
    /// Where the scan found its literals in this record: (literal, start).
    found_at: Vec<(u32, u32)>,
    /// The log kinds of the last record whose kinds were looked up in full.
    predicted: Option<u64>,
}

/// How a verdict takes the rules' log kinds into account.
#[derive(Debug, Clone, Copy)]
enum KindFilter {
    /// Not at all.
    None,
    /// The record is of this kind.
    Known(LogKind),
    /// A rule needs the signature of one of its kinds in the text.
    Signatures,
}

/// A literal search plan: the scanner for some rules' trigger literals, and which literals it
/// looks for (a literal it looks for and did not report is not in the text).
#[derive(Debug, Default)]
struct Plan {
    scanner: Option<LiteralScanner>,
    scanned: Vec<bool>,
    /// Rules whose only clause is in nearly every sampled record of the plan's kinds: not looked
    /// up, candidates for every record.
    always: Vec<u32>,
    /// Rules whose only clause is in nearly every sampled record of the plan's kinds and that
    /// have key/value conditions: not looked up, candidates for every record passing those.
    always_checked: Vec<u32>,
    /// A `keep` literal is in nearly every sampled record of the plan's kinds: every record is
    /// kept (subject to the same-tenant check) without looking.
    keep_all: bool,
}

/// A way to show a log kind: (the kind's bit, signature words all present).
type Alternative = (u64, Vec<u32>);

/// Occurrences in a sample of the data: of candidate anchors, and of every four bytes.
type AnchorCounts = (
    std::collections::HashMap<Vec<u8>, u64>,
    std::collections::HashMap<[u8; 4], u64>,
);

/// The key Azure Monitor records name their category with (lowercase).
static CATEGORY_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"category"));

/// Signature word scanners by the kinds whose words they leave out.
type GuardCache = std::sync::RwLock<std::collections::HashMap<u64, Arc<Option<LiteralScanner>>>>;

/// Search plans by (log kinds bit set, CSV row).
type PlanCache = std::sync::RwLock<std::collections::HashMap<(u64, bool), Arc<Plan>>>;

/// The prefilter of a rule set.
pub struct RawPrefilter {
    /// Plans for every rule: JSON text, CSV rows.
    full: (Arc<Plan>, Arc<Plan>),
    /// Plans for the rules of some log kinds only, built on first use.
    plans: PlanCache,
    /// Per set of predicted kinds: the scanner of the other kinds' signature words.
    guards: GuardCache,
    /// Three-byte sequence counts of the data, for anchors.
    /// Occurrences in the data's sample of the literals' possible anchors and of their
    /// first four bytes, for anchors the packed searchers seldom find in vain.
    anchor_counts: Option<Arc<AnchorCounts>>,
    literal_text: Vec<String>,
    /// Per literal: a finder for checking it in a lowercased text.
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// Per scanned literal: the rules whose trigger clause (JSON text, CSV row) holds it.
    trig_json: Vec<Vec<u32>>,
    trig_csv: Vec<Vec<u32>>,
    /// Per rule: its clauses, as literal ids, and whether they are key names.
    clauses: Vec<Vec<(Vec<u32>, bool)>>,
    /// Per rule: key/value conditions checked in JSON text (keys, values).
    pairs: Vec<Vec<Pair>>,
    /// Number of distinct keys of `pairs`.
    pair_keys: usize,
    /// Per pair key: the literal of the same text, if any (where the scan found it, its values
    /// are read without searching again).
    pair_key_literal: Vec<Option<u32>>,
    /// Per rule: the clause it is triggered by in JSON text and in CSV rows.
    trigger: Vec<(Option<usize>, Option<usize>)>,
    /// Per rule: the other clauses checked in JSON text and in CSV rows, rarest first; clauses
    /// present in nearly every sampled record are not checked (they would seldom reject).
    checks: Vec<(Vec<usize>, Vec<usize>)>,
    /// Rules that are candidates for every record.
    always: Vec<u32>,
    /// Rules whose clauses are all key names: candidates for every CSV row.
    always_csv: Vec<u32>,
    /// Per rule: its log kinds as a bit set over `kinds` (every bit when not routed).
    rule_masks: Vec<u64>,
    /// The log kinds rules are routed to (bit `i` is `kinds[i]`).
    kinds: Vec<LogKind>,
    /// The kinds' signature words, and the alternatives (kind bit, words all present) that
    /// show a kind; and the kinds without signature words (always possible).
    signatures: Option<(LiteralScanner, Vec<Alternative>)>,
    /// The signature words, by id.
    signature_words: Vec<Vec<u8>>,
    /// Kinds (bit) shown by a `category` key holding one of these values (lowercase).
    categories: Vec<(u64, Vec<Vec<u8>>)>,
    unsigned: u64,
    /// Literal ids of `keep`: a record holding one is never skipped.
    keep: Vec<u32>,
    /// The log kinds whose records may hold a `keep` key ([`RawPrefilter::keep_only_in`]); a CSV
    /// row, whose text does not spell its keys, of another kind is not kept for them. `None`:
    /// every kind.
    keep_kinds: Option<Vec<LogKind>>,
    /// A kept record of this kind may still be skipped when these two keys hold one and the
    /// same value (an actor acting in their own tenant).
    same_tenant: Option<SameTenant>,
    /// Rules (sorted) whose same-tenant records are set aside ([`Verdict::Defer`]).
    deferred: Vec<u32>,
    /// Literal shares per log kind in the sample ([`RawPrefilter::tune`]).
    kind_shares: Option<KindShares>,
}

/// See [`RawPrefilter::keep_unless_same`].
#[derive(Clone)]
struct SameTenant {
    kind: LogKind,
    home: (memchr::memmem::Finder<'static>, usize),
    tenant: (memchr::memmem::Finder<'static>, usize),
    /// The two keys as CSV column names (home, tenant).
    columns: (String, String),
}

impl Clone for RawPrefilter {
    fn clone(&self) -> Self {
        RawPrefilter {
            full: self.full.clone(),
            plans: Default::default(),
            guards: Default::default(),
            anchor_counts: self.anchor_counts.clone(),
            literal_text: self.literal_text.clone(),
            finders: self.finders.clone(),
            trig_json: self.trig_json.clone(),
            trig_csv: self.trig_csv.clone(),
            clauses: self.clauses.clone(),
            pairs: self.pairs.clone(),
            pair_keys: self.pair_keys,
            pair_key_literal: self.pair_key_literal.clone(),
            trigger: self.trigger.clone(),
            checks: self.checks.clone(),
            always: self.always.clone(),
            always_csv: self.always_csv.clone(),
            rule_masks: self.rule_masks.clone(),
            kinds: self.kinds.clone(),
            signatures: self.signatures.clone(),
            signature_words: self.signature_words.clone(),
            categories: self.categories.clone(),
            unsigned: self.unsigned,
            keep: self.keep.clone(),
            keep_kinds: self.keep_kinds.clone(),
            same_tenant: self.same_tenant.clone(),
            deferred: self.deferred.clone(),
            kind_shares: self.kind_shares.clone(),
        }
    }
}

/// Every log kind.
const ALL_KINDS: u64 = u64::MAX;

impl std::fmt::Debug for RawPrefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPrefilter")
            .field("literals", &self.literal_text.len())
            .field("scanned", &self.scanned_count())
            .field("always", &self.always)
            .field("scanner", &self.full.0.scanner)
            .finish()
    }
}

impl RawPrefilter {
    /// Builds the prefilter of `set`; `field_ok` says which fields hold values taken verbatim
    /// from the record (not computed), `field_keys` the key names a field is read from, and a
    /// record holding one of the `keep` literals is never skipped.
    pub fn new(
        set: &RuleSet,
        field_ok: &dyn Fn(&FieldRef) -> bool,
        field_keys: &dyn Fn(usize, &FieldRef) -> Option<Vec<String>>,
        keep: &[&str],
    ) -> RawPrefilter {
        let per_rule = set.required_literals(field_ok, &|t, _| raw_literal(t), field_keys);
        let (pairs, key_id) = keyvalue::pairs_of(&per_rule);
        let pair_keys = key_id.len();
        let per_rule: Vec<Vec<tw_sigma::LiteralClause>> = per_rule
            .into_iter()
            .map(|cs| cs.into_iter().filter(|c| c.pair_keys.is_empty()).collect())
            .collect();
        let mut ids: std::collections::BTreeSet<String> = Default::default();
        for k in keep {
            ids.insert(k.to_ascii_lowercase());
        }
        for c in per_rule.iter().flatten() {
            ids.extend(c.literals.iter().cloned());
        }
        // Literal ids in sorted order (deterministic).
        let literal_text: Vec<String> = ids.into_iter().collect();
        let id_of: std::collections::HashMap<&str, u32> = literal_text
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let mut always = Vec::new();
        let mut always_csv = Vec::new();
        let mut clauses = Vec::with_capacity(per_rule.len());
        for (r, cs) in per_rule.iter().enumerate() {
            if cs.is_empty() {
                always.push(r as u32);
            } else if cs.iter().all(|c| c.keys) {
                // Key names are not in a CSV row: there, nothing is known of this rule.
                always_csv.push(r as u32);
            }
            clauses.push(
                cs.iter()
                    .map(|c| {
                        let ids = c
                            .literals
                            .iter()
                            .filter_map(|l| id_of.get(l.as_str()).copied())
                            .collect();
                        (ids, c.keys)
                    })
                    .collect::<Vec<(Vec<u32>, bool)>>(),
            );
        }
        let keep = keep
            .iter()
            .filter_map(|k| id_of.get(k.to_ascii_lowercase().as_str()).copied())
            .collect();
        let mut pair_key_literal = vec![None; pair_keys];
        for (k, id) in &key_id {
            if let Some(slot) = pair_key_literal.get_mut(*id as usize) {
                *slot = id_of.get(k.as_str()).copied();
            }
        }
        let finders = literal_text
            .iter()
            .map(|t| memchr::memmem::Finder::new(t.as_bytes()).into_owned())
            .collect();
        let rules = clauses.len();
        let mut p = RawPrefilter {
            full: Default::default(),
            plans: Default::default(),
            guards: Default::default(),
            anchor_counts: None,
            trig_json: Vec::new(),
            trig_csv: Vec::new(),
            trigger: Vec::new(),
            checks: Vec::new(),
            pairs,
            pair_keys,
            pair_key_literal,
            literal_text,
            finders,
            clauses,
            always,
            always_csv,
            rule_masks: vec![ALL_KINDS; rules],
            kinds: Vec::new(),
            signatures: None,
            signature_words: Vec::new(),
            categories: Vec::new(),
            unsigned: ALL_KINDS,
            keep,
            keep_kinds: None,
            same_tenant: None,
            deferred: Vec::new(),
            kind_shares: None,
        };
        p.choose(None);
        p
    }

    /// What the prefilter requires of rule `r`'s records, in words (for diagnostics).
    pub fn describe(&self, r: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (c, keys)) in self.clauses.get(r).into_iter().flatten().enumerate() {
            let lits: Vec<&str> = c
                .iter()
                .map(|&l| self.literal_text[l as usize].as_str())
                .collect();
            let trig = self.trigger.get(r).is_some_and(|t| t.0 == Some(i));
            out.push(format!(
                "{}{} one of {:?}",
                if *keys { "key " } else { "value " },
                if trig { "(trigger)" } else { "" },
                lits
            ));
        }
        for p in self.pairs.get(r).into_iter().flatten() {
            out.push(format!(
                "pair: {} keys, {} values",
                p.keys.len(),
                p.values.len()
            ));
        }
        out
    }

    /// Rules that are candidates for every record.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// True when the SIMD literal search is used (else one automaton).
    pub fn is_simd(&self) -> bool {
        self.full
            .0
            .scanner
            .as_ref()
            .is_some_and(LiteralScanner::is_packed)
    }

    /// Number of distinct literals known.
    pub fn literal_count(&self) -> usize {
        self.literal_text.len()
    }

    /// Number of literals the scanner looks for (the trigger clauses' and `keep`).
    pub fn scanned_count(&self) -> usize {
        self.full.0.scanned.iter().filter(|x| **x).count()
    }

    /// The literals known, with whether each is scanned for.
    pub fn literals(&self) -> impl Iterator<Item = (&str, bool)> {
        self.literal_text
            .iter()
            .zip(&self.full.0.scanned)
            .map(|(t, s)| (t.as_str(), *s))
    }

    /// The candidate rules of a record's raw bytes; `spells_keys` is true for JSON text (field
    /// names written out in the record), false for a CSV row. A record holding a `keep` literal
    /// (or any CSV row, when there are such literals) is not skipped, even with no rule.
    pub fn verdict(&self, raw: &[u8], spells_keys: bool, s: &mut PrefilterScratch) -> Verdict {
        self.verdict_of(raw, (spells_keys, None), KindFilter::None, s)
    }

    /// Like [`RawPrefilter::verdict`], for a record as the reader hands it: when the rules'
    /// log kinds are known ([`RawPrefilter::route`]), a rule is only a candidate for a record of
    /// its kinds (the record's format when known, else the kind's signature words in its text,
    /// `tw_ingest::classify::kind_signature`).
    pub fn verdict_record(
        &self,
        raw: &tw_ingest::RawRecord<'_>,
        s: &mut PrefilterScratch,
    ) -> Verdict {
        let filter = if self.kinds.is_empty() {
            KindFilter::None
        } else if let Some(f) = raw.format {
            KindFilter::Known(f.log_kind())
        } else if raw.spells_keys && !raw.falls_back {
            KindFilter::Signatures
        } else {
            KindFilter::None
        };
        self.verdict_of(raw.bytes, (raw.spells_keys, raw.columns), filter, s)
    }

    /// Routes rule `i` to `routes[i]` (log kinds), for [`RawPrefilter::verdict_record`].
    pub fn route(&mut self, routes: Vec<Vec<LogKind>>) {
        let kinds: Vec<LogKind> = routes
            .iter()
            .flatten()
            .copied()
            .collect::<std::collections::BTreeSet<LogKind>>()
            .into_iter()
            .collect();
        if kinds.len() > 63 {
            return;
        }
        let bit = |k: &LogKind| kinds.iter().position(|x| x == k).map_or(0, |i| 1u64 << i);
        self.rule_masks = routes
            .iter()
            .map(|ks| ks.iter().fold(0, |m, k| m | bit(k)))
            .collect();
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut alternatives: Vec<(u64, Vec<u32>)> = Vec::new();
        self.unsigned = 0;
        for k in &kinds {
            match tw_ingest::classify::kind_signature(*k) {
                Some(alts) => {
                    for all in alts {
                        let ids = all
                            .iter()
                            .map(|w| match words.iter().position(|x| x == w.as_bytes()) {
                                Some(i) => i as u32,
                                None => {
                                    words.push(w.as_bytes().to_vec());
                                    (words.len() - 1) as u32
                                }
                            })
                            .collect();
                        alternatives.push((bit(k), ids));
                    }
                }
                None => self.unsigned |= bit(k),
            }
        }
        self.categories = kinds
            .iter()
            .map(|k| (bit(k), tw_ingest::classify::kind_categories(*k)))
            .filter(|(_, c)| !c.is_empty())
            .map(|(b, c)| (b, c.iter().map(|v| v.as_bytes().to_vec()).collect()))
            .collect();
        self.signatures = self.scanner_for(&words).map(|s| (s, alternatives));
        self.signature_words = words;
        self.kinds = kinds;
        let freq = None;
        self.choose(freq);
    }

    /// Only records of `kinds` can hold the `keep` keys (their formats read nothing else there): a
    /// CSV row of a known other kind is not kept for them. JSON text is searched for the keys
    /// themselves, so this changes nothing for it.
    pub fn keep_only_in(&mut self, kinds: Vec<LogKind>) {
        self.keep_kinds = Some(kinds);
    }

    /// A record kept only for its `keep` literals, that is certainly of log kind `kind` and whose
    /// `home_key` and `tenant_key` (top-level keys its kind's canonical home and resource tenant
    /// are read from) hold one and the same value, is skipped after all: its actor acts in their
    /// own tenant.
    pub fn keep_unless_same(&mut self, kind: LogKind, home_key: &str, tenant_key: &str) {
        let f = |k: &str| key_finder(&k.to_ascii_lowercase());
        self.same_tenant = Some(SameTenant {
            kind,
            home: f(home_key),
            tenant: f(tenant_key),
            columns: (home_key.to_string(), tenant_key.to_string()),
        });
    }

    /// Rule `rule` is a candidate only for JSON records in which a key named one of `keys`
    /// (lowercase) holds something other than an empty string: for a caller that drops the
    /// rule's matches whose field read from those keys is empty (first-seen rules do, for their
    /// entity and value). Every occurrence of the keys counts, at any depth, so the field's own
    /// value is among them; objects, arrays, `null` and escaped text pass.
    pub fn require_value(&mut self, rule: usize, keys: &[String]) {
        if keys.is_empty() || rule >= self.pairs.len() {
            return;
        }
        let mut key_ids = Vec::with_capacity(keys.len());
        for k in keys {
            // A key another condition looks at already: its values are found once per record.
            let known = self
                .pairs
                .iter()
                .flatten()
                .flat_map(|p| p.keys.iter().zip(&p.key_ids))
                .find(|((f, _), _)| f.needle() == k.as_bytes())
                .map(|(_, &id)| id);
            key_ids.push(known.unwrap_or_else(|| {
                self.pair_keys += 1;
                // A key the scan looks for anyway: its occurrences are taken from the scan.
                self.pair_key_literal
                    .push(self.literal_text.binary_search(k).ok().map(|i| i as u32));
                (self.pair_keys - 1) as u32
            }));
        }
        self.pairs[rule].push(Pair {
            keys: keys.iter().map(|k| key_finder(k)).collect(),
            key_ids,
            values: vec![PairValue::NonEmpty],
        });
        self.choose(None);
    }

    /// A record of the kind given to [`RawPrefilter::keep_unless_same`] whose candidate rules are
    /// all among `rules`, and whose two keys hold one and the same tenant, gets
    /// [`Verdict::Defer`] with that tenant instead of its rules: rules that only need the
    /// records of some tenants, known once everything is read.
    pub fn defer_same_tenant(&mut self, mut rules: Vec<u32>) {
        rules.sort_unstable();
        rules.dedup();
        self.deferred = rules;
    }
}
