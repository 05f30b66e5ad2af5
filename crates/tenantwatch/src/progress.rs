//! The progress bar of the commands that read logs: whether one is shown (a terminal on standard
//! error, no `--quiet`, no `TERM=dumb`, no `CI`; `--progress` decides otherwise), the rate and the
//! time left from the reader's counters ([`tw_ingest::ReadProgress`]), and the one line drawn on
//! standard error five times a second and erased when the read ends. Standard output is never
//! touched.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use tw_ingest::{IngestOptions, ReadProgress, Snapshot};

/// The reads of `blast` (its evidence pass decodes only a few records, without a bar).
pub const BLAST: &[&str] = &["blast facts"];
/// The reads of `investigate`: the hunt and the blast radius's facts in one read.
pub const INVESTIGATE: &[&str] = &["hunt and blast facts"];

/// When to show the progress bar.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// On a terminal, unless `--quiet`, `TERM=dumb` or `CI` is set.
    #[default]
    Auto,
    /// Always, also to a file or a pipe (standard error).
    Always,
    /// Never.
    Never,
}

/// True when a bar is to be drawn. `term` and `ci` are the values of `TERM` and `CI`.
pub fn wanted(
    mode: ProgressMode,
    quiet: bool,
    terminal: bool,
    term: Option<&str>,
    ci: Option<&str>,
) -> bool {
    match mode {
        ProgressMode::Always => true,
        ProgressMode::Never => false,
        ProgressMode::Auto => {
            let ci = ci.is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
            !quiet && terminal && term != Some("dumb") && !ci
        }
    }
}

/// Widest line drawn (terminals are at least 80 columns; the last one is left free so that no
/// terminal wraps).
const WIDTH: usize = 79;

/// Rate and time left over the last few seconds of a read.
#[derive(Debug, Default)]
pub struct Meter {
    /// (seconds since start, bytes) of the current read, oldest first.
    samples: VecDeque<(f64, u64)>,
    read: (u64, bool),
}

/// Seconds of samples the rate is taken over.
const WINDOW: f64 = 5.0;

impl Meter {
    /// Takes a sample at `t` seconds; returns the byte rate (per second) and the seconds left, when
    /// known. A new read (another pass, a second look) starts afresh.
    pub fn observe(&mut self, t: f64, s: &Snapshot) -> (Option<f64>, Option<f64>) {
        let read = (s.passes, s.partial);
        let went_back = self.samples.back().is_some_and(|&(_, b)| s.bytes < b);
        if read != self.read || went_back {
            self.samples.clear();
            self.read = read;
        }
        self.samples.push_back((t, s.bytes));
        while self.samples.len() > 2 && self.samples.get(1).is_some_and(|x| t - x.0 >= WINDOW) {
            self.samples.pop_front();
        }
        let (Some(&(t0, b0)), Some(&(t1, b1))) = (self.samples.front(), self.samples.back()) else {
            return (None, None);
        };
        if t1 - t0 < 0.5 {
            return (None, None);
        }
        let rate = (b1 - b0) as f64 / (t1 - t0);
        let eta = (rate > 0.0 && s.total_bytes > 0)
            .then(|| s.total_bytes.saturating_sub(s.bytes) as f64 / rate);
        (Some(rate), eta)
    }
}

/// `1.5 GiB`, `640 KiB`, `12 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ if v < 99.95 => format!("{v:.1} {}", UNITS[unit]),
        _ => format!("{v:.0} {}", UNITS[unit]),
    }
}

/// `950`, `12.3k`, `4.1M`.
pub fn count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..999_950 => format!("{:.1}k", n as f64 / 1e3),
        999_950..999_950_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}G", n as f64 / 1e9),
    }
}

/// `0:07`, `12:40`, `1:02:03`.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The name of the current read: `hunt`, `pass 2/3: blast evidence`, `hunt: second look at 3
/// files`.
pub fn label(labels: &[&str], s: &Snapshot) -> String {
    let i = s.passes.max(1) as usize;
    let name = labels
        .get(i - 1)
        .or(labels.last())
        .copied()
        .unwrap_or("reading");
    let mut out = if labels.len() > 1 {
        format!("pass {i}/{}: {name}", labels.len().max(i))
    } else {
        name.to_string()
    };
    if s.partial {
        out += &format!(": second look at {} files", s.total_files);
    } else if s.passes == 0 {
        out += ": listing inputs";
    }
    out
}

/// Room kept for the figures after the bar (`1.2/3.4 GiB 2.1M rec 85.0 MiB/s 0:27 left`).
const TAIL: usize = 40;

/// `1.2/3.4 GiB`, `640 KiB/1.0 GiB`: `done` of `total` bytes.
pub fn of(done: u64, total: u64) -> String {
    let (d, t) = (bytes(done), bytes(total));
    match (d.split_once(' '), t.split_once(' ')) {
        (Some((n, u)), Some((_, tu))) if u == tu => format!("{n}/{t}"),
        _ => format!("{d}/{t}"),
    }
}

