//! Matching of event values: compiled string patterns, numbers, booleans, null, CIDR,
//! numeric comparisons, time parts and field references.
//!
//! Case-insensitive matching (the default) compares `to_lowercase()` forms: needles are
//! lowercased at compile time; ASCII haystacks use allocation-free ASCII comparisons and
//! others are lowercased on the fly. Wildcard patterns other than prefix/suffix/contains
//! become anchored regexes run on the lowercased haystack, so that all string tests and the
//! candidate index agree on one notion of case.

use std::borrow::Cow;
use std::net::IpAddr;

use regex::Regex;

use crate::event::{FieldRef, FieldValue, SigmaEvent, canonical_float};

/// A compiled string test.
#[derive(Debug, Clone)]
pub(crate) enum StrMatch {
    /// Equal to the needle.
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    Contains(Box<str>),
    /// `*`: any string.
    Any,
    /// Wildcard pattern as an anchored regex.
    Glob(Regex),
    /// A user regular expression (`re`), run on the raw haystack, with the flags it was built
    /// with (kept for lowering to other engines).
    Regex(Regex, ReFlags),
}

/// The flags of a `re` pattern: `|i`, `|m`, `|s`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReFlags {
    pub i: bool,
    pub m: bool,
    pub s: bool,
}

/// A string test with its case mode.
#[derive(Debug, Clone)]
pub(crate) struct StrPattern {
    pub m: StrMatch,
    pub cased: bool,
}

/// Lowercases `s` without allocating when it is already lower case ASCII.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else if s.is_ascii() {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

fn ascii_ci_find(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.len() > hay.len() {
        return false;
    }
    let first = needle[0];
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        if hay[i].to_ascii_lowercase() == first
            && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
        {
            return true;
        }
        i += 1;
    }
    false
}

impl StrPattern {
    pub fn matches(&self, hay: &str) -> bool {
        match &self.m {
            StrMatch::Any => true,
            StrMatch::Regex(r, _) => r.is_match(hay),
            _ if self.cased => match &self.m {
                StrMatch::Exact(n) => hay == &**n,
                StrMatch::Prefix(n) => hay.starts_with(&**n),
                StrMatch::Suffix(n) => hay.ends_with(&**n),
                StrMatch::Contains(n) => hay.contains(&**n),
                StrMatch::Glob(r) => r.is_match(hay),
                _ => false,
            },
            _ if hay.is_ascii() => {
                let h = hay.as_bytes();
                match &self.m {
                    StrMatch::Exact(n) => h.eq_ignore_ascii_case(n.as_bytes()),
                    StrMatch::Prefix(n) => {
                        h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n.as_bytes())
                    }
                    StrMatch::Suffix(n) => {
                        h.len() >= n.len()
                            && h[h.len() - n.len()..].eq_ignore_ascii_case(n.as_bytes())
                    }
                    StrMatch::Contains(n) => ascii_ci_find(h, n.as_bytes()),
                    StrMatch::Glob(r) => r.is_match(&lower(hay)),
                    _ => false,
                }
            }
            _ => {
                let l = hay.to_lowercase();
                match &self.m {
                    StrMatch::Exact(n) => l == **n,
                    StrMatch::Prefix(n) => l.starts_with(&**n),
                    StrMatch::Suffix(n) => l.ends_with(&**n),
                    StrMatch::Contains(n) => l.contains(&**n),
                    StrMatch::Glob(r) => r.is_match(&l),
                    _ => false,
                }
            }
        }
    }
}

/// Comparison operators of `lt`/`lte`/`gt`/`gte` (and equality for time parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CmpOp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

impl CmpOp {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Eq => a == b,
        }
    }
}

/// Part of a timestamp extracted by the time modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// An IP network for `cidr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    /// For an IPv4 network, its first and last address as integers.
    pub fn v4_range(&self) -> Option<(u32, u32)> {
        let IpAddr::V4(n) = self.addr else {
            return None;
        };
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        };
        let lo = u32::from(n) & mask;
        Some((lo, lo | !mask))
    }

    /// For an IPv6 network, its first and last address as integers.
    pub fn v6_range(&self) -> Option<(u128, u128)> {
        let IpAddr::V6(n) = self.addr else {
            return None;
        };
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - self.prefix)
        };
        let lo = u128::from(n) & mask;
        Some((lo, lo | !mask))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            (IpAddr::V4(_), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(v4) => self.contains(IpAddr::V4(v4)),
                None => false,
            },
            _ => false,
        }
    }
}

/// Parses an IP address from event text: plain, `[v6]`, `v4:port` or `[v6]:port`.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        return rest[..end].parse().ok();
    }
    if let Some((a, port)) = s.rsplit_once(':')
        && port.bytes().all(|b| b.is_ascii_digit())
        && !a.contains(':')
    {
        return a.parse().ok();
    }
    None
}

/// One test of a detection item against one value.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Str(StrPattern),
    /// Numeric equality.
    Num(f64),
    Bool(bool),
    /// Field missing or null.
    Null,
    Exists(bool),
    Cmp(CmpOp, f64),
    Time(TimePart, CmpOp, f64),
    Cidr(IpNet),
    /// Equal to (one of) the values of another field of the same event.
    FieldRef(FieldRef, StrMode),
}

/// How a field reference compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrMode {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

