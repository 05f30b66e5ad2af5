//! The window driver of one tenant: for each source, the windows of the range in time order;
//! a window the checkpoint names as done is counted from it, one it names as split is replaced by
//! its halves; any other is fetched into its file, split when it reaches a cap, started again
//! when its skip token expires, and recorded in the checkpoint once its file is whole. Sources run
//! on a few threads per tenant; `collection.json` sums it all.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::http::Tally;
use crate::manifest::{Collection, Range, SourceReport, WindowReport};
use crate::progress::{self, Progress, Row};
use crate::source::{Cx, Fetch, Got, Source};
use crate::store::{Checkpoint, Mark, WindowDone, WindowFile};
use crate::window::{Ms, Window, format_utc};

/// What a tenant's run needs besides its request context.
pub struct Plan<'a> {
    /// The tenant folder.
    pub dir: PathBuf,
    /// First instant.
    pub since: Ms,
    /// First instant after.
    pub until: Ms,
    /// Window length.
    pub window: Ms,
    /// Write `.gz` files.
    pub gzip: bool,
    /// Continue from the checkpoint.
    pub resume: bool,
    /// Sources collected at once in this tenant.
    pub threads: usize,
    /// Display counters.
    pub progress: &'a Progress,
}

/// Collects `sources` of the tenant of `cx` and writes `collection.json`.
pub fn run_tenant(cx: &Cx<'_>, plan: &Plan<'_>, sources: &[Box<dyn Source>]) -> Collection {
    let mut c = Collection {
        tool: concat!("tenantwatch ", env!("CARGO_PKG_VERSION")).into(),
        tenant: cx.tenant.to_string(),
        requested: Range::new(plan.since, plan.until),
        ..Default::default()
    };
    if !plan.resume && plan.dir.join(crate::store::CHECKPOINT).exists() {
        c.errors.push(format!(
            "{} holds an earlier collection: continue it with --resume",
            plan.dir.display()
        ));
        c.total();
        return c;
    }
    let ckpt = match Checkpoint::open(&plan.dir, plan.resume) {
        Ok(k) => k,
        Err(e) => {
            c.errors.push(e.to_string());
            c.total();
            return c;
        }
    };
    if let Err(e) = c.write(&plan.dir) {
        c.errors.push(e.to_string());
    }
    let rows: Vec<Arc<Row>> = sources
        .iter()
        .map(|s| plan.progress.row(cx.tenant, s.name()))
        .collect();
    let next = AtomicUsize::new(0);
    let reports = std::sync::Mutex::new(vec![None; sources.len()]);
    std::thread::scope(|s| {
        for _ in 0..plan.threads.clamp(1, sources.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(src) = sources.get(i) else { break };
                    let r = run_source(cx, plan, &ckpt, src.as_ref(), &rows[i]);
                    reports.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    c.sources = reports
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect();
    c.total();
    if let Err(e) = c.write(&plan.dir) {
        c.errors.push(e.to_string());
        c.complete = false;
    }
    c
}

fn file_of(plan: &Plan<'_>, src: &dyn Source, w: Window) -> (String, PathBuf) {
    let ext = if plan.gzip { "jsonl.gz" } else { "jsonl" };
    let (folder, prefix) = (src.folder(), src.file_prefix());
    let rel = if src.windowed() {
        format!("{folder}/{prefix}_{}.{ext}", w.file_stem())
    } else {
        format!("{folder}/{prefix}.{ext}")
    };
    let path = plan.dir.join(&rel);
    (rel, path)
}

fn run_source(
    cx: &Cx<'_>,
    plan: &Plan<'_>,
    ckpt: &Checkpoint,
    src: &dyn Source,
    row: &Row,
) -> SourceReport {
    row.set(progress::RUNNING);
    let mut rep = SourceReport {
        source: src.name().to_string(),
        requested: Range::new(plan.since, plan.until),
        ..Default::default()
    };
    let len = src.max_window().map_or(plan.window, |m| plan.window.min(m));
    let (since, until) = src.clip(plan.since, plan.until);
    rep.requested = Range::new(since, until);
    let mut stack: Vec<Window> = if src.windowed() {
        Window::plan(since, until, len)
    } else {
        vec![Window {
            start: plan.since,
            end: plan.until,
        }]
    };
    stack.reverse();
    while let Some(w) = stack.pop() {
        let mark = ckpt.get(src.name(), w).cloned();
        let outcome = match mark {
            Some(Mark::Done(d)) => Outcome::Resumed(d),
            Some(Mark::Split) => Outcome::Split(Tally::default()),
            None => run_window(cx, plan, ckpt, src, w, row),
        };
        match outcome {
            Outcome::Split(spent) => match w.split() {
                Some((a, b)) => {
                    rep.splits += 1;
                    rep.retries += spent.retries;
                    rep.throttled_seconds += secs(spent.throttled);
                    stack.push(b);
                    stack.push(a);
                }
                None => rep.add(failed(w, "split below the smallest window".into())),
            },
            Outcome::Resumed(d) => {
                if src.wants_history() {
                    replay(&plan.dir.join(&d.file), src);
                }
                row.records.fetch_add(d.records, Ordering::Relaxed);
                rep.add(report(w, d, true, None));
            }
            Outcome::Report(r) => rep.add(r),
        }
    }
    rep.complete = rep.windows.iter().all(|w| w.complete) && rep.errors.is_empty();
    row.set(if rep.complete {
        progress::DONE
    } else {
        progress::INCOMPLETE
    });
    rep
}

enum Outcome {
    Resumed(WindowDone),
    /// Split; the retries and throttled time of the attempts given up.
    Split(Tally),
    Report(WindowReport),
}

fn report(w: Window, done: WindowDone, resumed: bool, error: Option<String>) -> WindowReport {
    WindowReport {
        start: format_utc(w.start),
        end: format_utc(w.end),
        complete: error.is_none(),
        resumed,
        done,
        error,
    }
}

fn failed(w: Window, why: String) -> WindowReport {
    report(w, WindowDone::default(), false, Some(why))
}

fn run_window(
    cx: &Cx<'_>,
    plan: &Plan<'_>,
    ckpt: &Checkpoint,
    src: &dyn Source,
    w: Window,
    row: &Row,
) -> Outcome {
    let (rel, path) = file_of(plan, src, w);
    let mut restarts = 0u64;
    // Retries and throttled time of attempts given up (restarted) count too.
    let mut spent = Tally::default();
    loop {
        let mut out = match WindowFile::create(path.clone(), plan.gzip) {
            Ok(f) => f,
            Err(e) => return Outcome::Report(failed(w, e.to_string())),
        };
        out.count_into(row.records.clone());
        let mut got = Got::default();
        let before = row.records.load(Ordering::Relaxed);
        let r = src.fetch(cx, w, &mut out, &mut got);
        spent.add(&got.tally);
        let throttled = got.tally.throttled;
        row.throttled_ms
            .fetch_add(throttled.as_millis() as u64, Ordering::Relaxed);
        let mut done = WindowDone {
            records: got.records,
            pages: got.pages,
            retries: spent.retries,
            throttled_seconds: secs(spent.throttled),
            duplicates: got.duplicates,
            restarts,
            file: rel.clone(),
        };
        let undo = || {
            let now = row.records.load(Ordering::Relaxed);
            row.records
                .fetch_sub(now.saturating_sub(before), Ordering::Relaxed);
        };
        match r {
            Ok(Fetch::Complete) => {
                let r = out
                    .finish()
                    .and_then(|_| ckpt.record(src.name(), w, &Mark::Done(done.clone())));
                return Outcome::Report(report(w, done, false, r.err().map(|e| e.to_string())));
            }
            Ok(Fetch::Capped(why)) => {
                out.discard();
                undo();
                if w.split().is_none() {
                    return Outcome::Report(failed(w, format!("{why} in the smallest window")));
                }
                return match ckpt.record(src.name(), w, &Mark::Split) {
                    Ok(()) => Outcome::Split(spent),
                    Err(e) => Outcome::Report(failed(w, e.to_string())),
                };
            }
            Ok(Fetch::Restart(_)) if restarts < cx.limits.max_restarts => {
                out.discard();
                undo();
                restarts += 1;
            }
            Ok(Fetch::Restart(why)) => {
                // Skip tokens keep expiring: halves take less time to page through.
                out.discard();
                undo();
                if w.split().is_some() && ckpt.record(src.name(), w, &Mark::Split).is_ok() {
                    return Outcome::Split(spent);
                }
                done.records = 0;
                return Outcome::Report(report(w, done, false, Some(why)));
            }
            Err(e) => {
                out.discard();
                undo();
                done.records = 0;
                return Outcome::Report(report(w, done, false, Some(e.to_string())));
            }
        }
    }
}

fn secs(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

/// Hands every line of a finished window file (plain or gzip) to the source.
fn replay(path: &Path, src: &dyn Source) {
    let Ok(f) = std::fs::File::open(path) else {
        return;
    };
    let r: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    };
    for line in BufReader::new(r).split(b'\n').map_while(Result::ok) {
        src.remember(&line);
    }
}