/// The line drawn: label, bar, per cent, bytes, records, rate, time left; at most [`WIDTH`]
/// characters, the bar taking what is left (none under 5).
pub fn line(labels: &[&str], s: &Snapshot, rate: Option<f64>, eta: Option<f64>) -> String {
    let mut tail = match s.total_bytes {
        0 => bytes(s.bytes),
        t => of(s.bytes, t),
    };
    tail += &format!(" {} rec", count(s.records));
    if let Some(r) = rate {
        tail += &format!(" {}/s", bytes(r as u64));
    }
    if let Some(e) = eta {
        tail += &format!(" {} left", duration(e));
    }
    let head = label(labels, s);
    let frac = match s.total_bytes {
        0 => 0.0,
        t => (s.bytes as f64 / t as f64).min(1.0),
    };
    let pct = format!("{:>3.0}%", frac * 100.0);
    // The bar keeps its width while the figures change, unless they outgrow their usual room.
    let fixed = head.chars().count() + pct.len() + 5;
    let room = (WIDTH.saturating_sub(fixed + TAIL.max(tail.chars().count()))).min(30);
    let mut out = if room >= 5 {
        let full = (frac * room as f64).floor() as usize;
        let bar = "#".repeat(full) + &"-".repeat(room - full);
        format!("{head} [{bar}] {pct} {tail}")
    } else {
        format!("{head} {pct} {tail}")
    };
    if out.chars().count() > WIDTH {
        out = out.chars().take(WIDTH).collect();
    }
    out
}

/// A bar drawn on standard error while it lives; erased when dropped.
pub struct Bar {
    counters: Option<Arc<ReadProgress>>,
    stop: Option<mpsc::Sender<()>>,
    drawer: Option<JoinHandle<()>>,
}

impl Bar {
    /// Starts a bar for reads named `labels` (one per complete read of the inputs) when one is
    /// wanted; otherwise a bar that does nothing.
    pub fn start(mode: ProgressMode, quiet: bool, labels: &'static [&'static str]) -> Bar {
        let term = std::env::var("TERM").ok();
        let ci = std::env::var("CI").ok();
        let terminal = std::io::stderr().is_terminal();
        if !wanted(mode, quiet, terminal, term.as_deref(), ci.as_deref()) {
            return Bar {
                counters: None,
                stop: None,
                drawer: None,
            };
        }
        let counters = ReadProgress::new();
        let (stop, stopped) = mpsc::channel();
        let shared = counters.clone();
        let drawer = std::thread::spawn(move || draw(&shared, labels, &stopped));
        Bar {
            counters: Some(counters),
            stop: Some(stop),
            drawer: Some(drawer),
        }
    }

    /// The read options with this bar's counters (unchanged when no bar is drawn).
    pub fn attach(&self, opts: IngestOptions) -> IngestOptions {
        IngestOptions {
            progress: self.counters.clone().or(opts.progress.clone()),
            ..opts
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(d) = self.drawer.take() {
            let _ = d.join();
        }
    }
}

