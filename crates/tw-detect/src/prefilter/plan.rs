//! Planning and tuning: each rule's trigger clause and the checks after it, the search plans
//! per set of log kinds, and their tuning on a sample of the data (literal shares per log kind,
//! anchors the packed searchers seldom find in vain).

use std::sync::Arc;

use super::*;

/// Per log kind (bit), from the sample: records of that kind alone, and per literal how many
/// of them hold it.
#[derive(Debug, Default, Clone)]
pub(super) struct KindShares {
    pub(super) records: Vec<u64>,
    pub(super) holding: Vec<Vec<u64>>,
}

impl KindShares {
    /// The kinds (bits) of `mask`, when each of them was sampled enough.
    fn sampled(&self, mask: u64) -> Option<Vec<usize>> {
        let kinds: Vec<usize> = (0..self.records.len().min(64))
            .filter(|b| mask & (1 << b) != 0)
            .collect();
        kinds
            .iter()
            .all(|&b| self.records[b] >= MIN_KIND_SAMPLE)
            .then_some(kinds)
    }

    /// Per literal, its share of the sampled records of the kinds in `mask`, when each of those
    /// kinds was sampled enough.
    fn shares(&self, mask: u64, literals: usize) -> Option<Vec<f64>> {
        let kinds = self.sampled(mask)?;
        let records: u64 = kinds.iter().map(|&b| self.records[b]).sum();
        let mut held = vec![0u64; literals];
        for &b in &kinds {
            for (h, n) in held.iter_mut().zip(&self.holding[b]) {
                *h += n;
            }
        }
        (records > 0).then(|| held.iter().map(|&h| h as f64 / records as f64).collect())
    }

    /// Whether a literal of `lits` is held by at least [`UBIQUITOUS`] of the sampled records of
    /// each kind in `mask` (each kind sampled enough).
    fn ubiquitous(&self, mask: u64, lits: &[u32]) -> bool {
        let Some(kinds) = self.sampled(mask) else {
            return false;
        };
        !kinds.is_empty()
            && kinds.iter().all(|&b| {
                let held = lits
                    .iter()
                    .map(|&l| self.holding[b].get(l as usize).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0);
                held * 1_000_000 >= UBIQUITOUS * self.records[b]
            })
    }
}

/// Occurrences in the lowercased `texts` of each of `windows` (lowercase, at least four bytes
/// each) and of each one's first four bytes. One pass: each four bytes of the text are looked up
/// (through a bit set, then a map) among the windows' first four bytes.
pub(super) fn count_windows(
    texts: &[&[u8]],
    windows: &[&[u8]],
) -> (Vec<u64>, std::collections::HashMap<[u8; 4], u64>) {
    let head = |w: &[u8]| match w {
        [a, b, c, d, ..] => Some([*a, *b, *c, *d]),
        _ => None,
    };
    let slot = |h: [u8; 4]| (u32::from_le_bytes(h).wrapping_mul(0x9E37_79B1) >> 16) as usize;
    let mut bits = vec![0u64; (1 << 16) / 64];
    // The distinct heads (head, occurrences, windows), chained per slot from `first`: the text
    // is looked up by the slot already computed, no hashing per byte.
    let mut heads: Vec<([u8; 4], u64, Vec<usize>, u32)> = Vec::new();
    let mut first = vec![u32::MAX; 1 << 16];
    let find = |heads: &[([u8; 4], u64, Vec<usize>, u32)], first: &[u32], h: [u8; 4]| {
        let mut e = first[slot(h)];
        while e != u32::MAX {
            if heads[e as usize].0 == h {
                return Some(e as usize);
            }
            e = heads[e as usize].3;
        }
        None
    };
    for (i, w) in windows.iter().enumerate() {
        if let Some(h) = head(w) {
            bits[slot(h) / 64] |= 1 << (slot(h) % 64);
            let e = match find(&heads, &first, h) {
                Some(e) => e,
                None => {
                    heads.push((h, 0, Vec::new(), first[slot(h)]));
                    first[slot(h)] = (heads.len() - 1) as u32;
                    heads.len() - 1
                }
            };
            heads[e].2.push(i);
        }
    }
    let mut n = vec![0u64; windows.len()];
    let tails: Vec<Tail> = windows.iter().map(|w| Tail::of(w)).collect();
    let mut lower = Vec::new();
    for text in texts {
        crate::scan::lowercase_into(text, &mut lower);
        for i in 0..lower.len().saturating_sub(3) {
            let h = [lower[i], lower[i + 1], lower[i + 2], lower[i + 3]];
            let b = slot(h);
            if bits[b / 64] & (1 << (b % 64)) == 0 {
                continue;
            }
            if let Some(e) = find(&heads, &first, h) {
                let (_, count, ws, _) = &mut heads[e];
                *count += 1;
                // The eight bytes after the head, when the text has them: the windows' tails
                // are compared in a register, not by a call per window.
                let after = lower.get(i + 4..i + 12).map(|t| {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(t);
                    u64::from_le_bytes(word)
                });
                for &w in ws.iter() {
                    let held = match (after, &tails[w]) {
                        (Some(word), Tail::Short { bits, mask }) => word & mask == *bits,
                        _ => lower[i..].starts_with(windows[w]),
                    };
                    if held {
                        n[w] += 1;
                    }
                }
            }
        }
    }
    let fours = heads.into_iter().map(|(h, c, _, _)| (h, c)).collect();
    (n, fours)
}

