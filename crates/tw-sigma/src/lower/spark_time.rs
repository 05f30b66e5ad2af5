//! Spark SQL for the time-part modifiers (`minute`, `hour`, `day`, `week`, `month`, `year`):
//! the part taken from a value as the native engine takes it.
//!
//! A number is seconds since 1970-01-01 UTC (milliseconds when its magnitude is at least 1e11),
//! truncated toward zero and split into days and seconds of the day with floor semantics. A
//! text, trimmed, must start `YYYY-MM-DD` (month 1–12, day 1–31, not checked against the
//! month); when it is at least 16 bytes long and the 11th character is `T`, `t` or a space, the
//! hour and minute are the two-digit fields after it (digits required, not range-checked),
//! otherwise both are 0. The text's own digits are taken: an offset (`+02:00`) is not applied.
//! The week is the ISO 8601 week of the date (an out-of-range day rolls into the next month).
//!
//! The lake holds values as text, so a text that is a decimal number is read as a number: a JSON
//! string holding only a number, which has no time part natively, gets one here.

use super::spark_field::Names;
use super::sql_lit;
use crate::value::TimePart;

/// A decimal number as the native engine parses one (see `spark::number`).
const NUMBER_RE: &str = r"^\s*[-+.eE0-9]*[0-9][-+.eE0-9]*\s*$";

/// True when the `part` of value `x` compares `op` with `n`.
pub(crate) fn time_test(x: &str, part: TimePart, op: &str, n: f64, names: &mut Names) -> String {
    let (t, s, d) = (names.next("t"), names.next("s"), names.next("d"));
    let from_text = text_part(&t, part);
    let from_number = number_part(&s, part);
    let trimmed = format!("regexp_replace({x}, {}, '')", sql_lit(r"(?U)^\s+|\s+\z"));
    let secs = format!(
        "transform(array(try_cast({x} AS DOUBLE)), {d} -> CAST(IF(abs({d}) >= 1e11, {d} / 1000, {d}) AS BIGINT))[0]"
    );
    let value = format!(
        "CASE WHEN {x} RLIKE {num} AND try_cast({x} AS DOUBLE) IS NOT NULL THEN transform(array({secs}), {s} -> {from_number})[0] \
         ELSE transform(array({trimmed}), {t} -> {from_text})[0] END",
        num = sql_lit(NUMBER_RE),
    );
    format!(
        "coalesce(CAST({value} AS DOUBLE) {op} CAST({} AS DOUBLE), false)",
        sql_lit(&format!("{n}"))
    )
}

/// The part of trimmed text `t`, NULL when the text has no date.
fn text_part(t: &str, part: TimePart) -> String {
    let date = sql_lit(r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])");
    let digit = |from: usize| format!("CAST(substr({t}, {from}, 2) AS INT)");
    let clock = format!("octet_length({t}) >= 16 AND substr({t}, 11, 1) IN ('T', 't', ' ')");
    let clock_ok = sql_lit(r"^.{10}.[0-9]{2}[\x00-\x7F][0-9]{2}");
    let (hour, minute) = (digit(12), digit(15));
    // An announced clock must be well formed; without one, hour and minute are 0.
    let clocked = |v: &str, unclocked: &str| {
        format!("CASE WHEN {clock} THEN IF({t} RLIKE {clock_ok}, {v}, NULL) ELSE {unclocked} END")
    };
    let year = format!("CAST(substr({t}, 1, 4) AS INT)");
    let week = format!(
        "weekofyear(date_add(make_date({year}, {}, 1), {} - 1))",
        digit(6),
        digit(9)
    );
    let guarded = match part {
        TimePart::Minute => clocked(&minute, "0"),
        TimePart::Hour => clocked(&hour, "0"),
        TimePart::Day => clocked(&digit(9), &digit(9)),
        TimePart::Month => clocked(&digit(6), &digit(6)),
        TimePart::Year => clocked(&year, &year),
        TimePart::Week => clocked(&week, &week),
    };
    format!("CASE WHEN {t} RLIKE {date} THEN {guarded} END")
}

/// The part of `s` seconds since the epoch.
fn number_part(s: &str, part: TimePart) -> String {
    let days = format!("(({s} - pmod({s}, 86400)) div 86400)");
    let date = format!("date_add(DATE'1970-01-01', CAST({days} AS INT))");
    match part {
        TimePart::Minute => format!("(pmod({s}, 3600) div 60)"),
        TimePart::Hour => format!("(pmod({s}, 86400) div 3600)"),
        TimePart::Day => format!("dayofmonth({date})"),
        TimePart::Week => format!("weekofyear({date})"),
        TimePart::Month => format!("month({date})"),
        TimePart::Year => format!("year({date})"),
    }
}