/// Redraws the line every 200 ms until told to stop, then erases it.
fn draw(counters: &ReadProgress, labels: &[&str], stopped: &mpsc::Receiver<()>) {
    let started = Instant::now();
    let mut meter = Meter::default();
    let mut last = String::new();
    let mut err = std::io::stderr();
    loop {
        let s = counters.snapshot();
        let (rate, eta) = meter.observe(started.elapsed().as_secs_f64(), &s);
        let now = line(labels, &s, rate, eta);
        if now != last {
            let _ = write!(err, "\r{now}\x1b[K");
            let _ = err.flush();
            last = now;
        }
        match stopped.recv_timeout(Duration::from_millis(200)) {
            Err(RecvTimeoutError::Timeout) => continue,
            _ => break,
        }
    }
    if !last.is_empty() {
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(passes: u64, bytes: u64, total: u64) -> Snapshot {
        Snapshot {
            passes,
            total_bytes: total,
            total_files: 4,
            bytes,
            records: bytes / 1000,
            ..Default::default()
        }
    }

    #[test]
    fn shown_on_a_terminal_only_unless_asked() {
        use ProgressMode::*;
        assert!(wanted(Auto, false, true, Some("xterm-256color"), None));
        assert!(!wanted(Auto, false, false, Some("xterm"), None), "a pipe");
        assert!(!wanted(Auto, true, true, Some("xterm"), None), "--quiet");
        assert!(!wanted(Auto, false, true, Some("dumb"), None), "TERM=dumb");
        assert!(
            !wanted(Auto, false, true, Some("xterm"), Some("true")),
            "CI"
        );
        assert!(wanted(Auto, false, true, Some("xterm"), Some("false")));
        assert!(wanted(Auto, false, true, None, Some("")));
        assert!(wanted(Always, true, false, Some("dumb"), Some("1")));
        assert!(!wanted(Never, false, true, Some("xterm"), None));
    }

    #[test]
    fn rate_and_time_left_follow_the_last_seconds() {
        let mut m = Meter::default();
        let total = 1_000 << 20;
        assert_eq!(m.observe(0.0, &snap(1, 0, total)), (None, None));
        assert_eq!(m.observe(0.2, &snap(1, 1 << 20, total)), (None, None));
        // 100 MiB in 2 s: 50 MiB/s, 900 MiB left: 18 s.
        let (rate, eta) = m.observe(2.0, &snap(1, 100 << 20, total));
        assert_eq!(rate, Some(50.0 * (1 << 20) as f64));
        assert_eq!(eta, Some(18.0));
        // The read slows down: after the window only the last seconds count.
        m.observe(10.0, &snap(1, 500 << 20, total));
        let (rate, eta) = m.observe(15.0, &snap(1, 550 << 20, total));
        assert_eq!(rate, Some(10.0 * (1 << 20) as f64));
        assert_eq!(eta, Some(45.0));
        // The next pass starts afresh.
        assert_eq!(m.observe(16.0, &snap(2, 0, total)), (None, None));
        let (rate, _) = m.observe(17.0, &snap(2, 30 << 20, total));
        assert_eq!(rate, Some(30.0 * (1 << 20) as f64));
        // Unknown total: a rate, no time left.
        let mut m = Meter::default();
        m.observe(0.0, &snap(1, 0, 0));
        assert_eq!(
            m.observe(1.0, &snap(1, 1 << 20, 0)),
            (Some((1 << 20) as f64), None)
        );
    }

    #[test]
    fn units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(150 << 20), "150 MiB");
        assert_eq!(bytes((34 << 30) / 10), "3.4 GiB");
        assert_eq!(count(999), "999");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(999_999), "1.0M");
        assert_eq!(count(4_100_000), "4.1M");
        assert_eq!(duration(7.4), "0:07");
        assert_eq!(duration(760.0), "12:40");
        assert_eq!(duration(3723.0), "1:02:03");
    }

    #[test]
    fn labels_name_the_pass() {
        let three = ["hunt", "blast facts", "blast evidence"];
        assert_eq!(label(&["hunt"], &snap(1, 0, 0)), "hunt");
        assert_eq!(label(&three, &snap(3, 0, 0)), "pass 3/3: blast evidence");
        assert_eq!(
            label(&three, &snap(0, 0, 0)),
            "pass 1/3: hunt: listing inputs"
        );
        let again = Snapshot {
            partial: true,
            total_files: 3,
            ..snap(1, 0, 0)
        };
        assert_eq!(label(&["hunt"], &again), "hunt: second look at 3 files");
        // More reads than announced: the last name, counted on.
        assert_eq!(label(&three[..2], &snap(3, 0, 0)), "pass 3/3: blast facts");
    }

    #[test]
    fn the_line_fits_the_terminal() {
        let three = ["hunt", "blast facts", "blast evidence"];
        let s = Snapshot {
            records: 2_100_000,
            ..snap(3, (12 << 30) / 10, (34 << 30) / 10)
        };
        let l = line(&three, &s, Some(85.0 * (1 << 20) as f64), Some(27.0));
        // 74 characters without the bar: 5 left for it, 35 % of them drawn.
        assert_eq!(
            l,
            "pass 3/3: blast evidence [#----]  35% 1.2/3.4 GiB 2.1M rec 85.0 MiB/s 0:27 left"
        );
        assert_eq!(l.chars().count(), WIDTH);
        let half = line(&["ingest"], &snap(1, 512 << 20, 1 << 30), None, None);
        let bar = format!("{}{}", "#".repeat(12), "-".repeat(12));
        assert_eq!(
            half,
            format!("ingest [{bar}]  50% 512 MiB/1.0 GiB 536.9k rec")
        );
        let unknown = line(&["ingest"], &snap(1, 1 << 20, 0), None, None);
        let empty = "-".repeat(24);
        assert_eq!(unknown, format!("ingest [{empty}]   0% 1.0 MiB 1.0k rec"));
        // The bar keeps its width while the figures grow within their room.
        let later = line(&["ingest"], &snap(1, 900 << 20, 1 << 30), Some(3e7), None);
        assert_eq!(later.find(']'), half.find(']'));
        let long = line(&["x".repeat(100).as_str()], &s, None, None);
        assert_eq!(long.chars().count(), WIDTH);
        assert!(long.starts_with("xxxx") && !long.contains('['));
        assert_eq!(of(300 << 20, 1 << 30), "300 MiB/1.0 GiB");
        assert_eq!(of(5, 1 << 10), "5 B/1.0 KiB");
    }
}