/// A window's bytes after its first four, for [`count_windows`]: up to eight of them as a
/// little-endian word and the mask of its bytes, or longer.
enum Tail {
    Short { bits: u64, mask: u64 },
    Long,
}

impl Tail {
    fn of(window: &[u8]) -> Tail {
        match window.get(4..) {
            Some(t) if t.len() <= 8 => Tail::Short {
                bits: t.iter().rev().fold(0, |a, &b| a << 8 | u64::from(b)),
                mask: u64::MAX.checked_shr(64 - 8 * t.len() as u32).unwrap_or(0),
            },
            _ => Tail::Long,
        }
    }
}

/// Bytes read from the start of each input for [`sample_texts`], and in all. The tuning needs
/// only literal shares per log kind: small pieces of many inputs show the kinds of a set better
/// than large pieces of a few, and cost less to read and inflate.
pub(super) const SAMPLE_PER_INPUT: usize = 32 << 10;
pub(super) const SAMPLE_TOTAL: usize = 4 << 20;

/// Lines from the start of the inputs under `paths` (decompressed; at most 32 KiB of each of
/// evenly spread inputs, 4 MiB in all), for [`RawPrefilter::tune`]. A line cut by the limit is
/// left out. Unreadable inputs are passed over: the reader reports them.
pub fn sample_texts(paths: &[std::path::PathBuf]) -> Vec<Vec<u8>> {
    use std::io::Read;
    let limits = tw_ingest::SourceLimits::default();
    let (inputs, _) = tw_ingest::source::list_inputs(paths, &limits);
    let take = (SAMPLE_TOTAL / SAMPLE_PER_INPUT).max(1);
    let step = inputs.len().div_ceil(take).max(1);
    let mut out = Vec::new();
    for input in inputs.iter().step_by(step) {
        let Ok(stream) = tw_ingest::source::open(input, &limits) else {
            continue;
        };
        let mut buf = Vec::with_capacity(SAMPLE_PER_INPUT);
        if stream
            .take(SAMPLE_PER_INPUT as u64)
            .read_to_end(&mut buf)
            .is_err()
        {
            continue;
        }
        if buf.len() == SAMPLE_PER_INPUT {
            // The input goes on: its last line is cut.
            let whole = buf.iter().rposition(|&b| b == b'\n').unwrap_or(0);
            buf.truncate(whole);
        }
        out.extend(
            buf.split(|&b| b == b'\n')
                .filter(|l| l.len() > 2)
                .map(<[u8]>::to_vec),
        );
    }
    out
}

