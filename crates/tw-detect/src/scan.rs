//! Finding which of a set of lowercase literals occur in a text, ASCII case-insensitively, as
//! fast as the machine allows: the text is lowercased into scratch space and searched with SIMD
//! packed searchers (Teddy, 16 patterns each) where the CPU has them, else with one
//! Aho-Corasick automaton.
//!
//! The patterns searched are anchors: for each literal, its rarest short piece (rarity measured
//! on a sample of the data, see [`LiteralScanner::anchored`]), so that the packed searchers'
//! fingerprints seldom fire in vain; a found anchor is then checked against the whole literal around it. Without rarity
//! figures the anchors are the literals themselves.
//!
//! A packed searcher reports leftmost-first, non-overlapping matches, which would hide patterns
//! that overlap a reported one. Every occurrence is still found: patterns are added longest
//! first, so at a position the longest pattern that starts there is reported and every other one
//! starting there is one of its prefixes (known in advance); the search then resumes one byte
//! after the reported start, not after its end.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};

/// Patterns per packed searcher: more make its fingerprints match in vain far more often (measured
/// on tenant logs: 16 scanned 1 GB faster than 12, 20, 32 or 48).
const CHUNK: usize = 16;

/// Shortest length of an anchor cut from a longer literal.
pub const ANCHOR: usize = 6;

/// Longest length of an anchor cut from a longer literal.
pub const ANCHOR_MAX: usize = 10;

/// Ranks candidate anchors (pieces of a literal, see [`anchor_lengths`]): lower is rarer.
type Rarity<'a> = &'a dyn Fn(&[u8]) -> u64;

/// Distinct anchors, and per anchor the (literal, offset) pairs it is cut from.
type Anchors = (Vec<Vec<u8>>, Vec<Vec<(u32, u32)>>);

/// Writes the ASCII lowercase of `text` into `out` (a loop the compiler vectorises; one pass,
/// no zeroing first).
pub fn lowercase_into(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(text.iter().map(u8::to_ascii_lowercase));
}

#[derive(Clone)]
enum Engine {
    Packed {
        /// Searchers, each with the anchor ids of its patterns (in the order added).
        searchers: Vec<(packed::Searcher, Vec<u32>)>,
    },
    Automaton(AhoCorasick),
}

/// A compiled literal set.
#[derive(Clone)]
pub struct LiteralScanner {
    engine: Engine,
    /// Per anchor: the other anchors that are prefixes of it.
    prefixes: Vec<Vec<u32>>,
    /// Per anchor: the literals it is cut from, with its offset in each.
    anchor_of: Vec<Vec<(u32, u32)>>,
    literals: Vec<Vec<u8>>,
    /// The ids reported for the literals (their positions when not given).
    ids: Option<Vec<u32>>,
}

impl std::fmt::Debug for LiteralScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.engine {
            Engine::Packed { searchers } => format!("packed x{}", searchers.len()),
            Engine::Automaton(_) => "automaton".into(),
        };
        f.debug_struct("LiteralScanner")
            .field("engine", &kind)
            .field("literals", &self.literals.len())
            .field("anchors", &self.anchor_of.len())
            .finish()
    }
}

/// The lengths of the anchors cut from a literal of `len` bytes (longer than [`ANCHOR`]).
pub fn anchor_lengths(len: usize) -> impl Iterator<Item = usize> {
    (ANCHOR..=ANCHOR_MAX.min(len)).step_by(2)
}

/// Cuts each literal's anchor: one of its rarest pieces of [`anchor_lengths`] bytes. Among a
/// literal's equally rare pieces, the one that is also a rarest piece of the most literals is
/// taken (then the shortest, then the first): literals sharing a rare piece (the service name
/// of several operations, say) are then found through one anchor, and fewer anchors mean fewer
/// packed searchers scanning each text. Without rarity figures the anchors are the literals.
/// Returns the distinct anchors and, per anchor, (literal, offset).
fn cut_anchors(literals: &[Vec<u8>], rarity: Option<Rarity<'_>>) -> Anchors {
    let rarest: Vec<Vec<(usize, usize)>> = literals
        .iter()
        .map(|lit| match rarity {
            Some(r) if lit.len() > ANCHOR => rarest_pieces(lit, r),
            _ => vec![(0, lit.len())],
        })
        .collect();
    // Per piece, the number of literals it is a rarest piece of.
    let mut shared: HashMap<&[u8], u32> = HashMap::new();
    let mut own: Vec<&[u8]> = Vec::new();
    for (lit, pieces) in literals.iter().zip(&rarest) {
        own.clear();
        own.extend(pieces.iter().map(|&(a, b)| &lit[a..b]));
        own.sort_unstable();
        own.dedup();
        for &p in &own {
            *shared.entry(p).or_default() += 1;
        }
    }
    let mut index: BTreeMap<Vec<u8>, Vec<(u32, u32)>> = BTreeMap::new();
    for (i, (lit, pieces)) in literals.iter().zip(&rarest).enumerate() {
        let (start, end) = pieces
            .iter()
            .copied()
            .min_by_key(|&(a, b)| {
                let n = shared.get(&lit[a..b]).copied().unwrap_or(0);
                (std::cmp::Reverse(n), b - a, a)
            })
            .unwrap_or((0, lit.len()));
        index
            .entry(lit[start..end].to_vec())
            .or_default()
            .push((i as u32, start as u32));
    }
    index.into_iter().unzip()
}

