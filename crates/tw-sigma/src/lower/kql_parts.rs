//! KQL for the tests that need a value taken apart: IPv6 networks in `cidr` and the time-part
//! modifiers (`minute`, `hour`, `day`, `week`, `month`, `year`), each read from a value's text
//! as the native engine reads it ([`crate::value`]).
//!
//! Addresses: the text is trimmed (Unicode white space, as Rust's `str::trim`); `[address]`
//! gives the part between the brackets (anything after `]` ignored). It must then be an IPv6
//! address of Rust's grammar — eight groups of one to four hex digits, or at most seven around
//! one `::`, the last two possibly a dotted IPv4 address without leading zeros; no zone id —
//! checked here, so KQL's own parser never decides. A dotted tail is rewritten as two hex groups
//! before `ipv6_is_in_range`. An IPv4 text is in no IPv6 network, as natively. An IPv4 network
//! holds a dotted IPv4 address (plain, `[v4]` or `v4:port`, no leading zeros), tested with
//! `ipv4_is_in_range`, and the IPv4-mapped IPv6 addresses of its range (`::ffff:a.b.c.d`), tested
//! as the IPv6 network `::ffff:a.b.c.d/96+len`.
//!
//! Time parts: a text that is a decimal number is seconds since 1970-01-01 UTC (milliseconds
//! from a magnitude of 1e11 on), truncated toward zero; another text, trimmed, must start
//! `YYYY-MM-DD` (month 1–12, day 1–31) and, when it is at least 16 bytes long (counted in UTF-8
//! bytes, as the engine counts) and its 11th character is `T`, `t` or a space, the hour and minute
//! are the digits after it (two digits, one ASCII character, two digits), else both are 0. The
//! text's own digits are taken (an offset is not applied); the week is ISO 8601
//! (`week_of_year`) of the date, an out-of-range day rolling into the next month. A value Log
//! Analytics holds as a `datetime` reads, through `tostring`, as its UTC ISO text.

use super::kql::{cmp, kql_lit};
use crate::value::{CmpOp, TimePart};

/// Rust's `char::is_whitespace`, as an RE2 class.
pub(super) const WS: &str = r"[\s\x0B\x{85}\p{Z}]+";
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const HEX: &str = "[0-9A-Fa-f]{1,4}";
/// The bracketed part of an address (`[v6]:port`).
pub(super) const BRACKETED: &str = r"^\[([^\]]*)\]";
/// The octets of a dotted IPv4 tail.
pub(super) const OCTETS: &str = r"(?s)([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)$";

fn verbatim(re: &str) -> String {
    format!("@\"{}\"", re.replace('"', "\"\""))
}

fn trimmed(s: &str) -> String {
    format!("trim({}, {s})", verbatim(WS))
}

/// A dotted IPv4 address of Rust's grammar (no leading zeros).
pub(super) fn v4() -> String {
    format!("{OCTET}(?:\\.{OCTET}){{3}}")
}

/// A dotted IPv4 address and a port (digits, possibly none): `v4:port`.
pub(super) fn v4_port() -> String {
    format!("^({}):[0-9]*$", v4())
}

/// True when the address in text `s` is an IPv4 address in the inclusive range `lo..=hi`, or an
/// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) of one, as natively: plain, `[v4]`, `v4:port`.
pub(crate) fn in_v4(s: &str, lo: u32, hi: u32) -> String {
    let t = trimmed(s);
    let port = verbatim(&v4_port());
    let c = format!(
        "iff({t} startswith \"[\", extract({}, 1, {t}), iff({t} matches regex {port}, extract({port}, 1, {t}), {t}))",
        verbatim(BRACKETED)
    );
    let plain = verbatim(&format!("^{}$", v4()));
    let len = 32 - (hi - lo).count_ones();
    let net = format!("{}/{len}", std::net::Ipv4Addr::from(lo));
    let mapped = |x: u32| (0xffff_u128 << 32) | u128::from(x);
    format!(
        "iff({c} matches regex {plain}, ipv4_is_in_range({c}, {}), {})",
        kql_lit(&net),
        in_v6(s, mapped(lo), mapped(hi))
    )
}

/// True when the address in text `s` is an IPv6 address in the inclusive range `lo..=hi`.
pub(crate) fn in_v6(s: &str, lo: u128, hi: u128) -> String {
    let t = trimmed(s);
    let c = format!(
        "iff({t} startswith \"[\", extract({}, 1, {t}), {t})",
        verbatim(BRACKETED)
    );
    let h = v4_tail_as_groups(&c);
    let shape = v6_shape();
    let groups = format!(
        "coalesce(array_length(extract_all({}, {h})), 0)",
        verbatim("([0-9A-Fa-f]+)")
    );
    let valid = format!(
        "({h} matches regex {} and (not({h} contains \"::\") or {groups} <= 7))",
        verbatim(&shape)
    );
    format!(
        "iff({valid}, ipv6_is_in_range({h}, {}), false)",
        kql_lit(&v6_network(lo, hi))
    )
}

/// Hex groups only: eight, or at most seven around one `::` (the count is checked apart).
pub(super) fn v6_shape() -> String {
    format!("^(?:{HEX}(?::{HEX}){{7}}|(?:{HEX}(?::{HEX}){{0,6}})?::(?:{HEX}(?::{HEX}){{0,6}})?)$")
}