/// Score of a clause: its estimated share of texts holding one of its literals (from literal
/// frequencies when known), then fewer and longer literals.
pub(super) fn clause_cost(c: &[u32], freq: Option<&[f64]>, text: &[String]) -> (u64, usize, usize) {
    let share = match freq {
        Some(f) => c
            .iter()
            .map(|&l| f.get(l as usize).copied().unwrap_or(1.0))
            .sum::<f64>()
            .min(1.0),
        None => 0.0,
    };
    let shortest = c
        .iter()
        .map(|&l| text[l as usize].len().min(16))
        .min()
        .unwrap_or(0);
    ((share * 1e6) as u64, 16 - shortest, c.len())
}

impl RawPrefilter {
    /// Picks each rule's trigger clauses (the rarest, by `freq` when known) and builds the
    /// scanner for their literals.
    pub(super) fn choose(&mut self, freq: Option<&[f64]>) {
        let n = self.literal_text.len();
        let text = &self.literal_text;
        // Per set of log kinds rules are routed to: the literals' shares among the sampled
        // records of those kinds (a literal rare overall may be in most records of a rule's own
        // kinds), where each kind was sampled enough; else the shares among all records.
        let mut by_mask: std::collections::HashMap<u64, Option<Vec<f64>>> = Default::default();
        let per_rule: Vec<Option<&[f64]>> = {
            if let (Some(_), Some(k)) = (freq, &self.kind_shares) {
                for &m in &self.rule_masks {
                    if m != ALL_KINDS {
                        by_mask.entry(m).or_insert_with(|| k.shares(m, n));
                    }
                }
            }
            self.rule_masks
                .iter()
                .map(|m| match by_mask.get(m) {
                    Some(Some(v)) => Some(v.as_slice()),
                    _ => freq,
                })
                .collect()
        };
        self.trigger = self
            .clauses
            .iter()
            .zip(&per_rule)
            .map(|(cs, &freq)| {
                // The rarest clause, but among clauses about as rare (to the percent) the one
                // of fewest literals: every literal scanned for costs on every record, a
                // trigger found in one record more in a thousand costs a few checks there.
                let best = |csv: bool| {
                    cs.iter()
                        .enumerate()
                        .filter(|(_, (_, keys))| !(csv && *keys))
                        .min_by_key(|(_, (c, _))| {
                            let (share, short, n) = clause_cost(c, freq, text);
                            (share / TRIGGER_SHARE_STEP, n, short, share)
                        })
                        .map(|(i, _)| i)
                };
                (best(false), best(true))
            })
            .collect();
        self.checks = self
            .clauses
            .iter()
            .zip(&self.trigger)
            .zip(&per_rule)
            .map(|((cs, (tj, tc)), &freq)| {
                let order = |csv: bool, trig: &Option<usize>| {
                    let mut v: Vec<(u64, usize, usize, usize)> = cs
                        .iter()
                        .enumerate()
                        .filter(|(i, (_, keys))| Some(*i) != *trig && !(csv && *keys))
                        .map(|(i, (c, _))| {
                            let (share, short, n) = clause_cost(c, freq, text);
                            (share, short, n, i)
                        })
                        .filter(|(share, ..)| *share < USELESS_CHECK)
                        .collect();
                    v.sort_unstable();
                    v.into_iter().map(|x| x.3).collect::<Vec<usize>>()
                };
                (order(false, tj), order(true, tc))
            })
            .collect();
        let mut trig_json = vec![Vec::new(); n];
        let mut trig_csv = vec![Vec::new(); n];
        for (r, (j, c)) in self.trigger.iter().enumerate() {
            for (which, slot) in [(j, &mut trig_json), (c, &mut trig_csv)] {
                if let Some(i) = which {
                    for &l in &self.clauses[r][*i].0 {
                        slot[l as usize].push(r as u32);
                    }
                }
            }
        }
        self.trig_json = trig_json;
        self.trig_csv = trig_csv;
        self.plans = Default::default();
        self.guards = Default::default();
        self.full = (
            Arc::new(self.build_plan(ALL_KINDS, false)),
            Arc::new(self.build_plan(ALL_KINDS, true)),
        );
    }