impl Test {
    /// Tests one present value.
    pub fn matches_value(&self, v: FieldValue<'_>, ev: &dyn SigmaEvent) -> bool {
        match self {
            Test::Str(p) => match v {
                FieldValue::Str(s) => p.matches(s),
                FieldValue::Int(i) => p.matches(&i.to_string()),
                FieldValue::Float(f) => p.matches(&canonical_float(f)),
                FieldValue::Bool(b) => p.matches(if b { "true" } else { "false" }),
                FieldValue::Null => false,
            },
            Test::Num(n) => v.as_f64() == Some(*n),
            Test::Bool(b) => match v {
                FieldValue::Bool(x) => x == *b,
                FieldValue::Str(s) => {
                    s.trim()
                        .eq_ignore_ascii_case(if *b { "true" } else { "false" })
                }
                _ => false,
            },
            Test::Null => matches!(v, FieldValue::Null),
            Test::Exists(_) => false,
            Test::Cmp(op, n) => v.as_f64().is_some_and(|x| op.holds(x, *n)),
            Test::Time(part, op, n) => time_part(v, *part).is_some_and(|x| op.holds(x as f64, *n)),
            Test::Cidr(net) => match v {
                FieldValue::Str(s) => parse_ip(s).is_some_and(|ip| net.contains(ip)),
                _ => false,
            },
            Test::FieldRef(other, mode) => {
                let Some(mine) = v.to_text().map(|t| t.to_lowercase()) else {
                    return false;
                };
                let mut hit = false;
                ev.visit_field(other, &mut |o| {
                    if let Some(t) = o.to_text() {
                        let t = t.to_lowercase();
                        hit = match mode {
                            StrMode::Exact => mine == t,
                            StrMode::Prefix => mine.starts_with(&t),
                            StrMode::Suffix => mine.ends_with(&t),
                            StrMode::Contains => mine.contains(&t),
                        };
                    }
                    hit
                });
                hit
            }
        }
    }

    /// Renders a matched value for evidence.
    pub fn evidence(v: FieldValue<'_>) -> String {
        v.to_text().unwrap_or_else(|| "null".to_string())
    }
}

/// Days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// ISO 8601 week number (1..=53).
fn iso_week(y: i64, m: u32, d: u32) -> i64 {
    let days = days_from_civil(y, m, d);
    let weekday = (days + 3).rem_euclid(7); // Monday = 0
    let thursday = days - weekday + 3;
    let (ty, _, _) = civil_from_days(thursday);
    let jan1 = days_from_civil(ty, 1, 1);
    (thursday - jan1) / 7 + 1
}

/// Broken-down UTC time: (year, month, day, hour, minute).
pub(crate) fn broken_down(v: FieldValue<'_>) -> Option<(i64, u32, u32, u32, u32)> {
    match v {
        FieldValue::Int(_) | FieldValue::Float(_) => {
            let n = v.as_f64()?;
            let secs = if n.abs() >= 1e11 { n / 1000.0 } else { n } as i64;
            let days = secs.div_euclid(86_400);
            let rem = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            Some((y, m, d, (rem / 3600) as u32, ((rem % 3600) / 60) as u32))
        }
        FieldValue::Str(s) => {
            let b = s.trim().as_bytes();
            let num = |r: std::ops::Range<usize>| -> Option<u32> {
                let part = b.get(r)?;
                if !part.iter().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                std::str::from_utf8(part).ok()?.parse().ok()
            };
            let y = num(0..4)?;
            if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
                return None;
            }
            let m = num(5..7).filter(|m| (1..=12).contains(m))?;
            let d = num(8..10).filter(|d| (1..=31).contains(d))?;
            let (h, mi) = if b.len() >= 16 && matches!(b[10], b'T' | b't' | b' ') {
                (num(11..13)?, num(14..16)?)
            } else {
                (0, 0)
            };
            Some((i64::from(y), m, d, h, mi))
        }
        _ => None,
    }
}

fn time_part(v: FieldValue<'_>, part: TimePart) -> Option<i64> {
    let (y, m, d, h, mi) = broken_down(v)?;
    Some(match part {
        TimePart::Minute => i64::from(mi),
        TimePart::Hour => i64::from(h),
        TimePart::Day => i64::from(d),
        TimePart::Week => iso_week(y, m, d),
        TimePart::Month => i64::from(m),
        TimePart::Year => y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(m: StrMatch, cased: bool) -> StrPattern {
        StrPattern { m, cased }
    }

    #[test]
    fn case_rules() {
        let p = pat(StrMatch::Contains("add member".into()), false);
        assert!(p.matches("Add Member to role."));
        assert!(!pat(StrMatch::Contains("add member".into()), true).matches("Add Member"));
        let p = pat(
            StrMatch::Exact("update application – certificates".into()),
            false,
        );
        assert!(p.matches("Update application – Certificates"));
        assert!(pat(StrMatch::Suffix("é".into()), false).matches("CAFÉ"));
    }

    #[test]
    fn cidr() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(parse_ip("10.1.2.3").unwrap()));
        assert!(!n.contains(parse_ip("11.1.2.3").unwrap()));
        assert!(n.contains(parse_ip("10.1.2.3:443").unwrap()));
        let n6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(n6.contains(parse_ip("[2001:db8::1]:443").unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn time_parts() {
        let v = FieldValue::Str("2021-01-03T05:06:07Z");
        assert_eq!(time_part(v, TimePart::Hour), Some(5));
        assert_eq!(time_part(v, TimePart::Week), Some(53));
        assert_eq!(time_part(FieldValue::Int(0), TimePart::Year), Some(1970));
        assert_eq!(
            time_part(FieldValue::Int(1_609_459_200_000), TimePart::Month),
            Some(1)
        );
    }
}
