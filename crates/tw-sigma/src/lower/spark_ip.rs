//! Spark SQL for `cidr`: the address in a value, read as the native parser reads one, and the
//! test of it against a network.
//!
//! The native parser trims the text (Unicode white space), then takes a plain IPv4 or IPv6
//! address, `[address]` (either family; anything after the `]` ignored) or `v4:port` (digits,
//! possibly none). IPv6 is Rust's grammar: eight groups of one to four hex digits, or fewer
//! around one `::` (which stands for at least one zero group), the last two groups possibly
//! written as a dotted IPv4 address; no zone ids (`%eth0`), no leading zeros in IPv4 octets.
//! An IPv4 network also holds IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`); an IPv6 network
//! holds no IPv4 address.
//!
//! In SQL the address becomes a tagged fixed-width hex string: `4` and 8 lowercase hex digits,
//! or `6` and 32; NULL when the text holds no address. A network is then a range of strings.

use super::spark_field::Names;
use super::sql_lit;

const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const HEX: &str = "[0-9A-Fa-f]{1,4}";

fn v4() -> String {
    format!("{OCTET}(?:\\.{OCTET}){{3}}")
}

/// True when the address in value `x` is in the IPv4 range `lo..=hi` (IPv4-mapped IPv6
/// addresses included).
pub(crate) fn in_v4(x: &str, lo: u32, hi: u32, names: &mut Names) -> String {
    let key = address_key(x, names);
    let k = names.next("k");
    format!(
        "coalesce(transform(array({key}), {k} -> CASE WHEN {k} LIKE '4%' THEN substr({k}, 2) \
         WHEN {k} LIKE '6{mapped}%' THEN substr({k}, 26) END BETWEEN '{lo:08x}' AND '{hi:08x}')[0], false)",
        mapped = "00000000000000000000ffff",
    )
}

/// True when the address in value `x` is an IPv6 address in the range `lo..=hi`.
pub(crate) fn in_v6(x: &str, lo: u128, hi: u128, names: &mut Names) -> String {
    let key = address_key(x, names);
    format!("coalesce({key} BETWEEN '6{lo:032x}' AND '6{hi:032x}', false)")
}

/// The tagged hex form of the address in value `x`, NULL when there is none.
fn address_key(x: &str, names: &mut Names) -> String {
    let (c, h) = (names.next("ip"), names.next("ip"));
    let plain_v4 = sql_lit(&format!("^{}\\z", v4()));
    let v6 = format!(
        "CASE WHEN {valid} THEN concat('6', {hex}) END",
        valid = v6_valid(&h),
        hex = v6_hex(&h, names)
    );
    format!(
        "transform(array({cand}), {c} -> CASE WHEN {c} RLIKE {plain_v4} THEN concat('4', {hex4}) \
         ELSE transform(array({tail}), {h} -> {v6})[0] END)[0]",
        cand = candidate(x),
        hex4 = v4_hex(&c, names),
        tail = v4_tail_as_groups(&c, names),
    )
}

/// The text that must be one address: the bracketed part, the part before a port, or the
/// trimmed value.
fn candidate(x: &str) -> String {
    let bracket = sql_lit(r"(?U)^\s*\[");
    let bracketed = sql_lit(r"(?U)^\s*\[([^\]]*)\]");
    let with_port = format!("(?U)^\\s*({}):[0-9]*\\s*\\z", v4());
    format!(
        "CASE WHEN {x} RLIKE {bracket} THEN regexp_extract({x}, {bracketed}, 1) \
         WHEN {x} RLIKE {port} THEN regexp_extract({x}, {port}, 1) \
         ELSE regexp_replace({x}, {trim}, '') END",
        port = sql_lit(&with_port),
        trim = sql_lit(r"(?U)^\s+|\s+\z"),
    )
}

/// The 8 lowercase hex digits of the dotted IPv4 address `t` (already validated).
fn v4_hex(t: &str, names: &mut Names) -> String {
    let o = names.next("o");
    format!(
        "lower(concat_ws('', transform(split({t}, '[.]'), {o} -> lpad(hex(CAST({o} AS INT)), 2, '0'))))"
    )
}

/// IPv6 text `c` with a trailing dotted IPv4 part rewritten as two hex groups.
fn v4_tail_as_groups(c: &str, names: &mut Names) -> String {
    let tail = sql_lit(&format!("(?s)^(.*:)({})\\z", v4()));
    let hex = v4_hex(&format!("regexp_extract({c}, {tail}, 2)"), names);
    let g = names.next("g");
    format!(
        "CASE WHEN {c} RLIKE {tail} THEN transform(array({hex}), {g} -> \
         concat(regexp_extract({c}, {tail}, 1), substr({g}, 1, 4), ':', substr({g}, 5, 4)))[0] \
         ELSE {c} END"
    )
}

/// `h` (hex groups only) is an IPv6 address: eight groups, or at most seven around one `::`.
fn v6_valid(h: &str) -> String {
    let shape = format!(
        "^(?:{HEX}(?::{HEX}){{7}}|(?:{HEX}(?::{HEX}){{0,6}})?::(?:{HEX}(?::{HEX}){{0,6}})?)\\z"
    );
    format!(
        "({h} RLIKE {} AND ({h} NOT LIKE '%::%' OR {} <= 7))",
        sql_lit(&shape),
        group_count(h)
    )
}

fn group_count(h: &str) -> String {
    format!("size(regexp_extract_all({h}, '[0-9A-Fa-f]+', 0))")
}

/// The 32 lowercase hex digits of the valid IPv6 text `h`: `::` expanded to its zero groups,
/// each group padded to four digits.
fn v6_hex(h: &str, names: &mut Names) -> String {
    let g = names.next("g");
    let expanded = format!(
        "regexp_replace(replace({h}, '::', concat(':', repeat('0:', 8 - {count}))), {edges}, '')",
        count = group_count(h),
        edges = sql_lit(r"^:|:\z"),
    );
    format!("lower(concat_ws('', transform(split({expanded}, ':'), {g} -> lpad({g}, 4, '0'))))")
}
