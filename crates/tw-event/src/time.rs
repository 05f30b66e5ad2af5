//! Timestamps: parsing every shape the exports use into UTC milliseconds, and formatting back.
//!
//! Shapes read: ISO 8601 with or without zone (`2020-12-14T03:12:44.123Z`, `2021-08-02T13:11:39.7724491Z`,
//! `2020-12-14T03:12:44`, `2020-12-14 03:12:44+02:00`), Microsoft JSON dates (`/Date(1607915564123)/`),
//! and US-locale exports (`4/28/2021, 3:05:26.000 PM`, `4/28/2021 3:05:26 PM`). A timestamp without a
//! zone is UTC (the Management Activity API's `CreationTime` is UTC without a zone).

use std::fmt;

/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// A timestamp from epoch milliseconds, if within years 1 to 9999.
    pub fn from_millis(ms: i64) -> Option<Timestamp> {
        (MIN_MS..=MAX_MS).contains(&ms).then_some(Timestamp(ms))
    }

    /// Parses any supported shape; `None` when the text is not a timestamp we understand.
    pub fn parse(text: &str) -> Option<Timestamp> {
        parse_timestamp(text)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds: `2020-12-14T03:12:44.123Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// A tiny cursor over ASCII digits and separators.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            v = v * 10 + i64::from(self.b[self.i] - b'0');
            self.i += 1;
        }
        let n = self.i - start;
        if n < min { None } else { Some((v, n)) }
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.i < self.b.len() && self.b[self.i] == c {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn rest_is_empty(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn valid(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> bool {
    (1..=12).contains(&mo)
        && d >= 1
        && d <= i64::from(days_in_month(y, mo as u32))
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..=60).contains(&s)
}

fn assemble(
    (y, mo, d): (i64, i64, i64),
    (h, mi, s, ms): (i64, i64, i64, i64),
    offset_min: i64,
) -> i64 {
    let days = days_from_civil(y, mo as u32, d as u32);
    ((days * 86_400 + h * 3600 + mi * 60 + s.min(59)) - offset_min * 60) * 1000 + ms
}

/// Fractional seconds of any length to milliseconds (truncated).
fn fraction(c: &mut Cur<'_>) -> Option<i64> {
    let (v, n) = c.digits(1, 12)?;
    // skip any further digits
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.i += 1;
    }
    let ms = if n >= 3 {
        v / 10_i64.pow((n - 3) as u32)
    } else {
        v * 10_i64.pow((3 - n) as u32)
    };
    Some(ms)
}

fn parse_iso(t: &str) -> Option<i64> {
    let mut c = Cur {
        b: t.as_bytes(),
        i: 0,
    };
    let (y, _) = c.digits(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let (mo, _) = c.digits(1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let (d, _) = c.digits(1, 2)?;
    let (mut h, mut mi, mut s, mut ms) = (0, 0, 0, 0);
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        h = c.digits(1, 2)?.0;
        if !c.eat(b':') {
            return None;
        }
        mi = c.digits(2, 2)?.0;
        if c.eat(b':') {
            s = c.digits(2, 2)?.0;
            if c.eat(b'.') || c.eat(b',') {
                ms = fraction(&mut c)?;
            }
        }
    }
    let mut off = 0;
    match c.peek() {
        None => {}
        Some(b'Z') | Some(b'z') => {
            c.i += 1;
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let (oh, _) = c.digits(2, 2)?;
            c.eat(b':');
            let om = c.digits(2, 2).map(|x| x.0).unwrap_or(0);
            off = (oh * 60 + om) * if sign == b'-' { -1 } else { 1 };
        }
        Some(b' ') => {
            // "2021-04-28 15:05:26 UTC" or trailing " [UTC]"
            let rest = t[c.i..].trim();
            if !(rest.eq_ignore_ascii_case("UTC")
                || rest.eq_ignore_ascii_case("[UTC]")
                || rest.is_empty())
            {
                return None;
            }
            c.i = c.b.len();
        }
        _ => return None,
    }
    if !c.rest_is_empty() || !valid(y, mo, d, h, mi, s) {
        return None;
    }
    Some(assemble((y, mo, d), (h, mi, s, ms), off))
}

/// `4/28/2021, 3:05:26.000 PM`, `4/28/2021 3:05:26 PM`, `4/28/2021 15:05`.
fn parse_us(t: &str) -> Option<i64> {
    let mut c = Cur {
        b: t.as_bytes(),
        i: 0,
    };
    let (mo, _) = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let (d, _) = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let (y, _) = c.digits(4, 4)?;
    let (mut h, mut mi, mut s, mut ms) = (0, 0, 0, 0);
    c.eat(b',');
    if c.eat(b' ') {
        while c.eat(b' ') {}
        h = c.digits(1, 2)?.0;
        if !c.eat(b':') {
            return None;
        }
        mi = c.digits(2, 2)?.0;
        if c.eat(b':') {
            s = c.digits(2, 2)?.0;
            if c.eat(b'.') {
                ms = fraction(&mut c)?;
            }
        }
        while c.eat(b' ') {}
        let rest = &t[c.i..];
        let pm = rest.eq_ignore_ascii_case("PM");
        let am = rest.eq_ignore_ascii_case("AM");
        if pm || am {
            if !(1..=12).contains(&h) {
                return None;
            }
            h %= 12;
            if pm {
                h += 12;
            }
        } else if !(rest.is_empty() || rest.eq_ignore_ascii_case("UTC")) {
            return None;
        }
    } else if !c.rest_is_empty() {
        return None;
    }
    if !valid(y, mo, d, h, mi, s) {
        return None;
    }
    Some(assemble((y, mo, d), (h, mi, s, ms), 0))
}

/// `/Date(1607915564123)/` or `/Date(1607915564123+0000)/`.
fn parse_ms_json(t: &str) -> Option<i64> {
    let inner = t.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let end = inner
        .char_indices()
        .skip(1)
        .find(|(_, ch)| *ch == '+' || *ch == '-')
        .map(|(i, _)| i)
        .unwrap_or(inner.len());
    inner[..end].parse::<i64>().ok()
}

/// Parses a timestamp in any supported shape.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    let ms = if t.starts_with("/Date(") {
        parse_ms_json(t)
    } else if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        parse_iso(t)
    } else {
        parse_us(t)
    }?;
    // Years 1 to 9999 only: anything else is no log timestamp (and would not print as RFC 3339).
    (MIN_MS..=MAX_MS).contains(&ms).then_some(Timestamp(ms))
}

/// 0001-01-01T00:00:00.000Z.
const MIN_MS: i64 = -62_135_596_800_000;
/// 9999-12-31T23:59:59.999Z.
const MAX_MS: i64 = 253_402_300_799_999;

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(t: &str) -> String {
        parse_timestamp(t)
            .map(|x| x.to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn shapes() {
        assert_eq!(iso("2020-12-14T03:12:44.123Z"), "2020-12-14T03:12:44.123Z");
        assert_eq!(
            iso("2021-08-02T13:11:39.7724491Z"),
            "2021-08-02T13:11:39.772Z"
        );
        assert_eq!(iso("2020-12-14T03:12:44"), "2020-12-14T03:12:44.000Z");
        assert_eq!(iso("2020-12-14T05:12:44+02:00"), "2020-12-14T03:12:44.000Z");
        assert_eq!(iso("2020-12-14 03:12:44"), "2020-12-14T03:12:44.000Z");
        assert_eq!(iso("4/28/2021, 3:05:26.000 PM"), "2021-04-28T15:05:26.000Z");
        assert_eq!(iso("4/28/2021 12:05:26 AM"), "2021-04-28T00:05:26.000Z");
        assert_eq!(iso("4/28/2021 12:05:26 PM"), "2021-04-28T12:05:26.000Z");
        assert_eq!(iso("/Date(1607915564123)/"), "2020-12-14T03:12:44.123Z");
        assert_eq!(iso("1969-12-31T23:59:59.999Z"), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "now",
            "2021-02-30T00:00:00Z",
            "2021-13-01",
            "13/01/2021",
            "4/28/2021, 13:05:26 PM",
            "2021-01-01T00:00:00Zjunk",
            "/Date(abc)/",
            "2021-01-01T25:00:00Z",
            "/Date(00015300000000002020-1000000000020036)/",
            "/Date(-99999999999999999)/",
            // Saved fuzz crasher (fuzz/regressions/timestamp): past year 9999.
            "/Date(00015300000000003662)/",
            "/Date(253402300800000)/",
        ] {
            assert_eq!(iso(bad), "none", "{bad}");
        }
        // The last millisecond of year 9999 is still a time.
        assert_eq!(iso("/Date(253402300799999)/"), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn civil_roundtrip() {
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