/// The pieces of `lit` (of [`anchor_lengths`] bytes) that `rarity` ranks lowest, as (start, end).
fn rarest_pieces(lit: &[u8], rarity: Rarity<'_>) -> Vec<(usize, usize)> {
    let mut best = u64::MAX;
    let mut pieces = Vec::new();
    for len in anchor_lengths(lit.len()) {
        for a in 0..=lit.len() - len {
            let r = rarity(&lit[a..a + len]);
            if r < best {
                best = r;
                pieces.clear();
            }
            if r == best {
                pieces.push((a, a + len));
            }
        }
    }
    pieces
}

impl LiteralScanner {
    /// Compiles `literals` (lowercase, non-empty), searched as they are. `None` only if no
    /// engine can be built.
    pub fn new(literals: &[Vec<u8>]) -> Option<LiteralScanner> {
        Self::build(literals, None, true)
    }

    /// Compiles `literals`, searched through the anchors (pieces of [`anchor_lengths`] bytes)
    /// `rarity` ranks lowest (e.g. by their counts in a sample of the data).
    pub fn anchored(literals: &[Vec<u8>], rarity: &dyn Fn(&[u8]) -> u64) -> Option<LiteralScanner> {
        Self::build(literals, Some(rarity), true)
    }

    /// Compiles `literals` into one automaton (the portable engine).
    pub fn automaton(literals: &[Vec<u8>]) -> Option<LiteralScanner> {
        Self::build(literals, None, false)
    }

