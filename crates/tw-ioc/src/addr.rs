//! Addresses in text: IPv4 and IPv6 addresses and CIDR ranges as indicators give them, and the
//! addresses found in log text (with ports, in brackets, IPv4-mapped IPv6, in forwarded-for
//! lists), all as numeric ranges.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An address or range: IPv4 as `u32`, IPv6 as `u128`, bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Range {
    /// IPv4 addresses `lo..=hi`.
    V4(u32, u32),
    /// IPv6 addresses `lo..=hi`.
    V6(u128, u128),
}

/// One address found in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    /// An IPv4 address (IPv4-mapped IPv6 addresses are given as IPv4).
    V4(u32),
    /// An IPv6 address.
    V6(u128),
}

/// Parses an indicator address or CIDR range (`198.51.100.7`, `198.51.100.0/24`, `2001:db8::/32`,
/// `[2001:db8::1]`, `::ffff:198.51.100.7`); returns the range and its canonical text. An IPv4-mapped
/// IPv6 address or range of prefix 96 and more is the IPv4 one.
pub fn parse_indicator(text: &str) -> Result<(Range, String), String> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    let (addr, prefix) = match t.split_once('/') {
        Some((a, p)) => {
            let p: u32 = p.parse().map_err(|_| format!("bad prefix length {p:?}"))?;
            (a, Some(p))
        }
        None => (t, None),
    };
    if prefix.is_none()
        && let Some(n) = parse_v4(addr.as_bytes())
    {
        // A dotted quad without leading zeros is written canonically already.
        return Ok((Range::V4(n, n), addr.to_string()));
    }
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        return v4_range(u32::from(v4), prefix.unwrap_or(32), prefix.is_some());
    }
    let v6: Ipv6Addr = addr
        .parse()
        .map_err(|_| "not an IPv4 or IPv6 address".to_string())?;
    let n = u128::from(v6);
    let p = prefix.unwrap_or(128);
    if p > 128 {
        return Err(format!("prefix length /{p} is more than 128"));
    }
    if let Some(v4) = v6.to_ipv4_mapped()
        && p >= 96
    {
        return v4_range(u32::from(v4), p - 96, prefix.is_some());
    }
    let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
    let lo = n & mask;
    let hi = lo | !mask;
    let text = if prefix.is_some() {
        format!("{}/{p}", Ipv6Addr::from(lo))
    } else {
        Ipv6Addr::from(lo).to_string()
    };
    Ok((Range::V6(lo, hi), text))
}

fn v4_range(n: u32, p: u32, cidr: bool) -> Result<(Range, String), String> {
    if p > 32 {
        return Err(format!("prefix length /{p} is more than 32"));
    }
    let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
    let lo = n & mask;
    let hi = lo | !mask;
    let text = if cidr {
        format!("{}/{p}", Ipv4Addr::from(lo))
    } else {
        Ipv4Addr::from(lo).to_string()
    };
    Ok((Range::V4(lo, hi), text))
}

/// Bytes that may be part of an address token: hex digits, `.` and `:`.
static ADDR_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_hexdigit() || c == b'.' || c == b':';
        b += 1;
    }
    t
};

fn is_addr_byte(b: u8) -> bool {
    ADDR_BYTE[b as usize]
}

/// Letters, digits and `_`: an address token glued to one of them is part of a word.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Reads one address token (a maximal run of hex digits, `.` and `:`): `1.2.3.4`, `1.2.3.4:443`,
/// `2001:db8::1`, `::ffff:1.2.3.4`. Dotted runs with other than four numbers (versions,
/// decimals) and timestamps are not addresses.
pub fn parse_token(tok: &[u8]) -> Option<Addr> {
    let mut end = tok.len();
    while end > 0 && tok[end - 1] == b'.' {
        end -= 1;
    }
    let tok = &tok[..end];
    if !tok.contains(&b':') {
        return parse_v4(tok).map(Addr::V4);
    }
    let s = std::str::from_utf8(tok).ok()?;
    if let Ok(v6) = s.parse::<Ipv6Addr>() {
        return Some(match v6.to_ipv4_mapped() {
            Some(v4) => Addr::V4(u32::from(v4)),
            None => Addr::V6(u128::from(v6)),
        });
    }
    // An IPv4 address with a port.
    let (a, port) = s.rsplit_once(':')?;
    if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) {
        return a.parse::<Ipv4Addr>().ok().map(|a| Addr::V4(u32::from(a)));
    }
    None
}

