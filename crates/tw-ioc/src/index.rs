//! The matching index over loaded indicators: address ranges ([`RangeIndex`]), domains by their
//! labels (a host matches an indicator equal to it or, unless domains are exact, to one of its
//! parent domains), exact maps for e-mail addresses, accounts, ids and thumbprints, and
//! Aho-Corasick automata — one over every literal for the raw-record prefilter, one over the
//! substring kinds (URLs, user agents, base64 thumbprints) for decoded values.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::Value;

use crate::addr::{self, Addr, Range};
use crate::kind::{Indicator, IocType, is_guid};
use crate::prefilter::{RawFilter, domain_key};
use crate::ranges::RangeIndex;

/// How values are compared.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchOptions {
    /// A domain indicator matches only that host name, not its subdomains.
    pub exact_domains: bool,
}

/// One indicator found in a decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The indicator (its position in [`IocIndex::indicators`]).
    pub ioc: u32,
    /// Where: the field's path (`properties.ipAddress`, `ClientIP`).
    pub field: String,
    /// The field's value.
    pub value: String,
}

/// What a substring needle stands for.
#[derive(Debug, Clone, Copy)]
enum Needle {
    /// Any case (URLs, user agents).
    Insensitive(u32),
    /// Exact case (base64 thumbprints).
    Cased(u32),
}

/// The index.
#[derive(Debug)]
pub struct IocIndex {
    indicators: Vec<Indicator>,
    v4: RangeIndex<u32>,
    /// One bit per IPv4 /24 block: set when an indicator covers part of it (most lookups of
    /// the prefilter end at this bit).
    v4_blocks: Vec<u64>,
    v6: RangeIndex<u128>,
    domains: HashMap<Box<str>, Vec<u32>>,
    exact: HashMap<Box<str>, Vec<u32>>,
    /// Built on first use (only records the prefilter passes are matched).
    substrings: std::sync::OnceLock<Option<AhoCorasick>>,
    needles: Vec<(Box<str>, Needle)>,
    raw: RawFilter,
    opts: MatchOptions,
}

/// Per-thread scratch space of the prefilter.
#[derive(Debug, Default)]
pub struct Scratch {
    unescaped: Vec<u8>,
}

/// The base64 text of a hex string's bytes (thumbprints are also logged as base64, e.g. a key
/// credential's `customKeyIdentifier`).
fn hex_to_base64(hex: &str) -> Option<String> {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Some(out)
}

/// What the raw-record prefilter looks for, by kind of test.
#[derive(Default)]
struct RawKeys {
    domains: Vec<Vec<u8>>,
    ids: Vec<Vec<u8>>,
    literals: Vec<Vec<u8>>,
}

impl RawKeys {
    /// A host name, e-mail address or account: its domain's key, else the literal.
    fn host(&mut self, v: &str) {
        match domain_key(v.as_bytes()) {
            Some(k) if !k.contains(&b'_') => self.domains.push(k.to_vec()),
            _ => self.literals.push(v.as_bytes().to_vec()),
        }
    }

    /// A URL: its host's key when the host is a name, else the literal.
    fn url(&mut self, v: &str) {
        let rest = v.split_once("://").map_or(v, |x| x.1);
        let host = rest
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .rsplit('@')
            .next()
            .unwrap_or("");
        let host = host.split(':').next().unwrap_or("");
        let is_name = host.bytes().any(|b| b.is_ascii_alphabetic())
            && host.parse::<std::net::IpAddr>().is_err();
        match domain_key(host.as_bytes()) {
            Some(k) if is_name && !k.contains(&b'_') => self.domains.push(k.to_vec()),
            _ => self.literals.push(v.as_bytes().to_vec()),
        }
    }
}

