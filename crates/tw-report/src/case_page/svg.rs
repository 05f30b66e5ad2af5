//! Small drawing helpers shared by the case page's pictures: text escaping for SVG and HTML, a
//! time axis, and the technique palette.

use std::fmt::Write as _;

use tw_event::Timestamp;

use crate::html::escape;

/// Escapes text from the logs for HTML or SVG: control characters are shown as their Unicode
/// control pictures (ESC as ␛), then markup is escaped.
pub fn esc(s: &str) -> String {
    let shown: String = s
        .chars()
        .map(|c| match c as u32 {
            0 => '\u{FFFD}',
            n @ 1..=0x1f => char::from_u32(0x2400 + n).unwrap_or('?'),
            0x7f => '\u{2421}',
            0x80..=0x9f => '?',
            _ => c,
        })
        .collect();
    escape(&shown)
}

/// `esc` of at most `max` characters, with `…` when cut.
pub fn esc_short(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        esc(&format!("{cut}…"))
    } else {
        esc(s)
    }
}

/// A linear time axis onto `[x0, x0 + width]`.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    t0: i64,
    t1: i64,
    x0: f64,
    width: f64,
}

impl Axis {
    /// An axis from `from` to `to` (a zero-length range is widened by an hour on each side).
    pub fn new(from: Timestamp, to: Timestamp, x0: f64, width: f64) -> Axis {
        let (mut t0, mut t1) = (
            from.millis().min(to.millis()),
            from.millis().max(to.millis()),
        );
        if t1 - t0 < 3_600_000 {
            t0 -= 3_600_000;
            t1 += 3_600_000;
        }
        Axis { t0, t1, x0, width }
    }

    /// The x of a time (clamped to the axis).
    pub fn x(&self, t: Timestamp) -> f64 {
        let f = (t.millis() - self.t0) as f64 / (self.t1 - self.t0) as f64;
        self.x0 + f.clamp(0.0, 1.0) * self.width
    }

    /// Index of the bin of `t` among `bins` equal bins.
    pub fn bin(&self, t: Timestamp, bins: usize) -> usize {
        let f = (t.millis() - self.t0) as f64 / (self.t1 - self.t0) as f64;
        ((f.clamp(0.0, 1.0) * bins as f64) as usize).min(bins.saturating_sub(1))
    }

    /// Day ticks (at most about 12) with `YYYY-MM-DD` labels, drawn from `y0` to `y1`.
    pub fn ticks(&self, out: &mut String, y0: f64, y1: f64) {
        const DAY: i64 = 86_400_000;
        let days = ((self.t1 - self.t0) / DAY).max(1);
        let step = (days / 12 + 1) * DAY;
        let mut t = self.t0.div_euclid(DAY) * DAY + DAY;
        while t < self.t1 {
            let x = self.x(Timestamp(t));
            let label = Timestamp(t).to_string();
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{y0:.1}\" x2=\"{x:.1}\" y2=\"{y1:.1}\" class=\"tick\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" class=\"ticklabel\">{}</text>",
                y0 - 3.0,
                esc(label.get(..10).unwrap_or(&label))
            );
            t += step;
        }
    }
}

/// Colours for techniques, in a fixed order; chosen to stay apart for colour-blind readers.
const PALETTE: [&str; 12] = [
    "#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#7f7f7f", "#ad494a",
];

/// The colour of the `i`-th technique.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The technique label of an evidence row (its first word: later words are ATT&CK tags).
pub fn technique_of(t: &str) -> &str {
    t.split_whitespace().next().unwrap_or("other_activity")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_markup_are_inert() {
        assert_eq!(esc("<script>\u{1b}[31m"), "&lt;script&gt;\u{241b}[31m");
        assert_eq!(esc_short("abcdef", 4), "abc…");
    }

    #[test]
    fn axis_clamps() {
        let a = Axis::new(Timestamp(0), Timestamp(10 * 3_600_000), 100.0, 200.0);
        assert_eq!(a.x(Timestamp(-5)), 100.0);
        assert_eq!(a.x(Timestamp(10 * 3_600_000)), 300.0);
        assert_eq!(a.bin(Timestamp(5 * 3_600_000), 10), 5);
        assert_eq!(a.bin(Timestamp(99 * 3_600_000), 10), 9);
    }
}
