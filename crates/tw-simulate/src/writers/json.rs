//! A minimal, allocation-free JSON builder over a byte buffer, plus the text shapes the exports
//! use for timestamps and GUIDs, and a PowerShell-style pretty printer.
//!
//! Records are built straight into the output buffer (no intermediate `serde_json::Value`), which
//! keeps generation at hundreds of megabytes per second.

use tw_event::civil_from_days;

/// Appends `s` as a JSON string literal (quotes included).
pub fn esc(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    esc_inner(b, s);
    b.push(b'"');
}

/// Appends `s` JSON-escaped, without quotes.
pub fn esc_inner(b: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let rep: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                b.extend_from_slice(&bytes[start..i]);
                b.extend_from_slice(b"\\u00");
                b.push(HEX[(c >> 4) as usize]);
                b.push(HEX[(c & 15) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        b.extend_from_slice(&bytes[start..i]);
        b.extend_from_slice(rep);
        start = i + 1;
    }
    b.extend_from_slice(&bytes[start..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends an unsigned integer in decimal.
pub fn uint(b: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Appends a signed integer in decimal.
pub fn int(b: &mut Vec<u8>, v: i64) {
    if v < 0 {
        b.push(b'-');
    }
    uint(b, v.unsigned_abs());
}

/// Appends a 128-bit value as a lower-case GUID (`8-4-4-4-12`), version-4 bits set.
pub fn guid(b: &mut Vec<u8>, x: u128) {
    let x =
        (x & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48) | (0x8000u128 << 48);
    for i in (0..32).rev() {
        b.push(HEX[((x >> (i * 4)) & 15) as usize]);
        if matches!(i, 24 | 20 | 16 | 12) {
            b.push(b'-');
        }
    }
}

/// A GUID as a `String`.
pub fn guid_string(x: u128) -> String {
    let mut b = Vec::with_capacity(36);
    guid(&mut b, x);
    String::from_utf8(b).unwrap_or_default()
}

/// Appends `n` upper-case hex digits of `x`.
pub fn hex_upper(b: &mut Vec<u8>, x: u64, n: u32) {
    for i in (0..n).rev() {
        b.push(b"0123456789ABCDEF"[((x >> (i * 4)) & 15) as usize]);
    }
}

/// The timestamp shapes the exports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// `2024-03-14T03:12:44` (Management Activity API `CreationTime`).
    Seconds,
    /// `2024-03-14T03:12:44Z` (Graph sign-ins).
    SecondsZ,
    /// `2024-03-14T03:12:44.123Z`.
    MillisZ,
    /// `2024-03-14T03:12:44.1234567Z` (Graph audits, Azure Monitor); the last four digits from `sub`.
    TicksZ,
    /// `2024-03-14T03:12:44.0000000Z` (Purview export `CreationDate`).
    TicksZeroZ,
    /// `3/14/2024, 3:12:44.123 AM` (Log Analytics CSV export).
    UsMillis,
    /// `3/14/2024 3:12:44 AM` (classic audit log search CSV).
    UsSeconds,
}

fn two(b: &mut Vec<u8>, v: i64) {
    b.push(b'0' + (v / 10 % 10) as u8);
    b.push(b'0' + (v % 10) as u8);
}

/// Appends the time `ms` (Unix milliseconds, UTC) in `style`; `sub` fills sub-millisecond digits.
pub fn time(b: &mut Vec<u8>, ms: i64, style: TimeStyle, sub: u64) {
    let millis = ms.rem_euclid(1000);
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, (sod / 60) % 60, sod % 60);
    match style {
        TimeStyle::UsMillis | TimeStyle::UsSeconds => {
            uint(b, u64::from(m));
            b.push(b'/');
            uint(b, u64::from(d));
            b.push(b'/');
            uint(b, y as u64);
            if style == TimeStyle::UsMillis {
                b.push(b',');
            }
            b.push(b' ');
            let h12 = if hh % 12 == 0 { 12 } else { hh % 12 };
            uint(b, h12 as u64);
            b.push(b':');
            two(b, mm);
            b.push(b':');
            two(b, ss);
            if style == TimeStyle::UsMillis {
                b.push(b'.');
                b.push(b'0' + (millis / 100) as u8);
                two(b, millis % 100);
            }
            b.extend_from_slice(if hh < 12 { b" AM" } else { b" PM" });
        }
        _ => {
            uint(b, y as u64);
            b.push(b'-');
            two(b, i64::from(m));
            b.push(b'-');
            two(b, i64::from(d));
            b.push(b'T');
            two(b, hh);
            b.push(b':');
            two(b, mm);
            b.push(b':');
            two(b, ss);
            match style {
                TimeStyle::Seconds => {}
                TimeStyle::SecondsZ => b.push(b'Z'),
                TimeStyle::MillisZ => {
                    b.push(b'.');
                    b.push(b'0' + (millis / 100) as u8);
                    two(b, millis % 100);
                    b.push(b'Z');
                }
                TimeStyle::TicksZ => {
                    b.push(b'.');
                    b.push(b'0' + (millis / 100) as u8);
                    two(b, millis % 100);
                    let s = sub % 10_000;
                    two(b, (s / 100) as i64);
                    two(b, (s % 100) as i64);
                    b.push(b'Z');
                }
                _ => b.extend_from_slice(b".0000000Z"),
            }
        }
    }
}

/// A time as a `String`.
pub fn time_string(ms: i64, style: TimeStyle) -> String {
    let mut b = Vec::with_capacity(32);
    time(&mut b, ms, style, 0);
    String::from_utf8(b).unwrap_or_default()
}

/// Builds one JSON object in a buffer: `Obj::new(buf).str("a", "x").int("b", 1).end()`.
pub struct Obj<'a> {
    b: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object at the end of `b`.
    pub fn new(b: &'a mut Vec<u8>) -> Obj<'a> {
        b.push(b'{');
        Obj { b, first: true }
    }

    /// Writes `"k":` (with the separating comma) and returns the buffer for the value.
    pub fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.b.push(b',');
        }
        self.first = false;
        self.b.push(b'"');
        self.b.extend_from_slice(k.as_bytes());
        self.b.extend_from_slice(b"\":");
        self.b
    }

    /// A string member.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        let b = self.key(k);
        esc(b, v);
        self
    }

    /// A string member, `null` when absent.
    pub fn opt(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    /// An integer member.
    pub fn int(&mut self, k: &str, v: i64) -> &mut Self {
        let b = self.key(k);
        int(b, v);
        self
    }

    /// A boolean member.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        let b = self.key(k);
        b.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// A `null` member.
    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k).extend_from_slice(b"null");
        self
    }

    /// A member whose value is already JSON.
    pub fn raw(&mut self, k: &str, json: &[u8]) -> &mut Self {
        self.key(k).extend_from_slice(json);
        self
    }

    /// A GUID string member.
    pub fn guid(&mut self, k: &str, x: u128) -> &mut Self {
        let b = self.key(k);
        b.push(b'"');
        guid(b, x);
        b.push(b'"');
        self
    }

    /// A timestamp string member.
    pub fn time(&mut self, k: &str, ms: i64, style: TimeStyle, sub: u64) -> &mut Self {
        let b = self.key(k);
        b.push(b'"');
        time(b, ms, style, sub);
        b.push(b'"');
        self
    }

    /// A nested object member.
    pub fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let b = self.key(k);
        let mut o = Obj::new(b);
        f(&mut o);
        o.end();
        self
    }

    /// A nested array member.
    pub fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        let b = self.key(k);
        let mut a = Arr::new(b);
        f(&mut a);
        a.end();
        self
    }

    /// Closes the object.
    pub fn end(self) {
        self.b.push(b'}');
    }
}