impl IocIndex {
    /// Builds the index (duplicates of one type and value keep their first entry).
    pub fn build(indicators: Vec<Indicator>, opts: MatchOptions) -> IocIndex {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut domains: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut exact: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut needles: Vec<(Box<str>, Needle)> = Vec::new();
        let mut raw = RawKeys::default();
        for (i, ind) in indicators.iter().enumerate() {
            let id = i as u32;
            match (ind.kind, ind.range) {
                (_, Some(Range::V4(lo, hi))) => v4.push((lo, hi, id)),
                (_, Some(Range::V6(lo, hi))) => v6.push((lo, hi, id)),
                (IocType::Domain, _) => {
                    domains
                        .entry(ind.value.as_str().into())
                        .or_default()
                        .push(id);
                    raw.host(&ind.value);
                }
                (IocType::Url, _) => {
                    needles.push((ind.value.as_str().into(), Needle::Insensitive(id)));
                    raw.url(&ind.value);
                }
                (IocType::UserAgent, _) => {
                    needles.push((ind.value.as_str().into(), Needle::Insensitive(id)));
                    raw.literals.push(ind.value.as_bytes().to_vec());
                }
                (IocType::Thumbprint, _) => {
                    exact.entry(ind.value.as_str().into()).or_default().push(id);
                    raw.literals.push(ind.value.as_bytes().to_vec());
                    if let Some(b) = hex_to_base64(&ind.value) {
                        raw.literals.push(b.as_bytes().to_vec());
                        needles.push((b.into(), Needle::Cased(id)));
                    }
                }
                (IocType::Id, _) => {
                    exact.entry(ind.value.as_str().into()).or_default().push(id);
                    raw.ids.push(ind.value.as_bytes().to_vec());
                }
                _ => {
                    exact.entry(ind.value.as_str().into()).or_default().push(id);
                    raw.host(&ind.value);
                }
            }
        }
        let raw = RawFilter::build(&raw.domains, &raw.ids, &raw.literals);
        let mut v4_blocks = Vec::new();
        if !v4.is_empty() {
            v4_blocks = vec![0u64; (1 << 24) / 64];
            for &(lo, hi, _) in &v4 {
                for b in (lo >> 8)..=(hi >> 8) {
                    v4_blocks[(b / 64) as usize] |= 1 << (b % 64);
                }
            }
        }
        IocIndex {
            indicators,
            v4_blocks,
            v4: RangeIndex::build(v4),
            v6: RangeIndex::build(v6),
            domains,
            exact,
            substrings: std::sync::OnceLock::new(),
            needles,
            raw,
            opts,
        }
    }

    /// The indicators, by id.
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// True when no indicator is loaded.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// Approximate bytes held by the indicators and the index (the automaton by its own
    /// accounting; it is built here if it was not yet).
    pub fn heap_bytes(&self) -> usize {
        let ind: usize = self
            .indicators
            .iter()
            .map(|i| {
                std::mem::size_of::<Indicator>()
                    + i.value.capacity()
                    + i.description.as_ref().map_or(0, String::capacity)
            })
            .sum();
        let map = |m: &HashMap<Box<str>, Vec<u32>>| -> usize {
            m.iter()
                .map(|(k, v)| k.len() + v.capacity() * 4 + 48)
                .sum::<usize>()
        };
        ind + self.v4.heap_bytes()
            + self.v4_blocks.capacity() * 8
            + self.v6.heap_bytes()
            + map(&self.domains)
            + map(&self.exact)
            + self.needles.iter().map(|n| n.0.len() + 32).sum::<usize>()
            + self.substrings().map_or(0, AhoCorasick::memory_usage)
            + self.raw.heap_bytes()
    }

    /// The automaton of the substring kinds.
    fn substrings(&self) -> Option<&AhoCorasick> {
        self.substrings
            .get_or_init(|| {
                (!self.needles.is_empty())
                    .then(|| {
                        AhoCorasickBuilder::new()
                            .ascii_case_insensitive(true)
                            .match_kind(MatchKind::Standard)
                            .build(self.needles.iter().map(|n| &*n.0))
                            .ok()
                    })
                    .flatten()
            })
            .as_ref()
    }

    fn has_v4(&self) -> bool {
        self.v4.segments() > 0
    }

    fn has_v6(&self) -> bool {
        self.v6.segments() > 0
    }