/// A dotted quad (`198.51.100.7`; no leading zeros, as the standard parser).
pub fn parse_v4(b: &[u8]) -> Option<u32> {
    let mut out: u32 = 0;
    let mut parts = 0;
    for part in b.split(|&c| c == b'.') {
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut n: u32 = 0;
        for &c in part {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        if n > 255 {
            return None;
        }
        out = (out << 8) | n;
        parts += 1;
        if parts > 4 {
            return None;
        }
    }
    (parts == 4).then_some(out)
}

/// Which bytes start the address tokens [`scan_by`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starts {
    /// `.` only: IPv4 addresses, with ports, IPv4-mapped.
    Dots,
    /// `:` only: IPv6 addresses.
    Colons,
    /// Both.
    Both,
}

/// Calls `found` with every address in `text` (stops when it returns true; returns whether it
/// did). Tokens are found from their `.` and `:` bytes, so text without either costs one
/// `memchr` pass.
pub fn scan(text: &[u8], v6: bool, found: &mut dyn FnMut(Addr) -> bool) -> bool {
    scan_by(text, if v6 { Starts::Both } else { Starts::Dots }, found)
}

/// Like [`scan`], looking only at tokens around the bytes `starts` names.
pub fn scan_by(text: &[u8], starts: Starts, found: &mut dyn FnMut(Addr) -> bool) -> bool {
    let mut done_to = 0usize;
    let mut check = |i: usize| -> bool {
        if i < done_to {
            return false;
        }
        let before = i.checked_sub(1).map(|j| text[j]);
        let after = text.get(i + 1).copied();
        if !before.is_some_and(|b| b.is_ascii_hexdigit() || b == b':')
            && !after.is_some_and(|b| b.is_ascii_hexdigit() || b == b':')
        {
            return false;
        }
        let mut s = i;
        while s > 0 && is_addr_byte(text[s - 1]) {
            s -= 1;
        }
        let mut e = i + 1;
        while e < text.len() && is_addr_byte(text[e]) {
            e += 1;
        }
        done_to = e;
        if (s > 0 && is_word_byte(text[s - 1])) || (e < text.len() && is_word_byte(text[e])) {
            return false;
        }
        parse_token(&text[s..e]).is_some_and(&mut *found)
    };
    match starts {
        Starts::Both => memchr::memchr2_iter(b'.', b':', text).any(&mut check),
        Starts::Dots => memchr::memchr_iter(b'.', text).any(&mut check),
        Starts::Colons => scan_colons(text, found),
    }
}

