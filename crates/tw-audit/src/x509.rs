//! Just enough X.509 to judge a federation token-signing certificate: base64 → DER → the
//! validity period and the subject and issuer common names. Anything unexpected is `None`; no input
//! can make it panic or read out of bounds.

use tw_event::{Timestamp, days_from_civil};

/// What is read from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Not valid before.
    pub not_before: Timestamp,
    /// Not valid after.
    pub not_after: Timestamp,
    /// The subject's common name, if any.
    pub subject_cn: Option<String>,
    /// The issuer's common name, if any.
    pub issuer_cn: Option<String>,
}

/// Decodes standard base64 (padding and white space tolerated).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// One DER element: tag and content.
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    let content = b.get(hdr..end)?;
    Some((tag, content, b.get(end..)?))
}

fn children(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, c, rest) = element(b)?;
        out.push((t, c));
        b = rest;
    }
    Some(out)
}

fn der_time(tag: u8, c: &[u8]) -> Option<Timestamp> {
    let s = std::str::from_utf8(c).ok()?;
    let digits = s.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = digits.get(0..2)?.parse().ok()?;
            (
                if yy >= 50 { 1900 + yy } else { 2000 + yy },
                digits.get(2..)?,
            )
        }
        0x18 => (digits.get(0..4)?.parse().ok()?, digits.get(4..)?),
        _ => return None,
    };
    let n = |r: std::ops::Range<usize>| -> Option<u32> { rest.get(r)?.parse().ok() };
    let (mo, d, h, mi) = (n(0..2)?, n(2..4)?, n(4..6)?, n(6..8)?);
    let sec = n(8..10).unwrap_or(0);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, mo, d);
    Some(Timestamp(
        (days * 86_400 + h as i64 * 3600 + mi as i64 * 60 + sec as i64) * 1000,
    ))
}

fn common_name(name: &[u8]) -> Option<String> {
    // Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value }
    for (_, set) in children(name)? {
        for (_, atv) in children(set)? {
            let kids = children(atv)?;
            if let (Some((0x06, oid)), Some((_, val))) = (kids.first(), kids.get(1))
                && *oid == [0x55, 0x04, 0x03]
            {
                return Some(String::from_utf8_lossy(val).into_owned());
            }
        }
    }
    None
}

/// Reads a base64 DER certificate.
pub fn parse_certificate(b64: &str) -> Option<CertInfo> {
    let der = base64_decode(b64)?;
    let (_, cert, _) = element(&der)?;
    let (_, tbs, _) = element(cert)?;
    let mut fields = children(tbs)?;
    if fields.first().map(|f| f.0) == Some(0xA0) {
        fields.remove(0);
    }
    // serial, signature, issuer, validity, subject
    let issuer = fields.get(2)?.1;
    let validity = children(fields.get(3)?.1)?;
    let subject = fields.get(4)?.1;
    let (t1, c1) = *validity.first()?;
    let (t2, c2) = *validity.get(1)?;
    Some(CertInfo {
        not_before: der_time(t1, c1)?,
        not_after: der_time(t2, c2)?,
        subject_cn: common_name(subject),
        issuer_cn: common_name(issuer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "MIIE3jCCAsagAwIBAgIQQcyDaZz3MI",
            "!!!",
            "AAAA",
            "MIIBIjAN",
        ] {
            assert!(parse_certificate(s).is_none(), "{s}");
        }
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
    }
}