/// Builds one JSON array in a buffer.
pub struct Arr<'a> {
    b: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Arr<'a> {
    /// Opens an array at the end of `b`.
    pub fn new(b: &'a mut Vec<u8>) -> Arr<'a> {
        b.push(b'[');
        Arr { b, first: true }
    }

    /// Writes the separating comma and returns the buffer for the next element.
    pub fn item(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.b.push(b',');
        }
        self.first = false;
        self.b
    }

    /// A string element.
    pub fn str(&mut self, v: &str) -> &mut Self {
        let b = self.item();
        esc(b, v);
        self
    }

    /// An object element.
    pub fn obj(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let b = self.item();
        let mut o = Obj::new(b);
        f(&mut o);
        o.end();
        self
    }

    /// Closes the array.
    pub fn end(self) {
        self.b.push(b']');
    }
}

/// Re-indents compact JSON the way Windows PowerShell's `ConvertTo-Json` lays it out: four spaces
/// per level, `"key":  value`, CRLF line ends; `level` is the indentation of the first line.
pub fn pretty_powershell(compact: &[u8], level: usize, out: &mut Vec<u8>) {
    let mut depth = level;
    let mut in_str = false;
    let mut esc_next = false;
    let nl = |out: &mut Vec<u8>, depth: usize| {
        out.extend_from_slice(b"\r\n");
        for _ in 0..depth {
            out.extend_from_slice(b"    ");
        }
    };
    let mut i = 0;
    while i < compact.len() {
        let c = compact[i];
        if in_str {
            out.push(c);
            if esc_next {
                esc_next = false;
            } else if c == b'\\' {
                esc_next = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                out.push(c);
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                if compact.get(i + 1) == Some(&close) {
                    out.push(c);
                    out.push(close);
                    i += 2;
                    continue;
                }
                out.push(c);
                depth += 1;
                nl(out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                nl(out, depth);
                out.push(c);
            }
            b',' => {
                out.push(c);
                nl(out, depth);
            }
            b':' => out.extend_from_slice(b":  "),
            _ => out.push(c),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_output_parses() {
        let mut b = Vec::new();
        let mut o = Obj::new(&mut b);
        o.str("a", "x\"y\n\u{1}–")
            .int("n", -5)
            .bool("t", true)
            .null("z");
        o.arr("l", |a| {
            a.str("p").obj(|o| {
                o.guid("g", 7);
            });
        });
        o.time("time", 1_607_915_564_123, TimeStyle::TicksZ, 4567);
        o.end();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["a"], "x\"y\n\u{1}–");
        assert_eq!(v["time"], "2020-12-14T03:12:44.1234567Z");
        let g = v["l"][1]["g"].as_str().unwrap();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
    }

    #[test]
    fn time_shapes_parse_back() {
        let ms = 1_607_915_564_123;
        for style in [
            TimeStyle::Seconds,
            TimeStyle::SecondsZ,
            TimeStyle::MillisZ,
            TimeStyle::TicksZ,
            TimeStyle::TicksZeroZ,
            TimeStyle::UsMillis,
            TimeStyle::UsSeconds,
        ] {
            let s = time_string(ms, style);
            let t = tw_event::parse_timestamp(&s).unwrap();
            assert_eq!(t.millis() / 1000, ms / 1000, "{s}");
        }
        assert_eq!(
            time_string(ms, TimeStyle::UsMillis),
            "12/14/2020, 3:12:44.123 AM"
        );
        assert_eq!(
            time_string(ms + 12 * 3_600_000, TimeStyle::UsSeconds),
            "12/14/2020 3:12:44 PM"
        );
    }

    #[test]
    fn pretty_is_same_json() {
        let src = br#"{"a":[{"b":"x,{}:"},[]],"c":{},"d":1}"#;
        let mut out = Vec::new();
        pretty_powershell(src, 1, &mut out);
        let a: serde_json::Value = serde_json::from_slice(src).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(a, b);
        assert!(out.windows(2).any(|w| w == b"\r\n"));
    }
}