    /// The search plan for the rules of the kinds in `mask`.
    pub(super) fn build_plan(&self, mask: u64, csv: bool) -> Plan {
        let n = self.literal_text.len();
        let mut scanned = vec![false; n];
        // Shares per kind are of JSON text (CSV sample lines do not show their kind).
        let shares = self
            .kind_shares
            .as_ref()
            .filter(|_| !csv && mask != ALL_KINDS);
        let ubiquitous = |lits: &[u32]| shares.is_some_and(|k| k.ubiquitous(mask, lits));
        let keep_all = ubiquitous(&self.keep);
        if !keep_all {
            for &k in &self.keep {
                scanned[k as usize] = true;
            }
        }
        let mut always = Vec::new();
        let mut always_checked = Vec::new();
        for (r, (j, c)) in self.trigger.iter().enumerate() {
            if mask != ALL_KINDS && self.rule_masks.get(r).is_some_and(|m| m & mask == 0) {
                continue;
            }
            if let Some(i) = if csv { c } else { j } {
                let lits = &self.clauses[r][*i].0;
                // Only rules with no other clause to check: they would pass every such record
                // (but for their key/value conditions, looked up without the scan).
                let unchecked = self.checks.get(r).is_none_or(|(json, _)| json.is_empty());
                let pairs = self.pairs.get(r).map_or(&[][..], Vec::as_slice);
                if unchecked && ubiquitous(lits) {
                    if pairs.is_empty() {
                        always.push(r as u32);
                        continue;
                    }
                    if pairs.iter().all(Pair::non_empty_only) {
                        always_checked.push(r as u32);
                        continue;
                    }
                }
                for &l in lits {
                    scanned[l as usize] = true;
                }
            }
        }
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        for (l, on) in scanned.iter().enumerate() {
            if *on {
                pats.push(self.literal_text[l].as_bytes().to_vec());
                ids.push(l as u32);
            }
        }
        let scanner = self.scanner_for(&pats).map(|s| s.with_ids(ids));
        Plan {
            scanner,
            scanned,
            always,
            always_checked,
            keep_all,
        }
    }

    /// A scanner for `pats`, through the pieces of them rarest in the data once that is
    /// measured ([`RawPrefilter::tune`]).
    pub(super) fn scanner_for(&self, pats: &[Vec<u8>]) -> Option<LiteralScanner> {
        if pats.is_empty() {
            return None;
        }
        match &self.anchor_counts {
            Some(counts) => {
                // An anchor found is checked against its literal; a fingerprint hit (the
                // searchers look at the first four bytes) against the anchor.
                let rarity = |x: &[u8]| {
                    let whole = counts.0.get(x).copied().unwrap_or(0);
                    let head = match x {
                        [a, b, c, d, ..] => counts.1.get(&[*a, *b, *c, *d]).copied().unwrap_or(0),
                        _ => 0,
                    };
                    4 * whole + head
                };
                LiteralScanner::anchored(pats, &rarity)
            }
            None => LiteralScanner::new(pats),
        }
    }

    /// The plan for `mask` (built once, then shared by every thread).
    pub(super) fn plan(&self, mask: u64, csv: bool) -> Arc<Plan> {
        let all = self.rule_masks.iter().fold(0, |a, m| a | m);
        if mask == ALL_KINDS || (mask & all == all && !self.rule_masks.contains(&0)) {
            return if csv {
                self.full.1.clone()
            } else {
                self.full.0.clone()
            };
        }
        if let Ok(cache) = self.plans.read()
            && let Some(p) = cache.get(&(mask, csv))
        {
            return p.clone();
        }
        let plan = Arc::new(self.build_plan(mask, csv));
        if let Ok(mut cache) = self.plans.write() {
            cache.entry((mask, csv)).or_insert_with(|| plan.clone());
        }
        plan
    }

