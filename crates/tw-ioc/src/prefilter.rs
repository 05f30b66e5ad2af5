//! The raw-record prefilter: from a record's bytes, before any parsing, whether it may hold an
//! indicator. It must never say no to a record that holds one (a false yes only costs a decode),
//! and it must cost far less than decoding, whatever the number of indicators. Each indicator is
//! looked for by the cheapest sound test its kind allows:
//!
//! - addresses: every `.` and `:` starts an address token ([`crate::addr::scan`]) looked up in the
//!   range indexes;
//! - domains, e-mail addresses, URLs with a host name and accounts with `@`: their domain's last two
//!   labels (`evil.com` of `login.evil.com`, of `ops@evil.com`, of `https://login.evil.com/a`) is a
//!   key; every host-name token of the text (found from its dots) gives the key of its last two
//!   labels, looked up in a set. A host or address equal to the indicator, or below it, has the
//!   same last two labels;
//! - ids (GUIDs): every `8-4-4-4-12` run found from its dashes is looked up in a set;
//! - other literals (user agents, thumbprints in hex and base64, URLs on an address, accounts
//!   without `@`) of at least [`STRIDE`]` + `[`WINDOW`]` - 1` bytes: each gives the [`STRIDE`]
//!   windows of [`WINDOW`] bytes that start in its last span of that length; the text is probed
//!   only at every [`STRIDE`]-th position, and one of those probes falls on one of the windows of
//!   any occurrence.
//!   Probes are hashed into a bit set first, then checked exactly;
//! - shorter literals: one Aho-Corasick automaton (few patterns in practice).
//!
//! Letters are compared without case by setting bit `0x20` of every byte on both sides (a mapping
//! that only merges bytes, so it can only add candidates). A JSON record holding `\u` or `\/` (an
//! escape can spell any character) is looked at a second time with its escapes resolved.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Bytes of a literal window.
pub const WINDOW: usize = 8;

/// Text positions probed: one in this many.
pub const STRIDE: usize = 8;

/// Bits of the window bit set: about 64 per window (1.5 % of them set), at least 2^16.
fn bits_for(windows: usize) -> u32 {
    (windows.max(1) * 64)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(16, 24)
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeySet = HashSet<u64, BuildHasherDefault<Passthrough>>;

/// Folds case (sets bit 0x20 of each byte).
const FOLD: u64 = 0x2020_2020_2020_2020;

/// The hash of a byte string, case folded.
fn hash_folded(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b | 0x20)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

fn window_at(text: &[u8], at: usize) -> u64 {
    let mut w = [0u8; WINDOW];
    w.copy_from_slice(&text[at..at + WINDOW]);
    u64::from_le_bytes(w) | FOLD
}

/// Bytes of host-name tokens: letters, digits, `.`, `-`, `@`, `%`, `+` (the tokens the decoded
/// matcher reads; `_` ends one, as in `helpdesk_evil.com#EXT#`).
static HOST_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'@' | b'%' | b'+');
        b += 1;
    }
    t
};

fn is_host_byte(b: u8) -> bool {
    HOST_BYTE[b as usize]
}

/// The last two labels of a host name (or of the domain of an e-mail address), trailing dots
/// removed; `None` without a dot.
pub fn domain_key(token: &[u8]) -> Option<&[u8]> {
    let t = match memchr::memrchr(b'@', token) {
        Some(i) => &token[i + 1..],
        None => token,
    };
    let mut end = t.len();
    while end > 0 && t[end - 1] == b'.' {
        end -= 1;
    }
    let t = &t[..end];
    let last = memchr::memrchr(b'.', t)?;
    let start = memchr::memrchr(b'.', &t[..last]).map_or(0, |i| i + 1);
    (last > start && last + 1 < t.len()).then_some(&t[start..])
}