    fn addr_hits(&self, a: Addr) -> &[u32] {
        match a {
            Addr::V4(x) => self.v4.lookup(x),
            Addr::V6(x) => self.v6.lookup(x),
        }
    }

    /// The raw-record prefilter: false only when the record's bytes hold no indicator, so the
    /// record need not be decoded. `spells_text` is false for a CSV row's concatenated cells,
    /// where an address may run into the next cell: such rows are candidates whenever address
    /// indicators are loaded.
    pub fn raw_candidate(&self, raw: &[u8], spells_text: bool, scratch: &mut Scratch) -> bool {
        if self.indicators.is_empty() {
            return false;
        }
        if !spells_text && (self.has_v4() || self.has_v6()) {
            return true;
        }
        if self.raw_text_candidate(raw) {
            return true;
        }
        // JSON escapes (`\/`, `\u002e`) can spell any byte: look at the unescaped text too.
        if spells_text && self.raw.escapes_hide(raw) {
            unescape_json(raw, &mut scratch.unescaped);
            return self.raw_text_candidate(&scratch.unescaped);
        }
        false
    }

    fn raw_text_candidate(&self, text: &[u8]) -> bool {
        let v4 = |a: u32| {
            let b = (a >> 8) as usize;
            self.v4_blocks[b / 64] & (1 << (b % 64)) != 0 && !self.v4.lookup(a).is_empty()
        };
        if self
            .raw
            .candidate(text, self.has_v4().then_some(&v4 as &dyn Fn(u32) -> bool))
        {
            return true;
        }
        // IPv6 addresses, found from their colons (IPv4-mapped ones were looked up above).
        self.has_v6()
            && addr::scan_by(text, addr::Starts::Colons, &mut |a| match a {
                Addr::V6(x) => !self.v6.lookup(x).is_empty(),
                Addr::V4(_) => false,
            })
    }