    /// Re-picks each rule's trigger clause from literal frequencies measured on `sample` (texts
    /// of the data about to be read): the clause least often present is looked up, the others
    /// are checked only for rules it lets through. Changes speed only, never the verdicts'
    /// soundness.
    pub fn tune(&mut self, sample: &[&[u8]]) {
        if sample.is_empty() || self.literal_text.is_empty() {
            return;
        }
        let pats: Vec<Vec<u8>> = self
            .literal_text
            .iter()
            .map(|t| t.as_bytes().to_vec())
            .collect();
        let Some(all) = LiteralScanner::automaton(&pats) else {
            return;
        };
        let mut count = vec![0u64; pats.len()];
        let mut seen = vec![false; pats.len()];
        let mut touched = Vec::new();
        let mut lower = Vec::new();
        let mut shares = KindShares {
            records: vec![0; self.kinds.len()],
            holding: vec![vec![0; pats.len()]; self.kinds.len()],
        };
        // Consecutive sample lines are mostly of one input, hence of one kind.
        let mut predicted = None;
        for (t, text) in sample.iter().enumerate() {
            all.scan(text, &mut lower, &mut |i| {
                if !std::mem::replace(&mut seen[i as usize], true) {
                    touched.push(i);
                }
                true
            });
            // The record's kind, when its text shows exactly one (of every few records: shares
            // need no more).
            let kinds = if self.signatures.is_some() && t % KIND_SAMPLE_STEP == 0 {
                self.possible_kinds(&lower, &mut predicted) & !self.unsigned
            } else {
                0
            };
            let kind = (kinds.count_ones() == 1).then(|| kinds.trailing_zeros() as usize);
            if let Some(b) = kind.filter(|&b| b < shares.records.len()) {
                shares.records[b] += 1;
            }
            for &i in &touched {
                count[i as usize] += 1;
                seen[i as usize] = false;
                if let Some(b) = kind
                    && let Some(h) = shares.holding.get_mut(b)
                {
                    h[i as usize] += 1;
                }
            }
            touched.clear();
        }
        self.kind_shares = Some(shares);
        let freq: Vec<f64> = count
            .iter()
            .map(|&c| c as f64 / sample.len() as f64)
            .collect();
        // How often each possible anchor (and its first four bytes, what the searchers'
        // fingerprints look at) occurs in the sample.
        let mut windows: std::collections::BTreeSet<&[u8]> = Default::default();
        for t in self
            .literal_text
            .iter()
            .map(|t| t.as_bytes())
            .chain(self.signature_words.iter().map(Vec::as_slice))
        {
            if t.len() > crate::scan::ANCHOR {
                for len in crate::scan::anchor_lengths(t.len()) {
                    windows.extend(t.windows(len));
                }
            }
        }
        let windows: Vec<&[u8]> = windows.into_iter().collect();
        // Counted on an even spread of the sample's records, up to WINDOW_SAMPLE_BYTES: enough to
        // rank anchors by rarity, at a fraction of the cost of every sampled byte.
        let total: usize = sample.iter().map(|t| t.len()).sum();
        let step = total.div_ceil(WINDOW_SAMPLE_BYTES).max(1);
        let spread: Vec<&[u8]> = sample.iter().step_by(step).copied().collect();
        let (n, fours) = count_windows(&spread, &windows);
        let counts = windows.into_iter().map(<[u8]>::to_vec).zip(n).collect();
        self.anchor_counts = Some(Arc::new((counts, fours)));
        // Signature words too are searched through rare anchors (most start with a quote,
        // the commonest byte of JSON text).
        if let Some((_, alternatives)) = self.signatures.take() {
            self.signatures = self
                .scanner_for(&self.signature_words)
                .map(|s| (s, alternatives));
        }
        self.choose(Some(&freq));
    }
}
