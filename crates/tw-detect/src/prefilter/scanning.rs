//! Scanning: the verdict on one record's raw bytes — the log kinds it may be of, the trigger
//! literals of their rules found by one scan, then each triggered rule's key/value conditions
//! and other clauses.

use std::sync::Arc;

use super::*;
use tw_ingest::RawColumns;

impl PrefilterScratch {
    /// Clears what the previous record left, sized for `literals`, `rules` and `pair_keys`.
    fn reset(&mut self, literals: usize, rules: usize, pair_keys: usize) {
        let s = self;
        let n = literals;
        if s.state.len() != n {
            s.state = vec![0; n];
            s.touched.clear();
        }
        if s.rule_seen.len() != rules {
            s.rule_seen = vec![false; rules];
            s.seen_list.clear();
        }
        for &l in &s.touched {
            s.state[l as usize] = 0;
        }
        s.touched.clear();
        if s.key_values.len() != pair_keys {
            s.key_values = vec![(false, Vec::new()); pair_keys];
            s.keys_touched.clear();
        }
        for &k in &s.keys_touched {
            if let Some(e) = s.key_values.get_mut(k as usize) {
                e.0 = false;
                e.1.clear();
            }
        }
        s.keys_touched.clear();
    }
}

impl RawPrefilter {
    /// The log kinds a lowercased JSON text may be of, by their signature words.
    ///
    /// `predicted` is the kinds found for an earlier record (most records are of the kinds of the
    /// one before): only the other kinds' words are looked for, and when none of those kinds
    /// shows, the record is taken to be of the predicted kinds (a superset of its own, so no rule
    /// it could match is left out). Otherwise, and with no prediction, every word is looked for;
    /// `predicted` becomes what was found if that is one kind.
    pub(super) fn possible_kinds(&self, lower: &[u8], predicted: &mut Option<u64>) -> u64 {
        let Some((scanner, alternatives)) = &self.signatures else {
            return ALL_KINDS;
        };
        let shows = |scanner: &LiteralScanner, skip: u64| {
            let mut found: u64 = 0;
            let mut many = false;
            scanner.scan_lowered(lower, &mut |w| {
                if w < 64 {
                    found |= 1 << w;
                } else {
                    many = true;
                }
                true
            });
            if many {
                return ALL_KINDS;
            }
            let mut mask = 0;
            for (kind, all) in alternatives {
                if kind & skip == 0 && all.iter().all(|&w| w < 64 && found & (1 << w) != 0) {
                    mask |= kind;
                }
            }
            mask
        };
        if let Some(p) = *predicted {
            let others = match self.guard(p).as_ref() {
                Some(g) => shows(g, p),
                None => 0,
            } | self.category_kinds(lower, p);
            if others == 0 {
                return p;
            }
        }
        let mask = self.unsigned | shows(scanner, 0) | self.category_kinds(lower, 0);
        // Only a record of one kind predicts: the prediction is then never wider than needed.
        *predicted = ((mask & !self.unsigned).count_ones() == 1).then_some(mask);
        mask
    }

    /// The kinds not in `skip` that a lowercased JSON text may be of by a `category` key's value
    /// ([`tw_ingest::classify::kind_categories`]).
    pub(super) fn category_kinds(&self, lower: &[u8], skip: u64) -> u64 {
        let wanted = self
            .categories
            .iter()
            .filter(|(k, _)| k & skip == 0)
            .fold(0, |m, (k, _)| m | k);
        if wanted == 0 {
            return 0;
        }
        let mut mask = 0;
        key_values(
            lower,
            &CATEGORY_KEY,
            CATEGORY_KEY.needle().len(),
            &mut |v| {
                if let KeyValue::Text(t) = v {
                    let t = t.trim_ascii();
                    for (k, values) in &self.categories {
                        // An escape may spell any value.
                        if k & wanted != 0 && (t.contains(&b'\\') || values.iter().any(|x| x == t))
                        {
                            mask |= k;
                        }
                    }
                }
                mask == wanted
            },
        );
        mask
    }

