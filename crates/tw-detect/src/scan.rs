//! Finding which of a set of lowercase literals occur in a text, ASCII case-insensitively, as
//! fast as the machine allows: the text is lowercased into scratch space and searched with SIMD
//! packed searchers (Teddy, a few dozen literals each) where the CPU has them, else with one
//! Aho-Corasick automaton.
//!
//! A packed searcher reports leftmost-first, non-overlapping matches, which would hide literals
//! that overlap a reported one. Every occurrence is still found: literals are added longest
//! first, so at a position the longest literal that starts there is reported and every other one
//! starting there is one of its prefixes (known in advance); the search then resumes one byte
//! after the reported start, not after its end.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};

/// Literals per packed searcher.
const CHUNK: usize = 48;

#[derive(Clone)]
enum Engine {
    Packed {
        /// Searchers, each with the literal ids of its patterns (in the order added).
        searchers: Vec<(packed::Searcher, Vec<u32>)>,
    },
    Automaton(AhoCorasick),
}

/// A compiled literal set.
#[derive(Clone)]
pub struct LiteralScanner {
    engine: Engine,
    /// Per literal: the other literals that are prefixes of it.
    prefixes: Vec<Vec<u32>>,
    /// The ids reported for the literals (their positions when not given); literals past the
    /// end are reported as `u32::MAX`.
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
            .field("literals", &self.prefixes.len())
            .finish()
    }
}

impl LiteralScanner {
    /// Compiles `literals` (lowercase, non-empty). `None` only if no engine can be built.
    pub fn new(literals: &[Vec<u8>]) -> Option<LiteralScanner> {
        let mut prefixes = vec![Vec::new(); literals.len()];
        for (i, a) in literals.iter().enumerate() {
            for (j, b) in literals.iter().enumerate() {
                if i != j && b.len() < a.len() && a.starts_with(b) {
                    prefixes[i].push(j as u32);
                }
            }
        }
        if let Some(engine) = Self::packed(literals) {
            return Some(LiteralScanner {
                engine,
                prefixes,
                ids: None,
            });
        }
        Self::automaton_with(literals, prefixes)
    }

    /// Compiles `literals` into one automaton (the portable engine).
    pub fn automaton(literals: &[Vec<u8>]) -> Option<LiteralScanner> {
        let s = Self::new(literals)?;
        Self::automaton_with(literals, s.prefixes)
    }

    fn automaton_with(literals: &[Vec<u8>], prefixes: Vec<Vec<u32>>) -> Option<LiteralScanner> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(literals)
            .or_else(|_| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(literals)
            })
            .ok()?;
        Some(LiteralScanner {
            engine: Engine::Automaton(ac),
            prefixes,
            ids: None,
        })
    }

    fn packed(literals: &[Vec<u8>]) -> Option<Engine> {
        if literals.is_empty() {
            return None;
        }
        let mut order: Vec<u32> = (0..literals.len() as u32).collect();
        // Longest first (then by text, for a deterministic build).
        order.sort_by(|&a, &b| {
            let (x, y) = (&literals[a as usize], &literals[b as usize]);
            y.len().cmp(&x.len()).then(x.cmp(y))
        });
        let mut searchers = Vec::new();
        for chunk in order.chunks(CHUNK) {
            let mut b = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder();
            for &i in chunk {
                b.add(&literals[i as usize]);
            }
            searchers.push((b.build()?, chunk.to_vec()));
        }
        Some(Engine::Packed { searchers })
    }

    /// Reports literal `i` as `ids[i]` (and literals past the end of `ids` as `u32::MAX`).
    pub fn with_ids(mut self, ids: Vec<u32>) -> LiteralScanner {
        self.ids = Some(ids);
        self
    }

    fn id(&self, i: u32) -> u32 {
        match &self.ids {
            Some(v) => v.get(i as usize).copied().unwrap_or(u32::MAX),
            None => i,
        }
    }

    /// True when the SIMD packed searchers are used.
    pub fn is_packed(&self) -> bool {
        matches!(self.engine, Engine::Packed { .. })
    }

    /// Calls `found` with the id of every literal occurring in `text` (ASCII case-insensitive),
    /// possibly more than once; stops early when `found` returns false. `lower` is scratch space.
    pub fn scan(&self, text: &[u8], lower: &mut Vec<u8>, found: &mut dyn FnMut(u32) -> bool) {
        lower.clear();
        lower.extend(text.iter().map(u8::to_ascii_lowercase));
        let hay = lower.as_slice();
        match &self.engine {
            Engine::Automaton(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    if !found(self.id(m.pattern().as_u32())) {
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
                        let id = ids[m.pattern().as_usize()];
                        if !found(self.id(id)) {
                            return;
                        }
                        for &p in &self.prefixes[id as usize] {
                            if !found(self.id(p)) {
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
        ];
        let mut lits: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        // More than one packed chunk.
        for i in 0..120 {
            lits.push(format!("filler literal {i:03}").into_bytes());
        }
        let s = LiteralScanner::new(&lits).expect("scanner");
        let a = LiteralScanner::automaton(&lits).expect("automaton");
        let texts: [&[u8]; 6] = [
            b"{\"op\":\"ADD MEMBER TO ROLE.\",\"r\":\"Success\"}",
            b"add member to rol",
            b"xx role xx filler literal 007 filler literal 119",
            b"\\u0041dd",
            b"",
            b"a",
        ];
        for t in texts {
            assert_eq!(
                found(&s, t),
                naive(&lits, t),
                "{}",
                String::from_utf8_lossy(t)
            );
            assert_eq!(
                found(&a, t),
                naive(&lits, t),
                "{}",
                String::from_utf8_lossy(t)
            );
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
        let small: Vec<Vec<u8>> = ["ad", "adm", "dm", "ole", "rol", "ro", "succ", "cc", "a"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        let s = LiteralScanner::new(&small).expect("scanner");
        assert_eq!(found(&s, &text), naive(&small, &text));
        let a = LiteralScanner::automaton(&small).expect("automaton");
        assert_eq!(found(&a, &text), naive(&small, &text));
    }
}