/// Whether a host-name token holding digits holds an IPv4 address `accepts` takes. A token of
/// digits and dots only is parsed as it is (the common case: an address alone); others are
/// scanned like any text.
fn ipv4_in(token: &[u8], accepts: &dyn Fn(u32) -> bool) -> bool {
    if token.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        let mut end = token.len();
        while end > 0 && token[end - 1] == b'.' {
            end -= 1;
        }
        return crate::addr::parse_v4(&token[..end]).is_some_and(accepts);
    }
    crate::addr::scan_by(token, crate::addr::Starts::Dots, &mut |a| match a {
        crate::addr::Addr::V4(x) => accepts(x),
        crate::addr::Addr::V6(_) => false,
    })
}

/// The literal sets of the prefilter.
#[derive(Debug, Default)]
pub struct RawFilter {
    domains: KeySet,
    ids: KeySet,
    bits: Vec<u64>,
    /// `64 - log2(bits)`.
    shift: u32,
    windows: KeySet,
    short: Option<AhoCorasick>,
    /// A literal holds `"` or `\`: any escape in a record may hide it.
    escapes_matter: bool,
}

impl RawFilter {
    /// The filter for domain keys (see [`domain_key`]), ids, and other literals.
    pub fn build(domain_keys: &[Vec<u8>], ids: &[Vec<u8>], literals: &[Vec<u8>]) -> RawFilter {
        let mut f = RawFilter {
            domains: domain_keys.iter().map(|k| hash_folded(k)).collect(),
            ids: ids.iter().map(|k| hash_folded(k)).collect(),
            ..Default::default()
        };
        let mut short: Vec<&[u8]> = Vec::new();
        let long = literals
            .iter()
            .filter(|l| l.len() >= WINDOW + STRIDE - 1)
            .count();
        let bits = bits_for(long * STRIDE);
        f.shift = 64 - bits;
        for l in literals {
            f.escapes_matter |= l.iter().any(|b| matches!(b, b'"' | b'\\'));
            if l.len() < WINDOW + STRIDE - 1 {
                short.push(l);
                continue;
            }
            if f.bits.is_empty() {
                f.bits = vec![0; (1usize << bits) / 64];
            }
            // The windows of the literal's last span: versions and unique parts are at the end
            // of user agents, which often start alike (`Mozilla/5.0 (`).
            let span = l.len() - (WINDOW + STRIDE - 1);
            for off in span..span + STRIDE {
                let w = window_at(l, off);
                let bit = f.window_bit(w);
                f.bits[bit / 64] |= 1 << (bit % 64);
                f.windows.insert(w.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            }
        }
        if !short.is_empty() {
            f.short = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(short)
                .ok();
        }
        f
    }

    fn window_bit(&self, w: u64) -> usize {
        (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        (self.domains.capacity() + self.ids.capacity() + self.windows.capacity()) * 9
            + self.bits.capacity() * 8
            + self.short.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// Whether the JSON escapes of a record may hide a literal: `\u` and `\/` always, any
    /// escape when a literal holds `"` or `\`.
    pub fn escapes_hide(&self, raw: &[u8]) -> bool {
        memchr::memchr_iter(b'\\', raw)
            .any(|i| self.escapes_matter || matches!(raw.get(i + 1), Some(b'u' | b'/')))
    }

    /// Whether `text` may hold a literal, or (with `v4`) an IPv4 address `v4` accepts: the
    /// host-name tokens found from the dots give both.
    pub fn candidate(&self, text: &[u8], v4: Option<&dyn Fn(u32) -> bool>) -> bool {
        ((!self.domains.is_empty() || v4.is_some()) && self.has_domain(text, v4))
            || (!self.ids.is_empty() && self.has_id(text))
            || (!self.bits.is_empty() && self.has_window(text))
            || self.short.as_ref().is_some_and(|ac| ac.is_match(text))
    }

    fn has_domain(&self, text: &[u8], v4: Option<&dyn Fn(u32) -> bool>) -> bool {
        let mut done_to = 0;
        for i in memchr::memchr_iter(b'.', text) {
            if i < done_to {
                continue;
            }
            let mut s = i;
            while s > 0 && is_host_byte(text[s - 1]) {
                s -= 1;
            }
            let mut e = i + 1;
            while e < text.len() && is_host_byte(text[e]) {
                e += 1;
            }
            done_to = e;
            let token = &text[s..e];
            // An IPv4 address (with its port, mapped, in a list) is in the token around its
            // dots; the token's edges are bytes no address token reaches across but `:`.
            if let Some(accepts) = v4
                && token.iter().any(u8::is_ascii_digit)
                && ipv4_in(token, accepts)
            {
                return true;
            }
            if !self.domains.is_empty()
                && let Some(k) = domain_key(token)
                && self.domains.contains(&hash_folded(k))
            {
                return true;
            }
        }
        false
    }

    fn has_id(&self, text: &[u8]) -> bool {
        let mut from = 0;
        for i in memchr::memchr_iter(b'-', text) {
            if i < from || i < 8 || i + 28 > text.len() {
                continue;
            }
            // Dashes where a GUID has them: its hash is looked up (what is not a GUID is in no
            // set).
            let g = &text[i - 8..i + 28];
            if g[13] == b'-' && g[18] == b'-' && g[23] == b'-' {
                if self.ids.contains(&hash_folded(g)) {
                    return true;
                }
                from = i + 28;
            }
        }
        false
    }

    fn has_window(&self, text: &[u8]) -> bool {
        // Probes at every STRIDE-th position, each WINDOW bytes long: the text's chunks.
        const _: () = assert!(WINDOW == STRIDE);
        text.chunks_exact(WINDOW).any(|c| {
            let mut w = [0u8; WINDOW];
            w.copy_from_slice(c);
            let w = u64::from_le_bytes(w) | FOLD;
            let bit = self.window_bit(w);
            self.bits[bit / 64] & (1 << (bit % 64)) != 0
                && self
                    .windows
                    .contains(&w.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_keys() {
        assert_eq!(domain_key(b"login.Evil.com"), Some(&b"Evil.com"[..]));
        assert_eq!(domain_key(b"ops@mail.evil.com."), Some(&b"evil.com"[..]));
        assert_eq!(domain_key(b"evil.com"), Some(&b"evil.com"[..]));
        assert_eq!(domain_key(b"evil"), None);
        assert_eq!(domain_key(b".com"), None);
    }

    /// Every literal at every offset of a text is found, in any case.
    #[test]
    fn windows_find_every_occurrence() {
        let lits: Vec<Vec<u8>> = vec![
            b"python-requests/2.25.1".to_vec(),
            b"ASNFZ4mrze8BI0VniavN7wEjRWc=".to_vec(),
            b"short-ua/1".to_vec(),
        ];
        let f = RawFilter::build(&[], &[], &lits);
        for l in &lits {
            for pad in 0..20 {
                let mut t = vec![b'x'; pad];
                t.extend(l.to_ascii_uppercase());
                t.extend(b"\"}");
                assert!(
                    f.candidate(&t, None),
                    "{} at {pad}",
                    String::from_utf8_lossy(l)
                );
            }
        }
        assert!(!f.candidate(b"{\"UserAgent\":\"python-urllib/3.11\"}", None));
    }

    #[test]
    fn hosts_and_ids() {
        let f = RawFilter::build(
            &[b"evil.com".to_vec()],
            &[b"9a2b6d3c-1e4f-4a5b-8c7d-0e1f2a3b4c5d".to_vec()],
            &[],
        );
        assert!(f.candidate(b"{\"u\":\"Ops@Sub.EVIL.com\"}", None));
        assert!(f.candidate(b"https://a.evil.com/x", None));
        assert!(f.candidate(
            b"ServicePrincipal_9A2B6D3C-1E4F-4A5B-8C7D-0E1F2A3B4C5D",
            None
        ));
        assert!(!f.candidate(
            b"{\"u\":\"ops@evil.org\",\"id\":\"9a2b6d3c-1e4f-4a5b-8c7d-0e1f2a3b4c5e\"}",
            None
        ));
    }
}