/// IPv6 addresses only, from their colons. Every IPv6 address has a colon with a hex digit on
/// both sides or a colon next to another (`::`), and holds `::` or at least six colons (eight
/// groups, or six and an IPv4 tail): other colons (JSON's `"key":`, numbers after a key, times
/// of day) are passed over without parsing.
fn scan_colons(text: &[u8], found: &mut dyn FnMut(Addr) -> bool) -> bool {
    let mut done_to = 0usize;
    for i in memchr::memchr_iter(b':', text) {
        if i < done_to || i == 0 || i + 1 >= text.len() {
            continue;
        }
        let (b, a) = (text[i - 1], text[i + 1]);
        if !((b.is_ascii_hexdigit() && a.is_ascii_hexdigit()) || b == b':' || a == b':') {
            continue;
        }
        let mut s = i;
        while s > 0 && is_addr_byte(text[s - 1]) {
            s -= 1;
        }
        let mut e = i + 1;
        while e < text.len() && is_addr_byte(text[e]) {
            e += 1;
        }
        done_to = e;
        let run = &text[s..e];
        let colons = run.iter().filter(|&&c| c == b':').count();
        if colons < 6 && memchr::memmem::find(run, b"::").is_none() {
            continue;
        }
        if (s > 0 && is_word_byte(text[s - 1])) || (e < text.len() && is_word_byte(text[e])) {
            continue;
        }
        if let Some(a @ Addr::V6(_)) = parse_token(run)
            && found(a)
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Addr> {
        let mut v = Vec::new();
        scan(text.as_bytes(), true, &mut |a| {
            v.push(a);
            false
        });
        v
    }

    fn v4(s: &str) -> Addr {
        Addr::V4(u32::from(s.parse::<Ipv4Addr>().unwrap()))
    }

    #[test]
    fn the_colon_scan_finds_every_ipv6_address_the_full_scan_finds() {
        let text = r#"{"a":"2001:db8::5","b":"[2001:db8:0:0:1:0:0:9]:443","c":"::1","d":"fe80::","t":"08:01:12","n":15,"m":"0:0:0:0:0:ffff:1.2.3.4x","e":"64:ff9b::198.51.100.7","f":"1:2:3:4:5:6:7:8"}"#;
        let mut full = Vec::new();
        scan(text.as_bytes(), true, &mut |a| {
            if matches!(a, Addr::V6(_)) {
                full.push(a);
            }
            false
        });
        let mut colons = Vec::new();
        scan_by(text.as_bytes(), Starts::Colons, &mut |a| {
            colons.push(a);
            false
        });
        assert_eq!(full.len(), 6, "{full:?}");
        assert_eq!(colons, full);
    }

    #[test]
    fn indicators_parse_to_ranges() {
        assert_eq!(
            parse_indicator("198.51.100.77/24").unwrap(),
            (
                Range::V4(0xC633_6400, 0xC633_64FF),
                "198.51.100.0/24".into()
            )
        );
        assert_eq!(
            parse_indicator("0.0.0.0/0").unwrap().0,
            Range::V4(0, u32::MAX)
        );
        assert_eq!(parse_indicator("::/0").unwrap().0, Range::V6(0, u128::MAX));
        let (r, t) = parse_indicator("2001:DB8::1").unwrap();
        assert_eq!(t, "2001:db8::1");
        assert!(matches!(r, Range::V6(a, b) if a == b));
        assert_eq!(
            parse_indicator("::ffff:203.0.113.9").unwrap().1,
            "203.0.113.9"
        );
        assert_eq!(
            parse_indicator("::ffff:203.0.113.0/120").unwrap().1,
            "203.0.113.0/24"
        );
        assert!(parse_indicator("1.2.3.4/33").is_err());
        assert!(parse_indicator("2001:db8::/129").is_err());
        assert!(parse_indicator("1.2.3").is_err());
        assert!(parse_indicator("evil.com").is_err());
    }

    #[test]
    fn addresses_are_found_in_log_text() {
        assert_eq!(
            all(r#"{"ClientIP":"198.51.100.7:50432","x":"[2001:db8::5]:443"}"#),
            vec![
                v4("198.51.100.7"),
                Addr::V6(u128::from("2001:db8::5".parse::<Ipv6Addr>().unwrap()))
            ]
        );
        assert_eq!(
            all("10.0.0.1, 203.0.113.9,::ffff:192.0.2.4"),
            vec![v4("10.0.0.1"), v4("203.0.113.9"), v4("192.0.2.4")]
        );
        // Versions, times, decimals and words are not addresses.
        assert!(
            all("Windows NT 10.0.19045.1; 2024-11-13T20:40:36.006Z; 3.14; v1.2.3.4x").is_empty()
        );
        assert!(all(r#""Chrome/91.0.4472.124" "a":"b""#).is_empty());
        for bad in [
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.4x",
        ] {
            assert_eq!(parse_v4(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse_v4(b"0.0.0.0"), Some(0));
        assert_eq!(parse_v4(b"255.255.255.255"), Some(u32::MAX));
    }
}