    /// Every indicator in a decoded document, each once, with the first field it is in.
    pub fn match_document(&self, doc: &Value) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut path = String::new();
        self.walk(doc, &mut path, &mut hits);
        hits
    }

    fn walk(&self, v: &Value, path: &mut String, hits: &mut Vec<Hit>) {
        match v {
            Value::String(s) => self.match_value(path, s, hits),
            Value::Array(a) => a.iter().for_each(|x| self.walk(x, path, hits)),
            Value::Object(o) => {
                for (k, x) in o {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(x, path, hits);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Adds the indicators in one field's value.
    pub fn match_value(&self, field: &str, s: &str, hits: &mut Vec<Hit>) {
        let mut add = |ids: &[u32]| {
            for &ioc in ids {
                if !hits.iter().any(|h| h.ioc == ioc) {
                    hits.push(Hit {
                        ioc,
                        field: field.to_string(),
                        value: s.to_string(),
                    });
                }
            }
        };
        if self.has_v4() || self.has_v6() {
            addr::scan(s.as_bytes(), self.has_v6(), &mut |a| {
                add(self.addr_hits(a));
                false
            });
        }
        if !self.exact.is_empty() || !self.domains.is_empty() {
            if let Some(ids) = self.exact.get(s.trim().to_ascii_lowercase().as_str()) {
                add(ids);
            }
            for tok in s.split(|c: char| !is_token_char(c)) {
                self.match_token(tok.trim_matches('.'), &mut add);
            }
        }
        if let Some(ac) = self.substrings() {
            for m in ac.find_overlapping_iter(s) {
                match self.needles.get(m.pattern().as_usize()).map(|n| n.1) {
                    Some(Needle::Insensitive(id)) => add(&[id]),
                    Some(Needle::Cased(id))
                        if s.get(m.range())
                            == self.needles.get(m.pattern().as_usize()).map(|n| &*n.0) =>
                    {
                        add(&[id])
                    }
                    _ => {}
                }
            }
        }
    }

    /// A token: an e-mail address, a host name, an id or a thumbprint.
    fn match_token(&self, tok: &str, add: &mut dyn FnMut(&[u32])) {
        if tok.len() < 3 {
            return;
        }
        let lower = tok.to_ascii_lowercase();
        if let Some((_, domain)) = lower.rsplit_once('@') {
            if let Some(ids) = self.exact.get(lower.as_str()) {
                add(ids);
            }
            self.match_host(domain, add);
        } else if lower.contains('.') {
            self.match_host(&lower, add);
        } else if (is_guid(&lower) || lower.len() == 40 || lower.len() == 64)
            && let Some(ids) = self.exact.get(lower.as_str())
        {
            add(ids);
        }
    }

    /// A host name: the domain indicators equal to it or (unless exact) to a parent domain.
    fn match_host(&self, host: &str, add: &mut dyn FnMut(&[u32])) {
        if self.domains.is_empty() {
            return;
        }
        if let Some(ids) = self.domains.get(host) {
            add(ids);
        }
        if self.opts.exact_domains {
            return;
        }
        for (i, b) in host.bytes().enumerate() {
            if b == b'.'
                && let Some(ids) = self.domains.get(&host[i + 1..])
            {
                add(ids);
            }
        }
    }
}

/// Characters of e-mail addresses, host names, ids and thumbprints.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '@' | '%' | '+')
}

/// The text of a JSON record with its string escapes resolved (`\/` → `/`, `\u0041` → `A`,
/// `\"` → `"`); other bytes as they are.
pub fn unescape_json(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        match e {
            b'u' => {
                let code = raw
                    .get(i..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                match code.and_then(char::from_u32) {
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += 4;
                    }
                    None => out.extend_from_slice(b"\\u"),
                }
            }
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_text;
    use std::sync::Arc;

    fn index(list: &str, opts: MatchOptions) -> IocIndex {
        let l = load_text(&Arc::from("t.txt"), list);
        assert!(l.skipped.is_empty(), "{:?}", l.skipped);
        IocIndex::build(l.indicators, opts)
    }

    fn labels(idx: &IocIndex, doc: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(doc).unwrap();
        let mut l: Vec<String> = idx
            .match_document(&v)
            .iter()
            .map(|h| format!("{} @{}", idx.indicators()[h.ioc as usize].label(), h.field))
            .collect();
        l.sort();
        l
    }

    #[test]
    fn values_match_by_kind() {
        let idx = index(
            "203.0.113.0/24\n2001:db8:bad::/48\nevil.com\nops@phish.net\nhxxps://login.evil[.]com/common\nuser-agent: python-requests/\n9a2b6d3c-1e4f-4a5b-8c7d-0e1f2a3b4c5d\n0123456789abcdef0123456789abcdef01234567\n",
            MatchOptions::default(),
        );
        let doc = r#"{"ClientIP":"[2001:db8:bad::9]:443","x":{"forwarded":"10.0.0.1, 203.0.113.50"},
            "UserId":"Admin@Sub.EVIL.com","to":"OPS@phish.net","ua":"Python-Requests/2.31",
            "uri":"https://login.evil.com/common/oauth2","app":"ServicePrincipal_9A2B6D3C-1E4F-4A5B-8C7D-0E1F2A3B4C5D",
            "key":"[KeyIdentifier=1, CustomKeyIdentifier=ASNFZ4mrze8BI0VniavN7wEjRWc=]",
            "miss":"notevil.com evil.com.au 203.0.114.1"}"#;
        assert_eq!(
            labels(&idx, doc),
            vec![
                "domain evil.com @UserId",
                "email ops@phish.net @to",
                "id 9a2b6d3c-1e4f-4a5b-8c7d-0e1f2a3b4c5d @app",
                "ipv4 203.0.113.0/24 @x.forwarded",
                "ipv6 2001:db8:bad::/48 @ClientIP",
                "thumbprint 0123456789abcdef0123456789abcdef01234567 @key",
                "url https://login.evil.com/common @uri",
                "user-agent python-requests/ @ua",
            ]
        );
        let exact = index(
            "evil.com\n",
            MatchOptions {
                exact_domains: true,
            },
        );
        assert!(labels(&exact, r#"{"u":"a@sub.evil.com"}"#).is_empty());
        assert_eq!(
            labels(&exact, r#"{"u":"a@evil.com"}"#),
            vec!["domain evil.com @u"]
        );
    }

    #[test]
    fn prefilter_is_sound_for_escapes_and_cells() {
        let idx = index(
            "https://evil.com/a\n198.51.100.7\n",
            MatchOptions::default(),
        );
        let mut s = Scratch::default();
        assert!(idx.raw_candidate(br#"{"u":"https:\/\/evil.com\/a"}"#, true, &mut s));
        assert!(idx.raw_candidate(br#"{"ip":"198.51.100\u002e7"}"#, true, &mut s));
        assert!(idx.raw_candidate(br#"{"ip":"::ffff:198.51.100.7"}"#, true, &mut s));
        assert!(!idx.raw_candidate(
            br#"{"ip":"198.51.100.8","u":"https://evil.org/a"}"#,
            true,
            &mut s
        ));
        assert!(idx.raw_candidate(b"a198.51.100.8x", false, &mut s));
    }

    /// Whatever the decoded matcher finds, the raw-record prefilter lets through: random records
    /// built from indicator pieces, neighbours of them, separators and JSON escapes.
    #[test]
    fn the_prefilter_passes_every_record_the_matcher_matches() {
        let list = "203.0.113.0/24\n198.51.100.7\n2001:db8:bad::/48\n::ffff:192.0.2.9\nevil.com\nmail.northwind.example\nops@phish.net\nhxxps://login.evil[.]com/common\nhttp://192.0.2.50/x\nuser-agent: python-requests/2.31.0\nuser-agent: curl/8.1\n9a2b6d3c-1e4f-4a5b-8c7d-0e1f2a3b4c5d\n0123456789abcdef0123456789abcdef01234567\naccount: svc_backup\n";
        let idx = index(list, MatchOptions::default());
        let pieces = [
            "203.0.113.77",
            "203.0.114.1",
            "198.51.100.7",
            "198.51.100.70",
            "2001:db8:bad::9",
            "2001:db8:bae::9",
            "::ffff:192.0.2.9",
            "::ffff:203.0.113.1",
            "evil.com",
            "EVIL.COM",
            "sub.evil.com",
            "notevil.com",
            "evil.co",
            "northwind.example",
            "mail.northwind.example",
            "ops@phish.net",
            "OPS@PHISH.NET",
            "https://login.evil.com/common/x",
            "http://192.0.2.50/x",
            "Python-Requests/2.31.0",
            "curl/8.1",
            "9A2B6D3C-1E4F-4A5B-8C7D-0E1F2A3B4C5D",
            "0123456789ABCDEF0123456789ABCDEF01234567",
            "ASNFZ4mrze8BI0VniavN7wEjRWc=",
            "svc_backup",
            "10.0.19045.1",
            "08:01:12",
            "x",
            "_",
            "-",
            ".",
            ":",
            "@",
            "/",
            " ",
            ",",
            "[",
            "]",
        ];
        let seps = [
            "", " ", ",", ":", "-", "_", "/", ".", "\\/", "\\u002e", "\\u0040",
        ];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut s = Scratch::default();
        let mut matched = 0;
        for _ in 0..20_000 {
            let mut value = String::new();
            for _ in 0..1 + rnd(4) {
                value.push_str(pieces[rnd(pieces.len())]);
                value.push_str(seps[rnd(seps.len())]);
            }
            let raw = format!("{{\"k\":\"{value}\",\"n\":1}}");
            let Ok(doc) = serde_json::from_str::<Value>(&raw) else {
                continue;
            };
            if !idx.match_document(&doc).is_empty() {
                matched += 1;
                assert!(idx.raw_candidate(raw.as_bytes(), true, &mut s), "{raw}");
            }
        }
        assert!(matched > 5_000, "{matched}");
    }

    #[test]
    fn base64_of_a_thumbprint() {
        assert_eq!(
            hex_to_base64("0123456789abcdef0123456789abcdef01234567").as_deref(),
            Some("ASNFZ4mrze8BI0VniavN7wEjRWc=")
        );
    }
}
