//! Time ranges: parsing `--since`/`--until`, the windows a range is collected in, halving a
//! window that reached a cap, and the UTC text of instants (`2024-07-23T00:00:00Z`, with
//! milliseconds only when there are some) as Graph filters and file names use them.

use crate::Error;

/// Milliseconds since the Unix epoch.
pub type Ms = i64;

/// Smallest window a capped window is split into.
pub const MIN_WINDOW_MS: Ms = 60_000;

/// A half-open time range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// First instant.
    pub start: Ms,
    /// First instant after.
    pub end: Ms,
}

impl Window {
    /// The two halves, or `None` when the window is already as small as windows get.
    pub fn split(self) -> Option<(Window, Window)> {
        if self.end - self.start < 2 * MIN_WINDOW_MS {
            return None;
        }
        // Halves on whole seconds, so that filters and names stay short.
        let mid = self.start + ((self.end - self.start) / 2_000) * 1_000;
        Some((
            Window {
                start: self.start,
                end: mid,
            },
            Window {
                start: mid,
                end: self.end,
            },
        ))
    }

    /// `[since, until)` cut into windows of `len` ms, aligned on multiples of `len` (so that
    /// runs over overlapping ranges name the same windows alike).
    pub fn plan(since: Ms, until: Ms, len: Ms) -> Vec<Window> {
        let len = len.max(MIN_WINDOW_MS);
        let mut out = Vec::new();
        let mut s = since;
        while s < until {
            let e = ((s.div_euclid(len)) + 1) * len;
            let e = e.min(until);
            out.push(Window { start: s, end: e });
            s = e;
        }
        out
    }

    /// `START_END` in compact UTC, for file names.
    pub fn file_stem(&self) -> String {
        let c = |t: Ms| format_utc(t).replace([':', '-'], "");
        format!("{}_{}", c(self.start), c(self.end))
    }
}

/// `2024-07-23T00:00:00Z` (`.123Z` when the milliseconds are not zero).
pub fn format_utc(t: Ms) -> String {
    let (days, ms) = (t.div_euclid(86_400_000), t.rem_euclid(86_400_000));
    let (y, m, d) = tw_event::civil_from_days(days);
    let (h, mi, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if f == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:03}Z")
    }
}

/// Reads `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z`, `+HH:MM` or no zone (UTC).
pub fn parse_utc(text: &str) -> Result<Ms, Error> {
    let bad = || {
        Error::Usage(format!(
            "{text:?} is no time (expected 2024-07-23 or 2024-07-23T08:00:00Z)"
        ))
    };
    let s = text.trim();
    let num = |a: usize, b: usize| -> Result<i64, Error> {
        s.get(a..b)
            .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|x| x.parse().ok())
            .ok_or_else(bad)
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.get(4..5) != Some("-") || s.get(7..8) != Some("-") || !(1..=12).contains(&mo) {
        return Err(bad());
    }
    if !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut t = tw_event::days_from_civil(y, mo as u32, d as u32) * 86_400_000;
    let rest = s.get(10..).ok_or_else(bad)?;
    if rest.is_empty() {
        return Ok(t);
    }
    if !(rest.starts_with('T') || rest.starts_with(' ')) {
        return Err(bad());
    }
    let (h, mi) = (num(11, 13)?, num(14, 16)?);
    t += h * 3_600_000 + mi * 60_000;
    let mut i = 16;
    if s.get(16..17) == Some(":") {
        t += num(17, 19)? * 1000;
        i = 19;
        if s.get(19..20) == Some(".") {
            let digits = s[20..].bytes().take_while(u8::is_ascii_digit).count();
            let frac = num(20, 20 + digits.clamp(1, 3))?;
            t += frac * 10i64.pow(3 - digits.clamp(1, 3) as u32);
            i = 20 + digits;
        }
    }
    match s.get(i..).unwrap_or("") {
        "" | "Z" | "z" => Ok(t),
        z if (z.starts_with('+') || z.starts_with('-')) && z.len() == 6 => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let off = num(i + 1, i + 3)? * 3_600_000 + num(i + 4, i + 6)? * 60_000;
            Ok(t - sign * off)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59.123Z",
            "2000-03-01T12:00:00Z",
        ] {
            assert_eq!(format_utc(parse_utc(s).unwrap()), s);
        }
        assert_eq!(parse_utc("2024-07-23").unwrap(), 1_721_692_800_000);
        assert_eq!(
            parse_utc("2024-07-23T02:00:00+02:00").unwrap(),
            parse_utc("2024-07-23T00:00:00Z").unwrap()
        );
        for b in ["yesterday", "2024-13-01", "2024-07-23T0", "2024-07-23Tx"] {
            assert!(parse_utc(b).is_err(), "{b}");
        }
    }

    #[test]
    fn plan_aligns_and_covers() {
        let day = 86_400_000;
        let s = parse_utc("2024-07-23T06:00:00Z").unwrap();
        let w = Window::plan(s, s + 2 * day, day);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].start, s);
        assert_eq!(w[0].end % day, 0);
        assert!(w.windows(2).all(|p| p[0].end == p[1].start));
        assert_eq!(w[2].end, s + 2 * day);
        let (a, b) = w[1].split().unwrap();
        assert_eq!((a.start, a.end, b.end), (w[1].start, b.start, w[1].end));
        assert!(
            Window {
                start: 0,
                end: 100_000
            }
            .split()
            .is_none()
        );
        assert_eq!(w[1].file_stem(), "20240724T000000Z_20240725T000000Z");
    }
}