/// An address ending in a dotted IPv4 part: (everything up to its last `:`, the IPv4 part).
pub(super) fn v4_tail() -> String {
    format!("(?s)^(.*:)({})$", v4())
}

/// Address text `c` with a dotted IPv4 tail rewritten as two hex groups.
fn v4_tail_as_groups(c: &str) -> String {
    let tail = verbatim(&v4_tail());
    let octets = verbatim(OCTETS);
    let o = |k: usize| format!("toint(extract({octets}, {k}, {c}))");
    format!(
        "iff({c} matches regex {tail}, strcat(extract({tail}, 1, {c}), tohex({a} * 256 + {b}), \":\", tohex({x} * 256 + {y})), {c})",
        a = o(1),
        b = o(2),
        x = o(3),
        y = o(4)
    )
}

/// `x:x:x:x:x:x:x:x/len` of an inclusive IPv6 range that is a network.
fn v6_network(lo: u128, hi: u128) -> String {
    let len = 128 - (hi - lo).count_ones();
    let groups: Vec<String> = (0..8)
        .map(|k| format!("{:x}", (lo >> (112 - 16 * k)) & 0xffff))
        .collect();
    format!("{}/{len}", groups.join(":"))
}

/// True when the `part` of text `s` compares `op` with `n` (false when it has none).
pub(crate) fn time_test(s: &str, part: TimePart, op: CmpOp, n: f64) -> String {
    let t = trimmed(s);
    let test = |v: &str| format!("todouble({v}) {} real({n})", cmp(op));
    let number = verbatim(r"^[-+.eE0-9]*[0-9][-+.eE0-9]*$");
    let is_number = format!("({t} matches regex {number} and isnotnull(todouble({t})))");
    format!(
        "iff({is_number}, {}, {})",
        number_test(&t, part, &test),
        text_test(&t, part, &test)
    )
}

/// The test of the part of the epoch number in text `t`.
fn number_test(t: &str, part: TimePart, test: &dyn Fn(&str) -> String) -> String {
    let n = format!("todouble({t})");
    let m = format!("iff(abs({n}) >= 1e11, {n} / 1000, {n})");
    let secs = format!("iff({m} < 0, 0 - floor(0 - {m}, 1), floor({m}, 1))");
    let dt = format!("unixtime_seconds_todatetime({secs})");
    // Outside KQL's datetime range (years 1-9999) the part is not computed.
    format!(
        "iff(isnull({dt}), false, {})",
        test(&of_datetime(&dt, part))
    )
}

fn of_datetime(dt: &str, part: TimePart) -> String {
    match part {
        TimePart::Minute => format!("datetime_part(\"minute\", {dt})"),
        TimePart::Hour => format!("hourofday({dt})"),
        TimePart::Day => format!("dayofmonth({dt})"),
        TimePart::Week => format!("week_of_year({dt})"),
        TimePart::Month => format!("getmonth({dt})"),
        TimePart::Year => format!("getyear({dt})"),
    }
}

/// The test of the part of trimmed text `t` (false when it does not start with a date).
fn text_test(t: &str, part: TimePart, test: &dyn Fn(&str) -> String) -> String {
    let date = verbatim(r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])");
    let digits = |from: usize, len: usize| format!("toint(substring({t}, {from}, {len}))");
    let clock_char = format!("substring({t}, 10, 1)");
    let clock = format!(
        "({} >= 16 and ({clock_char} == \"T\" or {clock_char} == \"t\" or {clock_char} == \" \"))",
        utf8_len(t)
    );
    let clock_ok = verbatim(r"^.{10}.[0-9]{2}[\x00-\x7F][0-9]{2}");
    let (year, month, day) = (digits(0, 4), digits(5, 2), digits(8, 2));
    let date_of = format!("datetime_add(\"day\", {day} - 1, make_datetime({year}, {month}, 1))");
    let unclocked = match part {
        TimePart::Minute | TimePart::Hour => test("0"),
        TimePart::Day => test(&day),
        TimePart::Month => test(&month),
        TimePart::Year => test(&year),
        TimePart::Week => format!(
            "iff(isnull({date_of}), false, {})",
            test(&format!("week_of_year({date_of})"))
        ),
    };
    let clocked = match part {
        TimePart::Minute => test(&digits(14, 2)),
        TimePart::Hour => test(&digits(11, 2)),
        _ => unclocked.clone(),
    };
    // An announced clock must be well formed, else the value has no time part at all.
    format!(
        "iff({t} matches regex {date}, iff({clock}, iff({t} matches regex {clock_ok}, {clocked}, false), {unclocked}), false)"
    )
}

/// The UTF-8 length in bytes of text `t`: its characters, plus one for each beyond U+007F, one
/// more beyond U+07FF and one more beyond U+FFFF.
fn utf8_len(t: &str) -> String {
    let count = |re: &str| format!("countof({t}, {}, \"regex\")", verbatim(re));
    format!(
        "({} + {} + {} + {})",
        count("(?s)."),
        count(r"[^\x00-\x7F]"),
        count(r"[^\x00-\x{7FF}]"),
        count(r"[^\x00-\x{FFFF}]")
    )
}