    fn build(
        literals: &[Vec<u8>],
        rarity: Option<Rarity<'_>>,
        packed: bool,
    ) -> Option<LiteralScanner> {
        if literals.iter().any(Vec::is_empty) {
            return None;
        }
        let (anchors, anchor_of) = cut_anchors(literals, rarity);
        let mut prefixes = vec![Vec::new(); anchors.len()];
        for (i, a) in anchors.iter().enumerate() {
            for (j, b) in anchors.iter().enumerate() {
                if i != j && b.len() < a.len() && a.starts_with(b) {
                    prefixes[i].push(j as u32);
                }
            }
        }
        let engine = match packed.then(|| Self::packed(&anchors)).flatten() {
            Some(e) => e,
            None => Engine::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&anchors)
                    .or_else(|_| {
                        AhoCorasick::builder()
                            .match_kind(MatchKind::Standard)
                            .build(&anchors)
                    })
                    .ok()?,
            ),
        };
        Some(LiteralScanner {
            engine,
            prefixes,
            anchor_of,
            literals: literals.to_vec(),
            ids: None,
        })
    }

    fn packed(anchors: &[Vec<u8>]) -> Option<Engine> {
        if anchors.is_empty() {
            return None;
        }
        let mut order: Vec<u32> = (0..anchors.len() as u32).collect();
        // Longest first (then by text, for a deterministic build).
        order.sort_by(|&a, &b| {
            let (x, y) = (&anchors[a as usize], &anchors[b as usize]);
            y.len().cmp(&x.len()).then(x.cmp(y))
        });
        let mut searchers = Vec::new();
        for chunk in order.chunks(CHUNK) {
            let mut b = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder();
            for &i in chunk {
                b.add(&anchors[i as usize]);
            }
            searchers.push((b.build()?, chunk.to_vec()));
        }
        Some(Engine::Packed { searchers })
    }

    /// Reports literal `i` as `ids[i]`.
    pub fn with_ids(mut self, ids: Vec<u32>) -> LiteralScanner {
        self.ids = Some(ids);
        self
    }

    /// True when the SIMD packed searchers are used.
    pub fn is_packed(&self) -> bool {
        matches!(self.engine, Engine::Packed { .. })
    }

    /// Calls `found` with the id of every literal occurring in `text` (ASCII case-insensitive),
    /// possibly more than once; stops early when `found` returns false. `lower` is scratch space
    /// and holds the lowercased text afterwards.
    pub fn scan(&self, text: &[u8], lower: &mut Vec<u8>, found: &mut dyn FnMut(u32) -> bool) {
        lowercase_into(text, lower);
        self.scan_lowered(lower, found);
    }

    /// Like [`LiteralScanner::scan`], on a text already lowercased (ASCII).
    pub fn scan_lowered(&self, hay: &[u8], found: &mut dyn FnMut(u32) -> bool) {
        self.scan_lowered_at(hay, &mut |id, _| found(id));
    }

    /// Like [`LiteralScanner::scan_lowered`], calling `found` with each occurrence's start too
    /// (every occurrence of every literal is reported).
    pub fn scan_lowered_at(&self, hay: &[u8], found: &mut dyn FnMut(u32, usize) -> bool) {
        // An anchor found at `at`: report the literals it is cut from that are there.
        let report = |anchor: u32, at: usize, found: &mut dyn FnMut(u32, usize) -> bool| -> bool {
            for &(lit, off) in &self.anchor_of[anchor as usize] {
                let Some(start) = at.checked_sub(off as usize) else {
                    continue;
                };
                let l = &self.literals[lit as usize];
                if hay.get(start..start + l.len()) == Some(l.as_slice()) {
                    let id = match &self.ids {
                        Some(v) => v.get(lit as usize).copied().unwrap_or(u32::MAX),
                        None => lit,
                    };
                    if !found(id, start) {
                        return false;
                    }
                }
            }
            true
        };
        match &self.engine {
            Engine::Automaton(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    if !report(m.pattern().as_u32(), m.start(), found) {
                        return;
                    }
                }
            }
            Engine::Packed { searchers } => {
                for (s, ids) in searchers {
                    let mut at = 0;
                    while at < hay.len() {
                        let Some(m) = s.find_in(hay, aho_corasick::Span::from(at..hay.len()))
                        else {
                            break;
                        };
                        let anchor = ids[m.pattern().as_usize()];
                        if !report(anchor, m.start(), found) {
                            return;
                        }
                        for &p in &self.prefixes[anchor as usize] {
                            if !report(p, m.start(), found) {
                                return;
                            }
                        }
                        at = m.start() + 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lits: &[Vec<u8>], text: &[u8]) -> Vec<u32> {
        let t = text.to_ascii_lowercase();
        let mut v: Vec<u32> = lits
            .iter()
            .enumerate()
            .filter(|(_, l)| t.windows(l.len()).any(|w| w == l.as_slice()))
            .map(|(i, _)| i as u32)
            .collect();
        v.sort();
        v
    }

    fn found(s: &LiteralScanner, text: &[u8]) -> Vec<u32> {
        let mut v = Vec::new();
        let mut buf = Vec::new();
        s.scan(text, &mut buf, &mut |i| {
            v.push(i);
            true
        });
        v.sort();
        v.dedup();
        v
    }

    /// Every engine: plain, anchored (two different rarity rankings), automaton.
    fn engines(lits: &[Vec<u8>]) -> Vec<LiteralScanner> {
        let by_first = |t: &[u8]| u64::from(t[0]);
        let by_last = |t: &[u8]| u64::from(255 - t[2]);
        vec![
            LiteralScanner::new(lits).expect("packed"),
            LiteralScanner::anchored(lits, &by_first).expect("anchored"),
            LiteralScanner::anchored(lits, &by_last).expect("anchored"),
            LiteralScanner::automaton(lits).expect("automaton"),
        ]
    }

    #[test]
    fn literals_sharing_a_rarest_piece_share_an_anchor() {
        let lits: Vec<Vec<u8>> = ["aaaaaa-shared", "bbbbbb-shared", "cccccc-other"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        // Every piece equally rare: the first two share `-share`, the third keeps its first piece.
        let s = LiteralScanner::anchored(&lits, &|_| 0).expect("anchored");
        assert!(format!("{s:?}").contains("anchors: 2"), "{s:?}");
        let texts: [&[u8]; 4] = [
            b"x AAAAAA-SHARED y bbbbbb-shared",
            b"zz-shared aaaaaa-share cccccc-other",
            b"bbbbbb-sharedaaaaaa-shared",
            b"-share -share",
        ];
        for t in texts {
            assert_eq!(
                found(&s, t),
                naive(&lits, t),
                "{}",
                String::from_utf8_lossy(t)
            );
        }
    }

    #[test]
    fn overlapping_and_nested_literals_are_all_found() {
        let words = [
            "add member",
            "add member to role",
            "member to",
            "to role",
            "role",
            "ole",
            "add",
            "dd m",
            "xyz",
            "success",
            "failure",
            "\\u",
            "certificates and secrets management",
            "secrets management",
        ];
        let mut lits: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        // More than one packed chunk.
        for i in 0..120 {
            lits.push(format!("filler literal {i:03}").into_bytes());
        }
        let texts: [&[u8]; 7] = [
            b"{\"op\":\"ADD MEMBER TO ROLE.\",\"r\":\"Success\"}",
            b"add member to rol",
            b"xx role xx filler literal 007 filler literal 119",
            b"\\u0041dd",
            b"Update application - Certificates and secrets management ",
            b"",
            b"a",
        ];
        for s in engines(&lits) {
            for t in texts {
                assert_eq!(
                    found(&s, t),
                    naive(&lits, t),
                    "{s:?} {}",
                    String::from_utf8_lossy(t)
                );
            }
        }
        // A pseudo-random text over a small alphabet, where literals overlap a lot.
        let mut x = 12345u64;
        let alphabet = b"adm eortlsucfi";
        let text: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect();
        let small: Vec<Vec<u8>> = [
            "ad", "adm", "dm", "ole", "rol", "ro", "succ", "cc", "a", "roles to", "ted sol",
            "eort ls",
        ]
        .iter()
        .map(|w| w.as_bytes().to_vec())
        .collect();
        for s in engines(&small) {
            assert_eq!(found(&s, &text), naive(&small, &text), "{s:?}");
        }
    }
}