    /// The scanner of the signature words of the kinds not in `predicted` (built once per set
    /// of kinds, then shared by every thread); `None` when there are none.
    pub(super) fn guard(&self, predicted: u64) -> Arc<Option<LiteralScanner>> {
        if let Ok(cache) = self.guards.read()
            && let Some(g) = cache.get(&predicted)
        {
            return g.clone();
        }
        let mut ids: Vec<u32> = Vec::new();
        if let Some((_, alternatives)) = &self.signatures {
            for (kind, words) in alternatives {
                if kind & predicted == 0 {
                    ids.extend(words);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let words: Vec<Vec<u8>> = ids
            .iter()
            .filter_map(|&w| self.signature_words.get(w as usize).cloned())
            .collect();
        let g = Arc::new(self.scanner_for(&words).map(|s| s.with_ids(ids)));
        if let Ok(mut cache) = self.guards.write() {
            cache.entry(predicted).or_insert_with(|| g.clone());
        }
        g
    }

    pub(super) fn verdict_of(
        &self,
        raw: &[u8],
        (spells_keys, columns): (bool, Option<RawColumns<'_>>),
        filter: KindFilter,
        s: &mut PrefilterScratch,
    ) -> Verdict {
        if has_hazard(raw) {
            return Verdict::All;
        }
        s.reset(self.literal_text.len(), self.clauses.len(), self.pair_keys);
        crate::scan::lowercase_into(raw, &mut s.lower);
        // The log kinds the record may be of, and the literals of their rules' triggers.
        let mask = match filter {
            KindFilter::None => ALL_KINDS,
            KindFilter::Known(k) => self
                .kinds
                .iter()
                .position(|x| *x == k)
                .map_or(0, |i| 1u64 << i),
            KindFilter::Signatures => self.possible_kinds(&s.lower, &mut s.predicted),
        };
        let plan = self.plan(mask, !spells_keys);
        s.found_at.clear();
        if let Some(scanner) = &plan.scanner {
            let (state, touched, found_at) = (&mut s.state, &mut s.touched, &mut s.found_at);
            scanner.scan_lowered_at(&s.lower, &mut |p, at| {
                found_at.push((p, at as u32));
                if state[p as usize] == 0 {
                    state[p as usize] = 1;
                    touched.push(p);
                }
                true
            });
        }
        // Every kind (no routing known, or generic mode): every rule.
        let in_kinds = |r: u32| {
            mask == ALL_KINDS
                || self
                    .rule_masks
                    .get(r as usize)
                    .is_none_or(|m| m & mask != 0)
        };
        s.rules.clear();
        s.rules
            .extend(self.always.iter().copied().filter(|&r| in_kinds(r)));
        if !spells_keys {
            s.rules
                .extend(self.always_csv.iter().copied().filter(|&r| in_kinds(r)));
        }
        let trig = if spells_keys {
            &self.trig_json
        } else {
            &self.trig_csv
        };
        // Literals the scan found; `holds` may append looked-up ones after them.
        let found = s.touched.len();
        for f in 0..found {
            let l = s.touched[f];
            for &r in &trig[l as usize] {
                if !in_kinds(r) || std::mem::replace(&mut s.rule_seen[r as usize], true) {
                    continue;
                }
                s.seen_list.push(r);
                if self.passes_checks(r, spells_keys, s, &plan) {
                    s.rules.push(r);
                }
            }
        }
        // Rules whose only clause is in nearly every record of these kinds.
        s.rules.extend_from_slice(&plan.always);
        for &r in &plan.always_checked {
            if in_kinds(r) && self.passes_checks(r, spells_keys, s, &plan) {
                s.rules.push(r);
            }
        }
        for r in s.seen_list.drain(..) {
            s.rule_seen[r as usize] = false;
        }
        let mut kept = !self.keep.is_empty()
            && if spells_keys {
                plan.keep_all || self.keep.iter().any(|&k| s.state[k as usize] == 1)
            } else {
                self.csv_row_kept(filter, raw, columns)
            };
        if !s.rules.is_empty()
            && !self.deferred.is_empty()
            && s.rules
                .iter()
                .all(|r| self.deferred.binary_search(r).is_ok())
            && let Some(t) = self.own_tenant(&s.lower, mask, (spells_keys, columns))
        {
            return Verdict::Defer(String::from_utf8_lossy(t).into_owned());
        }
        if kept
            && s.rules.is_empty()
            && self
                .own_tenant(&s.lower, mask, (spells_keys, columns))
                .is_some()
        {
            kept = false;
        }
        if s.rules.is_empty() && !kept {
            Verdict::Skip
        } else {
            s.rules.sort_unstable();
            s.rules.dedup();
            Verdict::Rules(s.rules.clone())
        }
    }

    /// Whether a CSV row (its text does not spell the `keep` keys) is kept for them: unless its
    /// kind is known and is none of [`RawPrefilter::keep_only_in`]'s, or its header has columns
    /// named like the keys and every such cell is empty.
    fn csv_row_kept(
        &self,
        filter: KindFilter,
        row: &[u8],
        columns: Option<RawColumns<'_>>,
    ) -> bool {
        if let (KindFilter::Known(k), Some(kinds)) = (filter, &self.keep_kinds)
            && !kinds.contains(&k)
        {
            return false;
        }
        let Some(columns) = columns else {
            return true;
        };
        let mut named = false;
        for &k in &self.keep {
            let Some(cell) = columns.cell(&self.literal_text[k as usize]) else {
                continue;
            };
            named = true;
            if row.get(cell).is_some_and(|c| !c.trim_ascii().is_empty()) {
                return true;
            }
        }
        !named
    }

    /// The actor's own tenant, when the lowercased text is certainly of the kind given to
    /// [`RawPrefilter::keep_unless_same`] (`mask` is that kind alone) and its two keys (JSON
    /// text) or the cells of its two columns (a CSV row, `columns`) hold one and the same value.
    pub(super) fn own_tenant<'a>(
        &self,
        lower: &'a [u8],
        mask: u64,
        (spells_keys, columns): (bool, Option<RawColumns<'_>>),
    ) -> Option<&'a [u8]> {
        let st = self.same_tenant.as_ref()?;
        let i = self.kinds.iter().position(|k| *k == st.kind)?;
        if mask != 1u64 << i {
            return None;
        }
        let (h, t) = match columns {
            None if !spells_keys => return None,
            None => (
                single_value(lower, &st.home.0, st.home.1)?,
                single_value(lower, &st.tenant.0, st.tenant.1)?,
            ),
            Some(c) => (
                lower.get(c.cell(&st.columns.0)?)?,
                lower.get(c.cell(&st.columns.1)?)?,
            ),
        };
        let (h, t) = (h.trim_ascii(), t.trim_ascii());
        (!t.is_empty() && h == t).then_some(t)
    }

    /// Whether the record in the scratch passes rule `r`'s checks: its key/value conditions
    /// (JSON text), then its other clauses, rarest first.
    pub(super) fn passes_checks(
        &self,
        r: u32,
        spells_keys: bool,
        s: &mut PrefilterScratch,
        plan: &Plan,
    ) -> bool {
        // Key/value conditions first: they are the most selective, and each key's values are
        // looked up once per record.
        let checks: &[usize] = match self.checks.get(r as usize) {
            Some((json, csv)) => {
                if spells_keys {
                    json
                } else {
                    csv
                }
            }
            None => &[],
        };
        let clauses = &self.clauses[r as usize];
        (!spells_keys
            || self.pairs[r as usize]
                .iter()
                .all(|p| self.pair_holds(p, s, plan)))
            && checks
                .iter()
                .all(|&i| clauses[i].0.iter().any(|&x| self.holds(x, s, plan)))
    }

    /// Whether literal `l` is in the scratch's lowercased text (found by the scan, or looked up
    /// once and remembered).
    pub(super) fn holds(&self, l: u32, s: &mut PrefilterScratch, plan: &Plan) -> bool {
        let i = l as usize;
        match s.state[i] {
            1 => true,
            2 => false,
            _ if plan.scanned[i] => false,
            _ => {
                let hit = self.finders[i].find(&s.lower).is_some();
                s.state[i] = if hit { 1 } else { 2 };
                s.touched.push(l);
                hit
            }
        }
    }
}
